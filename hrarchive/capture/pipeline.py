"""What the store pipeline keeps of the raw capture: the WARC record of each story version
and the attachments."""

from __future__ import annotations

import logging
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler

from hrarchive.capture.attachments import attachments_root, keep_file
from hrarchive.items import Article, Attachment
from hrarchive.store import Archive
from hrarchive.store.captures import save_attachment, save_capture

logger = logging.getLogger(__name__)


def keep_capture(archive: Archive, item: Any, crawl_id: int | None, crawler: Crawler,
                 data: dict[str, Any] | None = None) -> None:
    """Record where ``item``'s response is kept; keep an attachment's file and row.

    ``data``: the item as a dict, when the caller already made one."""
    stats = crawler.stats
    assert stats is not None
    if isinstance(item, Article) and item.capture:
        if save_capture(archive, data or ItemAdapter(item).asdict(), crawl_id):
            stats.inc_value("hrarchive/store/capture")
    elif isinstance(item, Attachment):
        try:
            sha256, file = keep_file(attachments_root(crawler.settings), item.body, item.url,
                                     item.content_type)
        except OSError:
            stats.inc_value("hrarchive/errors")
            logger.exception("Could not keep the attachment %s", item.url)
            return
        data = data or ItemAdapter(item).asdict()
        outcome = save_attachment(archive, data, sha256, file, crawl_id)
        stats.inc_value(f"hrarchive/store/attachment_{outcome}")
