"""End to end through the command line: ``locatietoets score`` on a hand-made world.

The world (``fixtures.build_world``) has one 1 x 1 km BBG square, a kom on
its west half, one recreation park and two fictional gemeenten; every
expected class, distance, park, verdict and reason below follows from the
coordinates in ``fixtures.py`` with pencil and paper.
"""

from __future__ import annotations

from importlib import resources
import json
from pathlib import Path
import re
import sqlite3

from click.testing import CliRunner, Result
from fixtures import (
    EXPECTED,
    PARK_NAME,
    SITES,
    build_world,
    polygons,
    read_output,
    run_subprocess,
    sha256,
    standard_config,
    write_config,
)
import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from locatietoets.layers.io.write import OUTPUT_FILES
from locatietoets.scripts.cli import main

CORE_FILES = {"locaties.gpkg", "locaties.csv", "run.json"}
STAYS = ("short_stay", "mid_stay", "long_stay")
VERDICTS = {"geschikt", "voorwaardelijk", "ongeschikt"}
INPUT_COLUMNS = ["id", "type", "personen", "slaapkamers", "opp", "opmerking"]
BUILTIN_RULESET = (
    resources.files("locatietoets.analysis") / "rulesets" / "limburg-povi2021.toml"
).read_text(encoding="utf-8")


def _flat(text: str) -> str:
    # help text is wrapped, also after a hyphen ("ontwerp-\n  herziening"): compare without line
    # breaks
    return " ".join(text.replace("-\n", "-").split()).replace("- ", "-")


def _score(config: Path, out: Path, *extra: str) -> Result:
    result = CliRunner().invoke(main, ["score", str(config), "--out", str(out), *extra])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """One standard run shared by the read-only checks below."""
    world = tmp_path_factory.mktemp("wereld")
    build_world(world)
    cfg = write_config(world, standard_config())
    out = world / "uit"
    result = CliRunner().invoke(main, ["score", str(cfg), "--out", str(out)], terminal_width=200)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return {"world": world, "config": cfg, "out": out, "result": result, "gpkg": read_output(out)}


def _by_id(frame: pd.DataFrame) -> dict[str, pd.Series]:
    return {row["id"]: row for _, row in frame.iterrows()}


# ---------------------------------------------------------------------------
# outputs
# ---------------------------------------------------------------------------


def test_score_writes_the_outputs(scored):
    files = {p.name for p in scored["out"].iterdir()}
    assert CORE_FILES <= files <= set(OUTPUT_FILES), files
    assert not [p for p in scored["out"].iterdir() if p.name.startswith(".")]


def test_gpkg_layer_crs_and_attributes(scored):
    path = scored["out"] / "locaties.gpkg"
    import pyogrio

    layers = {str(name): geom for name, geom in pyogrio.list_layers(path)}
    assert set(layers) == {"locaties", "layer_styles"}
    assert layers["locaties"] == "Point" and layers["layer_styles"] is None
    out = scored["gpkg"]
    assert out.crs.to_epsg() == 28992
    with sqlite3.connect(path) as con:
        srs = con.execute(
            "SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = 'locaties'"
        ).fetchone()[0]
    assert srs == 28992
    # the verdict, its score and the reasons first (QGIS's identify panel lists fields in file
    # order), the result fields, then every input attribute kept in its order, with its values
    assert list(out.columns[:3]) == ["oordeel", "score", "redenen"]
    attributes = [c for c in out.columns if c != out.geometry.name]
    assert attributes[-len(INPUT_COLUMNS) :] == INPUT_COLUMNS
    assert out["id"].tolist() == [s["id"] for s in SITES]
    assert out["opmerking"].tolist() == [f"invoer {s['id']}" for s in SITES]
    assert out["opp"].tolist()[:4] == [80.0, 40.0, pytest.approx(float("nan"), nan_ok=True), 60.0]
    for col in (
        "locatie_id",
        "verblijfstype",
        "gemeente",
        "gemeente_code",
        "regio",
        "bbg_ligging",
        "bbg_afstand_m",
        "recreatiepark",
        "bebouwde_kom",
        "capaciteit_personen",
        "oordeel",
        "score",
        "redenen",
        "regels",
        *(f"oordeel_{s}" for s in STAYS),
    ):
        assert col in out.columns, col
    assert [(round(g.x, 3), round(g.y, 3)) for g in out.geometry] == [
        (s["x"], s["y"]) for s in SITES
    ]


def test_gpkg_has_default_style_on_oordeel(scored):
    with sqlite3.connect(scored["out"] / "locaties.gpkg") as con:
        rows = con.execute(
            "SELECT f_table_name, useAsDefault, styleQML FROM layer_styles"
        ).fetchall()
    assert len(rows) == 1
    table, default, qml = rows[0]
    assert table == "locaties" and default == 1
    assert re.search(r'<renderer-v2[^>]*type="categorizedSymbol"[^>]*attr="oordeel"', qml)
    for verdict in VERDICTS:
        assert f'value="{verdict}"' in qml


def test_csv_has_same_rows_and_rd_xy(scored):
    csv = pd.read_csv(scored["out"] / "locaties.csv", dtype={"id": str, "locatie_id": str})
    gpkg = scored["gpkg"]
    assert len(csv) == len(gpkg) == len(SITES)
    assert csv["id"].tolist() == gpkg["id"].tolist()
    assert csv["x_rd"].tolist() == [s["x"] for s in SITES]
    assert csv["y_rd"].tolist() == [s["y"] for s in SITES]
    for col in ("oordeel", "bbg_ligging", "gemeente", "redenen"):
        assert csv[col].fillna("").tolist() == gpkg[col].fillna("").tolist(), col
    assert csv["bbg_afstand_m"].tolist() == gpkg["bbg_afstand_m"].tolist()
    assert set(INPUT_COLUMNS) <= set(csv.columns)


def test_run_json(scored):
    run = json.loads((scored["out"] / "run.json").read_text(encoding="utf-8"))
    assert run["regelset"]["id"] == "limburg-povi2021"
    assert run["regelset"]["versie"] == "3.2.0"
    assert run["regelset"]["parameters"]["bbg_rand_m"] == 250.0
    assert run["regelset"]["parameters"]["min_woonoppervlak_pp_m2"] == 15.0
    world = scored["world"]
    files = {
        "locaties": "locaties.gpkg",
        "bebouwd_gebied": "bbg.gpkg",
        "bebouwde_kom": "kom.gpkg",
        "recreatieparken": "parken.geojson",
        "gemeenten": "gemeenten.gpkg",
    }
    assert set(run["invoer"]) == set(files)
    for layer, name in files.items():
        assert run["invoer"][layer]["sha256"] == sha256(world / name), layer
        assert Path(run["invoer"][layer]["pad"]) == (world / name).resolve()
    assert run["invoer"]["locaties"]["objecten"] == 8
    assert run["locaties"] == 8
    for step in ("inlezen", "analyse", "schrijven", "totaal"):
        assert run["tijden_s"][step] >= 0
    assert run["tijden_s"]["totaal"] >= run["tijden_s"]["analyse"]
    gpkg = scored["gpkg"]
    for stay in STAYS:
        counts = gpkg[f"oordeel_{stay}"].value_counts().to_dict()
        assert run["telling"][stay] == {
            "geschikt": counts.get("geschikt", 0),
            "voorwaardelijk": counts.get("voorwaardelijk", 0),
            "ongeschikt": counts.get("ongeschikt", 0),
            "geen oordeel": 0,
        }
    # B1 (rand) is voorwaardelijk for short-stay too: outside BBG, the rand included, only a
    # temporary exception
    assert run["telling"]["short_stay"] == {
        "geschikt": 1,
        "voorwaardelijk": 7,
        "ongeschikt": 0,
        "geen oordeel": 0,
    }
    assert run["telling"]["long_stay"] == {
        "geschikt": 1,
        "voorwaardelijk": 2,
        "ongeschikt": 5,
        "geen oordeel": 0,
    }
    assert "geur" in run["niet_uitgevoerd"] and "reis" in run["niet_uitgevoerd"]
    assert "bbg" not in run["niet_uitgevoerd"]
    assert run["bibliotheken"]["geopandas"]


# ---------------------------------------------------------------------------
# the analysis results
# ---------------------------------------------------------------------------


def test_classes_distances_parks_gemeenten(scored):
    rows = _by_id(scored["gpkg"])
    for sid, exp in EXPECTED.items():
        row = rows[sid]
        assert row["bbg_ligging"] == exp["ligging"], sid
        assert row["bbg_afstand_m"] == exp["afstand"], sid  # exact for hand-placed points
        assert row["gemeente"] == exp["gemeente"], sid
        assert row["gemeente_code"] == exp["code"], sid
        assert row["regio"] == "Noord-Limburg", sid
        assert (row["recreatiepark"] if isinstance(row["recreatiepark"], str) else None) == exp[
            "park"
        ], sid
        assert bool(row["bebouwde_kom"]) is exp["kom"], sid
        assert row["kom_bron"] == "bebouwde kom", sid


def test_verdicts_per_stay_type(scored):
    rows = _by_id(scored["gpkg"])
    own = {s["id"]: s["type"] for s in SITES}
    for sid, exp in EXPECTED.items():
        got = tuple(rows[sid][f"oordeel_{s}"] for s in STAYS)
        assert got == exp["oordeel"], sid
        assert rows[sid]["oordeel"] == rows[sid][f"oordeel_{own[sid]}"], sid
        assert rows[sid]["verblijfstype"] == own[sid]
        assert 0 <= rows[sid]["score"] <= 100


def test_scores(scored):
    rows = _by_id(scored["gpkg"])
    assert rows["A1"]["score"] == 100.0
    assert rows["A2"]["score"] == 80.0  # two housing norms, 10 points each
    assert rows["B1"]["score_short_stay"] == 95.0 and rows["B1"]["score_long_stay"] == 85.0
    # bbg.buiten short_stay: 25 + 20 * (500 - 250) / (3000 - 250)
    assert rows["B3"]["score"] == pytest.approx(round(100 - 25 - 20 * 250 / 2750, 1))
    # same distance, worse on a park
    assert rows["P1"]["score"] < rows["W1"]["score"]


def test_housing_norms(scored):
    rows = _by_id(scored["gpkg"])
    a2 = rows["A2"]
    assert a2["personen_per_slaapkamer"] == 1.5
    assert a2["woonoppervlak_pp_m2"] == pytest.approx(40 / 3)
    assert a2["capaciteit_personen"] == 2  # min(floor(2 x 1), floor(40 / 15))
    assert rows["A1"]["capaciteit_personen"] == 4
    assert rows["A1"]["oordeel"] == "geschikt"
    assert a2["regels"] == "woonnorm.slaapkamers;woonnorm.oppervlak"


def test_reasons_name_value_threshold_and_source(scored):
    rows = _by_id(scored["gpkg"])
    assert (rows["A1"]["redenen"] or "") == ""
    b1 = rows["B1"]["redenen"]
    assert (
        b1
        == "Ligt aan de rand van het bestaand bebouwd gebied: 100 m buiten de grens (rand tot 250"
        " m); buiten BBG (ook in de rand) is wonen alleen mogelijk als tijdelijke flexibele"
        " woonvorm, ten hoogste 10 jaar; niet opgegeven of het een tijdelijk bouwwerk is"
        " (tijdelijk_veld) (POVI/Integrale Aanpak §3.3)"
    )
    b2 = rows["B2"]["redenen"]
    assert (
        "600 m van de grens (rand tot 250 m)" in b2
        and "(POVI; Visie internationale werknemers)" in b2
    )
    a2 = rows["A2"]["redenen"]
    # measured value and threshold with a Dutch decimal comma
    assert "Plan heeft 1,50 personen per slaapkamer (norm ten hoogste 1)" in a2
    assert "Plan heeft 13,3 m² leefoppervlakte per persoon (norm minstens 15 m²)" in a2
    assert "capaciteit 2 personen" in a2 and "(Integrale Aanpak §3.3)" in a2
    assert a2.count("; ") >= 1  # one reason per rule, joined with '; '
    p1 = rows["P1"]["redenen"].split("; ")
    assert any(f"Ligt op recreatiepark '{PARK_NAME}'" in r for r in p1)
    assert any("2.200 m van de grens" in r for r in p1)  # Dutch thousands dot
    assert rows["P1"]["regels"] == "bbg.buiten;recreatiepark"
    assert rows["B1"]["regels"] == "bbg.rand"


def test_summary_table_printed(scored):
    out = scored["result"].stdout
    assert "Oordeel per verblijfstype" in out
    rows = {}
    for line in out.splitlines():
        m = re.match(r"\W*(short-stay|mid-stay|long-stay)\W+(\d+)\W+(\d+)\W+(\d+)\W+(\d+)", line)
        if m:
            rows[m.group(1)] = tuple(int(v) for v in m.groups()[1:])
    assert rows == {"short-stay": (1, 7, 0, 0), "mid-stay": (1, 2, 5, 0), "long-stay": (1, 2, 5, 0)}
    assert "Uitvoer in" in _flat(out)
    # each site on its own stay type, worded as the plugin's summary ("Aantal geschikt")
    own = scored["gpkg"]["oordeel"].value_counts().to_dict()
    line = (
        f"Eigen verblijfstype: {own.get('geschikt', 0)} locaties geschikt voor hun eigen"
        f" verblijfstype, {own.get('voorwaardelijk', 0)} voorwaardelijk,"
        f" {own.get('ongeschikt', 0)} ongeschikt."
    )
    assert line in _flat(out)
    run = json.loads((scored["out"] / "run.json").read_text(encoding="utf-8"))
    assert run["telling_eigen_verblijfstype"] == {
        "geschikt": own.get("geschikt", 0),
        "voorwaardelijk": own.get("voorwaardelijk", 0),
        "ongeschikt": own.get("ongeschikt", 0),
        "geen oordeel": 0,
    }


def test_polygon_sites(tmp_path):
    items = [
        # 300 x 200 m, 200 m of its width inside BBG → 2/3 inside → deels (wholly inside needs 95 %)
        ({"id": "Q1", "type": "long_stay"}, box(200_800, 380_400, 201_100, 380_600)),
        # 1/3 inside → deels (issue 12: no longer "rand, 0 m buiten de grens")
        ({"id": "Q2", "type": "long_stay"}, box(200_900, 380_400, 201_200, 380_600)),
        # 300 m east of BBG → buiten
        ({"id": "Q3", "type": "long_stay"}, box(201_300, 380_400, 201_500, 380_600)),
        # half on the park → partly on the park
        ({"id": "Q4", "type": "short_stay"}, box(203_300, 380_100, 203_500, 380_300)),
        # a quarter on the park → partly on the park (before issue 12: below the 50 % threshold, not
        # on it)
        ({"id": "Q5", "type": "short_stay"}, box(203_350, 380_100, 203_550, 380_300)),
        # straddles the gemeente border at x = 202000: 100 m in Venlo, 300 m in Venray
        ({"id": "Q6", "type": "short_stay"}, box(201_900, 385_000, 202_300, 385_100)),
    ]
    build_world(tmp_path, sites=polygons(items))
    cfg = write_config(
        tmp_path,
        standard_config().replace(
            'personen_veld = "personen"\nslaapkamers_veld = "slaapkamers"\nwoonoppervlak_veld ='
            ' "opp"\n',
            "",
        ),
    )
    _score(cfg, tmp_path / "uit", "--voortgang", "geen")
    rows = _by_id(read_output(tmp_path / "uit"))
    assert rows["Q1"]["bbg_ligging"] == "deels" and rows["Q1"]["bbg_afstand_m"] == 0.0
    assert rows["Q1"]["bbg_aandeel"] == pytest.approx(2 / 3)
    assert rows["Q2"]["bbg_ligging"] == "deels" and rows["Q2"]["bbg_afstand_m"] == 0.0
    assert rows["Q2"]["bbg_aandeel"] == pytest.approx(1 / 3)
    assert rows["Q3"]["bbg_ligging"] == "buiten" and rows["Q3"]["bbg_afstand_m"] == 300.0
    assert rows["Q4"]["recreatiepark"] == PARK_NAME and rows["Q4"][
        "recreatiepark_aandeel"
    ] == pytest.approx(0.5)
    assert rows["Q5"]["recreatiepark"] == PARK_NAME and rows["Q5"][
        "recreatiepark_aandeel"
    ] == pytest.approx(0.25)
    assert "bouw alleen op het deel buiten het park (75 % van de locatie)" in rows["Q5"]["redenen"]
    assert rows["Q6"]["gemeente"] == "Venray" and rows["Q6"]["gemeente_code"] == "GM0984"
    assert rows["Q1"]["oordeel"] == "voorwaardelijk" and rows["Q2"]["oordeel"] == "voorwaardelijk"
    assert "bouw bij voorkeur alleen op het deel binnen BBG (67 %)" in rows["Q1"]["redenen"]
    assert rows["Q3"]["oordeel"] == "ongeschikt"
    assert rows["Q4"].geometry.geom_type in ("Polygon", "MultiPolygon")
    csv = pd.read_csv(tmp_path / "uit" / "locaties.csv")
    # x/y of a representative point lies inside each polygon
    for (_, g), x, y in zip(items, csv["x_rd"], csv["y_rd"]):
        assert g.contains(gpd.points_from_xy([x], [y])[0])


def test_without_kom_bbg_stands_in_and_output_says_so(tmp_path):
    build_world(tmp_path, kom=False)
    cfg = write_config(tmp_path, standard_config(kom=False))
    _score(cfg, tmp_path / "uit", "--voortgang", "geen")
    rows = _by_id(read_output(tmp_path / "uit"))
    assert bool(rows["A2"]["bebouwde_kom"]) is True  # binnen BBG counts as kom
    assert bool(rows["B1"]["bebouwde_kom"]) is False
    assert rows["A1"]["kom_bron"] == "bestaand bebouwd gebied als benadering van de bebouwde kom"


# ---------------------------------------------------------------------------
# progress, determinism, help, version
# ---------------------------------------------------------------------------


def test_voortgang_json_lines(tmp_path):
    build_world(tmp_path)
    cfg = write_config(tmp_path, standard_config())
    result = _score(cfg, tmp_path / "uit", "--voortgang", "json")
    lines = [
        json.loads(line) for line in result.stdout.splitlines() if line.strip()
    ]  # every line is JSON
    types = {line["type"] for line in lines}
    assert {"stap", "log", "klaar"} <= types, types
    assert lines[-1]["type"] == "klaar"
    assert lines[-1]["telling"]["short_stay"]["voorwaardelijk"] == 7
    assert Path(lines[-1]["uitvoer"]) == tmp_path / "uit"
    fractions = [line["voortgang"] for line in lines if line["type"] == "stap"]
    assert fractions == sorted(fractions) and 0 <= fractions[0] and fractions[-1] == 1.0
    assert all({"stap", "titel"} <= set(line) for line in lines if line["type"] == "stap")


def test_same_inputs_give_identical_outputs(tmp_path):
    build_world(tmp_path)
    cfg = write_config(tmp_path, standard_config())
    _score(cfg, tmp_path / "een", "--voortgang", "geen")
    _score(cfg, tmp_path / "twee", "--voortgang", "geen")
    for name in ("locaties.gpkg", "locaties.csv"):
        assert sha256(tmp_path / "een" / name) == sha256(tmp_path / "twee" / name), name


def _commands() -> list[str]:
    return sorted(main.commands)


def test_expected_commands_exist():
    assert {"score", "demo", "regels"} <= set(_commands())


@pytest.mark.parametrize("command", _commands())
def test_help_for_every_command(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert f" {command} " in first + " " and first.split()[0] in ("Usage:", "Gebruik:"), first
    assert "-h, --help" in result.output
    summary = main.commands[command].help.strip().splitlines()[0]
    assert _flat(summary) in _flat(result.output)
    # click's own words in Dutch: [verplicht], TEKST/GETAL (no [required], TEXT, INTEGER RANGE)
    for english in ("[required]", "TEXT", "INTEGER", "FLOAT", "RANGE", "default:"):
        assert english not in result.output, english


@pytest.mark.parametrize("command", ["ophalen", "controle"])
def test_help_of_the_data_commands_is_dutch(command):
    result = CliRunner().invoke(main, ["data", command, "--help"])
    assert result.exit_code == 0, result.output
    for english in ("[required]", "TEXT", "INTEGER", "FLOAT", "RANGE", "default:"):
        assert english not in result.output, english


def test_capaciteit_help_says_verplicht():
    result = CliRunner().invoke(main, ["capaciteit", "--help"])
    assert "[verplicht]" in _flat(result.output)


def test_main_help_lists_commands():
    result = CliRunner().invoke(main, ["-h"])
    assert result.exit_code == 0
    for command in ("score", "demo", "regels"):
        assert command in result.output


def test_version():
    from importlib.metadata import version

    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"locatietoets {version('locatietoets')}"


def test_regels_lists_rules_and_parameters(monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")  # rich folds long ids in narrow columns
    result = CliRunner().invoke(main, ["regels"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "limburg-povi2021" in out and "versie 3.2.0" in out
    for rule_id in (
        "bbg.rand",
        "bbg.buiten",
        "recreatiepark",
        "woonnorm.slaapkamers",
        "woonnorm.oppervlak",
        "geur.knelpunt_geurgevoelig",
        "reis.werkgever_ver",
    ):
        assert rule_id in out, rule_id
    # numbers as a planner reads them (250, not 250.0), ja/nee instead of True/False; the test
    # checked for "250.0" before, which encoded the Python repr
    assert "bbg_rand_m" in out and "250.0" not in out
    assert re.search(r"bbg_rand_m\s*│\s*250\s*│", out)
    assert "True" not in out and "False" not in out and "│ ja " in out and "│ nee " in out


def test_regels_with_user_file(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    path = tmp_path / "mijn.toml"
    path.write_text(
        BUILTIN_RULESET.replace('id = "limburg-povi2021"', 'id = "mijn-regels"', 1),
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["regels", "--bestand", str(path)])
    assert result.exit_code == 0
    assert "mijn-regels" in result.output


def test_console_script_runs(tmp_path):
    build_world(tmp_path)
    cfg = write_config(tmp_path, standard_config())
    proc = run_subprocess(
        ["score", str(cfg), "--out", str(tmp_path / "uit"), "--voortgang", "geen"], cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert CORE_FILES <= {p.name for p in (tmp_path / "uit").iterdir()}
    version = run_subprocess(["--version"], cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("locatietoets ")


# ---------------------------------------------------------------------------
# paths, rule sets, overrides
# ---------------------------------------------------------------------------


def test_relative_paths_resolve_against_config_folder(tmp_path, monkeypatch):
    world = tmp_path / "project" / "invoer"
    build_world(world)
    write_config(world, standard_config(uitvoer={"map": "../resultaat"}))
    elsewhere = tmp_path / "ergens" / "anders"
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    result = CliRunner().invoke(
        main, ["score", "../../project/invoer/config.toml", "--voortgang", "geen"]
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "project" / "resultaat"  # [uitvoer] map, relative to the config
    assert CORE_FILES <= {p.name for p in out.iterdir()}
    assert not any(elsewhere.iterdir())
    assert read_output(out)["bbg_afstand_m"].tolist() == [
        EXPECTED[s["id"]]["afstand"] for s in SITES
    ]


def test_default_output_folder_next_to_config(tmp_path, monkeypatch):
    build_world(tmp_path / "w")
    write_config(tmp_path / "w", standard_config())
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["score", "w/config.toml", "--voortgang", "geen"])
    assert result.exit_code == 0, result.output
    assert CORE_FILES <= {p.name for p in (tmp_path / "w" / "uitvoer").iterdir()}


def test_user_ruleset_changes_verdicts(tmp_path):
    build_world(tmp_path)
    old = (
        'id = "bbg.rand"\ntitel = "Aan de rand van bestaand bebouwd gebied (tijdelijk bouwwerk'
        ' onbekend)"\nsoort = "oordeel"\noordeel = { short_stay = "voorwaardelijk", mid_stay ='
        ' "voorwaardelijk", long_stay = "voorwaardelijk" }'
    )
    assert BUILTIN_RULESET.count(old) == 1  # the bbg.rand rule
    text = BUILTIN_RULESET.replace(
        old, old.replace('long_stay = "voorwaardelijk"', 'long_stay = "ongeschikt"')
    )
    text = text.replace('id = "limburg-povi2021"', 'id = "limburg-streng"', 1)
    (tmp_path / "regels").mkdir()
    (tmp_path / "regels" / "streng.toml").write_text(text, encoding="utf-8")
    cfg = write_config(tmp_path, standard_config(regels={"bestand": "regels/streng.toml"}))
    _score(cfg, tmp_path / "uit", "--voortgang", "geen")
    rows = _by_id(read_output(tmp_path / "uit"))
    assert (
        rows["B1"]["oordeel_short_stay"],
        rows["B1"]["oordeel_mid_stay"],
        rows["B1"]["oordeel_long_stay"],
    ) == ("voorwaardelijk", "voorwaardelijk", "ongeschikt")
    assert rows["B1"]["oordeel"] == "ongeschikt"  # B1 is long_stay
    for sid in ("A1", "A2", "B2", "P1"):  # other rules unchanged
        assert tuple(rows[sid][f"oordeel_{s}"] for s in STAYS) == EXPECTED[sid]["oordeel"], sid
    run = json.loads((tmp_path / "uit" / "run.json").read_text(encoding="utf-8"))
    assert run["regelset"]["id"] == "limburg-streng"
    assert Path(run["regelset"]["herkomst"]) == (tmp_path / "regels" / "streng.toml").resolve()
    rule = next(r for r in run["regelset"]["regels"] if r["id"] == "bbg.rand")
    assert rule["oordeel"]["long_stay"] == "ongeschikt"


def test_parameter_override(tmp_path):
    build_world(tmp_path)
    cfg = write_config(tmp_path, standard_config(regels={"bbg_rand_m": 550}))
    _score(cfg, tmp_path / "uit", "--voortgang", "geen")
    rows = _by_id(read_output(tmp_path / "uit"))
    assert rows["B3"]["bbg_ligging"] == "rand"  # 500 m ≤ 550 m
    assert rows["B2"]["bbg_ligging"] == "buiten"  # 600 m > 550 m
    assert "(rand tot 550 m)" in rows["B3"]["redenen"]
    run = json.loads((tmp_path / "uit" / "run.json").read_text(encoding="utf-8"))
    assert run["regelset"]["parameters"]["bbg_rand_m"] == 550.0


@pytest.mark.parametrize(
    ("key", "changed"),
    [("Venray", {"P1", "E1"}), ("GM0984", {"P1", "E1"}), ("Venlo", {"W1"}), ("GM0983", {"W1"})],
)
def test_per_gemeente_override_applies_only_there(tmp_path, key, changed):
    build_world(tmp_path)
    cfg = write_config(tmp_path, standard_config(regels={"gemeenten": {key: {"bbg_rand_m": 3000}}}))
    _score(cfg, tmp_path / "uit", "--voortgang", "geen")
    rows = _by_id(read_output(tmp_path / "uit"))
    for sid in ("P1", "E1", "W1"):  # all three lie 2200 m from BBG
        if sid in changed:
            assert rows[sid]["bbg_ligging"] == "rand", (key, sid)
            assert "2.200 m buiten de grens (rand tot 3.000 m)" in rows[sid]["redenen"], (key, sid)
        else:
            assert rows[sid]["bbg_ligging"] == "buiten", (key, sid)
            assert "(rand tot 250 m)" in rows[sid]["redenen"], (key, sid)
    assert rows["E1"]["oordeel"] == ("voorwaardelijk" if "E1" in changed else "ongeschikt")
    venlo = "W1" in changed
    assert rows["B2"]["bbg_ligging"] == ("rand" if venlo else "buiten")  # Venlo, 600 m
    assert rows["A1"]["bbg_ligging"] == "binnen"


# ---------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------


def test_demo_end_to_end(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(
        main, ["demo", "--out", str(out), "--locaties", "300", "--voortgang", "geen"]
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    uit = out / "uitvoer"
    assert CORE_FILES <= {p.name for p in uit.iterdir()}
    gpkg = read_output(uit)
    assert len(gpkg) >= 300
    assert set(gpkg["oordeel"].dropna()) <= VERDICTS
    assert gpkg["oordeel"].notna().sum() > 0
    for stay in STAYS:
        assert set(gpkg[f"oordeel_{stay}"].dropna()) <= VERDICTS
    run = json.loads((uit / "run.json").read_text(encoding="utf-8"))
    assert run["locaties"] == len(gpkg)
    # the demo's own data trips no warning (issue 18): nothing to 'Let op', no *_invoer fields
    assert run["waarschuwingen"] == [] and "Let op" not in result.output
    assert not [c for c in gpkg.columns if c.endswith("_invoer")]


def test_engine_dask_without_dask_says_how_to_install(tmp_path, monkeypatch):
    """dask is an optional extra: without it, --engine dask is a Dutch error naming the extra, not a
    traceback."""
    import sys

    monkeypatch.setitem(sys.modules, "dask_geopandas", None)  # import now raises ImportError
    world = tmp_path / "wereld"
    world.mkdir()
    build_world(world)
    cfg = write_config(world, standard_config())
    out = tmp_path / "uit"
    result = CliRunner().invoke(
        main, ["score", str(cfg), "--out", str(out), "--engine", "dask"], terminal_width=200
    )
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "dask-geopandas ontbreekt" in text
    assert 'pip install "locatietoets[dask]"' in text
    assert "--engine lokaal" in text
    assert "Traceback" not in result.output
    assert not out.exists()  # refused before anything is written


_ENGLISH = re.compile(
    r"\b(the|sites?|snapped|reached|loaded|reading|writing|building|done|network|warning|"
    r"error|found|skipped|block|nodes|edges|True|False)\b"
)


@pytest.mark.parametrize(
    "command",
    [
        ["score"],
        ["gevoeligheid", "--parameter", "bbg_rand_m", "--waarden", "150,250"],
    ],
)
def test_engine_log_and_progress_lines_are_dutch(tmp_path, command):
    """What the plugin shows of a run (qgis_process output, the log panel) is the JSON lines."""
    build_world(tmp_path)
    cfg = write_config(tmp_path, standard_config())
    result = CliRunner().invoke(
        main,
        [command[0], str(cfg), *command[1:], "--out", str(tmp_path / "uit")]
        + ["--voortgang", "json"],
    )
    assert result.exit_code == 0, result.output
    texts = []
    for line in result.output.splitlines():
        message = json.loads(line)
        texts += [str(message.get(k)) for k in ("bericht", "titel") if message.get(k)]
    assert len(texts) > 5
    english = [t for t in texts if _ENGLISH.search(t)]
    assert english == []


#: A number as Python prints it: four or more digits without a thousands dot (3000, not 3.000),
#: or a decimal point (0.35, 2.50 s). Years (2026), EPSG codes and CBS codes (GM9901) are not
#: counts and are skipped.
_UNFORMATTED = re.compile(r"(?<![\w.,:-])(\d{4,}|\d+\.(?!\d{3}\b)\d+)(?![\w.,])")


def _unformatted_numbers(text: str) -> list[str]:
    plain = re.sub(r"\S*[/\\]\S*", " ", text)  # paths
    plain = re.sub(r"\bEPSG:\d+|\bGM\d{4}\b|\b(19|20)\d\d\b", " ", plain)
    plain = re.sub(r"\b[0-9a-f]{12,}\b", " ", plain)  # cache keys
    return [m.group(0) for m in _UNFORMATTED.finditer(plain)]


def test_number_checker_by_hand():
    assert _unformatted_numbers("3000 locaties in 2,5 s; 0.35 en 12.5 m; 3.000 en 1.234,5") == [
        "3000",
        "0.35",
        "12.5",
    ]
    assert _unformatted_numbers("GM9901, EPSG:28992, 3 december 2026, /tmp/x1234/a.gpkg") == []


def test_demo_log_is_dutch_with_dutch_numbers(tmp_path):
    """The log of the demo as the plugin shows it: no English, counts as 1.200, seconds as 0,5."""
    result = CliRunner().invoke(
        main,
        ["demo", "--out", str(tmp_path / "demo"), "--locaties", "1200", "--voortgang", "json"],
    )
    assert result.exit_code == 0, result.output
    texts = []
    for line in result.output.splitlines():
        message = json.loads(line)
        texts += [str(message.get(k)) for k in ("bericht", "titel") if message.get(k)]
    assert len(texts) > 20
    assert [t for t in texts if _ENGLISH.search(t)] == []
    assert any("1.200 locaties" in t for t in texts)  # the count of the demo itself
    assert any("1.200 locaties" in t and "wegennet" in t for t in texts)  # the travel step
    assert [(t, _unformatted_numbers(t)) for t in texts if _unformatted_numbers(t)] == []
