"""`psa import --wait`'s summary of a job: its counts, the rows that changed nothing too."""

from __future__ import annotations

from typing import Any

import pytest
from rich.console import Console

from psa import cli


def _job(**changes: Any) -> dict[str, Any]:
    job = {
        "id": "0b7a0c5e-4c1b-4a34-9c3f-2f7d7f1e8a11",
        "status": "completed",
        "options": {"dry_run": False, "update_existing": True},
        "total_rows": 10,
        "processed": 10,
        "created": 1,
        "updated": 2,
        "unchanged": 7,
        "skipped": 0,
        "failed": 0,
    }
    job.update(changes)
    return job


def _lines(monkeypatch: pytest.MonkeyPatch, job: dict[str, Any]) -> dict[str, str]:
    recorded = Console(record=True, width=120)
    monkeypatch.setattr(cli, "console", recorded)
    cli._summary(job)
    rows = {}
    for line in recorded.export_text().splitlines():
        cells = [cell.strip() for cell in line.strip("│ ").split("│")]
        if len(cells) == 2:
            rows[cells[0]] = cells[1]
    return rows


def test_the_summary_counts_the_rows_that_changed_nothing(monkeypatch: pytest.MonkeyPatch):
    rows = _lines(monkeypatch, _job())
    assert (rows["updated"], rows["unchanged"], rows["processed"]) == ("2", "7", "10")


def test_a_dry_run_does_not_tell_unchanged_rows_from_updated(monkeypatch: pytest.MonkeyPatch):
    rows = _lines(
        monkeypatch, _job(options={"dry_run": True}, updated=9, unchanged=0, status="completed")
    )
    assert rows["would be updated"] == "9"
    assert "unchanged" not in rows


def test_a_job_of_a_server_without_unchanged_shows_none(monkeypatch: pytest.MonkeyPatch):
    job = _job()
    del job["unchanged"]
    assert _lines(monkeypatch, job)["unchanged"] == "0"
