"""A stream consumer that applies entries in order, at least once, and never stalls on one.

- The consumer group is created at start-up from the stream's beginning (`XGROUP CREATE ... 0
  MKSTREAM`), and created again if Redis lost it; entries seen before are skipped by the
  handler's tracking, so a replay is harmless.
- One consumer of a group works at a time (a lease), so entries are applied in the order of
  their positions. A standby takes over when the lease lapses and first claims the entries the
  crashed consumer had read but not acknowledged (XAUTOCLAIM, after an idle time).
- The handler writes its projection and tracked position in one transaction; only then is the
  entry acknowledged (the entries of one read together, in one XACK). A failing entry is
  retried a few times; an entry that fails N times (or
  was delivered N times, counting crashes) goes to `<stream>.dlq` with its error and the stream
  flows on.

The service's own consumers use redis-py directly because their guarantees live in these
details (faststream 0.7's stream subscriber stops for good when its group vanishes, acks on
return and cannot hold new entries back behind a reclaimed one). The entries are in faststream's
wire format, so downstream faststream subscribers read them as they are (see README).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from contracts import dead_letter_stream

from .lease import Lease, instance_name
from .wire import entry_body

log = logging.getLogger("psa.consumer")

Handler = Callable[[int, bytes], Awaitable[None]]


def _transient_errors() -> tuple[type[BaseException], ...]:
    """Failures of the infrastructure, not of the entry: retried until they pass, never sent
    to the dead-letter stream (the entry is fine; the database or network is not)."""
    import sqlite3

    from eventsourcing.persistence import InterfaceError, OperationalError

    from psa.errors import NotReadyError

    errors: list[type[BaseException]] = [
        NotReadyError,  # e.g. the settings the entry needs have not arrived yet
        OSError,
        TimeoutError,
        ConnectionError,
        OperationalError,
        InterfaceError,
        sqlite3.OperationalError,
        RedisError,
    ]
    try:
        import psycopg

        errors += [psycopg.OperationalError, psycopg.InterfaceError]
    except ImportError:  # pragma: no cover - psycopg is a dependency
        pass
    return tuple(errors)


TRANSIENT_ERRORS = _transient_errors()


class LeaseLost(Exception):
    """Another consumer took over: stop handling, leave the rest unacknowledged for it."""


@dataclass
class ConsumerStats:
    applied: int = 0
    dead_lettered: int = 0
    reclaimed: int = 0
    groups_created: int = 0


def position_of(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])


class StreamConsumer:
    """Reads `stream` as `group` and hands each entry's position and envelope to `handler`."""

    def __init__(
        self,
        client: aioredis.Redis,
        stream: str,
        group: str,
        handler: Handler,
        *,
        consumer: str | None = None,
        max_attempts: int = 5,
        retry_delay: float = 0.05,
        idle_ms: int = 5000,
        block_ms: int = 1000,
        batch_size: int = 100,
        trim: bool = False,
    ) -> None:
        self.client = client
        # A stream of commands for this group alone: what it has applied is trimmed away
        # (the entry just applied stays, as the publishing relay's record of where it is).
        self.trim = trim
        self.stream = stream
        self.group = group
        self.handler = handler
        self.name = consumer or instance_name(group)
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.idle_ms = idle_ms
        self.block_ms = block_ms
        self.batch_size = batch_size
        self.lease = Lease(client, f"{stream}.{group}.consumer-lease", self.name, idle_ms)
        self.stats = ConsumerStats()
        self._stopping = False
        self._ended = False  # run() has returned: the heartbeat stops too
        self._renewed_at = 0.0

    async def ensure_group(self) -> None:
        """Create the group at the stream's start; an existing group is kept as it is."""
        try:
            await self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
            self.stats.groups_created += 1
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def run(self) -> None:
        """Consume until stopped; survives Redis restarts and lost groups."""
        created = False
        self._ended = False
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            while not self._stopping:
                try:
                    if not await self.lease.hold():
                        await asyncio.sleep(self.idle_ms / 3000)
                        continue
                    if not created:
                        await self.ensure_group()
                        created = True
                    self._renewed_at = asyncio.get_running_loop().time()
                    await self.step()
                except LeaseLost:
                    log.warning(
                        "consumer %s lost the lease of %s to another", self.name, self.group
                    )
                    continue
                except ResponseError as error:
                    if "NOGROUP" in str(error):
                        log.warning(
                            "group %s of %s was lost: creating it again", self.group, self.stream
                        )
                        created = False
                        continue
                    log.exception("consumer %s of %s failed", self.name, self.stream)
                    await asyncio.sleep(0.5)
                except (RedisError, OSError) as error:
                    log.warning("consumer of %s waits for Redis: %s", self.stream, error)
                    created = False
                    await asyncio.sleep(0.5)
        finally:
            self._ended = True
            heartbeat.cancel()
            # Bounded: on Python 3.11 a cancel that meets a finishing Redis call can be lost,
            # and then the heartbeat ends only when it sees `_ended`.
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait({heartbeat}, timeout=self.idle_ms / 1000 + 1)
            with contextlib.suppress(RedisError, OSError):
                await self.lease.release()

    async def _heartbeat(self) -> None:
        # While this consumer holds the lease, keep extending it even if one entry takes
        # longer than the idle time: only a stopped process lets it lapse.
        while not self._ended:
            await asyncio.sleep(self.idle_ms / 3000)
            with contextlib.suppress(RedisError, OSError):
                if await self.client.get(self.lease.key) in (self.name, self.name.encode()):
                    await self.lease.hold()

    async def step(self) -> int:
        """One round: earlier entries left pending first, then new ones. Returns how many."""
        handled = await self._own_pending()
        handled += await self._reclaim()
        if await self._others_pending():
            # A crashed consumer still holds earlier entries that are not idle long enough to
            # claim: new entries wait behind them, to keep the order of positions.
            await asyncio.sleep(min(0.2, self.idle_ms / 5000))
            return handled
        response: Any = await self.client.xreadgroup(
            self.group,
            self.name,
            {self.stream: ">"},
            count=self.batch_size,
            block=self.block_ms,
        )
        done: list[Any] = []
        try:
            for _, entries in response or []:
                for entry_id, fields in entries:
                    await self._handle(entry_id, fields, deliveries=1, ack=False)
                    done.append(entry_id)
                    handled += 1
        finally:
            # One acknowledgement for the entries applied (or dead-lettered) in this round.
            await self._ack(done)
        return handled

    async def _skip_deleted(self, entry_id: Any, fields: Any) -> bool:
        """An entry deleted from the stream while pending comes back empty: acknowledge it."""
        if fields:
            return False
        if entry_id is not None:
            await self.client.xack(self.stream, self.group, entry_id)
        return True

    async def _own_pending(self) -> int:
        # Entries this consumer read before a restart under the same name.
        response: Any = await self.client.xreadgroup(
            self.group, self.name, {self.stream: "0"}, count=self.batch_size
        )
        handled = 0
        for _, entries in response or []:
            for entry_id, fields in entries:
                if await self._skip_deleted(entry_id, fields):
                    continue
                await self._handle(entry_id, fields, deliveries=await self._deliveries(entry_id))
                handled += 1
        return handled

    async def _reclaim(self) -> int:
        handled = 0
        start = "0-0"
        while True:
            claimed: Any = await self.client.xautoclaim(
                self.stream, self.group, self.name, self.idle_ms, start, count=self.batch_size
            )
            next_start, entries = claimed[0], claimed[1]
            for entry_id, fields in entries or []:
                self.stats.reclaimed += 1
                if await self._skip_deleted(entry_id, fields):
                    continue
                await self._handle(entry_id, fields, deliveries=await self._deliveries(entry_id))
                handled += 1
            if next_start in (b"0-0", "0-0", None) or not entries:
                return handled
            start = next_start

    async def _others_pending(self) -> bool:
        summary = await self.client.xpending(self.stream, self.group)
        if not summary or not summary.get("pending"):
            return False
        for consumer in summary.get("consumers") or []:
            name = consumer.get("name")
            name = name.decode() if isinstance(name, bytes) else name
            if name != self.name and int(consumer.get("pending", 0)) > 0:
                return True
        return False

    async def _deliveries(self, entry_id: bytes | str) -> int:
        detail = await self.client.xpending_range(
            self.stream, self.group, min=entry_id, max=entry_id, count=1
        )
        return int(detail[0]["times_delivered"]) if detail else 1

    async def _keep_lease(self) -> None:
        # Extend the lease while working through a batch, so a standby never takes over
        # entries this consumer is still applying; give up the batch if it was lost anyway.
        loop = asyncio.get_running_loop()
        if loop.time() - self._renewed_at >= self.idle_ms / 3000:
            if not await self.lease.hold():
                raise LeaseLost
            self._renewed_at = loop.time()

    async def _ack(self, entry_ids: list[Any]) -> None:
        if not entry_ids:
            return
        await self.client.xack(self.stream, self.group, *entry_ids)
        if self.trim:
            await self.client.xtrim(self.stream, minid=entry_ids[-1], approximate=False)

    async def _handle(
        self, entry_id: bytes | str, fields: dict[Any, Any], deliveries: int, ack: bool = True
    ) -> None:
        await self._keep_lease()
        position = position_of(entry_id)
        error: BaseException | None = None
        if deliveries <= self.max_attempts:
            attempt = 0
            while attempt <= self.max_attempts - deliveries:
                try:
                    await self.handler(position, entry_body(fields))
                    error = None
                    break
                except TRANSIENT_ERRORS as failure:
                    # The database or network failed, not the entry: wait and try again, as
                    # long as it takes, without counting it against the entry.
                    log.warning(
                        "entry %s of %s waits for the infrastructure: %s",
                        position,
                        self.stream,
                        failure,
                    )
                    if self._stopping:
                        raise
                    await asyncio.sleep(min(2.0, self.retry_delay * 4))
                    await self._keep_lease()
                except Exception as failure:  # the entry itself fails: retry, then DLQ
                    error = failure
                    log.warning(
                        "entry %s of %s failed (attempt %s): %s",
                        position,
                        self.stream,
                        deliveries + attempt,
                        failure,
                    )
                    attempt += 1
                    await asyncio.sleep(self.retry_delay * attempt)
        else:
            error = RuntimeError(f"delivered {deliveries} times without being acknowledged")
        if error is not None:
            await self._dead_letter(entry_id, fields, error, deliveries)
        else:
            self.stats.applied += 1
        if ack:
            await self._ack([entry_id])

    async def _dead_letter(
        self, entry_id: bytes | str, fields: dict[Any, Any], error: BaseException, deliveries: int
    ) -> None:
        self.stats.dead_lettered += 1
        text = "".join(traceback.format_exception_only(type(error), error)).strip()
        log.error(
            "entry %s of %s goes to the dead-letter stream: %s",
            position_of(entry_id),
            self.stream,
            text,
        )
        record: dict[Any, Any] = dict(fields)
        record.update(
            {
                "source_stream": self.stream,
                "source_id": entry_id,
                "group": self.group,
                "error": text,
                "deliveries": str(deliveries),
            }
        )
        await self.client.xadd(dead_letter_stream(self.stream), record)

    def stop(self) -> None:
        self._stopping = True
