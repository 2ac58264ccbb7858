"""The documentation is tested: settings and commands are all described."""

from __future__ import annotations

import re
from pathlib import Path

import click
from click.testing import CliRunner

from hrarchive import settings
from hrarchive.cli import cli

ROOT = Path(__file__).parent.parent


def test_every_hrarchive_setting_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    names = [name for name in vars(settings) if name.startswith("HRARCHIVE_")]
    assert names
    missing = [name for name in names if f"`{name}`" not in readme]
    assert not missing, f"settings not documented in README.md: {missing}"


def test_every_command_has_help_with_an_example() -> None:
    assert isinstance(cli, click.Group)
    runner = CliRunner()
    for name in cli.commands:
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert re.search(r"Examples?:\s*\n\s+hrarchive " + re.escape(name), result.output), \
            f"`hrarchive {name} --help` shows no example"


def test_readme_starts_with_the_two_commands() -> None:
    head = (ROOT / "README.md").read_text("utf-8").split("```")[1]
    assert "pip install -e . && hrarchive crawl" in head
    assert "pip install -e '.[test]' && pytest" in head
    assert "pip install -e '.[test]' && pytest" in (ROOT / ".ci" / "run").read_text("utf-8")
