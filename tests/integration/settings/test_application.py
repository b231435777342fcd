"""The settings application on real stores: no accepted write is lost, a failed one leaves
nothing behind, and log positions are returned for read-your-writes."""

from __future__ import annotations

from uuid import UUID

import pytest

from psa.config import Config
from psa.errors import VersionMismatchError
from psa.persistence import event_store_env
from services.settings.application import OPERATOR, SettingsApplication
from services.settings.bootstrap import build_application
from services.settings.domainmodel import Actor

ADMIN = Actor("admin", "Admin", (), ("admin",))


def new_tenant(app: SettingsApplication) -> UUID:
    return UUID(app.create_tenant(OPERATOR, "Oy", ["A"]).result["id"])


def test_a_write_that_lost_a_race_with_another_process_is_retried_and_both_are_kept(
    store: Config,
):
    first = build_application(store)
    # A second process whose cache does not look for newer events before a command.
    second = SettingsApplication(
        env={**event_store_env(store, "settings"), "AGGREGATE_CACHE_FASTFORWARD": "n"}
    )
    try:
        tenant_id = new_tenant(first)
        second.get_settings(tenant_id)  # cached at version 1
        first.change_settings(ADMIN, tenant_id, lambda s: s.add_customer_group(ADMIN, "Eka"))
        change = second.change_settings(
            ADMIN, tenant_id, lambda s: s.add_customer_group(ADMIN, "Toka")
        )
        assert change.version == 3
        names = [g["name"] for g in first.get_settings(tenant_id).customer_groups.values()]
        assert names == ["Eka", "Toka"]
        with pytest.raises(VersionMismatchError):
            second.change_settings(
                ADMIN, tenant_id, lambda s: s.add_customer_group(ADMIN, "Kolmas"), 2
            )
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize(
    "fails",
    [
        # The save fails before the events are collected: they are still pending.
        "save",
        # The store fails after they were collected: none is pending, yet the cached
        # aggregate is a version ahead of the store unless it is evicted.
        "insert_events",
    ],
)
def test_a_save_that_fails_leaves_no_trace_in_the_cached_settings(
    store: Config, monkeypatch: pytest.MonkeyPatch, fails: str
):
    from eventsourcing.persistence import OperationalError

    app = build_application(store)
    try:
        tenant_id = new_tenant(app)

        def failing(*_: object, **__: object) -> None:
            raise OperationalError("Timed out waiting for return of writer")

        with monkeypatch.context() as patched:
            patched.setattr(app if fails == "save" else app.recorder, fails, failing)
            with pytest.raises(OperationalError):
                app.change_settings(ADMIN, tenant_id, lambda s: s.add_company_group(ADMIN, "X"))
        settings = app.get_settings(tenant_id)
        assert settings.company_groups == {} and settings.version == 1
        change = app.change_settings(ADMIN, tenant_id, lambda s: s.add_company_group(ADMIN, "Y"))
        assert change.version == 2
        assert [e.originator_version for e in app.events.get(settings.id)] == [1, 2]
    finally:
        app.close()


def test_a_change_returns_its_log_position_and_version(store: Config):
    app = build_application(store)
    try:
        tenant_id = new_tenant(app)
        change = app.change_settings(
            ADMIN, tenant_id, lambda s: s.change_numbering(ADMIN, "automatic", 100)
        )
        assert change.version == 2
        assert change.position == app.recorder.max_notification_id()
        history = app.settings_history(tenant_id, newest_first=True)
        assert history.items[0].position == change.position
        nothing = app.change_settings(
            ADMIN, tenant_id, lambda s: s.change_numbering(ADMIN, "automatic", 100)
        )
        # A change that changes nothing still names the position of the version it saw.
        assert nothing.position == change.position and nothing.version == 2
    finally:
        app.close()


def test_long_histories_are_read_back_through_snapshots(store: Config):
    app = build_application(store)
    try:
        tenant_id = new_tenant(app)
        group = app.change_settings(ADMIN, tenant_id, lambda s: s.add_customer_group(ADMIN, "G"))
        for index in range(510):
            app.change_settings(
                ADMIN,
                tenant_id,
                lambda s, i=index: s.update_customer_group(ADMIN, group.result, name=f"G{i}"),
            )
        assert app.snapshots is not None
        assert list(app.snapshots.get(app.get_settings(tenant_id).id))
        fresh = build_application(store)
        try:
            settings = fresh.get_settings(tenant_id)
            assert settings.version == 512
            assert settings.customer_groups[group.result]["name"] == "G509"
        finally:
            fresh.close()
    finally:
        app.close()
