"""Politeness across workers (hrarchive/cluster/polite.py), with a real redis-server.

Several ``hrarchive crawl`` workers crawl one fixture server at once, sharing politeness
through Redis (``HRARCHIVE_REDIS``) and one ``hrarchive writer``: each worker crawls its own
copy of the hrhouse profile (``hrhouse0``, ``hrhouse1``, ...: a site is claimed by one worker
at a time), all of them served by the same host.  Each process on its own would send up to
8 requests to the host at once (``CONCURRENT_REQUESTS_PER_DOMAIN=8``) with no delay, so
whatever spacing the server sees comes from the shared slot.  The server records when each
request arrived and when its answer was sent.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

from tests.conftest import FAST, ROOT
from tests.fixtureserver import FixtureSite, Hit, Page

TEXT = {"Content-Type": "text/plain; charset=UTF-8"}
# Arrival and departure are stamped by the server; Redis keeps time in whole milliseconds.
CLOCK = 0.002


def crawl_together(server: FixtureSite, redis_url: str, folder: Path, workers: int,
                   *settings: str) -> list[subprocess.CompletedProcess[str]]:
    """Run ``workers`` workers at once, each over its own copy of hrhouse on ``server``,
    with one writer."""
    profiles = folder / "profiles"
    profiles.mkdir()
    hrhouse = (ROOT / "hrarchive" / "sites" / "hrhouse.toml").read_text("utf-8")
    for n in range(workers):
        (profiles / f"hrhouse{n}.toml").write_text(
            hrhouse.replace('id = "hrhouse"', f'id = "hrhouse{n}"'), "utf-8")
    writer = subprocess.Popen([sys.executable, "-m", "hrarchive", "writer", "--redis",
                               redis_url, "--db", str(folder / "archive.db")], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    started = []
    try:
        for n in range(workers):
            args = [sys.executable, "-m", "hrarchive", "crawl", f"hrhouse{n}",
                    "--db", str(folder / "archive.db"), "--base-url", server.base_url]
            for setting in (*FAST, f"HRARCHIVE_REDIS={redis_url}", "HRARCHIVE_RUN=test",
                            f"HRARCHIVE_SITES={profiles}",
                            f"USER_AGENT=hrarchive-test/worker-{n}", *settings):
                args += ["-s", setting]
            started.append(subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, text=True))
        done = []
        for process in started:
            out, err = process.communicate(timeout=120)
            done.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
        writer.terminate()
        _, err = writer.communicate(timeout=30)
    assert writer.returncode == 0, err[-3000:]
    return done


def in_order(server: FixtureSite) -> list[Hit]:
    hits = sorted(server.requests, key=lambda hit: hit.time)
    assert all(hit.end is not None for hit in hits)
    return hits


def rests(hits: list[Hit]) -> list[float]:
    """For each request, the time from the previous answer's end to its own arrival."""
    return [later.time - earlier.end for earlier, later in pairwise(hits)  # type: ignore[operator]
            if earlier.end is not None]


def stat(output: str, name: str) -> int:
    found = re.search(rf"'{re.escape(name)}': (\d+)", output)
    return int(found.group(1)) if found else 0


def slow_pages(server: FixtureSite, seconds: float) -> None:
    """Every page takes a moment to answer, so two requests at once would overlap."""
    for path, page in list(server.routes.items()):
        server.put(path, dataclasses.replace(page, delay=seconds))


def test_three_workers_one_request_at_a_time_crawl_delay_and_robots_once(
        serve: Callable[..., FixtureSite], redis_url: str, tmp_path: Path) -> None:
    server = serve("hrhouse")
    slow_pages(server, 0.05)
    server.put("/robots.txt", Page(b"User-agent: *\nCrawl-delay: 0.2\nDisallow: /wp-admin/\n",
                                   200, TEXT))
    done = crawl_together(server, redis_url, tmp_path, 3)

    for result in done:
        assert result.returncode == 0, result.stderr[-3000:]
    # Every worker crawled the whole site (its own copy of the profile): the same stories.
    counts = [stat(result.stderr, "hrarchive/article/read") for result in done]
    assert counts[0] > 0 and counts == [counts[0]] * 3, counts
    assert server.hits.count("/articles/") == 3

    hits = in_order(server)
    waits = rests(hits)
    # Never two requests in flight at once, and Crawl-delay between any two, whoever sent them.
    shown = [(hit.path, round(wait, 3)) for hit, wait in zip(hits[1:], waits, strict=True)]
    assert min(waits) >= 0.2 - CLOCK, shown
    # robots.txt was fetched once, by the first worker; the other two read it from Redis.
    assert server.hits.count("/robots.txt") == 1 and hits[0].path == "/robots.txt"
    assert sorted(stat(r.stderr, "hrarchive/robotstxt/shared") for r in done) == [0, 1, 1]
    assert all("'hrarchive/robotstxt/crawl_delay/127.0.0.1:" in r.stderr for r in done)


def test_a_retry_after_holds_for_the_other_worker_too(
        serve: Callable[..., FixtureSite], redis_url: str, tmp_path: Path) -> None:
    server = serve("hrhouse", crawl_delay=False)
    slow_pages(server, 0.05)
    # The first listing answers 429 once, asking for 2 s; then it answers as recorded.
    listing = server.routes["/articles/"]
    server.put("/articles/", Page(b"slow down", 429, {**TEXT, "Retry-After": "2"},
                                  then=listing))
    # AutoThrottle brings the pace back after the 429 (else it stays 2 s a request).
    done = crawl_together(server, redis_url, tmp_path, 2, "RETRY_TIMES=1",
                          "HRARCHIVE_RETRY_MAX_DELAY=60", "AUTOTHROTTLE_ENABLED=True",
                          "AUTOTHROTTLE_START_DELAY=0")
    for result in done:
        assert result.returncode == 0, result.stderr[-3000:]

    hits = in_order(server)
    assert min(rests(hits)) >= -CLOCK  # one request in flight at a time, here too
    refused = next(n for n, hit in enumerate(hits) if hit.path == "/articles/")
    asked = hits[refused]
    assert asked.end is not None
    after = hits[refused + 1:]
    # Nobody came back before the 2 s were over: neither the worker told so ...
    assert after and after[0].time >= asked.end + 2.0 - CLOCK, (asked, after[0])
    # ... nor the other one, which did go on crawling the site afterwards.
    told = asked.headers["User-Agent"]
    others = [hit for hit in after if hit.headers["User-Agent"] != told]
    assert others and others[0].time >= asked.end + 2.0 - CLOCK
    assert server.hits.count("/articles/") == 3  # the 429, its retry, the other's request
