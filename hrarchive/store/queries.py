"""Read-only queries over the archive: search, export, statistics and Datasette's canned queries.

Commands call these functions and never run SQL themselves. Canned queries are data
(``CANNED``): ``metadata.yml`` is generated from them, and the tests run them through Datasette.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from hrarchive.store.archive import open_database


class QueryError(ValueError):
    """A query the archive cannot answer: a bad date, bad search syntax, no archive file."""


@dataclass(frozen=True)
class Canned:
    name: str
    title: str
    doc: str
    sql: str


RANK_LIMIT = 10_000  # default of HRARCHIVE_SEARCH_RANK_LIMIT: matches ranked by bm25 at most
_CANNED_FILTERS = """
  and (:site = '' or a.site = :site)
  and (:since = '' or a.published >= :since)
  and (:until = '' or substr(a.published, 1, length(:until)) <= :until)"""
# matches of the term, counted in the index alone unless a filter needs the stories' rows
_CANNED_COUNT = f"""(case when :site = '' and :since = '' and :until = '' then
    (select count(*) from articles_fts f
     where f.articles_fts match coalesce(nullif(:term, ''), '""'))
  else (select count(*) from articles_fts f join articles a on a.id = f.rowid
        where f.articles_fts match coalesce(nullif(:term, ''), '""') {_CANNED_FILTERS}) end)"""

CANNED: tuple[Canned, ...] = (
    Canned("stories_mentioning", "Stories mentioning a term",
           "Full-text search, best match first (bm25). `term`: words (all must appear; FTS5 "
           "syntax such as `torture OR prison`, `\"human rights house\"` or `defend*` works "
           "too; empty finds nothing); `site`, `since`, `until` (ISO dates, e.g. 2021 or "
           f"2021-08-31) may be left empty.  Where more than {RANK_LIMIT:,} stories match, "
           f"the newest {RANK_LIMIT:,} (the last archived) are ranked and `note` says so: "
           "narrow the search with `site` or `since`.",
           f"""
select a.id, a.site, a.published, a.title,
  snippet(articles_fts, -1, '<<', '>>', '…', 16) as snippet,
  a.url,
  case when {_CANNED_COUNT} > {RANK_LIMIT} then printf('best of the newest {RANK_LIMIT:,} of '
    || '%,d matches; narrow with site or since', {_CANNED_COUNT}) end as note
from articles_fts
join articles a on a.id = articles_fts.rowid
where articles_fts match coalesce(nullif(:term, ''), '""')
  and articles_fts.rowid >= coalesce((
    select f.rowid from articles_fts f join articles a on a.id = f.rowid
    where f.articles_fts match coalesce(nullif(:term, ''), '""') {_CANNED_FILTERS}
    order by f.rowid desc limit 1 offset {RANK_LIMIT - 1}), 0) {_CANNED_FILTERS}
order by articles_fts.rank
limit 500
"""),
    Canned("teasers_never_archived", "Teasers whose story was never archived",
           "Stories that a listing page showed but whose page was never archived (it failed, "
           "was dropped, or is not crawled yet). `site` may be left empty.",
           """
select t.site, t.published, t.title, t.url, t.listing_url, t.first_seen, t.last_seen
from teasers t
where not exists (select 1 from articles a where a.url = t.url)
  and not exists (select 1 from article_aliases x where x.url = t.url)
  and (:site = '' or t.site = :site)
order by t.published desc, t.id
"""),
    Canned("changed_stories", "Stories that changed after publication",
           "Each change of a story after it was first archived, the version before and the "
           "version after side by side, newest change first. `site` may be left empty.",
           """
select *
from story_changes
where (:site = '' or site = :site)
order by seen_after desc, article_id, version
"""),
    Canned("related_graph", "Related-article links of one story",
           "The \"Related articles\" links from one story (direction `out`) and to it (`in`), "
           "with the linked story's title where it is archived. `story`: its number or URL.",
           """
select 'out' as direction, a.id as story_id, a.title as story_title,
  b.id as linked_id, coalesce(b.title, l.title) as linked_title, l.to_url as linked_url
from articles a
join links l on l.from_id = a.id and l.kind = 'related'
left join articles b on b.url = l.to_url
where a.id = :story or a.url = :story
union all
select 'in', a.id, a.title, f.id, f.title, f.url
from articles a
join links l on l.to_url = a.url and l.kind = 'related'
join articles f on f.id = l.from_id
where a.id = :story or a.url = :story
order by direction desc, linked_title
"""),
    Canned("missing_stories", "Stories that went missing from their site",
           "Archived stories whose page later answered 404 or 410, or redirected to a page "
           "that is not the story, newest first, with when they were last seen alive and "
           "whether they came back. `site` and `month` (when first found gone, e.g. 2024-05 "
           "or 2024) may be left empty. The story and its versions stay in the archive.",
           """
select t.site, substr(t.first_gone, 1, 7) as month, t.article_id, a.title, a.published,
  t.status, t.redirect_to, t.last_alive, t.first_gone, t.last_gone, t.back,
  (select count(*) from article_versions v where v.article_id = t.article_id) as versions,
  t.url
from takedowns t
join articles a on a.id = t.article_id
where (:site = '' or t.site = :site)
  and (:month = '' or substr(t.first_gone, 1, length(:month)) = :month)
order by t.first_gone desc, t.id desc
"""),
    Canned("stories_per_year", "Stories per site and year",
           "How many stories each site published per year (by the date the story states).",
           """
select a.site, s.name as site_name, a.year, count(*) as stories
from articles a
left join sites s on s.id = a.site
group by a.site, a.year
order by a.site, a.year desc
"""),
)

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def check_date(value: str | None, name: str) -> str:
    """An ISO date prefix (``2021``, ``2021-08`` or ``2021-08-31``), or ``""`` for none."""
    if not value:
        return ""
    parts = value.split("-")
    try:
        if not _DATE.match(value):
            raise ValueError
        date(int(parts[0]), int(parts[1]) if len(parts) > 1 else 1,
             int(parts[2]) if len(parts) > 2 else 1)
    except ValueError:
        raise QueryError(f"{name}: {value!r} is not a date like 2021, 2021-08 or "
                         f"2021-08-31") from None
    return value


def open_archive(path: str | Path) -> Database:
    """Open an existing archive for reading (migrated forward, so the views exist)."""
    if str(path) != ":memory:" and not Path(path).is_file():
        raise QueryError(f"no archive at {path} (crawl a site first, or pass --db)")
    return open_database(path)


def check_site(db: Database, site: str | None) -> str:
    """``site`` if the archive holds it (or ``""`` for all sites); else a clear error."""
    if not site:
        return ""
    known = sorted({row[0] for row in db.execute("select id from sites union "
                                                 "select distinct site from articles")})
    if site not in known:
        raise QueryError(f"no site {site!r} in this archive; it holds: "
                         f"{', '.join(known) or 'no site yet'}")
    return site


def fts_query(text: str) -> str:
    """Plain words as an FTS5 query: each word quoted, so punctuation cannot be syntax."""
    words = text.split()
    if not words:
        raise QueryError("empty search")
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def _rows(cursor: sqlite3.Cursor) -> Iterator[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield dict(zip(names, row, strict=True))


_FILTERS = """
  and (:site = '' or a.site = :site)
  and (:since = '' or a.published >= :since)
  and (:until = '' or substr(a.published, 1, length(:until)) <= :until)
"""


@dataclass(frozen=True)
class SearchResult:
    """The best stories of a search, and how many matched and were ranked."""

    hits: list[dict[str, Any]]
    matches: int  # stories matching the search and the filters
    ranked: int  # of those, how many were ranked: the newest (last archived) ``rank_limit``

    @property
    def note(self) -> str | None:
        """What a reader must know when not every match was ranked."""
        if self.ranked >= self.matches:
            return None
        return (f"best of the newest {self.ranked:,} of {self.matches:,} matches; "
                f"narrow with --site/--since")


def search(db: Database, text: str, site: str | None = None, since: str | None = None,
           until: str | None = None, limit: int = 20, raw: bool = False,
           marks: tuple[str, str] = ("[", "]"), rank_limit: int = RANK_LIMIT) -> SearchResult:
    """Stories matching a full-text search, best (bm25) first, each with a snippet.

    ``raw`` passes ``text`` to FTS5 as it is (``AND``, ``OR``, ``NEAR``, ``"phrases"``,
    ``prefix*``); otherwise every word must appear.  Scoring every match of a common word
    in a large archive takes long, so where more than ``rank_limit`` stories match, only
    the newest ``rank_limit`` of them (the last archived: the highest ids, a range FTS5
    reads directly) are ranked, and ``SearchResult.note`` says so.
    """
    params = {"q": text.strip() if raw else fts_query(text), "site": check_site(db, site),
              "since": check_date(since, "--since"), "until": check_date(until, "--until"),
              "limit": limit, "open": marks[0], "close": marks[1], "cut": 0,
              "newest": max(1, rank_limit)}
    filtered = bool(params["site"] or params["since"] or params["until"])
    source = ("from articles_fts join articles a on a.id = articles_fts.rowid "
              f"where articles_fts match :q {_FILTERS}" if filtered
              else "from articles_fts where articles_fts match :q")
    try:
        # One pass over the newest ``rank_limit`` matches gives both how many there are and
        # the cut-off; the older ones are only counted, and only where there are any.
        ranked, oldest = db.execute(
            f"select count(*), min(rowid) from (select articles_fts.rowid as rowid {source} "
            "order by articles_fts.rowid desc limit :newest)", params).fetchone()
        matches = ranked
        if ranked >= params["newest"]:
            params["cut"] = oldest
            matches += db.execute(f"select count(*) {source} and articles_fts.rowid < :cut",
                                  params).fetchone()[0]
            if matches == ranked:
                params["cut"] = 0
        sql = f"""
select a.id, a.site, a.published, a.title, a.url,
  snippet(articles_fts, -1, :open, :close, '…', 20) as snippet,
  articles_fts.rank as rank
from articles_fts
join articles a on a.id = articles_fts.rowid
where articles_fts match :q and articles_fts.rowid >= :cut {_FILTERS}
order by articles_fts.rank
limit :limit
"""
        return SearchResult(list(_rows(db.execute(sql, params))), matches, ranked)
    except sqlite3.OperationalError as exc:
        if "fts5" in str(exc) or "syntax" in str(exc):
            raise QueryError(f"bad search {text!r}: {exc}") from exc
        raise


def export_stories(db: Database, site: str | None = None, since: str | None = None,
                   until: str | None = None) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """Every story (``articles`` row) matching the filters, oldest first, as a lazy stream."""
    params = {"site": check_site(db, site), "since": check_date(since, "--since"),
              "until": check_date(until, "--until")}
    cursor = db.execute(f"select a.* from articles a where 1 {_FILTERS} order by a.id", params)
    return [d[0] for d in cursor.description], _rows(cursor)


def site_stats(db: Database) -> list[dict[str, Any]]:
    """Per site: what is archived and how its runs went (last run, last success, failures)."""
    counts = {
        "stories": "select site, count(*) from articles group by site",
        "versions": "select a.site, count(*) from article_versions v "
                    "join articles a on a.id = v.article_id group by a.site",
        "teasers": "select site, count(*) from teasers group by site",
        "related_links": "select a.site, count(*) from links l join articles a "
                         "on a.id = l.from_id where l.kind = 'related' group by a.site",
        "runs": "select site, count(*) from crawls group by site",
        "failed_runs": "select site, count(*) from crawls "
                       "where status in ('failed', 'interrupted') group by site",
        "gone": "select site, count(*) from takedowns where back is null group by site",
        "came_back": "select site, count(*) from takedowns where back is not null "
                     "group by site",
    }
    names = dict(db.execute("select id, name from sites").fetchall())
    sites: dict[str, dict[str, Any]] = {}

    def entry(site: str) -> dict[str, Any]:
        return sites.setdefault(site, {"site": site, "name": names.get(site),
                                       **dict.fromkeys(counts, 0), "last_run": None,
                                       "last_success": None})

    for site in names:
        entry(site)
    for key, sql in counts.items():
        for site, n in db.execute(sql):
            entry(site)[key] = n
    last = db.execute("""
select c.site, c.id, c.status, c.started, c.finished, c.finish_reason, c.run, c.workers
from crawls c where c.id = (select max(id) from crawls where site = c.site)""")
    for row in _rows(last):
        row["workers"] = crawl_workers(row["workers"])  # the workers of `hrarchive crawl --redis`
        row["died_workers"] = [w["name"] for w in row["workers"] if w.get("status") == "died"]
        entry(row.pop("site"))["last_run"] = row
    success = db.execute("""
select c.site, c.id, c.started, c.finished from crawls c
where c.id = (select max(id) from crawls where site = c.site and status = 'finished')""")
    for row in _rows(success):
        entry(row.pop("site"))["last_success"] = row
    return [sites[s] for s in sorted(sites)]


def crawl_workers(text: str | None) -> list[dict[str, Any]]:
    """A run's ``workers`` column as a list (none for a run of one process)."""
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return [w for w in value if isinstance(w, dict)] if isinstance(value, list) else []


def stories_per_year(db: Database) -> list[dict[str, Any]]:
    """Stories per site and year of publication (``year`` empty: no readable date)."""
    sql = next(c.sql for c in CANNED if c.name == "stories_per_year")
    return list(_rows(db.execute(sql)))
