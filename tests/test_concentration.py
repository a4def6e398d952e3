"""Concentration per kern: the kern of each site, existing housing plus the site's capacity, the
share of the inhabitants, and the rules 'besluit gemeenteraad nodig' and 'concentratie'."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from locatietoets.analysis.concentration import assign_kern, existing_per_kern, kern_concentration
from locatietoets.analysis.pipeline import Inputs, score_sites
from locatietoets.layers.io.rules import read_ruleset_file

RD = "EPSG:28992"

# Two kernen side by side; Oostdorp has a hole (a park that belongs to no kern)
WESTDORP = box(0, 0, 1000, 1000)
OOSTDORP = box(1000, 0, 3000, 1000).difference(box(2400, 400, 2600, 600))
KERNEN = gpd.GeoDataFrame(
    {"naam": ["Westdorp", "Oostdorp"], "inwoners": [1000.0, 10000.0]},
    geometry=[WESTDORP, OOSTDORP],
    crs=RD,
)
# 30 persons already live in Westdorp, 50 in Oostdorp (one location), 20 far outside any kern
EXISTING = gpd.GeoDataFrame(
    {"naam": ["Hof", "Loods", "Boerderij"], "personen": [30.0, 50.0, 20.0]},
    geometry=[Point(100, 100), Point(2000, 500), Point(9000, 9000)],
    crs=RD,
)


def sites(rows):
    return gpd.GeoDataFrame(
        {
            "locatie_id": [r[0] for r in rows],
            "verblijfstype": [r[1] for r in rows],
            "huisvestingsvorm": [None] * len(rows),
            "personen": [float(r[2]) for r in rows],
            "slaapkamers": np.nan,
            "woonoppervlak_m2": np.nan,
            "eigen_werkgever": None,
        },
        geometry=[r[3] for r in rows],
        crs=RD,
    )


SITES = sites(
    [
        # Westdorp: (30 + 25) / 1000 = 5.5 % > 5 % -> concentratie
        ("W", "short_stay", 25, Point(500, 500)),
        # Westdorp: (30 + 20) / 1000 = 5.0 %, not above 5 %
        ("W2", "mid_stay", 20, Point(600, 500)),
        # Oostdorp: 120 > 100 persons -> voorwaardelijk; (50 + 120) / 10000 = 1.7 %
        ("O", "short_stay", 120, Point(1500, 500)),
        # a polygon site mostly in Oostdorp (75 %), partly in Westdorp
        ("P", "long_stay", 10, box(900, 100, 1300, 200)),
        # in Oostdorp's hole: no kern
        ("G", "short_stay", 10, Point(2500, 500)),
        # no geometry
        ("X", "short_stay", 10, None),
    ]
)


def test_kern_of_points_and_polygons_and_holes():
    pos = assign_kern(SITES.geometry[SITES.geometry.notna()], KERNEN)
    assert pos.tolist() == [0, 0, 1, 1, -1]


def test_point_kernen_are_assigned_to_the_nearest_centroid():
    centroids = gpd.GeoDataFrame(
        {"naam": ["A", "B"], "inwoners": [1.0, 2.0]},
        geometry=[Point(0, 0), Point(1000, 0)],
        crs=RD,
    )
    got = assign_kern(gpd.GeoSeries([Point(400, 300), Point(600, -300)], crs=RD), centroids)
    assert got.tolist() == [0, 1]


def test_existing_housing_is_summed_per_kern_and_outside_housing_is_left_out():
    assert existing_per_kern(EXISTING, KERNEN).tolist() == [30.0, 50.0]
    assert existing_per_kern(None, KERNEN).tolist() == [0.0, 0.0]


def run(**kwargs):
    inputs = Inputs(sites=SITES, kernen=KERNEN, existing_housing=EXISTING, **kwargs)
    return score_sites(inputs, read_ruleset_file())


def test_fields_per_site():
    r = run().results.set_index("locatie_id")
    assert r["kern"].tolist()[:4] == ["Westdorp", "Westdorp", "Oostdorp", "Oostdorp"]
    assert pd.isna(r.loc[["G", "X"], "kern"]).all()
    assert r["kern_inwoners"].tolist()[:4] == [1000.0, 1000.0, 10000.0, 10000.0]
    assert r["arbeidsmigranten_in_kern"].tolist()[:4] == [55.0, 50.0, 170.0, 60.0]
    assert r["aandeel_arbeidsmigranten_kern"].tolist()[:4] == pytest.approx(
        [0.055, 0.05, 0.017, 0.006]
    )
    assert np.isnan(r.loc[["G", "X"], "arbeidsmigranten_in_kern"]).all()


def test_rules_concentration_warning_and_council_decision():
    r = run().results.set_index("locatie_id")
    assert r.loc["W", "regels"] == "concentratie.aandeel_kern"
    assert r.loc["W", "oordeel"] == "geschikt" and r.loc["W", "score"] == 90.0
    assert r.loc["W", "redenen"].startswith(
        "Concentratie: met deze locatie wonen 55 arbeidsmigranten in kern 'Westdorp' (1.000"
        " inwoners), 5,5 % van de inwoners; meer dan 5 %"
    )
    assert r.loc["W2", "regels"] == ""  # exactly 5 % is not above it
    assert r.loc["O", "regels"] == "concentratie.max_personen"
    assert r.loc["O", "oordeel"] == "voorwaardelijk"
    assert "120 personen, meer dan 100: besluit gemeenteraad nodig" in r.loc["O", "redenen"]
    assert r.loc["G", "regels"] == ""


def test_without_existing_housing_only_the_site_counts():
    r = score_sites(Inputs(sites=SITES, kernen=KERNEN), read_ruleset_file())
    assert r.results["arbeidsmigranten_in_kern"].tolist()[:4] == [25.0, 20.0, 120.0, 10.0]
    assert "bestaande_huisvesting" in r.skipped


def test_without_kernen_the_concentration_rules_are_not_tested():
    result = score_sites(Inputs(sites=SITES), read_ruleset_file())
    assert "concentratie.aandeel_kern" in result.summary["regels_niet_getoetst"]
    assert "concentratie.max_personen" in result.summary["regels_niet_getoetst"]
    assert result.results["regels"].tolist() == [""] * 6
    assert "kern" not in result.results.columns
    assert "concentratie" in result.skipped


def test_thresholds_are_parameters():
    ruleset = read_ruleset_file().with_overrides(
        {"max_aandeel_kern": 0.06, "max_personen_locatie": 150}, {}
    )
    r = score_sites(Inputs(sites=SITES, kernen=KERNEN, existing_housing=EXISTING), ruleset).results
    assert r["regels"].tolist()[:4] == ["", "", "", ""]


def test_kern_table_if_every_counted_site_were_built():
    r = run().results
    capacity = np.where(r["oordeel"] == "geschikt", r["capaciteit_personen"], 0.0)
    table = kern_concentration(r, capacity, max_share=0.05).set_index("kern")
    # Westdorp: existing 30 + W 25 + W2 20 = 75 of 1,000; Oostdorp: 50 + P 10 (O is not geschikt)
    assert table.loc["Westdorp", "bestaand"] == 30.0
    assert table.loc["Westdorp", "capaciteit"] == 45.0
    assert table.loc["Westdorp", "aandeel_na_bouw"] == pytest.approx(0.075)
    assert bool(table.loc["Westdorp", "boven_maximum"])
    assert table.loc["Oostdorp", "capaciteit"] == 10.0
    assert table.loc["Oostdorp", "locaties"] == 1
    assert table.loc["Oostdorp", "aandeel_nu"] == pytest.approx(0.005)
    assert not bool(table.loc["Oostdorp", "boven_maximum"])


def test_real_cbs_kernen_and_wijken(shared_data):
    kern_csv = shared_data / "builtup" / "limburg_kernen_2021_centroids.geojson"
    wijken = shared_data / "admin" / "limburg_wijken_2022_cbs_tmap.geojson"
    if not (kern_csv.is_file() and wijken.is_file()):
        pytest.skip("CBS-kernen of -wijken ontbreken in de gedeelde data")
    from locatietoets.layers.io.read import load_reference_layers
    from locatietoets.layers.io.spec import Config, LayerSpec, RulesConfig

    layers = {
        "kernen": LayerSpec(
            "kernen", kern_csv, options={"naam_veld": "name", "inwoners_veld": "population"}
        ),
    }
    frames, _ = load_reference_layers(Config(None, layers, RulesConfig()))
    kernen = frames["kernen"]
    assert len(kernen) == 107 and kernen["inwoners"].min() > 1000
    # a site in Maastricht's centre (Vrijthof) belongs to the kern Maastricht; one in Venlo's
    vrijthof, venlo = Point(176_020, 317_730), Point(209_000, 376_000)
    site_frame = sites([("M", "short_stay", 150, vrijthof), ("V", "short_stay", 40, venlo)])
    r = score_sites(Inputs(sites=site_frame, kernen=kernen), read_ruleset_file()).results
    assert "Maastricht" in r["kern"].iloc[0] and "Venlo" in r["kern"].iloc[1]
    assert r["oordeel"].iloc[0] == "voorwaardelijk"  # 150 > 100 persons
    # wijken as kern polygons: the site lies in exactly one wijk of Maastricht
    wijk_frames, _ = load_reference_layers(
        Config(
            None,
            {
                "kernen": LayerSpec(
                    "kernen", wijken, options={"naam_veld": "name", "inwoners_veld": "population"}
                )
            },
            RulesConfig(),
        )
    )
    r = score_sites(
        Inputs(sites=site_frame, kernen=wijk_frames["kernen"]), read_ruleset_file()
    ).results
    assert r["kern_inwoners"].notna().all()
    assert (
        r["aandeel_arbeidsmigranten_kern"] == r["arbeidsmigranten_in_kern"] / r["kern_inwoners"]
    ).all()
    assert pd.notna(r["kern"]).all()


def test_capacity_command_adds_the_share_per_kern_if_every_geschikt_site_were_built(tmp_path):
    from click.testing import CliRunner
    from test_planning import X0, Y0, _score, _sites, _world, _write

    from locatietoets.scripts.planning import capaciteit

    # kern Midden = the BBG square (2,000 inhabitants, 60 migrants already); a 40-person site in
    # BBG (geschikt) and a 20-person one 100 m outside (voorwaardelijk: not counted)
    kern = gpd.GeoDataFrame(
        {"naam": ["Midden"], "inw": [2000]},
        geometry=[box(X0 + 900, Y0 + 900, X0 + 2100, Y0 + 2100)],
        crs=RD,
    )
    housing = gpd.GeoDataFrame({"pers": [60]}, geometry=[Point(X0 + 1100, Y0 + 1100)], crs=RD)
    folder = tmp_path / "w"
    folder.mkdir()
    _write(kern, folder / "kernen.gpkg")
    _write(housing, folder / "huisvesting.gpkg")
    extra = {
        "kernen": {"pad": "kernen.gpkg", "naam_veld": "naam", "inwoners_veld": "inw"},
        "bestaande_huisvesting": {"pad": "huisvesting.gpkg", "personen_veld": "pers"},
    }
    sites = _sites([("a", "short_stay", 1200, 1500, 40), ("b", "short_stay", 950, 1500, 20)])
    run = _score(_world(folder, sites, extra=extra), tmp_path / "run")
    scored = gpd.read_file(run / "locaties.gpkg", layer="locaties").set_index("id")
    assert scored.loc["a", "arbeidsmigranten_in_kern"] == 100.0  # 60 + 40
    assert scored.loc["a", "aandeel_arbeidsmigranten_kern"] == pytest.approx(0.05)
    table = tmp_path / "behoefte.csv"
    table.write_text("gemeente;short_stay\nWestdorp;100\n", encoding="utf-8")
    res = CliRunner().invoke(
        capaciteit,
        [str(run), "--behoefte", str(table), "--out", str(tmp_path / "cap"), "--voortgang", "geen"],
    )
    assert res.exit_code == 0, res.output
    kernen = pd.read_csv(tmp_path / "cap" / "capaciteit_kernen.csv").set_index("kern")
    assert kernen.loc["Midden", "bestaand"] == 60
    assert kernen.loc["Midden", "capaciteit"] == 40  # b is voorwaardelijk
    assert kernen.loc["Midden", "aandeel_na_bouw"] == pytest.approx(0.05)
    assert not kernen.loc["Midden", "boven_maximum"]
    html = (tmp_path / "cap" / "capaciteit.html").read_text(encoding="utf-8")
    assert "Concentratie per kern" in html and "5,0 %" in html
