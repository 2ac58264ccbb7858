"""The writer's queue in Redis: many crawler processes put, one ``hrarchive writer`` takes.

Keys (``p`` is the prefix, ``hrarchive`` by default):

- ``{p}:ops``: encoded operations (``hrarchive.cluster.codec``), oldest first; ``put``
  RPUSHes one, waiting while ``{p}:ops`` and ``{p}:processing`` together hold ``maxsize``
  (back-pressure: a crawl waits for the writer, nothing is dropped).
- ``{p}:processing``: the writer's batch in flight.  ``get_batch`` moves operations there
  (BLMOVE for the first, then a script that moves up to a batch at once); ``ack_results``
  removes them once the batch is committed and, in the same transaction, pushes each answer
  to its ``reply_to`` list (expiring in an hour).  A writer killed before acknowledging
  leaves its batch there: the next writer's first batch is that list, applied again (the
  writer skips operation ids it already applied, see ``applied_ops``).
- ``{p}:bad``: raw elements that do not decode, kept for a person to read.

The writer's own process puts ``LOCAL`` operations (a stop, a function to run) on an
in-memory list, handed out before what waits in Redis.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

import redis

from hrarchive.cluster.codec import CodecError, decode, encode, encode_reply
from hrarchive.store.queue import BARRIER, ENDS_BATCH, LOCAL, Op

logger = logging.getLogger(__name__)

REPLY_SECONDS = 3600  # how long an answer waits in its reply list
BAD = "undecodable"  # the kind of an element of {p}:ops that did not decode

# Push only while ops + processing hold fewer than ARGV[2] (one step: producers never overshoot).
_PUT = """
if redis.call('LLEN', KEYS[1]) + redis.call('LLEN', KEYS[2]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('RPUSH', KEYS[1], ARGV[1])
return 1
"""
# Move up to ARGV[1] elements from the head of KEYS[1] to the tail of KEYS[2], in one step.
_MOVE = """
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items > 0 then
  redis.call('LTRIM', KEYS[1], #items, -1)
  redis.call('RPUSH', KEYS[2], unpack(items))
end
return items
"""
MOVE_AT_ONCE = 500
PUT_RETRY_SECONDS = 60  # a script's unpack() takes a few thousand arguments at most


def connect(url: str | redis.Redis) -> redis.Redis:
    """A Redis client for ``url`` (``redis://HOST:PORT/N``), or the client given."""
    if isinstance(url, redis.Redis):
        return url
    return redis.Redis.from_url(url, health_check_interval=30)


def keys(prefix: str) -> tuple[str, str]:
    """The operations list and the processing list of ``prefix``."""
    return f"{prefix}:ops", f"{prefix}:processing"


Translate = Callable[[Op], Op]


class RedisQueue:
    """A :class:`~hrarchive.store.queue.WriteQueue` over Redis lists (module docstring).

    ``translate`` turns a decoded operation into what the writer applies (the named
    requests of ``hrarchive.cluster.requests`` become functions of the archive).
    """

    durable = True  # what a failed writer took stays here for the next one (not dropped)

    def __init__(self, url: str | redis.Redis, prefix: str = "hrarchive", maxsize: int = 10000,
                 translate: Translate | None = None, poll: float = 0.2) -> None:
        self.redis = connect(url)
        self.prefix = prefix
        self.ops_key, self.processing_key = keys(prefix)
        self.bad_key = f"{prefix}:bad"
        self.maxsize = max(1, maxsize)
        self.translate = translate or (lambda op: op)
        self.poll = poll
        self.waits = 0  # puts that had to wait for room
        self.taken = 0  # operations handed out from Redis
        self._put = self.redis.register_script(_PUT)
        self._move = self.redis.register_script(_MOVE)
        self._local: deque[Op] = deque()
        self._local_lock = threading.Lock()
        self._raw: dict[int, bytes | str] = {}  # id(op) -> its element in the processing list
        self._recovered = False
        self._drain_left: int | None = None  # stopping: operations still to take
        self._stop_now = False

    # --- producers ----------------------------------------------------------------------------
    def put(self, op: Op) -> None:
        """Queue ``op``: a ``LOCAL`` one in this process, any other in Redis (given an id if
        it has none); waits while the queue is full."""
        if op.kind in LOCAL:
            with self._local_lock:
                self._local.append(op)
            return
        if op.id is None:
            op.id = uuid.uuid4().hex
        self.push(encode(op))

    def push(self, raw: bytes) -> None:
        """Append one encoded operation, waiting (never dropping it) while the queue is full."""
        pause, waited, unreachable = 0.005, False, 0.0
        while True:
            try:
                if self._put(keys=[self.ops_key, self.processing_key],
                             args=[raw, self.maxsize]):
                    return
            except redis.ConnectionError:  # Redis restarting: wait a minute, then say so
                if unreachable >= PUT_RETRY_SECONDS:
                    raise
                logger.warning("Redis unreachable, putting again in 1 s")
                unreachable += 1
                time.sleep(1)
                continue
            if not waited:
                self.waits += 1
                waited = True
            time.sleep(pause)
            pause = min(pause * 2, 0.2)

    def depth(self) -> int:
        """Operations queued or in the writer's batch."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.llen(self.ops_key)
        pipe.llen(self.processing_key)
        queued, processing = pipe.execute()
        return int(queued) + int(processing)

    # --- the writer ----------------------------------------------------------------------------
    def stop(self, drain: bool = True) -> None:
        """Hand out a ``stop`` barrier: after the operations queued now (``drain``), or after
        the batch in hand."""
        if drain and not self._stop_now:
            self._drain_left = int(self.redis.llen(self.ops_key))
        else:
            self._stop_now = True

    def _stopping(self) -> bool:
        return self._stop_now or self._drain_left == 0

    def _take_local(self) -> list[Op]:
        batch: list[Op] = []
        with self._local_lock:
            while self._local:
                op = self._local.popleft()
                batch.append(op)
                if op.kind in ENDS_BATCH:
                    break
        return batch

    def _decode(self, raw: bytes | str) -> Op:
        try:
            op = self.translate(decode(raw))
            if op.id is None or (op.kind in LOCAL and op.data == "stop"):
                raise CodecError("an operation from another process cannot stop the writer")
        except (CodecError, ValueError, TypeError) as exc:
            logger.error("An operation in %s cannot be read (kept in %s): %s",
                         self.ops_key, self.bad_key, exc)
            op = Op(BAD, None)
        self._raw[id(op)] = raw
        return op

    def _limit(self, count: int) -> int:
        return count if self._drain_left is None else min(count, self._drain_left)

    def _moved(self, raws: list[bytes | str]) -> list[Op]:
        self.taken += len(raws)
        if self._drain_left is not None:
            self._drain_left = max(0, self._drain_left - len(raws))
        return [self._decode(raw) for raw in raws]

    def recover(self) -> list[Op]:
        """What a killed writer left in the processing list (handed out first, once)."""
        raws = self.redis.lrange(self.processing_key, 0, -1)
        self._recovered = True
        held = set(self._raw.values())  # in this writer's hand already (not yet acknowledged)
        raws = [raw for raw in raws if raw not in held]
        if raws:
            logger.warning("Applying again the %d operations a stopped writer left in %s",
                           len(raws), self.processing_key)
        self.taken += len(raws)
        return [self._decode(raw) for raw in raws]

    def _wait_move(self, seconds: float) -> bytes | str | None:
        """BLMOVE one operation to the processing list, waiting up to ``seconds``."""
        # Redis takes a fractional timeout (6.0+); redis-py's hint says int
        timeout: Any = max(seconds, 0.01)
        raw: bytes | str | None = self.redis.blmove(self.ops_key, self.processing_key, timeout,
                                                    "LEFT", "RIGHT")
        return raw

    def get_batch(self, max_items: int, max_wait: float) -> list[Op]:
        while True:
            try:
                if not self._recovered:
                    batch = self.recover()
                    if batch:
                        return batch
                return self._get_batch(max_items, max_wait)
            except redis.ConnectionError as exc:
                # an operation may have moved without our knowing: read the list again
                logger.warning("Redis unreachable, trying again in 1 s: %s", exc)
                self._recovered = False
                self._raw.clear()
                time.sleep(1)

    def _get_batch(self, max_items: int, max_wait: float) -> list[Op]:
        while True:  # the first operation
            local = self._take_local()
            if local:
                return local
            if self._stopping():
                return [Op(BARRIER, "stop")]
            limit = self._limit(1)
            raw = self._wait_move(self.poll) if limit else None
            if raw is not None:
                break
        batch = self._moved([raw])
        deadline = time.monotonic() + max_wait
        while len(batch) < max_items and not any(op.kind in ENDS_BATCH for op in batch):
            if self._stop_now or self._local:
                break
            limit = self._limit(min(max_items - len(batch), MOVE_AT_ONCE))
            if not limit:
                break
            try:
                raws = self._move(keys=[self.ops_key, self.processing_key], args=[limit])
                if not raws:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    raw = self._wait_move(min(left, self.poll))
                    raws = [raw] if raw is not None else []
            except redis.ConnectionError as exc:  # commit what is in hand
                logger.warning("Redis unreachable while taking a batch: %s", exc)
                self._recovered = False  # what moved unseen is read again next time
                break
            batch += self._moved(raws)
        return batch

    def ack(self, ops: list[Op]) -> None:
        self.ack_results([(op, None) for op in ops])

    def ack_results(self, results: list[tuple[Op, Any]]) -> None:
        """The batch is committed: remove it from the processing list and send the answers,
        in one transaction (retried while Redis is unreachable)."""
        steps: list[tuple[str, tuple[Any, ...]]] = []
        taken = []
        for op, outcome in results:
            raw = self._raw.get(id(op))
            if raw is None:
                continue  # a local operation
            taken.append(id(op))
            steps.append(("lrem", (self.processing_key, 1, raw)))
            if op.kind == BAD:
                steps.append(("rpush", (self.bad_key, raw)))
            elif op.reply_to and op.id:
                steps.append(("rpush", (op.reply_to, encode_reply(op.id, outcome))))
                steps.append(("expire", (op.reply_to, REPLY_SECONDS)))
        if not taken:
            return
        for attempt in range(1, 31):
            pipe = self.redis.pipeline(transaction=True)
            for name, args in steps:
                getattr(pipe, name)(*args)
            try:
                pipe.execute()
                break
            except redis.ConnectionError:
                if attempt == 30:
                    raise
                logger.warning("Redis unreachable, acknowledging again in 1 s (attempt %d)",
                               attempt)
                time.sleep(1)
        for key in taken:
            self._raw.pop(key, None)

    def __len__(self) -> int:
        return self.depth()
