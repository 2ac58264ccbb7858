"""The queue between a crawl and the archive's one writer.

Spiders and pipelines ``put`` operations (a story, a teaser, a 304, a takedown, an
attachment, a WARC record to write); the writer takes them with ``get_batch``, applies a
batch in one transaction and only then ``ack``\\ s it.  What is put is applied in the
order it was put.

- ``put`` blocks while the queue holds ``maxsize`` operations not yet acknowledged
  (back-pressure: the crawl waits for the writer, nothing is dropped).
- ``get_batch`` hands out the oldest operations not yet handed out: it waits for the
  first, then up to ``max_wait`` seconds for more, up to ``max_items``; a ``barrier`` or
  ``call`` operation (someone waits for it) ends the batch it is in.
- ``ack`` says a batch is committed: its operations leave the queue and free their room.

A SIGKILL loses what is put and not acknowledged (the re-run recovers it: see the README's
"Survives being killed").  ``MemoryQueue`` is the in-process implementation; a queue shared
by several crawler processes keeps the same three calls (``put`` pushes to a shared list,
``get_batch`` moves operations to a processing list, ``ack`` removes them from it, and
operations still in the processing list after a writer's death are handed out again:
applying one twice changes nothing but ``last_seen``).  Operations of kinds in ``LOCAL``
carry live objects (a WARC writer, a function) and never leave their process.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

# Kinds of operation.  Plain data: what the archive is told.
ARTICLE, TEASER, NOT_MODIFIED, ATTACHMENT = "article", "teaser", "not_modified", "attachment"
GONE = "gone"  # a revalidated story that its site no longer serves (a takedown)
ANNOUNCE = "announce"  # a sitemap/feed date for a story already fetched in this run
# Local to the process: write a WARC record, run a function with the archive, end a batch.
WARC, CALL, BARRIER = "warc", "call", "barrier"
LOCAL = frozenset({WARC, CALL, BARRIER})
ENDS_BATCH = frozenset({CALL, BARRIER})  # someone waits for these: no waiting for more


@dataclass(eq=False)
class Op:
    """One operation for the writer.

    ``data``: the item as a dict (or, for local kinds, what the handler needs); ``now``: when
    it happened (the archive's first_seen, last_seen, the WARC-Date), taken when it was put;
    ``reply``: called with the outcome (``new``, ``changed``, ... or the exception) once the
    operation is committed, through the writer's ``post`` (on the reactor thread in a crawl).
    ``id``: a unique name for an operation that crosses processes (``hrarchive.cluster``), so
    the writer applies it at most once; ``reply_to``: the Redis list its outcome goes to.
    """

    kind: str
    data: Any = None
    crawl_id: int | None = None
    now: datetime | None = None
    reply: Callable[[Any], None] | None = field(default=None, repr=False)
    id: str | None = None
    reply_to: str | None = None


class WriteQueue(Protocol):
    """What the writer needs of a queue (see the module docstring for the contract)."""

    def put(self, op: Op) -> None: ...

    def get_batch(self, max_items: int, max_wait: float) -> list[Op]: ...

    def ack(self, ops: list[Op]) -> None: ...


class MemoryQueue:
    """A bounded in-process queue: ``put`` from the crawl's thread, the rest from the writer's."""

    def __init__(self, maxsize: int = 1000) -> None:
        self.maxsize = max(1, maxsize)
        self._ops: deque[Op] = deque()
        self._unacked = 0  # put and not yet acknowledged: queued, or in the writer's batch
        self._lock = threading.Lock()
        self._not_full = threading.Condition(self._lock)
        self._not_empty = threading.Condition(self._lock)
        self.waits = 0  # how many puts had to wait for room (back-pressure), for the stats

    def put(self, op: Op) -> None:
        with self._not_full:
            if self._unacked >= self.maxsize:
                self.waits += 1
                while self._unacked >= self.maxsize:
                    self._not_full.wait()
            self._ops.append(op)
            self._unacked += 1
            self._not_empty.notify()

    def get_batch(self, max_items: int, max_wait: float) -> list[Op]:
        batch: list[Op] = []
        with self._not_empty:
            while not self._ops:
                self._not_empty.wait()
            deadline = time.monotonic() + max_wait
            while len(batch) < max_items:
                if not self._ops:
                    left = deadline - time.monotonic()
                    if left <= 0 or not self._not_empty.wait(left):
                        break
                    continue
                op = self._ops.popleft()
                batch.append(op)
                if op.kind in ENDS_BATCH:
                    break
        return batch

    def ack(self, ops: list[Op]) -> None:
        with self._not_full:
            self._unacked -= len(ops)
            self._not_full.notify_all()

    def __len__(self) -> int:
        return self._unacked
