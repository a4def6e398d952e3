"""Odour inputs read from files: the farms' emission-factor field (ja/nee) and its errors."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

from locatietoets.analysis.errors import InputError
from locatietoets.layers.io.config import parse_config
from locatietoets.layers.io.read import load_reference_layers

RD = "EPSG:28992"


def _farms_config(folder: Path, values: list, **keys: str):
    frame = gpd.GeoDataFrame(
        {"naam": [f"Hoeve {i}" for i in range(len(values))], "dieren": values},
        geometry=[Point(190_000 + i * 100, 330_000) for i in range(len(values))],
        crs=RD,
    )
    frame.to_file(folder / "veehouderijen.gpkg", driver="GPKG")
    spec = {"pad": "veehouderijen.gpkg", "naam_veld": "naam", **keys}
    return parse_config(
        {"lagen": {"locaties": {"pad": "locaties.gpkg"}, "veehouderijen": spec}}, base_dir=folder
    )


def test_emission_factor_field_reads_ja_nee_true_false_1_0_and_empty(tmp_path):
    values = ["ja", "Nee", "TRUE", "false", "1", "0", None, " "]
    config = _farms_config(tmp_path, values, geuremissiefactor_veld="dieren")
    frames, _ = load_reference_layers(config)
    factor = frames["veehouderijen"]["geuremissiefactor"].to_numpy()
    np.testing.assert_array_equal(factor, [1, 0, 1, 0, 1, 0, np.nan, np.nan])


def test_without_emission_factor_field_every_farm_is_unknown(tmp_path):
    config = _farms_config(tmp_path, ["ja", "nee"])
    frames, _ = load_reference_layers(config)
    assert frames["veehouderijen"]["geuremissiefactor"].isna().all()


def test_bad_emission_factor_value_names_layer_field_and_value(tmp_path):
    config = _farms_config(
        tmp_path, ["ja", "misschien", "misschien", "2"], geuremissiefactor_veld="dieren"
    )
    with pytest.raises(InputError) as info:
        load_reference_layers(config)
    message = " ".join(info.value.problems)
    assert "[lagen.veehouderijen]" in message
    assert "veld 'dieren'" in message and "geuremissiefactor_veld" in message
    assert "'misschien' (2×)" in message and "'2' (1×)" in message
    assert "ja/nee, true/false of 1/0" in message


def test_emission_factor_field_that_does_not_exist_is_named(tmp_path):
    config = _farms_config(tmp_path, ["ja"], geuremissiefactor_veld="diersoort")
    with pytest.raises(
        InputError, match=r"\[lagen\.veehouderijen\] geuremissiefactor_veld = \"diersoort\""
    ):
        load_reference_layers(config)


def test_contour_farm_field_is_read_and_empty_names_are_none(tmp_path):
    frame = gpd.GeoDataFrame(
        {"oue": [3.0, 8.0, 20.0], "bedrijf": ["Hoeve A", " ", None]},
        geometry=[Point(190_000, 330_000).buffer(r) for r in (300, 100, 10)],
        crs=RD,
    )
    frame.to_file(tmp_path / "geur.gpkg", driver="GPKG")
    spec = {"pad": "geur.gpkg", "waarde_veld": "oue", "veehouderij_veld": "bedrijf"}
    config = parse_config(
        {"lagen": {"locaties": {"pad": "l.gpkg"}, "geurcontouren": spec}}, base_dir=tmp_path
    )
    frames, _ = load_reference_layers(config)
    farm = frames["geurcontouren"]["veehouderij"]
    assert farm.iloc[0] == "Hoeve A" and farm.iloc[1:].isna().all()
    # without the key there is no farm column: the next higher contour is the layer's
    del spec["veehouderij_veld"]
    config = parse_config(
        {"lagen": {"locaties": {"pad": "l.gpkg"}, "geurcontouren": spec}}, base_dir=tmp_path
    )
    frames, _ = load_reference_layers(config)
    assert "veehouderij" not in frames["geurcontouren"].columns


def test_logies_on_mid_and_long_stay_is_a_warning_naming_the_sites(tmp_path):
    from locatietoets.layers.io.read import load_sites

    frame = gpd.GeoDataFrame(
        {
            "id": ["A1", "B2", "C3", "D4"],
            "type": ["short_stay", "mid_stay", "long_stay", "long_stay"],
            "vorm": ["logies", "logies", "Logies", "woonfunctie"],
        },
        geometry=[Point(190_000 + i * 100, 330_000) for i in range(4)],
        crs=RD,
    )
    frame.to_file(tmp_path / "locaties.gpkg", driver="GPKG")
    spec = {
        "pad": "locaties.gpkg",
        "id_veld": "id",
        "verblijfstype_veld": "type",
        "huisvestingsvorm_veld": "vorm",
    }
    config = parse_config({"lagen": {"locaties": spec}}, base_dir=tmp_path)
    _, sites, report = load_sites(config.layer("locaties"))
    warning = [w for w in report.warnings if "logies" in w]
    assert len(warning) == 1
    assert warning[0].startswith(
        "2 mid- of long-stay locaties hebben huisvestingsvorm 'logies' ('B2', 'C3')"
    )
    assert "altijd een woonfunctie" in warning[0] and "als woonfunctie beoordeeld" in warning[0]


def test_logies_warning_counts_in_dutch_format():
    from locatietoets.analysis.steps import logies_warning

    text = logies_warning([f"L{i}" for i in range(1234)])
    assert text.startswith("1.234 mid- of long-stay locaties hebben huisvestingsvorm 'logies'")
    assert "'L9' en 1.224 andere)" in text
