"""Dates as the sites print or declare them, in their languages, to ISO 8601 — never guessed."""

from __future__ import annotations

import pytest

from hrarchive.extract.dates import parse_date

READ = [
    # (as printed or declared, the site's languages, its date order, ISO 8601)
    ("18 кастрычніка 2018", ["be"], None, "2018-10-18"),
    ("25 жніўня 2014, 23:21", ["be", "ru", "en"], "DMY", "2014-08-25"),
    ("20 ноября 2018 г.", ["ru"], None, "2018-11-20"),
    ("28 декабря 2021 г.", ["ru"], "DMY", "2021-12-28"),
    ("20 листопада 2018", ["uk"], None, "2018-11-20"),
    ("20 ნოემბერი 2018", ["ka"], None, "2018-11-20"),
    ("20 noyabr 2018", ["az"], None, "2018-11-20"),
    ("20 նոյեմբերի 2018", ["hy"], None, "2018-11-20"),
    ("20. november 2018", ["nb"], None, "2018-11-20"),
    ("20 listopada 2018", ["pl"], None, "2018-11-20"),
    ("20 novembre 2018", ["fr"], None, "2018-11-20"),
    ("20 de noviembre de 2018", ["es"], None, "2018-11-20"),
    ("October 18, 2018", ["en"], "MDY", "2018-10-18"),
    ("20/11/2018", ["fr"], "DMY", "2018-11-20"),
    ("17/12/2021", ["fr", "en"], "DMY", "2021-12-17"),
    ("// 24.02.2022", ["ru"], "DMY", "2022-02-24"),
    ("26.07.21", ["fr", "en"], "DMY", "2021-07-26"),          # omct: two-digit year
    ("posted on: 2015/04/01", ["en"], "DMY", "2015-04-01"),   # frontline: year first
    ("22 Jan 21", ["en"], "DMY", "2021-01-22"),
    ("Published: 24.08.2012", ["en"], "DMY", "2012-08-24"),
    ("Johannesburg, 24 August 2012: Global civil society network CIVICUS urges",
     ["en"], "DMY", "2012-08-24"),                             # civicus: dateline in text
    ("2023-03-29T18:00:45+0300", [], None, "2023-03-29T18:00:45+03:00"),
    ("2019-01-17T05:00:00-05:00", [], None, "2019-01-17T05:00:00-05:00"),
    ("2019-01-17T05:00:00", [], None, "2019-01-17"),          # no offset: the day alone
    ("2018-10-18", [], None, "2018-10-18"),
    ("Wed, 16 Feb 2022 10:00:00 +0000", ["en"], None, "2022-02-16T10:00:00+00:00"),
    # a feed's date is English whatever the site's language (dateparser read none in "ru")
    ("Fri, 17 Nov 2023 02:35:00 +0000", ["ru"], "DMY", "2023-11-17T02:35:00+00:00"),
    ("17 Nov 2023 21:35 -0500", ["be"], None, "2023-11-17T21:35:00-05:00"),
    ("Sat, 18 Nov 2023 02:35:00 GMT", [], None, "2023-11-18T02:35:00+00:00"),
]

UNREAD = [
    ("05/06/2018", ["en"], None),        # day and month could be swapped: no date order
    ("26.07.21", ["fr"], None),          # which part is the year?
    ("yesterday", ["en"], None),         # relative: depends on when it was fetched
    ("3 days ago", ["en"], None),
    ("no date here", ["en"], None),
    ("", ["en"], None),
    ("31/02/2020", ["en"], "DMY"),       # no such day
    ("Le 14 juillet", ["fr"], "DMY"),    # no year
]


@pytest.mark.parametrize(("raw", "languages", "order", "iso"), READ)
def test_reads_printed_and_declared_dates(raw: str, languages: list[str], order: str | None,
                                          iso: str) -> None:
    assert parse_date(raw, languages, order) == iso


@pytest.mark.parametrize(("raw", "languages", "order"), UNREAD)
def test_never_guesses(raw: str, languages: list[str], order: str | None) -> None:
    assert parse_date(raw, languages, order) is None
