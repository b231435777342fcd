"""The outbox relay and the stream consumer against a real Redis."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any
from uuid import UUID

import pytest
import redis.asyncio as aioredis
from faststream import Context
from faststream.redis import RedisBroker, StreamSub

from contracts import SETTINGS_STREAM, SettingsEnvelope, dead_letter_stream
from psa.config import Config
from psa.streams.consumer import StreamConsumer
from psa.streams.relay import OutboxRelay, entries_positions
from psa.streams.wire import entry_body
from services.settings.application import OPERATOR, SettingsApplication
from services.settings.bootstrap import build_application
from services.settings.domainmodel import Actor
from services.settings.publishing import to_envelope

ADMIN = Actor("admin", "Admin", (), ("admin",))


@pytest.fixture
def settings_app(sqlite_store: Config) -> Any:
    app = build_application(sqlite_store)
    yield app
    app.close()


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    connection = aioredis.Redis.from_url(redis_url, socket_timeout=15)
    yield connection
    await connection.aclose()


def some_changes(app: SettingsApplication, groups: int = 3) -> UUID:
    tenant_id = UUID(app.create_tenant(OPERATOR, "Oy", ["A"]).result["id"])
    for index in range(groups):
        app.change_settings(
            ADMIN, tenant_id, lambda s, i=index: s.add_customer_group(ADMIN, f"Ryhmä {i}")
        )
    return tenant_id


def new_relay(app: SettingsApplication, client: aioredis.Redis, stream: str, **kw: Any) -> Any:
    return OutboxRelay(app, client, stream, to_envelope, **kw)


async def stream_positions(client: aioredis.Redis, stream: str) -> list[int]:
    return entries_positions(await client.xrange(stream))


async def test_the_relay_publishes_every_event_in_order_with_its_position_as_entry_id(
    settings_app, client, stream_prefix
):
    stream = stream_prefix + SETTINGS_STREAM
    some_changes(settings_app)
    relay = new_relay(settings_app, client, stream)
    assert await relay.publish_pending() == 5  # tenant, settings, three groups
    entries = await client.xrange(stream)
    positions = entries_positions(entries)
    assert positions == list(range(1, 6))
    envelopes = [SettingsEnvelope.model_validate_json(entry_body(f)) for _, f in entries]
    assert [e.position for e in envelopes] == positions
    assert [e.type for e in envelopes][:2] == ["TenantCreated", "CustomerSettingsCreated"]
    assert entries[0][0] == b"1-0"


async def test_a_relay_that_starts_again_publishes_no_second_copy(
    settings_app, client, stream_prefix
):
    stream = stream_prefix + SETTINGS_STREAM
    tenant_id = some_changes(settings_app)
    await new_relay(settings_app, client, stream).publish_pending()
    # A relay that crashed after publishing, before it could remember doing so, starts over:
    again = new_relay(settings_app, client, stream)
    assert await again.publish_pending() == 0
    # and one whose memory is stale is refused by the stream, then catches up.
    stale = new_relay(settings_app, client, stream)
    stale.published = stale.cursor = 2
    settings_app.change_settings(ADMIN, tenant_id, lambda s: s.add_company_group(ADMIN, "X"))
    assert await stale.publish_pending() == 1
    assert await stream_positions(client, stream) == list(range(1, 7))


async def test_when_redis_loses_the_stream_the_relay_publishes_it_again_from_the_store(
    settings_app, client, stream_prefix
):
    stream = stream_prefix + SETTINGS_STREAM
    tenant_id = some_changes(settings_app)
    relay = new_relay(settings_app, client, stream)
    await relay.publish_pending()
    await client.delete(stream)  # what a restart without persistence does
    await relay.check_stream()
    assert relay.rewinds == 1
    assert await relay.publish_pending() == 5
    await client.delete(stream)
    # Noticed on the next publish too, without a check in between.
    settings_app.change_settings(ADMIN, tenant_id, lambda s: s.add_company_group(ADMIN, "Y"))
    await relay.publish_pending()
    assert await stream_positions(client, stream) == list(range(1, 7))


def in_pairs(events: Any, at_end: bool) -> tuple[list[tuple[int, Any]], int]:
    """A page translator that publishes two stored events as one entry (the second's), as the
    customers service publishes a batch's customers with its outcome; an odd one waits for
    its pair unless it is the last event of the log."""
    entries = []
    used = 0
    while used + 2 <= len(events):
        position, event = events[used + 1]
        entries.append((position, to_envelope(event, position)))
        used += 2
    if at_end and used < len(events):
        position, event = events[used]
        entries.append((position, to_envelope(event, position)))
        used += 1
    return entries, used


async def test_events_published_together_are_carried_over_pages_and_never_split_or_repeated(
    settings_app, client, stream_prefix
):
    stream = stream_prefix + SETTINGS_STREAM
    tenant_id = some_changes(settings_app, groups=5)  # positions 1..7
    relay = OutboxRelay(settings_app, client, stream, translate_page=in_pairs, batch_size=3)
    assert await relay.publish_pending() == 4  # (1, 2), (3, 4), (5, 6), then 7 on its own
    assert await stream_positions(client, stream) == [2, 4, 6, 7]

    # A relay that starts over reads from the stream's top and publishes nothing twice.
    settings_app.change_settings(ADMIN, tenant_id, lambda s: s.add_company_group(ADMIN, "X"))
    again = OutboxRelay(settings_app, client, stream, translate_page=in_pairs, batch_size=3)
    assert await again.publish_pending() == 1  # 8, the end of the log
    assert await stream_positions(client, stream) == [2, 4, 6, 7, 8]

    # Redis lost the stream: it is published again from the store (7 has its pair now).
    await client.delete(stream)
    await again.check_stream()
    assert await again.publish_pending() == 4
    assert await stream_positions(client, stream) == [2, 4, 6, 8]


async def test_commands_succeed_while_redis_is_down_and_the_relay_catches_up_later(
    settings_app, client, stream_prefix
):
    stream = stream_prefix + SETTINGS_STREAM
    down = aioredis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    relay = new_relay(settings_app, down, stream, poll_interval=0.05)
    task = asyncio.create_task(relay.run())
    some_changes(settings_app, groups=2)  # no command waits for Redis
    await asyncio.sleep(0.2)
    relay.stop()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await down.aclose()
    assert await new_relay(settings_app, client, stream).publish_pending() == 4


async def test_only_one_of_two_relays_publishes_and_the_stream_has_each_event_once(
    settings_app, client, stream_prefix
):
    stream = stream_prefix + SETTINGS_STREAM
    first = new_relay(settings_app, client, stream, poll_interval=0.02, lease_ttl_ms=2000)
    second = new_relay(settings_app, client, stream, poll_interval=0.02, lease_ttl_ms=2000)
    settings_app.save_listeners += [first.wake, second.wake]
    tasks = [asyncio.create_task(first.run()), asyncio.create_task(second.run())]
    try:
        some_changes(settings_app, groups=20)
        await wait_for(lambda: stream_positions(client, stream), lambda p: len(p) == 22)
        assert await stream_positions(client, stream) == list(range(1, 23))
        holders = [r for r in (first, second) if r.published is not None]
        assert len(holders) == 1
    finally:
        for relay in (first, second):
            relay.stop()
        await asyncio.gather(*tasks)


async def wait_for(
    read: Callable[[], Any], ok: Callable[[Any], bool], timeout: float = 10.0
) -> Any:
    """Poll `read` until `ok(value)`; fail with the last value after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await read()
        if ok(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met; last value: {value!r}")
        await asyncio.sleep(0.02)


class TrackingProjection:
    """A projection that remembers what it applied, and skips what it already has."""

    def __init__(self, poison: set[int] | None = None) -> None:
        self.applied: list[int] = []
        self.tracked = 0
        self.poison = poison or set()

    async def __call__(self, position: int, body: bytes) -> None:
        SettingsEnvelope.model_validate_json(body)
        if position in self.poison:
            raise ValueError(f"cannot apply {position}")
        if position <= self.tracked:
            return
        self.applied.append(position)
        self.tracked = position


async def run_consumer(consumer: StreamConsumer) -> asyncio.Task[None]:
    return asyncio.create_task(consumer.run())


async def stop_consumer(consumer: StreamConsumer, task: asyncio.Task[None]) -> None:
    consumer.stop()
    task.cancel()
    await asyncio.wait({task}, timeout=10)


async def test_a_poison_entry_goes_to_the_dead_letter_stream_and_later_entries_are_applied(
    settings_app, client, stream_prefix
):
    stream = stream_prefix + SETTINGS_STREAM
    some_changes(settings_app)
    await new_relay(settings_app, client, stream).publish_pending()
    projection = TrackingProjection(poison={3})
    consumer = StreamConsumer(
        client, stream, "customers", projection, max_attempts=3, retry_delay=0.001, block_ms=50
    )
    task = await run_consumer(consumer)
    try:
        await wait_for(lambda: asyncio.sleep(0, projection.applied), lambda a: a == [1, 2, 4, 5])
        dead = await wait_for(lambda: client.xrange(dead_letter_stream(stream)), bool)
        ((_, fields),) = dead
        assert fields[b"source_id"] == b"3-0"
        assert b"cannot apply 3" in fields[b"error"]
        assert fields[b"deliveries"] == b"1"
        assert SettingsEnvelope.model_validate_json(entry_body(fields)).position == 3
        summary = await client.xpending(stream, "customers")
        assert summary["pending"] == 0
    finally:
        await stop_consumer(consumer, task)


async def test_a_crashed_consumers_pending_entries_are_processed_by_another_after_idle_time(
    settings_app, client, stream_prefix
):
    stream = stream_prefix + SETTINGS_STREAM
    tenant_id = some_changes(settings_app)
    await new_relay(settings_app, client, stream).publish_pending()
    # A consumer read entries 1-5, applied 1-2 and died holding 3-5 and its lease.
    projection = TrackingProjection()
    await client.xgroup_create(stream, "customers", id="0")
    read = await client.xreadgroup("customers", "crashed", {stream: ">"}, count=5)
    assert len(read[0][1]) == 5
    for position in (1, 2):
        await projection(position, entry_body(read[0][1][position - 1][1]))
        await client.xack(stream, "customers", f"{position}-0")
    await client.set(f"{stream}.customers.consumer-lease", "crashed", px=300)
    consumer = StreamConsumer(client, stream, "customers", projection, idle_ms=300, block_ms=50)
    task = await run_consumer(consumer)
    try:
        await wait_for(lambda: asyncio.sleep(0, projection.applied), lambda a: a == [1, 2, 3, 4, 5])
        assert consumer.stats.reclaimed == 3
        assert (await client.xpending(stream, "customers"))["pending"] == 0
        # New entries flow on after the reclaimed ones.
        settings_app.change_settings(ADMIN, tenant_id, lambda s: s.add_company_group(ADMIN, "Z"))
        await new_relay(settings_app, client, stream).publish_pending()
        await wait_for(lambda: asyncio.sleep(0, projection.applied), lambda a: a[-1] == 6)
    finally:
        await stop_consumer(consumer, task)


async def test_a_lost_consumer_group_is_created_again_and_the_replay_is_absorbed(
    settings_app, client, stream_prefix
):
    stream = stream_prefix + SETTINGS_STREAM
    some_changes(settings_app)
    relay = new_relay(settings_app, client, stream)
    await relay.publish_pending()
    projection = TrackingProjection()
    consumer = StreamConsumer(client, stream, "customers", projection, block_ms=50)
    task = await run_consumer(consumer)
    try:
        await wait_for(lambda: asyncio.sleep(0, projection.applied), lambda a: len(a) == 5)
        await client.delete(stream)  # Redis restarted without persistence: stream and group
        await relay.check_stream()
        await relay.publish_pending()
        await wait_for(lambda: asyncio.sleep(0, consumer.stats.groups_created), lambda n: n >= 2)
        await wait_for(lambda: client.xpending(stream, "customers"), lambda s: s["pending"] == 0)
        assert projection.applied == [1, 2, 3, 4, 5]
    finally:
        await stop_consumer(consumer, task)


async def test_a_faststream_subscriber_reads_the_published_envelopes(
    settings_app, client, stream_prefix, redis_url
):
    """What an integrator (a HubSpot sync, say) writes to follow the settings."""
    stream = stream_prefix + SETTINGS_STREAM
    some_changes(settings_app, groups=1)
    await new_relay(settings_app, client, stream).publish_pending()
    await client.xgroup_create(stream, "hubspot-sync", id="0")
    broker = RedisBroker(redis_url)
    received: list[tuple[str, str]] = []

    @broker.subscriber(stream=StreamSub(stream, group="hubspot-sync", consumer="sync-1"))
    async def on_settings_event(
        envelope: SettingsEnvelope, headers: Any = Context("message.headers")
    ) -> None:
        received.append((envelope.type, headers["type"]))

    async with broker:
        await broker.start()
        await wait_for(lambda: asyncio.sleep(0, received), lambda r: len(r) == 3)
    assert received == [
        ("TenantCreated", "TenantCreated"),
        ("CustomerSettingsCreated", "CustomerSettingsCreated"),
        ("CustomerGroupAdded", "CustomerGroupAdded"),
    ]


async def test_on_postgresql_the_relay_is_woken_by_notify_when_another_process_writes(
    postgres_store, client, stream_prefix
):
    from psa.persistence import postgres_conninfo
    from psa.streams.runtime import postgres_listener

    stream = stream_prefix + SETTINGS_STREAM
    publishing = build_application(postgres_store)
    elsewhere = build_application(postgres_store)  # another process of the service
    relay = new_relay(
        publishing,
        client,
        stream,
        poll_interval=30.0,  # so that only a notification can wake it in time
        check_interval=30.0,
        listen=postgres_listener(
            postgres_conninfo(postgres_store), publishing.recorder.channel_name, fallback=30.0
        ),
    )
    task = asyncio.create_task(relay.run())
    try:
        await wait_for(lambda: asyncio.sleep(0, relay.published), lambda p: p is not None)
        await asyncio.sleep(0.3)  # the listener is connected
        await asyncio.to_thread(some_changes, elsewhere, 1)
        positions = await wait_for(
            lambda: stream_positions(client, stream), lambda p: len(p) == 3, timeout=5
        )
        assert positions == sorted(positions)
    finally:
        relay.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        publishing.close()
        elsewhere.close()


async def test_a_failing_database_is_waited_for_and_never_sends_an_entry_to_the_dead_letters(
    settings_app, client, stream_prefix
):
    stream = stream_prefix + SETTINGS_STREAM
    some_changes(settings_app)
    await new_relay(settings_app, client, stream).publish_pending()
    projection = TrackingProjection()
    outage = {"left": 8}

    async def flaky(position: int, body: bytes) -> None:
        if position == 3 and outage["left"]:
            outage["left"] -= 1
            raise OSError("database is down")
        await projection(position, body)

    consumer = StreamConsumer(
        client, stream, "customers", flaky, max_attempts=2, retry_delay=0.001, block_ms=50
    )
    task = await run_consumer(consumer)
    try:
        await wait_for(lambda: asyncio.sleep(0, projection.applied), lambda a: a == [1, 2, 3, 4, 5])
        assert consumer.stats.dead_lettered == 0
        assert await client.xlen(dead_letter_stream(stream)) == 0
    finally:
        await stop_consumer(consumer, task)


async def test_a_slow_entry_does_not_let_a_standby_take_over_a_live_consumer(
    settings_app, client, stream_prefix
):
    stream = stream_prefix + SETTINGS_STREAM
    some_changes(settings_app)
    await new_relay(settings_app, client, stream).publish_pending()
    projection = TrackingProjection()
    calls: list[str] = []

    def slow(name: str) -> Any:
        async def handle(position: int, body: bytes) -> None:
            calls.append(name)
            await asyncio.sleep(0.25)  # longer than the idle time
            await projection(position, body)

        return handle

    first = StreamConsumer(client, stream, "customers", slow("first"), idle_ms=150, block_ms=50)
    first_task = await run_consumer(first)
    await wait_for(lambda: asyncio.sleep(0, calls), bool)
    second = StreamConsumer(client, stream, "customers", slow("second"), idle_ms=150, block_ms=50)
    second_task = await run_consumer(second)
    try:
        await wait_for(lambda: asyncio.sleep(0, projection.applied), lambda a: len(a) == 5)
        assert set(calls) == {"first"} and len(calls) == 5
    finally:
        await stop_consumer(first, first_task)
        await stop_consumer(second, second_task)


async def test_an_entry_deleted_while_pending_is_acknowledged_not_dead_lettered(
    settings_app, client, stream_prefix
):
    stream = stream_prefix + SETTINGS_STREAM
    some_changes(settings_app)
    await new_relay(settings_app, client, stream).publish_pending()
    await client.xgroup_create(stream, "customers", id="0")
    await client.xreadgroup("customers", "crashed", {stream: ">"}, count=5)
    await client.xdel(stream, "2-0")
    projection = TrackingProjection()
    consumer = StreamConsumer(client, stream, "customers", projection, idle_ms=100, block_ms=50)
    task = await run_consumer(consumer)
    try:
        await wait_for(lambda: asyncio.sleep(0, projection.applied), lambda a: a == [1, 3, 4, 5])
        await wait_for(lambda: client.xpending(stream, "customers"), lambda s: s["pending"] == 0)
        assert await client.xlen(dead_letter_stream(stream)) == 0
    finally:
        await stop_consumer(consumer, task)


async def test_with_acknowledged_retention_the_relay_trims_what_every_group_has_acknowledged(
    settings_app, client, stream_prefix
):
    stream = stream_prefix + SETTINGS_STREAM
    tenant_id = some_changes(settings_app, groups=8)  # positions 1..10
    relay = new_relay(settings_app, client, stream, retention="acknowledged", trim_grace=0)
    await relay.publish_pending()
    assert await relay.trim_acknowledged() == 0  # no group: nobody has said what it read
    await client.xgroup_create(stream, "fast", id="0")
    await client.xgroup_create(stream, "slow", id="0")
    read = await client.xreadgroup("fast", "c", {stream: ">"})
    await client.xack(stream, "fast", *[entry_id for entry_id, _ in read[0][1]])
    # "slow" has been delivered 1..6 and has acknowledged 1..3: 4 is its oldest pending.
    read = await client.xreadgroup("slow", "c", {stream: ">"}, count=6)
    await client.xack(stream, "slow", *[entry_id for entry_id, _ in read[0][1][:3]])
    assert await relay.trim_acknowledged() == 4
    assert await stream_positions(client, stream) == list(range(4, 11))
    # Acknowledged by both: only the last entry stays, where the relay goes on from.
    await client.xack(stream, "slow", *[entry_id for entry_id, _ in read[0][1][3:]])
    read = await client.xreadgroup("slow", "c", {stream: ">"})
    await client.xack(stream, "slow", *[entry_id for entry_id, _ in read[0][1]])
    assert await relay.trim_acknowledged() == 10
    assert await stream_positions(client, stream) == [10]
    settings_app.change_settings(ADMIN, tenant_id, lambda s: s.add_company_group(ADMIN, "X"))
    assert await relay.publish_pending() == 1
    assert await stream_positions(client, stream) == [10, 11]
    # A relay started afresh goes on from the top, trimmed or not.
    again = new_relay(settings_app, client, stream, retention="acknowledged", trim_grace=0)
    assert await again.publish_pending() == 0
    # Right after a relay starts (or finds the stream lost), groups Redis lost with it have
    # time to be created again: nothing is trimmed for a while.
    settings_app.change_settings(ADMIN, tenant_id, lambda s: s.add_company_group(ADMIN, "Y"))
    fresh = new_relay(settings_app, client, stream, retention="acknowledged")
    assert await fresh.publish_pending() == 1
    for group in ("fast", "slow"):
        read = await client.xreadgroup(group, "c", {stream: ">"})
        await client.xack(stream, group, *[entry_id for entry_id, _ in read[0][1]])
    assert await fresh.trim_acknowledged() == 0
    assert await stream_positions(client, stream) == [10, 11, 12]
    # With the default retention, the whole history stays.
    assert new_relay(settings_app, client, stream).retention == "all"


async def test_a_backlog_published_page_after_page_is_trimmed_as_it_goes(
    settings_app, client, stream_prefix
):
    """Publishing a long backlog, the relay trims what the groups acknowledged meanwhile:
    Redis does not hold a whole import's entries until the relay has caught up."""
    stream = stream_prefix + SETTINGS_STREAM
    tenant_id = some_changes(settings_app, groups=3)  # positions 1..5
    relay = new_relay(
        settings_app, client, stream, retention="acknowledged", trim_grace=0, check_interval=0
    )
    relay.batch_size = 2
    await client.xgroup_create(stream, "reader", id="0", mkstream=True)
    await relay.publish_pending()
    read = await client.xreadgroup("reader", "c", {stream: ">"})
    await client.xack(stream, "reader", *[entry_id for entry_id, _ in read[0][1]])
    for name in ("A", "B", "C", "D"):  # positions 6..9: two pages of the relay
        settings_app.change_settings(
            ADMIN, tenant_id, lambda s, n=name: s.add_company_group(ADMIN, n)
        )
    assert await relay.publish_pending() == 4
    # The acknowledged 1..5 went while the relay published; before, only once it was done.
    assert await stream_positions(client, stream) == [6, 7, 8, 9]


async def test_the_relay_keeps_trimming_while_it_runs(settings_app, client, stream_prefix):
    stream = stream_prefix + SETTINGS_STREAM
    some_changes(settings_app, groups=3)
    relay = new_relay(
        settings_app,
        client,
        stream,
        retention="acknowledged",
        trim_grace=0,
        check_interval=0.05,
        poll_interval=0.05,
    )
    await client.xgroup_create(stream, "reader", id="0", mkstream=True)
    task = asyncio.create_task(relay.run())
    try:
        for _ in range(100):
            read = await client.xreadgroup("reader", "c", {stream: ">"}, block=100)
            if read:
                await client.xack(stream, "reader", *[entry_id for entry_id, _ in read[0][1]])
            if await stream_positions(client, stream) == [5]:
                break
        assert await stream_positions(client, stream) == [5]
    finally:
        relay.stop()
        await task
