"""Translation of the importer's stored batches to `customers.commands.v1` envelopes.

A batch's command is published from JSON built directly (`command_json`): the same bytes as
validating the envelope model and dumping it (a test holds them equal), at a fraction of the
cost, which the relay pays for every row of every import. A value not in its plain form takes
the model's way.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any
from uuid import UUID, uuid5

import orjson
from pydantic import TypeAdapter

from contracts import CommandEnvelope
from psa.publishing import PublishedJSON, build_envelope, plain_uuid

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
        if event.timestamp.tzinfo is not UTC or type(event.batch) is not int:
            return None
        if type(event.update_existing) is not bool:
            return None
        for row in event.rows:
            if (
                list(row) != _ROW_KEYS
                or type(row["row"]) is not int
                or type(row["key"]) is not str
                or type(row["customer"]) is not dict
                or not (row["parent_number"] is None or type(row["parent_number"]) is str)
            ):
                return None
        tenant_id = plain_uuid(event.tenant_id, required=True)
        envelope = {
            "event_id": str(uuid5(event.originator_id, str(event.originator_version))),
            "type": NAME,
            "schema_version": 1,
            "tenant_id": tenant_id,
            "aggregate_id": str(event.originator_id),
            "aggregate_version": event.originator_version,
            "position": position,
            "occurred_at": event.timestamp,
            "actor": {"id": _text(event.actor_id), "name": _text(event.actor_name)},
            "payload": {
                "type": NAME,
                "job_id": plain_uuid(event.job_id, required=True),
                "batch": event.batch,
                "company_id": plain_uuid(event.company_id, required=True),
                "update_existing": event.update_existing,
                "rows": event.rows,
            },
        }
        # A value orjson cannot write as the model does (an integer beyond 64 bits) fails
        # here; text, numbers, booleans and None it writes alike (a test holds them equal).
        body = orjson.dumps(envelope, option=orjson.OPT_UTC_Z)
    except (KeyError, TypeError, ValueError, AttributeError, orjson.JSONEncodeError):
        return None
    assert tenant_id is not None
    return PublishedJSON(body, NAME, tenant_id, envelope["event_id"])


_ROW_KEYS = ["row", "key", "customer", "parent_number"]


def _text(value: Any) -> str:
    if type(value) is not str:
        raise ValueError(value)
    return value
