"""The importer: import jobs as aggregates, their files under the data dir, their per-row
errors in a table, and the run that checks every row against the tenant's settings.

A job that was queued or running when the process stopped is picked up again at start-up:
its run starts over, which is safe because a run's checks and error rows are replaced
whole (and, once rows go to the customers service, each row's key makes it idempotent)."""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import orjson
from eventsourcing.persistence import IntegrityError

from contracts.imports import import_row_customer_id
from psa.application import ServiceApplication
from psa.customer_rules.rules import (
    fine_if_existing,
    imported_before,
    links,
    number_of_another,
)
from psa.customer_rules.settings_view import SettingsView
from psa.errors import ConflictError, NotFoundError
from psa.streams.consumer import TRANSIENT_ERRORS
from psa.tables import Tables, lock_tracking, track

from .columns import columns, map_headers
from .domainmodel import FINAL, ImportBatch, ImportJob, batch_id
from .finnish import in_finnish
from .reader import FileProblem, filled, open_sheet
from .rowindex import CHUNK, Hierarchy, RowIndex, RowSet
from .validation import RowChecker, duplicate_key, name_key, namesake, rule_column, same_row

DEAD_BATCH = (
    "the customers service could not create the customers of this row's batch (the batch is "
    "kept in customers.commands.v1.dlq for the operator): import these rows again"
)
# Failures of the database or Redis (not of a file, which fails its job).
STORE_ERRORS = tuple(e for e in TRANSIENT_ERRORS if not issubclass(e, OSError))
log = logging.getLogger("psa.importer")
BATCH = 1000
ROWS_PER_BATCH = 500
IN_FLIGHT = 12  # batches queued and not yet executed, at most
_TABLES = {
    "import_job": "job_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, status TEXT NOT NULL",
    # When each job was uploaded, for a tenant's list of its imports, newest first.
    "import_job_uploaded": (
        "job_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, uploaded_at TEXT NOT NULL"
    ),
    # Outcomes of the batches the customers service has executed, one row per batch.
    # `unchanged`: rows that found a customer to update and changed nothing of it.
    "import_batch_done": (
        "job_id TEXT NOT NULL, batch BIGINT NOT NULL, created BIGINT NOT NULL, "
        "updated BIGINT NOT NULL, skipped BIGINT NOT NULL, failed BIGINT NOT NULL, "
        "unchanged BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (job_id, batch)"
    ),
    # Batches the customers service gave up on (their outcome above is their rows failed),
    # with the version of the command it gave up on; a batch sent again replaces it.
    "import_batch_dead": (
        "job_id TEXT NOT NULL, batch BIGINT NOT NULL, attempt BIGINT NOT NULL, "
        "PRIMARY KEY (job_id, batch)"
    ),
    # The outcome of a given-up batch that the customers service did execute after all
    # (it arrived when no retry awaited it): a retry takes it instead of waiting for the
    # batch sent again, whose result exists already, so nothing would be published for it.
    "import_batch_late": (
        "job_id TEXT NOT NULL, batch BIGINT NOT NULL, outcome TEXT NOT NULL, "
        "PRIMARY KEY (job_id, batch)"
    ),
    # The register as the importer knows it from customers.events.v1: numbers and business
    # ids of existing customers, for duplicates and parents. `companies`: the ids of the
    # companies a customer has a relationship with, joined by commas, known from its
    # creation on (its `CustomerCreated`, or its batch's `ImportBatchExecuted.created`) and
    # added to by `CustomerRelationshipSet`; NULL for a customer registered before they were
    # kept (one relationship set since is not all of them): the check leaves such a customer
    # to the customers service. `parents`: each company's link to a parent unit (JSON,
    # company id → customer id; NULL without links, or for a customer whose links were not
    # kept yet when it was registered), for loops of parents through the register.
    # `name_key`: the name, case and spacing aside (`name_key`), for a row without a
    # business id or number that would create a customer of the same name.
    "import_register": (
        "customer_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, number_key TEXT NOT NULL, "
        "business_id TEXT, companies TEXT, parents TEXT, name_key TEXT"
    ),
    "import_error": (
        "job_id TEXT NOT NULL, row_number BIGINT NOT NULL, column_name TEXT NOT NULL, "
        "message TEXT NOT NULL, phase TEXT NOT NULL"
    ),
    # Which importer process runs a job, until when (seconds since the epoch): replicas of
    # the importer run each job in one of them at a time.
    "import_job_lease": (
        "job_id TEXT PRIMARY KEY, holder TEXT NOT NULL, until DOUBLE PRECISION NOT NULL"
    ),
}


@dataclass(frozen=True)
class BatchContext:
    """What recording a batch's outcome needs of its job and the tenant's settings."""

    retrying: dict[str, int]  # the job's batches sent again, with their commands' versions
    headers: dict[str, str]  # the columns' headers, to name them in the errors


@dataclass
class Checked:
    """What checking a file's rows found, for queueing its valid rows."""

    total: int
    failed_rows: RowSet
    file_errors: bool
    positions: dict[int, str]
    index: RowIndex  # the rows' numbers, business ids and the customers they find
    hierarchy: Hierarchy  # the rows' parents in the file
    existing: int  # valid rows whose customer is in the register
    header: Callable[[str], str]  # a column's header in the file


def _batch_number(level: int, slot: int) -> int:
    """A batch's number: its level of the hierarchy and its range of the file's rows."""
    return level * 100_000 + slot + 1


# Added to the numbers of the batches queued first (see `_numbered_first`).
NUMBERED_FIRST = 1_000_000_000


def _numbered_first(checked: Checked) -> RowSet:
    """In a file with numbers given in some rows and not in others, the rows to queue first:
    those with a number whose parents in the file have numbers too, so that automatic
    numbers (given in the order rows are executed) skip the numbers the file gives. Empty
    for any other file, whose batches keep their numbers."""
    failed = checked.failed_rows
    numbered = RowSet(row for row in checked.index.numbered() if row not in failed)
    first = RowSet()
    if not numbered or len(numbered) + len(failed) >= checked.total:
        return first
    for row in numbered:
        chain, loop = checked.hierarchy.ancestors(row)
        if loop is None and all(r in numbered for r in chain):
            first.add(row)
    return first


# What finds a customer of the register, in words.
_FOUND_BY = {"business_id": "business id", "number": "number"}
# What became of the rows the customers service executed, as the job counts them.
OUTCOMES = ("created", "updated", "unchanged", "skipped", "failed")


def count_outcomes(outcomes: Iterable[dict[str, Any]]) -> dict[str, int]:
    """A batch's rows by what became of them (`OUTCOMES`): an `updated` row that changed
    nothing of its customer (`changed` false) is `unchanged`; one without `changed` (an
    outcome from before it was told) is `updated`."""
    tally = dict.fromkeys(OUTCOMES, 0)
    for outcome in outcomes:
        if outcome["outcome"] == "updated" and outcome.get("changed") is False:
            tally["unchanged"] += 1
        else:
            tally[outcome["outcome"]] += 1
    return tally


def _level(levels: array[int], row: int) -> int:
    """A row's depth below a parent in the file (`Hierarchy.levels`)."""
    return levels[row] if row < len(levels) else 0


# At most this many numbers of later batches ride on a batch (`RowIndex.reserved_after`).
MAX_RESERVED = 10_000


def _automatic(number: str | None) -> bool:
    """Whether automatic numbering could give this number (plain digits, no leading zero)."""
    return (
        number is not None and number.isascii() and number.isdigit() and number == str(int(number))
    )


def _match_errors(
    finds: Iterable[tuple[int, str, str, str | None]],
) -> Iterator[tuple[int, str, str]]:
    """With `update_existing`, the rows that find a customer but cannot update it, as the
    customers service would find when executing them: a number that another customer has,
    or a customer an earlier row updates already. `finds` is (row, customer id, what found
    it, the row's number if another customer's), by customer and then row."""
    customer, updater = None, None
    for row, customer_id, column, taken_number in finds:
        if customer_id != customer:
            customer, updater = customer_id, None
        if taken_number is not None:
            yield row, "number", f"the number {taken_number} is another customer's"
        elif updater is None:
            updater = row
        else:
            yield row, column, f"the same customer as row {updater}, which updates it"


def _parent_errors(
    hierarchy: Hierarchy,
    failed: RowSet,
    skipped: Callable[[int], str | None] = lambda row: None,
) -> Iterator[tuple[int, str]]:
    """The rows whose parent in the file cannot be: the row itself, a loop of rows, or a row
    that is not imported (it has errors, it is skipped, or its own parent is such a row),
    each with its message, in the file's order. Found when the file is checked, so that a
    dry run reports them and one of them stops an import without `skip_errors` before
    anything is created. `failed` must not change while they are read."""
    loops: dict[int, str] = {}
    for row in hierarchy.children:
        chain, loop = hierarchy.ancestors(row)
        if loop == row:  # else a loop further up: reported for its own rows, and below
            loops[row] = (
                "a customer cannot be its own parent"
                if not chain
                else f"the parents of rows {', '.join(str(r) for r in sorted([row, *chain]))} "
                "form a loop"
            )

    def reason(row: int) -> str | None:
        return "it has errors" if row in failed or row in loops else skipped(row)

    for row in hierarchy.children:
        if row in loops:
            yield row, loops[row]
            continue
        if skipped(row):
            continue
        chain, _ = hierarchy.ancestors(row)
        above = next((r for r in chain if reason(r)), None)
        if above is not None:
            yield (
                row,
                (
                    f"the parent (row {above}) is not imported: {reason(above)}"
                    if above == chain[0]
                    else f"a parent above this row (row {above}) is not imported: {reason(above)}"
                ),
            )


class _Errors:
    """The errors the check finds, written a batch at a time."""

    def __init__(self, write: Callable[[list[tuple[int, str, str]]], None]) -> None:
        self.write = write
        self.pending: list[tuple[int, str, str]] = []

    def add(self, row: int, header: str, message: str) -> None:
        self.pending.append((row, header, message))
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        self.write(self.pending)
        self.pending = []


class Interrupted(Exception):
    """The process is stopping in the middle of a job."""


class ImporterApplication(ServiceApplication):
    not_found_message = "no such import"

    def __init__(self, env: dict[str, str] | None = None, *, data_dir: Path) -> None:
        super().__init__(env)
        self.files = Path(data_dir) / "imports"
        self.files.mkdir(parents=True, exist_ok=True)
        self.tables = Tables(self.recorder)
        self.settings_of: Callable[[str], SettingsView | None] = lambda tenant_id: None
        # Tells the customers service that a job was cancelled, so that it does not execute
        # the job's batches on their way (`cancelled_import_key`); none without Redis.
        self.cancel_hint: Callable[[UUID], None] = lambda job_id: None
        # Batch outcomes recorded by this process, for a job waiting to queue more batches.
        self._outcomes = threading.Condition()
        self._outcomes_recorded = 0
        self._spools: dict[UUID, Path] = {}  # job → the checked rows of its run here
        self._indexes: dict[UUID, RowIndex] = {}  # job → its run's keys of the rows
        with self.tables.transaction() as cursor:
            for table, columns_sql in _TABLES.items():
                self.tables.execute(
                    cursor, f"CREATE TABLE IF NOT EXISTS {self.tables.name(table)} ({columns_sql})"
                )
            # A register kept before the companies were: they are not known of its customers.
            self.tables.add_column(cursor, "import_register", "companies", "TEXT")
            # A register kept before the links were: its customers' links are not known.
            self.tables.add_column(cursor, "import_register", "parents", "TEXT")
            # ... or the names: its customers have none known.
            self.tables.add_column(cursor, "import_register", "name_key", "TEXT")
            # Outcomes kept before unchanged rows were told apart: counted as updated.
            self.tables.add_column(
                cursor, "import_batch_done", "unchanged", "BIGINT NOT NULL DEFAULT 0"
            )
            for index, table, index_columns in (
                ("import_job_uploaded_i0", "import_job_uploaded", "tenant_id, uploaded_at"),
                ("import_error_i0", "import_error", "job_id, row_number"),
                ("import_register_i0", "import_register", "tenant_id, number_key"),
                ("import_register_i1", "import_register", "tenant_id, business_id"),
                ("import_register_i2", "import_register", "tenant_id, name_key"),
            ):
                self.tables.execute(
                    cursor,
                    f"CREATE INDEX IF NOT EXISTS {index} ON {self.tables.name(table)} "
                    f"({index_columns})",
                )
        self._note_uploads()

    # ---------------------------------------------------------------- commands
    def queue(
        self,
        *,
        tenant_id: str,
        company_id: str,
        actor_id: str,
        actor_name: str,
        filename: str,
        upload: Path,
        options: dict[str, Any],
        mapping: dict[str, str | None] | None,
    ) -> ImportJob:
        """Keep the uploaded file and queue its job; the caller's file is moved, not copied."""
        job = ImportJob(tenant_id, company_id, actor_id, actor_name, filename, options, mapping)
        directory = self.files / str(job.id)
        directory.mkdir(parents=True)
        shutil.move(str(upload), directory / "upload")
        self.save(job)
        self._set_status(job)
        return job

    def cancel(self, tenant_id: str, job_id: UUID) -> ImportJob:
        self.job(tenant_id, job_id)
        change = self.change(job_id, None, lambda job: job.request_cancel())
        del change
        try:  # batches may be on their way: the customers service is told not to execute them
            self.cancel_hint(job_id)
        except Exception as error:  # a hint: without it the batches on their way are executed
            log.warning(
                "could not tell the customers service of the cancel of %s: %s", job_id, error
            )
        job = self.job(tenant_id, job_id)
        self._set_status(job)
        return job

    # ---------------------------------------------------------------- queries
    def job(self, tenant_id: str, job_id: UUID) -> ImportJob:
        job: ImportJob = self.read(job_id)
        if job.tenant_id != tenant_id:
            raise NotFoundError(self.not_found_message)
        return job

    def unfinished(self) -> list[tuple[UUID, str]]:
        """Jobs queued or under way, with their tenants."""
        with self.tables.transaction(commit=False) as cursor:
            self.tables.execute(
                cursor,
                f"SELECT job_id, tenant_id FROM {self.tables.name('import_job')} WHERE status "
                f"NOT IN ({', '.join('?' for _ in FINAL)})",
                FINAL,
            )
            return [(UUID(row["job_id"]), row["tenant_id"]) for row in cursor.fetchall()]

    def imports(self, tenant_id: str, offset: int, limit: int) -> tuple[list[UUID], int]:
        """A page of the tenant's imports, newest first, and how many it has."""
        rows, total = self._page(
            "import_job_uploaded",
            "job_id",
            "tenant_id = ?",
            "uploaded_at DESC, job_id",
            (tenant_id,),
            offset,
            limit,
        )
        return [UUID(row["job_id"]) for row in rows], total

    def _page(
        self,
        table: str,
        columns: str,
        where: str,
        order: str,
        params: tuple[Any, ...],
        offset: int,
        limit: int,
    ) -> tuple[list[Any], int]:
        """A page of a table's rows and how many rows there are in all."""
        t = self.tables
        with t.transaction(commit=False) as cursor:
            t.execute(
                cursor,
                f"SELECT {columns} FROM {t.name(table)} WHERE {where} ORDER BY {order} "
                "LIMIT ? OFFSET ?",
                (*params, limit, offset),
            )
            rows = cursor.fetchall()
            t.execute(cursor, f"SELECT COUNT(*) AS n FROM {t.name(table)} WHERE {where}", params)
            return rows, int(cursor.fetchone()["n"])

    def _note_uploads(self) -> None:
        """Note the upload time of jobs stored before it was noted with their status (at
        start-up: every job since is noted when it is queued)."""
        t = self.tables
        with t.transaction(commit=False) as cursor:
            t.execute(
                cursor,
                f"SELECT job_id FROM {t.name('import_job')} WHERE job_id NOT IN "
                f"(SELECT job_id FROM {t.name('import_job_uploaded')})",
            )
            missing = [UUID(row["job_id"]) for row in cursor.fetchall()]
        for job_id in missing:
            self._set_status(self.read(job_id))

    def describe(self, tenant_id: str, job_id: UUID) -> dict[str, Any]:
        """A job as its status page shows it: the counts of the batches executed so far."""
        job = self.job(tenant_id, job_id)
        described = job.as_dict()
        if job.status == "running":
            done, tally = self.executed(job_id)
            described.update(tally)
            described["failed"] = job.counts["failed"] + tally["failed"]
            # Rows the customers service has given an outcome, and the invalid ones.
            described["processed"] = sum(tally.values()) + job.counts["failed"]
            described["batches"] = {"queued": job.batches, "executed": done}
        return described

    def errors(self, job_id: UUID, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        rows, total = self._page(
            "import_error",
            "row_number, column_name, message",
            "job_id = ?",
            "row_number, column_name",
            (str(job_id),),
            offset,
            limit,
        )
        items = [
            {
                "row": int(r["row_number"]),
                "column": r["column_name"],
                "message": r["message"],
                "message_fi": in_finnish(r["message"]),
            }
            for r in rows
        ]
        return items, total

    def all_errors(self, job_id: UUID) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            items, _ = self.errors(job_id, offset, 5000)
            yield from items
            if len(items) < 5000:
                return
            offset += len(items)

    # ---------------------------------------------------------------- who runs a job
    def _leases(self, statement: str, params: tuple[Any, ...]) -> int:
        """How many leases one statement (`{leases}` is the table, `RETURNING` the rows it
        changed) changed, committed."""
        t = self.tables
        with t.transaction() as cursor:
            t.execute(cursor, statement.replace("{leases}", t.name("import_job_lease")), params)
            return len(cursor.fetchall())

    def claim(self, job_id: UUID, holder: str, seconds: float, now: float | None = None) -> bool:
        """Take the job's lease for `seconds` (or keep it), unless another holder's has not
        run out; True if `holder` has it now."""
        now = time.time() if now is None else now
        changed = self._leases(
            "INSERT INTO {leases} AS lease (job_id, holder, until) VALUES (?, ?, ?) "
            "ON CONFLICT (job_id) DO UPDATE SET holder = excluded.holder, "
            "until = excluded.until WHERE lease.holder = excluded.holder OR lease.until < ? "
            "RETURNING holder",
            (str(job_id), holder, now + seconds, now),
        )
        return changed == 1  # none: another holder's lease stands

    def renew(self, job_id: UUID, holder: str, seconds: float, now: float | None = None) -> bool:
        """Extend the job's lease if `holder` still has it (never taking it afresh: a lease
        given back or taken over stays so); True if it does."""
        now = time.time() if now is None else now
        changed = self._leases(
            "UPDATE {leases} SET until = ? WHERE job_id = ? AND holder = ? RETURNING job_id",
            (now + seconds, str(job_id), holder),
        )
        return changed == 1

    def take_over(self, predecessor: str, holder: str) -> int:
        """Take the leases a process of this name held before (`predecessor`: its name
        without the per-process part), as one started again in its place; returns how many."""
        return self._leases(
            "UPDATE {leases} SET holder = ? WHERE substr(holder, 1, ?) = ? AND holder <> ? "
            "RETURNING job_id",
            (holder, len(predecessor), predecessor, holder),
        )

    def release(self, job_id: UUID, holder: str) -> None:
        self._leases(
            "DELETE FROM {leases} WHERE job_id = ? AND holder = ? RETURNING job_id",
            (str(job_id), holder),
        )

    # ---------------------------------------------------------------- the run
    def run(self, job_id: UUID, interrupted: Callable[[], bool] = lambda: False) -> ImportJob:
        """Check every row of the job's file, then (unless a dry run) queue the rows for the
        customers service in batches. Resumes a job that was under way: the checks run again
        and batches queued before are recognised. When `interrupted` says so (the process is
        stopping), the job is left as it is, to be resumed by the next start."""
        job: ImportJob = self.read(job_id)
        if job.final:
            self._set_status(job)  # the status row may lag behind a retry's end
            return job
        if job.status == "running" and job.batches is not None:
            # Every batch is queued; the outcomes may all be in (if the process stopped
            # between recording the last one and ending the job).
            self.finish_if_done(job_id)
            return self.read(job_id)
        if job.status == "queued":
            self.change(job_id, None, lambda j: j.start())
        self._clear_errors(job_id)
        outcome: tuple[str, dict[str, int], str | None] | None
        try:
            outcome = self._import(job, interrupted)
        except Interrupted:
            return self.read(job_id)
        except STORE_ERRORS as error:
            # The database or Redis failed, not the job: it stays as it is and is resumed at
            # the runner's next round (its batches are recognised).
            log.warning("import %s waits for the infrastructure: %s", job_id, error)
            return self.read(job_id)
        except FileProblem as error:
            self._write_errors(job_id, [(0, "file", error.message)])
            outcome = "failed", {}, error.message
        except Exception as error:  # a failure of the importer, not of the file
            if interrupted():  # e.g. another process took the job over and its file with it
                log.warning("import %s stopped here: %s", job_id, error)
                return self.read(job_id)
            log.exception("import %s failed", job_id)
            outcome = "failed", {}, f"the import failed: {error}"
        if outcome is not None:
            status, counts, problem = outcome
            self.change(job_id, None, lambda j: j.finish(status, counts, problem))
            self._remove_spools(job_id)
        else:
            self.finish_if_done(job_id)
        job = self.read(job_id)
        self._set_status(job)
        return job

    def _import(
        self, job: ImportJob, interrupted: Callable[[], bool]
    ) -> tuple[str, dict[str, int], str | None] | None:
        """The job's end, or None when its batches are queued and their outcomes awaited."""
        # A file of this run's own: should another process run the job meanwhile (its lease
        # was taken over), neither empties nor removes the other's.
        self._spools[job.id] = spool = self.files / str(job.id) / f"checked-{uuid4().hex}.jsonl"
        try:
            self._indexes[job.id] = RowIndex(spool.with_suffix(".sqlite"))
            return self._check_and_send(job, interrupted)
        finally:
            try:
                self._spools.pop(job.id).unlink(missing_ok=True)
            finally:
                if (index := self._indexes.pop(job.id, None)) is not None:
                    index.close()

    def _spool(self, job_id: UUID) -> Path:
        """The checked rows of the job's run in this process, one JSON line per row of the
        file, written while the file is checked and read while its batches are made: the
        file is parsed once."""
        return self._spools[job_id]

    def _remove_spools(self, job_id: UUID) -> None:
        """Those of an ended job that runs stopped by a crash left behind."""
        for pattern in ("checked*.jsonl", "checked*.sqlite"):
            for path in (self.files / str(job_id)).glob(pattern):
                path.unlink(missing_ok=True)

    def _check_and_send(
        self, job: ImportJob, interrupted: Callable[[], bool]
    ) -> tuple[str, dict[str, int], str | None] | None:
        checked = self._check_rows(job, interrupted)
        if isinstance(checked, tuple):
            return checked
        total, failed = checked.total, len(checked.failed_rows)
        counts = {"total_rows": total, "processed": total, "failed": failed}
        if total == 0:
            return "failed", counts, "the file has no rows under its header"
        if job.options.get("dry_run"):
            # What the import would do with customers already in the register.
            verb = "updated" if job.options.get("update_existing") else "skipped"
            would = _Errors(lambda errors: self._write_errors(job.id, errors))
            for row, _, column, _ in checked.index.finds():
                if row not in checked.failed_rows:
                    message = (
                        f"a customer with this {_FOUND_BY[column]} exists already: it would be "
                        f"{verb}"
                    )
                    would.add(row, checked.header(column), message)
            # Rows without a business id or number that an earlier import created customers
            # from: skipped either way.
            before = self._imported_before(job, checked)
            for row, number in before:
                would.add(row, checked.header("name"), imported_before(number))
            skipped = RowSet(row for row, _ in before)
            namesakes = 0  # rows that would create a second customer of a name, perhaps
            for row, note in checked.index.namesakes():
                if row not in checked.failed_rows and row not in skipped:
                    would.add(row, checked.header("name"), note)
                    namesakes += 1
            would.flush()
            counts[verb] = checked.existing
            counts["skipped"] = counts.get("skipped", 0) + len(before)
            counts["created"] = total - failed - checked.existing - len(before)  # would be
            notes = (
                failed
                or checked.file_errors
                or (verb == "skipped" and checked.existing)
                or before
                or namesakes
            )
            return ("completed_with_errors" if notes else "completed"), counts, None
        if failed and not job.options.get("skip_errors"):
            return (
                "failed",
                {**counts, "processed": 0},
                (
                    "1 row has errors, so nothing was imported: correct it"
                    if failed == 1
                    else f"{failed} rows have errors, so nothing was imported: correct them"
                )
                + ", or import with skip_errors to import the other rows",
            )
        if job.status != "running":
            self.change(job.id, None, lambda j: j.sending())
        batches = self._send(job, checked, interrupted)
        if batches is None:
            return "cancelled", self._cancelled_counts(job, total, failed), None
        self.change(job.id, None, lambda j: j.sent(batches))
        self._set_status(self.read(job.id))
        return None

    def _cancelled_counts(self, job: ImportJob, total: int, invalid: int) -> dict[str, int]:
        """A cancelled job's counts: the batches executed before it stopped, and the rows
        found invalid; `processed` is the rows accounted for, not the rows never sent."""
        _, tally = self.executed(job.id)
        return {
            "total_rows": total,
            "checked": total,
            **tally,
            "failed": invalid + tally["failed"],
            "processed": invalid + sum(tally.values()),
        }

    def _check_rows(
        self, job: ImportJob, interrupted: Callable[[], bool]
    ) -> Checked | tuple[str, dict[str, int], str | None]:
        view = self.settings_of(job.tenant_id)
        if view is None:
            return "failed", {}, "the tenant's settings have not reached the importer yet"
        known = columns(view)
        sheet = open_sheet(self.files / str(job.id) / "upload", job.filename)
        mapping = map_headers(sheet.headers(), known, job.mapping)
        update_existing = bool(job.options.get("update_existing"))
        dry_run = bool(job.options.get("dry_run"))
        # With update_existing a column that new customers need may be left out: the rows that
        # find no customer are reported for the values they lack.
        missing_required = [] if update_existing else mapping.missing_required
        file_errors = [(1, c.header, "this required column is missing") for c in missing_required]
        file_errors += [(1, name, why) for name, why in mapping.not_imported()]
        if file_errors:
            self._write_errors(job.id, file_errors)
        if missing_required:
            unknown = list(mapping.unknown)
            self.change(job.id, None, lambda j: j.validated(0, 0, unknown))
            missing = ", ".join(c.header for c in missing_required)
            return "failed", {}, f"required columns are missing: {missing}"
        checker = RowChecker(
            view, job.company_id, known, lossy=sheet.lossy, cell_errors=not sheet.whole
        )
        index = self._indexes[job.id]
        # Until the file is checked, its total is an estimate (for progress).
        if (estimate := sheet.estimated_rows()) is not None:
            self._progress(job.id, {"total_rows": estimate, "checked": 0})
        failed_rows = RowSet()
        if_no_match = RowSet()  # rows that fail unless they find a customer
        errors = _Errors(lambda found: self._write_errors(job.id, found))
        chunk: list[tuple[int, Any]] = []
        total = 0
        with self._spool(job.id).open("wb") as spool:

            def check_chunk() -> None:
                """Find the chunk's repeated business ids and numbers, spool its rows and
                note their errors."""
                keys = [(number, row, duplicate_key(row.customer)) for number, row in chunk]
                identities = {
                    number: row.identity
                    for number, row, _ in keys
                    if row.identity is not None and not row.errors
                }
                repeated = index.add(
                    [
                        (
                            number,
                            *key,
                            row.parent_number.casefold() if row.parent_number else None,
                            row.customer.get("number"),
                            identities.get(number),
                        )
                        for number, row, key in keys
                    ]
                )
                by_row = dict(chunk)
                for number, column, first in repeated:
                    if column == "identity":
                        identities.pop(number)
                        by_row[number].errors.append(("name", same_row(first)))
                        continue
                    word = "business id" if column == "business_id" else "customer number"
                    by_row[number].errors.append((column, f"the same {word} as row {first}"))
                if dry_run and identities:
                    index.add_namesakes(
                        self._namesakes(
                            job,
                            view,
                            [(n, by_row[n].customer.get("name"), i) for n, i in identities.items()],
                        )
                    )
                for number, row in chunk:
                    # With update_existing, a row that leaves out only values a new customer
                    # needs, or names archived items, is fine if it finds a customer (which
                    # has them; the customers service checks the archived ones against it):
                    # decided below.
                    pending_match = update_existing and all(
                        fine_if_existing(m) for _, m in row.errors
                    )
                    spool.write(
                        orjson.dumps(
                            [
                                number,
                                None if row.errors and not pending_match else row.customer,
                                row.parent_number,
                                row.given,
                                identities.get(number),
                            ]
                        )
                    )
                    spool.write(b"\n")
                    if row.errors:
                        (if_no_match if pending_match else failed_rows).add(number)
                        for column, message in row.errors:
                            errors.add(number, checker.header(column), message)
                chunk.clear()

            for number, row in self._rows(sheet, mapping.positions, checker):
                total += 1
                chunk.append((number, row))
                if len(chunk) >= CHUNK:
                    check_chunk()
                if total % (BATCH * 10) == 0:
                    if interrupted():
                        raise Interrupted
                    if self.read(job.id).cancel_requested:
                        check_chunk()
                        errors.flush()
                        # A job resumed after a restart may have had batches executed.
                        if job.status == "running":
                            total = max(total, job.counts.get("total_rows") or 0)
                        counts = self._cancelled_counts(job, total, len(failed_rows))
                        return "cancelled", counts, None
                    self._progress(job.id, {"checked": total})
            check_chunk()
        errors.flush()

        def refuse(row: int, column: str, message: str) -> None:
            failed_rows.add(row)
            errors.add(row, checker.header(column), message)

        numbered_alike = self._find_customers(job, view, index, failed_rows, refuse)
        finding, by_number = RowSet(), RowSet()
        for row, _, column, _ in index.finds():
            finding.add(row)
            if column == "number":
                by_number.add(row)
        # Rows without values a new customer needs: errors unless they update a customer.
        self._clear_errors(job.id, (row for row in if_no_match if row in finding))
        for row in if_no_match:
            if row not in finding:
                failed_rows.add(row)
        if update_existing:
            for number, column, message in _match_errors(index.finds(order="customer")):
                failed_rows.add(number)
                errors.add(number, checker.header(column), message)
        # Rows that find a customer of the register are skipped without update_existing: the
        # rows below them cannot be imported either, unless that customer has the number the
        # row gives, by which they find it in the register (a file imported again whole).

        def skipped(row: int) -> str | None:
            if update_existing or row not in finding or row in failed_rows:
                return None
            if row in numbered_alike:  # the rows below find it by its number
                return None
            found_by = "number" if row in by_number else "business_id"
            return f"a customer with this {_FOUND_BY[found_by]} exists already"

        hierarchy = Hierarchy()
        outside: list[tuple[int, str]] = []  # rows whose parent is no row of the file
        for row, parent, parent_row in index.parents():
            if parent_row is not None:
                hierarchy.link(row, parent_row)
            else:
                outside.append((row, parent))
            if len(outside) >= CHUNK:
                self._parents_outside(job, view, outside, failed_rows, errors, checker)
        self._parents_outside(job, view, outside, failed_rows, errors, checker)
        not_imported = RowSet()

        def parents_not_imported() -> None:
            found = [
                (number, message)
                for number, message in _parent_errors(hierarchy, failed_rows, skipped)
                if number not in not_imported
            ]
            for number, message in found:
                not_imported.add(number)
                refuse(number, "parent_number", message)

        parents_not_imported()
        if update_existing:
            for number in self._register_loops(job, index, failed_rows):
                refuse(number, "parent_number", "would make the customer its own parent")
            parents_not_imported()  # the rows below those
        errors.flush()
        failed = len(failed_rows)
        self.change(job.id, None, lambda j: j.validated(total, failed, list(mapping.unknown)))
        existing = sum(1 for row in finding if row not in failed_rows)
        return Checked(
            total,
            failed_rows,
            bool(file_errors),
            mapping.positions,
            index,
            hierarchy,
            existing,
            checker.header,
        )

    def _parents_outside(
        self,
        job: ImportJob,
        view: SettingsView,
        rows: list[tuple[int, str]],
        failed_rows: RowSet,
        errors: _Errors,
        checker: RowChecker,
    ) -> None:
        """Of rows whose parent's number no row of the file gives, those the register does not
        have either (or has, but the job's company may not see) fail (`rows` is emptied)."""
        owners = self._owners(job.tenant_id, "number_key", {p for _, p in rows})
        hidden = self._unseen(job, view, owners.values())
        registered = {number for number, owner in owners.items() if owner[0] not in hidden}
        for row, parent in rows:
            if parent not in registered:
                failed_rows.add(row)
                errors.add(
                    row,
                    checker.header("parent_number"),
                    "no customer has this number, in the file or the register",
                )
        rows.clear()

    def _namesakes(
        self, job: ImportJob, view: SettingsView, rows: list[tuple[int, Any, str]]
    ) -> list[tuple[int, str]]:
        """Of rows without a business id or number (row, name, identity), those that would
        create a customer with the name of another the job's company sees in the register,
        with a note that says so: an edited row of an earlier import is such a row (the
        customer it created is known by the row's values, now changed)."""
        by_name: dict[str, list[tuple[int, str, str]]] = {}
        for row, name, identity in rows:
            if key := name_key(name):
                by_name.setdefault(key, []).append((row, str(name).strip(), identity))
        if not by_name:
            return []
        # A few of each name (enough for the note), of those the company may see.
        seen, params = "", [job.tenant_id]
        if not view.sees_other_companies_customers:
            seen = "AND (companies IS NULL OR ',' || companies || ',' LIKE ?) "
            params.append(f"%,{job.company_id},%")
        t = self.tables
        found: dict[str, list[tuple[str, str]]] = {}  # name → (customer id, number)
        with t.transaction(commit=False) as cursor:
            for r in t.select_in(
                cursor,
                "SELECT name_key, customer_id, number_key FROM (SELECT name_key, customer_id, "
                "number_key, ROW_NUMBER() OVER (PARTITION BY name_key ORDER BY number_key) AS n "
                f"FROM {t.name('import_register')} WHERE tenant_id = ? {seen}"
                "AND name_key IN ({marks})) ranked WHERE n <= 7 ORDER BY number_key",
                sorted(by_name),
                tuple(params),
            ):
                found.setdefault(r["name_key"], []).append((str(r["customer_id"]), r["number_key"]))
        notes: list[tuple[int, str]] = []
        for key, others in found.items():
            for row, name, identity in by_name[key]:
                own = str(import_row_customer_id(job.tenant_id, identity))
                numbers = [number for customer, number in others if customer != own]
                if numbers:
                    notes.append((row, namesake(name, numbers)))
        return notes

    def _register_loops(self, job: ImportJob, index: RowIndex, failed_rows: RowSet) -> list[int]:
        """With `update_existing`, the rows that would make the customer they update its own
        parent through the register's links, as the customers service refuses them when it
        executes them: through any company's links. A link a row of the file replaces counts
        too, as the row that replaces it may be executed after the one that would close the
        loop; the links of rows not imported (`failed_rows`, and those refused here) do not.
        Of rows that make a loop together, the later in the file is refused. Loops of the
        file's rows alone are `_parent_errors`' (whose rows are in `failed_rows`)."""
        tenant = job.tenant_id

        def resolve(wanted: dict[str, tuple[str, int | None]]) -> dict[str, str]:
            """Parents' numbers (with the row of the file that gives each, if any) as the
            walk's nodes: a customer's id, or "row:N" for a customer row N creates."""
            in_file = {r for _, r in wanted.values() if r is not None and r not in failed_rows}
            found = index.customers_of(in_file)
            outside = {number for number, r in wanted.values() if r is None}
            owners = self._owners(tenant, "number_key", outside) if outside else {}
            nodes: dict[str, str] = {}
            for node, (number, row) in wanted.items():
                if row is not None and row not in failed_rows:
                    nodes[node] = found.get(row) or f"row:{row}"
                elif row is None and number in owners:
                    nodes[node] = owners[number][0]
            return nodes

        def above(nodes: set[str], ignored: Callable[[int], bool]) -> dict[str, list[str]]:
            """Each node's parents once the file is imported, but for the links of the rows
            `ignored`."""
            customers = {n for n in nodes if not n.startswith("row:")}
            registered = self._links(tenant, customers)
            updaters = {
                customer: row
                for customer, rows in index.rows_finding(customers).items()
                if (row := next((r for r in rows if r not in failed_rows), None)) is not None
                and not ignored(row)
            }
            new_rows = {int(n[4:]) for n in nodes if n.startswith("row:")}
            given = index.parents_of(set(updaters.values()) | new_rows)
            parent_of = resolve(
                {
                    **{c: given[r] for c, r in updaters.items() if r in given},
                    **{f"row:{r}": given[r] for r in new_rows if r in given},
                }
            )
            return {
                node: [
                    *registered.get(node, {}).values(),
                    *([parent_of[node]] if node in parent_of else []),
                ]
                for node in nodes
            }

        def looping(updating: dict[int, str], ignored: Callable[[int], bool]) -> set[int]:
            """Of these rows (row → the customer it updates), those whose parent is their
            customer or below it, walking up from all of them at once."""
            first = resolve({str(r): p for r, p in index.parents_of(updating).items()})
            frontier = {(row, first[str(row)]) for row in updating if str(row) in first}
            seen = set(frontier)
            looped: set[int] = set()
            while frontier:
                parents = above({node for _, node in frontier}, ignored)
                reached: set[tuple[int, str]] = set()
                for row, node in frontier:
                    if node == updating[row]:
                        looped.add(row)
                    elif row not in looped:
                        reached.update((row, up) for up in parents[node] if (row, up) not in seen)
                seen |= reached
                frontier = reached
            return looped

        # With every other row's link: the rows that may make a loop (usually none) ...
        suspects: dict[int, str] = {}
        for chunk in index.updating_with_parents():
            updating = {row: customer for row, customer in chunk if row not in failed_rows}
            for row in looping(updating, lambda _: False):
                suspects[row] = updating[row]
        # ... then one by one, in the file's order, with the links of the rows before that
        # are imported: a row closes a loop only if those rows do not.
        refused: set[int] = set()

        def ignored_by(row: int) -> Callable[[int], bool]:
            """The rows whose links do not count for `row`: those refused, and the suspects
            after it (not decided yet)."""
            return lambda other: other in refused or (other > row and other in suspects)

        for row in sorted(suspects):
            if looping({row: suspects[row]}, ignored_by(row)):
                refused.add(row)
        return sorted(refused)

    def _links(self, tenant_id: str, customer_ids: set[str]) -> dict[str, dict[str, str]]:
        """The links to parent units of these customers of the register that have any:
        customer id → {company id: parent id} (`import_register.parents`)."""
        found = self._register_values(tenant_id, "parents", customer_ids)
        return {customer: orjson.loads(links) for customer, links in found.items()}

    @staticmethod
    def _rows(
        sheet: Any, positions: dict[int, str], checker: RowChecker
    ) -> Iterator[tuple[int, Any]]:
        from openpyxl.utils import get_column_letter

        width = sheet.width or 0
        # Columns without a header before the last one with a header: a value in one would
        # be dropped unseen.
        unnamed = [i for i, v in enumerate((sheet.first_row or ())[:width]) if not filled(v)]
        for number, values in sheet.rows():
            checked = checker.check(
                number,
                {key: values[i] if i < len(values) else None for i, key in positions.items()},
            )
            for i in unnamed:
                if i < len(values) and filled(values[i]):
                    checked.errors.append(
                        (
                            get_column_letter(i + 1),
                            "the column has no header, so its value is not imported: give the "
                            "column a header, or leave the value out",
                        )
                    )
            if width and len(values) > width and (why := sheet.overflow(values)):
                checked.errors.append((str(sheet.first_row[width - 1]), why))
            yield number, checked

    def _send(
        self, job: ImportJob, checked: Checked, interrupted: Callable[[], bool]
    ) -> int | None:
        """Queue the valid rows in batches: those without a parent in the file first, then
        sub-units level by level, so that a parent exists before its sub-units. Returns the
        number of batches, or None if the job was cancelled.

        A batch holds the valid rows of a fixed range of the file's rows (and level), so a
        resumed job makes the same batches even if some rows' validity changed meanwhile:
        none is left out, and a batch queued before is recognised by its number."""
        levels = checked.hierarchy.levels()
        # With update_existing the rows keep the file's order: of two rows that find the same
        # customer, the first updates it and the other is reported.
        update_existing = bool(job.options.get("update_existing"))
        first = RowSet() if update_existing else _numbered_first(checked)
        sequence = 0  # batches queued so far, in order

        def queue(number: int, rows: list[dict[str, Any]], reserved: list[str] | None) -> bool:
            nonlocal sequence
            if not rows and not self.exists(batch_id(job.id, number)):
                return True
            sequence += 1
            if self._queue_batch(job, number, rows, sequence, interrupted, reserved):
                return True
            self._cancelled(job, sequence - 1, interrupted)
            return False

        stages = [(level, True) for level in range(max(levels, default=0) + 1)]
        if first:
            stages = [(level, False) for level, _ in stages] + stages
        reserved = self._reserve(job.id, checked, first, levels, stages)

        def numbers_after(stage: int, slot: int, rows: list[dict[str, Any]]) -> list[str] | None:
            """What the batch must leave to later ones, if it has rows numbered for it."""
            if not reserved or all(r["customer"].get("number") for r in rows):
                return None
            return checked.index.reserved_after(stage, slot, MAX_RESERVED)

        for stage, (level, later) in enumerate(stages):
            offset = 0 if later else NUMBERED_FIRST
            rows: list[dict[str, Any]] = []
            slot = 0
            spooled = enumerate(self._spooled(job.id))
            for index, (number, customer, parent_number, given, identity) in spooled:
                if index // ROWS_PER_BATCH != slot:
                    if not queue(
                        offset + _batch_number(level, slot), rows, numbers_after(stage, slot, rows)
                    ):
                        return None
                    rows, slot = [], index // ROWS_PER_BATCH
                if (
                    number in checked.failed_rows
                    or _level(levels, number) != level
                    or (number not in first) != later
                ):
                    continue
                rows.append(
                    {
                        "row": number,
                        "key": f"{job.id}:{number}",
                        "customer": customer,
                        "parent_number": parent_number,
                        "given": given if update_existing else None,
                        "identity": identity,
                    }
                )
            if not queue(
                offset + _batch_number(level, slot), rows, numbers_after(stage, slot, rows)
            ):
                return None
        return sequence

    def _reserve(
        self,
        job_id: UUID,
        checked: Checked,
        first: RowSet,
        levels: array[int],
        stages: list[tuple[int, bool]],
    ) -> bool:
        """Keep the numbers that batches must leave to later ones: those that valid rows give
        which automatic numbering could also give, with the batch (stage, slot) each row is
        queued in, unless queued first (`_numbered_first`; with `update_existing` no row is,
        the rows keep the file's order). Whether there are any."""
        failed = checked.failed_rows
        valid = checked.total - len(failed)
        if sum(1 for row in checked.index.numbered() if row not in failed) >= valid:
            return False  # every row gives its number: none is numbered automatically
        stage_of = {stage: index for index, stage in enumerate(stages)}

        def late() -> Iterator[tuple[int, int, int, str]]:
            for index, (number, customer, *_) in enumerate(self._spooled(job_id)):
                if number in failed or number in first or customer is None:
                    continue
                if _automatic(given := customer.get("number")):
                    stage = stage_of[(_level(levels, number), True)]
                    yield stage, index // ROWS_PER_BATCH, number, given

        return checked.index.reserve(late()) > 0

    def _spooled(
        self, job_id: UUID
    ) -> Iterator[tuple[int, Any, str | None, list[str], str | None]]:
        with self._spool(job_id).open("rb") as spool:
            for line in spool:
                number, customer, parent_number, given, identity = orjson.loads(line)
                yield number, customer, parent_number, given, identity

    def _cancelled(self, job: ImportJob, queued: int, interrupted: Callable[[], bool]) -> None:
        """Stop after the batches already queued: wait for their outcomes, so that the job's
        counts are what was done (the customers service, told of the cancel when it was asked,
        gives those not executed yet back without outcomes)."""
        while True:
            seen = self._outcomes_so_far()
            if self.executed(job.id)[0] >= queued:
                return
            if interrupted():
                raise Interrupted
            self._wait_for_outcome(seen)

    def _queue_batch(
        self,
        job: ImportJob,
        batch: int,
        rows: list[dict[str, Any]],
        sequence: int,
        interrupted: Callable[[], bool],
        reserved: list[str] | None = None,
    ) -> bool:
        # At most IN_FLIGHT batches wait for the customers service at a time, so that a
        # cancel stops the job between batches and the streams hold little.
        while True:
            seen = self._outcomes_so_far()
            if interrupted():
                raise Interrupted
            if self.read(job.id).cancel_requested:
                return False
            if self.executed(job.id)[0] >= sequence - IN_FLIGHT:
                break
            self._wait_for_outcome(seen)
        if rows and not self.exists(batch_id(job.id, batch)):  # else queued before a restart
            with contextlib.suppress(IntegrityError):  # another process queued it meanwhile
                self.save(ImportBatch.queue(job, batch, rows, reserved))
        return True

    # ---------------------------------------------------------------- outcomes
    @staticmethod
    def follows(event: dict[str, Any]) -> bool:
        """Whether an event of `customers.events.v1` changes anything the importer keeps:
        the outcome of a batch, or the register's numbers and business ids; not a customer
        created by an import, whose number comes with its batch's outcome."""
        payload = event["payload"]
        kind = payload["type"]
        if kind == "CustomerCreated":
            return not payload.get("request_key")
        return kind in (
            "CustomerNumberChanged",
            "CustomerDetailsChanged",
            "CustomerRelationshipSet",
            "ImportBatchExecuted",
        )

    def apply_customer_event(self, position: int, event: dict[str, Any]) -> None:
        """Follow `customers.events.v1`: the register's numbers and business ids, and the
        outcomes of the batches of this importer's jobs."""
        t = self.tables
        payload = event["payload"]
        kind = payload["type"]
        job_to_finish = None
        if not self.follows(event):
            return  # no write at all; a replay of it is as harmless
        context = None
        if kind == "ImportBatchExecuted":
            context = self._batch_context(payload["job_id"])
        with t.transaction() as cursor:
            if position <= lock_tracking(t, cursor, "customer_events"):
                return
            if kind == "CustomerCreated":
                t.execute(
                    cursor,
                    f"INSERT INTO {t.name('import_register')} (customer_id, tenant_id, "
                    "number_key, business_id, companies, parents, name_key) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (customer_id) DO NOTHING",
                    (
                        event["aggregate_id"],
                        event["tenant_id"],
                        payload["number"].casefold(),
                        payload.get("business_id"),
                        *_registered(payload),
                    ),
                )
            elif kind == "CustomerRelationshipSet":
                self._relationship_set(cursor, event["aggregate_id"], payload["company_id"])
            elif kind == "CustomerNumberChanged":
                t.execute(
                    cursor,
                    f"UPDATE {t.name('import_register')} SET number_key = ? WHERE customer_id = ?",
                    (payload["number"].casefold(), event["aggregate_id"]),
                )
            elif kind == "CustomerDetailsChanged":
                t.execute(
                    cursor,
                    f"UPDATE {t.name('import_register')} SET business_id = ?, parents = ?, "
                    "name_key = ? WHERE customer_id = ?",
                    (
                        payload.get("business_id"),
                        _links(payload),
                        name_key(payload["name"]) or None,
                        event["aggregate_id"],
                    ),
                )
            elif kind == "ImportBatchExecuted":
                # Every import's customers join the register; only this importer's jobs
                # are counted here.
                self._register_outcomes(cursor, payload, event["tenant_id"])
                if context is not None:
                    job_to_finish = UUID(payload["job_id"])
                    self._record_batch(cursor, payload, context)
            track(t, cursor, "customer_events", position)
        if job_to_finish is not None:
            self._outcome_recorded()
            self.finish_if_done(job_to_finish)

    def _batch_context(self, job_id: str) -> BatchContext | None:
        """What recording a batch's outcome reads besides the tables it writes; None if the
        job is not this importer's. Read before the write transaction: a thread holding the
        store's writer must not ask for another connection (`psa.persistence`)."""
        try:
            job: ImportJob = self.read(UUID(job_id))
        except NotFoundError:
            return None
        return self._context_of(job)

    def _context_of(self, job: ImportJob) -> BatchContext:
        view = self.settings_of(job.tenant_id)
        headers = {c.key: c.header for c in columns(view)} if view is not None else {}
        return BatchContext(dict(job.retrying), headers)

    def _register_outcomes(self, cursor: Any, payload: dict[str, Any], event_tenant: str) -> None:
        t = self.tables
        created = {
            str(customer["aggregate_id"]): customer["payload"]
            for customer in payload.get("created") or ()
        }
        registered = [
            (
                o["customer_id"],
                event_tenant,
                (o.get("number") or "").casefold(),
                o.get("business_id"),
                *_registered(created.get(o["customer_id"])),
            )
            for o in payload["outcomes"]
            if o["outcome"] in ("created", "updated") and o.get("customer_id")
        ]
        if registered:
            cursor.executemany(
                t.sql(
                    f"INSERT INTO {t.name('import_register')} AS known (customer_id, "
                    "tenant_id, number_key, business_id, companies, parents, name_key) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (customer_id) DO UPDATE SET number_key = excluded.number_key, "
                    "business_id = excluded.business_id, "
                    "companies = COALESCE(excluded.companies, known.companies), "
                    "parents = COALESCE(excluded.parents, known.parents), "
                    "name_key = COALESCE(excluded.name_key, known.name_key)"
                ),
                registered,
            )

    def _relationship_set(self, cursor: Any, customer_id: str, company_id: str) -> None:
        """A company's relationship with a customer: noted only for a customer whose
        companies are known (`import_register.companies`)."""
        t = self.tables
        t.execute(
            cursor,
            f"UPDATE {t.name('import_register')} SET companies = companies || ',' || ? "
            "WHERE customer_id = ? AND companies IS NOT NULL "
            "AND ',' || companies || ',' NOT LIKE ?",
            (company_id, customer_id, f"%,{company_id},%"),
        )

    def apply_dead_batch(self, envelope: dict[str, Any]) -> None:
        """A batch the customers service could not execute: after its retries it went to
        `customers.commands.v1.dlq`. Its rows are reported failed, so that its job ends,
        every row accounted for, instead of waiting for the batch forever."""
        payload = envelope.get("payload") or {}
        if payload.get("type") != "ImportBatchQueued":
            return
        job_id = str(payload["job_id"])
        context = self._batch_context(job_id)
        if context is None:
            return
        with self.tables.transaction() as cursor:
            outcomes = [
                {"row": row["row"], "outcome": "failed", "column": None, "message": DEAD_BATCH}
                for row in payload["rows"]
            ]
            self._record_batch(
                cursor,
                {"job_id": job_id, "batch": payload["batch"], "outcomes": outcomes},
                context,
                given_up=int(envelope.get("aggregate_version") or 1),
            )
        self._outcome_recorded()
        self.finish_if_done(UUID(job_id))

    def _outcome_recorded(self) -> None:
        with self._outcomes:
            self._outcomes_recorded += 1
            self._outcomes.notify_all()

    def _outcomes_so_far(self) -> int:
        with self._outcomes:
            return self._outcomes_recorded

    def _wait_for_outcome(self, seen: int, timeout: float = 0.25) -> None:
        """Until an outcome after the `seen`-th is recorded here (or `timeout`: outcomes
        recorded by another process are only seen by asking again)."""
        with self._outcomes:
            self._outcomes.wait_for(lambda: self._outcomes_recorded != seen, timeout)

    def _record_batch(
        self,
        cursor: Any,
        payload: dict[str, Any],
        context: BatchContext,
        given_up: int | None = None,
    ) -> None:
        """Count a batch's outcomes and report its rows' errors, once per batch: an outcome
        that arrives again, or after the batch was given up, changes nothing, unless the
        batch was sent again after it was given up (`retry`): then its outcome, or its being
        given up again (`given_up`: the version of the command given up on), replaces the
        rows' failures."""
        t = self.tables
        job_id, batch = payload["job_id"], payload["batch"]
        t.execute(
            cursor,
            f"SELECT d.batch, g.attempt FROM {t.name('import_batch_done')} d LEFT JOIN "
            f"{t.name('import_batch_dead')} g ON g.job_id = d.job_id AND g.batch = d.batch "
            "WHERE d.job_id = ? AND d.batch = ?",
            (job_id, batch),
        )
        recorded = cursor.fetchone()
        if recorded is not None:
            attempt = recorded["attempt"]
            if attempt is None or (given_up is not None and given_up <= int(attempt)):
                return
            # Given up on: only its sending again (`retry`) is awaited in its place.
            sent_again = context.retrying.get(str(batch), 0)
            if sent_again <= int(attempt):
                if given_up is None:  # executed after all: kept for a retry
                    t.execute(
                        cursor,
                        f"INSERT INTO {t.name('import_batch_late')} (job_id, batch, outcome) "
                        "VALUES (?, ?, ?) ON CONFLICT (job_id, batch) DO NOTHING",
                        (job_id, batch, orjson.dumps(_outcome_of(payload)).decode()),
                    )
                return
            late = self._late_outcome(cursor, job_id, batch)
            if late is not None:  # the batch was executed: that is its outcome
                payload, given_up = late, None
            self._forget_batch(cursor, job_id, batch, [o["row"] for o in payload["outcomes"]])
        if given_up is not None:
            t.execute(
                cursor,
                f"INSERT INTO {t.name('import_batch_dead')} (job_id, batch, attempt) "
                "VALUES (?, ?, ?)",
                (job_id, batch, given_up),
            )
        tally = count_outcomes(payload["outcomes"])
        errors = []
        headers = context.headers
        for outcome in payload["outcomes"]:
            if outcome["outcome"] in ("failed", "skipped"):
                found = outcome.get("errors") or [outcome]  # each error in its own column
                for error in found:
                    key = rule_column(error.get("column") or "")
                    column = headers.get(key, key)
                    message = error.get("message") or outcome["outcome"]
                    if outcome["outcome"] == "skipped":
                        message = f"skipped: {message}"
                    errors.append((payload["job_id"], outcome["row"], column or "", message))
        t.execute(
            cursor,
            f"INSERT INTO {t.name('import_batch_done')} (job_id, batch, {', '.join(OUTCOMES)}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_id, batch) DO NOTHING",
            (payload["job_id"], payload["batch"], *tally.values()),
        )
        if errors:
            cursor.executemany(
                t.sql(
                    f"INSERT INTO {t.name('import_error')} (job_id, row_number, column_name, "
                    "message, phase) VALUES (?, ?, ?, ?, 'run')"
                ),
                errors,
            )

    def _forget_batch(self, cursor: Any, job_id: str, batch: int, rows: list[int]) -> None:
        """A given-up batch's record, before the outcome of its sending again replaces it."""
        t = self.tables
        for table in ("import_batch_done", "import_batch_dead", "import_batch_late"):
            t.execute(
                cursor,
                f"DELETE FROM {t.name(table)} WHERE job_id = ? AND batch = ?",
                (job_id, batch),
            )
        cursor.executemany(
            t.sql(
                f"DELETE FROM {t.name('import_error')} WHERE job_id = ? AND row_number = ? "
                "AND phase = 'run'"
            ),
            [(job_id, row) for row in rows],
        )

    def _late_outcome(self, cursor: Any, job_id: str, batch: int) -> dict[str, Any] | None:
        t = self.tables
        t.execute(
            cursor,
            f"SELECT outcome FROM {t.name('import_batch_late')} WHERE job_id = ? AND batch = ?",
            (job_id, batch),
        )
        row = cursor.fetchone()
        return orjson.loads(row["outcome"]) if row is not None else None

    def _take_late_outcomes(self, job: ImportJob) -> None:
        """Outcomes kept for batches a retry sent again (see `import_batch_late`): the
        customers service will not answer those again, so they are what the retry awaits."""
        t = self.tables
        with t.transaction(commit=False) as cursor:
            t.execute(
                cursor,
                f"SELECT outcome FROM {t.name('import_batch_late')} WHERE job_id = ?",
                (str(job.id),),
            )
            late = [orjson.loads(row["outcome"]) for row in cursor.fetchall()]
        context = self._context_of(job)
        for payload in late:
            if str(payload["batch"]) in job.retrying:
                with t.transaction() as cursor:
                    self._record_batch(cursor, payload, context)

    def retry(self, tenant_id: str, job_id: UUID) -> ImportJob:
        """Send again the batches of an ended job that the customers service gave up on
        (after the cause is mended): the same rows with the same keys, so no row creates a
        second customer. The job runs until their outcomes are in."""
        self.job(tenant_id, job_id)
        batches: list[ImportBatch] = []

        def command(job: ImportJob) -> None:
            job.check_retry()
            given_up = sorted(self._given_up(job_id))
            if not given_up:
                raise ConflictError(
                    "there is nothing to send again: no batch of this import was given up on",
                    "status",
                )
            batches.clear()
            sent: dict[str, int] = {}
            for number in given_up:
                first = next(iter(self.events.get(batch_id(job_id, number), lte=1)))
                assert isinstance(first, ImportBatch.Queued)
                batch: ImportBatch = self.read(batch_id(job_id, number))  # a private copy
                batch.requeue(first)
                batches.append(batch)
                sent[str(number)] = batch.version
            job.retry(sent)

        try:
            self.change(job_id, None, command, also_save=lambda _: batches)
        finally:
            for batch in batches:
                self.forget(batch.id)
        job = self.read(job_id)
        self._set_status(job)
        self.finish_if_done(job_id)  # in case every outcome came back already
        return self.job(tenant_id, job_id)

    def _given_up(self, job_id: UUID) -> dict[int, int]:
        """The job's batches the customers service gave up on, with the version of the
        command it gave up on."""
        t = self.tables
        with t.transaction(commit=False) as cursor:
            t.execute(
                cursor,
                f"SELECT batch, attempt FROM {t.name('import_batch_dead')} WHERE job_id = ?",
                (str(job_id),),
            )
            return {int(row["batch"]): int(row["attempt"]) for row in cursor.fetchall()}

    def _retries_pending(self, job: ImportJob) -> int:
        """Batches sent again whose outcome is not in yet."""
        if not job.retrying:
            return 0
        given_up = self._given_up(job.id)
        return sum(
            1
            for number, version in job.retrying.items()
            if given_up.get(int(number), version) < version
        )

    def executed(self, job_id: UUID) -> tuple[int, dict[str, int]]:
        """How many batches of the job the customers service has executed, and their counts."""
        t = self.tables
        with t.transaction(commit=False) as cursor:
            t.execute(
                cursor,
                "SELECT COUNT(*) AS n, "
                + ", ".join(f"COALESCE(SUM({k}), 0) AS {k}" for k in OUTCOMES)
                + f" FROM {t.name('import_batch_done')} WHERE job_id = ?",
                (str(job_id),),
            )
            row = cursor.fetchone()
        return int(row["n"]), {k: int(row[k]) for k in OUTCOMES}

    def finish_if_done(self, job_id: UUID) -> None:
        """End a job whose every batch has an outcome."""
        job: ImportJob = self.read(job_id)
        if job.final or job.batches is None:
            return
        if job.retrying:
            self._take_late_outcomes(job)
        done, tally = self.executed(job_id)
        if done - self._retries_pending(job) < job.batches:
            return
        if job.cancel_requested:  # cancelled with every batch sent: those not executed then
            status = "cancelled"  # came back without outcomes
            counts = self._cancelled_counts(job, job.counts["total_rows"], job.counts["failed"])
        else:
            counts = {
                **tally,
                "failed": job.counts["failed"] + tally["failed"],
                "processed": job.counts["total_rows"],
            }
            # Columns of the file that were not imported are reported like rows that were not.
            notes = counts["failed"] or tally["skipped"] or job.unknown_columns
            status = "completed_with_errors" if notes else "completed"
        self.change(job_id, None, lambda j: j.finish(status, counts) if not j.final else None)
        self._remove_spools(job_id)
        self._set_status(self.read(job_id))

    def _find_customers(
        self,
        job: ImportJob,
        view: SettingsView,
        index: RowIndex,
        failed_rows: RowSet,
        refuse: Callable[[int, str, str], None],
    ) -> RowSet:
        """The valid rows that find a customer of the register, as the customers service
        finds it: by business id, else by number; kept in the index (`RowIndex.found`).
        Returns those of them whose customer has the number the row gives. A job
        resumed after a restart finds the customers its own rows created: not others'. These
        rows fail instead (`refuse`: row, column, message): one that finds a customer the
        job's company may not see, and one whose number finds a customer with another business
        id than the row's."""
        tenant = job.tenant_id

        def unseen(row: int, column: str) -> None:
            refuse(
                row,
                column,
                f"a customer of another company of the group has this {_FOUND_BY[column]}, and "
                "this company may not see it",
            )

        by_business_id = RowSet()
        numbered_alike = RowSet()
        for chunk in index.keyed("business_id"):
            rows = [found for found in chunk if found[0] not in failed_rows]
            owners = self._owners(tenant, "business_id", {value for _, value, *_ in rows})
            numbers = self._owners(tenant, "number_key", {n for _, _, n, *_ in rows if n})
            hidden = self._unseen(job, view, owners.values())
            found = []
            for row, value, number, given, _ in rows:
                if (customer := owners.get(value)) is None:
                    continue
                by_business_id.add(row)
                if customer[0] == self._own(job, row):
                    continue
                if customer[0] in hidden:
                    unseen(row, "business_id")
                    continue
                taken = number is not None and numbers.get(number, customer)[0] != customer[0]
                if number is not None and customer[1] == number:
                    numbered_alike.add(row)
                found.append((row, customer[0], "business_id", given if taken else None))
            index.found(found)
        for chunk in index.keyed("number"):
            unfound = [
                (row, value, given, business_id)
                for row, value, _, given, business_id in chunk
                if row not in failed_rows and row not in by_business_id
            ]
            owners = self._owners(tenant, "number_key", {value for _, value, *_ in unfound})
            hidden = self._unseen(job, view, owners.values())
            # A row with a business id no customer has: its number's customer has another
            # one, or none (then the row gives it).
            theirs = self._business_ids(
                tenant,
                {owners[v][0] for _, v, _, business_id in unfound if business_id and v in owners},
            )
            found = []
            for row, value, given, business_id in unfound:
                if (customer := owners.get(value)) is None or customer[0] == self._own(job, row):
                    continue
                if customer[0] in hidden:
                    unseen(row, "number")
                elif business_id and theirs.get(customer[0]):
                    refuse(row, "number", number_of_another(given, theirs[customer[0]]))
                else:
                    numbered_alike.add(row)
                    found.append((row, customer[0], "number", None))
            index.found(found)
        return numbered_alike

    @staticmethod
    def _unseen(
        job: ImportJob, view: SettingsView, owners: Iterable[tuple[str, str, str | None]]
    ) -> set[str]:
        """Of these customers of the register (`_owners`), those the job's company may not
        see under the multi-company rules, as the customers service decides it: a customer
        of other companies only, when the others' customers are hidden (one whose companies
        are not known is left to the customers service)."""
        if view.sees_other_companies_customers:
            return set()
        return {
            customer
            for customer, _, companies in owners
            if companies is not None and job.company_id not in companies.split(",")
        }

    def _imported_before(self, job: ImportJob, checked: Checked) -> list[tuple[int, str]]:
        """The valid rows without a business id or number whose customer (its id derives from
        the row's identity) an earlier import created, with its number (`row_identity`)."""
        found: list[tuple[int, str]] = []
        for chunk in checked.index.keyed("identity"):
            ids = {
                str(import_row_customer_id(job.tenant_id, identity)): row
                for row, identity, *_ in chunk
                if row not in checked.failed_rows
            }
            owners = self._owners(job.tenant_id, "customer_id", ids) if ids else {}
            found += [(ids[customer], number) for customer, (_, number, _) in owners.items()]
        return sorted(found)

    def _business_ids(self, tenant_id: str, customer_ids: set[str]) -> dict[str, str]:
        """The business ids of these customers of the register that have one."""
        return self._register_values(tenant_id, "business_id", customer_ids)

    def _register_values(self, tenant_id: str, column: str, customer_ids: set[str]) -> Any:
        """A column of these customers of the register, where it has a value: customer id →
        the value."""
        if not customer_ids:  # most chunks: no transaction at all
            return {}
        t = self.tables
        with t.transaction(commit=False) as cursor:
            rows = t.select_in(
                cursor,
                f"SELECT customer_id, {column} AS v FROM {t.name('import_register')} "
                f"WHERE tenant_id = ? AND {column} IS NOT NULL AND customer_id IN ({{marks}})",
                sorted(customer_ids),
                (tenant_id,),
            )
            return {str(r["customer_id"]): r["v"] for r in rows}

    def _owners(
        self, tenant_id: str, column: str, values: Iterable[str]
    ) -> dict[str, tuple[str, str, str | None]]:
        """The customers of the register with these business ids, (case-folded) numbers or
        ids: value → (customer id, its number, its companies: `import_register.companies`)."""
        t = self.tables
        with t.transaction(commit=False) as cursor:
            rows = t.select_in(
                cursor,
                f"SELECT {column} AS v, customer_id, number_key, companies "
                f"FROM {t.name('import_register')} WHERE tenant_id = ? "
                f"AND {column} IN ({{marks}})",
                sorted(values),
                (tenant_id,),
            )
            return {r["v"]: (str(r["customer_id"]), r["number_key"], r["companies"]) for r in rows}

    def _progress(self, job_id: UUID, counts: dict[str, int]) -> None:
        self.change(job_id, None, lambda job: job.progressed(counts))

    def _write_errors(self, job_id: UUID, errors: list[tuple[int, str, str]]) -> None:
        if not errors:
            return
        t = self.tables
        with t.transaction() as cursor:
            cursor.executemany(
                t.sql(
                    f"INSERT INTO {t.name('import_error')} (job_id, row_number, column_name, "
                    "message, phase) VALUES (?, ?, ?, ?, 'check')"
                ),
                [(str(job_id), row, column, message) for row, column, message in errors],
            )

    @staticmethod
    def _own(job: ImportJob, row: int) -> str:
        """The customer a row of the job creates."""
        return str(import_row_customer_id(job.tenant_id, f"{job.id}:{row}"))

    def _clear_errors(self, job_id: UUID, rows: Iterable[int] | None = None) -> None:
        """Forget what the check found (in these rows only, if given)."""
        t = self.tables
        sql = f"DELETE FROM {t.name('import_error')} WHERE job_id = ? AND phase = 'check'"
        with t.transaction() as cursor:
            if rows is None:
                t.execute(cursor, sql, (str(job_id),))
            else:
                cursor.executemany(
                    t.sql(sql + " AND row_number = ?"), ((str(job_id), row) for row in rows)
                )

    def _set_status(self, job: ImportJob) -> None:
        t = self.tables
        with t.transaction() as cursor:
            t.execute(
                cursor,
                f"INSERT INTO {t.name('import_job')} (job_id, tenant_id, status) VALUES (?, ?, ?) "
                "ON CONFLICT (job_id) DO UPDATE SET status = excluded.status",
                (str(job.id), job.tenant_id, job.status),
            )
            t.execute(
                cursor,
                f"INSERT INTO {t.name('import_job_uploaded')} (job_id, tenant_id, uploaded_at) "
                "VALUES (?, ?, ?) ON CONFLICT (job_id) DO NOTHING",
                (str(job.id), job.tenant_id, job.created_on.isoformat()),
            )


def _companies(created: dict[str, Any]) -> str | None:
    """A new customer's companies as the register keeps them (`import_register.companies`)."""
    return ",".join(sorted(created.get("relationships") or {})) or None


def _registered(created: dict[str, Any] | None) -> tuple[str | None, str | None, str | None]:
    """What the register keeps of a new customer (its `CustomerCreated` payload) besides its
    number and business id: its companies, links and name; nothing for none."""
    if created is None:
        return None, None, None
    return _companies(created), _links(created), name_key(created["name"]) or None


def _links(customer: dict[str, Any]) -> str | None:
    """A customer's links to parent units as the register keeps them
    (`import_register.parents`), from its `CustomerCreated` or `CustomerDetailsChanged`; an
    entry of a change made before the links were kept per company has only the last."""
    parents = links(
        customer.get("parents"), customer.get("parent_id"), customer.get("parent_company_id")
    )
    return orjson.dumps({str(k): str(v) for k, v in parents.items()}).decode() if parents else None


def _outcome_of(payload: dict[str, Any]) -> dict[str, Any]:
    """What `_record_batch` reads of a batch's outcome."""
    return {key: payload[key] for key in ("job_id", "batch", "outcomes")}


def new_upload_path(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"upload-{uuid4().hex}"


def check_options(options: dict[str, Any]) -> None:
    """Options that cannot go together."""
    if options.get("dry_run") and options.get("update_existing"):
        return  # a dry run checks the same rows; it changes nothing either way
