"""Datasette over a crawled archive with metadata.yml: search, facets, canned queries, labels.

A real Datasette server runs on 127.0.0.1 over an archive built by crawling the hrhouse
fixture site; the tests use its JSON API, and headless Chromium for the rendered pages.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import lxml.html
import pytest

from tests.research_archive import (
    CHANGED,
    NEW_TEXT,
    OLD_TEXT,
    SITE,
    Built,
    build_archive,
    datasette,
    dump_dom,
    get_json,
)

BODY_WORD = "shirt"  # in the Kalesnikava letter's text only ("he took off the T-shirt")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build_archive(tmp_path_factory.mktemp("archive"))


@pytest.fixture(scope="module")
def server(built: Built) -> Iterator[str]:
    with datasette(built.db_path) as base:
        yield base


def rows(base: str, path: str, **params: str) -> list[dict[str, Any]]:
    return list(get_json(base, path + ".json", _shape="objects", **params)["rows"])


def facet(data: dict[str, Any], name: str) -> dict[Any, int]:
    return {r["value"]: r["count"] for r in data["facet_results"][name]["results"]}


def test_search_finds_a_story_by_a_word_of_its_body(server: str, built: Built) -> None:
    story = built.story(CHANGED)
    assert story.expected is not None
    body = " ".join(story.expected["body_contains"])
    assert BODY_WORD in body and BODY_WORD not in story.expected["title"]
    for table in ("articles", "stories"):
        found = rows(server, f"/archive/{table}", _search=BODY_WORD)
        assert [r["title"] for r in found] == [story.expected["title"]]
    assert rows(server, "/archive/articles", _search="zzzunheardofword") == []


def test_stories_are_newest_first_with_facets_by_site_year_language_and_tag(
        server: str, built: Built) -> None:
    expected = [c.expected or {} for c in built.stories]
    data = get_json(server, "/archive/articles.json", _shape="objects")
    published = [r["published"] for r in data["rows"]]
    dated = [p for p in published if p]
    assert dated == sorted(dated, reverse=True) and published[-1] is None  # undated last
    assert facet(data, "site") == {SITE: len(expected)}
    assert facet(data, "year") == Counter(e["published"][:4] for e in expected
                                          if e["published"])  # facets leave out empty values
    assert facet(data, "tags") == Counter(t for e in expected for t in e["tags"])
    assert sum(facet(data, "language").values()) == len(expected)
    view = get_json(server, "/archive/stories.json", _shape="objects")
    assert facet(view, "year") == facet(data, "year")
    assert facet(view, "tags") == facet(data, "tags")


def test_teasers_are_faceted_by_site_and_year(server: str, built: Built) -> None:
    data = get_json(server, "/archive/teasers.json", _shape="objects")
    listed = built.listed()
    years = {t["published"][:4] for t in listed if t["published"]}
    assert set(facet(data, "year")) == years
    assert facet(data, "site") == {SITE: data["filtered_table_rows_count"]}
    assert {built.local(t["url"]) for t in listed} == {r["url"] for r in data["rows"]}


def test_stories_view_joins_site_teaser_and_counts(server: str, built: Built) -> None:
    story = built.story(CHANGED)
    assert story.expected is not None
    row = next(r for r in rows(server, "/archive/stories") if r["url"] == built.local(story.url))
    assert row["site_name"] == "Human Rights House Foundation"
    assert row["year"] == story.expected["published"][:4]
    assert row["versions"] == 2
    assert row["related_links"] == len(story.expected["related"])
    assert row["teaser_seen"] and "Kalesnikava" in row["teaser_summary"]


def test_canned_query_stories_mentioning_a_term_in_a_date_range(
        server: str, built: Built) -> None:
    story = built.story(CHANGED)
    assert story.expected is not None
    day = story.expected["published"]
    query = "/archive/stories_mentioning"
    hits = rows(server, query, term=BODY_WORD, site=SITE, since=day, until=day)
    assert [h["title"] for h in hits] == [story.expected["title"]]
    assert BODY_WORD in hits[0]["snippet"]
    assert rows(server, query, term=BODY_WORD, site=SITE, since=str(int(day[:4]) + 1)) == []
    assert rows(server, query, term=BODY_WORD, site="viasna") == []
    assert rows(server, query, term="") == []  # an empty form shows nothing, not an error
    belarus = rows(server, query, term="Belarus", until=day[:4])
    assert {h["published"][:4] for h in belarus if h["published"]} == {day[:4]}


def test_canned_query_teasers_never_archived(server: str, built: Built) -> None:
    archived = {c.url for c in built.stories}
    expected = {built.local(t["url"]) for t in built.listed() if t["url"] not in archived}
    assert expected  # the 404 story
    found = rows(server, "/archive/teasers_never_archived")
    assert {r["url"] for r in found} == expected


def test_canned_query_changed_stories_side_by_side(server: str, built: Built) -> None:
    story = built.story(CHANGED)
    found = rows(server, "/archive/changed_stories", site=SITE)
    assert [(r["url"], r["version"]) for r in found] == [(built.local(story.url), 2)]
    change = found[0]
    assert OLD_TEXT + "," in change["body_before"] and NEW_TEXT not in change["body_before"]
    assert NEW_TEXT in change["body_after"]
    assert change["title_before"] == change["title_after"]
    assert change["seen_before"] < change["seen_after"]


def test_canned_query_related_graph_of_one_story(server: str, built: Built) -> None:
    story = built.story(CHANGED)
    assert story.expected is not None
    story_id = rows(server, "/archive/articles", url=built.local(story.url))[0]["id"]
    for key in (str(story_id), built.local(story.url)):
        graph = rows(server, "/archive/related_graph", story=key)
        out = {r["linked_url"] for r in graph if r["direction"] == "out"}
        assert out == {built.local(r["url"]) for r in story.expected["related"]}
        assert all(r["linked_id"] for r in graph)  # every related story is archived here
        into = {r["linked_url"] for r in graph if r["direction"] == "in"}
        assert into == {built.local(c.url) for c in built.stories
                        if story.url in {r["url"] for r in (c.expected or {}).get("related", [])}}


def test_every_table_view_and_column_has_a_label_and_description(server: str) -> None:
    database = get_json(server, "/archive.json")
    metadata = get_json(server, "/-/metadata.json")["databases"]["archive"]["tables"]
    shadow = {f"articles_fts_{s}" for s in ("data", "idx", "docsize", "config")}
    tables = {t["name"]: t["columns"] for t in database["tables"] if t["name"] not in shadow}
    views = {v["name"] for v in database["views"]}
    assert {"stories", "story_changes"} <= views
    for view in views:
        tables[view] = get_json(server, f"/archive/{view}.json", _size="0")["columns"]
    for name, columns in tables.items():
        meta = metadata.get(name, {})
        assert meta.get("title") and meta.get("description"), name
        described = {c for c, d in meta.get("columns", {}).items() if d}
        assert set(columns) <= described, (name, set(columns) - described)
    assert get_json(server, "/archive/articles.json", _size="0")["columns"][-1] == "year"


def title_cells(page: str) -> list[str]:
    """The rendered table's title column, cell by cell."""
    return [td.text_content().strip()
            for td in lxml.html.fromstring(page).cssselect("td.col-title")]


def test_browser_shows_the_stories_table_and_search_results(server: str, built: Built) -> None:
    titles = {c.expected["title"] for c in built.stories if c.expected}
    page = dump_dom(server + "/archive/articles")
    assert "<h1>Stories (latest version)</h1>" in page
    assert set(title_cells(page)) == titles
    story = built.story(CHANGED)
    assert story.expected is not None
    for path in (f"/archive/articles?_search={BODY_WORD}",
                 f"/archive/stories?_search={BODY_WORD}",
                 f"/archive/stories_mentioning?term={BODY_WORD}"):
        page = dump_dom(server + path)
        assert title_cells(page) == [story.expected["title"]], path
