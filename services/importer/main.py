"""Entry point of the importer on its own (compose runs one process per service)."""

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
    """The importer's ASGI application with its consumer and relay."""
    config = config or Config()
    if not config.redis_url:
        raise SystemExit("the importer needs REDIS_URL: it learns the settings there")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        importer, projection = build_application(config)
        app.state.importer_app = importer
        app.state.importer_settings = projection
        client = redis_client(str(config.redis_url))
        workers = Workers(build_workers(config, importer, projection, client), client)
        workers.start()
        try:
            yield
        finally:
            await workers.stop()
            importer.close()

    app = new_api("PSA importer", lifespan)
    app.state.jwt_secret = load_secret(config)
    app.include_router(router)
    return app
