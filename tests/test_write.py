"""The writers of a run's outputs (layers/io/write.py): the CSV byte for byte as pandas' ``to_csv``
would write it, the GeoPackage through Arrow as GDAL's own path, GeoParquet with the GeoPackage's
fields and geometries, and the same inputs giving the same bytes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner
from fixtures import build_world, sha256, standard_config, standard_layers, write_config
import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely

from locatietoets.analysis.errors import ConfigError
from locatietoets.layers.io.config import load_config
from locatietoets.layers.io.config_writer import render_config
from locatietoets.layers.io.write import (
    CsvStream,
    GeoParquetStream,
    GpkgStream,
    geometry_kind,
    write_csv,
    write_geoparquet,
    write_gpkg,
)
from locatietoets.scripts.cli import main

RD = "EPSG:28992"


def _pandas_csv(frame: gpd.GeoDataFrame, x: list[float], y: list[float]) -> bytes:
    """What ``write_csv`` writes, by pandas' own writer (its fallback)."""
    table = pd.DataFrame(frame.drop(columns=[frame.geometry.name]))
    table["x_rd"] = x
    table["y_rd"] = y
    return table.to_csv(
        index=False, lineterminator="\n", float_format="%.6g", encoding="utf-8"
    ).encode("utf-8")


def _sites(n_rows: int, text: list[object]) -> gpd.GeoDataFrame:
    """``n_rows`` sites: points, a polygon with a hole, a multipolygon, a NULL geometry; text,
    number, truth and integer fields with the values the CSV writer treats specially."""
    rng = np.random.default_rng(15)
    square = shapely.Polygon(
        [(200000, 380000), (200040, 380000), (200040, 380040), (200000, 380040)],
        holes=[[(200010, 380010), (200020, 380010), (200020, 380020), (200010, 380020)]],
    )
    shapes = [
        shapely.Point(200123.456, 380987.654),
        square,
        shapely.MultiPolygon([square, shapely.box(200100, 380100, 200110, 380110)]),
        None,
    ]
    geometry = [shapes[i % len(shapes)] for i in range(n_rows)]
    specials = [0.0, -0.0, np.nan, 1e-5, 123456.5, 1234567.0, 0.00012345, 2.5, -7.25, np.inf]
    many = rng.normal(0, 5000, n_rows)  # many distinct values: the vectorised formatting
    many[: len(specials)] = specials[:n_rows]
    few = np.array([0.25, 1.0, np.nan, -0.0])[np.arange(n_rows) % 4]  # few: formatted once each
    return gpd.GeoDataFrame(
        {
            "oordeel": pd.array([["geschikt", "ongeschikt", None][i % 3] for i in range(n_rows)]),
            "score": many,
            "aandeel": few,
            "op_erf": np.arange(n_rows) % 2 == 0,
            "personen": np.arange(n_rows, dtype=np.int64),
            "termijn": pd.array([None if i % 5 == 0 else i for i in range(n_rows)], dtype="Int64"),
            "redenen": pd.array([text[i % len(text)] for i in range(n_rows)], dtype="string"),
            "omschrijving": pd.Series([text[(i + 1) % len(text)] for i in range(n_rows)]),
        },
        geometry=geometry,
        crs=RD,
    )


TEXT = [
    "Ligt buiten het bestaand bebouwd gebied: 823 m van de grens (rand tot 250 m); geur 3,5 OUe",
    'woning "De Hoeve", achterzijde',
    "regel één\ntweede regel",
    "",
    None,
    "zonder bijzondere tekens",
]


def _xy(frame: gpd.GeoDataFrame) -> tuple[list[float], list[float]]:
    x, y = [], []
    for geom in frame.geometry:
        if geom is None:
            x.append(np.nan)
            y.append(np.nan)
        else:
            point = geom if geom.geom_type == "Point" else geom.point_on_surface()
            x.append(round(point.x, 2))
            y.append(round(point.y, 2))
    return x, y


def test_csv_bytes_equal_pandas_for_quotes_commas_newlines_nulls_and_number_formats(tmp_path: Path):
    frame = _sites(2000, TEXT)
    write_csv(frame, tmp_path / "locaties.csv")
    data = (tmp_path / "locaties.csv").read_bytes()
    assert data == _pandas_csv(frame, *_xy(frame))
    lines = data.decode("utf-8").split("\n")
    assert lines[0] == (
        "oordeel,score,aandeel,op_erf,personen,termijn,redenen,omschrijving,x_rd,y_rd"
    )
    # by hand: "%.6g" of 0, a quoted text with a comma, a doubled quote, the point's coordinates
    assert lines[1] == (
        'geschikt,0,0.25,True,0,,"Ligt buiten het bestaand bebouwd gebied: 823 m van de grens'
        ' (rand tot 250 m); geur 3,5 OUe","woning ""De Hoeve"", achterzijde",200123,380988'
    )
    assert lines[2].startswith('ongeschikt,-0,1,False,1,1,"woning ""De Hoeve"", achterzijde",')
    assert ",1e-05," in data.decode("utf-8") and ",123456," in data.decode("utf-8")  # tie to even


def test_csv_written_in_blocks_equals_csv_written_at_once(tmp_path: Path):
    frame = _sites(2500, TEXT)
    write_csv(frame, tmp_path / "een.csv")
    for k, start in enumerate(range(0, len(frame), 700)):
        write_csv(frame.iloc[start : start + 700], tmp_path / "blokken.csv", append=k > 0)
    assert (tmp_path / "blokken.csv").read_bytes() == (tmp_path / "een.csv").read_bytes()


def test_csv_stream_in_its_writer_thread_equals_csv_written_at_once(tmp_path: Path):
    frame = _sites(2500, TEXT)
    write_csv(frame, tmp_path / "een.csv")
    stream = CsvStream(tmp_path / "blokken.csv")
    for start in range(0, len(frame), 700):
        stream.put(frame.iloc[start : start + 700])  # returns before the block is written
    stream.close()
    assert (tmp_path / "blokken.csv").read_bytes() == (tmp_path / "een.csv").read_bytes()


def test_full_disk_in_the_csv_writer_thread_of_a_block_run_is_a_dutch_error_without_output(
    tmp_path: Path, monkeypatch
):
    """The CSV of a run in blocks is written in a thread while the next block is scored: its
    error still stops the run with the Dutch message, leaves no output and no writer thread."""
    import errno
    import threading

    import locatietoets.layers.io.write as write

    build_world(tmp_path)
    cfg = write_config(tmp_path, standard_config())
    calls = []
    real = write.write_csv

    def full_on_second_block(*args, **kwargs):
        calls.append(kwargs.get("append"))
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(write, "write_csv", full_on_second_block)
    out = tmp_path / "uit"
    result = CliRunner().invoke(
        main, ["score", str(cfg), "--out", str(out), "--blok", "4", "--voortgang", "geen"]
    )
    assert result.exit_code == 2, result.output
    assert calls == [False, True]
    message = " ".join(result.stderr.split())
    assert "Kan niet schrijven in de uitvoermap" in message and "de schijf is vol" in message
    assert "Traceback" not in message
    assert not out.exists() or not list(out.iterdir())
    names = {t.name for t in threading.enumerate()}
    assert not any(n.startswith(("csv-schrijver", "gpkg-schrijver")) for n in names), names


def test_csv_with_carriage_return_or_mixed_objects_falls_back_to_pandas_with_the_same_bytes(
    tmp_path: Path,
):
    frame = _sites(50, [*TEXT, "oude regel\r\nnieuwe regel"])
    frame["mix"] = pd.Series([1, "twee", 3.5, None, pd.Timestamp("2026-01-02")] * 10, dtype=object)
    write_csv(frame, tmp_path / "locaties.csv")
    assert (tmp_path / "locaties.csv").read_bytes() == _pandas_csv(frame, *_xy(frame))


def test_special_bytes_are_found_in_place_and_by_copy_alike_also_in_a_slice(monkeypatch):
    """The CSV writer looks for the bytes that make a field quoted (or sent to pandas) with the C
    library's memchr in the Arrow buffer itself, else by copies; both give the same answer, and a
    slice of a column is searched only between its own first and last value."""
    import pyarrow as pa

    import locatietoets.layers.io.write as write

    values = ["a,b", "geen", 'zegt "ja"', None, "", "één\ntwee", "x\ry", "laatste"]
    text = pa.array(values, type=pa.large_string())
    cases = [
        (text, {44, 34, 10, 13}),
        (text.slice(1, 1), set()),  # "geen"
        (text.slice(2, 3), {34}),  # the quote, the NULL and ""
        (text.slice(5, 1), {10}),
        (text.slice(6, 2), {13}),
        (text.slice(3, 2), set()),  # only NULL and "": no bytes at all
        (pa.array([None, None], type=pa.large_string()), set()),
    ]
    assert write._memchr() is not None  # Linux, macOS and Windows have one
    for arr, expected in cases:
        assert write._bytes_present(arr, b'\r",\n') == expected
    monkeypatch.setattr(write, "_SCAN_BYTES", 3)  # the copies in pieces of 3 bytes
    monkeypatch.setattr(write, "_memchr", lambda: None)
    for arr, expected in cases:
        assert write._bytes_present(arr, b'\r",\n') == expected


# --- GeoPackage through Arrow ---------------------------------------------------------------------


def test_gpkg_written_through_arrow_has_the_bytes_of_gdals_feature_by_feature_path(
    tmp_path: Path, monkeypatch
):
    """Field types, NULLs, dates and geometries survive the Arrow path exactly as GDAL's own
    feature-by-feature path writes them (same file, byte for byte)."""
    import locatietoets.layers.io.write as write

    frame = _sites(60, TEXT)
    frame["datum"] = pd.to_datetime(["2026-01-02", None, "2025-12-31"] * 20)
    frame["dag"] = pd.Series([dt.date(2026, 1, 2), None, dt.date(2025, 1, 1)] * 20, dtype=object)
    write.write_gpkg(frame, tmp_path / "arrow.gpkg")
    monkeypatch.setattr(write, "_HAS_ARROW", False)
    write.write_gpkg(frame, tmp_path / "gdal.gpkg")
    assert sha256(tmp_path / "arrow.gpkg") == sha256(tmp_path / "gdal.gpkg")
    info = pyogrio.read_info(tmp_path / "arrow.gpkg", layer="locaties")
    types = dict(zip(info["fields"], zip(info["ogr_types"], info["ogr_subtypes"])))
    assert types["op_erf"] == ("OFTInteger", "OFSTBoolean")
    assert types["termijn"] == ("OFTInteger64", "OFSTNone")
    assert types["datum"] == ("OFTDateTime", "OFSTNone")
    assert types["dag"] == ("OFTString", "OFSTNone")  # python dates are written as text
    back = pyogrio.read_dataframe(tmp_path / "arrow.gpkg", layer="locaties")
    assert back["termijn"].isna().tolist() == [i % 5 == 0 for i in range(60)]
    assert back["oordeel"].isna().tolist() == [i % 3 == 2 for i in range(60)]
    assert back.geometry.isna().tolist() == [i % 4 == 3 for i in range(60)]
    assert back["dag"].isna().tolist()[:3] == [False, True, False]
    assert back["dag"].iloc[[0, 2]].tolist() == ["2026-01-02", "2025-01-01"]


def _page_size(path: Path) -> int:
    import sqlite3

    with sqlite3.connect(path) as con:
        return con.execute("PRAGMA page_size").fetchone()[0]


def test_a_large_result_layer_is_written_in_64_kb_pages_without_a_page_per_row(tmp_path: Path):
    """Rows with about 2 KB of reasons: in 4 KB pages most rows fill a page alone (the file ~4 KB
    a row); in 64 KB pages 30 share one. A small layer keeps 4 KB pages (every table takes a
    page); a layer written in blocks as a large one at once."""
    n = 10_000
    reason = "Ligt buiten het bestaand bebouwd gebied; " * 50  # 2,100 bytes
    frame = gpd.GeoDataFrame(
        {"oordeel": ["ongeschikt"] * n, "redenen": [f"{i:05d} {reason}" for i in range(n)]},
        geometry=shapely.points(np.arange(n) + 200000.0, np.full(n, 380000.0)),
        crs=RD,
    )
    payload = n * (6 + len(reason))
    write_gpkg(frame, tmp_path / "groot.gpkg")
    assert _page_size(tmp_path / "groot.gpkg") == 65536
    assert (tmp_path / "groot.gpkg").stat().st_size < 1.15 * payload  # 4 KB pages: ~2 x payload
    write_gpkg(frame, tmp_path / "nogmaals.gpkg")  # the larger page cache changes no byte
    assert sha256(tmp_path / "nogmaals.gpkg") == sha256(tmp_path / "groot.gpkg")
    assert pyogrio.get_gdal_config_option("OGR_SQLITE_CACHE") is None  # not left set
    gpkg = GpkgStream(tmp_path / "blokken.gpkg", geometry_type="Point")
    for start in range(0, n, n // 2):
        gpkg.put(frame.iloc[start : start + n // 2])  # blocks of a stream of more than n rows
        gpkg.wait()
    gpkg.close()
    assert _page_size(tmp_path / "blokken.gpkg") == 4096  # blocks of 5,000: a smaller layer
    gpkg = GpkgStream(tmp_path / "groot-blokken.gpkg", geometry_type="Point")
    gpkg.put(frame)
    gpkg.put(frame.iloc[:10])
    gpkg.wait()
    gpkg.close()
    assert _page_size(tmp_path / "groot-blokken.gpkg") == 65536
    assert pyogrio.get_gdal_config_option("OGR_SQLITE_PRAGMA") is None
    assert pyogrio.get_gdal_config_option("OGR_GPKG_ALLOW_THREADED_RTREE") is None  # not left set
    back = pyogrio.read_dataframe(tmp_path / "groot-blokken.gpkg", layer="locaties")
    assert back["redenen"].tolist() == frame["redenen"].tolist() + frame["redenen"][:10].tolist()
    # the R-tree, built when the layer is finished: every row in it, and a box query finds them
    import sqlite3

    with sqlite3.connect(tmp_path / "groot-blokken.gpkg") as db:
        assert db.execute("SELECT count(*) FROM rtree_locaties_geom").fetchone()[0] == n + 10
    boxed = pyogrio.read_dataframe(
        tmp_path / "groot-blokken.gpkg", layer="locaties", bbox=(199999.5, 379000, 200009.5, 381000)
    )
    assert len(boxed) == 10 + 10  # x 200000..200009 in the first block and again in the second
    write_gpkg(frame.iloc[:100], tmp_path / "klein.gpkg")
    assert _page_size(tmp_path / "klein.gpkg") == 4096
    small = pyogrio.read_dataframe(tmp_path / "klein.gpkg", layer="locaties")
    assert small["redenen"].tolist() == frame["redenen"][:100].tolist()


def test_reference_layers_are_written_without_waiting_for_the_disk_after_each_layer(
    tmp_path: Path, monkeypatch
):
    """Each reference layer is a GDAL session of its own on an existing file, which GDAL ends by
    waiting for the disk (synchronous=FULL) unless told not to: the file is staged, so it need
    not. The setting is not left behind; the layers are all there."""
    import locatietoets.layers.io.write as write

    seen = []
    real = pyogrio.write_dataframe

    def recording(frame, path, **kwargs):
        seen.append((kwargs["layer"], pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")))
        return real(frame, path, **kwargs)

    monkeypatch.setattr(write.pyogrio, "write_dataframe", recording)
    square = shapely.box(200000, 380000, 200100, 380100)
    frames = {
        "bebouwd_gebied": gpd.GeoDataFrame(geometry=[square], crs=RD),
        "werkgevers": gpd.GeoDataFrame(
            {"naam": ["Bakkerij", "Kas"]},
            geometry=[shapely.Point(200050, 380050), shapely.Point(200500, 380500)],
            crs=RD,
        ),
    }
    write.write_reference(frames, tmp_path / "referentie.gpkg")
    assert seen == [("bebouwd_gebied", False), ("werkgevers", False)]  # pyogrio reads OFF as False
    assert pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS") is None
    layers = pyogrio.list_layers(tmp_path / "referentie.gpkg")[:, 0].tolist()
    assert {"bebouwd_gebied", "werkgevers"} <= set(layers)
    back = pyogrio.read_dataframe(tmp_path / "referentie.gpkg", layer="werkgevers")
    assert back["naam"].tolist() == ["Bakkerij", "Kas"]


# --- GeoParquet ---------------------------------------------------------------------------------


@pytest.mark.parametrize("process", [False, True], ids=["draad", "proces"])
def test_gpkg_stream_converts_blocks_in_its_writer_thread_and_reports_a_bad_block_in_dutch(
    tmp_path: Path, process: bool
):
    """put() hands the block to the writer thread, which makes the Arrow table; a later block that
    does not fit the first block's fields stops the stream with the Dutch message, both where the
    caller asks for the block's table (GeoParquet) and at wait(); nothing waits for ever, and no
    writer process is left behind."""
    import threading

    from locatietoets.analysis.errors import InputError

    frame = _sites(40, TEXT)
    before = frame.copy()
    geometry_type, _ = geometry_kind(frame.geometry.to_numpy())
    gpkg = GpkgStream(tmp_path / "blokken.gpkg", geometry_type=geometry_type, process=process)
    first = gpkg.put(frame.iloc[:20])
    gpkg.wait()
    assert first.get().num_rows == 20 and first.get().column("personen").to_pylist() == list(
        range(20)
    )
    bad = frame.iloc[20:].copy()
    bad["personen"] = "veel"  # text where the first block had whole numbers
    pending = gpkg.put(bad)
    with pytest.raises(InputError, match="Wegschrijven van 'blokken.gpkg' mislukt"):
        pending.get()
    gpkg.abort()
    pd.testing.assert_frame_equal(frame, before)  # the caller's blocks are not changed

    assert gpkg._worker is None or gpkg._worker.poll() is not None

    gpkg = GpkgStream(tmp_path / "opnieuw.gpkg", geometry_type=geometry_type, process=process)
    gpkg.put(frame.iloc[:20])
    gpkg.wait()
    gpkg.put(bad)
    with pytest.raises(InputError, match="Wegschrijven van 'opnieuw.gpkg' mislukt"):
        gpkg.wait()
    gpkg.abort()
    assert not any(t.name == "gpkg-schrijver" for t in threading.enumerate())
    assert gpkg._worker is None or gpkg._worker.poll() is not None


def _gpkg_tables(path: Path) -> dict[str, list]:
    """Every row of every table of a GeoPackage, read with SQLite (a byte comparison of the file
    would also do, but this shows what differs)."""
    import sqlite3

    with sqlite3.connect(path) as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {n: db.execute(f'SELECT * FROM "{n}"').fetchall() for n in sorted(names)}


@pytest.mark.parametrize("n_rows", [7, 2500])
def test_gpkg_written_by_the_writer_process_is_byte_identical_to_the_writer_thread(
    tmp_path: Path, n_rows: int
):
    """The writer process gets the blocks as an Arrow stream and calls GDAL as the thread does:
    the same file, byte for byte (mixed points and polygons, NULL geometry, texts with quotes and
    newlines, NULL numbers), with the layer and its style."""
    frame = _sites(n_rows, TEXT)
    geometry_type, _ = geometry_kind(frame.geometry.to_numpy())
    step = max(n_rows // 3, 1)
    for name, process in (("draad.gpkg", False), ("proces.gpkg", True)):
        gpkg = GpkgStream(tmp_path / name, geometry_type=geometry_type, process=process)
        for start in range(0, n_rows, step):
            if start:
                gpkg.wait()
            gpkg.put(frame.iloc[start : start + step])
        gpkg.close()
        if process:
            assert gpkg._worker is not None and gpkg._worker.returncode == 0
        else:
            assert gpkg._worker is None
    assert _gpkg_tables(tmp_path / "proces.gpkg") == _gpkg_tables(tmp_path / "draad.gpkg")
    assert sha256(tmp_path / "proces.gpkg") == sha256(tmp_path / "draad.gpkg")
    layers = pyogrio.list_layers(tmp_path / "proces.gpkg")[:, 0].tolist()
    assert layers[:1] == ["locaties"] and "layer_styles" in layers
    back = pyogrio.read_dataframe(tmp_path / "proces.gpkg", layer="locaties")
    assert len(back) == n_rows
    assert back["personen"].tolist() == frame["personen"].tolist()


def test_a_writer_process_that_gdal_refuses_or_that_dies_is_a_dutch_error_naming_the_reason(
    tmp_path: Path,
):
    """GDAL's reason reaches the message (the process exits with its own status and the reason
    on standard error); a process that stops otherwise is named as such; abort() leaves neither
    the writer thread nor the process running."""
    import os
    import signal
    import threading

    from locatietoets.analysis.errors import InputError
    from locatietoets.layers.io.gpkg_worker import FAILED

    frame = _sites(30, TEXT)
    geometry_type, _ = geometry_kind(frame.geometry.to_numpy())
    missing = tmp_path / "bestaat-niet" / "locaties.gpkg"
    gpkg = GpkgStream(missing, geometry_type=geometry_type, process=True)
    gpkg.put(frame.iloc[:10])
    with pytest.raises(InputError) as caught:
        gpkg.wait()
        gpkg.put(frame.iloc[10:])
        gpkg.close()
    message = str(caught.value)
    assert message.startswith("Wegschrijven van 'locaties.gpkg' mislukt: ")
    assert "bestaat-niet" in message and "status" not in message  # GDAL's own reason
    assert gpkg._worker is not None and gpkg._worker.wait() == FAILED
    gpkg.abort()
    assert not missing.exists()

    gpkg = GpkgStream(tmp_path / "gestopt.gpkg", geometry_type=geometry_type, process=True)
    gpkg.put(frame.iloc[:10])
    gpkg.wait()
    while gpkg._worker is None:  # pragma: no cover - started by the thread right after put()
        threading.Event().wait(0.01)
    os.kill(gpkg._worker.pid, signal.SIGKILL)
    gpkg._worker.wait()
    gpkg.put(frame.iloc[10:])
    with pytest.raises(
        InputError, match=r"mislukt: het schrijfproces van GDAL stopte onverwacht \(status -9\)"
    ):
        gpkg.wait()
        gpkg.close()
    gpkg.abort()

    gpkg = GpkgStream(tmp_path / "afgebroken.gpkg", geometry_type=geometry_type, process=True)
    gpkg.put(frame.iloc[:10])
    gpkg.wait()
    worker = gpkg._worker
    gpkg.abort()
    assert worker is not None and worker.poll() is not None
    assert not any(t.name == "gpkg-schrijver" for t in threading.enumerate())


def test_geoparquet_holds_the_fields_and_geometries_of_the_geopackage(tmp_path: Path):
    frame = _sites(300, TEXT)
    write_gpkg(frame, tmp_path / "locaties.gpkg")
    write_geoparquet(frame, tmp_path / "locaties.parquet")
    gpkg = pyogrio.read_dataframe(tmp_path / "locaties.gpkg", layer="locaties")
    parquet = gpd.read_parquet(tmp_path / "locaties.parquet")
    assert list(parquet.columns) == [*frame.columns[:-1], "geometry"]
    assert parquet.crs.to_epsg() == 28992
    # the GeoPackage layer is "Unknown" (points and polygons): geometries are written as they are
    assert parquet.geometry.geom_equals_exact(gpkg.geometry, 0).sum() == 225
    assert parquet.geometry.isna().sum() == 75 == gpkg.geometry.isna().sum()
    for name in frame.columns[:-1]:
        a, b = parquet[name].astype(object), gpkg[name].astype(object)
        assert a.where(a.notna(), None).tolist() == b.where(b.notna(), None).tolist(), name
    assert parquet["termijn"].dtype == "Int64"  # NULLs stay NULL, not NaN or 0
    geo = json.loads(pq.read_metadata(tmp_path / "locaties.parquet").metadata[b"geo"])
    column = geo["columns"]["geometry"]
    assert geo["version"] == "1.0.0" and geo["primary_column"] == "geometry"
    assert column["encoding"] == "WKB"
    assert column["geometry_types"] == ["MultiPolygon", "Point", "Polygon"]
    assert column["bbox"] == [200000.0, 380000.0, 200123.456, 380987.654]


def test_geoparquet_of_polygons_is_multipolygon_like_the_geopackage_layer(tmp_path: Path):
    frame = _sites(8, TEXT)
    frame = frame[frame.geom_type.isin(["Polygon", "MultiPolygon"])]
    write_geoparquet(frame, tmp_path / "vlakken.parquet")
    parquet = gpd.read_parquet(tmp_path / "vlakken.parquet")
    assert set(parquet.geom_type) == {"MultiPolygon"}
    geo = json.loads(pq.read_metadata(tmp_path / "vlakken.parquet").metadata[b"geo"])
    assert geo["columns"]["geometry"]["geometry_types"] == ["MultiPolygon"]


def test_geoparquet_written_in_blocks_equals_geoparquet_written_at_once(tmp_path: Path):
    frame = _sites(2500, TEXT)
    write_geoparquet(frame, tmp_path / "een.parquet")
    geometry_type, _ = geometry_kind(frame.geometry.to_numpy())
    gpkg = GpkgStream(tmp_path / "blokken.gpkg", geometry_type=geometry_type)
    stream = GeoParquetStream(tmp_path / "blokken.parquet", geometry_type=geometry_type)
    for start in range(0, len(frame), 700):
        block = frame.iloc[start : start + 700]
        stream.put(block, gpkg.put(block))
        gpkg.wait()
    gpkg.close()
    stream.close()
    one = pq.read_table(tmp_path / "een.parquet")
    blocks = pq.read_table(tmp_path / "blokken.parquet")
    assert blocks.equals(one)
    meta = [
        pq.read_metadata(tmp_path / n).metadata[b"geo"] for n in ("een.parquet", "blokken.parquet")
    ]
    assert meta[0] == meta[1]


# --- the config key -------------------------------------------------------------------------------


def test_config_key_uitvoer_geoparquet_is_written_and_read(tmp_path: Path):
    text = render_config({"locaties": {"pad": "locaties.gpkg"}}, uitvoer={"geoparquet": True})
    assert "[uitvoer]\ngeoparquet = true\n" in text
    _sites(4, TEXT).to_file(tmp_path / "locaties.gpkg", engine="pyogrio")
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    assert load_config(tmp_path / "config.toml").geoparquet is True
    (tmp_path / "config.toml").write_text(text.replace("true", '"ja"'), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "config.toml")
    assert "[uitvoer] geoparquet moet true of false zijn, niet 'ja'" in str(info.value)


# --- byte-identical reruns ------------------------------------------------------------------------


def _run_record(path: Path) -> dict:
    """run.json without what differs between two runs of the same inputs: the start and end time
    and the seconds per step."""
    record = json.loads(path.read_text(encoding="utf-8"))
    for key in ("gestart", "beeindigd", "tijden_s"):
        assert key in record
        del record[key]
    for step in record["stappen"].values():
        step.pop("seconden", None)
    return record


@pytest.mark.parametrize("blok", ["0", "4"])
def test_same_inputs_give_byte_identical_outputs_at_once_and_in_blocks(tmp_path: Path, blok: str):
    build_world(tmp_path)
    cfg = write_config(tmp_path, standard_config())
    runs = [tmp_path / "een", tmp_path / "twee"]
    for out in runs:
        args = ["score", str(cfg), "--out", str(out), "--blok", blok, "--geoparquet"]
        result = CliRunner().invoke(main, [*args, "--voortgang", "geen"])
        assert result.exit_code == 0, result.output
    names = sorted(p.name for p in runs[0].iterdir())
    assert names == sorted(p.name for p in runs[1].iterdir())
    assert {"locaties.gpkg", "locaties.csv", "locaties.parquet", "referentie.gpkg"} <= set(names)
    for name in names:
        if name != "run.json":
            assert sha256(runs[0] / name) == sha256(runs[1] / name), name
    assert _run_record(runs[0] / "run.json") == _run_record(runs[1] / "run.json")


def test_a_run_without_geoparquet_removes_the_parquet_of_an_earlier_run(tmp_path: Path):
    build_world(tmp_path)
    cfg = write_config(tmp_path, standard_config())
    out = tmp_path / "uit"
    result = CliRunner().invoke(
        main, ["score", str(cfg), "--out", str(out), "--geoparquet"], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    assert "locaties.csv, locaties.parquet, run.json" in result.output
    assert (out / "locaties.parquet").exists()
    result = CliRunner().invoke(main, ["score", str(cfg), "--out", str(out)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "locaties.parquet" not in result.output
    assert not (out / "locaties.parquet").exists()  # it would not match the new outputs
    assert (out / "locaties.gpkg").exists()


def test_a_run_without_reference_layers_removes_the_reference_file_of_an_earlier_run(
    tmp_path: Path,
):
    """A referentie.gpkg left by an earlier run would be drawn on the new run's maps (and by the
    plugin's atlas) as if the new sites had been tested against it."""
    build_world(tmp_path)
    out = tmp_path / "uit"
    full = write_config(tmp_path, standard_config())
    result = CliRunner().invoke(main, ["score", str(full), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "referentie.gpkg").exists()
    sites_only = write_config(
        tmp_path, render_config({"locaties": standard_layers()["locaties"]}), "alleen.toml"
    )
    result = CliRunner().invoke(main, ["score", str(sites_only), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert not (out / "referentie.gpkg").exists()
    assert (out / "locaties.gpkg").exists()


def test_maps_and_report_of_a_run_are_byte_identical_when_made_again(tmp_path: Path):
    """Maps and report are made from the run folder alone: made twice, the same bytes (two runs of
    the same inputs give different reports: the report states the run's times)."""
    build_world(tmp_path)
    cfg = write_config(tmp_path, standard_config())
    run = tmp_path / "run"
    result = CliRunner().invoke(main, ["score", str(cfg), "--out", str(run), "--voortgang", "geen"])
    assert result.exit_code == 0, result.output
    for command in ("kaarten", "rapport"):
        made = [tmp_path / f"{command}_1", tmp_path / f"{command}_2"]
        for out in made:
            args = [command, str(run), "--out", str(out), "--voortgang", "geen"]
            result = CliRunner().invoke(main, args)
            assert result.exit_code == 0, result.output
        files = sorted(p.name for p in made[0].iterdir())
        assert files == sorted(p.name for p in made[1].iterdir())
        assert any(f.endswith(".pdf") for f in files), files
        for name in files:
            assert sha256(made[0] / name) == sha256(made[1] / name), (command, name)
