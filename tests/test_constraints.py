"""Declared constraint layers: a new constraint is a layer in the config and a rule in the rule set.

Hand-computable world: one square "natuurgebied" (1000 × 1000 m) and sites inside, partly inside,
within the 250 m signal zone and beyond it, judged by rules that exist only in a rule-set file
written by the test (no code knows these layers).
"""

from __future__ import annotations

import json
from pathlib import Path
import tomllib

from fixtures import RD, read_output, write_config, write_gdf
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from locatietoets.analysis.constraints import measure_layer, zone_share
from locatietoets.analysis.errors import ConfigError, RuleSetError
from locatietoets.layers.io.config import load_config
from locatietoets.layers.io.rules import read_ruleset_file
from locatietoets.scripts.run import run_config

#: The nature area: x 200 000–201 000, y 380 000–381 000.
AREA = box(200_000, 380_000, 201_000, 381_000)
RULESET = Path(__file__).resolve().parents[1] / "analysis" / "rulesets" / "limburg-povi2021.toml"

#: Two rules on a layer the engine has never heard of, appended to the built-in rule set.
EXTRA_RULES = """
[parameters.stiltegebied_signaal_m]
waarde = 250.0
eenheid = "m"
min = 0
max = 5000
omschrijving = "Signaalzone rond een stiltegebied."
bron = "Test."
betrouwbaarheid = "L"

[[regel]]
id = "stiltegebied.binnen"
laag = "stiltegebied"
titel = "In een stiltegebied"
oordeel = { short_stay = "voorwaardelijk", mid_stay = "ongeschikt", long_stay = "ongeschikt" }
strafpunten = { short_stay = 20, mid_stay = 50, long_stay = 50 }
reden = "Ligt in stiltegebied '{naam}'"
bron = "Testregel"
bron_kort = "test"
betrouwbaarheid = "L"

[[regel]]
id = "stiltegebied.signaal"
laag = "stiltegebied"
buffer_m = "stiltegebied_signaal_m"
alleen_buiten = true
soort = "waarschuwing"
titel = "Bij een stiltegebied"
oordeel = "geschikt"
strafpunten = 5
reden = "Ligt {afstand_m:.0f} m van stiltegebied '{naam}'"
bron = "Testregel"
bron_kort = "test"
betrouwbaarheid = "L"
"""


def _sites() -> gpd.GeoDataFrame:
    rows = [
        ("in", "long_stay", Point(200_500, 380_500)),
        ("in_kort", "short_stay", Point(200_500, 380_600)),
        # polygon 200 × 100 m, half inside (x 200 900–201 100)
        ("half", "long_stay", box(200_900, 380_400, 201_100, 380_500)),
        # a multipolygon with a hole, wholly inside
        (
            "gat",
            "mid_stay",
            MultiPolygon(
                [
                    Polygon(
                        [
                            (200_100, 380_100),
                            (200_300, 380_100),
                            (200_300, 380_300),
                            (200_100, 380_300),
                        ],
                        [
                            [
                                (200_150, 380_150),
                                (200_250, 380_150),
                                (200_250, 380_250),
                                (200_150, 380_250),
                            ]
                        ],
                    )
                ]
            ),
        ),
        ("dichtbij", "long_stay", Point(201_100, 380_500)),  # 100 m east: signal zone
        ("grens", "long_stay", Point(201_250, 380_500)),  # exactly 250 m: still in the zone
        ("ver", "long_stay", Point(201_400, 380_500)),  # 400 m: nothing
        ("leeg", "long_stay", None),
    ]
    return gpd.GeoDataFrame(
        {"id": [r[0] for r in rows], "type": [r[1] for r in rows]},
        geometry=[r[2] for r in rows],
        crs=RD,
    )


def _world(folder: Path, *, layer: bool = True, extra_layer: str = "") -> Path:
    write_gdf(_sites(), folder / "locaties.gpkg")
    write_gdf(
        gpd.GeoDataFrame({"gebied": ["De Stilte"]}, geometry=[AREA], crs=RD),
        folder / "stilte.gpkg",
    )
    ruleset = RULESET.read_text(encoding="utf-8") + EXTRA_RULES
    (folder / "regels.toml").write_text(ruleset, encoding="utf-8")
    text = """
[lagen.locaties]
pad = "locaties.gpkg"
id_veld = "id"
verblijfstype_veld = "type"

[regels]
bestand = "regels.toml"
"""
    if layer:
        text += '\n[lagen.beperkingen.stiltegebied]\npad = "stilte.gpkg"\nnaam_veld = "gebied"\n'
    return write_config(folder, text + extra_layer)


def test_a_new_constraint_is_a_layer_and_a_rule_no_code(tmp_path):
    cfg = _world(tmp_path)
    run_config(load_config(cfg), tmp_path / "uit")
    out = read_output(tmp_path / "uit").set_index("id")
    assert out.loc["in", "stiltegebied"] == "De Stilte"
    assert out.loc["in", "stiltegebied_afstand_m"] == 0.0
    assert out.loc["in", "oordeel"] == "ongeschikt"
    assert out.loc["in", "regels"] == "stiltegebied.binnen"
    assert out.loc["in", "redenen"] == "Ligt in stiltegebied 'De Stilte' (test)"
    # per stay type: short-stay voorwaardelijk, 20 points
    assert out.loc["in_kort", "oordeel"] == "voorwaardelijk"
    assert out.loc["in_kort", "score"] == 80.0
    assert out.loc["in_kort", "oordeel_long_stay"] == "ongeschikt"
    # half inside: partly affected → voorwaardelijk (never worse than the rule), half the points;
    # its outer half lies in the signal ring (100 m wide part of 200 m → 50 %)
    assert out.loc["half", "oordeel"] == "voorwaardelijk"
    assert out.loc["half", "regels"] == "stiltegebied.binnen;stiltegebied.signaal"
    assert out.loc["half", "score"] == pytest.approx(100 - 50 * 0.5 - 5 * 0.5)
    assert (
        "50 % van de locatie ligt in de zone: bouw alleen op het vrije deel (50 %)"
        in (out.loc["half", "redenen"])
    )
    assert out.loc["half", "vrij_aandeel"] == pytest.approx(0.5)
    # the multipolygon with a hole lies wholly inside (the hole is not part of the site)
    assert out.loc["gat", "oordeel"] == "ongeschikt"
    assert out.loc["gat", "vrij_aandeel"] == 0.0
    # signal zone: a warning only, with the distance; also exactly at 250 m
    for site, distance in (("dichtbij", 100), ("grens", 250)):
        assert out.loc[site, "oordeel"] == "geschikt"
        assert out.loc[site, "score"] == 95.0
        assert out.loc[site, "stiltegebied"] == "De Stilte"
        assert out.loc[site, "redenen"] == (
            f"Ligt {distance} m van stiltegebied 'De Stilte' (test)"
        )
    # beyond the zone: no rule, no name, but the distance
    assert out.loc["ver", "regels"] == ""
    assert pd.isna(out.loc["ver", "stiltegebied"])
    assert out.loc["ver", "stiltegebied_afstand_m"] == pytest.approx(400.0)
    assert np.isnan(out.loc["leeg", "stiltegebied_afstand_m"])
    # the fields sit before the verdicts
    columns = list(out.columns)
    assert columns.index("stiltegebied_afstand_m") == columns.index("stiltegebied") + 1
    assert columns.index("stiltegebied") < columns.index("oordeel")
    record = json.loads((tmp_path / "uit" / "run.json").read_text(encoding="utf-8"))
    assert (
        record["regels_gevuurd"]["stiltegebied.binnen"]["long_stay"] == 4
    )  # in, in_kort, half, gat
    assert "stiltegebied.binnen" not in record["regels_niet_getoetst"]
    rule = next(r for r in record["regelset"]["regels"] if r["id"] == "stiltegebied.signaal")
    assert rule["laag"]["buffer_m"] == "stiltegebied_signaal_m"


def test_rule_on_a_layer_the_config_lacks_is_not_tested(tmp_path):
    cfg = _world(tmp_path, layer=False)
    run_config(load_config(cfg), tmp_path / "uit")
    record = json.loads((tmp_path / "uit" / "run.json").read_text(encoding="utf-8"))
    assert {"stiltegebied.binnen", "stiltegebied.signaal"} <= set(record["regels_niet_getoetst"])
    assert "lagen.beperkingen.stiltegebied" in record["niet_uitgevoerd"]["beperking.stiltegebied"]
    out = read_output(tmp_path / "uit").set_index("id")
    assert "stiltegebied" not in out.columns
    assert out.loc["in", "oordeel"] == "geschikt"


def test_layer_no_rule_uses_is_a_warning(tmp_path):
    extra = '\n[lagen.beperkingen.waterwingebied]\npad = "stilte.gpkg"\n'
    cfg = _world(tmp_path, extra_layer=extra)
    run_config(load_config(cfg), tmp_path / "uit")
    record = json.loads((tmp_path / "uit" / "run.json").read_text(encoding="utf-8"))
    warning = next(w for w in record["waarschuwingen"] if "waterwingebied" in w)
    assert "geen regel" in warning and 'laag = "waterwingebied"' in warning
    out = read_output(tmp_path / "uit")
    assert "waterwingebied" not in out.columns


def test_per_gemeente_buffer_and_value_threshold():
    sites = gpd.GeoSeries([Point(0, 0), Point(0, 0), Point(0, 0)], crs=RD)
    features = gpd.GeoDataFrame(
        {"naam": ["weg", "spoor"], "waarde": [55.0, 65.0]},
        geometry=[LineString([(100, -50), (100, 50)]), LineString([(300, -50), (300, 50)])],
        crs=RD,
    )
    # per-site buffers: 50 m reaches nothing, 100 m reaches the road (55 dB), 300 m the railway
    share = zone_share(sites, features, buffer_m=np.array([50.0, 100.0, 300.0]))
    assert share.tolist() == [0.0, 1.0, 1.0]
    # only features from 60 dB: the road no longer counts
    share = zone_share(sites, features, buffer_m=np.array([50.0, 100.0, 300.0]), min_value=60.0)
    assert share.tolist() == [0.0, 0.0, 1.0]
    measured = measure_layer(sites, features, np.array([50.0, 100.0, 300.0]))
    assert pd.isna(measured["naam"].iloc[0])
    assert measured["naam"].iloc[1:].tolist() == ["weg", "weg"]
    assert measured["afstand_m"].tolist() == [100.0, 100.0, 100.0]


def test_config_refuses_bad_constraint_names(tmp_path):
    text = """
[lagen.locaties]
pad = "locaties.gpkg"

[lagen.beperkingen."Natura 2000"]
pad = "n.gpkg"

[lagen.beperkingen.bbg]
pad = "n.gpkg"
"""
    with pytest.raises(ConfigError) as err:
        load_config(write_config(tmp_path, text))
    text = str(err.value)
    assert "'Natura 2000' is geen geldige naam" in text
    assert "'bbg_afstand_m', dat de Locatietoets al gebruikt" in text


def _ruleset_with(tmp_path: Path, rule: str) -> Path:
    path = tmp_path / "regels.toml"
    path.write_text(RULESET.read_text(encoding="utf-8") + rule, encoding="utf-8")
    return path


def test_ruleset_checks_layer_rules(tmp_path):
    rule = """
[[regel]]
id = "x.binnen"
laag = "x"
buffer_m = "bestaat_niet_m"
bouwwerk = "tijdelyk"
reden = "In {naam} op {afstand_m:.0f} m, {onbekend}"
oordeel = "ongeschikt"
bron = "test"

[[regel]]
id = "reis.zonder_laag"
buffer_m = 100
reden = "x"
oordeel = "ongeschikt"
bron = "test"
"""
    with pytest.raises(RuleSetError) as err:
        read_ruleset_file(_ruleset_with(tmp_path, rule))
    text = str(err.value)
    assert "buffer_m = 'bestaat_niet_m' is geen getal en geen getalparameter" in text
    assert "bouwwerk 'tijdelyk' is onbekend" in text
    assert "'{onbekend}'" in text and "'{naam}'" not in text
    assert "buffer_m geldt alleen voor een regel op een beperkingenlaag" in text


def test_builtin_ruleset_file_is_valid_toml():
    assert tomllib.loads(RULESET.read_text(encoding="utf-8"))["regelset"]["id"]
