"""Open input files and check them: format, CRS, extent, geometry repair.

This is the only module that opens input layer files (besides the road-network
reader); :mod:`locatietoets.layers.io.read` parses their fields. Every check
produces a Dutch message naming the layer, the field, what was found and how to
fix it; problems are collected and raised together. Input files are only read,
never written.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
import datetime as dt
import hashlib
import io
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS
from pyproj.exceptions import CRSError
import shapely

from locatietoets.analysis.errors import InputError, did_you_mean
from locatietoets.analysis.texts import nl_number
from locatietoets.layers.io.spec import Config, LayerSpec

__all__ = [
    "RD_NEW",
    "LayerReport",
    "layer_label",
    "check_inputs",
    "readable_part",
    "read_layer",
    "open_rows",
    "file_sha256",
]

log = logging.getLogger(__name__)

RD_NEW = CRS.from_epsg(28992)
# pyogrio reads through Arrow (several times faster for large layers) when pyarrow is installed
try:
    import pyarrow  # noqa: F401

    _USE_ARROW = True
except ImportError:  # pragma: no cover - pyarrow is a pinned dependency
    _USE_ARROW = False
# Generous bounds of the Netherlands in RD New (m): data outside is in the wrong CRS.
_RD_BOUNDS = (-60_000.0, 250_000.0, 360_000.0, 680_000.0)
_POINTS = {"Point", "MultiPoint"}
_POLYGONS = {"Polygon", "MultiPolygon"}
_GEOM_TYPES: dict[str, set[str]] = {
    "locaties": _POINTS | _POLYGONS,
    "bebouwd_gebied": _POLYGONS,
    "bebouwde_kom": _POLYGONS,
    "geurcontouren": _POLYGONS,
    "veehouderijen": _POINTS | _POLYGONS,
    "recreatieparken": _POLYGONS,
    "werkgevers": _POINTS | _POLYGONS,
    "gemeenten": _POLYGONS,
    "kernen": _POINTS | _POLYGONS,
    "bestaande_huisvesting": _POINTS | _POLYGONS,
    "voorzieningen": _POINTS | _POLYGONS,  # every [lagen.voorzieningen.<soort>]
}
#: A declared constraint layer ``[lagen.beperkingen.<naam>]``: areas, or lines and points with
#: a buffer in the rule.
_CONSTRAINT_TYPES = _POINTS | _POLYGONS | {"LineString", "MultiLineString"}
#: The geometry type names by shapely type id.
_TYPE_NAMES = np.asarray(
    [
        "Point",
        "LineString",
        "LinearRing",
        "Polygon",
        "MultiPoint",
        "MultiLineString",
        "MultiPolygon",
        "GeometryCollection",
    ],
    dtype=object,
)
_TYPE_NL = {
    "Point": "punten",
    "MultiPoint": "multipunten",
    "Polygon": "vlakken",
    "MultiPolygon": "multivlakken",
    "LineString": "lijnen",
    "MultiLineString": "multilijnen",
    "GeometryCollection": "geometrieverzamelingen",
}


@dataclass
class LayerReport:
    """What reading one layer found, for the run record.

    Attributes
    ----------
    name, path, layer
        The config name, the file and the layer inside it.
    sha256
        Checksum of the file as read.
    modified
        The file's modification time (ISO 8601, UTC): the data date.
    features
        Number of features read.
    source_crs
        The CRS of the file (or the configured one).
    repaired
        Invalid geometries that were repaired.
    without_geometry
        Features with an empty or missing geometry.
    warnings
        Dutch warnings.
    """

    name: str
    path: str
    layer: str | None
    sha256: str
    modified: str
    features: int = 0
    source_crs: str = ""
    repaired: int = 0
    without_geometry: int = 0
    warnings: list[str] = field(default_factory=list)
    repaired_rows: np.ndarray | None = field(default=None, repr=False)

    def record(self) -> dict[str, Any]:
        """JSON-able form for run.json."""
        return {
            "pad": self.path,
            "laag": self.layer,
            "sha256": self.sha256,
            "gewijzigd": self.modified,
            "objecten": self.features,
            "crs_bron": self.source_crs,
            "geometrie_gerepareerd": self.repaired,
            "zonder_geometrie": self.without_geometry,
            "waarschuwingen": self.warnings,
        }


def file_sha256(path: Path) -> str:
    """Return the sha256 of a file (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def layer_label(spec: LayerSpec) -> str:
    return f"[lagen.{spec.name}]"


def _read_csv(spec: LayerSpec, notes: list[str]) -> gpd.GeoDataFrame:
    from locatietoets.layers.io.textfile import decode_text

    try:
        raw = spec.path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"{layer_label(spec)} '{spec.path}' kan niet gelezen worden: {exc.strerror}."
        ) from None
    text, note = decode_text(
        raw,
        spec.path,
        error=InputError,
        label=layer_label(spec),
        fallback=True,
        encoding=spec.get("codering"),
    )
    if note:
        notes.append(note)
    sample = text[: 64 * 1024]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(
            f"{layer_label(spec)} '{spec.path.name}' is geen leesbare CSV-tabel ({_clean(exc)})."
            " Controleer het scheidingsteken en de aanhalingstekens."
        ) from None
    x_field, y_field, wkt_field = spec.get("x_veld"), spec.get("y_veld"), spec.get("wkt_veld")
    if not (x_field or wkt_field):
        raise InputError(
            f"{layer_label(spec)} '{spec.path.name}' is een tabel zonder geometrie. Geef in de"
            " configuratie x_veld en y_veld (coördinaten) of wkt_veld (WKT-geometrie) op. Velden"
            f" in het bestand: {', '.join(frame.columns)}."
        )
    problems = [
        f"{layer_label(spec)} veld '{name}' bestaat niet in"
        f" '{spec.path.name}'.{did_you_mean(name, frame.columns)} Beschikbare velden:"
        f" {', '.join(frame.columns)}."
        for name in (x_field, y_field, wkt_field)
        if name and name not in frame.columns
    ]
    if problems:
        raise InputError(problems)
    if wkt_field:
        text = frame[wkt_field]
        try:
            present = (text.notna() & (text.str.strip() != "")).to_numpy(dtype=bool)
            geoms = np.full(len(text), None, dtype=object)
            geoms[present] = shapely.from_wkt(
                text[present].to_numpy(dtype=object), on_invalid="raise"
            )
        except shapely.errors.GEOSException as exc:
            raise InputError(
                f"{layer_label(spec)} veld '{wkt_field}' bevat ongeldige WKT ({exc}). Controleer de"
                " geometrietekst."
            ) from None
        data = frame.drop(columns=[wkt_field])
    else:
        coords = []
        for name in (x_field, y_field):
            raw = frame[name].str.strip().str.replace(",", ".", regex=False)  # Dutch decimal comma
            num = pd.to_numeric(raw, errors="coerce")
            bad = raw.notna() & (raw != "") & num.isna()
            if bad.any():
                raise InputError(
                    f"{layer_label(spec)} veld '{name}' moet een getal (coördinaat) zijn; gevonden"
                    " o.a. "
                    f"{', '.join(repr(v) for v in raw[bad].unique()[:5])}. Corrigeer deze waarden."
                )
            coords.append(num.to_numpy(dtype=float))
        x, y = coords
        ok = np.isfinite(x) & np.isfinite(y)
        geoms = np.full(len(frame), None, dtype=object)
        geoms[ok] = shapely.points(x[ok], y[ok])
        data = frame
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, index=frame.index), crs=None)


def _missing_file(spec: LayerSpec, taken: frozenset[Path] = frozenset()) -> str:
    """The message for a layer file that does not exist, with a hint at a similar file no other
    layer uses."""
    hint = ""
    parent = spec.path.parent
    if parent.is_dir():
        candidates = [
            p.name
            for p in parent.iterdir()
            if p.resolve() not in taken and not p.name.startswith(".")
        ]
        hint = did_you_mean(spec.path.name, candidates)
    return (
        f"{layer_label(spec)} bestand '{spec.path}' bestaat niet.{hint} Controleer 'pad' in de"
        " configuratie (relatieve paden gelden vanaf de map van het configuratiebestand)."
    )


def _unreadable(spec: LayerSpec, exc: Exception) -> str:
    log.debug("GDAL over %s: %s", spec.path, exc)  # GDAL's own (English) words only with --debug
    return _file_problem(spec) or (
        f"{layer_label(spec)} bestand '{spec.path}' kan niet gelezen worden als GIS-laag: het"
        " formaat"
        " wordt niet herkend of het bestand is beschadigd. Gebruik een GeoPackage, Shapefile,"
        " GeoJSON, FlatGeobuf of CSV met x/y of WKT."
    )


_SQLITE_HEADER = b"SQLite format 3\x00"


def _file_problem(spec: LayerSpec) -> str | None:
    """What is wrong with a layer file that exists, told in Dutch before GDAL tries it (or None)."""
    label, path = layer_label(spec), spec.path
    if not path.is_file():
        return None
    if path.stat().st_size == 0:
        return (
            f"{label} bestand '{path}' is leeg (0 bytes): er staat niets in. Exporteer de laag"
            " opnieuw of kies het juiste bestand in 'pad'."
        )
    suffix = path.suffix.lower()
    if suffix == ".gpkg":
        with path.open("rb") as fh:
            head = fh.read(len(_SQLITE_HEADER))
        if head != _SQLITE_HEADER:
            return (
                f"{label} bestand '{path}' kan niet gelezen worden: het is geen GeoPackage (geen"
                " SQLite-database; een ander formaat met de extensie .gpkg, of een beschadigd of"
                " half gekopieerd bestand). Exporteer de laag opnieuw als GeoPackage."
            )
    if suffix == ".shp":
        for part, meaning in ((".shx", "de index"), (".dbf", "de attributen")):
            if not any(path.with_suffix(s).exists() for s in (part, part.upper())):
                return (
                    f"{label} bij Shapefile '{path.name}' ontbreekt '{path.with_suffix(part).name}'"
                    f" ({meaning}). Een Shapefile bestaat uit meerdere bestanden (.shp, .shx, .dbf,"
                    " .prj): kopieer ze allemaal mee, of lever de laag als GeoPackage."
                )
    return None


def check_inputs(config: Config) -> dict[str, list[str]]:
    """Every problem with the config's layer files that shows without reading the data.

    Checks for every layer: the file exists (the hint never suggests a file
    another layer uses), it opens as a GIS layer (or CSV table), the layer
    inside it exists, and every configured field (``*_veld``) exists. Returns
    the Dutch problems per layer name (only layers with problems), so all are
    reported together and a config is fixed in one go.
    """
    taken = frozenset(spec.path.resolve() for spec in config.layers.values())
    found: dict[str, list[str]] = {}
    for spec in config.layers.values():
        problems = found.setdefault(spec.name, [])
        if not spec.path.exists():
            problems.append(_missing_file(spec, taken - {spec.path.resolve()}))
            continue
        problem = _file_problem(spec)
        if problem:
            problems.append(problem)
            continue
        if spec.name == "wegennet":
            continue  # GraphML, OSM and line layers: checked by the network reader
        try:
            columns = _columns(spec)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        if columns is None:
            continue
        for key, name in spec.options.items():
            if key.endswith("_veld") and isinstance(name, str) and name not in columns:
                problems.append(
                    f'{layer_label(spec)} {key} = "{name}": dat veld bestaat niet in'
                    f" '{spec.path.name}'.{did_you_mean(name, columns)} Beschikbare velden:"
                    f" {', '.join(columns) or '(geen)'}."
                )
    return {name: problems for name, problems in found.items() if problems}


def readable_part(config: Config, bad: dict[str, list[str]]) -> Config:
    """``config`` without the layers whose file is missing or unreadable (their problems are already
    known).

    Layers that only miss a field stay: reading them reports the same problem
    (once) along with every problem in their data.
    """
    from dataclasses import replace

    drop = {name for name, problems in bad.items() if any('_veld = "' not in p for p in problems)}
    return replace(
        config, layers={name: spec for name, spec in config.layers.items() if name not in drop}
    )


def _columns(spec: LayerSpec) -> list[str] | None:
    """The field names of a layer file (CSV header or GIS fields), or None when they cannot be known
    cheaply."""
    from locatietoets.layers.io.textfile import decode_text

    if spec.path.suffix.lower() in (".csv", ".txt") and (
        spec.get("x_veld") or spec.get("wkt_veld") or spec.path.suffix.lower() == ".txt"
    ):
        text, _ = decode_text(
            spec.path.read_bytes(),
            spec.path,
            error=InputError,
            label=layer_label(spec),
            fallback=True,
            encoding=spec.get("codering"),
        )
        sample = text[: 64 * 1024]
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
        first = next(csv.reader(io.StringIO(sample), delimiter=delimiter), [])
        return [c for c in first]
    names = _layer_names(spec)
    layer = spec.layer
    if layer is None and len(names) > 1:
        return None  # reported when the layer is read
    try:
        return [str(f) for f in pyogrio.read_info(spec.path, layer=layer)["fields"]]
    except Exception:
        return None


def _layer_names(spec: LayerSpec) -> list[str]:
    """The layers in ``spec``'s file; a Dutch InputError when the file cannot be read or holds no
    layer with the configured name."""
    try:
        layers = pyogrio.list_layers(spec.path)
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise InputError(_unreadable(spec, exc)) from None
    names = [str(row[0]) for row in layers]
    if spec.layer is not None and spec.layer not in names:
        raise InputError(
            f"{layer_label(spec)} laag '{spec.layer}' bestaat niet in"
            f" '{spec.path.name}'.{did_you_mean(spec.layer, names)} Beschikbare lagen:"
            f" {', '.join(names)}."
        )
    return names


def _open(spec: LayerSpec, notes: list[str], rows: tuple | None = None) -> gpd.GeoDataFrame:
    label = layer_label(spec)
    if not spec.path.exists():
        raise InputError(_missing_file(spec))
    problem = _file_problem(spec)
    if problem:
        raise InputError(problem)
    if spec.path.suffix.lower() in (".csv", ".txt") and (
        spec.get("x_veld") or spec.get("wkt_veld") or spec.path.suffix.lower() == ".txt"
    ):
        return _read_csv(spec, notes)
    names = _layer_names(spec)
    layer = spec.layer
    if layer is None and len(names) > 1:
        raise InputError(
            f"{label} '{spec.path.name}' bevat meerdere lagen ({', '.join(names)}). "
            "Kies er één met 'laag = \"...\"' in de configuratie."
        )
    if spec.path.suffix.lower() == ".csv":
        frame = pyogrio.read_dataframe(spec.path, layer=layer)
        if "geometry" not in frame or frame.geometry.isna().all():
            return _read_csv(spec, notes)
        return frame
    try:
        extra = {"encoding": spec.get("codering")} if spec.get("codering") else {}
        if rows is not None and len(rows) == 3:  # one block, selected by an attribute filter
            extra.update(where=rows[2])
        elif rows is not None:  # one block of rows (a run read in blocks)
            extra.update(skip_features=rows[0], max_features=rows[1] - rows[0])
        return pyogrio.read_dataframe(
            spec.path, layer=layer, use_arrow=_arrow_safe(spec.path, layer), **extra
        )
    except Exception as exc:
        log.debug("GDAL over %s: %s", spec.path, exc)
        raise InputError(
            f"{label} '{spec.path.name}' kan niet gelezen worden: het bestand is waarschijnlijk"
            " beschadigd of onvolledig. Exporteer de laag opnieuw (bij voorkeur als GeoPackage)."
        ) from None


def open_rows(spec: LayerSpec, rows: tuple) -> gpd.GeoDataFrame:
    """The features ``rows`` (see :func:`read_layer`) of a GDAL layer as GDAL gives them, unchecked:
    for :func:`read_layer` ``opened``. GDAL reading and WKB parsing release the GIL, so a thread
    can read the next block while the current one is checked."""
    return _open(spec, [], rows)


def _arrow_safe(path: Path, layer: str | None) -> bool:
    """Read through Arrow only when every field is text or a number (both readers then give the same
    frame)."""
    if not _USE_ARROW:
        return False
    try:
        dtypes = pyogrio.read_info(path, layer=layer)["dtypes"]
    except Exception:
        return False
    return all(str(d) == "object" or str(d).startswith(("int", "float")) for d in dtypes)


def _clean(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__


def _set_crs(frame: gpd.GeoDataFrame, spec: LayerSpec) -> tuple[gpd.GeoDataFrame, str]:
    label = layer_label(spec)
    configured = None
    if spec.crs:
        try:
            configured = CRS.from_user_input(spec.crs)
        except CRSError:
            raise InputError(
                f"{label} crs '{spec.crs}' is onbekend. Gebruik een EPSG-code, bv. crs ="
                ' "EPSG:28992" (RD New).'
            ) from None
    if frame.crs is None:
        if configured is None:
            raise InputError(
                f"{label} '{spec.path.name}' heeft geen coördinatenstelsel (CRS). Zet het CRS in"
                ' het bestand, of geef het in de configuratie op, bv. crs = "EPSG:28992" voor RD'
                " New."
            )
        frame = frame.set_crs(configured)
    elif configured is not None and not CRS(frame.crs).equals(configured):
        raise InputError(
            f"{label} '{spec.path.name}' heeft CRS {_crs_name(frame.crs)}, maar de configuratie"
            f" zegt crs = \"{spec.crs}\". 'crs' is alleen voor bestanden zonder CRS: verwijder het"
            " uit de configuratie of corrigeer het bestand."
        )
    source = _crs_name(frame.crs)
    if not CRS(frame.crs).equals(RD_NEW):
        try:
            frame = frame.to_crs(RD_NEW)
        except Exception as exc:
            raise InputError(
                f"{label} omzetten van {source} naar EPSG:28992 (RD New) lukt niet ({_clean(exc)})."
            ) from None
    else:
        frame = frame.set_crs(RD_NEW, allow_override=True)
    return frame, source


def _crs_name(crs: Any) -> str:
    crs = CRS(crs)
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.name


def _bounds_text(minx: float, miny: float, maxx: float, maxy: float) -> str:
    if not np.isfinite([minx, miny, maxx, maxy]).all():
        return "coördinaten ongeldig na omzetting"
    return f"x {nl_number(minx)}–{nl_number(maxx)}, y {nl_number(miny)}–{nl_number(maxy)}"


def _check_extent(frame: gpd.GeoDataFrame, spec: LayerSpec, source: str) -> None:
    """Refuse data outside the Netherlands: the whole layer (wrong CRS) or a few objects (wrong
    coordinates)."""
    geoms = frame.geometry.to_numpy()
    present = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    if len(present) == 0:
        return
    bounds = shapely.bounds(geoms[present])
    bx0, by0, bx1, by1 = _RD_BOUNDS
    with np.errstate(invalid="ignore"):
        outside = (
            ~np.isfinite(bounds).all(axis=1)
            | (bounds[:, 0] < bx0)
            | (bounds[:, 1] < by0)
            | (bounds[:, 2] > bx1)
            | (bounds[:, 3] > by1)
        )
    if not outside.any():
        return
    if outside.sum() * 2 <= len(present):
        # most objects lie in the Netherlands, so the CRS is right: name the strays
        rows = present[outside]
        ids = _object_names(frame, spec, rows[:5])
        box = bounds[outside][:5]
        where = "; ".join(
            (
                f"{name}: {_bounds_text(*b)}"
                if np.isfinite(b).all()
                else f"{name}: coördinaten ongeldig"
            )
            for name, b in zip(ids, box)
        )
        raise InputError(
            f"{layer_label(spec)} {nl_number(int(outside.sum()))} van de {nl_number(len(present))}"
            " objecten in"
            f" '{spec.path.name}' liggen ver buiten Nederland"
            f" ({where}{' …' if len(rows) > 5 else ''}). De andere liggen wel in Nederland, dus het"
            " CRS klopt: controleer de coördinaten van deze objecten (bv. verwisselde x en y of"
            " een cijfer te veel of te weinig)."
        )
    coords = shapely.get_coordinates(geoms[present])
    if not np.isfinite(coords).all():
        minx = miny = maxx = maxy = float("inf")
    else:
        minx, miny = coords.min(axis=0)
        maxx, maxy = coords.max(axis=0)
    raise InputError(
        f"{layer_label(spec)} '{spec.path.name}' ligt na omzetting van {source} naar RD New niet in"
        f" Nederland ({_bounds_text(minx, miny, maxx, maxy)}). Waarschijnlijk klopt het CRS niet:"
        " controleer het CRS van het bestand (bv. RD-coördinaten die als WGS84 zijn opgeslagen)."
    )


def _object_names(frame: gpd.GeoDataFrame, spec: LayerSpec, rows: np.ndarray) -> list[str]:
    """How a user finds objects again: the id (sites) or name field, else the row number."""
    for key in ("id_veld", "naam_veld"):
        column = spec.get(key)
        if column and column in frame.columns:
            return [f"{key.removesuffix('_veld')} {frame[column].iloc[int(r)]}" for r in rows]
    return [f"rij {int(r) + 1}" for r in rows]


def _repair(frame: gpd.GeoDataFrame, spec: LayerSpec, report: LayerReport) -> gpd.GeoDataFrame:
    allowed = _GEOM_TYPES.get(
        spec.name,
        _CONSTRAINT_TYPES
        if spec.name.startswith("beperkingen.")
        else _GEOM_TYPES.get(spec.name.split(".", 1)[0]),
    )
    geoms = frame.geometry.to_numpy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    present = ~missing
    invalid = np.zeros(len(geoms), dtype=bool)
    invalid[present] = ~shapely.is_valid(geoms[present])
    report.repaired_rows = invalid
    if invalid.any():
        fixed = shapely.make_valid(geoms[invalid])
        if allowed is not None and allowed <= _POLYGONS | _POINTS:
            polygonal = allowed == _POLYGONS or np.isin(shapely.get_type_id(geoms[invalid]), [3, 6])
            fixed = np.where(polygonal, _polygonal_part(fixed), fixed)
        geoms = geoms.copy()
        geoms[invalid] = fixed
        report.repaired = int(invalid.sum())
        report.warnings.append(f"{report.repaired} ongeldige geometrieën gerepareerd (make_valid)")
        missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    report.without_geometry = int(missing.sum())
    if allowed is not None:
        types = shapely.get_type_id(geoms[~missing])
        bad = pd.Series(
            _TYPE_NAMES[types[~np.isin(types, [list(_TYPE_NAMES).index(t) for t in allowed])]]
        )
        if len(bad):
            found = ", ".join(
                f"{cnt} {_TYPE_NL.get(t, t)}" for t, cnt in bad.value_counts().items()
            )
            wanted = " of ".join(sorted({_TYPE_NL[t].removeprefix("multi") for t in allowed}))
            raise InputError(
                f"{layer_label(spec)} '{spec.path.name}' moet {wanted} bevatten, maar bevat"
                f" {found}."
                " Kies de juiste laag of zet de geometrie om (bv. met 'Buffer' of 'Centroïden' in"
                " QGIS)."
            )
    return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))


def _polygonal_part(geoms: np.ndarray) -> np.ndarray:
    out = np.empty(len(geoms), dtype=object)
    for i, geom in enumerate(geoms):  # only the (few) repaired geometries
        if geom is None or geom.geom_type in ("Polygon", "MultiPolygon"):
            out[i] = geom
            continue
        parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
        out[i] = shapely.union_all(parts) if parts else shapely.Polygon()
    return out


def read_layer(
    spec: LayerSpec, *, rows: tuple | None = None, opened: gpd.GeoDataFrame | None = None
) -> tuple[gpd.GeoDataFrame, LayerReport]:
    """Read one layer, set/convert its CRS to EPSG:28992 and repair geometries.

    Parameters
    ----------
    spec
        The layer's config entry.
    rows
        Read only the features ``rows[0]`` up to (not including) ``rows[1]``
        of a GDAL layer (a run that reads its sites in blocks); the report then
        describes that block and carries no checksum (the caller has it). A
        third item is an attribute filter that selects exactly those features
        (a fid range: a GeoPackage skips features by stepping through them).
    opened
        The features ``rows`` of the file as GDAL gave them (:func:`open_rows`), when the caller
        read them already (ahead, on another thread); the checks then start from them.

    Returns
    -------
    frame
        All attributes, geometry in EPSG:28992; invalid geometries repaired,
        empty ones kept (callers decide).
    report
        What was found, for the run record.

    Raises
    ------
    InputError
        Missing/unreadable file or layer, no or wrong CRS, wrong geometry type.
    """
    report = LayerReport(
        name=spec.name,
        path=str(spec.path),
        layer=spec.layer,
        sha256=file_sha256(spec.path) if spec.path.is_file() and rows is None else "",
        modified="",
    )
    frame = _open(spec, report.warnings, rows) if opened is None else opened
    if spec.path.exists():
        mtime = dt.datetime.fromtimestamp(spec.path.stat().st_mtime, tz=dt.timezone.utc)
        report.modified = mtime.isoformat(timespec="seconds")
    if len(frame) == 0:
        raise InputError(
            f"{layer_label(spec)} '{spec.path.name}' is leeg (0 objecten). Vul de laag of laat de"
            " sectie"
            f" {layer_label(spec)} weg uit de configuratie."
        )
    frame = _drop_measures(frame, report)
    frame, report.source_crs = _set_crs(frame, spec)
    # before repairing: coordinates made infinite by a wrong CRS must fail here, not be "repaired"
    # away
    _check_extent(frame, spec, report.source_crs)
    frame = _repair(frame, spec, report)
    report.features = len(frame)
    log.log(
        logging.DEBUG if rows is not None else logging.INFO,
        "%s: %s objecten gelezen uit %s (%s)",
        spec.name,
        nl_number(len(frame)),
        spec.path.name,
        report.source_crs,
    )
    return frame.reset_index(drop=True), report


def _drop_measures(frame: gpd.GeoDataFrame, report: LayerReport) -> gpd.GeoDataFrame:
    """Drop M values (measures: GeoPackage "Measured" types); the tests use x and y only, and GDAL
    cannot write M back."""
    geoms = frame.geometry.to_numpy()
    present = ~shapely.is_missing(geoms)
    measured = np.zeros(len(geoms), dtype=bool)
    measured[present] = shapely.has_m(geoms[present])
    if not measured.any():
        return frame
    geoms = geoms.copy()
    geoms[measured] = shapely.force_2d(geoms[measured])
    report.warnings.append(
        f"M-waarden (maat) van {nl_number(int(measured.sum()))} geometrieën genegeerd; alleen x"
        " en y tellen"
    )
    return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))
