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
import hashlib
import html
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
from locatietoets.layers.io.spec import LayerSpec

__all__ = [
    "load_network",
    "load_configured_network",
    "DEFAULT_CACHE_DIR",
    "CACHE_VERSION",
    "network_cache_path",
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


def network_cache_path(
    spec: LayerSpec, *, mode: str, speeds: TravelSpeeds, cache_dir: Path
) -> Path:
    """Return the cache file for ``spec`` (depends on file content, mode, speeds and field
    options)."""
    parts = [
        CACHE_VERSION,
        _sha256(Path(spec.path)),
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

    from locatietoets.layers.io.read import LayerReport, file_sha256

    speeds = TravelSpeeds(
        bike_kmh=float(ruleset.value("snelheid_fiets_kmh")),
        walk_kmh=float(ruleset.value("snelheid_lopen_kmh")),
    )
    network = load_network(spec, speeds=speeds, cache_dir=cache_dir, progress=progress)
    report = LayerReport(
        name="wegennet",
        path=str(spec.path),
        layer=spec.layer,
        sha256=file_sha256(spec.path) if spec.path.is_file() else _sha256(spec.path),
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
    cache_file = network_cache_path(spec, mode=mode, speeds=speeds, cache_dir=cache_dir)
    if cache_file.is_file():
        start = time.perf_counter()
        try:
            with np.load(cache_file, allow_pickle=False) as data:
                network = RoadNetwork.from_arrays(data)
        except Exception as exc:  # a damaged cache file is rebuilt, not fatal
            logger.warning("cache %s onleesbaar (%s); wordt opnieuw opgebouwd", cache_file, exc)
        else:
            logger.info(
                "wegennet uit de cache %s geladen in %.2f s: %d knopen, %d wegvakken",
                cache_file.name,
                time.perf_counter() - start,
                network.n_nodes,
                network.n_links,
            )
            report(1.0, network.summary())
            return network

    report(0.1, f"wegennet inlezen ({path.name})")
    start = time.perf_counter()
    network = _build(spec, path, fmt, mode=mode, speeds=speeds)
    logger.info("wegennet opgebouwd uit %s in %.2f s", path.name, time.perf_counter() - start)
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


def _links_from_edges(edges: gpd.GeoDataFrame, n_nodes: int) -> gpd.GeoDataFrame:
    """Links from osmnx-style edges (u, v, length, highway, maxspeed, access, geometry u -> v in
    EPSG:28992, in the graph's edge order), merging the two directions of a two-way road."""
    u = edges["u"].to_numpy(dtype=np.int64)
    v = edges["v"].to_numpy(dtype=np.int64)
    length = (
        pd.to_numeric(edges["length"], errors="coerce").to_numpy(dtype=float)
        if "length" in edges
        else shapely.length(edges.geometry.values)
    )
    geom = edges.geometry.to_numpy()
    # canonical orientation: from the smaller to the larger node id
    forward = u <= v
    lo, hi = np.where(forward, u, v), np.where(forward, v, u)
    geom = np.array(geom, dtype=object)
    backward = np.flatnonzero(~forward)
    geom[backward] = shapely.reverse(geom[backward])  # only these: reversing costs per vertex
    frame = pd.DataFrame({"lo": lo, "hi": hi, "len_key": np.round(length, 2), "forward": forward})
    frame["rank"] = frame.groupby(["lo", "hi", "len_key", "forward"]).cumcount()
    frame["row"] = np.arange(len(frame))
    link_id = frame.groupby(["lo", "hi", "len_key", "rank"], sort=False).ngroup().to_numpy()
    frame["link"] = link_id
    has_fwd = np.zeros(link_id.max() + 1, dtype=bool)
    has_bwd = np.zeros_like(has_fwd)
    self_loop = lo == hi
    has_fwd[link_id[forward]] = True
    has_bwd[link_id[~forward & ~self_loop]] = True
    first = frame.drop_duplicates("link").sort_values("link")["row"].to_numpy()
    oneway = np.where(has_fwd & has_bwd, 0, np.where(has_fwd, 1, -1)).astype(np.int8)
    highway = edges["highway"].to_numpy(dtype=object) if "highway" in edges else None
    maxspeed = edges["maxspeed"].to_numpy(dtype=object) if "maxspeed" in edges else None
    access = edges["access"].to_numpy(dtype=object) if "access" in edges else None
    links = gpd.GeoDataFrame(
        {
            "u": lo[first],
            "v": hi[first],
            "length_m": length[first],
            "highway": None if highway is None else highway[first],
            "maxspeed": None if maxspeed is None else maxspeed[first],
            "oneway": oneway,
        },
        geometry=geom[first],
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
        "graaf met %d knopen en %d lijnen, samengevoegd tot %d wegvakken",
        n_nodes,
        len(edges),
        len(links),
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
            for outside in (part[:first], part[max(last, first):]):
                for key_id, value in _RE_DATA.findall(outside):
                    out.graph_data(key_id, _unescape(value))
            if part.count("<node") != n_nodes or part.count("<edge") != n_edges:
                return False
            if not chunk:
                return True


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
        out = _GraphmlCollector()
        if not _read_graphml_fast(path, out):
            out = _GraphmlCollector()
            _read_graphml_iterparse(path, out)
    except (ET.ParseError, ValueError, KeyError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{_LAYER} bestand '{path.name}' is geen leesbaar GraphML-bestand"
            f" ({type(exc).__name__}: {exc}). Controleer of het bestand volledig is, of"
            " exporteer het opnieuw."
        ) from exc
    crs, node_ids, node_x, node_y = out.crs, out.node_ids, out.node_x, out.node_y
    e_u, e_v, e_data = out.e_u, out.e_v, out.e_data
    del out
    if not e_u:
        raise InputError(
            f"{_LAYER} bestand '{path.name}' bevat geen wegen. Kies een bestand met wegen."
        )
    if crs is None:
        raise InputError(
            f"{_LAYER} de graaf heeft geen coördinatenstelsel (graph-attribuut 'crs'). Sla de graaf"
            " op met osmnx."
        )
    ids = np.asarray(node_ids, dtype=np.int64)
    position = pd.Series(np.arange(len(ids)), index=ids)
    xs, ys = np.asarray(node_x), np.asarray(node_y)
    u = np.asarray(e_u, dtype=np.int64)
    v = np.asarray(e_v, dtype=np.int64)
    # networkx' edge order: source node in node order, then target in order of its first edge
    file_order = np.arange(len(u))
    pair_first = (
        pd.DataFrame({"u": u, "v": v, "i": file_order}).groupby(["u", "v"])["i"].transform("min")
    ).to_numpy()
    order = np.lexsort((file_order, pair_first, position.reindex(u).to_numpy()))
    u, v = u[order], v[order]
    data = [e_data[i] for i in order]
    del e_data

    def column(name: str) -> np.ndarray:
        return np.array([d.get(name, np.nan) for d in data] + [None], dtype=object)[:-1]

    wkt = column("geometry")
    has = np.array([isinstance(w, str) for w in wkt])
    geom = np.empty(len(u), dtype=object)
    geom[has] = shapely.from_wkt(wkt[has].astype(str))
    pu, pv = position.reindex(u[~has]).to_numpy(), position.reindex(v[~has]).to_numpy()
    geom[~has] = shapely.linestrings(
        np.stack([np.c_[xs[pu], ys[pu]], np.c_[xs[pv], ys[pv]]], axis=1)
    )
    frame = {"u": u, "v": v}
    for name in ("length", "highway", "maxspeed", "access"):
        values = column(name)
        if any(not (isinstance(x, float) and np.isnan(x)) for x in values):
            frame[name] = values
    edges = gpd.GeoDataFrame(frame, geometry=geom, crs=crs).to_crs(_RD)
    return _links_from_edges(edges, len(ids))


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
    logger.info("PBF %s bevat %d wegsegmenten", path.name, len(links))
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
    logger.info("lijnenlaag %s bevat %d lijnen", path.name, n)
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
    start = shapely.get_coordinates(shapely.get_point(geom, 0))
    end = shapely.get_coordinates(shapely.get_point(geom, -1))
    n = len(links)
    if links["u"].notna().all() and links["v"].notna().all():
        keys = np.concatenate(
            [links["u"].to_numpy(dtype=np.int64), links["v"].to_numpy(dtype=np.int64)]
        )
        node_key, inverse = np.unique(keys, return_inverse=True)
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
