"""The `CustomerSettings` aggregate: every setting of the customer section of one tenant.

Each section lives in its own module (customer types, groups, additional fields, the general
sections) with its events and commands; this class puts them together. Commands check every
rule first and only then trigger events, so a refused command leaves the aggregate untouched.
An event's `apply` is the only place that changes state, which is what lets the history replay
the events and show each change's before/after.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any, ClassVar, cast
from uuid import UUID

from eventsourcing.domain import Aggregate

from .base import SettingsEvent
from .common import Actor, PlainStateCopy
from .customer_types import CustomerTypes
from .fields import AdditionalFields
from .groups import CompanyGroups, CustomerGroups
from .sections import GeneralSections
from .state import (
    BUILTIN_TYPES,
    DEFAULT_ROLES,
    CompanyGroupState,
    CustomerGroupState,
    CustomerTypeState,
    FieldState,
    MultiCompanyState,
    NumberingState,
    builtin_type_id,
    settings_id,
)


class CustomerSettings(
    CustomerTypes,
    CustomerGroups,
    CompanyGroups,
    AdditionalFields,
    GeneralSections,
    PlainStateCopy,
    Aggregate,
):
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

    Event = SettingsEvent

    class Created(SettingsEvent, Aggregate.Created):
        type_name: ClassVar[str] = "CustomerSettingsCreated"
        customer_types: list[CustomerTypeState]
        default_types: dict[str, str | None]
        numbering: NumberingState
        hierarchy_filter: str
        multi_company: MultiCompanyState

        def apply(self, settings: Any) -> None:
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

        def subject(self, settings: Any) -> Any:
            return settings.as_dict() if getattr(settings, "tenant_id", None) else None

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

    # ---------------------------------------------------------------- views
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
