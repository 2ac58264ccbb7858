"""Crawl the Human Rights House fixture site through the real Scrapy engine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import crawl
from tests.fixtureserver import FixtureSite, load_cases


def test_crawl_archives_stories_teasers_and_related_links(
        serve: Callable[[str], FixtureSite], tmp_path: Path) -> None:
    server = serve("hrhouse")
    result = crawl("hrhouse", server, tmp_path / "archive.db")
    assert result.returncode == 0, result.output
    db = result.db
    good = [c for c in load_cases("hrhouse") if c.kind == "article" and
            c.meta.get("bad") not in {"no-title", "404"}]
    paths = {row["url"].removeprefix(server.base_url) for row in db["articles"].rows}
    assert paths == {c.url.removeprefix("https://humanrightshouse.org") for c in good}
    stored = {row["url"].removeprefix(server.base_url): row for row in db["articles"].rows}
    for case in good:
        row = stored[case.url.removeprefix("https://humanrightshouse.org")]
        expected = case.expected or {}
        assert row["title"] == expected["title"], case.name
        assert row["published"] == expected["published"], case.name  # ISO 8601, or None
    assert db["teasers"].count >= 7
    assert db.execute("select count(*) from links where kind = 'related'").fetchone()[0] >= 8
    run = next(db["crawls"].rows)
    assert run["status"] == "finished"
    assert run["finished"] and run["articles_new"] == len(good)
    assert run["errors"] == 1 and run["dropped"] >= 1  # the 404 story; the untitled page


def test_second_crawl_adds_only_its_crawl_row(
        serve: Callable[[str], FixtureSite], tmp_path: Path) -> None:
    server = serve("hrhouse")
    db_path = tmp_path / "archive.db"
    assert crawl("hrhouse", server, db_path).returncode == 0
    tables = ("articles", "article_versions", "article_aliases", "teasers", "links")
    before = {t: list(crawl_db_rows(db_path, t)) for t in tables}
    again = crawl("hrhouse", server, db_path)
    assert again.returncode == 0, again.output
    after = {t: list(crawl_db_rows(db_path, t)) for t in tables}
    for table in tables:
        assert [strip_seen(r) for r in after[table]] == [strip_seen(r) for r in before[table]]
    runs = list(again.db["crawls"].rows)
    assert [r["status"] for r in runs] == ["finished", "finished"]
    # incremental: no archived story is fetched again (test_incremental.py has the rest)
    assert runs[1]["articles_new"] == 0 and runs[1]["articles_unchanged"] == 0
    assert runs[1]["stories_found"] >= runs[0]["articles_new"]


def crawl_db_rows(db_path: Path, table: str) -> list[dict]:
    from sqlite_utils import Database
    return list(Database(db_path)[table].rows)


def strip_seen(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in {"last_seen", "crawl_id"}}


def test_unreachable_site_fails_the_crawl(tmp_path: Path) -> None:
    server = FixtureSite({}).start()  # every page 404, robots.txt included
    try:
        result = crawl("hrhouse", server, tmp_path / "archive.db")
    finally:
        server.stop()
    assert result.returncode == 1
    run = next(result.db["crawls"].rows)
    assert run["status"] == "failed"
    assert "no listing" in run["finish_reason"]
