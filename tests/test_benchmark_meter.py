"""The benchmark's memory meter (scripts/bench/benchmark.py): a child process's peak is its own."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from locatietoets.scripts.bench.benchmark import _ChildPeaks


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="leest /proc (alleen Linux)")
def test_child_peak_is_the_child_own_memory_not_the_parent_memory_at_its_start():
    """The parent holds 400 MiB when it starts a child that fills 80 MiB: the watcher reports
    about 80 MiB (plus the interpreter), not the parent's 400 (what ru_maxrss of the children
    reports on Linux, as the child shares the parent's memory until exec)."""
    held = np.ones(400 * 2**20 // 8)  # written: resident
    watcher = _ChildPeaks()
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import time; b = bytearray(80 * 2**20); b[::4096] = b'x' * len(b[::4096]);"
            " time.sleep(0.5)",
        ],
        check=True,
    )
    peak = watcher.stop()
    assert held.sum() > 0
    assert 80 <= peak < 200, peak
