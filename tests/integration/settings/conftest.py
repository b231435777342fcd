"""A settings API client on a real store, with tenants and tokens at hand."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from psa.app import create_app
from psa.auth import load_secret, mint_token
from psa.config import Config


@dataclass
class Tenant:
    id: str
    companies: list[str]
    admin: dict[str, str]
    data: dict[str, Any]
    position: str = ""


class SettingsClient:
    """TestClient plus the tokens a test needs."""

    def __init__(self, client: TestClient, config: Config) -> None:
        self.http = client
        self.secret = load_secret(config)

    def headers(
        self,
        tenant: Tenant | None,
        user: str = "admin",
        *,
        roles: tuple[str, ...] = ("admin",),
        companies: list[str] | None = None,
        name: str | None = None,
    ) -> dict[str, str]:
        if tenant is None:
            value = mint_token(
                self.secret, sub="operator", name="Operator", tenant=None, roles=["operator"]
            )
        else:
            access = tenant.companies if companies is None else companies
            value = mint_token(
                self.secret,
                sub=user,
                name=name or user.capitalize(),
                tenant=tenant.id,
                company=access[0] if access else None,
                companies=access,
                roles=list(roles),
            )
        return {"Authorization": f"Bearer {value}"}

    def create_tenant(self, *companies: str, name: str = "Konserni Oy") -> Tenant:
        response = self.http.post(
            "/api/v1/tenants",
            json={
                "name": name,
                "companies": list(companies) or ["Yhtiö A"],
                "admin": {"id": "admin", "name": "Aino Admin"},
            },
            headers=self.headers(None),
        )
        assert response.status_code == 201, response.text
        data = response.json()
        return Tenant(
            id=data["id"],
            companies=[c["id"] for c in data["companies"]],
            admin=data["users"][0],
            data=data,
            position=response.headers.get("Settings-Position", ""),
        )


@pytest.fixture
def api(store: Config) -> Iterator[SettingsClient]:
    with TestClient(create_app(store)) as client:
        yield SettingsClient(client, store)
