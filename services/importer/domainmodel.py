"""The `ImportJob` aggregate: one upload of a customer register, from queued to its end, with
who started it, its options and its counts. Per-row errors are rows of a table beside it (a
million-row file can have a million of them), not events."""

from __future__ import annotations

import dataclasses
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from psa.domain import PlainStateCopy
from psa.errors import ConflictError

from .finnish import in_finnish

STATUSES = (
    "queued",
    "validating",
    "running",
    "completed",
    "completed_with_errors",
    "failed",
    "cancelled",
)
FINAL = ("completed", "completed_with_errors", "failed", "cancelled")
COUNTS = ("total_rows", "processed", "created", "updated", "unchanged", "skipped", "failed")


class ImportJob(PlainStateCopy, Aggregate):
    """An import of a file into a tenant's customers."""

    class Event(Aggregate.Event):
        def mutate(self, aggregate: Any) -> Any:
            # The library sets `modified_on` after the event is applied: set first, it is
            # this event's time for the methods that record when something happened.
            if aggregate is not None:
                aggregate.modified_on = self.timestamp
            return super().mutate(aggregate)

    @event("Queued")
    def __init__(
        self,
        tenant_id: str,
        company_id: str,
        actor_id: str,
        actor_name: str,
        filename: str,
        options: dict[str, Any],
        mapping: dict[str, str | None] | None,
    ) -> None:
        self.tenant_id = tenant_id
        self.company_id = company_id
        self.actor_id = actor_id
        self.actor_name = actor_name
        self.filename = filename
        self.options = dict(options)
        self.mapping = dict(mapping) if mapping else None
        self.status = "queued"
        self.counts = dict.fromkeys(COUNTS, 0)
        self.unknown_columns: list[str] = []
        self.problem: str | None = None
        self.cancel_requested = False
        self.batches: int | None = None
        self.started_at: Any = None
        self.finished_at: Any = None
        # Batches sent again after the customers service gave up on them: number → the
        # version of the batch's command that was sent.
        self.retrying: dict[str, int] = {}
        self.invalid_rows = 0  # rows that failed the checks (the rest fail, if at all, later)

    @property
    def final(self) -> bool:
        return self.status in FINAL

    @event("Started")
    def start(self) -> None:
        self.status = "validating"
        self.started_at = self.modified_on

    @event("Validated")
    def validated(self, total_rows: int, failed: int, unknown_columns: list[str]) -> None:
        self.counts["total_rows"] = self.counts["checked"] = total_rows
        # Rows with an outcome: counted from here on, so the count never goes back.
        self.counts["processed"] = 0
        self.counts["failed"] = failed
        self.invalid_rows = failed
        self.unknown_columns = list(unknown_columns)

    @event("Progressed")
    def progressed(self, counts: dict[str, int]) -> None:
        self.counts.update(counts)

    @event("Sending")
    def sending(self) -> None:
        """The checked rows go to the customers service."""
        self.status = "running"

    def request_cancel(self) -> None:
        if self.final:
            raise ConflictError(f"the import has ended ({self.status})", "status")
        if not self.cancel_requested:
            self._cancel_requested()

    @event("CancelRequested")
    def _cancel_requested(self) -> None:
        self.cancel_requested = True
        if self.status == "queued":
            self.status = "cancelled"
            self.finished_at = self.modified_on

    @event("Sent")
    def sent(self, batches: int) -> None:
        """Every batch is queued for the customers service; outcomes come back on events."""
        self.status = "running"
        self.batches = batches

    def check_retry(self) -> None:
        if self.status != "completed_with_errors":
            raise ConflictError(
                f"only an import that ended with errors can be sent again, not one {self.status}",
                "status",
            )

    def retry(self, batches: dict[str, int]) -> None:
        self.check_retry()
        self._retried(batches)

    @event("Retried")
    def _retried(self, batches: dict[str, int]) -> None:
        """The batches the customers service gave up on are sent again; the job runs until
        their outcomes are in."""
        self.status = "running"
        self.retrying = dict(batches)
        self.counts["failed"] = self.invalid_rows
        self.problem = None
        self.finished_at = None

    @event("Finished")
    def finish(self, status: str, counts: dict[str, int], problem: str | None = None) -> None:
        assert status in FINAL
        self.status = status
        self.counts.update(counts)
        self.problem = problem
        self.finished_at = self.modified_on

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "status": self.status,
            "filename": self.filename,
            "options": self.options,
            **self.counts,
            "unchanged": self.counts.get("unchanged", 0),  # 0 in jobs stored before it was
            # Jobs stored before rows checked were counted apart: their total once checked.
            "checked": self.counts.get("checked", self.counts["total_rows"]),
            "unknown_columns": self.unknown_columns,
            "problem": self.problem,
            "problem_fi": in_finnish(self.problem) if self.problem else None,
            "cancel_requested": self.cancel_requested,
            "created_by": {"id": self.actor_id, "name": self.actor_name},
            "created_at": self.created_on,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "version": self.version,
        }


BATCH_NAMESPACE = uuid5(NAMESPACE_URL, "urn:psa:import-batch")


def batch_id(job_id: UUID, batch: int) -> UUID:
    return uuid5(BATCH_NAMESPACE, f"{job_id}:{batch}")


class ImportBatch(Aggregate):
    """Rows of a job for the customers service; published on `customers.commands.v1` by the
    importer's relay. Its id derives from the job and the batch's number, so a resumed job
    that makes the same batch again cannot queue it twice."""

    class Command(Aggregate.Event):
        """An event that carries the batch's command: its rows, and who sends them."""

        tenant_id: str
        actor_id: str
        actor_name: str
        job_id: str
        batch: int
        company_id: str
        update_existing: bool
        rows: list[dict[str, Any]]
        # Numbers later batches' rows give (None in batches stored before there were any).
        reserved_numbers: list[str] | None = None

        def apply(self, aggregate: Aggregate) -> None:
            pass

    class Queued(Command, Aggregate.Created):
        """The batch's command, first sent."""

    class Requeued(Command):
        """The same rows sent again (the customers service gave up on them before)."""

    def requeue(self, queued: ImportBatch.Queued) -> None:
        """Send the rows of the batch's first command (`queued`) again."""
        self.trigger_event(self.Requeued, **{key: getattr(queued, key) for key in _COMMAND})

    @classmethod
    def queue(
        cls,
        job: ImportJob,
        batch: int,
        rows: list[dict[str, Any]],
        reserved_numbers: list[str] | None = None,
    ) -> ImportBatch:
        return cls._create(
            cls.Queued,
            id=batch_id(job.id, batch),
            tenant_id=job.tenant_id,
            actor_id=job.actor_id,
            actor_name=job.actor_name,
            job_id=str(job.id),
            batch=batch,
            company_id=job.company_id,
            update_existing=bool(job.options.get("update_existing")),
            rows=rows,
            reserved_numbers=reserved_numbers or None,
        )

    def __init__(self) -> None:
        pass


# The command a batch carries: the fields of `Command` beyond those of every event.
_COMMAND = tuple(
    f.name
    for f in dataclasses.fields(ImportBatch.Command)
    if f.name not in {e.name for e in dataclasses.fields(Aggregate.Event)}
)
