"""Drawing primitives of the maps: extent, scale bar, north arrow, clipping, point symbols.

Everything here draws on a matplotlib Axes in RD New metres (EPSG:28992); which layers a map
holds and in which order is decided in ``maps.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
import math

import geopandas as gpd
from matplotlib.patches import Polygon as MplPolygon, Rectangle
import matplotlib.patheffects as path_effects
import numpy as np
import pandas as pd
import shapely

from locatietoets.analysis.vocabulary import MAP_COLOURS, nl_number

__all__ = [
    "clip",
    "free_spot",
    "symbol_diameter",
    "draw_north_arrow",
    "draw_scalebar",
    "fit_extent",
    "length_label",
    "nice_length",
    "nice_scale",
    "odour_classes",
    "point_xy",
    "purple",
]

_TEXT = MAP_COLOURS["text"]
_GREY_TEXT = MAP_COLOURS["grey_text"]


def fit_extent(
    bounds: Sequence[float], aspect: float, pad: float = 0.05
) -> tuple[float, float, float, float]:
    """Return (xmin, xmax, ymin, ymax) around ``bounds`` with width/height = ``aspect``."""
    xmin, ymin, xmax, ymax = bounds
    w = max(xmax - xmin, 500.0)
    h = max(ymax - ymin, 500.0)
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    w, h = w * (1 + 2 * pad), h * (1 + 2 * pad)
    if w / h > aspect:
        h = w / aspect
    else:
        w = h * aspect
    return cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2


def nice_length(target_m: float) -> float:
    steps = (1, 2, 2.5, 5)
    best = 1.0
    for exp in range(0, 7):
        for s in steps:
            value = s * 10**exp
            if value <= target_m:
                best = value
    return best


def length_label(metres: float) -> str:
    if metres >= 1000:
        km = metres / 1000
        return f"{km:g}".replace(".", ",") + " km"
    return f"{metres:g} m"


def nice_scale(denominator: float) -> int:
    if denominator <= 0:
        return 0
    exp = 10 ** math.floor(math.log10(denominator))
    for s in (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5, 8, 10):
        if s * exp >= denominator * 0.97:
            return int(s * exp)
    return int(10 * exp)


def draw_scalebar(ax, extent: tuple[float, float, float, float], axes_width_in: float) -> None:
    """Draw an alternating black/white scale bar (RD metres) bottom-left, with the A4 scale."""
    xmin, xmax, ymin, ymax = extent
    width = xmax - xmin
    height = ymax - ymin
    length = nice_length(width / 5)
    n_seg = 4 if (length / 4) == int(length / 4) and length / 4 >= 1 else 2
    seg = length / n_seg
    x0 = xmin + 0.035 * width
    y0 = ymin + 0.045 * height
    bar_h = 0.011 * height
    scale = nice_scale(width / (axes_width_in * 0.0254))
    backing = Rectangle(
        (x0 - 0.015 * width, y0 - 0.032 * height),
        length + 0.09 * width,
        0.092 * height,
        facecolor="white",
        edgecolor="#9a9a9a",
        linewidth=0.5,
        alpha=0.88,
        zorder=20,
    )
    ax.add_patch(backing)
    for i in range(n_seg):
        ax.add_patch(
            Rectangle(
                (x0 + i * seg, y0),
                seg,
                bar_h,
                facecolor="black" if i % 2 == 0 else "white",
                edgecolor="black",
                linewidth=0.6,
                zorder=21,
            )
        )
    labels = [
        (0.0, "0"),
        (length / 2, length_label(length / 2).split()[0]),
        (length, length_label(length)),
    ]
    for pos, text in labels:
        ax.text(
            x0 + pos,
            y0 + bar_h + 0.008 * height,
            text,
            ha="center",
            va="bottom",
            fontsize=7,
            color=_TEXT,
            zorder=22,
        )
    ax.text(
        x0,
        y0 - 0.012 * height,
        f"Schaal 1:{nl_number(scale)} op A4",
        ha="left",
        va="top",
        fontsize=6.5,
        color=_GREY_TEXT,
        zorder=22,
    )


def draw_north_arrow(ax, *, left: bool = False) -> None:
    """Draw a north arrow top-right, or top-left with ``left`` (RD New grid north, within 2° of
    true north in Limburg)."""
    x, y, h, w = (0.05 if left else 0.95), 0.855, 0.075, 0.022
    left = MplPolygon(
        [(x, y + h), (x - w, y), (x, y + 0.22 * h)],
        closed=True,
        transform=ax.transAxes,
        facecolor="black",
        edgecolor="black",
        linewidth=0.6,
        zorder=22,
    )
    right = MplPolygon(
        [(x, y + h), (x + w, y), (x, y + 0.22 * h)],
        closed=True,
        transform=ax.transAxes,
        facecolor="white",
        edgecolor="black",
        linewidth=0.6,
        zorder=22,
    )
    ax.add_patch(
        Rectangle(
            (x - 0.04, y - 0.02),
            0.08,
            h + 0.075,
            transform=ax.transAxes,
            facecolor="white",
            edgecolor="#9a9a9a",
            linewidth=0.5,
            alpha=0.88,
            zorder=21,
        )
    )
    ax.add_patch(left)
    ax.add_patch(right)
    ax.text(
        x,
        y + h + 0.012,
        "N",
        transform=ax.transAxes,
        ha="center",
        va="bottom",
        fontsize=11,
        fontweight="bold",
        color=_TEXT,
        zorder=22,
        path_effects=[path_effects.withStroke(linewidth=2.5, foreground="white")],
    )


def point_xy(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    geoms = frame.geometry.to_numpy()
    ok = ~(pd.isna(geoms) | shapely.is_empty(geoms))
    pts = shapely.point_on_surface(geoms[ok])
    return shapely.get_x(pts), shapely.get_y(pts)


def odour_classes(values: np.ndarray) -> list[float]:
    """Return at most six lower class bounds (OUe/m³) for the odour contours."""
    unique = np.unique(values[np.isfinite(values)])
    if len(unique) <= 6:
        return [float(v) for v in unique]
    qs = np.unique(np.quantile(unique, np.linspace(0, 1, 7)[:-1]))
    return [float(v) for v in qs]


def purple(i: int, n: int) -> tuple[float, float, float]:
    from matplotlib import colormaps

    cmap = colormaps["Purples"]
    return cmap(0.30 + 0.6 * (i / max(n - 1, 1)))[:3]


def clip(
    frame: gpd.GeoDataFrame | None, extent: tuple[float, float, float, float]
) -> gpd.GeoDataFrame | None:
    if frame is None or frame.empty:
        return None
    xmin, xmax, ymin, ymax = extent
    part = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    part = part.cx[xmin:xmax, ymin:ymax]
    return part if len(part) else None


def symbol_diameter(x: np.ndarray, y: np.ndarray, extent, axes_in: tuple[float, float]) -> float:
    """Marker diameter (points) for ``x, y`` on a map of ``axes_in`` inches: about half the
    spacing of the sites where they lie densest (the 95th percentile of a 40 × 30 grid), from
    2,6 to 8 points, so that dense kernen do not turn into one blot and sparse maps stay
    legible."""
    xmin, xmax, ymin, ymax = extent
    if len(x) == 0:
        return 6.0
    counts, _, _ = np.histogram2d(x, y, bins=(40, 30), range=((xmin, xmax), (ymin, ymax)))
    busy = counts[counts > 0]
    dense = float(np.percentile(busy, 95)) if len(busy) else 1.0
    cell_pt2 = (axes_in[0] * 72 / 40) * (axes_in[1] * 72 / 30)
    return float(np.clip(0.6 * math.sqrt(cell_pt2 / max(dense, 1.0)), 2.6, 8.0))


def free_spot(
    candidates: np.ndarray, x: np.ndarray, y: np.ndarray, half_w: float, half_h: float
) -> int:
    """Index of the candidate point (rows of x, y) whose label box (± half_w, ± half_h metres)
    covers the fewest sites; the first candidate wins a tie (put the preferred spot first)."""
    best, best_n = 0, None
    for i, (cx, cy) in enumerate(candidates):
        n = int(((np.abs(x - cx) < half_w) & (np.abs(y - cy) < half_h)).sum())
        if best_n is None or n < best_n:
            best, best_n = i, n
            if n == 0:
                break
    return best
