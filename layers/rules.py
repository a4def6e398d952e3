"""Load rule-set files: the built-in default or the user's, plus config overrides."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
import tomllib

from analysis.errors import RuleSetError
from analysis.ruleset import RuleSet, parse_ruleset
from analysis.verdict import EVALUATORS, REASON_FIELDS
from layers.config import RulesConfig

__all__ = ["DEFAULT_RULESET", "load_ruleset", "read_ruleset_file"]

#: File name of the built-in rule set in ``analysis/rulesets``.
DEFAULT_RULESET = "limburg-povi2021.toml"


def read_ruleset_file(path: Path | None = None) -> RuleSet:
    """Read and validate a rule-set file (``None``: the built-in default)."""
    if path is None:
        ref = resources.files("analysis") / "rulesets" / DEFAULT_RULESET
        text = ref.read_text(encoding="utf-8")
        origin = f"ingebouwd: {DEFAULT_RULESET}"
    else:
        if not path.is_file():
            raise RuleSetError(
                f"Regelset-bestand '{path}' bestaat niet. Controleer 'bestand' onder [regels], "
                "of laat het weg voor de ingebouwde regelset."
            )
        from layers.textfile import decode_text

        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise RuleSetError(f"Regelset-bestand '{path}' kan niet gelezen worden: {exc.strerror}.") from None
        text, _ = decode_text(raw, path, error=RuleSetError, label="Regelset-bestand")
        origin = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleSetError(f"Regelset '{origin}' is geen geldige TOML: {exc}.") from None
    return parse_ruleset(data, origin=origin, known_rules=EVALUATORS, known_fields=REASON_FIELDS)


def load_ruleset(rules: RulesConfig) -> RuleSet:
    """Return the effective rule set for a config's ``[regels]`` table."""
    ruleset = read_ruleset_file(rules.file)
    return ruleset.with_overrides(rules.overrides, rules.gemeenten)
