"""Request and response models of the settings HTTP API (they become the OpenAPI docs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

FieldTypeName = Literal["text", "textarea", "dropdown", "date", "checkbox", "multiselect", "link"]


class Input(BaseModel):
    """Requests refuse unknown fields, so a typo is an error instead of a silent no-op."""

    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- tenants
class AdminCreate(Input):
    id: str = Field("admin", description="User id of the tenant's first admin")
    name: str = Field("Admin", description="Display name of the first admin")


class TenantCreate(Input):
    name: str = Field(examples=["Konserni Oy"])
    companies: list[str] = Field(min_length=1, examples=[["Yhtiö A", "Yhtiö B"]])
    admin: AdminCreate = Field(default_factory=AdminCreate)


class CompanyCreate(Input):
    name: str


class UserCreate(Input):
    id: str = Field(description="The user's id (the `sub` of their tokens)")
    name: str
    company_id: str = Field(description="The user's own company")
    company_ids: list[str] = Field(
        default_factory=list, description="Other companies the user has access to"
    )
    roles: list[Literal["admin", "user"]] = Field(default_factory=lambda: ["user"])  # type: ignore[arg-type]


class CompanyPublic(BaseModel):
    id: str
    name: str


class UserPublic(BaseModel):
    id: str
    name: str
    company_id: str
    company_ids: list[str]
    roles: list[str]


class TenantPublic(BaseModel):
    id: str
    name: str
    version: int
    multi_company: bool
    companies: list[CompanyPublic]
    users: list[UserPublic]


# ---------------------------------------------------------------- settings parts
class CustomerTypePublic(BaseModel):
    id: str
    name: str
    builtin: str | None = Field(description="`asiakas` or `alihankkija` for the built-in types")
    invoicing_allowed: bool
    archived: bool
    default_customer: bool
    default_subcontractor: bool
    default_consumer: bool


class CustomerTypeCreate(Input):
    name: str = Field(examples=["Prospekti"])
    invoicing_allowed: StrictBool = True
    default_customer: StrictBool = False
    default_subcontractor: StrictBool = False
    default_consumer: StrictBool = False


class CustomerTypeUpdate(Input):
    name: str | None = None
    invoicing_allowed: StrictBool | None = None
    default_customer: StrictBool | None = None
    default_subcontractor: StrictBool | None = None
    default_consumer: StrictBool | None = None
    archived: StrictBool | None = None


class CustomerGroupPublic(BaseModel):
    id: str
    name: str
    integration_id: str | None
    archived: bool


class CustomerGroupCreate(Input):
    name: str = Field(examples=["Avainasiakkaat"])
    integration_id: str | None = None


class CustomerGroupUpdate(Input):
    name: str | None = None
    integration_id: str | None = Field(None, description="null clears it")
    archived: StrictBool | None = None


class CompanyGroupPublic(BaseModel):
    id: str
    name: str
    archived: bool


class CompanyGroupCreate(Input):
    name: str = Field(examples=["Julkinen sektori"])


class CompanyGroupUpdate(Input):
    name: str | None = None
    archived: StrictBool | None = None


class OptionPublic(BaseModel):
    id: str
    name: str
    archived: bool


class OptionInput(Input):
    id: str | None = Field(None, description="An existing option's id; leave out for a new one")
    name: str
    archived: StrictBool = False


class FieldPublic(BaseModel):
    id: str
    name: str
    type: FieldTypeName
    options: list[OptionPublic]
    shown_in_details_and_list: bool
    mandatory: bool
    shown_in_reports: bool
    hubspot_property_id: str | None
    archived: bool


class OptionCreate(Input):
    name: str


class FieldCreate(Input):
    name: str = Field(examples=["Toimiala"])
    type: FieldTypeName
    options: list[str | OptionCreate] = Field(
        default_factory=list, description="Dropdown and multiselect only, in order"
    )
    shown_in_details_and_list: StrictBool = True
    mandatory: StrictBool = False
    shown_in_reports: StrictBool = True
    hubspot_property_id: str | None = None


class FieldUpdate(Input):
    name: str | None = None
    type: FieldTypeName | None = Field(
        None, description="Only text<->textarea and dropdown->multiselect"
    )
    shown_in_details_and_list: StrictBool | None = None
    mandatory: StrictBool | None = None
    shown_in_reports: StrictBool | None = None
    hubspot_property_id: str | None = Field(None, description="null clears it")
    archived: StrictBool | None = None


class OptionsReplace(Input):
    options: list[OptionInput] = Field(
        description="Every option in its new order. Existing ones by id (rename or archive "
        "them here), new ones without an id; existing options left out are archived."
    )


class FieldOrder(Input):
    field_ids: list[str] = Field(description="Every field's id, in the new order")


class MultiCompanyPublic(BaseModel):
    see_other_companies_customers: bool = Field(
        description="1. All users see other companies' customers and their basic details"
    )
    hide_other_companies_details: bool = Field(
        description="2. Hide another company's account manager, team, customer team, "
        "customer group and tags"
    )
    default_relationship_type_id: str | None = Field(
        description="3. Customers added in one company get a relationship of this type in "
        "the others (null: none)"
    )
    share_company_structure: bool = Field(
        description="4. The customer hierarchy is shared with all companies"
    )
    account_manager_from_any_company: bool = Field(
        description="5. An account manager may come from any company"
    )
    customer_group_mandatory: bool = Field(
        description="6. A customer group is mandatory (any tenant)"
    )


class MultiCompanyUpdate(Input):
    """Settings left out keep their value."""

    see_other_companies_customers: StrictBool | None = None
    hide_other_companies_details: StrictBool | None = None
    default_relationship_type_id: str | None = Field(None, description="null unsets it")
    share_company_structure: StrictBool | None = None
    account_manager_from_any_company: StrictBool | None = None
    customer_group_mandatory: StrictBool | None = None


class NumberingPublic(BaseModel):
    mode: Literal["automatic", "manual"]
    next_number: int = Field(description="The next automatic number")


class NumberingUpdate(Input):
    mode: Literal["automatic", "manual"]
    next_number: StrictInt | None = Field(
        None,
        description="Automatic mode: the next number. It may be set lower: numbers already "
        "taken are skipped, so none is ever given twice.",
    )


class HierarchyFilterUpdate(Input):
    hierarchy_filter: Literal["all", "parents", "subunits", "unlinked"]


class HierarchyFilterPublic(BaseModel):
    hierarchy_filter: Literal["all", "parents", "subunits", "unlinked"]


class DefaultTypesPublic(BaseModel):
    customer: str | None
    subcontractor: str | None
    consumer: str | None


class SettingsPublic(BaseModel):
    tenant_id: str
    version: int = Field(description="Also the ETag")
    customer_types: list[CustomerTypePublic]
    default_types: DefaultTypesPublic
    customer_groups: list[CustomerGroupPublic]
    company_groups: list[CompanyGroupPublic]
    multi_company: MultiCompanyPublic
    hierarchy_filter: Literal["all", "parents", "subunits", "unlinked"]
    numbering: NumberingPublic
    fields: list[FieldPublic] = Field(description="Additional fields in their order")


class ActorPublic(BaseModel):
    id: str
    name: str


class HistoryEntryPublic(BaseModel):
    position: int | None = Field(
        description="Position in the service's event log (the stream entry id of this change)"
    )
    version: int = Field(description="Settings version after this change")
    occurred_at: datetime
    actor: ActorPublic
    type: str
    section: str
    before: Any
    after: Any


class HistoryPagePublic(BaseModel):
    items: list[HistoryEntryPublic]
    total: int = Field(description="Changes matching the filters")
    next_cursor: int | None = Field(description="Pass as `cursor` for the next page")
