"""Write a configuration file (``config.toml``), the product's public contract.

The one writer of the contract that :mod:`locatietoets.layers.io.config` reads: the demo, the
synthetic worlds of the benchmark and the tests, and the data fetcher hand it plain dicts of
layers and keys. It refuses what the reader would refuse by name (an unknown layer, an unknown key
of a layer, a non-text value of a layer key) with a Dutch message, writes paths relative to the
config's folder where the file lies inside it, and writes Dutch comments. The QGIS plugin
cannot import the engine and keeps a copy (``qgis_plugin/config_writer.py``);
``tests/test_config_writer.py`` parses what both write and fails when they drift.

Example::

    write_config(
        folder / "config.toml",
        lagen={"locaties": {"pad": folder / "invoer" / "locaties.gpkg", "id_veld": "code"}},
        regels={"bbg_rand_m": 150, "gemeenten": {"GM0983": {"bbg_rand_m": 100}}},
        kop=["Mijn toets"],
    )
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
import math
import os
from pathlib import Path
import re
import tempfile
from typing import Any

from locatietoets.analysis.errors import ConfigError, did_you_mean
from locatietoets.layers.io.config import (
    CONSTRAINT_LAYER_KEYS,
    CONSTRAINTS,
    LAYER_GROUPS,
    LAYER_KEYS,
)

__all__ = ["PATH_NOTE", "render_config", "write_config"]

#: Comment line written under the header when the config holds relative paths.
PATH_NOTE = "Paden zijn relatief ten opzichte van de map van dit bestand."

_OUTPUT_KEYS = ("map", "geoparquet")
#: Keys written first in a layer table, in this order; the others follow as given.
_FIRST_KEYS = ("pad", "laag", "crs")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def write_config(
    path: str | Path,
    lagen: Mapping[str, Mapping[str, Any]],
    *,
    regels: Mapping[str, Any] | None = None,
    uitvoer: Mapping[str, Any] | None = None,
    kop: Sequence[str] = (),
    toelichting: Mapping[str, Sequence[str]] | None = None,
) -> Path:
    """Write a config file; paths inside its folder are written relative to it.

    The file is written whole or not at all (a temporary file in the same folder, then renamed).

    Parameters
    ----------
    path
        The config file to write (e.g. ``folder / "config.toml"``); its folder is created.
    lagen, regels, uitvoer, kop, toelichting
        See :func:`render_config`.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ConfigError
        Listing every unknown layer or key and every value that cannot be written.
    """
    path = Path(path)
    text = render_config(
        lagen, regels=regels, uitvoer=uitvoer, kop=kop, toelichting=toelichting, folder=path.parent
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp_name, path)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return path


def render_config(
    lagen: Mapping[str, Mapping[str, Any]],
    *,
    regels: Mapping[str, Any] | None = None,
    uitvoer: Mapping[str, Any] | None = None,
    kop: Sequence[str] = (),
    toelichting: Mapping[str, Sequence[str]] | None = None,
    folder: str | Path | None = None,
) -> str:
    """Return the TOML text of a config.

    Parameters
    ----------
    lagen
        Per layer (a name of :data:`~locatietoets.layers.io.config.LAYER_KEYS`) its keys, e.g.
        ``{"pad": Path(...), "id_veld": "code"}``. ``pad`` is required and may be a path; every
        other value is text. ``None`` and ``""`` values are left out (an unset field). Layers are
        written in the order of ``LAYER_KEYS``, keys with ``pad``, ``laag`` and ``crs`` first.
    regels
        The ``[regels]`` table: ``bestand`` (a rule-set file), parameter overrides (numbers, text,
        ja/nee as ``bool``, lists of these) and ``gemeenten`` (per gemeente name or CBS code a
        table of overrides). Parameter names are checked against the rule set when the config is
        read, not here.
    uitvoer
        The ``[uitvoer]`` table: ``map`` (the output folder) and ``geoparquet`` (``True``: a score
        run also writes ``locaties.parquet``).
    kop
        Header comment lines (without ``#``), e.g. where the data comes from.
    toelichting
        Comment lines written above a table, keyed by layer name, ``"regels"`` or ``"uitvoer"``.
    folder
        The config's folder: absolute paths (``pad``, ``bestand``, ``map``) inside it are written
        relative to it. ``None`` writes paths as given.

    Raises
    ------
    ConfigError
        Listing every unknown layer or key and every value that cannot be written.
    """
    folder = None if folder is None else Path(os.path.abspath(folder))
    regels = dict(regels or {})
    uitvoer = dict(uitvoer or {})
    toelichting = dict(toelichting or {})
    problems: list[str] = []
    _check(lagen, uitvoer, toelichting, problems)

    lines = [f"# {line}".rstrip() for line in kop]
    if folder is not None and _has_relative_path(lagen, regels, uitvoer, folder):
        lines.append(f"# {PATH_NOTE}")
    if lines:
        lines.append("")

    # the fixed layers in LAYER_KEYS order, then the constraint layers and facilities as given
    constraints = [n for n in lagen if _allowed_keys(n) is not None and n not in LAYER_KEYS]
    for name in [*LAYER_KEYS, *constraints]:
        table = lagen.get(name)
        if not isinstance(table, Mapping):  # absent, or reported by _check
            continue
        where = f"[lagen.{name}]"
        keys = [k for k in _FIRST_KEYS if k in table] + [k for k in table if k not in _FIRST_KEYS]
        body = []
        for key in keys:
            value = table[key]
            if value is None or value == "":
                continue
            if key == "pad":
                body.append(f"pad = {_string(_path_text(value, folder, where, problems))}")
            elif isinstance(value, str):
                body.append(f"{_key(key)} = {_string(value)}")
            else:
                problems.append(
                    f"{where} {key} moet tekst zijn (een veldnaam of keuze), niet {value!r}."
                )
        if "pad" not in table or table["pad"] in (None, ""):
            problems.append(f"{where} mist 'pad': het bestand met de laag.")
        lines += _comments(toelichting.get(name, ()))
        lines += [where, *body, ""]

    gemeenten = regels.pop("gemeenten", None) or {}
    if "bestand" in regels:
        regels["bestand"] = _path_text(regels["bestand"], folder, "[regels] bestand", problems)
    if regels or gemeenten:
        lines += _comments(toelichting.get("regels", ()))
        lines.append("[regels]")
        for key in sorted(regels, key=lambda k: k != "bestand"):
            lines.append(f"{_key(key)} = {_value(regels[key], f'[regels] {key}', problems)}")
        lines.append("")
    if not isinstance(gemeenten, Mapping):
        problems.append(
            "[regels.gemeenten] moet per gemeente een tabel hebben, bv."
            ' {"Venlo": {"bbg_rand_m": 150}}.'
        )
        gemeenten = {}
    for gemeente, values in gemeenten.items():
        where = f"[regels.gemeenten.{_key(str(gemeente))}]"
        if not isinstance(values, Mapping):
            problems.append(f"{where} moet een tabel zijn, bv. {{'bbg_rand_m': 150}}.")
            continue
        lines.append(where)
        for key, value in values.items():
            lines.append(f"{_key(key)} = {_value(value, f'{where} {key}', problems)}")
        lines.append("")

    geoparquet = uitvoer.get("geoparquet")
    if geoparquet is not None and not isinstance(geoparquet, bool):
        problems.append(f"[uitvoer] geoparquet moet ja/nee zijn (True/False), niet {geoparquet!r}.")
    if uitvoer.get("map") not in (None, "") or isinstance(geoparquet, bool):
        lines += _comments(toelichting.get("uitvoer", ()))
        lines.append("[uitvoer]")
        if uitvoer.get("map") not in (None, ""):
            lines.append(
                f"map = {_string(_path_text(uitvoer['map'], folder, '[uitvoer] map', problems))}"
            )
        if isinstance(geoparquet, bool):
            lines.append(f"geoparquet = {'true' if geoparquet else 'false'}")
        lines.append("")

    if problems:
        raise ConfigError(problems)
    return "\n".join(lines).rstrip("\n") + "\n"


# --- checks -------------------------------------------------------------------------------------


def _check(
    lagen: Mapping[str, Mapping[str, Any]],
    uitvoer: Mapping[str, Any],
    toelichting: Mapping[str, Sequence[str]],
    problems: list[str],
) -> None:
    for name, table in lagen.items():
        allowed = _allowed_keys(name)
        if allowed is None:
            problems.append(
                f"Onbekende laag [lagen.{name}].{did_you_mean(str(name), LAYER_KEYS)} "
                f"Bekende lagen: {', '.join(LAYER_KEYS)}, en eigen beperkingen als"
                " beperkingen.<naam> (kleine letters, cijfers en _)."
            )
            continue
        if not isinstance(table, Mapping):
            problems.append(f"[lagen.{name}] moet een tabel zijn met minstens 'pad'.")
            continue
        for key in table:
            if key not in allowed:
                problems.append(
                    f"Onbekende sleutel '{key}' in [lagen.{name}].{did_you_mean(str(key), allowed)}"
                    f" Toegestaan: {', '.join(sorted(allowed))}."
                )
    for key in uitvoer:
        if key not in _OUTPUT_KEYS:
            problems.append(
                f"Onbekende sleutel '{key}' in [uitvoer].{did_you_mean(str(key), _OUTPUT_KEYS)}"
                f" Toegestaan: {', '.join(_OUTPUT_KEYS)}."
            )
    tables = [*LAYER_KEYS, "regels", "uitvoer"]
    for key in toelichting:
        if key not in tables and _allowed_keys(key) is None:
            problems.append(
                f"Toelichting bij een onbekende tabel '{key}'.{did_you_mean(str(key), tables)}"
                f" Kies uit: {', '.join(tables)}."
            )


def _allowed_keys(name: str) -> set[str] | None:
    """The keys a layer table may have: of a fixed layer, of a declared constraint layer
    ``beperkingen.<naam>`` (written as ``[lagen.beperkingen.<naam>]``) or of a facility kind
    ``voorzieningen.<soort>``; None for an unknown layer."""
    if name in LAYER_KEYS:
        return set(LAYER_KEYS[name])
    from locatietoets.analysis.constraints import LAYER_NAME_PATTERN

    prefix = f"{CONSTRAINTS}."
    if name.startswith(prefix) and LAYER_NAME_PATTERN.match(name.removeprefix(prefix)):
        return set(CONSTRAINT_LAYER_KEYS)
    group, _, member = name.partition(".")
    if group in LAYER_GROUPS and LAYER_NAME_PATTERN.match(member):
        return set(LAYER_GROUPS[group])  # [lagen.voorzieningen.<soort>]
    return None


def _has_relative_path(
    lagen: Mapping[str, Mapping[str, Any]],
    regels: Mapping[str, Any],
    uitvoer: Mapping[str, Any],
    folder: Path,
) -> bool:
    paths = [t.get("pad") for t in lagen.values() if isinstance(t, Mapping)]
    paths += [regels.get("bestand"), uitvoer.get("map")]
    return any(
        isinstance(p, (str, os.PathLike)) and p != "" and _relative(p, folder) is not None
        for p in paths
    )


# --- TOML text ----------------------------------------------------------------------------------


def _relative(value: str | os.PathLike, folder: Path | None) -> str | None:
    """``value`` as a POSIX path relative to ``folder``, or ``None`` when it lies outside."""
    path = Path(os.fspath(value))
    if not path.is_absolute():
        return path.as_posix()
    if folder is None:
        return None
    for base, target in ((folder, Path(os.path.abspath(path))), (folder.resolve(), path.resolve())):
        try:
            return target.relative_to(base).as_posix()
        except ValueError:
            continue
    return None


def _path_text(value: Any, folder: Path | None, where: str, problems: list[str]) -> str:
    if not isinstance(value, (str, os.PathLike)) or value == "":
        problems.append(f"{where} moet een pad zijn (tekst), niet {value!r}.")
        return ""
    relative = _relative(value, folder)
    return relative if relative is not None else os.fspath(value)


def _comments(lines: Iterable[str]) -> list[str]:
    return [f"# {line}".rstrip() for line in lines]


def _string(value: str) -> str:
    """A TOML basic string (quotes, backslashes and control characters escaped)."""
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


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _value(value: Any, where: str, problems: list[str]) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return repr(value)
        problems.append(
            f"{where} = {value!r} kan niet in de configuratie: alleen eindige getallen."
        )
        return "0"
    if isinstance(value, (str, os.PathLike)):
        return _string(os.fspath(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v, where, problems) for v in value) + "]"
    problems.append(
        f"{where} = {value!r} kan niet in de configuratie: geef een getal, tekst, ja/nee (true/"
        "false) of een lijst daarvan."
    )
    return '""'
