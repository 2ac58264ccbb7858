"""Helpers of the tests of crawler workers and one writer (issue 11): ``hrarchive writer``
and ``hrarchive crawl --redis`` subprocesses, and what their archive holds."""

from __future__ import annotations

import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import FAST, ROOT
from tests.scenario import ScenarioSite, write_profile

SITES = ("hrhouse", "viasna", "memorial")
TTL = "HRARCHIVE_WORKER_TTL=2"  # a dead worker's site is free 2 s after
QUICK_WRITER = ("HRARCHIVE_COMMIT_SECONDS=0.2",)
# Columns that differ between any two crawls of the same pages: times, row ids, WARC places,
# and where a teaser shown on two listings was seen first (the order pages were fetched in).
VOLATILE = {"id", "crawl_id", "article_id", "from_id", "first_seen", "last_seen",
            "last_changed", "seen", "captured", "warc", "offset", "length", "record_id",
            "listing_url", "position"}


def stop_all(started: list[Process]) -> None:
    """Kill the processes a test started that still run."""
    for process in started:
        if process.process.poll() is None:
            process.kill()


class Process:
    """A subprocess of the ``hrarchive`` command line, its stderr collected as it runs."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "hrarchive", *args], cwd=ROOT,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def wait(self, timeout: float = 60) -> int:
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code

    def kill(self) -> None:
        self.process.kill()
        self.wait()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        return self.wait()

    @property
    def output(self) -> str:
        return "".join(self.lines)


def writer(started: list[Process], url: str, db: Path) -> Process:
    args = ["writer", "--redis", url, "--db", str(db), "--heartbeat-check", "0.5"]
    for setting in QUICK_WRITER:
        args += ["-s", setting]
    started.append(Process(*args))
    return started[-1]


def worker(started: list[Process], url: str, db: Path, sites: dict[str, str],
           *settings: str, run: str = "test-run", extra: tuple[str, ...] = ()) -> Process:
    args = ["crawl", *sites, "--redis", url, "--run", run, "--db", str(db), *extra]
    for site, base in sites.items():
        args += ["--base-url", f"{site}={base}"]
    for setting in (*FAST, TTL, *settings):
        args += ["-s", setting]
    started.append(Process(*args))
    return started[-1]


def rows(db: Database, table: str) -> list[tuple[Any, ...]]:
    """A table's rows without the columns that differ between crawls, in a stable order."""
    keep = [c for c in db[table].columns_dict if c not in VOLATILE]
    return sorted((tuple(str(r[c]) for c in keep) for r in db[table].rows), key=repr)


def archived(path: Path) -> int:
    """Stories committed so far (0 before the writer made the archive)."""
    if not path.exists():
        return 0
    db = Database(sqlite3.connect(path, timeout=10))
    try:
        return db["articles"].count if db["articles"].exists() else 0
    except sqlite3.OperationalError:
        return 0
    finally:
        db.close()


def wait_for(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.1)


def check_captures(db: Database, root: Path, pids: set[int]) -> None:
    """Every capture row names a record of a worker's own WARC file holding its URL."""
    captures = list(db["captures"].rows)
    assert captures
    host = re.sub(r"[^A-Za-z0-9._-]+", "_", socket.gethostname())
    for row in captures:
        path = root / row["warc"]
        assert any(f"-{host}-{pid}-" in path.name for pid in pids), path  # ...-HOST-PID-...
        with path.open("rb") as stream:
            stream.seek(row["offset"])
            record = next(iter(ArchiveIterator(stream)))
            assert record.rec_headers.get_header("WARC-Target-URI") == row["url"]


STORIES, PER_PAGE = 30, 10


def scenario_worker(started: list[Process], url: str, db: Path, site: ScenarioSite,
                    *settings: str) -> Process:
    profiles = write_profile(db.parent / "profiles", sitemap=False).parent
    return worker(started, url, db, {"scenario": site.base_url},
                  f"HRARCHIVE_SITES={profiles}", "CONCURRENT_REQUESTS_PER_DOMAIN=2",
                  *settings)


def check_every_story_once(db_path: Path, site: ScenarioSite) -> Database:
    db = Database(db_path)
    urls = sorted(row["url"] for row in db["articles"].rows)
    assert urls == sorted(site.local(s) for s in site.stories)
    assert db["article_versions"].count == STORIES  # each story exactly once
    assert db["teasers"].count == STORIES
    return db


