"""Read the plan layer of ``locatietoets bedrijfslocatie``: planned business locations."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from locatietoets.analysis.errors import InputError
from locatietoets.layers.io.read import RD_NEW, LayerReport, read_layer
from locatietoets.layers.io.spec import LayerSpec

__all__ = ["read_plans"]

_PLAN_FIELDS = {
    "naam": ("naam", "name", "plannaam", "bedrijf"),
    "banen": ("banen", "arbeidsplaatsen", "werknemers", "fte"),
    "sector": ("sector", "branche"),
    "oppervlakte_ha": ("oppervlakte_ha", "uitbreiding_ha", "ha", "hectare"),
}


def read_plans(
    path: Path, *, layer: str | None = None, crs: str | None = None
) -> tuple[gpd.GeoDataFrame, LayerReport]:
    """Read planned business locations (polygons; points allowed with an area field).

    Fields (case-insensitive, all optional): ``naam``; ``banen`` (expected
    jobs); ``sector``; ``oppervlakte_ha`` (area of the expansion in ha; else
    the polygon's area).

    Returns
    -------
    plans
        ``naam``, ``banen`` (NaN when not given), ``sector`` (None),
        ``oppervlakte_ha``, ``oppervlakte_bron`` and the geometry (EPSG:28992).
    report
        What reading found.
    """
    spec = LayerSpec(name="bedrijfslocatie", path=Path(path), layer=layer, crs=crs)
    frame, report = read_layer(spec)
    geoms = frame.geometry.to_numpy()
    missing = pd.isna(geoms) | shapely.is_empty(geoms)
    if missing.any():
        raise InputError(
            f"[bedrijfslocatie] '{spec.path.name}': {int(missing.sum())} object(en) zonder"
            " geometrie. Teken het plangebied."
        )
    types = set(shapely.get_type_id(geoms).tolist())
    if types - {0, 3, 4, 6}:
        raise InputError(
            f"[bedrijfslocatie] '{spec.path.name}' moet vlakken (of punten met oppervlakte_ha)"
            " bevatten, geen lijnen."
        )
    lower = {str(c).casefold(): c for c in frame.columns if c != frame.geometry.name}
    col = {
        key: next((lower[g] for g in guesses if g in lower), None)
        for key, guesses in _PLAN_FIELDS.items()
    }
    n = len(frame)
    out = gpd.GeoDataFrame(geometry=frame.geometry.to_numpy(), crs=RD_NEW)
    names = (
        frame[col["naam"]].astype("string").str.strip()
        if col["naam"]
        else pd.Series([None] * n, dtype="string")
    )
    default = pd.Series([f"bedrijfslocatie {i + 1}" for i in range(n)], dtype="string")
    out["naam"] = names.where(names.notna() & (names != ""), default).astype(object).to_numpy()
    problems = []
    for key in ("banen", "oppervlakte_ha"):
        if col[key]:
            raw = frame[col[key]]
            text = raw.astype("string").str.strip().str.replace(",", ".", regex=False)
            values = pd.to_numeric(text, errors="coerce")
            bad = values.isna() & text.notna() & (text != "")
            if bad.any() or (values < 0).any():
                found = raw[bad | (values < 0)].astype(str).unique()[:5]
                problems.append(
                    f"[bedrijfslocatie] veld '{col[key]}' moet getallen ≥ 0 bevatten; gevonden o.a."
                    f" {', '.join(repr(v) for v in found)}."
                )
            out[key] = values.to_numpy(dtype=float)
        else:
            out[key] = np.nan
    if problems:
        raise InputError(problems)
    out["sector"] = (
        frame[col["sector"]].astype("object").where(frame[col["sector"]].notna(), None).to_numpy()
        if col["sector"]
        else None
    )
    polygon_ha = np.asarray(shapely.area(geoms), dtype=float) / 10_000.0
    given = out["oppervlakte_ha"].notna().to_numpy()
    out["oppervlakte_bron"] = np.where(
        given, f"veld {col['oppervlakte_ha']}", "oppervlakte van het vlak"
    )
    out["oppervlakte_ha"] = np.where(
        given, out["oppervlakte_ha"].to_numpy(), np.where(polygon_ha > 0, polygon_ha, np.nan)
    )
    return out, report
