"""Bulk imports between the importer and the customers service: batches of rows on
`customers.commands.v1`; each batch's outcome, row by row, is `ImportBatchExecuted` on
`customers.events.v1` (in `customers.py`, with the other events of that stream)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import Field

from .base import Contract
from .customers import ImportBatchExecuted, RowOutcome

IMPORT_NAMESPACE = uuid5(NAMESPACE_URL, "urn:psa:customer-import-row")


def import_row_customer_id(tenant_id: UUID | str, key: str) -> UUID:
    """The id of the customer an import row creates, derived from the row's key (or its
    `identity`), so a row delivered twice can never create two customers (and the importer
    knows its own)."""
    return uuid5(IMPORT_NAMESPACE, f"{tenant_id}:{key}")


def cancelled_import_key(commands_stream: str, job_id: UUID | str) -> str:
    """The Redis key the importer sets when an import is cancelled with batches on their way
    (`<customers.commands.v1>.cancelled:<job id>`): the customers service records such a batch
    as not executed (`ImportBatchExecuted` without outcomes) instead of creating its
    customers. A hint: without it, the batches already sent are executed."""
    return f"{commands_stream}.cancelled:{job_id}"


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
    given: list[str] | None = Field(
        None,
        description="With `update_existing`: the values the file gives (`name`, `kind`, "
        "`business_id`, `company_group_id`, `address.<part>`, `relationship.<key>`; "
        "additional fields are in `customer.fields` only when given). A customer the row "
        "updates takes these and keeps the rest. None: every non-empty value of `customer`.",
    )
    identity: str | None = Field(
        None,
        description="A row without a business id or a number: a digest of its values (and "
        "the importing company). The customer it creates has an id derived from this instead "
        "of `key`, so the same row imported again (by another job) finds that customer and is "
        "skipped instead of creating a second one. None: the id derives from `key`.",
    )


class ImportBatchQueued(Contract):
    """Rows for the customers service to create (or, with `update_existing`, update)."""

    type: Literal["ImportBatchQueued"] = "ImportBatchQueued"
    job_id: UUID
    batch: int = Field(description="The batch's number in its job, from 1")
    company_id: UUID = Field(description="The company of the admin who imports")
    update_existing: bool
    rows: list[ImportRow]
    reserved_numbers: list[str] | None = Field(
        None,
        description="Numbers that rows of the job's later batches give: automatic numbers "
        "skip them, so that those rows keep their numbers (rows below a customer without a "
        "number in the file come after it). None: no such numbers.",
    )


CommandPayload = Annotated[ImportBatchQueued, Field(discriminator="type")]

__all__ = [
    "CommandPayload",
    "ImportBatchExecuted",
    "ImportBatchQueued",
    "ImportRow",
    "RowOutcome",
    "cancelled_import_key",
    "import_row_customer_id",
]
