"""The one place the importer is wired together from a configuration."""

from __future__ import annotations

import asyncio
import socket
from typing import Any
from uuid import UUID

import orjson
import redis.asyncio as aioredis

from contracts import (
    CUSTOMER_COMMANDS_STREAM,
    CUSTOMERS_STREAM,
    SETTINGS_STREAM,
    dead_letter_stream,
)
from contracts.imports import cancelled_import_key
from psa.config import Config
from psa.customer_rules.projection import SettingsProjection
from psa.persistence import event_store_env
from psa.streams.consumer import StreamConsumer
from psa.streams.runtime import service_relay
from psa.tables import Tables

from .application import ImporterApplication
from .publishing import published_topics, to_envelope
from .runner import ImportRunner

SERVICE = "importer"


def build_application(config: Config) -> tuple[ImporterApplication, SettingsProjection]:
    """The importer with its own settings projection (for templates and checks)."""
    app = ImporterApplication(env=event_store_env(config, SERVICE), data_dir=config.data_dir)
    projection = SettingsProjection(Tables(app.recorder))
    app.settings_of = projection.view
    return app, projection


def build_workers(
    config: Config,
    app: ImporterApplication,
    projection: SettingsProjection,
    client: aioredis.Redis | None,
) -> list[Any]:
    """The runner of import jobs; with Redis, the consumers of `settings.events.v1` and
    `customers.events.v1` and the relay of `customers.commands.v1`."""
    runner = ImportRunner(
        app,
        concurrency=config.import_concurrency,
        name=f"{socket.gethostname()}:{config.port}:{config.data_dir.resolve()}",
    )
    app.save_listeners.append(runner.wake)
    workers: list[Any] = [runner]
    if client is None:
        return workers

    async def customer_event(position: int, body: bytes) -> None:
        envelope = _envelope(body)
        if app.follows(envelope):  # most entries (customers an import made) are not followed
            await asyncio.to_thread(app.apply_customer_event, position, envelope)

    async def dead_batch(position: int, body: bytes) -> None:
        await asyncio.to_thread(app.apply_dead_batch, _envelope(body))

    app.cancel_hint = cancel_hint(config)
    relay = service_relay(
        config, app, client, CUSTOMER_COMMANDS_STREAM, to_envelope, topics=published_topics()
    )
    workers += [
        StreamConsumer(
            client,
            config.stream(SETTINGS_STREAM),
            SERVICE,
            projection.handle,
            idle_ms=config.stream_idle_ms,
        ),
        StreamConsumer(
            client,
            config.stream(CUSTOMERS_STREAM),
            SERVICE,
            customer_event,
            idle_ms=config.stream_idle_ms,
        ),
        # Batches the customers service gave up on: their rows are reported failed.
        StreamConsumer(
            client,
            dead_letter_stream(config.stream(CUSTOMER_COMMANDS_STREAM)),
            SERVICE,
            dead_batch,
            idle_ms=config.stream_idle_ms,
        ),
        relay,
    ]
    return workers


def cancel_hint(config: Config) -> Any:
    """Marks a cancelled job for the customers service (`cancelled_import_key`), from the
    job runner's thread: kept a week, long after its last batch."""
    import redis

    client = redis.Redis.from_url(str(config.redis_url), socket_timeout=5, socket_connect_timeout=5)
    stream = config.stream(CUSTOMER_COMMANDS_STREAM)

    def hint(job_id: UUID) -> None:
        client.set(cancelled_import_key(stream, job_id), b"1", ex=7 * 24 * 3600)

    return hint


def _envelope(body: bytes) -> dict[str, Any]:
    """The envelope as plain JSON data (only the fields the importer reads are used)."""
    document: dict[str, Any] = orjson.loads(body)
    return document
