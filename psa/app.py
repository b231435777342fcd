"""One process with every service on one base URL: what `psa up` and `make up` run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.settings.api import router as settings_router
from services.settings.bootstrap import build_application as build_settings

from .auth import load_secret
from .config import Config
from .web import new_api


def create_app(config: Config | None = None) -> FastAPI:
    """All services of the customer section in one ASGI application."""
    config = config or Config()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings_app = build_settings(config)
        try:
            yield
        finally:
            app.state.settings_app.close()

    app = new_api("PSA customer section", lifespan)
    app.state.jwt_secret = load_secret(config)
    app.include_router(settings_router)
    return app
