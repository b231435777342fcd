"""Translation of stored customer events to `customers.events.v1` envelopes.

Numbering events (the counter and the number index) are internal: they are not published.
The customers an import batch creates are published in their batch's `ImportBatchExecuted`
entry (its `created`), not as an entry each (`translate_page`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import orjson
from pydantic import TypeAdapter

from contracts import CustomerEnvelope
from psa.publishing import PublishedJSON, build_envelope, plain_envelope, published
from psa.publishing import plain_text as _text
from psa.publishing import plain_uuid as _uuid
from psa.streams.relay import PageTranslation

from .domainmodel.customer import Customer, CustomerEvent
from .domainmodel.import_batch import ImportBatchResult

_ENVELOPE: TypeAdapter[CustomerEnvelope] = TypeAdapter(CustomerEnvelope)


def published_topics() -> list[str]:
    """The stored event types that are published (the relay reads only these)."""
    from eventsourcing.utils import get_topic

    return [*customer_topics(), get_topic(ImportBatchResult.Executed)]


def customer_topics() -> list[str]:
    """The stored event types of customers themselves."""
    from eventsourcing.utils import get_topic

    from .domainmodel.customer import Customer

    return [
        get_topic(cls)
        for cls in (
            Customer.Created,
            Customer.DetailsChanged,
            Customer.NumberChanged,
            Customer.RelationshipSet,
            Customer.ContactPersonAdded,
        )
    ]


def to_envelope(event: Any, position: int) -> CustomerEnvelope | PublishedJSON | None:
    """The published form of a stored customer event; None for internal events."""
    if not isinstance(event, CustomerEvent):
        return None
    if type(event) is _CREATED:
        fast = created_json(event, position)
        if fast is not None:
            return fast
    name = str(getattr(type(event), "type_name", type(event).__name__))
    return build_envelope(_ENVELOPE, event, name, UUID(event.tenant_id), position)


_PLAIN_VALUES = (str, bool, type(None))


def created_json(event: Any, position: int) -> PublishedJSON | None:
    """The envelope JSON of `CustomerCreated`, built directly: the same bytes as validating
    the envelope model and dumping it (a test holds them equal), at a fraction of the cost.
    None when a value is not in the plain form that guarantees it (the model's way is taken
    then)."""
    envelope = _created_envelope(event, position)
    if envelope is None:
        return None
    try:
        return published(envelope)
    except orjson.JSONEncodeError:
        return None


def _created_envelope(event: Any, position: int) -> dict[str, Any] | None:
    """The envelope of `CustomerCreated` as plain data, which orjson writes exactly as the
    model does; None when a value is not in the plain form that guarantees it."""
    try:
        address = event.address
        if address is not None:
            address = {key: _text(address.get(key)) for key in _ADDRESS}
        for value in event.fields.values():
            if type(value) is list:
                if any(type(item) is not str for item in value):
                    return None
            elif type(value) not in _PLAIN_VALUES:
                return None
        if event.kind not in _KINDS:
            return None
        relationships = {
            _uuid(company_id, required=True): {
                "type_id": _uuid(r["type_id"]),
                "group_id": _uuid(r["group_id"]),
                "account_manager_id": _text(r["account_manager_id"]),
                "team": _text(r["team"]),
                "customer_team": _text(r["customer_team"]),
                "tags": [_text(tag) for tag in r["tags"]],
            }
            for company_id, r in event.relationships.items()
        }
        contacts = [
            {
                "id": _uuid(c["id"], required=True),
                "company_id": _uuid(c["company_id"]),
                "name": _text(c["name"], required=True),
                "email": _text(c["email"]),
                "phone": _text(c["phone"]),
            }
            for c in event.contacts
        ]
        return plain_envelope(
            event,
            "CustomerCreated",
            position,
            {
                "name": _text(event.name, required=True),
                "kind": event.kind,
                "number": _text(event.number, required=True),
                "business_id": _text(event.business_id),
                "company_group_id": _uuid(event.company_group_id),
                "parent_id": _uuid(event.parent_id),
                "fields": event.fields,
                "address": address,
                "relationships": relationships,
                "contacts": contacts,
                "created_in": _uuid(event.created_in),
                "request_key": _text(event.request_key),
                "parent_company_id": _uuid(event.parent_company_id),
                "parents": None
                if event.parents is None
                else {
                    _text(company_id, required=True): _uuid(parent_id, required=True)
                    for company_id, parent_id in event.parents.items()
                },
            },
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def imported_customer(event: Any, position: int) -> dict[str, Any]:
    """A created customer as an item of its batch's `created` (`ImportedCustomer`)."""
    envelope = _created_envelope(event, position)
    if envelope is None:
        model = build_envelope(_ENVELOPE, event, "CustomerCreated", UUID(event.tenant_id), position)
        envelope = model.model_dump(mode="json")
    return {key: envelope[key] for key in _IMPORTED_CUSTOMER}


_IMPORTED_CUSTOMER = (
    "event_id",
    "aggregate_id",
    "aggregate_version",
    "position",
    "occurred_at",
    "payload",
)


def executed_json(event: Any, position: int, created: list[tuple[int, Any]]) -> PublishedJSON:
    """The entry of a batch's outcome (`ImportBatchExecuted`) with the customers it created,
    in the bytes the model would write."""
    model = build_envelope(_ENVELOPE, event, "ImportBatchExecuted", UUID(event.tenant_id), position)
    envelope = model.model_dump(mode="json")
    envelope["payload"]["created"] = [imported_customer(e, p) for p, e in created]
    body = orjson.dumps(envelope, option=orjson.OPT_UTC_Z)
    return PublishedJSON(body, "ImportBatchExecuted", envelope["tenant_id"], envelope["event_id"])


def translate_page(events: Sequence[tuple[int, Any]], at_end: bool) -> PageTranslation:
    """The entries of a page of stored events (see `psa.streams.relay`): each event its own
    entry, except the customers an import batch created, which go in the entry of the batch's
    outcome (saved last in the same transaction). A page that ends before the outcome leaves
    them to the next read."""
    entries: list[tuple[int, Any]] = []
    waiting: list[tuple[int, Any]] = []  # created by an import: their batch's outcome follows

    def one_by_one(items: list[tuple[int, Any]]) -> None:
        for position, event in items:
            envelope = to_envelope(event, position)
            if envelope is not None:
                entries.append((position, envelope))

    for position, event in events:
        kind = type(event)
        if kind is _CREATED and event.request_key:
            waiting.append((position, event))
            continue
        if kind is _EXECUTED:
            prefix = f"{event.job_id}:"
            mine = [item for item in waiting if item[1].request_key.startswith(prefix)]
            one_by_one([item for item in waiting if not item[1].request_key.startswith(prefix)])
            entries.append((position, executed_json(event, position, mine)))
            waiting = []
            continue
        one_by_one(waiting)  # not followed by an outcome: each its own entry after all
        waiting = []
        one_by_one([(position, event)])
    if waiting and not at_end:
        return entries, len(events) - len(waiting)
    one_by_one(waiting)
    return entries, len(events)


_ADDRESS = ("street", "postal_code", "city", "country")
_KINDS = ("company", "subcontractor", "consumer")


_CREATED = Customer.Created
_EXECUTED = ImportBatchResult.Executed
