"""Translation of stored events to the published contracts (`settings.events.v1`).

The stored event classes and the published schema evolve separately; this is the one place
where one becomes the other.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from pydantic import TypeAdapter

from contracts import SettingsEnvelope

from .domainmodel import SettingsEvent, Tenant, event_type

_ENVELOPE: TypeAdapter[SettingsEnvelope] = TypeAdapter(SettingsEnvelope)
_NOT_PAYLOAD = {
    "originator_id",
    "originator_version",
    "originator_topic",
    "timestamp",
    "actor_id",
    "actor_name",
    "tenant_id",
}


def tenant_of(event: Any) -> UUID:
    """Tenant events are about the tenant itself; settings events name their tenant."""
    if isinstance(event, Tenant.Event):
        return UUID(str(event.originator_id))
    if isinstance(event, SettingsEvent):
        return UUID(event.tenant_id)
    raise TypeError(f"not a settings or tenant event: {type(event).__name__}")


def to_envelope(event: Any, position: int) -> SettingsEnvelope:
    """The published form of a stored settings or tenant event at a log position."""
    name = event_type(event)
    payload = {k: v for k, v in vars(event).items() if k not in _NOT_PAYLOAD}
    payload["type"] = name
    return _ENVELOPE.validate_python(
        {
            "event_id": uuid5(event.originator_id, str(event.originator_version)),
            "type": name,
            "schema_version": 1,
            "tenant_id": tenant_of(event),
            "aggregate_id": event.originator_id,
            "aggregate_version": event.originator_version,
            "position": position,
            "occurred_at": event.timestamp,
            "actor": {"id": event.actor_id, "name": event.actor_name},
            "payload": payload,
        }
    )
