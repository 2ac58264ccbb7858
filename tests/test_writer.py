"""The archive's one writer: a queue drained in batches by a thread, with back-pressure, a
kill in the middle of a batch, and the full-text index always equal to one built afresh."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from hrarchive.store.queue import ARTICLE, TEASER, MemoryQueue, Op
from hrarchive.store.writer import ArchiveWriter, WriterError
from tests.conftest import FAST, ROOT, run_hrarchive
from tests.scenario import ScenarioSite, write_profile


def story(n: int, **changes: Any) -> dict[str, Any]:
    return {"site": "s", "url": f"https://example.org/news/{n}/", "canonical_url": None,
            "title": f"Story number {n}", "published": "2024-01-02",
            "body_text": f"Body of story {n}: defenders, courts and prisons.",
            "body_html": f"<p>Body {n}</p>", "authors": [], "tags": [], **changes}


def fts_differences(path: Path) -> list[tuple[Any, ...]]:
    """Index entries (term, story, column, offset) in which ``articles_fts`` differs from an
    index built from scratch over ``articles`` with the same tokenizer; [] when in step."""
    db = Database(path)
    try:
        db.execute("create virtual table temp.fresh using fts5(title, subtitle, body_text, "
                   "tokenize='unicode61 remove_diacritics 2')")
        db.execute("insert into temp.fresh (rowid, title, subtitle, body_text) "
                   "select id, title, subtitle, body_text from articles")
        db.execute("create virtual table temp.kept using fts5vocab(main, articles_fts, instance)")
        db.execute("create virtual table temp.built using fts5vocab(temp, fresh, instance)")
        columns = "term, doc, col, offset"
        return (db.execute(f"select 'kept', {columns} from temp.kept except "
                           f"select 'kept', {columns} from temp.built").fetchall()
                + db.execute(f"select 'built', {columns} from temp.built except "
                             f"select 'built', {columns} from temp.kept").fetchall())
    finally:
        db.close()


def test_a_slow_writer_makes_the_crawl_wait_and_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    queue = MemoryQueue(maxsize=4)
    writer = ArchiveWriter(path, batch_size=3, commit_seconds=0.05, queue=queue)
    outcomes: list[Any] = []
    slow = threading.Event()

    def crawl_slowly(archive: Any) -> None:  # the writer is stuck for a while
        slow.wait(0.5)

    writer.put(Op("call", crawl_slowly))
    started = time.monotonic()
    for n in range(60):
        writer.put(Op(ARTICLE, story(n), reply=outcomes.append))
        writer.put(Op(TEASER, {"site": "s", "url": story(n)["url"], "title": f"T {n}"},
                      reply=outcomes.append))
        assert len(queue) <= 4  # never more waiting than the queue holds
    assert time.monotonic() - started >= 0.4  # the puts waited for the slow writer
    assert queue.waits > 0
    writer.close()
    assert writer.error is None
    db = Database(path)
    assert db["articles"].count == 60 and db["teasers"].count == 60
    assert sorted(map(str, outcomes)) == sorted(["('new', False, None)"] * 60 + ["new"] * 60)
    assert db.execute("select count(*) from articles_fts where articles_fts match "
                      "'defenders'").fetchone()[0] == 60
    assert fts_differences(path) == []


def test_what_is_put_is_written_in_order_as_one_writer_would(tmp_path: Path) -> None:
    """The same story twice in a batch, a change and an alias: the rows of writing one by one."""
    path = tmp_path / "archive.db"
    writer = ArchiveWriter(path, batch_size=100, commit_seconds=0.05)
    outcomes: list[Any] = []
    for item in (story(1), story(1), story(1, body_text="Changed body: tribunals."),
                 story(2, url="https://example.org/copy-of-1", body_text=story(1)["body_text"]),
                 story(1, body_text="Changed body: tribunals.")):
        writer.put(Op(ARTICLE, item, reply=lambda outcome: outcomes.append(outcome[0])))
    writer.flush().wait(10)
    assert outcomes == ["new", "unchanged", "changed", "new", "unchanged"]
    writer.close()
    db = Database(path)
    [row] = db["articles"].rows_where("url = ?", [story(1)["url"]])
    assert row["version"] == 2 and row["body_text"] == "Changed body: tribunals."
    assert fts_differences(path) == []


KILLED = """
import os, sys, time
from hrarchive.store.queue import ARTICLE, Op
from hrarchive.store.writer import ArchiveWriter, WriterError
from tests.test_writer import story

writer = ArchiveWriter(sys.argv[1], batch_size=500, commit_seconds=60)
for n in range(100):
    writer.put(Op(ARTICLE, story(n)))
writer.flush().wait(60)                      # 100 stories committed
for n in range(100, 150):
    writer.put(Op(ARTICLE, story(n)))        # 50 more in the open batch ...
def midway(archive):
    open(sys.argv[2], "w").close()           # ... then the test kills us here
    time.sleep(600)
writer.put(Op("call", midway))
time.sleep(600)
"""


def test_a_kill_during_a_batch_loses_only_that_batch_and_a_rerun_recovers_it(
        tmp_path: Path) -> None:
    path, marker = tmp_path / "archive.db", tmp_path / "midway"
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(KILLED), str(path),
                              str(marker)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.05)
        assert marker.exists(), "the writer never reached the middle of its second batch"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(30)
    db = Database(path)
    assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert db["articles"].count == 100  # the committed batch, none of the open one
    assert db["article_versions"].count == 100
    assert fts_differences(path) == []
    # the re-run puts everything again: what was committed is unchanged, the rest is new
    writer = ArchiveWriter(path, batch_size=40, commit_seconds=0.05)
    outcomes: list[str] = []
    for n in range(150):
        writer.put(Op(ARTICLE, story(n), reply=lambda outcome: outcomes.append(outcome[0])))
    writer.close()
    assert outcomes == ["unchanged"] * 100 + ["new"] * 50
    assert Database(path)["articles"].count == 150
    assert fts_differences(path) == []


@pytest.fixture
def scenario_site() -> Iterator[ScenarioSite]:
    site = ScenarioSite(12, per_page=5).start()
    yield site
    site.stop()


def test_the_index_equals_a_fresh_one_after_crawls_and_a_reparse(
        scenario_site: ScenarioSite, tmp_path: Path) -> None:
    path = tmp_path / "archive.db"

    def crawl() -> subprocess.CompletedProcess[str]:
        return run_hrarchive("crawl", "--profile", str(write_profile(tmp_path / "profiles")),
                             "--db", str(path), "--base-url", scenario_site.base_url,
                             *(a for s in FAST for a in ("-s", s)))

    done = crawl()
    assert done.returncode == 0, done.stdout + done.stderr
    assert Database(path)["articles"].count == 12
    assert fts_differences(path) == []

    scenario_site.publish(2)
    edited = [scenario_site.edit(n) for n in (3, 7)]
    done = crawl()
    assert done.returncode == 0, done.stdout + done.stderr
    db = Database(path)
    assert db["articles"].count == 14
    assert db.execute("select count(*) from articles where version = 2").fetchone()[0] == 2
    hits = db.execute("select rowid from articles_fts where articles_fts match "
                      "'correction'").fetchall()
    assert len(hits) == len(edited)
    assert fts_differences(path) == []

    # reparse re-reads both captures of each edited story: old, then new content again
    done = run_hrarchive("reparse", "--db", str(path), "-s",
                         f"HRARCHIVE_SITES={tmp_path / 'profiles'}")
    assert done.returncode == 0, done.stdout + done.stderr
    db = Database(path)
    assert db.execute("select count(*) from articles where version > 2").fetchone()[0] == 2
    assert fts_differences(path) == []


def test_an_archive_that_cannot_be_opened_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the archive's folder should be")
    with pytest.raises(WriterError, match="cannot open the archive"):
        ArchiveWriter(blocker / "archive.db")


def test_a_write_that_fails_is_reported_and_the_writer_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    writer = ArchiveWriter(path, batch_size=10, commit_seconds=0.05)
    outcomes: list[Any] = []
    locker = Database(path)
    locker.conn.execute("BEGIN EXCLUSIVE")  # another process holds the file
    writer.call(lambda archive: archive.db.execute("PRAGMA busy_timeout = 0")).result(30)
    writer.put(Op(ARTICLE, story(1), reply=outcomes.append))
    writer.flush().wait(30)
    assert isinstance(outcomes[0], Exception) and "locked" in str(outcomes[0])
    locker.conn.rollback()
    writer.put(Op(ARTICLE, story(2), reply=outcomes.append))
    writer.close(timeout=30)
    assert writer.error is None and outcomes[1] == ("new", False, None)
    assert [row["url"] for row in Database(path)["articles"].rows] == [story(2)["url"]]
