"""The stream entry format: faststream's binary message, written by our own encoder."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from uuid import uuid4

from faststream.redis.message import DATA_KEY
from faststream.redis.parser.binary import BinaryMessageFormatV1
from pydantic import TypeAdapter

from contracts import CustomerEnvelope
from psa.streams.wire import ENVELOPE_FIELD, binary_message, encode_entry, entry_body


def _envelope(name: str) -> CustomerEnvelope:
    tenant, customer = uuid4(), uuid4()
    return TypeAdapter(CustomerEnvelope).validate_python(
        {
            "event_id": uuid4(),
            "type": "CustomerNumberChanged",
            "schema_version": 1,
            "tenant_id": tenant,
            "aggregate_id": customer,
            "aggregate_version": 2,
            "position": 7,
            "occurred_at": datetime.now(UTC),
            "actor": {"id": "u1", "name": name},
            "payload": {"type": "CustomerNumberChanged", "number": "ÄÖ-1"},
        }
    )


def test_the_binary_message_is_the_bytes_faststream_writes() -> None:
    for body in (b"{}", json.dumps({"nimi": "Jyväskylä"}).encode(), b"x" * 70_000):
        headers = {
            "correlation_id": str(uuid4()),
            "content-type": "application/json",
            "type": "CustomerCreated",
            "tenant_id": str(uuid4()),
            "event_id": str(uuid4()),
        }
        expected = asyncio.run(
            BinaryMessageFormatV1.encode(
                message=body,
                reply_to=None,
                headers={k: v for k, v in headers.items() if k != "correlation_id"},
                correlation_id=headers["correlation_id"],
            )
        )
        assert binary_message(body, headers) == expected


def test_an_entry_reads_back_through_faststream_and_as_plain_fields() -> None:
    envelope = _envelope("Äijä Öljynen")
    fields = encode_entry(envelope)
    body, headers = BinaryMessageFormatV1.parse(fields[DATA_KEY])  # type: ignore[arg-type]
    assert body == fields[ENVELOPE_FIELD] == envelope.model_dump_json().encode()
    assert headers["type"] == "CustomerNumberChanged"
    assert headers["tenant_id"] == str(envelope.tenant_id)
    assert headers["event_id"] == headers["correlation_id"] == str(envelope.event_id)
    assert json.loads(entry_body(fields))["actor"]["name"] == "Äijä Öljynen"
    assert json.loads(entry_body({DATA_KEY: fields[DATA_KEY]}))["payload"]["number"] == "ÄÖ-1"
