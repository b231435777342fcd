"""The single-valued sections: multi-company rules, the default hierarchy filter, numbering."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, cast

from psa.errors import DomainError, NotFoundError, PermissionDeniedError

from .base import SettingsEvent, SettingsPart
from .common import Actor
from .state import (
    HIERARCHY_FILTERS,
    MULTI_COMPANY_KEYS,
    MULTI_COMPANY_ONLY,
    MultiCompanyState,
)


class MultiCompanySettingsChanged(SettingsEvent):
    """The whole multi-company section as it is after the change."""

    see_other_companies_customers: bool
    hide_other_companies_details: bool
    default_relationship_type_id: str | None
    share_company_structure: bool
    account_manager_from_any_company: bool
    customer_group_mandatory: bool
    section: ClassVar[str] = "multi_company"

    def apply(self, settings: Any) -> None:
        settings.multi_company = cast(
            MultiCompanyState, {key: getattr(self, key) for key in MULTI_COMPANY_KEYS}
        )

    def subject(self, settings: Any) -> Any:
        return dict(settings.multi_company)


class HierarchyFilterChanged(SettingsEvent):
    hierarchy_filter: str
    section: ClassVar[str] = "hierarchy_filter"

    def apply(self, settings: Any) -> None:
        settings.hierarchy_filter = self.hierarchy_filter

    def subject(self, settings: Any) -> Any:
        return {"hierarchy_filter": settings.hierarchy_filter}


class NumberingChanged(SettingsEvent):
    mode: str
    next_number: int
    section: ClassVar[str] = "numbering"

    def apply(self, settings: Any) -> None:
        settings.numbering = {"mode": self.mode, "next_number": self.next_number}

    def subject(self, settings: Any) -> Any:
        return dict(settings.numbering)


# additional fields --------------------------------------------------------


class GeneralSections(SettingsPart):
    """Multi-company toggles, the customer list's default filter and customer numbering."""

    # ---------------------------------------------------------------- multi-company
    def change_multi_company(
        self,
        actor: Actor,
        changes: Mapping[str, Any],
        *,
        tenant_company_ids: Sequence[str],
    ) -> None:
        """Change the visibility and management toggles (items 1-6 of the brief's section 1).

        Items 1-5 need a tenant of two or more companies and an admin with access to all of
        them; the customer-group-mandatory toggle (item 6) applies to any tenant.
        """
        new = dict(self.multi_company)
        for key, value in changes.items():
            if key not in MULTI_COMPANY_KEYS:
                raise DomainError("is not a multi-company setting", key)
            new[key] = value
        changed = [key for key in MULTI_COMPANY_KEYS if new[key] != self.multi_company[key]]  # type: ignore[literal-required]
        if not changed:
            return
        multi_only = [key for key in changed if key in MULTI_COMPANY_ONLY]
        if multi_only:
            if len(tenant_company_ids) < 2:
                raise DomainError(
                    "this setting is only for a tenant of two or more companies",
                    multi_only[0],
                )
            missing = sorted(set(tenant_company_ids) - set(actor.company_ids))
            if missing:
                raise PermissionDeniedError(
                    "only an admin with access to every company of the tenant may change "
                    f"this setting (no access to {len(missing)} of them)",
                    multi_only[0],
                )
        type_id = cast(str | None, new["default_relationship_type_id"])
        if "default_relationship_type_id" in changed and type_id is not None:
            item = self.customer_types.get(type_id)
            if item is None:
                raise NotFoundError(
                    f"no customer type with id '{type_id}'", "default_relationship_type_id"
                )
            if item["archived"]:
                raise DomainError(
                    "an archived customer type cannot be the default relationship type",
                    "default_relationship_type_id",
                )
        for key in MULTI_COMPANY_KEYS:
            if key != "default_relationship_type_id" and not isinstance(new[key], bool):
                raise DomainError("must be true or false", key)
        self._trigger(MultiCompanySettingsChanged, actor, **new)

    # ---------------------------------------------------------------- hierarchy filter
    def change_hierarchy_filter(self, actor: Actor, value: str) -> None:
        """Set the customer list's default parent/sub-unit filter."""
        if value not in HIERARCHY_FILTERS:
            raise DomainError(f"must be one of {', '.join(HIERARCHY_FILTERS)}", "hierarchy_filter")
        if value != self.hierarchy_filter:
            self._trigger(HierarchyFilterChanged, actor, hierarchy_filter=value)

    # ---------------------------------------------------------------- numbering
    def change_numbering(self, actor: Actor, mode: str, next_number: int | None = None) -> None:
        """Switch between automatic running numbers and manual numbers."""
        if mode not in ("automatic", "manual"):
            raise DomainError("must be automatic or manual", "mode")
        if next_number is None:
            next_number = self.numbering["next_number"]
        if isinstance(next_number, bool) or not isinstance(next_number, int) or next_number < 1:
            raise DomainError("must be a whole number of 1 or more", "next_number")
        if next_number > 10**15:
            raise DomainError("must be at most 1000000000000000", "next_number")
        if mode != self.numbering["mode"] or next_number != self.numbering["next_number"]:
            self._trigger(NumberingChanged, actor, mode=mode, next_number=next_number)
