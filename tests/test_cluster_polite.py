"""Politeness across workers (hrarchive/cluster/polite.py): real ``hrarchive writer`` and
``hrarchive crawl --redis`` workers, a real redis-server, fixture sites on 127.0.0.1.

Several fixture sites are served by ONE server (one host), and each worker is given one of
them: the workers crawl at once, each its own site (distinct URLs, one archive), all of it
on the one host, so politeness must hold across them.  Each worker on its own would send up
to 8 requests to the host at once (``CONCURRENT_REQUESTS_PER_DOMAIN=8``) with no delay:
whatever spacing the server sees comes from the slot the workers share in Redis.  The server
records when each request arrived and when its answer was sent, and which worker sent it
(each has its own User-Agent).
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
import redis
from sqlite_utils import Database

from hrarchive.cluster.polite import ACQUIRE, RELEASE
from tests.cluster import Process, wait_for, worker, writer
from tests.fixtureserver import FixtureSite, Hit, Page

TEXT = {"Content-Type": "text/plain; charset=UTF-8"}
# Arrival and departure are stamped by the server; Redis keeps time in whole milliseconds.
CLOCK = 0.002


@pytest.fixture
def one_host() -> Iterator[FixtureSite]:
    """hrhouse, viasna and memorial served by one server; every page takes 50 ms to answer,
    so two requests at once would overlap."""
    routes: dict[str, Page] = {}
    for site in ("hrhouse", "viasna", "memorial"):
        for path, page in FixtureSite.from_fixtures(site, crawl_delay=False).routes.items():
            routes[path] = dataclasses.replace(page, delay=0.05)
    server = FixtureSite(routes).start()
    yield server
    server.stop()


def crawl_together(server: FixtureSite, redis_url: str, folder: Path, sites: tuple[str, ...],
                   processes: list[Process], *settings: str) -> Database:
    """One writer, and one worker per site, given that site (its User-Agent names it).

    The workers start their crawls together: until all of them are up (their heartbeats
    are in Redis), the host's robots.txt lock is held as if another worker were fetching it,
    so each waits at its first request; then the lock goes, as a dead fetcher's would."""
    client = redis.Redis.from_url(redis_url)
    host = server.base_url.removeprefix("http://")
    lock = f"hrarchive:robots:{host}:test-run:lock"
    client.set(lock, "a worker that is gone", px=60_000)
    db = folder / "archive.db"
    the_writer = writer(processes, redis_url, db)
    workers = [worker(processes, redis_url, db, {site: server.base_url},
                      f"USER_AGENT=hrarchive-test/worker-{n}", *settings)
               for n, site in enumerate(sites)]
    wait_for(lambda: len(client.keys("hrarchive:worker:*")) == len(sites),
             "every worker is up", timeout=60)
    assert not server.requests  # all waiting for robots.txt
    client.delete(lock)
    for each in workers:
        assert each.wait(90) == 0, each.output[-3000:]
    assert the_writer.stop() == 0, the_writer.output[-3000:]
    return Database(db)


def in_order(server: FixtureSite) -> list[Hit]:
    hits = sorted(server.requests, key=lambda hit: hit.time)
    assert all(hit.end is not None for hit in hits)
    return hits


def rests(hits: list[Hit]) -> list[float]:
    """For each request, the time from the previous answer's end to its own arrival."""
    return [later.time - earlier.end for earlier, later in pairwise(hits)  # type: ignore[operator]
            if earlier.end is not None]


def interleaved(hits: list[Hit]) -> bool:
    """Whether requests of two workers alternate, so the workers crawled at the same time."""
    agents = [hit.headers.get("User-Agent") for hit in hits]
    return any(a != b and agents[n + 1:].count(a) for n, (a, b) in enumerate(pairwise(agents)))


def stat(output: str, name: str) -> list[int]:
    """Every value of a stat in a worker's log (one stats dump per site it crawled)."""
    return [int(v) for v in re.findall(rf"'{re.escape(name)}': (\d+)", output)]


def test_workers_on_one_host_one_request_at_a_time_crawl_delay_retry_after_robots_once(
        one_host: FixtureSite, redis_url: str, tmp_path: Path,
        processes: list[Process]) -> None:
    one_host.put("/robots.txt", Page(b"User-agent: *\nCrawl-delay: 0.2\nDisallow: /wp-admin/\n",
                                     200, TEXT))
    # The first listing of hrhouse answers 429 once, asking for 2 s; then as recorded.
    listing = one_host.routes["/articles/"]
    one_host.put("/articles/", Page(b"slow down", 429, {**TEXT, "Retry-After": "2"},
                                    then=listing))
    sites = ("hrhouse", "viasna", "memorial")
    # AutoThrottle brings the pace back after the 429 (else that worker stays at 2 s).
    db = crawl_together(one_host, redis_url, tmp_path, sites, processes, "RETRY_TIMES=1",
                        "HRARCHIVE_RETRY_MAX_DELAY=60", "AUTOTHROTTLE_ENABLED=True",
                        "AUTOTHROTTLE_START_DELAY=0")
    assert {row["site"] for row in db["articles"].rows} == set(sites)
    assert {row["status"] for row in db["crawls"].rows} == {"finished"}

    hits = in_order(one_host)
    assert interleaved(hits), [hit.headers.get("User-Agent") for hit in hits]
    waits = rests(hits)
    # Never two requests in flight at once, and Crawl-delay between any two, whoever sent them.
    shown = [(hit.path, round(wait, 3)) for hit, wait in zip(hits[1:], waits, strict=True)]
    assert min(waits) >= 0.2 - CLOCK, shown

    refused = next(n for n, hit in enumerate(hits) if hit.path == "/articles/")
    asked = hits[refused]
    assert asked.end is not None
    after = hits[refused + 1:]
    # Nobody came back before the 2 s of the 429 were over: neither the worker told so ...
    assert after and after[0].time >= asked.end + 2.0 - CLOCK, (asked, after[0])
    # ... nor the others, which did go on crawling their sites afterwards.
    told = asked.headers["User-Agent"]
    others = [hit for hit in after if hit.headers["User-Agent"] != told]
    assert others and others[0].time >= asked.end + 2.0 - CLOCK
    assert one_host.hits.count("/articles/") == 2  # the 429 and its retry

    # robots.txt was fetched once, by the first worker to need it; the others read it from
    # Redis.
    assert one_host.hits.count("/robots.txt") == 1 and hits[0].path == "/robots.txt"
    shared = [n for p in processes for n in stat(p.output, "hrarchive/robotstxt/shared")]
    assert sum(shared) == 2, shared


def test_a_slot_is_taken_by_one_freed_by_its_holder_only_and_lapses(redis_url: str) -> None:
    """The two Redis scripts alone: what the workers' middleware relies on."""
    client = redis.Redis.from_url(redis_url)
    take, give_back = client.register_script(ACQUIRE), client.register_script(RELEASE)
    keys = ["test:site:example.org:slot", "test:site:example.org:next"]

    def turn(token: str) -> int:
        return int(take(keys=keys, args=[token, 300]))

    assert turn("a|1") == 0  # free: a has it
    assert turn("b|1") == -1  # held: b waits
    assert give_back(keys=keys, args=["b|1", 0]) == 0 and client.get(keys[0]) == b"a|1"
    assert give_back(keys=keys, args=["a|1", 500]) == 1  # a's answer came: rest 500 ms
    wait = turn("b|2")
    assert 400 < wait <= 500
    assert give_back(keys=keys, args=["c|1", 0]) == 0  # a shorter delay never brings it back
    assert turn("b|2") > 300
    time.sleep(wait / 1000 + 0.01)
    assert turn("b|2") == 0
    # b never answers (killed, or presumed dead): the slot stays b's until its lease lapses.
    time.sleep(0.2)
    assert turn("c|2") == -1
    time.sleep(0.15)
    assert turn("c|2") == 0 and client.get(keys[0]) == b"c|2"
