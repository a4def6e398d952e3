"""Output folders (issue 13): inputs are never touched, unusable folders fail early, one run at a
time.

Every command that writes refuses, before any work and with exit code 2, an
output folder where a file would replace an input (naming both paths), a
folder that cannot be written, and a folder another run is writing into.
After every test the inputs are byte-identical and no output was written.
"""

from __future__ import annotations

import os
from pathlib import Path
import signal
import subprocess
import sys

from click.testing import CliRunner
from fixtures import REPO, build_world, flat, sha256, standard_config, write_config
import geopandas as gpd
import pytest
from shapely.geometry import box

from locatietoets.analysis.errors import OutputError
from locatietoets.layers.io.outdir import LOCK_NAME, STAGE_PREFIX, claim_output
from locatietoets.scripts.cli import main


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative name → sha256)."""
    return {str(p.relative_to(folder)): sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def world(tmp_path: Path) -> Path:
    build_world(tmp_path)
    write_config(tmp_path, standard_config(), "config.toml")
    return tmp_path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A finished score run (in its own folder, next to its inputs)."""
    folder = tmp_path_factory.mktemp("run")
    build_world(folder / "invoer")
    cfg = write_config(folder / "invoer", standard_config(), "config.toml")
    result = CliRunner().invoke(
        main, ["score", str(cfg), "--out", str(folder / "uit"), "--voortgang", "geen"]
    )
    assert result.exit_code == 0, result.output
    return folder / "uit"


def _refused(args: list[str], root: Path, *paths: Path) -> str:
    """Run the CLI with ``args``; assert exit 2, a Dutch message naming ``paths``, and nothing
    changed under ``root``."""
    before = _snapshot(root)
    result = CliRunner().invoke(main, [*args, "--voortgang", "geen"])
    assert result.exit_code == 2, result.output
    message = flat(result.stderr)
    assert message.startswith("Fout in de uitvoer:"), message
    for path in paths:  # rich wraps long paths: compare without white space
        assert str(path).replace(" ", "") in message.replace(" ", ""), (str(path), message)
    assert "Traceback" not in result.output
    assert _snapshot(root) == before
    return message


# ---------------------------------------------------------------------------
# no output replaces an input
# ---------------------------------------------------------------------------


def test_score_out_in_the_folder_of_a_geopackage_input_is_refused(world):
    # the case: 'score --out' at the folder of locaties.gpkg would overwrite it
    message = _refused(
        ["score", str(world / "config.toml"), "--out", str(world)], world, world / "locaties.gpkg"
    )
    assert (
        f"Uitvoerbestand '{world / 'locaties.gpkg'}' zou invoer '{world / 'locaties.gpkg'}'"
        " overschrijven".replace(" ", "")
        in message.replace(" ", "")
    )
    assert not (world / "run.json").exists() and not (world / "locaties.csv").exists()


def test_score_out_inside_an_input_is_refused(world):
    # (an --out that is an existing file is refused by the option itself: "is een bestand")
    message = _refused(
        ["score", str(world / "config.toml"), "--out", str(world / "bbg.gpkg" / "uit")],
        world,
        world / "bbg.gpkg",
    )
    assert "ligt in invoer" in message


def test_score_csv_input_named_like_an_output_is_refused(world):
    (world / "locaties.csv").write_text("id,x,y\nA1,200250,380500\n", encoding="utf-8")
    text = (
        '[lagen.locaties]\npad = "locaties.csv"\nid_veld = "id"\nx_veld = "x"\ny_veld = "y"\ncrs ='
        ' "EPSG:28992"\n'
    )
    cfg = write_config(world, text, "csv.toml")
    _refused(["score", str(cfg), "--out", str(world)], world, world / "locaties.csv")


def test_score_shapefile_part_named_like_an_output_is_refused(tmp_path):
    # a Shapefile's side files are input too: 'locaties.shp' has no clash, but a ruleset named
    # run.json would
    build_world(tmp_path)
    (tmp_path / "run.json").write_text(
        (REPO / "analysis" / "rulesets" / "limburg-povi2021.toml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    cfg = write_config(tmp_path, standard_config(regels={"bestand": "run.json"}), "config.toml")
    _refused(["score", str(cfg), "--out", str(tmp_path)], tmp_path, tmp_path / "run.json")


def test_score_out_of_the_config_file_is_refused(world):
    (world / "uitvoer").mkdir()
    cfg = write_config(
        world / "uitvoer", standard_config().replace('pad = "', 'pad = "../'), "locaties.csv"
    )
    _refused(["score", str(cfg), "--out", str(world / "uitvoer")], world, cfg)


def test_demo_out_at_a_file_is_refused(tmp_path):
    target = tmp_path / "demo.txt"
    target.write_text("niet overschrijven", encoding="utf-8")
    message = _refused(["demo", "--out", str(target / "demo")], tmp_path, target)
    assert "ligt onder het bestand" in message


def test_kaarten_out_at_a_run_file_is_refused(run_dir):
    _refused(
        ["kaarten", str(run_dir), "--out", str(run_dir / "locaties.gpkg" / "kaarten")],
        run_dir.parent,
        run_dir / "locaties.gpkg",
    )


def test_rapport_out_at_a_run_file_is_refused(run_dir):
    _refused(
        ["rapport", str(run_dir), "--out", str(run_dir / "run.json" / "rapport")],
        run_dir.parent,
        run_dir / "run.json",
    )


def test_capaciteit_demand_table_named_like_an_output_is_refused(run_dir, tmp_path):
    table = tmp_path / "capaciteit_gemeenten.csv"
    table.write_text("gemeente;short_stay\nVenlo;10\n", encoding="utf-8")
    _refused(
        ["capaciteit", str(run_dir), "--behoefte", str(table), "--out", str(tmp_path)],
        tmp_path,
        table,
    )


def test_vergelijk_out_in_a_run_file_is_refused(run_dir):
    _refused(
        ["vergelijk", str(run_dir), str(run_dir), "--out", str(run_dir / "locaties.csv" / "x")],
        run_dir.parent,
        run_dir / "locaties.csv",
    )


def test_raster_out_at_an_input_is_refused(world):
    _refused(
        ["raster", str(world / "config.toml"), "--out", str(world / "parken.geojson" / "raster")],
        world,
        world / "parken.geojson",
    )


def test_bedrijfslocatie_plan_named_like_an_output_is_refused(world):
    plan = gpd.GeoDataFrame(
        {"naam": ["DC"]}, geometry=[box(200_000, 380_000, 200_300, 380_300)], crs=28992
    )
    plan.to_file(world / "bedrijfslocatie.gpkg")
    _refused(
        [
            "bedrijfslocatie",
            str(world / "config.toml"),
            "--locatie",
            str(world / "bedrijfslocatie.gpkg"),
            "--out",
            str(world),
        ],
        world,
        world / "bedrijfslocatie.gpkg",
    )


def test_data_endpoints_file_named_like_an_output_is_refused(tmp_path):
    # refused before any request: 'data ophalen' would write config.toml over its own endpoints file
    endpoints = tmp_path / "config.toml"
    endpoints.write_text(
        (REPO / "layers" / "fetch" / "endpoints.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    before = _snapshot(tmp_path)
    result = CliRunner().invoke(
        main,
        [
            "data",
            "ophalen",
            "--gebied",
            "Venlo",
            "--out",
            str(tmp_path),
            "--endpoints",
            str(endpoints),
            "--voortgang",
            "geen",
        ],
    )
    assert result.exit_code == 2, result.output
    message = "".join(result.stderr.split())
    assert str(endpoints) in message and "Foutindeuitvoer" in message
    assert _snapshot(tmp_path) == before


def test_output_beside_inputs_without_a_clash_is_allowed(world):
    # outputs may share a folder with inputs when no file is replaced
    for name in ("locaties.gpkg",):
        (world / name).rename(world / "kandidaten.gpkg")
    cfg = write_config(world, standard_config(locaties="kandidaten.gpkg"), "config.toml")
    before = _snapshot(world)
    result = CliRunner().invoke(
        main, ["score", str(cfg), "--out", str(world), "--voortgang", "geen"]
    )
    assert result.exit_code == 0, result.output
    after = _snapshot(world)
    assert {k: v for k, v in after.items() if k in before} == before
    assert {"locaties.gpkg", "locaties.csv", "run.json"} <= set(after) - set(before)


# ---------------------------------------------------------------------------
# unusable folders are found before the inputs are read; a full disk is named
# ---------------------------------------------------------------------------


def _broken_config(world: Path) -> Path:
    """A config whose BBG file is missing: the output folder must be judged before this is
    noticed."""
    return write_config(
        world, standard_config().replace('pad = "bbg.gpkg"', 'pad = "bgg.gpkg"'), "fout.toml"
    )


def _mount_tmpfs(folder: Path, options: str) -> bool:
    """Mount a small tmpfs at ``folder`` when allowed (root in a container); False otherwise."""
    if os.geteuid() != 0 or not Path("/bin/mount").exists() and not Path("/usr/bin/mount").exists():
        return False
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    return proc.returncode == 0


def _umount(folder: Path) -> None:
    subprocess.run(["umount", str(folder)], capture_output=True, check=False)


def test_out_under_a_file_is_found_before_the_inputs(world):
    (world / "notities.txt").write_text("x", encoding="utf-8")
    message = _refused(
        ["score", str(_broken_config(world)), "--out", str(world / "notities.txt" / "uit")],
        world,
        world / "notities.txt",
    )
    assert "ligt onder het bestand" in message and "bgg.gpkg" not in message


def test_out_in_proc_is_found_before_the_inputs(world):
    message = _refused(
        ["score", str(_broken_config(world)), "--out", "/proc/locatietoets-uit"],
        world,
        Path("/proc/locatietoets-uit"),
    )
    assert "Kan niet schrijven in de uitvoermap" in message and "bgg.gpkg" not in message


def test_read_only_out_is_found_before_the_inputs(world, tmp_path_factory):
    folder = tmp_path_factory.mktemp("alleen-lezen")
    mounted = _mount_tmpfs(folder, "ro,size=64k")
    if not mounted:
        if os.geteuid() == 0:
            pytest.skip("geen tmpfs te koppelen en root mag overal schrijven")
        folder.chmod(0o555)
    try:
        message = _refused(
            ["score", str(_broken_config(world)), "--out", str(folder / "uit")],
            world,
            folder / "uit",
        )
        assert (
            "alleen-lezen" in message or "geen schrijfrechten" in message
        ) and "bgg.gpkg" not in message
    finally:
        if mounted:
            _umount(folder)
        else:
            folder.chmod(0o755)


def test_full_disk_while_writing_is_a_dutch_error_without_gdal_lines_or_output(
    world, tmp_path_factory, monkeypatch
):
    folder = tmp_path_factory.mktemp("vol")
    before = _snapshot(world)
    if _mount_tmpfs(folder, "size=120k"):  # a real small disk: the GeoPackage does not fit
        try:
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "locatietoets.scripts.cli",
                    "score",
                    str(world / "config.toml"),
                    "--out",
                    str(folder / "uit"),
                    "--voortgang",
                    "geen",
                ],
                cwd=world,
                env={**os.environ, "COLUMNS": "200"},
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert proc.returncode == 2, proc.stderr
            stderr = flat(proc.stderr)
            assert not list(folder.iterdir())  # no output, no staging folder, no lock file
        finally:
            _umount(folder)
    else:  # simulated: the GeoPackage writer meets a full disk
        import errno

        from locatietoets.scripts.runner import score as scripts_run

        def full(*args, **kwargs):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(scripts_run, "write_gpkg", full)
        result = CliRunner().invoke(
            main,
            [
                "score",
                str(world / "config.toml"),
                "--out",
                str(folder / "uit"),
                "--voortgang",
                "geen",
            ],
        )
        assert result.exit_code == 2, result.output
        stderr = flat(result.stderr)
        assert not (folder / "uit").exists()
    assert (
        "Fout in de uitvoer: Kan niet schrijven in de uitvoermap" in stderr
        and "de schijf is vol" in stderr
    ), stderr
    assert (
        "ERROR 1" not in stderr and "Traceback" not in stderr and "Onverwachte fout" not in stderr
    )
    assert _snapshot(world) == before


# ---------------------------------------------------------------------------
# one run at a time; a killed run's staging folder is cleaned by the next run
# ---------------------------------------------------------------------------

_HOLDER = """
import sys, time
from pathlib import Path
from locatietoets.layers.io.outdir import claim_output
from locatietoets.layers.io.write import staged_output
out = Path(sys.argv[1])
with claim_output(out):
    with staged_output(out) as stage:
        (stage / "locaties.gpkg").write_bytes(b"half" * 250_000)
        print("bezig", flush=True)
        time.sleep(120)
"""


def test_killed_run_leaves_stage_that_the_next_run_removes_and_a_second_run_is_refused_meanwhile(
    world,
):
    out = world / "uitvoer"
    before = _snapshot(world)
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(out)],
        cwd=world,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "bezig", child.stderr.read()
        stages = [p for p in out.iterdir() if p.name.startswith(STAGE_PREFIX)]
        assert len(stages) == 1 and (stages[0] / "locaties.gpkg").stat().st_size == 1_000_000

        # a second run into the same folder stops at once with a clear message; the first is
        # untouched
        result = CliRunner().invoke(
            main, ["score", str(world / "config.toml"), "--out", str(out), "--voortgang", "geen"]
        )
        assert result.exit_code == 2, result.output
        message = flat(result.stderr)
        assert "schrijft al een andere run" in message and f"proces {child.pid}" in message, message
        assert child.poll() is None and stages[0].is_dir()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    assert stages[0].is_dir()  # killed hard: nothing cleaned up

    result = CliRunner().invoke(
        main, ["score", str(world / "config.toml"), "--out", str(out), "--voortgang", "geen"]
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert not [n for n in names if n.startswith(".")], names  # stale stage and lock file gone
    assert {"locaties.gpkg", "locaties.csv", "run.json"} <= set(names)
    assert {k: v for k, v in _snapshot(world).items() if not k.startswith("uitvoer/")} == before


def test_lock_is_released_after_a_failed_run_and_the_folder_removed_when_empty(tmp_path):
    out = tmp_path / "nieuw" / "uit"
    with pytest.raises(RuntimeError):
        with claim_output(out):
            assert (out / LOCK_NAME).is_file()
            raise RuntimeError("mislukt")
    assert not (tmp_path / "nieuw").exists()
    with claim_output(out):
        with pytest.raises(OutputError, match="schrijft al een andere run"):
            with claim_output(out):
                pass
    assert out.is_dir() and not any(out.iterdir())


def test_kaarten_and_rapport_failing_halfway_leave_nothing(run_dir, tmp_path, monkeypatch):
    """Maps and report are written into a staging folder: a failure after the first map leaves no
    map behind."""
    from locatietoets.layers.publish import maps as layers_maps

    real = layers_maps._save
    calls = {"n": 0}

    def save_then_fail(fig, path, fmt, dpi):
        calls["n"] += 1
        if calls["n"] > 1:
            raise OSError(28, "No space left on device")
        return real(fig, path, fmt, dpi)

    monkeypatch.setattr(layers_maps, "_save", save_then_fail)
    before = _snapshot(run_dir)
    result = CliRunner().invoke(
        main,
        [
            "kaarten",
            str(run_dir),
            "--per",
            "provincie",
            "--formaat",
            "beide",
            "--dpi",
            "50",
            "--out",
            str(tmp_path / "kaarten"),
            "--voortgang",
            "geen",
        ],
    )
    assert result.exit_code == 2, result.output
    assert "de schijf is vol" in flat(result.stderr)
    assert calls["n"] == 2
    assert not (tmp_path / "kaarten").exists()
    assert _snapshot(run_dir) == before


def test_every_geopackage_of_a_score_run_is_gpkg_1_2(run_dir):
    # issue 18: QGIS 3.22 / GDAL 3.6 warn on GeoPackage 1.4; the engine writes 1.2 everywhere
    import sqlite3

    written = sorted(run_dir.rglob("*.gpkg"))
    assert {p.name for p in written} >= {"locaties.gpkg", "referentie.gpkg"}
    for path in written:
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == 10200, path.name
            assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47, path.name
