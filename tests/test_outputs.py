"""Output folders (issue 13): inputs are never touched, unusable folders fail early, one run at a time.

Every command that writes refuses, before any work and with exit code 2, an
output folder where a file would replace an input (naming both paths), a
folder that cannot be written, and a folder another run is writing into.
After every test the inputs are byte-identical and no output was written.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
import signal
import subprocess
import sys
import time

from click.testing import CliRunner
import geopandas as gpd
import pytest
from shapely.geometry import box

from analysis.errors import OutputError
from fixtures import REPO, build_world, sha256, standard_config, write_config
from layers.outdir import LOCK_NAME, STAGE_PREFIX, claim_output
from scripts.cli import main


@pytest.fixture(autouse=True)
def _restore_root_logger():
    """The CLI reconfigures the root logger; put it back for the other tests."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _flat(text: str) -> str:
    return " ".join(text.split())


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
    result = CliRunner().invoke(main, ["score", str(cfg), "--out", str(folder / "uit"), "--voortgang", "geen"])
    assert result.exit_code == 0, result.output
    return folder / "uit"


def _refused(args: list[str], root: Path, *paths: Path) -> str:
    """Run the CLI with ``args``; assert exit 2, a Dutch message naming ``paths``, and nothing changed under ``root``."""
    before = _snapshot(root)
    result = CliRunner().invoke(main, [*args, "--voortgang", "geen"])
    assert result.exit_code == 2, result.output
    message = _flat(result.stderr)
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
    message = _refused(["score", str(world / "config.toml"), "--out", str(world)], world, world / "locaties.gpkg")
    assert f"Uitvoerbestand '{world / 'locaties.gpkg'}' zou invoer '{world / 'locaties.gpkg'}' overschrijven".replace(" ", "") in message.replace(" ", "")
    assert not (world / "run.json").exists() and not (world / "locaties.csv").exists()


def test_score_out_inside_an_input_is_refused(world):
    # (an --out that is an existing file is refused by the option itself: "is een bestand")
    message = _refused(["score", str(world / "config.toml"), "--out", str(world / "bbg.gpkg" / "uit")], world, world / "bbg.gpkg")
    assert "ligt in invoer" in message


def test_score_csv_input_named_like_an_output_is_refused(world):
    (world / "locaties.csv").write_text("id,x,y\nA1,200250,380500\n", encoding="utf-8")
    text = '[lagen.locaties]\npad = "locaties.csv"\nid_veld = "id"\nx_veld = "x"\ny_veld = "y"\ncrs = "EPSG:28992"\n'
    cfg = write_config(world, text, "csv.toml")
    _refused(["score", str(cfg), "--out", str(world)], world, world / "locaties.csv")


def test_score_shapefile_part_named_like_an_output_is_refused(tmp_path):
    # a Shapefile's side files are input too: 'locaties.shp' has no clash, but a ruleset named run.json would
    build_world(tmp_path)
    (tmp_path / "run.json").write_text((REPO / "analysis" / "rulesets" / "limburg-povi2021.toml").read_text(encoding="utf-8"), encoding="utf-8")
    cfg = write_config(tmp_path, standard_config() + '\n[regels]\nbestand = "run.json"\n', "config.toml")
    _refused(["score", str(cfg), "--out", str(tmp_path)], tmp_path, tmp_path / "run.json")


def test_score_out_of_the_config_file_is_refused(world):
    (world / "uitvoer").mkdir()
    cfg = write_config(world / "uitvoer", standard_config().replace('pad = "', 'pad = "../'), "locaties.csv")
    _refused(["score", str(cfg), "--out", str(world / "uitvoer")], world, cfg)


def test_demo_out_at_a_file_is_refused(tmp_path):
    target = tmp_path / "demo.txt"
    target.write_text("niet overschrijven", encoding="utf-8")
    message = _refused(["demo", "--out", str(target / "demo")], tmp_path, target)
    assert "ligt onder het bestand" in message


def test_kaarten_out_at_a_run_file_is_refused(run_dir):
    _refused(["kaarten", str(run_dir), "--out", str(run_dir / "locaties.gpkg" / "kaarten")], run_dir.parent, run_dir / "locaties.gpkg")


def test_rapport_out_at_a_run_file_is_refused(run_dir):
    _refused(["rapport", str(run_dir), "--out", str(run_dir / "run.json" / "rapport")], run_dir.parent, run_dir / "run.json")


def test_capaciteit_demand_table_named_like_an_output_is_refused(run_dir, tmp_path):
    table = tmp_path / "capaciteit_gemeenten.csv"
    table.write_text("gemeente;short_stay\nVenlo;10\n", encoding="utf-8")
    _refused(["capaciteit", str(run_dir), "--behoefte", str(table), "--out", str(tmp_path)], tmp_path, table)


def test_vergelijk_out_in_a_run_file_is_refused(run_dir):
    _refused(["vergelijk", str(run_dir), str(run_dir), "--out", str(run_dir / "locaties.csv" / "x")], run_dir.parent,
             run_dir / "locaties.csv")


def test_raster_out_at_an_input_is_refused(world):
    _refused(["raster", str(world / "config.toml"), "--out", str(world / "parken.geojson" / "raster")], world, world / "parken.geojson")


def test_bedrijfslocatie_plan_named_like_an_output_is_refused(world):
    plan = gpd.GeoDataFrame({"naam": ["DC"]}, geometry=[box(200_000, 380_000, 200_300, 380_300)], crs=28992)
    plan.to_file(world / "bedrijfslocatie.gpkg")
    _refused(["bedrijfslocatie", str(world / "config.toml"), "--locatie", str(world / "bedrijfslocatie.gpkg"), "--out", str(world)],
             world, world / "bedrijfslocatie.gpkg")


def test_data_endpoints_file_named_like_an_output_is_refused(tmp_path):
    # refused before any request: 'data ophalen' would write config.toml over its own endpoints file
    endpoints = tmp_path / "config.toml"
    endpoints.write_text((REPO / "layers" / "endpoints.toml").read_text(encoding="utf-8"), encoding="utf-8")
    before = _snapshot(tmp_path)
    result = CliRunner().invoke(main, ["data", "ophalen", "--gebied", "Venlo", "--out", str(tmp_path), "--endpoints", str(endpoints),
                                       "--voortgang", "geen"])
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
    result = CliRunner().invoke(main, ["score", str(cfg), "--out", str(world), "--voortgang", "geen"])
    assert result.exit_code == 0, result.output
    after = _snapshot(world)
    assert {k: v for k, v in after.items() if k in before} == before
    assert {"locaties.gpkg", "locaties.csv", "run.json"} <= set(after) - set(before)
