"""Use cases of the settings service: tenants, every customer setting, history, as-of reads."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from psa.errors import NotFoundError, PermissionDeniedError, VersionMismatchError

from .domainmodel import Actor, CustomerSettings, SettingsEvent, Tenant, event_type, settings_id

T = TypeVar("T")
WRITE_RETRIES = 5
OPERATOR = Actor(id="operator", name="Operator", roles=("operator",))


@dataclass(frozen=True)
class Change:
    """What a write returns: its result, the new version (ETag) and log position."""

    result: Any
    version: int
    position: int | None


@dataclass(frozen=True)
class HistoryEntry:
    position: int | None
    version: int
    occurred_at: datetime
    actor_id: str
    actor_name: str
    type: str
    section: str
    before: Any
    after: Any


@dataclass(frozen=True)
class HistoryPage:
    items: list[HistoryEntry]
    total: int
    next_cursor: int | None


class SettingsApplication(Application[UUID]):
    """Tenants and their customer settings, stored as events."""

    name = "Settings"
    snapshotting_intervals = {CustomerSettings: 100, Tenant: 100}
    env = {
        "AGGREGATE_CACHE_MAXSIZE": "1000",
        # Commands work on the cached aggregate itself, under a per-aggregate lock, and a
        # failed save evicts it (see `_change`); readers get a copy (see `_read`).
        "DEEPCOPY_FROM_AGGREGATE_CACHE": "n",
    }

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self._locks: dict[UUID, threading.RLock] = {}
        self._locks_guard = threading.Lock()

    # ---------------------------------------------------------------- tenants
    def create_tenant(
        self,
        actor: Actor,
        name: str,
        companies: Sequence[str],
        admin_id: str = "admin",
        admin_name: str = "Admin",
    ) -> Change:
        """Create a tenant with its companies, first admin and default settings."""
        if "operator" not in actor.roles:
            raise PermissionDeniedError("only an operator may create tenants")
        tenant = Tenant.create(actor, name, companies, admin_id, admin_name)
        settings = CustomerSettings.create(tenant.id, actor)
        recordings = self.save(tenant, settings)
        return Change(tenant.as_dict(), tenant.version, _position(recordings))

    def get_tenant(self, tenant_id: UUID) -> Tenant:
        tenant = self._read(tenant_id)
        if not isinstance(tenant, Tenant):
            raise NotFoundError("no such tenant")
        return tenant

    def add_company(
        self, actor: Actor, tenant_id: UUID, name: str, expected_version: int | None = None
    ) -> Change:
        """Add a company to a tenant (an admin of the tenant)."""
        self._require_admin(actor)
        return self._change(tenant_id, expected_version, lambda t: t.add_company(actor, name))

    def add_user(
        self,
        actor: Actor,
        tenant_id: UUID,
        user_id: str,
        name: str,
        company_id: str,
        company_ids: Sequence[str] | None = None,
        roles: Sequence[str] = ("user",),
        expected_version: int | None = None,
    ) -> Change:
        """Add a user to one of the tenant's companies."""
        self._require_admin(actor)

        def add(tenant: Tenant) -> dict[str, Any]:
            tenant.add_user(actor, user_id, name, company_id, company_ids=company_ids, roles=roles)
            return dict(tenant.users[user_id])

        return self._change(tenant_id, expected_version, add)

    # ---------------------------------------------------------------- settings
    def get_settings(self, tenant_id: UUID, as_of: datetime | None = None) -> CustomerSettings:
        """The settings now, or as they were at `as_of`."""
        if as_of is None:
            return self._settings(tenant_id)
        settings: CustomerSettings | None = None
        for event in self._stored_events(settings_id(tenant_id)):
            if event.timestamp > as_of:
                break
            settings = event.mutate(settings)
        if settings is None:
            self._settings(tenant_id)
            raise NotFoundError("the tenant did not exist yet at that time", "as_of")
        return settings

    def change_settings(
        self,
        actor: Actor,
        tenant_id: UUID,
        command: Callable[[CustomerSettings], T],
        expected_version: int | None = None,
    ) -> Change:
        """Run one command on the tenant's settings and store its events in one transaction.

        Without `expected_version` a write that lost a race is retried on the new state, so
        no accepted change is lost; with it, a stale version is refused (HTTP 412).
        """
        self._require_admin(actor)
        return self._change(settings_id(tenant_id), expected_version, command)

    def tenant_company_ids(self, tenant_id: UUID) -> list[str]:
        return self.get_tenant(tenant_id).company_ids

    # ---------------------------------------------------------------- history
    def history(
        self,
        tenant_id: UUID,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        actor_id: str | None = None,
        section: str | None = None,
        cursor: int | None = None,
        limit: int = 50,
        newest_first: bool = True,
    ) -> HistoryPage:
        """Every change of the settings with its actor and the values before and after."""
        aggregate_id = settings_id(tenant_id)
        self._settings(tenant_id)
        positions = self._positions(aggregate_id)
        entries: list[HistoryEntry] = []
        state: CustomerSettings | None = None
        for event in self._stored_events(aggregate_id):
            before = event.subject(state) if state is not None else None
            state = event.mutate(state)
            assert state is not None
            if since is not None and event.timestamp < since:
                continue
            if until is not None and event.timestamp > until:
                continue
            if actor_id is not None and event.actor_id != actor_id:
                continue
            if section is not None and event.section != section:
                continue
            entries.append(
                HistoryEntry(
                    position=positions.get(event.originator_version),
                    version=event.originator_version,
                    occurred_at=event.timestamp,
                    actor_id=event.actor_id,
                    actor_name=event.actor_name,
                    type=event_type(event),
                    section=event.section,
                    before=before,
                    after=event.subject(state),
                )
            )
        total = len(entries)
        if newest_first:
            entries.reverse()
            if cursor is not None:
                entries = [e for e in entries if e.version < cursor]
        elif cursor is not None:
            entries = [e for e in entries if e.version > cursor]
        page = entries[:limit]
        next_cursor = page[-1].version if len(entries) > limit else None
        return HistoryPage(items=page, total=total, next_cursor=next_cursor)

    # ---------------------------------------------------------------- internals
    @staticmethod
    def _require_admin(actor: Actor) -> None:
        if not actor.is_admin:
            raise PermissionDeniedError("only an admin may change the settings")

    def _settings(self, tenant_id: UUID) -> CustomerSettings:
        settings = self._read(settings_id(tenant_id))
        assert isinstance(settings, CustomerSettings)
        return settings

    def _read(self, aggregate_id: UUID) -> Any:
        """A private copy of the latest version, taken while no command is changing it."""
        with self._lock(aggregate_id):
            try:
                return deepcopy(self.repository.get(aggregate_id))
            except AggregateNotFoundError:
                raise NotFoundError("no such tenant") from None

    @contextmanager
    def _lock(self, aggregate_id: UUID) -> Iterator[None]:
        # Writers of one aggregate take turns inside a process, so that the aggregate cache
        # always holds the latest saved version; other processes are caught by the store's
        # optimistic concurrency and retried.
        with self._locks_guard:
            lock = self._locks.setdefault(aggregate_id, threading.RLock())
        with lock:
            yield

    def _change(
        self, aggregate_id: UUID, expected_version: int | None, command: Callable[[Any], T]
    ) -> Change:
        with self._lock(aggregate_id):
            for attempt in range(WRITE_RETRIES):
                try:
                    aggregate: Any = self.repository.get(aggregate_id)
                except AggregateNotFoundError:
                    raise NotFoundError("no such tenant") from None
                if expected_version is not None and aggregate.version != expected_version:
                    raise VersionMismatchError(
                        f"the version is {aggregate.version}, not {expected_version}: "
                        "read it again and retry",
                        "If-Match",
                    )
                # The command runs on the cached aggregate: commands check every rule before
                # they trigger an event, and whatever goes wrong after that evicts the
                # aggregate from the cache, so it never holds an unsaved change.
                try:
                    result = command(aggregate)
                    if not aggregate.pending_events:
                        return Change(result, aggregate.version, None)
                    recordings = self.save(aggregate)
                except IntegrityError:
                    self._forget(aggregate_id)
                    if expected_version is not None or attempt == WRITE_RETRIES - 1:
                        raise VersionMismatchError(
                            "the settings were changed at the same time: read them again and retry",
                            "If-Match",
                        ) from None
                    continue
                except BaseException:
                    if aggregate.pending_events:
                        self._forget(aggregate_id)
                    raise
                return Change(result, aggregate.version, _position(recordings))
        raise AssertionError("unreachable")  # pragma: no cover

    def _stored_events(self, aggregate_id: UUID) -> Iterator[SettingsEvent]:
        for event in self.events.get(aggregate_id):
            assert isinstance(event, SettingsEvent)
            yield event

    def _forget(self, aggregate_id: UUID) -> None:
        cache = self.repository.cache
        if cache is not None:
            with suppress(KeyError):
                cache.get(aggregate_id, evict=True)

    def _positions(self, aggregate_id: UUID) -> dict[int, int]:
        """Log positions of an aggregate's events, by version (one indexed query)."""
        recorder: Any = self.recorder
        table = recorder.events_table_name
        with recorder.datastore.transaction(commit=False) as cursor:
            if hasattr(recorder.datastore, "schema"):
                from psycopg.sql import SQL, Identifier

                cursor.execute(
                    SQL(
                        "SELECT notification_id AS position, originator_version AS version "
                        "FROM {}.{} WHERE originator_id = %s"
                    ).format(Identifier(recorder.datastore.schema), Identifier(table)),
                    (aggregate_id,),
                )
            else:
                cursor.execute(
                    f"SELECT rowid AS position, originator_version AS version FROM {table} "
                    "WHERE originator_id = ?",
                    (aggregate_id.hex,),
                )
            return {row["version"]: row["position"] for row in cursor.fetchall()}


def _position(recordings: Sequence[Any]) -> int | None:
    ids = [r.notification.id for r in recordings if r.notification.id is not None]
    return max(ids) if ids else None
