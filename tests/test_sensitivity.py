"""Sensitivity of a rule parameter (``locatietoets gevoeligheid``) and the rescoring behind it."""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path
import sqlite3

from click.testing import CliRunner
import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point, Polygon, box

from locatietoets.analysis import steps as run_steps
from locatietoets.analysis.errors import ConfigError
from locatietoets.analysis.pipeline import STEP_PARAMETERS, Rescorer, score_sites
from locatietoets.layers.io.config import load_config
from locatietoets.layers.io.config_writer import write_config
from locatietoets.scripts.planning import gevoeligheid
from locatietoets.scripts.runner.prepare import prepare
from locatietoets.scripts.runner.sensitivity import parse_values

X0, Y0 = 100_000.0, 400_000.0


def _world(folder: Path) -> Path:
    """BBG: the square 1000..2000 m (x and y) of a 3 x 3 km world with two gemeenten (west and east
    of x = 1500). Mid-stay sites, judged on their distance to BBG:

    * ``binnen``: inside, 1500/1500;
    * ``rand180``: a point 180 m west of BBG (x = 820): rand from 180 m on;
    * ``vlak120``: a polygon with a hole, 120 m east of BBG (x 2120..2170): rand from 120 m on;
    * ``ver``: a point 400 m south of BBG: buiten for every value below 400;
    * ``leeg``: no geometry: no verdict for any value.
    """
    folder.mkdir(parents=True, exist_ok=True)
    gem = gpd.GeoDataFrame(
        {"gemnaam": ["Westdorp", "Oostdorp"], "gemcode": ["GM9991", "GM9992"]},
        geometry=[box(X0, Y0, X0 + 1500, Y0 + 3000), box(X0 + 1500, Y0, X0 + 3000, Y0 + 3000)],
        crs=28992,
    )
    bbg = gpd.GeoDataFrame(geometry=[box(X0 + 1000, Y0 + 1000, X0 + 2000, Y0 + 2000)], crs=28992)
    shell = [(X0 + 2120, Y0 + 1400), (X0 + 2170, Y0 + 1400), (X0 + 2170, Y0 + 1450)]
    shell += [(X0 + 2120, Y0 + 1450)]
    hole = [(X0 + 2140, Y0 + 1420), (X0 + 2150, Y0 + 1420), (X0 + 2150, Y0 + 1430)]
    hole += [(X0 + 2140, Y0 + 1430)]
    sites = gpd.GeoDataFrame(
        {
            "id": ["binnen", "rand180", "vlak120", "ver", "leeg"],
            "type": ["mid_stay"] * 5,
            "personen": [4.0, 4.0, 4.0, 4.0, 4.0],
        },
        geometry=[
            Point(X0 + 1500, Y0 + 1500),
            Point(X0 + 820, Y0 + 1500),
            Polygon(shell, [hole]),
            Point(X0 + 1500, Y0 + 600),
            None,
        ],
        crs=28992,
    )
    for frame, name in ((gem, "gemeenten"), (bbg, "bbg"), (sites, "locaties")):
        frame.to_file(folder / f"{name}.gpkg", driver="GPKG", engine="pyogrio")
    return write_config(
        folder / "config.toml",
        {
            "locaties": {
                "pad": "locaties.gpkg",
                "id_veld": "id",
                "verblijfstype_veld": "type",
                "personen_veld": "personen",
            },
            "bebouwd_gebied": {"pad": "bbg.gpkg"},
            "gemeenten": {"pad": "gemeenten.gpkg", "naam_veld": "gemnaam", "code_veld": "gemcode"},
        },
    )


def test_gevoeligheid_by_hand(tmp_path):
    config = _world(tmp_path / "wereld")
    out = tmp_path / "uit"
    result = CliRunner().invoke(
        gevoeligheid,
        [str(config), "--parameter", "bbg_rand_m", "--waarden", "100,150,200,250"]
        + ["--out", str(out), "--voortgang", "geen"],
    )
    assert result.exit_code == 0, result.output
    counts = pd.read_csv(out / "gevoeligheid.csv")
    total = counts[(counts["gemeente"] == "Totaal") & (counts["verblijfstype"] == "mid_stay")]
    total = total.set_index("waarde")
    # 100: only 'binnen' is inside or in the rand; 150: + vlak120; 200 and 250: + rand180
    assert total["ongeschikt"].to_dict() == {100.0: 3, 150.0: 2, 200.0: 1, 250.0: 1}
    assert (total["geen_oordeel"] == 1).all()
    assert (
        total[["geschikt", "voorwaardelijk", "ongeschikt", "geen_oordeel"]].sum(axis=1) == 5
    ).all()
    # per gemeente: rand180 lies in Westdorp, vlak120 in Oostdorp
    west = counts[
        (counts["gemeente"] == "Westdorp") & (counts["verblijfstype"] == "mid_stay")
    ].set_index("waarde")
    assert west["ongeschikt"].to_dict() == {100.0: 2, 150.0: 2, 200.0: 1, 250.0: 1}
    changed = pyogrio.read_dataframe(out / "gevoeligheid.gpkg", layer="gewijzigde_locaties")
    pairs = sorted(zip(changed["locatie_id"], changed["van_waarde"], changed["naar_waarde"]))
    assert pairs == [("rand180", 150.0, 200.0), ("vlak120", 100.0, 150.0)]
    row = changed.set_index("locatie_id").loc["rand180"]
    assert row["oordeel_mid_stay_van"] == "ongeschikt"
    assert row["oordeel_mid_stay_naar"] != "ongeschikt"
    assert row["richting"] == "soepeler"
    assert row["wijziging"].startswith("150 → 200 m: mid-stay ongeschikt → ")
    assert changed.geometry.iloc[0] is not None
    with sqlite3.connect(out / "gevoeligheid.gpkg") as con:
        qml = con.execute(
            "SELECT styleQML FROM layer_styles WHERE f_table_name = 'gewijzigde_locaties'"
        ).fetchone()[0]
    assert 'attr="richting"' in qml and "Wijziging" in qml
    record = json.loads((out / "gevoeligheid.json").read_text(encoding="utf-8"))
    assert record["gewijzigd"] == {"100 → 150": 1, "150 → 200": 1, "200 → 250": 0}
    assert record["parameter"]["stappen_opnieuw"] == ["bbg", "oordeel"]
    assert (out / "gevoeligheid.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "parameter, value",
    [("bbg_rand_m", 180.0), ("max_termijn_jaar", 3.0), ("bbg_binnen_aandeel", 0.6)],
)
def test_rescoring_equals_a_full_scoring(tmp_path, parameter, value):
    prepared = prepare(load_config(_world(tmp_path / "wereld")))
    rescorer = Rescorer(prepared.inputs, network_mode=prepared.network_mode)
    rescorer.score(prepared.ruleset)
    changed = prepared.ruleset.with_overrides({parameter: value}, where="test")
    again = rescorer.score(changed, changed={parameter})
    full = score_sites(prepared.inputs, changed, network_mode=prepared.network_mode)
    pd.testing.assert_frame_equal(again.results, full.results)
    assert again.summary["telling"] == full.summary["telling"]


@pytest.mark.parametrize(
    "parameter, value", [("afstand_gevel_kom_m", 400.0), ("reistijd_max_fiets_min", 8.0)]
)
def test_rescoring_equals_a_full_scoring_with_odour_and_network(tmp_path, parameter, value):
    from locatietoets.layers.worlds.demo import write_demo

    config = load_config(write_demo(tmp_path / "demo", n_sites=400))
    prepared = prepare(config, network_cache_dir=tmp_path / "cache")
    assert prepared.network is not None and prepared.inputs.contours is not None
    rescorer = Rescorer(prepared.inputs, network_mode=prepared.network_mode)
    first = rescorer.score(prepared.ruleset)
    changed = prepared.ruleset.with_overrides({parameter: value}, where="test")
    again = rescorer.score(changed, changed={parameter})
    full = score_sites(prepared.inputs, changed, network_mode=prepared.network_mode)
    pd.testing.assert_frame_equal(again.results, full.results)
    assert not again.results.equals(first.results)  # the parameter matters here


def test_step_parameters_name_every_parameter_a_step_reads():
    """Every params["x"] / ruleset.value("x") in a step function is listed for that step, so the
    rescoring re-runs a step whenever a parameter it reads changes."""
    steps = {
        "bbg": [run_steps.position_vs_bbg],
        "woonnormen": [run_steps.housing_norms_and_capacity],
        "geur": [run_steps.odour, run_steps.odour_norm],
        "reis": [run_steps.travel],
        "recreatie": [run_steps.recreation_parks],
        "beperkingen": [run_steps.constraints, run_steps.yard],
        "voorzieningen": [run_steps.facilities],
        "concentratie": [run_steps.concentration],
    }
    for step, functions in steps.items():
        read = set()
        for function in functions:
            for node in ast.walk(ast.parse(inspect.getsource(function).lstrip())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    if node.value in pipeline_parameters():
                        read.add(node.value)
        if step == "reis":
            read |= {f"reistijd_max_{m}_min" for m in ("auto", "fiets", "lopen")}
        assert read <= set(STEP_PARAMETERS.get(step, ())), step


def pipeline_parameters() -> set[str]:
    from locatietoets.layers.io.rules import read_ruleset_file

    return set(read_ruleset_file(None).parameters)


def test_parse_values():
    assert parse_values("100,150, 200") == [100.0, 150.0, 200.0]
    assert parse_values("0,5;0,75") == [0.5, 0.75]
    for bad in ("100", "100,honderd", "100,100"):
        with pytest.raises(ConfigError):
            parse_values(bad)


def test_gevoeligheid_unknown_or_textual_parameter_is_a_dutch_error(tmp_path):
    config = _world(tmp_path / "wereld")
    for parameter, text in (("bbg_rand", "bbg_rand_m"), ("concentratiegebied", "getal")):
        result = CliRunner().invoke(
            gevoeligheid,
            [str(config), "--parameter", parameter, "--waarden", "1,2"]
            + ["--out", str(tmp_path / "uit"), "--voortgang", "geen"],
        )
        assert result.exit_code == 2
        assert text in result.output and "Traceback" not in result.output
    assert not (tmp_path / "uit" / "gevoeligheid.csv").exists()
