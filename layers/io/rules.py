"""Load rule-set files: the built-in default or the user's, plus config overrides."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
import tomllib
from typing import Any

from locatietoets.analysis.errors import LocatietoetsError, RuleSetError
from locatietoets.analysis.ruleset import (
    RuleSet,
    describe_layer_rule,
    format_number,
)
from locatietoets.analysis.ruleset_parse import parse_ruleset
from locatietoets.analysis.verdict import EVALUATORS, REASON_FIELDS, facility_rule
from locatietoets.analysis.vocabulary import STAY_TYPES
from locatietoets.layers.io.spec import RulesConfig

__all__ = [
    "DEFAULT_RULESET",
    "README_BEGIN",
    "README_END",
    "check_gemeente_keys",
    "load_ruleset",
    "read_ruleset_file",
    "ruleset_markdown",
]

#: File name of the built-in rule set in ``analysis/rulesets``.
DEFAULT_RULESET = "limburg-povi2021.toml"
#: Markers around the generated rule tables in README.md (see :func:`ruleset_markdown`).
README_BEGIN = (
    "<!-- regeltabel: begin (gemaakt met 'locatietoets regels --markdown'; niet met de hand"
    " wijzigen) -->"
)
README_END = "<!-- regeltabel: einde -->"


def read_ruleset_file(path: Path | None = None) -> RuleSet:
    """Read and validate a rule-set file (``None``: the built-in default)."""
    if path is None:
        ref = resources.files("locatietoets.analysis") / "rulesets" / DEFAULT_RULESET
        text = ref.read_text(encoding="utf-8")
        origin = f"ingebouwd: {DEFAULT_RULESET}"
    else:
        if not path.is_file():
            raise RuleSetError(
                f"Regelset-bestand '{path}' bestaat niet. Controleer 'bestand' onder [regels], "
                "of laat het weg voor de ingebouwde regelset."
            )
        from locatietoets.layers.io.textfile import decode_text

        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise RuleSetError(
                f"Regelset-bestand '{path}' kan niet gelezen worden: {exc.strerror}."
            ) from None
        text, _ = decode_text(raw, path, error=RuleSetError, label="Regelset-bestand")
        origin = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleSetError(f"Regelset '{origin}' is geen geldige TOML: {exc}.") from None
    ruleset = parse_ruleset(
        data, origin=origin, known_rules=EVALUATORS, known_fields=REASON_FIELDS
    )
    missing = [
        f"Regelset '{origin}': regel '{rule.id}' heeft de parameter"
        f" 'voorziening_{parsed[0]}_max_m' nodig (de grootste afstand in m over het wegennet)."
        for rule in ruleset.rules
        if (parsed := facility_rule(rule.id)) is not None
        and parsed[1] == "ver"
        and f"voorziening_{parsed[0]}_max_m" not in ruleset.parameters
    ]
    if missing:
        raise RuleSetError(missing)
    return ruleset


def load_ruleset(rules: RulesConfig) -> RuleSet:
    """Return the effective rule set for a config's ``[regels]`` table."""
    ruleset = read_ruleset_file(rules.file)
    return ruleset.with_overrides(rules.overrides, rules.gemeenten)


def check_gemeente_keys(
    ruleset: RuleSet | None, frames: Mapping[str, Any] | None, *, gemeenten_configured: bool
) -> LocatietoetsError | None:
    """The error for per-gemeente values whose name or code matches no gemeente, or None.

    ``frames`` are the reference layers read (``gemeenten`` with ``naam`` and
    ``code``). Nothing is checked when the rule set did not load, or when a
    configured gemeenten layer could not be read (its own error says why).
    Returned, not raised, so the caller reports it with every other problem.
    """
    if ruleset is None:
        return None
    gemeenten = (frames or {}).get("gemeenten")
    if gemeenten is None and gemeenten_configured:
        return None
    try:
        if gemeenten is None:
            ruleset.check_gemeente_keys(None, None)
        else:
            codes = gemeenten["code"] if "code" in gemeenten.columns else []
            ruleset.check_gemeente_keys(codes, gemeenten["naam"])
    except LocatietoetsError as exc:
        return exc
    return None


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _number(value: object) -> str:
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {_number(v)}" for k, v in value.items())
    return str(value)


def ruleset_markdown(ruleset: RuleSet) -> str:
    """The rule set's rules and parameters as Markdown tables (Dutch), for the README.

    The README holds this text between :data:`README_BEGIN` and
    :data:`README_END`; a test keeps the two equal, so the README's rule
    table always matches the built-in rule set.
    """
    stays = STAY_TYPES
    lines = [
        (
            f"Regelset `{ruleset.id}` versie {ruleset.version} ({ruleset.date}). Oordeel en"
            " strafpunten per verblijfstype; de volledige bron staat in het regelset-bestand en in"
            " `locatietoets regels`."
        ),
        "",
        (
            "| regel | titel | short-stay | mid-stay | long-stay | strafpunten (short/mid/long) |"
            " bron (kort) | betr. |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    for rule in ruleset.rules:
        penalty = "/".join(_number(float(rule.penalty[s])) for s in stays)
        if rule.sliding_penalty:
            penalty += f" + glijdend tot {_number(float(rule.sliding_penalty['punten']))}"
        kind = " (waarschuwing)" if rule.kind == "waarschuwing" else ""
        layer = describe_layer_rule(rule, ruleset.parameters)
        title = f"{rule.title}{kind}" + (f" — {layer}" if layer else "")
        lines.append(
            f"| `{rule.id}` | {_cell(title)} | "
            + " | ".join(_cell(rule.verdict[s]) for s in stays)
            + f" | {penalty} | {_cell(rule.source_short)} | {rule.confidence} |"
        )
    lines += [
        "",
        "| parameter | waarde | eenheid | bereik | betr. |",
        "|---|---|---|---|---|",
    ]
    for p in ruleset.parameters.values():
        span = "" if p.minimum is None else f"{_number(p.minimum)} – {_number(p.maximum)}"
        lines.append(
            f"| `{p.name}` | {_cell(_number(p.value))} | {_cell(p.unit)} | {span} |"
            f" {p.confidence} |"
        )
    return "\n".join(lines) + "\n"
