"""Vectorised site-on-polygon overlays: BBG position, bebouwde kom, parks, gemeenten.

All functions take every site at once (points and/or polygons, EPSG:28992,
metres) and use one bulk STRtree query; there is no loop over sites.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
import logging
import os

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from locatietoets.analysis.errors import InputError

__all__ = ["polygon_overlap", "classify_bbg", "inside_share", "assign_polygon_attribute"]

log = logging.getLogger(__name__)


def _site_arrays(sites: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    geoms = np.asarray(sites.values, dtype=object)
    area = shapely.area(geoms)
    is_areal = area > 0
    return geoms, area, is_areal


def polygon_overlap(
    sites: gpd.GeoSeries, polygons: np.ndarray
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
    geoms, area, is_areal = _site_arrays(sites)
    if len(geoms) == 0 or len(polygons) == 0:
        empty = np.array([], dtype=np.int64)
        return empty, empty, np.array([], dtype=float)
    tree = shapely.STRtree(polygons)
    is_multi = shapely.get_type_id(geoms) == _MULTIPOINT
    single = np.flatnonzero(~is_multi)
    site_idx, poly_idx = tree.query(geoms[single], predicate="intersects")
    site_idx = single[site_idx]
    share = np.ones(len(site_idx), dtype=float)
    areal_pairs = is_areal[site_idx]
    if areal_pairs.any():
        inter = shapely.intersection(geoms[site_idx[areal_pairs]], polygons[poly_idx[areal_pairs]])
        share[areal_pairs] = shapely.area(inter) / area[site_idx[areal_pairs]]
    if is_multi.any():
        m_site, m_poly, m_share = _multipoint_overlap(geoms, np.flatnonzero(is_multi), tree)
        site_idx = np.concatenate([site_idx, m_site])
        poly_idx = np.concatenate([poly_idx, m_poly])
        share = np.concatenate([share, m_share])
    order = np.lexsort((poly_idx, site_idx))
    return site_idx[order], poly_idx[order], share[order]


_MULTIPOINT = 4  # shapely geometry type id


def _multipoint_overlap(
    geoms: np.ndarray, multi_idx: np.ndarray, tree: shapely.STRtree
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(site, polygon, share) pairs of MultiPoint sites: share = covered points / points."""
    parts, parent = shapely.get_parts(geoms[multi_idx], return_index=True)
    parent = multi_idx[parent]
    n_parts = shapely.get_num_geometries(geoms)
    part_idx, poly = tree.query(parts, predicate="intersects")
    if len(part_idx) == 0:
        empty = np.array([], dtype=np.int64)
        return empty, empty, np.array([], dtype=float)
    pairs = np.unique(np.stack([parent[part_idx], poly], axis=1), axis=0, return_counts=True)
    site_poly, counts = pairs
    site = site_poly[:, 0]
    return site, site_poly[:, 1], counts / n_parts[site]


def inside_share(sites: gpd.GeoSeries, polygons: gpd.GeoSeries) -> np.ndarray:
    """Return per site the share of it that lies inside the union of ``polygons`` (0–1).

    The polygons are dissolved first, so overlapping input polygons are not
    counted twice. Points get 1 when covered, else 0.
    """
    return _share_inside(sites, _dissolve(polygons))


def _dissolve(polygons: gpd.GeoSeries) -> np.ndarray:
    """The parts of the union of ``polygons`` (computed once per layer and call)."""
    return shapely.get_parts(shapely.union_all(np.asarray(polygons.values, dtype=object)))


def _share_inside(sites: gpd.GeoSeries, dissolved: np.ndarray) -> np.ndarray:
    site_idx, _, share = polygon_overlap(sites, dissolved)
    total = np.zeros(len(sites), dtype=float)
    np.add.at(total, site_idx, share)
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


#: Shares below this (0.01 %) count as 0: digitising noise of polygons that only touch.
SHARE_EPS = 1e-4


def classify_bbg(
    sites: gpd.GeoSeries,
    bbg: gpd.GeoSeries,
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
        ``bbg_ligging`` (str), ``bbg_afstand_m`` (float, 0 for binnen and
        deels), ``bbg_aandeel`` (float share inside), indexed like ``sites``.
    """
    dissolved = _dissolve(bbg)
    dissolved = dissolved[~(pd.isna(dissolved) | shapely.is_empty(dissolved))]
    if len(dissolved) == 0:
        # a distance to "nothing" is not 0: without any BBG geometry no site can be classified
        raise InputError(
            "[lagen.bebouwd_gebied] bevat geen bruikbare geometrie (alle objecten leeg of NULL): de"
            " ligging t.o.v. BBG kan niet bepaald worden. Kies de juiste laag of vul de geometrie."
        )
    share = _share_inside(sites, dissolved)
    share[share < SHARE_EPS] = 0.0
    geoms = np.asarray(sites.values, dtype=object)
    inside = share >= np.asarray(inside_share_min, dtype=float) - 1e-12
    inside |= share >= 1.0  # points inside or on the boundary
    partly = ~inside & (share > 0.0)
    distance = np.zeros(len(sites), dtype=float)
    outside_idx = np.flatnonzero(~inside & ~partly)
    if len(outside_idx):
        distance[outside_idx] = _nearest_distance(shapely.STRtree(dissolved), geoms[outside_idx])
    rand = np.broadcast_to(np.asarray(rand_m, dtype=float), distance.shape)
    position = np.where(
        inside, "binnen", np.where(partly, "deels", np.where(distance <= rand, "rand", "buiten"))
    )
    log.info(
        "BBG: %d binnen, %d deels, %d rand, %d buiten",
        int((position == "binnen").sum()),
        int(partly.sum()),
        int((position == "rand").sum()),
        int((position == "buiten").sum()),
    )
    return pd.DataFrame(
        {"bbg_ligging": position.astype(object), "bbg_afstand_m": distance, "bbg_aandeel": share},
        index=sites.index,
    )


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
    site_idx, poly_idx, share = polygon_overlap(
        sites, np.asarray(polygons.geometry.values, dtype=object)
    )
    n = len(sites)
    threshold = np.broadcast_to(np.asarray(min_share, dtype=float), (n,))
    best = np.full(n, -1, dtype=np.int64)
    best_share = np.zeros(n, dtype=float)
    if len(site_idx):
        # highest share first, then lowest polygon index: first row per site wins
        order = np.lexsort((poly_idx, -share, site_idx))
        s, p, sh = site_idx[order], poly_idx[order], share[order]
        first = np.ones(len(s), dtype=bool)
        first[1:] = s[1:] != s[:-1]
        ok = first & (sh > 0) & (sh >= threshold[s] - 1e-12)
        best[s[ok]] = p[ok]
        best_share[s[ok]] = sh[ok]
    out = pd.DataFrame(index=sites.index)
    found = best >= 0
    for col in columns:
        values = np.full(n, None, dtype=object)
        values[found] = polygons[col].to_numpy(dtype=object)[best[found]]
        out[col] = values
    out["_aandeel"] = best_share
    return out
