"""Translation of stored events to the published contracts (`settings.events.v1`).

The stored event classes and the published schema evolve separately; this is the one place
where one becomes the other.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import TypeAdapter

from contracts import SettingsEnvelope
from psa.publishing import build_envelope

from .domainmodel import SettingsEvent, Tenant, event_type

_ENVELOPE: TypeAdapter[SettingsEnvelope] = TypeAdapter(SettingsEnvelope)


def tenant_of(event: Any) -> UUID:
    """Tenant events are about the tenant itself; settings events name their tenant."""
    if isinstance(event, Tenant.Event):
        return UUID(str(event.originator_id))
    if isinstance(event, SettingsEvent):
        return UUID(event.tenant_id)
    raise TypeError(f"not a settings or tenant event: {type(event).__name__}")


def to_envelope(event: Any, position: int) -> SettingsEnvelope:
    """The published form of a stored settings or tenant event at a log position."""
    return build_envelope(_ENVELOPE, event, event_type(event), tenant_of(event), position)
