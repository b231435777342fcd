"""Request and response models of the customers HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal["company", "subcontractor", "consumer"]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AddressIn(Input):
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None


class RelationshipIn(Input):
    """The caller's company's relationship with the customer."""

    type_id: str | None = Field(None, description="Default: the default type for the kind")
    group_id: str | None = None
    account_manager_id: str | None = Field(None, description="A user id of the tenant")
    team: str | None = None
    customer_team: str | None = None
    tags: list[str] | None = None


class ContactIn(Input):
    name: str
    email: str | None = None
    phone: str | None = None


class CustomerCreate(Input):
    name: str = Field(examples=["Rakennus Oy"])
    kind: Kind = "company"
    number: str | int | None = Field(
        None, description="Required in manual numbering; in automatic numbering, if free"
    )
    business_id: str | None = Field(None, description="Y-tunnus, e.g. 1234567-8")
    company_group_id: str | None = None
    parent_id: str | None = Field(None, description="The parent unit's customer id")
    fields: dict[str, Any] = Field(
        default_factory=dict,
        description="Additional field values by field id: text, date (2026-11-27 or "
        "27.11.2026), true/false, an option's id or name, a list of them, an http(s) link",
    )
    address: AddressIn | None = None
    relationship: RelationshipIn | None = None
    contacts: list[ContactIn] = Field(default_factory=list)


class CustomerUpdate(Input):
    """Only the fields sent change; `fields` changes only the field ids it names."""

    name: str | None = None
    kind: Kind | None = None
    number: str | int | None = None
    business_id: str | None = None
    company_group_id: str | None = None
    parent_id: str | None = None
    fields: dict[str, Any] | None = None
    address: AddressIn | None = None
    relationship: RelationshipIn | None = None


class ContactPublic(BaseModel):
    id: str
    company_id: str | None
    name: str
    email: str | None
    phone: str | None


class RelationshipPublic(BaseModel):
    company_id: str
    type_id: str | None
    invoicing_allowed: bool = Field(description="Whether sales invoicing is allowed (its type)")
    group_id: str | None
    account_manager_id: str | None
    team: str | None
    customer_team: str | None
    tags: list[str]


class CustomerPublic(BaseModel):
    id: str
    tenant_id: str
    version: int = Field(description="Also the ETag")
    number: str
    name: str
    kind: Kind
    business_id: str | None
    company_group_id: str | None
    parent_id: str | None
    fields: dict[str, Any]
    address: dict[str, Any] | None
    relationships: list[RelationshipPublic]
    contacts: list[ContactPublic]
    created_in: str | None
    parent_company_id: str | None = Field(
        None, description="The company that linked the customer to its parent"
    )
    created_at: datetime
    updated_at: datetime


class CustomerPage(BaseModel):
    items: list[CustomerPublic]
    total: int = Field(description="Customers matching the filters that the caller may see")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")


class CustomerHistoryEntry(BaseModel):
    position: int | None
    version: int
    occurred_at: datetime
    actor: dict[str, str]
    type: str
    before: Any
    after: Any


class CustomerHistoryPage(BaseModel):
    items: list[CustomerHistoryEntry]
    total: int
    next_cursor: int | None


class ReportRow(BaseModel):
    key: str | None = Field(description="The type, group, company group or kind (null: none)")
    name: str
    count: int
