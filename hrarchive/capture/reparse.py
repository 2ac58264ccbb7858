"""Re-read captured responses: WARC records back into Scrapy responses, fed to the spider's
own callbacks, so a better extractor applies to every story ever captured.

Each response record names the callback it was fetched for (``Hrarchive-Callback``); a
``revisit`` record is resolved to the payload of the record it refers to.  A file's
``warcinfo`` record gives the base URL the crawl used (``hrarchive-base-url``), so links
are rebased exactly as they were when the page was crawled.  Nothing is fetched: requests
the callbacks make are counted and dropped.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord
from warcio.timeutils import iso_date_to_datetime

from hrarchive.capture.attachments import ATTACHMENT_KEY
from hrarchive.capture.middleware import META_KEY
from hrarchive.capture.writer import ATTACHMENT_HEADER, CALLBACK_HEADER, CaptureRef, warc_files
from hrarchive.extract.urls import Rebaser
from hrarchive.items import Article, Attachment
from hrarchive.spiders.incremental import Planner
from hrarchive.spiders.wpapi import POST_META
from hrarchive.store.state import SiteState

logger = logging.getLogger(__name__)

CALLBACKS = ("parse_listing", "parse_feed", "parse_sitemap", "parse_article", "parse_attachment",
             "parse_api")


@dataclass
class Captured:
    """A captured response, with its payload as stored (still Content-Encoded)."""

    ref: CaptureRef
    callback: str
    headers: list[tuple[str, str]]
    body: bytes
    base_url: str | None
    attachment_of: str | None


def _payload(path: Path, offset: int) -> bytes:
    with path.open("rb") as stream:
        stream.seek(offset)
        record = next(iter(ArchiveIterator(stream)))
        return bytes(record.raw_stream.read())


def _ref(root: Path, path: Path, record: ArcWarcRecord, offset: int, length: int,
         status: int) -> CaptureRef:
    head = record.rec_headers
    return CaptureRef(warc=path.relative_to(root).as_posix(), offset=offset, length=length,
                      record_id=head.get_header("WARC-Record-ID"),
                      date=head.get_header("WARC-Date"), type=record.rec_type,
                      digest=head.get_header("WARC-Payload-Digest") or "",
                      url=head.get_header("WARC-Target-URI"), status=status)


def read_captures(root: Path, site: str) -> Iterator[Captured]:
    """Every response captured for ``site`` under ``root``, in capture order."""
    payloads: dict[str, tuple[Path, int]] = {}
    for path in warc_files(root / site):
        base_url: str | None = None
        try:
            with path.open("rb") as stream:
                records = ArchiveIterator(stream)
                for record in records:
                    head = record.rec_headers
                    if record.rec_type == "warcinfo":
                        info = record.content_stream().read().decode("utf-8", "replace")
                        for line in info.splitlines():
                            name, _, value = line.partition(":")
                            if name.strip() == "hrarchive-base-url":
                                base_url = value.strip() or None
                        continue
                    if record.rec_type not in ("response", "revisit") or not record.http_headers:
                        continue
                    status = int(record.http_headers.get_statuscode() or 0)
                    digest = head.get_header("WARC-Payload-Digest") or ""
                    body = bytes(record.raw_stream.read()) if record.rec_type == "response" \
                        else b""
                    offset = records.get_record_offset()  # reads to the record's end
                    ref = _ref(root, path, record, offset, records.get_record_length(), status)
                    if record.rec_type == "response" and digest:
                        payloads.setdefault(digest, (path, offset))
                    elif record.rec_type == "revisit":
                        if digest not in payloads:
                            logger.warning("Revisit of a payload not found under %s: %s (%s)",
                                           root / site, ref.url, ref.record_id)
                            continue
                        body = _payload(*payloads[digest])
                    yield Captured(ref, head.get_header(CALLBACK_HEADER) or "",
                                   list(record.http_headers.headers), body, base_url,
                                   head.get_header(ATTACHMENT_HEADER))
        except Exception:
            logger.exception("Could not read the WARC file %s (the rest of it is skipped)", path)


def build_response(captured: Captured, decoder: HttpCompressionMiddleware,
                   meta: dict[str, Any]) -> Response:
    """The response Scrapy would have handed the callback: decompressed, of the right class."""
    headers = Headers(captured.headers)
    url = captured.ref.url
    request = Request(url, meta=meta)
    cls = responsetypes.from_args(headers=headers, url=url, body=captured.body)
    response = cls(url=url, status=captured.ref.status, headers=headers, body=captured.body,
                   request=request)
    decoded = decoder.process_response(request, response)
    assert isinstance(decoded, Response)
    return decoded


class ReparseMixin:
    """Turns a site spider into one that re-reads its captures instead of fetching."""

    captures_root: Path
    planner: Planner
    crawler: Any
    profile: Any
    rebase: Rebaser

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.run_options = {"reparse": str(self.captures_root)}
        self._captured_at: datetime | None = None

    def archive_clock(self) -> datetime:
        """The store's clock: while a record's items are stored, the time it was captured,
        so first_seen and last_seen keep the crawl's history."""
        return self._captured_at or datetime.now(UTC)

    async def start(self) -> AsyncIterator[Any]:
        stats = self.crawler.stats
        # nothing is fetched, so nothing is skipped: every captured page is read, as in --full
        self.planner = Planner(SiteState(self.profile.id), full=True)
        self.wp_state = "replay"  # every captured listing is read; API posts join their pages
        posts: dict[str, Any] = {}  # story URL: its WordPress post, from a captured API page
        decoder = HttpCompressionMiddleware(crawler=self.crawler)
        for captured in read_captures(self.captures_root, self.profile.id):
            stats.inc_value("hrarchive/reparse/records")
            if captured.callback not in CALLBACKS or not 200 <= captured.ref.status < 300:
                continue
            meta: dict[str, Any] = {META_KEY: captured.ref.as_dict()}
            if captured.callback == "parse_article" and captured.ref.url in posts:
                meta[POST_META] = posts[captured.ref.url]
            if captured.attachment_of is not None:
                meta[ATTACHMENT_KEY] = {"url": captured.ref.url,
                                        "story_url": captured.attachment_of or None}
            try:
                response = build_response(captured, decoder, meta)
            except Exception:
                stats.inc_value("hrarchive/errors")
                logger.exception("Could not rebuild the response %s from %s",
                                 captured.ref.url, captured.ref.warc)
                continue
            self.rebase = Rebaser(self.profile.home,
                                  captured.base_url)
            stats.inc_value("hrarchive/reparse/responses")
            try:
                found = list(getattr(self, captured.callback)(response) or ())
            except Exception:
                stats.inc_value("hrarchive/errors")
                logger.exception("Could not re-read %s from %s", captured.ref.url,
                                 captured.ref.warc)
                continue
            self._captured_at = iso_date_to_datetime(captured.ref.date).replace(tzinfo=UTC)
            for out in found:
                if isinstance(out, Request):
                    if POST_META in out.meta:
                        posts[out.url] = out.meta[POST_META]
                    stats.inc_value("hrarchive/reparse/requests_dropped")
                    continue
                if isinstance(out, Article | Attachment) and out.capture is None:
                    out.capture = captured.ref.as_dict()
                yield out
        self._captured_at = None
