"""Read a road network (``[lagen.wegennet]``) and cache the prepared result.

Supported inputs
----------------
- OpenStreetMap XML, ``.osm`` or ``.osm.bz2`` (read with ``osmnx.graph_from_xml``);
- OpenStreetMap PBF, ``.osm.pbf`` (read with pyrosm);
- osmnx GraphML, ``.graphml`` (streamed, without networkx: the same links as
  ``osmnx.load_graphml`` in a fraction of the memory);
- a line layer in any OGR vector format (GeoPackage, shapefile such as NWB
  wegvakken, GeoJSON, FlatGeobuf...), optionally with a speed field
  (``snelheid_veld``, km/h), a one-way field (``eenrichting_veld``: OSM
  yes/no/true/false/1/0/-1 or NWB RIJRICHTNG H/T/B/O) and a road-type field
  (``wegtype_veld``, OSM ``highway`` values). Lines connect where their end
  points coincide (to 1 cm); lines that only cross (bridges) do not connect.

Everything is returned in EPSG:28992. The prepared network is cached as an
``.npz`` file keyed by the input file's sha256, the mode, the speeds and the
field options, so a second run skips parsing (see :func:`load_network`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import hashlib
import html
import json
import logging
import os
from pathlib import Path
import re
import tempfile
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from locatietoets.analysis.errors import InputError, did_you_mean
from locatietoets.analysis.network import (
    DEFAULT_MODE,
    MODES,
    RoadNetwork,
    TravelSpeeds,
    build_network,
    impute_car_speeds_kmh,
    normalise_highway,
    parse_oneway,
)
from locatietoets.analysis.vocabulary import nl_number
from locatietoets.layers.io.spec import LayerSpec

__all__ = [
    "load_network",
    "load_configured_network",
    "DEFAULT_CACHE_DIR",
    "CACHE_VERSION",
    "network_cache_path",
    "file_digest",
]

logger = logging.getLogger(__name__)

#: Default folder of cached prepared networks.
DEFAULT_CACHE_DIR = Path("~/.cache/locatietoets/netwerk").expanduser()
#: Bump when the prepared format or the preparation rules change.
CACHE_VERSION = "1"
_RD = "EPSG:28992"
_LAYER = "[lagen.wegennet]"
_NODE_TOLERANCE_M = 0.01
_LINE_EXTENSIONS = (
    ".gpkg",
    ".shp",
    ".geojson",
    ".json",
    ".fgb",
    ".gml",
    ".sqlite",
    ".gdb",
    ".zip",
    ".tab",
    ".kml",
)
_OSM_EXTENSIONS = (".osm", ".osm.bz2", ".osm.pbf", ".graphml")


def _format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".osm.pbf") or name.endswith(".pbf"):
        return "pbf"
    if (
        name.endswith(".osm")
        or name.endswith(".osm.bz2")
        or name.endswith(".xml")
        or name.endswith(".osm.xml")
    ):
        return "osm"
    if name.endswith(".graphml"):
        return "graphml"
    if name.endswith(_LINE_EXTENSIONS) or path.is_dir() and name.endswith(".gdb"):
        return "lines"
    raise InputError(
        f"{_LAYER} bestand '{path.name}' heeft een onbekende extensie. Gebruik OpenStreetMap "
        f"({', '.join(_OSM_EXTENSIONS)}) of een lijnenlaag ({', '.join(_LINE_EXTENSIONS)})."
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(child.relative_to(path).as_posix().encode())
            digest.update(_sha256(child).encode())
        return digest.hexdigest()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_DIGESTS = "controlegetallen.json"
#: A file changed less than this long ago (ns) is hashed but not remembered (timestamps are coarse).
_SETTLED_NS = 2_000_000_000


def file_digest(path: Path, cache_dir: Path) -> str:
    """The sha256 of ``path``, remembered in ``cache_dir`` with the file's status.

    A file whose size, modification time, status-change time and inode are all unchanged is not
    read again (the status-change time moves with every write, whatever the tool sets the
    modification time to). Folders (file geodatabases) are always hashed.
    """
    path = Path(path)
    if not path.is_file():
        return _sha256(path)
    status = path.stat()
    stamp = [status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino]
    memo_file = Path(cache_dir) / _DIGESTS
    key = str(path.resolve())
    try:
        memo = json.loads(memo_file.read_text(encoding="utf-8"))
        if not isinstance(memo, dict):
            memo = {}
    except (OSError, ValueError):
        memo = {}
    seen = memo.get(key)
    if isinstance(seen, dict) and seen.get("status") == stamp and seen.get("sha256"):
        return str(seen["sha256"])
    digest = _sha256(path)
    if time.time_ns() - status.st_ctime_ns < _SETTLED_NS:
        return digest  # just written: a rewrite within the clock's tick would keep the status
    memo[key] = {"status": stamp, "sha256": digest}
    try:
        memo_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix="controlegetallen", suffix=".tmp", dir=memo_file.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(memo, handle)
            os.replace(tmp, memo_file)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:  # an unwritable cache folder costs a hash next time, nothing else
        logger.warning("controlegetal van %s niet te bewaren: %s", path.name, exc)
    return digest


def network_cache_path(
    spec: LayerSpec,
    *,
    mode: str,
    speeds: TravelSpeeds,
    cache_dir: Path,
    digest: str | None = None,
) -> Path:
    """Return the cache file for ``spec`` (depends on file content, mode, speeds and field
    options); ``digest``: the file's sha256 when already known."""
    parts = [
        CACHE_VERSION,
        _sha256(Path(spec.path)) if digest is None else digest,
        mode,
        speeds.cache_token(),
        str(spec.layer),
        str(spec.crs),
        str(spec.get("snelheid_veld")),
        str(spec.get("eenrichting_veld")),
        str(spec.get("wegtype_veld")),
    ]
    key = hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
    return Path(cache_dir) / f"wegennet-{mode}-{key}.npz"


def load_configured_network(
    spec: LayerSpec,
    ruleset,
    *,
    cache_dir: Path | None = None,
    progress: Callable[[float, str], None] | None = None,
):
    """Load ``[lagen.wegennet]`` with the rule set's travel speeds, plus its entry for the run
    record.

    Parameters
    ----------
    spec
        The ``[lagen.wegennet]`` layer.
    ruleset
        The effective :class:`~analysis.ruleset.RuleSet` (``snelheid_fiets_kmh``,
        ``snelheid_lopen_kmh``).
    cache_dir, progress
        As for :func:`load_network`.

    Returns
    -------
    network, report
        The prepared :class:`~analysis.network.RoadNetwork` (its ``mode`` is the
        mode used, default fiets) and a :class:`~layers.io.read.LayerReport`.
    """
    import datetime as dt

    from locatietoets.layers.io.read import LayerReport

    speeds = TravelSpeeds(
        bike_kmh=float(ruleset.value("snelheid_fiets_kmh")),
        walk_kmh=float(ruleset.value("snelheid_lopen_kmh")),
    )
    path = Path(spec.path)
    cache_dir = DEFAULT_CACHE_DIR if cache_dir is None else Path(cache_dir).expanduser()
    # once: cache key and run record
    digest = file_digest(path, cache_dir) if path.exists() else None
    network = load_network(
        spec, speeds=speeds, cache_dir=cache_dir, progress=progress, digest=digest
    )
    report = LayerReport(
        name="wegennet",
        path=str(spec.path),
        layer=spec.layer,
        sha256=digest,
        modified=dt.datetime.fromtimestamp(spec.path.stat().st_mtime, tz=dt.timezone.utc).isoformat(
            timespec="seconds"
        ),
        features=int(network.n_links),
    )
    return network, report


def load_network(
    spec: LayerSpec,
    *,
    speeds: TravelSpeeds,
    cache_dir: Path | None = None,
    progress: Callable[[float, str], None] | None = None,
    digest: str | None = None,
) -> RoadNetwork:
    """Read the road network of ``spec`` for its mode, from the cache when possible.

    Parameters
    ----------
    spec
        The ``[lagen.wegennet]`` layer: path, optional ``laag`` and ``crs``, and
        options ``modus`` (auto | fiets | lopen, default fiets), ``snelheid_veld``,
        ``eenrichting_veld`` and ``wegtype_veld`` (line layers).
    speeds
        Travel speeds (rule-set parameters).
    cache_dir
        Folder for prepared networks; default ``~/.cache/locatietoets/netwerk``.
    progress
        Called with (fraction 0–1, Dutch message).
    digest
        The file's sha256 when the caller already has it (not computed again).

    Returns
    -------
    RoadNetwork
        In EPSG:28992 metres.

    Raises
    ------
    InputError
        Missing or unreadable file, unknown extension, wrong geometry type,
        missing field, no CRS, or no roads usable by the mode.
    """
    path = Path(spec.path)
    mode = spec.get("modus") or DEFAULT_MODE
    if mode not in MODES:
        raise InputError(
            f"{_LAYER} modus '{mode}' is onbekend.{did_you_mean(str(mode), MODES)} Kies uit:"
            f" {', '.join(MODES)}."
        )
    if not path.exists():
        raise InputError(
            f"{_LAYER} bestand '{path}' bestaat niet. Controleer 'pad' in de configuratie."
        )
    fmt = _format(path)

    def report(fraction: float, message: str) -> None:
        if progress is not None:
            progress(fraction, message)

    cache_dir = DEFAULT_CACHE_DIR if cache_dir is None else Path(cache_dir).expanduser()
    report(0.0, "wegennet: controlegetal van het bestand berekenen")
    if digest is None:
        digest = file_digest(path, cache_dir)
    cache_file = network_cache_path(
        spec, mode=mode, speeds=speeds, cache_dir=cache_dir, digest=digest
    )
    if cache_file.is_file():
        start = time.perf_counter()
        try:
            with np.load(cache_file, allow_pickle=False) as data:
                network = RoadNetwork.from_arrays(data)
        except Exception as exc:  # a damaged cache file is rebuilt, not fatal
            logger.warning("cache %s onleesbaar (%s); wordt opnieuw opgebouwd", cache_file, exc)
        else:
            logger.info(
                "wegennet uit de cache %s geladen in %s s: %s knopen, %s wegvakken",
                cache_file.name,
                nl_number(time.perf_counter() - start, 2),
                nl_number(network.n_nodes),
                nl_number(network.n_links),
            )
            report(1.0, network.summary())
            return network

    report(0.1, f"wegennet inlezen ({path.name})")
    start = time.perf_counter()
    network = _build(spec, path, fmt, mode=mode, speeds=speeds)
    logger.info(
        "wegennet opgebouwd uit %s in %s s", path.name, nl_number(time.perf_counter() - start, 1)
    )
    report(0.9, "wegennet opslaan in de cache")
    _save_atomic(network, cache_file)
    report(1.0, network.summary())
    return network


def _save_atomic(network: RoadNetwork, cache_file: Path) -> None:
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=cache_file.stem, suffix=".tmp", dir=cache_file.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, **network.to_arrays())
            os.replace(tmp, cache_file)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        logger.warning("cache van het wegennet %s niet te schrijven: %s", cache_file, exc)


def _build(
    spec: LayerSpec, path: Path, fmt: str, *, mode: str, speeds: TravelSpeeds
) -> RoadNetwork:
    if fmt == "lines":
        links = _links_from_layer(spec, path)
    elif fmt == "pbf":
        links = _links_from_pbf(path)
    elif fmt == "graphml":
        links = _links_from_graphml(path)
    else:
        graph = _read_osmnx_graph(path, fmt)
        links = _links_from_graph(graph)
    if len(links) == 0:
        raise InputError(
            f"{_LAYER} bestand '{path.name}' bevat geen wegen. Kies een bestand met wegen (lijnen)."
        )
    network = _network_from_links(links, mode=mode, speeds=speeds, source=path.name)
    if network.n_links == 0:
        raise InputError(
            f"{_LAYER} bestand '{path.name}' bevat geen wegen die open zijn voor modus '{mode}'. "
            "Kies een andere modus of een vollediger wegennet."
        )
    return network


# ---------------------------------------------------------------------------
# Readers: each returns a "links" GeoDataFrame in EPSG:28992 with columns
# u, v (node keys or None), length_m, highway, maxspeed, oneway (int8), geometry (u -> v)
# ---------------------------------------------------------------------------
def _read_osmnx_graph(path: Path, fmt: str):
    import osmnx as ox

    try:
        if fmt == "graphml":
            graph = ox.load_graphml(path)
        else:
            graph = ox.graph_from_xml(path, bidirectional=False, simplify=False, retain_all=True)
            # simplify, but never merge ways of different road types or one-way status
            graph = ox.simplify_graph(graph, edge_attrs_differ=["highway", "oneway"])
    except Exception as exc:
        kind = "GraphML" if fmt == "graphml" else "OpenStreetMap-XML"
        raise InputError(
            f"{_LAYER} bestand '{path.name}' is geen leesbaar {kind}-bestand ({type(exc).__name__}:"
            f" {exc}). Controleer of het bestand volledig is, of exporteer het opnieuw."
        ) from exc
    if graph.number_of_edges() == 0:
        raise InputError(
            f"{_LAYER} bestand '{path.name}' bevat geen wegen. Kies een bestand met wegen."
        )
    return graph


def _links_from_graph(graph) -> gpd.GeoDataFrame:
    """Turn an osmnx MultiDiGraph into links, merging the two directions of a two-way road."""
    import osmnx as ox

    crs = graph.graph.get("crs")
    if crs is None:
        raise InputError(
            f"{_LAYER} de graaf heeft geen coördinatenstelsel (graph-attribuut 'crs'). Sla de graaf"
            " op met osmnx."
        )
    edges = ox.graph_to_gdfs(graph, nodes=False, edges=True, fill_edge_geometry=True).reset_index()
    return _links_from_edges(edges.to_crs(_RD), graph.number_of_nodes())


def _array(column, dtype) -> np.ndarray:
    """A column (pandas Series or numpy array) as a numpy array of ``dtype``."""
    if hasattr(column, "to_numpy"):
        return column.to_numpy(dtype=dtype)
    return np.asarray(column, dtype=dtype)


def _unique_inverse(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True)`` for int64 keys; by a table of the values when
    they are non-negative and not much larger than their number (node numbers), which takes no
    sort."""
    if keys.shape[0] and int(keys.min()) >= 0 and int(keys.max()) < 4 * keys.shape[0] + 1024:
        present = np.zeros(int(keys.max()) + 1, dtype=bool)
        present[keys] = True
        rank = np.cumsum(present) - 1
        return np.flatnonzero(present).astype(keys.dtype), rank[keys]
    unique, inverse = np.unique(keys, return_inverse=True)
    return unique, inverse.reshape(-1)


def _link_numbers(
    lo: np.ndarray, hi: np.ndarray, len_key: np.ndarray, forward: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Link number of each edge and the first edge of each link: the k-th edge from ``lo`` to
    ``hi`` with length ``len_key`` in one direction pairs with the k-th in the other direction
    (an edge without a length, NaN, is grouped as a value of its own and dropped later). As
    pandas' ``groupby(dropna=False)`` cumcount and ``ngroup(sort=False)``, with each key combined
    into one int64 and grouped by ``pandas.factorize`` (numbered in order of first appearance)."""
    n = lo.shape[0]
    len_code, uniques = pd.factorize(len_key, use_na_sentinel=False)
    k_len = max(len(uniques), 1)
    if n and int(lo.min()) >= 0 and int(hi.min()) >= 0:
        span = int(hi.max()) + 1
        if (int(lo.max()) + 1) * span * k_len * (n + 1) < 2**62:
            base = (lo.astype(np.int64) * span + hi) * k_len + len_code
            groups = pd.factorize(base * 2 + forward)[0]
            order = np.argsort(groups, kind="stable")
            ranked = groups[order]
            starts = np.r_[0, np.flatnonzero(ranked[1:] != ranked[:-1]) + 1]
            rank = np.empty(n, dtype=np.int64)
            rank[order] = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
            link_id = pd.factorize(base * (int(rank.max()) + 1) + rank)[0].astype(np.int64)
            first = np.empty(int(link_id.max()) + 1, dtype=np.int64)
            first[link_id[::-1]] = np.arange(n)[::-1]
            return link_id, first
    return _link_numbers_pandas(lo, hi, len_key, forward)


def _link_numbers_pandas(
    lo: np.ndarray, hi: np.ndarray, len_key: np.ndarray, forward: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_link_numbers` with pandas' groupby (node numbers too large to combine into one
    int64, or negative)."""
    n = lo.shape[0]
    frame = pd.DataFrame({"lo": lo, "hi": hi, "len_key": len_key, "forward": forward})
    frame["rank"] = frame.groupby(["lo", "hi", "len_key", "forward"], dropna=False).cumcount()
    frame["row"] = np.arange(n)
    link_id = (
        frame.groupby(["lo", "hi", "len_key", "rank"], sort=False, dropna=False).ngroup().to_numpy()
    )
    frame["link"] = link_id
    return link_id, frame.drop_duplicates("link").sort_values("link")["row"].to_numpy()


def _links_from_edges(
    edges: pd.DataFrame | dict[str, np.ndarray],
    n_nodes: int,
    geometry: Callable[[np.ndarray], np.ndarray] | None = None,
) -> gpd.GeoDataFrame:
    """Links from osmnx-style edges (u, v, length, highway, maxspeed, access, geometry u -> v in
    EPSG:28992, in the graph's edge order), merging the two directions of a two-way road.

    ``geometry``, when given, returns the geometries of the edges at the given rows (in
    EPSG:28992, u -> v) instead of a geometry column: only the links' own edges are then built.
    """
    u = _array(edges["u"], np.int64)
    v = _array(edges["v"], np.int64)
    if geometry is None:
        every = np.array(edges.geometry.to_numpy(), dtype=object)
        geometry = every.__getitem__
    if "length" in edges:
        length = _array(pd.to_numeric(edges["length"], errors="coerce"), float)
    else:
        every = geometry(np.arange(u.shape[0]))
        geometry = every.__getitem__
        length = shapely.length(every)
    # canonical orientation: from the smaller to the larger node id
    forward = u <= v
    lo, hi = np.where(forward, u, v), np.where(forward, v, u)
    link_id, first = _link_numbers(lo, hi, np.round(length, 2), forward)
    has_fwd = np.zeros(link_id.max() + 1, dtype=bool)
    has_bwd = np.zeros_like(has_fwd)
    self_loop = lo == hi
    has_fwd[link_id[forward]] = True
    has_bwd[link_id[~forward & ~self_loop]] = True
    geom = np.array(geometry(first), dtype=object)
    backward = np.flatnonzero(~forward[first])
    geom[backward] = shapely.reverse(geom[backward])  # only these: reversing costs per vertex
    oneway = np.where(has_fwd & has_bwd, 0, np.where(has_fwd, 1, -1)).astype(np.int8)
    highway = _array(edges["highway"], object) if "highway" in edges else None
    maxspeed = _array(edges["maxspeed"], object) if "maxspeed" in edges else None
    access = _array(edges["access"], object) if "access" in edges else None
    links = gpd.GeoDataFrame(
        {
            "u": lo[first],
            "v": hi[first],
            "length_m": length[first],
            "highway": None if highway is None else highway[first],
            "maxspeed": None if maxspeed is None else maxspeed[first],
            "oneway": oneway,
        },
        geometry=geom,
        crs=_RD,
    )
    if access is not None:
        closed = (
            pd.Series(access[first])
            .map(lambda a: str(a).strip().lower() in {"no", "private"})
            .to_numpy()
        )
        links = links[~closed]
    logger.info(
        "graaf met %s knopen en %s lijnen, samengevoegd tot %s wegvakken",
        nl_number(n_nodes),
        nl_number(u.shape[0]),
        nl_number(len(links)),
    )
    return links


_GRAPHML_NS = "{http://graphml.graphdrawing.org/xmlns}"


def _graphml_value(text: str | None) -> object:
    """An edge attribute as osmnx' load_graphml gives it: stringified lists evaluated."""
    import ast

    value = "" if text is None else text
    if (value.startswith("[") and value.endswith("]")) or (
        value.startswith("{") and value.endswith("}")
    ):
        try:
            return ast.literal_eval(value)
        except (SyntaxError, ValueError):
            return value
    return value


class _GraphmlCollector:
    """What the GraphML readers collect: keys, the graph's crs, nodes and edges (networkx rules)."""

    wanted = frozenset({"length", "highway", "maxspeed", "access", "geometry"})

    def __init__(self) -> None:
        self.keys: dict[str, tuple[str, str]] = {}
        self.crs: str | None = None
        self.node_ids: list[int] = []
        self.node_x: list[float] = []
        self.node_y: list[float] = []
        self.edge_index: dict[tuple[int, int, str], int] = {}
        self.e_u: list[int] = []
        self.e_v: list[int] = []
        self.e_data: list[dict[str, object]] = []

    def key(self, key_id: str, kind: str, name: str) -> None:
        self.keys[key_id] = (kind, name)

    def graph_data(self, key_id: str, text: str | None) -> None:
        if self.keys.get(key_id) == ("graph", "crs"):
            self.crs = text

    def node(self, node_id: str, data: list[tuple[str, str | None]]) -> None:
        attrs = {self.keys[k][1]: t for k, t in data if k in self.keys}
        self.node_ids.append(int(node_id))
        self.node_x.append(float(attrs.get("x") or "nan"))
        self.node_y.append(float(attrs.get("y") or "nan"))

    def edge(
        self, source: str, target: str, edge_id: str | None, data: list[tuple[str, str | None]]
    ) -> None:
        u, v = int(source), int(target)
        values = {}
        for k, text in data:
            name = self.keys.get(k, ("", ""))[1]
            if name in self.wanted:
                values[name] = _graphml_value(text)
        key = (u, v, edge_id or f"#{len(self.e_u)}")
        seen = self.edge_index.get(key)
        if seen is None:
            self.edge_index[key] = len(self.e_u)
            self.e_u.append(u)
            self.e_v.append(v)
            self.e_data.append(values)
        else:  # networkx: the same (u, v, key) again updates that edge
            self.e_data[seen].update(values)

    def columns(self) -> _GraphmlColumns:
        """What was collected, as columns."""
        n = len(self.e_u)
        values, present = {}, {}
        for name in self.wanted:
            rows = [i for i, d in enumerate(self.e_data) if name in d]
            values[name] = _object_column(
                n, np.asarray(rows, dtype=np.int64), [self.e_data[i][name] for i in rows]
            )
            present[name] = len(rows)
        return _GraphmlColumns(
            crs=self.crs,
            node_ids=np.asarray(self.node_ids, dtype=np.int64),
            node_x=np.asarray(self.node_x, dtype=float),
            node_y=np.asarray(self.node_y, dtype=float),
            u=np.asarray(self.e_u, dtype=np.int64),
            v=np.asarray(self.e_v, dtype=np.int64),
            values=values,
            present=present,
        )


def _read_graphml_iterparse(path: Path, out: _GraphmlCollector) -> None:
    """Any valid GraphML, with ElementTree's iterparse (dropping elements once read)."""
    import xml.etree.ElementTree as ET

    root = parent = None
    for event, elem in ET.iterparse(str(path), events=("start", "end")):
        if event == "start":
            if root is None:
                root = parent = elem
            elif parent is root and elem.tag.endswith("graph"):
                parent = elem  # nodes and edges are its children: drop them once read
            continue
        tag = elem.tag.replace(_GRAPHML_NS, "")
        if tag == "key":
            out.key(elem.get("id"), elem.get("for"), elem.get("attr.name"))
        elif tag in ("node", "edge"):
            data = [(d.get("key"), d.text) for d in elem]
            if tag == "node":
                out.node(elem.get("id"), data)
            else:
                out.edge(elem.get("source"), elem.get("target"), elem.get("id"), data)
            elem.clear()
            parent.clear()
        elif tag == "data" and parent is not root and out.crs is None:
            out.graph_data(elem.get("key"), elem.text)


_RE_ATTR = re.compile(r'([\w.:-]+)="([^"]*)"')
_RE_KEY = re.compile(r"<key\b([^>]*?)/?>")
_RE_ELEM = re.compile(r"<(node|edge)\b([^>]*?)(?:/>|>(.*?)</\1>)", re.S)
_RE_GRAPH = re.compile(rb"<graph[\s>]")
_RE_DATA = re.compile(r'<data key="([^"]*)"\s*(?:/>|>([^<]*)</data>)')


def _unescape(text: str | None) -> str | None:
    return html.unescape(text) if text and "&" in text else text


def _read_graphml_fast(path: Path, out: _GraphmlCollector, block: int = 1 << 24) -> bool:
    """The regular GraphML networkx/osmnx write, with regular expressions, block by block.

    Returns False (nothing usable collected) as soon as the file is not of
    that regular form: an element the expressions did not match, a CDATA
    section or a comment; the caller then parses with :func:`_read_graphml_iterparse`.
    """
    rest = ""
    with path.open("r", encoding="utf-8") as handle:
        while True:
            chunk = handle.read(block)
            text = rest + chunk
            if not chunk:
                cut = len(text)
            else:
                cut = max(text.rfind("</node>"), text.rfind("</edge>"), text.rfind("/>"))
                if cut < 0:
                    rest = text
                    continue
                cut = text.index(">", cut) + 1
            part, rest = text[:cut], text[cut:]
            if "<![CDATA[" in part or "<!--" in part:
                return False
            for match in _RE_KEY.finditer(part):
                attrs = dict(_RE_ATTR.findall(match.group(1)))
                out.key(attrs.get("id", ""), attrs.get("for", ""), attrs.get("attr.name", ""))
            n_nodes = n_edges = 0
            first, last = len(part), 0
            for match in _RE_ELEM.finditer(part):
                kind, attr_text, body = match.groups()
                first, last = min(first, match.start()), match.end()
                attrs = dict(_RE_ATTR.findall(attr_text))
                data = [(k, _unescape(t)) for k, t in _RE_DATA.findall(body)] if body else []
                if body and body.count("<") != len(data) + body.count("</data>"):
                    return False  # a data element the expression did not match, another tag
                if kind == "node":
                    out.node(_unescape(attrs["id"]), data)
                    n_nodes += 1
                else:
                    out.edge(
                        _unescape(attrs["source"]),
                        _unescape(attrs["target"]),
                        _unescape(attrs.get("id")),
                        data,
                    )
                    n_edges += 1
            # graph attributes: data outside nodes and edges (networkx writes them before the
            # nodes or after the edges)
            for outside in (part[:first], part[max(last, first) :]):
                for key_id, value in _RE_DATA.findall(outside):
                    out.graph_data(key_id, _unescape(value))
            if part.count("<node") != n_nodes or part.count("<edge") != n_edges:
                return False
            if not chunk:
                return True


# ---------------------------------------------------------------------------
# Vectorised GraphML reading (the regular form networkx writes)
# ---------------------------------------------------------------------------
@dataclass
class _GraphmlColumns:
    """A GraphML graph as columns: the graph's crs, the nodes, and per edge the source, the target
    and the wanted attributes (object arrays, NaN where an edge has no such attribute; stringified
    lists evaluated, as ``osmnx.load_graphml`` gives them), edges in file order."""

    crs: str | None
    node_ids: np.ndarray
    node_x: np.ndarray
    node_y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    values: dict[str, np.ndarray]
    present: dict[str, int]
    #: Geometries parsed while reading (the numpy reader): edge ``i`` has the line
    #: ``line_coords[line_offsets[j]:line_offsets[j + 1]]`` with ``j = line_of_edge[i]``, -1 where
    #: its geometry (if any) is in ``values["geometry"]``.
    line_of_edge: np.ndarray | None = None
    line_coords: np.ndarray | None = None
    line_offsets: np.ndarray | None = None


def _object_column(n: int, rows: np.ndarray, values: list | np.ndarray) -> np.ndarray:
    """An object array of ``n`` NaNs with ``values`` at ``rows`` (lists stay single elements;
    ``values`` may be an object array)."""
    out = np.full(n, np.nan, dtype=object)
    if len(values):
        if not isinstance(values, np.ndarray):
            values = np.array([*values, None], dtype=object)[:-1]
        out[rows] = values
    return out


def _texts(
    data: bytes,
    start: np.ndarray,
    stop: np.ndarray,
    kind: str = "plain",
    entities: bool | None = None,
) -> list:
    """The texts ``data[start:stop]``, entities resolved. ``kind``: ``"raw"`` leaves them bytes
    where the block holds no entity (WKT: decoded only when used); ``"few"`` decodes each distinct
    value once (road types). ``entities``: whether ``data`` holds a ``&`` (looked up when None)."""
    if isinstance(data, bytes):
        out = [data[a:b] for a, b in zip(start.tolist(), stop.tolist())]
    else:  # a bytearray: bytes objects all the same
        with memoryview(data) as view:
            out = [view[a:b].tobytes() for a, b in zip(start.tolist(), stop.tolist())]
    entities = b"&" in data if entities is None else entities
    if kind == "raw" and not entities:
        return out
    if kind == "few":
        decoded = {t: t.decode("utf-8") for t in set(out)}
        out = [decoded[t] for t in out]
    else:
        out = [t.decode("utf-8") for t in out]
    if entities:
        out = [html.unescape(t) if "&" in t else t for t in out]
    return out


#: Bytes a plain decimal number is written with.
_NUMBER_BYTES = np.zeros(256, dtype=bool)
_NUMBER_BYTES[np.frombuffer(b"0123456789.+-eE", dtype=np.uint8)] = True


def _few_texts(
    buf: np.ndarray, start: np.ndarray, stop: np.ndarray, entities: bool
) -> np.ndarray | None:
    """The texts ``buf[start:stop]`` (short values such as road types) as an object array of
    str, each distinct text decoded (and its entities resolved) once: texts are grouped by a hash
    of their bytes, and the grouping is checked byte for byte. None for texts longer than 32
    bytes (the caller slices them one by one)."""
    n = start.shape[0]
    length = stop - start
    if n == 0 or int(length.max()) > 32:
        return None if n else np.empty(0, dtype=object)
    width = max(8, -(-int(length.max()) // 8) * 8)
    rows = _windows(buf, width)[start]  # a copy: the bytes past each text are cleared
    rows[np.arange(width) >= length[:, None]] = 0
    words = rows.view("<u8")
    key = length.astype(np.uint64)
    for j in range(words.shape[1]):
        key = key * np.uint64(0x9E3779B97F4A7C15) ^ words[:, j]
    codes, uniques = pd.factorize(key)
    first = np.empty(uniques.shape[0], dtype=np.int64)
    first[codes[::-1]] = np.arange(n)[::-1]  # the first text of each group
    same = first[codes]
    if not (np.array_equal(rows, rows[same]) and np.array_equal(length, length[same])):
        return None  # two texts with one hash
    texts = [buf[start[i] : stop[i]].tobytes().decode("utf-8") for i in first.tolist()]
    if entities:
        texts = [html.unescape(t) if "&" in t else t for t in texts]
    return np.array([*texts, None], dtype=object)[:-1][codes]


def _spans(start: np.ndarray, length: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The positions ``start[i], ..., start[i] + length[i] - 1`` of every span one after the other
    (``offsets``: the running sum of ``length`` from 0; every length at least 1): a step of one,
    and at each span's first position the jump from the previous span's end."""
    total = int(offsets[-1])
    dtype = np.int32 if int(start.max()) + int(length.max()) < 2**31 else np.int64
    step = np.ones(total, dtype=dtype)
    step[0] = start[0]
    step[offsets[1:-1]] = start[1:] - (start[:-1] + length[:-1]) + 1
    return np.cumsum(step, out=step)


def _gather(
    buf: np.ndarray, start: np.ndarray, length: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """The bytes of the spans ``buf[start[i] : start[i] + length[i]]`` one after the other and their
    offsets (running sum of ``length`` from 0), as the buffers of an Arrow string array; None when
    they would not fit 32-bit offsets."""
    offsets = np.zeros(length.shape[0] + 1, dtype=np.int64)
    np.cumsum(length, out=offsets[1:])
    if int(offsets[-1]) >= 2**31:
        return None
    return buf[_spans(start, length, offsets)], offsets


def _parse_floats(buf: np.ndarray, start: np.ndarray, stop: np.ndarray) -> np.ndarray | None:
    """The numbers ``buf[start:stop]`` as ``float()`` reads them, parsed all at once (Arrow's
    correctly rounded parser); None when any text is empty or not a plain decimal number (the
    caller then parses the texts one by one)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    length = stop - start
    n = length.shape[0]
    if n == 0:
        return np.zeros(0)
    if int(length.min()) < 1:
        return None
    gathered = _gather(buf, start, length)
    if gathered is None:
        return None
    raw, offsets = gathered
    if not bool(_NUMBER_BYTES[raw].all()):
        return None
    text = pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(raw)]
    )
    try:
        return np.asarray(pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _parse_linestrings(
    buf: np.ndarray, start: np.ndarray, stop: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Coordinates and point counts of the texts ``buf[start:stop]`` when every one is a 2-D
    ``LINESTRING (x y, x y, ...)`` exactly as GEOS writes it (one space inside a point, comma and
    space between points, at least two points, plain decimal numbers), parsed all at once; None
    otherwise (the caller keeps the texts for GEOS or :func:`_linestrings_from_wkt`)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = start.shape[0]
    if n == 0:
        return np.zeros((0, 2)), np.zeros(0, dtype=np.int64)
    head = b"LINESTRING ("
    if int((stop - start).min()) < len(head) + 8:  # 'x y, x y)'
        return None
    if not bool(np.all(_matches(_windows(buf, len(head))[start], 0, head))):
        return None
    if not bool(np.all(buf[stop - 1] == 41)):  # ')'
        return None
    begin = start + len(head)
    length = stop - begin  # the numbers and separators, then ')'
    gathered = _gather(buf, begin, length)
    if gathered is None:
        return None
    raw, offsets = gathered
    total = int(offsets[-1])
    number = _NUMBER_BYTES[raw]
    if not bool(np.all(number | (raw == 32) | (raw == 44) | (raw == 41))):
        return None
    step = np.diff(number.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    t_start, t_stop = np.flatnonzero(step == 1), np.flatnonzero(step == -1)
    first = np.searchsorted(t_start, offsets)  # first token of each text (and the end)
    count = np.diff(first)
    if not (bool(np.all(count >= 4)) and bool(np.all(count % 2 == 0))):
        return None
    if not np.array_equal(t_start[first[:-1]], offsets[:-1]):
        return None  # each text starts with a number
    last = np.zeros(t_start.shape[0], dtype=bool)
    last[first[1:] - 1] = True
    is_x = (np.arange(t_start.shape[0]) - np.repeat(first[:-1], count)) % 2 == 0
    after = raw[t_stop]  # t_stop < total: every text ends with ')'
    gap = np.r_[t_start[1:], total] - t_stop  # from a token's end to the next token's start
    ok = np.where(
        is_x,
        (after == 32) & (gap == 1),  # 'x y'
        np.where(
            last,
            (after == 41) & (t_stop + 1 == np.repeat(offsets[1:], count)),  # 'y)' ends the text
            (after == 44) & (raw[np.minimum(t_stop + 1, total - 1)] == 32) & (gap == 2),  # ', '
        ),
    )
    if not bool(np.all(ok)):
        return None
    size = t_stop - t_start
    token_offsets = np.zeros(size.shape[0] + 1, dtype=np.int64)
    np.cumsum(size, out=token_offsets[1:])
    text = pa.Array.from_buffers(
        pa.string(),
        size.shape[0],
        [None, pa.py_buffer(token_offsets.astype(np.int32)), pa.py_buffer(raw[number])],
    )
    try:
        flat = np.asarray(pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return flat.reshape(-1, 2), count // 2


def _ragged_lines(coords: np.ndarray, offsets: np.ndarray, which: np.ndarray) -> np.ndarray:
    """LineStrings of the ragged lines ``which`` (``coords[offsets[j]:offsets[j + 1]]``)."""
    counts = offsets[which + 1] - offsets[which]
    rows = np.repeat(offsets[which] - np.cumsum(counts) + counts, counts) + np.arange(
        int(counts.sum())
    )
    return shapely.linestrings(coords[rows], indices=np.repeat(np.arange(which.shape[0]), counts))


def _floats(texts: list) -> np.ndarray:
    """Numbers from texts (str or bytes) as ``float()`` reads them; NaN for empty texts."""
    try:
        return np.array(texts, dtype=float)
    except ValueError:
        return np.array([float(t) if t.strip() else np.nan for t in texts], dtype=float)


def _lengths(texts: list) -> list:
    """Edge lengths: floats where every text is a plain number (``float()`` and
    ``pd.to_numeric`` read those alike), else the texts as strings (``pd.to_numeric(...,
    errors="coerce")`` decides later)."""
    try:
        return np.array(texts, dtype=float).tolist()
    except ValueError:
        return [t.decode("utf-8") if isinstance(t, bytes) else t for t in texts]


def _key_mask(key_no: np.ndarray, numbers: list[int]) -> np.ndarray:
    """Which key numbers are among ``numbers`` (a lookup table: faster than ``np.isin``)."""
    table = np.zeros(int(max([*numbers, int(key_no.max(initial=0))])) + 1, dtype=bool)
    table[numbers] = True
    return table[key_no]


def _graphml_keys(head: str) -> dict[str, tuple[str, str]]:
    keys = {}
    for match in _RE_KEY.finditer(head):
        attrs = dict(_RE_ATTR.findall(match.group(1)))
        keys[attrs.get("id", "")] = (attrs.get("for", ""), attrs.get("attr.name", ""))
    return keys


def _windows(buf: np.ndarray, width: int) -> np.ndarray:
    """A read-only view whose row ``i`` is ``buf[i:i + width]`` (gather rows at tag starts)."""
    return np.lib.stride_tricks.as_strided(
        buf, shape=(buf.shape[0] - width + 1, width), strides=(1, 1), writeable=False
    )


def _column(rows: np.ndarray, at: np.ndarray | int) -> np.ndarray:
    """Byte ``at`` (per row, or one column for all) of each row; 0 past the window."""
    if isinstance(at, int):
        return rows[:, at] if at < rows.shape[1] else np.zeros(rows.shape[0], dtype=np.uint8)
    inside = at < rows.shape[1]
    got = rows[np.arange(rows.shape[0]), np.minimum(at, rows.shape[1] - 1)]
    return np.where(inside, got, 0).astype(np.uint8)


def _word_is(rows: np.ndarray, at: int, text: bytes) -> np.ndarray:
    """Whether each row holds ``text`` (at most 8 bytes) at column ``at`` (a multiple of 8):
    one 64-bit comparison per row."""
    word = rows.view("<u8")[:, at // 8]
    mask = np.uint64((1 << (8 * len(text))) - 1)
    return (word & mask) == np.uint64(int.from_bytes(text, "little"))


def _matches(rows: np.ndarray, at: np.ndarray | int, text: bytes) -> np.ndarray:
    """Whether ``text`` stands at column ``at`` of each row."""
    ok = np.ones(rows.shape[0], dtype=bool)
    for k, byte in enumerate(text):
        ok &= _column(rows, at + k) == byte
    return ok


def _digits_at(rows: np.ndarray, at: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """The decimal digits from column ``at`` of each row: their value and their number (at most
    19 are looked at; more than 18 do not fit an int64 and are refused by the caller). A number
    with a leading zero (``05``: another text than ``5`` to networkx) counts as none."""
    n = rows.shape[0]
    value = np.zeros(n, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    going = np.ones(n, dtype=bool)
    for k in range(19):
        digit = _column(rows, at + k).astype(np.int64) - 48
        if k == 0:
            zero = digit == 0
        going &= (digit >= 0) & (digit <= 9)
        if not going.any():
            break
        value = np.where(going, value * 10 + digit, value)
        count += going
    count[zero & (count > 1)] = 0
    return value, count


def _tag_end(rows: np.ndarray, at: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """Whether each tag ends at column ``at`` (``>``, ``/>`` or `` />``) and whether it closes
    itself."""
    c0, c1, c2 = _column(rows, at), _column(rows, at + 1), _column(rows, at + 2)
    closing = ((c0 == 47) & (c1 == 62)) | ((c0 == 32) & (c1 == 47) & (c2 == 62))
    return (c0 == 62) | closing, closing


def _read_graphml_vectorised(path: Path, block: int = 1 << 22) -> _GraphmlColumns | None:
    """Read the regular GraphML networkx writes into columns, block by block, with numpy.

    Blocks of 4 MiB: the per-tag arrays of a block then stay in the processor's cache and in the
    allocator's reused memory (64 MiB blocks cost 1.5x the CPU time, a third of it in page faults).

    Tags are found by their ``<`` (no ``<`` can stand in XML text or attribute values), told
    apart by their next bytes and checked against the exact forms networkx writes (``<node
    id="n">``, ``<edge source="u" target="v" id="k">``, ``<data key="dn">``, their closing tags,
    self-closing variants); integers are read digit by digit and plain numbers all at once, only
    the texts the network needs become Python strings. Returns None as soon as the file is not of
    that regular form (comments, CDATA, processing instructions, single-quoted, spaced or reordered
    attributes, non-numeric node ids, key ids other than ``d<n>``, an element inside another, an
    edge repeated with the same id...); the caller then reads it with :func:`_read_graphml_fast`.
    """
    wanted = _GraphmlCollector.wanted
    keys: dict[str, tuple[str, str]] = {}
    crs = None
    node_ids, node_x, node_y, e_u, e_v, e_id = [], [], [], [], [], []
    e_vals: dict[str, tuple[list, list]] = {name: ([], []) for name in wanted}
    line_rows, line_coords, line_counts = [], [], []
    n_edges = 0
    keys_done = False
    scratch = np.empty(0, dtype=bool)
    pad = 128  # zero bytes after the data: the windows read past a tag near the end of a block
    # one buffer for every block (fresh memory is zeroed page by page by the kernel): the
    # element cut off at a block's end is moved to its front, the next block read behind it
    slack = 1 << 20  # room for the element carried over
    store = bytearray(block + pad + slack)
    held = 0
    with path.open("rb") as handle:
        while True:
            if len(store) < held + block + pad:
                grown = bytearray(held + block + pad + slack)
                grown[:held] = store[:held]
                store = grown
            with memoryview(store) as view:
                n_read = handle.readinto(view[held : held + block])
            size = held + n_read
            store[size : size + pad] = bytes(pad)
            if not n_read:
                cut = size
            else:
                # just before the last node or edge that starts in the block: elements do not
                # nest, so everything before it is complete
                cut = max(store.rfind(b"<node", 0, size), store.rfind(b"<edge", 0, size))
                if cut <= 0:
                    held = size
                    continue
            part, n = store, cut  # the block is part[:n]
            lo = 0
            if not keys_done:  # the keys come before the graph
                found = _RE_GRAPH.search(part, 0, n)
                if found is None:
                    return None
                keys.update(_graphml_keys(part[: found.start()].decode("utf-8")))
                keys_done = True
                if any(
                    not k.startswith("d") or not k[1:].isdigit() or k[1:] != str(int(k[1:]))
                    for k in keys
                ):
                    return None
                lo = part.index(b">", found.start(), n) + 1  # after <graph ...>
            # (a <key> after the graph's start is a tag of another kind: refused below)
            entities = part.find(b"&", 0, n) >= 0
            buf = np.frombuffer(part, dtype=np.uint8)
            if scratch.shape[0] < n - lo:
                scratch = np.empty(n - lo, dtype=bool)
            is_lt = scratch[: n - lo]
            np.equal(buf[lo:n], 60, out=is_lt)  # '<', into memory reused block after block
            lt = np.flatnonzero(is_lt)
            if lo:
                lt += lo
            m = lt.shape[0]
            first = buf[lt + 1]
            datas = np.flatnonzero(first == 100)  # <data
            nodes = np.flatnonzero(first == 110)  # <node
            edges = np.flatnonzero(first == 101)  # <edge
            closes = np.flatnonzero(first == 47)  # </...
            del first
            if datas.shape[0] + nodes.shape[0] + edges.shape[0] + closes.shape[0] != m:
                return None  # another tag (comment, CDATA, instruction, graph...)
            # closing tags by their third byte, each checked whole: '</data>', '</node>', '</edge>'
            second = buf[lt[closes] + 2]
            close_data = closes[second == 100]
            close_nodes = closes[second == 110]
            close_edges = closes[second == 101]
            close_graph = closes[second == 103]
            del second
            if (
                close_data.shape[0]
                + close_nodes.shape[0]
                + close_edges.shape[0]
                + close_graph.shape[0]
                != closes.shape[0]
            ):
                return None
            for tags, text in (
                (close_data, b"</data>"),
                (close_nodes, b"</node>"),
                (close_edges, b"</edge>"),
            ):
                if not bool(np.all(_word_is(_windows(buf, 8)[lt[tags]], 0, text))):
                    return None
            for t in lt[close_graph].tolist():
                if not (part.startswith(b"</graph>", t) or part.startswith(b"</graphml>", t)):
                    return None
            # data: '<data key="d', the key number, then '">' (a value up to '</data>') or '"/>' /
            # '" />'
            rows = _windows(buf, 24)[lt[datas]]
            if not bool(np.all(_word_is(rows, 0, b"<data ke") & _word_is(rows, 8, b'y="d'))):
                return None
            words = rows[:, 12:20]
            del rows
            key_no, digits = _digits_at(words, 0)
            ok, d_self = _tag_end(words, digits + 1)
            if not (
                bool(np.all(ok))
                and bool(np.all((digits >= 1) & (digits <= 4)))
                and bool(np.all(_column(words, digits) == 34))
            ):
                return None
            del words
            d_open = datas[~d_self]
            if close_data.shape[0] != d_open.shape[0] or not np.array_equal(close_data, d_open + 1):
                return None  # each value closed by the next tag
            v_stop = lt[np.minimum(datas + 1, m - 1)]
            v_start = np.where(d_self, v_stop, lt[datas] + 14 + digits)
            v_stop[d_self] = v_start[d_self]
            # nodes: <node id="n"> or <node id="n"/>
            rows = _windows(buf, 40)[lt[nodes]]
            ids, digits = _digits_at(rows, 10)
            ok, n_self = _tag_end(rows, 11 + digits)
            if not (
                bool(np.all(_matches(rows, 0, b'<node id="')))
                and bool(np.all((digits >= 1) & (digits <= 18)))
                and bool(np.all(_column(rows, 10 + digits) == 34))
                and bool(np.all(ok))
            ):
                return None
            # edges: <edge source="u" target="v"> with an optional id="k"
            rows = _windows(buf, 96)[lt[edges]]
            u, digits = _digits_at(rows, 14)
            at = 14 + digits
            v, v_digits = _digits_at(rows, at + 10)
            ok = (
                _matches(rows, 0, b'<edge source="')
                & (digits >= 1)
                & (digits <= 18)
                & _matches(rows, at, b'" target="')
                & (v_digits >= 1)
                & (v_digits <= 18)
                & (_column(rows, at + 10 + v_digits) == 34)
            )
            at = at + 11 + v_digits
            with_id = _matches(rows, at, b' id="')
            ident, i_digits = _digits_at(rows, at + 5)
            ok &= ~with_id | ((i_digits >= 1) & (i_digits <= 18))
            ident = np.where(with_id, ident, -1)
            at = np.where(with_id, at + 5 + i_digits, at - 1)
            ok &= ~with_id | (_column(rows, at) == 34)
            closed, e_self = _tag_end(rows, at + 1)
            if not bool(np.all(ok & closed)):
                return None
            del rows
            # nesting: an element's data between its opening and closing tag, nothing else in it
            code = np.zeros(m, dtype=np.int8)
            code[nodes[~n_self]] = 1
            code[edges[~e_self]] = 2
            code[close_nodes] = -1
            code[close_edges] = -2
            events = np.flatnonzero(code)
            seq = code[events]
            if seq.shape[0] % 2 or not (
                bool(np.all(seq[0::2] > 0)) and np.array_equal(seq[1::2], -seq[0::2])
            ):
                return None
            depth = np.cumsum(np.sign(code), dtype=np.int8)  # 1 inside an element, else 0
            del code
            if (
                np.any(depth[nodes[n_self]])
                or np.any(depth[edges[e_self]])
                or np.any(depth[close_graph])
            ):
                return None
            inside = depth[datas] == 1
            del depth
            opens, kinds = events[0::2], seq[0::2]
            rank = np.where(
                kinds == 1, np.searchsorted(nodes, opens), np.searchsorted(edges, opens)
            )
            # the element a data tag is in: the last one opened before it (-1: none, the
            # sentinel 0 after the last)
            owner = np.searchsorted(opens, datas, side="right") - 1
            owner[~inside] = -1
            owner_kind = np.r_[kinds, np.int8(0)][owner]
            owner_rank = np.r_[rank, 0][owner]
            # graph data (the crs): few, read one by one
            for i in np.flatnonzero(~inside).tolist():
                if keys.get(f"d{int(key_no[i])}") == ("graph", "crs"):
                    crs = _texts(part, v_start[i : i + 1], v_stop[i : i + 1], "plain", entities)[0]
            # nodes
            if nodes.shape[0]:
                xs = np.full(nodes.shape[0], np.nan)
                ys = np.full(nodes.shape[0], np.nan)
                for name, target in (("x", xs), ("y", ys)):
                    numbers = [int(k[1:]) for k, (_, nm) in keys.items() if nm == name]
                    sel = np.flatnonzero((owner_kind == 1) & _key_mask(key_no, numbers))
                    got = _parse_floats(buf, v_start[sel], v_stop[sel])
                    if got is None:
                        got = _floats(_texts(part, v_start[sel], v_stop[sel], "raw", entities))
                    target[owner_rank[sel]] = got
                node_ids.append(ids)
                node_x.append(xs)
                node_y.append(ys)
            # edges
            if edges.shape[0]:
                for name in wanted:
                    numbers = [int(k[1:]) for k, (_, nm) in keys.items() if nm == name]
                    sel = np.flatnonzero((owner_kind == 2) & _key_mask(key_no, numbers))
                    rows_, vals = e_vals[name]
                    rows_.append(n_edges + owner_rank[sel])
                    got = None
                    if name == "length":  # numbers, as pd.to_numeric reads the texts
                        got = _parse_floats(buf, v_start[sel], v_stop[sel])
                    if got is not None:
                        vals.append(got.astype(object))
                        continue
                    if name == "geometry":  # in pieces: the byte gathers stay small
                        cuts = [sel[i : i + 65_536] for i in range(0, sel.shape[0], 65_536)]
                        pieces = [_parse_linestrings(buf, v_start[c], v_stop[c]) for c in cuts]
                        if all(p is not None for p in pieces):
                            line_rows.append(rows_[-1])
                            line_coords.extend(p[0] for p in pieces)
                            line_counts.extend(p[1] for p in pieces)
                            vals.append(np.full(sel.shape[0], np.nan, dtype=object))
                            continue
                    kind = {"geometry": "raw", "length": "raw"}.get(name, "few")
                    text = None
                    if kind == "few":
                        text = _few_texts(buf, v_start[sel], v_stop[sel], entities)
                    if text is None:
                        text = _texts(part, v_start[sel], v_stop[sel], kind, entities)
                    if name == "length":
                        text = _lengths(text)
                    lead = buf[v_start[sel]]
                    for i in np.flatnonzero((lead == 91) | (lead == 123)).tolist():
                        value = text[i]  # '[' or '{': a stringified list
                        value = value.decode("utf-8") if isinstance(value, bytes) else value
                        text[i] = _graphml_value(value)
                    vals.append(text)
                e_u.append(u)
                e_v.append(v)
                e_id.append(np.where(ident >= 0, ident, -1 - n_edges - np.arange(edges.shape[0])))
                n_edges += edges.shape[0]
            del buf, part
            held = size - cut
            store[:held] = store[cut:size]  # the element cut off, to the front
            if not n_read:
                break
    u = np.concatenate(e_u) if e_u else np.zeros(0, dtype=np.int64)
    v = np.concatenate(e_v) if e_v else np.zeros(0, dtype=np.int64)
    ident = np.concatenate(e_id) if e_id else np.zeros(0, dtype=np.int64)
    if u.shape[0] and pd.DataFrame({"u": u, "v": v, "i": ident}).duplicated().any():
        return None  # networkx updates a repeated edge: the regular-expression reader does that
    values, present = {}, {}
    for name, (rows, chunks) in e_vals.items():
        rows = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        if bool(np.any(rows[1:] <= rows[:-1])):
            return None  # an attribute twice on one edge (rows are in file order)
        vals = [
            c if isinstance(c, np.ndarray) else np.array([*c, None], dtype=object)[:-1]
            for c in chunks
        ]
        vals = np.concatenate(vals) if vals else np.zeros(0, dtype=object)
        values[name] = _object_column(u.shape[0], rows, vals)
        present[name] = int(vals.shape[0])
    line_of_edge = np.full(u.shape[0], -1, dtype=np.int64)
    counts = np.concatenate(line_counts) if line_counts else np.zeros(0, dtype=np.int64)
    if line_rows:
        line_of_edge[np.concatenate(line_rows)] = np.arange(counts.shape[0])
    return _GraphmlColumns(
        crs=crs,
        node_ids=np.concatenate(node_ids) if node_ids else np.zeros(0, dtype=np.int64),
        node_x=np.concatenate(node_x) if node_x else np.zeros(0),
        node_y=np.concatenate(node_y) if node_y else np.zeros(0),
        u=u,
        v=v,
        values=values,
        present=present,
        line_of_edge=line_of_edge,
        line_coords=np.concatenate(line_coords) if line_coords else np.zeros((0, 2)),
        line_offsets=np.r_[0, np.cumsum(counts)].astype(np.int64),
    )


def _links_from_graphml(path: Path) -> gpd.GeoDataFrame:
    """Links of an osmnx GraphML file, read as a stream without building a networkx graph.

    ``osmnx.load_graphml`` holds the whole file as a networkx MultiDiGraph of
    Python dicts: ~3 GB for a 150,000-node province, more than the 2 GB a
    run may use. This reader keeps only the attributes the network needs, in
    arrays and lists, and gives the same links as ``load_graphml`` followed by
    ``graph_to_gdfs``: edges in networkx' order (by source node in file
    order, then by target in the order its first edge appears, then by key),
    a repeated (source, target, id) updating the earlier edge as networkx
    does, stringified lists evaluated, missing geometry the straight line
    between the nodes, the graph's ``crs`` transformed to EPSG:28992. The
    regular form networkx writes is read with regular expressions (several
    times faster than an XML parser); anything else with ElementTree.
    """
    import xml.etree.ElementTree as ET

    try:
        graph = _read_graphml_vectorised(path)
        if graph is None:
            out = _GraphmlCollector()
            if not _read_graphml_fast(path, out):
                out = _GraphmlCollector()
                _read_graphml_iterparse(path, out)
            graph = out.columns()
            del out
    except (ET.ParseError, ValueError, KeyError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{_LAYER} bestand '{path.name}' is geen leesbaar GraphML-bestand"
            f" ({type(exc).__name__}: {exc}). Controleer of het bestand volledig is, of"
            " exporteer het opnieuw."
        ) from exc
    if graph.u.shape[0] == 0:
        raise InputError(
            f"{_LAYER} bestand '{path.name}' bevat geen wegen. Kies een bestand met wegen."
        )
    crs = graph.crs
    if crs is None:
        raise InputError(
            f"{_LAYER} de graaf heeft geen coördinatenstelsel (graph-attribuut 'crs'). Sla de graaf"
            " op met osmnx."
        )
    ids = graph.node_ids
    position = pd.Series(np.arange(len(ids)), index=ids)
    xs, ys = graph.node_x, graph.node_y
    u, v = graph.u, graph.v
    # networkx' edge order: source node in node order, then target in order of its first edge
    file_order = np.arange(len(u))
    if (
        len(u)
        and min(int(u.min()), int(v.min())) >= 0
        and (int(u.max()) + 1) * (int(v.max()) + 1) < 2**63
    ):  # each (u, v) pair one int64: the first edge of a pair by a hash table
        codes, _ = pd.factorize(u * (int(v.max()) + 1) + v)
        first = np.empty(int(codes.max()) + 1, dtype=np.int64)
        first[codes[::-1]] = file_order[::-1]
        pair_first = first[codes]
    else:
        pair_first = (
            pd.DataFrame({"u": u, "v": v, "i": file_order})
            .groupby(["u", "v"])["i"]
            .transform("min")
        ).to_numpy()
    order = np.lexsort((file_order, pair_first, position.reindex(u).to_numpy()))
    u, v = u[order], v[order]
    wkt = graph.values["geometry"][order]
    line_of = (
        np.full(len(u), -1, dtype=np.int64)
        if graph.line_of_edge is None
        else graph.line_of_edge[order]
    )
    line_coords, line_offsets = graph.line_coords, graph.line_offsets

    def geometry(rows: np.ndarray) -> np.ndarray:
        """The geometry of edges ``rows`` (u -> v) in EPSG:28992; the straight line between the
        nodes where the edge has none."""
        text = wkt[rows]
        lined = line_of[rows]
        parsed = lined >= 0  # read as coordinates already
        has = parsed.copy()
        others = np.flatnonzero(~parsed)
        has[others] = [isinstance(w, (str, bytes)) for w in text[others]]
        geom = np.empty(rows.shape[0], dtype=object)
        if parsed.any():
            geom[parsed] = _ragged_lines(line_coords, line_offsets, lined[parsed])
        if (has & ~parsed).any():
            geom[has & ~parsed] = _linestrings_from_wkt(text[has & ~parsed])
        if (~has).any():
            pu = position.reindex(u[rows[~has]]).to_numpy()
            pv = position.reindex(v[rows[~has]]).to_numpy()
            geom[~has] = shapely.linestrings(
                np.stack([np.c_[xs[pu], ys[pu]], np.c_[xs[pv], ys[pv]]], axis=1)
            )
        return np.asarray(gpd.GeoSeries(geom, crs=crs).to_crs(_RD).values, dtype=object)

    frame = {"u": u, "v": v}
    for name in ("length", "highway", "maxspeed", "access"):
        if graph.present[name]:  # some edge has it
            frame[name] = graph.values[name][order]
    del graph
    return _links_from_edges(frame, len(ids), geometry=geometry)


def _linestrings_from_wkt(wkt: np.ndarray) -> np.ndarray:
    """LineStrings from WKT (str or UTF-8 bytes); plain 2-D ``LINESTRING (x y, ...)`` texts are
    parsed as numbers all at once (correctly rounded, as GEOS parses them), anything else by
    GEOS."""
    texts = [w if isinstance(w, bytes) else w.encode("utf-8") for w in wkt.tolist()]
    n = len(texts)
    joined = b"\0".join(texts)
    head = b"LINESTRING ("
    plain = (
        joined.startswith(head)
        and joined.endswith(b")")
        and joined.count(head) == n
        and joined.count(b"(") == n
        and joined.count(b")") == n
        and joined.count(b")\0" + head) == n - 1
    )
    if plain:
        body = joined.replace(head, b"").replace(b")", b"")
        plain = not body.translate(None, b"0123456789.-+eE ,\0")  # numbers only
    if plain:
        bytes_ = np.frombuffer(body, dtype=np.uint8)
        ends = np.r_[np.flatnonzero(bytes_ == 0), bytes_.shape[0]]
        commas = np.r_[0, np.cumsum(bytes_ == 44)][ends]
        counts = np.diff(np.r_[0, commas]) + 1
        try:
            flat = np.array(body.replace(b",", b" ").replace(b"\0", b" ").split(), dtype=float)
        except ValueError:
            flat = None
        if flat is not None and flat.shape[0] == 2 * int(counts.sum()) and counts.min() >= 2:
            indices = np.repeat(np.arange(n), counts)
            return shapely.linestrings(flat.reshape(-1, 2), indices=indices)
    return shapely.from_wkt(np.array([t.decode("utf-8") for t in texts], dtype=object))


def _links_from_pbf(path: Path) -> gpd.GeoDataFrame:
    try:
        import pyrosm
    except ImportError as exc:  # pragma: no cover - pyrosm is a pinned dependency
        raise InputError(
            f"{_LAYER} bestand '{path.name}' is OSM PBF; daarvoor is het pakket pyrosm nodig "
            "(pip install pyrosm==0.25.0), of zet het bestand om naar .osm (osmium cat)."
        ) from exc
    try:
        osm = pyrosm.OSM(str(path))
        edges = osm.get_network(network_type="all")
    except Exception as exc:
        raise InputError(
            f"{_LAYER} bestand '{path.name}' is geen leesbaar OSM PBF-bestand"
            f" ({type(exc).__name__}: {exc}). Download het uittreksel opnieuw (bijvoorbeeld van"
            " download.geofabrik.de)."
        ) from exc
    if edges is None or len(edges) == 0:
        raise InputError(
            f"{_LAYER} bestand '{path.name}' bevat geen wegen (OSM 'highway'). Kies een ander"
            " uittreksel."
        )
    edges = edges[edges.geometry.notna()].explode(index_parts=False)
    edges = edges[shapely.get_type_id(edges.geometry.values) == 1]
    edges = edges.set_crs("EPSG:4326", allow_override=True) if edges.crs is None else edges
    edges = edges.to_crs(_RD)
    oneway, _ = parse_oneway(
        edges["oneway"].to_numpy(dtype=object) if "oneway" in edges else np.full(len(edges), None)
    )
    if "junction" in edges:
        roundabout = (
            edges["junction"].astype(str).str.lower().isin(["roundabout", "circular"]).to_numpy()
        )
        oneway = np.where(roundabout & (oneway == 0), 1, oneway).astype(np.int8)
    links = gpd.GeoDataFrame(
        {
            "u": None,
            "v": None,
            "length_m": shapely.length(edges.geometry.values),
            "highway": edges["highway"].to_numpy(dtype=object) if "highway" in edges else None,
            "maxspeed": edges["maxspeed"].to_numpy(dtype=object) if "maxspeed" in edges else None,
            "oneway": oneway,
        },
        geometry=edges.geometry.values,
        crs=_RD,
    )
    if "access" in edges:
        closed = edges["access"].astype(str).str.lower().isin(["no", "private"]).to_numpy()
        links = links[~closed]
    logger.info("PBF %s bevat %s wegsegmenten", path.name, nl_number(len(links)))
    return links


def _links_from_layer(spec: LayerSpec, path: Path) -> gpd.GeoDataFrame:
    try:
        frame = gpd.read_file(path, layer=spec.layer) if spec.layer else gpd.read_file(path)
    except Exception as exc:
        raise InputError(
            f"{_LAYER} bestand '{path.name}' kan niet gelezen worden ({type(exc).__name__}: {exc})."
            " Controleer het bestand en 'laag' in de configuratie."
        ) from exc
    if len(frame) == 0:
        raise InputError(
            f"{_LAYER} bestand '{path.name}' bevat geen wegen. Kies een laag met wegen (lijnen)."
        )
    problems = []
    fields = {}
    for key in ("snelheid_veld", "eenrichting_veld", "wegtype_veld"):
        name = spec.get(key)
        if name is None:
            continue
        if name not in frame.columns:
            columns = [c for c in frame.columns if c != frame.geometry.name]
            problems.append(
                f"{_LAYER} {key} '{name}' bestaat niet in"
                f" '{path.name}'.{did_you_mean(str(name), columns)} Beschikbare velden:"
                f" {', '.join(columns[:20])}."
            )
        fields[key] = name
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    types = set(frame.geom_type.unique())
    if not types <= {"LineString", "MultiLineString"}:
        problems.append(
            f"{_LAYER} '{path.name}' bevat"
            f" {', '.join(sorted(types - {'LineString', 'MultiLineString'}))}-geometrie; een"
            " wegennet moet uit lijnen (LineString) bestaan. Kies de lijnenlaag met wegvakken."
        )
    if frame.crs is None and spec.crs is None:
        problems.append(
            f"{_LAYER} '{path.name}' heeft geen coördinatenstelsel. Geef het op met crs ="
            ' "EPSG:28992" (of het juiste stelsel) in de configuratie.'
        )
    if problems:
        raise InputError(problems)
    if frame.crs is None:
        frame = frame.set_crs(spec.crs)
    frame = frame.to_crs(_RD).explode(index_parts=False)
    geom = shapely.force_2d(frame.geometry.values)
    n = len(frame)
    oneway = np.zeros(n, dtype=np.int8)
    if "eenrichting_veld" in fields:
        oneway, unknown = parse_oneway(frame[fields["eenrichting_veld"]].to_numpy(dtype=object))
        if unknown:
            logger.warning(
                "onbekende eenrichtingswaarden %s in %s behandeld als tweerichtingsverkeer",
                unknown[:10],
                fields["eenrichting_veld"],
            )
    speed = (
        frame[fields["snelheid_veld"]].to_numpy(dtype=object) if "snelheid_veld" in fields else None
    )
    highway = (
        frame[fields["wegtype_veld"]].to_numpy(dtype=object) if "wegtype_veld" in fields else None
    )
    logger.info("lijnenlaag %s bevat %s lijnen", path.name, nl_number(n))
    return gpd.GeoDataFrame(
        {
            "u": None,
            "v": None,
            "length_m": shapely.length(geom),
            "highway": highway,
            "maxspeed": speed,
            "oneway": oneway,
        },
        geometry=geom,
        crs=_RD,
    )


def _network_from_links(
    links: gpd.GeoDataFrame, *, mode: str, speeds: TravelSpeeds, source: str
) -> RoadNetwork:
    """Number the nodes (by id, or by end-point coordinates to 1 cm) and build the network."""
    geom = links.geometry.to_numpy()
    if geom.shape[0] and bool(np.all(shapely.get_type_id(geom) == 1)):  # LineStrings: ends
        coords = shapely.get_coordinates(geom)
        stop = np.cumsum(shapely.get_num_coordinates(geom))
        start, end = coords[np.r_[0, stop[:-1]]], coords[stop - 1]
    else:
        start = shapely.get_coordinates(shapely.get_point(geom, 0))
        end = shapely.get_coordinates(shapely.get_point(geom, -1))
    n = len(links)
    if links["u"].notna().all() and links["v"].notna().all():
        keys = np.concatenate(
            [links["u"].to_numpy(dtype=np.int64), links["v"].to_numpy(dtype=np.int64)]
        )
        node_key, inverse = _unique_inverse(keys)
        node_id = node_key
    else:
        grid = np.round(np.concatenate([start, end]) / _NODE_TOLERANCE_M).astype(np.int64)
        _, inverse = np.unique(grid, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        node_id = None
    n_nodes = int(inverse.max()) + 1
    xy = np.concatenate([start, end])
    node_x = np.zeros(n_nodes)
    node_y = np.zeros(n_nodes)
    node_x[inverse] = xy[:, 0]
    node_y[inverse] = xy[:, 1]
    highway = (
        normalise_highway(links["highway"].to_numpy(dtype=object))
        if links["highway"].notna().any()
        else None
    )
    car_kmh = None
    if mode == "auto":
        hw = highway if highway is not None else np.full(n, None, dtype=object)
        maxspeed = (
            links["maxspeed"].to_numpy(dtype=object) if links["maxspeed"].notna().any() else None
        )
        car_kmh = impute_car_speeds_kmh(hw, maxspeed, car_kmh_by_type=speeds.car_kmh_by_type)
    return build_network(
        mode=mode,
        node_x=node_x,
        node_y=node_y,
        node_id=node_id,
        link_u=inverse[:n],
        link_v=inverse[n:],
        link_length_m=links["length_m"].to_numpy(dtype=float),
        link_geometry=geom,
        link_highway=highway,
        link_oneway=links["oneway"].to_numpy(dtype=np.int8),
        link_car_kmh=car_kmh,
        speeds=speeds,
        source=source,
    )
