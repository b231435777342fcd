"""Customers: create, read, change, their history and contact persons.

Plain `def` routes: the eventsourcing application is synchronous, so they run in FastAPI's
thread pool. A request that carries `Settings-Position` (from a settings write) waits briefly
until the customers service has applied that change, or answers 503 saying it has not yet.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from psa.auth import Principal
from psa.customer_rules.projection import SettingsProjection
from psa.customer_rules.settings_view import SettingsView
from psa.errors import DomainError, NotReadyError
from psa.http import POSITION_HEADER, IfMatch, TenantPrincipal, set_version_headers
from psa.tables import Tables

from ..application import CustomerActor, CustomersApplication
from ..reports import counts, csv_lines, xlsx_file
from ..schemas import (
    ContactIn,
    ContactPublic,
    CustomerCreate,
    CustomerHistoryPage,
    CustomerPage,
    CustomerPublic,
    CustomerUpdate,
    ReportRow,
)
from ..search import Query as SearchQuery
from ..search import Viewer, search, shown_history, visible_customer

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


def public(
    app: CustomersApplication, principal: Principal, customer: dict[str, Any]
) -> dict[str, Any]:
    """A customer as the caller may see it (the multi-company rules applied)."""
    view = app.settings(customer["tenant_id"])
    viewer = Viewer(customer["tenant_id"], actor_of(principal).company_id)
    return visible_customer(view, viewer, customer)


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
    return public(app, principal, change.result)


def filters(
    request: Request,
    q: Annotated[str | None, Query(description="Name, number or business id")] = None,
    type_id: str | None = None,
    group_id: str | None = None,
    company_group_id: str | None = None,
    tag: str | None = None,
    account_manager_id: str | None = None,
    kind: Literal["company", "subcontractor", "consumer"] | None = None,
    unit: Annotated[
        Literal["all", "parents", "subunits", "unlinked"] | None,
        Query(description="Hierarchy filter; default: the tenant's setting"),
    ] = None,
    sort: Literal["name", "number", "created"] = "name",
    order: Literal["asc", "desc"] = "asc",
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> SearchQuery:
    """The list's filters. Additional fields filter as `field.<id>=value` (text contains,
    dropdown equals, checkbox true/false, multiselect any of `a,b`) and `field.<id>.from` /
    `field.<id>.to` for dates."""
    fields: dict[str, dict[str, str]] = {}
    for key, value in request.query_params.items():
        if key.startswith("field."):
            name, _sep, op = key[len("field.") :].partition(".")
            fields.setdefault(name, {})[op or "eq"] = value
    return SearchQuery(
        q=q,
        type_id=type_id,
        group_id=group_id,
        company_group_id=company_group_id,
        tag=tag,
        account_manager_id=account_manager_id,
        kind=kind,
        unit=unit,
        fields=fields,
        sort=sort,
        descending=order == "desc",
        cursor=cursor,
        limit=limit,
    )


Filters = Annotated[SearchQuery, Depends(filters)]


def list_context(
    app: CustomersApplication, principal: Principal
) -> tuple[Tables, SettingsView, Viewer]:
    """What a list or report query needs, with the list caught up with the event log."""
    actor = actor_of(principal)
    view = app.settings(_tenant(principal))
    app.customer_list.wait_for(app.recorder.max_notification_id() or 0)
    return app.customer_list.tables, view, Viewer(_tenant(principal), actor.company_id)


@router.get("/customers", response_model=CustomerPage)
def list_customers(
    app: App, principal: TenantPrincipal, query: Filters, _: SettingsApplied
) -> dict[str, Any]:
    """Customers the caller may see, filtered, sorted and paged, with a total count."""
    items, total, next_cursor = search(*list_context(app, principal), query)
    return {"items": items, "total": total, "next_cursor": next_cursor}


@router.get("/reports/customers", response_model=list[ReportRow], tags=["reports"])
def customer_counts(
    app: App,
    principal: TenantPrincipal,
    query: Filters,
    by: Literal["type", "group", "company_group", "kind"],
    _: SettingsApplied,
) -> list[dict[str, Any]]:
    """How many customers the caller may see, by type, group, company group or kind."""
    return counts(*list_context(app, principal), by, query)


@router.get("/reports/customers/export", tags=["reports"])
def export_customers(
    app: App,
    principal: TenantPrincipal,
    query: Filters,
    _: SettingsApplied,
    format: Literal["csv", "xlsx"] = "csv",
) -> StreamingResponse:
    """One row per customer the caller may see: shared details, their company's relationship
    and the additional fields shown in reports. Cells that would run as formulas are
    neutralised."""
    tables, view, viewer = list_context(app, principal)
    if format == "csv":
        return StreamingResponse(
            csv_lines(tables, view, viewer, query),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="asiakkaat.csv"'},
        )
    handle = xlsx_file(tables, view, viewer, query)

    def chunks() -> Any:
        try:
            while block := handle.read(64 * 1024):
                yield block
        finally:
            handle.close()

    return StreamingResponse(
        chunks(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="asiakkaat.xlsx"'},
    )


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
    return public(app, principal, customer.as_dict())


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
    public(app, principal, app.get_customer(_tenant(principal), customer_id).as_dict())
    change = app.update_customer(
        actor_of(principal),
        _tenant(principal),
        customer_id,
        body.model_dump(exclude_unset=True),
        if_match,
    )
    set_version_headers(response, change.version)
    return public(app, principal, change.result)


@router.get("/customers/{customer_id}/history", response_model=CustomerHistoryPage)
def customer_history(
    customer_id: UUID,
    app: App,
    principal: TenantPrincipal,
    response: Response,
    cursor: Annotated[int | None, Query(description="`next_cursor` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Every change of the customer, newest first: who, when, before and after (as the
    caller may see them: the multi-company rules applied as to the customer itself)."""
    public(app, principal, app.get_customer(_tenant(principal), customer_id).as_dict())
    viewer = Viewer(_tenant(principal), actor_of(principal).company_id)
    show = shown_history(app.settings(_tenant(principal)), viewer)
    page = app.customer_history(_tenant(principal), customer_id, cursor, limit, show)
    set_version_headers(response, page.version)
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
            for e in page.items
        ],
        "total": page.total,
        "next_cursor": page.next_cursor,
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
    """Add a contact person to the customer (a company without a relationship with it gets
    one when the tenant sets a default relationship type)."""
    public(app, principal, app.get_customer(_tenant(principal), customer_id).as_dict())
    change = app.add_contact(
        actor_of(principal), _tenant(principal), customer_id, body.model_dump(), if_match
    )
    set_version_headers(response, change.version)
    result: dict[str, Any] = change.result
    return result
