"""Imports over HTTP: the template from the settings, uploads answered at once, every row's
errors reported by row and column, files that cannot be read refused, admins only."""

from __future__ import annotations

import csv
import io
import time
import uuid
from typing import Any
from uuid import UUID

import pytest
from openpyxl import load_workbook

from tests.integration.customers.conftest import System, wait_until
from tests.integration.settings.conftest import Tenant

IMPORTS = "/api/v1/imports"


def upload(
    system: System,
    tenant: Tenant,
    name: str,
    data: bytes,
    headers: dict[str, str] | None = None,
    **options: Any,
) -> Any:
    """Upload as the tenant's admin (or with `headers`, as another)."""
    headers = {**(headers or system.admin(tenant)), "Settings-Position": system.position}
    form = {
        key: value if key == "mapping" else str(value).lower()
        for key, value in {"dry_run": True, **options}.items()
    }
    return system.http.post(IMPORTS, files={"file": (name, data)}, data=form, headers=headers)


def finished(system: System, tenant: Tenant, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        job: dict[str, Any] = system.http.get(
            f"{IMPORTS}/{job_id}", headers=system.admin(tenant)
        ).json()
        if job["status"] not in ("queued", "validating", "running"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def test_a_dry_run_reports_every_error_of_every_row(system: System, tenant: Tenant):
    field = system.settings_change(
        tenant, "POST", "/fields", {"name": "Asiakkuus alkaen", "type": "date", "mandatory": True}
    )
    system.settings_change(tenant, "POST", "/groups", {"name": "Avainasiakkaat"})
    text = (
        "Nimi;Y-tunnus;Asiakasryhmä;Asiakkuus alkaen;Asiakasnumero;Lempiväri\r\n"
        "Äänekosken Öljy Oy;0737546-2;avainasiakkaat;1.3.2025;100;sininen\r\n"
        ";1234567-8;Tuntematon;huomenna;101;\r\n"
        "Toinen Öljy Oy;0737546-2;;2025-01-01;100;\r\n"
    )
    response = upload(system, tenant, "asiakkaat.csv", text.encode("cp1252"))
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] in ("queued", "validating", "completed_with_errors")
    assert response.headers["Location"] == f"{IMPORTS}/{job['id']}"
    job = finished(system, tenant, job["id"])
    assert job["status"] == "completed_with_errors"
    # The valid row would be created: the dry run counts it, and creates nothing.
    assert (job["total_rows"], job["processed"], job["failed"], job["created"]) == (3, 3, 2, 1)
    assert job["checked"] == 3
    assert job["unknown_columns"] == ["Lempiväri"]
    errors = system.http.get(f"{IMPORTS}/{job['id']}/errors", headers=system.admin(tenant)).json()
    found = {(e["row"], e["column"]) for e in errors["items"]}
    assert found == {
        (1, "Lempiväri"),
        (3, "Nimi"),
        (3, "Y-tunnus"),
        (3, "Asiakasryhmä"),
        (3, "Asiakkuus alkaen"),
        (4, "Y-tunnus"),
        (4, "Asiakasnumero"),
    }
    messages = {(e["row"], e["column"]): e["message"] for e in errors["items"]}
    assert messages[(4, "Y-tunnus")] == "the same business id as row 2"
    assert "Tuntematon" in messages[(3, "Asiakasryhmä")]
    assert field["name"] in messages[(3, "Asiakkuus alkaen")]
    report = system.http.get(
        f"{IMPORTS}/{job['id']}/errors?format=csv", headers=system.admin(tenant)
    )
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Rivi", "Sarake", "Virhe"]
    assert len(rows) == 1 + len(found)
    # The report an admin opens is in Finnish; the JSON has both, the English report on asking.
    assert ["4", "Y-tunnus", "sama Y-tunnus kuin rivillä 2"] in rows
    assert {e["message_fi"] for e in errors["items"]} == {row[2] for row in rows[1:]}
    english = system.http.get(
        f"{IMPORTS}/{job['id']}/errors?format=csv&lang=en", headers=system.admin(tenant)
    )
    rows = list(csv.reader(io.StringIO(english.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Row", "Column", "Error"]
    assert ["4", "Y-tunnus", "the same business id as row 2"] in rows
    # Nothing was created: it was a dry run.
    listed = system.http.get(
        "/api/v1/customers", headers=system.headers(tenant, roles=("user",))
    ).json()
    assert listed["total"] == 0


def test_the_template_follows_the_settings(system: System, tenant: Tenant):
    system.settings_change(
        tenant,
        "POST",
        "/fields",
        {"name": "Toimiala", "type": "dropdown", "options": ["Rakentaminen", "Kauppa"]},
    )
    headers = {**system.admin(tenant), "Settings-Position": system.position}
    response = system.http.get(f"{IMPORTS}/template?format=csv", headers=headers)
    assert response.status_code == 200
    assert response.content.decode("utf-8-sig").strip().endswith(";Toimiala")
    response = system.http.get(f"{IMPORTS}/template", headers=headers)
    workbook = load_workbook(io.BytesIO(response.content))
    guide = {r[0]: r for r in workbook["Ohjeet"].iter_rows(min_row=2, values_only=True)}
    assert guide["Toimiala"][3] == "Rakentaminen; Kauppa"


def test_files_that_cannot_be_read_are_refused_at_once(system: System, tenant: Tenant):
    for name, data, message in (
        ("tyhja.csv", b"", "empty"),
        ("suojattu.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "protected"),
        ("rikki.xlsx", b"PK\x03\x04 broken", "broken"),
        ("tiedot.json", b'{"customers": [{"name": "A Oy"}]}\n', "is JSON, not CSV"),
        ("lasku.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF document"),
        ("muistio.txt", b"Muistiinpanoja\nAsiakkaista\n", "none of the import's"),
    ):
        response = upload(system, tenant, name, data)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["title"] == "The file cannot be imported"
        (error,) = response.json()["errors"]
        assert error["field"] == "file" and message in error["message"]


def test_a_file_without_a_required_column_fails_naming_it(system: System, tenant: Tenant):
    response = upload(system, tenant, "a.csv", b"Y-tunnus;Lempiv\xe4ri\n0737546-2;sininen\n")
    job = finished(system, tenant, response.json()["id"])
    assert job["status"] == "failed"
    assert job["problem"] == "required columns are missing: Nimi"
    assert job["problem_fi"] == "pakollisia sarakkeita puuttuu: Nimi"
    assert job["unknown_columns"] == ["Lempiväri"]  # as the error report names it


def test_imports_are_for_admins_of_the_tenant(system: System, tenant: Tenant):
    headers = system.headers(tenant, roles=("user",))
    response = system.http.post(
        IMPORTS,
        files={"file": ("a.csv", b"Nimi\nA\n")},
        data={"dry_run": "true"},
        headers=headers,
    )
    assert response.status_code == 403
    job = upload(system, tenant, "a.csv", b"Nimi\nA\n").json()
    other = system.create_tenant("Toinen")
    response = system.http.get(f"{IMPORTS}/{job['id']}", headers=system.admin(other))
    assert response.status_code == 404


def test_cancelling_an_ended_import_is_refused(system: System, tenant: Tenant):
    job = upload(system, tenant, "a.csv", b"Nimi\nA Oy\n").json()
    assert finished(system, tenant, job["id"])["status"] == "completed"
    response = system.http.post(f"{IMPORTS}/{job['id']}/cancel", headers=system.admin(tenant))
    assert response.status_code == 409


def imported(
    system: System,
    tenant: Tenant,
    name: str,
    data: bytes,
    headers: dict[str, str] | None = None,
    **options: Any,
) -> Any:
    """Import a file for real and wait for the job's end."""
    response = upload(system, tenant, name, data, headers, dry_run=False, **options)
    assert response.status_code == 202, response.text
    return finished(system, tenant, response.json()["id"])


def customers_of(system: System, tenant: Tenant) -> dict[str, dict[str, Any]]:
    response = system.http.get(
        "/api/v1/customers?limit=500&sort=number", headers=system.admin(tenant)
    )
    assert response.status_code == 200, response.text
    return {c["name"]: c for c in response.json()["items"]}


def test_automatic_numbers_of_an_import_skip_numbers_given_by_hand_before(
    system: System, tenant: Tenant
):
    headers = system.after_settings(system.admin(tenant))
    for number in ("2", "4"):
        response = system.create(headers, {"name": f"Käsin {number} Oy", "number": number})
        assert response.status_code == 201, response.text
    data = b"Nimi\r\nA Oy\r\nB Oy\r\nC Oy\r\nD Oy\r\n"
    uploaded = upload(system, tenant, "a.csv", data, dry_run=False).json()
    job = finished(system, tenant, uploaded["id"])
    assert (job["status"], job["created"], job["failed"]) == ("completed", 4, 0), job
    # Each time is that of its own step.
    from datetime import datetime

    created_at, started_at, finished_at = (
        datetime.fromisoformat(job[key]) for key in ("created_at", "started_at", "finished_at")
    )
    assert created_at < started_at < finished_at
    found = customers_of(system, tenant)
    numbers = sorted(int(found[name]["number"]) for name in ("A Oy", "B Oy", "C Oy", "D Oy"))
    assert numbers == [1, 3, 5, 6]


REGISTER = (
    "Nimi;Y-tunnus;Asiakasnumero;Pääyksikön asiakasnumero;Asiakasryhmä;Tunnisteet\r\n"
    "Emoyhtiö Oy;0737546-2;500;;Avainasiakkaat;iso\r\n"
    "Tytär Oy;1234567-1;;500;;\r\n"
    "Kolmas Oy;1572860-0;;;;uusi|pieni\r\n"
    "Alatytär Oy;;510;;;\r\n"
    "Tyttären tytär Oy;2345678-0;;510;;\r\n"
)


def test_an_import_creates_the_customers_with_numbers_and_parents(
    system: System, tenant: Tenant, system_config
):
    system.settings_change(tenant, "POST", "/groups", {"name": "Avainasiakkaat"})
    data = REGISTER.replace("Alatytär Oy;;510;;;", "Alatytär Oy;;510;500;;").encode("cp1252")
    job = upload(system, tenant, "rekisteri.csv", data, dry_run=False).json()
    job = finished(system, tenant, job["id"])
    assert job["status"] == "completed", job
    assert (job["total_rows"], job["created"], job["failed"], job["skipped"]) == (5, 5, 0, 0)
    assert job["processed"] == 5
    found = customers_of(system, tenant)
    assert set(found) == {
        "Emoyhtiö Oy",
        "Tytär Oy",
        "Kolmas Oy",
        "Alatytär Oy",
        "Tyttären tytär Oy",
    }
    # Given numbers are kept; the others are given the next free numbers, with no gaps.
    assert found["Emoyhtiö Oy"]["number"] == "500"
    assert found["Alatytär Oy"]["number"] == "510"
    automatic = sorted(
        int(found[n]["number"]) for n in ("Tytär Oy", "Kolmas Oy", "Tyttären tytär Oy")
    )
    assert automatic == [1, 2, 3]
    assert found["Tytär Oy"]["parent_id"] == found["Emoyhtiö Oy"]["id"]
    assert found["Tyttären tytär Oy"]["parent_id"] == found["Alatytär Oy"]["id"]
    assert found["Alatytär Oy"]["parent_id"] == found["Emoyhtiö Oy"]["id"]
    assert found["Kolmas Oy"]["relationships"][0]["tags"] == ["uusi", "pieni"]
    # Executed batches are trimmed from the commands stream (the last one stays).
    import redis

    commands = system_config.stream("customers.commands.v1")
    client = redis.Redis.from_url(str(system_config.redis_url))
    assert client.xlen(commands) <= 1
    # The customers are published in their batches' outcome entries, not an entry each.
    from contracts import CUSTOMERS_STREAM, CustomerEnvelope
    from psa.streams.wire import entry_body

    def published() -> list[CustomerEnvelope]:
        entries = client.xrange(system_config.stream(CUSTOMERS_STREAM))
        return [CustomerEnvelope.model_validate_json(entry_body(f)) for _, f in entries]

    def created_in_batches() -> dict[str, Any]:
        return {
            customer.payload.name: customer
            for envelope in published()
            if envelope.type == "ImportBatchExecuted"
            for customer in envelope.payload.created  # type: ignore[union-attr]
        }

    in_batches = wait_until(lambda: len(c := created_in_batches()) == 5 and c)
    assert "CustomerCreated" not in {e.type for e in published()}
    for name, customer in found.items():
        item = in_batches[name]
        assert str(item.aggregate_id) == customer["id"]
        assert item.payload.number == customer["number"]
        assert item.payload.request_key is not None
    batches = [e for e in published() if e.type == "ImportBatchExecuted"]
    assert all(
        item.position < batch.position
        for batch in batches
        for item in batch.payload.created  # type: ignore[union-attr]
    )

    # A dry run of the same file tells what would happen to the customers already there.
    preview = finished(system, tenant, upload(system, tenant, "rekisteri.csv", data).json()["id"])
    assert (preview["status"], preview["skipped"], preview["created"]) == (
        "completed_with_errors",
        5,
        0,
    )

    # The same file again: every row's business id (else number) exists already, so each is
    # skipped and reported, and no customer is created twice.
    again = finished(
        system,
        tenant,
        upload(system, tenant, "rekisteri.csv", data, dry_run=False).json()["id"],
    )
    assert again["status"] == "completed_with_errors"
    assert (again["created"], again["skipped"]) == (0, 5)
    skips = system.http.get(f"{IMPORTS}/{again['id']}/errors", headers=system.admin(tenant))
    assert {e["row"] for e in skips.json()["items"]} == {2, 3, 4, 5, 6}
    # Each names the column that matched: the business id, else the number.
    assert {e["row"]: e["column"] for e in skips.json()["items"]} == {
        2: "Y-tunnus",
        3: "Y-tunnus",
        4: "Y-tunnus",
        5: "Asiakasnumero",
        6: "Y-tunnus",
    }
    assert len(customers_of(system, tenant)) == 5

    # With update_existing, the rows that match by business id update those customers:
    # details, a number of the row (given free), a contact person the customer lacks.
    changed = (
        "Nimi;Y-tunnus;Asiakasnumero;Yhteyshenkilö;Yhteyshenkilön sähköposti\r\n"
        "Kolmas Yhtiö Oy;1572860-0;700;Kaisa Kolmas;kaisa@kolmas.fi\r\n"
    ).encode()
    updated = finished(
        system,
        tenant,
        upload(system, tenant, "paivitys.csv", changed, dry_run=False, update_existing=True).json()[
            "id"
        ],
    )
    assert (updated["status"], updated["updated"], updated["created"]) == ("completed", 1, 0)
    kolmas = customers_of(system, tenant)["Kolmas Yhtiö Oy"]
    assert kolmas["number"] == "700"
    assert [(c["name"], c["email"]) for c in kolmas["contacts"]] == [
        ("Kaisa Kolmas", "kaisa@kolmas.fi")
    ]
    # Again: the contact person is there already, and a number taken is refused.
    again = "Nimi;Y-tunnus;Asiakasnumero;Yhteyshenkilö\r\nKolmas Oy;1572860-0;500;kaisa kolmas\r\n"
    refused = imported(system, tenant, "b.csv", again.encode(), update_existing=True)
    assert (refused["updated"], refused["failed"]) == (0, 1), refused
    errors = system.http.get(f"{IMPORTS}/{refused['id']}/errors", headers=system.admin(tenant))
    assert "500" in errors.json()["items"][0]["message"]
    kept = again.replace(";500;", ";700;").encode()
    same = imported(system, tenant, "c.csv", kept, update_existing=True)
    assert (same["status"], same["updated"]) == ("completed", 1), same
    kolmas = customers_of(system, tenant)["Kolmas Oy"]
    assert (kolmas["number"], len(kolmas["contacts"])) == ("700", 1)
    # Two rows that find the same customer: the other fails naming the first, which the check
    # of the file finds (so without skip_errors nothing is imported); with it, the first
    # updates the customer and the other rows go on.
    twice = "Nimi;Y-tunnus;Asiakasnumero\r\nK1 Oy;1572860-0;\r\nK2 Oy;;700\r\nUusi Oy;;\r\n"
    stopped = imported(system, tenant, "d.csv", twice.encode(), update_existing=True)
    assert (stopped["status"], stopped["updated"], stopped["created"]) == ("failed", 0, 0)
    both = imported(system, tenant, "d.csv", twice.encode(), update_existing=True, skip_errors=True)
    assert (both["updated"], both["failed"], both["created"]) == (1, 1, 1), both
    errors = system.http.get(f"{IMPORTS}/{both['id']}/errors", headers=system.admin(tenant))
    (error,) = errors.json()["items"]
    assert (error["row"], error["column"]) == (3, "Asiakasnumero")
    assert "the same customer as row 2" in error["message"]
    assert "K1 Oy" in customers_of(system, tenant)


def test_one_invalid_row_stops_the_import_unless_errors_are_skipped(system: System, tenant: Tenant):
    data = "Nimi;Y-tunnus\r\nHyvä Oy;0737546-2\r\n;1234567-8\r\nToinen Oy;\r\n".encode()
    stopped = finished(
        system, tenant, upload(system, tenant, "a.csv", data, dry_run=False).json()["id"]
    )
    assert stopped["status"] == "failed"
    assert stopped["created"] == 0 and stopped["failed"] == 1
    assert "nothing was imported" in stopped["problem"]
    assert "joten mitään ei tuotu" in stopped["problem_fi"]
    assert customers_of(system, tenant) == {}
    skipped = finished(
        system,
        tenant,
        upload(system, tenant, "a.csv", data, dry_run=False, skip_errors=True).json()["id"],
    )
    assert skipped["status"] == "completed_with_errors"
    assert (skipped["created"], skipped["failed"]) == (2, 1)
    assert set(customers_of(system, tenant)) == {"Hyvä Oy", "Toinen Oy"}


def test_an_xlsx_with_a_mapping_of_its_own_column_names(system: System, tenant: Tenant):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Yritys", "Muistiinpanot", "Y-TUNNUS"])
    sheet.append(["Äänekosken Öljy Oy", "ei tuoda", "0737546-2"])
    sheet.append(["Kahvila Sävel", None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = upload(
        system,
        tenant,
        "asiakkaat.xlsx",
        buffer.getvalue(),
        dry_run=False,
        mapping='{"Yritys": "Nimi", "Muistiinpanot": null}',
    )
    assert response.status_code == 202, response.text
    job = finished(system, tenant, response.json()["id"])
    assert (job["status"], job["created"], job["unknown_columns"]) == ("completed", 2, [])
    found = customers_of(system, tenant)
    assert found["Äänekosken Öljy Oy"]["business_id"] == "0737546-2"


def test_a_mapping_that_names_what_is_not_there_is_refused_at_upload(
    system: System, tenant: Tenant
):
    response = upload(
        system,
        tenant,
        "a.csv",
        b"Yritys;Muistiinpano\r\nA Oy;x\r\n",
        mapping='{"Yritys": "Nimi", "Muistiinpano": "Ei tallaista"}',
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert [e["field"] for e in problem["errors"]] == ["mapping"]
    assert "Ei tallaista" in problem["errors"][0]["message"]


def test_columns_not_imported_end_the_import_with_errors(system: System, tenant: Tenant):
    data = b"Nimi;Lempivari;NIMI\r\nA Oy;sininen;B Oy\r\n"
    job = finished(
        system, tenant, upload(system, tenant, "a.csv", data, dry_run=False).json()["id"]
    )
    assert (job["status"], job["created"], job["unknown_columns"]) == (
        "completed_with_errors",
        1,
        ["Lempivari", "NIMI"],
    )
    assert set(customers_of(system, tenant)) == {"A Oy"}
    errors = system.http.get(f"{IMPORTS}/{job['id']}/errors", headers=system.admin(tenant))
    messages = {e["column"]: e["message"] for e in errors.json()["items"]}
    assert "'Nimi' (A) is imported as this already" in messages["NIMI"]


def test_the_error_report_runs_no_formula_in_a_spreadsheet(system: System, tenant: Tenant):
    data = b'Nimi;=HYPERLINK("http://x";"y")\r\nA Oy;1\r\n'
    job = finished(system, tenant, upload(system, tenant, "a.csv", data).json()["id"])
    report = system.http.get(
        f"{IMPORTS}/{job['id']}/errors?format=csv", headers=system.admin(tenant)
    ).content.decode("utf-8-sig")
    assert "'=HYPERLINK" in report and ";=HYPERLINK" not in report


def test_cancel_stops_an_import_between_batches(system: System, tenant: Tenant, monkeypatch):
    from services.importer import application

    monkeypatch.setattr(application, "IN_FLIGHT", 1)  # one batch at a time
    monkeypatch.setattr(application, "BATCH", 100)  # progress every 1,000 rows checked
    rows = 5000
    data = ("Nimi\r\n" + "".join(f"Asiakas {i} Oy\r\n" for i in range(rows))).encode()
    job = upload(system, tenant, "iso.csv", data, dry_run=False).json()
    deadline = time.monotonic() + 20
    seen: list[tuple[str, int, int]] = []  # (status, checked, processed) as they were shown
    samples = []
    while True:  # cancel once rows are on their way
        current = system.http.get(f"{IMPORTS}/{job['id']}", headers=system.admin(tenant)).json()
        samples.append(current)
        seen.append((current["status"], current["checked"], current["processed"]))
        if current["status"] == "running":
            break
        assert time.monotonic() < deadline, current
        time.sleep(0.01)
    response = system.http.post(f"{IMPORTS}/{job['id']}/cancel", headers=system.admin(tenant))
    assert response.status_code == 200, response.text
    ended = finished(system, tenant, job["id"])
    assert ended["status"] == "cancelled"
    # The rows checked count up while the file is checked; the rows with an outcome never
    # go back.
    processed = [p for _, _, p in seen] + [ended["processed"]]
    assert processed == sorted(processed), seen
    assert [c for _, c, _ in seen] == sorted(c for _, c, _ in seen)
    assert (seen[-1][1], ended["checked"]) == (rows, rows)
    # While the file is checked, its total is estimated from its lines (known before the
    # first rows checked are counted).
    totals = {
        current["total_rows"]
        for current in samples
        if current["status"] == "validating" and current["checked"]
    }
    assert totals <= {rows}, totals
    # Whole batches were imported before it stopped, and no more; the rows never sent are
    # not counted as processed.
    assert ended["created"] < rows and ended["created"] % 500 == 0
    assert (ended["total_rows"], ended["processed"]) == (rows, ended["created"])
    listed = system.http.get("/api/v1/customers?limit=1", headers=system.admin(tenant)).json()
    assert listed["total"] == ended["created"]


def test_cancel_stops_the_batches_already_on_their_way(system: System, tenant: Tenant, monkeypatch):
    """The customers service is told of the cancel: the batches sent and not executed yet
    come back without outcomes, instead of creating their customers."""
    from services.customers.application import CustomersApplication

    execute = CustomersApplication.execute_import_batch

    def slowly(self: Any, *args: Any) -> bool:
        time.sleep(0.3)  # batches pile up on the stream
        return execute(self, *args)

    monkeypatch.setattr(CustomersApplication, "execute_import_batch", slowly)
    rows = 5000  # ten batches, all sent at once (twelve may be on their way)
    data = ("Nimi\r\n" + "".join(f"Asiakas {i} Oy\r\n" for i in range(rows))).encode()
    job = upload(system, tenant, "iso.csv", data, dry_run=False).json()
    wait_until(
        lambda: (
            system.http.get(f"{IMPORTS}/{job['id']}", headers=system.admin(tenant)).json()[
                "created"
            ]
            > 0
        ),
        timeout=30,
    )
    response = system.http.post(f"{IMPORTS}/{job['id']}/cancel", headers=system.admin(tenant))
    assert response.status_code == 200, response.text
    ended = finished(system, tenant, job["id"])
    assert ended["status"] == "cancelled", ended
    # One or two batches were executed before the customers service heard of the cancel.
    assert 0 < ended["created"] <= 1000 and ended["created"] % 500 == 0, ended
    assert (ended["processed"], ended["failed"]) == (ended["created"], 0), ended
    listed = system.http.get("/api/v1/customers?limit=1", headers=system.admin(tenant)).json()
    assert listed["total"] == ended["created"]


def test_cancel_while_the_file_is_checked_counts_what_was_found(
    system: System, tenant: Tenant, monkeypatch
):
    from services.importer.application import ImporterApplication

    progress = ImporterApplication._progress

    def cancelling(self: Any, job_id: Any, counts: Any) -> None:
        progress(self, job_id, counts)
        self.cancel(tenant.id, job_id)  # asked while the rows are being checked

    monkeypatch.setattr(ImporterApplication, "_progress", cancelling)
    lines = [f"Asiakas {i} Oy;{'x' if i == 7 else ''}" for i in range(20_000)]
    data = ("Nimi;Y-tunnus\r\n" + "\r\n".join(lines) + "\r\n").encode()
    job = upload(system, tenant, "iso.csv", data, dry_run=False).json()
    ended = finished(system, tenant, job["id"])
    assert ended["status"] == "cancelled", ended
    assert (ended["created"], ended["failed"], ended["processed"]) == (0, 1, 1)
    # Cancelled before the end of the file: its total is the rows checked.
    assert ended["checked"] == ended["total_rows"] == 10_000
    listed = system.http.get("/api/v1/customers?limit=1", headers=system.admin(tenant)).json()
    assert listed["total"] == 0


def test_a_job_waits_out_a_failure_of_the_store_and_goes_on(
    system: System, tenant: Tenant, monkeypatch
):
    from eventsourcing.persistence import OperationalError

    from services.importer.application import ImporterApplication

    queue_batch = ImporterApplication._queue_batch
    failures = []

    def failing_once(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not failures:
            failures.append(1)
            raise OperationalError("Timed out waiting for return of writer")
        return queue_batch(self, *args, **kwargs)

    monkeypatch.setattr(ImporterApplication, "_queue_batch", failing_once)
    data = ("Nimi\r\n" + "".join(f"Asiakas {i} Oy\r\n" for i in range(1200))).encode()
    job = upload(system, tenant, "odota.csv", data, dry_run=False).json()
    ended = finished(system, tenant, job["id"])
    assert failures == [1]
    assert ended["status"] == "completed", ended
    assert ended["created"] == 1200 and ended["failed"] == 0
    listed = system.http.get("/api/v1/customers?limit=1", headers=system.admin(tenant)).json()
    assert listed["total"] == 1200


def test_a_batch_the_customers_service_gives_up_on_fails_its_rows_and_the_job_ends(
    system: System, tenant: Tenant, monkeypatch
):
    from services.customers.application import CustomersApplication

    execute = CustomersApplication.execute_import_batch

    def failing_for_row_600(self: Any, tenant_id: str, actor: Any, batch: Any) -> Any:
        if any(row["row"] == 600 for row in batch["rows"]):
            raise ValueError("this batch cannot be executed")
        return execute(self, tenant_id, actor, batch)

    monkeypatch.setattr(CustomersApplication, "execute_import_batch", failing_for_row_600)
    data = ("Nimi\r\n" + "".join(f"Asiakas {i} Oy\r\n" for i in range(1200))).encode()
    job = upload(system, tenant, "kuollut.csv", data, dry_run=False).json()
    ended = finished(system, tenant, job["id"])
    # The batch of rows 502..1001 was retried, dead-lettered, and its rows reported failed.
    assert ended["status"] == "completed_with_errors", ended
    assert (ended["created"], ended["failed"]) == (700, 500)
    errors = system.http.get(
        f"{IMPORTS}/{job['id']}/errors?limit=1000", headers=system.admin(tenant)
    ).json()
    rows = sorted(e["row"] for e in errors["items"])
    assert rows == list(range(502, 1002))
    assert "customers.commands.v1.dlq" in errors["items"][0]["message"]
    listed = system.http.get("/api/v1/customers?limit=1", headers=system.admin(tenant)).json()
    assert listed["total"] == 700

    # The cause is mended: the batch is sent again, its rows are created, once each.
    monkeypatch.setattr(CustomersApplication, "execute_import_batch", execute)
    retried = system.http.post(f"{IMPORTS}/{job['id']}/retry", headers=system.admin(tenant))
    assert retried.status_code == 202, retried.text
    assert retried.json()["status"] == "running"
    ended = finished(system, tenant, job["id"])
    assert ended["status"] == "completed", ended
    assert (ended["created"], ended["failed"], ended["processed"]) == (1200, 0, 1200)
    errors = system.http.get(f"{IMPORTS}/{job['id']}/errors", headers=system.admin(tenant))
    assert errors.json()["total"] == 0
    numbers: list[int] = []
    cursor = None
    while True:
        page = system.http.get(
            "/api/v1/customers",
            params={"limit": 500, "sort": "number", **({"cursor": cursor} if cursor else {})},
            headers=system.admin(tenant),
        ).json()
        numbers += [int(c["number"]) for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(numbers) == list(range(1, 1201))  # every row once, no gaps
    again = system.http.post(f"{IMPORTS}/{job['id']}/retry", headers=system.admin(tenant))
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "status"


def test_a_batch_given_up_on_again_ends_the_retry_with_its_rows_failed(
    system: System, tenant: Tenant, monkeypatch, system_config
):
    from services.customers.application import CustomersApplication

    def failing(self: Any, tenant_id: str, actor: Any, batch: Any) -> Any:
        raise ValueError("this batch cannot be executed")

    monkeypatch.setattr(CustomersApplication, "execute_import_batch", failing)
    data = ("Nimi\r\n" + "".join(f"Asiakas {i} Oy\r\n" for i in range(3))).encode()
    job = upload(system, tenant, "kuollut.csv", data, dry_run=False).json()
    assert finished(system, tenant, job["id"])["failed"] == 3
    retried = system.http.post(f"{IMPORTS}/{job['id']}/retry", headers=system.admin(tenant))
    assert retried.status_code == 202, retried.text
    ended = finished(system, tenant, job["id"])
    assert (ended["status"], ended["created"], ended["failed"]) == ("completed_with_errors", 0, 3)
    errors = system.http.get(f"{IMPORTS}/{job['id']}/errors", headers=system.admin(tenant))
    assert errors.json()["total"] == 3  # reported once, not once per attempt

    # An outcome of that batch arriving now, unasked (no retry awaits it), changes nothing
    # now: the customers service executed the batch after all.
    importer = system.http.app.state.importer_app  # type: ignore[attr-defined]
    customer_ids = [str(uuid.uuid4()) for _ in range(3)]
    importer.apply_customer_event(
        10**9,
        {
            "tenant_id": tenant.id,
            "payload": {
                "type": "ImportBatchExecuted",
                "job_id": job["id"],
                "batch": 1,
                "outcomes": [
                    {"row": row, "outcome": "created", "customer_id": customer_id}
                    for row, customer_id in zip((2, 3, 4), customer_ids, strict=True)
                ],
            },
        },
    )
    assert finished(system, tenant, job["id"])["failed"] == 3
    assert importer.executed(uuid.UUID(job["id"])) == (
        1,
        {"created": 0, "updated": 0, "unchanged": 0, "skipped": 0, "failed": 3},
    )
    errors = system.http.get(f"{IMPORTS}/{job['id']}/errors", headers=system.admin(tenant))
    assert errors.json()["total"] == 3

    # A retry takes that outcome: the customers service would find the batch done and not
    # answer the batch sent again (it still cannot execute it, and gives it up again).
    import redis

    from contracts import CUSTOMER_COMMANDS_STREAM, dead_letter_stream

    client = redis.Redis.from_url(str(system_config.redis_url))
    dlq = dead_letter_stream(system_config.stream(CUSTOMER_COMMANDS_STREAM))
    given_up_before = client.xlen(dlq)
    retried = system.http.post(f"{IMPORTS}/{job['id']}/retry", headers=system.admin(tenant))
    assert retried.status_code == 202, retried.text
    ended = finished(system, tenant, job["id"])
    assert (ended["status"], ended["created"], ended["failed"]) == ("completed", 3, 0)
    errors = system.http.get(f"{IMPORTS}/{job['id']}/errors", headers=system.admin(tenant))
    assert errors.json()["total"] == 0
    # The batch sent again is given up on again: that changes nothing now.
    deadline = time.monotonic() + 60
    while client.xlen(dlq) <= given_up_before:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    last = client.xinfo_stream(dlq)["last-generated-id"]
    while not any(  # until the importer has handled it
        g["name"] == b"importer" and g["last-delivered-id"] == last and g["pending"] == 0
        for g in client.xinfo_groups(dlq)
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    importer.finish_if_done(uuid.UUID(job["id"]))
    assert finished(system, tenant, job["id"])["created"] == 3
    assert importer.executed(uuid.UUID(job["id"]))[1]["created"] == 3


def test_a_faststream_subscriber_gets_every_customer_created_one_way_or_the_other(
    system: System, tenant: Tenant, system_config
):
    """What the README tells an integrator to write: customers created through the API come
    as `CustomerCreated`, those an import creates in their batch's `ImportBatchExecuted`."""
    import asyncio

    from faststream.redis import RedisBroker, StreamSub

    from contracts import CUSTOMERS_STREAM, CustomerEnvelope

    headers = system.after_settings(system.admin(tenant))
    by_hand = system.create(headers, {"name": "Käsin Oy"}).json()
    data = b"Nimi\r\nTuotu 1 Oy\r\nTuotu 2 Oy\r\nTuotu 3 Oy\r\n"
    job = upload(system, tenant, "kolme.csv", data, dry_run=False).json()
    assert finished(system, tenant, job["id"])["status"] == "completed"
    listed = customers_of(system, tenant)

    async def follow() -> dict[str, str]:
        stream = system_config.stream(CUSTOMERS_STREAM)
        broker = RedisBroker(str(system_config.redis_url))
        created: dict[str, str] = {}  # customer id → number

        def create_contact(customer_id: Any, payload: Any) -> None:
            created[str(customer_id)] = payload.number

        @broker.subscriber(stream=StreamSub(stream, group="hubspot-sync", consumer="1"))
        async def on_customer(event: CustomerEnvelope) -> None:
            if event.type == "CustomerCreated":
                create_contact(event.aggregate_id, event.payload)
            elif event.type == "ImportBatchExecuted":
                for customer in event.payload.created:  # type: ignore[union-attr]
                    create_contact(customer.aggregate_id, customer.payload)

        async with broker:
            await broker.start()
            deadline = asyncio.get_running_loop().time() + 10
            while len(created) < 4 and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.05)
        return created

    import redis

    redis.Redis.from_url(str(system_config.redis_url)).xgroup_create(
        system_config.stream(CUSTOMERS_STREAM),
        "hubspot-sync",
        id="0",  # from the start
    )
    created = asyncio.run(follow())
    assert created == {c["id"]: c["number"] for c in listed.values()}
    assert by_hand["id"] in created and len(created) == 4


def test_one_tenants_import_does_not_hold_up_anothers(system: System, tenant: Tenant, monkeypatch):
    """A tenant's jobs run one at a time; another tenant's job runs beside them."""
    import threading

    from services.importer.application import ImporterApplication

    held = threading.Event()
    check_rows = ImporterApplication._check_rows

    def holding(self: Any, job: Any, *args: Any) -> Any:
        if job.tenant_id == tenant.id:
            held.wait(30)  # a large file of this tenant, still being checked
        return check_rows(self, job, *args)

    monkeypatch.setattr(ImporterApplication, "_check_rows", holding)
    other = system.create_tenant("Toinen Oy")
    system.position = other.position
    try:
        data = ("Nimi\r\n" + "".join(f"Asiakas {i} Oy\r\n" for i in range(1200))).encode()
        large = upload(system, tenant, "iso.csv", data, dry_run=False).json()
        later = upload(system, tenant, "pieni.csv", b"Nimi\r\nMyohempi Oy\r\n", dry_run=False)
        small = upload(system, other, "pieni.csv", b"Nimi\r\nToisen Oy\r\n", dry_run=False)
        ended = finished(system, other, small.json()["id"])
        assert (ended["status"], ended["created"]) == ("completed", 1)
        for job in (large, later.json()):
            current = system.http.get(f"{IMPORTS}/{job['id']}", headers=system.admin(tenant))
            assert current.json()["status"] in ("queued", "validating")
        # The same tenant's later job waits for the earlier one.
        assert (
            system.http.get(f"{IMPORTS}/{later.json()['id']}", headers=system.admin(tenant)).json()[
                "status"
            ]
            == "queued"
        )
    finally:
        held.set()
    assert finished(system, tenant, large["id"])["created"] == 1200
    ended = finished(system, tenant, later.json()["id"])
    assert (ended["status"], ended["created"]) == ("completed", 1)


def test_a_job_lease_is_held_by_one_process_until_it_runs_out(system: System, tenant: Tenant):
    importer = system.http.app.state.importer_app  # type: ignore[attr-defined]
    job = uuid.uuid4()
    assert importer.claim(job, "a", 30, now=1000.0)
    assert importer.claim(job, "a", 30, now=1010.0)  # renewed, until 1040
    assert not importer.claim(job, "b", 30, now=1039.0)
    importer.release(job, "b")  # not b's to give back
    assert not importer.claim(job, "b", 30, now=1039.5)
    assert importer.claim(job, "b", 30, now=1041.0)  # a's ran out: b resumes the job
    assert not importer.claim(job, "a", 30, now=1042.0)  # a, renewing, learns it lost it
    importer.release(job, "b")
    assert importer.claim(job, "a", 30, now=1043.0)
    # Renewing extends only a lease still held: one given back is not taken afresh.
    assert importer.renew(job, "a", 30, now=1050.0)  # until 1080
    assert not importer.claim(job, "b", 30, now=1079.0)
    assert not importer.renew(job, "b", 30, now=1079.0)
    importer.release(job, "a")
    assert not importer.renew(job, "a", 30, now=1081.0)
    assert importer.claim(job, "b", 30, now=1082.0)
    # A process started again in another's place takes over what its predecessor held.
    assert importer.claim(job, "host:8000:/data#old", 30, now=1200.0)
    assert importer.take_over("host:8000:/data_x#", "host:8000:/data_x#new") == 0
    assert importer.take_over("host:8000:/data#", "host:8000:/data#new") == 1
    assert importer.renew(job, "host:8000:/data#new", 30, now=1201.0)
    assert not importer.renew(job, "host:8000:/data#old", 30, now=1201.0)


@pytest.mark.parametrize("lease", [600.0, -1.0], ids=["held", "run out"])
def test_a_job_another_process_holds_waits_and_one_whose_holder_stopped_is_resumed(
    system: System, tenant: Tenant, lease: float
):
    """Replicas of the importer share the jobs: a job whose lease another process holds is
    not run here (nor the tenant's later jobs); once that lease runs out, it is."""
    importer = system.http.app.state.importer_app  # type: ignore[attr-defined]
    original_claim = importer.claim
    first_claims: dict[str, bool] = {}

    def claim(job_id: Any, holder: str, seconds: float, now: float | None = None) -> bool:
        if not first_claims:  # another process took the first job before this one looked
            first_claims[str(job_id)] = original_claim(job_id, "a stopped process", lease)
        return bool(original_claim(job_id, holder, seconds, now))

    importer.claim = claim
    try:
        response = upload(system, tenant, "a.csv", b"Nimi\r\nVuokrattu Oy\r\n", dry_run=False)
        job_id = response.json()["id"]
        later = upload(system, tenant, "b.csv", b"Nimi\r\nMyohempi Oy\r\n", dry_run=False)
        if lease > 0:
            time.sleep(3)  # several rounds of the runner
            for job in (job_id, later.json()["id"]):
                status = system.http.get(f"{IMPORTS}/{job}", headers=system.admin(tenant))
                assert status.json()["status"] == "queued"
            importer.release(UUID(job_id), "a stopped process")  # as if it ran out
        assert (finished(system, tenant, job_id)["status"], first_claims[job_id]) == (
            "completed",
            True,
        )
        assert finished(system, tenant, later.json()["id"])["status"] == "completed"
    finally:
        del importer.claim
    assert set(customers_of(system, tenant)) >= {"Vuokrattu Oy", "Myohempi Oy"}


def test_a_process_that_loses_a_jobs_lease_stops_the_job_and_the_holder_finishes_it(
    system: System, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
):
    """A process that could not renew a lease in time (another took the job over) stops the
    job between batches; the process holding the lease ends it, with each row once."""
    import threading

    from services.importer import runner
    from services.importer.application import ImporterApplication

    monkeypatch.setattr(runner, "RENEW_SECONDS", 0.1)
    importer = system.http.app.state.importer_app  # type: ignore[attr-defined]
    checking, go_on = threading.Event(), threading.Event()
    check_rows = ImporterApplication._check_rows

    def held(self: Any, job: Any, *args: Any) -> Any:
        checking.set()
        go_on.wait(30)
        return check_rows(self, job, *args)

    monkeypatch.setattr(ImporterApplication, "_check_rows", held)
    data = ("Nimi\r\n" + "".join(f"Siirretty {i} Oy\r\n" for i in range(700))).encode()
    job_id = upload(system, tenant, "a.csv", data, dry_run=False).json()["id"]
    try:
        assert checking.wait(30)
        t = importer.tables
        with t.transaction() as cursor:  # another process took the job over
            t.execute(
                cursor,
                f"UPDATE {t.name('import_job_lease')} SET holder = 'other', until = ? "
                "WHERE job_id = ?",
                (time.time() + 600, job_id),
            )
        time.sleep(0.5)  # renewals find the lease lost
    finally:
        go_on.set()
    time.sleep(2)
    status = system.http.get(f"{IMPORTS}/{job_id}", headers=system.admin(tenant)).json()
    assert status["status"] in ("validating", "running") and status["created"] == 0, status
    importer.release(UUID(job_id), "other")  # the other process ends (or its lease runs out)
    ended = finished(system, tenant, job_id)
    assert (ended["status"], ended["created"]) == ("completed", 700)
    names = [c for c in customers_of_all(system, tenant) if c.startswith("Siirretty ")]
    assert len(names) == len(set(names)) == 700
    assert not list((importer.files / job_id).glob("checked*"))  # no run left its rows


def test_a_resumed_job_does_not_take_the_customers_it_created_for_the_registers(
    system: System, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
):
    """A job stopped after its parents' batch was executed checks its file again when it
    resumes: the customers its own rows created are not customers of the register that the
    rows would be skipped for (nor would their sub-units fail for it)."""
    from services.importer.application import ImporterApplication, Interrupted

    queue_batch = ImporterApplication._queue_batch
    stopped: list[int] = []

    def stop_before_the_sub_units(
        self: Any, job: Any, batch: int, rows: Any, sequence: int, *args: Any
    ) -> bool:
        if sequence == 2 and not stopped:  # the first run, once the parents' batch is done
            deadline = time.monotonic() + 30
            while self.executed(job.id)[0] < 1:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            stopped.append(batch)
            raise Interrupted  # as when the process stops
        return bool(queue_batch(self, job, batch, rows, sequence, *args))

    monkeypatch.setattr(ImporterApplication, "_queue_batch", stop_before_the_sub_units)
    text = (
        "Nimi;Y-tunnus;Asiakasnumero;Pääyksikön asiakasnumero\r\n"
        "Emoyhtiö Oyj;0737546-2;500;\r\n"
        "Emoyhtiö Tampere;;501;500\r\n"
    ).encode("cp1252")
    job = imported(system, tenant, "konserni.csv", text)
    assert stopped, "the first run was not stopped"
    assert (job["status"], job["created"], job["skipped"], job["failed"]) == (
        "completed",
        2,
        0,
        0,
    ), job
    found = customers_of(system, tenant)
    unit = found["Emoyhtiö Tampere"]
    assert unit["parent_id"] == found["Emoyhtiö Oyj"]["id"]
    assert sorted(c["number"] for c in found.values()) == ["500", "501"]


def customers_of_all(system: System, tenant: Tenant) -> list[str]:
    names: list[str] = []
    cursor = None
    while True:
        query = "limit=500" + (f"&cursor={cursor}" if cursor else "")
        page = system.http.get(f"/api/v1/customers?{query}", headers=system.admin(tenant)).json()
        names += [c["name"] for c in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            return names


def test_an_update_changes_only_what_the_file_gives(system: System, tenant: Tenant):
    """A customer a row updates keeps its kind, type, address parts and relationship
    values that the file has no value for: the row's defaults are for new customers."""
    first = (
        "Nimi;Y-tunnus;Laji;Asiakastyyppi;Katuosoite;Postinumero;Postitoimipaikka;Tiimi\r\n"
        "Vanha Oy;0737546-2;alihankkija;Alihankkija;Kauppakatu 1;40100;Jyväskylä;Myynti\r\n"
    )
    created = imported(system, tenant, "vanha.csv", first.encode())
    assert (created["status"], created["created"]) == ("completed", 1), created
    before = customers_of(system, tenant)["Vanha Oy"]
    update = "Nimi;Y-tunnus;Postitoimipaikka\r\nUusi nimi Oy;0737546-2;Tampere\r\n"
    job = imported(system, tenant, "uusi.csv", update.encode(), update_existing=True)
    assert (job["status"], job["updated"]) == ("completed", 1), job
    after = customers_of(system, tenant)["Uusi nimi Oy"]
    assert after["id"] == before["id"]
    assert after["kind"] == before["kind"] == "subcontractor"
    assert after["address"] == {**before["address"], "city": "Tampere"}
    assert after["address"]["street"] == "Kauppakatu 1"
    (old,), (new,) = before["relationships"], after["relationships"]
    assert new["type_id"] == old["type_id"] and new["team"] == old["team"] == "Myynti"


def test_parents_that_cannot_be_are_reported_when_the_file_is_checked(
    system: System, tenant: Tenant
):
    """A row that is its own parent, rows whose parents form a loop and sub-units of a row
    with errors: a dry run reports them, and without skip_errors nothing is created."""
    text = (
        "Nimi;Asiakasnumero;Pääyksikön asiakasnumero;Y-tunnus\r\n"
        "Hyvä A;910;;\r\n"  # 2
        "Kehä C;912;913;\r\n"  # 3
        "Kehä D;913;912;\r\n"  # 4
        "Itse;914;914;\r\n"  # 5
        "Hyvä B;915;910;\r\n"  # 6
        "Huono;916;;2345678-1\r\n"  # 7: the business id's checksum is wrong
        "Lapsi;917;916;\r\n"  # 8
        "Lapsenlapsi;918;917;\r\n"  # 9
    ).encode()
    job = finished(system, tenant, upload(system, tenant, "emot.csv", text).json()["id"])
    # A dry run: the two good rows would be created.
    assert (job["status"], job["failed"], job["created"]) == ("completed_with_errors", 6, 2), job
    errors = system.http.get(f"{IMPORTS}/{job['id']}/errors", headers=system.admin(tenant))
    messages = {(e["row"], e["column"]): e["message"] for e in errors.json()["items"]}
    column = "Pääyksikön asiakasnumero"
    assert set(messages) == {
        (3, column),
        (4, column),
        (5, column),
        (7, "Y-tunnus"),
        (8, column),
        (9, column),
    }
    assert messages[(3, column)] == messages[(4, column)] == "the parents of rows 3, 4 form a loop"
    assert messages[(5, column)] == "a customer cannot be its own parent"
    assert messages[(8, column)] == "the parent (row 7) is not imported: it has errors"
    assert "row 7" in messages[(9, column)]
    stopped = imported(system, tenant, "emot.csv", text)
    assert (stopped["status"], stopped["created"]) == ("failed", 0), stopped
    assert customers_of(system, tenant) == {}
    # With skip_errors, the rows without such a parent are imported.
    skipped = imported(system, tenant, "emot.csv", text, skip_errors=True)
    assert (skipped["created"], skipped["failed"]) == (2, 6), skipped
    assert set(customers_of(system, tenant)) == {"Hyvä A", "Hyvä B"}


def test_automatic_numbers_skip_the_numbers_the_file_gives(system: System, tenant: Tenant):
    """Rows with a number go first: an automatic number never takes a number a later row of
    the file gives, and a sub-unit's parent is the row with that number."""
    text = (
        "Nimi;Asiakasnumero;Pääyksikön asiakasnumero\r\n"
        "Auto 1;;\r\n"
        "Auto 2;;\r\n"
        "Emo;10;\r\n"
        "Käsin;2;10\r\n"  # a sub-unit: queued after the rows above, if not for its number
        "Auto lapsi;;2\r\n"
    ).encode()
    dry = finished(system, tenant, upload(system, tenant, "numerot.csv", text).json()["id"])
    assert (dry["status"], dry["failed"]) == ("completed", 0), dry
    job = imported(system, tenant, "numerot.csv", text)
    assert (job["status"], job["created"], job["failed"]) == ("completed", 5, 0), job
    found = customers_of(system, tenant)
    assert {name: c["number"] for name, c in found.items()} == {
        "Emo": "10",
        "Auto 1": "1",
        "Käsin": "2",
        "Auto 2": "3",
        "Auto lapsi": "4",
    }
    assert found["Auto lapsi"]["parent_id"] == found["Käsin"]["id"]


def test_with_update_existing_automatic_numbers_skip_numbers_of_later_batches(
    system: System, tenant: Tenant, monkeypatch
):
    """With `update_existing` the rows keep the file's order: the numbers rows of later
    batches give ride on the earlier batches, whose automatic numbers skip them."""
    from services.importer import application

    monkeypatch.setattr(application, "ROWS_PER_BATCH", 1)  # a batch for every row
    text = (
        "Nimi;Asiakasnumero;Y-tunnus\r\n"
        "Auto 1;;\r\n"
        "Auto 2;;\r\n"
        "Käsin;2;\r\n"
        "Toinen käsin;0003;\r\n"  # not a number automatic numbering gives
        "Auto 3;;\r\n"
    ).encode()
    job = imported(system, tenant, "myohemmat.csv", text, update_existing=True)
    assert (job["status"], job["created"], job["failed"]) == ("completed", 5, 0), job
    found = customers_of(system, tenant)
    assert {name: c["number"] for name, c in found.items()} == {
        "Auto 1": "1",
        "Auto 2": "3",
        "Käsin": "2",
        "Toinen käsin": "0003",
        "Auto 3": "4",
    }


def errors_by_cell(system: System, tenant: Tenant, job: dict[str, Any]) -> dict[Any, str]:
    response = system.http.get(
        f"{IMPORTS}/{job['id']}/errors?limit=500", headers=system.admin(tenant)
    )
    assert response.status_code == 200, response.text
    return {(e["row"], e["column"]): e["message"] for e in response.json()["items"]}


def test_an_update_file_gives_only_what_changes(system: System, tenant: Tenant):
    """With update_existing a file may leave out what new customers need (the name, a
    mandatory field): a row that finds a customer keeps the customer's; one that finds none
    is reported for what it lacks."""
    system.settings_change(
        tenant,
        "POST",
        "/fields",
        {"name": "Toimiala", "type": "dropdown", "options": ["IT", "Kauppa"], "mandatory": True},
    )
    register = (
        "Nimi;Y-tunnus;Toimiala\r\nMäkinen Oyj;0737546-2;IT\r\nToinen Oy;1572860-0;Kauppa\r\n"
    )
    assert imported(system, tenant, "r.csv", register.encode("cp1252"))["created"] == 2
    fields_before = customers_of(system, tenant)["Toinen Oy"]["fields"]
    assert len(fields_before) == 1
    addresses = (
        "Y-tunnus;Postitoimipaikka\r\n"
        "0737546-2;Kuopio\r\n"
        "1572860-0;Oulu\r\n"
        "2345678-0;Pori\r\n"  # no such customer: a new one would need a name and Toimiala
    ).encode("cp1252")
    refused = imported(system, tenant, "osoitteet.csv", addresses)
    assert (refused["status"], refused["problem"]) == (
        "failed",
        "required columns are missing: Nimi, Toimiala",
    )
    dry = finished(
        system,
        tenant,
        upload(system, tenant, "osoitteet.csv", addresses, update_existing=True).json()["id"],
    )
    assert (dry["updated"], dry["created"], dry["failed"]) == (2, 0, 1), dry
    would = "a customer with this business id exists already: it would be updated"
    assert errors_by_cell(system, tenant, dry) == {
        (2, "Y-tunnus"): would,
        (3, "Y-tunnus"): would,
        (4, "Nimi"): "is required",
        (4, "Toimiala"): "Toimiala is mandatory",
    }
    job = imported(
        system, tenant, "osoitteet.csv", addresses, update_existing=True, skip_errors=True
    )
    assert (job["updated"], job["created"], job["failed"]) == (2, 0, 1), job
    found = customers_of(system, tenant)
    assert set(found) == {"Mäkinen Oyj", "Toinen Oy"}
    assert found["Mäkinen Oyj"]["address"]["city"] == "Kuopio"
    assert found["Toinen Oy"]["address"]["city"] == "Oulu"
    assert found["Toinen Oy"]["fields"] == fields_before  # Toimiala kept


def test_a_row_with_more_cells_than_the_header_is_an_error_of_the_row(
    system: System, tenant: Tenant
):
    text = (
        "Nimi;Katuosoite;Postitoimipaikka\r\n"
        "Kivi Oy;Kauppakatu 1; B 5;Helsinki\r\n"
        "Puu Oy;Kuja 2;Turku\r\n"
    ).encode("cp1252")
    job = finished(system, tenant, upload(system, tenant, "solut.csv", text).json()["id"])
    assert (job["status"], job["failed"], job["created"]) == ("completed_with_errors", 1, 1)
    assert errors_by_cell(system, tenant, job) == {
        (2, "Postitoimipaikka"): "the row has 4 cells, the header 3: a value with ; in it "
        "must be in quotes"
    }


def test_rows_that_find_a_customer_of_the_register_are_checked_across_the_file(
    system: System, tenant: Tenant, monkeypatch
):
    """What the customers service would refuse of rows that find existing customers is found
    when the file is checked, whichever batches the rows fall in: a dry run tells it, and
    without skip_errors nothing is imported."""
    from services.importer import application

    monkeypatch.setattr(application, "ROWS_PER_BATCH", 1)  # a batch for every row
    register = (
        "Nimi;Y-tunnus;Asiakasnumero\r\n"
        "Mäkinen Oyj;0737546-2;100\r\n"
        "Toinen Oy;1572860-0;101\r\n"
        "Kolmas Oy;;102\r\n"
    ).encode("cp1252")
    assert imported(system, tenant, "rekisteri.csv", register)["created"] == 3
    text = (
        "Nimi;Y-tunnus;Asiakasnumero;Postitoimipaikka\r\n"
        "Mäkinen Oyj;0737546-2;;Eka\r\n"  # updates customer 100
        "Uusi Oy;;;Lahti\r\n"
        "Mäkinen Oyj;;100;Toka\r\n"  # the same customer again
        "Toinen Oy;1572860-0;102;Turku\r\n"  # 102 is Kolmas Oy's
    ).encode("cp1252")
    dry = finished(
        system, tenant, upload(system, tenant, "p.csv", text, update_existing=True).json()["id"]
    )
    counts = {key: dry[key] for key in ("created", "updated", "skipped", "failed")}
    assert counts == {"created": 1, "updated": 1, "skipped": 0, "failed": 2}, dry
    messages = errors_by_cell(system, tenant, dry)
    assert messages[(4, "Asiakasnumero")] == "the same customer as row 2, which updates it"
    assert messages[(5, "Asiakasnumero")] == "the number 102 is another customer's"
    stopped = imported(system, tenant, "p.csv", text, update_existing=True)
    assert (stopped["status"], stopped["created"], stopped["updated"]) == ("failed", 0, 0)
    job = imported(system, tenant, "p.csv", text, update_existing=True, skip_errors=True)
    assert (job["created"], job["updated"], job["failed"]) == (1, 1, 2), job
    found = customers_of(system, tenant)
    assert found["Mäkinen Oyj"]["address"]["city"] == "Eka"
    assert (found["Toinen Oy"]["number"], found["Toinen Oy"]["address"]) == ("101", None)

    # Without update_existing a row that finds a customer is skipped: a sub-unit of it in the
    # file cannot be imported, which the check says, so the import stops before anything.
    units = (
        "Nimi;Y-tunnus;Asiakasnumero;Pääyksikön asiakasnumero\r\n"
        "Mäkinen Oyj;0737546-2;777;\r\n"
        "Mäkinen Kuopio;;779;777\r\n"
        "Itsenäinen Oy;;780;\r\n"
    ).encode("cp1252")
    refused = imported(system, tenant, "yksikot.csv", units)
    assert (refused["status"], refused["created"], refused["failed"]) == ("failed", 0, 1)
    assert errors_by_cell(system, tenant, refused) == {
        (3, "Pääyksikön asiakasnumero"): "the parent (row 2) is not imported: a customer with "
        "this business id exists already"
    }
    assert "Itsenäinen Oy" not in customers_of(system, tenant)


def test_an_import_does_not_touch_a_customer_its_company_may_not_see(
    system: System, tenant: Tenant
):
    """With the other companies' customers hidden, a row that finds one of them fails
    instead of updating it (or telling more about it)."""
    system.settings_change(
        tenant, "PUT", "/multi-company", {"see_other_companies_customers": False}
    )
    company_b = {
        **system.headers(tenant, companies=[tenant.companies[1]], name="Bertta Admin"),
        "Settings-Position": system.position,
    }
    hidden = system.http.post(
        "/api/v1/customers",
        json={"name": "Salainen B Oy", "business_id": "2345678-0", "number": "9000"},
        headers=company_b,
    )
    assert hidden.status_code == 201, hidden.text
    # Nor does a row below it (by its number) find it: to this company there is no such.
    # The check finds it so, and so does a dry run.
    below = "Nimi;Pääyksikön asiakasnumero\r\nAlayksikkö Oy;9000\r\n".encode()
    for dry_run in (True, False):
        job = finished(
            system,
            tenant,
            upload(system, tenant, "c.csv", below, skip_errors=True, dry_run=dry_run).json()["id"],
        )
        assert (job["created"], job["failed"]) == (0, 1), job
        assert errors_by_cell(system, tenant, job) == {
            (2, "Pääyksikön asiakasnumero"): "no customer has this number, in the file or the "
            "register"
        }
    text = b"Nimi;Y-tunnus;Asiakasnumero\r\nYlikirjoitettu Oy;2345678-0;\r\nToinen Oy;;9000\r\n"
    for options in ({"update_existing": True}, {}, {"dry_run": True}):
        job = finished(
            system,
            tenant,
            upload(
                system, tenant, "b.csv", text, skip_errors=True, **{"dry_run": False, **options}
            ).json()["id"],
        )
        assert (job["updated"], job["skipped"], job["failed"]) == (0, 0, 2), job
        messages = errors_by_cell(system, tenant, job)
        assert set(messages) == {(2, "Y-tunnus"), (3, "Asiakasnumero")}, messages
        for message in messages.values():
            assert "may not see" in message and "Salainen" not in message
    after = system.http.get(f"/api/v1/customers/{hidden.json()['id']}", headers=company_b).json()
    assert after["name"] == "Salainen B Oy"
    assert [r["company_id"] for r in after["relationships"]] == [tenant.companies[1]]


def test_the_companies_of_a_customer_are_known_from_its_creation_or_not_at_all(
    system: System, tenant: Tenant
):
    """A relationship set for a customer registered before the importer kept its companies
    is not all of them: it is not noted, so the check leaves the customer to the customers
    service instead of taking it for hidden."""
    importer = system.http.app.state.importer_app  # type: ignore[attr-defined]
    t = importer.tables
    old, new = str(uuid.uuid4()), str(uuid.uuid4())
    register = t.name("import_register")
    with t.transaction() as cursor:
        for customer, number, companies in ((old, "k-1", None), (new, "k-2", "company-a")):
            t.execute(
                cursor,
                f"INSERT INTO {register} (customer_id, tenant_id, number_key, companies) "
                "VALUES (?, ?, ?, ?)",
                (customer, tenant.id, number, companies),
            )
        for customer in (old, new):
            importer._relationship_set(cursor, customer, "company-c")
            importer._relationship_set(cursor, customer, "company-c")  # delivered again
    owners = importer._owners(tenant.id, "number_key", ["k-1", "k-2"])
    assert owners == {"k-1": (old, "k-1", None), "k-2": (new, "k-2", "company-a,company-c")}


def test_an_importer_upgraded_keeps_its_register_and_adds_the_companies_to_it(store: Any):
    """A register kept before the companies and the links were gets the columns, its
    customers none known."""
    from services.importer.bootstrap import build_application

    app, _ = build_application(store)
    t = app.tables
    with t.transaction() as cursor:  # the register as an earlier importer kept it
        t.execute(cursor, f"DROP TABLE {t.name('import_register')}")
        t.execute(
            cursor,
            f"CREATE TABLE {t.name('import_register')} (customer_id TEXT PRIMARY KEY, "
            "tenant_id TEXT NOT NULL, number_key TEXT NOT NULL, business_id TEXT)",
        )
        t.execute(
            cursor,
            f"INSERT INTO {t.name('import_register')} VALUES (?, ?, ?, ?)",
            ("c1", "t1", "100", None),
        )
    app.close()
    upgraded, _ = build_application(store)
    try:
        assert upgraded._owners("t1", "number_key", ["100"]) == {"100": ("c1", "100", None)}
        assert upgraded._links("t1", {"c1"}) == {}
        build_application(store)[0].close()  # and again: the column is there already
    finally:
        upgraded.close()


def test_an_importer_upgraded_keeps_its_batch_outcomes_and_counts_unchanged_rows_apart(
    store: Any,
):
    """Outcomes kept before unchanged rows were told apart get the column and read as they
    were counted (an update as updated); those recorded since count them apart."""
    from services.importer.application import BatchContext
    from services.importer.bootstrap import build_application

    app, _ = build_application(store)
    t = app.tables
    old_job, new_job = uuid.uuid4(), uuid.uuid4()
    with t.transaction() as cursor:  # the outcomes as an earlier importer kept them
        t.execute(cursor, f"DROP TABLE {t.name('import_batch_done')}")
        t.execute(
            cursor,
            f"CREATE TABLE {t.name('import_batch_done')} (job_id TEXT NOT NULL, "
            "batch BIGINT NOT NULL, created BIGINT NOT NULL, updated BIGINT NOT NULL, "
            "skipped BIGINT NOT NULL, failed BIGINT NOT NULL, PRIMARY KEY (job_id, batch))",
        )
        t.execute(
            cursor,
            f"INSERT INTO {t.name('import_batch_done')} VALUES (?, ?, ?, ?, ?, ?)",
            (str(old_job), 1, 1, 3, 0, 1),
        )
    app.close()
    upgraded, _ = build_application(store)
    try:
        assert upgraded.executed(old_job) == (
            1,
            {"created": 1, "updated": 3, "unchanged": 0, "skipped": 0, "failed": 1},
        )
        found = [str(uuid.uuid4()) for _ in range(2)]
        outcomes = [
            {"row": 2, "outcome": "updated", "customer_id": found[0]},
            {"row": 3, "outcome": "updated", "customer_id": found[1], "changed": False},
        ]
        with upgraded.tables.transaction() as cursor:
            upgraded._record_batch(
                cursor,
                {"job_id": str(new_job), "batch": 1, "outcomes": outcomes},
                BatchContext({}, {}),
            )
        assert upgraded.executed(new_job) == (
            1,
            {"created": 0, "updated": 1, "unchanged": 1, "skipped": 0, "failed": 0},
        )
        build_application(store)[0].close()  # and again: the column is there already
    finally:
        upgraded.close()


def test_a_tenants_imports_are_listed_newest_first(system: System, tenant: Tenant):
    first = upload(system, tenant, "eka.csv", b"Nimi\r\nA Oy\r\n").json()
    second = upload(system, tenant, "toka.csv", b"Nimi\r\nB Oy\r\n").json()
    for job in (first, second):
        finished(system, tenant, job["id"])
    listed = system.http.get(IMPORTS, headers=system.admin(tenant)).json()
    assert [j["filename"] for j in listed["items"]] == ["toka.csv", "eka.csv"]
    assert (listed["total"], listed["next_offset"]) == (2, None)
    assert listed["items"][0]["status"] == "completed"
    page = system.http.get(f"{IMPORTS}?limit=1&offset=1", headers=system.admin(tenant)).json()
    assert ([j["id"] for j in page["items"]], page["next_offset"]) == ([first["id"]], None)
    # Imports stored before their upload time was noted are listed too (from the next
    # start of the importer on).
    importer = system.http.app.state.importer_app  # type: ignore[attr-defined]
    with importer.tables.transaction() as cursor:
        importer.tables.execute(
            cursor, f"DELETE FROM {importer.tables.name('import_job_uploaded')}"
        )
    importer._note_uploads()  # as at start-up
    again = system.http.get(IMPORTS, headers=system.admin(tenant)).json()
    assert [j["id"] for j in again["items"]] == [second["id"], first["id"]]
    # Another tenant's admin sees none of them; a user who is not an admin none at all.
    other = system.create_tenant("Muu Oy")
    assert system.http.get(IMPORTS, headers=system.admin(other)).json()["total"] == 0
    user = system.headers(tenant, roles=("user",))
    assert system.http.get(IMPORTS, headers=user).status_code == 403


def test_each_error_found_when_a_row_is_executed_is_reported_in_its_own_column(
    system: System, tenant: Tenant, monkeypatch
):
    """A row the customers service finds wrong in several ways (the settings changed after
    the file was checked, say): each error is its own line of the report, under its column."""
    from services.customers.application import CustomersApplication

    execute = CustomersApplication.execute_import_batch

    def changed_meanwhile(self: Any, tenant_id: str, actor: Any, batch: Any) -> Any:
        for row in batch["rows"]:
            if row["row"] == 3:
                row["customer"] = {**row["customer"], "name": "", "business_id": "123"}
        return execute(self, tenant_id, actor, batch)

    monkeypatch.setattr(CustomersApplication, "execute_import_batch", changed_meanwhile)
    data = "Nimi;Y-tunnus\r\nHyvä Oy;\r\nMuuttunut Oy;\r\n".encode()
    job = imported(system, tenant, "muuttui.csv", data, skip_errors=True)
    assert (job["created"], job["failed"]) == (1, 1), job
    errors = system.http.get(f"{IMPORTS}/{job['id']}/errors", headers=system.admin(tenant))
    found = sorted((e["row"], e["column"]) for e in errors.json()["items"])
    assert found == [(3, "Nimi"), (3, "Y-tunnus")]


def test_a_row_whose_number_is_a_customer_with_another_business_id_fails(
    system: System, tenant: Tenant, monkeypatch
):
    """Two companies' registers merged: a row with one business id and the number of a
    customer with another is not that customer. It fails, in a dry run, without and with
    update_existing, and the customer keeps its name and business id; a customer with no
    business id is updated by its number and gets the row's."""
    register = (
        "Nimi;Y-tunnus;Asiakasnumero\r\nÄijälä Oy;0737546-2;1001\r\nNimetön Oy;;1002\r\n"
    ).encode("cp1252")
    assert imported(system, tenant, "rekisteri.csv", register)["created"] == 2
    text = "Nimi;Y-tunnus;Asiakasnumero\r\nUusi Oy;1572860-0;1001\r\nNimetön Oy;2345678-0;1002\r\n"
    message = "the number 1001 is another customer's, whose business ID is 0737546-2"
    for options in ({"dry_run": True}, {}, {"update_existing": True}):
        job = finished(
            system,
            tenant,
            upload(
                system,
                tenant,
                "u.csv",
                text.encode(),
                skip_errors=True,
                **{"dry_run": False, **options},
            ).json()["id"],
        )
        assert job["failed"] == 1, (options, job)
        assert errors_by_cell(system, tenant, job)[(2, "Asiakasnumero")] == message
    found = customers_of(system, tenant)
    assert found["Äijälä Oy"]["business_id"] == "0737546-2"
    assert "Uusi Oy" not in found
    assert found["Nimetön Oy"]["business_id"] == "2345678-0"

    # The customers service refuses it too, should the importer's register not know the
    # business id yet.
    from services.importer.application import ImporterApplication

    monkeypatch.setattr(ImporterApplication, "_business_ids", lambda self, tenant_id, ids: {})
    job = imported(system, tenant, "u2.csv", text.encode(), update_existing=True, skip_errors=True)
    # (The row that updates its customer finds it as the first import left it.)
    assert (job["unchanged"], job["failed"]) == (1, 1), job
    assert errors_by_cell(system, tenant, job) == {(2, "Asiakasnumero"): message}
    assert customers_of(system, tenant)["Äijälä Oy"]["business_id"] == "0737546-2"


def test_an_update_that_would_make_a_loop_of_parents_with_the_register_fails(
    system: System, tenant: Tenant
):
    """A parent that is the customer itself or below it is refused, as a change through the
    API is (found when the file is checked; the customers service refuses it too)."""
    register = (
        "Nimi;Asiakasnumero;Pääyksikön asiakasnumero\r\n"
        "Pää Oy;1004;\r\nAla Oy;1003;1004\r\nAlempi Oy;1005;1003\r\n"
    ).encode("cp1252")
    assert imported(system, tenant, "rekisteri.csv", register)["created"] == 3
    for text, created in (
        ("Nimi;Asiakasnumero;Pääyksikön asiakasnumero\r\n;1004;1003\r\n", 0),  # each other's
        ("Nimi;Asiakasnumero;Pääyksikön asiakasnumero\r\n;1004;1005\r\n", 0),  # below its own
        # below a customer the same file creates under its sub-unit
        ("Nimi;Asiakasnumero;Pääyksikön asiakasnumero\r\nUusi Oy;1006;1005\r\n;1004;1006\r\n", 1),
    ):
        job = imported(
            system, tenant, "u.csv", text.encode(), update_existing=True, skip_errors=True
        )
        assert (job["created"], job["updated"], job["failed"]) == (created, 0, 1), job
        assert list(errors_by_cell(system, tenant, job).values()) == [
            "would make the customer its own parent"
        ]
    found = customers_of(system, tenant)
    ids = {name: c["id"] for name, c in found.items()}
    assert found["Pää Oy"]["parent_id"] is None
    assert found["Ala Oy"]["parent_id"] == ids["Pää Oy"]
    assert found["Alempi Oy"]["parent_id"] == ids["Ala Oy"]


def test_a_loop_of_parents_through_the_register_is_found_when_the_file_is_checked(
    system: System, tenant: Tenant
):
    """A dry run reports an update whose parent is below the customer in the register, and
    without skip_errors such a row stops the import before anything is created. The links
    the check follows are the register's as they are now: changed through the API too."""
    header = "Nimi;Asiakasnumero;Pääyksikön asiakasnumero\r\n"
    register = f"{header}Pää Oy;1004;\r\nAla Oy;1003;1004\r\nAlempi Oy;1005;1003\r\n"
    assert imported(system, tenant, "rekisteri.csv", register.encode())["created"] == 3
    loops = {
        f"{header};1004;1003\r\n": 2,  # each other's parents
        f"{header};1004;1005\r\n": 2,  # below its own sub-unit
        f"{header}Uusi Oy;1006;1005\r\n;1004;1006\r\n": 3,  # below a row the file creates
        # a link a row of the file replaces still counts: that row may be executed later
        f"{header}Uusi Oy;1006;\r\n;1003;1006\r\n;1004;1005\r\n": 4,
    }
    for text, row in loops.items():
        dry = finished(
            system,
            tenant,
            upload(system, tenant, "u.csv", text.encode(), update_existing=True).json()["id"],
        )
        assert (dry["status"], dry["failed"]) == ("completed_with_errors", 1), (text, dry)
        errors = errors_by_cell(system, tenant, dry)  # and what the others would do
        assert {cell: m for cell, m in errors.items() if "would be updated" not in m} == {
            (row, "Pääyksikön asiakasnumero"): "would make the customer its own parent"
        }, text
    text = f"{header}Uusi Oy;1006;1005\r\n;1004;1006\r\n"
    job = imported(system, tenant, "u.csv", text.encode(), update_existing=True)
    assert (job["status"], job["created"], job["updated"]) == ("failed", 0, 0), job
    assert sorted(customers_of(system, tenant)) == ["Ala Oy", "Alempi Oy", "Pää Oy"]
    # Ala Oy unlinked through the API: Pää Oy may go under Alempi Oy.
    ala = customers_of(system, tenant)["Ala Oy"]
    unlinked = system.http.patch(
        f"/api/v1/customers/{ala['id']}",
        json={"parent_id": None},
        headers=system.after_settings(system.admin(tenant)),
    )
    assert unlinked.status_code == 200, unlinked.text
    moved = f"{header};1004;1005\r\n"

    def checked_fine() -> bool:
        response = upload(system, tenant, "u.csv", moved.encode(), update_existing=True)
        return bool(finished(system, tenant, response.json()["id"])["failed"] == 0)

    wait_until(checked_fine)
    job = imported(system, tenant, "u.csv", moved.encode(), update_existing=True)
    assert (job["status"], job["updated"]) == ("completed", 1), job
    found = customers_of(system, tenant)
    assert found["Pää Oy"]["parent_id"] == found["Alempi Oy"]["id"]


def test_links_of_rows_not_imported_make_no_loop_through_the_register(
    system: System, tenant: Tenant
):
    """Only the links of rows that are imported count: not those of rows that fail (a loop of
    the file's own rows), nor of a row the check refuses for a loop through the register. Of
    rows that make a loop together, the later one is refused. The rows let through are
    updated by the customers service without complaint."""
    header = "Nimi;Asiakasnumero;Pääyksikön asiakasnumero\r\n"
    register = f"{header}A Oy;1001;\r\nD Oy;1003;\r\nB Oy;1002;1003\r\nE Oy;1005;1001\r\n"
    assert imported(system, tenant, "r.csv", register.encode())["created"] == 4
    # Rows 2 and 3 are a loop of their own; row 4 (D below E, E below A) would be a loop
    # only through their links.
    text = f"{header};1001;1002\r\n;1002;1001\r\n;1003;1005\r\n"
    job = imported(system, tenant, "u.csv", text.encode(), update_existing=True, skip_errors=True)
    assert (job["updated"], job["failed"]) == (1, 2), job
    assert (4, "Pääyksikön asiakasnumero") not in errors_by_cell(system, tenant, job)
    found = customers_of(system, tenant)
    assert found["D Oy"]["parent_id"] == found["E Oy"]["id"]

    def preview(text: str) -> dict[Any, str]:
        response = upload(system, tenant, "u.csv", text.encode(), update_existing=True)
        errors = errors_by_cell(system, tenant, finished(system, tenant, response.json()["id"]))
        return {cell: message for cell, message in errors.items() if "parent" in message}

    # Found by their business ids, the rows give no numbers: their parents are customers of
    # the register. Row 2 (G below H, which is below G) is a loop through the register; rows
    # 3 (I below G) and 4 (H below I) would close one only with row 2's link.
    keys = "Nimi;Y-tunnus;Asiakasnumero;Pääyksikön asiakasnumero\r\n"
    register = (
        f"{keys}G Oy;0737546-2;2001;\r\nH Oy;1572860-0;2002;2001\r\nI Oy;2345678-0;2003;\r\n"
        "J Oy;7654321-2;2004;\r\nK Oy;2222222-9;2005;\r\n"
    )
    assert imported(system, tenant, "r.csv", register.encode())["created"] == 5
    head = "Y-tunnus;Pääyksikön asiakasnumero\r\n"
    rows = f"{head}0737546-2;2002\r\n2345678-0;2001\r\n1572860-0;2003\r\n"
    loop = "would make the customer its own parent"
    assert preview(rows) == {(2, "Pääyksikön asiakasnumero"): loop}
    job = imported(system, tenant, "u.csv", rows.encode(), update_existing=True, skip_errors=True)
    assert (job["updated"], job["failed"]) == (2, 1), job
    found = customers_of(system, tenant)
    assert found["I Oy"]["parent_id"] == found["G Oy"]["id"]
    assert found["H Oy"]["parent_id"] == found["I Oy"]["id"]

    # Rows 2 (J below K) and 3 (K below J) make a loop together: the later is refused.
    rows = f"{head}7654321-2;2005\r\n2222222-9;2004\r\n"
    assert preview(rows) == {(3, "Pääyksikön asiakasnumero"): loop}
    job = imported(system, tenant, "u.csv", rows.encode(), update_existing=True, skip_errors=True)
    assert (job["updated"], job["failed"]) == (1, 1), job
    found = customers_of(system, tenant)
    assert found["J Oy"]["parent_id"] == found["K Oy"]["id"]


def test_a_value_in_a_column_without_a_header_is_an_error_of_its_row(
    system: System, tenant: Tenant
):
    """A column left without a header (or under a header merged over two columns) is not
    a column of the import: its values are not dropped unseen."""
    data = b"Nimi,Y-tunnus,,Katuosoite\r\nA Oy,,orpo arvo,Katu 1\r\nB Oy,,,Katu 2\r\n"
    job = imported(system, tenant, "tyhja.csv", data, skip_errors=True)
    assert (job["created"], job["failed"]) == (1, 1), job
    assert errors_by_cell(system, tenant, job) == {
        (2, "C"): "the column has no header, so its value is not imported: give the column a "
        "header, or leave the value out"
    }
    assert set(customers_of(system, tenant)) == {"B Oy"}


def test_a_formula_without_a_computed_value_is_an_error_of_its_cell(system: System, tenant: Tenant):
    """A workbook written by a program, not saved by a spreadsheet program, has formulas
    without values: their cells are not taken as empty (the row would get an automatic
    number, say) but reported."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Nimi", "Asiakasnumero"])
    sheet.append(["Kaava Oy", "=1000+6"])
    sheet.append(["Arvo Oy", 7001])
    sheet.append([None, "=1/0"])  # a row of nothing else is not a blank line either
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = imported(system, tenant, "kaavat.xlsx", buffer.getvalue(), skip_errors=True)
    assert (job["created"], job["failed"]) == (1, 2), job
    message = (
        "the cell's formula has no computed value (the workbook was not saved by a spreadsheet "
        "program): save it in one, or give the value"
    )
    found = errors_by_cell(system, tenant, job)
    assert found[(2, "Asiakasnumero")] == found[(4, "Asiakasnumero")] == message, found
    assert set(found) == {(2, "Asiakasnumero"), (4, "Asiakasnumero"), (4, "Nimi")}, found
    assert [c["number"] for c in customers_of(system, tenant).values()] == ["7001"]


def test_an_exported_register_imports_back_unchanged_but_for_what_was_edited(
    system: System, tenant: Tenant
):
    """The customer export writes the import's columns and values (kind, the parent's number,
    an additional field named like a standard column, values neutralised against formulas),
    so an admin can export, edit in a spreadsheet and import with update_existing."""
    team = system.settings_change(tenant, "POST", "/fields", {"name": "Tiimi", "type": "text"})
    since = system.settings_change(
        tenant, "POST", "/fields", {"name": "Asiakkuus alkaen", "type": "date"}
    )
    system.settings_change(tenant, "POST", "/groups", {"name": "Avainasiakkaat"})
    first = (
        "Nimi;Asiakasnumero;Laji;Y-tunnus;Pääyksikön asiakasnumero;Postitoimipaikka;"
        "Asiakasryhmä;Tiimi;Tiimi (lisätieto);Tunnisteet;Asiakkuus alkaen\r\n"
        "Emo Oy;10;yritys;0737546-2;;Jyväskylä;Avainasiakkaat;Myynti;Sininen;+vip|avain;"
        "1.3.2025\r\n"
        "Tytär Oy;11;alihankkija;;10;Tampere;;;;-;\r\n"
    )
    created = imported(system, tenant, "alku.csv", first.encode())
    assert (created["status"], created["created"]) == ("completed", 2), created
    before = customers_of(system, tenant)
    assert before["Emo Oy"]["fields"][team["id"]] == "Sininen"
    assert before["Emo Oy"]["relationships"][0]["tags"] == ["+vip", "avain"]

    headers = system.after_settings(system.admin(tenant))
    exported = system.http.get(
        "/api/v1/reports/customers/export", params={"format": "csv"}, headers=headers
    )
    assert exported.status_code == 200, exported.text
    text = exported.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header = rows[0]
    assert "Laji" in header and "Pääyksikön asiakasnumero" in header
    assert "Tiimi" in header and "Tiimi (lisätieto)" in header
    by_name = {row[header.index("Nimi")]: row for row in rows[1:]}
    assert by_name["Tytär Oy"][header.index("Laji")] == "alihankkija"
    assert by_name["Tytär Oy"][header.index("Pääyksikön asiakasnumero")] == "10"
    assert by_name["Emo Oy"][header.index("Tunnisteet")] == "'+vip; avain"  # no formula

    # Edited in a spreadsheet: one city changed. The import takes every column.
    edited = text.replace("Tampere", "Turku").encode("utf-8-sig")
    job = imported(system, tenant, "vienti.csv", edited, update_existing=True)
    assert (job["status"], job["updated"], job["unchanged"], job["created"], job["failed"]) == (
        "completed",
        1,  # the edited row
        1,  # the other found every value as it was
        0,
        0,
    ), job
    assert job["unknown_columns"] == []
    after = customers_of(system, tenant)

    def essentials(customer: dict[str, Any]) -> Any:
        (relationship,) = customer["relationships"]
        return (
            customer["id"],
            customer["number"],
            customer["kind"],
            customer.get("business_id"),
            customer.get("parent_id"),
            customer["address"],
            customer["fields"],
            {k: relationship.get(k) for k in ("type_id", "group_id", "team", "tags")},
        )

    assert essentials(after["Emo Oy"]) == essentials(before["Emo Oy"])
    assert after["Tytär Oy"]["address"]["city"] == "Turku"
    before["Tytär Oy"]["address"]["city"] = "Turku"
    assert essentials(after["Tytär Oy"]) == essentials(before["Tytär Oy"])
    assert after["Emo Oy"]["fields"][since["id"]] == "2025-03-01"

    # The XLSX export has the same columns and imports back as well.
    workbook = system.http.get(
        "/api/v1/reports/customers/export", params={"format": "xlsx"}, headers=headers
    )
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    assert [cell.value for cell in sheet[1]] == header
    again = imported(system, tenant, "vienti.xlsx", workbook.content, update_existing=True)
    assert (again["status"], again["unchanged"], again["failed"]) == ("completed", 2, 0), again
    assert {name: essentials(c) for name, c in customers_of(system, tenant).items()} == {
        name: essentials(c) for name, c in after.items()
    }


def test_rows_without_a_business_id_or_number_are_not_created_twice(system: System, tenant: Tenant):
    """Imported again (after a failed row was mended, say), a row without a business id or
    number that an earlier import created is known by its values: skipped, not created a
    second time. Two such rows with the same values in one file are one customer."""
    text = (
        "Nimi;Katuosoite;Postitoimipaikka;Y-tunnus\r\n"
        "Matti Virtanen;Kotikatu 1;Tampere;\r\n"  # 2
        "Liisa Laine;;Turku;\r\n"  # 3
        "Rikki Oy;;;1234567-8\r\n"  # 4: the business id's checksum is wrong
        "Matti Virtanen;Kotikatu 1;Tampere;\r\n"  # 5: the same values as row 2
        "Matti Virtanen;Kotikatu 2;Tampere;\r\n"  # 6: another Matti
    )
    first = imported(system, tenant, "kuluttajat.csv", text.encode(), skip_errors=True)
    assert (first["created"], first["failed"]) == (3, 2), first
    errors = system.http.get(f"{IMPORTS}/{first['id']}/errors", headers=system.admin(tenant))
    messages = {(e["row"], e["column"]): e["message"] for e in errors.json()["items"]}
    assert set(messages) == {(4, "Y-tunnus"), (5, "Nimi")}
    assert messages[(5, "Nimi")].startswith("the same values as row 2")
    assert sorted(customers_of_all(system, tenant)) == [
        "Liisa Laine",
        "Matti Virtanen",
        "Matti Virtanen",
    ]

    # The settings changed meanwhile (a new default type): a row is known by what its cells
    # say, not by what the settings make of them.
    system.settings_change(tenant, "POST", "/types", {"name": "Uusi", "default_customer": True})
    # The failed row mended, the whole file again: only that row is created, and a dry run
    # says so first.
    mended = text.replace("1234567-8", "0737546-2").replace(
        "Matti Virtanen;Kotikatu 1;Tampere;\r\n", "", 1
    )
    preview = finished(
        system, tenant, upload(system, tenant, "kuluttajat.csv", mended.encode()).json()["id"]
    )
    assert (preview["created"], preview["skipped"], preview["failed"]) == (1, 3, 0), preview
    notes = system.http.get(f"{IMPORTS}/{preview['id']}/errors", headers=system.admin(tenant))
    assert {(e["row"], e["column"]) for e in notes.json()["items"]} == {
        (2, "Nimi"),
        (4, "Nimi"),
        (5, "Nimi"),
    }
    assert all("imported before, as customer" in e["message"] for e in notes.json()["items"])
    again = imported(system, tenant, "kuluttajat.csv", mended.encode())
    assert (again["status"], again["created"], again["skipped"], again["failed"]) == (
        "completed_with_errors",
        1,
        3,
        0,
    ), again
    skips = system.http.get(f"{IMPORTS}/{again['id']}/errors", headers=system.admin(tenant))
    assert {(e["row"], e["column"]) for e in skips.json()["items"]} == {
        (2, "Nimi"),
        (4, "Nimi"),
        (5, "Nimi"),
    }
    assert all("imported before, as customer" in e["message"] for e in skips.json()["items"])
    assert sorted(customers_of_all(system, tenant)) == [
        "Liisa Laine",
        "Matti Virtanen",
        "Matti Virtanen",
        "Rikki Oy",
    ]
    # With update_existing: the row with a business id finds its customer (as it is: nothing
    # to change); the others have nothing to find a customer by but their values, and are
    # skipped.
    updating = imported(system, tenant, "kuluttajat.csv", mended.encode(), update_existing=True)
    counts = ("created", "updated", "unchanged", "skipped")
    assert tuple(updating[key] for key in counts) == (0, 0, 1, 3), updating
    assert len(customers_of_all(system, tenant)) == 4


def test_a_dry_run_notes_a_row_without_keys_that_would_create_a_namesake(
    system: System, tenant: Tenant
):
    """A row without a business id or number is known by its values: edited since it was
    imported, it would create a second customer. A dry run says so, naming the customer of
    that name (in Finnish too); given that customer's number, the row updates it."""
    header = "Nimi;Katuosoite;Postitoimipaikka\r\n"
    text = f"{header}Matti Virtanen;Kotikatu 1;Tampere\r\nLiisa Laine;;Turku\r\n"
    assert imported(system, tenant, "kuluttajat.csv", text.encode())["created"] == 2
    numbers = {name: c["number"] for name, c in customers_of(system, tenant).items()}
    edited = text.replace("Tampere", "Turku") + "Pekka Puu;;Oulu\r\n"

    def preview(body: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        response = upload(system, tenant, "kuluttajat.csv", body.encode(), update_existing=True)
        job = finished(system, tenant, response.json()["id"])
        notes = system.http.get(f"{IMPORTS}/{job['id']}/errors", headers=system.admin(tenant))
        return job, notes.json()["items"]

    job, notes = preview(edited)
    assert (job["created"], job["skipped"], job["failed"]) == (2, 1, 0), job  # would be
    by_row = {(n["row"], n["column"]): n for n in notes}
    assert set(by_row) == {(2, "Nimi"), (3, "Nimi")}  # not the new Pekka Puu
    matti = by_row[(2, "Nimi")]
    assert matti["message"] == (
        f"a customer named Matti Virtanen exists already (number {numbers['Matti Virtanen']}): "
        "this row would create another one; if it is that customer, give its number in the row"
    )
    assert matti["message_fi"].startswith("asiakas nimeltä Matti Virtanen on jo olemassa")
    assert by_row[(3, "Nimi")]["message"].startswith("the same row (every value the same)")

    # Given the customer's number, the row finds it: no note of a namesake.
    numbered = "Nimi;Katuosoite;Postitoimipaikka;Asiakasnumero\r\n" + (
        f"Matti Virtanen;Kotikatu 1;Turku;{numbers['Matti Virtanen']}\r\n"
    )
    job, notes = preview(numbered)
    assert (job["created"], job["updated"]) == (0, 1), job
    assert [n["message"] for n in notes] == [
        "a customer with this number exists already: it would be updated"
    ]

    # A name changed through the API is the register's too.
    liisa = customers_of(system, tenant)["Liisa Laine"]
    renamed = system.http.patch(
        f"/api/v1/customers/{liisa['id']}",
        json={"name": "Liisa  virtanen"},
        headers=system.after_settings(system.admin(tenant)),
    )
    assert renamed.status_code == 200, renamed.text

    def noted() -> bool:
        _, notes = preview(f"{header}LIISA VIRTANEN;;Oulu\r\n")
        return any(n["message"].startswith("a customer named LIISA VIRTANEN") for n in notes)

    wait_until(noted)
    # A note to read: the dry run ends with them (and `psa import` writes the report).
    alone, _ = preview(f"{header}LIISA VIRTANEN;;Oulu\r\n")
    assert (alone["status"], alone["created"]) == ("completed_with_errors", 1), alone


def test_a_namesake_note_names_a_few_customers_the_company_may_see(system: System, tenant: Tenant):
    """Names are compared with case and spacing aside; another company's customer that this
    company may not see is no namesake to it; of many namesakes the note names five."""
    system.settings_change(
        tenant, "PUT", "/multi-company", {"see_other_companies_customers": False}
    )
    company_b = {
        **system.headers(tenant, companies=[tenant.companies[1]], name="Bertta Admin"),
        "Settings-Position": system.position,
    }
    hidden = system.create(company_b, {"name": "Salainen Sukunimi"})
    assert hidden.status_code == 201, hidden.text
    many = "Nimi;Postitoimipaikka\r\n" + "".join(
        f"Matti Virtanen;Kaupunki {n}\r\n" for n in range(8)
    )
    assert imported(system, tenant, "m.csv", many.encode())["created"] == 8
    numbers = sorted(
        c["number"] for c in customers_of_all_items(system, tenant) if c["name"] == "Matti Virtanen"
    )
    text = "Nimi;Postitoimipaikka\r\n  matti \t VIRTANEN ;Turku\r\nSalainen Sukunimi;Oulu\r\n"
    job = finished(system, tenant, upload(system, tenant, "k.csv", text.encode()).json()["id"])
    notes = errors_by_cell(system, tenant, job)
    assert list(notes) == [(2, "Nimi")], notes  # not the other company's customer
    assert notes[(2, "Nimi")] == (
        f"customers named matti VIRTANEN exist already (numbers {', '.join(numbers[:5])}, "
        "…): this row would create another one; if it is one of them, give its number in the row"
    )


def customers_of_all_items(system: System, tenant: Tenant) -> list[dict[str, Any]]:
    response = system.http.get("/api/v1/customers?limit=500", headers=system.admin(tenant))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_an_export_with_archived_items_and_look_alike_names_imports_back_unchanged(
    system: System, tenant: Tenant
):
    """What the export writes and the import reads back as it was: archived types, groups
    and options a customer has, an option whose name has the separator in it, a user whose
    name another user has, a name that starts with an apostrophe; and a customer of another
    company, which the round trip gives no relationship with the exporting company."""
    system.settings_change(tenant, "PUT", "/multi-company", {"see_other_companies_customers": True})
    sectors = system.settings_change(
        tenant,
        "POST",
        "/fields",
        {"name": "Toimialat", "type": "multiselect", "options": ["Rakentaminen; talo", "Kauppa"]},
    )
    size = system.settings_change(
        tenant, "POST", "/fields", {"name": "Koko", "type": "dropdown", "options": ["S", "L"]}
    )
    group = system.settings_change(tenant, "POST", "/groups", {"name": "Vanhat"})
    kind = system.settings_change(tenant, "POST", "/types", {"name": "Poistuva"})
    for user in ("matti1", "matti2"):
        response = system.http.post(
            f"/api/v1/tenants/{tenant.id}/users",
            json={"id": user, "name": "Matti Virtanen", "company_id": tenant.companies[0]},
            headers=system.admin(tenant),
        )
        assert response.status_code == 201, response.text
        system.position = response.headers["Settings-Position"]
    headers = system.after_settings(system.admin(tenant))
    ours = system.create(
        headers,
        {
            "name": "'Hipsu Oy",
            "relationship": {
                "type_id": kind["id"],
                "group_id": group["id"],
                "account_manager_id": "matti2",
                "tags": ["'+358"],
            },
            "fields": {sectors["id"]: ["Rakentaminen; talo", "Kauppa"], size["id"]: "L"},
        },
    )
    assert ours.status_code == 201, ours.text
    company_b = system.after_settings(
        system.headers(tenant, companies=[tenant.companies[1]], name="Bertta Admin")
    )
    theirs = system.create(company_b, {"name": "Bertan Oy"})
    assert theirs.status_code == 201, theirs.text
    # Archived since: the type, the group, the option L.
    system.settings_change(tenant, "DELETE", f"/types/{kind['id']}", None)
    system.settings_change(tenant, "DELETE", f"/groups/{group['id']}", None)
    (small, _) = size["options"]
    system.settings_change(
        tenant,
        "PUT",
        f"/fields/{size['id']}/options",
        {"options": [{"id": small["id"], "name": "S"}]},
    )
    before = {c["name"]: c for c in customers_of(system, tenant).values()}

    exported = system.http.get(
        "/api/v1/reports/customers/export",
        params={"format": "csv"},
        headers=system.after_settings(system.admin(tenant)),
    )
    assert exported.status_code == 200, exported.text
    text = exported.content.decode("utf-8-sig")
    assert "matti2" in text and "''Hipsu Oy" in text
    job = imported(system, tenant, "vienti.csv", text.encode(), update_existing=True)
    assert (job["status"], job["unchanged"], job["updated"], job["failed"]) == (
        "completed",
        2,
        0,
        0,
    ), job
    after = {c["name"]: c for c in customers_of(system, tenant).values()}
    assert set(after) == {"'Hipsu Oy", "Bertan Oy"}
    for name in after:
        assert after[name]["relationships"] == before[name]["relationships"], name
        assert after[name]["fields"] == before[name]["fields"], name
    assert [r["company_id"] for r in after["Bertan Oy"]["relationships"]] == [tenant.companies[1]]
    # An archived option the customer does not have is refused when the row is executed.
    number = after["Bertan Oy"]["number"]
    refused = imported(
        system,
        tenant,
        "koko.csv",
        f"Asiakasnumero;Koko\r\n{number};L\r\n".encode(),
        update_existing=True,
    )
    assert (refused["updated"], refused["failed"]) == (0, 1), refused
    errors = system.http.get(f"{IMPORTS}/{refused['id']}/errors", headers=system.admin(tenant))
    (error,) = errors.json()["items"]
    assert (error["column"], error["message"]) == ("Koko", "Koko: the option 'L' is archived")


def test_a_file_with_sub_units_imported_again_whole_creates_only_its_new_rows(
    system: System, tenant: Tenant
):
    """A parent row skipped because its customer exists (with the number the row gives) does
    not fail the rows below it: they find that customer in the register by its number."""
    text = (
        "Nimi;Y-tunnus;Asiakasnumero;Pääyksikön asiakasnumero\r\n"
        "Emo Oy;0737546-2;500;\r\n"  # 2
        "Emo Oy, Tampere;;;500\r\n"  # 3
        "Toinen Emo Oy;2336509-6;;\r\n"  # 4: numbered automatically
    )
    first = imported(system, tenant, "emot.csv", text.encode())
    assert (first["status"], first["created"]) == ("completed", 3), first
    again = text + "Emo Oy, Turku;;;500\r\n"  # 5: a new sub-unit
    preview = finished(
        system, tenant, upload(system, tenant, "emot.csv", again.encode()).json()["id"]
    )
    assert (preview["created"], preview["skipped"], preview["failed"]) == (1, 3, 0), preview
    job = imported(system, tenant, "emot.csv", again.encode())
    assert (job["created"], job["skipped"], job["failed"]) == (1, 3, 0), job
    found = customers_of(system, tenant)
    assert found["Emo Oy, Turku"]["parent_id"] == found["Emo Oy"]["id"]
    assert len(customers_of_all(system, tenant)) == 4


def test_another_companys_update_import_keeps_the_first_companys_parent_link(
    system: System, tenant: Tenant
):
    """Without a shared company structure each company's link to a parent is its own: an
    update import of company B that links a customer elsewhere leaves company A's link."""
    system.settings_change(
        tenant,
        "PUT",
        "/multi-company",
        {"see_other_companies_customers": True, "share_company_structure": False},
    )
    company_a = system.after_settings(system.admin(tenant))
    company_b = system.after_settings(
        system.headers(tenant, companies=[tenant.companies[1]], name="Bertta Admin")
    )
    emo_a = system.create(company_a, {"name": "A:n emo", "number": "100"}).json()
    system.create(company_b, {"name": "B:n emo", "number": "200"})
    child = system.create(
        company_a, {"name": "Tytär Oy", "number": "101", "parent_id": emo_a["id"]}
    ).json()
    text = "Nimi;Asiakasnumero;Pääyksikön asiakasnumero\r\nTytär Oy;101;200\r\n"
    job = imported(system, tenant, "b.csv", text.encode(), company_b, update_existing=True)
    assert (job["status"], job["updated"], job["failed"]) == ("completed", 1, 0), job
    seen_by_a = system.http.get(f"/api/v1/customers/{child['id']}", headers=company_a).json()
    seen_by_b = system.http.get(f"/api/v1/customers/{child['id']}", headers=company_b).json()
    emo_b = customers_of(system, tenant)["B:n emo"]
    assert seen_by_a["parent_id"] == emo_a["id"]
    assert seen_by_b["parent_id"] == emo_b["id"]


def test_an_update_that_changes_nothing_is_counted_unchanged(system: System, tenant: Tenant):
    """A register imported again with `update_existing` tells the rows that changed a
    customer from those that found every value as it was."""
    text = (
        "Nimi;Y-tunnus;Postitoimipaikka;Tiimi\r\n"
        "Vanha Oy;0737546-2;Jyväskylä;Myynti\r\n"
        "Toinen Oy;1234567-1;Tampere;\r\n"
    )
    first = imported(system, tenant, "a.csv", text.encode())
    assert (first["status"], first["created"]) == ("completed", 2), first
    before = customers_of(system, tenant)
    again = imported(system, tenant, "a.csv", text.encode(), update_existing=True)
    assert (again["status"], again["updated"], again["unchanged"]) == ("completed", 0, 2), again
    assert (again["skipped"], again["failed"], again["processed"]) == (0, 0, 2), again
    after = customers_of(system, tenant)
    assert {n: c["version"] for n, c in after.items()} == {
        n: c["version"] for n, c in before.items()
    }
    edited = text.replace("Tampere", "Turku")
    job = imported(system, tenant, "b.csv", edited.encode(), update_existing=True)
    assert (job["updated"], job["unchanged"]) == (1, 1), job
    assert (job["status"], job["processed"]) == ("completed", 2), job
    assert customers_of(system, tenant)["Toinen Oy"]["address"]["city"] == "Turku"


def test_a_batchs_published_outcome_tells_whether_an_update_changed_anything(
    system: System, tenant: Tenant, system_config
):
    """Consumers of `customers.events.v1` read it in `RowOutcome.changed`: the outcome stays
    `updated` either way."""
    import redis

    from contracts import CUSTOMERS_STREAM, CustomerEnvelope
    from psa.streams.wire import entry_body

    text = "Nimi;Y-tunnus;Postitoimipaikka\r\nVanha Oy;0737546-2;Jyväskylä\r\n"
    text += "Toinen Oy;1234567-1;Tampere\r\n"
    imported(system, tenant, "a.csv", text.encode())
    edited = text.replace("Tampere", "Turku")
    job = imported(system, tenant, "b.csv", edited.encode(), update_existing=True)
    client = redis.Redis.from_url(str(system_config.redis_url))

    def outcomes() -> list[Any]:
        entries = client.xrange(system_config.stream(CUSTOMERS_STREAM))
        envelopes = [CustomerEnvelope.model_validate_json(entry_body(f)) for _, f in entries]
        return [
            outcome
            for envelope in envelopes
            if envelope.type == "ImportBatchExecuted" and str(envelope.payload.job_id) == job["id"]  # type: ignore[union-attr]
            for outcome in envelope.payload.outcomes  # type: ignore[union-attr]
        ]

    found = wait_until(outcomes)
    assert [(o.row, o.outcome, o.changed) for o in found] == [
        (2, "updated", False),
        (3, "updated", True),
    ]


def test_a_file_of_only_the_header_fails_with_its_problem_in_finnish(
    system: System, tenant: Tenant
):
    """The template filled in with nothing is a common first upload."""
    response = upload(system, tenant, "pohja.csv", b"Nimi;Y-tunnus\r\n", dry_run=False)
    assert response.status_code == 202, response.text
    job = finished(system, tenant, response.json()["id"])
    assert (job["status"], job["problem"]) == ("failed", "the file has no rows under its header")
    assert job["problem_fi"] == "tiedostossa ei ole rivejä otsikkorivin alla"


def test_the_finnish_report_of_a_file_that_cannot_be_read_is_finnish(
    system: System, tenant: Tenant
):
    lines = ["Nimi;Y-tunnus", '"Auki Oy;0737546-2']  # a quote never closed
    lines += [f"Asiakas {i} Oy;{i}" for i in range(12000)]
    data = ("\r\n".join(lines) + "\r\n").encode()
    job = finished(system, tenant, upload(system, tenant, "asiakkaat.csv", data).json()["id"])
    report = system.http.get(
        f"{IMPORTS}/{job['id']}/errors?format=csv", headers=system.admin(tenant)
    )
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[1][:2] == ["0", "tiedosto"]
    assert "lainausmerkki" in rows[1][2] and "quote" not in rows[1][2], rows[1]
