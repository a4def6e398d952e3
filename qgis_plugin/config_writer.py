"""Write the engine's config file (``config.toml``) from the plugin's layers and parameters.

The plugin must not import the engine, so this is the plugin's copy of the engine's config
writer (``locatietoets.layers.io.config_writer``) and of the layers and keys the engine reads
(``locatietoets.layers.io.config.LAYER_KEYS``). ``tests/test_config_writer.py`` writes the same
config with both and compares what the engine parses, so a drift fails CI. Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
import math
import os
import re
from typing import Any

__all__ = [
    "CONSTRAINT_LAYER_KEYS",
    "CONSTRAINT_NAME_PATTERN",
    "CONSTRAINTS",
    "FACILITIES",
    "LAYER_GROUPS",
    "LAYER_KEYS",
    "LAYER_ORDER",
    "render_config",
]

_COMMON_KEYS = frozenset({"pad", "laag", "crs", "x_veld", "y_veld", "wkt_veld", "codering"})

#: Allowed keys per config layer, in the order the layers are written (copy of the engine's).
LAYER_KEYS: dict[str, frozenset[str]] = {
    "locaties": _COMMON_KEYS
    | {
        "id_veld",
        "verblijfstype_veld",
        "huisvestingsvorm_veld",
        "personen_veld",
        "slaapkamers_veld",
        "woonoppervlak_veld",
        "werkgever_veld",
        "tijdelijk_veld",
        "termijn_jaar_veld",
        "standaard_verblijfstype",
    },
    "bebouwd_gebied": _COMMON_KEYS,
    "bebouwde_kom": _COMMON_KEYS,
    "geurcontouren": _COMMON_KEYS | {"waarde_veld", "veehouderij_veld"},
    "veehouderijen": _COMMON_KEYS | {"vaste_afstand_veld", "naam_veld", "geuremissiefactor_veld"},
    "recreatieparken": _COMMON_KEYS | {"naam_veld"},
    "werkgevers": _COMMON_KEYS | {"naam_veld"},
    "wegennet": _COMMON_KEYS | {"modus", "snelheid_veld", "eenrichting_veld", "wegtype_veld"},
    "gemeenten": _COMMON_KEYS | {"naam_veld", "code_veld", "regio_veld"},
    "kernen": _COMMON_KEYS | {"naam_veld", "inwoners_veld"},
    "bestaande_huisvesting": _COMMON_KEYS | {"naam_veld", "personen_veld"},
}
#: Config layers in the order they are written to config.toml.
LAYER_ORDER = tuple(LAYER_KEYS)
#: Allowed keys of a declared constraint layer ``beperkingen.<naam>`` (copy of the engine's),
#: written after the fixed layers as ``[lagen.beperkingen.<naam>]``.
CONSTRAINT_LAYER_KEYS = _COMMON_KEYS | {"naam_veld", "waarde_veld"}
CONSTRAINTS = "beperkingen"
#: A valid ``<naam>`` of a constraint layer (copy of the engine's).
CONSTRAINT_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
#: Groups of layers, one table per member (copy of the engine's): ``voorzieningen.<soort>``,
#: written after the constraint layers as ``[lagen.voorzieningen.<soort>]``; a ``<soort>``
#: matches :data:`CONSTRAINT_NAME_PATTERN`.
LAYER_GROUPS: dict[str, frozenset[str]] = {
    "voorzieningen": _COMMON_KEYS | {"naam_veld", "selectie_veld", "selectie_waarden"},
}
FACILITIES = "voorzieningen"


def _allowed_keys(name: str) -> frozenset[str] | None:
    if name in LAYER_KEYS:
        return LAYER_KEYS[name]
    prefix = f"{CONSTRAINTS}."
    if name.startswith(prefix) and CONSTRAINT_NAME_PATTERN.match(name[len(prefix) :]):
        return CONSTRAINT_LAYER_KEYS
    group, _, member = name.partition(".")
    if group in LAYER_GROUPS and CONSTRAINT_NAME_PATTERN.match(member):
        return LAYER_GROUPS[group]
    return None


def _toml_string(value: str) -> str:
    out = ['"']
    for char in value:
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char == "\r":
            out.append("\\r")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(
                f"De waarde {value!r} kan niet in de configuratie: alleen eindige getallen."
            )
        return repr(value)
    if isinstance(value, (str, os.PathLike)):
        return _toml_string(os.fspath(value))
    raise TypeError(f"unsupported TOML value: {value!r}")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_string(key)


def render_config(
    layers: Mapping[str, Mapping[str, Any]],
    *,
    ruleset: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    gemeenten: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """Write a Locatietoets config (TOML text) for the engine.

    Raises ``ValueError`` (Dutch) for a layer or a key of a layer the engine does not know.

    Parameters
    ----------
    layers
        Per config layer (``"locaties"``, ``"bebouwd_gebied"``, ...) its keys:
        ``pad`` (absolute path), optional ``laag``, ``crs`` and field keys
        (``id_veld``, ...). ``None`` and ``""`` values are left out. Declared constraint layers
        are given as ``"beperkingen.<naam>"``, facility kinds as ``"voorzieningen.<soort>"``.
    ruleset
        A rule-set TOML file (``[regels] bestand``), or ``None`` for the default.
    overrides
        Rule parameters to override (``{"bbg_rand_m": 150}``).
    gemeenten
        Per-gemeente overrides, keyed by name or CBS code.
    """
    problems = [
        f"Onbekende laag [lagen.{name}]; bekende lagen: {', '.join(LAYER_ORDER)} en"
        " beperkingen.<naam> en voorzieningen.<soort>."
        for name in layers
        if _allowed_keys(name) is None
    ]
    problems += [
        f"Onbekende sleutel '{key}' in [lagen.{name}]; toegestaan: {', '.join(sorted(allowed))}."
        for name, table in layers.items()
        if (allowed := _allowed_keys(name)) is not None
        for key in table
        if key not in allowed
    ]
    if problems:
        raise ValueError(" ".join(problems))
    lines = ["# Gemaakt door de QGIS-plugin Locatietoets.", ""]
    constraints = [name for name in layers if name.startswith(f"{CONSTRAINTS}.")]
    groups = [
        name for name in layers if name not in LAYER_KEYS and name not in constraints
    ]
    for name in [*LAYER_ORDER, *constraints, *groups]:
        table = layers.get(name)
        if table is None:
            continue
        lines.append(f"[lagen.{name}]")
        for key, value in table.items():
            if value is None or value == "":
                continue
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
        lines.append("")
    rules: dict[str, Any] = {}
    if ruleset:
        rules["bestand"] = ruleset
    rules.update(overrides or {})
    if rules or gemeenten:
        lines.append("[regels]")
        for key, value in rules.items():
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
        lines.append("")
    for gemeente, values in (gemeenten or {}).items():
        lines.append(f"[regels.gemeenten.{_toml_string(gemeente)}]")
        for key, value in values.items():
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)
