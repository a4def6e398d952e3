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
