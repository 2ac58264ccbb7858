"""Operations, outcomes and site states survive the trip through bytes (hrarchive.cluster.codec)."""

from __future__ import annotations

import errno
import sqlite3
from dataclasses import asdict
from datetime import UTC, date, datetime

import pytest

from hrarchive.capture.writer import CaptureRef, PendingCapture
from hrarchive.cluster.codec import (
    CodecError,
    RemoteError,
    decode,
    decode_outcome,
    decode_reply,
    encode,
    encode_outcome,
    encode_reply,
)
from hrarchive.extensions.diskfull import is_disk_full
from hrarchive.items import Announced, Article, Attachment, Gone, Link, NotModified, Teaser
from hrarchive.pipelines.store import _plain
from hrarchive.store.queue import (
    ANNOUNCE,
    ARTICLE,
    ATTACHMENT,
    GONE,
    NOT_MODIFIED,
    TEASER,
    WARC,
    Op,
)
from hrarchive.store.state import KnownStory, SiteState
from hrarchive.store.writer import NotCaptured

NOW = datetime(2026, 11, 30, 0, 15, 7, tzinfo=UTC)
REF = CaptureRef(warc="host-12-20261130.warc.gz", offset=1234, length=567,
                 record_id="<urn:uuid:0f0e>", date="2026-11-30T00:15:07Z", type="response",
                 digest="sha1:ABC", url="https://ngo.example/news/1", status=200)


def article() -> Article:
    capture = PendingCapture(REF.as_dict())
    return Article(site="ngo", url="https://ngo.example/news/1?utm=x",
                   canonical_url="https://ngo.example/news/1", title="Activist freed",
                   authors=["A. Writer", "Б. Автор"], published="2026-11-29",
                   body_text="Text with «quotes» and $dollar keys", body_html="<p>Text</p>",
                   tags=["detention"], related=[Link("https://ngo.example/news/0", "Earlier")],
                   attachments=[Link("https://ngo.example/r.pdf", "Report", "attachment")],
                   etag='"abc"', last_modified="Sun, 29 Nov 2026 10:00:00 GMT",
                   announced="2026-11-29T10:00:00+00:00", capture=capture)


ITEMS = [
    (ARTICLE, article()),
    (TEASER, Teaser(site="ngo", listing_url="https://ngo.example/news",
                    url="https://ngo.example/news/1", title="Activist freed",
                    summary="A short teaser", published="2026-11-29", position=3)),
    (NOT_MODIFIED, NotModified(site="ngo", url="https://ngo.example/news/1", etag='"abc"')),
    (GONE, Gone(site="ngo", url="https://ngo.example/news/2", status=410)),
    (ANNOUNCE, Announced(site="ngo", url="https://ngo.example/news/1",
                         announced="2026-11-29T10:00:00+00:00")),
    (ATTACHMENT, Attachment(site="ngo", url="https://ngo.example/r.pdf",
                            fetched_url="https://cdn.ngo.example/r.pdf",
                            body=b"%PDF-1.7\x00\xff\xfe binary", content_type="application/pdf",
                            title="Report", story_url="https://ngo.example/news/1",
                            capture=PendingCapture(REF.as_dict()))),
]


@pytest.mark.parametrize(("kind", "item"), ITEMS, ids=[kind for kind, _ in ITEMS])
def test_every_op_the_store_pipeline_puts_round_trips(kind: str, item: object) -> None:
    data = _plain(item)  # what StorePipeline puts on the queue
    if kind == ATTACHMENT:
        data["root"] = "/srv/hr/attachments"
    op = Op(kind, data, crawl_id=7, now=NOW, id="op-1", reply_to="hrarchive:reply:abc")
    back = decode(encode(op))
    assert (back.kind, back.crawl_id, back.now, back.id, back.reply_to) == \
        (kind, 7, NOW, "op-1", "hrarchive:reply:abc")
    assert back.data == data
    assert back.reply is None
    if "capture" in data:
        assert isinstance(back.data["capture"], PendingCapture)
        assert back.data["capture"].failed is None
    if kind == ATTACHMENT:
        assert back.data["body"] == b"%PDF-1.7\x00\xff\xfe binary"


def test_a_failed_capture_keeps_its_disk_full_error() -> None:
    data = _plain(article())
    data["capture"] = PendingCapture()
    data["capture"].failed = OSError(errno.ENOSPC, "No space left on device")
    back = decode(encode(Op(ARTICLE, data, id="op-2"))).data["capture"]
    assert back == {} and is_disk_full(back.failed)


def test_dicts_with_dollar_keys_and_odd_values_round_trip() -> None:
    data = {"$bytes": "not a tag", "nested": [{"$date": 1}], "when": date(2026, 1, 2),
            "pair": ("a", 1), "at": NOW}
    assert decode(encode(Op(TEASER, data, id="x"))).data == data


def test_outcomes_round_trip_as_the_store_pipeline_reads_them() -> None:
    assert decode_outcome(encode_outcome(("new", True, None))) == ("new", True, None)
    assert decode_outcome(encode_outcome("seen")) == "seen"
    assert decode_outcome(encode_outcome(42)) == 42
    assert decode_outcome(encode_outcome(None)) is None
    not_captured = decode_outcome(encode_outcome(NotCaptured("its capture failed")))
    assert isinstance(not_captured, NotCaptured) and "its capture failed" in str(not_captured)
    full = decode_outcome(encode_outcome(OSError(errno.ENOSPC, "No space left on device")))
    assert is_disk_full(full)
    sqlite_full = decode_outcome(encode_outcome(sqlite3.OperationalError("disk is full")))
    assert is_disk_full(sqlite_full)
    other = decode_outcome(encode_outcome(KeyError("url")))
    assert isinstance(other, RemoteError) and "KeyError" in str(other)


def test_a_site_state_round_trips() -> None:
    story = KnownStory("https://ngo.example/news/1", '"e"', "Sun, 29 Nov 2026 10:00:00 GMT",
                       NOW, date(2026, 11, 29), frozenset({("Title", None, "2026-11-29")}),
                       NOW)
    state = SiteState("ngo", {story.url: story, "https://ngo.example/alias": story},
                      ["https://ngo.example/news/9"], "finished", NOW,
                      {"https://ngo.example/sitemap-1.xml": "2026-11-29"})
    op_id, back = decode_reply(encode_reply("op-3", state))
    assert op_id == "op-3"
    assert asdict(back) == asdict(state)
    assert back.story("https://ngo.example/alias") == story


def test_live_operations_and_bad_bytes_are_refused_clearly() -> None:
    with pytest.raises(CodecError, match="stays in its process"):
        encode(Op(WARC, lambda archive: None, id="x"))
    with pytest.raises(CodecError, match="needs an id"):
        encode(Op(TEASER, {}))
    with pytest.raises(CodecError, match="cannot send a object"):
        encode(Op(TEASER, {"x": object()}, id="x"))
    for raw in (b"\xff\xfe", b"[1, 2]", b'{"kind": "teaser"}', b'{"kind": 1, "id": "x"}'):
        with pytest.raises(CodecError):
            decode(raw)
