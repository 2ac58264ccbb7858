"""Views that save a researcher a join, and the derived ``year`` columns, as data.

Each view has a doc string per column, like the tables in ``schema.py``; the schema docs and
Datasette's ``metadata.yml`` are generated from both. Views and generated columns are created
by migration ``0004_researcher_views``, with indexes for newest-first browsing. A later
migration that rebuilds a table (sqlite-utils' ``transform()``) drops its generated columns
and breaks the views over it: it must call ``ensure_derived(db)`` after the rebuild, and a
migration that changes a view's SQL here must call it too, so that archive files created
before and after the change agree.

Every column of ``stories`` other than the story's own is a scalar subquery (the site's name
too, not a join): a count or a facet over the view then reads only ``articles`` (its smallest
index, for a count), which is what keeps Datasette's stories page fast on a large archive.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from hrarchive.store.schema import FACET_INDEXES, GENERATED, SORT_INDEXES, Column

C = Column


@dataclass(frozen=True)
class View:
    name: str
    doc: str
    columns: tuple[Column, ...]
    sql: str


VIEWS: tuple[View, ...] = (
    View("stories", "One row per story with what a researcher would otherwise join: the site's "
         "name, the year, when and how a listing first showed it, and how many versions and "
         "related links it has.", (
             C("id", int, "Story number (articles.id)"),
             C("site", str, "Site (sites.id)"),
             C("site_name", str, "Organisation's name"),
             C("published", str, "Publication date, ISO 8601"),
             C("year", str, "Year of publication"),
             C("title", str, "Headline (latest version)"),
             C("url", str, "Canonical URL of the story"),
             C("language", str, "Language code of the page"),
             C("authors", str, "Authors, a JSON array"),
             C("tags", str, "Tags and countries, a JSON array"),
             C("teaser_seen", str, "When a listing page first showed the story, UTC; "
                                   "empty if no listing did"),
             C("teaser_summary", str, "Summary the first listing printed for it"),
             C("versions", int, "Distinct versions archived (1 if it never changed)"),
             C("related_links", int, "Links under its \"Related articles\" block"),
             C("first_seen", str, "When the story was first archived, UTC"),
             C("last_changed", str, "When its content last changed, UTC"),
             C("gone_since", str, "When the site was first found no longer serving the story "
                                  "(see takedowns), UTC; empty while it is online"),
         ), """
select
  a.id,
  a.site,
  (select s.name from sites s where s.id = a.site) as site_name,
  a.published,
  a.year,
  a.title,
  a.url,
  a.language,
  a.authors,
  a.tags,
  (select t.first_seen from teasers t
    where t.url = a.url or t.url in (select x.url from article_aliases x where x.article_id = a.id)
    order by t.first_seen, t.id limit 1) as teaser_seen,
  (select t.summary from teasers t
    where t.url = a.url or t.url in (select x.url from article_aliases x where x.article_id = a.id)
    order by t.first_seen, t.id limit 1) as teaser_summary,
  (select count(*) from article_versions v where v.article_id = a.id) as versions,
  (select count(*) from links l where l.from_id = a.id and l.kind = 'related') as related_links,
  a.first_seen,
  a.last_changed,
  (select t.first_gone from takedowns t where t.article_id = a.id and t.back is null
    order by t.id desc limit 1) as gone_since
from articles a
"""),
    View("story_changes", "One row per change of a story after it was first archived: the "
         "version before and the version after, side by side.", (
             C("article_id", int, "Story (articles.id)"),
             C("site", str, "Site (sites.id)"),
             C("url", str, "Canonical URL of the story"),
             C("version", int, "Version after the change (2 for the first change)"),
             C("seen_before", str, "When the version before was fetched, UTC"),
             C("seen_after", str, "When the changed version was fetched, UTC"),
             C("title_before", str, "Headline before"),
             C("title_after", str, "Headline after"),
             C("published_before", str, "Publication date before"),
             C("published_after", str, "Publication date after"),
             C("modified_after", str, "Modification date the changed page declares"),
             C("body_before", str, "Story text before"),
             C("body_after", str, "Story text after"),
         ), """
select
  a.id as article_id,
  a.site,
  a.url,
  new.version,
  old.seen as seen_before,
  new.seen as seen_after,
  old.title as title_before,
  new.title as title_after,
  old.published as published_before,
  new.published as published_after,
  new.modified as modified_after,
  old.body_text as body_before,
  new.body_text as body_after
from article_versions new
join article_versions old on old.article_id = new.article_id and old.version = new.version - 1
join articles a on a.id = new.article_id
"""),
    View("takedowns_by_month", "Stories that went missing from their site, per site and month "
         "they were first found gone: how many, how many are still gone and how many came "
         "back.", (
             C("site", str, "Site (sites.id)"),
             C("site_name", str, "Organisation's name"),
             C("month", str, "Month the stories were first found gone, YYYY-MM"),
             C("takedowns", int, "Stories found gone that month"),
             C("still_gone", int, "Of those, stories still gone"),
             C("came_back", int, "Of those, stories found online again since"),
         ), """
select
  t.site,
  s.name as site_name,
  substr(t.first_gone, 1, 7) as month,
  count(*) as takedowns,
  sum(t.back is null) as still_gone,
  sum(t.back is not null) as came_back
from takedowns t
left join sites s on s.id = t.site
group by t.site, substr(t.first_gone, 1, 7)
"""),
)


def view(name: str) -> View:
    return next(v for v in VIEWS if v.name == name)


def drop_views(db: Database) -> None:
    for spec in VIEWS:
        db.execute(f"drop view if exists [{spec.name}]")


def create_views(db: Database) -> None:
    """(Re)create every view from its definition here."""
    drop_views(db)
    for spec in VIEWS:
        db.execute(f"create view [{spec.name}] as {spec.sql.strip()}")


def ensure_derived(db: Database) -> None:
    """Add any missing generated column and sort index, then recreate the views over them."""
    drop_views(db)
    for gen in GENERATED:
        present = {row[1] for row in db.execute(f"pragma table_xinfo([{gen.table}])")}
        if gen.column.name not in present:
            db.execute(f"alter table [{gen.table}] add column [{gen.column.name}] text "
                       f"generated always as ({gen.expression}) virtual")
    for table, column in SORT_INDEXES + FACET_INDEXES:
        db.execute(f"create index if not exists [idx_{table}_{column}] on [{table}] ([{column}])")
    create_views(db)
