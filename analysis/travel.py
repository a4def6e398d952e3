"""Travel over the road network from every site to employers.

Vectorised throughout: sites and employers are snapped to the network in one
call, and shortest paths come from :func:`scipy.sparse.csgraph.dijkstra` run
over the whole network at once — never a loop over sites or site/employer pairs.

How a trip is measured
----------------------
1. Snapping. Each site and employer is connected to the nearest point of the
   nearest road link. Points are looked up in a k-d tree over short pieces of
   the link segments (:attr:`RoadNetwork.snap_segments`); a point is settled
   only when the search proves no other segment can be nearer, the rest (and
   polygons) go through shapely's ``STRtree.query_nearest``. A point exactly
   as near to several links connects to all of them (the fastest counts);
   distance and position (``line_locate_point``) come from GEOS either way. A polygon (business
   park)
   is connected at its nearest network point; when roads cross it, at every
   crossing road, with connection distance 0. The straight connection is part
   of the trip (its length is ``aansluitafstand_m`` for the site), travelled at
   the speed of the link it connects to.
2. From the snapped point a trip runs along the link to either end node (only
   in directions open to the mode: one-way streets by car), over the network,
   and along the employer's link to the employer's snapped point. When site
   and employer lie on the same link, the direct run along that link is also
   considered. This is exact: it equals inserting the snapped points as nodes.
3. Travel direction is site → employer (home to work). All employers are
   sources of one Dijkstra on the *reversed* graph (``min_only=True``), which
   yields, for every node, the fastest employer and the time to it; a route's
   length is summed along the shortest-path tree (pointer jumping).
4. ``werkgevers_bereikbaar`` counts employers within ``max_minutes``: one
   time-limited Dijkstra per employer, each on a small subgraph — the nodes in
   a box around a group of nearby employers, as wide as any route within the
   limit can reach in a straight line (fastest straight-line speed of any arc
   times the limit), so the count stays exact. The results are kept per node
   (employers sorted by time, and by employer); a site's count is then a few
   binary searches in the rows of its link's end nodes (see :func:`_count_within`).

Everything that depends on the employers and the network alone — their snapping, the routing
graph, the shortest-path tree from all employers and the per-node employer rows — is an
:class:`EmployerSide`, built once per run (:func:`employer_side`) and shared by every block
of sites; per block only the sites are snapped and looked up. The streamed runner builds it
ahead, in a thread while it reads the sites (:func:`warm_up`); whichever thread needs a part
first builds it, the others wait for it (one lock), so the results never depend on the timing.

Per block the sites are snapped, and counted, in two contiguous halves side by side in
threads (``_SNAP_THREADS``, ``_COUNT_THREADS``): the k-d tree, GEOS and numpy release the GIL,
and every site is handled on its own, so the halves' rows put back in order equal one call's.
The Dijkstras hold the GIL and run in one thread.

The nearest employer is the one with the shortest *travel time*;
``werkgever_afstand_m`` is the length of that fastest route.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
import logging
import os
import threading
import weakref

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse import csgraph, csr_matrix
import shapely

from locatietoets.analysis.derived import derived
from locatietoets.analysis.errors import CancelledError, InputError
from locatietoets.analysis.network import RoadNetwork
from locatietoets.analysis.vocabulary import TRAVEL_FIELDS, nl_number

__all__ = [
    "travel_to_employers",
    "snap_to_network",
    "SnapTable",
    "RESULT_COLUMNS",
    "TravelProblem",
    "EmployerSide",
    "employer_side",
    "prepare_employers",
    "prepare_travel",
    "nearest_employers",
    "count_employers_within",
    "warm_up",
]

logger = logging.getLogger(__name__)

#: Output columns of :func:`travel_to_employers`, in order: the travel result fields and the reason
#: a site cannot be reached (used in reasons only).
RESULT_COLUMNS = (*TRAVEL_FIELDS, "reis_onbereikbaar_reden")

# Upper bound on elements of one dense (sources x nodes) block: ~160 MB per float64 array.
_BLOCK_ELEMENTS = 20_000_000
_TIME_TOLERANCE = 1e-9
# Upper bound on elements of one (sources x box nodes) block in the count's Dijkstras: ~40 MB.
_REACH_ELEMENTS = 5_000_000
# Held while an employer side or one of its routing results is built: each is built once, by the
# first thread that needs it (a block, or warm_up in the runner's thread); the others wait for it.
_SIDE_LOCK = threading.RLock()
# Grid cell for grouping employers in the count, as a multiple of the search radius.
_COUNT_CELL_FACTOR = 1.0
# Threads counting contiguous parts of the sites side by side (at most one per core), and the
# fewest sites per part.
_COUNT_THREADS = 2
_COUNT_THREAD_MIN = 1_000
# Queries per part of :func:`_bisect` (measured: 4,096 keeps a part's rows in the cache).
_BISECT_PART = 4_096


@dataclass(frozen=True)
class SnapTable:
    """Connections of geometries to the network, one row per (geometry, link).

    A point has one row per link at its minimum distance: one, unless several
    links are exactly as near (a point on a node, or midway between two roads).
    A polygon likewise (every crossing road when roads cross it). Rows are
    sorted by ``item``, then ``link``.

    Attributes
    ----------
    item
        Position of the geometry in the input (0-based).
    link
        Link index in the network.
    frac
        Position of the connection point along the link, as a fraction of the
        link from ``u`` (0) to ``v`` (1).
    dist_m
        Straight-line distance from the geometry to the link in metres.
    """

    item: np.ndarray
    link: np.ndarray
    frac: np.ndarray
    dist_m: np.ndarray

    def take(self, mask: np.ndarray) -> SnapTable:
        """Return the rows selected by a boolean mask."""
        return SnapTable(self.item[mask], self.link[mask], self.frac[mask], self.dist_m[mask])


def snap_to_network(
    geometries: np.ndarray | gpd.GeoSeries, network: RoadNetwork, *, method: str = "auto"
) -> SnapTable:
    """Connect points and polygons to their nearest network point.

    Parameters
    ----------
    geometries
        Points and/or polygons in EPSG:28992 (no empty geometries).
    network
        The road network (same CRS).
    method
        ``"auto"`` (default): points through the k-d tree over link pieces
        (:attr:`RoadNetwork.snap_segments`), with the STRtree for the few points
        where that search cannot prove the nearest link; ``"strtree"``: every
        point through the STRtree (reference). Both give the same rows.
        Polygons always use the STRtree.

    Returns
    -------
    SnapTable
        One row per point; one or more per polygon (see :class:`SnapTable`).
    """
    if method not in ("auto", "strtree"):
        raise ValueError(f"unknown snapping method {method!r}")
    geoms = np.asarray(geometries, dtype=object)
    n = geoms.shape[0]
    if n == 0 or network.n_links == 0 or network.snap_links.shape[0] == 0:
        return SnapTable(*(np.zeros(0, dtype=t) for t in (np.int64, np.int64, float, float)))
    threads = min(_SNAP_THREADS, os.cpu_count() or 1, n // max(_SNAP_THREAD_MIN, 1))
    if method != "auto" or threads < 2:
        return _snap_part(geoms, network, method, _SNAP_WORKERS)
    # Contiguous parts in threads (the k-d tree, GEOS and most numpy work release the GIL);
    # every geometry is snapped on its own, so the parts' rows, put back in order, equal one
    # call's. The network's lazily built indexes the parts need are built here first, so the
    # threads only read them (the polygons' STRtree only when there are polygons).
    network.snap_segments, network.link_geometry_length_m
    if not bool(np.all(shapely.get_type_id(geoms) == 0)):
        network.snap_tree
    bounds = np.linspace(0, n, threads + 1).astype(np.int64)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        parts = list(
            pool.map(
                lambda k: _snap_part(geoms[bounds[k] : bounds[k + 1]], network, method, 1),
                range(threads),
            )
        )
    return SnapTable(
        np.concatenate([part.item + bounds[k] for k, part in enumerate(parts)]),
        np.concatenate([part.link for part in parts]),
        np.concatenate([part.frac for part in parts]),
        np.concatenate([part.dist_m for part in parts]),
    )


def _snap_part(geoms: np.ndarray, network: RoadNetwork, method: str, workers: int) -> SnapTable:
    """:func:`snap_to_network` for one part of the geometries (``workers``: k-d tree threads)."""
    n = geoms.shape[0]
    if n == 0:
        return SnapTable(*(np.zeros(0, dtype=t) for t in (np.int64, np.int64, float, float)))
    is_point = shapely.get_type_id(geoms) == 0
    items, links, dists, fracs = [], [], [], []
    length = network.link_geometry_length_m

    def add(item, link, dist, points, lines):
        position = shapely.line_locate_point(lines, points)
        geom_len = length[link]
        frac = np.divide(position, geom_len, out=np.zeros_like(position), where=geom_len > 0)
        items.append(item)
        links.append(link)
        dists.append(dist)
        fracs.append(np.clip(frac, 0.0, 1.0))

    pt_idx = np.flatnonzero(is_point)
    if pt_idx.shape[0]:
        pts = geoms[pt_idx]
        if method == "auto":
            xy = shapely.get_coordinates(pts)
            row, link, rest = _snap_points_kdtree(xy[:, 0], xy[:, 1], network, workers)
        else:
            row, link, rest = (
                np.zeros(0, dtype=np.int64),
                np.zeros(0, dtype=np.int64),
                np.arange(pts.shape[0]),
            )
        if rest.shape[0]:
            r_row, r_link = _snap_points_strtree(pts[rest], network)
            row, link = np.concatenate([row, rest[r_row]]), np.concatenate([link, r_link])
        order = np.argsort(row * network.n_links + link)  # by point, then link
        row, link = row[order], link[order]
        if method == "auto":
            dist, frac = _locate_on_links(xy[row, 0], xy[row, 1], link, network)
            items.append(pt_idx[row])
            links.append(link)
            dists.append(dist)
            fracs.append(frac)
        else:
            lines, at = network.link_geometry[link], pts[row]
            add(pt_idx[row], link, shapely.distance(at, lines), at, lines)
    poly_idx = np.flatnonzero(~is_point)
    if poly_idx.shape[0]:
        if method == "auto":
            q, link, dist = _snap_polygons_bounded(geoms[poly_idx], network, workers)
        else:
            (q, t), dist = network.snap_tree.query_nearest(
                geoms[poly_idx], all_matches=True, return_distance=True
            )
            link = network.snap_links[t]
        item = poly_idx[q]
        lines = network.link_lines(link)
        nearest = shapely.shortest_line(geoms[item], lines)
        if method == "auto":
            # the connection point's coordinates, located along the link in numpy (the same
            # arithmetic as GEOS' line_locate_point, without a point geometry per row)
            at = shapely.get_coordinates(nearest)[1::2]
            items.append(item)
            links.append(link)
            dists.append(dist)
            fracs.append(_locate_on_links(at[:, 0], at[:, 1], link, network)[1])
        else:
            add(item, link, dist, shapely.get_point(nearest, 1), lines)
    if len(items) == 1 and pt_idx.shape[0]:  # points only: already sorted
        return SnapTable(items[0].astype(np.int64), links[0].astype(np.int64), fracs[0], dists[0])
    item = np.concatenate(items).astype(np.int64)
    link = np.concatenate(links).astype(np.int64)
    order = np.lexsort((link, item))
    return SnapTable(
        item[order],
        link[order],
        np.concatenate(fracs)[order],
        np.concatenate(dists)[order],
    )


def _locate_on_links(
    x: np.ndarray, y: np.ndarray, link: np.ndarray, network: RoadNetwork
) -> tuple[np.ndarray, np.ndarray]:
    """Distance from each point to its link and position along it (fraction), vectorised.

    The same arithmetic as GEOS ``distance`` (``Distance::pointToSegment`` per
    segment) and ``line_locate_point`` (``LengthIndexOfPoint``: the first
    segment at the smallest distance, its start measure plus the projection),
    so the results equal shapely's up to the last bit or so, without the
    per-geometry overhead.
    """
    offsets = network.link_offsets.astype(np.int64)
    coords = network.link_coords
    first = offsets[link]
    n_seg = np.maximum(offsets[link + 1] - first - 1, 1)
    pair = np.repeat(np.arange(link.shape[0]), n_seg)
    k = np.arange(pair.shape[0]) - np.repeat(np.cumsum(n_seg) - n_seg, n_seg)
    j = first[pair] + k
    j1 = np.minimum(j + 1, offsets[link + 1][pair] - 1)
    ax, ay, bx, by = coords[j, 0], coords[j, 1], coords[j1, 0], coords[j1, 1]
    px, py = x[pair], y[pair]
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    degenerate = len2 == 0
    safe = np.where(degenerate, 1.0, len2)
    r = ((px - ax) * dx + (py - ay) * dy) / safe
    s = ((ay - py) * dx - (ax - px) * dy) / safe
    d_a = np.sqrt((px - ax) ** 2 + (py - ay) ** 2)
    d_b = np.sqrt((px - bx) ** 2 + (py - by) ** 2)
    d = np.where(degenerate | (r <= 0.0), d_a, np.where(r >= 1.0, d_b, np.abs(s) * np.sqrt(len2)))
    seg_len = np.sqrt(len2)
    starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
    # start measure of each segment, summed segment by segment along each link as GEOS does
    start_measure = np.zeros(pair.shape[0])
    by_k = np.argsort(k, kind="stable")
    bounds = np.searchsorted(k[by_k], np.arange(1, int(k.max(initial=0)) + 2))
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        rows = by_k[lo:hi]
        start_measure[rows] = start_measure[rows - 1] + seg_len[rows - 1]
    measure = start_measure + np.where(degenerate, 0.0, np.clip(r, 0.0, 1.0)) * seg_len
    dist = np.minimum.reduceat(d, starts)
    # first segment at the smallest distance
    at_min = d == np.repeat(dist, n_seg)
    first_min = np.maximum.reduceat(np.where(at_min, -k, np.iinfo(np.int64).min), starts)
    position = measure[starts - first_min]
    geom_len = network.link_geometry_length_m[link]
    frac = np.divide(position, geom_len, out=np.zeros_like(position), where=geom_len > 0)
    return dist, np.clip(frac, 0.0, 1.0)


# Candidates per point in the first and second k-d tree round.
_SNAP_K = (8, 32)
# Cell size (metres) of the grid order in which points are looked up.
_SNAP_SORT_CELL_M = 250.0
# Threads for the k-d tree look-up (-1: all cores).
_SNAP_WORKERS = -1
# Threads snapping contiguous parts of the geometries side by side (at most one per core), and
# the fewest geometries per part.
_SNAP_THREADS = 2
_SNAP_THREAD_MIN = 1_000
# Distances within this of the smallest are re-measured with GEOS (ties, rounding).
_SNAP_TIE_ABS_M = 1e-6
_SNAP_TIE_REL = 1e-9


def _nearest_rows(
    item: np.ndarray, link: np.ndarray, dist: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The (item, link) pairs at each item's smallest ``dist`` (all of them on exact ties),
    deduplicated."""
    if item.shape[0] == 0:
        return item.astype(np.int64), link.astype(np.int64)
    order = np.lexsort((link, dist, item))
    item, link, dist = item[order], link[order], dist[order]
    first = np.r_[True, item[1:] != item[:-1]]
    dmin = dist[first][np.cumsum(first) - 1]
    keep = (dist == dmin) & np.r_[True, (item[1:] != item[:-1]) | (link[1:] != link[:-1])]
    return item[keep].astype(np.int64), link[keep].astype(np.int64)


def _snap_polygons_bounded(
    geoms: np.ndarray, network: RoadNetwork, workers: int = _SNAP_WORKERS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest snappable links of non-point geometries: ``(geometry, link, distance)`` rows, all
    links at the smallest distance (as ``STRtree.query_nearest(all_matches=True)``).

    A bounded search instead of a nearest-neighbour one: piece midpoints lie on their segments,
    so the distance ``D`` from any vertex of a geometry to its nearest midpoint bounds the
    geometry's distance to the network from above. The links whose boxes meet the geometry's box
    widened by the smallest such ``D`` include every nearest link; GEOS measures only those.

    Geometries that cross or touch a link (distance 0: most polygon sites) are settled first:
    a link at distance 0 meets the geometry's own box, so GEOS measures the links whose boxes
    meet it, and where one is at distance 0 the nearest links are exactly those.
    """
    n = geoms.shape[0]
    hit_q, hit_t = network.snap_tree.query(geoms)
    hit_q = hit_q.astype(np.int64)
    hit_link = network.snap_links[hit_t].astype(np.int64)
    hit_d = shapely.distance(geoms[hit_q], network.link_lines(hit_link))
    touching = hit_d == 0
    crossed = np.zeros(n, dtype=bool)
    crossed[hit_q[touching]] = True
    nearest_own = np.full(n, np.inf)  # the nearest link meeting the own box bounds the rest
    np.minimum.at(nearest_own, hit_q, hit_d)
    if crossed.all():
        hit_q, hit_link, hit_d = hit_q[touching], hit_link[touching], hit_d[touching]
        order = np.lexsort((hit_link, hit_q))
        return hit_q[order], hit_link[order], hit_d[order]
    rest = np.flatnonzero(~crossed)
    # the links met by the own box of a geometry that crosses none are measured already
    position = np.full(n, -1, dtype=np.int64)
    position[rest] = np.arange(rest.shape[0])
    apart = ~crossed[hit_q]
    measured = (position[hit_q[apart]], hit_link[apart], hit_d[apart])
    hit_q, hit_link, hit_d = hit_q[touching], hit_link[touching], hit_d[touching]
    q, link, dist = _snap_polygons_apart(
        geoms[rest], network, bound=nearest_own[rest], workers=workers, measured=measured
    )
    q = np.concatenate([hit_q, rest[q]])
    link = np.concatenate([hit_link, link])
    dist = np.concatenate([hit_d, dist])
    order = np.lexsort((link, q))
    return q[order], link[order], dist[order]


def _snap_polygons_apart(
    geoms: np.ndarray,
    network: RoadNetwork,
    *,
    bound: np.ndarray | None = None,
    workers: int = _SNAP_WORKERS,
    measured: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The bounded search of :func:`_snap_polygons_bounded` for any geometries.

    ``bound``: a known upper bound on each geometry's distance to the network (``inf``: none),
    e.g. its distance to a link GEOS measured already; the vertices' nearest piece midpoints
    bound the others. ``measured``: ``(geometry, link, distance)`` rows GEOS measured already
    (unique pairs); candidates among them are not measured again.
    """
    index = network.snap_segments
    bound = np.full(geoms.shape[0], np.inf) if bound is None else np.array(bound, dtype=float)
    unknown = np.flatnonzero(~np.isfinite(bound))
    coords, which = shapely.get_coordinates(geoms[unknown], return_index=True)
    if coords.shape[0]:  # a ring's closing vertex repeats the geometry's first: queried once
        head = np.r_[True, which[1:] != which[:-1]]
        head_at = np.flatnonzero(head)[np.cumsum(head) - 1]
        again = ~head & np.all(coords == coords[head_at], axis=1)
        coords, which = coords[~again], which[~again]
    if coords.shape[0] and index.n_pieces:
        d_mid, _ = index.tree.query(coords, k=1, workers=workers)
        np.minimum.at(bound, unknown[which], d_mid)
    bound = bound * (1 + 1e-9) + 1e-6  # rounding margin: never cut off a link at the bound
    finite = np.isfinite(bound)
    rows_q, rows_t = [], []
    if finite.any():
        sel = np.flatnonzero(finite)
        x0, y0, x1, y1 = shapely.bounds(geoms[sel]).T
        b = bound[sel]
        q, t = network.snap_tree.query(shapely.box(x0 - b, y0 - b, x1 + b, y1 + b))
        rows_q.append(sel[q])
        rows_t.append(t)
    if (~finite).any():  # no vertex or no pieces: the nearest-neighbour search
        sel = np.flatnonzero(~finite)
        q, t = network.snap_tree.query_nearest(geoms[sel], all_matches=True)
        rows_q.append(sel[q])
        rows_t.append(t)
    q = np.concatenate(rows_q).astype(np.int64)
    link = network.snap_links[np.concatenate(rows_t)].astype(np.int64)
    dist = np.full(q.shape[0], np.nan)
    if measured is not None and measured[0].shape[0]:
        known = measured[0].astype(np.int64) * network.n_links + measured[1]
        by_key = np.argsort(known)
        known = known[by_key]
        at = np.minimum(np.searchsorted(known, q * network.n_links + link), known.shape[0] - 1)
        hit = known[at] == q * network.n_links + link
        dist[hit] = measured[2][by_key[at[hit]]]
    todo = np.flatnonzero(np.isnan(dist))
    dist[todo] = shapely.distance(geoms[q[todo]], network.link_lines(link[todo]))
    order = np.lexsort((link, dist, q))
    q, link, dist = q[order], link[order], dist[order]
    head = np.r_[True, q[1:] != q[:-1]]
    keep = dist == dist[head][np.cumsum(head) - 1]
    return q[keep], link[keep], dist[keep]


def _snap_points_strtree(points: np.ndarray, network: RoadNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Nearest snappable links per point with the STRtree: ``(point, link)`` rows, all links on
    exact ties."""
    (q, t), dist = network.snap_tree.query_nearest(points, all_matches=True, return_distance=True)
    return _nearest_rows(q, network.snap_links[t], dist)


def _snap_points_kdtree(
    x: np.ndarray, y: np.ndarray, network: RoadNetwork, workers: int = _SNAP_WORKERS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest links through the k-d tree over segment pieces.

    Returns ``(point, link)`` rows for the points the search settles and the
    points it cannot (for the STRtree). A point is settled when its nearest
    candidate segment is closer than ``d_k - half_piece_m`` (no segment outside
    the candidates can be as near). Candidates on other links within a rounding
    margin of the nearest are re-measured with GEOS, as the STRtree measures,
    and every link at exactly the smallest distance is kept.
    """
    index = network.snap_segments
    if x.shape[0] > 1:  # query in spatial order: much better cache use in the tree
        gx = ((x - x.min()) / _SNAP_SORT_CELL_M).astype(np.int64)
        gy = ((y - y.min()) / _SNAP_SORT_CELL_M).astype(np.int64)
        todo = np.argsort(gx * (int(gy.max()) + 1) + gy)
    else:
        todo = np.arange(x.shape[0])
    rows, links = [], []
    n_pieces = index.n_pieces
    for k in _SNAP_K:
        if todo.shape[0] == 0 or n_pieces == 0:
            break
        kk = min(k, n_pieces)
        px, py = x[todo], y[todo]
        d_piece, piece = index.tree.query(np.c_[px, py], k=kk, workers=workers)
        d_piece = d_piece.reshape(todo.shape[0], kk)
        segment = index.piece_segment[piece.reshape(todo.shape[0], kk)]
        dist = index.distance(px[:, None], py[:, None], segment)
        dmin = dist.min(axis=1)
        margin = _SNAP_TIE_ABS_M + _SNAP_TIE_REL * dmin
        if kk == n_pieces:
            proven = np.ones(todo.shape[0], dtype=bool)  # every piece is a candidate
        else:
            proven = dmin + margin < d_piece[:, -1] - index.half_piece_m
        link = index.link[segment]
        near = dist <= (dmin + margin)[:, None]
        best = link[np.arange(link.shape[0]), np.argmax(near, axis=1)]
        unique = ~np.any(near & (link != best[:, None]), axis=1)
        done = proven & unique
        rows.append(todo[done])
        links.append(best[done])
        tie = proven & ~unique
        if tie.any():
            r, c = np.nonzero(near & tie[:, None])
            pairs = np.unique(np.c_[todo[r], link[r, c]], axis=0)
            exact = shapely.distance(
                shapely.points(x[pairs[:, 0]], y[pairs[:, 0]]), network.link_lines(pairs[:, 1])
            )
            t_row, t_link = _nearest_rows(pairs[:, 0], pairs[:, 1], exact)
            rows.append(t_row)
            links.append(t_link)
        todo = todo[~proven]
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.sort(todo)
    return (
        np.concatenate(rows).astype(np.int64),
        np.concatenate(links).astype(np.int64),
        np.sort(todo),
    )


# ---------------------------------------------------------------------------
# Connection costs
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Access:
    """Cost of getting between a snapped geometry and the two end nodes of its link."""

    snap: SnapTable
    u: np.ndarray
    v: np.ndarray
    time_u_s: np.ndarray
    len_u_m: np.ndarray
    time_v_s: np.ndarray
    len_v_m: np.ndarray
    leg_time_s: np.ndarray

    def rows(self, lo: int, hi: int) -> _Access:
        """The rows ``lo:hi`` (views)."""
        snap = self.snap
        return _Access(
            SnapTable(snap.item[lo:hi], snap.link[lo:hi], snap.frac[lo:hi], snap.dist_m[lo:hi]),
            *(
                getattr(self, name)[lo:hi]
                for name in ("u", "v", "time_u_s", "len_u_m", "time_v_s", "len_v_m", "leg_time_s")
            ),
        )


def _part(fraction: np.ndarray, time_s: np.ndarray) -> np.ndarray:
    """``fraction * time_s``, with 0 for a zero fraction even on a closed direction (``inf``)."""
    with np.errstate(invalid="ignore"):
        return np.where(fraction == 0, 0.0, fraction * time_s)


def _access(snap: SnapTable, network: RoadNetwork, *, outbound: bool) -> _Access:
    """Costs to (``outbound``: site → node) or from (employer: node → point) the end nodes.

    The straight connection leg (``dist_m``) is included in both ends' costs.
    """
    link = snap.link
    f = snap.frac
    length = network.link_length_m[link]
    t_fwd = network.link_time_fwd_s[link]
    t_bwd = network.link_time_bwd_s[link]
    leg_time = snap.dist_m / (network.link_speed_kmh[link] / 3.6)
    if outbound:
        # site at f: to v runs forward (1 - f), to u runs backward (f)
        time_v, time_u = _part(1.0 - f, t_fwd), _part(f, t_bwd)
    else:
        # employer at f: from u runs forward (f), from v runs backward (1 - f)
        time_u, time_v = _part(f, t_fwd), _part(1.0 - f, t_bwd)
    return _Access(
        snap=snap,
        u=network.link_u[link].astype(np.int64),
        v=network.link_v[link].astype(np.int64),
        time_u_s=time_u + leg_time,
        len_u_m=f * length + snap.dist_m,
        time_v_s=time_v + leg_time,
        len_v_m=(1.0 - f) * length + snap.dist_m,
        leg_time_s=leg_time,
    )


def _same_link_pairs(site: _Access, emp: _Access, network: RoadNetwork):
    """Direct trips along one link for site/employer connections on the same link.

    Returns ``(site_row, employer_item, time_s, length_m)`` for every pair whose
    direct run is open to the mode.
    """
    e_order = np.argsort(emp.snap.link, kind="stable")
    e_links = emp.snap.link[e_order]
    start = np.searchsorted(e_links, site.snap.link, side="left")
    stop = np.searchsorted(e_links, site.snap.link, side="right")
    counts = stop - start
    if counts.sum() == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0), np.zeros(0)
    s_row = np.repeat(np.arange(site.snap.item.shape[0]), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    e_row = e_order[np.repeat(start, counts) + offsets]
    link = site.snap.link[s_row]
    fs, fe = site.snap.frac[s_row], emp.snap.frac[e_row]
    forward = fe >= fs
    t_dir = np.where(forward, network.link_time_fwd_s[link], network.link_time_bwd_s[link])
    span = np.abs(fe - fs)
    time = _part(span, t_dir) + site.leg_time_s[s_row] + emp.leg_time_s[e_row]
    length = span * network.link_length_m[link] + site.snap.dist_m[s_row] + emp.snap.dist_m[e_row]
    ok = np.isfinite(time)
    return s_row[ok], emp.snap.item[e_row][ok], time[ok], length[ok]


# ---------------------------------------------------------------------------
# Graph with employers as extra nodes
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _ReverseGraph:
    """The reversed network plus one node per employer (index ``n_nodes + employer``)."""

    time: csr_matrix
    arc_key: np.ndarray  # sorted tail * n_total + head, of the reversed arcs
    arc_len: np.ndarray
    n_nodes: int
    n_total: int


def _reverse_graph(network: RoadNetwork, emp: _Access, n_employers: int) -> _ReverseGraph:
    # reversed network arcs (head -> tail), sorted once per network; they are unique per node pair
    b_tail, b_head, b_len, b_time = network.reversed_arcs
    n = network.n_nodes
    n_total = n + n_employers
    # employer node -> end node (the reverse of node -> employer); these sort after all network arcs
    vnode = n + emp.snap.item
    e_tail = np.concatenate([vnode, vnode])
    e_head = np.concatenate([emp.u, emp.v])
    e_len = np.concatenate([emp.len_u_m, emp.len_v_m])
    e_time = np.concatenate([emp.time_u_s, emp.time_v_s])
    ok = np.isfinite(e_time)
    e_tail, e_head, e_len, e_time = e_tail[ok], e_head[ok], e_len[ok], e_time[ok]
    order = np.lexsort((e_len, e_time, e_head, e_tail))
    e_tail, e_head, e_len, e_time = e_tail[order], e_head[order], e_len[order], e_time[order]
    first = np.ones(e_tail.shape[0], dtype=bool)
    first[1:] = (e_tail[1:] != e_tail[:-1]) | (e_head[1:] != e_head[:-1])
    e_tail, e_head, e_len, e_time = e_tail[first], e_head[first], e_len[first], e_time[first]
    r_tail = np.concatenate([b_tail, e_tail])
    r_head = np.concatenate([b_head, e_head])
    r_len = np.concatenate([b_len, e_len])
    r_time = np.concatenate([b_time, e_time])
    key = r_tail * n_total + r_head
    indptr = np.zeros(n_total + 1, dtype=np.int64)
    np.cumsum(np.bincount(r_tail, minlength=n_total), out=indptr[1:])
    # built from CSR arrays directly: rows and columns are sorted, explicit zeros stay edges
    matrix = csr_matrix((r_time, r_head, indptr), shape=(n_total, n_total))
    matrix.has_sorted_indices = True
    return _ReverseGraph(matrix, key, r_len, n, n_total)


def _tree_lengths(pred: np.ndarray, graph: _ReverseGraph) -> np.ndarray:
    """Length in metres from each node to its tree root along a predecessor array.

    ``pred`` may be 2-D (one row per source); roots and unreached nodes have
    a negative predecessor. Vectorised pointer jumping: ``log2(depth)`` passes.
    """
    shape = pred.shape
    n_total = graph.n_total
    pred2 = pred.reshape(-1, n_total)
    flat_pred = pred2.reshape(-1).astype(np.int64)
    has = flat_pred >= 0
    idx = np.flatnonzero(has)
    local = idx % n_total
    step = np.zeros(flat_pred.shape[0])
    pos = np.searchsorted(graph.arc_key, flat_pred[idx] * n_total + local)
    step[idx] = graph.arc_len[pos]
    parent = np.full(flat_pred.shape[0], -1, dtype=np.int64)
    parent[idx] = flat_pred[idx] + (idx // n_total) * n_total
    acc = step
    active = idx
    while active.shape[0]:
        p = parent[active]
        new_acc = acc[active] + acc[p]
        new_parent = parent[p]
        acc[active] = new_acc
        parent[active] = new_parent
        active = active[new_parent >= 0]
    return acc.reshape(shape)


# ---------------------------------------------------------------------------
# Public building blocks (used by travel_to_employers and the benchmark)
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class EmployerSide:
    """What travel derives from the employers and the network alone, built once per run.

    Built by :func:`prepare_employers`; a run in blocks of sites reuses it for every block
    (:func:`travel_to_employers` keeps it beside the employers frame with
    :func:`analysis.derived.derived`). The routing results that depend on nothing else (the
    shortest-path tree from all employers, the employers within a time limit of every node) are
    computed on first use and kept in ``memo``.

    Attributes
    ----------
    network
        The road network.
    dist_m
        Straight-line distance of each employer to the network (``inf``: no usable road).
    ok
        Within ``max_snap_m`` of the network (only these take part).
    access
        Connection costs from the end nodes of the snapped links.
    graph
        Reversed network plus one node per employer (index ``n_nodes + employer``).
    """

    network: RoadNetwork
    dist_m: np.ndarray
    ok: np.ndarray
    access: _Access
    graph: _ReverseGraph
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def sources(self) -> np.ndarray:
        """Graph node of every employer that takes part (Dijkstra sources on the reversed graph)."""
        return self.graph.n_nodes + np.flatnonzero(self.ok)


def prepare_employers(
    employer_geometries: np.ndarray, network: RoadNetwork, *, max_snap_m: float = 1000.0
) -> EmployerSide:
    """Snap the employers to the network and build the reversed routing graph."""
    n_emp = len(employer_geometries)
    emp_snap = snap_to_network(employer_geometries, network)
    emp_dist = np.full(n_emp, np.inf)
    np.minimum.at(emp_dist, emp_snap.item, emp_snap.dist_m)
    emp_ok = emp_dist <= max_snap_m
    emp_acc = _access(emp_snap.take(emp_ok[emp_snap.item]), network, outbound=False)
    graph = _reverse_graph(network, emp_acc, n_emp)
    return EmployerSide(network, emp_dist, emp_ok, emp_acc, graph)


@dataclass(frozen=True)
class TravelProblem:
    """Sites and employers connected to the network, with the reversed routing graph.

    Built by :func:`prepare_travel`; :func:`nearest_employers` and
    :func:`count_employers_within` route on it.

    Attributes
    ----------
    network
        The road network.
    site_dist_m, employer_dist_m
        Straight-line distance of each site / employer to the network (``inf``: no usable road).
    site_ok, employer_ok
        Within ``max_snap_m`` of the network (only these take part).
    sites, employers
        Connection costs to and from the end nodes of the snapped links.
    graph
        Reversed network plus one node per employer (index ``n_nodes + employer``).
    pairs
        Direct runs along a link shared by a site and an employer:
        ``(site_row, employer, time_s, length_m)``.
    side
        The employer side the problem was built on (shared by every block of a run).
    """

    network: RoadNetwork
    site_dist_m: np.ndarray
    employer_dist_m: np.ndarray
    site_ok: np.ndarray
    employer_ok: np.ndarray
    sites: _Access
    employers: _Access
    graph: _ReverseGraph
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    side: EmployerSide

    @property
    def n_sites(self) -> int:
        return int(self.site_dist_m.shape[0])

    @property
    def sources(self) -> np.ndarray:
        """Graph node of every employer that takes part (Dijkstra sources on the reversed graph)."""
        return self.side.sources

    def reversed_arcs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Arcs ``(tail, head, time_s)`` of the reversed graph (e.g. to build a networkx graph)."""
        coo = self.graph.time.tocoo()
        return coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data

    def site_times(self, node_time_s: np.ndarray) -> np.ndarray:
        """Fastest time per site, given every graph node's time to its nearest employer.

        Combines the connection of each site to the end nodes of its link with
        the direct runs along a shared link; ``inf`` where nothing is reached.
        """
        acc = self.sites
        t = np.minimum(acc.time_u_s + node_time_s[acc.u], acc.time_v_s + node_time_s[acc.v])
        best = np.full(self.n_sites, np.inf)
        np.minimum.at(best, acc.snap.item, t)
        s_row, _, p_time, _ = self.pairs
        np.minimum.at(best, acc.snap.item[s_row], p_time)
        return best


def prepare_travel(
    site_geometries: np.ndarray,
    employer_geometries: np.ndarray | None,
    network: RoadNetwork,
    *,
    max_snap_m: float = 1000.0,
    employer_side: EmployerSide | None = None,
    site_snap: SnapTable | None = None,
) -> TravelProblem:
    """Snap sites and employers to the network and build the reversed routing graph.

    With ``employer_side`` (from :func:`prepare_employers` with the same network and
    ``max_snap_m``) only the sites are snapped and ``employer_geometries`` is not used. With
    ``site_snap`` (``snap_to_network(site_geometries, network)``, e.g. shared by several
    problems on the same sites) the sites are not snapped again.
    """
    side = (
        prepare_employers(employer_geometries, network, max_snap_m=max_snap_m)
        if employer_side is None
        else employer_side
    )
    n_sites = len(site_geometries)
    if site_snap is None:
        site_snap = snap_to_network(site_geometries, network)
    site_dist = np.full(n_sites, np.inf)
    np.minimum.at(site_dist, site_snap.item, site_snap.dist_m)
    site_ok = site_dist <= max_snap_m
    site_acc = _access(site_snap.take(site_ok[site_snap.item]), network, outbound=True)
    pairs = _same_link_pairs(site_acc, side.access, network)
    return TravelProblem(
        network,
        site_dist,
        side.dist_m,
        site_ok,
        side.ok,
        site_acc,
        side.access,
        side.graph,
        pairs,
        side,
    )


def _employer_tree(side: EmployerSide) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per graph node: time to the fastest employer, length of that route and the employer's
    graph node (one multi-source Dijkstra on the reversed graph, computed once per side)."""
    with _SIDE_LOCK:
        memo = side.memo.get("tree")
        if memo is None:
            graph = side.graph
            dist, pred, src = csgraph.dijkstra(
                graph.time,
                directed=True,
                indices=side.sources,
                min_only=True,
                return_predecessors=True,
            )
            memo = side.memo["tree"] = (dist, _tree_lengths(pred, graph), src)
        return memo


def nearest_employers(problem: TravelProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fastest employer per site: ``(time_s, length_m, employer)``; ``inf``/NaN/-1 when none is
    reached.

    One multi-source Dijkstra from all employers on the reversed graph
    (``min_only=True``, once per employer side); route lengths are summed along the
    shortest-path tree.
    """
    n_sites = problem.n_sites
    best_time = np.full(n_sites, np.inf)
    best_len = np.full(n_sites, np.nan)
    best_emp = np.full(n_sites, -1, dtype=np.int64)
    sources = problem.sources
    if sources.shape[0] == 0:
        return best_time, best_len, best_emp
    graph, site_acc = problem.graph, problem.sites
    dist, tree_len, src = _employer_tree(problem.side)
    t_u = site_acc.time_u_s + dist[site_acc.u]
    t_v = site_acc.time_v_s + dist[site_acc.v]
    via_v = t_v < t_u
    t_row = np.where(via_v, t_v, t_u)
    node = np.where(via_v, site_acc.v, site_acc.u)
    l_row = np.where(via_v, site_acc.len_v_m + tree_len[node], site_acc.len_u_m + tree_len[node])
    e_row = src[node].astype(np.int64) - graph.n_nodes
    _take_best(site_acc.snap.item, t_row, l_row, e_row, best_time, best_len, best_emp)
    s_row, p_emp, p_time, p_len = problem.pairs
    _take_best(site_acc.snap.item[s_row], p_time, p_len, p_emp, best_time, best_len, best_emp)
    return best_time, best_len, best_emp


def count_employers_within(
    problem: TravelProblem,
    max_minutes: float,
    *,
    progress: Callable[[float, str], None] | None = None,
) -> np.ndarray:
    """Number of employers each site reaches within ``max_minutes`` (see :func:`_count_within`).

    The employer side of the count (:func:`_employer_reach`) is computed once per employer side
    and limit; per call only the sites are looked up.
    """
    count = np.zeros(problem.n_sites, dtype=np.int64)
    if problem.sources.shape[0] and problem.sites.snap.item.shape[0]:
        report = progress if progress is not None else (lambda fraction, message: None)
        limit = float(max_minutes) * 60.0 * (1 + _TIME_TOLERANCE)
        reach = _employer_reach(problem.side, limit, report)
        sites, pairs = problem.sites, problem.pairs
        threads = min(_COUNT_THREADS, os.cpu_count() or 1, problem.n_sites // _COUNT_THREAD_MIN)
        if threads < 2:
            _count_within(reach, problem.graph, sites, pairs, limit, count)
            return count
        # Sites in contiguous parts counted side by side (numpy releases the GIL): a site's
        # rows and direct runs all fall in one part, and the parts add to disjoint entries.
        cut = np.searchsorted(
            sites.snap.item, np.linspace(0, problem.n_sites, threads + 1)[1:-1].astype(np.int64)
        )
        bounds = np.r_[0, cut, sites.snap.item.shape[0]]
        s_row = pairs[0]

        def count_part(k: int) -> None:
            lo, hi = int(bounds[k]), int(bounds[k + 1])
            in_part = (s_row >= lo) & (s_row < hi)
            part_pairs = (s_row[in_part] - lo, *(a[in_part] for a in pairs[1:]))
            _count_within(reach, problem.graph, sites.rows(lo, hi), part_pairs, limit, count)

        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(count_part, range(threads)))
    return count


# ---------------------------------------------------------------------------
# Main entry
# ---------------------------------------------------------------------------


def _check_inputs(sites, employers, own_employer, max_minutes, max_snap_m) -> None:
    problems = []
    for label, frame in (("[lagen.locaties]", sites), ("[lagen.werkgevers]", employers)):
        crs = getattr(frame, "crs", None)
        if crs is not None and crs.to_epsg() != 28992:
            problems.append(
                f"{label} staat in {crs.to_string()}, het wegennet in EPSG:28992 (RD New). "
                "Zet de laag eerst om naar EPSG:28992."
            )
    if "naam" not in employers.columns:
        problems.append(
            "[lagen.werkgevers] heeft geen kolom 'naam'. Geef met naam_veld aan welke kolom de naam"
            " van de werkgever bevat."
        )
    else:
        names = employers["naam"]
        dup = names[names.duplicated()].astype(str).unique().tolist()
        if dup:
            problems.append(
                "[lagen.werkgevers] veld 'naam' is niet uniek:"
                f" {', '.join(repr(d) for d in dup[:10])}{' en meer' if len(dup) > 10 else ''}."
                " Geef elke werkgever een eigen naam."
            )
        if names.isna().any():
            problems.append(
                f"[lagen.werkgevers] veld 'naam' is leeg bij {int(names.isna().sum())}"
                " werkgever(s). Vul de namen aan."
            )
    if len(employers) == 0:
        problems.append(
            "[lagen.werkgevers] bevat geen werkgevers. Geef een laag met minstens één werkgever"
            " (punt of vlak)."
        )
    if not (np.isfinite(max_minutes) and max_minutes > 0):
        problems.append(
            f"De maximale reistijd moet een positief aantal minuten zijn, niet {max_minutes!r}."
        )
    if not (np.isfinite(max_snap_m) and max_snap_m >= 0):
        problems.append(
            f"De maximale aansluitafstand moet een getal van 0 m of meer zijn, niet {max_snap_m!r}."
        )
    if own_employer is not None and not own_employer.index.equals(sites.index):
        problems.append(
            "De eigen werkgever per locatie hoort dezelfde index te hebben als de locaties."
        )
    if problems:
        raise InputError(problems)
    if own_employer is not None and "naam" in employers.columns:
        given = own_employer.dropna()
        given = given[given.astype(str).str.strip() != ""]
        unknown = sorted(set(given.astype(str)) - set(employers["naam"].astype(str)))
        if unknown:
            shown = ", ".join(f"'{u}'" for u in unknown[:10])
            more = f" (en {len(unknown) - 10} meer)" if len(unknown) > 10 else ""
            raise InputError(
                f"[lagen.locaties] veld werkgever_veld noemt {len(unknown)} werkgever(s) die niet"
                f" in [lagen.werkgevers] staan: {shown}{more}. Schrijf de naam precies zoals in de"
                " werkgeverslaag (kolom naam_veld), of voeg de werkgever toe aan die laag."
            )


def employer_side(
    employers: gpd.GeoDataFrame, network: RoadNetwork, *, max_snap_m: float
) -> EmployerSide:
    """:func:`prepare_employers` for ``employers`` on ``network``, built once per run.

    Kept beside the employers frame (:func:`analysis.derived.derived`), per network: every
    block of a run gets the same side, with its routing results computed once. A different
    frame or network (or ``max_snap_m``) gets its own side.
    """
    with _SIDE_LOCK:
        per_network = derived(employers, ("travel.employer_side", float(max_snap_m)), dict)
        entry = per_network.get(id(network))
        if entry is not None and entry[0]() is network:
            return entry[1]
        side = prepare_employers(
            np.asarray(employers.geometry.values), network, max_snap_m=float(max_snap_m)
        )
        per_network[id(network)] = (weakref.ref(network), side)
        return side


def warm_up(
    employers: gpd.GeoDataFrame,
    network: RoadNetwork,
    *,
    max_snap_m: float,
    max_minutes: float | None = None,
    polygons: bool = False,
) -> None:
    """Build ahead what :func:`travel_to_employers` derives once per run, e.g. in a thread while
    the runner reads the sites: the employer side (:func:`employer_side`), the network's k-d
    snapping index, the shortest-path tree from all employers, with ``max_minutes`` (the run's
    travel-time limit) the employers within that limit of every node, and with ``polygons``
    (the sites may include polygons) the polygons' STRtree (it holds every link as a GEOS
    geometry: not built for sites that are all points).

    A block that needs one of them while it is being built waits for it, and gets the same
    object it would have built itself: the results do not change. Errors are left to the
    travel step, which builds (and reports) the same.
    """
    try:
        side = employer_side(employers, network, max_snap_m=max_snap_m)
        network.snap_segments, network.link_geometry_length_m
        if side.sources.shape[0] == 0:
            return
        _employer_tree(side)
        if max_minutes is not None and np.isfinite(max_minutes) and max_minutes > 0:
            limit = float(max_minutes) * 60.0 * (1 + _TIME_TOLERANCE)
            _employer_reach(side, limit, lambda fraction, message: None)
        if polygons:
            network.snap_tree
    except Exception:  # the travel step repeats the work and reports the problem
        logger.debug("reistijden vooraf voorbereiden mislukt", exc_info=True)


def travel_to_employers(
    sites: gpd.GeoSeries,
    employers: gpd.GeoDataFrame,
    network: RoadNetwork,
    *,
    max_minutes: float,
    max_snap_m: float = 1000.0,
    own_employer: pd.Series | None = None,
    progress: Callable[[float, str], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> pd.DataFrame:
    """Travel distance and time over the road network from every site to employers.

    Parameters
    ----------
    sites
        Site points and/or polygons in EPSG:28992, no empty geometries.
    employers
        Employers in EPSG:28992 with a unique text column ``naam``; points or
        polygons (business parks, reached at their nearest network point).
    network
        The road network for one mode (see ``layers.io.network.load_network``).
    max_minutes
        Travel-time threshold in minutes for ``werkgevers_bereikbaar``.
    max_snap_m
        A site or employer farther than this (metres, straight line) from the
        nearest usable road is not connected to the network.
    own_employer
        Per site (aligned with ``sites.index``) the name of its own employer
        (a ``naam`` from ``employers``), or None/NaN.
    progress
        Called with (fraction 0–1, Dutch message).
    is_cancelled
        Polled between steps; when it returns True, :class:`CancelledError` is raised.

    Returns
    -------
    pandas.DataFrame
        Index ``sites.index``; columns :data:`RESULT_COLUMNS`:
        ``werkgever`` (fastest employer over the network), ``werkgever_afstand_m``
        (length of that route incl. both connection legs), ``werkgever_reistijd_min``,
        ``werkgevers_bereikbaar`` (employers within ``max_minutes``),
        ``aansluitafstand_m`` (site to network, straight line), ``eigen_werkgever``,
        ``eigen_werkgever_afstand_m``, ``eigen_werkgever_reistijd_min``,
        ``reis_onbereikbaar`` and ``reis_onbereikbaar_reden`` (Dutch, ``""`` when reachable).
        ``reis_onbereikbaar`` is about the nearest employer only: True when the site
        lies more than ``max_snap_m`` from the network or no employer can be reached
        from its part of the network. The own-employer fields are NaN when there is
        no own employer or it cannot be reached; that does not set ``reis_onbereikbaar``.

    Raises
    ------
    InputError
        Wrong CRS, missing/duplicate employer names, an own employer that is not
        in ``employers``, or an empty employers layer.
    """
    _check_inputs(sites, employers, own_employer, float(max_minutes), float(max_snap_m))

    def report(fraction: float, message: str) -> None:
        if is_cancelled is not None and is_cancelled():
            raise CancelledError("De berekening van de reistijden is afgebroken.")
        if progress is not None:
            progress(fraction, message)

    n_sites = len(sites)
    n_emp = len(employers)
    names = employers["naam"].astype(str).to_numpy(dtype=object)

    report(0.0, "locaties en werkgevers aansluiten op het wegennet")
    problem = prepare_travel(
        np.asarray(sites.geometry.values if hasattr(sites, "geometry") else sites),
        None,
        network,
        max_snap_m=max_snap_m,
        employer_side=employer_side(employers, network, max_snap_m=max_snap_m),
    )
    site_dist, emp_ok, site_ok = problem.site_dist_m, problem.employer_ok, problem.site_ok
    site_acc, graph, pairs = problem.sites, problem.graph, problem.pairs
    if (~emp_ok).any():
        logger.warning(
            "%s van %s werkgevers liggen meer dan %s m van het wegennet en tellen niet mee",
            nl_number(int((~emp_ok).sum())),
            nl_number(n_emp),
            nl_number(max_snap_m),
        )
    logger.info(
        "aan het wegennet gekoppeld: %s locaties (%s binnen %s m) en %s werkgevers (%s binnen)",
        nl_number(n_sites),
        nl_number(int(site_ok.sum())),
        nl_number(max_snap_m),
        nl_number(n_emp),
        nl_number(int(emp_ok.sum())),
    )

    report(0.2, "kortste routes naar de dichtstbijzijnde werkgever")
    best_time, best_len, best_emp = nearest_employers(problem)

    report(0.4, "werkgevers binnen de maximale reistijd tellen")
    count = count_employers_within(problem, max_minutes, progress=report)

    own_name = np.full(n_sites, None, dtype=object)
    own_time = np.full(n_sites, np.nan)
    own_len = np.full(n_sites, np.nan)
    if own_employer is not None:
        report(0.8, "routes naar de eigen werkgever")
        given = own_employer.to_numpy(dtype=object)
        valid = pd.notna(given) & (pd.Series(given).astype(str).str.strip() != "").to_numpy()
        own_name[valid] = pd.Series(given[valid]).astype(str).to_numpy(dtype=object)
        lookup = {name: i for i, name in enumerate(names)}
        own_idx = np.full(n_sites, -1, dtype=np.int64)
        own_idx[valid] = [lookup[str(g)] for g in given[valid]]
        own_idx[valid & ~emp_ok[np.maximum(own_idx, 0)]] = -1
        _own_routes(graph, network, site_acc, pairs, own_idx, own_time, own_len)

    report(0.95, "resultaat samenstellen")
    reachable = np.isfinite(best_time)
    reason = np.full(n_sites, "", dtype=object)
    too_far = ~site_ok
    if too_far.any():
        reason[too_far] = [
            f"ligt {nl_number(d)} m van het dichtstbijzijnde wegvak (meer dan"
            f" {nl_number(max_snap_m)} m)"
            for d in site_dist[too_far]
        ]
    isolated = site_ok & ~reachable
    if isolated.any():
        text = (
            "geen werkgever bereikbaar vanaf dit deel van het wegennet (los netdeel)"
            if emp_ok.any()
            else f"geen enkele werkgever ligt binnen {nl_number(max_snap_m)} m van het wegennet"
        )
        reason[isolated] = text
    werkgever = np.full(n_sites, None, dtype=object)
    werkgever[reachable] = names[best_emp[reachable]]
    out = pd.DataFrame(
        {
            "werkgever": pd.Series(werkgever, dtype=object),
            "werkgever_afstand_m": np.where(reachable, best_len, np.nan),
            "werkgever_reistijd_min": np.where(reachable, best_time / 60.0, np.nan),
            "werkgevers_bereikbaar": count,
            "aansluitafstand_m": site_dist,
            "eigen_werkgever": pd.Series(own_name, dtype=object),
            "eigen_werkgever_afstand_m": own_len,
            "eigen_werkgever_reistijd_min": own_time / 60.0,
            "reis_onbereikbaar": ~reachable,
            "reis_onbereikbaar_reden": pd.Series(reason, dtype=object),
        }
    )
    out.index = sites.index
    logger.info(
        "reisafstand (%s): %s locaties bereiken een werkgever, "
        "%s niet (%s te ver van het wegennet)",
        network.mode,
        nl_number(int(reachable.sum())),
        nl_number(int((~reachable).sum())),
        nl_number(int(too_far.sum())),
    )
    report(1.0, "reistijden berekend")
    return out


def _take_best(item, time, length, emp, best_time, best_len, best_emp) -> None:
    """Per item keep the fastest (time, length, employer) row, updating the ``best_*`` arrays."""
    if item.shape[0] == 0:
        return
    step = np.diff(item)
    if not bool(np.all(step > 0)):  # several rows per item: reduce them first (ties by length)
        if bool(np.all(step >= 0)):  # sorted by item (the snap tables are): sort only the groups
            multi = np.zeros(item.shape[0], dtype=bool)
            multi[1:] |= step == 0
            multi[:-1] |= step == 0
        else:
            multi = np.ones(item.shape[0], dtype=bool)
        rows = np.flatnonzero(multi)
        order = rows[np.lexsort((length[rows], time[rows], item[rows]))]
        first = np.ones(order.shape[0], dtype=bool)
        first[1:] = item[order][1:] != item[order][:-1]
        keep = np.concatenate([np.flatnonzero(~multi), order[first]])
        item, time, length, emp = item[keep], time[keep], length[keep], emp[keep]
    better = np.isfinite(time) & (time < best_time[item])
    item = item[better]
    best_time[item] = time[better]
    best_len[item] = length[better]
    best_emp[item] = emp[better]


def _bisect(lo: np.ndarray, hi: np.ndarray, before: Callable) -> np.ndarray:
    """Vectorised binary search: per query ``i`` the first position ``p`` in ``[lo[i], hi[i])``
    where ``before(p, i)`` is False (``before`` must be True then False along each range).

    Binary lifting, branch-free: for every power of two below the widest range, from the
    largest, each query moves its start ``step`` on when the position ``start + step - 1`` is
    still in its range and ``before`` holds there (an empty range stays put). A step is a few
    whole-array operations; the queries go in parts of :data:`_BISECT_PART`, so the rows one
    part visits stay in the CPU cache over its steps. ``before`` is called with ``i`` a slice
    of the queries (one part) and positions clamped into the data (those of empty ranges are
    not used).
    """
    lo = np.array(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    steps = int((hi - lo).max(initial=0)).bit_length()
    if steps == 0:
        return lo
    last = hi - 1
    for start in range(0, lo.shape[0], _BISECT_PART):
        part = slice(start, start + _BISECT_PART)
        at, end, clamp = lo[part], hi[part], last[part]  # views: ``at`` moves ``lo`` in place
        for power in range(steps - 1, -1, -1):
            step = 1 << power
            probe = at + (step - 1)
            go = probe < end
            np.minimum(probe, clamp, out=probe)
            go &= before(probe, part)
            np.add(at, step, out=at, where=go)
    return lo


@dataclass(frozen=True)
class _Reach:
    """The employers within a time limit of every node, from the time-limited Dijkstras.

    Two views of the same ``(node, employer, time)`` triples, both grouped by node (row ``k``
    is ``node_start[k]:node_start[k + 1]``): sorted by time within a row (``time_s``,
    ``employer``) and sorted by employer within a row (``pair_employer``, ``pair_time_s``).
    """

    node_start: np.ndarray
    time_s: np.ndarray
    employer: np.ndarray
    pair_employer: np.ndarray
    pair_time_s: np.ndarray
    n_employers: int

    def time_at(self, node: np.ndarray, employer: np.ndarray) -> np.ndarray:
        """Time from ``node`` to ``employer`` (``inf`` when beyond the limit), element-wise."""
        out = np.full(node.shape[0], np.inf)
        if node.shape[0] == 0:
            return out
        end = self.node_start[node + 1]
        emp = self.pair_employer
        pos = _bisect(self.node_start[node], end, lambda p, i: emp[p] < employer[i])
        found = pos < end
        found[found] &= emp[pos[found]] == employer[found]
        out[found] = self.pair_time_s[pos[found]]
        return out

    def prefix_end(self, node: np.ndarray, add_s: np.ndarray, limit: float) -> np.ndarray:
        """End of the run of row ``node`` with ``add_s + time_s <= limit`` (floating point, as
        evaluated), as a position in :attr:`time_s`."""
        times = self.time_s
        return _bisect(
            self.node_start[node],
            self.node_start[node + 1],
            lambda p, i: add_s[i] + times[p] <= limit,
        )

    def search(self, node: np.ndarray, threshold_s: np.ndarray) -> np.ndarray:
        """End of the run of row ``node`` with ``time_s <= threshold_s``."""
        times = self.time_s
        return _bisect(
            self.node_start[node],
            self.node_start[node + 1],
            lambda p, i: times[p] <= threshold_s[i],
        )


def _employer_reach(side: EmployerSide, limit: float, report) -> _Reach:
    """The employers within ``limit`` seconds of every node, computed once per side and limit.

    One time-limited Dijkstra per employer on the reversed graph, but each on a small subgraph:
    a route of time ``t`` ending at an employer stays within ``t * max_crow_speed_ms`` metres
    (straight line) of one of the end nodes of the employer's link (see
    :attr:`RoadNetwork.max_crow_speed_ms`), so the nodes in a box that wide around a group of
    nearby employers hold every route within the limit, and times inside that box are exact for
    the nodes within the limit. Employers are grouped by grid cells of that width.
    """
    key = ("reach", limit)
    with _SIDE_LOCK:
        if key not in side.memo:
            side.memo[key] = _build_reach(side, limit, report)
        return side.memo[key]


def _build_reach(side: EmployerSide, limit: float, report) -> _Reach:
    """:func:`_employer_reach` without the memo."""
    graph, network, emp_acc = side.graph, side.network, side.access
    n = graph.n_nodes
    n_emp = graph.n_total - n
    e_item = emp_acc.snap.item
    nx_, ny_ = network.node_x, network.node_y
    eu, ev = emp_acc.u, emp_acc.v
    starts = np.flatnonzero(np.r_[True, e_item[1:] != e_item[:-1]])
    emp_ids = e_item[starts]
    x0 = np.minimum.reduceat(np.minimum(nx_[eu], nx_[ev]), starts)
    x1 = np.maximum.reduceat(np.maximum(nx_[eu], nx_[ev]), starts)
    y0 = np.minimum.reduceat(np.minimum(ny_[eu], ny_[ev]), starts)
    y1 = np.maximum.reduceat(np.maximum(ny_[eu], ny_[ev]), starts)
    radius = limit * network.max_crow_speed_ms * (1 + 1e-6) + 1e-3
    if np.isfinite(radius):
        cell = max(radius * _COUNT_CELL_FACTOR, 1.0)
        gx = np.floor(((x0 + x1) / 2 - nx_.min()) / cell).astype(np.int64)
        gy = np.floor(((y0 + y1) / 2 - ny_.min()) / cell).astype(np.int64)
        group_key = gx * (int(gy.max()) + 1) + gy
    else:
        group_key = np.zeros(emp_ids.shape[0], dtype=np.int64)
    order = np.argsort(group_key, kind="stable")
    group_starts = np.flatnonzero(np.r_[True, group_key[order][1:] != group_key[order][:-1]])
    groups = np.split(order, group_starts[1:])
    local = np.full(graph.n_total, -1, dtype=np.int64)
    nodes, emps, times = [], [], []
    done = 0
    for members in groups:
        if np.isfinite(radius):
            bx0, bx1 = x0[members].min() - radius, x1[members].max() + radius
            by0, by1 = y0[members].min() - radius, y1[members].max() + radius
            ball = np.flatnonzero((nx_ >= bx0) & (nx_ <= bx1) & (ny_ >= by0) & (ny_ <= by1))
        else:
            ball = np.arange(n)
        m = ball.shape[0]
        local[ball] = np.arange(m)
        # one subgraph per group: the group's employer nodes have no incoming arcs, so each
        # Dijkstra sees only the box and its own source
        group_emps = emp_ids[members]
        local[n + group_emps] = m + np.arange(group_emps.shape[0])
        sub = _subgraph(graph.time, np.concatenate([ball, n + group_emps]), local)
        local[n + group_emps] = -1
        chunk = max(1, min(256, _REACH_ELEMENTS // (m + group_emps.shape[0])))
        for start in range(0, group_emps.shape[0], chunk):
            b = min(chunk, group_emps.shape[0] - start)
            dist = csgraph.dijkstra(
                sub, directed=True, indices=m + start + np.arange(b), limit=limit
            )
            row, col = np.nonzero(np.isfinite(dist[:, :m]))
            nodes.append(ball[col].astype(np.int32))
            emps.append(group_emps[start + row].astype(np.int32))
            times.append(dist[row, col])
            done += b
            del dist
            report(
                0.4 + 0.4 * min(1.0, done / emp_ids.shape[0]),
                "werkgevers binnen de maximale reistijd tellen",
            )
        local[ball] = -1
    node = np.concatenate(nodes) if nodes else np.zeros(0, dtype=np.int64)
    emp = np.concatenate(emps) if emps else np.zeros(0, dtype=np.int64)
    time_s = np.concatenate(times) if times else np.zeros(0)
    del nodes, emps, times
    # grouped by node with employers ascending: counting sorts (COO -> CSR by employer -> CSC);
    # the data is the 1-based position of each triple, so no entry is an explicit zero
    by_node = csr_matrix(
        (np.arange(1, time_s.shape[0] + 1), (emp, node)), shape=(n_emp, n)
    ).tocsc()
    del node, emp
    by_node.sort_indices()
    node_start = by_node.indptr.astype(np.int64)
    pair_employer = by_node.indices.astype(np.int32)
    pair_time = time_s[by_node.data - 1]
    del by_node, time_s
    order = _order_rows_by_time(node_start, pair_time, limit)
    reach = _Reach(
        node_start=node_start,
        time_s=pair_time[order],
        employer=pair_employer[order],
        pair_employer=pair_employer,
        pair_time_s=pair_time,
        n_employers=n_emp,
    )
    return reach


def _order_rows_by_time(row_start: np.ndarray, time_s: np.ndarray, limit: float) -> np.ndarray:
    """Permutation sorting each row ``row_start[k]:row_start[k + 1]`` of ``time_s`` (times in
    ``[0, limit]``) by time, rows staying in place; ties in any order.

    The times are quantised to 31 bits and each row sorted by scipy's CSR ``sort_indices``
    (a sort per row in C). Times closer than the quantum may come out swapped; the rows where
    that happened are sorted exactly afterwards.
    """
    count = time_s.shape[0]
    if count == 0:
        return np.arange(0)
    top = 2**31 - 2
    scale = top / limit if limit > 0 else 0.0
    quantised = np.minimum(time_s * scale, float(top)).astype(np.int32)
    rows = csr_matrix(
        (np.arange(count), quantised, row_start), shape=(row_start.shape[0] - 1, top + 1)
    )
    rows.has_sorted_indices = False
    rows.sort_indices()
    order = rows.data
    sorted_time = time_s[order]
    row_of = np.repeat(np.arange(row_start.shape[0] - 1), np.diff(row_start))
    swapped = (sorted_time[1:] < sorted_time[:-1]) & (row_of[1:] == row_of[:-1])
    if swapped.any():
        at = np.flatnonzero(np.isin(row_of, np.unique(row_of[1:][swapped])))  # whole rows
        order[at] = order[at][np.lexsort((sorted_time[at], row_of[at]))]
    return order


# Margin (seconds) below which an employer reached via one end node surely is via the other too.
_SURE_MARGIN_S = 2e-6


def _count_within(reach: _Reach, graph, site_acc: _Access, pairs, limit, count) -> None:
    """Add to ``count`` the employers each site reaches within ``limit`` seconds.

    A site reaches an employer when ``time_to_node + time(node, employer) <= limit`` for an end
    node of one of its connections, or by a direct run along a shared link. Per connection the
    employers via ``u`` (A) and via ``v`` (B) are each a prefix of the node's row sorted by time;
    ``|A ∪ B| = |A| + |B| - |A ∩ B|``, where an employer of A that reaches ``u`` well within
    ``limit - time_to_v - time(v, u)`` surely reaches ``v`` within the limit too (Dijkstra: the
    time at ``v`` is at most the time at ``u`` plus the arc ``v → u``); only the rest of A is
    looked up at ``v``. Sites with several connections (polygons, ties) take the union
    explicitly.
    """
    s_item = site_acc.snap.item
    n_rows = s_item.shape[0]
    if n_rows == 0:
        return
    n_emp = reach.n_employers
    head = np.r_[True, s_item[1:] != s_item[:-1]]
    group = np.cumsum(head) - 1
    per_site = np.bincount(group)
    single = per_site[group] == 1
    u, v = site_acc.u, site_acc.v
    tu, tv = site_acc.time_u_s, site_acc.time_v_s
    ends = reach.prefix_end(np.concatenate([u, v]), np.concatenate([tu, tv]), limit)
    a_end, b_end = ends[:n_rows], ends[n_rows:]
    start = reach.node_start

    # one connection per site: |A| + |B| - |A ∩ B|
    sel = np.flatnonzero(single)
    if sel.shape[0]:
        su, sv, stv = u[sel], v[sel], tv[sel]
        a0, a1, b1 = start[su], a_end[sel], b_end[sel]
        arc_vu = _arc_time(graph, su, sv)  # reversed arc u -> v is the road v -> u
        sure_thr = limit - stv - arc_vu - (_SURE_MARGIN_S + _TIME_TOLERANCE * limit)
        sure_end = np.clip(reach.search(su, sure_thr), a0, a1)
        width = a1 - sure_end
        rows = np.repeat(np.arange(sel.shape[0]), width)
        pos = np.repeat(sure_end - np.cumsum(width) + width, width) + np.arange(int(width.sum()))
        at_v = reach.time_at(sv[rows], reach.employer[pos])
        in_b = stv[rows] + at_v <= limit
        both = (sure_end - a0) + np.bincount(rows[in_b], minlength=sel.shape[0])
        count[s_item[sel]] += (a1 - a0) + (b1 - start[sv]) - both

    # several connections: the union of the employers reached, per site (a table of flags)
    sel = np.flatnonzero(~single)
    if sel.shape[0]:
        sites = np.unique(s_item[sel])
        per_chunk = max(1, _BLOCK_ELEMENTS // max(n_emp, 1))
        for lo in range(0, sites.shape[0], per_chunk):
            chunk = sites[lo : lo + per_chunk]
            rows_lo = np.searchsorted(s_item, chunk[0], side="left")
            rows_hi = np.searchsorted(s_item, chunk[-1], side="right")
            rows_c = sel[(sel >= rows_lo) & (sel < rows_hi)]
            flags = np.zeros((chunk.shape[0], n_emp), dtype=bool)
            row_of = np.zeros(int(chunk[-1]) + 1, dtype=np.int64)
            row_of[chunk] = np.arange(chunk.shape[0])
            for node, end in ((u[rows_c], a_end[rows_c]), (v[rows_c], b_end[rows_c])):
                first = start[node]
                width = end - first
                at = np.repeat(rows_c, width)
                pos = np.repeat(first - np.cumsum(width) + width, width) + np.arange(
                    int(width.sum())
                )
                flags[row_of[s_item[at]], reach.employer[pos]] = True
            count[chunk] += flags.sum(axis=1)

    # direct runs along a shared link within the limit, unless reached via a node already
    s_row, p_emp, p_time, _ = pairs
    ok = p_time <= limit
    if ok.any():
        pair_key = np.unique(s_item[s_row[ok]] * n_emp + p_emp[ok])
        p_site, p_emp = pair_key // n_emp, pair_key % n_emp
        lo = np.searchsorted(s_item, p_site, side="left")
        width = np.searchsorted(s_item, p_site, side="right") - lo
        which = np.repeat(np.arange(p_site.shape[0]), width)
        rows = np.repeat(lo - np.cumsum(width) + width, width) + np.arange(int(width.sum()))
        e = p_emp[which]
        within = (tu[rows] + reach.time_at(u[rows], e) <= limit) | (
            tv[rows] + reach.time_at(v[rows], e) <= limit
        )
        via = np.zeros(p_site.shape[0], dtype=bool)
        np.logical_or.at(via, which, within)
        np.add.at(count, p_site[~via], 1)


def _arc_time(graph, tail: np.ndarray, head: np.ndarray) -> np.ndarray:
    """Time of the arc ``tail -> head`` of the reversed graph (``inf`` when there is none)."""
    indptr, indices = graph.time.indptr, graph.time.indices
    end = indptr[tail + 1]
    pos = _bisect(indptr[tail], end, lambda p, i: indices[p] < head[i])
    found = pos < end
    found[found] &= indices[pos[found]] == head[found]
    out = np.full(tail.shape[0], np.inf)
    out[found] = graph.time.data[pos[found]]
    return out


def _subgraph(matrix: csr_matrix, idx: np.ndarray, local: np.ndarray) -> csr_matrix:
    """The rows and columns ``idx`` of a CSR matrix (``local`` maps node -> position or -1).

    Built directly from the CSR arrays so explicit zeros (zero-time arcs) stay edges.
    """
    indptr = matrix.indptr
    lo, hi = indptr[idx], indptr[idx + 1]
    per_row = hi - lo
    pos = np.repeat(lo - np.cumsum(per_row) + per_row, per_row) + np.arange(int(per_row.sum()))
    cols = local[matrix.indices[pos]]
    keep = cols >= 0
    row = np.repeat(np.arange(idx.shape[0]), per_row)[keep]
    new_ptr = np.zeros(idx.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=idx.shape[0]), out=new_ptr[1:])
    return csr_matrix(
        (matrix.data[pos][keep], cols[keep], new_ptr), shape=(idx.shape[0], idx.shape[0])
    )


def _own_routes(graph, network, site_acc: _Access, pairs, own_idx, own_time, own_len) -> None:
    """Fastest route from each site to its own employer: one Dijkstra per distinct employer."""
    entry_site = site_acc.snap.item
    entry_emp = own_idx[entry_site]
    wanted = np.unique(entry_emp[entry_emp >= 0])
    if wanted.shape[0] == 0:
        return
    chunk = max(1, min(256, _BLOCK_ELEMENTS // graph.n_total))
    for start in range(0, wanted.shape[0], chunk):
        block = wanted[start : start + chunk]
        dist, pred = csgraph.dijkstra(
            graph.time, directed=True, indices=graph.n_nodes + block, return_predecessors=True
        )
        tree_len = _tree_lengths(pred, graph)
        row_of = np.full(graph.n_total - graph.n_nodes, -1, dtype=np.int64)
        row_of[block] = np.arange(block.shape[0])
        sel = np.flatnonzero((entry_emp >= 0) & (row_of[np.maximum(entry_emp, 0)] >= 0))
        rows = row_of[entry_emp[sel]]
        u, v = site_acc.u[sel], site_acc.v[sel]
        t_u = site_acc.time_u_s[sel] + dist[rows, u]
        t_v = site_acc.time_v_s[sel] + dist[rows, v]
        via_v = t_v < t_u
        time = np.where(via_v, t_v, t_u)
        length = np.where(
            via_v,
            site_acc.len_v_m[sel] + tree_len[rows, v],
            site_acc.len_u_m[sel] + tree_len[rows, u],
        )
        _take_best_into(entry_site[sel], time, length, own_time, own_len)
        del dist, pred, tree_len
    s_row, p_emp, p_time, p_len = pairs
    p_site = entry_site[s_row]
    match = own_idx[p_site] == p_emp
    _take_best_into(p_site[match], p_time[match], p_len[match], own_time, own_len)


def _take_best_into(item, time, length, best_time, best_len) -> None:
    """Like :func:`_take_best` for arrays that start as NaN (no employer index)."""
    current = np.where(np.isnan(best_time), np.inf, best_time)
    emp = np.zeros(item.shape[0], dtype=np.int64)
    dummy = np.zeros(best_time.shape[0], dtype=np.int64)
    _take_best(item, time, length, emp, current, best_len, dummy)
    best_time[:] = np.where(np.isfinite(current), current, np.nan)
