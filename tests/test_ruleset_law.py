"""Rule-set parameters have valid ranges; odour norms stay in the legal ranges; per-gemeente keys
must match.

Issue 13 (non-finite or absurd parameters, per-gemeente typos, strict run.json)
and issue 12 (per-gemeente odour values outside the legal ranges of brief §3).
"""

from __future__ import annotations

from importlib import resources
import json
import math
from pathlib import Path
import re
import tomllib

from fixtures import read_output, standard_config, write_config
import pytest
from shapely.geometry import Point

from locatietoets.analysis.errors import ConfigError, RuleSetError
from locatietoets.analysis.ruleset import ODOUR_LEGAL_RANGES
from locatietoets.analysis.ruleset_parse import parse_ruleset
from locatietoets.analysis.verdict import EVALUATORS, REASON_FIELDS
from locatietoets.layers.io.config import load_config
from locatietoets.layers.io.rules import read_ruleset_file
from locatietoets.layers.io.write import write_json
from locatietoets.scripts.runner.score import run_config

RULESETS = sorted(
    p.name
    for p in (resources.files("locatietoets.analysis") / "rulesets").iterdir()
    if p.name.endswith(".toml")
)


def _raw(name: str = "limburg-povi2021.toml") -> dict:
    return tomllib.loads(
        (resources.files("locatietoets.analysis") / "rulesets" / name).read_text(encoding="utf-8")
    )


def _parse(data: dict):
    return parse_ruleset(data, origin="test", known_rules=EVALUATORS, known_fields=REASON_FIELDS)


def _score(folder: Path, text: str):
    return run_config(load_config(write_config(folder, text)), folder / "uit")


# --- ranges in the shipped rule sets -------------------------------------------------------


@pytest.mark.parametrize("name", RULESETS)
def test_every_numeric_parameter_has_a_range_holding_its_value(name):
    raw = _raw(name)
    rs = _parse(raw)
    for pname, table in raw["parameters"].items():
        value = table["waarde"]
        param = rs.parameters[pname]
        if isinstance(value, (bool, str)):  # ja/nee or a choice (erf_short_stay): no range
            assert param.minimum is None and param.maximum is None, pname
            continue
        assert "min" in table and "max" in table, f"{name}: {pname} mist min/max"
        values = value.values() if isinstance(value, dict) else [value]
        assert all(param.minimum <= v <= param.maximum for v in values), pname
    # the odour norms' ranges are the legal ranges of brief §3
    for pname, (low, high) in ODOUR_LEGAL_RANGES.items():
        assert (rs.parameters[pname].minimum, rs.parameters[pname].maximum) == (low, high)


def test_legal_odour_ranges_are_those_of_the_brief():
    assert ODOUR_LEGAL_RANGES == {
        "geur_norm_kom_concentratie": (0.1, 14.0),
        "geur_norm_buitengebied_concentratie": (3.0, 35.0),
        "geur_norm_kom": (0.1, 8.0),
        "geur_norm_buitengebied": (2.0, 20.0),
    }


def test_parameter_without_range_is_an_error():
    data = _raw()
    del data["parameters"]["bbg_rand_m"]["max"]
    with pytest.raises(RuleSetError, match=re.escape("parameter 'bbg_rand_m' mist 'max'")):
        _parse(data)


def test_ruleset_value_outside_its_range_is_an_error():
    data = _raw()
    data["parameters"]["bbg_rand_m"]["waarde"] = 1e12
    with pytest.raises(
        RuleSetError,
        match=re.escape(
            "Parameter 'bbg_rand_m' in regelset 'test' is 1e+12 m; toegestaan is 0 tot en met"
            " 5000 m"
        ),
    ):
        _parse(data)


def test_ruleset_value_not_finite_is_an_error():
    data = _raw()
    data["parameters"]["max_termijn_jaar"]["waarde"] = math.nan
    with pytest.raises(
        RuleSetError,
        match=re.escape(
            "Parameter 'max_termijn_jaar' in regelset 'test' is geen eindig getal (nan); geef een"
            " getal van 0 tot en met 30 jaar"
        ),
    ):
        _parse(data)


def test_ruleset_range_wider_than_the_law_is_an_error():
    data = _raw()
    data["parameters"]["geur_norm_kom"]["max"] = 50.0
    with pytest.raises(
        RuleSetError,
        match=re.escape(
            "parameter 'geur_norm_kom' heeft bereik 0,1 tot en met 50 OUe/m³, ruimer dan de"
            " wettelijke bandbreedte"
        ),
    ):
        _parse(data)


def test_ruleset_gemeente_odour_norm_outside_legal_range_names_gemeente_parameter_value_range():
    data = _raw()
    data["gemeenten"]["GM0984"]["geur_norm_buitengebied_concentratie"] = 40.0
    with pytest.raises(RuleSetError) as info:
        _parse(data)
    assert (
        str(info.value)
        == "Parameter 'geur_norm_buitengebied_concentratie' voor gemeente 'Venray' in regelset"
        " 'test' [gemeenten.GM0984] is 40 OUe/m³; dat ligt buiten de wettelijke bandbreedte voor"
        " een eigen waarde in het omgevingsplan (Bkl): 3 tot en met 35 OUe/m³."
    )


def test_ruleset_range_table_values_checked_one_by_one():
    data = _raw()
    data["parameters"]["arbeidsmigranten_per_baan"]["waarde"]["logistiek"] = 1.5
    with pytest.raises(
        RuleSetError,
        match=re.escape(
            "Parameter 'arbeidsmigranten_per_baan' in regelset 'test' ('logistiek') is 1,5"
        ),
    ):
        _parse(data)


def test_boolean_parameter_has_no_range():
    data = _raw()
    data["parameters"]["concentratiegebied"]["min"] = 0
    with pytest.raises(
        RuleSetError, match="'concentratiegebied' is ja/nee en heeft dus geen 'min'/'max'"
    ):
        _parse(data)


# --- config overrides -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (math.nan, "is geen eindig getal (nan)"),
        (math.inf, "is geen eindig getal (inf)"),
        (1e12, "is 1e+12 m; toegestaan is 0 tot en met 5000 m"),
    ],
)
def test_config_value_not_finite_or_absurd(value, shown):
    with pytest.raises(
        RuleSetError,
        match=re.escape(f"Parameter 'bbg_rand_m' in [regels] in de configuratie {shown}"),
    ):
        read_ruleset_file().with_overrides({"bbg_rand_m": value})


@pytest.mark.parametrize(
    ("name", "value", "range_text"),
    [
        ("geur_norm_kom_concentratie", 15.0, "0,1 tot en met 14 OUe/m³"),
        ("geur_norm_buitengebied_concentratie", 2.0, "3 tot en met 35 OUe/m³"),
        ("geur_norm_kom", 9.0, "0,1 tot en met 8 OUe/m³"),
        ("geur_norm_buitengebied", 21.0, "2 tot en met 20 OUe/m³"),
        ("geur_norm_kom", 0.05, "0,1 tot en met 8 OUe/m³"),
    ],
)
def test_config_gemeente_odour_norm_outside_legal_range(name, value, range_text):
    with pytest.raises(RuleSetError) as info:
        read_ruleset_file().with_overrides({}, {"Venray": {name: value}})
    message = str(info.value)
    assert f"Parameter '{name}' voor gemeente 'Venray' in [regels] in de configuratie" in message
    assert (
        f"is {str(value).replace('.', ',').removesuffix(',0')} OUe/m³; dat ligt buiten de"
        " wettelijke bandbreedte" in message
    )
    assert range_text in message


def test_config_gemeente_odour_norm_at_the_legal_bounds_is_accepted():
    rs = read_ruleset_file().with_overrides(
        {},
        {"Venray": {"geur_norm_kom_concentratie": 0.1, "geur_norm_buitengebied_concentratie": 35}},
    )
    assert rs.gemeenten["GM0984"]["geur_norm_buitengebied_concentratie"] == 35.0


def test_nan_in_config_file_stops_the_run_before_any_output(world):
    # TOML has nan and inf literals
    with pytest.raises(
        RuleSetError,
        match=re.escape(
            "Parameter 'bbg_rand_m' in [regels] in de configuratie is geen eindig getal (nan)"
        ),
    ) as info:
        _score(world, standard_config() + "\n[regels]\nbbg_rand_m = nan\n")
    # the planner's mistake is in the config, and the message's title says so
    assert isinstance(info.value, ConfigError) and info.value.title == "Fout in de configuratie"
    assert not (world / "uit").exists()


# --- per-gemeente keys must name a gemeente -------------------------------------------------


def test_misspelt_gemeente_in_config_is_an_error_with_a_hint(world):
    with pytest.raises(ConfigError) as info:
        _score(world, standard_config(regels={"gemeenten": {"Venrya": {"bbg_rand_m": 1000}}}))
    message = str(info.value)
    assert (
        "[regels.gemeenten.\"Venrya\"] in de configuratie: gemeente 'Venrya' komt niet voor in de"
        " laag [lagen.gemeenten]" in message
    )
    assert "Bedoelde u 'Venray'?" in message
    assert not (world / "uit").exists()


def test_misspelt_gemeente_code_in_config_is_an_error(world):
    with pytest.raises(
        ConfigError,
        match=re.escape("gemeente 'GM0948' komt niet voor in de laag [lagen.gemeenten]"),
    ):
        _score(world, standard_config(regels={"gemeenten": {"GM0948": {"bbg_rand_m": 1000}}}))


def test_gemeente_of_the_ruleset_absent_from_the_layer_is_an_error(world):
    # Maastricht is in the rule set's table, but no site can lie in it: the value would be ignored
    with pytest.raises(
        ConfigError,
        match=re.escape("gemeente 'Maastricht' komt niet voor in de laag [lagen.gemeenten]"),
    ):
        _score(world, standard_config(regels={"gemeenten": {"Maastricht": {"bbg_rand_m": 1000}}}))


@pytest.mark.parametrize("key", ["Venray", "venray", "GM0984", "gm0984"])
def test_gemeente_key_by_name_or_code_is_accepted(world, key):
    outcome = _score(world, standard_config(regels={"gemeenten": {key: {"bbg_rand_m": 1000}}}))
    assert outcome.record["regelset"]["parameters"]["bbg_rand_m"] == 250.0


def test_without_gemeenten_layer_key_is_checked_against_the_ruleset():
    rs = read_ruleset_file().with_overrides({}, {"Venlow": {"bbg_rand_m": 100}})
    with pytest.raises(ConfigError) as info:
        rs.check_gemeente_keys(None, None)
    assert (
        "de gemeententabel van regelset 'limburg-povi2021' (er is geen laag [lagen.gemeenten])"
        in str(info.value)
    )
    assert "Bedoelde u 'Venlo'?" in str(info.value)
    read_ruleset_file().with_overrides({}, {"Venlo": {"bbg_rand_m": 100}}).check_gemeente_keys(
        None, None
    )


def test_ruleset_name_key_matching_no_gemeente_of_the_layer_is_an_error():
    data = _raw()
    data["gemeenten"]["Horst a/d Maas"] = {"bbg_rand_m": 100.0}
    rs = _parse(data)
    with pytest.raises(
        RuleSetError,
        match=re.escape(
            "Regelset 'limburg-povi2021': [gemeenten.\"Horst a/d Maas\"] heeft eigen"
            " parameterwaarden"
        ),
    ):
        rs.check_gemeente_keys(["GM1507"], ["Horst aan de Maas"])
    # CBS-code tables are the rule set's register of gemeenten: not every input holds all 31
    rs.check_gemeente_keys(["GM1507"], ["Horst aan de Maas", "Horst a/d Maas"])
    read_ruleset_file().check_gemeente_keys(["GM9901"], ["Demodorp"])


# --- run.json is strict JSON ----------------------------------------------------------------


def _strict_loads(text: str):
    def refuse(token):
        raise AssertionError(f"geen JSON: {token}")

    return json.loads(text, parse_constant=refuse)


def test_run_record_has_no_nan_or_infinity_tokens(tmp_path):
    import numpy as np

    path = tmp_path / "run.json"
    write_json(
        {
            "a": math.nan,
            "b": [math.inf, -math.inf, 1.5],
            "c": {"d": np.float64("nan"), "e": np.float32(2.0)},
        },
        path,
    )
    assert _strict_loads(path.read_text(encoding="utf-8")) == {
        "a": None,
        "b": [None, None, 1.5],
        "c": {"d": None, "e": 2.0},
    }


def test_run_json_of_a_real_run_is_strict(world):
    _score(world, standard_config())
    _strict_loads((world / "uit" / "run.json").read_text(encoding="utf-8"))


# --- current law: rule set 2.0.0 (issue 12) --------------------------------------------------

OLD_INSTRUMENTS = ("Wet geurhinder en veehouderij", "Wgv", "Omgevingsverordening Limburg 2014")
CURRENT_INSTRUMENTS = (
    "Besluit kwaliteit leefomgeving",
    "Bkl",
    "omgevingsplan",
    "POVI",
    "Beleid",
    "Meststoffenwet",
    "Integrale Aanpak",
    "Visie",
)
FIXTURE_1_0_0 = Path(__file__).parent / "data" / "rulesets" / "limburg-povi2021-1.0.0.toml"


def _sources(rs):
    yield from ((f"parameter {p.name}", p.source, p.confidence) for p in rs.parameters.values())
    yield from ((f"regel {r.id}", r.source, r.confidence) for r in rs.rules)


def test_default_rule_set_is_version_3_2():
    rs = read_ruleset_file()
    assert (rs.id, rs.version) == ("limburg-povi2021", "3.2.0")
    assert "Omgevingswet" in rs.description and "screeningsuitkomst" in rs.description


@pytest.mark.parametrize("name", RULESETS)
def test_no_reason_cites_a_repealed_instrument(name):
    rs = _parse(_raw(name))
    for rule in rs.rules:
        for stay, template in rule.reason.items():
            for old in OLD_INSTRUMENTS:
                assert old not in template, (rule.id, stay)
        for old in OLD_INSTRUMENTS:
            assert old not in rule.source_short, rule.id


@pytest.mark.parametrize("name", RULESETS)
def test_sources_name_the_instrument_in_force_first_and_the_old_one_as_history(name):
    rs = _parse(_raw(name))
    for what, source, confidence in _sources(rs):
        first_old = min((source.find(o) for o in OLD_INSTRUMENTS if o in source), default=-1)
        if first_old >= 0:
            before = source[:first_old]
            assert any(c in before for c in CURRENT_INSTRUMENTS), (what, source)
            assert (
                "Historie" in before or "historie" in before or "vervallen" in source[first_old:]
            ), (what, source)
        # an unverified citation never carries confidence H
        if "niet geverifieerd" in source:
            assert confidence != "H", what


def test_odour_norm_sources_cite_the_bkl_the_omgevingsplan_and_the_verified_wgv_letters():
    rs = read_ruleset_file()
    letters = {
        "geur_norm_kom_concentratie": "a",
        "geur_norm_buitengebied_concentratie": "b",
        "geur_norm_kom": "c",
        "geur_norm_buitengebied": "d",
    }
    for name, letter in letters.items():
        source = rs.parameters[name].source
        assert source.startswith("Besluit kwaliteit leefomgeving (Bkl)"), name
        assert "omgevingsplan" in source and "bruidsschat" in source, name
        assert (
            f"art. 3 lid 1 onder {letter}" in source and f"art. 6 lid 1 onder {letter}" in source
        ), name
        assert rs.parameters[name].confidence == "M"


def test_odour_reasons_read_as_a_screening_outcome():
    rs = read_ruleset_file()
    template = rs.rule("geur.knelpunt_geurgevoelig").reason["long_stay"]
    assert "voldoet niet aan de standaardwaarde" in template
    assert (
        "afwijken kan alleen via het omgevingsplan met een onderbouwd aanvaardbaar woon- en"
        " leefklimaat" in template
    )
    assert (
        "onderbouwd aanvaardbaar woon- en leefklimaat"
        in rs.rule("geur.knelpunt_logies").reason["short_stay"]
    )


def test_recreation_rule_rests_on_policy_and_names_the_expired_verordening_as_history():
    rule = read_ruleset_file().rule("recreatiepark")
    assert rule.source.startswith("Beleid: Uitvoeringsnotitie arbeidsmigratie")
    assert "rust op beleid" in rule.source
    assert (
        "Omgevingsverordening Limburg 2014 §2.5" in rule.source
        and "vervallen 31-12-2023" in rule.source
    )
    assert rule.confidence == "M"
    assert "verboden" not in rule.reason["mid_stay"]
    assert "ongewenst" in rule.reason["mid_stay"]


def test_draft_rule_set_updated_the_same_way():
    draft = read_ruleset_file(
        Path(
            str(
                resources.files("locatietoets.analysis")
                / "rulesets"
                / "limburg-povi2025-ontwerp.toml"
            )
        )
    )
    default = read_ruleset_file()
    assert draft.rule("recreatiepark").verdict["short_stay"] == "ongeschikt"
    assert draft.value("bbg_rand_m") == 150.0
    for name, param in default.parameters.items():
        assert draft.parameters[name].source == param.source, name
    for rule in default.rules:
        if rule.id != "recreatiepark":
            assert draft.rule(rule.id).source == rule.source, rule.id
            assert draft.rule(rule.id).reason == rule.reason, rule.id


def test_version_1_0_0_is_kept_as_a_fixture():
    old = read_ruleset_file(FIXTURE_1_0_0)
    assert (old.id, old.version) == ("limburg-povi2021", "1.0.0")
    assert "Wgv" in old.rule("geur.knelpunt_geurgevoelig").source_short


def test_regels_command_shows_3_2_0_with_current_sources(monkeypatch):
    from click.testing import CliRunner

    from locatietoets.scripts.cli import main

    monkeypatch.setenv("COLUMNS", "400")
    result = CliRunner().invoke(main, ["regels"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "versie 3.2.0" in out
    assert "Besluit kwaliteit leefomgeving (Bkl)" in out and "rust op beleid" in out
    assert "Bkl art. 5.91:" in out and "Omgevingsverordening Limburg art. 12.5" in out  # 3.2.0
    assert "0,1 – 14" in out  # the range of geur_norm_kom_concentratie
    # the constraint rules with the articles they rest on (issue 16)
    for rule_id in ("plaatsgebonden_risico.woonfunctie", "geluid.logies", "natura2000.signaal"):
        assert rule_id in out, rule_id
    assert "Bkl art. 5.78t" in out and "Bkl art. 8.74b" in out and "Bkl art. 5.7:" in out


def test_misspelt_gemeente_is_reported_together_with_other_problems(world):
    text = (
        standard_config().replace('pad = "bbg.gpkg"', 'pad = "bbg_weg.gpkg"')
        + '\n[regels.gemeenten."Venrya"]\nbbg_rand_m = 1000\n'
    )
    with pytest.raises(Exception) as info:
        _score(world, text)
    message = str(info.value)
    assert "gemeente 'Venrya' komt niet voor" in message and "bbg_weg.gpkg" in message


def test_planning_commands_check_gemeente_keys_too(world):
    from click.testing import CliRunner

    from locatietoets.scripts.cli import main

    cfg = write_config(
        world, standard_config(regels={"gemeenten": {"Venrya": {"bbg_rand_m": 1000}}})
    )
    result = CliRunner().invoke(
        main,
        ["raster", str(cfg), "--cel", "500", "--out", str(world / "raster"), "--voortgang", "geen"],
    )
    assert result.exit_code == 2, result.output
    assert "Bedoelde u 'Venray'?" in " ".join(
        (result.output + (result.stderr if result.stderr_bytes is not None else "")).split()
    )


@pytest.mark.parametrize("value", [math.nan, math.inf, -1, 1e12])
def test_rule_penalty_not_finite_or_absurd_is_an_error(value):
    data = _raw()
    data["regel"][0]["strafpunten"] = value
    with pytest.raises(
        RuleSetError,
        match=re.escape(
            f"Regel '{data['regel'][0]['id']}': strafpunten voor short_stay moeten een getal van 0"
            " tot en met 100 zijn"
        ),
    ):
        _parse(data)


def test_sliding_penalty_not_finite_is_an_error():
    data = _raw()
    rule = next(r for r in data["regel"] if "glijdende_straf" in r)
    rule["glijdende_straf"]["punten"] = math.inf
    with pytest.raises(
        RuleSetError,
        match=re.escape(
            f"Regel '{rule['id']}': glijdende_straf 'punten' moet een getal van 0 tot en met 100"
            " zijn"
        ),
    ):
        _parse(data)
    rule["glijdende_straf"]["punten"] = 20
    rule["glijdende_straf"]["tot"] = math.nan
    with pytest.raises(
        RuleSetError, match="glijdende_straf 'tot' moet een getal of een parameternaam zijn"
    ):
        _parse(data)


# --- rule set 3.1.0: the law behind the constraint rules (issue 16) ---------------------------

FIXTURE_3_0_0 = Path(__file__).parent / "data" / "rulesets" / "limburg-povi2021-3.0.0.toml"
FIXTURE_3_1_0 = Path(__file__).parent / "data" / "rulesets" / "limburg-povi2021-3.1.0.toml"
CONSTRAINT_RULES = (
    "natura2000.binnen",
    "natura2000.signaal",
    "natuurnetwerk.binnen",
    "geluid.woonfunctie",
    "geluid.logies",
    "externe_veiligheid.woonfunctie",
    "externe_veiligheid.logies",
    "plaatsgebonden_risico.woonfunctie",
    "plaatsgebonden_risico.logies",
)


@pytest.mark.parametrize("name", RULESETS)
def test_constraint_rules_cite_an_article_and_the_date_consulted(name):
    rs = _parse(_raw(name))
    for rule_id in CONSTRAINT_RULES:
        rule = rs.rule(rule_id)
        assert re.search(r"\bart\. \d", rule.source), rule_id
        assert "geraadpleegd 2026-12-03" in rule.source.lower(), rule_id
    for pname in ("geluid_standaardwaarde_lden_db", "natura2000_signaal_m"):
        assert "geraadpleegd 2026-12-03" in rs.parameters[pname].source.lower(), pname


def test_noise_rules_rest_on_bkl_3_21_and_the_standard_values_of_table_5_78t():
    rs = read_ruleset_file()
    param = rs.parameters["geluid_standaardwaarde_lden_db"]
    # 50 dB: the lowest standaardwaarde (rijkswegen, provinciale wegen, industrieterreinen); 53 was
    # only that of gemeente- and waterschapswegen
    assert (param.value, param.confidence) == (50.0, "M")
    for text in (
        "tabel 5.78t",
        "rijkswegen en provinciale wegen 50 dB Lden",
        "gemeentewegen en waterschapswegen 53 dB Lden",
        "spoorwegen 55 dB Lden",
        "industrieterreinen 50 dB Lden en 40 dB Lnight",
    ):
        assert text in param.source, text
    home, lodging = rs.rule("geluid.woonfunctie"), rs.rule("geluid.logies")
    assert home.source.startswith("Bkl art. 3.21 lid 1") and "5.78t" in home.source
    assert lodging.source.startswith("Bkl art. 3.21 lid 1") and "logiesfunctie" in lodging.source
    assert (home.confidence, lodging.confidence) == ("H", "H")
    assert (home.verdict["long_stay"], lodging.verdict["short_stay"]) == (
        "voorwaardelijk",
        "geschikt",
    )
    reason = lodging.reason["short_stay"]
    assert "geen geluidgevoelig gebouw" in reason and "woonfunctie en wel geluidgevoelig" in reason


def test_external_safety_separates_aandachtsgebieden_from_the_pr_contour():
    rs = read_ruleset_file()
    # an aandachtsgebied is no ban: voorwaardelijk for both housing forms (was ongeschikt for a
    # woonfunctie in 3.0.0)
    for rule_id in ("externe_veiligheid.woonfunctie", "externe_veiligheid.logies"):
        rule = rs.rule(rule_id)
        assert rule.layer.layer == "externe_veiligheid"
        assert set(rule.verdict.values()) == {"voorwaardelijk"}, rule_id
        assert "art. 5.15" in rule.source and "art. 5.14" in rule.source, rule_id
    # the PR 10-6 contour is a grenswaarde for kwetsbare gebouwen (Bkl art. 5.7)
    home = rs.rule("plaatsgebonden_risico.woonfunctie")
    assert home.layer.layer == "plaatsgebonden_risico"
    assert set(home.verdict.values()) == {"ongeschikt"}
    assert home.source.startswith("Bkl art. 5.7:")
    lodging = rs.rule("plaatsgebonden_risico.logies")
    assert set(lodging.verdict.values()) == {"voorwaardelijk"} and lodging.confidence == "L"
    assert "meer dan 50 personen" in lodging.reason["short_stay"]
    assert rs.constraint_layers()[-2:] == ("externe_veiligheid", "plaatsgebonden_risico")


def test_nature_rules_cite_the_law_in_force():
    rs = read_ruleset_file()
    inside = rs.rule("natura2000.binnen")
    assert inside.source.startswith("Bkl art. 8.74b lid 1") and inside.confidence == "M"
    assert "screeningsaanname" in inside.source
    signal = rs.rule("natura2000.signaal")
    assert signal.source.startswith("Geen wettelijke afstand") and signal.confidence == "L"
    assert "vuistregel" in signal.reason["long_stay"]
    assert "Aanname" in rs.parameters["natura2000_signaal_m"].source
    network = rs.rule("natuurnetwerk.binnen")
    assert network.source.startswith("Omgevingsverordening Limburg (")
    assert "CVDR705183" in network.source and "Bkl art. 7.8" in network.source
    assert "Historie: Omgevingsverordening Limburg 2014 §2.6" in network.source
    assert "vervallen 31-12-2023" in network.source and network.confidence == "M"


def test_version_3_0_0_is_kept_as_a_fixture():
    old = read_ruleset_file(FIXTURE_3_0_0)
    assert (old.id, old.version) == ("limburg-povi2021", "3.0.0")
    assert old.value("geluid_standaardwaarde_lden_db") == 53.0
    assert old.rule("externe_veiligheid.woonfunctie").verdict["long_stay"] == "ongeschikt"


def test_vergelijk_3_0_0_and_3_1_0_shows_the_changed_verdicts(tmp_path):
    from click.testing import CliRunner
    from test_constraints import _builtin_world

    from locatietoets.scripts.cli import main

    rows = [
        ("ev_long", "long_stay", None, Point(206_250, 380_250)),
        ("pr_long", "long_stay", None, Point(210_250, 380_250)),
        ("geluid_51", "long_stay", None, Point(208_250, 382_250)),
        ("stil_long", "long_stay", None, Point(208_250, 381_250)),
    ]
    base = _builtin_world(tmp_path, rows)  # one world, two configs: same input files
    cfg_a, cfg_b = (
        write_config(
            tmp_path,
            base.read_text(encoding="utf-8") + f'\n[regels]\nbestand = "{fixture.as_posix()}"\n',
            name,
        )
        for fixture, name in ((FIXTURE_3_0_0, "oud.toml"), (FIXTURE_3_1_0, "nieuw.toml"))
    )
    runs = {"a": tmp_path / "uit_a", "b": tmp_path / "uit_b"}
    for cfg, out in ((cfg_a, runs["a"]), (cfg_b, runs["b"])):
        res = CliRunner().invoke(
            main, ["score", str(cfg), "--out", str(out), "--voortgang", "geen"]
        )
        assert res.exit_code == 0, res.output
    res = CliRunner().invoke(
        main,
        ["vergelijk", str(runs["a"]), str(runs["b"]), "--out", str(tmp_path / "v")]
        + ["--voortgang", "geen"],
    )
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "v" / "vergelijking.json").read_text(encoding="utf-8"))
    assert (summary["run_a"]["regelset"]["versie"], summary["run_b"]["regelset"]["versie"]) == (
        "3.0.0",
        "3.1.0",
    )
    changed = {(r["regel"], r["wat"], r["a"], r["b"]) for r in summary["regels"]}
    assert (
        "externe_veiligheid.woonfunctie",
        "oordeel long-stay",
        "ongeschikt",
        "voorwaardelijk",
    ) in changed
    assert ("plaatsgebonden_risico.woonfunctie", "regel", "ontbreekt", "aanwezig") in changed
    out_a = read_output(runs["a"]).set_index("id")
    out_b = read_output(runs["b"]).set_index("id")
    assert out_a["oordeel"].to_dict() == {
        "ev_long": "ongeschikt",
        "pr_long": "geschikt",
        "geluid_51": "geschikt",
        "stil_long": "geschikt",
    }
    assert out_b["oordeel"].to_dict() == {
        "ev_long": "voorwaardelijk",
        "pr_long": "ongeschikt",
        "geluid_51": "voorwaardelijk",
        "stil_long": "geschikt",
    }


# --- rule set 3.2.0: the law behind odour, recreation parks, business plots and the erf -------

ODOUR_PARAMETERS = {
    "geur_norm_kom": 2.0,
    "geur_norm_buitengebied": 8.0,
    "geur_norm_kom_concentratie": 3.0,
    "geur_norm_buitengebied_concentratie": 14.0,
    "afstand_emissiepunt_kom_m": 100.0,
    "afstand_emissiepunt_buitengebied_m": 50.0,
    "afstand_gevel_kom_m": 50.0,
    "afstand_gevel_buitengebied_m": 25.0,
}


@pytest.mark.parametrize("name", RULESETS)
def test_odour_sources_cite_the_verified_bkl_articles_and_say_what_was_not_read(name):
    rs = _parse(_raw(name))
    for pname, value in ODOUR_PARAMETERS.items():
        param = rs.parameters[pname]
        # the law asked for no other value: the same as in 3.1.0
        assert (param.value, param.confidence) == (value, "M"), pname
        assert "rond Bkl art. 5.106a" not in param.source, pname
        assert "geraadpleegd 2026-12-03" in param.source, pname
        # art. 5.93 read in full; the article holding the value itself not
        assert "Bkl art. 5.93 (artikeltekst gelezen" in param.source, pname
        assert "Niet geverifieerd: het artikel met deze" in param.source, pname
    for rule_id in ("geur.knelpunt_geurgevoelig", "geur.onzeker"):
        assert "art. 5.93" in rs.rule(rule_id).source, rule_id
    # art. 5.93 lid 1 onder b: for a new building the values hold where a facade may come, the
    # ground for judging a polygon site by its free part
    assert "art. 5.93 lid 1 onder b" in rs.rule("geur.knelpunt_geurgevoelig").source
    assert rs.rule("geur.knelpunt_geurgevoelig").source_short == (
        "Bkl art. 5.91 en art. 5.93; omgevingsplan"
    )


def test_lodging_is_odour_sensitive_only_where_the_omgevingsplan_says_so():
    rs = read_ruleset_file()
    param = rs.parameters["logies_geurgevoelig"]
    assert param.value is False and param.confidence == "M"
    assert param.source.startswith("Bkl art. 5.91:") and "geraadpleegd 2026-12-03" in param.source
    # the Venray ruling applied the old notion of a geurgevoelig object
    assert "onder het Bkl een aanwijzing voor de afweging, geen regel" in param.source
    rule = rs.rule("geur.knelpunt_logies")
    assert set(rule.verdict.values()) == {"voorwaardelijk"}
    assert rule.source.startswith("Bkl art. 5.91:")
    reason = rule.reason["short_stay"]
    assert "het omgevingsplan kan logies als geurgevoelig aanwijzen" in reason
    assert "onder het oude recht" in reason


def test_recreation_rule_dates_its_policy_and_the_expired_exception():
    rule = read_ruleset_file().rule("recreatiepark")
    assert "omstreeks 2013" in rule.source and "meer dan tien jaar oud" in rule.source
    assert "CVDR705183" in rule.source and "niet gevonden" in rule.source
    assert "art. 2.5.2 verbod wonen in recreatieverblijven" in rule.source
    assert rule.verdict == {
        "short_stay": "voorwaardelijk",
        "mid_stay": "ongeschikt",
        "long_stay": "ongeschikt",
    }
    assert "provinciale uitzondering tot 2024" in rule.reason["short_stay"]


def test_erf_rules_read_seed_003_as_a_question_not_a_permission():
    rs = read_ruleset_file()
    for rule_id in ("erf.toegestaan", "erf.voorwaardelijk", "erf.niet", "erf.buiten_bbg"):
        assert "omstreeks 2013" in rs.rule(rule_id).source, rule_id
        assert rs.rule(rule_id).confidence == ("M" if rule_id == "erf.buiten_bbg" else "L")
    assert "vraagstuk, geen regel" in rs.rule("erf.voorwaardelijk").source
    away = rs.rule("erf.buiten_bbg")
    assert away.source.startswith("POVI 2021:") and "niet als toestemming" in away.source
    assert (away.verdict["mid_stay"], away.verdict["long_stay"]) == ("ongeschikt", "ongeschikt")
    assert rs.parameters["erf_max_m"].value == 100.0
    assert rs.parameters["erf_max_m"].source.startswith("Aanname van de Locatietoets.")


def test_business_plot_limit_rests_on_omgevingsverordening_article_12_5():
    rs = read_ruleset_file()
    param = rs.parameters["bedrijf_max_uitbreiding_ha"]
    assert (param.value, param.confidence) == (5.0, "M")  # was L in 3.1.0
    assert param.source.startswith("Omgevingsverordening Limburg art. 12.5")
    assert "regionale meerwaarde" in param.source and "geraadpleegd 2026-12-03" in param.source
    assert "bedrijfskavel" in param.description
    assert "art. 12.5" in rs.rule("bedrijventerrein").source
    for pname in ("max_personen_locatie", "max_aandeel_kern"):
        assert rs.parameters[pname].source.startswith("Aanname van de Locatietoets")
        assert rs.parameters[pname].confidence == "L"


def test_version_3_1_0_is_kept_as_a_fixture():
    old = read_ruleset_file(FIXTURE_3_1_0)
    assert (old.id, old.version) == ("limburg-povi2021", "3.1.0")
    assert "rond Bkl art. 5.106a" in old.parameters["geur_norm_kom"].source
    assert old.parameters["bedrijf_max_uitbreiding_ha"].confidence == "L"


def test_vergelijk_3_1_0_and_3_2_0_changes_sources_and_reasons_not_verdicts(world):
    from click.testing import CliRunner

    from locatietoets.scripts.cli import main

    base = standard_config()
    cfg_a = write_config(
        world, base + f'\n[regels]\nbestand = "{FIXTURE_3_1_0.as_posix()}"\n', "oud.toml"
    )
    cfg_b = write_config(world, base, "nieuw.toml")
    runs = {"a": world / "uit_a", "b": world / "uit_b"}
    for cfg, out in ((cfg_a, runs["a"]), (cfg_b, runs["b"])):
        res = CliRunner().invoke(
            main, ["score", str(cfg), "--out", str(out), "--voortgang", "geen"]
        )
        assert res.exit_code == 0, res.output
    res = CliRunner().invoke(
        main,
        ["vergelijk", str(runs["a"]), str(runs["b"]), "--out", str(world / "v")]
        + ["--voortgang", "geen"],
    )
    assert res.exit_code == 0, res.output
    summary = json.loads((world / "v" / "vergelijking.json").read_text(encoding="utf-8"))
    assert (summary["run_a"]["regelset"]["versie"], summary["run_b"]["regelset"]["versie"]) == (
        "3.1.0",
        "3.2.0",
    )
    changed = {(r["regel"], r["wat"]) for r in summary["regels"]}
    assert {
        ("geur.knelpunt_geurgevoelig", "bron"),
        ("geur.knelpunt_geurgevoelig", "bron kort"),
        ("geur.knelpunt_logies", "reden short-stay"),
        ("recreatiepark", "bron"),
        ("recreatiepark", "reden short-stay"),
        ("erf.buiten_bbg", "bron"),
    } <= changed
    # the law asked for no other verdict, penalty or value
    assert not [w for _, w in changed if w.startswith(("oordeel", "strafpunten", "regel"))]
    assert not summary["parameters"]
    out_a = read_output(runs["a"]).set_index("id")
    out_b = read_output(runs["b"]).set_index("id")
    assert len(out_a) > 0
    assert out_a["oordeel"].to_dict() == out_b["oordeel"].to_dict()
    assert out_a["score"].to_dict() == out_b["score"].to_dict()
