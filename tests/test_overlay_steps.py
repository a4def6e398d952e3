"""The gemeente step: per-gemeente rule-set values looked up once per distinct gemeente."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point, box

from locatietoets.analysis.steps import (
    Inputs,
    StepProgress,
    locate_gemeente,
    site_parameters,
    start_run,
)
from locatietoets.layers.io.rules import read_ruleset_file


def test_site_parameters_per_distinct_gemeente_equal_the_lookup_per_site():
    # Venlo by name, Venray by code, a site outside every gemeente, one without geometry
    rs = read_ruleset_file().with_overrides(
        {"bbg_rand_m": 100},
        {"Venlo": {"bbg_rand_m": 400}, "GM0984": {"concentratiegebied": False}},
    )
    gemeenten = gpd.GeoDataFrame(
        {"naam": ["Venlo", "Venray"], "code": ["GM0983", "GM0984"]},
        geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)],
        crs=28992,
    )
    geoms = [Point(50, 50), Point(150, 50), Point(500, 500), None, box(90, 0, 130, 10)]
    geoms += [Point(20, 20), Point(170, 80)]
    sites = gpd.GeoDataFrame(
        {"locatie_id": [f"L{i}" for i in range(len(geoms))], "verblijfstype": "short_stay"},
        geometry=geoms,
        crs=28992,
    )
    run = start_run(sites, StepProgress([("gemeente", "", 1.0)], None, None))
    locate_gemeente(run, Inputs(sites=sites, gemeenten=gemeenten), rs)
    f = run.fields
    assert f["gemeente"][0] == "Venlo" and f["gemeente"][1] == "Venray"
    assert pd.isna(f["gemeente"][2]) and pd.isna(f["gemeente"][3])
    assert f["gemeente"][4] == "Venray"  # 75 % in Venray
    assert f["regio"].notna().sum() == 5
    params = site_parameters(run, rs)
    code, name = f["gemeente_code"], f["gemeente"]
    for p, values in params.items():
        direct = rs.per_site(p, code, name)
        assert values.dtype == direct.dtype, p
        np.testing.assert_array_equal(values, direct, err_msg=p)
    np.testing.assert_array_equal(params["bbg_rand_m"], [400, 100, 100, 100, 100, 400, 100])
    np.testing.assert_array_equal(
        params["concentratiegebied"], [True, False, True, True, False, True, False]
    )
    regio = rs.region_of(code, name).to_numpy()
    assert [str(v) for v in f["regio"]] == [str(v) for v in regio]


def _as_pandas_stores(values: list) -> pd.Series:
    """What pandas makes of an object array assigned to a frame (how the steps stored text
    fields before they were taken in Arrow)."""
    frame = pd.DataFrame(index=pd.RangeIndex(len(values)))
    frame["x"] = np.array(values, dtype=object)
    return frame["x"]


def test_text_fields_are_what_pandas_makes_of_the_object_arrays():
    # gemeente, code, regio, BBG position, kom source and park name are taken in Arrow from the
    # layers' few values; the columns (dtype, missing values) must be those pandas made of the
    # object arrays of one string per site: a site outside every gemeente and park, one
    # without geometry, a gemeente without a name, a regio column of numbers (stays object) and
    # a layer where no site finds a park (all missing: object)
    from locatietoets.analysis.overlay import assign_polygon_attribute
    from locatietoets.analysis.steps import position_vs_bbg, recreation_parks

    rs = read_ruleset_file()
    gemeenten = gpd.GeoDataFrame(
        {"naam": ["Venlo", None], "code": ["GM0983", "GM0984"]},
        geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)],
        crs=28992,
    )
    bbg = gpd.GeoDataFrame(geometry=[box(0, 0, 60, 100).difference(box(20, 20, 30, 30))], crs=28992)
    parks = gpd.GeoDataFrame({"naam": ["De Berken"]}, geometry=[box(140, 0, 200, 50)], crs=28992)
    geoms = [Point(50, 50), Point(150, 40), Point(500, 500), None, box(90, 0, 130, 10)]
    geoms += [Point(25, 25), box(55, 0, 75, 10)]
    sites = gpd.GeoDataFrame(
        {"locatie_id": [f"L{i}" for i in range(len(geoms))], "verblijfstype": "short_stay"},
        geometry=geoms,
        crs=28992,
    )
    has_geom = np.array([g is not None for g in geoms])

    def with_none(values: pd.Series) -> list:
        out = [None] * len(geoms)
        for i, v in zip(np.flatnonzero(has_geom), values.to_numpy(dtype=object)):
            out[i] = v
        return out

    def scored(gem: gpd.GeoDataFrame, park_layer: gpd.GeoDataFrame) -> pd.DataFrame:
        plan = [(step, "", 1.0) for step in ("gemeente", "bbg", "recreatie")]
        run = start_run(sites, StepProgress(plan, None, None))
        inputs = Inputs(sites=sites, gemeenten=gem, bbg=bbg, parks=park_layer)
        locate_gemeente(run, inputs, rs)
        run.params = site_parameters(run, rs)
        position_vs_bbg(run, inputs)
        recreation_parks(run, inputs)
        return run.fields

    geo = sites.geometry[has_geom]
    for gem, park_layer in ((gemeenten, parks), (gemeenten.assign(regio=[1, 2]), parks[:0])):
        f = scored(gem, park_layer)
        named = assign_polygon_attribute(
            geo, gem, [c for c in ("naam", "code", "regio") if c in gem]
        )
        park = assign_polygon_attribute(geo, park_layer, ["naam"], min_share=1e-4)
        expected = {
            "gemeente": with_none(named["naam"]),
            "gemeente_code": with_none(named["code"]),
            "regio": (
                with_none(named["regio"])
                if "regio" in gem
                else list(rs.region_of(f["gemeente_code"], f["gemeente"]).to_numpy())
            ),
            "bbg_ligging": ["binnen", "rand", "buiten", None, "rand", "rand", "deels"],
            "kom_bron": [
                "bestaand bebouwd gebied als benadering van de bebouwde kom" if h else None
                for h in has_geom
            ],
            "recreatiepark": with_none(park["naam"]),
        }
        for name, values in expected.items():
            pd.testing.assert_series_equal(
                f[name], _as_pandas_stores(values), check_names=False, obj=name
            )
        assert str(f["gemeente"].dtype) == "str" and f["gemeente"].isna().tolist() == [
            False,
            True,
            True,
            True,
            True,
            False,
            False,
        ]
        assert (f["regio"].dtype == object) == (gem is not gemeenten)
        assert (f["recreatiepark"].dtype == object) == (park_layer is not parks)
