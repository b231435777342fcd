"""Lag from a settings change committed to the change visible in the customers service's
projection, at a steady 100 changes/s, beside raw XADD -> XREADGROUP latency in the same run.

Bar (DESIGN.md §9): p50 <= 5 ms, p99 <= 20 ms.

The path measured is the product's: the settings application stores the event; its outbox
relay (woken by the save) publishes it on `settings.events.v1`; the customers service's
consumer reads it and writes the projection with its tracked position in one transaction.
Redis is REDIS_URL if set, else the embedded one.

    .venv/bin/python benchmarks/settings_lag.py [--changes 1000] [--rate 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from uuid import UUID

import redis.asyncio as aioredis

from contracts import SETTINGS_STREAM
from psa.config import Config
from psa.embedded import start_embedded_redis
from psa.streams.consumer import StreamConsumer
from services.customers.bootstrap import build_application as build_customers
from services.settings.application import OPERATOR
from services.settings.bootstrap import build_application as build_settings
from services.settings.bootstrap import build_workers as settings_workers
from services.settings.domainmodel import Actor, CustomerSettings

ADMIN = Actor("admin", "Admin", ("a",), ("admin",))


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


async def raw_latency(url: str, stream: str, count: int, rate: float) -> list[float]:
    """XADD from one connection, XREADGROUP BLOCK on another: the floor of any stream lag."""
    writer = aioredis.Redis.from_url(url)
    reader = aioredis.Redis.from_url(url)
    await reader.xgroup_create(stream, "raw", id="0", mkstream=True)
    latencies: list[float] = []

    async def read() -> None:
        while len(latencies) < count:
            response: Any = await reader.xreadgroup("raw", "r", {stream: ">"}, count=10, block=1000)
            now = time.perf_counter()
            for _, entries in response or []:
                for entry_id, fields in entries:
                    latencies.append(now - float(fields[b"t"]))
                    await reader.xack(stream, "raw", entry_id)

    task = asyncio.create_task(read())
    for index in range(count):
        start = time.perf_counter()
        await writer.xadd(stream, {"n": index, "t": repr(start)})
        await asyncio.sleep(max(0.0, 1 / rate - (time.perf_counter() - start)))
    await task
    await writer.delete(stream)
    await writer.aclose()
    await reader.aclose()
    return latencies


async def product_latency(config: Config, count: int, rate: float) -> list[float]:
    settings = build_settings(config)
    customers, projection = build_customers(config)
    applied: dict[int, float] = {}
    committed: dict[int, float] = {}

    async def handle(position: int, body: bytes) -> None:
        await projection.handle(position, body)
        applied[position] = time.perf_counter()

    client = aioredis.Redis.from_url(str(config.redis_url))
    (relay,) = settings_workers(config, settings, client)
    relay.poll_interval = 1.0
    consumer = StreamConsumer(
        client, config.stream(SETTINGS_STREAM), "customers", handle, block_ms=1000
    )
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(consumer.run())]
    tenant_id = UUID(settings.create_tenant(OPERATOR, "Lag Oy", ["A"]).result["id"])
    group = settings.change_settings(
        ADMIN, tenant_id, lambda s: s.add_customer_group(ADMIN, "G")
    ).result

    def write() -> None:
        for index in range(count):
            start = time.perf_counter()

            def rename(s: CustomerSettings, i: int = index) -> str:
                return s.update_customer_group(ADMIN, group, name=f"G{i}")

            change = settings.change_settings(ADMIN, tenant_id, rename)
            assert change.position is not None
            committed[change.position] = time.perf_counter()
            time.sleep(max(0.0, 1 / rate - (time.perf_counter() - start)))

    await asyncio.to_thread(write)
    while not all(position in applied for position in committed):
        await asyncio.sleep(0.01)
    relay.stop()
    consumer.stop()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await client.delete(config.stream(SETTINGS_STREAM))
    await client.aclose()
    settings.close()
    customers.close()
    return [applied[p] - committed[p] for p in committed]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = None
        url = os.environ.get("REDIS_URL")
        if not url:
            server = start_embedded_redis(Path(tmp) / "redis", persistent=False)
            url = server.url
        prefix = f"bench-{uuid.uuid4().hex[:8]}."
        config = Config(data_dir=Path(tmp) / "data", redis_url=url, stream_prefix=prefix)
        try:
            raw = asyncio.run(raw_latency(url, prefix + "raw", args.changes, args.rate))
            lag = asyncio.run(product_latency(config, args.changes, args.rate))
        finally:
            if server is not None:
                server.stop()
    ms = 1000
    print(
        f"settings commit -> visible in the customers projection, {args.changes} changes at "
        f"{args.rate:g}/s (SQLite, Redis {'embedded' if server else url}):"
    )
    print(
        f"  p50 {statistics.median(lag) * ms:.2f} ms   p99 {percentile(lag, 0.99) * ms:.2f} ms"
        f"   max {max(lag) * ms:.2f} ms   (bar: p50 <= 5 ms, p99 <= 20 ms)"
    )
    print("raw XADD -> XREADGROUP, same Redis, same rate:")
    print(
        f"  p50 {statistics.median(raw) * ms:.2f} ms   p99 {percentile(raw, 0.99) * ms:.2f} ms"
        f"   max {max(raw) * ms:.2f} ms"
    )


if __name__ == "__main__":
    threading.current_thread().name = "benchmark"
    main()
