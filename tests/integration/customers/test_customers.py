"""Customers get the tenant's defaults, numbers and validation, with the settings arriving over
the settings stream (one process, real Redis, SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import redis

from contracts import CUSTOMERS_STREAM, CustomerEnvelope
from psa.streams.wire import entry_body

from .conftest import System, Tenant, wait_until


def test_a_new_customer_gets_the_default_type_for_its_kind_and_the_next_number(
    system: System, tenant: Tenant
):
    user = system.after_settings(system.admin(tenant))
    customer = system.create(user, {"name": "Rakennus Oy"})
    assert customer.status_code == 201, customer.text
    body = customer.json()
    assert body["number"] == "1" and body["kind"] == "company"
    (relationship,) = body["relationships"]
    assert relationship["company_id"] == tenant.companies[0]
    types = {
        t["id"]: t for t in system.http.get("/api/v1/settings/customers/types", headers=user).json()
    }
    assert types[relationship["type_id"]]["name"] == "Asiakas"
    assert relationship["invoicing_allowed"] is True
    subcontractor = system.create(user, {"name": "Aliurakka Oy", "kind": "subcontractor"}).json()
    assert subcontractor["number"] == "2"
    assert types[subcontractor["relationships"][0]["type_id"]]["name"] == "Alihankkija"
    assert customer.headers["ETag"] == '"1"'


def test_a_mandatory_field_and_manual_numbering_are_required_once_set(
    system: System, tenant: Tenant
):
    admin = system.admin(tenant)
    field = system.settings_change(
        tenant,
        "POST",
        "/fields",
        {
            "name": "Toimiala",
            "type": "dropdown",
            "options": ["IT", "Rakentaminen"],
            "mandatory": True,
        },
    )
    system.settings_change(tenant, "PUT", "/numbering", {"mode": "manual"})
    headers = system.after_settings(admin)

    refused = system.create(headers, {"name": "Puuttuva Oy"})
    assert refused.status_code == 422
    fields = {e["field"] for e in refused.json()["errors"]}
    assert fields == {f"fields.{field['id']}", "number"}  # every error at once

    accepted = system.create(
        headers, {"name": "Täysi Oy", "number": "ABC-1", "fields": {field["id"]: "rakentaminen"}}
    )
    assert accepted.status_code == 201, accepted.text
    body = accepted.json()
    assert body["number"] == "ABC-1"
    assert body["fields"] == {field["id"]: field["options"][1]["id"]}
    taken = system.create(
        headers, {"name": "Toinen Oy", "number": "abc-1", "fields": {field["id"]: "IT"}}
    )
    assert taken.status_code == 422
    assert taken.json()["errors"] == [{"field": "number", "message": "the number abc-1 is taken"}]


def test_automatic_numbers_skip_numbers_taken_by_hand_and_switching_never_renumbers(
    system: System, tenant: Tenant
):
    headers = system.after_settings(system.admin(tenant))
    assert system.create(headers, {"name": "A", "number": "2"}).json()["number"] == "2"
    assert system.create(headers, {"name": "B"}).json()["number"] == "1"
    assert system.create(headers, {"name": "C"}).json()["number"] == "3"  # 2 was taken
    system.settings_change(tenant, "PUT", "/numbering", {"mode": "manual"})
    manual = system.after_settings(system.admin(tenant))
    assert system.create(manual, {"name": "D", "number": "X7"}).status_code == 201
    system.settings_change(tenant, "PUT", "/numbering", {"mode": "automatic", "next_number": 100})
    automatic = system.after_settings(system.admin(tenant))
    e = system.create(automatic, {"name": "E"}).json()
    assert e["number"] == "100"
    b = system.http.get(f"/api/v1/customers/{e['id']}", headers=automatic).json()
    assert b["number"] == "100"


def test_concurrent_creates_get_distinct_consecutive_numbers(system: System, tenant: Tenant):
    headers = system.after_settings(system.admin(tenant))

    def create(index: int) -> str:
        response = system.create(headers, {"name": f"Asiakas {index}"})
        assert response.status_code == 201, response.text
        return str(response.json()["number"])

    with ThreadPoolExecutor(max_workers=16) as pool:
        numbers = list(pool.map(create, range(100)))
    assert sorted(int(n) for n in numbers) == list(range(1, 101))


def test_field_values_are_checked_by_type(system: System, tenant: Tenant):
    ids = {}
    for name, kind, extra in [
        ("Teksti", "text", {}),
        ("Pvm", "date", {}),
        ("Valinta", "checkbox", {}),
        ("Monivalinta", "multiselect", {"options": ["A", "B", "C"]}),
        ("Linkki", "link", {}),
    ]:
        ids[kind] = system.settings_change(
            tenant, "POST", "/fields", {"name": name, "type": kind, **extra}
        )
    headers = system.after_settings(system.admin(tenant))
    bad = system.create(
        headers,
        {
            "name": "Väärä",
            "fields": {
                ids["date"]["id"]: "31.2.2026",
                ids["checkbox"]["id"]: "yes",
                ids["multiselect"]["id"]: ["A", "Z"],
                ids["link"]["id"]: "ftp://example.com",
                "no-such-field": 1,
            },
        },
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {
        f"fields.{ids['date']['id']}",
        f"fields.{ids['checkbox']['id']}",
        f"fields.{ids['multiselect']['id']}",
        f"fields.{ids['link']['id']}",
        "fields.no-such-field",
    }
    good = system.create(
        headers,
        {
            "name": "Oikea",
            "fields": {
                ids["text"]["id"]: "  vapaa teksti ",
                ids["date"]["id"]: "27.11.2026",
                ids["checkbox"]["id"]: True,
                ids["multiselect"]["id"]: ["c", "A", "C"],
                ids["link"]["id"]: "https://example.com/x",
            },
        },
    )
    assert good.status_code == 201, good.text
    options = {o["name"]: o["id"] for o in ids["multiselect"]["options"]}
    assert good.json()["fields"] == {
        ids["text"]["id"]: "vapaa teksti",
        ids["date"]["id"]: "2026-11-27",
        ids["checkbox"]["id"]: True,
        ids["multiselect"]["id"]: [options["C"], options["A"]],
        ids["link"]["id"]: "https://example.com/x",
    }


def test_archived_values_are_refused_for_new_customers_but_kept_on_old_ones(
    system: System, tenant: Tenant
):
    group = system.settings_change(tenant, "POST", "/groups", {"name": "Vanhat"})
    kind = system.settings_change(tenant, "POST", "/types", {"name": "Poistuva"})
    headers = system.after_settings(system.admin(tenant))
    old = system.create(
        headers,
        {"name": "Vanha Oy", "relationship": {"group_id": group["id"], "type_id": kind["id"]}},
    ).json()
    system.settings_change(tenant, "DELETE", f"/groups/{group['id']}", None)
    system.settings_change(tenant, "DELETE", f"/types/{kind['id']}", None)
    headers = system.after_settings(system.admin(tenant))
    new = system.create(
        headers,
        {"name": "Uusi Oy", "relationship": {"group_id": group["id"], "type_id": kind["id"]}},
    )
    assert new.status_code == 422
    assert {e["field"] for e in new.json()["errors"]} == {
        "relationship.group_id",
        "relationship.type_id",
    }
    kept = system.http.patch(
        f"/api/v1/customers/{old['id']}",
        headers=headers,
        json={"name": "Vanha Oy Ab", "relationship": {"team": "Myynti"}},
    )
    assert kept.status_code == 200, kept.text
    relationship = kept.json()["relationships"][0]
    assert relationship["group_id"] == group["id"] and relationship["type_id"] == kind["id"]


def test_a_mandatory_customer_group_and_business_id_checksum(system: System, tenant: Tenant):
    group = system.settings_change(tenant, "POST", "/groups", {"name": "Pienet"})
    system.settings_change(tenant, "PUT", "/multi-company", {"customer_group_mandatory": True})
    headers = system.after_settings(system.admin(tenant))
    refused = system.create(headers, {"name": "Ryhmätön Oy", "business_id": "1234567-8"})
    assert {e["field"] for e in refused.json()["errors"]} == {
        "relationship.group_id",
        "business_id",
    }
    accepted = system.create(
        headers,
        {
            "name": "Ryhmällinen Oy",
            "business_id": "0737546-2",
            "relationship": {"group_id": group["id"]},
        },
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["business_id"] == "0737546-2"


def test_changes_are_in_the_customer_history_and_published_on_the_customers_stream(
    system: System, tenant: Tenant, system_config
):
    headers = system.after_settings(system.admin(tenant))
    customer = system.create(headers, {"name": "Historia Oy"}).json()
    url = f"/api/v1/customers/{customer['id']}"
    stale = system.http.patch(url, json={"name": "X"}, headers={**headers, "If-Match": '"9"'})
    assert stale.status_code == 412
    system.http.patch(url, json={"name": "Historia Oyj"}, headers={**headers, "If-Match": '"1"'})
    contact = system.http.post(
        f"{url}/contacts", json={"name": "Matti", "email": "m@x.fi"}, headers=headers
    )
    assert contact.status_code == 201
    history = system.http.get(f"{url}/history", headers=headers).json()
    assert [i["type"] for i in history["items"]] == [
        "ContactPersonAdded",
        "CustomerDetailsChanged",
        "CustomerCreated",
    ]
    renamed = history["items"][1]
    assert renamed["before"] == {"name": "Historia Oy"}
    assert renamed["after"] == {"name": "Historia Oyj"}

    client = redis.Redis.from_url(str(system_config.redis_url))
    stream = system_config.stream(CUSTOMERS_STREAM)

    def published() -> list[CustomerEnvelope]:
        entries = client.xrange(stream)
        return [CustomerEnvelope.model_validate_json(entry_body(f)) for _, f in entries]

    envelopes = wait_until(lambda: (e := published()) and len(e) >= 3 and e)
    assert [e.type for e in envelopes] == [
        "CustomerCreated",
        "CustomerDetailsChanged",
        "ContactPersonAdded",
    ]
    assert envelopes[0].payload.number == "1"  # type: ignore[union-attr]
    assert json.loads(envelopes[0].model_dump_json())["actor"]["name"] == "Aino Admin"


def test_another_tenants_customer_is_not_found(system: System, tenant: Tenant):
    headers = system.after_settings(system.admin(tenant))
    customer = system.create(headers, {"name": "Oma Oy"}).json()
    other = system.create_tenant("Muu Oy", name="Muu")
    theirs = system.headers(other)
    assert system.http.get(f"/api/v1/customers/{customer['id']}", headers=theirs).status_code == 404
    assert (
        system.http.patch(
            f"/api/v1/customers/{customer['id']}", headers=theirs, json={"name": "Kaapattu"}
        ).status_code
        == 404
    )


def test_a_request_waits_for_the_settings_position_it_names_or_says_they_are_not_there(
    system: System, tenant: Tenant
):
    headers = system.admin(tenant)
    far_ahead = {**headers, "Settings-Position": "999999"}
    response = system.create(far_ahead, {"name": "Odottaja Oy"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert "has not reached the customers service" in response.json()["detail"]


def test_concurrent_changes_of_different_things_on_one_customer_are_all_kept(
    system: System, tenant: Tenant
):
    fields = [
        system.settings_change(tenant, "POST", "/fields", {"name": f"Kenttä {i}", "type": "text"})
        for i in range(8)
    ]
    headers = system.after_settings(system.admin(tenant))
    customer = system.create(headers, {"name": "Yhteinen Oy"}).json()
    url = f"/api/v1/customers/{customer['id']}"

    def patch(index: int) -> int:
        body = {"fields": {fields[index]["id"]: f"arvo {index}"}}
        return system.http.patch(url, json=body, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(patch, range(8))) == [200] * 8
    final = system.http.get(url, headers=headers).json()
    assert final["fields"] == {f["id"]: f"arvo {i}" for i, f in enumerate(fields)}
    assert final["version"] == 9


def test_patch_refuses_null_for_the_kind_and_keeps_the_number_unless_changed(
    system: System, tenant: Tenant
):
    headers = system.after_settings(system.admin(tenant))
    customer = system.create(headers, {"name": "Ali Oy", "kind": "subcontractor"}).json()
    url = f"/api/v1/customers/{customer['id']}"
    nulled = system.http.patch(url, json={"kind": None}, headers=headers)
    assert nulled.status_code == 422 and nulled.json()["errors"][0]["field"] == "kind"
    renumbered = system.http.patch(url, json={"number": "A-100"}, headers=headers)
    assert renumbered.status_code == 200 and renumbered.json()["number"] == "A-100"
    # The old number stays taken: numbers are never reused.
    again = system.create(headers, {"name": "Uusi Oy", "number": customer["number"]})
    assert again.status_code == 422
