"""The run folder as maps and reports read it: sites, reference layers, run record, attribution.

``read_run`` reads ``locaties.gpkg``, ``referentie.gpkg`` and ``run.json`` of a
``locatietoets score`` run (EPSG:28992) and adds the gemeenten with their regio;
``attribution`` composes the "Bron: …" line from the run's input layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
import json
import logging
from pathlib import Path
import re
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from locatietoets.analysis.errors import InputError
from locatietoets.analysis.summary import STAY_TYPES, region_of_areas
from locatietoets.analysis.vocabulary import DEMO_SOURCE, OWN_SOURCE, SOURCES
from locatietoets.layers.io.outdir import RUN_FOLDER_HINT, check_run_folder

__all__ = [
    "ROAD_CLASSES",
    "RunFolder",
    "attribution",
    "nl_date",
    "nl_datetime",
    "read_input",
    "read_places",
    "read_roads",
    "read_run",
]

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------
# The run folder
# --------------------------------------------------------------------------


@dataclass
class RunFolder:
    """The outputs of one ``locatietoets score`` run, ready for maps and reports.

    Attributes
    ----------
    path
        The run folder.
    sites
        ``locaties`` with all result fields (EPSG:28992; NULL geometry allowed).
    reference
        Reference layers by name (only those the run had).
    record
        ``run.json``.
    gemeenten
        The ``gemeenten`` reference layer with ``naam``, ``code`` and
        ``regio`` (own attribute, else the rule set's table, else
        "regio onbekend"), or ``None`` when the run had no gemeenten.
    province_wide
        True when every gemeente is known to the rule set (a real provincial
        run), which changes the overview title.
    """

    path: Path
    sites: gpd.GeoDataFrame
    reference: dict[str, gpd.GeoDataFrame]
    record: dict[str, Any]
    gemeenten: gpd.GeoDataFrame | None
    province_wide: bool = False
    rules: list[dict[str, Any]] = field(default_factory=list)
    #: The rule set the run named (units and descriptions of its parameters), or ``None``.
    ruleset: Any = None

    @property
    def version(self) -> str:
        return str((self.record.get("locatietoets") or {}).get("versie", "onbekend"))

    @property
    def ruleset_label(self) -> str:
        rs = self.record.get("regelset") or {}
        return f"regelset {rs.get('id', 'onbekend')} versie {rs.get('versie', '?')}"

    @property
    def run_date(self) -> str:
        """Date of the run in Dutch ("3 december 2026", Europe/Amsterdam), from ``gestart``."""
        return nl_date(self.record.get("gestart"))

    @property
    def is_demo(self) -> bool:
        """True when the sites come from the fictional demo region."""
        if "bron" in self.sites:
            values = self.sites["bron"].dropna().astype(str)
            if len(values) and values.str.contains("FICTIEF", case=False).any():
                return True
        return False


_MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def _local(value: Any) -> datetime | None:
    """An ISO timestamp of the run record in Dutch local time (Europe/Amsterdam), or ``None``."""
    try:
        moment = datetime.fromisoformat(str(value or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        from zoneinfo import ZoneInfo

        return moment.astimezone(ZoneInfo("Europe/Amsterdam"))
    except Exception:  # noqa: BLE001 - no time-zone data: show UTC and say so
        return moment.astimezone(timezone.utc)


def nl_date(value: Any) -> str:
    """``2026-12-03T10:05:00+00:00`` → ``3 december 2026`` (Dutch local date)."""
    moment = _local(value)
    if moment is None:
        return str(value or "")[:10] or "onbekend"
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def nl_datetime(value: Any) -> str:
    """``2026-12-03T10:05:00+00:00`` → ``3 december 2026 11:05`` (Europe/Amsterdam)."""
    moment = _local(value)
    if moment is None:
        return str(value or "") or "onbekend"
    zone = "" if str(moment.tzinfo) == "Europe/Amsterdam" else " UTC"
    return f"{nl_date(value)} {moment:%H:%M}{zone}"


def _ruleset_for(record: dict[str, Any]):
    """Return the rule set the run used (for its gemeente → regio table), or ``None``."""
    from locatietoets.layers.io.rules import read_ruleset_file

    origin = str((record.get("regelset") or {}).get("herkomst") or "")
    try:
        if origin and not origin.startswith("ingebouwd") and Path(origin).is_file():
            return read_ruleset_file(Path(origin))
        return read_ruleset_file(None)
    except Exception as exc:  # noqa: BLE001 - the lookup is optional
        log.warning("regelset voor de regio-indeling niet leesbaar: %s", exc)
        return None


def read_run(run_dir: Path, *, stay_type: str | None = None) -> RunFolder:
    """Read a run folder for maps and reports.

    Parameters
    ----------
    run_dir
        Folder written by ``locatietoets score`` or ``demo``.
    stay_type
        When given, check that the run has verdicts for this stay type.

    Raises
    ------
    InputError
        When the folder, ``locaties.gpkg`` or ``run.json`` is missing or
        unreadable, or lacks the verdict fields.
    """
    run_dir = Path(run_dir)
    check_run_folder(run_dir)
    hint = RUN_FOLDER_HINT
    problems = []
    gpkg = run_dir / "locaties.gpkg"
    record_path = run_dir / "run.json"
    if not gpkg.is_file():
        problems.append(f"In '{run_dir}' ontbreekt locaties.gpkg (de getoetste locaties).")
    if not record_path.is_file():
        problems.append(f"In '{run_dir}' ontbreekt run.json (het runverslag).")
    if problems:
        problems[-1] += f" {hint}"
    if problems:
        nested = run_dir / "uitvoer"
        if (nested / "locaties.gpkg").is_file() and (nested / "run.json").is_file():
            problems[-1] += f" Bedoelde u '{nested}'?"
        raise InputError(problems)
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(
            f"run.json in '{run_dir}' is niet leesbaar ({exc}). Draai 'locatietoets score' opnieuw."
        ) from None
    try:
        sites = gpd.read_file(gpkg, layer="locaties", engine="pyogrio")
    except Exception as exc:  # noqa: BLE001 - pyogrio raises several types
        raise InputError(
            f"Laag 'locaties' in '{gpkg}' is niet leesbaar ({exc}). Draai 'locatietoets score'"
            " opnieuw."
        ) from None
    if sites.crs is not None and sites.crs.to_epsg() != 28992:
        raise InputError(
            f"'{gpkg}' staat in {sites.crs.to_string()}, verwacht EPSG:28992 (RD New). "
            "Gebruik de uitvoer van 'locatietoets score' zonder die te herprojecteren."
        )
    if stay_type is not None and f"oordeel_{stay_type}" not in sites:
        present = [s for s in STAY_TYPES if f"oordeel_{s}" in sites]
        raise InputError(
            f"'{gpkg}' heeft geen veld 'oordeel_{stay_type}'; aanwezig: "
            f"{', '.join('oordeel_' + s for s in present) or 'geen oordeelvelden'}. "
            "Is dit de uitvoer van 'locatietoets score'?"
        )
    reference: dict[str, gpd.GeoDataFrame] = {}
    ref_path = run_dir / "referentie.gpkg"
    if ref_path.is_file():
        for name in pyogrio.list_layers(ref_path)[:, 0]:
            try:
                reference[str(name)] = gpd.read_file(ref_path, layer=str(name), engine="pyogrio")
            except Exception as exc:  # noqa: BLE001
                log.warning("referentielaag %s niet leesbaar: %s", name, exc)
    else:
        log.warning("geen referentie.gpkg in %s: kaarten tonen alleen de locaties", run_dir)
    ruleset = _ruleset_for(record)
    gemeenten = None
    province_wide = False
    if "gemeenten" in reference and len(reference["gemeenten"]):
        gem = reference["gemeenten"].copy()
        names = (
            gem["naam"].astype("object")
            if "naam" in gem
            else pd.Series([None] * len(gem), index=gem.index)
        )
        codes = (
            gem["code"].astype("object")
            if "code" in gem
            else pd.Series([None] * len(gem), index=gem.index)
        )
        names = names.where(names.notna(), codes).fillna("gemeente zonder naam")
        lookup = ruleset.region_of(codes, names) if ruleset is not None else None
        gem["naam"] = names.astype(str)
        gem["code"] = codes
        gem["regio"] = region_of_areas(
            gem["naam"],
            gem["code"],
            regions=gem["regio"] if "regio" in gem else None,
            lookup=lookup,
        )
        gemeenten = gem[["naam", "code", "regio", "geometry"]]
        if ruleset is not None:
            known = {k.upper() for k in ruleset.gemeenten}
            province_wide = bool(
                codes.notna().all() and codes.astype(str).str.upper().isin(known).all()
            )
    rules = list((record.get("regelset") or {}).get("regels") or [])
    return RunFolder(run_dir, sites, reference, record, gemeenten, province_wide, rules, ruleset)


# --------------------------------------------------------------------------
# Attribution
# --------------------------------------------------------------------------

_SOURCES = SOURCES  # known sources and their credits: analysis/vocabulary.py
_OWN = OWN_SOURCE


def attribution(run: RunFolder) -> str:
    """Return the "Bron: …" line of a run's maps, composed from its input layers.

    A layer whose file path or layer name points at a known source (CBS,
    OpenStreetMap, BAG, BRT, NWB, BIJ12, PDOK) is credited to it; every other
    layer to "Provincie Limburg / eigen invoer". The fictional demo region is
    named as such. Always ends with the tool and its version.
    """
    credits: list[str] = []
    if run.is_demo:
        credits.append(DEMO_SOURCE)
    else:
        for name, info in sorted((run.record.get("invoer") or {}).items()):
            info = info or {}
            text = f"{info.get('pad') or ''} {info.get('laag') or ''}".lower()
            text = text.replace("\\", "/")
            for pattern, credit in _SOURCES:
                if re.search(pattern, text) or re.search(pattern, Path(text.strip()).name):
                    credits.append(credit)
                    break
            else:
                credits.append(_OWN)
        known = [c for _, c in _SOURCES]
        credits = sorted(set(credits), key=lambda c: known.index(c) if c in known else len(known))
    credits.append(f"Locatietoets {run.version}")
    return "Bron: " + ", ".join(credits)


# --------------------------------------------------------------------------
# Input layers the maps draw for orientation (roads, place names)
# --------------------------------------------------------------------------

#: Road classes drawn on the maps, from the road-type values of OSM (``highway``) and NWB
#: (``bst_code``/``wegbehsrt``): main roads, regional roads, local roads.
ROAD_CLASSES: dict[str, tuple[str, ...]] = {
    "hoofdweg": (
        "motorway",
        "trunk",
        "primary",
        "motorway_link",
        "trunk_link",
        "primary_link",
        "hr",
        "r",
    ),
    "regionale weg": ("secondary", "tertiary", "secondary_link", "tertiary_link", "p"),
    "lokale weg": ("residential", "unclassified", "living_street", "road", "g", "w"),
}
_ROAD_TYPE_FIELDS = ("highway", "wegtype", "bst_code", "wegbehsrt")


def _config_value(run: RunFolder, layer: str, key: str) -> str | None:
    """A key of ``[lagen.<layer>]`` in the run's config.toml, or ``None``."""
    import tomllib

    path = Path(str(run.record.get("configuratie") or ""))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = ((data.get("lagen") or {}).get(layer) or {}).get(key)
    return str(value) if value else None


def read_input(run: RunFolder, key: str) -> gpd.GeoDataFrame | None:
    """An input layer of the run as named in ``run.json`` (EPSG:28992), or ``None`` when it is
    not there any more or not readable (the maps then go without it)."""
    info = (run.record.get("invoer") or {}).get(key) or {}
    path = Path(str(info.get("pad") or ""))
    if not info.get("pad"):
        return None
    if not path.is_absolute():
        path = Path(str(run.record.get("configuratie") or ".")).parent / path
    if not path.is_file():
        log.info("invoerlaag %s (%s) niet gevonden: de kaarten tonen hem niet", key, path)
        return None
    try:
        frame = gpd.read_file(path, layer=info.get("laag") or None, engine="pyogrio")
    except Exception as exc:  # noqa: BLE001 - orientation layers are optional
        log.info("invoerlaag %s niet leesbaar voor de kaarten: %s", key, exc)
        return None
    if frame.crs is not None and frame.crs.to_epsg() != 28992:
        frame = frame.to_crs(28992)
    return frame[frame.geometry.notna() & ~frame.geometry.is_empty]


def read_roads(run: RunFolder) -> gpd.GeoDataFrame | None:
    """The run's road network with a ``klasse`` per road (:data:`ROAD_CLASSES`); roads of
    another type (tracks, cycle paths) are left out. ``None`` without a readable network."""
    roads = read_input(run, "wegennet")
    if roads is None or roads.empty:
        return None
    field_name = _config_value(run, "wegennet", "wegtype_veld")
    if field_name not in roads:
        field_name = next((f for f in _ROAD_TYPE_FIELDS if f in roads), None)
    if field_name is None:
        return None
    kind = roads[field_name].astype("object").astype(str).str.strip().str.lower()
    klasse = pd.Series(None, index=roads.index, dtype="object")
    for name, values in ROAD_CLASSES.items():
        klasse[kind.isin(values)] = name
    roads = roads.assign(klasse=klasse)[["klasse", "geometry"]]
    return roads[roads["klasse"].notna()]


def read_places(run: RunFolder) -> gpd.GeoDataFrame | None:
    """Names of the kernen (``naam`` of the BBG input layer, when it has one) at a point inside
    each; ``None`` when the BBG has no names."""
    bbg = read_input(run, "bebouwd_gebied")
    if bbg is None or "naam" not in bbg:
        return None
    if "soort" in bbg and (bbg["soort"].astype(str) == "kern").any():
        bbg = bbg[bbg["soort"].astype(str) == "kern"]
    bbg = bbg[bbg["naam"].notna()]
    if bbg.empty:
        return None
    parts = bbg.dissolve(by="naam", as_index=False)
    area = parts.geometry.area.to_numpy()
    return gpd.GeoDataFrame(
        {"naam": parts["naam"].astype(str), "oppervlakte": area},
        geometry=parts.geometry.representative_point(),
        crs=bbg.crs,
    )
