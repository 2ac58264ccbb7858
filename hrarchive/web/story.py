"""A story's page in Datasette: the story with its versions (each change as a word-level
diff), its teasers over time, related links in and out, attachments and captures."""

from __future__ import annotations

import difflib
import sqlite3
from html import escape
from itertools import pairwise
from typing import Any

from sqlite_utils import Database

CONTEXT = 12  # unchanged words shown on each side of a change


def _rows(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def find_story_id(db: Database, url: str) -> int | None:
    """The story archived at ``url`` (its canonical URL or an alias)."""
    row = db.execute("select id from articles where url = ? union all "
                     "select article_id from article_aliases where url = ? limit 1",
                     [url, url]).fetchone()
    return int(row[0]) if row else None


def word_diff(before: str | None, after: str | None, context: int = CONTEXT) -> str:
    """HTML of what changed from ``before`` to ``after``, word by word: removed words in
    ``<del>``, added ones in ``<ins>``, long unchanged runs shortened to their ends."""
    old, new = (before or "").split(), (after or "").split()
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    opcodes = matcher.get_opcodes()
    if all(op == "equal" for op, *_ in opcodes):
        return escape(" ".join(new))
    for index, (op, i1, i2, j1, j2) in enumerate(opcodes):
        if op == "equal":
            words = old[i1:i2]
            head = words[:context] if index > 0 else []  # after a change
            tail = words[-context:] if index < len(opcodes) - 1 else []  # before one
            if len(words) <= len(head) + len(tail) + 1:
                out.append(escape(" ".join(words)))
            else:
                out.append(escape(" ".join([*head, "…", *tail])))
            continue
        if i2 > i1:
            out.append(f"<del>{escape(' '.join(old[i1:i2]))}</del>")
        if j2 > j1:
            out.append(f"<ins>{escape(' '.join(new[j1:j2]))}</ins>")
    return " ".join(out)


def story_page(db: Database, story_id: int) -> dict[str, Any] | None:
    """Everything the story page shows, or None if there is no such story."""
    found = _rows(db.execute("select a.*, s.name as site_name from articles a "
                             "left join sites s on s.id = a.site where a.id = ?", [story_id]))
    if not found:
        return None
    story = found[0]
    aliases = [r["url"] for r in _rows(db.execute(
        "select url from article_aliases where article_id = ?", [story_id]))]
    urls = [story["url"], *aliases]
    marks = ", ".join("?" * len(urls))
    versions = _rows(db.execute(
        "select version, seen, url, title, published, modified, body_text, content_hash, "
        "crawl_id from article_versions where article_id = ? order by version", [story_id]))
    changes = [{"version": new["version"], "seen_before": old["seen"], "seen": new["seen"],
                "title": word_diff(old["title"], new["title"])
                if old["title"] != new["title"] else None,
                "body": word_diff(old["body_text"], new["body_text"])
                if old["body_text"] != new["body_text"] else None}
               for old, new in pairwise(versions)]
    teasers = _rows(db.execute(
        f"select first_seen, last_seen, published, title, summary, listing_url, url "
        f"from teasers where url in ({marks}) order by first_seen, id", urls))
    related_out = _rows(db.execute(
        "select l.to_url as url, coalesce(b.title, l.title) as title, b.id as story_id, "
        "l.first_seen from links l left join articles b on b.url = l.to_url "
        "where l.from_id = ? and l.kind = 'related' order by l.id", [story_id]))
    related_in = _rows(db.execute(
        f"select f.url, f.title, f.id as story_id, l.first_seen from links l "
        f"join articles f on f.id = l.from_id where l.to_url in ({marks}) "
        f"and l.kind = 'related' order by f.published desc", urls))
    attachments = _rows(db.execute(
        "select url, title, content_type, size, sha256, file, first_seen from attachments "
        "where article_id = ? or url in (select to_url from links where from_id = ? and "
        "kind = 'attachment') order by id", [story_id, story_id]))
    captures = _rows(db.execute(
        "select version, captured, url, status, record_type, warc, offset, length "
        "from captures where article_id = ? order by captured, id", [story_id]))
    takedowns = _rows(db.execute(
        "select status, redirect_to, last_alive, first_gone, last_gone, back "
        "from takedowns where article_id = ? order by id", [story_id]))
    body_links = db.execute("select count(*) from links where from_id = ? and kind = 'body'",
                            [story_id]).fetchone()[0]
    return {"story": story, "aliases": aliases, "versions": versions, "changes": changes,
            "teasers": teasers, "related_out": related_out, "related_in": related_in,
            "attachments": attachments, "captures": captures, "takedowns": takedowns,
            "gone": next((t for t in takedowns if not t["back"]), None),
            "body_links": int(body_links)}
