"""The archive's schema, as data: every table and column with its meaning.

Tables are created from these definitions by the migrations in ``migrations.py``, and the
schema documentation is generated from them, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: type
    doc: str


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]
    pk: str | tuple[str, ...]
    unique: tuple[tuple[str, ...], ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()


C = Column
_CONTENT = (
    C("title", str, "Headline"),
    C("subtitle", str, "Standfirst or subheading, where the site prints one"),
    C("authors", str, "Authors, a JSON array of names"),
    C("published", str, "Publication date, ISO 8601 (a date, or a datetime with its offset)"),
    C("published_raw", str, "Publication date exactly as printed or declared on the page"),
    C("modified", str, "Last modification date the page declares, ISO 8601"),
    C("modified_raw", str, "Modification date as declared on the page"),
    C("language", str, "Language code of the page (BCP 47, e.g. en, be, ru)"),
    C("body_text", str, "Story text: Unicode NFC, paragraphs separated by a blank line"),
)
_MORE_CONTENT = (
    C("tags", str, "Tags and countries the site files the story under, a JSON array"),
    C("image_url", str, "Lead image URL"),
    C("content_hash", str, "SHA-256 of the story's normalised content; equal hash, equal story"),
)

# --- incremental, resumable crawls (migration 0002_incremental_runs) ---------------------------
ARTICLE_SIGNAL_COLUMNS = (
    C("announced", str, "The sitemap lastmod or feed date that announced the version last "
      "fetched, UTC; a later one is a sign that the story changed"),
)
CRAWL_RUN_COLUMNS = (
    C("mode", str, "incremental, full (every listing walked, every story revalidated) or "
      "recovery (every listing walked after a run that did not finish)"),
    C("not_modified", int, "Stories revalidated and answered 304 Not Modified (only last_seen "
      "moves)"),
    C("stories_found", int, "Story links found on listings, feeds and sitemaps (known or not)"),
    C("pid", int, "Process id of the crawl, to tell a live run from one that was killed"),
    C("host", str, "Host name of the machine that ran the crawl"),
    C("process_started", float, "Start time of that process (Unix time), against pid reuse"),
)
# --- many crawlers, one writer (migration 0008_cluster, issue 11) -----------------------------
CLUSTER_CRAWL_COLUMNS = (
    C("run", str, "Name of the run the workers of `hrarchive crawl --redis` share (one row per "
      "site and run); empty for a crawl of one process"),
    C("workers", str, "Workers that crawled the site in this run, a JSON array of objects: "
      "name (host:pid), joined, status (running, done, interrupted or died), ended"),
)

TABLES: tuple[Table, ...] = (
    Table("sites", "One row per site profile crawled into this archive.", (
        C("id", str, "Site slug, as in `hrarchive crawl SITE`"),
        C("name", str, "Organisation's name"),
        C("base_url", str, "The site's home URL"),
        C("languages", str, "Languages the site publishes in, a JSON array"),
        C("profile_path", str, "Profile file the site was last crawled with"),
    ), pk="id"),
    Table("crawls", "One row per run of a spider: when, how it ended and what it found.", (
        C("id", int, "Run number"),
        C("site", str, "Site crawled (sites.id)"),
        C("started", str, "Start time, UTC, ISO 8601"),
        C("finished", str, "End time, UTC, ISO 8601; empty while running or after a kill"),
        C("status", str, "running, finished, failed or interrupted"),
        C("finish_reason", str, "Scrapy's close reason, and why a run failed"),
        C("requests", int, "Requests sent"),
        C("responses", int, "Responses received"),
        C("articles_new", int, "Stories archived for the first time"),
        C("articles_changed", int, "Stories whose content changed (a new version)"),
        C("articles_unchanged", int, "Stories fetched again with the same content"),
        C("teasers_new", int, "Teasers (or changed teasers) seen for the first time"),
        C("teasers_seen", int, "Teasers seen again unchanged"),
        C("dropped", int, "Items dropped by validation (see the log for why)"),
        C("errors", int, "Pages that failed: HTTP errors, network errors, unreadable pages"),
        C("stats", str, "Scrapy's crawl stats, a JSON object"),
        C("options", str, "Options of the run (base URL override, ...), a JSON object"),
        C("log_file", str, "Log file of the run, where one was written"),
        *CRAWL_RUN_COLUMNS,
        *CLUSTER_CRAWL_COLUMNS,
    ), pk="id", indexes=(("site", "started"), ("site", "run"))),
    Table("articles", "One row per story (its canonical URL), holding its latest version.", (
        C("id", int, "Story number"),
        C("site", str, "Site (sites.id)"),
        C("url", str, "Canonical URL of the story: the story's identity"),
        *_CONTENT, *_MORE_CONTENT,
        C("version", int, "Number of distinct versions seen; 1 for a story never changed"),
        C("first_seen", str, "When the story was first archived, UTC"),
        C("last_seen", str, "When the story was last fetched, UTC"),
        C("last_changed", str, "When its content last changed, UTC"),
        C("fetched_url", str, "URL the latest version was fetched from"),
        C("etag", str, "HTTP ETag of the latest fetch"),
        C("last_modified", str, "HTTP Last-Modified of the latest fetch"),
        C("crawl_id", int, "Run that last fetched the story (crawls.id)"),
        *ARTICLE_SIGNAL_COLUMNS,
    ), pk="id", unique=(("url",),), indexes=(("site", "published"), ("content_hash",))),
    Table("article_versions", "One row per distinct content of a story; never overwritten.", (
        C("article_id", int, "Story (articles.id)"),
        C("version", int, "1 for the first content seen, then 2, 3, ..."),
        C("crawl_id", int, "Run that found this version (crawls.id)"),
        C("seen", str, "When this version was fetched, UTC"),
        C("url", str, "URL this version was fetched from"),
        *_CONTENT,
        C("body_html", str, "Story body as cleaned HTML (no scripts, styles or forms)"),
        *_MORE_CONTENT,
    ), pk=("article_id", "version")),
    Table("article_aliases", "Other URLs under which a story was found: fetched URLs that "
          "redirect or declare a canonical, and copies with the same content.", (
        C("url", str, "The other URL"),
        C("article_id", int, "Story it leads to (articles.id)"),
        C("reason", str, "fetched (the page named another canonical URL) or same-content"),
        C("first_seen", str, "When it was first seen, UTC"),
    ), pk="url", indexes=(("article_id",),)),
    Table("teasers", "One row per distinct presentation of a story on a listing page.", (
        C("id", int, "Teaser number"),
        C("site", str, "Site (sites.id)"),
        C("url", str, "Story URL it links to; joins articles.url"),
        C("listing_url", str, "Listing page it was first seen on"),
        C("title", str, "Title as the listing shows it"),
        C("summary", str, "Summary as the listing shows it"),
        C("published", str, "Date as the listing shows it, ISO 8601"),
        C("published_raw", str, "Date exactly as printed on the listing"),
        C("image_url", str, "Teaser image URL"),
        C("position", int, "Position on the listing page, from 1"),
        C("content_hash", str, "SHA-256 of title, summary and date; a change makes a new row"),
        C("first_seen", str, "When first seen, UTC"),
        C("last_seen", str, "When last seen, UTC"),
        C("crawl_id", int, "Run that last saw it (crawls.id)"),
    ), pk="id", unique=(("site", "url", "content_hash"),), indexes=(("url",),)),
    Table("links", "One row per link from a story: related articles, body links, attachments.", (
        C("id", int, "Link number"),
        C("from_id", int, "Story the link is on (articles.id)"),
        C("to_url", str, "Where it points, normalised"),
        C("kind", str, "related, body or attachment"),
        C("title", str, "Link text"),
        C("first_seen", str, "When first seen, UTC"),
        C("last_seen", str, "When last seen, UTC"),
    ), pk="id", unique=(("from_id", "to_url", "kind"),), indexes=(("to_url",),)),
    # --- raw capture (migration "captures_and_attachments") ---------------------------------
    Table("captures", "One row per raw capture of a story version: the WARC record that holds "
          "the response it was read from.", (
        C("id", int, "Capture number"),
        C("article_id", int, "Story (articles.id)"),
        C("version", int, "Version of the story read from this response (article_versions)"),
        C("crawl_id", int, "Run that wrote or re-read the record (crawls.id)"),
        C("url", str, "URL fetched (WARC-Target-URI)"),
        C("warc", str, "WARC file, relative to the capture folder (captures/ beside the archive)"),
        C("offset", int, "Byte offset of the record in the WARC file"),
        C("length", int, "Length of the record in bytes, as stored (gzipped)"),
        C("record_id", str, "WARC-Record-ID of the response or revisit record"),
        C("record_type", str, "response, or revisit (same payload as an earlier capture)"),
        C("captured", str, "When the response was received (WARC-Date), UTC"),
        C("payload_digest", str, "WARC-Payload-Digest of the body as sent"),
        C("status", int, "HTTP status of the response"),
    ), pk="id", unique=(("record_id", "article_id", "version"),),
       indexes=(("article_id", "version"), ("warc",))),
    Table("attachments", "One row per document a story links to (PDF reports, statements), "
          "fetched once and kept by content hash.", (
        C("id", int, "Attachment number"),
        C("site", str, "Site (sites.id)"),
        C("url", str, "Link as found on the story, normalised; joins links.to_url"),
        C("fetched_url", str, "URL the bytes came from, after redirects"),
        C("article_id", int, "Story that links to it (articles.id), where archived"),
        C("story_url", str, "URL of that story"),
        C("title", str, "Link text"),
        C("content_type", str, "Content-Type the server gave"),
        C("size", int, "Size in bytes"),
        C("sha256", str, "SHA-256 of the bytes; equal hash, same file"),
        C("file", str, "File, relative to the attachments folder (attachments/ beside the "
                       "archive): sha256[:2]/sha256.ext"),
        C("first_seen", str, "When it was fetched, UTC"),
        C("crawl_id", int, "Run that fetched it (crawls.id)"),
        C("warc", str, "WARC file holding the response, relative to the capture folder"),
        C("offset", int, "Byte offset of the response record in that file"),
    ), pk="id", unique=(("url",),), indexes=(("sha256",), ("article_id",))),
    # --- takedowns (migration 0005_takedowns, issue #13) ------------------------------------
    Table("takedowns", "One row per time an archived story went missing from its site: its "
          "page answered 404 or 410, or redirected to a page that is not the story. The "
          "story and its versions are kept; a story that comes back gets `back` set.", (
        C("id", int, "Takedown number"),
        C("article_id", int, "Story that went missing (articles.id)"),
        C("site", str, "Site (sites.id)"),
        C("url", str, "Canonical URL of the story (articles.url)"),
        C("status", int, "HTTP status that said so: 404, 410, or the redirect's 301, 302, ..."),
        C("redirect_to", str, "Where the story's URL redirected to (a home page, a listing), "
                              "for a redirect"),
        C("first_gone", str, "When the story was first found gone, UTC"),
        C("last_gone", str, "When it was last found gone, UTC"),
        C("last_alive", str, "When it was last fetched alive before it went (articles.last_seen)"),
        C("back", str, "When it was found online again, UTC; empty while it is gone"),
        C("crawl_id", int, "Run that first found it gone (crawls.id)"),
        C("back_crawl_id", int, "Run that found it back (crawls.id)"),
    ), pk="id", indexes=(("article_id",), ("url",), ("site", "first_gone"))),
    Table("applied_ops", "Bookkeeping of `hrarchive writer`: operations from crawler workers "
          "already applied, so one handed out again after a writer was killed is not applied "
          "twice.", (
              C("id", str, "The operation's unique id"),
              C("outcome", str, "Its outcome as sent back to the worker, JSON"),
          ), pk="id"),
)

FTS_TABLE = "articles_fts"
FTS_COLUMNS = ("title", "subtitle", "body_text")


def table(name: str) -> Table:
    return next(t for t in TABLES if t.name == name)


# --- Derived columns (migration 0004_researcher_views, issue #4) ------------------------------
@dataclass(frozen=True)
class Generated:
    """A column SQLite computes from others (``GENERATED ALWAYS AS ... VIRTUAL``); never written.

    ``PRAGMA table_info`` and sqlite-utils' ``Table.columns`` do not list such columns and
    ``Table.transform()`` drops them: a migration that rebuilds one of these tables must call
    ``hrarchive.store.views.ensure_derived(db)`` afterwards.
    """

    table: str
    column: Column
    expression: str


GENERATED: tuple[Generated, ...] = (
    Generated("articles", C("year", str, "Year of publication, from `published` (for facets)"),
              "substr(published, 1, 4)"),
    Generated("teasers", C("year", str, "Year the listing dates the story, from `published`"),
              "substr(published, 1, 4)"),
)

# Newest-first browsing (Datasette's default sort) reads these instead of sorting every row.
SORT_INDEXES: tuple[tuple[str, str], ...] = (("articles", "published"), ("teasers", "published"))
# Datasette's default facets of the stories pages count these instead of reading every row
# (migration 0007_facet_indexes, issue #10; ``site`` has the (site, published) index).
FACET_INDEXES: tuple[tuple[str, str], ...] = (("articles", "year"), ("articles", "language"))


def columns_of(name: str) -> tuple[Column, ...]:
    """A table's columns, its generated columns included (they come last)."""
    return table(name).columns + tuple(g.column for g in GENERATED if g.table == name)
