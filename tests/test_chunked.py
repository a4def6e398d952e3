"""The chunked engine (run_config with more sites than block_size) writes exactly the outputs of one
pass."""

from __future__ import annotations

import json
from pathlib import Path
import sqlite3

import geopandas as gpd
from geopandas.testing import assert_geodataframe_equal
import pyogrio
import pytest

from locatietoets.layers.io.config import load_config
from locatietoets.layers.worlds.demo import write_demo
from locatietoets.scripts.runner.score import run_config

BLOCK = 700


def _comparable(record: dict) -> dict:
    """run.json without times and dates."""
    out = {k: v for k, v in record.items() if k not in ("tijden_s", "gestart", "beeindigd")}
    out["stappen"] = {
        k: {f: x for f, x in v.items() if f != "seconden"} for k, v in record["stappen"].items()
    }
    return out


def _assert_same_outputs(one: Path, blocks: Path, n: int) -> None:
    assert (blocks / "locaties.csv").read_bytes() == (one / "locaties.csv").read_bytes()
    a = gpd.read_file(one / "locaties.gpkg", layer="locaties", engine="pyogrio")
    b = gpd.read_file(blocks / "locaties.gpkg", layer="locaties", engine="pyogrio")
    assert len(a) == n
    assert_geodataframe_equal(b, a)
    info_a = pyogrio.read_info(one / "locaties.gpkg", layer="locaties")
    info_b = pyogrio.read_info(blocks / "locaties.gpkg", layer="locaties")
    assert info_b["geometry_type"] == info_a["geometry_type"]
    assert list(info_b["fields"]) == list(info_a["fields"]) and list(info_b["dtypes"]) == list(
        info_a["dtypes"]
    )
    styles = []
    for path in (one, blocks):
        con = sqlite3.connect(path / "locaties.gpkg")
        try:
            styles.append(
                con.execute(
                    "SELECT f_table_name, f_geometry_column, styleName, styleQML, useAsDefault FROM"
                    " layer_styles"
                ).fetchall()
            )
            assert (
                con.execute("SELECT count(*) FROM rtree_locaties_geom").fetchone()[0]
                == con.execute("SELECT count(*) FROM locaties WHERE geom IS NOT NULL").fetchone()[0]
            )
        finally:
            con.close()
    assert styles[1] == styles[0] and len(styles[0]) == 1
    ra = json.loads((one / "run.json").read_text(encoding="utf-8"))
    rb = json.loads((blocks / "run.json").read_text(encoding="utf-8"))
    assert _comparable(rb) == _comparable(ra)
    assert (blocks / "referentie.gpkg").is_file()


def _runs(root: Path, config_path: Path, n: int) -> tuple[Path, Path]:
    config = load_config(config_path)
    cache = root / "cache"
    one = run_config(config, root / "enkel", network_cache_dir=cache, block_size=0)
    blocks = run_config(config, root / "blokken", network_cache_dir=cache, block_size=BLOCK)
    assert len(one.result.results) == n
    assert list(blocks.result.results.columns) == list(one.result.results.columns)
    return root / "enkel", root / "blokken"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo(tmp_path_factory.mktemp("blok-demo") / "demo", n_sites=3000)


def test_demo_in_blocks_equals_one_pass(demo: Path, tmp_path: Path) -> None:
    one, blocks = _runs(tmp_path, demo, 3000)
    _assert_same_outputs(one, blocks, 3000)


def _edited_demo(demo: Path, root: Path, edit) -> Path:
    """A copy of the demo config whose site layer is changed by ``edit(frame)``."""
    import shutil

    target = root / "demo"
    shutil.copytree(demo.parent, target)
    path = target / "invoer" / "locaties.gpkg"
    sites = gpd.read_file(path, engine="pyogrio")
    sites = edit(sites)
    path.unlink()
    sites.to_file(path, layer="locaties", driver="GPKG", engine="pyogrio")
    return target / demo.name


def test_own_employers_in_some_blocks_only(demo: Path, tmp_path: Path) -> None:
    def edit(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        keep = sites.index.isin(
            range(2 * BLOCK, 3 * BLOCK)
        )  # only the third block has own employers
        sites.loc[~keep, "beoogde_werkgever"] = None
        assert sites.loc[keep, "beoogde_werkgever"].notna().any()
        return sites

    config = _edited_demo(demo, tmp_path, edit)
    one, blocks = _runs(tmp_path, config, 3000)
    _assert_same_outputs(one, blocks, 3000)
    header = (blocks / "locaties.csv").read_text(encoding="utf-8").split("\n", 1)[0].split(",")
    assert "eigen_werkgever_reistijd_min" in header


def test_no_own_employer_at_all(demo: Path, tmp_path: Path) -> None:
    def edit(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        sites["beoogde_werkgever"] = None
        return sites

    config = _edited_demo(demo, tmp_path, edit)
    one, blocks = _runs(tmp_path, config, 3000)
    _assert_same_outputs(one, blocks, 3000)
    header = (blocks / "locaties.csv").read_text(encoding="utf-8").split("\n", 1)[0].split(",")
    assert "eigen_werkgever_reistijd_min" not in header


def test_sites_without_geometry_in_later_blocks(demo: Path, tmp_path: Path) -> None:
    def edit(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        rows = [BLOCK * 3 + 5, BLOCK * 4 + 1, 2999]
        sites.loc[rows, "geometry"] = None
        return sites

    config = _edited_demo(demo, tmp_path, edit)
    one, blocks = _runs(tmp_path, config, 3000)
    _assert_same_outputs(one, blocks, 3000)
    b = gpd.read_file(blocks / "locaties.gpkg", layer="locaties", engine="pyogrio")
    assert b.geometry.isna().sum() == 3


def test_block_without_any_geometry(demo: Path, tmp_path: Path) -> None:
    def edit(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        sites.loc[list(range(2800, 3000)), "geometry"] = (
            None  # the whole last block (2800..2999 with blocks of 700)
        )
        return sites

    config = _edited_demo(demo, tmp_path, edit)
    one, blocks = _runs(tmp_path, config, 3000)
    _assert_same_outputs(one, blocks, 3000)


def test_small_runs_are_not_chunked(demo: Path, tmp_path: Path) -> None:
    outcome = run_config(
        load_config(demo), tmp_path / "uit", network_cache_dir=tmp_path / "cache", block_size=5000
    )
    assert len(outcome.result.results) == 3000


def test_input_field_equal_to_a_result_field_in_early_blocks_only(
    demo: Path, tmp_path: Path
) -> None:
    """An input column named like a result field is kept (renamed) in every block, as in one
    pass."""
    mode = load_config(demo).layer("wegennet").get("modus", "auto")

    def edit(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        sites["reismodus"] = mode
        sites.loc[2500:, "reismodus"] = "anders"
        return sites

    config = _edited_demo(demo, tmp_path, edit)
    one, blocks = _runs(tmp_path, config, 3000)
    _assert_same_outputs(one, blocks, 3000)
    header = (blocks / "locaties.csv").read_text(encoding="utf-8").split("\n", 1)[0].split(",")
    assert "reismodus_invoer" in header and "reismodus" in header
    record = json.loads((blocks / "run.json").read_text(encoding="utf-8"))
    assert any("reismodus → reismodus_invoer" in w for w in record["waarschuwingen"])


def test_cancelled_chunked_run_writes_nothing(demo: Path, tmp_path: Path) -> None:
    from locatietoets.analysis.errors import CancelledError

    calls = {"n": 0}

    def is_cancelled() -> bool:  # stops in the second block, after the first was written
        calls["n"] += 1
        return calls["n"] > 10

    out = tmp_path / "uit"
    with pytest.raises(CancelledError):
        run_config(
            load_config(demo),
            out,
            network_cache_dir=tmp_path / "cache",
            block_size=BLOCK,
            is_cancelled=is_cancelled,
        )
    assert not out.exists() or not any(out.iterdir())


def test_polygon_sites_in_blocks(demo: Path, tmp_path: Path) -> None:
    """Only polygon sites: the layer is MultiPolygon (promoted per block as in one pass)."""

    def edit(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        return sites[sites.geom_type == "Polygon"].reset_index(drop=True)

    config = _edited_demo(demo, tmp_path, edit)
    n = len(gpd.read_file(config.parent / "invoer" / "locaties.gpkg", engine="pyogrio"))
    assert n > BLOCK / 2
    config_obj = load_config(config)
    one = run_config(
        config_obj, tmp_path / "enkel", network_cache_dir=tmp_path / "cache", block_size=0
    )
    run_config(
        config_obj, tmp_path / "blokken", network_cache_dir=tmp_path / "cache", block_size=200
    )
    assert len(one.result.results) == n
    _assert_same_outputs(tmp_path / "enkel", tmp_path / "blokken", n)
    assert (
        pyogrio.read_info(tmp_path / "blokken" / "locaties.gpkg", layer="locaties")["geometry_type"]
        == "MultiPolygon"
    )


def test_cli_blok_option_gives_the_same_csv(tmp_path):
    """`locatietoets score --blok N` writes the same locaties.csv as one block."""
    from click.testing import CliRunner

    from locatietoets.layers.worlds.demo import write_demo
    from locatietoets.scripts.cli import main

    config = write_demo(tmp_path, n_sites=600)
    runner = CliRunner()
    whole = runner.invoke(
        main,
        [
            "score",
            str(config),
            "--out",
            str(tmp_path / "heel"),
            "--blok",
            "0",
            "--voortgang",
            "geen",
        ],
    )
    blocks = runner.invoke(
        main,
        [
            "score",
            str(config),
            "--out",
            str(tmp_path / "blok"),
            "--blok",
            "150",
            "--voortgang",
            "geen",
        ],
    )
    assert whole.exit_code == 0 and blocks.exit_code == 0, (whole.output, blocks.output)
    assert (tmp_path / "heel" / "locaties.csv").read_bytes() == (
        tmp_path / "blok" / "locaties.csv"
    ).read_bytes()
