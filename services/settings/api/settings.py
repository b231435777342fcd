"""The whole settings, their history, and the single-valued sections."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from psa.http import IfMatch, TenantPrincipal, set_version_headers

from ..schemas import (
    HierarchyFilterPublic,
    HierarchyFilterUpdate,
    HistoryPagePublic,
    MultiCompanyPublic,
    MultiCompanyUpdate,
    NumberingPublic,
    NumberingUpdate,
    SettingsPublic,
)
from .deps import SETTINGS, App, actor_of, history_public, tenant_id_of, write

router = APIRouter(prefix="/api/v1")


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
    settings = app.get_settings(tenant_id_of(principal), as_of=_aware(as_of))
    set_version_headers(response, settings.version)
    return settings.as_dict()


@router.get(f"{SETTINGS}/history", response_model=HistoryPagePublic, tags=["settings"])
def get_history(
    app: App,
    principal: TenantPrincipal,
    response: Response,
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
    page = app.settings_history(
        tenant_id_of(principal),
        since=_aware(since),
        until=_aware(until),
        actor_id=actor,
        section=section,
        cursor=cursor,
        limit=limit,
        newest_first=order == "newest",
    )
    set_version_headers(response, page.version)
    return history_public(page)


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
    return write(
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
    tenant_id = tenant_id_of(principal)
    changes = {key: getattr(body, key) for key in body.model_fields_set}
    companies = app.tenant_company_ids(tenant_id)
    return write(
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
    return write(
        app,
        principal,
        response,
        if_match,
        lambda s: s.change_hierarchy_filter(actor, body.hierarchy_filter),
        lambda s, _: {"hierarchy_filter": s.hierarchy_filter},
    )
