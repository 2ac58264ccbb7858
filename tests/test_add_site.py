"""``hrarchive add-site`` against fixture sites served on 127.0.0.1: its report, the profile
it writes, and a crawl of that profile next to a crawl of the hand-written one."""

from __future__ import annotations

import gzip
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from hrarchive.cli import cli
from hrarchive.discover.fetch import Fetched
from hrarchive.discover.output import accepts_api
from hrarchive.discover.patterns import story_pattern
from hrarchive.discover.site import _sitemap, date_order, site_id
from hrarchive.profiles import load_profile
from tests.conftest import FAST, ROOT
from tests.fixtureserver import FIXTURES, FixtureSite, Page


@dataclass
class Site:
    """A fixture site, the URL given to add-site, and what its report must say."""

    name: str
    url: str
    report: tuple[str, ...]
    hand: tuple[str, ...]  # the hand-written profile, as crawl arguments


SITES = [
    Site("wordpress", "https://news.example.org/", (
        "listing  https://news.example.org/  5 stories; next page "
        "https://news.example.org/page/2/ (2 stories)",
        "feed     https://news.example.org/feed/  5 stories",
        "WordPress REST API announced at https://news.example.org/wp-json/",
        "title    5/5 ok", "date     5/5 ok       e.g. 2024-03-05T09:00:00+00:00",
        "author   5/5 ok       e.g. Anna Berg", "body     5/5 ok", "related  5/5 ok"),
        ("--profile", str(FIXTURES / "wordpress" / "profile.toml"))),
    Site("hrhouse", "https://humanrightshouse.org/articles/", (
        "listing  https://humanrightshouse.org/articles/  8 stories; next page "
        "https://humanrightshouse.org/articles/page/2/ (3 stories)",
        "title    4/5 MISSING", 'hint: set [article] title = "h1.entry-title::text"',
        'date     4/5 MISSING  e.g. 2023-07-11 (as printed: "July 11, 2023")',
        "author   0/5 MISSING", "hint: no byline found", "body     5/5 ok",
        "related  4/5 MISSING"), ("hrhouse",)),
    Site("viasna", "https://spring96.org/en/news", (
        "listing  https://spring96.org/en/news  6 stories; next page "
        "https://spring96.org/en/news?page=1 (2 stories)",
        "Languages: en; date order: DMY", "title    2/2 ok", "date     2/2 ok",
        "author   2/2 ok", "story https://spring96.org/en/news/112678 could not be read: "
        "HTTP 404"), ("viasna",)),
    Site("fidh", "https://www.fidh.org/fr/regions/europe-asie-centrale/belarus/", (
        "sitemap https://www.fidh.org/sitemap.xml (named in robots.txt) could not be read: "
        "HTTP 404", "Languages: fr; date order: DMY", "title    1/1 ok", "date     1/1 ok"),
        ("fidh",)),
]


def add_site(url: str, server: FixtureSite, output: Path,
             *extra: str) -> tuple[int, str]:
    """Run add-site in this process (click's runner) against the served copy."""
    result = CliRunner().invoke(cli, ["add-site", url, "--base-url", server.base_url,
                                      "--delay", "0", "-o", str(output), *extra])
    return result.exit_code, result.output


def crawl_counts(server: FixtureSite, runs: dict[str, tuple[str, ...]],
                 tmp_path: Path) -> dict[str, tuple[int, int]]:
    """Crawl each profile into its own archive, side by side (a story is unique by URL in
    one archive, so two profiles of one site cannot share it): (stories, dated stories)."""
    started = {}
    for name, args in runs.items():
        db = tmp_path / f"{name}.db"
        command = [sys.executable, "-m", "hrarchive", "crawl", *args, "--db", str(db),
                   "--base-url", server.base_url, *(f"-s{s}" for s in FAST)]
        started[name] = (db, subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                                              stderr=subprocess.STDOUT, text=True))
    counts = {}
    for name, (db, process) in started.items():
        output, _ = process.communicate(timeout=180)
        assert process.returncode == 0, output[-3000:]
        total, dated = Database(db).execute(
            "select count(*), count(published) from articles").fetchone()
        counts[name] = (total, dated)
    return counts


@pytest.mark.parametrize("site", SITES, ids=[s.name for s in SITES])
def test_the_profile_add_site_writes_crawls_as_much_as_the_hand_written_one(
        site: Site, serve: Callable[..., FixtureSite], tmp_path: Path) -> None:
    # The recorded robots.txt without its Crawl-delay (viasna's 5 s would make two crawls take
    # a minute); its other rules as recorded.
    server = serve(site.name, crawl_delay=False)
    output = tmp_path / "auto.toml"
    code, report = add_site(site.url, server, output, "--id", "auto")
    assert code == 0, report
    for line in site.report:
        assert line in report, line
    profile = load_profile(output)
    assert profile.id == "auto" and profile.start_urls == (site.url,)
    assert profile.article_url is not None
    counts = crawl_counts(server, {"hand": site.hand, "auto": ("--profile", str(output))},
                          tmp_path)
    assert counts["auto"][0] >= counts["hand"][0] >= 1
    assert counts["auto"][1] >= counts["hand"][1]


def test_the_profile_names_what_was_found(serve: Callable[[str], FixtureSite],
                                          tmp_path: Path) -> None:
    server = serve("wordpress")
    output = tmp_path / "lakeside.toml"
    code, report = add_site("https://news.example.org/", server, output, "--id", "lakeside")
    assert code == 0, report
    text = output.read_text("utf-8")
    data = tomllib.loads(text)
    assert data["name"] == "Lakeside Civic Rights Network"
    assert data["languages"] == ["en"]
    assert data["feeds"] == ["https://news.example.org/feed/"]
    assert data["trailing_slash"] == "add"
    # the REST API is written as `api` once profiles take that key, else as a comment
    if accepts_api():
        assert data["api"] == "wordpress" and 'api = "wordpress" written' in report
    else:
        assert '# api = "wordpress"  # the site announces its REST API' in text.splitlines()
        assert "api suggested in a comment" in report
    # only the robots.txt, the listing and its next page, the feed, the usual sitemap paths
    # and the five stories were asked for
    assert sorted(server.hits) == sorted([
        "/robots.txt", "/", "/page/2/", "/feed/", "/sitemap_index.xml", "/wp-sitemap.xml",
        "/sitemap.xml", "/2024/03/05/volunteer-legal-clinic-opens-in-harbour-district/",
        "/2023/11/08/public-meeting-on-tenants-rights/",
        "/2024/02/12/annual-report-2023-published/", "/2023/09/01/network-founded/",
        "/2024/01/20/training-weekend-for-new-volunteers/"])
    again, message = add_site("https://news.example.org/", server, output)
    assert again == 1 and "exists; use --force" in message


NAV = '<nav><a href="/">Home</a> <a href="/naviny/">Naviny</a></nav>'
STORY = """<!DOCTYPE html><html lang="be"><head><meta charset="utf-8"><title>{title} | Hrodna
Watch</title></head><body>""" + NAV + """<main><h1>{title}</h1>
<p class="stamp">{printed}</p><div class="text"><p>{title}. The monitoring group spoke to
relatives and lawyers and wrote down what they were told about the hearing, the charges and
the conditions of detention, and will follow the case until it ends.</p><p>A second
paragraph gives the names of the lawyers and where the next hearing will take place, so that
observers can attend it.</p></div></main></body></html>"""
LISTING = """<!DOCTYPE html><html lang="be"><head><meta charset="utf-8"><title>Naviny |
Hrodna Watch</title>{next}<link rel="alternate" hreflang="ru" href="/ru/"></head><body>""" + \
    NAV + """<main>{teasers}</main>
</body></html>"""
TEASER = '<article><h2><a href="/naviny/{n}">Story {n}</a></h2><p>{n}.0{n}.2024</p></article>'


def tiny_site() -> FixtureSite:
    """A news site without declared dates, printing them day first in a classless-looking
    element, with a Crawl-delay and a forbidden story."""
    html = {"Content-Type": "text/html; charset=utf-8"}
    routes = {"/robots.txt": Page(b"User-agent: *\nCrawl-delay: 0.2\nDisallow: /naviny/4\n",
                                  200, {"Content-Type": "text/plain"}),
              "/": Page(LISTING.format(next="", teasers="<p>Welcome.</p>").encode(), 200, html),
              "/naviny/": Page(LISTING.format(
                  next='<link rel="next" href="/naviny/?page=2">',
                  teasers="".join(TEASER.format(n=n) for n in (1, 2, 3, 4))).encode(), 200,
                  html),
              "/naviny/?page=2": Page(LISTING.format(next="", teasers=TEASER.format(n=5))
                                      .encode(), 200, html)}
    urlset = '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{}</urlset>'
    entry = "<url><loc>https://www.hrodna-watch.example{}</loc></url>"
    xml = {"Content-Type": "application/xml"}
    routes["/wp-sitemap.xml"] = Page(  # WordPress's own sitemap index: posts and pages
        b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>'
        b"https://www.hrodna-watch.example/wp-sitemap-posts-post-1.xml</loc></sitemap><sitemap>"
        b"<loc>https://www.hrodna-watch.example/wp-sitemap-posts-page-1.xml</loc></sitemap>"
        b"</sitemapindex>", 200, xml)
    routes["/wp-sitemap-posts-post-1.xml"] = Page(urlset.format("".join(
        entry.format(f"/naviny/{n}") for n in (1, 2, 3, 4, 5, 6))).encode(), 200, xml)
    routes["/wp-sitemap-posts-page-1.xml"] = Page(
        urlset.format(entry.format("/about/")).encode(), 200, xml)
    routes["/about/"] = Page(STORY.format(title="About us", printed="").encode(), 200, html)
    for n in (1, 2, 3, 4, 5, 6):  # story 6 is only in the sitemap
        printed = f"2{n}.03.2024" if n != 2 else "05.03.2024"
        routes[f"/naviny/{n}"] = Page(STORY.format(title=f"Story {n}", printed=printed)
                                      .encode(), 200, html)
    return FixtureSite(routes)


def test_a_site_without_declared_dates(tmp_path: Path) -> None:
    with tiny_site() as server:
        output = tmp_path / "hrodna-watch.toml"
        code, report = add_site("https://www.hrodna-watch.example/", server, output)
        assert code == 0, report
        profile = load_profile(output)
        assert profile.id == "hrodna-watch"  # from the host name
        assert profile.name == "Hrodna Watch"
        assert profile.start_urls == ("https://www.hrodna-watch.example/naviny/",)  # the news link
        assert profile.languages == ("be", "ru")
        assert profile.date_order == "DMY"  # "21.03.2024": the day comes first
        assert profile.article == {"date": "p.stamp"}
        assert profile.sitemaps == ("https://www.hrodna-watch.example/wp-sitemap.xml",)
        assert "sitemap  https://www.hrodna-watch.example/wp-sitemap.xml  6 stories" in report
        assert "date     4/4 ok" in report  # 5 stories, one forbidden
        assert '[article] date = "p.stamp" is written to the profile' in report
        assert "https://www.hrodna-watch.example/naviny/4: forbidden by robots.txt" in report
        assert "robots.txt asks for a Crawl-delay of 0.2 s" in report
        assert "/naviny/4" not in server.hits
        gaps = [b.time - a.time for a, b in zip(server.requests, server.requests[1:], strict=False)]
        assert gaps and min(gaps) >= 0.19  # Crawl-delay honoured, though --delay 0
        assert all(h.headers["User-Agent"].startswith("hrarchive/") for h in server.requests)
        db = tmp_path / "archive.db"
        done = subprocess.run(
            [sys.executable, "-m", "hrarchive", "crawl", "--profile", str(output), "--db",
             str(db), "--base-url", server.base_url, *(f"-s{s}" for s in FAST)],
            cwd=ROOT, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr[-3000:]
        dated = dict(Database(db).execute("select url, published from articles").fetchall())
        assert {url.removeprefix(server.base_url): day for url, day in dated.items()} == {
            "/naviny/1": "2024-03-21", "/naviny/2": "2024-03-05", "/naviny/3": "2024-03-23",
            "/naviny/5": "2024-03-25", "/naviny/6": "2024-03-26"}  # not /about/, nor 4


def test_a_site_that_cannot_be_read(tmp_path: Path) -> None:
    with FixtureSite({"/robots.txt": Page(b"busy", 503)}) as server:
        code, message = add_site("https://gone.example.org/", server, tmp_path / "x.toml")
    assert code == 1 and "robots.txt: HTTP 503" in message
    assert not (tmp_path / "x.toml").exists()
    with FixtureSite({}) as server:
        code, message = add_site("https://gone.example.org/", server, tmp_path / "x.toml")
    assert code == 1 and "could not read https://gone.example.org/: HTTP 404" in message
    with FixtureSite({"/": Page(b"<html><body><p>Closed.</p></body></html>", 200,
                                {"Content-Type": "text/html"})}) as server:
        code, message = add_site("https://gone.example.org/", server, tmp_path / "x.toml")
    assert code == 1 and "no news listing, feed or sitemap found" in message
    assert server.hits == ["/robots.txt", "/", "/sitemap_index.xml", "/wp-sitemap.xml",
                           "/sitemap.xml"]  # and no story was asked for
    assert not (tmp_path / "x.toml").exists()
    code, message = add_site("gone.example.org", server, tmp_path / "x.toml")
    assert code == 2 and "http:// or https://" in message


def test_story_patterns_and_date_order() -> None:
    pattern = story_pattern(["https://ngo.org/en/news/101", "https://ngo.org/en/news/99",
                             "https://ngo.org/be/news/7"])
    assert pattern == r"^https?://[^/]+/(?:be|en)/news/\d+/?(?:[?#].*)?$"
    assert story_pattern(["https://ngo.org/2024/02/12/a/", "https://ngo.org/2023/09/01/b/"]) \
        == r"^https?://[^/]+/\d{4}/\d{2}/\d{2}/[^/?#]+/?(?:[?#].*)?$"
    assert story_pattern(["https://ngo.org/"]) is None
    assert date_order(["29.03.2023 18:00", "05.06.2018"]) == "DMY"
    assert date_order(["10/18/2018"]) == "MDY"
    assert date_order(["2015/04/01", "05.06.2018", "October 18, 2018"]) is None
    assert site_id("https://www.spring96.org/en/news") == "spring96"
    assert site_id("https://www.amnesty.org.uk/") == "amnesty"


def test_a_gzipped_sitemap_is_read() -> None:
    xml = (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
           b"<url><loc>https://ngo.org/news/1</loc></url></urlset>")
    sitemap = _sitemap(Fetched("https://ngo.org/sitemap.xml.gz", 200, {}, gzip.compress(xml)))
    assert sitemap is not None and [e["loc"] for e in sitemap] == ["https://ngo.org/news/1"]
    assert _sitemap(Fetched("https://ngo.org/sitemap.xml.gz", 200, {}, b"\x1f\x8bbroken")) is None
    assert _sitemap(Fetched("https://ngo.org/sitemap.xml", 404, {}, xml)) is None
