"""The whole system in one process (settings, customers, their streams) on a real Redis."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from psa.app import create_app
from psa.config import Config
from tests.integration.settings.conftest import SettingsClient, Tenant

SETTINGS = "/api/v1/settings/customers"


class System(SettingsClient):
    """A client of the one-process system, with helpers for settings and customers."""

    def admin(self, tenant: Tenant) -> dict[str, str]:
        return self.headers(tenant, name="Aino Admin")

    def settings_change(self, tenant: Tenant, method: str, path: str, body: Any) -> dict[str, Any]:
        """Change a setting; returns the response JSON and remembers its position."""
        response = self.http.request(method, SETTINGS + path, json=body, headers=self.admin(tenant))
        assert response.status_code < 300, response.text
        self.position = response.headers["Settings-Position"]
        result: dict[str, Any] = response.json()
        return result

    def after_settings(self, headers: dict[str, str]) -> dict[str, str]:
        """Headers that make the customers service apply the last settings change first."""
        return {**headers, "Settings-Position": self.position}

    def create(self, headers: dict[str, str], body: dict[str, Any]) -> Any:
        return self.http.post("/api/v1/customers", json=body, headers=headers)


def wait_until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@pytest.fixture
def system_config(store: Config, redis_url: str, stream_prefix: str) -> Config:
    return store.model_copy(
        update={"redis_url": redis_url, "stream_prefix": stream_prefix, "stream_idle_ms": 1000}
    )


@pytest.fixture
def system(system_config: Config) -> Iterator[System]:
    with TestClient(create_app(system_config)) as client:
        yield System(client, system_config)


@pytest.fixture
def tenant(system: System) -> Tenant:
    tenant = system.create_tenant("Yhtiö A", "Yhtiö B")
    # Tenant creation is a settings write too: customers wait for it like for any other.
    system.position = tenant.position
    return tenant
