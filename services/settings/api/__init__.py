"""HTTP API of the settings service (DESIGN.md §7): thin routes that call one use case each.

Routes are plain `def`s: the eventsourcing application is synchronous, so FastAPI runs them in
its thread pool instead of blocking the event loop.
"""

from fastapi import APIRouter

from . import fields, groups, settings, tenants, types

router = APIRouter()
for module in (tenants, settings, types, groups, fields):
    router.include_router(module.router)

__all__ = ["router"]
