"""The `Customer` aggregate: a customer of the tenant, with a relationship per company.

Shared by the whole tenant: name, kind, number, business id, company group, additional field
values, contact persons, address. The link to a parent unit is each company's own (`parents`):
without a shared company structure a company sees and changes only the link it made; with
one, the last link made is everyone's (`parent_id`). Per company, in that company's
relationship with the customer: customer type, customer group, account manager, team,
customer team, tags.

The rules that depend on the settings (defaults, mandatory fields, archived values, ...) are
checked by `rules.py` before a command reaches the aggregate; the aggregate keeps its own
invariants (one relationship per company, a number once given is kept).
"""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from psa.customer_rules.rules import links
from psa.domain import PlainStateCopy, copy_state
from psa.errors import ConflictError

SHARED_FIELDS = (
    "name",
    "kind",
    "business_id",
    "company_group_id",
    "parent_id",
    "fields",
    "address",
)
RELATIONSHIP_FIELDS = (
    "type_id",
    "group_id",
    "account_manager_id",
    "team",
    "customer_team",
    "tags",
)


class CustomerEvent(Aggregate.Event):
    tenant_id: str
    actor_id: str
    actor_name: str

    section: ClassVar[str] = "customer"

    def subject(self, customer: Any) -> Any:
        return None


class Customer(PlainStateCopy, Aggregate):
    """A customer of a tenant."""

    def __init__(self) -> None:
        # Filled by the Created event; declared here for readers and type checkers.
        self.tenant_id: str = ""
        self.name: str = ""
        self.kind: str = "company"
        self.number: str = ""
        self.business_id: str | None = None
        self.company_group_id: str | None = None
        self.parent_id: str | None = None
        self.fields: dict[str, Any] = {}
        self.address: dict[str, Any] | None = None
        self.relationships: dict[str, dict[str, Any]] = {}
        self.contacts: list[dict[str, Any]] = []
        self.created_in: str | None = None
        self.request_key: str | None = None
        # Each company's link to a parent unit, by company id, the last made last;
        # `parent_id` and `parent_company_id` are the last link and the company that made it.
        self.parents: dict[str, str] = {}
        self.parent_company_id: str | None = None

    Event = CustomerEvent

    def __getattr__(self, name: str) -> Any:
        # A customer restored from a snapshot taken before the links were kept per company.
        if name == "parents":
            state = self.__dict__
            return links(None, state.get("parent_id"), state.get("parent_company_id"))
        raise AttributeError(name)

    class Created(CustomerEvent, Aggregate.Created):
        type_name: ClassVar[str] = "CustomerCreated"
        name: str
        kind: str
        number: str
        business_id: str | None
        company_group_id: str | None
        parent_id: str | None
        fields: dict[str, Any]
        address: dict[str, Any] | None
        relationships: dict[str, dict[str, Any]]
        contacts: list[dict[str, Any]]
        created_in: str | None
        request_key: str | None
        parent_company_id: str | None = None
        parents: dict[str, str] | None = None  # None in events stored before it was kept

        def apply(self, customer: Customer) -> None:
            customer.tenant_id = self.tenant_id
            for key in (*SHARED_FIELDS, "number", "created_in", "request_key"):
                setattr(customer, key, copy_state(getattr(self, key)))
            customer.parent_company_id = self.parent_company_id
            customer.parents = links(self.parents, self.parent_id, self.parent_company_id)
            customer.relationships = copy_state(self.relationships)
            customer.contacts = copy_state(self.contacts)

        def subject(self, customer: Any) -> Any:
            return customer.as_dict() if customer.tenant_id else None

    class DetailsChanged(CustomerEvent):
        """The shared details after the change; `changed` names what changed."""

        type_name: ClassVar[str] = "CustomerDetailsChanged"
        changed: list[str]
        name: str
        kind: str
        business_id: str | None
        company_group_id: str | None
        parent_id: str | None
        fields: dict[str, Any]
        address: dict[str, Any] | None
        parent_company_id: str | None = None
        parents: dict[str, str] | None = None  # None in events stored before it was kept

        def apply(self, customer: Customer) -> None:
            for key in SHARED_FIELDS:
                setattr(customer, key, copy_state(getattr(self, key)))
            customer.parent_company_id = self.parent_company_id
            customer.parents = links(self.parents, self.parent_id, self.parent_company_id)

        def subject(self, customer: Any) -> Any:
            keys = list(self.changed)
            if "parent_id" in keys and "parents" not in keys:
                keys.append("parents")  # which company's link it is
            return {key: copy_state(getattr(customer, key)) for key in keys}

    class NumberChanged(CustomerEvent):
        type_name: ClassVar[str] = "CustomerNumberChanged"
        number: str

        def apply(self, customer: Customer) -> None:
            customer.number = self.number

        def subject(self, customer: Any) -> Any:
            return {"number": customer.number}

    class RelationshipSet(CustomerEvent):
        """A company's relationship with the customer, as it is after the change."""

        type_name: ClassVar[str] = "CustomerRelationshipSet"
        company_id: str
        relationship: dict[str, Any]

        def apply(self, customer: Customer) -> None:
            customer.relationships[self.company_id] = copy_state(self.relationship)

        def subject(self, customer: Any) -> Any:
            relationship = customer.relationships.get(self.company_id)
            if relationship is None:
                return None
            return {"company_id": self.company_id, **copy_state(relationship)}

    class ContactPersonAdded(CustomerEvent):
        type_name: ClassVar[str] = "ContactPersonAdded"
        contact: dict[str, Any]

        def apply(self, customer: Customer) -> None:
            customer.contacts.append(copy_state(self.contact))

        def subject(self, customer: Any) -> Any:
            for contact in customer.contacts:
                if contact["id"] == self.contact["id"]:
                    return copy_state(contact)
            return None

    # ---------------------------------------------------------------- commands
    @classmethod
    def created(
        cls,
        *,
        customer_id: UUID,
        tenant_id: str,
        actor_id: str,
        actor_name: str,
        details: dict[str, Any],
        number: str,
        company_id: str | None,
        relationships: dict[str, dict[str, Any]],
        contacts: list[dict[str, Any]],
        request_key: str | None = None,
    ) -> Customer.Created:
        """The event that creates a customer with checked details and relationships.

        A bulk create (an import batch) saves these events as they are, without building
        each aggregate first; the customer is read back from its event like any other."""
        event: Any = cls.Created  # a dataclass made by the library's metaclass
        return event(  # type: ignore[no-any-return]
            originator_id=customer_id,
            originator_version=cls.INITIAL_VERSION,
            originator_topic=_TOPIC,
            timestamp=cls.Created.create_timestamp(),
            tenant_id=tenant_id,
            actor_id=actor_id,
            actor_name=actor_name,
            number=number,
            relationships=relationships,
            contacts=contacts,
            created_in=company_id,
            request_key=request_key,
            parent_company_id=company_id if details.get("parent_id") else None,
            parents={company_id or "": details["parent_id"]} if details.get("parent_id") else {},
            name=details.get("name"),
            kind=details.get("kind"),
            business_id=details.get("business_id"),
            company_group_id=details.get("company_group_id"),
            parent_id=details.get("parent_id"),
            address=details.get("address"),
            fields=details.get("fields") or {},
        )

    @classmethod
    def create(cls, **kwargs: Any) -> Customer:
        """A new customer with checked details and relationships (see `created`)."""
        event = cls.created(**kwargs)
        customer: Any = event.mutate(None)
        customer.pending_events.append(event)
        return customer  # type: ignore[no-any-return]

    def _trigger(self, event_class: type[CustomerEvent], actor: tuple[str, str], **kw: Any) -> None:
        self.trigger_event(
            event_class, tenant_id=self.tenant_id, actor_id=actor[0], actor_name=actor[1], **kw
        )

    def change_details(
        self,
        actor: tuple[str, str],
        details: dict[str, Any],
        company_id: str | None = None,
        shared_structure: bool = True,
    ) -> list[str]:
        """Apply checked shared details; returns the names of those that changed (`parents`
        when a company's link did).

        A `parent_id` given is the company's link: with a shared company structure it
        replaces every link, without one only the company's own."""
        new = {key: copy_state(getattr(self, key)) for key in SHARED_FIELDS}
        new.update({key: value for key, value in details.items() if key in SHARED_FIELDS})
        parents = self.parents
        if "parent_id" in details:
            company = company_id or ""
            wanted = details["parent_id"] or None
            # With a shared structure a link is the one link: setting the parent everyone
            # sees again also ends the links made while it was not shared.
            if shared_structure and (wanted != self.parent_id or len(self.parents) > 1):
                parents = {company: wanted} if wanted else {}
            elif not shared_structure and wanted != self.parents.get(company):
                parents = {key: value for key, value in self.parents.items() if key != company}
                if wanted:
                    parents[company] = wanted
        new["parent_id"], linker = last_link(parents)
        changed = [key for key in SHARED_FIELDS if new[key] != getattr(self, key)]
        if parents != self.parents:
            changed.append("parents")
        if changed:
            self._trigger(
                self.DetailsChanged,
                actor,
                changed=changed,
                parent_company_id=linker,
                parents=copy_state(parents),
                **new,
            )
        return changed

    def change_number(self, actor: tuple[str, str], number: str) -> bool:
        if number == self.number:
            return False
        self._trigger(self.NumberChanged, actor, number=number)
        return True

    def set_relationship(
        self, actor: tuple[str, str], company_id: str, relationship: dict[str, Any]
    ) -> bool:
        """Add or change a company's relationship; False if nothing changed."""
        current = self.relationships.get(company_id)
        if current == relationship:
            return False
        self._trigger(self.RelationshipSet, actor, company_id=company_id, relationship=relationship)
        return True

    def add_contact(self, actor: tuple[str, str], contact: dict[str, Any]) -> None:
        if any(c["id"] == contact["id"] for c in self.contacts):
            raise ConflictError("this contact person was added already", "id")
        self._trigger(self.ContactPersonAdded, actor, contact=contact)

    # ---------------------------------------------------------------- views
    def as_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "tenant_id": self.tenant_id,
            "version": self.version,
            "number": self.number,
            **{key: copy_state(getattr(self, key)) for key in SHARED_FIELDS},
            "relationships": [
                {"company_id": company_id, **copy_state(relationship)}
                for company_id, relationship in self.relationships.items()
            ],
            "contacts": copy_state(self.contacts),
            "created_in": self.created_in,
            "parent_company_id": self.parent_company_id,
            "parents": dict(self.parents),
            "created_at": self.created_on,
            "updated_at": self.modified_on,
        }


def last_link(parents: dict[str, str]) -> tuple[str | None, str | None]:
    """The last link made (the shared structure's) and its company."""
    if not parents:
        return None, None
    company, parent = next(reversed(parents.items()))
    return parent, company or None


def seen_parent(
    parents: dict[str, str], company_id: str | None, shared_structure: bool
) -> str | None:
    """The parent a company sees: the last link made with a shared company structure, else
    the company's own."""
    if shared_structure:
        return last_link(parents)[0]
    return parents.get(company_id or "") if company_id else None


_TOPIC = get_topic(Customer)
