"""The plain data the settings are made of, the rules' constants, and deterministic ids."""

from __future__ import annotations

import re
from typing import Literal, TypedDict
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

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


def new_id() -> str:
    return str(uuid4())
