"""A batch's command is published from JSON built directly: the same bytes as the model's."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from psa.publishing import build_envelope
from services.importer.domainmodel import ImportBatch
from services.importer.publishing import _ENVELOPE, command_json, to_envelope
from tests.unit.published_json import assert_as_the_model, read_back

texts = st.text(max_size=20)
scalars = (
    st.none()
    | st.booleans()
    | texts
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=True, allow_infinity=True)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
ROW_KEYS = ("row", "key", "customer", "parent_number", "given", "identity")
rows = st.lists(
    st.fixed_dictionaries(
        {
            "row": st.integers(2, 10**6),
            "key": texts,
            "customer": st.dictionaries(texts, values, max_size=5),
            "parent_number": st.none() | texts,
            "given": st.none() | st.lists(texts, max_size=4),
            "identity": st.none() | texts,
        }
    ).map(lambda row: {key: row[key] for key in ROW_KEYS}),
    max_size=5,
)


class Job:
    def __init__(self, actor_name: str, update_existing: bool) -> None:
        self.id = uuid4()
        self.tenant_id = str(uuid4())
        self.actor_id = "u1"
        self.actor_name = actor_name
        self.company_id = str(uuid4())
        self.options = {"update_existing": update_existing}


def _published(batch: ImportBatch) -> Any:
    """The event as the relay reads it back from the store."""
    (event,) = batch.collect_events()
    return read_back(event)


@settings(max_examples=300, deadline=None)
@given(
    rows=rows,
    actor_name=texts,
    update_existing=st.booleans(),
    number=st.integers(1, 999),
    reserved=st.none() | st.lists(texts, max_size=4),
)
def test_the_json_is_the_models_json(
    rows: list[dict[str, Any]],
    actor_name: str,
    update_existing: bool,
    number: int,
    reserved: list[str] | None,
) -> None:
    job: Any = Job(actor_name, update_existing)
    event = _published(ImportBatch.queue(job, number, rows, reserved))
    fast = command_json(event, 42)
    model = build_envelope(_ENVELOPE, event, "ImportBatchQueued", UUID(event.tenant_id), 42)
    assert_as_the_model(fast, model, "ImportBatchQueued")


def test_values_not_in_plain_form_take_the_models_way() -> None:
    row = {"row": 2, "key": "k", "parent_number": None, "given": None, "identity": None}
    for customer, keys in (
        ({"big": 2**70}, ROW_KEYS),
        ({"name": "Oy"}, ("customer", "row", "key", "parent_number", "given", "identity")),
        ({"name": "Oy"}, ROW_KEYS[:4]),  # stored before rows had `given`
        ({"name": "Oy"}, ROW_KEYS[:5]),  # stored before rows had `identity`
    ):
        ordered = {key: {**row, "customer": customer}[key] for key in keys}
        job: Any = Job("Aino", False)
        event = _published(ImportBatch.queue(job, 1, [ordered]))
        assert command_json(event, 1) is None
        envelope = to_envelope(event, 1)
        assert envelope is not None and not hasattr(envelope, "published_json")
        assert envelope.payload.rows[0].customer == customer


def test_a_batch_stored_before_batches_reserved_numbers_is_published_without_them() -> None:
    job: Any = Job("Aino", False)
    (event,) = ImportBatch.queue(job, 1, [], ["7"]).collect_events()
    del event.__dict__["reserved_numbers"]  # as a batch stored by an earlier importer
    old = read_back(event)
    assert "reserved_numbers" not in old.__dict__
    fast = command_json(old, 1)
    assert fast is not None
    model = build_envelope(_ENVELOPE, old, "ImportBatchQueued", UUID(old.tenant_id), 1)
    assert_as_the_model(fast, model, "ImportBatchQueued")
    assert model.payload.reserved_numbers is None
