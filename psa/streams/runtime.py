"""Running a service's stream workers (relays and consumers) beside its HTTP API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

log = logging.getLogger("psa.streams")


class Worker(Protocol):
    async def run(self) -> None: ...

    def stop(self) -> None: ...


class Workers:
    """Starts workers as tasks; stops them (and their Redis client) on shutdown."""

    def __init__(self, workers: Sequence[Worker], client: Any | None = None) -> None:
        self.workers = list(workers)
        self.client = client
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for worker in self.workers:
            self.tasks.append(asyncio.create_task(self._guard(worker.run)))

    @staticmethod
    async def _guard(run: Callable[[], Awaitable[None]]) -> None:
        # A worker that fails unexpectedly is logged and started again: the stream must flow.
        while True:
            try:
                await run()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("a stream worker failed; starting it again")
                await asyncio.sleep(1)

    async def stop(self, timeout: float = 10.0) -> None:
        for worker in self.workers:
            worker.stop()
        for task in self.tasks:
            task.cancel()
        if self.tasks:
            # A worker stuck in a call that ignores cancellation must not hold shutdown up.
            _, stuck = await asyncio.wait(self.tasks, timeout=timeout)
            if stuck:
                log.warning("%s stream workers did not stop in %s s", len(stuck), timeout)
        # Cancelling a task does not stop a store call it started in a thread: wait for those
        # to finish, so that the caller can close the store after this returns.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.get_running_loop().shutdown_default_executor(), timeout)
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.aclose()


def postgres_listener(conninfo: str, channel: str, fallback: float = 1.0) -> Any:
    """LISTEN for the event store's NOTIFY (PostgreSQL): wakes a relay when another process
    stored events. The relay's polling stays the fallback for a lost notification."""

    async def listen(wake: asyncio.Event) -> None:
        import psycopg
        from psycopg import sql

        while True:
            try:
                connection = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
                async with connection:
                    await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    while True:
                        async for _ in connection.notifies(timeout=fallback):
                            wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("LISTEN %s failed (%s); polling meanwhile", channel, error)
                await asyncio.sleep(fallback)

    return listen


def redis_client(url: str) -> Any:
    """The services' Redis client: a read never waits forever (consumers block for 1 s at a
    time, so 30 s means the server or the network is gone)."""
    import redis.asyncio as aioredis

    return aioredis.Redis.from_url(
        url, socket_timeout=30, socket_connect_timeout=10, health_check_interval=30
    )
