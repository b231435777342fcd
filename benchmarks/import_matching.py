"""The importer's memory for files whose rows find customers of the register or give their
own numbers: peak RSS of checking a --rows (1M) row CSV and planning its batches, in one
process on SQLite, beside the same process's RSS before the check and the raw parse + check
rate of the same file. The end-to-end benchmark (benchmarks/import.py) imports a file
without numbers or business ids; this one measures what such a file does not.

Scenarios (each in a process of its own, with `update_existing`):
- reimport: every row gives a number and a business id, and finds its customer in the
  register (the register exported and imported again);
- mixed: every other row gives a number, the others are numbered automatically (the
  numbers later batches give ride on the earlier ones).

Bar (DESIGN.md §9): peak RSS <= 200 MiB per process, flat in the number of rows.

    .venv/bin/python benchmarks/import_matching.py [--rows 1000000] [--scenario reimport|mixed]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from psa.config import Config  # noqa: E402
from psa.customer_rules.settings_view import SettingsView, new_document  # noqa: E402
from psa.persistence import event_store_env  # noqa: E402
from services.importer.application import ImporterApplication  # noqa: E402
from services.importer.columns import columns, map_headers  # noqa: E402
from services.importer.reader import open_sheet  # noqa: E402
from services.importer.validation import RowChecker  # noqa: E402

TENANT = str(uuid.UUID(int=1))
COMPANY = "c1"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2)


def business_id(index: int) -> str | None:
    """A valid Finnish business id made of `index`, or None if its digits have no check digit."""
    digits = f"{index:07d}"
    remainder = sum(int(d) * w for d, w in zip(digits, WEIGHTS, strict=True)) % 11
    if remainder == 1:
        return None
    return f"{digits}-{0 if remainder == 0 else 11 - remainder}"


def keys(rows: int) -> Iterator[str]:
    """`rows` valid business ids, made one at a time (a list of them would be the
    process's peak)."""
    index = 1_000_000
    for _ in range(rows):
        while (value := business_id(index := index + 1)) is None:
            pass
        yield value


def view() -> SettingsView:
    document = new_document(TENANT)
    document["companies"] = {COMPANY: "Yhtiö"}
    document["customer_types"] = {
        "t": {"id": "t", "name": "Asiakas", "invoicing_allowed": True, "archived": False}
    }
    document["default_types"] = {"customer": "t", "subcontractor": None, "consumer": None}
    return SettingsView(document)


def write_file(path: Path, scenario: str, ids: Iterable[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("Nimi;Asiakasnumero;Y-tunnus;Postitoimipaikka\r\n")
        for index, business in enumerate(ids, start=1):
            number = str(100_000 + index) if scenario == "reimport" or index % 2 else ""
            given = business if scenario == "reimport" else ""
            handle.write(f"Asiakas {index:07d} Oy;{number};{given};Jyväskylä\r\n")


def raw_rate(path: Path) -> float:
    known = columns(view())
    start = time.perf_counter()
    sheet = open_sheet(path, path.name)
    mapping = map_headers(sheet.headers(), known)
    checker = RowChecker(view(), COMPANY, known, lossy=sheet.lossy, cell_errors=not sheet.whole)
    count = 0
    for number, values in sheet.rows():
        checker.check(number, {k: values[i] for i, k in mapping.positions.items()})
        count += 1
    return count / (time.perf_counter() - start)


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(scenario: str, rows: int, tmp: Path) -> None:
    """In this process: fill the register, check the file and plan its batches."""
    config = Config(data_dir=tmp / "data")
    app = ImporterApplication(env=event_store_env(config, "importer"), data_dir=config.data_dir)
    app.settings_of = lambda tenant_id: view()
    path = tmp / "register.csv"
    write_file(path, scenario, keys(rows))
    if scenario == "reimport":
        with app.tables.transaction() as cursor:
            cursor.executemany(
                app.tables.sql(
                    f"INSERT INTO {app.tables.name('import_register')} (customer_id, tenant_id, "
                    "number_key, business_id) VALUES (?, ?, ?, ?)"
                ),
                (
                    (str(uuid.UUID(int=index)), TENANT, str(100_000 + index), business)
                    for index, business in enumerate(keys(rows), start=1)
                ),
            )
    queued = 0

    def queue_batch(job: Any, batch: int, rows_: list[Any], *args: Any, **kwargs: Any) -> bool:
        nonlocal queued
        queued += len(rows_)
        return True  # the batch's rows counted, not sent: no customers service here

    app._queue_batch = queue_batch  # type: ignore[method-assign,assignment]
    upload = tmp / "upload.csv"
    shutil.copyfile(path, upload)
    job = app.queue(
        tenant_id=TENANT,
        company_id=COMPANY,
        actor_id="bench",
        actor_name="Bench",
        filename="register.csv",
        upload=upload,
        options={"update_existing": True},
        mapping=None,
    )
    before = rss_mib()
    start = time.perf_counter()
    app.run(job.id)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ended = app.read(job.id)
    if queued != rows or ended.counts.get("failed"):
        raise SystemExit(f"{queued} rows queued of {rows}: {ended.as_dict()}")
    print(
        f"  {scenario}: {rows:,} rows checked and planned in {seconds:.1f} s; peak RSS "
        f"{peak:.0f} MiB (before the check {before:.0f} MiB)   (raw parse + check of the "
        f"same file: {raw_rate(path):8,.0f} rows/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--scenario", choices=["reimport", "mixed", "both"], default="both")
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:
        with tempfile.TemporaryDirectory() as tmp:
            measure(args.scenario, args.rows, Path(tmp))
        return
    print("The importer checking a file and planning its batches (update_existing):")
    for scenario in ("reimport", "mixed") if args.scenario == "both" else (args.scenario,):
        command = [sys.executable, __file__, "--in-process", "--scenario", scenario]
        subprocess.run([*command, "--rows", str(args.rows)], check=True)


if __name__ == "__main__":
    main()
