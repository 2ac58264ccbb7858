"""Site claims and the shared frontier of crawler workers, against a real redis-server."""

from __future__ import annotations

import socket
import subprocess
import time

import redis
import scrapy
from scrapy import Request

from hrarchive.cluster.claims import Claims
from hrarchive.cluster.frontier import INFLIGHT_META, FrontierQueue, frontier_keys


def claims(url: str, name: str, ttl: float = 30.0, run: str = "r1") -> Claims:
    return Claims(redis.Redis.from_url(url), "t", run, name, ttl)


def test_a_site_has_one_owner_until_it_is_finished_for_the_run(redis_url: str) -> None:
    one, two = claims(redis_url, "a:1"), claims(redis_url, "b:2")
    one.beat()
    two.beat()
    first = one.claim("hrhouse")
    assert first is not None and not first.resumed and first.dead is None
    assert two.claim("hrhouse") is None  # held by a live worker
    assert two.taken("hrhouse") and not one.taken("hrhouse")
    assert two.settled(["hrhouse"]) and not two.settled(["hrhouse", "viasna"])
    one.finish("hrhouse")
    assert one.owner("hrhouse") is None
    assert two.claim("hrhouse") is None  # finished for this run ...
    assert claims(redis_url, "c:3", run="r2").claim("hrhouse") is not None  # ... not the next


def test_a_dead_workers_site_is_taken_over_and_a_paused_one_resumed(redis_url: str) -> None:
    dead, heir = claims(redis_url, "a:1", ttl=1.0), claims(redis_url, "b:2")
    dead.beat()
    heir.beat()
    assert dead.claim("viasna") is not None and dead.claim("memorial") is not None
    assert heir.claim("viasna") is None
    time.sleep(1.2)  # no heartbeat: its claims lapse with it
    taken = heir.claim("viasna")
    assert taken is not None and taken.resumed and taken.dead == "a:1"
    heir.pause("viasna")  # a clean stop: the frontier waits, nobody died
    again = dead.claim("viasna")
    assert again is not None and again.resumed and again.dead is None


def ended_pid() -> int:
    """The pid of a process that has ended (free, until the system reuses it)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_crashed_worker_of_this_host_is_dead_at_once(redis_url: str) -> None:
    dead = claims(redis_url, f"{socket.gethostname()}:{ended_pid()}")
    dead.beat()
    assert dead.claim("fidh") is not None
    heir = claims(redis_url, "b:2")
    heir.beat()
    taken = heir.claim("fidh")  # its heartbeat lives for 30 s more, its process is gone
    assert taken is not None and taken.dead == dead.name


class Spider(scrapy.Spider):
    name = "site"

    def parse(self, response: object) -> None:
        pass


def test_requests_in_flight_outlive_the_worker(redis_url: str) -> None:
    server = redis.Redis.from_url(redis_url)
    spider = Spider()
    queue = FrontierQueue(server, spider, "t:%(spider)s:requests")
    for n in range(3):
        queue.push(Request(f"http://127.0.0.1/{n}", callback=spider.parse))
    taken = [queue.pop_inflight(), queue.pop_inflight()]
    assert all(r is not None and r.meta[INFLIGHT_META] for r in taken)
    assert len(queue) == 1 and server.hlen(queue.inflight_key) == 2
    first = taken[0]
    assert first is not None
    queue.landed(first.meta[INFLIGHT_META])  # done with; the other one's worker dies
    heir = FrontierQueue(server, spider, "t:%(spider)s:requests")
    assert heir.requeue_inflight() == 1
    urls = sorted(r.url for r in (heir.pop(), heir.pop()) if r is not None)
    second = taken[1]
    assert second is not None and second.url in urls and first.url not in urls
    keys = {str(k, "utf-8") if isinstance(k, bytes) else k for k in server.keys("t:site:*")}
    assert set(frontier_keys("t", "site")) >= keys  # all of them dropped at the site's end
