"""Sensitivity of one rule parameter: verdict counts per value, and the sites whose verdict changes.

Pure logic on the result tables of one scoring per value (``oordeel_<verblijfstype>`` and
``gemeente`` per site, the same sites in the same order); ``scripts.runner.sensitivity`` scores
and writes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from locatietoets.analysis.planning.common import TOTAL_LABEL
from locatietoets.analysis.vocabulary import STAY_LABELS, STAY_TYPES, VERDICTS, nl_number

__all__ = ["COUNT_COLUMNS", "changed_between", "sensitivity_counts"]

#: The count columns of the table: every verdict and sites without one (no geometry).
COUNT_COLUMNS: tuple[str, ...] = (*VERDICTS, "geen_oordeel")
_RANK = {v: i for i, v in enumerate(VERDICTS)}  # geschikt 0 … ongeschikt 2: higher is stricter


def sensitivity_counts(values: Sequence[float], results: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Verdict counts per value, gemeente and stay type (every site judged for every stay type).

    Returns
    -------
    pandas.DataFrame
        ``waarde``, ``gemeente`` (``Totaal`` for all sites, after the gemeenten; sites outside
        every gemeente under ``buiten de gemeenten``), ``verblijfstype`` and the columns of
        :data:`COUNT_COLUMNS`; one row per value × (gemeenten + total) × stay type.
    """
    rows = []
    for value, table in zip(values, results):
        gemeente = _gemeente(table)
        areas = [g for g in pd.unique(gemeente) if g is not None]
        for area in sorted(areas, key=str) + [TOTAL_LABEL]:
            mask = np.ones(len(table), dtype=bool) if area == TOTAL_LABEL else gemeente == area
            for stay in STAY_TYPES:
                verdicts = table[f"oordeel_{stay}"].to_numpy(dtype=object)[mask]
                row = {"waarde": float(value), "gemeente": area, "verblijfstype": stay}
                for v in VERDICTS:
                    row[v] = int((verdicts == v).sum())
                row["geen_oordeel"] = int(pd.isna(verdicts).sum())
                rows.append(row)
    return pd.DataFrame(rows, columns=["waarde", "gemeente", "verblijfstype", *COUNT_COLUMNS])


def changed_between(
    values: Sequence[float], results: Sequence[pd.DataFrame], *, unit: str = ""
) -> pd.DataFrame:
    """The sites whose verdict for any stay type differs between consecutive values.

    Returns
    -------
    pandas.DataFrame
        One row per site and pair of consecutive values where it changes: ``positie`` (row of
        the sites), ``locatie_id``, ``gemeente``, ``van_waarde``, ``naar_waarde``,
        ``oordeel_<verblijfstype>_van``/``_naar``, ``richting`` (strenger, soepeler or gemengd)
        and ``wijziging`` (Dutch: "100 → 150 m: short-stay geschikt → voorwaardelijk; …").
    """
    parts = []
    for (a, table_a), (b, table_b) in zip(
        zip(values[:-1], results[:-1]), zip(values[1:], results[1:])
    ):
        n = len(table_a)
        changed = np.zeros(n, dtype=bool)
        stricter = np.zeros(n, dtype=bool)
        milder = np.zeros(n, dtype=bool)
        texts = np.full(n, "", dtype=object)
        part = {}
        for stay in STAY_TYPES:
            old = table_a[f"oordeel_{stay}"].to_numpy(dtype=object)
            new = table_b[f"oordeel_{stay}"].to_numpy(dtype=object)
            differs = ~((old == new) | (pd.isna(old) & pd.isna(new)))
            rank_old = np.array([_RANK.get(v, -1) for v in old])
            rank_new = np.array([_RANK.get(v, -1) for v in new])
            stricter |= differs & (rank_new > rank_old)
            milder |= differs & (rank_new < rank_old)
            changed |= differs
            for i in np.flatnonzero(differs):
                sep = "; " if texts[i] else ""
                texts[i] += f"{sep}{STAY_LABELS[stay]} {_text(old[i])} → {_text(new[i])}"
            part[f"oordeel_{stay}_van"] = old
            part[f"oordeel_{stay}_naar"] = new
        idx = np.flatnonzero(changed)
        suffix = f" {unit}" if unit else ""
        head = f"{nl_number(a, _digits(a))} → {nl_number(b, _digits(b))}{suffix}: "
        frame = pd.DataFrame(
            {
                "positie": idx,
                "locatie_id": table_b["locatie_id"].to_numpy(dtype=object)[idx],
                "gemeente": _gemeente(table_b)[idx],
                "van_waarde": float(a),
                "naar_waarde": float(b),
                **{k: v[idx] for k, v in part.items()},
                "richting": np.where(
                    stricter[idx] & milder[idx],
                    "gemengd",
                    np.where(stricter[idx], "strenger", "soepeler"),
                ),
                "wijziging": [head + t for t in texts[idx]],
            }
        )
        parts.append(frame)
    if not parts:
        return pd.DataFrame(columns=["positie", "locatie_id", "gemeente", "van_waarde"])
    return pd.concat(parts, ignore_index=True)


def _gemeente(table: pd.DataFrame) -> np.ndarray:
    if "gemeente" not in table:
        return np.full(len(table), "buiten de gemeenten", dtype=object)
    names = table["gemeente"].to_numpy(dtype=object)
    return np.where(pd.isna(names), "buiten de gemeenten", names).astype(object)


def _text(verdict: object) -> str:
    return "geen oordeel" if verdict is None or verdict != verdict else str(verdict)


def _digits(value: float) -> int:
    """Decimals needed to print ``value`` (up to 3)."""
    for digits in range(4):
        if abs(round(value, digits) - value) < 1e-9:
            return digits
    return 3
