"""Maps of a scored run for woonvisies: per gemeente, per region and an overview.

Maps are drawn offline with matplotlib from the run folder alone
(``locaties.gpkg``, ``referentie.gpkg``, ``run.json``): sites coloured by
their verdict for one stay type, BBG, bebouwde kom, odour contours,
recreation parks, farms, employers, gemeente boundaries and names, with a
Dutch title, legend, scale bar, north arrow, date, rule set and source
attribution. All coordinates are EPSG:28992 (RD New, metres).

No basemap is drawn: the maps must render without internet, and the
reference layers of the run give enough orientation for a woonvisie
appendix.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
import contextlib
from dataclasses import dataclass
import logging
from pathlib import Path
from typing import Any, Iterator
import warnings

import geopandas as gpd
import matplotlib

matplotlib.use("Agg", force=False)
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
import matplotlib.patheffects as path_effects  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402

from locatietoets.analysis.errors import InputError, did_you_mean  # noqa: E402
from locatietoets.analysis.summary import NO_REGION, STAY_TYPES, usable_capacity  # noqa: E402
from locatietoets.analysis.vocabulary import (  # noqa: E402
    MAP_COLOURS,
    VERDICTS,
    nl_number,
    stay_label,
)
from locatietoets.layers.publish.basemap import BACKGROUNDS, Basemap, basemap_for  # noqa: E402
from locatietoets.layers.publish.cartography import (  # noqa: E402
    clip,
    draw_north_arrow,
    draw_scalebar,
    fit_extent,
    free_spot,
    odour_classes,
    symbol_diameter,
)
from locatietoets.layers.publish.figures import (  # noqa: E402
    A4_LANDSCAPE_IN,
    PDF_RC,
    atomic_path,
    slugify,
)
from locatietoets.layers.publish.map_layers import (  # noqa: E402
    MapContext,
    draw_reference_layers,
)
from locatietoets.layers.publish.runfolder import (  # noqa: E402
    RunFolder,
    attribution,
    read_places,
    read_roads,
)
from locatietoets.layers.publish.style import VERDICT_COLOURS  # noqa: E402

__all__ = [
    "MapSpec",
    "MAP_SCOPES",
    "MAP_FORMATS",
    "plan_maps",
    "render_map",
    "write_maps",
    "iter_maps",
]

log = logging.getLogger(__name__)

#: Values of ``--per``.
MAP_SCOPES: tuple[str, ...] = ("gemeente", "regio", "provincie")
#: Values of ``--formaat``.
MAP_FORMATS: tuple[str, ...] = ("png", "pdf", "beide")

_MAP_RECT = (0.035, 0.085, 0.665, 0.795)  # left, bottom, width, height (figure fraction)
_SIDE_RECT = (0.725, 0.085, 0.25, 0.795)
# Colours shared with the plugin's atlas: analysis/vocabulary.py MAP_COLOURS; the reference layers
# with their colours, styles and legend labels: layers/publish/map_layers.py MAP_LAYERS.
_OUTSIDE = MAP_COLOURS["outside"]  # outside every gemeente (abroad, other provinces)
_OTHER_GEMEENTE = MAP_COLOURS["other_gemeente"]
_FOCUS_FILL = MAP_COLOURS["focus_fill"]
_TEXT = MAP_COLOURS["text"]
_GREY_TEXT = MAP_COLOURS["grey_text"]
_VERDICT_ORDER = ("", *VERDICTS)  # drawing order: ongeschikt last, on top of the others


# --------------------------------------------------------------------------
# Which maps
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class MapSpec:
    """One map: its scope, area name, file stem and focus area.

    Attributes
    ----------
    scope
        ``"overzicht"``, ``"gemeente"`` or ``"regio"``.
    name
        Area name as shown (``Venlo``, ``Noord-Limburg``).
    stem
        File name without extension: ``<scope>_<naam>_<verblijfstype>``.
    focus
        The area's geometry (EPSG:28992), or ``None`` for the extent of all data.
    codes
        CBS codes of the gemeenten in the area (for counting sites).
    """

    scope: str
    name: str
    stem: str
    focus: Any
    codes: tuple[str, ...] = ()
    names: tuple[str, ...] = ()


def _check_choice(value: str, options: Sequence[str], option: str) -> str:
    if value not in options:
        raise InputError(
            f"Onbekende waarde '{value}' voor {option}. Kies uit:"
            f" {', '.join(options)}.{did_you_mean(value, options)}"
        )
    return value


def plan_maps(
    run: RunFolder, *, per: str = "gemeente", stay_type: str = "short_stay"
) -> list[MapSpec]:
    """Return the maps to draw: the overview first, then one per gemeente or region.

    Parameters
    ----------
    run
        The run folder.
    per
        ``"gemeente"``, ``"regio"`` or ``"provincie"`` (overview only).
    stay_type
        Stay type whose verdicts are shown (part of the file names).

    Raises
    ------
    InputError
        For an unknown ``per`` or when the run has no gemeenten layer but
        ``per`` needs one.
    """
    _check_choice(per, MAP_SCOPES, "--per")
    _check_choice(stay_type, STAY_TYPES, "--verblijfstype")
    suffix = stay_type
    specs: list[MapSpec] = []
    gem = run.gemeenten
    if per in ("gemeente", "regio") and gem is None:
        raise InputError(
            f"Kaarten per {per} vragen de gemeentegrenzen, maar de run in '{run.path}' had geen"
            " laag [lagen.gemeenten] (referentie.gpkg bevat geen laag 'gemeenten'). Voeg"
            " [lagen.gemeenten] toe aan de configuratie en draai 'locatietoets score' opnieuw, of"
            " gebruik --per provincie."
        )
    overview_focus = gem.geometry.union_all() if gem is not None else None
    specs.append(MapSpec("overzicht", "overzicht", f"overzicht_{suffix}", overview_focus))
    if per == "gemeente":
        for row in gem.sort_values("naam", key=lambda s: s.str.casefold()).itertuples():
            code = str(row.code) if row.code is not None and not pd.isna(row.code) else ""
            specs.append(
                MapSpec(
                    "gemeente",
                    row.naam,
                    f"gemeente_{slugify(row.naam)}_{suffix}",
                    row.geometry,
                    (code,) if code else (),
                    (row.naam,),
                )
            )
    elif per == "regio":
        for region, part in gem.groupby("regio", sort=True):
            codes = tuple(str(c) for c in part["code"].dropna())
            specs.append(
                MapSpec(
                    "regio",
                    str(region),
                    f"regio_{slugify(region)}_{suffix}",
                    part.geometry.union_all(),
                    codes,
                    tuple(part["naam"]),
                )
            )
    stems = [s.stem for s in specs]
    if len(set(stems)) != len(stems):  # two gemeenten with the same slug: add the code
        specs = [
            (
                s
                if stems.count(s.stem) == 1
                else MapSpec(
                    s.scope,
                    s.name,
                    f"{s.stem}_{slugify('-'.join(s.codes))}",
                    s.focus,
                    s.codes,
                    s.names,
                )
            )
            for s in specs
        ]
    return specs


@dataclass
class _Prepared:
    """Per-run arrays reused for every map (site points, verdicts, odour classes)."""

    x: np.ndarray
    y: np.ndarray
    size_m: np.ndarray
    verdict: np.ndarray
    code: np.ndarray
    name: np.ndarray
    polygon: np.ndarray
    has_geom: np.ndarray
    odour_bounds: list[float]
    roads: gpd.GeoDataFrame | None = None
    places: gpd.GeoDataFrame | None = None


def _prepare(run: RunFolder, stay_type: str) -> _Prepared:
    sites = run.sites
    geoms = sites.geometry.to_numpy()
    has = ~(pd.isna(geoms) | shapely.is_empty(geoms))
    x = np.full(len(sites), np.nan)
    y = np.full(len(sites), np.nan)
    size = np.zeros(len(sites))
    poly = np.zeros(len(sites), dtype=bool)
    if has.any():
        pts = shapely.point_on_surface(geoms[has])
        x[has] = shapely.get_x(pts)
        y[has] = shapely.get_y(pts)
        b = shapely.bounds(geoms[has])
        size[has] = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
        poly[has] = shapely.get_type_id(geoms[has]) >= 3
    verdict = sites[f"oordeel_{stay_type}"].astype("object")
    verdict = verdict.where(verdict.notna(), "").to_numpy()
    verdict = np.where(has, verdict, "")
    code = (
        sites["gemeente_code"].astype("object").fillna("").astype(str).to_numpy()
        if "gemeente_code" in sites
        else np.full(len(sites), "")
    )
    name = (
        sites["gemeente"].astype("object").fillna("").astype(str).to_numpy()
        if "gemeente" in sites
        else np.full(len(sites), "")
    )
    odour = run.reference.get("geurcontouren")
    bounds = (
        odour_classes(pd.to_numeric(odour["waarde"], errors="coerce").to_numpy())
        if odour is not None and "waarde" in odour and len(odour)
        else []
    )
    return _Prepared(
        x,
        y,
        size,
        verdict.astype(str),
        code,
        name,
        poly,
        has,
        bounds,
        read_roads(run),
        _places(run),
    )


def _places(run: RunFolder) -> gpd.GeoDataFrame | None:
    """Kern names: from the BBG input layer, else from the run's ``kernen`` layer."""
    places = read_places(run)
    kernen = run.reference.get("kernen")
    if places is not None or kernen is None or "naam" not in kernen:
        return places
    kernen = kernen[kernen["naam"].notna() & kernen.geometry.notna() & ~kernen.geometry.is_empty]
    if kernen.empty:
        return None
    return gpd.GeoDataFrame(
        {"naam": kernen["naam"].astype(str).to_numpy()},
        geometry=kernen.geometry.representative_point().to_numpy(),
        crs=kernen.crs,
    )


def _in_area(prep: _Prepared, spec: MapSpec) -> np.ndarray:
    """Sites that belong to the map's area (by their gemeente), all sites for the overview."""
    if spec.scope == "overzicht":
        return np.ones(len(prep.verdict), dtype=bool)
    by_code = (
        np.isin(prep.code, [c for c in spec.codes if c])
        if spec.codes
        else np.zeros(len(prep.code), dtype=bool)
    )
    by_name = (
        np.isin(prep.name, list(spec.names)) if spec.names else np.zeros(len(prep.code), dtype=bool)
    )
    return by_code | by_name


def _title(run: RunFolder, spec: MapSpec, stay_type: str) -> str:
    head = f"Geschiktheid {stay_label(stay_type)}"
    if spec.scope == "gemeente":
        prefix = "" if "gemeente" in spec.name.lower() else "gemeente "
        return f"{head} — {prefix}{spec.name}"
    if spec.scope == "regio":
        if spec.name == NO_REGION:
            return f"{head} — gemeenten zonder bekende regio"
        return f"{head} — regio {spec.name}"
    if run.province_wide:
        return f"{head} — provincie Limburg"
    if run.is_demo:
        return f"{head} — overzicht demogebied"
    return (
        f"{head} — overzicht alle gemeenten" if run.gemeenten is not None else f"{head} — overzicht"
    )


def render_map(
    run: RunFolder,
    spec: MapSpec,
    *,
    stay_type: str = "short_stay",
    prepared: _Prepared | None = None,
    basemap: Basemap | None = None,
) -> Figure:
    """Draw one A4-landscape map; see :func:`_render_map` (an empty layer simply draws nothing)."""
    with warnings.catch_warnings():
        # geopandas warns in English when a layer has nothing in this area; that is expected here
        warnings.filterwarnings(
            "ignore", message="The GeoSeries you are attempting to plot is empty"
        )
        return _render_map(run, spec, stay_type=stay_type, prepared=prepared, basemap=basemap)


def _render_map(
    run: RunFolder,
    spec: MapSpec,
    *,
    stay_type: str = "short_stay",
    prepared: _Prepared | None = None,
    basemap: Basemap | None = None,
) -> Figure:
    """Draw one A4-landscape map and return the matplotlib Figure (not saved).

    Parameters
    ----------
    run
        The run folder.
    spec
        Which area (from :func:`plan_maps`).
    stay_type
        Whose verdicts colour the sites.
    prepared
        Arrays shared between maps of one run (internal; computed when ``None``).
    """
    prep = prepared or _prepare(run, stay_type)
    fig = Figure(figsize=A4_LANDSCAPE_IN)
    fig.patch.set_facecolor("white")
    ax = fig.add_axes(_MAP_RECT)
    side = fig.add_axes(_SIDE_RECT)
    side.set_axis_off()
    aspect = (_MAP_RECT[2] * A4_LANDSCAPE_IN[0]) / (_MAP_RECT[3] * A4_LANDSCAPE_IN[1])

    in_area = _in_area(prep, spec)
    if spec.focus is not None and not shapely.is_empty(spec.focus):
        bounds = shapely.bounds(spec.focus)
    else:
        present = [f.total_bounds for f in run.reference.values() if len(f)]
        if prep.has_geom.any():
            present.append(
                np.array(
                    [np.nanmin(prep.x), np.nanmin(prep.y), np.nanmax(prep.x), np.nanmax(prep.y)]
                )
            )
        arr = np.array(present) if present else np.array([[0, 0, 1000, 1000]])
        bounds = (arr[:, 0].min(), arr[:, 1].min(), arr[:, 2].max(), arr[:, 3].max())
    extent = fit_extent(bounds, aspect, pad=0.04 if spec.scope == "overzicht" else 0.06)
    xmin, xmax, ymin, ymax = extent
    width = xmax - xmin

    ax.set_facecolor(_OUTSIDE if run.gemeenten is not None else "white")

    # gemeenten: fill
    # optional basemap (--achtergrond brt): the fills become see-through so it shows
    background = basemap is not None and basemap.draw(
        ax, extent, _MAP_RECT[2] * A4_LANDSCAPE_IN[0] * 150
    )
    fill_alpha = 0.0 if background else 1.0
    gem = clip(run.gemeenten, extent)
    if gem is not None:
        if spec.scope == "overzicht":
            gem.plot(ax=ax, color=_FOCUS_FILL, edgecolor="none", zorder=1, alpha=fill_alpha)
        else:
            focus_mask = gem["naam"].isin(spec.names)
            gem[~focus_mask].plot(
                ax=ax,
                color=_OTHER_GEMEENTE,
                edgecolor="none",
                zorder=1,
                alpha=0.55 if background else 1.0,
            )
            gem[focus_mask].plot(
                ax=ax, color=_FOCUS_FILL, edgecolor="none", zorder=1, alpha=fill_alpha
            )

    # the reference layers, from one table (layers/publish/map_layers.py MAP_LAYERS)
    handles, odour_handles = draw_reference_layers(
        MapContext(
            ax=ax,
            run=run,
            extent=extent,
            width=width,
            roads=prep.roads,
            odour_bounds=prep.odour_bounds,
            gemeenten=gem,
            scope=spec.scope,
            focus=spec.focus,
            names=spec.names,
        )
    )

    # sites
    view = prep.has_geom & (prep.x >= xmin) & (prep.x <= xmax) & (prep.y >= ymin) & (prep.y <= ymax)
    axes_in = (_MAP_RECT[2] * A4_LANDSCAPE_IN[0], _MAP_RECT[3] * A4_LANDSCAPE_IN[1])
    diameter_pt = symbol_diameter(prep.x[view & in_area], prep.y[view & in_area], extent, axes_in)
    small = prep.size_m < 0.008 * width  # polygons too small to see: draw as a marker
    sites = run.sites
    for verdict in _VERDICT_ORDER:
        label, rgb = VERDICT_COLOURS[verdict]
        colour = tuple(c / 255 for c in rgb)
        for focus_part, alpha, edge in ((False, 0.35, "none"), (True, 1.0, "#333333")):
            sel = view & (prep.verdict == verdict) & (in_area == focus_part)
            if not sel.any():
                continue
            big = sel & prep.polygon & ~small
            dots = sel & ~big
            if big.any():
                sites[big].plot(
                    ax=ax,
                    facecolor=colour,
                    edgecolor=edge if edge != "none" else colour,
                    linewidth=0.5,
                    alpha=alpha,
                    zorder=10 if focus_part else 9,
                )
            if dots.any():
                ax.scatter(
                    prep.x[dots],
                    prep.y[dots],
                    s=diameter_pt**2,
                    facecolor=colour,
                    edgecolor=edge,
                    linewidth=0.35,
                    alpha=alpha,
                    zorder=10 if focus_part else 9,
                )

    # place names where there is room: gemeenten, then kernen (from the BBG's names)
    height = ymax - ymin
    m_per_pt = width / (_MAP_RECT[2] * A4_LANDSCAPE_IN[0] * 72)
    sx, sy = prep.x[view], prep.y[view]
    if gem is not None:
        overview = spec.scope == "overzicht"
        crowded = overview and len(gem) > 15
        for name, geom in zip(gem["naam"], gem.geometry):
            focus_name = name in spec.names
            size = (6.2 if crowded else 7.5) if overview else (9.5 if focus_name else 7.5)
            half_w = 0.32 * size * len(str(name)) * m_per_pt
            half_h = 0.75 * size * m_per_pt
            inner = shapely.intersection(
                geom, shapely.box(xmin + half_w, ymin + 0.06 * height, xmax - half_w, ymax - half_h)
            )
            if inner is None or shapely.is_empty(inner):
                continue
            spots = [shapely.point_on_surface(inner)]
            bx0, by0, bx1, by1 = shapely.bounds(inner)
            grid = shapely.points(
                np.stack(
                    np.meshgrid(np.linspace(bx0, bx1, 9), np.linspace(by0, by1, 7)), -1
                ).reshape(-1, 2)
            )
            spots += [g for g in grid if shapely.contains(inner, g)]
            xy = np.array([[s.x, s.y] for s in spots])
            px, py = xy[free_spot(xy, sx, sy, half_w, half_h)]
            ax.text(
                px,
                py,
                name,
                ha="center",
                va="center",
                fontsize=size,
                fontweight="bold" if (focus_name or (overview and not crowded)) else "normal",
                fontstyle="normal" if (focus_name or overview) else "italic",
                color=_TEXT if (focus_name or overview) else _GREY_TEXT,
                zorder=15,
                clip_on=True,
                path_effects=[path_effects.withStroke(linewidth=2.6, foreground="white")],
            )
    places = clip(prep.places, extent)
    if places is not None and (spec.scope != "overzicht" or len(places) <= 40):
        for name, pt in zip(places["naam"], places.geometry):
            ax.text(
                pt.x,
                pt.y + 6 * m_per_pt,
                name,
                ha="center",
                va="bottom",
                fontsize=6.8,
                fontstyle="italic",
                color="#3a3a3a",
                zorder=14,
                clip_on=True,
                path_effects=[path_effects.withStroke(linewidth=2.2, foreground="white")],
            )

    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    for spine in ax.spines.values():
        spine.set_edgecolor("#444444")
        spine.set_linewidth(0.8)
    draw_scalebar(ax, extent, _MAP_RECT[2] * A4_LANDSCAPE_IN[0])
    top = sy > ymax - 0.2 * height
    left_busy = int((top & (sx < xmin + 0.12 * width)).sum())
    right_busy = int((top & (sx > xmax - 0.12 * width)).sum())
    draw_north_arrow(ax, left=left_busy < right_busy)

    # ---- title block
    fig.text(
        0.035,
        0.945,
        _title(run, spec, stay_type),
        fontsize=17,
        fontweight="bold",
        color=_TEXT,
        va="baseline",
    )
    sub = (
        f"Oordeel per kandidaatlocatie voor {stay_label(stay_type)}  ·  {run.ruleset_label}  · "
        f" toetsing {run.run_date}"
    )
    fig.text(0.035, 0.905, sub, fontsize=9.5, color=_GREY_TEXT, va="baseline")
    if run.is_demo:
        fig.text(
            0.975,
            0.945,
            "FICTIEF DEMOGEBIED",
            fontsize=11,
            fontweight="bold",
            color=(0.75, 0.1, 0.1),
            ha="right",
            va="baseline",
        )
        fig.text(
            0.975,
            0.905,
            "geen echte gegevens",
            fontsize=9,
            color=(0.75, 0.1, 0.1),
            ha="right",
            va="baseline",
        )

    # ---- legend
    counts = {
        v: int(((prep.verdict == v) & in_area & prep.has_geom).sum()) for v in VERDICT_COLOURS
    }
    n_no_geom = int((in_area & ~prep.has_geom).sum())
    legend: list[tuple[Any, str, bool]] = [
        (Patch(visible=False), f"Oordeel {stay_label(stay_type)}", True)
    ]
    for verdict in (*VERDICTS, ""):
        label, rgb = VERDICT_COLOURS[verdict]
        if verdict == "" and counts[""] == 0:
            continue
        colour = tuple(c / 255 for c in rgb)
        legend.append(
            (
                Line2D(
                    [],
                    [],
                    marker="o",
                    linestyle="none",
                    markersize=7.5,
                    markerfacecolor=colour,
                    markeredgecolor="#333333",
                    markeredgewidth=0.5,
                ),
                f"{label} ({nl_number(counts[verdict])})",
                False,
            )
        )
    if spec.scope != "overzicht":
        legend.append(
            (
                Line2D(
                    [],
                    [],
                    marker="o",
                    linestyle="none",
                    markersize=7.5,
                    markerfacecolor=(0.6, 0.6, 0.6),
                    alpha=0.35,
                    markeredgecolor="none",
                ),
                "Locatie in andere gemeente",
                False,
            )
        )
    legend.append((Patch(visible=False), "Ruimtelijke lagen", True))
    legend.extend(handles)
    if odour_handles:
        legend.append((Patch(visible=False), "Geurcontour (OUe/m³)", True))
        legend.extend(odour_handles)
    def draw_legend(scale: float) -> Any:
        leg = side.legend(
            [h for h, _, _ in legend],
            [t for _, t, _ in legend],
            loc="upper left",
            bbox_to_anchor=(0.0, 1.0),
            frameon=False,
            fontsize=8.2 * scale,
            handlelength=1.8,
            handletextpad=0.6,
            labelspacing=0.55 * scale,
            borderaxespad=0.0,
        )
        for text, (_, _, header) in zip(leg.get_texts(), legend):
            if header:
                text.set_fontweight("bold")
                text.set_fontsize(9 * scale)
                text.set_x(-28)
        return leg

    leg = draw_legend(1.0)

    # ---- key figures of the area
    in_sel = in_area
    # capaciteit_personen × vrij_aandeel for the map's stay type (only the free part of a partly
    # affected site)
    cap = (
        usable_capacity(run.sites, stay_type).to_numpy()
        if "capaciteit_personen" in run.sites
        else None
    )
    lines = [f"Locaties in dit gebied: {nl_number(int(in_sel.sum()))}"]
    if cap is not None:
        good = np.nansum(np.where(in_sel & (prep.verdict == "geschikt"), cap, 0.0))
        cond = np.nansum(np.where(in_sel & (prep.verdict == "voorwaardelijk"), cap, 0.0))
        lines.append(f"Capaciteit geschikt: {nl_number(good)} personen")
        lines.append(f"Capaciteit voorwaardelijk: {nl_number(cond)} personen")
    if n_no_geom:
        lines.append(f"Zonder geometrie (niet op de kaart): {nl_number(n_no_geom)}")
    lines.append("")
    lines.append("Elke locatie is getoetst alsof zij voor")
    lines.append(f"{stay_label(stay_type)} wordt gebruikt. Redenen per locatie:")
    lines.append("zie locaties.gpkg (veld 'redenen').")
    key_figures = side.text(
        0.0,
        0.0,
        "\n".join(lines),
        transform=side.transAxes,
        fontsize=7.8,
        color=_TEXT,
        va="bottom",
        ha="left",
        linespacing=1.45,
    )
    # a long legend (many reference layers) must not run into the key figures: draw it smaller
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    for scale in (0.88, 0.78, 0.7):
        if leg.get_window_extent(renderer).y0 > key_figures.get_window_extent(renderer).y1 + 4:
            break
        leg.remove()
        leg = draw_legend(scale)

    # ---- footer
    fig.text(0.035, 0.045, attribution(run), fontsize=7.5, color=_GREY_TEXT, va="baseline")
    fig.text(
        0.975,
        0.045,
        f"Coördinaten RD New (EPSG:28992)  ·  {run.ruleset_label}  ·  Locatietoets {run.version}",
        fontsize=7.5,
        color=_GREY_TEXT,
        ha="right",
        va="baseline",
    )
    fig.text(
        0.035,
        0.022,
        (
            f"{basemap.attribution}. "
            if background
            else (
                "Achtergrondkaart (BRT) niet beschikbaar: kaart zonder achtergrond. "
                if basemap is not None
                else "Kaart zonder achtergrondkaart (offline gemaakt). "
            )
        )
        + "Oordelen zijn een eerste ruimtelijke toets, geen vergunningsbesluit.",
        fontsize=6.5,
        color="#8a8a8a",
        va="baseline",
    )
    return fig


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------

Progress = Callable[[int, int, str], None]


def _save(fig: Figure, path: Path, fmt: str, dpi: int) -> None:
    with atomic_path(path) as tmp:
        if fmt == "pdf":
            fig.savefig(
                tmp,
                format="pdf",
                metadata={"CreationDate": None, "Creator": "Locatietoets", "Title": path.stem},
            )
        else:
            fig.savefig(tmp, format="png", dpi=dpi, metadata={"Software": "Locatietoets"})


def iter_maps(
    run: RunFolder,
    specs: Sequence[MapSpec],
    *,
    stay_type: str,
    achtergrond: str = "geen",
    basemap: Basemap | None = None,
) -> Iterator[tuple[MapSpec, Figure]]:
    """Yield ``(spec, figure)`` for every map; each figure is closed after use. ``achtergrond``
    ``"brt"`` draws the BRT-Achtergrondkaart (cached; never required)."""
    _check_choice(achtergrond, BACKGROUNDS, "--achtergrond")
    prepared = _prepare(run, stay_type)
    basemap = basemap or basemap_for(achtergrond)
    for spec in specs:
        fig = render_map(run, spec, stay_type=stay_type, prepared=prepared, basemap=basemap)
        try:
            yield spec, fig
        finally:
            fig.clear()


def write_maps(
    run: RunFolder,
    out_dir: Path,
    *,
    per: str = "gemeente",
    stay_type: str = "short_stay",
    formats: str = "beide",
    dpi: int = 250,
    progress: Progress | None = None,
    achtergrond: str = "geen",
) -> list[Path]:
    """Draw every map of a run and write them into ``out_dir``.

    Writes ``<scope>_<naam>_<verblijfstype>.png`` and/or ``.pdf`` per map
    and, with PDF, an atlas ``atlas_<per>_<verblijfstype>.pdf`` with all maps
    (overview first, then the areas in alphabetical order). Every file is
    written to a temporary name first and then moved into place.

    Parameters
    ----------
    run
        The run folder.
    out_dir
        Folder for the maps (created when needed).
    per, stay_type
        See :func:`plan_maps`.
    formats
        ``"png"``, ``"pdf"`` or ``"beide"``.
    dpi
        Resolution of the PNGs (dots per inch; PDFs are vector).
    progress
        Called as ``progress(done, total, label)`` after each map.
    achtergrond
        ``"geen"`` (offline, default) or ``"brt"``: the BRT-Achtergrondkaart grijs of PDOK as
        basemap, cached in ``~/.cache/locatietoets/brt``; without it the maps are drawn as usual.

    Returns
    -------
    list of pathlib.Path
        The files written, in order.
    """
    _check_choice(formats, MAP_FORMATS, "--formaat")
    specs = plan_maps(run, per=per, stay_type=stay_type)
    fmts = ("png", "pdf") if formats == "beide" else (formats,)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    atlas_path = out_dir / f"atlas_{per}_{stay_type}.pdf"
    with contextlib.ExitStack() as stack:
        stack.enter_context(matplotlib.rc_context(PDF_RC))
        atlas = None
        if "pdf" in fmts:
            atlas_tmp = stack.enter_context(atomic_path(atlas_path))
            atlas = PdfPages(
                atlas_tmp,
                metadata={
                    "CreationDate": None,
                    "Creator": "Locatietoets",
                    "Title": f"Kaarten {stay_label(stay_type)}",
                },
            )
        try:
            maps = iter_maps(run, specs, stay_type=stay_type, achtergrond=achtergrond)
            for i, (spec, fig) in enumerate(maps, start=1):
                for fmt in fmts:
                    path = out_dir / f"{spec.stem}.{fmt}"
                    _save(fig, path, fmt, dpi)
                    written.append(path)
                if atlas is not None:
                    atlas.savefig(fig)
                if progress:
                    progress(i, len(specs), spec.name)
        finally:
            if atlas is not None:
                atlas.close()
    if "pdf" in fmts:
        written.append(atlas_path)
    log.info("%s kaarten getekend", nl_number(len(specs)))
    return written
