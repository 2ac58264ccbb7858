"""The archive's one writer: a thread that drains a queue of operations into SQLite.

A crawl hands every write to ``ArchiveWriter.put`` and goes on; the writer thread takes
the queued operations in batches (``HRARCHIVE_BATCH_SIZE`` operations, or what arrived
within ``HRARCHIVE_COMMIT_SECONDS``), applies a batch in one transaction (the batch's
stories are full-text indexed together as it commits), acknowledges it, and only then
reports each operation's outcome (``new``, ``changed``, ...) through ``post``, which in a
crawl runs it on the reactor thread.  WARC records are compressed and written by the same
thread, in the order the responses arrived, so a story's capture row always finds the
record it names.

Reads that must see the crawl's own writes (is this URL archived? has its content
changed?) all happen inside the writer, in order, on its one connection, so a story seen
twice in a run, or a teaser then its story, gives the same rows as writing them one by one.

The writer of an archive file is shared by everything in the process that writes to it
(``acquire_writer``/``release_writer``): the spiders of a multi-site crawl, the capture
middleware, ``reparse``.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from hrarchive.extensions.diskfull import is_disk_full
from hrarchive.store.archive import Archive
from hrarchive.store.captures import save_attachment, save_capture
from hrarchive.store.queue import (
    ANNOUNCE,
    ARTICLE,
    ATTACHMENT,
    BARRIER,
    GONE,
    LOCAL,
    NOT_MODIFIED,
    TEASER,
    MemoryQueue,
    Op,
    WriteQueue,
)
from hrarchive.store.state import SiteState

logger = logging.getLogger(__name__)
T = TypeVar("T")
Post = Callable[[Callable[[], None]], None]


class WriterError(RuntimeError):
    """The writer stopped (it could not open or commit to the archive): nothing more is taken."""


class NotCaptured(RuntimeError):
    """A story is not stored because the disk filled before its response's WARC record was
    written: the next run fetches it again, so no story is kept without its capture."""


def _direct(call: Callable[[], None]) -> None:
    call()


def apply(archive: Archive, op: Op) -> Any:
    """Apply one operation to ``archive`` (inside the writer's open batch); its outcome."""
    data = op.data
    if op.kind == ARTICLE:
        failed = getattr(data.get("capture"), "failed", None)
        if is_disk_full(failed):
            raise NotCaptured(f"not stored, its capture failed: {failed}")
        outcome = archive.save_article(data, op.crawl_id)
        captured = bool(data.get("capture")) and save_capture(archive, data, op.crawl_id)
        urls = [u for u in (data.get("canonical_url"), data["url"]) if u]
        back = archive.story_alive(urls, op.crawl_id)  # a takedown ends: it is back
        return outcome, captured, data["url"] if back else None
    if op.kind == TEASER:
        return archive.save_teaser(data, op.crawl_id)
    if op.kind == NOT_MODIFIED:
        outcome = archive.touch_article(data["url"], op.crawl_id, data.get("etag"),
                                        data.get("last_modified"), data.get("announced"))
        back = archive.story_alive([data["url"]], op.crawl_id)
        return outcome, data["url"] if back else None
    if op.kind == ANNOUNCE:
        return archive.announce(data["url"], data["announced"], op.crawl_id)
    if op.kind == GONE:
        return archive.story_gone(data["url"], data["status"], op.crawl_id,
                                  data.get("redirect_to"))
    if op.kind == ATTACHMENT:
        from hrarchive.capture.attachments import keep_file

        sha256, file = keep_file(Path(data["root"]), data["body"], data["url"],
                                 data.get("content_type"))
        return save_attachment(archive, data, sha256, file, op.crawl_id)
    if op.kind in LOCAL and op.data is not None and op.kind != BARRIER:
        return op.data(archive)
    return None


class ArchiveWriter:
    """One thread writing an archive file from a queue (see the module docstring)."""

    def __init__(self, path: str | Path, batch_size: int = 200, commit_seconds: float = 2.0,
                 queue: WriteQueue | None = None, queue_size: int = 1000,
                 post: Post | None = None) -> None:
        self.path = path
        self.batch_size = max(1, batch_size)
        self.commit_seconds = commit_seconds
        self.queue = queue if queue is not None else MemoryQueue(queue_size)
        self.post = post or _direct
        self.error: BaseException | None = None
        self.batches = 0
        self.cpu_seconds = 0.0  # CPU time of the writer thread so far
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hrarchive-writer", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self.error is not None:
            raise WriterError(f"cannot open the archive {path}: {self.error}") from self.error

    # --- the crawl's side -------------------------------------------------------------------
    def put(self, op: Op) -> None:
        """Queue an operation; waits while the queue is full (never drops it)."""
        if self.error is not None:
            raise WriterError(f"the archive writer stopped: {self.error}") from self.error
        self.queue.put(op)

    def call(self, function: Callable[[Archive], T], now: datetime | None = None) -> Future[T]:
        """Run ``function(archive)`` in the writer, after everything queued before it."""
        future: Future[T] = Future()

        def run(archive: Archive) -> None:
            try:
                future.set_result(function(archive))
            except BaseException as exc:
                future.set_exception(exc)

        self.put(Op("call", run, now=now))
        return future

    def flush(self, reply: Callable[[Any], None] | None = None) -> threading.Event:
        """Commit everything queued so far.  The event is set (in the writer thread) once it
        is committed; ``reply`` runs through ``post`` after every earlier outcome."""
        done = threading.Event()
        self.put(Op(BARRIER, done, reply=reply))
        return done

    def close(self, timeout: float | None = None) -> None:
        """Commit everything queued, stop the thread and close the archive."""
        if self._thread.is_alive():
            self.queue.put(Op(BARRIER, "stop"))  # a failed writer still drains to it
            self._thread.join(timeout)

    def is_alive(self) -> bool:
        """Whether the writer thread still runs (it ends after a ``stop`` barrier)."""
        return self._thread.is_alive()

    # --- the writer thread ------------------------------------------------------------------
    def _run(self) -> None:
        try:
            archive = Archive(self.path, batch_size=1 << 62, commit_seconds=float("inf"))
        except BaseException as exc:
            self.error = exc
            return
        finally:
            self._ready.set()
        stop = False
        while not stop:
            batch = self.queue.get_batch(self.batch_size, self.commit_seconds)
            stop = any(op.kind == BARRIER and op.data == "stop" for op in batch)
            if self.error is not None:  # failed earlier: drain, so no put waits for ever
                failed = [(op, self.error) for op in batch]
                self._ack(failed)
                self._deliver(failed)
                continue
            try:
                results = self._apply_batch(archive, batch)
            except BaseException as exc:  # a bug: stop taking work rather than hang the crawl
                logger.exception("The archive writer failed")
                self.error = exc
                results = [(op, exc) for op in batch]
            if self.error is not None and getattr(self.queue, "durable", False):
                break  # the batch stays in the shared queue, for the next writer
            self._ack(results)
            self.batches += 1
            self.cpu_seconds = time.thread_time()
            self._deliver(results)
        try:
            archive.close()
        except Exception:
            logger.exception("Could not close the archive %s", self.path)

    def _ack(self, results: list[tuple[Op, Any]]) -> None:
        """Acknowledge a committed batch; a queue that answers other processes
        (``ack_results``) sends their outcomes in the same step."""
        ack_results = getattr(self.queue, "ack_results", None)
        if ack_results is not None:
            ack_results(results)
        else:
            self.queue.ack([op for op, _ in results])

    def _apply_batch(self, archive: Archive, batch: list[Op]) -> list[tuple[Op, Any]]:
        outcomes = [self._apply(archive, op) for op in batch]
        for attempt in (1, 2, 3):
            try:
                archive.commit()
                return list(zip(batch, outcomes, strict=True))
            except Exception as exc:
                logger.exception("Could not commit a batch of %d to %s (attempt %d)",
                                 len(batch), self.path, attempt)
                archive.rollback()
                if attempt == 3:
                    self.error = exc
                    return [(op, exc) for op in batch]
                time.sleep(attempt)
                # again, the archive's part only (WARC records and calls are done; a
                # request of another process is only writes in this batch: again too)
                outcomes = [self._apply(archive, op)
                            if op.kind not in LOCAL or op.id is not None else outcome
                            for op, outcome in zip(batch, outcomes, strict=True)]
        raise AssertionError("unreachable")

    def _apply(self, archive: Archive, op: Op) -> Any:
        if op.id is None:
            return self._apply_now(archive, op)
        # an operation from another process: at most once per archive, in the same
        # transaction as its writes (one handed out again after a kill returns its outcome)
        from hrarchive.cluster.codec import decode_outcome, encode_outcome

        done = archive.db.execute("select outcome from applied_ops where id = ?",
                                  [op.id]).fetchone()
        if done is not None and done[0] is not None:
            return decode_outcome(done[0])
        outcome = self._apply_now(archive, op)
        # a read (a site's state) is not kept: asked again, it is answered anew
        kept = None if isinstance(outcome, SiteState) else encode_outcome(outcome)
        archive._begin()
        archive.db.execute("insert or replace into applied_ops (id, outcome) values (?, ?)",
                           [op.id, kept])
        return outcome

    def _apply_now(self, archive: Archive, op: Op) -> Any:
        archive.as_of = op.now
        try:
            return apply(archive, op)
        except NotCaptured as exc:
            logger.warning("Story %s %s", _name(op), exc)
            return exc
        except Exception as exc:
            logger.exception("Could not write %s %s", op.kind, _name(op))
            return exc
        finally:
            archive.as_of = None

    def _deliver(self, results: list[tuple[Op, Any]]) -> None:
        for op, _ in results:
            if op.kind == BARRIER and isinstance(op.data, threading.Event):
                op.data.set()
        replies = [(op.reply, outcome) for op, outcome in results if op.reply is not None]
        if not replies:
            return

        def deliver() -> None:
            for reply, outcome in replies:
                try:
                    reply(outcome)
                except Exception:
                    logger.exception("Could not report a write's outcome")

        try:
            self.post(deliver)
        except Exception:  # the reactor is gone (a forced stop): nobody to tell
            logger.debug("Outcomes of %d writes not reported", len(replies))


def _name(op: Op) -> str:
    return str(op.data.get("url")) if isinstance(op.data, dict) else ""


_shared: dict[str, tuple[ArchiveWriter, int]] = {}
_shared_lock = threading.Lock()


def acquire_writer(path: str | Path, **options: Any) -> ArchiveWriter:
    """The one writer of an archive file in this process; pair with ``release_writer``."""
    key = str(path) if str(path) == ":memory:" else str(Path(path).resolve())
    with _shared_lock:
        writer, users = _shared.get(key) or (None, 0)
        if writer is None or writer.error is not None or not writer._thread.is_alive():
            writer, users = ArchiveWriter(path, **options), 0
        _shared[key] = (writer, users + 1)
    return writer


def release_writer(writer: ArchiveWriter) -> None:
    """Drop one use; the last one commits everything queued and stops the writer."""
    with _shared_lock:
        for key, (shared, users) in list(_shared.items()):
            if shared is writer:
                if users > 1:
                    _shared[key] = (shared, users - 1)
                    return
                del _shared[key]
    writer.close()


@atexit.register
def _close_all() -> None:
    """At exit (after a forced stop, say), commit what every writer still holds."""
    for writer, _ in list(_shared.values()):
        writer.close(timeout=60)
    _shared.clear()
