"""Store functions of the raw capture: which WARC record holds each story version, and the
attachments (PDF reports and the like) fetched from stories."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from hrarchive.store.archive import Archive


def save_capture(archive: Archive, item: Mapping[str, Any], crawl_id: int | None) -> bool:
    """Map the story version ``item`` was saved as to its WARC record; False if no story."""
    capture = item.get("capture")
    if not capture:
        return False
    story = archive._find_article(item.get("canonical_url") or item["url"]) \
        or archive._find_article(item["url"])
    if story is None:
        return False
    archive._begin()
    archive._insert("captures", {
        "article_id": story["id"], "version": story["version"], "crawl_id": crawl_id,
        "url": capture["url"], "warc": capture["warc"], "offset": capture["offset"],
        "length": capture["length"], "record_id": capture["record_id"],
        "record_type": capture["type"], "captured": capture["date"],
        "payload_digest": capture["digest"], "status": capture["status"],
    }, ignore=True)
    archive._wrote()
    return True


def save_attachment(archive: Archive, item: Mapping[str, Any], sha256: str, file: str,
                    crawl_id: int | None) -> str:
    """List an attachment; returns ``new``, or ``seen`` when its URL is already listed."""
    archive._begin()
    story = archive._find_article(item["story_url"]) if item.get("story_url") else None
    capture = item.get("capture") or {}
    table = archive._t("attachments")
    before = table.count_where("url = ?", [item["url"]])
    table.insert({
        "site": item["site"], "url": item["url"], "fetched_url": item["fetched_url"],
        "article_id": story["id"] if story else None, "story_url": item.get("story_url"),
        "title": item.get("title"), "content_type": item.get("content_type"),
        "size": len(item["body"]), "sha256": sha256, "file": file,
        "first_seen": archive._now(), "crawl_id": crawl_id,
        "warc": capture.get("warc"), "offset": capture.get("offset"),
    }, ignore=True)
    archive._wrote()
    return "seen" if before else "new"


def _read(path: str | Path) -> Database | None:
    if str(path) == ":memory:" or not Path(path).exists():
        return None
    return Database(path)


def attachment_urls(path: str | Path, site: str) -> set[str]:
    """URLs of the attachments already fetched for ``site`` (none if there is no archive)."""
    db = _read(path)
    if db is None or not db["attachments"].exists():
        return set()
    try:
        return {row[0] for row in db.execute("select url from attachments where site = ?",
                                             [site])}
    finally:
        db.close()


def wacz_pages(path: str | Path, site: str | None = None) -> list[dict[str, Any]]:
    """Pages for a WACZ: each captured story URL once, at its first capture, with its title."""
    db = _read(path)
    if db is None or not db["captures"].exists():
        return []
    try:
        rows = db.execute(
            "select c.url, min(c.captured) as ts, a.title, a.site from captures c "
            "join articles a on a.id = c.article_id "
            "where c.status between 200 and 299 and (? is null or a.site = ?) "
            "group by c.url order by ts", [site, site]).fetchall()
    finally:
        db.close()
    return [{"url": url, "ts": ts, "title": title, "site": s} for url, ts, title, s in rows]
