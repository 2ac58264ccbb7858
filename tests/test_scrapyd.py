"""The Scrapyd recipe works: deployed with scrapyd-deploy to a real Scrapyd on 127.0.0.1, the
project's spider crawls the local fixture site into the archive.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode
from urllib.request import urlopen

import pytest
from sqlite_utils import Database

from hrarchive import __version__
from tests.conftest import FAST, ROOT
from tests.fixtureserver import FixtureSite, load_cases


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(url: str, data: list[tuple[str, str]] | None = None) -> dict:
    body = urlencode(data).encode() if data is not None else None
    with urlopen(url, body, timeout=30) as response:
        return dict(json.load(response))


@pytest.fixture
def scrapyd(tmp_path: Path) -> Iterator[str]:
    """A Scrapyd configured from deploy/scrapyd.conf, on a free port, in a temporary folder."""
    home = tmp_path / "scrapyd"
    home.mkdir()
    config = configparser.ConfigParser()
    config.read(ROOT / "deploy" / "scrapyd.conf")
    port = free_port()
    config["scrapyd"].update(bind_address="127.0.0.1", http_port=str(port), poll_interval="0.5",
                             eggs_dir=str(home / "eggs"), logs_dir=str(home / "logs"),
                             dbs_dir=str(home / "dbs"), items_dir="")
    with open(home / "scrapyd.conf", "w", encoding="utf-8") as file:
        config.write(file)
    url = f"http://127.0.0.1:{port}/"
    with open(home / "scrapyd.out", "wb") as out:
        # HOME: no ~/.scrapyd.conf of the machine's user gets mixed in.
        process = subprocess.Popen([sys.executable, "-m", "scrapyd"], cwd=home, stdout=out,
                                   stderr=subprocess.STDOUT, env={**os.environ, "HOME": str(home)})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert call(url + "daemonstatus.json")["status"] == "ok"
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((home / "scrapyd.out").read_text()) from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_scrapyd_deploy_then_schedule_crawls_the_fixture_site(
        scrapyd: str, serve: Callable[[str], FixtureSite], tmp_path: Path) -> None:
    # Deploy a copy, so that the egg build leaves nothing behind in the checkout.
    project = tmp_path / "project"
    shutil.copytree(ROOT / "hrarchive", project / "hrarchive",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "setup.py", "scrapy.cfg", "README.md"):
        shutil.copy(ROOT / name, project / name)
    # A profile only the egg holds: listed only if Scrapyd runs the code of the egg.
    (project / "hrarchive" / "sites" / "eggonly.toml").write_text(
        'id = "eggonly"\nname = "Only in the egg"\nstart_urls = ["https://egg.example/"]\n')
    cfg = configparser.ConfigParser()
    cfg.read(project / "scrapy.cfg")
    assert cfg["deploy"]["project"] == "hrarchive"
    cfg["deploy"]["url"] = scrapyd
    with open(project / "scrapy.cfg", "w", encoding="utf-8") as file:
        cfg.write(file)

    deployed = subprocess.run([sys.executable, "-m", "scrapyd_client.deploy"], cwd=project,
                              capture_output=True, text=True, timeout=300)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert json.loads(deployed.stdout)["status"] == "ok", deployed.stdout
    spiders = call(scrapyd + "listspiders.json?project=hrarchive")["spiders"]
    assert {"hrhouse", "eggonly"} <= set(spiders)

    server = serve("hrhouse")
    db_path = tmp_path / "archive.db"
    contact = "https://scrapyd.example/contact"
    settings = [*FAST, f"HRARCHIVE_DB={db_path}", f"HRARCHIVE_CONTACT={contact}"]
    job = call(scrapyd + "schedule.json", [
        ("project", "hrarchive"), ("spider", "hrhouse"), ("base_url", server.base_url),
        *[("setting", setting) for setting in settings]])
    assert job["status"] == "ok", job
    deadline = time.monotonic() + 180
    while not any(j["id"] == job["jobid"]
                  for j in call(scrapyd + "listjobs.json?project=hrarchive")["finished"]):
        assert time.monotonic() < deadline, "the Scrapyd job did not finish"
        time.sleep(0.5)

    log = tmp_path / "scrapyd" / "logs" / "hrarchive" / "hrhouse" / f"{job['jobid']}.log"
    assert db_path.exists(), log.read_text("utf-8") if log.exists() else "no log"
    db = Database(db_path)
    good = [c for c in load_cases("hrhouse") if c.kind == "article" and
            c.meta.get("bad") not in {"no-title", "404"}]
    stored = {row["url"].removeprefix(server.base_url) for row in db["articles"].rows}
    assert stored == {c.url.removeprefix("https://humanrightshouse.org") for c in good}
    assert [run["status"] for run in db["crawls"].rows] == ["finished"]
    assert server.hits[0] == "/robots.txt"
    assert {hit.headers.get("User-Agent") for hit in server.requests} == {
        f"hrarchive/{__version__} (+{contact}; archiving human rights news)"}
