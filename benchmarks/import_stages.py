"""Where an imported row's time goes in the customers service, stage by stage, in one process
on SQLite or PostgreSQL: executing the batches (checks, numbers, events, one transaction per
batch), the customer list catching up, and the relay's translation of the stored events into
stream entries; beside a raw bulk insert of the same rows' JSON into a plain SQLite table.

Microseconds of one core per row; the end-to-end figure is in benchmarks/import.py.

    POSTGRES_DBNAME=test .venv/bin/python benchmarks/import_stages.py [--rows 20000]
        [--store sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from customers_create import COMPANY, FIELDS, TENANT, tenant_settings

from psa.config import Config
from psa.customer_rules.settings_view import SettingsView
from psa.streams.wire import encode_entry
from services.customers.application import CustomerActor
from services.customers.bootstrap import build_application
from services.customers.publishing import published_topics, translate_page

BATCH = 500


def batches(rows: int) -> list[dict[str, Any]]:
    job = str(uuid.uuid4())
    result = []
    for start in range(0, rows, BATCH):
        result.append(
            {
                "job_id": job,
                "batch": start // BATCH + 1,
                "company_id": COMPANY,
                "update_existing": False,
                "rows": [
                    {
                        "row": index + 2,
                        "key": f"{job}:{index + 2}",
                        "parent_number": None,
                        "customer": {
                            "name": f"Asiakas {index:07d} Oy",
                            "address": {"city": "Jyväskylä"},
                            "fields": {FIELDS[0]: "arvo", FIELDS[1]: "toinen"},
                            "relationship": {"tags": ["tuotu"]},
                            "contact": {"name": f"Henkilö {index}"},
                        },
                    }
                    for index in range(start, min(rows, start + BATCH))
                ],
            }
        )
    return result


def raw_insert(directory: Path, work: list[dict[str, Any]]) -> float:
    """Seconds to insert every row's JSON with executemany, a transaction per batch."""
    db = sqlite3.connect(directory / "raw.sqlite", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t (id TEXT PRIMARY KEY, body BLOB)")
    start = time.process_time()
    for batch in work:
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO t VALUES (?, ?)",
            [(str(uuid.uuid4()), json.dumps(r).encode()) for r in batch["rows"]],
        )
        db.execute("COMMIT")
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    work = batches(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        prefix = f"stages{uuid.uuid4().hex[:6]}_"
        config = Config(data_dir=directory / "app")
        if args.store == "postgres":
            config = Config(
                data_dir=directory / "app",
                persistence_module="eventsourcing.postgres",
                schema_prefix=prefix,
            )
        app, _ = build_application(config)
        app.save_listeners.clear()  # the list catches up below, on its own
        document = tenant_settings()
        app.settings_of = lambda tenant_id: SettingsView(document)
        actor = CustomerActor("admin", "Admin", COMPANY)

        start = time.process_time()
        for batch in work:
            app.execute_import_batch(TENANT, actor, batch)
        execute = time.process_time() - start

        start = time.process_time()
        app.customer_list.catch_up()
        listing = time.process_time() - start

        async def translate() -> int:
            """What the relay does with the log, pages and carried events alike."""
            count = 0
            cursor = 0
            carried: list[tuple[int, Any]] = []
            while True:
                notifications = app.recorder.select_notifications(
                    cursor + 1, 500, None, tuple(published_topics())
                )
                if not notifications and not carried:
                    return count
                events = carried + [(n.id, app.mapper.to_domain_event(n)) for n in notifications]
                entries, used = translate_page(events, len(notifications) < 500)
                carried = events[used:]
                for _, envelope in entries:
                    encode_entry(envelope)
                    count += 1
                if notifications:
                    cursor = notifications[-1].id

        start = time.process_time()
        entries = asyncio.run(translate())
        relay = time.process_time() - start
        raw = raw_insert(directory, work)
        app.close()
        if args.store == "postgres":
            import psycopg

            from psa.persistence import postgres_conninfo

            with psycopg.connect(postgres_conninfo(config), autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{prefix}customers" CASCADE')

    n = args.rows
    print(f"{n:,} rows, batches of {BATCH}, {args.store}, time per row (this process's CPU):")
    print(f"  execute the batches:     {execute / n * 1e6:7.1f} µs")
    print(f"  customer list catch-up:  {listing / n * 1e6:7.1f} µs")
    print(f"  relay translation:       {relay / n * 1e6:7.1f} µs ({entries:,} entries)")
    print(f"  sum:                     {(execute + listing + relay) / n * 1e6:7.1f} µs")
    print(f"  raw bulk insert of the rows' JSON, same run: {raw / n * 1e6:7.1f} µs")


if __name__ == "__main__":
    main()
