"""Each company's link of a customer to a parent unit (`Customer.parents`)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from eventsourcing.domain import Snapshot

from services.customers.domainmodel.customer import Customer, links, seen_parent

ACTOR = ("u1", "Anna")


def customer(company: str, parent: str | None) -> Any:
    return Customer.create(
        customer_id=uuid4(),
        tenant_id="t",
        actor_id="u1",
        actor_name="Anna",
        details={"name": "Tytär Oy", "kind": "company", "parent_id": parent},
        number="1",
        company_id=company,
        relationships={},
        contacts=[],
    )


def test_without_a_shared_structure_a_company_changes_only_its_own_link() -> None:
    child = customer("A", "emo-a")
    assert child.parents == {"A": "emo-a"}
    child.change_details(ACTOR, {"parent_id": "emo-b"}, "B", shared_structure=False)
    assert child.parents == {"A": "emo-a", "B": "emo-b"}
    assert (child.parent_id, child.parent_company_id) == ("emo-b", "B")  # the last link
    assert seen_parent(child.parents, "A", False) == "emo-a"
    assert seen_parent(child.parents, "C", False) is None
    assert seen_parent(child.parents, "C", True) == "emo-b"
    changed = child.change_details(ACTOR, {"parent_id": None}, "B", shared_structure=False)
    assert changed == ["parent_id", "parents"]
    assert (child.parents, child.parent_id, child.parent_company_id) == (
        {"A": "emo-a"},
        "emo-a",
        "A",
    )
    # Removing a link that is not the last one changes the links, and so is an event.
    child.change_details(ACTOR, {"parent_id": "emo-b"}, "B", shared_structure=False)
    version = child.version
    assert child.change_details(ACTOR, {"parent_id": None}, "A", shared_structure=False) == [
        "parents"
    ]
    assert child.version == version + 1 and child.parents == {"B": "emo-b"}
    # The same link again is no change.
    assert child.change_details(ACTOR, {"parent_id": "emo-b"}, "B", shared_structure=False) == []


def test_with_a_shared_structure_a_link_replaces_every_link() -> None:
    child = customer("A", "emo-a")
    child.change_details(ACTOR, {"parent_id": "emo-b"}, "B", shared_structure=False)
    child.change_details(ACTOR, {"parent_id": "emo-c"}, "A", shared_structure=True)
    assert child.parents == {"A": "emo-c"}
    child.change_details(ACTOR, {"parent_id": None}, "B", shared_structure=True)
    assert (child.parents, child.parent_id) == ({}, None)


def test_events_and_snapshots_stored_before_the_links_were_kept_read_as_one_link() -> None:
    assert links(None, "emo", "A") == {"A": "emo"}
    assert links(None, "emo", None) == {"": "emo"}  # no company's own: seen only when shared
    assert links(None, None, None) == {}
    child = customer("A", "emo-a")
    snapshot = Snapshot.take(child)
    state = dict(snapshot.state)
    del state["parents"]
    old = Snapshot(
        originator_id=snapshot.originator_id,
        originator_version=snapshot.originator_version,
        timestamp=snapshot.timestamp,
        topic=snapshot.topic,
        state=state,
    ).mutate(None)
    assert old.parents == {"A": "emo-a"}
    old.change_details(ACTOR, {"parent_id": "emo-b"}, "B", shared_structure=False)
    assert old.parents == {"A": "emo-a", "B": "emo-b"}
