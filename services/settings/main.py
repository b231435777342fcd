"""Entry point of the settings service on its own (compose runs one process per service)."""

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
    """The settings service's ASGI application, with its outbox relay when Redis is set."""
    config = config or Config()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings_app = build_application(config)
        workers = None
        if config.redis_url:
            client = redis_client(config.redis_url)
            workers = Workers(build_workers(config, app.state.settings_app, client), client)
            workers.start()
        try:
            yield
        finally:
            if workers is not None:
                await workers.stop()
            app.state.settings_app.close()

    app = new_api("PSA settings service", lifespan)
    app.state.jwt_secret = load_secret(config)
    app.include_router(router)
    return app
