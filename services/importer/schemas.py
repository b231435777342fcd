"""The import API's responses, as its OpenAPI document describes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from contracts.envelope import ActorRef
from psa.problems import PROBLEM_JSON

Status = Literal[
    "queued", "validating", "running", "completed", "completed_with_errors", "failed", "cancelled"
]


class ImportOptions(BaseModel):
    dry_run: bool = Field(description="Check and report only; nothing is created")
    skip_errors: bool = Field(
        description="Import the valid rows and report the others (else one invalid row "
        "stops the import before anything is created)"
    )
    update_existing: bool = Field(
        description="A row whose business id (else number) is an existing customer's updates "
        "it with the values the file gives (else it is skipped and reported)"
    )


class BatchProgress(BaseModel):
    queued: int | None = Field(
        description="The import's batches for the customers service, once all are sent "
        "(null while they are being sent)"
    )
    executed: int = Field(description="Batches it has reported the outcome of")


class ImportJobPublic(BaseModel):
    """An import: its status, what it has done so far, and when."""

    id: str
    status: Status
    filename: str
    options: ImportOptions
    total_rows: int = Field(
        description="Data rows in the file: while `validating` an estimate from its lines (or "
        "a workbook's recorded size; 0 if none), exact once the file is checked"
    )
    checked: int = Field(
        description="Rows of the file checked so far (while `validating`; then all of them)"
    )
    processed: int = Field(
        description="Rows with an outcome: once the file is checked, those found invalid and "
        "those the customers service has executed (every row when the job ends; never "
        "decreasing)"
    )
    created: int = Field(description="Customers created (in a dry run: that would be)")
    updated: int = Field(
        description="Customers updated: rows that changed something of the customer they "
        "found (in a dry run: every row that would update one)"
    )
    unchanged: int = Field(
        0,
        description="Rows that found a customer to update and changed nothing of it (every "
        "value was as the customer had it)",
    )
    skipped: int = Field(description="Rows of customers that exist already")
    failed: int = Field(description="Rows with errors (see `/errors`)")
    unknown_columns: list[str] = Field(description="Columns of the file that are not imported")
    problem: str | None = Field(description="Why the import failed or stopped, if it did")
    problem_fi: str | None = Field(None, description="`problem` in Finnish")
    cancel_requested: bool
    created_by: ActorRef
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    version: int
    batches: BatchProgress | None = Field(None, description="While running")


class ImportJobPage(BaseModel):
    items: list[ImportJobPublic]
    total: int
    next_offset: int | None = Field(description="`offset` of the next page; null on the last")


class ImportRowError(BaseModel):
    row: int = Field(description="The row's number in the file (the header is row 1)")
    column: str = Field(description="The column's header in the file")
    message: str
    message_fi: str = Field(
        description="The message in Finnish (as the CSV report gives it); the English one "
        "where no translation is known"
    )


class ImportErrorPage(BaseModel):
    items: list[ImportRowError]
    total: int
    next_offset: int | None = Field(description="`offset` of the next page; null on the last")


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries of the problem details (RFC 9457) an endpoint may answer with."""
    schema = {
        "type": "object",
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    }
    return {
        status: {
            "description": DESCRIPTIONS[status],
            "content": {PROBLEM_JSON: {"schema": schema}},
        }
        for status in statuses
    }


DESCRIPTIONS = {
    401: "No valid token",
    403: "Not an admin of the tenant",
    404: "No such import (or another tenant's)",
    409: "The import's state does not allow it",
    413: "The file is too large",
    422: "Invalid input, each error naming its field (`file`, `mapping`, an option)",
    503: "The tenant's settings have not reached the importer yet: retry in a moment",
}
