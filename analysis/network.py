"""The prepared road network: nodes, road links, and directed arcs in CSR form.

A :class:`RoadNetwork` is built once per input file, mode and speed set (by
``layers.io.network.load_network``, which also caches it) and then used for any
number of travel analyses (:mod:`analysis.travel`).

The network is stored as *links*: one record per physical road piece between
two nodes, with its geometry (oriented from ``link_u`` to ``link_v``, in
EPSG:28992 metres), its length, its speed, and its travel time in each
direction (``inf`` when that direction is closed to the mode, e.g. against a
one-way street by car). The directed arcs used for routing are derived from
the links: a compressed sparse row (CSR) matrix of travel time in seconds with
a parallel array of arc lengths in metres.

This module is pure: no file I/O. It imports networkx and osmnx only to impute car
speeds with osmnx's own ``add_edge_speeds`` machinery.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
import logging
import math
from types import MappingProxyType

import numpy as np
import pandas as pd
from scipy import sparse
import shapely

from locatietoets.analysis.vocabulary import nl_number

__all__ = [
    "DEFAULT_CAR_SPEEDS_KMH",
    "DEFAULT_MODE",
    "MODES",
    "TravelSpeeds",
    "RoadNetwork",
    "SegmentIndex",
    "build_network",
    "impute_car_speeds_kmh",
    "parse_oneway",
    "mode_allows",
]

logger = logging.getLogger(__name__)

#: Travel modes, as written in the config (``[lagen.wegennet] modus``).
MODES = ("auto", "fiets", "lopen")
#: Mode used when the config does not name one.
DEFAULT_MODE = "fiets"

#: Car speed (km/h) per OSM ``highway`` type, used for roads without a usable
#: ``maxspeed`` (osmnx ``add_edge_speeds(hwy_speeds=...)``). Key ``"standaard"``
#: is the fallback for road types that are neither in this table nor have any
#: ``maxspeed`` in the data. Dutch general limits: 130/100 motorway, 80 outside
#: and 50 inside the built-up area, 30 in residential zones, 15 in woonerven.
DEFAULT_CAR_SPEEDS_KMH: dict[str, float] = {
    "motorway": 100.0,
    "motorway_link": 60.0,
    "trunk": 80.0,
    "trunk_link": 50.0,
    "primary": 70.0,
    "primary_link": 50.0,
    "secondary": 60.0,
    "secondary_link": 40.0,
    "tertiary": 50.0,
    "tertiary_link": 40.0,
    "unclassified": 50.0,
    "residential": 30.0,
    "living_street": 15.0,
    "service": 20.0,
    "road": 40.0,
    "standaard": 40.0,
}

_FALLBACK_KEY = "standaard"

# Road types that are not roads for anyone (planned, closed, indoor, rail-like).
_NOT_ROADS = frozenset(
    {
        "abandoned",
        "bus_guideway",
        "bus_stop",
        "busway",
        "construction",
        "corridor",
        "disused",
        "elevator",
        "escalator",
        "no",
        "planned",
        "platform",
        "proposed",
        "raceway",
        "razed",
        "rest_area",
        "services",
    }
)
_MOTOR_ONLY = frozenset({"motorway", "motorway_link", "trunk", "trunk_link"})
#: Road types closed to each mode (OSM ``highway`` values).
MODE_EXCLUDED_TYPES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "auto": (
            _NOT_ROADS
            | {"cycleway", "footway", "path", "pedestrian", "steps", "bridleway", "track"}
        ),
        "fiets": _NOT_ROADS | _MOTOR_ONLY | {"footway", "steps", "pedestrian", "bridleway"},
        "lopen": _NOT_ROADS | _MOTOR_ONLY,
    }
)
#: Road types a car site is not connected to directly (no driveway onto a motorway).
_CAR_NO_SNAP_TYPES = _MOTOR_ONLY

# One-way values: OSM (yes/no/true/false/1/0/-1/reverse) and NWB RIJRICHTNG
# (H = heen, with the digitising direction; T = tegen; B = beide; O = onbekend).
_ONEWAY_FORWARD = frozenset({"yes", "true", "1", "h", "t_h", "forward"})
_ONEWAY_BACKWARD = frozenset({"-1", "t", "reverse", "backward"})
_ONEWAY_BOTH = frozenset(
    {"no", "false", "0", "b", "o", "", "nan", "none", "alternating", "reversible"}
)


@dataclass(frozen=True)
class TravelSpeeds:
    """Travel speeds per mode (rule-set parameters).

    Attributes
    ----------
    bike_kmh
        Bicycle speed in km/h on every road open to bikes (``snelheid_fiets_kmh``).
    walk_kmh
        Walking speed in km/h on every road open to pedestrians (``snelheid_lopen_kmh``).
    car_kmh_by_type
        Car speed in km/h per OSM ``highway`` type for roads without ``maxspeed``;
        key ``"standaard"`` is the fallback (see :data:`DEFAULT_CAR_SPEEDS_KMH`).
    """

    bike_kmh: float = 15.0
    walk_kmh: float = 5.0
    car_kmh_by_type: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_CAR_SPEEDS_KMH)
    )

    def __post_init__(self) -> None:
        problems = []
        for name in ("bike_kmh", "walk_kmh"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                problems.append(
                    f"snelheid {name} moet een positief getal (km/u) zijn, niet {value!r}"
                )
        for key, value in self.car_kmh_by_type.items():
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                problems.append(
                    f"autosnelheid voor wegtype '{key}' moet een positief getal (km/u) zijn, niet"
                    f" {value!r}"
                )
        if problems:
            from locatietoets.analysis.errors import InputError

            raise InputError([p[0].upper() + p[1:] + "." for p in problems])

    def cache_token(self) -> str:
        """Return a stable text that identifies these speeds (for cache keys)."""
        cars = ",".join(f"{k}={float(v):g}" for k, v in sorted(self.car_kmh_by_type.items()))
        return f"fiets={float(self.bike_kmh):g};lopen={float(self.walk_kmh):g};auto={cars}"


@dataclass
class RoadNetwork:
    """A routable road network for one travel mode, in EPSG:28992.

    Attributes
    ----------
    mode
        ``"auto"``, ``"fiets"`` or ``"lopen"``.
    node_x, node_y
        Node coordinates in EPSG:28992 metres, shape ``(n_nodes,)``.
    node_id
        Original node ids (OSM ids, or a running number for line layers).
    link_u, link_v
        Start and end node index of each link (int32).
    link_length_m
        Length of each link in metres along the road.
    link_speed_kmh
        Travel speed on each link in km/h for this mode.
    link_time_fwd_s, link_time_bwd_s
        Travel time in seconds from ``u`` to ``v`` and from ``v`` to ``u``;
        ``inf`` when that direction is closed (one-way street by car).
    link_snappable
        Whether sites and employers may connect to the link (by car, not to
        motorways and trunk roads unless the network has nothing else).
    link_coords, link_offsets
        Link geometry as a ragged array: the coordinates of link ``i`` are
        ``link_coords[link_offsets[i]:link_offsets[i + 1]]`` (EPSG:28992),
        running from node ``u`` to node ``v``.
    source
        Short description of where the network came from (for logs).
    """

    mode: str
    node_x: np.ndarray
    node_y: np.ndarray
    node_id: np.ndarray
    link_u: np.ndarray
    link_v: np.ndarray
    link_length_m: np.ndarray
    link_speed_kmh: np.ndarray
    link_time_fwd_s: np.ndarray
    link_time_bwd_s: np.ndarray
    link_snappable: np.ndarray
    link_coords: np.ndarray
    link_offsets: np.ndarray
    source: str = field(default="")

    _ARRAYS = (
        "node_x",
        "node_y",
        "node_id",
        "link_u",
        "link_v",
        "link_length_m",
        "link_speed_kmh",
        "link_time_fwd_s",
        "link_time_bwd_s",
        "link_snappable",
        "link_coords",
        "link_offsets",
    )

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_x.shape[0])

    @property
    def n_links(self) -> int:
        """Number of links (road pieces between two nodes)."""
        return int(self.link_u.shape[0])

    def summary(self) -> str:
        """Return a one-line Dutch description, e.g. ``"wegennet: 12.345 knooppunten, 30.112
        wegvakken (fiets)"``."""
        return (
            f"wegennet: {nl_number(self.n_nodes)} knooppunten, {nl_number(self.n_links)} wegvakken"
            f" ({self.mode})"
        )

    # -- geometry -------------------------------------------------------------
    @cached_property
    def link_geometry(self) -> np.ndarray:
        """Shapely LineStrings of all links (EPSG:28992), built once from the ragged arrays."""
        if self.n_links == 0:
            return np.empty(0, dtype=object)
        return shapely.from_ragged_array(
            shapely.GeometryType.LINESTRING, self.link_coords, (self.link_offsets,)
        )

    @cached_property
    def link_geometry_length_m(self) -> np.ndarray:
        """Planar length of each link geometry in metres (to turn positions into fractions).

        Computed from the coordinates as GEOS does (``sqrt(dx * dx + dy * dy)`` per segment,
        summed segment by segment from the start), so without building the geometries and equal
        to ``shapely.length`` to the bit.
        """
        if "link_geometry" in self.__dict__:
            return shapely.length(self.link_geometry)
        offsets = self.link_offsets.astype(np.int64)
        coords = self.link_coords
        dx = np.diff(coords[:, 0])
        dy = np.diff(coords[:, 1])
        seg = np.sqrt(dx * dx + dy * dy)
        n_seg = np.diff(offsets) - 1
        total = np.zeros(self.n_links)
        first = offsets[:-1]
        k = 0
        active = np.flatnonzero(n_seg > 0)
        while active.shape[0]:
            total[active] = total[active] + seg[first[active] + k]
            k += 1
            active = active[n_seg[active] > k]
        return total

    def link_lines(self, links: np.ndarray) -> np.ndarray:
        """Shapely LineStrings of the links ``links`` (all of them are built only when
        :attr:`link_geometry` already is)."""
        links = np.asarray(links, dtype=np.int64)
        if "link_geometry" in self.__dict__ or links.shape[0] > self.n_links // 2:
            return self.link_geometry[links]
        if links.shape[0] == 0:
            return np.empty(0, dtype=object)
        unique, inverse = np.unique(links, return_inverse=True)
        offsets = self.link_offsets.astype(np.int64)
        counts = offsets[unique + 1] - offsets[unique]
        rows = np.repeat(offsets[unique] - np.cumsum(counts) + counts, counts) + np.arange(
            int(counts.sum())
        )
        lines = shapely.linestrings(
            self.link_coords[rows], indices=np.repeat(np.arange(unique.shape[0]), counts)
        )
        return lines[inverse.reshape(-1)]

    @cached_property
    def snap_links(self) -> np.ndarray:
        """Indices of the links sites and employers may connect to."""
        return np.flatnonzero(self.link_snappable)

    @cached_property
    def snap_tree(self) -> shapely.STRtree:
        """Spatial index over the snappable links (tree index ``i`` is link ``snap_links[i]``)."""
        return shapely.STRtree(self.link_geometry[self.snap_links])

    @cached_property
    def snap_segments(self) -> SegmentIndex:
        """Segments of the snappable links with a k-d tree over short pieces (fast exact
        snapping)."""
        return SegmentIndex.build(self.link_coords, self.link_offsets, self.link_snappable)

    # -- routing graph --------------------------------------------------------
    @cached_property
    def max_crow_speed_ms(self) -> float:
        """Largest straight-line speed of any arc: ``max(|tail - head| / time)`` in m/s.

        A route of travel time ``t`` between two nodes spans at most
        ``t * max_crow_speed_ms`` metres in a straight line (triangle inequality),
        whatever the link lengths and speeds in the data; used to bound searches.
        ``inf`` when an arc covers distance in zero time.
        """
        tail, head, _, time = self.arcs
        if tail.shape[0] == 0:
            return 0.0
        crow = np.hypot(
            self.node_x[tail] - self.node_x[head], self.node_y[tail] - self.node_y[head]
        )
        if bool(np.any((time <= 0) & (crow > 0))):
            return math.inf
        positive = time > 0
        return float(np.max(crow[positive] / time[positive])) if positive.any() else 0.0

    @cached_property
    def arcs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Directed arcs ``(tail, head, length_m, time_s)``, parallel arcs reduced to the fastest.

        Closed directions are left out. Among parallel arcs between the same two
        nodes only the fastest is kept (ties: the shortest), so a route's length
        is the length of the arcs a fastest route uses.
        """
        fwd = np.isfinite(self.link_time_fwd_s)
        bwd = np.isfinite(self.link_time_bwd_s)
        tail = np.concatenate([self.link_u[fwd], self.link_v[bwd]]).astype(np.int64)
        head = np.concatenate([self.link_v[fwd], self.link_u[bwd]]).astype(np.int64)
        length = np.concatenate([self.link_length_m[fwd], self.link_length_m[bwd]])
        time = np.concatenate([self.link_time_fwd_s[fwd], self.link_time_bwd_s[bwd]])
        return _reduce_parallel(tail, head, length, time, self.n_nodes)

    @cached_property
    def reversed_arcs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """:attr:`arcs` turned around, ``(head, tail, length_m, time_s)``, sorted by new tail then
        head."""
        tail, head, length, time = self.arcs
        order = np.argsort(head * self.n_nodes + tail)  # node pairs are unique: no ties
        return head[order], tail[order], length[order], time[order]

    @cached_property
    def csr_time_s(self) -> sparse.csr_matrix:
        """CSR matrix of arc travel times in seconds (row = tail node, column = head node)."""
        tail, head, _, time = self.arcs
        return _csr(tail, head, time, self.n_nodes)

    @cached_property
    def csr_length_m(self) -> sparse.csr_matrix:
        """CSR matrix of arc lengths in metres, same sparsity pattern as :attr:`csr_time_s`."""
        tail, head, length, _ = self.arcs
        return _csr(tail, head, length, self.n_nodes)

    # -- (de)serialisation for the cache ---------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        """Return all data as plain numpy arrays (for ``numpy.savez``)."""
        out = {name: np.asarray(getattr(self, name)) for name in self._ARRAYS}
        out["mode"] = np.asarray(self.mode)
        out["source"] = np.asarray(self.source)
        return out

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> RoadNetwork:
        """Rebuild a network from :meth:`to_arrays` output."""
        kwargs = {name: np.asarray(arrays[name]) for name in cls._ARRAYS}
        return cls(mode=str(arrays["mode"]), source=str(arrays["source"]), **kwargs)


#: Longest piece (metres) of a segment in :class:`SegmentIndex`'s k-d tree.
SNAP_PIECE_M = 50.0


@dataclass(frozen=True)
class SegmentIndex:
    """The straight segments of the snappable links, for exact nearest-link search.

    Every segment is cut into pieces of at most :data:`SNAP_PIECE_M` metres;
    the k-d tree holds the piece midpoints. A segment none of whose pieces is
    among a point's ``k`` nearest midpoints (the ``k``-th at distance ``d_k``)
    lies at least ``d_k - half_piece_m`` from the point, which lets a search
    prove that the nearest candidate is the nearest segment.

    Attributes
    ----------
    tree
        ``scipy.spatial.cKDTree`` over the piece midpoints.
    piece_segment
        Segment index of each piece.
    ax, ay, bx, by
        Segment end points (EPSG:28992).
    link
        Link index of each segment.
    half_piece_m
        Half the length of the longest piece.
    """

    tree: object
    piece_segment: np.ndarray
    ax: np.ndarray
    ay: np.ndarray
    bx: np.ndarray
    by: np.ndarray
    link: np.ndarray
    half_piece_m: float

    @classmethod
    def build(cls, coords: np.ndarray, offsets: np.ndarray, snappable: np.ndarray) -> SegmentIndex:
        from scipy.spatial import cKDTree

        coords = np.asarray(coords, dtype=float)[:, :2]
        offsets = np.asarray(offsets, dtype=np.int64)
        link_of = np.repeat(np.arange(offsets.shape[0] - 1), np.diff(offsets))
        start = np.flatnonzero(
            (link_of[:-1] == link_of[1:]) & np.asarray(snappable, dtype=bool)[link_of[:-1]]
        )
        # column by column: gathering 1-D arrays is several times faster than 2-D rows
        ax, ay = coords[start, 0], coords[start, 1]
        bx, by = coords[start + 1, 0], coords[start + 1, 1]
        dx, dy = bx - ax, by - ay
        seg_len = np.hypot(dx, dy)
        n_pieces = np.maximum(1, np.ceil(seg_len / SNAP_PIECE_M)).astype(np.int64)
        piece_segment = np.repeat(np.arange(start.shape[0]), n_pieces)
        k = np.arange(piece_segment.shape[0]) - np.repeat(np.cumsum(n_pieces) - n_pieces, n_pieces)
        t = (k + 0.5) / n_pieces[piece_segment]
        mid = np.empty((piece_segment.shape[0], 2))
        mid[:, 0] = ax[piece_segment] + dx[piece_segment] * t
        mid[:, 1] = ay[piece_segment] + dy[piece_segment] * t
        half = float(np.max(seg_len / n_pieces)) / 2.0 if seg_len.shape[0] else 0.0
        tree = cKDTree(mid, balanced_tree=False, compact_nodes=False, copy_data=False)
        return cls(
            tree=tree,
            piece_segment=piece_segment,
            ax=ax,
            ay=ay,
            bx=bx,
            by=by,
            link=link_of[start].astype(np.int64),
            half_piece_m=half,
        )

    @property
    def n_pieces(self) -> int:
        """Number of pieces in the tree."""
        return int(self.piece_segment.shape[0])

    def distance(self, x: np.ndarray, y: np.ndarray, segment: np.ndarray) -> np.ndarray:
        """Point-to-segment distance (to within rounding; GEOS re-measures near-ties)."""
        ax, ay = self.ax[segment], self.ay[segment]
        dx, dy = self.bx[segment] - ax, self.by[segment] - ay
        px, py = x - ax, y - ay
        len2 = dx * dx + dy * dy
        with np.errstate(invalid="ignore", divide="ignore"):
            t = (px * dx + py * dy) / len2
        t = np.clip(np.nan_to_num(t, nan=0.0, posinf=0.0, neginf=0.0), 0.0, 1.0)
        return np.hypot(px - t * dx, py - t * dy)


def _reduce_parallel(tail, head, length, time, n_nodes):
    """Arcs sorted by (tail, head), of parallel arcs only the fastest (ties: the shortest, then the
    first given). Sorting one integer key, and the (few) parallel arcs by time and length."""
    key = tail * n_nodes + head
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    first = np.ones(key.shape[0], dtype=bool)
    first[1:] = sorted_key[1:] != sorted_key[:-1]
    last = np.ones(key.shape[0], dtype=bool)
    last[:-1] = first[1:]
    if not bool(np.all(first & last)):
        single = order[first & last]
        rows = order[~(first & last)]  # in key order, then as given: lexsort keeps that for ties
        rows = rows[np.lexsort((length[rows], time[rows], key[rows]))]
        best = rows[np.r_[True, key[rows][1:] != key[rows][:-1]]]
        order = np.concatenate([single, best])
        order = order[np.argsort(key[order], kind="stable")]
    return tail[order], head[order], length[order], time[order]


def _csr(tail, head, data, n_nodes) -> sparse.csr_matrix:
    # Explicit zeros are kept: scipy.sparse.csgraph treats stored zeros as edges.
    matrix = sparse.csr_matrix((data, (tail, head)), shape=(n_nodes, n_nodes))
    matrix.sort_indices()
    return matrix


# ---------------------------------------------------------------------------
# Attribute parsing
# ---------------------------------------------------------------------------
def _first_value(value: object) -> object:
    """osmnx simplified graphs can hold lists (or their text) for merged ways; take the first."""
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
        inner = value[1:-1].split(",")[0].strip().strip("'\"")
        return inner or None
    return value


def normalise_highway(values: np.ndarray | pd.Series) -> np.ndarray:
    """Return OSM ``highway`` values as lower-case strings (``None`` when missing)."""

    def one(value: object) -> object:
        v = _first_value(value)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return None
        return str(v).strip().lower()

    values = np.asarray(values, dtype=object).tolist()
    # few distinct texts (road types): each normalised once
    table = {v: one(v) for v in {v for v in values if type(v) is str}}
    out = np.empty(len(values), dtype=object)
    out[:] = [table[v] if type(v) is str else one(v) for v in values]
    return out


def parse_oneway(values: np.ndarray | pd.Series) -> tuple[np.ndarray, list[str]]:
    """Turn one-way attribute values into direction codes.

    Parameters
    ----------
    values
        OSM ``oneway`` values (yes/no/true/false/1/0/-1/reverse, booleans) or
        NWB ``RIJRICHTNG`` values (H/T/B/O).

    Returns
    -------
    codes, unknown
        ``codes``: int8 per value, ``1`` = only along the digitising direction,
        ``-1`` = only against it, ``0`` = both. ``unknown``: values that were not
        recognised (treated as both directions).
    """
    series = pd.Series(np.asarray(values, dtype=object)).map(_first_value)
    text = series.map(lambda v: "" if v is None else str(v).strip().lower())
    uniques = pd.unique(text)
    lookup: dict[str, int] = {}
    unknown = []
    for value in uniques:
        if value in _ONEWAY_FORWARD:
            lookup[value] = 1
        elif value in _ONEWAY_BACKWARD:
            lookup[value] = -1
        else:
            if value not in _ONEWAY_BOTH:
                unknown.append(value)
            lookup[value] = 0
    return text.map(lookup).to_numpy(dtype=np.int8), unknown


def mode_allows(highway: np.ndarray, mode: str) -> np.ndarray:
    """Return which links (by OSM ``highway`` type) are open to ``mode``; unknown or missing types
    are open."""
    excluded = MODE_EXCLUDED_TYPES[mode]
    hw = np.asarray(highway, dtype=object)
    return ~pd.Series(hw).isin(excluded).to_numpy()


def impute_car_speeds_kmh(
    highway: np.ndarray,
    maxspeed: np.ndarray | None,
    *,
    car_kmh_by_type: Mapping[str, float] = DEFAULT_CAR_SPEEDS_KMH,
) -> np.ndarray:
    """Return car speeds in km/h per road with osmnx's ``add_edge_speeds``.

    A road's ``maxspeed`` is used when it can be read (``"50"``, ``"30 mph"``,
    ``"50;80"``...); otherwise the speed for its type from ``car_kmh_by_type``;
    for types not in the table, the mean ``maxspeed`` of the roads of that type;
    and finally ``car_kmh_by_type["standaard"]``.

    Parameters
    ----------
    highway
        OSM ``highway`` type per road (``None`` when unknown).
    maxspeed
        Speed limit per road as text or number (km/h unless "mph"), or ``None``.
    car_kmh_by_type
        Fallback speeds per road type (km/h).

    Returns
    -------
    numpy.ndarray
        Speed per road in km/h (float64).
    """
    import networkx as nx
    import osmnx as ox

    n = len(highway)
    if n == 0:
        return np.zeros(0)
    hw = np.asarray(highway, dtype=object)
    hw = np.where(pd.isna(hw), "onbekend", hw)
    table = {str(k): float(v) for k, v in car_kmh_by_type.items() if k != _FALLBACK_KEY}
    fallback = float(car_kmh_by_type.get(_FALLBACK_KEY, DEFAULT_CAR_SPEEDS_KMH[_FALLBACK_KEY]))
    graph = nx.MultiDiGraph(crs="EPSG:28992")
    graph.add_nodes_from(range(n + 1), x=0.0, y=0.0)
    if maxspeed is None:
        edges = [(i, i + 1, 0, {"highway": hw[i]}) for i in range(n)]
    else:
        ms = np.asarray(maxspeed, dtype=object)
        edges = []
        for i in range(n):
            attrs = {"highway": hw[i]}
            value = ms[i]
            if (
                value is not None
                and not (isinstance(value, float) and math.isnan(value))
                and str(value).strip() != ""
            ):
                if isinstance(value, (int, float, np.integer, np.floating)):
                    value = f"{float(value):g}"
                attrs["maxspeed"] = value
            edges.append((i, i + 1, 0, attrs))
    graph.add_edges_from(edges)
    graph = ox.add_edge_speeds(graph, hwy_speeds=table, fallback=fallback)
    speeds = np.fromiter(
        (d["speed_kph"] for _, _, d in graph.edges(data=True)), dtype=float, count=n
    )
    order = np.fromiter((u for u, _ in graph.edges()), dtype=np.int64, count=n)
    out = np.empty(n)
    out[order] = speeds
    bad = ~np.isfinite(out) | (out <= 0)
    out[bad] = fallback
    return out


# ---------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------
def build_network(
    *,
    mode: str,
    node_x: np.ndarray,
    node_y: np.ndarray,
    node_id: np.ndarray | None,
    link_u: np.ndarray,
    link_v: np.ndarray,
    link_length_m: np.ndarray,
    link_geometry: np.ndarray,
    link_highway: np.ndarray | None,
    link_oneway: np.ndarray | None,
    link_car_kmh: np.ndarray | None,
    speeds: TravelSpeeds,
    source: str = "",
) -> RoadNetwork:
    """Build a :class:`RoadNetwork` for one mode from road links.

    Parameters
    ----------
    mode
        ``"auto"``, ``"fiets"`` or ``"lopen"``.
    node_x, node_y
        Node coordinates (EPSG:28992, metres).
    node_id
        Original node ids, or ``None`` for a running number.
    link_u, link_v
        Node index (into ``node_x``) of the start and end of each link.
    link_length_m
        Length of each link in metres.
    link_geometry
        Shapely LineString per link in EPSG:28992, running from ``u`` to ``v``.
    link_highway
        OSM ``highway`` type per link (decides which modes may use it), or ``None``.
    link_oneway
        Direction code per link (see :func:`parse_oneway`); only used by car.
    link_car_kmh
        Car speed per link in km/h (see :func:`impute_car_speeds_kmh`); required for ``"auto"``.
    speeds
        Bike and walking speeds.
    source
        Description for logs.

    Returns
    -------
    RoadNetwork
        Links closed to the mode in both directions and nodes no link uses are dropped.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}")
    n_links = len(link_u)
    link_u = np.asarray(link_u, dtype=np.int64)
    link_v = np.asarray(link_v, dtype=np.int64)
    length = np.asarray(link_length_m, dtype=float)
    highway = (
        np.full(n_links, None, dtype=object)
        if link_highway is None
        else np.asarray(link_highway, dtype=object)
    )
    open_ = mode_allows(highway, mode) & np.isfinite(length) & (length >= 0)
    if mode == "auto":
        if link_car_kmh is None:
            raise ValueError("link_car_kmh is required for mode 'auto'")
        speed = np.asarray(link_car_kmh, dtype=float)
        oneway = (
            np.zeros(n_links, np.int8)
            if link_oneway is None
            else np.asarray(link_oneway, dtype=np.int8)
        )
        fwd_open = open_ & (oneway != -1)
        bwd_open = open_ & (oneway != 1)
    else:
        speed = np.full(
            n_links, speeds.bike_kmh if mode == "fiets" else speeds.walk_kmh, dtype=float
        )
        fwd_open = bwd_open = open_
    keep = fwd_open | bwd_open
    time_s = length / (speed / 3.6)
    t_fwd = np.where(fwd_open, time_s, np.inf)[keep]
    t_bwd = np.where(bwd_open, time_s, np.inf)[keep]

    u, v = link_u[keep], link_v[keep]
    used = np.unique(np.concatenate([u, v]))
    remap = np.full(len(node_x), -1, dtype=np.int64)
    remap[used] = np.arange(used.shape[0])
    node_ids = (
        np.arange(len(node_x), dtype=np.int64)
        if node_id is None
        else np.asarray(node_id, dtype=np.int64)
    )

    snappable = np.ones(int(keep.sum()), dtype=bool)
    if mode == "auto":
        snappable = ~pd.Series(highway[keep]).isin(_CAR_NO_SNAP_TYPES).to_numpy()
        if not snappable.any():
            snappable[:] = True
    geoms = np.asarray(link_geometry, dtype=object)[keep]
    if geoms.shape[0]:
        _, coords, (offsets,) = shapely.to_ragged_array(geoms)
    else:
        coords, offsets = np.zeros((0, 2)), np.zeros(1, dtype=np.int64)
    network = RoadNetwork(
        mode=mode,
        node_x=np.asarray(node_x, dtype=float)[used],
        node_y=np.asarray(node_y, dtype=float)[used],
        node_id=node_ids[used],
        link_u=remap[u].astype(np.int32),
        link_v=remap[v].astype(np.int32),
        link_length_m=length[keep],
        link_speed_kmh=speed[keep],
        link_time_fwd_s=t_fwd,
        link_time_bwd_s=t_bwd,
        link_snappable=snappable,
        link_coords=np.ascontiguousarray(coords[:, :2], dtype=float),
        link_offsets=np.asarray(offsets, dtype=np.int64),
        source=source,
    )
    logger.info(
        "wegennet (%s): %s knopen en %s wegvakken; "
        "%s wegvakken gesloten voor deze vervoerswijze weggelaten",
        mode,
        nl_number(network.n_nodes),
        nl_number(network.n_links),
        nl_number(n_links - network.n_links),
    )
    return network
