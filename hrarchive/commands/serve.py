"""``hrarchive serve``: browse the archive in Datasette, with its labels, facets and queries."""

from __future__ import annotations

import json
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
import yaml

from hrarchive.commands import DB_OPTION, archive_path
from hrarchive.docs import datasette_metadata
from hrarchive.store.queries import QueryError, open_archive

# From this many stories on, Datasette's facet suggestions are off by default (they cost a
# query per column of a page over every row, each cut off at facet_suggest_time_limit_ms),
# and the stories pages open faceted by site, year and language (indexed) without the tags
# facet: a facet of JSON arrays reads every row, which cannot finish within Datasette's
# facet_time_limit_ms over so many; it stays a click away (and answers on filtered pages).
LARGE_ARCHIVE = 100_000
UNINDEXED_FACETS = ("articles", "stories")  # tables whose tags facet is left off when large


def default_settings(stories: int) -> list[str]:
    """``datasette serve`` settings for an archive of ``stories`` stories (the user's own
    ``-- --setting NAME VALUE`` come later and win)."""
    return ["--setting", "suggest_facets", "off"] if stories >= LARGE_ARCHIVE else []


def metadata_for(db: Path, metadata: str | None = None, large: bool = False) -> dict[str, Any]:
    """Datasette metadata keyed by the name Datasette gives ``db`` (its file name sans suffix);
    for a ``large`` archive, the built-in metadata opens the stories pages with indexed
    facets only."""
    if metadata is None:
        data = datasette_metadata(db.stem)
        if large:
            tables = data["databases"][db.stem]["tables"]
            for name in UNINDEXED_FACETS:
                tables[name]["facets"] = [f for f in tables[name]["facets"]
                                          if isinstance(f, str)]
        return data
    data = yaml.safe_load(Path(metadata).read_text("utf-8")) or {}
    databases = data.get("databases") or {}
    if len(databases) == 1 and db.stem not in databases:
        data["databases"] = {db.stem: next(iter(databases.values()))}
    return dict(data)


@click.command(context_settings={"ignore_unknown_options": True})
@DB_OPTION
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 makes the archive reachable by others.")
@click.option("--port", type=int, default=8001, show_default=True, help="Port to listen on.")
@click.option("--metadata", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Use this metadata file instead of the built-in one (metadata.yml).")
@click.argument("datasette_args", nargs=-1, type=click.UNPROCESSED)
def serve(db: str | None, host: str, port: int, metadata: str | None,
          datasette_args: tuple[str, ...]) -> None:
    """Browse and search the archive in Datasette, at http://127.0.0.1:8001/.

    The home page shows each site's figures, stories per month and the latest stories; a
    story's page (/-/story/ID) its versions with what changed, teasers, related links,
    attachments and captures. Tables and columns are labelled and described, stories can be
    searched and faceted by site, year, language and tag, and canned queries answer common
    questions. On an archive of 100,000 stories or more, facet suggestions are off
    (`-- --setting suggest_facets on` brings them back) and the stories pages open
    without the tags facet (the link "Facet by each tag" adds it). Arguments after `--`
    go to `datasette serve` as they are.

    \b
    Examples:
      hrarchive serve
      hrarchive serve --db /srv/hr/archive.db --port 8080
      hrarchive serve -- --setting sql_time_limit_ms 5000
    """
    from datasette.cli import cli as datasette_cli
    from datasette.plugins import pm

    import hrarchive.web

    path = archive_path(db)
    try:
        archive = open_archive(path)  # brings an older archive forward, so the views exist
    except QueryError as exc:
        raise click.ClickException(str(exc)) from exc
    stories = archive.execute("select coalesce(max(id), 0) from articles").fetchone()[0]
    archive.close()
    # Datasette's server re-raises SIGTERM once it has shut down: exit cleanly on it, so the
    # temporary metadata file is removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if not pm.is_registered(hrarchive.web):  # home page, story pages, folded column docs
        pm.register(hrarchive.web, name="hrarchive")
    with tempfile.TemporaryDirectory(prefix="hrarchive-serve-") as tmp:
        meta = Path(tmp) / "metadata.json"
        meta.write_text(json.dumps(metadata_for(path, metadata, stories >= LARGE_ARCHIVE),
                                   ensure_ascii=False), "utf-8")
        click.echo(f"hrarchive: serving {path} at http://{host}:{port}/", err=True)
        datasette_cli.main(["serve", str(path), "--metadata", str(meta), "--host", host,
                            "--port", str(port), *default_settings(stories), *datasette_args],
                           prog_name="datasette", standalone_mode=False)
