"""Benchmark: the whole ``score`` pipeline at province scale, against two baselines.

Generates (:func:`layers.worlds.province.generate_province`: deterministic,
vectorised) a synthetic province in RD New —
by default 1,000,000 point sites, 3,000 BBG polygons, 20,000 odour contours of
5,000 farms, 300 recreation parks, 1,000 employers, the 31 Limburg gemeenten
(Voronoi cells) and an osmnx GraphML road network of at least 150,000 nodes —
as real files plus a ``config.toml``, then measures, each in a fresh Python
process so that peaks do not leak between measurements:

(engine) :func:`scripts.runner.score.run_config` end to end — reading, all analyses,
    writing locaties.gpkg/.csv, referentie.gpkg and run.json — from a cold
    process; only the one-off network preparation (osmnx GraphML → cached
    ``.npz``) is done beforehand and reported separately;
(a) the careful hand-written analyst pipeline: geopandas ``read_file``,
    ``sjoin``/``sjoin_nearest`` for the overlays, osmnx ``load_graphml`` and
    ``nearest_nodes`` plus networkx ``multi_source_dijkstra`` for travel, and
    ``to_file`` for the GeoPackage;
(b) a per-site loop (geopandas predicates and a networkx Dijkstra per site)
    on a sample, extrapolated to all sites.

Wall time and peak memory (resident set, ``VmHWM`` reset per stage through
``/proc/self/clear_refs``; a 5 ms sampling thread where that is not allowed)
are printed per stage, with the ratios and a PASS/MISS per target. A run in blocks writes its
GeoPackage in a writer process beside the engine: that process's peak is added to the engine's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import platform
import subprocess
import sys
import tempfile
import threading
import time

import click
import numpy as np

__all__ = ["benchmark", "TARGETS"]

#: Targets of issues 8 and 15.
TARGETS = {
    "speedup_a": 3.0,
    "speedup_cold": 2.0,
    "peak_gb": 2.0,
    "network_speedup": 20.0,
    "speedup_b": 1000.0,
}

_BIKE_KMH = 15.0  # snelheid_fiets_kmh of the default rule set
_PARAMS_FILE = "benchmark-parameters.json"
_JSON_TAG = "BENCHMARK_JSON "


# ---------------------------------------------------------------------------
# Measuring (inside the child processes)
# ---------------------------------------------------------------------------
def _status_kb(field: str, pid: str = "self") -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class _ChildPeaks:
    """The highest peak resident memory (``VmHWM``) of any child process of the current one, read
    every 20 ms while the children run (the GeoPackage writer process of a run in blocks).

    Not ``getrusage(RUSAGE_CHILDREN).ru_maxrss``: Linux counts in it the memory the parent had
    when it started the child (the child shares it until ``exec``), so it reports the engine's own
    size. ``VmHWM`` belongs to the child's own memory after ``exec``.
    """

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        with open("/proc/self/cmdline", "rb") as fh:
            own = fh.read()
        while not self._stop.wait(0.02):
            for pid in self._children():
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as fh:
                        if fh.read() == own:
                            continue  # started but not yet exec'd: still this process's memory
                    self.peak_kb = max(self.peak_kb, _status_kb("VmHWM", pid))
                except (OSError, ValueError):
                    pass  # ended meanwhile

    @staticmethod
    def _children() -> list[str]:
        pids: list[str] = []
        try:
            tasks = os.listdir("/proc/self/task")
        except OSError:
            return pids
        for tid in tasks:
            try:
                with open(f"/proc/self/task/{tid}/children", encoding="ascii") as fh:
                    pids.extend(fh.read().split())
            except OSError:
                pass
        return pids

    def stop(self) -> float:
        """Stop watching; the peak in MiB."""
        self._stop.set()
        self._thread.join()
        return self.peak_kb / 1024


class _Meter:
    """Wall time and peak resident memory per stage of the current process."""

    def __init__(self) -> None:
        self.rows: list[dict[str, float | str]] = []
        self.stage: str | None = None
        self.start = time.perf_counter()
        self._sampled = 0
        self._stop = threading.Event()
        try:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
                fh.write("5")  # reset VmHWM to the current RSS
            self._clear = True
        except OSError:
            self._clear = False
            threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._sampled = max(self._sampled, _status_kb("VmRSS"))
            time.sleep(0.005)

    def _peak_kb(self) -> int:
        if self._clear:
            return _status_kb("VmHWM")
        return max(self._sampled, _status_kb("VmRSS"))

    def mark(self, stage: str | None) -> None:
        now = time.perf_counter()
        if self.stage is not None:
            self.rows.append(
                {"stage": self.stage, "s": now - self.start, "peak_mb": self._peak_kb() / 1024}
            )
        self.stage, self.start = stage, now
        if self._clear:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
                fh.write("5")
        else:
            self._sampled = _status_kb("VmRSS")

    def emit(self, **extra: object) -> None:
        self.mark(None)
        self._stop.set()
        print(_JSON_TAG + json.dumps({"rows": self.rows, **extra}), flush=True)


def _child_prepare(work: Path) -> None:
    meter = _Meter()
    meter.mark("wegennet voorbereiden (eenmalig)")
    from locatietoets.analysis.network import TravelSpeeds
    from locatietoets.layers.io.config import load_config
    from locatietoets.layers.io.network import load_network

    config = load_config(work / "config.toml")
    network = load_network(
        config.layer("wegennet"), speeds=TravelSpeeds(bike_kmh=_BIKE_KMH), cache_dir=work / "cache"
    )
    meter.emit(nodes=network.n_nodes, links=network.n_links)


def _child_engine(work: Path, block_size: int | None = None) -> None:
    meter = _Meter()
    meter.mark("opstarten (imports)")
    from locatietoets.layers.io.config import load_config
    from locatietoets.scripts.runner.score import run_config

    config = load_config(work / "config.toml")
    children = _ChildPeaks()

    def progress(step: str, message: str, fraction: float) -> None:
        if step not in (meter.stage, "klaar"):
            meter.mark(step)

    # more sites than the block size: the chunked engine (scored and written block by block, bounded
    # memory)
    outcome = run_config(
        config,
        work / "uitvoer-motor",
        progress=progress,
        network_cache_dir=work / "cache",
        block_size=block_size,
    )
    # the GeoPackage writer process of a run in blocks (layers/io/gpkg_worker.py) runs beside this
    # one: its peak counts towards the engine's
    meter.emit(record_times=outcome.record["tijden_s"], children_peak_mb=children.stop())


def _child_analyst(work: Path) -> None:
    """(a) The careful hand-written pipeline: geopandas sjoin/sjoin_nearest, osmnx + networkx."""
    meter = _Meter()
    meter.mark("opstarten (imports)")
    import geopandas as gpd
    import networkx as nx
    import osmnx as ox
    import pandas as pd

    inv = work / "invoer"
    meter.mark("inlezen")
    sites = gpd.read_file(inv / "locaties.gpkg")
    bbg = gpd.read_file(inv / "bebouwd_gebied.gpkg")
    contours = gpd.read_file(inv / "geurcontouren.gpkg")
    farms = gpd.read_file(inv / "veehouderijen.gpkg")
    parks = gpd.read_file(inv / "recreatieparken.gpkg")
    employers = gpd.read_file(inv / "werkgevers.gpkg")
    gemeenten = gpd.read_file(inv / "gemeenten.gpkg")
    pts = sites[["geometry"]]
    # one point per site for the network and the nearest farm (polygon sites: a point inside)
    anchor = sites.geometry.representative_point()

    meter.mark("wegennet")
    graph = ox.load_graphml(inv / "wegennet.graphml")
    speed_ms = _BIKE_KMH / 3.6
    nx.set_edge_attributes(
        graph,
        {
            e: d["length"] / speed_ms
            for e, d in ((e, graph.edges[e]) for e in graph.edges(keys=True))
        },
        "travel_time",
    )

    meter.mark("gemeente")
    j = gpd.sjoin(
        pts,
        gemeenten[["gemeentenaam", "gemeentecode", "geometry"]],
        how="left",
        predicate="intersects",
    )
    j = j[~j.index.duplicated(keep="first")]
    sites["gemeente"], sites["gemeente_code"] = j["gemeentenaam"], j["gemeentecode"]

    meter.mark("bbg")
    inside = gpd.sjoin(pts, bbg[["geometry"]], predicate="intersects").index.unique()
    is_in = sites.index.isin(inside)
    near = gpd.sjoin_nearest(pts[~is_in], bbg[["geometry"]], distance_col="afstand")
    near = near[~near.index.duplicated(keep="first")]
    sites["bbg_afstand_m"] = near["afstand"].reindex(sites.index).fillna(0.0)
    sites["bbg_ligging"] = np.where(
        is_in, "binnen", np.where(sites["bbg_afstand_m"] <= 100, "rand", "buiten")
    )

    meter.mark("recreatie")
    p = gpd.sjoin(pts, parks[["naam", "geometry"]], predicate="intersects")
    sites["recreatiepark"] = p[~p.index.duplicated(keep="first")]["naam"].reindex(sites.index)

    meter.mark("geur")
    c = gpd.sjoin(pts, contours[["geur_oue", "geometry"]], predicate="intersects")
    sites["geur_oue"] = c.groupby(level=0)["geur_oue"].max().reindex(sites.index)
    f = gpd.sjoin_nearest(
        pts, farms[["naam", "vaste_afstand_m", "geometry"]], distance_col="afstand"
    )
    f = f[~f.index.duplicated(keep="first")]
    sites["veehouderij"], sites["veehouderij_afstand_m"] = f["naam"], f["afstand"]
    required = f["vaste_afstand_m"].fillna(100.0)
    sites["geur_knelpunt"] = (sites["geur_oue"].fillna(0) >= 8.0) | (
        sites["veehouderij_afstand_m"] < required
    )

    meter.mark("reis")
    site_nodes = ox.distance.nearest_nodes(graph, anchor.x.to_numpy(), anchor.y.to_numpy())
    emp_nodes = ox.distance.nearest_nodes(
        graph, employers.geometry.x.to_numpy(), employers.geometry.y.to_numpy()
    )
    node_emp = dict(zip(emp_nodes, employers["naam"]))
    dist, paths = nx.multi_source_dijkstra(graph, set(emp_nodes), weight="travel_time")
    sites["werkgever_reistijd_min"] = pd.Series(dist).reindex(site_nodes).to_numpy() / 60.0
    sites["werkgever"] = [node_emp.get(paths[n][0]) if n in paths else None for n in site_nodes]
    del paths

    meter.mark("oordeel")
    bad = sites["geur_knelpunt"] | sites["recreatiepark"].notna()
    cond = (sites["bbg_ligging"] != "binnen") | (sites["werkgever_reistijd_min"] > 15)
    sites["oordeel"] = np.where(bad, "ongeschikt", np.where(cond, "voorwaardelijk", "geschikt"))
    sites["redenen"] = np.where(
        bad, "geur of recreatiepark", np.where(cond, "buiten BBG of werkgever ver", "")
    )

    meter.mark("schrijven")
    out = work / "uitvoer-analist"
    out.mkdir(exist_ok=True)
    sites.to_file(out / "locaties.gpkg", driver="GPKG", dataset_options={"VERSION": "1.2"})
    meter.emit()


def _child_growth(work: Path, max_sites: int = 100_000, factor: float = 4.0) -> None:
    """BBG, park and odour stages on the world's reference polygons and on the same polygons with
    about ``factor`` times the vertices (``shapely.segmentize``), same sites."""
    import geopandas as gpd
    import shapely

    from locatietoets.analysis.odour import assess_odour
    from locatietoets.analysis.overlay import assign_polygon_attribute, classify_bbg, inside_share

    inv = work / "invoer"
    sites = gpd.read_file(inv / "locaties.gpkg", max_features=max_sites).geometry
    layers = {
        name: gpd.read_file(inv / f"{name}.gpkg")
        for name in ("bebouwd_gebied", "recreatieparken", "geurcontouren", "veehouderijen")
    }
    layers["geurcontouren"] = layers["geurcontouren"].rename(columns={"geur_oue": "waarde"})
    n = len(sites)

    def densified(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        geoms = np.asarray(frame.geometry.values, dtype=object)
        before = int(shapely.get_num_coordinates(geoms).sum())
        lengths = shapely.length(geoms) / np.maximum(shapely.get_num_coordinates(geoms), 1)
        step = float(np.median(lengths)) / factor
        out = frame.copy()
        out.geometry = shapely.segmentize(geoms, step)
        return out, before, int(shapely.get_num_coordinates(out.geometry.values).sum())

    def bbg(frame: gpd.GeoDataFrame) -> None:
        classify_bbg(sites, frame.geometry, rand_m=100.0, inside_share_min=0.9)

    def parks(frame: gpd.GeoDataFrame) -> None:
        assign_polygon_attribute(sites, frame, ["naam"], min_share=1e-4)
        inside_share(sites, frame.geometry)

    def odour(frame: gpd.GeoDataFrame) -> None:
        full = lambda v: np.full(n, v)  # noqa: E731
        assess_odour(
            sites,
            in_kom=full(False),
            concentration_area=full(False),
            norm_oue=full(8.0),
            kom_source="bebouwde kom",
            contours=frame,
            farms=layers["veehouderijen"],
            point_distance_kom_m=full(50.0),
            point_distance_outside_m=full(25.0),
            facade_distance_kom_m=full(100.0),
            facade_distance_outside_m=full(50.0),
        )

    rows = []
    for stap, layer, fn in (
        ("bbg", "bebouwd_gebied", bbg),
        ("recreatie", "recreatieparken", parks),
        ("geur", "geurcontouren", odour),
    ):
        dense, v1, v2 = densified(layers[layer])
        times = []
        for frame in (layers[layer], dense):
            t0 = time.perf_counter()
            fn(frame)
            times.append(time.perf_counter() - t0)
        rows.append({"stap": stap, "v1": v1, "s1": times[0], "v2": v2, "s2": times[1]})
    print(
        _JSON_TAG + json.dumps({"rows": rows, "sites": n, "factor": rows[0]["v2"] / rows[0]["v1"]}),
        flush=True,
    )


def _child_loop(work: Path, n_sample: int, seed: int) -> None:
    """(b) Per site: geopandas predicates and a networkx Dijkstra, on a sample."""
    import geopandas as gpd
    import networkx as nx

    from locatietoets.analysis.network import RoadNetwork

    inv = work / "invoer"
    sites = gpd.read_file(inv / "locaties.gpkg")
    bbg = gpd.read_file(inv / "bebouwd_gebied.gpkg")
    contours = gpd.read_file(inv / "geurcontouren.gpkg")
    farms = gpd.read_file(inv / "veehouderijen.gpkg")
    parks = gpd.read_file(inv / "recreatieparken.gpkg")
    employers = gpd.read_file(inv / "werkgevers.gpkg")
    gemeenten = gpd.read_file(inv / "gemeenten.gpkg")
    cache = next((work / "cache").glob("wegennet-*.npz"))
    with np.load(cache) as data:
        network = RoadNetwork.from_arrays(data)
    graph = nx.Graph()
    speed_ms = _BIKE_KMH / 3.6
    graph.add_weighted_edges_from(
        zip(
            network.link_u.tolist(),
            network.link_v.tolist(),
            (network.link_length_m / speed_ms).tolist(),
        )
    )
    nx_, ny_ = network.node_x, network.node_y

    def nearest_node(px: float, py: float) -> int:
        return int(np.argmin((nx_ - px) ** 2 + (ny_ - py) ** 2))

    emp_nodes = {nearest_node(g.x, g.y) for g in employers.geometry}
    sample = np.random.default_rng(seed).choice(
        len(sites), size=min(n_sample, len(sites)), replace=False
    )
    t0 = time.perf_counter()
    t_net = 0.0
    for i in sample:
        pt = sites.geometry.iloc[i].representative_point()
        gem = gemeenten.loc[gemeenten.contains(pt), "gemeentenaam"]
        _ = gem.iloc[0] if len(gem) else None
        _ = bool(bbg.contains(pt).any()) or float(bbg.distance(pt).min())
        _ = parks.loc[parks.contains(pt), "naam"].head(1).tolist()
        _ = contours.loc[contours.contains(pt), "geur_oue"].max()
        d = farms.distance(pt)
        _ = farms["naam"].iloc[int(d.to_numpy().argmin())], float(d.min())
        tn = time.perf_counter()
        lengths = nx.single_source_dijkstra_path_length(
            graph, nearest_node(pt.x, pt.y), weight="weight"
        )
        _ = min((lengths[e] for e in emp_nodes if e in lengths), default=np.inf)
        t_net += time.perf_counter() - tn
    per_site = (time.perf_counter() - t0) / len(sample)
    print(
        _JSON_TAG
        + json.dumps(
            {
                "per_site_s": per_site,
                "per_site_network_s": t_net / len(sample),
                "sample": len(sample),
            }
        ),
        flush=True,
    )


# ---------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------
def _run_child(kind: str, work: Path, *args: object) -> dict:
    code = (
        "from locatietoets.scripts.bench.benchmark import _child_main;"
        f" _child_main({kind!r}, {str(work)!r}, *{list(args)!r})"
    )
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    for line in proc.stdout.splitlines():
        if line.startswith(_JSON_TAG):
            data = json.loads(line[len(_JSON_TAG) :])
            data["process_s"] = wall
            return data
    raise click.ClickException(
        f"meting '{kind}' mislukt (exitcode {proc.returncode}):\n{proc.stderr[-3000:]}"
    )


def _child_main(kind: str, work: str, *args: object) -> None:
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    {
        "prepare": _child_prepare,
        "engine": _child_engine,
        "analyst": _child_analyst,
        "loop": _child_loop,
        "groei": _child_growth,
    }[kind](Path(work), *args)


def _machine() -> str:
    model = platform.processor() or "onbekend"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            model = next(
                (line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")),
                model,
            )
    except OSError:
        pass
    ram_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} kernen, {ram_gb:.0f} GB RAM, {model}, {platform.system()}"
        f" {platform.release()}, Python {platform.python_version()}; belasting bij start {load:.1f}"
    )


def _stages(result: dict) -> dict[str, dict]:
    """Per stage: seconds summed and the highest peak (the chunked engine runs every stage once per
    block)."""
    out: dict[str, dict] = {}
    for row in result["rows"]:
        seen = out.get(row["stage"])
        if seen is None:
            out[row["stage"]] = dict(row)
        else:
            seen["s"] += row["s"]
            seen["peak_mb"] = max(seen["peak_mb"], row["peak_mb"])
    return out


@click.command("benchmark")
@click.option(
    "--sites",
    "sizes",
    type=click.IntRange(1000),
    multiple=True,
    default=[1_000_000],
    show_default=True,
    help=(
        "Aantal locaties; herhaal de optie (--sites 100000 --sites 1000000) om de groei per stap"
        " te zien."
    ),
)
@click.option(
    "--wereld",
    type=click.Choice(["realistisch", "synthetisch"]),
    default="realistisch",
    show_default=True,
    help=(
        "realistisch: echte gemeentegrenzen, BBG van een paar grote multipolygonen met gaten,"
        " overlappende contouren, 30 % vlaklocaties; synthetisch: de eerste benchmarkwereld"
        " (eenvoudige losse vlakken, alleen punten)."
    ),
)
@click.option(
    "--map",
    "work",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help=(
        "Werkmap voor de synthetische gegevens (standaard een map in de tijdelijke map; hergebruikt"
        " bij gelijke instellingen); bij meerdere aantallen een submap per aantal."
    ),
)
@click.option(
    "--steekproef",
    "n_sample",
    type=click.IntRange(1),
    default=10,
    show_default=True,
    help="Locaties in de lus per locatie (b).",
)
@click.option("--seed", default=8, show_default=True, help="Zaad van de generator.")
@click.option(
    "--blok",
    "block_size",
    type=click.IntRange(0),
    default=None,
    help=(
        "Locaties per blok van deze motor (standaard die van 'score'; 0 = alle locaties in één"
        " keer)."
    ),
)
def benchmark(
    sizes: tuple[int, ...],
    wereld: str,
    work: Path | None,
    n_sample: int,
    seed: int,
    block_size: int | None,
) -> None:
    """Meet de hele toets (inlezen, analyses, wegschrijven) op een synthetische provincie.

    Vergelijkt in dezelfde run met (a) een zorgvuldig handgeschreven
    geopandas/networkx-pijplijn en (b) een lus per locatie (steekproef,
    geëxtrapoleerd), en toetst de doelen van issues 8 en 15 (PASS/MISS). Bij
    meerdere aantallen locaties volgt de groei per stap, en op de kleinste
    wereld de groei van de BBG-, recreatie- en geurstap met het aantal hoekpunten.
    """
    from rich.console import Console

    console = Console()
    console.print(f"[bold]Machine[/]: {_machine()}")
    per_size: dict[int, dict[str, dict]] = {}
    folders: dict[int, Path] = {}
    for n_sites in sorted(set(sizes)):
        folder = (
            Path(tempfile.gettempdir()) / f"locatietoets-benchmark-{wereld}-{n_sites}-{seed}"
            if work is None
            else (Path(work) / str(n_sites) if len(set(sizes)) > 1 else Path(work))
        )
        folders[n_sites] = folder
        per_size[n_sites] = _bench_size(
            console, folder, n_sites, wereld, n_sample, seed, block_size
        )
    if len(per_size) > 1:
        _print_growth(console, per_size)
    smallest = min(folders)
    console.print("groei met het aantal hoekpunten van de referentievlakken ...")
    _print_vertex_growth(console, _run_child("groei", folders[smallest]))
    console.print(
        f"[bold]Machine[/]: {_machine()} (gedeelde machine: andere processen kunnen de tijden"
        " beïnvloeden)"
    )


def _bench_size(
    console,
    work: Path,
    n_sites: int,
    wereld: str,
    n_sample: int,
    seed: int,
    block_size: int | None,
) -> dict[str, dict]:
    """Generate (or reuse) one world, measure the engine, (a) and (b), print the tables."""
    import shutil

    from rich.table import Table

    params = {"sites": n_sites, "seed": seed, "wereld": wereld, "versie": 2}
    marker = work / _PARAMS_FILE
    if (
        marker.is_file()
        and json.loads(marker.read_text()) == params
        and (work / "config.toml").is_file()
    ):
        console.print(f"gegevens hergebruikt uit {work}")
    else:
        console.print(f"{wereld}e provincie maken in {work} ...")
        t0 = time.perf_counter()
        work.mkdir(parents=True, exist_ok=True)
        marker.unlink(missing_ok=True)
        from locatietoets.layers.worlds.province import generate_province

        generate_province(work, n_sites=n_sites, seed=seed, world=wereld)
        marker.write_text(json.dumps(params))
        console.print(f"gemaakt in {time.perf_counter() - t0:.1f} s")

    shutil.rmtree(work / "cache", ignore_errors=True)  # the cold run builds the network cache
    console.print("wegennet voorbereiden (koude start: GraphML → cache) ...")
    prep = _run_child("prepare", work)
    console.print("deze motor (warm: wegennet uit de cache, nieuw proces) ...")
    engine = _run_child("engine", work, block_size)
    console.print("(a) handgeschreven geopandas/networkx-pijplijn ...")
    analyst = _run_child("analyst", work)
    console.print(f"(b) lus per locatie op {n_sample} locaties ...")
    loop = _run_child("loop", work, n_sample, seed)

    e_rows, a_rows = _stages(engine), _stages(analyst)
    e_total = sum(r["s"] for r in engine["rows"])
    a_total = sum(r["s"] for r in analyst["rows"])
    # the writer process's peak added to the engine's: a bound on both together at any moment
    writer_peak = engine.get("children_peak_mb", 0.0)
    e_peak = max(r["peak_mb"] for r in engine["rows"]) + writer_peak
    a_peak = max(r["peak_mb"] for r in analyst["rows"])
    p = prep["rows"][0]
    cold_total, cold_peak = e_total + p["s"], max(e_peak, p["peak_mb"])
    b_total = loop["per_site_s"] * n_sites

    table = Table(
        title=(
            f"Locatietoets end-to-end ({wereld}): {n_sites:,} locaties, {prep['nodes']:,}"
            f" knooppunten ({prep['links']:,} wegvakken)"
        )
    )
    table.add_column("stap")
    table.add_column("motor (s)", justify="right")
    table.add_column("motor piek (MB)", justify="right")
    table.add_column("(a) analist (s)", justify="right")
    table.add_column("(a) piek (MB)", justify="right")
    for stage in _ORDER + [s for s in e_rows if s not in _ORDER]:
        e, a = e_rows.get(stage), a_rows.get(stage)
        if e is None and a is None:
            continue
        table.add_row(
            stage,
            f"{e['s']:.2f}" if e else "",
            f"{e['peak_mb']:,.0f}" if e else "",
            f"{a['s']:.2f}" if a else "",
            f"{a['peak_mb']:,.0f}" if a else "",
        )
    if writer_peak:
        table.add_row(
            "schrijfproces GeoPackage (piek, telt op bij de motor)",
            "",
            f"{writer_peak:,.0f}",
            "",
            "",
        )
    table.add_row(
        "[bold]totaal warm[/]",
        f"[bold]{e_total:.2f}[/]",
        f"[bold]{e_peak:,.0f}[/]",
        f"[bold]{a_total:.2f}[/]",
        f"[bold]{a_peak:,.0f}[/]",
    )
    table.add_row("wegennet-cache bouwen (koud)", f"{p['s']:.2f}", f"{p['peak_mb']:,.0f}", "", "")
    table.add_row(
        "[bold]totaal koud[/]", f"[bold]{cold_total:.2f}[/]", f"[bold]{cold_peak:,.0f}[/]"
    )
    console.print(table)

    net_e = e_rows.get("wegennet", {"s": 0.0})["s"] + e_rows.get("reis", {"s": 0.0})["s"]
    net_a = a_rows["wegennet"]["s"] + a_rows["reis"]["s"]
    dijkstra_a = a_rows["reis"]["s"]
    checks = [
        (
            f"warm ≥ {TARGETS['speedup_a']:g}× sneller dan (a)",
            a_total / e_total,
            TARGETS["speedup_a"],
            f"{a_total:.1f} s / {e_total:.1f} s",
        ),
        (
            f"koud ≥ {TARGETS['speedup_cold']:g}× sneller dan (a)",
            a_total / cold_total,
            TARGETS["speedup_cold"],
            f"{a_total:.1f} s / ({e_total:.1f} s + cache {p['s']:.1f} s)",
        ),
        (
            f"piekgeheugen warm en koud ≤ {TARGETS['peak_gb']:g} GB",
            TARGETS["peak_gb"] * 1024 / cold_peak,
            1.0,
            f"{e_peak / 1024:.2f} / {p['peak_mb'] / 1024:.2f} GB (a: {a_peak / 1024:.2f} GB)",
        ),
        (
            f"wegennetstap ≥ {TARGETS['network_speedup']:g}× sneller dan networkx",
            net_a / net_e,
            TARGETS["network_speedup"],
            (
                f"(a) laden+reis {net_a:.1f} s / motor laden+reis {net_e:.2f} s (alleen Dijkstra"
                f" (a) {dijkstra_a:.1f} s)"
            ),
        ),
        (
            f"≥ {TARGETS['speedup_b']:,.0f}× sneller dan (b)",
            b_total / e_total,
            TARGETS["speedup_b"],
            (
                f"{b_total:,.0f} s geëxtrapoleerd ({loop['per_site_s'] * 1000:.0f} ms per locatie,"
                f" {loop['sample']} in steekproef) / {e_total:.1f} s"
            ),
        ),
    ]
    result = Table(title=f"Doelen (issues 8 en 15), {n_sites:,} locaties")
    result.add_column("doel")
    result.add_column("gemeten", justify="right")
    result.add_column("")
    result.add_column("toelichting")
    for title, value, target, note in checks:
        ok = value >= target
        shown = f"{cold_peak / 1024:.2f} GB" if "piek" in title else f"{value:,.1f}×"
        result.add_row(title, shown, "[green]PASS[/]" if ok else "[red]MISS[/]", note)
    console.print(result)
    e_rows["totaal"] = {"s": e_total, "peak_mb": e_peak}
    return e_rows


_ORDER = [
    "opstarten (imports)",
    "inlezen",
    "wegennet",
    "gemeente",
    "bbg",
    "recreatie",
    "woonnormen",
    "geur",
    "reis",
    "oordeel",
    "schrijven",
]


def _print_growth(console, per_size: dict[int, dict[str, dict]]) -> None:
    """Engine seconds per stage at each size, and per 100,000 sites (flat = linear growth)."""
    from rich.table import Table

    sizes = sorted(per_size)
    table = Table(title="Groei met het aantal locaties (motor, warm): seconden per 100.000")
    table.add_column("stap")
    for n in sizes:
        table.add_column(f"{n:,} (s)", justify="right")
        table.add_column("per 100k", justify="right")
    table.add_column("groei / lineair", justify="right")
    stages = [s for s in _ORDER + ["totaal"] if any(s in per_size[n] for n in sizes)]
    stages += [s for s in per_size[sizes[-1]] if s not in stages]
    for stage in stages:
        cells = []
        for n in sizes:
            row = per_size[n].get(stage)
            cells += [f"{row['s']:.2f}", f"{row['s'] / n * 1e5:.2f}"] if row else ["", ""]
        lo, hi = per_size[sizes[0]].get(stage), per_size[sizes[-1]].get(stage)
        ratio = (
            f"{(hi['s'] / lo['s']) / (sizes[-1] / sizes[0]):.2f}"
            if lo and hi and lo["s"] > 0.05
            else ""
        )
        table.add_row(stage, *cells, ratio)
    console.print(table)


def _print_vertex_growth(console, data: dict) -> None:
    """Cost of the overlay stages with the reference polygons densified (more vertices)."""
    from rich.table import Table

    table = Table(
        title=(
            f"Groei met het aantal hoekpunten ({data['sites']:,} locaties; zelfde vormen,"
            " extra hoekpunten op de randen)"
        )
    )
    table.add_column("stap")
    table.add_column("hoekpunten ×1", justify="right")
    table.add_column("s", justify="right")
    table.add_column(f"hoekpunten ×{data['factor']:.1f}", justify="right")
    table.add_column("s", justify="right")
    table.add_column("groei / lineair", justify="right")
    for row in data["rows"]:
        table.add_row(
            row["stap"],
            f"{row['v1']:,}",
            f"{row['s1']:.2f}",
            f"{row['v2']:,}",
            f"{row['s2']:.2f}",
            f"{(row['s2'] / row['s1']) / (row['v2'] / row['v1']):.2f}",
        )
    console.print(table)
    console.print(
        "groei / lineair ≤ 1: de stap groeit hooguit lineair in het aantal hoekpunten"
        " (de tijd hangt ook af van het aantal locaties, dat gelijk blijft)"
    )


if __name__ == "__main__":  # pragma: no cover
    benchmark()
