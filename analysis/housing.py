"""Housing norms (woonnormen): persons per bedroom, living area per person, capacity.

Formulas (Integrale Aanpak Arbeidsmigratie 2024–2027 §3.3)::

    personen_per_slaapkamer = personen / slaapkamers
    woonoppervlak_pp_m2     = woonoppervlak_m2 / personen
    capaciteit_personen     = min(floor(slaapkamers * max_personen_per_slaapkamer),
                                  floor(woonoppervlak_m2 / min_woonoppervlak_pp_m2))

over the limits whose attributes are known; ``capaciteit_norm`` names the
binding one. With no limit known, the planned number of persons stands in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["housing_norms"]

_BINDING_BEDROOMS = "slaapkamers"
_BINDING_AREA = "woonoppervlak"
_BINDING_PLANNED = "opgegeven personen (geen woonnorm toetsbaar)"
_BINDING_UNKNOWN = "onbekend"
_NORMS = (_BINDING_BEDROOMS, _BINDING_AREA, _BINDING_PLANNED, _BINDING_UNKNOWN)


def housing_norms(
    persons: np.ndarray,
    bedrooms: np.ndarray,
    living_area_m2: np.ndarray,
    *,
    max_persons_per_bedroom: np.ndarray | float,
    min_area_per_person_m2: np.ndarray | float,
    index: pd.Index | None = None,
) -> pd.DataFrame:
    """Compute housing-norm measures and the capacity of each site.

    Parameters
    ----------
    persons, bedrooms, living_area_m2
        Planned persons, bedrooms and living area in m² per site (NaN when
        unknown).
    max_persons_per_bedroom
        Norm, persons per bedroom (scalar or per site).
    min_area_per_person_m2
        Norm, m² living area per person (scalar or per site).
    index
        Index of the returned frame.

    Returns
    -------
    pandas.DataFrame
        ``personen_per_slaapkamer``, ``woonoppervlak_pp_m2``,
        ``capaciteit_personen`` (float, NaN when nothing is known),
        ``capaciteit_norm`` (the binding limit).
    """
    persons = np.asarray(persons, dtype=float)
    bedrooms = np.asarray(bedrooms, dtype=float)
    area = np.asarray(living_area_m2, dtype=float)
    max_pp = np.broadcast_to(np.asarray(max_persons_per_bedroom, dtype=float), persons.shape)
    min_m2 = np.broadcast_to(np.asarray(min_area_per_person_m2, dtype=float), persons.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_bedroom = np.where(
            bedrooms > 0, persons / bedrooms, np.where(persons > 0, np.inf, np.nan)
        )
        per_person = np.where(persons > 0, area / persons, np.nan)
        # a tiny epsilon keeps 45 m² / 15 m² from flooring to 2.999...
        limit_bedrooms = np.floor(bedrooms * max_pp + 1e-9)
        limit_area = np.floor(area / min_m2 + 1e-9)
    capacity = np.fmin(limit_bedrooms, limit_area)
    # the binding limit as a code into _NORMS (the text column is built in Arrow, not per site)
    code = np.where(np.isnan(limit_area) | (limit_bedrooms <= limit_area), 0, 1).astype(np.int8)
    code[np.isnan(limit_bedrooms) & ~np.isnan(limit_area)] = 1
    none_known = np.isnan(capacity)
    capacity = np.where(none_known, persons, capacity)
    code[none_known] = np.where(np.isnan(persons[none_known]), 3, 2)
    per_bedroom = np.where(np.isinf(per_bedroom), np.nan, per_bedroom)
    out = pd.DataFrame(
        {
            "personen_per_slaapkamer": per_bedroom,
            "woonoppervlak_pp_m2": per_person,
            "capaciteit_personen": capacity,
        },
        index=index,
    )
    out["capaciteit_norm"] = pd.Series(
        pa.array(_NORMS, type=pa.large_string()).take(pa.array(code)),
        dtype=pd.StringDtype(na_value=np.nan),
        index=out.index,
    )
    return out
