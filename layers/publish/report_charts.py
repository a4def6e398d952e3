"""The report's charts: verdicts per gemeente and stay type, the top reasons of rejection.

Each chart draws into a rectangle of a matplotlib Figure (figure fractions), so the PDF places it
on a text page and the HTML gets the same drawing as a PNG (:func:`chart_png`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
import textwrap

from matplotlib.figure import Figure
from matplotlib.patches import Patch
import numpy as np

from locatietoets.analysis.summary import VERDICTS
from locatietoets.analysis.vocabulary import nl_number, stay_label
from locatietoets.layers.publish.figures import figure_png
from locatietoets.layers.publish.report_content import ReportTables, stay_types_of
from locatietoets.layers.publish.style import VERDICT_COLOURS

__all__ = ["chart_png", "reasons_chart", "verdict_chart", "verdict_chart_height"]

Rect = tuple[float, float, float, float]  # left, bottom, width, height (figure fraction)
_TEXT = "#222222"
_GRID = "#dddddd"


def _colour(verdict: str) -> tuple[float, float, float]:
    return tuple(c / 255 for c in VERDICT_COLOURS[verdict][1])


def _panels(fig: Figure, rect: Rect, n: int, *, gap: float, label_w: float) -> list:
    """``n`` axes side by side in ``rect``; the first keeps room left for the row labels."""
    left, bottom, width, height = rect
    inner = width - label_w - gap * (n - 1)
    w = inner / n
    return [fig.add_axes((left + label_w + i * (w + gap), bottom, w, height)) for i in range(n)]


def _style(ax, title: str) -> None:
    ax.set_title(title, fontsize=8.5, fontweight="bold", color=_TEXT, loc="left")
    ax.tick_params(labelsize=6.8, colors=_TEXT, length=0)
    ax.grid(axis="x", color=_GRID, linewidth=0.5)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color("#999999")
    ax.xaxis.set_major_formatter(lambda v, _pos: nl_number(v))


def verdict_chart_height(tables: ReportTables) -> float:
    """Height (A4-landscape figure fraction) the verdict chart needs for its bars."""
    n = len(set(tables.gemeenten["gebied"])) if len(tables.gemeenten) else 1
    return min(0.72, 0.1 + 0.021 * n)


def verdict_chart(fig: Figure, rect: Rect, tables: ReportTables) -> None:
    """Stacked bars: number of sites per verdict, one bar per gemeente, one panel per stay type
    (the region totals when the run had no gemeenten)."""
    frame = tables.gemeenten if len(tables.gemeenten) else tables.totaal
    stays = stay_types_of(tables)
    areas = list(dict.fromkeys(frame["gebied"].astype(str)))[::-1]  # first on top
    label_w = min(0.22, 0.012 + 0.0075 * max((len(a) for a in areas), default=8))
    axes = _panels(fig, rect, max(len(stays), 1), gap=0.025, label_w=label_w)
    for i, (ax, stay) in enumerate(zip(axes, stays)):
        part = frame[frame["verblijfstype"] == stay]
        part = part.set_index(part["gebied"].astype(str))
        part = part[list(VERDICTS)].astype(float).reindex(areas).fillna(0.0)
        left = np.zeros(len(areas))
        y = np.arange(len(areas))
        for verdict in VERDICTS:
            values = part[verdict].to_numpy(dtype=float)
            ax.barh(y, values, left=left, color=_colour(verdict), height=0.72, linewidth=0)
            left += values
        ax.set_yticks(y, areas if i == 0 else [""] * len(areas))
        ax.set_ylim(-0.6, len(areas) - 0.4)
        _style(ax, stay_label(stay))
    if axes:
        handles = [Patch(facecolor=_colour(v), label=VERDICT_COLOURS[v][0]) for v in VERDICTS]
        fig.legend(
            handles=handles,
            loc="lower right",
            bbox_to_anchor=(rect[0] + rect[2], rect[1] + rect[3] + 0.022),
            ncol=len(VERDICTS),
            frameon=False,
            fontsize=7.5,
            borderaxespad=0.0,
        )


def reasons_chart(fig: Figure, rect: Rect, tables: ReportTables, *, top: int = 6) -> None:
    """Horizontal bars: the most frequent reasons of a lower verdict per stay type, split into
    ongeschikt and voorwaardelijk."""
    stays = stay_types_of(tables)
    axes = _panels(fig, rect, max(len(stays), 1), gap=0.05, label_w=0.0)
    for ax, stay in zip(axes, stays):
        part = tables.redenen[tables.redenen["verblijfstype"] == stay].head(top)
        _style(ax, stay_label(stay))
        if part.empty:
            ax.text(0.5, 0.5, "Geen afwijzingen", ha="center", va="center", fontsize=8)
            ax.set_yticks([])
            continue
        labels = [textwrap.shorten(str(t), 48, placeholder="…") for t in part["titel"]][::-1]
        y = np.arange(len(labels))
        bad = part["ongeschikt"].to_numpy(dtype=float)[::-1]
        cond = part["voorwaardelijk"].to_numpy(dtype=float)[::-1]
        ax.barh(y, bad, color=_colour("ongeschikt"), height=0.5, linewidth=0)
        ax.barh(y, cond, left=bad, color=_colour("voorwaardelijk"), height=0.5, linewidth=0)
        ax.set_yticks(y, [""] * len(y))
        for yy, text in zip(y, labels):  # the reason above its bar, inside the panel
            ax.text(0, yy + 0.3, text, fontsize=6.3, color=_TEXT, va="bottom", ha="left")
        ax.set_ylim(-0.5, len(labels) - 0.05)
    handles = [
        Patch(facecolor=_colour(v), label=VERDICT_COLOURS[v][0])
        for v in ("ongeschikt", "voorwaardelijk")
    ]
    fig.legend(
        handles=handles,
        loc="lower right",
        bbox_to_anchor=(rect[0] + rect[2], rect[1] + rect[3] + 0.022),
        ncol=2,
        frameon=False,
        fontsize=7.5,
        borderaxespad=0.0,
    )


def chart_png(
    draw: Callable[[Figure, Rect], None], *, size: Sequence[float] = (11.0, 4.2), dpi: int = 110
) -> bytes:
    """Draw a chart on its own figure and return it as PNG (for ``rapport.html``)."""
    fig = Figure(figsize=tuple(size))
    fig.patch.set_facecolor("white")
    draw(fig, (0.03, 0.08, 0.95, 0.8))
    try:
        return figure_png(fig, dpi=dpi)
    finally:
        fig.clear()
