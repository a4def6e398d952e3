"""Outputs of ``locatietoets gevoeligheid``: the chart of verdict counts per value and the QGIS
style of the changed sites (stored by :func:`layers.publish.style.store_layer_style`)."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pandas as pd

from locatietoets.analysis.planning.common import TOTAL_LABEL
from locatietoets.analysis.vocabulary import (
    STAY_LABELS,
    STAY_TYPES,
    VERDICT_COLOURS,
    VERDICTS,
    nl_number,
)
from locatietoets.layers.publish.style import _symbol

__all__ = ["CHANGE_COLOURS", "change_qml", "sensitivity_chart"]

#: Colours of the changed sites by direction (the verdict colours: stricter red, milder green).
CHANGE_COLOURS: dict[str, tuple[str, tuple[int, int, int]]] = {
    "strenger": ("strenger (hogere waarde: slechter oordeel)", VERDICT_COLOURS["ongeschikt"][1]),
    "soepeler": ("soepeler (hogere waarde: beter oordeel)", VERDICT_COLOURS["geschikt"][1]),
    "gemengd": ("gemengd (per verblijfstype verschillend)", (120, 120, 120)),
}
_MAX_GEMEENTEN = 5


def sensitivity_chart(
    counts: pd.DataFrame, path: Path, *, parameter: str, unit: str, subtitle: str
) -> None:
    """Draw stacked bars of the verdict counts per value: one column per stay type, one row for
    all sites and one per gemeente (the five with the most sites)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    gemeenten = [g for g in pd.unique(counts["gemeente"]) if g != TOTAL_LABEL]
    first = counts[counts["waarde"] == counts["waarde"].iloc[0]]
    sizes = first[first["verblijfstype"] == STAY_TYPES[0]].set_index("gemeente")
    sizes = sizes[["geschikt", "voorwaardelijk", "ongeschikt", "geen_oordeel"]].sum(axis=1)
    shown = sorted(gemeenten, key=lambda g: -sizes.get(g, 0))[:_MAX_GEMEENTEN]
    rows = [TOTAL_LABEL] + (shown if len(gemeenten) > 1 else [])
    fig = Figure(figsize=(11.69, 2.0 + 2.2 * len(rows)), dpi=100)
    axes = fig.subplots(len(rows), len(STAY_TYPES), squeeze=False, sharex=True)
    values = sorted(pd.unique(counts["waarde"]))
    labels = [nl_number(v, 0 if float(v).is_integer() else 2) for v in values]
    x = range(len(values))
    for r, area in enumerate(rows):
        for c, stay in enumerate(STAY_TYPES):
            ax = axes[r][c]
            part = (
                counts[(counts["gemeente"] == area) & (counts["verblijfstype"] == stay)]
                .set_index("waarde")
                .reindex(values)
            )
            bottom = [0.0] * len(values)
            for verdict in VERDICTS:
                label, rgb = VERDICT_COLOURS[verdict]
                heights = part[verdict].fillna(0).to_numpy(dtype=float)
                ax.bar(
                    x,
                    heights,
                    bottom=bottom,
                    color=[tuple(v / 255 for v in rgb)],
                    edgecolor="white",
                    linewidth=0.5,
                    label=label,
                )
                bottom = [b + h for b, h in zip(bottom, heights)]
            ax.set_xticks(list(x), labels, fontsize=8)
            ax.tick_params(axis="y", labelsize=8)
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: nl_number(v)))
            ax.spines[["top", "right"]].set_visible(False)
            if r == 0:
                ax.set_title(STAY_LABELS[stay], fontsize=10)
            if c == 0:
                name = "Alle locaties" if area == TOTAL_LABEL else str(area)
                ax.set_ylabel(f"{name}\naantal locaties", fontsize=8)
            if r == len(rows) - 1:
                ax.set_xlabel(f"{parameter} ({unit})" if unit else parameter, fontsize=8)
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="upper right", ncol=3, frameon=False, fontsize=9)
    fig.suptitle(
        f"Gevoeligheid: oordeel per waarde van {parameter}", x=0.01, ha="left", fontsize=13
    )
    fig.text(0.01, 0.005, subtitle, fontsize=7, color="#5a5a5a")
    fig.tight_layout(rect=(0, 0.02, 1, 0.95))
    fig.savefig(path, format="png", dpi=120, metadata={"Software": "Locatietoets"})


def change_qml(*, polygon: bool, aliases: dict[str, str]) -> str:
    """QGIS style of the changed sites: coloured by ``richting``, with Dutch aliases and a map tip
    giving the change."""
    kind = "fill" if polygon else "marker"
    categories, symbols = [], []
    for i, (value, (label, rgb)) in enumerate(CHANGE_COLOURS.items()):
        categories.append(
            f'<category render="true" symbol="{i}" value={quoteattr(value)}'
            f" label={quoteattr(label)}/>"
        )
        symbols.append(_symbol(i, kind, rgb))
    renderer = (
        '<renderer-v2 type="categorizedSymbol" attr="richting" symbollevels="0"'
        ' enableorderby="0" forceraster="0" referencescale="-1">'
        f"<categories>{''.join(categories)}</categories>"
        f"<symbols>{''.join(symbols)}</symbols><rotation/><sizescale/></renderer-v2>"
    )
    alias_xml = "".join(
        f'<alias field={quoteattr(f)} name={quoteattr(a)} index="{i}"/>'
        for i, (f, a) in enumerate(aliases.items())
    )
    maptip = escape('<b>[% "locatie_id" %]</b> ([% "gemeente" %])<br>[% "wijziging" %]')
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        '<qgis version="3.22.16-Białowieża" styleCategories="Symbology|Fields|MapTips">'
        f"{renderer}<aliases>{alias_xml}</aliases><mapTip>{maptip}</mapTip>"
        '<previewExpression>"locatie_id"</previewExpression></qgis>\n'
    )
