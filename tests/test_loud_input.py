"""Loud input (issue 13): encodings, every problem at once, Dutch messages, no silently wrong
result.

In the style of ``test_bad_input.py``: exit code or exception, a Dutch message
naming the layer, field and fix, no output, inputs byte-identical.
"""

from __future__ import annotations

import logging
from pathlib import Path
import re

from click.testing import CliRunner
from fixtures import flat, sha256, standard_config, write_config
import pytest

from locatietoets.analysis.errors import ConfigError, InputError, LocatietoetsError
from locatietoets.layers.io.config import load_config
from locatietoets.scripts.cli import main
from locatietoets.scripts.runner.score import run_config


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def _score(folder: Path, text: str, name: str = "config.toml"):
    cfg = write_config(folder, text, name)
    return run_config(load_config(cfg), folder / "uit")


_CSV_CONFIG = (
    '[lagen.locaties]\npad = "l.csv"\nid_veld = "id"\nx_veld = "x"\ny_veld = "y"\ncrs ='
    ' "EPSG:28992"\n'
)


# ---------------------------------------------------------------------------
# encodings
# ---------------------------------------------------------------------------


def test_config_utf8_with_bom_is_accepted(world):
    (world / "c.toml").write_bytes(b"\xef\xbb\xbf" + standard_config().encode("utf-8"))
    outcome = run_config(load_config(world / "c.toml"), world / "uit")
    assert outcome.record["locaties"] == 8


def test_config_in_windows_1252_names_file_and_line(world):
    text = standard_config() + "\n# opmerking: één café\n"
    (world / "c.toml").write_bytes(text.encode("cp1252"))
    line = text.count("\n", 0, text.index("één")) + 1
    with pytest.raises(ConfigError) as info:
        load_config(world / "c.toml")
    msg = str(info.value)
    assert f"'{world / 'c.toml'}' is geen UTF-8-tekst: regel {line} bevat byte 0xe9" in msg
    assert "Sla het bestand op als UTF-8" in msg


def test_config_not_utf8_through_the_cli_is_exit_2_not_unexpected(world):
    (world / "c.toml").write_bytes((standard_config() + "# café\n").encode("latin-1"))
    result = CliRunner().invoke(
        main, ["score", str(world / "c.toml"), "--out", str(world / "uit"), "--voortgang", "geen"]
    )
    assert result.exit_code == 2, result.output
    assert (
        "Fout in de configuratie" in flat(result.stderr)
        and "UnicodeDecodeError" not in result.output
    )
    assert not (world / "uit").exists()


def test_csv_utf8_with_bom_is_read_without_warning(world):
    (world / "l.csv").write_bytes(b"\xef\xbb\xbfid,x,y\nA\xc3\xa91,200250,380500\n")
    outcome = _score(world, _CSV_CONFIG)
    assert outcome.result.results["locatie_id"].tolist() == ["Aé1"]
    assert not any("codering" in w or "Windows" in w for w in outcome.record["waarschuwingen"])


def test_csv_in_windows_1252_is_read_with_a_warning_naming_the_encoding(world):
    (world / "l.csv").write_bytes("id;x;y;naam\nA1;200250;380500;Café ’t Hoekje\n".encode("cp1252"))
    outcome = _score(world, _CSV_CONFIG)
    assert outcome.result.results["locatie_id"].tolist() == ["A1"]
    warnings = outcome.record["waarschuwingen"]
    assert any(
        "'l.csv' is geen UTF-8 (regel 2); gelezen als Windows-1252" in w for w in warnings
    ), warnings
    assert outcome.record["invoer"]["locaties"]["waarschuwingen"]
    import pandas as pd

    assert pd.read_csv(world / "uit" / "locaties.csv")["naam"].tolist() == ["Café ’t Hoekje"]


def test_csv_codering_key_is_used_without_warning(world):
    (world / "l.csv").write_bytes("id,x,y,naam\nA1,200250,380500,Kerkstraße\n".encode("latin-1"))
    outcome = _score(world, _CSV_CONFIG + 'codering = "latin-1"\n')
    assert not any("UTF-8" in w for w in outcome.record["waarschuwingen"])
    import pandas as pd

    assert pd.read_csv(world / "uit" / "locaties.csv")["naam"].tolist() == ["Kerkstraße"]


def test_csv_unknown_codering_is_an_error(world):
    (world / "l.csv").write_text("id,x,y\nA1,200250,380500\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=re.escape("[lagen.locaties] codering 'klingon' is onbekend")
    ):
        _score(world, _CSV_CONFIG + 'codering = "klingon"\n')


def test_csv_not_text_names_file_and_line(world):
    # 0x81 and 0x8d are undefined in Windows-1252: no guess possible
    (world / "l.csv").write_bytes(b"id,x,y\nA1,200250,380500\nA2,200\x81\x8d,380500\n")
    with pytest.raises(InputError) as info:
        _score(world, _CSV_CONFIG)
    msg = str(info.value)
    assert (
        msg.startswith("[lagen.locaties]") and "is geen UTF-8-tekst: regel 3 bevat byte 0x81" in msg
    )
    assert 'codering = "cp1252"' in msg
    assert not (world / "uit").exists()


# ---------------------------------------------------------------------------
# every problem at once
# ---------------------------------------------------------------------------


def test_three_mistakes_in_three_places_are_reported_in_one_message(world):
    # an unknown key, a missing file and a missing field in another layer: one run shows all three
    text = (
        standard_config()
        .replace('id_veld = "id"', 'id_veld = "id"\nid_vled = "x"')
        .replace('pad = "bbg.gpkg"', 'pad = "bbg_2024.gpkg"')
        .replace('naam_veld = "naam"', 'naam_veld = "parknaam"', 1)
    )
    before = _hashes(world)
    cfg = write_config(world, text, "drie.toml")
    result = CliRunner().invoke(
        main, ["score", str(cfg), "--out", str(world / "uit"), "--voortgang", "geen"]
    )
    assert result.exit_code == 2, result.output
    message = flat(result.stderr)
    assert "3 problemen gevonden" in message, message
    assert "Onbekende sleutel 'id_vled' in [lagen.locaties]. Bedoelde u 'id_veld'?" in message
    assert "[lagen.bebouwd_gebied] bestand" in message and "bbg_2024.gpkg' bestaat niet" in message
    assert "Bedoelde u 'bbg.gpkg'?" in message
    assert (
        '[lagen.recreatieparken] naam_veld = "parknaam": dat veld bestaat niet in'
        " 'parken.geojson'" in message
    )
    assert not (world / "uit").exists()
    assert {k: v for k, v in _hashes(world).items() if k != "drie.toml"} == before


def test_input_problems_of_several_layers_and_the_rule_set_come_together(world):
    text = (
        standard_config()
        .replace('personen_veld = "personen"', 'personen_veld = "pers"')
        .replace('pad = "bbg.gpkg"', 'pad = "bbg_2024.gpkg"')
        + "\n[regels]\nbbg_rand = 100\n"
    )
    with pytest.raises(LocatietoetsError) as info:
        _score(world, text)
    msg = str(info.value)
    assert "3 problemen gevonden" in msg
    assert "Onbekende parameter 'bbg_rand'" in msg
    assert 'personen_veld = "pers"' in msg and "Bedoelde u 'personen'?" in msg
    assert "bbg_2024.gpkg' bestaat niet" in msg


def test_missing_file_hint_never_suggests_another_layers_file(world):
    # 'kom.gpkg' is missing for bebouwde_kom; 'bbg.gpkg' looks alike but is the BBG layer's file
    (world / "kom.gpkg").unlink()
    text = standard_config().replace('pad = "kom.gpkg"', 'pad = "kbg.gpkg"')
    with pytest.raises(InputError) as info:
        _score(world, text)
    msg = str(info.value)
    assert "[lagen.bebouwde_kom] bestand" in msg and "kbg.gpkg' bestaat niet" in msg
    assert "Bedoelde u" not in msg


# ---------------------------------------------------------------------------
# a layer without any usable geometry is an error, as an empty layer is
# ---------------------------------------------------------------------------


def _null_layer(path: Path, attrs: dict, *, empty: bool = False) -> None:
    import geopandas as gpd
    from shapely.geometry import Polygon

    n = len(next(iter(attrs.values())))
    geoms = [Polygon() if empty else None for _ in range(n)]
    gpd.GeoDataFrame(
        attrs, geometry=gpd.GeoSeries(geoms, crs="EPSG:28992"), crs="EPSG:28992"
    ).to_file(path)


@pytest.mark.parametrize(
    ("layer", "file", "section", "attrs", "empty"),
    [
        ("bebouwd_gebied", "bbg_null.gpkg", None, {"naam": ["a", "b"]}, False),
        ("recreatieparken", "parken_null.gpkg", None, {"naam": ["p"]}, False),
        ("geurcontouren", "geur_leeg.gpkg", 'waarde_veld = "oue"\n', {"oue": [5.0, 8.0]}, True),
        ("veehouderijen", "vee_null.gpkg", "", {"naam": ["boer"]}, False),
        ("werkgevers", "werk_null.gpkg", "", {"naam": ["fabriek"]}, False),
    ],
)
def test_reference_layer_with_only_null_or_empty_geometries_is_an_error(
    world, layer, file, section, attrs, empty
):
    _null_layer(world / file, attrs, empty=empty)
    if section is None:  # replaces a layer of the standard config
        old = {"bebouwd_gebied": 'pad = "bbg.gpkg"', "recreatieparken": 'pad = "parken.geojson"'}[
            layer
        ]
        text = standard_config().replace(old, f'pad = "{file}"')
    else:
        text = standard_config() + f'\n[lagen.{layer}]\npad = "{file}"\n{section}'
    before = _hashes(world)
    with pytest.raises(InputError) as info:
        _score(world, text)
    msg = str(info.value)
    n = len(next(iter(attrs.values())))
    assert (
        f"[lagen.{layer}] '{file}' heeft geen bruikbare geometrie: alle {n} objecten zijn leeg of"
        " zonder geometrie (NULL)" in msg
    )
    assert f"laat de sectie [lagen.{layer}] weg" in msg
    assert not (world / "uit").exists()
    assert {k: v for k, v in _hashes(world).items() if k != "config.toml"} == {
        k: v for k, v in before.items() if k != "config.toml"
    }


def test_sites_with_only_null_geometries_is_an_error(world):
    _null_layer(
        world / "locaties_null.gpkg", {"id": ["A", "B"], "type": ["short_stay", "long_stay"]}
    )
    text = (
        '[lagen.locaties]\npad = "locaties_null.gpkg"\nid_veld = "id"\nverblijfstype_veld ='
        ' "type"\n'
    )
    with pytest.raises(
        InputError,
        match=re.escape(
            "[lagen.locaties] 'locaties_null.gpkg' heeft geen bruikbare geometrie: alle 2 objecten"
        ),
    ):
        _score(world, text)


def test_null_bbg_through_the_cli_is_exit_2_without_output(world):
    _null_layer(world / "bbg_null.gpkg", {"naam": ["a"]})
    cfg = write_config(
        world, standard_config().replace('pad = "bbg.gpkg"', 'pad = "bbg_null.gpkg"'), "c.toml"
    )
    result = CliRunner().invoke(
        main, ["score", str(cfg), "--out", str(world / "uit"), "--voortgang", "geen"]
    )
    assert result.exit_code == 2, result.output
    assert "heeft geen bruikbare geometrie" in flat(result.stderr)
    assert not (world / "uit").exists()


def test_distance_to_nothing_is_missing_not_zero():
    import numpy as np
    import shapely

    from locatietoets.analysis.overlay import _nearest_distance

    points = np.array([shapely.Point(0, 0), shapely.Point(3, 4)], dtype=object)
    assert np.isnan(_nearest_distance(shapely.STRtree(np.array([], dtype=object)), points)).all()
    assert _nearest_distance(
        shapely.STRtree(np.array([shapely.Point(0, 0)], dtype=object)), points
    ).tolist() == [0.0, 5.0]


def test_classify_bbg_without_any_bbg_geometry_refuses_instead_of_rand_0_m():
    import geopandas as gpd
    from shapely.geometry import Point, Polygon

    from locatietoets.analysis.overlay import classify_bbg

    sites = gpd.GeoSeries([Point(200_250, 380_500)], crs="EPSG:28992")
    with pytest.raises(InputError, match="bevat geen bruikbare geometrie"):
        classify_bbg(
            sites, gpd.GeoSeries([Polygon()], crs="EPSG:28992"), rand_m=250.0, inside_share_min=0.5
        )


# ---------------------------------------------------------------------------
# one rule for every result name, in the CSV and the GeoPackage alike
# ---------------------------------------------------------------------------


def test_input_fields_named_like_result_fields_are_kept_as_invoer_in_both_outputs(world):
    from fixtures import sites_frame, write_gdf
    import geopandas as gpd
    import pandas as pd

    sites = sites_frame()
    sites["x_rd"] = 1.5  # the CSV's coordinate column
    sites["oordeel_short_stay"] = "eigen oordeel"  # a result field
    sites["bbg_ligging"] = "binnen"  # a result field holding what the run also finds for some sites
    write_gdf(sites, world / "locaties_x.gpkg")
    text = standard_config(locaties="locaties_x.gpkg")
    outcome = _score(world, text)
    csv = pd.read_csv(world / "uit" / "locaties.csv")
    gpkg = gpd.read_file(world / "uit" / "locaties.gpkg")
    for table in (csv, gpkg):
        assert (table["x_rd_invoer"] == 1.5).all()
        assert (table["oordeel_short_stay_invoer"] == "eigen oordeel").all()
        assert (table["bbg_ligging_invoer"] == "binnen").all()
        assert table["bbg_ligging"].tolist()[:3] == ["binnen", "binnen", "rand"]
    assert csv["x_rd"].tolist()[0] == 200250.0  # the computed coordinate, not the input's 1.5
    assert "x_rd" not in gpkg.columns
    warning = next(w for w in outcome.record["waarschuwingen"] if "hernoemd" in w)
    for name in (
        "x_rd → x_rd_invoer",
        "oordeel_short_stay → oordeel_short_stay_invoer",
        "bbg_ligging → bbg_ligging_invoer",
    ):
        assert name in warning


# ---------------------------------------------------------------------------
# messages that leaked GDAL's English or misled
# ---------------------------------------------------------------------------


def _replace_layer(world: Path, file: str) -> str:
    return standard_config().replace('pad = "bbg.gpkg"', f'pad = "{file}"')


def test_zero_byte_file_is_named_empty(world):
    (world / "nul.gpkg").write_bytes(b"")
    with pytest.raises(InputError) as info:
        _score(world, _replace_layer(world, "nul.gpkg"))
    msg = str(info.value)
    assert f"[lagen.bebouwd_gebied] bestand '{world / 'nul.gpkg'}' is leeg (0 bytes)" in msg
    assert "not recognized" not in msg and "DRIVER" not in msg


def test_text_file_named_gpkg_is_not_a_geopackage_in_dutch(world):
    (world / "tekst.gpkg").write_text("dit is een kladblokbestand\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        _score(world, _replace_layer(world, "tekst.gpkg"))
    msg = str(info.value)
    assert "het is geen GeoPackage (geen SQLite-database" in msg
    assert "not recognized" not in msg and "supported file format" not in msg


@pytest.mark.parametrize(("part", "meaning"), [(".dbf", "de attributen"), (".shx", "de index")])
def test_shapefile_missing_part_is_named(world, part, meaning):
    from fixtures import BBG_BOX
    import geopandas as gpd
    from shapely.geometry import box

    gpd.GeoDataFrame({"naam": ["B"]}, geometry=[box(*BBG_BOX)], crs="EPSG:28992").to_file(
        world / "bbg_shp.shp"
    )
    (world / f"bbg_shp{part}").unlink()
    text = standard_config().replace(
        'pad = "parken.geojson"', 'pad = "bbg_shp.shp"'
    )  # with naam_veld = "naam"
    with pytest.raises(InputError) as info:
        _score(world, text)
    msg = str(info.value)
    assert (
        f"[lagen.recreatieparken] bij Shapefile 'bbg_shp.shp' ontbreekt 'bbg_shp{part}' ({meaning})"
        in msg
    )
    assert "Beschikbare velden: ." not in msg and "SHAPE_RESTORE_SHX" not in msg


def _measured_geopackage(path: Path) -> None:
    """A GeoPackage whose polygon has M values (as ArcGIS writes 'Measured Polygon')."""
    import sqlite3
    import struct

    from fixtures import BBG_BOX
    import geopandas as gpd
    from shapely.geometry import box

    gpd.GeoDataFrame({"naam": ["B"]}, geometry=[box(*BBG_BOX)], crs="EPSG:28992").to_file(
        path, layer="bbg", SPATIAL_INDEX="NO"
    )
    x0, y0, x1, y1 = BBG_BOX
    ring = [(x0, y0, 1.0), (x1, y0, 1.0), (x1, y1, 1.0), (x0, y1, 1.0), (x0, y0, 1.0)]
    wkb = (
        struct.pack("<BII", 1, 2003, 1)
        + struct.pack("<I", len(ring))
        + b"".join(struct.pack("<ddd", *p) for p in ring)
    )
    blob = b"GP\x00\x01" + struct.pack("<i", 28992) + wkb
    con = sqlite3.connect(path)
    con.execute("UPDATE bbg SET geom = ?", (blob,))
    con.execute("UPDATE gpkg_geometry_columns SET m = 1")
    con.commit()
    con.close()


def test_measured_geometries_are_read_as_2d_with_a_warning_not_blamed_on_the_format(world):
    _measured_geopackage(world / "bbg_m.gpkg")
    outcome = _score(world, _replace_layer(world, "bbg_m.gpkg"))
    assert outcome.result.results["bbg_ligging"].tolist()[:3] == ["binnen", "binnen", "rand"]
    warnings = outcome.record["invoer"]["bebouwd_gebied"]["waarschuwingen"]
    assert any("M-waarden (maat) van 1 geometrieën genegeerd" in w for w in warnings), warnings
    assert not any("Gebruik een GeoPackage" in w for w in outcome.record["waarschuwingen"])


def test_python_and_gdal_warnings_become_dutch_warnings_not_raw_stderr(world):
    _measured_geopackage(world / "bbg_m.gpkg")
    cfg = write_config(world, _replace_layer(world, "bbg_m.gpkg"), "m.toml")
    result = CliRunner().invoke(
        main, ["score", str(cfg), "--out", str(world / "uit"), "--voortgang", "geen"]
    )
    assert result.exit_code == 0, result.output
    assert "UserWarning" not in result.stderr and "warnings.warn" not in result.stderr, (
        result.stderr
    )
    import json

    record = json.loads((world / "uit" / "run.json").read_text(encoding="utf-8"))
    notes = [w for w in record["waarschuwingen"] if w.startswith("melding van")]
    assert any("melding van Python bij het inlezen" in w and "Measured (M)" in w for w in notes), (
        record["waarschuwingen"]
    )


def test_a_few_stray_sites_far_outside_the_netherlands_are_named_not_blamed_on_the_crs(world):
    from fixtures import sites_frame, write_gdf
    from shapely.geometry import Point

    sites = sites_frame()
    sites.loc[2, "geometry"] = Point(2_011_000, 380_500)  # a digit too many
    sites.loc[4, "geometry"] = Point(380_500, 201_400)  # x and y swapped
    sites.loc[6, "geometry"] = Point(197_800, -3_805_000)
    write_gdf(sites, world / "locaties_fout.gpkg")
    with pytest.raises(InputError) as info:
        _score(world, standard_config(locaties="locaties_fout.gpkg"))
    msg = str(info.value)
    assert (
        "[lagen.locaties] 3 van de 8 objecten in 'locaties_fout.gpkg' liggen ver buiten Nederland"
        in msg
    )
    assert "id B1: x 2.011.000" in msg and "id B3: x 380.500" in msg and "id W1:" in msg
    assert "dus het CRS klopt" in msg and "Waarschijnlijk klopt het CRS niet" not in msg


def test_zero_bedrooms_with_persons_is_an_error_not_onbekend(world):
    from fixtures import sites_frame, write_gdf

    sites = sites_frame()
    sites.loc[0, "slaapkamers"] = 0  # A1: 4 persons
    write_gdf(sites, world / "locaties_0.gpkg")
    with pytest.raises(InputError) as info:
        _score(world, standard_config(locaties="locaties_0.gpkg"))
    msg = str(info.value)
    assert (
        "[lagen.locaties] veld 'slaapkamers' (slaapkamers_veld) is 0 bij 1 locaties met personen"
        " (bv. A1)" in msg
    )


def test_infinite_contour_value_is_an_error(world):
    from fixtures import BBG_BOX
    import geopandas as gpd
    from shapely.geometry import box

    gpd.GeoDataFrame({"oue": [float("inf")]}, geometry=[box(*BBG_BOX)], crs="EPSG:28992").to_file(
        world / "geur.gpkg"
    )
    text = standard_config(layers={"geurcontouren": {"pad": "geur.gpkg", "waarde_veld": "oue"}})
    with pytest.raises(
        InputError,
        match=re.escape(
            "[lagen.geurcontouren] veld 'oue' (waarde_veld) heeft 1 oneindige waarden (inf)"
        ),
    ):
        _score(world, text)


def test_demand_table_in_windows_1252_is_read_with_a_warning(tmp_path, caplog):
    from locatietoets.layers.io.demand import read_demand_table

    table = tmp_path / "behoefte.csv"
    table.write_bytes(
        "gemeente;short_stay\nSittard-Geleen;10\nGemeente ’s-Gravenvoeren;5\n".encode("cp1252")
    )
    with caplog.at_level(logging.WARNING):
        demand = read_demand_table(table)
    assert demand["gemeente"].tolist() == ["Sittard-Geleen", "Gemeente ’s-Gravenvoeren"]
    assert "gelezen als Windows-1252" in caplog.text


def test_demand_table_with_bom_is_read_silently(tmp_path, caplog):
    from locatietoets.layers.io.demand import read_demand_table

    table = tmp_path / "behoefte.csv"
    table.write_bytes(b"\xef\xbb\xbfgemeente;short_stay\nVenlo;10\n")
    with caplog.at_level(logging.WARNING):
        demand = read_demand_table(table)
    assert demand["gemeente"].tolist() == ["Venlo"] and "Windows" not in caplog.text
