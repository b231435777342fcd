"""The `Tenant` aggregate: a customer of the product, with its companies and users.

A tenant with two or more companies is a group of companies (konserni); the multi-company
settings exist only there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar, TypedDict
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from psa.errors import ConflictError, DomainError, NotFoundError

from .common import Actor, PlainStateCopy, clean_name, copy_state, name_key

ROLES = ("admin", "user")
USER_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")


class CompanyState(TypedDict):
    id: str
    name: str


class UserState(TypedDict):
    id: str
    name: str
    company_id: str
    company_ids: list[str]
    roles: list[str]


class Tenant(PlainStateCopy, Aggregate):
    """A tenant: its companies and its users."""

    def __init__(self) -> None:
        # Filled by the Created event; declared here for readers and type checkers.
        self.name: str = ""
        self.companies: dict[str, CompanyState] = {}
        self.users: dict[str, UserState] = {}

    class Event(Aggregate.Event):
        actor_id: str
        actor_name: str
        section: ClassVar[str] = "tenant"

        def subject(self, tenant: Tenant) -> Any:
            return None

    class Created(Event, Aggregate.Created):
        type_name: ClassVar[str] = "TenantCreated"
        name: str
        companies: list[CompanyState]
        users: list[UserState]

        def subject(self, tenant: Tenant) -> Any:
            return tenant.as_dict() if tenant.companies else None

        def apply(self, tenant: Tenant) -> None:
            tenant.name = self.name
            tenant.companies = {c["id"]: dict(c) for c in self.companies}  # type: ignore[misc]
            tenant.users = {u["id"]: copy_state(u) for u in self.users}

    class CompanyAdded(Event):
        company_id: str
        name: str
        granted_to: list[str]
        """Users who had access to every company keep it: they get the new one too."""

        def subject(self, tenant: Tenant) -> Any:
            company = tenant.companies.get(self.company_id)
            if company is None:
                return None
            granted = [
                uid for uid, u in tenant.users.items() if self.company_id in u["company_ids"]
            ]
            return {**company, "users_with_access": granted}

        def apply(self, tenant: Tenant) -> None:
            tenant.companies[self.company_id] = {"id": self.company_id, "name": self.name}
            for user_id in self.granted_to:
                tenant.users[user_id]["company_ids"].append(self.company_id)

    class UserAdded(Event):
        user_id: str
        name: str
        company_id: str
        company_ids: list[str]
        roles: list[str]

        def subject(self, tenant: Tenant) -> Any:
            user = tenant.users.get(self.user_id)
            return copy_state(user) if user else None

        def apply(self, tenant: Tenant) -> None:
            tenant.users[self.user_id] = {
                "id": self.user_id,
                "name": self.name,
                "company_id": self.company_id,
                "company_ids": list(self.company_ids),
                "roles": list(self.roles),
            }

    @classmethod
    def create(
        cls,
        actor: Actor,
        name: str,
        company_names: Sequence[str],
        admin_id: str = "admin",
        admin_name: str = "Admin",
        tenant_id: UUID | None = None,
    ) -> Tenant:
        """A new tenant with its companies and a first admin who has access to all of them."""
        name = clean_name(name)
        if not company_names:
            raise DomainError("a tenant needs at least one company", "companies")
        companies: list[CompanyState] = []
        seen: set[str] = set()
        for index, company_name in enumerate(company_names):
            cleaned = clean_name(company_name, f"companies[{index}]")
            if name_key(cleaned) in seen:
                raise ConflictError(
                    f"the company '{cleaned}' is listed twice", f"companies[{index}]"
                )
            seen.add(name_key(cleaned))
            companies.append({"id": str(uuid4()), "name": cleaned})
        admin: UserState = {
            "id": _clean_user_id(admin_id, "admin.id"),
            "name": clean_name(admin_name, "admin.name"),
            "company_id": companies[0]["id"],
            "company_ids": [c["id"] for c in companies],
            "roles": ["admin"],
        }
        return cls._create(
            cls.Created,
            id=tenant_id or uuid4(),
            actor_id=actor.id,
            actor_name=actor.name,
            name=name,
            companies=companies,
            users=[admin],
        )

    @property
    def company_ids(self) -> list[str]:
        return list(self.companies)

    @property
    def is_multi_company(self) -> bool:
        return len(self.companies) >= 2

    def add_company(self, actor: Actor, name: str) -> str:
        """Add a company; users who could see every company can see this one too."""
        name = clean_name(name)
        for company in self.companies.values():
            if name_key(company["name"]) == name_key(name):
                raise ConflictError(f"a company named '{company['name']}' already exists", "name")
        every = set(self.companies)
        granted = [uid for uid, user in self.users.items() if every <= set(user["company_ids"])]
        company_id = str(uuid4())
        self.trigger_event(
            self.CompanyAdded,
            actor_id=actor.id,
            actor_name=actor.name,
            company_id=company_id,
            name=name,
            granted_to=granted,
        )
        return company_id

    def add_user(
        self,
        actor: Actor,
        user_id: str,
        name: str,
        company_id: str,
        *,
        company_ids: Sequence[str] | None = None,
        roles: Sequence[str] = ("user",),
    ) -> None:
        """Add a user to a company, with access to that company and any others listed."""
        user_id = _clean_user_id(user_id, "id")
        if user_id in self.users:
            raise ConflictError(f"a user with id '{user_id}' already exists", "id")
        name = clean_name(name)
        if company_id not in self.companies:
            raise NotFoundError(f"no company with id '{company_id}' in this tenant", "company_id")
        access = [company_id]
        for index, other in enumerate(company_ids or ()):
            if other not in self.companies:
                raise NotFoundError(
                    f"no company with id '{other}' in this tenant", f"company_ids[{index}]"
                )
            if other not in access:
                access.append(other)
        checked_roles: list[str] = []
        for index, role in enumerate(roles):
            if role not in ROLES:
                raise DomainError(f"must be one of {', '.join(ROLES)}", f"roles[{index}]")
            if role not in checked_roles:
                checked_roles.append(role)
        self.trigger_event(
            self.UserAdded,
            actor_id=actor.id,
            actor_name=actor.name,
            user_id=user_id,
            name=name,
            company_id=company_id,
            company_ids=access,
            roles=checked_roles or ["user"],
        )

    def user(self, user_id: str) -> UserState:
        try:
            return self.users[user_id]
        except KeyError:
            raise NotFoundError(f"no user with id '{user_id}' in this tenant", "user") from None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "version": self.version,
            "multi_company": self.is_multi_company,
            "companies": [dict(c) for c in self.companies.values()],
            "users": [dict(u) for u in self.users.values()],
        }


def _clean_user_id(value: str, field_name: str) -> str:
    if not isinstance(value, str) or not USER_ID_RE.match(value):
        raise DomainError(
            "a user id is 1-100 letters, digits or . _ @ -, starting with a letter or digit",
            field_name,
        )
    return value
