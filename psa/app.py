"""One process with every service on one base URL: what `psa up` and `make up` run."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.customers.api import router as customers_router
from services.customers.bootstrap import build_application as build_customers
from services.customers.bootstrap import build_workers as customers_workers
from services.importer.api import router as importer_router
from services.importer.bootstrap import build_application as build_importer
from services.importer.bootstrap import build_workers as importer_workers
from services.settings.api import router as settings_router
from services.settings.bootstrap import build_application as build_settings
from services.settings.bootstrap import build_workers as settings_workers

from .auth import load_secret
from .config import Config
from .streams.runtime import Workers, redis_client
from .web import new_api

log = logging.getLogger("psa")


def create_app(config: Config | None = None, *, background: bool = False) -> FastAPI:
    """All services of the customer section in one ASGI application. With `background`, the
    customers service keeps its customer list and its relay in a second process (another
    core), as it does when run on its own; the store must then be files or PostgreSQL."""
    config = config or Config()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings = build_settings(config)
        customers, projection = build_customers(config)
        app.state.settings_app = settings
        app.state.customers_app = customers
        app.state.settings_projection = projection
        importer, importer_settings = build_importer(config)
        app.state.importer_app = importer
        app.state.importer_settings = importer_settings
        if config.redis_url:
            client = redis_client(config.redis_url)
            workers = Workers(
                settings_workers(config, settings, client)
                + customers_workers(config, customers, projection, client, background=background)
                + importer_workers(config, importer, importer_settings, client),
                client,
            )
        else:
            log.warning("REDIS_URL is not set: settings changes do not reach the customers")
            workers = Workers(importer_workers(config, importer, importer_settings, None))
        workers.start()
        try:
            yield
        finally:
            await workers.stop()
            settings.close()
            customers.close()
            importer.close()

    app = new_api("PSA customer section", lifespan)
    app.state.jwt_secret = load_secret(config)
    app.include_router(settings_router)
    app.include_router(customers_router)
    app.include_router(importer_router)
    return app
