"""Imports end to end, with the services as separate processes (as compose runs them): rows/s
from the upload to every customer listed, for a CSV and an XLSX of --rows rows (100k), on
SQLite and PostgreSQL; and the peak RSS of every process for a CSV of --big rows (1M), beside
the raw rate of parsing and checking the same file in this process.

Bars (DESIGN.md §9): 100k-row CSV >= 15,000 rows/s on SQLite, >= 10,000 on PostgreSQL;
XLSX >= 7,000 rows/s; 1M-row CSV peak RSS <= 200 MiB per process, flat.

    POSTGRES_DBNAME=test .venv/bin/python benchmarks/import.py [--store sqlite|postgres|both]
        [--rows 100000] [--big 1000000] [--skip-big] [--skip-xlsx] [--skip-csv]
        [--stream-retention all|acknowledged] [--one-process] [--big-only --big-keys]

With --one-process the services run as `make up` runs them: `psa up`, one process (and the
customers service's background process unless PSA_BACKGROUND_PROCESS=false).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from import_matching import keys

from psa.customer_rules.settings_view import SettingsView, new_document
from psa.embedded import free_port, start_embedded_redis
from services.importer.columns import columns, map_headers
from services.importer.reader import open_sheet
from services.importer.validation import RowChecker

ROOT = Path(__file__).resolve().parent.parent
SECRET = "benchmark-secret-of-this-run-" + "x" * 20
BIN = Path(sys.executable).parent


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="cp1252", newline="") as handle:
        handle.write("Nimi;Y-tunnus;Postitoimipaikka;Tunnisteet;Yhteyshenkilö\r\n")
        for index in range(1, rows + 1):
            handle.write(f"Asiakas {index:07d} Oy;;Jyväskylä;tuotu;Henkilö {index}\r\n")


def write_keyed_csv(path: Path, rows: int) -> None:
    """A register as an older system exports it: every row gives a number and a business id."""
    with path.open("w", encoding="cp1252", newline="") as handle:
        handle.write("Nimi;Asiakasnumero;Y-tunnus;Postitoimipaikka;Tunnisteet;Yhteyshenkilö\r\n")
        for index, business_id in enumerate(keys(rows), start=1):
            handle.write(
                f"Asiakas {index:07d} Oy;{100_000 + index};{business_id};Jyväskylä;tuotu;"
                f"Henkilö {index}\r\n"
            )


def write_xlsx(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Asiakkaat")
    sheet.append(["Nimi", "Y-tunnus", "Postitoimipaikka", "Tunnisteet", "Yhteyshenkilö"])
    for index in range(1, rows + 1):
        sheet.append([f"Asiakas {index:07d} Oy", None, "Jyväskylä", "tuotu", f"Henkilö {index}"])
    workbook.save(path)


def raw_rate(path: Path) -> float:
    """Parse and check every row of the file in this process, as the importer does."""
    document = new_document(str(uuid.UUID(int=1)))
    document["companies"] = {"c1": "Yhtiö"}
    document["customer_types"] = {
        "t": {"id": "t", "name": "Asiakas", "invoicing_allowed": True, "archived": False}
    }
    document["default_types"] = {"customer": "t", "subcontractor": None, "consumer": None}
    view = SettingsView(document)
    known = columns(view)
    start = time.perf_counter()
    sheet = open_sheet(path, path.name)
    mapping = map_headers(sheet.headers(), known)
    checker = RowChecker(view, "c1", known, lossy=sheet.lossy, cell_errors=not sheet.whole)
    count = 0
    for number, values in sheet.rows():
        checker.check(number, {k: values[i] for i, k in mapping.positions.items()})
        count += 1
    return count / (time.perf_counter() - start)


class Deployment:
    """settings, customers and importer as separate processes."""

    def __init__(self, env: dict[str, str], tmp: Path) -> None:
        self.env = env
        self.tmp = tmp
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.urls: dict[str, str] = {}
        self.others: dict[str, int] = {}  # other processes to measure (the embedded Redis)

    def start(self, service: str) -> None:
        """Start a service (`up`: every service in one process, as `make up` runs them)."""
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = (self.tmp / f"{service}.log").open("wb")
        command = (
            [str(BIN / "psa"), "up"]
            if service == "up"
            else [sys.executable, "-m", f"services.{service}"]
        )
        self.processes[service] = subprocess.Popen(
            command,
            env={**self.env, "PSA_PORT": str(port)},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{service} did not start; see {self.tmp / (service + '.log')}")
            time.sleep(0.1)
        for name in ("settings", "customers", "importer") if service == "up" else (service,):
            self.urls[name] = url

    def pids(self) -> dict[str, int]:
        """Every process of the deployment: the services and their own worker processes."""
        pids = {}
        for service, process in self.processes.items():
            pids[service] = process.pid
            for child in _children(process.pid):
                command = Path(f"/proc/{child}/cmdline").read_bytes()
                if b"resource_tracker" not in command:  # multiprocessing's own helper
                    pids[f"{service} (background)"] = child
        return {**pids, **self.others}

    def cpu_seconds(self) -> dict[str, float]:
        seconds = {name: _cpu(pid) for name, pid in self.pids().items()}
        if self.env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres":
            seconds["postgresql (all server processes)"] = _server_cpu("postgres")
        return seconds

    def peak_rss(self) -> dict[str, float]:
        return {name: _peak(pid) for name, pid in self.pids().items()}

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _children(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(x) for x in (task / "children").read_text().split()]
    return children


def _server_cpu(name: str) -> float:
    """CPU time of every process of a server on this machine (ended ones are not counted)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    total += _cpu(int(entry.name))
            except OSError:
                continue
    return total


def _cpu(pid: int) -> float:
    """A process's CPU time so far (user and system), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak(pid: int) -> float:
    """A process's peak resident memory so far, in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def tenant(deployment: Deployment) -> tuple[dict[str, str], str]:
    env = {**deployment.env, "PSA_URL": deployment.urls["settings"]}
    result = subprocess.run(
        [str(BIN / "psa"), "tenant", "create", "Bench Oy", "--company", "Bench Oy", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    token = json.loads(result.stdout)["admin_token"]
    headers = {"Authorization": f"Bearer {token}"}
    history = httpx.get(
        deployment.urls["settings"] + "/api/v1/settings/customers/history", headers=headers
    ).json()
    return headers, str(history["items"][0]["position"])


def import_once(
    deployment: Deployment,
    path: Path,
    rows: int,
    into: tuple[dict[str, str], str] | None = None,
    update_existing: bool = False,
) -> tuple[float, dict[str, Any]]:
    """Seconds from the upload to every customer listed, and the job as it ended; into a new
    tenant, or `into` the one of an earlier import (admin headers, settings position)."""
    admin, position = into or tenant(deployment)
    start = time.perf_counter()
    with path.open("rb") as handle:
        response = httpx.post(
            deployment.urls["importer"] + "/api/v1/imports",
            headers={**admin, "Settings-Position": position},
            files={"file": (path.name, handle)},
            data={"dry_run": "false", "update_existing": str(update_existing).lower()},
            timeout=600,
        )
    response.raise_for_status()
    job_id = response.json()["id"]
    while True:
        try:
            job: dict[str, Any] = httpx.get(
                deployment.urls["importer"] + f"/api/v1/imports/{job_id}",
                headers=admin,
                timeout=30,
            ).json()
        except httpx.TimeoutException:
            print("  (the importer took over 30 s to answer a status request)")
            continue
        if job["status"] not in ("queued", "validating", "running"):
            break
        time.sleep(0.2)
    if job["status"] != "completed":
        raise SystemExit(f"the import ended {job['status']}: {job}")
    ended = time.perf_counter() - start
    while True:
        listed = httpx.get(
            deployment.urls["customers"] + "/api/v1/customers?limit=1",
            headers=admin,
            timeout=60,
        ).json()
        if listed["total"] >= rows:
            break
        time.sleep(0.1)
    job["seconds_to_job_end"] = ended
    job["tenant"] = (admin, position)
    return time.perf_counter() - start, job


def run(store: str, args: argparse.Namespace, tmp: Path) -> None:
    redis_url = os.environ.get("REDIS_URL")
    embedded = None
    if not redis_url:
        embedded = start_embedded_redis(tmp / "redis", persistent=False)
        redis_url = embedded.url
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PSA_", "PERSISTENCE_", "REDIS_"))
    }
    prefix = f"bench{uuid.uuid4().hex[:6]}_"
    env.update(
        PSA_DATA_DIR=str(tmp / store / "data"),
        PSA_JWT_SECRET=SECRET,
        REDIS_URL=redis_url,
        PSA_STREAM_PREFIX=prefix,
        PSA_LOG_LEVEL="warning",
        PSA_STREAM_RETENTION=args.stream_retention,
    )
    if store == "postgres":
        env.update(PERSISTENCE_MODULE="eventsourcing.postgres", PSA_SCHEMA_PREFIX=prefix)
    (tmp / store).mkdir(parents=True, exist_ok=True)
    files = []
    csv_file = tmp / "register.csv"
    if not args.big_only and not args.skip_csv:
        if not csv_file.exists():
            write_csv(csv_file, args.rows)
        files.append(("CSV", csv_file, args.rows))
    if not args.skip_xlsx and not args.big_only:
        xlsx_file = tmp / "register.xlsx"
        if not xlsx_file.exists():
            write_xlsx(xlsx_file, args.rows)
        files.append(("XLSX", xlsx_file, args.rows))
    deployment = Deployment(env, tmp / store)
    if embedded is not None:
        deployment.others["redis (embedded)"] = embedded.process.pid
    try:
        for service in ("up",) if args.one_process else ("settings", "customers", "importer"):
            deployment.start(service)
        print(f"{store}{' (one process, as make up runs it)' if args.one_process else ''}:")
        for label, path, rows in files:
            cpu_before = deployment.cpu_seconds()
            seconds, job = import_once(deployment, path, rows)
            cpu = {k: v - cpu_before.get(k, 0) for k, v in deployment.cpu_seconds().items()}
            if args.verbose:
                print(f"  (job ended after {job['seconds_to_job_end']:.1f} s of {seconds:.1f} s)")
                print(
                    "  (CPU per row: "
                    + ", ".join(f"{k} {v / rows * 1e6:.0f} µs" for k, v in cpu.items())
                    + ")"
                )
            print(
                f"  {label} {rows:,} rows: {rows / seconds:8,.0f} rows/s end to end"
                f"   (raw parse + check of the same file: {raw_rate(path):8,.0f} rows/s)"
            )
        if not args.skip_big and store == "sqlite":
            big = tmp / "big.csv"
            (write_keyed_csv if args.big_keys else write_csv)(big, args.big)
            seconds, job = import_once(deployment, big, args.big)
            label = "numbers and business ids" if args.big_keys else "no numbers"
            print(
                f"  CSV {args.big:,} rows ({label}): {args.big / seconds:8,.0f} rows/s; "
                "peak RSS "
                + ", ".join(f"{n} {mib:.0f} MiB" for n, mib in deployment.peak_rss().items())
                + f"   (raw parse + check: {raw_rate(big):8,.0f} rows/s; stream retention: "
                + f"{args.stream_retention})"
            )
            if args.big_keys:  # the same file again: every row finds its customer as it is
                seconds, again = import_once(
                    deployment, big, args.big, job["tenant"], update_existing=True
                )
                if (again["updated"], again["unchanged"]) != (0, args.big):
                    raise SystemExit(
                        f"the update updated {again['updated']} rows, left "
                        f"{again['unchanged']} unchanged: {again}"
                    )
                print(
                    f"  the same CSV again, update_existing: {args.big / seconds:8,.0f} rows/s; "
                    "peak RSS "
                    + ", ".join(f"{n} {mib:.0f} MiB" for n, mib in deployment.peak_rss().items())
                )
    finally:
        deployment.stop()
        if embedded is not None:
            embedded.stop()
        if store == "postgres":
            import psycopg

            from psa.config import Config
            from psa.persistence import postgres_conninfo

            config = Config(persistence_module="eventsourcing.postgres", schema_prefix=prefix)
            with psycopg.connect(postgres_conninfo(config), autocommit=True) as conn:
                for service in ("settings", "customers", "importer"):
                    conn.execute(f'DROP SCHEMA IF EXISTS "{prefix}{service}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--skip-xlsx", action="store_true")
    parser.add_argument("--skip-csv", action="store_true", help="Not the --rows CSV")
    parser.add_argument("--big-only", action="store_true", help="Only the --big CSV (SQLite)")
    parser.add_argument(
        "--big-keys",
        action="store_true",
        help="The --big CSV gives numbers and business ids; then it is imported again with "
        "update_existing",
    )
    parser.add_argument(
        "--one-process", action="store_true", help="Every service in one process (`psa up`)"
    )
    parser.add_argument("--verbose", action="store_true", help="Also when each job ended")
    parser.add_argument(
        "--stream-retention",
        choices=["all", "acknowledged"],
        default="all",
        help="PSA_STREAM_RETENTION of the services: whether Redis keeps the streams' history",
    )
    args = parser.parse_args()
    # Stopped with SIGTERM, it still stops the processes it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        for store in ("sqlite", "postgres"):
            if args.store in (store, "both") and not (args.big_only and store == "postgres"):
                run(store, args, tmp)


if __name__ == "__main__":
    main()
