"""``hrarchive serve`` on a large archive: the stories pages open with the indexed facets only
(site, year, language), without facet suggestions, and the tags facet is one link away.

The archive is small but numbered like a large one (its last story is number 100,000, which
is how ``serve`` judges the size), written through ``Archive`` and served by a real
``hrarchive serve`` on 127.0.0.1.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import lxml.html

from hrarchive.commands.serve import LARGE_ARCHIVE
from hrarchive.store import Archive
from tests.research_archive import free_port, get, running

STORIES = [("alpha", "2021-03-04", ["Belarus", "torture"]),
           ("alpha", "2022-05-06", ["Belarus"]),
           ("beta", "2022-07-08", ["Georgia", "torture"])]


def build(path: Path) -> None:
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
    archive.db.execute("update articles set id = ? where id = 3", [LARGE_ARCHIVE])
    archive.db.execute("update article_versions set article_id = ? where article_id = 3",
                       [LARGE_ARCHIVE])
    archive.rebuild_fts()
    archive.close()


def page(base: str, path: str) -> dict[str, Any]:
    status, body = get(base + path)
    assert status == 200, body[:500]
    return dict(json.loads(body))


def test_a_large_archive_opens_with_indexed_facets_and_offers_the_tags_facet(
        tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    build(db)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running([sys.executable, "-m", "hrarchive", "serve", "--db", str(db), "--port",
                  str(port)], base + "/-/versions.json"):
        for table in ("stories", "articles"):
            data = page(base, f"/archive/{table}.json")
            assert set(data["facet_results"]) == {"site", "year", "language"}
            assert {r["value"]: r["count"] for r in data["facet_results"]["year"]["results"]} \
                == {"2021": 1, "2022": 2}
            assert data["suggested_facets"] == []
            assert data["filtered_table_rows_count"] == len(STORIES)
            status, body = get(f"{base}/archive/{table}?site=alpha")
            links = lxml.html.fromstring(body).cssselect("p.hr-tags-facet a")
            assert status == 200 and len(links) == 1
            href = links[0].get("href")
            assert href == f"/archive/{table}?site=alpha&_facet_array=tags"
            tagged = page(base, href.replace(f"/{table}?", f"/{table}.json?"))
            assert {r["value"]: r["count"] for r in tagged["facet_results"]["tags"]["results"]} \
                == Counter(t for site, _, tags in STORIES if site == "alpha" for t in tags)
