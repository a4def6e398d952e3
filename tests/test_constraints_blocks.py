"""Constraint zones are built once per run and reused by every block of sites (issue 15).

The zone of a rule (union of the chosen features, grown by ``buffer_m``, the features cut out
with ``alleen_buiten``) and the trees over the layer are derived from the features frame alone:
scoring the sites in blocks must give exactly what one call gives, build each zone once, and
a different frame must never be answered from another frame's zone.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, MultiPoint, MultiPolygon, Point, Polygon, box

from locatietoets.analysis import constraints
from locatietoets.analysis.constraints import measure_layer, zone_share
from locatietoets.analysis.derived import clear_derived

RD = "EPSG:28992"


def _layer() -> gpd.GeoDataFrame:
    holed = Polygon(
        [(0, 0), (100, 0), (100, 100), (0, 100)], [[(40, 40), (60, 40), (60, 60), (40, 60)]]
    )
    return gpd.GeoDataFrame(
        {"naam": ["Heide", "Ven"], "waarde": [10.0, 1.0]},
        geometry=[MultiPolygon([holed, box(0, 150, 50, 200)]), box(200, 0, 300, 100)],
        crs=RD,
    )


def _sites() -> gpd.GeoSeries:
    return gpd.GeoSeries(
        [
            Point(50, 50),  # in the hole, 10 m from the heath
            Point(20, 20),  # inside the heath
            Point(110, 50),  # 10 m east of the heath, 90 m west of the fen
            box(90, 10, 110, 30),  # half on the heath
            MultiPoint([(20, 20), (105, 20)]),  # one of two points on the heath
            Point(150, 50),  # 50 m from both, beyond every reach
        ],
        crs=RD,
    )


BUFFER = np.array([10.0, 0.0, 10.0, 10.0, 0.0, 10.0])


def _measure_all(sites: gpd.GeoSeries, layer: gpd.GeoDataFrame) -> list[np.ndarray]:
    measured = measure_layer(sites, layer, BUFFER[: len(sites)])
    return [
        measured["naam"].to_numpy(dtype=object),
        measured["afstand_m"].to_numpy(),
        zone_share(sites, layer),
        zone_share(sites, layer, buffer_m=BUFFER[: len(sites)], outside_only=True),
        zone_share(sites, layer, buffer_m=BUFFER[: len(sites)], min_value=5.0),
    ]


def test_hand_computed_shares_and_names():
    clear_derived()
    name, distance, plain, ring, heath = _measure_all(_sites(), _layer())
    assert list(name[:5]) == ["Heide"] * 5 and pd.isna(name[5])
    np.testing.assert_allclose(distance, [10, 0, 10, 0, 0, 50])
    np.testing.assert_allclose(plain, [0, 1, 0, 0.5, 0.5, 0])
    # the ring of 10 m around the features, the features left out: the hole's centre is 10 m
    # from the heath (inside), the point on the heath is not; the polygon's half east of x=100
    np.testing.assert_allclose(ring, [1, 0, 1, 0.5, 0, 0])
    np.testing.assert_allclose(heath, [1, 1, 1, 1, 0.5, 0])


def test_blocks_equal_one_call_and_build_each_zone_once(monkeypatch):
    clear_derived()
    sites, layer = _sites(), _layer()
    whole = _measure_all(sites, layer.copy())  # another frame: nothing shared with the blocks
    built = []
    real = constraints._Zone.__init__

    def counting(self, *args, **kwargs):
        built.append((len(args[0]), *args[1:]))  # (features chosen, buffer, alleen_buiten)
        real(self, *args, **kwargs)

    monkeypatch.setattr(constraints._Zone, "__init__", counting)
    blocks = [_measure_blocks(sites.iloc[a:b], layer, a, b) for a, b in [(0, 2), (2, 4), (4, 6)]]
    for i, expected in enumerate(whole):
        got = np.concatenate([block[i] for block in blocks])
        assert pd.Series(got).equals(pd.Series(expected))
    # one zone per (threshold, buffer, alleen_buiten) in the run, not one per block
    assert sorted(built) == sorted(set(built))
    assert len(built) == 5  # plain; ring of 10 and of 0; heath with 10 and with 0


def _measure_blocks(sites, layer, a, b):
    measured = measure_layer(sites, layer, BUFFER[a:b])
    return [
        measured["naam"].to_numpy(dtype=object),
        measured["afstand_m"].to_numpy(),
        zone_share(sites, layer),
        zone_share(sites, layer, buffer_m=BUFFER[a:b], outside_only=True),
        zone_share(sites, layer, buffer_m=BUFFER[a:b], min_value=5.0),
    ]


def test_a_changed_layer_is_not_served_from_the_cache():
    clear_derived()
    sites, layer = _sites(), _layer()
    before = _measure_all(sites, layer)
    moved = layer.copy()
    moved["geometry"] = moved.geometry.translate(xoff=1000)
    moved["naam"] = ["Verder", "Weg"]
    name, distance, plain, ring, heath = _measure_all(sites, moved)
    assert before[2].sum() > 0
    assert pd.isna(name).all()
    assert (distance > 800).all()
    assert not plain.any() and not ring.any() and not heath.any()
    # and the first frame still answers as before
    again = _measure_all(sites, layer)
    for old, new in zip(before, again):
        assert pd.Series(old).equals(pd.Series(new))


def test_each_thread_gets_its_own_prepared_pieces():
    # prepared GEOS geometries must not be tested by two threads at once (dask worker threads)
    import threading

    zone = constraints._Zone(np.asarray(_layer().geometry.values), 10.0, True)
    seen = []
    worker = threading.Thread(target=lambda: seen.append(zone.pieces()))
    worker.start()
    worker.join()
    assert zone.pieces() is zone.pieces()
    assert seen[0] is not zone.pieces()


def _big_layer() -> gpd.GeoDataFrame:
    """Polygons of far more vertices than a piece holds (overlay.MAX_PIECE_VERTICES), so they
    are cut: a holed square (hole 400-600), a second part, and a circle."""
    holed = shapely.segmentize(
        Polygon(
            [(0, 0), (1000, 0), (1000, 1000), (0, 1000)],
            [[(400, 400), (600, 400), (600, 600), (400, 600)]],
        ),
        5.0,
    )
    part = shapely.segmentize(box(0, 1500, 500, 2000), 5.0)
    circle = Point(2000, 500).buffer(300, quad_segs=256)
    return gpd.GeoDataFrame(
        {"naam": ["Heide", "Ven"], "waarde": [10.0, 1.0]},
        geometry=[MultiPolygon([holed, part]), circle],
        crs=RD,
    )


def _big_sites() -> gpd.GeoSeries:
    return gpd.GeoSeries(
        [
            Point(500, 500),  # in the hole: 100 m from the heath
            Point(200, 200),  # inside the heath: 0
            Point(250, 250),  # inside, on a cut line of the pieces (500 / 2 / 2): 0
            Point(1000, 500),  # on the heath's edge: 0
            Point(1010, 500),  # exactly 10 m east of the heath (the buffer)
            Point(1010.5, 500),  # 10.5 m: beyond the buffer
            Point(1500, 500),  # 500 m from the heath, 200 m from the circle
            Point(2000, 500),  # the circle's centre
            box(990, 100, 1010, 120),  # polygon site, half on the heath
            box(1005, 700, 1020, 720),  # polygon site, 5 m from the heath
            Point(5000, 5000),  # beyond every reach
        ],
        crs=RD,
    )


def test_pieces_measure_what_the_whole_polygons_measure():
    """Distances against the cut pieces equal those against the uncut polygons within 1e-9 m
    (the cuts add vertices on the boundary); names and zones are the same."""
    layer, sites = _big_layer(), _big_sites()
    reach = np.full(len(sites), 10.0)
    got = measure_layer(sites, layer, reach)
    whole = np.array(
        [min(shapely.distance(s, f) for f in layer.geometry) for s in sites], dtype=float
    )
    assert np.allclose(got["afstand_m"].to_numpy(), whole, rtol=0, atol=1e-9)
    assert got["afstand_m"].iloc[:4].tolist() == [100.0, 0.0, 0.0, 0.0]
    assert got["afstand_m"].iloc[4] == pytest.approx(10.0, abs=1e-9)
    assert [n if isinstance(n, str) else None for n in got["naam"]] == [
        None,
        "Heide",
        "Heide",
        "Heide",
        "Heide",
        None,
        None,
        "Ven",
        "Heide",
        "Heide",
        None,
    ]
    inside = zone_share(sites, layer)
    assert inside[:8].tolist() == [0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    assert inside[8] == pytest.approx(0.5)
    ring = zone_share(sites, layer, buffer_m=10.0, outside_only=True)
    # exactly at buffer_m: inside the ring; on the edge (0 m) and beyond 10 m: not
    assert ring[:8].tolist() == [0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    reach200 = zone_share(sites, layer, buffer_m=200.0, min_value=5.0)
    assert reach200[6] == 0.0  # 200 m from the circle, but the circle's waarde is below 5
    assert zone_share(sites, layer, buffer_m=200.0)[6] == 1.0


def test_line_features_keep_the_whole_geometry_path():
    lines = gpd.GeoDataFrame({"naam": ["Weg"]}, geometry=[LineString([(0, 0), (1000, 0)])], crs=RD)
    sites = gpd.GeoSeries([Point(500, 30), box(100, 40, 120, 60)], crs=RD)
    got = measure_layer(sites, lines, 50.0)
    assert got["afstand_m"].tolist() == [30.0, 40.0]
    assert [n if isinstance(n, str) else None for n in got["naam"]] == ["Weg", "Weg"]
    assert zone_share(sites.iloc[:1], lines, buffer_m=30.0).tolist() == [1.0]
