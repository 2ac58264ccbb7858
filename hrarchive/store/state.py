"""What the archive already knows about a site, read for an incremental crawl; and which
crawl rows belong to processes that are gone.

The spider asks :func:`load_site_state` once per run: the stories archived (with their
HTTP validators, dates and the teasers that announced them), the stories teased but never
archived (a killed run's unfinished work), and how the site's previous run ended.

The archived stories are not read into memory (a site of 1,000,000 stories took 1.6 GB):
:class:`ArchivedStories` looks each one up in the archive when the run asks, through the
state's own connection, and sees the archive as it was when the run began (rows added by
the run's own writer are not seen, so a story stored minutes ago is still new to it).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psutil
from sqlite_utils import Database

from hrarchive.extract.urls import slash_variant

TeaserKey = tuple[str | None, str | None, str | None]  # title, summary, date (ISO, or printed)
SITEMAPS_STAT = "hrarchive/sitemap/lastmods"  # crawl stat: {child sitemap URL: lastmod}


@dataclass(frozen=True)
class KnownStory:
    """A story already in the archive, as far as deciding whether to fetch it again needs."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    last_seen: datetime | None = None
    published: date | None = None
    teasers: frozenset[TeaserKey] = frozenset()
    announced: datetime | None = None  # the sitemap/feed date of the version we hold


@dataclass
class SiteState:
    """A site's archived stories, its unfinished work and how its previous run ended.

    ``stories`` maps each archived URL (aliases too) to its story: a plain dict, or the
    archive itself (:class:`ArchivedStories`), which :meth:`close` closes."""

    site: str
    stories: Mapping[str, KnownStory] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    previous_status: str | None = None  # None: the site was never crawled
    previous_finished: datetime | None = None  # start of the latest finished run
    sitemaps: dict[str, str] = field(default_factory=dict)  # child sitemap URL: lastmod

    def story(self, url: str) -> KnownStory | None:
        """The archived story at ``url`` (or its trailing-slash variant, or an alias)."""
        return self.stories.get(url) or self.stories.get(slash_variant(url))

    def archived(self, published_from: date | None = None) -> Iterator[KnownStory]:
        """Each archived story once; with ``published_from``, at least every one published
        that day or later (and some undated ones: the caller checks ``published``)."""
        if isinstance(self.stories, ArchivedStories):
            yield from self.stories.stories(published_from)
            return
        yield from {story.url: story for story in self.stories.values()}.values()

    def close(self) -> None:
        """Close the archive connection the stories are read through (if any)."""
        if isinstance(self.stories, ArchivedStories):
            self.stories.close()


ARTICLE_COLUMNS = "a.id, a.url, a.etag, a.last_modified, a.last_seen, a.published, a.announced"
CHUNK = 1000  # stories read per query when iterating


class ArchivedStories(Mapping[str, KnownStory]):
    """One site's archived stories, looked up in the archive when asked (by URL; aliases
    lead to their story), as the archive was when this object was made: rows added later
    (their rowid is above the largest at the start) are not seen.  A row of a story changed
    since (fetched again by this run) shows its new values.  Queries run in the thread that
    made the connection, and read their rows at once (no read transaction stays open)."""

    def __init__(self, conn: sqlite3.Connection, site: str, own: bool = False) -> None:
        self.conn, self.site, self.own = conn, site, own
        tables = ("articles", "article_aliases", "teasers")
        found = conn.execute("select " + ", ".join(  # one statement: one moment
            f"(select coalesce(max(rowid), 0) from [{t}])" for t in tables)).fetchone()
        self.marks = {table: int(mark) for table, mark in zip(tables, found, strict=True)}

    def _rows(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, params).fetchall()

    def _known(self, row: tuple[Any, ...]) -> KnownStory:
        """A story from its ``articles`` row (``ARTICLE_COLUMNS``), with its teasers."""
        _id, url, etag, last_modified, last_seen, published, announced = row
        keys: set[TeaserKey] = set()
        newest: date | None = None
        for teaser_url, title, summary, raw, teaser_published in self._rows(
                "select url, title, summary, published_raw, published from teasers "
                "where url in (?, ?) and site = ? and rowid <= ?",
                [url, slash_variant(url), self.site, self.marks["teasers"]]):
            # the date as teasers are told apart (content_hash): its normal form, else as
            # printed; a feed's "Fri, 17 Nov 2023 02:35:00 +0000" and a listing's ISO date
            # are one teaser
            keys.add((title, summary, teaser_published or raw))
            day = _date(teaser_published)
            if teaser_url == url and day and (newest is None or day > newest):
                newest = day
        return KnownStory(url, etag, last_modified, instant(last_seen),
                          _date(published) or newest, frozenset(keys), instant(announced))

    def __getitem__(self, url: str) -> KnownStory:
        if not isinstance(url, str):
            raise KeyError(url)
        rows = self._rows(f"select {ARTICLE_COLUMNS} from articles a where a.url = ? "
                          "and a.site = ? and a.rowid <= ?",
                          [url, self.site, self.marks["articles"]]) or \
            self._rows(f"select {ARTICLE_COLUMNS} from article_aliases x join articles a "
                       "on a.id = x.article_id where x.url = ? and x.rowid <= ? "
                       "and a.site = ? and a.rowid <= ?",
                       [url, self.marks["article_aliases"], self.site, self.marks["articles"]])
        if not rows:
            raise KeyError(url)
        return self._known(rows[0])

    def __len__(self) -> int:
        articles = self._rows("select count(*) from articles where site = ? and rowid <= ?",
                              [self.site, self.marks["articles"]])[0][0]
        aliases = self._rows("select count(*) from article_aliases x join articles a on "
                             "a.id = x.article_id where a.site = ? and x.rowid <= ? and "
                             "a.rowid <= ?", [self.site, self.marks["article_aliases"],
                                              self.marks["articles"]])[0][0]
        return int(articles) + int(aliases)

    def __iter__(self) -> Iterator[str]:
        for url, _story in self.items():
            yield url

    def items(self) -> Iterator[tuple[str, KnownStory]]:  # type: ignore[override]
        """Every (URL, story): the stories' own URLs, then their aliases, a chunk of rows per
        query (not a lookup per URL)."""
        for story in self.stories():
            yield story.url, story
        after = 0
        while True:
            rows = self._rows(f"select x.rowid, x.url, {ARTICLE_COLUMNS} from article_aliases x "
                              "join articles a on a.id = x.article_id where a.site = ? and "
                              "x.rowid > ? and x.rowid <= ? and a.rowid <= ? order by x.rowid "
                              f"limit {CHUNK}", [self.site, after,
                                                 self.marks["article_aliases"],
                                                 self.marks["articles"]])
            yield from ((row[1], self._known(row[2:])) for row in rows)
            if len(rows) < CHUNK:
                return
            after = rows[-1][0]

    def values(self) -> Iterator[KnownStory]:  # type: ignore[override]
        for _url, story in self.items():
            yield story

    def stories(self, published_from: date | None = None) -> Iterator[KnownStory]:
        """Each story once, in rowid order, a chunk of rows per query; with
        ``published_from``, those published that day or later (stored dates are ISO 8601,
        compared as text) and those without a stored date (their teasers may date them)."""
        dated = "" if published_from is None else \
            "and (a.published >= ? or a.published is null or a.published not glob " \
            "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*')"
        after = 0
        while True:
            params: list[Any] = [self.site, after, self.marks["articles"]]
            if published_from is not None:
                params.append(published_from.isoformat())
            rows = self._rows(f"select {ARTICLE_COLUMNS} from articles a where a.site = ? "
                              f"and a.rowid > ? and a.rowid <= ? {dated} "
                              f"order by a.rowid limit {CHUNK}", params)
            yield from (self._known(row) for row in rows)
            if len(rows) < CHUNK:
                return
            after = rows[-1][0]

    def missing(self) -> list[str]:
        """URLs teased but not archived (nor under their trailing-slash variant)."""
        teased = self._rows(
            "select distinct t.url from teasers t where t.site = ? and t.rowid <= ? "
            "and not exists (select 1 from articles a where a.url = t.url and a.site = t.site "
            "and a.rowid <= ?) and not exists (select 1 from article_aliases x join articles a "
            "on a.id = x.article_id where x.url = t.url and a.site = t.site and x.rowid <= ? "
            "and a.rowid <= ?)",
            [self.site, self.marks["teasers"], self.marks["articles"],
             self.marks["article_aliases"], self.marks["articles"]])
        return sorted(url for (url,) in teased if self.get(slash_variant(url)) is None)

    def close(self) -> None:
        if self.own:
            self.conn.close()


def this_process() -> dict[str, Any]:
    """The columns that identify the running process in its ``crawls`` row."""
    return {"pid": os.getpid(), "host": socket.gethostname(),
            "process_started": psutil.Process().create_time()}


def process_alive(pid: int | None, host: str | None, started: float | None) -> bool:
    """Whether the process that wrote a ``running`` row still runs (unknown host: assume so)."""
    if pid is None or host != socket.gethostname():
        return pid is not None
    try:
        process = psutil.Process(pid)
        return started is None or abs(process.create_time() - started) < 1.0
    except psutil.Error:
        return False


def reap_crawls(db: Database, site: str | None = None) -> list[int]:
    """Mark ``running`` rows whose process is gone (killed, out of memory) ``interrupted``.
    Rows of crawler workers (with a ``run``) are judged by ``hrarchive writer`` from the
    workers' heartbeats instead."""
    sql = ("select id, pid, host, process_started from crawls where status = 'running' "
           "and run is null")
    params: list[Any] = []
    if site is not None:
        sql += " and site = ?"
        params.append(site)
    dead = [row[0] for row in db.execute(sql, params).fetchall()
            if not process_alive(row[1], row[2], row[3])]
    with db.atomic():
        for crawl_id in dead:
            db.execute("update crawls set status = 'interrupted', finish_reason = "
                       "coalesce(finish_reason, 'process gone (killed?); found by a later "
                       "run') where id = ? and status = 'running'", [crawl_id])
    return dead


def mark_interrupted(db: Database, crawl_id: int, reason: str, finished: str) -> None:
    """End a still ``running`` row as ``interrupted`` (a forced stop skipped the clean close)."""
    with db.atomic():
        db.execute("update crawls set status = 'interrupted', finish_reason = ?, finished = ? "
                   "where id = ? and status = 'running'", [reason, finished, crawl_id])


def instant(value: str | None) -> datetime | None:
    """A stored ISO 8601 date and time as an aware instant (UTC when it names no offset)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _date(value: str | None) -> date | None:
    parsed = instant(value)
    return parsed.date() if parsed else None


def _sitemaps(stats: str | None) -> dict[str, str]:
    """The child sitemaps' lastmod as a finished run saw them (kept in its stats)."""
    try:
        value = json.loads(stats or "{}").get(SITEMAPS_STAT, {})
    except (ValueError, AttributeError):
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def load_site_state(db: Database, site: str, current_crawl: int | None = None) -> SiteState:
    """Everything an incremental run of ``site`` needs to know about earlier runs."""
    return _load(db.conn, site, current_crawl, own=False)


def _load(conn: sqlite3.Connection, site: str, current_crawl: int | None,
          own: bool) -> SiteState:
    stories = ArchivedStories(conn, site, own)
    state = SiteState(site, stories, stories.missing())
    sql = ("select id, status, started, pid, host, process_started, stats from crawls "
           "where site = ?")
    params: list[Any] = [site]
    if current_crawl is not None:
        sql += " and id != ?"
        params.append(current_crawl)
    for _id, status, started, pid, host, process_started, stats in conn.execute(
            sql + " order by id desc", params).fetchall():
        if status == "running" and process_alive(pid, host, process_started):
            continue  # another run of the site, still going
        if state.previous_status is None:
            state.previous_status = "interrupted" if status == "running" else status
        if status == "finished":
            state.previous_finished = instant(started)
            state.sitemaps = _sitemaps(stats)
            break
    return state


def read_site_state(path: str, site: str, current_crawl: int | None = None) -> SiteState:
    """:func:`load_site_state` from the archive file at ``path``, through a read-only
    connection of its own (the archive's writer may hold an open batch), which stays open
    for the stories' lookups until :meth:`SiteState.close`."""
    if str(path) == ":memory:" or not Path(path).exists():
        return SiteState(site)
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    conn.execute("PRAGMA busy_timeout = 30000")
    try:
        if not Database(conn)["crawls"].exists():
            conn.close()
            return SiteState(site)
        return _load(conn, site, current_crawl, own=True)  # closed by SiteState.close
    except BaseException:
        conn.close()
        raise
