"""The importer: import jobs as aggregates, their files under the data dir, their per-row
errors in a table, and the run that checks every row against the tenant's settings.

A job that was queued or running when the process stopped is picked up again at start-up:
its run starts over, which is safe because a run's checks and error rows are replaced
whole (and, once rows go to the customers service, each row's key makes it idempotent)."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from psa.application import ServiceApplication
from psa.customer_rules.settings_view import SettingsView
from psa.errors import DomainError, NotFoundError
from psa.tables import Tables

from .columns import columns, map_headers
from .domainmodel import FINAL, ImportJob
from .reader import FileProblem, open_sheet
from .validation import RowChecker, duplicate_key

log = logging.getLogger("psa.importer")
BATCH = 1000
_TABLES = {
    "import_job": "job_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, status TEXT NOT NULL",
    "import_error": (
        "job_id TEXT NOT NULL, row_number BIGINT NOT NULL, column_name TEXT NOT NULL, "
        "message TEXT NOT NULL"
    ),
}


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
        with self.tables.transaction() as cursor:
            for table, columns_sql in _TABLES.items():
                self.tables.execute(
                    cursor, f"CREATE TABLE IF NOT EXISTS {self.tables.name(table)} ({columns_sql})"
                )
            self.tables.execute(
                cursor,
                "CREATE INDEX IF NOT EXISTS import_error_i0 ON "
                f"{self.tables.name('import_error')} (job_id, row_number)",
            )

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
        job = self.job(tenant_id, job_id)
        self._set_status(job)
        return job

    # ---------------------------------------------------------------- queries
    def job(self, tenant_id: str, job_id: UUID) -> ImportJob:
        job: ImportJob = self.read(job_id)
        if job.tenant_id != tenant_id:
            raise NotFoundError(self.not_found_message)
        return job

    def unfinished(self) -> list[UUID]:
        """Jobs queued or under way, oldest first."""
        with self.tables.transaction(commit=False) as cursor:
            self.tables.execute(
                cursor,
                f"SELECT job_id FROM {self.tables.name('import_job')} WHERE status NOT IN "
                f"({', '.join('?' for _ in FINAL)})",
                FINAL,
            )
            return [UUID(row["job_id"]) for row in cursor.fetchall()]

    def errors(self, job_id: UUID, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        t = self.tables
        with t.transaction(commit=False) as cursor:
            t.execute(
                cursor,
                f"SELECT row_number, column_name, message FROM {t.name('import_error')} "
                "WHERE job_id = ? ORDER BY row_number, column_name LIMIT ? OFFSET ?",
                (str(job_id), limit, offset),
            )
            items = [
                {"row": int(r["row_number"]), "column": r["column_name"], "message": r["message"]}
                for r in cursor.fetchall()
            ]
            t.execute(
                cursor,
                f"SELECT COUNT(*) AS n FROM {t.name('import_error')} WHERE job_id = ?",
                (str(job_id),),
            )
            return items, int(cursor.fetchone()["n"])

    def all_errors(self, job_id: UUID) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            items, _ = self.errors(job_id, offset, 5000)
            yield from items
            if len(items) < 5000:
                return
            offset += len(items)

    # ---------------------------------------------------------------- the run
    def run(self, job_id: UUID, interrupted: Callable[[], bool] = lambda: False) -> ImportJob:
        """Check every row of the job's file and report; resumes a job that was under way.
        When `interrupted` says so (the process is stopping), the job is left as it is, to be
        resumed by the next start."""
        job: ImportJob = self.read(job_id)
        if job.final:
            return job
        if job.status == "queued":
            self.change(job_id, None, lambda j: j.start())
        self._clear_errors(job_id)
        try:
            status, counts, problem = self._check_rows(job, interrupted)
        except Interrupted:
            return self.read(job_id)
        except FileProblem as error:
            self._write_errors(job_id, [(0, "file", error.message)])
            status, counts, problem = "failed", {}, error.message
        except Exception as error:  # a failure of the importer, not of the file
            log.exception("import %s failed", job_id)
            status, counts, problem = "failed", {}, f"the import failed: {error}"
        self.change(job_id, None, lambda j: j.finish(status, counts, problem))
        job = self.read(job_id)
        self._set_status(job)
        return job

    def _check_rows(
        self, job: ImportJob, interrupted: Callable[[], bool]
    ) -> tuple[str, dict[str, int], str | None]:
        view = self.settings_of(job.tenant_id)
        if view is None:
            return "failed", {}, "the tenant's settings have not reached the importer yet"
        known = columns(view)
        sheet = open_sheet(self.files / str(job.id) / "upload", job.filename)
        mapping = map_headers(sheet.headers(), known, job.mapping)
        file_errors = [
            (1, c.header, "this required column is missing") for c in mapping.missing_required
        ]
        file_errors += [
            (1, name, "this column is not a column of the import: map it or leave it out")
            for name in mapping.unknown
        ]
        if file_errors:
            self._write_errors(job.id, file_errors)
        if mapping.missing_required:
            missing = ", ".join(c.header for c in mapping.missing_required)
            return "failed", {}, f"required columns are missing: {missing}"
        checker = RowChecker(view, job.company_id, known)
        business_ids: dict[str, int] = {}
        numbers: dict[str, int] = {}
        parents: list[tuple[int, str]] = []
        total = failed = 0
        pending: list[tuple[int, str, str]] = []
        failed_rows: set[int] = set()
        for number, values in sheet.rows():
            total += 1
            row = checker.check(
                number,
                {
                    key: values[i] if i < len(values) else None
                    for i, key in mapping.positions.items()
                },
            )
            errors = list(row.errors)
            business_id, customer_number = duplicate_key(row.customer)
            if business_id:
                first = business_ids.setdefault(business_id, number)
                if first != number:
                    errors.append(("business_id", f"the same business id as row {first}"))
            if customer_number:
                first = numbers.setdefault(customer_number, number)
                if first != number:
                    errors.append(("number", f"the same customer number as row {first}"))
            if row.parent_number:
                parents.append((number, row.parent_number.casefold()))
            if errors:
                failed_rows.add(number)
                pending += [(number, checker.header(column), message) for column, message in errors]
            if len(pending) >= BATCH:
                self._write_errors(job.id, pending)
                pending = []
            if total % (BATCH * 10) == 0:
                if interrupted():
                    raise Interrupted
                if self.read(job.id).cancel_requested:
                    self._write_errors(job.id, pending)
                    return "cancelled", {"total_rows": total, "processed": total}, None
                self._progress(job.id, {"processed": total})
        for number, parent in parents:
            if parent not in numbers:
                failed_rows.add(number)
                pending.append(
                    (
                        number,
                        checker.header("parent_number"),
                        "no customer with this number in the file",
                    )
                )
        self._write_errors(job.id, pending)
        failed = len(failed_rows)
        counts = {"total_rows": total, "processed": total, "failed": failed}
        self.change(job.id, None, lambda j: j.validated(total, failed, list(mapping.unknown)))
        if total == 0:
            return "failed", counts, "the file has no rows under its header"
        return ("completed_with_errors" if failed or file_errors else "completed"), counts, None

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
                    "message) VALUES (?, ?, ?, ?)"
                ),
                [(str(job_id), row, column, message) for row, column, message in errors],
            )

    def _clear_errors(self, job_id: UUID) -> None:
        with self.tables.transaction() as cursor:
            self.tables.execute(
                cursor,
                f"DELETE FROM {self.tables.name('import_error')} WHERE job_id = ?",
                (str(job_id),),
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


def new_upload_path(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"upload-{uuid4().hex}"


def check_options(options: dict[str, Any]) -> None:
    if not options.get("dry_run"):
        raise DomainError(
            "this version of the importer checks files only (dry_run=true); creating the "
            "customers of an import is not available yet",
            "dry_run",
        )
