"""The named steps of a scoring run and the state they share.

Each step (gemeente, BBG, recreation parks, constraints, housing norms,
odour, travel, facilities, concentration, verdicts) reads the validated
:class:`Inputs` and adds its result fields to the :class:`RunState`;
``analysis.pipeline`` decides which steps run and in what order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
import logging
import time
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from locatietoets.analysis.errors import CancelledError
from locatietoets.analysis.housing import housing_norms
from locatietoets.analysis.overlay import (
    SHARE_EPS,
    best_polygon,
    classify_bbg,
    inside_share,
)
from locatietoets.analysis.ruleset import STAY_TYPES, RuleSet
from locatietoets.analysis.texts import format_number, nl_number
from locatietoets.analysis.verdict import RuleContext, judge
from locatietoets.analysis.vocabulary import VERDICTS

__all__ = [
    "Inputs",
    "RunState",
    "StepProgress",
    "ProgressFn",
    "DEFAULT_HOUSING_FORM",
    "ALWAYS_WOONFUNCTIE",
    "MODE_TEXT",
    "logies_warning",
    "outside_gemeenten_warning",
    "constraint_untested_reason",
    "unused_constraint_warning",
    "start_run",
    "locate_gemeente",
    "site_parameters",
    "position_vs_bbg",
    "recreation_parks",
    "constraints",
    "yard",
    "housing_norms_and_capacity",
    "temporary_building",
    "housing_forms",
    "odour_norm",
    "odour",
    "travel",
    "facilities",
    "concentration",
    "apply_verdicts",
]

log = logging.getLogger(__name__)

#: Housing form assumed per stay type when the site does not say.
DEFAULT_HOUSING_FORM = {
    "short_stay": "logies",
    "mid_stay": "woonfunctie",
    "long_stay": "woonfunctie",
}
#: How a travel mode reads in a Dutch sentence.
MODE_TEXT = {"auto": "met de auto", "fiets": "per fiets", "lopen": "te voet"}
#: A polygon site counts as inside the bebouwde kom (for the odour norm) when at least half of it
#: lies inside
#: (kept apart from bbg_binnen_aandeel, the share that counts as wholly inside BBG).
_KOM_SHARE = 0.5
_KOM_FROM_LAYER = "bebouwde kom"
_KOM_FROM_BBG = "bestaand bebouwd gebied als benadering van de bebouwde kom"


ProgressFn = Callable[[str, str, float], None]


@dataclass
class Inputs:
    """Validated inputs, all in EPSG:28992.

    Attributes
    ----------
    sites
        One row per site with ``locatie_id``, ``verblijfstype``,
        ``huisvestingsvorm`` (None when not given), ``personen``,
        ``slaapkamers``, ``woonoppervlak_m2``, ``eigen_werkgever`` and a
        geometry (None for sites without geometry), with a RangeIndex.
    bbg, kom
        Polygons of the bestaand bebouwd gebied and the bebouwde kom.
    contours
        Odour contours with float ``waarde`` (OUe/m³).
    farms
        Livestock farms with ``naam``, ``vaste_afstand_m`` and optionally
        ``geuremissiefactor`` (1/0/NaN).
    parks
        Recreation parks with ``naam``.
    employers
        Employers with unique ``naam``.
    gemeenten
        Gemeenten with ``naam``, ``code`` and optionally ``regio``.
    network
        A prepared road network (``analysis.network.RoadNetwork``) or None.
    constraints
        Declared constraint layers (``[lagen.beperkingen.<naam>]``) by name, each with ``naam``
        and optionally ``waarde``.
    facilities
        Per facility kind (``ov_halte``, ``supermarkt``, ...) its points or polygons with
        ``naam``, in the order of the config; empty when none is given.
    kernen
        Kernen (polygons, or points: a site belongs to the nearest) with ``naam`` and float
        ``inwoners``.
    existing_housing
        Existing labour-migrant housing (points or polygons) with float ``personen``.
    """

    sites: gpd.GeoDataFrame
    bbg: gpd.GeoDataFrame | None = None
    kom: gpd.GeoDataFrame | None = None
    contours: gpd.GeoDataFrame | None = None
    farms: gpd.GeoDataFrame | None = None
    parks: gpd.GeoDataFrame | None = None
    employers: gpd.GeoDataFrame | None = None
    gemeenten: gpd.GeoDataFrame | None = None
    network: Any = None
    constraints: Mapping[str, gpd.GeoDataFrame] = field(default_factory=dict)
    facilities: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    kernen: gpd.GeoDataFrame | None = None
    existing_housing: gpd.GeoDataFrame | None = None

    @classmethod
    def from_frames(
        cls, sites: gpd.GeoDataFrame, frames: Mapping[str, gpd.GeoDataFrame], network: Any = None
    ) -> Inputs:
        """The inputs from reference layers keyed by config name (``layers.io.read``)."""

        def group(prefix: str) -> dict[str, gpd.GeoDataFrame]:
            return {k.removeprefix(prefix): v for k, v in frames.items() if k.startswith(prefix)}

        return cls(
            sites=sites,
            bbg=frames.get("bebouwd_gebied"),
            kom=frames.get("bebouwde_kom"),
            contours=frames.get("geurcontouren"),
            farms=frames.get("veehouderijen"),
            parks=frames.get("recreatieparken"),
            employers=frames.get("werkgevers"),
            gemeenten=frames.get("gemeenten"),
            network=network,
            constraints=group("beperkingen."),
            facilities=group("voorzieningen."),
            kernen=frames.get("kernen"),
            existing_housing=frames.get("bestaande_huisvesting"),
        )


class StepProgress:
    """Progress and timing bookkeeping for the steps of one run."""

    def __init__(
        self,
        plan: list[tuple[str, str, float]],
        progress: ProgressFn | None,
        is_cancelled: Callable[[], bool] | None,
    ):
        self.plan = plan
        total = sum(w for _, _, w in plan) or 1.0
        self.start: dict[str, float] = {}
        acc = 0.0
        for sid, _, w in plan:
            self.start[sid] = acc / total
            acc += w
        self.weight = {sid: w / total for sid, _, w in plan}
        self.title = {sid: t for sid, t, _ in plan}
        self.progress = progress
        self.is_cancelled = is_cancelled
        self.record: dict[str, dict[str, Any]] = {}
        self._t0 = 0.0
        self._current = ""

    def begin(self, sid: str) -> None:
        if self.is_cancelled is not None and self.is_cancelled():
            raise CancelledError(
                "De toets is afgebroken door de gebruiker; er is niets weggeschreven."
            )
        self._current = sid
        self._t0 = time.perf_counter()
        self.report(0.0)

    def report(self, fraction: float, message: str = "") -> None:
        if self.progress is not None:
            sid = self._current
            self.progress(
                sid,
                message or self.title[sid],
                self.start[sid] + self.weight[sid] * min(max(fraction, 0.0), 1.0),
            )

    def end(self, **counts: Any) -> None:
        self.report(1.0)
        self.record[self._current] = {
            "titel": self.title[self._current],
            "seconden": round(time.perf_counter() - self._t0, 3),
            **counts,
        }


#: Stay types that are always a woonfunctie: their residents register in the BRP (a stay of more
#: than 4 months in 6), whatever the input says; only short-stay can be logies.
ALWAYS_WOONFUNCTIE = ("mid_stay", "long_stay")


def _housing_form(sites: pd.DataFrame) -> dict[str, np.ndarray]:
    """The housing form each stay type is judged as: the input for short-stay, woonfunctie for mid-
    and long-stay.
    """
    given = sites["huisvestingsvorm"].to_numpy(dtype=object)
    has = pd.notna(given)
    return {
        s: np.full(len(given), "woonfunctie", dtype=object)
        if s in ALWAYS_WOONFUNCTIE
        else np.where(has, given, DEFAULT_HOUSING_FORM[s]).astype(object)
        for s in STAY_TYPES
    }


def logies_warning(site_ids: list[str], *, shown: int = 10) -> str:
    """The warning for mid- and long-stay sites whose input says logies (judged as woonfunctie)."""
    names = ", ".join(f"'{i}'" for i in site_ids[:shown])
    more = f" en {nl_number(len(site_ids) - shown)} andere" if len(site_ids) > shown else ""
    return (
        f"{nl_number(len(site_ids))} mid- of long-stay locaties hebben huisvestingsvorm 'logies' "
        f"({names}{more}); mid- en "
        "long-stay zijn altijd een woonfunctie (bewoners schrijven zich in de BRP in bij een "
        "verblijf van meer dan "
        "4 maanden per half jaar), alleen short-stay kan logies zijn: deze locaties zijn als "
        "woonfunctie beoordeeld"
    )


def outside_gemeenten_warning(count: int) -> str:
    """The run warning for ``count`` sites outside all gemeenten."""
    return (
        f"{nl_number(count)} locaties liggen buiten alle gemeenten van [lagen.gemeenten]; daar"
        " gelden de "
        "provinciale waarden"
    )


@dataclass
class RunState:
    """What the steps of one run share and build.

    Attributes
    ----------
    sites
        The input sites (``Inputs.sites``).
    fields
        The result fields built so far, one row per site (RangeIndex of
        ``sites``); the verdict step reads them and the result table is cut
        from them.
    has_geom, geo, geo_idx
        Which sites have a geometry, their geometries, and their positions:
        the analyses run on ``geo`` only (see :meth:`put`).
    steps
        Progress and timing bookkeeping.
    skipped
        Analyses that did not run, with the Dutch reason.
    warnings
        Run warnings (Dutch).
    params
        Every numeric rule-set parameter resolved per site (per-gemeente
        values applied), from :func:`site_parameters`.
    housing_form
        The housing form each stay type is judged as, per site.
    own
        Each site's own stay type (``verblijfstype``).
    """

    sites: gpd.GeoDataFrame
    fields: pd.DataFrame
    has_geom: np.ndarray
    geo: gpd.GeoSeries
    geo_idx: np.ndarray
    steps: StepProgress
    skipped: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    params: dict[str, np.ndarray] = field(default_factory=dict)
    housing_form: dict[str, np.ndarray] = field(default_factory=dict)
    own: np.ndarray | None = None
    constraint_fields: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        """Number of sites."""
        return len(self.sites)

    def put(self, frame: pd.DataFrame) -> None:
        """Add the columns of ``frame`` (one row per site with geometry) as result fields of all
        sites.

        Sites without geometry get False (booleans), <NA> (integers), NaN
        (floats) or None; columns starting with ``_`` are internal and left out.
        """
        n, geo_idx = self.n, self.geo_idx
        columns: dict[str, object] = {}
        for col in frame.columns:
            if col.startswith("_"):
                continue
            series = frame[col]
            if isinstance(series.dtype, pd.StringDtype) and series.notna().any():
                # Arrow text stays Arrow (not through Python strings and back)
                text = series.array.__arrow_array__()
                columns[col] = _spread_arrow(text, geo_idx, n, self.fields.index).array
                continue
            values = series.to_numpy()
            if values.dtype.kind == "b":
                full = np.zeros(n, dtype=bool)
            elif values.dtype.kind in "iu":
                data = np.zeros(n, dtype="int64")
                data[geo_idx] = values
                missing = np.ones(n, dtype=bool)
                missing[geo_idx] = False
                columns[col] = pd.arrays.IntegerArray(data, missing)
                continue
            elif values.dtype.kind == "f":
                full = np.full(n, np.nan)
            else:
                full = np.full(n, None, dtype=object)
            full[geo_idx] = values
            columns[col] = full
        add_columns(self.fields, columns)


def add_columns(frame: pd.DataFrame, columns: Mapping[str, object]) -> None:
    """Set ``frame[name] = values`` for every item of ``columns``, in place.

    The same as one assignment per column, in a fraction of the time: pandas checks a new name
    against every column on each assignment (~0.5 ms per column of a frame of ~60 columns); a
    new column is inserted at the end without that check (the names are checked once here).
    """
    present = set(frame.columns)
    for name, values in columns.items():
        if name in present:
            frame[name] = values
        else:
            frame.insert(frame.shape[1], name, values, allow_duplicates=True)
            present.add(name)


#: pandas' default text dtype (Arrow-backed, NaN for missing), as the columns of a DataFrame built
#: from str arrays get.
_TEXT_DTYPE = pd.StringDtype(na_value=np.nan)


def _spread_arrow(
    text: pa.Array | pa.ChunkedArray, geo_idx: np.ndarray, n: int, index: pd.Index
) -> pd.Series:
    """Arrow text of the sites with geometry (one per site in ``geo_idx``) as an Arrow-backed
    text column of all ``n`` sites (missing for the sites without geometry), without going
    through Python strings."""
    if isinstance(text, pa.ChunkedArray):
        text = text.chunk(0) if text.num_chunks == 1 else text.combine_chunks()
    if len(geo_idx) != n:
        at = np.zeros(n, dtype=np.int64)
        at[geo_idx] = np.arange(len(geo_idx))
        outside = np.ones(n, dtype=bool)
        outside[geo_idx] = False
        text = text.take(pa.array(at, mask=outside))
    return pd.Series(text, dtype=_TEXT_DTYPE, index=index)


def _text_field(values: np.ndarray, geo_idx: np.ndarray, n: int, index: pd.Index) -> pd.Series:
    """A text field of the sites with geometry (object array of str or None, one per site in
    ``geo_idx``) for all ``n`` sites, as an Arrow-backed text column (missing elsewhere); values
    that are not all str stay an object column."""
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        full = np.full(n, None, dtype=object)
        full[geo_idx] = values
        return pd.Series(full, dtype=object, index=index)
    return _spread_arrow(
        pa.array(values, type=pa.large_string(), from_pandas=True), geo_idx, n, index
    )


def _arrow_text(values: pd.Series) -> pa.Array | None:
    """The Arrow array of a text column with at least one value (large_string), else None."""
    if not isinstance(values.dtype, pd.StringDtype) or not values.notna().any():
        return None
    text = values.array.__arrow_array__()
    if isinstance(text, pa.ChunkedArray):
        text = text.chunk(0) if text.num_chunks == 1 else text.combine_chunks()
    return text.cast(pa.large_string())


def _site_text(values: pd.Series) -> object:
    """A text column of the sites as a result field: its Arrow array as pandas' str column (what
    assigning its values as str objects gives, without them), other columns as values."""
    text = _arrow_text(values)
    if text is None:
        return values.to_numpy()
    return pd.Series(text, dtype=_TEXT_DTYPE, index=values.index).array


def start_run(sites: gpd.GeoDataFrame, steps: StepProgress) -> RunState:
    """The run state with the fields every run has: ``locatie_id``, ``verblijfstype``,
    ``geometrie_status``.
    """
    has_geom = ~(sites.geometry.isna() | sites.geometry.is_empty).to_numpy()
    f = pd.DataFrame(index=sites.index)
    f["locatie_id"] = _site_text(sites["locatie_id"])
    f["verblijfstype"] = _site_text(sites["verblijfstype"])
    status = sites.get("geometrie_status", pd.Series("ok", index=sites.index))
    if _arrow_text(status) is not None:
        # in Arrow: the status where the site has a geometry
        text = pc.if_else(
            pa.array(has_geom), _arrow_text(status), pa.scalar("geen geometrie", pa.large_string())
        )
        f["geometrie_status"] = pd.Series(text, dtype=_TEXT_DTYPE, index=sites.index).array
    else:
        f["geometrie_status"] = np.where(has_geom, status, "geen geometrie")
    return RunState(
        sites=sites,
        fields=f,
        has_geom=has_geom,
        geo=sites.geometry[has_geom],
        geo_idx=np.flatnonzero(has_geom),
        steps=steps,
    )


#: How pandas stores a column of strings (an object array of strings and None assigned to a frame).
_TEXT = pd.StringDtype(na_value=np.nan)


def _as_text(values: pd.Series) -> pd.Series:
    """``values`` as a str column when each is a string or missing (None, NaN), else unchanged."""
    if values.dtype == object and all(
        isinstance(v, str) or v is None or (isinstance(v, float) and np.isnan(v)) for v in values
    ):
        return values.astype(_TEXT)
    return values


def _take_text(values: pd.Series, idx: np.ndarray) -> Any:
    """The result field ``values[idx]`` (missing where ``idx`` is -1): what pandas makes of that
    object array — a str column when it holds a string, else the object array itself.

    For text values the column is taken in Arrow from the few distinct ``values`` (a layer's
    names, the four BBG positions): pandas converts an object array by looking at every site's
    string (~4 ms per 50,000 sites and field), a take does not (~0.5 ms).
    """
    text = _as_text(values)
    if text.dtype == _TEXT and text.dtype.storage == "pyarrow":
        taken = text.array.take(idx, allow_fill=True)
        if not taken.isna().all():
            return taken
    out = np.full(len(idx), None, dtype=object)
    found = idx >= 0
    out[found] = values.to_numpy(dtype=object)[idx[found]]
    return out


def _geo_pick(run: RunState, pick: np.ndarray) -> np.ndarray:
    """Per site of the run the position ``pick`` gives for its row in ``run.geo`` (-1 for the
    sites without geometry)."""
    idx = np.full(run.n, -1, dtype=np.int64)
    idx[run.geo_idx] = pick
    return idx


def locate_gemeente(run: RunState, inputs: Inputs, ruleset: RuleSet) -> None:
    """Step "gemeente": the gemeente (name, code) and regio each site lies in.

    Without a gemeenten layer the fields are empty and per-gemeente values of
    the rule set are not applied. Sites outside all gemeenten give a warning.
    """
    run.steps.begin("gemeente")
    f = run.fields
    if inputs.gemeenten is not None:
        layer = inputs.gemeenten
        best, _ = best_polygon(run.geo, layer, min_share=0.0)
        pick = _geo_pick(run, best)
        for col, name in (("naam", "gemeente"), ("code", "gemeente_code"), ("regio", "regio")):
            if col in layer.columns:
                f[name] = _take_text(layer[col], pick)
        if "regio" not in layer.columns:
            first, inverse = _distinct_gemeenten(f["gemeente_code"], f["gemeente"])
            f["regio"] = _take_text(
                ruleset.region_of(f["gemeente_code"].iloc[first], f["gemeente"].iloc[first]),
                inverse,
            )
        outside = int((pd.isna(f["gemeente"]) & run.has_geom).sum())
        run.steps.end(buiten_gemeenten=outside)
        if outside:
            message = outside_gemeenten_warning(outside)
            run.warnings.append(message)
            log.warning(message)
    else:
        f["gemeente"] = None
        f["gemeente_code"] = None
        run.skipped["gemeente"] = (
            "geen laag [lagen.gemeenten]: per-gemeente waarden uit de regelset worden niet "
            "toegepast"
        )
        run.steps.end()


def site_parameters(run: RunState, ruleset: RuleSet) -> dict[str, np.ndarray]:
    """Every numeric rule-set parameter per site, with the value of the site's gemeente where it has
    its own.
    """
    code, name = run.fields["gemeente_code"], run.fields["gemeente"]
    first, inverse = _distinct_gemeenten(code, name)
    code, name = code.iloc[first], name.iloc[first]
    return {
        p: ruleset.per_site(p, code, name)[inverse]
        for p in ruleset.parameters
        if not isinstance(ruleset.value(p), (str, dict, list))
    }


def _distinct_gemeenten(code: pd.Series, name: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The first row of each distinct (code, name) pair, and per row the number of its pair.

    A per-gemeente lookup of the rule set is done once per distinct gemeente
    (a few dozen) instead of once per site: ``value[first][inverse]`` is
    ``value`` for any per-row function of (code, name). Missing values are one
    value of their own.
    """
    c, _ = pd.factorize(code, use_na_sentinel=False)
    n, _ = pd.factorize(name, use_na_sentinel=False)
    key = c.astype(np.int64) * (int(n.max(initial=0)) + 1) + n
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def position_vs_bbg(run: RunState, inputs: Inputs) -> None:
    """Step "bbg": position against the bestaand bebouwd gebied, and whether a site is in the
    bebouwde kom.

    ``bbg_ligging`` (binnen, deels, rand, buiten), distance and share inside
    BBG; ``bebouwde_kom`` from the kom layer, else approximated by BBG (at
    least half the site inside), with ``kom_bron`` saying which.
    """
    run.steps.begin("bbg")
    f, params, has_geom = run.fields, run.params, run.has_geom
    if inputs.bbg is not None:
        b = classify_bbg(
            run.geo,
            inputs.bbg,
            rand_m=params["bbg_rand_m"][run.geo_idx],
            inside_share_min=params["bbg_binnen_aandeel"][run.geo_idx],
        )
        f["bbg_ligging"] = _take_text(b["bbg_ligging"], _geo_pick(run, np.arange(len(b))))
        run.put(b.drop(columns="bbg_ligging"))
        # the part of a site outside BBG (1 for rand/buiten, 0 for binnen): the share the
        # rand/buiten rules affect
        f["bbg_buiten_aandeel"] = 1.0 - f["bbg_aandeel"]
        counts = {
            k: int((f["bbg_ligging"] == k).sum()) for k in ("binnen", "deels", "rand", "buiten")
        }
    else:
        run.skipped["bbg"] = "geen laag [lagen.bebouwd_gebied]: ligging t.o.v. BBG niet getoetst"
        counts = {}
    if inputs.kom is not None:
        share = inside_share(run.geo, inputs.kom)
        run.put(pd.DataFrame({"bebouwde_kom": share >= _KOM_SHARE - 1e-12}, index=run.geo.index))
        f["kom_bron"] = _take_text(pd.Series([_KOM_FROM_LAYER]), np.where(has_geom, 0, -1))
    elif inputs.bbg is not None:
        f["bebouwde_kom"] = np.where(
            has_geom, f["bbg_aandeel"].fillna(0.0).to_numpy() >= _KOM_SHARE - 1e-12, False
        )
        f["kom_bron"] = _take_text(pd.Series([_KOM_FROM_BBG]), np.where(has_geom, 0, -1))
    run.steps.end(**counts)


def recreation_parks(run: RunState, inputs: Inputs) -> None:
    """Step "recreatie": the recreation park a site lies on (any overlap) and the share on it."""
    run.steps.begin("recreatie")
    if inputs.parks is not None:
        # any overlap counts: a site partly on a park is judged on the part where the building can
        # go
        best, _ = best_polygon(run.geo, inputs.parks, min_share=SHARE_EPS)
        names = inputs.parks["naam"]
        run.fields["recreatiepark"] = _take_text(names, _geo_pick(run, best))
        named = best >= 0
        named[named] = pd.notna(names.to_numpy(dtype=object)[best[named]])
        share = np.where(named, inside_share(run.geo, inputs.parks), 0.0)
        run.put(pd.DataFrame({"recreatiepark_aandeel": share}, index=run.geo.index))
        run.steps.end(op_recreatiepark=int(pd.notna(run.fields["recreatiepark"]).sum()))
    else:
        run.skipped["recreatie"] = (
            "geen laag [lagen.recreatieparken]: recreatieparken niet getoetst"
        )
        run.steps.end()


def constraint_untested_reason(name: str) -> str:
    """Why the rules on constraint layer ``name`` were not tested (run record, report)."""
    return f"geen laag [lagen.beperkingen.{name}]: de regels op deze beperking zijn niet getoetst"


def unused_constraint_warning(name: str, ruleset_id: str) -> str:
    """The run warning for a declared constraint layer that no rule of the rule set uses."""
    return (
        f"[lagen.beperkingen.{name}] is opgegeven, maar geen regel van regelset '{ruleset_id}'"
        f' gebruikt deze laag (laag = "{name}"): de laag is niet getoetst. Voeg een regel toe'
        " aan de regelset of controleer de naam"
    )


def constraints(run: RunState, inputs: Inputs, ruleset: RuleSet) -> None:
    """Step "beperkingen": each site against every declared constraint layer a rule uses.

    Per layer the fields ``<naam>`` (the feature a site lies in, or the nearest within the
    reach of its rules) and ``<naam>_afstand_m``; per rule the internal share of each site in
    the rule's zone, which the verdict step reads. Rules on a layer the config does not give are
    not tested; a given layer no rule uses is a warning.
    """
    from locatietoets.analysis.constraints import layer_fields, measure_layer, zone_share
    from locatietoets.analysis.ruleset import layer_share_field

    run.steps.begin("beperkingen")
    f, geo_idx, n = run.fields, run.geo_idx, run.n
    used = ruleset.constraint_layers()
    for name in used:
        if name not in inputs.constraints:
            run.skipped[f"beperking.{name}"] = constraint_untested_reason(name)
    for name in inputs.constraints:
        if name not in used:
            message = unused_constraint_warning(name, ruleset.id)
            run.warnings.append(message)
            log.warning(message)
    counts: dict[str, int] = {}
    for name in used:
        features = inputs.constraints.get(name)
        if features is None:
            continue
        rules = [r for r in ruleset.rules if r.layer is not None and r.layer.layer == name]

        def per_site(value: Any) -> np.ndarray | float | None:
            if value is None:
                return None
            if isinstance(value, str):
                return np.asarray(run.params[value], dtype=float)[geo_idx]
            return float(value)

        reach = np.zeros(len(geo_idx))
        for rule in rules:
            reach = np.maximum(reach, per_site(rule.layer.buffer))
        measured = measure_layer(run.geo, features, reach)
        name_field, distance_field = layer_fields(name)
        run.put(measured.rename(columns={"naam": name_field, "afstand_m": distance_field}))
        run.constraint_fields += [name_field, distance_field]
        affected = np.zeros(n, dtype=bool)
        for rule in rules:
            share = np.zeros(n, dtype=float)
            share[geo_idx] = zone_share(
                run.geo,
                features,
                buffer_m=per_site(rule.layer.buffer),
                outside_only=rule.layer.outside_only,
                min_value=per_site(rule.layer.min_value),
            )
            f[layer_share_field(rule.id)] = share
            affected |= share > 0
        counts[name] = int(affected.sum())
    run.steps.end(**{f"in_zone_{k}": v for k, v in counts.items()})


def yard(run: RunState, inputs: Inputs, ruleset: RuleSet, has_own_employer: bool | None) -> None:
    """Housing on the own employer's yard ("op het erf"): ``op_erf`` when the site's own employer
    (``werkgever_veld``) lies within ``erf_max_m`` (straight line), the distance
    ``erf_afstand_m``, and ``erf_beleid``, the gemeente's policy on short-stay there
    (``erf_short_stay``: toegestaan, voorwaardelijk or niet).

    Needs the employers layer and an own employer for some site of the run; part of step
    "beperkingen".
    """
    from locatietoets.analysis.constraints import YARD_POLICIES, own_employer_distance
    from locatietoets.analysis.errors import RuleSetError

    needed = any(r.id.startswith("erf.") for r in ruleset.rules)
    if not needed or "erf_max_m" not in ruleset.parameters:
        return
    own = run.sites["eigen_werkgever"]
    if has_own_employer is None:  # a run in blocks passes the value for all its sites
        has_own_employer = bool(own.notna().any())
    if inputs.employers is None or not has_own_employer:
        run.skipped["erf"] = (
            "geen laag [lagen.werkgevers] of geen werkgever_veld in [lagen.locaties]: huisvesting"
            " op het erf van de eigen werkgever niet getoetst"
        )
        return
    f, geo_idx = run.fields, run.geo_idx
    distance = np.full(run.n, np.nan)
    distance[geo_idx] = own_employer_distance(run.geo, inputs.employers, own[run.has_geom])
    f["erf_afstand_m"] = distance
    f["op_erf"] = np.nan_to_num(distance, nan=np.inf) <= run.params["erf_max_m"] + 1e-9
    policy = ruleset.per_site("erf_short_stay", f["gemeente_code"], f["gemeente"])
    bad = sorted({str(p) for p in policy if p not in YARD_POLICIES})
    if bad:
        raise RuleSetError(
            f"Parameter 'erf_short_stay' heeft waarde {', '.join(repr(b) for b in bad)}; kies uit"
            f" {', '.join(YARD_POLICIES)} (in de regelset, [regels] of per gemeente)."
        )
    f["erf_beleid"] = policy
    run.steps.record.setdefault("beperkingen", {})["op_erf"] = int(f["op_erf"].sum())


def housing_norms_and_capacity(run: RunState, has_persons: bool | None) -> None:
    """Step "woonnormen": persons per bedroom, floor area per person and the capacity in persons.

    When no site of the run has a number of persons, the (empty) input
    fields are left out of the result.
    """
    run.steps.begin("woonnormen")
    f, sites = run.fields, run.sites
    for col in ("personen", "slaapkamers", "woonoppervlak_m2"):
        f[col] = sites[col].to_numpy(dtype=float)
    h = housing_norms(
        f["personen"].to_numpy(),
        f["slaapkamers"].to_numpy(),
        f["woonoppervlak_m2"].to_numpy(),
        max_persons_per_bedroom=run.params["max_personen_per_slaapkamer"],
        min_area_per_person_m2=run.params["min_woonoppervlak_pp_m2"],
        index=f.index,
    )
    for col in h.columns:
        f[col] = h[col].array  # capaciteit_norm stays in Arrow
    if not (sites["personen"].notna().any() if has_persons is None else has_persons):
        run.skipped["woonnormen"] = "geen personen_veld: woonnormen niet getoetst"
        run.fields = f.drop(columns=["personen", "slaapkamers", "woonoppervlak_m2"])
    run.steps.end(capaciteit_personen=float(np.nansum(h["capaciteit_personen"])))


def temporary_building(run: RunState) -> None:
    """Copy ``tijdelijk_bouwwerk`` and its term (years, and as a Dutch text for the reasons).

    Only when the sites layer says so (``tijdelijk_veld``); not a step of its own.
    """
    sites, f = run.sites, run.fields
    if "tijdelijk_bouwwerk" in sites:
        f["tijdelijk_bouwwerk"] = sites["tijdelijk_bouwwerk"].to_numpy(dtype=object)
        term = (
            sites["termijn_jaar"].to_numpy(dtype=float)
            if "termijn_jaar" in sites
            else np.full(run.n, np.nan)
        )
        f["termijn_jaar"] = term
        f["termijn_tekst"] = np.where(
            np.isnan(term),
            "een niet opgegeven termijn",
            format_number(term, ".0f").to_numpy(dtype=object) + " jaar",
        )


def housing_forms(run: RunState) -> None:
    """The housing form each stay type is judged as, and ``huisvestingsvorm`` for the site's own
    stay type.
    """
    run.housing_form = _housing_form(run.sites)
    run.own = run.sites["verblijfstype"].to_numpy(dtype=object)
    own, given = _arrow_text(run.sites["verblijfstype"]), _arrow_text(run.sites["huisvestingsvorm"])
    if own is None or given is None:
        run.fields["huisvestingsvorm"] = np.select(
            [run.own == s for s in STAY_TYPES], [run.housing_form[s] for s in STAY_TYPES], None
        )
        return
    # the same in Arrow (no str object per site, converted back): per site the form of its own
    # stay type (_housing_form), missing where it has none
    text = pa.nulls(len(own), pa.large_string())
    for stay in reversed(STAY_TYPES):
        form = (
            pa.scalar("woonfunctie", pa.large_string())
            if stay in ALWAYS_WOONFUNCTIE
            else pc.coalesce(given, pa.scalar(DEFAULT_HOUSING_FORM[stay], pa.large_string()))
        )
        text = pc.if_else(pc.fill_null(pc.equal(own, stay), False), form, text)
    run.fields["huisvestingsvorm"] = pd.Series(
        text, dtype=_TEXT_DTYPE, index=run.fields.index
    ).array


def odour_norm(
    params: Mapping[str, np.ndarray], ruleset: RuleSet, concentration_area: np.ndarray, inside: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The odour norm (OUe/m³) per site for sites inside (outside) the kom, and whether it is the
    gemeente's own.

    The norm cell is kom or buitengebied, in or outside a concentration area;
    a per-gemeente value that differs from the rule set's standard value is
    the omgevingsplan's own.
    """
    conc = np.asarray(concentration_area, dtype=bool)
    n = len(conc)
    values, own = np.full(n, np.nan), np.zeros(n, dtype=bool)
    for cell, name in (
        (~conc, "geur_norm_kom" if inside else "geur_norm_buitengebied"),
        (conc, "geur_norm_kom_concentratie" if inside else "geur_norm_buitengebied_concentratie"),
    ):
        if cell.any():  # boolean masks: no per-site parameter names to compare
            values[cell] = params[name][cell]
            own[cell] = params[name][cell] != float(ruleset.value(name))
    return values, own


def odour(run: RunState, inputs: Inputs, ruleset: RuleSet) -> None:
    """Step "geur": odour load against the norm (contours) and the fixed distances to livestock
    farms.

    Whether a site is in the kom decides its norm and distances; when that is
    unknown (no kom and no BBG layer) the strictest norm applies.
    """
    run.steps.begin("geur")
    if inputs.contours is None and inputs.farms is None:
        run.skipped["geur"] = (
            "geen lagen [lagen.geurcontouren] en [lagen.veehouderijen]: geur niet getoetst"
        )
        run.steps.end()
        return
    from locatietoets.analysis.odour import KOM_SOURCE_UNKNOWN, assess_odour

    f, params, n, geo_idx = run.fields, run.params, run.n, run.geo_idx
    kom_known = "bebouwde_kom" in f
    in_kom = (
        f["bebouwde_kom"].fillna(False).to_numpy(dtype=bool)
        if kom_known
        else np.zeros(n, dtype=bool)
    )
    if not kom_known:
        run.skipped["kom"] = (
            "geen [lagen.bebouwde_kom] en geen [lagen.bebouwd_gebied]: of een locatie binnen de "
            "bebouwde kom ligt "
            "is onbekend, dus gelden de strengste geurnorm en vaste afstanden"
        )
        f["kom_bron"] = np.where(run.has_geom, KOM_SOURCE_UNKNOWN, None)
    conc = params["concentratiegebied"].astype(bool)
    norm_kom, plan_kom = odour_norm(params, ruleset, conc, True)
    norm_out, plan_out = odour_norm(params, ruleset, conc, False)
    # kom unknown: the strictest (lowest) of the two norms
    use_kom = in_kom if kom_known else norm_kom <= norm_out
    norm = np.where(use_kom, norm_kom, norm_out)
    norm_from_plan = np.where(use_kom, plan_kom, plan_out)
    kom_source = (
        str(f["kom_bron"].dropna().iloc[0]) if f["kom_bron"].notna().any() else _KOM_FROM_LAYER
    )
    o = assess_odour(
        run.geo,
        in_kom=in_kom[geo_idx],
        concentration_area=conc[geo_idx],
        norm_oue=norm[geo_idx],
        kom_source=kom_source,
        contours=inputs.contours,
        farms=inputs.farms,
        point_distance_kom_m=params["afstand_emissiepunt_kom_m"][geo_idx],
        point_distance_outside_m=params["afstand_emissiepunt_buitengebied_m"][geo_idx],
        facade_distance_kom_m=params["afstand_gevel_kom_m"][geo_idx],
        facade_distance_outside_m=params["afstand_gevel_buitengebied_m"][geo_idx],
        gemeente=f["gemeente"].to_numpy(dtype=object)[geo_idx],
        norm_from_plan=norm_from_plan[geo_idx],
        progress=lambda fr, msg="": run.steps.report(fr, msg),
    )
    texts = [col for col in o.columns if o[col].dtype == object]
    run.put(o.drop(columns=texts))
    for col in texts:
        # the texts (farm name, reason) go to Arrow once, here: the verdict's reason templates and
        # both writers take them as they are (as object columns each converted them again)
        f[col] = _text_field(o[col].to_numpy(), geo_idx, n, f.index)
    if inputs.contours is None:
        run.skipped["geurcontouren"] = (
            "geen laag [lagen.geurcontouren]: alleen vaste afstanden getoetst"
        )
    if inputs.farms is None:
        run.skipped["veehouderijen"] = (
            "geen laag [lagen.veehouderijen]: vaste afstanden niet getoetst"
        )
    run.steps.end(
        in_geurcontour=int(f["geur_in_contour"].sum()),
        knelpunt_contour=int(f["geur_knelpunt_contour"].sum()),
        knelpunt_vaste_afstand=int(f["geur_knelpunt_afstand"].sum()),
        onzeker=int(f["geur_onzeker"].sum()),
    )


def travel(
    run: RunState,
    inputs: Inputs,
    ruleset: RuleSet,
    *,
    network_mode: str,
    travel_max_minutes: float | None,
    has_own_employer: bool | None,
    is_cancelled: Callable[[], bool] | None,
) -> None:
    """Step "reis": travel time over the road network to the nearest employer and the own employer.

    Needs both the employers layer and a network. The own-employer fields are
    left out when no site of the run has an own employer.
    """
    run.steps.begin("reis")
    sites = run.sites
    if has_own_employer is None:
        has_own_employer = bool(sites["eigen_werkgever"].notna().any())
    if inputs.employers is None or inputs.network is None:
        missing = [
            k
            for k, v in (("werkgevers", inputs.employers), ("wegennet", inputs.network))
            if v is None
        ]
        run.skipped["reis"] = (
            "geen laag "
            + " en ".join(f"[lagen.{m}]" for m in missing)
            + ": reisafstand niet getoetst"
        )
        run.steps.end()
        return
    from locatietoets.analysis.travel import travel_to_employers

    max_min = run.params[f"reistijd_max_{network_mode}_min"]
    if travel_max_minutes is None:
        travel_max_minutes = float(np.nanmax(max_min)) if len(max_min) else 0.0
    t = travel_to_employers(
        run.geo,
        inputs.employers,
        inputs.network,
        max_minutes=float(travel_max_minutes),
        max_snap_m=float(ruleset.value("max_aansluitafstand_m")),
        own_employer=sites["eigen_werkgever"][run.has_geom] if has_own_employer else None,
        progress=lambda fr, msg="": run.steps.report(fr, msg),
        is_cancelled=is_cancelled,
    )
    run.put(t)
    f = run.fields
    f["reismodus"] = network_mode
    f["reistijd_max_min"] = max_min
    f["reismodus_tekst"] = MODE_TEXT[network_mode]
    f["reistijd_overschrijding_min"] = f["werkgever_reistijd_min"] - max_min
    if not has_own_employer:
        run.fields = f = f.drop(
            columns=[
                "eigen_werkgever",
                "eigen_werkgever_afstand_m",
                "eigen_werkgever_reistijd_min",
            ],
            errors="ignore",
        )
    run.steps.end(
        onbereikbaar=int(f["reis_onbereikbaar"].sum()),
        mediaan_reistijd_min=float(np.nanmedian(f["werkgever_reistijd_min"]))
        if f["werkgever_reistijd_min"].notna().any()
        else None,
    )


def facilities(run: RunState, inputs: Inputs, ruleset: RuleSet) -> None:
    """Step "voorzieningen": network distance to the nearest facility of each kind.

    Needs the facility layers and a network; per kind the fields of
    :func:`analysis.vocabulary.facility_fields`.
    """
    run.steps.begin("voorzieningen")
    if not inputs.facilities:
        run.skipped["voorzieningen"] = (
            "geen lagen [lagen.voorzieningen.<soort>]: afstand tot voorzieningen niet getoetst"
        )
        run.steps.end()
        return
    if inputs.network is None:
        run.skipped["voorzieningen"] = (
            "geen laag [lagen.wegennet]: afstand tot voorzieningen niet getoetst"
        )
        run.steps.end()
        return
    from locatietoets.analysis.facilities import nearest_facilities

    v = nearest_facilities(
        run.geo,
        inputs.facilities,
        inputs.network,
        max_snap_m=float(ruleset.value("max_aansluitafstand_m")),
    )
    run.put(v)
    # sites without geometry: not reachable is not known either (no reason, no rule)
    f = run.fields
    counts = {}
    for kind in inputs.facilities:
        distance = f"voorziening_{kind}_afstand_m"
        counts[kind] = {
            "mediaan_m": float(np.nanmedian(f[distance])) if f[distance].notna().any() else None,
            "onbereikbaar": int(f[f"voorziening_{kind}_onbereikbaar"].sum()),
        }
    run.steps.end(voorzieningen=counts)


def concentration(run: RunState, inputs: Inputs) -> None:
    """Step "concentratie": the kern each site lies in and the labour migrants housed there.

    ``arbeidsmigranten_in_kern`` = persons in the existing housing of the kern + this site's
    ``capaciteit_personen`` (NaN when that is unknown: no silent 0), and its share of the kern's
    inhabitants. Kernen given as polygons: the kern the site overlaps most; as points (CBS kern
    centroids): the nearest kern. Existing housing is assigned to kernen the same way.
    """
    run.steps.begin("concentratie")
    if inputs.kernen is None:
        run.skipped["concentratie"] = (
            "geen laag [lagen.kernen]: concentratie per kern niet getoetst"
        )
        run.steps.end()
        return
    from locatietoets.analysis.concentration import assign_kern, existing_per_kern

    f = run.fields
    kern_pos = assign_kern(run.geo, inputs.kernen)
    names = inputs.kernen["naam"].to_numpy(dtype=object)
    inhabitants = inputs.kernen["inwoners"].to_numpy(dtype=float)
    existing = existing_per_kern(inputs.existing_housing, inputs.kernen)
    found = kern_pos >= 0
    pos = np.maximum(kern_pos, 0)
    capacity = f["capaciteit_personen"].to_numpy(dtype=float)[run.geo_idx]
    migrants = np.where(found, existing[pos] + capacity, np.nan)
    people = np.where(found, inhabitants[pos], np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(people > 0, migrants / people, np.nan)
    run.put(
        pd.DataFrame(
            {
                "kern": np.where(found, names[pos], None),
                "kern_inwoners": people,
                "arbeidsmigranten_in_kern": migrants,
                "aandeel_arbeidsmigranten_kern": share,
            },
            index=run.geo.index,
        )
    )
    if inputs.existing_housing is None:
        run.skipped["bestaande_huisvesting"] = (
            "geen laag [lagen.bestaande_huisvesting]: alleen de capaciteit van de locatie zelf"
            " telt in de concentratie per kern"
        )
    run.steps.end(
        in_kern=int(found.sum()),
        buiten_kernen=int((~found).sum()),
    )


#: The reason of a site without geometry (it gets no verdict).
NO_GEOMETRY_REASON = "geen geometrie: locatie niet getoetst; vul de geometrie aan in de invoerlaag"


def apply_verdicts(
    run: RunState, ruleset: RuleSet, network_mode: str
) -> tuple[dict[str, Any], dict[str, dict[str, int]]]:
    """Step "oordeel": apply the rules to the fields: verdict, score, free share, reasons and rules
    per stay type.

    Sites without geometry get no verdict, only the reason. Returns the rule
    summary of :func:`~analysis.verdict.judge` and the verdict counts per stay type.
    """
    run.steps.begin("oordeel")
    params, n, f = run.params, run.n, run.fields
    params["reistijd_max_min"] = params.get(f"reistijd_max_{network_mode}_min", np.full(n, np.nan))
    ctx = RuleContext(fields=f, params=params, housing_form=run.housing_form)
    codes: dict[str, np.ndarray] = {}
    verdicts, summary = judge(ctx, ruleset, run.own, codes=codes)
    no_geom = ~run.has_geom
    blank = pd.Series(no_geom, index=verdicts.index) if no_geom.any() else None
    columns = {}
    for col in verdicts.columns:
        # the text columns stay in Arrow (a round trip through Python strings costs seconds per
        # million sites); sites without geometry get no verdict, only the reason
        values = verdicts[col]
        if blank is not None:
            if col.startswith("oordeel"):
                values = values.mask(blank, None)
            elif col.startswith(("score", "vrij_aandeel")):
                values = values.mask(blank, np.nan)
            elif col.startswith("regels"):
                values = values.mask(blank, "")
            elif col == "redenen":
                values = values.mask(blank, NO_GEOMETRY_REASON)
        columns[col] = values.array
    del verdicts, ctx
    add_columns(f, columns)  # those of an earlier verdict (Rescorer) are replaced
    del columns

    def count(code: np.ndarray) -> dict[str, int]:
        # verdicts counted from their numbers: sites without geometry (and, for the own stay
        # type, without one) have none
        known = code[run.has_geom & (code >= 0)]
        tally = np.bincount(known, minlength=len(VERDICTS))
        return {
            **{v: int(tally[i]) for i, v in enumerate(VERDICTS)},
            "geen oordeel": int(len(code) - len(known)),
        }

    counts = {s: count(codes[s]) for s in STAY_TYPES}
    # each site on its own stay type (the result field "oordeel"): what the plugin reports as
    # "Aantal geschikt" and the CLI as "locaties geschikt voor hun eigen verblijfstype"
    summary["telling_eigen_verblijfstype"] = count(codes[""])
    run.steps.end(telling=counts)
    return summary, counts
