"""One import namespace: the engine installs as ``locatietoets.analysis``, ``.layers``,
``.scripts``.

The product's folders stay at the top of the repository; pyproject.toml maps them onto the
package ``locatietoets`` (setuptools ``package-dir``), so nothing generic (``scripts``,
``analysis``) lands in site-packages, and the wheel has every import it needs declared.
"""

from __future__ import annotations

import os
from pathlib import Path
import re
import subprocess
import sys
import time
import tomllib

import pytest

REPO = Path(__file__).resolve().parents[1]
ENGINE = ("analysis", "layers", "scripts")
_OLD_IMPORT = re.compile(r"^\s*(?:from|import)\s+(analysis|layers|scripts)(?:[.\s]|$)", re.M)


def _pyproject() -> dict:
    with (REPO / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)


def test_no_code_imports_the_old_top_level_names():
    """Every import of the engine goes through ``locatietoets.`` (a bare ``scripts`` is gone after
    install)."""
    offenders = []
    for path in sorted(REPO.rglob("*.py")):
        relative = path.relative_to(REPO)
        if relative.parts[0].startswith(".") or relative.parts[0] in ("build", "dist"):
            continue
        for match in _OLD_IMPORT.finditer(path.read_text(encoding="utf-8")):
            offenders.append(f"{relative}: {match.group(0).strip()}")
    assert offenders == []


def test_every_engine_package_is_installed_under_locatietoets():
    """A new subpackage must be listed in pyproject.toml, or the installed engine lacks it."""
    setuptools = _pyproject()["tool"]["setuptools"]
    assert setuptools["package-dir"] == {f"locatietoets.{name}": name for name in ENGINE}
    found = {
        "locatietoets." + ".".join(init.parent.relative_to(REPO).parts)
        for name in ENGINE
        for init in (REPO / name).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert set(setuptools["packages"]) == found


def test_console_script_is_the_namespaced_cli():
    assert _pyproject()["project"]["scripts"] == {"locatietoets": "locatietoets.scripts.cli:main"}


@pytest.mark.slow
def test_wheel_in_a_clean_venv_runs_the_demo_and_installs_nothing_generic(tmp_path):
    """``pip install`` of the engine wheel into a venv without system packages gives a working demo.

    Needs the package index (every dependency is downloaded, or taken from pip's cache); about
    2-3 minutes the first time on a laptop, well under one with a warm pip cache.
    """
    from locatietoets.scripts.plugin_zip import build_engine_wheel

    wheel = build_engine_wheel(REPO, tmp_path / "wheel")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    started = time.monotonic()
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", str(wheel)],
        capture_output=True,
        text=True,
        env=env,
        timeout=1500,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    installed = time.monotonic() - started

    # nothing generic: only the namespace, from outside any checkout
    for name in ("scripts", "analysis", "layers", "qgis_plugin"):
        probe = subprocess.run(
            [str(python), "-c", f"import {name}"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=env,
        )
        assert probe.returncode != 0 and "ModuleNotFoundError" in probe.stderr, name
    probe = subprocess.run(
        [
            str(python),
            "-c",
            "import locatietoets.analysis, locatietoets.layers, locatietoets.scripts",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert probe.returncode == 0, probe.stderr

    exe = venv / ("Scripts/locatietoets.exe" if os.name == "nt" else "bin/locatietoets")
    demo = subprocess.run(
        [str(exe), "demo", "--out", str(tmp_path / "demo"), "--voortgang", "geen"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**env, "MPLBACKEND": "Agg"},
        timeout=600,
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert (tmp_path / "demo" / "uitvoer" / "locaties.gpkg").is_file(), sorted(
        (tmp_path / "demo").rglob("*")
    )
    print(f"pip install: {installed:.0f} s")
