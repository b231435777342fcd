"""Helpers to run the product's processes as a user or compose would."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).parent
PSA = str(BIN / "psa")


def start_and_wait(
    args: list[str], env: dict[str, str], url: str, cwd: Path | None = None
) -> subprocess.Popen[str]:
    """Start a server process and wait until its /health answers.

    Its output goes to a file (a pipe nobody reads would block it once full)."""
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept open for the process's life
        "w+", prefix="psa-process-", suffix=".log", delete=False, dir=cwd
    )
    process = subprocess.Popen(
        args, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            log.seek(0)
            pytest.fail(f"{' '.join(args)} did not start:\n{log.read()}")
        time.sleep(0.1)


def stop(process: subprocess.Popen[str], sig: int = signal.SIGINT) -> None:
    """Stop a server as a user would (Ctrl-C) or compose does (SIGTERM)."""
    process.send_signal(sig)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
