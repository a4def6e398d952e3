"""A real-shaped province for the benchmark: the shapes that make overlays slow.

The project's first benchmark world has simple, disjoint BBG polygons. Real
BBG layers are delivered per gemeente or province: a handful of huge
multipolygons with thousands of vertices and holes. Odour contours overlap,
and about a third of the candidate sites are polygons (plots, buildings).
:func:`realshaped_layers` builds such a world, deterministically:

* ``gemeenten``: the real Limburg gemeenten (CBS 2022, ``admin/`` of the
  shared data) clipped to the extent, with their real GM codes; synthetic
  Voronoi cells when the shared data is absent.
* ``bebouwd_gebied``: the union of ~1,500 overlapping round kernen (radius
  150–800 m) clustered around the real bevolkingskernen 2021
  (``builtup/``; random centres when absent) and the real
  extremely urbanised CBS wijken, minus ~190 inner green areas (holes),
  cut along the gemeente borders and delivered as one multipolygon per
  gemeente: a few polygons with very many vertices and holes.
* ``geurcontouren``: four nested contours (3, 8, 14, 25 OUe/m³) around each
  farm; contours of neighbouring farms overlap.
* ``locaties``: sites inside the province part of the extent, half of them
  clustered around kernen; ``polygon_share`` of them are polygons (rotated
  plots of 15–60 m, one in ten with a courtyard hole).

Every reference layer carries the attribute ``bron`` saying it is FICTITIOUS
apart from the named real boundaries. Nothing here reads or writes files except the
shared real data (read-only); the benchmark writes the layers.
"""

from __future__ import annotations

from collections.abc import Callable
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from locatietoets.layers.worlds.builders import (
    BlobStyle,
    blobs,
    employer_layer,
    farm_layers,
    park_layer,
    site_table,
)

__all__ = ["realshaped_layers", "shared_data_dir", "REALSHAPED_SOURCE"]

#: The ``bron`` attribute of every generated layer.
REALSHAPED_SOURCE = (
    "FICTIEF benchmarkgebied (locatietoets benchmark); echte gemeente- en wijkgrenzen: CBS 2022"
)
_CRS = "EPSG:28992"


def shared_data_dir() -> Path | None:
    """The shared real data folder: ``$LOCATIETOETS_DATA``, else ``../shared/data`` next to the
    repository; None when neither exists."""
    env = os.environ.get("LOCATIETOETS_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2].parent / "shared" / "data")
    return next((p for p in candidates if (p / "admin").is_dir()), None)


#: The kernen, holes, contours and parks of the real-shaped world: rounder, more vertices.
_REAL_BLOBS = BlobStyle(48, 0.2, 6, 0.93, 1.07, True)


def _blobs(centres: np.ndarray, radius_m: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return blobs(centres, radius_m, rng, style=_REAL_BLOBS)


def _gemeenten(
    box: shapely.Polygon, data: Path | None, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    if data is not None:
        g = gpd.read_file(data / "admin" / "limburg_gemeenten_2022_cbs_tmap.geojson")
        g = g.set_crs(_CRS, allow_override=True)
        geom = shapely.intersection(np.asarray(g.geometry.values, dtype=object), box)
        keep = shapely.area(geom) > 0
        return gpd.GeoDataFrame(
            {
                "gemeentenaam": g["name"].to_numpy()[keep],
                "gemeentecode": g["code"].to_numpy()[keep],
            },
            geometry=geom[keep],
            crs=_CRS,
        ).reset_index(drop=True)
    xmin, ymin, xmax, ymax = box.bounds
    seeds = shapely.multipoints(np.c_[rng.uniform(xmin, xmax, 12), rng.uniform(ymin, ymax, 12)])
    cells = shapely.intersection(
        shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=box)), box
    )
    cells = cells[np.lexsort((shapely.bounds(cells)[:, 0], shapely.bounds(cells)[:, 1]))]
    return gpd.GeoDataFrame(
        {
            "gemeentenaam": [f"Fictiefgemeente {i + 1}" for i in range(len(cells))],
            "gemeentecode": [f"GM99{i + 1:02d}" for i in range(len(cells))],
        },
        geometry=cells,
        crs=_CRS,
    )


def _kernen(box: shapely.Polygon, data: Path | None, rng: np.random.Generator) -> np.ndarray:
    """(x, y, weight) of the population centres in the extent."""
    xmin, ymin, xmax, ymax = box.bounds
    if data is not None:
        k = pd.read_csv(data / "builtup" / "limburg_kernen_2021_centroids.csv")
        inside = k["x"].between(xmin, xmax) & k["y"].between(ymin, ymax)
        k = k[inside]
        if len(k):
            return np.c_[k["x"], k["y"], k["population"].astype(float)]
    n = 40
    return np.c_[
        rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n), rng.pareto(1.2, n) * 3000 + 1000
    ]


def _around_kernen(kernen: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points scattered around the kernen, more and wider around bigger ones."""
    weight = kernen[:, 2] / kernen[:, 2].sum()
    which = rng.choice(len(kernen), size=n, p=weight)
    spread = 100.0 + 7.0 * np.sqrt(kernen[which, 2])
    return kernen[which, :2] + rng.normal(0.0, 1.0, (n, 2)) * spread[:, None]


def _bbg(
    box: shapely.Polygon,
    land: shapely.Geometry,
    gemeenten: gpd.GeoDataFrame,
    kernen: np.ndarray,
    data: Path | None,
    rng: np.random.Generator,
    n_kernen: int,
) -> gpd.GeoDataFrame:
    parts = [_blobs(_around_kernen(kernen, n_kernen, rng), rng.uniform(150, 800, n_kernen), rng)]
    if data is not None:
        w = gpd.read_file(data / "admin" / "limburg_wijken_2022_cbs_tmap.geojson")
        urban = (w["urbanity"] == "extremely urbanised").to_numpy()
        parts.append(np.asarray(w.geometry.values, dtype=object)[urban])
    built = shapely.union_all(np.concatenate(parts))
    n_holes = max(n_kernen // 8, 1)
    holes = _blobs(_around_kernen(kernen, n_holes, rng), rng.uniform(50, 250, n_holes), rng)
    built = shapely.difference(built, shapely.union_all(holes))
    built = shapely.intersection(built, shapely.intersection(land, box))
    per_gemeente = shapely.intersection(np.asarray(gemeenten.geometry.values, dtype=object), built)
    per_gemeente = shapely.make_valid(per_gemeente)
    per_gemeente = shapely.get_parts(per_gemeente, return_index=True)
    polys, owner = per_gemeente
    areal = shapely.get_type_id(polys) == 3
    # one multipolygon per gemeente (index = gemeente row; gemeenten without BBG stay empty)
    geom = shapely.multipolygons(polys[areal], indices=owner[areal])
    keep = ~shapely.is_empty(geom)
    codes = gemeenten["gemeentecode"].to_numpy()[: len(geom)][keep]
    return gpd.GeoDataFrame({"gemeentecode": codes}, geometry=geom[keep], crs=_CRS)


def _plots(centres: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rotated rectangles of 15–60 m; one in ten has a courtyard hole."""
    n = len(centres)
    half = rng.uniform(7.5, 30.0, (n, 2))
    angle = rng.uniform(0, np.pi, n)
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1], [-1, -1]], dtype=float)

    def ring(scale: float) -> np.ndarray:
        local = corners[None, :, :] * half[:, None, :] * scale
        c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
        x = local[..., 0] * c - local[..., 1] * s + centres[:, :1]
        y = local[..., 0] * s + local[..., 1] * c + centres[:, 1:]
        return np.round(np.stack([x, y], axis=-1), 2)

    shells = shapely.linearrings(ring(1.0))
    holes = shapely.linearrings(ring(0.4)[:, ::-1])
    with_hole = rng.random(n) < 0.1
    out = shapely.polygons(shells)
    out[with_hole] = [
        shapely.Polygon(shapely.get_coordinates(s), [shapely.get_coordinates(h)])
        for s, h in zip(shells[with_hole], holes[with_hole])
    ]
    return out


def realshaped_layers(
    box: tuple[float, float, float, float],
    *,
    n_sites: int,
    n_kernen: int = 1500,
    n_farms: int = 5000,
    n_parks: int = 300,
    n_employers: int = 1000,
    polygon_share: float = 0.3,
    seed: int = 8,
    data: Path | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """The layers of a real-shaped province in ``box`` (xmin, ymin, xmax, ymax; EPSG:28992).

    Parameters
    ----------
    box
        Extent of the world (the benchmark's road grid).
    n_sites
        Number of candidate sites; ``polygon_share`` of them are polygons.
    n_kernen
        Number of overlapping round kernen dissolved into the BBG.
    data
        The shared real data folder (:func:`shared_data_dir`); None builds
        everything synthetically.

    Returns
    -------
    dict
        ``locaties``, ``bebouwd_gebied``, ``geurcontouren``, ``veehouderijen``,
        ``recreatieparken``, ``werkgevers``, ``gemeenten`` (GeoDataFrames, EPSG:28992,
        fields as the benchmark's ``config.toml`` names them).
    """
    rng = np.random.default_rng(seed)
    extent = shapely.box(*box)
    gemeenten = _gemeenten(extent, data, rng)
    land = shapely.union_all(np.asarray(gemeenten.geometry.values, dtype=object))
    prepared_land = shapely.intersection(land, extent)
    shapely.prepare(prepared_land)
    kernen = _kernen(extent, data, rng)
    xmin, ymin, xmax, ymax = box

    def on_land(points_of: Callable[[int], np.ndarray], n: int) -> np.ndarray:
        out = np.empty((0, 2))
        while len(out) < n:
            xy = points_of(max(2 * (n - len(out)), 64))
            keep = shapely.contains_xy(prepared_land, xy[:, 0], xy[:, 1])
            out = np.concatenate([out, xy[keep]])
        return out[:n]

    def uniform(n: int) -> np.ndarray:
        return np.c_[rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n)]

    bbg = _bbg(extent, land, gemeenten, kernen, data, rng, n_kernen)

    farms, contours = farm_layers(on_land(uniform, n_farms), rng, _blobs)
    parks = park_layer(on_land(uniform, n_parks), rng, _blobs)
    employers = employer_layer(on_land(lambda n: _around_kernen(kernen, n, rng), n_employers))

    n_near = n_sites // 2
    xy = np.concatenate(
        [
            on_land(lambda n: _around_kernen(kernen, n, rng), n_near),
            on_land(uniform, n_sites - n_near),
        ]
    )
    xy = xy[rng.permutation(n_sites)]
    geom = shapely.points(xy)
    is_polygon = rng.random(n_sites) < polygon_share
    geom[is_polygon] = _plots(xy[is_polygon], rng)
    sites = site_table(n_sites, rng, lambda: geom)
    layers = {
        "locaties": sites,
        "bebouwd_gebied": bbg,
        "geurcontouren": contours,
        "veehouderijen": farms,
        "recreatieparken": parks,
        "werkgevers": employers,
        "gemeenten": gemeenten,
    }
    for name, frame in layers.items():
        if name != "locaties":  # input fields of the sites are copied into the results
            frame["bron"] = REALSHAPED_SOURCE
    return layers
