"""The settings applied to a customer: business ids, numbers, field values, defaults."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from psa.customer_rules.business_id import check_digit, normalize_business_id
from psa.customer_rules.rules import (
    check_details,
    check_field_value,
    check_number,
    check_relationship,
)
from psa.customer_rules.settings_view import (
    SettingsView,
    apply_settings_event,
    new_document,
)
from services.customers.domainmodel.numbering import clean_number

TENANT = "00000000-0000-0000-0000-000000000001"


def view(**changes) -> SettingsView:  # type: ignore[no-untyped-def]
    document = new_document(TENANT)
    document["companies"] = {"c1": "A", "c2": "B"}
    document["users"] = {
        "maija": {
            "id": "maija",
            "name": "Maija",
            "company_id": "c1",
            "company_ids": ["c1"],
            "roles": ["user"],
        },
    }
    document["customer_types"] = {
        "t-asiakas": {
            "id": "t-asiakas",
            "name": "Asiakas",
            "invoicing_allowed": True,
            "archived": False,
        },
        "t-ali": {
            "id": "t-ali",
            "name": "Alihankkija",
            "invoicing_allowed": False,
            "archived": False,
        },
    }
    document["default_types"] = {
        "customer": "t-asiakas",
        "subcontractor": "t-ali",
        "consumer": None,
    }
    document.update(changes)
    return SettingsView(document)


@pytest.mark.parametrize("value", ["0737546-2", "1572860-0", " 737546-2 "])
def test_valid_business_ids_are_normalized(value):
    assert normalize_business_id(value) in {"0737546-2", "1572860-0"}


@pytest.mark.parametrize("value", ["1234567-8", "1234567", "12345678-9", "abcdefg-1"])
def test_invalid_business_ids_are_refused(value):
    with pytest.raises(ValueError):
        normalize_business_id(value)


@given(st.text(alphabet="0123456789", min_size=7, max_size=7))
def test_every_business_id_with_its_check_digit_is_valid(digits):
    digit = check_digit(digits)
    if digit is None:
        return  # remainder 1: no valid Business ID has these digits
    assert normalize_business_id(f"{digits}-{digit}") == f"{digits}-{digit}"
    wrong = (digit + 1) % 10
    with pytest.raises(ValueError):
        normalize_business_id(f"{digits}-{wrong}")


@pytest.mark.parametrize("value", ["1", "ABC-12", "Ä123", "2026/7", "x.1"])
def test_numbers_may_have_letters_digits_and_separators(value):
    assert clean_number(value) == value


@pytest.mark.parametrize("value", ["", "  ", "-1", "a b", "x" * 51])
def test_bad_numbers_are_refused(value):
    with pytest.raises(ValueError):
        clean_number(value)


def test_manual_numbering_requires_a_number():
    errors: list[tuple[str, str]] = []
    manual = view(numbering={"mode": "manual", "next_number": 1})
    assert check_number(manual, None, errors) is None
    assert errors and errors[0][0] == "number"
    assert check_number(view(), None, []) is None


def test_the_default_type_follows_the_kind_and_consumers_fall_back_to_the_customer_type():
    errors: list[tuple[str, str]] = []
    settings = view()
    for kind, expected in [
        ("company", "t-asiakas"),
        ("subcontractor", "t-ali"),
        ("consumer", "t-asiakas"),
    ]:
        relationship = check_relationship(
            settings, {}, errors, company_id="c1", kind=kind, existing=None
        )
        assert relationship["type_id"] == expected
    assert errors == []


def test_an_account_manager_must_be_of_the_company_unless_any_company_is_allowed():
    errors: list[tuple[str, str]] = []
    check_relationship(
        view(),
        {"account_manager_id": "maija"},
        errors,
        company_id="c2",
        kind="company",
        existing=None,
    )
    assert errors == [
        ("relationship.account_manager_id", "the account manager must be a user of this company")
    ]
    settings = view()
    settings.document["multi_company"]["account_manager_from_any_company"] = True
    errors = []
    check_relationship(
        settings,
        {"account_manager_id": "maija"},
        errors,
        company_id="c2",
        kind="company",
        existing=None,
    )
    assert errors == []


def test_tags_are_trimmed_and_kept_once():
    relationship = check_relationship(
        view(),
        {"tags": [" vip ", "VIP", "uusi"]},
        [],
        company_id="c1",
        kind="company",
        existing=None,
    )
    assert relationship["tags"] == ["vip", "uusi"]


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("text", "  a  ", "a"),
        ("textarea", "rivi 1\nrivi 2", "rivi 1\nrivi 2"),
        ("date", "1.2.2026", "2026-02-01"),
        ("date", "2026-02-01", "2026-02-01"),
        ("checkbox", False, False),
        ("link", "http://example.com", "http://example.com"),
        ("text", "", None),
    ],
)
def test_field_values_of_each_type(kind, value, expected):
    assert check_field_value({"type": kind, "options": []}, value, None) == expected


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("date", "2026-13-01"),
        ("checkbox", "true"),
        ("link", "example.com"),
        ("link", "javascript:alert(1)"),
        ("text", 5),
        ("text", "x" * 1001),
    ],
)
def test_bad_field_values_are_refused(kind, value):
    with pytest.raises(ValueError):
        check_field_value({"type": kind, "options": []}, value, None)


def test_an_archived_option_is_kept_where_a_customer_has_it_but_not_given_anew():
    field = {"type": "dropdown", "options": [{"id": "o1", "name": "Vanha", "archived": True}]}
    with pytest.raises(ValueError, match="archived"):
        check_field_value(field, "o1", None)
    assert check_field_value(field, "vanha", "o1") == "o1"


def test_a_mandatory_field_is_required_on_create_and_cannot_be_emptied_later():
    settings = view()
    settings.document["fields"] = {
        "f": {
            "id": "f",
            "name": "Toimiala",
            "type": "text",
            "options": [],
            "mandatory": True,
            "archived": False,
        }
    }
    settings.document["field_order"] = ["f"]
    errors: list[tuple[str, str]] = []
    check_details(settings, {"name": "X"}, errors, existing=None)
    assert errors == [("fields.f", "Toimiala is mandatory")]
    errors = []
    existing = {"name": "X", "fields": {"f": "IT"}}
    check_details(settings, {"fields": {"f": ""}}, errors, existing=existing)
    assert errors == [("fields.f", "Toimiala is mandatory")]
    errors = []
    assert check_details(settings, {"name": "Y"}, errors, existing=existing)["name"] == "Y"
    assert errors == []


def test_the_settings_document_follows_the_published_events():
    document = new_document(TENANT)
    apply_settings_event(
        document,
        {
            "aggregate_version": 1,
            "payload": {
                "type": "TenantCreated",
                "name": "T",
                "companies": [{"id": "c1", "name": "A"}],
                "users": [
                    {
                        "id": "u",
                        "name": "U",
                        "company_id": "c1",
                        "company_ids": ["c1"],
                        "roles": ["admin"],
                    }
                ],
            },
        },
    )
    apply_settings_event(
        document,
        {
            "aggregate_version": 2,
            "payload": {
                "type": "CompanyAdded",
                "company_id": "c2",
                "name": "B",
                "granted_to": ["u"],
            },
        },
    )
    apply_settings_event(
        document, {"aggregate_version": 3, "payload": {"type": "SomethingNewWeDoNotKnow", "x": 1}}
    )
    assert document["users"]["u"]["company_ids"] == ["c1", "c2"]
    assert document["companies"] == {"c1": "A", "c2": "B"}


@pytest.mark.parametrize(
    "value",
    [
        "https://exa\nmple.com/",
        "https://example.com/a\tb",
        "http://:80",
        "https://",
        "mailto:x@y.fi",
    ],
)
def test_links_without_a_host_or_with_spaces_are_refused(value):
    with pytest.raises(ValueError):
        check_field_value({"type": "link", "options": []}, value, None)


@pytest.mark.parametrize("value", ["2026-W48-5", "20261127", "2026-11", "27.11.26"])
def test_only_iso_and_finnish_dates_are_accepted(value):
    with pytest.raises(ValueError):
        check_field_value({"type": "date", "options": []}, value, None)


def test_a_dropdown_value_stays_valid_when_the_field_becomes_a_multiselect():
    field = {
        "type": "multiselect",
        "options": [
            {"id": "o1", "name": "Vanha", "archived": True},
            {"id": "o2", "name": "Uusi", "archived": False},
        ],
    }
    assert check_field_value(field, ["o1", "o2"], "o1") == ["o1", "o2"]
