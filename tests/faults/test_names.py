"""Names that are paths: no profile id, site name or URL makes hrarchive write outside its
archive, capture and attachment folders; a bad id is refused with a clear message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hrarchive.capture.writer import WarcWriter
from hrarchive.cli import cli
from hrarchive.profiles import ProfileError
from tests.faults.conftest import run_crawl
from tests.faults.hostile import HOME, news_site, page, story_html
from tests.faults.sound import assert_sound

BAD_IDS = ["../escape", "/tmp/absolute", "a\x00b", "x" * 300, "ok\n", "ok/../../x", "..", ""]


@pytest.mark.parametrize("site_id", BAD_IDS, ids=range(len(BAD_IDS)))
def test_a_profile_id_that_is_a_path_is_refused(tmp_path: Path, site_id: str) -> None:
    profile = tmp_path / "profile.toml"
    profile.write_text(f'id = {json.dumps(site_id)}\nname = "Bad"\n'
                       f'start_urls = ["{HOME}/news/"]\n', "utf-8")
    db = tmp_path / "archive.db"
    result = CliRunner().invoke(cli, ["crawl", "--profile", str(profile), "--db", str(db)])
    assert result.exit_code == 1
    if site_id:
        assert "must be a lower-case slug of at most 64 characters" in result.output
        assert repr(site_id) in result.output
    else:
        assert "'id' is required" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["profile.toml"]  # nothing written


def test_a_site_name_on_the_command_line_is_only_ever_a_known_id(tmp_path: Path) -> None:
    for command in (["crawl", "../../etc"], ["reparse", "--site", "../../etc"]):
        result = CliRunner().invoke(cli, [*command, "--db", str(tmp_path / "archive.db")])
        assert result.exit_code == 2 and "unknown site(s): ../../etc" in result.output
    for site_id in ("ok/../../outside", "../x", "a" * 65):  # add-site names its file by id
        result = CliRunner().invoke(cli, ["add-site", "http://127.0.0.1:9/", "--id", site_id,
                                          "-o", str(tmp_path / "new.toml")])
        assert result.exit_code == 2 and "is not a lower-case slug" in result.output
    with pytest.raises(ProfileError, match="must be a lower-case slug"):
        WarcWriter(tmp_path, "../outside")
    assert list(tmp_path.iterdir()) == []


def pdf(handler) -> None:  # type: ignore[no-untyped-def]
    from tests.faults.hostile import send

    send(handler, b"%PDF-1.4\n% a report\n%%EOF\n", headers={"Content-Type": "application/pdf"})


def test_urls_and_names_that_look_like_paths_stay_in_their_folders(tmp_path: Path, serve) -> None:  # type: ignore[no-untyped-def]
    links = ["/files/../../../../outside/escape.pdf", "/files/%2e%2e%2f%2e%2e%2fescape.pdf",
             "/files/" + "n" * 300 + ".pdf", "/files/report.pdf%00.sh",
             "/files/..%5C..%5Cwindows.pdf"]
    anchors = "".join(f'<a href="{link}">Report {n}</a> ' for n, link in enumerate(links))
    story = story_html("Reports of the year").replace(
        "</div></article>", f"<p>Read them: {anchors}</p></div></article>")
    site = serve(news_site({"reports": page(story)}))
    site.fallback = pdf
    work = tmp_path / "work"
    work.mkdir()
    run = run_crawl(site, work, "HRARCHIVE_CAPTURE=True", "HRARCHIVE_ATTACHMENTS=True",
                    name="../../outside\x00/etc/passwd")
    assert run.returncode == 0, run.output[-3000:]
    assert run.db.execute("SELECT count(*) FROM attachments").fetchone()[0] >= 4
    assert next(run.db.query("SELECT name FROM sites"))["name"] == "../../outside\x00/etc/passwd"
    written = {p.relative_to(work).parts[0] for p in work.rglob("*") if p.is_file()}
    assert written <= {"archive.db", "archive.db-wal", "archive.db-shm", "captures",
                       "attachments", "profile.toml"}
    assert [p for p in tmp_path.iterdir()] == [work]
    for file in (work / "attachments").rglob("*"):
        if file.is_file():
            assert len(file.name) <= 80 and file.suffix == ".pdf", file
    assert_sound(run.db_path)
