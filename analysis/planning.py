"""Planning analyses on scored sites: capacity against demand, rule-set diff,
suitability grid and the housing effect of a business location.

Pure logic on (Geo)DataFrames and arrays: nothing here opens or writes a file
(``layers.planning_io`` does). Every function is vectorised over sites,
gemeenten or grid cells; column names and messages are Dutch, identifiers
English. All geometry is EPSG:28992 (RD New, metres).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
import math
from typing import Any

import numpy as np
import pandas as pd
import shapely

from analysis.errors import InputError, did_you_mean
from analysis.ruleset import STAY_TYPES, VERDICTS
from analysis.summary import usable_capacity

__all__ = [
    "VERDICT_CODES",
    "NO_VERDICT_CODE",
    "NO_DEMAND",
    "TOTAL_LABEL",
    "match_gemeenten",
    "capacity_balance",
    "CapacityBalance",
    "compare_runs",
    "Comparison",
    "GridSpec",
    "grid_over_area",
    "grid_sites",
    "verdict_codes",
    "plan_demand",
    "capacity_within_reach",
]

#: Verdict → raster class value (0 is nodata).
VERDICT_CODES: dict[str, int] = {"geschikt": 1, "voorwaardelijk": 2, "ongeschikt": 3}
#: Raster value of cells without a verdict.
NO_VERDICT_CODE = 0
#: Label of gemeenten without demand in the table.
NO_DEMAND = "geen opgave"
#: Label of the total row.
TOTAL_LABEL = "Totaal"
_NO_REGION = "regio onbekend"


def _stay_label(stay: str) -> str:
    return stay.replace("_", "-")


def _text(values: pd.Series) -> pd.Series:
    out = values.astype("object")
    return out.where(out.notna(), None).map(lambda v: None if v is None or str(v).strip() == "" else str(v).strip())


# ---------------------------------------------------------------------------
# 1. Capacity against demand
# ---------------------------------------------------------------------------


def match_gemeenten(keys: Sequence[Any], *, names: Sequence[Any], codes: Sequence[Any], what: str = "behoeftetabel") -> np.ndarray:
    """Find each key (gemeente name or CBS code) among the gemeenten.

    Matching is case-insensitive; a code matches ``GM0983`` and ``gm0983``,
    a name ignores surrounding spaces.

    Parameters
    ----------
    keys
        Gemeente names or CBS codes as written by the user.
    names, codes
        Names and CBS codes of the known gemeenten (same order).
    what
        Where the keys come from, for the error message.

    Returns
    -------
    numpy.ndarray
        For each key the position of its gemeente in ``names``.

    Raises
    ------
    InputError
        Listing every unknown key (with a "bedoelde u" hint) and every
        gemeente that occurs more than once.
    """
    name_list = ["" if pd.isna(n) else str(n).strip() for n in names]
    code_list = ["" if pd.isna(c) else str(c).strip() for c in codes]
    lookup: dict[str, int] = {}
    for i, name in enumerate(name_list):
        if name:
            lookup.setdefault(name.casefold(), i)
    for i, code in enumerate(code_list):
        if code:
            lookup[code.casefold()] = i
    key_text = pd.Series(["" if pd.isna(k) else str(k).strip() for k in keys], dtype="object")
    found = key_text.str.casefold().map(lookup)
    problems = []
    unknown = key_text[found.isna()]
    if len(unknown):
        options = [n for n in name_list if n] + [c for c in code_list if c]
        listed = "; ".join(
            f"'{k}'{did_you_mean(k, options)}" if k else "(lege naam)" for k in unknown.tolist()
        )
        problems.append(
            f"{len(unknown)} onbekende gemeente(n) in de {what}: {listed}. Gebruik de gemeentenaam of CBS-code "
            f"(GMxxxx) zoals in de gemeentelaag van de run; bekend zijn o.a.: {', '.join(sorted(n for n in name_list if n)[:40])}."
        )
    positions = found.dropna().astype(int)
    dup = positions[positions.duplicated(keep=False)]
    if len(dup):
        groups = dup.groupby(dup).groups
        for pos, idx in groups.items():
            written = ", ".join(f"'{key_text[i]}'" for i in idx)
            problems.append(
                f"Gemeente '{name_list[pos] or code_list[pos]}' staat meer dan eens in de {what} ({written}). "
                "Geef per gemeente één regel."
            )
    if problems:
        raise InputError(problems)
    return found.astype(int).to_numpy()


@dataclass
class CapacityBalance:
    """Capacity against demand per gemeente and per region.

    Attributes
    ----------
    gemeenten
        One row per gemeente (order of the gemeenten layer): ``naam``,
        ``code``, ``regio``, per stay type ``behoefte_<type>``,
        ``capaciteit_geschikt_<type>``, ``capaciteit_voorwaardelijk_<type>``,
        ``saldo_<type>`` (geschikt − behoefte; negative is a shortfall),
        ``saldo_incl_voorwaardelijk_<type>`` and ``tekort_<type>``
        (max(0, −saldo)); totals ``behoefte_totaal``,
        ``capaciteit_geschikt_totaal``, ``capaciteit_voorwaardelijk_totaal``,
        ``tekort_totaal`` (sum of the shortfalls per stay type, so a surplus
        of one stay type never hides the shortfall of another),
        ``tekort_incl_voorwaardelijk_totaal``, ``locaties_zonder_capaciteit``
        and ``behoefte_opgegeven``. All in persons. Demand of a stay type the
        table does not give is NaN, and so are its saldo and shortfall.
    regios
        The same per region plus a :data:`TOTAL_LABEL` row (``regio``);
        demand not given counts as 0 there, ``gemeenten_zonder_opgave``
        counts those gemeenten. ``gemeenten_met_tekort`` counts gemeenten with
        a shortfall of any stay type.
    outside
        Sites with capacity that lie in no gemeente of the layer (not counted).
    basis
        ``"beoogd"`` or ``"alle"`` (see :func:`capacity_balance`).
    stay_types
        The stay types the demand table gives.
    """

    gemeenten: pd.DataFrame
    regios: pd.DataFrame
    outside: int
    basis: str
    stay_types: tuple[str, ...]


def _site_gemeente_position(sites: pd.DataFrame, names: pd.Series, codes: pd.Series) -> np.ndarray:
    """Position of each site's gemeente in the layer (−1 when none), by code, else by name."""
    pos = pd.Series(-1, index=sites.index, dtype="int64")
    if "gemeente_code" in sites and codes.notna().any():
        lookup = {str(c).strip().upper(): i for i, c in enumerate(codes) if pd.notna(c)}
        by_code = _text(sites["gemeente_code"]).str.upper().map(lookup)
        pos = by_code.fillna(-1).astype("int64")
    if "gemeente" in sites:
        lookup = {str(n).strip().casefold(): i for i, n in enumerate(names) if pd.notna(n)}
        by_name = _text(sites["gemeente"]).str.casefold().map(lookup).fillna(-1).astype("int64")
        pos = pos.where(pos >= 0, by_name)
    return pos.to_numpy()


def capacity_balance(
    sites: pd.DataFrame,
    demand: pd.DataFrame,
    gemeenten: pd.DataFrame,
    *,
    basis: str = "beoogd",
) -> CapacityBalance:
    """Compare the capacity of suitable sites with the demand per gemeente and region.

    Capacity per gemeente and stay type s::

        capaciteit_geschikt_s       = Σ capaciteit_personen × vrij_aandeel_s of sites with oordeel_s = geschikt
        capaciteit_voorwaardelijk_s = Σ capaciteit_personen × vrij_aandeel_s of sites with oordeel_s = voorwaardelijk
        saldo_s                     = capaciteit_geschikt_s − behoefte_s
        tekort_s                    = max(0, −saldo_s)

    Parameters
    ----------
    sites
        Scored sites with ``oordeel_<type>``, ``capaciteit_personen``
        (persons; sites without it add nothing and are counted in
        ``locaties_zonder_capaciteit``), ``verblijfstype`` and
        ``gemeente_code`` and/or ``gemeente``.
    demand
        One row per gemeente with ``positie`` (position in ``gemeenten``, see
        :func:`match_gemeenten`) and the need in persons per stay type as
        columns named after the stay types (a subset is allowed).
    gemeenten
        The gemeenten with ``naam``, ``code`` and ``regio`` (all gemeenten
        appear in the result, also without demand or sites).
    basis
        ``"beoogd"`` (default): a site's capacity counts only for its own
        ``verblijfstype``, so no bed is counted twice. ``"alle"``: every
        site counts for every stay type it is suitable for (what the
        location could offer if it were built for that type).

    Returns
    -------
    CapacityBalance
    """
    if basis not in ("beoogd", "alle"):
        raise InputError(f"Onbekende basis '{basis}': kies 'beoogd' of 'alle'.")
    stays = tuple(s for s in STAY_TYPES if s in demand.columns)
    if not stays:
        raise InputError(
            "De behoeftetabel heeft geen kolom per verblijfstype; verwacht minstens één van "
            f"{', '.join(STAY_TYPES)}."
        )
    gem = pd.DataFrame(
        {
            "naam": gemeenten["naam"].astype("object").to_numpy(),
            "code": gemeenten["code"].astype("object").to_numpy() if "code" in gemeenten else None,
            "regio": gemeenten["regio"].astype("object").to_numpy() if "regio" in gemeenten else None,
        }
    )
    gem["regio"] = gem["regio"].where(gem["regio"].notna(), _NO_REGION)
    n_gem = len(gem)
    pos = _site_gemeente_position(sites, gem["naam"], gem["code"])
    own = _text(sites["verblijfstype"]).to_numpy(dtype=object) if "verblijfstype" in sites else np.full(len(sites), None, dtype=object)
    inside = pos >= 0
    unknown_capacity = np.zeros(n_gem, dtype=np.int64)
    outside = 0
    for stay in STAY_TYPES:
        # only the part of a site where no ongeschikt-rule applies counts (usable_capacity)
        capacity = usable_capacity(sites, stay).to_numpy(dtype=float)
        cap0 = np.nan_to_num(capacity, nan=0.0)
        column = f"oordeel_{stay}"
        verdict = _text(sites[column]).to_numpy(dtype=object) if column in sites else np.full(len(sites), None, dtype=object)
        counts = np.ones(len(sites), dtype=bool) if basis == "alle" else (own == stay)
        for v in ("geschikt", "voorwaardelijk"):
            sel = counts & inside & (verdict == v)
            gem[f"capaciteit_{v}_{stay}"] = np.bincount(pos[sel], weights=cap0[sel], minlength=n_gem)
        usable = counts & np.isin(verdict, ["geschikt", "voorwaardelijk"])
        unknown_capacity += np.bincount(pos[usable & inside & np.isnan(capacity)], minlength=n_gem)
        outside += int((usable & ~inside & (cap0 > 0)).sum())
    gem["locaties_zonder_capaciteit"] = unknown_capacity
    given = np.zeros(n_gem, dtype=bool)
    given[demand["positie"].to_numpy(dtype=int)] = True
    gem["behoefte_opgegeven"] = given
    for stay in STAY_TYPES:
        need = np.full(n_gem, np.nan)
        if stay in stays:
            need[demand["positie"].to_numpy(dtype=int)] = demand[stay].to_numpy(dtype=float)
        gem[f"behoefte_{stay}"] = need
    _add_balance(gem)
    regios = _region_table(gem)
    ordered = ["naam", "code", "regio"] + _value_columns() + ["locaties_zonder_capaciteit", "behoefte_opgegeven"]
    return CapacityBalance(gemeenten=gem[ordered], regios=regios, outside=outside, basis=basis, stay_types=stays)


def _value_columns() -> list[str]:
    cols = []
    for stay in STAY_TYPES:
        cols += [
            f"behoefte_{stay}",
            f"capaciteit_geschikt_{stay}",
            f"capaciteit_voorwaardelijk_{stay}",
            f"saldo_{stay}",
            f"saldo_incl_voorwaardelijk_{stay}",
            f"tekort_{stay}",
        ]
    return cols + [
        "behoefte_totaal",
        "capaciteit_geschikt_totaal",
        "capaciteit_voorwaardelijk_totaal",
        "tekort_totaal",
        "tekort_incl_voorwaardelijk_totaal",
    ]


def _add_balance(table: pd.DataFrame) -> None:
    for stay in STAY_TYPES:
        need = table[f"behoefte_{stay}"]
        table[f"saldo_{stay}"] = table[f"capaciteit_geschikt_{stay}"] - need
        table[f"saldo_incl_voorwaardelijk_{stay}"] = table[f"saldo_{stay}"] + table[f"capaciteit_voorwaardelijk_{stay}"]
        table[f"tekort_{stay}"] = (-table[f"saldo_{stay}"]).clip(lower=0)
    need = table[[f"behoefte_{s}" for s in STAY_TYPES]]
    has_need = need.notna().any(axis=1)
    table["behoefte_totaal"] = need.sum(axis=1, min_count=1)
    table["capaciteit_geschikt_totaal"] = table[[f"capaciteit_geschikt_{s}" for s in STAY_TYPES]].sum(axis=1)
    table["capaciteit_voorwaardelijk_totaal"] = table[[f"capaciteit_voorwaardelijk_{s}" for s in STAY_TYPES]].sum(axis=1)
    table["tekort_totaal"] = table[[f"tekort_{s}" for s in STAY_TYPES]].sum(axis=1, min_count=1).where(has_need)
    short_incl = pd.concat([(-table[f"saldo_incl_voorwaardelijk_{s}"]).clip(lower=0) for s in STAY_TYPES], axis=1)
    table["tekort_incl_voorwaardelijk_totaal"] = short_incl.sum(axis=1, min_count=1).where(has_need)


def _region_table(gem: pd.DataFrame) -> pd.DataFrame:
    sums = [c for c in gem.columns if c.startswith(("behoefte_", "capaciteit_")) and c != "behoefte_opgegeven" and not c.endswith("_totaal")]
    work = gem.copy()
    work["_tekort"] = (work[[f"tekort_{s}" for s in STAY_TYPES]].fillna(0) > 0).any(axis=1)
    work["_zonder"] = ~work["behoefte_opgegeven"]
    grouped = work.groupby("regio", sort=True, dropna=False)
    region = grouped[sums].sum(min_count=0)
    # demand of a stay type that no gemeente in the region gives stays NaN
    for stay in STAY_TYPES:
        region[f"behoefte_{stay}"] = grouped[f"behoefte_{stay}"].sum(min_count=1)
    region["locaties_zonder_capaciteit"] = grouped["locaties_zonder_capaciteit"].sum()
    region["gemeenten"] = grouped.size()
    region["gemeenten_met_tekort"] = grouped["_tekort"].sum()
    region["gemeenten_zonder_opgave"] = grouped["_zonder"].sum()
    total = region.sum(axis=0, min_count=1).to_frame().T
    for stay in STAY_TYPES:
        total[f"behoefte_{stay}"] = region[f"behoefte_{stay}"].sum(min_count=1)
    total.index = [TOTAL_LABEL]
    region = pd.concat([region, total])
    region.index.name = "regio"
    region = region.reset_index()
    _add_balance(region)
    for col in ("locaties_zonder_capaciteit", "gemeenten", "gemeenten_met_tekort", "gemeenten_zonder_opgave"):
        region[col] = region[col].astype("int64")
    return region[["regio"] + _value_columns() + ["gemeenten", "gemeenten_met_tekort", "gemeenten_zonder_opgave", "locaties_zonder_capaciteit"]]


# ---------------------------------------------------------------------------
# 2. Comparing two runs (e.g. two rule sets)
# ---------------------------------------------------------------------------


@dataclass
class Comparison:
    """The differences between run A and run B on the same sites.

    Attributes
    ----------
    sites
        One row per common site: ``locatie_id``, ``gemeente``,
        ``gemeente_code``, ``regio``, ``verblijfstype``, per stay type
        ``oordeel_<type>_a``/``_b``, ``score_<type>_a``/``_b``,
        ``gewijzigd_<type>``, ``regels_erbij_<type>``,
        ``regels_vervallen_<type>``, ``regels_anders_<type>`` (fired in both
        runs, but their definition differs), then ``gewijzigd`` (any stay
        type), ``wijziging`` and ``oorzaak`` (Dutch), ``positie_a`` and
        ``positie_b`` (row in each run).
    transitions
        Long table ``gebied``, ``gemeente_code``, ``verblijfstype``, ``van``,
        ``naar``, ``aantal`` with a :data:`TOTAL_LABEL` area for all sites.
    per_gemeente
        Per gemeente and stay type: ``ongewijzigd``, ``strenger`` (worse
        verdict in B), ``soepeler`` (better verdict in B).
    parameters
        Effective parameters that differ: ``parameter``, ``waarde_a``,
        ``waarde_b``, ``herkomst_a``, ``herkomst_b`` (regelset or config).
    rules
        Rule definitions that differ: ``regel``, ``wat``, ``a``, ``b``;
        verdicts and penalties, and also titles, reasons and sources.
    masked
        Parameters (``gemeente`` empty) and per-gemeente values whose two
        rule sets differ while a config value decides in A or B:
        ``parameter``, ``gemeente``, ``regelset_a``, ``regelset_b``,
        ``waarde_a``, ``waarde_b``, ``herkomst_a``, ``herkomst_b``,
        ``toelichting`` (Dutch; also in ``notes``).
    only_a, only_b
        ``locatie_id`` values present in one run only.
    notes
        Dutch remarks for the summary (e.g. sites left out).
    """

    sites: pd.DataFrame
    transitions: pd.DataFrame
    per_gemeente: pd.DataFrame
    parameters: pd.DataFrame
    rules: pd.DataFrame
    masked: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_MASKED_COLUMNS))
    only_a: list[Any] = field(default_factory=list)
    only_b: list[Any] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> pd.DataFrame:
        """The sites whose verdict changed for at least one stay type."""
        return self.sites[self.sites["gewijzigd"]]


def _fmt_value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_fmt_value(v)}" for k, v in value.items())
    return str(value)


def _diff_parameters(params_a: Mapping[str, Any], params_b: Mapping[str, Any]) -> pd.DataFrame:
    rows = []
    for name in list(params_a) + [p for p in params_b if p not in params_a]:
        a, b = params_a.get(name, "(ontbreekt)"), params_b.get(name, "(ontbreekt)")
        if a != b:
            rows.append({"parameter": name, "waarde_a": _fmt_value(a), "waarde_b": _fmt_value(b)})
    return pd.DataFrame(rows, columns=["parameter", "waarde_a", "waarde_b"])


def _diff_rules(rules_a: Sequence[Mapping[str, Any]], rules_b: Sequence[Mapping[str, Any]]) -> tuple[pd.DataFrame, dict[str, set[str]]]:
    """Rule definitions that differ, and per stay type the ids whose verdict/penalty differs."""
    a = {r["id"]: r for r in rules_a}
    b = {r["id"]: r for r in rules_b}
    rows = []
    changed: dict[str, set[str]] = {s: set() for s in STAY_TYPES}
    for rid in list(a) + [r for r in b if r not in a]:
        if rid not in b:
            rows.append({"regel": rid, "wat": "regel", "a": "aanwezig", "b": "ontbreekt"})
            continue
        if rid not in a:
            rows.append({"regel": rid, "wat": "regel", "a": "ontbreekt", "b": "aanwezig"})
            continue
        ra, rb = a[rid], b[rid]
        for key, label in (("oordeel", "oordeel"), ("strafpunten", "strafpunten")):
            va, vb = dict(ra.get(key) or {}), dict(rb.get(key) or {})
            for stay in STAY_TYPES:
                if va.get(stay) != vb.get(stay):
                    rows.append({"regel": rid, "wat": f"{label} {_stay_label(stay)}", "a": _fmt_value(va.get(stay)), "b": _fmt_value(vb.get(stay))})
                    changed[stay].add(rid)
        if ra.get("soort") != rb.get("soort"):
            rows.append({"regel": rid, "wat": "soort", "a": str(ra.get("soort")), "b": str(rb.get("soort"))})
            for stay in STAY_TYPES:
                changed[stay].add(rid)
        # texts: they change what a reason says and cites, not the verdict (older run records lack some keys)
        if "reden" in ra and "reden" in rb:
            va, vb = dict(ra.get("reden") or {}), dict(rb.get("reden") or {})
            for stay in STAY_TYPES:
                if va.get(stay) != vb.get(stay):
                    rows.append({"regel": rid, "wat": f"reden {_stay_label(stay)}", "a": str(va.get(stay)), "b": str(vb.get(stay))})
        for key, label in (("titel", "titel"), ("bron", "bron"), ("bron_kort", "bron kort"), ("betrouwbaarheid", "betrouwbaarheid")):
            if key in ra and key in rb and ra.get(key) != rb.get(key):
                rows.append({"regel": rid, "wat": label, "a": str(ra.get(key)), "b": str(rb.get(key))})
    return pd.DataFrame(rows, columns=["regel", "wat", "a", "b"]), changed


_MASKED_COLUMNS = ["parameter", "gemeente", "regelset_a", "regelset_b", "waarde_a", "waarde_b", "herkomst_a", "herkomst_b", "toelichting"]


def _masked_parameters(rs_a: Mapping[str, Any], rs_b: Mapping[str, Any]) -> pd.DataFrame:
    """Parameters whose rule-set values differ between A and B while a config value decides in A or B.

    Such a difference between the two rule sets is hidden by the config: the
    comparison does not test it (issue 13: the demo config sets
    ``bbg_rand_m = 250`` while the draft rule set says 150). Uses the run
    records' ``parameters_herkomst``, ``regelset_gemeente_waarden`` and
    ``gemeente_parameters`` (older records without them give no rows).
    """
    oa, ob = rs_a.get("parameters_herkomst") or {}, rs_b.get("parameters_herkomst") or {}
    rows = []

    def add(name: str, gemeente: str, ra: Any, rb: Any, wa: Any, wb: Any, ha: str, hb: str) -> None:
        where = f"Parameter '{name}'" + (f" voor gemeente '{gemeente}'" if gemeente else "")
        configs = [side for side, h in (("A", ha), ("B", hb)) if h.startswith("config")]
        if wa == wb:
            tail = (f"maar de configuratie zet in beide runs {_fmt_value(wa)}" if len(configs) == 2
                    else f"maar de configuratie van run {configs[0]} zet {_fmt_value(wa)}")
            tail += ": het verschil tussen de regelsets is gemaskeerd en in deze vergelijking niet getoetst."
        else:
            tail = (f"maar de configuratie van run {' en '.join(configs)} overschrijft dit (A gebruikt {_fmt_value(wa)}, "
                    f"B {_fmt_value(wb)}): het verschil in de uitkomst komt niet (alleen) van de regelsets.")
        text = f"{where}: regelset A zegt {_fmt_value(ra)}, regelset B {_fmt_value(rb)}, {tail}"
        rows.append({"parameter": name, "gemeente": gemeente, "regelset_a": _fmt_value(ra), "regelset_b": _fmt_value(rb),
                     "waarde_a": _fmt_value(wa), "waarde_b": _fmt_value(wb), "herkomst_a": ha, "herkomst_b": hb, "toelichting": text})

    for name in [n for n in oa if n in ob]:
        a, b = oa[name], ob[name]
        if a.get("regelset_waarde") == b.get("regelset_waarde"):
            continue
        ha, hb = str(a.get("herkomst", "regelset")), str(b.get("herkomst", "regelset"))
        if "config" in (ha, hb):
            add(name, "", a.get("regelset_waarde"), b.get("regelset_waarde"), a.get("waarde"), b.get("waarde"), ha, hb)

    own_a, own_b = rs_a.get("regelset_gemeente_waarden"), rs_b.get("regelset_gemeente_waarden")
    if own_a is None or own_b is None:
        return pd.DataFrame(rows, columns=_MASKED_COLUMNS)
    eff_a, eff_b = rs_a.get("gemeente_parameters") or {}, rs_b.get("gemeente_parameters") or {}

    def effective(origins: Mapping[str, Any], eff: Mapping[str, Any], key: str, name: str) -> tuple[Any, str]:
        entry = ((eff.get(key) or {}).get("parameters") or {}).get(name)
        if entry is not None:
            return entry.get("waarde"), str(entry.get("herkomst", "regelset-gemeente"))
        province = origins.get(name) or {}
        return province.get("waarde"), str(province.get("herkomst", "regelset"))

    for key in list(own_a) + [k for k in own_b if k not in own_a]:
        table_a = (own_a.get(key) or {}).get("parameters") or {}
        table_b = (own_b.get(key) or {}).get("parameters") or {}
        for name in list(table_a) + [n for n in table_b if n not in table_a]:
            if name not in oa or name not in ob:
                continue
            ra = table_a.get(name, (oa[name] or {}).get("regelset_waarde"))
            rb = table_b.get(name, (ob[name] or {}).get("regelset_waarde"))
            if ra == rb:
                continue
            wa, ha = effective(oa, eff_a, key, name)
            wb, hb = effective(ob, eff_b, key, name)
            if ha.startswith("config") or hb.startswith("config"):
                naam = str((own_b.get(key) or own_a.get(key) or {}).get("naam", key))
                add(name, naam if naam == key else f"{naam} ({key})", ra, rb, wa, wb, ha, hb)
    return pd.DataFrame(rows, columns=_MASKED_COLUMNS)


def _explode_rules(values: pd.Series, positions: np.ndarray) -> pd.DataFrame:
    text = values.astype("object").where(values.notna(), "").astype(str).to_numpy()
    frame = pd.DataFrame({"pos": positions, "regel": text})
    frame["regel"] = frame["regel"].str.split(";")
    frame = frame.explode("regel")
    frame["regel"] = frame["regel"].str.strip()
    return frame[frame["regel"] != ""].drop_duplicates()


def _join_per_site(frame: pd.DataFrame, n: int) -> np.ndarray:
    out = np.full(n, "", dtype=object)
    if len(frame):
        joined = frame.sort_values(["pos", "regel"]).groupby("pos")["regel"].agg(";".join)
        out[joined.index.to_numpy(dtype=int)] = joined.to_numpy()
    return out


def compare_runs(
    sites_a: pd.DataFrame,
    sites_b: pd.DataFrame,
    *,
    record_a: Mapping[str, Any],
    record_b: Mapping[str, Any],
    allow_different_sites: bool = False,
) -> Comparison:
    """Compare the verdicts of two runs on the same sites.

    A site "changed" for stay type s when ``oordeel_s`` differs. The rules
    that changed it are the rule ids in ``regels_s`` of B but not A
    (``regels_erbij``), in A but not B (``regels_vervallen``) and those
    fired in both whose definition (verdict, penalty) differs between the
    two rule sets (``regels_anders``). Parameter differences are listed for
    the whole comparison.

    Parameters
    ----------
    sites_a, sites_b
        The ``locaties`` layers of the runs (``locatie_id``,
        ``oordeel_<type>``, ``regels_<type>``, optionally ``score_<type>``,
        ``gemeente``, ``gemeente_code``, ``regio``, ``verblijfstype``).
    record_a, record_b
        The runs' ``run.json``; uses ``regelset`` and
        ``invoer.locaties.sha256``.
    allow_different_sites
        Compare the common ``locatie_id`` values when the runs have
        different sites (the left-out count goes into ``notes``); without it
        such runs raise an error.

    Raises
    ------
    InputError
        When the runs are not on the same sites (and ``allow_different_sites``
        is False), or a run lacks ``locatie_id``.
    """
    for label, frame in (("A", sites_a), ("B", sites_b)):
        if "locatie_id" not in frame:
            raise InputError(f"Run {label} heeft geen veld 'locatie_id'. Is dit de uitvoer van 'locatietoets score'?")
    ids_a = sites_a["locatie_id"].astype(str).to_numpy()
    ids_b = sites_b["locatie_id"].astype(str).to_numpy()
    set_a, set_b = set(ids_a), set(ids_b)
    only_a = sorted(set_a - set_b)
    only_b = sorted(set_b - set_a)
    sha_a = ((record_a.get("invoer") or {}).get("locaties") or {}).get("sha256")
    sha_b = ((record_b.get("invoer") or {}).get("locaties") or {}).get("sha256")
    notes: list[str] = []
    problems = []
    if only_a or only_b:
        common = len(set_a & set_b)
        problems.append(
            f"De runs zijn niet op dezelfde locaties gedraaid: {len(only_a)} locatie-id's alleen in A "
            f"(bv. {', '.join(only_a[:5]) or '-'}), {len(only_b)} alleen in B (bv. {', '.join(only_b[:5]) or '-'}); "
            f"{common} gemeenschappelijk."
        )
    elif sha_a and sha_b and sha_a != sha_b:
        problems.append(
            "De runs hebben dezelfde locatie-id's, maar het invoerbestand van de locaties verschilt "
            f"(controlegetal A {sha_a[:12]}…, B {sha_b[:12]}…): geometrie of plangegevens kunnen anders zijn."
        )
    if problems:
        if not allow_different_sites:
            raise InputError(
                problems[0] + " Vergelijk twee runs op hetzelfde locatiebestand, of geef --toch om alleen de "
                "gemeenschappelijke locaties te vergelijken."
            )
        notes.append(problems[0] + " Met --toch zijn alleen de gemeenschappelijke locaties vergeleken.")
        if only_a or only_b:
            notes.append(f"Weggelaten: {len(only_a)} locaties alleen in A en {len(only_b)} alleen in B.")
    for label, ids in (("A", ids_a), ("B", ids_b)):
        dup = pd.Series(ids).duplicated()
        if dup.any():
            raise InputError(f"Run {label} heeft dubbele locatie-id's (bv. '{ids[dup.to_numpy()][0]}'); vergelijken kan alleen op unieke id's.")

    pos_b_of = pd.Series(np.arange(len(ids_b)), index=ids_b)
    keep_a = np.flatnonzero(np.isin(ids_a, list(set_b)) if only_a or only_b else np.ones(len(ids_a), dtype=bool))
    pos_a = keep_a
    pos_b = pos_b_of.loc[ids_a[keep_a]].to_numpy()
    a = sites_a.iloc[pos_a].reset_index(drop=True)
    b = sites_b.iloc[pos_b].reset_index(drop=True)
    n = len(a)

    rs_a = record_a.get("regelset") or {}
    rs_b = record_b.get("regelset") or {}
    parameters = _diff_parameters(rs_a.get("parameters") or {}, rs_b.get("parameters") or {})
    origins_a, origins_b = rs_a.get("parameters_herkomst") or {}, rs_b.get("parameters_herkomst") or {}
    parameters["herkomst_a"] = [str((origins_a.get(p) or {}).get("herkomst", "")) for p in parameters["parameter"]]
    parameters["herkomst_b"] = [str((origins_b.get(p) or {}).get("herkomst", "")) for p in parameters["parameter"]]
    masked = _masked_parameters(rs_a, rs_b)
    notes.extend(masked["toelichting"].tolist())
    rules, changed_defs = _diff_rules(rs_a.get("regels") or [], rs_b.get("regels") or [])
    if rs_a.get("vingerafdruk") and rs_a.get("vingerafdruk") == rs_b.get("vingerafdruk"):
        notes.append("Beide runs gebruiken dezelfde regelset met dezelfde waarden (gelijke vingerafdruk).")
    elif parameters.empty and rules.empty and masked.empty and rs_a.get("vingerafdruk") != rs_b.get("vingerafdruk"):
        notes.append("De regelsets verschillen alleen in per-gemeente waarden of in id/versie (zie run.json).")

    out = pd.DataFrame({"locatie_id": a["locatie_id"].to_numpy()})
    for col in ("gemeente", "gemeente_code", "regio", "verblijfstype"):
        out[col] = (b[col] if col in b else a[col] if col in a else pd.Series([None] * n)).astype("object").to_numpy()
    positions = np.arange(n)
    any_changed = np.zeros(n, dtype=bool)
    change_text = [np.full(n, "", dtype=object)]
    cause_parts = []
    for stay in STAY_TYPES:
        col = f"oordeel_{stay}"
        va = _text(a[col]) if col in a else pd.Series([None] * n)
        vb = _text(b[col]) if col in b else pd.Series([None] * n)
        out[f"{col}_a"] = va.to_numpy()
        out[f"{col}_b"] = vb.to_numpy()
        for side, frame in (("a", a), ("b", b)):
            sc = f"score_{stay}"
            out[f"{sc}_{side}"] = pd.to_numeric(frame[sc], errors="coerce").to_numpy() if sc in frame else np.nan
        changed = (va.fillna("") != vb.fillna("")).to_numpy()
        out[f"gewijzigd_{stay}"] = changed
        any_changed |= changed
        rc = f"regels_{stay}"
        ra = _explode_rules(a[rc] if rc in a else pd.Series([""] * n), positions)
        rb = _explode_rules(b[rc] if rc in b else pd.Series([""] * n), positions)
        merged = ra.merge(rb, on=["pos", "regel"], how="outer", indicator=True)
        added = _join_per_site(merged[merged["_merge"] == "right_only"], n)
        removed = _join_per_site(merged[merged["_merge"] == "left_only"], n)
        both = merged[(merged["_merge"] == "both") & merged["regel"].isin(changed_defs[stay])]
        redefined = _join_per_site(both, n)
        out[f"regels_erbij_{stay}"] = added
        out[f"regels_vervallen_{stay}"] = removed
        out[f"regels_anders_{stay}"] = redefined
        label = _stay_label(stay)
        text = np.where(changed, label + ": " + va.fillna("geen oordeel").to_numpy(dtype=object) + " → " + vb.fillna("geen oordeel").to_numpy(dtype=object), "")
        change_text.append(text)
        cause = pd.Series("", index=range(n), dtype=object)
        for values, what in ((added, "regel erbij"), (removed, "regel vervallen"), (redefined, "regel anders gedefinieerd")):
            part = pd.Series(values, dtype=object)
            has = (part != "") & pd.Series(changed)
            cause = cause.where(~has, cause + np.where(cause != "", ", ", "") + what + " " + part.str.replace(";", ", ", regex=False))
        unexplained = pd.Series(changed) & (cause == "")
        cause = cause.where(~unexplained, "andere parameterwaarde of invoer (zelfde regels gevuurd)")
        cause_parts.append(np.where(changed, label + ": " + cause.to_numpy(dtype=object), ""))
    out["gewijzigd"] = any_changed
    out["wijziging"] = _join_nonempty(change_text[1:])
    out["oorzaak"] = _join_nonempty(cause_parts)
    out["positie_a"] = pos_a
    out["positie_b"] = pos_b

    transitions, per_gem = _transitions(out)
    return Comparison(
        sites=out,
        transitions=transitions,
        per_gemeente=per_gem,
        parameters=parameters,
        rules=rules,
        masked=masked,
        only_a=only_a,
        only_b=only_b,
        notes=notes,
    )


def _join_nonempty(parts: Sequence[np.ndarray]) -> np.ndarray:
    """Join per-site texts with '; ', skipping empty ones (vectorised over sites)."""
    result = np.asarray(parts[0], dtype=object)
    for part in parts[1:]:
        part = np.asarray(part, dtype=object)
        both = (result != "") & (part != "")
        result = np.where(both, result + "; " + part, np.where(part != "", part, result))
    return result


def _transitions(sites: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    area = _text(sites["gemeente"]).fillna("buiten de gemeenten")
    code = _text(sites["gemeente_code"])
    rows = []
    counts = []
    severity = {v: i for i, v in enumerate(VERDICTS)}
    for stay in STAY_TYPES:
        van = _text(sites[f"oordeel_{stay}_a"]).fillna("geen oordeel")
        naar = _text(sites[f"oordeel_{stay}_b"]).fillna("geen oordeel")
        frame = pd.DataFrame({"gebied": area, "gemeente_code": code, "verblijfstype": stay, "van": van, "naar": naar})
        rows.append(frame)
        sa = van.map(severity)
        sb = naar.map(severity)
        c = pd.DataFrame(
            {
                "gebied": area,
                "gemeente_code": code,
                "verblijfstype": stay,
                "ongewijzigd": (van == naar).astype(int),
                "strenger": (sb > sa).astype(int),
                "soepeler": (sb < sa).astype(int),
                "anders": ((van != naar) & (sa.isna() | sb.isna())).astype(int),
            }
        )
        counts.append(c)
    long = pd.concat(rows, ignore_index=True)
    per_area = long.groupby(["gebied", "verblijfstype", "van", "naar"], dropna=False).size().rename("aantal").reset_index()
    codes = long.drop_duplicates("gebied").set_index("gebied")["gemeente_code"]
    per_area["gemeente_code"] = per_area["gebied"].map(codes)
    total = long.groupby(["verblijfstype", "van", "naar"]).size().rename("aantal").reset_index()
    total["gebied"] = TOTAL_LABEL
    total["gemeente_code"] = None
    transitions = pd.concat([per_area, total], ignore_index=True)[["gebied", "gemeente_code", "verblijfstype", "van", "naar", "aantal"]]
    per_gem = pd.concat(counts, ignore_index=True).groupby(["gebied", "verblijfstype"], sort=True).agg(
        gemeente_code=("gemeente_code", "first"),
        ongewijzigd=("ongewijzigd", "sum"),
        strenger=("strenger", "sum"),
        soepeler=("soepeler", "sum"),
        anders=("anders", "sum"),
    ).reset_index()
    order = {s: i for i, s in enumerate(STAY_TYPES)}
    per_gem = per_gem.sort_values(["gebied", "verblijfstype"], key=lambda s: s.map(order) if s.name == "verblijfstype" else s.str.casefold(), kind="mergesort")
    return transitions, per_gem.reset_index(drop=True)


# ---------------------------------------------------------------------------
# 3. Suitability grid
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GridSpec:
    """A north-up grid in EPSG:28992.

    Attributes
    ----------
    west, north
        Coordinates (m) of the grid's upper-left corner; multiples of ``cell_m``.
    cell_m
        Cell size in metres.
    width, height
        Number of columns and rows.
    """

    west: float
    north: float
    cell_m: float
    width: int
    height: int

    @property
    def transform(self) -> tuple[float, float, float, float, float, float]:
        """Affine coefficients (a, b, c, d, e, f) as used by rasterio."""
        return (self.cell_m, 0.0, self.west, 0.0, -self.cell_m, self.north)

    def centres(self, flat_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre coordinates (m) of the cells at ``flat_index`` (row-major)."""
        row, col = np.divmod(np.asarray(flat_index, dtype=np.int64), self.width)
        return self.west + (col + 0.5) * self.cell_m, self.north - (row + 0.5) * self.cell_m


def grid_over_area(area: shapely.Geometry, *, cell_m: float, max_cells: int = 50_000_000) -> tuple[GridSpec, np.ndarray]:
    """Lay a regular grid over ``area`` and mark the cells whose centre lies in it.

    The grid origin is snapped to multiples of ``cell_m``, so grids of the
    same cell size line up across runs.

    Parameters
    ----------
    area
        A (multi)polygon in EPSG:28992.
    cell_m
        Cell size in metres (> 0).
    max_cells
        Refuse grids larger than this (width × height).

    Returns
    -------
    grid
        The grid.
    inside
        Boolean array ``(height, width)``: cell centre inside ``area``.
    """
    if not (cell_m > 0 and math.isfinite(cell_m)):
        raise InputError(f"De celgrootte moet een positief getal in meters zijn, niet {cell_m!r}.")
    if area is None or area.is_empty:
        raise InputError("Het gebied voor het raster is leeg: geef een gemeentelaag of locaties met geometrie.")
    minx, miny, maxx, maxy = area.bounds
    west = math.floor(minx / cell_m) * cell_m
    south = math.floor(miny / cell_m) * cell_m
    east = math.ceil(maxx / cell_m) * cell_m
    north = math.ceil(maxy / cell_m) * cell_m
    width = max(int(round((east - west) / cell_m)), 1)
    height = max(int(round((north - south) / cell_m)), 1)
    if width * height > max_cells:
        raise InputError(
            f"Het raster wordt te groot: {width} × {height} = {width * height:,} cellen van {cell_m:g} m "
            f"(maximum {max_cells:,}). Kies een grotere --cel.".replace(",", ".")
        )
    grid = GridSpec(west=west, north=north, cell_m=float(cell_m), width=width, height=height)
    shapely.prepare(area)
    inside = np.zeros(width * height, dtype=bool)
    step = max(1, 2_000_000 // width)
    for r0 in range(0, height, step):  # row blocks bound memory; each block is one vectorised call
        idx = np.arange(r0 * width, min(height, r0 + step) * width)
        x, y = grid.centres(idx)
        inside[idx] = shapely.contains_xy(area, x, y)
    return grid, inside.reshape(height, width)


def grid_sites(grid: GridSpec, flat_index: np.ndarray) -> pd.DataFrame:
    """Point sites at the centres of the given cells, in the form ``score_sites`` expects.

    Returns a frame with ``locatie_id`` (the flat cell index), verblijfstype
    ``short_stay`` (every stay type is judged anyway), no housing attributes
    and point geometry (column ``geometry``, EPSG:28992 by convention).
    """
    x, y = grid.centres(flat_index)
    n = len(x)
    return pd.DataFrame(
        {
            "locatie_id": np.asarray(flat_index, dtype=np.int64),
            "verblijfstype": np.full(n, "short_stay", dtype=object),
            "huisvestingsvorm": np.full(n, None, dtype=object),
            "personen": np.full(n, np.nan),
            "slaapkamers": np.full(n, np.nan),
            "woonoppervlak_m2": np.full(n, np.nan),
            "eigen_werkgever": np.full(n, None, dtype=object),
            "geometrie_status": np.full(n, "ok", dtype=object),
            "geometry": shapely.points(x, y),
        }
    )


def verdict_codes(verdicts: pd.Series | np.ndarray) -> np.ndarray:
    """Return the raster class of each verdict (1 geschikt, 2 voorwaardelijk, 3 ongeschikt, 0 none) as uint8."""
    values = np.asarray(verdicts, dtype=object)
    out = np.zeros(len(values), dtype=np.uint8)
    for verdict, code in VERDICT_CODES.items():
        out[values == verdict] = code
    return out


# ---------------------------------------------------------------------------
# 4. Housing effect of a business location
# ---------------------------------------------------------------------------


def plan_demand(
    plans: pd.DataFrame,
    *,
    migrants_per_job: Mapping[str, float],
    migrants_per_ha: Mapping[str, float],
    beds_per_migrant: float,
    max_expansion_ha: float,
) -> pd.DataFrame:
    """Estimate the labour migrants and beds a business location brings.

    Per plan::

        arbeidsmigranten = banen × migrants_per_job[sector]     when banen is given
                         = oppervlakte_ha × migrants_per_ha[sector]  otherwise
        bedden           = arbeidsmigranten × beds_per_migrant

    Parameters
    ----------
    plans
        ``naam``, ``sector`` (None → ``overig``), ``banen`` (NaN when not
        given) and ``oppervlakte_ha`` (ha).
    migrants_per_job, migrants_per_ha
        Ratio tables per sector (rule-set parameters ``arbeidsmigranten_per_baan``
        and ``arbeidsmigranten_per_ha``).
    beds_per_migrant
        Beds per labour migrant (``bedden_per_arbeidsmigrant``).
    max_expansion_ha
        Expansions larger than this are flagged (seed 000: > 5 ha only with
        regional added value and housing agreements).

    Returns
    -------
    pandas.DataFrame
        The input columns plus ``grondslag`` (``banen`` | ``oppervlakte``),
        ``kental`` (the ratio used), ``arbeidsmigranten``, ``bedden``,
        ``boven_max_ha`` and ``signaal`` (Dutch, empty when not flagged).

    Raises
    ------
    InputError
        For an unknown sector (with a "bedoelde u"), or a plan with neither
        banen nor an area.
    """
    out = plans.copy()
    sector = _text(out["sector"]).fillna("overig").str.casefold()
    sectors = sorted(set(migrants_per_job) | set(migrants_per_ha))
    per_job_table = {str(k).casefold(): float(v) for k, v in migrants_per_job.items()}
    per_ha_table = {str(k).casefold(): float(v) for k, v in migrants_per_ha.items()}
    jobs = pd.to_numeric(out["banen"], errors="coerce")
    area = pd.to_numeric(out["oppervlakte_ha"], errors="coerce")
    by_jobs = (jobs.notna() & (jobs >= 0)).to_numpy()
    has_area = (area.notna() & (area > 0)).to_numpy()
    problems = []
    for name, value, use_jobs, ok_area in zip(out["naam"], sector, by_jobs, has_area):  # one row per plan, a handful
        if value not in per_job_table and value not in per_ha_table:
            problems.append(
                f"Bedrijfslocatie '{name}': sector '{value}' staat niet in de kengetallentabel van de regelset."
                f"{did_you_mean(value, sectors)} Kies uit: {', '.join(sectors)}."
            )
        elif not use_jobs and not ok_area:
            problems.append(f"Bedrijfslocatie '{name}' heeft geen aantal banen en geen oppervlakte: vul 'banen' of 'oppervlakte_ha' in.")
        elif (use_jobs and value not in per_job_table) or (not use_jobs and value not in per_ha_table):
            problems.append(
                f"Bedrijfslocatie '{name}': de regelset heeft voor sector '{value}' geen kental "
                f"{'arbeidsmigranten_per_baan' if use_jobs else 'arbeidsmigranten_per_ha'}."
            )
    if problems:
        raise InputError(problems)
    per_job = sector.map(per_job_table)
    per_ha = sector.map(per_ha_table)
    out["sector"] = sector.to_numpy()
    out["grondslag"] = np.where(by_jobs, "banen", "oppervlakte")
    out["kental"] = np.where(by_jobs, per_job, per_ha)
    out["arbeidsmigranten"] = np.where(by_jobs, jobs * per_job, area * per_ha)
    out["bedden"] = out["arbeidsmigranten"] * float(beds_per_migrant)
    out["boven_max_ha"] = (area > max_expansion_ha).fillna(False).to_numpy(dtype=bool)
    ha_text = area.map(lambda v: f"{v:.1f}".replace(".", ",") if pd.notna(v) else "")
    limit = f"{max_expansion_ha:g}".replace(".", ",")
    out["signaal"] = np.where(
        out["boven_max_ha"],
        "Uitbreiding/nieuwe bedrijvigheid van " + ha_text + f" ha is groter dan {limit} ha: volgens de "
        "Omgevingsverordening Limburg in beginsel niet toegestaan, tenzij er sprake is van regionale meerwaarde "
        "en er afspraken over de huisvesting van arbeidsmigranten worden gemaakt (verslag Stuurgroep internationale werknemers, 8 maart 2023).",
        "",
    )
    return out


def capacity_within_reach(
    sites: pd.DataFrame,
    minutes: np.ndarray,
    *,
    max_minutes: float,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Capacity of suitable sites within the travel-time threshold of a location.

    A site counts for its own verdict (``oordeel``, its own stay type) when
    its travel time is at most ``max_minutes``.

    Parameters
    ----------
    sites
        Scored sites with ``oordeel``, ``verblijfstype`` and
        ``capaciteit_personen`` (persons; NaN counts as unknown).
    minutes
        Travel time (minutes) from each site to the location; NaN or inf
        when it cannot be reached.
    max_minutes
        The threshold in minutes.

    Returns
    -------
    table
        Rows per ``verblijfstype`` plus :data:`TOTAL_LABEL`; columns
        ``locaties_geschikt``, ``capaciteit_geschikt``,
        ``locaties_voorwaardelijk``, ``capaciteit_voorwaardelijk``,
        ``zonder_capaciteit`` (suitable or conditional sites without a
        capacity).
    counted
        Boolean mask of the sites counted (within reach, geschikt or
        voorwaardelijk).
    """
    t = np.asarray(minutes, dtype=float)
    near = np.isfinite(t) & (t <= max_minutes)
    verdict = _text(sites["oordeel"]).to_numpy(dtype=object)
    cap = usable_capacity(sites).to_numpy(dtype=float)  # capaciteit_personen × vrij_aandeel
    stay = _text(sites["verblijfstype"]).fillna("short_stay").to_numpy(dtype=object)
    good = near & (verdict == "geschikt")
    cond = near & (verdict == "voorwaardelijk")
    frame = pd.DataFrame(
        {
            "verblijfstype": stay,
            "locaties_geschikt": good.astype(int),
            "capaciteit_geschikt": np.where(good, np.nan_to_num(cap), 0.0),
            "locaties_voorwaardelijk": cond.astype(int),
            "capaciteit_voorwaardelijk": np.where(cond, np.nan_to_num(cap), 0.0),
            "zonder_capaciteit": ((good | cond) & np.isnan(cap)).astype(int),
        }
    )
    table = frame.groupby("verblijfstype").sum().reindex(list(STAY_TYPES), fill_value=0)
    table.loc[TOTAL_LABEL] = table.sum()
    table.index.name = "verblijfstype"
    return table.reset_index(), good | cond
