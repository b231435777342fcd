"""HTTP API of the settings service (DESIGN.md §7): thin routes that call one use case each.

Routes are plain `def`s: the eventsourcing application is synchronous, so FastAPI runs them in
its thread pool instead of blocking the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response, status

from psa.auth import Principal
from psa.errors import NotFoundError, PermissionDeniedError
from psa.http import CurrentPrincipal, IfMatch, TenantPrincipal, set_version_headers

from .application import Change, SettingsApplication
from .domainmodel import Actor, CustomerSettings
from .schemas import (
    CompanyCreate,
    CompanyGroupCreate,
    CompanyGroupPublic,
    CompanyGroupUpdate,
    CompanyPublic,
    CustomerGroupCreate,
    CustomerGroupPublic,
    CustomerGroupUpdate,
    CustomerTypeCreate,
    CustomerTypePublic,
    CustomerTypeUpdate,
    FieldCreate,
    FieldOrder,
    FieldPublic,
    FieldUpdate,
    HierarchyFilterPublic,
    HierarchyFilterUpdate,
    HistoryEntryPublic,
    HistoryPagePublic,
    MultiCompanyPublic,
    MultiCompanyUpdate,
    NumberingPublic,
    NumberingUpdate,
    OptionsReplace,
    SettingsPublic,
    TenantCreate,
    TenantPublic,
    UserCreate,
    UserPublic,
)

router = APIRouter(prefix="/api/v1")
SETTINGS = "/settings/customers"


def get_app(request: Request) -> SettingsApplication:
    app: SettingsApplication = request.app.state.settings_app
    return app


App = Annotated[SettingsApplication, Depends(get_app)]


def actor_of(principal: Principal) -> Actor:
    return Actor(
        id=principal.sub,
        name=principal.name,
        company_ids=principal.companies,
        roles=principal.roles,
    )


def _tenant(principal: Principal) -> UUID:
    assert principal.tenant is not None
    return principal.tenant


def _write(
    app: SettingsApplication,
    principal: Principal,
    response: Response,
    if_match: int | None,
    command: Callable[[CustomerSettings], Any],
    view: Callable[[CustomerSettings, Any], Any],
) -> Any:
    """Run a settings command, answer with the changed part and the new version headers."""
    tenant_id = _tenant(principal)
    change = app.change_settings(actor_of(principal), tenant_id, command, if_match)
    set_version_headers(response, change.version, change.position)
    return view(app.get_settings(tenant_id), change.result)


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


# ---------------------------------------------------------------- whole settings, history
def _aware(moment: datetime | None) -> datetime | None:
    """A time without a zone is UTC (as the API docs say)."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


@router.get(SETTINGS, response_model=SettingsPublic, tags=["settings"])
def get_settings(
    app: App,
    principal: TenantPrincipal,
    response: Response,
    as_of: Annotated[
        datetime | None,
        Query(
            description="The settings as they were at this time "
            "(ISO 8601; UTC unless it names a zone)"
        ),
    ] = None,
) -> dict[str, Any]:
    """All customer settings of the caller's tenant, now or as of a time."""
    settings = app.get_settings(_tenant(principal), as_of=_aware(as_of))
    set_version_headers(response, settings.version)
    return settings.as_dict()


@router.get(f"{SETTINGS}/history", response_model=HistoryPagePublic, tags=["settings"])
def get_history(
    app: App,
    principal: TenantPrincipal,
    since: Annotated[
        datetime | None,
        Query(description="Changes at or after this time (UTC unless it names a zone)"),
    ] = None,
    until: Annotated[datetime | None, Query(description="Changes at or before this time")] = None,
    actor: Annotated[str | None, Query(description="Only changes by this user id")] = None,
    section: Annotated[
        Literal[
            "settings",
            "customer_types",
            "customer_groups",
            "company_groups",
            "multi_company",
            "hierarchy_filter",
            "numbering",
            "fields",
        ]
        | None,
        Query(description="Only changes of this section"),
    ] = None,
    order: Annotated[Literal["newest", "oldest"], Query()] = "newest",
    cursor: Annotated[int | None, Query(description="`next_cursor` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Every change of the settings: when, who, what, and the values before and after."""
    page = app.history(
        _tenant(principal),
        since=_aware(since),
        until=_aware(until),
        actor_id=actor,
        section=section,
        cursor=cursor,
        limit=limit,
        newest_first=order == "newest",
    )
    items: list[HistoryEntryPublic] = [
        HistoryEntryPublic(
            position=e.position,
            version=e.version,
            occurred_at=e.occurred_at,
            actor={"id": e.actor_id, "name": e.actor_name},  # type: ignore[arg-type]
            type=e.type,
            section=e.section,
            before=e.before,
            after=e.after,
        )
        for e in page.items
    ]
    return {"items": items, "total": page.total, "next_cursor": page.next_cursor}


# ---------------------------------------------------------------- customer types
def _type_view(settings: CustomerSettings, type_id: Any) -> dict[str, Any]:
    return settings.type_view(settings.customer_types[type_id])


@router.get(f"{SETTINGS}/types", response_model=list[CustomerTypePublic], tags=["customer types"])
def list_types(app: App, principal: TenantPrincipal, response: Response) -> list[dict[str, Any]]:
    """Customer types, archived ones included."""
    settings = app.get_settings(_tenant(principal))
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
    return _write(
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
    return _write(
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
    return _write(
        app,
        principal,
        response,
        if_match,
        lambda s: s.archive_customer_type(actor, type_id),
        _type_view,
    )


# ---------------------------------------------------------------- customer groups
def _group_view(settings: CustomerSettings, group_id: Any) -> dict[str, Any]:
    return dict(settings.customer_groups[group_id])


@router.get(
    f"{SETTINGS}/groups", response_model=list[CustomerGroupPublic], tags=["customer groups"]
)
def list_groups(app: App, principal: TenantPrincipal, response: Response) -> list[dict[str, Any]]:
    """Customer groups, archived ones included."""
    settings = app.get_settings(_tenant(principal))
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
    return _write(
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
    return _write(
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
    return _write(
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
    settings = app.get_settings(_tenant(principal))
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
    return _write(
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
    return _write(
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
    return _write(
        app,
        principal,
        response,
        if_match,
        lambda s: s.update_company_group(actor, group_id, archived=True),
        _company_group_view,
    )


# ---------------------------------------------------------------- additional fields
def _field_view(settings: CustomerSettings, field_id: Any) -> dict[str, Any]:
    return dict(settings.fields[field_id])


@router.get(f"{SETTINGS}/fields", response_model=list[FieldPublic], tags=["additional fields"])
def list_fields(app: App, principal: TenantPrincipal, response: Response) -> list[dict[str, Any]]:
    """Additional fields in their order, archived ones included."""
    settings = app.get_settings(_tenant(principal))
    set_version_headers(response, settings.version)
    return [dict(settings.fields[fid]) for fid in settings.field_order]


@router.post(
    f"{SETTINGS}/fields",
    status_code=status.HTTP_201_CREATED,
    response_model=FieldPublic,
    tags=["additional fields"],
)
def add_field(
    body: FieldCreate, app: App, principal: TenantPrincipal, response: Response, if_match: IfMatch
) -> Any:
    """Add an additional field at the end of the order."""
    actor = actor_of(principal)
    options = [o if isinstance(o, str) else {"name": o.name} for o in body.options]
    return _write(
        app,
        principal,
        response,
        if_match,
        lambda s: s.add_field(
            actor,
            body.name,
            body.type,
            options=options,  # type: ignore[arg-type]
            shown_in_details_and_list=body.shown_in_details_and_list,
            mandatory=body.mandatory,
            shown_in_reports=body.shown_in_reports,
            hubspot_property_id=body.hubspot_property_id,
        ),
        _field_view,
    )


@router.put(
    f"{SETTINGS}/fields/order", response_model=list[FieldPublic], tags=["additional fields"]
)
def reorder_fields(
    body: FieldOrder, app: App, principal: TenantPrincipal, response: Response, if_match: IfMatch
) -> Any:
    """Put the additional fields in a new order (list every field once)."""
    actor = actor_of(principal)
    return _write(
        app,
        principal,
        response,
        if_match,
        lambda s: s.reorder_fields(actor, body.field_ids),
        lambda s, _: [dict(s.fields[fid]) for fid in s.field_order],
    )


@router.patch(
    f"{SETTINGS}/fields/{{field_id}}", response_model=FieldPublic, tags=["additional fields"]
)
def update_field(
    field_id: str,
    body: FieldUpdate,
    app: App,
    principal: TenantPrincipal,
    response: Response,
    if_match: IfMatch,
) -> Any:
    """Change an additional field's name, compatible type, flags or HubSpot id; archive it."""
    actor = actor_of(principal)
    kwargs: dict[str, Any] = {
        "name": body.name,
        "field_type": body.type,
        "shown_in_details_and_list": body.shown_in_details_and_list,
        "mandatory": body.mandatory,
        "shown_in_reports": body.shown_in_reports,
        "archived": body.archived,
    }
    if "hubspot_property_id" in body.model_fields_set:
        kwargs["hubspot_property_id"] = body.hubspot_property_id
    return _write(
        app,
        principal,
        response,
        if_match,
        lambda s: s.update_field(actor, field_id, **kwargs),
        _field_view,
    )


@router.delete(
    f"{SETTINGS}/fields/{{field_id}}", response_model=FieldPublic, tags=["additional fields"]
)
def archive_field(
    field_id: str, app: App, principal: TenantPrincipal, response: Response, if_match: IfMatch
) -> Any:
    """Archive an additional field (values on customers are kept; restore with PATCH)."""
    actor = actor_of(principal)
    return _write(
        app,
        principal,
        response,
        if_match,
        lambda s: s.update_field(actor, field_id, archived=True),
        _field_view,
    )


@router.put(
    f"{SETTINGS}/fields/{{field_id}}/options",
    response_model=FieldPublic,
    tags=["additional fields"],
)
def replace_options(
    field_id: str,
    body: OptionsReplace,
    app: App,
    principal: TenantPrincipal,
    response: Response,
    if_match: IfMatch,
) -> Any:
    """Add, rename, reorder and archive a dropdown or multiselect field's options."""
    actor = actor_of(principal)
    options = [o.model_dump() for o in body.options]
    return _write(
        app,
        principal,
        response,
        if_match,
        lambda s: s.update_field(actor, field_id, options=options),  # type: ignore[arg-type]
        _field_view,
    )


# ---------------------------------------------------------------- single-value sections
@router.put(f"{SETTINGS}/numbering", response_model=NumberingPublic, tags=["numbering"])
def set_numbering(
    body: NumberingUpdate,
    app: App,
    principal: TenantPrincipal,
    response: Response,
    if_match: IfMatch,
) -> Any:
    """Automatic running numbers (with the next number) or manual numbers."""
    actor = actor_of(principal)
    return _write(
        app,
        principal,
        response,
        if_match,
        lambda s: s.change_numbering(actor, body.mode, body.next_number),
        lambda s, _: dict(s.numbering),
    )


@router.put(f"{SETTINGS}/multi-company", response_model=MultiCompanyPublic, tags=["multi-company"])
def set_multi_company(
    body: MultiCompanyUpdate,
    app: App,
    principal: TenantPrincipal,
    response: Response,
    if_match: IfMatch,
) -> Any:
    """Change the visibility and management toggles; those left out keep their value."""
    actor = actor_of(principal)
    tenant_id = _tenant(principal)
    changes = {key: getattr(body, key) for key in body.model_fields_set}
    companies = app.tenant_company_ids(tenant_id)
    return _write(
        app,
        principal,
        response,
        if_match,
        lambda s: s.change_multi_company(actor, changes, tenant_company_ids=companies),
        lambda s, _: dict(s.multi_company),
    )


@router.put(
    f"{SETTINGS}/hierarchy-filter",
    response_model=HierarchyFilterPublic,
    tags=["hierarchy filter"],
)
def set_hierarchy_filter(
    body: HierarchyFilterUpdate,
    app: App,
    principal: TenantPrincipal,
    response: Response,
    if_match: IfMatch,
) -> Any:
    """Set the customer list's default filter: all, parents, subunits or unlinked."""
    actor = actor_of(principal)
    return _write(
        app,
        principal,
        response,
        if_match,
        lambda s: s.change_hierarchy_filter(actor, body.hierarchy_filter),
        lambda s, _: {"hierarchy_filter": s.hierarchy_filter},
    )


__all__ = ["Change", "router"]
