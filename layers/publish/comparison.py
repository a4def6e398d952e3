"""``vergelijking.html``: two runs of the same sites compared, with a map of the changed sites."""

from __future__ import annotations

import base64
import re

import geopandas as gpd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
import numpy as np

from locatietoets.analysis.planning.common import TOTAL_LABEL
from locatietoets.analysis.ruleset import STAY_TYPES, VERDICTS
from locatietoets.analysis.vocabulary import STAY_LABELS, nl_number
from locatietoets.layers.publish.cartography import draw_north_arrow, draw_scalebar, fit_extent
from locatietoets.layers.publish.figures import figure_png
from locatietoets.layers.publish.pages import html_page, html_table
from locatietoets.layers.publish.report_content import parameter_value
from locatietoets.layers.publish.style import VERDICT_COLOURS

__all__ = ["change_direction", "changed_sites_map_html", "comparison_html"]

#: Direction of a site's change over its stay types, and how the map draws it.
DIRECTIONS = {
    "strenger": ("Strenger in B", "ongeschikt"),
    "soepeler": ("Soepeler in B", "geschikt"),
    "gemengd": ("Voor het ene verblijfstype strenger, voor het andere soepeler", "voorwaardelijk"),
}


def change_direction(changed) -> np.ndarray:
    """Per changed site ``strenger``, ``soepeler`` or ``gemengd`` (verdicts ordered geschikt <
    voorwaardelijk < ongeschikt; a site without verdict counts as unchanged)."""
    rank = {v: i for i, v in enumerate(VERDICTS)}
    worse = np.zeros(len(changed), dtype=bool)
    better = np.zeros(len(changed), dtype=bool)
    for stay in STAY_TYPES:
        a, b = f"oordeel_{stay}_a", f"oordeel_{stay}_b"
        if a not in changed or b not in changed:
            continue
        ra = changed[a].map(rank).to_numpy(dtype=float)
        rb = changed[b].map(rank).to_numpy(dtype=float)
        worse |= rb > ra
        better |= rb < ra
    return np.where(worse & better, "gemengd", np.where(worse, "strenger", "soepeler"))


def changed_sites_map_html(layer: gpd.GeoDataFrame, gemeenten: gpd.GeoDataFrame | None) -> str:
    """An inline PNG map of the changed sites coloured by direction, over the gemeenten."""
    geoms = layer.geometry
    ok = geoms.notna() & ~geoms.is_empty if len(layer) else np.zeros(0, dtype=bool)
    if not len(layer) or not ok.any():
        return "<p>Geen gewijzigde locaties met een geometrie.</p>"
    sites = layer[ok]
    points = sites.geometry.representative_point()
    direction = change_direction(sites)
    fig = Figure(figsize=(10.0, 7.0))
    rect = (0.02, 0.03, 0.96, 0.94)
    ax = fig.add_axes(rect)
    bounds = (gemeenten if gemeenten is not None and len(gemeenten) else sites).total_bounds
    extent = fit_extent(bounds, (rect[2] * 10.0) / (rect[3] * 7.0), pad=0.04)
    if gemeenten is not None and len(gemeenten):
        gemeenten.plot(ax=ax, color="#f4f2ee", edgecolor="#8a8a8a", linewidth=0.6, zorder=1)
    handles = []
    for key, (label, verdict) in DIRECTIONS.items():
        sel = direction == key
        colour = tuple(c / 255 for c in VERDICT_COLOURS[verdict][1])
        if sel.any():
            ax.scatter(
                points.x.to_numpy()[sel],
                points.y.to_numpy()[sel],
                s=14,
                color=colour,
                edgecolor="#333333",
                linewidth=0.3,
                zorder=3,
            )
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="o",
                    linestyle="none",
                    markerfacecolor=colour,
                    markeredgecolor="#333333",
                    label=f"{label} ({nl_number(int(sel.sum()))})",
                )
            )
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.legend(handles=handles, loc="lower right", fontsize=8, framealpha=0.9)
    draw_scalebar(ax, extent, rect[2] * 10.0)
    draw_north_arrow(ax)
    try:
        data = base64.b64encode(figure_png(fig, dpi=90)).decode("ascii")
    finally:
        fig.clear()
    return (
        f'<p><img src="data:image/png;base64,{data}" alt="Kaart van de gewijzigde locaties"'
        ' style="max-width:100%"></p>'
    )


#: Where a parameter value came from, as the comparison shows it.
_ORIGINS = {
    "config": "configuratie",
    "config-gemeente": "configuratie (per gemeente)",
    "regelset": "regelset",
    "regelset-gemeente": "regelset (per gemeente)",
}


def _template(value: object) -> object:
    """A rule's reason template as a planner reads it: ``{max_termijn_jaar:.0f}`` becomes
    ``[max_termijn_jaar]`` (no Python format syntax)."""
    if not isinstance(value, str):
        return value
    return re.sub(r"\{(\w+)(?:![rsa])?(?::[^{}]*)?\}", r"[\1]", value)


def _shown(frame, values: tuple[str, ...], origins: tuple[str, ...]):
    """Parameter values as text (0,35 stays 0,35; tables per sector without Python reprs) and
    origins in Dutch."""
    frame = frame.copy()
    for col in values:
        if col in frame:
            frame[col] = frame[col].map(parameter_value).astype(object)
    for col in origins:
        if col in frame:
            frame[col] = frame[col].map(lambda o: _ORIGINS.get(str(o), str(o))).astype(object)
    return frame


def comparison_html(comparison, a, b, layer: gpd.GeoDataFrame) -> str:
    """Return ``vergelijking.html`` for :func:`analysis.planning.comparison.compare_runs` output,
    the run folders ``a`` and ``b`` (``layers.io.runs.RunData``) and the changed sites as a layer
    (EPSG:28992)."""
    changed = comparison.changed
    meta = f"A: {a.label}; B: {b.label}"
    body = [
        f"<p>{nl_number(len(changed))} van {nl_number(len(comparison.sites))} locaties krijgen in"
        " B een ander oordeel"
        " voor minstens één verblijfstype.</p>"
    ]
    for note in comparison.notes:
        body.append(f"<p><strong>Let op:</strong> {note}</p>")
    body.append("<h2>Verschillen in de regelsets</h2>")
    body.append(
        html_table(
            _shown(comparison.parameters, ("waarde_a", "waarde_b"), ("herkomst_a", "herkomst_b")),
            columns={
                "parameter": "Parameter",
                "waarde_a": "A",
                "waarde_b": "B",
                "herkomst_a": "Herkomst A",
                "herkomst_b": "Herkomst B",
            },
        )
        if len(comparison.parameters)
        else "<p>Geen verschillen in de gebruikte parameterwaarden.</p>"
    )
    if len(comparison.masked):
        body.append("<h3>Verschillen tussen de regelsets die de configuratie maskeert</h3>")
        body.append(
            html_table(
                _shown(
                    comparison.masked,
                    ("regelset_a", "regelset_b", "waarde_a", "waarde_b"),
                    ("herkomst_a", "herkomst_b"),
                ),
                columns={
                    "parameter": "Parameter",
                    "gemeente": "Gemeente",
                    "regelset_a": "Regelset A",
                    "regelset_b": "Regelset B",
                    "waarde_a": "Gebruikt in A",
                    "waarde_b": "Gebruikt in B",
                    "herkomst_a": "Herkomst A",
                    "herkomst_b": "Herkomst B",
                },
            )
        )
    body.append(
        html_table(
            comparison.rules.assign(
                a=comparison.rules["a"].map(_template).astype(object),
                b=comparison.rules["b"].map(_template).astype(object),
            ),
            columns={"regel": "Regel", "wat": "Wat", "a": "A", "b": "B"},
        )
        if len(comparison.rules)
        else "<p>Geen verschillen in regeldefinities.</p>"
    )
    total = comparison.transitions[comparison.transitions["gebied"] == TOTAL_LABEL]
    for stay in STAY_TYPES:
        part = total[total["verblijfstype"] == stay]
        matrix = part.pivot_table(
            index="van", columns="naar", values="aantal", aggfunc="sum", fill_value=0
        )
        order = [v for v in (*VERDICTS, "geen oordeel") if v in matrix.index or v in matrix.columns]
        matrix = matrix.reindex(index=order, columns=order, fill_value=0).reset_index()
        body.append(f"<h3>Overgangen {STAY_LABELS[stay]} (rijen A, kolommen B)</h3>")
        body.append(html_table(matrix, columns={"van": "A \\ B", **{v: v for v in order}}))
    body.append("<h2>Per gemeente</h2>")
    body.append(
        html_table(
            comparison.per_gemeente.assign(
                verblijfstype=comparison.per_gemeente["verblijfstype"].map(
                    lambda s: STAY_LABELS.get(s, s)
                )
            ),
            columns={
                "gebied": "Gemeente",
                "verblijfstype": "Verblijfstype",
                "ongewijzigd": "Ongewijzigd",
                "strenger": "Strenger in B",
                "soepeler": "Soepeler in B",
            },
        )
    )
    body.append("<h2>Kaart van de gewijzigde locaties</h2>")
    body.append(changed_sites_map_html(layer, b.gemeenten))
    body.append("<h2>Gewijzigde locaties (eerste 200)</h2>")
    body.append(
        html_table(
            changed.head(200),
            columns={
                "locatie_id": "Locatie",
                "gemeente": "Gemeente",
                "wijziging": "Wijziging",
                "oorzaak": "Oorzaak",
            },
        )
    )
    return html_page("Vergelijking van twee runs", "".join(body), meta=meta)
