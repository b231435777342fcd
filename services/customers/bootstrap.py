"""The one place the customers service is wired together from a configuration."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from contracts import CUSTOMER_COMMANDS_STREAM, CUSTOMERS_STREAM, SETTINGS_STREAM
from contracts.imports import cancelled_import_key
from psa.config import Config
from psa.customer_rules.projection import SettingsProjection
from psa.persistence import event_store_env
from psa.streams.consumer import StreamConsumer
from psa.streams.runtime import service_relay
from psa.tables import SQLiteTables, Tables

from .application import CustomersApplication
from .commands import ImportBatchHandler
from .list_projection import CustomerListProjection
from .publishing import published_topics, translate_page

SERVICE = "customers"


def build_application(config: Config) -> tuple[CustomersApplication, SettingsProjection]:
    """The customers application with its settings projection and customer list."""
    app = CustomersApplication(env=event_store_env(config, SERVICE))
    tables = Tables(app.recorder)
    projection = SettingsProjection(tables)
    app.settings_of = projection.view
    app.customer_list = CustomerListProjection(app, list_tables(config, tables))
    app.save_listeners.append(app.customer_list.wake)
    return app, projection


def list_tables(config: Config, tables: Tables) -> Tables:
    """Where the customer list lives: beside the events on PostgreSQL; on SQLite in a file of
    its own, which the service's two processes write without waiting for the event store's
    writer (or failing on it)."""
    if tables.postgres:
        return tables
    with tables.transaction() as cursor:  # the list as it was kept in the event store's file
        for table in ("customer_posting", "customer_term", "customer_scope", "customer_list"):
            tables.execute(cursor, f"DROP TABLE IF EXISTS {tables.name(table)}")
    return SQLiteTables(str(config.data_dir / f"{SERVICE}-list.sqlite"))


def build_workers(
    config: Config,
    app: CustomersApplication,
    projection: SettingsProjection,
    client: aioredis.Redis,
    background: bool = False,
) -> list[Any]:
    """The consumers of `settings.events.v1` and `customers.commands.v1`, the relay of
    `customers.events.v1` and the customer list; with `background`, the last two run in a
    second process (see `background.py`)."""
    consumer = StreamConsumer(
        client,
        config.stream(SETTINGS_STREAM),
        SERVICE,
        projection.handle,
        idle_ms=config.stream_idle_ms,
    )
    commands = StreamConsumer(
        client,
        config.stream(CUSTOMER_COMMANDS_STREAM),
        SERVICE,
        ImportBatchHandler(app, cancelled_import(config, client)).handle,
        idle_ms=config.stream_idle_ms,
        trim=True,  # an executed batch is of no use to anyone: its outcome is an event
    )
    if background:
        from .background import BackgroundProcess

        process = BackgroundProcess(config)
        app.save_listeners.append(process.wake)
        return [consumer, commands, process]
    return [consumer, customers_relay(config, app, client), app.customer_list, commands]


def cancelled_import(config: Config, client: aioredis.Redis) -> Any:
    """Whether the importer marked a job cancelled (`cancelled_import_key`)."""
    stream = config.stream(CUSTOMER_COMMANDS_STREAM)

    async def cancelled(job_id: str) -> bool:
        return bool(await client.exists(cancelled_import_key(stream, job_id)))

    return cancelled


def customers_relay(config: Config, app: CustomersApplication, client: aioredis.Redis) -> Any:
    """The relay of `customers.events.v1` (an import batch's customers in its outcome)."""
    return service_relay(
        config,
        app,
        client,
        CUSTOMERS_STREAM,
        None,
        published_topics(),
        translate_page=translate_page,
    )
