"""What the tests of JSON built directly for the streams share: events read back as the relay
reads them, and the check that the bytes are the envelope model's."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, Mapper, UUIDAsHex

from psa.transcoder import FastJSONTranscoder

transcoder = FastJSONTranscoder()
for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
    transcoder.register(transcoding)
MAPPER: Mapper[UUID] = Mapper(transcoder=transcoder)


def read_back(event: Any) -> Any:
    """The event as the relay reads it back from the store."""
    return MAPPER.to_domain_event(MAPPER.to_stored_event(event))


def assert_as_the_model(fast: Any, model: Any, name: str) -> None:
    """`fast` (a `PublishedJSON`) is what the envelope `model` publishes, byte for byte."""
    assert fast is not None
    assert fast.published_json == model.model_dump_json().encode()
    assert (fast.type, fast.tenant_id, fast.event_id) == (
        name,
        str(model.tenant_id),
        str(model.event_id),
    )
