"""The services' event stores: the library's format and behaviour, with faster paths."""

from __future__ import annotations

from uuid import uuid4

from psa.config import Config
from services.customers.bootstrap import build_application
from services.customers.domainmodel.customer import Customer


def test_saved_events_read_back_the_same_on_either_store(store: Config) -> None:
    app, _ = build_application(store)
    try:
        events = [
            Customer.created(
                customer_id=uuid4(),
                tenant_id=str(uuid4()),
                actor_id="u1",
                actor_name="Äijä",
                details={"name": f"Oy 'Lainaus' \\ {index}", "kind": "company", "fields": {}},
                number=str(index),
                company_id=str(uuid4()),
                relationships={},
                contacts=[],
                request_key=f"job:{index}",
            )
            for index in range(3)
        ]
        app.save(*events)
        for event in events:
            customer = app.repository.get(event.originator_id)
            assert isinstance(customer, Customer)
            assert customer.name == event.name and customer.number == event.number
            assert customer.created_on == event.timestamp
    finally:
        app.close()


def test_postgresql_gets_new_events_in_binary(postgres_store: Config) -> None:
    app, _ = build_application(postgres_store)
    try:
        statement = app.recorder.insert_events_statement  # type: ignore[attr-defined]
        assert "unnest(%b::" in statement.as_string(None)
    finally:
        app.close()
