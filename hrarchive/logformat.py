"""Log lines about dropped and failed items: the URL, the reason and the count, never the
whole item (Scrapy's default prints every field, a story's body included)."""

from __future__ import annotations

from typing import Any

from itemadapter import ItemAdapter
from scrapy import Spider
from scrapy.http import Response
from scrapy.logformatter import LogFormatter, LogFormatterResult
from twisted.python.failure import Failure


def _url(item: Any) -> str:
    try:
        return str(ItemAdapter(item).get("url") or "?")
    except TypeError:  # not an item
        return "?"


class ShortLogFormatter(LogFormatter):
    """Scrapy's log formatter with one short line per dropped or failed item."""

    def __init__(self) -> None:
        self.dropped_count = 0
        self.failed_count = 0

    def dropped(self, item: Any, exception: BaseException, response: Response | Failure | None,
                spider: Spider) -> LogFormatterResult:
        self.dropped_count += 1
        result = super().dropped(item, exception, response, spider)
        url, reason = _url(item), str(exception)
        if url in reason:  # "article without title: URL"
            result["msg"] = "Dropped %(reason)s (dropped so far: %(count)d)"
        else:
            result["msg"] = "Dropped %(kind)s %(url)s: %(reason)s (dropped so far: %(count)d)"
        result["args"] = {"kind": type(item).__name__.lower(), "url": url, "reason": reason,
                          "count": self.dropped_count}
        return result

    def item_error(self, item: Any, exception: BaseException, response: Response | Failure | None,
                   spider: Spider) -> LogFormatterResult:
        self.failed_count += 1
        result = super().item_error(item, exception, response, spider)
        result["msg"] = ("Error processing %(kind)s %(url)s: %(reason)s "
                         "(item errors so far: %(count)d)")
        result["args"] = {"kind": type(item).__name__.lower(), "url": _url(item),
                          "reason": repr(exception), "count": self.failed_count}
        return result
