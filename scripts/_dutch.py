"""Dutch wording for click's own messages (usage, help, errors).

click translates its messages with :mod:`gettext`; no Dutch catalogue ships
with it, so this module installs one in-process. Messages not listed stay
English.
"""

from __future__ import annotations

import gettext

import click

__all__ = ["install"]

NL: dict[str, str] = {
    "Usage:": "Gebruik:",
    "Options": "Opties",
    "Commands": "Commando's",
    "Positional arguments": "Argumenten",
    "Show this message and exit.": "Toon deze hulp en stop.",
    "Show the version and exit.": "Toon de versie en stop.",
    "Error: {message}": "Fout: {message}",
    "Try '{command} {option}' for help.": "Zie '{command} {option}' voor hulp.",
    "Missing argument": "Ontbrekend argument",
    "Missing option": "Ontbrekende optie",
    "Missing parameter": "Ontbrekende parameter",
    "Missing command.": "Geen commando opgegeven.",
    "Missing {param_type}": "Ontbrekend {param_type}",
    "Missing parameter: {param_name}": "Ontbrekende parameter: {param_name}",
    "No such command {name!r}.": "Onbekend commando {name!r}.",
    "No such option {name!r}.": "Onbekende optie {name!r}.",
    "Did you mean {possibility}?": "Bedoelde u {possibility}?",
    "Option {name!r} requires an argument.": "Optie {name!r} heeft een waarde nodig.",
    "Option {name!r} does not take a value.": "Optie {name!r} neemt geen waarde.",
    "Got unexpected extra argument ({args})": "Onverwacht extra argument ({args})",
    "Invalid value for {param_hint}: {message}": "Ongeldige waarde voor {param_hint}: {message}",
    "Invalid value: {message}": "Ongeldige waarde: {message}",
    "{value!r} is not {choice}.": "{value!r} is niet {choice}.",
    "{value!r} is not one of {choices}.": "{value!r} is niet een van {choices}.",
    "{value!r} is not a valid {number_type}.": "{value!r} is geen geldig {number_type}.",
    "{value} is not in the range {range}.": "{value} ligt niet in het bereik {range}.",
    "{name} {filename!r} does not exist.": "{name} {filename!r} bestaat niet.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} is een map.",
    "{name} {filename!r} is a file.": "{name} {filename!r} is een bestand.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} is niet leesbaar.",
    "{name} {filename!r} is not writable.": "{name} {filename!r} is niet schrijfbaar.",
    "default: {default}": "standaard: {default}",
    "required": "verplicht",
    "env var: {var}": "omgevingsvariabele: {var}",
    "(DEPRECATED)": "(VEROUDERD)",
    "Aborted!": "Afgebroken.",
    "file": "bestand",
    "directory": "map",
    "path": "pad",
}


def _translate(message: str) -> str:
    return NL.get(message, gettext.gettext(message))


def _ntranslate(singular: str, plural: str, n: int) -> str:
    if singular == "Did you mean {possibility}?":
        return "Bedoelde u {possibility}?" if n == 1 else "(Bedoelde u een van: {possibilities}?)"
    return _translate(singular) if n == 1 else _translate(plural)


#: Names of click's parameter types: their upper-case form is the metavar in --help (TEKST, GETAL
#: instead of TEXT, INTEGER RANGE) and the name is used in "... is geen geldig getal".
TYPE_NAMES = {
    click.types.StringParamType: "tekst",
    click.types.IntParamType: "getal",
    click.types.FloatParamType: "getal",
    click.types.IntRange: "getal",
    click.types.FloatRange: "getal",
    click.types.BoolParamType: "ja/nee",
}


def install() -> None:
    """Make click speak Dutch in this process."""
    for cls, name in TYPE_NAMES.items():
        cls.name = name
    for module in (
        click.core,
        click.exceptions,
        click.formatting,
        click.decorators,
        click.types,
        click.parser,
    ):
        if hasattr(module, "_"):
            module._ = _translate
        if hasattr(module, "ngettext"):
            module.ngettext = _ntranslate
