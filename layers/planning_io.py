"""Files of the planning analyses: run folders, demand tables, plans, and outputs.

Reads run folders (``locaties.gpkg``, ``referentie.gpkg``, ``run.json``), the
demand table of ``capaciteit`` and the plan layer of ``bedrijfslocatie``;
loads a config's reference layers and road network once for repeated
scoring (``raster``, ``bedrijfslocatie``); and writes GeoPackages, CSV,
HTML pages, the choropleth PNG and cloud-optimised GeoTIFFs. Everything is
written inside a folder staged by :func:`layers.io.write.staged_output`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
import csv
from dataclasses import dataclass, field
import html
import io
import json
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from locatietoets.analysis.errors import InputError, did_you_mean
from locatietoets.analysis.planning.grid import VERDICT_CODES, GridSpec
from locatietoets.analysis.ruleset import STAY_TYPES, RuleSet
from locatietoets.analysis.texts import nl_number
from locatietoets.layers.io.config import Config, LayerSpec
from locatietoets.layers.io.inputs import load_inputs
from locatietoets.layers.io.read import (
    RD_NEW,
    LayerReport,
    read_layer,
)
from locatietoets.layers.publish.style import VERDICT_COLOURS

__all__ = [
    "RunData",
    "read_run_folder",
    "read_demand_table",
    "DEMAND_HELP",
    "LoadedInputs",
    "load_scoring_inputs",
    "read_plans",
    "write_layer",
    "write_table",
    "html_page",
    "html_table",
    "write_choropleth",
    "write_cog",
    "verdict_qml",
]

log = logging.getLogger(__name__)
_FIXED_DATE = "2000-01-01T00:00:00Z"

#: Format of the demand table, for --help and error messages.
DEMAND_HELP = (
    "CSV met ';' of ',' als scheidingsteken (UTF-8), één regel per gemeente: kolom 'gemeente' (naam"
    " of CBS-code GMxxxx; ook 'code' of 'naam' mag) en per verblijfstype de behoefte in personen in"
    " kolommen short_stay, mid_stay, long_stay (minstens één; 'short-stay' mag ook; decimale komma"
    " mag). Gemeenten die niet in de tabel staan krijgen 'geen opgave'."
)
_KEY_COLUMNS = ("gemeente", "gemeentecode", "code", "gemeentenaam", "naam")


# ---------------------------------------------------------------------------
# Run folders
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Demand table
# ---------------------------------------------------------------------------


def _stay_column(name: str) -> str | None:
    key = str(name).strip().casefold().replace("-", "_").replace(" ", "_")
    if key in STAY_TYPES:
        return key
    if key.replace("_", "") in {s.replace("_", "") for s in STAY_TYPES}:
        return next(s for s in STAY_TYPES if s.replace("_", "") == key.replace("_", ""))
    return None


def read_demand_table(path: Path) -> pd.DataFrame:
    """Read the demand table (see :data:`DEMAND_HELP`).

    Returns
    -------
    pandas.DataFrame
        ``gemeente`` (text as written) and one float column per stay type
        given (persons; an empty cell is 0).

    Raises
    ------
    InputError
        Missing/unreadable file, no gemeente column, no stay-type column,
        text or negative numbers (all problems together).
    """
    path = Path(path)
    if not path.is_file():
        hint = (
            did_you_mean(path.name, [p.name for p in path.parent.iterdir()])
            if path.parent.is_dir()
            else ""
        )
        raise InputError(f"Behoeftetabel '{path}' bestaat niet.{hint} {DEMAND_HELP}")
    from locatietoets.layers.io.textfile import decode_text

    try:
        text, note = decode_text(
            path.read_bytes(), path, error=InputError, label="Behoeftetabel", fallback=True
        )
        if note:
            log.warning("Behoeftetabel: %s", note)
        sample = text[: 64 * 1024]
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=";,\t").delimiter
        except csv.Error:
            delimiter = ";" if sample.count(";") > sample.count(",") else ","
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError) as exc:
        raise InputError(
            f"Behoeftetabel '{path}' is niet leesbaar als CSV ({exc}). {DEMAND_HELP}"
        ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    lower = {c.casefold(): c for c in frame.columns}
    key = next((lower[k] for k in _KEY_COLUMNS if k in lower), None)
    stay_cols = {c: _stay_column(c) for c in frame.columns}
    stay_cols = {c: s for c, s in stay_cols.items() if s}
    problems = []
    if key is None:
        problems.append(
            f"Behoeftetabel '{path.name}' heeft geen kolom"
            f" 'gemeente'.{did_you_mean('gemeente', frame.columns)} Gevonden kolommen:"
            f" {', '.join(frame.columns)}. {DEMAND_HELP}"
        )
    if not stay_cols:
        problems.append(
            f"Behoeftetabel '{path.name}' heeft geen kolom per verblijfstype (short_stay, mid_stay,"
            f" long_stay). Gevonden kolommen: {', '.join(frame.columns)}."
        )
    if problems:
        raise InputError(problems)
    if len(frame) == 0:
        raise InputError(f"Behoeftetabel '{path.name}' is leeg. {DEMAND_HELP}")
    out = pd.DataFrame({"gemeente": frame[key].str.strip().to_numpy()})
    for col, stay in stay_cols.items():
        text = (
            frame[col]
            .str.strip()
            .str.replace(".", "", regex=False)
            .where(
                ~frame[col].str.contains(r"^\s*\d+\.\d{1,2}\s*$", regex=True),
                frame[col].str.strip(),
            )
        )
        text = text.str.replace(",", ".", regex=False)
        values = pd.to_numeric(text.where(text != "", "0"), errors="coerce")
        bad = values.isna()
        if bad.any():
            problems.append(
                f"Behoeftetabel '{path.name}' kolom '{col}' moet aantallen personen bevatten;"
                f" gevonden o.a. {', '.join(repr(v) for v in frame.loc[bad, col].unique()[:5])}"
                f" (bij {', '.join(frame.loc[bad, key].astype(str).unique()[:5])})."
            )
        if (values < 0).any():
            problems.append(
                f"Behoeftetabel '{path.name}' kolom '{col}' heeft negatieve aantallen; alleen ≥ 0"
                " is geldig."
            )
        out[stay] = values.to_numpy(dtype=float)
    if problems:
        raise InputError(problems)
    return out


# ---------------------------------------------------------------------------
# Loading a config once for repeated scoring
# ---------------------------------------------------------------------------


@dataclass
class LoadedInputs:
    """A config's inputs, loaded once (the sites optionally).

    Attributes
    ----------
    config, ruleset
        The config and its effective rule set.
    frames, reports
        Normalised reference layers and what reading them found.
    network
        The road network (``analysis.network.RoadNetwork``) or None.
    network_mode
        ``auto`` | ``fiets`` | ``lopen`` (``fiets`` when no network).
    original, sites
        The locaties layer as read and normalised (None when not loaded).
    warnings
        Dutch warnings.
    """

    config: Config
    ruleset: RuleSet
    frames: dict[str, gpd.GeoDataFrame]
    reports: dict[str, LayerReport]
    network: Any = None
    network_mode: str = "fiets"
    original: gpd.GeoDataFrame | None = None
    sites: gpd.GeoDataFrame | None = None
    warnings: list[str] = field(default_factory=list)

    def inputs(self, sites: gpd.GeoDataFrame):
        """Return :class:`analysis.pipeline.Inputs` for ``sites`` with the loaded layers."""
        from locatietoets.analysis.pipeline import Inputs

        return Inputs(
            sites=sites,
            bbg=self.frames.get("bebouwd_gebied"),
            kom=self.frames.get("bebouwde_kom"),
            contours=self.frames.get("geurcontouren"),
            farms=self.frames.get("veehouderijen"),
            parks=self.frames.get("recreatieparken"),
            employers=self.frames.get("werkgevers"),
            gemeenten=self.frames.get("gemeenten"),
            network=self.network if self.frames.get("werkgevers") is not None else None,
        )

    def record(self) -> dict[str, Any]:
        """The inputs part of a run record (config, rule set, input checksums)."""
        return {
            "configuratie": str(self.config.source) if self.config.source else None,
            "regelset": self.ruleset.record(),
            "invoer": {name: r.record() for name, r in self.reports.items()},
            "waarschuwingen": list(self.warnings),
        }


def load_scoring_inputs(
    config: Config,
    *,
    load_site_layer: bool = True,
    network_without_employers: bool = False,
    network_cache_dir: Path | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> LoadedInputs:
    """Load a config's rule set, reference layers and road network once.

    The same readers as ``locatietoets score`` (``scripts.runner.score.run_config``):
    ``layers.io.rules.load_ruleset``, ``layers.io.read.load_sites`` and
    ``load_reference_layers``, ``layers.io.network.load_network``.

    Parameters
    ----------
    config
        A validated config.
    load_site_layer
        Also read ``[lagen.locaties]``.
    network_without_employers
        Load ``[lagen.wegennet]`` also when the config has no werkgevers (the
        business-location check routes to the plan instead).
    network_cache_dir
        Where prepared networks are cached.
    progress
        ``progress(fraction, dutch_message)``.
    """

    def report(fraction: float, message: str) -> None:
        if progress is not None:
            progress(fraction, message)

    report(0.0, "Regelset en lagen inlezen")
    loaded = load_inputs(config, load_site_layer=load_site_layer)  # every problem at once
    ruleset, original, sites = loaded.ruleset, loaded.original, loaded.sites
    frames, reports = loaded.frames, loaded.reports
    warnings = [f"{name}: {w}" for name, r in reports.items() for w in r.warnings]
    network = None
    mode = "fiets"
    spec = config.layer("wegennet")
    if spec is not None:
        if config.layer("werkgevers") is None and not network_without_employers:
            warnings.append(
                "[lagen.wegennet] is opgegeven zonder [lagen.werkgevers]: reisafstand wordt niet"
                " berekend"
            )
        else:
            from locatietoets.layers.io.network import load_configured_network

            report(0.5, "Wegennet voorbereiden")
            network, reports["wegennet"] = load_configured_network(
                spec,
                ruleset,
                cache_dir=network_cache_dir,
                progress=lambda fr, msg="": report(0.5 + 0.5 * fr, msg or "Wegennet voorbereiden"),
            )
            mode = network.mode
    report(1.0, "Invoer geladen")
    return LoadedInputs(
        config=config,
        ruleset=ruleset,
        frames=frames,
        reports=reports,
        network=network,
        network_mode=mode,
        original=original,
        sites=sites,
        warnings=warnings,
    )


# ---------------------------------------------------------------------------
# Business-location plans
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------


def _clean_columns(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for col in frame.columns:
        if col == "geometry":
            continue
        if frame[col].dtype == object:
            frame[col] = frame[col].map(
                lambda v: v if v is None or isinstance(v, (str, bool, int, float)) else str(v)
            )
    return frame


def write_layer(frame: gpd.GeoDataFrame, path: Path, *, layer: str) -> None:
    """Write one layer to a GeoPackage (GPKG 1.2, EPSG:28992, fixed timestamps); appends to an
    existing file."""
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _FIXED_DATE})
    try:
        geoms = frame.geometry.to_numpy()
        types = set(
            shapely.get_type_id(geoms[~(pd.isna(geoms) | shapely.is_empty(geoms))]).tolist()
        )
        polygon = bool(types & {3, 6})
        geometry_type = (
            "MultiPolygon"
            if polygon and not types & {0, 4}
            else ("Point" if types <= {0} else "Unknown")
        )
        pyogrio.write_dataframe(
            _clean_columns(frame),
            path,
            layer=layer,
            driver="GPKG",
            geometry_type=geometry_type,
            promote_to_multi=geometry_type == "MultiPolygon",
            dataset_options={"VERSION": "1.2"},
            layer_options={"SPATIAL_INDEX": "YES"},
            append=path.exists(),
        )
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"Wegschrijven van '{path.name}' (laag {layer}) mislukt: {exc}.") from None
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write a CSV (UTF-8, ',' separator, '.' decimals, no index)."""
    frame = pd.DataFrame(frame).drop(columns=["geometry"], errors="ignore")
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n", float_format="%.6g")


def write_json(data: Mapping[str, Any], path: Path) -> None:
    """Write JSON (UTF-8, indented), numpy values converted."""
    from locatietoets.layers.io.write import write_json as _write

    _write(dict(data), path)


def html_table(
    frame: pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    digits: int = 0,
    negative_red: Sequence[str] = (),
) -> str:
    """Render a table as HTML with Dutch number formatting (values escaped)."""
    columns = dict(columns) if columns else {c: c for c in frame.columns}
    head = "".join(f"<th>{html.escape(label)}</th>" for label in columns.values())
    rows = []
    for rec in frame[list(columns)].itertuples(
        index=False
    ):  # tables of gemeenten/rules: tens of rows
        cells = []
        for name, value in zip(columns, rec):
            numeric = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
                value, (bool, np.bool_)
            )
            cls = ' class="num"' if numeric else ""
            if numeric and name in negative_red and np.isfinite(value) and value < 0:
                cls = ' class="num neg"'
            cells.append(f"<td{cls}>{html.escape(nl_number(value, digits))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


_CSS = (
    "body{font-family:Segoe UI,Arial,sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em}"
    "th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left}th{background:#f1efe9}"
    "td.num{text-align:right}td.neg{color:#b2182b;font-weight:bold}.meta{color:#5a5a5a;font-size:.85em}"
)


def html_page(title: str, body: str, *, meta: str = "") -> str:
    """A self-contained Dutch HTML page; the ``<section>`` inside can be lifted into a report."""
    return (
        '<!DOCTYPE html>\n<html lang="nl"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f'<section class="locatietoets-sectie"><h1>{html.escape(title)}</h1>'
        + (f'<p class="meta">{html.escape(meta)}</p>' if meta else "")
        + body
        + "</section></body></html>\n"
    )


def write_choropleth(
    gemeenten: gpd.GeoDataFrame,
    path: Path,
    *,
    column: str,
    title: str,
    subtitle: str,
    legend_title: str,
) -> None:
    """Draw a choropleth PNG of ``column`` per gemeente (offline, matplotlib).

    NaN is drawn grey as "geen opgave", 0 as "geen tekort"; positive values in
    four classes (rounded quantile breaks) from light to dark red.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    try:
        from locatietoets.layers.publish.maps import A4_LANDSCAPE_IN as size
    except Exception:  # noqa: BLE001 - the maps module is optional here
        size = (11.69, 8.27)
    values = pd.to_numeric(gemeenten[column], errors="coerce").to_numpy(dtype=float)
    positive = values[np.isfinite(values) & (values > 0)]
    reds = ["#fcbba1", "#fb6a4a", "#cb181d", "#67000d"]
    if len(positive):
        qs = np.unique(np.ceil(np.quantile(positive, [0.25, 0.5, 0.75, 1.0])))
        breaks = [float(b) for b in qs]
    else:
        breaks = []
    colours = np.full(len(values), "#d9d9d9", dtype=object)
    colours[np.isfinite(values) & (values <= 0)] = "#a6dba0"
    labels = [("#d9d9d9", "geen opgave"), ("#a6dba0", "geen tekort")]
    lower = 0.0
    for i, upper in enumerate(breaks):
        colour = reds[min(i + (len(reds) - len(breaks)), len(reds) - 1)]
        sel = np.isfinite(values) & (values > lower) & (values <= upper)
        colours[sel] = colour
        labels.append(
            (
                colour,
                (
                    f"{nl_number(lower + (1 if lower else 0))} – {nl_number(upper)}"
                    if upper > lower + 1
                    else f"{nl_number(upper)}"
                ),
            )
        )
        lower = upper
    fig = Figure(figsize=size, dpi=100)
    ax = fig.add_axes((0.03, 0.08, 0.68, 0.8))
    ax.set_axis_off()
    ax.set_aspect("equal")
    gemeenten.plot(ax=ax, color=list(colours), edgecolor="#505050", linewidth=0.6)
    reps = gemeenten.geometry.representative_point()
    for name, pt in zip(gemeenten["naam"], reps):
        ax.annotate(str(name), (pt.x, pt.y), ha="center", va="center", fontsize=6, color="#222222")
    fig.text(0.03, 0.94, title, fontsize=15, weight="bold", color="#222222")
    fig.text(0.03, 0.905, subtitle, fontsize=9, color="#5a5a5a")
    handles = [Patch(facecolor=c, edgecolor="#505050", label=text) for c, text in labels]
    fig.legend(
        handles=handles,
        title=legend_title,
        loc="upper left",
        bbox_to_anchor=(0.73, 0.86),
        frameon=False,
        fontsize=9,
        title_fontsize=10,
    )
    fig.text(
        0.03,
        0.03,
        "Gemeentegrenzen: referentielaag van de run; berekening: Locatietoets. Coördinaten"
        " EPSG:28992 (RD New).",
        fontsize=7,
        color="#5a5a5a",
    )
    fig.savefig(path, format="png", dpi=150, metadata={"Software": "Locatietoets"})


# ---------------------------------------------------------------------------
# Cloud-optimised GeoTIFFs
# ---------------------------------------------------------------------------

_VERDICT_LABELS = {code: VERDICT_COLOURS[v][0] for v, code in VERDICT_CODES.items()}


def verdict_qml() -> str:
    """QGIS style (paletted, Dutch labels) for a verdict raster; QGIS loads ``<naam>.qml``
    automatically."""
    entries = "".join(
        f'<paletteEntry value="{code}" color="#{r:02x}{g:02x}{b:02x}" alpha="255"'
        f' label="{html.escape(VERDICT_COLOURS[v][0])}"/>'
        for v, code in VERDICT_CODES.items()
        for r, g, b in [VERDICT_COLOURS[v][1]]
    )
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        '<qgis version="3.22.16-Białowieża" styleCategories="Symbology">'
        '<pipe><rasterrenderer type="paletted" band="1" opacity="1" alphaBand="-1" nodataColor="">'
        f"<colorPalette>{entries}</colorPalette></rasterrenderer></pipe></qgis>\n"
    )


def _category_aux_xml(names: Sequence[str]) -> str:
    cats = "".join(f"<Category>{html.escape(n)}</Category>" for n in names)
    return (
        '<PAMDataset>\n  <PAMRasterBand band="1">\n'
        f"    <CategoryNames>{cats}</CategoryNames>\n"
        "  </PAMRasterBand>\n</PAMDataset>\n"
    )


def write_cog(
    path: Path,
    data: np.ndarray,
    grid: GridSpec,
    *,
    nodata: float,
    description: str,
    verdict_classes: bool = False,
    tags: Mapping[str, str] | None = None,
) -> None:
    """Write one band as a cloud-optimised GeoTIFF (GDAL COG driver), EPSG:28992.

    Parameters
    ----------
    path
        Destination ``.tif`` (normally inside a staged folder).
    data
        2-D array ``(grid.height, grid.width)``: float32 scores or uint8
        verdict classes.
    grid
        The grid (transform).
    nodata
        The nodata value.
    description
        Band description (Dutch).
    verdict_classes
        Add the verdict colour table, category names (``.aux.xml``) and a
        QGIS style (``.qml``) next to the file; overviews by nearest
        neighbour instead of averaging.
    tags
        Extra dataset metadata.
    """
    import rasterio
    from rasterio.io import MemoryFile
    from rasterio.shutil import copy as rio_copy
    from rasterio.transform import Affine

    profile = {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": 1,
        "dtype": data.dtype.name,
        "crs": "EPSG:28992",
        "transform": Affine(*grid.transform),
        "nodata": nodata,
    }
    # Overviews are made down to one block: small grids get small blocks so they still get
    # overviews.
    block = 512
    while block > 16 and max(grid.width, grid.height) <= block:
        block //= 2
    with MemoryFile() as mem:
        with mem.open(**profile) as ds:
            ds.write(data, 1)
            ds.set_band_description(1, description)
            ds.update_tags(**(tags or {}))
            if verdict_classes:
                cmap = {0: (0, 0, 0, 0)}
                for verdict, code in VERDICT_CODES.items():
                    cmap[code] = (*VERDICT_COLOURS[verdict][1], 255)
                ds.write_colormap(1, cmap)
                ds.update_tags(
                    1,
                    **{f"klasse_{code}": label for code, label in _VERDICT_LABELS.items()},
                    klasse_0="geen gegevens",
                )
        with mem.open() as src:
            rio_copy(
                src,
                str(path),
                driver="COG",
                COMPRESS="DEFLATE",
                PREDICTOR="NO" if verdict_classes else "YES",
                BLOCKSIZE=str(block),
                OVERVIEWS="IGNORE_EXISTING",
                RESAMPLING="NEAREST" if verdict_classes else "AVERAGE",
                OVERVIEW_RESAMPLING="NEAREST" if verdict_classes else "AVERAGE",
                NUM_THREADS="ALL_CPUS",
            )
    if verdict_classes:
        names = ["geen gegevens"] + [_VERDICT_LABELS[c] for c in sorted(_VERDICT_LABELS)]
        Path(str(path) + ".aux.xml").write_text(_category_aux_xml(names), encoding="utf-8")
        path.with_suffix(".qml").write_text(verdict_qml(), encoding="utf-8")
    with rasterio.open(path) as check:  # fail here, not in the user's GIS
        if check.overviews(1) == [] and max(grid.width, grid.height) > 32:
            raise InputError(
                f"'{path.name}' is zonder overzichten geschreven; controleer de GDAL-installatie"
                " (COG-driver)."
            )
