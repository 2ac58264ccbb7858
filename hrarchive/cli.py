"""The ``hrarchive`` command line: the click group, assembled from ``hrarchive/commands/``.

Each command lives in its own module under ``hrarchive/commands/`` and imports nothing from
here; a new command is registered by adding it to ``COMMANDS`` below.
"""

from __future__ import annotations

import click

from hrarchive.commands.add_site import add_site
from hrarchive.commands.crawl import crawl
from hrarchive.commands.export import export
from hrarchive.commands.extract import extract
from hrarchive.commands.reparse import reparse
from hrarchive.commands.search import search
from hrarchive.commands.serve import serve
from hrarchive.commands.sites import sites
from hrarchive.commands.stats import stats
from hrarchive.commands.wacz import wacz
from hrarchive.commands.writer import writer

COMMANDS: list[click.Command] = [crawl, sites, extract, search, export, stats, serve, reparse, wacz,
                                 add_site, writer]


@click.group()
@click.version_option(package_name="hrarchive")
def cli() -> None:
    """Archive the news of human rights organisations into one SQLite file."""


for command in COMMANDS:
    cli.add_command(command)
