"""Read a run folder written by ``locatietoets score`` (or ``demo``) for the planning analyses.

``locaties.gpkg`` (EPSG:28992, the verdict fields), ``run.json`` and the ``gemeenten`` of
``referentie.gpkg`` with their region (own attribute, else the run's rule set).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import json
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from locatietoets.analysis.errors import InputError
from locatietoets.analysis.ruleset import STAY_TYPES, RuleSet

__all__ = ["RunData", "read_run_folder"]

log = logging.getLogger(__name__)


@dataclass
class RunData:
    """One run folder, read.

    Attributes
    ----------
    path
        The folder.
    sites
        ``locaties`` (EPSG:28992).
    record
        ``run.json``.
    gemeenten
        ``gemeenten`` from ``referentie.gpkg`` with ``naam``, ``code`` and
        ``regio`` (own attribute, else the rule set's table), or None.
    ruleset
        The rule set the run used (for its gemeente table), or None.
    """

    path: Path
    sites: gpd.GeoDataFrame
    record: dict[str, Any]
    gemeenten: gpd.GeoDataFrame | None
    ruleset: RuleSet | None = None

    @property
    def label(self) -> str:
        rs = self.record.get("regelset") or {}
        ruleset = f"regelset {rs.get('id', '?')} {rs.get('versie', '')}"
        return f"{self.path.name or self.path} ({ruleset})".strip()


def _ruleset_of(record: Mapping[str, Any]) -> RuleSet | None:
    from locatietoets.layers.io.rules import read_ruleset_file

    origin = str((record.get("regelset") or {}).get("herkomst") or "")
    try:
        if origin and not origin.startswith("ingebouwd") and Path(origin).is_file():
            return read_ruleset_file(Path(origin))
        return read_ruleset_file(None)
    except Exception as exc:  # noqa: BLE001 - only used for the region lookup
        log.warning(
            "regelset van de run niet leesbaar (%s); regio's alleen uit de gemeentelaag", exc
        )
        return None


def read_run_folder(run_dir: Path, *, need_gemeenten: bool = False, role: str = "") -> RunData:
    """Read a folder written by ``locatietoets score`` (or ``demo``).

    Parameters
    ----------
    run_dir
        The run folder.
    need_gemeenten
        Require the ``gemeenten`` layer in ``referentie.gpkg``.
    role
        How the run is called in messages (``"A"``, ``"B"``), or empty.

    Raises
    ------
    InputError
        Missing folder or files, unreadable files, wrong CRS, no gemeenten.
    """
    run_dir = Path(run_dir)
    who = f"Run {role} " if role else ""
    hint = (
        "Geef de uitvoermap van 'locatietoets score' (met locaties.gpkg en run.json), of maak er"
        " een met 'locatietoets demo'."
    )
    if not run_dir.is_dir():
        raise InputError(f"{who}'{run_dir}' bestaat niet of is geen map. {hint}")
    problems = [
        f"{who}'{run_dir}' mist {name}. {hint}"
        for name in ("locaties.gpkg", "run.json")
        if not (run_dir / name).is_file()
    ]
    if problems:
        raise InputError(problems)
    try:
        record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(
            f"{who}run.json in '{run_dir}' is niet leesbaar ({exc}). Draai 'locatietoets score'"
            " opnieuw."
        ) from None
    try:
        sites = pyogrio.read_dataframe(run_dir / "locaties.gpkg", layer="locaties")
    except Exception as exc:  # noqa: BLE001 - pyogrio raises several types
        raise InputError(
            f"{who}laag 'locaties' in '{run_dir / 'locaties.gpkg'}' is niet leesbaar ({exc})."
        ) from None
    if sites.crs is None or sites.crs.to_epsg() != 28992:
        raise InputError(
            f"{who}'{run_dir / 'locaties.gpkg'}' staat niet in EPSG:28992 (RD New); gebruik de"
            " uitvoer van 'locatietoets score' ongewijzigd."
        )
    missing = [f"oordeel_{s}" for s in STAY_TYPES if f"oordeel_{s}" not in sites]
    if missing:
        raise InputError(
            f"{who}'{run_dir / 'locaties.gpkg'}' mist de velden {', '.join(missing)}. Is dit de"
            " uitvoer van 'locatietoets score'?"
        )
    ruleset = _ruleset_of(record)
    gemeenten = None
    ref = run_dir / "referentie.gpkg"
    if ref.is_file() and "gemeenten" in [str(n) for n in pyogrio.list_layers(ref)[:, 0]]:
        gem = pyogrio.read_dataframe(ref, layer="gemeenten")
        names = (
            gem["naam"].astype("object")
            if "naam" in gem
            else pd.Series([None] * len(gem), dtype="object")
        )
        codes = (
            gem["code"].astype("object")
            if "code" in gem
            else pd.Series([None] * len(gem), dtype="object")
        )
        gem["naam"] = names.where(names.notna(), codes).fillna("gemeente zonder naam").astype(str)
        gem["code"] = codes.where(codes.notna(), None)
        own = (
            gem["regio"].astype("object")
            if "regio" in gem
            else pd.Series([None] * len(gem), dtype="object")
        )
        if ruleset is not None:
            lookup = ruleset.region_of(gem["code"], gem["naam"])
            own = own.where(own.notna(), pd.Series(lookup.to_numpy(), index=own.index))
        gem["regio"] = own.where(own.notna(), None)
        gemeenten = gem[["naam", "code", "regio", "geometry"]]
    elif need_gemeenten:
        raise InputError(
            f"{who}'{run_dir}' heeft geen gemeentelaag (referentie.gpkg, laag 'gemeenten'). Neem"
            " [lagen.gemeenten] op in de configuratie en draai 'locatietoets score' opnieuw."
        )
    return RunData(path=run_dir, sites=sites, record=record, gemeenten=gemeenten, ruleset=ruleset)
