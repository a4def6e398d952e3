"""Read text files (configs, rule sets, CSV tables) whatever encoding a planner's tools gave them.

UTF-8, with or without a byte-order mark, is read silently. A CSV table that
is not UTF-8 is read as Windows-1252 (what Excel on Windows writes; latin-1
for the usual Dutch letters) with a warning naming the encoding, or in the
encoding its layer names with ``codering``. Anything else is a Dutch error
naming the file, the line and the fix.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from locatietoets.analysis.errors import LocatietoetsError

__all__ = ["decode_text", "ENCODING_NAMES"]

#: Dutch names of the encodings in messages.
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "cp1252": "Windows-1252",
    "latin-1": "Latin-1 (ISO-8859-1)",
    "utf-16": "UTF-16",
}


def _line_of(data: bytes, position: int) -> int:
    return data.count(b"\n", 0, position) + 1


def decode_text(
    data: bytes,
    path: Path,
    *,
    error: type[LocatietoetsError],
    label: str = "",
    fallback: bool = False,
    encoding: str | None = None,
) -> tuple[str, str | None]:
    """Decode the bytes of a text file.

    Parameters
    ----------
    data
        The file's bytes.
    path
        The file, for messages.
    error
        The error class to raise (ConfigError, InputError, RuleSetError).
    label
        Prefix of messages, e.g. ``"[lagen.locaties]"``.
    fallback
        Read a non-UTF-8 file as Windows-1252 (CSV tables) instead of failing.
    encoding
        The encoding the user named (``codering``); used as given.

    Returns
    -------
    text, warning
        The text (without byte-order mark) and a Dutch warning when it was
        not read as UTF-8, else ``None``.
    """
    prefix = f"{label} " if label else ""
    if encoding:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise error(
                f"{prefix}codering '{encoding}' is onbekend. Gebruik bv. codering = \"utf-8\","
                ' "cp1252" (Windows-1252) of "latin-1".'
            ) from None
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            raise error(
                f"{prefix}'{path}' is niet te lezen als {encoding} (regel"
                f" {_line_of(data, exc.start)}, byte 0x{data[exc.start]:02x}). Controleer"
                " 'codering' of sla het bestand op als UTF-8."
            ) from None
        return text.removeprefix("\ufeff"), None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16")
        return (
            text.removeprefix("\ufeff"),
            f"'{path.name}' is gelezen als UTF-16 (gevonden aan de byte-order mark)",
        )
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line, bad = _line_of(data, exc.start), data[exc.start]
    if fallback:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            pass
        else:
            return (
                text,
                (
                    f"'{path.name}' is geen UTF-8 (regel {line}); gelezen als Windows-1252. Klopt"
                    ' dat niet, geef dan de codering op (codering = "...") of sla het bestand op'
                    " als UTF-8"
                ),
            )
    raise error(
        f"{prefix}'{path}' is geen UTF-8-tekst: regel {line} bevat byte 0x{bad:02x}. Sla het"
        " bestand op als UTF-8 (in Kladblok of Excel: 'Opslaan als' met codering UTF-8)"
        + (' of geef de codering op, bv. codering = "cp1252".' if fallback else ".")
    )
