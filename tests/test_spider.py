"""The profile-driven spider's own decisions, without the engine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from sqlite_utils import Database

from hrarchive.profiles import load_profile
from hrarchive.spiders.site import spider_for
from tests.conftest import FAST, crawl, run_hrarchive
from tests.fixtureserver import FixtureSite, load_cases, route_of


def profile_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ngo.toml"
    path.write_text('id = "ngo"\nname = "An NGO"\n' + text, "utf-8")
    return path


def test_a_three_line_profile_keeps_to_its_own_site(tmp_path: Path) -> None:
    profile = load_profile(profile_file(tmp_path, 'start_urls = ["https://ngo.example.org/news/"]'))
    spider = spider_for(profile)()
    assert spider.is_story("https://ngo.example.org/2024/05/03/a-story/")
    assert spider.is_story("https://www.ngo.example.org/2024/05/03/a-story/")
    assert not spider.is_story("https://other.example.com/2024/05/03/their-story/")
    local = spider_for(profile)(base_url="http://127.0.0.1:8000")
    assert local.is_story("http://127.0.0.1:8000/2024/05/03/a-story/")
    assert local.is_story("https://ngo.example.org/2024/05/03/a-story/")  # rebased when fetched


def test_a_feed_only_profile_makes_a_spider(tmp_path: Path) -> None:
    profile = load_profile(profile_file(tmp_path, 'feeds = ["https://ngo.example.org/feed/"]'))
    spider = spider_for(profile)(base_url="http://127.0.0.1:8000")
    assert spider.rebase("https://ngo.example.org/a/") == "http://127.0.0.1:8000/a/"
    assert not spider.is_story("https://other.example.com/a/")


def test_feed_entries_are_archived_as_teasers(serve: Callable[[str], FixtureSite],
                                             tmp_path: Path) -> None:
    [feed] = [c for c in load_cases("indexoncensorship") if c.kind == "feed"]
    server = serve("indexoncensorship")
    result = crawl("indexoncensorship", server, tmp_path / "archive.db")
    assert result.returncode == 0, result.output
    feed_url = server.base_url + route_of(feed.url)
    stored = list(result.db.query(
        "select url, title from teasers where listing_url = ? order by position", [feed_url]))
    expected = (feed.expected or {})["teasers"]
    assert [(row["url"].removeprefix(server.base_url), row["title"]) for row in stored] == [
        (urlsplit(t["url"]).path, t["title"]) for t in expected]  # tracking parameters gone


def test_a_feed_declared_on_a_listing_page_is_followed(serve: Callable[[str], FixtureSite],
                                                       tmp_path: Path) -> None:
    # The profile names only listing page 2 (two stories, no next page); the other three
    # stories are reached through the feed the page declares with <link rel=alternate>.
    profile = profile_file(tmp_path, 'start_urls = ["https://news.example.org/page/2/"]')
    server = serve("wordpress")
    db_path = tmp_path / "archive.db"
    done = run_hrarchive("crawl", "--profile", str(profile), "--db", str(db_path),
                         "--base-url", server.base_url, *(f"-s{s}" for s in FAST))
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    db = Database(db_path)
    stories = {c.url.removeprefix("https://news.example.org") for c in load_cases("wordpress")
               if c.kind == "article"}
    assert {r["url"].removeprefix(server.base_url) for r in db["articles"].rows} == stories
    [page2] = [c for c in load_cases("wordpress") if c.url.endswith("/page/2/")]
    on_page2 = {t["url"].removeprefix("https://news.example.org")
                for t in (page2.expected or {})["teasers"]}
    assert len(on_page2) == 2
    from_feed = {r["url"].removeprefix(server.base_url) for r in db.query(
        "select url from teasers where listing_url = ?", [server.base_url + "/feed/"])}
    assert from_feed >= stories - on_page2
    assert server.hits.count("/feed/") == 1  # declared on every page, fetched once
    stats = db.execute("select stats from crawls").fetchone()[0]
    assert '"hrarchive/feed/declared": 1' in stats
    # The next run fetches no story: the feed prints a day ("Tue, 05 Mar 2024 09:00:00
    # +0000") that the listing gives as an ISO date, and that is the same teaser.
    server.hits.clear()
    again = run_hrarchive("crawl", "--profile", str(profile), "--db", str(db_path),
                          "--base-url", server.base_url, *(f"-s{s}" for s in FAST))
    assert again.returncode == 0, (again.stdout + again.stderr)[-3000:]
    assert "/feed/" in server.hits and not set(server.hits) & stories
