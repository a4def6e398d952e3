"""Bad input (issue 2): every case gives a clear Dutch error, never a traceback.

Each error must name the layer (``[lagen.x]``), the field, what was found and
how to fix it. Repairable problems (invalid geometry, missing geometry) are
not errors: they are repaired or kept and counted in the run record.
Fixtures are built in code in ``tmp_path`` (see ``fixtures.py``).
"""

from __future__ import annotations

from importlib import resources
import json
from pathlib import Path
import re

from click.testing import CliRunner
from fixtures import (
    BBG_BOX,
    PARK_BOX,
    RD,
    flat,
    polygons,
    read_output,
    run_subprocess,
    sha256,
    sites_frame,
    standard_config,
    write_config,
    write_gdf,
)
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon, box

from locatietoets.analysis.errors import ConfigError, InputError, LocatietoetsError, RuleSetError
from locatietoets.layers.io.config import load_config
from locatietoets.layers.io.rules import read_ruleset_file
from locatietoets.layers.io.write import OUTPUT_FILES
from locatietoets.scripts.cli import main
from locatietoets.scripts.runner.score import run_config

BUILTIN_RULESET = (
    resources.files("locatietoets.analysis") / "rulesets" / "limburg-povi2021.toml"
).read_text(encoding="utf-8")


def _score(folder: Path, text: str, name: str = "config.toml"):
    cfg = write_config(folder, text, name)
    return run_config(load_config(cfg), folder / "uit")


def _sites_config(locaties: str, extra_keys: str = "") -> str:
    text = standard_config(locaties=locaties)
    if extra_keys:
        text = text.replace(
            'woonoppervlak_veld = "opp"', 'woonoppervlak_veld = "opp"\n' + extra_keys, 1
        )
    return text


# ---------------------------------------------------------------------------
# files and layers
# ---------------------------------------------------------------------------


def test_missing_file_names_layer_path_and_suggests_existing_file(world):
    text = standard_config().replace('pad = "bbg.gpkg"', 'pad = "bgg.gpkg"')
    with pytest.raises(InputError, match=re.escape("[lagen.bebouwd_gebied] bestand")) as info:
        _score(world, text)
    msg = str(info.value)
    assert str(world / "bgg.gpkg") in msg
    assert "bestaat niet" in msg
    assert "Bedoelde u 'bbg.gpkg'?" in msg
    assert "Controleer 'pad'" in msg
    assert not (world / "uit").exists()


def test_missing_sites_file(tmp_path):
    cfg = write_config(tmp_path, '[lagen.locaties]\npad = "nergens.gpkg"\n')
    with pytest.raises(
        InputError, match=r"\[lagen\.locaties\] bestand '.*nergens\.gpkg' bestaat niet"
    ):
        run_config(load_config(cfg), tmp_path / "uit")


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match=r"Configuratiebestand '.*geen\.toml' bestaat niet"):
        load_config(tmp_path / "geen.toml")


def _multi_gpkg(path: Path) -> Path:
    write_gdf(polygons([({"naam": "BBG"}, box(*BBG_BOX))]), path, layer="bbg_2024")
    write_gdf(polygons([({"naam": "park"}, box(*PARK_BOX))]), path, layer="parken")
    return path


def test_missing_layer_in_multilayer_geopackage_suggests_name(world):
    _multi_gpkg(world / "multi.gpkg")
    text = standard_config().replace('pad = "bbg.gpkg"', 'pad = "multi.gpkg"\nlaag = "bbg_2042"')
    with pytest.raises(
        InputError,
        match=re.escape("[lagen.bebouwd_gebied] laag 'bbg_2042' bestaat niet in 'multi.gpkg'"),
    ) as info:
        _score(world, text)
    assert "Bedoelde u 'bbg_2024'?" in str(info.value)
    assert "Beschikbare lagen: bbg_2024, parken" in str(info.value)


def test_multilayer_geopackage_without_laag_lists_layers(world):
    _multi_gpkg(world / "multi.gpkg")
    text = standard_config().replace('pad = "bbg.gpkg"', 'pad = "multi.gpkg"')
    with pytest.raises(
        InputError,
        match=re.escape(
            "[lagen.bebouwd_gebied] 'multi.gpkg' bevat meerdere lagen (bbg_2024, parken)"
        ),
    ) as info:
        _score(world, text)
    assert "laag = " in str(info.value)


def test_multilayer_geopackage_with_laag_works(world):
    _multi_gpkg(world / "multi.gpkg")
    text = standard_config().replace('pad = "bbg.gpkg"', 'pad = "multi.gpkg"\nlaag = "bbg_2024"')
    outcome = _score(world, text)
    assert outcome.result.results["bbg_ligging"].tolist()[:3] == ["binnen", "binnen", "rand"]
    assert outcome.record["invoer"]["bebouwd_gebied"]["laag"] == "bbg_2024"


def test_unreadable_file_garbage_bytes(world):
    (world / "kapot.gpkg").write_bytes(b"\x00\x01 dit is geen geopackage \xff" * 50)
    text = standard_config().replace('pad = "bbg.gpkg"', 'pad = "kapot.gpkg"')
    with pytest.raises(InputError, match=re.escape("[lagen.bebouwd_gebied] bestand")) as info:
        _score(world, text)
    msg = str(info.value)
    assert "kan niet gelezen worden" in msg
    assert "GeoPackage" in msg  # the fix: which formats are accepted


def test_empty_layer(world):
    write_gdf(sites_frame().iloc[:0], world / "leeg.gpkg")
    with pytest.raises(
        InputError, match=re.escape("[lagen.locaties] 'leeg.gpkg' is leeg (0 objecten)")
    ) as info:
        _score(world, _sites_config("leeg.gpkg"))
    assert "Vul de laag" in str(info.value)


def test_empty_reference_layer(world):
    write_gdf(polygons([({"naam": "x"}, box(*PARK_BOX))]).iloc[:0], world / "geen_parken.gpkg")
    text = standard_config().replace('pad = "parken.geojson"', 'pad = "geen_parken.gpkg"')
    with pytest.raises(
        InputError, match=re.escape("[lagen.recreatieparken] 'geen_parken.gpkg' is leeg")
    ):
        _score(world, text)


# ---------------------------------------------------------------------------
# CRS
# ---------------------------------------------------------------------------


def test_shapefile_without_prj_asks_for_crs(world):
    gpd.GeoDataFrame({"naam": ["b"]}, geometry=[box(*BBG_BOX)], crs=None).to_file(
        world / "bbg_zonder_prj.shp"
    )
    assert not (world / "bbg_zonder_prj.prj").exists()
    text = standard_config().replace('pad = "bbg.gpkg"', 'pad = "bbg_zonder_prj.shp"')
    with pytest.raises(
        InputError,
        match=re.escape(
            "[lagen.bebouwd_gebied] 'bbg_zonder_prj.shp' heeft geen coördinatenstelsel (CRS)"
        ),
    ) as info:
        _score(world, text)
    assert 'crs = "EPSG:28992"' in str(info.value)


def test_shapefile_without_prj_fixed_by_config_crs(world):
    gpd.GeoDataFrame({"naam": ["b"]}, geometry=[box(*BBG_BOX)], crs=None).to_file(
        world / "bbg_zonder_prj.shp"
    )
    text = standard_config().replace(
        'pad = "bbg.gpkg"', 'pad = "bbg_zonder_prj.shp"\ncrs = "EPSG:28992"'
    )
    outcome = _score(world, text)
    assert outcome.result.results["bbg_afstand_m"].tolist() == [
        0.0,
        0.0,
        100.0,
        600.0,
        500.0,
        2200.0,
        2200.0,
        2200.0,
    ]
    assert outcome.record["invoer"]["bebouwd_gebied"]["crs_bron"] == "EPSG:28992"


def test_csv_xy_without_crs_asks_for_crs(world):
    (world / "l.csv").write_text("id,x,y\nA1,200250,380500\n", encoding="utf-8")
    text = '[lagen.locaties]\npad = "l.csv"\nid_veld = "id"\nx_veld = "x"\ny_veld = "y"\n'
    with pytest.raises(
        InputError, match=re.escape("[lagen.locaties] 'l.csv' heeft geen coördinatenstelsel (CRS)")
    ) as info:
        _score(world, text)
    assert 'crs = "EPSG:28992"' in str(info.value)


def test_csv_without_geometry_fields_asks_for_x_y_or_wkt(world):
    (world / "l.csv").write_text("id,oost,noord\nA1,200250,380500\n", encoding="utf-8")
    text = '[lagen.locaties]\npad = "l.csv"\nid_veld = "id"\ncrs = "EPSG:28992"\n'
    with pytest.raises(
        InputError, match=re.escape("[lagen.locaties] 'l.csv' is een tabel zonder geometrie")
    ) as info:
        _score(world, text)
    assert "x_veld" in str(info.value) and "oost, noord" in str(info.value)


def test_csv_x_field_misspelt_suggests_column(world):
    (world / "l.csv").write_text("id,x_rd,y_rd\nA1,200250,380500\n", encoding="utf-8")
    text = '[lagen.locaties]\npad = "l.csv"\nx_veld = "xrd"\ny_veld = "y_rd"\ncrs = "EPSG:28992"\n'
    with pytest.raises(
        InputError,
        match=re.escape(
            "[lagen.locaties] x_veld = \"xrd\": dat veld bestaat niet in 'l.csv'. Bedoelde u"
            " 'x_rd'?"
        ),
    ):
        _score(world, text)


def test_wrong_crs_rd_points_stored_as_wgs84(world):
    write_gdf(sites_frame().set_crs(4326, allow_override=True), world / "l_wgs84.gpkg")
    with pytest.raises(
        InputError,
        match=(
            r"\[lagen\.locaties\] 'l_wgs84\.gpkg' ligt na omzetting van EPSG:4326 naar RD New niet"
            r" in Nederland"
        ),
    ):
        _score(world, _sites_config("l_wgs84.gpkg"))


def test_wrong_crs_rd_polygons_stored_as_wgs84(world):
    write_gdf(
        polygons([({"naam": "BBG"}, box(*BBG_BOX))]).set_crs(4326, allow_override=True),
        world / "bbg_wgs84.gpkg",
    )
    text = standard_config().replace('pad = "bbg.gpkg"', 'pad = "bbg_wgs84.gpkg"')
    with pytest.raises(
        InputError,
        match=(
            r"\[lagen\.bebouwd_gebied\] 'bbg_wgs84\.gpkg' ligt na omzetting van EPSG:4326 naar RD"
            r" New niet in Nederland"
        ),
    ):
        _score(world, text)


def test_geojson_without_crs_holding_rd_coordinates(world):
    gpd.GeoDataFrame({"naam": ["b"]}, geometry=[box(*BBG_BOX)], crs=None).to_file(
        world / "bbg_rd.geojson"
    )
    text = standard_config().replace('pad = "bbg.gpkg"', 'pad = "bbg_rd.geojson"')
    with pytest.raises(
        InputError, match=r"\[lagen\.bebouwd_gebied\] 'bbg_rd\.geojson' ligt .*niet in Nederland"
    ) as info:
        _score(world, text)
    assert "CRS" in str(info.value)


def test_configured_crs_contradicts_file(world):
    text = standard_config().replace('pad = "bbg.gpkg"', 'pad = "bbg.gpkg"\ncrs = "EPSG:4326"')
    with pytest.raises(
        InputError,
        match=re.escape(
            "[lagen.bebouwd_gebied] 'bbg.gpkg' heeft CRS EPSG:28992, maar de configuratie zegt crs"
            ' = "EPSG:4326"'
        ),
    ) as info:
        _score(world, text)
    assert "verwijder het uit de configuratie" in str(info.value)


def test_unknown_configured_crs(world):
    text = standard_config().replace('pad = "bbg.gpkg"', 'pad = "bbg.gpkg"\ncrs = "EPSG:9999999"')
    with pytest.raises(
        InputError, match=re.escape("[lagen.bebouwd_gebied] crs 'EPSG:9999999' is onbekend")
    ):
        _score(world, text)


def test_layer_in_wgs84_gives_same_distances_as_rd(world):
    rd = _score(world, standard_config(), "rd.toml").result.results
    write_gdf(sites_frame().to_crs(4326), world / "l_wgs84.geojson")
    write_gdf(polygons([({"naam": "BBG"}, box(*BBG_BOX))]).to_crs(4326), world / "bbg_wgs84.gpkg")
    text = _sites_config("l_wgs84.geojson").replace('pad = "bbg.gpkg"', 'pad = "bbg_wgs84.gpkg"')
    wgs = _score(world, text, "wgs.toml").result.results
    np.testing.assert_allclose(wgs["bbg_afstand_m"], rd["bbg_afstand_m"], atol=0.1)
    assert wgs["bbg_ligging"].tolist() == rd["bbg_ligging"].tolist()
    assert rd["bbg_afstand_m"].tolist() == [0.0, 0.0, 100.0, 600.0, 500.0, 2200.0, 2200.0, 2200.0]


# ---------------------------------------------------------------------------
# fields and values
# ---------------------------------------------------------------------------


def test_configured_field_missing_suggests_close_name(world):
    text = standard_config().replace('verblijfstype_veld = "type"', 'verblijfstype_veld = "tpye"')
    with pytest.raises(
        InputError,
        match=re.escape(
            '[lagen.locaties] verblijfstype_veld = "tpye": dat veld bestaat niet in'
            " 'locaties.gpkg'. Bedoelde u 'type'?"
        ),
    ) as info:
        _score(world, text)
    assert "Beschikbare velden: id, type, personen" in str(info.value)


def test_reference_field_missing_case_hint(world):
    text = standard_config().replace(
        'naam_veld = "naam"\n\n[lagen.gemeenten]', 'naam_veld = "NAAM"\n\n[lagen.gemeenten]'
    )
    with pytest.raises(
        InputError, match=re.escape('[lagen.recreatieparken] naam_veld = "NAAM"')
    ) as info:
        _score(world, text)
    assert "Bedoelde u 'naam'? (let op hoofdletters)" in str(info.value)


def test_several_missing_fields_reported_together(world):
    text = (
        standard_config()
        .replace('id_veld = "id"', 'id_veld = "ident"')
        .replace('personen_veld = "personen"', 'personen_veld = "persoon"')
    )
    with pytest.raises(InputError, match="2 problemen gevonden") as info:
        _score(world, text)
    assert 'id_veld = "ident"' in str(info.value) and 'personen_veld = "persoon"' in str(info.value)


def test_unknown_verblijfstype_lists_values_and_counts(world):
    s = sites_frame()
    s.loc[[0, 3], "type"] = "kort verblijf"
    s.loc[4, "type"] = "seizoen"
    write_gdf(s, world / "l.gpkg")
    with pytest.raises(
        InputError,
        match=re.escape("[lagen.locaties] veld 'type' (verblijfstype) heeft onbekende waarden:"),
    ) as info:
        _score(world, _sites_config("l.gpkg"))
    msg = str(info.value)
    assert "'kort verblijf' (2×)" in msg and "'seizoen' (1×)" in msg
    assert "Toegestaan: short_stay, mid_stay, long_stay" in msg


def test_verblijfstype_spelling_variants_are_accepted(world):
    s = sites_frame()
    s["type"] = [
        "Short-stay",
        "LONG STAY",
        "long_stay",
        "mid-stay",
        None,
        "short_stay",
        "",
        "longstay",
    ]
    write_gdf(s, world / "l.gpkg")
    outcome = _score(world, _sites_config("l.gpkg"))
    assert outcome.result.results["verblijfstype"].tolist() == [
        "short_stay",
        "long_stay",
        "long_stay",
        "mid_stay",
        "short_stay",
        "short_stay",
        "short_stay",
        "long_stay",
    ]
    assert any(
        "2 locaties zonder verblijfstype: short_stay aangenomen" in w
        for w in outcome.record["waarschuwingen"]
    )


def test_unknown_huisvestingsvorm(world):
    s = sites_frame()
    s["vorm"] = ["logies", "woning", "woning", "Woonfunctie", None, "", "logies", "logies"]
    write_gdf(s, world / "l.gpkg")
    text = _sites_config("l.gpkg", 'huisvestingsvorm_veld = "vorm"')
    with pytest.raises(
        InputError,
        match=re.escape(
            "[lagen.locaties] veld 'vorm' (huisvestingsvorm) heeft onbekende waarden: 'woning' (2×)"
        ),
    ) as info:
        _score(world, text)
    assert "Toegestaan: logies, woonfunctie" in str(info.value)


def test_non_numeric_personen(world):
    s = sites_frame()
    s["personen"] = ["4", "drie", "3", "2", "", None, "1", "veel"]
    write_gdf(s, world / "l.gpkg")
    with pytest.raises(
        InputError,
        match=re.escape("[lagen.locaties] veld 'personen' (personen_veld) moet getallen bevatten"),
    ) as info:
        _score(world, _sites_config("l.gpkg"))
    msg = str(info.value)
    assert "'drie'" in msg and "'veel'" in msg and "in 2 objecten" in msg


def test_personen_with_dutch_decimal_comma_is_a_number(world):
    s = sites_frame()
    s["opp"] = ["80", "40,0", "", "60", None, None, None, None]
    write_gdf(s, world / "l.gpkg")
    res = _score(world, _sites_config("l.gpkg")).result.results
    assert res.loc[1, "woonoppervlak_pp_m2"] == pytest.approx(40.0 / 3)


def test_negative_woonoppervlak(world):
    s = sites_frame()
    s["opp"] = [80.0, -5.0, 40.0, 60.0, np.nan, np.nan, np.nan, np.nan]
    write_gdf(s, world / "l.gpkg")
    with pytest.raises(
        InputError,
        match=re.escape(
            "[lagen.locaties] veld 'opp' (woonoppervlak_veld) heeft 1 negatieve waarden (bv. -5)"
        ),
    ) as info:
        _score(world, _sites_config("l.gpkg"))
    assert "≥ 0" in str(info.value)


def test_duplicate_ids(world):
    s = sites_frame()
    s.loc[1, "id"] = "A1"
    s.loc[3, "id"] = "B3"
    write_gdf(s, world / "l.gpkg")
    with pytest.raises(
        InputError,
        match=re.escape("[lagen.locaties] id-veld 'id' heeft dubbele waarden: A1, B3 (2 ids)"),
    ) as info:
        _score(world, _sites_config("l.gpkg"))
    assert "Maak de ids uniek" in str(info.value)


def test_empty_id(world):
    s = sites_frame()
    s.loc[2, "id"] = None
    write_gdf(s, world / "l.gpkg")
    with pytest.raises(
        InputError, match=re.escape("[lagen.locaties] id-veld 'id' is leeg bij 1 locaties")
    ):
        _score(world, _sites_config("l.gpkg"))


# ---------------------------------------------------------------------------
# config keys and rule-set parameters
# ---------------------------------------------------------------------------


def test_unknown_layer_key_did_you_mean(world):
    text = standard_config().replace(
        'id_veld = "id"', 'id_veld = "id"\nverblijfstype_vled = "type"'
    )
    with pytest.raises(
        ConfigError,
        match=re.escape(
            "Onbekende sleutel 'verblijfstype_vled' in [lagen.locaties]. Bedoelde u"
            " 'verblijfstype_veld'?"
        ),
    ):
        _score(world, text)


def test_unknown_section_did_you_mean(world):
    with pytest.raises(
        ConfigError,
        match=re.escape("Onbekende sectie [uitvoor] in de configuratie. Bedoelde u 'uitvoer'?"),
    ):
        _score(world, standard_config() + '\n[uitvoor]\nmap = "x"\n')


def test_unknown_layer_did_you_mean(world):
    with pytest.raises(
        ConfigError,
        match=re.escape("Onbekende laag [lagen.bebouwdgebied]. Bedoelde u 'bebouwd_gebied'?"),
    ):
        _score(world, standard_config() + '\n[lagen.bebouwdgebied]\npad = "bbg.gpkg"\n')


def test_missing_locaties_layer(world):
    with pytest.raises(
        ConfigError, match=re.escape("De laag [lagen.locaties] ontbreekt; die is verplicht")
    ):
        _score(world, '[lagen.bebouwd_gebied]\npad = "bbg.gpkg"\n')


def test_layer_without_pad(world):
    with pytest.raises(ConfigError, match=re.escape("[lagen.bebouwd_gebied] mist 'pad'")):
        _score(world, standard_config().replace('pad = "bbg.gpkg"', 'laag = "x"'))


def test_non_text_layer_value(world):
    with pytest.raises(
        ConfigError,
        match=re.escape(
            "[lagen.locaties] id_veld moet tekst zijn (tussen aanhalingstekens), niet 3"
        ),
    ):
        _score(world, standard_config().replace('id_veld = "id"', "id_veld = 3"))


def test_config_problems_reported_together(world):
    text = (
        standard_config().replace('id_veld = "id"', 'id_veld = "id"\nid_vled = "x"')
        + '\n[uitvoor]\nmap = "x"\n'
    )
    with pytest.raises(ConfigError, match="2 problemen gevonden") as info:
        _score(world, text)
    assert "id_vled" in str(info.value) and "[uitvoor]" in str(info.value)


def test_invalid_toml(world):
    (world / "kapot.toml").write_text('[lagen.locaties\npad = "x"\n', encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"Configuratiebestand '.*kapot\.toml' is geen geldige TOML"
    ):
        load_config(world / "kapot.toml")


def test_wrong_modus(world):
    text = standard_config() + '\n[lagen.wegennet]\npad = "weg.gpkg"\nmodus = "fietsen"\n'
    with pytest.raises(
        ConfigError,
        match=re.escape(
            "[lagen.wegennet] modus 'fietsen' is onbekend. Bedoelde u 'fiets'? Kies uit: auto,"
            " fiets, lopen."
        ),
    ):
        _score(world, text)


def test_unknown_rule_parameter_override(world):
    with pytest.raises(
        RuleSetError,
        match=re.escape(
            "Onbekende parameter 'bbg_rand' in [regels] in de configuratie. Bedoelde u"
            " 'bbg_rand_m'?"
        ),
    ):
        _score(world, standard_config() + "\n[regels]\nbbg_rand = 100\n")


def test_unknown_per_gemeente_parameter_override(world):
    with pytest.raises(
        RuleSetError, match=re.escape("Onbekende parameter 'bbg_rand_mm' voor gemeente 'Venray'")
    ) as info:
        _score(world, standard_config() + '\n[regels.gemeenten."Venray"]\nbbg_rand_mm = 100\n')
    assert "Bedoelde u 'bbg_rand_m'?" in str(info.value)


def test_wrong_type_override_text_for_number(world):
    with pytest.raises(
        RuleSetError,
        match=re.escape(
            "Parameter 'bbg_rand_m' in [regels] in de configuratie moet een getal zijn, niet"
            " 'honderd'."
        ),
    ):
        _score(world, standard_config() + '\n[regels]\nbbg_rand_m = "honderd"\n')


def test_wrong_type_override_number_for_boolean(world):
    with pytest.raises(
        RuleSetError,
        match=re.escape(
            "Parameter 'logies_geurgevoelig' in [regels] in de configuratie moet true of false zijn"
        ),
    ):
        _score(world, standard_config() + "\n[regels]\nlogies_geurgevoelig = 1\n")


def test_negative_override(world):
    with pytest.raises(
        RuleSetError,
        match=re.escape(
            "Parameter 'bbg_rand_m' in [regels] in de configuratie is -5 m; toegestaan is 0 tot en"
            " met 5000 m"
        ),
    ):
        _score(world, standard_config() + "\n[regels]\nbbg_rand_m = -5\n")


# ---------------------------------------------------------------------------
# user rule-set files
# ---------------------------------------------------------------------------


def _ruleset_file(folder: Path, old: str, new: str) -> Path:
    assert old in BUILTIN_RULESET
    path = folder / "mijn_regels.toml"
    path.write_text(BUILTIN_RULESET.replace(old, new, 1), encoding="utf-8")
    return path


def test_ruleset_unknown_rule_id(tmp_path):
    path = _ruleset_file(tmp_path, 'id = "bbg.rand"', 'id = "bbg.randd"')
    with pytest.raises(
        RuleSetError,
        match=re.escape(
            "regel 'bbg.randd' is onbekend voor deze versie van de Locatietoets. Bedoelde u"
            " 'bbg.rand'?"
        ),
    ) as info:
        read_ruleset_file(path)
    assert "mijn_regels.toml" in str(info.value) and "Bekende regels:" in str(info.value)


def test_ruleset_bad_verdict_word(tmp_path):
    path = _ruleset_file(
        tmp_path,
        'soort = "oordeel"\noordeel = { short_stay = "voorwaardelijk", mid_stay = "voorwaardelijk",'
        ' long_stay = "voorwaardelijk" }\nstrafpunten = { short_stay = 5, mid_stay = 15,',
        'soort = "oordeel"\noordeel = { short_stay = "voorwaardelijk", mid_stay = "voorwaardelik",'
        ' long_stay = "voorwaardelijk" }\nstrafpunten = { short_stay = 5, mid_stay = 15,',
    )
    with pytest.raises(
        RuleSetError,
        match=re.escape(
            "Regel 'bbg.rand': oordeel 'voorwaardelik' voor mid_stay is onbekend. Bedoelde u"
            " 'voorwaardelijk'?"
        ),
    ):
        read_ruleset_file(path)


def test_ruleset_unknown_template_field(tmp_path):
    path = _ruleset_file(
        tmp_path, "{bbg_afstand_m:.0f} m buiten de grens", "{bbg_afstnd_m:.0f} m buiten de grens"
    )
    with pytest.raises(
        RuleSetError,
        match=re.escape(
            "Regel 'bbg.rand': redentekst gebruikt onbekend veld '{bbg_afstnd_m}'. Bedoelde u"
            " 'bbg_afstand_m'?"
        ),
    ):
        read_ruleset_file(path)


def test_ruleset_unsupported_number_format(tmp_path):
    path = _ruleset_file(
        tmp_path, "{bbg_afstand_m:.0f} m buiten de grens", "{bbg_afstand_m:.0e} m buiten de grens"
    )
    with pytest.raises(RuleSetError, match="bbg.rand"):
        read_ruleset_file(path)


def test_ruleset_file_missing(world):
    with pytest.raises(
        RuleSetError,
        match=(
            r"Regelset-bestand '.*weg\.toml' bestaat niet\. Controleer 'bestand' onder \[regels\]"
        ),
    ):
        _score(world, standard_config() + '\n[regels]\nbestand = "weg.toml"\n')


def test_ruleset_error_through_config(world):
    _ruleset_file(world, 'id = "bbg.rand"', 'id = "bbg.randd"')
    with pytest.raises(RuleSetError, match="bbg.randd"):
        _score(world, standard_config() + '\n[regels]\nbestand = "mijn_regels.toml"\n')


# ---------------------------------------------------------------------------
# geometry types and odour contours
# ---------------------------------------------------------------------------


def test_bbg_layer_of_points(world):
    pts = gpd.GeoDataFrame(
        {"n": [1, 2]}, geometry=[Point(200_000, 380_000), Point(200_100, 380_000)], crs=RD
    )
    write_gdf(pts, world / "bbg_punten.gpkg")
    text = standard_config().replace('pad = "bbg.gpkg"', 'pad = "bbg_punten.gpkg"')
    with pytest.raises(
        InputError,
        match=re.escape(
            "[lagen.bebouwd_gebied] 'bbg_punten.gpkg' moet vlakken bevatten, maar bevat 2 punten"
        ),
    ) as info:
        _score(world, text)
    assert "Buffer" in str(info.value)


def _contours(world: Path, values: list, name: str = "geur.gpkg") -> None:
    items = [
        ({"oue": v}, box(200_000 + 200 * i, 380_000, 200_100 + 200 * i, 380_100))
        for i, v in enumerate(values)
    ]
    write_gdf(polygons(items), world / name)


def test_geurcontouren_without_waarde_veld(world):
    _contours(world, [5.0, 8.0])
    with pytest.raises(
        ConfigError, match=re.escape("[lagen.geurcontouren] mist 'waarde_veld'")
    ) as info:
        _score(world, standard_config() + '\n[lagen.geurcontouren]\npad = "geur.gpkg"\n')
    assert "OUe/m³" in str(info.value)


def test_geurcontouren_negative_value(world):
    _contours(world, [5.0, -1.0])
    text = standard_config() + '\n[lagen.geurcontouren]\npad = "geur.gpkg"\nwaarde_veld = "oue"\n'
    with pytest.raises(
        InputError,
        match=re.escape(
            "[lagen.geurcontouren] veld 'oue' (waarde_veld) heeft 1 negatieve waarden (bv. -1)"
        ),
    ):
        _score(world, text)


def test_geurcontouren_non_numeric_value(world):
    _contours(world, ["vijf", "3,5"])
    text = standard_config() + '\n[lagen.geurcontouren]\npad = "geur.gpkg"\nwaarde_veld = "oue"\n'
    with pytest.raises(
        InputError,
        match=re.escape(
            "[lagen.geurcontouren] veld 'oue' (waarde_veld) moet getallen bevatten; gevonden o.a."
            " 'vijf' in 1 objecten"
        ),
    ):
        _score(world, text)


def test_geurcontouren_non_numeric_value_not_reported_as_empty(world):
    _contours(world, ["vijf", "3,5"])
    text = standard_config() + '\n[lagen.geurcontouren]\npad = "geur.gpkg"\nwaarde_veld = "oue"\n'
    with pytest.raises(InputError) as info:
        _score(world, text)
    assert "is leeg" not in str(info.value)


def test_geurcontouren_null_value(world):
    _contours(world, [5.0, None])
    text = standard_config() + '\n[lagen.geurcontouren]\npad = "geur.gpkg"\nwaarde_veld = "oue"\n'
    with pytest.raises(
        InputError,
        match=re.escape(
            "[lagen.geurcontouren] veld 'oue' (waarde_veld) is leeg bij 1 objecten; vul een"
            " waarde in."
        ),
    ):
        _score(world, text)


def test_problems_in_several_layers_reported_together(world):
    _contours(world, [5.0, -1.0])
    text = standard_config().replace(
        'naam_veld = "naam"\n\n[lagen.gemeenten]', 'naam_veld = "nam"\n\n[lagen.gemeenten]'
    )
    text += '\n[lagen.geurcontouren]\npad = "geur.gpkg"\nwaarde_veld = "oue"\n'
    with pytest.raises(InputError, match="2 problemen gevonden") as info:
        _score(world, text)
    assert "[lagen.recreatieparken]" in str(info.value) and "[lagen.geurcontouren]" in str(
        info.value
    )


# ---------------------------------------------------------------------------
# repaired, not an error
# ---------------------------------------------------------------------------

BOWTIE = Polygon([(200_600, 380_400), (200_900, 380_700), (200_900, 380_400), (200_600, 380_700)])


def test_invalid_polygon_is_repaired_and_counted(world):
    assert not BOWTIE.is_valid
    s = sites_frame()
    s.loc[1, "geometry"] = BOWTIE  # A2, inside BBG
    write_gdf(s, world / "l.gpkg")
    outcome = _score(world, _sites_config("l.gpkg"))
    run = json.loads((world / "uit" / "run.json").read_text(encoding="utf-8"))
    assert run["invoer"]["locaties"]["geometrie_gerepareerd"] == 1
    assert run["invoer"]["locaties"]["zonder_geometrie"] == 0
    res = outcome.result.results
    assert res.loc[1, "bbg_ligging"] == "binnen"
    out = read_output(world / "uit")
    assert out.geometry.iloc[1].is_valid
    assert out.geometry.iloc[1].area == pytest.approx(
        2 * 150 * 300 / 2
    )  # two triangles of base 300, height 150
    assert len(out) == 8


def test_repaired_site_has_status_gerepareerd(world):
    s = sites_frame()
    s.loc[1, "geometry"] = BOWTIE
    write_gdf(s, world / "l.gpkg")
    _score(world, _sites_config("l.gpkg"))
    out = read_output(world / "uit")
    assert out.loc[out["id"] == "A2", "geometrie_status"].item() == "gerepareerd"
    assert (out.loc[out["id"] != "A2", "geometrie_status"] == "ok").all()


def test_site_without_geometry_is_kept_with_reason(world):
    s = sites_frame()
    s.loc[2, "geometry"] = None  # B1
    s.loc[4, "geometry"] = Point()  # B3: empty point
    write_gdf(s, world / "l.gpkg")
    outcome = _score(world, _sites_config("l.gpkg"))
    run = json.loads((world / "uit" / "run.json").read_text(encoding="utf-8"))
    assert run["invoer"]["locaties"]["zonder_geometrie"] == 2
    assert run["telling"]["short_stay"]["geen oordeel"] == 2
    out = read_output(world / "uit")
    assert out["id"].tolist() == [
        s_["id"] for s_ in s.to_dict("records")
    ]  # nothing dropped, order kept
    for sid in ("B1", "B3"):
        row = out[out["id"] == sid].iloc[0]
        assert row["redenen"].startswith("geen geometrie")
        assert row["geometrie_status"] == "geen geometrie"
        for col in ("oordeel", "oordeel_short_stay", "oordeel_mid_stay", "oordeel_long_stay"):
            assert pd.isna(row[col]) or row[col] == "", (sid, col, row[col])
        assert pd.isna(row["score"])
    # the other sites are still scored
    assert outcome.result.results.loc[3, "oordeel"] == "ongeschikt"
    csv = pd.read_csv(world / "uit" / "locaties.csv", dtype={"id": str})
    assert len(csv) == 8
    assert csv.loc[csv["id"] == "B1", "x_rd"].isna().all()


def test_csv_xy_semicolon_and_decimal_comma(world):
    (world / "l.csv").write_text(
        "id;type;x;y\nA1;short_stay;200250,5;380500,25\nB1;long_stay;201100;380500\nB2;mid_stay;201600,0;380500\n",
        encoding="utf-8",
    )
    text = standard_config(locaties="l.csv").replace(
        'personen_veld = "personen"\nslaapkamers_veld = "slaapkamers"\nwoonoppervlak_veld = "opp"',
        'x_veld = "x"\ny_veld = "y"\ncrs = "EPSG:28992"',
    )
    res = _score(world, text).result.results
    assert res["locatie_id"].tolist() == ["A1", "B1", "B2"]
    assert res["bbg_ligging"].tolist() == ["binnen", "rand", "buiten"]
    assert res["bbg_afstand_m"].tolist() == [0.0, 100.0, 600.0]
    out = read_output(world / "uit")
    assert (out.geometry.iloc[0].x, out.geometry.iloc[0].y) == (200250.5, 380500.25)
    assert out["x"].tolist()[0] == "200250,5"  # input attributes kept as they were


def test_csv_xy_non_numeric_coordinate(world):
    (world / "l.csv").write_text("id,x,y\nA1,200250,380500\nA2,noord,380500\n", encoding="utf-8")
    text = '[lagen.locaties]\npad = "l.csv"\nx_veld = "x"\ny_veld = "y"\ncrs = "EPSG:28992"\n'
    with pytest.raises(
        InputError,
        match=re.escape(
            "[lagen.locaties] veld 'x' moet een getal (coördinaat) zijn; gevonden o.a. 'noord'"
        ),
    ):
        _score(world, text)


def test_csv_wkt_points_and_polygons(world):
    (world / "l.csv").write_text(
        'id,type,geom\nA1,short_stay,"POINT (200250 380500)"\nQ1,long_stay,"POLYGON ((201100'
        ' 380400, 201200 380400, 201200 380500, 201100 380500, 201100 380400))"\n',
        encoding="utf-8",
    )
    text = standard_config(locaties="l.csv").replace(
        'personen_veld = "personen"\nslaapkamers_veld = "slaapkamers"\nwoonoppervlak_veld = "opp"',
        'wkt_veld = "geom"\ncrs = "EPSG:28992"',
    )
    res = _score(world, text).result.results
    assert res["bbg_ligging"].tolist() == ["binnen", "rand"]
    assert res["bbg_afstand_m"].tolist() == [0.0, 100.0]


def test_csv_wkt_with_empty_cell_becomes_site_without_geometry(world):
    (world / "l.csv").write_text('id,geom\nA1,"POINT (200250 380500)"\nA2,\n', encoding="utf-8")
    text = (
        '[lagen.locaties]\npad = "l.csv"\nid_veld = "id"\nwkt_veld = "geom"\ncrs ='
        ' "EPSG:28992"\n\n[lagen.bebouwd_gebied]\npad = "bbg.gpkg"\n'
    )
    res = _score(world, text).result.results
    assert res["geometrie_status"].tolist() == ["ok", "geen geometrie"]


def test_csv_invalid_wkt(world):
    (world / "l.csv").write_text(
        'id,geom\nA1,"POINT (200250 380500)"\nA2,"PUNT (1 2)"\n', encoding="utf-8"
    )
    text = '[lagen.locaties]\npad = "l.csv"\nwkt_veld = "geom"\ncrs = "EPSG:28992"\n'
    with pytest.raises(
        InputError, match=re.escape("[lagen.locaties] veld 'geom' bevat ongeldige WKT")
    ):
        _score(world, text)


# ---------------------------------------------------------------------------
# through the command line
# ---------------------------------------------------------------------------


def _bad_config(world: Path) -> Path:
    return write_config(
        world, standard_config().replace('pad = "bbg.gpkg"', 'pad = "bgg.gpkg"'), "fout.toml"
    )


def _input_hashes(world: Path) -> dict[str, str]:
    return {
        p.name: sha256(p) for p in sorted(world.iterdir()) if p.is_file() and p.suffix != ".toml"
    }


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob(".locatietoets-bezig-*")] if folder.exists() else []


def test_cli_bad_input_exit_2_dutch_message_no_traceback_no_output(world):
    cfg = _bad_config(world)
    out = world / "uitvoer"
    result = CliRunner().invoke(main, ["score", str(cfg), "--out", str(out)])
    assert result.exit_code == 2, result.output
    stderr = flat(result.stderr)
    assert "Fout in de invoer: [lagen.bebouwd_gebied] bestand" in stderr
    assert "Bedoelde u 'bbg.gpkg'?" in stderr
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, LocatietoetsError)  # handled: SystemExit(2)
    assert not out.exists() or not any(out.iterdir()), sorted(p.name for p in out.iterdir())
    assert _leftovers(world) == []


def test_cli_config_error_exit_2(world):
    cfg = write_config(world, standard_config() + "\n[regels]\nbbg_rand = 100\n", "fout.toml")
    result = CliRunner().invoke(
        main, ["score", str(cfg), "--out", str(world / "uitvoer"), "--voortgang", "geen"]
    )
    assert result.exit_code == 2
    assert "Fout in de configuratie: Onbekende parameter 'bbg_rand'" in flat(result.stderr)
    assert "Traceback" not in result.output


def test_cli_json_mode_reports_error_as_json(world):
    cfg = _bad_config(world)
    result = CliRunner().invoke(
        main, ["score", str(cfg), "--out", str(world / "uitvoer"), "--voortgang", "json"]
    )
    assert result.exit_code == 2
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    errors = [line for line in lines if line["type"] == "fout"]
    assert len(errors) == 1 and errors[0]["code"] == 2
    assert "[lagen.bebouwd_gebied]" in errors[0]["bericht"]


def test_cli_failing_run_leaves_earlier_output_unchanged(world):
    good = write_config(world, standard_config(), "goed.toml")
    out = world / "uitvoer"
    runner = CliRunner()
    assert (
        runner.invoke(
            main, ["score", str(good), "--out", str(out), "--voortgang", "geen"]
        ).exit_code
        == 0
    )
    before = {p.name: sha256(p) for p in out.iterdir()}
    assert {"locaties.gpkg", "locaties.csv", "run.json"} <= set(before) <= set(OUTPUT_FILES)
    inputs_before = _input_hashes(world)

    result = runner.invoke(
        main, ["score", str(_bad_config(world)), "--out", str(out), "--voortgang", "geen"]
    )
    assert result.exit_code == 2
    assert {p.name: sha256(p) for p in out.iterdir()} == before
    assert _input_hashes(world) == inputs_before
    assert _leftovers(world) == []


def test_cli_failure_while_writing_leaves_no_half_output(world, monkeypatch):
    """A crash after locaties.gpkg is written must not leave it (or the stage folder) behind."""
    from locatietoets.scripts.runner import score as scripts_run

    def broken_csv(frame, path):
        Path(path).write_text("half", encoding="utf-8")
        raise OSError("schijf vol")

    good = write_config(world, standard_config(), "goed.toml")
    out = world / "uitvoer"
    runner = CliRunner()
    assert (
        runner.invoke(
            main, ["score", str(good), "--out", str(out), "--voortgang", "geen"]
        ).exit_code
        == 0
    )
    before = {p.name: sha256(p) for p in out.iterdir()}
    monkeypatch.setattr(scripts_run, "write_csv", broken_csv)
    result = runner.invoke(main, ["score", str(good), "--out", str(out), "--voortgang", "geen"])
    assert result.exit_code == 1
    assert "Onverwachte fout" in flat(result.stderr) and "Traceback" not in result.output
    assert {p.name: sha256(p) for p in out.iterdir()} == before
    assert _leftovers(world) == []


def test_cli_inputs_not_modified_by_successful_run(world):
    before = _input_hashes(world)
    assert before  # the fixture wrote input files
    cfg = write_config(world, standard_config(), "goed.toml")
    result = CliRunner().invoke(
        main, ["score", str(cfg), "--out", str(world / "uitvoer"), "--voortgang", "geen"]
    )
    assert result.exit_code == 0, result.output
    assert _input_hashes(world) == before


def test_console_script_bad_input_subprocess(world):
    cfg = _bad_config(world)
    out = world / "uitvoer"
    before = _input_hashes(world)
    proc = run_subprocess(["score", str(cfg), "--out", str(out)], cwd=world)
    assert proc.returncode == 2, proc.stderr
    stderr = flat(proc.stderr)
    assert "Fout in de invoer: [lagen.bebouwd_gebied] bestand" in stderr
    assert "Controleer 'pad'" in stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not out.exists() or not any(out.iterdir())
    assert _leftovers(world) == []
    assert _input_hashes(world) == before


def test_cli_unexpected_error_has_no_traceback_but_debug_does(world, monkeypatch):
    from locatietoets.scripts.runner import score as scripts_run

    def boom(*args, **kwargs):
        raise RuntimeError("kapotte analyse")

    monkeypatch.setattr(scripts_run, "score_sites", boom)
    cfg = write_config(world, standard_config(), "c.toml")
    runner = CliRunner()
    plain = runner.invoke(
        main, ["score", str(cfg), "--out", str(world / "u"), "--voortgang", "geen"]
    )
    assert plain.exit_code == 1
    stderr = flat(plain.stderr)
    assert "Onverwachte fout (RuntimeError: kapotte analyse)" in stderr and "--debug" in stderr
    assert "Traceback" not in plain.output
    debug = runner.invoke(
        main, ["score", str(cfg), "--out", str(world / "u"), "--voortgang", "geen", "--debug"]
    )
    assert debug.exit_code == 1
    assert "Traceback" in debug.stderr
    assert _leftovers(world) == []
