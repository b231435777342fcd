"""Customer groups (asiakasryhmät) and company groups (yritysryhmät)."""

from __future__ import annotations

from typing import Any, ClassVar, cast

from psa.errors import ConflictError, DomainError, NotFoundError

from .base import UNSET, SettingsEvent, SettingsPart
from .common import Actor, check_unique_name, clean_name
from .state import (
    INTEGRATION_ID_MAX_LENGTH,
    CompanyGroupState,
    CustomerGroupState,
    new_id,
)


class CustomerGroupEvent(SettingsEvent):
    group_id: str
    section: ClassVar[str] = "customer_groups"

    def subject(self, settings: Any) -> Any:
        item = settings.customer_groups.get(self.group_id)
        return dict(item) if item else None


class CustomerGroupAdded(CustomerGroupEvent):
    name: str
    integration_id: str | None

    def apply(self, settings: Any) -> None:
        settings.customer_groups[self.group_id] = {
            "id": self.group_id,
            "name": self.name,
            "integration_id": self.integration_id,
            "archived": False,
        }


class CustomerGroupRenamed(CustomerGroupEvent):
    name: str

    def apply(self, settings: Any) -> None:
        settings.customer_groups[self.group_id]["name"] = self.name


class CustomerGroupIntegrationIdChanged(CustomerGroupEvent):
    integration_id: str | None

    def apply(self, settings: Any) -> None:
        settings.customer_groups[self.group_id]["integration_id"] = self.integration_id


class CustomerGroupArchived(CustomerGroupEvent):
    def apply(self, settings: Any) -> None:
        settings.customer_groups[self.group_id]["archived"] = True


class CustomerGroupRestored(CustomerGroupEvent):
    def apply(self, settings: Any) -> None:
        settings.customer_groups[self.group_id]["archived"] = False


# company groups -----------------------------------------------------------


class CompanyGroupEvent(SettingsEvent):
    group_id: str
    section: ClassVar[str] = "company_groups"

    def subject(self, settings: Any) -> Any:
        item = settings.company_groups.get(self.group_id)
        return dict(item) if item else None


class CompanyGroupAdded(CompanyGroupEvent):
    name: str

    def apply(self, settings: Any) -> None:
        settings.company_groups[self.group_id] = {
            "id": self.group_id,
            "name": self.name,
            "archived": False,
        }


class CompanyGroupRenamed(CompanyGroupEvent):
    name: str

    def apply(self, settings: Any) -> None:
        settings.company_groups[self.group_id]["name"] = self.name


class CompanyGroupArchived(CompanyGroupEvent):
    def apply(self, settings: Any) -> None:
        settings.company_groups[self.group_id]["archived"] = True


class CompanyGroupRestored(CompanyGroupEvent):
    def apply(self, settings: Any) -> None:
        settings.company_groups[self.group_id]["archived"] = False


# single-value sections ----------------------------------------------------


class CustomerGroups(SettingsPart):
    """Customer groups: a customer belongs to at most one; each may have an integration id."""

    # ---------------------------------------------------------------- customer groups
    def _customer_group(self, group_id: str) -> CustomerGroupState:
        try:
            return self.customer_groups[group_id]
        except KeyError:
            raise NotFoundError(f"no customer group with id '{group_id}'", "group_id") from None

    def _clean_integration_id(self, value: str | None, except_id: str | None = None) -> str | None:
        if value is None:
            return None
        cleaned = value.strip()
        if not cleaned:
            return None
        if len(cleaned) > INTEGRATION_ID_MAX_LENGTH:
            raise DomainError(
                f"must be at most {INTEGRATION_ID_MAX_LENGTH} characters", "integration_id"
            )
        for other in self.customer_groups.values():
            if other["id"] != except_id and other["integration_id"] == cleaned:
                raise ConflictError(
                    f"the customer group '{other['name']}' already has this integration id",
                    "integration_id",
                )
        return cleaned

    def add_customer_group(self, actor: Actor, name: str, integration_id: str | None = None) -> str:
        """Add a customer group with an optional integration id."""
        name = clean_name(name)
        check_unique_name(name, cast(dict, self.customer_groups), "a customer group")  # type: ignore[type-arg]
        integration_id = self._clean_integration_id(integration_id)
        group_id = new_id()
        self._trigger(
            CustomerGroupAdded,
            actor,
            group_id=group_id,
            name=name,
            integration_id=integration_id,
        )
        return group_id

    def update_customer_group(
        self,
        actor: Actor,
        group_id: str,
        *,
        name: str | None = None,
        integration_id: Any = UNSET,
        archived: bool | None = None,
    ) -> str:
        """Rename a customer group, change its integration id, archive or restore it."""
        item = self._customer_group(group_id)
        events: list[tuple[type[SettingsEvent], dict[str, Any]]] = []
        if name is not None:
            name = clean_name(name)
            check_unique_name(
                name,
                cast(dict, self.customer_groups),
                "a customer group",
                except_id=group_id,  # type: ignore[type-arg]
            )
            if name != item["name"]:
                events.append((CustomerGroupRenamed, {"group_id": group_id, "name": name}))
        if integration_id is not UNSET:
            cleaned = self._clean_integration_id(integration_id, except_id=group_id)
            if cleaned != item["integration_id"]:
                events.append(
                    (
                        CustomerGroupIntegrationIdChanged,
                        {"group_id": group_id, "integration_id": cleaned},
                    )
                )
        if archived is not None and bool(archived) != item["archived"]:
            event_class: type[SettingsEvent] = (
                CustomerGroupArchived if archived else CustomerGroupRestored
            )
            events.append((event_class, {"group_id": group_id}))
        for event_class, kwargs in events:
            self._trigger(event_class, actor, **kwargs)
        return group_id


class CompanyGroups(SettingsPart):
    """Company groups: another grouping of customers, for reports."""

    # ---------------------------------------------------------------- company groups
    def _company_group(self, group_id: str) -> CompanyGroupState:
        try:
            return self.company_groups[group_id]
        except KeyError:
            raise NotFoundError(f"no company group with id '{group_id}'", "group_id") from None

    def add_company_group(self, actor: Actor, name: str) -> str:
        """Add a company group (a grouping of customers for reports)."""
        name = clean_name(name)
        check_unique_name(name, cast(dict, self.company_groups), "a company group")  # type: ignore[type-arg]
        group_id = new_id()
        self._trigger(CompanyGroupAdded, actor, group_id=group_id, name=name)
        return group_id

    def update_company_group(
        self, actor: Actor, group_id: str, *, name: str | None = None, archived: bool | None = None
    ) -> str:
        """Rename a company group, archive or restore it."""
        item = self._company_group(group_id)
        events: list[tuple[type[SettingsEvent], dict[str, Any]]] = []
        if name is not None:
            name = clean_name(name)
            check_unique_name(
                name,
                cast(dict, self.company_groups),
                "a company group",
                except_id=group_id,  # type: ignore[type-arg]
            )
            if name != item["name"]:
                events.append((CompanyGroupRenamed, {"group_id": group_id, "name": name}))
        if archived is not None and bool(archived) != item["archived"]:
            event_class: type[SettingsEvent] = (
                CompanyGroupArchived if archived else CompanyGroupRestored
            )
            events.append((event_class, {"group_id": group_id}))
        for event_class, kwargs in events:
            self._trigger(event_class, actor, **kwargs)
        return group_id
