"""The customer list builds a new customer's document from its Created event directly; it
must be the document the aggregate itself gives."""

from __future__ import annotations

from uuid import uuid4

from services.customers.domainmodel.customer import Customer
from services.customers.list_projection import apply_event


def test_the_list_document_of_a_new_customer_is_the_aggregates_own():
    customer = Customer.create(
        customer_id=uuid4(),
        tenant_id="t",
        actor_id="a",
        actor_name="A",
        details={
            "name": "Öljy Oy",
            "kind": "company",
            "business_id": "0737546-2",
            "company_group_id": None,
            "parent_id": "p",
            "fields": {"f": ["o1", "o2"], "g": True},
            "address": {"street": "Katu 1", "postal_code": None, "city": "Turku", "country": None},
        },
        number="5",
        company_id="c1",
        relationships={
            "c1": {
                "type_id": "x",
                "group_id": "g",
                "account_manager_id": None,
                "team": None,
                "customer_team": None,
                "tags": ["a"],
            },
            "c2": {
                "type_id": "y",
                "group_id": None,
                "account_manager_id": None,
                "team": None,
                "customer_team": None,
                "tags": [],
            },
        },
        contacts=[{"id": "k", "company_id": "c1", "name": "N", "email": None, "phone": None}],
        request_key="job:2",
    )
    assert apply_event(None, customer.pending_events[0]) == customer.as_dict()
