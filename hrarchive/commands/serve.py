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

# Datasette computes a page's facets and facet suggestions over every row before it sends
# the first: on a large archive that kept the stories page waiting for seconds.  So, by the
# number of stories (the last story's number):
# - from MID_ARCHIVE on, facet suggestions (a query per column) are off, and the tags facet
#   (Datasette's array facet reads every column of the view per row: it timed out on 10,000)
#   is offered as a link instead of opening with the page;
# - from LARGE_ARCHIVE on, the site, year and language facets too (they read an index, but
#   a million entries each), and a facet asked for gets a second to finish.
# The count stays (it reads the smallest index).  The page offers every facet it lacks.
MID_ARCHIVE = 10_000
LARGE_ARCHIVE = 100_000
STORY_TABLES = ("articles", "stories")


def default_settings(stories: int) -> list[str]:
    """``datasette serve`` settings for an archive of ``stories`` stories (the user's own
    ``-- --setting NAME VALUE`` come later and win)."""
    settings = {}
    if stories >= MID_ARCHIVE:
        settings["suggest_facets"] = "off"
    if stories >= LARGE_ARCHIVE:
        settings["facet_time_limit_ms"] = "1000"
    return [arg for name, value in settings.items() for arg in ("--setting", name, value)]


def metadata_for(db: Path, metadata: str | None = None, stories: int = 0) -> dict[str, Any]:
    """Datasette metadata keyed by the name Datasette gives ``db`` (its file name sans suffix);
    the built-in metadata opens the stories pages of an archive of ``stories`` stories
    with the facets it can afford (see ``MID_ARCHIVE``)."""
    if metadata is None:
        data = datasette_metadata(db.stem)
        tables = data["databases"][db.stem]["tables"]
        for name in STORY_TABLES:
            if stories >= LARGE_ARCHIVE:
                tables[name]["facets"] = []
            elif stories >= MID_ARCHIVE:
                tables[name]["facets"] = [f for f in tables[name]["facets"] if isinstance(f, str)]
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
    questions. On an archive of 10,000 stories or more, facet suggestions are off
    (`-- --setting suggest_facets on` brings them back) and the stories pages open without
    the tags facet; from 100,000 without any facet: each is a link away. Arguments after
    `--` go to `datasette serve` as they are.

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
        meta.write_text(json.dumps(metadata_for(path, metadata, stories),
                                   ensure_ascii=False), "utf-8")
        click.echo(f"hrarchive: serving {path} at http://{host}:{port}/", err=True)
        datasette_cli.main(["serve", str(path), "--metadata", str(meta), "--host", host,
                            "--port", str(port), *default_settings(stories), *datasette_args],
                           prog_name="datasette", standalone_mode=False)
