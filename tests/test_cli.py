"""The command line and the Scrapy project work as a newcomer would use them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hrarchive.profiles import load_profiles
from tests.conftest import ROOT, run_hrarchive


def test_scrapy_list_shows_every_profile() -> None:
    done = subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert set(done.stdout.split()) == set(load_profiles())
    assert "hrhouse" in done.stdout.split()


def test_sites_lists_builtin_and_user_profiles(tmp_path: Path) -> None:
    (tmp_path / "myngo.toml").write_text(
        'id = "myngo"\nname = "My NGO"\nstart_urls = ["https://myngo.example/news/"]\n')
    done = run_hrarchive("sites", "--sites-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("hrhouse ") and "Human Rights House Foundation" in line
               for line in lines)
    assert any(line.startswith("myngo ") and str(tmp_path) in line for line in lines)


def test_unknown_site_and_bad_profile_are_clear_errors(tmp_path: Path) -> None:
    done = run_hrarchive("crawl", "nosuchsite", "--db", str(tmp_path / "a.db"))
    assert done.returncode == 2
    assert "unknown site(s): nosuchsite" in done.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "bad"\nname = "Bad"\n')
    done = run_hrarchive("crawl", "--profile", str(bad), "--db", str(tmp_path / "a.db"))
    assert done.returncode == 1
    assert "give at least one of start_urls, feeds, sitemaps" in done.stderr
    assert not (tmp_path / "a.db").exists()
