"""System tools some tests need (a browser, systemd-analyze): found, or a visible skip.

A test calls :func:`require_tool` for each program outside Python it runs.  The program is
the one named by its environment variable (``HRARCHIVE_CHROMIUM=/path/to/chromium``), else
the first on ``PATH``.  When it is missing the test is skipped with a reason that says how to
run it; with ``HRARCHIVE_REQUIRE_TOOLS=1`` (``.ci/run`` sets it, after installing every tool)
a missing tool fails the test instead, so CI never passes by skipping.
"""

from __future__ import annotations

import os
import shutil

import pytest

REQUIRE = "HRARCHIVE_REQUIRE_TOOLS"


def find_tool(name: str, env: str | None = None) -> str | None:
    """The path of program ``name`` (or of ``$env`` when set), if it exists and runs."""
    chosen = os.environ.get(env, "") if env else ""
    return shutil.which(chosen or name)


def require_tool(name: str, env: str | None = None, package: str | None = None) -> str:
    """The path of program ``name``; skips the test (fails under ``HRARCHIVE_REQUIRE_TOOLS=1``)
    when it is missing, saying how to install or name it."""
    found = find_tool(name, env)
    if found:
        return found
    chosen = os.environ.get(env, "") if env else ""
    what = f"{env}={chosen} is not a program" if chosen else f"{name} is not on PATH"
    how = f"install it (Debian: apt-get install {package or name})"
    if env:
        how += f" or set {env} to its path"
    reason = f"{what}: {how}; .ci/run installs it and runs this test"
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{reason} ({REQUIRE}=1: missing tools fail)", pytrace=False)
    pytest.skip(reason)
