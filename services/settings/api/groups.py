"""Customer groups (asiakasryhmät) and company groups (yritysryhmät)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from psa.http import IfMatch, TenantPrincipal, set_version_headers

from ..domainmodel import CustomerSettings
from ..schemas import (
    CompanyGroupCreate,
    CompanyGroupPublic,
    CompanyGroupUpdate,
    CustomerGroupCreate,
    CustomerGroupPublic,
    CustomerGroupUpdate,
)
from .deps import SETTINGS, App, actor_of, tenant_id_of, write

router = APIRouter(prefix="/api/v1")


# ---------------------------------------------------------------- customer groups
def _group_view(settings: CustomerSettings, group_id: Any) -> dict[str, Any]:
    return dict(settings.customer_groups[group_id])


@router.get(
    f"{SETTINGS}/groups", response_model=list[CustomerGroupPublic], tags=["customer groups"]
)
def list_groups(app: App, principal: TenantPrincipal, response: Response) -> list[dict[str, Any]]:
    """Customer groups, archived ones included."""
    settings = app.get_settings(tenant_id_of(principal))
    set_version_headers(response, settings.version)
    return [dict(g) for g in settings.customer_groups.values()]


@router.post(
    f"{SETTINGS}/groups",
    status_code=status.HTTP_201_CREATED,
    response_model=CustomerGroupPublic,
    tags=["customer groups"],
)
def add_group(
    body: CustomerGroupCreate,
    app: App,
    principal: TenantPrincipal,
    response: Response,
    if_match: IfMatch,
) -> Any:
    """Add a customer group with an optional integration id."""
    actor = actor_of(principal)
    return write(
        app,
        principal,
        response,
        if_match,
        lambda s: s.add_customer_group(actor, body.name, body.integration_id),
        _group_view,
    )


@router.patch(
    f"{SETTINGS}/groups/{{group_id}}", response_model=CustomerGroupPublic, tags=["customer groups"]
)
def update_group(
    group_id: str,
    body: CustomerGroupUpdate,
    app: App,
    principal: TenantPrincipal,
    response: Response,
    if_match: IfMatch,
) -> Any:
    """Rename a customer group, change its integration id, archive or restore it."""
    actor = actor_of(principal)
    kwargs: dict[str, Any] = {"name": body.name, "archived": body.archived}
    if "integration_id" in body.model_fields_set:
        kwargs["integration_id"] = body.integration_id
    return write(
        app,
        principal,
        response,
        if_match,
        lambda s: s.update_customer_group(actor, group_id, **kwargs),
        _group_view,
    )


@router.delete(
    f"{SETTINGS}/groups/{{group_id}}", response_model=CustomerGroupPublic, tags=["customer groups"]
)
def archive_group(
    group_id: str, app: App, principal: TenantPrincipal, response: Response, if_match: IfMatch
) -> Any:
    """Archive a customer group (kept for existing customers; restore with PATCH)."""
    actor = actor_of(principal)
    return write(
        app,
        principal,
        response,
        if_match,
        lambda s: s.update_customer_group(actor, group_id, archived=True),
        _group_view,
    )


# ---------------------------------------------------------------- company groups
def _company_group_view(settings: CustomerSettings, group_id: Any) -> dict[str, Any]:
    return dict(settings.company_groups[group_id])


@router.get(
    f"{SETTINGS}/company-groups",
    response_model=list[CompanyGroupPublic],
    tags=["company groups"],
)
def list_company_groups(
    app: App, principal: TenantPrincipal, response: Response
) -> list[dict[str, Any]]:
    """Company groups, archived ones included."""
    settings = app.get_settings(tenant_id_of(principal))
    set_version_headers(response, settings.version)
    return [dict(g) for g in settings.company_groups.values()]


@router.post(
    f"{SETTINGS}/company-groups",
    status_code=status.HTTP_201_CREATED,
    response_model=CompanyGroupPublic,
    tags=["company groups"],
)
def add_company_group(
    body: CompanyGroupCreate,
    app: App,
    principal: TenantPrincipal,
    response: Response,
    if_match: IfMatch,
) -> Any:
    """Add a company group."""
    actor = actor_of(principal)
    return write(
        app,
        principal,
        response,
        if_match,
        lambda s: s.add_company_group(actor, body.name),
        _company_group_view,
    )


@router.patch(
    f"{SETTINGS}/company-groups/{{group_id}}",
    response_model=CompanyGroupPublic,
    tags=["company groups"],
)
def update_company_group(
    group_id: str,
    body: CompanyGroupUpdate,
    app: App,
    principal: TenantPrincipal,
    response: Response,
    if_match: IfMatch,
) -> Any:
    """Rename a company group, archive or restore it."""
    actor = actor_of(principal)
    return write(
        app,
        principal,
        response,
        if_match,
        lambda s: s.update_company_group(actor, group_id, name=body.name, archived=body.archived),
        _company_group_view,
    )


@router.delete(
    f"{SETTINGS}/company-groups/{{group_id}}",
    response_model=CompanyGroupPublic,
    tags=["company groups"],
)
def archive_company_group(
    group_id: str, app: App, principal: TenantPrincipal, response: Response, if_match: IfMatch
) -> Any:
    """Archive a company group (restore with PATCH)."""
    actor = actor_of(principal)
    return write(
        app,
        principal,
        response,
        if_match,
        lambda s: s.update_company_group(actor, group_id, archived=True),
        _company_group_view,
    )
