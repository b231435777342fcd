"""The customers service's second process: the customer list and the relay of
`customers.events.v1`.

Between them they cost about as much CPU as executing the commands, and in one process all of
it takes turns for one interpreter lock. In a process of their own they run on another core.
Both follow the event store, so they need nothing from the main process but a nudge when it
has stored events (a byte down a pipe; polling is the fallback, and on PostgreSQL the relay also
hears the store's NOTIFY). Reads in the main process still catch the list up themselves when
they must see a write at once: the list's tracking row decides who applies what.

The process ends with its parent (PR_SET_PDEATHSIG on Linux, and the wake pipe's end, which
closes with the parent), so a killed service leaves no worker behind to hold the relay's lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import threading
from typing import Any

from psa.config import Config

log = logging.getLogger("psa.customers.background")


class BackgroundProcess:
    """A stream worker (see `psa.streams.runtime.Workers`) that keeps the second process
    running: started with the service, started again if it dies, stopped with the service."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._context = multiprocessing.get_context("spawn")
        self._wake_fd: int | None = None
        self._writer: Any = None
        self._wake_guard = threading.Lock()
        self._process: Any = None
        self._stopping = False

    def wake(self) -> None:
        """Thread-safe: new events were stored (a save listener). A byte down a pipe, never
        a lock: a second process killed at any moment cannot leave a save waiting on it."""
        with self._wake_guard:  # the pipe is not closed (and its number reused) meanwhile
            if self._wake_fd is not None:
                with contextlib.suppress(OSError):  # full (it will wake anyway) or closed
                    os.write(self._wake_fd, b"\0")

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def run(self) -> None:
        try:
            while not self._stopping:
                reader, writer = self._context.Pipe(duplex=False)
                self._process = self._context.Process(
                    target=run_background,
                    args=(self.config, reader),
                    name="customers-background",
                    daemon=True,
                )
                self._process.start()
                reader.close()  # the child's now: a write to a dead child fails at once
                os.set_blocking(writer.fileno(), False)
                self._close_wake()
                with self._wake_guard:
                    self._writer = writer
                    self._wake_fd = writer.fileno()
                while self._process.is_alive() and not self._stopping:
                    await asyncio.sleep(0.5)
                if not self._stopping:
                    log.warning(
                        "the customer list and relay process ended (%s); starting it again",
                        self._process.exitcode,
                    )
                    await asyncio.sleep(1)
        finally:
            await asyncio.to_thread(self._end)
            self._close_wake()

    def _close_wake(self) -> None:
        with self._wake_guard:
            if self._writer is not None:
                self._writer.close()
            self._writer = None
            self._wake_fd = None

    def _end(self) -> None:
        process = self._process
        if process is None or process.exitcode is not None:
            return
        process.terminate()
        process.join(15)
        if process.exitcode is None:
            process.kill()
            process.join(5)

    def stop(self) -> None:
        self._stopping = True
        with contextlib.suppress(Exception):
            if self._process is not None and self._process.exitcode is None:
                self._process.terminate()


def run_background(config: Config, wake: Any) -> None:
    """The second process's entry point."""
    _end_with_parent()
    logging.basicConfig(
        level=config.log_level.upper(), format="%(levelname)s:%(name)s (background):%(message)s"
    )
    asyncio.run(_serve(config, wake))


async def _serve(config: Config, wake: Any) -> None:
    from psa.gc_tuning import tune_gc
    from psa.streams.runtime import Workers, redis_client

    from .bootstrap import build_application, customers_relay

    app, _ = build_application(config)
    client = redis_client(str(config.redis_url))
    relay = customers_relay(config, app, client)
    listing = app.customer_list
    tune_gc()
    workers = Workers([relay, listing], client)
    workers.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    fd = wake.fileno()
    os.set_blocking(fd, False)

    def nudged() -> None:
        try:
            nudges = os.read(fd, 65536)  # every nudge so far, before waking the workers
        except BlockingIOError:
            return
        except OSError:
            nudges = b""
        if not nudges:
            stop.set()  # the pipe was closed: the main process is gone
            return
        relay.wake()
        listing.wake()

    loop.add_reader(fd, nudged)
    try:
        await stop.wait()
    finally:
        loop.remove_reader(fd)
        await workers.stop()
        app.close()


def _end_with_parent() -> None:
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
