"""Daily runs through the real engine: only new and changed stories are fetched, a --full run
finds what no signal announced, and a changed layout fails the run."""

from __future__ import annotations

import dataclasses
import json
import os
import pty
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import FAST, ROOT, CrawlResult, run_hrarchive
from tests.fixtureserver import FixtureSite
from tests.scenario import ScenarioSite, write_profile


@pytest.fixture
def scenario() -> Iterator[Callable[..., ScenarioSite]]:
    started: list[ScenarioSite] = []

    def start(stories: int, **kwargs: float) -> ScenarioSite:
        site = ScenarioSite(stories, **kwargs).start()  # type: ignore[arg-type]
        started.append(site)
        return site

    yield start
    for site in started:
        site.stop()


def crawl_scenario(site: ScenarioSite, tmp_path: Path, *extra: str) -> CrawlResult:
    profile = write_profile(tmp_path / "profiles")
    db_path = tmp_path / "archive.db"
    args = ["crawl", "--profile", str(profile), "--db", str(db_path),
            "--base-url", site.base_url]
    for setting in FAST:
        args += ["-s", setting]
    done = run_hrarchive(*args, *extra)
    return CrawlResult(done.returncode, done.stdout + done.stderr, db_path)


def last_run(result: CrawlResult) -> dict:
    return list(result.db["crawls"].rows)[-1]


def story_row(result: CrawlResult, url: str) -> dict:
    [row] = result.db["articles"].rows_where("url = ?", [url])
    return row


def test_second_run_fetches_only_new_and_changed_stories(
        scenario: Callable[..., ScenarioSite], tmp_path: Path) -> None:
    site = scenario(12, per_page=5)
    first = crawl_scenario(site, tmp_path)
    assert first.returncode == 0, first.output
    assert "\x1b[" not in first.output  # no progress lines when stderr is not a terminal
    assert first.db["articles"].count == 12
    assert last_run(first)["articles_new"] == 12

    new = site.publish(2)  # on listing page 1 and in the sitemap
    changed = site.edit(3)  # on listing page 3; its sitemap lastmod moves
    site.server.hits.clear()
    second = crawl_scenario(site, tmp_path)
    assert second.returncode == 0, second.output
    run = last_run(second)
    # the listing page also declares hrhouse's /feed/ (<link rel=alternate>), read each run
    # (not served here: a 404 warning)
    announcing = {"/articles/", "/post-sitemap.xml", "/feed/"}
    assert run["requests"] <= len(new) + 1 + len(announcing) + 1  # + robots.txt
    assert set(site.server.hits) <= {"/robots.txt", *announcing, changed.path,
                                     *(s.path for s in new)}
    assert (run["status"], run["mode"]) == ("finished", "incremental")
    assert (run["articles_new"], run["articles_changed"]) == (2, 1)
    assert second.db["articles"].count == 14
    row = story_row(second, site.local(changed))
    assert row["version"] == 2 and "Correction 1" in row["body_text"]
    assert second.db["article_versions"].count_where("article_id = ?", [row["id"]]) == 2

    # an edit nothing announces: the daily run does not see it, a --full run does
    quiet = site.edit(5, announce=False)
    third = crawl_scenario(site, tmp_path)
    assert third.returncode == 0, third.output
    assert story_row(third, site.local(quiet))["version"] == 1
    site.server.hits.clear()
    full = crawl_scenario(site, tmp_path, "--full")
    assert full.returncode == 0, full.output
    run = last_run(full)
    assert (run["mode"], run["articles_changed"], run["articles_new"]) == ("full", 1, 0)
    assert story_row(full, site.local(quiet))["version"] == 2
    # every other story was revalidated with its validators and answered 304
    assert run["not_modified"] == 13
    assert {"/articles/page/2/", "/articles/page/3/"} <= set(site.server.hits)
    assert full.db["article_versions"].count == 16


def test_a_sitemap_read_after_the_story_still_dates_it_for_the_next_run(
        scenario: Callable[..., ScenarioSite], tmp_path: Path) -> None:
    site = scenario(3, per_page=10)
    # the sitemap answers slowly (1.5 s): every story page is read before it
    sitemap = site.routes()["/post-sitemap.xml"]
    site.server.put("/post-sitemap.xml", dataclasses.replace(sitemap, delay=1.5))
    first = crawl_scenario(site, tmp_path)
    assert first.returncode == 0, first.output
    edited = site.stories[1]
    assert story_row(first, site.local(edited))["announced"] == edited.lastmod.isoformat()
    # an edit after our fetch, stamped by a site whose clock runs an hour behind ours: its
    # lastmod is older than our last fetch, newer than the date that announced our copy
    site.edit(edited.number)
    edited.modified = datetime.now(UTC) - timedelta(hours=1)
    site.sync()
    second = crawl_scenario(site, tmp_path)
    assert second.returncode == 0, second.output
    assert last_run(second)["articles_changed"] == 1
    row = story_row(second, site.local(edited))
    assert row["version"] == 2 and "Correction 1" in row["body_text"]


def test_changed_teaser_and_recent_story_are_revalidated(
        scenario: Callable[..., ScenarioSite], tmp_path: Path) -> None:
    site = scenario(6, per_page=10)
    jobs = tmp_path / "jobs"
    assert crawl_scenario(site, tmp_path, "--jobdir", str(jobs)).returncode == 0
    assert list((jobs / "scenario").iterdir()) == []  # a finished job leaves nothing behind
    # a new headline on the listing; the page itself is unchanged: a 304
    site.stories[5].teaser_note = "Updated: "
    site.sync()
    site.server.hits.clear()
    again = crawl_scenario(site, tmp_path)
    assert again.returncode == 0, again.output
    run = last_run(again)
    assert site.stories[5].path in site.server.hits
    assert run["not_modified"] == 1 and run["teasers_new"] == 1
    # with a recency window reaching back to the stories' dates, every story is revalidated
    site.server.hits.clear()
    recent = crawl_scenario(site, tmp_path, "-s", "HRARCHIVE_RECENT_DAYS=100000")
    assert last_run(recent)["not_modified"] == 6


def test_since_skips_older_stories(scenario: Callable[..., ScenarioSite],
                                   tmp_path: Path) -> None:
    site = scenario(12, per_page=5)
    since = site.stories[7].day  # stories 8..12 are on page 1; 8 is the last
    log = tmp_path / "logs" / "crawl.log"
    log.parent.mkdir()
    result = crawl_scenario(site, tmp_path, "--since", since.isoformat(),
                            "-s", f"LOG_FILE={log}")
    assert result.returncode == 0, result.output
    run = last_run(result)
    assert run["log_file"] == str(log) and "Spider closed (finished)" in log.read_text()
    assert '"since": "' + since.isoformat() in run["options"]
    assert {r["url"] for r in result.db["articles"].rows} == \
        {site.local(s) for s in site.stories[7:]}
    assert "/articles/page/3/" not in site.server.hits


def test_changed_listing_layout_fails_the_run(serve: Callable[[str], FixtureSite],
                                              tmp_path: Path) -> None:
    server = serve("hrhouse")
    for path in ("/articles/", "/articles/page/2/", "/tag/_belarus/"):
        page = server.routes[path]
        # a redesigned theme whose listings no longer hold story links at all
        page.body = re.sub(rb'<article class="post-item">.*?</article>', b"", page.body,
                           flags=re.S)
    done = run_hrarchive("crawl", "hrhouse", "--db", str(tmp_path / "a.db"),
                         "--base-url", server.base_url, *[a for s in FAST for a in ("-s", s)])
    assert done.returncode == 1
    run = next(CrawlResult(done.returncode, "", tmp_path / "a.db").db["crawls"].rows)
    assert run["status"] == "failed"
    assert "no stories found" in run["finish_reason"]
    assert "Layout alarm for hrhouse" in done.stderr


def test_renamed_listing_classes_fall_back_to_generic_teasers(
        serve: Callable[[str], FixtureSite], tmp_path: Path) -> None:
    """Since issue 14 a listing whose classes were renamed under the profile is read
    generically: the stories are archived and the stale selectors reported."""
    server = serve("hrhouse")
    for path in ("/articles/", "/articles/page/2/", "/tag/_belarus/"):
        page = server.routes[path]
        page.body = page.body.replace(b"post-item", b"news-card")  # a redesigned theme
    done = run_hrarchive("crawl", "hrhouse", "--db", str(tmp_path / "a.db"),
                         "--base-url", server.base_url, *[a for s in FAST for a in ("-s", s)])
    assert done.returncode == 0, done.stderr[-3000:]
    db = CrawlResult(done.returncode, "", tmp_path / "a.db").db
    run = next(db["crawls"].rows)
    assert run["status"] == "finished"
    assert db["articles"].count > 0
    assert "listing.teaser" in json.loads(run["stats"])["hrarchive/layout/selectors"]
    assert "selector no longer matches" in done.stderr


def test_stories_without_dates_fail_the_run(scenario: Callable[..., ScenarioSite],
                                            tmp_path: Path) -> None:
    site = scenario(6, per_page=10)
    for story in site.stories:  # the theme no longer prints the date on story pages
        page = site.server.routes[story.path]
        # (the date itself is gone: since issue 14 a date still printed in the header under
        # another class is read generically)
        page.body = re.sub(rb'<span class="entry-date">[^<]*</span>', b"", page.body)
    result = crawl_scenario(site, tmp_path)
    assert result.returncode == 1
    run = last_run(result)
    assert run["status"] == "failed"
    assert "6 of 6 story pages lack a readable date" in run["finish_reason"]
    assert "lack a readable date (published)" in result.output
    assert site.local(site.stories[0]) in result.output  # the log names the pages
    assert result.db["articles"].count == 6  # what was read is kept


def test_progress_lines_on_a_terminal(serve: Callable[[str], FixtureSite],
                                      tmp_path: Path) -> None:
    server = serve("hrhouse")
    terminal, child_end = pty.openpty()
    args = [sys.executable, "-m", "hrarchive", "crawl", "hrhouse", "--db",
            str(tmp_path / "a.db"), "--base-url", server.base_url]
    process = subprocess.Popen([*args, *[a for s in FAST for a in ("-s", s)]], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=child_end)
    os.close(child_end)
    chunks = []
    while True:
        try:
            data = os.read(terminal, 65536)
        except OSError:  # the crawl closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(terminal)
    assert process.wait(120) == 0
    shown = b"".join(chunks).decode("utf-8", "replace")
    assert "\x1b[2Khrhouse: " in shown
    assert "6 new, 0 changed, 0 not modified, 1 errors — finished" in shown
