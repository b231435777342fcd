"""The write path every service's eventsourcing Application shares.

Commands run on the cached aggregate under a per-aggregate lock; a failed save evicts it, a
save that lost a race with another process is retried (or refused with 412 when the caller
named the version it expects); readers get a structural copy. Listeners hear of every save,
which is how a service's outbox relay publishes at once instead of at its next poll.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import BaseAggregate, CanMutateAggregate
from eventsourcing.persistence import IntegrityError

from .errors import NotFoundError, VersionMismatchError
from .persistence import batched_sqlite_inserts, binary_event_inserts, guard_held_writer
from .transcoder import FastJSONTranscoder

T = TypeVar("T")
WRITE_RETRIES = 30


@dataclass(frozen=True)
class Change:
    """What a write returns: its result, the new version (ETag) and log position."""

    result: Any
    version: int
    position: int | None


@dataclass(frozen=True)
class HistoryEntry:
    """One change of an aggregate: when, who, what, and what it changed before and after."""

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
    version: int


def last_position(recordings: Sequence[Any]) -> int | None:
    ids = [r.notification.id for r in recordings if r.notification.id is not None]
    return max(ids) if ids else None


class _Collecting(ProcessingEvent[UUID]):
    """Collects the pending events of aggregates, and events given as they are."""

    def collect_events(self, *objs: Any, **kwargs: Any) -> None:
        for obj in objs:
            if isinstance(obj, BaseAggregate):
                self.events.extend(obj.collect_events())
                self.aggregates[obj.id] = obj
            elif isinstance(obj, CanMutateAggregate):
                self.events.append(obj)
            elif obj is not None:
                super().collect_events(obj)
        self.saved_kwargs.update(kwargs)


class ServiceApplication(Application[UUID]):
    """An eventsourcing Application with the services' write path and save listeners."""

    env = {
        "AGGREGATE_CACHE_MAXSIZE": "10000",
        # Commands work on the cached aggregate itself, under a per-aggregate lock, and a
        # failed save evicts it (see `change`); readers get a copy (see `read`).
        "DEEPCOPY_FROM_AGGREGATE_CACHE": "n",
        # Commands do not look for newer events first: a save that another process beat is
        # refused by the store and run again on fresh state. Readers do look (see `read`).
        "AGGREGATE_CACHE_FASTFORWARD": "n",
    }
    not_found_message = "not found"

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        binary_event_inserts(self.recorder)
        batched_sqlite_inserts(self.recorder)
        pool = getattr(getattr(self.recorder, "datastore", None), "pool", None)
        if pool is not None and hasattr(pool, "pool_timeout"):
            # A SQLite store has one writer connection, which a writer waits for up to 5 s
            # by default: in one busy process (`psa up` during a large import) a thread
            # holding it waits for the interpreter lock between its statements, and writes
            # failed for that. They wait as long as for the file's lock.
            pool.pool_timeout = max(pool.pool_timeout, 30.0)
            guard_held_writer(pool, strict=os.environ.get("PSA_STRICT_CONNECTIONS") == "1")
        self._locks: dict[UUID, threading.RLock] = {}
        self._locks_guard = threading.Lock()
        self.save_listeners: list[Callable[[], None]] = []

    def construct_transcoder(self) -> Any:
        """The library's JSON format, through orjson (see `psa.transcoder`)."""
        transcoder = FastJSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def _notify(self, recordings: list[Any]) -> None:
        for listener in self.save_listeners:
            listener()

    def save(self, *objs: Any, **kwargs: Any) -> list[Any]:
        """As the library's `save`, with the events collected by class checks: its checks
        against runtime protocols cost more than the rest of collecting, per aggregate."""
        processing_event: ProcessingEvent[UUID] = _Collecting()
        processing_event.collect_events(*objs, **kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    @contextmanager
    def lock(self, aggregate_id: UUID) -> Iterator[None]:
        """Writers of one aggregate take turns inside a process, so the aggregate cache always
        holds the latest saved version; other processes are caught by the store's optimistic
        concurrency and retried."""
        with self._locks_guard:
            lock = self._locks.setdefault(aggregate_id, threading.RLock())
        with lock:
            yield

    def read(self, aggregate_id: UUID) -> Any:
        """A private copy of the latest version, taken while no command is changing it."""
        with self.lock(aggregate_id):
            try:
                aggregate: Any = self.repository.get(aggregate_id)
            except AggregateNotFoundError:
                raise NotFoundError(self.not_found_message) from None
            # Another process (a replica) may have saved newer events: apply them first.
            for event in self.events.get(aggregate_id, gt=aggregate.version):
                recorded: Any = event
                recorded.mutate(aggregate)
            return deepcopy(aggregate)

    def change(
        self,
        aggregate_id: UUID,
        expected_version: int | frozenset[int] | None,
        command: Callable[[Any], T],
        also_save: Callable[[Any], Sequence[Any]] | None = None,
    ) -> Change:
        """Run `command` on an aggregate and save its events in one transaction.

        Without `expected_version` a write that lost a race is retried on the new state, so no
        accepted write is lost; with it, a stale version is refused (HTTP 412). `also_save`
        names other new aggregates to save in the same transaction.
        """
        expected = {expected_version} if isinstance(expected_version, int) else expected_version
        with self.lock(aggregate_id):
            for attempt in range(WRITE_RETRIES):
                try:
                    aggregate: Any = self.repository.get(aggregate_id)
                except AggregateNotFoundError:
                    raise NotFoundError(self.not_found_message) from None
                if expected is not None and aggregate.version not in expected:
                    wanted = ", ".join(str(v) for v in sorted(expected)) or "a weak ETag"
                    raise VersionMismatchError(
                        f"the version is {aggregate.version}, not {wanted}: "
                        "read it again and retry",
                        "If-Match",
                    )
                # Commands check every rule before they trigger an event; whatever goes wrong
                # after that evicts the aggregate, so the cache never holds an unsaved change
                # (also when saving failed: its events were collected, so none is pending).
                version = aggregate.version
                try:
                    result = command(aggregate)
                    if not aggregate.pending_events:
                        # Nothing changed: the position is that of the version as it stands,
                        # so read-your-writes works the same for a no-op.
                        position = self.positions(aggregate_id).get(aggregate.version)
                        return Change(result, aggregate.version, position)
                    others = also_save(result) if also_save else ()
                    recordings = self.save(aggregate, *others)
                except IntegrityError:
                    self.forget(aggregate_id)
                    if expected is not None or attempt == WRITE_RETRIES - 1:
                        raise VersionMismatchError(
                            "it was changed at the same time: read it again and retry",
                            "If-Match",
                        ) from None
                    # Another process wrote first: back off a little, then run the command
                    # again on the new state.
                    time.sleep(random.uniform(0.001, 0.005) * (attempt + 1))
                    continue
                except BaseException:
                    if aggregate.version != version:
                        self.forget(aggregate_id)
                    raise
                return Change(result, aggregate.version, last_position(recordings))
        raise AssertionError("unreachable")  # pragma: no cover

    def history(
        self,
        aggregate_id: UUID,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        actor_id: str | None = None,
        section: str | None = None,
        cursor: int | None = None,
        limit: int = 50,
        newest_first: bool = True,
        show: Callable[[HistoryEntry], HistoryEntry | None] | None = None,
    ) -> HistoryPage:
        """Replay an aggregate's events, asking each what it changed, before and after.

        Events carry `actor_id`, `actor_name`, a `subject(state)` and optionally a `section`
        and a published `type_name`. `show` gives each entry as the reader may see it, or
        None to leave it out (before the paging, so pages and totals count what is shown).
        """
        positions = self.positions(aggregate_id)
        entries: list[HistoryEntry] = []
        state: Any = None
        for stored in self.events.get(aggregate_id):
            event: Any = stored
            before = event.subject(state) if state is not None else None
            state = event.mutate(state)
            kind = getattr(event, "section", "")
            if since is not None and event.timestamp < since:
                continue
            if until is not None and event.timestamp > until:
                continue
            if actor_id is not None and event.actor_id != actor_id:
                continue
            if section is not None and kind != section:
                continue
            entry = HistoryEntry(
                position=positions.get(event.originator_version),
                version=event.originator_version,
                occurred_at=event.timestamp,
                actor_id=event.actor_id,
                actor_name=event.actor_name,
                type=str(getattr(type(event), "type_name", type(event).__name__)),
                section=kind,
                before=before,
                after=event.subject(state),
            )
            shown = entry if show is None else show(entry)
            if shown is not None:
                entries.append(shown)
        total = len(entries)
        if newest_first:
            entries.reverse()
            if cursor is not None:
                entries = [e for e in entries if e.version < cursor]
        elif cursor is not None:
            entries = [e for e in entries if e.version > cursor]
        page = entries[:limit]
        next_cursor = page[-1].version if len(entries) > limit else None
        version = state.version if state is not None else 0
        return HistoryPage(items=page, total=total, next_cursor=next_cursor, version=version)

    def exists(self, aggregate_id: UUID) -> bool:
        """Whether an aggregate has any event (one indexed query, nothing cached)."""
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def existing(self, aggregate_ids: Sequence[UUID]) -> set[UUID]:
        """Which of these aggregates have events (one query per 500 ids)."""
        from .tables import Tables

        tables = Tables(self.recorder)
        table = tables.name(self.recorder.events_table_name)  # type: ignore[attr-defined]
        ids = list(dict.fromkeys(aggregate_ids))
        with tables.transaction(commit=False) as cursor:
            rows = tables.select_in(
                cursor,
                f"SELECT DISTINCT originator_id FROM {table} WHERE originator_id IN ({{marks}})",
                # The library's SQLite recorder keeps ids as their hex, without dashes.
                ids if tables.postgres else [i.hex for i in ids],
            )
            return {UUID(str(row["originator_id"])) for row in rows}

    def forget(self, aggregate_id: UUID) -> None:
        cache = self.repository.cache
        if cache is not None:
            with suppress(KeyError):
                cache.get(aggregate_id, evict=True)

    def positions(self, aggregate_id: UUID) -> dict[int, int]:
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
