"""``hrarchive export``: stream the archived stories as JSON lines or CSV, in constant memory."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO

import click

from hrarchive.commands import DB_OPTION, archive_path
from hrarchive.store.queries import QueryError, export_stories, open_archive

JSON_ARRAYS = ("authors", "tags")


def _jsonl(row: dict[str, Any]) -> str:
    for key in JSON_ARRAYS:
        if isinstance(row.get(key), str):
            with contextlib.suppress(ValueError):  # not JSON after all: exported as stored
                row[key] = json.loads(row[key])
    return json.dumps(row, ensure_ascii=False) + "\n"


@click.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl",
              show_default=True, help="JSON lines (lists as arrays) or CSV (lists as JSON).")
@click.option("--site", default=None, help="Only this site (its id, see `hrarchive sites`).")
@click.option("--since", default=None, help="Published on or after this date (2021, 2021-08 "
                                            "or 2021-08-31).")
@click.option("--until", default=None, help="Published on or before this date (inclusive).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              help="Write to this file instead of standard output.")
@click.option("--wacz", "wacz_path", type=click.Path(dir_okay=False), default=None,
              help="Write the raw captures as a WACZ file instead (as `hrarchive wacz`).")
@DB_OPTION
def export(fmt: str, site: str | None, since: str | None, until: str | None, output: str,
           wacz_path: str | None, db: str | None) -> None:
    """Export stories (rows of `articles`, latest versions) in story-number order.

    Rows are streamed: memory use stays flat however large the archive. The number of
    stories written goes to standard error. Columns are described in docs/schema.md.

    \b
    Examples:
      hrarchive export --format jsonl > stories.jsonl
      hrarchive export --format csv --site viasna --since 2020 -o viasna.csv
      hrarchive export --since 2023-01-01 | jq -r .title
      hrarchive export --wacz hrhouse.wacz --site hrhouse
    """
    if wacz_path:
        from hrarchive.commands.wacz import export_wacz

        click.echo(export_wacz(wacz_path, sites=(site,) if site else (), db=db))
        return
    try:
        archive = open_archive(archive_path(db))
        columns, rows = export_stories(archive, site=site, since=since, until=until)
    except QueryError as exc:
        raise click.ClickException(str(exc)) from exc
    out = sys.stdout if output == "-" else open(output, "w", encoding="utf-8", newline="")  # noqa: SIM115
    try:
        count = _write(out, fmt, columns, rows)
    except BrokenPipeError:  # e.g. `| head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    finally:
        if out is not sys.stdout:
            out.close()
    click.echo(f"hrarchive export: {count} stor{'y' if count == 1 else 'ies'}", err=True)


def _write(out: TextIO, fmt: str, columns: list[str], rows: Iterator[dict[str, Any]]) -> int:
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
    else:
        for row in rows:
            out.write(_jsonl(row))
            count += 1
    out.flush()
    return count
