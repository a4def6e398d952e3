"""Read and validate the TOML configuration file, the product's public contract.

A config names the input layers (``[lagen.*]``) and the rule set with its
overrides (``[regels]``). Relative paths resolve against the config file's
folder. Every problem found is reported at once, with a "bedoelde u ...?"
hint for misspelt keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
import re
import tomllib
from typing import Any

from locatietoets.analysis.errors import ConfigError, did_you_mean
from locatietoets.analysis.vocabulary import STAY_TYPES
from locatietoets.layers.io.read import check_inputs
from locatietoets.layers.io.spec import Config, LayerSpec, RulesConfig
from locatietoets.layers.io.textfile import decode_text

__all__ = [
    "LayerSpec",
    "RulesConfig",
    "Config",
    "LAYER_KEYS",
    "CONSTRAINT_LAYER_KEYS",
    "CONSTRAINTS",
    "LAYER_GROUPS",
    "layer_keys",
    "load_config",
    "parse_config",
]

_COMMON_KEYS = {"pad", "laag", "crs", "x_veld", "y_veld", "wkt_veld", "codering"}

#: Allowed keys per layer; ``pad`` is required for every layer that is given.
LAYER_KEYS: dict[str, set[str]] = {
    "locaties": (
        _COMMON_KEYS
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
        }
    ),
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
#: Groups of layers, one table per name: ``[lagen.voorzieningen.<soort>]`` (a soort is lower-case
#: letters, digits and _); the layer's config name is ``"voorzieningen.<soort>"``. ``selectie_veld``
#: with ``selectie_waarden`` (comma-separated) keeps only the features whose field has one of those
#: values (e.g. OSM ``shop`` = ``supermarket``).
LAYER_GROUPS: dict[str, set[str]] = {
    "voorzieningen": _COMMON_KEYS | {"naam_veld", "selectie_veld", "selectie_waarden"},
}
_GROUP_MEMBER = re.compile(r"^[a-z][a-z0-9_]*$")

_REQUIRED_LAYER_KEYS = {
    "geurcontouren": {"waarde_veld": "het veld met de contourwaarde in OUe/m³"},
    "kernen": {"inwoners_veld": "het veld met het aantal inwoners van de kern"},
    "bestaande_huisvesting": {
        "personen_veld": "het veld met het aantal arbeidsmigranten dat er woont"
    },
}

#: Allowed keys of a declared constraint layer ``[lagen.beperkingen.<naam>]`` (any number of
#: them, each named by the gemeente; a rule-set rule with ``laag = "<naam>"`` tests it).
CONSTRAINT_LAYER_KEYS: set[str] = _COMMON_KEYS | {"naam_veld", "waarde_veld"}
#: The config table that holds the declared constraint layers.
CONSTRAINTS = "beperkingen"



def layer_keys(name: str) -> set[str]:
    """The keys allowed in the table of layer ``name`` (``"voorzieningen.ov_halte"`` and
    ``"beperkingen.natura2000"`` too)."""
    group = name.split(".", 1)[0]
    if "." in name and group == CONSTRAINTS:
        return CONSTRAINT_LAYER_KEYS
    if "." in name and group in LAYER_GROUPS:
        return LAYER_GROUPS[group]
    return LAYER_KEYS[name]
_MODES = ("auto", "fiets", "lopen")
_STAY_TYPES = STAY_TYPES
_TOP_KEYS = {"lagen", "regels", "uitvoer"}
_OUTPUT_KEYS = {"map", "geoparquet"}


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML config file.

    Parameters
    ----------
    path
        The config file; relative paths inside it resolve against its folder.

    Raises
    ------
    ConfigError
        When the file is missing or unreadable, or lists every problem found.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"Configuratiebestand '{path}' bestaat niet. Geef het pad naar een .toml-bestand (zie"
            " README voor een voorbeeld, of draai 'locatietoets demo' voor een werkend voorbeeld)."
        )

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"Configuratiebestand '{path}' kan niet gelezen worden: {exc.strerror}."
        ) from None
    text, _ = decode_text(raw, path, error=ConfigError, label="Configuratiebestand")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Configuratiebestand '{path}' is geen geldige TOML: {exc}.") from None
    return parse_config(data, base_dir=path.resolve().parent, source=path.resolve())


def parse_config(data: Mapping[str, Any], *, base_dir: Path, source: Path | None = None) -> Config:
    """Validate a config already read into a dict.

    Parameters
    ----------
    data
        The parsed TOML.
    base_dir
        Folder that relative paths resolve against.
    source
        The config file, for messages and the run record.
    """
    problems: list[str] = []
    for key in data:
        if key not in _TOP_KEYS:
            problems.append(
                f"Onbekende sectie [{key}] in de configuratie.{did_you_mean(key, _TOP_KEYS)} "
                f"Toegestaan: {', '.join(sorted(_TOP_KEYS))}."
            )

    layers: dict[str, LayerSpec] = {}
    partial: dict[str, LayerSpec] = {}  # every layer with a usable 'pad', to check its file too
    lagen = data.get("lagen", {})
    if not isinstance(lagen, Mapping):
        problems.append(
            "[lagen] moet een tabel zijn met per laag een sectie, bv. [lagen.locaties]."
        )
        lagen = {}
    for name, table in lagen.items():
        if name == CONSTRAINTS:
            _parse_constraint_layers(table, base_dir, problems, partial, layers)
            continue
        if name in LAYER_GROUPS:
            _parse_group(name, table, base_dir, problems, partial, layers)
            continue
        if name not in LAYER_KEYS:
            known = [*LAYER_KEYS, CONSTRAINTS, *LAYER_GROUPS]
            problems.append(
                f"Onbekende laag [lagen.{name}].{did_you_mean(name, known)} "
                f"Bekende lagen: {', '.join([*LAYER_KEYS, *LAYER_GROUPS])}; een eigen beperking"
                " (natuur, geluid, ...) als [lagen.beperkingen.<naam>]."
            )
            continue
        if not isinstance(table, Mapping):
            problems.append(f"[lagen.{name}] moet een tabel zijn met minstens 'pad'.")
            continue
        spec = _parse_layer(name, table, base_dir, problems, partial)
        if spec is not None:
            layers[name] = spec
    if "locaties" not in lagen:
        problems.append(
            "De laag [lagen.locaties] ontbreekt; die is verplicht. Voeg toe:\n"
            '    [lagen.locaties]\n    pad = "locaties.gpkg"'
        )

    rules = _parse_rules(data.get("regels", {}), base_dir, problems)

    output_dir = None
    geoparquet = False
    uitvoer = data.get("uitvoer", {})
    if isinstance(uitvoer, Mapping):
        for key in uitvoer:
            if key not in _OUTPUT_KEYS:
                problems.append(
                    f"Onbekende sleutel '{key}' in [uitvoer].{did_you_mean(key, _OUTPUT_KEYS)}"
                )
        if "map" in uitvoer:
            output_dir = (base_dir / str(uitvoer["map"])).resolve()
        geoparquet = uitvoer.get("geoparquet", False)
        if not isinstance(geoparquet, bool):
            problems.append(
                f"[uitvoer] geoparquet moet true of false zijn, niet {geoparquet!r}:"
                " geoparquet = true schrijft ook locaties.parquet."
            )
            geoparquet = False

    if problems:
        # also report what is wrong with the layer files, so the config is fixed in one go
        try:
            problems += [
                p
                for ps in check_inputs(
                    Config(source=source, layers=partial, rules=RulesConfig())
                ).values()
                for p in ps
            ]
        except Exception:  # noqa: BLE001 - the config problems are reported in any case
            pass
        raise ConfigError(problems)
    return Config(
        source=source, layers=layers, rules=rules, output_dir=output_dir, geoparquet=geoparquet
    )


def _parse_constraint_layers(
    table: Any,
    base_dir: Path,
    problems: list[str],
    partial: dict[str, LayerSpec],
    layers: dict[str, LayerSpec],
) -> None:
    """``[lagen.beperkingen.<naam>]``: one layer per constraint, kept as ``beperkingen.<naam>``."""
    from locatietoets.analysis.constraints import LAYER_NAME_PATTERN, layer_fields
    from locatietoets.analysis.vocabulary import RESULT_FIELDS

    if not isinstance(table, Mapping) or not all(isinstance(v, Mapping) for v in table.values()):
        problems.append(
            "[lagen.beperkingen] moet per beperking een tabel hebben, bv."
            ' [lagen.beperkingen.natura2000] met pad = "natura2000.gpkg".'
        )
        return
    for constraint, sub in table.items():
        if not LAYER_NAME_PATTERN.match(constraint):
            problems.append(
                f"[lagen.beperkingen.{constraint}]: '{constraint}' is geen geldige naam voor een"
                " beperking: gebruik kleine letters, cijfers en '_', beginnend met een letter (de"
                " naam wordt een veld in de uitvoer), bv. natura2000 of geluid_a2."
            )
            continue
        clash = [f for f in layer_fields(constraint) if f in RESULT_FIELDS]
        if clash:
            problems.append(
                f"[lagen.beperkingen.{constraint}]: de naam '{constraint}' geeft uitvoerveld"
                f" '{clash[0]}', dat de Locatietoets al gebruikt; kies een andere naam."
            )
            continue
        spec = _parse_layer(f"{CONSTRAINTS}.{constraint}", sub, base_dir, problems, partial)
        if spec is not None:
            layers[spec.name] = spec


def _parse_group(
    group: str,
    table: Any,
    base_dir: Path,
    problems: list[str],
    partial: dict[str, LayerSpec],
    layers: dict[str, LayerSpec],
) -> None:
    """``[lagen.<group>.<naam>]``: one layer per name, as ``layers["<group>.<naam>"]``."""
    example = f'[lagen.{group}.ov_halte] met pad = "haltes.gpkg"'
    if not isinstance(table, Mapping) or not table:
        problems.append(f"[lagen.{group}] moet per soort een tabel hebben, bv. {example}.")
        return
    for member, sub in table.items():
        if not isinstance(sub, Mapping):
            problems.append(
                f"[lagen.{group}] {member} = {sub!r}: geef per soort een tabel, bv. {example}."
            )
            continue
        if not _GROUP_MEMBER.match(str(member)):
            problems.append(
                f"[lagen.{group}.{member}]: de naam mag alleen kleine letters, cijfers en _"
                " bevatten en begint met een letter (bv. ov_halte, supermarkt, huisarts)."
            )
            continue
        name = f"{group}.{member}"
        spec = _parse_layer(name, sub, base_dir, problems, partial)
        if spec is not None:
            layers[name] = spec


def _parse_layer(
    name: str,
    table: Mapping[str, Any],
    base_dir: Path,
    problems: list[str],
    partial: dict[str, LayerSpec] | None = None,
) -> LayerSpec | None:
    allowed = layer_keys(name)
    if partial is not None and isinstance(table.get("pad"), str):
        usable = {k: v for k, v in table.items() if k in allowed and isinstance(v, str)}
        path = Path(usable.pop("pad"))
        partial[name] = LayerSpec(
            name=name,
            path=path if path.is_absolute() else (base_dir / path).resolve(),
            layer=usable.pop("laag", None),
            crs=usable.pop("crs", None),
            options=usable,
        )
    ok = True
    for key in table:
        if key not in allowed:
            problems.append(
                f"Onbekende sleutel '{key}' in [lagen.{name}].{did_you_mean(key, allowed)} "
                f"Toegestaan: {', '.join(sorted(allowed))}."
            )
            ok = False
    for key, value in table.items():
        if key in allowed and not isinstance(value, str):
            problems.append(
                f"[lagen.{name}] {key} moet tekst zijn (tussen aanhalingstekens), niet {value!r}."
            )
            ok = False
    if "pad" not in table:
        problems.append(f"[lagen.{name}] mist 'pad': het bestand met de laag.")
        return None
    for key, meaning in _REQUIRED_LAYER_KEYS.get(name, {}).items():
        if key not in table:
            problems.append(f"[lagen.{name}] mist '{key}': {meaning}.")
            ok = False
    if ("selectie_veld" in table) != ("selectie_waarden" in table):
        problems.append(
            f"[lagen.{name}] geef selectie_veld en selectie_waarden samen op (bv. selectie_veld ="
            ' "shop" en selectie_waarden = "supermarket"), of geen van beide.'
        )
        ok = False
    if (
        name == "locaties"
        and "standaard_verblijfstype" in table
        and table["standaard_verblijfstype"] not in _STAY_TYPES
    ):
        value = str(table["standaard_verblijfstype"])
        problems.append(
            f"[lagen.locaties] standaard_verblijfstype '{value}' is"
            f" onbekend.{did_you_mean(value, _STAY_TYPES)} Kies uit: {', '.join(_STAY_TYPES)}."
        )
        ok = False
    if name == "wegennet" and "modus" in table and table["modus"] not in _MODES:
        problems.append(
            f"[lagen.wegennet] modus '{table['modus']}' is"
            f" onbekend.{did_you_mean(str(table['modus']), _MODES)} Kies uit: {', '.join(_MODES)}."
        )
        ok = False
    has_xy = "x_veld" in table or "y_veld" in table
    if has_xy and not ("x_veld" in table and "y_veld" in table):
        problems.append(f"[lagen.{name}] geef zowel x_veld als y_veld op (of wkt_veld).")
        ok = False
    if has_xy and "wkt_veld" in table:
        problems.append(f"[lagen.{name}] geef óf x_veld/y_veld óf wkt_veld op, niet beide.")
        ok = False
    if not ok:
        return None
    path = Path(str(table["pad"]))
    if not path.is_absolute():
        path = (base_dir / path).resolve()
    options = {k: v for k, v in table.items() if k not in {"pad", "laag", "crs"}}
    return LayerSpec(
        name=name, path=path, layer=table.get("laag"), crs=table.get("crs"), options=options
    )


def _parse_rules(table: Any, base_dir: Path, problems: list[str]) -> RulesConfig:
    if not isinstance(table, Mapping):
        problems.append("[regels] moet een tabel zijn.")
        return RulesConfig()
    file = None
    if "bestand" in table:
        file = Path(str(table["bestand"]))
        if not file.is_absolute():
            file = (base_dir / file).resolve()
    gemeenten = table.get("gemeenten", {})
    if not isinstance(gemeenten, Mapping) or not all(
        isinstance(v, Mapping) for v in gemeenten.values()
    ):
        problems.append(
            '[regels.gemeenten] moet per gemeente een tabel hebben, bv. [regels.gemeenten."Venlo"]'
            " met bbg_rand_m = 150."
        )
        gemeenten = {}
    overrides = {k: v for k, v in table.items() if k not in {"bestand", "gemeenten"}}
    # Parameter names are checked against the rule set later (they depend on which rule set is
    # used).
    return RulesConfig(
        file=file, overrides=overrides, gemeenten={str(k): dict(v) for k, v in gemeenten.items()}
    )
