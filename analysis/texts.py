"""Vectorised Dutch text building for reasons (``redenen``).

Reasons are built for a million sites at once, so nothing here loops over
sites in Python: templates are split once into literal text and fields, and
each field is formatted as a whole column. Numbers use the Dutch decimal comma
("14,0 OUe/m³").
"""

from __future__ import annotations

from collections.abc import Mapping
import string
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa

from locatietoets.analysis.vocabulary import nl_number

__all__ = [
    "format_number",
    "nl_number",
    "nl_value",
    "render_template",
    "render_arrow",
    "template_fields",
    "join_nonempty",
]

_FORMATTER = string.Formatter()


def nl_value(value: float) -> str:
    """A number with only the decimals it needs (at most six), in Dutch format: ``250``,
    ``0,35``, ``1.000``, ``12,5`` (where Python's ``:g`` gives ``1000``, ``0.35`` or ``1e+06``)."""
    text = nl_number(value, 6)
    return text.rstrip("0").rstrip(",") if "," in text else text


def template_fields(template: str) -> list[str]:
    """Return the field names used in a ``{field:spec}`` template, in order.

    Raises
    ------
    ValueError
        When a placeholder uses a format other than ``""`` or ``".Nf"``.
    """
    fields = []
    for _, field, spec, _ in _FORMATTER.parse(template):
        if field:
            if spec and not (spec.startswith(".") and spec[-1] in "f%" and spec[1:-1].isdigit()):
                raise ValueError(
                    f"opmaak '{{{field}:{spec}}}' wordt niet ondersteund; gebruik bv."
                    f" {{{field}:.0f}}, {{{field}:.1f}} of {{{field}:.0%}} (een aandeel 0–1 als"
                    " percentage)"
                )
            fields.append(field)
    return fields


def format_number(values: np.ndarray | pd.Series, spec: str = "") -> pd.Series:
    """Format numbers as Dutch text: 1.234,5 (thousands dot, decimal comma); "onbekend" when
    missing.

    Parameters
    ----------
    values
        Numbers (NaN for missing).
    spec
        A Python format spec such as ``".0f"`` or ``".1f"``; ``""`` gives up
        to two decimals without trailing zeros.
    """
    arr = np.asarray(values, dtype="float64")
    if arr.size == 0:
        return pd.Series([], dtype="object")
    return pd.Series(_format_array(arr, spec))


def _format_array(arr: np.ndarray, spec: str) -> np.ndarray:
    """:func:`format_number` as an object array; each distinct rounded value is formatted once."""
    missing = ~np.isfinite(arr)
    if spec.endswith("f") and spec[:-1].lstrip(".").isdigit():
        decimals = int(spec[:-1].lstrip("."))
    elif spec == "":
        decimals = None
    else:
        raise ValueError(f"unsupported number format spec {spec!r}")
    safe = np.where(missing, 0.0, arr)
    if decimals == 0:
        # np.round uses round-half-even; add a tiny bias so 0.5 rounds up like people expect
        key = np.floor(safe + 0.5).astype("int64")
        unique, inverse = np.unique(key, return_inverse=True)
        text = pd.Series(unique).map("{:,}".format)
    else:
        key = np.round(safe, 2 if decimals is None else decimals)
        # unique on the bit pattern keeps -0.0 apart from 0.0 ("-0,0" stays "-0,0")
        bits, inverse = np.unique(key.view(np.int64), return_inverse=True)
        unique = bits.view(np.float64)
        if decimals is None:
            text = pd.Series(unique).map("{:,.2f}".format).str.rstrip("0").str.rstrip(".")
        else:
            text = pd.Series(unique).map(f"{{:,.{decimals}f}}".format)
    # Dutch notation: thousands with a dot, decimals with a comma (1.234,5)
    text = text.str.translate(str.maketrans({",": ".", ".": ","})).to_numpy(dtype=object)
    out = text[inverse.reshape(-1)]
    out[missing] = "onbekend"
    return out


def _column_array(value: object, spec: str, n: int) -> np.ndarray:
    """The text of one template field for ``n`` sites, as an object array of str."""
    if spec.endswith("%"):  # a share 0–1 as a percentage: 0.64 -> "64 %"
        arr = np.asarray(
            value.to_numpy() if isinstance(value, pd.Series) else value, dtype="float64"
        )
        number = (
            _format_array(np.broadcast_to(arr * 100.0, (n,)).copy(), spec[:-1] + "f")
            if n
            else np.empty(0, dtype=object)
        )
        return np.where(number == "onbekend", number, number + " %").astype(object)
    if isinstance(value, (pd.Series, np.ndarray)):
        arr = value.to_numpy() if isinstance(value, pd.Series) else value
        if arr.dtype.kind in "fiu":
            return (
                _format_array(np.asarray(arr, dtype="float64"), spec)
                if arr.size
                else np.empty(0, dtype=object)
            )
        if arr.dtype.kind == "b":
            return np.where(arr, "ja", "nee").astype(object)
        arr = np.asarray(arr, dtype=object)
        if pd.api.types.infer_dtype(arr, skipna=True) in ("string", "empty"):
            # text with gaps: each distinct text once, missing → ""
            codes, uniques = pd.factorize(arr, use_na_sentinel=True)
            table = np.empty(len(uniques) + 1, dtype=object)
            table[:-1] = np.asarray(uniques, dtype=object)
            table[-1] = ""
            return table[codes]
        series = pd.Series(arr, dtype="object")
        return series.where(series.notna(), "").astype(str).to_numpy(dtype=object)
    if isinstance(value, (bool, np.bool_)):
        return np.full(n, "ja" if value else "nee", dtype=object)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return np.full(n, _format_array(np.array([value], dtype="float64"), spec)[0], dtype=object)
    return np.full(n, str(value), dtype=object)


def _column_text(value: object, spec: str, n: int) -> pd.Series:
    return pd.Series(_column_array(value, spec, n))


def render_array(
    template: str, values: Mapping[str, object], n: int, *, suffix: str = ""
) -> np.ndarray:
    """Like :func:`render_template` (plus a literal ``suffix``), as an object array of str.

    The template is turned into one ``%``-format with a slot per field, so
    each site costs one string formatting, not one concatenation per part.
    """
    fmt: list[str] = []
    columns: list[np.ndarray] = []
    for literal, field, spec, _conv in _FORMATTER.parse(template):
        if literal:
            fmt.append(literal.replace("%", "%%"))
        if field:
            if field not in values:
                raise KeyError(field)
            fmt.append("%s")
            columns.append(_column_array(values[field], spec or "", n))
    fmt.append(suffix.replace("%", "%%"))
    pattern = "".join(fmt)
    out = np.empty(n, dtype=object)
    if not columns:
        out[:] = pattern % ()
    elif len(columns) == 1:
        out[:] = [pattern % (a,) for a in columns[0].tolist()]
    else:
        out[:] = [pattern % t for t in zip(*(c.tolist() for c in columns))]
    return out


def render_arrow(
    template: str, values: Mapping[str, object], n: int, *, suffix: str = ""
) -> "pa.Array":
    """:func:`render_array` as an Arrow ``large_string`` array, joined in Arrow (no Python string
    per site).

    Each field column is formatted as in :func:`render_array` (each distinct
    value once), then the literals and columns are concatenated element-wise.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    parts: list[object] = []
    for literal, field, spec, _conv in _FORMATTER.parse(template):
        if literal:
            parts.append(pa.scalar(literal, type=pa.large_string()))
        if field:
            if field not in values:
                raise KeyError(field)
            column = pa.array(_column_array(values[field], spec or "", n), type=pa.large_string())
            if column.null_count:  # not expected: every formatted field is text
                return pa.array(
                    render_array(template, values, n, suffix=suffix), type=pa.large_string()
                )
            parts.append(column)
    if suffix:
        parts.append(pa.scalar(suffix, type=pa.large_string()))
    if not any(isinstance(part, pa.Array) for part in parts):
        text = "".join(part.as_py() for part in parts)
        return pa.array(np.full(n, text, dtype=object), type=pa.large_string())
    return pc.binary_join_element_wise(*parts, pa.scalar("", type=pa.large_string()))


def render_template(template: str, values: Mapping[str, object], n: int) -> pd.Series:
    """Render ``template`` for ``n`` sites at once.

    Parameters
    ----------
    template
        Text with ``{field}`` or ``{field:.1f}`` placeholders.
    values
        Per field either a column (array or Series of length ``n``) or a
        scalar that is the same for every site.
    n
        Number of sites.

    Returns
    -------
    pandas.Series
        ``n`` strings, with a plain ``RangeIndex``.
    """
    has_fields = any(field for _, field, _, _ in _FORMATTER.parse(template))
    out = render_array(template, values, n)
    return pd.Series(out) if has_fields else pd.Series(out, dtype="object")


def join_nonempty(columns: list[pd.Series], sep: str = "; ") -> pd.Series:
    """Join text columns element-wise, skipping empty strings and missing values."""
    if not columns:
        return pd.Series(dtype="object")
    out = columns[0].reset_index(drop=True).fillna("").astype(object)
    for col in columns[1:]:
        col = col.reset_index(drop=True).fillna("").astype(object)
        both = (out != "") & (col != "")
        out = out.where(col == "", col.where(out == "", out + sep + col)).where(
            ~both, out + sep + col
        )
    return out
