"""URL, date and text normal forms used by the normalise pipeline."""

from __future__ import annotations

import pytest

from hrarchive.extract.dates import parse_date
from hrarchive.extract.text import clean_block, clean_text, html_to_text
from hrarchive.extract.urls import Rebaser, normalise_url


@pytest.mark.parametrize(("url", "expected"), [
    ("HTTPS://HumanRightsHouse.org/articles/x/?utm_source=newsletter&utm_medium=email#top",
     "https://humanrightshouse.org/articles/x/"),
    ("https://humanrightshouse.org/articles/x/?fbclid=abc&page=2",
     "https://humanrightshouse.org/articles/x/?page=2"),
    ("https://humanrightshouse.org/articles/x?gclid=1", "https://humanrightshouse.org/articles/x"),
])
def test_urls_lose_tracking_and_fragments(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


def test_trailing_slash_convention_and_relative_links() -> None:
    base = "https://humanrightshouse.org/articles/"
    assert normalise_url("court-rejects", base, "add") == \
        "https://humanrightshouse.org/articles/court-rejects/"
    assert normalise_url("/files/report.pdf", base, "add") == \
        "https://humanrightshouse.org/files/report.pdf"
    assert normalise_url("https://x.org/a/", trailing_slash="strip") == "https://x.org/a"


def test_rebaser_maps_the_real_host_only() -> None:
    rebase = Rebaser("https://humanrightshouse.org", "http://127.0.0.1:8000")
    assert rebase("https://www.humanrightshouse.org/articles/x/?a=1") == \
        "http://127.0.0.1:8000/articles/x/?a=1"
    assert rebase("https://spring96.org/en/news/1") == "https://spring96.org/en/news/1"
    assert Rebaser("https://humanrightshouse.org", None)("https://humanrightshouse.org/") == \
        "https://humanrightshouse.org/"


@pytest.mark.parametrize(("raw", "languages", "order", "expected"), [
    ("October 18, 2018", ["en"], "MDY", "2018-10-18"),
    ("2018-10-18", [], None, "2018-10-18"),
    ("2018-10-18T10:00:00+03:00", [], None, "2018-10-18T10:00:00+03:00"),
    ("2018-10-18T10:00:00Z", [], None, "2018-10-18T10:00:00+00:00"),
    ("2018-10-18T10:00:00", [], None, "2018-10-18"),  # no offset: the date alone, not a guess
    ("20/11/2018", ["en"], "DMY", "2018-11-20"),
    ("05/06/2018", ["en"], None, None),  # day and month could be swapped: not guessed
    ("05/06/2018", ["en"], "DMY", "2018-06-05"),
    ("20 ноября 2018 г.", ["ru"], None, "2018-11-20"),
    ("not a date", ["en"], None, None),
    ("", ["en"], None, None),
])
def test_dates_become_iso_8601_or_nothing(raw: str, languages: list[str], order: str | None,
                                         expected: str | None) -> None:
    assert parse_date(raw, languages, order) == expected


def test_text_is_nfc_with_whitespace_collapsed() -> None:
    assert clean_text("  Cafe\u0301 \n\t au  lait ") == "Caf\u00e9 au lait"
    assert clean_block("one\n\n\n  two  three\n\n") == "one\n\ntwo three"
    assert html_to_text("<p>First <b>para</b>.</p><p>Second<br>line</p><script>x()</script>") \
        == "First para.\n\nSecond\nline"
