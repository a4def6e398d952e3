"""The reference layers of the woonvisie maps as one table: what is drawn, how, and its legend.

:data:`MAP_LAYERS` lists every layer the command line's maps draw around the sites, in legend
order: its source (a ``referentie.gpkg`` layer, a prefix for the declared constraint layers and
facility kinds, the configured road network by class, the gemeente boundaries), how it is drawn
(a :class:`Look`: fill, dashed outline, hatching, roads, odour classes, markers, boundaries), its
colour, its z-order on the map and its legend label. :func:`draw_reference_layers` draws a map's
layers from the table and returns the legend items in the same order, so a layer cannot be drawn
without its legend item or the other way round. Colours come from analysis/vocabulary.py, shared
with the plugin's atlas.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Any

import geopandas as gpd
from matplotlib import patheffects as path_effects
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
import numpy as np
import pandas as pd

from locatietoets.analysis.vocabulary import (
    CONSTRAINT_COLOURS,
    FACILITY_COLOURS,
    MAP_COLOURS,
    nl_number,
    reference_label,
)
from locatietoets.layers.publish.cartography import clip, point_xy, purple
from locatietoets.layers.publish.runfolder import RunFolder

__all__ = ["Look", "MapLayer", "MAP_LAYERS", "ROAD_CLASSES_DRAWN", "draw_reference_layers"]

#: A legend item: (handle, label, is_header).
LegendItem = tuple[Any, str, bool]


@dataclass(frozen=True)
class Look:
    """How a layer is drawn (matplotlib units: line widths in points, marker areas in pt²).

    ``kind`` is one of ``fill`` (filled areas), ``outline`` (area outlines as lines), ``hatch``
    (hatched area outlines), ``mixed`` (hatched areas, lines, crosses for points: the declared
    constraint layers), ``markers`` (points, or a point on every area), ``roads`` (the network by
    class), ``odour`` (contour classes) and ``boundary`` (gemeente boundaries and the focus area).
    """

    kind: str
    linewidth: float = 0.8
    linestyle: Any = "-"
    hatch: str = ""
    marker: str = "o"
    size: float = 16.0  # marker area (pt²) on the map
    legend_size: float = 5.0  # marker size (pt) in the legend
    legend_linewidth: float = 0.9
    edgecolor: str = "white"  # marker outline
    halo: bool = False  # a white halo around the outline: markers drawn over the sites


@dataclass(frozen=True)
class MapLayer:
    """One row of the table.

    Attributes
    ----------
    source
        A ``referentie.gpkg`` layer (``bebouwd_gebied``), a prefix ending in ``.`` for every
        declared layer of that kind (``beperkingen.``, ``voorzieningen.``, in name order), or a
        class of the configured road network (``wegen:hoofdweg``).
    look
        How it is drawn.
    colours
        Its colour; a prefix cycles through them, one per declared layer.
    zorder
        Stacking on the map: background fills 1, areas 2–5, boundaries 6–7, farms 8, the sites
        9–10 (the focus area on top, ongeschikt last within each), employers 11, existing housing
        and facilities 12 (few points a planner looks for, which dense site dots would hide; a
        dark outline and a white halo keep them readable on every verdict colour), labels 14–15.
    label
        Legend label; ``None``: the shared name (analysis.vocabulary.reference_label).
    max_width_m
        Drawn (and in the legend) only on maps at most this wide (local roads: 25 km).
    """

    source: str
    look: Look
    colours: tuple[str, ...]
    zorder: float
    label: str | None = None
    max_width_m: float = math.inf


_HATCH = "/////"
#: Outline of the markers drawn over the sites (existing housing, facilities).
_MARKER_EDGE = "#1e1e1e"
_CROSS_HATCH = "\\\\\\"
#: The reference layers of the maps, in legend order (the odour classes get their own legend
#: block after the others).
MAP_LAYERS: tuple[MapLayer, ...] = (
    MapLayer("bebouwd_gebied", Look("fill"), (MAP_COLOURS["bbg"],), 2),
    MapLayer(
        "bebouwde_kom",
        Look("outline", linewidth=0.6, linestyle=(0, (3, 2)), legend_linewidth=0.9),
        (MAP_COLOURS["kom"],),
        3,
    ),
    MapLayer("wegen:hoofdweg", Look("roads", linewidth=1.6), ("#8d8d8d",), 2.5, "Hoofdweg"),
    MapLayer(
        "wegen:regionale weg", Look("roads", linewidth=0.9), ("#a3a3a3",), 2.5, "Regionale weg"
    ),
    MapLayer(
        "wegen:lokale weg",
        Look("roads", linewidth=0.35),
        ("#b9b9b9",),
        2.5,
        "Lokale weg",
        max_width_m=25_000.0,
    ),
    MapLayer("geurcontouren", Look("odour", linewidth=0.35), (), 4),
    MapLayer("recreatieparken", Look("hatch", hatch=_HATCH), (MAP_COLOURS["park"],), 5),
    MapLayer("beperkingen.", Look("mixed", hatch=_CROSS_HATCH), CONSTRAINT_COLOURS, 5),
    MapLayer(
        "kernen",
        Look("outline", linewidth=0.9, linestyle=(0, (1, 1.5)), legend_linewidth=1.0),
        (MAP_COLOURS["kern"],),
        5,
    ),
    MapLayer(
        "bestaande_huisvesting",
        Look(
            "markers",
            marker="D",
            size=22,
            legend_size=5.5,
            linewidth=0.5,
            edgecolor=_MARKER_EDGE,
            halo=True,
        ),
        (MAP_COLOURS["housing"],),
        12,
    ),
    MapLayer(
        "voorzieningen.",
        Look(
            "markers",
            marker="P",
            size=38,
            legend_size=7.5,
            linewidth=0.5,
            edgecolor=_MARKER_EDGE,
            halo=True,
        ),
        FACILITY_COLOURS,
        12,
    ),
    MapLayer("gemeenten", Look("boundary", linewidth=0.6), (MAP_COLOURS["boundary"],), 6),
    MapLayer(
        "veehouderijen",
        Look("markers", marker="^", size=16, legend_size=5, linewidth=0.4),
        (MAP_COLOURS["farm"],),
        8,
    ),
    MapLayer(
        "werkgevers",
        Look("markers", marker="s", size=30, legend_size=6, linewidth=0.6),
        (MAP_COLOURS["employer"],),
        11,
    ),
)
#: The road classes the maps draw (layers/publish/runfolder.py ROAD_CLASSES).
ROAD_CLASSES_DRAWN: tuple[str, ...] = tuple(
    r.source.removeprefix("wegen:") for r in MAP_LAYERS if r.source.startswith("wegen:")
)


@dataclass
class MapContext:
    """What the drawing of one map needs besides the table."""

    ax: Axes
    run: RunFolder
    extent: tuple[float, float, float, float]
    width: float
    roads: gpd.GeoDataFrame | None
    odour_bounds: list[float]
    gemeenten: gpd.GeoDataFrame | None  # clipped to the map
    scope: str
    focus: Any
    names: tuple[str, ...]


def _instances(row: MapLayer, ctx: MapContext) -> list[tuple[str, str, str]]:
    """(layer name, colour, label) of the layers a row stands for on this map (none when absent)."""
    if row.source.startswith("wegen:"):
        return [(row.source, row.colours[0], row.label or "")]
    if row.source == "gemeenten":
        present = ctx.gemeenten is not None
        return [(row.source, row.colours[0], row.label or reference_label("gemeenten"))] * present
    if row.source.endswith("."):
        names = sorted(n for n in ctx.run.reference if n.startswith(row.source))
        return [
            (n, row.colours[k % len(row.colours)], row.label or reference_label(n))
            for k, n in enumerate(names)
        ]
    if row.source not in ctx.run.reference:
        return []
    return [(row.source, row.colours[0] if row.colours else "", row.label or "")]


def _fill(row, layer, colour, ctx):
    if layer is not None:
        layer.plot(ax=ctx.ax, color=colour, edgecolor="none", zorder=row.zorder)
    return Patch(facecolor=colour, edgecolor="none")


def _outline(row, layer, colour, ctx):
    look = row.look
    if layer is not None and len(layer):
        kinds = layer.geometry.geom_type.astype(str)
        areas = layer[kinds.str.contains("Polygon")]
        if len(areas):
            areas.boundary.plot(
                ax=ctx.ax,
                color=colour,
                linewidth=look.linewidth,
                linestyle=look.linestyle,
                zorder=row.zorder,
            )
        points = layer[kinds.str.contains("Point")]
        if len(points):  # kernen given as points
            px, py = point_xy(points)
            ctx.ax.scatter(px, py, marker="o", s=10, facecolor="none", edgecolor=colour, zorder=8)
    return Line2D([], [], color=colour, linewidth=look.legend_linewidth, linestyle=look.linestyle)


def _hatch(row, layer, colour, ctx):
    look = row.look
    if layer is not None:
        layer.plot(
            ax=ctx.ax,
            facecolor="none",
            edgecolor=colour,
            hatch=look.hatch,
            linewidth=look.linewidth,
            zorder=row.zorder,
        )
    return Patch(facecolor="none", edgecolor=colour, hatch=look.hatch, linewidth=look.linewidth)


def _mixed(row, layer, colour, ctx):
    look = row.look
    if layer is not None and len(layer):
        kinds = layer.geometry.geom_type.astype(str)
        areas = layer[kinds.str.contains("Polygon")]
        lines = layer[kinds.str.contains("LineString")]
        points = layer[kinds.str.contains("Point")]
        if len(areas):
            areas.plot(
                ax=ctx.ax,
                facecolor="none",
                edgecolor=colour,
                hatch=look.hatch,
                linewidth=look.linewidth,
                zorder=row.zorder,
            )
        if len(lines):
            lines.plot(ax=ctx.ax, color=colour, linewidth=1.2, zorder=row.zorder)
        if len(points):
            px, py = point_xy(points)
            ctx.ax.scatter(px, py, marker="x", s=14, color=colour, linewidth=0.8, zorder=8)
    return Patch(facecolor="none", edgecolor=colour, hatch=look.hatch, linewidth=look.linewidth)


def _markers(row, layer, colour, ctx):
    look = row.look
    if layer is not None and len(layer):
        px, py = point_xy(layer)
        ctx.ax.scatter(
            px,
            py,
            marker=look.marker,
            s=look.size,
            facecolor=colour,
            edgecolor=look.edgecolor,
            linewidth=look.linewidth,
            zorder=row.zorder,
            path_effects=(
                [path_effects.withStroke(linewidth=look.linewidth + 1.8, foreground="white")]
                if look.halo
                else None
            ),
        )
    return Line2D(
        [],
        [],
        marker=look.marker,
        linestyle="none",
        markersize=look.legend_size,
        markerfacecolor=colour,
        markeredgecolor=look.edgecolor,
        markeredgewidth=look.linewidth if look.halo else 1.0,
    )


def _boundary(row, layer, colour, ctx):
    gem = ctx.gemeenten
    gem.boundary.plot(ax=ctx.ax, color=colour, linewidth=row.look.linewidth, zorder=row.zorder)
    text = MAP_COLOURS["text"]
    if ctx.scope == "regio":
        gpd.GeoSeries([ctx.focus], crs=gem.crs).boundary.plot(
            ax=ctx.ax, color=text, linewidth=1.8, zorder=row.zorder + 1
        )
    elif ctx.scope == "gemeente":
        gem[gem["naam"].isin(ctx.names)].boundary.plot(
            ax=ctx.ax, color=text, linewidth=1.6, zorder=row.zorder + 1
        )
    else:
        gpd.GeoSeries([ctx.focus], crs=gem.crs).boundary.plot(
            ax=ctx.ax, color=text, linewidth=1.2, zorder=row.zorder + 1
        )
    return Line2D([], [], color=colour, linewidth=0.8)


def _roads(row, colour, ctx) -> Any:
    klasse = row.source.removeprefix("wegen:")
    if ctx.roads is None or ctx.width > row.max_width_m:
        return None
    part = clip(ctx.roads[ctx.roads["klasse"] == klasse], ctx.extent)
    if part is None:
        return None
    lw = row.look.linewidth
    part.plot(ax=ctx.ax, color=colour, linewidth=lw, zorder=row.zorder, capstyle="round")
    return Line2D([], [], color=colour, linewidth=lw + 0.3)


def _odour(row, ctx) -> list[LegendItem]:
    """Odour contours by class, lowest values first so higher values lie on top."""
    bounds = ctx.odour_bounds
    if not bounds:
        return []
    n = len(bounds)
    items = []
    for i, lower in enumerate(bounds):
        colour = purple(i, n)
        items.append(
            (
                Patch(facecolor=(*colour, 0.45), edgecolor=(*colour, 0.9), linewidth=0.5),
                f"≥ {nl_number(lower, 1).rstrip('0').rstrip(',')} OUe/m³",
                False,
            )
        )
    odour = clip(ctx.run.reference.get(row.source), ctx.extent)
    if odour is not None:
        values = pd.to_numeric(odour["waarde"], errors="coerce").to_numpy()
        cls = np.searchsorted(np.array(bounds), values, side="right") - 1
        for i in range(n):
            part = odour[cls == i]
            if len(part):
                colour = purple(i, n)
                part.plot(
                    ax=ctx.ax,
                    facecolor=(*colour, 0.28),
                    edgecolor=(*colour, 0.85),
                    linewidth=row.look.linewidth,
                    zorder=row.zorder,
                )
    return items


_DRAW = {
    "fill": _fill,
    "outline": _outline,
    "hatch": _hatch,
    "mixed": _mixed,
    "markers": _markers,
    "boundary": _boundary,
}


def draw_reference_layers(ctx: MapContext) -> tuple[list[LegendItem], list[LegendItem]]:
    """Draw every layer of :data:`MAP_LAYERS` the run has on ``ctx.ax``.

    Returns the legend items of the spatial layers (in table order) and those of the odour
    classes (their own legend block). A layer the run has gets its legend item even when none of
    its objects lies on this map, so the legends of one atlas agree; a road class only when it is
    drawn.
    """
    items: list[LegendItem] = []
    odour_items: list[LegendItem] = []
    for row in MAP_LAYERS:
        if row.look.kind == "odour":
            odour_items = _odour(row, ctx)
            continue
        for name, colour, label in _instances(row, ctx):
            if row.look.kind == "roads":
                handle = _roads(row, colour, ctx)
                if handle is not None:
                    items.append((handle, label, False))
                continue
            layer = None if name == "gemeenten" else clip(ctx.run.reference.get(name), ctx.extent)
            handle = _DRAW[row.look.kind](row, layer, colour, ctx)
            items.append((handle, label or reference_label(name), False))
    return items, odour_items
