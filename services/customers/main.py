"""Entry point of the customers service on its own (compose runs one process per service)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from psa.auth import load_secret
from psa.config import Config
from psa.streams.runtime import Workers, redis_client
from psa.web import new_api

from .api import router
from .bootstrap import build_application, build_workers


def create_app(config: Config | None = None) -> FastAPI:
    """The customers service's ASGI application with its consumer and relay."""
    config = config or Config()
    if not config.redis_url:
        raise SystemExit("the customers service needs REDIS_URL: it learns the settings there")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        customers, projection = build_application(config)
        app.state.customers_app = customers
        app.state.settings_projection = projection
        client = redis_client(str(config.redis_url))
        workers = Workers(
            build_workers(
                config, customers, projection, client, background=config.background_process
            ),
            client,
        )
        workers.start()
        try:
            yield
        finally:
            await workers.stop()
            customers.close()

    app = new_api("PSA customers service", lifespan)
    app.state.jwt_secret = load_secret(config)
    app.include_router(router)
    return app
