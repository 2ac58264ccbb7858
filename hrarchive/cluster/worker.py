"""A crawler worker: ``hrarchive crawl SITE... --redis URL`` (see the README).

The worker claims sites of its list (``hrarchive.cluster.claims``), up to
``HRARCHIVE_WORKER_SITES`` at a time, and crawls each in the one ``CrawlerProcess`` as a
multi-site crawl does; when one finishes it claims the next; it stops once every site of its
list is finished for the run or held by another live worker.  Each site's requests live in
Redis (``hrarchive.cluster.frontier``), so a site whose worker died is resumed by the next
worker that claims it.  A worker never opens the archive: what it stores goes to
``hrarchive writer`` through a :class:`~hrarchive.cluster.client.WriterClient`, what it must
know of the archive (a site's :class:`~hrarchive.store.state.SiteState`) comes back from it,
and it writes its WARC files itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any, TypeVar

import redis
from scrapy.crawler import Crawler, CrawlerProcess
from twisted.internet.defer import Deferred

from hrarchive.cluster.claims import Claim, Claims, worker_name
from hrarchive.cluster.frontier import frontier_keys, scheduler_settings
from hrarchive.profiles import SiteProfile
from hrarchive.store.state import SiteState

logger = logging.getLogger(__name__)
T = TypeVar("T")


class WorkerError(RuntimeError):
    """The worker cannot start (Redis unreachable): nothing was crawled."""


def run_name(value: str | None = None) -> str:
    """The run a worker takes part in: ``value``, else the UTC date and hour now."""
    return value or datetime.now(UTC).strftime("%Y-%m-%dT%H")


def worker_mode(settings: Any) -> bool:
    """Whether this process is a crawler worker (``HRARCHIVE_REDIS`` is set)."""
    return bool(settings.get("HRARCHIVE_REDIS"))


def prefix_of(settings: Any) -> str:
    return str(settings.get("HRARCHIVE_REDIS_PREFIX") or "hrarchive")


def configure(settings: Any, url: str, run: str) -> None:
    """Make ``settings`` those of a worker of ``run`` sharing the Redis at ``url``."""
    settings.set("HRARCHIVE_REDIS", url, priority="cmdline")
    settings.set("HRARCHIVE_RUN", run, priority="cmdline")
    settings.set("REDIS_URL", url, priority="cmdline")
    for name, value in scheduler_settings(prefix_of(settings)).items():
        settings.set(name, value, priority="cmdline")


# --- the writer's client, one per process --------------------------------------------------
_client: Any = None
_client_lock = threading.Lock()


def writer_client(settings: Any) -> Any:
    """This process's :class:`~hrarchive.cluster.client.WriterClient` (answers are
    delivered on the reactor thread)."""
    global _client
    from twisted.internet import reactor

    from hrarchive.cluster.client import WriterClient

    with _client_lock:
        if _client is None:
            _client = WriterClient(str(settings.get("HRARCHIVE_REDIS")), prefix_of(settings),
                                   post=reactor.callFromThread,
                                   maxsize=settings.getint("HRARCHIVE_QUEUE_SIZE") * 10)
        return _client


def close_writer_client(timeout: float = 5.0) -> None:
    """Wait a little for the writer's outstanding answers (outcomes for the stats: what
    matters was waited for), then stop listening for them."""
    global _client
    with _client_lock:
        client, _client = _client, None
    if client is not None:
        client.close(timeout)


def deferred(future: Future[T]) -> Deferred[T]:
    """A Deferred fired on the reactor thread once ``future`` is done."""
    from twisted.internet import reactor

    result: Deferred[T] = Deferred()

    def fire(done: Future[T]) -> None:
        error = done.exception()
        if error is not None:
            result.errback(error)
        else:
            result.callback(done.result())

    future.add_done_callback(lambda done: reactor.callFromThread(fire, done))
    return result


def _stop_reactor() -> None:
    from twisted.internet import reactor

    running: Any = reactor  # the installed reactor (typed as the module)
    if running.running:
        running.stop()


async def site_state(settings: Any, site: str, crawl_id: int | None) -> SiteState:
    """What the archive knows of ``site`` (``read_site_state``), asked of the writer."""
    from scrapy.utils.defer import maybe_deferred_to_future

    asked = writer_client(settings).request("site_state", {"site": site, "crawl_id": crawl_id},
                                            timeout=None)
    state: SiteState = await maybe_deferred_to_future(deferred(asked))
    return state


# --- the worker ----------------------------------------------------------------------------
class Worker:
    """Claims and crawls sites of its list in one ``CrawlerProcess`` (module docstring)."""

    def __init__(self, process: CrawlerProcess, profiles: list[SiteProfile], claims: Claims,
                 start: Callable[[Crawler, SiteProfile], Deferred[Any]],
                 make_crawler: Callable[[SiteProfile], Crawler], max_sites: int = 4) -> None:
        self.process = process
        self.profiles = profiles
        self.claims = claims
        self.start_crawl = start
        self.make_crawler = make_crawler
        self.max_sites = max(1, max_sites)
        self.prefix = claims.prefix
        self.running: dict[str, Crawler] = {}
        self.crawled: list[tuple[SiteProfile, Crawler]] = []
        self.stopping = False
        self.reactor_running = False

    def fill(self) -> None:
        """Claim and start sites up to the limit; stop the reactor when none is left."""
        if not self.stopping:
            for profile in self.profiles:
                if len(self.running) >= self.max_sites:
                    break
                if profile.id in self.running or \
                        any(p.id == profile.id for p, _ in self.crawled):
                    continue
                claim = self.claims.claim(profile.id)
                if claim is not None:
                    self._start(profile, claim)
        if not self.running and self.reactor_running:
            self.reactor_running = False
            from twisted.internet import reactor

            reactor.callFromThread(_stop_reactor)  # after the crawl's own callbacks

    def _start(self, profile: SiteProfile, claim: Claim) -> None:
        if not claim.resumed:  # a frontier left by an earlier run is not this run's work
            self.claims.client.delete(*frontier_keys(self.prefix, profile.id))
        elif claim.dead:
            logger.warning("Taking over %s from %s, which died holding it: resuming its "
                           "requests", profile.id, claim.dead)
        else:
            logger.info("Resuming %s where the run left it", profile.id)
        crawler = self.make_crawler(profile)
        spidercls: Any = crawler.spidercls  # a SiteSpider class of its own per crawl
        spidercls.resumed = claim.resumed
        self.running[profile.id] = crawler
        self.crawled.append((profile, crawler))
        done = self.start_crawl(crawler, profile)
        done.addBoth(self._ended, profile, crawler)

    def _ended(self, result: Any, profile: SiteProfile, crawler: Crawler) -> Any:
        self.running.pop(profile.id, None)
        reason = crawler.stats.get_value("finish_reason") if crawler.stats else None
        try:
            if reason == "shutdown" or reason is None:  # stopped: another worker goes on
                self.stopping = True
                self.claims.pause(profile.id)
            else:  # finished for the run, failed or not
                self.claims.finish(profile.id, frontier_keys(self.prefix, profile.id))
        except redis.RedisError:
            logger.exception("Could not record the end of %s in Redis", profile.id)
        self.fill()
        return result


def run_worker(settings: Any, profiles: list[SiteProfile],
               make_crawler: Callable[[CrawlerProcess, SiteProfile], Crawler],
               start: Callable[[CrawlerProcess, Crawler, SiteProfile], Deferred[Any]],
               ) -> list[tuple[SiteProfile, Crawler]]:
    """Run this process as a worker over ``profiles`` until its list is settled; the sites
    it crawled with their crawlers."""
    client = redis.Redis.from_url(str(settings.get("HRARCHIVE_REDIS")), socket_timeout=30,
                                  socket_connect_timeout=30)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise WorkerError(f"cannot reach Redis at {settings.get('HRARCHIVE_REDIS')}: {exc}") \
            from exc
    claims = Claims(client, prefix_of(settings), str(settings.get("HRARCHIVE_RUN")),
                    worker_name(), settings.getfloat("HRARCHIVE_WORKER_TTL"))
    process = CrawlerProcess(settings)
    worker = Worker(process, profiles, claims, lambda c, p: start(process, c, p),
                    lambda p: make_crawler(process, p), settings.getint("HRARCHIVE_WORKER_SITES"))
    claims.start()
    try:
        worker.fill()
        if worker.running:
            worker.reactor_running = True
            process.start(stop_after_crawl=False)
        else:
            logger.info("Nothing to crawl: every site is finished for run %s or held by "
                        "another worker", claims.run)
    finally:
        close_writer_client()
        claims.stop()
    return worker.crawled
