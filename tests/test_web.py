"""``hrarchive serve``'s own pages: the home page, folded column descriptions, a story's page.

An archive is crawled from the hrhouse and hrw fixture sites through the real engine (one
hrhouse story edited and another taken down before a ``--full`` re-crawl), served by a real
``hrarchive serve`` on 127.0.0.1, and read as HTML and in headless Chromium.  Screenshots of
the pages go to ``$HRARCHIVE_SCREENSHOTS`` if set, else to pytest's temporary folder.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from hrarchive.web.home import monthly_chart
from hrarchive.web.story import word_diff
from tests.browser import browser
from tests.conftest import crawl
from tests.fixtureserver import FixtureSite, load_cases, route_of
from tests.research_archive import CHANGED, NEW_TEXT, OLD_TEXT, free_port, get, running

GONE = "statement-un-belarus-investigative-mechanism"  # hrhouse story taken down
SITES = ("hrhouse", "hrw")


@dataclass
class Served:
    base: str  # the Datasette server
    db_path: Path
    sites: dict[str, str]  # site: base URL its fixture copy was crawled from

    def local(self, site: str, url: str) -> str:
        return "/".join(self.sites[site].split("/")[:3]) + "/" + url.split("/", 3)[3]


def stories(site: str) -> list[dict[str, Any]]:
    """Expected stories of a fixture site: article pages its listings link to (or, for
    hrhouse, its sitemap), less the 404 and the untitled page."""
    cases = load_cases(site)
    listed = {t["url"] for c in cases if c.kind == "listing"
              for t in (c.expected or {}).get("teasers", [])}
    return [{"name": c.name, "url": c.url, **(c.expected or {})} for c in cases
            if c.kind == "article" and c.meta.get("bad") not in {"no-title", "404"}
            and (site == "hrhouse" or c.url in listed)]


def build(folder: Path) -> dict[str, str]:
    db_path = folder / "archive.db"
    hrhouse = FixtureSite.from_fixtures("hrhouse").start()
    hrw = FixtureSite.from_fixtures("hrw").start()
    try:
        for site, server in (("hrhouse", hrhouse), ("hrw", hrw)):
            done = crawl(site, server, db_path)
            assert done.returncode == 0, done.output
        cases = {c.name: c for c in load_cases("hrhouse")}
        page = cases[CHANGED].page()
        page.body = page.body.replace(OLD_TEXT.encode(), NEW_TEXT.encode())
        page.headers = {k: v for k, v in page.headers.items()
                        if k.lower() not in {"etag", "last-modified"}}
        hrhouse.put(route_of(cases[CHANGED].url), page)
        hrhouse.remove(route_of(cases[GONE].url))  # answers 404 from now on
        done = crawl("hrhouse", hrhouse, db_path, "--full")
        assert done.returncode == 0, done.output
        return {"hrhouse": hrhouse.base_url, "hrw": hrw.base_url}
    finally:
        hrhouse.stop()
        hrw.stop()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("web")
    sites = build(folder)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running([sys.executable, "-m", "hrarchive", "serve", "--db",
                  str(folder / "archive.db"), "--port", str(port)], base + "/-/versions.json"):
        yield Served(base, folder / "archive.db", sites)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("HRARCHIVE_SCREENSHOTS")
    return Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")


def html(served: Served, path: str) -> lxml.html.HtmlElement:
    status, body = get(served.base + path)
    assert status == 200, (path, status, body[:300])
    return lxml.html.fromstring(body.decode("utf-8"))


def story_id(served: Served, site: str, name: str) -> int:
    url = served.local(site, next(s["url"] for s in stories(site) if s["name"] == name))
    status, body = get(served.base + "/-/story?url=" + url.replace(":", "%3A"))
    assert status == 200, (url, status)
    page = lxml.html.fromstring(body.decode("utf-8"))
    [number] = {int(a.get("href").rsplit("/", 1)[1]) for a in page.cssselect("a")
                if a.text_content() == "the row"}
    return number


def expected_sites() -> dict[str, dict[str, Any]]:
    figures = {}
    for site in SITES:
        dates = sorted(s["published"][:10] for s in stories(site) if s.get("published"))
        figures[site] = {"stories": len(stories(site)),
                         "versions": len(stories(site)) + (site == "hrhouse"),
                         "gone": int(site == "hrhouse"), "first": dates[0], "latest": dates[-1]}
    return figures


def test_home_page_shows_each_site_the_chart_and_the_latest_stories(served: Served) -> None:
    page = html(served, "/")
    rows = {tr.get("data-site"): tr for tr in page.cssselect("table.hr-sites tbody tr")}
    assert set(rows) == set(SITES)
    for site, want in expected_sites().items():
        cells = {td.get("class"): td.text_content().strip() for td in rows[site]}
        assert (int(cells["hr-stories"]), int(cells["hr-versions"]), int(cells["hr-gone"]),
                cells["hr-first"], cells["hr-latest"]) == (
            want["stories"], want["versions"], want["gone"], want["first"], want["latest"])
        assert cells["hr-run"].startswith("finished 20")
    bars = Counter()
    for rect in page.cssselect("svg.hr-chart rect"):
        bars[(rect.get("data-site"), rect.get("data-month"))] += int(rect.get("data-count"))
    assert bars == Counter((site, s["published"][:7]) for site in SITES
                           for s in stories(site) if s.get("published"))
    latest = [a.text_content() for a in page.cssselect("ul.hr-latest-stories a")]
    newest = max((s for site in SITES for s in stories(site) if s.get("published")),
                 key=lambda s: s["published"][:10])
    assert latest[0] == newest["title"]
    assert page.cssselect("form.hr-search input[name=_search]")


def test_a_story_page_shows_versions_diff_teasers_links_and_captures(served: Served) -> None:
    number = story_id(served, "hrhouse", CHANGED)
    page = html(served, f"/-/story/{number}")
    [expected] = [s for s in stories("hrhouse") if s["name"] == CHANGED]
    assert page.cssselect("h1")[0].text_content() == expected["title"]
    assert len(page.cssselect("table.hr-versions tbody tr")) == 2
    [diff] = page.cssselect(".hr-diff-body")
    assert [d.text_content() for d in diff.cssselect("del")] == ["out,"]
    assert [i.text_content() for i in diff.cssselect("ins")] == ["out once more,"]
    assert page.cssselect("table.hr-teasers tbody tr")
    related = {a.text_content() for a in page.cssselect("ul.hr-related-out a")}
    assert len(related) == len(expected["related"])
    assert len(page.cssselect("table.hr-captures tbody tr")) == 2  # one per version
    gone = html(served, f"/-/story/{story_id(served, 'hrhouse', GONE)}")
    assert "Gone from the site" in gone.cssselect(".hr-gone-banner")[0].text_content()
    assert len(gone.cssselect("table.hr-versions tbody tr")) == 1  # kept
    assert get(served.base + "/-/story/999999")[0] == 404


def test_rows_naming_a_story_link_to_its_page(served: Served) -> None:
    number = story_id(served, "hrhouse", CHANGED)
    target = f"/-/story/{number}"
    for path in ("/archive/stories", "/archive/articles", f"/archive/article_versions"
                 f"?article_id={number}", f"/archive/captures?article_id={number}",
                 "/archive/changed_stories?site=", f"/archive/links?from_id={number}"):
        links = {a.get("href") for a in html(served, path).cssselect("table td a")}
        assert target in links, path
    teasers = html(served, "/archive/teasers").cssselect("td.col-title a")
    assert any(a.get("href").startswith("/-/story?url=") for a in teasers)
    missing = html(served, "/archive/missing_stories?site=&month=")
    assert [a.text_content() for a in missing.cssselect("td.col-article_id a")] == \
        [str(story_id(served, "hrhouse", GONE))]


def test_browser_renders_home_stories_and_story_pages(served: Served, shots: Path) -> None:
    number = story_id(served, "hrhouse", CHANGED)
    with browser() as chrome:
        home = chrome.load(served.base + "/", """(() => {
            const svg = document.querySelector("svg.hr-chart");
            const box = svg.getBoundingClientRect();
            return {width: box.width, height: box.height,
                    bars: [...svg.querySelectorAll("rect")].filter(
                        r => r.getBoundingClientRect().height > 0).length,
                    sites: [...document.querySelectorAll("table.hr-sites tbody tr")].map(
                        tr => [tr.dataset.site, tr.querySelector(".hr-stories").innerText])};
        })()""", shots / "home.png")
        assert home["width"] > 500 and home["height"] > 100 and home["bars"] > 0
        assert dict(home["sites"]) == {s: str(f["stories"])
                                       for s, f in expected_sites().items()}
        table = chrome.load(served.base + "/archive/stories", """(() => {
            const rows = [...document.querySelectorAll("table.rows-and-columns tbody tr")];
            const folded = document.querySelector("details.hr-columns");
            return {height: innerHeight, rows: rows.length,
                    visible: rows.filter(r => r.getBoundingClientRect().bottom <= 1000).length,
                    folded: folded !== null && !folded.open,
                    listed: getComputedStyle(
                        document.querySelector("dl.column-descriptions")).display};
        })()""", shots / "stories.png")
        assert table["height"] == 1000
        assert table["rows"] == sum(len(stories(site)) for site in SITES)
        assert table["visible"] >= 5, table  # rows on the first screen
        assert table["folded"] and table["listed"] == "none"
        story = chrome.load(served.base + f"/-/story/{number}", """(() => ({
            ins: [...document.querySelectorAll(".hr-diff-body ins")].map(e => e.innerText),
            del: [...document.querySelectorAll(".hr-diff-body del")].map(e => e.innerText),
            inserted: getComputedStyle(document.querySelector(".hr-diff-body ins"))
                .backgroundColor}))()""", shots / "story.png")
        assert story["ins"] == ["out once more,"] and story["del"] == ["out,"]
        assert story["inserted"] != "rgba(0, 0, 0, 0)"  # the change is highlighted
    for name in ("home", "stories", "story"):
        assert (shots / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- units: the diff and the chart ---------------------------------------------------------
def test_word_diff_marks_changed_words_and_shortens_unchanged_runs() -> None:
    before = " ".join(f"w{i}" for i in range(60))
    after = before.replace("w30", "changed <b>") + " added"
    diff = word_diff(before, after, context=3)
    assert diff == ("… w27 w28 w29 <del>w30</del> <ins>changed &lt;b&gt;</ins> w31 w32 w33 … "
                    "w57 w58 w59 <ins>added</ins>")
    assert word_diff("same text", "same text") == "same text"
    assert word_diff(None, "new") == "<ins>new</ins>"


def test_monthly_chart_stacks_sites_and_fills_empty_months() -> None:
    svg = monthly_chart([("a", "2020-11", 2), ("b", "2020-11", 1), ("a", "2021-02", 3)],
                        ["a", "b"])
    page = lxml.html.fromstring(f"<div>{svg}</div>")
    [chart] = page.cssselect("svg")
    assert (chart.get("data-months"), chart.get("data-peak")) == ("4", "3")
    bars = [(r.get("data-site"), r.get("data-month"), r.get("data-count"))
            for r in page.cssselect("rect")]
    assert bars == [("a", "2020-11", "2"), ("b", "2020-11", "1"), ("a", "2021-02", "3")]
    assert monthly_chart([], ["a"]) == ""
