"""The versioned rule set: parameters, rules, per-gemeente values.

A rule set is data (a TOML file shipped in ``analysis/rulesets/`` or given by
the user). This module holds the validated :class:`RuleSet` model and
resolves parameters per site, so that every rule reads its threshold for the
gemeente the site lies in; :mod:`locatietoets.analysis.ruleset_parse` turns
the parsed TOML into it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
import hashlib
import json
import math
from typing import Any

import numpy as np
import pandas as pd

from locatietoets.analysis.errors import (
    ConfigError,
    ParameterOverrideError,
    RuleSetError,
    did_you_mean,
)
from locatietoets.analysis.vocabulary import HOUSING_FORMS, STAY_TYPES, VERDICTS

__all__ = [
    "STAY_TYPES",
    "HOUSING_FORMS",
    "VERDICTS",
    "ODOUR_LEGAL_RANGES",
    "Parameter",
    "Rule",
    "PartialRule",
    "PARTIAL_FIELDS",
    "LayerRule",
    "LAYER_RULE_FIELDS",
    "BUILDING_KINDS",
    "layer_share_field",
    "describe_layer_rule",
    "RuleSet",
    "format_number",
]

#: The legal ranges within which a gemeente may set its own odour values for livestock in the
#: omgevingsplan (OUe/m³, 98-percentile), per odour-norm parameter: (lowest, highest, legal basis).
#: Concentration area: 0.1-14.0 inside the bebouwde kom, 3.0-35.0 outside; elsewhere 0.1-8.0
#: inside, 2.0-20.0 outside (formerly Wgv art. 6 lid 1; now Bkl, see the rule set's sources).
ODOUR_LEGAL_RANGES: dict[str, tuple[float, float]] = {
    "geur_norm_kom_concentratie": (0.1, 14.0),
    "geur_norm_buitengebied_concentratie": (3.0, 35.0),
    "geur_norm_kom": (0.1, 8.0),
    "geur_norm_buitengebied": (2.0, 20.0),
}
ODOUR_LEGAL_BASIS = "wettelijke bandbreedte voor een eigen waarde in het omgevingsplan (Bkl)"


@dataclass(frozen=True)
class Parameter:
    """One rule-set parameter.

    Attributes
    ----------
    name, value, unit, description, source, confidence
        As in the rule-set file (``waarde``, ``eenheid``, ``omschrijving``,
        ``bron``, ``betrouwbaarheid``).
    minimum, maximum
        The valid range (``min``/``max``, in ``unit``, inclusive) of a numeric
        parameter (for a table of numbers: of each number); ``None`` for a
        ja/nee or text parameter. Every value, in the rule set or a config,
        province-wide or per gemeente, must lie in it.
    """

    name: str
    value: Any
    unit: str = ""
    description: str = ""
    source: str = ""
    confidence: str = "L"
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Rule:
    """One rule: when it fires (code, keyed by ``id``) and what it then means (data).

    Attributes
    ----------
    id
        Stable identifier, e.g. ``"bbg.buiten"``; the evaluator is looked up by it.
    title
        Short Dutch title.
    kind
        ``"oordeel"`` (decides a verdict) or ``"waarschuwing"`` (warning only).
    verdict
        Verdict per stay type when the rule fires.
    penalty
        Score points subtracted per stay type when the rule fires.
    sliding_penalty
        Optional ``{veld, van, tot, punten}``: extra points rising linearly
        from 0 at ``van`` to ``punten`` at ``tot`` of site field ``veld``
        (``van`` and ``tot`` are numbers or parameter names, so a parameter
        that varies per gemeente moves the start).
    reason
        Dutch reason template per stay type.
    source, source_short, confidence
        Citation of the rule (full and short) and its confidence H/M/L.
    partial
        Optional :class:`PartialRule`: how a site that is only partly
        affected is judged (``[regel.deels]``).
    """

    id: str
    title: str
    kind: str
    verdict: Mapping[str, str]
    penalty: Mapping[str, float]
    reason: Mapping[str, str]
    source: str
    source_short: str
    confidence: str
    sliding_penalty: Mapping[str, Any] | None = None
    partial: PartialRule | None = None
    layer: LayerRule | None = None


#: Kinds of building a layer rule may be limited to (``bouwwerk``), as the BBG rules distinguish
#: them: a temporary building within the term, a permanent one, a temporary one beyond the term,
#: and not stated.
BUILDING_KINDS: tuple[str, ...] = ("tijdelijk", "permanent", "te_lang", "onbekend")

#: Extra fields the reason of a layer rule may use: the feature's name, the distance to the
#: nearest feature and the share of the site in the rule's zone.
LAYER_RULE_FIELDS: tuple[str, ...] = ("naam", "afstand_m", "aandeel")


def layer_share_field(rule_id: str) -> str:
    """The internal site field with the share of each site in the zone of layer rule ``rule_id``
    (internal fields start with ``_`` and never reach the output)."""
    return f"_zone:{rule_id}"


@dataclass(frozen=True)
class LayerRule:
    """What a rule on a declared constraint layer tests (``laag = "<naam>"`` in ``[[regel]]``).

    The rule fires for a site that lies (partly) in its zone: the layer's features, only those
    whose ``waarde`` reaches ``min_value`` when given, grown by ``buffer``; with
    ``outside_only`` only the ring around the features. Like every rule it has a verdict,
    penalty and reason per stay type; a site only partly in the zone is judged by
    ``Rule.partial``.

    Attributes
    ----------
    layer
        The name ``<naam>`` of ``[lagen.beperkingen.<naam>]`` in the config.
    buffer
        ``buffer_m``: metres, or the name of a numeric parameter (per gemeente possible).
    outside_only
        ``alleen_buiten``: only the zone around the features, not the features themselves.
    min_value
        ``waarde_vanaf``: only features whose ``waarde`` (config ``waarde_veld``) is at least
        this number or parameter; None: every feature.
    buildings
        ``bouwwerk``: only sites with these kinds of building (:data:`BUILDING_KINDS`); None: all.
    stays
        ``verblijfstypen``: only for these stay types; None: all.
    housing_form
        ``huisvestingsvorm``: only where the stay type is judged as this housing form.
    """

    layer: str
    buffer: float | str = 0.0
    outside_only: bool = False
    min_value: float | str | None = None
    buildings: tuple[str, ...] | None = None
    stays: tuple[str, ...] | None = None
    housing_form: str | None = None


def describe_layer_rule(rule: Rule, parameters: Mapping[str, Parameter]) -> str:
    """What a rule on a constraint layer tests, in Dutch ("" for other rules): for ``regels``,
    the README and the report."""
    spec = rule.layer
    if spec is None:
        return ""

    def amount(value: float | str, unit: str = " m") -> str:
        if isinstance(value, str):
            known = parameters.get(value)
            shown = f" = {format_number(known.value)}{unit}" if known is not None else ""
            return f"{value}{shown}"
        return f"{format_number(value)}{unit}"

    parts = [f"laag [lagen.beperkingen.{spec.layer}]"]
    if spec.min_value is not None:
        parts.append(f"objecten met waarde vanaf {amount(spec.min_value, '')}")
    if spec.buffer != 0.0 and spec.outside_only:
        parts.append(f"alleen de zone tot {amount(spec.buffer)} eromheen")
    elif spec.buffer != 0.0:
        parts.append(f"en tot {amount(spec.buffer)} eromheen")
    if spec.housing_form:
        parts.append(f"alleen {spec.housing_form}")
    if spec.stays:
        parts.append("alleen " + ", ".join(s.replace("_", "-") for s in spec.stays))
    if spec.buildings:
        parts.append("bouwwerk " + ", ".join(spec.buildings))
    return "; ".join(parts)


@dataclass(frozen=True)
class PartialRule:
    """The "partly affected" variant of a rule (``[regel.deels]``).

    A site is judged on where the building can go. When the rule fires for a
    polygon (or MultiPoint) site of which only a share ``s`` is affected,
    with ``0 < s < whole_from``, the site gets ``verdict`` (never worse than
    the rule's own verdict), the rule's points times ``s`` and the reason
    ``reason``. With ``s >= whole_from`` the rule applies as a whole.

    Attributes
    ----------
    share_field
        Site field with the affected share (0–1); points have 0 or 1.
    whole_from
        A number or the name of a parameter: the share from which the site
        counts as wholly affected.
    verdict
        Verdict per stay type for a partly affected site.
    reason
        Dutch reason template per stay type; besides site fields and
        parameters it may use ``{aandeel_getroffen}`` and ``{aandeel_vrij}``
        (the share affected and the share not affected by this rule).
    """

    share_field: str
    whole_from: float | str
    verdict: Mapping[str, str]
    reason: Mapping[str, str]


#: Extra fields a ``[regel.deels]`` reason may use.
PARTIAL_FIELDS: tuple[str, ...] = ("aandeel_getroffen", "aandeel_vrij")


@dataclass(frozen=True)
class RuleSet:
    """A validated rule set.

    Attributes
    ----------
    id, version, name, date, description
        Identification, from ``[regelset]``.
    parameters
        Parameters by name.
    rules
        Rules in file order.
    gemeenten
        Per-gemeente tables keyed by CBS code (``GM0983``) or name; each may
        hold ``naam``, ``regio`` and parameter values.
    origin
        Where the rule set came from (file path or "ingebouwd").
    config_overrides
        Province-wide parameter values set by a config (:meth:`with_overrides`).
    config_gemeenten
        Per-gemeente parameter values set by a config, keyed as the config
        wrote them.
    ruleset_values, ruleset_gemeenten
        The rule set's own values (province-wide and per gemeente), before
        any config override: what the rule-set file says.
    """

    id: str
    version: str
    name: str
    date: str
    description: str
    parameters: Mapping[str, Parameter]
    rules: tuple[Rule, ...]
    gemeenten: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    origin: str = "ingebouwd"
    config_overrides: Mapping[str, Any] = field(default_factory=dict)
    config_gemeenten: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    ruleset_values: Mapping[str, Any] = field(default_factory=dict)
    ruleset_gemeenten: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def value(self, name: str) -> Any:
        """Return the province-wide value of parameter ``name``."""
        try:
            return self.parameters[name].value
        except KeyError:
            raise RuleSetError(
                f"Regelset '{self.id}' mist parameter"
                f" '{name}'.{did_you_mean(name, self.parameters)}"
            ) from None

    def rule(self, rule_id: str) -> Rule | None:
        """Return the rule with ``rule_id`` or ``None`` when the rule set does not have it."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        return None

    def constraint_layers(self) -> tuple[str, ...]:
        """The constraint layers (``[lagen.beperkingen.<naam>]``) the rules use, in rule order."""
        return tuple(dict.fromkeys(r.layer.layer for r in self.rules if r.layer is not None))

    def with_overrides(
        self,
        overrides: Mapping[str, Any],
        gemeenten: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        where: str = "[regels] in de configuratie",
    ) -> RuleSet:
        """Return a copy with parameter values replaced.

        Precedence, lowest first: the rule set's value, the rule set's
        per-gemeente value, ``overrides`` (which replace the rule set's
        per-gemeente values of the same parameter), ``gemeenten``.

        Parameters
        ----------
        overrides
            ``{parameter: value}``; every name must exist in the rule set.
        gemeenten
            Per-gemeente overrides, merged into the rule set's gemeente tables.
        where
            Where the overrides come from, for error messages.
        """
        problems: list[str] = []
        params = dict(self.parameters)
        for name, value in overrides.items():
            if name not in params:
                problems.append(
                    f"Onbekende parameter '{name}' in {where}.{did_you_mean(name, params)} "
                    "Zie de regelset voor alle parameters."
                )
                continue
            checked = check_value(name, value, params[name], where, problems)
            params[name] = replace(params[name], value=checked)
        # Precedence: rule set < rule set per gemeente < config < config per gemeente.
        # A config value for the whole province therefore replaces the rule set's
        # per-gemeente values of that parameter.
        merged = {
            k: {p: v for p, v in t.items() if p not in overrides} for k, t in self.gemeenten.items()
        }
        config_gemeenten = {k: dict(v) for k, v in self.config_gemeenten.items()}
        for key, table in (gemeenten or {}).items():
            checked_table: dict[str, Any] = {}
            for name, value in table.items():
                if name in ("naam", "regio"):
                    checked_table[name] = value
                    continue
                if name not in params:
                    problems.append(
                        f"Onbekende parameter '{name}' voor gemeente '{key}' in"
                        f" {where}.{did_you_mean(name, params)}"
                    )
                else:
                    checked_table[name] = check_value(
                        name, value, params[name], where, problems, gemeente=key
                    )
            target = _find_gemeente_key(merged, key) or key
            merged.setdefault(target, {}).update(checked_table)
            config_gemeenten.setdefault(key, {}).update(checked_table)
        if problems:
            raise (ParameterOverrideError if "configuratie" in where else RuleSetError)(problems)
        config_overrides = {**self.config_overrides, **{k: params[k].value for k in overrides}}
        return replace(
            self,
            parameters=params,
            gemeenten=merged,
            config_overrides=config_overrides,
            config_gemeenten=config_gemeenten,
        )

    def check_gemeente_keys(self, codes: Iterable[Any] | None, names: Iterable[Any] | None) -> None:
        """Refuse per-gemeente values that would reach no site: a key that names no gemeente.

        Parameters
        ----------
        codes, names
            CBS codes and names of the gemeenten of the input layer
            ``[lagen.gemeenten]``; ``None`` for both when there is no such layer.

        Raises
        ------
        ConfigError
            For a config table ``[regels.gemeenten."…"]`` whose name or code
            matches no gemeente (of the layer, or without a layer of the rule
            set's gemeente table), with a "bedoelde u …?" hint.
        RuleSetError
            For a rule-set table ``[gemeenten.…]`` with its own parameter
            values, keyed by a name (not a CBS code), that matches no gemeente
            of the layer.
        """
        have_layer = codes is not None or names is not None
        if have_layer:
            known_codes = {
                str(c).upper(): str(c)
                for c in (codes if codes is not None else [])
                if c is not None and not _is_missing(c)
            }
            known_names = {
                str(n).casefold(): str(n)
                for n in (names if names is not None else [])
                if n is not None and not _is_missing(n)
            }
            where_known = "de laag [lagen.gemeenten]"
        else:
            known_codes = {k.upper(): k for k in self.ruleset_gemeenten if _is_cbs_code(k)}
            known_names = {
                str(t.get("naam", k)).casefold(): str(t.get("naam", k))
                for k, t in self.ruleset_gemeenten.items()
            }
            where_known = (
                f"de gemeententabel van regelset '{self.id}' (er is geen laag [lagen.gemeenten])"
            )
        options = sorted(set(known_names.values()) | set(known_codes.values()))

        def matches(key: str) -> bool:
            identifiers = {key}
            target = _find_gemeente_key(self.gemeenten, key)
            if target is not None:
                identifiers |= {target, str(self.gemeenten[target].get("naam", target))}
            return any(i.upper() in known_codes or i.casefold() in known_names for i in identifiers)

        config_problems = [
            f"[regels.gemeenten.\"{key}\"] in de configuratie: gemeente '{key}' komt niet voor in"
            f" {where_known}; deze waarden zouden op geen enkele locatie worden"
            f" toegepast.{did_you_mean(key, options)} Gebruik de naam of de CBS-code (bv. GM0983)"
            " van de gemeente."
            for key in self.config_gemeenten
            if not matches(key)
        ]
        ruleset_problems = []
        if have_layer:
            ruleset_problems = [
                f"Regelset '{self.id}': [gemeenten.\"{key}\"] heeft eigen parameterwaarden, maar"
                f" gemeente '{key}' komt niet voor in {where_known} en is geen"
                f" CBS-code.{did_you_mean(key, options)}"
                for key, table in self.ruleset_gemeenten.items()
                if not _is_cbs_code(key) and set(table) - {"naam", "regio"} and not matches(key)
            ]
        if config_problems:
            raise ConfigError(config_problems + ruleset_problems)
        if ruleset_problems:
            raise RuleSetError(ruleset_problems)

    def per_site(
        self, name: str, gemeente_code: pd.Series | None, gemeente_name: pd.Series | None
    ) -> np.ndarray:
        """Resolve parameter ``name`` per site, honouring per-gemeente values.

        Parameters
        ----------
        name
            The parameter.
        gemeente_code, gemeente_name
            The gemeente of each site (CBS code and name; missing allowed).

        Returns
        -------
        numpy.ndarray
            One value per site: the gemeente's own value where it sets one,
            else the province-wide value.
        """
        default = self.value(name)
        n = (
            len(gemeente_code)
            if gemeente_code is not None
            else len(gemeente_name)
            if gemeente_name is not None
            else 0
        )
        dtype = bool if isinstance(default, bool) else object if isinstance(default, str) else float
        out = np.full(n, default, dtype=dtype)
        overrides = {k: v[name] for k, v in self.gemeenten.items() if name in v}
        if not overrides or n == 0:
            return out
        # A table keyed by CBS code or by name, or carrying naam = "..." for its code.
        lookup_code: dict[str, Any] = {}
        lookup_name: dict[str, Any] = {}
        for key, value in overrides.items():
            table = self.gemeenten[key]
            if _is_cbs_code(key):
                lookup_code[key.upper()] = value
            else:
                lookup_name[key.casefold()] = value
            if "naam" in table:
                lookup_name.setdefault(str(table["naam"]).casefold(), value)
        resolved = pd.Series(np.nan, index=range(n), dtype="object")
        if gemeente_name is not None and lookup_name:
            names = pd.Series(gemeente_name).reset_index(drop=True).astype("object")
            resolved = names.str.casefold().map(lookup_name)
        if gemeente_code is not None and lookup_code:
            codes = pd.Series(gemeente_code).reset_index(drop=True).astype("object")
            by_code = codes.str.upper().map(lookup_code)
            resolved = by_code.where(by_code.notna(), resolved)
        mask = resolved.notna().to_numpy()
        if mask.any():
            out[mask] = resolved[mask].astype(dtype).to_numpy()
        return out

    def region_of(self, gemeente_code: pd.Series, gemeente_name: pd.Series) -> pd.Series:
        """Return the ``regio`` of each site's gemeente from the rule set's table (None when
        unknown)."""
        by_code = {k.upper(): v.get("regio") for k, v in self.gemeenten.items() if _is_cbs_code(k)}
        by_name = {
            str(v.get("naam", k)).casefold(): v.get("regio") for k, v in self.gemeenten.items()
        }
        codes = pd.Series(gemeente_code, dtype="object").reset_index(drop=True)
        names = pd.Series(gemeente_name, dtype="object").reset_index(drop=True)
        region = codes.str.upper().map(by_code)
        return region.where(region.notna(), names.str.casefold().map(by_name))

    def fingerprint(self) -> str:
        """Return a sha256 over the effective parameters, rules and gemeente values."""
        payload = {
            "id": self.id,
            "versie": self.version,
            "parameters": {k: p.value for k, p in sorted(self.parameters.items())},
            "regels": [r.id for r in self.rules],
            "gemeenten": {k: dict(v) for k, v in sorted(self.gemeenten.items())},
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()

    def parameter_origins(self) -> dict[str, dict[str, Any]]:
        """Every effective province-wide parameter with its origin.

        Returns ``{name: {waarde, eenheid, min, max, herkomst, regelset_waarde}}``
        where ``herkomst`` is ``"regelset"`` or ``"config"`` and
        ``regelset_waarde`` is what the rule-set file says (so a config value
        that hides a rule-set change stays visible).
        """
        return {
            name: {
                "waarde": p.value,
                "eenheid": p.unit,
                "min": p.minimum,
                "max": p.maximum,
                "herkomst": "config" if name in self.config_overrides else "regelset",
                "regelset_waarde": self.ruleset_values.get(name, p.value),
            }
            for name, p in self.parameters.items()
        }

    def gemeente_parameter_origins(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every effective per-gemeente parameter value with its origin.

        Returns ``{gemeente: {parameter: {waarde, herkomst}}}`` keyed as the
        effective gemeente tables (CBS code or name), with ``herkomst``
        ``"regelset-gemeente"`` or ``"config-gemeente"``, plus the gemeente's
        ``naam`` when known.
        """
        from_config: dict[str, set[str]] = {}
        for key, table in self.config_gemeenten.items():
            target = _find_gemeente_key(self.gemeenten, key) or key
            from_config.setdefault(target, set()).update(
                p for p in table if p not in ("naam", "regio")
            )
        out: dict[str, dict[str, Any]] = {}
        for key, table in self.gemeenten.items():
            values = {
                name: {
                    "waarde": value,
                    "herkomst": (
                        "config-gemeente"
                        if name in from_config.get(key, ())
                        else "regelset-gemeente"
                    ),
                }
                for name, value in table.items()
                if name not in ("naam", "regio")
            }
            if values:
                out[key] = {"naam": table.get("naam", key), "parameters": values}
        return out

    def record(self) -> dict[str, Any]:
        """Return the rule set as a JSON-able dict for the run record."""
        return {
            "id": self.id,
            "versie": self.version,
            "naam": self.name,
            "datum": self.date,
            "herkomst": self.origin,
            "vingerafdruk": self.fingerprint(),
            "parameters": {k: p.value for k, p in self.parameters.items()},
            "parameters_herkomst": self.parameter_origins(),
            "gemeente_parameters": self.gemeente_parameter_origins(),
            "regelset_gemeente_waarden": {
                k: {
                    "naam": t.get("naam", k),
                    "parameters": {p: v for p, v in t.items() if p not in ("naam", "regio")},
                }
                for k, t in self.ruleset_gemeenten.items()
                if set(t) - {"naam", "regio"}
            },
            "regels": [
                {
                    "id": r.id,
                    "titel": r.title,
                    "soort": r.kind,
                    "oordeel": dict(r.verdict),
                    "strafpunten": dict(r.penalty),
                    "reden": dict(r.reason),
                    "bron": r.source,
                    "bron_kort": r.source_short,
                    "betrouwbaarheid": r.confidence,
                    **(
                        {
                            "deels": {
                                "aandeel_veld": r.partial.share_field,
                                "geheel_vanaf": r.partial.whole_from,
                                "oordeel": dict(r.partial.verdict),
                            }
                        }
                        if r.partial
                        else {}
                    ),
                    **(
                        {
                            "laag": {
                                "naam": r.layer.layer,
                                "buffer_m": r.layer.buffer,
                                "alleen_buiten": r.layer.outside_only,
                                "waarde_vanaf": r.layer.min_value,
                                "bouwwerk": list(r.layer.buildings or []),
                                "verblijfstypen": list(r.layer.stays or []),
                                "huisvestingsvorm": r.layer.housing_form,
                            }
                        }
                        if r.layer
                        else {}
                    ),
                }
                for r in self.rules
            ],
            "gemeenten_met_eigen_waarden": sorted(
                k for k, v in self.gemeenten.items() if set(v) - {"naam", "regio"}
            ),
        }


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _is_cbs_code(key: str) -> bool:
    return len(key) == 6 and key[:2].upper() == "GM" and key[2:].isdigit()


def _find_gemeente_key(tables: Mapping[str, Mapping[str, Any]], key: str) -> str | None:
    for existing, table in tables.items():
        if (
            existing.casefold() == key.casefold()
            or str(table.get("naam", "")).casefold() == key.casefold()
        ):
            return existing
    return None


def format_number(value: Any) -> str:
    """A number as a planner reads it: ``0,1``, ``14``, ``5000``, ``1e+12``, ``nan``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return repr(value)
    return f"{float(value):g}".replace(".", ",")


def range_text(low: float, high: float, unit: str) -> str:
    suffix = f" {unit}" if unit and unit not in ("fractie", "ja/nee") else ""
    return f"{format_number(low)} tot en met {format_number(high)}{suffix}"


def check_value(
    name: str,
    value: Any,
    param: Parameter,
    where: str,
    problems: list[str],
    gemeente: str | None = None,
) -> Any:
    """Check ``value`` for parameter ``param``: its type, finiteness, valid range and legal range.

    Returns the value as the engine uses it (numbers as float). Problems are
    appended as Dutch sentences naming the parameter (and gemeente), the
    value and the range.
    """
    default = param.value
    label = (
        f"Parameter '{name}'"
        + (f" voor gemeente '{gemeente}'" if gemeente else "")
        + f" in {where}"
    )
    if isinstance(default, bool):
        if not isinstance(value, bool):
            problems.append(f"{label} moet true of false zijn, niet {value!r}.")
        return value
    if isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{label} moet een getal zijn, niet {value!r}.")
            return value
        value = float(value)
        _check_number(label, value, param, problems)
        return value
    if isinstance(default, Mapping):
        if not isinstance(value, Mapping):
            problems.append(
                f"{label} moet een tabel zijn zoals in de regelset ({', '.join(default)}), niet"
                f" {value!r}."
            )
            return value
        out = {}
        for key, item in value.items():
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                problems.append(f"{label}: '{key}' moet een getal zijn, niet {item!r}.")
                out[key] = item
                continue
            out[key] = float(item)
            _check_number(f"{label} ('{key}')", float(item), param, problems)
        return out
    return value


def _check_number(label: str, value: float, param: Parameter, problems: list[str]) -> None:
    unit = param.unit
    shown = format_number(value) + (
        f" {unit}" if unit and unit not in ("fractie", "ja/nee") else ""
    )
    if not math.isfinite(value):
        hint = (
            f"; geef een getal van {range_text(param.minimum, param.maximum, unit)}"
            if param.minimum is not None
            else ""
        )
        problems.append(f"{label} is geen eindig getal ({format_number(value)}){hint}.")
        return
    legal = ODOUR_LEGAL_RANGES.get(param.name)
    if legal is not None and not legal[0] <= value <= legal[1]:
        problems.append(
            f"{label} is {shown}; dat ligt buiten de {ODOUR_LEGAL_BASIS}:"
            f" {range_text(legal[0], legal[1], unit)}."
        )
        return
    if (
        param.minimum is not None
        and param.maximum is not None
        and not param.minimum <= value <= param.maximum
    ):
        problems.append(
            f"{label} is {shown}; toegestaan is {range_text(param.minimum, param.maximum, unit)} "
            "(bereik 'min'/'max' in de regelset)."
        )
