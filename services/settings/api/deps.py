"""What every route of the settings API needs: the application, the actor, the write path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Request, Response

from psa.application import HistoryPage
from psa.auth import Principal
from psa.http import set_version_headers

from ..application import SettingsApplication
from ..domainmodel import Actor, CustomerSettings
from ..schemas import ActorPublic, HistoryEntryPublic

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


def tenant_id_of(principal: Principal) -> UUID:
    assert principal.tenant is not None
    return principal.tenant


def write(
    app: SettingsApplication,
    principal: Principal,
    response: Response,
    if_match: frozenset[int] | None,
    command: Callable[[CustomerSettings], Any],
    view: Callable[[CustomerSettings, Any], Any],
) -> Any:
    """Run a settings command, answer with the changed part and the new version headers."""
    tenant_id = tenant_id_of(principal)
    change = app.change_settings(actor_of(principal), tenant_id, command, if_match)
    set_version_headers(response, change.version, change.position)
    return view(app.get_settings(tenant_id), change.result)


def history_public(page: HistoryPage) -> dict[str, Any]:
    """A page of history as the API shows it."""
    items = [
        HistoryEntryPublic(
            position=e.position,
            version=e.version,
            occurred_at=e.occurred_at,
            actor=ActorPublic(id=e.actor_id, name=e.actor_name),
            type=e.type,
            section=e.section,
            before=e.before,
            after=e.after,
        )
        for e in page.items
    ]
    return {"items": items, "total": page.total, "next_cursor": page.next_cursor}
