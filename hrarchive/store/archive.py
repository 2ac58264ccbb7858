"""The archive writer: the only code that writes to SQLite.

Semantics: a story is its canonical URL (a trailing-slash variant is the same story); a
changed story gets a new version and keeps the old; the same content under another URL is
recorded as an alias, not stored twice; a teaser seen again only updates ``last_seen``, and
so does a story answered 304 Not Modified (``touch_article``).
Writes are batched in transactions, committed every ``batch_size`` writes or
``commit_seconds``, and on ``commit()``/``close()``; each item is written in a savepoint, so
an item that fails half-way leaves nothing of itself behind.

The full-text index (``articles_fts``) is kept by this class, not by triggers: the stories
a batch adds or changes are indexed together just before the batch commits, in the same
transaction, so the index is in step with ``articles`` in every committed state.  Write
``title``, ``subtitle`` and ``body_text`` of ``articles`` only through an ``Archive`` (or
run ``rebuild_fts`` after writing them by other means).  In a crawl an ``Archive`` is driven
by the one writer thread of ``hrarchive.store.writer``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from sqlite_utils.db import Table, jsonify_if_needed

from hrarchive.extract.urls import slash_variant
from hrarchive.store.migrations import migrate
from hrarchive.store.schema import FTS_COLUMNS, FTS_TABLE
from hrarchive.store.state import instant, mark_interrupted, reap_crawls, this_process
from hrarchive.store.takedowns import mark_back, mark_gone

Clock = Callable[[], datetime]
ARTICLE_CONTENT = ("title", "subtitle", "authors", "published", "body_text", "tags", "language")
TEASER_CONTENT = ("title", "summary", "published")
VERSION_FIELDS = ("title", "subtitle", "authors", "published", "published_raw", "modified",
                  "modified_raw", "language", "body_text", "body_html", "tags", "image_url")
LINK_KINDS = ("related", "links", "attachments")


def utcnow() -> datetime:
    return datetime.now(UTC)


def content_hash(record: Mapping[str, Any], fields: Iterable[str]) -> str:
    data = json.dumps({f: record.get(f) for f in fields}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _pk(value: object) -> int:
    if not isinstance(value, int):
        raise TypeError(f"expected an integer primary key, got {value!r}")
    return value


@lru_cache(maxsize=64)
def _insert_sql(table: str, columns: tuple[str, ...], ignore: bool) -> str:
    names = ", ".join(f"[{c}]" for c in columns)
    marks = ", ".join("?" * len(columns))
    return f"INSERT{' OR IGNORE' if ignore else ''} INTO [{table}] ({names}) VALUES ({marks})"


def _update_sql(table: str, columns: tuple[str, ...]) -> str:
    sets = ", ".join(f"[{c}] = ?" for c in columns)
    return f"update [{table}] set {sets} where [id] = ?"


_PLAIN = (str, int, float, bytes, type(None))


def _value(value: Any) -> Any:
    """A value as sqlite-utils stores it (lists and dicts as JSON, dates as ISO text)."""
    return value if type(value) in _PLAIN else jsonify_if_needed(value)


# One statement, not up to four: the URL, an alias of it, its slash variant, an alias of that.
_FIND_SQL = """
select * from (
  select 0 as [preference], a.* from articles a where a.url = ?1
  union all select 1, a.* from article_aliases x join articles a on a.id = x.article_id
    where x.url = ?1
  union all select 2, a.* from articles a where a.url = ?2
  union all select 3, a.* from article_aliases x join articles a on a.id = x.article_id
    where x.url = ?2)
order by [preference] limit 1"""

WRITER_CACHE_KB = 64 * 1024  # the writer's page cache: the URL and hash indexes take random keys


def open_database(path: str | Path) -> Database:
    """Open (creating if needed) an archive file in WAL mode, migrated to the current schema."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = Database(path)
    db.execute("PRAGMA busy_timeout = 30000")
    if str(path) != ":memory:":
        db.enable_wal()
    migrate(db)
    return db


class Archive:
    """Writes crawl results into an archive database."""

    def __init__(self, db: Database | str | Path, clock: Clock = utcnow, batch_size: int = 200,
                 commit_seconds: float = 2.0) -> None:
        self.db = db if isinstance(db, Database) else open_database(db)
        if isinstance(db, Database):
            migrate(db)
        # In WAL mode synchronous=NORMAL keeps every committed batch through a crash of the
        # process (SIGKILL included) and the file sound through a power cut, which may lose
        # only the last batches (their stories are fetched again by the next run): it spares
        # an fsync per commit.  A larger page cache keeps the indexes' hot pages in memory.
        if not self.db.conn.in_transaction:  # (an Archive on a connection mid-batch: as is)
            self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KB}")
        self.clock = clock
        self.batch_size = batch_size
        self.commit_seconds = commit_seconds
        self._pending = 0
        self._since = time.monotonic()
        self.as_of: datetime | None = None  # when set, the time of the writes (not the clock)
        # stories to (re)index at commit: id -> the text indexed now (None: not indexed)
        self._unindexed: dict[int, tuple[Any, ...] | None] = {}

    # --- transactions -----------------------------------------------------------------------
    def _t(self, name: str) -> Table:
        table = self.db[name]
        assert isinstance(table, Table)
        return table

    # The hot path writes rows with plain prepared SQL, as sqlite-utils' insert() and
    # update() would (same values, JSON for lists and dicts), without their per-call
    # introspection, savepoints and existence checks.
    def _insert(self, table: str, row: Mapping[str, Any], ignore: bool = False) -> int | None:
        cursor = self.db.execute(_insert_sql(table, tuple(row), ignore),
                                 [_value(v) for v in row.values()])
        return cursor.lastrowid

    def _update(self, table: str, row_id: int, changes: Mapping[str, Any]) -> None:
        cursor = self.db.execute(_update_sql(table, tuple(changes)),
                                 [*(_value(v) for v in changes.values()), row_id])
        if cursor.rowcount != 1:
            raise LookupError(f"no row {row_id} in {table}")

    @contextmanager
    def _item(self) -> Iterator[None]:
        """One item's writes, all or none (a savepoint with a fixed name, so its statements
        stay prepared, where sqlite-utils' ``atomic()`` names each one anew)."""
        conn = self.db.conn
        conn.execute("SAVEPOINT hrarchive_item")
        try:
            yield
        except BaseException:
            if conn.in_transaction:  # an error may have ended the whole transaction already
                conn.execute("ROLLBACK TO hrarchive_item")
                conn.execute("RELEASE hrarchive_item")
            raise
        conn.execute("RELEASE hrarchive_item")

    def _now(self) -> str:
        return (self.as_of or self.clock()).astimezone(UTC).isoformat(timespec="seconds")

    def _begin(self) -> None:
        if not self.db.conn.in_transaction:
            self.db.begin()
            self._since = time.monotonic()

    def _wrote(self) -> None:
        self._pending += 1
        if self._pending >= self.batch_size or \
                time.monotonic() - self._since >= self.commit_seconds:
            self.commit()

    def commit(self) -> None:
        """Index the batch's stories and commit the open batch, if any."""
        if self._unindexed:
            self._index()
        self.db.commit()
        self._pending = 0
        self._since = time.monotonic()

    def rollback(self) -> None:
        """Give up the open batch (nothing of it is kept, its index entries neither)."""
        self.db.conn.rollback()
        self._unindexed.clear()
        self._pending = 0

    def _index(self) -> None:
        """Bring ``articles_fts`` in step for the stories added or changed in this batch."""
        columns = ", ".join(f"[{c}]" for c in FTS_COLUMNS)
        marks = ", ".join("?" * len(FTS_COLUMNS))
        old = [(article_id, *text) for article_id, text in self._unindexed.items()
               if text is not None]
        if old:
            self.db.conn.executemany(
                f"insert into [{FTS_TABLE}] ([{FTS_TABLE}], rowid, {columns}) "
                f"values ('delete', ?, {marks})", old)
        ids = list(self._unindexed)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            self.db.execute(
                f"insert into [{FTS_TABLE}] (rowid, {columns}) select id, {columns} "
                f"from articles where id in ({', '.join('?' * len(chunk))})", chunk)
        self._unindexed.clear()

    def rebuild_fts(self) -> None:
        """Rebuild the full-text index from ``articles`` (after writes by other means)."""
        self.commit()
        self._begin()
        self.db.execute(f"insert into [{FTS_TABLE}] ([{FTS_TABLE}]) values ('rebuild')")
        self.commit()

    def close(self) -> None:
        self.commit()
        self.db.close()

    # --- sites and crawls -------------------------------------------------------------------
    def save_site(self, site: Mapping[str, Any]) -> None:
        self._begin()
        self._t("sites").upsert(dict(site), pk="id")
        self.commit()

    def start_crawl(self, site: str, options: Mapping[str, Any] | None = None,
                    log_file: str | None = None, mode: str | None = None) -> int:
        """Open a ``running`` row for a new run of ``site``, after marking the site's runs
        whose process is gone ``interrupted``."""
        self.commit()
        reap_crawls(self.db, site)
        self._begin()
        row = self._t("crawls").insert({
            "site": site, "started": self._now(), "status": "running",
            "options": json.dumps(dict(options or {}), sort_keys=True), "log_file": log_file,
            "mode": mode, **this_process(),
        })
        self.commit()
        return _pk(row.last_pk)

    def interrupt_crawl(self, crawl_id: int, reason: str) -> None:
        """End a run that was stopped without a clean close as ``interrupted``."""
        self.commit()
        mark_interrupted(self.db, crawl_id, reason, self._now())

    def finish_crawl(self, crawl_id: int, status: str, reason: str,
                     counts: Mapping[str, Any], stats: Mapping[str, Any]) -> None:
        self._begin()
        self._t("crawls").update(crawl_id, {
            "finished": self._now(), "status": status, "finish_reason": reason, **counts,
            "stats": json.dumps(stats, sort_keys=True, default=str),
        })
        self.commit()

    # --- stories ----------------------------------------------------------------------------
    def _find_article(self, url: str) -> dict[str, Any] | None:
        """The story at ``url``: by URL, by alias, then the same for its slash variant, in
        that order of preference, looked up in one statement."""
        cursor = self.db.execute(_FIND_SQL, [url, slash_variant(url)])
        row = cursor.fetchone()
        if row is None:
            return None
        return dict(zip([d[0] for d in cursor.description[1:]], row[1:], strict=True))

    def _alias(self, url: str, article_id: int, reason: str, now: str) -> None:
        self._insert("article_aliases", {"url": url, "article_id": article_id,
                                         "reason": reason, "first_seen": now}, ignore=True)

    def save_article(self, item: Mapping[str, Any], crawl_id: int | None = None) -> str:
        """Archive one story; returns ``new``, ``changed``, ``unchanged`` or ``alias``."""
        self._begin()
        with self._item():
            outcome = self._save_article(item, crawl_id)
        self._wrote()
        return outcome

    def touch_article(self, url: str, crawl_id: int | None = None, etag: str | None = None,
                      last_modified: str | None = None, announced: str | None = None) -> str:
        """A story answered 304 Not Modified: only ``last_seen``, the run and (when the server
        sent new ones) the validators change.  Returns ``not_modified``, or ``unknown``."""
        self._begin()
        existing = self._find_article(url)
        if existing is None:
            return "unknown"
        changes: dict[str, Any] = {"last_seen": self._now(), "crawl_id": crawl_id}
        if etag:
            changes["etag"] = etag
        if last_modified:
            changes["last_modified"] = last_modified
        if announced:
            changes["announced"] = announced
        with self._item():
            self._update("articles", int(existing["id"]), changes)
        self._wrote()
        return "not_modified"

    def announce(self, url: str, announced: str, crawl_id: int | None = None) -> str:
        """A sitemap/feed date read after the story was fetched (or answered 304) in this
        run: it becomes the story's ``announced`` when newer than the one recorded and no
        later than that fetch by our clock (a later date may announce an edit the fetch
        missed: the next run then compares it with ``last_seen`` and fetches).  Returns
        ``announced``, or why not: ``unknown``, ``not_fetched`` (not in this run),
        ``not_newer`` or ``after_fetch``."""
        self._begin()
        existing = self._find_article(url)
        if existing is None:
            return "unknown"
        if crawl_id is None or existing["crawl_id"] != crawl_id:
            return "not_fetched"
        new, old = instant(announced), instant(existing["announced"])
        if new is None or (old is not None and new <= old):
            return "not_newer"
        seen = instant(existing["last_seen"])
        if seen is not None and new > seen:
            return "after_fetch"
        with self._item():
            self._update("articles", int(existing["id"]), {"announced": announced})
        self._wrote()
        return "announced"

    # --- takedowns: hrarchive.store.takedowns -----------------------------------------------
    def story_gone(self, url: str, status: int, crawl_id: int | None = None,
                   redirect_to: str | None = None) -> str:
        """A revalidated story is gone from its site; returns ``gone``, ``still_gone`` or
        ``unknown``.  The story itself is not touched."""
        self._begin()
        with self._item():
            outcome = mark_gone(self.db, url, status, self._now(), crawl_id, redirect_to)
        self._wrote()
        return outcome

    def story_alive(self, urls: Iterable[str], crawl_id: int | None = None) -> bool:
        """A story was read (or answered 304): mark it back if it was gone."""
        self._begin()
        return mark_back(self.db, urls, self._now(), crawl_id)

    def _save_article(self, item: Mapping[str, Any], crawl_id: int | None) -> str:
        now = self._now()
        url = item.get("canonical_url") or item["url"]
        digest = content_hash(item, ARTICLE_CONTENT)
        # as stored (lists as JSON), encoded once for both articles and article_versions
        version_data = {f: _value(item.get(f)) for f in VERSION_FIELDS}
        fetch = {"last_seen": now, "fetched_url": item["url"], "etag": item.get("etag"),
                 "last_modified": item.get("last_modified"), "crawl_id": crawl_id}
        if item.get("announced"):
            fetch["announced"] = item["announced"]
        existing = self._find_article(url)
        outcome = "unchanged"
        if existing is None:
            twin = self.db.execute("select id from articles where site = ? and content_hash = ?",
                                   [item["site"], digest]).fetchone()
            if twin:
                self._alias(url, twin[0], "same-content", now)
                return "alias"
            row = {"site": item["site"], "url": url, **version_data, "content_hash": digest,
                   "version": 1, "first_seen": now, "last_changed": now, **fetch}
            row.pop("body_html")
            article_id = _pk(self._insert("articles", row))
            self._unindexed.setdefault(article_id, None)
            self._add_version(article_id, 1, item["url"], version_data, digest, crawl_id, now)
            outcome = "new"
        else:
            article_id = int(existing["id"])
            changes: dict[str, Any] = dict(fetch)
            if existing["content_hash"] != digest:
                version = int(existing["version"]) + 1
                self._unindexed.setdefault(article_id, tuple(existing[c] for c in FTS_COLUMNS))
                self._add_version(article_id, version, item["url"], version_data, digest,
                                  crawl_id, now)
                changes.update({k: v for k, v in version_data.items() if k != "body_html"})
                changes.update({"content_hash": digest, "version": version, "last_changed": now})
                outcome = "changed"
            self._update("articles", article_id, changes)
        if item["url"] != url:
            self._alias(item["url"], article_id, "fetched", now)
        self._save_links(article_id, item, now, outcome == "new")
        return outcome

    def _add_version(self, article_id: int, version: int, url: str,
                     version_data: Mapping[str, Any], digest: str, crawl_id: int | None,
                     now: str) -> None:
        self._insert("article_versions", {
            "article_id": article_id, "version": version, "crawl_id": crawl_id, "seen": now,
            "url": url, **version_data, "content_hash": digest,
        })

    def _save_links(self, article_id: int, item: Mapping[str, Any], now: str,
                    new: bool = False) -> None:
        rows = [{"from_id": article_id, "to_url": link["url"], "kind": link.get("kind") or kind,
                 "title": link.get("title"), "first_seen": now, "last_seen": now}
                for kind in LINK_KINDS for link in item.get(kind) or []]
        if not rows:
            return
        self.db.conn.executemany(_insert_sql("links", tuple(rows[0]), True),
                                 [[_value(v) for v in row.values()] for row in rows])
        if new:  # every link of a new story was inserted just now
            return
        self.db.execute(
            "update links set last_seen = ? where from_id = ? and last_seen != ?",
            [now, article_id, now])

    # --- teasers ----------------------------------------------------------------------------
    def save_teaser(self, item: Mapping[str, Any], crawl_id: int | None = None) -> str:
        """Archive one teaser; returns ``new`` or ``seen``."""
        self._begin()
        with self._item():
            outcome = self._save_teaser(item, crawl_id)
        self._wrote()
        return outcome

    def _save_teaser(self, item: Mapping[str, Any], crawl_id: int | None) -> str:
        now = self._now()
        digest = content_hash(item, TEASER_CONTENT)
        cursor = self.db.execute(
            "update teasers set last_seen = ?, crawl_id = ? "
            "where site = ? and url = ? and content_hash = ?",
            [now, crawl_id, item["site"], item["url"], digest])
        outcome = "seen"
        if cursor.rowcount == 0:
            self._insert("teasers", {
                **{k: item.get(k) for k in ("site", "url", "listing_url", "title", "summary",
                                            "published", "published_raw", "image_url",
                                            "position")},
                "content_hash": digest, "first_seen": now, "last_seen": now, "crawl_id": crawl_id,
            })
            outcome = "new"
        return outcome

