"""The one place the importer is wired together from a configuration."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from contracts import SETTINGS_STREAM
from psa.config import Config
from psa.customer_rules.projection import SettingsProjection
from psa.persistence import event_store_env
from psa.streams.consumer import StreamConsumer
from psa.tables import Tables

from .application import ImporterApplication
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
    """The consumer of `settings.events.v1` and the runner of import jobs."""
    runner = ImportRunner(app)
    app.save_listeners.append(runner.wake)
    workers: list[Any] = [runner]
    if client is not None:
        workers.append(
            StreamConsumer(
                client,
                config.stream(SETTINGS_STREAM),
                SERVICE,
                projection.handle,
                idle_ms=config.stream_idle_ms,
            )
        )
    return workers
