"""The customer list: a projection of the customers service's own event log into tables that
the list, search and reports query.

It follows the service's notification log from its tracked position (woken by every save,
polling as the fallback) and writes each customer's rows and the position in one transaction.
Every customer is kept as its whole document plus index rows: one per relationship, tag and
additional field value, so that each filter is an indexed lookup.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from typing import Any

from psa.tables import Tables, create_tracking_table, lock_tracking, track, tracked_position

from .domainmodel.customer import Customer, CustomerEvent
from .publishing import published_topics

log = logging.getLogger("psa.customers.list")
NAME = "customer_list"

_TABLES = {
    "customer_list": (
        "customer_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, name TEXT NOT NULL, "
        "name_key TEXT NOT NULL, number TEXT NOT NULL, number_key TEXT NOT NULL, "
        "number_int BIGINT, business_id TEXT, kind TEXT NOT NULL, company_group_id TEXT, "
        "parent_id TEXT, parent_company_id TEXT, created_at TEXT NOT NULL, "
        "document TEXT NOT NULL"
    ),
    "customer_relationship": (
        "customer_id TEXT NOT NULL, company_id TEXT NOT NULL, tenant_id TEXT NOT NULL, "
        "type_id TEXT, group_id TEXT, account_manager_id TEXT, PRIMARY KEY "
        "(customer_id, company_id)"
    ),
    "customer_tag": (
        "customer_id TEXT NOT NULL, company_id TEXT NOT NULL, tenant_id TEXT NOT NULL, "
        "tag_key TEXT NOT NULL"
    ),
    "customer_field": (
        "customer_id TEXT NOT NULL, field_id TEXT NOT NULL, tenant_id TEXT NOT NULL, "
        "text_key TEXT, date_value TEXT, bool_value INTEGER, option_id TEXT"
    ),
}
_INDEXES = [
    ("customer_list", "tenant_id, name_key, customer_id"),
    ("customer_list", "tenant_id, number_int, number_key"),
    ("customer_list", "tenant_id, created_at, customer_id"),
    ("customer_list", "tenant_id, business_id"),
    ("customer_list", "tenant_id, company_group_id"),
    ("customer_list", "tenant_id, kind"),
    ("customer_list", "tenant_id, parent_id"),
    ("customer_relationship", "tenant_id, company_id, customer_id"),
    ("customer_relationship", "tenant_id, type_id"),
    ("customer_relationship", "tenant_id, group_id"),
    ("customer_relationship", "tenant_id, account_manager_id"),
    ("customer_tag", "tenant_id, tag_key, customer_id"),
    ("customer_tag", "customer_id"),
    ("customer_field", "tenant_id, field_id, option_id, customer_id"),
    ("customer_field", "tenant_id, field_id, date_value"),
    ("customer_field", "tenant_id, field_id, bool_value"),
    ("customer_field", "customer_id"),
]


def text_key(value: str) -> str:
    return " ".join(value.split()).casefold()


def apply_event(document: dict[str, Any] | None, event: CustomerEvent) -> dict[str, Any]:
    """The customer's list document after `event`."""
    if isinstance(event, Customer.Created):
        customer = event.mutate(None)
        assert isinstance(customer, Customer)
        return customer.as_dict()
    assert document is not None
    if isinstance(event, Customer.DetailsChanged):
        for key in event.changed:
            document[key] = getattr(event, key)
    elif isinstance(event, Customer.NumberChanged):
        document["number"] = event.number
    elif isinstance(event, Customer.RelationshipSet):
        others = [r for r in document["relationships"] if r["company_id"] != event.company_id]
        document["relationships"] = [
            *others,
            {"company_id": event.company_id, **event.relationship},
        ]
    elif isinstance(event, Customer.ContactPersonAdded):
        document["contacts"].append(dict(event.contact))
    document["version"] = event.originator_version
    document["updated_at"] = event.timestamp
    return document


class CustomerListProjection:
    """Customers as rows to filter, sort and count, at a tracked position of the event log."""

    def __init__(self, app: Any, tables: Tables, poll_interval: float = 0.5) -> None:
        self.app = app
        self.tables = tables
        self.poll_interval = poll_interval
        self.topics = published_topics()
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._catching_up = threading.Lock()
        with tables.transaction() as cursor:
            for table, columns in _TABLES.items():
                tables.execute(
                    cursor, f"CREATE TABLE IF NOT EXISTS {tables.name(table)} ({columns})"
                )
            for number, (table, columns) in enumerate(_INDEXES):
                index = f"{table}_i{number}"
                tables.execute(
                    cursor,
                    f"CREATE INDEX IF NOT EXISTS {index} ON {tables.name(table)} ({columns})",
                )
        create_tracking_table(tables)

    @property
    def position(self) -> int:
        with self.tables.transaction(commit=False) as cursor:
            return tracked_position(self.tables, cursor, NAME)

    def catch_up(self, batch_size: int = 500) -> int:
        """Apply everything stored after the tracked position; returns how many events."""
        with self._catching_up:
            return self._catch_up(batch_size)

    def _catch_up(self, batch_size: int) -> int:
        applied = 0
        while True:
            # Read the log outside the write transaction: the store's pool has one writer.
            # Positions of events the list does not show (the numbering's) count as read too,
            # so that "caught up with the log" is a plain comparison.
            start = self.position
            top = self.app.recorder.max_notification_id() or 0
            if top <= start:
                return applied
            notifications = self.app.recorder.select_notifications(
                start + 1, batch_size, top, self.topics
            )
            events = [self.app.mapper.to_domain_event(n) for n in notifications]
            reached = notifications[-1].id if len(notifications) == batch_size else top
            with self.tables.transaction() as cursor:
                if lock_tracking(self.tables, cursor, NAME) != start:
                    continue  # another process applied these meanwhile: read again
                documents: dict[str, dict[str, Any] | None] = {}
                for event in events:
                    customer_id = str(event.originator_id)
                    if customer_id not in documents:
                        documents[customer_id] = self._load(cursor, customer_id)
                    documents[customer_id] = apply_event(documents[customer_id], event)
                for customer_id, document in documents.items():
                    assert document is not None
                    self._write(cursor, customer_id, document)
                track(self.tables, cursor, NAME, reached)
            applied += len(notifications)

    def _load(self, cursor: Any, customer_id: str) -> dict[str, Any] | None:
        self.tables.execute(
            cursor,
            f"SELECT document FROM {self.tables.name('customer_list')} WHERE customer_id = ?",
            (customer_id,),
        )
        row = cursor.fetchone()
        return json.loads(row["document"]) if row else None

    def _write(self, cursor: Any, customer_id: str, document: dict[str, Any]) -> None:
        t = self.tables
        for table in ("customer_relationship", "customer_tag", "customer_field"):
            t.execute(cursor, f"DELETE FROM {t.name(table)} WHERE customer_id = ?", (customer_id,))
        tenant_id = document["tenant_id"]
        number = str(document["number"])
        t.execute(
            cursor,
            f"INSERT INTO {t.name('customer_list')} (customer_id, tenant_id, name, name_key, "
            "number, number_key, number_int, business_id, kind, company_group_id, parent_id, "
            "parent_company_id, created_at, document) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (customer_id) DO UPDATE "
            "SET name = excluded.name, name_key = excluded.name_key, number = excluded.number, "
            "number_key = excluded.number_key, number_int = excluded.number_int, "
            "business_id = excluded.business_id, kind = excluded.kind, "
            "company_group_id = excluded.company_group_id, parent_id = excluded.parent_id, "
            "parent_company_id = excluded.parent_company_id, document = excluded.document",
            (
                customer_id,
                tenant_id,
                document["name"],
                text_key(document["name"]),
                number,
                number.casefold(),
                int(number) if number.isdigit() and len(number) < 18 else None,
                document.get("business_id"),
                document["kind"],
                document.get("company_group_id"),
                document.get("parent_id"),
                document.get("parent_company_id"),
                str(document["created_at"]),
                json.dumps(document, default=str),
            ),
        )
        for relationship in document["relationships"]:
            company_id = relationship["company_id"]
            t.execute(
                cursor,
                f"INSERT INTO {t.name('customer_relationship')} (customer_id, company_id, "
                "tenant_id, type_id, group_id, account_manager_id) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    customer_id,
                    company_id,
                    tenant_id,
                    relationship.get("type_id"),
                    relationship.get("group_id"),
                    relationship.get("account_manager_id"),
                ),
            )
            for tag in relationship.get("tags") or []:
                t.execute(
                    cursor,
                    f"INSERT INTO {t.name('customer_tag')} (customer_id, company_id, tenant_id, "
                    "tag_key) VALUES (?, ?, ?, ?)",
                    (customer_id, company_id, tenant_id, text_key(tag)),
                )
        for field_id, value in (document.get("fields") or {}).items():
            for row in _field_rows(value):
                t.execute(
                    cursor,
                    f"INSERT INTO {t.name('customer_field')} (customer_id, field_id, tenant_id, "
                    "text_key, date_value, bool_value, option_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (customer_id, field_id, tenant_id, *row),
                )

    # ---------------------------------------------------------------- running
    def wake(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        while not self._stopping:
            self._wake.clear()
            try:
                await asyncio.to_thread(self.catch_up)
            except Exception:
                log.exception("the customer list could not catch up; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    def stop(self) -> None:
        self._stopping = True
        self.wake()

    def wait_for(self, position: int, timeout: float = 2.0) -> bool:
        """Until the list has applied `position` (catching up itself if need be)."""
        deadline = time.monotonic() + timeout
        while self.position < position:
            if time.monotonic() > deadline:
                return False
            try:
                self.catch_up()
            except Exception as error:  # another process is writing the list: wait a moment
                log.debug("waiting for the customer list: %s", error)
                time.sleep(0.01)
        return True


def _field_rows(value: Any) -> list[tuple[Any, Any, Any, Any]]:
    """Index rows of one additional field value: (text, date, bool, option)."""
    if isinstance(value, bool):
        return [(None, None, int(value), None)]
    if isinstance(value, list):
        return [(None, None, None, str(item)) for item in value]
    text = str(value)
    is_date = len(text) == 10 and text[4] == "-" and text[7] == "-" and text[:4].isdigit()
    return [(text_key(text), text if is_date else None, None, text)]
