"""Odour through the whole pipeline: the norm cell per site, housing form, overrides, kom
fallback."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from locatietoets.analysis.pipeline import Inputs, score_sites
from locatietoets.layers.io.rules import read_ruleset_file

KOM = box(0, 0, 1000, 1000)
GEMEENTEN = gpd.GeoDataFrame(
    {"naam": ["Venlo", "Venray"], "code": ["GM0983", "GM0984"]},
    geometry=[box(-5000, -5000, 5000, 5000), box(5000, -5000, 15000, 5000)],
    crs=28992,
)


def sites_frame(points, stay, form=None):
    n = len(points)
    return gpd.GeoDataFrame(
        {
            "locatie_id": [str(i + 1) for i in range(n)],
            "verblijfstype": stay,
            "huisvestingsvorm": form if form is not None else [None] * n,
            "personen": np.nan,
            "slaapkamers": np.nan,
            "woonoppervlak_m2": np.nan,
            "eigen_werkgever": None,
        },
        geometry=points,
        crs=28992,
    )


def contour(x, y, r, value):
    return gpd.GeoDataFrame({"waarde": [float(value)]}, geometry=[Point(x, y).buffer(r)], crs=28992)


def run(sites, *, contours=None, farms=None, kom=True, bbg=True, ruleset=None, gemeenten=GEMEENTEN):
    inputs = Inputs(
        sites=sites,
        bbg=gpd.GeoDataFrame(geometry=[KOM], crs=28992) if bbg else None,
        kom=gpd.GeoDataFrame(geometry=[box(0, 0, 900, 1000)], crs=28992) if kom else None,
        contours=contours,
        farms=farms,
        gemeenten=gemeenten,
    )
    return score_sites(inputs, ruleset or read_ruleset_file()).results


@pytest.mark.parametrize(
    "inside_kom, concentration, load, norm, knelpunt",
    [
        (True, True, 3.0, 3.0, True),  # kom, concentratiegebied: 3 OUe/m³
        (True, True, 2.5, 3.0, False),
        (False, True, 14.0, 14.0, True),  # buitengebied, concentratiegebied: 14
        (False, True, 8.0, 14.0, False),
        (True, False, 2.0, 2.0, True),  # kom, geen concentratiegebied: 2
        (False, False, 8.0, 8.0, True),  # buitengebied, geen concentratiegebied: 8
        (False, False, 5.0, 8.0, False),
    ],
)
def test_norm_cell_kom_times_concentration(inside_kom, concentration, load, norm, knelpunt):
    x = 500 if inside_kom else 3000
    rs = read_ruleset_file().with_overrides({"concentratiegebied": concentration})
    res = run(
        sites_frame([Point(x, 500)], ["long_stay"]), contours=contour(x, 500, 100, load), ruleset=rs
    )
    assert res["geur_norm_oue"].iloc[0] == norm
    assert res["geur_oue"].iloc[0] == load
    assert bool(res["geur_knelpunt"].iloc[0]) is knelpunt
    assert res["oordeel_long_stay"].iloc[0] == (
        "ongeschikt" if knelpunt else ("geschikt" if inside_kom else "ongeschikt")
    )
    # omgekeerde werking: always warned inside a contour
    assert "omgekeerde werking" in res["redenen"].iloc[0]


def test_woonfunctie_ongeschikt_logies_voorwaardelijk():
    sites = sites_frame(
        [Point(500, 500)] * 3,
        ["short_stay", "short_stay", "long_stay"],
        ["logies", "woonfunctie", None],
    )
    res = run(sites, contours=contour(500, 500, 100, 5.0))
    assert res["oordeel"].tolist() == ["voorwaardelijk", "ongeschikt", "ongeschikt"]
    assert res["score"].iloc[0] <= 55  # strong penalty for logies in a knelpunt
    assert "ECLI:NL:RBOBR:2021:6369" in res["redenen"].iloc[0]


def test_per_gemeente_norm_override_applies_only_there():
    rs = read_ruleset_file().with_overrides(
        {}, {"Venray": {"geur_norm_buitengebied_concentratie": 20.0}}
    )
    sites = sites_frame([Point(3000, 500), Point(8000, 500)], ["long_stay", "long_stay"])
    contours = pd.concat(
        [contour(3000, 500, 100, 14.0), contour(8000, 500, 100, 14.0)], ignore_index=True
    )
    res = run(sites, contours=contours, ruleset=rs)
    assert res["gemeente"].tolist() == ["Venlo", "Venray"]
    assert res["geur_norm_oue"].tolist() == [14.0, 20.0]
    assert res["geur_knelpunt"].tolist() == [True, False]


def test_kom_falls_back_to_bbg_and_says_so():
    # x = 950 is inside BBG but outside the explicit kom (which ends at 900)
    sites = sites_frame([Point(950, 500)], ["long_stay"])
    with_kom = run(sites, contours=contour(950, 500, 50, 5.0), kom=True)
    without_kom = run(sites, contours=contour(950, 500, 50, 5.0), kom=False)
    assert with_kom["geur_norm_oue"].iloc[0] == 14.0 and not with_kom["geur_knelpunt"].iloc[0]
    assert without_kom["geur_norm_oue"].iloc[0] == 3.0 and without_kom["geur_knelpunt"].iloc[0]
    assert (
        without_kom["kom_bron"].iloc[0]
        == "bestaand bebouwd gebied als benadering van de bebouwde kom"
    )
    assert "benadering van de bebouwde kom" in without_kom["geur_reden"].iloc[0]


def test_unknown_kom_applies_the_strictest_norm_and_says_why():
    # no kom layer and no BBG: a load of 5 OUe/m³ outside any village is judged against 3 (the kom
    # norm)
    farms = gpd.GeoDataFrame(
        {"naam": ["Melkvee"], "vaste_afstand_m": [np.nan], "geuremissiefactor": [0.0]},
        geometry=[Point(3000, 2000)],
        crs=28992,
    )
    sites = sites_frame([Point(3000, 500), Point(3070, 2000)], ["long_stay", "long_stay"])
    res = run(sites, contours=contour(3000, 500, 100, 5.0), farms=farms, kom=False, bbg=False)
    assert res["geur_norm_oue"].tolist() == [3.0, 3.0]
    assert res["geur_knelpunt"].tolist() == [True, True]  # 5 >= 3; 70 m < 100 m
    assert res["kom_bron"].iloc[0].startswith("onbekend")
    assert (
        "norm bij onbekende ligging ten opzichte van de bebouwde kom (geen laag"
        " [lagen.bebouwde_kom] of [lagen.bebouwd_gebied]: de strengste waarde geldt) in"
        " concentratiegebied is 3,0 OUe/m³" in res["geur_reden"].iloc[0]
    )
    assert (
        "vaste afstand bij onbekende ligging" in res["geur_reden"].iloc[1]
        and "is 100 m" in res["geur_reden"].iloc[1]
    )
    # a gemeente whose own outside norm is stricter than its kom norm: that one is the strictest
    rs = read_ruleset_file().with_overrides(
        {},
        {"Venlo": {"geur_norm_buitengebied_concentratie": 3.0, "geur_norm_kom_concentratie": 5.0}},
    )
    res = run(
        sites.iloc[:1], contours=contour(3000, 500, 100, 4.0), kom=False, bbg=False, ruleset=rs
    )
    assert res["geur_norm_oue"].iloc[0] == 3.0 and res["geur_knelpunt"].iloc[0]
    assert "(eigen waarde in het omgevingsplan gemeente Venlo)" in res["geur_reden"].iloc[0]


def test_fixed_distance_default_and_per_farm():
    farms = gpd.GeoDataFrame(
        {
            "naam": ["Hoeve A", "Stal B", "Hoeve C"],
            "vaste_afstand_m": [np.nan, np.nan, 200.0],
            "geuremissiefactor": [0.0, 1.0, 0.0],
        },
        geometry=[Point(3000, 0), box(5000 - 10, 0, 5000 + 10, 40), Point(3000, 3000)],
        crs=28992,
    )
    sites = sites_frame(
        [Point(3040, 0), Point(3060, 0), Point(5030, 20), Point(3000, 3150), Point(3000, 3250)],
        ["long_stay"] * 5,
    )
    res = run(sites, farms=farms)
    # no emission factor, outside the kom: 50 m; with factor: 25 m façade to façade; own distance
    # 200 m
    assert res["geur_knelpunt"].tolist() == [True, False, True, True, False]
    assert res["veehouderij"].tolist() == ["Hoeve A", "Hoeve A", "Stal B", "Hoeve C", "Hoeve C"]
    np.testing.assert_allclose(res["veehouderij_afstand_m"], [40, 60, 20, 150, 250])
    assert (
        "vaste afstand buiten de bebouwde kom is 50 m (Bkl, vaste afstand; omgevingsplan gemeente"
        " Venlo)" in res["geur_reden"].iloc[0]
    )
    assert "gevel tot gevel" in res["geur_reden"].iloc[2]
    assert "200 m" in res["geur_reden"].iloc[3]
    assert not res["geur_reden"].str.contains("Wgv").any()
    assert res["oordeel"].tolist()[:4] == ["ongeschikt", "ongeschikt", "ongeschikt", "ongeschikt"]


def test_norm_set_in_the_omgevingsplan_is_cited_as_such():
    rs = read_ruleset_file().with_overrides(
        {}, {"Venray": {"geur_norm_buitengebied_concentratie": 10.0}}
    )
    sites = sites_frame([Point(3000, 500), Point(8000, 500)], ["long_stay", "long_stay"])
    contours = pd.concat(
        [contour(3000, 500, 100, 14.0), contour(8000, 500, 100, 14.0)], ignore_index=True
    )
    res = run(sites, contours=contours, ruleset=rs)
    assert (
        "norm buiten de bebouwde kom in concentratiegebied is 14,0 OUe/m³ (Bkl, standaardwaarde;"
        " omgevingsplan gemeente Venlo)" in res["geur_reden"].iloc[0]
    )
    assert (
        "is 10,0 OUe/m³ (eigen waarde in het omgevingsplan gemeente Venray)"
        in res["geur_reden"].iloc[1]
    )


def test_undecided_contours_make_every_stay_type_voorwaardelijk_never_ongeschikt():
    # contours 8 and 20 of one farm around (3000, 500), outside the kom (norm 14): a site in 8,
    # outside 20
    contours = gpd.GeoDataFrame(
        {"waarde": [8.0, 20.0], "veehouderij": ["Hoeve X", "Hoeve X"]},
        geometry=[Point(3000, 500).buffer(200), Point(3000, 500).buffer(20)],
        crs=28992,
    )
    sites = sites_frame([Point(3100, 500)] * 3, ["short_stay", "mid_stay", "long_stay"])
    res = run(sites, contours=contours, bbg=False, kom=True)
    assert res["geur_onzeker"].tolist() == [True, True, True]
    assert not res["geur_knelpunt"].any()
    for stay in ("short_stay", "mid_stay", "long_stay"):
        assert res[f"oordeel_{stay}"].tolist() == ["voorwaardelijk"] * 3
    assert "laat een geurberekening maken" in res["redenen"].iloc[0]
    assert (
        "geurcontour 8,0 OUe/m³ van veehouderij 'Hoeve X' maar buiten de contour van 20,0 OUe/m³"
        in res["redenen"].iloc[0]
    )


def test_polygon_partly_in_a_knelpunt_is_voorwaardelijk_wholly_is_the_rule_verdict():
    # contour 20 OUe/m³ over x <= 330, inside BBG and the kom (norm 3); 100 x 100 m parcels,
    # long-stay (woonfunctie)
    contours = gpd.GeoDataFrame({"waarde": [20.0]}, geometry=[box(100, 0, 330, 1000)], crs=28992)
    parcels = [box(300, 400, 400, 500), box(150, 400, 250, 500), box(500, 400, 600, 500)]
    res = run(sites_frame(parcels, ["long_stay"] * 3), contours=contours)
    assert res["geur_knelpunt_aandeel"].tolist() == pytest.approx([0.3, 1.0, 0.0])
    assert res["oordeel_long_stay"].tolist() == ["voorwaardelijk", "ongeschikt", "geschikt"]
    assert (
        "30 % van de locatie ligt in de geurcontour boven de norm of binnen de vaste afstand:"
        " situeer de geurgevoelige bebouwing buiten de geurcontour en de vaste afstand; 70 % van"
        " het perceel ligt erbuiten" in res["redenen"].iloc[0]
    )
    assert "afwijken kan alleen via het omgevingsplan" in res["redenen"].iloc[1]
    assert res["vrij_aandeel"].iloc[0] < 1.0 and res["vrij_aandeel"].iloc[1] == 0.0


def test_mid_and_long_stay_marked_logies_are_judged_as_woonfunctie():
    # in a contour of 5 OUe/m³ inside the kom (norm 3): a woonfunctie is ongeschikt, logies
    # voorwaardelijk
    sites = sites_frame(
        [Point(500, 500)] * 4,
        ["short_stay", "mid_stay", "long_stay", "long_stay"],
        ["logies", "logies", "logies", None],
    )
    res = run(sites, contours=contour(500, 500, 100, 5.0))
    assert res["huisvestingsvorm"].tolist() == [
        "logies",
        "woonfunctie",
        "woonfunctie",
        "woonfunctie",
    ]
    assert res["oordeel"].tolist() == ["voorwaardelijk", "ongeschikt", "ongeschikt", "ongeschikt"]
    assert "een woonfunctie is geurgevoelig" in res["redenen"].iloc[1]
    # the short-stay site marked logies is judged as a woonfunctie for the other stay types
    assert (
        res["oordeel_long_stay"].iloc[0] == "ongeschikt"
        and res["oordeel_mid_stay"].iloc[0] == "ongeschikt"
    )
