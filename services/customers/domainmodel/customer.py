"""The `Customer` aggregate: a customer of the tenant, with a relationship per company.

Shared by the whole tenant: name, kind, number, business id, company group, parent, additional
field values, contact persons, address. Per company, in that company's relationship with the
customer: customer type, customer group, account manager, team, customer team, tags.

The rules that depend on the settings (defaults, mandatory fields, archived values, ...) are
checked by `rules.py` before a command reaches the aggregate; the aggregate keeps its own
invariants (one relationship per company, a number once given is kept).
"""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from psa.domain import PlainStateCopy, copy_state
from psa.errors import ConflictError

SHARED_FIELDS = (
    "name",
    "kind",
    "business_id",
    "company_group_id",
    "parent_id",
    "fields",
    "address",
)
RELATIONSHIP_FIELDS = (
    "type_id",
    "group_id",
    "account_manager_id",
    "team",
    "customer_team",
    "tags",
)


class CustomerEvent(Aggregate.Event):
    tenant_id: str
    actor_id: str
    actor_name: str

    section: ClassVar[str] = "customer"

    def subject(self, customer: Any) -> Any:
        return None


class Customer(PlainStateCopy, Aggregate):
    """A customer of a tenant."""

    def __init__(self) -> None:
        # Filled by the Created event; declared here for readers and type checkers.
        self.tenant_id: str = ""
        self.name: str = ""
        self.kind: str = "company"
        self.number: str = ""
        self.business_id: str | None = None
        self.company_group_id: str | None = None
        self.parent_id: str | None = None
        self.fields: dict[str, Any] = {}
        self.address: dict[str, Any] | None = None
        self.relationships: dict[str, dict[str, Any]] = {}
        self.contacts: list[dict[str, Any]] = []
        self.created_in: str | None = None
        self.request_key: str | None = None
        # The company whose user linked the customer to its parent: without a shared
        # company structure, only that company sees the link.
        self.parent_company_id: str | None = None

    Event = CustomerEvent

    class Created(CustomerEvent, Aggregate.Created):
        type_name: ClassVar[str] = "CustomerCreated"
        name: str
        kind: str
        number: str
        business_id: str | None
        company_group_id: str | None
        parent_id: str | None
        fields: dict[str, Any]
        address: dict[str, Any] | None
        relationships: dict[str, dict[str, Any]]
        contacts: list[dict[str, Any]]
        created_in: str | None
        request_key: str | None
        parent_company_id: str | None = None

        def apply(self, customer: Customer) -> None:
            customer.tenant_id = self.tenant_id
            for key in (*SHARED_FIELDS, "number", "created_in", "request_key"):
                setattr(customer, key, copy_state(getattr(self, key)))
            customer.parent_company_id = self.parent_company_id
            customer.relationships = copy_state(self.relationships)
            customer.contacts = copy_state(self.contacts)

        def subject(self, customer: Any) -> Any:
            return customer.as_dict() if customer.tenant_id else None

    class DetailsChanged(CustomerEvent):
        """The shared details after the change; `changed` names what changed."""

        type_name: ClassVar[str] = "CustomerDetailsChanged"
        changed: list[str]
        name: str
        kind: str
        business_id: str | None
        company_group_id: str | None
        parent_id: str | None
        fields: dict[str, Any]
        address: dict[str, Any] | None
        parent_company_id: str | None = None

        def apply(self, customer: Customer) -> None:
            for key in SHARED_FIELDS:
                setattr(customer, key, copy_state(getattr(self, key)))
            customer.parent_company_id = self.parent_company_id

        def subject(self, customer: Any) -> Any:
            return {key: copy_state(getattr(customer, key)) for key in self.changed}

    class NumberChanged(CustomerEvent):
        type_name: ClassVar[str] = "CustomerNumberChanged"
        number: str

        def apply(self, customer: Customer) -> None:
            customer.number = self.number

        def subject(self, customer: Any) -> Any:
            return {"number": customer.number}

    class RelationshipSet(CustomerEvent):
        """A company's relationship with the customer, as it is after the change."""

        type_name: ClassVar[str] = "CustomerRelationshipSet"
        company_id: str
        relationship: dict[str, Any]

        def apply(self, customer: Customer) -> None:
            customer.relationships[self.company_id] = copy_state(self.relationship)

        def subject(self, customer: Any) -> Any:
            relationship = customer.relationships.get(self.company_id)
            return copy_state(relationship) if relationship is not None else None

    class ContactPersonAdded(CustomerEvent):
        type_name: ClassVar[str] = "ContactPersonAdded"
        contact: dict[str, Any]

        def apply(self, customer: Customer) -> None:
            customer.contacts.append(copy_state(self.contact))

        def subject(self, customer: Any) -> Any:
            for contact in customer.contacts:
                if contact["id"] == self.contact["id"]:
                    return copy_state(contact)
            return None

    # ---------------------------------------------------------------- commands
    @classmethod
    def created(
        cls,
        *,
        customer_id: UUID,
        tenant_id: str,
        actor_id: str,
        actor_name: str,
        details: dict[str, Any],
        number: str,
        company_id: str | None,
        relationships: dict[str, dict[str, Any]],
        contacts: list[dict[str, Any]],
        request_key: str | None = None,
    ) -> Customer.Created:
        """The event that creates a customer with checked details and relationships.

        A bulk create (an import batch) saves these events as they are, without building
        each aggregate first; the customer is read back from its event like any other."""
        event: Any = cls.Created  # a dataclass made by the library's metaclass
        return event(  # type: ignore[no-any-return]
            originator_id=customer_id,
            originator_version=cls.INITIAL_VERSION,
            originator_topic=_TOPIC,
            timestamp=cls.Created.create_timestamp(),
            tenant_id=tenant_id,
            actor_id=actor_id,
            actor_name=actor_name,
            number=number,
            relationships=relationships,
            contacts=contacts,
            created_in=company_id,
            request_key=request_key,
            parent_company_id=company_id if details.get("parent_id") else None,
            name=details.get("name"),
            kind=details.get("kind"),
            business_id=details.get("business_id"),
            company_group_id=details.get("company_group_id"),
            parent_id=details.get("parent_id"),
            address=details.get("address"),
            fields=details.get("fields") or {},
        )

    @classmethod
    def create(cls, **kwargs: Any) -> Customer:
        """A new customer with checked details and relationships (see `created`)."""
        event = cls.created(**kwargs)
        customer: Any = event.mutate(None)
        customer.pending_events.append(event)
        return customer  # type: ignore[no-any-return]

    def _trigger(self, event_class: type[CustomerEvent], actor: tuple[str, str], **kw: Any) -> None:
        self.trigger_event(
            event_class, tenant_id=self.tenant_id, actor_id=actor[0], actor_name=actor[1], **kw
        )

    def change_details(
        self, actor: tuple[str, str], details: dict[str, Any], company_id: str | None = None
    ) -> list[str]:
        """Apply checked shared details; returns the names of those that changed."""
        new = {key: copy_state(getattr(self, key)) for key in SHARED_FIELDS}
        new.update({key: value for key, value in details.items() if key in SHARED_FIELDS})
        changed = [key for key in SHARED_FIELDS if new[key] != getattr(self, key)]
        linker = self.parent_company_id
        if "parent_id" in changed:
            linker = company_id if new["parent_id"] else None
        if changed:
            self._trigger(
                self.DetailsChanged, actor, changed=changed, parent_company_id=linker, **new
            )
        return changed

    def change_number(self, actor: tuple[str, str], number: str) -> bool:
        if number == self.number:
            return False
        self._trigger(self.NumberChanged, actor, number=number)
        return True

    def set_relationship(
        self, actor: tuple[str, str], company_id: str, relationship: dict[str, Any]
    ) -> bool:
        """Add or change a company's relationship; False if nothing changed."""
        current = self.relationships.get(company_id)
        if current == relationship:
            return False
        self._trigger(self.RelationshipSet, actor, company_id=company_id, relationship=relationship)
        return True

    def add_contact(self, actor: tuple[str, str], contact: dict[str, Any]) -> None:
        if any(c["id"] == contact["id"] for c in self.contacts):
            raise ConflictError("this contact person was added already", "id")
        self._trigger(self.ContactPersonAdded, actor, contact=contact)

    # ---------------------------------------------------------------- views
    def as_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "tenant_id": self.tenant_id,
            "version": self.version,
            "number": self.number,
            **{key: copy_state(getattr(self, key)) for key in SHARED_FIELDS},
            "relationships": [
                {"company_id": company_id, **copy_state(relationship)}
                for company_id, relationship in self.relationships.items()
            ],
            "contacts": copy_state(self.contacts),
            "created_in": self.created_in,
            "parent_company_id": self.parent_company_id,
            "created_at": self.created_on,
            "updated_at": self.modified_on,
        }


_TOPIC = get_topic(Customer)
