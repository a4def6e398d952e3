"""Hand-computable tests of the BBG, park and gemeente overlays."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from shapely.geometry import Point, box

from analysis.overlay import assign_polygon_attribute, classify_bbg, inside_share

BBG = gpd.GeoSeries([box(0, 0, 1000, 1000), box(2000, 0, 2500, 500)], crs=28992)


def test_points_binnen_rand_buiten_with_distances():
    sites = gpd.GeoSeries(
        [Point(500, 500), Point(1000, 500), Point(1100, 500), Point(1250, 500), Point(1500, 500), Point(3000, 250)],
        crs=28992,
    )
    out = classify_bbg(sites, BBG, rand_m=250.0, inside_share_min=0.5)
    assert out["bbg_ligging"].tolist() == ["binnen", "binnen", "rand", "rand", "buiten", "buiten"]
    # boundary point counts as inside; distances to the nearest BBG polygon
    np.testing.assert_allclose(out["bbg_afstand_m"], [0, 0, 100, 250, 500, 500])


def test_polygon_share_threshold_and_partial_overlap_is_rand():
    # 60 % inside, 40 % inside, entirely outside at 50 m
    sites = gpd.GeoSeries([box(900, 0, 1066.6667, 100), box(940, 0, 1090, 100), box(1050, 0, 1150, 100)], crs=28992)
    out = classify_bbg(sites, BBG, rand_m=250.0, inside_share_min=0.5)
    np.testing.assert_allclose(out["bbg_aandeel"], [0.6, 0.4, 0.0], atol=1e-3)
    assert out["bbg_ligging"].tolist() == ["binnen", "rand", "rand"]
    np.testing.assert_allclose(out["bbg_afstand_m"], [0, 0, 50])


def test_per_site_rand_width():
    sites = gpd.GeoSeries([Point(1400, 500), Point(1400, 500)], crs=28992, index=[10, 20])
    out = classify_bbg(sites, BBG, rand_m=np.array([250.0, 600.0]), inside_share_min=0.5)
    assert out.index.tolist() == [10, 20]
    assert out["bbg_ligging"].tolist() == ["buiten", "rand"]


def test_overlapping_bbg_polygons_are_not_counted_twice():
    overlapping = gpd.GeoSeries([box(0, 0, 100, 100), box(0, 0, 100, 100)], crs=28992)
    site = gpd.GeoSeries([box(50, 0, 150, 100)], crs=28992)
    np.testing.assert_allclose(inside_share(site, overlapping), [0.5])


def test_assign_polygon_attribute_largest_overlap_and_min_share():
    parks = gpd.GeoDataFrame({"naam": ["Noord", "Zuid"]}, geometry=[box(0, 0, 100, 100), box(0, 100, 100, 200)], crs=28992)
    sites = gpd.GeoSeries([Point(50, 50), box(0, 80, 100, 180), box(0, 190, 100, 290), Point(500, 500)], crs=28992)
    out = assign_polygon_attribute(sites, parks, ["naam"], min_share=0.5)
    # site 2: 80 % in Zuid; site 3: only 10 % in Zuid (below the minimum share)
    assert out["naam"].tolist()[:2] == ["Noord", "Zuid"]
    assert out["naam"].iloc[2:].isna().all()
    np.testing.assert_allclose(out["_aandeel"], [1.0, 0.8, 0.0, 0.0])


def test_point_on_shared_boundary_goes_to_first_polygon():
    gem = gpd.GeoDataFrame({"naam": ["A", "B"]}, geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=28992)
    out = assign_polygon_attribute(gpd.GeoSeries([Point(100, 50)], crs=28992), gem, ["naam"])
    assert out["naam"].tolist() == ["A"]
