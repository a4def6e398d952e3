"""The download cache (processed layers keyed by endpoint query and area) and atomic writes."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
import tempfile
from typing import Any

import geopandas as gpd
import pyogrio

from locatietoets.layers.fetch.endpoints import Endpoint

log = logging.getLogger(__name__)

#: Default cache folder of downloaded layers.
DEFAULT_CACHE_DIR = Path("~/.cache/locatietoets/data").expanduser()
#: Bump when the cached layer format or the processing rules change.
CACHE_VERSION = "2"
_GPKG_TYPES = {"vlak": "MultiPolygon", "lijn": "MultiLineString", "punt": "Point"}


def cache_key(endpoint: Endpoint, area_key: str) -> str:
    text = json.dumps(
        {"v": CACHE_VERSION, "query": endpoint.query(), "gebied": area_key}, sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_gpkg(frame: gpd.GeoDataFrame, path: Path, *, layer: str, geometry: str) -> None:
    """Write a GeoPackage 1.2 atomically (temp file in the same folder, then ``os.replace``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".gpkg", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        pyogrio.write_dataframe(
            frame,
            tmp,
            layer=layer,
            driver="GPKG",
            geometry_type=_GPKG_TYPES[geometry],
            dataset_options={"VERSION": "1.2"},
        )
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text_atomic(text: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp_name, path)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


class LayerCache:
    """Downloaded, processed layers keyed by endpoint query and area."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _paths(self, key: str) -> tuple[Path, Path]:
        sub = self.folder / key[:2]
        return sub / f"{key}.gpkg", sub / f"{key}.json"

    def get(self, key: str) -> tuple[Path, dict[str, Any]] | None:
        data, meta = self._paths(key)
        if not (data.is_file() and meta.is_file()):
            return None
        try:
            record = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if record.get("sha256") != sha256_file(data):
            log.warning("cache-bestand %s is beschadigd; opnieuw ophalen", data)
            return None
        return data, record

    def put(
        self, key: str, frame: gpd.GeoDataFrame, endpoint: Endpoint, record: dict[str, Any]
    ) -> Path:
        data, meta = self._paths(key)
        write_gpkg(frame, data, layer=endpoint.key, geometry=endpoint.geometry)
        record = {**record, "sha256": sha256_file(data)}
        write_text_atomic(json.dumps(record, ensure_ascii=False, indent=2), meta)
        return data

    def hint(self, endpoint: Endpoint) -> str:
        """A Dutch sentence listing earlier downloads of this source, with their dates."""
        found = []
        if self.folder.is_dir():
            for meta in self.folder.glob("*/*.json"):
                try:
                    record = json.loads(meta.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    continue
                if record.get("url") == endpoint.url and record.get("bron") == endpoint.key:
                    found.append(
                        f"{record.get('gebied', '?')} ({str(record.get('opgehaald', '?'))[:10]})"
                    )
        if not found:
            return (
                f" Er staan geen eerder opgehaalde gegevens van '{endpoint.key}' in de cache"
                f" ({self.folder})."
            )
        return (
            f" In de cache ({self.folder}) staan eerder opgehaalde gegevens van '{endpoint.key}'"
            f" voor: {', '.join(sorted(found)[:10])}; die worden zonder --vernieuw gebruikt voor"
            " hetzelfde gebied."
        )
