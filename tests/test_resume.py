"""Crawls that are killed midway: the next run archives what is missing, exactly once, and
the killed run's row ends ``interrupted``.

The scenario site's listing page 2 hangs during the first run, so the run is stopped after
page 1's stories are archived and before the older pages were ever seen: the case an
incremental stop rule alone would lose, and one a graceful stop cannot finish.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from hrarchive.extensions.jobdir import MARKER
from tests.conftest import FAST, ROOT
from tests.scenario import ScenarioSite, write_profile

STORIES = 40
PER_PAGE = 10
SLOW = (*FAST, "CONCURRENT_REQUESTS_PER_DOMAIN=2", "HRARCHIVE_COMMIT_SECONDS=0.2",
        "LOG_LEVEL=DEBUG")


@pytest.fixture
def site() -> Iterator[ScenarioSite]:
    site = ScenarioSite(STORIES, per_page=PER_PAGE, delay=0.05).start()
    site.server.routes["/articles/page/2/"].delay = 600  # hangs until the test is over
    yield site
    site.stop()


class Running:
    """A crawl subprocess whose stderr is collected as it runs."""

    def __init__(self, args: list[str]) -> None:
        self.process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._seen = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._seen:
                self.lines.append(line)
                self._seen.notify_all()

    def wait_for_log(self, text: str, timeout: float = 60) -> None:
        with self._seen:
            found = self._seen.wait_for(lambda: any(text in line for line in self.lines),
                                        timeout)
        assert found, f"{text!r} not logged:\n{self.output}"

    def wait(self, timeout: float = 120) -> int:
        code = self.process.wait(timeout)
        self._reader.join(timeout)
        return code

    @property
    def output(self) -> str:
        return "".join(self.lines)


def scrapy_crawl(site: ScenarioSite, tmp_path: Path, *settings: str) -> list[str]:
    profiles = write_profile(tmp_path / "profiles", sitemap=False).parent
    args = [sys.executable, "-m", "scrapy", "crawl", "scenario", "-a",
            f"base_url={site.base_url}", "-s", f"HRARCHIVE_DB={tmp_path / 'archive.db'}",
            "-s", f"HRARCHIVE_SITES={profiles}"]
    for setting in (*SLOW, *settings):
        args += ["-s", setting]
    return args


def archived(db_path: Path) -> int:
    """Stories committed so far (0 while the crawl is still creating the archive)."""
    if not db_path.exists():
        return 0
    db = Database(db_path)
    try:
        db.execute("PRAGMA busy_timeout = 5000")
        return db["articles"].count
    except sqlite3.OperationalError:  # no such table yet
        return 0
    finally:
        db.close()


def wait_until_archived(run: Running, db_path: Path, count: int) -> None:
    """Wait, as the crawl logs its progress, until it has committed ``count`` stories."""
    while archived(db_path) < count:
        assert run.process.poll() is None, f"crawl ended before it was stopped:\n{run.output}"
        with run._seen:
            run._seen.wait(0.5)  # woken by each log line


def test_sigkill_midway_then_rerun_archives_every_story_once(
        site: ScenarioSite, tmp_path: Path) -> None:
    db_path = tmp_path / "archive.db"
    jobdir = tmp_path / "job"
    args = scrapy_crawl(site, tmp_path, f"JOBDIR={jobdir}")
    first = Running(args)
    wait_until_archived(first, db_path, PER_PAGE)  # page 1's stories; page 2 hangs
    first.process.kill()
    assert first.wait() == -signal.SIGKILL
    assert archived(db_path) == PER_PAGE  # killed midway
    assert (jobdir / MARKER).exists()  # the job state of a run that did not stop cleanly

    site.sync()  # page 2 answers again
    second = Running(args)
    assert second.wait() == 0, second.output
    db = Database(db_path)
    urls = [row["url"] for row in db["articles"].rows]
    assert sorted(urls) == sorted(site.local(s) for s in site.stories)
    assert db["article_versions"].count == STORIES  # each story exactly once
    runs = list(db["crawls"].rows)
    assert [(r["status"], r["mode"]) for r in runs] == [("interrupted", None),
                                                       ("finished", "recovery")]
    assert "did not stop cleanly" in second.output  # the stale job state was discarded
    assert list(jobdir.iterdir()) == []  # a finished job leaves nothing to resume


def test_double_sigterm_stops_the_crawl_interrupted_with_exit_1(
        site: ScenarioSite, tmp_path: Path) -> None:
    db_path = tmp_path / "archive.db"
    profile = write_profile(tmp_path / "profiles", sitemap=False)
    args = [sys.executable, "-m", "hrarchive", "crawl", "--profile", str(profile),
            "--db", str(db_path), "--base-url", site.base_url]
    for setting in SLOW:
        args += ["-s", setting]
    run = Running(args)
    wait_until_archived(run, db_path, 2)  # page 2 hangs, so a graceful stop cannot finish
    os.kill(run.process.pid, signal.SIGTERM)
    run.wait_for_log("shutting down gracefully")
    os.kill(run.process.pid, signal.SIGTERM)
    assert run.wait() == 1, run.output
    assert "forcing unclean shutdown" in run.output
    [row] = Database(db_path)["crawls"].rows
    assert row["status"] == "interrupted", row
    assert row["finished"]
    assert archived(db_path) > 0

    site.sync()
    again = Running(args)
    assert again.wait() == 0, again.output
    assert archived(db_path) == STORIES
