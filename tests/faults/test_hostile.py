"""Hostile responses: bombs, oversized and endless bodies, broken markup and bytes,
redirect loops and redirects off the site, 5xx storms and 429s.  Each case crawls a small
site through the real engine and asserts what is kept, logged and counted."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

from tests.faults.conftest import run_crawl
from tests.faults.hostile import (
    Route,
    bomb,
    news_site,
    normal,
    page,
    redirect,
    send,
    sequence,
    story_html,
    stream,
    trickle,
)
from tests.faults.sound import assert_sound


def archived(run) -> set[str]:  # type: ignore[no-untyped-def]
    return {row["url"].rsplit("/", 1)[-1] for row in run.db.query("SELECT url FROM articles")}


def test_bombs_and_oversized_bodies_are_refused_while_streaming(tmp_path: Path, serve) -> None:  # type: ignore[no-untyped-def]
    gzip_bomb, deflate_bomb = bomb("gzip"), bomb("deflate")
    def huge() -> Iterator[bytes]:  # endless: 1 MiB chunks until refused
        return iter(lambda: b" " * (1 << 20), None)

    site = serve(news_site({
        "good-one": normal("good-one"),
        "gzip-bomb": page(gzip_bomb, Content_Encoding="gzip"),
        "deflate-bomb": page(deflate_bomb, Content_Encoding="deflate"),
        "huge-declared": page(b" " * (200 << 20)),
        "huge-streamed": stream(huge),
        "good-two": normal("good-two"),
    }))
    run = run_crawl(site, tmp_path)
    assert run.returncode == 0, run.output[-3000:]
    assert archived(run) == {"good-one", "good-two"}
    assert run.peak_mb < 400  # 5.3 GB with Scrapy's 1 GiB limit
    assert run.stats()["hrarchive/errors/too_large"] == 4
    for slug in ("gzip-bomb", "deflate-bomb", "huge-declared", "huge-streamed"):
        line = run.lines(f"Could not fetch {site.base_url}/news/{slug}: ")
        assert len(line) == 1 and "(too_large so far: " in line[0], slug
    assert_sound(run.db_path)


def deep_story(depth: int) -> str:
    inner = story_html("A story under ten thousand wrappers", "Deep inside the page sits the text.")
    head, _, rest = inner.partition("<article>")
    article, _, tail = rest.partition("</article>")
    return f"{head}{'<div>' * depth}<article>{article}</article>{'</div>' * depth}{tail}"


def wide_story(paragraphs: int) -> str:
    page_ = story_html("A story of five thousand paragraphs", "Wide.")
    extra = "".join(f"<p>Line {n} of a very long list of detentions.</p>"
                    for n in range(paragraphs))
    return page_.replace("</div></article>", extra + "</div></article>")


CYRILLIC = "Праваабаронцы зафіксавалі новыя затрыманні ў горадзе."


def test_broken_pages_are_archived_or_dropped_with_a_reason(tmp_path: Path, serve) -> None:  # type: ignore[no-untyped-def]
    elsewhere = serve(news_site({"not-ours": page(story_html("Another site's story"))}))
    lying = story_html("Charset lie", CYRILLIC * 3).replace('<meta charset="utf-8">', "")
    invalid = story_html("Invalid bytes", "Before the bad bytes.").encode().replace(
        b"Paragraph 2.", b"Paragraph 2 \xff\xfe\xc3(.")
    site = serve(news_site({
        "normal-1": normal("normal-1"), "normal-2": normal("normal-2"),
        "normal-3": normal("normal-3"), "normal-4": normal("normal-4"),
        "deep": page(deep_story(10_000)),
        "wide": page(wide_story(5_000)),
        "invalid-bytes": page(invalid),
        "charset-lie": page(lying.encode("cp1251"), Content_Type="text/html; charset=utf-8"),
        "binary": page(bytes(range(256)) * 200),
        "empty": page(b""),
        "truncated": lambda h: send(h, story_html("Cut short").encode()[:300], 200,
                                    {"Content-Length": "5000"}, length=False),
        "loop-a": redirect("/news/loop-b"),
        "moved": redirect(elsewhere.base_url + "/news/not-ours"),
        "trickle": trickle(0.2),
    }))
    site.routes["/news/loop-b"] = redirect("/news/loop-a")  # not teased: reached by redirect
    run = run_crawl(site, tmp_path, "RETRY_TIMES=3", "HRARCHIVE_RETRY_BACKOFF=0.1",
                    "DOWNLOAD_TIMEOUT=2")
    assert run.returncode == 0, run.output[-3000:]
    stories = {row["url"].rsplit("/", 1)[-1]: row for row in
               run.db.query("SELECT url, title, body_text FROM articles")}
    # kept: every story with a readable text, whatever its markup or bytes
    assert set(stories) == {"normal-1", "normal-2", "normal-3", "normal-4", "deep", "wide",
                            "invalid-bytes", "charset-lie"}
    assert "Deep inside the page sits the text." in stories["deep"]["body_text"]
    assert "Line 4999 of a very long list" in stories["wide"]["body_text"]
    assert CYRILLIC in stories["charset-lie"]["body_text"]
    assert "Paragraph 3." in stories["invalid-bytes"]["body_text"]
    # dropped, logged and counted: no title in a binary or empty page
    stats = run.stats()
    assert stats["hrarchive/validate/dropped_article_no_title"] == 2
    for slug in ("binary", "empty"):
        line = run.lines(f"Dropped article without title: {site.base_url}/news/{slug}")
        assert len(line) == 1 and "(dropped so far: " in line[0]
    # one line per drop or failure: the URL, the reason, the count; never the whole item
    assert "body_html=" not in run.output and "site='faults'" not in run.output
    # a truncated page is never archived as if whole: a failed fetch, retried next run
    assert stats["hrarchive/errors/ResponseDataLossError"] == 1
    assert "truncated" not in stories
    # the redirect loop and the redirect off the site: logged with the chain and counted
    loop = run.lines("Redirect loop, not archived")
    chain = " -> ".join(f"{site.base_url}/news/{slug}" for slug in ("loop-a", "loop-b", "loop-a"))
    assert len(loop) == 1 and chain in loop[0]
    assert stats["hrarchive/redirect/loop"] == 1
    off = run.lines("Redirect off the site, not archived as its story")
    assert len(off) == 1 and f"{elsewhere.base_url}/news/not-ours" in off[0]
    assert stats["hrarchive/redirect/off_site"] == 1
    # the trickling page: cut off at the time budget, retried once, then counted
    assert site.count("/news/trickle") == 2
    assert stats["hrarchive/errors/DownloadTimeoutError"] == 1
    assert run.lines(f"Could not fetch {site.base_url}/news/trickle")
    assert_sound(run.db_path)


def test_429_storm_slows_the_whole_site_and_the_crawl_finishes(tmp_path: Path, serve) -> None:  # type: ignore[no-untyped-def]
    busy = page("<html><body>Too many requests</body></html>", 429, Retry_After="1")
    slugs = [f"busy-{n}" for n in range(4)]
    site = serve(news_site({slug: sequence(busy, normal(slug)) for slug in slugs}))
    run = run_crawl(site, tmp_path, "RETRY_TIMES=2", "RANDOMIZE_DOWNLOAD_DELAY=False")
    assert run.returncode == 0, run.output[-3000:]
    assert archived(run) == set(slugs)
    stats = run.stats()
    assert stats["hrarchive/retry/site_slowed"] >= 1
    assert run.lines("asks to slow down: 1.0 s between its requests")
    # every story was asked for at once and answered 429; the retries came a second apart
    story_hits = [hit.time for hit in site.hits if hit.path.startswith("/news/busy-")]
    assert len(story_hits) == 8
    retries = sorted(story_hits)[4:]
    gaps = [later - earlier for earlier, later in itertools.pairwise(retries)]
    assert min(gaps) >= 0.9, gaps
    assert_sound(run.db_path)


def test_5xx_storm_is_counted_and_the_next_run_recovers_the_stories(tmp_path: Path, serve) -> None:  # type: ignore[no-untyped-def]
    slugs = [f"storm-{n}" for n in range(4)]
    down = page("<html><body>Internal error</body></html>", 500)
    site = serve(news_site({"calm": normal("calm"), **{slug: down for slug in slugs}}))
    first = run_crawl(site, tmp_path, "RETRY_TIMES=1", "HRARCHIVE_RETRY_BACKOFF=0.1")
    assert first.returncode == 0, first.output[-3000:]
    assert archived(first) == {"calm"}
    assert first.stats()["hrarchive/errors/http_500"] == 4
    for slug in slugs:
        assert site.count(f"/news/{slug}") == 2  # one retry each
        assert first.lines(f"HTTP 500 for {site.base_url}/news/{slug} (not archived)")
    for slug in slugs:
        site.routes[f"/news/{slug}"] = normal(slug)
    second = run_crawl(site, tmp_path, "RETRY_TIMES=1")
    assert second.returncode == 0, second.output[-3000:]
    assert archived(second) == {"calm", *slugs}
    assert_sound(second.db_path)


def test_attachments_have_their_own_larger_size_limit(tmp_path: Path, serve) -> None:  # type: ignore[no-untyped-def]
    def document(size: int) -> Route:
        return page(b"%PDF-1.4\n" + b"0" * size, Content_Type="application/pdf")

    story = story_html("Two reports").replace(
        "</div></article>", '<p><a href="/files/fits.pdf">Report</a> and '
        '<a href="/files/too-big.pdf">the annexes</a></p></div></article>')
    site = serve(news_site({"reports": page(story)}))
    site.routes["/files/fits.pdf"] = document(2 << 20)  # over the page limit, under its own
    site.routes["/files/too-big.pdf"] = document(5 << 20)
    run = run_crawl(site, tmp_path, "HRARCHIVE_ATTACHMENTS=True",
                    f"DOWNLOAD_MAXSIZE={1 << 20}", f"HRARCHIVE_ATTACHMENT_MAXSIZE={3 << 20}")
    assert run.returncode == 0, run.output[-3000:]
    kept = [row["url"] for row in run.db.query("SELECT url FROM attachments")]
    assert kept == [f"{site.base_url}/files/fits.pdf"]
    assert run.stats()["hrarchive/errors/too_large"] == 1
    assert run.lines(f"Could not fetch {site.base_url}/files/too-big.pdf")
    assert_sound(run.db_path)
