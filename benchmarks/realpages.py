"""Accuracy on the development set of real pages: hrarchive, trafilatura and htmldate.

The set lives outside the repository (``../shared/realpages`` beside the clone, the folder
``HRARCHIVE_REALPAGES`` names, or one given on the command line): ``truth.jsonl`` (one
reference per page: title, published, authors, body text and whether that text is the
``full`` body or a ``prefix``) and
``pages/<id>.html`` (the bytes as saved).  Nothing of it is copied here.  Every page's bytes
and URL go to each extractor in this one process:

- ``hrarchive``: ``stored_article(extract_article(bytes, url))`` (a crawl without a profile);
- ``trafilatura``: ``bare_extraction(bytes, url=url, with_metadata=True)``, defaults otherwise;
- ``htmldate`` / ``htmldate+x``: ``find_date(bytes, url=url, original_date=True)``, fast and
  with ``extensive_search`` (dates only).

Figures (the same definitions as the set's own scorer):

- words: lower case, Unicode punctuation and symbols deleted, split on white space;
- body P / R / F1 on ``full`` references: per page, the words both texts share (counted with
  repeats) over the output's words (P, pages with output only) and over the reference's (R);
  P and R are means over pages, F1 = 2PR / (P + R);
- prefix hit on ``prefix`` references: the reference's words occur, in order, within the
  output's first 60 words (its last word may be cut short);
- title: exact after white space is collapsed;
- authors: word F1 of all reference names against all names given, on pages naming any;
- date day / given / wrong, on dated references: the first ten characters agree / any date
  is given / a date is given and its day differs;
- ms/page: mean time of the extractor's call, after one untimed call each.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# beside the clone, as CI places it; HRARCHIVE_REALPAGES names another folder
DEFAULT = Path(os.environ.get("HRARCHIVE_REALPAGES") or ROOT.parent / "shared" / "realpages")
PREFIX_WINDOW = 60
EXTRACTORS = ("hrarchive", "trafilatura", "htmldate", "htmldate+x")
TEXT_EXTRACTORS = ("hrarchive", "trafilatura")


class MissingSet(FileNotFoundError):
    """The development set is not where it was looked for."""


class _Unmarked(dict[int, int | None]):
    """``str.translate`` table deleting punctuation (P*) and symbols (S*), built as met."""

    def __missing__(self, code: int) -> int | None:
        value = None if unicodedata.category(chr(code))[0] in "PS" else code
        self[code] = value
        return value


_UNMARKED = _Unmarked()


def words(text: str | None) -> list[str]:
    return (text or "").lower().translate(_UNMARKED).split()


def overlap(reference: list[str], output: list[str]) -> tuple[int, int, int]:
    """Shared words, output words not in the reference, reference words not in the output."""
    want, got = Counter(reference), Counter(output)
    shared = sum((want & got).values())
    return shared, len(output) - shared, len(reference) - shared


def word_f1(reference: list[str], output: list[str]) -> float:
    shared, extra, missed = overlap(reference, output)
    if not extra and not missed:
        return 1.0 if shared else 0.0
    return 2 * shared / (2 * shared + extra + missed)


def prefix_found(reference: list[str], output: list[str]) -> bool:
    size = len(reference)
    for start in range(max(0, PREFIX_WINDOW - size) + 1):
        window = output[start:start + size]
        if len(window) == size and window[:-1] == reference[:-1] and \
                window[-1].startswith(reference[-1]):
            return True
    return False


@dataclass
class Totals:
    """One extractor's scores over the pages read."""

    seconds: float = 0.0
    pages: int = 0
    crashes: list[str] = field(default_factory=list)
    bodies: list[tuple[int, int, int]] = field(default_factory=list)
    prefixes: list[bool] = field(default_factory=list)
    titles: list[bool] = field(default_factory=list)
    authors: list[float] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)  # "day", "wrong" or "none"

    def figures(self) -> dict[str, float | int | None]:
        precisions = [s / (s + e) for s, e, _ in self.bodies if s + e]
        recalls = [s / (s + m) for s, _, m in self.bodies if s + m]
        p = sum(precisions) / len(precisions) if precisions else None
        r = sum(recalls) / len(recalls) if recalls else None
        dated = len(self.dates)

        def mean(values: list[Any]) -> float | None:
            return sum(values) / len(values) if values else None

        return {
            "pages": self.pages, "full": len(self.bodies), "body_p": p, "body_r": r,
            "body_f1": 2 * p * r / (p + r) if p is not None and r is not None and p + r
            else None,
            "prefixes": len(self.prefixes), "prefix_hit": mean(self.prefixes),
            "titles": len(self.titles), "title": mean(self.titles),
            "named": len(self.authors), "authors_f1": mean(self.authors),
            "dated": dated, "date_day": self.dates.count("day"),
            "date_given": dated - self.dates.count("none"), "date_wrong": self.dates.count("wrong"),
            "crashes": len(self.crashes),
            "ms_page": 1000 * self.seconds / self.pages if self.pages else None,
        }


def load(path: Path) -> list[dict[str, Any]]:
    """The set's references, or ``MissingSet`` naming the folder."""
    truth = path / "truth.jsonl"
    if not truth.is_file() or not (path / "pages").is_dir():
        raise MissingSet(f"no development set of real pages at {path} (it needs truth.jsonl "
                         "and pages/; give its folder: --real PATH)")
    with truth.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _runners(names: Iterable[str]) -> dict[str, Callable[[bytes, str], dict[str, Any]]]:
    runners: dict[str, Callable[[bytes, str], dict[str, Any]]] = {}
    for name in names:
        if name == "hrarchive":
            from hrarchive.extract import extract_article
            from hrarchive.extract.stored import stored_article

            def hrarchive(body: bytes, url: str) -> dict[str, Any]:
                stored = stored_article(extract_article(body, url))
                return {"title": stored["title"], "date": stored["published"],
                        "authors": stored["authors"], "text": stored["body_text"]}
            runners[name] = hrarchive
        elif name == "trafilatura":
            import trafilatura

            def traf(body: bytes, url: str) -> dict[str, Any]:
                document = trafilatura.bare_extraction(body, url=url, with_metadata=True)
                if document is None:
                    return {}
                author = document.author or ""
                return {"title": document.title, "date": document.date, "text": document.text,
                        "authors": [a.strip() for a in author.split(";") if a.strip()]}
            runners[name] = traf
        elif name in ("htmldate", "htmldate+x"):
            from htmldate import find_date

            def dated(extensive: bool) -> Callable[[bytes, str], dict[str, Any]]:
                def run(body: bytes, url: str) -> dict[str, Any]:
                    return {"date": find_date(body, url=url, original_date=True,
                                              extensive_search=extensive)}
                return run
            runners[name] = dated(name == "htmldate+x")
    return runners


def score(reference: dict[str, Any], output: dict[str, Any], totals: Totals,
          text_fields: bool) -> None:
    """Add one page's output (empty after a crash) to an extractor's totals."""
    if text_fields:
        want = words(reference.get("body_text"))
        if want and reference.get("body_text_scope") == "full":
            totals.bodies.append(overlap(want, words(output.get("text"))))
        elif want and reference.get("body_text_scope") == "prefix":
            totals.prefixes.append(prefix_found(want, words(output.get("text"))))
        if reference.get("title"):
            totals.titles.append(" ".join(str(output.get("title") or "").split()) ==
                                 " ".join(reference["title"].split()))
        names = [n for n in reference.get("authors") or [] if n and n.strip()]
        if names:
            totals.authors.append(word_f1(words(" ".join(names)),
                                          words(" ".join(output.get("authors") or []))))
    if reference.get("published"):
        given = output.get("date")
        totals.dates.append("day" if given and str(given)[:10] == reference["published"][:10]
                            else "wrong" if given else "none")


def measure(path: Path = DEFAULT, extractors: Iterable[str] = EXTRACTORS,
            every: int = 1) -> dict[str, dict[str, float | int | None]]:
    """Figures per extractor over the set (every ``every``-th page: a slice)."""
    references = load(path)[::every]
    runners = _runners(extractors)
    totals = {name: Totals() for name in runners}
    if references:
        first = references[0]
        body = (path / "pages" / f"{first['id']}.html").read_bytes()
        for run in runners.values():  # untimed: lazy imports are not billed to a page
            with contextlib.suppress(Exception):  # a crash is counted below, when timed
                run(body, first.get("url") or f"https://example.org/{first['id']}")
    for reference in references:
        body = (path / "pages" / f"{reference['id']}.html").read_bytes()
        url = reference.get("url") or f"https://example.org/{reference['id']}"
        for name, run in runners.items():
            start = time.perf_counter()
            try:
                output = run(body, url) or {}
            except Exception as exc:  # a crash counts as empty output, and is named
                output = {}
                totals[name].crashes.append(f"{reference['id']}: {type(exc).__name__}: {exc}")
            totals[name].seconds += time.perf_counter() - start
            totals[name].pages += 1
            score(reference, output, totals[name], name in TEXT_EXTRACTORS)
    return {name: {**t.figures(), "crash_list": t.crashes} for name, t in totals.items()}


def table(figures: dict[str, dict[str, Any]]) -> str:
    """The figures as a text table, one row per extractor."""
    columns = [("body F1", "body_f1"), ("P", "body_p"), ("R", "body_r"),
               ("prefix", "prefix_hit"), ("title", "title"), ("authors", "authors_f1"),
               ("day", "date_day"), ("given", "date_given"), ("wrong", "date_wrong"),
               ("crash", "crashes"), ("ms/page", "ms_page")]
    lines = ["extractor   " + "".join(f"{label:>9}" for label, _ in columns)]
    for name, row in figures.items():
        cells = []
        for _, key in columns:
            value = row.get(key)
            text = "-" if value is None else f"{value:.1f}" if key == "ms_page" else \
                f"{value:.3f}" if isinstance(value, float) else str(value)
            if key in {"body_f1", "body_p", "body_r", "prefix_hit", "title", "authors_f1"} \
                    and name not in TEXT_EXTRACTORS:
                text = ""
            cells.append(f"{text:>9}")
        lines.append(f"{name:<12}" + "".join(cells))
    return "\n".join(lines)
