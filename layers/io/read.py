"""Read the fields of input layers into EPSG:28992 GeoDataFrames: sites and reference layers.

The files are opened and checked (format, CRS, extent, repair) by
:mod:`locatietoets.layers.io.files`; this module parses and checks their fields.
Every check produces a Dutch message naming the layer, the field, what was found
and how to fix it; problems are collected and raised together. Input files are
only read, never written.
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from locatietoets.analysis.errors import InputError, did_you_mean
from locatietoets.analysis.ruleset import HOUSING_FORMS, STAY_TYPES
from locatietoets.analysis.steps import ALWAYS_WOONFUNCTIE, logies_warning
from locatietoets.analysis.texts import nl_value
from locatietoets.analysis.vocabulary import kind_label, nl_number
from locatietoets.layers.io.files import (
    RD_NEW,
    LayerReport,
    check_inputs,
    file_sha256,
    layer_label,
    read_layer,
    readable_part,
)
from locatietoets.layers.io.spec import Config, LayerSpec

__all__ = [
    "RD_NEW",
    "LayerReport",
    "check_inputs",
    "readable_part",
    "read_layer",
    "load_sites",
    "load_reference_layers",
    "file_sha256",
]


log = logging.getLogger(__name__)

_NAME_GUESSES = ("naam", "name", "NAAM", "Naam", "statnaam", "gemeentenaam")
_CODE_GUESSES = ("code", "statcode", "gemeentecode", "CODE", "Code")


def _field(
    frame: pd.DataFrame,
    spec: LayerSpec,
    key: str,
    problems: list[str],
    *,
    guesses: tuple[str, ...] = (),
    required: bool = False,
) -> str | None:
    name = spec.get(key)
    if isinstance(frame, gpd.GeoDataFrame):
        geometry = frame.active_geometry_name
        columns = [c for c in frame.columns if c != geometry]
    else:
        columns = list(frame.columns)
    if name is None:
        for guess in guesses:
            if guess in columns:
                return guess
        if required:
            problems.append(
                f"{layer_label(spec)} geef '{key}' op: het veld met"
                f" {_FIELD_MEANING.get(key, key)}. "
                f"Beschikbare velden: {', '.join(columns)}."
            )
        return None
    if name not in columns:
        problems.append(
            f'{layer_label(spec)} {key} = "{name}": dat veld bestaat niet in'
            f" '{spec.path.name}'.{did_you_mean(name, columns)} Beschikbare velden:"
            f" {', '.join(columns)}."
        )
        return None
    return name


_FIELD_MEANING = {
    "naam_veld": "de naam",
    "code_veld": "de CBS-code (GMxxxx)",
    "waarde_veld": "de contourwaarde in OUe/m³",
    "inwoners_veld": "het aantal inwoners van de kern",
    "personen_veld": "het aantal arbeidsmigranten dat er woont",
}


def _numeric(
    frame: pd.DataFrame,
    column: str,
    spec: LayerSpec,
    key: str,
    problems: list[str],
    *,
    allow_null: bool = True,
) -> np.ndarray:
    raw = frame[column]
    if raw.dtype.kind in "fiu":
        values = raw.to_numpy(dtype=float)
        bad_text = pd.Series(dtype=object)
    else:
        text = raw.astype("string").str.strip().str.replace(",", ".", regex=False)
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
        bad_text = raw[text.notna() & (text != "") & np.isnan(values)]
    if len(bad_text):
        problems.append(
            f"{layer_label(spec)} veld '{column}' ({key}) moet getallen bevatten; gevonden o.a."
            f" {', '.join(repr(v) for v in pd.unique(bad_text.astype(str))[:5])} in {len(bad_text)}"
            " objecten. Corrigeer deze waarden."
        )
    infinite = np.isinf(values)
    if infinite.any():
        problems.append(
            f"{layer_label(spec)} veld '{column}' ({key}) heeft {nl_number(int(infinite.sum()))}"
            " oneindige"
            " waarden"
            f" ({values[infinite][0]:g}); vul een eindig getal in of laat het veld leeg."
        )
        values = np.where(infinite, np.nan, values)
    negative = np.nan_to_num(values, nan=0.0) < 0
    if negative.any():
        problems.append(
            f"{layer_label(spec)} veld '{column}' ({key}) heeft {nl_number(int(negative.sum()))}"
            " negatieve"
            " waarden "
            f"(bv. {nl_value(values[negative][0])}); alleen waarden ≥ 0 zijn geldig."
        )
    if raw.dtype.kind in "fiu":  # a number is never blank text: only NULLs are empty
        empty = raw.isna().to_numpy(dtype=bool)
    else:
        blank = _per_value(raw.astype("string"), lambda t: t.str.strip() == "")
        empty = raw.isna().to_numpy(dtype=bool) | blank.fillna(True).to_numpy(dtype=bool)
    if not allow_null and empty.any():
        problems.append(
            f"{layer_label(spec)} veld '{column}' ({key}) is leeg bij"
            f" {nl_number(int(empty.sum()))} objecten;"
            " vul"
            " een waarde in."
        )
    return values


_YES = frozenset({"ja", "j", "true", "waar", "1", "1.0", "yes", "y"})
_NO = frozenset({"nee", "n", "false", "onwaar", "0", "0.0", "no"})


def _yes_no(
    frame: pd.DataFrame, column: str, spec: LayerSpec, key: str, meaning: str, problems: list[str]
) -> np.ndarray:
    """A ja/nee field as floats: 1.0 (ja), 0.0 (nee), NaN (empty = unknown).

    Accepts ja/nee, true/false, 1/0 (any case, booleans and numbers too);
    any other value is a problem naming the layer, field and values.
    """
    raw = frame[column]
    if raw.dtype == bool:
        return raw.to_numpy(dtype=float)
    text = raw.astype("string").str.strip().str.lower()
    values = np.full(len(raw), np.nan)
    yes = text.isin(_YES).to_numpy(dtype=bool, na_value=False)
    no = text.isin(_NO).to_numpy(dtype=bool, na_value=False)
    values[yes] = 1.0
    values[no] = 0.0
    empty = (text.isna() | (text == "")).to_numpy(dtype=bool, na_value=True)
    bad = ~(yes | no | empty)
    if bad.any():
        counts = raw[bad].astype(str).value_counts()
        problems.append(
            f"{layer_label(spec)} veld '{column}' ({key}: {meaning}) heeft onbekende waarden: "
            + ", ".join(f"'{v}' ({c}×)" for v, c in counts.head(10).items())
            + ". Toegestaan: ja/nee, true/false of 1/0 (leeg = onbekend)."
        )
    return values


def _per_value(text: pd.Series, *fns) -> Any:
    """``fn(text)`` for each elementwise ``fn``, computed once per distinct value of ``text`` (one
    result, or a tuple of them for several ``fns``).

    A field with a handful of values over 100,000 rows (a stay type) then costs a handful of
    string operations; a field with mostly distinct values (an id) is passed to ``fn`` whole.
    """
    codes, uniques = pd.factorize(text, use_na_sentinel=False)
    if 2 * len(uniques) > len(text):
        done = [fn(text) for fn in fns]
    else:
        distinct = pd.Series(uniques, dtype=text.dtype)
        done = []
        for fn in fns:
            out = fn(distinct).take(codes)
            out.index = text.index
            done.append(out)
    return done[0] if len(done) == 1 else tuple(done)


def _as_column(values: pd.Series, convert) -> Any:
    """``convert(values)`` (an object array) as a frame column, converted once per distinct value
    (assigning an object array of texts converts every row to the frame's text type)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    if 2 * len(uniques) > len(values):
        return convert(values)
    column = pd.Series(convert(pd.Series(uniques, dtype=values.dtype))).take(codes)
    return column.set_axis(values.index)


_GEOMETRY_STATUS = pd.Series(np.array(["geen geometrie", "ok", "gerepareerd"], dtype=object))


def _choice_normaliser(allowed: tuple[str, ...]):
    """The elementwise normalisation of a choice field's text (case and '-'/' ' tolerant)."""
    lookup = {a.replace("_", ""): a for a in allowed}

    def normalise(text: pd.Series) -> pd.Series:
        key = text.str.strip().str.lower().str.replace(r"[\s\-]+", "_", regex=True)
        squashed = key.str.replace("_", "", regex=False)
        return squashed.map(lookup).where(key.notna(), None)

    return normalise


def _choice_field(
    frame: pd.DataFrame,
    spec: LayerSpec,
    key: str,
    meaning: str,
    allowed: tuple[str, ...],
    empty_hint: str,
    problems: list[str],
) -> tuple[pd.Series | None, int]:
    """Read a field with a fixed list of values (case and '-'/' ' tolerant).

    Returns the normalised values (missing where empty) and the number of
    empty values, or ``(None, 0)`` when the field is not configured. Unknown
    values are added to ``problems`` with their counts.
    """
    column = _field(frame, spec, key, problems)
    if not column:
        return None, 0
    raw = frame[column]
    values, filled = _per_value(
        raw.astype("string"), _choice_normaliser(allowed), lambda t: t.str.strip() != ""
    )
    unknown = raw[values.isna() & raw.notna() & filled]
    if len(unknown):
        counts = unknown.astype(str).value_counts()
        problems.append(
            f"{layer_label(spec)} veld '{column}' ({meaning}) heeft onbekende waarden: "
            + ", ".join(f"'{v}' ({c}×)" for v, c in counts.head(10).items())
            + f". Toegestaan: {', '.join(allowed)}{empty_hint}."
        )
    return values, int(values.isna().sum()) - len(unknown)


def load_sites(
    spec: LayerSpec, *, rows: tuple | None = None, opened: gpd.GeoDataFrame | None = None
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, LayerReport]:
    """Read the candidate sites (all, or the block ``rows``: see
    :func:`~layers.io.files.read_layer`, also for ``opened``) and normalise their attributes.

    Returns
    -------
    original
        The layer as read (all input attributes), EPSG:28992.
    sites
        Normalised: ``locatie_id`` (str), ``verblijfstype``,
        ``huisvestingsvorm`` (None = default for the stay type),
        ``personen``, ``slaapkamers``, ``woonoppervlak_m2`` (float),
        ``eigen_werkgever`` (str/None), ``geometrie_status``; with
        ``tijdelijk_veld`` also ``tijdelijk_bouwwerk`` ("ja"/"nee"/None =
        unknown), with ``termijn_jaar_veld`` also ``termijn_jaar`` (float,
        NaN = unknown); RangeIndex.
    report
        What reading found.
    """
    original, report = read_layer(spec, rows=rows, opened=opened)
    problems: list[str] = []
    n = len(original)
    sites = gpd.GeoDataFrame(index=original.index, geometry=original.geometry, crs=RD_NEW)

    id_col = _field(original, spec, "id_veld", problems)
    if id_col:
        ids = original[id_col]
        if ids.isna().any():
            problems.append(
                f"{layer_label(spec)} id-veld '{id_col}' is leeg bij {int(ids.isna().sum())}"
                " locaties;"
                " elke locatie heeft een id nodig."
            )
        as_text = ids.astype("string")
        dup = as_text[as_text.duplicated(keep=False) & as_text.notna()]
        if len(dup):
            problems.append(
                f"{layer_label(spec)} id-veld '{id_col}' heeft dubbele waarden:"
                f" {', '.join(pd.unique(dup.astype(str))[:10])}{' …' if dup.nunique() > 10 else ''}"
                f" ({dup.nunique()} ids). Maak de ids uniek."
            )
        sites["locatie_id"] = as_text.astype("str")
    else:
        first = rows[0] if rows is not None else 0  # a block numbers on from the rows before it
        sites["locatie_id"] = (np.arange(n) + 1 + first).astype(str)

    default_stay = spec.get("standaard_verblijfstype", "short_stay")
    stay, missing = _choice_field(
        original, spec, "verblijfstype_veld", "verblijfstype", STAY_TYPES, "", problems
    )
    if missing:
        report.warnings.append(
            f"{nl_number(missing)} locaties zonder verblijfstype: {default_stay} aangenomen"
        )
    sites["verblijfstype"] = (
        _as_column(stay, lambda v: v.fillna(default_stay).astype(object).to_numpy())
        if stay is not None
        else default_stay
    )
    form, _ = _choice_field(
        original,
        spec,
        "huisvestingsvorm_veld",
        "huisvestingsvorm",
        HOUSING_FORMS,
        " (leeg = standaard per verblijfstype)",
        problems,
    )
    sites["huisvestingsvorm"] = (
        _as_column(form, lambda v: v.astype(object).where(v.notna(), None).to_numpy())
        if form is not None
        else None
    )
    if form is not None:
        # mid- and long-stay are always a woonfunctie: the analysis judges them so; say which sites
        # said otherwise
        marked = logies_marked(sites)
        if marked.any():
            report.warnings.append(logies_warning(marked_ids(sites, marked)))

    for key, out in (
        ("personen_veld", "personen"),
        ("slaapkamers_veld", "slaapkamers"),
        ("woonoppervlak_veld", "woonoppervlak_m2"),
    ):
        col = _field(original, spec, key, problems)
        sites[out] = _numeric(original, col, spec, key, problems) if col else np.nan

    no_rooms = (sites["slaapkamers"].to_numpy(dtype=float) == 0) & (
        sites["personen"].to_numpy(dtype=float) > 0
    )
    if no_rooms.any():
        first = sites["locatie_id"].to_numpy()[no_rooms][:5]
        problems.append(
            f"{layer_label(spec)} veld '{spec.get('slaapkamers_veld')}' (slaapkamers_veld) is 0"
            " bij"
            f" {nl_number(int(no_rooms.sum()))} locaties met personen (bv."
            f" {', '.join(map(str, first))}):"
            " personen per slaapkamer is dan niet te bepalen. Vul het aantal slaapkamers in, of"
            " laat het leeg als het nog niet bekend is."
        )

    emp_col = _field(original, spec, "werkgever_veld", problems)
    if emp_col:
        emp = original[emp_col].astype("string").str.strip()
        sites["eigen_werkgever"] = (
            emp.where(emp.notna() & (emp != ""), None).astype(object).to_numpy()
        )
    else:
        sites["eigen_werkgever"] = None

    # temporary building (ja/nee, empty = unknown) and its term in years; only when configured
    temp_col = _field(original, spec, "tijdelijk_veld", problems)
    if temp_col:
        flag = _yes_no(original, temp_col, spec, "tijdelijk_veld", "tijdelijk bouwwerk", problems)
        sites["tijdelijk_bouwwerk"] = np.where(
            np.isnan(flag), None, np.where(flag == 1.0, "ja", "nee")
        ).astype(object)
    term_col = _field(original, spec, "termijn_jaar_veld", problems)
    if term_col:
        sites["termijn_jaar"] = _numeric(original, term_col, spec, "termijn_jaar_veld", problems)
        if not temp_col:
            problems.append(
                f'{layer_label(spec)} termijn_jaar_veld = "{term_col}" zonder tijdelijk_veld: de'
                " termijn"
                " geldt alleen voor een tijdelijk bouwwerk. Geef ook tijdelijk_veld op (ja/nee per"
                " locatie)."
            )

    if report.without_geometry == n and n and rows is None:  # a block: the caller checks
        problems.append(_no_geometry(spec, n))
    if problems:
        raise InputError(problems)
    geoms = sites.geometry.to_numpy()
    # 0 geen geometrie, 1 ok
    status = np.where(shapely.is_missing(geoms) | shapely.is_empty(geoms), 0, 1)
    if report.repaired and report.repaired_rows is not None:
        status[report.repaired_rows & (status == 1)] = 2  # gerepareerd
    # the column a text array would give (str), built from its three values
    sites["geometrie_status"] = _GEOMETRY_STATUS.take(status).set_axis(sites.index)
    if report.without_geometry:
        report.warnings.append(
            f"{nl_number(report.without_geometry)} locaties zonder geometrie: niet getoetst,"
            " reden 'geen"
            " geometrie'"
        )
    return original, sites, report


def logies_marked(sites: pd.DataFrame) -> np.ndarray:
    """Which normalised sites are mid- or long-stay marked as logies (always a woonfunctie)."""
    if "huisvestingsvorm" not in sites:
        return np.zeros(len(sites), dtype=bool)
    stay = sites["verblijfstype"].isin(ALWAYS_WOONFUNCTIE).to_numpy(dtype=bool, na_value=False)
    form = sites["huisvestingsvorm"]
    logies = (form == "logies").to_numpy(dtype=bool, na_value=False)
    return stay & logies


def marked_ids(sites: pd.DataFrame, marked: np.ndarray, shown: int = 10) -> list[str]:
    """The ids of the ``marked`` sites as :func:`~analysis.steps.logies_warning` takes them: the
    first ``shown`` as text, the others only counted (empty strings)."""
    where = np.flatnonzero(marked)
    first = [str(i) for i in sites["locatie_id"].iloc[where[:shown]].tolist()]
    return first + [""] * (len(where) - len(first))


def _no_geometry(spec: LayerSpec, n: int) -> str:
    return (
        f"{layer_label(spec)} '{spec.path.name}' heeft geen bruikbare geometrie: alle"
        f" {nl_number(n)} objecten zijn"
        " leeg of zonder geometrie (NULL). Kies de juiste laag, vul de geometrie, of laat de"
        f" sectie {layer_label(spec)} weg uit de configuratie."
    )


def _drop_empty(frame: gpd.GeoDataFrame, report: LayerReport, spec: LayerSpec) -> gpd.GeoDataFrame:
    geoms = frame.geometry.to_numpy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.all():
        raise InputError(_no_geometry(spec, len(frame)))
    if missing.any():
        report.warnings.append(
            f"{nl_number(int(missing.sum()))} objecten zonder geometrie overgeslagen"
        )
        frame = frame[~missing].reset_index(drop=True)
    return frame


def _names(frame: gpd.GeoDataFrame, col: str | None, prefix: str) -> np.ndarray:
    if col is None:
        return np.array([f"{prefix} {i + 1}" for i in range(len(frame))], dtype=object)
    names = frame[col].astype("string").str.strip()
    fallback = pd.Series([f"{prefix} {i + 1}" for i in range(len(frame))], index=frame.index)
    return names.where(names.notna() & (names != ""), fallback).astype(object).to_numpy()


def _select(
    frame: gpd.GeoDataFrame, spec: LayerSpec, report: LayerReport, problems: list[str]
) -> gpd.GeoDataFrame:
    """The features whose ``selectie_veld`` has one of the ``selectie_waarden`` (all when not
    given)."""
    col = _field(frame, spec, "selectie_veld", problems)
    if col is None:
        return frame
    wanted = {v.strip().casefold() for v in str(spec.get("selectie_waarden", "")).split(",")}
    wanted.discard("")
    values = frame[col].astype("string").str.strip().str.casefold()
    keep = values.isin(wanted).to_numpy(dtype=bool, na_value=False)
    if not keep.any():
        found = ", ".join(repr(v) for v in pd.unique(values.dropna())[:10])
        problems.append(
            f"{layer_label(spec)} geen enkel object heeft in veld '{col}' een van de waarden"
            f" {', '.join(repr(w) for w in sorted(wanted))} (selectie_waarden). Gevonden o.a.:"
            f" {found or '(niets)'}."
        )
        return frame.iloc[:0]
    log.info(
        "%s: %s van %s objecten geselecteerd (%s = %s)",
        spec.name,
        nl_number(int(keep.sum())),
        nl_number(len(frame)),
        col,
        ", ".join(sorted(wanted)),
    )
    return frame[keep].reset_index(drop=True)


def load_reference_layers(
    config: Config,
) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, LayerReport]]:
    """Read every reference layer the config gives (not locaties, not wegennet).

    Returns normalised frames: ``bebouwd_gebied``/``bebouwde_kom`` (geometry),
    ``geurcontouren`` (``waarde``, optional ``veehouderij``), ``veehouderijen`` (``naam``,
    ``vaste_afstand_m``, ``geuremissiefactor`` 1/0/NaN), ``recreatieparken`` (``naam``),
    ``werkgevers``
    (unique ``naam``), ``gemeenten`` (``naam``, ``code``, optional ``regio``), each declared
    constraint layer as ``beperkingen.<naam>`` (``naam``, optional ``waarde``), ``kernen``
    (``naam``, float ``inwoners``), ``bestaande_huisvesting`` (``naam``, float ``personen``) and
    every ``voorzieningen.<soort>`` (``naam``; only the features selected by ``selectie_veld``/
    ``selectie_waarden`` when given).
    All problems across layers are raised together.
    """
    frames: dict[str, gpd.GeoDataFrame] = {}
    reports: dict[str, LayerReport] = {}
    problems: list[str] = []
    constraints = [name for name in config.layers if name.startswith("beperkingen.")]
    for name in (
        "bebouwd_gebied",
        "bebouwde_kom",
        "geurcontouren",
        "veehouderijen",
        "recreatieparken",
        "werkgevers",
        "gemeenten",
        *constraints,
        "kernen",
        "bestaande_huisvesting",
        *(n for n in config.layers if n.startswith("voorzieningen.")),
    ):
        spec = config.layer(name)
        if spec is None:
            continue
        try:
            frame, report = read_layer(spec)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        try:
            frame = _drop_empty(frame, report, spec)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        reports[name] = report
        local: list[str] = []
        if name.startswith("voorzieningen."):
            frame = _select(frame, spec, report, local)
        out = gpd.GeoDataFrame(geometry=frame.geometry, crs=RD_NEW)
        if name == "geurcontouren":
            col = _field(frame, spec, "waarde_veld", local, required=True)
            if col:
                out["waarde"] = _numeric(frame, col, spec, "waarde_veld", local, allow_null=False)
            fcol = _field(frame, spec, "veehouderij_veld", local)
            if fcol:
                farm = frame[fcol].astype("string").str.strip()
                known = (farm.notna() & (farm != "")).to_numpy(dtype=bool, na_value=False)
                out["veehouderij"] = np.where(known, farm.astype(object).to_numpy(), None)
        elif name == "veehouderijen":
            col = _field(frame, spec, "naam_veld", local, guesses=_NAME_GUESSES)
            out["naam"] = _names(frame, col, "veehouderij")
            dcol = _field(frame, spec, "vaste_afstand_veld", local)
            out["vaste_afstand_m"] = (
                _numeric(frame, dcol, spec, "vaste_afstand_veld", local) if dcol else np.nan
            )
            fcol = _field(frame, spec, "geuremissiefactor_veld", local)
            out["geuremissiefactor"] = (
                _yes_no(
                    frame,
                    fcol,
                    spec,
                    "geuremissiefactor_veld",
                    "dieren met geuremissiefactor",
                    local,
                )
                if fcol
                else np.nan
            )
        elif name in ("recreatieparken", "werkgevers"):
            col = _field(frame, spec, "naam_veld", local, guesses=_NAME_GUESSES)
            names = pd.Series(
                _names(frame, col, "recreatiepark" if name == "recreatieparken" else "werkgever")
            )
            if name == "werkgevers":
                dup = names.duplicated(keep="first")
                if dup.any():
                    counter = names.groupby(names).cumcount() + 1
                    names = names.where(~dup, names + " (" + counter.astype(str) + ")")
                    report.warnings.append(
                        f"{int(dup.sum())} dubbele werkgeversnamen genummerd, bv."
                        f" '{names[dup].iloc[0]}'"
                    )
            out["naam"] = names.to_numpy()
        elif name.startswith("beperkingen."):
            col = _field(frame, spec, "naam_veld", local, guesses=_NAME_GUESSES)
            out["naam"] = _names(frame, col, name.removeprefix("beperkingen."))
            vcol = _field(frame, spec, "waarde_veld", local)
            if vcol:
                out["waarde"] = _numeric(frame, vcol, spec, "waarde_veld", local, allow_null=False)
        elif name == "kernen":
            col = _field(frame, spec, "naam_veld", local, guesses=_NAME_GUESSES)
            out["naam"] = _names(frame, col, "kern")
            icol = _field(frame, spec, "inwoners_veld", local, required=True)
            if icol:
                out["inwoners"] = _numeric(
                    frame, icol, spec, "inwoners_veld", local, allow_null=False
                )
        elif name == "bestaande_huisvesting":
            col = _field(frame, spec, "naam_veld", local, guesses=_NAME_GUESSES)
            out["naam"] = _names(frame, col, "huisvesting")
            pcol = _field(frame, spec, "personen_veld", local, required=True)
            if pcol:
                persons = _numeric(frame, pcol, spec, "personen_veld", local)
                unknown = int(np.isnan(persons).sum())
                if unknown:
                    report.warnings.append(
                        f"{unknown} bestaande huisvestingslocaties zonder aantal personen"
                        f" ({pcol} leeg) tellen niet mee in de concentratie per kern"
                    )
                out["personen"] = persons
        elif name.startswith("voorzieningen."):
            col = _field(frame, spec, "naam_veld", local, guesses=_NAME_GUESSES)
            out["naam"] = _names(frame, col, kind_label(name.split(".", 1)[1]))
        elif name == "gemeenten":
            ncol = _field(frame, spec, "naam_veld", local, guesses=_NAME_GUESSES, required=True)
            ccol = _field(frame, spec, "code_veld", local, guesses=_CODE_GUESSES)
            rcol = _field(frame, spec, "regio_veld", local, guesses=("regio",))
            if ncol:
                out["naam"] = frame[ncol].astype("string").astype(object).to_numpy()
            out["code"] = frame[ccol].astype("string").astype(object).to_numpy() if ccol else None
            if rcol:
                out["regio"] = frame[rcol].astype("string").astype(object).to_numpy()
        problems.extend(local)
        frames[name] = out
    if problems:
        raise InputError(problems)
    return frames, reports
