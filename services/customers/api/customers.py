"""Customers: create, read, change, their history and contact persons.

Plain `def` routes: the eventsourcing application is synchronous, so they run in FastAPI's
thread pool. A request that carries `Settings-Position` (from a settings write) waits briefly
until the customers service has applied that change, or answers 503 saying it has not yet.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status

from psa.auth import Principal
from psa.errors import DomainError, NotReadyError
from psa.http import POSITION_HEADER, IfMatch, TenantPrincipal, set_version_headers

from ..application import CustomerActor, CustomersApplication
from ..projections import SettingsProjection
from ..schemas import (
    ContactIn,
    ContactPublic,
    CustomerCreate,
    CustomerHistoryPage,
    CustomerPublic,
    CustomerUpdate,
)

router = APIRouter(prefix="/api/v1", tags=["customers"])
SETTINGS_WAIT_SECONDS = 2.0


def get_app(request: Request) -> CustomersApplication:
    app: CustomersApplication = request.app.state.customers_app
    return app


def settings_applied(
    request: Request,
    position: Annotated[
        int | None,
        Header(
            alias=POSITION_HEADER,
            description="The Settings-Position a settings write returned: wait until the "
            "customers service has applied it",
        ),
    ] = None,
) -> None:
    if position is None:
        return
    projection: SettingsProjection = request.app.state.settings_projection
    if not projection.wait_for(position, SETTINGS_WAIT_SECONDS):
        raise NotReadyError(
            f"the settings change at position {position} has not reached the customers "
            f"service yet (it has applied up to {projection.position}); retry in a moment",
            POSITION_HEADER,
        )


App = Annotated[CustomersApplication, Depends(get_app)]
SettingsApplied = Annotated[None, Depends(settings_applied)]


def actor_of(principal: Principal) -> CustomerActor:
    if not principal.company:
        raise DomainError("the token names no company to act in: get one with --company", "company")
    return CustomerActor(id=principal.sub, name=principal.name, company_id=principal.company)


def public(app: CustomersApplication, customer: dict[str, Any]) -> dict[str, Any]:
    """A customer as the API shows it: each relationship says if invoicing is allowed."""
    view = app.settings_of(customer["tenant_id"])
    for relationship in customer["relationships"]:
        item = view.customer_type(relationship["type_id"]) if view else None
        relationship["invoicing_allowed"] = bool(item and item["invoicing_allowed"])
    return customer


def _tenant(principal: Principal) -> str:
    return str(principal.tenant)


@router.post("/customers", status_code=status.HTTP_201_CREATED, response_model=CustomerPublic)
def create_customer(
    body: CustomerCreate,
    app: App,
    principal: TenantPrincipal,
    response: Response,
    _: SettingsApplied,
) -> dict[str, Any]:
    """Create a customer: default type, number and every rule of the settings applied."""
    change = app.create_customer(
        actor_of(principal), _tenant(principal), body.model_dump(exclude_unset=True)
    )
    set_version_headers(response, change.version)
    response.headers["Location"] = f"/api/v1/customers/{change.result['id']}"
    return public(app, change.result)


@router.get("/customers/{customer_id}", response_model=CustomerPublic)
def get_customer(
    customer_id: UUID,
    app: App,
    principal: TenantPrincipal,
    response: Response,
    _: SettingsApplied,
) -> dict[str, Any]:
    """A customer of the caller's tenant."""
    customer = app.get_customer(_tenant(principal), customer_id)
    set_version_headers(response, customer.version)
    return public(app, customer.as_dict())


@router.patch("/customers/{customer_id}", response_model=CustomerPublic)
def update_customer(
    customer_id: UUID,
    body: CustomerUpdate,
    app: App,
    principal: TenantPrincipal,
    response: Response,
    if_match: IfMatch,
    _: SettingsApplied,
) -> dict[str, Any]:
    """Change shared details, the number, or the caller's company's relationship."""
    change = app.update_customer(
        actor_of(principal),
        _tenant(principal),
        customer_id,
        body.model_dump(exclude_unset=True),
        if_match,
    )
    set_version_headers(response, change.version)
    return public(app, change.result)


@router.get("/customers/{customer_id}/history", response_model=CustomerHistoryPage)
def customer_history(
    customer_id: UUID,
    app: App,
    principal: TenantPrincipal,
    response: Response,
    cursor: Annotated[int | None, Query(description="`next_cursor` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Every change of the customer, newest first: who, when, before and after."""
    items, total, next_cursor, version = app.history(_tenant(principal), customer_id, cursor, limit)
    set_version_headers(response, version)
    return {
        "items": [
            {
                "position": e.position,
                "version": e.version,
                "occurred_at": e.occurred_at,
                "actor": {"id": e.actor_id, "name": e.actor_name},
                "type": e.type,
                "before": e.before,
                "after": e.after,
            }
            for e in items
        ],
        "total": total,
        "next_cursor": next_cursor,
    }


@router.post(
    "/customers/{customer_id}/contacts",
    status_code=status.HTTP_201_CREATED,
    response_model=ContactPublic,
)
def add_contact(
    customer_id: UUID,
    body: ContactIn,
    app: App,
    principal: TenantPrincipal,
    response: Response,
    if_match: IfMatch,
    _: SettingsApplied,
) -> dict[str, Any]:
    """Add a contact person to the customer."""
    change = app.add_contact(
        actor_of(principal), _tenant(principal), customer_id, body.model_dump(), if_match
    )
    set_version_headers(response, change.version)
    result: dict[str, Any] = change.result
    return result
