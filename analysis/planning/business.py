"""The housing effect of a business location: the labour migrants and beds it brings,
and the capacity of suitable sites within reach of it.

Pure logic on DataFrames and arrays; nothing here opens or writes a file.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from locatietoets.analysis.errors import InputError, did_you_mean
from locatietoets.analysis.planning.common import TOTAL_LABEL, clean_text
from locatietoets.analysis.ruleset import STAY_TYPES
from locatietoets.analysis.summary import usable_capacity
from locatietoets.analysis.texts import nl_number, nl_value

__all__ = ["capacity_within_reach", "plan_demand"]


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
        Expansions larger than this are flagged (Omgevingsverordening Limburg art. 12.5:
        business plots above 5 ha only with a GS exemption for regional added value; seed 000
        adds housing agreements).

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
    sector = clean_text(out["sector"]).fillna("overig").str.casefold()
    sectors = sorted(set(migrants_per_job) | set(migrants_per_ha))
    per_job_table = {str(k).casefold(): float(v) for k, v in migrants_per_job.items()}
    per_ha_table = {str(k).casefold(): float(v) for k, v in migrants_per_ha.items()}
    jobs = pd.to_numeric(out["banen"], errors="coerce")
    area = pd.to_numeric(out["oppervlakte_ha"], errors="coerce")
    by_jobs = (jobs.notna() & (jobs >= 0)).to_numpy()
    has_area = (area.notna() & (area > 0)).to_numpy()
    problems = []
    for name, value, use_jobs, ok_area in zip(
        out["naam"], sector, by_jobs, has_area
    ):  # one row per plan, a handful
        if value not in per_job_table and value not in per_ha_table:
            problems.append(
                f"Bedrijfslocatie '{name}': sector '{value}' staat niet in de kengetallentabel "
                "van de regelset."
                f"{did_you_mean(value, sectors)} Kies uit: {', '.join(sectors)}."
            )
        elif not use_jobs and not ok_area:
            problems.append(
                f"Bedrijfslocatie '{name}' heeft geen aantal banen en geen oppervlakte: vul "
                "'banen' of 'oppervlakte_ha' in."
            )
        elif (use_jobs and value not in per_job_table) or (
            not use_jobs and value not in per_ha_table
        ):
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
    ha_text = area.map(lambda v: nl_number(v, 1) if pd.notna(v) else "")
    limit = nl_value(max_expansion_ha)
    out["signaal"] = np.where(
        out["boven_max_ha"],
        "Uitbreiding/nieuwe bedrijvigheid van "
        + ha_text
        + f" ha is groter dan {limit} ha: een nieuw te (her)ontwikkelen bedrijfskavel groter dan "
        f"{limit} ha laat de Omgevingsverordening Limburg (art. 12.5) alleen toe met ontheffing "
        "van Gedeputeerde Staten bij regionale meerwaarde; de provincie vraagt daarbij afspraken "
        "over de huisvesting van arbeidsmigranten (verslag Stuurgroep internationale werknemers, "
        "8 maart 2023).",
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
    verdict = clean_text(sites["oordeel"]).to_numpy(dtype=object)
    cap = usable_capacity(sites).to_numpy(dtype=float)  # capaciteit_personen × vrij_aandeel
    stay = clean_text(sites["verblijfstype"]).fillna("short_stay").to_numpy(dtype=object)
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
