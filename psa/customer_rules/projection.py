"""The customers service's view of the settings, kept from `settings.events.v1`.

One JSON document per tenant, written with the tracked stream position in one transaction; an
entry at or below the tracked position is skipped, so redelivery and replays are harmless.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

from contracts import SettingsEnvelope
from psa.tables import Tables, create_tracking_table, lock_tracking, track, tracked_position

from .settings_view import SettingsView, apply_settings_event, new_document

REFRESH_SECONDS = 0.05


class SettingsProjection:
    """Tenant settings documents, at a tracked position of the settings stream."""

    def __init__(self, tables: Tables, name: str = "settings_view") -> None:
        self.tables = tables
        self.name = name
        self.table = tables.name(name)
        self._documents: dict[str, dict[str, Any]] = {}
        self._changed = threading.Condition()
        self._checked_at = 0.0
        with tables.transaction() as cursor:
            tables.execute(
                cursor,
                f"CREATE TABLE IF NOT EXISTS {self.table} "
                "(tenant_id TEXT PRIMARY KEY, document TEXT NOT NULL)",
            )
        create_tracking_table(tables)
        with tables.transaction(commit=False) as cursor:
            self._position = tracked_position(tables, cursor, name)

    @property
    def position(self) -> int:
        return self._position

    def apply(self, position: int, body: bytes) -> bool:
        """Apply one entry; False if it was applied before."""
        envelope = SettingsEnvelope.model_validate_json(body)
        event = json.loads(envelope.model_dump_json())
        tenant_id = event["tenant_id"]
        with self.tables.transaction() as cursor:
            if position <= lock_tracking(self.tables, cursor, self.name):
                return False
            document = self._load(cursor, tenant_id) or new_document(tenant_id)
            apply_settings_event(document, event)
            self.tables.execute(
                cursor,
                f"INSERT INTO {self.table} (tenant_id, document) VALUES (?, ?) "
                "ON CONFLICT (tenant_id) DO UPDATE SET document = excluded.document",
                (tenant_id, json.dumps(document)),
            )
            track(self.tables, cursor, self.name, position)
        with self._changed:
            self._documents[tenant_id] = document
            self._position = position
            self._changed.notify_all()
        return True

    async def handle(self, position: int, body: bytes) -> None:
        """The stream consumer's handler."""
        await asyncio.to_thread(self.apply, position, body)

    def _load(self, cursor: Any, tenant_id: str) -> dict[str, Any] | None:
        self.tables.execute(
            cursor, f"SELECT document FROM {self.table} WHERE tenant_id = ?", (tenant_id,)
        )
        row = cursor.fetchone()
        return json.loads(row["document"]) if row else None

    def _refresh(self) -> None:
        # Another process of this service may be the one consuming: notice when the stored
        # position moved on, and read documents again.
        now = time.monotonic()
        if now - self._checked_at < REFRESH_SECONDS:
            return
        self._checked_at = now
        with self.tables.transaction(commit=False) as cursor:
            stored = tracked_position(self.tables, cursor, self.name)
        if stored != self._position:
            with self._changed:
                self._documents.clear()
                self._position = stored
                self._changed.notify_all()

    def view(self, tenant_id: str) -> SettingsView | None:
        """The tenant's settings as applied so far; None if none have arrived."""
        self._refresh()
        document = self._documents.get(tenant_id)
        if document is None:
            with self.tables.transaction(commit=False) as cursor:
                document = self._load(cursor, tenant_id)
            if document is None:
                return None
            with self._changed:
                # A document applied meanwhile is newer than the one just read: keep it.
                document = self._documents.setdefault(tenant_id, document)
        if not document.get("customer_types"):
            return None  # the tenant is known but its settings have not arrived yet
        return SettingsView(document)

    def documents(self) -> dict[str, dict[str, Any]]:
        """Every tenant's document (to compare a rebuilt projection with the live one)."""
        with self.tables.transaction(commit=False) as cursor:
            self.tables.execute(cursor, f"SELECT tenant_id, document FROM {self.table}")
            return {row["tenant_id"]: json.loads(row["document"]) for row in cursor.fetchall()}

    def wait_for(self, position: int, timeout: float) -> bool:
        """Wait until the projection has applied `position`; False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            self._refresh()
            if self._position >= position:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._changed:
                self._changed.wait(min(remaining, REFRESH_SECONDS))
