"""Pieces both benchmark worlds draw from the same random stream: blobs, farms with their odour
contours, parks, employers and the sites' attributes.

Used by :mod:`layers.worlds.province` (the synthetic world) and
:mod:`layers.worlds.realshaped` (the real-shaped world), so that the same seed
gives the same world whichever module draws it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from locatietoets.analysis.vocabulary import STAY_TYPES

__all__ = [
    "Blobs",
    "BlobStyle",
    "SYNTHETIC_BLOBS",
    "blobs",
    "employer_layer",
    "farm_layers",
    "park_layer",
    "site_table",
]

_CRS = "EPSG:28992"
#: The odour values (OUe/m³) of the four nested contours of every farm and their base radii (m).
_CONTOUR_VALUES = np.array([3.0, 8.0, 14.0, 25.0])
_CONTOUR_RADII_M = np.array([450.0, 260.0, 150.0, 70.0])


class BlobStyle(NamedTuple):
    """How irregular :func:`blobs` are."""

    vertices: int
    #: amplitude of the lobes (share of the radius)
    wobble: float
    #: number of lobes: 2 up to (not including) this
    lobes_max: int
    #: random radial factor per vertex, uniform in [jitter_low, jitter_high)
    jitter_low: float
    jitter_high: float
    #: coordinates rounded to the centimetre
    rounded: bool


#: The star-shaped blobs of the synthetic world (coordinates not rounded).
SYNTHETIC_BLOBS = BlobStyle(24, 0.25, 5, 0.9, 1.1, False)


def blobs(
    centres: np.ndarray,
    radius_m: np.ndarray,
    rng: np.random.Generator,
    *,
    style: BlobStyle = SYNTHETIC_BLOBS,
    vertices: int | None = None,
) -> np.ndarray:
    """Irregular star-shaped polygons (one per centre), built in one shapely call.

    ``style`` sets the number of vertices (``vertices`` overrides it), the
    amplitude of the lobes, their largest count (exclusive), the random radial
    jitter and whether coordinates are rounded to the centimetre.
    """
    n_vertices = vertices or style.vertices
    n = len(centres)
    theta = np.linspace(0.0, 2.0 * np.pi, n_vertices, endpoint=False)
    wobble = 1.0 + style.wobble * np.sin(
        theta[None, :] * rng.integers(2, style.lobes_max, (n, 1))
        + rng.uniform(0, 2 * np.pi, (n, 1))
    )
    r = (
        radius_m[:, None]
        * wobble
        * rng.uniform(style.jitter_low, style.jitter_high, (n, n_vertices))
    )
    ring = np.stack(
        [centres[:, :1] + r * np.cos(theta), centres[:, 1:] + r * np.sin(theta)], axis=-1
    )
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    return shapely.polygons(np.round(ring, 2) if style.rounded else ring)


Blobs = Callable[[np.ndarray, np.ndarray, np.random.Generator], np.ndarray]


def farm_layers(
    farm_xy: np.ndarray, rng: np.random.Generator, contour_blobs: Blobs
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The farms at ``farm_xy`` (one in ten with an own fixed distance of 250 m) and their four
    nested odour contours each (3, 8, 14, 25 OUe/m³, drawn by ``contour_blobs``)."""
    n_farms = len(farm_xy)
    own = np.where(rng.random(n_farms) < 0.1, 250.0, np.nan)
    names = np.array([f"veehouderij {i + 1:04d}" for i in range(n_farms)], dtype=object)
    farms = gpd.GeoDataFrame(
        {"naam": names, "vaste_afstand_m": own}, geometry=shapely.points(farm_xy), crs=_CRS
    )
    scale = rng.uniform(0.5, 1.3, n_farms)
    contours = gpd.GeoDataFrame(
        {"geur_oue": np.tile(_CONTOUR_VALUES, n_farms), "bedrijf": np.repeat(names, 4)},
        geometry=contour_blobs(
            np.repeat(farm_xy, 4, axis=0), (scale[:, None] * _CONTOUR_RADII_M[None, :]).ravel(), rng
        ),
        crs=_CRS,
    )
    return farms, contours


def park_layer(
    park_xy: np.ndarray, rng: np.random.Generator, park_blobs: Blobs
) -> gpd.GeoDataFrame:
    """Recreation parks of radius 150–500 m around ``park_xy``."""
    n_parks = len(park_xy)
    return gpd.GeoDataFrame(
        {"naam": [f"recreatiepark {i + 1:03d}" for i in range(n_parks)]},
        geometry=park_blobs(park_xy, rng.uniform(150, 500, n_parks), rng),
        crs=_CRS,
    )


def employer_layer(employer_xy: np.ndarray) -> gpd.GeoDataFrame:
    """Employers (points) at ``employer_xy``."""
    return gpd.GeoDataFrame(
        {"naam": [f"werkgever {i + 1:04d}" for i in range(len(employer_xy))]},
        geometry=shapely.points(employer_xy),
        crs=_CRS,
    )


def site_table(
    n_sites: int,
    rng: np.random.Generator,
    geometry: Callable[[], np.ndarray],
    *,
    first: int = 1,
) -> gpd.GeoDataFrame:
    """``n_sites`` candidate sites: random stay type, housing form, persons, bedrooms, floor area.

    ``geometry()`` is called after the attributes are drawn (the order the
    generator's random stream has always had); ``first`` is the number in
    the first ``locatie_code`` (``L0000001``).
    """
    stay = np.array(STAY_TYPES, dtype=object)[rng.integers(0, 3, n_sites)]
    form = np.array([None, None, None, "logies", "woonfunctie"], dtype=object)[
        rng.integers(0, 5, n_sites)
    ]
    persons = rng.integers(2, 61, n_sites).astype(float)
    columns = {
        "locatie_code": (
            pd.Series(np.arange(first, first + n_sites))
            .astype(str)
            .str.zfill(7)
            .radd("L")
            .to_numpy(dtype=object)
        ),
        "verblijfstype": stay,
        "huisvestingsvorm": form,
        "personen": persons,
        "slaapkamers": np.ceil(persons / rng.uniform(1.5, 2.6, n_sites)),
        "woonoppervlak_m2": np.round(persons * rng.uniform(8, 20, n_sites), 1),
    }
    return gpd.GeoDataFrame(columns, geometry=geometry(), crs=_CRS)
