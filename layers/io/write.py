"""Write the outputs of a run: locaties.gpkg (styled), locaties.csv, run.json and, when asked
for, locaties.parquet (GeoParquet).

Everything is written into a temporary folder next to the destination and
moved into place only when all files are complete, so a failed or cancelled
run leaves no half-written output. The GeoPackage is GPKG 1.2 (opens cleanly
in QGIS 3.22 / GDAL 3.6) with fixed timestamps, so the same inputs give
byte-identical files.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
import contextlib
from contextlib import contextmanager
import errno
import functools
import json
import os
from pathlib import Path
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
from typing import TYPE_CHECKING, Any, Iterator

import geopandas as gpd
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa
import pyogrio
import shapely

from locatietoets.analysis.errors import InputError
from locatietoets.analysis.vocabulary import IDENTIFY_FIRST
from locatietoets.layers.io import gpkg_worker
from locatietoets.layers.publish.style import result_qml, store_layer_style

__all__ = [
    "OUTPUT_FILES",
    "RESERVED_NAMES",
    "CsvStream",
    "GeoParquetStream",
    "GpkgStream",
    "geometry_kind",
    "merge_results",
    "staged_output",
    "store_result_style",
    "write_geoparquet",
    "write_gpkg",
    "write_csv",
    "write_json",
    "write_reference",
]

#: The files a score run writes, in the --out folder (referentie.gpkg only when reference layers
#: were given, locaties.parquet only when asked for).
OUTPUT_FILES = ("locaties.gpkg", "locaties.csv", "run.json", "referentie.gpkg", "locaties.parquet")
_FIXED_DATE = "2000-01-01T00:00:00.000Z"  # GeoPackage DATETIME format
try:  # pyogrio writes through Arrow (several times faster) when pyarrow is installed
    import pyarrow  # noqa: F401

    _HAS_ARROW = True
except ImportError:  # pragma: no cover - pyarrow is a pinned dependency
    _HAS_ARROW = False
_LAYER = gpkg_worker.LAYER
#: SQLite page size of a result GeoPackage of at least :data:`_LARGE_ROWS` rows. A row with its
#: reasons is about 2 KB: in 4 KB pages most rows fill a page alone (3.0 KB a row stored at
#: 1,000,000 rows); in 64 KB pages 30 rows share one (2.2 KB a row) and GDAL writes a quarter
#: faster. A smaller layer keeps 4 KB pages (every table of the file takes at least one page).
_LARGE_PAGE_SIZE = 65536
_LARGE_ROWS = 10_000
#: SQLite page cache (MB) while a large result GeoPackage is written: SQLite's default of 2 MB is
#: 31 pages of 64 KB, and GDAL's spatial index, built when the layer is closed, then reads and
#: writes the same pages over and over (6.2 s CPU at 1,000,000 sites; 1.5 s with the index of
#: 36 MB in the cache).
_LARGE_CACHE_MB = 64
#: Rows per Arrow batch handed to GDAL by :class:`GpkgStream` (thread and process alike, so both
#: write the same bytes; the batching is part of what GDAL writes). The writer process holds a
#: batch, not a block: at 1,000,000 sites its peak went from 374 to 280 MB.
_ARROW_BATCH_ROWS = 4096
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO}


#: Names the outputs use besides the result fields: the CSV's coordinates and the GeoPackage's
#: feature id.
RESERVED_NAMES = ("fid", "x_rd", "y_rd")


def merge_results(
    original: gpd.GeoDataFrame, results: pd.DataFrame
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Put the result fields (``oordeel``, ``score``, ``redenen`` first) and the input attributes
    side by side.

    One rule for every name the outputs use (the result fields, ``x_rd`` and
    ``y_rd`` of the CSV, the GeoPackage's ``fid``; case-insensitive, as
    GeoPackage field names are): an input attribute with such a name is kept
    as ``<naam>_invoer`` in both outputs, never dropped or overwritten. The
    renamings are returned for the warning in the run record.
    """
    geometry_name = original.geometry.name
    attrs = original.drop(columns=[geometry_name]).reset_index(drop=True)
    results = results.reset_index(drop=True)
    taken = {str(c).lower() for c in results.columns} | set(RESERVED_NAMES)
    clashes = [c for c in attrs.columns if str(c).lower() in taken]
    renamed = []
    for col in clashes:
        new = f"{col}_invoer"
        while str(new).lower() in taken or new in attrs.columns:
            new += "_"
        attrs = attrs.rename(columns={col: new})
        renamed.append(f"{col} → {new}")
    # the verdict, its score and the reasons first, then the other result fields, then the input
    # attributes: QGIS's identify panel lists fields in file order and cuts off what is below
    first = [c for c in IDENTIFY_FIRST if c in results.columns]
    results = results[first + [c for c in results.columns if c not in first]]
    merged = pd.concat([results, attrs], axis=1)
    out = gpd.GeoDataFrame(
        merged, geometry=original.geometry.reset_index(drop=True).values, crs=original.crs
    )
    return out, renamed


@contextmanager
def staged_output(out_dir: Path) -> Iterator[Path]:
    """Yield a temporary folder; on success move its files into ``out_dir``.

    On any exception (including KeyboardInterrupt) the temporary folder is
    removed and ``out_dir`` is left as it was. A full disk (or another write
    error of the system) becomes a Dutch :class:`~analysis.errors.OutputError`.
    """
    from locatietoets.layers.io.messages import disk_full, gdal_log_lines, gdal_log_size
    from locatietoets.layers.io.outdir import STAGE_PREFIX, write_error

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=out_dir))
    except OSError as exc:
        raise write_error(exc, out_dir) from None
    start = gdal_log_size()
    try:
        yield stage
        for item in sorted(stage.iterdir()):
            os.replace(item, out_dir / item.name)
    except Exception as exc:
        # GDAL reports a full disk as failing SQL ("no such table ..."): tell the user what happened
        if disk_full(exc, gdal_log_lines(start), stage):
            raise write_error(OSError(errno.ENOSPC, "disk full"), out_dir) from None
        if isinstance(exc, OSError) and exc.errno in _WRITE_ERRNOS:
            raise write_error(exc, out_dir) from None
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _prepare_columns(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    frame = frame.copy(deep=False)  # columns are replaced, never changed in place
    for col in frame.columns:
        if col == frame.geometry.name:
            continue
        series = frame[col]
        if series.dtype == object or str(series.dtype).startswith("string"):
            text = series.astype(object).where(series.notna(), None)
            if pd.api.types.infer_dtype(text, skipna=True) not in ("string", "empty"):
                # mixed python objects (e.g. dates, numbers in text columns) become text
                text = text.map(lambda v: v if v is None or isinstance(v, str) else str(v))
            frame[col] = text
    return frame


def geometry_kind(geometry: Any) -> tuple[str, bool]:
    """The GeoPackage geometry type of the result layer for these geometries, and whether it has
    polygons."""
    geoms = np.asarray(geometry, dtype=object)
    present = ~(pd.isna(geoms) | shapely.is_empty(geoms))
    types = set(np.unique(shapely.get_type_id(geoms[present])).tolist())
    polygon = bool(types & {3, 6})
    geometry_type = "MultiPolygon" if polygon else ("MultiPoint" if 4 in types else "Point")
    if polygon and types & {0, 4}:
        geometry_type = "Unknown"  # mixed points and polygons
    return geometry_type, polygon


def _gpkg_options(rows: int) -> dict[str, str | None]:
    """The GDAL settings a result GeoPackage of ``rows`` rows is created with: fixed timestamps
    (byte-identical files for identical inputs), the page size (see :data:`_LARGE_PAGE_SIZE`; it
    only applies to a new file) and the page cache (:data:`_LARGE_CACHE_MB`).

    GDAL builds the R-tree when the layer is finished, not in a thread while rows arrive
    (``OGR_GPKG_ALLOW_THREADED_RTREE``): the same bytes (1,000,000 sites), and the threaded
    builder's in-memory tree, which grows with the rows (GDAL's limit is a tenth of the
    machine's memory), took 10,000,000 sites to 2.01 GiB summed over the run and the writer
    process; without it 1.89 GiB. Capping that tree instead (``OGR_GPKG_MAX_RAM_USAGE_RTREE``,
    32 MiB) made GDAL go on in a temporary SQLite file: 1,036 s instead of 609 s (717 s system
    time)."""
    large = rows >= _LARGE_ROWS
    return {
        "OGR_CURRENT_DATE": _FIXED_DATE,
        "OGR_SQLITE_PRAGMA": f"page_size={_LARGE_PAGE_SIZE}" if large else None,
        "OGR_SQLITE_CACHE": str(_LARGE_CACHE_MB) if large else None,
        "OGR_GPKG_ALLOW_THREADED_RTREE": "NO" if large else None,
    }


def write_gpkg(frame: gpd.GeoDataFrame, path: Path) -> None:
    """Write the result layer with its default QGIS style.

    A run written in blocks uses :class:`GpkgStream` instead (same layer).

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
    geometry_type, polygon = geometry_kind(geoms)
    # Fixed timestamps make the GeoPackage byte-identical for identical inputs.
    pyogrio.set_gdal_config_options(_gpkg_options(len(frame)))
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
        pyogrio.set_gdal_config_options(dict.fromkeys(_gpkg_options(0)))
    fields = [c for c in frame.columns if c != frame.geometry.name]
    _store_style(path, result_qml(polygon=polygon, fields=fields, mixed=geometry_type == "Unknown"))


class GpkgStream:
    """Write the result layer block by block in one GDAL session (as :func:`write_gpkg` writes it at
    once).

    Appending to a GeoPackage layer in separate sessions updates its spatial
    index row by row (about three times slower); here GDAL reads the blocks
    as one Arrow stream and builds the index once at the end. :meth:`put`
    hands a block over and returns at once: a writer thread converts it to
    Arrow while the caller formats the CSV and scores the next block;
    :meth:`wait` returns when the block is handed to GDAL; :meth:`close`
    finishes the layer and stores the default style.

    GDAL writes in that thread, or with ``process=True`` in a writer process
    (:mod:`~locatietoets.layers.io.gpkg_worker`) that the thread streams the
    blocks to: ``pyogrio.raw.write_arrow`` holds the GIL while GDAL writes
    (seconds at a time for a block of 50,000 rows), which in a thread stalls
    the scoring. Both give the same file, byte for byte.
    """

    def __init__(self, path: Path, *, geometry_type: str, process: bool = False):
        self.path = path
        self.geometry_type = geometry_type
        self.process = process
        self.fields: list[str] | None = None
        self._schema: Any = None
        self._geometry_name = "geometry"
        self._queue: queue.Queue = queue.Queue(maxsize=1)
        self._written = threading.Semaphore(0)
        self._thread: threading.Thread | None = None
        self._worker: subprocess.Popen | None = None
        self._error: BaseException | None = None

    def put(self, frame: gpd.GeoDataFrame) -> "_PendingTable":
        """Hand over the next block of result rows (with geometry) and return at once; the
        returned handle gives the block as the Arrow table GDAL writes (for
        :class:`GeoParquetStream`)."""
        pending = _PendingTable(frame, self)
        if self._thread is None:
            self._geometry_name = frame.geometry.name
            self.fields = [c for c in frame.columns if c != frame.geometry.name]
            self._queue.put(pending)
            self._thread = threading.Thread(
                target=self._write,
                args=(frame.crs, len(frame)),
                name="gpkg-schrijver",
                daemon=True,
            )
            self._thread.start()
        else:
            self._queue.put(pending)
        return pending

    def _table(self, pending: "_PendingTable") -> Any:
        """The Arrow table of a block, in the schema of the first block (writer thread)."""
        import pyarrow as pa

        table = _arrow_table(_prepare_columns(pending.frame), self.geometry_type)
        if self._schema is None:
            self._schema = table.schema
        else:
            table = pa.Table.from_batches(table.to_batches(), schema=table.schema).cast(
                self._schema
            )
        pending.set(table)
        return table

    def wait(self) -> None:
        """Return when the block given to :meth:`put` is handed to GDAL; raise the writer's
        error."""
        while not self._written.acquire(timeout=0.2):
            if self._thread is None or not self._thread.is_alive():
                break
        self._raise()

    def close(self, *, style: bool = True) -> None:
        """Finish the layer (builds the spatial index) and store its default style."""
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join()
        self._thread = None
        self._raise()
        if style:
            store_result_style(
                self.path, geometry_type=self.geometry_type, fields=self.fields or []
            )

    def abort(self) -> None:
        """Stop the writer after an error elsewhere (the staged file is thrown away)."""
        self._kill()
        if self._thread is not None:
            try:
                self._queue.put_nowait(None)
            except (
                queue.Full
            ):  # pragma: no cover - a block still waiting: the writer takes it, then stops
                self._queue.put(None)
            self._thread.join()
            self._thread = None
        self._kill()  # started while the thread was stopping
        self._error = None

    def _kill(self) -> None:
        worker = self._worker
        if worker is not None and worker.poll() is None:
            worker.kill()
            worker.wait()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise InputError(f"Wegschrijven van '{self.path.name}' mislukt: {error}.") from None

    def _tables(self, table: Any) -> Iterator[Any]:
        """``table`` and the tables of the blocks put after it, until :meth:`close`; a block counts
        as handed over when the next one is asked for."""
        while True:
            yield table
            del table
            self._written.release()
            pending = self._queue.get()
            if pending is None:
                return
            table = self._table(pending)
            del pending  # the caller holds it while it needs the table

    def _batches(self, table: Any) -> Iterator[Any]:
        # GDAL asks for the first batch once the file is created: the page size and cache are set,
        # so they no longer apply to other files opened meanwhile (the sites of the next block)
        pyogrio.set_gdal_config_options({"OGR_SQLITE_PRAGMA": None, "OGR_SQLITE_CACHE": None})
        tables = self._tables(table)
        del table
        for block in tables:
            batches = block.to_batches(max_chunksize=_ARROW_BATCH_ROWS)
            del block
            yield from batches
            del batches  # not held while the next block is awaited

    def _write(self, crs: Any, first_rows: int) -> None:
        import pyarrow as pa

        epsg = crs.to_epsg() if crs is not None else None
        crs_text = (
            (f"EPSG:{epsg}" if epsg else crs.to_wkt("WKT1_GDAL")) if crs is not None else None
        )
        # a layer written in blocks has more rows than its first block: the page size of a large
        # layer when the first block is large
        config = _gpkg_options(first_rows)
        try:
            if self.process:
                self._send(self._table(self._queue.get()), crs_text, config)
                return
            pyogrio.set_gdal_config_options(config)
            try:
                first = self._table(self._queue.get())
                reader = pa.RecordBatchReader.from_batches(self._schema, self._batches(first))
                del first
                gpkg_worker.write_layer(
                    reader,
                    str(self.path),
                    geometry_name=self._geometry_name,
                    geometry_type=self.geometry_type,
                    crs=crs_text,
                )
            finally:
                pyogrio.set_gdal_config_options(dict.fromkeys(config))
        except BaseException as exc:  # reported by wait()/close() in the caller's thread
            self._error = exc
            while True:  # release a producer waiting on a block that will not be written
                self._written.release()
                try:
                    if self._queue.get_nowait() is None:
                        break
                except queue.Empty:
                    break

    def _send(self, table: Any, crs: str | None, config: dict[str, str | None]) -> None:
        """Start the writer process and stream the blocks to it (writer thread)."""
        import pyarrow as pa

        spec = gpkg_worker.job(
            path=str(self.path),
            geometry_name=self._geometry_name,
            geometry_type=self.geometry_type,
            crs=crs,
            config=config,
        )
        with tempfile.TemporaryFile() as errors:
            worker = subprocess.Popen(
                [sys.executable, "-P", gpkg_worker.__file__, spec],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
            self._worker = worker
            assert worker.stdin is not None
            try:
                blocks = self._tables(table)
                del table
                with pa.ipc.new_stream(worker.stdin, self._schema) as stream:
                    for block in blocks:
                        stream.write_table(block, max_chunksize=_ARROW_BATCH_ROWS)
                        del block
                worker.stdin.close()
            except OSError:  # the pipe broke: the writer process stopped, its status says why
                with contextlib.suppress(OSError):
                    worker.stdin.close()
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()
                    raise
            except BaseException:
                worker.kill()
                worker.wait()
                raise
            status = worker.wait()
            if status == 0:
                return
            errors.seek(0)
            lines = errors.read().decode("utf-8", "replace").strip().splitlines()
        if status == gpkg_worker.FAILED and lines:
            raise RuntimeError(lines[-1])
        raise RuntimeError(f"het schrijfproces van GDAL stopte onverwacht (status {status})")


class _PendingTable:
    """A block handed to :meth:`GpkgStream.put`: :meth:`get` gives its Arrow table, made in the
    writer thread (made here when that thread stopped on an error)."""

    def __init__(self, frame: gpd.GeoDataFrame, stream: GpkgStream):
        self.frame: gpd.GeoDataFrame | None = frame
        self._stream = stream
        self._table: Any = None
        self._done = threading.Event()

    def set(self, table: Any) -> None:
        self._table, self.frame = table, None
        self._done.set()

    def get(self) -> Any:
        """The block's Arrow table (waits for the writer thread)."""
        while not self._done.wait(timeout=0.2):
            thread = self._stream._thread
            if thread is None or not thread.is_alive():
                break
        if self._done.is_set():
            return self._table
        self._stream._raise()  # the writer thread stopped on an error (GDAL or this block's)
        frame = self.frame
        assert frame is not None
        return _arrow_table(_prepare_columns(frame), self._stream.geometry_type)


def _arrow_table(frame: gpd.GeoDataFrame, geometry_type: str) -> Any:
    """``frame`` as the Arrow table ``pyogrio.write_dataframe(use_arrow=True)`` hands to GDAL."""
    from geopandas.array import to_wkb
    import pyarrow as pa

    geometry = frame.geometry.copy()
    if geometry_type.startswith("Multi"):
        types = geometry.geom_type
        single = geometry_type[len("Multi") :]
        mask = (types == single).to_numpy()
        if mask.any():
            values = geometry.to_numpy().copy()
            collect = {
                "Point": shapely.multipoints,
                "LineString": shapely.multilinestrings,
                "Polygon": shapely.multipolygons,
            }[single]
            values[mask] = collect(np.atleast_2d(values[mask]), axis=0)
            geometry = gpd.GeoSeries(values, index=frame.index, crs=frame.crs)
    geometry_name = frame.geometry.name
    df = pd.DataFrame(frame, copy=False)
    datetime_cols = []
    for name, dtype in df.dtypes.items():
        if name == geometry_name:
            continue
        if dtype == "object":
            inferred = pd.api.types.infer_dtype(df[name])
            if inferred == "string":
                continue
            if inferred == "datetime":
                df[name] = df[name].astype("string")
                datetime_cols.append(name)
            else:
                try:
                    pa.Schema.from_pandas(df[[name]])
                except pa.ArrowInvalid:
                    df[name] = df[name].astype("string")
        elif isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) != "UTC":
            df[name] = df[name].astype("string")
            datetime_cols.append(name)
    df[geometry_name] = to_wkb(geometry.values)
    table = pa.Table.from_pandas(df, preserve_index=False)
    fields = []
    for field in table.schema:
        if pa.types.is_null(field.type):
            field = field.with_type(pa.string())
        elif pa.types.is_dictionary(field.type) and pa.types.is_null(field.type.value_type):
            field = field.with_type(pa.dictionary(field.type.index_type, pa.string()))
        if field.name == geometry_name and not (
            pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type)
        ):
            field = field.with_type(pa.binary())
        if field.name in datetime_cols:
            field = field.with_metadata({"GDAL:OGR:type": "DateTime"})
        fields.append(field)
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


#: Rows per Parquet row group: a block of the chunked engine, so a run written in blocks and one
#: written at once give the same row groups.
_PARQUET_ROWS = 100_000
_GEOPARQUET_VERSION = "1.0.0"  # read by GDAL >= 3.8 (QGIS 3.34) and geopandas


class GeoParquetStream:
    """Write the result layer as GeoParquet (``locaties.parquet``), at once or block by block.

    The columns are those of the GeoPackage layer, with the same Arrow types
    and geometries (WKB; promoted to multi where the GeoPackage layer is);
    its geometry column is ``geometry``, in EPSG:28992. The ``geo`` metadata
    (GeoParquet 1.0.0: geometry types, bounding box and CRS of all rows) is
    written when the file is closed. Compressed with zstd; no timestamps, so
    the same inputs give the same bytes.
    """

    def __init__(self, path: Path, *, geometry_type: str):
        self.path = path
        self.geometry_type = geometry_type
        self._writer: Any = None
        self._geometry_name = "geometry"
        self._crs: Any = None
        self._types: set[str] = set()
        self._bounds: list[np.ndarray] = []

    def put(self, frame: gpd.GeoDataFrame, table: Any = None) -> None:
        """Write the next block of result rows; ``table`` is the block as :class:`GpkgStream`
        made it (what its ``put`` returned; made here when None)."""
        import pyarrow.parquet as pq

        geoms = frame.geometry.to_numpy()
        present = ~(pd.isna(geoms) | shapely.is_empty(geoms))
        if isinstance(table, _PendingTable):
            table = table.get()
        if table is None:
            prepared = _prepare_columns(frame)
            if not present.all():
                prepared = prepared.set_geometry(
                    gpd.GeoSeries(np.where(present, geoms, None), index=frame.index, crs=frame.crs)
                )
            table = _arrow_table(prepared, self.geometry_type)
        if frame.geometry.name != self._geometry_name:
            names = table.column_names
            table = table.rename_columns(
                [self._geometry_name if n == frame.geometry.name else n for n in names]
            )
        if self._writer is None:
            self._crs = frame.crs
            self._writer = pq.ParquetWriter(
                self.path,
                table.schema,
                compression="zstd",
                write_statistics=True,
                store_schema=True,
            )
        if present.any():
            names = set(shapely.get_type_id(geoms[present]).tolist())
            self._types |= {_GEOMETRY_NAMES[t] for t in names}
            self._bounds.append(shapely.total_bounds(geoms[present]))
        self._writer.write_table(table, row_group_size=_PARQUET_ROWS)

    def close(self) -> None:
        """Write the ``geo`` metadata and close the file."""
        if self._writer is None:
            return
        types = self._types
        if self.geometry_type.startswith("Multi"):
            types = {t if t.startswith("Multi") else f"Multi{t}" for t in types}
        column: dict[str, Any] = {"encoding": "WKB", "geometry_types": sorted(types)}
        if self._crs is not None:
            column["crs"] = self._crs.to_json_dict()
        if self._bounds:
            bounds = np.vstack(self._bounds)
            column["bbox"] = [
                float(bounds[:, 0].min()),
                float(bounds[:, 1].min()),
                float(bounds[:, 2].max()),
                float(bounds[:, 3].max()),
            ]
        geo = {
            "version": _GEOPARQUET_VERSION,
            "primary_column": self._geometry_name,
            "columns": {self._geometry_name: column},
        }
        self._writer.add_key_value_metadata({"geo": json.dumps(geo, sort_keys=True)})
        self._writer.close()
        self._writer = None

    def abort(self) -> None:
        """Close the file after an error elsewhere (the staged file is thrown away)."""
        if self._writer is not None:
            try:
                self._writer.close()
            finally:
                self._writer = None


_GEOMETRY_NAMES = {
    0: "Point",
    1: "LineString",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}


def write_geoparquet(frame: gpd.GeoDataFrame, path: Path) -> None:
    """Write the result layer as GeoParquet (see :class:`GeoParquetStream`) at once."""
    geometry_type, _ = geometry_kind(frame.geometry.to_numpy())
    stream = GeoParquetStream(path, geometry_type=geometry_type)
    try:
        stream.put(frame)
        stream.close()
    except Exception as exc:
        stream.abort()
        raise InputError(f"Wegschrijven van '{path.name}' mislukt: {exc}.") from None


def store_result_style(path: Path, *, geometry_type: str, fields: list[str]) -> None:
    """Store the default QGIS style of a result layer written by :class:`GpkgStream`."""
    _store_style(
        path,
        result_qml(
            polygon=geometry_type in ("MultiPolygon", "Unknown"),
            fields=fields,
            mixed=geometry_type == "Unknown",
        ),
    )


def _store_style(path: Path, qml: str) -> None:
    store_layer_style(
        path,
        _LAYER,
        qml,
        name="Oordeel",
        description="Locatietoets: gekleurd op oordeel",
        update_time=_FIXED_DATE,
    )


def write_reference(frames: dict[str, gpd.GeoDataFrame], path: Path) -> None:
    """Write the normalised reference layers of a run (one layer each, EPSG:28992).

    Maps and reports are made from the run folder alone, so it carries the
    layers the sites were tested against: ``bebouwd_gebied``, ``bebouwde_kom``,
    ``geurcontouren`` (``waarde``), ``veehouderijen`` (``naam``,
    ``vaste_afstand_m``), ``recreatieparken`` (``naam``), ``werkgevers``
    (``naam``), ``gemeenten`` (``naam``, ``code``, ``regio``) and every declared constraint
    layer as ``beperkingen.<naam>`` (``naam``, optional ``waarde``).
    """
    # each layer is added to the file in its own GDAL session: without synchronous=OFF (GDAL sets
    # it for a new file only) every session ends by waiting for the disk (3.0 -> 1.6 s for the
    # reference layers of the 1,000,000-site world); safe, the file is in a staged folder
    pyogrio.set_gdal_config_options(
        {"OGR_CURRENT_DATE": _FIXED_DATE, "OGR_SQLITE_SYNCHRONOUS": "OFF"}
    )
    try:
        for name in sorted(frames):
            frame = _prepare_columns(frames[name])
            # polygon layers stay MultiPolygon; points or any geometry (farms, employers, a
            # declared constraint layer, kernen as centroids, facilities) are written as they are
            polygonal = (
                name not in ("veehouderijen", "werkgevers")
                and not name.startswith("beperkingen.")
                and bool(np.isin(shapely.get_type_id(frame.geometry.to_numpy()), (3, 6)).all())
            )
            pyogrio.write_dataframe(
                frame,
                path,
                layer=name,
                driver="GPKG",
                geometry_type="MultiPolygon" if polygonal else "Unknown",
                promote_to_multi=polygonal,
                dataset_options={"VERSION": "1.2"},
                append=path.exists(),
            )
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None, "OGR_SQLITE_SYNCHRONOUS": None})


def write_csv(frame: gpd.GeoDataFrame, path: Path, *, append: bool = False) -> None:
    """Write all attributes plus ``x_rd``/``y_rd`` of a representative point (EPSG:28992).

    With ``append`` the rows are added to the file (without a header line),
    so a run written in blocks gives the same bytes as one written at once.
    """
    geoms = frame.geometry.to_numpy()
    present = ~(pd.isna(geoms) | shapely.is_empty(geoms))
    x = np.full(len(frame), np.nan)
    y = np.full(len(frame), np.nan)
    if present.any():
        pts = geoms[present]
        if not (shapely.get_type_id(pts) == shapely.GeometryType.POINT).all():
            pts = shapely.point_on_surface(pts)  # a point's point on surface is the point itself
        x[present] = np.round(shapely.get_x(pts), 2)
        y[present] = np.round(shapely.get_y(pts), 2)
    columns = {name: frame[name] for name in frame.columns if name != frame.geometry.name}
    columns["x_rd"] = pd.Series(x, index=frame.index)
    columns["y_rd"] = pd.Series(y, index=frame.index)
    if not _write_csv_arrow(
        columns, len(frame), path, append
    ):  # pandas for column types without an Arrow path
        table = pd.DataFrame(frame.drop(columns=[frame.geometry.name]))
        table["x_rd"] = x
        table["y_rd"] = y
        table.to_csv(
            path,
            index=False,
            encoding="utf-8",
            lineterminator="\n",
            float_format="%.6g",
            mode="a" if append else "w",
            header=not append,
        )


class CsvStream:
    """Write ``locaties.csv`` block by block in a writer thread (:func:`write_csv`, the first
    block with the header line, the others appended: the bytes of a CSV written at once).

    :meth:`put` hands a block over and returns at once, so the CSV is
    formatted (in Arrow, mostly outside the GIL) while the caller scores the
    next block; it first waits for the block before, so no more than one block
    is held here. :meth:`close` returns when all blocks are written and raises
    a writer's error (as :func:`write_csv` would).
    """

    def __init__(self, path: Path):
        self.path = path
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future | None = None
        self._blocks = 0

    def put(self, frame: gpd.GeoDataFrame) -> None:
        """Hand over the next block of result rows (with geometry)."""
        self.wait()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="csv-schrijver")
        self._pending = self._pool.submit(write_csv, frame, self.path, append=self._blocks > 0)
        self._blocks += 1

    def wait(self) -> None:
        """Return when the block given to :meth:`put` is written; raise the writer's error."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def close(self) -> None:
        """Wait for the last block and stop the writer thread."""
        try:
            self.wait()
        finally:
            self.abort()

    def abort(self) -> None:
        """Stop the writer after an error elsewhere (the staged file is thrown away)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            try:
                pending.result()
            except BaseException:  # the error that stopped the run is raised instead
                pass
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


#: Values of a number column looked at to choose how it is formatted (few distinct values: each
#: once; else all at once)
_CSV_SAMPLE = 2048
#: Rows joined into CSV lines at a time (and quoted, see :func:`_csv_arrow_column`): a third faster
#: than 100,000 at 75 fields; 10,000 rows with their reasons are ~20 MB of text
_CSV_JOIN_ROWS = 10_000
_CSV_SPECIAL = (",", '"', "\n")


def _csv_quote(value: str) -> str:
    """Quote a field like the csv module does with QUOTE_MINIMAL (delimiter ",", lineterminator
    "\\n")."""
    if any(c in value for c in _CSV_SPECIAL):
        return '"' + value.replace('"', '""') + '"'
    return value


_G6_MIN, _G6_MAX = 1e-4, 999_999.0  # "%.6g" is fixed-point (no exponent) in this range


def _format_g6(values: np.ndarray) -> "pa.Array":
    """``"%.6g" % v`` for every value ("" for NaN), as an Arrow string array, vectorised.

    Fixed-point values are rounded in integers: ``r = rint(|v| * 10**k)`` with
    ``k = 5 - floor(log10|v|)`` is the six significant digits (correctly
    rounded, half to even, as Python's own formatting); any value where that is
    not certain (near a tie, a power of ten, exponent notation, inf) is
    formatted by Python itself.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    v = np.ascontiguousarray(values, dtype=np.float64)
    n = len(v)
    a = np.abs(v)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        fixed = np.isfinite(v) & (a >= _G6_MIN) & (a < _G6_MAX)
        e = np.where(fixed, np.floor(np.log10(np.where(fixed, a, 1.0))), 0.0).astype(np.int64)
        k = np.clip(5 - e, 0, 9)
        p = a * np.power(10.0, k)
        r = np.rint(p)
        frac = p - np.floor(p)
        fixed &= (
            (np.abs(frac - 0.5) > 1e-6) & (r >= 100_000) & (r < 1_000_000) & (e >= -4) & (e <= 5)
        )
    nan = np.isnan(v)
    zero = v == 0
    python = ~(fixed | nan | zero)
    parts: list[pa.Array] = []
    positions: list[np.ndarray] = []
    ri = np.where(fixed, r, 0.0).astype(np.int64)
    neg = np.signbit(v)
    for kk in np.unique(k[fixed]).tolist():
        idx = np.flatnonzero(fixed & (k == kk))
        rr = ri[idx]
        scale = 10**kk
        text = pa.array(rr // scale).cast(pa.large_string())
        if kk:
            fp = rr % scale
            frac_text = pc.utf8_rtrim(
                pc.utf8_lpad(pa.array(fp).cast(pa.large_string()), width=kk, padding="0"),
                characters="0",
            )
            text = pc.if_else(
                pa.array(fp != 0),
                pc.binary_join_element_wise(text, frac_text, pa.scalar(".", pa.large_string())),
                text,
            )
        if neg[idx].any():
            text = pc.if_else(
                pa.array(neg[idx]),
                pc.binary_join_element_wise(
                    pa.scalar("-", pa.large_string()), text, pa.scalar("", pa.large_string())
                ),
                text,
            )
        parts.append(text)
        positions.append(idx)
    for mask, text in ((nan, ""), (zero & ~neg, "0"), (zero & neg, "-0")):
        idx = np.flatnonzero(mask)
        if idx.size:
            parts.append(pa.array(np.full(idx.size, text, dtype=object), type=pa.large_string()))
            positions.append(idx)
    idx = np.flatnonzero(python)
    if idx.size:
        parts.append(pa.array(["%.6g" % x for x in v[idx].tolist()], type=pa.large_string()))
        positions.append(idx)
    if not parts:
        return pa.array([], type=pa.large_string())
    order = np.concatenate(positions)
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.arange(n)
    return pa.concat_arrays(parts).take(pa.array(inverse))


def _csv_arrow_column(series: pd.Series) -> "tuple[pa.Array, pa.Array | None, bool] | None":
    """The CSV text of every row of ``series`` as an Arrow string array, exactly as pandas'
    ``to_csv(float_format="%.6g")`` writes it once quoted: the text, which rows are quoted (a
    boolean array; None when no row is) and whether quotes in the text are doubled.

    The quoting is applied to the rows joined at a time (:func:`_write_csv_arrow`), so a long
    text column (the reasons, ~1 KB a row) is not copied whole once more. Returns None for a
    column type without an Arrow path.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        values = np.ascontiguousarray(series.to_numpy(), dtype=np.float64)
        # distinct bit patterns (-0.0 is not 0.0), by hashing: no sort; a column whose first
        # values are mostly distinct (distances, times) is formatted value by value at once
        bits = values.view(np.int64)
        sample = bits[:_CSV_SAMPLE]
        if len(pd.unique(sample)) * 4 <= len(sample):  # few distinct values: format each once
            codes, unique = pd.factorize(bits)
            return _format_g6(unique.view(np.float64)).take(pa.array(codes)), None, False
        return _format_g6(values), None, False
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return pa.array(series.to_numpy()).cast(pa.large_string()), None, False
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        truth = pc.if_else(
            pa.array(series.to_numpy()),
            pa.scalar("True", pa.large_string()),
            pa.scalar("False", pa.large_string()),
        )
        return truth, None, False
    if isinstance(dtype, pd.Int64Dtype):
        mask = series.isna().to_numpy()
        ints = series.to_numpy(dtype="int64", na_value=0)
        return pa.array(ints, mask=mask).cast(pa.large_string()).fill_null(""), None, False
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        text = series.array._pa_array
    elif dtype == np.dtype(object) or isinstance(dtype, pd.StringDtype):
        values = series.to_numpy(dtype=object)
        if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
            return None
        text = pa.array(values, type=pa.large_string(), from_pandas=True)
    else:
        return None
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks() if text.num_chunks != 1 else text.chunk(0)
    text = text.cast(pa.large_string())
    special = _bytes_present(text, b'\r",\n')
    if 13 in special:  # "\r": pandas' own writer decides how such text is quoted
        return None
    if text.null_count:
        text = text.fill_null("")  # an empty field, never quoted
    if not special:
        return text, None, False
    # doubling quotes copies every value: only where there are any
    return text, pc.match_substring_regex(text, '[,"\n]'), 34 in special


_SCAN_BYTES = 1 << 23


@functools.lru_cache(maxsize=1)
def _memchr() -> Any:
    """The C library's ``memchr`` (through ctypes), or None where it cannot be loaded.

    It searches an Arrow buffer in place, where ``bytes.find`` needs a copy of
    it (a block's text columns are ~100 MB: 23 -> 9 ms a block).
    """
    import ctypes

    try:
        memchr = (ctypes.cdll.msvcrt if os.name == "nt" else ctypes.CDLL(None)).memchr
    except (OSError, AttributeError):  # pragma: no cover - no C library to load
        return None
    memchr.restype = ctypes.c_void_p
    memchr.argtypes = (ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t)
    return memchr


def _bytes_present(text: "pa.Array", candidates: bytes) -> set[int]:
    """Which of the ASCII bytes ``candidates`` (never part of a UTF-8 sequence) occur in any value
    of a (large) string array.

    The data buffer is searched with the C library's ``memchr`` in place, or (without ctypes)
    in pieces with ``bytes.find``: several times faster than comparing it as a numpy array, and
    no more than a piece is copied at a time.
    """
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)[
        text.offset : text.offset + len(text) + 1
    ]
    data = text.buffers()[2]
    if data is None or len(offsets) < 2:
        return set()
    start, end = int(offsets[0]), int(offsets[-1])
    memchr = _memchr()
    if memchr is not None:  # the buffer searched where it is
        return {b for b in candidates if memchr(data.address + start, b, end - start) is not None}
    found: set[int] = set()
    for piece in range(start, end, _SCAN_BYTES):
        chunk = data.slice(piece, min(_SCAN_BYTES, end - piece)).to_pybytes()
        found.update(b for b in candidates if b not in found and chunk.find(b) >= 0)
        if len(found) == len(candidates):
            break
    return found


def _write_csv_arrow(
    columns: dict[str, pd.Series], n: int, path: Path, append: bool = False
) -> bool:
    """Write ``columns`` as CSV byte for byte as pandas' ``to_csv`` would, joining the rows in Arrow
    (outside the GIL).

    Returns False when a column needs pandas' own writer (the caller then uses it).
    """
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:  # pragma: no cover - pyarrow is a pinned dependency
        return False
    header = [str(name) for name in columns]
    if any("\r" in name for name in header):
        return False
    texts = []
    for series in columns.values():
        text = _csv_arrow_column(series)
        if text is None:
            return False
        texts.append(text)
    comma = pa.scalar(",", type=pa.large_string())
    newline = pa.scalar("\n", type=pa.large_string())
    empty = pa.scalar("", type=pa.large_string())
    mark = pa.scalar('"', type=pa.large_string())
    with path.open("ab" if append else "wb") as fh:
        if not append:
            fh.write((",".join(_csv_quote(name) for name in header) + "\n").encode("utf-8"))
        for start in range(0, n, _CSV_JOIN_ROWS):
            length = min(_CSV_JOIN_ROWS, n - start)
            parts = []
            for text, needs, double in texts:
                part = text.slice(start, length)
                if needs is not None:
                    if double:
                        part = pc.replace_substring(part, '"', '""')
                    # the quotes are joined around every value ("" where none is needed): one
                    # pass over the text, where choosing between quoted and unquoted copies
                    # would make two
                    quote = pc.if_else(needs.slice(start, length), mark, empty)
                    part = pc.binary_join_element_wise(quote, part, quote, empty)
                parts.append(part)
            # the line end goes onto the last field first, so the rows are joined in one pass
            parts[-1] = pc.binary_join_element_wise(parts[-1], newline, empty)
            rows = pc.binary_join_element_wise(*parts, comma) if len(parts) > 1 else parts[0]
            offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[
                rows.offset : rows.offset + len(rows) + 1
            ]
            fh.write(memoryview(rows.buffers()[2])[int(offsets[0]) : int(offsets[-1])])
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

    text = json.dumps(
        strict_json(data), indent=2, ensure_ascii=False, default=default, allow_nan=False
    )
    path.write_text(text + "\n", encoding="utf-8")


def strict_json(value: Any) -> Any:
    """``value`` with every non-finite number (NaN, ±Infinity, also numpy's) replaced by None.

    JSON has no NaN or Infinity; Python's json module writes them as bare
    tokens that other readers refuse. A missing number is ``null``.
    """
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return None
    return value
