"""Hand-computable tests of the BBG, park and gemeente overlays."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import MultiPoint, Point, box

from locatietoets.analysis.overlay import assign_polygon_attribute, classify_bbg, inside_share

BBG = gpd.GeoSeries([box(0, 0, 1000, 1000), box(2000, 0, 2500, 500)], crs=28992)


def test_points_binnen_rand_buiten_with_distances():
    sites = gpd.GeoSeries(
        [
            Point(500, 500),
            Point(1000, 500),
            Point(1100, 500),
            Point(1250, 500),
            Point(1500, 500),
            Point(3000, 250),
        ],
        crs=28992,
    )
    out = classify_bbg(sites, BBG, rand_m=250.0, inside_share_min=0.5)
    assert out["bbg_ligging"].tolist() == ["binnen", "binnen", "rand", "rand", "buiten", "buiten"]
    # boundary point counts as inside; distances to the nearest BBG polygon
    np.testing.assert_allclose(out["bbg_afstand_m"], [0, 0, 100, 250, 500, 500])


def test_polygon_share_threshold_and_partial_overlap_is_deels():
    # 60 % inside, 40 % inside, entirely outside at 50 m; a polygon partly inside BBG is "deels"
    # (before issue 12 it was "rand, 0 m buiten de grens" below the share and "binnen" above it)
    sites = gpd.GeoSeries(
        [box(900, 0, 1066.6667, 100), box(940, 0, 1090, 100), box(1050, 0, 1150, 100)], crs=28992
    )
    out = classify_bbg(sites, BBG, rand_m=250.0, inside_share_min=0.5)
    np.testing.assert_allclose(out["bbg_aandeel"], [0.6, 0.4, 0.0], atol=1e-3)
    assert out["bbg_ligging"].tolist() == ["binnen", "deels", "rand"]
    np.testing.assert_allclose(out["bbg_afstand_m"], [0, 0, 50])


def test_polygon_half_inside_is_deels_and_96_percent_is_binnen():
    # 100 x 100 m parcels: half inside BBG; 96 m of 100 m inside (counts as wholly inside at 0.95)
    sites = gpd.GeoSeries([box(950, 0, 1050, 100), box(904, 0, 1004, 100)], crs=28992)
    out = classify_bbg(sites, BBG, rand_m=250.0, inside_share_min=0.95)
    np.testing.assert_allclose(out["bbg_aandeel"], [0.5, 0.96])
    assert out["bbg_ligging"].tolist() == ["deels", "binnen"]
    np.testing.assert_allclose(out["bbg_afstand_m"], [0, 0])


def test_polygon_touching_bbg_at_a_corner_or_edge_is_wholly_outside():
    # touches BBG (0,0)-(1000,1000) only at the corner (1000, 1000) / along the edge x = 1000:
    # share 0, so it is wholly outside, at the rand at distance 0
    sites = gpd.GeoSeries([box(1000, 1000, 1100, 1100), box(1000, 0, 1100, 100)], crs=28992)
    out = classify_bbg(sites, BBG, rand_m=250.0, inside_share_min=0.95)
    np.testing.assert_allclose(out["bbg_aandeel"], [0.0, 0.0])
    assert out["bbg_ligging"].tolist() == ["rand", "rand"]
    np.testing.assert_allclose(out["bbg_afstand_m"], [0, 0])


def test_multipoint_sites_are_judged_like_polygons():
    # issue 13: one point inside BBG, one 2.5 km out was "binnen"; now the share is the fraction of
    # points
    sites = gpd.GeoSeries(
        [
            MultiPoint([(500, 500), (3500, 500)]),  # 1 of 2 inside -> deels, 50 %
            MultiPoint([(100, 100), (200, 200), (300, 300)]),  # all inside -> binnen
            MultiPoint(
                [(1100, 500), (1500, 500)]
            ),  # wholly outside: the nearest point decides (100 m)
            MultiPoint([(500, 500), (600, 600), (700, 700), (5000, 5000)]),  # 3 of 4 inside
        ],
        crs=28992,
    )
    out = classify_bbg(sites, BBG, rand_m=250.0, inside_share_min=0.95)
    np.testing.assert_allclose(out["bbg_aandeel"], [0.5, 1.0, 0.0, 0.75])
    assert out["bbg_ligging"].tolist() == ["deels", "binnen", "rand", "deels"]
    np.testing.assert_allclose(out["bbg_afstand_m"], [0, 0, 100, 0])
    parks = gpd.GeoDataFrame({"naam": ["Park"]}, geometry=[box(0, 0, 1000, 1000)], crs=28992)
    np.testing.assert_allclose(
        assign_polygon_attribute(sites, parks, ["naam"])["_aandeel"], [0.5, 1.0, 0.0, 0.75]
    )


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
    parks = gpd.GeoDataFrame(
        {"naam": ["Noord", "Zuid"]},
        geometry=[box(0, 0, 100, 100), box(0, 100, 100, 200)],
        crs=28992,
    )
    sites = gpd.GeoSeries(
        [Point(50, 50), box(0, 80, 100, 180), box(0, 190, 100, 290), Point(500, 500)], crs=28992
    )
    out = assign_polygon_attribute(sites, parks, ["naam"], min_share=0.5)
    # site 2: 80 % in Zuid; site 3: only 10 % in Zuid (below the minimum share)
    assert out["naam"].tolist()[:2] == ["Noord", "Zuid"]
    assert out["naam"].iloc[2:].isna().all()
    np.testing.assert_allclose(out["_aandeel"], [1.0, 0.8, 0.0, 0.0])


def test_point_on_shared_boundary_goes_to_first_polygon():
    gem = gpd.GeoDataFrame(
        {"naam": ["A", "B"]}, geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=28992
    )
    out = assign_polygon_attribute(gpd.GeoSeries([Point(100, 50)], crs=28992), gem, ["naam"])
    assert out["naam"].tolist() == ["A"]


def _huge_bbg():
    """One multipolygon of 2 x 4,000 vertices: a round town with a park (hole) and a village."""
    import shapely

    town = shapely.Point(0, 0).buffer(2000, quad_segs=1000)
    park = shapely.Point(300, 0).buffer(400, quad_segs=250)
    village = shapely.Point(5000, 0).buffer(600, quad_segs=1000)
    return shapely.MultiPolygon([town.difference(park), village])


def test_huge_polygons_are_cut_into_pieces_that_add_up():
    import shapely

    from locatietoets.analysis.overlay import MAX_PIECE_VERTICES, _pieces

    bbg = _huge_bbg()
    pieces, parent = _pieces(np.array([bbg, box(9000, 0, 9100, 100)], dtype=object))
    assert shapely.get_num_coordinates(pieces).max() <= MAX_PIECE_VERTICES
    assert len(pieces) > 30
    assert np.isclose(shapely.area(pieces[parent == 0]).sum(), bbg.area, rtol=1e-12)
    assert (parent == 1).sum() == 1  # small polygons stay whole


def test_overlays_on_a_huge_polygon_with_a_hole_match_the_direct_computation():
    # the same answers as testing every site against the uncut polygon
    import shapely

    bbg = _huge_bbg()
    rng = np.random.default_rng(3)
    xy = rng.uniform([-2500, -2500], [6000, 2500], (400, 2))
    plots = shapely.box(xy[200:, 0], xy[200:, 1], xy[200:, 0] + 60, xy[200:, 1] + 40)
    geoms = np.concatenate([shapely.points(xy[:200]), plots])
    sites = gpd.GeoSeries(geoms, crs=28992)
    out = classify_bbg(sites, gpd.GeoSeries([bbg], crs=28992), rand_m=250.0, inside_share_min=0.9)
    expected_share = np.where(
        shapely.area(geoms) > 0,
        shapely.area(shapely.intersection(geoms, bbg)) / np.maximum(shapely.area(geoms), 1e-300),
        shapely.covers(bbg, geoms).astype(float),
    )
    expected_share[expected_share < 1e-4] = 0.0
    np.testing.assert_allclose(out["bbg_aandeel"], expected_share, rtol=0, atol=1e-9)
    outside = expected_share == 0
    np.testing.assert_allclose(
        out["bbg_afstand_m"][outside], shapely.distance(geoms[outside], bbg), rtol=0, atol=1e-6
    )
    assert {"binnen", "deels", "rand", "buiten"} <= set(out["bbg_ligging"])
    # points in the park (the hole) are outside, at their distance to the park's edge
    in_park = shapely.distance(shapely.points(xy[:200]), shapely.Point(300, 0)) < 390
    assert in_park.any() and (out["bbg_ligging"][:200][in_park] != "binnen").all()
    frame = gpd.GeoDataFrame({"naam": ["stad"]}, geometry=[bbg], crs=28992)
    assigned = assign_polygon_attribute(sites, frame, ["naam"])
    direct = np.where(shapely.area(geoms) > 0, expected_share, shapely.covers(bbg, geoms))
    np.testing.assert_allclose(assigned["_aandeel"], direct, rtol=0, atol=1e-9)


def test_edge_distance_equals_the_distance_to_the_nearest_piece_bit_for_bit():
    # classify_bbg measures outside sites against the pieces' boundary segments: exactly the
    # numbers GEOS gives for the pieces themselves (points and polygon plots, holes included)
    import shapely

    from locatietoets.analysis.overlay import PieceIndex, _nearest_distance

    index = PieceIndex(np.array([_huge_bbg()], dtype=object))
    rng = np.random.default_rng(11)
    xy = rng.uniform([-4000, -3000], [8000, 3000], (3000, 2))
    geoms = np.concatenate(
        [
            shapely.points(xy[:2000]),
            shapely.box(xy[2000:, 0], xy[2000:, 1], xy[2000:, 0] + 30, xy[2000:, 1] + 20),
        ]
    )
    outside = ~shapely.intersects(shapely.MultiPolygon(list(index.pieces)), geoms)
    geoms = geoms[outside]
    assert len(geoms) > 1500
    by_edges = _nearest_distance(index.edges(), geoms)
    by_pieces = _nearest_distance(shapely.STRtree(index.pieces), geoms)
    assert np.array_equal(by_edges, by_pieces)
    np.testing.assert_allclose(by_edges, shapely.distance(geoms, _huge_bbg()), rtol=0, atol=1e-6)


def test_reference_index_is_built_once_per_frame_and_blocks_add_up_to_the_whole():
    # a run in blocks reuses the pieces of the reference frame; the answer per site does not
    # depend on the block it is in
    import shapely

    from locatietoets.analysis.overlay import piece_index

    frame = gpd.GeoDataFrame({"naam": ["stad"]}, geometry=[_huge_bbg()], crs=28992)
    rng = np.random.default_rng(5)
    xy = rng.uniform([-2500, -2500], [6000, 2500], (600, 2))
    geoms = np.concatenate(
        [
            shapely.points(xy[:300]),
            shapely.box(xy[300:, 0], xy[300:, 1], xy[300:, 0] + 60, xy[300:, 1] + 40),
        ]
    )
    rng.shuffle(geoms)
    sites = gpd.GeoSeries(geoms, crs=28992)
    whole = classify_bbg(sites, frame, rand_m=250.0, inside_share_min=0.9)
    index = piece_index(frame)
    blocks = [
        classify_bbg(sites.iloc[a : a + 200], frame, rand_m=250.0, inside_share_min=0.9)
        for a in (0, 200, 400)
    ]
    assert piece_index(frame) is index
    assert whole.equals(pd.concat(blocks))
    named = [
        assign_polygon_attribute(sites.iloc[a : a + 200], frame, ["naam"]) for a in (0, 200, 400)
    ]
    assert assign_polygon_attribute(sites, frame, ["naam"]).equals(pd.concat(named))
    shares = [inside_share(sites.iloc[a : a + 200], frame) for a in (0, 200, 400)]
    assert np.array_equal(inside_share(sites, frame), np.concatenate(shares))


def test_a_changed_reference_layer_is_not_served_from_the_cache_of_the_old_one():
    bbg = gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 1000)], crs=28992)
    sites = gpd.GeoSeries([Point(500, 500), Point(1200, 500)], crs=28992)
    first = classify_bbg(sites, bbg, rand_m=250.0, inside_share_min=0.5)
    assert first["bbg_ligging"].tolist() == ["binnen", "rand"]
    moved = bbg.copy()
    moved["geometry"] = [box(1100, 0, 2100, 1000)]
    second = classify_bbg(sites, moved, rand_m=250.0, inside_share_min=0.5)
    assert second["bbg_ligging"].tolist() == ["buiten", "binnen"]
    np.testing.assert_allclose(second["bbg_afstand_m"], [600.0, 0.0])
    # the original frame still gives its own answer
    assert classify_bbg(sites, bbg, rand_m=250.0, inside_share_min=0.5).equals(first)


def test_park_name_and_share_on_the_same_sites_agree_with_separate_runs():
    # assign_polygon_attribute and inside_share of one block against one layer share their pairs
    # and intersections: either order gives what each gives on its own
    import shapely

    parks = gpd.GeoDataFrame(
        {"naam": ["A", "B", "C"]},
        geometry=[
            box(0, 0, 100, 100),
            box(50, 0, 150, 100),  # overlaps A: the union is not counted twice
            shapely.Polygon(
                [(300, 0), (500, 0), (500, 200), (300, 200)], [[(350, 50), (450, 50), (450, 150)]]
            ),
        ],
        crs=28992,
    )
    geoms = [
        box(80, 20, 120, 40),  # half in A, wholly in B
        box(140, 0, 180, 40),  # 25 % in B
        box(430, 140, 470, 160),  # partly in the hole of C
        Point(10, 10),
        MultiPoint([(10, 10), (1000, 1000)]),
        box(600, 0, 700, 100),  # nowhere
    ]

    def fresh():
        return gpd.GeoSeries(geoms, crs=28992)

    alone_name = assign_polygon_attribute(fresh(), parks, ["naam"], min_share=1e-4)
    alone_share = inside_share(fresh(), parks)
    sites = fresh()
    share_first = inside_share(sites, parks)
    assert assign_polygon_attribute(sites, parks, ["naam"], min_share=1e-4).equals(alone_name)
    assert np.array_equal(share_first, alone_share)
    sites = fresh()
    assert assign_polygon_attribute(sites, parks, ["naam"], min_share=1e-4).equals(alone_name)
    assert np.array_equal(inside_share(sites, parks), alone_share)
    assert alone_name["naam"].tolist()[:4] == ["B", "B", "C", "A"]
    np.testing.assert_allclose(alone_share[[0, 1, 3, 4, 5]], [1.0, 0.25, 1.0, 0.5, 0.0])
    assert 0.5 < alone_share[2] < 1.0


def test_grid_shortcut_gives_the_same_pairs_as_testing_every_site(monkeypatch):
    # sites in one cell inside a piece (or in an empty cell) skip GEOS: the pairs and covered
    # flags must be those GEOS gives, also for points on cell edges and boxes across cells
    import shapely

    from locatietoets.analysis import overlay

    park = shapely.Point(300, 0).buffer(300, quad_segs=64)
    layer = np.array([_huge_bbg(), park, box(9000, 0, 9100, 100)], dtype=object)
    index = overlay.PieceIndex(layer)
    grid = index.grid()
    assert (grid.state >= 0).any() and (grid.state == overlay._EMPTY).any()
    rng = np.random.default_rng(8)
    xy = rng.uniform([-2500, -2500], [9200, 2500], (6000, 2))
    # points exactly on cell edges and corners
    edge_x = grid.xs[rng.integers(0, len(grid.xs), 1000)]
    edge_y = grid.ys[rng.integers(0, len(grid.ys), 1000)]
    edges = np.stack([edge_x, edge_y], axis=1)
    w = rng.uniform(1, 2.5 * grid.size, (3000, 2))
    plots = shapely.box(xy[:3000, 0], xy[:3000, 1], xy[:3000, 0] + w[:, 0], xy[:3000, 1] + w[:, 1])
    geoms = np.concatenate([shapely.points(xy[3000:]), shapely.points(edges), plots])
    monkeypatch.setattr(overlay, "GRID_MIN_SITES", 10**12)
    direct = overlay._pairs(geoms, index)
    monkeypatch.setattr(overlay, "GRID_MIN_SITES", 0)
    via_grid = overlay._pairs(geoms, index)
    for a, b in zip(direct, via_grid):
        assert np.array_equal(a, b)
    bounds = shapely.bounds(geoms)
    assert (grid.locate(*bounds.T) >= 0).sum() > 1000  # the shortcut was taken


def _bbg_with_hole_and_fine_circle() -> list:
    """A town with a hole (segments of ~100 m; a real BBG: median 36 m), a circle of 3 m segments
    (the huge BBG) and a small square."""
    import shapely

    town = shapely.Point(0, 0).buffer(2000, quad_segs=32)
    town = town.difference(shapely.Point(300, 0).buffer(400, quad_segs=8))
    return [town, shapely.Point(5000, 0).buffer(600, quad_segs=1000), box(9000, 0, 9100, 100)]


def test_point_distances_from_edge_samples_equal_geos_bit_for_bit(monkeypatch):
    # points outside BBG are measured with GEOS's point-to-segment formula in numpy on the
    # segments near them; the numbers must be GEOS's, also far away and when few samples suffice
    import shapely

    from locatietoets.analysis import overlay

    layer = _bbg_with_hole_and_fine_circle()
    index = overlay.PieceIndex(np.array(layer, dtype=object))
    rng = np.random.default_rng(21)
    xy = np.concatenate(
        [rng.uniform([-3000, -3000], [10000, 3000], (4000, 2)), rng.normal(0, 20000, (500, 2))]
    )
    points = shapely.points(xy)
    outside = ~shapely.intersects(shapely.MultiPolygon(list(index.pieces)), points)
    points, xy = points[outside], xy[outside]
    geos = overlay._nearest_distance(index.edges(), points)
    numpy_, unsettled = index.edge_samples().distance(xy)
    assert (~unsettled).sum() > 0.3 * len(xy)
    assert np.array_equal(numpy_[~unsettled], geos[~unsettled])
    monkeypatch.setattr(overlay, "SAMPLE_K", 4)  # fewer samples: more points go to GEOS
    fresh = overlay.PieceIndex(index.pieces)
    monkeypatch.setattr(overlay, "GRID_MIN_SITES", 0)
    assert np.array_equal(overlay._edge_distance(fresh, points), geos)
    sites = gpd.GeoSeries(np.concatenate([points, shapely.buffer(points[:50], 5)]), crs=28992)
    frame = gpd.GeoDataFrame(geometry=layer, crs=28992)
    shortcut = classify_bbg(sites, frame, rand_m=250.0, inside_share_min=0.9)
    monkeypatch.setattr(overlay, "GRID_MIN_SITES", 10**12)
    assert classify_bbg(sites, frame.copy(), rand_m=250.0, inside_share_min=0.9).equals(shortcut)


def test_polygon_distances_segment_against_segment_equal_geos_bit_for_bit(monkeypatch):
    # polygon plots outside BBG are measured in numpy, segment against segment: the numbers must
    # be GEOS's, for plots with holes (one around a small BBG polygon), multipolygons, repeated
    # vertices, far-away plots and plots a hair's breadth from BBG (left to GEOS)
    import shapely

    from locatietoets.analysis import overlay

    layer = _bbg_with_hole_and_fine_circle()
    index = overlay.PieceIndex(np.array(layer, dtype=object))
    rng = np.random.default_rng(31)
    xy = np.concatenate(
        [rng.uniform([-3000, -3000], [10000, 3000], (3000, 2)), rng.normal(0, 20000, (300, 2))]
    )
    w = rng.uniform(10, 90, (len(xy), 2))
    plots = list(shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + w[:, 0], xy[:, 1] + w[:, 1]))
    ring = [(8900, -100), (9200, -100), (9200, 200), (8900, 200), (8900, -100)]
    hole = [(8950, -50), (9150, -50), (9150, 150), (8950, 150), (8950, -50)]
    plots += [
        shapely.Polygon(ring, [hole]),  # the small BBG square lies in the plot's hole
        shapely.Polygon([(9300, 0), (9350, 0), (9350, 0), (9350, 40), (9300, 40)]),  # repeated
        shapely.MultiPolygon([box(2500, 0, 2550, 50), box(3500, 0, 3550, 50)]),
        box(9100.0004, 0, 9150, 50),  # 0.4 mm from BBG: GEOS
        box(-2100, -20, -2060, 20).difference(box(-2090, -10, -2070, 10)),  # holed plot
    ]
    geoms = np.array(plots, dtype=object)
    outside = ~shapely.intersects(shapely.MultiPolygon(list(index.pieces)), geoms)
    geoms = geoms[outside]
    assert outside[-5:].all() and len(geoms) > 1500
    geos = overlay._nearest_distance(index.edges(), geoms)
    numpy_ = overlay._polygon_edge_distance(index, geoms)
    settled = ~np.isnan(numpy_)
    assert settled[:-5].mean() > 0.9 and settled[-5:].tolist() == [True, True, True, False, True]
    assert np.array_equal(numpy_[settled], geos[settled])
    monkeypatch.setattr(overlay, "GRID_MIN_SITES", 0)
    monkeypatch.setattr(overlay, "_PAIR_CHUNK", 1000)  # many chunks of pairs ...
    monkeypatch.setattr(overlay, "_POLYGON_BLOCK", 700)  # ... and of sites
    disjoint = np.ones(len(geoms), dtype=bool)
    assert np.array_equal(overlay._edge_distance(index, geoms, disjoint), geos)
    sites = gpd.GeoSeries(geoms, crs=28992)
    frame = gpd.GeoDataFrame(geometry=layer, crs=28992)
    shortcut = classify_bbg(sites, frame, rand_m=250.0, inside_share_min=0.9)
    monkeypatch.setattr(overlay, "GRID_MIN_SITES", 10**12)
    assert classify_bbg(sites, frame.copy(), rand_m=250.0, inside_share_min=0.9).equals(shortcut)


def test_pair_sorting_and_best_polygon_equal_lexsort_and_unique():
    # the pairs are sorted and deduplicated with one key per pair and a stable sort; the best
    # polygon per site is the first row with the highest share: the same as lexsort/np.unique
    from locatietoets.analysis import overlay

    rng = np.random.default_rng(4)
    a = np.concatenate([np.sort(rng.integers(0, 500, 3000)), rng.integers(0, 500, 500)])
    b = rng.integers(0, 40, len(a))
    assert np.array_equal(overlay._pair_order(a, b), np.lexsort((b, a)))
    keys = a * 40 + b
    unique, inverse = overlay._sorted_unique(keys)
    expected, expected_inverse = np.unique(keys, return_inverse=True)
    assert np.array_equal(unique, expected) and np.array_equal(inverse, expected_inverse)
    # a plot exactly halved by two gemeenten goes to the first in the layer, either order
    halves = [box(0, 0, 100, 100), box(100, 0, 200, 100)]
    sites = gpd.GeoSeries([box(90, 0, 110, 10), box(40, 0, 130, 10), Point(150, 50)], crs=28992)
    for names, layer in ((["links", "rechts"], halves), (["rechts", "links"], halves[::-1])):
        frame = gpd.GeoDataFrame({"naam": names}, geometry=layer, crs=28992)
        best, share = overlay.best_polygon(sites, frame)
        assert best[0] == 0 and share[0] == 0.5
        assert [names[i] for i in best[1:]] == ["links", "rechts"]
