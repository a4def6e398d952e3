"""Vectorised Dutch text building for reasons (``redenen``).

Reasons are built for a million sites at once, so nothing here loops over
sites in Python: templates are split once into literal text and fields, and
each field is formatted as a whole column. Numbers use the Dutch decimal comma
("14,0 OUe/m³").
"""

from __future__ import annotations

from collections.abc import Mapping
import string

import numpy as np
import pandas as pd

__all__ = ["format_number", "render_template", "template_fields", "join_nonempty"]

_FORMATTER = string.Formatter()


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
            if spec and not (spec.startswith(".") and spec.endswith("f") and spec[1:-1].isdigit()):
                raise ValueError(f"opmaak '{{{field}:{spec}}}' wordt niet ondersteund; gebruik bv. {{{field}:.0f}} of {{{field}:.1f}}")
            fields.append(field)
    return fields


def format_number(values: np.ndarray | pd.Series, spec: str = "") -> pd.Series:
    """Format numbers as Dutch text: 1.234,5 (thousands dot, decimal comma); "onbekend" when missing.

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
    missing = ~np.isfinite(arr)
    if spec.endswith("f") and spec[:-1].lstrip(".").isdigit():
        decimals = int(spec[:-1].lstrip("."))
    elif spec == "":
        decimals = None
    else:
        raise ValueError(f"unsupported number format spec {spec!r}")
    safe = np.where(missing, 0.0, arr)
    if decimals is None:
        rounded = np.round(safe, 2)
        text = pd.Series(rounded).map("{:,.2f}".format).str.rstrip("0").str.rstrip(".")
    elif decimals == 0:
        # np.round uses round-half-even; add a tiny bias so 0.5 rounds up like people expect
        text = pd.Series(np.floor(safe + 0.5).astype("int64")).map("{:,}".format)
    else:
        text = pd.Series(np.round(safe, decimals)).map(f"{{:,.{decimals}f}}".format)
    # Dutch notation: thousands with a dot, decimals with a comma (1.234,5)
    text = text.str.translate(str.maketrans({",": ".", ".": ","}))
    text[missing] = "onbekend"
    return text


def _column_text(value: object, spec: str, n: int) -> pd.Series:
    if isinstance(value, (pd.Series, np.ndarray)):
        arr = value.to_numpy() if isinstance(value, pd.Series) else value
        if arr.dtype.kind in "fiu":
            return format_number(arr, spec)
        if arr.dtype.kind == "b":
            return pd.Series(np.where(arr, "ja", "nee"))
        series = pd.Series(arr, dtype="object")
        return series.where(series.notna(), "").astype(str).reset_index(drop=True)
    if isinstance(value, (bool, np.bool_)):
        return pd.Series(["ja" if value else "nee"] * n)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return pd.Series(np.repeat(format_number(np.array([value]), spec).iloc[0], n))
    return pd.Series(np.repeat(str(value), n))


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
    out = pd.Series(np.repeat("", n), dtype="object")
    for literal, field, spec, _conv in _FORMATTER.parse(template):
        if literal:
            out = out + literal
        if field:
            if field not in values:
                raise KeyError(field)
            out = out + _column_text(values[field], spec or "", n)
    return out


def join_nonempty(columns: list[pd.Series], sep: str = "; ") -> pd.Series:
    """Join text columns element-wise, skipping empty strings and missing values."""
    if not columns:
        return pd.Series(dtype="object")
    out = columns[0].reset_index(drop=True).fillna("").astype(object)
    for col in columns[1:]:
        col = col.reset_index(drop=True).fillna("").astype(object)
        both = (out != "") & (col != "")
        out = out.where(col == "", col.where(out == "", out + sep + col)).where(~both, out + sep + col)
    return out
