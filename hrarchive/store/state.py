"""What the archive already knows about a site, read for an incremental crawl; and which
crawl rows belong to processes that are gone.

The spider asks :func:`load_site_state` once per run: the stories archived (with their
HTTP validators, dates and the teasers that announced them), the stories teased but never
archived (a killed run's unfinished work), and how the site's previous run ended.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
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
    """A site's archived stories, its unfinished work and how its previous run ended."""

    site: str
    stories: dict[str, KnownStory] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    previous_status: str | None = None  # None: the site was never crawled
    previous_finished: datetime | None = None  # start of the latest finished run
    sitemaps: dict[str, str] = field(default_factory=dict)  # child sitemap URL: lastmod

    def story(self, url: str) -> KnownStory | None:
        """The archived story at ``url`` (or its trailing-slash variant, or an alias)."""
        return self.stories.get(url) or self.stories.get(slash_variant(url))


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
    state = SiteState(site)
    teasers: dict[str, set[TeaserKey]] = {}
    teaser_dates: dict[str, date] = {}
    for url, title, summary, raw, published in db.execute(
            "select url, title, summary, published_raw, published from teasers where site = ?",
            [site]).fetchall():
        # the date as teasers are told apart (content_hash): its normal form, else as printed;
        # a feed's "Fri, 17 Nov 2023 02:35:00 +0000" and a listing's ISO date are one teaser
        teasers.setdefault(url, set()).add((title, summary, published or raw))
        day = _date(published)
        if day and (url not in teaser_dates or day > teaser_dates[url]):
            teaser_dates[url] = day
    by_id: dict[int, KnownStory] = {}
    for row in db.execute(
            "select id, url, etag, last_modified, last_seen, published, announced "
            "from articles where site = ?", [site]).fetchall():
        article_id, url, etag, last_modified, last_seen, published, announced = row
        keys = teasers.get(url, set()) | teasers.get(slash_variant(url), set())
        story = KnownStory(url, etag, last_modified, instant(last_seen),
                           _date(published) or teaser_dates.get(url), frozenset(keys),
                           instant(announced))
        by_id[article_id] = state.stories[url] = story
    for url, article_id in db.execute(
            "select a.url, a.article_id from article_aliases a join articles r "
            "on r.id = a.article_id where r.site = ?", [site]).fetchall():
        state.stories.setdefault(url, by_id[article_id])
    state.missing = sorted(url for url in teasers if state.story(url) is None)
    sql = ("select id, status, started, pid, host, process_started, stats from crawls "
           "where site = ?")
    params: list[Any] = [site]
    if current_crawl is not None:
        sql += " and id != ?"
        params.append(current_crawl)
    for _id, status, started, pid, host, process_started, stats in db.execute(
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
    connection (the archive's writer may hold an open batch in this same thread)."""
    if str(path) == ":memory:" or not Path(path).exists():
        return SiteState(site)
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    conn.execute("PRAGMA busy_timeout = 30000")
    db = Database(conn)
    try:
        if not db["crawls"].exists():
            return SiteState(site)
        return load_site_state(db, site, current_crawl)
    finally:
        db.close()
