"""Takedowns: archived stories that their site stopped serving, and their return.

A story revalidated by a crawl whose page answers 404 or 410, or redirects to a page that is
not the story, is *gone*: a ``takedowns`` row records when it was first and last found gone,
when it was last seen alive and the status that said so. Nothing of the story is deleted. A
story found online again (a page read, or a 304 Not Modified) gets ``back`` set on its open
row; if it goes again later, that is a new row.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlite_utils import Database

from hrarchive.extract.urls import slash_variant


def find_story(db: Database, urls: Iterable[str]) -> tuple[int, str, str | None] | None:
    """(id, url, last_seen) of the archived story at any of ``urls`` (or a slash variant, or
    an alias), or None."""
    candidates = [u for url in urls if url for u in (url, slash_variant(url))]
    if not candidates:
        return None
    marks = ", ".join("?" * len(candidates))
    row = db.execute(
        f"select id, url, last_seen from articles where url in ({marks}) union all "
        f"select a.id, a.url, a.last_seen from article_aliases x join articles a "
        f"on a.id = x.article_id where x.url in ({marks}) limit 1",
        [*candidates, *candidates]).fetchone()
    return (int(row[0]), str(row[1]), row[2]) if row else None


def mark_gone(db: Database, url: str, status: int, now: str, crawl_id: int | None = None,
              redirect_to: str | None = None) -> str:
    """Record that the story at ``url`` is gone; returns ``gone`` (a new takedown),
    ``still_gone`` (already gone: only ``last_gone`` moves) or ``unknown`` (not archived)."""
    story = find_story(db, [url])
    if story is None:
        return "unknown"
    article_id, story_url, last_seen = story
    cursor = db.execute("update takedowns set last_gone = ? where article_id = ? and back is null",
                        [now, article_id])
    if cursor.rowcount:
        return "still_gone"
    site = db.execute("select site from articles where id = ?", [article_id]).fetchone()[0]
    db.execute(
        "insert into takedowns (article_id, site, url, status, redirect_to, first_gone, "
        "last_gone, last_alive, crawl_id) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [article_id, site, story_url, status, redirect_to, now, now, last_seen, crawl_id])
    return "gone"


def mark_back(db: Database, urls: Iterable[str], now: str, crawl_id: int | None = None) -> bool:
    """A story at one of ``urls`` was found online: close its open takedown, if it has one.
    Returns whether it had one (the story came back)."""
    if db.execute("select 1 from takedowns where back is null limit 1").fetchone() is None:
        return False  # the common case, answered without looking the story up
    story = find_story(db, urls)
    if story is None:
        return False
    cursor = db.execute("update takedowns set back = ?, back_crawl_id = ? "
                        "where article_id = ? and back is null", [now, crawl_id, story[0]])
    return bool(cursor.rowcount)
