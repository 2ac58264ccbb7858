"""The scheduling recipes in deploy/ are valid: systemd accepts the units, and the commands
they and the crontab line run are real ``hrarchive`` commands with real options.
(The Scrapyd recipe runs for real in test_scrapyd.py.)
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
import subprocess
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import click
import pytest

from hrarchive.cli import cli
from tests.conftest import ROOT
from tests.tools import require_tool

DEPLOY = ROOT / "deploy"
UNITS = ("hrarchive.service", "hrarchive.timer", "scrapyd.service",
         "hrarchive-writer.service", "hrarchive-worker@.service", "hrarchive-worker@.timer")


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[method-assign]
    parser.read(DEPLOY / name)
    return parser


def parse_hrarchive(argv: list[str]) -> click.Context:
    """Parse an ``hrarchive COMMAND ...`` command line as the CLI would, without running it."""
    assert isinstance(cli, click.Group)
    name, *rest = argv
    command = cli.get_command(click.Context(cli), name)
    if command is None:
        raise click.UsageError(f"no command {name!r}")
    return command.make_context(name, rest)


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    analyze = require_tool("systemd-analyze", package="systemd")
    # The units name binaries of the target machine; verify checks they exist, so point them
    # at a stand-in that does.
    stand_in = tmp_path / "bin"
    stand_in.write_text("#!/bin/sh\n")
    stand_in.chmod(0o755)
    for name in UNITS:
        text = (DEPLOY / name).read_text("utf-8")
        for binary in ("/srv/hrarchive/venv/bin/hrarchive", "/srv/scrapyd/venv/bin/scrapyd"):
            text = text.replace(binary, str(stand_in))
        (tmp_path / name).write_text(text, "utf-8")
    done = subprocess.run([analyze, "verify", *[str(tmp_path / n) for n in UNITS]],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_the_timer_starts_the_service_daily_and_catches_up() -> None:
    timer = unit("hrarchive.timer")["Timer"]
    assert timer.get("Unit") == "hrarchive.service", "the timer names the unit it starts"
    assert unit(timer["Unit"])["Service"]["ExecStart"]
    assert timer["Persistent"] == "true" and timer["RandomizedDelaySec"]
    assert_daily(timer["OnCalendar"])


def test_each_worker_timer_starts_its_worker_daily_and_catches_up() -> None:
    timer = unit("hrarchive-worker@.timer")["Timer"]
    assert timer.get("Unit") == "hrarchive-worker@%i.service"  # timer N starts worker N
    assert unit("hrarchive-worker@.service")["Service"]["ExecStart"]
    # No random delay: workers started apart would still share the day's run, but claims,
    # not the clock, spread the sites.
    assert timer["Persistent"] == "true" and "RandomizedDelaySec" not in timer
    assert_daily(timer["OnCalendar"])


def assert_daily(on_calendar: str) -> None:
    analyze = require_tool("systemd-analyze", package="systemd")
    done = subprocess.run([analyze, "calendar", "--iterations=3", on_calendar],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "TZ": "UTC"})
    assert done.returncode == 0, done.stderr
    when = r"(?m)^\s*(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)"
    elapses = [datetime.fromisoformat(m) for m in re.findall(when, done.stdout)]
    assert len(elapses) == 3, done.stdout
    assert [b - a for a, b in pairwise(elapses)] == [timedelta(days=1)] * 2, done.stdout


def test_the_service_runs_a_real_hrarchive_crawl() -> None:
    service = unit("hrarchive.service")["Service"]
    assert service["Type"] == "oneshot"
    argv = shlex.split(service["ExecStart"])
    assert Path(argv[0]).name == "hrarchive"
    ctx = parse_hrarchive(argv[1:])
    assert ctx.command.name == "crawl"
    assert ctx.params["db"] == str(Path(service["WorkingDirectory"]) / "archive.db")


def environment(service: configparser.SectionProxy) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in shlex.split(service.get("Environment", "")))


def test_the_writer_service_runs_a_real_hrarchive_writer() -> None:
    service = unit("hrarchive-writer.service")["Service"]
    redis_url = environment(service)["REDIS"]
    argv = shlex.split(service["ExecStart"].replace("${REDIS}", redis_url))
    assert Path(argv[0]).name == "hrarchive"
    ctx = parse_hrarchive(argv[1:])
    assert ctx.command.name == "writer" and ctx.params["redis_url"] == redis_url
    assert ctx.params["db"] == str(Path(service["WorkingDirectory"]) / "archive.db")
    assert service["KillSignal"] == "SIGTERM"  # commits what is queued, then exits
    assert service["Restart"] == "on-failure"


def test_the_worker_service_runs_a_real_worker_of_the_days_run(tmp_path: Path) -> None:
    service = unit("hrarchive-worker@.service")["Service"]
    redis_url = environment(service)["REDIS"]
    shell, flag, line = shlex.split(service["ExecStart"].replace("%%", "%"))  # systemd's %%
    assert (shell, flag) == ("/bin/sh", "-c")
    # Run the line as systemd would, the hrarchive binary replaced by one that prints its
    # arguments: the shell's quoting, $REDIS and the date must give a real command line.
    stand_in = tmp_path / "hrarchive"
    stand_in.write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    stand_in.chmod(0o755)
    line = line.replace("/srv/hrarchive/venv/bin/hrarchive", str(stand_in))
    done = subprocess.run([shell, flag, line], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "REDIS": redis_url})
    assert done.returncode == 0, done.stderr
    ctx = parse_hrarchive(done.stdout.splitlines())
    assert ctx.command.name == "crawl" and ctx.params["redis_url"] == redis_url
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", ctx.params["run"])  # one run per UTC day
    assert ctx.params["db"] == str(Path(service["WorkingDirectory"]) / "archive.db")
    assert service["KillSignal"] == "SIGINT" and service["Restart"] == "on-abnormal"


def test_the_crontab_line_locks_logs_and_runs_a_real_hrarchive_crawl() -> None:
    lines = [line for line in (DEPLOY / "crontab").read_text("utf-8").splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert len(lines) == 1
    fields = lines[0].split(None, 5)
    minute, hour = int(fields[0]), int(fields[1])
    assert 0 <= minute < 60 and 0 <= hour < 24 and fields[2:5] == ["*", "*", "*"]
    command = fields[5]
    assert "%" not in command  # cron would cut the line there
    words = shlex.split(command)
    flock = words.index("flock")
    assert words[flock + 1] == "-n"  # skip, don't queue, while the last run holds the lock
    start = next(i for i, w in enumerate(words) if i > flock and Path(w).name == "hrarchive")
    end = words.index(">>")
    assert words[end + 2:] == ["2>&1"]  # output and errors to the log file
    ctx = parse_hrarchive(words[start + 1:end])
    assert ctx.command.name == "crawl" and ctx.params["db"]


@pytest.mark.parametrize("bad", [["crawl", "--database", "x.db"], ["crwal"]])
def test_a_wrong_command_line_is_caught(bad: list[str]) -> None:
    with pytest.raises(click.UsageError):
        parse_hrarchive(bad)
