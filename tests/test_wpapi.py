"""The WordPress REST API way in: the emulator's schema, the pure readers, and crawls through
the engine of the hrhouse fixture site, the generated WordPress site and the scenario site
served with an API (``tests/wpapi.py``)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from hrarchive.extract.wpapi import (
    ApiUnavailable,
    announced_root,
    endpoint,
    local_date,
    merge_story,
    post_story,
    read_posts,
)
from tests.conftest import FAST, CrawlResult, run_hrarchive
from tests.fixtureserver import FixtureSite, Page, load_cases
from tests.scenario import PROFILE, ScenarioSite
from tests.wpapi import WpApi, posts_from_cases

HRH = "https://humanrightshouse.org"
LAKESIDE = Path(__file__).parent / "fixtures" / "wordpress" / "profile.toml"


def run(args: list[str], server: FixtureSite | ScenarioSite, db_path: Path,
        *extra: str) -> CrawlResult:
    args = [*args, "--db", str(db_path), "--base-url", server.base_url]
    for setting in FAST:
        args += ["-s", setting]
    done = run_hrarchive(*args, *extra)  # after FAST: its settings may override FAST's
    return CrawlResult(done.returncode, done.stdout + done.stderr, db_path)


@pytest.fixture
def site() -> Iterator[dict[str, FixtureSite]]:
    started: dict[str, FixtureSite] = {}
    yield started
    for server in started.values():
        server.stop()


def start(started: dict[str, FixtureSite], name: str, wp_api: str | None) -> FixtureSite:
    server = FixtureSite.from_fixtures(name, wp_api=wp_api).start()
    started[f"{name}-{wp_api}-{len(started)}"] = server
    return server


# --- the emulator answers as WordPress documents ---------------------------------------------
def answer(api: WpApi, path: str) -> tuple[Page, object]:
    page = api(path)
    assert page is not None
    return page, json.loads(page.body)


def test_emulator_pages_filters_and_errors_like_wordpress() -> None:
    api = WpApi(lambda: posts_from_cases("wordpress"), home="https://news.example.org")
    page, posts = answer(api, "/wp-json/wp/v2/posts?per_page=2&page=1")
    assert (page.headers["X-WP-Total"], page.headers["X-WP-TotalPages"]) == ("5", "3")
    assert 'rel="next"' in page.headers["Link"] and isinstance(posts, list)
    dates = [p["date"] for p in posts]
    assert dates == sorted(dates, reverse=True) and len(posts) == 2  # newest first
    _, last = answer(api, "/wp-json/wp/v2/posts?per_page=2&page=3")
    assert isinstance(last, list) and len(last) == 1
    page, error = answer(api, "/wp-json/wp/v2/posts?per_page=2&page=4")
    assert page.status == 400 and error["code"] == "rest_post_invalid_page_number"
    page, error = answer(api, "/wp-json/wp/v2/posts?per_page=101")
    assert page.status == 400 and error["code"] == "rest_invalid_param"
    _, recent = answer(api, "/wp-json/wp/v2/posts?modified_after=2024-01-01T00:00:00")
    assert isinstance(recent, list) and len(recent) == 3
    _, slim = answer(api, "/wp-json/wp/v2/posts?_fields=id,link&_embed=author")
    assert isinstance(slim, list) and set(slim[0]) == {"id", "link"}  # no _embedded asked
    _, embedded = answer(api, "/wp-json/wp/v2/posts?_embed=author,wp:term"
                              "&_fields=id,_links,_embedded")
    assert isinstance(embedded, list) and embedded[0]["_embedded"]["author"][0]["name"]
    page, error = answer(api, "/wp-json/wp/v2/events")
    assert page.status == 404 and error["code"] == "rest_no_route"
    page, error = answer(WpApi(lambda: [], disabled=True), "/wp-json/wp/v2/posts")
    assert page.status == 401 and error == {"code": "rest_not_logged_in", "message":
                                            "You are not currently logged in.",
                                            "data": {"status": 401}}
    assert api("/2024/03/05/anything/") is None  # not the API: the site's own routes answer


# --- reading what the API says (pure) ---------------------------------------------------------
def test_announcement_dates_errors_and_merging() -> None:
    header = {"Link": '<https://x.org/wp-json/>; rel="https://api.w.org/"'}
    assert announced_root(b"<html></html>", "https://x.org/a/", header) == "https://x.org/wp-json/"
    tag = b'<head><link rel="https://api.w.org/" href="/wp-json/" /></head>'
    assert announced_root(tag, "https://x.org/a/") == "https://x.org/wp-json/"
    assert announced_root(b"<head><link rel='alternate' href='/feed/'></head>", "https://x.org/") \
        is None
    assert endpoint("https://x.org/?rest_route=/", "wp/v2/posts", [("page", "2")]) == \
        "https://x.org/?rest_route=/wp/v2/posts&page=2"
    # the offset is the difference of the local date and the UTC one
    assert local_date("2023-07-11T11:14:22", "2023-07-11T09:14:22") == "2023-07-11T11:14:22+02:00"
    assert local_date("2024-01-05T08:00:00", "2024-01-05T13:00:00") == "2024-01-05T08:00:00-05:00"
    assert local_date("2024-01-05T08:00:00", None) == "2024-01-05"
    with pytest.raises(ApiUnavailable, match="401 rest_not_logged_in"):
        read_posts(401, b'{"code":"rest_not_logged_in","message":"No.","data":{"status":401}}')
    with pytest.raises(ApiUnavailable, match="HTML"):
        read_posts(200, b"<!DOCTYPE html><html></html>", {"Content-Type": "text/html"})
    posts, pages = read_posts(200, b"[]", {"X-WP-TotalPages": "0"})
    assert (posts, pages) == ([], 0)
    story = post_story({"link": "https://x.org/a/", "date": "2023-07-11T11:14:22",
                        "date_gmt": "2023-07-11T09:14:22",
                        "title": {"rendered": "&#8220;Free&#8221; them"},
                        "content": {"rendered": "<p>One.</p><p>Two.</p>"},
                        "excerpt": {"rendered": "<p>One [&hellip;]</p>"},
                        "_embedded": {"author": [{"code": "rest_user_invalid_id"}],
                                      "wp:term": [[{"name": "News", "taxonomy": "category"}],
                                                  [{"name": "Belarus", "taxonomy": "post_tag"}]]}})
    assert story["title"] == "“Free” them" and story["body_text"] == "One.\n\nTwo."
    assert story["tags"] == ["Belarus", "News"] and story["authors"] == []
    page = {"url": "https://x.org/a/", "title": "Free them", "body_text": "One.",
            "related": [{"url": "https://x.org/b/", "title": "B"}], "language": "en"}
    merged, disagree = merge_story(page, story)
    assert disagree == ["title", "body"]
    assert (merged["title"], merged["published"], merged["language"]) == \
        ("“Free” them", "2023-07-11T11:14:22+02:00", "en")
    assert merged["related"] == page["related"]
    alone, _ = merge_story(None, story)  # an unreadable page: the post alone is a story
    assert alone["title"] and alone["body_text"] and alone["published"]


def test_profiles_name_the_api_and_its_post_types(tmp_path: Path) -> None:
    from hrarchive.profiles import ProfileError, load_profile, load_profiles

    base = 'id = "x"\nname = "X"\nstart_urls = ["https://x.org/"]\n'
    file = tmp_path / "x.toml"
    file.write_text(base + 'api = "wordpress"\npost_types = ["posts", "campaigns"]\n')
    profile = load_profile(file)
    assert (profile.api, profile.post_types) == ("wordpress", ("posts", "campaigns"))
    file.write_text(base)
    assert (load_profile(file).api, load_profile(file).post_types) == (None, ("posts",))
    for bad in ('api = "drupal"', 'post_types = ["wp/v2/posts"]'):
        file.write_text(base + bad + "\n")
        with pytest.raises(ProfileError, match=r"api must|post_types"):
            load_profile(file)
    assert load_profiles()["hrhouse"].api == "wordpress"


# --- crawls through the engine ----------------------------------------------------------------
def stored(result: CrawlResult, base: str, real: str) -> dict[str, dict]:
    return {row["url"].replace(base, real): row for row in result.db["articles"].rows}


def test_hrhouse_is_read_through_its_api_with_exact_dates(
        site: dict[str, FixtureSite], tmp_path: Path) -> None:
    server = start(site, "hrhouse", "on")
    result = run(["crawl", "hrhouse"], server, tmp_path / "archive.db")
    assert result.returncode == 0, result.output
    posts = {p.link: p for p in posts_from_cases("hrhouse") if p.title}  # untitled: dropped
    rows = stored(result, server.base_url, HRH)
    assert set(rows) == set(posts)
    for url, post in posts.items():
        assert rows[url]["published"] == post.date.isoformat(), url  # with its offset
        assert rows[url]["title"] == post.title
    # the page that prints no date has the date WordPress holds
    no_date = next(c for c in load_cases("hrhouse") if c.meta.get("bad") == "no-date")
    assert rows[no_date.url]["published"] == "2017-11-23T16:47:02+01:00"
    for case in load_cases("hrhouse"):
        for snippet in (case.expected or {}).get("body_contains", []) if case.url in rows else []:
            assert snippet in rows[case.url]["body_text"], case.name
    # the pages' own related links are kept; HTML listings are not read at all
    assert result.db.execute("select count(*) from links where kind = 'related'").fetchone()[0] >= 8
    assert not {"/articles/", "/tag/_belarus/"} & set(server.hits)
    assert any(h.startswith("/wp-json/wp/v2/campaigns?") for h in server.hits)
    run_row = next(result.db["crawls"].rows)
    assert run_row["status"] == "finished"
    teasers = {r["url"].replace(server.base_url, HRH): r
               for r in result.db["teasers"].rows_where("listing_url like '%/wp-json/%'")}
    assert set(teasers) == set(posts)  # an untitled teaser is dropped, as from a listing
    stats = json.loads(run_row["stats"])
    assert stats["hrarchive/wpapi/stories"] == len(posts) + 1  # and the untitled post
    # reparse reads the captured API pages too: the rebuilt stories keep the API's values
    rebuilt = tmp_path / "rebuilt.db"
    done = run_hrarchive("reparse", "--site", "hrhouse", "--db", str(rebuilt),
                         "--captures", str(tmp_path / "captures"))
    assert done.returncode == 0, done.stderr
    again = stored(CrawlResult(0, "", rebuilt), server.base_url, HRH)
    assert {u: r["published"] for u, r in again.items()} == \
        {u: r["published"] for u, r in rows.items()}


def test_generated_wordpress_site_through_its_api_and_with_it_disabled(
        site: dict[str, FixtureSite], tmp_path: Path) -> None:
    api_on = start(site, "wordpress", "on")
    read = run(["crawl", "--profile", str(LAKESIDE)], api_on, tmp_path / "api.db")
    assert read.returncode == 0, read.output
    disabled = start(site, "wordpress", "disabled")
    fallen = run(["crawl", "--profile", str(LAKESIDE)], disabled, tmp_path / "html.db")
    assert fallen.returncode == 0, fallen.output
    expected = {c.url: c.expected for c in load_cases("wordpress") if c.kind == "article"}
    through_api = stored(read, api_on.base_url, "https://news.example.org")
    through_html = stored(fallen, disabled.base_url, "https://news.example.org")
    assert set(through_api) == set(through_html) == set(expected)
    for url, want in expected.items():
        assert want is not None
        for rows in (through_api, through_html):
            assert rows[url]["published"] == want["published"]  # to the second, with offset
            assert rows[url]["body_text"] == want["body_text"]
        assert json.loads(through_api[url]["authors"]) == want["authors"]
    assert "/page/2/" not in api_on.hits and "/page/2/" in disabled.hits
    reasons = [line for line in fallen.output.splitlines() if "REST API" in line and "not used"
               in line]
    assert len(reasons) == 1 and "HTTP 401 rest_not_logged_in" in reasons[0]
    stats = json.loads(next(read.db["crawls"].rows)["stats"])
    assert "hrarchive/wpapi/disagree_body" not in stats  # the theme shows what the API holds


def test_daily_run_reads_one_api_page_and_the_changed_stories(tmp_path: Path) -> None:
    scenario = ScenarioSite(12, wp_api=True).start()
    try:
        folder = tmp_path / "profiles"
        folder.mkdir()
        profile = folder / "scenario.toml"
        profile.write_text(PROFILE.replace('trailing_slash = "add"\n',
                                           'trailing_slash = "add"\napi = "wordpress"\n'))
        args = ["crawl", "--profile", str(profile)]
        first = run(args, scenario, tmp_path / "archive.db", "-s", "HRARCHIVE_WP_API_PER_PAGE=5")
        assert first.returncode == 0, first.output
        assert first.db["articles"].count == 12
        assert sum(h.startswith("/wp-json/") for h in scenario.server.hits) == 3  # 12 by 5
        [new] = scenario.publish(1)
        edited = scenario.edit(4, announce=False)  # no sitemap says so: only the API does
        scenario.server.hits.clear()
        daily = run(args, scenario, tmp_path / "archive.db", "-s", "HRARCHIVE_WP_API_PER_PAGE=5")
        assert daily.returncode == 0, daily.output
        api_pages = [h for h in scenario.server.hits if h.startswith("/wp-json/")]
        assert len(api_pages) == 1 and "modified_after=" in api_pages[0]
        assert sorted(set(scenario.server.hits) - {"/robots.txt", *api_pages}) == \
            sorted([new.path, edited.path])
        run_row = list(daily.db["crawls"].rows)[-1]
        assert (run_row["articles_new"], run_row["articles_changed"]) == (1, 1)
        [row] = daily.db["articles"].rows_where("url = ?", [scenario.local(edited)])
        assert row["version"] == 2 and "Correction 1" in row["body_text"]
        assert row["published"] == f"{edited.day.isoformat()}T10:00:00+00:00"
        # nothing modified since: one API request, an empty answer, and a finished run
        scenario.server.hits.clear()
        quiet = run(args, scenario, tmp_path / "archive.db", "-s", "HRARCHIVE_WP_API_MARGIN=0")
        assert quiet.returncode == 0, quiet.output
        assert [h.split("?")[0] for h in scenario.server.hits] == \
            ["/robots.txt", "/wp-json/wp/v2/posts"]
        assert list(quiet.db["crawls"].rows)[-1]["status"] == "finished"
    finally:
        scenario.stop()


def rethemed(server: FixtureSite) -> None:
    """The site's theme changes: every class renamed, <h1> and <time> gone, so the
    profile's selectors find nothing."""
    for path, page in list(server.routes.items()):
        if b"<html" in page.body[:2000].lower():
            body = re.sub(rb'class="', b'class="t2-', page.body)
            body = re.sub(rb"<(/?)h1\b", rb"<\1div", body)
            server.put(path, Page(body, page.status, page.headers))


def test_a_new_theme_still_archives_every_story_through_the_api(
        site: dict[str, FixtureSite], tmp_path: Path) -> None:
    server = start(site, "hrhouse", "on")
    rethemed(server)
    result = run(["crawl", "hrhouse"], server, tmp_path / "archive.db")
    assert result.returncode == 0, result.output
    posts = {p.link: p for p in posts_from_cases("hrhouse") if p.title}
    rows = stored(result, server.base_url, HRH)
    assert set(rows) == set(posts)
    for url, post in posts.items():
        assert rows[url]["published"] == post.date.isoformat()
        assert rows[url]["title"] == post.title and rows[url]["body_text"]
    run_row = next(result.db["crawls"].rows)
    assert run_row["status"] == "finished"
    # without the API the profile's selectors find nothing on the same pages: the test above
    # is not vacuous.  (Since issue 14 each field then falls back to generic extraction and
    # the layout alarm reports the selectors, instead of the run archiving nothing.)
    plain = start(site, "hrhouse", None)
    rethemed(plain)
    alone = run(["crawl", "hrhouse"], plain, tmp_path / "plain.db")
    stats = json.loads(next(alone.db["crawls"].rows)["stats"])
    assert "article.title" in stats["hrarchive/layout/selectors"], alone.output[-3000:]
    assert "selector no longer matches" in alone.output


def test_an_api_robots_txt_forbids_is_not_used(site: dict[str, FixtureSite],
                                               tmp_path: Path) -> None:
    server = start(site, "wordpress", "on")
    server.put("/robots.txt", Page(b"User-agent: *\nDisallow: /wp-json/\n",
                                   headers={"Content-Type": "text/plain"}))
    result = run(["crawl", "--profile", str(LAKESIDE)], server, tmp_path / "archive.db")
    assert result.returncode == 0, result.output
    assert not any(h.startswith("/wp-json/") for h in server.hits)
    assert "forbidden by robots.txt" in result.output
    assert result.db["articles"].count == 5


def test_an_api_page_that_fails_is_filled_from_the_html_listings(
        site: dict[str, FixtureSite], tmp_path: Path) -> None:
    server = start(site, "wordpress", "on")
    server.handlers.insert(0, lambda path: Page(b"<h1>Error</h1>", 500, {
        "Content-Type": "text/html"}) if path.startswith("/wp-json/") and "&page=2&" in path
        else None)
    result = run(["crawl", "--profile", str(LAKESIDE)], server, tmp_path / "archive.db",
                 "-s", "HRARCHIVE_WP_API_PER_PAGE=2", "-s", "RETRY_TIMES=1",
                 "-s", "HRARCHIVE_RETRY_BACKOFF=0.1")
    assert result.returncode == 0, result.output
    failed = [h for h in server.hits if h.startswith("/wp-json/") and "&page=2&" in h]
    assert len(failed) == 2  # retried once, then given up
    assert "/page/2/" in server.hits  # the HTML listings filled in
    assert result.db["articles"].count == 5
    stats = json.loads(next(result.db["crawls"].rows)["stats"])
    assert stats["hrarchive/wpapi/stories"] == 2  # page 1 of the API kept its stories
