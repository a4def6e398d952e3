"""The writers of a run's outputs (layers/io/write.py): the CSV is written byte for byte as pandas'
``to_csv`` would write it, whatever path formats it."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from locatietoets.layers.io.write import write_csv

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
    many[: len(specials)] = specials
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


def test_csv_with_carriage_return_or_mixed_objects_falls_back_to_pandas_with_the_same_bytes(
    tmp_path: Path,
):
    frame = _sites(50, [*TEXT, "oude regel\r\nnieuwe regel"])
    frame["mix"] = pd.Series([1, "twee", 3.5, None, pd.Timestamp("2026-01-02")] * 10, dtype=object)
    write_csv(frame, tmp_path / "locaties.csv")
    assert (tmp_path / "locaties.csv").read_bytes() == _pandas_csv(frame, *_xy(frame))
