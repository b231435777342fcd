"""Running a service's stream workers (relays and consumers) beside its HTTP API."""

from __future__ import annotations

import abc
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


def service_relay(
    config: Any,
    app: Any,
    client: Any,
    stream: str,
    to_envelope: Callable[[Any, int], Any] | None,
    topics: Sequence[str] | None = None,
    *,
    translate_page: Callable[[Sequence[tuple[int, Any]], bool], Any] | None = None,
) -> Any:
    """A service's outbox relay of `stream`, woken by every save of this process and, on
    PostgreSQL, by the store's NOTIFY from other processes (polling is the fallback)."""
    from psa.persistence import postgres_conninfo

    from .relay import OutboxRelay

    listen = None
    if config.uses_postgres:
        listen = postgres_listener(postgres_conninfo(config), app.recorder.channel_name)
    relay = OutboxRelay(
        app,
        client,
        config.stream(stream),
        to_envelope,
        translate_page=translate_page,
        listen=listen,
        topics=topics or (),
        retention=config.stream_retention,
    )
    app.save_listeners.append(relay.wake)
    return relay


class Poller(abc.ABC):
    """A worker that runs `work` in a thread, again when woken (from any thread) or after
    `poll_interval` seconds, until stopped."""

    poll_interval = 1.0
    failure_message = "a background worker failed; trying again"

    def __init__(self) -> None:
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False

    @abc.abstractmethod
    def work(self) -> Any:
        """One round of the worker's job (runs in a thread)."""

    def wake(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        while not self._stopping:
            self._wake.clear()
            try:
                await asyncio.to_thread(self.work)
            except Exception:
                log.exception(self.failure_message)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    def stop(self) -> None:
        self._stopping = True
        self.wake()
