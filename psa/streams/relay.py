"""The outbox relay: publishes a service's event log (the outbox) on its Redis stream.

The stream is its own tracking: entry ids are `<position>-0`, so the stream's last entry id is
the last position published. Each batch is appended by a script that first checks the stream
still ends where the relay thinks it does. So:
- a re-publish after a crash can never add a second copy (the script refuses ids that are not
  new, and Redis itself refuses an id at or below the stream's top);
- if Redis lost the stream (restarted without persistence), the relay sees a shorter stream and
  publishes again from the event store; consumers' tracking absorbs what they already had;
- commands never wait for Redis: they only store events; the relay catches up when it can.
A lease lets one relay per stream work at a time; a second one started waits harmlessly.

A service may publish several stored events of one transaction as one entry (the customers
service publishes an import batch's customers with the batch's outcome): its page translator
says how many of the events read it has accounted for, and the rest are carried over to the
next read instead of being published without the event that completes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import redis.asyncio as aioredis
from pydantic import BaseModel
from redis.exceptions import RedisError, ResponseError

from .lease import Lease, instance_name
from .wire import encode_entry

log = logging.getLogger("psa.relay")

# KEYS[1] stream. ARGV[1]: the entry id the stream should end with ('0-0': none).
# Then for each entry: id, number of fields, field, value, ...
# Returns {1, new last id} or, when the stream does not end as expected, {0, its last id}.
_PUBLISH = """
local last = '0-0'
if redis.call('EXISTS', KEYS[1]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then last = info[i + 1] end
  end
end
if last ~= ARGV[1] then return {0, last} end
local i = 2
while i <= #ARGV do
  local id = ARGV[i]
  local n = tonumber(ARGV[i + 1])
  local fields = {}
  for j = 1, n * 2 do fields[j] = ARGV[i + 1 + j] end
  last = redis.call('XADD', KEYS[1], id, unpack(fields))
  i = i + 2 + n * 2
end
return {1, last}
"""

_LAST_ID = """
if redis.call('EXISTS', KEYS[1]) == 0 then return '0-0' end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then return info[i + 1] end
end
return '0-0'
"""

Translate = Callable[[Any, int], BaseModel | None]
PageTranslation = tuple[list[tuple[int, Any]], int]
TranslatePage = Callable[[Sequence[tuple[int, Any]], bool], PageTranslation]
"""(stored events with their positions, whether they reach the end of the log) → (entries
with their positions, in order; how many of the events, from the first, they account for)."""


def each_event(translate: Translate) -> TranslatePage:
    """The page translator that publishes each stored event as an entry of its own."""

    def translate_page(events: Sequence[tuple[int, Any]], at_end: bool) -> PageTranslation:
        entries = []
        for position, event in events:
            envelope = translate(event, position)
            if envelope is not None:  # None: an internal event, not part of the stream
                entries.append((position, envelope))
        return entries, len(events)

    return translate_page


def _position(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])


def _entry_id(position: int) -> str:
    return f"{position}-0" if position else "0-0"


class OutboxRelay:
    """Publishes every event of `app`'s notification log on `stream`, in order, once."""

    def __init__(
        self,
        app: Any,
        client: aioredis.Redis,
        stream: str,
        translate: Translate | None = None,
        *,
        translate_page: TranslatePage | None = None,
        batch_size: int = 200,
        poll_interval: float = 0.5,
        check_interval: float = 1.0,
        lease_ttl_ms: int = 5000,
        listen: Callable[[asyncio.Event], Any] | None = None,
        topics: Sequence[str] = (),
        retention: str = "all",
        trim_grace: float = 15.0,
    ) -> None:
        self.app = app
        self.client = client
        self.stream = stream
        if translate_page is None:
            if translate is None:
                raise TypeError("a relay needs translate or translate_page")
            translate_page = each_event(translate)
        self.translate_page = translate_page
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.check_interval = check_interval
        self._last_trim = 0.0  # when `_trim_when_due` last trimmed (time.monotonic)
        self.lease = Lease(client, f"{stream}.relay-lease", instance_name("relay"), lease_ttl_ms)
        self.listen = listen
        self.topics = tuple(topics)  # only these stored events are published (all if empty)
        # "acknowledged": entries every consumer group has acknowledged are trimmed away
        # (see `trim_acknowledged`); "all": the stream keeps its whole history.
        self.retention = retention
        # Nothing is trimmed for `trim_grace` seconds after the relay (re)starts publishing
        # from the stream's top, or from a lower point after Redis lost the stream: consumer
        # groups that Redis lost with it are created again meanwhile, and no entry they need
        # is trimmed before they exist.
        self.trim_grace = trim_grace
        self._no_trim_until = 0.0
        self._publish = client.register_script(_PUBLISH)
        self._last_id = client.register_script(_LAST_ID)
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self.published: int | None = None  # the stream's last position, as last seen
        self.cursor: int | None = None  # the last log position read
        self.rewinds = 0  # times the stream was found shorter than published (Redis lost it)
        # Events read but not yet published: the start of a group whose last event is not
        # read yet. Their positions are after `published` and up to `cursor`.
        self._carried: list[tuple[int, Any]] = []

    def wake(self) -> None:
        """Thread-safe: new events were stored; publish them now instead of at the next poll."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    async def stream_top(self) -> int:
        return _position(await self._last_id(keys=[self.stream]))

    async def publish_pending(self) -> int:
        """Publish everything stored after the stream's top; returns how many entries."""
        if self.published is None or self.cursor is None:
            self._restart_at(await self.stream_top())
        published = 0
        while True:
            assert self.cursor is not None and self.published is not None
            notifications = await asyncio.to_thread(
                self.app.recorder.select_notifications,
                self.cursor + 1,
                self.batch_size,
                None,
                self.topics,
            )
            if not notifications and not self._carried:
                return published
            at_end = len(notifications) < self.batch_size
            events = self._carried + [
                (n.id, self.app.mapper.to_domain_event(n)) for n in notifications
            ]
            entries, used = self.translate_page(events, at_end)
            last_read = notifications[-1].id if notifications else self.cursor
            args: list[Any] = [_entry_id(self.published)]
            for position, envelope in entries:
                fields = encode_entry(envelope)
                args += [_entry_id(position), len(fields)]
                for key, value in fields.items():
                    args += [key, value]
            if not entries:
                self.cursor = last_read
                self._carried = events[used:]
                if at_end and not notifications:
                    return published
                continue
            ok, last = await self._publish(keys=[self.stream], args=args)
            if ok:
                self.published = _position(last)
                self.cursor = last_read
                self._carried = events[used:]
                published += len(entries)
                # A backlog (an import's thousands of batches) is published page after page
                # without a pause: what the groups acknowledged meanwhile is trimmed as it
                # goes, or Redis would hold the whole backlog.
                await self._trim_when_due()
            else:
                # The stream does not end where we left it: Redis lost entries (or another
                # relay published them). Continue from where the stream really ends.
                top = _position(last)
                if top < self.published:
                    self.rewinds += 1
                    log.warning(
                        "stream %s ends at %s, not %s: publishing again from the event store",
                        self.stream,
                        top,
                        self.published,
                    )
                self._restart_at(top)

    async def check_stream(self) -> None:
        """Notice a stream that lost entries even when nothing new is being published."""
        if self.published is None:
            return
        top = await self.stream_top()
        if top < self.published:
            self.rewinds += 1
            log.warning("stream %s was lost down to %s: publishing again", self.stream, top)
            self._restart_at(top)

    async def trim_acknowledged(self) -> int:
        """Trim the entries that every consumer group of the stream has been delivered and
        has acknowledged, keeping the last entry (the stream's top is where the relay goes
        on from). Nothing is trimmed from a stream without groups. Returns the position
        below which entries are gone (0: none trimmed)."""
        if not self.published or time.monotonic() < self._no_trim_until:
            return 0
        try:
            groups = await self.client.xinfo_groups(self.stream)
        except ResponseError:  # no stream (Redis lost it): `check_stream` sees to that
            return 0
        if not groups:
            return 0
        floor = self.published  # the last entry stays
        for group in groups:
            # Entries after the group's last delivered one are not read yet.
            done = _position(group["last-delivered-id"]) + 1
            if group["pending"]:
                summary = await self.client.xpending(self.stream, group["name"])
                if summary.get("min"):
                    done = min(done, _position(summary["min"]))
            floor = min(floor, done)
        if floor <= 1:
            return 0
        await self.client.xtrim(self.stream, minid=f"{floor}-0", approximate=False)
        return floor

    async def _trim_when_due(self) -> None:
        """With `acknowledged` retention, trim at most once per `check_interval`."""
        if self.retention != "acknowledged":
            return
        now = time.monotonic()
        if now - self._last_trim >= self.check_interval:
            self._last_trim = now
            await self.trim_acknowledged()

    def _restart_at(self, top: int) -> None:
        """Publish again from what follows the stream's last entry."""
        self._no_trim_until = time.monotonic() + self.trim_grace
        self.published = self.cursor = top
        self._carried = []

    async def run(self) -> None:
        """Publish until stopped; wait for new events, a notification or the next poll."""
        self._loop = asyncio.get_running_loop()
        listener = asyncio.create_task(self.listen(self._wake)) if self.listen else None
        last_check = 0.0
        try:
            while not self._stopping:
                self._wake.clear()  # before reading: a wake-up from now on is not lost
                try:
                    if not await self.lease.hold():
                        self.published = self.cursor = None  # re-read the top on takeover
                        await self._sleep(self.lease.ttl_ms / 3000)
                        continue
                    await self.publish_pending()
                    now = self._loop.time()
                    if now - last_check >= self.check_interval:
                        await self.check_stream()
                        await self._trim_when_due()
                        last_check = now
                except (RedisError, OSError) as error:
                    # Redis is down: commands still succeed; publish when it is back.
                    log.warning("relay of %s waits for Redis: %s", self.stream, error)
                    self.published = self.cursor = None
                    await self._sleep(self.poll_interval)
                    continue
                await self._sleep(self.poll_interval)
        finally:
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await listener
            with contextlib.suppress(RedisError, OSError):
                await self.lease.release()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    def stop(self) -> None:
        self._stopping = True
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)


def entries_positions(entries: Sequence[tuple[bytes, Any]]) -> list[int]:
    """Positions of entries as redis-py returns them (for tests and tools)."""
    return [_position(entry_id) for entry_id, _ in entries]
