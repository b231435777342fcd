"""The settings API on SQLite and PostgreSQL: every setting set, read back, in the history
with before/after, and readable as of an earlier time."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from .conftest import SettingsClient

BASE = "/api/v1/settings/customers"


def test_an_admin_configures_every_setting_and_reads_it_back(api: SettingsClient):
    tenant = api.create_tenant("Yhtiö A", "Yhtiö B")
    admin = api.headers(tenant, name="Aino Admin")
    post = lambda path, body: api.http.post(f"{BASE}/{path}", json=body, headers=admin)  # noqa: E731
    patch = lambda path, body: api.http.patch(f"{BASE}/{path}", json=body, headers=admin)  # noqa: E731
    put = lambda path, body: api.http.put(f"{BASE}/{path}", json=body, headers=admin)  # noqa: E731

    # Customer types: a new default customer type, a consumer type without invoicing.
    prospect = post("types", {"name": "Prospekti", "default_customer": True}).json()
    consumer = post(
        "types", {"name": "Kuluttaja", "default_consumer": True, "invoicing_allowed": False}
    ).json()
    partner = post("types", {"name": "Kumppani"}).json()
    assert patch(f"types/{partner['id']}", {"name": "Yhteistyökumppani"}).status_code == 200
    assert api.http.delete(f"{BASE}/types/{partner['id']}", headers=admin).json()["archived"]

    # Customer groups and company groups.
    key = post("groups", {"name": "Avainasiakkaat", "integration_id": "KEY-1"}).json()
    patch(f"groups/{key['id']}", {"integration_id": "KEY-2"})
    small = post("groups", {"name": "Pienet"}).json()
    api.http.delete(f"{BASE}/groups/{small['id']}", headers=admin)
    public = post("company-groups", {"name": "Julkinen sektori"}).json()
    patch(f"company-groups/{public['id']}", {"name": "Julkishallinto"})

    # Additional fields: a dropdown whose options are renamed, reordered and archived.
    industry = post(
        "fields",
        {
            "name": "Toimiala",
            "type": "dropdown",
            "options": ["IT", "Rakentaminen", "Kauppa"],
            "hubspot_property_id": "industry",
        },
    ).json()
    it, _build, trade = industry["options"]
    options = put(
        f"fields/{industry['id']}/options",
        {
            "options": [
                {"id": trade["id"], "name": "Kauppa"},
                {"id": it["id"], "name": "Tietotekniikka"},
            ]
        },
    ).json()["options"]
    assert [(o["name"], o["archived"]) for o in options] == [
        ("Kauppa", False),
        ("Tietotekniikka", False),
        ("Rakentaminen", True),
    ]
    founded = post("fields", {"name": "Perustettu", "type": "date", "mandatory": True}).json()
    web = post("fields", {"name": "Kotisivu", "type": "link", "shown_in_reports": False}).json()
    notes = post("fields", {"name": "Muistiinpanot", "type": "text"}).json()
    assert patch(f"fields/{notes['id']}", {"type": "textarea"}).json()["type"] == "textarea"
    order = [web["id"], industry["id"], founded["id"], notes["id"]]
    assert [f["id"] for f in put("fields/order", {"field_ids": order}).json()] == order

    # Numbering, hierarchy filter and the multi-company toggles.
    assert put("numbering", {"mode": "manual"}).json() == {"mode": "manual", "next_number": 1}
    assert put("hierarchy-filter", {"hierarchy_filter": "parents"}).status_code == 200
    toggles = {
        "see_other_companies_customers": True,
        "hide_other_companies_details": True,
        "default_relationship_type_id": prospect["id"],
        "share_company_structure": True,
        "account_manager_from_any_company": True,
        "customer_group_mandatory": True,
    }
    assert put("multi-company", toggles).json() == toggles

    settings = api.http.get(BASE, headers=admin).json()
    types = {t["name"]: t for t in settings["customer_types"]}
    assert types["Prospekti"]["default_customer"] and not types["Asiakas"]["default_customer"]
    assert types["Kuluttaja"]["default_consumer"] and not types["Kuluttaja"]["invoicing_allowed"]
    assert types["Yhteistyökumppani"]["archived"]
    assert types["Alihankkija"]["default_subcontractor"]
    assert {
        g["name"]: (g["integration_id"], g["archived"]) for g in settings["customer_groups"]
    } == {"Avainasiakkaat": ("KEY-2", False), "Pienet": (None, True)}
    assert [g["name"] for g in settings["company_groups"]] == ["Julkishallinto"]
    assert [f["name"] for f in settings["fields"]] == [
        "Kotisivu",
        "Toimiala",
        "Perustettu",
        "Muistiinpanot",
    ]
    assert settings["fields"][1]["hubspot_property_id"] == "industry"
    assert settings["fields"][2]["mandatory"] and not settings["fields"][0]["shown_in_reports"]
    assert settings["numbering"]["mode"] == "manual"
    assert settings["hierarchy_filter"] == "parents"
    assert settings["multi_company"] == toggles
    assert consumer["id"] == settings["default_types"]["consumer"]

    # Every change is in the history with its author.
    history = api.http.get(f"{BASE}/history", params={"limit": 500}, headers=admin).json()
    sections = {item["section"] for item in history["items"]}
    assert sections == {
        "settings",
        "customer_types",
        "customer_groups",
        "company_groups",
        "fields",
        "numbering",
        "hierarchy_filter",
        "multi_company",
    }
    mine = [i for i in history["items"] if i["section"] != "settings"]
    assert all(i["actor"] == {"id": "admin", "name": "Aino Admin"} for i in mine)
    positions = [item["position"] for item in history["items"]]
    assert positions == sorted(positions, reverse=True) and None not in positions


def test_history_shows_before_and_after_and_filters_by_section_actor_time_and_pages(
    api: SettingsClient,
):
    tenant = api.create_tenant("Yhtiö A")
    aino = api.headers(tenant, "aino", name="Aino")
    pekka = api.headers(tenant, "pekka", name="Pekka")
    group = api.http.post(f"{BASE}/groups", json={"name": "Isot"}, headers=aino).json()
    time.sleep(0.01)
    middle = datetime.now(UTC)
    time.sleep(0.01)
    api.http.patch(f"{BASE}/groups/{group['id']}", json={"name": "Suuret"}, headers=pekka)
    api.http.put(f"{BASE}/numbering", json={"mode": "automatic", "next_number": 500}, headers=pekka)

    page = api.http.get(
        f"{BASE}/history", params={"section": "customer_groups"}, headers=aino
    ).json()
    assert page["total"] == 2
    renamed, added = page["items"]
    assert renamed["type"] == "CustomerGroupRenamed"
    assert renamed["actor"] == {"id": "pekka", "name": "Pekka"}
    assert renamed["before"]["name"] == "Isot" and renamed["after"]["name"] == "Suuret"
    assert added["before"] is None and added["after"]["name"] == "Isot"

    by_pekka = api.http.get(f"{BASE}/history", params={"actor": "pekka"}, headers=aino).json()
    assert [i["type"] for i in by_pekka["items"]] == ["NumberingChanged", "CustomerGroupRenamed"]
    numbering = by_pekka["items"][0]
    assert numbering["before"] == {"mode": "automatic", "next_number": 1}
    assert numbering["after"] == {"mode": "automatic", "next_number": 500}

    since = api.http.get(
        f"{BASE}/history", params={"since": middle.isoformat()}, headers=aino
    ).json()
    assert since["total"] == 2
    until = api.http.get(
        f"{BASE}/history", params={"until": middle.isoformat()}, headers=aino
    ).json()
    assert [i["type"] for i in until["items"]] == ["CustomerGroupAdded", "CustomerSettingsCreated"]

    first = api.http.get(f"{BASE}/history", params={"limit": 2}, headers=aino).json()
    second = api.http.get(
        f"{BASE}/history", params={"limit": 2, "cursor": first["next_cursor"]}, headers=aino
    ).json()
    assert first["total"] == 4 and len(first["items"]) == 2 and second["next_cursor"] is None
    versions = [i["version"] for i in first["items"] + second["items"]]
    assert versions == [4, 3, 2, 1]
    oldest = api.http.get(
        f"{BASE}/history", params={"order": "oldest", "limit": 1}, headers=aino
    ).json()
    assert oldest["items"][0]["type"] == "CustomerSettingsCreated"


def test_settings_can_be_read_as_they_were_at_an_earlier_time(api: SettingsClient):
    tenant = api.create_tenant("Yhtiö A")
    admin = api.headers(tenant)
    api.http.post(f"{BASE}/types", json={"name": "Prospekti"}, headers=admin)
    time.sleep(0.01)
    then = datetime.now(UTC)
    time.sleep(0.01)
    api.http.post(f"{BASE}/types", json={"name": "Kumppani"}, headers=admin)
    api.http.put(f"{BASE}/numbering", json={"mode": "manual"}, headers=admin)

    past = api.http.get(BASE, params={"as_of": then.isoformat()}, headers=admin)
    assert past.status_code == 200
    assert [t["name"] for t in past.json()["customer_types"]] == [
        "Asiakas",
        "Alihankkija",
        "Prospekti",
    ]
    assert past.json()["numbering"]["mode"] == "automatic"
    assert past.headers["ETag"] == '"2"'
    now = api.http.get(BASE, headers=admin).json()
    assert now["numbering"]["mode"] == "manual" and len(now["customer_types"]) == 4

    before_tenant = api.http.get(BASE, params={"as_of": "2000-01-01T00:00:00Z"}, headers=admin)
    assert before_tenant.status_code == 404
    assert before_tenant.json()["errors"][0]["field"] == "as_of"


def test_writes_return_an_etag_and_a_stale_if_match_is_refused_with_412(api: SettingsClient):
    tenant = api.create_tenant("Yhtiö A")
    admin = api.headers(tenant)
    read = api.http.get(BASE, headers=admin)
    etag = read.headers["ETag"]
    assert etag == '"1"'
    created = api.http.post(
        f"{BASE}/groups", json={"name": "A"}, headers={**admin, "If-Match": etag}
    )
    assert created.status_code == 201 and created.headers["ETag"] == '"2"'
    assert int(created.headers["Settings-Position"]) > 0

    stale = api.http.post(f"{BASE}/groups", json={"name": "B"}, headers={**admin, "If-Match": etag})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert [g["name"] for g in api.http.get(BASE, headers=admin).json()["customer_groups"]] == ["A"]
    # If-Match compares strongly: a weak tag never matches; a list matches any of its tags.
    weak = api.http.post(
        f"{BASE}/groups", json={"name": "B"}, headers={**admin, "If-Match": 'W/"2"'}
    )
    assert weak.status_code == 412
    listed = api.http.post(
        f"{BASE}/groups", json={"name": "B"}, headers={**admin, "If-Match": '"1", "2"'}
    )
    assert listed.status_code == 201
    malformed = api.http.post(
        f"{BASE}/groups", json={"name": "C"}, headers={**admin, "If-Match": '"1_0"'}
    )
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"] == "If-Match"
    # A write that changes nothing still answers with its version and position.
    again = api.http.put(f"{BASE}/numbering", json={"mode": "automatic"}, headers=admin)
    assert again.headers["ETag"] == '"3"' and "Settings-Position" in again.headers
    history = api.http.get(f"{BASE}/history", headers=admin)
    assert history.headers["ETag"] == '"3"'


def test_concurrent_writes_without_if_match_are_all_kept(api: SettingsClient):
    tenant = api.create_tenant("Yhtiö A")
    admin = api.headers(tenant)

    def add(index: int) -> int:
        return api.http.post(
            f"{BASE}/company-groups", json={"name": f"Ryhmä {index}"}, headers=admin
        ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(add, range(40)))
    assert statuses == [201] * 40
    settings = api.http.get(BASE, headers=admin).json()
    assert len(settings["company_groups"]) == 40 and settings["version"] == 41


def test_errors_are_problem_details_naming_the_field(api: SettingsClient):
    tenant = api.create_tenant("Yhtiö A")
    admin = api.headers(tenant)
    api.http.post(f"{BASE}/types", json={"name": "Prospekti"}, headers=admin)

    duplicate = api.http.post(f"{BASE}/types", json={"name": " prospekti"}, headers=admin)
    assert duplicate.status_code == 409
    body = duplicate.json()
    assert duplicate.headers["content-type"] == "application/problem+json"
    assert body["status"] == 409 and body["errors"] == [
        {"field": "name", "message": "a customer type named 'Prospekti' already exists"}
    ]

    invalid = api.http.post(
        f"{BASE}/fields", json={"name": "X", "type": "number", "mandatory": "yes"}, headers=admin
    )
    assert invalid.status_code == 422
    assert {e["field"] for e in invalid.json()["errors"]} == {"type", "mandatory"}

    unknown = api.http.patch(f"{BASE}/groups/no-such-group", json={"name": "X"}, headers=admin)
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["field"] == "group_id"

    typo = api.http.put(f"{BASE}/numbering", json={"mode": "manual", "nxt": 1}, headers=admin)
    assert typo.status_code == 422 and typo.json()["errors"][0]["field"] == "nxt"
    option = api.http.put(
        f"{BASE}/fields/x/options", json={"options": [{"nam": "a"}]}, headers=admin
    )
    assert {e["field"] for e in option.json()["errors"]} == {"options[0].name", "options[0].nam"}
    assert api.http.get(BASE, headers=admin).json()["version"] == 2


def test_reads_need_a_valid_token_and_writes_need_an_admin(api: SettingsClient):
    tenant = api.create_tenant("Yhtiö A")
    missing = api.http.get(BASE)
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
    forged = api.http.get(BASE, headers={"Authorization": "Bearer not.a.token"})
    assert forged.status_code == 401

    user = api.headers(tenant, "matti", roles=("user",))
    assert api.http.get(BASE, headers=user).status_code == 200
    refused = api.http.post(f"{BASE}/groups", json={"name": "X"}, headers=user)
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/forbidden"
    operator = api.headers(None)
    assert api.http.post(f"{BASE}/groups", json={"name": "X"}, headers=operator).status_code == 404


def test_another_tenants_data_is_not_found(api: SettingsClient):
    ours = api.create_tenant("Meidän Oy", name="Meidän")
    theirs = api.create_tenant("Heidän Oy", name="Heidän")
    admin = api.headers(ours)
    assert api.http.get(f"/api/v1/tenants/{theirs.id}", headers=admin).status_code == 404
    response = api.http.post(
        f"/api/v1/tenants/{theirs.id}/users",
        headers=admin,
        json={"id": "x", "name": "X", "company_id": theirs.companies[0]},
    )
    assert response.status_code == 404
    # Settings are always the caller's own tenant's: the other tenant's stay untouched.
    api.http.post(f"{BASE}/groups", json={"name": "Vain meillä"}, headers=admin)
    their_settings = api.http.get(BASE, headers=api.headers(theirs)).json()
    assert their_settings["customer_groups"] == []


def test_multi_company_toggles_need_two_companies_and_an_admin_of_all_of_them(
    api: SettingsClient,
):
    single = api.create_tenant("Yksi Oy", name="Yksi")
    refused = api.http.put(
        f"{BASE}/multi-company", headers=api.headers(single), json={"share_company_structure": True}
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "share_company_structure"
    # The customer-group-mandatory toggle is for every tenant.
    allowed = api.http.put(
        f"{BASE}/multi-company",
        headers=api.headers(single),
        json={"customer_group_mandatory": True},
    )
    assert allowed.status_code == 200 and allowed.json()["customer_group_mandatory"]

    group = api.create_tenant("A Oy", "B Oy", name="Konserni")
    partial_admin = api.headers(group, "antti", companies=group.companies[:1])
    forbidden = api.http.put(
        f"{BASE}/multi-company", headers=partial_admin, json={"see_other_companies_customers": True}
    )
    assert forbidden.status_code == 403
    assert forbidden.json()["errors"][0]["field"] == "see_other_companies_customers"
    full_admin = api.headers(group)
    ok = api.http.put(
        f"{BASE}/multi-company", headers=full_admin, json={"see_other_companies_customers": True}
    )
    assert ok.status_code == 200 and ok.json()["see_other_companies_customers"]
    unchanged = api.http.put(f"{BASE}/multi-company", headers=full_admin, json={})
    assert unchanged.json()["see_other_companies_customers"]


def test_an_admin_adds_companies_and_users_to_the_tenant(api: SettingsClient):
    tenant = api.create_tenant("Yhtiö A")
    admin = api.headers(tenant)
    company = api.http.post(
        f"/api/v1/tenants/{tenant.id}/companies", json={"name": "Yhtiö B"}, headers=admin
    )
    assert company.status_code == 201
    company_b = company.json()["id"]
    user = api.http.post(
        f"/api/v1/tenants/{tenant.id}/users",
        headers=admin,
        json={"id": "maija", "name": "Maija", "company_id": company_b, "roles": ["user"]},
    )
    assert user.status_code == 201
    assert user.json() == {
        "id": "maija",
        "name": "Maija",
        "company_id": company_b,
        "company_ids": [company_b],
        "roles": ["user"],
    }
    data = api.http.get(f"/api/v1/tenants/{tenant.id}", headers=admin).json()
    assert data["multi_company"] is True
    assert company_b in next(u for u in data["users"] if u["id"] == "admin")["company_ids"]

    as_user = api.headers(tenant, "maija", roles=("user",))
    refused = api.http.post(
        f"/api/v1/tenants/{tenant.id}/companies", json={"name": "C"}, headers=as_user
    )
    assert refused.status_code == 403
    not_operator = api.http.post(
        "/api/v1/tenants", headers=admin, json={"name": "X", "companies": ["X"]}
    )
    assert not_operator.status_code == 403


def test_the_tenant_history_shows_companies_and_users_added_and_by_whom(api: SettingsClient):
    tenant = api.create_tenant("Yhtiö A")
    admin = api.headers(tenant, name="Aino Admin")
    company = api.http.post(
        f"/api/v1/tenants/{tenant.id}/companies", json={"name": "Yhtiö B"}, headers=admin
    ).json()
    api.http.post(
        f"/api/v1/tenants/{tenant.id}/users",
        json={"id": "maija", "name": "Maija", "company_id": company["id"]},
        headers=admin,
    )
    history = api.http.get(f"/api/v1/tenants/{tenant.id}/history", headers=admin)
    assert history.status_code == 200 and history.headers["ETag"] == '"3"'
    user_added, company_added, created = history.json()["items"]
    assert user_added["type"] == "UserAdded" and user_added["after"]["id"] == "maija"
    assert user_added["actor"] == {"id": "admin", "name": "Aino Admin"}
    assert company_added["after"]["name"] == "Yhtiö B"
    assert company_added["after"]["users_with_access"] == ["admin"]
    assert created["type"] == "TenantCreated" and created["actor"]["id"] == "operator"
    other = api.create_tenant("Muu Oy", name="Muu")
    assert api.http.get(f"/api/v1/tenants/{other.id}/history", headers=admin).status_code == 404


def test_field_options_on_create_take_names_only_and_numbers_must_be_whole(api: SettingsClient):
    tenant = api.create_tenant("Yhtiö A")
    admin = api.headers(tenant)
    with_id = api.http.post(
        f"{BASE}/fields",
        json={"name": "X", "type": "dropdown", "options": [{"name": "a", "archived": True}]},
        headers=admin,
    )
    assert with_id.status_code == 422
    assert with_id.json()["errors"][0]["field"].startswith("options[0]")
    text_number = api.http.put(
        f"{BASE}/numbering", json={"mode": "automatic", "next_number": "5"}, headers=admin
    )
    assert text_number.status_code == 422
