"""The dask engine gives exactly the outputs of the single-process engine."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
from geopandas.testing import assert_geodataframe_equal
import numpy as np
import pandas as pd
import pytest

pytest.importorskip("dask_geopandas")
pytest.importorskip("distributed")

from locatietoets.analysis.pipeline import RunResult  # noqa: E402
from locatietoets.analysis.ruleset import STAY_TYPES  # noqa: E402
from locatietoets.layers.io.config import load_config  # noqa: E402
from locatietoets.layers.worlds.demo import write_demo  # noqa: E402
from locatietoets.scripts.runner.distributed import _combine, run_config_dask  # noqa: E402
from locatietoets.scripts.runner.score import run_config  # noqa: E402


def _comparable(record: dict) -> dict:
    """run.json without times and dates."""
    out = {k: v for k, v in record.items() if k not in ("tijden_s", "gestart", "beeindigd")}
    out["stappen"] = {
        k: {f: x for f, x in v.items() if f != "seconden"} for k, v in record["stappen"].items()
    }
    return out


@pytest.fixture(scope="module")
def both_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("dask")
    config = load_config(write_demo(root / "demo", n_sites=1500))
    cache = root / "cache"
    single = root / "enkel"
    dask = root / "dask"
    one = run_config(config, single, network_cache_dir=cache)
    spread = run_config_dask(config, dask, n_workers=2, network_cache_dir=cache, npartitions=3)
    pd.testing.assert_frame_equal(spread.result.results, one.result.results, check_exact=True)
    return single, dask


def test_csv_is_byte_identical(both_runs: tuple[Path, Path]) -> None:
    single, dask = both_runs
    assert (dask / "locaties.csv").read_bytes() == (single / "locaties.csv").read_bytes()


def test_geopackage_layers_are_equal(both_runs: tuple[Path, Path]) -> None:
    single, dask = both_runs
    a = gpd.read_file(single / "locaties.gpkg", layer="locaties", engine="pyogrio")
    b = gpd.read_file(dask / "locaties.gpkg", layer="locaties", engine="pyogrio")
    assert len(a) == 1500
    assert_geodataframe_equal(b, a)


def test_run_record_counts_are_equal(both_runs: tuple[Path, Path]) -> None:
    single, dask = both_runs
    a = json.loads((single / "run.json").read_text(encoding="utf-8"))
    b = json.loads((dask / "run.json").read_text(encoding="utf-8"))
    assert _comparable(b) == _comparable(a)


def test_partition_without_optional_fields_gets_their_empty_values() -> None:
    full = pd.DataFrame(
        {
            "locatie_id": ["1"],
            "eigen_werkgever": ["A"],
            "eigen_werkgever_reistijd_min": [4.0],
            "werkgevers_bereikbaar": pd.array([2], dtype="Int64"),
        }
    )
    lacking = pd.DataFrame(
        {"locatie_id": ["2"], "werkgevers_bereikbaar": pd.array([0], dtype="Int64")}
    )

    class Rules:
        rules: list = []

    parts = [
        RunResult(results=lacking, summary={"telling": {s: {"geschikt": 1} for s in STAY_TYPES}}),
        RunResult(results=full, summary={"telling": {s: {"geschikt": 0} for s in STAY_TYPES}}),
    ]
    combined = _combine(parts, Rules())
    assert list(combined.results.columns) == [
        "locatie_id",
        "werkgevers_bereikbaar",
        "eigen_werkgever",
        "eigen_werkgever_reistijd_min",
    ]
    # empty where the partition lacked the field; text dtype as one pass over both sites gives
    text = combined.results["eigen_werkgever"]
    assert text.isna().tolist() == [True, False] and text.iloc[1] == "A"
    assert text.dtype == full["eigen_werkgever"].dtype
    assert np.isnan(combined.results["eigen_werkgever_reistijd_min"].iloc[0])
    assert combined.summary["telling"]["short_stay"]["geschikt"] == 1


def test_dask_block_by_block_equals_one_pass(
    both_runs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, gpkg_writer_modes: list
) -> None:
    """--engine dask with more sites than the block size: the client reads the sites block by
    block from file, the workers score them, the client writes them in order; same outputs.

    Without a block size the dask engine's own default applies (not the single-process one):
    set to 400 here, the 1,500 sites are streamed in blocks. This process does not score, so GDAL
    writes the GeoPackage in a thread of it, not in a writer process of its own (memory)."""
    import hashlib

    from locatietoets.scripts.runner import distributed

    monkeypatch.setattr(distributed, "DEFAULT_DASK_BLOCK_SIZE", 400)
    single, _ = both_runs
    root = single.parent
    out = root / "dask-blokken"
    outcome = run_config_dask(
        load_config(next((root / "demo").glob("*.toml"))),
        out,
        n_workers=2,
        network_cache_dir=root / "cache",
    )
    assert outcome.record["locaties"] == 1500 and len(outcome.result.results) == 0
    assert gpkg_writer_modes == [False]
    digest = [hashlib.sha256((p / "locaties.csv").read_bytes()).hexdigest() for p in (single, out)]
    assert digest[1] == digest[0]
    a = gpd.read_file(single / "locaties.gpkg", layer="locaties", engine="pyogrio")
    b = gpd.read_file(out / "locaties.gpkg", layer="locaties", engine="pyogrio")
    assert_geodataframe_equal(b, a)
    ra = json.loads((single / "run.json").read_text(encoding="utf-8"))
    rb = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert _comparable(rb) == _comparable(ra)


def test_cli_engine_dask_gives_the_same_csv(tmp_path):
    """`locatietoets score --engine dask` writes the same locaties.csv as the default engine."""
    from click.testing import CliRunner

    from locatietoets.layers.worlds.demo import write_demo
    from locatietoets.scripts.cli import main

    config = write_demo(tmp_path, n_sites=200)
    runner = CliRunner()
    local = runner.invoke(
        main, ["score", str(config), "--out", str(tmp_path / "lokaal"), "--voortgang", "geen"]
    )
    dask = runner.invoke(
        main,
        [
            "score",
            str(config),
            "--out",
            str(tmp_path / "dask"),
            "--engine",
            "dask",
            "--werkers",
            "2",
            "--voortgang",
            "geen",
        ],
    )
    assert local.exit_code == 0 and dask.exit_code == 0, (local.output, dask.output)
    assert (tmp_path / "lokaal" / "locaties.csv").read_bytes() == (
        tmp_path / "dask" / "locaties.csv"
    ).read_bytes()
