"""Runs import jobs in the background: a tenant's jobs one at a time, in the order they were
uploaded (a later file is checked against the customers an earlier one created), and the jobs
of different tenants side by side, up to `concurrency` at once, so that one tenant's large
import does not hold another's small one up. Jobs queued by this process start at once, those
of other processes (and those under way when a process stopped) at the next poll.

Replicas of the importer share the jobs: a job runs in the process that holds its lease
(`import_job_lease`), which it renews while the job runs and gives back when the run returns.
A process that stops without giving it back (killed) holds it until it runs out, then
another process resumes the job (or at once, a process started again in its place). A job
whose lease is lost, or has gone two thirds of its time without a renewal (the database
failed), stops at its next check: another process may have it, or soon."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime
from uuid import UUID

from psa.streams.runtime import Poller

from .application import ImporterApplication

log = logging.getLogger("psa.importer")
FAILED_PAUSE = 10.0  # seconds before a job whose run failed is tried again
LEASE_SECONDS = 30.0  # how long a job's lease lasts unless renewed
RENEW_SECONDS = 5.0  # how often the leases of running jobs are renewed


class ImportRunner(Poller):
    failure_message = "import jobs could not be run; trying again"

    def __init__(
        self,
        app: ImporterApplication,
        poll_interval: float = 1.0,
        concurrency: int = 2,
        name: str | None = None,
    ) -> None:
        super().__init__()
        self.app = app
        self.poll_interval = poll_interval
        self.concurrency = max(1, concurrency)
        self._kicked = threading.Event()
        self._failed: dict[UUID, float] = {}  # job → when its run failed (not cut short by saves)
        self._uploaded: dict[UUID, datetime] = {}  # job → when it was uploaded
        # This process's name on the leases it holds: `name` (the service gives its host,
        # port and data dir) and a part of its own, so that two processes never share one.
        # A process started again in another's place (the same `name`) takes over the leases
        # its predecessor held, so it resumes their jobs at once instead of waiting for the
        # leases to run out.
        self.name = name
        self.holder = f"{name or ''}#{uuid.uuid4().hex}"
        self._taken_over = False  # the leases of a predecessor of this name
        self._held: dict[UUID, float] = {}  # running job → when its lease was last renewed

    def wake(self) -> None:
        self._kicked.set()
        super().wake()

    def work(self) -> None:
        """Until no job is left to start: each tenant's oldest unfinished job, in threads. A
        job that returns unfinished (its outcomes are awaited) is tried again when something
        is saved or after `poll_interval`."""
        running: dict[str, tuple[UUID, Future[object]]] = {}
        resting: dict[UUID, float] = {}  # job → when it returned unfinished
        renewed = time.monotonic()
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="import") as pool:
            while not self._stopping:
                if self._kicked.is_set():
                    self._kicked.clear()
                    resting.clear()
                try:
                    self._start_jobs(pool, running, resting)
                except Exception as error:  # the database: the running jobs go on meanwhile
                    log.warning("import jobs could not be looked up: %s", error)
                if not running:
                    return  # none, or only jobs awaiting outcomes: the next round comes
                wait([f for _, f in running.values()], timeout=0.25, return_when=FIRST_COMPLETED)
                for tenant_id, (_, future) in list(running.items()):
                    if future.done():
                        del running[tenant_id]
                        future.result()
                if time.monotonic() - renewed >= RENEW_SECONDS:
                    renewed = time.monotonic()
                    self._renew([job_id for job_id, _ in running.values()])

    def _start_jobs(
        self,
        pool: ThreadPoolExecutor,
        running: dict[str, tuple[UUID, Future[object]]],
        resting: dict[UUID, float],
    ) -> None:
        if self.name is not None and not self._taken_over:
            taken = self.app.take_over(self.name + "#", self.holder)
            if taken:
                log.info("took over %s import jobs of this process's predecessor", taken)
            self._taken_over = True
        now = time.monotonic()
        for tenant_id, job_id in self._next_jobs():
            if len(running) >= self.concurrency:
                break
            if (
                tenant_id in running
                or now - resting.get(job_id, -1e9) < self.poll_interval
                or now - self._failed.get(job_id, -1e9) < FAILED_PAUSE
            ):
                continue
            if not self.app.claim(job_id, self.holder, LEASE_SECONDS):
                # Another process runs it (the tenant's later jobs wait): looked at again
                # after `poll_interval`.
                resting[job_id] = now
                continue
            self._held[job_id] = time.monotonic()
            running[tenant_id] = (job_id, pool.submit(self._run, job_id, resting))

    def _renew(self, job_ids: list[UUID]) -> None:
        for job_id in job_ids:
            try:
                held = self.app.renew(job_id, self.holder, LEASE_SECONDS)
            except Exception as error:  # the database: `_interrupted` stops it in time
                log.warning("the lease of import %s could not be renewed: %s", job_id, error)
                continue
            if held:
                self._held[job_id] = time.monotonic()
            else:
                log.warning("import %s is run by another process now: this one stops it", job_id)
                self._held.pop(job_id, None)

    def _interrupted(self, job_id: UUID) -> bool:
        """Whether the job must stop here: the process is stopping, or the job's lease is
        lost or may run out before it is renewed (another process may take the job then)."""
        held = self._held.get(job_id)
        return self._stopping or held is None or time.monotonic() - held > LEASE_SECONDS * 2 / 3

    def _run(self, job_id: UUID, resting: dict[UUID, float]) -> None:
        try:
            job = self.app.run(job_id, lambda: self._interrupted(job_id))
        except Exception:  # this job's failure: the others go on; it is tried again later
            log.exception("import %s could not be run; trying again", job_id)
            self._failed[job_id] = time.monotonic()
            return
        finally:
            self._held.pop(job_id, None)
            self._release(job_id)
        self._failed.pop(job_id, None)
        if not job.final:
            resting[job_id] = time.monotonic()

    def _release(self, job_id: UUID) -> None:
        try:
            self.app.release(job_id, self.holder)
        except Exception as error:  # it runs out by itself
            log.warning("the lease of import %s could not be given back: %s", job_id, error)

    def _next_jobs(self) -> list[tuple[str, UUID]]:
        """Each tenant's oldest unfinished job, oldest first."""
        jobs = self.app.unfinished()
        # Read once per job (it does not change), kept while the job is unfinished.
        self._uploaded = {
            job_id: self._uploaded.get(job_id) or self.app.read(job_id).created_on
            for job_id, _ in jobs
        }
        first: dict[str, UUID] = {}
        for job_id, tenant_id in sorted(jobs, key=lambda job: self._uploaded[job[0]]):
            first.setdefault(tenant_id, job_id)
        return [(tenant_id, job_id) for tenant_id, job_id in first.items()]
