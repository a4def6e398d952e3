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


def _links_from_edges(
    edges: pd.DataFrame,
    n_nodes: int,
    geometry: Callable[[np.ndarray], np.ndarray] | None = None,
) -> gpd.GeoDataFrame:
    """Links from osmnx-style edges (u, v, length, highway, maxspeed, access, geometry u -> v in
    EPSG:28992, in the graph's edge order), merging the two directions of a two-way road.

    ``geometry``, when given, returns the geometries of the edges at the given rows (in
    EPSG:28992, u -> v) instead of a geometry column: only the links' own edges are then built.
    """
    u = edges["u"].to_numpy(dtype=np.int64)
    v = edges["v"].to_numpy(dtype=np.int64)
    if geometry is None:
        every = np.array(edges.geometry.to_numpy(), dtype=object)
        geometry = every.__getitem__
    if "length" in edges:
        length = pd.to_numeric(edges["length"], errors="coerce").to_numpy(dtype=float)
    else:
        every = geometry(np.arange(u.shape[0]))
        geometry = every.__getitem__
        length = shapely.length(every)
    # canonical orientation: from the smaller to the larger node id
    forward = u <= v
    lo, hi = np.where(forward, u, v), np.where(forward, v, u)
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
    geom = np.array(geometry(first), dtype=object)
    backward = np.flatnonzero(~forward[first])
    geom[backward] = shapely.reverse(geom[backward])  # only these: reversing costs per vertex
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
        nl_number(len(edges)),
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


def _object_column(n: int, rows: np.ndarray, values: list) -> np.ndarray:
    """An object array of ``n`` NaNs with ``values`` at ``rows`` (lists stay single elements)."""
    out = np.full(n, np.nan, dtype=object)
    if len(values):
        out[rows] = np.array([*values, None], dtype=object)[:-1]
    return out


class _Tags:
    """The tags of one block of XML bytes, found with numpy (no per-element Python)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        n = len(data)
        self.buf = np.frombuffer(data + b"\0" * 64, dtype=np.uint8)
        body = self.buf[:n]
        self.lt = np.flatnonzero(body == 60)  # '<'
        gt = np.flatnonzero(body == 62)  # '>'
        self.quotes = np.flatnonzero(body == 34)  # '"'
        if (
            gt.shape[0] == self.lt.shape[0]
            and bool(np.all(gt > self.lt))
            and bool(np.all(gt[:-1] < self.lt[1:]))
        ):
            at = np.arange(gt.shape[0])  # no '>' in text: the i-th '>' closes the i-th tag
        else:
            at = np.searchsorted(gt, self.lt)
        self.ok = bool(at.shape[0] == 0 or at[-1] < gt.shape[0])
        if self.ok:
            self.end = gt[at]  # the '>' closing each tag
            # a comment, CDATA section or declaration: not the regular form
            self.ok = not bool(np.any(self.buf[self.lt + 1] == 33))

    def named(self, name: bytes) -> np.ndarray:
        """Tag indices (into ``lt``) of tags named ``name`` (e.g. ``b"edge"``, ``b"/data"``)."""
        lt, buf = self.lt, self.buf
        cand = np.flatnonzero(buf[lt + 1] == name[0])
        for k in range(1, len(name)):
            cand = cand[buf[lt[cand] + 1 + k] == name[k]]
        after = buf[lt[cand] + 1 + len(name)]
        return cand[
            (after == 32)
            | (after == 62)
            | (after == 47)
            | (after == 9)
            | (after == 10)
            | (after == 13)
        ]

    def self_closing(self, tags: np.ndarray) -> np.ndarray:
        return self.buf[self.end[tags] - 1] == 47

    def attribute(self, tags: np.ndarray, position: int, name: bytes) -> tuple | None:
        """Start and stop of the value of the ``position``-th attribute (0-based, double-quoted)
        of each tag, checking that it is called ``name``; None when any tag differs."""
        q = np.searchsorted(self.quotes, self.lt[tags]) + 2 * position
        if np.any(q + 1 >= self.quotes.shape[0]):
            return None
        start, stop = self.quotes[q] + 1, self.quotes[q + 1]
        if np.any(stop > self.end[tags]):
            return None
        label = name + b'="'
        for k in range(len(label)):
            if np.any(self.buf[start - len(label) + k] != label[k]):
                return None
        before = self.buf[start - len(label) - 1]
        if np.any((before != 32) & (before != 9) & (before != 10) & (before != 13)):
            return None
        return start, stop

    def n_quotes(self, tags: np.ndarray) -> np.ndarray:
        lo = np.searchsorted(self.quotes, self.lt[tags])
        hi = np.searchsorted(self.quotes, self.end[tags])
        return hi - lo

    def ints(self, start: np.ndarray, stop: np.ndarray) -> np.ndarray | None:
        """Non-negative decimal integers (at most 18 digits); None when any is not one."""
        length = stop - start
        if length.shape[0] == 0:
            return np.zeros(0, dtype=np.int64)
        if length.min() < 1 or length.max() > 18:
            return None
        width = int(length.max())
        k = np.arange(width)
        digits = self.buf[start[:, None] + k].astype(np.int64) - 48
        valid = k < length[:, None]
        if np.any(valid & ((digits < 0) | (digits > 9))):
            return None
        power = 10 ** np.clip(length[:, None] - 1 - k, 0, None)
        return np.where(valid, digits * power, 0).sum(axis=1)

    def texts(self, start: np.ndarray, stop: np.ndarray, kind: str = "plain") -> list:
        """The texts between ``start`` and ``stop``, entities resolved. ``kind``: ``"raw"``
        leaves them bytes where the block holds no entity (WKT: decoded only when used);
        ``"few"`` decodes each distinct value once (road types)."""
        data = self.data
        out = [data[a:b] for a, b in zip(start.tolist(), stop.tolist())]
        entities = b"&" in data
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


def _read_graphml_vectorised(path: Path, block: int = 1 << 26) -> _GraphmlColumns | None:
    """Read the regular GraphML networkx writes into columns, block by block, with numpy.

    Tags are found by their bytes (``<``, ``>`` and ``"`` positions), attributes by their
    quotes, integers digit by digit; only the attribute values the network needs become Python
    strings. Returns None as soon as the file is not of that regular form (comments, CDATA,
    single-quoted or reordered attributes, non-numeric node ids, key ids other than ``d<n>``, an
    edge repeated with the same id...); the caller then reads it with :func:`_read_graphml_fast`.
    """
    wanted = _GraphmlCollector.wanted
    keys: dict[str, tuple[str, str]] = {}
    crs = None
    node_ids, node_x, node_y, e_u, e_v, e_id = [], [], [], [], [], []
    e_vals: dict[str, tuple[list, list]] = {name: ([], []) for name in wanted}
    n_edges = 0
    keys_done = False
    rest = b""
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(block)
            data = rest + chunk
            if not chunk:
                cut = len(data)
            else:
                # just before the last node or edge that starts in the block: elements do not
                # nest, so everything before it is complete
                cut = max(data.rfind(b"<node"), data.rfind(b"<edge"))
                if cut <= 0:
                    rest = data
                    continue
            part, rest = data[:cut], data[cut:]
            del data
            if not keys_done:  # the keys come before the graph
                found = re.search(rb"<graph[\s>]", part)
                graph_at = -1 if found is None else found.start()
                head = part if graph_at < 0 else part[:graph_at]
                keys.update(_graphml_keys(head.decode("utf-8")))
                keys_done = graph_at >= 0
                if keys_done and b"<key" in part[graph_at:]:
                    return None
            elif b"<key" in part:
                return None
            tags = _Tags(part)
            if not tags.ok:
                return None
            nodes, edges, datas = tags.named(b"node"), tags.named(b"edge"), tags.named(b"data")
            close_nodes, close_edges = tags.named(b"/node"), tags.named(b"/edge")
            closes = np.concatenate([close_nodes, close_edges])
            n_tags = tags.lt.shape[0]
            opened = np.full(n_tags, -1, dtype=np.int64)
            closed = np.full(n_tags, -1, dtype=np.int64)
            elem = np.concatenate([nodes, edges])
            is_self = tags.self_closing(elem)
            opened[elem[~is_self]] = elem[~is_self]
            closed[closes] = closes
            closed[elem[is_self]] = elem[is_self]
            last_open = np.maximum.accumulate(opened) if n_tags else opened
            last_close = np.maximum.accumulate(closed) if n_tags else closed
            if part.count(b"<node") != nodes.shape[0] or part.count(b"<edge") != edges.shape[0]:
                return None
            # every node and edge closed within the block, each before the next one opens:
            # open/close tags alternate as (node, /node) and (edge, /edge) pairs
            kind = np.r_[np.ones(nodes.shape[0]), np.full(edges.shape[0], 2.0)][~is_self]
            events = np.r_[elem[~is_self], close_nodes, close_edges]
            codes = np.r_[
                kind, np.full(close_nodes.shape[0], -1.0), np.full(close_edges.shape[0], -2.0)
            ]
            codes = codes[np.argsort(events, kind="stable")]
            if codes.shape[0] % 2 or not (
                bool(np.all(codes[0::2] > 0)) and bool(np.all(codes[1::2] == -codes[0::2]))
            ):
                return None
            # data: key="d<n>", the value up to the next tag, which must close it
            if np.any(tags.n_quotes(datas) != 2):
                return None
            span = tags.attribute(datas, 0, b"key")
            if span is None or np.any(tags.buf[span[0]] != 100):  # 'd'
                return None
            key_no = tags.ints(span[0] + 1, span[1])
            if key_no is None:
                return None
            d_self = tags.self_closing(datas)
            nxt = np.minimum(datas + 1, n_tags - 1)
            close_data = tags.named(b"/data")
            is_close = np.zeros(n_tags, dtype=bool)
            is_close[close_data] = True
            if np.any(~d_self & ~is_close[nxt]) or np.any(~d_self & (datas + 1 >= n_tags)):
                return None
            v_start = tags.end[datas] + 1
            v_stop = np.where(d_self, v_start, tags.lt[nxt])
            inside = last_open[datas] > last_close[datas]
            owner = last_open[datas]
            # graph data (the crs): few, read one by one
            for i in np.flatnonzero(~inside).tolist():
                key_id = f"d{int(key_no[i])}"
                if keys.get(key_id) == ("graph", "crs"):
                    crs = tags.texts(v_start[i : i + 1], v_stop[i : i + 1])[0]
            # nodes
            if nodes.shape[0]:
                if np.any(tags.n_quotes(nodes) != 2):
                    return None
                span = tags.attribute(nodes, 0, b"id")
                ids = None if span is None else tags.ints(*span)
                if ids is None:
                    return None
                rank = np.full(n_tags, -1, dtype=np.int64)
                rank[nodes] = np.arange(nodes.shape[0])
                xs = np.full(nodes.shape[0], np.nan)
                ys = np.full(nodes.shape[0], np.nan)
                for name, target in (("x", xs), ("y", ys)):
                    numbers = [
                        int(k[1:]) for k, (_, nm) in keys.items() if nm == name and k[1:].isdigit()
                    ]
                    sel = np.flatnonzero(inside & (rank[owner] >= 0) & _key_mask(key_no, numbers))
                    target[rank[owner[sel]]] = _floats(tags.texts(v_start[sel], v_stop[sel], "raw"))
                node_ids.append(ids)
                node_x.append(xs)
                node_y.append(ys)
            # edges
            if edges.shape[0]:
                nq = tags.n_quotes(edges)
                src = tags.attribute(edges, 0, b"source")
                tgt = tags.attribute(edges, 1, b"target")
                if src is None or tgt is None or np.any((nq != 4) & (nq != 6)):
                    return None
                u, v = tags.ints(*src), tags.ints(*tgt)
                if u is None or v is None:
                    return None
                ident = np.full(edges.shape[0], -1, dtype=np.int64)
                with_id = np.flatnonzero(nq == 6)
                if with_id.shape[0]:
                    span = tags.attribute(edges[with_id], 2, b"id")
                    got = None if span is None else tags.ints(*span)
                    if got is None:
                        return None
                    ident[with_id] = got
                rank = np.full(n_tags, -1, dtype=np.int64)
                rank[edges] = np.arange(edges.shape[0])
                for name in wanted:
                    numbers = [
                        int(k[1:]) for k, (_, nm) in keys.items() if nm == name and k[1:].isdigit()
                    ]
                    sel = np.flatnonzero(inside & (rank[owner] >= 0) & _key_mask(key_no, numbers))
                    rows, vals = e_vals[name]
                    rows.append(n_edges + rank[owner[sel]])
                    kind = {"geometry": "raw", "length": "raw"}.get(name, "few")
                    text = tags.texts(v_start[sel], v_stop[sel], kind)
                    if name == "length":  # numbers, as pd.to_numeric reads the texts
                        text = _lengths(text)
                    first = tags.buf[v_start[sel]]
                    for i in np.flatnonzero((first == 91) | (first == 123)).tolist():
                        value = text[i]  # '[' or '{': a stringified list
                        value = value.decode("utf-8") if isinstance(value, bytes) else value
                        text[i] = _graphml_value(value)
                    vals.extend(text)
                e_u.append(u)
                e_v.append(v)
                e_id.append(np.where(ident >= 0, ident, -1 - n_edges - np.arange(edges.shape[0])))
                n_edges += edges.shape[0]
            if any(not k.startswith("d") or not k[1:].isdigit() for k in keys):
                return None
            if not chunk:
                break
    u = np.concatenate(e_u) if e_u else np.zeros(0, dtype=np.int64)
    v = np.concatenate(e_v) if e_v else np.zeros(0, dtype=np.int64)
    ident = np.concatenate(e_id) if e_id else np.zeros(0, dtype=np.int64)
    if u.shape[0] and pd.DataFrame({"u": u, "v": v, "i": ident}).duplicated().any():
        return None  # networkx updates a repeated edge: the regular-expression reader does that
    values, present = {}, {}
    for name, (rows, vals) in e_vals.items():
        rows = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        if bool(np.any(rows[1:] <= rows[:-1])):
            return None  # an attribute twice on one edge (rows are in file order)
        values[name] = _object_column(u.shape[0], rows, vals)
        present[name] = len(vals)
    return _GraphmlColumns(
        crs=crs,
        node_ids=np.concatenate(node_ids) if node_ids else np.zeros(0, dtype=np.int64),
        node_x=np.concatenate(node_x) if node_x else np.zeros(0),
        node_y=np.concatenate(node_y) if node_y else np.zeros(0),
        u=u,
        v=v,
        values=values,
        present=present,
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
    pair_first = (
        pd.DataFrame({"u": u, "v": v, "i": file_order}).groupby(["u", "v"])["i"].transform("min")
    ).to_numpy()
    order = np.lexsort((file_order, pair_first, position.reindex(u).to_numpy()))
    u, v = u[order], v[order]
    wkt = graph.values["geometry"][order]

    def geometry(rows: np.ndarray) -> np.ndarray:
        """The geometry of edges ``rows`` (u -> v) in EPSG:28992; the straight line between the
        nodes where the edge has none."""
        text = wkt[rows]
        has = np.array([isinstance(w, (str, bytes)) for w in text], dtype=bool)
        geom = np.empty(rows.shape[0], dtype=object)
        if has.any():
            geom[has] = _linestrings_from_wkt(text[has])
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
    return _links_from_edges(pd.DataFrame(frame), len(ids), geometry=geometry)


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
