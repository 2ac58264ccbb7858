"""The pieces of incremental runs without the engine: what the archive knows, what the
planner fetches, the layout alarm's arithmetic, the JOBDIR guard and the progress line."""

from __future__ import annotations

import io
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler
from sqlite_utils import Database

from hrarchive.extensions.jobdir import MARKER, JobdirGuard
from hrarchive.extensions.progress import Board, Progress, format_progress
from hrarchive.pipelines.layout import layout_problems
from hrarchive.pipelines.store import crawl_status
from hrarchive.spiders.incremental import Fetch, Planner, parse_signal_date
from hrarchive.store import Archive
from hrarchive.store.state import (
    SITEMAPS_STAT,
    ArchivedStories,
    KnownStory,
    SiteState,
    load_site_state,
    read_site_state,
    reap_crawls,
)

NOW = datetime(2026, 1, 10, 12, tzinfo=UTC)
URL = "https://humanrightshouse.org/articles/court-rejects/"


def story(url: str = URL, **changes: object) -> dict:
    return {"site": "hrhouse", "url": url, "canonical_url": None, "title": "Court rejects",
            "published": "2018-10-18", "body_text": "Text.", "body_html": "<p>Text.</p>",
            "authors": [], "tags": [], "etag": 'W/"abc"',
            "last_modified": "Thu, 18 Oct 2018 10:00:00 GMT", **changes}


def teaser(url: str = URL, **changes: object) -> dict:
    return {"site": "hrhouse", "url": url, "listing_url": "https://x/articles/",
            "title": "Court rejects", "summary": "Summary", "published": "2018-10-18",
            "published_raw": "October 18, 2018", **changes}


@pytest.fixture
def archive() -> Archive:
    return Archive(Database(memory=True), clock=lambda: NOW)


def test_site_state_knows_archived_stories_validators_and_unfinished_work(
        archive: Archive) -> None:
    archive.save_article(story())
    archive.save_teaser(teaser())
    archive.save_teaser(teaser("https://humanrightshouse.org/articles/never-fetched/"))
    archive.commit()
    state = load_site_state(archive.db, "hrhouse")
    known = state.story(URL.rstrip("/"))  # the trailing-slash variant is the same story
    assert known is not None
    assert (known.etag, known.published) == ('W/"abc"', date(2018, 10, 18))
    assert known.last_seen == NOW
    # the date as teasers are told apart: in normal form (a feed and a listing printing one
    # day differently show one teaser)
    assert known.teasers == {("Court rejects", "Summary", "2018-10-18")}
    assert state.missing == ["https://humanrightshouse.org/articles/never-fetched/"]
    assert state.previous_status is None


def test_site_state_reads_the_archive_as_it_was_when_the_run_began(tmp_path: Path) -> None:
    """Stories are looked up in the archive, not held in memory; what the run's own writer
    adds afterwards (stories, aliases, teasers) is not seen, so it stays new to the run."""
    path = tmp_path / "archive.db"
    archive = Archive(Database(path), clock=lambda: NOW)
    old = "https://humanrightshouse.org/articles/old/"
    archive.save_article(story())
    archive.save_article(story(old, title="Old", published="2001-02-03", etag=None))
    archive.save_article(story("https://humanrightshouse.org/articles/x/", canonical_url=URL))
    archive.save_teaser(teaser())
    archive.save_teaser(teaser("https://humanrightshouse.org/articles/never-fetched"))
    archive.commit()
    state = read_site_state(str(path), "hrhouse")
    assert isinstance(state.stories, ArchivedStories)
    later = "https://humanrightshouse.org/articles/later/"
    archive.save_article(story(later, title="Later", body_text="Other."))
    archive.save_article(story("https://humanrightshouse.org/articles/y/", canonical_url=URL))
    archive.save_teaser(teaser(title="Court rejects, updated"))
    archive.save_teaser(teaser("https://humanrightshouse.org/articles/teased-later/"))
    archive.commit()
    known = state.story("https://humanrightshouse.org/articles/x")  # an alias, no slash
    assert known is not None and known.url == URL
    assert known.teasers == {("Court rejects", "Summary", "2018-10-18")}
    assert state.story(later) is None
    assert state.story("https://humanrightshouse.org/articles/y/") is None
    assert state.missing == ["https://humanrightshouse.org/articles/never-fetched"]
    assert len(state.stories) == 3 and set(state.stories) == {
        URL, old, "https://humanrightshouse.org/articles/x/"}
    assert [s.url for s in state.archived()] == [URL, old]
    assert [s.url for s in state.archived(date(2018, 10, 18))] == [URL]
    state.close()
    with pytest.raises(sqlite3.ProgrammingError):
        state.stories.get(URL)  # the connection is closed


def test_touch_article_moves_only_last_seen(archive: Archive) -> None:
    archive.save_article(story())
    before = next(archive.db["articles"].rows)
    later = Archive(archive.db, clock=lambda: NOW + timedelta(days=1))
    assert later.touch_article(URL, crawl_id=7,
                               announced="2026-01-05T00:00:00+00:00") == "not_modified"
    assert later.touch_article("https://humanrightshouse.org/articles/other/") == "unknown"
    later.commit()
    after = next(archive.db["articles"].rows)
    assert after["last_seen"] == "2026-01-11T12:00:00+00:00" and after["crawl_id"] == 7
    assert after["announced"] == "2026-01-05T00:00:00+00:00"  # the signal it answered
    moved = {"last_seen", "crawl_id", "announced"}
    assert {k: v for k, v in after.items() if k not in moved} == \
        {k: v for k, v in before.items() if k not in moved}
    assert archive.db["article_versions"].count == 1


def test_a_date_announced_after_the_fetch_is_kept_only_when_newer_and_in_time(
        archive: Archive) -> None:
    archive.save_article(story(announced="2026-01-02T00:00:00+00:00"), crawl_id=7)
    assert archive.announce(URL, "2026-01-01T00:00:00+00:00", 7) == "not_newer"
    assert archive.announce(URL, "2026-01-05T00:00:00+00:00", 6) == "not_fetched"
    # later than our fetch: it may announce an edit the fetch missed, so not recorded
    assert archive.announce(URL, "2026-01-10T12:00:01+00:00", 7) == "after_fetch"
    assert archive.announce(URL + "other/", "2026-01-05T00:00:00+00:00", 7) == "unknown"
    assert archive.announce(URL, "2026-01-05T00:00:00+00:00", 7) == "announced"
    archive.commit()
    assert next(archive.db["articles"].rows)["announced"] == "2026-01-05T00:00:00+00:00"


def test_spider_announces_the_newest_date_read_after_the_story_itself() -> None:
    from scrapy.http import HtmlResponse, Request, XmlResponse

    from hrarchive.items import Announced, NotModified
    from hrarchive.profiles import load_profiles
    from hrarchive.spiders.site import spider_for

    base = "https://humanrightshouse.org/articles/"
    spidercls = spider_for(load_profiles()["hrhouse"])
    crawler = get_crawler(spidercls)
    spider = spidercls.from_crawler(crawler)
    seen = datetime(2026, 1, 1, tzinfo=UTC)
    spider.planner = Planner(SiteState("hrhouse", {URL: KnownStory(URL, 'W/"1"', None, seen)}),
                             clock=lambda: NOW)
    crawler.stats.open_spider()  # type: ignore[union-attr]
    # the story's page is read first (found on a listing): it answers 304, nothing announced
    request = Request(URL, meta={"hrarchive_known": URL})
    [touched] = spider.parse_article(HtmlResponse(URL, status=304, request=request))
    assert isinstance(touched, NotModified) and touched.announced is None

    def sitemap(lastmod: str) -> list:
        body = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{URL}</loc><lastmod>{lastmod}</lastmod></url></urlset>""".encode()
        response = XmlResponse(base + "sitemap.xml", body=body,
                               request=Request(base + "sitemap.xml"))
        return [i for i in spider.parse_sitemap(response) if isinstance(i, Announced)]

    def feed(updated: str) -> list:
        body = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>HRHF</title>
<entry><title>Court rejects</title><link href="{URL}"/>
  <published>2018-10-18T10:00:00Z</published><updated>{updated}</updated></entry>
</feed>""".encode()
        response = XmlResponse(base + "feed/", body=body, request=Request(base + "feed/"))
        return [i for i in spider.parse_feed(response) if isinstance(i, Announced)]

    # the sitemap read afterwards announces the story: its date is recorded after the fact
    assert sitemap("2026-01-05T10:00:00+00:00") == \
        [Announced("hrhouse", URL, "2026-01-05T10:00:00+00:00")]
    assert feed("2026-01-03T10:00:00Z") == []  # an older signal read last does not win
    assert spider.announced[URL] == datetime(2026, 1, 5, 10, tzinfo=UTC)
    assert sitemap("2026-01-05T10:00:00+00:00") == []  # nothing new: not announced again
    assert feed("2026-01-06T10:00:00Z") == \
        [Announced("hrhouse", URL, "2026-01-06T10:00:00+00:00")]


def test_a_failed_write_leaves_nothing_of_its_item(archive: Archive) -> None:
    with pytest.raises(sqlite3.Error):  # a value SQLite cannot store, after the row went in
        archive.save_article(story(related=[{"url": object(), "title": "x"}]))
    archive.save_article(story("https://humanrightshouse.org/articles/b/", body_text="B."))
    archive.commit()
    assert [r["url"] for r in archive.db["articles"].rows] == \
        ["https://humanrightshouse.org/articles/b/"]
    assert archive.db["article_versions"].count == 1


def test_running_row_of_a_dead_process_becomes_interrupted(archive: Archive) -> None:
    crawl_id = archive.start_crawl("hrhouse")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    archive.db["crawls"].update(crawl_id, {"pid": int(dead.stdout)})
    live = archive.start_crawl("viasna")  # this process: alive
    archive.commit()
    state = load_site_state(archive.db, "hrhouse")
    assert state.previous_status == "interrupted"  # seen as such even before it is reaped
    assert reap_crawls(archive.db) == [crawl_id]
    rows = {r["id"]: r for r in archive.db["crawls"].rows}
    assert rows[crawl_id]["status"] == "interrupted"
    assert "process gone" in rows[crawl_id]["finish_reason"]
    assert rows[live]["status"] == "running"


SITEMAP = "https://humanrightshouse.org/post-sitemap.xml"


def planner(*, previous: str | None = "finished", announced: datetime | None = None,
            **kwargs: object) -> Planner:
    known = KnownStory(URL, 'W/"abc"', "Thu, 18 Oct 2018 10:00:00 GMT",
                       datetime(2026, 1, 1, tzinfo=UTC), date(2018, 10, 18),
                       frozenset({("Court rejects", "Summary", "October 18, 2018")}), announced)
    state = SiteState("hrhouse", {URL: known}, previous_status=previous,
                      previous_finished=datetime(2026, 1, 1, tzinfo=UTC),
                      sitemaps={SITEMAP: "2025-12-01T00:00:00+00:00"})
    return Planner(state, clock=lambda: NOW, **kwargs)  # type: ignore[arg-type]


def test_planner_fetches_new_stories_and_revalidates_only_on_a_signal() -> None:
    plan = planner()
    assert plan.story("https://humanrightshouse.org/articles/new/") == Fetch("new")
    assert plan.story(URL) == "archived"
    assert plan.story(URL, teaser=("Court rejects", "Summary", "October 18, 2018")) == "archived"
    changed = plan.story(URL, changed=datetime(2026, 1, 5, tzinfo=UTC))
    assert isinstance(changed, Fetch) and changed.reason == "sitemap"
    assert changed.headers == {"If-None-Match": 'W/"abc"',
                               "If-Modified-Since": "Thu, 18 Oct 2018 10:00:00 GMT"}
    assert plan.story(URL, changed=datetime(2025, 12, 1, tzinfo=UTC)) == "archived"
    # once a sitemap date announced the version archived, later dates compare with it: the
    # site's clock, not ours
    assert planner(announced=datetime(2020, 1, 1, tzinfo=UTC)).story(
        URL, changed=datetime(2020, 1, 1, tzinfo=UTC)) == "archived"
    later = planner(announced=datetime(2020, 1, 1, tzinfo=UTC)).story(
        URL, changed=datetime(2020, 1, 2, tzinfo=UTC))
    assert isinstance(later, Fetch) and later.reason == "sitemap"
    retitled = plan.story(URL, teaser=("Court upholds", "Summary", "October 18, 2018"))
    assert isinstance(retitled, Fetch) and retitled.reason == "teaser"
    young = planner(recent_days=365 * 20).story(URL)
    assert isinstance(young, Fetch) and young.reason == "recent"
    full = planner(full=True).story(URL)
    assert isinstance(full, Fetch) and full.reason == "full" and full.known is not None
    since = planner(since=date(2020, 1, 1))
    assert since.story("https://humanrightshouse.org/articles/old/",
                       published=date(2019, 5, 1)) == "before_since"


def test_planner_stops_paging_at_an_archived_tail_unless_it_must_walk_everything() -> None:
    plan = planner()
    assert plan.mode == "incremental"
    assert plan.keep_paging([False, False], [None, None]) is None
    assert plan.keep_paging([False, True], [None, None]) == "archived"
    assert plan.keep_paging([True, False], [None, None]) is None  # a pinned story on top
    assert planner(previous="interrupted").mode == "recovery"
    assert planner(previous="interrupted").keep_paging([True], [None]) is None
    assert planner(full=True).keep_paging([True], [None]) is None
    since = planner(full=True, since=date(2020, 1, 1))
    assert since.keep_paging([False, False], [date(2019, 1, 2), None]) == "before_since"
    assert since.keep_paging([False, False], [date(2021, 1, 2), date(2019, 1, 1)]) is None


def test_child_sitemaps_unchanged_since_the_last_finished_run_are_skipped() -> None:
    assert planner().sitemap_current(SITEMAP, datetime(2025, 12, 1, tzinfo=UTC))
    assert not planner().sitemap_current(SITEMAP, datetime(2025, 12, 2, tzinfo=UTC))
    assert not planner().sitemap_current(SITEMAP, None)
    assert not planner().sitemap_current(SITEMAP + "?2", datetime(2025, 1, 1, tzinfo=UTC))
    assert not planner(full=True).sitemap_current(SITEMAP, datetime(2025, 6, 1, tzinfo=UTC))
    assert not planner(previous="interrupted").sitemap_current(
        SITEMAP, datetime(2025, 6, 1, tzinfo=UTC))


@pytest.mark.parametrize(("text", "expected"), [
    ("2023-07-11T10:02:41+00:00", datetime(2023, 7, 11, 10, 2, 41, tzinfo=UTC)),
    ("2023-07-11", datetime(2023, 7, 11, tzinfo=UTC)),
    ("2023-07-11T12:02:41+02:00", datetime(2023, 7, 11, 10, 2, 41, tzinfo=UTC)),
    ("Tue, 11 Jul 2023 10:02:41 GMT", datetime(2023, 7, 11, 10, 2, 41, tzinfo=UTC)),
    ("yesterday", None), ("", None), (None, None)])
def test_signal_dates(text: str | None, expected: datetime | None) -> None:
    assert parse_signal_date(text) == expected


def test_layout_problems_name_the_fields_too_many_pages_lack() -> None:
    missing = {"title": [], "published": ["u1", "u2", "u3"], "body_text": ["u1"]}
    assert layout_problems(4, missing, 0.5, 3) == {
        "published": "3 of 4 story pages lack a readable date (published)"}
    assert layout_problems(2, missing, 0.5, 3) == {}  # too few pages to judge
    assert crawl_status("finished", {"hrarchive/listing/read": 2,
                                     "hrarchive/layout/alarm": "layout alarm: x"}) == \
        ("failed", "layout alarm: x")


def test_jobdir_guard_discards_an_unclean_job_and_keeps_a_clean_stop(tmp_path: Path) -> None:
    job = tmp_path / "job"
    guard = JobdirGuard(job)
    guard.open()
    (job / "requests.seen").write_bytes(b"stale")
    (job / "requests.queue").mkdir()
    JobdirGuard(job).open()  # the first run never closed: its state is discarded
    assert sorted(p.name for p in job.iterdir()) == [MARKER]
    (job / "requests.seen").write_bytes(b"queued")
    guard.spider_closed(None, "shutdown")  # type: ignore[arg-type]
    assert sorted(p.name for p in job.iterdir()) == ["requests.seen"]  # resumable
    JobdirGuard(job).open()
    assert (job / "requests.seen").read_bytes() == b"queued"
    guard.spider_closed(None, "finished")  # type: ignore[arg-type]
    assert list(job.iterdir()) == []


def test_progress_line_and_board() -> None:
    stats = {"downloader/response_count": 12, "hrarchive/store/article_new": 3,
             "hrarchive/store/article_changed": 1, "hrarchive/store/article_not_modified": 2,
             "hrarchive/errors": 0}
    assert format_progress("hrhouse", stats) == \
        "hrhouse: 12 pages, 3 new, 1 changed, 2 not modified, 0 errors"
    assert format_progress("viasna", {}, "finished").endswith("0 errors — finished")
    out = io.StringIO()
    board = Board(out)
    board.update("hrhouse", "hrhouse: 1 pages")
    board.update("viasna", "viasna: 2 pages")
    board.draw()
    assert out.getvalue() == "\x1b[2Khrhouse: 1 pages\n\x1b[2Kviasna: 2 pages\r\x1b[1A"
    board.draw(final=True)
    assert out.getvalue().endswith("viasna: 2 pages\n")


def test_progress_is_off_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with pytest.raises(NotConfigured):
        Progress.from_crawler(get_crawler())


def test_spider_reads_a_yoast_sitemap_and_fetches_by_lastmod() -> None:
    from scrapy.http import Request, XmlResponse

    from hrarchive.profiles import load_profiles
    from hrarchive.spiders.site import spider_for
    from tests.fixtureserver import load_cases

    [case] = [c for c in load_cases("hrhouse") if c.kind == "sitemap"]
    entries = case.expected["entries"]  # type: ignore[index]
    stories = [e for e in entries if e["url"] != "https://humanrightshouse.org/articles/"]
    changed, unchanged = stories[0]["url"], stories[1]["url"]
    seen = datetime(2020, 1, 1, tzinfo=UTC)  # after stories[1]'s lastmod, before stories[0]'s
    spidercls = spider_for(load_profiles()["hrhouse"])
    crawler = get_crawler(spidercls)
    spider = spidercls.from_crawler(crawler)
    state = SiteState("hrhouse", {url: KnownStory(url, 'W/"v1"', None, seen)
                                  for url in (changed, unchanged)})
    # the site edits stories[0]: its lastmod moves past the archive's last fetch
    body = case.body.replace(f"<lastmod>{stories[0]['lastmod']}<".encode(),
                             b"<lastmod>2024-05-01T00:00:00+00:00<")
    assert body != case.body
    spider.planner = Planner(state, clock=lambda: NOW)
    crawler.stats.open_spider()  # type: ignore[union-attr]
    out = list(spider.parse_sitemap(XmlResponse(case.url, body=body,
                                                request=Request(case.url))))
    requested = {r.url: r for r in out if isinstance(r, Request)}
    assert set(requested) == {e["url"] for e in stories} - {unchanged}
    assert requested[changed].headers.get("If-None-Match") == b'W/"v1"'
    assert 304 in requested[changed].meta["handle_httpstatus_list"]
    assert not any(r.headers.get("If-None-Match") for u, r in requested.items() if u != changed)


def test_spider_revalidates_feed_entries_updated_since_the_last_fetch() -> None:
    from scrapy.http import Request, XmlResponse

    from hrarchive.profiles import load_profiles
    from hrarchive.spiders.site import spider_for

    base = "https://humanrightshouse.org/articles/"
    feed = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>HRHF</title>
<entry><title>Edited</title><link href="{base}edited/"/>
  <published>2019-01-01T10:00:00Z</published><updated>2026-01-05T10:00:00Z</updated></entry>
<entry><title>Old</title><link href="{base}old/"/>
  <published>2019-01-02T10:00:00Z</published><updated>2019-01-02T10:00:00Z</updated></entry>
<entry><title>New</title><link href="{base}new/"/>
  <published>2026-01-06T10:00:00Z</published></entry>
</feed>""".encode()
    spidercls = spider_for(load_profiles()["hrhouse"])
    crawler = get_crawler(spidercls)
    spider = spidercls.from_crawler(crawler)
    seen = datetime(2026, 1, 1, tzinfo=UTC)
    state = SiteState("hrhouse", {f"{base}{slug}/": KnownStory(f"{base}{slug}/", 'W/"1"', None,
                                                              seen) for slug in ("edited", "old")})
    spider.planner = Planner(state, clock=lambda: NOW)
    crawler.stats.open_spider()  # type: ignore[union-attr]
    out = list(spider.parse_feed(XmlResponse(base + "feed/", body=feed,
                                             request=Request(base + "feed/"))))
    requested = {r.url: bool(r.headers.get("If-None-Match")) for r in out
                 if isinstance(r, Request)}
    assert requested == {f"{base}edited/": True, f"{base}new/": False}
    assert len([i for i in out if not isinstance(i, Request)]) == 3  # a teaser per entry


def test_spider_skips_child_sitemaps_unchanged_since_the_last_finished_run() -> None:
    from scrapy.http import Request, XmlResponse

    from hrarchive.profiles import load_profiles
    from hrarchive.spiders.site import spider_for

    host = "https://humanrightshouse.org"
    index = f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>{host}/post-sitemap.xml</loc><lastmod>2026-01-08T09:00:00+00:00</lastmod></sitemap>
<sitemap><loc>{host}/post-sitemap2.xml</loc><lastmod>2025-03-01T09:00:00+00:00</lastmod></sitemap>
<sitemap><loc>{host}/page-sitemap.xml</loc></sitemap>
</sitemapindex>""".encode()
    spidercls = spider_for(load_profiles()["hrhouse"])

    def requested(full: bool) -> set[str]:
        crawler = get_crawler(spidercls)
        spider = spidercls.from_crawler(crawler)
        # as the last finished run saw the index: post-sitemap.xml has changed since
        state = SiteState("hrhouse", previous_status="finished", sitemaps={
            f"{host}/post-sitemap.xml": "2025-12-01T09:00:00+00:00",
            f"{host}/post-sitemap2.xml": "2025-03-01T09:00:00+00:00"})
        spider.planner = Planner(state, full=full, clock=lambda: NOW)
        crawler.stats.open_spider()  # type: ignore[union-attr]
        url = f"{host}/sitemap_index.xml"
        requests = {r.url for r in spider.parse_sitemap(
            XmlResponse(url, body=index, request=Request(url))) if isinstance(r, Request)}
        # what the next run compares with
        assert crawler.stats.get_value(SITEMAPS_STAT) == {  # type: ignore[union-attr]
            f"{host}/post-sitemap.xml": "2026-01-08T09:00:00+00:00",
            f"{host}/post-sitemap2.xml": "2025-03-01T09:00:00+00:00"}
        return requests

    assert requested(full=False) == {f"{host}/post-sitemap.xml", f"{host}/page-sitemap.xml"}
    assert len(requested(full=True)) == 3


@pytest.mark.parametrize(("stats", "alarm"), [
    ({"hrarchive/listing/read": 3}, "layout alarm: no stories found on 3 listing, feed or "
                                    "sitemap pages"),
    ({"hrarchive/listing/read": 3, "hrarchive/stories/found": 1}, None),
    ({"hrarchive/listing/read": 1, "hrarchive/sitemap/skipped_unchanged": 2}, None),
])
def test_layout_alarm_when_no_story_is_found(stats: dict, alarm: str | None) -> None:
    from hrarchive.pipelines.layout import LayoutAlarmPipeline

    crawler = get_crawler()
    assert crawler.stats is not None
    crawler.stats.open_spider()
    for key, value in stats.items():
        crawler.stats.set_value(key, value)
    LayoutAlarmPipeline.from_crawler(crawler).close_spider()
    assert crawler.stats.get_value("hrarchive/layout/alarm") == alarm
