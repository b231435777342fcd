"""Builds the environment of an eventsourcing Application from the configuration."""

from __future__ import annotations

from typing import Any

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
