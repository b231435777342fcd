"""The services' event stores: the library's format and behaviour, with faster paths."""

from __future__ import annotations

from typing import Any
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


def test_a_transactions_events_get_the_notification_ids_the_store_gives_them(
    store: Config,
) -> None:
    """Saved together (one statement on SQLite), each event's notification id is the one it
    is read back with, after events saved before; and a save the store refuses takes none."""
    from eventsourcing.persistence import IntegrityError

    app, _ = build_application(store)
    try:

        def created(index: int, customer_id: Any = None) -> Any:
            return Customer.created(
                customer_id=customer_id or uuid4(),
                tenant_id="t",
                actor_id="u1",
                actor_name="A",
                details={"name": f"Oy {index}", "kind": "company", "fields": {}},
                number=str(index),
                company_id="c",
                relationships={},
                contacts=[],
                request_key=None,
            )

        first = app.save(created(0))
        events = [created(index) for index in range(1, 6)]
        recordings = app.save(*events)
        ids = [r.notification.id for r in recordings]
        assert ids == list(range(first[-1].notification.id + 1, first[-1].notification.id + 6))
        stored = app.recorder.select_notifications(start=ids[0], limit=10)
        assert [(n.id, n.originator_id) for n in stored] == [
            (id_, event.originator_id) for id_, event in zip(ids, events, strict=True)
        ]
        again = created(6, events[0].originator_id)  # the same customer's first event again
        try:
            app.save(created(7), again)
        except IntegrityError:
            pass
        else:
            raise AssertionError("the store took an event of a version it has")
        later = app.save(created(8))
        # PostgreSQL's sequence leaves a gap where the refused save was; SQLite's rowids none.
        gap = later[-1].notification.id - ids[-1]
        assert gap >= 1 if store.uses_postgres else gap == 1
        assert app.recorder.max_notification_id() == later[-1].notification.id
    finally:
        app.close()


def test_postgresql_gets_new_events_in_binary(postgres_store: Config) -> None:
    app, _ = build_application(postgres_store)
    try:
        statement = app.recorder.insert_events_statement  # type: ignore[attr-defined]
        assert "unnest(%b::" in statement.as_string(None)
    finally:
        app.close()


def test_a_thread_holding_the_sqlite_writer_cannot_ask_for_another_connection(
    sqlite_store: Config,
) -> None:
    """The pool hands connections out in turn, so such a request waits for any thread waiting
    for the writer, which waits for it: the tests make it fail at once (PSA_STRICT_CONNECTIONS),
    so that no code path does it."""
    import threading

    import pytest

    from psa.persistence import HeldWriterError
    from psa.tables import Tables

    app, _ = build_application(sqlite_store)
    tables = Tables(app.recorder)
    try:
        with tables.transaction() as cursor:
            cursor.execute("SELECT 1")
            with pytest.raises(HeldWriterError), tables.transaction(commit=False):
                pass
        # Reading after the write, and from another thread during it, is as before.
        with tables.transaction(commit=False) as cursor:
            cursor.execute("SELECT 1")
        read_during: list[Any] = []

        def read() -> None:
            with tables.transaction(commit=False) as other:
                other.execute("SELECT 2 AS n")
                read_during.append(other.fetchone()["n"])

        with tables.transaction():
            thread = threading.Thread(target=read)
            thread.start()
            thread.join(timeout=10)
        assert read_during == [2]
    finally:
        app.close()
