"""Helpers shared by the engines that score the sites in parts.

The dask engine (:mod:`scripts.runner.distributed`, partitions on workers) and the
chunked single-process engine (:func:`scripts.runner.score.run_config` with more sites
than ``block_size``) both run :func:`analysis.pipeline.score_sites` on a part
of the sites at a time. What a part cannot see on its own is settled here:

* the run-wide values a part must be told (:func:`run_wide_flags`,
  :func:`max_travel_minutes`): the travel-time limit for
  ``werkgevers_bereikbaar``, and whether any site of the run has an own
  employer or a number of persons (otherwise a part without one would drop
  those fields);
* putting the per-part records back together (:func:`combine_records`):
  step counts summed, rule counts summed, "not tested" rules and skipped
  analyses only when so in every part, the warnings merged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from locatietoets.analysis.pipeline import Inputs, RunResult, outside_gemeenten_warning
from locatietoets.analysis.vocabulary import FACILITY_PREFIX

__all__ = [
    "combine_records",
    "empty_like",
    "max_travel_minutes",
    "merge_counts",
    "part_max_minutes",
    "run_wide_flags",
]


def run_wide_flags(sites: pd.DataFrame) -> dict[str, bool]:
    """The keywords of :func:`~analysis.pipeline.score_sites` that must hold for the whole run, not
    one part.
    """
    return {
        "has_persons": bool(sites["personen"].notna().any()),
        "has_own_employer": bool(sites["eigen_werkgever"].notna().any()),
    }


def part_max_minutes(
    part: pd.DataFrame, reference: Inputs, ruleset: Any, network_mode: str
) -> float:
    """The largest per-site travel-time maximum in one part of the sites (as score_sites resolves
    it).
    """
    from locatietoets.analysis.overlay import assign_polygon_attribute

    part = part.reset_index(drop=True)
    n = len(part)
    has_geom = ~(part.geometry.isna() | part.geometry.is_empty).to_numpy()
    code = np.full(n, None, dtype=object)
    name = np.full(n, None, dtype=object)
    gemeenten = reference.gemeenten
    if gemeenten is not None and has_geom.any():
        g = assign_polygon_attribute(
            part.geometry[has_geom], gemeenten, ["naam", "code"], min_share=0.0
        )
        code[has_geom] = g["code"].to_numpy(dtype=object)
        name[has_geom] = g["naam"].to_numpy(dtype=object)
    values = ruleset.per_site(
        f"reistijd_max_{network_mode}_min",
        pd.Series(code, dtype=object),
        pd.Series(name, dtype=object),
    )
    return float(np.nanmax(values)) if len(values) else 0.0


def max_travel_minutes(
    inputs: Inputs, ruleset: Any, network_mode: str, block_size: int
) -> float | None:
    """The run-wide travel-time limit (None when travel is not computed), per block of
    ``block_size`` sites.
    """
    if inputs.employers is None or inputs.network is None:
        return None
    name = f"reistijd_max_{network_mode}_min"
    if not any(name in table for table in ruleset.gemeenten.values()):
        return float(ruleset.value(name))
    sites = inputs.sites
    return float(
        np.nanmax(
            [
                part_max_minutes(sites.iloc[a : a + block_size], inputs, ruleset, network_mode)
                for a in range(0, len(sites), block_size)
            ]
        )
    )


def empty_like(column: pd.Series, n: int) -> Any:
    """The value a field has for sites that lack it: None (text), NaN (numbers), NA (Int64)."""
    if isinstance(column.dtype, pd.Int64Dtype):
        return pd.array([pd.NA] * n, dtype="Int64")
    if column.dtype.kind == "f":
        return np.full(n, np.nan)
    if column.dtype.kind == "b":
        return np.zeros(n, dtype=bool)
    return np.full(n, None, dtype=object)


def merge_counts(records: list[dict]) -> dict:
    """Sum numbers key by key (recursively), keep the first text; keys in first-seen order."""
    out: dict = {}
    for record in records:
        for key, value in record.items():
            if isinstance(value, dict):
                out[key] = merge_counts([out.get(key, {}), value])
            elif isinstance(value, bool) or value is None or isinstance(value, str):
                out.setdefault(key, value)
            elif isinstance(value, (int, float, np.integer, np.floating)):
                previous = out.get(key)
                out[key] = value if previous is None else previous + value
            else:
                out.setdefault(key, value)
    return out


def facility_distances(table: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per facility kind the network distances (``voorziening_<soort>_afstand_m``) in ``table``,
    for the run-wide medians of :func:`combine_records`."""
    suffix = "_afstand_m"
    return {
        str(c)[len(FACILITY_PREFIX) : -len(suffix)]: table[c].to_numpy(dtype=float, copy=True)
        for c in table.columns
        if str(c).startswith(FACILITY_PREFIX) and str(c).endswith(suffix)
    }


def combine_records(
    results: list[RunResult],
    ruleset: Any,
    travel_times: np.ndarray | None,
    facility_distances: dict[str, np.ndarray] | None = None,
) -> RunResult:
    """Steps, skipped analyses, rule counts and warnings of the parts of one run, as one run.

    Parameters
    ----------
    results
        Per part, in site order (their ``results`` tables are not used).
    ruleset
        The rule set of the run.
    travel_times
        ``werkgever_reistijd_min`` of all sites, for the run-wide median
        (None when travel was not computed).
    facility_distances
        Per facility kind the distances of all sites (:func:`facility_distances`), for the
        run-wide median distance per kind; a median is not the sum of the parts' medians.

    Returns
    -------
    RunResult
        With an empty ``results`` table; the caller puts the rows together.
    """
    steps = merge_counts([r.steps for r in results])
    if "reis" in steps and "mediaan_reistijd_min" in steps["reis"] and travel_times is not None:
        times = np.asarray(travel_times, dtype=float)
        steps["reis"]["mediaan_reistijd_min"] = (
            float(np.nanmedian(times)) if (~np.isnan(times)).any() else None
        )
    per_kind = steps.get("voorzieningen", {}).get("voorzieningen")
    if isinstance(per_kind, dict) and facility_distances:
        for kind, values in facility_distances.items():
            if kind in per_kind:
                values = np.asarray(values, dtype=float)
                per_kind[kind]["mediaan_m"] = (
                    float(np.nanmedian(values)) if (~np.isnan(values)).any() else None
                )
    for record in steps.values():
        if "seconden" in record:
            record["seconden"] = round(record["seconden"], 3)
    skipped = {k: v for k, v in results[0].skipped.items() if all(k in r.skipped for r in results)}
    fired: dict[str, dict[str, int]] = {}
    for rule in ruleset.rules:
        counts = [r.summary.get("regels_gevuurd", {}).get(rule.id) for r in results]
        counts = [c for c in counts if c is not None]
        if counts:
            fired[rule.id] = merge_counts(counts)
    untested = [
        rule.id
        for rule in ruleset.rules
        if all(rule.id in r.summary.get("regels_niet_getoetst", []) for r in results)
    ]
    summary = {
        "regels_gevuurd": fired,
        "regels_niet_getoetst": untested,
        "telling": merge_counts([r.summary.get("telling", {}) for r in results]),
        "telling_eigen_verblijfstype": merge_counts(
            [r.summary.get("telling_eigen_verblijfstype", {}) for r in results]
        ),
    }
    # the one count-bearing warning is rebuilt from the summed count; the others are kept once each
    outside = int(steps.get("gemeente", {}).get("buiten_gemeenten", 0) or 0)
    per_part = {
        outside_gemeenten_warning(int(r.steps.get("gemeente", {}).get("buiten_gemeenten", 0) or 0))
        for r in results
    }
    warnings: list[str] = []
    for r in results:
        for w in r.warnings:
            if w in per_part:
                w = outside_gemeenten_warning(outside)
            if w not in warnings:
                warnings.append(w)
    return RunResult(
        results=pd.DataFrame(), steps=steps, skipped=skipped, summary=summary, warnings=warnings
    )
