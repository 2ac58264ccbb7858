"""A crawler worker's side of ``hrarchive writer``: put operations, ask named requests.

API (stable; the workers' StorePipeline, spider and capture middleware use it)::

    client = WriterClient(url, prefix="hrarchive", post=None, maxsize=10000)
    client.put(op)                  # Op of hrarchive.store.queue; not a LOCAL kind
    future = client.request(kind, data, timeout=60.0)   # concurrent.futures.Future
    future = client.flush(reply=None)   # done once everything put before it is committed
    client.close(timeout=60.0)      # waits for outstanding answers, stops the reply thread
    client.waits                    # puts that had to wait for room (back-pressure)
    worker_key(prefix, name)        # the heartbeat key the writer checks: {p}:worker:{name}

``put`` gives the operation an ``id`` (unless it has one) and pushes it to ``{p}:ops``,
waiting while the queue is full (never dropping it).  If ``op.reply`` is set, the writer's
answer (the outcome ``apply`` returned: ``new``, ``("new", True, None)`` as a list, or the
exception) comes back on this client's reply list ``{p}:reply:{uuid}`` after the commit,
and a background thread calls ``op.reply(outcome)`` through ``post`` (e.g.
``reactor.callFromThread``; by default in that thread).

Named requests (``request(kind, data)``), answered after everything put before them is
committed; the future's result is the answer (an exception is set as the future's
exception; ``TimeoutError`` when no answer came within ``timeout`` seconds):

- ``save_site``: ``data`` is the ``sites`` row (id, name, base_url, languages,
  profile_path); answer ``None``.
- ``start_crawl``: ``site``, ``run``, ``worker`` (``host:pid``) and optionally ``options``,
  ``log_file``, ``mode``, ``pid``, ``host``, ``process_started``; answer the crawl id of the
  one ``crawls`` row of (site, run), the worker added to its ``workers``.
- ``finish_crawl``: ``crawl_id``, ``status``, ``reason``, ``counts``, ``stats``, ``worker``;
  answer ``None``.  Counts add up over the workers of the row.
- ``interrupt_crawl``: ``crawl_id``, ``reason``, ``worker``; answer ``None``.
- ``site_state``: ``site``, ``crawl_id``; answer the
  :class:`~hrarchive.store.state.SiteState` (also kept as JSON at ``{p}:state:{site}``).
- ``flush``: no data; answer ``None``.

A worker sets its heartbeat ``worker_key(prefix, name)`` (with a TTL, renewed) before
``start_crawl``; the writer records a worker whose heartbeat lapsed while it held a site as
``died`` on the crawl row.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any

import redis

from hrarchive.cluster.codec import CodecError, decode_reply
from hrarchive.cluster.redisqueue import RedisQueue, connect
from hrarchive.store.queue import Op

logger = logging.getLogger(__name__)
Post = Callable[[Callable[[], None]], None]

REQUESTS = frozenset({"save_site", "start_crawl", "finish_crawl", "interrupt_crawl",
                      "site_state", "flush"})


def worker_key(prefix: str, name: str) -> str:
    """The heartbeat key of worker ``name``."""
    return f"{prefix}:worker:{name}"


def state_key(prefix: str, site: str) -> str:
    """Where the writer keeps the latest published SiteState of ``site``."""
    return f"{prefix}:state:{site}"


def _direct(call: Callable[[], None]) -> None:
    call()


class _Waiting:
    """An answer this client waits for: a reply function, a future, or both."""

    def __init__(self, reply: Callable[[Any], None] | None, future: Future[Any] | None,
                 deadline: float | None) -> None:
        self.reply, self.future, self.deadline = reply, future, deadline


class WriterClient:
    """Puts operations for ``hrarchive writer`` and routes its answers (module docstring)."""

    def __init__(self, url: str | redis.Redis, prefix: str = "hrarchive",
                 post: Post | None = None, maxsize: int = 10000) -> None:
        self.redis = connect(url)
        self.prefix = prefix
        self.post = post or _direct
        self.queue = RedisQueue(self.redis, prefix, maxsize)
        self.reply_key = f"{prefix}:reply:{uuid.uuid4().hex}"
        self._waiting: dict[str, _Waiting] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def waits(self) -> int:
        return self.queue.waits

    def pending(self) -> int:
        """Answers not yet received."""
        with self._lock:
            return len(self._waiting)

    # --- sending ------------------------------------------------------------------------------
    def put(self, op: Op) -> None:
        """Push ``op`` to the writer (waits while the queue is full); its outcome goes to
        ``op.reply`` through ``post`` once committed, if ``op.reply`` is set."""
        if op.id is None:
            op.id = uuid.uuid4().hex
        if op.reply is not None:
            op.reply_to = self.reply_key
            self._wait(op.id, _Waiting(op.reply, None, None))
        try:
            self.queue.put(op)
        except BaseException:
            with self._lock:
                self._waiting.pop(op.id, None)
            raise

    def request(self, kind: str, data: Mapping[str, Any] | None = None,
                timeout: float | None = 60.0, now: datetime | None = None) -> Future[Any]:
        """Ask the writer a named request (module docstring); the future holds the answer."""
        if kind not in REQUESTS:
            raise ValueError(f"unknown request {kind!r}; one of {', '.join(sorted(REQUESTS))}")
        future: Future[Any] = Future()
        op = Op(kind, dict(data or {}), now=now or datetime.now(UTC), id=uuid.uuid4().hex,
                reply_to=self.reply_key)
        deadline = None if timeout is None else time.monotonic() + timeout
        assert op.id is not None
        self._wait(op.id, _Waiting(None, future, deadline))
        try:
            self.queue.put(op)
        except BaseException as exc:
            with self._lock:
                self._waiting.pop(op.id, None)
            future.set_exception(exc)
        return future

    def flush(self, reply: Callable[[Any], None] | None = None,
              timeout: float | None = None) -> Future[Any]:
        """Done once everything put before it is committed; ``reply(None)`` then runs
        through ``post``."""
        future = self.request("flush", timeout=timeout)
        if reply is not None:
            def done(f: Future[Any]) -> None:
                outcome = f.exception() or f.result()
                self.post(lambda: reply(outcome))
            future.add_done_callback(done)
        return future

    def close(self, timeout: float | None = 60.0) -> None:
        """Wait (up to ``timeout`` seconds) for the answers still due, then stop."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.pending() and (deadline is None or time.monotonic() < deadline):
            if self._thread is None or not self._thread.is_alive():
                break
            time.sleep(0.02)
        if self.pending():
            logger.warning("%d answers of the writer not received", self.pending())
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    # --- answers ------------------------------------------------------------------------------
    def _wait(self, op_id: str, waiting: _Waiting) -> None:
        with self._lock:
            self._waiting[op_id] = waiting
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._listen, daemon=True,
                                                name="hrarchive-writer-replies")
                self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                got = self.redis.blpop([self.reply_key], timeout=0.5)
            except redis.ConnectionError:
                logger.warning("Redis unreachable, waiting for the writer's answers")
                time.sleep(1)
                continue
            if got is not None:
                self._answer(got[1])
            self._expire()

    def _answer(self, raw: bytes | str) -> None:
        try:
            op_id, outcome = decode_reply(raw)
        except CodecError as exc:
            logger.error("An answer of the writer cannot be read: %s", exc)
            return
        with self._lock:
            waiting = self._waiting.pop(op_id, None)
        if waiting is None:
            return  # answered twice (a writer restarted after committing), or timed out
        if waiting.future is not None and not waiting.future.done():
            if isinstance(outcome, BaseException):
                waiting.future.set_exception(outcome)
            else:
                waiting.future.set_result(outcome)
        if waiting.reply is not None:
            reply = waiting.reply
            try:
                self.post(lambda: reply(outcome))
            except Exception:  # the reactor is gone: nobody to tell
                logger.debug("An outcome of the writer not reported")

    def _expire(self) -> None:
        now = time.monotonic()
        with self._lock:
            late = [(op_id, w) for op_id, w in self._waiting.items()
                    if w.deadline is not None and w.deadline < now]
            for op_id, _ in late:
                del self._waiting[op_id]
        for _, waiting in late:
            if waiting.future is not None and not waiting.future.done():
                waiting.future.set_exception(TimeoutError("no answer from hrarchive writer"))
