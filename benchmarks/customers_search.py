"""Customer list and search over 100k customers with five additional fields, on SQLite and
PostgreSQL: p50/p99 of indexed filters and of free text plus a field filter, through the
product's search (visibility rules, count, first page), beside the same query's bare SQL
run directly against the store in the same run.

Bars (DESIGN.md §9): indexed filters p99 <= 25 ms; free text + field filter p99 <= 100 ms.

    POSTGRES_DBNAME=test .venv/bin/python benchmarks/customers_search.py [--store both]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from psa.config import Config
from psa.customer_rules.settings_view import (
    SettingsView,
    apply_settings_event,
    new_document,
)
from services.customers.bootstrap import build_application
from services.customers.search import Query, Viewer, search

TENANT = str(uuid.UUID(int=1))
COMPANIES = [str(uuid.UUID(int=10)), str(uuid.UUID(int=11))]
TYPES = [str(uuid.UUID(int=100 + i)) for i in range(4)]
GROUPS = [str(uuid.UUID(int=200 + i)) for i in range(8)]
COMPANY_GROUPS = [str(uuid.UUID(int=300 + i)) for i in range(5)]
FIELDS = [str(uuid.UUID(int=400 + i)) for i in range(5)]
OPTIONS = [str(uuid.UUID(int=500 + i)) for i in range(10)]
WORDS = [
    "Rakennus",
    "Kone",
    "Metalli",
    "Puu",
    "Kauppa",
    "Data",
    "Sähkö",
    "Kuljetus",
    "Ravintola",
    "Konsultointi",
    "Lakitoimisto",
    "Tili",
    "Maalaus",
    "Putki",
    "Siivous",
]


def settings() -> SettingsView:
    document = new_document(TENANT)
    events: list[dict[str, Any]] = [
        {
            "type": "TenantCreated",
            "name": "Bench",
            "companies": [{"id": c, "name": f"Yhtiö {i}"} for i, c in enumerate(COMPANIES)],
            "users": [
                {
                    "id": f"u{i}",
                    "name": f"User {i}",
                    "company_id": COMPANIES[i % 2],
                    "company_ids": [COMPANIES[i % 2]],
                    "roles": ["user"],
                }
                for i in range(10)
            ],
        },
        {
            "type": "CustomerSettingsCreated",
            "customer_types": [
                {
                    "id": t,
                    "name": f"Tyyppi {i}",
                    "builtin": None,
                    "invoicing_allowed": True,
                    "archived": False,
                }
                for i, t in enumerate(TYPES)
            ],
            "default_types": {"customer": TYPES[0], "subcontractor": TYPES[1], "consumer": None},
            "numbering": {"mode": "automatic", "next_number": 1},
            "hierarchy_filter": "all",
            "multi_company": {
                "see_other_companies_customers": False,
                "hide_other_companies_details": True,
                "default_relationship_type_id": None,
                "share_company_structure": False,
                "account_manager_from_any_company": False,
                "customer_group_mandatory": False,
            },
        },
        *[
            {
                "type": "CustomerGroupAdded",
                "group_id": g,
                "name": f"Ryhmä {i}",
                "integration_id": None,
            }
            for i, g in enumerate(GROUPS)
        ],
        {
            "type": "FieldAdded",
            "field_id": FIELDS[0],
            "name": "Toimiala",
            "field_type": "dropdown",
            "options": [
                {"id": o, "name": f"Ala {i}", "archived": False} for i, o in enumerate(OPTIONS)
            ],
            "shown_in_details_and_list": True,
            "mandatory": False,
            "shown_in_reports": True,
            "hubspot_property_id": None,
        },
        {
            "type": "FieldAdded",
            "field_id": FIELDS[1],
            "name": "Muistio",
            "field_type": "text",
            "options": [],
            "shown_in_details_and_list": True,
            "mandatory": False,
            "shown_in_reports": True,
            "hubspot_property_id": None,
        },
        {
            "type": "FieldAdded",
            "field_id": FIELDS[2],
            "name": "Alkaen",
            "field_type": "date",
            "options": [],
            "shown_in_details_and_list": True,
            "mandatory": False,
            "shown_in_reports": True,
            "hubspot_property_id": None,
        },
        {
            "type": "FieldAdded",
            "field_id": FIELDS[3],
            "name": "VIP",
            "field_type": "checkbox",
            "options": [],
            "shown_in_details_and_list": True,
            "mandatory": False,
            "shown_in_reports": True,
            "hubspot_property_id": None,
        },
        {
            "type": "FieldAdded",
            "field_id": FIELDS[4],
            "name": "Kanavat",
            "field_type": "multiselect",
            "options": [
                {"id": o, "name": f"Kanava {i}", "archived": False} for i, o in enumerate(OPTIONS)
            ],
            "shown_in_details_and_list": True,
            "mandatory": False,
            "shown_in_reports": True,
            "hubspot_property_id": None,
        },
    ]
    for version, payload in enumerate(events, start=1):
        apply_settings_event(document, {"aggregate_version": version, "payload": payload})
    return SettingsView(document)


def customer(index: int, rng: random.Random) -> dict[str, Any]:
    company = COMPANIES[index % 2]
    name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {index} Oy"
    return {
        "id": str(uuid.UUID(int=10**6 + index)),
        "tenant_id": TENANT,
        "version": 1,
        "number": str(index + 1),
        "name": name,
        "kind": ("company", "consumer", "subcontractor")[index % 3],
        "business_id": f"{index:07d}-0",
        "company_group_id": COMPANY_GROUPS[index % 5],
        "parent_id": None,
        "parent_company_id": None,
        "address": None,
        "contacts": [],
        "fields": {
            FIELDS[0]: OPTIONS[index % 10],
            FIELDS[1]: f"Muistiinpano {rng.choice(WORDS).lower()} {index}",
            FIELDS[2]: f"202{index % 6}-{index % 12 + 1:02d}-{index % 28 + 1:02d}",
            FIELDS[3]: index % 7 == 0,
            FIELDS[4]: [OPTIONS[index % 10], OPTIONS[(index + 3) % 10]],
        },
        "relationships": [
            {
                "company_id": company,
                "type_id": TYPES[index % 4],
                "group_id": GROUPS[index % 8],
                "account_manager_id": f"u{index % 10}",
                "team": None,
                "customer_team": None,
                "tags": [f"tagi{index % 50}"],
            }
        ],
        "created_in": company,
        "created_at": f"2026-01-01T00:00:{index % 60:02d}+00:00",
        "updated_at": "2026-01-01T00:00:00+00:00",
    }


def load(config: Config, count: int) -> tuple[Any, Any]:
    app, _ = build_application(config)
    projection = app.customer_list
    rng = random.Random(7)
    batch = 2000
    start = time.perf_counter()
    for first in range(0, count, batch):
        with projection.tables.transaction() as cursor:
            for index in range(first, min(first + batch, count)):
                document = customer(index, rng)
                projection.write(cursor, index + 1, document)
    if projection.tables.postgres:
        # What autovacuum does to a table that has had this many inserts: statistics, and
        # the visibility map that lets counts read the indexes only.
        import psycopg

        from psa.persistence import postgres_conninfo

        with psycopg.connect(postgres_conninfo(config), autocommit=True) as conn:
            for table in ("customer_list", "customer_scope", "customer_term", "customer_posting"):
                conn.execute(f"VACUUM ANALYZE {projection.tables.name(table)}")
    else:
        with projection.tables.transaction() as cursor:
            cursor.execute("ANALYZE")
    print(f"  loaded {count:,} customers in {time.perf_counter() - start:.1f} s")
    return app, projection.tables


def timed(run: Callable[[], Any], repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    samples.sort()
    return statistics.median(samples) * 1000, samples[int(len(samples) * 0.99) - 1] * 1000


def measure(config: Config, count: int, repeat: int) -> None:
    app, tables = load(config, count)
    view = settings()
    viewer = Viewer(TENANT, COMPANIES[0])
    indexed = [
        Query(type_id=TYPES[2]),
        Query(group_id=GROUPS[4]),
        Query(company_group_id=COMPANY_GROUPS[1]),
        Query(tag="tagi12"),
        Query(account_manager_id="u4"),
        Query(kind="consumer"),
        Query(fields={FIELDS[0]: {"eq": OPTIONS[3]}}),
        Query(fields={FIELDS[4]: {"eq": OPTIONS[5]}}),
        Query(fields={FIELDS[3]: {"eq": "true"}}),
        Query(fields={FIELDS[2]: {"from": "2024-03-01", "to": "2024-06-30"}}),
        Query(sort="number"),
    ]
    text = [
        Query(q="rakennus", fields={FIELDS[0]: {"eq": OPTIONS[2]}}),
        Query(q="kone metalli", fields={FIELDS[3]: {"eq": "true"}}),
        Query(q="12345", fields={FIELDS[4]: {"eq": OPTIONS[1]}}),
        Query(q="data", fields={FIELDS[1]: {"eq": "kuljetus"}}),
    ]
    for label, queries in (("indexed filters", indexed), ("free text + a field filter", text)):
        turn = iter(range(10**9))
        chosen = queries

        def product(chosen: list[Query] = chosen, turn: Any = turn) -> Any:
            return search(tables, view, viewer, chosen[next(turn) % len(chosen)])

        def direct(chosen: list[Query] = chosen, turn: Any = turn) -> Any:
            return bare(tables, chosen[next(turn) % len(chosen)])

        p50, p99 = timed(product, repeat)
        b50, b99 = timed(direct, repeat)
        print(
            f"  {label:28s} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms   "
            f"(bare SQL, same filters: p50 {b50:6.2f} ms  p99 {b99:6.2f} ms)"
        )
    export_memory(tables, view, viewer)
    app.close()


def export_memory(tables: Any, view: SettingsView, viewer: Viewer) -> None:
    """The export of every customer the viewer may see, as CSV and XLSX: the Python heap's
    peak while it streams (constant memory), beside the size of what it wrote."""
    import tracemalloc

    from services.customers.reports import csv_lines, xlsx_file

    tracemalloc.start()
    start = time.perf_counter()
    written = sum(len(chunk) for chunk in csv_lines(tables, view, viewer, Query()))
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    handle = xlsx_file(tables, view, viewer, Query())
    xlsx_size = handle.seek(0, 2)
    handle.close()
    xlsx_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    total = search(tables, view, viewer, Query(limit=1))[1]
    print(
        f"  export of {total:,} rows: CSV {written / 2**20:.0f} MiB in {seconds:.1f} s with "
        f"a heap peak of {peak / 2**20:.1f} MiB; XLSX {xlsx_size / 2**20:.0f} MiB, heap peak "
        f"{xlsx_peak / 2**20:.1f} MiB"
    )


def bare(tables: Any, query: Query) -> Any:
    """The same filter as hand-written SQL against the same tables: the first page in name
    order of the tenant's customers, without the count, the multi-company rules or reading
    the documents."""
    t = tables
    facets: list[tuple[str, str, list[Any]]] = []
    if query.type_id:
        facets.append(("type", "value = ?", [query.type_id]))
    if query.group_id:
        facets.append(("group", "value = ?", [query.group_id]))
    if query.account_manager_id:
        facets.append(("account_manager", "value = ?", [query.account_manager_id]))
    if query.tag:
        facets.append(("tag", "value = ?", [query.tag]))
    if query.company_group_id:
        facets.append(("company_group", "value = ?", [query.company_group_id]))
    if query.kind:
        facets.append(("kind", "value = ?", [query.kind]))
    for field_id, ops in query.fields.items():
        if field_id == FIELDS[1]:
            facets.append((f"field:{field_id}", "text LIKE ?", [f"%{ops['eq']}%"]))
        elif "eq" in ops:
            facets.append((f"field:{field_id}", "value = ?", [ops["eq"]]))
        else:
            facets.append((f"field:{field_id}", "value BETWEEN ? AND ?", [ops["from"], ops["to"]]))
    where, params = (
        ["s.scope_term = (SELECT term_id FROM {term} WHERE facet = 'scope' AND scope = '*')"],
        [],
    )
    for facet, condition, values in facets:
        where.append(
            f"s.seq IN (SELECT seq FROM {t.name('customer_posting')} WHERE term_id IN "
            f"(SELECT term_id FROM {{term}} WHERE scope = '*' AND facet = ? AND {condition}))"
        )
        params += [facet, *values]
    if query.q:
        where.append("s.name_key LIKE ?")
        params.append(f"%{query.q.casefold()}%")
    order = "s.number_sort" if query.sort == "number" else "s.name_key"
    sql = (
        f"SELECT s.customer_id FROM {t.name('customer_scope')} s WHERE "
        f"{' AND '.join(where)} ORDER BY {order} LIMIT 50"
    ).replace("{term}", t.name("customer_term"))
    with t.transaction(commit=False) as cursor:
        t.execute(cursor, sql, tuple(params))
        return cursor.fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--store", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.store in ("sqlite", "both"):
            print(f"SQLite, {args.customers:,} customers, five additional fields:")
            measure(Config(data_dir=Path(tmp) / "sqlite"), args.customers, args.repeat)
        if args.store in ("postgres", "both"):
            print(f"PostgreSQL, {args.customers:,} customers, five additional fields:")
            prefix = f"bench{uuid.uuid4().hex[:6]}_"
            config = Config(
                data_dir=Path(tmp) / "pg",
                persistence_module="eventsourcing.postgres",
                schema_prefix=prefix,
            )
            try:
                measure(config, args.customers, args.repeat)
            finally:
                import psycopg

                from psa.persistence import postgres_conninfo

                with psycopg.connect(postgres_conninfo(config), autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA "{prefix}customers" CASCADE')


if __name__ == "__main__":
    main()
