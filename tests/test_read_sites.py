"""Normalising the sites layer: default stay type, NULL geometry on output."""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Point

from locatietoets.analysis.errors import ConfigError
from locatietoets.layers.io.config import parse_config
from locatietoets.layers.io.config_writer import write_config
from locatietoets.layers.io.read import load_sites


def write_sites(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"id": ["a", "b"], "vt": ["long_stay", None]},
        geometry=[Point(200000, 380000), Point(200100, 380000)],
        crs=28992,
    )
    gdf.to_file(tmp_path / "sites.gpkg")


def test_default_stay_type_fills_empty_values(tmp_path):
    write_sites(tmp_path)
    config = parse_config(
        {
            "lagen": {
                "locaties": {
                    "pad": "sites.gpkg",
                    "id_veld": "id",
                    "verblijfstype_veld": "vt",
                    "standaard_verblijfstype": "mid_stay",
                }
            }
        },
        base_dir=tmp_path,
    )
    _, sites, report = load_sites(config.layers["locaties"])
    assert sites["verblijfstype"].tolist() == ["long_stay", "mid_stay"]
    assert "1 locaties zonder verblijfstype: mid_stay aangenomen" in report.warnings


def test_unknown_default_stay_type_is_a_config_error(tmp_path):
    with pytest.raises(
        ConfigError, match="standaard_verblijfstype 'midstay' is onbekend. Bedoelde u 'mid_stay'"
    ):
        parse_config(
            {"lagen": {"locaties": {"pad": "x.gpkg", "standaard_verblijfstype": "midstay"}}},
            base_dir=tmp_path,
        )


def test_site_without_geometry_is_written_as_null(tmp_path):
    from click.testing import CliRunner

    from locatietoets.scripts.cli import main

    gdf = gpd.GeoDataFrame({"id": ["a", "b"]}, geometry=[Point(200000, 380000), None], crs=28992)
    gdf.to_file(tmp_path / "sites.gpkg")
    write_config(tmp_path / "c.toml", {"locaties": {"pad": "sites.gpkg", "id_veld": "id"}})
    result = CliRunner().invoke(
        main,
        ["score", str(tmp_path / "c.toml"), "--out", str(tmp_path / "uit"), "--voortgang", "geen"],
    )
    assert result.exit_code == 0, result.output
    out = pyogrio.read_dataframe(tmp_path / "uit" / "locaties.gpkg", layer="locaties")
    assert out.geometry.isna().tolist() == [False, True]
