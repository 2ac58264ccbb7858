"""Every saved page of every fixture site, read as the archive would store it.

One parametrised test per case: extraction (the site's profile selectors over generic
extraction) followed by the same normal forms the normalise pipeline applies, compared
with the case's ``expected.json``.  A second test crawls each fixture site through the
real engine and checks the archive holds every expected story with its title and date.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from hrarchive.extract import extract_article, extract_listing
from hrarchive.extract.dates import parse_date
from hrarchive.extract.feed import extract_feed
from hrarchive.extract.stored import stored_article
from hrarchive.extract.text import clean_text
from hrarchive.extract.urls import normalise_url, same_site
from hrarchive.profiles import BUILTIN_DIR as BUILTIN
from hrarchive.profiles import SiteProfile, load_profile, load_profiles
from tests.conftest import FAST, run_hrarchive
from tests.fixtureserver import (
    FIXTURES,
    Case,
    FixtureSite,
    Page,
    fixture_sites,
    iter_all_cases,
)

CHECKED = [c for c in iter_all_cases() if c.expected is not None
           and c.kind in {"article", "listing", "feed"}]


def profile_of(site: str) -> SiteProfile:
    """The built-in profile of a site, or the profile file kept beside its fixtures."""
    own = FIXTURES / site / "profile.toml"
    return load_profile(own) if own.exists() else load_profiles()[site]


def _url(url: str | None, base: str, profile: SiteProfile) -> str | None:
    return normalise_url(url, base, profile.trailing_slash) if url else None


def _date(raw: str | None, profile: SiteProfile) -> str | None:
    return parse_date(clean_text(raw), profile.languages, profile.date_order)


def stored_of(case: Case, profile: SiteProfile, generic: bool = False) -> dict[str, Any]:
    data = extract_article(case.body, case.url, case.meta.get("headers"),
                           None if generic else profile.article)
    return stored_article(data, profile.languages, profile.date_order, profile.trailing_slash)


def stored_teasers(teasers: list[dict[str, Any]], base: str,
                   profile: SiteProfile) -> list[dict[str, Any]]:
    return [{"url": _url(t["url"], base, profile), "title": clean_text(t["title"]),
             "published": _date(t["published"], profile), "summary": clean_text(t["summary"])}
            for t in teasers]


def _is_story(profile: SiteProfile) -> Callable[[str], bool]:
    def is_story(url: str) -> bool:
        on_site = not profile.base_url or same_site(url, profile.base_url)
        return on_site and profile.is_article_url(url)
    return is_story


def _day(value: str | None) -> str | None:
    return value[:10] if value else value


GENERIC_ARTICLE_FIELDS = ("title", "authors", "language")


@pytest.mark.parametrize("mode", ["profile", "generic"])
@pytest.mark.parametrize("case", CHECKED, ids=[f"{c.site}/{c.name}" for c in CHECKED])
def test_fixture_case(case: Case, mode: str) -> None:
    """``profile``: every field with the site's selectors.  ``generic``: the same page with
    no selectors at all (only the profile's languages, date order and article_url), checked
    on what a page says in every site's markup: title, day published, authors, language,
    body text; teasers' URL, title, day and summary; the next page."""
    profile = profile_of(case.site)
    generic = mode == "generic"
    expected = case.expected
    assert expected is not None
    if case.kind == "article":
        got = stored_of(case, profile, generic)
        got["body_text"] = got["body_text"] or ""
        if generic and "published" in expected:
            assert _day(got["published"]) == _day(expected["published"]), "published"
        for key in ("title", "published", "authors", "tags", "language", "related"):
            if generic and key not in GENERIC_ARTICLE_FIELDS:
                continue
            if key in expected:
                want = expected[key]
                if key == "language" and want and got[key]:
                    # "en-US" declares "en": compare the primary subtag
                    assert got[key].split("-")[0].lower() == want.split("-")[0].lower()
                    continue
                assert got[key] == (want if want is not None else
                                    [] if key in {"authors", "tags", "related"} else None), key
        if "body_text" in expected:
            assert got["body_text"] == expected["body_text"]
        for snippet in expected.get("body_contains", []):
            assert snippet in got["body_text"], f"missing from body: {snippet!r}"
        for snippet in expected.get("body_excludes", []):
            assert snippet not in got["body_text"], f"in body but must not be: {snippet!r}"
        assert got["canonical_url"] == _url(case.url, case.url, profile)
        return
    if case.kind == "feed":
        teasers = extract_feed(case.body, case.url, _is_story(profile))
        next_page = None
    else:
        listing = extract_listing(case.body, case.url, case.meta.get("headers"),
                                  None if generic else profile.listing, _is_story(profile))
        teasers, next_page = listing.teasers, listing.next_page
    got_teasers = stored_teasers(teasers, case.url, profile)
    if "teasers" in expected:
        want = [{k: t.get(k) for k in ("url", "title", "published", "summary") if k in t}
                for t in expected["teasers"]]
        if generic:  # a declared datetime and a printed day are the same day
            for teaser in got_teasers + want:
                teaser["published"] = _day(teaser.get("published"))
        assert [{k: g[k] for k in w} for g, w in zip(got_teasers, want, strict=False)] == want
        assert len(got_teasers) == len(want)
    if "next_page" in expected:
        assert _url(next_page, case.url, profile) == expected["next_page"]


# hrhouse is crawled by its own tests; a site with its own profile.toml (wordpress,
# oddvalues, newtheme...) has no built-in profile to add a sitemap to, and its own test
ENGINE_SITES = [s for s in fixture_sites() if s != "hrhouse"
                and not (FIXTURES / s / "profile.toml").exists()]
SITEMAP_PATH = "/__tests__/sitemap.xml"


def profile_with_sitemap(site: str, sitemap_url: str, folder: Path) -> Path:
    """The site's profile, its sitemaps replaced by one listing every saved story.

    Some saved stories are not linked from the saved listings (a listing in another
    language, a page further back); the test-made sitemap lets the engine reach them.
    """
    text = (BUILTIN / f"{site}.toml").read_text("utf-8")
    text = re.sub(r"(?m)^sitemaps\s*=.*$", "", text)
    path = folder / f"{site}.toml"
    path.write_text(f'sitemaps = ["{sitemap_url}"]\n{text}', "utf-8")
    return path


def sitemap_of(urls: list[str]) -> Page:
    entries = "".join(f"<url><loc>{escape(u)}</loc></url>" for u in urls)
    body = ('<?xml version="1.0" encoding="UTF-8"?><urlset '
            f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>')
    return Page(body.encode(), 200, {"Content-Type": "application/xml"})


@pytest.mark.parametrize("site", ENGINE_SITES)
def test_site_crawls_through_the_engine(site: str, serve: Callable[..., FixtureSite],
                                        tmp_path: Path) -> None:
    """One crawl per site: every expected story is archived with its title and date,
    every teaser of every saved listing is archived too.  robots.txt is served without its
    Crawl-delay (tested in test_politeness.py), its other rules as recorded."""
    server = serve(site, crawl_delay=False)
    profile = profile_of(site)
    cases = [c for c in CHECKED if c.site == site]
    stories = [c for c in cases if c.kind == "article" and (c.expected or {}).get("title")]
    server.put(SITEMAP_PATH, sitemap_of([c.url for c in stories]))
    real = profile.base_url
    own = profile_with_sitemap(site, real + SITEMAP_PATH, tmp_path)
    db_path = tmp_path / "archive.db"
    done = run_hrarchive("crawl", "--profile", str(own), "--db", str(db_path),
                         "--base-url", server.base_url, *(f"-s{s}" for s in FAST))
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    db = Database(db_path)
    rows = {row["url"].removeprefix(server.base_url): row for row in db["articles"].rows}
    teasers = {row["url"].removeprefix(server.base_url) for row in db["teasers"].rows}
    for case in stories:
        expected = case.expected or {}
        path = normalise_url(case.url, None, profile.trailing_slash).removeprefix(real)
        assert path in rows, f"{case.name} not archived; have {sorted(rows)}"
        assert rows[path]["title"] == expected["title"]
        if "published" in expected:
            assert rows[path]["published"] == expected["published"]
    for case in cases:
        if case.kind in {"listing", "feed"}:
            for teaser in (case.expected or {}).get("teasers", []):
                assert teaser["url"].removeprefix(real) in teasers, teaser["url"]
