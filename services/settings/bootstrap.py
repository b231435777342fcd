"""The one place the settings service is wired together from a configuration."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from contracts import SETTINGS_STREAM
from psa.config import Config
from psa.persistence import event_store_env, postgres_conninfo
from psa.streams.relay import OutboxRelay
from psa.streams.runtime import postgres_listener

from .application import SettingsApplication
from .publishing import to_envelope

SERVICE = "settings"


def build_application(config: Config) -> SettingsApplication:
    """The settings application on the configured store (SQLite file or PostgreSQL schema)."""
    return SettingsApplication(env=event_store_env(config, SERVICE))


def build_workers(config: Config, app: SettingsApplication, client: aioredis.Redis) -> list[Any]:
    """The outbox relay of `settings.events.v1`, woken by every save of this process and, on
    PostgreSQL, by the store's NOTIFY from other processes."""
    listen = None
    if config.uses_postgres:
        channel = app.recorder.channel_name  # type: ignore[attr-defined]
        listen = postgres_listener(postgres_conninfo(config), channel)
    relay = OutboxRelay(app, client, config.stream(SETTINGS_STREAM), to_envelope, listen=listen)
    app.save_listeners.append(relay.wake)
    return [relay]
