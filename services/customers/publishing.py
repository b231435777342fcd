"""Translation of stored customer events to `customers.events.v1` envelopes.

Numbering events (the counter and the number index) are internal: they are not published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from uuid import UUID, uuid5

import orjson
from pydantic import TypeAdapter

from contracts import CustomerEnvelope
from psa.publishing import build_envelope

from .domainmodel.customer import Customer, CustomerEvent

_ENVELOPE: TypeAdapter[CustomerEnvelope] = TypeAdapter(CustomerEnvelope)


def published_topics() -> list[str]:
    """The stored event types that are published (the relay reads only these)."""
    from eventsourcing.utils import get_topic

    from .domainmodel.import_batch import ImportBatchResult

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


@dataclass(frozen=True)
class PublishedJSON:
    """An envelope already in its published JSON (see `created_json`)."""

    published_json: bytes
    type: str
    tenant_id: str
    event_id: str


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_PLAIN_VALUES = (str, bool, type(None))


def _uuid(value: Any, required: bool = False) -> str | None:
    """An id as the model writes it; ValueError if the model would write it otherwise."""
    if value is None and not required:
        return None
    if type(value) is not str or not _UUID.fullmatch(value):
        raise ValueError(value)
    return value


def _text(value: Any, required: bool = False) -> str | None:
    if (value is not None or required) and type(value) is not str:
        raise ValueError(value)
    return value  # type: ignore[no-any-return]


def created_json(event: Any, position: int) -> PublishedJSON | None:
    """The envelope JSON of `CustomerCreated`, built directly: the same bytes as validating
    the envelope model and dumping it (a test holds them equal), at a fraction of the cost,
    which the relay pays for every customer an import creates. None when a value is not in
    the plain form that guarantees it (the model's way is taken then)."""
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
        if event.kind not in _KINDS or event.timestamp.tzinfo is not UTC:
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
        tenant_id = _uuid(event.tenant_id, required=True)
        event_id = str(uuid5(event.originator_id, str(event.originator_version)))
        envelope = {
            "event_id": event_id,
            "type": "CustomerCreated",
            "schema_version": 1,
            "tenant_id": tenant_id,
            "aggregate_id": str(event.originator_id),
            "aggregate_version": event.originator_version,
            "position": position,
            "occurred_at": event.timestamp,
            "actor": {
                "id": _text(event.actor_id, required=True),
                "name": _text(event.actor_name, required=True),
            },
            "payload": {
                "type": "CustomerCreated",
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
            },
        }
        body = orjson.dumps(envelope, option=orjson.OPT_UTC_Z)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return PublishedJSON(body, "CustomerCreated", str(tenant_id), event_id)


_ADDRESS = ("street", "postal_code", "city", "country")
_KINDS = ("company", "subcontractor", "consumer")


_CREATED = Customer.Created
