"""The one place the settings service is wired together from a configuration."""

from __future__ import annotations

from psa.config import Config
from psa.persistence import event_store_env

from .application import SettingsApplication

SERVICE = "settings"


def build_application(config: Config) -> SettingsApplication:
    """The settings application on the configured store (SQLite file or PostgreSQL schema)."""
    return SettingsApplication(env=event_store_env(config, SERVICE))
