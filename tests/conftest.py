"""Shared test helpers: fixture sites served on 127.0.0.1 and real crawls of them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlite_utils import Database

from tests.fixtureserver import FixtureSite
from tests.redisserver import redis_server, redis_url  # noqa: F401  (fixtures for every test)

if TYPE_CHECKING:
    from tests.cluster import Process

ROOT = Path(__file__).parent.parent
FAST = ("DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
        "RETRY_TIMES=0", "LOG_LEVEL=INFO")


@dataclass
class CrawlResult:
    """A finished ``hrarchive crawl`` subprocess and the archive it wrote."""

    returncode: int
    output: str
    db_path: Path

    @property
    def db(self) -> Database:
        return Database(self.db_path)


def run_hrarchive(*args: str, cwd: Path = ROOT, timeout: float = 180,
                  env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the ``hrarchive`` command line in a fresh Python process."""
    return subprocess.run([sys.executable, "-m", "hrarchive", *args], cwd=cwd, timeout=timeout,
                          capture_output=True, text=True, env={**os.environ, **(env or {})})


def crawl(site: str, server: FixtureSite, db_path: Path, *extra: str,
          settings: tuple[str, ...] = FAST) -> CrawlResult:
    """Crawl a fixture site through the real Scrapy engine into ``db_path``."""
    args = ["crawl", site, "--db", str(db_path), "--base-url", server.base_url]
    for setting in settings:
        args += ["-s", setting]
    done = run_hrarchive(*args, *extra)
    return CrawlResult(done.returncode, done.stdout + done.stderr, db_path)


@pytest.fixture
def serve() -> Iterator[Callable[..., FixtureSite]]:
    """Start fixture sites on free ports; all are stopped after the test.

    ``serve(site)`` serves the recorded robots.txt; ``serve(site, crawl_delay=False)`` serves it
    without its Crawl-delay lines, for crawls whose subject is not politeness.
    """
    started: list[FixtureSite] = []

    def start(site: str, *, crawl_delay: bool = True) -> FixtureSite:
        server = FixtureSite.from_fixtures(site, crawl_delay=crawl_delay).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    """``hrarchive writer`` and ``crawl --redis`` processes a test starts (tests/cluster.py);
    any still running at its end are killed."""
    from tests.cluster import stop_all  # tests.cluster imports this module

    started: list[Process] = []
    yield started
    stop_all(started)
