"""Customers created per second with automatic numbers, through the customers application on
SQLite, beside the raw rate of the eventsourcing library saving the same three events per
transaction (customer, number index, counter) in the same run; and over HTTP.

Bar (DESIGN.md §9): >= 1,000 customers/s with automatic numbers.

    .venv/bin/python benchmarks/customers_create.py [--customers 5000] [--http 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from psa.auth import mint_token
from psa.config import Config
from psa.customer_rules.settings_view import (
    SettingsView,
    apply_settings_event,
    new_document,
)
from psa.embedded import free_port, start_embedded_redis
from services.customers.application import CustomerActor
from services.customers.bootstrap import build_application

TENANT = "00000000-0000-0000-0000-00000000b001"
COMPANY = "00000000-0000-0000-0000-00000000c001"
TYPE = "00000000-0000-0000-0000-00000000d001"
FIELDS = [f"00000000-0000-0000-0000-0000000f000{i}" for i in range(10)]


class Thing(Aggregate):
    @event("Created")
    def __init__(self, name: str) -> None:
        self.name = name

    @event("Counted")
    def count(self) -> None:
        pass


def raw_rate(directory: Path, n: int) -> float:
    """The library alone: two new aggregates and one counter event per transaction."""
    app = Application[UUID](
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(directory / "raw.sqlite"),
        }
    )
    counter = Thing("counter")
    app.save(counter)
    start = time.perf_counter()
    for index in range(n):
        counter.count()
        app.save(Thing(f"customer {index}"), Thing(f"index {index}"), counter)
    elapsed = time.perf_counter() - start
    app.close()
    return n / elapsed


def tenant_settings(fields: int = 5) -> dict[str, Any]:
    """A settings document as the projection would hold it: types, a group, five fields."""
    document = new_document(TENANT)
    events: list[dict[str, Any]] = [
        {
            "type": "TenantCreated",
            "name": "Bench",
            "companies": [{"id": COMPANY, "name": "A"}],
            "users": [
                {
                    "id": "admin",
                    "name": "Admin",
                    "company_id": COMPANY,
                    "company_ids": [COMPANY],
                    "roles": ["admin"],
                }
            ],
        },
        {
            "type": "CustomerSettingsCreated",
            "customer_types": [
                {
                    "id": TYPE,
                    "name": "Asiakas",
                    "builtin": "asiakas",
                    "invoicing_allowed": True,
                    "archived": False,
                }
            ],
            "default_types": {"customer": TYPE, "subcontractor": None, "consumer": None},
            "numbering": {"mode": "automatic", "next_number": 1},
            "hierarchy_filter": "all",
            "multi_company": {
                "see_other_companies_customers": False,
                "hide_other_companies_details": False,
                "default_relationship_type_id": None,
                "share_company_structure": False,
                "account_manager_from_any_company": False,
                "customer_group_mandatory": False,
            },
        },
    ]
    for index in range(fields):
        events.append(
            {
                "type": "FieldAdded",
                "field_id": FIELDS[index],
                "name": f"Kenttä {index}",
                "field_type": "text",
                "options": [],
                "shown_in_details_and_list": True,
                "mandatory": index == 0,
                "shown_in_reports": True,
                "hubspot_property_id": None,
            }
        )
    for version, payload in enumerate(events, start=1):
        apply_settings_event(document, {"aggregate_version": version, "payload": payload})
    return document


def application_rate(directory: Path, n: int) -> float:
    config = Config(data_dir=directory / "app")
    app, _ = build_application(config)
    document = tenant_settings()
    app.settings_of = lambda tenant_id: SettingsView(document)
    actor = CustomerActor("admin", "Admin", COMPANY)
    start = time.perf_counter()
    for index in range(n):
        app.create_customer(
            actor,
            TENANT,
            {"name": f"Asiakas {index}", "fields": {FIELDS[0]: "arvo", FIELDS[1]: "toinen"}},
        )
    elapsed = time.perf_counter() - start
    app.close()
    return n / elapsed


def _serve(module: str, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", module],
        env={**env, "PSA_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{module} did not start")


def http_rate(directory: Path, n: int, clients: int = 8) -> tuple[float, float]:
    """Over HTTP: the settings and customers services as their own processes (as compose runs
    them), with the load from this process."""
    redis_server = start_embedded_redis(directory / "redis", persistent=False)
    secret = "benchmark-secret-" + "x" * 32
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PSA_", "REDIS_"))},
        "PSA_DATA_DIR": str(directory / "http"),
        "PSA_JWT_SECRET": secret,
        "REDIS_URL": redis_server.url,
        "PSA_LOG_LEVEL": "error",
    }
    settings_port, customers_port = free_port(), free_port()
    processes = [
        _serve("services.settings", env, settings_port),
        _serve("services.customers", env, customers_port),
    ]
    try:
        operator = mint_token(secret, sub="operator", name="Op", tenant=None, roles=["operator"])
        tenant = httpx.post(
            f"http://127.0.0.1:{settings_port}/api/v1/tenants",
            json={"name": "Bench", "companies": ["A"]},
            headers={"Authorization": f"Bearer {operator}"},
        )
        data = tenant.json()
        company = data["companies"][0]["id"]
        token = mint_token(
            secret,
            sub="admin",
            name="Admin",
            tenant=data["id"],
            company=company,
            companies=[company],
            roles=["admin"],
        )
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Settings-Position": tenant.headers["Settings-Position"],
        }
        body = json.dumps({"name": "Asiakas"})
        latencies: list[float] = []

        def worker(count: int) -> None:
            with httpx.Client(base_url=f"http://127.0.0.1:{customers_port}", timeout=30) as c:
                for _ in range(count):
                    t = time.perf_counter()
                    response = c.post("/api/v1/customers", content=body, headers=headers)
                    latencies.append(time.perf_counter() - t)
                    assert response.status_code == 201, response.text

        start = time.perf_counter()
        threads = [threading.Thread(target=worker, args=(n // clients,)) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
    finally:
        for process in processes:
            process.terminate()
            process.wait()
        redis_server.stop()
    latencies.sort()
    return len(latencies) / elapsed, latencies[int(len(latencies) * 0.99) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--http", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        raw = raw_rate(directory, args.customers)
        through_app = application_rate(directory, args.customers)
        over_http, p99 = http_rate(directory, args.http)
    print(
        f"customers created with automatic numbers, through the application (SQLite): "
        f"{through_app:,.0f}/s   (bar >= 1,000/s)"
    )
    print(
        f"raw eventsourcing, same three events per transaction, same run:           "
        f"{raw:,.0f}/s   (application = {through_app / raw:.0%} of raw)"
    )
    print(
        f"over HTTP (POST /api/v1/customers, 8 clients):                             "
        f"{over_http:,.0f}/s   p99 {p99:.1f} ms"
    )


if __name__ == "__main__":
    main()
