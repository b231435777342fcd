"""The settings domain: the `Tenant` and `CustomerSettings` aggregates and their rules."""

from .common import Actor, event_type
from .customer_settings import (
    DEFAULT_ROLES,
    FIELD_TYPES,
    HIERARCHY_FILTERS,
    MULTI_COMPANY_KEYS,
    CustomerSettings,
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
    "Tenant",
    "builtin_type_id",
    "event_type",
    "settings_id",
]
