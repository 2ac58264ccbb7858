"""Takedowns: a story its site stops serving is marked gone, kept whole, and marked back when
it returns.  The scenario site is crawled through the real engine, edited, and crawled again
with ``--full``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from hrarchive.spiders.incremental import Fetch, Planner
from hrarchive.store import Archive
from hrarchive.store.queries import CANNED
from hrarchive.store.state import KnownStory, SiteState
from tests.conftest import CrawlResult, run_hrarchive
from tests.scenario import ScenarioSite
from tests.test_incremental import crawl_scenario, scenario

__all__ = ["scenario"]  # the fixture, used by the tests below


def rows(result: CrawlResult, sql: str, *params: object) -> list[dict]:
    return list(result.db.query(sql, params))


def stats_json(result: CrawlResult) -> dict:
    done = run_hrarchive("stats", "--json", "--db", str(result.db_path))
    assert done.returncode == 0, done.stderr
    [site] = json.loads(done.stdout)["sites"]
    return dict(site)


@pytest.fixture
def crawled(scenario: Callable[..., ScenarioSite],
            tmp_path: Path) -> Iterator[tuple[ScenarioSite, CrawlResult]]:
    site = scenario(6)
    first = crawl_scenario(site, tmp_path)
    assert first.returncode == 0, first.output
    yield site, first


def test_taken_down_stories_are_marked_gone_kept_and_marked_back(
        crawled: tuple[ScenarioSite, CrawlResult], tmp_path: Path) -> None:
    site, first = crawled
    before = {r["url"]: r for r in rows(first, "select * from articles")}
    versions = rows(first, "select * from article_versions order by article_id, version")
    assert len(before) == 6
    gone = {site.take_down(2, 404).number: 404, site.take_down(3, 410).number: 410,
            site.take_down(4, 301).number: 301}
    site.edit(5)  # a story edited meanwhile: a new version, not a takedown

    second = crawl_scenario(site, tmp_path, "--full")
    assert second.returncode == 0, second.output
    taken = {r["url"]: r for r in rows(second, "select * from takedowns")}
    assert set(taken) == {site.local(site.stories[n - 1]) for n in gone}
    for number, status in gone.items():
        url = site.local(site.stories[number - 1])
        row = taken[url]
        assert row["status"] == status
        assert row["back"] is None and row["first_gone"] == row["last_gone"]
        assert row["last_alive"] == before[url]["last_seen"]  # when last fetched alive
        assert row["article_id"] == before[url]["id"]
        assert row["redirect_to"] == (site.base_url + "/articles/" if status == 301 else None)
    # nothing is deleted: every story and every version is still there; story 5 has two
    after = rows(second, "select * from article_versions order by article_id, version")
    assert [v for v in after if v["version"] == 1] == versions
    assert [(v["article_id"], v["version"]) for v in after if v["version"] > 1] == \
        [(before[site.local(site.stories[4])]["id"], 2)]
    assert {r["url"]: r["last_seen"] for r in rows(second, "select * from articles")
            if r["url"] in taken} == {u: before[u]["last_seen"] for u in taken}
    run = rows(second, "select * from crawls order by id desc limit 1")[0]
    assert run["status"] == "finished" and run["errors"] == 0
    assert json.loads(run["stats"])["hrarchive/store/story_gone"] == 3

    month = rows(second, "select first_gone from takedowns")[0]["first_gone"][:7]
    assert rows(second, "select * from takedowns_by_month") == [
        {"site": "scenario", "site_name": "Scenario site (hrhouse markup)", "month": month,
         "takedowns": 3, "still_gone": 3, "came_back": 0}]
    missing = next(c.sql for c in CANNED if c.name == "missing_stories")
    listed = rows(second, missing.replace(":site", "?").replace(":month", "?"),
                  *["scenario"] * 2, *[month] * 3)
    assert {r["title"] for r in listed} == {f"Story {n}: defenders in court" for n in gone}
    assert {r["versions"] for r in listed} == {1}
    assert stats_json(second)["gone"] == 3

    # two come back; one stays gone: the same takedown, found gone again
    site.restore(2)
    site.restore(4)
    fourth = crawl_scenario(site, tmp_path, "--full")
    assert fourth.returncode == 0, fourth.output
    again = {r["url"]: r for r in rows(fourth, "select * from takedowns")}
    assert set(again) == set(taken)
    still = site.local(site.stories[2])
    assert again[still]["first_gone"] == taken[still]["first_gone"]
    assert again[still]["last_gone"] > taken[still]["last_gone"]
    back = {u: r["back"] for u, r in again.items()}
    assert {u for u, b in back.items() if b} == {site.local(site.stories[1]),
                                                  site.local(site.stories[3])}
    assert back[site.local(site.stories[2])] is None
    view = {r["url"]: r["gone_since"] for r in rows(fourth, "select * from stories")}
    assert view[site.local(site.stories[2])] == taken[site.local(site.stories[2])]["first_gone"]
    assert view[site.local(site.stories[1])] is None
    figures = stats_json(fourth)
    assert (figures["gone"], figures["came_back"], figures["stories"]) == (1, 2, 6)
    assert len(rows(fourth, "select * from article_versions")) == len(after)


def test_an_incremental_run_revalidates_only_recent_unlisted_stories(
        crawled: tuple[ScenarioSite, CrawlResult], tmp_path: Path) -> None:
    """Outside --full, a story gone from the listings is checked while it is recent."""
    site, _ = crawled
    site.take_down(1, 404)  # published in 2021: older than any recency window
    quiet = crawl_scenario(site, tmp_path, "-s", "HRARCHIVE_RECENT_DAYS=1")
    assert quiet.returncode == 0, quiet.output
    assert rows(quiet, "select * from takedowns") == []
    noticed = crawl_scenario(site, tmp_path, "-s", "HRARCHIVE_RECENT_DAYS=100000")
    assert noticed.returncode == 0, noticed.output
    [row] = rows(noticed, "select * from takedowns")
    assert (row["url"], row["status"]) == (site.local(site.stories[0]), 404)


# --- units: the store's takedown writes and the planner's unlisted stories -------------------
NOW = datetime(2026, 1, 10, 12, tzinfo=UTC)
STORY = "https://humanrightshouse.org/articles/court-rejects/"


def test_store_marks_gone_once_then_back_and_gone_again() -> None:
    clock = iter(NOW + timedelta(hours=h) for h in range(100))
    archive = Archive(Database(memory=True), clock=lambda: next(clock))
    archive.save_article({"site": "hrhouse", "url": STORY, "title": "Court rejects",
                          "published": "2018-10-18", "body_text": "Text."})
    archive.save_article({"site": "hrhouse", "url": STORY + "?copy", "title": "Court",
                          "published": "2018-10-18", "body_text": "Other."})
    alive = next(archive.db["articles"].rows)["last_seen"]
    assert archive.story_gone("https://humanrightshouse.org/nowhere/", 404) == "unknown"
    assert archive.story_gone(STORY.rstrip("/"), 404, crawl_id=7) == "gone"  # slash variant
    assert archive.story_gone(STORY, 410) == "still_gone"
    [row] = archive.db["takedowns"].rows
    assert (row["status"], row["last_alive"], row["crawl_id"], row["back"]) == \
        (404, alive, 7, None)
    assert row["first_gone"] < row["last_gone"]
    assert archive.story_alive([STORY + "?copy"]) is False  # another story, never gone
    assert archive.story_alive([STORY], crawl_id=9) is True
    assert archive.story_alive([STORY]) is False  # already back
    assert archive.story_gone(STORY, 301, redirect_to="https://humanrightshouse.org/") == "gone"
    rows = list(archive.db["takedowns"].rows)
    assert [(r["status"], r["back_crawl_id"], r["back"] is None) for r in rows] == \
        [(404, 9, False), (301, None, True)]
    assert archive.db["articles"].count == 2 and archive.db["article_versions"].count == 2


def test_planner_lists_archived_stories_discovery_missed() -> None:
    old, recent = (KnownStory(f"https://x.org/articles/{n}/", published=day)
                   for n, day in (("old", date(2018, 1, 1)), ("new", date(2026, 1, 5))))
    state = SiteState("x", {s.url: s for s in (old, recent)}, previous_status="finished")
    full = Planner(state, full=True, clock=lambda: NOW)
    assert set(full.unlisted()) == {old, recent}
    assert isinstance(full.story(old.url), Fetch)  # found on a listing: not unlisted
    assert full.unlisted() == [recent]
    daily = Planner(state, recent_days=14, clock=lambda: NOW)
    assert daily.unlisted() == [recent]
    assert Planner(state, full=True, since=date(2020, 1, 1), clock=lambda: NOW).unlisted() \
        == [recent]
