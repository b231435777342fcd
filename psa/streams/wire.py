"""How an event travels in a stream entry.

Each entry carries the envelope twice over, for two kinds of reader:
- `__data__`: faststream's binary message format (body: the envelope JSON; headers: type,
  tenant_id, event_id), so a faststream subscriber gets a parsed model and its headers;
- `envelope` (the same JSON), `type` and `tenant_id` as plain fields, for any other client.
"""

from __future__ import annotations

from typing import Any

from faststream.redis.message import DATA_KEY
from faststream.redis.parser.binary import BinaryMessageFormatV1
from pydantic import BaseModel

ENVELOPE_FIELD = "envelope"


async def encode_entry(envelope: BaseModel) -> dict[str, str | bytes]:
    """The fields of the stream entry that publishes `envelope`."""
    body = envelope.model_dump_json().encode()
    event_type = str(getattr(envelope, "type", ""))
    tenant_id = str(getattr(envelope, "tenant_id", ""))
    event_id = str(getattr(envelope, "event_id", ""))
    binary = await BinaryMessageFormatV1.encode(
        message=body,
        reply_to=None,
        headers={
            "content-type": "application/json",
            "type": event_type,
            "tenant_id": tenant_id,
            "event_id": event_id,
        },
        correlation_id=event_id,
    )
    return {DATA_KEY: binary, ENVELOPE_FIELD: body, "type": event_type, "tenant_id": tenant_id}


def entry_body(fields: dict[Any, Any]) -> bytes:
    """The envelope JSON of an entry read with redis-py (keys as bytes or str)."""
    value = fields.get(ENVELOPE_FIELD.encode(), fields.get(ENVELOPE_FIELD))
    if value is None:
        raw = fields.get(DATA_KEY.encode(), fields.get(DATA_KEY))
        if raw is None:
            raise ValueError("the entry has neither an envelope nor a faststream body")
        value, _ = BinaryMessageFormatV1.parse(raw if isinstance(raw, bytes) else raw.encode())
    return value if isinstance(value, bytes) else str(value).encode()
