"""Payloads of the events on `customers.events.v1`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field

from .base import Contract

Kind = Literal["company", "subcontractor", "consumer"]


class Address(Contract):
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None


class Relationship(Contract):
    """One company's relationship with the customer."""

    type_id: UUID | None
    group_id: UUID | None
    account_manager_id: str | None
    team: str | None
    customer_team: str | None
    tags: list[str]


class Contact(Contract):
    id: UUID
    company_id: UUID | None = Field(description="The company that added the contact person")
    name: str
    email: str | None
    phone: str | None


ParentLinks = Annotated[
    dict[str, UUID] | None,
    Field(
        description="Each company's own link to a parent unit, by company id, the last made "
        "last (`parent_id` and `parent_company_id` are the last). Without a shared company "
        "structure a company sees only its own link. None in entries of changes made before "
        "the links were kept per company: then `parent_id` is the only link",
    ),
]


class CustomerCreated(Contract):
    type: Literal["CustomerCreated"] = "CustomerCreated"
    name: str
    kind: Kind
    number: str
    business_id: str | None
    company_group_id: UUID | None
    parent_id: UUID | None
    fields: dict[str, Any] = Field(
        description="Additional field values by field id: text, ISO date, true/false, an "
        "option id, or a list of option ids"
    )
    address: Address | None
    relationships: dict[str, Relationship] = Field(description="By company id")
    contacts: list[Contact]
    created_in: UUID | None = Field(description="The company whose user created the customer")
    request_key: str | None = Field(
        description="The import row (job id and row number) that created it, if any"
    )
    parent_company_id: UUID | None = Field(
        None, description="The company that linked the customer to its parent"
    )
    parents: ParentLinks = None


class CustomerDetailsChanged(Contract):
    """The shared details after the change; `changed` names what changed."""

    type: Literal["CustomerDetailsChanged"] = "CustomerDetailsChanged"
    changed: list[str]
    name: str
    kind: Kind
    business_id: str | None
    company_group_id: UUID | None
    parent_id: UUID | None
    fields: dict[str, Any]
    address: Address | None
    parent_company_id: UUID | None = Field(
        None, description="The company that linked the customer to its parent"
    )
    parents: ParentLinks = None


class CustomerNumberChanged(Contract):
    type: Literal["CustomerNumberChanged"] = "CustomerNumberChanged"
    number: str


class CustomerRelationshipSet(Contract):
    """A company's relationship with the customer as it is after the change."""

    type: Literal["CustomerRelationshipSet"] = "CustomerRelationshipSet"
    company_id: UUID
    relationship: Relationship


class ContactPersonAdded(Contract):
    type: Literal["ContactPersonAdded"] = "ContactPersonAdded"
    contact: Contact


class RowError(Contract):
    column: str = Field(description="The field the error is about")
    message: str


class RowOutcome(Contract):
    row: int
    outcome: Literal["created", "updated", "skipped", "failed"]
    customer_id: UUID | None = None
    number: str | None = None
    business_id: str | None = None
    column: str | None = Field(None, description="The field a failure is about")
    message: str | None = Field(
        None, description="What is wrong (every error of the row, with their fields, if several)"
    )
    errors: list[RowError] | None = Field(
        None, description="A failure's errors one by one, when there are several"
    )
    changed: bool | None = Field(
        None,
        description="Of an `updated` row: whether it changed anything of the customer (false: "
        "every value was as the customer had it, and no event was stored)",
    )


class ImportedCustomer(Contract):
    """A customer an import batch created: what its own `CustomerCreated` entry would carry."""

    event_id: UUID = Field(description="The id of its creation, as its own entry would have it")
    aggregate_id: UUID = Field(description="The customer's id")
    aggregate_version: int
    position: int = Field(description="The position of its creation in the service's log")
    occurred_at: datetime
    payload: CustomerCreated


class ImportBatchExecuted(Contract):
    """What became of each row of a batch, and the customers it created.

    The customers a batch created are published here, in `created`, and not as a
    `CustomerCreated` entry each: an import creates customers by the hundred thousand, and one
    entry per batch is what lets Redis, the importer and every other consumer keep up."""

    type: Literal["ImportBatchExecuted"] = "ImportBatchExecuted"
    job_id: UUID
    batch: int
    outcomes: list[RowOutcome] = Field(
        description="Each row's outcome; none when the batch was not executed because its "
        "import was cancelled while the batch was on its way"
    )
    created: list[ImportedCustomer] = Field(
        default_factory=list,
        description="The customers the batch created, in the order of their creation, each "
        "with the identity, position and payload its own `CustomerCreated` entry would have",
    )


CustomerPayload = Annotated[
    CustomerCreated
    | CustomerDetailsChanged
    | CustomerNumberChanged
    | CustomerRelationshipSet
    | ContactPersonAdded
    | ImportBatchExecuted,
    Field(discriminator="type"),
]
