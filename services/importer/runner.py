"""Runs import jobs in the background, one at a time per process: jobs queued by this process
at once, those of other processes (and those under way when a process stopped) at the next
poll."""

from __future__ import annotations

import logging

from psa.streams.runtime import Poller

from .application import ImporterApplication

log = logging.getLogger("psa.importer")


class ImportRunner(Poller):
    failure_message = "import jobs could not be run; trying again"

    def __init__(self, app: ImporterApplication, poll_interval: float = 1.0) -> None:
        super().__init__()
        self.app = app
        self.poll_interval = poll_interval

    def work(self) -> None:
        for job_id in self.app.unfinished():
            if self._stopping:
                return
            self.app.run(job_id, lambda: self._stopping)
