"""The published contracts: pinned JSON Schemas, and every stored event has a payload model."""

from __future__ import annotations

import json
import os
from pathlib import Path
from uuid import uuid4

import pytest

from contracts import SCHEMAS, SettingsEnvelope
from services.settings.domainmodel import (
    Actor,
    CustomerSettings,
    SettingsEvent,
    Tenant,
    event_type,
)
from services.settings.publishing import to_envelope

SNAPSHOTS = Path(__file__).parent / "snapshots"
ADMIN = Actor("admin", "Aino", ("a", "b"), ("admin",))


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_the_json_schema_of_each_contract_matches_its_committed_snapshot(name: str):
    """An incompatible change fails here; regenerate with UPDATE_SNAPSHOTS=1 only on purpose."""
    schema = json.dumps(SCHEMAS[name].json_schema(), indent=2, sort_keys=True) + "\n"
    path = SNAPSHOTS / f"{name}.json"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(schema)
    assert path.exists(), f"no snapshot for {name}: run with UPDATE_SNAPSHOTS=1 once"
    assert schema == path.read_text(), f"the schema of {name} changed: is it additive?"


def _event_classes(base: type) -> set[type]:
    """Every concrete stored event: the subclasses of `base` that apply a change."""
    found: set[type] = set()
    pending = [base]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if "apply" in vars(cls):
            found.add(cls)
    return found


def _every_kind_of_event() -> list:
    tenant = Tenant.create(ADMIN, "Konserni", ["A", "B"])
    tenant.add_company(ADMIN, "C")
    tenant.add_user(ADMIN, "matti", "Matti", tenant.company_ids[0])
    settings = CustomerSettings.create(tenant.id, ADMIN)
    type_id = settings.add_customer_type(ADMIN, "Prospekti", default_for=["consumer"])
    settings.update_customer_type(ADMIN, type_id, name="Liidi", invoicing_allowed=False)
    settings.update_customer_type(ADMIN, type_id, defaults={"consumer": False}, archived=True)
    settings.update_customer_type(ADMIN, type_id, archived=False)
    group = settings.add_customer_group(ADMIN, "Isot", "ERP")
    settings.update_customer_group(ADMIN, group, name="Suuret", integration_id="ERP2")
    settings.update_customer_group(ADMIN, group, archived=True)
    settings.update_customer_group(ADMIN, group, archived=False)
    company_group = settings.add_company_group(ADMIN, "Kunnat")
    settings.update_company_group(ADMIN, company_group, name="Kunta-ala", archived=True)
    settings.update_company_group(ADMIN, company_group, archived=False)
    settings.change_multi_company(
        ADMIN, {"share_company_structure": True}, tenant_company_ids=["a", "b"]
    )
    settings.change_hierarchy_filter(ADMIN, "unlinked")
    settings.change_numbering(ADMIN, "manual")
    field = settings.add_field(ADMIN, "Koko", "dropdown", options=["S"])
    other = settings.add_field(ADMIN, "Muuta", "text")
    settings.update_field(
        ADMIN,
        field,
        name="Koko-luokka",
        field_type="multiselect",
        mandatory=True,
        hubspot_property_id="size",
        options=["S", "M"],
    )
    settings.update_field(ADMIN, field, archived=True)
    settings.update_field(ADMIN, field, archived=False)
    settings.reorder_fields(ADMIN, [other, field])
    return [*tenant.collect_events(), *settings.collect_events()]


def test_every_stored_event_type_translates_to_its_published_payload():
    events = _every_kind_of_event()
    produced = {type(e) for e in events}
    assert produced == _event_classes(Tenant.Event) | _event_classes(SettingsEvent)
    for position, event in enumerate(events, start=1):
        envelope = to_envelope(event, position)
        assert isinstance(envelope, SettingsEnvelope)
        assert envelope.type == event_type(event) == envelope.payload.type
        assert envelope.position == position
        assert envelope.actor.id == "admin"
        # Consumers parse the JSON form: it must round-trip.
        assert SettingsEnvelope.model_validate_json(envelope.model_dump_json()) == envelope


def test_the_same_event_always_gets_the_same_event_id():
    settings = CustomerSettings.create(uuid4(), ADMIN)
    (created,) = settings.collect_events()
    assert to_envelope(created, 7).event_id == to_envelope(created, 7).event_id


def test_consumers_ignore_fields_added_later():
    envelope = to_envelope(_every_kind_of_event()[0], 1)
    data = json.loads(envelope.model_dump_json())
    data["new_top_level_field"] = 1
    data["payload"]["new_payload_field"] = "x"
    assert SettingsEnvelope.model_validate(data) == envelope


def test_the_committed_asyncapi_document_is_generated_from_the_code():
    """docs/asyncapi.json is `psa asyncapi`'s output; regenerate it with UPDATE_SNAPSHOTS=1."""
    from contracts.asyncapi import document_json

    path = Path(__file__).parents[2] / "docs" / "asyncapi.json"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(document_json())
    assert path.read_text() == document_json()
