"""Benchmark: network travel to employers, this engine against networkx.

Builds (deterministically) a synthetic but realistic road network in RD New —
a perturbed grid with missing links, main roads every 2 km and some one-way
streets — or reads a real one (``--netwerk PATH``), places sites and employers
at random, and times in one run, each against a baseline measured in the same
run:

(i)   preparation (one-off per network, cached): CSR graph and spatial indexes;
(ii)  snapping the sites: k-d tree fast path against the STRtree;
(iii) routing only, on the same snapped sources: ``csgraph.dijkstra`` against
      networkx ``multi_source_dijkstra`` (target: at least 20x);
(iv)  nearest employer end to end (snapping, graph, routing);
(v)   the full :func:`analysis.travel.travel_to_employers` call including
      ``werkgevers_bereikbaar`` (target: under 5 s for 100,000 sites), with the
      count against the previous method (full-graph Dijkstra per employer);
(vi)  a per-site ``networkx.shortest_path_length`` loop on a sample,
      extrapolated (target: at least 1000x slower than (iv)).

It checks that the methods agree and prints PASS/MISS per target.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path
import resource
import statistics
import time

import click
import geopandas as gpd
import networkx as nx
import numpy as np
from scipy.sparse import csgraph
import shapely

from locatietoets.analysis.derived import clear_derived
from locatietoets.analysis.network import (
    DEFAULT_CAR_SPEEDS_KMH,
    RoadNetwork,
    TravelSpeeds,
    build_network,
)
from locatietoets.analysis.travel import (
    count_employers_within,
    nearest_employers,
    prepare_travel,
    snap_to_network,
    travel_to_employers,
)
from locatietoets.analysis.vocabulary import nl_number

__all__ = ["benchmark_netwerk", "synthetic_network"]

_DEFAULT_MAX_MIN = {"auto": 20.0, "fiets": 15.0, "lopen": 15.0}


def grid_layout(
    side: int, *, spacing_m: float, x0: float, y0: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Nodes and links of a perturbed ``side`` × ``side`` road grid in RD New, ~8 % of residential
    links missing.

    Returns node coordinates ``x``, ``y`` (m) and per link the node indices ``u``, ``v`` and the
    OSM ``highway`` type: every 20th row/column secondary, every 5th tertiary, the rest residential.
    """
    gx, gy = np.meshgrid(np.arange(side), np.arange(side))
    x = x0 + gx.ravel() * spacing_m + rng.uniform(-0.25, 0.25, side * side) * spacing_m
    y = y0 + gy.ravel() * spacing_m + rng.uniform(-0.25, 0.25, side * side) * spacing_m
    idx = np.arange(side * side).reshape(side, side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    line_no = np.concatenate(
        [np.repeat(np.arange(side), side - 1), np.tile(np.arange(side), side - 1)]
    )
    highway = np.where(
        line_no % 20 == 0, "secondary", np.where(line_no % 5 == 0, "tertiary", "residential")
    ).astype(object)
    keep = (rng.random(u.shape[0]) > 0.08) | (highway != "residential")
    return x, y, u[keep], v[keep], highway[keep]


def synthetic_network(
    n_nodes: int, *, mode: str, seed: int, spacing_m: float = 100.0
) -> RoadNetwork:
    """A perturbed grid of about ``n_nodes`` nodes in RD New (Limburg), ~8 % of links missing.

    Every 20th row and column is a secondary road (80 km/h by car), every 5th a
    tertiary one, the rest residential; 5 % of residential links are one-way.
    """
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_nodes)))
    x, y, u, v, highway = grid_layout(
        side, spacing_m=spacing_m, x0=176_000.0, y0=320_000.0, rng=rng
    )
    oneway = np.where(
        (highway == "residential") & (rng.random(u.shape[0]) < 0.05),
        rng.choice([1, -1], u.shape[0]),
        0,
    )
    # a bend in every link, so geometry is not just the node pair
    mid = np.c_[
        (x[u] + x[v]) / 2 + rng.normal(0, 5, u.shape[0]),
        (y[u] + y[v]) / 2 + rng.normal(0, 5, u.shape[0]),
    ]
    coords = np.stack([np.c_[x[u], y[u]], mid, np.c_[x[v], y[v]]], axis=1)
    geoms = shapely.linestrings(coords)
    car = np.array([DEFAULT_CAR_SPEEDS_KMH[h] for h in ("secondary", "tertiary", "residential")])
    car_kmh = np.where(
        highway == "secondary", 80.0, np.where(highway == "tertiary", car[1], car[2])
    )
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


def _timed(fn, repeat: int):
    """Run ``fn`` ``repeat`` times; return (last result, best time, median time)."""
    times = []
    result = None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return result, min(times), statistics.median(times)


def _networkx_graph(problem) -> nx.DiGraph:
    """The engine's reversed graph (network plus employer nodes) as a networkx DiGraph."""
    tail, head, weight = problem.reversed_arcs()
    rev = nx.DiGraph()
    rev.add_nodes_from(range(problem.graph.n_total))
    rev.add_weighted_edges_from(zip(tail.tolist(), head.tolist(), weight.tolist()))
    return rev


def _networkx_nearest(problem, rev: nx.DiGraph) -> np.ndarray:
    """Fastest time per site with networkx multi_source_dijkstra (with paths: which employer)."""
    sources = problem.sources.tolist()
    dist, paths = nx.multi_source_dijkstra(rev, sources, weight="weight")
    node_time = np.full(problem.graph.n_total, np.inf)
    keys = np.fromiter(dist.keys(), dtype=np.int64, count=len(dist))
    node_time[keys] = np.fromiter(dist.values(), dtype=float, count=len(dist))
    return problem.site_times(node_time)


def _count_full_graph(problem, max_minutes: float) -> np.ndarray:
    """Previous method: time-limited Dijkstra per employer over the whole graph, in chunks."""
    graph, acc = problem.graph, problem.sites
    limit = max_minutes * 60.0 * (1 + 1e-9)
    count = np.zeros(problem.n_sites, dtype=np.int64)
    n_emp = graph.n_total - graph.n_nodes
    s_row, p_emp, p_time, _ = problem.pairs
    ok = p_time <= limit
    pair_key = np.unique(acc.snap.item[s_row[ok]] * n_emp + p_emp[ok])
    p_site, p_emp = pair_key // n_emp, pair_key % n_emp
    sources = problem.sources
    chunk = max(1, 20_000_000 // max(graph.n_total, acc.u.shape[0]))
    for start in range(0, sources.shape[0], chunk):
        block = sources[start : start + chunk]
        dist = csgraph.dijkstra(graph.time, directed=True, indices=block, limit=limit)
        per_entry = np.minimum(acc.time_u_s + dist[:, acc.u], acc.time_v_s + dist[:, acc.v])
        starts = np.flatnonzero(np.r_[True, acc.snap.item[1:] != acc.snap.item[:-1]])
        within = np.zeros((block.shape[0], problem.n_sites), dtype=bool)
        within[:, acc.snap.item[starts]] = np.logical_or.reduceat(
            per_entry <= limit, starts, axis=1
        )
        emp = block - graph.n_nodes
        row_of = np.full(n_emp, -1, dtype=np.int64)
        row_of[emp] = np.arange(block.shape[0])
        sel = row_of[p_emp] >= 0
        within[row_of[p_emp[sel]], p_site[sel]] = True
        count += within.sum(axis=0)
    return count


def _verdict(ok: bool) -> str:
    return "[green]PASS[/green]" if ok else "[red]MISS[/red]"


@click.command("benchmark-netwerk")
@click.option("--sites", "n_sites", default=100_000, show_default=True, help="Aantal locaties.")
@click.option("--werkgevers", "n_emps", default=1000, show_default=True, help="Aantal werkgevers.")
@click.option(
    "--knooppunten",
    "n_nodes",
    default=150_000,
    show_default=True,
    help="Knooppunten in het synthetische net.",
)
@click.option(
    "--steekproef",
    "n_sample",
    default=20,
    show_default=True,
    help="Locaties in de networkx-lus per locatie.",
)
@click.option(
    "--herhalingen",
    "repeat",
    default=3,
    show_default=True,
    help="Herhalingen per meting (beste en mediaan).",
)
@click.option(
    "--modus", type=click.Choice(["auto", "fiets", "lopen"]), default="fiets", show_default=True
)
@click.option(
    "--max-minuten",
    type=float,
    default=None,
    help="Reistijdgrens voor het tellen (standaard 20 auto, 15 fiets/lopen).",
)
@click.option(
    "--netwerk",
    "network_path",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Echt wegennet (GraphML, OSM, lijnenlaag) in plaats van het synthetische.",
)
@click.option(
    "--oude-telling/--geen-oude-telling",
    "old_count",
    default=True,
    show_default=True,
    help="Ook de vorige telmethode meten (vergelijking en controle).",
)
@click.option("--seed", default=42, show_default=True)
def benchmark_netwerk(
    n_sites, n_emps, n_nodes, n_sample, repeat, modus, max_minuten, network_path, old_count, seed
):
    """Meet de reistijdberekening naar werkgevers tegen networkx."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=150)
    rng = np.random.default_rng(seed)
    max_min = _DEFAULT_MAX_MIN[modus] if max_minuten is None else max_minuten
    max_snap_m = 1000.0
    load_before = os.getloadavg()[0]

    # (i) preparation
    t0 = time.perf_counter()
    if network_path is None:
        network = synthetic_network(n_nodes, mode=modus, seed=seed)
    else:
        import tempfile

        from locatietoets.layers.io.config import LayerSpec
        from locatietoets.layers.io.network import load_network

        network = load_network(
            LayerSpec("wegennet", network_path, options={"modus": modus}),
            speeds=TravelSpeeds(),
            cache_dir=Path(tempfile.gettempdir()) / "locatietoets-benchmark",
        )
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    _ = (
        network.arcs,
        network.reversed_arcs,
        network.link_geometry_length_m,
        network.snap_segments,
        network.max_crow_speed_ms,
    )
    t_prep = time.perf_counter() - t0
    t0 = time.perf_counter()
    _ = network.snap_tree
    t_strtree = time.perf_counter() - t0

    sites = gpd.GeoSeries(_random_points(network, n_sites, rng), crs="EPSG:28992")
    employers = gpd.GeoDataFrame(
        {"naam": [f"werkgever {i}" for i in range(n_emps)]},
        geometry=_random_points(network, n_emps, rng),
        crs="EPSG:28992",
    )
    site_geoms = np.asarray(sites.values)
    emp_geoms = np.asarray(employers.geometry.values)

    # (ii) snapping the sites
    snap_fast, t_snap, t_snap_med = _timed(lambda: snap_to_network(site_geoms, network), repeat)
    snap_ref, t_snap_ref, t_snap_ref_med = _timed(
        lambda: snap_to_network(site_geoms, network, method="strtree"), repeat
    )
    agree_snap = all(
        np.array_equal(getattr(snap_fast, f), getattr(snap_ref, f))
        for f in ("item", "link", "frac", "dist_m")
    )
    del snap_fast, snap_ref

    # (iii) routing only, same snapped sources
    problem = prepare_travel(site_geoms, emp_geoms, network, max_snap_m=max_snap_m)
    # every engine timing below starts without the employer-side results a run keeps between
    # blocks (problem.side.memo, analysis.derived), so it pays for the routing it reports
    def route():
        problem.side.memo.clear()
        return nearest_employers(problem)

    (best_time, _, _), t_route, t_route_med = _timed(route, repeat)
    rev = _networkx_graph(problem)
    best_nx, t_nx_route, t_nx_route_med = _timed(lambda: _networkx_nearest(problem, rev), repeat)
    both = np.isfinite(best_nx) & np.isfinite(best_time)
    agree_route = bool(np.array_equal(np.isfinite(best_nx), np.isfinite(best_time))) and bool(
        np.allclose(best_time[both], best_nx[both], rtol=1e-9, atol=1e-9)
    )

    # (iv) nearest employer end to end (snapping sites and employers, graph, routing)
    def engine_nearest():
        p = prepare_travel(site_geoms, emp_geoms, network, max_snap_m=max_snap_m)
        return nearest_employers(p)

    def networkx_nearest():
        p = prepare_travel(site_geoms, emp_geoms, network, max_snap_m=max_snap_m)
        return _networkx_nearest(p, rev)

    _, t_e2e, t_e2e_med = _timed(engine_nearest, repeat)
    _, t_nx_e2e, t_nx_e2e_med = _timed(networkx_nearest, repeat)

    # (v) the full call, and the count alone against the previous method
    def full():
        return travel_to_employers(
            sites, employers, network, max_minutes=max_min, max_snap_m=max_snap_m
        )

    def full_cold():
        clear_derived()
        return full()

    def count_cold():
        problem.side.memo.clear()
        return count_employers_within(problem, max_min)

    result, t_full, t_full_med = _timed(full_cold, repeat)
    # the next block of the same run: the employer side is already built
    _, t_next, t_next_med = _timed(full, repeat)
    count, t_count, t_count_med = _timed(count_cold, repeat)
    agree_count = bool(np.array_equal(count, result["werkgevers_bereikbaar"].to_numpy()))
    if old_count:
        count_old, t_count_old, t_count_old_med = _timed(
            lambda: _count_full_graph(problem, max_min), 1
        )
        agree_count = agree_count and bool(np.array_equal(count, count_old))
    engine_s = result["werkgever_reistijd_min"].to_numpy() * 60.0
    agree_full = bool(np.allclose(engine_s[both], best_nx[both], rtol=1e-9, atol=1e-9))

    # (vi) per-site networkx.shortest_path_length on a sample, on the forward graph
    fwd = rev.reverse(copy=True)
    acc = problem.sites
    sample = rng.choice(np.unique(acc.snap.item), size=min(n_sample, n_sites), replace=False)
    emp_nodes = set(problem.sources.tolist())
    s_row, _, p_time, _ = problem.pairs
    t0 = time.perf_counter()
    per_site = []
    for s in sample:
        rows = np.flatnonzero(acc.snap.item == s)
        node = ("locatie", int(s))
        for r in rows:
            fwd.add_edge(node, int(acc.u[r]), weight=float(acc.time_u_s[r]))
            fwd.add_edge(node, int(acc.v[r]), weight=float(acc.time_v_s[r]))
        lengths = nx.shortest_path_length(fwd, source=node, weight="weight")
        best = min((t for n, t in lengths.items() if n in emp_nodes), default=np.inf)
        direct = p_time[np.isin(s_row, rows)]
        per_site.append(min(best, direct.min()) if direct.size else best)
        fwd.remove_node(node)
    t_loop = (time.perf_counter() - t0) / len(sample) * n_sites
    per_site = np.array(per_site)
    agree_loop = bool(
        np.array_equal(np.isfinite(per_site), np.isfinite(engine_s[sample]))
        and np.allclose(
            per_site[np.isfinite(per_site)],
            engine_s[sample][np.isfinite(per_site)],
            rtol=1e-9,
            atol=1e-9,
        )
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load_after = os.getloadavg()[0]

    title = (
        f"Reistijd naar werkgevers: {nl_number(n_sites)} locaties, {nl_number(n_emps)}"
        f" werkgevers, {nl_number(network.n_nodes)} knooppunten, {nl_number(network.n_links)}"
        f" wegvakken ({modus}, {nl_number(max_min, 1)}"
        f" min); beste van {repeat} (mediaan)"
    )
    table = Table(title=title)
    table.add_column("meting")
    table.add_column("deze motor (s)", justify="right")
    table.add_column("basislijn (s)", justify="right")
    table.add_column("basislijn", justify="left")
    table.add_column("factor", justify="right")

    def row(label, t, t_med, base=None, base_med=None, base_label=""):
        engine = f"{nl_number(t, 2)} ({nl_number(t_med, 2)})"
        if base is None:
            table.add_row(label, engine, "", base_label, "")
        else:
            table.add_row(
                label,
                engine,
                f"{nl_number(base, 2)} ({nl_number(base_med, 2)})",
                base_label,
                f"{nl_number(base / t, 1)}×",
            )

    table.add_row(
        "(i) voorbereiding, eenmalig per net (gecachet)",
        f"{nl_number(t_prep, 2)}",
        f"{nl_number(t_build, 2)}",
        f"net opbouwen; STRtree {nl_number(t_strtree, 2)} s (alleen voor vlakken/terugval)",
        "",
    )
    row(
        f"(ii) aansluiten van {nl_number(n_sites)} locaties",
        t_snap,
        t_snap_med,
        t_snap_ref,
        t_snap_ref_med,
        "shapely STRtree.query_nearest",
    )
    row(
        "(iii) alleen routeren (zelfde bronnen)",
        t_route,
        t_route_med,
        t_nx_route,
        t_nx_route_med,
        "networkx multi_source_dijkstra",
    )
    row(
        "(iv) dichtstbijzijnde werkgever, eind tot eind",
        t_e2e,
        t_e2e_med,
        t_nx_e2e,
        t_nx_e2e_med,
        "zelfde aansluiting + networkx",
    )
    row("(v) volledige aanroep incl. tellen", t_full, t_full_med)
    row("(v) volgend blok van dezelfde run (werkgeverszijde al berekend)", t_next, t_next_med)
    if old_count:
        row(
            f"(v) alleen tellen binnen {max_min:g} min",
            t_count,
            t_count_med,
            t_count_old,
            t_count_old,
            "vorige methode (heel net per werkgever)",
        )
    else:
        row(f"(v) alleen tellen binnen {max_min:g} min", t_count, t_count_med)
    table.add_row(
        f"(vi) networkx per locatie (geëxtrapoleerd uit {len(sample)})",
        f"{nl_number(t_e2e, 2)}",
        f"{nl_number(t_loop)}",
        "shortest_path_length per locatie, t.o.v. (iv)",
        f"{nl_number(t_loop / t_e2e)}×",
    )
    console.print(table)

    targets = Table(title="Doelen (issue 4)")
    targets.add_column("doel")
    targets.add_column("gemeten", justify="right")
    targets.add_column("oordeel")
    targets.add_row(
        f"volledige aanroep, {nl_number(n_sites)} locaties, < 5 s",
        f"{nl_number(t_full, 2)} s",
        _verdict(t_full < 5.0),
    )
    targets.add_row(
        "routeren ≥ 20× sneller dan networkx multi-source",
        f"{nl_number(t_nx_route / t_route, 1)}×",
        _verdict(t_nx_route / t_route >= 20),
    )
    targets.add_row(
        "≥ 1000× sneller dan de lus per locatie",
        f"{nl_number(t_loop / t_e2e)}×",
        _verdict(t_loop / t_e2e >= 1000),
    )
    targets.add_row(
        f"aansluiten {nl_number(n_sites)} locaties ≤ 0,3 s",
        f"{nl_number(t_snap, 2)} s",
        _verdict(t_snap <= 0.3),
    )
    console.print(targets)
    checks = {
        "aansluiten k-d-boom = STRtree": agree_snap,
        "routeren = networkx": agree_route,
        "volledige aanroep = networkx": agree_full,
        "telling = vorige methode" if old_count else "telling = volledige aanroep": agree_count,
        "steekproef = lus per locatie": agree_loop,
    }
    console.print("gelijk: " + "; ".join(f"{k}: {'ja' if v else 'NEE'}" for k, v in checks.items()))
    reach = ~result["reis_onbereikbaar"]
    console.print(
        f"bereikbaar: {nl_number(int(reach.sum()))} van {nl_number(n_sites)} locaties; mediane"
        f" reistijd {nl_number(np.nanmedian(result['werkgever_reistijd_min']), 1)} min; gemiddeld"
        f" {nl_number(result['werkgevers_bereikbaar'].mean(), 1)} werkgevers binnen"
        f" {nl_number(max_min, 1)} min"
    )
    console.print(
        f"{os.cpu_count()} kernen; belasting (1 min) {nl_number(load_before, 1)} voor,"
        f" {nl_number(load_after, 1)} na; "
        f"piekgeheugen {nl_number(peak_mb)} MB (incl. networkx-grafen)"
    )
    if not all(checks.values()):
        raise SystemExit(1)


if __name__ == "__main__":  # pragma: no cover
    benchmark_netwerk()
