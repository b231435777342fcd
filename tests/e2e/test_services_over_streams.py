"""The settings and customers services as separate OS processes on a real Redis: settings
changes reach the customers service over `settings.events.v1` and apply to new customers."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import redis

from contracts import SETTINGS_STREAM
from psa.embedded import free_port
from psa.streams.relay import entries_positions

from .processes import PSA, start_and_wait, stop

SECRET = "e2e-secret-of-this-deployment-" + "y" * 20


@dataclass
class Deployment:
    env: dict[str, str]
    tmp: Path
    processes: dict[str, subprocess.Popen[str]] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)

    def start(self, name: str, service: str, **env_vars: str) -> str:
        """Start a service; one started again after `kill` keeps its port, as a container
        keeps its address."""
        known = self.urls.get(name)
        port = int(known.rsplit(":", 1)[1]) if known else free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**self.env, **env_vars, "PSA_PORT": str(port)}
        self.processes[name] = start_and_wait(
            [sys.executable, "-m", f"services.{service}"], env, url, self.tmp
        )
        self.urls[name] = url
        return url

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        for process in self.processes.values():
            stop(process, signal.SIGTERM)


@pytest.fixture
def deployment(tmp_path: Path, redis_url: str, stream_prefix: str) -> Iterator[Deployment]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PSA_", "POSTGRES_", "PERSISTENCE_", "REDIS_"))
    }
    env.update(
        PSA_DATA_DIR=str(tmp_path / "data"),
        PSA_JWT_SECRET=SECRET,
        REDIS_URL=redis_url,
        PSA_STREAM_PREFIX=stream_prefix,
        PSA_STREAM_IDLE_MS="1000",
        PSA_LOG_LEVEL="warning",
    )
    deployment = Deployment(env, tmp_path)
    try:
        yield deployment
    finally:
        deployment.stop_all()


def new_tenant(deployment: Deployment) -> tuple[dict[str, str], str]:
    """A two-company tenant created with the `psa` command; its admin headers and position."""
    env = {**deployment.env, "PSA_URL": deployment.urls["settings"]}
    result = subprocess.run(
        [PSA, "tenant", "create", "Konserni Oy", "--company", "A", "--company", "B", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    data = json.loads(result.stdout)
    headers = {"Authorization": f"Bearer {data['admin_token']}"}
    history = httpx.get(
        deployment.urls["settings"] + "/api/v1/settings/customers/history", headers=headers
    ).json()
    return headers, str(history["items"][0]["position"])


def test_settings_changes_reach_the_customers_service_and_rule_its_creates(deployment):
    settings_url = deployment.start("settings", "settings") + "/api/v1/settings/customers"
    customers_url = deployment.start("customers", "customers") + "/api/v1/customers"
    admin, _ = new_tenant(deployment)

    # The admin adds a mandatory field and switches to manual numbering.
    field = httpx.post(
        settings_url + "/fields",
        headers=admin,
        json={"name": "Toimiala", "type": "text", "mandatory": True},
    ).json()
    manual = httpx.put(settings_url + "/numbering", headers=admin, json={"mode": "manual"})
    position = manual.headers["Settings-Position"]
    after = {**admin, "Settings-Position": position}

    # The next customer is refused until it carries both ...
    refused = httpx.post(customers_url, headers=after, json={"name": "Eka Oy"})
    assert refused.status_code == 422, refused.text
    assert {e["field"] for e in refused.json()["errors"]} == {"number", f"fields.{field['id']}"}
    only_number = httpx.post(customers_url, headers=after, json={"name": "Eka Oy", "number": "E-1"})
    assert only_number.status_code == 422
    accepted = httpx.post(
        customers_url,
        headers=after,
        json={"name": "Eka Oy", "number": "E-1", "fields": {field["id"]: "Rakentaminen"}},
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["number"] == "E-1"


def test_two_hundred_concurrent_creates_on_two_replicas_get_two_hundred_consecutive_numbers(
    deployment,
):
    deployment.start("settings", "settings")
    replicas = [
        deployment.start("customers-1", "customers") + "/api/v1/customers",
        deployment.start("customers-2", "customers") + "/api/v1/customers",
    ]
    admin, position = new_tenant(deployment)
    headers = {**admin, "Settings-Position": position}

    def create(index: int) -> str:
        with httpx.Client(timeout=60) as client:
            response = client.post(
                replicas[index % 2], headers=headers, json={"name": f"Asiakas {index}"}
            )
        assert response.status_code == 201, response.text
        return str(response.json()["number"])

    with ThreadPoolExecutor(max_workers=32) as pool:
        numbers = list(pool.map(create, range(200)))
    assert sorted(int(n) for n in numbers) == list(range(1, 201))


def test_a_killed_customers_process_is_replaced_by_its_standby_which_applies_what_came_after(
    deployment, redis_url, stream_prefix
):
    settings_url = deployment.start("settings", "settings") + "/api/v1/settings/customers"
    first = deployment.start("customers-1", "customers") + "/api/v1/customers"
    second = deployment.start("customers-2", "customers") + "/api/v1/customers"
    admin, position = new_tenant(deployment)
    assert (
        httpx.post(
            first, headers={**admin, "Settings-Position": position}, json={"name": "Ennen Oy"}
        ).status_code
        == 201
    )

    # Kill the process that holds the consumer lease, without letting it clean up.
    client = redis.Redis.from_url(redis_url)
    lease = client.get(f"{stream_prefix}{SETTINGS_STREAM}.customers.consumer-lease")
    assert lease is not None
    holder_pid = int(lease.decode().split("-")[-2])
    holder = next(n for n, p in deployment.processes.items() if p.pid == holder_pid)
    survivor = second if holder == "customers-1" else first
    deployment.kill(holder)

    # Settings changed after the kill reach the survivor once the lease has lapsed.
    response = httpx.put(settings_url + "/numbering", headers=admin, json={"mode": "manual"})
    after = {**admin, "Settings-Position": response.headers["Settings-Position"]}
    refused = httpx.post(survivor, headers=after, json={"name": "Jälkeen Oy"}, timeout=30)
    if refused.status_code == 503:  # still within the idle time: retry as the answer says
        refused = httpx.post(survivor, headers=after, json={"name": "Jälkeen Oy"}, timeout=30)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "number"
    pending = client.xpending(f"{stream_prefix}{SETTINGS_STREAM}", "customers")
    assert pending["pending"] == 0


def test_a_settings_process_killed_while_publishing_leaves_no_duplicate_entry(
    deployment, redis_url, stream_prefix
):
    settings_url = deployment.start("settings", "settings") + "/api/v1/settings/customers"
    deployment.start("customers", "customers")
    admin, _ = new_tenant(deployment)
    with httpx.Client(timeout=30) as http:
        for index in range(50):
            http.post(
                settings_url + "/company-groups", headers=admin, json={"name": f"Ryhmä {index}"}
            )
    deployment.kill("settings")  # no shutdown: publishing may be cut anywhere
    settings_url = deployment.start("settings", "settings") + "/api/v1/settings/customers"
    last = httpx.post(settings_url + "/company-groups", headers=admin, json={"name": "Viimeinen"})
    assert last.status_code == 201
    position = int(last.headers["Settings-Position"])
    client = redis.Redis.from_url(redis_url)
    stream = f"{stream_prefix}{SETTINGS_STREAM}"
    positions: list[int] = []
    for _ in range(200):
        positions = entries_positions(client.xrange(stream))
        if positions and positions[-1] == position:
            break
        time.sleep(0.05)
    assert positions == list(range(1, position + 1))
    # The customers service applied every one of them, once: its view has all 51 groups.
    customers = deployment.urls["customers"] + "/api/v1/customers"
    created = httpx.post(
        customers,
        headers={**admin, "Settings-Position": str(position)},
        json={"name": "Tarkistus Oy"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    database = sqlite3.connect(deployment.tmp / "data" / "customers.sqlite")
    (document,) = database.execute("SELECT document FROM settings_view").fetchone()
    (tracked,) = database.execute(
        "SELECT position FROM projection_tracking WHERE name = 'settings_view'"
    ).fetchone()
    database.close()
    groups = json.loads(document)["company_groups"]
    assert sorted(g["name"] for g in groups.values()) == sorted(
        [f"Ryhmä {i}" for i in range(50)] + ["Viimeinen"]
    )
    assert tracked == position


def test_a_service_behind_the_proxys_prefix_documents_itself_through_it(deployment):
    """compose's proxy serves each service's docs under its name (`deploy/nginx.conf`,
    taking the prefix off): the docs page loads the OpenAPI document through the prefix."""
    url = deployment.start("settings", "settings", PSA_ROOT_PATH="/settings")
    page = httpx.get(url + "/docs")
    assert page.status_code == 200 and "'/settings/openapi.json'" in page.text
    document = httpx.get(url + "/openapi.json").json()
    assert document["servers"] == [{"url": "/settings"}]
    assert "/api/v1/settings/customers" in document["paths"]
    assert httpx.get(url + "/health").status_code == 200
