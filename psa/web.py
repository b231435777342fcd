"""A FastAPI application with the API's common parts: docs, problem details, health."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Response

from . import problems
from .config import Config

DESCRIPTION = """
Settings of the customer section of a PSA product: customer types (asiakastyypit), customer
groups (asiakasryhmät), company groups (yritysryhmät), additional fields (lisäkentät), customer
numbering and the multi-company rules. Every change is an event with an author and a time.

Authenticate with a bearer token from `psa token`. Errors are RFC 9457 problem details whose
`errors` name the field. Writes return an `ETag`; send it back in `If-Match` to refuse a change
based on a stale version (412).
"""


def new_api(title: str, lifespan: Callable[[FastAPI], Any]) -> FastAPI:
    app = FastAPI(title=title, version="1.0.0", description=DESCRIPTION, lifespan=lifespan)
    problems.install(app)

    @app.get("/health", tags=["operations"])
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/asyncapi.json", tags=["operations"])
    def asyncapi() -> Response:
        """The AsyncAPI document of the event streams."""
        from contracts.asyncapi import document_json

        return Response(document_json(), media_type="application/json")

    return app


def serve(app: FastAPI, config: Config) -> None:
    """Run one service's API as `python -m services.<name>` does (compose's containers): on
    the configured address, under the proxy's path if it has one."""
    import uvicorn

    from .gc_tuning import tune_gc

    tune_gc()
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        log_level=config.log_level,
        root_path=config.root_path,
    )
