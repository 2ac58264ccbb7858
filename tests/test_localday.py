"""A declared UTC instant is put on the day the page prints for its readers (issue 14, 3)."""

from __future__ import annotations

import pytest

from hrarchive.extract.article import extract_article
from hrarchive.extract.dates import reader_day
from hrarchive.extract.stored import stored_article

INSTANT = "2023-11-09T01:09:55+00:00"


@pytest.mark.parametrize(("printed", "expected"), [
    ("November 8, 2023 8:09 pm", "2023-11-08T20:09:55-05:00"),  # the time gives the offset
    ("Posted 8 Nov 2023, 20:09", "2023-11-08T20:09:55-05:00"),
    ("November 8, 2023", "2023-11-08"),  # no time printed: the offset is unknown
    ("November 8, 2023 3:12 pm", INSTANT),  # a time that does not agree: left as declared
    ("Nov 8, 2023 8:09 pm, updated Nov 9, 2023 9:00 am", INSTANT),  # two times
    ("November 9, 2023", INSTANT),  # same day
    ("November 6, 2023", INSTANT),  # more than a day apart: another event
    ("no date here", INSTANT),
])
def test_reader_day(printed: str, expected: str) -> None:
    assert reader_day(INSTANT, printed) == expected


def test_reader_day_leaves_other_declarations() -> None:
    assert reader_day("2023-11-09T01:09:55-05:00", "November 8, 2023") == \
        "2023-11-09T01:09:55-05:00"  # a declared offset is the page's own
    assert reader_day("2023-11-09", "November 8, 2023") == "2023-11-09"  # a day, not an instant
    assert reader_day(None, "November 8, 2023") is None
    assert reader_day("2023-11-08T22:30:00+00:00", "9 November 2023, 00:30") == \
        "2023-11-09T00:30:00+02:00"  # ahead of UTC too


def test_reader_day_reads_no_date_that_cannot_be_a_day_off(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A printed date holding the declared UTC day's number and neither neighbour's is not
    read at all (dateparser is the slowest step of a page's normal forms)."""
    import hrarchive.extract.dates as dates

    read: list[str] = []
    real = dates.parse_date
    monkeypatch.setattr(dates, "parse_date", lambda text, *a: read.append(text) or real(text, *a))
    assert reader_day(INSTANT, "Thursday, November 9, 2023, 1:09 am") == INSTANT
    assert reader_day(INSTANT, "٩ نوفمبر ٢٠٢٣") == INSTANT  # digits of any script
    assert read == []
    assert reader_day(INSTANT, "November 8, 2023 8:09 pm") == "2023-11-08T20:09:55-05:00"
    assert reader_day(INSTANT, "le huit novembre", ["fr"]) == INSTANT  # no digits: read
    assert read == ["November 8, 2023 8:09 pm", "le huit novembre"]


def _page(printed: str, header_class: str = "entry-date", extra: str = "") -> bytes:
    story = " ".join(["The river council met late into the evening to argue about the bridge "
                      "repairs, and the vote was put off until the spring."] * 4)
    return f"""<html><head><title>Bridge vote delayed</title>
<meta property="article:published_time" content="2023-11-09T01:09:55Z"></head>
<body><article><h1>Bridge vote delayed</h1>
<p class="{header_class}">{printed}</p>
<div class="entry-content"><p>{story}</p><p>{story}</p></div>{extra}</article>
</body></html>""".encode()


def _stored(page: bytes) -> dict[str, object]:
    return stored_article(extract_article(page, "https://news.example.org/bridge-vote"))


def test_page_printing_day_and_time() -> None:
    out = _stored(_page("November 8, 2023 at 8:09 pm"))
    assert out["published"] == "2023-11-08T20:09:55-05:00"
    assert out["published_raw"] == "2023-11-09T01:09:55Z"  # the declared instant is kept


def test_page_printing_day_alone() -> None:
    out = _stored(_page("Wednesday, November 8, 2023"))
    assert out["published"] == "2023-11-08"
    assert out["published_raw"] == "2023-11-09T01:09:55Z"


def test_time_element_text_is_read() -> None:
    page = _page('<time datetime="2023-11-09T01:09:55Z">Nov. 8, 2023</time>', "byline")
    assert _stored(page)["published"] == "2023-11-08"


def test_without_printed_date_the_instant_stays() -> None:
    out = _stored(_page("By the river desk"))
    assert out["published"] == "2023-11-09T01:09:55+00:00"


def test_dates_after_the_story_or_in_related_lists_are_not_read() -> None:
    related = '<div class="related"><p class="date">November 8, 2023</p></div>'
    out = _stored(_page("By the river desk", extra=related))
    assert out["published"] == "2023-11-09T01:09:55+00:00"


def test_site_header_date_above_the_story_is_not_read() -> None:
    page = _page("By the river desk").replace(
        b"<body>", b'<body><div class="today-date">Wednesday, November 8, 2023</div>')
    assert _stored(page)["published"] == "2023-11-09T01:09:55+00:00"
