"""The envelope every event on every stream travels in (DESIGN.md §5)."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

from pydantic import Field, model_validator

from .base import Contract

P = TypeVar("P")


class ActorRef(Contract):
    """Who made the change."""

    id: str = Field(description="User id (`operator` for the product's operators)")
    name: str = Field(description="The user's display name at the time of the change")


class Envelope(Contract, Generic[P]):
    """One event as published: where it comes from, its position, its author and payload."""

    event_id: UUID = Field(description="Stable id: the same event always has the same id")
    type: str = Field(description="Event type, equal to `payload.type`")
    schema_version: int = Field(1, description="Version of the payload schema of this type")
    tenant_id: UUID
    aggregate_id: UUID
    aggregate_version: int = Field(description="Version of the aggregate after this event")
    position: int = Field(
        description="Position in the publishing service's event log; "
        "also the stream entry id `<position>-0`"
    )
    occurred_at: datetime
    actor: ActorRef
    payload: P

    @model_validator(mode="after")
    def _type_matches_payload(self) -> Envelope[P]:
        payload_type = getattr(self.payload, "type", self.type)
        if payload_type != self.type:
            raise ValueError(f"type {self.type!r} does not match payload type {payload_type!r}")
        return self
