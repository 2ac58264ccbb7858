"""Progress on the terminal: one status line per site, rewritten every second.

Only when stderr is a terminal (and ``HRARCHIVE_PROGRESS`` is on); under cron, systemd or
Scrapyd, or with stderr redirected, it writes nothing.  Log lines may print over the status
lines, which are redrawn below them a second later.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TextIO

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

CLEAR = "\x1b[2K"


def format_progress(site: str, stats: Mapping[str, Any], done: str | None = None) -> str:
    """``hrhouse: 12 pages, 3 new, 1 changed, 2 not modified, 0 errors`` from crawl stats."""
    def get(key: str) -> int:
        return int(stats.get(key, 0) or 0)

    line = (f"{site}: {get('downloader/response_count')} pages, "
            f"{get('hrarchive/store/article_new')} new, "
            f"{get('hrarchive/store/article_changed')} changed, "
            f"{get('hrarchive/store/article_not_modified')} not modified, "
            f"{get('hrarchive/errors')} errors")
    return f"{line} — {done}" if done else line


class Board:
    """The block of status lines of every site crawled by this process."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.lines: dict[str, str] = {}
        self.running = 0

    def update(self, site: str, line: str) -> None:
        self.lines[site] = line

    def draw(self, final: bool = False) -> None:
        lines = list(self.lines.values())
        if not lines:
            return
        out = "\n".join(CLEAR + line for line in lines)
        # leave the cursor at the block's start, so the next draw (or a log line) rewrites it
        out += "\n" if final else "\r" + (f"\x1b[{len(lines) - 1}A" if len(lines) > 1 else "")
        self.stream.write(out)
        self.stream.flush()


_boards: dict[int, Board] = {}


def board_for(stream: TextIO) -> Board:
    """One board per stream, shared by the crawlers of a process."""
    return _boards.setdefault(id(stream), Board(stream))


class Progress:
    def __init__(self, crawler: Crawler, stream: TextIO, interval: float = 1.0) -> None:
        self.crawler = crawler
        self.board = board_for(stream)
        self.interval = interval
        self._loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        if not crawler.settings.getbool("HRARCHIVE_PROGRESS", True) or not sys.stderr.isatty():
            raise NotConfigured("progress only on a terminal")
        extension = cls(crawler, sys.stderr)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def _update(self, done: str | None = None) -> None:
        assert self.crawler.stats is not None
        site = getattr(self.crawler.spider, "name", "?")
        self.board.update(site, format_progress(site, self.crawler.stats.get_stats(), done))

    def tick(self) -> None:
        self._update()
        self.board.draw()

    def spider_opened(self, spider: Spider) -> None:
        self.board.running += 1
        self._loop = task.LoopingCall(self.tick)
        self._loop.start(self.interval, now=True)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self._update(done=reason)
        self.board.running -= 1
        self.board.draw(final=self.board.running == 0)
