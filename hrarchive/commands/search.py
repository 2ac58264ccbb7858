"""``hrarchive search``: full-text search of the archived stories, best match first."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from hrarchive.commands import DB_OPTION, archive_path
from hrarchive.store.queries import QueryError, open_archive
from hrarchive.store.queries import search as search_archive

OPEN, CLOSE = "\x02", "\x03"  # snippet markers, replaced for display


@click.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--site", default=None, help="Only this site (its id, see `hrarchive sites`).")
@click.option("--since", default=None, help="Published on or after this date (2021, 2021-08 "
                                            "or 2021-08-31).")
@click.option("--until", default=None, help="Published on or before this date (inclusive: "
                                            "--until 2021 includes all of 2021).")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="Show at most this many stories.")
@click.option("--raw", is_flag=True, help="QUERY is FTS5 syntax: AND, OR, NOT, NEAR(), "
                                          "\"phrases\", prefix*.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per story.")
@click.option("--rank-limit", type=click.IntRange(min=1), default=None,
              help="Rank at most this many matches, the newest (default: the "
                   "HRARCHIVE_SEARCH_RANK_LIMIT setting, 10000).")
@DB_OPTION
def search(query: tuple[str, ...], site: str | None, since: str | None, until: str | None,
           limit: int, raw: bool, as_json: bool, rank_limit: int | None,
           db: str | None) -> None:
    """Search the stories' titles and text; every word of QUERY must appear.

    Prints the best matches first (bm25), each with its date, site, title, URL and a
    snippet with the matching words marked. Dates cover stories that state one. Where more
    stories match than --rank-limit, the newest (last archived) of them are ranked, and it
    says so: narrow the search with --site or --since to rank them all.

    \b
    Examples:
      hrarchive search Kalesnikava
      hrarchive search political prisoners --site hrhouse --since 2021 --until 2022-06
      hrarchive search --raw '"human rights house" NEAR(tbilisi) OR batumi*'
      hrarchive search torture --json > torture.jsonl
    """
    from hrarchive.commands import project_settings

    settings: Any = project_settings(db)
    try:
        archive = open_archive(archive_path(db))
        result = search_archive(archive, " ".join(query), site=site, since=since, until=until,
                                limit=limit, raw=raw, marks=(OPEN, CLOSE),
                                rank_limit=rank_limit or
                                settings.getint("HRARCHIVE_SEARCH_RANK_LIMIT"))
        hits = result.hits
    except QueryError as exc:
        raise click.ClickException(str(exc)) from exc
    color = not as_json and sys.stdout.isatty()
    start, end = ("\x1b[1m", "\x1b[0m") if color else ("[", "]")
    for n, hit in enumerate(hits, 1):
        snippet = (hit["snippet"] or "").replace("\n", " ")
        if as_json:
            hit["snippet"] = snippet.replace(OPEN, "").replace(CLOSE, "")
            click.echo(json.dumps(hit, ensure_ascii=False))
            continue
        click.echo(f"{n}. {hit['published'] or 'no date':<10}  {hit['site']}  {hit['title']}")
        click.echo(f"   {hit['url']}")
        click.echo(f"   {snippet.replace(OPEN, start).replace(CLOSE, end)}", color=color)
    found = f"{len(hits)} stor{'y' if len(hits) == 1 else 'ies'}"
    click.echo(f"hrarchive search: {found}" + (f" (--limit {limit})" if len(hits) == limit
                                               else "")
               + (f"; {result.note}" if result.note else ""), err=True)
