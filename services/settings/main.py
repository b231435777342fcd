"""Entry point of the settings service on its own (compose runs one process per service)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from psa.auth import load_secret
from psa.config import Config
from psa.web import new_api

from .api import router
from .bootstrap import build_application


def create_app(config: Config | None = None) -> FastAPI:
    """The settings service's ASGI application."""
    config = config or Config()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings_app = build_application(config)
        try:
            yield
        finally:
            app.state.settings_app.close()

    app = new_api("PSA settings service", lifespan)
    app.state.jwt_secret = load_secret(config)
    app.include_router(router)
    return app
