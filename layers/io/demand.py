"""Read the demand table of ``locatietoets capaciteit``: persons per gemeente and stay type."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import pandas as pd

from locatietoets.analysis.errors import InputError, did_you_mean
from locatietoets.analysis.ruleset import STAY_TYPES

__all__ = ["DEMAND_HELP", "read_demand_table"]

log = logging.getLogger(__name__)

#: Format of the demand table, for --help and error messages.
DEMAND_HELP = (
    "CSV met ';' of ',' als scheidingsteken (UTF-8), één regel per gemeente: kolom 'gemeente' (naam"
    " of CBS-code GMxxxx; ook 'code' of 'naam' mag) en per verblijfstype de behoefte in personen in"
    " kolommen short_stay, mid_stay, long_stay (minstens één; 'short-stay' mag ook; decimale komma"
    " mag). Gemeenten die niet in de tabel staan krijgen 'geen opgave'."
)
_KEY_COLUMNS = ("gemeente", "gemeentecode", "code", "gemeentenaam", "naam")


def _stay_column(name: str) -> str | None:
    key = str(name).strip().casefold().replace("-", "_").replace(" ", "_")
    if key in STAY_TYPES:
        return key
    if key.replace("_", "") in {s.replace("_", "") for s in STAY_TYPES}:
        return next(s for s in STAY_TYPES if s.replace("_", "") == key.replace("_", ""))
    return None


def read_demand_table(path: Path) -> pd.DataFrame:
    """Read the demand table (see :data:`DEMAND_HELP`).

    Returns
    -------
    pandas.DataFrame
        ``gemeente`` (text as written) and one float column per stay type
        given (persons; an empty cell is 0).

    Raises
    ------
    InputError
        Missing/unreadable file, no gemeente column, no stay-type column,
        text or negative numbers (all problems together).
    """
    path = Path(path)
    if not path.is_file():
        hint = (
            did_you_mean(path.name, [p.name for p in path.parent.iterdir()])
            if path.parent.is_dir()
            else ""
        )
        raise InputError(f"Behoeftetabel '{path}' bestaat niet.{hint} {DEMAND_HELP}")
    from locatietoets.layers.io.textfile import decode_text

    try:
        text, note = decode_text(
            path.read_bytes(), path, error=InputError, label="Behoeftetabel", fallback=True
        )
        if note:
            log.warning("Behoeftetabel: %s", note)
        sample = text[: 64 * 1024]
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=";,\t").delimiter
        except csv.Error:
            delimiter = ";" if sample.count(";") > sample.count(",") else ","
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError) as exc:
        raise InputError(
            f"Behoeftetabel '{path}' is niet leesbaar als CSV ({exc}). {DEMAND_HELP}"
        ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    lower = {c.casefold(): c for c in frame.columns}
    key = next((lower[k] for k in _KEY_COLUMNS if k in lower), None)
    stay_cols = {c: _stay_column(c) for c in frame.columns}
    stay_cols = {c: s for c, s in stay_cols.items() if s}
    problems = []
    if key is None:
        problems.append(
            f"Behoeftetabel '{path.name}' heeft geen kolom"
            f" 'gemeente'.{did_you_mean('gemeente', frame.columns)} Gevonden kolommen:"
            f" {', '.join(frame.columns)}. {DEMAND_HELP}"
        )
    if not stay_cols:
        problems.append(
            f"Behoeftetabel '{path.name}' heeft geen kolom per verblijfstype (short_stay, mid_stay,"
            f" long_stay). Gevonden kolommen: {', '.join(frame.columns)}."
        )
    if problems:
        raise InputError(problems)
    if len(frame) == 0:
        raise InputError(f"Behoeftetabel '{path.name}' is leeg. {DEMAND_HELP}")
    out = pd.DataFrame({"gemeente": frame[key].str.strip().to_numpy()})
    for col, stay in stay_cols.items():
        text = (
            frame[col]
            .str.strip()
            .str.replace(".", "", regex=False)
            .where(
                ~frame[col].str.contains(r"^\s*\d+\.\d{1,2}\s*$", regex=True),
                frame[col].str.strip(),
            )
        )
        text = text.str.replace(",", ".", regex=False)
        values = pd.to_numeric(text.where(text != "", "0"), errors="coerce")
        bad = values.isna()
        if bad.any():
            problems.append(
                f"Behoeftetabel '{path.name}' kolom '{col}' moet aantallen personen bevatten;"
                f" gevonden o.a. {', '.join(repr(v) for v in frame.loc[bad, col].unique()[:5])}"
                f" (bij {', '.join(frame.loc[bad, key].astype(str).unique()[:5])})."
            )
        if (values < 0).any():
            problems.append(
                f"Behoeftetabel '{path.name}' kolom '{col}' heeft negatieve aantallen; alleen ≥ 0"
                " is geldig."
            )
        out[stay] = values.to_numpy(dtype=float)
    if problems:
        raise InputError(problems)
    return out
