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
from locatietoets.scripts.runner.score import run_config

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
    # the fields sit before the per-stay verdicts (the headline verdict leads the file)
    columns = list(out.columns)
    assert columns.index("stiltegebied_afstand_m") == columns.index("stiltegebied") + 1
    assert columns.index("stiltegebied") < columns.index("oordeel_short_stay")
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


# --- the built-in constraints of rule set limburg-povi2021 3.1.0 ------------------------------

SQUARES = {  # constraint layer -> its one square (x0, y0), 500 × 500 m, apart from each other
    "natura2000": (200_000, 380_000),
    "natuurnetwerk": (202_000, 380_000),
    "bedrijventerreinen": (204_000, 380_000),
    "externe_veiligheid": (206_000, 380_000),
    "plaatsgebonden_risico": (210_000, 380_000),
}


def _square(x0: float, y0: float) -> Polygon:
    return box(x0, y0, x0 + 500, y0 + 500)


def _builtin_world(folder: Path, rows: list[tuple[str, str, str | None, Point]]) -> Path:
    sites = gpd.GeoDataFrame(
        {
            "id": [r[0] for r in rows],
            "type": [r[1] for r in rows],
            "vorm": [r[2] for r in rows],
        },
        geometry=[r[3] for r in rows],
        crs=RD,
    )
    write_gdf(sites, folder / "locaties.gpkg")
    text = """
[lagen.locaties]
pad = "locaties.gpkg"
id_veld = "id"
verblijfstype_veld = "type"
huisvestingsvorm_veld = "vorm"
"""
    for name, (x0, y0) in SQUARES.items():
        frame = gpd.GeoDataFrame({"naam": [f"{name} 1"]}, geometry=[_square(x0, y0)], crs=RD)
        write_gdf(frame, folder / f"{name}.gpkg")
        text += f'\n[lagen.beperkingen.{name}]\npad = "{name}.gpkg"\n'
    # noise: a 58 dB, a 51 dB and a 45 dB contour; the standaardwaarde is 50 dB (the lowest of
    # Bkl tabel 5.78t: rijkswegen, provinciale wegen, industrieterreinen)
    noise = gpd.GeoDataFrame(
        {"weg": ["N270", "dorpsweg", "A73"], "lden": [58.0, 45.0, 51.0]},
        geometry=[
            _square(208_000, 380_000),
            _square(208_000, 381_000),
            _square(208_000, 382_000),
        ],
        crs=RD,
    )
    write_gdf(noise, folder / "geluid.gpkg")
    text += (
        '\n[lagen.beperkingen.geluid]\npad = "geluid.gpkg"\nnaam_veld = "weg"\n'
        'waarde_veld = "lden"\n'
    )
    return write_config(folder, text)


def test_builtin_constraints_per_stay_type_and_housing_form(tmp_path):
    rows = [
        ("n2k_long", "long_stay", None, Point(200_250, 380_250)),
        ("n2k_kort", "short_stay", None, Point(200_250, 380_300)),
        ("n2k_100m", "long_stay", None, Point(200_600, 380_250)),
        ("n2k_300m", "long_stay", None, Point(200_800, 380_250)),
        ("nnn_kort", "short_stay", None, Point(202_250, 380_250)),
        ("bt_kort", "short_stay", None, Point(204_250, 380_250)),
        ("bt_mid", "mid_stay", None, Point(204_250, 380_300)),
        ("ev_long", "long_stay", None, Point(206_250, 380_250)),
        ("ev_logies", "short_stay", "logies", Point(206_250, 380_300)),
        ("geluid_long", "long_stay", None, Point(208_250, 380_250)),
        ("geluid_logies", "short_stay", "logies", Point(208_250, 380_300)),
        ("geluid_kort_woon", "short_stay", "woonfunctie", Point(208_250, 380_350)),
        ("stil_long", "long_stay", None, Point(208_250, 381_250)),
        ("geluid_51", "long_stay", None, Point(208_250, 382_250)),
        ("pr_long", "long_stay", None, Point(210_250, 380_250)),
        ("pr_logies", "short_stay", "logies", Point(210_250, 380_300)),
    ]
    cfg = _builtin_world(tmp_path, rows)
    run_config(load_config(cfg), tmp_path / "uit")
    out = read_output(tmp_path / "uit").set_index("id")

    def check(site, verdict, rules, text=None):
        assert (out.loc[site, "oordeel"], out.loc[site, "regels"]) == (verdict, rules), site
        if text:
            assert text in out.loc[site, "redenen"], site

    check("n2k_long", "ongeschikt", "natura2000.binnen", "Natura 2000-gebied 'natura2000 1'")
    check("n2k_kort", "ongeschikt", "natura2000.binnen")
    check(
        "n2k_100m",
        "geschikt",
        "natura2000.signaal",
        "Stikstofdepositie: voortoets nodig; ligt 100 m van Natura 2000-gebied",
    )
    assert out.loc["n2k_100m", "score"] == 95.0
    check("n2k_300m", "geschikt", "")
    assert out.loc["n2k_300m", "natura2000_afstand_m"] == pytest.approx(300.0)
    check("nnn_kort", "ongeschikt", "natuurnetwerk.binnen", "Goudgroene natuurzone")
    check(
        "bt_kort",
        "voorwaardelijk",
        "bedrijventerrein",
        "alleen voor werknemers van bedrijven op dit terrein; let op milieuzonering",
    )
    check("bt_mid", "ongeschikt", "bedrijventerrein")
    # external safety (rule set 3.1.0): an aandachtsgebied is no ban (Bkl art. 5.14, 5.15):
    # voorwaardelijk for both housing forms; inside a PR 10-6 contour the grenswaarde (Bkl art.
    # 5.7) makes a woonfunctie ongeschikt, logies (kwetsbaar only above 50 persons) voorwaardelijk
    check("ev_long", "voorwaardelijk", "externe_veiligheid.woonfunctie", "groepsrisico")
    check("ev_logies", "voorwaardelijk", "externe_veiligheid.logies", "meer dan 50 personen")
    check("pr_long", "ongeschikt", "plaatsgebonden_risico.woonfunctie", "grenswaarde")
    check("pr_logies", "voorwaardelijk", "plaatsgebonden_risico.logies", "tot 50 personen")
    assert out.loc["ev_long", "score"] > out.loc["pr_long", "score"]
    # noise from 50 dB: a woonfunctie (also a short-stay one) is voorwaardelijk, logies only
    # gets the warning (not noise-sensitive under the Bkl); 45 dB is below the value
    check("geluid_long", "voorwaardelijk", "geluid.woonfunctie", "contour 'N270'")
    check("geluid_kort_woon", "voorwaardelijk", "geluid.woonfunctie")
    check("geluid_logies", "geschikt", "geluid.logies", "geen geluidgevoelig gebouw")
    check("stil_long", "geschikt", "")
    # 51 dB is above the standaardwaarde of a provinciale weg (50) though below that of a
    # gemeenteweg (53): the screening flags it
    check("geluid_51", "voorwaardelijk", "geluid.woonfunctie", "vanaf 50 dB Lden")
    assert out.loc["stil_long", "geluid"] == "dorpsweg"  # the contour it lies in, below the value
    # per stay type on one site: a business park is voorwaardelijk for short-, ongeschikt for
    # long-stay
    assert out.loc["bt_kort", "oordeel_long_stay"] == "ongeschikt"
    record = json.loads((tmp_path / "uit" / "run.json").read_text(encoding="utf-8"))
    assert not [
        r for r in record["regels_niet_getoetst"] if "." in r and r.split(".")[0] in SQUARES
    ]


def _yard_world(folder: Path, extra: str = "") -> Path:
    from fixtures import BBG_BOX, VENLO_BOX, VENRAY_BOX

    write_gdf(
        gpd.GeoDataFrame({"n": ["BBG"]}, geometry=[box(*BBG_BOX)], crs=RD), folder / "bbg.gpkg"
    )
    write_gdf(
        gpd.GeoDataFrame(
            {"naam": ["Venlo", "Venray"], "code": ["GM0983", "GM0984"]},
            geometry=[box(*VENLO_BOX), box(*VENRAY_BOX)],
            crs=RD,
        ),
        folder / "gemeenten.gpkg",
    )
    write_gdf(
        gpd.GeoDataFrame(
            {"naam": ["Kwekerij A", "Loods B", "Boerderij C"]},
            geometry=[Point(200_550, 380_500), Point(205_080, 380_500), Point(206_000, 381_000)],
            crs=RD,
        ),
        folder / "werkgevers.gpkg",
    )
    rows = [
        ("erf_venlo", "short_stay", "Kwekerij A", Point(200_500, 380_500)),  # 50 m, in BBG
        ("erf_venray", "short_stay", "Loods B", Point(205_000, 380_500)),  # 80 m, Venray: niet
        ("erf_mid", "mid_stay", "Boerderij C", Point(206_000, 381_060)),  # 60 m, buiten BBG
        ("ver", "short_stay", "Kwekerij A", Point(200_700, 380_500)),  # 150 m: not on the yard
        ("geen", "short_stay", None, Point(200_600, 380_600)),
    ]
    write_gdf(
        gpd.GeoDataFrame(
            {"id": [r[0] for r in rows], "type": [r[1] for r in rows], "wg": [r[2] for r in rows]},
            geometry=[r[3] for r in rows],
            crs=RD,
        ),
        folder / "locaties.gpkg",
    )
    text = """
[lagen.locaties]
pad = "locaties.gpkg"
id_veld = "id"
verblijfstype_veld = "type"
werkgever_veld = "wg"

[lagen.bebouwd_gebied]
pad = "bbg.gpkg"

[lagen.werkgevers]
pad = "werkgevers.gpkg"

[lagen.gemeenten]
pad = "gemeenten.gpkg"

[regels.gemeenten."Venray"]
erf_short_stay = "niet"
"""
    return write_config(folder, text + extra)


def test_housing_on_the_employers_yard_follows_the_gemeente(tmp_path):
    run_config(load_config(_yard_world(tmp_path)), tmp_path / "uit")
    out = read_output(tmp_path / "uit").set_index("id")
    assert out["erf_afstand_m"].round(6).tolist()[:4] == [50.0, 80.0, 60.0, 150.0]
    assert np.isnan(out.loc["geen", "erf_afstand_m"])
    assert out["op_erf"].astype(bool).tolist() == [True, True, True, False, False]
    assert out.loc["erf_venlo", "erf_beleid"] == "voorwaardelijk"  # the rule set's default
    assert out.loc["erf_venray", "erf_beleid"] == "niet"  # the config's value for Venray
    assert out.loc["erf_venlo", "oordeel"] == "voorwaardelijk"
    assert out.loc["erf_venlo", "regels"] == "erf.voorwaardelijk"
    assert "op het erf van de eigen werkgever (50 m, tot 100 m)" in out.loc["erf_venlo", "redenen"]
    assert out.loc["erf_venray", "oordeel"] == "ongeschikt"
    assert "erf.niet" in out.loc["erf_venray", "regels"]
    assert out.loc["erf_mid", "oordeel"] == "ongeschikt"
    assert "erf.buiten_bbg" in out.loc["erf_mid", "regels"]
    # the short-stay yard rules never fire for mid-stay, the mid/long rule never for short-stay
    assert "erf.voorwaardelijk" not in out.loc["erf_mid", "regels_mid_stay"]
    assert "erf.buiten_bbg" not in out.loc["erf_venray", "regels_short_stay"]
    for site in ("ver", "geen"):
        assert "erf." not in out.loc[site, "regels"]


def test_unknown_yard_policy_is_refused(tmp_path):
    cfg = _yard_world(tmp_path, '\n[regels.gemeenten."Venlo"]\nerf_short_stay = "nee"\n')
    with pytest.raises(
        RuleSetError, match="erf_short_stay.*'nee'.*toegestaan, voorwaardelijk, niet"
    ):
        run_config(load_config(cfg), tmp_path / "uit")


NATURA = Path("/work/shared/data/nature/limburg_natura2000_2013_inspire.gpkg")


@pytest.mark.skipif(not NATURA.is_file(), reason="Natura 2000 van Limburg niet aanwezig")
def test_real_natura2000_limburg(tmp_path):
    areas = gpd.read_file(NATURA)
    geuldal = areas[areas["name"] == "Geuldal"]
    inside = geuldal.geometry.iloc[int(np.argmax(geuldal.area.to_numpy()))].representative_point()
    # 100 m outside the nearest area, seen from a point far from every area
    union = areas.union_all()
    far = Point(195_000, 330_000)
    assert union.distance(far) > 1_000
    from shapely.ops import nearest_points

    edge = nearest_points(union, far)[0]
    dx, dy = far.x - edge.x, far.y - edge.y
    length = (dx**2 + dy**2) ** 0.5
    near = Point(edge.x + dx / length * 100, edge.y + dy / length * 100)
    sites = gpd.GeoDataFrame(
        {"id": ["geuldal", "dichtbij", "ver"], "type": ["long_stay"] * 3},
        geometry=[inside, near, far],
        crs=RD,
    )
    write_gdf(sites, tmp_path / "locaties.gpkg")
    text = f"""
[lagen.locaties]
pad = "locaties.gpkg"
id_veld = "id"
verblijfstype_veld = "type"

[lagen.beperkingen.natura2000]
pad = "{NATURA.as_posix()}"
naam_veld = "name"
"""
    run_config(load_config(write_config(tmp_path, text)), tmp_path / "uit")
    out = read_output(tmp_path / "uit").set_index("id")
    assert out.loc["geuldal", "natura2000"] == "Geuldal"
    assert out.loc["geuldal", "oordeel"] == "ongeschikt"
    assert out.loc["geuldal", "regels"] == "natura2000.binnen"
    assert 99.0 <= out.loc["dichtbij", "natura2000_afstand_m"] <= 100.01
    assert out.loc["dichtbij", "regels"] == "natura2000.signaal"
    assert "Stikstofdepositie: voortoets nodig" in out.loc["dichtbij", "redenen"]
    assert out.loc["ver", "regels"] == ""
    assert out.loc["ver", "natura2000_afstand_m"] > 1_000


def test_regels_lists_the_constraint_rules_with_their_layer(monkeypatch):
    from click.testing import CliRunner

    from locatietoets.scripts.cli import main

    monkeypatch.setenv("COLUMNS", "400")
    result = CliRunner().invoke(main, ["regels"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "[lagen.beperkingen.natura2000]" in out and "natura2000_signaal_m" in out
    assert "Bkl art. 3.21" in out and "erf_short_stay" in out


@pytest.mark.parametrize(
    "parameter, value", [("stiltegebied_signaal_m", 450.0), ("geheel_aandeel", 0.5)]
)
def test_rescoring_a_constraint_parameter_equals_a_full_scoring(tmp_path, parameter, value):
    """The sensitivity analysis re-runs the constraint step when a rule's buffer parameter
    (named only in the rule set) changes."""
    import pandas.testing

    from locatietoets.analysis.pipeline import Rescorer, score_sites
    from locatietoets.scripts.runner.prepare import prepare

    prepared = prepare(load_config(_world(tmp_path)))
    rescorer = Rescorer(prepared.inputs, network_mode=prepared.network_mode)
    first = rescorer.score(prepared.ruleset)
    changed = prepared.ruleset.with_overrides({parameter: value}, where="test")
    again = rescorer.score(changed, changed={parameter})
    full = score_sites(prepared.inputs, changed, network_mode=prepared.network_mode)
    pandas.testing.assert_frame_equal(again.results, full.results)
    assert not again.results.equals(first.results)  # "ver" (400 m) enters the zone / "half" whole


def test_report_lists_constraints_tested_and_not_tested():
    from locatietoets.layers.publish.report_content import constraint_rows

    record = {
        "regelset": {
            "regels": [
                {"id": "bbg.rand"},
                {"id": "natura2000.binnen", "laag": {"naam": "natura2000"}},
                {"id": "natura2000.signaal", "laag": {"naam": "natura2000"}},
                {"id": "geluid.woonfunctie", "laag": {"naam": "geluid"}},
                {"id": "erf.niet"},
                {"id": "concentratie.max_personen"},
                {"id": "concentratie.aandeel_kern"},
                {"id": "voorziening.supermarkt.ver"},
                {"id": "voorziening.supermarkt.onbereikbaar"},
                {"id": "voorziening.ov_halte.ver"},
            ]
        },
        "regels_niet_getoetst": [
            "geluid.woonfunctie",
            "erf.niet",
            "concentratie.max_personen",
            "concentratie.aandeel_kern",
            "voorziening.ov_halte.ver",
        ],
        "regels_gevuurd": {
            "natura2000.binnen": {"short_stay": 2, "mid_stay": 2, "long_stay": 2},
            "natura2000.signaal": {"short_stay": 5, "mid_stay": 5, "long_stay": 5},
            "voorziening.supermarkt.ver": {"short_stay": 3, "mid_stay": 1, "long_stay": 0},
            "voorziening.supermarkt.onbereikbaar": {"short_stay": 4},
        },
    }
    assert constraint_rows(record) == [
        [
            "[lagen.beperkingen.natura2000]",
            "natura2000.binnen, natura2000.signaal",
            "getoetst",
            "5",
        ],
        [
            "[lagen.beperkingen.geluid]",
            "geluid.woonfunctie",
            "niet getoetst: de laag staat niet in de configuratie",
            "–",
        ],
        [
            "op het erf van de eigen werkgever",
            "erf.niet",
            "niet getoetst: geen [lagen.werkgevers] of geen werkgever_veld",
            "–",
        ],
        [
            "concentratie per kern ([lagen.kernen], [lagen.bestaande_huisvesting])",
            "concentratie.max_personen, concentratie.aandeel_kern",
            "niet getoetst: geen [lagen.kernen] met inwoners_veld",
            "–",
        ],
        [
            "[lagen.voorzieningen.supermarkt]",
            "voorziening.supermarkt.ver, voorziening.supermarkt.onbereikbaar",
            "getoetst",
            "4",
        ],
        [
            "[lagen.voorzieningen.ov_halte]",
            "voorziening.ov_halte.ver",
            "niet getoetst: de laag of [lagen.wegennet] staat niet in de configuratie",
            "–",
        ],
    ]


def test_layer_rule_per_kind_of_building_and_stay_type(tmp_path):
    """Like the BBG rules, a layer rule can depend on the building (tijdelijk_veld) and be limited
    to stay types: here a flood zone is voorwaardelijk for a temporary building, ongeschikt for a
    permanent one or an unknown one, and only tested for mid- and long-stay."""
    rules = """
[[regel]]
id = "overstroming.tijdelijk"
laag = "overstroming"
bouwwerk = "tijdelijk"
verblijfstypen = ["mid_stay", "long_stay"]
oordeel = "voorwaardelijk"
strafpunten = 10
reden = "Tijdelijk bouwwerk in overstromingsgebied '{naam}'"
bron = "test"

[[regel]]
id = "overstroming.permanent"
laag = "overstroming"
bouwwerk = ["permanent", "te_lang", "onbekend"]
verblijfstypen = ["mid_stay", "long_stay"]
oordeel = "ongeschikt"
strafpunten = 40
reden = "Gebouw in overstromingsgebied '{naam}'"
bron = "test"
"""
    (tmp_path / "regels.toml").write_text(
        RULESET.read_text(encoding="utf-8") + rules, encoding="utf-8"
    )
    write_gdf(
        gpd.GeoDataFrame({"naam": ["Maasdal"]}, geometry=[AREA], crs=RD),
        tmp_path / "maas.gpkg",
    )
    rows = [
        ("tijdelijk", "long_stay", "ja", 5.0),
        ("permanent", "long_stay", "nee", None),
        ("onbekend", "mid_stay", None, None),
        ("te_lang", "long_stay", "ja", 25.0),
        ("kort", "short_stay", "nee", None),
    ]
    write_gdf(
        gpd.GeoDataFrame(
            {
                "id": [r[0] for r in rows],
                "type": [r[1] for r in rows],
                "tijdelijk": [r[2] for r in rows],
                "termijn": [r[3] for r in rows],
            },
            geometry=[Point(200_500, 380_100 + 100 * i) for i in range(len(rows))],
            crs=RD,
        ),
        tmp_path / "locaties.gpkg",
    )
    text = """
[lagen.locaties]
pad = "locaties.gpkg"
id_veld = "id"
verblijfstype_veld = "type"
tijdelijk_veld = "tijdelijk"
termijn_jaar_veld = "termijn"

[lagen.beperkingen.overstroming]
pad = "maas.gpkg"

[regels]
bestand = "regels.toml"
"""
    run_config(load_config(write_config(tmp_path, text)), tmp_path / "uit")
    out = read_output(tmp_path / "uit").set_index("id")
    assert out.loc["tijdelijk", "regels"] == "overstroming.tijdelijk"
    assert out.loc["tijdelijk", "oordeel"] == "voorwaardelijk"
    for site in ("permanent", "onbekend", "te_lang"):  # te_lang: 25 years > max_termijn_jaar 10
        assert out.loc[site, "regels"] == "overstroming.permanent", site
        assert out.loc[site, "oordeel"] == "ongeschikt", site
    # not tested for short-stay: the short-stay site has no rule, its mid-stay verdict has
    assert out.loc["kort", "regels"] == ""
    assert out.loc["kort", "oordeel_mid_stay"] == "ongeschikt"
