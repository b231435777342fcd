"""The rules of the CustomerSettings aggregate, each with the error it gives (DESIGN.md §4)."""

from __future__ import annotations

from uuid import uuid4

import pytest

from psa.errors import ConflictError, DomainError, NotFoundError, PermissionDeniedError
from services.settings.domainmodel import Actor, CustomerSettings, builtin_type_id

ADMIN = Actor("admin", "Aino Admin", ("c1", "c2"), ("admin",))
TWO_COMPANIES = ["c1", "c2"]


@pytest.fixture
def settings() -> CustomerSettings:
    settings = CustomerSettings.create(uuid4(), ADMIN)
    settings.collect_events()
    return settings


def refused(settings: CustomerSettings, error: type[DomainError], field: str, call) -> str:  # type: ignore[no-untyped-def]
    """Run a command that must be refused; check the error names the field and nothing changed."""
    before = settings.as_dict()
    with pytest.raises(error) as caught:
        call()
    assert caught.value.field == field
    assert settings.collect_events() == []
    assert settings.as_dict() == before
    return caught.value.message


def type_named(settings: CustomerSettings, name: str) -> dict:  # type: ignore[type-arg]
    return next(t for t in settings.as_dict()["customer_types"] if t["name"] == name)


# ---------------------------------------------------------------- built-in types
def test_a_new_tenant_has_asiakas_as_default_customer_type_and_alihankkija_as_subcontractor():
    tenant_id = uuid4()
    settings = CustomerSettings.create(tenant_id, ADMIN)
    asiakas = type_named(settings, "Asiakas")
    alihankkija = type_named(settings, "Alihankkija")
    assert asiakas["default_customer"] and asiakas["builtin"] == "asiakas"
    assert alihankkija["default_subcontractor"] and alihankkija["builtin"] == "alihankkija"
    assert asiakas["id"] == builtin_type_id(tenant_id, "asiakas")
    assert settings.default_types["consumer"] is None
    assert settings.numbering == {"mode": "automatic", "next_number": 1}
    assert settings.hierarchy_filter == "all"


# ---------------------------------------------------------------- names
@pytest.mark.parametrize(
    ("add", "what"),
    [
        (lambda s, n: s.add_customer_type(ADMIN, n), "customer type"),
        (lambda s, n: s.add_customer_group(ADMIN, n), "customer group"),
        (lambda s, n: s.add_company_group(ADMIN, n), "company group"),
        (lambda s, n: s.add_field(ADMIN, n, "text"), "additional field"),
    ],
)
def test_names_are_unique_per_collection_trimmed_and_case_insensitively(settings, add, what):
    add(settings, "Kumppanit")
    settings.collect_events()
    message = refused(settings, ConflictError, "name", lambda: add(settings, "  kumppanit "))
    assert what in message and "Kumppanit" in message


def test_the_same_name_may_be_used_in_different_collections(settings):
    settings.add_customer_type(ADMIN, "Julkinen")
    settings.add_customer_group(ADMIN, "Julkinen")
    settings.add_company_group(ADMIN, "Julkinen")
    assert len(settings.collect_events()) == 3


def test_an_archived_items_name_is_still_taken_and_the_error_says_restore_it(settings):
    group_id = settings.add_customer_group(ADMIN, "Pienet")
    settings.update_customer_group(ADMIN, group_id, archived=True)
    settings.collect_events()
    message = refused(
        settings, ConflictError, "name", lambda: settings.add_customer_group(ADMIN, "pienet")
    )
    assert "restore" in message


def test_renaming_to_another_items_name_is_refused_but_to_its_own_is_fine(settings):
    first = settings.add_company_group(ADMIN, "Kunnat")
    second = settings.add_company_group(ADMIN, "Valtio")
    settings.collect_events()
    refused(
        settings,
        ConflictError,
        "name",
        lambda: settings.update_company_group(ADMIN, second, name="KUNNAT"),
    )
    settings.update_company_group(ADMIN, first, name="kunnat")
    assert [type(e).__name__ for e in settings.collect_events()] == ["CompanyGroupRenamed"]


@pytest.mark.parametrize("bad", ["", "   ", "x" * 101])
def test_an_empty_or_too_long_name_is_refused(settings, bad):
    refused(settings, DomainError, "name", lambda: settings.add_customer_type(ADMIN, bad))


def test_names_are_trimmed_and_inner_whitespace_collapsed(settings):
    type_id = settings.add_customer_type(ADMIN, "  Iso   asiakas ")
    assert settings.customer_types[type_id]["name"] == "Iso asiakas"


# ---------------------------------------------------------------- default types
def test_setting_a_new_default_customer_type_moves_the_flag(settings):
    type_id = settings.add_customer_type(ADMIN, "Prospekti", default_for=["customer"])
    view = settings.as_dict()
    assert type_named(settings, "Prospekti")["default_customer"]
    assert not type_named(settings, "Asiakas")["default_customer"]
    assert view["default_types"]["customer"] == type_id
    assert sum(t["default_customer"] for t in view["customer_types"]) == 1


def test_there_is_always_exactly_one_default_customer_type(settings):
    asiakas = type_named(settings, "Asiakas")["id"]
    message = refused(
        settings,
        DomainError,
        "default_customer",
        lambda: settings.update_customer_type(ADMIN, asiakas, defaults={"customer": False}),
    )
    assert "one default customer type" in message


@pytest.mark.parametrize("role", ["subcontractor", "consumer"])
def test_at_most_one_default_subcontractor_and_consumer_type_and_they_can_be_unset(settings, role):
    first = settings.add_customer_type(ADMIN, "Eka", default_for=[role])
    second = settings.add_customer_type(ADMIN, "Toka", default_for=[role])
    assert settings.default_types[role] == second
    assert sum(t[f"default_{role}"] for t in settings.as_dict()["customer_types"]) == 1
    settings.update_customer_type(ADMIN, second, defaults={role: False})
    assert settings.default_types[role] is None
    assert first != second


def test_an_unknown_default_role_is_refused(settings):
    refused(
        settings,
        DomainError,
        "default_for",
        lambda: settings.add_customer_type(ADMIN, "X", default_for=["vip"]),
    )


@pytest.mark.parametrize("role", ["customer", "subcontractor", "consumer"])
def test_a_type_that_is_a_default_cannot_be_archived(settings, role):
    type_id = settings.add_customer_type(ADMIN, "Oletus", default_for=[role])
    settings.collect_events()
    message = refused(
        settings, DomainError, "archived", lambda: settings.archive_customer_type(ADMIN, type_id)
    )
    assert f"default {role} type" in message


def test_the_default_relationship_type_cannot_be_archived(settings):
    type_id = settings.add_customer_type(ADMIN, "Kumppani")
    settings.change_multi_company(
        ADMIN, {"default_relationship_type_id": type_id}, tenant_company_ids=TWO_COMPANIES
    )
    settings.collect_events()
    message = refused(
        settings, DomainError, "archived", lambda: settings.archive_customer_type(ADMIN, type_id)
    )
    assert "default relationship type" in message


def test_an_archived_type_cannot_become_a_default_but_can_be_restored_as_one(settings):
    type_id = settings.add_customer_type(ADMIN, "Vanha")
    settings.archive_customer_type(ADMIN, type_id)
    settings.collect_events()
    refused(
        settings,
        DomainError,
        "default_consumer",
        lambda: settings.update_customer_type(ADMIN, type_id, defaults={"consumer": True}),
    )
    settings.update_customer_type(ADMIN, type_id, archived=False, defaults={"consumer": True})
    assert settings.default_types["consumer"] == type_id
    assert not settings.customer_types[type_id]["archived"]


def test_a_type_can_stop_being_a_default_and_be_archived_in_one_change(settings):
    type_id = settings.add_customer_type(ADMIN, "Kuluttaja", default_for=["consumer"])
    settings.update_customer_type(ADMIN, type_id, defaults={"consumer": False}, archived=True)
    assert settings.customer_types[type_id]["archived"]
    assert settings.default_types["consumer"] is None


def test_invoicing_allowed_is_set_per_type(settings):
    type_id = settings.add_customer_type(ADMIN, "Sisäinen", invoicing_allowed=False)
    assert settings.customer_types[type_id]["invoicing_allowed"] is False
    settings.update_customer_type(ADMIN, type_id, invoicing_allowed=True)
    assert settings.customer_types[type_id]["invoicing_allowed"] is True


def test_an_unknown_type_is_not_found(settings):
    refused(
        settings,
        NotFoundError,
        "type_id",
        lambda: settings.update_customer_type(ADMIN, "nope", name="X"),
    )


def test_a_change_that_changes_nothing_records_nothing(settings):
    asiakas = type_named(settings, "Asiakas")["id"]
    settings.update_customer_type(ADMIN, asiakas, name="Asiakas", defaults={"customer": True})
    assert settings.collect_events() == []


# ---------------------------------------------------------------- customer groups
def test_a_customer_group_has_an_optional_unique_integration_id(settings):
    group_id = settings.add_customer_group(ADMIN, "Suuret", integration_id=" ERP-1 ")
    assert settings.customer_groups[group_id]["integration_id"] == "ERP-1"
    settings.collect_events()
    refused(
        settings,
        ConflictError,
        "integration_id",
        lambda: settings.add_customer_group(ADMIN, "Pienet", integration_id="ERP-1"),
    )
    settings.update_customer_group(ADMIN, group_id, integration_id=None)
    assert settings.customer_groups[group_id]["integration_id"] is None


def test_archived_groups_keep_their_data_and_can_be_restored(settings):
    group_id = settings.add_customer_group(ADMIN, "Kausi")
    settings.update_customer_group(ADMIN, group_id, archived=True)
    assert settings.customer_groups[group_id]["archived"]
    settings.update_customer_group(ADMIN, group_id, archived=False)
    assert settings.customer_groups[group_id] == {
        "id": group_id,
        "name": "Kausi",
        "integration_id": None,
        "archived": False,
    }


# ---------------------------------------------------------------- multi-company
def test_multi_company_toggles_need_a_tenant_of_two_or_more_companies(settings):
    message = refused(
        settings,
        DomainError,
        "see_other_companies_customers",
        lambda: settings.change_multi_company(
            ADMIN, {"see_other_companies_customers": True}, tenant_company_ids=["c1"]
        ),
    )
    assert "two or more companies" in message


def test_multi_company_toggles_need_an_admin_with_access_to_every_company(settings):
    one_company_admin = Actor("a2", "Antti", ("c1",), ("admin",))
    refused(
        settings,
        PermissionDeniedError,
        "share_company_structure",
        lambda: settings.change_multi_company(
            one_company_admin,
            {"share_company_structure": True},
            tenant_company_ids=TWO_COMPANIES,
        ),
    )


def test_the_customer_group_mandatory_toggle_applies_to_a_single_company_tenant(settings):
    single = Actor("a3", "Anna", ("c1",), ("admin",))
    settings.change_multi_company(
        single, {"customer_group_mandatory": True}, tenant_company_ids=["c1"]
    )
    assert settings.multi_company["customer_group_mandatory"] is True


def test_every_multi_company_toggle_can_be_set_and_read_back(settings):
    type_id = settings.add_customer_type(ADMIN, "Konsernikumppani")
    wanted = {
        "see_other_companies_customers": True,
        "hide_other_companies_details": True,
        "default_relationship_type_id": type_id,
        "share_company_structure": True,
        "account_manager_from_any_company": True,
        "customer_group_mandatory": True,
    }
    settings.change_multi_company(ADMIN, wanted, tenant_company_ids=TWO_COMPANIES)
    assert settings.multi_company == wanted


def test_the_default_relationship_type_must_exist_and_not_be_archived(settings):
    refused(
        settings,
        NotFoundError,
        "default_relationship_type_id",
        lambda: settings.change_multi_company(
            ADMIN, {"default_relationship_type_id": "nope"}, tenant_company_ids=TWO_COMPANIES
        ),
    )
    type_id = settings.add_customer_type(ADMIN, "Poistunut")
    settings.archive_customer_type(ADMIN, type_id)
    settings.collect_events()
    refused(
        settings,
        DomainError,
        "default_relationship_type_id",
        lambda: settings.change_multi_company(
            ADMIN, {"default_relationship_type_id": type_id}, tenant_company_ids=TWO_COMPANIES
        ),
    )


def test_an_unknown_multi_company_setting_and_a_non_boolean_are_refused(settings):
    refused(
        settings,
        DomainError,
        "colour",
        lambda: settings.change_multi_company(
            ADMIN, {"colour": True}, tenant_company_ids=TWO_COMPANIES
        ),
    )
    refused(
        settings,
        DomainError,
        "share_company_structure",
        lambda: settings.change_multi_company(
            ADMIN, {"share_company_structure": "yes"}, tenant_company_ids=TWO_COMPANIES
        ),
    )


# ---------------------------------------------------------------- hierarchy filter, numbering
@pytest.mark.parametrize("value", ["all", "parents", "subunits", "unlinked"])
def test_the_default_hierarchy_filter_takes_each_of_its_four_values(settings, value):
    settings.change_hierarchy_filter(ADMIN, value)
    assert settings.hierarchy_filter == value


def test_an_unknown_hierarchy_filter_is_refused(settings):
    refused(
        settings,
        DomainError,
        "hierarchy_filter",
        lambda: settings.change_hierarchy_filter(ADMIN, "roots"),
    )


def test_numbering_switches_to_manual_and_back_keeping_the_next_number(settings):
    settings.change_numbering(ADMIN, "automatic", 1000)
    settings.change_numbering(ADMIN, "manual")
    assert settings.numbering == {"mode": "manual", "next_number": 1000}
    settings.change_numbering(ADMIN, "automatic")
    assert settings.numbering == {"mode": "automatic", "next_number": 1000}


@pytest.mark.parametrize(
    ("mode", "number", "field"),
    [
        ("sometimes", None, "mode"),
        ("automatic", 0, "next_number"),
        ("automatic", -5, "next_number"),
        ("automatic", True, "next_number"),
    ],
)
def test_bad_numbering_is_refused(settings, mode, number, field):
    refused(settings, DomainError, field, lambda: settings.change_numbering(ADMIN, mode, number))


# ---------------------------------------------------------------- additional fields
def test_a_field_gets_default_flags_and_goes_last_in_the_order(settings):
    first = settings.add_field(ADMIN, "Toimiala", "text")
    second = settings.add_field(ADMIN, "Perustettu", "date", mandatory=True)
    assert settings.field_order == [first, second]
    assert settings.fields[second]["mandatory"] is True
    assert settings.fields[first]["shown_in_details_and_list"] is True


def test_an_unknown_field_type_is_refused(settings):
    refused(settings, DomainError, "type", lambda: settings.add_field(ADMIN, "X", "number"))


def test_only_dropdown_and_multiselect_fields_have_options(settings):
    refused(
        settings,
        DomainError,
        "options",
        lambda: settings.add_field(ADMIN, "Kuvaus", "text", options=["a"]),
    )


def test_options_keep_their_ids_through_rename_and_reorder(settings):
    field_id = settings.add_field(ADMIN, "Koko", "dropdown", options=["Pieni", "Iso"])
    small, big = settings.fields[field_id]["options"]
    settings.update_field(
        ADMIN,
        field_id,
        options=[{"id": big["id"], "name": "Suuri"}, {"id": small["id"], "name": "Pieni"}],
    )
    assert settings.fields[field_id]["options"] == [
        {"id": big["id"], "name": "Suuri", "archived": False},
        {"id": small["id"], "name": "Pieni", "archived": False},
    ]


def test_an_option_left_out_is_archived_not_deleted(settings):
    field_id = settings.add_field(ADMIN, "Kanava", "multiselect", options=["Web", "Puhelin"])
    web, phone = settings.fields[field_id]["options"]
    settings.update_field(
        ADMIN, field_id, options=[{"id": phone["id"], "name": "Puhelin"}, "Messu"]
    )
    options = settings.fields[field_id]["options"]
    assert [o["name"] for o in options] == ["Puhelin", "Messu", "Web"]
    assert options[2] == {"id": web["id"], "name": "Web", "archived": True}


def test_duplicate_and_unknown_options_are_refused(settings):
    field_id = settings.add_field(ADMIN, "Alue", "dropdown", options=["Etelä"])
    settings.collect_events()
    refused(
        settings,
        ConflictError,
        "options[1].name",
        lambda: settings.update_field(ADMIN, field_id, options=["Pohjoinen", "pohjoinen"]),
    )
    refused(
        settings,
        NotFoundError,
        "options[0].id",
        lambda: settings.update_field(ADMIN, field_id, options=[{"id": "x", "name": "Itä"}]),
    )


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("text", "textarea"),
        ("textarea", "text"),
        ("dropdown", "multiselect"),
    ],
)
def test_a_field_type_changes_between_compatible_types(settings, old, new):
    field_id = settings.add_field(ADMIN, "Kenttä", old)
    settings.update_field(ADMIN, field_id, field_type=new)
    assert settings.fields[field_id]["type"] == new


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("multiselect", "dropdown"),
        ("text", "date"),
        ("checkbox", "text"),
        ("link", "dropdown"),
    ],
)
def test_an_incompatible_field_type_change_is_refused(settings, old, new):
    field_id = settings.add_field(ADMIN, "Kenttä", old)
    settings.collect_events()
    message = refused(
        settings,
        DomainError,
        "type",
        lambda: settings.update_field(ADMIN, field_id, field_type=new),
    )
    assert f"{old} field cannot become a {new}" in message


def test_field_flags_and_hubspot_property_are_set_and_cleared(settings):
    field_id = settings.add_field(ADMIN, "Liikevaihto", "text", hubspot_property_id="annualrevenue")
    settings.update_field(
        ADMIN, field_id, mandatory=True, shown_in_reports=False, shown_in_details_and_list=False
    )
    item = settings.fields[field_id]
    assert (item["mandatory"], item["shown_in_reports"], item["shown_in_details_and_list"]) == (
        True,
        False,
        False,
    )
    settings.update_field(ADMIN, field_id, hubspot_property_id=None)
    assert settings.fields[field_id]["hubspot_property_id"] is None


def test_a_hubspot_property_id_is_well_formed_and_used_by_one_field_only(settings):
    settings.add_field(ADMIN, "A", "text", hubspot_property_id="industry")
    settings.collect_events()
    refused(
        settings,
        DomainError,
        "hubspot_property_id",
        lambda: settings.add_field(ADMIN, "B", "text", hubspot_property_id="Bad Id"),
    )
    refused(
        settings,
        ConflictError,
        "hubspot_property_id",
        lambda: settings.add_field(ADMIN, "C", "text", hubspot_property_id="industry"),
    )


def test_fields_are_reordered_only_with_every_field_listed_once(settings):
    a = settings.add_field(ADMIN, "A", "text")
    b = settings.add_field(ADMIN, "B", "text")
    c = settings.add_field(ADMIN, "C", "text")
    settings.collect_events()
    refused(settings, DomainError, "field_ids", lambda: settings.reorder_fields(ADMIN, [a, b]))
    refused(
        settings, DomainError, "field_ids", lambda: settings.reorder_fields(ADMIN, [a, a, b, c])
    )
    refused(
        settings, NotFoundError, "field_ids", lambda: settings.reorder_fields(ADMIN, [a, b, c, "x"])
    )
    settings.reorder_fields(ADMIN, [c, a, b])
    assert [f["name"] for f in settings.as_dict()["fields"]] == ["C", "A", "B"]


def test_an_archived_field_is_kept_in_place_and_can_be_restored(settings):
    field_id = settings.add_field(ADMIN, "Vanha", "checkbox")
    settings.update_field(ADMIN, field_id, archived=True)
    assert settings.fields[field_id]["archived"] and settings.field_order == [field_id]
    settings.update_field(ADMIN, field_id, archived=False)
    assert not settings.fields[field_id]["archived"]


# ---------------------------------------------------------------- events
def test_every_event_names_its_actor_and_tenant(settings):
    settings.add_customer_group(ADMIN, "Ryhmä")
    (event,) = settings.collect_events()
    assert (event.actor_id, event.actor_name) == ("admin", "Aino Admin")
    assert event.tenant_id == settings.tenant_id


def test_replaying_the_events_gives_the_same_settings():
    settings = CustomerSettings.create(uuid4(), ADMIN)
    settings.add_customer_type(ADMIN, "Prospekti", default_for=["customer", "consumer"])
    field_id = settings.add_field(ADMIN, "Koko", "dropdown", options=["S", "M"])
    settings.update_field(ADMIN, field_id, field_type="multiselect", options=["M", "L"])
    settings.change_numbering(ADMIN, "manual")
    replayed = None
    for event in settings.collect_events():
        replayed = event.mutate(replayed)
    assert replayed is not None
    assert replayed.as_dict() == settings.as_dict()


def test_names_that_look_the_same_are_the_same_name(settings):
    settings.add_company_group(ADMIN, "Yhti\u00f6")  # precomposed ö
    settings.collect_events()
    refused(
        settings,
        ConflictError,
        "name",
        lambda: settings.add_company_group(ADMIN, "Yhtio\u0308"),  # o + combining diaeresis
    )
    refused(settings, DomainError, "name", lambda: settings.add_company_group(ADMIN, "\u200b"))
    group = settings.add_company_group(ADMIN, "Ala\u200bryhmä")
    assert settings.company_groups[group]["name"] == "Alaryhmä"


def test_the_built_in_types_cannot_be_archived(settings):
    alihankkija = type_named(settings, "Alihankkija")["id"]
    settings.add_customer_type(ADMIN, "Uusi alihankkija", default_for=["subcontractor"])
    settings.collect_events()
    message = refused(
        settings,
        DomainError,
        "archived",
        lambda: settings.archive_customer_type(ADMIN, alihankkija),
    )
    assert "built-in" in message


def test_an_option_sent_by_name_is_the_existing_option_of_that_name(settings):
    field_id = settings.add_field(ADMIN, "Koko", "dropdown", options=["Pieni", "Iso"])
    small, big = settings.fields[field_id]["options"]
    settings.update_field(ADMIN, field_id, options=["iso", "Pieni", "Keski"])
    options = settings.fields[field_id]["options"]
    assert [o["id"] for o in options[:2]] == [big["id"], small["id"]]
    assert options[0]["name"] == "iso" and options[2]["name"] == "Keski"


def test_renaming_an_option_to_the_name_of_one_being_archived_is_refused(settings):
    field_id = settings.add_field(ADMIN, "Koko", "dropdown", options=["a", "b"])
    a, _ = settings.fields[field_id]["options"]
    settings.collect_events()
    refused(
        settings,
        ConflictError,
        "options",
        lambda: settings.update_field(ADMIN, field_id, options=[{"id": a["id"], "name": "B"}]),
    )
