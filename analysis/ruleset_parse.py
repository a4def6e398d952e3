"""Parsing a rule set: the parsed TOML of a rule set validated into a :class:`RuleSet`.

:func:`parse_ruleset` checks every parameter, rule, layer rule, partial verdict and per-gemeente
value and collects all problems into one :class:`RuleSetError` in Dutch. The model it builds
lives in :mod:`locatietoets.analysis.ruleset`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
import math
from typing import Any

from locatietoets.analysis.errors import RuleSetError, did_you_mean
from locatietoets.analysis.ruleset import (
    BUILDING_KINDS,
    LAYER_RULE_FIELDS,
    ODOUR_LEGAL_BASIS,
    ODOUR_LEGAL_RANGES,
    PARTIAL_FIELDS,
    LayerRule,
    Parameter,
    PartialRule,
    Rule,
    RuleSet,
    check_value,
    format_number,
    layer_share_field,
    range_text,
)
from locatietoets.analysis.texts import template_fields
from locatietoets.analysis.vocabulary import HOUSING_FORMS, STAY_TYPES, VERDICTS

__all__ = ["parse_ruleset"]

_KINDS = ("oordeel", "waarschuwing")
_CONFIDENCE = ("H", "M", "L")

#: The keys of a layer rule besides ``laag``; a rule without ``laag`` may not have them.
_LAYER_RULE_KEYS = (
    "buffer_m",
    "alleen_buiten",
    "waarde_vanaf",
    "bouwwerk",
    "verblijfstypen",
    "huisvestingsvorm",
)


def _is_number(value: Any) -> bool:
    """A finite int or float (not a bool): nan and inf are no numbers for a rule set."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _parse_partial(
    table: Any,
    rule_id: str,
    verdict: Mapping[str, str],
    params: Mapping[str, Parameter],
    known_fields: set[str],
    allowed_fields: set[str],
    problems: list[str],
) -> PartialRule | None:
    """Validate a rule's ``[regel.deels]`` table (None when absent or invalid)."""
    if table is None:
        return None
    where = f"Regel '{rule_id}': [regel.deels]"
    if not isinstance(table, Mapping) or not {"aandeel_veld", "reden"} <= set(table):
        problems.append(f"{where} moet minstens 'aandeel_veld' en 'reden' hebben.")
        return None
    unknown = set(table) - {"aandeel_veld", "geheel_vanaf", "oordeel", "reden"}
    for key in sorted(unknown):
        problems.append(
            f"{where}: onbekende sleutel"
            f" '{key}'.{did_you_mean(key, ['aandeel_veld', 'geheel_vanaf', 'oordeel', 'reden'])}"
        )
    share_field = str(table["aandeel_veld"])
    if share_field not in known_fields:
        problems.append(
            f"{where}: aandeel_veld '{share_field}' is geen bekend"
            f" veld.{did_you_mean(share_field, known_fields)}"
        )
    whole_from = table.get("geheel_vanaf", "geheel_aandeel")
    if isinstance(whole_from, str):
        if whole_from not in params or not _is_number(params[whole_from].value):
            problems.append(
                f"{where}: geheel_vanaf '{whole_from}' is geen"
                f" getalparameter.{did_you_mean(whole_from, params)}"
            )
    elif not _is_number(whole_from) or not 0.0 < float(whole_from) <= 1.0:
        problems.append(
            f"{where}: geheel_vanaf moet een aandeel tussen 0 en 1 zijn of een parameternaam, niet"
            f" {whole_from!r}."
        )
    else:
        whole_from = float(whole_from)
    partial_verdict = _per_stay(
        table.get("oordeel", "voorwaardelijk"), "deels.oordeel", rule_id, problems, VERDICTS
    )
    # partly affected is never worse than wholly affected
    partial_verdict = {
        s: (
            min(v, verdict.get(s, v), key=VERDICTS.index)
            if v in VERDICTS and verdict.get(s) in VERDICTS
            else v
        )
        for s, v in partial_verdict.items()
    }
    reason = _per_stay(table["reden"], "deels.reden", rule_id, problems)
    for s, template in reason.items():
        if not isinstance(template, str):
            continue
        try:
            names = template_fields(template)
        except ValueError as exc:
            problems.append(f"{where}: redentekst voor {s} is ongeldig ({exc}).")
            continue
        for name in names:
            if name not in allowed_fields and name not in PARTIAL_FIELDS:
                problems.append(
                    f"{where}: redentekst gebruikt onbekend veld"
                    f" '{{{name}}}'.{did_you_mean(name, allowed_fields)}"
                )
    return PartialRule(
        share_field=share_field, whole_from=whole_from, verdict=partial_verdict, reason=reason
    )


def _per_stay(
    value: Any, what: str, rule_id: str, problems: list[str], allowed: tuple[str, ...] | None = None
) -> dict[str, Any]:
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in STAY_TYPES and k != "standaard"]
        for k in unknown:
            problems.append(
                f"Regel '{rule_id}': onbekend verblijfstype '{k}' in"
                f" {what}.{did_you_mean(k, STAY_TYPES)}"
            )
        default = value.get("standaard")
        out = {s: value.get(s, default) for s in STAY_TYPES}
        missing = [s for s, v in out.items() if v is None]
        if missing:
            problems.append(
                f"Regel '{rule_id}': {what} ontbreekt voor {', '.join(missing)} (of geef"
                " 'standaard')."
            )
    else:
        out = {s: value for s in STAY_TYPES}
    if allowed is not None:
        for s, v in out.items():
            if v is not None and v not in allowed:
                problems.append(
                    f"Regel '{rule_id}': {what} '{v}' voor {s} is"
                    f" onbekend.{did_you_mean(str(v), allowed)} Kies uit: {', '.join(allowed)}."
                )
    return out


def parse_ruleset(
    data: Mapping[str, Any], *, origin: str, known_rules: Mapping[str, Any], known_fields: set[str]
) -> RuleSet:
    """Validate a parsed rule-set TOML.

    Parameters
    ----------
    data
        The parsed TOML.
    origin
        File path or "ingebouwd", for messages and the run record.
    known_rules
        Rule ids the engine can evaluate (the evaluator registry).
    known_fields
        Site fields that reason templates may use (besides parameters).

    Raises
    ------
    RuleSetError
        Listing every problem found.
    """
    problems: list[str] = []
    head = data.get("regelset")
    if not isinstance(head, Mapping):
        raise RuleSetError(f"Regelset '{origin}' mist de sectie [regelset] met id en versie.")
    for key in ("id", "versie"):
        if key not in head:
            problems.append(f"Regelset '{origin}': [regelset] mist '{key}'.")
    for key in data:
        if key not in ("regelset", "parameters", "regel", "gemeenten"):
            problems.append(
                f"Regelset '{origin}': onbekende sectie"
                f" [{key}].{did_you_mean(key, ['regelset', 'parameters', 'regel', 'gemeenten'])}"
            )

    params: dict[str, Parameter] = {}
    for name, table in (data.get("parameters") or {}).items():
        if not isinstance(table, Mapping) or "waarde" not in table:
            problems.append(
                f"Regelset '{origin}': parameter '{name}' moet een tabel met 'waarde' zijn."
            )
            continue
        confidence = str(table.get("betrouwbaarheid", "L"))
        if confidence not in _CONFIDENCE:
            problems.append(
                f"Regelset '{origin}': parameter '{name}' heeft betrouwbaarheid '{confidence}';"
                " gebruik H, M of L."
            )
        value = table["waarde"]
        if isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        unit = str(table.get("eenheid", ""))
        low, high = _parse_range(origin, name, table, value, unit, problems)
        param = Parameter(
            name=name,
            value=value,
            unit=unit,
            description=str(table.get("omschrijving", "")),
            source=str(table.get("bron", "")),
            confidence=confidence,
            minimum=low,
            maximum=high,
        )
        if low is not None or isinstance(value, bool):
            param = replace(
                param, value=check_value(name, value, param, f"regelset '{origin}'", problems)
            )
        params[name] = param

    rules: list[Rule] = []
    seen: set[str] = set()
    allowed_fields = known_fields | set(params)
    for i, table in enumerate(data.get("regel") or []):
        rule_id = str(table.get("id", f"#{i + 1}"))
        if "id" not in table:
            problems.append(f"Regelset '{origin}': regel {rule_id} mist een id.")
            continue
        if rule_id in seen:
            problems.append(f"Regelset '{origin}': regel '{rule_id}' staat er twee keer in.")
        seen.add(rule_id)
        layer_rule = None
        if "laag" in table:
            layer_rule = _parse_layer_rule(table, rule_id, params, problems)
        elif [k for k in _LAYER_RULE_KEYS if k in table]:
            keys = ", ".join(k for k in _LAYER_RULE_KEYS if k in table)
            problems.append(
                f"Regel '{rule_id}': {keys} geldt alleen voor een regel op een beperkingenlaag;"
                ' geef ook laag = "<naam>" (de laag [lagen.beperkingen.<naam>] in de configuratie).'
            )
        elif rule_id not in known_rules:
            problems.append(
                f"Regelset '{origin}': regel '{rule_id}' is onbekend voor deze versie van de"
                f" Locatietoets.{did_you_mean(rule_id, known_rules)} Bekende regels:"
                f" {', '.join(sorted(known_rules))}."
            )
        if table.get("actief", True) is False:
            continue
        kind = str(table.get("soort", "oordeel"))
        if kind not in _KINDS:
            problems.append(
                f"Regel '{rule_id}': soort '{kind}' is onbekend; kies uit {', '.join(_KINDS)}."
            )
        for key in ("oordeel", "reden", "bron"):
            if key not in table:
                problems.append(f"Regel '{rule_id}' mist '{key}'.")
        if any(key not in table for key in ("oordeel", "reden", "bron")):
            continue
        verdict = _per_stay(table["oordeel"], "oordeel", rule_id, problems, VERDICTS)
        penalty_raw = _per_stay(table.get("strafpunten", 0), "strafpunten", rule_id, problems)
        penalty = {}
        for s, v in penalty_raw.items():
            if (
                isinstance(v, bool)
                or not isinstance(v, (int, float))
                or not math.isfinite(v)
                or not 0 <= v <= 100
            ):
                problems.append(
                    f"Regel '{rule_id}': strafpunten voor {s} moeten een getal van 0 tot en met 100"
                    f" zijn, niet {v!r}."
                )
                v = 0.0
            penalty[s] = float(v)
        reason = _per_stay(table["reden"], "reden", rule_id, problems)
        rule_fields = allowed_fields | set(LAYER_RULE_FIELDS) if "laag" in table else allowed_fields
        for s, template in reason.items():
            if not isinstance(template, str):
                continue
            try:
                names = template_fields(template)
            except ValueError as exc:
                problems.append(f"Regel '{rule_id}': redentekst voor {s} is ongeldig ({exc}).")
                continue
            for name in names:
                if name not in rule_fields:
                    problems.append(
                        f"Regel '{rule_id}': redentekst gebruikt onbekend veld"
                        f" '{{{name}}}'.{did_you_mean(name, allowed_fields)}"
                    )
        sliding = table.get("glijdende_straf")
        if sliding is not None:
            if not isinstance(sliding, Mapping) or not {"veld", "van", "tot", "punten"} <= set(
                sliding
            ):
                problems.append(
                    f"Regel '{rule_id}': glijdende_straf moet veld, van, tot en punten hebben."
                )
                sliding = None
            elif sliding["veld"] not in known_fields:
                problems.append(
                    f"Regel '{rule_id}': glijdende_straf gebruikt onbekend veld"
                    f" '{sliding['veld']}'.{did_you_mean(str(sliding['veld']), known_fields)}"
                )
                sliding = None
            else:
                bounds = {}
                for key in ("van", "tot"):
                    bound = sliding[key]
                    if isinstance(bound, str):
                        if bound not in params or not _is_number(params[bound].value):
                            problems.append(
                                f"Regel '{rule_id}': glijdende_straf '{key}' = '{bound}' is geen"
                                f" getal en geen getalparameter.{did_you_mean(bound, params)}"
                            )
                            bound = None
                        else:
                            bound = params[bound].value
                    elif not _is_number(bound):
                        problems.append(
                            f"Regel '{rule_id}': glijdende_straf '{key}' moet een getal of een"
                            " parameternaam zijn."
                        )
                        bound = None
                    bounds[key] = bound
                if not _is_number(sliding["punten"]) or not 0 <= sliding["punten"] <= 100:
                    problems.append(
                        f"Regel '{rule_id}': glijdende_straf 'punten' moet een getal van 0 tot en"
                        f" met 100 zijn, niet {sliding['punten']!r}."
                    )
                    sliding = None
                elif None in bounds.values():
                    sliding = None
                elif not float(bounds["tot"]) > float(bounds["van"]):
                    problems.append(
                        f"Regel '{rule_id}': glijdende_straf 'tot' moet groter zijn dan 'van'."
                    )
                    sliding = None
        if "laag" in table:
            partial = _layer_partial(
                table.get("deels"), rule_id, verdict, reason, params, rule_fields, problems
            )
        else:
            partial = _parse_partial(
                table.get("deels"), rule_id, verdict, params, known_fields, allowed_fields, problems
            )
        confidence = str(table.get("betrouwbaarheid", "L"))
        if confidence not in _CONFIDENCE:
            problems.append(
                f"Regel '{rule_id}': betrouwbaarheid '{confidence}'; gebruik H, M of L."
            )
        rules.append(
            Rule(
                id=rule_id,
                title=str(table.get("titel", rule_id)),
                kind=kind,
                verdict=verdict,
                penalty=penalty,
                reason=reason,
                source=str(table["bron"]),
                source_short=str(table.get("bron_kort", table["bron"])),
                confidence=confidence,
                sliding_penalty=dict(sliding) if sliding else None,
                partial=partial,
                layer=layer_rule,
            )
        )

    gemeenten = data.get("gemeenten") or {}
    for key, table in gemeenten.items():
        if not isinstance(table, Mapping):
            problems.append(f"Regelset '{origin}': [gemeenten.{key}] moet een tabel zijn.")
            continue
        for name, value in table.items():
            if name in ("naam", "regio"):
                continue
            if name not in params:
                problems.append(
                    f"Regelset '{origin}': [gemeenten.{key}] noemt onbekende parameter"
                    f" '{name}'.{did_you_mean(name, params)}"
                )
            else:
                check_value(
                    name,
                    value,
                    params[name],
                    f"regelset '{origin}' [gemeenten.{key}]",
                    problems,
                    gemeente=str(table.get("naam", key)),
                )

    if problems:
        raise RuleSetError(problems)
    return RuleSet(
        id=str(head["id"]),
        version=str(head["versie"]),
        name=str(head.get("naam", head["id"])),
        date=str(head.get("datum", "")),
        description=str(head.get("omschrijving", "")),
        parameters=params,
        rules=tuple(rules),
        gemeenten={str(k): dict(v) for k, v in gemeenten.items()},
        origin=origin,
        ruleset_values={k: p.value for k, p in params.items()},
        ruleset_gemeenten={str(k): dict(v) for k, v in gemeenten.items()},
    )


def _parse_range(
    origin: str, name: str, table: Mapping[str, Any], value: Any, unit: str, problems: list[str]
) -> tuple[float | None, float | None]:
    """Read a parameter's ``min``/``max``: required for a number (or table of numbers), refused for
    ja/nee."""
    numeric = (isinstance(value, (int, float)) and not isinstance(value, bool)) or (
        isinstance(value, Mapping)
        and value
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value.values())
    )
    if isinstance(value, bool):
        if "min" in table or "max" in table:
            problems.append(
                f"Regelset '{origin}': parameter '{name}' is ja/nee en heeft dus geen 'min'/'max'."
            )
        return None, None
    if not numeric:
        return None, None
    missing = [k for k in ("min", "max") if k not in table]
    if missing:
        problems.append(
            f"Regelset '{origin}': parameter '{name}' mist {' en '.join(repr(k) for k in missing)}:"
            f" elke getalparameter heeft een geldig bereik in de eenheid '{unit}', bv. min = 0 en"
            " max = 1000."
        )
        return None, None
    low, high = table["min"], table["max"]
    for key, bound in (("min", low), ("max", high)):
        if (
            isinstance(bound, bool)
            or not isinstance(bound, (int, float))
            or not math.isfinite(bound)
        ):
            problems.append(
                f"Regelset '{origin}': parameter '{name}' heeft '{key}' = {bound!r}; geef een"
                " eindig getal."
            )
            return None, None
    if low > high:
        problems.append(
            f"Regelset '{origin}': parameter '{name}' heeft min {format_number(low)} groter dan max"
            f" {format_number(high)}."
        )
        return None, None
    legal = ODOUR_LEGAL_RANGES.get(name)
    if legal is not None and (low < legal[0] or high > legal[1]):
        problems.append(
            f"Regelset '{origin}': parameter '{name}' heeft bereik {range_text(low, high, unit)},"
            f" ruimer dan de {ODOUR_LEGAL_BASIS}: {range_text(legal[0], legal[1], unit)}."
        )
    return float(low), float(high)


def _number_or_parameter(
    value: Any, key: str, rule_id: str, params: Mapping[str, Parameter], problems: list[str]
) -> float | str | None:
    """A layer rule's ``buffer_m``/``waarde_vanaf``: a finite number or a numeric parameter."""
    if isinstance(value, str):
        if value not in params or not _is_number(params[value].value):
            problems.append(
                f"Regel '{rule_id}': {key} = '{value}' is geen getal en geen"
                f" getalparameter.{did_you_mean(value, params)}"
            )
            return None
        return value
    if not _is_number(value):
        problems.append(
            f"Regel '{rule_id}': {key} moet een getal of een parameternaam zijn, niet {value!r}."
        )
        return None
    return float(value)


def _choices(
    value: Any, key: str, rule_id: str, allowed: tuple[str, ...], problems: list[str]
) -> tuple[str, ...] | None:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        problems.append(
            f"Regel '{rule_id}': {key} moet een tekst of een lijst zijn, bv. [\"{allowed[0]}\"]."
        )
        return None
    for item in items:
        if item not in allowed:
            problems.append(
                f"Regel '{rule_id}': {key} '{item}' is onbekend.{did_you_mean(str(item), allowed)}"
                f" Kies uit: {', '.join(allowed)}."
            )
    return tuple(str(i) for i in items)


def _parse_layer_rule(
    table: Mapping[str, Any], rule_id: str, params: Mapping[str, Parameter], problems: list[str]
) -> LayerRule | None:
    """Validate the layer part of a rule (``laag``, ``buffer_m``, ...)."""
    from locatietoets.analysis.constraints import LAYER_NAME_PATTERN

    layer = table["laag"]
    if not isinstance(layer, str) or not LAYER_NAME_PATTERN.match(layer):
        problems.append(
            f"Regel '{rule_id}': laag {layer!r} is geen geldige laagnaam: kleine letters, cijfers"
            " en '_', beginnend met een letter (de naam in [lagen.beperkingen.<naam>])."
        )
        return None
    ok = True
    buffer: float | str | None = 0.0
    if "buffer_m" in table:
        buffer = _number_or_parameter(table["buffer_m"], "buffer_m", rule_id, params, problems)
        if isinstance(buffer, float) and buffer < 0:
            problems.append(f"Regel '{rule_id}': buffer_m mag niet negatief zijn.")
            buffer = None
        ok &= buffer is not None
    min_value = None
    if "waarde_vanaf" in table:
        min_value = _number_or_parameter(
            table["waarde_vanaf"], "waarde_vanaf", rule_id, params, problems
        )
        ok &= min_value is not None
    outside_only = table.get("alleen_buiten", False)
    if not isinstance(outside_only, bool):
        problems.append(f"Regel '{rule_id}': alleen_buiten moet true of false zijn.")
        ok = False
    elif outside_only and buffer == 0.0:
        problems.append(
            f"Regel '{rule_id}': alleen_buiten = true heeft een buffer_m nodig (de zone rond de"
            " objecten van de laag)."
        )
        ok = False
    buildings = stays = None
    if "bouwwerk" in table:
        buildings = _choices(table["bouwwerk"], "bouwwerk", rule_id, BUILDING_KINDS, problems)
        ok &= buildings is not None
    if "verblijfstypen" in table:
        stays = _choices(table["verblijfstypen"], "verblijfstypen", rule_id, STAY_TYPES, problems)
        ok &= stays is not None
    housing = table.get("huisvestingsvorm")
    if housing is not None and housing not in HOUSING_FORMS:
        problems.append(
            f"Regel '{rule_id}': huisvestingsvorm '{housing}' is"
            f" onbekend.{did_you_mean(str(housing), HOUSING_FORMS)} Kies uit:"
            f" {', '.join(HOUSING_FORMS)}."
        )
        ok = False
    if not ok:
        return None
    return LayerRule(
        layer=layer,
        buffer=buffer,
        outside_only=outside_only,
        min_value=min_value,
        buildings=buildings,
        stays=stays,
        housing_form=housing,
    )


def _layer_partial(
    table: Any,
    rule_id: str,
    verdict: Mapping[str, str],
    reason: Mapping[str, Any],
    params: Mapping[str, Parameter],
    allowed_fields: set[str],
    problems: list[str],
) -> PartialRule | None:
    """The "partly affected" variant of a layer rule: its ``[regel.deels]`` (``aandeel_veld`` is
    the rule's own zone share), or by default: voorwaardelijk (never worse than the rule), build
    on the free part."""
    share_field = layer_share_field(rule_id)
    if table is not None:
        if isinstance(table, Mapping) and "aandeel_veld" not in table:
            table = {**table, "aandeel_veld": share_field}
        return _parse_partial(
            table, rule_id, verdict, params, {share_field}, allowed_fields, problems
        )
    partial_verdict = {
        s: min("voorwaardelijk", v, key=VERDICTS.index) if v in VERDICTS else v
        for s, v in verdict.items()
    }
    partial_reason = {
        s: (
            f"{text} (voor {{aandeel_getroffen:.0%}} van de locatie)"
            if partial_verdict[s] == "geschikt"
            else f"{text}; {{aandeel_getroffen:.0%}} van de locatie ligt in de zone: bouw alleen"
            " op het vrije deel ({aandeel_vrij:.0%})"
        )
        if isinstance(text, str)
        else text
        for s, text in reason.items()
    }
    return PartialRule(
        share_field=share_field,
        whole_from="geheel_aandeel" if "geheel_aandeel" in params else 0.95,
        verdict=partial_verdict,
        reason=partial_reason,
    )
