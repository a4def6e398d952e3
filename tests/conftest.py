"""Shared pytest fixtures, and `locatietoets` = this checkout for every test."""

from __future__ import annotations

import atexit
import logging
import os
from pathlib import Path
import shutil
import subprocess
import sys
import tempfile

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def _checkout_first() -> Path:
    """Make ``import locatietoets`` load this checkout, here and in every process a test starts.

    The venv (~/.cache/locatietoets/venv-<hash>) is shared by all clones with the same pins and
    its editable install points at one of them (tools/bootstrap.sh reinstalls it for the clone
    it runs in). So the tests do not depend on which: a one-line package ``locatietoets`` whose
    ``__path__`` is this checkout goes first on ``sys.path`` and on ``PYTHONPATH`` (inherited by
    the console script, ``python -m locatietoets.scripts.cli`` and the engine of the QGIS tests).
    """
    shim = Path(tempfile.mkdtemp(prefix="locatietoets-checkout-"))
    atexit.register(shutil.rmtree, shim, True)
    (shim / "locatietoets").mkdir()
    (shim / "locatietoets" / "__init__.py").write_text(
        '"""This checkout as the package locatietoets (tests only)."""\n__path__ ='
        f" [{str(REPO)!r}]\n",
        encoding="utf-8",
    )
    sys.path.insert(0, str(shim))
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(shim), os.environ.get("PYTHONPATH")])
    )
    for name in [m for m in sys.modules if m == "locatietoets" or m.startswith("locatietoets.")]:
        del sys.modules[name]
    return shim


CHECKOUT_PATH = _checkout_first()


@pytest.fixture(autouse=True)
def _restore_root_logger():
    """The CLI reconfigures the root logger; put it back for the other tests."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """A small hand-computable world (tests/fixtures.py build_world) in tmp_path."""
    from fixtures import build_world

    build_world(tmp_path)
    return tmp_path


@pytest.fixture
def gpkg_writer_modes(monkeypatch: pytest.MonkeyPatch) -> list:
    """The ``process`` argument of every :class:`GpkgStream` a block run makes, in order."""
    from locatietoets.layers.io import write
    from locatietoets.scripts.runner import score

    modes: list = []

    class Recorded(write.GpkgStream):
        def __init__(self, *args, **kwargs):
            modes.append(kwargs.get("process"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(score, "GpkgStream", Recorded)
    return modes


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
    return pytest.importorskip(
        "qgis.core", reason="PyQGIS (Debian's python3-qgis) is niet geïnstalleerd"
    )


@pytest.fixture(scope="session")
def engine_exe(tmp_path_factory) -> str:
    """The engine as an executable that runs this checkout's CLI (as the console script would)."""
    wrapper = tmp_path_factory.mktemp("engine") / "locatietoets"
    wrapper.write_text(
        f"#!/bin/sh\nPYTHONPATH='{CHECKOUT_PATH}' exec '{sys.executable}' -c 'import sys;"
        ' sys.argv[0] = "locatietoets"; from locatietoets.scripts.cli import main; main()\''
        ' "$@"\n'
    )
    wrapper.chmod(0o755)
    done = subprocess.run([str(wrapper), "--version"], capture_output=True, text=True, timeout=120)
    if done.returncode != 0 or not done.stdout.startswith("locatietoets "):
        pytest.skip(
            f"de rekenkern (locatietoets.scripts.cli) draait niet: {done.stdout}{done.stderr}"
        )
    return str(wrapper)
