"""The settings projection rebuilt from position 0 equals the live one."""

from __future__ import annotations

import asyncio
import contextlib

import redis.asyncio as aioredis

from contracts import SETTINGS_STREAM
from psa.customer_rules.projection import SettingsProjection
from psa.streams.consumer import StreamConsumer
from psa.tables import Tables

from .conftest import System, Tenant, wait_until


def test_the_settings_projection_rebuilt_from_position_zero_equals_the_live_one(
    system: System, tenant: Tenant, system_config
):
    # Plenty of settings changes, applied live by the customers service.
    field = system.settings_change(
        tenant, "POST", "/fields", {"name": "Koko", "type": "dropdown", "options": ["S", "M", "L"]}
    )
    system.settings_change(
        tenant,
        "PUT",
        f"/fields/{field['id']}/options",
        {"options": [{"id": field["options"][2]["id"], "name": "Iso"}, {"name": "XL"}]},
    )
    group = system.settings_change(tenant, "POST", "/groups", {"name": "Ryhmä"})
    system.settings_change(tenant, "PATCH", f"/groups/{group['id']}", {"archived": True})
    system.settings_change(tenant, "PUT", "/multi-company", {"share_company_structure": True})
    system.settings_change(tenant, "PUT", "/numbering", {"mode": "manual"})
    other = system.create_tenant("Toinen Oy", name="Toinen")
    system.http.post(
        "/api/v1/settings/customers/types", json={"name": "Kumppani"}, headers=system.headers(other)
    )
    live: SettingsProjection = system.http.app.state.settings_projection  # type: ignore[attr-defined]
    last = int(
        system.http.get("/api/v1/settings/customers/history", headers=system.headers(other)).json()[
            "items"
        ][0]["position"]
    )
    wait_until(lambda: live.position >= last)

    # A new projection, fed from the start of the stream by a consumer group of its own.
    customers = system.http.app.state.customers_app  # type: ignore[attr-defined]
    rebuilt = SettingsProjection(Tables(customers.recorder), name="settings_view_rebuilt")

    async def rebuild() -> None:
        client = aioredis.Redis.from_url(str(system_config.redis_url))
        consumer = StreamConsumer(
            client,
            system_config.stream(SETTINGS_STREAM),
            "customers-rebuild",
            rebuilt.handle,
            block_ms=50,
        )
        task = asyncio.create_task(consumer.run())
        try:
            while rebuilt.position < live.position:
                await asyncio.sleep(0.02)
        finally:
            consumer.stop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await client.aclose()

    asyncio.run(asyncio.wait_for(rebuild(), 20))
    assert rebuilt.documents() == live.documents()
    assert len(live.documents()) == 2
