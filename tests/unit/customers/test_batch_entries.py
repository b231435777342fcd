"""The customers an import batch creates are published in the entry of the batch's outcome."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import orjson

from contracts import CustomerEnvelope
from services.customers.domainmodel.customer import Customer
from services.customers.domainmodel.import_batch import ImportBatchResult
from services.customers.publishing import _ENVELOPE, to_envelope, translate_page
from tests.unit.published_json import read_back

TENANT = str(uuid4())
COMPANY = str(uuid4())
JOB = str(uuid4())


def created(row: int | None, job: str = JOB, fields: dict[str, Any] | None = None) -> Any:
    return read_back(
        Customer.created(
            customer_id=uuid4(),
            tenant_id=TENANT,
            actor_id="admin",
            actor_name="Aino Admin",
            details={"name": f"Asiakas {row} Oy", "kind": "company", "fields": fields or {}},
            number=str(row or 999),
            company_id=COMPANY,
            relationships={},
            contacts=[],
            request_key=f"{job}:{row}" if row is not None else None,
        )
    )


def executed(rows: list[int], job: str = JOB, batch: int = 1) -> Any:
    result = ImportBatchResult.record(
        tenant_id=TENANT,
        actor=("admin", "Aino Admin"),
        job_id=job,
        batch=batch,
        outcomes=[{"row": row, "outcome": "created"} for row in rows],
    )
    return read_back(result.collect_events()[0])


def body(envelope: Any) -> bytes:
    json = getattr(envelope, "published_json", None)
    return json if json is not None else envelope.model_dump_json().encode()


def test_a_batchs_customers_travel_in_its_outcome_entry_as_the_model_writes_it() -> None:
    customers = [created(2), created(3, fields={"f": 1.5})]  # the second takes the model's way
    events = [(10, customers[0]), (12, customers[1]), (15, executed([2, 3]))]

    entries, used = translate_page(events, at_end=False)

    assert used == 3
    assert [position for position, _ in entries] == [15]
    data = body(entries[0][1])
    envelope = CustomerEnvelope.model_validate_json(data)
    assert data == envelope.model_dump_json().encode()  # exactly the model's bytes
    assert envelope.type == "ImportBatchExecuted" and envelope.position == 15
    created_items = envelope.payload.created  # type: ignore[union-attr]
    assert [item.position for item in created_items] == [10, 12]
    for item, (position, event) in zip(created_items, events, strict=False):
        alone = _ENVELOPE.validate_json(body(to_envelope(event, position)))
        assert item.event_id == alone.event_id
        assert item.aggregate_id == alone.aggregate_id == event.originator_id
        assert item.aggregate_version == alone.aggregate_version == 1
        assert item.occurred_at == alone.occurred_at
        assert item.payload == alone.payload
    assert created_items[1].payload.fields == {"f": 1.5}


def test_a_page_that_ends_before_the_outcome_leaves_the_batch_to_the_next_read() -> None:
    api = created(None)
    events = [(5, api), (6, created(2)), (7, created(3))]

    entries, used = translate_page(events, at_end=False)

    assert used == 1  # the two waiting for their outcome are read again with the next page
    assert [(p, orjson.loads(body(e))["type"]) for p, e in entries] == [(5, "CustomerCreated")]

    entries, used = translate_page([*events[used:], (9, executed([2, 3]))], at_end=True)
    assert used == 3
    assert [p for p, _ in entries] == [9]
    assert len(orjson.loads(body(entries[0][1]))["payload"]["created"]) == 2


def test_customers_without_their_outcome_at_the_end_of_the_log_are_published_each() -> None:
    events = [(6, created(2)), (7, created(3))]

    entries, used = translate_page(events, at_end=True)

    assert used == 2
    assert [(p, orjson.loads(body(e))["type"]) for p, e in entries] == [
        (6, "CustomerCreated"),
        (7, "CustomerCreated"),
    ]


def test_only_the_batchs_own_customers_go_in_its_entry() -> None:
    other_job = str(uuid4())
    events = [(3, created(2, job=other_job)), (4, created(2)), (5, executed([2]))]

    entries, used = translate_page(events, at_end=False)

    assert used == 3
    kinds = [(p, orjson.loads(body(e))) for p, e in entries]
    assert [(p, doc["type"]) for p, doc in kinds] == [
        (3, "CustomerCreated"),
        (5, "ImportBatchExecuted"),
    ]
    assert [c["position"] for c in kinds[1][1]["payload"]["created"]] == [4]


def test_a_batch_that_created_nothing_has_an_empty_list_and_other_events_are_their_own() -> None:
    events = [(1, created(None)), (2, executed([]))]

    entries, used = translate_page(events, at_end=False)

    assert used == 2
    docs = [orjson.loads(body(e)) for _, e in entries]
    assert [d["type"] for d in docs] == ["CustomerCreated", "ImportBatchExecuted"]
    assert docs[1]["payload"]["created"] == []
    assert UUID(docs[1]["payload"]["job_id"]) == UUID(JOB)
