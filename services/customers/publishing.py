"""Translation of stored customer events to `customers.events.v1` envelopes.

Numbering events (the counter and the number index) are internal: they are not published.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import TypeAdapter

from contracts import CustomerEnvelope
from psa.publishing import build_envelope

from .domainmodel.customer import CustomerEvent

_ENVELOPE: TypeAdapter[CustomerEnvelope] = TypeAdapter(CustomerEnvelope)


def published_topics() -> list[str]:
    """The stored event types that are published (the relay reads only these)."""
    from eventsourcing.utils import get_topic

    from .domainmodel.import_batch import ImportBatchResult

    return [*customer_topics(), get_topic(ImportBatchResult.Executed)]


def customer_topics() -> list[str]:
    """The stored event types of customers themselves."""
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
    return build_envelope(_ENVELOPE, event, name, UUID(event.tenant_id), position)
