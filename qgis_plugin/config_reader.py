"""Read the user's settings: an existing ``config.toml`` as the starting point of a Toets locaties
run, and the dialog's parameter overrides ("bbg_rand_m=150; max_termijn_jaar=5").

The counterpart of :mod:`qgis_plugin.config_writer` (no engine import): the layers with their keys
(paths made absolute against the config's folder), the rule set, the parameter overrides and the
per-gemeente overrides. Python 3.11+ reads TOML itself (``tomllib``); older Pythons need ``tomli``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import math
import os
import re
from typing import Any

__all__ = ["StartConfig", "parse_overrides", "read_config"]

_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class StartConfig:
    """What a config file gives a run: config layer name -> keys, rule set, overrides."""

    layers: dict[str, dict[str, Any]] = field(default_factory=dict)
    ruleset: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    gemeenten: dict[str, dict[str, Any]] = field(default_factory=dict)


def _toml_load(path: str) -> dict[str, Any]:
    try:
        import tomllib  # Python 3.11+
    except ImportError:  # pragma: no cover - QGIS with an older Python
        try:
            import tomli as tomllib
        except ImportError:
            raise ValueError(
                "De Python van deze QGIS kan geen TOML lezen (Python 3.11 of het pakket 'tomli'"
                " is nodig): kies de lagen in het dialoogvenster."
            ) from None
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ValueError(f"De configuratie '{path}' is niet te lezen: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"De configuratie '{path}' is geen geldige TOML: {exc}") from None


def _absolute(value: Any, folder: str) -> Any:
    if isinstance(value, str) and value and not os.path.isabs(value) and "://" not in value:
        return os.path.normpath(os.path.join(folder, value))
    return value


def read_config(path: str) -> StartConfig:
    """The layers, rule set and overrides of a config file; raises ``ValueError`` (Dutch)."""
    data = _toml_load(path)
    folder = os.path.dirname(os.path.abspath(path))
    start = StartConfig()
    lagen = data.get("lagen") or {}
    if not isinstance(lagen, dict):
        raise ValueError(f"In '{path}' is 'lagen' geen tabel ([lagen.locaties] enz.).")
    for name, table in lagen.items():
        if not isinstance(table, dict):
            continue
        if name == "beperkingen":
            for sub, sub_table in table.items():
                if isinstance(sub_table, dict):
                    start.layers[f"beperkingen.{sub}"] = {
                        k: _absolute(v, folder) if k == "pad" else v for k, v in sub_table.items()
                    }
            continue
        start.layers[name] = {
            k: _absolute(v, folder) if k == "pad" else v for k, v in table.items()
        }
    regels = data.get("regels") or {}
    if isinstance(regels, dict):
        for key, value in regels.items():
            if key == "bestand":
                start.ruleset = _absolute(value, folder)
            elif key == "gemeenten" and isinstance(value, dict):
                start.gemeenten = {g: dict(v) for g, v in value.items() if isinstance(v, dict)}
            else:
                start.overrides[key] = value
    return start


def _parse_scalar(text: str) -> Any:
    text = text.strip()
    low = text.lower()
    if low in {"true", "waar", "ja"}:
        return True
    if low in {"false", "onwaar", "nee"}:
        return False
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if re.fullmatch(r"[-+]?\d+", text):
        return int(text)
    number = text.replace(",", ".") if re.fullmatch(r"[-+]?\d+,\d+", text) else text
    try:
        value = float(number)
    except ValueError:
        return text
    if not math.isfinite(value):
        return text
    return value


def parse_overrides(text: str | None) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Parse "bbg_rand_m=150; max_termijn_jaar=5" into rule-parameter overrides.

    Entries are separated by ``;`` or new lines. Values are numbers (a decimal
    comma is accepted: ``0,5``), ``true``/``false`` or text. A key
    ``gemeenten.<naam of GM-code>.<parameter>`` sets a per-gemeente value.

    Returns
    -------
    (overrides, gemeenten)

    Raises
    ------
    ValueError
        With a Dutch message listing every malformed entry.
    """
    overrides: dict[str, Any] = {}
    gemeenten: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for raw in re.split(r"[;\n]", text or ""):
        entry = raw.strip()
        if not entry:
            continue
        if "=" not in entry:
            problems.append(f"'{entry}' mist een '=' (schrijf bijvoorbeeld bbg_rand_m=150)")
            continue
        key, value = (part.strip() for part in entry.split("=", 1))
        if value == "":
            problems.append(f"'{entry}' heeft geen waarde na '='")
            continue
        parts = key.split(".")
        if len(parts) >= 3 and parts[0] == "gemeenten":
            gemeente, param = ".".join(parts[1:-1]).strip().strip("'\""), parts[-1]
            if not gemeente or not _KEY_RE.match(param):
                problems.append(
                    f"'{key}' is geen geldige sleutel (gebruik gemeenten.<naam of"
                    " GM-code>.<parameter>)"
                )
                continue
            gemeenten.setdefault(gemeente, {})[param] = _parse_scalar(value)
            continue
        if not _KEY_RE.match(key) or key in {"bestand", "gemeenten"}:
            problems.append(
                f"'{key}' is geen geldige parameternaam (letters, cijfers en _, bv. bbg_rand_m)"
            )
            continue
        overrides[key] = _parse_scalar(value)
    if problems:
        raise ValueError("Parameteraanpassingen niet te lezen: " + "; ".join(problems) + ".")
    return overrides, gemeenten
