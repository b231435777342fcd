"""Tenants: create them (operators), their companies and users (admins)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from psa.auth import Principal
from psa.errors import NotFoundError, PermissionDeniedError
from psa.http import CurrentPrincipal, IfMatch, set_version_headers

from ..schemas import (
    CompanyCreate,
    CompanyPublic,
    HistoryPagePublic,
    TenantCreate,
    TenantPublic,
    UserCreate,
    UserPublic,
)
from .deps import App, actor_of, history_public

router = APIRouter(prefix="/api/v1")


# ---------------------------------------------------------------- tenants
def _check_tenant_access(principal: Principal, tenant_id: UUID) -> None:
    # Another tenant's data does not exist as far as the caller can tell: 404, not 403.
    if not principal.is_operator and principal.tenant != tenant_id:
        raise NotFoundError("no such tenant")


@router.post(
    "/tenants",
    status_code=status.HTTP_201_CREATED,
    response_model=TenantPublic,
    tags=["tenants"],
)
def create_tenant(
    body: TenantCreate, app: App, principal: CurrentPrincipal, response: Response
) -> dict[str, Any]:
    """Create a tenant with its companies and first admin (operators only)."""
    if not principal.is_operator:
        raise PermissionDeniedError("only an operator may create tenants")
    change = app.create_tenant(
        actor_of(principal), body.name, body.companies, body.admin.id, body.admin.name
    )
    set_version_headers(response, change.version, change.position)
    response.headers["Location"] = f"/api/v1/tenants/{change.result['id']}"
    result: dict[str, Any] = change.result
    return result


@router.get("/tenants/{tenant_id}", response_model=TenantPublic, tags=["tenants"])
def get_tenant(
    tenant_id: UUID, app: App, principal: CurrentPrincipal, response: Response
) -> dict[str, Any]:
    """A tenant with its companies and users."""
    _check_tenant_access(principal, tenant_id)
    tenant = app.get_tenant(tenant_id)
    set_version_headers(response, tenant.version)
    return tenant.as_dict()


@router.post(
    "/tenants/{tenant_id}/companies",
    status_code=status.HTTP_201_CREATED,
    response_model=CompanyPublic,
    tags=["tenants"],
)
def add_company(
    tenant_id: UUID,
    body: CompanyCreate,
    app: App,
    principal: CurrentPrincipal,
    response: Response,
    if_match: IfMatch,
) -> dict[str, Any]:
    """Add a company to the tenant (admins)."""
    _check_tenant_access(principal, tenant_id)
    change = app.add_company(actor_of(principal), tenant_id, body.name, if_match)
    set_version_headers(response, change.version, change.position)
    return {"id": change.result, "name": app.get_tenant(tenant_id).companies[change.result]["name"]}


@router.post(
    "/tenants/{tenant_id}/users",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPublic,
    tags=["tenants"],
)
def add_user(
    tenant_id: UUID,
    body: UserCreate,
    app: App,
    principal: CurrentPrincipal,
    response: Response,
    if_match: IfMatch,
) -> Any:
    """Add a user to one of the tenant's companies (admins)."""
    _check_tenant_access(principal, tenant_id)
    change = app.add_user(
        actor_of(principal),
        tenant_id,
        body.id,
        body.name,
        body.company_id,
        body.company_ids,
        body.roles,
        if_match,
    )
    set_version_headers(response, change.version, change.position)
    return change.result


@router.get("/tenants/{tenant_id}/history", response_model=HistoryPagePublic, tags=["tenants"])
def get_tenant_history(
    tenant_id: UUID,
    app: App,
    principal: CurrentPrincipal,
    response: Response,
    cursor: Annotated[int | None, Query(description="`next_cursor` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Every change of the tenant (companies and users added), newest first, with its actor."""
    _check_tenant_access(principal, tenant_id)
    page = app.tenant_history(tenant_id, cursor=cursor, limit=limit)
    set_version_headers(response, page.version)
    return history_public(page)
