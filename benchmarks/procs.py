"""Run a child process and measure it: wall time, CPU seconds and peak RSS (from ``wait4``)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    """A finished child process and what it cost."""

    returncode: int
    wall: float
    cpu: float
    peak_rss_mb: float
    output: str


def measure(args: list[str], cwd: Path = ROOT, timeout: float = 900,
            env: dict[str, str] | None = None) -> Run:
    """Run ``args``; CPU and peak RSS are the child's own, read by ``os.wait4``."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        child = subprocess.Popen(args, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                 env=environment)
        timer = threading.Timer(timeout, child.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return Run(child.returncode, wall, usage.ru_utime + usage.ru_stime,
               usage.ru_maxrss * scale / 2**20, output)
