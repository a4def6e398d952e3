"""Concentration of labour-migrant housing per kern (population centre).

A kern is a polygon (a CBS wijk or kern outline) or a point (a CBS kern centroid) with a name and
its number of inhabitants. A site — and each existing housing location — belongs to the kern
polygon it overlaps most; where the kernen are points (or a site lies in no kern polygon while
the layer also has points), to the nearest kern point. Sites in no kern polygon of a polygon-only
layer belong to no kern.

Pure: GeoDataFrames in, arrays and DataFrames out; no file I/O.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from locatietoets.analysis.overlay import assign_polygon_attribute

__all__ = ["assign_kern", "existing_per_kern", "kern_concentration"]


def assign_kern(geometries: gpd.GeoSeries, kernen: gpd.GeoDataFrame) -> np.ndarray:
    """Position (row in ``kernen``) of the kern each geometry belongs to; -1 for none.

    Polygon kernen: the one the geometry overlaps most (a point: the one it lies in; ties to the
    first in the layer). Point kernen: the nearest (straight line; ties to the first).
    """
    n = len(geometries)
    pos = np.full(n, -1, dtype=np.int64)
    if n == 0 or len(kernen) == 0:
        return pos
    kern_geoms = np.asarray(kernen.geometry.values, dtype=object)
    polygonal = np.isin(shapely.get_type_id(kern_geoms), (3, 6))
    geoms = np.asarray(geometries.values if hasattr(geometries, "values") else geometries)
    if polygonal.any():
        rows = np.flatnonzero(polygonal)
        polys = gpd.GeoDataFrame({"_pos": rows}, geometry=kern_geoms[rows], crs=kernen.crs)
        hit = assign_polygon_attribute(
            gpd.GeoSeries(geoms, crs=kernen.crs), polys, ["_pos"], min_share=0.0
        )["_pos"].to_numpy(dtype=object)
        found = pd.notna(hit)
        pos[found] = hit[found].astype(np.int64)
    if (~polygonal).any():
        rows = np.flatnonzero(~polygonal)
        todo = np.flatnonzero(pos < 0)
        if todo.shape[0]:
            tree = shapely.STRtree(kern_geoms[rows])
            src, dst = tree.query_nearest(geoms[todo], all_matches=True)
            # ties: the first kern in the layer (lowest row), for each geometry once
            order = np.lexsort((dst, src))
            src, dst = src[order], dst[order]
            first = np.ones(src.shape[0], dtype=bool)
            first[1:] = src[1:] != src[:-1]
            pos[todo[src[first]]] = rows[dst[first]]
    return pos


def existing_per_kern(existing: gpd.GeoDataFrame | None, kernen: gpd.GeoDataFrame) -> np.ndarray:
    """Persons in existing labour-migrant housing per kern (row of ``kernen``).

    ``existing`` has float ``personen``; rows with an unknown number of persons count 0 (the
    reader warns about them). Housing that belongs to no kern is not counted.
    """
    total = np.zeros(len(kernen), dtype=float)
    if existing is None or len(existing) == 0:
        return total
    pos = assign_kern(existing.geometry, kernen)
    persons = np.nan_to_num(existing["personen"].to_numpy(dtype=float), nan=0.0)
    inside = pos >= 0
    np.add.at(total, pos[inside], persons[inside])
    return total


def kern_concentration(
    sites: pd.DataFrame, capacity: np.ndarray, *, max_share: float | None = None
) -> pd.DataFrame:
    """Per kern: the share of labour migrants if every given site were built.

    Parameters
    ----------
    sites
        Scored sites with ``kern``, ``kern_inwoners`` and ``arbeidsmigranten_in_kern`` (existing
        housing + that site's capacity, from the score run).
    capacity
        Per site the capacity in persons that counts (e.g. the usable capacity of the geschikt
        sites; 0 or NaN for sites that do not count).
    max_share
        The rule set's ``max_aandeel_kern``; when given, ``boven_maximum`` says whether the share
        after building exceeds it.

    Returns
    -------
    pandas.DataFrame
        One row per kern with a site, sorted by name: ``kern``, ``inwoners``, ``bestaand``
        (persons in existing housing), ``locaties`` (sites that count), ``capaciteit``,
        ``aandeel_nu`` (existing / inhabitants), ``aandeel_na_bouw`` ((existing + capacity) /
        inhabitants) and, with ``max_share``, ``boven_maximum``.
    """
    columns = ["kern", "inwoners", "bestaand", "locaties", "capaciteit", "aandeel_nu"]
    columns.append("aandeel_na_bouw")
    if max_share is not None:
        columns.append("boven_maximum")
    if "kern" not in sites.columns:
        return pd.DataFrame(columns=columns)
    kern = sites["kern"].astype(object)
    has = kern.notna().to_numpy() & (kern.astype(str).str.strip() != "").to_numpy()
    cap = np.nan_to_num(np.asarray(capacity, dtype=float), nan=0.0)
    own = (
        sites["capaciteit_personen"].to_numpy(dtype=float) if "capaciteit_personen" in sites else 0
    )
    frame = pd.DataFrame(
        {
            "kern": kern[has].to_numpy(),
            "inwoners": sites["kern_inwoners"].to_numpy(dtype=float)[has],
            # existing housing of the kern: the site's count minus its own capacity
            "bestaand": (
                sites["arbeidsmigranten_in_kern"].to_numpy(dtype=float)
                - np.nan_to_num(np.asarray(own, dtype=float) * np.ones(len(sites)), nan=0.0)
            )[has],
            "capaciteit": cap[has],
            "telt": (cap > 0)[has],
        }
    )
    if frame.empty:
        return pd.DataFrame(columns=columns)
    table = frame.groupby("kern", sort=True).agg(
        inwoners=("inwoners", "first"),
        bestaand=("bestaand", "max"),
        locaties=("telt", "sum"),
        capaciteit=("capaciteit", "sum"),
    )
    table = table.reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        people = table["inwoners"].to_numpy(dtype=float)
        table["aandeel_nu"] = np.where(people > 0, table["bestaand"] / people, np.nan)
        table["aandeel_na_bouw"] = np.where(
            people > 0, (table["bestaand"] + table["capaciteit"]) / people, np.nan
        )
    table["locaties"] = table["locaties"].astype("int64")
    if max_share is not None:
        table["boven_maximum"] = table["aandeel_na_bouw"].to_numpy() > float(max_share) + 1e-12
    return table[columns]
