"""The built plugin zip inside a real QGIS executable (``qgis_process``).

pytest's own Python cannot show library clashes between QGIS and the engine's
wheels; ``qgis_process`` links the system GDAL/PROJ/GEOS exactly as QGIS
Desktop does. This test builds the zip with ``locatietoets plugin-zip``,
installs it into an isolated profile, enables it and runs **Toets locaties**
end to end; the output must equal ``locatietoets score`` on the same data.
The engine is found through ``LOCATIETOETS_ENGINE`` only: the test venv is
NOT on qgis_process's PYTHONPATH.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import subprocess
import time
import zipfile

import pytest

from qgis_plugin import engine as eng

QGIS_PROCESS = Path(
    "/usr/bin/qgis_process.bin"
)  # /usr/bin/qgis_process is broken on Debian (--noversioncheck)

pytestmark = [pytest.mark.qgis, pytest.mark.slow]


@pytest.fixture(scope="module")
def qgis_process_env(tmp_path_factory, engine_exe):
    """An isolated QGIS profile with the plugin from the freshly built zip, enabled."""
    if not QGIS_PROCESS.is_file():
        pytest.skip(f"{QGIS_PROCESS} ontbreekt (installeer qgis met apt)")
    root = tmp_path_factory.mktemp("qgis_process")
    done = subprocess.run(
        [engine_exe, "plugin-zip", "--out", str(root / "dist")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    archive = next((root / "dist").glob("locatietoets-*.zip"))
    plugins = root / "plugins"
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(plugins)
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    env.update(
        {
            "QGIS_CUSTOM_CONFIG_PATH": str(root / "profile"),
            "QGIS_PLUGINPATH": str(plugins),
            "QT_QPA_PLATFORM": "offscreen",
            "XDG_RUNTIME_DIR": env.get("XDG_RUNTIME_DIR") or str(root / "runtime"),
            eng.ENV_VAR: engine_exe,
        }
    )
    Path(env["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, exist_ok=True)
    done = subprocess.run(
        [str(QGIS_PROCESS), "plugins", "enable", "locatietoets"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return env


def _run(env, *args, timeout=600):
    started = time.monotonic()
    done = subprocess.run(
        [str(QGIS_PROCESS), *args], capture_output=True, text=True, env=env, timeout=timeout
    )
    return done, time.monotonic() - started


def test_toets_locaties_in_qgis_process_equals_the_cli(
    qgis_process_env, qgis_core, engine_exe, tmp_path
):
    from test_qgis_plugin import FIELD_PARAMS, LAYER_PARAMS, make_layers, read_result, run_cli

    layers = make_layers(qgis_core)
    cli_gpkg = run_cli(
        qgis_core, engine_exe, layers, tmp_path / "cli"
    )  # also writes the input GeoPackages
    inputs = tmp_path / "cli"
    args = [f"{key}={inputs / (name + '.gpkg')}" for key, name in LAYER_PARAMS.items()]
    args += [f"{key}={value}" for key, value in FIELD_PARAMS.items()]
    out = tmp_path / "qgis_process.gpkg"
    args += ["PARAMETERS=bbg_rand_m=150", f"UITVOERMAP={tmp_path / 'uit'}", f"OUTPUT={out}"]

    done, seconds = _run(
        qgis_process_env, "--json", "run", "locatietoets:toetslocaties", "--", *args
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout[done.stdout.index("{") :])
    results = report["results"]
    assert Path(results["OUTPUT"]) == out
    assert (
        results["AANTAL_GESCHIKT"]
        + results["AANTAL_VOORWAARDELIJK"]
        + results["AANTAL_ONGESCHIKT"]
        + results["AANTAL_ZONDER_OORDEEL"]
        == 7
    )
    assert "Rekenkern:" in report.get("log", {}).get("info", "") or "Rekenkern" in done.stdout
    print(f"qgis_process run locatietoets:toetslocaties: {seconds:.1f} s")

    assert read_result(qgis_core, str(out)) == read_result(
        qgis_core, f"{cli_gpkg}|layername=locaties"
    )
    styled = qgis_core.QgsVectorLayer(str(out), "s", "ogr")
    assert (
        styled.renderer().classAttribute() == "oordeel"
    )  # the plugin's style is stored in the output


def test_missing_engine_in_qgis_process_fails_with_dutch_instructions(
    qgis_process_env, qgis_core, tmp_path
):
    from test_qgis_plugin import make_layers, write_gpkg

    write_gpkg(qgis_core, make_layers(qgis_core)["locaties"], tmp_path / "locaties.gpkg")
    env = dict(qgis_process_env, **{eng.ENV_VAR: str(tmp_path / "nergens" / "locatietoets")})
    done, _ = _run(
        env,
        "run",
        "locatietoets:toetslocaties",
        "--",
        f"LOCATIES={tmp_path / 'locaties.gpkg'}",
        f"OUTPUT={tmp_path / 'o.gpkg'}",
    )
    assert done.returncode != 0
    text = done.stdout + done.stderr
    assert "niet gevonden" in text and "Zo installeert u de rekenkern" in text
    assert "Traceback" not in text


@pytest.mark.slow
def test_help_of_toets_locaties_in_qgis_process(qgis_process_env):
    """The field pickers carry the dialog's wrapper as metadata (a Python class): qgis_process
    still describes the algorithm, in text and as JSON."""
    import json

    done, _seconds = _run(qgis_process_env, "help", "locatietoets:toetslocaties", timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VERBLIJFSTYPE_VELD" in done.stdout and "VOORZIENING_NAAM_VELD" in done.stdout
    done, _seconds = _run(
        qgis_process_env, "--json", "help", "locatietoets:toetslocaties", timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    described = json.loads(done.stdout[done.stdout.index("{") :])
    assert "PERSONEN_VELD" in described["parameters"]
