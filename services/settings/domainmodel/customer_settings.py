"""The `CustomerSettings` aggregate: every setting of the customer section of one tenant.

Commands check every rule first and only then trigger events, so a refused command leaves the
aggregate untouched. Each event carries its actor; its `apply` is the only place that changes
state, which is what lets the history replay the events and show each change's before/after.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from copy import deepcopy
from typing import Any, ClassVar, Literal, TypedDict, cast
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate

from psa.errors import ConflictError, DomainError, NotFoundError, PermissionDeniedError

from .common import Actor, PlainStateCopy, check_unique_name, clean_name, name_key

SETTINGS_NAMESPACE = uuid5(NAMESPACE_URL, "urn:psa:customer-settings")

HierarchyFilter = Literal["all", "parents", "subunits", "unlinked"]
HIERARCHY_FILTERS: tuple[str, ...] = ("all", "parents", "subunits", "unlinked")
NumberingMode = Literal["automatic", "manual"]
FieldType = Literal["text", "textarea", "dropdown", "date", "checkbox", "multiselect", "link"]
FIELD_TYPES: tuple[str, ...] = (
    "text",
    "textarea",
    "dropdown",
    "date",
    "checkbox",
    "multiselect",
    "link",
)
OPTION_FIELD_TYPES = frozenset({"dropdown", "multiselect"})
# A field's type may change only where every stored value stays valid.
COMPATIBLE_TYPE_CHANGES = frozenset(
    {("text", "textarea"), ("textarea", "text"), ("dropdown", "multiselect")}
)
DefaultRole = Literal["customer", "subcontractor", "consumer"]
DEFAULT_ROLES: tuple[str, ...] = ("customer", "subcontractor", "consumer")
# The toggles of the brief's section 1 that only a multi-company tenant has (items 1-5).
MULTI_COMPANY_ONLY = (
    "see_other_companies_customers",
    "hide_other_companies_details",
    "default_relationship_type_id",
    "share_company_structure",
    "account_manager_from_any_company",
)
MULTI_COMPANY_KEYS = (*MULTI_COMPANY_ONLY, "customer_group_mandatory")
HUBSPOT_PROPERTY_RE = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
INTEGRATION_ID_MAX_LENGTH = 100
BUILTIN_TYPES = (
    ("asiakas", "Asiakas", "customer", True),
    ("alihankkija", "Alihankkija", "subcontractor", False),
)


class CustomerTypeState(TypedDict):
    id: str
    name: str
    builtin: str | None
    invoicing_allowed: bool
    archived: bool


class CustomerGroupState(TypedDict):
    id: str
    name: str
    integration_id: str | None
    archived: bool


class CompanyGroupState(TypedDict):
    id: str
    name: str
    archived: bool


class OptionState(TypedDict):
    id: str
    name: str
    archived: bool


class FieldState(TypedDict):
    id: str
    name: str
    type: str
    options: list[OptionState]
    shown_in_details_and_list: bool
    mandatory: bool
    shown_in_reports: bool
    hubspot_property_id: str | None
    archived: bool


class MultiCompanyState(TypedDict):
    see_other_companies_customers: bool
    hide_other_companies_details: bool
    default_relationship_type_id: str | None
    share_company_structure: bool
    account_manager_from_any_company: bool
    customer_group_mandatory: bool


class NumberingState(TypedDict):
    mode: str
    next_number: int


class OptionInput(TypedDict, total=False):
    """An option as an admin sends it: a new one has no id."""

    id: str | None
    name: str
    archived: bool


def settings_id(tenant_id: UUID) -> UUID:
    """Each tenant has exactly one settings aggregate, found from the tenant id."""
    return uuid5(SETTINGS_NAMESPACE, str(tenant_id))


def builtin_type_id(tenant_id: UUID, key: str) -> str:
    """The built-in types have ids every service can compute."""
    return str(uuid5(tenant_id, f"customer-type:{key}"))


def _new_id() -> str:
    return str(uuid4())


class CustomerSettings(PlainStateCopy, Aggregate):
    """All customer-section settings of one tenant."""

    def __init__(self) -> None:
        # Filled by the Created event; declared here for readers and type checkers.
        self.tenant_id: str = ""
        self.customer_types: dict[str, CustomerTypeState] = {}
        self.default_types: dict[str, str | None] = {}
        self.customer_groups: dict[str, CustomerGroupState] = {}
        self.company_groups: dict[str, CompanyGroupState] = {}
        self.multi_company: MultiCompanyState = cast(MultiCompanyState, {})
        self.hierarchy_filter: str = "all"
        self.numbering: NumberingState = {"mode": "automatic", "next_number": 1}
        self.fields: dict[str, FieldState] = {}
        self.field_order: list[str] = []

    # ------------------------------------------------------------------ events
    class Event(Aggregate.Event):
        # Every event names its tenant, so a reader of the event log needs nothing else.
        tenant_id: str
        actor_id: str
        actor_name: str

        section: ClassVar[str] = "settings"

        def subject(self, settings: CustomerSettings) -> Any:
            """What this event changes, as it stands in `settings` (for the history)."""
            return None

    class Created(Event, Aggregate.Created):
        type_name: ClassVar[str] = "CustomerSettingsCreated"
        customer_types: list[CustomerTypeState]
        default_types: dict[str, str | None]
        numbering: NumberingState
        hierarchy_filter: str
        multi_company: MultiCompanyState

        def apply(self, settings: CustomerSettings) -> None:
            settings.tenant_id = self.tenant_id
            settings.customer_types = {t["id"]: dict(t) for t in self.customer_types}  # type: ignore[misc]
            settings.default_types = dict(self.default_types)
            settings.customer_groups = {}
            settings.company_groups = {}
            settings.multi_company = cast(MultiCompanyState, dict(self.multi_company))
            settings.hierarchy_filter = self.hierarchy_filter
            settings.numbering = cast(NumberingState, dict(self.numbering))
            settings.fields = {}
            settings.field_order = []

        def subject(self, settings: CustomerSettings) -> Any:
            return settings.as_dict() if getattr(settings, "tenant_id", None) else None

    # customer types -----------------------------------------------------------
    class TypeEvent(Event):
        type_id: str
        section: ClassVar[str] = "customer_types"

        def subject(self, settings: CustomerSettings) -> Any:
            item = settings.customer_types.get(self.type_id)
            return settings.type_view(item) if item else None

    class CustomerTypeAdded(TypeEvent):
        name: str
        invoicing_allowed: bool

        def apply(self, settings: CustomerSettings) -> None:
            settings.customer_types[self.type_id] = {
                "id": self.type_id,
                "name": self.name,
                "builtin": None,
                "invoicing_allowed": self.invoicing_allowed,
                "archived": False,
            }

    class CustomerTypeRenamed(TypeEvent):
        name: str

        def apply(self, settings: CustomerSettings) -> None:
            settings.customer_types[self.type_id]["name"] = self.name

    class CustomerTypeInvoicingChanged(TypeEvent):
        invoicing_allowed: bool

        def apply(self, settings: CustomerSettings) -> None:
            settings.customer_types[self.type_id]["invoicing_allowed"] = self.invoicing_allowed

    class CustomerTypeArchived(TypeEvent):
        def apply(self, settings: CustomerSettings) -> None:
            settings.customer_types[self.type_id]["archived"] = True

    class CustomerTypeRestored(TypeEvent):
        def apply(self, settings: CustomerSettings) -> None:
            settings.customer_types[self.type_id]["archived"] = False

    class DefaultCustomerTypeSet(Event):
        """The default type for a kind moved to `type_id` (None: no default for that kind)."""

        role: str
        type_id: str | None
        section: ClassVar[str] = "customer_types"

        def apply(self, settings: CustomerSettings) -> None:
            settings.default_types[self.role] = self.type_id

        def subject(self, settings: CustomerSettings) -> Any:
            type_id = settings.default_types.get(self.role)
            item = settings.customer_types.get(type_id) if type_id else None
            return {
                f"default_{self.role}_type_id": type_id,
                f"default_{self.role}_type": item["name"] if item else None,
            }

    # customer groups ----------------------------------------------------------
    class CustomerGroupEvent(Event):
        group_id: str
        section: ClassVar[str] = "customer_groups"

        def subject(self, settings: CustomerSettings) -> Any:
            item = settings.customer_groups.get(self.group_id)
            return dict(item) if item else None

    class CustomerGroupAdded(CustomerGroupEvent):
        name: str
        integration_id: str | None

        def apply(self, settings: CustomerSettings) -> None:
            settings.customer_groups[self.group_id] = {
                "id": self.group_id,
                "name": self.name,
                "integration_id": self.integration_id,
                "archived": False,
            }

    class CustomerGroupRenamed(CustomerGroupEvent):
        name: str

        def apply(self, settings: CustomerSettings) -> None:
            settings.customer_groups[self.group_id]["name"] = self.name

    class CustomerGroupIntegrationIdChanged(CustomerGroupEvent):
        integration_id: str | None

        def apply(self, settings: CustomerSettings) -> None:
            settings.customer_groups[self.group_id]["integration_id"] = self.integration_id

    class CustomerGroupArchived(CustomerGroupEvent):
        def apply(self, settings: CustomerSettings) -> None:
            settings.customer_groups[self.group_id]["archived"] = True

    class CustomerGroupRestored(CustomerGroupEvent):
        def apply(self, settings: CustomerSettings) -> None:
            settings.customer_groups[self.group_id]["archived"] = False

    # company groups -----------------------------------------------------------
    class CompanyGroupEvent(Event):
        group_id: str
        section: ClassVar[str] = "company_groups"

        def subject(self, settings: CustomerSettings) -> Any:
            item = settings.company_groups.get(self.group_id)
            return dict(item) if item else None

    class CompanyGroupAdded(CompanyGroupEvent):
        name: str

        def apply(self, settings: CustomerSettings) -> None:
            settings.company_groups[self.group_id] = {
                "id": self.group_id,
                "name": self.name,
                "archived": False,
            }

    class CompanyGroupRenamed(CompanyGroupEvent):
        name: str

        def apply(self, settings: CustomerSettings) -> None:
            settings.company_groups[self.group_id]["name"] = self.name

    class CompanyGroupArchived(CompanyGroupEvent):
        def apply(self, settings: CustomerSettings) -> None:
            settings.company_groups[self.group_id]["archived"] = True

    class CompanyGroupRestored(CompanyGroupEvent):
        def apply(self, settings: CustomerSettings) -> None:
            settings.company_groups[self.group_id]["archived"] = False

    # single-value sections ----------------------------------------------------
    class MultiCompanySettingsChanged(Event):
        """The whole multi-company section as it is after the change."""

        see_other_companies_customers: bool
        hide_other_companies_details: bool
        default_relationship_type_id: str | None
        share_company_structure: bool
        account_manager_from_any_company: bool
        customer_group_mandatory: bool
        section: ClassVar[str] = "multi_company"

        def apply(self, settings: CustomerSettings) -> None:
            settings.multi_company = cast(
                MultiCompanyState, {key: getattr(self, key) for key in MULTI_COMPANY_KEYS}
            )

        def subject(self, settings: CustomerSettings) -> Any:
            return dict(settings.multi_company)

    class HierarchyFilterChanged(Event):
        hierarchy_filter: str
        section: ClassVar[str] = "hierarchy_filter"

        def apply(self, settings: CustomerSettings) -> None:
            settings.hierarchy_filter = self.hierarchy_filter

        def subject(self, settings: CustomerSettings) -> Any:
            return {"hierarchy_filter": settings.hierarchy_filter}

    class NumberingChanged(Event):
        mode: str
        next_number: int
        section: ClassVar[str] = "numbering"

        def apply(self, settings: CustomerSettings) -> None:
            settings.numbering = {"mode": self.mode, "next_number": self.next_number}

        def subject(self, settings: CustomerSettings) -> Any:
            return dict(settings.numbering)

    # additional fields --------------------------------------------------------
    class FieldEvent(Event):
        field_id: str
        section: ClassVar[str] = "fields"

        def subject(self, settings: CustomerSettings) -> Any:
            item = settings.fields.get(self.field_id)
            return deepcopy(item) if item else None

    class FieldAdded(FieldEvent):
        name: str
        field_type: str
        options: list[OptionState]
        shown_in_details_and_list: bool
        mandatory: bool
        shown_in_reports: bool
        hubspot_property_id: str | None

        def apply(self, settings: CustomerSettings) -> None:
            settings.fields[self.field_id] = {
                "id": self.field_id,
                "name": self.name,
                "type": self.field_type,
                "options": [cast(OptionState, dict(o)) for o in self.options],
                "shown_in_details_and_list": self.shown_in_details_and_list,
                "mandatory": self.mandatory,
                "shown_in_reports": self.shown_in_reports,
                "hubspot_property_id": self.hubspot_property_id,
                "archived": False,
            }
            settings.field_order.append(self.field_id)

    class FieldRenamed(FieldEvent):
        name: str

        def apply(self, settings: CustomerSettings) -> None:
            settings.fields[self.field_id]["name"] = self.name

    class FieldTypeChanged(FieldEvent):
        field_type: str

        def apply(self, settings: CustomerSettings) -> None:
            settings.fields[self.field_id]["type"] = self.field_type

    class FieldFlagsChanged(FieldEvent):
        shown_in_details_and_list: bool
        mandatory: bool
        shown_in_reports: bool

        def apply(self, settings: CustomerSettings) -> None:
            item = settings.fields[self.field_id]
            item["shown_in_details_and_list"] = self.shown_in_details_and_list
            item["mandatory"] = self.mandatory
            item["shown_in_reports"] = self.shown_in_reports

    class FieldHubSpotPropertyChanged(FieldEvent):
        hubspot_property_id: str | None

        def apply(self, settings: CustomerSettings) -> None:
            settings.fields[self.field_id]["hubspot_property_id"] = self.hubspot_property_id

    class FieldOptionsChanged(FieldEvent):
        """The field's whole option list, in its new order."""

        options: list[OptionState]

        def apply(self, settings: CustomerSettings) -> None:
            settings.fields[self.field_id]["options"] = [
                cast(OptionState, dict(o)) for o in self.options
            ]

    class FieldArchived(FieldEvent):
        def apply(self, settings: CustomerSettings) -> None:
            settings.fields[self.field_id]["archived"] = True

    class FieldRestored(FieldEvent):
        def apply(self, settings: CustomerSettings) -> None:
            settings.fields[self.field_id]["archived"] = False

    class FieldsReordered(Event):
        field_ids: list[str]
        section: ClassVar[str] = "fields"

        def apply(self, settings: CustomerSettings) -> None:
            settings.field_order = list(self.field_ids)

        def subject(self, settings: CustomerSettings) -> Any:
            return {"field_ids": list(settings.field_order)}

    # ---------------------------------------------------------------- creation
    @classmethod
    def create(cls, tenant_id: UUID, actor: Actor) -> CustomerSettings:
        """The settings of a new tenant: the two built-in types and the defaults."""
        types: list[CustomerTypeState] = []
        defaults: dict[str, str | None] = {role: None for role in DEFAULT_ROLES}
        for key, name, role, invoicing in BUILTIN_TYPES:
            type_id = builtin_type_id(tenant_id, key)
            types.append(
                {
                    "id": type_id,
                    "name": name,
                    "builtin": key,
                    "invoicing_allowed": invoicing,
                    "archived": False,
                }
            )
            defaults[role] = type_id
        return cls._create(
            cls.Created,
            id=settings_id(tenant_id),
            actor_id=actor.id,
            actor_name=actor.name,
            tenant_id=str(tenant_id),
            customer_types=types,
            default_types=defaults,
            numbering={"mode": "automatic", "next_number": 1},
            hierarchy_filter="all",
            multi_company={
                "see_other_companies_customers": False,
                "hide_other_companies_details": False,
                "default_relationship_type_id": None,
                "share_company_structure": False,
                "account_manager_from_any_company": False,
                "customer_group_mandatory": False,
            },
        )

    def _trigger(self, event_class: type[Event], actor: Actor, **kwargs: Any) -> None:
        self.trigger_event(
            event_class,
            tenant_id=self.tenant_id,
            actor_id=actor.id,
            actor_name=actor.name,
            **kwargs,
        )

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
        type_id = _new_id()
        self._trigger(
            self.CustomerTypeAdded,
            actor,
            type_id=type_id,
            name=name,
            invoicing_allowed=bool(invoicing_allowed),
        )
        for role in roles:
            self._trigger(self.DefaultCustomerTypeSet, actor, role=role, type_id=type_id)
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
        events: list[tuple[type[CustomerSettings.Event], dict[str, Any]]] = []
        if name is not None:
            name = clean_name(name)
            check_unique_name(
                name,
                cast(dict, self.customer_types),
                "a customer type",
                except_id=type_id,  # type: ignore[type-arg]
            )
            if name != item["name"]:
                events.append((self.CustomerTypeRenamed, {"type_id": type_id, "name": name}))
        if invoicing_allowed is not None and bool(invoicing_allowed) != item["invoicing_allowed"]:
            events.append(
                (
                    self.CustomerTypeInvoicingChanged,
                    {"type_id": type_id, "invoicing_allowed": bool(invoicing_allowed)},
                )
            )
        # Restoring comes before any new default flag: an archived type cannot be a default.
        will_be_archived = item["archived"] if archived is None else bool(archived)
        if archived is False and item["archived"]:
            events.append((self.CustomerTypeRestored, {"type_id": type_id}))
        for role, wanted in (defaults or {}).items():
            self._check_roles([role])
            is_default = self.default_types.get(role) == type_id
            if wanted and not is_default:
                if will_be_archived:
                    raise DomainError(
                        "an archived customer type cannot be a default", f"default_{role}"
                    )
                events.append((self.DefaultCustomerTypeSet, {"role": role, "type_id": type_id}))
            elif not wanted and is_default:
                if role == "customer":
                    raise DomainError(
                        "there must always be one default customer type: "
                        "make another type the default instead",
                        "default_customer",
                    )
                events.append((self.DefaultCustomerTypeSet, {"role": role, "type_id": None}))
        if archived is True and not item["archived"]:
            self._check_type_can_be_archived(type_id, pending=events)
            events.append((self.CustomerTypeArchived, {"type_id": type_id}))
        for event_class, kwargs in events:
            self._trigger(event_class, actor, **kwargs)
        return type_id

    def archive_customer_type(self, actor: Actor, type_id: str) -> str:
        """Archive a type: it is kept for old customers but not offered for new ones."""
        return self.update_customer_type(actor, type_id, archived=True)

    def _check_type_can_be_archived(
        self, type_id: str, pending: Sequence[tuple[type[Event], dict[str, Any]]] = ()
    ) -> None:
        defaults = dict(self.default_types)
        for event_class, kwargs in pending:
            if event_class is self.DefaultCustomerTypeSet:
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

    # ---------------------------------------------------------------- customer groups
    def _customer_group(self, group_id: str) -> CustomerGroupState:
        try:
            return self.customer_groups[group_id]
        except KeyError:
            raise NotFoundError(f"no customer group with id '{group_id}'", "group_id") from None

    def _clean_integration_id(self, value: str | None, except_id: str | None = None) -> str | None:
        if value is None:
            return None
        cleaned = value.strip()
        if not cleaned:
            return None
        if len(cleaned) > INTEGRATION_ID_MAX_LENGTH:
            raise DomainError(
                f"must be at most {INTEGRATION_ID_MAX_LENGTH} characters", "integration_id"
            )
        for other in self.customer_groups.values():
            if other["id"] != except_id and other["integration_id"] == cleaned:
                raise ConflictError(
                    f"the customer group '{other['name']}' already has this integration id",
                    "integration_id",
                )
        return cleaned

    def add_customer_group(self, actor: Actor, name: str, integration_id: str | None = None) -> str:
        """Add a customer group with an optional integration id."""
        name = clean_name(name)
        check_unique_name(name, cast(dict, self.customer_groups), "a customer group")  # type: ignore[type-arg]
        integration_id = self._clean_integration_id(integration_id)
        group_id = _new_id()
        self._trigger(
            self.CustomerGroupAdded,
            actor,
            group_id=group_id,
            name=name,
            integration_id=integration_id,
        )
        return group_id

    _UNSET: ClassVar[Any] = object()

    def update_customer_group(
        self,
        actor: Actor,
        group_id: str,
        *,
        name: str | None = None,
        integration_id: Any = _UNSET,
        archived: bool | None = None,
    ) -> str:
        """Rename a customer group, change its integration id, archive or restore it."""
        item = self._customer_group(group_id)
        events: list[tuple[type[CustomerSettings.Event], dict[str, Any]]] = []
        if name is not None:
            name = clean_name(name)
            check_unique_name(
                name,
                cast(dict, self.customer_groups),
                "a customer group",
                except_id=group_id,  # type: ignore[type-arg]
            )
            if name != item["name"]:
                events.append((self.CustomerGroupRenamed, {"group_id": group_id, "name": name}))
        if integration_id is not self._UNSET:
            cleaned = self._clean_integration_id(integration_id, except_id=group_id)
            if cleaned != item["integration_id"]:
                events.append(
                    (
                        self.CustomerGroupIntegrationIdChanged,
                        {"group_id": group_id, "integration_id": cleaned},
                    )
                )
        if archived is not None and bool(archived) != item["archived"]:
            event_class: type[CustomerSettings.Event] = (
                self.CustomerGroupArchived if archived else self.CustomerGroupRestored
            )
            events.append((event_class, {"group_id": group_id}))
        for event_class, kwargs in events:
            self._trigger(event_class, actor, **kwargs)
        return group_id

    # ---------------------------------------------------------------- company groups
    def _company_group(self, group_id: str) -> CompanyGroupState:
        try:
            return self.company_groups[group_id]
        except KeyError:
            raise NotFoundError(f"no company group with id '{group_id}'", "group_id") from None

    def add_company_group(self, actor: Actor, name: str) -> str:
        """Add a company group (a grouping of customers for reports)."""
        name = clean_name(name)
        check_unique_name(name, cast(dict, self.company_groups), "a company group")  # type: ignore[type-arg]
        group_id = _new_id()
        self._trigger(self.CompanyGroupAdded, actor, group_id=group_id, name=name)
        return group_id

    def update_company_group(
        self, actor: Actor, group_id: str, *, name: str | None = None, archived: bool | None = None
    ) -> str:
        """Rename a company group, archive or restore it."""
        item = self._company_group(group_id)
        events: list[tuple[type[CustomerSettings.Event], dict[str, Any]]] = []
        if name is not None:
            name = clean_name(name)
            check_unique_name(
                name,
                cast(dict, self.company_groups),
                "a company group",
                except_id=group_id,  # type: ignore[type-arg]
            )
            if name != item["name"]:
                events.append((self.CompanyGroupRenamed, {"group_id": group_id, "name": name}))
        if archived is not None and bool(archived) != item["archived"]:
            event_class: type[CustomerSettings.Event] = (
                self.CompanyGroupArchived if archived else self.CompanyGroupRestored
            )
            events.append((event_class, {"group_id": group_id}))
        for event_class, kwargs in events:
            self._trigger(event_class, actor, **kwargs)
        return group_id

    # ---------------------------------------------------------------- multi-company
    def change_multi_company(
        self,
        actor: Actor,
        changes: Mapping[str, Any],
        *,
        tenant_company_ids: Sequence[str],
    ) -> None:
        """Change the visibility and management toggles (items 1-6 of the brief's section 1).

        Items 1-5 need a tenant of two or more companies and an admin with access to all of
        them; the customer-group-mandatory toggle (item 6) applies to any tenant.
        """
        new = dict(self.multi_company)
        for key, value in changes.items():
            if key not in MULTI_COMPANY_KEYS:
                raise DomainError("is not a multi-company setting", key)
            new[key] = value
        changed = [key for key in MULTI_COMPANY_KEYS if new[key] != self.multi_company[key]]  # type: ignore[literal-required]
        if not changed:
            return
        multi_only = [key for key in changed if key in MULTI_COMPANY_ONLY]
        if multi_only:
            if len(tenant_company_ids) < 2:
                raise DomainError(
                    "this setting is only for a tenant of two or more companies",
                    multi_only[0],
                )
            missing = sorted(set(tenant_company_ids) - set(actor.company_ids))
            if missing:
                raise PermissionDeniedError(
                    "only an admin with access to every company of the tenant may change "
                    f"this setting (no access to {len(missing)} of them)",
                    multi_only[0],
                )
        type_id = cast(str | None, new["default_relationship_type_id"])
        if "default_relationship_type_id" in changed and type_id is not None:
            item = self.customer_types.get(type_id)
            if item is None:
                raise NotFoundError(
                    f"no customer type with id '{type_id}'", "default_relationship_type_id"
                )
            if item["archived"]:
                raise DomainError(
                    "an archived customer type cannot be the default relationship type",
                    "default_relationship_type_id",
                )
        for key in MULTI_COMPANY_KEYS:
            if key != "default_relationship_type_id" and not isinstance(new[key], bool):
                raise DomainError("must be true or false", key)
        self._trigger(self.MultiCompanySettingsChanged, actor, **new)

    # ---------------------------------------------------------------- hierarchy filter
    def change_hierarchy_filter(self, actor: Actor, value: str) -> None:
        """Set the customer list's default parent/sub-unit filter."""
        if value not in HIERARCHY_FILTERS:
            raise DomainError(f"must be one of {', '.join(HIERARCHY_FILTERS)}", "hierarchy_filter")
        if value != self.hierarchy_filter:
            self._trigger(self.HierarchyFilterChanged, actor, hierarchy_filter=value)

    # ---------------------------------------------------------------- numbering
    def change_numbering(self, actor: Actor, mode: str, next_number: int | None = None) -> None:
        """Switch between automatic running numbers and manual numbers."""
        if mode not in ("automatic", "manual"):
            raise DomainError("must be automatic or manual", "mode")
        if next_number is None:
            next_number = self.numbering["next_number"]
        if isinstance(next_number, bool) or not isinstance(next_number, int) or next_number < 1:
            raise DomainError("must be a whole number of 1 or more", "next_number")
        if next_number > 10**15:
            raise DomainError("must be at most 1000000000000000", "next_number")
        if mode != self.numbering["mode"] or next_number != self.numbering["next_number"]:
            self._trigger(self.NumberingChanged, actor, mode=mode, next_number=next_number)

    # ---------------------------------------------------------------- additional fields
    def _field(self, field_id: str) -> FieldState:
        try:
            return self.fields[field_id]
        except KeyError:
            raise NotFoundError(f"no additional field with id '{field_id}'", "field_id") from None

    def _clean_hubspot(self, value: str | None, except_id: str | None = None) -> str | None:
        if value is None or not value.strip():
            return None
        cleaned = value.strip()
        if not HUBSPOT_PROPERTY_RE.match(cleaned):
            raise DomainError(
                "a HubSpot property id is lower-case letters, digits and underscores, "
                "starting with a letter",
                "hubspot_property_id",
            )
        for other in self.fields.values():
            if other["id"] != except_id and other["hubspot_property_id"] == cleaned:
                raise ConflictError(
                    f"the field '{other['name']}' already syncs to this HubSpot property",
                    "hubspot_property_id",
                )
        return cleaned

    @staticmethod
    def _clean_options(
        field_type: str, options: Sequence[OptionInput | str], existing: Sequence[OptionState]
    ) -> list[OptionState]:
        """Validate an option list: new ones get ids, existing ones (by id or by name) keep theirs.

        Existing options left out of the list are archived, not dropped, so that customers
        that have them still resolve.
        """
        if options and field_type not in OPTION_FIELD_TYPES:
            raise DomainError("only dropdown and multiselect fields have options", "options")
        by_id = {o["id"]: o for o in existing}
        by_name = {name_key(o["name"]): o["id"] for o in existing}
        seen_ids: set[str] = set()
        seen_names: set[str] = set()
        result: list[OptionState] = []
        for index, raw in enumerate(options):
            option: OptionInput = {"name": raw} if isinstance(raw, str) else raw
            where = f"options[{index}]"
            name = clean_name(option.get("name", ""), f"{where}.name")
            # An option sent by name alone is the existing option of that name, if there is one.
            option_id = option.get("id") or by_name.get(name_key(name))
            if option_id:
                if option_id not in by_id:
                    raise NotFoundError(f"no option with id '{option_id}'", f"{where}.id")
                if option_id in seen_ids:
                    raise ConflictError(
                        "the same option is listed twice",
                        f"{where}.id" if option.get("id") else f"{where}.name",
                    )
                seen_ids.add(option_id)
            else:
                option_id = _new_id()
            key = name_key(name)
            if key in seen_names:
                raise ConflictError(f"an option named '{name}' is listed twice", f"{where}.name")
            seen_names.add(key)
            result.append(
                {"id": option_id, "name": name, "archived": bool(option.get("archived", False))}
            )
        for old in existing:
            if old["id"] not in seen_ids:
                result.append({"id": old["id"], "name": old["name"], "archived": True})
        return result

    def add_field(
        self,
        actor: Actor,
        name: str,
        field_type: str,
        *,
        options: Sequence[OptionInput | str] = (),
        shown_in_details_and_list: bool = True,
        mandatory: bool = False,
        shown_in_reports: bool = True,
        hubspot_property_id: str | None = None,
    ) -> str:
        """Add an additional customer field at the end of the field order."""
        name = clean_name(name)
        check_unique_name(name, cast(dict, self.fields), "an additional field")  # type: ignore[type-arg]
        if field_type not in FIELD_TYPES:
            raise DomainError(f"must be one of {', '.join(FIELD_TYPES)}", "type")
        cleaned_options = self._clean_options(field_type, options, [])
        hubspot = self._clean_hubspot(hubspot_property_id)
        field_id = _new_id()
        self._trigger(
            self.FieldAdded,
            actor,
            field_id=field_id,
            name=name,
            field_type=field_type,
            options=cleaned_options,
            shown_in_details_and_list=bool(shown_in_details_and_list),
            mandatory=bool(mandatory),
            shown_in_reports=bool(shown_in_reports),
            hubspot_property_id=hubspot,
        )
        return field_id

    def update_field(
        self,
        actor: Actor,
        field_id: str,
        *,
        name: str | None = None,
        field_type: str | None = None,
        shown_in_details_and_list: bool | None = None,
        mandatory: bool | None = None,
        shown_in_reports: bool | None = None,
        hubspot_property_id: Any = _UNSET,
        options: Sequence[OptionInput | str] | None = None,
        archived: bool | None = None,
    ) -> str:
        """Change an additional field; its type only to a compatible one."""
        item = self._field(field_id)
        events: list[tuple[type[CustomerSettings.Event], dict[str, Any]]] = []
        if name is not None:
            name = clean_name(name)
            check_unique_name(
                name,
                cast(dict, self.fields),
                "an additional field",
                except_id=field_id,  # type: ignore[type-arg]
            )
            if name != item["name"]:
                events.append((self.FieldRenamed, {"field_id": field_id, "name": name}))
        new_type = item["type"]
        if field_type is not None and field_type != item["type"]:
            if field_type not in FIELD_TYPES:
                raise DomainError(f"must be one of {', '.join(FIELD_TYPES)}", "type")
            if (item["type"], field_type) not in COMPATIBLE_TYPE_CHANGES:
                raise DomainError(
                    f"a {item['type']} field cannot become a {field_type} field; only "
                    "text and textarea swap, and dropdown can become multiselect",
                    "type",
                )
            new_type = field_type
            events.append((self.FieldTypeChanged, {"field_id": field_id, "field_type": field_type}))
        flags = {
            "shown_in_details_and_list": item["shown_in_details_and_list"],
            "mandatory": item["mandatory"],
            "shown_in_reports": item["shown_in_reports"],
        }
        for key, value in (
            ("shown_in_details_and_list", shown_in_details_and_list),
            ("mandatory", mandatory),
            ("shown_in_reports", shown_in_reports),
        ):
            if value is not None:
                flags[key] = bool(value)
        if flags != {key: item[key] for key in flags}:  # type: ignore[literal-required]
            events.append((self.FieldFlagsChanged, {"field_id": field_id, **flags}))
        if hubspot_property_id is not self._UNSET:
            hubspot = self._clean_hubspot(hubspot_property_id, except_id=field_id)
            if hubspot != item["hubspot_property_id"]:
                events.append(
                    (
                        self.FieldHubSpotPropertyChanged,
                        {"field_id": field_id, "hubspot_property_id": hubspot},
                    )
                )
        if options is not None:
            cleaned = self._clean_options(new_type, options, item["options"])
            if cleaned != item["options"]:
                events.append(
                    (self.FieldOptionsChanged, {"field_id": field_id, "options": cleaned})
                )
        if archived is not None and bool(archived) != item["archived"]:
            event_class: type[CustomerSettings.Event] = (
                self.FieldArchived if archived else self.FieldRestored
            )
            events.append((event_class, {"field_id": field_id}))
        for event_class, kwargs in events:
            self._trigger(event_class, actor, **kwargs)
        return field_id

    def reorder_fields(self, actor: Actor, field_ids: Sequence[str]) -> None:
        """Put the additional fields in a new order; every field must be listed once."""
        listed = list(field_ids)
        if len(set(listed)) != len(listed):
            raise DomainError("a field is listed more than once", "field_ids")
        unknown = [fid for fid in listed if fid not in self.fields]
        if unknown:
            raise NotFoundError(f"no additional field with id '{unknown[0]}'", "field_ids")
        missing = [fid for fid in self.field_order if fid not in set(listed)]
        if missing:
            names = ", ".join(self.fields[fid]["name"] for fid in missing)
            raise DomainError(f"every field must be listed; missing: {names}", "field_ids")
        if listed != self.field_order:
            self._trigger(self.FieldsReordered, actor, field_ids=listed)

    # ---------------------------------------------------------------- views
    def type_view(self, item: CustomerTypeState) -> dict[str, Any]:
        view: dict[str, Any] = dict(item)
        for role in DEFAULT_ROLES:
            view[f"default_{role}"] = self.default_types.get(role) == item["id"]
        return view

    def as_dict(self) -> dict[str, Any]:
        """The whole settings as plain data (the read model of the HTTP API)."""
        return {
            "tenant_id": self.tenant_id,
            "version": self.version,
            "customer_types": [self.type_view(t) for t in self.customer_types.values()],
            "default_types": {role: self.default_types.get(role) for role in DEFAULT_ROLES},
            "customer_groups": [dict(g) for g in self.customer_groups.values()],
            "company_groups": [dict(g) for g in self.company_groups.values()],
            "multi_company": dict(self.multi_company),
            "hierarchy_filter": self.hierarchy_filter,
            "numbering": dict(self.numbering),
            "fields": [deepcopy(self.fields[fid]) for fid in self.field_order],
        }
