"""The WARC writer and reader without the engine: rotation, revisits, headers kept
consistent with the stored body, and compressed bodies read back decoded."""

from __future__ import annotations

import argparse
import gzip
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler
from warcio.archiveiterator import ArchiveIterator
from warcio.checker import Checker

from hrarchive.capture.reparse import build_response, read_captures
from hrarchive.capture.writer import DIGESTS_FILE, Exchange, WarcWriter, warc_files

HTML = b"<html><head><title>Story</title></head><body><p>Text</p></body></html>"
WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def exchange(url: str, body: bytes = HTML, headers: list[tuple[str, str]] | None = None,
             status: int = 200) -> Exchange:
    return Exchange(url=url, method="GET", request_headers=[("User-Agent", "test")],
                    request_body=b"", status=status,
                    headers=headers or [("Content-Type", "text/html; charset=utf-8")],
                    body=body, extra={"Hrarchive-Callback": "parse_article"})


def records(path: Path) -> list:
    with path.open("rb") as stream:
        return [(r.rec_type, r.rec_headers, r.http_headers) for r in ArchiveIterator(stream)]


def check(files: list[Path]) -> int:
    return Checker(argparse.Namespace(inputs=[str(f) for f in files], verbose=False)) \
        .process_all()


def test_identical_payload_is_a_revisit_and_files_rotate(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, "site", max_bytes=1)  # every record starts a new file
    first = writer.write(exchange("http://example.org/a"), WHEN)
    second = writer.write(exchange("http://example.org/b"), WHEN)
    other = writer.write(exchange("http://example.org/c", HTML.replace(b"Text", b"New")), WHEN)
    writer.close()
    assert (first.type, second.type, other.type) == ("response", "revisit", "response")
    files = warc_files(tmp_path / "site")
    assert [f.relative_to(tmp_path).as_posix() for f in files] == \
        [first.warc, second.warc, other.warc]
    assert all(f.parent == tmp_path / "site" / "2024" for f in files)
    assert check(files) == 0
    revisit = next(h for t, h, _ in records(files[1]) if t == "revisit")
    assert revisit.get_header("WARC-Refers-To-Target-URI") == "http://example.org/a"
    assert revisit.get_header("WARC-Refers-To-Date") == first.date
    assert revisit.get_header("WARC-Payload-Digest") == first.digest
    assert revisit.get_header("WARC-Profile").endswith("/revisit/identical-payload-digest")
    kinds = [t for t, _, _ in records(files[0])]
    assert kinds == ["warcinfo", "response", "request"]


def test_digests_survive_a_new_run_and_are_rebuilt_when_the_sidecar_is_lost(
        tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, "site")
    writer.write(exchange("http://example.org/a"), WHEN)
    writer.close()
    again = WarcWriter(tmp_path, "site")
    assert again.write(exchange("http://example.org/a"), WHEN).type == "revisit"
    again.close()
    (tmp_path / "site" / DIGESTS_FILE).unlink()
    third = WarcWriter(tmp_path, "site")
    assert third.write(exchange("http://example.org/a"), WHEN).type == "revisit"
    third.close()
    assert len(warc_files(tmp_path / "site")) == 3


def test_errors_are_not_deduplicated(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, "site")
    gone = [writer.write(exchange("http://example.org/x", b"gone", status=404), WHEN)
            for _ in range(2)]
    writer.close()
    assert [g.type for g in gone] == ["response", "response"]


def test_stored_headers_match_the_stored_body_and_gzip_is_read_back_decoded(
        tmp_path: Path) -> None:
    packed = gzip.compress(HTML)
    writer = WarcWriter(tmp_path, "site", info={"hrarchive-base-url": "http://127.0.0.1:1"})
    ref = writer.write(exchange("http://example.org/z", packed, [
        ("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip"),
        ("Transfer-Encoding", "chunked")]), WHEN)
    writer.close()
    files = warc_files(tmp_path / "site")
    assert check(files) == 0
    _, head, http = next(r for r in records(files[0]) if r[0] == "response")
    assert http.get_header("Transfer-Encoding") is None
    assert http.get_header("Content-Length") == str(len(packed))
    assert http.get_header("Content-Encoding") == "gzip"  # the body as the server sent it
    assert head.get_header("Hrarchive-Transfer-Decoded")
    [captured] = list(read_captures(tmp_path, "site"))
    assert captured.ref == ref and captured.body == packed
    assert captured.callback == "parse_article"
    assert captured.base_url == "http://127.0.0.1:1"
    decoder = HttpCompressionMiddleware(crawler=get_crawler())
    response = build_response(captured, decoder, {"k": 1})
    assert isinstance(response, HtmlResponse)
    assert response.body == HTML and response.css("title::text").get() == "Story"
    assert response.meta == {"k": 1}


def test_a_damaged_file_is_skipped_and_the_rest_read(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    writer = WarcWriter(tmp_path, "site", max_bytes=1)  # a file per record
    writer.write(exchange("http://example.org/a"), WHEN)
    writer.write(exchange("http://example.org/b", HTML + b" "), WHEN)
    writer.close()
    broken, whole = warc_files(tmp_path / "site")
    data = bytearray(broken.read_bytes())
    middle = len(data) // 2  # inside the response record's compressed bytes
    data[middle:middle + 64] = b"\xff" * 64
    broken.write_bytes(bytes(data))
    with broken.open("rb") as stream, pytest.raises(Exception):  # noqa: B017
        for record in ArchiveIterator(stream):
            record.content_stream().read()
    with caplog.at_level(logging.ERROR, logger="hrarchive.capture.reparse"):
        urls = [c.ref.url for c in read_captures(tmp_path, "site")]
    assert "http://example.org/a" not in urls and "http://example.org/b" in urls
    assert f"Could not read the WARC file {broken}" in caplog.text
    assert str(whole) not in caplog.text
