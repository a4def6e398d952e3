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
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon, box

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
