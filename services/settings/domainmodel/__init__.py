"""The settings domain: the `Tenant` and `CustomerSettings` aggregates and their rules."""

from .base import SettingsEvent
from .common import Actor, event_type
from .customer_settings import CustomerSettings
from .state import (
    DEFAULT_ROLES,
    FIELD_TYPES,
    HIERARCHY_FILTERS,
    MULTI_COMPANY_KEYS,
    builtin_type_id,
    settings_id,
)
from .tenant import Tenant

__all__ = [
    "DEFAULT_ROLES",
    "FIELD_TYPES",
    "HIERARCHY_FILTERS",
    "MULTI_COMPANY_KEYS",
    "Actor",
    "CustomerSettings",
    "SettingsEvent",
    "Tenant",
    "builtin_type_id",
    "event_type",
    "settings_id",
]
