"""Crawler workers and one writer (issue 11): real ``hrarchive writer`` and ``hrarchive crawl
--redis`` subprocesses (``tests/cluster.py``), a real redis-server, fixture sites on 127.0.0.1.

Three workers over three sites give the archive one plain crawl gives (times, ids and WARC
file names aside), and every capture row finds its record in a worker's own WARC file; a
worker refuses clearly what it cannot do.  Killed and stopped processes: test_worker_faults.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import redis
from sqlite_utils import Database

from tests.cluster import (
    SITES,
    Process,
    check_captures,
    rows,
    worker,
    writer,
)
from tests.conftest import FAST, run_hrarchive
from tests.fixtureserver import FixtureSite


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
