"""Builds the environment of an eventsourcing Application from the configuration."""

from __future__ import annotations

import threading
from typing import Any
from uuid import UUID

from .config import Config


def event_store_env(config: Config, service: str) -> dict[str, str]:
    """Each service has its own store: a SQLite file, or a PostgreSQL schema of its own."""
    if config.uses_postgres:
        schema = f"{config.schema_prefix}{service}"
        ensure_postgres_schema(config, schema)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_HOST": config.postgres_host,
            "POSTGRES_PORT": str(config.postgres_port),
            "POSTGRES_DBNAME": config.postgres_dbname,
            "POSTGRES_USER": config.postgres_user,
            "POSTGRES_PASSWORD": config.postgres_password.get_secret_value(),
            "POSTGRES_SCHEMA": schema,
            "POSTGRES_POOL_SIZE": "5",
            "POSTGRES_MAX_OVERFLOW": "10",
        }
    if config.persistence_module not in ("eventsourcing.sqlite", "sqlite"):
        raise ValueError(
            "PERSISTENCE_MODULE must be eventsourcing.sqlite or eventsourcing.postgres, "
            f"not {config.persistence_module!r}"
        )
    config.data_dir.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(config.data_dir / f"{service}.sqlite"),
        "SQLITE_LOCK_TIMEOUT": "30",
    }


def postgres_conninfo(config: Config) -> str:
    from psycopg.conninfo import make_conninfo

    return make_conninfo(
        host=config.postgres_host,
        port=config.postgres_port,
        dbname=config.postgres_dbname,
        user=config.postgres_user,
        password=config.postgres_password.get_secret_value() or None,
    )


def ensure_postgres_schema(config: Config, schema: str) -> None:
    """eventsourcing creates its tables but not the schema they live in."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(postgres_conninfo(config), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


def binary_event_inserts(recorder: Any) -> None:
    """On PostgreSQL, send new events to the server in binary.

    The library's recorder passes a transaction's events as one array of its composite type,
    through a `%s` placeholder, which psycopg fills in text: escaping every event's state,
    in Python, costs more than the rest of saving it. `%b` fills the same array in binary.
    A recorder whose statement is not that shape is left as it is."""
    from psycopg.sql import SQL

    statement = getattr(recorder, "insert_events_statement", None)
    if statement is None or not hasattr(getattr(recorder, "datastore", None), "schema"):
        return
    text = statement.as_string(None)
    if text.count("%s") == 1 and "unnest(%s::" in text:
        recorder.insert_events_statement = SQL(text.replace("%s", "%b"))  # type: ignore[arg-type]


def batched_sqlite_inserts(recorder: Any) -> None:
    """On SQLite, insert a transaction's events with one statement.

    The library's SQLite application recorder inserts them one statement at a time, to read
    each one's notification id (its rowid): a fifth of the customers service's time in an
    import, whose batches save a thousand events in one transaction. In a transaction, which
    holds the file's one write lock from its first insert, the rows of one `executemany`
    take consecutive rowids (the table has no INTEGER PRIMARY KEY, and its rows are never
    deleted: each new rowid is the largest plus one), so the last one tells them all. Any
    other recorder (a process recorder, which also records tracking) is left as it is."""
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    if type(recorder) is not SQLiteApplicationRecorder:
        return
    statement = recorder.insert_events_statement

    def insert_events(cursor: Any, stored_events: Any, **_: Any) -> list[int]:
        if not stored_events:
            return []
        cursor.executemany(
            statement,
            [
                (
                    s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
                    s.originator_version,
                    s.topic,
                    s.state,
                )
                for s in stored_events
            ],
        )
        cursor.execute("SELECT last_insert_rowid()")
        last = int(cursor.fetchone()[0])
        return list(range(last - len(stored_events) + 1, last + 1))

    recorder._insert_events = insert_events  # type: ignore[method-assign,assignment]


class HeldWriterError(RuntimeError):
    """A thread that holds a SQLite store's writer connection asked for another connection."""


def guard_held_writer(pool: Any, strict: bool) -> None:
    """Catch a thread asking for a connection while it holds the store's writer connection.

    The library's pool hands connections out in turn: a thread waiting for the writer holds
    everyone's turn, so the thread that has the writer and asks for any other connection
    waits for the waiter, which waits for it, until the pool's timeout (30 s) fails one of
    them. Code must ask for what it reads before its write transaction, or read with that
    transaction's cursor. `strict` (the tests) raises at once, whether or not another thread
    happens to be waiting; otherwise the pool runs as the library made it."""
    if not strict:
        return
    local = threading.local()
    get_connection, put_connection = pool.get_connection, pool.put_connection

    def guarded_get(timeout: float | None = None, *, is_writer: bool | None = None) -> Any:
        if getattr(local, "writer", False):
            raise HeldWriterError(
                "a connection was asked for by a thread that holds the writer connection"
            )
        connection = get_connection(timeout, is_writer=is_writer)
        if is_writer:
            local.writer = True
        return connection

    def guarded_put(connection: Any) -> None:
        if connection.is_writer:
            local.writer = False
        put_connection(connection)

    pool.get_connection = guarded_get
    pool.put_connection = guarded_put
