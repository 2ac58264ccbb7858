"""``hrarchive stats``: what the archive holds per site and year, and how each site's runs went."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from hrarchive.commands import DB_OPTION, archive_path
from hrarchive.store.queries import QueryError, open_archive, site_stats, stories_per_year
from hrarchive.store.state import reap_crawls

FAILED = ("failed", "interrupted")


def _when(run: dict[str, Any] | None) -> str:
    if not run:
        return "never"
    return str(run.get("finished") or run.get("started") or "?")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@DB_OPTION
def stats(as_json: bool, db: str | None) -> None:
    """Show, per site: stories, versions, teasers and related links archived; stories gone
    from the site (takedowns) and gone ones that came back; stories per year of publication;
    runs, failed runs, the last run and the last successful run; and a crawler worker of
    the last run that died (hrarchive crawl --redis).

    Exits with status 1 if any site's last run failed or was interrupted, so a cron job or
    monitoring check can alert on it.

    \b
    Examples:
      hrarchive stats
      hrarchive stats --db /srv/hr/archive.db --json
    """
    try:
        archive = open_archive(archive_path(db))
    except QueryError as exc:
        raise click.ClickException(str(exc)) from exc
    reap_crawls(archive)  # a run whose process was killed reads `interrupted`, not `running`
    sites = site_stats(archive)
    years = stories_per_year(archive)
    failing = [s for s in sites if (s["last_run"] or {}).get("status") in FAILED]
    if as_json:
        per_year: dict[str, dict[str, int]] = {}
        for row in years:
            per_year.setdefault(row["site"], {})[row["year"] or "unknown"] = row["stories"]
        click.echo(json.dumps({"sites": [{**s, "per_year": per_year.get(s["site"], {})}
                                         for s in sites],
                               "failing": [s["site"] for s in failing]},
                              indent=2, ensure_ascii=False))
    else:
        _print(sites, years)
    for site in sites:
        run = site["last_run"] or {}
        if run.get("died_workers"):
            click.echo(f"hrarchive stats: {site['site']}: run {run['id']} ({run['run']}): "
                       f"worker {', '.join(run['died_workers'])} died", err=True)
    for site in failing:
        run = site["last_run"]
        click.echo(f"hrarchive stats: {site['site']}: last run {run['id']} "
                   f"({run['started']}) {run['status']}: {run['finish_reason'] or '?'}",
                   err=True)
    if failing:
        sys.exit(1)


def _print(sites: list[dict[str, Any]], years: list[dict[str, Any]]) -> None:
    if not sites:
        click.echo("The archive is empty: crawl a site first (hrarchive crawl SITE).")
        return
    head = ("site", "stories", "versions", "teasers", "related", "gone", "back", "runs",
            "failed", "last run", "last success")
    rows = [(s["site"], s["stories"], s["versions"], s["teasers"], s["related_links"],
             s["gone"], s["came_back"], s["runs"], s["failed_runs"],
             f"{(s['last_run'] or {}).get('status', '-')} {_when(s['last_run'])}",
             _when(s["last_success"])) for s in sites]
    widths = [max(len(str(r[i])) for r in (head, *rows)) for i in range(len(head))]
    for row in (head, *rows):
        cells = [str(v).ljust(w) if i in (0, 9, 10) else str(v).rjust(w)
                 for i, (v, w) in enumerate(zip(row, widths, strict=True))]
        click.echo("  ".join(cells).rstrip())
    click.echo()
    click.echo("Stories per year of publication:")
    width = max(len(s["site"]) for s in sites)
    for site in sites:
        counts = [f"{r['year'] or 'no date'}: {r['stories']}" for r in years
                  if r["site"] == site["site"]]
        click.echo(f"{site['site']:<{width}}  {', '.join(counts) or '-'}")
