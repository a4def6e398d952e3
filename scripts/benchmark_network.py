"""Benchmark: network travel to employers, this engine against networkx.

Builds (deterministically) a synthetic but realistic road network in RD New —
a perturbed grid with missing links, main roads every 2 km and some one-way
streets — or reads a real one (``--netwerk PATH``), places sites and employers
at random, and times in one run:

(a) this engine: :func:`analysis.travel.travel_to_employers` including snapping
    (network preparation is reported separately);
(b) networkx ``multi_source_dijkstra`` from all employers over the same
    reversed graph with the same snapping;
(c) a per-site ``networkx.shortest_path_length`` loop on a sample, extrapolated.

It checks that (a), (b) and (c) agree and prints the times and ratios.
"""

from __future__ import annotations

import gc
from pathlib import Path
import time

import click
import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from analysis.network import DEFAULT_CAR_SPEEDS_KMH, RoadNetwork, TravelSpeeds, build_network
from analysis.travel import _access, _reverse_graph, _same_link_pairs, snap_to_network, travel_to_employers

__all__ = ["benchmark_netwerk", "synthetic_network"]

_DEFAULT_MAX_MIN = {"auto": 20.0, "fiets": 15.0, "lopen": 15.0}


def synthetic_network(n_nodes: int, *, mode: str, seed: int, spacing_m: float = 100.0) -> RoadNetwork:
    """A perturbed grid of about ``n_nodes`` nodes in RD New (Limburg), ~8 % of links missing.

    Every 20th row and column is a secondary road (80 km/h by car), every 5th a
    tertiary one, the rest residential; 5 % of residential links are one-way.
    """
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_nodes)))
    gx, gy = np.meshgrid(np.arange(side), np.arange(side))
    x = 176_000 + gx.ravel() * spacing_m + rng.uniform(-0.25, 0.25, side * side) * spacing_m
    y = 320_000 + gy.ravel() * spacing_m + rng.uniform(-0.25, 0.25, side * side) * spacing_m
    idx = np.arange(side * side).reshape(side, side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    line_no = np.concatenate([np.repeat(np.arange(side), side - 1), np.tile(np.arange(side), side - 1)])
    highway = np.where(line_no % 20 == 0, "secondary", np.where(line_no % 5 == 0, "tertiary", "residential")).astype(object)
    keep = (rng.random(u.shape[0]) > 0.08) | (highway != "residential")
    u, v, highway = u[keep], v[keep], highway[keep]
    oneway = np.where((highway == "residential") & (rng.random(u.shape[0]) < 0.05), rng.choice([1, -1], u.shape[0]), 0)
    # a bend in every link, so geometry is not just the node pair
    mid = np.c_[(x[u] + x[v]) / 2 + rng.normal(0, 5, u.shape[0]), (y[u] + y[v]) / 2 + rng.normal(0, 5, u.shape[0])]
    coords = np.stack([np.c_[x[u], y[u]], mid, np.c_[x[v], y[v]]], axis=1)
    geoms = shapely.linestrings(coords)
    car = np.array([DEFAULT_CAR_SPEEDS_KMH[h] for h in ("secondary", "tertiary", "residential")])
    car_kmh = np.where(highway == "secondary", 80.0, np.where(highway == "tertiary", car[1], car[2]))
    return build_network(
        mode=mode,
        node_x=x,
        node_y=y,
        node_id=None,
        link_u=u,
        link_v=v,
        link_length_m=shapely.length(geoms),
        link_geometry=geoms,
        link_highway=highway,
        link_oneway=oneway.astype(np.int8),
        link_car_kmh=car_kmh,
        speeds=TravelSpeeds(),
        source="synthetisch raster",
    )


def _random_points(network: RoadNetwork, n: int, rng: np.random.Generator) -> np.ndarray:
    x0, x1 = network.node_x.min(), network.node_x.max()
    y0, y1 = network.node_y.min(), network.node_y.max()
    return shapely.points(np.c_[rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])


def _networkx_inputs(network, sites, employers, max_snap_m):
    """The engine's snapping and reversed graph, as networkx DiGraphs (forward and reversed)."""
    s_snap = snap_to_network(np.asarray(sites.values), network)
    e_snap = snap_to_network(np.asarray(employers.geometry.values), network)
    s_snap = s_snap.take(s_snap.dist_m <= max_snap_m)
    e_snap = e_snap.take(e_snap.dist_m <= max_snap_m)
    site_acc = _access(s_snap, network, outbound=True)
    emp_acc = _access(e_snap, network, outbound=False)
    graph = _reverse_graph(network, emp_acc, len(employers))
    coo = graph.time.tocoo()
    rev = nx.DiGraph()
    rev.add_nodes_from(range(graph.n_total))
    rev.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist()))
    return site_acc, emp_acc, graph, rev


def _combine(site_acc, pairs, node_time, node_emp, n_sites):
    """Per site: fastest over its connection rows and same-link pairs (shared by (b))."""
    t = np.minimum(site_acc.time_u_s + node_time[site_acc.u], site_acc.time_v_s + node_time[site_acc.v])
    best = np.full(n_sites, np.inf)
    np.minimum.at(best, site_acc.snap.item, t)
    s_row, _, p_time, _ = pairs
    np.minimum.at(best, site_acc.snap.item[s_row], p_time)
    return best


@click.command("benchmark-netwerk")
@click.option("--sites", "n_sites", default=100_000, show_default=True, help="Aantal locaties.")
@click.option("--werkgevers", "n_emps", default=1000, show_default=True, help="Aantal werkgevers.")
@click.option("--knooppunten", "n_nodes", default=150_000, show_default=True, help="Knooppunten in het synthetische net.")
@click.option("--steekproef", "n_sample", default=20, show_default=True, help="Locaties in de networkx-lus per locatie.")
@click.option("--modus", type=click.Choice(["auto", "fiets", "lopen"]), default="fiets", show_default=True)
@click.option("--max-minuten", type=float, default=None, help="Reistijdgrens voor het tellen (standaard 20 auto, 15 fiets/lopen).")
@click.option("--netwerk", "network_path", type=click.Path(exists=True, path_type=Path), default=None, help="Echt wegennet (GraphML, OSM, lijnenlaag) in plaats van het synthetische.")
@click.option("--seed", default=42, show_default=True)
def benchmark_netwerk(n_sites, n_emps, n_nodes, n_sample, modus, max_minuten, network_path, seed):
    """Meet de reistijdberekening naar werkgevers tegen networkx."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    rng = np.random.default_rng(seed)
    max_min = _DEFAULT_MAX_MIN[modus] if max_minuten is None else max_minuten
    max_snap_m = 1000.0

    t0 = time.perf_counter()
    if network_path is None:
        network = synthetic_network(n_nodes, mode=modus, seed=seed)
    else:
        import tempfile

        from layers.config import LayerSpec
        from layers.network import load_network

        network = load_network(
            LayerSpec("wegennet", network_path, options={"modus": modus}),
            speeds=TravelSpeeds(),
            cache_dir=Path(tempfile.gettempdir()) / "locatietoets-benchmark",
        )
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    _ = network.arcs, network.snap_tree, network.link_geometry_length_m
    t_prep = time.perf_counter() - t0
    console.print(f"{network.summary()}; opgebouwd in {t_build:.2f} s, voorbereid (CSR, ruimtelijke index) in {t_prep:.2f} s")

    sites = gpd.GeoSeries(_random_points(network, n_sites, rng), crs="EPSG:28992")
    employers = gpd.GeoDataFrame(
        {"naam": [f"werkgever {i}" for i in range(n_emps)]}, geometry=_random_points(network, n_emps, rng), crs="EPSG:28992"
    )

    # (a) this engine
    gc.collect()
    t0 = time.perf_counter()
    snap_probe = snap_to_network(np.asarray(sites.values), network)
    t_snap = time.perf_counter() - t0
    del snap_probe
    t0 = time.perf_counter()
    result = travel_to_employers(sites, employers, network, max_minutes=max_min, max_snap_m=max_snap_m)
    t_engine = time.perf_counter() - t0
    # the same call without counting, to show the nearest-employer part alone
    from analysis import travel as travel_module

    original = travel_module._count_within
    travel_module._count_within = lambda *args, **kwargs: None
    try:
        t0 = time.perf_counter()
        nearest_only = travel_to_employers(sites, employers, network, max_minutes=max_min, max_snap_m=max_snap_m)
        t_nearest = time.perf_counter() - t0
    finally:
        travel_module._count_within = original
    assert np.array_equal(nearest_only["werkgever_reistijd_min"].to_numpy(), result["werkgever_reistijd_min"].to_numpy(), equal_nan=True)

    # (b) networkx multi_source_dijkstra on the same reversed graph, same snapping
    site_acc, emp_acc, graph, rev = _networkx_inputs(network, sites, employers, max_snap_m)
    pairs = _same_link_pairs(site_acc, emp_acc, network)
    sources = [graph.n_nodes + int(i) for i in np.unique(emp_acc.snap.item)]
    gc.collect()
    t0 = time.perf_counter()
    snap_again = snap_to_network(np.asarray(sites.values), network)  # (b) pays for snapping too
    dist, paths = nx.multi_source_dijkstra(rev, sources, weight="weight")
    node_time = np.full(graph.n_total, np.inf)
    keys = np.fromiter(dist.keys(), dtype=np.int64, count=len(dist))
    node_time[keys] = np.fromiter(dist.values(), dtype=float, count=len(dist))
    best_b = _combine(site_acc, pairs, node_time, None, n_sites)
    t_nx_multi = time.perf_counter() - t0
    del paths, snap_again

    engine_s = result["werkgever_reistijd_min"].to_numpy() * 60.0
    both = np.isfinite(best_b) & np.isfinite(engine_s)
    agree_b = bool(np.array_equal(np.isfinite(best_b), np.isfinite(engine_s))) and bool(
        np.allclose(engine_s[both], best_b[both], rtol=1e-9, atol=1e-9)
    )

    # (c) per-site networkx.shortest_path_length on a sample, on the forward graph
    fwd = rev.reverse(copy=True)
    sample = rng.choice(np.unique(site_acc.snap.item), size=min(n_sample, n_sites), replace=False)
    emp_nodes = set(sources)
    s_row, p_emp, p_time, _ = pairs
    t0 = time.perf_counter()
    per_site = []
    for s in sample:
        rows = np.flatnonzero(site_acc.snap.item == s)
        node = ("locatie", int(s))
        for r in rows:
            fwd.add_edge(node, int(site_acc.u[r]), weight=float(site_acc.time_u_s[r]))
            fwd.add_edge(node, int(site_acc.v[r]), weight=float(site_acc.time_v_s[r]))
        lengths = nx.shortest_path_length(fwd, source=node, weight="weight")
        best = min((t for n, t in lengths.items() if n in emp_nodes), default=np.inf)
        direct = p_time[np.isin(s_row, rows)]
        per_site.append(min(best, direct.min()) if direct.size else best)
        fwd.remove_node(node)
    t_loop_sample = time.perf_counter() - t0
    t_loop = t_loop_sample / len(sample) * n_sites
    agree_c = bool(np.allclose(np.array(per_site), engine_s[sample], rtol=1e-9, atol=1e-9, equal_nan=False) or np.array_equal(np.isinf(per_site), np.isnan(engine_s[sample])))

    table = Table(title=f"Reistijd naar werkgevers: {n_sites:,} locaties, {n_emps:,} werkgevers, {network.n_nodes:,} knooppunten ({modus})")
    table.add_column("methode")
    table.add_column("tijd (s)", justify="right")
    table.add_column("factor t.o.v. deze motor", justify="right")
    table.add_row("netwerk opbouwen + voorbereiden (eenmalig, gecachet)", f"{t_build + t_prep:.2f}", "")
    table.add_row("(a) deze motor: aansluiten (snapping) alleen", f"{t_snap:.2f}", "")
    table.add_row("(a) deze motor: dichtstbijzijnde werkgever incl. aansluiten", f"{t_nearest:.2f}", "1×")
    table.add_row(f"(a) deze motor: volledig, incl. tellen binnen {max_min:g} min", f"{t_engine:.2f}", "")
    table.add_row("(b) networkx multi_source_dijkstra (zelfde aansluiting)", f"{t_nx_multi:.2f}", f"{t_nx_multi / t_nearest:,.0f}×")
    table.add_row(
        f"(c) networkx shortest_path_length per locatie (geëxtrapoleerd uit {len(sample)})",
        f"{t_loop:,.0f}",
        f"{t_loop / t_nearest:,.0f}×",
    )
    console.print(table)
    console.print(f"(a) en (b) gelijk: {'ja' if agree_b else 'NEE'}; (a) en (c) gelijk op de steekproef: {'ja' if agree_c else 'NEE'}")
    reach = ~result["reis_onbereikbaar"]
    console.print(
        f"bereikbaar: {int(reach.sum()):,} van {n_sites:,} locaties; mediane reistijd "
        f"{np.nanmedian(result['werkgever_reistijd_min']):.1f} min; gemiddeld {result['werkgevers_bereikbaar'].mean():.1f} "
        f"werkgevers binnen {max_min:g} min"
    )
    if not (agree_b and agree_c):
        raise SystemExit(1)


if __name__ == "__main__":  # pragma: no cover
    benchmark_netwerk()
