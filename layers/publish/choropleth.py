"""The capacity map of ``locatietoets capaciteit``: shortage per gemeente (PNG, matplotlib)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from locatietoets.analysis.texts import nl_number

__all__ = ["write_choropleth"]


def write_choropleth(
    gemeenten: gpd.GeoDataFrame,
    path: Path,
    *,
    column: str,
    title: str,
    subtitle: str,
    legend_title: str,
) -> None:
    """Draw a choropleth PNG of ``column`` per gemeente (offline, matplotlib).

    NaN is drawn grey as "geen opgave", 0 as "geen tekort"; positive values in
    four classes (rounded quantile breaks) from light to dark red.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    from locatietoets.layers.publish.figures import A4_LANDSCAPE_IN as size

    values = pd.to_numeric(gemeenten[column], errors="coerce").to_numpy(dtype=float)
    positive = values[np.isfinite(values) & (values > 0)]
    reds = ["#fcbba1", "#fb6a4a", "#cb181d", "#67000d"]
    if len(positive):
        qs = np.unique(np.ceil(np.quantile(positive, [0.25, 0.5, 0.75, 1.0])))
        breaks = [float(b) for b in qs]
    else:
        breaks = []
    colours = np.full(len(values), "#d9d9d9", dtype=object)
    colours[np.isfinite(values) & (values <= 0)] = "#a6dba0"
    labels = [("#d9d9d9", "geen opgave"), ("#a6dba0", "geen tekort")]
    lower = 0.0
    for i, upper in enumerate(breaks):
        colour = reds[min(i + (len(reds) - len(breaks)), len(reds) - 1)]
        sel = np.isfinite(values) & (values > lower) & (values <= upper)
        colours[sel] = colour
        labels.append(
            (
                colour,
                (
                    f"{nl_number(lower + (1 if lower else 0))} – {nl_number(upper)}"
                    if upper > lower + 1
                    else f"{nl_number(upper)}"
                ),
            )
        )
        lower = upper
    fig = Figure(figsize=size, dpi=100)
    ax = fig.add_axes((0.03, 0.08, 0.68, 0.8))
    ax.set_axis_off()
    ax.set_aspect("equal")
    gemeenten.plot(ax=ax, color=list(colours), edgecolor="#505050", linewidth=0.6)
    reps = gemeenten.geometry.representative_point()
    for name, pt in zip(gemeenten["naam"], reps):
        ax.annotate(str(name), (pt.x, pt.y), ha="center", va="center", fontsize=6, color="#222222")
    fig.text(0.03, 0.94, title, fontsize=15, weight="bold", color="#222222")
    fig.text(0.03, 0.905, subtitle, fontsize=9, color="#5a5a5a")
    handles = [Patch(facecolor=c, edgecolor="#505050", label=text) for c, text in labels]
    fig.legend(
        handles=handles,
        title=legend_title,
        loc="upper left",
        bbox_to_anchor=(0.73, 0.86),
        frameon=False,
        fontsize=9,
        title_fontsize=10,
    )
    fig.text(
        0.03,
        0.03,
        "Gemeentegrenzen: referentielaag van de run; berekening: Locatietoets. Coördinaten"
        " EPSG:28992 (RD New).",
        fontsize=7,
        color="#5a5a5a",
    )
    fig.savefig(path, format="png", dpi=150, metadata={"Software": "Locatietoets"})
