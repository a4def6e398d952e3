"""Vectorised Dutch text building for reasons (``redenen``).

Reasons are built for a million sites at once, so nothing here loops over
sites in Python: templates are split once into literal text and fields, and
each field is formatted as a whole column. Numbers use the Dutch decimal comma
("14,0 OUe/m³").
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
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
    "render_rows",
    "format_codes",
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


#: Dutch notation: thousands with a dot, decimals with a comma (1.234,5).
_DUTCH = str.maketrans({",": ".", ".": ","})


def format_codes(values: np.ndarray, spec: str = "") -> tuple[list[str], np.ndarray]:
    """:func:`format_number` as a table of distinct texts and, per value, the index of its text.

    Each distinct rounded value is formatted once (values are grouped by hashing, not sorting), so
    the cost in Python is per distinct value, not per site; a missing value gets "onbekend".
    """
    arr = np.asarray(values, dtype="float64")
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
        codes, unique = pd.factorize(np.floor(safe + 0.5).astype("int64").reshape(-1))
        texts = [f"{v:,}" for v in unique.tolist()]
    else:
        key = np.round(safe, 2 if decimals is None else decimals).reshape(-1)
        # grouped on the bit pattern, which keeps -0.0 apart from 0.0 ("-0,0" stays "-0,0")
        codes, bits = pd.factorize(key.view(np.int64))
        unique = np.asarray(bits, dtype=np.int64).view(np.float64).tolist()
        if decimals is None:
            texts = [f"{v:,.2f}".rstrip("0").rstrip(".") for v in unique]
        else:
            pattern = f"{{:,.{decimals}f}}"
            texts = [pattern.format(v) for v in unique]
    # one translation over all texts (no number text holds a newline)
    texts = "\n".join(texts).translate(_DUTCH).split("\n") if texts else []
    missing = missing.reshape(-1)
    if missing.any():
        codes = np.where(missing, len(texts), codes)
        texts.append("onbekend")
    return texts, codes


def _format_array(arr: np.ndarray, spec: str) -> np.ndarray:
    """:func:`format_number` as an object array; each distinct rounded value is formatted once."""
    texts, codes = format_codes(arr, spec)
    table = np.empty(len(texts), dtype=object)
    table[:] = texts
    return table[codes]


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


def render_rows(
    template: str,
    value_of: Callable[[str], tuple[Hashable, object]],
    rows: np.ndarray,
    n: int,
    *,
    suffix: str = "",
    cache: dict | None = None,
) -> "pa.Array":
    """Render ``template`` (plus a literal ``suffix``) for the sites ``rows`` of ``n`` sites, in
    Arrow: a ``large_string`` array of length ``n``, null outside ``rows``.

    The text of each site is that of :func:`render_array` for the same values.

    Parameters
    ----------
    value_of
        Per field name ``(key, value)``: ``value`` a column of all ``n`` sites (array or Series)
        or a scalar that is the same for every site; ``key`` names the column for ``cache``.
        Raises ``KeyError`` for a field that does not exist.
    rows
        Ascending positions of the sites to render.
    cache
        Text columns converted to Arrow once for all ``n`` sites, kept by ``key`` between calls
        (the caller's dict; a template of another rule reusing the field finds it there).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    cache = {} if cache is None else cache
    outside = np.ones(n, dtype=bool)
    outside[rows] = False
    at: dict[str, pa.Array] = {}

    def positions() -> pa.Array:
        # per site its position in ``rows``; null outside
        if "rows" not in at:
            where = np.zeros(n, dtype=np.int64)
            where[rows] = np.arange(len(rows))
            at["rows"] = pa.array(where, mask=outside)
        return at["rows"]

    # A template for up to two thirds of the sites is joined over those rows and then spread out
    # to all sites; one for more is joined over all sites with nulls outside the rows (no spread).
    # Measured on blocks of 50,000: the spread costs less than the work of the null rows (a
    # scatter, a validity mask and a take over all sites per field) up to about 65 % of the sites.
    compact = len(rows) * 3 < n * 2

    def sites() -> pa.Array:
        # where a column of all sites is taken: the rows, or per site its own position (null
        # outside)
        if "sites" not in at:
            at["sites"] = (
                pa.array(np.asarray(rows, dtype=np.int64))
                if compact
                else pa.array(np.arange(n, dtype=np.int64), mask=outside)
            )
        return at["sites"]

    def from_table(texts: list[str], codes: np.ndarray) -> pa.Array:
        # per row the text ``texts[code]``
        table = pa.array(texts, type=pa.large_string())
        if compact:
            return table.take(pa.array(np.asarray(codes, dtype=np.int64)))
        full = np.zeros(n, dtype=np.int64)
        full[rows] = codes
        return table.take(pa.array(full, mask=outside))

    def listed(texts: np.ndarray) -> pa.Array:
        # the texts of the rows, in row order
        column = pa.array(texts, type=pa.large_string())
        return column if compact else column.take(positions())

    def filled(taken: pa.Array) -> pa.Array:
        # a text column taken at the rows with its missing values inside the rows as ""
        if taken.null_count == (0 if compact else n - len(rows)):
            return taken
        if compact:
            return pc.fill_null(taken, "")
        return pc.coalesce(taken, from_table([""], np.zeros(len(rows), dtype=np.int64)))

    # literal text as str (adjacent pieces merged into one join argument), columns as Arrow arrays
    parts: list[object] = []

    def add(part: object) -> None:
        if isinstance(part, str) and parts and isinstance(parts[-1], str):
            parts[-1] += part
        elif not isinstance(part, str) or part:
            parts.append(part)

    for literal, field, spec, _conv in _FORMATTER.parse(template):
        add(literal)
        if not field:
            continue
        key, value = value_of(field)
        spec = spec or ""
        if isinstance(value, pd.Series):
            if isinstance(value.dtype, pd.StringDtype) and not spec.endswith("%"):
                # text: the Arrow column itself, taken at the rows (missing → "")
                if (key, "") not in cache:
                    column = value.array.__arrow_array__()
                    column = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
                    cache[key, ""] = column.cast(pa.large_string())
                add(filled(cache[key, ""].take(sites())))
                continue
            if not isinstance(value.dtype, np.dtype):  # another extension type: as render_array
                add(listed(_column_array(value.iloc[rows], spec, len(rows))))
                continue
            value = value.to_numpy()
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        if isinstance(value, np.ndarray):
            if spec.endswith("%") or value.dtype.kind in "fiu":
                picked = value[rows]
                if _constant(picked):  # a parameter with one value for these sites: literal text
                    texts, _ = _number_codes(picked[:1], spec)
                    add(texts[0])
                    continue
                texts, codes = _number_codes(picked, spec)
                add(from_table(texts, codes))
            elif value.dtype.kind == "b":
                add(from_table(["nee", "ja"], value[rows].astype(np.int64)))
            elif value.ndim == 1 and len(value) == n:
                # text: converted once for all sites, taken at the rows
                if (key, "") not in cache:
                    cache[key, ""] = _text_column(value)
                add(cache[key, ""].take(sites()))
            else:
                add(listed(_column_array(value[rows], spec, len(rows))))
            continue
        # the same for every site
        add(str(_column_array(value, spec, 1)[0]))
    add(suffix)
    if not any(isinstance(part, pa.Array) for part in parts):
        # only literal text: one column (null outside the rows) carries the length
        parts.append(from_table([""], np.zeros(len(rows), dtype=np.int64)))
    joined = pc.binary_join_element_wise(
        *(pa.scalar(p, type=pa.large_string()) if isinstance(p, str) else p for p in parts),
        pa.scalar("", type=pa.large_string()),
    )
    return joined.take(positions()) if compact else joined


def _constant(values: np.ndarray) -> bool:
    """Whether ``values`` (numbers, at least one) are all the same value, bit for bit (-0.0 and
    0.0 differ, as their texts may; NaN counts when its bits are equal)."""
    if not len(values):
        return False
    if values.dtype.kind == "f":
        bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
        return bool((bits == bits[0]).all())
    return bool((values == values[0]).all())


def _text_column(values: np.ndarray) -> "pa.Array":
    """The text of a column of texts (any dtype but numbers and booleans) as :func:`_column_array`
    gives it, as an Arrow ``large_string`` array; str values with gaps go straight to Arrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if values.dtype.kind == "O" and pd.api.types.infer_dtype(values, skipna=True) in (
        "string",
        "empty",
    ):
        # only str and missing values: Arrow reads the str values and marks the gaps null ("")
        column = pa.array(values, type=pa.large_string(), from_pandas=True)
        return pc.fill_null(column, "")
    return pa.array(_column_array(values, "", len(values)), type=pa.large_string())


def _number_codes(values: np.ndarray, spec: str) -> tuple[list[str], np.ndarray]:
    """:func:`format_codes` of a field as :func:`_column_array` formats it (``.0%``: a share 0–1 as
    a percentage)."""
    if spec.endswith("%"):
        texts, codes = format_codes(np.asarray(values, dtype="float64") * 100.0, spec[:-1] + "f")
        return [text if text == "onbekend" else text + " %" for text in texts], codes
    return format_codes(np.asarray(values, dtype="float64"), spec)


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
