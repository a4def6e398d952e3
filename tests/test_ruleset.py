"""The rule set: parsing, overrides, per-gemeente values, validation messages."""

from __future__ import annotations

import copy
from importlib import resources
import tomllib

import numpy as np
import pandas as pd
import pytest

from locatietoets.analysis.errors import RuleSetError
from locatietoets.analysis.ruleset import STAY_TYPES
from locatietoets.analysis.ruleset_parse import parse_ruleset
from locatietoets.analysis.verdict import EVALUATORS, REASON_FIELDS, facility_rule
from locatietoets.layers.io.rules import read_ruleset_file


@pytest.fixture(scope="module")
def raw() -> dict:
    text = (
        resources.files("locatietoets.analysis") / "rulesets" / "limburg-povi2021.toml"
    ).read_text(encoding="utf-8")
    return tomllib.loads(text)


def parse(data: dict):
    return parse_ruleset(data, origin="test", known_rules=EVALUATORS, known_fields=REASON_FIELDS)


def test_default_ruleset_encodes_the_brief():
    rs = read_ruleset_file()
    assert rs.id == "limburg-povi2021" and rs.version
    assert rs.value("bbg_rand_m") == 250.0
    assert rs.value("min_woonoppervlak_pp_m2") == 15.0
    assert (rs.value("geur_norm_kom"), rs.value("geur_norm_buitengebied")) == (2.0, 8.0)
    assert (
        rs.value("geur_norm_kom_concentratie"),
        rs.value("geur_norm_buitengebied_concentratie"),
    ) == (3.0, 14.0)
    assert rs.rule("bbg.buiten").verdict == {
        "short_stay": "voorwaardelijk",
        "mid_stay": "ongeschikt",
        "long_stay": "ongeschikt",
    }
    assert rs.rule("bbg.rand").verdict["long_stay"] == "voorwaardelijk"
    assert (
        rs.rule("bbg.rand").verdict["short_stay"] == "voorwaardelijk"
    )  # the rand is outside BBG (brief §2)
    for where in ("rand", "buiten"):
        assert rs.rule(f"bbg.{where}.tijdelijk").verdict == dict.fromkeys(
            ("short_stay", "mid_stay", "long_stay"), "voorwaardelijk"
        )
        for kind in ("permanent", "te_lang"):
            assert rs.rule(f"bbg.{where}.{kind}").verdict == dict.fromkeys(
                ("short_stay", "mid_stay", "long_stay"), "ongeschikt"
            )
    assert rs.rule("recreatiepark").verdict == {
        "short_stay": "voorwaardelijk",
        "mid_stay": "ongeschikt",
        "long_stay": "ongeschikt",
    }
    # every rule cites a source with a confidence
    for rule in rs.rules:
        assert rule.source and rule.confidence in ("H", "M", "L")
    # the 31 Limburg gemeenten, each with a region
    assert len(rs.gemeenten) == 31
    assert {g["regio"] for g in rs.gemeenten.values()} == {
        "Noord-Limburg",
        "Midden-Limburg",
        "Zuid-Limburg",
    }
    # every fixed evaluator has its rule; the rules on declared constraint layers need no
    # evaluator, the facility rules (voorziening.<soort>.*) are known by their pattern
    assert set(EVALUATORS) == {
        r.id for r in rs.rules if r.layer is None and facility_rule(r.id) is None
    }
    assert all(r.id in EVALUATORS for r in rs.rules if r.layer is None)
    assert rs.constraint_layers() == (
        "natura2000",
        "natuurnetwerk",
        "bedrijventerreinen",
        "geluid",
        "externe_veiligheid",
        "plaatsgebonden_risico",
    )


def test_overrides_and_per_gemeente_values():
    rs = read_ruleset_file().with_overrides(
        {"bbg_rand_m": 100}, {"Venlo": {"bbg_rand_m": 400}, "GM0984": {"concentratiegebied": False}}
    )
    codes = pd.Series(["GM0983", "GM0984", None, "GM0935"])
    names = pd.Series(["Venlo", "Venray", None, "Maastricht"])
    np.testing.assert_array_equal(rs.per_site("bbg_rand_m", codes, names), [400, 100, 100, 100])
    np.testing.assert_array_equal(
        rs.per_site("concentratiegebied", codes, names), [True, False, True, True]
    )
    # a table keyed by name also matches a site that only has the name
    np.testing.assert_array_equal(
        rs.per_site("bbg_rand_m", pd.Series([None]), pd.Series(["venlo"])), [400]
    )


def test_unknown_override_suggests_the_right_name():
    with pytest.raises(
        RuleSetError, match="Onbekende parameter 'bbg_rand'.*Bedoelde u 'bbg_rand_m'"
    ):
        read_ruleset_file().with_overrides({"bbg_rand": 100})


def test_wrong_type_override():
    with pytest.raises(RuleSetError, match="moet een getal zijn"):
        read_ruleset_file().with_overrides({"bbg_rand_m": "breed"})
    with pytest.raises(RuleSetError, match="true of false"):
        read_ruleset_file().with_overrides({"concentratiegebied": 1})


def test_invalid_ruleset_lists_every_problem(raw):
    data = copy.deepcopy(raw)
    data["regel"][0]["oordeel"] = {
        "short_stay": "prima",
        "mid_stay": "geschikt",
        "long_stay": "geschikt",
    }
    data["regel"][1]["id"] = "bbg.binnenkant"
    data["regel"][2]["reden"] = "Ligt op {parknaam}"
    with pytest.raises(RuleSetError) as info:
        parse(data)
    message = str(info.value)
    assert "3 problemen" in message
    assert "'prima'" in message and "geschikt, voorwaardelijk, ongeschikt" in message
    assert "bbg.binnenkant" in message
    assert "{parknaam}" in message


def test_inactive_rule_is_left_out(raw):
    data = copy.deepcopy(raw)
    data["regel"][0]["actief"] = False
    rs = parse(data)
    assert rs.rule(raw["regel"][0]["id"]) is None


def test_per_stay_tables_need_all_types_or_default(raw):
    data = copy.deepcopy(raw)
    data["regel"][0]["oordeel"] = {"short_stay": "geschikt"}
    with pytest.raises(RuleSetError, match="ontbreekt voor mid_stay, long_stay"):
        parse(data)
    data["regel"][0]["oordeel"] = {"standaard": "ongeschikt", "short_stay": "geschikt"}
    rule = parse(data).rules[0]
    assert [rule.verdict[s] for s in STAY_TYPES] == ["geschikt", "ongeschikt", "ongeschikt"]


def test_fingerprint_changes_with_parameters():
    rs = read_ruleset_file()
    assert rs.fingerprint() == read_ruleset_file().fingerprint()
    assert rs.fingerprint() != rs.with_overrides({"bbg_rand_m": 300}).fingerprint()


def test_config_value_beats_rule_set_per_gemeente_value():
    # the rule set lists concentratiegebied = true for every Limburg gemeente; a config value for
    # the whole province replaces those, and a config value per gemeente beats that again
    rs = read_ruleset_file().with_overrides(
        {"concentratiegebied": False}, {"GM0984": {"concentratiegebied": True}}
    )
    codes = pd.Series(["GM0983", "GM0984"])
    np.testing.assert_array_equal(
        rs.per_site("concentratiegebied", codes, pd.Series(["Venlo", "Venray"])), [False, True]
    )
