"""The benchmark modules that print their own figures, at --quick size (none is timed).

Their half of ``python -m benchmarks --quick``; the table's half is in test_benchmarks.py,
so the two run on two test workers at once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_benchmarks import PRINTING_MODULES, ROOT, quick_run


@pytest.mark.slow
def test_quick_run_of_the_printing_modules(tmp_path: Path) -> None:
    _, stdout = quick_run(tmp_path, PRINTING_MODULES)
    # Each ran (the runner stops on a failure) and printed its figures, or was named as absent.
    for name in PRINTING_MODULES:
        if (ROOT / "benchmarks" / f"{name}.py").exists():
            assert f"benchmarks/{name}.py prints its own figures" in stdout
        else:
            assert f"benchmarks/{name}.py is not here; skipped" in stdout
    if (ROOT / "benchmarks" / "accuracy.py").exists():
        assert "fixture articles from" in stdout
