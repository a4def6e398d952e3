"""Declared constraint layers (``[lagen.beperkingen.<naam>]``): where each site lies against them.

A gemeente adds a constraint (Natura 2000, a noise contour, a water protection area, ...) with a
layer and a rule-set rule that names it (``laag = "<naam>"``); no code. This module measures, for
all sites at once (points and/or polygons, EPSG:28992, metres):

* per layer: the name of the feature a site lies in (the one it overlaps most) or, when it lies
  outside every feature but within the reach of a rule (its ``buffer_m``), of the nearest one; and
  the distance to the nearest feature (0 when the site touches or overlaps one);
* per rule: the share of the site inside the rule's zone: the features (only those whose
  ``waarde`` reaches the rule's ``waarde_vanaf``), grown by ``buffer_m``, without the features
  themselves when the rule applies ``alleen_buiten`` (a signal zone around an area). Points count
  1 or 0; a polygon site is wholly, partly or not affected (the rule set's ``[regel.deels]``).

The rule set decides what a share means (see ``analysis.verdict``); this module only measures.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from locatietoets.analysis.derived import derived
from locatietoets.analysis.errors import InputError
from locatietoets.analysis.overlay import SHARE_EPS, PieceIndex, piece_index, polygon_overlap

__all__ = [
    "LAYER_NAME_PATTERN",
    "YARD_POLICIES",
    "own_employer_distance",
    "layer_fields",
    "measure_layer",
    "zone_share",
]

#: A constraint layer's name: it becomes a result field, so lower case letters, digits and ``_``.
LAYER_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,40}$")

#: Segments per quarter circle of a buffer (shapely's default is 8): a point site exactly
#: ``buffer_m`` away must not fall outside the buffer of a polygon by the chord error.
_QUAD_SEGS = 32


def layer_fields(name: str) -> tuple[str, str]:
    """The result fields of constraint layer ``name``: the feature name and the distance."""
    return name, f"{name}_afstand_m"


def measure_layer(
    sites: gpd.GeoSeries, features: gpd.GeoDataFrame, reach_m: np.ndarray | float
) -> pd.DataFrame:
    """The feature each site lies in (or near) and the distance to the nearest feature.

    Parameters
    ----------
    sites
        Site geometries (EPSG:28992), no empty geometries.
    features
        The layer's features with ``naam``; polygons, lines or points.
    reach_m
        Per site (or one value) the distance within which a site outside every feature still
        gets the nearest feature's name: the largest ``buffer_m`` of the rules on this layer.

    Returns
    -------
    pandas.DataFrame
        ``naam`` (None when no feature lies within reach) and ``afstand_m`` (NaN without
        features), indexed like ``sites``.
    """
    geoms = np.asarray(sites.values, dtype=object)
    n = len(geoms)
    shapes = np.asarray(features.geometry.values, dtype=object)
    names = features["naam"].to_numpy(dtype=object)
    name = np.full(n, None, dtype=object)
    distance = np.full(n, np.nan)
    if n == 0 or len(shapes) == 0:
        return pd.DataFrame({"naam": name, "afstand_m": distance}, index=sites.index)
    nearest = np.full(n, -1, dtype=np.int64)
    by_piece = ~shapely.is_empty(geoms) & _polygonal(shapes)
    if by_piece.any():
        # sites against polygons: the nearest of the polygons' pieces (overlay.piece_index, cut
        # once per run, shared with polygon_overlap below) instead of the whole polygons
        pts = np.flatnonzero(by_piece)
        distance[pts], nearest[pts] = _nearest_by_piece(piece_index(features), geoms[pts])
    rest = np.flatnonzero(~by_piece)
    if len(rest):
        tree = derived(features, ("constraints.tree",), lambda: shapely.STRtree(shapes))
        (src, found), dist = tree.query_nearest(
            geoms[rest], return_distance=True, all_matches=False
        )
        distance[rest[src]] = dist
        nearest[rest[src]] = found
    reach = np.broadcast_to(np.asarray(reach_m, dtype=float), (n,))
    near = (nearest >= 0) & (distance <= reach + 1e-9)
    name[near] = names[nearest[near]]
    # a polygon site overlapping several features takes the one it overlaps most
    # the frame itself, so the pieces are cut once per run (overlay.piece_index), not per block
    site_idx, poly_idx, share = polygon_overlap(sites, features)
    if len(site_idx):
        order = np.lexsort((poly_idx, -share, site_idx))
        s, p, sh = site_idx[order], poly_idx[order], share[order]
        first = np.ones(len(s), dtype=bool)
        first[1:] = s[1:] != s[:-1]
        ok = first & (sh > SHARE_EPS)
        name[s[ok]] = names[p[ok]]
    return pd.DataFrame({"naam": name, "afstand_m": distance}, index=sites.index)


def _polygonal(shapes: np.ndarray) -> bool:
    """Whether every (non-missing, non-empty) geometry is a polygon or multipolygon."""
    kind = shapely.get_type_id(shapes)
    real = (kind >= 0) & ~shapely.is_empty(shapes)
    return bool(real.any() and np.isin(kind[real], (3, 6)).all())


def _nearest_by_piece(index: PieceIndex, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance from each geometry to the nearest polygon and that polygon's index (-1: none),
    measured against the polygons' pieces.

    The pieces of a polygon tile it, so a site touching it has distance 0 and a site outside is
    nearest to its boundary, which the pieces' rings cover: the minimum over the pieces is the
    distance to the polygon. Cutting adds vertices on the cut lines, so a distance may differ
    from the uncut polygon's in the last bits (at most ~1e-9 m at RD coordinates). Equal
    distances to several polygons: the lowest polygon index.
    """
    distance = np.full(len(geoms), np.nan)
    nearest = np.full(len(geoms), -1, dtype=np.int64)
    if len(index) == 0 or len(geoms) == 0:
        return distance, nearest
    (src, piece), dist = index.tree.query_nearest(geoms, return_distance=True, all_matches=True)
    parent = index.parent[piece]
    order = np.lexsort((parent, dist, src))
    src, parent, dist = src[order], parent[order], dist[order]
    first = np.ones(len(src), dtype=bool)
    first[1:] = src[1:] != src[:-1]
    distance[src[first]] = dist[first]
    nearest[src[first]] = parent[first]
    return distance, nearest


def zone_share(
    sites: gpd.GeoSeries,
    features: gpd.GeoDataFrame,
    *,
    buffer_m: np.ndarray | float = 0.0,
    outside_only: bool = False,
    min_value: np.ndarray | float | None = None,
) -> np.ndarray:
    """Per site the share of it inside a rule's zone (0–1).

    The zone is the union of the features (those with ``waarde >= min_value`` when given; a layer
    without ``waarde`` is the contour itself, every feature counts) grown
    by ``buffer_m``; with ``outside_only`` the features themselves are left out (the ring around
    them). A point site is inside (1) when its distance to the features is at most ``buffer_m``
    (and, with ``outside_only``, above 0); a polygon (or MultiPoint) site gets the share of its
    area (of its points) inside the zone. Lines and points as features only make a zone with a
    buffer above 0.

    ``buffer_m`` and ``min_value`` may differ per site (a parameter with per-gemeente values):
    the zone is built once per distinct combination.
    """
    n = len(sites)
    out = np.zeros(n, dtype=float)
    if n == 0 or len(features) == 0:
        return out
    buffers = np.broadcast_to(np.asarray(buffer_m, dtype=float), (n,))
    thresholds = (
        np.full(n, -np.inf)
        if min_value is None
        else np.broadcast_to(np.asarray(min_value, dtype=float), (n,))
    )
    shapes = np.asarray(features.geometry.values, dtype=object)
    values = (
        features["waarde"].to_numpy(dtype=float)
        if "waarde" in features.columns
        else np.full(len(shapes), np.inf)  # no waarde_veld: the layer is the contour itself
    )
    combos = pd.DataFrame({"b": buffers, "t": thresholds}).drop_duplicates()
    for b, t in combos.itertuples(index=False):
        rows = np.flatnonzero((buffers == b) & (thresholds == t))
        chosen = values >= t - 1e-9 if np.isfinite(t) else np.ones(len(shapes), dtype=bool)
        if len(rows) == 0 or not chosen.any():
            continue
        zone = derived(
            features,
            ("constraints.zone", float(t) if np.isfinite(t) else None, float(b), outside_only),
            lambda chosen=chosen, b=b: _Zone(shapes[chosen], float(b), outside_only),
        )
        out[rows] = _share_in_zone(sites.iloc[rows], zone)
    out[out < SHARE_EPS] = 0.0
    return out


class _Zone:
    """A rule's zone on one layer, built once per run (:func:`zone_share` caches it beside the
    features frame with :func:`analysis.derived.derived`): the union of the chosen features
    (``core``), grown by ``buffer_m``, without the core with ``outside_only``; its areal parts
    (``parts``). The :class:`PieceIndex` over the parts (polygon sites; one per thread) and the
    STRtree over the core's parts (point sites) are built on first use.
    """

    def __init__(self, shapes: np.ndarray, buffer_m: float, outside_only: bool) -> None:
        core = shapely.union_all(shapes)
        zone = shapely.buffer(core, buffer_m, quad_segs=_QUAD_SEGS) if buffer_m > 0 else core
        if outside_only:
            zone = shapely.difference(zone, core)
        parts = shapely.get_parts(zone)
        self.parts = parts[shapely.area(parts) > 0] if len(parts) else parts
        self.core = core
        self.buffer_m = buffer_m
        self.outside_only = outside_only

    def pieces(self) -> PieceIndex:
        """The :class:`PieceIndex` over :attr:`parts` (not empty), one per calling thread (its
        pieces are prepared GEOS geometries, as ``overlay.piece_index``)."""
        return derived(self, "pieces", lambda: PieceIndex(self.parts), per_thread=True)

    def core_pieces(self) -> PieceIndex | None:
        """The :class:`PieceIndex` over the core's parts when they are all polygons (else None:
        lines and points as features go by :meth:`core_tree`), one per calling thread."""
        parts = shapely.get_parts(self.core)
        if not _polygonal(parts):
            return None
        return derived(self, "core_pieces", lambda: PieceIndex(parts), per_thread=True)

    def core_tree(self) -> shapely.STRtree:
        """STRtree over the parts of the core (the chosen features themselves)."""
        return derived(self, "core_tree", lambda: shapely.STRtree(shapely.get_parts(self.core)))


def _share_in_zone(sites: gpd.GeoSeries, zone: _Zone) -> np.ndarray:
    geoms = np.asarray(sites.values, dtype=object)
    n = len(geoms)
    out = np.zeros(n, dtype=float)
    parts, buffer_m, outside_only = zone.parts, zone.buffer_m, zone.outside_only
    areal = shapely.area(geoms) > 0
    is_multi = shapely.get_type_id(geoms) == 4
    polys = np.flatnonzero(areal | is_multi)
    if len(polys) and len(parts):
        site_idx, _, share = polygon_overlap(sites.iloc[polys], zone.pieces())
        total = np.zeros(len(polys), dtype=float)
        np.add.at(total, site_idx, share)
        out[polys] = np.clip(total, 0.0, 1.0)
    points = np.flatnonzero(~(areal | is_multi))
    core = zone.core_pieces() if len(points) else None
    if core is not None:
        # points against polygons: within reach of a piece of the core (no distances needed)
        within = _within(core, geoms[points], buffer_m + 1e-9)
        if outside_only:
            within &= ~_within(core, geoms[points], 1e-9)
        out[points] = within.astype(float)
    elif len(points):
        # points: by distance, so a point exactly buffer_m away is inside (no chord error)
        (src, _), nearest = zone.core_tree().query_nearest(
            geoms[points], return_distance=True, all_matches=False
        )
        dist = np.full(len(points), np.inf)
        dist[src] = nearest
        inside = dist <= buffer_m + 1e-9
        if outside_only:
            inside &= dist > 1e-9
        out[points] = inside.astype(float)
    return out


def _within(index: PieceIndex, points: np.ndarray, distance: float) -> np.ndarray:
    """Per point whether it lies within ``distance`` of one of the index's pieces."""
    src, _ = index.tree.query(points, predicate="dwithin", distance=distance)
    out = np.zeros(len(points), dtype=bool)
    out[src] = True
    return out


#: A gemeente's policy on short-stay housing on the own employer's yard (``erf_short_stay``).
YARD_POLICIES: tuple[str, ...] = ("toegestaan", "voorwaardelijk", "niet")


def own_employer_distance(
    sites: gpd.GeoSeries, employers: gpd.GeoDataFrame, own_employer: pd.Series
) -> np.ndarray:
    """Straight-line distance (m) from each site to its own employer (0 when they touch).

    ``own_employer`` names the employer per site (as in ``employers["naam"]``; missing or empty:
    NaN). A name the employers layer does not have is an input error, as for the travel times.
    """
    n = len(sites)
    out = np.full(n, np.nan)
    given = own_employer.to_numpy(dtype=object)
    text = pd.Series(given, dtype="object").astype("string").str.strip()
    valid = (text.notna() & (text != "")).to_numpy(dtype=bool, na_value=False)
    if not valid.any():
        return out
    lookup = {str(name): i for i, name in enumerate(employers["naam"].to_numpy(dtype=object))}
    names = text[valid].astype(str).to_numpy(dtype=object)
    unknown = sorted({name for name in names if name not in lookup})
    if unknown:
        shown = ", ".join(f"'{u}'" for u in unknown[:10])
        more = f" (en {len(unknown) - 10} meer)" if len(unknown) > 10 else ""
        raise InputError(
            f"[lagen.locaties] veld werkgever_veld noemt {len(unknown)} werkgever(s) die niet in"
            f" [lagen.werkgevers] staan: {shown}{more}. Schrijf de naam precies zoals in de"
            " werkgeverslaag (kolom naam_veld), of voeg de werkgever toe aan die laag."
        )
    index = np.array([lookup[name] for name in names], dtype=np.int64)
    shapes = np.asarray(employers.geometry.values, dtype=object)
    geoms = np.asarray(sites.values, dtype=object)
    out[valid] = shapely.distance(geoms[valid], shapes[index])
    return out
