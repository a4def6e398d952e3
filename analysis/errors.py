"""Exception hierarchy of Locatietoets.

Every error a user can cause (bad configuration, bad input data, a bad rule
set) is a subclass of :class:`LocatietoetsError`, which subclasses
``ValueError``. Messages are full Dutch sentences for planners: they name the
layer, the field, what was found and how to fix it. Validation collects every
problem it finds and raises them together, so a user fixes a config in one go.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
import difflib

__all__ = [
    "LocatietoetsError",
    "ConfigError",
    "InputError",
    "RuleSetError",
    "ParameterOverrideError",
    "OutputError",
    "CancelledError",
    "combine_errors",
    "did_you_mean",
]


class LocatietoetsError(ValueError):
    """Base class: an error the user can fix, with a Dutch message.

    Parameters
    ----------
    problems
        One message per problem found; they are reported together.
    """

    title = "Fout"

    def __init__(self, problems: str | Sequence[str]) -> None:
        if isinstance(problems, str):
            problems = [problems]
        self.problems: list[str] = list(dict.fromkeys(problems))  # same problem once
        super().__init__(self._render())

    def _render(self) -> str:
        if len(self.problems) == 1:
            return self.problems[0]
        lines = [f"{len(self.problems)} problemen gevonden:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class ConfigError(LocatietoetsError):
    """The configuration file is missing, unreadable or inconsistent."""

    title = "Fout in de configuratie"


class InputError(LocatietoetsError):
    """An input layer is missing, unreadable, or has unusable contents."""

    title = "Fout in de invoer"


class RuleSetError(LocatietoetsError):
    """A rule-set file is malformed or refers to unknown rules or parameters."""

    title = "Fout in de regelset"


class ParameterOverrideError(ConfigError, RuleSetError):
    """A rule-set parameter value given in the configuration (``[regels]``) is unknown or invalid.

    It is a configuration error (the title says so) about a rule-set parameter,
    so callers catching either kind see it.
    """

    title = ConfigError.title


class OutputError(LocatietoetsError):
    """The output folder cannot be used: it would replace an input, cannot be written, or is in
    use."""

    title = "Fout in de uitvoer"


class CancelledError(LocatietoetsError):
    """The user cancelled the run (from the plugin or with Ctrl+C)."""

    title = "Afgebroken"


def combine_errors(errors: Sequence[LocatietoetsError]) -> LocatietoetsError:
    """One error holding the problems of ``errors`` (their class when they agree), so all are
    reported at once."""
    if len(errors) == 1:
        return errors[0]
    kinds = {type(e) for e in errors}
    kind = kinds.pop() if len(kinds) == 1 else LocatietoetsError
    combined = kind([p for e in errors for p in e.problems])
    if kind is LocatietoetsError:
        combined.title = "Fouten in configuratie, regelset en invoer"
    return combined


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """Return a Dutch "bedoelde u ...?" hint for a misspelt name, or ``""``.

    Parameters
    ----------
    word
        The name the user wrote.
    options
        The names that are allowed.
    """
    options = [str(o) for o in options]
    lowered = {o.lower(): o for o in options}
    if word.lower() in lowered:
        return f" Bedoelde u '{lowered[word.lower()]}'? (let op hoofdletters)"
    matches = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not matches:
        matches = [
            lowered[m]
            for m in difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
        ]
    return f" Bedoelde u '{matches[0]}'?" if matches else ""
