"""Planning analyses: capaciteit, vergelijk, raster, bedrijfslocatie.

Every expected number below follows from the coordinates and values built in
this file with pencil and paper; the last tests run on the real Limburg
gemeenten in ../shared/data (skipped when absent).
"""

from __future__ import annotations

import json
from pathlib import Path
import shutil

from click.testing import CliRunner
from fixtures import flat
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from shapely.geometry import Point, box

from locatietoets.analysis.errors import InputError
from locatietoets.analysis.planning.business import plan_demand
from locatietoets.analysis.planning.capacity import capacity_balance, match_gemeenten
from locatietoets.analysis.planning.comparison import compare_runs
from locatietoets.analysis.planning.grid import grid_over_area, verdict_codes
from locatietoets.layers.io.config import load_config
from locatietoets.layers.io.config_writer import write_config
from locatietoets.layers.publish.style import VERDICT_COLOURS
from locatietoets.scripts.planning import bedrijfslocatie, capaciteit, raster, vergelijk
from locatietoets.scripts.runner.score import run_config

STAYS = ("short_stay", "mid_stay", "long_stay")
X0, Y0 = 100_000.0, 400_000.0  # south-west corner of the test world (RD New)


def _write(frame: gpd.GeoDataFrame, path: Path) -> Path:
    frame.to_file(path, driver="GPKG", engine="pyogrio")
    return path


def _world(
    folder: Path,
    sites: gpd.GeoDataFrame,
    *,
    rules: dict | None = None,
    extra: dict[str, dict] | None = None,
) -> Path:
    """A 3 x 3 km world: two gemeenten (west/east), a 1 x 1 km BBG square in the middle."""
    folder.mkdir(parents=True, exist_ok=True)
    gem = gpd.GeoDataFrame(
        {
            "gemnaam": ["Westdorp", "Oostdorp"],
            "gemcode": ["GM9991", "GM9992"],
            "regio": ["Regio Noord", "Regio Noord"],
        },
        geometry=[box(X0, Y0, X0 + 1500, Y0 + 3000), box(X0 + 1500, Y0, X0 + 3000, Y0 + 3000)],
        crs=28992,
    )
    bbg = gpd.GeoDataFrame(geometry=[box(X0 + 1000, Y0 + 1000, X0 + 2000, Y0 + 2000)], crs=28992)
    _write(gem, folder / "gemeenten.gpkg")
    _write(bbg, folder / "bbg.gpkg")
    _write(sites, folder / "locaties.gpkg")
    return write_config(
        folder / "config.toml",
        {
            "locaties": {
                "pad": "locaties.gpkg",
                "id_veld": "id",
                "verblijfstype_veld": "type",
                "personen_veld": "personen",
                "slaapkamers_veld": "slaapkamers",
                "woonoppervlak_veld": "opp",
            },
            "bebouwd_gebied": {"pad": "bbg.gpkg"},
            "gemeenten": {"pad": "gemeenten.gpkg", "naam_veld": "gemnaam", "code_veld": "gemcode"},
            **(extra or {}),
        },
        regels=rules,
    )


def _sites(rows: list[tuple[str, str, float, float, float]]) -> gpd.GeoDataFrame:
    """Sites (id, type, x offset, y offset, persons); 1 bedroom and 15 m² per person, so capacity =
    persons."""
    return gpd.GeoDataFrame(
        {
            "id": [r[0] for r in rows],
            "type": [r[1] for r in rows],
            "personen": [r[4] for r in rows],
            "slaapkamers": [r[4] for r in rows],
            "opp": [15.0 * r[4] for r in rows],
        },
        geometry=[Point(X0 + r[2], Y0 + r[3]) for r in rows],
        crs=28992,
    )


def _score(config: Path, out: Path) -> Path:
    run_config(load_config(config), out)
    return out


# ---------------------------------------------------------------------------
# capaciteit
# ---------------------------------------------------------------------------


def _balance_fixture():
    gemeenten = pd.DataFrame(
        {
            "naam": ["Aadorp", "Beedorp", "Ceedorp"],
            "code": ["GM0001", "GM0002", "GM0003"],
            "regio": ["Noord", "Noord", "Zuid"],
        }
    )
    sites = pd.DataFrame(
        {
            "gemeente": ["Aadorp", "Aadorp", "Aadorp", "Beedorp", "Beedorp", "Ceedorp", None],
            "gemeente_code": ["GM0001", "GM0001", "GM0001", "GM0002", "GM0002", "GM0003", None],
            "verblijfstype": [
                "short_stay",
                "short_stay",
                "long_stay",
                "short_stay",
                "long_stay",
                "short_stay",
                "short_stay",
            ],
            "capaciteit_personen": [40.0, 25.0, 10.0, 30.0, np.nan, 50.0, 99.0],
            "oordeel_short_stay": [
                "geschikt",
                "voorwaardelijk",
                "geschikt",
                "geschikt",
                "geschikt",
                "ongeschikt",
                "geschikt",
            ],
            "oordeel_mid_stay": ["geschikt"] * 7,
            "oordeel_long_stay": [
                "geschikt",
                "ongeschikt",
                "voorwaardelijk",
                "ongeschikt",
                "geschikt",
                "ongeschikt",
                "geschikt",
            ],
        }
    )
    demand = pd.DataFrame(
        {"gemeente": ["Aadorp", "gm0002"], "short_stay": [100.0, 20.0], "long_stay": [5.0, 0.0]}
    )
    demand["positie"] = match_gemeenten(
        demand["gemeente"], names=gemeenten["naam"], codes=gemeenten["code"]
    )
    return sites, demand, gemeenten


def test_capacity_balance_by_hand():
    sites, demand, gemeenten = _balance_fixture()
    bal = capacity_balance(sites, demand, gemeenten, basis="beoogd")
    g = bal.gemeenten.set_index("naam")
    # Aadorp short-stay: geschikt 40, voorwaardelijk 25 (own type short_stay); demand 100 → saldo
    # -60, tekort 60
    assert g.loc["Aadorp", "capaciteit_geschikt_short_stay"] == 40
    assert g.loc["Aadorp", "capaciteit_voorwaardelijk_short_stay"] == 25
    assert g.loc["Aadorp", "saldo_short_stay"] == -60
    assert g.loc["Aadorp", "saldo_incl_voorwaardelijk_short_stay"] == -35
    assert g.loc["Aadorp", "tekort_short_stay"] == 60
    # Aadorp long-stay: the long_stay site (10) is voorwaardelijk for long-stay → geschikt 0, demand
    # 5 → tekort 5
    assert g.loc["Aadorp", "capaciteit_voorwaardelijk_long_stay"] == 10
    assert g.loc["Aadorp", "tekort_long_stay"] == 5
    assert g.loc["Aadorp", "tekort_totaal"] == 65
    assert g.loc["Aadorp", "tekort_incl_voorwaardelijk_totaal"] == 35 + 0  # long-stay: 10 - 5 ≥ 0
    # mid-stay was not in the table: NaN demand, NaN saldo
    assert np.isnan(g.loc["Aadorp", "behoefte_mid_stay"]) and np.isnan(
        g.loc["Aadorp", "saldo_mid_stay"]
    )
    # Beedorp: short-stay 30 against 20 → surplus 10; the long-stay site has no capacity → counted
    # as unknown
    assert g.loc["Beedorp", "saldo_short_stay"] == 10 and g.loc["Beedorp", "tekort_totaal"] == 0
    assert g.loc["Beedorp", "locaties_zonder_capaciteit"] == 1
    # Ceedorp: not in the table
    assert not g.loc["Ceedorp", "behoefte_opgegeven"] and np.isnan(
        g.loc["Ceedorp", "tekort_totaal"]
    )
    assert bal.outside == 1  # the site without a gemeente
    r = bal.regios.set_index("regio")
    assert (
        r.loc["Noord", "behoefte_short_stay"] == 120
        and r.loc["Noord", "capaciteit_geschikt_short_stay"] == 70
    )
    assert r.loc["Noord", "tekort_short_stay"] == 50 and r.loc["Noord", "gemeenten_met_tekort"] == 1
    assert r.loc["Zuid", "gemeenten_zonder_opgave"] == 1
    assert (
        r.loc["Totaal", "behoefte_totaal"] == 125
        and r.loc["Totaal", "capaciteit_geschikt_totaal"] == 70 + 0
    )


def test_capacity_basis_alle_counts_every_stay_type():
    sites, demand, gemeenten = _balance_fixture()
    bal = capacity_balance(sites, demand, gemeenten, basis="alle")
    g = bal.gemeenten.set_index("naam")
    # every Aadorp site for short-stay: geschikt 40 + 10, voorwaardelijk 25
    assert g.loc["Aadorp", "capaciteit_geschikt_short_stay"] == 50
    assert g.loc["Aadorp", "capaciteit_geschikt_mid_stay"] == 75


def test_capacity_counts_only_the_free_part_of_a_partly_affected_site():
    # Aadorp's voorwaardelijk short-stay site (25 persons) lies 40 % on a park that is ongeschikt
    # for
    # long-stay and voorwaardelijk (deels) for short-stay: for short-stay its whole capacity counts
    # (vrij 1), for long-stay only 60 % of it would (basis 'alle')
    sites, demand, gemeenten = _balance_fixture()
    sites["vrij_aandeel_short_stay"] = 1.0
    sites["vrij_aandeel_mid_stay"] = 1.0
    sites["vrij_aandeel_long_stay"] = 1.0
    sites.loc[1, "vrij_aandeel_long_stay"] = 0.6
    sites.loc[1, "oordeel_long_stay"] = "voorwaardelijk"
    sites.loc[0, "vrij_aandeel_short_stay"] = 0.5  # the 40-person site: half of it is free
    sites["vrij_aandeel"] = sites["vrij_aandeel_short_stay"].where(
        sites["verblijfstype"] == "short_stay", sites["vrij_aandeel_long_stay"]
    )
    g = capacity_balance(sites, demand, gemeenten, basis="alle").gemeenten.set_index("naam")
    assert g.loc["Aadorp", "capaciteit_geschikt_short_stay"] == 40 * 0.5 + 10
    assert g.loc["Aadorp", "capaciteit_voorwaardelijk_long_stay"] == 10 + 25 * 0.6
    g = capacity_balance(sites, demand, gemeenten, basis="beoogd").gemeenten.set_index("naam")
    assert g.loc["Aadorp", "capaciteit_geschikt_short_stay"] == 20
    assert g.loc["Aadorp", "capaciteit_voorwaardelijk_short_stay"] == 25


def test_unknown_gemeenten_are_listed_with_a_hint():
    with pytest.raises(InputError) as err:
        match_gemeenten(
            ["Aadrop", "GM0002", "Zeedorp", "beedorp"],
            names=["Aadorp", "Beedorp"],
            codes=["GM0001", "GM0002"],
        )
    text = str(err.value)
    assert (
        "2 onbekende gemeente(n)" in text
        and "'Aadrop' Bedoelde u 'Aadorp'?" in text
        and "'Zeedorp'" in text
    )
    assert "meer dan eens" in text  # GM0002 and 'beedorp' are the same gemeente


def test_capaciteit_command_end_to_end(tmp_path):
    # Westdorp: a 40-person short-stay site in BBG (geschikt), a 20-person one 100 m outside (rand →
    # voorwaardelijk
    # for short-stay too since issue 12: outside BBG only as a temporary exception), a 30-person
    # long-stay site
    # 100 m outside (rand → voorwaardelijk).
    # Oostdorp: 50 persons short-stay 700 m outside BBG (buiten → voorwaardelijk).
    sites = _sites(
        [
            ("w1", "short_stay", 1200, 1500, 40),
            ("w2", "short_stay", 900, 1500, 20),
            ("w3", "long_stay", 1500, 900, 30),
            ("o1", "short_stay", 2700, 1500, 50),
        ]
    )
    run = _score(_world(tmp_path / "w", sites), tmp_path / "run")
    table = tmp_path / "behoefte.csv"
    table.write_text(
        "gemeente;short_stay;long_stay\nWestdorp;100;10\nGM9992;20;0\n", encoding="utf-8"
    )
    res = CliRunner().invoke(
        capaciteit,
        [str(run), "--behoefte", str(table), "--out", str(tmp_path / "cap"), "--voortgang", "geen"],
    )
    assert res.exit_code == 0, res.output
    out = pd.read_csv(tmp_path / "cap" / "capaciteit_gemeenten.csv").set_index("naam")
    assert out.loc["Westdorp", "capaciteit_geschikt_short_stay"] == 40
    assert out.loc["Westdorp", "capaciteit_voorwaardelijk_short_stay"] == 20
    assert out.loc["Westdorp", "tekort_short_stay"] == 60
    assert out.loc["Westdorp", "capaciteit_voorwaardelijk_long_stay"] == 30
    assert out.loc["Westdorp", "tekort_long_stay"] == 10
    assert out.loc["Oostdorp", "capaciteit_voorwaardelijk_short_stay"] == 50
    assert out.loc["Oostdorp", "tekort_short_stay"] == 20
    assert out.loc["Oostdorp", "saldo_incl_voorwaardelijk_short_stay"] == 30
    regions = pd.read_csv(tmp_path / "cap" / "capaciteit_regios.csv").set_index("regio")
    assert (
        regions.loc["Regio Noord", "tekort_totaal"] == 90
        and regions.loc["Totaal", "behoefte_totaal"] == 130
    )
    layer = gpd.read_file(tmp_path / "cap" / "capaciteit.gpkg", layer="capaciteit_gemeenten")
    assert layer.crs.to_epsg() == 28992 and len(layer) == 2 and "tekort_totaal" in layer
    assert (tmp_path / "cap" / "capaciteit.png").stat().st_size > 10_000
    html = (tmp_path / "cap" / "capaciteit.html").read_text(encoding="utf-8")
    assert "Capaciteit tegenover behoefte" in html and "Westdorp" in html
    assert not list((tmp_path / "cap").glob(".locatietoets-bezig-*"))


def test_capaciteit_unknown_gemeente_is_a_dutch_error(tmp_path):
    run = _score(
        _world(tmp_path / "w", _sites([("w1", "short_stay", 1200, 1500, 10)])), tmp_path / "run"
    )
    table = tmp_path / "behoefte.csv"
    table.write_text("gemeente,short_stay\nWestdrop,10\n", encoding="utf-8")
    res = CliRunner().invoke(
        capaciteit,
        [str(run), "--behoefte", str(table), "--out", str(tmp_path / "cap"), "--voortgang", "geen"],
    )
    assert res.exit_code == 2
    assert "Bedoelde u 'Westdorp'?" in flat(res.output) and "Traceback" not in res.output
    assert not (tmp_path / "cap" / "capaciteit.gpkg").exists()


def test_capaciteit_help_documents_the_table():
    res = CliRunner().invoke(capaciteit, ["--help"])
    assert res.exit_code == 0
    assert "short_stay" in res.output and "GMxxxx" in res.output and "';'" in res.output


# ---------------------------------------------------------------------------
# vergelijk
# ---------------------------------------------------------------------------


def _two_runs(tmp_path: Path, *, sites_b: gpd.GeoDataFrame | None = None) -> tuple[Path, Path]:
    # short-stay sites west of the BBG square at 100, 200 and 300 m from its edge
    sites = _sites(
        [
            ("s100", "short_stay", 900, 1500, 10),
            ("s200", "short_stay", 800, 1500, 10),
            ("s300", "short_stay", 700, 1500, 10),
        ]
    )
    config_a = _world(tmp_path / "a", sites, rules={"bbg_rand_m": 250})
    config_b = _world(
        tmp_path / "b", sites if sites_b is None else sites_b, rules={"bbg_rand_m": 150}
    )
    if (
        sites_b is None
        # the very same locaties file (same checksum), as when one config is scored with two
        # rule sets
    ):
        shutil.copyfile(tmp_path / "a" / "locaties.gpkg", tmp_path / "b" / "locaties.gpkg")
    return _score(config_a, tmp_path / "run_a"), _score(config_b, tmp_path / "run_b")


def test_vergelijk_one_parameter_changes_exactly_one_site(tmp_path):
    run_a, run_b = _two_runs(tmp_path)
    res = CliRunner().invoke(
        vergelijk, [str(run_a), str(run_b), "--out", str(tmp_path / "v"), "--voortgang", "geen"]
    )
    assert res.exit_code == 0, res.output
    changed = gpd.read_file(tmp_path / "v" / "vergelijking.gpkg", layer="gewijzigde_locaties")
    # only the site at 200 m: rand (≤ 250) in A, buiten (> 150) in B
    assert changed["locatie_id"].tolist() == ["s200"]
    row = changed.iloc[0]
    # short-stay: voorwaardelijk at the rand and buiten alike (since issue 12); long-stay changes
    assert (row["oordeel_short_stay_a"], row["oordeel_short_stay_b"]) == (
        "voorwaardelijk",
        "voorwaardelijk",
    )
    assert (row["oordeel_long_stay_a"], row["oordeel_long_stay_b"]) == (
        "voorwaardelijk",
        "ongeschikt",
    )
    assert (
        row["regels_erbij_long_stay"] == "bbg.buiten"
        and row["regels_vervallen_long_stay"] == "bbg.rand"
    )
    assert "regel erbij bbg.buiten" in row["oorzaak"]
    summary = json.loads((tmp_path / "v" / "vergelijking.json").read_text(encoding="utf-8"))
    assert summary["parameters"] == [
        {
            "parameter": "bbg_rand_m",
            "waarde_a": "250",
            "waarde_b": "150",
            "herkomst_a": "config",
            "herkomst_b": "config",
        }
    ]
    assert summary["gemaskeerde_parameters"] == []  # same rule set: nothing for a config to hide
    assert summary["locaties_vergeleken"] == 3 and summary["locaties_gewijzigd"] == 1
    trans = pd.read_csv(tmp_path / "v" / "overgangen.csv")
    west = trans[
        (trans["gebied"] == "Westdorp") & (trans["verblijfstype"] == "long_stay")
    ].set_index(["van", "naar"])["aantal"]
    assert (
        west[("voorwaardelijk", "ongeschikt")] == 1
        and west[("ongeschikt", "ongeschikt")] == 1
        and west[("voorwaardelijk", "voorwaardelijk")] == 1
    )
    per_gem = pd.read_csv(tmp_path / "v" / "vergelijking_gemeenten.csv")
    assert (
        per_gem.set_index(["gebied", "verblijfstype"]).loc[("Westdorp", "long_stay"), "strenger"]
        == 1
    )
    assert "bbg_rand_m" in (tmp_path / "v" / "vergelijking.html").read_text(encoding="utf-8")


def test_vergelijk_rule_definition_change_is_named():
    base = {
        "oordeel": {
            "short_stay": "voorwaardelijk",
            "mid_stay": "ongeschikt",
            "long_stay": "ongeschikt",
        },
        "strafpunten": {},
        "soort": "oordeel",
    }
    strict = {**base, "oordeel": {**base["oordeel"], "short_stay": "ongeschikt"}}
    rec_a = {
        "regelset": {"parameters": {}, "regels": [{"id": "recreatiepark", **base}]},
        "invoer": {"locaties": {"sha256": "x"}},
    }
    rec_b = {
        "regelset": {"parameters": {}, "regels": [{"id": "recreatiepark", **strict}]},
        "invoer": {"locaties": {"sha256": "x"}},
    }
    frame = pd.DataFrame(
        {
            "locatie_id": ["p1", "p2"],
            "gemeente": ["G", "G"],
            "gemeente_code": ["GM1", "GM1"],
            **{f"regels_{s}": ["recreatiepark", ""] for s in STAYS},
            **{f"oordeel_{s}": ["ongeschikt", "geschikt"] for s in STAYS},
        }
    )
    a = frame.assign(oordeel_short_stay=["voorwaardelijk", "geschikt"])
    comp = compare_runs(a, frame, record_a=rec_a, record_b=rec_b)
    assert comp.changed["locatie_id"].tolist() == ["p1"]
    assert comp.changed.iloc[0]["regels_anders_short_stay"] == "recreatiepark"
    assert comp.rules.to_dict(orient="records") == [
        {
            "regel": "recreatiepark",
            "wat": "oordeel short-stay",
            "a": "voorwaardelijk",
            "b": "ongeschikt",
        }
    ]


def test_vergelijk_different_sites_says_so(tmp_path):
    other = _sites(
        [
            ("s100", "short_stay", 900, 1500, 10),
            ("s200", "short_stay", 800, 1500, 10),
            ("nieuw", "short_stay", 1500, 1500, 10),
        ]
    )
    run_a, run_b = _two_runs(tmp_path, sites_b=other)
    res = CliRunner().invoke(
        vergelijk, [str(run_a), str(run_b), "--out", str(tmp_path / "v"), "--voortgang", "geen"]
    )
    assert res.exit_code == 2 and "Traceback" not in res.output
    text = flat(res.output)
    assert (
        "niet op dezelfde locaties" in text
        and "1 locatie-id's alleen in A" in text
        and "--toch" in text
    )
    res = CliRunner().invoke(
        vergelijk,
        [str(run_a), str(run_b), "--toch", "--out", str(tmp_path / "v"), "--voortgang", "geen"],
    )
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "v" / "vergelijking.json").read_text(encoding="utf-8"))
    assert (
        summary["locaties_vergeleken"] == 2
        and summary["alleen_in_a"] == 1
        and summary["alleen_in_b"] == 1
    )
    assert any("Weggelaten" in n for n in summary["opmerkingen"])


def test_vergelijk_same_ids_other_input_file_is_an_error():
    frame = pd.DataFrame({"locatie_id": ["a"], **{f"oordeel_{s}": ["geschikt"] for s in STAYS}})
    rec = lambda sha: {"regelset": {}, "invoer": {"locaties": {"sha256": sha}}}  # noqa: E731
    with pytest.raises(InputError, match="invoerbestand van de locaties verschilt"):
        compare_runs(frame, frame, record_a=rec("aaa"), record_b=rec("bbb"))


def test_draft_revision_ruleset_differs_as_documented():
    from locatietoets.layers.io.rules import read_ruleset_file

    base = read_ruleset_file()
    draft = read_ruleset_file(
        Path(__file__).resolve().parents[1]
        / "analysis"
        / "rulesets"
        / "limburg-povi2025-ontwerp.toml"
    )
    assert draft.id == "limburg-povi2025-ontwerp" and draft.value("bbg_rand_m") == 150
    assert [p for p in base.parameters if base.value(p) != draft.value(p)] == ["bbg_rand_m"]
    assert draft.rule("recreatiepark").verdict["short_stay"] == "ongeschikt"
    assert base.rule("recreatiepark").verdict["short_stay"] == "voorwaardelijk"
    assert {r.id for r in draft.rules} == {r.id for r in base.rules}


# ---------------------------------------------------------------------------
# raster
# ---------------------------------------------------------------------------


def test_grid_over_area_counts_cells():
    grid, inside = grid_over_area(box(X0, Y0, X0 + 3000, Y0 + 3000), cell_m=100)
    assert (grid.width, grid.height, int(inside.sum())) == (30, 30, 900)
    assert grid.transform == (100.0, 0.0, X0, 0.0, -100.0, Y0 + 3000)
    assert verdict_codes(
        np.array(["geschikt", "voorwaardelijk", "ongeschikt", None], dtype=object)
    ).tolist() == [1, 2, 3, 0]


def test_raster_command_writes_valid_cogs(tmp_path):
    config = _world(
        tmp_path / "w", _sites([("w1", "short_stay", 1200, 1500, 10)]), rules={"bbg_rand_m": 200}
    )
    res = CliRunner().invoke(
        raster, [str(config), "--cel", "100", "--out", str(tmp_path / "r"), "--voortgang", "geen"]
    )
    assert res.exit_code == 0, res.output
    record = json.loads((tmp_path / "r" / "raster.json").read_text(encoding="utf-8"))
    assert record["cellen_getoetst"] == 900
    # BBG 1 x 1 km: 100 cells inside; within 200 m outside: 4 strips of 2 x 10 cells + 3 cells per
    # corner = 92
    assert record["telling"]["long_stay"] == {
        "geschikt": 100,
        "voorwaardelijk": 92,
        "ongeschikt": 708,
        "geen gegevens": 0,
    }
    with rasterio.open(tmp_path / "r" / "oordeel_long_stay.tif") as ds:
        assert (
            ds.driver == "GTiff"
            and ds.profile["tiled"]
            and ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        )
        assert ds.crs.to_epsg() == 28992 and ds.dtypes[0] == "uint8" and ds.nodata == 0
        assert ds.overviews(1), "geen overzichten"
        band = ds.read(1)
        assert (
            band.shape == (30, 30)
            and int((band == 1).sum()) == 100
            and band[15, 15] == 1
            and band[0, 0] == 3
        )
        cmap = ds.colormap(1)
        for verdict, code in (("geschikt", 1), ("voorwaardelijk", 2), ("ongeschikt", 3)):
            assert cmap[code][:3] == VERDICT_COLOURS[verdict][1]
        assert ds.tags(1)["klasse_1"] == "Geschikt"
    aux = (tmp_path / "r" / "oordeel_long_stay.tif.aux.xml").read_text(encoding="utf-8")
    assert "<Category>Voorwaardelijk</Category>" in aux
    assert "paletted" in (tmp_path / "r" / "oordeel_long_stay.qml").read_text(encoding="utf-8")
    with rasterio.open(tmp_path / "r" / "score_short_stay.tif") as ds:
        assert ds.dtypes[0] == "float32" and ds.nodata == -9999.0 and ds.overviews(1)
        score = ds.read(1)
        assert score[15, 15] == 100.0 and (score >= 0).all()


def test_raster_bad_cell_size_is_a_dutch_error(tmp_path):
    config = _world(tmp_path / "w", _sites([("w1", "short_stay", 1200, 1500, 10)]))
    res = CliRunner().invoke(raster, [str(config), "--cel", "0.5", "--voortgang", "geen"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    with pytest.raises(InputError, match="te groot"):
        grid_over_area(box(X0, Y0, X0 + 3000, Y0 + 3000), cell_m=1, max_cells=1_000_000)
    grid, inside = grid_over_area(
        box(X0, Y0, X0 + 10, Y0 + 10), cell_m=100
    )  # a sliver: no cell centre inside
    assert (grid.width, grid.height, int(inside.sum())) == (1, 1, 0)


# ---------------------------------------------------------------------------
# bedrijfslocatie
# ---------------------------------------------------------------------------


RATIOS = {
    "migrants_per_job": {"logistiek": 0.35, "industrie": 0.15},
    "migrants_per_ha": {"logistiek": 7.0, "industrie": 4.5},
    "beds_per_migrant": 1.0,
    "max_expansion_ha": 5.0,
}


def test_plan_demand_by_hand():
    plans = pd.DataFrame(
        {
            "naam": ["DC", "Fabriek", "Klein"],
            "sector": ["Logistiek", "industrie", None],
            "banen": [np.nan, 100.0, np.nan],
            "oppervlakte_ha": [12.0, 20.0, 3.0],
        }
    )
    with pytest.raises(InputError, match="sector 'overig'"):
        plan_demand(plans, **RATIOS)
    out = plan_demand(plans.iloc[:2], **RATIOS)
    assert out["arbeidsmigranten"].tolist() == [84.0, 15.0]  # 12 ha × 7; 100 banen × 0,15
    assert out["grondslag"].tolist() == ["oppervlakte", "banen"]
    assert out["boven_max_ha"].tolist() == [True, True]
    assert (
        "groter dan 5 ha" in out["signaal"].iloc[0]
        and "regionale meerwaarde" in out["signaal"].iloc[0]
        and "Omgevingsverordening Limburg (art. 12.5)" in out["signaal"].iloc[0]
    )
    with pytest.raises(InputError, match="Bedoelde u 'logistiek'"):
        plan_demand(plans.assign(sector=["logistik", "industrie", "industrie"]), **RATIOS)


def test_bedrijfslocatie_without_network_counts_sites_in_straight_line(tmp_path):
    # three 10-person short-stay sites in BBG close to the plan, one 20-person site outside the 3 km
    # square
    # (far: 4,5 km straight line > 15 min by bike at 15 km/h = 3,75 km)
    sites = _sites(
        [
            ("a", "short_stay", 1200, 1200, 10),
            ("b", "short_stay", 1500, 1500, 10),
            ("c", "short_stay", 1800, 1800, 10),
            ("d", "short_stay", 1500, 1500 + 6000, 20),
        ]
    )
    config = _world(tmp_path / "w", sites)
    plan = gpd.GeoDataFrame(
        {"naam": ["DC Oost"], "sector": ["logistiek"]},
        geometry=[box(X0 + 2200, Y0 + 1000, X0 + 2500, Y0 + 1400)],
        crs=28992,
    )  # 300 × 400 m = 12 ha
    _write(plan, tmp_path / "plan.gpkg")
    res = CliRunner().invoke(
        bedrijfslocatie,
        [
            str(config),
            "--locatie",
            str(tmp_path / "plan.gpkg"),
            "--out",
            str(tmp_path / "b"),
            "--voortgang",
            "geen",
        ],
    )
    assert res.exit_code == 0, res.output
    record = json.loads((tmp_path / "b" / "bedrijfslocatie.json").read_text(encoding="utf-8"))
    plan_rec = record["plannen"][0]
    assert plan_rec["oppervlakte_ha"] == pytest.approx(12.0)
    assert plan_rec["arbeidsmigranten"] == pytest.approx(84.0) and plan_rec[
        "bedden"
    ] == pytest.approx(84.0)
    assert plan_rec["capaciteit_geschikt"] == 30 and plan_rec["locaties_geschikt"] == 3
    assert plan_rec["tekort_geschikt"] == pytest.approx(54.0)
    assert plan_rec["boven_max_ha"] is True
    assert any("hemelsbreed" in w for w in record["waarschuwingen"])
    counted = gpd.read_file(tmp_path / "b" / "bedrijfslocatie.gpkg", layer="locaties_binnen_bereik")
    assert sorted(counted["locatie_id"]) == ["a", "b", "c"]
    text = (tmp_path / "b" / "bedrijfslocatie.txt").read_text(encoding="utf-8")
    assert "84 arbeidsmigranten" in text and "groter dan 5 ha" in text


def test_bedrijfslocatie_with_network_routes_to_the_plan(tmp_path):
    """A straight road along y = 1500; sites on it at 300 m and 4.8 km from the plan (bike 15 km/h:
    15 min = 3.75 km)."""
    from shapely.geometry import LineString

    sites = _sites([("near", "short_stay", 1500, 1500, 10), ("far", "short_stay", 1500, 1500, 10)])
    sites.loc[1, "geometry"] = Point(X0 - 3000, Y0 + 1500)  # 4.8 km west of the plan along the road
    config = _world(
        tmp_path / "w",
        sites,
        extra={"wegennet": {"pad": "wegen.gpkg", "modus": "fiets", "wegtype_veld": "highway"}},
    )
    roads = gpd.GeoDataFrame(
        {"highway": ["residential"]},
        geometry=[LineString([(X0 - 4000, Y0 + 1500), (X0 + 2500, Y0 + 1500)])],
        crs=28992,
    )
    _write(roads, tmp_path / "w" / "wegen.gpkg")
    plan = gpd.GeoDataFrame(
        {"naam": ["Fabriek"], "sector": ["industrie"], "banen": [200]},
        geometry=[box(X0 + 1800, Y0 + 1400, X0 + 1900, Y0 + 1600)],
        crs=28992,
    )
    _write(plan, tmp_path / "plan.gpkg")
    res = CliRunner().invoke(
        bedrijfslocatie,
        [
            str(config),
            "--locatie",
            str(tmp_path / "plan.gpkg"),
            "--out",
            str(tmp_path / "b"),
            "--voortgang",
            "geen",
        ],
        env={"XDG_CACHE_HOME": str(tmp_path / "cache")},
    )
    assert res.exit_code == 0, res.output
    record = json.loads((tmp_path / "b" / "bedrijfslocatie.json").read_text(encoding="utf-8"))
    p = record["plannen"][0]
    assert (
        p["arbeidsmigranten"] == pytest.approx(30.0) and p["boven_max_ha"] is False
    )  # 200 × 0,15; 2 ha
    assert "wegennet" in p["reistijd_basis"]
    counted = gpd.read_file(tmp_path / "b" / "bedrijfslocatie.gpkg", layer="locaties_binnen_bereik")
    assert counted["locatie_id"].tolist() == ["near"]
    # the road enters the plan 300 m from the site and leaves it at 400 m; at 250 m/min that is
    # 1.2-1.6 min
    assert 300 / 250 - 0.01 <= counted["reistijd_naar_plan_min"].iloc[0] <= 400 / 250 + 0.01


# ---------------------------------------------------------------------------
# Real Limburg boundaries
# ---------------------------------------------------------------------------

GEMEENTEN = "admin/limburg_gemeenten_2022_cbs_tmap.geojson"


@pytest.fixture(scope="module")
def limburg_run(tmp_path_factory, shared_data):
    folder = tmp_path_factory.mktemp("limburg_planning")
    gem = gpd.read_file(shared_data / GEMEENTEN)
    points = gem.geometry.representative_point()
    sites = gpd.GeoDataFrame(
        {
            "id": gem["code"],
            "type": "short_stay",
            "personen": 20.0,
            "slaapkamers": 20.0,
            "opp": 300.0,
        },
        geometry=points.to_numpy(),
        crs=gem.crs,
    )
    sites.to_file(folder / "locaties.gpkg", engine="pyogrio")
    bbg = gpd.GeoDataFrame(
        geometry=points.buffer(300).to_numpy(), crs=gem.crs
    )  # every site in BBG → geschikt
    bbg.to_file(folder / "bbg.gpkg", engine="pyogrio")
    write_config(
        folder / "config.toml",
        {
            "locaties": {
                "pad": "locaties.gpkg",
                "id_veld": "id",
                "verblijfstype_veld": "type",
                "personen_veld": "personen",
                "slaapkamers_veld": "slaapkamers",
                "woonoppervlak_veld": "opp",
            },
            "bebouwd_gebied": {"pad": "bbg.gpkg"},
            "gemeenten": {"pad": shared_data / GEMEENTEN, "naam_veld": "name", "code_veld": "code"},
        },
    )
    _score(folder / "config.toml", folder / "run")
    return folder


@pytest.mark.shared
def test_capaciteit_on_real_limburg_gemeenten(limburg_run, tmp_path):
    table = tmp_path / "behoefte.csv"
    table.write_text(
        "gemeente;short_stay;mid_stay;long_stay\nGM0983;1.250;0;0\nGM0935;15;0;0\nWeert;20;5;5\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(
        capaciteit,
        [
            str(limburg_run / "run"),
            "--behoefte",
            str(table),
            "--out",
            str(tmp_path / "cap"),
            "--voortgang",
            "geen",
        ],
    )
    assert res.exit_code == 0, res.output
    g = pd.read_csv(tmp_path / "cap" / "capaciteit_gemeenten.csv").set_index("code")
    assert len(g) == 31 and g.loc["GM0983", "naam"] == "Venlo"
    assert (
        g.loc["GM0983", "behoefte_short_stay"] == 1250
        and g.loc["GM0983", "tekort_short_stay"] == 1230
    )  # 20 beds geschikt
    assert (
        g.loc["GM0935", "saldo_short_stay"] == 5 and g.loc["GM0988", "tekort_totaal"] == 10
    )  # mid 5 + long 5
    assert (
        g.loc["GM0983", "regio"] == "Noord-Limburg" and g.loc["GM0935", "regio"] == "Zuid-Limburg"
    )
    regions = pd.read_csv(tmp_path / "cap" / "capaciteit_regios.csv").set_index("regio")
    assert set(regions.index) == {"Noord-Limburg", "Midden-Limburg", "Zuid-Limburg", "Totaal"}
    assert regions.loc["Totaal", "capaciteit_geschikt_short_stay"] == 31 * 20
    assert (
        regions.loc["Noord-Limburg", "gemeenten"] == 8
        and regions.loc["Midden-Limburg", "gemeenten"] == 7
    )


@pytest.mark.shared
def test_capaciteit_real_limburg_unknown_gemeente(limburg_run, tmp_path):
    table = tmp_path / "behoefte.csv"
    table.write_text(
        "gemeente,short_stay\nMaastrict,10\nGM0999,5\nSittard-Geleen,3\n", encoding="utf-8"
    )
    res = CliRunner().invoke(
        capaciteit, [str(limburg_run / "run"), "--behoefte", str(table), "--voortgang", "geen"]
    )
    assert res.exit_code == 2 and "Traceback" not in res.output
    text = flat(res.output)
    assert (
        "2 onbekende gemeente(n)" in text
        and "Bedoelde u 'Maastricht'?" in text
        and "'GM0999'" in text
    )
    assert "Sittard-Geleen'" not in text.split("bekend zijn")[0]


@pytest.mark.shared
def test_raster_over_real_limburg_gemeenten(limburg_run, tmp_path):
    res = CliRunner().invoke(
        raster,
        [
            str(limburg_run / "config.toml"),
            "--cel",
            "1000",
            "--out",
            str(tmp_path / "r"),
            "--voortgang",
            "geen",
        ],
    )
    assert res.exit_code == 0, res.output
    record = json.loads((tmp_path / "r" / "raster.json").read_text(encoding="utf-8"))
    # CBS: Limburg is about 2,210 km² (land and water): one 1 km cell per km², give or take the
    # boundary
    assert 2050 <= record["cellen_getoetst"] <= 2350
    with rasterio.open(tmp_path / "r" / "oordeel_short_stay.tif") as ds:
        assert ds.crs.to_epsg() == 28992 and ds.overviews(1)
