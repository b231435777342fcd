"""Translation of the importer's stored batches to `customers.commands.v1` envelopes."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import TypeAdapter

from contracts import CommandEnvelope
from psa.publishing import build_envelope

from .domainmodel import ImportBatch

_ENVELOPE: TypeAdapter[CommandEnvelope] = TypeAdapter(CommandEnvelope)


def published_topics() -> list[str]:
    from eventsourcing.utils import get_topic

    return [get_topic(ImportBatch.Queued), get_topic(ImportBatch.Requeued)]


def to_envelope(event: Any, position: int) -> CommandEnvelope | None:
    """A batch's command; sent again (`Requeued`), it is the same command with its own id."""
    if not isinstance(event, ImportBatch.Queued | ImportBatch.Requeued):
        return None
    return build_envelope(_ENVELOPE, event, "ImportBatchQueued", UUID(event.tenant_id), position)
