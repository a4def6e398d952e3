"""The demo region, scored end to end: every rule the product explains shows up."""

from __future__ import annotations

import json

import numpy as np
import pyogrio
import pytest

from locatietoets.layers.io.config import load_config
from locatietoets.layers.worlds.demo import write_demo
from locatietoets.scripts.runner.score import run_config


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    config = load_config(write_demo(root, n_sites=3000))
    outcome = run_config(config, root / "uitvoer", network_cache_dir=root / "cache")
    sites = pyogrio.read_dataframe(root / "uitvoer" / "locaties.gpkg", layer="locaties")
    return outcome, sites


def test_demo_has_odour_knelpunten_of_both_kinds_inside_and_outside_the_kom(demo_run):
    outcome, sites = demo_run
    geur = outcome.record["stappen"]["geur"]
    assert geur["knelpunt_contour"] > 0 and geur["knelpunt_vaste_afstand"] > 0
    contour = sites["geur_reden"].str.contains("geurcontour", na=False)
    fixed = sites["geur_reden"].str.contains("Bkl, vaste afstand", na=False, regex=False)
    assert (contour & sites["bebouwde_kom"]).any() and (contour & ~sites["bebouwde_kom"]).any()
    assert (fixed & sites["bebouwde_kom"]).any() and (fixed & ~sites["bebouwde_kom"]).any()
    # the norm at each site is the one of its cell (kom x concentratiegebied, all demo gemeenten in
    # one)
    np.testing.assert_array_equal(sites.loc[sites["bebouwde_kom"], "geur_norm_oue"].unique(), [3.0])
    np.testing.assert_array_equal(
        sites.loc[
            ~sites["bebouwde_kom"] & sites["geur_norm_oue"].notna(), "geur_norm_oue"
        ].unique(),
        [14.0],
    )


def test_demo_odour_covers_every_farm_kind_and_undecidable_contours(demo_run):
    outcome, sites = demo_run
    reason = sites["geur_reden"].fillna("")
    # farms without, with and with unknown emission factor, a point farm with factor, an own
    # distance
    for phrase in (
        "met dieren zonder geuremissiefactor",
        "dierenverblijf van veehouderij",
        "omtrek van het dierenverblijf onbekend",
        "strengste vaste afstand",
        "binnen de eigen vaste afstand",
    ):
        assert reason.str.contains(phrase, regex=False).any(), phrase
    # undecidable contour pairs, inside and outside the kom: voorwaardelijk, never a knelpunt
    onzeker = sites["geur_onzeker"].astype(bool)
    assert outcome.record["stappen"]["geur"]["onzeker"] == onzeker.sum()
    assert (onzeker & sites["bebouwde_kom"]).sum() >= 3 and (
        onzeker & ~sites["bebouwde_kom"]
    ).sum() >= 3
    assert not (onzeker & sites["geur_knelpunt"]).any()
    assert (sites.loc[onzeker, "oordeel"] != "geschikt").all()
    assert sites.loc[onzeker, "redenen"].str.contains("laat een geurberekening maken").all()
    # parcels partly in a knelpunt: the share, and the condition in the reason
    share = sites["geur_knelpunt_aandeel"]
    partly = (share > 0) & (share < 0.95)
    assert partly.sum() >= 3
    assert sites.loc[partly, "redenen"].str.contains("situeer de", regex=False).all()


def test_demo_every_rule_fires_and_every_verdict_occurs(demo_run):
    outcome, sites = demo_run
    fired = outcome.record["regels_gevuurd"]
    # Issue 16: the demo has kernen, existing housing, facilities and nature, noise and safety
    # layers, and sites on their employer's yard in both gemeenten (GM9902 allows no short-stay
    # there, GM9901 keeps 'voorwaardelijk'): every rule fires except erf.toegestaan, the policy
    # neither demo gemeente has (two gemeenten, three policies).
    for rule, per_stay in fired.items():
        if rule != "erf.toegestaan":
            assert sum(per_stay.values()) > 0, f"regel {rule} komt niet voor in de demo"
    assert fired["erf.niet"]["short_stay"] > 0 and fired["erf.voorwaardelijk"]["short_stay"] > 0
    assert fired["erf.buiten_bbg"]["mid_stay"] > 0 and fired["erf.buiten_bbg"]["long_stay"] > 0
    assert outcome.record["regels_niet_getoetst"] == []
    for stay in ("short_stay", "mid_stay", "long_stay"):
        assert set(sites[f"oordeel_{stay}"].dropna()) == {
            "geschikt",
            "voorwaardelijk",
            "ongeschikt",
        }


def test_demo_reasons_of_concentration_and_facilities(demo_run):
    """A planner reads every kind of reason in the demo: concentration in a kern, a facility too
    far or out of reach, a nature, noise or safety zone, the employer's yard."""
    _, sites = demo_run
    reasons = sites["redenen"].fillna("")
    for phrase in (
        "besluit gemeenteraad nodig",  # concentratie.max_personen
        "arbeidsmigranten in kern 'Loonhorst' (920 inwoners)",  # concentratie.aandeel_kern
        "Dichtstbijzijnde ov-halte 'Bushalte",
        "Dichtstbijzijnde supermarkt 'Supermarkt",
        "Dichtstbijzijnde huisarts '",
        "Geen ov-halte bereikbaar over het wegennet",
        "Natura 2000-gebied 'Peelvenen (fictief Natura 2000-gebied)'",
        "Stikstofdepositie: voortoets nodig",
        "Geluidcontour provinciale wegen 58 dB",
        "Aandachtsgebied LPG-opslag",
        "plaatsgebonden-risicocontour 'PR 10-6 LPG-opslag",
        "Beekdal van de Loobeek",
        "de gemeente staat geen short-stay bij de werkgever toe",
    ):
        assert reasons.str.contains(phrase, regex=False).any(), phrase
    # the share in a kern by hand: existing housing of the kern plus the site's own capacity
    loonhorst = sites["kern"] == "Loonhorst"
    assert loonhorst.sum() >= 5
    expected = (40 + sites.loc[loonhorst, "capaciteit_personen"]) / 920
    assert np.allclose(sites.loc[loonhorst, "aandeel_arbeidsmigranten_kern"], expected)
    # the isolated buurtschap reaches no facility: a reason, never a distance of 0
    far = sites["voorziening_ov_halte_afstand_m"].isna()
    assert far.sum() >= 3
    assert reasons[far].str.contains("Geen ov-halte bereikbaar").all()


def test_demo_unreachable_sites_carry_a_reason(demo_run):
    _, sites = demo_run
    unreachable = sites["reis_onbereikbaar"].astype(bool)
    assert unreachable.sum() >= 3
    assert sites.loc[unreachable, "werkgever_afstand_m"].isna().all()
    assert sites.loc[unreachable, "redenen"].str.contains("Niet bereikbaar over het wegennet").all()
    # every reachable site has a network distance at least the straight-line snap distance
    reach = ~unreachable
    assert sites.loc[reach, "werkgever_afstand_m"].notna().all()
    assert (sites.loc[reach, "werkgever_afstand_m"] >= sites.loc[reach, "aansluitafstand_m"]).all()


def test_demo_run_record_is_complete(demo_run):
    outcome, _ = demo_run
    record = json.loads((outcome.out_dir / "run.json").read_text(encoding="utf-8"))
    assert record["regelset"]["id"] == "limburg-povi2021"
    assert set(record["invoer"]) >= {
        "locaties",
        "bebouwd_gebied",
        "geurcontouren",
        "veehouderijen",
        "wegennet",
    }
    assert all(len(v["sha256"]) == 64 for v in record["invoer"].values())
    assert record["wegennet"].startswith("wegennet:")


def test_network_mode_defaults_to_fiets_everywhere(tmp_path):
    """Without `modus` the network is prepared for cycling, and the thresholds and texts say cycling
    too."""
    config_path = write_demo(tmp_path, n_sites=300)
    text = config_path.read_text(encoding="utf-8").replace('modus = "fiets"\n', "")
    config_path.write_text(text, encoding="utf-8")
    outcome = run_config(
        load_config(config_path), tmp_path / "uitvoer", network_cache_dir=tmp_path / "cache"
    )
    sites = pyogrio.read_dataframe(tmp_path / "uitvoer" / "locaties.gpkg", layer="locaties")
    assert set(sites["reismodus"].dropna()) == {"fiets"}
    # the travel reasons (the facility reasons say "maximum ... m", a distance, not a mode)
    far = sites["redenen"].str.contains("werkgever '[^']*' ligt", na=False, regex=True)
    assert far.any() and sites.loc[far, "redenen"].str.contains("per fiets").all()
    assert outcome.record["invoer"]["wegennet"]["objecten"] > 0


def test_demo_data_trips_no_warning_of_its_own(demo_run):
    """The demo's fields are named apart from the result fields (a planner's own 'verblijfstype'
    still becomes 'verblijfstype_invoer' with a warning, see test_loud_input) and its mid- and
    long-stay sites never say logies: a run of the demo warns about nothing."""
    outcome, sites = demo_run
    assert outcome.record["waarschuwingen"] == []
    assert all(not r.get("waarschuwingen") for r in outcome.record["invoer"].values())
    assert not [c for c in sites.columns if c.endswith("_invoer")]
    assert {"beoogd_verblijfstype", "beoogde_huisvestingsvorm", "beoogde_werkgever"} <= set(
        sites.columns
    )
