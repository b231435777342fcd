"""Translation of stored customer events to `customers.events.v1` envelopes.

Numbering events (the counter and the number index) are internal: they are not published.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from pydantic import TypeAdapter

from contracts import CustomerEnvelope

from .domainmodel.customer import CustomerEvent

_ENVELOPE: TypeAdapter[CustomerEnvelope] = TypeAdapter(CustomerEnvelope)
_NOT_PAYLOAD = {
    "originator_id",
    "originator_version",
    "originator_topic",
    "timestamp",
    "actor_id",
    "actor_name",
    "tenant_id",
}


def published_topics() -> list[str]:
    """The stored event types that are published (the relay reads only these)."""
    from eventsourcing.utils import get_topic

    from .domainmodel.customer import Customer

    return [
        get_topic(cls)
        for cls in (
            Customer.Created,
            Customer.DetailsChanged,
            Customer.NumberChanged,
            Customer.RelationshipSet,
            Customer.ContactPersonAdded,
        )
    ]


def to_envelope(event: Any, position: int) -> CustomerEnvelope | None:
    """The published form of a stored customer event; None for internal events."""
    if not isinstance(event, CustomerEvent):
        return None
    name = str(getattr(type(event), "type_name", type(event).__name__))
    payload = {k: v for k, v in vars(event).items() if k not in _NOT_PAYLOAD}
    payload["type"] = name
    return _ENVELOPE.validate_python(
        {
            "event_id": uuid5(event.originator_id, str(event.originator_version)),
            "type": name,
            "schema_version": 1,
            "tenant_id": UUID(event.tenant_id),
            "aggregate_id": event.originator_id,
            "aggregate_version": event.originator_version,
            "position": position,
            "occurred_at": event.timestamp,
            "actor": {"id": event.actor_id, "name": event.actor_name},
            "payload": payload,
        }
    )
