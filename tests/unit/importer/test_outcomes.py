"""How the importer counts a batch's outcomes (`ImportBatchExecuted.outcomes`) and keeps the
register's links to parent units."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from contracts import RowOutcome
from services.importer.application import OUTCOMES, count_outcomes

ID = [str(uuid4()) for _ in range(6)]


def _published(**fields: Any) -> dict[str, Any]:
    """An outcome as consumers read it: validated by the contract, dumped to JSON values."""
    return RowOutcome.model_validate(fields).model_dump(mode="json")


def test_an_update_that_changed_nothing_is_counted_unchanged():
    outcomes = [
        _published(row=2, outcome="updated", customer_id=ID[1], changed=False),
        _published(row=3, outcome="updated", customer_id=ID[2], changed=True),
        _published(row=4, outcome="created", customer_id=ID[3]),
        _published(row=5, outcome="skipped", customer_id=ID[4], message="exists already"),
        _published(row=6, outcome="failed", message="no name"),
        _published(row=7, outcome="updated", customer_id=ID[5], changed=False),
    ]
    assert count_outcomes(outcomes) == {
        "created": 1,
        "updated": 1,
        "unchanged": 2,
        "skipped": 1,
        "failed": 1,
    }


def test_an_update_from_before_changed_was_told_is_counted_updated():
    """Outcomes a customers service sent before `changed`: the field absent, or null."""
    older = {"row": 2, "outcome": "updated", "customer_id": ID[1]}
    assert RowOutcome.model_validate(older).changed is None
    assert count_outcomes([older, _published(**older)])["updated"] == 2
    assert count_outcomes([older])["unchanged"] == 0


@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "row": st.integers(2, 10**6),
                "outcome": st.sampled_from(["created", "updated", "skipped", "failed"]),
                "changed": st.none() | st.booleans(),
            }
        ),
        max_size=30,
    )
)
def test_every_row_is_counted_once(outcomes: list[dict[str, Any]]):
    tally = count_outcomes(outcomes)
    assert tuple(tally) == OUTCOMES
    assert sum(tally.values()) == len(outcomes)
    assert tally["unchanged"] == sum(
        1 for o in outcomes if o["outcome"] == "updated" and o["changed"] is False
    )
    # Only an update can be unchanged.
    for kind in ("created", "skipped", "failed"):
        assert tally[kind] == sum(1 for o in outcomes if o["outcome"] == kind)


def test_the_register_keeps_each_companys_link_and_the_last_link_of_an_older_entry():
    from services.importer.application import _links

    assert _links({"parents": {"a": "p1", "b": "p2"}, "parent_id": "p2"}) == ('{"a":"p1","b":"p2"}')
    assert _links({"parents": None, "parent_id": "p1", "parent_company_id": "a"}) == ('{"a":"p1"}')
    assert _links({"parent_id": "p1"}) == '{"":"p1"}'  # made by no company's user
    assert _links({"parents": {}, "parent_id": None}) is None
    assert _links({"parent_id": None}) is None
