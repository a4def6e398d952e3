"""Odour (geur) from livestock farms: contours and fixed distances per site.

Since 1 January 2024 the Wet geurhinder en veehouderij (Wgv) is repealed; its
norms live on as instructieregels of the Besluit kwaliteit leefomgeving (Bkl)
and in each gemeente's omgevingsplan (the old geurverordening carried over
through the bruidsschat). Reasons cite those instruments and read as a
screening outcome, not as a legal ban. Two tests run for every site at once:

* **odour load**: the highest V-Stacks contour value ``v`` (OUe/m³,
  98-percentile) whose polygon covers a point site, or touches any part of a
  polygon site, is compared with the norm at the site; ``geur_oue >= norm`` is
  a knelpunt;
* **fixed distances**: a site closer to a farm than the distance that farm
  requires is a knelpunt. The legal minimum follows from the farm's animals
  and the *site's* kom status: animals **without** an odour-emission factor
  (dairy cattle, horses ...) need the point distance (default 100 m inside the
  kom, 50 m outside); animals **with** one need the façade-to-façade distance
  (50 m / 25 m) from the stable footprint (a point farm: from the point, the
  stable's outline being unknown); when the layer does not say, the strictest
  of the two applies. A farm's own distance (``vaste_afstand_m``, from the
  omgevingsplan or a legacy stankcirkel) raises that minimum, never lowers
  it: required = max(own, minimum).

Everything is vectorised: one STRtree over the sites serves the contour and
fixed-distance bulk queries (the contour envelopes and farm parts are the query
input), a k-d tree screens the nearest farm with exact shapely distances for
the few candidates, and per-site results are reduced with numpy (``maximum.at``,
``minimum.at``, lexsort). No Python loop runs per site. All geometries are in
EPSG:28992 (metres).

A run in blocks (a million sites in blocks of 50,000) tests every block
against the same layers, so what is derived from a layer alone is built once
per run and thread (:func:`analysis.derived.derived`): the contours' prepared
copies with a disc inside and a disc around each (:class:`_ContourIndex`), per
angular sector around that centre the nearest and farthest boundary point
(:class:`_Sectors`: most (contour, site) pairs are settled by these bounds,
only the rest get an exact GEOS test, and a pair whose site lies within a
higher contour of the same farm needs none) and the farm parts with their k-d
tree (:class:`_FarmIndex`).
The farm distances run in a second thread beside the contour tests. Reasons
are filled in once per distinct combination of their fields. Every shortcut
gives the same numbers and texts as testing every pair
(tests/test_odour.py compares with brute force and blocks with one run).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
import logging
import os

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
import shapely

from locatietoets.analysis.derived import derived
from locatietoets.analysis.errors import InputError
from locatietoets.analysis.overlay import SHARE_EPS
from locatietoets.analysis.texts import format_number, nl_number, render_array

__all__ = ["assess_odour", "KOM_SOURCE_KOM", "KOM_SOURCE_BBG", "KOM_SOURCE_UNKNOWN", "COLUMNS"]

logger = logging.getLogger(__name__)

KOM_SOURCE_KOM = "bebouwde kom"
KOM_SOURCE_BBG = "bestaand bebouwd gebied als benadering van de bebouwde kom"
#: No kom layer and no BBG: the kom status is unknown and the strictest distances apply.
KOM_SOURCE_UNKNOWN = (
    "onbekend: geen laag [lagen.bebouwde_kom] of [lagen.bebouwd_gebied], strengste waarde"
)
_KOM_UNKNOWN_TEXT = (
    "bij onbekende ligging ten opzichte van de bebouwde kom (geen laag [lagen.bebouwde_kom] "
    "of [lagen.bebouwd_gebied]: de strengste waarde geldt)"
)

COLUMNS = [
    "geur_oue",
    "geur_norm_oue",
    "geur_knelpunt_contour",
    "geur_knelpunt_afstand",
    "geur_knelpunt",
    "geur_knelpunt_aandeel",
    "geur_onzeker",
    "geur_in_contour",
    "geur_binnen_vaste_afstand",
    "veehouderij",
    "veehouderij_afstand_m",
    "geur_vaste_afstand_m",
    "geur_reden",
]

_CONTOUR_LAYER = "[lagen.geurcontouren]"
#: A polygon site overlapping a contour by less than this (m) only touches it.
_TOUCH_M = 0.001
_FARM_LAYER = "[lagen.veehouderijen]"

# kinds of fixed distance, per (site, farm part) pair
_KIND_NO_FACTOR = 0  # animals without an odour-emission factor: point distance
_KIND_FOOTPRINT = 1  # animals with a factor, stable footprint: façade to façade
_KIND_OWN = 2  # the farm's own distance (vaste_afstand_m), larger than the legal minimum
_KIND_FACTOR_POINT = 3  # animals with a factor, but only a point: from the point
_KIND_UNKNOWN = 4  # animal type unknown: the strictest applicable distance

_CITE_NORM = " (Bkl, standaardwaarde; omgevingsplan {plan})"
_CITE_NORM_PLAN = " (eigen waarde in het omgevingsplan {plan})"
_CITE_DISTANCE = " (Bkl, vaste afstand; omgevingsplan {plan})"
_PLAN_UNKNOWN = "van de gemeente"

_TEMPLATE_CONTOUR = "Ligt in geurcontour {oue} OUe/m³{bron}; norm {cell} is {norm} OUe/m³{cite}"
_TEMPLATE_UNDECIDED = (
    "Ligt in geurcontour {lower} OUe/m³{farm} maar buiten de contour van {upper} OUe/m³; "
    "norm {cell} is {norm} OUe/m³{cite}: de geurbelasting ligt daartussen, dus de contouren "
    "kunnen niet beslissen of de locatie aan de norm voldoet"
)
# fixed-distance clauses start after the verb: "Ligt" alone, "; ligt" after a contour clause
_TEMPLATE_NO_FACTOR = (
    " op {afstand} m van veehouderij '{naam}' met dieren zonder geuremissiefactor; "
    "vaste afstand {kom} is {vereist} m{cite}"
)
_TEMPLATE_FOOTPRINT = (
    " op {afstand} m van dierenverblijf van veehouderij '{naam}' (gevel tot gevel); "
    "minimumafstand gevel tot gevel {kom} is {vereist} m{cite}"
)
_TEMPLATE_FACTOR_POINT = (
    " op {afstand} m van veehouderij '{naam}', gemeten vanaf het punt omdat de omtrek van het "
    "dierenverblijf onbekend is; minimumafstand gevel tot gevel {kom} is {vereist} m{cite}"
)
_TEMPLATE_UNKNOWN = (
    " op {afstand} m van veehouderij '{naam}'; of de dieren een geuremissiefactor hebben is "
    "onbekend, dus geldt de strengste vaste afstand {kom}: {vereist} m{cite}"
)
_TEMPLATE_OWN = (
    " op {afstand} m van veehouderij '{naam}', binnen de eigen vaste afstand van {vereist} m "
    "van die veehouderij (omgevingsplan of stankcirkel; wettelijk minimum {kom} {minimum} m)"
)

Progress = Callable[[float, str], None]


def assess_odour(
    sites: gpd.GeoSeries,
    *,
    in_kom: np.ndarray,
    concentration_area: np.ndarray,
    norm_oue: np.ndarray,
    kom_source: str,
    contours: gpd.GeoDataFrame | None,
    farms: gpd.GeoDataFrame | None,
    point_distance_kom_m: np.ndarray,
    point_distance_outside_m: np.ndarray,
    facade_distance_kom_m: np.ndarray,
    facade_distance_outside_m: np.ndarray,
    gemeente: np.ndarray | None = None,
    norm_from_plan: np.ndarray | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Test every site against odour contours and fixed farm distances.

    Parameters
    ----------
    sites
        Site geometries (points and/or polygons, none empty) in EPSG:28992.
    in_kom
        Per site: does it lie inside the bebouwde kom for odour (bool)?
    concentration_area
        Per site: does it lie in a concentratiegebied (bool)? Only used in the
        reason text; the norm itself is ``norm_oue``.
    norm_oue
        Per site: the odour norm in OUe/m³ (98-percentile) that applies there.
    kom_source
        Where the kom status came from, in Dutch, for the reason:
        ``"bebouwde kom"`` or ``"bestaand bebouwd gebied als benadering van de
        bebouwde kom"`` (then every kom phrase in a reason says so), or
        :data:`KOM_SOURCE_UNKNOWN` (no kom layer and no BBG: ``in_kom`` is
        ignored, the larger of the kom and outside distances applies, the
        reason says why; the caller passes the strictest norm).
    contours
        Odour contours in EPSG:28992, polygons with float column ``waarde``
        (OUe/m³): a contour of value ``v`` encloses the area where the load is
        at least ``v``. Optional text column ``bron`` is named in the reason;
        optional column ``veehouderij`` (the farm a contour belongs to) makes
        the "next higher contour" of the undecided test that farm's.
        ``None`` when the layer is not given.
    farms
        Livestock farms in EPSG:28992 with columns ``naam``,
        ``vaste_afstand_m`` (the farm's own distance in m, NaN when not
        given) and optionally ``geuremissiefactor`` (1.0: animals with an
        odour-emission factor, 0.0: without, NaN or column absent: unknown).
        Polygon (and any line) parts are stable footprints, point parts
        emission points or farms whose outline is unknown; a row may mix
        both. ``None`` when not given.
    point_distance_kom_m, point_distance_outside_m
        Per site: fixed distance in m (EPSG:28992 units) from a farm with
        animals without an odour-emission factor, inside / outside the
        bebouwde kom.
    facade_distance_kom_m, facade_distance_outside_m
        Per site: minimum façade-to-façade distance in m from a farm with
        animals with an odour-emission factor, inside / outside the kom.
    gemeente
        Per site the gemeente's name (None when unknown), named in the
        reason's citation of the omgevingsplan. Optional.
    norm_from_plan
        Per site: does the norm come from the gemeente's own omgevingsplan
        (a per-gemeente value) rather than the Bkl standard value? Optional.
    progress
        Optional callback ``progress(fraction, message)``.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``sites``, with the columns in :data:`COLUMNS`:
        ``geur_oue`` (highest contour value at the site, NaN when none),
        ``geur_norm_oue``, ``geur_knelpunt_contour`` (``geur_oue >= norm``),
        ``geur_knelpunt_afstand`` (closer than a farm's required distance),
        ``geur_knelpunt`` (either), ``geur_knelpunt_aandeel`` (the share
        0-1 of the site in a knelpunt zone: a contour at or above the norm or
        a violated fixed distance; points 0 or 1), ``geur_onzeker`` (the contours cannot
        decide: inside a contour below the norm whose next higher contour is
        above it; never set for a knelpunt), ``geur_in_contour`` (in any contour),
        ``geur_binnen_vaste_afstand`` (= ``geur_knelpunt_afstand``),
        ``veehouderij`` / ``veehouderij_afstand_m`` (nearest farm and its
        distance in m), ``geur_vaste_afstand_m`` (required distance of the
        violating farm, else of the nearest farm: max(own, legal minimum);
        m) and ``geur_reden``
        (Dutch reason, ``""`` when neither knelpunt nor onzeker).

    Raises
    ------
    InputError
        When ``contours`` lacks ``waarde``, ``farms`` lacks ``naam`` or
        ``vaste_afstand_m``, or a layer's CRS differs from the sites' CRS.

    Notes
    -----
    Distances are planar shapely distances between the geometries (shortest
    distance for polygon sites); "closer than" is strict: ``distance <
    required``. A point exactly on a contour boundary counts as inside.
    """
    n = len(sites)
    arrays = _per_site_arrays(
        n,
        in_kom=in_kom,
        concentration_area=concentration_area,
        norm_oue=norm_oue,
        point_distance_kom_m=point_distance_kom_m,
        point_distance_outside_m=point_distance_outside_m,
        facade_distance_kom_m=facade_distance_kom_m,
        facade_distance_outside_m=facade_distance_outside_m,
    )
    _check_layers(sites, contours, farms)
    report = progress or (lambda fraction, message: None)
    report(0.0, "geurtoets: ruimtelijke index van de locaties opbouwen")

    geoms = np.asarray(sites.to_numpy(), dtype=object)
    site_info = _site_info(geoms)
    # one tree over the sites serves the contour and the farm queries (both widen their search
    # by more than the millimetre a polygon site is shrunk by where that decides a touch)
    site_tree = shapely.STRtree(geoms) if n else None
    in_kom_arr = arrays["in_kom"]

    # -- odour contours and farms ---------------------------------------------
    # the farm distances run in a second thread while the contours are tested (both mostly GEOS
    # and k-d tree work, which release the GIL); the site tree answers its first query before the
    # second thread starts, so the threads only read it
    oue = np.full(n, np.nan)
    in_contour = np.zeros(n, dtype=bool)
    top_bron = np.full(n, "", dtype=object)
    norm = arrays["norm_oue"]
    undecided = _no_undecided(n)
    pairs: _ContourPairs | None = None
    index: _ContourIndex | None = None
    with ThreadPoolExecutor(max_workers=1) as pool:
        candidates = None
        if contours is not None and len(contours) and n:
            report(0.1, "geurtoets: geurcontouren per locatie bepalen")
            # one index per thread: a prepared GEOS geometry must not be tested by two threads at
            # once (it keeps scratch state), and blocks may be scored in threads side by side
            index = derived(
                contours,
                ("odour.contours", _MARGIN_M),
                lambda: _contour_index(contours),
                per_thread=True,
            )
            # the sector bounds hold no prepared geometry: one copy for every thread
            sectors = derived(
                contours, ("odour.sectors", _MARGIN_M), lambda: _contour_sectors(contours, index)
            )
            candidates = site_tree.query(index.boxes)

        # per calling thread, like the contour index (used by this call's farm thread only)
        farm_index = (
            derived(farms, "odour.farms", lambda: _farm_index(farms), per_thread=True)
            if farms is not None and len(farms) and n
            else None
        )

        def farm_distances() -> dict[str, np.ndarray]:
            return _farm_distances(
                site_tree,
                site_info,
                farms,
                farm_index,
                arrays,
                n,
                kom_unknown=kom_source == KOM_SOURCE_UNKNOWN,
            )

        farm_job = pool.submit(farm_distances) if candidates is not None and _cores() > 1 else None
        if candidates is not None:
            oue, in_contour, top_bron, pairs = _contour_load(
                candidates, index, sectors, n, site_info
            )
            undecided = _undecided((pairs.contour, pairs.site), index, norm, n)
        report(0.5, "geurtoets: afstanden tot veehouderijen bepalen")
        farm_result = farm_distances() if farm_job is None else farm_job.result()
    with np.errstate(invalid="ignore"):
        knelpunt_contour = np.isfinite(oue) & (oue >= norm)
    knelpunt_afstand = farm_result["violating"]

    knelpunt = knelpunt_contour | knelpunt_afstand
    # the contours cannot decide: never a knelpunt, and a knelpunt found otherwise wins
    onzeker = undecided["flag"] & ~knelpunt
    report(0.75, "geurtoets: aandeel van vlaklocaties in een knelpunt bepalen")
    knelpunt_share = _knelpunt_share(
        site_info,
        knelpunt=knelpunt,
        contour_pairs=pairs,
        contour_index=index,
        norm=norm,
        farm_pairs=farm_result["pairs"],
        parts=farm_result["parts"],
    )

    # -- reasons -------------------------------------------------------------
    report(0.85, "geurtoets: redenen opstellen")
    reason = _reasons(
        knelpunt_contour=knelpunt_contour,
        knelpunt_afstand=knelpunt_afstand,
        oue=oue,
        norm=norm,
        top_bron=top_bron,
        in_kom=in_kom_arr,
        concentration_area=arrays["concentration_area"],
        kom_source=kom_source,
        plan=_plan_names(gemeente, n),
        norm_from_plan=(
            np.zeros(n, dtype=bool)
            if norm_from_plan is None
            else np.asarray(norm_from_plan, dtype=bool)
        ),
        farm_result=farm_result,
        onzeker=onzeker,
        undecided=undecided,
    )

    result = pd.DataFrame(
        {
            "geur_oue": oue.astype("float64"),
            "geur_norm_oue": norm.astype("float64"),
            "geur_knelpunt_contour": knelpunt_contour,
            "geur_knelpunt_afstand": knelpunt_afstand,
            "geur_knelpunt": knelpunt,
            "geur_knelpunt_aandeel": knelpunt_share,
            "geur_onzeker": onzeker,
            "geur_in_contour": in_contour,
            "geur_binnen_vaste_afstand": knelpunt_afstand.copy(),
            # object Series: a plain object array would be converted to pandas' str dtype here
            "veehouderij": pd.Series(
                farm_result["nearest_name"], dtype="object", index=sites.index
            ),
            "veehouderij_afstand_m": farm_result["nearest_distance"].astype("float64"),
            "geur_vaste_afstand_m": farm_result["required"].astype("float64"),
            "geur_reden": pd.Series(reason, dtype="object", index=sites.index),
        },
        index=sites.index,
    )
    logger.info(
        "geurtoets: %s locaties in een geurcontour, %s knelpunten "
        "(%s door geurcontour, %s door vaste afstand), %s onzeker (contouren beslissen niet)",
        nl_number(in_contour.sum()),
        nl_number(knelpunt.sum()),
        nl_number(knelpunt_contour.sum()),
        nl_number(knelpunt_afstand.sum()),
        nl_number(onzeker.sum()),
    )
    report(1.0, "geurtoets: klaar")
    return result


# ---------------------------------------------------------------------------
# checks
# ---------------------------------------------------------------------------


def _per_site_arrays(n: int, **arrays: np.ndarray) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    wrong = []
    for name, values in arrays.items():
        arr = np.asarray(values)
        if arr.shape != (n,):
            wrong.append(f"{name} heeft vorm {arr.shape}, verwacht ({n},)")
            continue
        if name in ("in_kom", "concentration_area"):
            out[name] = arr.astype(bool)
        else:
            out[name] = arr.astype("float64")
    if wrong:
        raise ValueError(
            "assess_odour: per-locatie-arrays passen niet bij de locaties: " + "; ".join(wrong)
        )
    return out


def _check_layers(
    sites: gpd.GeoSeries, contours: gpd.GeoDataFrame | None, farms: gpd.GeoDataFrame | None
) -> None:
    problems: list[str] = []
    if contours is not None and "waarde" not in contours.columns:
        problems.append(
            f"De laag {_CONTOUR_LAYER} heeft geen kolom 'waarde' met de geurbelasting in OUe/m³ "
            f"(gevonden kolommen: {_column_list(contours)}). Geef met 'waarde_veld' aan welk veld "
            "de contourwaarde bevat."
        )
    if farms is not None:
        for column, fix in (
            (
                "naam",
                "geef met 'naam_veld' het veld met de naam of het nummer van de veehouderij op",
            ),
            (
                "vaste_afstand_m",
                "geef met 'vaste_afstand_veld' het veld met de eigen vaste afstand in m op, "
                "of laat het weg zodat de standaardafstanden gelden",
            ),
        ):
            if column not in farms.columns:
                problems.append(
                    f"De laag {_FARM_LAYER} heeft geen kolom '{column}' "
                    f"(gevonden kolommen: {_column_list(farms)}); {fix}."
                )
    for layer, frame in ((_CONTOUR_LAYER, contours), (_FARM_LAYER, farms)):
        if frame is None or sites.crs is None or frame.crs is None:
            continue
        if not sites.crs.equals(frame.crs):
            problems.append(
                f"De laag {layer} heeft coördinatenstelsel {frame.crs.to_string()}, de locaties "
                f"{sites.crs.to_string()}. Zet de laag om naar EPSG:28992 (RD New)."
            )
    if problems:
        raise InputError(problems)


def _column_list(frame: gpd.GeoDataFrame) -> str:
    names = [str(c) for c in frame.columns if c != frame.geometry.name]
    return ", ".join(f"'{c}'" for c in names) if names else "geen"


# ---------------------------------------------------------------------------
# contours
# ---------------------------------------------------------------------------


@dataclass
class _ContourIndex:
    """What the contour tests derive from the contour layer alone, built once per run.

    ``rows`` are the layer rows of the usable contours (a finite value and a
    non-empty geometry) and ``geoms`` copies of their geometries, prepared
    (copies, so preparing leaves the layer's own geometries alone). Per usable
    contour, a disc around ``centre`` of radius ``inner`` lies in its
    interior (0 when no such disc was found) and one of radius ``outer``
    holds it whole: a site within the inner disc lies in the contour and one
    beyond the outer disc does not, without a polygon test. ``boxes`` are the
    contours' envelopes widened by :data:`_MARGIN_M` (the candidate query).
    ``values`` and ``bron`` are per layer row; ``farm`` the code of the
    ``veehouderij`` a row belongs to, with ``farm_names``. ``distinct`` are
    the layer's contour values ascending, ``rank`` each row's position among
    them (0 for unusable rows) and ``steps`` the sorted (farm, rank) keys
    ``farm * len(distinct) + rank`` of the usable contours.
    """

    rows: np.ndarray
    geoms: np.ndarray
    boxes: np.ndarray
    centre: np.ndarray
    inner: np.ndarray
    outer: np.ndarray
    values: np.ndarray
    usable: np.ndarray
    distinct: np.ndarray
    rank: np.ndarray
    steps: np.ndarray
    bron: np.ndarray | None
    farm: np.ndarray
    farm_names: np.ndarray


#: Safety margin (m) of the disc bounds: more than the millimetre a polygon site is shrunk by
#: (:func:`_shrink_polygons`) plus any rounding; pairs within it get the exact polygon test.
_MARGIN_M = 0.01


def _contour_index(contours: gpd.GeoDataFrame) -> _ContourIndex:
    """Build the :class:`_ContourIndex` of a contour layer (once per run, see
    :func:`analysis.derived.derived`)."""
    values = pd.to_numeric(contours["waarde"], errors="coerce").to_numpy(dtype="float64")
    cgeoms = np.asarray(contours.geometry.to_numpy(), dtype=object)
    usable = np.isfinite(values) & ~shapely.is_missing(cgeoms) & ~shapely.is_empty(cgeoms)
    rows = np.flatnonzero(usable)
    geoms = shapely.transform(cgeoms[rows], lambda xy: xy)  # copies, bit for bit
    shapely.prepare(geoms)
    box = shapely.bounds(geoms)
    boxes = shapely.box(
        box[:, 0] - _MARGIN_M, box[:, 1] - _MARGIN_M, box[:, 2] + _MARGIN_M, box[:, 3] + _MARGIN_M
    )
    # the inner disc: around the centroid when it lies inside, else around a point on the surface
    centre = shapely.centroid(geoms)
    inside = shapely.contains_properly(geoms, centre)
    off = np.flatnonzero(~inside)
    if off.size:
        centre[off] = shapely.point_on_surface(geoms[off])
        inside[off] = shapely.contains_properly(geoms[off], centre[off])
    inner = shapely.distance(centre, shapely.boundary(geoms))
    inner = np.where(inside & np.isfinite(inner), inner, 0.0)
    centre_xy = shapely.get_coordinates(centre)
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    outer = np.zeros(len(geoms))
    np.maximum.at(outer, owner, np.hypot(*(coords - centre_xy[owner]).T))
    bron = None
    if "bron" in contours.columns:
        bron_s = pd.Series(contours["bron"].to_numpy(dtype=object), dtype="object")
        bron = bron_s.where(bron_s.notna(), "").astype(str).str.strip().to_numpy(dtype=object)
    if "veehouderij" in contours.columns:
        farm = pd.Series(contours["veehouderij"].to_numpy(dtype=object), dtype="object")
        farm = farm.where(farm.notna(), "").astype(str).str.strip()
        # contours without a farm name form one group of their own
        codes, farm_names = pd.factorize(farm.to_numpy(dtype=object))
        farm_names = np.asarray(farm_names, dtype=object)
        farm_names[farm_names == ""] = None
    else:
        codes, farm_names = np.zeros(len(contours), dtype=np.int64), np.array([None], dtype=object)
    codes = codes.astype(np.int64)
    distinct = np.unique(values[usable])  # every contour value of the layer, ascending
    width = np.int64(len(distinct))
    rank = np.searchsorted(distinct, np.where(usable, values, distinct[0] if width else 0.0))
    rank = np.where(usable, rank, 0).astype(np.int64)
    steps = np.unique(codes[usable] * width + rank[usable])
    return _ContourIndex(
        rows=rows,
        geoms=geoms,
        boxes=boxes,
        centre=centre_xy,
        inner=inner,
        outer=outer,
        values=values,
        usable=usable,
        distinct=distinct,
        rank=rank,
        steps=steps,
        bron=bron,
        farm=codes,
        farm_names=farm_names,
    )


#: Sectors per contour: a power of two, about two per vertex, within these bounds.
_SECTORS_MIN, _SECTORS_MAX = 16, 128
#: Angular padding (radians) of every sector when it is built: more than the rounding of an angle.
_SECTOR_PAD = 1e-9
#: x and y of the unit vectors of the rays of the finest division: turned back by the padding
#: (index ``j``), then turned on by it (index ``_SECTORS_MAX + j``).
_TURNED = np.r_[
    np.arange(_SECTORS_MAX) * 2 * np.pi / _SECTORS_MAX - _SECTOR_PAD,
    np.arange(_SECTORS_MAX) * 2 * np.pi / _SECTORS_MAX + _SECTOR_PAD,
]
_RAYS = (np.cos(_TURNED), np.sin(_TURNED))


@dataclass
class _Sectors:
    """Bounds of each contour's boundary per angular sector around the centre of its inner disc.

    Contour ``c`` (a position among the usable contours) has ``count[c]``
    equal sectors of the full circle around ``centre[c]`` of the
    :class:`_ContourIndex` (0: none, the disc bounds alone apply); its sector
    ``s`` spans the angles ``[s, s + 1) * 2 pi / count[c]`` and has
    ``inner[offset[c] + s]``, a lower bound of the distance from the centre to
    any boundary point in the sector, and ``outer[...]``, an upper bound.

    Only contours whose centre lies in their interior have sectors. Then the
    part of a sector nearer the centre than ``inner`` meets no boundary and
    holds the centre, so it lies in the contour's interior; the part farther
    than ``outer`` meets no boundary and reaches infinity, so it lies outside.
    Neither needs the polygon to be star-shaped: holes and any other rings are
    boundary like the exterior. A contour with 48 vertices gets 128 sectors,
    about 40 kB (float32, rounded outwards).
    """

    count: np.ndarray
    offset: np.ndarray
    inner: np.ndarray
    outer: np.ndarray

    def settle(
        self,
        pos: np.ndarray,
        dx: np.ndarray,
        dy: np.ndarray,
        reach: np.ndarray,
        r: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """For discs of radius ``reach`` at ``(dx, dy)`` from the centre of the contour at
        position ``pos`` (its centre in :class:`_ContourIndex`; ``r`` their distance when known):
        does the disc lie in the contour's interior, does it lie outside? Both False when the
        sectors cannot tell."""
        m = len(pos)
        inside, outside = np.zeros(m, dtype=bool), np.zeros(m, dtype=bool)
        count = self.count[pos]
        if r is None:
            r = np.hypot(dx, dy)
        # discs that hold the centre or span more than a sixth of the circle: the disc bounds
        ok = np.flatnonzero((count > 0) & (reach < 0.5 * r))
        if ok.size == 0:
            return inside, outside
        count, r, reach = count[ok], r[ok], reach[ok]
        width = 2 * np.pi / count
        angle = np.arctan2(dy[ok], dx[ok])
        half = np.arcsin(reach / r)  # the disc's angular half-width seen from the centre
        low = np.floor((angle - half) / width).astype(np.int64)
        k = np.floor((angle + half) / width).astype(np.int64) - low + 1
        base = self.offset[pos[ok]]
        # most discs lie in one sector
        first = base + low % count
        lowest = self.inner[first].astype(np.float64)
        highest = self.outer[first].astype(np.float64)
        more = np.flatnonzero(k > 1)
        if more.size:
            k = k[more]
            start = np.cumsum(k) - k
            rep = np.repeat(more, k)
            sector = (low[rep] + np.arange(rep.size) - start.repeat(k)) % count[rep]
            at = base[rep] + sector
            lowest[more] = np.minimum.reduceat(self.inner[at], start)
            highest[more] = np.maximum.reduceat(self.outer[at], start)
        inside[ok] = r + reach < lowest
        outside[ok] = r - reach > highest
        return inside, outside


def _contour_sectors(contours: gpd.GeoDataFrame, index: _ContourIndex) -> _Sectors:
    """Build the :class:`_Sectors` of the usable contours of ``index`` (once per run).

    Every boundary edge (exterior and holes) is cut at the sector rays it
    crosses, each ray padded by :data:`_SECTOR_PAD`; per sector the nearest and
    farthest point of its pieces bound the boundary there. Vectorised over
    the (edge, sector) pieces of a chunk of contours at a time (small
    temporaries, also the rings copied out of the polygons).
    """
    geoms = np.asarray(contours.geometry.to_numpy(), dtype=object)[index.rows]
    m = len(geoms)
    polygonal = np.isin(
        shapely.get_type_id(geoms),
        [shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON],
    )
    use = polygonal & (index.inner > 0)
    count = np.zeros(m, dtype=np.int64)
    vertices = shapely.get_num_coordinates(geoms)
    count[use] = np.clip(
        2 ** np.ceil(np.log2(np.maximum(2 * vertices[use], 1))), _SECTORS_MIN, _SECTORS_MAX
    ).astype(np.int64)
    offset = np.cumsum(count) - count
    total = int(count.sum())
    inner = np.empty(total, dtype=np.float32)
    outer = np.empty(total, dtype=np.float32)
    if total == 0:
        return _Sectors(count, offset, inner, outer)
    # chunks of contours with about _SECTOR_CHUNK pieces each (a piece per edge and per sector)
    work = np.cumsum(np.where(use, count + vertices, 0))
    cuts = np.searchsorted(work, np.arange(_SECTOR_CHUNK, int(work[-1]), _SECTOR_CHUNK))
    for c0, c1 in zip(np.r_[0, cuts + 1], np.r_[cuts + 1, m]):
        chunk = c0 + np.flatnonzero(use[c0:c1])
        if chunk.size == 0:
            continue
        # rings in contour order: the polygons of each contour, the rings of each polygon
        polygons, polygon_owner = shapely.get_parts(geoms[chunk], return_index=True)
        rings, ring_owner = shapely.get_rings(polygons, return_index=True)
        coords, ring_idx = shapely.get_coordinates(rings, return_index=True)
        edge = np.flatnonzero(ring_idx[1:] == ring_idx[:-1])
        s0 = int(offset[chunk[0]])
        s1 = int(offset[chunk[-1]] + count[chunk[-1]])
        low_in, low_out = _sector_pieces(
            coords,
            edge,
            chunk[polygon_owner[ring_owner[ring_idx[edge]]]],
            index.centre,
            count,
            offset - s0,
            s1 - s0,
        )
        # a sector without an edge cannot occur around an interior point; should it, it decides
        # nothing
        missing = ~np.isfinite(low_in) | ~np.isfinite(low_out)
        low_in[missing], low_out[missing] = 0.0, np.inf
        # float32, rounded outwards: the bounds only widen
        in32, out32 = low_in.astype(np.float32), low_out.astype(np.float32)
        inner[s0:s1] = np.where(in32 > low_in, np.nextafter(in32, np.float32(0)), in32)
        outer[s0:s1] = np.where(out32 < low_out, np.nextafter(out32, np.float32(np.inf)), out32)
    return _Sectors(count, offset, inner, outer)


#: (edge, sector) pieces per chunk when the sectors are built.
_SECTOR_CHUNK = 1 << 16


def _sector_pieces(
    coords: np.ndarray,
    edge: np.ndarray,
    contour: np.ndarray,
    centre: np.ndarray,
    count: np.ndarray,
    offset: np.ndarray,
    size: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Per sector slot (``offset[contour] + sector``, ``size`` slots) the nearest and farthest
    point of the pieces of the edges ``coords[edge]`` to ``coords[edge + 1]`` (of contours
    ``contour``) that lie in the sector; inf / -inf for a slot no edge meets."""
    # x and y as separate contiguous arrays: the gathers and arithmetic below are cheaper
    ax = coords[edge, 0] - centre[contour, 0]
    ay = coords[edge, 1] - centre[contour, 1]
    dx = coords[edge + 1, 0] - coords[edge, 0]
    dy = coords[edge + 1, 1] - coords[edge, 1]
    sectors = count[contour]
    width = 2 * np.pi / sectors
    # the angles an edge sweeps, counter-clockwise from ``first`` over ``sweep`` (< pi: the
    # centre lies in the interior, so off every edge)
    angle_a = np.arctan2(ay, ax)
    sweep = np.arctan2(ay + dy, ax + dx) - angle_a
    sweep = np.where(
        sweep > np.pi, sweep - 2 * np.pi, np.where(sweep < -np.pi, sweep + 2 * np.pi, sweep)
    )
    first = np.where(sweep >= 0, angle_a, angle_a + sweep)
    low = np.floor((first - _SECTOR_PAD) / width).astype(np.int64)
    k = np.floor((first + np.abs(sweep) + _SECTOR_PAD) / width).astype(np.int64) - low + 1
    start = np.cumsum(k) - k
    rep = np.repeat(np.arange(len(k)), k)
    sector = low[rep] + np.arange(rep.size) - start[rep]
    sectors = sectors[rep]
    slot = offset[contour][rep] + sector % sectors
    stride = _SECTORS_MAX // sectors  # sector rays as rays of the finest division
    ax, ay, dx, dy = ax[rep], ay[rep], dx[rep], dy[rep]

    def at_ray(ray: int) -> tuple[np.ndarray, np.ndarray]:
        """Where (edge parameter t) each edge's line meets its ray (the index of a ray of the
        finest division), and whether that is unsure (parallel, or the opposite ray)."""
        ux, uy = _RAYS[0][ray], _RAYS[1][ray]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = -(ux * ay - uy * ax) / (ux * dy - uy * dx)
            tc = np.clip(t, -1.0, 2.0)  # nan stays nan: unsure
            along = ux * (ax + tc * dx) + uy * (ay + tc * dy)
        return t, ~np.isfinite(t) | ~(along > 0)

    # each sector's rays turned outwards by the padding: the lower one back, the upper one on
    t0, unsure0 = at_ray(sector % sectors * stride)
    t1, unsure1 = at_ray(_SECTORS_MAX + (sector + 1) % sectors * stride)
    lo = np.clip(np.fmin(t0, t1), 0.0, 1.0)
    hi = np.clip(np.fmax(t0, t1), 0.0, 1.0)
    whole = unsure0 | unsure1 | ~(lo <= hi)  # unsure: the whole edge, a wider piece
    lo, hi = np.where(whole, 0.0, lo), np.where(whole, 1.0, hi)
    length2 = dx * dx + dy * dy
    with np.errstate(divide="ignore", invalid="ignore"):
        foot = np.where(length2 > 0, -(ax * dx + ay * dy) / length2, 0.0)
    near = np.clip(foot, lo, hi)

    def squared(t: np.ndarray) -> np.ndarray:
        x, y = ax + t * dx, ay + t * dy
        return x * x + y * y

    # squared distances, the square root once per slot (the margin covers the rounding)
    low_in = np.full(size, np.inf)
    low_out = np.full(size, -np.inf)
    np.minimum.at(low_in, slot, squared(near))
    np.maximum.at(low_out, slot, np.maximum(squared(lo), squared(hi)))
    np.sqrt(low_in, out=low_in)
    np.sqrt(low_out, out=low_out, where=low_out >= 0)
    return low_in, low_out


@dataclass
class _ContourPairs:
    """The (contour, site) pairs where the site lies in the contour, in contour order.

    ``contour`` is the layer row, ``usable`` the position among the usable
    contours (:class:`_ContourIndex`), ``within`` whether the bounds already
    show the site in the contour's interior. A pair whose contour is outranked
    at its site (:func:`_outranked`) may be left out.
    """

    contour: np.ndarray
    site: np.ndarray
    usable: np.ndarray
    within: np.ndarray


def _contour_load(
    candidates: np.ndarray,
    index: _ContourIndex,
    sectors: "_Sectors",
    n: int,
    sites: "_Sites",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, _ContourPairs]:
    """Highest contour value per site, whether it is in any contour, that contour's bron, and the
    pairs.

    ``intersects`` makes a point on a contour boundary count as inside; an
    extended site (polygon, MultiPoint) lies in a contour when a part of it
    does: a polygon that only touches a contour at its edge or corner (or
    overlaps it by less than :data:`_TOUCH_M`) does not, as it is tested
    shrunk by that much (:func:`_shrink_polygons`). The candidates are the
    sites in each contour's envelope (one bulk query, pairs in contour
    order: ``candidates`` = ``site_tree.query(index.boxes)``); the disc
    bounds of :class:`_ContourIndex` settle many of them, the sector bounds
    of :class:`_Sectors` most of the rest (an extended site with a vertex
    in a contour's interior meets it), and only the rest get the exact
    (prepared) ``intersects``. No intersection.
    """
    skipped = int((~index.usable).sum())
    if skipped:
        logger.warning(
            "geurtoets: %s geurcontouren zonder geldige waarde of geometrie overgeslagen",
            nl_number(skipped),
        )
    pos, site_idx = candidates
    within = np.empty(len(pos), dtype=bool)
    out = np.empty(len(pos), dtype=bool)
    # the bounds in chunks of pairs: small temporaries (a block has ~450,000 pairs)
    for start in range(0, len(pos), _PAIR_CHUNK):
        part = slice(start, start + _PAIR_CHUNK)
        within[part], out[part] = _bounds(pos[part], site_idx[part], index, sectors, sites)
    # meets the contour, not necessarily in its interior: an extended site's vertex lies inside
    touch = np.zeros(len(pos), dtype=bool)
    test = np.flatnonzero(~within & ~out)
    if test.size and within.any():
        test = test[~_outranked(site_idx, index.rows[pos], within, test, index, n)]
    extended = test[sites.extended[site_idx[test]]]
    if extended.size:
        inside = _vertex_inside(sectors, pos[extended], site_idx[extended], sites, index)
        touch[extended[inside]] = True
        test = test[~touch[test]]
    hit = within | touch
    if test.size:
        tested = np.zeros(n, dtype=bool)
        tested[site_idx[test]] = True
        tested = np.flatnonzero(tested & sites.extended & ~sites.multi)  # what is shrunk
        shrunk = sites.geoms.copy()
        shrunk[tested] = _shrink_polygons(sites.geoms[tested], sites.subset(tested))
        hit[test] = _in_halves(
            shapely.intersects, index.geoms[pos[test]], shrunk[site_idx[test]], pos[test]
        )
    pos, site_idx, within = pos[hit], site_idx[hit], within[hit]
    contour_idx = index.rows[pos]
    pair_values = index.values[contour_idx]

    in_contour = np.zeros(n, dtype=bool)
    in_contour[site_idx] = True
    top = np.full(n, -np.inf)
    np.maximum.at(top, site_idx, pair_values)
    oue = np.where(in_contour, top, np.nan)
    top_bron = np.full(n, "", dtype=object)
    if index.bron is not None and site_idx.size:
        # the bron of (one of) the contour(s) with the highest value at each site
        best = pair_values == top[site_idx]
        top_bron[site_idx[best]] = index.bron[contour_idx[best]]
    return oue, in_contour, top_bron, _ContourPairs(contour_idx, site_idx, pos, within)


#: Candidate (contour, site) pairs per chunk in :func:`_bounds`.
_PAIR_CHUNK = 1 << 16


def _bounds(
    pos: np.ndarray, site: np.ndarray, index: _ContourIndex, sectors: _Sectors, sites: "_Sites"
) -> tuple[np.ndarray, np.ndarray]:
    """Per (contour, site) pair: do the disc and sector bounds put the site in the contour's
    interior, do they put it outside? Both False when they cannot tell."""
    # x and y apart: gathers and arithmetic on contiguous arrays
    dx = sites.centre[:, 0][site] - index.centre[:, 0][pos]
    dy = sites.centre[:, 1][site] - index.centre[:, 1][pos]
    dist = np.hypot(dx, dy)
    reach = sites.radius[site] + _MARGIN_M
    within = dist + reach < index.inner[pos]
    out = dist - reach > index.outer[pos]
    band = np.flatnonzero(~within & ~out)
    if band.size:
        b_in, b_out = sectors.settle(pos[band], dx[band], dy[band], reach[band], dist[band])
        within[band[b_in]] = True
        out[band[b_out]] = True
    return within, out


def _vertex_inside(
    sectors: _Sectors, pos: np.ndarray, site: np.ndarray, sites: "_Sites", index: _ContourIndex
) -> np.ndarray:
    """Per (contour, extended site) pair: do the sector bounds put a vertex of the site in the
    contour's interior? Then the site meets the contour, also as tested: shrunk by a
    millimetre (:func:`_shrink_polygons`), its vertex lies within the margin."""
    distinct, inverse = np.unique(site, return_inverse=True)
    coords, owner = shapely.get_coordinates(sites.geoms[distinct], return_index=True)
    start = np.searchsorted(owner, np.arange(distinct.size))
    count = np.diff(np.append(start, owner.size))[inverse]  # per pair its site's vertices
    first = np.cumsum(count) - count
    pair = np.repeat(np.arange(site.size), count)
    vertex = np.repeat(start[inverse], count) + np.arange(pair.size) - first[pair]
    at = pos[pair]
    inside, _ = sectors.settle(
        at,
        coords[:, 0][vertex] - index.centre[:, 0][at],
        coords[:, 1][vertex] - index.centre[:, 1][at],
        np.full(pair.size, _MARGIN_M),
    )
    hit = np.zeros(site.size, dtype=bool)
    hit[pair[inside]] = True
    return hit


#: Element-wise GEOS work on at least this many pairs is split over two threads (GEOS releases
#: the GIL); less is not worth a thread.
_THREAD_MIN = 20_000


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _in_halves(
    func: Callable[[np.ndarray, np.ndarray], np.ndarray],
    first: np.ndarray,
    second: np.ndarray,
    owner: np.ndarray,
) -> np.ndarray:
    """``func(first, second)`` element-wise, its two halves in two threads when it is large.

    ``owner`` (ascending) says which prepared geometry of ``first`` each
    element uses; the halves are cut where it changes, so no prepared
    geometry is used by two threads at once (GEOS builds a prepared
    geometry's index on first use and keeps scratch state in it: not
    thread-safe). The result equals one call.
    """
    n = len(first)
    if n < _THREAD_MIN or _cores() < 2:
        return func(first, second)
    cut = int(np.searchsorted(owner, owner[n // 2]))
    if cut == 0:
        cut = int(np.searchsorted(owner, owner[n // 2], side="right"))
    if cut >= n:
        return func(first, second)
    with ThreadPoolExecutor(max_workers=1) as pool:
        later = pool.submit(func, first[cut:], second[cut:])
        return np.concatenate([func(first[:cut], second[:cut]), later.result()])


def _outranked(
    site_idx: np.ndarray,
    contour_idx: np.ndarray,
    within: np.ndarray,
    test: np.ndarray,
    index: _ContourIndex,
    n: int,
) -> np.ndarray:
    """For the candidate pairs ``test``: does the site lie within a higher contour of the same
    farm (bounds only)?

    Such a pair cannot change anything a site's pairs are used for: the
    highest value (and its bron) and the highest contour per farm stay those
    of the higher contour, and when the lower one is at or above the norm the
    higher one holds the site wholly in a knelpunt zone. So it needs no exact
    test and is left out. Compared by the rank of the value in the layer;
    without farm groups one ``maximum.at`` per site, with them the highest
    rank per (site, farm) key from one sort of integer keys.
    """
    rank = index.rank[contour_idx]
    groups = np.int64(len(index.farm_names))
    if groups == 1:
        top = np.full(n, -1, dtype=np.int64)
        np.maximum.at(top, site_idx[within], rank[within])
        return rank[test] < top[site_idx[test]]
    width = np.int64(len(index.distinct))
    key = site_idx.astype(np.int64) * groups + index.farm[contour_idx]
    coded = np.sort(key[within] * width + rank[within])
    w_key = coded // width
    last = np.append(w_key[1:] != w_key[:-1], True)  # the highest rank per key comes last
    w_key, w_rank = w_key[last], coded[last] % width
    at = np.minimum(np.searchsorted(w_key, key[test]), len(w_key) - 1)
    return (w_key[at] == key[test]) & (rank[test] < w_rank[at])


# ---------------------------------------------------------------------------
# polygon sites: the share in a knelpunt zone
# ---------------------------------------------------------------------------


@dataclass
class _Sites:
    """Site geometries with what the share computations need.

    ``extended``: a polygon (area > 0) or a MultiPoint of several points,
    judged on where the building can go; ``measure`` is its area, or its
    number of points for a MultiPoint (1 for a plain point). Each site lies
    within ``radius`` of ``centre`` (x, y: the centre of its envelope; 0 for
    a point) and within ``ref_radius`` of ``ref``, its first vertex; ``point``:
    a plain point (``ref`` is its coordinate).
    """

    geoms: np.ndarray
    extended: np.ndarray
    multi: np.ndarray
    measure: np.ndarray
    centre: np.ndarray
    radius: np.ndarray
    ref: np.ndarray
    ref_radius: np.ndarray
    point: np.ndarray

    def subset(self, idx: np.ndarray) -> "_Sites":
        return _Sites(
            self.geoms[idx],
            self.extended[idx],
            self.multi[idx],
            self.measure[idx],
            self.centre[idx],
            self.radius[idx],
            self.ref[idx],
            self.ref_radius[idx],
            self.point[idx],
        )


def _site_info(geoms: np.ndarray) -> _Sites:
    type_id = shapely.get_type_id(geoms)
    parts = shapely.get_num_geometries(geoms)
    multi = (type_id == shapely.GeometryType.MULTIPOINT) & (parts > 1)
    area = shapely.area(geoms)
    extended = multi | (area > 0)
    measure = np.where(multi, parts, np.where(area > 0, area, 1.0)).astype(float)
    box = shapely.bounds(geoms)
    centre = (box[:, :2] + box[:, 2:]) / 2
    ref, ref_radius = _reference_vertices(geoms, centre=centre)
    radius = ref_radius.pop()
    return _Sites(
        geoms=geoms,
        extended=extended,
        multi=multi,
        measure=measure,
        centre=centre,
        radius=radius,
        ref=ref,
        ref_radius=ref_radius[0],
        point=type_id == shapely.GeometryType.POINT,
    )


def _shrink_polygons(geoms: np.ndarray, sites: _Sites) -> np.ndarray:
    """The sites with every polygon's vertices moved :data:`_TOUCH_M` towards its centre.

    The centre is that of the bounding box (far cheaper than the centroid).
    For a polygon that is star-shaped around it (rectangular parcels, most
    building footprints) the result lies inside the original, so it no longer
    meets a contour the original only touches; for other shapes a vertex may
    move up to a millimetre outwards, at worst keeping a touch. Vectorised over all coordinates at
    once (``shapely.set_coordinates`` on copies); points and MultiPoints are unchanged.
    """
    polygon = sites.extended & ~sites.multi
    if not polygon.any():
        return geoms
    out = geoms.copy()
    coords, owner = shapely.get_coordinates(geoms[polygon], return_index=True)
    centre = sites.centre[polygon][owner]  # the centre of each polygon's envelope
    offset = coords - centre
    radius = np.hypot(offset[:, 0], offset[:, 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(radius > 2 * _TOUCH_M, 1.0 - _TOUCH_M / radius, 1.0)
    moved = centre + offset * factor[:, None]
    # set on copies (a fancy index copies the array; set_coordinates makes new geometries)
    out[polygon] = shapely.set_coordinates(geoms[polygon], moved)
    return out


def _measure(geoms: np.ndarray, multi: np.ndarray) -> np.ndarray:
    """Area, or the number of points for (parts of) MultiPoint sites."""
    return np.where(multi, shapely.get_num_geometries(geoms), shapely.area(geoms)).astype(float)


def _knelpunt_share(
    sites: _Sites,
    *,
    knelpunt: np.ndarray,
    contour_pairs: _ContourPairs | None,
    contour_index: _ContourIndex | None,
    norm: np.ndarray,
    farm_pairs: tuple[np.ndarray, np.ndarray, np.ndarray],
    parts: np.ndarray | None,
) -> np.ndarray:
    """Per site the share (0-1) that lies in a knelpunt zone.

    The zone is every contour at or above the site's norm and every disc of a
    farm's required distance the site violates. Point sites in a knelpunt
    count wholly (1). Extended sites wholly inside one zone polygon get 1
    without further geometry; for the others the parts inside each zone are
    joined per site (one ``union_all`` over a padded site × part array, no
    loop over sites) and measured. Discs are polygons with 64 segments (their
    area is 0.3 % below the circle's).
    """
    n = len(knelpunt)
    share = knelpunt.astype(float)
    todo = sites.extended & knelpunt
    if not todo.any():
        return share
    whole = np.zeros(n, dtype=bool)
    piece_site: list[np.ndarray] = []
    piece_geom: list[np.ndarray] = []
    f_site, f_part, f_req = farm_pairs
    if parts is not None and f_site.size:
        # a site within the disc's inscribed circle (64 segments: radius times cos(pi / 64)) of
        # a point farm lies wholly in it: no polygon needed, here or for its contours
        point = todo[f_site] & (shapely.get_type_id(parts[f_part]) == shapely.GeometryType.POINT)
        if point.any():
            xy = shapely.get_coordinates(parts[f_part[point]])
            far = np.hypot(*(sites.centre[f_site[point]] - xy).T) + sites.radius[f_site[point]]
            inside = far < f_req[point] * np.cos(np.pi / 64) - _MARGIN_M
            whole[f_site[point][inside]] = True
    if contour_pairs is not None and contour_index is not None and contour_pairs.site.size:
        cp, cgeoms = contour_pairs, contour_index.geoms
        zone = np.flatnonzero(todo[cp.site] & (contour_index.values[cp.contour] >= norm[cp.site]))
        if zone.size:
            # a contour that holds the site in its interior covers it wholly: known from the
            # bounds for most pairs, a prepared predicate for the rest
            inside = cp.within[zone].copy()
            whole[cp.site[zone[inside]]] = True
            # sites the bounds already show wholly in a zone need no test of their other pairs
            test = np.flatnonzero(~inside & ~whole[cp.site[zone]])
            if test.size:
                inside[test] = shapely.contains_properly(
                    cgeoms[cp.usable[zone[test]]], sites.geoms[cp.site[zone[test]]]
                )
            whole[cp.site[zone[inside]]] = True
            part = zone[~inside & ~whole[cp.site[zone]]]
            if part.size:
                cut = shapely.intersection(sites.geoms[cp.site[part]], cgeoms[cp.usable[part]])
                piece_site.append(cp.site[part])
                piece_geom.append(cut)
    f_site, f_part, f_req = farm_pairs
    if parts is not None and f_site.size:
        sel = todo[f_site]
        f_site, f_part, f_req = f_site[sel], f_part[sel], f_req[sel]
        rest = ~whole[f_site]  # the pieces of whole sites are not needed
        f_site, f_part, f_req = f_site[rest], f_part[rest], f_req[rest]
        disc = shapely.buffer(parts[f_part], f_req, quad_segs=16)
        cut = shapely.intersection(sites.geoms[f_site], disc)
        f_share = _measure(cut, sites.multi[f_site]) / sites.measure[f_site]
        whole[f_site[f_share >= 1.0 - SHARE_EPS]] = True
        piece_site.append(f_site)
        piece_geom.append(cut)
    share[todo & whole] = 1.0
    if not piece_site:
        return share
    p_site = np.concatenate(piece_site)
    p_geom = np.concatenate(piece_geom)
    keep = ~whole[p_site]
    p_site, p_geom = p_site[keep], p_geom[keep]
    if p_site.size:
        order = np.argsort(p_site, kind="stable")
        p_site, p_geom = p_site[order], p_geom[order]
        rows, start, count = np.unique(p_site, return_index=True, return_counts=True)
        col = np.arange(p_site.size) - np.repeat(start, count)
        padded = np.full((rows.size, int(count.max())), None, dtype=object)
        padded[np.repeat(np.arange(rows.size), count), col] = p_geom
        joined = shapely.union_all(padded, axis=1)
        measured = _measure(joined, sites.multi[rows]) / sites.measure[rows]
        # a violated distance always affects the site, however little of it the disc polygon covers
        share[rows] = np.clip(measured, SHARE_EPS, 1.0)
    return share


def _no_undecided(n: int) -> dict[str, np.ndarray]:
    return {
        "flag": np.zeros(n, dtype=bool),
        "lower": np.full(n, np.nan),
        "upper": np.full(n, np.nan),
        "farm": np.full(n, None, dtype=object),
    }


def _undecided(
    pairs: tuple[np.ndarray, np.ndarray], index: _ContourIndex, norm: np.ndarray, n: int
) -> dict[str, np.ndarray]:
    """Sites whose contours cannot decide against the norm.

    A site lies inside a contour ``lower`` below its norm, and the next higher
    contour ``upper`` of the same farm (column ``veehouderij`` when the layer
    has one; else the next higher value of the whole layer) is above the
    norm: the load is somewhere in ``[lower, upper)`` and may exceed the norm.
    Computed per (site, farm) pair with integer keys and ``searchsorted`` —
    no loop over sites or farms.

    Returns ``flag`` per site and, for flagged sites, ``lower``, ``upper`` and
    ``farm`` (None without a farm column) for the reason.
    """
    out = _no_undecided(n)
    contour_idx, site_idx = pairs
    if site_idx.size == 0 or not index.usable.any():
        return out
    codes, farm_names = index.farm, index.farm_names
    # the layer's values ascending, each row's rank among them, the (farm, rank) steps
    distinct, rank, steps = index.distinct, index.rank, index.steps
    width = np.int64(len(distinct))

    # per (site, farm): the highest contour the site lies in
    groups = np.int64(len(farm_names))
    if groups == 1:  # one group: the keys are the sites
        top = np.full(n, -1, dtype=np.int64)
        np.maximum.at(top, site_idx, rank[contour_idx])
        keys = np.flatnonzero(top >= 0).astype(np.int64)
        lower_rank = top[keys]
    else:
        pair_key = site_idx.astype(np.int64) * groups + codes[contour_idx]
        keys, inverse = np.unique(pair_key, return_inverse=True)
        lower_rank = np.full(len(keys), -1, dtype=np.int64)
        np.maximum.at(lower_rank, inverse.reshape(-1), rank[contour_idx])
    key_site, key_farm = keys // groups, keys % groups
    # the next higher step of the same farm
    pos = np.searchsorted(steps, key_farm * width + lower_rank, side="right")
    has_next = pos < len(steps)
    pos = np.where(has_next, pos, 0)
    has_next &= steps[pos] // width == key_farm
    lower = distinct[lower_rank]
    upper = np.where(has_next, distinct[steps[pos] % width], np.nan)
    site_norm = norm[key_site]
    with np.errstate(invalid="ignore"):
        hit = has_next & (lower < site_norm) & (upper > site_norm)
    if not hit.any():
        return out
    h_site, h_lower, h_upper, h_farm = key_site[hit], lower[hit], upper[hit], key_farm[hit]
    # one farm per site for the reason: the one with the highest lower contour
    order = np.lexsort((-h_lower, h_site))
    first = order[np.unique(h_site[order], return_index=True)[1]]
    sites = h_site[first]
    out["flag"][sites] = True
    out["lower"][sites] = h_lower[first]
    out["upper"][sites] = h_upper[first]
    out["farm"][sites] = farm_names[h_farm[first]]
    return out


# ---------------------------------------------------------------------------
# farms
# ---------------------------------------------------------------------------


def _farm_distances(
    site_tree: shapely.STRtree | None,
    sites: _Sites,
    farms: gpd.GeoDataFrame | None,
    farm_index: "_FarmIndex | None",
    arrays: dict[str, np.ndarray],
    n: int,
    *,
    kom_unknown: bool = False,
) -> dict[str, np.ndarray]:
    """Nearest farm, fixed-distance violations and the applicable distance per site.

    Farms are split into parts (a MultiPoint gives its emission points, a
    mixed collection its points and footprints) so each part carries its own
    kind of fixed distance. Candidate (site, part) pairs come from one bulk
    ``dwithin`` query with each part's largest possible required distance.
    """
    out = {
        "violating": np.zeros(n, dtype=bool),
        "nearest_name": np.full(n, None, dtype=object),
        "nearest_distance": np.full(n, np.nan),
        "required": np.full(n, np.nan),
        # the farm named in the reason (violating farm)
        "reason_name": np.full(n, None, dtype=object),
        "reason_distance": np.full(n, np.nan),
        "reason_kind": np.full(n, -1, dtype=np.int8),
        "reason_minimum": np.full(n, np.nan),
        # every violated (site, farm part) pair with its required distance, and the parts
        "pairs": (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0)),
        "parts": None,
    }
    if farms is None or len(farms) == 0 or n == 0:
        return out

    fi = farm_index
    if fi is None:
        return out
    parts, part_row, names = fi.parts, fi.part_row, fi.names
    part_own, part_is_point = fi.part_own, fi.part_is_point
    part_has_factor, part_no_factor = fi.part_has_factor, fi.part_no_factor
    out["parts"] = parts

    in_kom = arrays["in_kom"]
    point_req = np.where(in_kom, arrays["point_distance_kom_m"], arrays["point_distance_outside_m"])
    facade_req = np.where(
        in_kom, arrays["facade_distance_kom_m"], arrays["facade_distance_outside_m"]
    )
    if kom_unknown:  # the strictest (largest) of the distances inside and outside the kom
        point_req = np.fmax(arrays["point_distance_kom_m"], arrays["point_distance_outside_m"])
        facade_req = np.fmax(arrays["facade_distance_kom_m"], arrays["facade_distance_outside_m"])
    strict_req = np.fmax(point_req, facade_req)

    def required_for(
        site: np.ndarray, part: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Kind, required distance and legal minimum for (site, part) pairs."""
        has_factor, no_factor = part_has_factor[part], part_no_factor[part]
        minimum = np.where(
            has_factor, facade_req[site], np.where(no_factor, point_req[site], strict_req[site])
        )
        base = np.where(
            has_factor,
            np.where(part_is_point[part], _KIND_FACTOR_POINT, _KIND_FOOTPRINT),
            np.where(no_factor, _KIND_NO_FACTOR, _KIND_UNKNOWN),
        )
        own_value = part_own[part]
        with np.errstate(invalid="ignore"):
            raises = np.isfinite(own_value) & (own_value > minimum)
        return (
            np.where(raises, _KIND_OWN, base).astype(np.int8),
            np.where(raises, own_value, minimum),
            minimum,
        )

    # nearest farm (part) per site
    near_part, near_dist = _nearest_part(sites, fi)
    near_site = np.arange(n)
    out["nearest_name"][near_site] = names[part_row[near_part]]
    out["nearest_distance"][near_site] = near_dist
    _, near_req, _ = required_for(near_site, near_part)
    out["required"][near_site] = near_req

    # fixed distances: candidates within each part's largest possible requirement
    max_point = _nanmax(point_req)
    max_facade = _nanmax(facade_req)
    radius = np.where(
        part_has_factor,
        max_facade,
        np.where(part_no_factor, max_point, np.fmax(max_point, max_facade)),
    )
    radius = np.fmax(radius, part_own)
    radius = np.where(np.isfinite(radius), np.maximum(radius, 0.0), 0.0)
    query = radius > 0
    if not query.any():
        return out
    part_ids = np.flatnonzero(query)
    # the tree holds polygon sites shrunk by _TOUCH_M: widen the search by that, exact distances
    # follow
    q_part, q_site = site_tree.query(
        parts[query], predicate="dwithin", distance=radius[query] + 2 * _TOUCH_M
    )
    q_part = part_ids[q_part]
    dist = _pair_distance(sites, q_site, fi, q_part)
    kind, req, minimum = required_for(q_site, q_part)
    with np.errstate(invalid="ignore"):
        hit = dist < req
    if not hit.any():
        return out
    v_site, v_part, v_dist, v_req, v_kind = q_site[hit], q_part[hit], dist[hit], req[hit], kind[hit]
    v_min = minimum[hit]
    out["pairs"] = (v_site, v_part, v_req)
    # per site: the nearest violating part; ties → the larger requirement
    order = np.lexsort((-v_req, v_dist, v_site))
    first = order[np.unique(v_site[order], return_index=True)[1]]
    sites_hit = v_site[first]
    out["violating"][sites_hit] = True
    out["required"][sites_hit] = v_req[first]
    out["reason_name"][sites_hit] = names[part_row[v_part[first]]]
    out["reason_distance"][sites_hit] = v_dist[first]
    out["reason_kind"][sites_hit] = v_kind[first]
    out["reason_minimum"][sites_hit] = v_min[first]
    return out


@dataclass
class _FarmIndex:
    """What the fixed-distance tests derive from the farm layer alone, built once per run.

    The farms split into single parts (``part_row``: the farm of each part),
    per part the farm's own distance, whether it is a point and whether its
    animals have an odour-emission factor (1.0) or not (0.0); the parts'
    reference vertices and a k-d tree over them for the nearest farm, and an
    STRtree over the parts for the sites the k-d tree cannot settle.
    """

    parts: np.ndarray
    part_row: np.ndarray
    names: np.ndarray
    part_own: np.ndarray
    part_is_point: np.ndarray
    part_has_factor: np.ndarray
    part_no_factor: np.ndarray
    part_ref: np.ndarray
    part_r: np.ndarray
    kdtree: cKDTree
    tree: shapely.STRtree


def _farm_index(farms: gpd.GeoDataFrame) -> _FarmIndex | None:
    """Build the :class:`_FarmIndex` of a farm layer; None when it has no non-empty part."""
    fgeoms = np.asarray(farms.geometry.to_numpy(), dtype=object)
    parts, part_row = _single_parts(fgeoms)
    keep = ~shapely.is_empty(parts)
    parts, part_row = parts[keep], part_row[keep]
    if parts.size == 0:
        return None
    names = pd.Series(farms["naam"].to_numpy(dtype=object), dtype="object")
    names = names.where(names.notna(), None).to_numpy(dtype=object)
    own = pd.to_numeric(farms["vaste_afstand_m"], errors="coerce").to_numpy(dtype="float64")
    factor = (
        pd.to_numeric(farms["geuremissiefactor"], errors="coerce").to_numpy(dtype="float64")
        if "geuremissiefactor" in farms.columns
        else np.full(len(farms), np.nan)
    )
    part_factor = factor[part_row]
    part_ref, (part_r,) = _reference_vertices(parts)
    return _FarmIndex(
        parts=parts,
        part_row=part_row,
        names=names,
        part_own=own[part_row],
        part_is_point=shapely.get_type_id(parts) == shapely.GeometryType.POINT,
        part_has_factor=part_factor == 1.0,
        part_no_factor=part_factor == 0.0,
        part_ref=part_ref,
        part_r=part_r,
        kdtree=cKDTree(part_ref),
        tree=shapely.STRtree(parts),
    )


def _single_parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points, lines and polygons of each geometry, with the row they came from.

    ``shapely.get_parts`` opens one level; a GeometryCollection holding a
    MultiPoint needs another, so this repeats per nesting level (not per row).
    """
    parts, row = shapely.get_parts(geoms, return_index=True)
    while True:
        multi = shapely.get_type_id(parts) >= shapely.GeometryType.MULTIPOINT
        if not multi.any():
            return parts, row
        sub, sub_idx = shapely.get_parts(parts[multi], return_index=True)
        parts = np.concatenate([parts[~multi], sub])
        row = np.concatenate([row[~multi], row[multi][sub_idx]])


def _pair_distance(sites: _Sites, site: np.ndarray, fi: _FarmIndex, part: np.ndarray) -> np.ndarray:
    """``shapely.distance`` between the sites ``site`` and the farm parts ``part`` (pairwise).

    Point to point in numpy as ``sqrt(dx * dx + dy * dy)``, the formula GEOS
    uses (bit for bit the same; ``np.hypot`` is not), the other pairs in GEOS.
    """
    both = sites.point[site] & fi.part_is_point[part]
    if not both.any():
        return shapely.distance(sites.geoms[site], fi.parts[part])
    out = np.empty(len(site))
    delta = sites.ref[site[both]] - fi.part_ref[part[both]]
    out[both] = np.sqrt(delta[:, 0] * delta[:, 0] + delta[:, 1] * delta[:, 1])
    other = ~both
    if other.any():
        out[other] = shapely.distance(sites.geoms[site[other]], fi.parts[part[other]])
    return out


def _nearest_part(sites: _Sites, fi: _FarmIndex, *, k: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Index of and exact distance (m) to the nearest farm part, for every site.

    ``STRtree.query_nearest`` costs a few microseconds per site, so a million
    sites are first screened with a k-d tree on one vertex per geometry. With
    ``ref`` a vertex of a geometry and ``r`` the largest distance from ``ref`` to
    its other vertices (the farthest point of a polygon from any point is a
    vertex), the exact distance between a site and a part lies in
    ``[d_ref - r_site - r_part, d_ref]``. Exact distances are computed for the
    ``k`` nearest parts whose lower bound can beat the best upper bound; a site
    is settled when even its ``k``-th nearest reference cannot beat the best
    exact distance found. The few unsettled sites (large polygons, dense
    clusters) go to ``query_nearest``.
    """
    geoms, parts = sites.geoms, fi.parts
    n, m = len(geoms), len(parts)
    site_ref, site_r, part_r = sites.ref, sites.ref_radius, fi.part_r
    k = min(k, m)
    ref_dist, cand = fi.kdtree.query(site_ref, k=k)
    ref_dist, cand = ref_dist.reshape(n, k), cand.reshape(n, k)
    upper = ref_dist.min(axis=1)  # both refs lie on their geometries
    lower = ref_dist - part_r[cand] - site_r[:, None]
    row, col = np.nonzero(lower <= upper[:, None])
    exact = _pair_distance(sites, row, fi, cand[row, col])
    best = np.full(n, np.inf)
    np.minimum.at(best, row, exact)
    winner = exact == best[row]
    nearest = np.full(n, -1, dtype=np.int64)
    nearest[row[winner]] = cand[row[winner], col[winner]]
    if k < m:
        unsettled = np.flatnonzero(ref_dist[:, -1] - part_r.max() - site_r < best)
        if unsettled.size:
            (_, found), dist = fi.tree.query_nearest(
                geoms[unsettled], return_distance=True, all_matches=False
            )
            nearest[unsettled], best[unsettled] = found, dist
    return nearest, best


def _reference_vertices(
    geoms: np.ndarray, *, centre: np.ndarray | None = None
) -> tuple[np.ndarray, list[np.ndarray]]:
    """First vertex of each (non-empty) geometry (x, y) and ``[r]``: the largest distance from it
    to any other vertex; with ``centre`` (x, y per geometry) ``[r, r_centre]``, the second the
    largest distance from the centre to a vertex. One pass over the coordinates."""
    n = len(geoms)
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    first = np.searchsorted(owner, np.arange(n))  # owner ascends: each geometry's first vertex
    ref = coords[np.minimum(first, max(len(coords) - 1, 0))] if n else np.empty((0, 2))
    x, y = coords[:, 0], coords[:, 1]
    # every geometry has a vertex (the usual case): one max per run of its vertices
    every = bool(n) and bool((np.diff(np.append(first, len(coords))) > 0).all())

    def farthest(cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
        dist = np.hypot(x - cx[owner], y - cy[owner])
        if every:
            return np.maximum.reduceat(dist, first)
        out = np.zeros(n)
        if n:
            np.maximum.at(out, owner, dist)
        return out

    radii = [farthest(ref[:, 0], ref[:, 1])]
    if centre is not None:
        radii.append(farthest(centre[:, 0], centre[:, 1]))
    return ref, radii


def _nanmax(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else np.nan


# ---------------------------------------------------------------------------
# reasons
# ---------------------------------------------------------------------------


def _reasons(
    *,
    knelpunt_contour: np.ndarray,
    knelpunt_afstand: np.ndarray,
    oue: np.ndarray,
    norm: np.ndarray,
    top_bron: np.ndarray,
    in_kom: np.ndarray,
    concentration_area: np.ndarray,
    kom_source: str,
    plan: "_Plans",
    norm_from_plan: np.ndarray,
    farm_result: dict[str, np.ndarray],
    onzeker: np.ndarray,
    undecided: dict[str, np.ndarray],
) -> np.ndarray:
    """Dutch reason per site, built column-wise for the knelpunt and onzeker subsets only.

    Numbers are formatted once per distinct value (contour values, norms and
    distances repeat a lot), then spread to the sites.
    """
    n = len(oue)
    reason = np.full(n, "", dtype=object)
    suffix = "" if kom_source == KOM_SOURCE_KOM else f" ({kom_source})"
    kom_text = np.array(
        ["buiten de bebouwde kom" + suffix, "binnen de bebouwde kom" + suffix], dtype=object
    )
    if kom_source == KOM_SOURCE_UNKNOWN:
        kom_text = np.array([_KOM_UNKNOWN_TEXT, _KOM_UNKNOWN_TEXT], dtype=object)

    conc_text = np.array([" buiten concentratiegebied", " in concentratiegebied"], dtype=object)

    # the norm cell per site as a code into a table of 4 texts: kom * 2 + concentratiegebied
    cell_table = np.array([k + c for k in kom_text for c in conc_text], dtype=object)
    cell_code = in_kom.astype(np.int64) * 2 + concentration_area.astype(np.int64)
    n_plans = len(plan.names)
    cite_table = np.concatenate(
        [
            _cite(_CITE_NORM, _Plans(np.arange(n_plans), plan.names)),
            _cite(_CITE_NORM_PLAN, _Plans(np.arange(n_plans), plan.names)),
        ]
    )
    cite_code = norm_from_plan.astype(np.int64) * n_plans + plan.codes

    idx = np.flatnonzero(knelpunt_contour)
    if idx.size:
        bron_codes, bron_names = pd.factorize(top_bron[idx])
        bron_table = np.array(
            [f" (bron: {b})" if b != "" else "" for b in bron_names], dtype=object
        )
        reason[idx] = _render_combos(
            _TEMPLATE_CONTOUR,
            {
                "oue": _codes_by_value(oue[idx], _format_oue),
                "bron": (bron_codes, bron_table),
                "cell": (cell_code[idx], cell_table),
                "norm": _codes_by_value(norm[idx], _format_oue),
                "cite": (cite_code[idx], cite_table),
            },
        )

    idx = np.flatnonzero(onzeker)
    if idx.size:
        farm = undecided["farm"][idx]
        farm_codes, farm_names = pd.factorize(farm, use_na_sentinel=True)
        farm_table = np.array(
            [*(f" van veehouderij '{f}'" for f in np.asarray(farm_names).astype(str)), ""],
            dtype=object,
        )
        reason[idx] = _render_combos(
            _TEMPLATE_UNDECIDED,
            {
                "lower": _codes_by_value(undecided["lower"][idx], _format_oue),
                "farm": (np.where(farm_codes < 0, len(farm_table) - 1, farm_codes), farm_table),
                "upper": _codes_by_value(undecided["upper"][idx], _format_oue),
                "cell": (cell_code[idx], cell_table),
                "norm": _codes_by_value(norm[idx], _format_oue),
                "cite": (cite_code[idx], cite_table),
            },
        )

    kinds = farm_result["reason_kind"]
    verb = np.where(knelpunt_contour, "; ligt", "Ligt").astype(object)
    for kind, template in (
        (_KIND_NO_FACTOR, _TEMPLATE_NO_FACTOR),
        (_KIND_FOOTPRINT, _TEMPLATE_FOOTPRINT),
        (_KIND_FACTOR_POINT, _TEMPLATE_FACTOR_POINT),
        (_KIND_UNKNOWN, _TEMPLATE_UNKNOWN),
        (_KIND_OWN, _TEMPLATE_OWN),
    ):
        idx = np.flatnonzero(knelpunt_afstand & (kinds == kind))
        if not idx.size:
            continue
        required = farm_result["required"][idx]
        clause = render_array(
            template,
            {
                "afstand": _format_distance_below(farm_result["reason_distance"][idx], required),
                "naam": farm_result["reason_name"][idx],
                "kom": kom_text[in_kom[idx].astype(int)],
                "vereist": _format_metres(required),
                "minimum": _format_metres(farm_result["reason_minimum"][idx]),
                "cite": _cite(_CITE_DISTANCE, plan[idx]),
            },
            idx.size,
        )
        reason[idx] = reason[idx] + verb[idx] + clause
    return reason


@dataclass
class _Plans:
    """Per site the gemeente whose omgevingsplan a reason cites, as codes into ``names``."""

    codes: np.ndarray
    names: np.ndarray

    def __getitem__(self, idx: np.ndarray) -> "_Plans":
        return _Plans(self.codes[idx], self.names)


def _cite(template: str, plan: _Plans) -> np.ndarray:
    """The citation per site: ``template`` with the gemeente's omgevingsplan filled in."""
    texts = np.array([template.format(plan=name) for name in plan.names], dtype=object)
    return texts[plan.codes]


def _plan_names(gemeente: np.ndarray | None, n: int) -> _Plans:
    """'gemeente Venlo' per site, or 'van de gemeente' when the gemeente is not known."""
    if gemeente is None:
        return _Plans(np.zeros(n, dtype=np.intp), np.array([_PLAN_UNKNOWN], dtype=object))
    names = pd.Series(np.asarray(gemeente, dtype=object), dtype="object")
    codes, uniques = pd.factorize(names, use_na_sentinel=True)
    labels = [f"gemeente {str(u).strip()}" if str(u).strip() else _PLAN_UNKNOWN for u in uniques]
    # missing gemeenten (code -1) take the last label
    return _Plans(
        np.where(codes < 0, len(labels), codes), np.array([*labels, _PLAN_UNKNOWN], dtype=object)
    )


def _codes_by_value(
    values: np.ndarray, format_values: Callable[[np.ndarray], np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Per value the code of its text, and the texts: each distinct value formatted once."""
    inverse, unique = _distinct(values)
    return inverse, np.asarray(format_values(unique), dtype=object)


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per value the code of its distinct value, and the distinct values (in order of first
    appearance; grouped by hashing, not sorting; NaN is one value of its own)."""
    codes, unique = pd.factorize(np.asarray(values).reshape(-1), use_na_sentinel=False)
    return codes, np.asarray(unique)


def _render_combos(template: str, fields: dict[str, tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """:func:`render_array` for fields given as (code per site, table of texts): the template is
    filled once per distinct combination of codes (a few hundred for a million sites), then
    spread to the sites."""
    key: np.ndarray | None = None
    size = 1
    for codes, table in fields.values():
        if key is None:
            key, size = codes.astype(np.int64), len(table)
            continue
        if size * len(table) >= 2**62:  # renumber the combinations so far to keep the key small
            _, key = np.unique(key, return_inverse=True)
            key, size = key.reshape(-1).astype(np.int64), int(key.max()) + 1
        key, size = key * len(table) + codes, size * len(table)
    if key is None or key.size == 0:
        return np.empty(0 if key is None else key.size, dtype=object)
    inverse, distinct = _distinct(key)
    first = np.empty(len(distinct), dtype=np.int64)
    first[inverse] = np.arange(key.size)  # a site of each combination (any: they are equal)
    texts = render_array(
        template, {name: table[codes[first]] for name, (codes, table) in fields.items()}, len(first)
    )
    return texts[inverse]


def _format_metres(values: np.ndarray) -> np.ndarray:
    return _by_value(values, lambda u: format_number(u).to_numpy(dtype=object))


def _by_value(values: np.ndarray, format_unique: Callable[[np.ndarray], object]) -> np.ndarray:
    """Format each distinct value once and spread the texts back (object array)."""
    if len(values) == 0:  # format_number cannot format an empty array
        return np.empty(0, dtype=object)
    inverse, unique = _distinct(values)
    texts = np.asarray(format_unique(unique), dtype=object)
    return texts[inverse]


def _format_oue(values: np.ndarray) -> np.ndarray:
    """Odour values with one decimal ("14,0"), or two when one is not exact ("2,25")."""

    def fmt(unique: np.ndarray) -> np.ndarray:
        one = format_number(unique, ".1f").to_numpy(dtype=object)
        two = format_number(unique, ".2f").to_numpy(dtype=object)
        with np.errstate(invalid="ignore"):
            exact = np.isclose(unique * 10, np.round(unique * 10))
        return np.where(exact | ~np.isfinite(unique), one, two)

    return _by_value(np.asarray(values, dtype="float64"), fmt)


def _format_distance_below(distance: np.ndarray, required: np.ndarray) -> np.ndarray:
    """Distances in whole metres, but never shown as equal to the required distance.

    49.6 m against 50 m would round to "50"; such values get one decimal,
    truncated ("49,6"), so the text always shows a distance below the norm.
    """
    rounded = np.floor(distance + 0.5)
    with np.errstate(invalid="ignore"):
        use_whole = rounded < required
    text = np.empty(len(distance), dtype=object)
    text[use_whole] = _by_value(
        rounded[use_whole], lambda u: format_number(u, ".0f").to_numpy(dtype=object)
    )
    tenth = np.floor(distance[~use_whole] * 10) / 10
    text[~use_whole] = _by_value(tenth, lambda u: format_number(u, ".1f").to_numpy(dtype=object))
    return text
