"""The capture tables: an archive made before them is migrated forward, nothing lost."""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database

from hrarchive.store import open_database
from hrarchive.store.captures import attachment_urls, wacz_pages


def test_an_archive_from_before_the_capture_tables_gets_them(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    db = open_database(path)
    db["articles"].insert({"site": "s", "url": "https://s.example/a", "title": "A"})
    for name in ("captures", "attachments"):
        db[name].drop()
    db.execute("delete from _sqlite_migrations where name = '0003_captures_and_attachments'")
    db.conn.commit()
    db.close()
    assert attachment_urls(path, "s") == set() and wacz_pages(path) == []
    db = open_database(path)
    assert db["captures"].exists() and db["attachments"].exists()
    assert [r["title"] for r in db["articles"].rows] == ["A"]
    assert {c.name for c in db["captures"].columns} >= {"article_id", "version", "warc",
                                                       "offset", "record_id"}
    db.close()


def test_no_archive_means_nothing_fetched_yet(tmp_path: Path) -> None:
    assert attachment_urls(tmp_path / "none.db", "s") == set()
    assert wacz_pages(tmp_path / "none.db") == []
    assert not (tmp_path / "none.db").exists()


def test_pages_are_each_story_url_at_its_first_capture(tmp_path: Path) -> None:
    db = open_database(tmp_path / "archive.db")
    db["articles"].insert({"id": 1, "site": "s", "url": "https://s.example/a", "title": "A"})
    db["articles"].insert({"id": 2, "site": "t", "url": "https://t.example/b", "title": "B"})
    rows = [(1, "https://s.example/a", "2024-01-02T00:00:00Z", 200, "r1"),
            (1, "https://s.example/a", "2024-01-01T00:00:00Z", 200, "r2"),
            (1, "https://s.example/gone", "2024-01-01T00:00:00Z", 404, "r3"),
            (2, "https://t.example/b", "2024-01-03T00:00:00Z", 200, "r4")]
    Database(db.conn)["captures"].insert_all(
        [{"article_id": a, "version": 1, "url": u, "captured": c, "status": s, "record_id": r}
         for a, u, c, s, r in rows])
    db.conn.commit()
    assert wacz_pages(tmp_path / "archive.db", "s") == [
        {"url": "https://s.example/a", "ts": "2024-01-01T00:00:00Z", "title": "A", "site": "s"}]
    assert [p["url"] for p in wacz_pages(tmp_path / "archive.db")] == \
        ["https://s.example/a", "https://t.example/b"]
    db.close()
