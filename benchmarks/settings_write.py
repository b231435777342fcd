"""Settings changes per second through the application on SQLite, beside the raw append rate of
the eventsourcing library in the same run, and HTTP write latency (p50/p99).

Bar (DESIGN.md §9): >= 2,000 changes/s through the application, one event per transaction.

    .venv/bin/python benchmarks/settings_write.py [--changes 5000] [--http 1000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path
from uuid import UUID

import httpx
import uvicorn
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from psa.app import create_app
from psa.auth import load_secret, mint_token
from psa.config import Config
from psa.embedded import free_port
from services.settings.application import OPERATOR, SettingsApplication
from services.settings.bootstrap import build_application
from services.settings.domainmodel import Actor, CustomerSettings

ADMIN = Actor("admin", "Admin", ("a",), ("admin",))


class Counter(Aggregate):
    @event("Started")
    def __init__(self) -> None:
        self.count = 0

    @event("Incremented")
    def increment(self) -> None:
        self.count += 1


def raw_append_rate(directory: Path, n: int) -> float:
    """The library alone: one tiny event per transaction, the aggregate held in memory."""
    app = Application[UUID](
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(directory / "raw.sqlite"),
        }
    )
    counter = Counter()
    app.save(counter)
    start = time.perf_counter()
    for _ in range(n):
        counter.increment()
        app.save(counter)
    elapsed = time.perf_counter() - start
    app.close()
    return n / elapsed


def realistic_tenant(app: SettingsApplication) -> tuple[UUID, list[str]]:
    """A tenant whose settings look like a real one: types, groups and fields."""
    change = app.create_tenant(OPERATOR, "Benchmark Oy", ["A"])
    tenant_id = UUID(change.result["id"])
    groups: list[str] = []

    def setup(settings: CustomerSettings) -> None:
        for i in range(8):
            settings.add_customer_type(ADMIN, f"Tyyppi {i}")
        for i in range(20):
            groups.append(settings.add_customer_group(ADMIN, f"Ryhmä {i}", f"ERP-{i}"))
        for i in range(5):
            settings.add_company_group(ADMIN, f"Yritysryhmä {i}")
        for i in range(10):
            settings.add_field(ADMIN, f"Kenttä {i}", "dropdown", options=["A", "B", "C", "D"])

    app.change_settings(ADMIN, tenant_id, setup)
    return tenant_id, groups


def application_rate(directory: Path, n: int) -> float:
    """The use case as the API runs it: lock, get (cached), check, one event, save."""
    config = Config(data_dir=directory / "app", persistence_module="eventsourcing.sqlite")
    app = build_application(config)
    tenant_id, groups = realistic_tenant(app)
    start = time.perf_counter()
    for i in range(n):
        group_id = groups[i % len(groups)]
        name = f"Ryhmä {i % len(groups)} v{i}"

        def rename(settings: CustomerSettings, g: str = group_id, nm: str = name) -> str:
            return settings.update_customer_group(ADMIN, g, name=nm)

        app.change_settings(ADMIN, tenant_id, rename)
    elapsed = time.perf_counter() - start
    app.close()
    return n / elapsed


def http_latencies(directory: Path, n: int) -> tuple[float, float]:
    """PATCH a customer group over real HTTP, one request at a time."""
    config = Config(
        data_dir=directory / "http",
        persistence_module="eventsourcing.sqlite",
        port=free_port(),
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), host="127.0.0.1", port=config.port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    secret = load_secret(config)
    base = f"http://127.0.0.1:{config.port}/api/v1"
    operator = mint_token(secret, sub="operator", name="Op", tenant=None, roles=["operator"])
    with httpx.Client(base_url=base, timeout=30) as client:
        tenant = client.post(
            "/tenants",
            json={"name": "HTTP Oy", "companies": ["A"]},
            headers={"Authorization": f"Bearer {operator}"},
        ).json()
        token = mint_token(
            secret,
            sub="admin",
            name="Admin",
            tenant=tenant["id"],
            companies=[tenant["companies"][0]["id"]],
            roles=["admin"],
        )
        headers = {"Authorization": f"Bearer {token}"}
        group = client.post(
            "/settings/customers/groups", json={"name": "G"}, headers=headers
        ).json()
        samples = []
        for i in range(n):
            start = time.perf_counter()
            response = client.patch(
                f"/settings/customers/groups/{group['id']}", json={"name": f"G{i}"}, headers=headers
            )
            samples.append(time.perf_counter() - start)
            assert response.status_code == 200, response.text
    server.should_exit = True
    thread.join()
    samples.sort()
    return statistics.median(samples) * 1000, samples[int(len(samples) * 0.99) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=5000)
    parser.add_argument("--http", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        raw = raw_append_rate(directory, args.changes)
        through_app = application_rate(directory, args.changes)
        p50, p99 = http_latencies(directory, args.http)
    print(
        f"settings changes through the application (SQLite, 1 event/transaction): "
        f"{through_app:,.0f}/s   (bar >= 2,000/s)"
    )
    print(
        f"raw eventsourcing append, same store, same run:                        "
        f"{raw:,.0f}/s   (application = {through_app / raw:.0%} of raw)"
    )
    print(
        f"HTTP write (PATCH a customer group), {args.http} sequential requests:    "
        f"p50 {p50:.2f} ms, p99 {p99:.2f} ms"
    )


if __name__ == "__main__":
    main()
