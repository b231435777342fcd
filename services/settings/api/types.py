"""Customer types (asiakastyypit)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from psa.http import IfMatch, TenantPrincipal, set_version_headers

from ..domainmodel import CustomerSettings
from ..schemas import (
    CustomerTypeCreate,
    CustomerTypePublic,
    CustomerTypeUpdate,
)
from .deps import SETTINGS, App, actor_of, tenant_id_of, write

router = APIRouter(prefix="/api/v1")


# ---------------------------------------------------------------- customer types
def _type_view(settings: CustomerSettings, type_id: Any) -> dict[str, Any]:
    return settings.type_view(settings.customer_types[type_id])


@router.get(f"{SETTINGS}/types", response_model=list[CustomerTypePublic], tags=["customer types"])
def list_types(app: App, principal: TenantPrincipal, response: Response) -> list[dict[str, Any]]:
    """Customer types, archived ones included."""
    settings = app.get_settings(tenant_id_of(principal))
    set_version_headers(response, settings.version)
    return [settings.type_view(t) for t in settings.customer_types.values()]


@router.post(
    f"{SETTINGS}/types",
    status_code=status.HTTP_201_CREATED,
    response_model=CustomerTypePublic,
    tags=["customer types"],
)
def add_type(
    body: CustomerTypeCreate,
    app: App,
    principal: TenantPrincipal,
    response: Response,
    if_match: IfMatch,
) -> Any:
    """Add a customer type, optionally as a default."""
    roles = [
        role
        for role, flag in (
            ("customer", body.default_customer),
            ("subcontractor", body.default_subcontractor),
            ("consumer", body.default_consumer),
        )
        if flag
    ]
    actor = actor_of(principal)
    return write(
        app,
        principal,
        response,
        if_match,
        lambda s: s.add_customer_type(
            actor, body.name, invoicing_allowed=body.invoicing_allowed, default_for=roles
        ),
        _type_view,
    )


@router.patch(
    f"{SETTINGS}/types/{{type_id}}", response_model=CustomerTypePublic, tags=["customer types"]
)
def update_type(
    type_id: str,
    body: CustomerTypeUpdate,
    app: App,
    principal: TenantPrincipal,
    response: Response,
    if_match: IfMatch,
) -> Any:
    """Rename a type, change its invoicing or default flags, archive or restore it."""
    defaults = {
        role: value
        for role, value in (
            ("customer", body.default_customer),
            ("subcontractor", body.default_subcontractor),
            ("consumer", body.default_consumer),
        )
        if value is not None
    }
    actor = actor_of(principal)
    return write(
        app,
        principal,
        response,
        if_match,
        lambda s: s.update_customer_type(
            actor,
            type_id,
            name=body.name,
            invoicing_allowed=body.invoicing_allowed,
            defaults=defaults,
            archived=body.archived,
        ),
        _type_view,
    )


@router.delete(
    f"{SETTINGS}/types/{{type_id}}", response_model=CustomerTypePublic, tags=["customer types"]
)
def archive_type(
    type_id: str, app: App, principal: TenantPrincipal, response: Response, if_match: IfMatch
) -> Any:
    """Archive a customer type (kept for existing customers; restore with PATCH)."""
    actor = actor_of(principal)
    return write(
        app,
        principal,
        response,
        if_match,
        lambda s: s.archive_customer_type(actor, type_id),
        _type_view,
    )
