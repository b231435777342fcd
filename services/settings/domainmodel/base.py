"""What every section of the settings shares: the base event and the state it works on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from eventsourcing.domain import Aggregate

from .common import Actor

if TYPE_CHECKING:
    from .state import (
        CompanyGroupState,
        CustomerGroupState,
        CustomerTypeState,
        FieldState,
        MultiCompanyState,
        NumberingState,
    )

# "Leave unchanged", where None is a value (it clears an integration or HubSpot id).
UNSET: Any = object()


class SettingsEvent(Aggregate.Event):
    """Every settings event names its tenant and actor, so a reader of the event log needs
    nothing else; its `subject` is what it changed, for the history's before/after."""

    tenant_id: str
    actor_id: str
    actor_name: str

    section: ClassVar[str] = "settings"

    def subject(self, settings: Any) -> Any:
        """What this event changes, as it stands in `settings`."""
        return None


class SettingsPart:
    """A section of the `CustomerSettings` aggregate: its events and commands."""

    if TYPE_CHECKING:
        tenant_id: str
        version: int
        customer_types: dict[str, CustomerTypeState]
        default_types: dict[str, str | None]
        customer_groups: dict[str, CustomerGroupState]
        company_groups: dict[str, CompanyGroupState]
        multi_company: MultiCompanyState
        hierarchy_filter: str
        numbering: NumberingState
        fields: dict[str, FieldState]
        field_order: list[str]

        def trigger_event(self, event_class: Any, **kwargs: Any) -> None: ...

    def _trigger(self, event_class: type[SettingsEvent], actor: Actor, **kwargs: Any) -> None:
        self.trigger_event(
            event_class,
            tenant_id=self.tenant_id,
            actor_id=actor.id,
            actor_name=actor.name,
            **kwargs,
        )
