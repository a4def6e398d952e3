"""Capacity of suitable sites against the demand per gemeente and region.

Pure logic on DataFrames (nothing here opens or writes a file); vectorised
over sites and gemeenten; column names and messages Dutch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from locatietoets.analysis.errors import InputError, did_you_mean
from locatietoets.analysis.planning.common import TOTAL_LABEL, clean_text
from locatietoets.analysis.ruleset import STAY_TYPES
from locatietoets.analysis.summary import usable_capacity

__all__ = ["NO_DEMAND", "CapacityBalance", "capacity_balance", "match_gemeenten"]

#: Label of gemeenten without demand in the table.
NO_DEMAND = "geen opgave"
_NO_REGION = "regio onbekend"


def match_gemeenten(
    keys: Sequence[Any], *, names: Sequence[Any], codes: Sequence[Any], what: str = "behoeftetabel"
) -> np.ndarray:
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
            f"{len(unknown)} onbekende gemeente(n) in de {what}: {listed}. Gebruik de "
            "gemeentenaam of CBS-code "
            "(GMxxxx) zoals in de gemeentelaag van de run; bekend zijn o.a.: "
            f"{', '.join(sorted(n for n in name_list if n)[:40])}."
        )
    positions = found.dropna().astype(int)
    dup = positions[positions.duplicated(keep=False)]
    if len(dup):
        groups = dup.groupby(dup).groups
        for pos, idx in groups.items():
            written = ", ".join(f"'{key_text[i]}'" for i in idx)
            problems.append(
                f"Gemeente '{name_list[pos] or code_list[pos]}' staat meer dan eens in de {what} "
                f"({written}). "
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
    kernen
        When the run tested concentration (sites with ``kern``): per kern the share of labour
        migrants if every geschikt site were built (its usable capacity for its own stay type),
        see :func:`analysis.concentration.kern_concentration`; otherwise None.
    """

    gemeenten: pd.DataFrame
    regios: pd.DataFrame
    outside: int
    basis: str
    stay_types: tuple[str, ...]
    kernen: pd.DataFrame | None = None


def _site_gemeente_position(sites: pd.DataFrame, names: pd.Series, codes: pd.Series) -> np.ndarray:
    """Position of each site's gemeente in the layer (−1 when none), by code, else by name."""
    pos = pd.Series(-1, index=sites.index, dtype="int64")
    if "gemeente_code" in sites and codes.notna().any():
        lookup = {str(c).strip().upper(): i for i, c in enumerate(codes) if pd.notna(c)}
        by_code = clean_text(sites["gemeente_code"]).str.upper().map(lookup)
        pos = by_code.fillna(-1).astype("int64")
    if "gemeente" in sites:
        lookup = {str(n).strip().casefold(): i for i, n in enumerate(names) if pd.notna(n)}
        by_name = (
            clean_text(sites["gemeente"]).str.casefold().map(lookup).fillna(-1).astype("int64")
        )
        pos = pos.where(pos >= 0, by_name)
    return pos.to_numpy()


def capacity_balance(
    sites: pd.DataFrame,
    demand: pd.DataFrame,
    gemeenten: pd.DataFrame,
    *,
    basis: str = "beoogd",
    max_share_kern: float | None = None,
) -> CapacityBalance:
    """Compare the capacity of suitable sites with the demand per gemeente and region.

    Capacity per gemeente and stay type s::

        capaciteit_geschikt_s       = Σ capaciteit_personen × vrij_aandeel_s
                                      over sites with oordeel_s = geschikt
        capaciteit_voorwaardelijk_s = Σ capaciteit_personen × vrij_aandeel_s
                                      over sites with oordeel_s = voorwaardelijk
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
    max_share_kern
        The rule set's ``max_aandeel_kern`` (the run's value), to mark kernen whose share after
        building exceeds it.

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
            "regio": gemeenten["regio"].astype("object").to_numpy()
            if "regio" in gemeenten
            else None,
        }
    )
    gem["regio"] = gem["regio"].where(gem["regio"].notna(), _NO_REGION)
    n_gem = len(gem)
    pos = _site_gemeente_position(sites, gem["naam"], gem["code"])
    own = (
        clean_text(sites["verblijfstype"]).to_numpy(dtype=object)
        if "verblijfstype" in sites
        else np.full(len(sites), None, dtype=object)
    )
    inside = pos >= 0
    unknown_capacity = np.zeros(n_gem, dtype=np.int64)
    outside = 0
    for stay in STAY_TYPES:
        # only the part of a site where no ongeschikt-rule applies counts (usable_capacity)
        capacity = usable_capacity(sites, stay).to_numpy(dtype=float)
        cap0 = np.nan_to_num(capacity, nan=0.0)
        column = f"oordeel_{stay}"
        verdict = (
            clean_text(sites[column]).to_numpy(dtype=object)
            if column in sites
            else np.full(len(sites), None, dtype=object)
        )
        counts = np.ones(len(sites), dtype=bool) if basis == "alle" else (own == stay)
        for v in ("geschikt", "voorwaardelijk"):
            sel = counts & inside & (verdict == v)
            gem[f"capaciteit_{v}_{stay}"] = np.bincount(
                pos[sel], weights=cap0[sel], minlength=n_gem
            )
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
    ordered = (
        ["naam", "code", "regio"]
        + _value_columns()
        + ["locaties_zonder_capaciteit", "behoefte_opgegeven"]
    )
    return CapacityBalance(
        gemeenten=gem[ordered],
        regios=regios,
        outside=outside,
        basis=basis,
        stay_types=stays,
        kernen=_kern_table(sites, own, max_share_kern),
    )


def _kern_table(sites: pd.DataFrame, own: np.ndarray, max_share: float | None):
    """Per kern the share of labour migrants if every geschikt site were built (None when the
    run did not test concentration)."""
    if "kern" not in sites.columns:
        return None
    from locatietoets.analysis.concentration import kern_concentration

    capacity = np.zeros(len(sites), dtype=float)
    for stay in STAY_TYPES:
        column = f"oordeel_{stay}"
        if column not in sites:
            continue
        built = (own == stay) & (clean_text(sites[column]).to_numpy(dtype=object) == "geschikt")
        usable = np.nan_to_num(usable_capacity(sites, stay).to_numpy(dtype=float), nan=0.0)
        capacity = np.where(built, usable, capacity)
    return kern_concentration(sites, capacity, max_share=max_share)


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
        table[f"saldo_incl_voorwaardelijk_{stay}"] = (
            table[f"saldo_{stay}"] + table[f"capaciteit_voorwaardelijk_{stay}"]
        )
        table[f"tekort_{stay}"] = (-table[f"saldo_{stay}"]).clip(lower=0)
    need = table[[f"behoefte_{s}" for s in STAY_TYPES]]
    has_need = need.notna().any(axis=1)
    table["behoefte_totaal"] = need.sum(axis=1, min_count=1)
    table["capaciteit_geschikt_totaal"] = table[
        [f"capaciteit_geschikt_{s}" for s in STAY_TYPES]
    ].sum(axis=1)
    table["capaciteit_voorwaardelijk_totaal"] = table[
        [f"capaciteit_voorwaardelijk_{s}" for s in STAY_TYPES]
    ].sum(axis=1)
    table["tekort_totaal"] = (
        table[[f"tekort_{s}" for s in STAY_TYPES]].sum(axis=1, min_count=1).where(has_need)
    )
    short_incl = pd.concat(
        [(-table[f"saldo_incl_voorwaardelijk_{s}"]).clip(lower=0) for s in STAY_TYPES], axis=1
    )
    table["tekort_incl_voorwaardelijk_totaal"] = short_incl.sum(axis=1, min_count=1).where(has_need)


def _region_table(gem: pd.DataFrame) -> pd.DataFrame:
    sums = [
        c
        for c in gem.columns
        if c.startswith(("behoefte_", "capaciteit_"))
        and c != "behoefte_opgegeven"
        and not c.endswith("_totaal")
    ]
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
    for col in (
        "locaties_zonder_capaciteit",
        "gemeenten",
        "gemeenten_met_tekort",
        "gemeenten_zonder_opgave",
    ):
        region[col] = region[col].astype("int64")
    return region[
        ["regio"]
        + _value_columns()
        + [
            "gemeenten",
            "gemeenten_met_tekort",
            "gemeenten_zonder_opgave",
            "locaties_zonder_capaciteit",
        ]
    ]
