"""An import across separate processes on a real Redis: the importer and the customers
service are killed in the middle of a job and started again; the job resumes and ends with
exactly the file's customers, none twice, and their numbers without gaps."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from .test_services_over_streams import Deployment, deployment, new_tenant

__all__ = ["deployment"]
ROWS = 6000
RUN_ROWS = 3000  # of the replicas' test


def register(rows: int) -> bytes:
    lines = ["Nimi;Postitoimipaikka"]
    lines += [f"Asiakas {index:05d} Oy;Jyväskylä" for index in range(1, rows + 1)]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def status(deployment: Deployment, admin: dict[str, str], job_id: str) -> dict[str, Any]:
    url = deployment.urls["importer"] + f"/api/v1/imports/{job_id}"
    for _ in range(50):  # the process may be restarting
        try:
            response = httpx.get(url, headers=admin, timeout=5)
            if response.status_code == 200:
                result: dict[str, Any] = response.json()
                return result
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("the importer does not answer")


def wait(deployment, admin, job_id, until, timeout=120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = status(deployment, admin, job_id)
        if until(job):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def numbers_of_customers(deployment: Deployment, admin: dict[str, str]) -> list[int]:
    url = deployment.urls["customers"] + "/api/v1/customers"
    numbers: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 500, "sort": "number"}
        if cursor:
            params["cursor"] = cursor
        page = httpx.get(url, headers=admin, params=params, timeout=30).json()
        numbers += [int(item["number"]) for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return numbers


def background_process(deployment: Deployment) -> int:
    """The customers service's second process (the customer list and the relay)."""
    parent = deployment.processes["customers"].pid
    for _ in range(100):
        for task in Path(f"/proc/{parent}/task").iterdir():
            for child in (task / "children").read_text().split():
                if b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes():
                    return int(child)
        time.sleep(0.05)
    raise AssertionError("the customers service has no second process")


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("killed", ["importer", "customers", "customers-background"])
def test_a_job_resumes_after_a_crash_and_ends_with_exactly_the_files_customers(
    deployment: Deployment, killed: str
):
    deployment.start("settings", "settings")
    deployment.start("customers", "customers")
    deployment.start("importer", "importer")
    admin, position = new_tenant(deployment)
    response = httpx.post(
        deployment.urls["importer"] + "/api/v1/imports",
        headers={**admin, "Settings-Position": position},
        files={"file": ("rekisteri.csv", register(ROWS))},
        data={"dry_run": "false"},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]

    # Kill the process in the middle of the job: while the customers service has executed
    # some batches but not all.
    def under_way(job: dict[str, Any]) -> bool:
        executed = (job.get("batches") or {}).get("executed", 0)
        return job["status"] == "running" and executed > 0

    if killed == "customers":
        worker = background_process(deployment)
    wait(deployment, admin, job_id, under_way)
    if killed == "customers-background":
        # The service starts its second process again by itself.
        worker = background_process(deployment)
        os.kill(worker, signal.SIGKILL)
    else:
        deployment.kill(killed)
        if killed == "customers":
            # Its second process ends with it: no orphan keeps the relay's lease.
            deadline = time.monotonic() + 10
            while alive(worker):
                assert time.monotonic() < deadline, "the second process outlived its service"
                time.sleep(0.05)
        deployment.start(killed, killed)

    job = wait(
        deployment, admin, job_id, lambda j: j["status"] not in ("queued", "validating", "running")
    )
    assert job["status"] == "completed", job
    assert (job["total_rows"], job["created"], job["failed"]) == (ROWS, ROWS, 0)
    # Listed by the customers service: every row once, numbered 1..ROWS without a gap.
    deadline = time.monotonic() + 30
    while (numbers := numbers_of_customers(deployment, admin)) != list(range(1, ROWS + 1)):
        assert time.monotonic() < deadline, (len(numbers), numbers[:5], numbers[-5:])
        time.sleep(0.5)


def test_two_importer_replicas_run_each_job_once(deployment: Deployment):
    """Replicas sharing the data dir and store work as one: a job uploaded to one ends with
    its errors reported once and its rows imported once, and the other answers for it. (That
    a job runs in the replica that holds its lease is tested in one process, where the
    timing can be held: tests/integration/importer.)"""
    deployment.start("settings", "settings")
    deployment.start("customers", "customers")
    deployment.start("importer", "importer")
    deployment.start("importer-2", "importer")
    admin, position = new_tenant(deployment)
    lines = ["Nimi;Y-tunnus"]
    lines += [f"Asiakas {index:05d} Oy;" for index in range(1, RUN_ROWS + 1)]
    lines += [f"Virheellinen {index} Oy;1234567-8" for index in range(1, 4)]  # bad checksum
    response = httpx.post(
        deployment.urls["importer"] + "/api/v1/imports",
        headers={**admin, "Settings-Position": position},
        files={"file": ("rekisteri.csv", ("\r\n".join(lines) + "\r\n").encode("cp1252"))},
        data={"dry_run": "false", "skip_errors": "true"},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    other = Deployment(
        deployment.env, deployment.tmp, urls={"importer": deployment.urls["importer-2"]}
    )
    job = wait(
        other, admin, job_id, lambda j: j["status"] not in ("queued", "validating", "running")
    )
    assert (job["status"], job["created"], job["failed"]) == ("completed_with_errors", RUN_ROWS, 3)
    errors = httpx.get(
        deployment.urls["importer-2"] + f"/api/v1/imports/{job_id}/errors",
        headers=admin,
        timeout=30,
    ).json()
    assert [(e["row"], e["column"]) for e in errors["items"]] == [
        (row, "Y-tunnus") for row in (RUN_ROWS + 2, RUN_ROWS + 3, RUN_ROWS + 4)
    ]
    deadline = time.monotonic() + 30
    while (numbers := numbers_of_customers(deployment, admin)) != list(range(1, RUN_ROWS + 1)):
        assert time.monotonic() < deadline, (len(numbers), numbers[:5], numbers[-5:])
        time.sleep(0.5)
