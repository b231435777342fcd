"""Finding customers: every filter, sorting and paging, the hierarchy, and each multi-company
rule in both positions (a tenant of two companies, users in each)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import System, Tenant

LIST = "/api/v1/customers"


class Company:
    """A user of one company of the tenant, with helpers to create and list customers."""

    def __init__(self, system: System, tenant: Tenant, index: int, user: str) -> None:
        self.system = system
        self.id = tenant.companies[index]
        self.headers = system.headers(tenant, user, roles=("user",), companies=[self.id])

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        headers = {**self.headers, "Settings-Position": self.system.position}
        response = self.system.create(headers, body)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    def list(self, **params: Any) -> dict[str, Any]:
        headers = {**self.headers, "Settings-Position": self.system.position}
        response = self.system.http.get(LIST, params=params, headers=headers)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def names(self, **params: Any) -> list[str]:
        return [c["name"] for c in self.list(**params)["items"]]

    def get(self, path: str) -> Any:
        """GET as the company's user, once the last settings change has reached the
        customers service."""
        headers = {**self.headers, "Settings-Position": self.system.position}
        return self.system.http.get(path, headers=headers)


@pytest.fixture
def companies(system: System, tenant: Tenant) -> tuple[Company, Company]:
    for user, index in (("anna", 0), ("bertta", 1)):
        response = system.http.post(
            f"/api/v1/tenants/{tenant.id}/users",
            json={"id": user, "name": user.capitalize(), "company_id": tenant.companies[index]},
            headers=system.admin(tenant),
        )
        assert response.status_code == 201
        system.position = response.headers["Settings-Position"]
    return Company(system, tenant, 0, "anna"), Company(system, tenant, 1, "bertta")


@pytest.fixture(params=["matches first", "sort index first"])
def strategy(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways a page is found: reading a filter's few matches and sorting them, and (as
    with many matches) walking the sort index and checking each customer; same answers."""
    if request.param == "sort index first":
        from services.customers import search

        monkeypatch.setattr(search, "CANDIDATES", 0)
        monkeypatch.setattr(search, "SMALL_RESULT", 0)
    return str(request.param)


def toggle(system: System, tenant: Tenant, **settings: Any) -> None:
    system.settings_change(tenant, "PUT", "/multi-company", settings)


def test_every_filter_of_the_list(system: System, tenant: Tenant, companies, strategy):
    a, _ = companies
    kind = system.settings_change(tenant, "POST", "/types", {"name": "Kumppani"})
    group = system.settings_change(tenant, "POST", "/groups", {"name": "Isot"})
    company_group = system.settings_change(tenant, "POST", "/company-groups", {"name": "Kunnat"})
    text = system.settings_change(tenant, "POST", "/fields", {"name": "Muistio", "type": "text"})
    dropdown = system.settings_change(
        tenant, "POST", "/fields", {"name": "Koko", "type": "dropdown", "options": ["Pieni", "Iso"]}
    )
    multi = system.settings_change(
        tenant,
        "POST",
        "/fields",
        {"name": "Kanavat", "type": "multiselect", "options": ["Web", "Puhelin", "Messu"]},
    )
    date = system.settings_change(tenant, "POST", "/fields", {"name": "Alkaen", "type": "date"})
    check = system.settings_change(tenant, "POST", "/fields", {"name": "VIP", "type": "checkbox"})
    first = a.create(
        {
            "name": "Alfa Oy",
            "business_id": "0737546-2",
            "company_group_id": company_group["id"],
            "relationship": {
                "type_id": kind["id"],
                "group_id": group["id"],
                "account_manager_id": "anna",
                "tags": ["Tärkeä"],
            },
            "fields": {
                text["id"]: "Soita maanantaisin",
                dropdown["id"]: "Iso",
                multi["id"]: ["Web", "Messu"],
                date["id"]: "1.3.2026",
                check["id"]: True,
            },
        }
    )
    a.create(
        {
            "name": "Beeta Oy",
            "kind": "consumer",
            "fields": {
                dropdown["id"]: "Pieni",
                multi["id"]: ["Puhelin"],
                date["id"]: "2026-06-01",
                check["id"]: False,
            },
        }
    )
    a.create({"name": "Gamma Ab", "kind": "subcontractor"})

    assert a.list()["total"] == 3
    assert a.names(q="alf") == ["Alfa Oy"]
    assert a.names(q=first["number"]) == ["Alfa Oy"]
    assert a.names(q="0737546") == ["Alfa Oy"]
    assert a.names(type_id=kind["id"]) == ["Alfa Oy"]
    assert a.names(group_id=group["id"]) == ["Alfa Oy"]
    assert a.names(company_group_id=company_group["id"]) == ["Alfa Oy"]
    assert a.names(tag="tärkeä") == ["Alfa Oy"]
    assert a.names(account_manager_id="anna") == ["Alfa Oy"]
    assert a.names(kind="consumer") == ["Beeta Oy"]
    assert a.names(**{f"field.{text['id']}": "MAANANTAI"}) == ["Alfa Oy"]
    assert a.names(**{f"field.{dropdown['id']}": "pieni"}) == ["Beeta Oy"]
    assert a.names(**{f"field.{multi['id']}": "Messu,Puhelin"}) == ["Alfa Oy", "Beeta Oy"]
    assert a.names(**{f"field.{date['id']}.from": "2026-04-01"}) == ["Beeta Oy"]
    assert a.names(**{f"field.{date['id']}.to": "2026-04-01"}) == ["Alfa Oy"]
    assert a.names(**{f"field.{check['id']}": "true"}) == ["Alfa Oy"]
    assert a.names(**{f"field.{check['id']}": "false"}) == ["Beeta Oy", "Gamma Ab"]
    bad = system.http.get(
        LIST, params={f"field.{dropdown['id']}": "Jättiläinen"}, headers=a.headers
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == f"field.{dropdown['id']}"


def test_sorting_paging_and_totals(system: System, tenant: Tenant, companies, strategy):
    a, _ = companies
    for name in ["Ceta", "Alfa", "Beta", "Delta", "Epsilon"]:
        a.create({"name": name})
    assert a.names(sort="name") == ["Alfa", "Beta", "Ceta", "Delta", "Epsilon"]
    assert a.names(sort="name", order="desc")[0] == "Epsilon"
    assert a.names(sort="number") == ["Ceta", "Alfa", "Beta", "Delta", "Epsilon"]
    assert a.names(sort="created", order="desc")[0] == "Epsilon"
    first = a.list(limit=2)
    second = a.list(limit=2, cursor=first["next_cursor"])
    third = a.list(limit=2, cursor=second["next_cursor"])
    names = [c["name"] for page in (first, second, third) for c in page["items"]]
    assert names == ["Alfa", "Beta", "Ceta", "Delta", "Epsilon"]
    assert first["total"] == 5 and third["next_cursor"] is None


def test_fields_appear_only_when_shown_in_details_and_list(
    system: System, tenant: Tenant, companies
):
    a, _ = companies
    shown = system.settings_change(tenant, "POST", "/fields", {"name": "Näkyvä", "type": "text"})
    hidden = system.settings_change(
        tenant,
        "POST",
        "/fields",
        {"name": "Piilo", "type": "text", "shown_in_details_and_list": False},
    )
    customer = a.create({"name": "Kentät Oy", "fields": {shown["id"]: "x", hidden["id"]: "y"}})
    assert customer["fields"] == {shown["id"]: "x"}
    assert a.list()["items"][0]["fields"] == {shown["id"]: "x"}
    assert a.list()["items"][0]["relationships"][0]["invoicing_allowed"] is True


def test_hierarchy_parents_subunits_unlinked_and_no_cycles(
    system: System, tenant: Tenant, companies, strategy
):
    a, _ = companies
    parent = a.create({"name": "Emo Oy"})
    child = a.create({"name": "Tytär Oy", "parent_id": parent["id"]})
    a.create({"name": "Yksin Oy"})
    assert a.names(unit="parents") == ["Emo Oy"]
    assert a.names(unit="subunits") == ["Tytär Oy"]
    assert a.names(unit="unlinked") == ["Yksin Oy"]
    assert len(a.names(unit="all")) == 3
    cycle = system.http.patch(
        f"{LIST}/{parent['id']}", json={"parent_id": child["id"]}, headers=a.headers
    )
    assert cycle.status_code == 422 and cycle.json()["errors"][0]["field"] == "parent_id"
    itself = system.http.patch(
        f"{LIST}/{parent['id']}", json={"parent_id": parent["id"]}, headers=a.headers
    )
    assert itself.status_code == 422
    # A link made later is listed as well, for the company that made it.
    alone = next(c for c in a.list()["items"] if c["name"] == "Yksin Oy")
    linked = system.http.patch(
        f"{LIST}/{alone['id']}", json={"parent_id": parent["id"]}, headers=a.headers
    )
    assert linked.status_code == 200, linked.text
    assert a.names(unit="subunits") == ["Tytär Oy", "Yksin Oy"]
    assert a.names(unit="unlinked") == []
    listed = next(c for c in a.list()["items"] if c["name"] == "Yksin Oy")
    assert listed["parent_id"] == parent["id"]
    # The tenant's default hierarchy filter applies when the request names none.
    system.settings_change(tenant, "PUT", "/hierarchy-filter", {"hierarchy_filter": "parents"})
    assert a.names() == ["Emo Oy"]


@pytest.mark.parametrize("see_others", [False, True])
def test_toggle_1_other_companies_customers(system, tenant, companies, see_others):
    a, b = companies
    toggle(system, tenant, see_other_companies_customers=see_others)
    mine = a.create({"name": "A:n asiakas"})
    b.create({"name": "B:n asiakas"})
    expected = ["A:n asiakas", "B:n asiakas"] if see_others else ["B:n asiakas"]
    assert b.names() == expected and b.list()["total"] == len(expected)
    opened = system.http.get(f"{LIST}/{mine['id']}", headers=b.headers)
    assert opened.status_code == (200 if see_others else 404)
    # A customer B may not see cannot be the parent of B's customers either.
    child = system.create(b.headers, {"name": "B:n yksikkö", "parent_id": mine["id"]})
    assert child.status_code == (201 if see_others else 422), child.text
    if not see_others:
        assert child.json()["errors"][0] == {"field": "parent_id", "message": "no such customer"}


@pytest.mark.parametrize("hide", [False, True])
def test_toggle_2_hide_other_companies_details(system, tenant, companies, hide, strategy):
    a, b = companies
    group = system.settings_change(tenant, "POST", "/groups", {"name": "Salainen"})
    toggle(system, tenant, see_other_companies_customers=True, hide_other_companies_details=hide)
    customer = a.create(
        {
            "name": "Yhteinen Oy",
            "relationship": {
                "group_id": group["id"],
                "account_manager_id": "anna",
                "team": "Myynti",
                "customer_team": "Tiimi A",
                "tags": ["vip"],
            },
        }
    )
    seen = system.http.get(f"{LIST}/{customer['id']}", headers=b.headers).json()
    relationship = seen["relationships"][0]
    hidden = (
        relationship["group_id"],
        relationship["account_manager_id"],
        relationship["team"],
        relationship["customer_team"],
        relationship["tags"],
    )
    if hide:
        assert hidden == (None, None, None, None, [])
        assert b.names(group_id=group["id"]) == [] and b.list(tag="vip")["total"] == 0
        assert b.names(account_manager_id="anna") == []
    else:
        assert hidden == (group["id"], "anna", "Myynti", "Tiimi A", ["vip"])
        assert b.names(group_id=group["id"]) == ["Yhteinen Oy"]
        assert b.names(tag="vip") == ["Yhteinen Oy"]
    # The own company always sees its own details.
    assert a.names(group_id=group["id"]) == ["Yhteinen Oy"]


@pytest.mark.parametrize("default", [False, True])
def test_toggle_3_default_relationship_in_the_other_companies(system, tenant, companies, default):
    a, b = companies
    kind = system.settings_change(tenant, "POST", "/types", {"name": "Konserniasiakas"})
    toggle(system, tenant, default_relationship_type_id=kind["id"] if default else None)
    customer = a.create({"name": "Uusi Oy"})
    by_company = {r["company_id"]: r for r in customer["relationships"]}
    if default:
        assert by_company[b.id]["type_id"] == kind["id"]
        assert b.names() == ["Uusi Oy"]
    else:
        assert list(by_company) == [a.id]
        assert b.names() == []


@pytest.mark.parametrize("default", [False, True])
def test_toggle_3_a_contact_person_gives_the_company_a_relationship(
    system, tenant, companies, default
):
    a, b = companies
    kind = system.settings_change(tenant, "POST", "/types", {"name": "Yhteyshenkilön kautta"})
    toggle(system, tenant, see_other_companies_customers=True)
    customer = a.create({"name": "Kontakti Oy"})
    if default:
        toggle(system, tenant, default_relationship_type_id=kind["id"])
    headers = {**b.headers, "Settings-Position": system.position}
    response = system.http.post(
        f"{LIST}/{customer['id']}/contacts", json={"name": "Pekka"}, headers=headers
    )
    assert response.status_code == 201
    after = system.http.get(f"{LIST}/{customer['id']}", headers=b.headers).json()
    companies_with = {r["company_id"] for r in after["relationships"]}
    assert (b.id in companies_with) is default


@pytest.mark.parametrize("share", [False, True])
def test_toggle_4_share_company_structure(system, tenant, companies, share):
    a, b = companies
    toggle(system, tenant, see_other_companies_customers=True, share_company_structure=share)
    parent = a.create({"name": "Emo Oy"})
    a.create({"name": "Tytär Oy", "parent_id": parent["id"]})
    child_seen_by_b = next(c for c in b.list()["items"] if c["name"] == "Tytär Oy")
    if share:
        assert child_seen_by_b["parent_id"] == parent["id"]
        assert b.names(unit="subunits") == ["Tytär Oy"]
        assert b.names(unit="parents") == ["Emo Oy"]
    else:
        assert child_seen_by_b["parent_id"] is None
        assert b.names(unit="subunits") == [] and b.names(unit="parents") == []
        assert b.names(unit="unlinked") == ["Emo Oy", "Tytär Oy"]
    assert a.names(unit="subunits") == ["Tytär Oy"]


def test_without_a_shared_structure_each_company_keeps_its_own_links(system, tenant, companies):
    """A company's link to a parent is its own: another company linking the same customer
    elsewhere, or removing its link, leaves it as it was; sharing shows the last link made."""
    a, b = companies
    toggle(system, tenant, see_other_companies_customers=True, share_company_structure=False)
    emo_a = a.create({"name": "A:n emo"})
    emo_b = b.create({"name": "B:n emo"})
    child = a.create({"name": "Tytär Oy", "parent_id": emo_a["id"]})

    def patch(company: Company, customer: dict[str, Any], body: dict[str, Any]) -> Any:
        headers = {**company.headers, "Settings-Position": system.position}
        return system.http.patch(f"{LIST}/{customer['id']}", json=body, headers=headers)

    def parent_seen(company: Company, customer: dict[str, Any]) -> Any:
        return company.get(f"{LIST}/{customer['id']}").json()["parent_id"]

    assert patch(b, child, {"parent_id": emo_b["id"]}).status_code == 200
    assert parent_seen(a, child) == emo_a["id"]  # B's link did not replace A's
    assert parent_seen(b, child) == emo_b["id"]
    assert a.names(unit="parents") == ["A:n emo"] and b.names(unit="parents") == ["B:n emo"]
    assert a.names(unit="subunits") == ["Tytär Oy"] == b.names(unit="subunits")
    assert a.names(unit="unlinked") == ["B:n emo"] and b.names(unit="unlinked") == ["A:n emo"]
    # A loop through another company's links is refused: no structure may ever have one.
    loop = patch(b, emo_a, {"parent_id": child["id"]})
    assert loop.status_code == 422 and loop.json()["errors"][0]["field"] == "parent_id"
    # Sharing shows the last link made to every company.
    toggle(system, tenant, share_company_structure=True)
    assert parent_seen(a, child) == emo_b["id"] == parent_seen(b, child)
    assert a.names(unit="parents") == ["B:n emo"]
    toggle(system, tenant, share_company_structure=False)
    assert patch(b, child, {"parent_id": None}).status_code == 200
    assert parent_seen(a, child) == emo_a["id"] and parent_seen(b, child) is None
    assert b.names(unit="subunits") == [] and a.names(unit="subunits") == ["Tytär Oy"]


def test_the_history_shows_what_the_multi_company_rules_let_the_viewer_see(
    system, tenant, companies
):
    """Another company's hidden details and its own parent links are not read from the
    customer's history either."""
    a, b = companies
    toggle(
        system,
        tenant,
        see_other_companies_customers=True,
        hide_other_companies_details=True,
        share_company_structure=False,
    )
    emo = a.create({"name": "Emo Oy"})
    child = a.create(
        {"name": "Tytär Oy", "parent_id": emo["id"], "relationship": {"team": "Myynti"}}
    )
    headers = {**a.headers, "Settings-Position": system.position}
    url = f"{LIST}/{child['id']}"
    changed = system.http.patch(
        url, json={"relationship": {"team": "Huolto"}, "name": "Tytär Oyj"}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    moved = system.http.patch(url, json={"parent_id": None}, headers=headers)
    assert moved.status_code == 200, moved.text

    def history(company: Company) -> dict[str, Any]:
        response = system.http.get(f"{url}/history", headers=company.headers)
        assert response.status_code == 200, response.text
        newest: dict[str, Any] = {}  # of each type
        for item in response.json()["items"]:
            newest.setdefault(item["type"], item)
        return newest

    seen_by_a, seen_by_b = history(a), history(b)
    created_a = seen_by_a["CustomerCreated"]["after"]
    created_b = seen_by_b["CustomerCreated"]["after"]
    assert created_a["parent_id"] == emo["id"] and created_b["parent_id"] is None
    assert created_a["relationships"][0]["team"] == "Myynti"
    assert created_b["relationships"][0]["team"] is None
    team_a = seen_by_a["CustomerRelationshipSet"]
    assert (team_a["before"]["team"], team_a["after"]["team"]) == ("Myynti", "Huolto")
    assert team_a["after"]["company_id"] == a.id
    # A change of nothing B may see is not in B's history at all.
    assert "CustomerRelationshipSet" not in seen_by_b
    link_a, renamed_b = (h["CustomerDetailsChanged"] for h in (seen_by_a, seen_by_b))
    assert (link_a["before"]["parent_id"], link_a["after"]["parent_id"]) == (emo["id"], None)
    assert "parents" not in link_a["after"]
    assert (renamed_b["before"], renamed_b["after"]) == (
        {"name": "Tytär Oy"},
        {"name": "Tytär Oyj"},
    )


def test_links_made_before_the_structure_was_shared_end_when_the_parent_is_set_again(
    system, tenant, companies
):
    """Links made while the structure was not shared stay, unseen, under the shared one, and
    refuse a link that would close a loop through them, saying so; setting the customer's
    parent again makes it the one link."""
    a, b = companies
    toggle(system, tenant, see_other_companies_customers=True, share_company_structure=False)
    emo_a = a.create({"name": "A:n emo"})
    emo_b = b.create({"name": "B:n emo"})
    child = a.create({"name": "Tytär Oy", "parent_id": emo_a["id"]})
    headers_a = {**a.headers, "Settings-Position": system.position}
    headers_b = {**b.headers, "Settings-Position": system.position}
    assert (
        system.http.patch(
            f"{LIST}/{child['id']}", json={"parent_id": emo_b["id"]}, headers=headers_b
        ).status_code
        == 200
    )
    toggle(system, tenant, share_company_structure=True)
    headers_a["Settings-Position"] = system.position

    def link(customer: dict[str, Any], parent: dict[str, Any]) -> Any:
        return system.http.patch(
            f"{LIST}/{customer['id']}", json={"parent_id": parent["id"]}, headers=headers_a
        )

    refused = link(emo_a, child)
    assert refused.status_code == 422
    assert "while the company structure was not shared" in refused.json()["errors"][0]["message"]
    assert link(child, emo_b).status_code == 200  # as everyone sees it: now the one link
    assert link(emo_a, child).status_code == 200
    toggle(system, tenant, share_company_structure=False)
    seen = a.get(f"{LIST}/{child['id']}").json()
    assert seen["parent_id"] == emo_b["id"]  # A's earlier link ended: no loop for A either


def test_another_companys_own_link_leaves_no_entry_in_the_history(system, tenant, companies):
    a, b = companies
    toggle(system, tenant, see_other_companies_customers=True, share_company_structure=False)
    emo_b = b.create({"name": "B:n emo"})
    child = a.create({"name": "Tytär Oy"})
    headers_b = {**b.headers, "Settings-Position": system.position}
    linked = system.http.patch(
        f"{LIST}/{child['id']}", json={"parent_id": emo_b["id"]}, headers=headers_b
    )
    assert linked.status_code == 200
    seen_by_a = system.http.get(f"{LIST}/{child['id']}/history", headers=a.headers).json()
    # B's relationship with the customer is seen; B's own link is not.
    assert "CustomerDetailsChanged" not in [i["type"] for i in seen_by_a["items"]]
    assert seen_by_a["total"] == len(seen_by_a["items"]) == 2
    seen_by_b = system.http.get(f"{LIST}/{child['id']}/history", headers=b.headers).json()
    assert "CustomerDetailsChanged" in [i["type"] for i in seen_by_b["items"]]


@pytest.mark.parametrize("any_company", [False, True])
def test_toggle_5_account_manager_from_any_company(system, tenant, companies, any_company):
    a, _ = companies
    toggle(system, tenant, account_manager_from_any_company=any_company)
    headers = {**a.headers, "Settings-Position": system.position}
    response = system.create(
        headers, {"name": "Vastaava Oy", "relationship": {"account_manager_id": "bertta"}}
    )
    assert response.status_code == (201 if any_company else 422)


@pytest.mark.parametrize("mandatory", [False, True])
def test_toggle_6_customer_group_mandatory_on_create_and_update(
    system, tenant, companies, mandatory
):
    a, _ = companies
    customer = a.create({"name": "Ryhmätön Oy"})
    toggle(system, tenant, customer_group_mandatory=mandatory)
    headers = {**a.headers, "Settings-Position": system.position}
    created = system.create(headers, {"name": "Toinen Oy"})
    updated = system.http.patch(
        f"{LIST}/{customer['id']}", headers=headers, json={"relationship": {"team": "X"}}
    )
    assert created.status_code == (422 if mandatory else 201)
    assert updated.status_code == (422 if mandatory else 200)


def test_report_counts_only_what_the_user_may_see(system, tenant, companies):
    a, b = companies
    kind = system.settings_change(tenant, "POST", "/types", {"name": "Kumppani"})
    group = system.settings_change(tenant, "POST", "/groups", {"name": "Isot"})
    a.create({"name": "A1", "relationship": {"type_id": kind["id"], "group_id": group["id"]}})
    a.create({"name": "A2", "kind": "consumer"})
    b.create({"name": "B1", "relationship": {"type_id": kind["id"]}})
    headers = {**a.headers, "Settings-Position": system.position}

    def report(by: str) -> dict[str, int]:
        response = system.http.get("/api/v1/reports/customers", params={"by": by}, headers=headers)
        assert response.status_code == 200, response.text
        return {row["name"]: row["count"] for row in response.json()}

    assert report("type") == {"Kumppani": 1, "Asiakas": 1}  # B1 is not A's to see
    assert report("group") == {"Isot": 1, "(none)": 1}
    assert report("kind") == {"company": 1, "consumer": 1}
    assert report("company_group") == {"(none)": 2}
    toggle(system, tenant, see_other_companies_customers=True)
    headers["Settings-Position"] = system.position
    assert report("type") == {"Kumppani": 2, "Asiakas": 1}


def test_export_as_csv_and_xlsx_with_report_fields_and_no_formulas(system, tenant, companies):
    import csv
    import io

    from openpyxl import load_workbook

    a, _ = companies
    reported = system.settings_change(
        tenant, "POST", "/fields", {"name": "Koko", "type": "dropdown", "options": ["Iso"]}
    )
    system.settings_change(
        tenant, "POST", "/fields", {"name": "Sisäinen", "type": "text", "shown_in_reports": False}
    )
    a.create({"name": '=HYPERLINK("http://x")', "fields": {reported["id"]: "Iso"}})
    a.create({"name": "Tavallinen Oy", "relationship": {"tags": ["+vip"]}})
    headers = {**a.headers, "Settings-Position": system.position}

    response = system.http.get(
        "/api/v1/reports/customers/export", params={"format": "csv"}, headers=headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    header, first, second = rows
    assert header[-1] == "Koko" and "Sisäinen" not in header
    assert first[1] == '\'=HYPERLINK("http://x")' and first[-1] == "Iso"
    assert second[1] == "Tavallinen Oy" and second[header.index("Tunnisteet")] == "'+vip"

    workbook = system.http.get(
        "/api/v1/reports/customers/export", params={"format": "xlsx"}, headers=headers
    )
    assert workbook.status_code == 200
    sheet = load_workbook(io.BytesIO(workbook.content), read_only=True).active
    values = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert values[0][-1] == "Koko" and values[1][1] == '\'=HYPERLINK("http://x")'
    assert len(values) == 3
