"""Bulk imports between the importer and the customers service: batches of rows on
`customers.commands.v1`, and each batch's outcome, row by row, on `customers.events.v1`."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field

from .base import Contract


class ImportRow(Contract):
    """One checked row of an import file."""

    row: int = Field(description="The row's number in the file (the header is row 1)")
    key: str = Field(
        description="Job id and row number: the customer the row creates has an id derived "
        "from it, so a row delivered twice never creates two customers"
    )
    customer: dict[str, Any] = Field(
        description="The customer as the customers API takes it on create (`POST "
        "/api/v1/customers`), ids resolved from the names in the file, plus `contact`"
    )
    parent_number: str | None = Field(
        None, description="The number of the customer's parent, in the file or the register"
    )


class ImportBatchQueued(Contract):
    """Rows for the customers service to create (or, with `update_existing`, update)."""

    type: Literal["ImportBatchQueued"] = "ImportBatchQueued"
    job_id: UUID
    batch: int = Field(description="The batch's number in its job, from 1")
    company_id: UUID = Field(description="The company of the admin who imports")
    update_existing: bool
    rows: list[ImportRow]


class RowOutcome(Contract):
    row: int
    outcome: Literal["created", "updated", "skipped", "failed"]
    customer_id: UUID | None = None
    number: str | None = None
    business_id: str | None = None
    column: str | None = Field(None, description="The field a failure is about")
    message: str | None = None


class ImportBatchExecuted(Contract):
    """What became of each row of a batch."""

    type: Literal["ImportBatchExecuted"] = "ImportBatchExecuted"
    job_id: UUID
    batch: int
    outcomes: list[RowOutcome]


CommandPayload = Annotated[ImportBatchQueued, Field(discriminator="type")]
