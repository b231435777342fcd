"""Customer types (asiakastyypit): the built-ins, added types and the defaults per kind."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, cast

from psa.errors import DomainError, NotFoundError

from .base import SettingsEvent, SettingsPart
from .common import Actor, check_unique_name, clean_name
from .state import (
    DEFAULT_ROLES,
    CustomerTypeState,
    new_id,
)


class TypeEvent(SettingsEvent):
    type_id: str
    section: ClassVar[str] = "customer_types"

    def subject(self, settings: Any) -> Any:
        item = settings.customer_types.get(self.type_id)
        return settings.type_view(item) if item else None


class CustomerTypeAdded(TypeEvent):
    name: str
    invoicing_allowed: bool

    def apply(self, settings: Any) -> None:
        settings.customer_types[self.type_id] = {
            "id": self.type_id,
            "name": self.name,
            "builtin": None,
            "invoicing_allowed": self.invoicing_allowed,
            "archived": False,
        }


class CustomerTypeRenamed(TypeEvent):
    name: str

    def apply(self, settings: Any) -> None:
        settings.customer_types[self.type_id]["name"] = self.name


class CustomerTypeInvoicingChanged(TypeEvent):
    invoicing_allowed: bool

    def apply(self, settings: Any) -> None:
        settings.customer_types[self.type_id]["invoicing_allowed"] = self.invoicing_allowed


class CustomerTypeArchived(TypeEvent):
    def apply(self, settings: Any) -> None:
        settings.customer_types[self.type_id]["archived"] = True


class CustomerTypeRestored(TypeEvent):
    def apply(self, settings: Any) -> None:
        settings.customer_types[self.type_id]["archived"] = False


class DefaultCustomerTypeSet(SettingsEvent):
    """The default type for a kind moved to `type_id` (None: no default for that kind)."""

    role: str
    type_id: str | None
    section: ClassVar[str] = "customer_types"

    def apply(self, settings: Any) -> None:
        settings.default_types[self.role] = self.type_id

    def subject(self, settings: Any) -> Any:
        type_id = settings.default_types.get(self.role)
        item = settings.customer_types.get(type_id) if type_id else None
        return {
            f"default_{self.role}_type_id": type_id,
            f"default_{self.role}_type": item["name"] if item else None,
        }


# customer groups ----------------------------------------------------------


class CustomerTypes(SettingsPart):
    """Customer types and which of them is the default for each kind of customer."""

    # ---------------------------------------------------------------- customer types
    def _type(self, type_id: str, field_name: str = "type_id") -> CustomerTypeState:
        try:
            return self.customer_types[type_id]
        except KeyError:
            raise NotFoundError(f"no customer type with id '{type_id}'", field_name) from None

    def add_customer_type(
        self,
        actor: Actor,
        name: str,
        *,
        invoicing_allowed: bool = True,
        default_for: Iterable[str] = (),
    ) -> str:
        """Add a customer type, optionally as the default for some kinds."""
        name = clean_name(name)
        check_unique_name(name, cast(dict, self.customer_types), "a customer type")  # type: ignore[type-arg]
        roles = self._check_roles(default_for)
        type_id = new_id()
        self._trigger(
            CustomerTypeAdded,
            actor,
            type_id=type_id,
            name=name,
            invoicing_allowed=bool(invoicing_allowed),
        )
        for role in roles:
            self._trigger(DefaultCustomerTypeSet, actor, role=role, type_id=type_id)
        return type_id

    @staticmethod
    def _check_roles(roles: Iterable[str]) -> list[str]:
        checked = []
        for role in roles:
            if role not in DEFAULT_ROLES:
                raise DomainError(
                    f"'{role}' is not one of {', '.join(DEFAULT_ROLES)}", "default_for"
                )
            if role not in checked:
                checked.append(role)
        return checked

    def update_customer_type(
        self,
        actor: Actor,
        type_id: str,
        *,
        name: str | None = None,
        invoicing_allowed: bool | None = None,
        defaults: Mapping[str, bool] | None = None,
        archived: bool | None = None,
    ) -> str:
        """Change a type: name, invoicing, which defaults it is, archived or not."""
        item = self._type(type_id)
        events: list[tuple[type[SettingsEvent], dict[str, Any]]] = []
        if name is not None:
            name = clean_name(name)
            check_unique_name(
                name,
                cast(dict, self.customer_types),
                "a customer type",
                except_id=type_id,  # type: ignore[type-arg]
            )
            if name != item["name"]:
                events.append((CustomerTypeRenamed, {"type_id": type_id, "name": name}))
        if invoicing_allowed is not None and bool(invoicing_allowed) != item["invoicing_allowed"]:
            events.append(
                (
                    CustomerTypeInvoicingChanged,
                    {"type_id": type_id, "invoicing_allowed": bool(invoicing_allowed)},
                )
            )
        # Restoring comes before any new default flag: an archived type cannot be a default.
        will_be_archived = item["archived"] if archived is None else bool(archived)
        if archived is False and item["archived"]:
            events.append((CustomerTypeRestored, {"type_id": type_id}))
        for role, wanted in (defaults or {}).items():
            self._check_roles([role])
            is_default = self.default_types.get(role) == type_id
            if wanted and not is_default:
                if will_be_archived:
                    raise DomainError(
                        "an archived customer type cannot be a default", f"default_{role}"
                    )
                events.append((DefaultCustomerTypeSet, {"role": role, "type_id": type_id}))
            elif not wanted and is_default:
                if role == "customer":
                    raise DomainError(
                        "there must always be one default customer type: "
                        "make another type the default instead",
                        "default_customer",
                    )
                events.append((DefaultCustomerTypeSet, {"role": role, "type_id": None}))
        if archived is True and not item["archived"]:
            if item["builtin"]:
                raise DomainError(
                    f"the built-in type '{item['name']}' cannot be archived (other sections of "
                    "the product rely on it); rename it instead",
                    "archived",
                )
            self._check_type_can_be_archived(type_id, pending=events)
            events.append((CustomerTypeArchived, {"type_id": type_id}))
        for event_class, kwargs in events:
            self._trigger(event_class, actor, **kwargs)
        return type_id

    def archive_customer_type(self, actor: Actor, type_id: str) -> str:
        """Archive a type: it is kept for old customers but not offered for new ones."""
        return self.update_customer_type(actor, type_id, archived=True)

    def _check_type_can_be_archived(
        self, type_id: str, pending: Sequence[tuple[type[SettingsEvent], dict[str, Any]]] = ()
    ) -> None:
        defaults = dict(self.default_types)
        for event_class, kwargs in pending:
            if event_class is DefaultCustomerTypeSet:
                defaults[kwargs["role"]] = kwargs["type_id"]
        for role, default_id in defaults.items():
            if default_id == type_id:
                raise DomainError(
                    f"the customer type is the default {role} type and cannot be archived; "
                    "make another type the default first",
                    "archived",
                )
        if self.multi_company["default_relationship_type_id"] == type_id:
            raise DomainError(
                "the customer type is the default relationship type of the multi-company "
                "settings and cannot be archived",
                "archived",
            )

    def type_view(self, item: CustomerTypeState) -> dict[str, Any]:
        view: dict[str, Any] = dict(item)
        for role in DEFAULT_ROLES:
            view[f"default_{role}"] = self.default_types.get(role) == item["id"]
        return view
