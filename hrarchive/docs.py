"""Generate ``metadata.yml`` (Datasette) and ``docs/schema.md`` from the store's own definitions.

The tables (``store/schema.py``), views (``store/views.py``) and canned queries
(``store/queries.py``) are the single source: run ``python -m hrarchive.docs`` after changing
them, and a test fails while the committed files differ from what this module generates.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hrarchive.store.queries import CANNED
from hrarchive.store.schema import (
    FACET_INDEXES,
    FTS_COLUMNS,
    FTS_TABLE,
    GENERATED,
    SORT_INDEXES,
    TABLES,
    Column,
    columns_of,
)
from hrarchive.store.views import VIEWS

DATASETTE_VERSION = "0.65.5"
ROOT = Path(__file__).resolve().parent.parent
PROJECT_URL = "https://github.com/hrarchive/hrarchive"

SQL_TYPES = {str: "TEXT", int: "INTEGER", float: "REAL", bytes: "BLOB"}


@dataclass(frozen=True)
class Doc:
    """One documented table or view, as it appears in the database."""

    name: str
    kind: str  # table, view, fts or internal
    label: str
    doc: str
    columns: tuple[Column, ...]
    notes: tuple[str, ...] = ()
    sql: str = ""


LABELS = {
    "sites": "Sites",
    "crawls": "Crawl runs",
    "articles": "Stories (latest version)",
    "article_versions": "Story versions",
    "article_aliases": "Other URLs of stories",
    "teasers": "Teasers (stories as listings show them)",
    "links": "Links from stories",
    "stories": "Stories with site, teaser and counts",
    "story_changes": "Story changes, before and after",
    FTS_TABLE: "Full-text index of stories",
    "_sqlite_migrations": "Schema migrations applied",
    "applied_ops": "Operations applied by the writer",
}

STORY_FACETS: list[Any] = ["site", "year", "language", {"array": "tags"}]
OPTIONS: dict[str, dict[str, Any]] = {
    "sites": {"sort": "id", "label_column": "name"},
    "crawls": {"sort_desc": "id", "facets": ["site", "status"]},
    "articles": {"sort_desc": "published", "facets": STORY_FACETS, "fts_table": FTS_TABLE,
                 "fts_pk": "id", "label_column": "title"},
    "article_versions": {"sort_desc": "seen", "facets": ["version"]},
    "article_aliases": {"sort_desc": "first_seen", "facets": ["reason"]},
    "teasers": {"sort_desc": "published", "facets": ["site", "year"], "label_column": "title"},
    "links": {"sort_desc": "id", "facets": ["kind"]},
    "stories": {"sort_desc": "published", "facets": STORY_FACETS, "fts_table": FTS_TABLE,
                "fts_pk": "id"},
    "story_changes": {"sort_desc": "seen_after", "facets": ["site"]},
    "_sqlite_migrations": {"hidden": True},
    "applied_ops": {"hidden": True},
}

C = Column
INTERNAL = (
    Doc(FTS_TABLE, "fts", LABELS[FTS_TABLE],
        "FTS5 full-text index over the stories' title, subtitle and text (rowid = articles.id), "
        "kept in step with `articles` by the archive's writer at every commit (a story "
        "written by other means needs `insert into articles_fts(articles_fts) values "
        "('rebuild')`). Search it from the `articles` or `stories` page, with "
        "`hrarchive search`, or in SQL: `select * from articles where id in (select rowid "
        "from articles_fts where articles_fts match 'torture')`.",
        (*(c for c in columns_of("articles") if c.name in FTS_COLUMNS),
         C(FTS_TABLE, str, "Hidden column naming the whole index, as in "
                           "`where articles_fts match 'words'`"),
         C("rank", float, "Hidden column: relevance of a match (bm25; lower is better), "
                          "as in `order by rank`")),
        ("FTS5, tokenizer `unicode61 remove_diacritics 2`; its storage tables "
         f"`{FTS_TABLE}_data`, `_idx`, `_docsize` and `_config` are FTS5's own",)),
    Doc("_sqlite_migrations", "internal", LABELS["_sqlite_migrations"],
        "Which schema migrations have been applied to this file (sqlite-utils); "
        "`PRAGMA user_version` holds their number.", (
            C("id", int, "Row number"),
            C("migration_set", str, "Always hrarchive"),
            C("name", str, "Migration name, e.g. 0001_initial"),
            C("applied_at", str, "When it was applied, UTC"),
        )),
)


def _table_notes(name: str) -> tuple[str, ...]:
    spec = next(t for t in TABLES if t.name == name)
    pk = spec.pk if isinstance(spec.pk, str) else ", ".join(spec.pk)
    notes = [f"primary key ({pk})"]
    notes += [f"unique ({', '.join(u)})" for u in spec.unique]
    notes += [f"index ({', '.join(i)})" for i in spec.indexes]
    notes += [f"index ({column})" for table, column in SORT_INDEXES + FACET_INDEXES
              if table == name]
    notes += [f"`{g.column.name}` is generated: `{g.expression}`"
              for g in GENERATED if g.table == name]
    return tuple(notes)


def documented() -> list[Doc]:
    """Every table and view in an archive file, with its columns, in the order to show them."""
    docs = [Doc(t.name, "table", LABELS.get(t.name, t.name), t.doc, columns_of(t.name),
                _table_notes(t.name)) for t in TABLES]
    docs += [Doc(v.name, "view", LABELS.get(v.name, v.name), v.doc, v.columns,
                 sql=v.sql.strip()) for v in VIEWS]
    return docs + list(INTERNAL)


def datasette_metadata(database: str = "archive") -> dict[str, Any]:
    """Datasette metadata for an archive file whose name (without ``.db``) is ``database``."""
    tables: dict[str, Any] = {}
    for doc in documented():
        tables[doc.name] = {"title": doc.label, "description": doc.doc,
                            **OPTIONS.get(doc.name, {}),
                            "columns": {c.name: c.doc for c in doc.columns}}
    queries = {q.name: {"title": q.title, "description": q.doc, "sql": q.sql.strip()}
               for q in CANNED}
    return {
        "title": "Human rights news archive",
        "description": "News of human rights organisations, archived by hrarchive: one row "
                       "per story with every version kept, the listings that showed it and "
                       "the links between stories. Start with the stories view; search it, "
                       "or try the canned queries below.",
        "source": "The organisations' own websites, crawled by hrarchive",
        "source_url": PROJECT_URL,
        "license": "Stories remain the work of the organisations that published them",
        "license_url": f"{PROJECT_URL}#the-archive-archivedb",
        "about": "hrarchive (Apache-2.0)",
        "about_url": PROJECT_URL,
        "databases": {database: {
            "description": "Start with the stories view (one row per story, searchable, "
                           "with facets) or a query below. Dates are ISO 8601; lists "
                           "(authors, tags) are JSON arrays. Every table and column is "
                           "described on its page and in docs/schema.md.",
            "tables": tables,
            "queries": queries,
        }},
    }


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def metadata_yaml(database: str = "archive") -> str:
    header = (f"# Datasette metadata for archive.db, written for Datasette {DATASETTE_VERSION}.\n"
              "# `hrarchive serve` uses it (for any file name); or run\n"
              "#   datasette archive.db -m metadata.yml\n"
              "# Generated by `python -m hrarchive.docs` from hrarchive/store/: do not edit.\n")
    body = yaml.dump(datasette_metadata(database), Dumper=_Dumper, sort_keys=False,
                     allow_unicode=True, width=100)
    return header + body


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown_lines() -> Iterator[str]:
    yield "# The archive's schema"
    yield ""
    yield ("Generated by `python -m hrarchive.docs` from `hrarchive/store/schema.py`, "
           "`views.py` and `queries.py`; a test checks it against a live archive. Do not edit.")
    yield ""
    yield ("Dates are ISO 8601 (UTC where the column says so); lists (authors, tags, languages) "
           "are JSON arrays. `hrarchive serve` shows the same descriptions in Datasette.")
    yield ""
    kinds = (("table", "Tables"), ("view", "Views"), ("fts", "Full-text search"),
             ("internal", "Bookkeeping"))
    docs = documented()
    for kind, heading in kinds:
        yield f"## {heading}"
        yield ""
        for doc in (d for d in docs if d.kind == kind):
            yield f"### `{doc.name}`: {doc.label}"
            yield ""
            yield doc.doc
            yield ""
            if doc.notes:
                yield "Keys and notes: " + "; ".join(doc.notes) + "."
                yield ""
            yield "| column | type | meaning |"
            yield "| --- | --- | --- |"
            for col in doc.columns:
                yield f"| `{col.name}` | {SQL_TYPES[col.type]} | {_cell(col.doc)} |"
            yield ""
            if doc.sql:
                yield "```sql"
                yield doc.sql
                yield "```"
                yield ""
    yield "## Canned queries"
    yield ""
    yield "In Datasette (`hrarchive serve`), on the database page; parameters become a form."
    yield ""
    for q in CANNED:
        yield f"### `{q.name}`: {q.title}"
        yield ""
        yield q.doc
        yield ""
        yield "```sql"
        yield q.sql.strip()
        yield "```"
        yield ""


def schema_markdown() -> str:
    return "\n".join(_markdown_lines()).rstrip("\n") + "\n"


OUTPUTS = {"metadata.yml": metadata_yaml, "docs/schema.md": schema_markdown}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true",
                        help="only report whether the files are up to date (exit 1 if not)")
    args = parser.parse_args(argv)
    stale = []
    for name, generate in OUTPUTS.items():
        path, text = ROOT / name, generate()
        if path.exists() and path.read_text("utf-8") == text:
            continue
        stale.append(name)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")
    verb = "out of date" if args.check else "written"
    for name in stale:
        print(f"{name}: {verb}", file=sys.stderr)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
