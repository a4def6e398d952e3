"""Verdicts per stay type, scores and reasons from measured fields."""

from __future__ import annotations

import numpy as np
import pandas as pd

from locatietoets.analysis.pipeline import DEFAULT_HOUSING_FORM
from locatietoets.analysis.ruleset import STAY_TYPES
from locatietoets.analysis.verdict import RuleContext, judge
from locatietoets.layers.io.rules import read_ruleset_file


def context(fields: dict, housing=None, **param_overrides):
    rs = read_ruleset_file()
    frame = pd.DataFrame(fields)
    n = len(frame)
    params = {
        name: np.full(n, p.value, dtype=bool if isinstance(p.value, bool) else float)
        for name, p in rs.parameters.items()
        if isinstance(p.value, (bool, int, float))
    }
    params["reistijd_max_min"] = np.full(n, 15.0)
    for k, v in param_overrides.items():
        params[k] = np.asarray(v)
    given = np.asarray(housing if housing is not None else [None] * n, dtype=object)
    forms = {
        s: np.where(pd.notna(given), given, DEFAULT_HOUSING_FORM[s]).astype(object)
        for s in STAY_TYPES
    }
    return RuleContext(fields=frame, params=params, housing_form=forms), rs


def test_bbg_verdicts_per_stay_type():
    ctx, rs = context(
        {
            "bbg_ligging": ["binnen", "rand", "buiten"],
            "bbg_afstand_m": [0.0, 120.0, 800.0],
            "bbg_rand_m": [250.0] * 3,
        }
    )
    out, summary = judge(ctx, rs, np.array(["long_stay", "long_stay", "short_stay"], dtype=object))
    assert out["oordeel_long_stay"].tolist() == ["geschikt", "voorwaardelijk", "ongeschikt"]
    # short-stay at the rand: voorwaardelijk (outside BBG, the rand included, only a temporary
    # exception; brief §2)
    assert out["oordeel_short_stay"].tolist() == ["geschikt", "voorwaardelijk", "voorwaardelijk"]
    assert out["oordeel"].tolist() == ["geschikt", "voorwaardelijk", "voorwaardelijk"]
    assert out["redenen"].iloc[0] == ""
    assert "120 m buiten de grens (rand tot 250 m)" in out["redenen"].iloc[1]
    assert "(POVI/Integrale Aanpak §3.3)" in out["redenen"].iloc[1]
    assert "ten hoogste 10 jaar" in out["redenen"].iloc[2]
    assert out["regels"].tolist() == ["", "bbg.rand", "bbg.buiten"]
    # short-stay buiten: 25 points + sliding (800-250)/(3000-250)*20 = 4 points
    assert out["score_short_stay"].iloc[2] == 71.0
    assert out["score"].iloc[0] == 100.0
    assert "geur.knelpunt_logies" in summary["regels_niet_getoetst"]


def test_odour_knelpunt_depends_on_housing_form_and_designation():
    fields = {
        "geur_knelpunt": [True, True, True],
        "geur_reden": ["Ligt in geurcontour 14,0 OUe/m³"] * 3,
        "geur_in_contour": [True] * 3,
        "geur_binnen_vaste_afstand": [False] * 3,
        "veehouderij": ["Hoeve"] * 3,
        "veehouderij_afstand_m": [300.0] * 3,
    }
    ctx, rs = context(
        fields, housing=["logies", "woonfunctie", None], logies_geurgevoelig=[False, False, True]
    )
    out, _ = judge(ctx, rs, np.array(["short_stay", "short_stay", "short_stay"], dtype=object))
    # logies -> voorwaardelijk; woonfunctie -> ongeschikt; logies designated odour-sensitive ->
    # ongeschikt
    assert out["oordeel_short_stay"].tolist() == ["voorwaardelijk", "ongeschikt", "ongeschikt"]
    # without a housing form, mid-stay defaults to woonfunctie
    assert out["oordeel_mid_stay"].tolist() == ["voorwaardelijk", "ongeschikt", "ongeschikt"]
    assert "Venray" in out["redenen"].iloc[0]
    assert "een woonfunctie is geurgevoelig" in out["redenen"].iloc[1]
    # the omgekeerde-werking warning is always added
    assert all("omgekeerde werking" in r for r in out["redenen"])


def test_housing_norm_violation_is_voorwaardelijk_with_capacity():
    fields = {
        "personen": [6.0, 2.0],
        "slaapkamers": [3.0, 2.0],
        "woonoppervlak_m2": [100.0, 20.0],
        "personen_per_slaapkamer": [2.0, 1.0],
        "woonoppervlak_pp_m2": [100 / 6, 10.0],
        "capaciteit_personen": [3.0, 1.0],
    }
    ctx, rs = context(fields)
    out, _ = judge(ctx, rs, np.array(["long_stay", "short_stay"], dtype=object))
    assert out["oordeel"].tolist() == ["voorwaardelijk", "voorwaardelijk"]
    assert "2,00 personen per slaapkamer (norm ten hoogste 1)" in out["redenen"].iloc[0]
    assert "capaciteit 3 personen" in out["redenen"].iloc[0]
    assert "10,0 m² leefoppervlakte per persoon (norm minstens 15 m²)" in out["redenen"].iloc[1]


def test_worst_verdict_wins_and_penalties_add_up():
    fields = {
        "bbg_ligging": ["rand"],
        "bbg_afstand_m": [100.0],
        "bbg_rand_m": [250.0],
        "recreatiepark": ["De Berken"],
    }
    ctx, rs = context(fields)
    out, _ = judge(ctx, rs, np.array(["short_stay"], dtype=object))
    assert out["oordeel_short_stay"].iloc[0] == "voorwaardelijk"
    assert out["oordeel_long_stay"].iloc[0] == "ongeschikt"
    assert out["score_short_stay"].iloc[0] == 100 - 5 - 25
    assert out["regels"].iloc[0] == "bbg.rand;recreatiepark"
    assert "recreatiepark 'De Berken'" in out["redenen"].iloc[0]


def test_partly_affected_polygon_is_voorwaardelijk_with_share_and_condition():
    # one rule for polygon sites: 40 % on a park -> voorwaardelijk, wholly (100 %, or >= 95 %) ->
    # the rule's verdict
    fields = {
        "recreatiepark": ["De Berken", "De Berken", "De Berken", None],
        "recreatiepark_aandeel": [0.4, 1.0, 0.96, 0.0],
    }
    ctx, rs = context(fields)
    out, _ = judge(ctx, rs, np.array(["long_stay"] * 4, dtype=object))
    assert out["oordeel_long_stay"].tolist() == [
        "voorwaardelijk",
        "ongeschikt",
        "ongeschikt",
        "geschikt",
    ]
    # points of a partly affected site scale with the share: 60 x 0.4 = 24
    assert out["score_long_stay"].tolist() == [76.0, 40.0, 40.0, 100.0]
    assert "Ligt voor 40 % op recreatiepark 'De Berken'" in out["redenen"].iloc[0]
    assert "bouw alleen op het deel buiten het park (60 % van de locatie)" in out["redenen"].iloc[0]
    assert "ongewenst" in out["redenen"].iloc[1]
    # vrij_aandeel: the share where no ongeschikt-rule applies for the own stay type
    assert out["vrij_aandeel"].tolist() == [0.6, 0.0, 0.0, 1.0]


def test_polygon_half_inside_bbg_is_deels():
    fields = {
        "bbg_ligging": ["deels", "binnen"],
        "bbg_afstand_m": [0.0, 0.0],
        "bbg_aandeel": [0.64, 1.0],
        "bbg_buiten_aandeel": [0.36, 0.0],
    }
    ctx, rs = context(fields)
    out, _ = judge(ctx, rs, np.array(["long_stay", "long_stay"], dtype=object))
    assert out["oordeel"].tolist() == ["voorwaardelijk", "geschikt"]
    assert out["regels"].tolist() == ["bbg.rand", ""]
    assert (
        "Ligt deels in het bestaand bebouwd gebied (64 % binnen, 36 % erbuiten)"
        in out["redenen"].iloc[0]
    )
    assert "bouw bij voorkeur alleen op het deel binnen BBG (64 %)" in out["redenen"].iloc[0]
    # the rand's 15 points for long-stay, times the 36 % outside
    assert out["score"].iloc[0] == round(100 - 15 * 0.36, 1)


def test_buiten_sliding_penalty_starts_at_the_sites_rand_width():
    # 800 m out: with rand 250 m (250..3000 m -> 20 points) 4 points; with rand 600 m (Venlo, say)
    # 200/2400*20
    fields = {"bbg_ligging": ["buiten", "buiten"], "bbg_afstand_m": [800.0, 800.0]}
    ctx, rs = context(fields, bbg_rand_m=[250.0, 600.0])
    out, _ = judge(ctx, rs, np.array(["short_stay", "short_stay"], dtype=object))
    assert out["score_short_stay"].tolist() == [
        100 - 25 - 4.0,
        round(100 - 25 - 200 / 2400 * 20, 1),
    ]
    assert "(rand tot 600 m)" in out["redenen"].iloc[1]


def _temporary_sites():
    # one site per (position, building): rand 100 m / buiten 800 m × tijdelijk 5 jaar, tijdelijk
    # zonder termijn,
    # tijdelijk 15 jaar (> max 10), permanent, onbekend
    rows = [
        (where, dist, temp, term)
        for where, dist in (("rand", 100.0), ("buiten", 800.0))
        for temp, term in (
            ("ja", 5.0),
            ("ja", np.nan),
            ("ja", 15.0),
            ("nee", np.nan),
            (None, np.nan),
        )
    ]
    terms = np.array([r[3] for r in rows])
    fields = {
        "bbg_ligging": [r[0] for r in rows],
        "bbg_afstand_m": [r[1] for r in rows],
        "tijdelijk_bouwwerk": [r[2] for r in rows],
        "termijn_jaar": terms,
        "termijn_tekst": (
            [
                "5 jaar",
                "een niet opgegeven termijn",
                "15 jaar",
                "een niet opgegeven termijn",
                "een niet opgegeven termijn",
            ]
            * 2
        ),
    }
    return fields


def test_bbg_verdict_table_over_stay_type_and_temporary_building():
    ctx, rs = context(_temporary_sites())
    out, _ = judge(ctx, rs, np.array(["long_stay"] * 10, dtype=object))
    V, O = "voorwaardelijk", "ongeschikt"  # noqa: E741
    # rand: temporary within the term (or term unknown) V; too long O; permanent O; unknown V (as
    # before)
    # buiten: the same, but unknown keeps short V / mid and long O
    assert out["oordeel_short_stay"].tolist() == [V, V, O, O, V, V, V, O, O, V]
    assert out["oordeel_mid_stay"].tolist() == [V, V, O, O, V, V, V, O, O, O]
    assert out["oordeel_long_stay"].tolist() == [V, V, O, O, V, V, V, O, O, O]
    assert out["regels"].tolist() == [
        "bbg.rand.tijdelijk",
        "bbg.rand.tijdelijk",
        "bbg.rand.te_lang",
        "bbg.rand.permanent",
        "bbg.rand",
        "bbg.buiten.tijdelijk",
        "bbg.buiten.tijdelijk",
        "bbg.buiten.te_lang",
        "bbg.buiten.permanent",
        "bbg.buiten",
    ]
    r = out["redenen"].tolist()
    assert (
        "tijdelijk bouwwerk voor 5 jaar: past alleen als tijdelijke flexibele woonvorm (ten hoogste"
        " 10 jaar)" in r[0]
    )
    assert "tijdelijk bouwwerk voor een niet opgegeven termijn" in r[1]
    assert "tijdelijk bouwwerk voor 15 jaar: langer dan de maximale termijn van 10 jaar" in r[2]
    assert (
        "een permanent bouwwerk buiten BBG past niet in het beleid" in r[3]
        and "aan de rand" in r[3]
    )
    assert "niet opgegeven of het een tijdelijk bouwwerk is" in r[4]
    assert "800 m van de grens" in r[8] and "permanent bouwwerk" in r[8]
    # rand differs from buiten in score: long-stay temporary 10 vs 30 points + sliding
    # (800-250)/(3000-250)*20 = 4
    assert (
        out["score_long_stay"].tolist()[0] == 90.0
        and out["score_long_stay"].tolist()[5] == 100 - 30 - 4.0
    )
    # an ongeschikt building leaves nothing free
    assert out["vrij_aandeel"].tolist() == [1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]


def test_term_limit_follows_the_parameter():
    fields = _temporary_sites()
    ctx, rs = context(fields, max_termijn_jaar=np.full(10, 20.0))
    out, _ = judge(ctx, rs, np.array(["short_stay"] * 10, dtype=object))
    assert out["regels"].iloc[2] == "bbg.rand.tijdelijk"  # 15 years within a 20-year maximum


def test_without_tijdelijk_field_the_temporary_rules_are_not_tested():
    ctx, rs = context({"bbg_ligging": ["rand"], "bbg_afstand_m": [100.0]})
    out, summary = judge(ctx, rs, np.array(["mid_stay"], dtype=object))
    assert out["regels"].iloc[0] == "bbg.rand" and out["oordeel"].iloc[0] == "voorwaardelijk"
    assert {"bbg.rand.tijdelijk", "bbg.buiten.permanent"} <= set(summary["regels_niet_getoetst"])


def test_deels_site_with_a_permanent_building_builds_only_inside():
    fields = {
        "bbg_ligging": ["deels", "deels"],
        "bbg_afstand_m": [0.0, 0.0],
        "bbg_aandeel": [0.64, 0.64],
        "bbg_buiten_aandeel": [0.36, 0.36],
        "tijdelijk_bouwwerk": ["nee", "ja"],
        "termijn_jaar": [np.nan, 5.0],
        "termijn_tekst": ["een niet opgegeven termijn", "5 jaar"],
    }
    ctx, rs = context(fields)
    out, _ = judge(ctx, rs, np.array(["long_stay", "long_stay"], dtype=object))
    assert out["oordeel"].tolist() == ["voorwaardelijk", "voorwaardelijk"]
    assert (
        "bouw alleen op het deel binnen BBG (64 %): een permanent bouwwerk buiten BBG past niet"
        in out["redenen"].iloc[0]
    )
    # the part outside BBG is not free for a permanent building; for a temporary one it is
    assert out["vrij_aandeel"].tolist() == [0.64, 1.0]
    assert out["score"].tolist() == [round(100 - 50 * 0.36, 1), round(100 - 10 * 0.36, 1)]


def test_rule_set_without_the_building_rules_falls_back_to_the_general_rule():
    # an older or user rule set without bbg.<rand|buiten>.<kind>: a site with tijdelijk_bouwwerk set
    # must
    # still get the general bbg.rand / bbg.buiten rule, never slip through as geschikt
    from dataclasses import replace

    ctx, rs = context(_temporary_sites())
    old = replace(
        rs, rules=tuple(r for r in rs.rules if r.id.count(".") < 2 or not r.id.startswith("bbg."))
    )
    out, _ = judge(ctx, old, np.array(["long_stay"] * 10, dtype=object))
    assert out["regels"].tolist() == ["bbg.rand"] * 5 + ["bbg.buiten"] * 5
    assert "geschikt" not in out["oordeel"].tolist()


def test_reasons_are_joined_per_site_in_rule_order_with_empty_sites_in_between():
    # the whole and the partial reason of one rule on different sites, sites of different stay
    # types, and sites without any reason between and after them
    fields = {
        "bbg_ligging": ["rand", "binnen", "binnen", "binnen", "rand"],
        "bbg_afstand_m": [100.0, 0.0, 0.0, 0.0, 40.0],
        "bbg_rand_m": [250.0] * 5,
        "recreatiepark": ["De Berken", None, "De Berken", None, None],
        "recreatiepark_aandeel": [1.0, 0.0, 0.4, 0.0, 0.0],
    }
    ctx, rs = context(fields)
    own = np.array(["long_stay", "short_stay", "long_stay", "mid_stay", "short_stay"], dtype=object)
    out, _ = judge(ctx, rs, own)
    park = (
        "Ligt op recreatiepark 'De Berken': mid- en long-stay op een recreatiepark is volgens"
        " provinciaal beleid ongewenst; wonen in een recreatieverblijf vraagt afwijking van het"
        " omgevingsplan (beleid: Uitvoeringsnotitie arbeidsmigratie; POVI 2021)"
    )
    first = out["redenen"].iloc[0]
    assert first.startswith("Ligt aan de rand van het bestaand bebouwd gebied: 100 m buiten")
    assert first.endswith("(POVI/Integrale Aanpak §3.3); " + park)
    assert first.count("; Ligt") == 1
    assert out["redenen"].iloc[2] == (
        "Ligt voor 40 % op recreatiepark 'De Berken'; bouw alleen op het deel buiten het park"
        " (60 % van de locatie) (beleid: Uitvoeringsnotitie arbeidsmigratie; POVI 2021)"
    )
    assert (
        out["redenen"].iloc[4].startswith("Ligt aan de rand van het bestaand bebouwd gebied: 40 m")
    )
    assert out["redenen"].iloc[[1, 3]].tolist() == ["", ""]
    assert out["regels"].tolist() == ["bbg.rand;recreatiepark", "", "recreatiepark", "", "bbg.rand"]


def test_rule_ids_joined_per_site_also_beyond_62_rules():
    from locatietoets.analysis.verdict import _join_flags

    rng = np.random.default_rng(3)
    n = 500
    # few rules fire often, so sites share combinations; rule 64 and 69 pass the 62-bit chunk
    flags = [
        (f"regel.{i}", rng.random(n) < (0.3 if i in (0, 5, 64, 69) else 0.002)) for i in range(70)
    ]
    out = _join_flags(flags, n, ";")
    expected = [";".join(rule for rule, flag in flags if flag[site]) for site in range(n)]
    assert out.tolist() == expected
    assert any("regel.64" in text and "regel.0" in text for text in expected)
    assert _join_flags([(rule, flag[:0]) for rule, flag in flags], 0, ";").tolist() == []


def test_odour_texts_become_arrow_text_fields_missing_without_geometry():
    from locatietoets.analysis.steps import _text_field

    # farm names of the 3 sites with geometry (of 5); one has no farm nearby
    names = np.array(["veehouderij 0001", None, "Stal ëé"], dtype=object)
    out = _text_field(names, np.array([0, 2, 3]), 5, pd.RangeIndex(5))
    assert isinstance(out.dtype, pd.StringDtype)
    assert out.tolist()[0] == "veehouderij 0001" and out.tolist()[3] == "Stal ëé"
    assert out.isna().tolist() == [False, True, True, False, True]
    # reasons use it as text: a missing name is empty
    ctx, rs = context(
        {
            "geur_in_contour": [True, False, True, True, False],
            "geur_binnen_vaste_afstand": [False] * 5,
            "veehouderij": out,
            "veehouderij_afstand_m": [12.0, np.nan, 30.0, 8.4, np.nan],
        }
    )
    result, _ = judge(ctx, rs, np.array(["long_stay"] * 5, dtype=object))
    assert "(dichtstbijzijnde: 'veehouderij 0001' op 12 m)" in result["redenen"].iloc[0]
    assert "(dichtstbijzijnde: '' op 30 m)" in result["redenen"].iloc[2]
    assert "(dichtstbijzijnde: 'Stal ëé' op 8 m)" in result["redenen"].iloc[3]
    # values that are not all text stay an object column, as they were
    mixed = _text_field(np.array(["a", 3], dtype=object), np.array([0, 1]), 2, pd.RangeIndex(2))
    assert mixed.dtype == object and mixed.tolist() == ["a", 3]


def test_run_state_put_spreads_columns_to_all_sites_and_replaces_in_place():
    import geopandas as gpd
    from shapely.geometry import Point

    from locatietoets.analysis.pipeline import _PLAN
    from locatietoets.analysis.steps import StepProgress, add_columns, start_run

    sites = gpd.GeoDataFrame(
        {"locatie_id": ["a", "b", "c", "d"], "verblijfstype": ["short_stay"] * 4},
        geometry=[Point(0, 0), None, Point(1, 1), Point(2, 2)],
    )
    run = start_run(sites, StepProgress(_PLAN, None, None))
    fields = run.fields
    frame = pd.DataFrame(
        {
            "naam": pd.array(["Ë", None, "C"], dtype=pd.StringDtype(na_value=np.nan)),
            "leeg": pd.array([None, None, None], dtype=pd.StringDtype(na_value=np.nan)),
            "tekst": np.array(["x", None, "z"], dtype=object),
            "aantal": np.array([3, 0, 7], dtype=np.int32),
            "afstand": [1.5, np.nan, 2.0],
            "binnen": [True, False, True],
            "_intern": [1, 2, 3],
        },
        index=run.geo.index,
    )
    run.put(frame)
    assert run.fields is fields  # steps keep a reference to the frame
    f = run.fields
    assert "_intern" not in f
    assert isinstance(f["naam"].dtype, pd.StringDtype)
    assert f["naam"].isna().tolist() == [False, True, True, False]
    assert f["naam"].iloc[0] == "Ë" and f["naam"].iloc[3] == "C"
    assert f["leeg"].isna().all() and f["tekst"].iloc[[0, 3]].tolist() == ["x", "z"]
    assert f["tekst"].isna().tolist() == [False, True, True, False]
    assert str(f["aantal"].dtype) == "Int64"
    assert f["aantal"].tolist() == [3, pd.NA, 0, 7]
    assert f["afstand"].iloc[[0, 2, 3]].tolist()[0] == 1.5 and np.isnan(f["afstand"].iloc[1])
    assert f["binnen"].tolist() == [True, False, False, True]
    # the same as one assignment per column, also for a column that exists (kept in its place)
    expected = f.copy()
    expected["afstand"] = np.arange(4.0)
    expected["nieuw"] = ["p", "q", "r", "s"]
    add_columns(
        f, {"afstand": np.arange(4.0), "nieuw": np.array(["p", "q", "r", "s"], dtype=object)}
    )
    pd.testing.assert_frame_equal(f, expected)


def test_run_fields_of_the_sites_and_the_own_housing_form():
    import geopandas as gpd
    from shapely.geometry import Point

    from locatietoets.analysis.pipeline import _PLAN
    from locatietoets.analysis.steps import StepProgress, housing_forms, start_run

    text = pd.StringDtype(na_value=np.nan)
    sites = gpd.GeoDataFrame(
        {
            "locatie_id": pd.array(["a", "b", "c", "d", "e"], dtype=text),
            "verblijfstype": pd.array(
                ["short_stay", "short_stay", "mid_stay", None, "long_stay"], dtype=text
            ),
            "huisvestingsvorm": pd.array(
                ["woonfunctie", None, "logies", "logies", None], dtype=text
            ),
            "geometrie_status": pd.array(["ok", "ok", "gerepareerd", None, "ok"], dtype=text),
        },
        geometry=[Point(0, 0), Point(1, 1), None, Point(2, 2), Point(3, 3)],
    )
    run = start_run(sites, StepProgress(_PLAN, None, None))
    housing_forms(run)
    f = run.fields
    assert f["locatie_id"].tolist() == ["a", "b", "c", "d", "e"]
    assert f["geometrie_status"].tolist()[:3] == ["ok", "ok", "geen geometrie"]
    assert pd.isna(f["geometrie_status"].iloc[3]) and f["geometrie_status"].iloc[4] == "ok"
    # short-stay: the input or logies; mid- and long-stay: always woonfunctie; no stay type: none
    forms = f["huisvestingsvorm"].tolist()
    assert forms[:3] == ["woonfunctie", "logies", "woonfunctie"]
    assert pd.isna(forms[3]) and forms[4] == "woonfunctie"
    assert all(isinstance(f[c].dtype, pd.StringDtype) for c in f.columns)
    assert run.housing_form["short_stay"].tolist()[:2] == ["woonfunctie", "logies"]
