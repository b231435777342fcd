"""Stored events to published envelopes: the part every service's translation shares."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC
from typing import Any, TypeVar
from uuid import UUID, uuid5

import orjson
from pydantic import TypeAdapter

E = TypeVar("E")

# Attributes of a stored event that go in the envelope, not in its payload.
NOT_PAYLOAD = frozenset(
    {
        "originator_id",
        "originator_version",
        "originator_topic",
        "timestamp",
        "actor_id",
        "actor_name",
        "tenant_id",
    }
)


@dataclass(frozen=True)
class PublishedJSON:
    """An envelope already in its published JSON, built directly where the relay publishes
    by the thousand (the same bytes the envelope model writes; tests hold them equal)."""

    published_json: bytes
    type: str
    tenant_id: str
    event_id: str


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def plain_uuid(value: Any, required: bool = False) -> str | None:
    """An id as the model writes it; ValueError if the model would write it otherwise."""
    if value is None and not required:
        return None
    if type(value) is not str or not _UUID.fullmatch(value):
        raise ValueError(value)
    return value


def plain_text(value: Any, required: bool = False) -> str | None:
    """A text as the model writes it; ValueError if it is not one."""
    if (value is not None or required) and type(value) is not str:
        raise ValueError(value)
    return value  # type: ignore[no-any-return]


def plain_envelope(event: Any, name: str, position: int, payload: dict[str, Any]) -> dict[str, Any]:
    """The envelope of a stored event as plain data, which orjson writes exactly as the
    envelope model does (`published`); ValueError when a value of the envelope is not in
    the plain form that guarantees it. `payload` is the payload after its `type`."""
    if event.timestamp.tzinfo is not UTC:
        raise ValueError(event.timestamp)
    return {
        "event_id": str(uuid5(event.originator_id, str(event.originator_version))),
        "type": name,
        "schema_version": 1,
        "tenant_id": plain_uuid(event.tenant_id, required=True),
        "aggregate_id": str(event.originator_id),
        "aggregate_version": event.originator_version,
        "position": position,
        "occurred_at": event.timestamp,
        "actor": {
            "id": plain_text(event.actor_id, required=True),
            "name": plain_text(event.actor_name, required=True),
        },
        "payload": {"type": name, **payload},
    }


def published(envelope: dict[str, Any]) -> PublishedJSON:
    """`plain_envelope`'s envelope in its published JSON; orjson.JSONEncodeError for a value
    it cannot write as the model does (an integer beyond 64 bits)."""
    body = orjson.dumps(envelope, option=orjson.OPT_UTC_Z)
    return PublishedJSON(body, envelope["type"], envelope["tenant_id"], envelope["event_id"])


def build_envelope(
    adapter: TypeAdapter[E], event: Any, name: str, tenant_id: UUID, position: int
) -> E:
    """The envelope of a stored event: payload fields are the event's own attributes."""
    payload = {k: v for k, v in vars(event).items() if k not in NOT_PAYLOAD}
    payload["type"] = name
    return adapter.validate_python(
        {
            # The same event always has the same id, so consumers can recognise a re-publish.
            "event_id": uuid5(event.originator_id, str(event.originator_version)),
            "type": name,
            "schema_version": 1,
            "tenant_id": tenant_id,
            "aggregate_id": event.originator_id,
            "aggregate_version": event.originator_version,
            "position": position,
            "occurred_at": event.timestamp,
            "actor": {"id": event.actor_id, "name": event.actor_name},
            "payload": payload,
        }
    )
