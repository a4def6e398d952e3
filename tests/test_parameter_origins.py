"""Every effective parameter carries its origin; vergelijk names what a config override hides (issue
13).

The demo config sets ``bbg_rand_m = 250``; the draft rule set says 150. Scored
with the draft, the run uses 250 anyway, and a comparison with the default
rule set must say that the config masks this difference instead of
reporting "geen verschillen in parameters".
"""

from __future__ import annotations

from importlib import resources
import json
from pathlib import Path
import tomllib

from click.testing import CliRunner
from fixtures import build_world, standard_config, write_config
import pandas as pd

from locatietoets.analysis.planning.comparison import compare_runs
from locatietoets.analysis.ruleset_parse import parse_ruleset
from locatietoets.analysis.verdict import EVALUATORS, REASON_FIELDS
from locatietoets.layers.io.rules import read_ruleset_file
from locatietoets.scripts.cli import main

STAYS = ("short_stay", "mid_stay", "long_stay")
RULESETS = Path(str(resources.files("locatietoets.analysis") / "rulesets"))
DRAFT = RULESETS / "limburg-povi2025-ontwerp.toml"
OLD = Path(__file__).parent / "data" / "rulesets" / "limburg-povi2021-1.0.0.toml"


def _record(ruleset) -> dict:
    return {"regelset": ruleset.record(), "invoer": {"locaties": {"sha256": "zelfde"}}}


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "locatie_id": ["p1"],
            **{f"oordeel_{s}": ["geschikt"] for s in STAYS},
            **{f"regels_{s}": [""] for s in STAYS},
        }
    )


def _compare(rs_a, rs_b):
    return compare_runs(_frame(), _frame(), record_a=_record(rs_a), record_b=_record(rs_b))


# --- origins in the run record ---------------------------------------------------------------


def test_every_parameter_has_its_origin():
    rs = read_ruleset_file().with_overrides(
        {"bbg_rand_m": 300},
        {"Venray": {"bbg_rand_m": 400}, "GM0983": {"geur_norm_kom_concentratie": 5}},
    )
    record = rs.record()
    origins = record["parameters_herkomst"]
    assert set(origins) == set(rs.parameters)
    assert origins["bbg_rand_m"] == {
        "waarde": 300.0,
        "eenheid": "m",
        "min": 0.0,
        "max": 5000.0,
        "herkomst": "config",
        "regelset_waarde": 250.0,
    }
    assert (
        origins["max_termijn_jaar"]["herkomst"] == "regelset"
        and origins["max_termijn_jaar"]["regelset_waarde"] == 10.0
    )
    gem = record["gemeente_parameters"]
    assert gem["GM0984"] == {
        "naam": "Venray",
        "parameters": {
            "concentratiegebied": {"waarde": True, "herkomst": "regelset-gemeente"},
            "bbg_rand_m": {"waarde": 400.0, "herkomst": "config-gemeente"},
        },
    }
    assert gem["GM0983"]["parameters"]["geur_norm_kom_concentratie"] == {
        "waarde": 5.0,
        "herkomst": "config-gemeente",
    }
    json.dumps(record, allow_nan=False)


def test_province_wide_config_value_replaces_the_rule_sets_gemeente_values_and_says_so():
    rs = read_ruleset_file().with_overrides({"concentratiegebied": False})
    record = rs.record()
    assert record["parameters_herkomst"]["concentratiegebied"]["herkomst"] == "config"
    assert all(
        "concentratiegebied" not in g["parameters"] for g in record["gemeente_parameters"].values()
    )
    # what the rule set itself says per gemeente stays in the record
    assert record["regelset_gemeente_waarden"]["GM0984"] == {
        "naam": "Venray",
        "parameters": {"concentratiegebied": True},
    }


def test_run_summary_and_run_json_show_origins(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    build_world(tmp_path)
    cfg = write_config(
        tmp_path,
        standard_config(
            regels={"bbg_rand_m": 300, "gemeenten": {"Venray": {"max_termijn_jaar": 5}}}
        ),
    )
    res = CliRunner().invoke(
        main, ["score", str(cfg), "--out", str(tmp_path / "uit"), "--voortgang", "balk"]
    )
    assert res.exit_code == 0, res.output
    out = res.output
    row = next(line for line in out.splitlines() if "bbg_rand_m" in line)
    assert "300" in row and "configuratie (regelset: 250)" in row
    row = next(line for line in out.splitlines() if "Venray" in line)
    assert "5" in row and "configuratie, gemeente" in row
    assert "geur_norm_kom_concentratie" in out and "regelset" in out
    run = json.loads((tmp_path / "uit" / "run.json").read_text(encoding="utf-8"))
    assert run["regelset"]["parameters_herkomst"]["bbg_rand_m"]["herkomst"] == "config"
    assert run["regelset"]["gemeente_parameters"]["GM0984"]["parameters"]["max_termijn_jaar"] == {
        "waarde": 5.0,
        "herkomst": "config-gemeente",
    }


# --- vergelijk: what a config override masks -------------------------------------------------


def test_config_in_both_runs_masks_the_rule_set_difference():
    a = read_ruleset_file().with_overrides({"bbg_rand_m": 250})
    b = read_ruleset_file(DRAFT).with_overrides({"bbg_rand_m": 250})
    comp = _compare(a, b)
    assert comp.parameters.empty  # the values used are equal ...
    masked = comp.masked.to_dict(orient="records")
    assert masked == [
        {
            "parameter": "bbg_rand_m",
            "gemeente": "",
            "regelset_a": "250",
            "regelset_b": "150",
            "waarde_a": "250",
            "waarde_b": "250",
            "herkomst_a": "config",
            "herkomst_b": "config",
            "toelichting": masked[0]["toelichting"],
        }
    ]
    assert (
        masked[0]["toelichting"]
        == "Parameter 'bbg_rand_m': regelset A zegt 250, regelset B 150, maar de configuratie zet"
        " in beide runs 250: het verschil tussen de regelsets is gemaskeerd en in deze"
        " vergelijking niet getoetst."
    )
    assert masked[0]["toelichting"] in comp.notes  # ... and the summary says what was not tested
    assert not any("alleen in per-gemeente waarden" in n for n in comp.notes)


def test_config_in_one_run_only():
    a = read_ruleset_file()
    b = read_ruleset_file(DRAFT).with_overrides({"bbg_rand_m": 250})
    comp = _compare(a, b)
    assert comp.parameters.empty
    assert comp.masked.iloc[0]["toelichting"].endswith(
        "maar de configuratie van run B zet 250: het verschil tussen de regelsets is gemaskeerd en"
        " in deze vergelijking niet getoetst."
    )


def test_config_that_changes_the_outcome_of_a_rule_set_difference():
    a = read_ruleset_file()
    b = read_ruleset_file(DRAFT).with_overrides({"bbg_rand_m": 400})
    comp = _compare(a, b)
    assert comp.parameters.to_dict(orient="records") == [
        {
            "parameter": "bbg_rand_m",
            "waarde_a": "250",
            "waarde_b": "400",
            "herkomst_a": "regelset",
            "herkomst_b": "config",
        }
    ]
    assert (
        "de configuratie van run B overschrijft dit (A gebruikt 250, B 400)"
        in comp.masked.iloc[0]["toelichting"]
    )


def test_no_config_no_masking():
    comp = _compare(read_ruleset_file(), read_ruleset_file(DRAFT))
    assert comp.masked.empty
    assert comp.parameters.to_dict(orient="records") == [
        {
            "parameter": "bbg_rand_m",
            "waarde_a": "250",
            "waarde_b": "150",
            "herkomst_a": "regelset",
            "herkomst_b": "regelset",
        }
    ]


def test_config_masks_a_per_gemeente_difference_between_rule_sets():
    data = tomllib.loads(DRAFT.read_text(encoding="utf-8"))
    data["gemeenten"]["GM0984"]["concentratiegebied"] = (
        False  # the draft takes Venray out of the concentration area
    )
    draft = parse_ruleset(
        data, origin="ontwerp", known_rules=EVALUATORS, known_fields=REASON_FIELDS
    )
    comp = _compare(
        read_ruleset_file().with_overrides({"concentratiegebied": True}),
        draft.with_overrides({"concentratiegebied": True}),
    )
    row = comp.masked[comp.masked["gemeente"] != ""].iloc[0]
    assert (row["parameter"], row["gemeente"], row["regelset_a"], row["regelset_b"]) == (
        "concentratiegebied",
        "Venray (GM0984)",
        "ja",  # was "True"/"False": the Python repr reached the comparison's tables
        "nee",
    )
    assert (row["herkomst_a"], row["herkomst_b"]) == ("config", "config")
    # a config value per gemeente masks it too
    comp = _compare(
        read_ruleset_file(), draft.with_overrides({}, {"Venray": {"concentratiegebied": True}})
    )
    row = comp.masked.iloc[0]
    assert (row["gemeente"], row["herkomst_a"], row["herkomst_b"]) == (
        "Venray (GM0984)",
        "regelset-gemeente",
        "config-gemeente",
    )


def test_vergelijk_old_and_new_default_rule_set_shows_changed_sources_and_reasons():
    comp = _compare(read_ruleset_file(OLD), read_ruleset_file())
    assert comp.masked.empty  # no config in either run
    rules = comp.rules
    changed = set(zip(rules["regel"], rules["wat"]))
    assert ("geur.knelpunt_geurgevoelig", "bron") in changed and (
        "geur.knelpunt_geurgevoelig",
        "bron kort",
    ) in changed
    assert ("recreatiepark", "bron") in changed and ("recreatiepark", "reden mid-stay") in changed
    assert (
        "geur.knelpunt_geurgevoelig",
        "betrouwbaarheid",
    ) in changed  # H -> M: article numbers unverified
    row = rules[(rules["regel"] == "recreatiepark") & (rules["wat"] == "bron")].iloc[0]
    assert "Omgevingsverordening Limburg 2014 §2.5" in row["a"] and "rust op beleid" in row["b"]


def test_vergelijk_command_names_the_masked_parameter(tmp_path, monkeypatch):
    """Issue 13's case end to end: one config (bbg_rand_m = 250) scored with the default and the
    draft rule set."""
    monkeypatch.setenv("COLUMNS", "250")
    build_world(tmp_path)
    cfg_a = write_config(tmp_path, standard_config(regels={"bbg_rand_m": 250}), "a.toml")
    cfg_b = write_config(
        tmp_path, standard_config(regels={"bbg_rand_m": 250, "bestand": DRAFT}), "b.toml"
    )
    for cfg, out in ((cfg_a, "run_a"), (cfg_b, "run_b")):
        res = CliRunner().invoke(
            main, ["score", str(cfg), "--out", str(tmp_path / out), "--voortgang", "geen"]
        )
        assert res.exit_code == 0, res.output
    res = CliRunner().invoke(
        main,
        [
            "vergelijk",
            str(tmp_path / "run_a"),
            str(tmp_path / "run_b"),
            "--out",
            str(tmp_path / "v"),
        ],
    )
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert (
        "Parameter 'bbg_rand_m': regelset A zegt 250, regelset B 150, maar de configuratie zet in"
        " beide runs 250" in text
    )
    assert "Geen verschillen in parameters" not in text
    summary = json.loads((tmp_path / "v" / "vergelijking.json").read_text(encoding="utf-8"))
    assert [m["parameter"] for m in summary["gemaskeerde_parameters"]] == ["bbg_rand_m"]
    assert any("regelset B 150" in n for n in summary["opmerkingen"])
    html = (tmp_path / "v" / "vergelijking.html").read_text(encoding="utf-8")
    assert "maskeert" in html and "Geen verschillen in parameters." not in html


def test_vergelijk_command_old_and_new_rule_set(tmp_path):
    """The 1.0.0 fixture still scores, and vergelijk 1.0.0 → 3.2.0 names the new sources and
    reasons."""
    build_world(tmp_path)
    cfg_a = write_config(tmp_path, standard_config(regels={"bestand": OLD}), "oud.toml")
    cfg_b = write_config(tmp_path, standard_config(), "nieuw.toml")
    for cfg, out in ((cfg_a, "run_oud"), (cfg_b, "run_nieuw")):
        res = CliRunner().invoke(
            main, ["score", str(cfg), "--out", str(tmp_path / out), "--voortgang", "geen"]
        )
        assert res.exit_code == 0, res.output
    res = CliRunner().invoke(
        main,
        [
            "vergelijk",
            str(tmp_path / "run_oud"),
            str(tmp_path / "run_nieuw"),
            "--out",
            str(tmp_path / "v"),
            "--voortgang",
            "geen",
        ],
    )
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "v" / "vergelijking.json").read_text(encoding="utf-8"))
    assert (summary["run_a"]["regelset"]["versie"], summary["run_b"]["regelset"]["versie"]) == (
        "1.0.0",
        "3.2.0",
    )
    changed = {(r["regel"], r["wat"]) for r in summary["regels"]}
    assert {
        ("geur.knelpunt_geurgevoelig", "bron"),
        ("recreatiepark", "bron"),
        ("recreatiepark", "reden mid-stay"),
    } <= changed
    old_source = next(
        r["a"]
        for r in summary["regels"]
        if r["regel"] == "geur.knelpunt_geurgevoelig" and r["wat"] == "bron"
    )
    assert "Wet geurhinder en veehouderij" in old_source
