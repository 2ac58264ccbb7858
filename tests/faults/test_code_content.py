"""Content that is code: script, markup, SQL, NUL bytes, right-to-left overrides and a
100 KB title are stored verbatim (NULs removed and counted) and render inert in Datasette,
checked in headless Chromium."""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.browser import browser, chromium
from tests.faults.conftest import run_crawl
from tests.faults.hostile import HOME, news_site, normal, page, story_html
from tests.faults.sound import assert_sound
from tests.research_archive import datasette

# Each would mark the page's <body> if a browser ran it.
MARK = "document.body.setAttribute('data-pwned','1')"
SCRIPT = f"<script>{MARK}</script>"
IMG = f'"><img src=x onerror="{MARK}">'
SQL = "'; DROP TABLE articles; --"
RTL = "\u202eevil.exe\u202c"
TITLE = f"Hostile {SCRIPT} {IMG} {SQL} {RTL}"
BODY = f"The report quotes {SCRIPT} and {IMG} and {SQL} and {RTL} as it was written."
LINK = f"{HOME}/news/normal-1?q={quote(IMG + SCRIPT, safe='')}"


def hostile_page() -> bytes:
    paragraph = html.escape(BODY)
    body = story_html(html.escape(TITLE), paragraph)
    body = body.replace("</div></article>", f'<p>Also see <a href="{html.escape(LINK)}">'
                        f"{html.escape(SCRIPT)}</a> and <a href=\"javascript:{MARK}\">this</a>."
                        "</p></div></article>")
    return body.replace("as it was written.", "as it was\x00 written.", 1).encode()


def test_code_in_pages_is_stored_verbatim_and_renders_inert(tmp_path: Path, serve) -> None:  # type: ignore[no-untyped-def]
    long_title = "A hundred kilobytes of title " * 3500
    site = serve(news_site({"hostile": page(hostile_page()),
                            "long": page(story_html(long_title.strip())),
                            "normal-1": normal("normal-1")}))
    run = run_crawl(site, tmp_path)
    assert run.returncode == 0, run.output[-3000:]
    rows = {row["url"].rsplit("/", 1)[-1]: row for row in
            run.db.query("SELECT id, url, title, body_text FROM articles")}
    assert set(rows) == {"hostile", "long", "normal-1"}
    assert rows["hostile"]["title"] == TITLE
    assert BODY.replace("was\x00 written", "was written") in rows["hostile"]["body_text"]
    assert "\x00" not in rows["hostile"]["body_text"]
    assert rows["long"]["title"] == long_title.strip() and len(long_title) > 100_000
    # the NUL is counted and logged with the page it was in
    assert run.stats()["hrarchive/article/nul_removed"] == 1
    assert run.lines(f"NUL characters removed from {site.base_url}/news/hostile (pages so far: 1)")
    links = {row["to_url"] for row in run.db.query("SELECT to_url FROM links")}
    # kept as a URL (normalised: quoted), never as markup
    assert [url for url in links if url.startswith(f"{site.base_url}/news/normal-1?q=%22%3E")
            and "%3Cscript%3E" in url and "<" not in url]
    assert {row["name"] for row in run.db.query("SELECT name FROM sqlite_master")} >= {"articles"}
    assert_sound(run.db_path)

    if chromium() is None:
        pytest.skip("no Chromium (set HRARCHIVE_CHROMIUM or apt-get install chromium): "
                    "the rendering half of this test did not run")
    story = rows["hostile"]["id"]
    # the body's mark if any script ran, and whether the payload shows as text
    probe = ("[document.body.getAttribute('data-pwned'), "
             "document.body.innerText.includes('data-pwned')]")
    with datasette(run.db_path) as base, browser() as chrome:
        # the story as a row (title, body in full) and the links table (the hostile URL)
        for path in (f"/archive/articles/{story}", "/archive/links"):
            assert chrome.load(base + path, probe) == [None, True], path
