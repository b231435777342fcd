"""The one place the settings service is wired together from a configuration."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from contracts import SETTINGS_STREAM
from psa.config import Config
from psa.persistence import event_store_env
from psa.streams.runtime import service_relay

from .application import SettingsApplication
from .publishing import to_envelope

SERVICE = "settings"


def build_application(config: Config) -> SettingsApplication:
    """The settings application on the configured store (SQLite file or PostgreSQL schema)."""
    return SettingsApplication(env=event_store_env(config, SERVICE))


def build_workers(config: Config, app: SettingsApplication, client: aioredis.Redis) -> list[Any]:
    """The outbox relay of `settings.events.v1`, woken by every save of this process and, on
    PostgreSQL, by the store's NOTIFY from other processes."""
    return [service_relay(config, app, client, SETTINGS_STREAM, to_envelope)]
