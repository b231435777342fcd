"""The settings service as compose runs it: its own OS process on PostgreSQL, configured
only through environment variables, driven by the `psa` command over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import httpx

from psa.config import Config
from psa.embedded import free_port

from .processes import PSA, start_and_wait, stop


def _environment(config: Config, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PSA_", "REDIS_"))}
    env.update(
        PERSISTENCE_MODULE="eventsourcing.postgres",
        POSTGRES_HOST=config.postgres_host,
        POSTGRES_PORT=str(config.postgres_port),
        POSTGRES_DBNAME=config.postgres_dbname,
        POSTGRES_USER=config.postgres_user,
        POSTGRES_PASSWORD=config.postgres_password.get_secret_value(),
        PSA_SCHEMA_PREFIX=config.schema_prefix,
        PSA_JWT_SECRET="a-shared-secret-of-the-deployment-" + "x" * 16,
        PSA_PORT=str(port),
        PSA_URL=f"http://127.0.0.1:{port}",
        PSA_DATA_DIR=str(config.data_dir),
    )
    return env


def _start(env: dict[str, str]) -> subprocess.Popen[str]:
    return start_and_wait([sys.executable, "-m", "services.settings"], env, env["PSA_URL"])


def test_the_settings_service_keeps_its_settings_in_postgresql_across_a_restart(
    postgres_store: Config,
):
    env = _environment(postgres_store, free_port())
    process = _start(env)
    try:
        created = subprocess.run(
            [PSA, "tenant", "create", "Konserni Oy", "--company", "A", "--company", "B", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        data = json.loads(created.stdout)
        headers = {"Authorization": f"Bearer {data['admin_token']}"}
        base = env["PSA_URL"] + "/api/v1/settings/customers"
        response = httpx.put(
            base + "/multi-company", headers=headers, json={"see_other_companies_customers": True}
        )
        assert response.status_code == 200
        etag = response.headers["ETag"]
    finally:
        stop(process, signal.SIGTERM)

    # A new process reads the same settings back from PostgreSQL.
    process = _start(env)
    try:
        again = httpx.get(base, headers=headers)
        assert again.status_code == 200 and again.headers["ETag"] == etag
        assert again.json()["multi_company"]["see_other_companies_customers"] is True
    finally:
        stop(process, signal.SIGTERM)
