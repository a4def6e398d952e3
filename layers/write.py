"""Write the outputs of a run: locaties.gpkg (styled), locaties.csv and run.json.

Everything is written into a temporary folder next to the destination and
moved into place only when all files are complete, so a failed or cancelled
run leaves no half-written output. The GeoPackage is GPKG 1.2 (opens cleanly
in QGIS 3.22 / GDAL 3.6) with fixed timestamps, so the same inputs give
byte-identical files.
"""

from __future__ import annotations

from contextlib import contextmanager
import json
import os
import re
from pathlib import Path
import shutil
import sqlite3
import tempfile
from typing import Any, Callable, Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from analysis.errors import InputError
from layers.style import result_qml

__all__ = ["OUTPUT_FILES", "merge_results", "staged_output", "write_gpkg", "write_csv", "write_json", "write_reference"]

#: The files a score run writes, in the --out folder (referentie.gpkg only when reference layers were given).
OUTPUT_FILES = ("locaties.gpkg", "locaties.csv", "run.json", "referentie.gpkg")
_FIXED_DATE = "2000-01-01T00:00:00.000Z"  # GeoPackage DATETIME format
try:  # pyogrio writes through Arrow (several times faster) when pyarrow is installed
    import pyarrow  # noqa: F401

    _HAS_ARROW = True
except ImportError:  # pragma: no cover - pyarrow is a pinned dependency
    _HAS_ARROW = False
_LAYER = "locaties"


def merge_results(original: gpd.GeoDataFrame, results: pd.DataFrame) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Put the input attributes and the result fields side by side.

    No input attribute is lost: an input column with the name of a result
    field is dropped only when it holds exactly the same values (e.g. a
    verblijfstype already written as ``short_stay``); otherwise it is kept as
    ``<naam>_invoer``. The renamings are returned for the run record.
    """
    geometry_name = original.geometry.name
    attrs = original.drop(columns=[geometry_name]).reset_index(drop=True)
    results = results.reset_index(drop=True)
    clashes = [c for c in attrs.columns if c in results.columns]
    renamed = []
    for col in clashes:
        same = attrs[col].astype("string").fillna("\x00").equals(results[col].astype("string").fillna("\x00"))
        if same:
            attrs = attrs.drop(columns=col)
        else:
            new = f"{col}_invoer"
            while new in attrs.columns or new in results.columns:
                new += "_"
            attrs = attrs.rename(columns={col: new})
            renamed.append(f"{col} → {new}")
    merged = pd.concat([attrs, results], axis=1)
    out = gpd.GeoDataFrame(merged, geometry=original.geometry.reset_index(drop=True).values, crs=original.crs)
    return out, renamed


@contextmanager
def staged_output(out_dir: Path) -> Iterator[Path]:
    """Yield a temporary folder; on success move its files into ``out_dir``.

    On any exception (including KeyboardInterrupt) the temporary folder is
    removed and ``out_dir`` is left as it was.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".locatietoets-bezig-", dir=out_dir))
    try:
        yield stage
        for item in sorted(stage.iterdir()):
            os.replace(item, out_dir / item.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _prepare_columns(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    frame = frame.copy(deep=False)  # columns are replaced, never changed in place
    for col in frame.columns:
        if col == frame.geometry.name:
            continue
        series = frame[col]
        if series.dtype == object or str(series.dtype).startswith("string"):
            # mixed python objects (e.g. dates, numbers in text columns) become text
            frame[col] = series.astype(object).where(series.notna(), None).map(lambda v: v if v is None or isinstance(v, str) else str(v))
    return frame


def write_gpkg(frame: gpd.GeoDataFrame, path: Path) -> None:
    """Write the result layer with its default QGIS style.

    Parameters
    ----------
    frame
        Results with geometry in EPSG:28992 (None geometries allowed).
    path
        Destination ``.gpkg`` (normally inside a staged folder).
    """
    frame = _prepare_columns(frame)
    geoms = frame.geometry.to_numpy()
    present = ~(pd.isna(geoms) | shapely.is_empty(geoms))
    if not present.all():
        # sites without geometry are written with a NULL geometry, not as POINT EMPTY
        geoms = np.where(present, geoms, None)
        frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))
    types = set(shapely.get_type_id(geoms[present]).tolist())
    polygon = bool(types & {3, 6})
    geometry_type = "MultiPolygon" if polygon else ("MultiPoint" if 4 in types else "Point")
    if polygon and types & {0, 4}:
        geometry_type = "Unknown"  # mixed points and polygons
    # Fixed timestamps make the GeoPackage byte-identical for identical inputs.
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _FIXED_DATE})
    try:
        pyogrio.write_dataframe(
            frame,
            path,
            layer=_LAYER,
            driver="GPKG",
            geometry_type=geometry_type,
            promote_to_multi=geometry_type.startswith("Multi"),
            dataset_options={"VERSION": "1.2"},
            layer_options={"SPATIAL_INDEX": "YES", "FID": "fid"},
            use_arrow=_HAS_ARROW,
        )
    except Exception as exc:
        raise InputError(f"Wegschrijven van '{path.name}' mislukt: {exc}.") from None
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
    fields = [c for c in frame.columns if c != frame.geometry.name]
    _store_style(path, result_qml(polygon=polygon, fields=fields))


def _store_style(path: Path, qml: str) -> None:
    con = sqlite3.connect(path)
    try:
        con.execute(
            """CREATE TABLE IF NOT EXISTS layer_styles (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256),
                f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
                useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
                update_time DATETIME)"""
        )
        geom_col = con.execute(
            "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (_LAYER,)
        ).fetchone()[0]
        con.execute(
            """INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column,
               styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, update_time)
               VALUES ('', '', ?, ?, 'Oordeel', ?, '', 1, 'Locatietoets: gekleurd op oordeel', '', NULL, ?)""",
            (_LAYER, geom_col, qml, _FIXED_DATE),
        )
        con.execute(
            """INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, description, last_change)
               VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS-stijlen', ?)""",
            (_FIXED_DATE,),
        )
        con.commit()
    finally:
        con.close()


def write_reference(frames: dict[str, gpd.GeoDataFrame], path: Path) -> None:
    """Write the normalised reference layers of a run (one layer each, EPSG:28992).

    Maps and reports are made from the run folder alone, so it carries the
    layers the sites were tested against: ``bebouwd_gebied``, ``bebouwde_kom``,
    ``geurcontouren`` (``waarde``), ``veehouderijen`` (``naam``,
    ``vaste_afstand_m``), ``recreatieparken`` (``naam``), ``werkgevers``
    (``naam``) and ``gemeenten`` (``naam``, ``code``, ``regio``).
    """
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _FIXED_DATE})
    try:
        for name in sorted(frames):
            frame = _prepare_columns(frames[name])
            pyogrio.write_dataframe(
                frame,
                path,
                layer=name,
                driver="GPKG",
                geometry_type="Unknown" if name in ("veehouderijen", "werkgevers") else "MultiPolygon",
                promote_to_multi=name not in ("veehouderijen", "werkgevers"),
                dataset_options={"VERSION": "1.2"},
                append=path.exists(),
            )
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def write_csv(frame: gpd.GeoDataFrame, path: Path) -> None:
    """Write all attributes plus ``x_rd``/``y_rd`` of a representative point (EPSG:28992)."""
    geoms = frame.geometry.to_numpy()
    present = ~(pd.isna(geoms) | shapely.is_empty(geoms))
    x = np.full(len(frame), np.nan)
    y = np.full(len(frame), np.nan)
    if present.any():
        pts = shapely.point_on_surface(geoms[present])
        x[present] = np.round(shapely.get_x(pts), 2)
        y[present] = np.round(shapely.get_y(pts), 2)
    columns = {name: frame[name] for name in frame.columns if name != frame.geometry.name}
    columns["x_rd"] = pd.Series(x, index=frame.index)
    columns["y_rd"] = pd.Series(y, index=frame.index)
    if not _write_csv_fast(columns, len(frame), path):
        table = pd.DataFrame(frame.drop(columns=[frame.geometry.name]))
        table["x_rd"] = x
        table["y_rd"] = y
        table.to_csv(path, index=False, encoding="utf-8", lineterminator="\n", float_format="%.6g")


_CSV_CHUNK = 100_000
_CSV_SPECIAL = (",", '"', "\n")
_CSV_NEEDS_QUOTES = re.compile('[,"\n\r]')


def _csv_quote(value: str) -> str:
    """Quote a field like the csv module does with QUOTE_MINIMAL (delimiter ",", lineterminator "\\n")."""
    if any(c in value for c in _CSV_SPECIAL):
        return '"' + value.replace('"', '""') + '"'
    return value


def _csv_column(series: pd.Series) -> Callable[[slice], list[str]] | None:
    """A formatter giving the CSV text of rows ``slice`` exactly as ``DataFrame.to_csv(float_format="%.6g")``.

    Returns None for a column type without a fast path (the caller then uses pandas).
    """
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        values = series.to_numpy()
        sample = values[:_CSV_CHUNK]
        if len(np.unique(sample)) * 4 <= len(sample):  # few distinct values: format each once
            bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
            unique, inverse = np.unique(bits, return_inverse=True)
            table = np.array(["" if np.isnan(v) else "%.6g" % v for v in unique.view(np.float64).tolist()], dtype=object)
            texts = table[inverse.reshape(-1)]
            return lambda rows: texts[rows].tolist()
        return lambda rows: ["" if v != v else "%.6g" % v for v in values[rows].tolist()]
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        values = series.to_numpy()
        return lambda rows: values[rows].astype(str).tolist()
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        values = series.to_numpy()
        return lambda rows: np.where(values[rows], "True", "False").tolist()
    if isinstance(dtype, pd.Int64Dtype):
        mask = series.isna().to_numpy()
        ints = series.to_numpy(dtype="int64", na_value=0)

        def format_int(rows: slice) -> list[str]:
            text = ints[rows].astype(str).astype(object)
            text[mask[rows]] = ""
            return text.tolist()

        return format_int
    if dtype == object or isinstance(dtype, pd.StringDtype):
        if dtype == object and pd.api.types.infer_dtype(series.to_numpy(), skipna=True) not in ("string", "empty"):
            return None
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        search = _CSV_NEEDS_QUOTES.search
        table = []
        for value in np.asarray(uniques, dtype=object).tolist():
            value = str(value)
            if search(value) is not None:
                if "\r" in value:
                    return None
                value = '"' + value.replace('"', '""') + '"'
            table.append(value)
        table = np.array(table + [""], dtype=object)
        texts = table[np.asarray(codes)]
        return lambda rows: texts[rows].tolist()
    return None


def _write_csv_fast(columns: dict[str, pd.Series], n: int, path: Path) -> bool:
    """Write ``columns`` as CSV, byte for byte as pandas' ``to_csv`` would; False when a column needs pandas."""
    formatters = []
    for series in columns.values():
        formatter = _csv_column(series)
        if formatter is None:
            return False
        formatters.append(formatter)
    header = [str(name) for name in columns]
    if any("\r" in name for name in header):
        return False
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(_csv_quote(name) for name in header) + "\n")
        for start in range(0, n, _CSV_CHUNK):
            rows = slice(start, min(start + _CSV_CHUNK, n))
            parts = [fmt(rows) for fmt in formatters]
            fh.write("\n".join(map(",".join, zip(*parts))))
            fh.write("\n")
    return True


def write_json(data: dict[str, Any], path: Path) -> None:
    """Write a JSON document (UTF-8, sorted keys where the dicts are built sorted)."""
    def default(value: Any) -> Any:
        if isinstance(value, (np.integer,)):
            return int(value)
        if isinstance(value, (np.floating,)):
            return None if np.isnan(value) else float(value)
        if isinstance(value, (np.bool_,)):
            return bool(value)
        if isinstance(value, Path):
            return str(value)
        raise TypeError(type(value).__name__)

    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=default) + "\n", encoding="utf-8")
