"""Payloads of the events on `settings.events.v1`: tenants and customer settings.

Field names equal the stored events' attribute names, so the translation is mechanical.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from .base import Contract

HierarchyFilter = Literal["all", "parents", "subunits", "unlinked"]
FieldType = Literal["text", "textarea", "dropdown", "date", "checkbox", "multiselect", "link"]
DefaultRole = Literal["customer", "subcontractor", "consumer"]


# ---------------------------------------------------------------- parts
class Company(Contract):
    id: UUID
    name: str


class User(Contract):
    id: str
    name: str
    company_id: UUID
    company_ids: list[UUID]
    roles: list[str]


class CustomerType(Contract):
    id: UUID
    name: str
    builtin: str | None = Field(description="`asiakas` or `alihankkija` for the built-in types")
    invoicing_allowed: bool
    archived: bool


class DefaultTypes(Contract):
    customer: UUID | None
    subcontractor: UUID | None
    consumer: UUID | None


class Numbering(Contract):
    mode: Literal["automatic", "manual"]
    next_number: int


class MultiCompany(Contract):
    see_other_companies_customers: bool
    hide_other_companies_details: bool
    default_relationship_type_id: UUID | None
    share_company_structure: bool
    account_manager_from_any_company: bool
    customer_group_mandatory: bool


class Option(Contract):
    id: UUID
    name: str
    archived: bool


# ---------------------------------------------------------------- tenant events
class TenantCreated(Contract):
    type: Literal["TenantCreated"] = "TenantCreated"
    name: str
    companies: list[Company]
    users: list[User]


class CompanyAdded(Contract):
    type: Literal["CompanyAdded"] = "CompanyAdded"
    company_id: UUID
    name: str
    granted_to: list[str] = Field(description="Users who got access to the new company")


class UserAdded(Contract):
    type: Literal["UserAdded"] = "UserAdded"
    user_id: str
    name: str
    company_id: UUID
    company_ids: list[UUID]
    roles: list[str]


# ---------------------------------------------------------------- settings events
class CustomerSettingsCreated(Contract):
    type: Literal["CustomerSettingsCreated"] = "CustomerSettingsCreated"
    customer_types: list[CustomerType]
    default_types: DefaultTypes
    numbering: Numbering
    hierarchy_filter: HierarchyFilter
    multi_company: MultiCompany


class CustomerTypeAdded(Contract):
    type: Literal["CustomerTypeAdded"] = "CustomerTypeAdded"
    type_id: UUID
    name: str
    invoicing_allowed: bool


class CustomerTypeRenamed(Contract):
    type: Literal["CustomerTypeRenamed"] = "CustomerTypeRenamed"
    type_id: UUID
    name: str


class CustomerTypeInvoicingChanged(Contract):
    type: Literal["CustomerTypeInvoicingChanged"] = "CustomerTypeInvoicingChanged"
    type_id: UUID
    invoicing_allowed: bool


class CustomerTypeArchived(Contract):
    type: Literal["CustomerTypeArchived"] = "CustomerTypeArchived"
    type_id: UUID


class CustomerTypeRestored(Contract):
    type: Literal["CustomerTypeRestored"] = "CustomerTypeRestored"
    type_id: UUID


class DefaultCustomerTypeSet(Contract):
    """The default type for a kind of customer moved (`type_id` null: no default)."""

    type: Literal["DefaultCustomerTypeSet"] = "DefaultCustomerTypeSet"
    role: DefaultRole
    type_id: UUID | None


class CustomerGroupAdded(Contract):
    type: Literal["CustomerGroupAdded"] = "CustomerGroupAdded"
    group_id: UUID
    name: str
    integration_id: str | None


class CustomerGroupRenamed(Contract):
    type: Literal["CustomerGroupRenamed"] = "CustomerGroupRenamed"
    group_id: UUID
    name: str


class CustomerGroupIntegrationIdChanged(Contract):
    type: Literal["CustomerGroupIntegrationIdChanged"] = "CustomerGroupIntegrationIdChanged"
    group_id: UUID
    integration_id: str | None


class CustomerGroupArchived(Contract):
    type: Literal["CustomerGroupArchived"] = "CustomerGroupArchived"
    group_id: UUID


class CustomerGroupRestored(Contract):
    type: Literal["CustomerGroupRestored"] = "CustomerGroupRestored"
    group_id: UUID


class CompanyGroupAdded(Contract):
    type: Literal["CompanyGroupAdded"] = "CompanyGroupAdded"
    group_id: UUID
    name: str


class CompanyGroupRenamed(Contract):
    type: Literal["CompanyGroupRenamed"] = "CompanyGroupRenamed"
    group_id: UUID
    name: str


class CompanyGroupArchived(Contract):
    type: Literal["CompanyGroupArchived"] = "CompanyGroupArchived"
    group_id: UUID


class CompanyGroupRestored(Contract):
    type: Literal["CompanyGroupRestored"] = "CompanyGroupRestored"
    group_id: UUID


class MultiCompanySettingsChanged(MultiCompany):
    """The whole multi-company section after the change."""

    type: Literal["MultiCompanySettingsChanged"] = "MultiCompanySettingsChanged"


class HierarchyFilterChanged(Contract):
    type: Literal["HierarchyFilterChanged"] = "HierarchyFilterChanged"
    hierarchy_filter: HierarchyFilter


class NumberingChanged(Contract):
    type: Literal["NumberingChanged"] = "NumberingChanged"
    mode: Literal["automatic", "manual"]
    next_number: int


class FieldAdded(Contract):
    type: Literal["FieldAdded"] = "FieldAdded"
    field_id: UUID
    name: str
    field_type: FieldType
    options: list[Option]
    shown_in_details_and_list: bool
    mandatory: bool
    shown_in_reports: bool
    hubspot_property_id: str | None


class FieldRenamed(Contract):
    type: Literal["FieldRenamed"] = "FieldRenamed"
    field_id: UUID
    name: str


class FieldTypeChanged(Contract):
    type: Literal["FieldTypeChanged"] = "FieldTypeChanged"
    field_id: UUID
    field_type: FieldType


class FieldFlagsChanged(Contract):
    type: Literal["FieldFlagsChanged"] = "FieldFlagsChanged"
    field_id: UUID
    shown_in_details_and_list: bool
    mandatory: bool
    shown_in_reports: bool


class FieldHubSpotPropertyChanged(Contract):
    type: Literal["FieldHubSpotPropertyChanged"] = "FieldHubSpotPropertyChanged"
    field_id: UUID
    hubspot_property_id: str | None


class FieldOptionsChanged(Contract):
    """The field's whole option list in its new order (archived ones included)."""

    type: Literal["FieldOptionsChanged"] = "FieldOptionsChanged"
    field_id: UUID
    options: list[Option]


class FieldArchived(Contract):
    type: Literal["FieldArchived"] = "FieldArchived"
    field_id: UUID


class FieldRestored(Contract):
    type: Literal["FieldRestored"] = "FieldRestored"
    field_id: UUID


class FieldsReordered(Contract):
    type: Literal["FieldsReordered"] = "FieldsReordered"
    field_ids: list[UUID]


SettingsPayload = Annotated[
    TenantCreated
    | CompanyAdded
    | UserAdded
    | CustomerSettingsCreated
    | CustomerTypeAdded
    | CustomerTypeRenamed
    | CustomerTypeInvoicingChanged
    | CustomerTypeArchived
    | CustomerTypeRestored
    | DefaultCustomerTypeSet
    | CustomerGroupAdded
    | CustomerGroupRenamed
    | CustomerGroupIntegrationIdChanged
    | CustomerGroupArchived
    | CustomerGroupRestored
    | CompanyGroupAdded
    | CompanyGroupRenamed
    | CompanyGroupArchived
    | CompanyGroupRestored
    | MultiCompanySettingsChanged
    | HierarchyFilterChanged
    | NumberingChanged
    | FieldAdded
    | FieldRenamed
    | FieldTypeChanged
    | FieldFlagsChanged
    | FieldHubSpotPropertyChanged
    | FieldOptionsChanged
    | FieldArchived
    | FieldRestored
    | FieldsReordered,
    Field(discriminator="type"),
]
