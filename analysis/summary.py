"""Summary tables of a scored run: verdicts, capacity and reasons per area.

Everything here works on plain (Geo)DataFrames with the result fields of a
run (``oordeel_<type>``, ``regels_<type>``, ``capaciteit_personen``,
``gemeente``, ``gemeente_code``, ``regio``) and returns new DataFrames with
Dutch column names. No file is read or written: ``layers.publish.maps`` and
``layers.publish.report`` turn these tables into maps and reports, and a later
"capaciteit versus opgave" step joins them with the housing need.

The counts follow the run's ``telling`` in ``run.json``: every site is
judged for every stay type (``oordeel_<type>``), so the short-stay table
answers "which of all candidate sites would be suitable for short-stay?".
With ``basis="beoogd"`` only the sites planned for that stay type count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from locatietoets.analysis.vocabulary import STAY_TYPES, VERDICTS

__all__ = [
    "STAY_TYPES",
    "VERDICTS",
    "NO_VERDICT",
    "NO_GEMEENTE",
    "NO_REGION",
    "TOTAL",
    "COUNT_COLUMNS",
    "verdict_counts",
    "rules_frame",
    "exclusion_reasons",
    "region_of_areas",
]

#: Column for sites without a verdict (no geometry).
NO_VERDICT = "geen_oordeel"
#: Area label for sites outside every gemeente.
NO_GEMEENTE = "buiten de gemeenten"
#: Area label for gemeenten without a known region.
NO_REGION = "regio onbekend"
#: Area label of the total row.
TOTAL = "Totaal"

#: Count and capacity columns of :func:`verdict_counts`, in order.
COUNT_COLUMNS: tuple[str, ...] = (
    *VERDICTS,
    NO_VERDICT,
    "totaal",
    "capaciteit_geschikt",
    "capaciteit_voorwaardelijk",
    "capaciteit_onbekend",
)

Level = Literal["gemeente", "regio", "provincie"]


def _text(values: pd.Series) -> pd.Series:
    """Return ``values`` as object strings with missing/blank values as ``None``."""
    out = values.astype("object")
    out = out.where(out.notna(), None)
    return out.map(lambda v: None if v is None or str(v).strip() == "" else str(v))


def usable_capacity(sites: pd.DataFrame, stay: str | None = None) -> pd.Series:
    """The capacity of each site that the planning analyses count (persons; NaN = unknown).

    ``capaciteit_personen × vrij_aandeel``: of a polygon site that a rule
    makes unsuitable on part of its area (a part outside BBG for a permanent
    building, a part on a recreation park for mid-stay, ...) only the free
    part counts, assuming the capacity is spread evenly over the site. Points
    and sites that no ongeschikt-rule touches have ``vrij_aandeel`` 1.

    Parameters
    ----------
    sites
        Scored sites with ``capaciteit_personen`` and ``vrij_aandeel_<type>``
        (or only ``vrij_aandeel``, the site's own stay type).
    stay
        The stay type the capacity is counted for (``None``: the site's own).
    """
    if "capaciteit_personen" not in sites:
        return pd.Series(np.nan, index=sites.index)
    cap = pd.to_numeric(sites["capaciteit_personen"], errors="coerce")
    column = (
        f"vrij_aandeel_{stay}"
        if stay is not None and f"vrij_aandeel_{stay}" in sites
        else "vrij_aandeel"
    )
    if column not in sites:
        return cap
    return cap * pd.to_numeric(sites[column], errors="coerce").fillna(1.0)


def _area_keys(sites: pd.DataFrame, per: Level) -> pd.DataFrame:
    """Return ``gebied`` (and ``code`` for gemeenten) of every site."""
    n = len(sites)
    if per == "provincie":
        return pd.DataFrame({"gebied": [TOTAL] * n, "code": [None] * n}, index=sites.index)
    if per == "gemeente":
        name = (
            _text(sites["gemeente"])
            if "gemeente" in sites
            else pd.Series([None] * n, index=sites.index)
        )
        code = (
            _text(sites["gemeente_code"])
            if "gemeente_code" in sites
            else pd.Series([None] * n, index=sites.index)
        )
        name = name.where(name.notna(), code)
        return pd.DataFrame({"gebied": name.fillna(NO_GEMEENTE), "code": code}, index=sites.index)
    if per == "regio":
        region = (
            _text(sites["regio"]) if "regio" in sites else pd.Series([None] * n, index=sites.index)
        )
        return pd.DataFrame(
            {"gebied": region.fillna(NO_REGION), "code": [None] * n}, index=sites.index
        )
    raise ValueError(f"Onbekend niveau '{per}': kies gemeente, regio of provincie.")


def verdict_counts(
    sites: pd.DataFrame,
    *,
    per: Level = "gemeente",
    basis: Literal["alle", "beoogd"] = "alle",
    areas: pd.DataFrame | None = None,
    stay_types: Sequence[str] = STAY_TYPES,
) -> pd.DataFrame:
    """Count verdicts and sum capacity per area and stay type.

    Parameters
    ----------
    sites
        Scored sites with ``oordeel_<type>`` per stay type and optionally
        ``capaciteit_personen`` (persons), ``gemeente``, ``gemeente_code``,
        ``regio`` and ``verblijfstype``.
    per
        ``"gemeente"``, ``"regio"`` or ``"provincie"`` (one row per stay
        type labelled :data:`TOTAL`).
    basis
        ``"alle"``: every site is counted for every stay type (as the run's
        ``telling``). ``"beoogd"``: a site only counts for its own
        ``verblijfstype``.
    areas
        Optional table of all areas that must appear, also without sites:
        columns ``gebied`` and optionally ``code`` (gemeente level) and
        ``regio``.
    stay_types
        Stay types to count; types without an ``oordeel_<type>`` column are
        left out.

    Returns
    -------
    pandas.DataFrame
        One row per area and stay type, sorted by area then stay type, with
        columns ``niveau``, ``gebied``, ``code``, ``regio`` (gemeente level),
        ``verblijfstype`` and :data:`COUNT_COLUMNS`: the number of sites per
        verdict (``geen_oordeel``: no geometry), ``totaal``, the summed
        ``capaciteit_personen`` of geschikt and voorwaardelijk sites
        (persons), and ``capaciteit_onbekend``: geschikt or voorwaardelijk
        sites without a capacity.
    """
    keys = _area_keys(sites, per)
    if per == "gemeente":
        region = (
            _text(sites["regio"])
            if "regio" in sites
            else pd.Series([None] * len(sites), index=sites.index)
        )
        keys["regio"] = region
    own_type = _text(sites["verblijfstype"]) if "verblijfstype" in sites else None
    frames = []
    for stay in stay_types:
        column = f"oordeel_{stay}"
        if column not in sites:
            continue
        verdict = _text(sites[column]).fillna(NO_VERDICT)
        mask = np.ones(len(sites), dtype=bool)
        if basis == "beoogd":
            if own_type is None:
                raise ValueError("basis='beoogd' vraagt het veld 'verblijfstype'.")
            mask = (own_type == stay).to_numpy()
        part = keys.loc[mask, ["gebied", "code"]].copy()
        part["verblijfstype"] = stay
        v = verdict[mask]
        cap = usable_capacity(sites, stay)[mask]
        for name in (*VERDICTS, NO_VERDICT):
            part[name] = (v == name).astype("int64").to_numpy()
        part["totaal"] = 1
        part["capaciteit_geschikt"] = cap.where(v == "geschikt", 0.0).fillna(0.0).to_numpy()
        part["capaciteit_voorwaardelijk"] = (
            cap.where(v == "voorwaardelijk", 0.0).fillna(0.0).to_numpy()
        )
        part["capaciteit_onbekend"] = (
            (v.isin(["geschikt", "voorwaardelijk"]) & cap.isna()).astype("int64").to_numpy()
        )
        if per == "gemeente":
            part["regio"] = keys.loc[mask, "regio"].to_numpy()
        frames.append(part)
    value_cols = list(COUNT_COLUMNS)
    group_cols = ["gebied", "verblijfstype"]
    if frames:
        long = pd.concat(frames, ignore_index=True)
    else:
        long = pd.DataFrame(columns=["gebied", "code", "regio", "verblijfstype", *value_cols])
    agg: dict[str, Any] = {c: "sum" for c in value_cols}
    agg["code"] = "first"
    if per == "gemeente":
        agg["regio"] = "first"
    table = long.groupby(group_cols, sort=False, dropna=False).agg(agg).reset_index()
    used_types = [s for s in stay_types if f"oordeel_{s}" in sites]
    if areas is not None and len(areas):
        extra = pd.DataFrame(areas).copy()
        if "code" not in extra:
            extra["code"] = None
        if "regio" not in extra:
            extra["regio"] = None
        known = set(zip(table["gebied"], table["verblijfstype"]))
        rows = [
            {"gebied": r.gebied, "code": r.code, "regio": r.regio, "verblijfstype": stay}
            for r in extra.itertuples(index=False)
            for stay in used_types
            if (r.gebied, stay) not in known
        ]
        if rows:
            table = pd.concat([table, pd.DataFrame(rows)], ignore_index=True)
        if per == "gemeente":
            # fill a missing regio from the areas table
            lookup = dict(zip(extra["gebied"], extra["regio"]))
            missing = table["regio"].isna()
            table.loc[missing, "regio"] = table.loc[missing, "gebied"].map(lookup)
    for c in value_cols:
        table[c] = table[c].fillna(0)
    int_cols = [
        c for c in value_cols if not c.startswith("capaciteit_") or c == "capaciteit_onbekend"
    ]
    table[int_cols] = table[int_cols].astype("int64")
    for c in ("capaciteit_geschikt", "capaciteit_voorwaardelijk"):
        table[c] = table[c].astype("float64")
    table["niveau"] = per
    if per != "gemeente":
        table["regio"] = table["gebied"] if per == "regio" else None
    order = {s: i for i, s in enumerate(stay_types)}
    special = {NO_GEMEENTE: 1, NO_REGION: 1}
    table["_special"] = table["gebied"].map(special).fillna(0)
    table["_stay"] = table["verblijfstype"].map(order)
    table["_name"] = table["gebied"].astype(str).str.casefold()
    table = table.sort_values(["_special", "_name", "_stay"], kind="mergesort").drop(
        columns=["_special", "_stay", "_name"]
    )
    columns = ["niveau", "gebied", "code", "regio", "verblijfstype", *value_cols]
    return table[columns].reset_index(drop=True)


def rules_frame(rules: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Return the rules of a rule set as a table.

    Parameters
    ----------
    rules
        Rules as in ``run.json`` (``regelset.regels``): mappings with ``id``,
        ``titel``, ``soort``, ``oordeel`` ({type: verdict}), ``bron`` and
        ``betrouwbaarheid``.

    Returns
    -------
    pandas.DataFrame
        Columns ``regel``, ``titel``, ``soort``, ``oordeel_<type>`` per stay
        type, ``bron`` and ``betrouwbaarheid``, in rule-set order.
    """
    rows = []
    for rule in rules:
        row = {
            "regel": rule["id"],
            "titel": rule.get("titel", ""),
            "soort": rule.get("soort", ""),
        }
        verdicts = rule.get("oordeel") or {}
        for stay in STAY_TYPES:
            row[f"oordeel_{stay}"] = verdicts.get(stay)
        row["bron"] = rule.get("bron", "")
        row["betrouwbaarheid"] = rule.get("betrouwbaarheid", "")
        rows.append(row)
    columns = [
        "regel",
        "titel",
        "soort",
        *(f"oordeel_{s}" for s in STAY_TYPES),
        "bron",
        "betrouwbaarheid",
    ]
    return pd.DataFrame(rows, columns=columns)


def exclusion_reasons(
    sites: pd.DataFrame,
    rules: pd.DataFrame,
    *,
    stay_types: Sequence[str] = STAY_TYPES,
    per: Level = "provincie",
    top: int | None = None,
) -> pd.DataFrame:
    """Count the rules that made sites ongeschikt or voorwaardelijk.

    For each stay type the ``regels_<type>`` of every site judged
    ongeschikt or voorwaardelijk are split on ``;`` and counted. Rules that
    cannot lower a verdict for that type (the rule's own verdict is
    geschikt, e.g. warnings) are left out.

    Parameters
    ----------
    sites
        Scored sites with ``oordeel_<type>`` and ``regels_<type>``.
    rules
        Table from :func:`rules_frame` (``regel``, ``titel``,
        ``oordeel_<type>``).
    stay_types
        Stay types to count.
    per
        ``"provincie"`` (one list per stay type), ``"regio"`` or
        ``"gemeente"`` (a list per area).
    top
        Keep only the ``top`` most frequent rules per area and stay type.

    Returns
    -------
    pandas.DataFrame
        Columns ``gebied``, ``verblijfstype``, ``regel``, ``titel``,
        ``oordeel_regel`` (what the rule gives for this type), ``locaties``
        (sites where it applied, among the ongeschikt/voorwaardelijk ones),
        ``ongeschikt`` and ``voorwaardelijk`` (those sites by their final
        verdict) and ``aandeel_pct`` (``locaties`` as a percentage of all
        sites with a verdict in that area), sorted by area, stay type and
        descending count.
    """
    keys = _area_keys(sites, per)["gebied"]
    titles = dict(zip(rules["regel"], rules["titel"])) if len(rules) else {}
    frames = []
    for stay in stay_types:
        vcol, rcol = f"oordeel_{stay}", f"regels_{stay}"
        if vcol not in sites or rcol not in sites:
            continue
        verdict = _text(sites[vcol])
        judged = verdict.notna()
        n_judged = judged.groupby(keys).sum()
        lowered = verdict.isin(["ongeschikt", "voorwaardelijk"])
        part = pd.DataFrame(
            {
                "gebied": keys[lowered].to_numpy(),
                "oordeel": verdict[lowered].to_numpy(),
                "regel": _text(sites.loc[lowered, rcol]).fillna("").str.split(";").to_numpy(),
            }
        )
        part = part.explode("regel")
        part["regel"] = part["regel"].astype("object").str.strip()
        part = part[part["regel"].notna() & (part["regel"] != "")]
        rule_verdict_col = f"oordeel_{stay}"
        rule_verdict = (
            dict(zip(rules["regel"], rules[rule_verdict_col])) if rule_verdict_col in rules else {}
        )
        part["oordeel_regel"] = part["regel"].map(rule_verdict)
        part = part[part["oordeel_regel"].isna() | (part["oordeel_regel"] != "geschikt")]
        if part.empty:
            continue
        counts = (
            part.assign(
                ongeschikt=(part["oordeel"] == "ongeschikt").astype("int64"),
                voorwaardelijk=(part["oordeel"] == "voorwaardelijk").astype("int64"),
                locaties=1,
            )
            .groupby(["gebied", "regel"], sort=False)
            .agg(
                locaties=("locaties", "sum"),
                ongeschikt=("ongeschikt", "sum"),
                voorwaardelijk=("voorwaardelijk", "sum"),
                oordeel_regel=("oordeel_regel", "first"),
            )
            .reset_index()
        )
        counts["verblijfstype"] = stay
        counts["titel"] = counts["regel"].map(titles).fillna(counts["regel"])
        denominator = counts["gebied"].map(n_judged).astype("float64")
        counts["aandeel_pct"] = (100.0 * counts["locaties"] / denominator).round(1)
        frames.append(counts)
    columns = [
        "gebied",
        "verblijfstype",
        "regel",
        "titel",
        "oordeel_regel",
        "locaties",
        "ongeschikt",
        "voorwaardelijk",
        "aandeel_pct",
    ]
    if not frames:
        return pd.DataFrame(columns=columns)
    table = pd.concat(frames, ignore_index=True)
    order = {s: i for i, s in enumerate(stay_types)}
    table["_stay"] = table["verblijfstype"].map(order)
    table["_name"] = table["gebied"].astype(str).str.casefold()
    table = table.sort_values(
        ["_name", "_stay", "locaties", "regel"],
        ascending=[True, True, False, True],
        kind="mergesort",
    )
    if top is not None:
        table = table.groupby(["gebied", "verblijfstype"], sort=False).head(top)
    return table[columns].reset_index(drop=True)


def region_of_areas(
    names: pd.Series,
    codes: pd.Series,
    *,
    regions: pd.Series | None = None,
    lookup: pd.Series | None = None,
) -> pd.Series:
    """Return the region of each gemeente: its own ``regio`` value, else the lookup.

    Parameters
    ----------
    names, codes
        Gemeente names and CBS codes (same index).
    regions
        The gemeenten layer's own ``regio`` values, if it has them.
    lookup
        Regions from the rule set's gemeente table (e.g.
        ``RuleSet.region_of(codes, names)``), same order.

    Returns
    -------
    pandas.Series
        Region per gemeente; :data:`NO_REGION` where neither source knows it.
    """
    out = pd.Series([None] * len(names), index=names.index, dtype="object")
    if regions is not None:
        out = _text(pd.Series(regions.to_numpy(), index=names.index))
    if lookup is not None:
        fill = _text(pd.Series(lookup.to_numpy(), index=names.index))
        out = out.where(out.notna(), fill)
    return out.fillna(NO_REGION)
