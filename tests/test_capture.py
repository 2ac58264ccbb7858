"""Raw capture: WARC files written by a real crawl, checked with warcio and indexed with
cdxj-indexer; the archive rebuilt from them offline; a WACZ that py-wacz validates."""

from __future__ import annotations

import argparse
import gzip
import html
import io
import json
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

from cdxj_indexer.main import CDXJIndexer
from sqlite_utils import Database
from warcio.archiveiterator import ArchiveIterator
from warcio.checker import Checker

from hrarchive.capture.wacz import validate_wacz
from tests.conftest import FAST, crawl, run_hrarchive
from tests.fixtureserver import FixtureSite, Page, load_cases, route_of

REAL = "https://humanrightshouse.org"
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
PDF_PATH = "/wp-content/uploads/2023/07/belarus-report.pdf"


def serve_with_attachment(serve: Callable[[str], FixtureSite]) -> FixtureSite:
    """hrhouse, with one story linking a PDF report."""
    server = serve("hrhouse")
    case = next(c for c in load_cases("hrhouse") if c.name == "interview-intigam-aliyev")
    page = case.page()
    marker = b'class="entry-content container">'
    assert marker in page.body
    body = page.body.replace(marker, marker + b'<p>Read the <a href="' + REAL.encode()
                             + PDF_PATH.encode() + b'">full report (PDF)</a>.</p>', 1)
    server.put(route_of(case.url), Page(body, 200, page.headers))
    server.put(PDF_PATH, Page(PDF, 200, {"Content-Type": "application/pdf"}))
    return server


def warcs(root: Path) -> list[Path]:
    return sorted(root.rglob("*.warc.gz"))


def cdxj(files: list[Path]) -> list[dict]:
    out = io.StringIO()
    CDXJIndexer(out, [str(f) for f in files]).process_all()
    entries = [json.loads(line[line.index("{"):]) for line in out.getvalue().splitlines()]
    return [e for e in entries if "url" in e]  # not the warcinfo records


def snapshot(db_path: Path) -> dict[str, list]:
    """What a rebuild must give back: stories, teasers, links and attachments."""
    db = Database(db_path)
    try:
        return {
            "articles": sorted(db.execute(
                "select url, title, published, body_text, content_hash, version from articles")),
            "teasers": sorted(db.execute(
                "select site, url, listing_url, title, summary, published, content_hash "
                "from teasers")),
            "links": sorted(db.execute(
                "select a.url, l.to_url, l.kind, l.title from links l "
                "join articles a on a.id = l.from_id")),
            "attachments": sorted(db.execute(
                "select a.url, t.url, t.sha256, t.size, t.file from attachments t "
                "left join articles a on a.id = t.article_id")),
            "captures": sorted(db.execute(
                "select a.url, c.version, c.warc, c.offset, c.record_type from captures c "
                "join articles a on a.id = c.article_id")),
        }
    finally:
        db.close()


def test_crawl_captures_every_response_and_reparse_rebuilds_the_archive(
        serve: Callable[[str], FixtureSite], tmp_path: Path) -> None:
    server = serve_with_attachment(serve)
    db_path = tmp_path / "archive.db"
    first = crawl("hrhouse", server, db_path)
    assert first.returncode == 0, first.output
    # A site that sends no validators, walked in full: every page comes again, byte for byte.
    for page in server.routes.values():
        page.headers = {k: v for k, v in page.headers.items()
                        if k.lower() not in {"etag", "last-modified"}}
    again = crawl("hrhouse", server, db_path, "--full")
    assert again.returncode == 0, again.output
    assert server.hits.count(PDF_PATH) == 1  # an attachment is fetched once

    files = warcs(tmp_path / "captures" / "hrhouse")
    assert len(files) == 2 and all(f.parent.name.isdigit() for f in files)  # SITE/YYYY/
    assert Checker(argparse.Namespace(inputs=[str(f) for f in files],
                                      verbose=False)).process_all() == 0
    index = cdxj(files)
    served = {server.base_url + path for path in server.hits}  # every request answered
    indexed = {entry["url"] for entry in index}
    assert served == indexed
    assert {"/robots.txt", PDF_PATH, "/campaigns/letters-from-lukashenkas-prisoners-alena-hnauk/"
            } <= set(server.hits)  # robots.txt, the attachment, the 404 story
    assert len(index) == len(server.hits)  # one response or revisit record per response
    first_run = [e for e in index if e["filename"] == files[0].name]
    second_run = [e for e in index if e["filename"] == files[1].name]
    assert all(e.get("mime") != "warc/revisit" for e in first_run)
    revisits = [e for e in second_run if e.get("mime") == "warc/revisit"]
    assert len(revisits) == len([e for e in second_run if e["status"] == "200"]) > 5

    db = Database(db_path)
    stories = db.execute("select count(*) from articles").fetchone()[0]
    captures = list(db["captures"].rows)
    assert len({c["article_id"] for c in captures}) == stories
    assert {c["record_type"] for c in captures} == {"response", "revisit"}
    for row in captures:  # each row points at its record
        with (tmp_path / "captures" / row["warc"]).open("rb") as stream:
            stream.seek(row["offset"])
            record = next(iter(ArchiveIterator(stream)))
            assert record.rec_headers.get_header("WARC-Record-ID") == row["record_id"]
            assert record.rec_headers.get_header("WARC-Target-URI") == row["url"]
    attachment = next(db["attachments"].rows)
    assert attachment["url"] == server.base_url + PDF_PATH
    assert attachment["story_url"].endswith("/the-most-important-thing-for-a-political-prisoner"
                                            "-is-to-know-they-are-remembered/")
    assert attachment["article_id"] is not None and attachment["size"] == len(PDF)
    assert (tmp_path / "attachments" / attachment["file"]).read_bytes() == PDF
    assert attachment["file"].startswith(attachment["sha256"][:2] + "/" + attachment["sha256"])
    db.close()

    before = snapshot(db_path)
    assert before["articles"] and before["teasers"] and before["links"]
    for path in tmp_path.glob("archive.db*"):
        path.unlink()
    (tmp_path / "attachments" / attachment["file"]).unlink()
    hits = len(server.hits)
    done = run_hrarchive("reparse", "--site", "hrhouse", "--db", str(db_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(server.hits) == hits  # no network
    assert snapshot(db_path) == before
    assert (tmp_path / "attachments" / attachment["file"]).read_bytes() == PDF
    assert warcs(tmp_path / "captures") == files  # reparse captures nothing
    rebuilt = Database(db_path)
    run = next(rebuilt["crawls"].rows)
    assert run["status"] == "finished" and "reparse" in json.loads(run["options"])
    history = rebuilt.execute(  # first_seen and last_seen: when the pages were captured
        "select a.first_seen, a.last_seen, min(c.captured), max(c.captured) from articles a "
        "join captures c on c.article_id = a.id group by a.id").fetchall()
    assert history and all(first[:19] == low[:19] and last[:19] == high[:19] and low < high
                           for first, last, low, high in history)


def test_wacz_lists_the_stories_and_validates(
        serve: Callable[[str], FixtureSite], tmp_path: Path) -> None:
    server = serve("hrhouse")
    db_path = tmp_path / "archive.db"
    assert crawl("hrhouse", server, db_path).returncode == 0
    out = tmp_path / "export" / "hrhouse.wacz"
    done = run_hrarchive("wacz", str(out), "--site", "hrhouse", "--db", str(db_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "valid" in validate_wacz(out)
    with zipfile.ZipFile(out) as wacz:
        names = set(wacz.namelist())
        pages = [json.loads(line) for line in wacz.read("pages/pages.jsonl").splitlines()]
        index = gzip.decompress(wacz.read("indexes/index.cdx.gz")).decode()
    assert {f"archive/{f.name}" for f in warcs(tmp_path / "captures")} <= names
    assert pages[0]["format"] == "json-pages-1.0"
    stories = {row["url"]: row["title"] for row in Database(db_path)["articles"].rows}
    assert {p["url"]: p["title"] for p in pages[1:]} == stories
    assert all(p["ts"] for p in pages[1:])
    assert all(f'"url": "{url}"' in index for url in stories)
    # replay as a reader of the WACZ does: index entry -> record in the packaged WARC
    entries = [json.loads(line[line.index("{"):]) for line in index.splitlines()]
    for url, title in stories.items():
        entry = next(e for e in entries if e.get("url") == url and e.get("status") == "200")
        with zipfile.ZipFile(out) as wacz:
            data = wacz.read(f"archive/{entry['filename']}")
        start = int(entry["offset"])
        chunk = io.BytesIO(data[start:start + int(entry["length"])])
        record = next(iter(ArchiveIterator(chunk)))
        assert record.rec_headers.get_header("WARC-Target-URI") == url
        assert title in html.unescape(record.content_stream().read().decode("utf-8"))


def test_wacz_without_captures_is_a_clear_error(tmp_path: Path) -> None:
    done = run_hrarchive("wacz", str(tmp_path / "x.wacz"), "--db", str(tmp_path / "a.db"))
    assert done.returncode != 0 and "no WARC files" in done.stderr
    assert not (tmp_path / "x.wacz").exists()


def test_capture_can_be_turned_off_or_moved(
        serve: Callable[[str], FixtureSite], tmp_path: Path) -> None:
    server = serve_with_attachment(serve)
    off = crawl("hrhouse", server, tmp_path / "off" / "archive.db",
                settings=(*FAST, "HRARCHIVE_CAPTURE=False", "HRARCHIVE_ATTACHMENTS=False"))
    assert off.returncode == 0, off.output
    assert not (tmp_path / "off" / "captures").exists()
    assert off.db["articles"].count > 0 and off.db["captures"].count == 0
    assert off.db["attachments"].count == 0 and PDF_PATH not in server.hits
    moved = tmp_path / "elsewhere"
    on = crawl("hrhouse", server, tmp_path / "on" / "archive.db",
               settings=(*FAST, f"HRARCHIVE_CAPTURE_DIR={moved}"))
    assert on.returncode == 0, on.output
    assert warcs(moved / "hrhouse") and not (tmp_path / "on" / "captures").exists()


def test_reparse_applies_a_better_extractor_to_every_captured_story(
        serve: Callable[[str], FixtureSite], tmp_path: Path) -> None:
    server = serve("hrhouse")
    db_path = tmp_path / "archive.db"
    assert crawl("hrhouse", server, db_path).returncode == 0
    before = {r["url"]: r for r in Database(db_path)["articles"].rows}
    assert before and all(r["subtitle"] is None and r["version"] == 1 for r in before.values())
    better = tmp_path / "profiles"
    better.mkdir()
    profile = (Path(__file__).parent.parent / "hrarchive" / "sites" / "hrhouse.toml").read_text()
    (better / "hrhouse.toml").write_text(profile.replace(
        "[article]\n", '[article]\nsubtitle = "h1.entry-title::text"\n'), "utf-8")
    hits = len(server.hits)
    done = run_hrarchive("reparse", "--db", str(db_path), "-s", f"HRARCHIVE_SITES={better}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(server.hits) == hits
    db = Database(db_path)
    after = {r["url"]: r for r in db["articles"].rows}
    assert after.keys() == before.keys()
    assert all(r["version"] == 2 and r["subtitle"] == r["title"] for r in after.values())
    assert db["article_versions"].count == 2 * len(after)  # the first version is kept
    versions = db.execute("select distinct version from captures").fetchall()
    assert sorted(versions) == [(1,), (2,)]  # the same record, read by both extractors


def test_reparse_rebuilds_several_sites_one_after_the_other(
        serve: Callable[[str], FixtureSite], tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    builtin = Path(__file__).parent.parent / "hrarchive" / "sites" / "hrhouse.toml"
    (profiles / "twin.toml").write_text(  # the same site under a second id: a second spider
        builtin.read_text("utf-8").replace('id = "hrhouse"', 'id = "twin"'), "utf-8")
    db_path = tmp_path / "archive.db"
    assert crawl("hrhouse", serve("hrhouse"), db_path).returncode == 0
    time.sleep(1.1)  # the twin's pages are captured in a later second than hrhouse's
    done = crawl("twin", serve("hrhouse"), db_path, "-s", f"HRARCHIVE_SITES={profiles}")
    assert done.returncode == 0, done.output
    assert warcs(tmp_path / "captures" / "hrhouse") and warcs(tmp_path / "captures" / "twin")
    before = snapshot(db_path)
    for path in tmp_path.glob("archive.db*"):
        path.unlink()
    done = run_hrarchive("reparse", "--db", str(db_path), "-s", f"HRARCHIVE_SITES={profiles}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert snapshot(db_path) == before
    db = Database(db_path)
    runs = list(db["crawls"].rows)
    assert [r["site"] for r in runs] == ["hrhouse", "twin"]
    assert runs[0]["finished"] <= runs[1]["started"]  # one after the other
    history = db.execute(
        "select a.site, a.first_seen, min(c.captured) from articles a "
        "join captures c on c.article_id = a.id group by a.id").fetchall()
    assert {site for site, _, _ in history} == {"hrhouse", "twin"}
    assert all(first[:19] == low[:19] for _, first, low in history)


def test_a_capture_folder_that_cannot_be_written_does_not_stop_the_crawl(
        serve: Callable[[str], FixtureSite], tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the capture folder should be")
    result = crawl("hrhouse", serve("hrhouse"), tmp_path / "archive.db",
                   settings=(*FAST, f"HRARCHIVE_CAPTURE_DIR={blocker / 'captures'}"))
    assert result.returncode == 0, result.output
    assert "Could not capture" in result.output
    run = next(result.db["crawls"].rows)
    assert run["status"] == "finished" and run["articles_new"] == result.db["articles"].count > 0
    assert json.loads(run["stats"])["hrarchive/capture/failed"] >= run["responses"]
    assert result.db["captures"].count == 0
