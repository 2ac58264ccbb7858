"""A real ``redis-server`` for the tests of many crawlers and one writer (issue 11).

``redis_url`` (a fixture) starts Debian's ``redis-server`` on a free port of 127.0.0.1 with
its files in the test's temporary folder, no persistence, and stops it after the test.  The
program is ``HRARCHIVE_REDIS_SERVER`` when set, else ``redis-server`` on ``PATH``; when it is
missing the test is skipped (a failure under ``HRARCHIVE_REQUIRE_TOOLS=1``, see tools.py).
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.tools import require_tool


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """One ``redis-server`` process on 127.0.0.1 (``url``, ``client()``, ``stop()``)."""

    def __init__(self, program: str, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [program, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(folder), "--logfile", str(folder / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                if self.client().ping():
                    return
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = (folder / "redis.log")
                    text = log.read_text() if log.exists() else ""
                    self.stop()
                    raise RuntimeError(
                        f"redis-server did not start on {self.port}: {text}") from None
                time.sleep(0.05)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh redis-server for this test, stopped after it."""
    program = require_tool("redis-server", "HRARCHIVE_REDIS_SERVER", "redis-server")
    server = RedisServer(program, tmp_path / "redis")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of a fresh redis-server for this test (``redis://127.0.0.1:PORT/0``)."""
    return redis_server.url
