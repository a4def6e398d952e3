"""The suitability grid: a regular grid over an area whose cells are scored as point sites.

Pure logic on arrays (``layers.publish.rasters`` writes the rasters). All
geometry is EPSG:28992 (RD New, metres).
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np
import pandas as pd
import shapely

from locatietoets.analysis.errors import InputError
from locatietoets.analysis.texts import nl_number, nl_value
from locatietoets.analysis.vocabulary import VERDICTS

__all__ = [
    "NO_VERDICT_CODE",
    "VERDICT_CODES",
    "GridSpec",
    "grid_over_area",
    "grid_sites",
    "verdict_codes",
]

#: Verdict → raster class value (0 is nodata).
VERDICT_CODES: dict[str, int] = {v: i for i, v in enumerate(VERDICTS, start=1)}  # 1 geschikt .. 3
#: Raster value of cells without a verdict.
NO_VERDICT_CODE = 0


@dataclass(frozen=True)
class GridSpec:
    """A north-up grid in EPSG:28992.

    Attributes
    ----------
    west, north
        Coordinates (m) of the grid's upper-left corner; multiples of ``cell_m``.
    cell_m
        Cell size in metres.
    width, height
        Number of columns and rows.
    """

    west: float
    north: float
    cell_m: float
    width: int
    height: int

    @property
    def transform(self) -> tuple[float, float, float, float, float, float]:
        """Affine coefficients (a, b, c, d, e, f) as used by rasterio."""
        return (self.cell_m, 0.0, self.west, 0.0, -self.cell_m, self.north)

    def centres(self, flat_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre coordinates (m) of the cells at ``flat_index`` (row-major)."""
        row, col = np.divmod(np.asarray(flat_index, dtype=np.int64), self.width)
        return self.west + (col + 0.5) * self.cell_m, self.north - (row + 0.5) * self.cell_m


def grid_over_area(
    area: shapely.Geometry, *, cell_m: float, max_cells: int = 50_000_000
) -> tuple[GridSpec, np.ndarray]:
    """Lay a regular grid over ``area`` and mark the cells whose centre lies in it.

    The grid origin is snapped to multiples of ``cell_m``, so grids of the
    same cell size line up across runs.

    Parameters
    ----------
    area
        A (multi)polygon in EPSG:28992.
    cell_m
        Cell size in metres (> 0).
    max_cells
        Refuse grids larger than this (width × height).

    Returns
    -------
    grid
        The grid.
    inside
        Boolean array ``(height, width)``: cell centre inside ``area``.
    """
    if not (cell_m > 0 and math.isfinite(cell_m)):
        raise InputError(f"De celgrootte moet een positief getal in meters zijn, niet {cell_m!r}.")
    if area is None or area.is_empty:
        raise InputError(
            "Het gebied voor het raster is leeg: geef een gemeentelaag of locaties met geometrie."
        )
    minx, miny, maxx, maxy = area.bounds
    west = math.floor(minx / cell_m) * cell_m
    south = math.floor(miny / cell_m) * cell_m
    east = math.ceil(maxx / cell_m) * cell_m
    north = math.ceil(maxy / cell_m) * cell_m
    width = max(int(round((east - west) / cell_m)), 1)
    height = max(int(round((north - south) / cell_m)), 1)
    if width * height > max_cells:
        raise InputError(
            f"Het raster wordt te groot: {nl_number(width)} × {nl_number(height)} ="
            f" {nl_number(width * height)} cellen van {nl_value(cell_m)} m (maximum"
            f" {nl_number(max_cells)}). Kies een grotere --cel."
        )
    grid = GridSpec(west=west, north=north, cell_m=float(cell_m), width=width, height=height)
    shapely.prepare(area)
    inside = np.zeros(width * height, dtype=bool)
    step = max(1, 2_000_000 // width)
    for r0 in range(0, height, step):  # row blocks bound memory; each block is one vectorised call
        idx = np.arange(r0 * width, min(height, r0 + step) * width)
        x, y = grid.centres(idx)
        inside[idx] = shapely.contains_xy(area, x, y)
    return grid, inside.reshape(height, width)


def grid_sites(grid: GridSpec, flat_index: np.ndarray) -> pd.DataFrame:
    """Point sites at the centres of the given cells, in the form ``score_sites`` expects.

    Returns a frame with ``locatie_id`` (the flat cell index), verblijfstype
    ``short_stay`` (every stay type is judged anyway), no housing attributes
    and point geometry (column ``geometry``, EPSG:28992 by convention).
    """
    x, y = grid.centres(flat_index)
    n = len(x)
    return pd.DataFrame(
        {
            "locatie_id": np.asarray(flat_index, dtype=np.int64),
            "verblijfstype": np.full(n, "short_stay", dtype=object),
            "huisvestingsvorm": np.full(n, None, dtype=object),
            "personen": np.full(n, np.nan),
            "slaapkamers": np.full(n, np.nan),
            "woonoppervlak_m2": np.full(n, np.nan),
            "eigen_werkgever": np.full(n, None, dtype=object),
            "geometrie_status": np.full(n, "ok", dtype=object),
            "geometry": shapely.points(x, y),
        }
    )


def verdict_codes(verdicts: pd.Series | np.ndarray) -> np.ndarray:
    """Return the raster class of each verdict (1 geschikt, 2 voorwaardelijk, 3 ongeschikt, 0 none)
    as uint8.
    """
    values = np.asarray(verdicts, dtype=object)
    out = np.zeros(len(values), dtype=np.uint8)
    for verdict, code in VERDICT_CODES.items():
        out[values == verdict] = code
    return out
