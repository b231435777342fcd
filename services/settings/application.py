"""Use cases of the settings service: tenants, every customer setting, history, as-of reads."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from psa.application import Change, HistoryPage, ServiceApplication, last_position
from psa.errors import NotFoundError, PermissionDeniedError

from .domainmodel import Actor, CustomerSettings, SettingsEvent, Tenant, settings_id

T = TypeVar("T")
OPERATOR = Actor(id="operator", name="Operator", roles=("operator",))


class SettingsApplication(ServiceApplication):
    """Tenants and their customer settings, stored as events."""

    name = "Settings"
    snapshotting_intervals = {CustomerSettings: 500, Tenant: 500}
    not_found_message = "no such tenant"

    # ---------------------------------------------------------------- tenants
    def create_tenant(
        self,
        actor: Actor,
        name: str,
        companies: Sequence[str],
        admin_id: str = "admin",
        admin_name: str = "Admin",
    ) -> Change:
        """Create a tenant with its companies, first admin and default settings."""
        if "operator" not in actor.roles:
            raise PermissionDeniedError("only an operator may create tenants")
        tenant = Tenant.create(actor, name, companies, admin_id, admin_name)
        settings = CustomerSettings.create(tenant.id, actor)
        recordings = self.save(tenant, settings)
        return Change(tenant.as_dict(), tenant.version, last_position(recordings))

    def get_tenant(self, tenant_id: UUID) -> Tenant:
        tenant = self.read(tenant_id)
        if not isinstance(tenant, Tenant):
            raise NotFoundError("no such tenant")
        return tenant

    def add_company(
        self,
        actor: Actor,
        tenant_id: UUID,
        name: str,
        expected_version: int | frozenset[int] | None = None,
    ) -> Change:
        """Add a company to a tenant (an admin of the tenant)."""
        self._require_admin(actor)
        return self.change(tenant_id, expected_version, lambda t: t.add_company(actor, name))

    def add_user(
        self,
        actor: Actor,
        tenant_id: UUID,
        user_id: str,
        name: str,
        company_id: str,
        company_ids: Sequence[str] | None = None,
        roles: Sequence[str] = ("user",),
        expected_version: int | frozenset[int] | None = None,
    ) -> Change:
        """Add a user to one of the tenant's companies."""
        self._require_admin(actor)

        def add(tenant: Tenant) -> dict[str, Any]:
            tenant.add_user(actor, user_id, name, company_id, company_ids=company_ids, roles=roles)
            return dict(tenant.users[user_id])

        return self.change(tenant_id, expected_version, add)

    # ---------------------------------------------------------------- settings
    def get_settings(self, tenant_id: UUID, as_of: datetime | None = None) -> CustomerSettings:
        """The settings now, or as they were at `as_of`."""
        if as_of is None:
            return self._settings(tenant_id)
        settings: CustomerSettings | None = None
        for event in self._stored_events(settings_id(tenant_id)):
            if event.timestamp > as_of:
                break
            settings = event.mutate(settings)
        if settings is None:
            self._settings(tenant_id)
            raise NotFoundError("the tenant did not exist yet at that time", "as_of")
        return settings

    def change_settings(
        self,
        actor: Actor,
        tenant_id: UUID,
        command: Callable[[CustomerSettings], T],
        expected_version: int | frozenset[int] | None = None,
    ) -> Change:
        """Run one command on the tenant's settings and store its events in one transaction.

        Without `expected_version` a write that lost a race is retried on the new state, so
        no accepted change is lost; with it, a stale version is refused (HTTP 412).
        """
        self._require_admin(actor)
        return self.change(settings_id(tenant_id), expected_version, command)

    def tenant_company_ids(self, tenant_id: UUID) -> list[str]:
        return self.get_tenant(tenant_id).company_ids

    # ---------------------------------------------------------------- history
    def settings_history(
        self,
        tenant_id: UUID,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        actor_id: str | None = None,
        section: str | None = None,
        cursor: int | None = None,
        limit: int = 50,
        newest_first: bool = True,
    ) -> HistoryPage:
        """Every change of the settings with its actor and the values before and after."""
        self._settings(tenant_id)
        return self.history(
            settings_id(tenant_id),
            since=since,
            until=until,
            actor_id=actor_id,
            section=section,
            cursor=cursor,
            limit=limit,
            newest_first=newest_first,
        )

    def tenant_history(
        self, tenant_id: UUID, *, cursor: int | None = None, limit: int = 50
    ) -> HistoryPage:
        """Every change of the tenant: its companies and users, who added them and when."""
        self.get_tenant(tenant_id)
        return self.history(tenant_id, cursor=cursor, limit=limit)

    # ---------------------------------------------------------------- internals
    @staticmethod
    def _require_admin(actor: Actor) -> None:
        if not actor.is_admin:
            raise PermissionDeniedError("only an admin may change the settings")

    def _settings(self, tenant_id: UUID) -> CustomerSettings:
        settings = self.read(settings_id(tenant_id))
        assert isinstance(settings, CustomerSettings)
        return settings

    def _stored_events(self, aggregate_id: UUID) -> Iterator[SettingsEvent]:
        for event in self.events.get(aggregate_id):
            assert isinstance(event, SettingsEvent)
            yield event
