"""The writer's side of the named requests of ``hrarchive.cluster.client`` and its check of
the workers' heartbeats.

Each request becomes a ``call`` operation (a function of the archive, run in order with the
data operations and ending its batch); ``flush`` becomes a barrier.  One ``crawls`` row
serves a site and run whatever the number of workers: ``start_crawl`` opens it or joins it,
its ``workers`` column lists each worker with its status (``running``, ``done``,
``interrupted``, ``died``).  A worker whose heartbeat key lapsed while it was ``running`` on
a row is ``died``; a row left with no running worker is ``interrupted`` until a worker joins
it again (the site's frontier waits in Redis for the next claim).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from hrarchive.cluster.client import worker_key
from hrarchive.cluster.codec import CodecError
from hrarchive.cluster.publish import publish_state
from hrarchive.store.archive import Archive
from hrarchive.store.queries import crawl_workers
from hrarchive.store.queue import (
    ANNOUNCE,
    ARTICLE,
    ATTACHMENT,
    BARRIER,
    CALL,
    GONE,
    NOT_MODIFIED,
    TEASER,
    Op,
)
from hrarchive.store.state import SiteState, load_site_state, mark_interrupted, reap_crawls

logger = logging.getLogger(__name__)
DATA_KINDS = frozenset({ARTICLE, TEASER, NOT_MODIFIED, ATTACHMENT, GONE, ANNOUNCE})
SITE_COLUMNS = ("id", "name", "base_url", "languages", "profile_path")
Handler = Callable[[Archive, dict[str, Any], "Context"], Any]


class Context:
    """What the handlers need besides the archive: Redis and the key prefix."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.redis, self.prefix = client, prefix


def _set_worker(workers: list[dict[str, Any]], name: str, **changes: Any) -> None:
    for entry in workers:
        if entry.get("name") == name:
            entry.update(changes)
            return
    workers.append({"name": name, **changes})


def _row(archive: Archive, crawl_id: int) -> dict[str, Any]:
    cursor = archive.db.execute("select * from crawls where id = ?", [crawl_id])
    row = cursor.fetchone()
    if row is None:
        raise LookupError(f"no crawl {crawl_id} in the archive")
    return dict(zip([d[0] for d in cursor.description], row, strict=True))


def save_site(archive: Archive, data: dict[str, Any], _: Context) -> None:
    archive.save_site({k: data.get(k) for k in SITE_COLUMNS})


# The crawl handlers write inside the writer's open batch (no commit of their own), so a
# request's writes and its id in applied_ops are committed together: applied at most once.
def start_crawl(archive: Archive, data: dict[str, Any], _: Context) -> int:
    """The crawl id of (site, run), opened or joined by ``worker``."""
    site, run, worker = str(data["site"]), str(data["run"]), str(data["worker"])
    archive._begin()
    now = archive._now()
    found = archive.db.execute("select id from crawls where site = ? and run = ? "
                               "order by id desc limit 1", [site, run]).fetchone()
    process = {k: data.get(k) for k in ("pid", "host", "process_started")}
    if found is None:
        reap_crawls(archive.db, site)  # the site's single-process runs that were killed
        crawl_id = archive._insert("crawls", {
            "site": site, "started": now, "status": "running",
            "options": json.dumps(dict(data.get("options") or {}), sort_keys=True),
            "log_file": data.get("log_file"), "mode": data.get("mode"), "run": run,
            "workers": json.dumps([{"name": worker, "joined": now, "status": "running"}]),
            **process})
        assert isinstance(crawl_id, int)
        return crawl_id
    crawl_id = int(found[0])
    workers = crawl_workers(_row(archive, crawl_id)["workers"])
    _set_worker(workers, worker, joined=now, status="running", ended=None)
    archive._update("crawls", crawl_id, {"workers": json.dumps(workers), "status": "running",
                                         "finished": None, **process})
    return crawl_id


def finish_crawl(archive: Archive, data: dict[str, Any], _: Context) -> None:
    """The site is done for the run: the row ends; counts add to what other workers had."""
    crawl_id = int(data["crawl_id"])
    archive._begin()
    row = _row(archive, crawl_id)
    changes: dict[str, Any] = {}
    for key, value in dict(data.get("counts") or {}).items():
        if key not in row:
            continue
        before = row[key]
        changes[key] = before + value if isinstance(before, int) and \
            isinstance(value, int) and not isinstance(value, bool) else value
    workers = crawl_workers(row["workers"])
    if data.get("worker"):
        _set_worker(workers, str(data["worker"]), status="done", ended=archive._now())
    archive._update("crawls", crawl_id, {
        "finished": archive._now(), "status": str(data["status"]),
        "finish_reason": str(data.get("reason") or ""), **changes,
        "stats": json.dumps(dict(data.get("stats") or {}), sort_keys=True, default=str),
        "workers": json.dumps(workers)})


def interrupt_crawl(archive: Archive, data: dict[str, Any], _: Context) -> None:
    """A worker stopped without a clean close: the row is interrupted unless another worker
    still runs on it."""
    crawl_id = int(data["crawl_id"])
    archive._begin()
    workers = crawl_workers(_row(archive, crawl_id)["workers"])
    if data.get("worker"):
        _set_worker(workers, str(data["worker"]), status="interrupted", ended=archive._now())
        archive._update("crawls", crawl_id, {"workers": json.dumps(workers)})
    if not any(w.get("status") == "running" for w in workers):
        mark_interrupted(archive.db, crawl_id, str(data.get("reason") or "interrupted"),
                         archive._now())


def site_state(archive: Archive, data: dict[str, Any], context: Context) -> SiteState:
    """The site's state as the archive holds it now; also published for other workers."""
    crawl_id = data.get("crawl_id")
    state = load_site_state(archive.db, str(data["site"]),
                            int(crawl_id) if crawl_id is not None else None)
    publish_state(context.redis, context.prefix, state)
    return state


HANDLERS: dict[str, Handler] = {"save_site": save_site, "start_crawl": start_crawl,
                                "finish_crawl": finish_crawl,
                                "interrupt_crawl": interrupt_crawl, "site_state": site_state}


def translator(client: redis.Redis, prefix: str,
               attachments: Path | None = None) -> Callable[[Op], Op]:
    """What ``RedisQueue`` hands the writer for a decoded operation: data operations as
    they are, named requests as functions of the archive, ``flush`` as a barrier.

    ``attachments``: the writer's own attachments folder, where an attachment's file is kept
    whatever folder the worker that fetched it was configured with (a worker on another
    machine names a path of its own machine)."""
    context = Context(client, prefix)

    def translate(op: Op) -> Op:
        if op.kind == ATTACHMENT and attachments is not None and isinstance(op.data, dict):
            op.data["root"] = str(attachments)
        if op.kind in DATA_KINDS:
            return op
        if op.kind == "flush":
            return Op(BARRIER, None, now=op.now, id=op.id, reply_to=op.reply_to)
        handler = HANDLERS.get(op.kind)
        if handler is None:
            raise CodecError(f"unknown operation {op.kind!r}")
        if not isinstance(op.data, dict):
            raise CodecError(f"a {op.kind!r} request without its data")
        data: dict[str, Any] = op.data

        def call(archive: Archive) -> Any:
            return handler(archive, data, context)

        return Op(CALL, call, crawl_id=op.crawl_id, now=op.now, id=op.id,
                  reply_to=op.reply_to)

    return translate


def check_workers(archive: Archive, context: Context) -> list[tuple[int, str]]:
    """Record as ``died`` every worker running on a crawl row whose heartbeat lapsed;
    (crawl id, worker) of each one found."""
    archive.commit()
    rows = archive.db.execute("select id, workers from crawls where status = 'running' "
                              "and run is not null").fetchall()
    died: list[tuple[int, str]] = []
    for crawl_id, text in rows:
        workers = crawl_workers(text)
        running = [w for w in workers if w.get("status") == "running"]
        if not running:
            continue
        pipe = context.redis.pipeline(transaction=False)
        for entry in running:
            pipe.exists(worker_key(context.prefix, str(entry["name"])))
        states = pipe.execute()
        now = archive._now()
        lapsed = [w for w, up in zip(running, states, strict=True) if not up]
        if not lapsed:
            continue
        for entry in lapsed:
            entry.update(status="died", ended=now)
            died.append((crawl_id, str(entry["name"])))
            logger.warning("Worker %s of crawl %s died (its heartbeat lapsed)",
                           entry["name"], crawl_id)
        archive._begin()
        archive._update("crawls", crawl_id, {"workers": json.dumps(workers)})
        archive.commit()
        if not any(w.get("status") == "running" for w in workers):
            names = ", ".join(str(w["name"]) for w in lapsed)
            mark_interrupted(archive.db, crawl_id, f"worker {names} died (heartbeat lapsed)",
                             now)
    return died


def forget_applied(archive: Archive, context: Context, processing_key: str) -> int:
    """Forget the applied operation ids once no batch is in flight (none can come back)."""
    if context.redis.llen(processing_key):
        return 0
    archive._begin()
    count = archive.db.execute("delete from applied_ops").rowcount
    archive.commit()
    return int(count)
