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


def test_commands_do_not_import_the_group_and_all_are_registered() -> None:
    """cli.py assembles the group from COMMANDS; no command module imports cli.py back."""
    import ast

    import click

    from hrarchive.cli import COMMANDS, cli

    folder = ROOT / "hrarchive" / "commands"
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            assert not any(n == "hrarchive.cli" or n.startswith("hrarchive.cli.")
                           for n in names), f"{path.name} imports hrarchive.cli"
    assert isinstance(cli, click.Group)
    assert sorted(cli.commands) == sorted(c.name or "" for c in COMMANDS)
    assert {"crawl", "sites", "search", "export", "stats", "serve"} <= set(cli.commands)
