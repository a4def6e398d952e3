"""Polygon and MultiPoint sites, BBG and temporary buildings, end to end (issue 12, issue 13
MultiPoint).

World (tests/fixtures.py): BBG is the square x 200000-201000, y 380000-381000 (RD); the park
De Heide is x 203000-203400, y 380000-380400; Venlo lies west of x = 202000, Venray east.
"""

from __future__ import annotations

from click.testing import CliRunner
import geopandas as gpd
import pytest
from shapely.geometry import MultiPoint, box

from locatietoets.scripts.cli import main
from tests.fixtures import (
    PARK_NAME,
    build_world,
    polygons,
    read_output,
    standard_config,
    write_config,
)

NO_PLAN = (
    'personen_veld = "personen"\nslaapkamers_veld = "slaapkamers"\nwoonoppervlak_veld = "opp"\n'
)


def _run(tmp_path, items, config_extra: str = "", fields: str = "", expect_exit: int = 0):
    build_world(tmp_path, sites=polygons(items))
    text = standard_config(extra=config_extra).replace(NO_PLAN, fields)
    cfg = write_config(tmp_path, text)
    result = CliRunner().invoke(
        main, ["score", str(cfg), "--out", str(tmp_path / "uit"), "--voortgang", "geen"]
    )
    assert result.exit_code == expect_exit, result.output + repr(result.exception)
    if expect_exit:
        return result
    return {row["id"]: row for _, row in read_output(tmp_path / "uit").iterrows()}


def test_polygon_half_inside_bbg_and_polygon_touching_bbg(tmp_path):
    rows = _run(
        tmp_path,
        [
            # 200 x 200 m, x 200900-201100: half inside BBG
            ({"id": "H", "type": "long_stay"}, box(200_900, 380_400, 201_100, 380_600)),
            # touches BBG's corner (201000, 381000) only: wholly outside, at the rand at 0 m
            ({"id": "T", "type": "long_stay"}, box(201_000, 381_000, 201_100, 381_100)),
            # 97 % inside: counts as wholly inside (bbg_binnen_aandeel 0.95)
            ({"id": "B", "type": "long_stay"}, box(200_800, 380_400, 201_006, 380_600)),
        ],
    )
    h, t, b = rows["H"], rows["T"], rows["B"]
    assert (h["bbg_ligging"], h["bbg_aandeel"], h["bbg_afstand_m"]) == (
        "deels",
        pytest.approx(0.5),
        0.0,
    )
    assert h["oordeel"] == "voorwaardelijk" and h["regels"] == "bbg.rand"
    assert "Ligt deels in het bestaand bebouwd gebied (50 % binnen, 50 % erbuiten)" in h["redenen"]
    assert "bouw bij voorkeur alleen op het deel binnen BBG (50 %)" in h["redenen"]
    assert h["score"] == 100 - 15 * 0.5
    assert (t["bbg_ligging"], t["bbg_aandeel"], t["bbg_afstand_m"]) == ("rand", 0.0, 0.0)
    assert t["oordeel"] == "voorwaardelijk" and "0 m buiten de grens" in t["redenen"]
    assert b["bbg_ligging"] == "binnen" and b["oordeel"] == "geschikt" and b["vrij_aandeel"] == 1.0


def test_temporary_and_permanent_buildings_outside_bbg(tmp_path):
    fields = 'tijdelijk_veld = "tijdelijk"\ntermijn_jaar_veld = "termijn"\n'
    rows = _run(
        tmp_path,
        [
            # 300 m east of BBG (buiten at 250 m rand width), 1 m² sites
            (
                {"id": "T5", "type": "mid_stay", "tijdelijk": "ja", "termijn": 5.0},
                box(201_300, 380_500, 201_301, 380_501),
            ),
            (
                {"id": "T15", "type": "mid_stay", "tijdelijk": "true", "termijn": 15.0},
                box(201_300, 380_502, 201_301, 380_503),
            ),
            (
                {"id": "P", "type": "short_stay", "tijdelijk": "0", "termijn": None},
                box(201_300, 380_504, 201_301, 380_505),
            ),
            (
                {"id": "O", "type": "short_stay", "tijdelijk": None, "termijn": None},
                box(201_300, 380_506, 201_301, 380_507),
            ),
            # inside BBG: temporariness does not matter
            (
                {"id": "I", "type": "long_stay", "tijdelijk": "nee", "termijn": None},
                box(200_500, 380_500, 200_501, 380_501),
            ),
        ],
        fields=fields,
    )
    assert rows["T5"]["tijdelijk_bouwwerk"] == "ja" and rows["T5"]["termijn_jaar"] == 5.0
    assert (
        rows["T5"]["oordeel"] == "voorwaardelijk" and rows["T5"]["regels"] == "bbg.buiten.tijdelijk"
    )
    assert rows["T15"]["oordeel"] == "ongeschikt" and rows["T15"]["regels"] == "bbg.buiten.te_lang"
    assert "langer dan de maximale termijn van 10 jaar" in rows["T15"]["redenen"]
    assert rows["P"]["tijdelijk_bouwwerk"] == "nee"
    assert rows["P"]["oordeel_short_stay"] == rows["P"]["oordeel_long_stay"] == "ongeschikt"
    assert "permanent bouwwerk buiten BBG" in rows["P"]["redenen"]
    assert rows["O"]["oordeel"] == "voorwaardelijk" and rows["O"]["regels"] == "bbg.buiten"
    assert rows["I"]["oordeel"] == "geschikt"


def test_bad_tijdelijk_value_is_a_dutch_error(tmp_path):
    result = _run(
        tmp_path,
        [
            (
                {"id": "X", "type": "mid_stay", "tijdelijk": "misschien"},
                box(201_300, 380_500, 201_301, 380_501),
            )
        ],
        fields='tijdelijk_veld = "tijdelijk"\n',
        expect_exit=2,
    )
    text = " ".join(result.output.split())
    assert "tijdelijk_veld" in text and "'misschien'" in text and "ja/nee" in text
    assert "Traceback" not in result.output


def test_rand_penalty_starts_at_the_gemeentes_rand_width(tmp_path):
    # 400 m east of BBG, in Venlo (x < 202000) with a 600 m rand and nowhere else with 250 m:
    # short-stay
    # buiten at 800 m: Venlo (600 m rand) 25 + (800-600)/(3000-600)*20 points; at 250 m rand it
    # would be rand
    extra = '\n[regels.gemeenten."Venlo"]\nbbg_rand_m = 600\n'
    rows = _run(
        tmp_path,
        [
            (
                {"id": "V", "type": "short_stay"},
                box(201_800, 380_500, 201_801, 380_501),
            ),  # Venlo, 800 m out
            (
                {"id": "R", "type": "short_stay"},
                box(202_800, 380_500, 202_801, 380_501),
            ),  # Venray, 1800 m out
        ],
        config_extra=extra,
    )
    assert rows["V"]["bbg_ligging"] == "buiten" and rows["V"]["bbg_afstand_m"] == 800.0
    assert rows["V"]["score"] == round(100 - 25 - 200 / 2400 * 20, 1)
    assert "(rand tot 600 m)" in rows["V"]["redenen"]
    assert rows["R"]["score"] == round(100 - 25 - (1800 - 250) / 2750 * 20, 1)


def test_multipoint_sites_are_judged_like_polygons(tmp_path):
    # issue 13: one point inside BBG, one 2.5 km out used to be "binnen, score 100"
    items = [
        ({"id": "M", "type": "long_stay"}, MultiPoint([(200_500, 380_500), (203_500, 380_500)])),
        ({"id": "A", "type": "long_stay"}, MultiPoint([(200_500, 380_500), (200_600, 380_600)])),
        (
            {"id": "K", "type": "short_stay"},
            MultiPoint(
                [(203_100, 380_100), (203_200, 380_200), (203_600, 380_600), (203_700, 380_700)]
            ),
        ),
    ]
    rows = _run(tmp_path, items)
    m = rows["M"]
    assert (m["bbg_ligging"], m["bbg_aandeel"]) == ("deels", 0.5)
    assert m["oordeel"] == "voorwaardelijk" and "50 % binnen" in m["redenen"]
    assert rows["A"]["bbg_ligging"] == "binnen" and rows["A"]["oordeel"] == "geschikt"
    # half of K's points lie on the park
    assert rows["K"]["recreatiepark"] == PARK_NAME and rows["K"]["recreatiepark_aandeel"] == 0.5
    assert "Ligt voor 50 % op recreatiepark" in rows["K"]["redenen"]
    out = read_output(tmp_path / "uit")
    assert isinstance(out, gpd.GeoDataFrame) and set(out.geom_type) == {"MultiPoint"}


def test_term_without_tijdelijk_field_is_a_dutch_error(tmp_path):
    result = _run(
        tmp_path,
        [
            (
                {"id": "X", "type": "mid_stay", "termijn": 5.0},
                box(201_300, 380_500, 201_301, 380_501),
            )
        ],
        fields='termijn_jaar_veld = "termijn"\n',
        expect_exit=2,
    )
    text = " ".join(result.output.split())
    assert (
        "termijn_jaar_veld" in text
        and "tijdelijk_veld" in text
        and "Traceback" not in result.output
    )


def test_half_inside_bbg_with_a_permanent_building_frees_only_the_inside_half(tmp_path):
    rows = _run(
        tmp_path,
        [
            (
                {"id": "P", "type": "long_stay", "tijdelijk": "nee"},
                box(200_900, 380_400, 201_100, 380_600),
            ),
            (
                {"id": "T", "type": "long_stay", "tijdelijk": "ja"},
                box(200_900, 380_700, 201_100, 380_900),
            ),
        ],
        fields='tijdelijk_veld = "tijdelijk"\n',
    )
    p, t = rows["P"], rows["T"]
    assert (
        p["bbg_ligging"] == "deels"
        and p["oordeel"] == "voorwaardelijk"
        and p["regels"] == "bbg.rand.permanent"
    )
    assert (
        "bouw alleen op het deel binnen BBG (50 %): een permanent bouwwerk buiten BBG past niet"
        in p["redenen"]
    )
    # the half outside BBG is ongeschikt for a permanent building: not free; for a temporary one it
    # is
    assert p["vrij_aandeel"] == 0.5 and p["vrij_aandeel_short_stay"] == 0.5
    assert t["regels"] == "bbg.rand.tijdelijk" and t["vrij_aandeel"] == 1.0
    assert p["score"] == 100 - 50 * 0.5 and t["score"] == 100 - 10 * 0.5
