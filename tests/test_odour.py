"""Tests for analysis.odour: hand-computable contours and farms built in code.

Coordinates are EPSG:28992 metres; every expected number below can be checked
with pencil and paper.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import MultiPoint, Point, Polygon, box

from locatietoets.analysis.errors import InputError
from locatietoets.analysis.odour import (
    COLUMNS,
    KOM_SOURCE_BBG,
    KOM_SOURCE_KOM,
    KOM_SOURCE_UNKNOWN,
    assess_odour,
)

CRS = "EPSG:28992"
FAR = Point(50_000, 50_000)  # a site far from every contour and farm


def _sites(geoms, index=None) -> gpd.GeoSeries:
    return gpd.GeoSeries(geoms, crs=CRS, index=index)


def _contours(items, bron=None) -> gpd.GeoDataFrame:
    values, geoms = zip(*items)
    data = {"waarde": np.asarray(values, dtype="float64")}
    if bron is not None:
        data["bron"] = bron
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=CRS)


def _farms(items, factor=None) -> gpd.GeoDataFrame:
    """Farms (naam, own distance, geometry); ``factor`` per farm: True, False or None (unknown).

    Without ``factor`` the layer has no emission-factor column (every farm unknown).
    """
    names, distances, geoms = zip(*items)
    data = {"naam": list(names), "vaste_afstand_m": np.asarray(distances, dtype="float64")}
    if factor is not None:
        data["geuremissiefactor"] = np.array([np.nan if f is None else float(f) for f in factor])
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=CRS)


CITE_NORM = " (Bkl, standaardwaarde; omgevingsplan van de gemeente)"
CITE_DISTANCE = " (Bkl, vaste afstand; omgevingsplan van de gemeente)"


def _run(
    sites,
    *,
    contours=None,
    farms=None,
    in_kom=False,
    concentration=True,
    norm=None,
    kom_source=KOM_SOURCE_KOM,
    progress=None,
) -> pd.DataFrame:
    n = len(sites)
    in_kom = np.broadcast_to(np.asarray(in_kom, dtype=bool), (n,)).copy()
    concentration = np.broadcast_to(np.asarray(concentration, dtype=bool), (n,)).copy()
    if norm is None:
        norm = np.where(
            in_kom, np.where(concentration, 3.0, 2.0), np.where(concentration, 14.0, 8.0)
        )
    norm = np.broadcast_to(np.asarray(norm, dtype="float64"), (n,)).copy()
    return assess_odour(
        sites,
        in_kom=in_kom,
        concentration_area=concentration,
        norm_oue=norm,
        kom_source=kom_source,
        contours=contours,
        farms=farms,
        point_distance_kom_m=np.full(n, 100.0),
        point_distance_outside_m=np.full(n, 50.0),
        facade_distance_kom_m=np.full(n, 50.0),
        facade_distance_outside_m=np.full(n, 25.0),
        progress=progress,
    )


# ---------------------------------------------------------------------------
# contract
# ---------------------------------------------------------------------------


def test_columns_dtypes_and_non_default_index_alignment():
    # contour 10 OUe/m³ only around x in [0, 100]; sites given in shuffled index order
    contours = _contours([(10.0, box(0, 0, 100, 100))])
    farms = _farms([("Hoeve Noord", np.nan, Point(1000, 50))])
    sites = _sites(
        [FAR, Point(50, 50), Point(980, 50)], index=pd.Index(["c", "a", "b"], name="locatie_id")
    )
    result = _run(
        sites, contours=contours, farms=farms, in_kom=[False, False, False], concentration=False
    )

    assert list(result.columns) == COLUMNS
    assert result.index.equals(sites.index)
    assert result["geur_oue"].dtype == "float64"
    assert result["geur_norm_oue"].dtype == "float64"
    assert result["veehouderij_afstand_m"].dtype == "float64"
    assert result["geur_vaste_afstand_m"].dtype == "float64"
    for col in (
        "geur_knelpunt_contour",
        "geur_knelpunt_afstand",
        "geur_knelpunt",
        "geur_in_contour",
        "geur_binnen_vaste_afstand",
    ):
        assert result[col].dtype == bool, col
    assert result["veehouderij"].dtype == object
    assert result["geur_reden"].dtype == object

    # "a" is in the 10 contour (norm 8: knelpunt); "b" is 20 m from an emission point (50 m:
    # knelpunt)
    assert np.isnan(result.loc["c", "geur_oue"])
    assert result.loc["a", "geur_oue"] == 10.0
    assert result.loc["a", "geur_knelpunt_contour"]
    assert not result.loc["a", "geur_knelpunt_afstand"]
    assert result.loc["b", "geur_knelpunt_afstand"]
    assert not result.loc["b", "geur_knelpunt_contour"]
    assert result.loc["b", "veehouderij_afstand_m"] == pytest.approx(20.0)
    assert result.loc["c", "geur_reden"] == ""
    assert not result.loc["c", "geur_knelpunt"]
    assert result["geur_norm_oue"].tolist() == [8.0, 8.0, 8.0]


def test_empty_sites():
    result = _run(
        _sites([]),
        contours=_contours([(3.0, box(0, 0, 1, 1))]),
        farms=_farms([("A", np.nan, Point(0, 0))]),
    )
    assert list(result.columns) == COLUMNS
    assert len(result) == 0


def test_no_contours_and_no_farms():
    sites = _sites([Point(0, 0), box(10, 10, 20, 20)], index=[7, 3])
    result = _run(sites, contours=None, farms=None)
    assert result.index.tolist() == [7, 3]
    assert result["geur_oue"].isna().all()
    assert result["veehouderij_afstand_m"].isna().all()
    assert result["geur_vaste_afstand_m"].isna().all()
    assert result["veehouderij"].isna().all()
    assert result["veehouderij"].tolist() == [None, None]
    for col in (
        "geur_knelpunt_contour",
        "geur_knelpunt_afstand",
        "geur_knelpunt",
        "geur_in_contour",
        "geur_binnen_vaste_afstand",
    ):
        assert not result[col].any(), col
    assert result["geur_reden"].tolist() == ["", ""]
    assert result["geur_norm_oue"].tolist() == [14.0, 14.0]


def test_farms_layer_without_rows_gives_no_farm():
    empty = gpd.GeoDataFrame({"naam": [], "vaste_afstand_m": []}, geometry=[], crs=CRS)
    result = _run(_sites([Point(0, 0)]), farms=empty)
    assert result["veehouderij"].tolist() == [None]
    assert np.isnan(result["veehouderij_afstand_m"].iloc[0])
    assert not result["geur_knelpunt_afstand"].iloc[0]


# ---------------------------------------------------------------------------
# contours and norms
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("in_kom", "concentration", "norm", "cell"),
    [
        (True, True, 3.0, "binnen de bebouwde kom in concentratiegebied is 3,0 OUe/m³"),
        (False, True, 14.0, "buiten de bebouwde kom in concentratiegebied is 14,0 OUe/m³"),
        (True, False, 2.0, "binnen de bebouwde kom buiten concentratiegebied is 2,0 OUe/m³"),
        (False, False, 8.0, "buiten de bebouwde kom buiten concentratiegebied is 8,0 OUe/m³"),
    ],
)
def test_knelpunt_follows_norm_per_cell(in_kom, concentration, norm, cell):
    # one site per contour value: 1, norm - 0.5, norm, norm + 1 → only the last two are knelpunten
    values = [1.0, norm - 0.5, norm, norm + 1.0]
    contours = _contours([(v, box(i * 100, 0, i * 100 + 50, 50)) for i, v in enumerate(values)])
    sites = _sites([Point(i * 100 + 25, 25) for i in range(4)])
    result = _run(sites, contours=contours, in_kom=in_kom, concentration=concentration)

    assert result["geur_norm_oue"].tolist() == [norm] * 4
    assert result["geur_oue"].tolist() == values
    assert result["geur_in_contour"].tolist() == [True] * 4
    assert result["geur_knelpunt_contour"].tolist() == [False, False, True, True]
    assert result["geur_knelpunt"].tolist() == [False, False, True, True]
    assert result["geur_reden"].iloc[0] == ""
    assert result["geur_reden"].iloc[1] == ""
    norm_text = f"{norm:.1f}".replace(".", ",")
    assert (
        result["geur_reden"].iloc[2]
        == f"Ligt in geurcontour {norm_text} OUe/m³; norm {cell}{CITE_NORM}"
    )
    above = f"{norm + 1:.1f}".replace(".", ",")
    assert (
        result["geur_reden"].iloc[3].startswith(f"Ligt in geurcontour {above} OUe/m³; norm {cell}")
    )


def test_norm_is_taken_per_site_from_norm_oue():
    # a per-gemeente override: same contour, norm 5 at one site and 12 at the other
    contours = _contours([(10.0, box(0, 0, 100, 100))])
    sites = _sites([Point(10, 10), Point(90, 90)])
    result = _run(sites, contours=contours, in_kom=False, norm=[5.0, 12.0])
    assert result["geur_knelpunt_contour"].tolist() == [True, False]
    assert (
        "norm buiten de bebouwde kom in concentratiegebied is 5,0 OUe/m³"
        in result["geur_reden"].iloc[0]
    )


def test_nested_contours_take_the_highest():
    # one farm: 3 encloses 8 encloses 20
    contours = _contours(
        [
            (3.0, box(-300, -300, 300, 300)),
            (8.0, box(-100, -100, 100, 100)),
            (20.0, box(-10, -10, 10, 10)),
        ]
    )
    sites = _sites([Point(200, 0), Point(50, 0), Point(0, 0), Point(400, 0)])
    result = _run(sites, contours=contours, in_kom=False, concentration=False)  # norm 8
    assert result["geur_oue"].tolist()[:3] == [3.0, 8.0, 20.0]
    assert np.isnan(result["geur_oue"].iloc[3])
    assert result["geur_in_contour"].tolist() == [True, True, True, False]
    assert result["geur_knelpunt_contour"].tolist() == [False, True, True, False]


def test_overlapping_contours_of_two_farms_highest_wins():
    # farm A's 5 contour and farm B's 12 contour overlap on x in [80, 100]
    contours = _contours(
        [(5.0, box(0, 0, 100, 100)), (12.0, box(80, 0, 200, 100))],
        bron=["V-Stacks vergunning A", "V-Stacks vergunning B"],
    )
    sites = _sites([Point(40, 50), Point(90, 50), Point(150, 50)])
    result = _run(sites, contours=contours, in_kom=False, concentration=False)  # norm 8
    assert result["geur_oue"].tolist() == [5.0, 12.0, 12.0]
    assert result["geur_knelpunt_contour"].tolist() == [False, True, True]
    assert (
        result["geur_reden"]
        .iloc[1]
        .startswith("Ligt in geurcontour 12,0 OUe/m³ (bron: V-Stacks vergunning B); norm")
    )


def test_boundary_semantics():
    contours = _contours([(8.0, box(0, 0, 100, 100))])
    sites = _sites([Point(100, 50), Point(100, 100), Point(100.001, 50)])
    result = _run(sites, contours=contours, in_kom=False, concentration=False)  # norm exactly 8
    # on the edge and on the corner count as inside; just outside does not
    assert result["geur_in_contour"].tolist() == [True, True, False]
    assert result["geur_oue"].iloc[0] == 8.0
    # geur_oue == norm is a knelpunt
    assert result["geur_knelpunt_contour"].tolist() == [True, True, False]


def test_polygon_site_takes_highest_load_where_it_overlaps():
    contours = _contours([(3.0, box(0, 0, 1000, 1000)), (20.0, box(0, 0, 10, 10))])
    # the site covers mostly the 3 contour and overlaps the 20 contour in a 5 x 5 m corner
    site = box(5, 5, 500, 500)
    touching = box(
        10, 10, 50, 50
    )  # shares only the corner point (10, 10) with the 20 contour: not in it
    result = _run(_sites([site, touching]), contours=contours, in_kom=False)  # norm 14
    assert result["geur_oue"].tolist() == [20.0, 3.0]
    assert result["geur_knelpunt_contour"].tolist() == [True, False]
    assert result["geur_knelpunt_aandeel"].tolist() == pytest.approx([25 / 495**2, 0.0])


# ---------------------------------------------------------------------------
# polygon sites: the share in a knelpunt zone
# ---------------------------------------------------------------------------


def test_point_sites_share_is_zero_or_one():
    contours = _contours([(20.0, box(0, 0, 100, 100))])
    result = _run(_sites([Point(50, 50), Point(500, 500)]), contours=contours, in_kom=False)
    assert result["geur_knelpunt_aandeel"].tolist() == [1.0, 0.0]


def test_polygon_partly_wholly_and_not_in_a_contour():
    # contour 20 (norm 14) over x in [0, 100]; 100 x 100 m parcels
    contours = _contours([(3.0, box(-500, -500, 500, 500)), (20.0, box(0, 0, 100, 100))])
    sites = _sites([box(70, 0, 170, 100), box(10, 10, 60, 60), box(200, 0, 300, 100)])
    result = _run(sites, contours=contours, in_kom=False)
    assert result["geur_knelpunt"].tolist() == [True, True, False]
    assert result["geur_knelpunt_aandeel"].tolist() == pytest.approx([0.3, 1.0, 0.0])


def test_nested_and_overlapping_zones_are_not_counted_twice():
    # contours 14 and 20 of one farm nest; the site lies 50 % in 14, 20 % in 20: the zone is the 14
    # contour
    contours = _contours([(14.0, box(0, 0, 100, 100)), (20.0, box(30, 0, 100, 100))])
    result = _run(_sites([box(50, 0, 150, 100)]), contours=contours, in_kom=False)
    assert result["geur_knelpunt_aandeel"].iloc[0] == pytest.approx(0.5)
    # a farm without emission factor at (100, 50), outside the kom 50 m: its disc (7854 m², half of
    # it
    # inside the contour) adds 3927 m² to the contour's 5000 m² of this 100 x 100 m parcel
    farms = _farms([("Hoeve", np.nan, Point(100, 50))], factor=[False])
    result = _run(_sites([box(50, 0, 150, 100)]), contours=contours, farms=farms, in_kom=False)
    assert result["geur_knelpunt_aandeel"].iloc[0] == pytest.approx(
        (5000 + np.pi * 50**2 / 2) / 10_000, rel=3e-3
    )
    # the disc alone: the parcel 100 m away from the contours
    result = _run(
        _sites([box(50, 1000, 150, 1100)]),
        farms=_farms([("Hoeve", np.nan, Point(100, 1050))], factor=[False]),
        in_kom=False,
    )
    assert result["geur_knelpunt_aandeel"].iloc[0] == pytest.approx(
        np.pi * 50**2 / 10_000, rel=3e-3
    )


def test_polygon_wholly_within_a_fixed_distance():
    farms = _farms([("Hoeve", np.nan, Point(0, 0))], factor=[False])
    result = _run(
        _sites([box(10, 10, 30, 30), box(40, 0, 90, 10)]), farms=farms, in_kom=True
    )  # 100 m
    assert result["geur_knelpunt_aandeel"].tolist() == pytest.approx([1.0, 1.0])


def test_polygon_just_inside_a_fixed_distance_is_found():
    # the site index holds polygons shrunk by a millimetre; a parcel 0.5 mm inside the 50 m is still
    # found
    farms = _farms([("Hoeve", np.nan, Point(0, 0))], factor=[False])
    result = _run(
        _sites([box(49.9995, -5, 60, 5), box(50.0, -5, 60, 5)]), farms=farms, in_kom=False
    )
    assert result["geur_knelpunt_afstand"].tolist() == [True, False]


def test_multipoint_site_share_is_the_fraction_of_its_points():
    contours = _contours([(20.0, box(0, 0, 100, 100))])
    result = _run(
        _sites([MultiPoint([(50, 50), (150, 50), (250, 50), (100, 20)])]),
        contours=contours,
        in_kom=False,
    )
    # (50, 50) inside and (100, 20) on the edge: 2 of 4 points
    assert result["geur_knelpunt"].iloc[0]
    assert result["geur_knelpunt_aandeel"].iloc[0] == pytest.approx(0.5)


def test_contour_values_with_two_decimals_are_shown_exactly():
    contours = _contours([(2.25, box(0, 0, 10, 10))])
    result = _run(
        _sites([Point(5, 5)]), contours=contours, in_kom=True, concentration=False
    )  # norm 2
    assert result["geur_reden"].iloc[0].startswith("Ligt in geurcontour 2,25 OUe/m³; norm binnen")


# ---------------------------------------------------------------------------
# contours that cannot decide
# ---------------------------------------------------------------------------


def _nested(x0, values_and_half_sizes, farm=None):
    """Square contours centred on (x0, 0): [(value, half size), ...]."""
    items = [(v, box(x0 - h, -h, x0 + h, h)) for v, h in values_and_half_sizes]
    frame = _contours(items)
    if farm is not None:
        frame["veehouderij"] = farm
    return frame


def test_undecided_contour_pair_gives_onzeker_not_knelpunt():
    # one farm: 3 (half size 300) encloses 8 (100) encloses 20 (10); norm outside the kom 14
    contours = _nested(0, [(3.0, 300), (8.0, 100), (20.0, 10)])
    sites = _sites([Point(50, 0), Point(200, 0), Point(0, 0), FAR])
    result = _run(sites, contours=contours, in_kom=False)  # norm 14
    # in 8, outside 20: the load is in [8, 20) and may exceed 14
    assert result["geur_onzeker"].tolist() == [True, False, False, False]
    # in 3, outside 8 (< 14): decided, fine; in 20: a knelpunt, not onzeker
    assert result["geur_knelpunt"].tolist() == [False, False, True, False]
    assert result["geur_reden"].iloc[0] == (
        "Ligt in geurcontour 8,0 OUe/m³ maar buiten de contour van 20,0 OUe/m³; "
        "norm buiten de bebouwde kom in concentratiegebied is 14,0 OUe/m³"
        + CITE_NORM
        + ": de geurbelasting ligt daartussen, dus de contouren kunnen niet beslissen of de locatie"
        " aan de norm voldoet"
    )
    assert result["geur_reden"].iloc[1] == ""


def test_next_contour_equal_to_the_norm_decides():
    # contours 8 and 14: outside the 14 contour the load is below 14, so the site is fine
    contours = _nested(0, [(8.0, 100), (14.0, 10)])
    result = _run(_sites([Point(50, 0)]), contours=contours, in_kom=False)
    assert not result["geur_onzeker"].iloc[0]
    assert not result["geur_knelpunt"].iloc[0]


def test_next_higher_contour_is_of_the_same_farm_when_the_layer_names_farms():
    # farm A: 3 and 8 around x = 0; farm B: 5 and 20 around x = 1000 (B's 5 contour reaches x = 40)
    a = _nested(0, [(3.0, 300), (8.0, 100)], farm="A")
    b = _nested(1000, [(5.0, 960), (20.0, 10)], farm="B")
    contours = pd.concat([a, b], ignore_index=True)
    sites = _sites([Point(50, 0), Point(600, 0)])
    by_farm = _run(sites, contours=contours, in_kom=False)  # norm 14
    # site 0 lies in A's 8 (A has nothing higher) and in B's 5 (B's next is 20 > 14): onzeker
    # through B
    # site 1 lies only in B's 5: onzeker
    assert by_farm["geur_onzeker"].tolist() == [True, True]
    assert (
        "Ligt in geurcontour 5,0 OUe/m³ van veehouderij 'B' maar buiten de contour van 20,0 OUe/m³"
        in (by_farm["geur_reden"].iloc[0])
    )
    # only farm A near the site: A's 8 has no higher contour, so it is decided
    only_a = _run(
        _sites([Point(50, 0)]),
        contours=pd.concat([a, _nested(5000, [(20.0, 10)], farm="C")]),
        in_kom=False,
    )
    assert not only_a["geur_onzeker"].iloc[0]
    # without a farm column the next higher contour is the layer's: 20 (of C) > 14
    layer = _run(
        _sites([Point(50, 0)]),
        contours=pd.concat([a, _nested(5000, [(20.0, 10)], farm="C")]).drop(columns="veehouderij"),
        in_kom=False,
    )
    assert layer["geur_onzeker"].iloc[0]
    assert (
        "Ligt in geurcontour 8,0 OUe/m³ maar buiten de contour van 20,0 OUe/m³"
        in layer["geur_reden"].iloc[0]
    )


def test_onzeker_yields_to_a_fixed_distance_knelpunt():
    contours = _nested(0, [(8.0, 100), (20.0, 10)])
    farms = _farms([("Hoeve", np.nan, Point(30, 0))], factor=[False])
    result = _run(_sites([Point(50, 0)]), contours=contours, farms=farms, in_kom=False)
    assert result["geur_knelpunt"].iloc[0] and not result["geur_onzeker"].iloc[0]
    assert result["geur_reden"].iloc[0].startswith("Ligt op 20 m van veehouderij 'Hoeve'")


# ---------------------------------------------------------------------------
# fixed distances
# ---------------------------------------------------------------------------


def test_farm_without_emission_factor_inside_and_outside_kom():
    # dairy cattle (no emission factor): 100 m inside the kom, 50 m outside, from the farm point
    farms = _farms([("Hoeve De Kamp", np.nan, Point(0, 0))], factor=[False])
    # 38 m and 60 m from the farm; inside the kom (100 m) both violate, outside (50 m) only the 38 m
    # site
    sites = _sites([Point(38, 0), Point(0, 60), Point(38, 0), Point(0, 60)])
    result = _run(sites, farms=farms, in_kom=[True, True, False, False])
    assert result["geur_knelpunt_afstand"].tolist() == [True, True, True, False]
    assert result["geur_binnen_vaste_afstand"].tolist() == [True, True, True, False]
    assert result["geur_knelpunt"].tolist() == [True, True, True, False]
    assert result["geur_vaste_afstand_m"].tolist() == [100.0, 100.0, 50.0, 50.0]
    assert result["veehouderij"].tolist() == ["Hoeve De Kamp"] * 4
    assert result["veehouderij_afstand_m"].tolist() == pytest.approx([38.0, 60.0, 38.0, 60.0])
    assert result["geur_reden"].iloc[2] == (
        "Ligt op 38 m van veehouderij 'Hoeve De Kamp' met dieren zonder geuremissiefactor; "
        "vaste afstand buiten de bebouwde kom is 50 m" + CITE_DISTANCE
    )
    assert result["geur_reden"].iloc[1] == (
        "Ligt op 60 m van veehouderij 'Hoeve De Kamp' met dieren zonder geuremissiefactor; "
        "vaste afstand binnen de bebouwde kom is 100 m" + CITE_DISTANCE
    )
    assert result["geur_reden"].iloc[3] == ""
    assert "Wgv" not in "".join(result["geur_reden"])


def test_farm_without_emission_factor_polygon_measures_from_the_stable():
    # a 20 x 20 m dairy stable, no emission factor: 100 m / 50 m from its outline
    farms = _farms([("Melkvee", np.nan, box(0, 0, 20, 20))], factor=[False])
    result = _run(_sites([Point(60, 10), Point(80, 10)]), farms=farms, in_kom=False)
    assert result["veehouderij_afstand_m"].tolist() == pytest.approx([40.0, 60.0])
    assert result["geur_knelpunt_afstand"].tolist() == [True, False]
    assert result["geur_vaste_afstand_m"].tolist() == [50.0, 50.0]


def test_exactly_at_the_fixed_distance_is_not_closer():
    farms = _farms([("A", np.nan, Point(0, 0))], factor=[False])
    result = _run(_sites([Point(50, 0), Point(49.6, 0)]), farms=farms, in_kom=False)
    assert result["geur_knelpunt_afstand"].tolist() == [False, True]
    # 49.6 m is not rounded up to the required 50 m in the text
    assert result["geur_reden"].iloc[1].startswith("Ligt op 49,6 m van veehouderij 'A'")


def test_farm_with_emission_factor_facade_to_facade():
    # pigs (with an emission factor) in a 20 x 20 m stable; sites 20 m and 40 m from its nearest
    # façade
    farms = _farms([("Varkenshouderij Zuid", np.nan, box(0, 0, 20, 20))], factor=[True])
    sites = _sites([Point(40, 10), Point(60, 10), Point(40, 10), Point(60, 10)])
    result = _run(sites, farms=farms, in_kom=[True, True, False, False])
    assert result["veehouderij_afstand_m"].tolist() == pytest.approx([20.0, 40.0, 20.0, 40.0])
    # kom 50 m: both; buiten 25 m: only the 20 m site
    assert result["geur_knelpunt_afstand"].tolist() == [True, True, True, False]
    assert result["geur_vaste_afstand_m"].tolist() == [50.0, 50.0, 25.0, 25.0]
    assert result["geur_reden"].iloc[2] == (
        "Ligt op 20 m van dierenverblijf van veehouderij 'Varkenshouderij Zuid' (gevel tot gevel); "
        "minimumafstand gevel tot gevel buiten de bebouwde kom is 25 m" + CITE_DISTANCE
    )


def test_point_farm_with_emission_factor_measures_from_the_point_and_says_so():
    farms = _farms([("Pluimvee", np.nan, Point(0, 0))], factor=[True])
    # outside the kom 25 m: 20 m violates, 30 m does not; inside the kom 50 m: 30 m violates
    result = _run(
        _sites([Point(20, 0), Point(30, 0), Point(30, 0)]), farms=farms, in_kom=[False, False, True]
    )
    assert result["geur_knelpunt_afstand"].tolist() == [True, False, True]
    assert result["geur_vaste_afstand_m"].tolist() == [25.0, 25.0, 50.0]
    assert result["geur_reden"].iloc[0] == (
        "Ligt op 20 m van veehouderij 'Pluimvee', gemeten vanaf het punt omdat de omtrek van het "
        "dierenverblijf onbekend is; minimumafstand gevel tot gevel buiten de bebouwde kom is 25 m"
        + CITE_DISTANCE
    )


@pytest.mark.parametrize("factor", [None, [None]])
def test_unknown_emission_factor_takes_the_strictest_distance(factor):
    # no field (None) or an empty value ([None]): a stable footprint gets 100 m / 50 m, not 50 m /
    # 25 m
    farms = _farms([("Onbekend", np.nan, box(0, 0, 20, 20))], factor=factor)
    sites = _sites([Point(60, 10), Point(60, 10), Point(90, 10)])  # 40, 40 and 70 m from the stable
    result = _run(sites, farms=farms, in_kom=[True, False, False])
    assert result["geur_vaste_afstand_m"].tolist() == [100.0, 50.0, 50.0]
    assert result["geur_knelpunt_afstand"].tolist() == [True, True, False]
    assert result["geur_reden"].iloc[1] == (
        "Ligt op 40 m van veehouderij 'Onbekend'; of de dieren een geuremissiefactor hebben is"
        " onbekend, dus geldt de strengste vaste afstand buiten de bebouwde kom: 50 m"
        + CITE_DISTANCE
    )


def test_own_distance_raises_the_minimum():
    # a legacy stankcirkel of 150 m around a farm without emission factor; a site at 120 m outside
    # the kom (the 50 m minimum would pass) violates it
    farms = _farms([("Hoeve Oud", 150.0, Point(0, 0))], factor=[False])
    result = _run(_sites([Point(120, 0), Point(0, 160)]), farms=farms, in_kom=False)
    assert result["geur_knelpunt_afstand"].tolist() == [True, False]
    assert result["geur_vaste_afstand_m"].tolist() == [150.0, 150.0]
    assert (
        result["geur_reden"].iloc[0]
        == "Ligt op 120 m van veehouderij 'Hoeve Oud', binnen de eigen vaste afstand van 150 m van"
        " die veehouderij (omgevingsplan of stankcirkel; wettelijk minimum buiten de bebouwde"
        " kom 50 m)"
    )


def test_own_distance_below_the_minimum_never_lowers_it():
    # an own distance of 10 m does not lift the 100 m minimum inside the kom: 30 m still violates
    # (this test used to assert the opposite, which was the error)
    farms = _farms([("Klein", 10.0, Point(0, 0))], factor=[False])
    result = _run(_sites([Point(30, 0), Point(120, 0)]), farms=farms, in_kom=True)
    assert result["geur_knelpunt_afstand"].tolist() == [True, False]
    assert result["geur_vaste_afstand_m"].tolist() == [100.0, 100.0]
    assert (
        "met dieren zonder geuremissiefactor; vaste afstand binnen de bebouwde kom is 100 m"
        in (result["geur_reden"].iloc[0])
    )
    # with an emission factor the façade minimum (25 m outside the kom) still holds against an own
    # 10 m
    farms = _farms([("Klein", 10.0, box(0, 0, 10, 10))], factor=[True])
    result = _run(_sites([Point(30, 5)]), farms=farms, in_kom=False)
    assert result["geur_knelpunt_afstand"].iloc[0]
    assert result["geur_vaste_afstand_m"].iloc[0] == 25.0


def test_violating_farm_differs_from_nearest():
    # nearest farm A is a stable footprint 40 m away (with emission factor, outside the kom 25 m:
    # fine);
    # farm B is 100 m away but has its own distance of 200 m (violated)
    farms = _farms(
        [
            ("A dichtbij", np.nan, box(40, -5, 50, 5)),  # footprint, 40 m away, 25 m: fine
            ("B stankcirkel", 200.0, Point(-100, 0)),  # 100 m away, own distance 200 m: violated
        ],
        factor=[True, False],
    )
    result = _run(_sites([Point(0, 0)], index=["x"]), farms=farms, in_kom=False)
    row = result.loc["x"]
    assert row["veehouderij"] == "A dichtbij"
    assert row["veehouderij_afstand_m"] == pytest.approx(40.0)
    assert row["geur_knelpunt_afstand"]
    assert row["geur_vaste_afstand_m"] == 200.0
    assert "veehouderij 'B stankcirkel'" in row["geur_reden"]
    assert "Ligt op 100 m" in row["geur_reden"]


def test_several_violating_farms_name_the_nearest_violating_one():
    farms = _farms(
        [
            ("Ver", np.nan, Point(0, 45)),
            ("Dichter", np.nan, Point(30, 0)),
        ],
        factor=[False, False],
    )
    result = _run(_sites([Point(0, 0)]), farms=farms, in_kom=False)
    assert result["geur_reden"].iloc[0].startswith("Ligt op 30 m van veehouderij 'Dichter'")


def test_nearest_farm_without_violation_reports_its_required_distance():
    farms = _farms(
        [("Ver weg", np.nan, box(0, 0, 10, 10)), ("Onbekend", np.nan, box(0, 2000, 10, 2010))],
        factor=[True, None],
    )
    result = _run(_sites([Point(510, 5), Point(510, 2005)]), farms=farms, in_kom=True)
    assert result["veehouderij"].tolist() == ["Ver weg", "Onbekend"]
    assert result["veehouderij_afstand_m"].tolist() == pytest.approx([500.0, 500.0])
    # footprint with emission factor inside the kom: 50 m; unknown: the strictest, 100 m
    assert result["geur_vaste_afstand_m"].tolist() == [50.0, 100.0]
    assert not result["geur_knelpunt"].any()


def test_multipoint_and_mixed_geometry_farms():
    # each part of a farm is measured on its own; the farm's emission factor sets the distance
    from shapely.geometry import GeometryCollection

    farms = _farms(
        [
            ("Twee punten", np.nan, MultiPoint([(0, 0), (1000, 0)])),
            ("Gemengd", np.nan, GeometryCollection([box(5000, 0, 5010, 10), Point(5100, 5)])),
            (
                "Genest",
                np.nan,
                GeometryCollection([MultiPoint([(9000, 0), (9500, 0)]), box(9900, 0, 9910, 10)]),
            ),
        ],
        factor=[False, True, None],
    )
    sites = _sites(
        [Point(1040, 0), Point(5030, 5), Point(5100, 50), Point(5100, 20), Point(9540, 0)]
    )
    result = _run(sites, farms=farms, in_kom=False)
    assert result["veehouderij"].tolist() == [
        "Twee punten",
        "Gemengd",
        "Gemengd",
        "Gemengd",
        "Genest",
    ]
    assert result["veehouderij_afstand_m"].tolist() == pytest.approx([40.0, 20.0, 45.0, 15.0, 40.0])
    # no factor 50 m; with factor 25 m (stable 20 m: violated, point 45 m: fine, point 15 m:
    # violated);
    # unknown: the strictest 50 m (40 m from a nested point: violated)
    assert result["geur_knelpunt_afstand"].tolist() == [True, True, False, True, True]
    assert "zonder geuremissiefactor" in result["geur_reden"].iloc[0]
    assert "dierenverblijf" in result["geur_reden"].iloc[1]
    assert "omtrek van het dierenverblijf onbekend" in result["geur_reden"].iloc[3]
    assert "strengste vaste afstand" in result["geur_reden"].iloc[4]


def test_polygon_site_uses_shortest_distance():
    farms = _farms([("Hoeve", np.nan, Point(0, 0))], factor=[False])
    site = Polygon([(30, -10), (200, -10), (200, 10), (30, 10)])  # nearest edge at x = 30
    result = _run(_sites([site]), farms=farms, in_kom=False)
    assert result["veehouderij_afstand_m"].iloc[0] == pytest.approx(30.0)
    assert result["geur_knelpunt_afstand"].iloc[0]
    # an emission point inside the site polygon is at distance 0
    result = _run(_sites([box(-10, -10, 10, 10)]), farms=farms, in_kom=False)
    assert result["veehouderij_afstand_m"].iloc[0] == 0.0
    assert result["geur_knelpunt_afstand"].iloc[0]


# ---------------------------------------------------------------------------
# reasons
# ---------------------------------------------------------------------------


def test_both_rules_are_joined_and_kom_source_is_named():
    contours = _contours([(20.0, box(-100, -100, 100, 100))])
    farms = _farms([("Hoeve De Kamp", np.nan, Point(0, 0))], factor=[False])
    result = _run(
        _sites([Point(38, 0)]),
        contours=contours,
        farms=farms,
        in_kom=True,
        kom_source=KOM_SOURCE_BBG,
    )
    kom = "binnen de bebouwde kom (bestaand bebouwd gebied als benadering van de bebouwde kom)"
    assert result["geur_knelpunt_contour"].iloc[0] and result["geur_knelpunt_afstand"].iloc[0]
    assert (
        result["geur_reden"].iloc[0]
        == f"Ligt in geurcontour 20,0 OUe/m³; norm {kom} in concentratiegebied is 3,0"
        f" OUe/m³{CITE_NORM}; ligt op 38 m van veehouderij 'Hoeve De Kamp' met dieren zonder"
        f" geuremissiefactor; vaste afstand {kom} is 100 m{CITE_DISTANCE}"
    )


def test_reason_names_the_gemeente_and_whether_the_norm_is_its_own():
    contours = _contours([(20.0, box(-100, -100, 100, 100))])
    farms = _farms([("Hoeve", np.nan, Point(0, 0))], factor=[False])
    sites = _sites([Point(30, 0), Point(-30, 0), Point(0, 30)])
    result = assess_odour(
        sites,
        in_kom=np.zeros(3, bool),
        concentration_area=np.ones(3, bool),
        norm_oue=np.array([14.0, 10.0, 14.0]),
        kom_source=KOM_SOURCE_KOM,
        contours=contours,
        farms=farms,
        point_distance_kom_m=np.full(3, 100.0),
        point_distance_outside_m=np.full(3, 50.0),
        facade_distance_kom_m=np.full(3, 50.0),
        facade_distance_outside_m=np.full(3, 25.0),
        gemeente=np.array(["Venlo", "Venray", None], dtype=object),
        norm_from_plan=np.array([False, True, False]),
    )
    reasons = result["geur_reden"].tolist()
    assert (
        "norm buiten de bebouwde kom in concentratiegebied is 14,0 OUe/m³ (Bkl, standaardwaarde;"
        " omgevingsplan gemeente Venlo)" in reasons[0]
    )
    assert "(Bkl, vaste afstand; omgevingsplan gemeente Venlo)" in reasons[0]
    assert "is 10,0 OUe/m³ (eigen waarde in het omgevingsplan gemeente Venray)" in reasons[1]
    assert "(Bkl, standaardwaarde; omgevingsplan van de gemeente)" in reasons[2]


def test_kom_source_phrase_outside_kom():
    farms = _farms([("Hoeve", np.nan, box(0, 0, 10, 10))], factor=[True])
    result = _run(_sites([Point(20, 5)]), farms=farms, in_kom=False, kom_source=KOM_SOURCE_BBG)
    assert (
        "gevel tot gevel buiten de bebouwde kom (bestaand bebouwd gebied als benadering van de"
        " bebouwde kom) is 25 m" in result["geur_reden"].iloc[0]
    )


def test_unknown_kom_takes_the_strictest_distances_and_says_why():
    # in_kom says "outside", but the kom is unknown: 100 m (no factor) and 50 m (factor) apply
    farms = _farms(
        [("Melkvee", np.nan, Point(0, 0)), ("Varkens", np.nan, box(1000, 0, 1020, 20))],
        factor=[False, True],
    )
    sites = _sites([Point(70, 0), Point(1060, 10)])  # 70 m and 40 m away
    result = _run(sites, farms=farms, in_kom=False, kom_source=KOM_SOURCE_UNKNOWN)
    assert result["geur_vaste_afstand_m"].tolist() == [100.0, 50.0]
    assert result["geur_knelpunt_afstand"].tolist() == [True, True]
    unknown = (
        "bij onbekende ligging ten opzichte van de bebouwde kom (geen laag [lagen.bebouwde_kom] "
        "of [lagen.bebouwd_gebied]: de strengste waarde geldt)"
    )
    assert f"vaste afstand {unknown} is 100 m" in result["geur_reden"].iloc[0]
    assert f"gevel tot gevel {unknown} is 50 m" in result["geur_reden"].iloc[1]
    # the same sites with a known kom status outside the kom: 50 m and 25 m, no knelpunt
    known = _run(sites, farms=farms, in_kom=False)
    assert known["geur_knelpunt_afstand"].tolist() == [False, False]


def test_progress_and_log(caplog):
    calls = []
    contours = _contours([(20.0, box(0, 0, 10, 10))])
    with caplog.at_level(logging.INFO, logger="locatietoets.analysis.odour"):
        _run(
            _sites([Point(5, 5), FAR]),
            contours=contours,
            progress=lambda f, m: calls.append((f, m)),
        )
    assert calls[0][0] == 0.0 and calls[-1][0] == 1.0
    assert all(0.0 <= f <= 1.0 for f, _ in calls)
    assert [f for f, _ in calls] == sorted(f for f, _ in calls)
    assert "geurtoets: 1 locaties in een geurcontour, 1 knelpunten" in caplog.text


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------


def test_missing_columns_raise_input_error_naming_layers():
    contours = gpd.GeoDataFrame({"geur": [3.0]}, geometry=[box(0, 0, 1, 1)], crs=CRS)
    farms = gpd.GeoDataFrame({"id": ["A"]}, geometry=[Point(0, 0)], crs=CRS)
    with pytest.raises(InputError) as info:
        _run(_sites([Point(0, 0)]), contours=contours, farms=farms)
    problems = info.value.problems
    assert len(problems) == 3
    assert (
        "[lagen.geurcontouren]" in problems[0]
        and "'waarde'" in problems[0]
        and "waarde_veld" in problems[0]
    )
    assert any("[lagen.veehouderijen]" in p and "'naam'" in p for p in problems)
    assert any("[lagen.veehouderijen]" in p and "'vaste_afstand_m'" in p for p in problems)
    assert isinstance(info.value, ValueError)


def test_crs_mismatch_raises():
    contours = _contours([(3.0, box(0, 0, 1, 1))]).set_crs("EPSG:4326", allow_override=True)
    with pytest.raises(InputError, match=r"\[lagen\.geurcontouren\].*EPSG:4326.*EPSG:28992"):
        _run(_sites([Point(0, 0)]), contours=contours)


def test_misaligned_arrays_raise():
    two = np.full(2, 50.0)
    with pytest.raises(ValueError, match="norm_oue"):
        assess_odour(
            _sites([Point(0, 0), Point(1, 1)]),
            in_kom=np.zeros(2, bool),
            concentration_area=np.ones(2, bool),
            norm_oue=np.full(3, 3.0),
            kom_source=KOM_SOURCE_KOM,
            contours=None,
            farms=None,
            point_distance_kom_m=two,
            point_distance_outside_m=two,
            facade_distance_kom_m=two,
            facade_distance_outside_m=two,
        )


# ---------------------------------------------------------------------------
# vectorised shortcuts against brute force
# ---------------------------------------------------------------------------


def test_random_layout_matches_brute_force():
    """Nearest farm (k-d screening), highest contour and violations equal an all-pairs
    computation."""
    import shapely

    rng = np.random.default_rng(42)
    n_sites, n_farms = 1500, 200
    xy = rng.random((n_sites, 2)) * 5000
    sites = shapely.points(xy)
    # a third polygon sites, some of them large (forces the exact fallback path)
    size = np.where(rng.random(n_sites) < 0.05, 800.0, 30.0)
    poly = rng.random(n_sites) < 0.33
    sites[poly] = shapely.box(
        xy[poly, 0], xy[poly, 1], xy[poly, 0] + size[poly], xy[poly, 1] + size[poly] / 2
    )
    fxy = rng.random((n_farms, 2)) * 5000
    farm_geoms = shapely.points(fxy)
    half = n_farms // 2
    farm_geoms[half:] = shapely.box(
        fxy[half:, 0], fxy[half:, 1], fxy[half:, 0] + 60, fxy[half:, 1] + 25
    )
    own = np.where(rng.random(n_farms) < 0.2, rng.uniform(10, 250, n_farms), np.nan)
    factor = rng.choice([0.0, 1.0, np.nan], n_farms)
    farms = gpd.GeoDataFrame(
        {
            "naam": [f"F{i}" for i in range(n_farms)],
            "vaste_afstand_m": own,
            "geuremissiefactor": factor,
        },
        geometry=farm_geoms,
        crs=CRS,
    )
    cxy = rng.random((150, 2)) * 5000
    cvals = rng.choice([1.0, 2.0, 5.0, 8.0, 10.0, 20.0, 35.0], 150)
    cgeoms = shapely.buffer(shapely.points(cxy), 400 / np.sqrt(cvals))
    contours = gpd.GeoDataFrame({"waarde": cvals}, geometry=cgeoms, crs=CRS)
    in_kom = rng.random(n_sites) < 0.4

    result = _run(
        _sites(sites, index=np.arange(n_sites) * 3 + 1),
        contours=contours,
        farms=farms,
        in_kom=in_kom,
    )

    dist = shapely.distance(sites[:, None], farm_geoms[None, :])  # (sites, farms)
    np.testing.assert_allclose(result["veehouderij_afstand_m"].to_numpy(), dist.min(axis=1))
    # the named farm is at the nearest distance (ties, e.g. two farms inside one big site, may pick
    # either)
    named = result["veehouderij"].str.slice(1).astype(int).to_numpy()
    np.testing.assert_allclose(dist[np.arange(n_sites), named], dist.min(axis=1))
    unique_nearest = (dist == dist.min(axis=1, keepdims=True)).sum(axis=1) == 1
    assert (named[unique_nearest] == dist.argmin(axis=1)[unique_nearest]).all()

    no_factor = np.where(in_kom, 100.0, 50.0)[:, None]
    with_factor = np.where(in_kom, 50.0, 25.0)[:, None]
    minimum = np.where(
        factor[None, :] == 1.0, with_factor, no_factor
    )  # unknown: the strictest = no factor
    required = np.fmax(own[None, :], minimum)
    assert (result["geur_knelpunt_afstand"].to_numpy() == (dist < required).any(axis=1)).all()

    hits = shapely.intersects(sites[:, None], cgeoms[None, :])
    expected_oue = np.where(
        hits.any(axis=1), np.where(hits, cvals[None, :], -np.inf).max(axis=1), np.nan
    )
    np.testing.assert_array_equal(result["geur_oue"].to_numpy(), expected_oue)
    assert (result["geur_in_contour"].to_numpy() == hits.any(axis=1)).all()
    # onzeker: in a contour below the norm whose next higher value in the layer is above it, and no
    # knelpunt
    norm = np.where(in_kom, 3.0, 14.0)
    distinct = np.unique(cvals)
    above = np.where(distinct[None, :] > expected_oue[:, None], distinct[None, :], np.inf).min(
        axis=1
    )
    expected_onzeker = (
        (expected_oue < norm)
        & (above > norm)
        & np.isfinite(above)
        & ~result["geur_knelpunt"].to_numpy()
    )
    assert expected_onzeker.sum() > 20
    assert (result["geur_onzeker"].to_numpy() == expected_onzeker).all()
    # the share of each polygon site in the knelpunt zone, one site at a time
    norm_site = np.where(in_kom, 3.0, 14.0)
    knelpunt = result["geur_knelpunt"].to_numpy()
    share = result["geur_knelpunt_aandeel"].to_numpy()
    assert (share[~knelpunt] == 0).all() and (share[knelpunt & ~poly] == 1).all()
    checked = 0
    for i in np.flatnonzero(knelpunt & poly)[:150]:
        zone = [cgeoms[j] for j in np.flatnonzero(hits[i] & (cvals >= norm_site[i]))]
        zone += [
            shapely.buffer(farm_geoms[j], required[i, j], quad_segs=16)
            for j in np.flatnonzero(dist[i] < required[i])
        ]
        expected = shapely.area(
            shapely.intersection(sites[i], shapely.union_all(zone))
        ) / shapely.area(sites[i])
        assert share[i] == pytest.approx(max(expected, 1e-6), abs=1e-9), i
        checked += 1
    assert checked > 30 and ((share > 0) & (share < 1)).sum() > 10
    # every knelpunt and every onzeker site has a reason, every other site none
    assert (
        (result["geur_reden"] != "") == (result["geur_knelpunt"] | result["geur_onzeker"])
    ).all()


def _irregular_contours(rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Contours as V-Stacks draws them: irregular nested blobs per farm, plus the shapes where a
    single disc around the centroid fails: a ring (centroid in the hole), a C shape (centroid
    outside) and a two-part contour."""
    import shapely

    geoms, values, farm, bron = [], [], [], []
    angle = np.linspace(0, 2 * np.pi, 41)[:-1]
    for f in range(12):
        centre = rng.random(2) * 3000
        wobble = rng.uniform(0.6, 1.4, angle.size)
        for value, scale in ((3.0, 600.0), (8.0, 380.0), (14.0, 240.0), (25.0, 120.0)):
            radius = scale * wobble * rng.uniform(0.9, 1.1, angle.size)
            xy = centre + np.c_[np.cos(angle), np.sin(angle)] * radius[:, None]
            geoms.append(shapely.make_valid(Polygon(xy)))
            values.append(value)
            farm.append(f"Hoeve {f}")
            bron.append(f"V-Stacks {f}-{value:g}")
    ring = shapely.Point(1500, 1500).buffer(700).difference(shapely.Point(1500, 1500).buffer(400))
    c_shape = box(200, 200, 1200, 1200).difference(box(400, 400, 1300, 1000))
    two = shapely.MultiPolygon([box(2500, 100, 2900, 500), box(100, 2500, 500, 2900)])
    for geom, value in ((ring, 14.0), (c_shape, 8.0), (two, 25.0)):
        geoms.append(geom)
        values.append(value)
        farm.append(None)
        bron.append(None)
    return gpd.GeoDataFrame(
        {"waarde": values, "veehouderij": farm, "bron": bron}, geometry=geoms, crs=CRS
    )


def test_blocks_and_irregular_contours_match_one_run_and_brute_force():
    """The contour index is built once per layer and reused: scoring the sites in two blocks
    gives what one run gives, and the bounds that settle most pairs without a polygon test agree
    with testing every pair (irregular, holed, C-shaped and two-part contours)."""
    import shapely

    rng = np.random.default_rng(15)
    contours = _irregular_contours(rng)
    n = 3000
    xy = rng.random((n, 2)) * 3200
    sites = shapely.points(xy)
    poly = rng.random(n) < 0.4
    sites[poly] = shapely.box(xy[poly, 0], xy[poly, 1], xy[poly, 0] + 45, xy[poly, 1] + 30)
    # points on contour vertices (on the boundary: inside)
    vertices = shapely.get_coordinates(contours.geometry.to_numpy())[::19][:100]
    sites[:100] = shapely.points(vertices)
    poly[:100] = False
    farms = _farms([("Hoeve A", np.nan, Point(1000, 1000)), ("Hoeve B", 250.0, Point(2000, 600))])
    in_kom = rng.random(n) < 0.5
    index = np.arange(n) * 2 + 7

    def run(idx: np.ndarray) -> pd.DataFrame:
        return _run(
            _sites(sites[idx], index=index[idx]), contours=contours, farms=farms, in_kom=in_kom[idx]
        )

    whole = run(np.arange(n))
    blocks = pd.concat([run(np.arange(0, 1400)), run(np.arange(1400, n))])
    pd.testing.assert_frame_equal(whole, blocks, check_exact=True)

    cgeoms = contours.geometry.to_numpy()
    hits = shapely.intersects(sites[:, None], cgeoms[None, :])
    assert hits[:100].any(axis=1).all()
    values = contours["waarde"].to_numpy()
    expected = np.where(hits.any(axis=1), np.where(hits, values, -np.inf).max(axis=1), np.nan)
    np.testing.assert_array_equal(whole["geur_oue"].to_numpy(), expected)
    assert 0.3 < whole["geur_in_contour"].mean() < 0.95
    # the site in the ring's hole and the one in the C's opening lie in neither
    probe = _run(
        _sites([Point(1500, 1500), Point(1000, 700), Point(1500, 1000)]),
        contours=contours.iloc[-3:].reset_index(drop=True),
    )
    assert probe["geur_oue"].tolist()[:2] == [pytest.approx(np.nan, nan_ok=True)] * 2
    assert probe["geur_oue"].iloc[2] == 14.0
    # the share of polygon sites in a knelpunt, against one site at a time
    norm = np.where(in_kom, 3.0, 14.0)
    share = whole["geur_knelpunt_aandeel"].to_numpy()
    knelpunt = whole["geur_knelpunt"].to_numpy()
    checked = 0
    for i in np.flatnonzero(knelpunt & poly & ~whole["geur_knelpunt_afstand"].to_numpy())[:200]:
        zone = shapely.union_all(cgeoms[hits[i] & (values >= norm[i])])
        expected_share = shapely.area(shapely.intersection(sites[i], zone)) / shapely.area(sites[i])
        # a share below 0.01 % is shown as 0.01 % (SHARE_EPS): the site is affected
        assert share[i] == pytest.approx(max(expected_share, 1e-4), abs=1e-9), i
        checked += 1
    assert checked > 100 and ((share > 0) & (share < 1)).sum() > 20


def test_sector_bounds_agree_with_the_polygons():
    """The per-sector bounds of each contour's boundary only ever claim what the polygon tests
    say: a disc they put inside lies in the contour's interior, one they put outside misses it
    (irregular, holed, C-shaped, two-part and spiky contours; points on vertices, on edges and on
    the sector rays), and they settle most pairs the discs around the centre leave open."""
    import shapely

    from locatietoets.analysis import odour

    rng = np.random.default_rng(7)
    contours = _irregular_contours(rng)
    angle = np.linspace(0, 2 * np.pi, 13)[:-1]
    star = np.c_[np.cos(angle), np.sin(angle)] * np.where(np.arange(12) % 2, 60.0, 400.0)[:, None]
    holed = box(2000, 2000, 2600, 2600).difference(box(2350, 2350, 2450, 2450))
    contours = pd.concat(
        [
            contours,
            gpd.GeoDataFrame(
                {"waarde": [30.0, 40.0]},
                geometry=[Polygon(star + [1600, 2600]), holed],
                crs=CRS,
            ),
        ],
        ignore_index=True,
    )
    index = odour._contour_index(contours)
    sectors = odour._contour_sectors(contours, index)
    assert (sectors.count > 0).mean() > 0.9 and sectors.count.max() <= 128
    cgeoms = contours.geometry.to_numpy()[index.rows]
    # sites: random points and parcels, every vertex, every edge's midpoint, points on the rays
    xy = rng.random((4000, 2)) * 3200
    coords = shapely.get_coordinates(cgeoms)
    mids = (coords[:-1] + coords[1:]) / 2
    c = int(np.argmax(sectors.count))
    rays = np.arange(sectors.count[c]) * 2 * np.pi / sectors.count[c]
    radii = rng.uniform(0.2, 1.2, rays.size) * index.outer[c]
    on_rays = index.centre[c] + np.c_[np.cos(rays), np.sin(rays)] * radii[:, None]
    points = shapely.points(np.concatenate([xy, coords, mids, on_rays]))
    parcels = shapely.box(xy[:1500, 0], xy[:1500, 1], xy[:1500, 0] + 45, xy[:1500, 1] + 30)
    sites = np.concatenate([points, parcels])
    info = odour._site_info(sites)
    pos, site = shapely.STRtree(sites).query(index.boxes)
    reach = info.radius[site] + odour._MARGIN_M
    dx, dy = (info.centre[site] - index.centre[pos]).T
    inside, outside = sectors.settle(pos, dx, dy, reach)
    assert not (inside & outside).any()
    assert shapely.contains_properly(cgeoms[pos[inside]], sites[site[inside]]).all()
    assert not shapely.intersects(cgeoms[pos[outside]], sites[site[outside]]).any()
    # on a vertex or an edge: on the boundary, never in the interior
    boundary = shapely.intersects(shapely.boundary(cgeoms[pos]), sites[site])
    assert boundary.sum() > 500 and not inside[boundary].any()
    # the pairs the discs around the centre cannot settle: most are settled by the sectors
    dist = np.hypot(*(info.centre[site] - index.centre[pos]).T)
    band = (dist + reach >= index.inner[pos]) & (dist - reach <= index.outer[pos])
    random_point = site < len(xy)
    assert (inside | outside)[band & random_point].mean() > 0.7
    point = ~info.extended[site]
    assert (inside | outside)[band & ~point].mean() > 0.4


def test_point_distances_equal_geos_bit_for_bit():
    """Site-farm distances between two points are computed in numpy; they must equal GEOS's to
    the last bit (the fixed-distance test is strict: ``distance < required``), also beside
    polygon sites and stable footprints, which keep GEOS."""
    import shapely

    from locatietoets.analysis import odour

    rng = np.random.default_rng(3)
    xy = 150_000 + rng.random((20_000, 2)) * 40_000
    sites = shapely.points(xy)
    sites[::7] = shapely.buffer(sites[::7], 15.0, quad_segs=2)
    farm_xy = np.r_[xy[:500] + rng.normal(0, 60, (500, 2)), xy[500:510] + [30.0, 40.0]]
    farm_geoms = shapely.points(farm_xy)
    farm_geoms[::5] = shapely.box(*(farm_xy[::5] - 20).T, *(farm_xy[::5] + 20).T)
    farms = _farms([(f"F{i}", np.nan, g) for i, g in enumerate(farm_geoms)])
    info = odour._site_info(sites)
    index = odour._farm_index(farms)
    site = rng.integers(0, len(sites), 200_000)
    site[:10] = np.arange(500, 510)  # exactly 50 m from their farm
    part = rng.integers(0, len(index.parts), 200_000)
    part[:10] = np.arange(500, 510)
    got = odour._pair_distance(info, site, index, part)
    np.testing.assert_array_equal(got, shapely.distance(sites[site], index.parts[part]))
    both = info.point[site] & index.part_is_point[part]
    assert 0.5 < both.mean() < 0.8 and both[:10].sum() >= 5
    assert (got[:10][both[:10]] == 50.0).all()


def test_a_changed_contour_layer_is_not_served_from_the_cache():
    contours = _contours([(8.0, box(0, 0, 100, 100)), (20.0, box(40, 40, 60, 60))])
    sites = _sites([Point(50, 50), Point(10, 10), Point(150, 50)])
    first = _run(sites, contours=contours)
    assert first["geur_oue"].tolist()[:2] == [20.0, 8.0]
    changed = contours.copy()
    changed["waarde"] = [5.0, 30.0]
    assert _run(sites, contours=changed)["geur_oue"].tolist()[:2] == [30.0, 5.0]
    moved = contours.copy()
    moved.geometry = moved.translate(100, 0)
    # the 20 contour now lies over x 140-160, the 8 contour over x 100-200
    assert _run(sites, contours=moved)["geur_oue"].tolist()[1:] == [
        pytest.approx(np.nan, nan_ok=True),
        20.0,
    ]
    # and the first layer still gives its own answer
    pd.testing.assert_frame_equal(_run(sites, contours=contours), first)
