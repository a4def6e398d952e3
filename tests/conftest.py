"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path
import subprocess
import sys

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to the real Limburg data in ../shared/data; skips the test when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"echte Limburgse data ontbreekt: {SHARED_DATA} bestaat niet "
            "(zet de map shared/ naast de repository om deze test te draaien)"
        )
    return SHARED_DATA


@pytest.fixture(scope="session")
def qgis_core():
    """PyQGIS's core module; skips the test where Debian's python3-qgis is not installed."""
    return pytest.importorskip("qgis.core", reason="PyQGIS (Debian's python3-qgis) is niet geïnstalleerd")


@pytest.fixture(scope="session")
def engine_exe(tmp_path_factory) -> str:
    """The engine as an executable that runs this checkout's CLI (as the console script would)."""
    wrapper = tmp_path_factory.mktemp("engine") / "locatietoets"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"PYTHONPATH='{REPO}' exec '{sys.executable}' -c "
        "'import sys; sys.argv[0] = \"locatietoets\"; from scripts.cli import main; main()' \"$@\"\n"
    )
    wrapper.chmod(0o755)
    done = subprocess.run([str(wrapper), "--version"], capture_output=True, text=True, timeout=120)
    if done.returncode != 0 or not done.stdout.startswith("locatietoets "):
        pytest.skip(f"de rekenkern (scripts.cli) draait niet: {done.stdout}{done.stderr}")
    return str(wrapper)
