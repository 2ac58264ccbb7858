"""``hrarchive reparse``: rebuild or update the archive from the WARC captures, offline."""

from __future__ import annotations

import sys
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred


@click.command()
@click.option("--site", "sites", multiple=True,
              help="Re-read this site's captures only (repeatable; default: every site with "
                   "captures).")
@click.option("--captures", "captures", type=click.Path(file_okay=False), default=None,
              help="Capture folder (default: HRARCHIVE_CAPTURE_DIR, or captures/ beside the "
                   "archive).")
@click.option("--db", type=click.Path(dir_okay=False), default=None,
              help="Archive file (default: archive.db in the current folder).")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Set a Scrapy or HRARCHIVE_* setting for this run.")
def reparse(sites: tuple[str, ...], captures: str | None, db: str | None,
            overrides: tuple[str, ...]) -> None:
    """Re-read every captured response through the spiders' extraction, without network.

    The stories, teasers and links found go through the same pipelines as a crawl: a story
    whose extraction now gives other content gets a new version, the rest only a new
    last_seen.  An archive file that does not exist is rebuilt from scratch.  Each site's
    run is one row in `crawls`, with the option `reparse`.  Exits with status 1 if a site's
    run failed.

    \b
    Examples:
      hrarchive reparse
      hrarchive reparse --site hrhouse --db rebuilt.db
      hrarchive reparse --captures /srv/hr/captures --db /srv/hr/archive.db
    """
    from scrapy.crawler import CrawlerProcess
    from twisted.internet import defer

    from hrarchive.capture.middleware import capture_root
    from hrarchive.capture.reparse import ReparseMixin
    from hrarchive.capture.writer import warc_files
    from hrarchive.commands import known_profiles, project_settings
    from hrarchive.spiders.site import spider_for

    settings = project_settings(db, overrides)
    settings.set("HRARCHIVE_CAPTURE", False, priority="cmdline")  # type: ignore[attr-defined]
    settings.set("HRARCHIVE_ATTACHMENTS", False, priority="cmdline")  # type: ignore[attr-defined]
    root = Path(captures) if captures else capture_root(settings)
    known = known_profiles(settings, sites, "--site")
    chosen = list(sites) or sorted(s for s in known if (root / s).is_dir())
    chosen = [s for s in chosen if warc_files(root / s)]
    if not chosen:
        raise click.ClickException(f"no WARC files under {root}"
                                   + (f" for {', '.join(sites)}" if sites else ""))
    process = CrawlerProcess(settings)  # type: ignore[arg-type]
    crawlers = []
    for site in chosen:
        base = spider_for(known[site])
        spider = type(base.__name__, (ReparseMixin, base),
                      {"captures_root": root, "__module__": base.__module__})
        crawlers.append(process.create_crawler(spider))

    @defer.inlineCallbacks
    def one_site_at_a_time() -> Generator[Deferred[Any], Any, None]:
        # the store's clock follows the records of one site at a time
        for crawler in crawlers:
            yield process.crawl(crawler)

    one_site_at_a_time()
    process.start()
    failed = [c.spider.name if c.spider else "?" for c in crawlers
              if c.stats is None or c.stats.get_value("hrarchive/crawl_status") != "finished"]
    for crawler in crawlers:
        stats = crawler.stats.get_stats() if crawler.stats else {}
        click.echo(f"{crawler.spider.name if crawler.spider else '?'}: "
                   f"{stats.get('hrarchive/reparse/responses', 0)} responses re-read from "
                   f"{root}", err=True)
    if failed:
        click.echo(f"hrarchive: reparse failed for: {', '.join(failed)}", err=True)
        sys.exit(1)
