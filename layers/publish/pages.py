"""Self-contained Dutch HTML pages and tables of the planning analyses (capaciteit.html,
vergelijking.html); their ``<section>`` can be lifted into a report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
import html

import numpy as np
import pandas as pd

from locatietoets.analysis.texts import nl_number

__all__ = ["html_page", "html_table"]


def html_table(
    frame: pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    digits: int = 0,
    negative_red: Sequence[str] = (),
) -> str:
    """Render a table as HTML with Dutch number formatting (values escaped)."""
    columns = dict(columns) if columns else {c: c for c in frame.columns}
    head = "".join(f"<th>{html.escape(label)}</th>" for label in columns.values())
    rows = []
    for rec in frame[list(columns)].itertuples(
        index=False
    ):  # tables of gemeenten/rules: tens of rows
        cells = []
        for name, value in zip(columns, rec):
            numeric = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
                value, (bool, np.bool_)
            )
            cls = ' class="num"' if numeric else ""
            if numeric and name in negative_red and np.isfinite(value) and value < 0:
                cls = ' class="num neg"'
            cells.append(f"<td{cls}>{html.escape(nl_number(value, digits))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


_CSS = (
    "body{font-family:Segoe UI,Arial,sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em}"
    "th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left}th{background:#f1efe9}"
    "td.num{text-align:right}td.neg{color:#b2182b;font-weight:bold}.meta{color:#5a5a5a;font-size:.85em}"
)


def html_page(title: str, body: str, *, meta: str = "") -> str:
    """A self-contained Dutch HTML page; the ``<section>`` inside can be lifted into a report."""
    return (
        '<!DOCTYPE html>\n<html lang="nl"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f'<section class="locatietoets-sectie"><h1>{html.escape(title)}</h1>'
        + (f'<p class="meta">{html.escape(meta)}</p>' if meta else "")
        + body
        + "</section></body></html>\n"
    )
