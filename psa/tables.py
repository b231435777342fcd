"""Projection tables beside a service's event store, on SQLite or PostgreSQL alike.

A projection writes its rows and its tracked position in one transaction of the same database
the service's events live in, through the eventsourcing recorder's own connection pool; or, on
SQLite, in a file of its own (`SQLiteTables`) when more than one process writes it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any


class Tables:
    """Table names and SQL for the store of an eventsourcing recorder."""

    def __init__(self, recorder: Any) -> None:
        self.datastore = recorder.datastore
        self.postgres = hasattr(self.datastore, "schema")
        self.schema: str | None = self.datastore.schema if self.postgres else None

    def name(self, table: str) -> str:
        return f'"{self.schema}"."{table}"' if self.postgres else f'"{table}"'

    def sql(self, statement: str) -> str:
        """Statements are written with `?` placeholders and `{name}` table names."""
        return statement.replace("?", "%s") if self.postgres else statement

    @contextmanager
    def transaction(self, commit: bool = True) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield cursor

    def close(self) -> None:
        """The store's connections are the event store's: closed with the application."""

    def execute(self, cursor: Any, statement: str, params: tuple[Any, ...] = ()) -> Any:
        cursor.execute(self.sql(statement), params)
        return cursor

    def add_column(self, cursor: Any, table: str, column: str, definition: str) -> None:
        """Add a column to a table created before it had it (none if it has it)."""
        if self.postgres:
            self.execute(
                cursor,
                "SELECT column_name AS name FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ?",
                (self.schema, table),
            )
        else:
            self.execute(cursor, "SELECT name FROM pragma_table_info(?)", (table,))
        if column not in {row["name"] for row in cursor.fetchall()}:
            self.execute(cursor, f"ALTER TABLE {self.name(table)} ADD COLUMN {column} {definition}")

    def select_in(
        self,
        cursor: Any,
        statement: str,
        values: Iterable[Any],
        params: tuple[Any, ...] = (),
        chunk: int = 500,
    ) -> Iterator[Any]:
        """Rows of `statement`, whose `{marks}` is the placeholder list of an `IN (...)` over
        `values`, asked a chunk of values at a time (after the other `params`)."""
        values = list(values)
        for start in range(0, len(values), chunk):
            part = values[start : start + chunk]
            marks = ", ".join("?" for _ in part)
            self.execute(cursor, statement.replace("{marks}", marks), (*params, *part))
            yield from cursor.fetchall()


class SQLiteTables(Tables):
    """Tables in a SQLite file of their own, for a projection that more than one process
    writes (the customers service and its second process).

    Its writes never wait for the event store's, and a writing transaction takes the file's
    write lock when it begins (`BEGIN IMMEDIATE`), waiting its turn for up to `lock_timeout`
    seconds: a transaction that began by reading could otherwise fail half-way ("database is
    locked") when another process wrote first. One connection per thread."""

    def __init__(self, path: str, lock_timeout: float = 30.0) -> None:
        self.path = path
        self.lock_timeout = lock_timeout
        self.postgres = False
        self.schema = None
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._guard = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                self.path,
                timeout=self.lock_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            # A projection is rebuilt from its log: after a power loss it may miss its last
            # transactions (with their tracked position, so it applies them again), never
            # be corrupted. Its commits do not wait for the disk.
            connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection = connection
            with self._guard:
                self._connections.append(connection)
        return connection

    @contextmanager
    def transaction(self, commit: bool = True) -> Iterator[Any]:
        cursor = self._connection().cursor()
        cursor.execute("BEGIN IMMEDIATE" if commit else "BEGIN")
        try:
            yield cursor
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        else:
            cursor.execute("COMMIT" if commit else "ROLLBACK")
        finally:
            cursor.close()

    def close(self) -> None:
        with self._guard:
            for connection in self._connections:
                connection.close()
            self._connections.clear()


TRACKING_TABLE = "projection_tracking"


def create_tracking_table(tables: Tables) -> None:
    with tables.transaction() as cursor:
        tables.execute(
            cursor,
            f"CREATE TABLE IF NOT EXISTS {tables.name(TRACKING_TABLE)} "
            "(name TEXT PRIMARY KEY, position BIGINT NOT NULL)",
        )


def tracked_position(tables: Tables, cursor: Any, name: str) -> int:
    tables.execute(
        cursor, f"SELECT position FROM {tables.name(TRACKING_TABLE)} WHERE name = ?", (name,)
    )
    row = cursor.fetchone()
    return int(row["position"]) if row else 0


def track(tables: Tables, cursor: Any, name: str, position: int) -> None:
    tables.execute(
        cursor,
        f"INSERT INTO {tables.name(TRACKING_TABLE)} (name, position) VALUES (?, ?) "
        "ON CONFLICT (name) DO UPDATE SET position = excluded.position",
        (name, position),
    )


def lock_tracking(tables: Tables, cursor: Any, name: str) -> int:
    """The tracked position, locked for this transaction on PostgreSQL (SQLite serializes
    writers already), so that two consumers can never apply the same entry twice."""
    if not tables.postgres:
        return tracked_position(tables, cursor, name)
    tables.execute(
        cursor,
        f"INSERT INTO {tables.name(TRACKING_TABLE)} (name, position) VALUES (?, 0) "
        "ON CONFLICT (name) DO NOTHING",
        (name,),
    )
    tables.execute(
        cursor,
        f"SELECT position FROM {tables.name(TRACKING_TABLE)} WHERE name = ? FOR UPDATE",
        (name,),
    )
    row = cursor.fetchone()
    return int(row["position"]) if row else 0
