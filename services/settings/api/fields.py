"""Additional fields (lisäkentät), their options and order."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from psa.http import IfMatch, TenantPrincipal, set_version_headers

from ..domainmodel import CustomerSettings
from ..schemas import (
    FieldCreate,
    FieldOrder,
    FieldPublic,
    FieldUpdate,
    OptionsReplace,
)
from .deps import SETTINGS, App, actor_of, tenant_id_of, write

router = APIRouter(prefix="/api/v1")


# ---------------------------------------------------------------- additional fields
def _field_view(settings: CustomerSettings, field_id: Any) -> dict[str, Any]:
    return dict(settings.fields[field_id])


@router.get(f"{SETTINGS}/fields", response_model=list[FieldPublic], tags=["additional fields"])
def list_fields(app: App, principal: TenantPrincipal, response: Response) -> list[dict[str, Any]]:
    """Additional fields in their order, archived ones included."""
    settings = app.get_settings(tenant_id_of(principal))
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
    return write(
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
    return write(
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
    return write(
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
    return write(
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
    return write(
        app,
        principal,
        response,
        if_match,
        lambda s: s.update_field(actor, field_id, options=options),  # type: ignore[arg-type]
        _field_view,
    )
