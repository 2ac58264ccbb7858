"""``hrarchive writer``: the one process that writes the archive for crawler workers.

It drains the Redis queue the workers of ``hrarchive crawl --redis`` fill
(``hrarchive.cluster.redisqueue``) with the archive's writer thread
(``hrarchive.store.writer.ArchiveWriter``), answers their named requests, publishes each
site's state, and records a worker whose heartbeat lapsed.  One writer per prefix: a
``{prefix}:writer`` key names the live one.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
import time
from types import FrameType
from typing import Any

import click
import psutil
import redis

from hrarchive.capture.attachments import attachments_root
from hrarchive.cluster.redisqueue import RedisQueue, connect
from hrarchive.cluster.requests import Context, check_workers, forget_applied, translator
from hrarchive.commands import DB_OPTION, project_settings
from hrarchive.store.guard import ArchiveError, check_archive
from hrarchive.store.state import process_alive
from hrarchive.store.writer import ArchiveWriter, WriterError

logger = logging.getLogger("hrarchive.writer")
LOCK_SECONDS = 30  # the {prefix}:writer key outlives a killed writer by at most this


def _me() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid(),
            "started": psutil.Process().create_time()}


def take_lock(client: redis.Redis, prefix: str) -> str:
    """Become the prefix's one writer (a killed writer on this host is taken over)."""
    key, mine = f"{prefix}:writer", json.dumps(_me())
    if client.set(key, mine, nx=True, ex=LOCK_SECONDS):
        return mine
    held = client.get(key)
    try:
        other = json.loads(held or "{}")
    except ValueError:
        other = {}
    if other.get("host") == socket.gethostname() and \
            not process_alive(other.get("pid"), other.get("host"), other.get("started")):
        client.set(key, mine, ex=LOCK_SECONDS)
        return mine
    raise click.ClickException(
        f"another writer (process {other.get('pid')} on {other.get('host')}) drains "
        f"{prefix}:ops; stop it first, or use another --prefix (it lapses {LOCK_SECONDS} s "
        "after that writer is killed)")


def renew_lock(client: redis.Redis, prefix: str, mine: str) -> None:
    key = f"{prefix}:writer"
    if client.get(key) in (mine.encode(), mine):
        client.expire(key, LOCK_SECONDS)
    else:
        client.set(key, mine, ex=LOCK_SECONDS)


def release_lock(client: redis.Redis, prefix: str, mine: str) -> None:
    key = f"{prefix}:writer"
    if client.get(key) in (mine.encode(), mine):
        client.delete(key)


@click.command()
@click.option("--redis", "redis_url", required=True, metavar="URL",
              help="Redis the workers share, redis://HOST:PORT/N.")
@DB_OPTION
@click.option("--prefix", default=None,
              help="Prefix of the Redis keys, as the workers' (default: the "
                   "HRARCHIVE_REDIS_PREFIX setting, else hrarchive).")
@click.option("--heartbeat-check", type=float, default=5.0, show_default=True, metavar="SECONDS",
              help="How often to look for workers whose heartbeat lapsed.")
@click.option("--log-every", type=int, default=100, show_default=True, metavar="N",
              help="Log a progress line every N committed batches.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Override a setting (HRARCHIVE_BATCH_SIZE, HRARCHIVE_COMMIT_SECONDS, ...).")
def writer(redis_url: str, db: str | None, prefix: str | None, heartbeat_check: float,
           log_every: int, overrides: tuple[str, ...]) -> None:
    """Write the archive for crawler workers (hrarchive crawl --redis): the only process
    that opens the archive file. It commits the workers' items in batches, answers their
    requests, and records a worker that died. Stop it with SIGTERM: it commits what is
    queued and exits 0 (a second SIGTERM: it commits the batch in hand and exits 1; what is
    left stays queued in Redis for the next writer).

    \b
    Examples:
      hrarchive writer --redis redis://127.0.0.1:6379/0 --db archive.db
      hrarchive writer --redis redis://queue.example:6379/2 --db /srv/hr/archive.db --prefix hr
    """
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s [%(name)s] %(levelname)s: %(message)s")
    settings: Any = project_settings(db, overrides)
    path = settings.get("HRARCHIVE_DB")
    prefix = prefix or settings.get("HRARCHIVE_REDIS_PREFIX") or "hrarchive"
    try:
        check_archive(path, workers_write=True)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from exc
    client = connect(redis_url)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise click.ClickException(f"cannot reach Redis at {redis_url}: {exc}") from exc
    mine = take_lock(client, prefix)
    try:
        code = _run(client, prefix, path, settings, heartbeat_check, log_every, mine)
    finally:
        release_lock(client, prefix, mine)
    sys.exit(code)


def _run(client: redis.Redis, prefix: str, path: str, settings: Any, heartbeat_check: float,
         log_every: int, mine: str) -> int:
    queue = RedisQueue(client, prefix,
                       translate=translator(client, prefix, attachments_root(settings)))
    try:
        archive_writer = ArchiveWriter(path, settings.getint("HRARCHIVE_BATCH_SIZE"),
                                       settings.getfloat("HRARCHIVE_COMMIT_SECONDS"), queue=queue)
    except WriterError as exc:
        raise click.ClickException(str(exc)) from exc
    signals: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        signals.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info("Writing %s from %s:ops", path, prefix)
    context = Context(client, prefix)
    handled, logged = 0, 0
    last_check = last_lock = last_forget = time.monotonic()
    while archive_writer.is_alive():
        time.sleep(0.1)
        if archive_writer.batches - logged >= log_every:
            logged = archive_writer.batches
            logger.info("%d batches committed, %d operations taken, %d queued",
                        archive_writer.batches, queue.taken, queue.depth())
        if len(signals) > handled:
            handled = len(signals)
            queue.stop(drain=handled == 1)
            logger.info("Stopping: %s", "committing what is queued" if handled == 1
                        else "committing the batch in hand")
            continue
        if handled:
            continue
        now = time.monotonic()
        try:
            if now - last_lock >= LOCK_SECONDS / 3:
                renew_lock(client, prefix, mine)
                last_lock = now
            if now - last_check >= heartbeat_check:
                archive_writer.call(lambda archive: check_workers(archive, context))
                last_check = now
            if now - last_forget >= 60:
                archive_writer.call(lambda archive: forget_applied(archive, context,
                                                                   queue.processing_key))
                last_forget = now
        except WriterError:
            break
        except redis.RedisError as exc:
            logger.warning("Redis: %s", exc)
    archive_writer.close()
    logger.info("Stopped after %d batches, %d operations", archive_writer.batches, queue.taken)
    if archive_writer.error is not None:
        logger.error("The writer failed: %s", archive_writer.error)
        return 1
    if not handled:
        logger.error("The writer stopped unasked")
        return 1
    return 1 if handled > 1 else 0
