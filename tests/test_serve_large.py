"""``hrarchive serve`` on a large archive: no facet suggestions; from 10,000 stories the
stories pages open without the tags facet, from 100,000 without any facet, with the exact
count, and offer each facet they lack (site, year, language, tags) as a link that computes it.

The archive is small but numbered like a large one (its last story takes the number 10,000 or
100,000, which is how ``serve`` judges the size), written through ``Archive`` and served by
a real ``hrarchive serve`` on 127.0.0.1.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from hrarchive.commands.serve import LARGE_ARCHIVE, MID_ARCHIVE
from hrarchive.store import Archive
from tests.research_archive import free_port, get, running

STORIES = [("alpha", "2021-03-04", ["Belarus", "torture"]),
           ("alpha", "2022-05-06", ["Belarus"]),
           ("beta", "2022-07-08", ["Georgia", "torture"])]


def build(path: Path, last: int) -> None:
    archive = Archive(path)
    for site in ("alpha", "beta"):
        archive.save_site({"id": site, "name": site.title(), "base_url": f"https://{site}.example",
                           "languages": ["en"], "profile_path": None})
    for n, (site, published, tags) in enumerate(STORIES, 1):
        url = f"https://{site}.example/news/{n}/"
        archive.save_article({"site": site, "url": url, "canonical_url": url,
                              "title": f"Statement {n}", "published": published,
                              "language": "en", "body_text": f"Text of statement {n}.",
                              "body_html": f"<p>Text of statement {n}.</p>", "tags": tags})
    archive.commit()
    # the last story takes the number a large archive's would have
    archive.db.execute("update articles set id = ? where id = 3", [last])
    archive.db.execute("update article_versions set article_id = ? where article_id = 3", [last])
    archive.rebuild_fts()
    archive.close()


def page(base: str, path: str) -> dict[str, Any]:
    status, body = get(base + path)
    assert status == 200, body[:500]
    return dict(json.loads(body))


@pytest.mark.parametrize("last", [MID_ARCHIVE, LARGE_ARCHIVE])
def test_a_large_archive_opens_with_the_facets_it_affords_and_offers_the_others(
        tmp_path: Path, last: int) -> None:
    db = tmp_path / "archive.db"
    build(db, last)
    shown = {"site", "year", "language"} if last < LARGE_ARCHIVE else set()
    facets = {"site": "_facet=site", "year": "_facet=year", "language": "_facet=language",
              "each tag": "_facet_array=tags"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running([sys.executable, "-m", "hrarchive", "serve", "--db", str(db), "--port",
                  str(port)], base + "/-/versions.json"):
        for table in ("stories", "articles"):
            data = page(base, f"/archive/{table}.json")
            assert set(data["facet_results"]) == shown and data["suggested_facets"] == []
            assert data["filtered_table_rows_count"] == len(STORIES)
            status, body = get(f"{base}/archive/{table}?site=alpha")
            assert status == 200
            links = {a.text_content(): a.get("href") for a in
                     lxml.html.fromstring(body).cssselect("p.hr-facets a")}
            query = f"/archive/{table}?site=alpha&"
            assert links == {label: query + arg for label, arg in facets.items()
                             if label not in shown}
            alpha = [s for s in STORIES if s[0] == "alpha"]
            json_of = {k: v.replace(f"/{table}?", f"/{table}.json?") for k, v in links.items()}
            tagged = page(base, json_of["each tag"])["facet_results"]["tags"]["results"]
            assert {r["value"]: r["count"] for r in tagged} == \
                Counter(t for _, _, tags in alpha for t in tags)
            if "year" in links:
                years = page(base, json_of["year"])["facet_results"]["year"]["results"]
                assert {r["value"]: r["count"] for r in years} == \
                    Counter(p[:4] for _, p, _ in alpha)
            status, body = get(base + links["each tag"])  # a facet shown is no longer offered
            offered = [a.text_content() for a in
                       lxml.html.fromstring(body).cssselect("p.hr-facets a")]
            assert offered == [label for label in links if label != "each tag"]
