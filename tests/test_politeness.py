"""Polite by default, checked on a local server: robots.txt, Crawl-delay, Retry-After, User-Agent.

Each crawl runs through the real engine with many requests at a time per host, so any
request that slips past robots.txt or a wait would show in the server's log.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from itertools import pairwise
from pathlib import Path

import pytest
from scrapy.settings import Settings

from hrarchive import __version__
from hrarchive.middlewares.retry import RetryAfterMiddleware, retry_after_seconds
from hrarchive.middlewares.useragent import ContactUserAgent
from hrarchive.profiles import BUILTIN_DIR
from tests.conftest import FAST, crawl, run_hrarchive
from tests.fixtureserver import FixtureSite, Page, fixture_sites, load_cases, without_crawl_delay

TEXT = {"Content-Type": "text/plain; charset=UTF-8"}


def robots(text: str, delay: float = 0.0) -> Page:
    return Page(text.encode(), 200, TEXT, delay=delay)


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in pairwise(times)]


def test_no_request_reaches_a_disallowed_path_under_concurrency(
        serve: Callable[[str], FixtureSite], tmp_path: Path) -> None:
    server = serve("hrhouse")
    # robots.txt answers slowly, so that every start request arrives while it is fetched.
    server.put("/robots.txt", robots("User-agent: *\nDisallow: /private/\n", delay=0.5))
    listing = server.routes["/articles/"]
    private = [f"/private/page-{n}/" for n in range(24)]
    for path in private:
        server.put(path, listing)
    profile = (BUILTIN_DIR / "hrhouse.toml").read_text("utf-8")
    starts = ["/articles/", *private, "/tag/_belarus/"]
    profile = re.sub(r"(?ms)^start_urls = \[.*?^\]", "start_urls = [{}]".format(
        ", ".join(f'"https://humanrightshouse.org{p}"' for p in starts)), profile)
    (tmp_path / "hrhouse.toml").write_text(profile, "utf-8")

    settings = [*FAST, "CONCURRENT_REQUESTS=32", "CONCURRENT_REQUESTS_PER_DOMAIN=32"]
    done = run_hrarchive("crawl", "--profile", str(tmp_path / "hrhouse.toml"),
                         "--db", str(tmp_path / "archive.db"), "--base-url", server.base_url,
                         *[arg for setting in settings for arg in ("-s", setting)])

    assert done.returncode == 0, done.stderr
    assert [h for h in server.hits if h.startswith("/private/")] == []
    assert server.hits[0] == "/robots.txt" and server.hits.count("/robots.txt") == 1
    assert "/articles/" in server.hits and "/tag/_belarus/" in server.hits
    assert "'robotstxt/forbidden': 24" in done.stderr


@pytest.mark.parametrize("status", [503, 429])
def test_robots_txt_server_error_means_disallow_all(
        status: int, serve: Callable[[str], FixtureSite], tmp_path: Path) -> None:
    server = serve("hrhouse")
    server.put("/robots.txt", Page(b"<html>Service Unavailable</html>", status,
                                   {"Content-Type": "text/html"}))
    result = crawl("hrhouse", server, tmp_path / "archive.db")
    assert server.hits == ["/robots.txt"]  # RFC 9309, 2.3.1.4: unreachable, disallow all
    assert result.returncode == 1
    assert f"answered {status}: nothing on that host is crawled" in result.output


def test_robots_txt_missing_means_allow_all(
        serve: Callable[[str], FixtureSite], tmp_path: Path) -> None:
    server = serve("hrhouse")
    # An error page whose text would read as a rule if it were parsed as robots.txt.
    server.put("/robots.txt", Page(b"User-agent: *\nDisallow: /\n", 404, TEXT))
    result = crawl("hrhouse", server, tmp_path / "archive.db")
    assert result.returncode == 0, result.output
    assert "/articles/" in server.hits


def test_crawl_delay_spaces_every_request_despite_autothrottle(
        serve: Callable[[str], FixtureSite], tmp_path: Path) -> None:
    server = serve("hrhouse")
    # Only the "hrarchive" group allows crawling, so the hits also prove which group was used.
    server.put("/robots.txt", robots("User-agent: hrarchive\nCrawl-delay: 0.5\nDisallow:\n\n"
                                     "User-agent: *\nDisallow: /\n"))
    settings = (*FAST, "AUTOTHROTTLE_ENABLED=True", "AUTOTHROTTLE_START_DELAY=0")
    result = crawl("hrhouse", server, tmp_path / "archive.db", settings=settings)
    assert result.returncode == 0, result.output
    assert result.db["articles"].count >= 5
    times = [hit.time for hit in server.requests]
    # Arrivals, not departures, are measured: allow for their varying lag on a busy machine.
    # (Without the Crawl-delay the gaps are a few ms; with random jitter some fall below 0.4.)
    assert min(gaps(times)) >= 0.4, gaps(times)


def recorded_robots(site: str) -> bytes | None:
    return next((c.body for c in load_cases(site) if c.url.endswith("/robots.txt")), None)


ROBOTS_SITES = [s for s in fixture_sites() if recorded_robots(s) is not None]


@pytest.mark.parametrize("site", ROBOTS_SITES)
def test_a_recorded_robots_txt_reads_the_same_without_its_crawl_delay(site: str) -> None:
    """Crawls of fixture sites that test something else are served robots.txt without its
    Crawl-delay (``serve(site, crawl_delay=False)``): every other rule must read the same."""
    from protego import Protego

    recorded = recorded_robots(site)
    assert recorded is not None
    text = recorded.decode("utf-8", "replace")
    stated = re.findall(r"(?im)^\s*crawl-delay\s*:\s*([\d.]+)", text)
    full, lean = Protego.parse(text), Protego.parse(without_crawl_delay(recorded).decode())
    assert full.crawl_delay("hrarchive") == (float(stated[0]) if stated else None)
    assert lean.crawl_delay("hrarchive") is None
    paths = [*re.findall(r"(?im)^\s*(?:dis)?allow\s*:\s*(\S+)", text), "/", "/news/x/"]
    for path in paths:
        url = "https://example.org" + path.replace("*", "x").replace("$", "")
        assert full.can_fetch(url, "hrarchive") == lean.can_fetch(url, "hrarchive"), url


@pytest.mark.slow  # sleeps through the recorded Crawl-delay: 5 twice
def test_a_recorded_crawl_delay_spaces_the_requests(
        serve: Callable[..., FixtureSite], tmp_path: Path) -> None:
    """viasna's recorded robots.txt, as served by the site, asks for Crawl-delay: 5."""
    server = serve("viasna")
    assert b"Crawl-delay: 5" in server.routes["/robots.txt"].body
    result = crawl("viasna", server, tmp_path / "archive.db",
                   settings=(*FAST, "CONCURRENT_REQUESTS=1", "CLOSESPIDER_PAGECOUNT=3"))
    pages = [hit.time for hit in server.requests if hit.path != "/robots.txt"]
    assert server.hits[0] == "/robots.txt" and len(pages) >= 2, result.output
    assert min(gaps(pages)) >= 4.5, (gaps(pages), server.hits)
    stats = json.loads(result.db["crawls"].get(1)["stats"])
    delays = {k: v for k, v in stats.items() if k.startswith("hrarchive/robotstxt/crawl_delay/")}
    assert list(delays.values()) == [5.0], stats


def test_retries_wait_for_retry_after_or_back_off(
        serve: Callable[[str], FixtureSite], tmp_path: Path) -> None:
    server = serve("hrhouse")
    listing, tag = server.routes["/articles/"], server.routes["/tag/_belarus/"]
    server.put("/articles/", Page(b"slow down", 429, {**TEXT, "Retry-After": "1"}, then=listing))
    server.put("/tag/_belarus/", Page(b"busy", 503, TEXT, then=tag))
    story = ("/statements/un-must-immediately-and-fully-resource-the-belarus-investigative-"
             "mechanism/")
    server.put(story, Page(b"come back tomorrow", 503, {**TEXT, "Retry-After": "86400"},
                           then=server.routes[story]))
    # Retry-After (1 s) and the back-off (0.5 s) differ, so each gap says which one waited;
    # the 429 keeps the whole site 1 s apart for the rest of this (AutoThrottle-less) crawl.
    settings = (*FAST, "RETRY_TIMES=2", "HRARCHIVE_RETRY_BACKOFF=0.5",
                "HRARCHIVE_RETRY_MAX_DELAY=60")
    result = crawl("hrhouse", server, tmp_path / "archive.db", settings=settings)
    assert result.returncode == 0, result.output

    def arrivals(path: str) -> list[float]:
        return [hit.time for hit in server.requests if hit.path == path]

    assert len(arrivals("/articles/")) == 2 and gaps(arrivals("/articles/"))[0] >= 1.0
    assert len(arrivals("/tag/_belarus/")) == 2 and gaps(arrivals("/tag/_belarus/"))[0] >= 0.5
    assert len(arrivals(story)) == 1  # asked for a day: not retried, the crawl went on
    stories = {row["url"].removeprefix(server.base_url) for row in result.db["articles"].rows}
    assert stories and story not in stories


def test_user_agent_names_the_project_and_the_contact_setting(
        serve: Callable[[str], FixtureSite], tmp_path: Path) -> None:
    server = serve("hrhouse")
    contact = "https://archive.example.org/contact"
    result = crawl("hrhouse", server, tmp_path / "archive.db",
                   settings=(*FAST, f"HRARCHIVE_CONTACT={contact}"))
    assert result.returncode == 0, result.output
    agents = {hit.headers.get("User-Agent") for hit in server.requests}
    assert agents == {f"hrarchive/{__version__} (+{contact}; archiving human rights news)"}
    assert server.hits[0] == "/robots.txt"


def test_user_agent_set_by_the_user_is_kept() -> None:
    settings = Settings({"HRARCHIVE_CONTACT": "https://a.example"})
    ContactUserAgent().update_settings(settings)
    assert settings["USER_AGENT"].endswith("(+https://a.example; archiving human rights news)")
    settings = Settings({"HRARCHIVE_CONTACT": "https://a.example"})
    settings.set("USER_AGENT", "MyBot/1 (+https://me.example)", priority="cmdline")
    ContactUserAgent().update_settings(settings)
    assert settings["USER_AGENT"] == "MyBot/1 (+https://me.example)"


NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(("value", "seconds"), [
    (b"120", 120.0),
    ("0", 0.0),
    (format_datetime(datetime(2026, 3, 1, 12, 1, 30, tzinfo=UTC), usegmt=True), 90.0),
    ("Sun, 01 Mar 2026 11:00:00 GMT", 0.0),  # already past: retry now
    ("soon", None),
    ("-5", None),
    ("1.5", None),
    (None, None),
])
def test_retry_after_values(value: bytes | str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value, NOW) == seconds


def test_back_off_doubles_up_to_the_cap() -> None:
    middleware = RetryAfterMiddleware(Settings({"RETRY_ENABLED": True,
                                                "HRARCHIVE_RETRY_BACKOFF": 5.0,
                                                "HRARCHIVE_RETRY_MAX_DELAY": 30.0}))
    assert [middleware.backoff_delay(n) for n in (1, 2, 3, 4, 5)] == [5.0, 10.0, 20.0, 30.0, 30.0]
