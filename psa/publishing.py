"""Stored events to published envelopes: the part every service's translation shares."""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID, uuid5

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
