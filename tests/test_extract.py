"""Generic extraction on its own: charsets, the ``hrarchive extract`` command, the benchmark."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable

import pytest

from hrarchive.extract import extract_article
from hrarchive.extract.listing import extract_listing
from hrarchive.extract.page import decode
from tests.conftest import ROOT, run_hrarchive
from tests.fixtureserver import FixtureSite, load_cases

CP1251 = next(c for c in load_cases("belhelcom") if c.name == "article-ru-ukraine-cp1251")
TITLE = "Обращение белорусского правозащитного сообщества в поддержку Украины"
NO_META = re.sub(rb"<meta[^>]*charset[^>]*>", b"", CP1251.body)


@pytest.mark.parametrize(("body", "content_type"), [
    (CP1251.body, "text/html"),                    # as served: only <meta http-equiv> says so
    (CP1251.body, "text/html; charset=utf-8"),     # a wrong header
    (NO_META, "text/html"),                        # nothing says: detected
    (NO_META, None),
])
def test_windows_1251_page_is_read_whatever_the_header_says(body: bytes,
                                                            content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    assert TITLE in decode(body, headers)
    assert extract_article(body, CP1251.url, headers)["title"] == TITLE


def test_generic_listing_finds_teasers_and_not_the_previous_page() -> None:
    page2 = next(c for c in load_cases("wordpress") if c.name == "listing-page-2")
    listing = extract_listing(page2.body, page2.url, page2.meta["headers"])
    assert [t["title"] for t in listing.teasers] == [t["title"] for t in page2.expected["teasers"]]
    assert listing.next_page is None  # rel=prev and "Newer Posts" lead back to page 1


def test_extract_command_prints_what_the_archive_would_store() -> None:
    done = run_hrarchive("extract", str(CP1251.path / "body.html"), "--url", CP1251.url,
                         "--site", "belhelcom")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["title"] == TITLE
    assert data["published"] == "2022-02-24" and data["published_raw"] == "24.02.2022"
    assert "В Москве происходящее именуют" in data["body_text"]
    assert "body_html" not in data


def test_extract_command_reads_a_url(serve: Callable[[str], FixtureSite]) -> None:
    server = serve("wordpress")
    done = run_hrarchive("extract", f"{server.base_url}/2024/03/05/"
                         "volunteer-legal-clinic-opens-in-harbour-district/", "--html")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["title"] == "Volunteer legal clinic opens in the Harbour district"
    assert data["published"] == "2024-03-05T09:00:00+00:00"
    assert data["authors"] == ["Anna Berg"]
    assert [r["title"] for r in data["related"]] == ["Training weekend for new volunteers",
                                                      "Our annual report for 2023 is published"]
    assert "<p>" in data["body_html"] and "Share on" not in data["body_html"]


def test_extract_command_fails_clearly_on_a_missing_file(tmp_path: object) -> None:
    done = run_hrarchive("extract", "/no/such/page.html")
    assert done.returncode != 0
    assert "could not read /no/such/page.html" in done.stderr


# Floors just under the figures of 2026-11-29 (every field 1.000 for both hrarchive rows over
# 34 fixture articles): one story whose title, date or authors go wrong fails the test.
FLOOR = 0.98


def test_accuracy_benchmark_prints_every_field() -> None:
    done = subprocess.run([sys.executable, "-m", "benchmarks.accuracy"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    articles = int(next(line for line in lines if "fixture articles from" in line).split()[0])
    assert articles >= 30, done.stdout
    header = next(line for line in lines if line.startswith("extractor"))
    fields = ["title", "published", "authors", "body", "snippets"]
    assert header.split()[1:] == [*fields, "ms/page"]
    for label in ("hrarchive generic", "hrarchive profile", "trafilatura"):
        row = next(line for line in lines if line.startswith(label))
        numbers = [float(x) for x in row.removeprefix(label).split()]
        assert len(numbers) == 6 and all(0 <= n <= 1 for n in numbers[:5]), row
        if label.startswith("hrarchive"):
            low = {f: n for f, n in zip(fields, numbers, strict=False) if n < FLOOR}
            assert not low, f"{label} below {FLOOR}: {low}\n{done.stdout}"


def test_utf8_bytes_win_over_a_legacy_charset_declared_in_meta() -> None:
    """A made-up page that declares Shift_JIS in <meta> but whose bytes are UTF-8 is read as
    UTF-8; a page truly in Shift_JIS is still read in Shift_JIS."""
    title = "東京で人権について話し合う会"
    page = (f'<html><head><meta charset="Shift_JIS"><title>{title}</title></head>'
            f'<body><h1>{title}</h1><p>市民の集まりが土曜日に開かれました。</p></body></html>')
    utf8 = extract_article(page.encode("utf-8"), "https://example.org/jp/1")
    legacy = extract_article(page.encode("shift_jis"), "https://example.org/jp/1")
    assert utf8["title"] == title
    assert legacy["title"] == title
