"""Plain writers of the planning analyses: one GeoPackage layer, a CSV table, JSON.

Used inside a folder staged by :func:`layers.io.write.staged_output`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from locatietoets.analysis.errors import InputError

__all__ = ["FIXED_DATE", "json_float", "write_json", "write_layer", "write_table"]

#: The timestamp GDAL writes into these GeoPackages (and a stored style), fixed so that the same
#: inputs give byte-identical files.
FIXED_DATE = "2000-01-01T00:00:00Z"


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
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_DATE})
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


def json_float(value: Any) -> float | None:
    """``value`` as a float for a JSON record; None when it is missing, NaN or not a number."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if value == value else None
