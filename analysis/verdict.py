"""Verdicts, scores and reasons from the rule set.

Each rule id maps to an evaluator here: a vectorised condition on the
measured site fields (when the rule *fires*). What a fired rule *means* — the
verdict per stay type, the penalty, the Dutch reason and its source — comes
from the rule set, so a POVI revision changes data, not code.

Per stay type ``s``::

    oordeel_s = worst verdict of the rules that fire for s (geschikt if none)
    score_s   = clip(100 - sum(strafpunten_s + glijdende straf), 0, 100)

``redenen`` and ``regels`` describe the site's own stay type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
import logging
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from locatietoets.analysis.constraints import YARD_POLICIES
from locatietoets.analysis.errors import RuleSetError
from locatietoets.analysis.ruleset import (
    STAY_TYPES,
    VERDICTS,
    LayerRule,
    Rule,
    RuleSet,
    layer_share_field,
)
from locatietoets.analysis.texts import render_rows
from locatietoets.analysis.vocabulary import (
    CONCENTRATION_FIELDS,
    TRAVEL_FIELDS,
    facility_fields,
    nl_number,
)

__all__ = [
    "RuleContext",
    "EVALUATORS",
    "RULE_FIELDS",
    "REASON_FIELDS",
    "FACILITY_REASON_FIELDS",
    "facility_rule",
    "judge",
    "rule_fields",
]

log = logging.getLogger(__name__)


@dataclass
class RuleContext:
    """What evaluators see: measured fields and per-site parameters.

    Attributes
    ----------
    fields
        Measured site fields (``bbg_ligging``, ``geur_knelpunt``, ...) with a
        ``RangeIndex``; a field is absent when its analysis did not run.
    params
        Per-site parameter values (arrays of length n) by parameter name.
    housing_form
        Effective huisvestingsvorm per stay type (arrays of str).
    """

    fields: pd.DataFrame
    params: Mapping[str, np.ndarray]
    housing_form: Mapping[str, np.ndarray]
    #: ids of the rules in the rule set being applied (set by :func:`judge`)
    rule_ids: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        # each field is converted once, however many rules and stay types use it
        self._cache: dict[tuple[str, str], np.ndarray] = {}

    def has(self, *names: str) -> bool:
        """True when every field in ``names`` was measured."""
        return all(name in self.fields.columns for name in names)

    def num(self, name: str) -> np.ndarray:
        """A numeric field as float array (NaN for missing)."""
        key = ("num", name)
        if key not in self._cache:
            self._cache[key] = pd.to_numeric(self.fields[name], errors="coerce").to_numpy(
                dtype=float
            )
        return self._cache[key]

    def flag(self, name: str) -> np.ndarray:
        """A boolean field as bool array (missing = False)."""
        key = ("flag", name)
        if key not in self._cache:
            self._cache[key] = self.fields[name].fillna(False).to_numpy(dtype=bool)
        return self._cache[key]

    def equals(self, name: str, value: str) -> np.ndarray:
        """Bool array: the (text) field equals ``value`` (missing = False)."""
        key = ("eq:" + value, name)
        if key not in self._cache:
            series = self.fields[name]
            if isinstance(series.dtype, pd.StringDtype):  # compared in Arrow, no Python strings
                self._cache[key] = (series == value).to_numpy(dtype=bool, na_value=False)
            else:
                self._cache[key] = np.asarray(series.to_numpy() == value, dtype=bool)
        return self._cache[key]

    def nonempty(self, name: str) -> np.ndarray:
        """Bool array: the (text) field is present and not ``""``."""
        key = ("nonempty", name)
        if key not in self._cache:
            series = self.fields[name]
            if isinstance(series.dtype, pd.StringDtype):
                self._cache[key] = (series.fillna("") != "").to_numpy(dtype=bool, na_value=False)
            else:
                self._cache[key] = series.fillna("").to_numpy(dtype=object) != ""
        return self._cache[key]


Evaluator = Callable[[RuleContext, str], np.ndarray]

#: Facility rules, one pair per kind of ``[lagen.voorzieningen.<soort>]``:
#: ``voorziening.<soort>.ver`` (nearest facility farther than parameter
#: ``voorziening_<soort>_max_m`` over the network) and ``voorziening.<soort>.onbereikbaar``.
#: A new kind is a layer, a parameter and rules in the rule set: no code.
_FACILITY_RULE = re.compile(r"^voorziening\.([a-z][a-z0-9_]*)\.(ver|onbereikbaar)$")
#: What a facility rule's reason may use; each stands for the field (or parameter) of the rule's
#: own kind: ``{voorziening}`` is ``voorziening_<soort>``, ``{voorziening_max_m}`` the parameter
#: ``voorziening_<soort>_max_m``.
FACILITY_REASON_FIELDS = (
    "voorziening",
    "voorziening_afstand_m",
    "voorziening_reden",
    "voorziening_max_m",
)


def facility_rule(rule_id: str) -> tuple[str, str] | None:
    """``(soort, "ver" | "onbereikbaar")`` of a facility rule id, else None."""
    match = _FACILITY_RULE.match(rule_id)
    return (match.group(1), match.group(2)) if match else None


def _facility_max(ctx: RuleContext, kind: str) -> np.ndarray:
    name = f"voorziening_{kind}_max_m"
    if name not in ctx.params:
        raise RuleSetError(
            f"Regel 'voorziening.{kind}.ver' heeft de parameter '{name}' nodig (de grootste"
            " afstand in m over het wegennet); voeg die toe aan de regelset of aan [regels] in de"
            " configuratie."
        )
    return np.asarray(ctx.params[name], dtype=float)


def _facility_evaluator(kind: str, test: str) -> Evaluator:
    _, distance, unreachable, _ = facility_fields(kind)
    if test == "onbereikbaar":
        return lambda ctx, s: ctx.flag(unreachable)
    return lambda ctx, s: (
        np.nan_to_num(ctx.num(distance) - _facility_max(ctx, kind), nan=0.0) > 1e-9
    )


def _facility_value_name(rule_id: str, name: str) -> str:
    """The field or parameter a generic facility reason field stands for in rule ``rule_id``."""
    parsed = facility_rule(rule_id)
    if parsed is None or name not in FACILITY_REASON_FIELDS:
        return name
    return name.replace("voorziening", f"voorziening_{parsed[0]}", 1)


class _Registry(dict):
    """A dict of rule ids that also knows the facility rules of any kind (by their pattern)."""

    def __init__(self, items: Mapping, pattern: Callable[[str, str], object]):
        super().__init__(items)
        self._pattern = pattern

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or (
            isinstance(key, str) and facility_rule(key) is not None
        )

    def __missing__(self, key: str):
        parsed = facility_rule(key) if isinstance(key, str) else None
        if parsed is None:
            raise KeyError(key)
        return self._pattern(*parsed)

    def get(self, key, default=None):
        return self[key] if key in self else default


#: Fields each rule needs; a rule whose fields are absent is reported as not tested.
RULE_FIELDS: dict[str, tuple[str, ...]] = {
    "bbg.rand": ("bbg_ligging",),
    "bbg.buiten": ("bbg_ligging",),
    **{
        f"bbg.{where}.{kind}": ("bbg_ligging", "tijdelijk_bouwwerk")
        for where in ("rand", "buiten")
        for kind in ("tijdelijk", "permanent", "te_lang")
    },
    "recreatiepark": ("recreatiepark",),
    "woonnorm.slaapkamers": ("personen", "slaapkamers"),
    "woonnorm.oppervlak": ("personen", "woonoppervlak_m2"),
    "geur.knelpunt_geurgevoelig": ("geur_knelpunt",),
    "geur.knelpunt_logies": ("geur_knelpunt",),
    "geur.onzeker": ("geur_onzeker",),
    "geur.omgekeerde_werking": ("geur_in_contour", "geur_binnen_vaste_afstand"),
    "reis.onbereikbaar": ("reis_onbereikbaar",),
    "reis.werkgever_ver": ("werkgever_reistijd_min",),
    "reis.eigen_werkgever_ver": ("eigen_werkgever_reistijd_min",),
    **{f"erf.{policy}": ("op_erf", "erf_beleid") for policy in YARD_POLICIES},
    "erf.buiten_bbg": ("op_erf", "bbg_ligging"),
    # part of the concentration check: tested when [lagen.kernen] is given
    "concentratie.max_personen": ("kern", "personen", "capaciteit_personen"),
    "concentratie.aandeel_kern": ("aandeel_arbeidsmigranten_kern",),
}
RULE_FIELDS = _Registry(
    RULE_FIELDS,
    lambda kind, test: (facility_fields(kind)[1 if test == "ver" else 2],),
)


def _odour_sensitive(ctx: RuleContext, stay: str) -> np.ndarray:
    key = ("odour_sensitive", stay)
    if key not in ctx._cache:
        designated = ctx.params["logies_geurgevoelig"].astype(bool)
        ctx._cache[key] = (ctx.housing_form[stay] == "woonfunctie") | designated
    return ctx._cache[key]


def _at(ctx: RuleContext, where: str) -> np.ndarray:
    """Sites wholly at the rand / buiten BBG; the rand includes the part outside of a 'deels'
    site."""
    if where == "rand":
        return ctx.equals("bbg_ligging", "rand") | ctx.equals("bbg_ligging", "deels")
    return ctx.equals("bbg_ligging", where)


def _building(ctx: RuleContext, kind: str | None) -> np.ndarray:
    """Sites whose building is ``kind``: tijdelijk (within max_termijn_jaar or term unknown),
    te_lang (temporary, term above max_termijn_jaar), permanent, or None = not known."""
    key = ("building", str(kind))
    if key not in ctx._cache:
        n = len(ctx.fields)
        if not ctx.has("tijdelijk_bouwwerk"):
            ctx._cache[key] = np.full(n, kind is None)
        else:
            temporary = ctx.equals("tijdelijk_bouwwerk", "ja")
            permanent = ctx.equals("tijdelijk_bouwwerk", "nee")
            term = ctx.num("termijn_jaar") if ctx.has("termijn_jaar") else np.full(n, np.nan)
            too_long = temporary & (
                np.nan_to_num(term, nan=0.0) > ctx.params["max_termijn_jaar"] + 1e-9
            )
            ctx._cache[key] = {
                "None": ~temporary & ~permanent,
                "tijdelijk": temporary & ~too_long,
                "te_lang": too_long,
                "permanent": permanent,
            }[str(kind)]
    return ctx._cache[key]


def _building_general(ctx: RuleContext, where: str) -> np.ndarray:
    """Sites the general bbg.rand / bbg.buiten rule judges: building unknown, or a kind of building
    whose own rule (bbg.<where>.<kind>) the rule set does not have (an older or user rule set)."""
    out = _building(ctx, None)
    for kind in ("tijdelijk", "permanent", "te_lang"):
        if f"bbg.{where}.{kind}" not in ctx.rule_ids:
            out = out | _building(ctx, kind)
    return out


def _layer_rule(ctx: RuleContext, rule: Rule, stay: str) -> np.ndarray:
    """A rule on a declared constraint layer fires for the sites (partly) in its zone, limited to
    its stay types, housing form and kinds of building when it names them."""
    spec: LayerRule = rule.layer  # type: ignore[assignment]
    n = len(ctx.fields)
    if spec.stays is not None and stay not in spec.stays:
        return np.zeros(n, dtype=bool)
    fired = np.nan_to_num(ctx.num(layer_share_field(rule.id)), nan=0.0) > 0.0
    if spec.housing_form is not None:
        fired = fired & (ctx.housing_form[stay] == spec.housing_form)
    if spec.buildings is not None:
        kinds = np.zeros(n, dtype=bool)
        for kind in spec.buildings:
            kinds |= _building(ctx, None if kind == "onbekend" else kind)
        fired = fired & kinds
    return fired


def rule_fields(rule: Rule) -> tuple[str, ...]:
    """The fields a rule needs; a rule whose fields are absent is reported as not tested (a layer
    rule: its layer was not given)."""
    if rule.layer is not None:
        return (layer_share_field(rule.id),)
    return RULE_FIELDS[rule.id]


EVALUATORS: dict[str, Evaluator] = {
    # BBG × temporary building: bbg.rand / bbg.buiten when it is unknown whether the building is
    # temporary, bbg.<rand|buiten>.<tijdelijk|permanent|te_lang> when the site says so.
    # A site partly inside BBG ("deels"): its part outside lies at the rand ([regel.deels] of the
    # rand rules).
    "bbg.rand": lambda ctx, s: _at(ctx, "rand") & _building_general(ctx, "rand"),
    "bbg.buiten": lambda ctx, s: _at(ctx, "buiten") & _building_general(ctx, "buiten"),
    **{
        f"bbg.{where}.{kind}": (
            lambda where, kind: lambda ctx, s: _at(ctx, where) & _building(ctx, kind)
        )(where, kind)
        for where in ("rand", "buiten")
        for kind in ("tijdelijk", "permanent", "te_lang")
    },
    "recreatiepark": lambda ctx, s: ctx.nonempty("recreatiepark"),
    "woonnorm.slaapkamers": lambda ctx, s: (
        np.nan_to_num(
            ctx.num("personen")
            - ctx.num("slaapkamers") * ctx.params["max_personen_per_slaapkamer"],
            nan=0.0,
        )
        > 1e-9
    ),
    "woonnorm.oppervlak": lambda ctx, s: (
        np.nan_to_num(
            ctx.num("personen") * ctx.params["min_woonoppervlak_pp_m2"]
            - ctx.num("woonoppervlak_m2"),
            nan=0.0,
        )
        > 1e-9
    ),
    "geur.knelpunt_geurgevoelig": lambda ctx, s: (
        ctx.flag("geur_knelpunt") & _odour_sensitive(ctx, s)
    ),
    "geur.knelpunt_logies": lambda ctx, s: ctx.flag("geur_knelpunt") & ~_odour_sensitive(ctx, s),
    "geur.onzeker": lambda ctx, s: ctx.flag("geur_onzeker"),
    "geur.omgekeerde_werking": lambda ctx, s: (
        ctx.flag("geur_in_contour") | ctx.flag("geur_binnen_vaste_afstand")
    ),
    "reis.onbereikbaar": lambda ctx, s: ctx.flag("reis_onbereikbaar"),
    "reis.werkgever_ver": lambda ctx, s: (
        np.nan_to_num(ctx.num("werkgever_reistijd_min") - ctx.params["reistijd_max_min"], nan=0.0)
        > 1e-9
    ),
    "reis.eigen_werkgever_ver": lambda ctx, s: (
        np.nan_to_num(
            ctx.num("eigen_werkgever_reistijd_min") - ctx.params["reistijd_max_min"], nan=0.0
        )
        > 1e-9
    ),
    # On the own employer's yard: short-stay follows the gemeente's policy (erf_short_stay);
    # mid- and long-stay there outside BBG (rand or buiten) are a woonfunctie outside BBG.
    **{
        f"erf.{policy}": (
            lambda policy: (
                lambda ctx, s: (
                    ctx.flag("op_erf") & ctx.equals("erf_beleid", policy)
                    if s == "short_stay"
                    else np.zeros(len(ctx.fields), dtype=bool)
                )
            )
        )(policy)
        for policy in YARD_POLICIES
    },
    "erf.buiten_bbg": lambda ctx, s: (
        ctx.flag("op_erf")
        & (ctx.equals("bbg_ligging", "rand") | ctx.equals("bbg_ligging", "buiten"))
        if s != "short_stay"
        else np.zeros(len(ctx.fields), dtype=bool)
    ),
    "concentratie.max_personen": lambda ctx, s: (
        np.nan_to_num(ctx.num("capaciteit_personen") - ctx.params["max_personen_locatie"], nan=0.0)
        > 1e-9
    ),
    "concentratie.aandeel_kern": lambda ctx, s: (
        np.nan_to_num(
            ctx.num("aandeel_arbeidsmigranten_kern") - ctx.params["max_aandeel_kern"], nan=0.0
        )
        > 1e-12
    ),
}
EVALUATORS = _Registry(EVALUATORS, _facility_evaluator)

#: Site fields that reason templates and sliding penalties may use.
REASON_FIELDS: set[str] = {
    "bbg_ligging",
    "bbg_afstand_m",
    "bbg_aandeel",
    "bbg_buiten_aandeel",
    "tijdelijk_bouwwerk",
    "termijn_jaar",
    "termijn_tekst",
    "recreatiepark",
    "recreatiepark_aandeel",
    "gemeente",
    "gemeente_code",
    "verblijfstype",
    "huisvestingsvorm",
    "personen",
    "slaapkamers",
    "woonoppervlak_m2",
    "personen_per_slaapkamer",
    "woonoppervlak_pp_m2",
    "capaciteit_personen",
    "capaciteit_norm",
    "geur_oue",
    "geur_norm_oue",
    "geur_reden",
    "geur_knelpunt_aandeel",
    "geur_vaste_afstand_m",
    "veehouderij",
    "veehouderij_afstand_m",
    *(f for f in TRAVEL_FIELDS if f != "reis_onbereikbaar"),  # a new travel field is usable at once
    "reis_onbereikbaar_reden",
    "reismodus_tekst",
    "reistijd_max_min",
    "reistijd_overschrijding_min",
    "kom_bron",
    "op_erf",
    "erf_afstand_m",
    "erf_beleid",
    *CONCENTRATION_FIELDS,
    *FACILITY_REASON_FIELDS,
}


def judge(
    ctx: RuleContext,
    ruleset: RuleSet,
    own_stay: np.ndarray,
    *,
    codes: dict[str, np.ndarray] | None = None,
) -> tuple[pd.DataFrame, dict[str, object]]:
    """Apply the rule set to measured fields.

    Parameters
    ----------
    ctx
        Measured fields and per-site parameters (n sites, RangeIndex).
    ruleset
        The effective rule set.
    own_stay
        Each site's own verblijfstype.
    codes
        When given, filled with the verdicts as numbers (positions in ``VERDICTS``): per stay
        type, and under ``""`` for the own stay type (-1 for a site without one).

    Returns
    -------
    results
        ``oordeel_<type>``, ``score_<type>``, ``regels_<type>`` and
        ``vrij_aandeel_<type>`` for every stay type, plus ``oordeel``,
        ``score``, ``vrij_aandeel``, ``redenen`` and ``regels`` for the
        site's own stay type. ``vrij_aandeel`` is the share of the site
        where no ongeschikt-rule applies: 1 minus the affected shares of the
        ongeschikt-rules that fire (a rule without ``[regel.deels]``, or a
        site wholly affected, takes the whole site; shares of several rules
        are added, so overlap is not credited).
    summary
        Counts of how often each rule fired, and which rules were not tested
        because their layers were not given.
    """
    n = len(ctx.fields)
    ctx.rule_ids = frozenset(rule.id for rule in ruleset.rules)
    own_stay = np.asarray(own_stay, dtype=object)
    severity = {s: np.zeros(n, dtype=np.int8) for s in STAY_TYPES}
    penalty = {s: np.zeros(n, dtype=float) for s in STAY_TYPES}
    # which rules fired, per stay type (joined into text at the end)
    fired_flags: dict[str, list[tuple[str, np.ndarray]]] = {s: [] for s in STAY_TYPES}
    # reason texts of the own stay type: per rule and reason template one text column (null where
    # the template does not apply), joined per site at the end
    pieces: list[pa.Array] = []
    has_piece = np.zeros(n, dtype=bool)
    text_cache: dict = {}  # text fields as Arrow columns, converted once for every rule
    fired_count: dict[str, dict[str, int]] = {}
    untested: list[str] = []
    own_is = {stay: own_stay == stay for stay in STAY_TYPES}
    # per stay type the share of each site where an ongeschikt-rule applies (summed over rules)
    blocked = {s: np.zeros(n, dtype=float) for s in STAY_TYPES}

    values = _SiteValues(ctx.fields, ctx.params)
    own_housing = _OwnHousing(ctx.housing_form, own_is, n)

    for rule in ruleset.rules:
        evaluator = (
            (lambda ctx, s, rule=rule: _layer_rule(ctx, rule, s))
            if rule.layer is not None
            else EVALUATORS.get(rule.id)
        )
        if evaluator is None:  # parse_ruleset already rejects these
            raise RuleSetError(
                f"Regel '{rule.id}' heeft geen evaluatie in deze versie van de Locatietoets."
            )
        if not ctx.has(*rule_fields(rule)):
            untested.append(rule.id)
            continue
        share, whole = _affected_share(ctx, rule, n)
        fired_count[rule.id] = {}
        # the sites each reason template of this rule applies to (over the stay types)
        templates: dict[str, np.ndarray] = {}
        for stay in STAY_TYPES:
            fired = np.asarray(evaluator(ctx, stay), dtype=bool)
            # verdict, points and blocked share change only at the sites where the rule fires
            at = np.flatnonzero(fired)
            fired_count[rule.id][stay] = len(at)
            if not len(at):
                continue
            partly = fired & ~whole
            part = partly[at]
            level = VERDICTS.index(rule.verdict[stay])
            level_site = np.full(len(at), level, dtype=np.int8)
            if rule.partial is not None and part.any():
                level_site[part] = VERDICTS.index(rule.partial.verdict[stay])
            severity[stay][at] = np.maximum(severity[stay][at], level_site)
            if level == VERDICTS.index("ongeschikt"):
                # the part of the site where this rule makes the site unsuitable
                blocked[stay][at] += np.where(part, share[at], 1.0)
            points = np.full(len(at), rule.penalty[stay], dtype=float)
            if rule.sliding_penalty:
                sp = rule.sliding_penalty
                x = ctx.num(str(sp["veld"]))[at]
                start, stop = _bound(ctx, sp["van"], at), _bound(ctx, sp["tot"], at)
                span = np.broadcast_to(np.asarray(stop - start, dtype=float), x.shape)
                with np.errstate(divide="ignore", invalid="ignore"):
                    # a start at or beyond the end (a rand as wide as 'tot'): the full points past
                    # the end
                    frac = np.where(
                        span > 0,
                        np.clip((x - start) / np.where(span > 0, span, 1.0), 0.0, 1.0),
                        x >= stop,
                    )
                points = points + np.nan_to_num(frac) * float(sp["punten"])
            if part.any():
                points = np.where(part, points * share[at], points)
            penalty[stay][at] += points
            fired_flags[stay].append((rule.id, fired))
            # reason text only for sites whose own stay type is this one
            mine = fired & own_is[stay]
            if mine.any():
                templates[rule.reason[stay]] = templates.get(rule.reason[stay], False) | (
                    mine & ~partly
                )
                if rule.partial is not None:
                    text = rule.partial.reason[stay]
                    templates[text] = templates.get(text, False) | (mine & partly)
        for template, which in templates.items():
            if not which.any():
                continue
            value_of = _reason_values(ctx, rule, values, share, own_housing, n)
            try:
                pieces.append(
                    render_rows(
                        template,
                        value_of,
                        np.flatnonzero(which),
                        n,
                        suffix=f" ({rule.source_short})",
                        cache=text_cache,
                    )
                )
            except KeyError as exc:
                raise RuleSetError(
                    f"Regel '{rule.id}': redentekst gebruikt veld {exc} dat in deze run"
                    " niet bestaat."
                ) from None
            has_piece |= which

    tested = bool(fired_count)
    index = ctx.fields.index
    verdict_names = pa.array(list(VERDICTS), type=pa.large_string())
    own_code = np.full(n, -1, dtype=np.int8)
    for k, stay in enumerate(STAY_TYPES):
        own_code[own_is[stay]] = k
    has_own = own_code >= 0
    # the columns, assembled into one frame at the end (one insert per column costs pandas ~1 ms)
    out: dict[str, object] = {}
    scores, rule_texts = {}, {}
    for k, stay in enumerate(STAY_TYPES):
        # a stay type judged like an earlier one (mid- and long-stay often are) shares its text
        # columns: the same verdicts, the same rules fired at the same sites
        same_verdict = next(
            (s for s in STAY_TYPES[:k] if np.array_equal(severity[s], severity[stay])), None
        )
        out[f"oordeel_{stay}"] = (
            out[f"oordeel_{same_verdict}"]
            if same_verdict is not None
            else _text_series(verdict_names.take(pa.array(severity[stay])), index)
        )
        scores[stay] = np.round(np.clip(100.0 - penalty[stay], 0.0, 100.0), 1)
        out[f"score_{stay}"] = scores[stay]
        same_rules = next(
            (s for s in STAY_TYPES[:k] if _same_flags(fired_flags[s], fired_flags[stay])), None
        )
        if same_rules is not None:
            if same_rules in rule_texts:
                rule_texts[stay] = rule_texts[same_rules]
            out[f"regels_{stay}"] = out[f"regels_{same_rules}"]
        elif fired_flags[stay]:
            rule_texts[stay] = _flag_combinations(fired_flags[stay], n, ";")
            out[f"regels_{stay}"] = _text_series(_taken_texts(*rule_texts[stay]), index)
        else:
            out[f"regels_{stay}"] = np.full(n, "", dtype=object)
    own_severity = np.zeros(n, dtype=np.int8)
    own_score = np.full(n, np.nan)
    for k, stay in enumerate(STAY_TYPES):
        mask = own_code == k
        own_severity[mask] = severity[stay][mask]
        own_score[mask] = scores[stay][mask]
    if codes is not None:
        codes.update({stay: severity[stay] for stay in STAY_TYPES})
        codes[""] = np.where(has_own, own_severity, -1).astype(np.int8)
    if has_own.all():
        out["oordeel"] = _text_series(verdict_names.take(pa.array(own_severity)), index)
    else:
        out["oordeel"] = np.where(has_own, np.asarray(VERDICTS, dtype=object)[own_severity], None)
    out["score"] = own_score
    # vrij_aandeel: the share of the site where no ongeschikt-rule applies (shares of several rules
    # add up)
    free = {stay: np.round(np.clip(1.0 - blocked[stay], 0.0, 1.0), 4) for stay in STAY_TYPES}
    own_free = np.full(n, np.nan)
    for k, stay in enumerate(STAY_TYPES):
        mask = own_code == k
        own_free[mask] = free[stay][mask]
    out["vrij_aandeel"] = own_free
    for stay in STAY_TYPES:
        out[f"vrij_aandeel_{stay}"] = free[stay]
    if tested:
        out["redenen"] = _text_series(_join_pieces(pieces, has_piece), index)
        # the rules of the site's own stay type: its row of regels_<type>
        out["regels"] = _text_series(_own_rule_texts(rule_texts, own_code, n), index)
    else:
        out["redenen"] = out["regels"] = np.full(n, "", dtype=object)
    del pieces
    out = pd.DataFrame(out, index=index)
    summary = {"regels_gevuurd": fired_count, "regels_niet_getoetst": untested}
    log.info(
        "oordeel: %s regels getoetst, %s niet getoetst (laag ontbreekt)",
        nl_number(len(fired_count)),
        nl_number(len(untested)),
    )
    return out, summary


#: The fields a layer rule's reason may use, and the site field each one reads.
_LAYER_TEMPLATE_FIELDS: dict[str, Callable[[Rule], str]] = {
    "naam": lambda rule: rule.layer.layer,  # type: ignore[union-attr]
    "afstand_m": lambda rule: f"{rule.layer.layer}_afstand_m",  # type: ignore[union-attr]
    "aandeel": lambda rule: layer_share_field(rule.id),
}


def _bound(ctx: RuleContext, bound: object, at: np.ndarray) -> np.ndarray | float:
    """A sliding-penalty bound: a number, or a parameter's values at the sites ``at``."""
    if isinstance(bound, str):
        values = np.asarray(ctx.params[bound], dtype=float)
        return values[at] if values.ndim else values
    return float(bound)


def _affected_share(ctx: RuleContext, rule: Rule, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per site the share a rule affects and whether that counts as wholly affected.

    Rules without ``[regel.deels]`` (or whose share field was not measured)
    affect a site wholly.
    """
    partial = rule.partial
    if partial is None or not ctx.has(partial.share_field):
        return np.ones(n, dtype=float), np.ones(n, dtype=bool)
    share = np.nan_to_num(ctx.num(partial.share_field), nan=1.0)
    if isinstance(partial.whole_from, str):
        threshold = np.asarray(ctx.params[partial.whole_from], dtype=float)
    else:
        threshold = float(partial.whole_from)
    return share, share >= threshold - 1e-9


#: pandas' default text dtype (Arrow-backed, NaN for missing), as the columns of a DataFrame built
#: from str arrays get.
_TEXT_DTYPE = pd.StringDtype(na_value=np.nan)


def _text_series(values: pa.Array, index: pd.Index) -> pd.Series:
    """An Arrow string array as a text column, without going through Python strings."""
    return pd.Series(values, dtype=_TEXT_DTYPE, index=index)


class _SiteValues(Mapping):
    """The site fields and per-site parameters a reason may use, by name (a parameter before a
    field of the same name); a field becomes a Series only when a reason uses it."""

    def __init__(self, fields: pd.DataFrame, params: Mapping[str, np.ndarray]):
        self._fields, self._params = fields, params
        self._names = set(fields.columns) | set(params)
        self._columns: dict[str, pd.Series] = {}

    def __getitem__(self, name: str) -> object:
        if name in self._params:
            return self._params[name]
        if name not in self._columns:
            self._columns[name] = self._fields[name]
        return self._columns[name]

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


class _OwnHousing:
    """The housing form of each site's own stay type (reasons are written for that stay type
    only), built when a reason first uses it."""

    def __init__(
        self, housing_form: Mapping[str, np.ndarray], own_is: Mapping[str, np.ndarray], n: int
    ):
        self._housing_form, self._own_is, self._n = housing_form, own_is, n
        self._values: np.ndarray | None = None

    def __call__(self) -> np.ndarray:
        if self._values is None:
            values = np.full(self._n, None, dtype=object)
            for stay in STAY_TYPES:
                mine = self._own_is[stay]
                values[mine] = np.asarray(self._housing_form[stay], dtype=object)[mine]
            self._values = values
        return self._values


def _reason_values(
    ctx: RuleContext,
    rule: Rule,
    values: Mapping[str, object],
    share: np.ndarray,
    own_housing: Callable[[], np.ndarray],
    n: int,
) -> Callable[[str], tuple[str, object]]:
    """What a reason field of ``rule`` stands for, for every site: ``name -> (key, column)``
    (:func:`~analysis.texts.render_rows`); ``KeyError`` for a field this run does not have."""

    def value_of(name: str) -> tuple[str, object]:
        if name == "huisvestingsvorm":
            return "huisvestingsvorm:eigen", own_housing()
        if name == "aandeel_getroffen":
            return f"getroffen:{rule.id}", share
        if name == "aandeel_vrij":
            return f"vrij:{rule.id}", 1.0 - share
        if rule.layer is not None and name in _LAYER_TEMPLATE_FIELDS:
            column = _LAYER_TEMPLATE_FIELDS[name](rule)
            if column in ctx.fields:
                return column, ctx.fields[column]
            return f"ontbreekt:{column}", np.full(n, np.nan)
        source = _facility_value_name(rule.id, name)
        if source in values:
            return source, values[source]
        raise KeyError(name)

    return value_of


def _join_pieces(pieces: list[pa.Array], has_piece: np.ndarray) -> pa.Array:
    """Per site its reason pieces (columns null where a piece does not apply, in rule order)
    joined with "; " ("" when none), in Arrow."""
    n = len(has_piece)
    # "" where a site has no piece: every row has a value, so no row is all null (for which
    # binary_join_element_wise with null_handling="skip" drops the row in pyarrow 26)
    none = pa.array(np.zeros(n, dtype=np.int8), mask=has_piece)
    blank = pa.array([""], type=pa.large_string()).take(none)
    return pc.binary_join_element_wise(
        blank, *pieces, pa.scalar("; ", type=pa.large_string()), null_handling="skip"
    )


def _join_flags_arrow(flags: list[tuple[str, np.ndarray]], n: int, sep: str) -> pa.Array:
    """:func:`_join_flags` as an Arrow string array (a small table of combinations, taken per
    site)."""
    return _taken_texts(*_flag_combinations(flags, n, sep))


def _same_flags(a: list[tuple[str, np.ndarray]], b: list[tuple[str, np.ndarray]]) -> bool:
    """Whether two lists of (rule id, fired per site) name the same rules fired at the same
    sites."""
    return len(a) == len(b) and all(
        ra == rb and (fa is fb or np.array_equal(fa, fb)) for (ra, fa), (rb, fb) in zip(a, b)
    )


def _taken_texts(texts: np.ndarray, inverse: np.ndarray) -> pa.Array:
    """Per site ``texts[inverse]`` as an Arrow string array."""
    return pa.array(texts.tolist(), type=pa.large_string()).take(pa.array(inverse))


def _own_rule_texts(
    rule_texts: dict[str, tuple[np.ndarray, np.ndarray]], own_code: np.ndarray, n: int
) -> pa.Array:
    """Per site the rule ids of its own stay type (``own_code``: position in ``STAY_TYPES``, -1
    for none): its entry of the combinations of that stay type (:func:`_flag_combinations`), ""
    where the stay type has none or no rule fired for it."""
    table: list[str] = [""]
    which = np.zeros(n, dtype=np.int64)
    for k, stay in enumerate(STAY_TYPES):
        if stay not in rule_texts:
            continue
        texts, inverse = rule_texts[stay]
        mine = own_code == k
        which[mine] = inverse[mine] + len(table)
        table += texts.tolist()
    return pa.array(table, type=pa.large_string()).take(pa.array(which))


def _join_flags(flags: list[tuple[str, np.ndarray]], n: int, sep: str) -> np.ndarray:
    """Per site the ids whose flag is set, in list order, joined with ``sep`` ("" when none).

    Sites share few distinct combinations, so each combination is joined once.
    """
    texts, inverse = _flag_combinations(flags, n, sep)
    return texts[inverse]


def _flag_combinations(
    flags: list[tuple[str, np.ndarray]], n: int, sep: str
) -> tuple[np.ndarray, np.ndarray]:
    """The distinct joined id combinations and, per site, the index of its combination."""
    ids = [rule_id for rule_id, _ in flags]
    inverse = np.zeros(n, dtype=np.int64)
    for start in range(0, len(flags), 62):  # 62 flags at a time as bits of one integer per site
        code = np.zeros(n, dtype=np.int64)
        for i, (_, flag) in enumerate(flags[start : start + 62]):
            code |= np.asarray(flag, dtype=np.int64) << i
        # grouped by hashing (few distinct combinations), combined with the groups so far
        codes, unique = pd.factorize(code)
        if start:
            codes, _ = pd.factorize(inverse * len(unique) + codes)
        inverse = np.asarray(codes, dtype=np.int64)
    count = int(inverse.max()) + 1 if n else 0
    # the first site of each combination tells which flags it has
    first = np.empty(count, dtype=np.int64)
    first[inverse[::-1]] = np.arange(n - 1, -1, -1)
    has = (
        np.stack([np.asarray(flag, dtype=bool)[first] for _, flag in flags], axis=1)
        if flags
        else np.zeros((count, 0), dtype=bool)
    )
    texts = np.empty(count, dtype=object)
    for j in range(count):
        texts[j] = sep.join(ids[i] for i in np.flatnonzero(has[j]))
    return texts, inverse
