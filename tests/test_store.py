"""The archive's semantics: dedup by canonical URL, versions, teasers, crawl rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlite_utils import Database

from hrarchive.store import Archive


class Clock:
    """A frozen clock that a test moves forward by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, days: int = 1) -> None:
        self.now += timedelta(days=days)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def archive(clock: Clock) -> Archive:
    return Archive(Database(memory=True), clock=clock)


def story(**changes: Any) -> dict[str, Any]:
    base = {"site": "hrhouse", "url": "https://humanrightshouse.org/articles/court-rejects/",
            "canonical_url": None, "title": "Court rejects Mehman Huseynov's appeal",
            "published": "2018-10-18", "published_raw": "October 18, 2018",
            "body_text": "The Azerbaijani video journalist ...", "body_html": "<p>The ...</p>",
            "authors": [], "tags": ["Azerbaijan"],
            "related": [{"url": "https://humanrightshouse.org/articles/other/", "title": "Other"}]}
    return {**base, **changes}


def rows(archive: Archive, table: str) -> list[dict[str, Any]]:
    archive.commit()
    return list(archive.db[table].rows)


def test_a_story_is_its_canonical_url(archive: Archive) -> None:
    assert archive.save_article(story()) == "new"
    assert archive.save_article(story()) == "unchanged"
    # the same page under a trailing-slash variant, and reached through a tracking URL
    assert archive.save_article(story(url=story()["url"].rstrip("/"))) == "unchanged"
    assert archive.save_article(story(url=story()["url"] + "?x=1",
                                      canonical_url=story()["url"])) == "unchanged"
    articles = rows(archive, "articles")
    assert len(articles) == 1
    assert articles[0]["url"] == story()["url"]
    assert len(rows(archive, "article_versions")) == 1
    assert [a["url"] for a in rows(archive, "article_aliases")] == [story()["url"] + "?x=1"]


def test_changed_story_gets_a_new_version_and_keeps_the_old(archive: Archive,
                                                            clock: Clock) -> None:
    archive.save_article(story())
    clock.tick()
    assert archive.save_article(story(body_text="Corrected text.")) == "changed"
    [article] = rows(archive, "articles")
    assert article["version"] == 2
    assert article["body_text"] == "Corrected text."
    assert article["first_seen"] == "2026-01-02T03:04:05+00:00"
    assert article["last_changed"] == "2026-01-03T03:04:05+00:00"
    versions = rows(archive, "article_versions")
    assert [(v["version"], v["body_text"]) for v in versions] == [
        (1, "The Azerbaijani video journalist ..."), (2, "Corrected text.")]
    assert versions[0]["body_html"] == "<p>The ...</p>"


def test_unchanged_story_only_moves_last_seen(archive: Archive, clock: Clock) -> None:
    archive.save_article(story())
    first = rows(archive, "articles")[0]
    clock.tick()
    archive.save_article(story())
    again = rows(archive, "articles")[0]
    assert again["last_seen"] == "2026-01-03T03:04:05+00:00"
    assert {k: v for k, v in again.items() if k != "last_seen"} == \
        {k: v for k, v in first.items() if k != "last_seen"}


def test_same_content_under_another_url_is_an_alias(archive: Archive) -> None:
    archive.save_article(story())
    copy_url = "https://humanrightshouse.org/?p=19544"
    assert archive.save_article(story(url=copy_url)) == "alias"
    assert len(rows(archive, "articles")) == 1
    [alias] = rows(archive, "article_aliases")
    assert (alias["url"], alias["reason"]) == (copy_url, "same-content")


def test_teaser_seen_again_and_changed(archive: Archive, clock: Clock) -> None:
    teaser = {"site": "hrhouse", "url": story()["url"], "listing_url": "https://x/articles/",
              "title": "Court rejects Mehman Huseynov's appeal", "summary": "The Azerbaijani",
              "published": "2018-10-18", "published_raw": "October 18, 2018", "position": 1}
    assert archive.save_teaser(teaser) == "new"
    clock.tick()
    assert archive.save_teaser(teaser) == "seen"
    [row] = rows(archive, "teasers")
    assert (row["first_seen"], row["last_seen"]) == ("2026-01-02T03:04:05+00:00",
                                                     "2026-01-03T03:04:05+00:00")
    assert archive.save_teaser({**teaser, "summary": "A new summary"}) == "new"
    assert [r["summary"] for r in rows(archive, "teasers")] == ["The Azerbaijani",
                                                                "A new summary"]


def test_related_links_are_kept_once(archive: Archive) -> None:
    archive.save_article(story())
    archive.save_article(story())
    [link] = rows(archive, "links")
    assert (link["to_url"], link["kind"], link["title"]) == (
        "https://humanrightshouse.org/articles/other/", "related", "Other")


def test_crawl_row_records_start_end_status_and_counts(archive: Archive, clock: Clock) -> None:
    crawl_id = archive.start_crawl("hrhouse", {"base_url": "http://127.0.0.1:1"})
    assert rows(archive, "crawls")[0]["status"] == "running"
    clock.tick()
    archive.finish_crawl(crawl_id, "finished", "finished", {"articles_new": 3},
                         {"downloader/request_count": 9})
    [run] = rows(archive, "crawls")
    assert (run["status"], run["articles_new"]) == ("finished", 3)
    assert (run["started"], run["finished"]) == ("2026-01-02T03:04:05+00:00",
                                                 "2026-01-03T03:04:05+00:00")
    assert '"downloader/request_count": 9' in run["stats"]


def test_batches_are_committed_by_size(tmp_path: Any, clock: Clock) -> None:
    path = tmp_path / "archive.db"
    archive = Archive(path, clock=clock, batch_size=2, commit_seconds=3600)
    archive.save_article(story())
    reader = Database(path)
    assert reader["articles"].count == 0  # still in the open batch
    archive.save_article(story(url="https://humanrightshouse.org/articles/b/", body_text="b"))
    assert reader["articles"].count == 2
    archive.close()


def test_archive_file_is_wal_and_migrated(tmp_path: Any) -> None:
    path = tmp_path / "archive.db"
    Archive(path).close()
    db = Database(path)
    assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert db.execute("pragma user_version").fetchone()[0] >= 1
    Archive(path).close()  # opening again applies nothing twice
    assert db["_sqlite_migrations"].count == db.execute("pragma user_version").fetchone()[0]
