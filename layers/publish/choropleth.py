"""The capacity map of ``locatietoets capaciteit``: shortage per gemeente (PNG, matplotlib)."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from locatietoets.analysis.texts import nl_number
from locatietoets.analysis.vocabulary import hex_colour
from locatietoets.layers.publish.cartography import (
    draw_north_arrow,
    draw_scalebar,
    fit_extent,
    nice_length,
)
from locatietoets.layers.publish.figures import A4_LANDSCAPE_IN
from locatietoets.layers.publish.style import VERDICT_COLOURS

__all__ = ["shortage_classes", "write_choropleth"]

_NO_DEMAND = "#d9d9d9"
_NO_SHORTAGE = "#a6dba0"


def shortage_classes(values: np.ndarray) -> list[float]:
    """Upper bounds of up to four equal, round classes of the positive values (``0 < v ≤ b``):
    the classes say something about the size of a shortage, also with two gemeenten (quantiles
    of two values made each gemeente its own class)."""
    positive = values[np.isfinite(values) & (values > 0)]
    if not len(positive):
        return []
    top = float(positive.max())
    step = nice_length(top / 4)
    while step * 4 < top:  # nice_length rounds down: widen the step until four classes hold all
        step = nice_length(step * 1.5) if nice_length(step * 1.5) > step else step * 2
    n = int(math.ceil(top / step))
    return [step * (i + 1) for i in range(max(n, 1))]


def write_choropleth(
    gemeenten: gpd.GeoDataFrame,
    path: Path,
    *,
    column: str,
    title: str,
    subtitle: str,
    legend_title: str,
    demo: bool = False,
) -> None:
    """Draw a choropleth PNG of ``column`` per gemeente (offline, matplotlib).

    NaN is drawn grey as "geen opgave", 0 or less as "geen tekort"; positive values in up to
    four equal round classes (:func:`shortage_classes`) from light to dark red. Each gemeente
    is labelled with its name and shortage (dark text with a white halo, legible on every class),
    with a scale bar and north arrow; ``demo`` marks the map FICTIEF DEMOGEBIED. When the frame
    has ``behoefte_totaal`` and ``capaciteit_*_totaal``, a bar chart beside the map shows
    capacity against need per gemeente.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    import matplotlib.patheffects as path_effects

    values = pd.to_numeric(gemeenten[column], errors="coerce").to_numpy(dtype=float)
    breaks = shortage_classes(values)
    reds = ["#fcbba1", "#fb6a4a", "#cb181d", "#67000d"][-max(len(breaks), 1) :]
    colours = np.full(len(values), _NO_DEMAND, dtype=object)
    colours[np.isfinite(values) & (values <= 0)] = _NO_SHORTAGE
    labels = [(_NO_DEMAND, "geen opgave"), (_NO_SHORTAGE, "geen tekort")]
    lower = 0.0
    for colour, upper in zip(reds, breaks):
        colours[np.isfinite(values) & (values > lower) & (values <= upper)] = colour
        labels.append((colour, f"{nl_number(lower + 1 if lower else 1)} – {nl_number(upper)}"))
        lower = upper
    fig = Figure(figsize=A4_LANDSCAPE_IN, dpi=100)
    fig.patch.set_facecolor("white")
    rect = (0.03, 0.08, 0.62, 0.8)
    ax = fig.add_axes(rect)
    aspect = (rect[2] * A4_LANDSCAPE_IN[0]) / (rect[3] * A4_LANDSCAPE_IN[1])
    extent = fit_extent(gemeenten.total_bounds, aspect, pad=0.04)
    gemeenten.plot(ax=ax, color=list(colours), edgecolor="#505050", linewidth=0.6)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")  # geopandas labels the axes in English ("Easting [metre]")
    ax.set_ylabel("")
    for spine in ax.spines.values():
        spine.set_edgecolor("#999999")
    halo = [path_effects.withStroke(linewidth=2.4, foreground="white")]
    small = len(gemeenten) > 12
    reps = gemeenten.geometry.representative_point()
    for name, pt, value in zip(gemeenten["naam"], reps, values):
        figure = (
            "geen opgave"
            if not np.isfinite(value)
            else ("geen tekort" if value <= 0 else f"tekort {nl_number(value)}")
        )
        ax.text(
            pt.x,
            pt.y,
            f"{name}\n{figure}",
            ha="center",
            va="center",
            fontsize=5.8 if small else 8,
            color="#1a1a1a",
            linespacing=1.15,
            path_effects=halo,
            zorder=5,
        )
    draw_scalebar(ax, extent, rect[2] * A4_LANDSCAPE_IN[0])
    draw_north_arrow(ax)
    fig.text(0.03, 0.94, title, fontsize=15, weight="bold", color="#222222")
    fig.text(0.03, 0.905, subtitle, fontsize=9, color="#5a5a5a")
    if demo:
        fig.text(
            0.975,
            0.94,
            "FICTIEF DEMOGEBIED",
            fontsize=11,
            fontweight="bold",
            color=(0.75, 0.1, 0.1),
            ha="right",
        )
        fig.text(
            0.975, 0.905, "geen echte gegevens", fontsize=9, color=(0.75, 0.1, 0.1), ha="right"
        )
    handles = [Patch(facecolor=c, edgecolor="#505050", label=text) for c, text in labels]
    fig.legend(
        handles=handles,
        title=legend_title,
        loc="upper left",
        bbox_to_anchor=(0.68, 0.88),
        frameon=False,
        fontsize=8.5,
        title_fontsize=9.5,
    )
    needed = ("behoefte_totaal", "capaciteit_geschikt_totaal", "capaciteit_voorwaardelijk_totaal")
    if all(c in gemeenten for c in needed):
        _balance_chart(fig, (0.8, 0.1, 0.17, 0.5), gemeenten)
    fig.text(
        0.03,
        0.03,
        "Gemeentegrenzen: referentielaag van de run; berekening: Locatietoets. Coördinaten"
        " EPSG:28992 (RD New).",
        fontsize=7,
        color="#5a5a5a",
    )
    fig.savefig(path, format="png", dpi=150, metadata={"Software": "Locatietoets"})


def _balance_chart(fig, rect, gemeenten: gpd.GeoDataFrame) -> None:
    """Capacity (geschikt, + voorwaardelijk) against need per gemeente, as horizontal bars."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    frame = gemeenten.sort_values(
        "naam", key=lambda s: s.astype(str).str.casefold(), ascending=False
    )
    y = np.arange(len(frame))
    good = pd.to_numeric(frame["capaciteit_geschikt_totaal"], errors="coerce").fillna(0)
    cond = pd.to_numeric(frame["capaciteit_voorwaardelijk_totaal"], errors="coerce").fillna(0)
    need = pd.to_numeric(frame["behoefte_totaal"], errors="coerce")
    ax = fig.add_axes(rect)
    ax.barh(y, good, color=hex_colour(VERDICT_COLOURS["geschikt"][1]), height=0.7, linewidth=0)
    ax.barh(
        y,
        cond,
        left=good,
        color=hex_colour(VERDICT_COLOURS["voorwaardelijk"][1]),
        height=0.7,
        linewidth=0,
    )
    ax.scatter(need, y, marker="|", s=90, color="#1a1a1a", linewidth=1.6, zorder=3)
    ax.set_yticks(y, [str(n) for n in frame["naam"]])
    ax.tick_params(labelsize=5.5 if len(frame) > 12 else 7.5, length=0)
    ax.xaxis.set_major_locator(MaxNLocator(3))
    ax.xaxis.set_major_formatter(lambda v, _pos: nl_number(v))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(
        "Capaciteit tegenover behoefte (personen)", fontsize=8, loc="right", fontweight="bold"
    )
    ax.legend(
        handles=[
            Patch(color=hex_colour(VERDICT_COLOURS["geschikt"][1]), label="capaciteit geschikt"),
            Patch(color=hex_colour(VERDICT_COLOURS["voorwaardelijk"][1]), label="+ voorwaardelijk"),
            Line2D(
                [],
                [],
                marker="|",
                linestyle="none",
                color="#1a1a1a",
                markersize=9,
                label="behoefte",
            ),
        ],
        loc="upper center",
        bbox_to_anchor=(0.3, -0.06),
        frameon=False,
        fontsize=6.5,
        ncol=1,
    )
