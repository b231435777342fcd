"""The only code the services share: the published envelope, payloads and stream names."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from .customers import CustomerPayload, ImportedCustomer
from .envelope import ActorRef, Envelope
from .imports import CommandPayload, ImportBatchExecuted, ImportBatchQueued, ImportRow, RowOutcome
from .settings import SettingsPayload

SETTINGS_STREAM = "settings.events.v1"
CUSTOMERS_STREAM = "customers.events.v1"
CUSTOMER_COMMANDS_STREAM = "customers.commands.v1"


def dead_letter_stream(stream: str) -> str:
    """Where entries that keep failing go, with their error."""
    return f"{stream}.dlq"


SettingsEnvelope = Envelope[SettingsPayload]
CustomerEnvelope = Envelope[CustomerPayload]
CommandEnvelope = Envelope[CommandPayload]

# Every published schema, by name; a test pins each one to a committed snapshot.
SCHEMAS: dict[str, TypeAdapter[Any]] = {
    "settings.events.v1": TypeAdapter(SettingsEnvelope),
    "customers.events.v1": TypeAdapter(CustomerEnvelope),
    "customers.commands.v1": TypeAdapter(CommandEnvelope),
}

__all__ = [
    "CUSTOMERS_STREAM",
    "CUSTOMER_COMMANDS_STREAM",
    "SCHEMAS",
    "SETTINGS_STREAM",
    "ActorRef",
    "CommandEnvelope",
    "CommandPayload",
    "CustomerEnvelope",
    "CustomerPayload",
    "Envelope",
    "ImportBatchExecuted",
    "ImportBatchQueued",
    "ImportRow",
    "ImportedCustomer",
    "RowOutcome",
    "SettingsEnvelope",
    "SettingsPayload",
    "dead_letter_stream",
]
