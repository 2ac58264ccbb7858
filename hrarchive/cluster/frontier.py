"""A site's frontier in Redis, shared by the workers that crawl it in turn.

scrapy-redis holds the requests (``{p}:{spider}:requests``, a sorted set by priority) and
the fingerprints of every request scheduled in the run (``{p}:{spider}:dupefilter``), and
both outlive the worker (``SCHEDULER_PERSIST``).  What scrapy-redis does not keep is a
request taken from the queue and not yet done: a worker killed then would lose it, and with
it what its page leads to (a listing's next page).  So ``FrontierQueue`` moves each request
it hands out into ``{p}:{spider}:inflight`` in the same Redis step, and the scheduler removes
it once Scrapy is done with its response, items and follow-up requests included (the
scraper's ``finish_response``).  The next worker to open the site puts whatever is still in
flight back into the queue: a page fetched twice at worst, never one lost.  A request that
becomes another (a redirect, a retry) leaves flight once its successor is queued.

The keys of a site are dropped when it finishes for the run (``frontier_keys``).
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from hrarchive.middlewares.redirects import report_redirect

logger = logging.getLogger(__name__)

INFLIGHT_META = "hrarchive_inflight"  # the id of a request's entry in the in-flight hash
# Take the first request of the queue into the in-flight hash, under a new id.
_POP = """
local found = redis.call('ZRANGE', KEYS[1], 0, 0)
if #found == 0 then return false end
redis.call('ZREM', KEYS[1], found[1])
local id = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[2], id, found[1])
return {id, found[1]}
"""


def scheduler_settings(prefix: str) -> dict[str, Any]:
    """The Scrapy settings of a worker's shared frontier, keys under ``prefix``."""
    return {
        "SCHEDULER": "hrarchive.cluster.frontier.FrontierScheduler",
        "SCHEDULER_QUEUE_CLASS": "hrarchive.cluster.frontier.FrontierQueue",
        "DUPEFILTER_CLASS": "hrarchive.cluster.frontier.SharedDupeFilter",
        "SCHEDULER_QUEUE_KEY": f"{prefix}:%(spider)s:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:%(spider)s:dupefilter",
        "SCHEDULER_PERSIST": True,
    }


def frontier_keys(prefix: str, spider: str) -> list[str]:
    """Every Redis key of a site's frontier."""
    base = f"{prefix}:{spider}"
    return [f"{base}:requests", f"{base}:dupefilter", f"{base}:requests:inflight",
            f"{base}:requests:serial"]


class SharedDupeFilter(RFPDupeFilter):
    """scrapy-redis's duplicate filter, which also reports redirect loops."""

    def log(self, request: Request, spider: Spider) -> None:
        report_redirect(request, spider)
        super().log(request, spider)


class FrontierQueue(PriorityQueue):
    """scrapy-redis's priority queue whose requests stay in Redis while they are in flight."""

    def __init__(self, server: Any, spider: Spider, key: str, serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer)
        self.inflight_key = f"{self.key}:inflight"
        self.serial_key = f"{self.key}:serial"
        self._pop = server.register_script(_POP)

    def pop_inflight(self) -> Request | None:
        """The next request, recorded in flight (its id in ``meta[INFLIGHT_META]``)."""
        found = self._pop(keys=[self.key, self.inflight_key, self.serial_key])
        if not found:
            return None
        ident, data = found
        request: Request = self._decode_request(data)
        request.meta[INFLIGHT_META] = int(ident)
        return request

    def pop(self, timeout: int = 0) -> Request | None:
        return self.pop_inflight()

    def landed(self, ident: int) -> None:
        """The request ``ident`` is done with."""
        self.server.hdel(self.inflight_key, ident)

    def requeue_inflight(self) -> int:
        """Put back into the queue every request left in flight (by a worker that stopped)."""
        left = self.server.hgetall(self.inflight_key)
        for ident, data in left.items():
            request = self._decode_request(data)
            request.meta.pop(INFLIGHT_META, None)
            self.push(request)
            self.server.hdel(self.inflight_key, ident)
        return len(left)


class FrontierScheduler(Scheduler):
    """scrapy-redis's scheduler over a ``FrontierQueue`` (see the module docstring)."""

    crawler: Crawler | None = None
    queue: FrontierQueue

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierScheduler:
        scheduler: FrontierScheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        scheduler._hooked = False
        return scheduler

    def open(self, spider: Spider) -> None:
        super().open(spider)
        if not isinstance(self.queue, FrontierQueue):
            raise TypeError("SCHEDULER_QUEUE_CLASS must be a FrontierQueue")
        resumed = self.queue.requeue_inflight()
        if resumed:
            spider.logger.info("%d requests in flight when the site's last worker stopped "
                               "are queued again", resumed)
            if self.stats is not None:
                self.stats.inc_value("hrarchive/frontier/requeued", resumed)

    def enqueue_request(self, request: Request) -> bool:
        # a redirect or a retry of a request in flight: once it is queued, its parent is done
        parent = request.meta.pop(INFLIGHT_META, None)
        queued: bool = super().enqueue_request(request)
        if parent is not None:
            self.queue.landed(parent)
        return queued

    def next_request(self) -> Request | None:
        if not self._hooked:
            self._hook()
        request: Request | None = super().next_request()
        return request

    def _hook(self) -> None:
        """Be told when the scraper is done with a response (or a failure) and its output.

        Scrapy has no signal for that moment, so this wraps the scraper slot's
        ``finish_response``, which Scrapy 2.13 to 2.19 call exactly then.  Should a Scrapy
        lack it, entries leave flight only with the site's end: a takeover then fetches
        again what was done, and still loses nothing."""
        engine = self.crawler.engine if self.crawler is not None else None
        slot = getattr(getattr(engine, "scraper", None), "slot", None)
        finish = getattr(slot, "finish_response", None)
        if slot is None or finish is None:
            return  # not open yet: next time
        self._hooked = True

        def finish_response(result: Any, request: Request) -> None:
            finish(result, request)
            ident = request.meta.pop(INFLIGHT_META, None)
            if ident is not None:
                self.queue.landed(ident)

        slot.finish_response = finish_response
