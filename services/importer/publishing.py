"""Translation of the importer's stored batches to `customers.commands.v1` envelopes.

A batch's command is published from JSON built directly (`command_json`): the same bytes as
validating the envelope model and dumping it (a test holds them equal), at a fraction of the
cost, which the relay pays for every row of every import. A value not in its plain form takes
the model's way.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
from pydantic import TypeAdapter

from contracts import CommandEnvelope
from psa.publishing import PublishedJSON, build_envelope, plain_envelope, plain_uuid, published

from .domainmodel import ImportBatch

_ENVELOPE: TypeAdapter[CommandEnvelope] = TypeAdapter(CommandEnvelope)
NAME = "ImportBatchQueued"


def published_topics() -> list[str]:
    from eventsourcing.utils import get_topic

    return [get_topic(ImportBatch.Queued), get_topic(ImportBatch.Requeued)]


def to_envelope(event: Any, position: int) -> CommandEnvelope | PublishedJSON | None:
    """A batch's command; sent again (`Requeued`), it is the same command with its own id."""
    if not isinstance(event, ImportBatch.Queued | ImportBatch.Requeued):
        return None
    fast = command_json(event, position)
    if fast is not None:
        return fast
    return build_envelope(_ENVELOPE, event, NAME, UUID(event.tenant_id), position)


def command_json(event: Any, position: int) -> PublishedJSON | None:
    """The envelope JSON of a batch's command, built directly; None when a value is not in
    the plain form that guarantees the model's bytes."""
    try:
        if type(event.batch) is not int or type(event.update_existing) is not bool:
            return None
        reserved = event.reserved_numbers
        if not (
            reserved is None or (type(reserved) is list and all(type(n) is str for n in reserved))
        ):
            return None
        for row in event.rows:
            if (
                list(row) != _ROW_KEYS
                or type(row["row"]) is not int
                or type(row["key"]) is not str
                or type(row["customer"]) is not dict
                or not (row["parent_number"] is None or type(row["parent_number"]) is str)
                or not (
                    row["given"] is None
                    or (type(row["given"]) is list and all(type(n) is str for n in row["given"]))
                )
                or not (row["identity"] is None or type(row["identity"]) is str)
            ):
                return None
        # Text, numbers, booleans and None in a row's customer orjson writes as the model
        # does (a test holds them equal); an integer beyond 64 bits it cannot write at all.
        return published(
            plain_envelope(
                event,
                NAME,
                position,
                {
                    "job_id": plain_uuid(event.job_id, required=True),
                    "batch": event.batch,
                    "company_id": plain_uuid(event.company_id, required=True),
                    "update_existing": event.update_existing,
                    "rows": event.rows,
                    "reserved_numbers": reserved,
                },
            )
        )
    except (KeyError, TypeError, ValueError, AttributeError, orjson.JSONEncodeError):
        return None


_ROW_KEYS = ["row", "key", "customer", "parent_number", "given", "identity"]
