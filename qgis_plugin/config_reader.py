"""Read an existing ``config.toml`` as the starting point of a Toets locaties run.

The counterpart of :mod:`qgis_plugin.config_writer` (no engine import): the layers with their keys
(paths made absolute against the config's folder), the rule set, the parameter overrides and the
per-gemeente overrides. Python 3.11+ reads TOML itself (``tomllib``); older Pythons need ``tomli``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import os
from typing import Any

__all__ = ["StartConfig", "read_config"]


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
