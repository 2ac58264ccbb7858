"""Crawler workers and one writer (issue 11): real ``hrarchive writer`` and ``hrarchive crawl
--redis`` subprocesses, a real redis-server, fixture sites on 127.0.0.1.

- Three workers over three sites give the archive one plain crawl gives (times, ids and
  WARC file names aside), and every capture row finds its record in a worker's own WARC file.
- A worker SIGKILLed midway: the next worker takes the site over, fetches again the
  requests it had taken from the persisted frontier, and every story is archived once.
- The writer SIGKILLed midway and started again: the workers wait for it, nothing is lost
  and nothing applied twice.
"""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlite_utils import Database
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import FAST, ROOT, run_hrarchive
from tests.fixtureserver import FixtureSite
from tests.scenario import ScenarioSite, write_profile

SITES = ("hrhouse", "viasna", "memorial")
TTL = "HRARCHIVE_WORKER_TTL=2"  # a dead worker's site is free 2 s after
QUICK_WRITER = ("HRARCHIVE_COMMIT_SECONDS=0.2",)
# Columns that differ between any two crawls of the same pages: times, row ids, WARC places,
# and where a teaser shown on two listings was seen first (the order pages were fetched in).
VOLATILE = {"id", "crawl_id", "article_id", "from_id", "first_seen", "last_seen",
            "last_changed", "seen", "captured", "warc", "offset", "length", "record_id",
            "listing_url", "position"}


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


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    """Processes a test starts; any still running at its end are killed."""
    started: list[Process] = []
    yield started
    for process in started:
        if process.process.poll() is None:
            process.kill()


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


def test_three_workers_and_a_writer_archive_what_one_process_does(
        serve: Callable[..., FixtureSite], redis_url: str, tmp_path: Path,
        processes: list[Process]) -> None:
    servers = {site: serve(site, crawl_delay=False) for site in SITES}
    bases = {site: server.base_url for site, server in servers.items()}
    plain = tmp_path / "plain" / "archive.db"
    plain.parent.mkdir()
    bases_args = [a for s, b in bases.items() for a in ("--base-url", f"{s}={b}")]
    settings = [a for s in FAST for a in ("-s", s)]
    done = run_hrarchive("crawl", *SITES, "--db", str(plain), *bases_args, *settings)
    assert done.returncode == 0, done.stdout + done.stderr

    db_path = tmp_path / "cluster" / "archive.db"
    db_path.parent.mkdir()
    the_writer = writer(processes, redis_url, db_path)
    workers = [worker(processes, redis_url, db_path, bases, "HRARCHIVE_WORKER_SITES=1")
               for _ in range(3)]
    for each in workers:
        assert each.wait(60) == 0, each.output
    assert the_writer.stop() == 0, the_writer.output

    ours, theirs = Database(db_path), Database(plain)
    for table in ("sites", "articles", "article_versions", "teasers", "links", "captures",
                  "attachments", "article_aliases"):
        assert rows(ours, table) == rows(theirs, table), table
    assert ours["articles"].count == theirs["articles"].count > 0
    crawls = list(ours["crawls"].rows)
    assert sorted(r["site"] for r in crawls) == sorted(SITES)  # one row per site and run
    assert {r["status"] for r in crawls} == {"finished"}
    on_row = [json.loads(r["workers"]) for r in crawls]
    assert all(len(ws) == 1 and ws[0]["status"] == "done" for ws in on_row)  # one worker a site
    names = {ws[0]["name"] for ws in on_row}
    assert 1 <= len(names) <= 3 and all(":" in n for n in names)
    check_captures(ours, db_path.parent / "captures", {w.process.pid for w in workers})
    # what the run left in Redis: no frontier, no claim, the three sites done
    client = redis.Redis.from_url(redis_url)
    assert not client.keys("hrarchive:*:requests*") and not client.keys("*:owner")
    assert client.smembers("hrarchive:run:test-run:done") == {s.encode() for s in SITES}


STORIES, PER_PAGE = 30, 10


@pytest.fixture
def scenario() -> Iterator[ScenarioSite]:
    site = ScenarioSite(STORIES, per_page=PER_PAGE, delay=0.05).start()
    yield site
    site.stop()


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


def test_a_killed_workers_site_is_taken_over_and_nothing_is_lost(
        scenario: ScenarioSite, redis_url: str, tmp_path: Path,
        processes: list[Process]) -> None:
    db_path = tmp_path / "archive.db"
    the_writer = writer(processes, redis_url, db_path)
    # A request every 0.2 s or so: the worker is killed with requests taken from the frontier
    # and not done (waiting for the site's turn), most likely between two downloads (one
    # killed during a download holds the site's politeness slot until its lease lapses).
    paced = ("DOWNLOAD_DELAY=0.2", "DOWNLOAD_TIMEOUT=5")
    first = scenario_worker(processes, redis_url, db_path, scenario, *paced)
    wait_for(lambda: archived(db_path) >= 8, "some stories are archived")
    client = redis.Redis.from_url(redis_url)
    first.kill()
    assert client.hlen("hrarchive:scenario:requests:inflight") >= 1  # taken, not done
    wait_for(lambda: not client.exists("hrarchive:site:scenario:owner"),
             "the dead worker's claim lapses", timeout=10)
    second = scenario_worker(processes, redis_url, db_path, scenario, *paced)
    assert second.wait(90) == 0, second.output
    assert "Taking over scenario from" in second.output
    requeued = re.search(r"'hrarchive/frontier/requeued': (\d+)", second.output)
    assert requeued and int(requeued.group(1)) >= 1, second.output  # fetched again
    assert the_writer.stop() == 0, the_writer.output
    db = check_every_story_once(db_path, scenario)
    [row] = list(db["crawls"].rows)  # one row for the site's run, both workers on it
    assert row["status"] == "finished"
    workers = {w["name"]: w["status"] for w in json.loads(row["workers"])}
    assert len(workers) == 2 and sorted(workers.values()) == ["died", "done"]


def test_a_stopped_worker_leaves_its_site_to_the_next_one(
        scenario: ScenarioSite, redis_url: str, tmp_path: Path,
        processes: list[Process]) -> None:
    db_path = tmp_path / "archive.db"
    the_writer = writer(processes, redis_url, db_path)
    paced = ("DOWNLOAD_DELAY=0.2",)
    first = scenario_worker(processes, redis_url, db_path, scenario, *paced)
    wait_for(lambda: archived(db_path) >= 8, "some stories are archived")
    assert first.stop() == 1, first.output  # SIGTERM: a clean stop, the site interrupted
    client = redis.Redis.from_url(redis_url)
    assert not client.exists("hrarchive:site:scenario:owner")  # given back at once
    second = scenario_worker(processes, redis_url, db_path, scenario, *paced)
    assert second.wait(60) == 0, second.output
    assert "Resuming scenario where the run left it" in second.output
    assert the_writer.stop() == 0, the_writer.output
    db = check_every_story_once(db_path, scenario)
    [row] = list(db["crawls"].rows)
    assert row["status"] == "finished"
    workers = {w["name"]: w["status"] for w in json.loads(row["workers"])}
    assert sorted(workers.values()) == ["done", "interrupted"]


def test_a_killed_writer_restarted_loses_nothing_and_applies_nothing_twice(
        scenario: ScenarioSite, redis_url: str, tmp_path: Path,
        processes: list[Process]) -> None:
    db_path = tmp_path / "archive.db"
    first = writer(processes, redis_url, db_path)
    crawler = scenario_worker(processes, redis_url, db_path, scenario)
    wait_for(lambda: archived(db_path) >= 5, "some stories are archived")
    first.kill()
    time.sleep(1)  # the worker goes on putting into Redis meanwhile
    second = writer(processes, redis_url, db_path)
    assert crawler.wait(60) == 0, crawler.output
    assert second.stop() == 0, second.output
    db = check_every_story_once(db_path, scenario)
    [row] = list(db["crawls"].rows)
    assert row["status"] == "finished" and row["articles_new"] == STORIES


def test_a_worker_without_redis_or_a_run_without_workers_is_refused_clearly(
        redis_url: str, tmp_path: Path) -> None:
    from tests.redisserver import free_port

    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    done = run_hrarchive("crawl", "hrhouse", "--redis", nowhere, "--db",
                         str(tmp_path / "archive.db"), timeout=60)
    assert done.returncode == 1 and f"cannot reach Redis at {nowhere}" in done.stderr
    done = run_hrarchive("crawl", "hrhouse", "--run", "r1", "--db", str(tmp_path / "a.db"))
    assert done.returncode == 2 and "add --redis URL" in done.stderr
    assert not (tmp_path / "archive.db").exists() and not (tmp_path / "a.db").exists()
    # a site finished for the run is not crawled again by a late worker
    redis.Redis.from_url(redis_url).sadd("hrarchive:run:r1:done", "hrhouse")
    done = run_hrarchive("crawl", "hrhouse", "--redis", redis_url, "--run", "r1", "--db",
                         str(tmp_path / "archive.db"))
    assert done.returncode == 0 and "nothing to crawl" in done.stderr
