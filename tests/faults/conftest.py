"""Running a crawl of a hostile site: ``hrarchive crawl --profile`` in a fresh process,
with its output, exit status and peak memory."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, CrawlResult
from tests.faults.hostile import HostileSite, profile

FAST = ("DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
        "RETRY_TIMES=0", "LOG_LEVEL=INFO", "HRARCHIVE_CAPTURE=False",
        "HRARCHIVE_COMMIT_SECONDS=0.2")
# Prints the process's peak resident memory as it exits.
# VmHWM, the high-water mark of this process's own memory, not ru_maxrss: that one starts
# from the parent's resident size when a large pytest worker forks the crawl.
PEAK = ("import atexit, re, sys\n"
        "atexit.register(lambda: sys.stderr.write('PEAK_RSS_KB %s\\n' % re.search("
        "r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read()).group(1)))\n"
        "from hrarchive.cli import cli\n"
        "cli(prog_name='hrarchive')\n")


class Run(CrawlResult):
    """A crawl of a hostile site, with the peak memory its process printed."""

    @property
    def peak_mb(self) -> float:
        found = re.search(r"PEAK_RSS_KB (\d+)", self.output)
        assert found, self.output[-2000:]
        return int(found.group(1)) / 1024

    def stats(self) -> dict[str, Any]:
        row = next(self.db.query("SELECT stats FROM crawls ORDER BY id DESC LIMIT 1"))
        import json
        return dict(json.loads(row["stats"]))

    def lines(self, needle: str) -> list[str]:
        return [line for line in self.output.splitlines() if needle in line]


def run_crawl(site: HostileSite, folder: Path, *settings: str, fast: tuple[str, ...] = FAST,
              db_path: Path | None = None, site_id: str = "faults", name: str = "Fault site",
              timeout: float = 120,
              **popen: Any) -> Run:
    """Crawl ``site`` through the real engine into ``folder/archive.db`` (or ``db_path``)."""
    db_path = db_path or folder / "archive.db"
    args = [sys.executable, "-c", PEAK, "crawl", "--profile", str(profile(folder, site_id, name)),
            "--db", str(db_path), "--base-url", site.base_url]
    for setting in (*fast, *settings):
        args += ["-s", setting]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, **popen)
    return Run(done.returncode, done.stdout + done.stderr, db_path)


@pytest.fixture
def serve() -> Iterator[Callable[[HostileSite], HostileSite]]:
    """Stops the sites a test started once it ends."""
    started: list[HostileSite] = []

    def keep(site: HostileSite) -> HostileSite:
        started.append(site)
        return site

    yield keep
    for site in started:
        site.stop()
