"""`psa up` as a user runs it: one process on embedded defaults, configured with the `psa`
command and plain HTTP calls, as the README shows."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from psa.embedded import free_port

from .processes import PSA, start_and_wait, stop


@pytest.fixture
def running(tmp_path: Path) -> Iterator[dict[str, str]]:
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PSA_", "POSTGRES_", "PERSISTENCE_", "REDIS_"))
    }
    env.update(PSA_DATA_DIR=str(tmp_path / "data"), PSA_URL=f"http://127.0.0.1:{port}")
    process = start_and_wait([PSA, "up", "--port", str(port)], env, env["PSA_URL"], tmp_path)
    try:
        yield env
    finally:
        workers = _children(process.pid)
        stop(process)
    # Its other processes (the customers service's list and relay, the embedded Redis) stop
    # with it.
    deadline = time.monotonic() + 10
    while (running := [pid for pid in workers if _alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running, [_command(pid) for pid in running]


def _children(pid: int) -> list[int]:
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return str(pid)


def psa(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [PSA, *args], env={**env, "COLUMNS": "200"}, capture_output=True, text=True, timeout=60
    )
    if ok:
        assert result.returncode == 0, result.stderr + result.stdout
    return result


def test_a_new_user_sets_up_a_tenant_and_configures_it_as_the_readme_shows(running):
    env = running
    # psa tenant create prints the tenant, its companies and an admin token.
    created = json.loads(
        psa(
            env,
            "tenant",
            "create",
            "Konserni Oy",
            "--company",
            "Yhtiö A",
            "--company",
            "Yhtiö B",
            "--json",
        ).stdout
    )
    tenant_id = created["tenant"]["id"]
    headers = {"Authorization": f"Bearer {created['admin_token']}"}
    api = httpx.Client(base_url=env["PSA_URL"] + "/api/v1/settings/customers", headers=headers)
    before_changes = datetime.now(UTC)
    time.sleep(0.01)

    # The README's curl calls: a type, a group, a field, numbering.
    assert (
        api.post("/types", json={"name": "Prospekti", "default_customer": True}).status_code == 201
    )
    assert api.post("/groups", json={"name": "Avainasiakkaat"}).status_code == 201
    field = api.post(
        "/fields",
        json={
            "name": "Toimiala",
            "type": "dropdown",
            "options": ["IT", "Rakentaminen"],
            "mandatory": True,
        },
    )
    assert field.status_code == 201
    assert api.put("/numbering", json={"mode": "manual"}).status_code == 200

    shown = json.loads(psa(env, "settings", "show", "--tenant", tenant_id, "--json").stdout)
    assert shown["numbering"]["mode"] == "manual"
    assert [f["name"] for f in shown["fields"]] == ["Toimiala"]
    assert "Prospekti" in psa(env, "settings", "show", "--tenant", tenant_id).stdout

    history = json.loads(
        psa(env, "settings", "history", "--token", created["admin_token"], "--json").stdout
    )
    assert [i["type"] for i in history["items"][:4]] == [
        "NumberingChanged",
        "FieldAdded",
        "CustomerGroupAdded",
        "DefaultCustomerTypeSet",
    ]
    assert "NumberingChanged" in psa(env, "settings", "history", "--tenant", tenant_id).stdout

    earlier = json.loads(
        psa(
            env,
            "settings",
            "show",
            "--tenant",
            tenant_id,
            "--as-of",
            before_changes.isoformat(),
            "--json",
        ).stdout
    )
    assert earlier["numbering"]["mode"] == "automatic" and earlier["fields"] == []

    # Tokens for users; an unknown user is a clear error.
    token = json.loads(
        psa(env, "token", "--tenant", tenant_id, "--user", "admin", "--json").stdout
    )["token"]
    assert (
        httpx.get(
            env["PSA_URL"] + "/api/v1/settings/customers",
            headers={"Authorization": f"Bearer {token}"},
        ).status_code
        == 200
    )
    missing = psa(env, "token", "--tenant", tenant_id, "--user", "nobody", ok=False)
    assert missing.returncode == 1 and "No user 'nobody'" in missing.stderr

    # The API docs are served.
    assert httpx.get(env["PSA_URL"] + "/docs").status_code == 200
    assert (
        "/api/v1/settings/customers/history"
        in httpx.get(env["PSA_URL"] + "/openapi.json").json()["paths"]
    )


def _listed(env: dict[str, str], token: str, count: int) -> list[dict[str, object]]:
    deadline = time.monotonic() + 20
    while True:
        page = httpx.get(
            env["PSA_URL"] + "/api/v1/customers",
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        if page["total"] >= count or time.monotonic() > deadline:
            return list(page["items"])
        time.sleep(0.1)


def test_psa_up_tells_how_to_reach_it_and_a_wrong_secret_is_named(running, tmp_path: Path):
    env = running
    # Its own port and data dir: the command it prints to create a tenant names both.
    (log,) = tmp_path.glob("psa-process-*.log")
    printed = " ".join(log.read_text().split())
    assert (
        f"PSA_URL={env['PSA_URL']} PSA_DATA_DIR={env['PSA_DATA_DIR']} .venv/bin/psa tenant create"
        in printed
    )
    # A psa command with another data dir signs with another secret: it says so.
    elsewhere = {**env, "PSA_DATA_DIR": str(tmp_path / "elsewhere")}
    refused = psa(elsewhere, "tenant", "create", "X Oy", "--company", "X Oy", ok=False)
    assert refused.returncode == 1
    said = " ".join(refused.stderr.split())
    assert "401" in said and "PSA_DATA_DIR" in said and "use the API's" in said


def test_the_psa_command_says_clearly_when_the_api_is_not_running(tmp_path: Path):
    env = {**os.environ, "PSA_DATA_DIR": str(tmp_path), "PSA_URL": "http://127.0.0.1:9"}
    result = psa(env, "settings", "show", "--tenant", "x", ok=False)
    assert result.returncode == 2 and "make up" in result.stderr


def _admin_token(env: dict[str, str], name: str) -> str:
    """A new tenant of one company of this name; its admin's token."""
    created = json.loads(psa(env, "tenant", "create", name, "--company", name, "--json").stdout)
    token: str = created["admin_token"]
    return token


def test_psa_import_follows_the_job_and_writes_the_error_report_next_to_the_file(
    running, tmp_path: Path
):
    env = running
    token = _admin_token(env, "Yritys Oy")
    register = tmp_path / "asiakkaat.csv"
    register.write_bytes(
        "Nimi;Y-tunnus\r\nÄänekosken Öljy Oy;0737546-2\r\n;1234567-8\r\nKolmas Oy;\r\n".encode(
            "cp1252"
        )
    )
    result = psa(
        env, "import", str(register), "--token", token, "--skip-errors", "--wait", "--json"
    )
    job = json.loads(result.stdout)
    assert (job["status"], job["created"], job["failed"]) == ("completed_with_errors", 2, 1)
    report = (tmp_path / "asiakkaat.virheet.csv").read_text(encoding="utf-8-sig")
    assert report.splitlines()[0] == "Rivi;Sarake;Virhe"
    assert {line.split(";")[:2][0] for line in report.splitlines()[1:]} == {"3"}
    # The imported customers are listed (the list is kept by a process of its own).
    listed = _listed(env, token, 2)
    assert sorted(c["name"] for c in listed) == ["Kolmas Oy", "Äänekosken Öljy Oy"]
    # Without --skip-errors, the invalid row stops the import: the command says so and fails.
    failed = psa(env, "import", str(register), "--token", token, "--wait", ok=False)
    assert failed.returncode == 1
    assert "nothing was imported" in failed.stdout
    # Nothing of that import was given up on by the customers service: nothing to send again.
    retry = psa(env, "retry-import", job["id"], "--token", token, ok=False)
    assert retry.returncode == 1
    assert "nothing to send again" in retry.stderr + retry.stdout
    # A dry run says so, and fails as a check does when a row has errors.
    dry = psa(env, "import", str(register), "--token", token, "--dry-run", "--wait", ok=False)
    assert dry.returncode == 1
    assert "dry run: nothing was created" in dry.stdout and "would be created" in dry.stdout
    # The file mended, its import has no errors: the report of the earlier one is gone.
    register.write_bytes("Nimi\r\nNeljäs Oy\r\n".encode("cp1252"))
    assert (
        "would be created"
        in psa(env, "import", str(register), "--token", token, "--dry-run", "--wait").stdout
    )
    psa(env, "import", str(register), "--token", token, "--wait", "--json")
    assert not (tmp_path / "asiakkaat.virheet.csv").exists()


def test_psa_import_maps_the_columns_of_a_file_with_its_own_headers(running, tmp_path: Path):
    env = running
    token = _admin_token(env, "Kartta Oy")
    register = tmp_path / "firmat.csv"
    register.write_bytes(
        "Firma;Tunnus;Muistiinpanot\r\nEka Oy;0737546-2;hyvä\r\nToka Oy;2336509-6;\r\n".encode()
    )
    mapped = ("--map", "Firma=Nimi", "--map", "Tunnus=business id", "--map", "Muistiinpanot=")
    result = psa(env, "import", str(register), "--token", token, *mapped, "--wait", "--json")
    job = json.loads(result.stdout)
    assert (job["status"], job["created"], job["unknown_columns"]) == ("completed", 2, [])
    listed = _listed(env, token, 2)
    assert sorted((c["name"], c["business_id"]) for c in listed) == [
        ("Eka Oy", "0737546-2"),
        ("Toka Oy", "2336509-6"),
    ]
    # A mapping that names a column the file lacks is refused at upload, naming it.
    wrong = psa(
        env, "import", str(register), "--token", token, "--map", "Yritys [vanha]=Nimi", ok=False
    )
    assert wrong.returncode == 1
    assert "mapping: the file has no column 'Yritys [vanha]'" in wrong.stderr
    # A --map without "=" is a usage error: nothing is uploaded.
    usage = psa(env, "import", str(register), "--token", token, "--map", "Firma", ok=False)
    assert usage.returncode == 2 and "--map" in usage.stderr
