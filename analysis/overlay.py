"""Vectorised site-on-polygon overlays: BBG position, bebouwde kom, parks, gemeenten.

All functions take every site at once (points and/or polygons, EPSG:28992,
metres) and use one bulk STRtree query; there is no loop over sites.

A reference layer is cut once per run into indexable, prepared pieces with an
STRtree over them (:class:`PieceIndex`, kept with :func:`analysis.derived.derived`
beside the frame it came from), so a run in blocks does not cut, prepare and
index the same BBG, gemeenten or parks again for every block. Pass the
reference frame itself (``inputs.bbg``, not ``inputs.bbg.geometry``, which is a
new Series on every access) for the index to be reused.

Per block of sites (from :data:`GRID_MIN_SITES` sites): a grid over the pieces
(:class:`_Grid`) settles the sites that lie wholly inside one piece or away from
all of them; only sites along the boundaries get GEOS predicates and
intersections, shared by all overlays of that block and layer (:class:`_Overlaps`).
The sites' types, areas and bounds are computed once per block for all layers
(:class:`_SiteFacts`). BBG distances of outside points come from samples along the
boundary segments (:class:`_EdgeSamples`) with GEOS's point-to-segment formula, those
of outside polygons from their segments against the boundary segments near them
(:func:`_polygon_edge_distance`). Every shortcut gives the numbers the direct GEOS
computation gives, bit for bit (tests).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
import logging
import os
import threading
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from locatietoets.analysis.derived import derived
from locatietoets.analysis.errors import InputError
from locatietoets.analysis.vocabulary import nl_number

__all__ = [
    "polygon_overlap",
    "classify_bbg",
    "inside_share",
    "assign_polygon_attribute",
    "best_polygon",
    "query_pairs",
    "PieceIndex",
    "piece_index",
]

log = logging.getLogger(__name__)


#: Reference polygons with more vertices than this are cut into pieces (see :func:`_pieces`).
MAX_PIECE_VERTICES = 256


def _pieces(polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``polygons`` into indexable pieces: single polygons of at most
    :data:`MAX_PIECE_VERTICES` vertices, returned with the index of the polygon each came from.

    Multipolygons are split into their parts; a part with more vertices is cut
    in two along the middle of the longer side of its bounding box, again and
    again (each cut costs one vectorised intersection per level). The pieces
    of one polygon do not overlap and together are the polygon, so a point is
    covered by the polygon when a piece covers it, the distance to the polygon
    is the distance to its nearest piece, and the area of a site inside the
    polygon is the sum over its pieces. Real BBG, gemeente and Natura 2000
    layers are a few polygons with thousands of vertices and holes: testing
    every site against such a polygon costs its vertex count, against a
    piece a few hundred at most, and the index can tell the pieces apart.
    """
    parts, parent = shapely.get_parts(polygons, return_index=True)
    done_parts, done_parent = [], []
    while len(parts):
        keep = shapely.get_type_id(parts) == _POLYGON
        keep &= ~shapely.is_empty(parts)
        parts, parent = parts[keep], parent[keep]
        big = shapely.get_num_coordinates(parts) > MAX_PIECE_VERTICES
        done_parts.append(parts[~big])
        done_parent.append(parent[~big])
        if not big.any():
            break
        g, p = parts[big], parent[big]
        xmin, ymin, xmax, ymax = shapely.bounds(g).T
        wide = (xmax - xmin) >= (ymax - ymin)
        xmid, ymid = (xmin + xmax) / 2, (ymin + ymax) / 2
        first = shapely.box(xmin, ymin, np.where(wide, xmid, xmax), np.where(wide, ymax, ymid))
        second = shapely.box(np.where(wide, xmid, xmin), np.where(wide, ymin, ymid), xmax, ymax)
        halves = np.concatenate([shapely.intersection(g, first), shapely.intersection(g, second)])
        parts, index = shapely.get_parts(halves, return_index=True)
        parent = np.concatenate([p, p])[index]
    if not done_parts:
        return np.array([], dtype=object), np.array([], dtype=np.int64)
    return np.concatenate(done_parts), np.concatenate(done_parent).astype(np.int64)


#: Inputs below this many geometries are queried in one call (threads cost more than they save).
_THREAD_MIN = 2_000


def query_pairs(
    tree: shapely.STRtree, geoms: np.ndarray, predicate: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``tree.query(geoms, predicate=predicate)``, split over the cores for large inputs.

    GEOS releases the GIL, so contiguous chunks of ``geoms`` are queried in
    threads and the pairs put back in chunk order: the result equals one bulk
    query, pair for pair and in the same order.
    """
    workers = min(os.cpu_count() or 1, 4)
    if workers < 2 or len(geoms) < _THREAD_MIN:
        return tree.query(geoms, predicate=predicate)
    bounds = np.linspace(0, len(geoms), workers + 1).astype(np.int64)

    def query(k: int) -> np.ndarray:
        a, b = bounds[k], bounds[k + 1]
        found = tree.query(geoms[a:b], predicate=predicate)
        found[0] += a
        return found

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return np.concatenate(list(pool.map(query, range(workers))), axis=1)


class PieceIndex:
    """Polygons cut into prepared pieces (:func:`_pieces`) with an STRtree over the pieces.

    Built once per reference layer (:func:`piece_index`) and queried by every
    block of sites. ``pieces`` are prepared, so each candidate pair the tree
    finds is tested against a prepared piece (a cheap point-in-polygon).
    """

    def __init__(self, polygons: np.ndarray) -> None:
        self.pieces, self.parent = _pieces(np.asarray(polygons, dtype=object))
        shapely.prepare(self.pieces)
        self.tree = shapely.STRtree(self.pieces)
        self._edges: shapely.STRtree | None = None
        self._grid: _Grid | None = None
        self._samples: _EdgeSamples | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.pieces)

    def grid(self) -> _Grid:
        """The :class:`_Grid` over the pieces, built on first use."""
        with self._lock:
            if self._grid is None:
                self._grid = _Grid(self.pieces, self.tree)
            return self._grid

    def edges(self) -> shapely.STRtree:
        """STRtree over every boundary segment of every piece, as two-point lines.

        The distance from a geometry outside the pieces to the nearest piece is
        the distance to the nearest of these segments (GEOS measures a polygon
        by its ring segments), found without testing whole pieces of hundreds
        of vertices; built on first use.
        """
        with self._lock:
            if self._edges is None:
                rings = shapely.get_rings(self.pieces)
                coords, ring = shapely.get_coordinates(rings, return_index=True)
                same = ring[1:] == ring[:-1]
                start = np.flatnonzero(same)
                segments = shapely.linestrings(np.stack([coords[start], coords[start + 1]], axis=1))
                self._edges = shapely.STRtree(segments)
            return self._edges

    def edge_samples(self) -> _EdgeSamples:
        """The :class:`_EdgeSamples` of :meth:`edges`, built on first use."""
        tree = self.edges()
        with self._lock:
            if self._samples is None:
                self._samples = _EdgeSamples(tree.geometries)
            return self._samples


#: Largest spacing (m) of the sample points along the boundary segments (:class:`_EdgeSamples`).
SAMPLE_SPACING_M = 40.0
#: Nearest samples looked at per point, then 4 x as many for the points that needs; a point with
#: still more samples near it goes to GEOS.
SAMPLE_K = 8


class _EdgeSamples:
    """Points along every boundary segment (at most :data:`SAMPLE_SPACING_M` apart) in a k-d tree,
    for the distance from points to the nearest segment without a GEOS tree walk per point.

    Every point of a segment lies within ``half`` of one of its samples, and the nearest sample
    of a point lies on a segment, at distance ``u`` >= the point's distance to the boundary. So
    the nearest segment has a sample within ``u + half``: when the :data:`SAMPLE_K` nearest
    samples reach beyond that, their segments include the nearest one, and the distance is the
    smallest of their distances, computed with GEOS's formula (:func:`_point_segment_distance`).
    The few points where they do not are looked at again with 4 x :data:`SAMPLE_K` samples
    (sparser samples and a small ``k`` first: measured fastest on a real BBG).
    """

    def __init__(self, segments: np.ndarray) -> None:
        from scipy.spatial import cKDTree

        ends = shapely.get_coordinates(segments).reshape(-1, 2, 2)
        self.a, self.b = ends[:, 0].copy(), ends[:, 1].copy()
        length = np.hypot(*(self.b - self.a).T)
        n = np.maximum(1, np.ceil(length / SAMPLE_SPACING_M)).astype(np.int64)
        self.segment = np.repeat(np.arange(len(length)), n)
        k = np.arange(len(self.segment)) - np.repeat(np.cumsum(n) - n, n)
        t = (k + 0.5) / n[self.segment]
        a, b = self.a[self.segment], self.b[self.segment]
        self.tree = cKDTree(a + (b - a) * t[:, None])
        self.half = float(np.max(length / n)) / 2 if len(length) else 0.0

    def distance(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distance from each point ``xy`` to the nearest segment, and which points it could not
        settle (NaN there: too many samples near the point)."""
        out, unsettled = self._distance(xy, SAMPLE_K)
        again = np.flatnonzero(unsettled)
        if len(again):
            out[again], unsettled[again] = self._distance(xy[again], 4 * SAMPLE_K)
        return out, unsettled

    def _distance(self, xy: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        out = np.full(len(xy), np.nan)
        k = min(k, len(self.segment))
        if len(xy) == 0 or k == 0:
            return out, np.ones(len(xy), dtype=bool)
        near, which = self.tree.query(xy, k=k)
        near, which = near.reshape(len(xy), k), which.reshape(len(xy), k)
        u = near[:, 0]
        # all samples within u + half are among the k (margins for the rounding of samples)
        ok = near[:, -1] > u + self.half + 1e-6 + 1e-9 * u
        if k == len(self.segment):
            ok[:] = True
        seg = self.segment[which[ok]]
        a, b = self.a[seg], self.b[seg]
        out[ok] = _point_segment_distance(
            xy[ok, 0, None], xy[ok, 1, None], a[..., 0], a[..., 1], b[..., 0], b[..., 1]
        ).min(axis=1)
        return out, ~ok


def _point_segment_distance(
    px: np.ndarray, py: np.ndarray, ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray
) -> np.ndarray:
    """GEOS ``Distance::pointToSegment`` (what GEOS measures from a point to a line or polygon
    ring), with the same operations in the same order, so the same numbers bit for bit.

    ``p - a`` is computed once: GEOS's ``a - p`` is its negation exactly, and the products and
    the difference in ``s`` only change sign with it, which ``|s|`` drops.
    """
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    pax, pay = px - ax, py - ay
    with np.errstate(invalid="ignore", divide="ignore"):
        r = pax * dx
        r += pay * dy
        r /= len2
        s = pay * dx
        s -= pax * dy
        s /= len2
    pax *= pax
    pay *= pay
    pax += pay
    to_a = np.sqrt(pax, out=pax)
    pbx, pby = px - bx, py - by
    pbx *= pbx
    pby *= pby
    pbx += pby
    to_b = np.sqrt(pbx, out=pbx)
    out = np.abs(s, out=s)
    out *= np.sqrt(len2, out=len2)
    np.copyto(out, to_b, where=r >= 1.0)
    np.copyto(out, to_a, where=(r <= 0.0) | ((ax == bx) & (ay == by)))
    return out


def _geometries(polygons: Any) -> np.ndarray:
    if isinstance(polygons, gpd.GeoDataFrame):
        polygons = polygons.geometry
    return np.asarray(getattr(polygons, "values", polygons), dtype=object)


def piece_index(polygons: Any) -> PieceIndex:
    """The :class:`PieceIndex` of ``polygons`` (GeoDataFrame, GeoSeries or array), built once
    while that object lives (:func:`analysis.derived.derived`; an array is not cached).

    One index per calling thread: the pieces are prepared GEOS geometries, which keep scratch
    state while tested and must not be tested by two threads at once (GEOS issue #825), and
    blocks of sites may be scored in threads side by side (a dask worker with several threads).
    """
    if isinstance(polygons, PieceIndex):
        return polygons
    return derived(
        polygons,
        ("overlay.pieces", MAX_PIECE_VERTICES),
        lambda: PieceIndex(_geometries(polygons)),
        per_thread=True,
    )


#: Cells along the longer side of a :class:`_Grid`: 16 cells, halved 5 times where mixed (512).
GRID_START, GRID_LEVELS = 16, 5
#: Below this many sites a query skips the grid (it is built once per layer, on first use).
GRID_MIN_SITES = 5_000
_EMPTY, _MIXED = -1, -2


class _Grid:
    """A grid of square cells over the pieces, each cell marked with the one piece whose interior
    contains it (and that no other piece touches), as empty (no piece touches it) or as mixed.

    A site whose bounding box lies in (at most 2 x 2) cells all marked with the same piece needs
    no geometric test: it is covered by that piece and touches no other; in empty cells it
    touches none. Only sites on mixed cells (along the boundaries) go to GEOS. Whether a box lies
    in the cells is checked with the very coordinates of the cells' edges, so the rounding of a
    cell number cannot put a site in the wrong cell. Built coarse to fine: only the cells of a
    mixed cell are tested at the next level.
    """

    def __init__(self, pieces: np.ndarray, tree: shapely.STRtree) -> None:
        xmin, ymin, xmax, ymax = shapely.total_bounds(pieces)
        n = GRID_START << GRID_LEVELS
        size = max(xmax - xmin, ymax - ymin) / n
        if not size > 0:
            size = 1.0
        self.x0, self.y0, self.size = xmin, ymin, size
        nx = max(int(np.ceil((xmax - xmin) / size)), 1)
        ny = max(int(np.ceil((ymax - ymin) / size)), 1)
        self.xs = xmin + size * np.arange(nx + 1)
        self.ys = ymin + size * np.arange(ny + 1)
        state = np.full((ny, nx), _MIXED, dtype=np.int64)
        # cells of the current level, as (i, j) of their lower-left fine cell and a width in
        # fine cells; start with every coarse cell
        step = 1 << GRID_LEVELS
        j, i = np.meshgrid(np.arange(0, ny, step), np.arange(0, nx, step), indexing="ij")
        i, j = i.ravel(), j.ravel()
        while len(i):
            i1 = np.minimum(i + step, nx)
            j1 = np.minimum(j + step, ny)
            cells = shapely.box(self.xs[i], self.ys[j], self.xs[i1], self.ys[j1])
            cell, piece = tree.query(cells)
            hit = shapely.intersects(pieces[piece], cells[cell])  # prepared pieces
            cell, piece = cell[hit], piece[hit]
            touching = np.bincount(cell, minlength=len(cells))
            mark = np.full(len(cells), _MIXED, dtype=np.int64)
            mark[touching == 0] = _EMPTY
            one = np.flatnonzero(touching[cell] == 1)
            inside = shapely.contains_properly(pieces[piece[one]], cells[cell[one]])
            mark[cell[one[inside]]] = piece[one[inside]]
            done = np.flatnonzero(mark != _MIXED)
            dj, di = np.divmod(np.arange(step * step), step)
            fi, fj = i[done, None] + di, j[done, None] + dj
            inside_grid = (fi < nx) & (fj < ny)
            state[fj[inside_grid], fi[inside_grid]] = np.broadcast_to(mark[done, None], fi.shape)[
                inside_grid
            ]
            if step == 1:
                break
            # split the mixed cells in four
            mixed = mark == _MIXED
            step //= 2
            i = np.concatenate([i[mixed], i[mixed] + step, i[mixed], i[mixed] + step])
            j = np.concatenate([j[mixed], j[mixed], j[mixed] + step, j[mixed] + step])
            keep = (i < nx) & (j < ny)
            i, j = i[keep], j[keep]
        self.state = state

    def locate(
        self, xmin: np.ndarray, ymin: np.ndarray, xmax: np.ndarray, ymax: np.ndarray
    ) -> np.ndarray:
        """Per box the state shared by the (up to 2 x 2) cells it lies in when they agree (a
        piece, or ``_EMPTY``), else ``_MIXED``."""
        ny, nx = self.state.shape
        with np.errstate(invalid="ignore"):
            i0 = np.floor((xmin - self.x0) / self.size)
            j0 = np.floor((ymin - self.y0) / self.size)
        ok = (i0 >= 0) & (i0 < nx) & (j0 >= 0) & (j0 < ny)
        i0 = np.where(ok, i0, 0).astype(np.int64)
        j0 = np.where(ok, j0, 0).astype(np.int64)
        ok &= (self.xs[i0] <= xmin) & (self.ys[j0] <= ymin)
        # the last cell: the same or the next one, checked on the edges' coordinates
        i1 = np.where(xmax <= self.xs[i0 + 1], i0, np.minimum(i0 + 1, nx - 1))
        j1 = np.where(ymax <= self.ys[j0 + 1], j0, np.minimum(j0 + 1, ny - 1))
        ok &= (xmax <= self.xs[i1 + 1]) & (ymax <= self.ys[j1 + 1])
        st = self.state
        state = st[j0, i0]
        ok &= (st[j0, i1] == state) & (st[j1, i0] == state) & (st[j1, i1] == state)
        return np.where(ok, state, _MIXED)


_POINT = 0  # shapely geometry type id


class _SiteFacts:
    """Per-geometry facts of one set of sites (type, emptiness, area, bounds), computed once and
    shared by the overlays of every reference layer (:func:`_facts`)."""

    def __init__(self, geoms: np.ndarray) -> None:
        self.geoms = geoms
        self.type_id = shapely.get_type_id(geoms)
        self.empty = shapely.is_empty(geoms)
        self.point = (self.type_id == _POINT) & ~self.empty
        self.area = shapely.area(geoms)
        self._bounds: np.ndarray | None = None

    @property
    def bounds(self) -> np.ndarray:
        """``shapely.bounds`` of the sites, on first use."""
        if self._bounds is None:
            self._bounds = shapely.bounds(self.geoms)
        return self._bounds


def _facts(sites: gpd.GeoSeries) -> _SiteFacts:
    return derived(
        sites, "overlay.facts", lambda: _SiteFacts(np.asarray(sites.values, dtype=object))
    )


def _pairs(
    geoms: np.ndarray, index: PieceIndex, facts: _SiteFacts | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(site, piece) pairs that intersect, sorted by site, then piece, and whether the piece
    covers the site (False for points: not needed).

    The tree over the pieces gives the candidate pairs (bounding boxes), each
    is tested against its prepared piece: points by their coordinates
    (``intersects_xy``), other geometries with ``covers`` and, when not
    covered, ``intersects``. ``facts``: those of ``geoms`` when already known.
    """
    empty = np.array([], dtype=np.int64)
    if len(geoms) == 0 or len(index) == 0:
        return empty, empty, np.array([], dtype=bool)
    pieces = index.pieces
    if facts is None:
        point = (shapely.get_type_id(geoms) == _POINT) & ~shapely.is_empty(geoms)
    else:
        point = facts.point
    found_site, found_piece, found_covered = [], [], []
    todo = np.ones(len(geoms), dtype=bool)
    if len(geoms) >= GRID_MIN_SITES:
        # sites in one cell inside a piece or in an empty cell: no geometric test
        bounds = shapely.bounds(geoms) if facts is None else facts.bounds
        state = index.grid().locate(*bounds.T)
        inside = np.flatnonzero(state >= 0)
        found_site.append(inside)
        found_piece.append(state[inside])
        found_covered.append(~point[inside])
        todo = state == _MIXED
    pts = np.flatnonzero(point & todo)
    if len(pts):
        s, p = index.tree.query(geoms[pts])
        xy = shapely.get_coordinates(geoms[pts])
        hit = shapely.intersects_xy(pieces[p], xy[s, 0], xy[s, 1])
        found_site.append(pts[s[hit]])
        found_piece.append(p[hit])
        found_covered.append(np.zeros(int(hit.sum()), dtype=bool))
    other = np.flatnonzero(~point & todo)
    if len(other):
        s, p = index.tree.query(geoms[other])
        s = other[s]
        covered = shapely.covers(pieces[p], geoms[s])
        hit = covered.copy()
        rest = np.flatnonzero(~covered)
        hit[rest] = shapely.intersects(pieces[p[rest]], geoms[s[rest]])
        found_site.append(s[hit])
        found_piece.append(p[hit])
        found_covered.append(covered[hit])
    if not found_site:
        return empty, empty, np.array([], dtype=bool)
    site_idx = np.concatenate(found_site).astype(np.int64)
    piece_idx = np.concatenate(found_piece).astype(np.int64)
    covered = np.concatenate(found_covered).astype(bool)
    order = _pair_order(site_idx, piece_idx)
    return site_idx[order], piece_idx[order], covered[order]


class _Overlaps:
    """One set of sites against one :class:`PieceIndex`: the intersecting (site, piece) pairs of
    the single-part sites, whether the piece covers an areal site, and (on first use) the
    intersection of every areal site with each piece that does not cover it.

    :func:`polygon_overlap` and :func:`inside_share` of the same sites and layer (a park's name
    and the share on parks) share one (:func:`_overlaps`).
    """

    def __init__(self, facts: _SiteFacts, index: PieceIndex) -> None:
        self.geoms = geoms = facts.geoms
        self.area = facts.area
        self.is_areal = self.area > 0
        self.is_multi = facts.type_id == _MULTIPOINT
        single = np.flatnonzero(~self.is_multi)
        if len(single) == len(geoms):
            site_idx, piece_idx, covered = _pairs(geoms, index, facts)
        else:
            site_idx, piece_idx, covered = _pairs(geoms[single], index)
        self.site_idx, self.piece_idx = single[site_idx], piece_idx
        self.areal = self.is_areal[self.site_idx]
        self.covered = covered & self.areal
        self._index = index
        self._inter: np.ndarray | None = None
        self._lock = threading.Lock()

    def intersections(self) -> np.ndarray:
        """Per pair the intersection of site and piece where the site is areal and not covered
        (None elsewhere)."""
        with self._lock:
            if self._inter is None:
                todo = np.flatnonzero(self.areal & ~self.covered)
                inter = np.full(len(self.site_idx), None, dtype=object)
                inter[todo] = shapely.intersection(
                    self.geoms[self.site_idx[todo]], self._index.pieces[self.piece_idx[todo]]
                )
                self._inter = inter
            return self._inter


def _overlaps(sites: gpd.GeoSeries, index: PieceIndex) -> _Overlaps:
    return derived(
        sites,
        ("overlay.overlaps", index),
        lambda: _Overlaps(_facts(sites), index),
    )


def polygon_overlap(
    sites: gpd.GeoSeries, polygons: np.ndarray | gpd.GeoSeries | gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return every (site, polygon) pair that overlaps, with the site's share in it.

    Point sites (and zero-area sites) pair with the polygons that cover them
    (a point on the boundary counts as inside) with share 1. MultiPoint sites
    are judged like polygons: their share in a polygon is the fraction of
    their points it covers. Polygon sites pair with every polygon they
    intersect, with share = intersection area / site area.

    Parameters
    ----------
    sites
        Site geometries in EPSG:28992, no empty geometries.
    polygons
        Polygon geometries in the same CRS.

    Returns
    -------
    site_idx, poly_idx, share
        Parallel arrays, sorted by site then polygon index.
    """
    empty = np.array([], dtype=np.int64)
    if len(sites) == 0 or len(polygons) == 0:
        return empty, empty, np.array([], dtype=float)
    index = piece_index(polygons)
    parent = index.parent
    ov = _overlaps(sites, index)
    geoms, is_multi = ov.geoms, ov.is_multi
    site_idx, piece_idx, areal = ov.site_idx, ov.piece_idx, ov.areal
    # points: one pair per (site, polygon) (a point on a cut between two pieces touches both)
    p_site, p_poly = _unique_pairs(site_idx[~areal], parent[piece_idx[~areal]])
    # areal sites: share 1 in a piece that covers them, else intersection area / site area
    a_site, a_piece = site_idx[areal], piece_idx[areal]
    a_share = np.ones(len(a_site), dtype=float)
    rest = ~ov.covered[areal]
    if rest.any():
        a_share[rest] = shapely.area(ov.intersections()[areal][rest]) / ov.area[a_site[rest]]
    a_site, a_poly, a_share = _sum_by_pair(a_site, parent[a_piece], a_share)
    out_site = [p_site, a_site]
    out_poly = [p_poly, a_poly]
    out_share = [np.ones(len(p_site)), a_share]
    if is_multi.any():
        m_site, m_poly, m_share = _multipoint_overlap(geoms, np.flatnonzero(is_multi), index)
        out_site.append(m_site)
        out_poly.append(m_poly)
        out_share.append(m_share)
    site_idx = np.concatenate(out_site).astype(np.int64)
    poly_idx = np.concatenate(out_poly).astype(np.int64)
    share = np.concatenate(out_share)
    order = _pair_order(site_idx, poly_idx)
    return site_idx[order], poly_idx[order], share[order]


def _pair_keys(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int]:
    """One int64 per (a, b) pair that sorts like the pairs (a first), and the base of b."""
    base = int(b.max()) + 1
    return a.astype(np.int64) * base + b.astype(np.int64), base


def _pair_order(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The order that sorts the (a, b) pairs by a, then b, equal pairs kept in their order:
    ``np.lexsort((b, a))``, but as a stable sort of one key per pair, which is ~20x faster on
    pairs that come in runs sorted by a (as a block's pairs do)."""
    if len(a) == 0:
        return np.array([], dtype=np.int64)
    return np.argsort(_pair_keys(a, b)[0], kind="stable")


def _sorted_unique(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True)`` by a stable sort (~10x faster on keys that come
    in sorted runs)."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    new = np.ones(len(ordered), dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    inverse = np.empty(len(ordered), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse


def _unique_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (a, b) pairs, sorted by a, then b."""
    if len(a) == 0:
        return a.astype(np.int64), b.astype(np.int64)
    keys, base = _pair_keys(a, b)
    keys, _ = _sorted_unique(keys)
    return keys // base, keys % base


def _sum_by_pair(
    a: np.ndarray, b: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum ``values`` per distinct (a, b) pair (in the order they come), sorted by a, then b."""
    if len(a) == 0:
        return a.astype(np.int64), b.astype(np.int64), values
    keys, base = _pair_keys(a, b)
    keys, inverse = _sorted_unique(keys)
    total = np.zeros(len(keys), dtype=float)
    np.add.at(total, inverse, values)
    return keys // base, keys % base, total


_MULTIPOINT = 4  # shapely geometry type ids
_POLYGON = 3
_MULTIPOLYGON = 6


def _multipoint_overlap(
    geoms: np.ndarray, multi_idx: np.ndarray, index: PieceIndex
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(site, polygon, share) pairs of MultiPoint sites: share = covered points / points."""
    parts, owner = shapely.get_parts(geoms[multi_idx], return_index=True)
    owner = multi_idx[owner]
    n_parts = shapely.get_num_geometries(geoms)
    part_idx, piece, _ = _pairs(parts, index)
    parent = index.parent
    if len(part_idx) == 0:
        empty = np.array([], dtype=np.int64)
        return empty, empty, np.array([], dtype=float)
    # each point once per polygon, then count the points per (site, polygon)
    part_poly = np.unique(np.stack([part_idx, parent[piece]], axis=1), axis=0)
    site_poly, counts = np.unique(
        np.stack([owner[part_poly[:, 0]], part_poly[:, 1]], axis=1), axis=0, return_counts=True
    )
    site = site_poly[:, 0]
    return site, site_poly[:, 1], counts / n_parts[site]


def inside_share(sites: gpd.GeoSeries, polygons: gpd.GeoSeries | gpd.GeoDataFrame) -> np.ndarray:
    """Return per site the share of it that lies inside the union of ``polygons`` (0–1).

    Overlapping input polygons are not counted twice. Points get 1 when
    covered, else 0.
    """
    return _union_share(sites, piece_index(polygons))


def _union_share(sites: gpd.GeoSeries, index: PieceIndex) -> np.ndarray:
    """Share of each site inside the union of ``pieces`` (0–1), without dissolving them.

    Points: 1 when a piece covers them. Polygons: 1 when a piece covers them,
    else the area of the union of their intersections with the pieces they
    touch (only sites on more than one piece need that small union).
    MultiPoints: the fraction of their points some piece covers.
    """
    n = len(sites)
    total = np.zeros(n, dtype=float)
    if n == 0 or len(index) == 0:
        return total
    ov = _overlaps(sites, index)
    geoms, area, is_multi = ov.geoms, ov.area, ov.is_multi
    site_idx, areal = ov.site_idx, ov.areal
    total[site_idx[~areal]] = 1.0
    a_site = site_idx[areal]
    if len(a_site):
        covered = ov.covered[areal]
        total[a_site[covered]] = 1.0
        done = np.zeros(n, dtype=bool)
        done[a_site[covered]] = True
        rest = ~done[a_site]
        a_site = a_site[rest]
        inter = ov.intersections()[areal][rest]
        sites_u, first, counts = np.unique(a_site, return_index=True, return_counts=True)
        one = counts == 1
        total[sites_u[one]] = shapely.area(inter[first[one]]) / area[sites_u[one]]
        if (~one).any():
            # sites on several pieces: union their (small) intersections, one row per site
            many = np.isin(a_site, sites_u[~one])
            m_site, m_inter = a_site[many], inter[many]
            order = np.argsort(m_site, kind="stable")
            m_site, m_inter = m_site[order], m_inter[order]
            rows, col_start = np.unique(m_site, return_index=True)
            col = np.arange(len(m_site)) - np.repeat(
                col_start, np.diff(np.r_[col_start, len(m_site)])
            )
            padded = np.full((len(rows), col.max() + 1), None, dtype=object)
            padded[np.searchsorted(rows, m_site), col] = m_inter
            total[rows] = shapely.area(shapely.union_all(padded, axis=1)) / area[rows]
    if is_multi.any():
        multi_idx = np.flatnonzero(is_multi)
        parts, owner = shapely.get_parts(geoms[multi_idx], return_index=True)
        part_idx, _, _ = _pairs(parts, index)
        covered_parts = np.unique(part_idx)
        counts = np.bincount(owner[covered_parts], minlength=len(multi_idx))
        total[multi_idx] = counts / shapely.get_num_geometries(geoms[multi_idx])
    return np.clip(total, 0.0, 1.0)


def _nearest_distance(tree: shapely.STRtree, geoms: np.ndarray) -> np.ndarray:
    """Distance from every geometry to the nearest tree geometry; NaN when there is none.

    A distance to nothing is missing, never 0 (an empty tree, or an empty
    geometry). GEOS releases the GIL, so large inputs are split over the
    cores (the result does not depend on the split).
    """

    def query(chunk: np.ndarray) -> np.ndarray:
        (src, _), dist = tree.query_nearest(chunk, return_distance=True, all_matches=False)
        out = np.full(len(chunk), np.nan)
        out[src] = dist
        return out

    workers = min(os.cpu_count() or 1, 4)
    if workers < 2 or len(geoms) < 50_000:
        return query(geoms)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return np.concatenate(list(pool.map(query, np.array_split(geoms, workers))))


def _edge_distance(
    index: PieceIndex,
    geoms: np.ndarray,
    disjoint: np.ndarray | None = None,
    type_id: np.ndarray | None = None,
) -> np.ndarray:
    """Distance from geometries outside every piece to the nearest piece: to the nearest boundary
    segment (:meth:`PieceIndex.edges`). Points: from the segment samples
    (:class:`_EdgeSamples`); polygons known to be ``disjoint`` from every piece: segment against
    segment (:func:`_polygon_edge_distance`); the rest, and what those cannot settle, by the GEOS
    tree. ``type_id``: ``shapely.get_type_id(geoms)`` when already known."""
    out = np.full(len(geoms), np.nan)
    if type_id is None:
        type_id = shapely.get_type_id(geoms)
    point = (type_id == _POINT) & ~shapely.is_empty(geoms)
    rest = ~point
    pts = np.flatnonzero(point)
    if len(pts) >= GRID_MIN_SITES:
        out[pts], unsettled = index.edge_samples().distance(shapely.get_coordinates(geoms[pts]))
        rest[pts[unsettled]] = True
    else:
        rest[pts] = True
    if disjoint is not None and len(geoms) >= GRID_MIN_SITES:
        polys = np.flatnonzero(disjoint & ((type_id == _POLYGON) | (type_id == _MULTIPOLYGON)))
        if len(polys):
            found = _polygon_edge_distance(index, geoms[polys])
            settled = ~np.isnan(found)
            out[polys[settled]] = found[settled]
            rest[polys[settled]] = False
    todo = np.flatnonzero(rest)
    if len(todo):
        out[todo] = _nearest_distance(index.edges(), geoms[todo])
    return out


#: Polygons nearer than this (m) to a piece are measured by GEOS (:func:`_polygon_edge_distance`).
_NEAR_M = 1e-3
#: Polygons and (site segment, boundary segment) pairs measured at once by
#: :func:`_polygon_edge_distance` (~100 MB of scratch arrays at most).
_POLYGON_BLOCK, _PAIR_CHUNK = 20_000, 500_000
#: Candidate boundary segments of one site (4 x as many before the bounds drop the far ones)
#: above which :func:`_polygon_edge_distance` leaves it to GEOS.
_MAX_CANDIDATES = 512


def _polygon_edge_distance(index: PieceIndex, geoms: np.ndarray) -> np.ndarray:
    """Distance from (multi)polygons that do not intersect any piece to the nearest piece, in
    numpy with GEOS's formulas; NaN where it leaves the answer to GEOS.

    GEOS measures two disjoint geometries segment against segment
    (``Distance::segmentToSegment``): the smallest distance from an end of either segment to
    the other segment (``pointToSegment``; of a zero-length segment only its point counts).
    Only boundary segments near a site can be nearest: the nearest segment sample
    (:class:`_EdgeSamples`) of the site's first vertex bounds the distance from above, the
    segments whose boxes lie within that bound of the site's box are candidates, and a candidate
    whose box is farther from the site's box than the distance from the first vertex to the
    nearest candidate is dropped, as is one farther from the centre of the site's box than
    that distance plus half the box's diagonal. Every remaining (site segment, boundary
    segment) pair is measured with :func:`_point_segment_distance`, the same operations in the
    same order, and the smallest value per site is GEOS's distance bit for bit. Sites nearer than
    :data:`_NEAR_M` (where GEOS's intersection test of two almost touching segments could say
    0), sites without a candidate and sites with too many (:data:`_MAX_CANDIDATES`) get NaN.
    """
    n = len(geoms)
    if n > _POLYGON_BLOCK:  # bounded scratch memory (the sites are independent)
        return np.concatenate(
            [
                _polygon_edge_distance(index, geoms[a : a + _POLYGON_BLOCK])
                for a in range(0, n, _POLYGON_BLOCK)
            ]
        )
    out = np.full(n, np.nan)
    samples = index.edge_samples()
    if n == 0 or len(samples.a) == 0:
        return out
    # the sites' ring segments, grouped by site (parts, rings and coordinates in order)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    rings, ring_owner = shapely.get_rings(parts, return_index=True)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    start = np.flatnonzero(ring[1:] == ring[:-1])
    if len(start) == 0:
        return out
    site_of_seg = owner[ring_owner[ring[start]]]
    first = np.searchsorted(site_of_seg, np.arange(n))
    count = np.diff(np.r_[first, len(start)])
    has = count > 0
    sa, sb = xy[start], xy[start + 1]
    # upper bound per site: distance from its first vertex to the nearest sample (+ rounding)
    v0 = np.where(has, start[np.minimum(first, len(start) - 1)], 0)
    bound, _ = samples.tree.query(xy[v0], k=1)
    bound = bound * (1 + 1e-9) + 1e-6
    box = shapely.bounds(geoms)
    site, seg = index.edges().query(
        shapely.box(box[:, 0] - bound, box[:, 1] - bound, box[:, 2] + bound, box[:, 3] + bound)
    )
    # a site with very many candidates (far from a dense layer): GEOS's tree is better
    keep = has[site] & (np.bincount(site, minlength=n) <= 4 * _MAX_CANDIDATES)[site]
    site, seg = site[keep], seg[keep]
    ca, cb = samples.a[seg], samples.b[seg]
    # a tighter bound: the first vertex's distance to the candidates; drop the far candidates
    p = xy[v0[site]]
    near = _point_segment_distance(p[:, 0], p[:, 1], ca[:, 0], ca[:, 1], cb[:, 0], cb[:, 1])
    tight = np.full(n, np.inf)
    np.minimum.at(tight, site, near)
    gap_x = np.maximum(
        np.maximum(box[site, 0] - np.maximum(ca[:, 0], cb[:, 0]), 0.0),
        np.minimum(ca[:, 0], cb[:, 0]) - box[site, 2],
    )
    gap_y = np.maximum(
        np.maximum(box[site, 1] - np.maximum(ca[:, 1], cb[:, 1]), 0.0),
        np.minimum(ca[:, 1], cb[:, 1]) - box[site, 3],
    )
    # ... and by the distance from the box's centre to the candidate less the half diagonal
    cx, cy = (box[site, 0] + box[site, 2]) / 2, (box[site, 1] + box[site, 3]) / 2
    half = np.hypot(box[site, 2] - box[site, 0], box[site, 3] - box[site, 1]) / 2
    from_centre = _point_segment_distance(cx, cy, ca[:, 0], ca[:, 1], cb[:, 0], cb[:, 1]) - half
    low = np.maximum(np.hypot(gap_x, gap_y), from_centre)
    keep = low <= tight[site] * (1 + 1e-9) + 1e-6
    site, seg = site[keep], seg[keep]
    keep = (np.bincount(site, minlength=n) <= _MAX_CANDIDATES)[site]
    site, seg = site[keep], seg[keep]
    best = np.full(n, np.inf)
    # every (site segment, candidate) pair, in chunks of candidates
    reps = count[site]
    ends = np.cumsum(reps)
    lo = 0
    while lo < len(site):
        hi = int(np.searchsorted(ends, ends[lo] - reps[lo] + _PAIR_CHUNK, side="right"))
        hi = max(hi, lo + 1)
        s, e, r = site[lo:hi], seg[lo:hi], reps[lo:hi]
        pair = np.repeat(np.arange(len(s)), r)
        k = np.repeat(first[s], r) + np.arange(len(pair)) - np.repeat(np.cumsum(r) - r, r)
        a, b = sa[k], sb[k]
        c, d = samples.a[e[pair]], samples.b[e[pair]]
        ab_point = (a[:, 0] == b[:, 0]) & (a[:, 1] == b[:, 1])
        cd_point = (c[:, 0] == d[:, 0]) & (c[:, 1] == d[:, 1])
        dist = _point_segment_distance(a[:, 0], a[:, 1], c[:, 0], c[:, 1], d[:, 0], d[:, 1])
        dist[cd_point & ~ab_point] = np.inf  # GEOS: only D to AB
        ends_to_ab = np.minimum(
            _point_segment_distance(c[:, 0], c[:, 1], a[:, 0], a[:, 1], b[:, 0], b[:, 1]),
            _point_segment_distance(d[:, 0], d[:, 1], a[:, 0], a[:, 1], b[:, 0], b[:, 1]),
        )
        ends_to_ab[ab_point] = np.inf  # GEOS: only A to CD
        np.minimum.at(best, s[pair], np.minimum(dist, ends_to_ab))
        lo = hi
    ok = np.isfinite(best) & (best >= _NEAR_M)
    out[ok] = best[ok]
    return out


#: Shares below this (0.01 %) count as 0: digitising noise of polygons that only touch.
SHARE_EPS = 1e-4


def classify_bbg(
    sites: gpd.GeoSeries,
    bbg: gpd.GeoSeries | gpd.GeoDataFrame,
    *,
    rand_m: np.ndarray | float,
    inside_share_min: np.ndarray | float,
) -> pd.DataFrame:
    """Classify sites as binnen / deels / rand / buiten the bestaand bebouwd gebied.

    A site is judged on where the building can go:

    ``binnen``
        The share of the site inside BBG is at least ``inside_share_min``
        (points: inside or on the boundary).
    ``deels``
        A polygon (or MultiPoint) site with a share inside BBG above 0 but
        below ``inside_share_min``: building is possible on the part inside.
    ``rand`` / ``buiten``
        The site lies wholly outside BBG (share 0; a polygon that only
        touches BBG at a corner or edge has share 0 and distance 0): the
        distance ``d`` (m) to the nearest BBG polygon decides, ``rand`` when
        ``d <= rand_m``, ``buiten`` beyond.

    Parameters
    ----------
    sites
        Site geometries, EPSG:28992, no empty geometries.
    bbg
        BBG polygons, EPSG:28992.
    rand_m
        Width of the edge zone in metres (scalar or per site).
    inside_share_min
        Share (0–1) of a polygon site that must lie inside to count as wholly
        inside (scalar or per site).

    Returns
    -------
    pandas.DataFrame
        ``bbg_ligging`` (str column), ``bbg_afstand_m`` (float, 0 for binnen and
        deels), ``bbg_aandeel`` (float share inside), indexed like ``sites``.
    """
    index = piece_index(bbg)
    if len(index) == 0:
        # a distance to "nothing" is not 0: without any BBG geometry no site can be classified
        raise InputError(
            "[lagen.bebouwd_gebied] bevat geen bruikbare geometrie (alle objecten leeg of NULL): de"
            " ligging t.o.v. BBG kan niet bepaald worden. Kies de juiste laag of vul de geometrie."
        )
    share = _union_share(sites, index)
    share[share < SHARE_EPS] = 0.0
    geoms = np.asarray(sites.values, dtype=object)
    inside = share >= np.asarray(inside_share_min, dtype=float) - 1e-12
    inside |= share >= 1.0  # points inside or on the boundary
    partly = ~inside & (share > 0.0)
    distance = np.zeros(len(sites), dtype=float)
    outside_idx = np.flatnonzero(~inside & ~partly)
    if len(outside_idx):
        # sites without a (site, piece) pair do not intersect BBG (MultiPoints are not paired)
        ov = _overlaps(sites, index)
        disjoint = np.ones(len(sites), dtype=bool)
        disjoint[ov.site_idx] = False
        disjoint[ov.is_multi] = False
        distance[outside_idx] = _edge_distance(
            index,
            geoms[outside_idx],
            disjoint[outside_idx],
            _facts(sites).type_id[outside_idx],
        )
    rand = np.broadcast_to(np.asarray(rand_m, dtype=float), distance.shape)
    code = np.where(inside, 0, np.where(partly, 1, np.where(distance <= rand, 2, 3)))
    counts = np.bincount(code, minlength=len(_BBG_POSITIONS))
    log.info("BBG: %s binnen, %s deels, %s rand, %s buiten", *(nl_number(int(c)) for c in counts))
    # the text column taken in Arrow from the four names, not built from a string per site
    position = pa.array(_BBG_POSITIONS, type=pa.large_string()).take(pa.array(code))
    out = pd.DataFrame(index=sites.index)
    out["bbg_ligging"] = pd.Series(
        position, dtype=pd.StringDtype(na_value=np.nan), index=sites.index, copy=False
    )
    out["bbg_afstand_m"] = distance
    out["bbg_aandeel"] = share
    return out


#: The values of ``bbg_ligging``, in the order of their codes in :func:`classify_bbg`.
_BBG_POSITIONS = ("binnen", "deels", "rand", "buiten")


def best_polygon(
    sites: gpd.GeoSeries,
    polygons: np.ndarray | gpd.GeoSeries | gpd.GeoDataFrame,
    *,
    min_share: np.ndarray | float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The polygon each site overlaps most: its position in ``polygons`` (-1 where none
    qualifies) and the site's share in it (0 there). See :func:`assign_polygon_attribute`."""
    site_idx, poly_idx, share = polygon_overlap(sites, polygons)
    n = len(sites)
    threshold = np.broadcast_to(np.asarray(min_share, dtype=float), (n,))
    best = np.full(n, -1, dtype=np.int64)
    best_share = np.zeros(n, dtype=float)
    if len(site_idx):
        # per site (the pairs are sorted by site, then polygon) the first row with the highest
        # share: the highest share, ties to the lowest polygon index
        new = np.ones(len(site_idx), dtype=bool)
        new[1:] = site_idx[1:] != site_idx[:-1]
        group = np.cumsum(new) - 1
        top = np.fmax.reduceat(share, np.flatnonzero(new))
        rows = np.flatnonzero(share == top[group])
        first = np.ones(len(rows), dtype=bool)
        first[1:] = group[rows[1:]] != group[rows[:-1]]
        rows = rows[first]
        s, p, sh = site_idx[rows], poly_idx[rows], share[rows]
        ok = (sh > 0) & (sh >= threshold[s] - 1e-12)
        best[s[ok]] = p[ok]
        best_share[s[ok]] = sh[ok]
    return best, best_share


def assign_polygon_attribute(
    sites: gpd.GeoSeries,
    polygons: gpd.GeoDataFrame,
    columns: list[str],
    *,
    min_share: np.ndarray | float = 0.0,
) -> pd.DataFrame:
    """Give each site the attributes of the polygon it overlaps most.

    Parameters
    ----------
    sites
        Site geometries, EPSG:28992, no empty geometries.
    polygons
        Polygons with the attribute ``columns``.
    columns
        Attribute columns to copy.
    min_share
        A polygon site only takes a polygon's attributes when at least this
        share of it lies in that polygon (points: inside or on the boundary).
        Ties go to the polygon that comes first in the layer.

    Returns
    -------
    pandas.DataFrame
        ``columns`` (None where no polygon qualifies) plus ``_aandeel`` (the
        share), indexed like ``sites``.
    """
    best, best_share = best_polygon(sites, polygons, min_share=min_share)
    n = len(sites)
    out = pd.DataFrame(index=sites.index)
    found = best >= 0
    for col in columns:
        values = np.full(n, None, dtype=object)
        values[found] = polygons[col].to_numpy(dtype=object)[best[found]]
        out[col] = pd.Series(values, index=sites.index, dtype=object)  # no string conversion
    out["_aandeel"] = best_share
    return out
