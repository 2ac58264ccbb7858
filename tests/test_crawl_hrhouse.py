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


def test_bad_pages_are_logged_with_their_url_and_the_rest_archived(
        serve: Callable[[str], FixtureSite], tmp_path: Path) -> None:
    server = serve("hrhouse")
    result = crawl("hrhouse", server, tmp_path / "archive.db")
    assert result.returncode == 0, result.output
    bad = {c.meta["bad"]: c.url.replace("https://humanrightshouse.org", server.base_url)
           for c in load_cases("hrhouse") if c.meta.get("bad")}
    assert set(bad) == {"no-date", "no-title", "broken-html", "404"}
    assert f"HTTP 404 for {bad['404']}" in result.output
    assert f"article without title: {bad['no-title']}" in result.output
    assert f"Story without a readable date (kept): {bad['no-date']}" in result.output
    urls = {row["url"]: row for row in result.db["articles"].rows}
    assert urls[bad["no-date"]]["published"] is None
    assert urls[bad["broken-html"]]["body_text"]  # truncated page: what is there is kept
    assert bad["no-title"] not in urls and bad["404"] not in urls
    stats = next(result.db["crawls"].rows)["stats"]
    assert '"hrarchive/errors/http_404": 1' in stats
    assert '"hrarchive/validate/dropped_article_no_title": 1' in stats


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


def test_two_sites_in_one_process_share_one_writer(
        serve: Callable[[str], FixtureSite], tmp_path: Path) -> None:
    from hrarchive.profiles import BUILTIN_DIR
    from tests.conftest import FAST, run_hrarchive

    twin = tmp_path / "twin.toml"  # the same site under a second id: a second spider
    twin.write_text((BUILTIN_DIR / "hrhouse.toml").read_text("utf-8")
                    .replace('id = "hrhouse"', 'id = "twin"'), "utf-8")
    first, second = serve("hrhouse"), serve("hrhouse")
    db_path = tmp_path / "archive.db"
    args = ["crawl", "hrhouse", "--profile", str(twin), "--db", str(db_path),
            "--base-url", f"hrhouse={first.base_url}", "--base-url", f"twin={second.base_url}",
            "-s", "HRARCHIVE_COMMIT_SECONDS=60"]  # batches stay open while the other writes
    for setting in FAST:
        args += ["-s", setting]
    done = run_hrarchive(*args)
    assert done.returncode == 0, done.stderr
    assert "database is locked" not in done.stderr
    from sqlite_utils import Database
    db = Database(db_path)
    runs = {r["site"]: r for r in db["crawls"].rows}
    assert {s: r["status"] for s, r in runs.items()} == {"hrhouse": "finished",
                                                         "twin": "finished"}
    assert dict(db.execute("select site, count(*) from articles group by site").fetchall()) == \
        {"hrhouse": 6, "twin": 6}


def test_a_tracking_tagged_link_to_an_archived_story_adds_nothing(
        serve: Callable[[str], FixtureSite], tmp_path: Path) -> None:
    """A listing that links an archived story with ``utm_*`` parameters: the story is not
    fetched again under that URL, no story, version, alias or error is added."""
    import json

    from tests.fixtureserver import Page

    server = serve("hrhouse")
    db_path = tmp_path / "archive.db"
    assert crawl("hrhouse", server, db_path).returncode == 0
    story = ("/statements/un-must-immediately-and-fully-resource-the-belarus-investigative-"
             "mechanism/")
    tagged = story + "?utm_source=newsletter&utm_medium=email&utm_campaign=test"
    listing = server.routes["/articles/"]
    href = f'href="https://humanrightshouse.org{story}"'.encode()
    assert href in listing.body
    server.put("/articles/", Page(listing.body.replace(href, href[:-1] + tagged[len(story):]
                                                       .replace("&", "&amp;").encode() + b'"'),
                                  listing.status, listing.headers))
    # Were the tagged URL fetched, it would read as an edited story.
    original = server.routes[story]
    server.put(tagged, Page(original.body.replace(b"</h1>", b" (edited)</h1>", 1),
                            original.status, original.headers))
    tables = ("articles", "article_versions", "article_aliases", "links")
    before = {t: [strip_seen(r) for r in crawl_db_rows(db_path, t)] for t in tables}
    server.hits.clear()

    again = crawl("hrhouse", server, db_path, "--full")
    assert again.returncode == 0, again.output
    assert "/articles/" in server.hits and story in server.hits
    assert [h for h in server.hits if "utm_" in h] == []
    for table in tables:
        assert [strip_seen(r) for r in crawl_db_rows(db_path, table)] == before[table], table
    run = list(again.db["crawls"].rows)[-1]
    stats = json.loads(run["stats"])
    assert run["articles_new"] == 0 and run["articles_changed"] == 0
    # The one error is the saved 404 story, tried again as every run does.
    assert run["errors"] == stats.get("hrarchive/errors/http_404") == 1, stats
    teasers = [r["url"] for r in again.db["teasers"].rows]
    assert any(u.endswith(story) for u in teasers) and not any("utm_" in u for u in teasers)
