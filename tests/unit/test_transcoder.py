"""The event store's orjson transcoder writes and reads exactly the library's JSON format."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex
from hypothesis import given
from hypothesis import strategies as st

from psa.transcoder import FastJSONTranscoder


def _registered(transcoder: JSONTranscoder) -> JSONTranscoder:
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    return transcoder


LIBRARY = _registered(JSONTranscoder())
FAST = _registered(FastJSONTranscoder())

times = st.datetimes(timezones=st.just(UTC))
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | times
    | st.uuids()
    | st.decimals(allow_nan=False, allow_infinity=False, places=3)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(max_size=8).filter(lambda k: k not in ("_type_", "_data_")), inner
        )
    ),
    max_leaves=20,
)
states = st.dictionaries(st.text(max_size=8).filter(lambda k: k != "_type_"), values)


@given(states)
def test_either_reads_what_the_other_wrote(state: dict[str, Any]) -> None:
    assert FAST.decode(FAST.encode(state)) == state
    assert LIBRARY.decode(FAST.encode(state)) == state
    assert FAST.decode(LIBRARY.encode(state)) == state


def test_an_event_state_is_the_same_json() -> None:
    state = {
        "timestamp": datetime(2026, 11, 27, 21, 0, 0, 123456, tzinfo=UTC),
        "name": "Jyväskylän Sähkö Oy",
        "relationships": {"c1": {"tags": ["tuotu"], "type_id": None}},
        "contacts": [{"id": "x", "name": "Äijä"}],
        "fields": {"f": 3, "g": True},
        "snapshot": {"_created_on": datetime(2026, 1, 1, tzinfo=UTC), "nested": [Decimal("1.50")]},
    }
    assert FAST.encode(state) == LIBRARY.encode(state)


def test_a_uuid_keeps_its_type() -> None:
    ident = uuid4()
    state = {"customer_id": ident, "also": [ident], "deep": {"id": ident}}
    for written in (FAST.encode(state), LIBRARY.encode(state)):
        decoded = FAST.decode(written)
        assert isinstance(decoded["customer_id"], UUID)
        assert decoded == state
