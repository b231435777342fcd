"""Runs import jobs in the background, one at a time per process: jobs queued by this process
at once, those of other processes (and those under way when a process stopped) at the next
poll."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from .application import ImporterApplication

log = logging.getLogger("psa.importer")


class ImportRunner:
    def __init__(self, app: ImporterApplication, poll_interval: float = 1.0) -> None:
        self.app = app
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False

    def wake(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        while not self._stopping:
            self._wake.clear()
            try:
                for job_id in await asyncio.to_thread(self.app.unfinished):
                    if self._stopping:
                        return
                    await asyncio.to_thread(self.app.run, job_id, lambda: self._stopping)
            except Exception:
                log.exception("import jobs could not be run; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    def stop(self) -> None:
        self._stopping = True
        self.wake()
