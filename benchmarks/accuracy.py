"""Accuracy benchmark: hrarchive's extraction against trafilatura's on every fixture article.

For each saved story page (``tests/fixtures/<site>/<case>/`` of kind ``article`` with an
``expected.json``) three extractors read the same bytes in the same run:

- ``hrarchive generic``: ``extract_article`` with no selectors (what a three-line profile gets),
- ``hrarchive profile``: ``extract_article`` with the site's profile selectors,
- ``trafilatura``: ``trafilatura.bare_extraction`` with metadata (its own date, author, title
  and body extraction), given the page's declared charset like hrarchive.

Fields: ``title`` (exact, after whitespace clean-up), ``published`` (the day, ISO 8601; a page
that states no date must give none), ``authors`` (the set, empty when the page names none),
and ``body`` (F1 of word 4-shingles against the reference body text: ``expected.json``'s
``body_text`` when given, else all text of the element the profile's body selector
names, as the page has it: a person chose that element as the story's body).  ``snippets``
is the share of ``body_contains`` found and ``body_excludes`` absent.  ``ms/page`` is the
mean extraction time.

Run: ``python -m benchmarks.accuracy`` (``--cases`` lists per-case misses).  The fixture
pages were read while the rules were written: this table is a regression guard.

``python -m benchmarks.accuracy --real [PATH]`` measures instead on the development set of
real pages nobody here wrote (default ``../shared/realpages`` beside the repository): body
P/R/F1, title, date (day right, given, wrong), authors and ms/page for hrarchive,
trafilatura and htmldate (fast and extensive); see ``benchmarks/realpages.py``.
``--every N`` reads every N-th page only; ``--json FILE`` also writes the figures.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trafilatura
from parsel import Selector

from benchmarks import realpages
from hrarchive.extract import extract_article
from hrarchive.extract.page import decode, nodes
from hrarchive.extract.stored import stored_article
from hrarchive.extract.text import clean_text
from hrarchive.profiles import SiteProfile, load_profile, load_profiles
from tests.fixtureserver import FIXTURES, Case, iter_all_cases

FIELDS = ("title", "published", "authors", "body", "snippets")
WORDS = re.compile(r"\w+", re.UNICODE)
SHINGLE = 4
LINE_BREAKS = re.compile(r"\s*\n\s*")


def shingles(text: str | None) -> set[tuple[str, ...]]:
    words = WORDS.findall(unicodedata.normalize("NFC", text or "").lower())
    if len(words) < SHINGLE:
        return {tuple(words)} if words else set()
    return {tuple(words[i:i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def f1(got: str | None, want: str | None) -> float:
    a, b = shingles(got), shingles(want)
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    common = len(a & b)
    if not common:
        return 0.0
    precision, recall = common / len(a), common / len(b)
    return 2 * precision * recall / (precision + recall)


def profile_of(site: str) -> SiteProfile:
    own = FIXTURES / site / "profile.toml"
    return load_profile(own) if own.exists() else load_profiles()[site]


@dataclass
class Result:
    """One extractor's values for one page."""

    title: str | None
    published: str | None
    authors: list[str]
    body: str | None
    seconds: float


@dataclass
class Score:
    """One extractor's totals over all pages."""

    sums: dict[str, float] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0.0))
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    seconds: float = 0.0
    pages: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, name: str, value: float, case: str) -> None:
        self.sums[name] += value
        self.counts[name] += 1
        if value < 0.999 and name != "body":
            self.misses.append(f"{case}: {name}")

    def mean(self, name: str) -> float:
        return self.sums[name] / self.counts[name] if self.counts[name] else float("nan")


def _hrarchive(profile: SiteProfile | None, site: SiteProfile) -> Callable[[Case], Result]:
    def run(case: Case) -> Result:
        start = time.perf_counter()
        data = extract_article(case.body, case.url, case.meta.get("headers"),
                               profile.article if profile else None)
        seconds = time.perf_counter() - start
        # dates are read with the site's languages and date order in both cases:
        # a user adding a site states those in the profile's first lines
        stored = stored_article(data, site.languages, site.date_order, site.trailing_slash)
        return Result(stored["title"], stored["published"], stored["authors"],
                      stored["body_text"], seconds)
    return run


def _trafilatura(case: Case) -> Result:
    start = time.perf_counter()
    text = decode(case.body, case.meta.get("headers"))  # same charset handling for both
    document = trafilatura.bare_extraction(text, url=case.url, with_metadata=True,
                                           include_comments=False)
    seconds = time.perf_counter() - start
    doc = document.as_dict() if document is not None else {}
    authors = [a.strip() for a in re.split(r";", doc.get("author") or "") if a.strip()]
    return Result(clean_text(doc.get("title")), doc.get("date"), authors, doc.get("text"),
                  seconds)


def reference_body(case: Case, site: SiteProfile) -> str | None:
    expected = case.expected or {}
    if expected.get("body_text"):
        return str(expected["body_text"])
    spec = site.article.get("body")
    if not spec:
        return None
    found = nodes(Selector(text=decode(case.body, case.meta.get("headers"))), spec)
    if not found or isinstance(found[0].root, str):
        return None
    # the element's text as the page has it, not as either extractor cleans it
    return " ".join(found[0].xpath(".//text()[not(ancestor::script or ancestor::style)]")
                    .getall())


def score(result: Result, case: Case, reference: str | None, total: Score) -> None:
    expected = case.expected or {}
    name = f"{case.site}/{case.name}"
    total.seconds += result.seconds
    total.pages += 1
    if "title" in expected and expected["title"] is not None:
        total.add("title", float(result.title == expected["title"]), name)
    if "published" in expected:
        want = expected["published"]
        got = result.published
        total.add("published", float((got or "")[:10] == (want or "")[:10]), name)
    if "authors" in expected:
        want_authors = set(expected["authors"] or [])
        total.add("authors", float(set(result.authors) == want_authors), name)
    if reference:
        total.add("body", f1(result.body, reference), name)
    # paragraph breaks compared as one line break: trafilatura separates paragraphs by "\n"
    body = LINE_BREAKS.sub("\n", result.body or "")
    checks = [LINE_BREAKS.sub("\n", s) in body for s in expected.get("body_contains", [])]
    checks += [LINE_BREAKS.sub("\n", s) not in body for s in expected.get("body_excludes", [])]
    if checks:
        total.add("snippets", sum(checks) / len(checks), name)


def _real(path: Path, every: int, json_file: Path | None) -> int:
    try:
        figures = realpages.measure(path, every=max(1, every))
    except realpages.MissingSet as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import htmldate

    pages = next(iter(figures.values()))["pages"] if figures else 0
    print(f"development set: {pages} real pages from {path}; trafilatura "
          f"{trafilatura.__version__}, htmldate {htmldate.__version__}")
    print(realpages.table(figures))
    for name, row in figures.items():
        for crash in row["crash_list"]:
            print(f"crash: {name} {crash}")
    if json_file:
        json_file.write_text(json.dumps(figures, indent=2) + "\n", "utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", action="store_true", help="list each extractor's misses")
    parser.add_argument("--real", nargs="?", const=str(realpages.DEFAULT), metavar="PATH",
                        help="measure on the development set of real pages instead "
                             f"(default {realpages.DEFAULT})")
    parser.add_argument("--every", type=int, default=1, help="with --real: every N-th page")
    parser.add_argument("--json", type=Path, help="with --real: also write the figures here")
    args = parser.parse_args(argv)
    if args.real is not None:
        return _real(Path(args.real), args.every, args.json)
    cases = [c for c in iter_all_cases() if c.kind == "article" and c.expected is not None
             and int(c.meta.get("status", 200)) == 200]
    extractors: dict[str, Any] = {}
    totals: dict[str, Score] = {}
    for case in cases:
        site = profile_of(case.site)
        reference = reference_body(case, site)
        runners = {"hrarchive generic": _hrarchive(None, site),
                   "hrarchive profile": _hrarchive(site, site),
                   "trafilatura": _trafilatura}
        for label, runner in runners.items():
            extractors[label] = runner
            score(runner(case), case, reference, totals.setdefault(label, Score()))
    width = max(map(len, totals)) + 2
    print(f"{len(cases)} fixture articles from {len({c.site for c in cases})} sites")
    print(f"{'extractor':<{width}}" + "".join(f"{f:>10}" for f in FIELDS) + f"{'ms/page':>10}")
    for label, total in totals.items():
        cells = "".join(f"{total.mean(f):>10.3f}" for f in FIELDS)
        print(f"{label:<{width}}{cells}{1000 * total.seconds / total.pages:>10.1f}")
    if args.cases:
        for label, total in totals.items():
            print(f"\n{label} misses:")
            for miss in total.misses:
                print(f"  {miss}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
