"""`CustomerCreated` is published from JSON built directly: the same bytes as the model's."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from psa.publishing import build_envelope
from services.customers.domainmodel.customer import SHARED_FIELDS, Customer
from services.customers.publishing import _ENVELOPE, created_json, to_envelope
from tests.unit.published_json import assert_as_the_model, read_back

ids = st.uuids().map(str)
texts = st.text(max_size=30)
maybe = st.none() | texts
relationship = st.fixed_dictionaries(
    {
        "type_id": st.none() | ids,
        "group_id": st.none() | ids,
        "account_manager_id": maybe,
        "team": maybe,
        "customer_team": maybe,
        "tags": st.lists(texts, max_size=3),
    }
)
contact = st.fixed_dictionaries(
    {"id": ids, "company_id": st.none() | ids, "name": texts, "email": maybe, "phone": maybe}
)
address = st.none() | st.fixed_dictionaries(
    {}, optional={k: maybe for k in ("street", "postal_code", "city", "country")}
)
field_values = st.dictionaries(
    ids, st.none() | st.booleans() | texts | st.lists(ids, max_size=3), max_size=4
)


@settings(max_examples=300, deadline=None)
@given(
    name=texts,
    kind=st.sampled_from(["company", "subcontractor", "consumer"]),
    number=texts,
    business_id=maybe,
    company_group_id=st.none() | ids,
    parent_id=st.none() | ids,
    fields=field_values,
    address=address,
    relationships=st.dictionaries(ids, relationship, max_size=3),
    contacts=st.lists(contact, max_size=2),
    request_key=maybe,
    actor_name=texts,
)
def test_the_json_is_the_models_json(**values: Any) -> None:
    details = {key: values[key] for key in SHARED_FIELDS}
    event = read_back(
        Customer.created(
            customer_id=uuid4(),
            tenant_id=str(uuid4()),
            actor_id="u1",
            actor_name=values["actor_name"],
            details=details,
            number=values["number"],
            company_id=str(uuid4()),
            relationships=values["relationships"],
            contacts=values["contacts"],
            request_key=values["request_key"],
        )
    )
    fast = created_json(event, 42)
    model = build_envelope(_ENVELOPE, event, "CustomerCreated", UUID(event.tenant_id), 42)
    assert_as_the_model(fast, model, "CustomerCreated")


def test_values_not_in_plain_form_take_the_models_way() -> None:
    company = str(uuid4())
    relationship = {
        "type_id": str(uuid4()).upper(),  # not in canonical form: the model writes it so
        "group_id": None,
        "account_manager_id": None,
        "team": None,
        "customer_team": None,
        "tags": [],
    }
    for relationships, fields in (
        ({company: relationship}, {}),
        ({}, {"f": 1.5}),  # a number the model writes its own way
    ):
        event = read_back(
            Customer.created(
                customer_id=uuid4(),
                tenant_id=str(uuid4()),
                actor_id="u1",
                actor_name="Aino",
                details={"name": "Oy", "kind": "company", "fields": fields},
                number="1",
                company_id=company,
                relationships=relationships,
                contacts=[],
            )
        )
        assert created_json(event, 1) is None
        envelope = to_envelope(event, 1)
        assert envelope is not None and not hasattr(envelope, "published_json")
        assert envelope.payload.type == "CustomerCreated"
