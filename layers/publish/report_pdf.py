"""``rapport.pdf``: the report's text pages on A4 landscape, laid out with matplotlib.

``TextPages`` places paragraphs and tables with a running title and page numbers and starts a
new page when one is full; ``pdf_text_pages`` writes the sections before and after the maps.
"""

from __future__ import annotations

from collections.abc import Sequence
import re
import textwrap

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
import pandas as pd

from locatietoets.analysis.summary import NO_VERDICT, STAY_TYPES, TOTAL, VERDICTS
from locatietoets.analysis.texts import nl_number
from locatietoets.analysis.vocabulary import STAY_LABELS, stay_label
from locatietoets.layers.publish.figures import A4_LANDSCAPE_IN
from locatietoets.layers.publish.report_charts import (
    reasons_chart,
    verdict_chart,
    verdict_chart_height,
)
from locatietoets.layers.publish.report_content import (
    ReportTables,
    intro_lines,
    parameter_rows,
    percent,
    record_rows,
    stay_types_of,
)
from locatietoets.layers.publish.runfolder import RunFolder, attribution

__all__ = ["MIN_ROWS_TOGETHER", "TextPages", "pdf_text_pages", "table_breaks"]


_LEFT, _RIGHT, _TOP, _BOTTOM = 0.045, 0.955, 0.875, 0.075
#: A table part on a page holds at least this many rows (or the whole table when shorter): no
#: table starts with two rows at the foot of a page, none ends with a tail of two on the next.
MIN_ROWS_TOGETHER = 5


def table_breaks(
    heights: Sequence[float],
    first_room: float,
    page_room: float,
    *,
    title_room: float = 0.0,
    keep: int = MIN_ROWS_TOGETHER,
) -> tuple[bool, list[int]]:
    """Plan where a table of rows of ``heights`` goes to a new page.

    ``first_room`` is the height left for rows on the current page (under the table's title and
    header), ``page_room`` that on a new page (under its header), ``title_room`` the height of
    the table's title, which a table moved to a new page takes along. Returns whether the table
    should start on a new page, and the indices of the rows that open a new page. A first part
    of fewer than ``keep`` rows (``min(keep, len)``) at the foot of a page moves the whole table
    to the next page; a last part of fewer than ``keep`` rows takes rows from the part before it
    (which keeps at least ``keep``), and a table that cannot be split so but fits on one page
    starts on the next; so no page holds an orphaned table tail.
    """
    n = len(heights)

    def fill(start: int, room: float, *, fresh: bool) -> list[int]:
        """Rows from ``start`` that open a new page; the first row on a fresh page always stays
        (a row taller than a page overflows it rather than open page after page)."""
        breaks, left, first = [], room, fresh
        for i in range(start, n):
            if heights[i] > left and not first:
                breaks.append(i)
                left = page_room
            left -= heights[i]
            first = False
        return breaks

    breaks = fill(0, first_room, fresh=False)
    new_page = bool(breaks) and breaks[0] < min(keep, n)
    if new_page:
        breaks = fill(0, page_room - title_room, fresh=True)
    if breaks and n - breaks[-1] < keep:
        start = breaks[-2] if len(breaks) > 1 else 0
        moved = max(start + keep, n - keep)
        if moved < breaks[-1]:
            breaks = [*breaks[:-1], moved, *fill(moved, page_room, fresh=True)]
    if (
        len(breaks) == 1
        and n - breaks[0] < keep
        and not new_page
        and sum(heights) <= page_room - title_room
    ):  # a short table split as few rows + a small tail: whole on the next page
        return True, []
    return new_page, breaks


def wrap_cell(text: str, width: int) -> list[str]:
    """Lines of a table cell: whole words ("voorwaardelijk" is never split); a word longer than
    the column is broken after a '.', '_', '-' or '/' (rule ids, paths: ``geur.knelpunt_`` /
    ``geurgevoelig``) and only where none helps in the middle (a checksum)."""
    lines = textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=False)
    out: list[str] = []
    for line in lines:
        if len(line) <= width:
            out.append(line)
            continue
        current = ""
        for part in re.split(r"(?<=[._/\\-])", line):
            if current and len(current) + len(part) > width:
                out.append(current)
                current = ""
            current += part
            while len(current) > width:
                out.append(current[:width])
                current = current[width:]
        if current:
            out.append(current)
    return out or [""]


class TextPages:
    """A4-landscape text pages with a running title and page numbers."""

    def __init__(self, pdf: PdfPages, run: RunFolder) -> None:
        self.pdf = pdf
        self.run = run
        self.number = 0
        self.fig: Figure | None = None
        self.y = _TOP

    def new(self, title: str, subtitle: str = "") -> None:
        self.flush()
        self.fig = Figure(figsize=A4_LANDSCAPE_IN)
        self.fig.text(
            _LEFT, 0.935, title, fontsize=16, fontweight="bold", color="#222222", va="baseline"
        )
        if subtitle:
            self.fig.text(_LEFT, 0.905, subtitle, fontsize=9, color="#555555", va="baseline")
        if self.run.is_demo:
            self.fig.text(
                _RIGHT,
                0.935,
                "FICTIEF DEMOGEBIED",
                fontsize=10,
                fontweight="bold",
                color=(0.75, 0.1, 0.1),
                ha="right",
                va="baseline",
            )
        self.y = _TOP

    def section(self, title: str, subtitle: str = "", *, room: float = 0.3) -> None:
        """Start a section: on the current page when ``room`` (figure fraction) is left, else on a
        new page, so that pages are filled instead of holding one small table each."""
        if self.fig is None or self.y - room < _BOTTOM:
            self.new(title, subtitle)
            return
        self.y -= 0.025
        self.paragraph(title, size=13, bold=True, gap=0.004)
        if subtitle:
            self.paragraph(subtitle, size=8.5)

    def chart(self, draw, height: float, *, title: str = "", continued: str = "") -> None:
        """Place a chart of ``height`` (figure fraction) drawn by ``draw(fig, rect)``."""
        need = height + (0.05 if title else 0.02)
        if self.fig is None or self.y - need < _BOTTOM:
            self.new(continued or title or "(vervolg)")
        if title:
            self.paragraph(title, size=10.5, bold=True, gap=0.03)
        assert self.fig is not None
        draw(self.fig, (_LEFT, self.y - height, _RIGHT - _LEFT, height))
        self.y -= height + 0.035

    def flush(self) -> None:
        if self.fig is None:
            return
        self.number += 1
        self.fig.text(
            _LEFT,
            0.035,
            f"Locatietoets {self.run.version} · {self.run.ruleset_label} · toetsing"
            f" {self.run.run_date}",
            fontsize=7,
            color="#777777",
        )
        self.fig.text(
            _RIGHT, 0.035, f"pagina {self.number}", fontsize=7, color="#777777", ha="right"
        )
        self.pdf.savefig(self.fig)
        self.fig.clear()
        self.fig = None

    def add_figure(self, fig: Figure) -> None:
        """Add a finished full-page figure (a map)."""
        self.flush()
        self.number += 1
        fig.text(_RIGHT, 0.012, f"pagina {self.number}", fontsize=7, color="#777777", ha="right")
        self.pdf.savefig(fig)

    @staticmethod
    def _lines(text: str, size: float, bold: bool) -> list[str]:
        width = int((_RIGHT - _LEFT) * A4_LANDSCAPE_IN[0] * 72 / (size * (0.6 if bold else 0.55)))
        return textwrap.wrap(text, width=width) or [""]

    def _text_height(self, text: str, *, size: float, bold: bool) -> float:
        """Height (figure fraction) of a paragraph without its gap."""
        return len(self._lines(text, size, bold)) * size * 1.4 / 72 / A4_LANDSCAPE_IN[1]

    def paragraph(
        self, text: str, *, size: float = 9.0, bold: bool = False, gap: float = 0.006
    ) -> None:
        lines = self._lines(text, size, bold)
        height = self._text_height(text, size=size, bold=bold)
        if self.y - height < _BOTTOM:
            title = "(vervolg)"
            self.new(title)
        assert self.fig is not None
        self.fig.text(
            _LEFT,
            self.y,
            "\n".join(lines),
            fontsize=size,
            va="top",
            fontweight="bold" if bold else "normal",
            linespacing=1.3,
            color="#222222",
        )
        self.y -= height + gap

    def table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths: Sequence[float],
        *,
        aligns: Sequence[str] | None = None,
        title: str = "",
        continued: str = "",
        size: float = 7.6,
        bold_last: bool = False,
    ) -> None:
        """Draw a table; rows that do not fit go on a new page under ``continued``."""
        aligns = aligns or ["left"] * len(header)
        total_w = _RIGHT - _LEFT
        scale = total_w / sum(widths)
        xs = [_LEFT]
        for w in widths[:-1]:
            xs.append(xs[-1] + w * scale)
        chars = [
            max(4, int((w * scale * A4_LANDSCAPE_IN[0] * 72 - 4) / (size * 0.63))) for w in widths
        ]
        line_h = size * 1.38 / 72 / A4_LANDSCAPE_IN[1]

        def wrap(cells: Sequence[str]) -> list[list[str]]:
            return [wrap_cell(str(c), n) for c, n in zip(cells, chars)]

        def draw_row(cells: list[list[str]], *, head: bool, bold: bool = False) -> None:
            assert self.fig is not None
            n_lines = max(len(c) for c in cells)
            h = n_lines * line_h + 0.35 * line_h
            if head:
                self.fig.patches.append(
                    Rectangle(
                        (_LEFT, self.y - h),
                        total_w,
                        h,
                        transform=self.fig.transFigure,
                        facecolor="#e8e8e8",
                        edgecolor="none",
                        zorder=0,
                    )
                )
            for x, w, c, al in zip(xs, widths, cells, aligns):
                xx = x + 0.003 if al == "left" else x + w * scale - 0.004
                self.fig.text(
                    xx,
                    self.y - 0.18 * line_h,
                    "\n".join(c),
                    fontsize=size,
                    va="top",
                    ha=al,
                    linespacing=1.25,
                    fontweight="bold" if (head or bold) else "normal",
                    color="#222222",
                )
            self.y -= h
            self.fig.add_artist(
                Line2D(
                    [_LEFT, _RIGHT],
                    [self.y, self.y],
                    transform=self.fig.transFigure,
                    color="#cccccc",
                    linewidth=0.4,
                )
            )

        def row_height(cells: list[list[str]]) -> float:
            return max(len(c) for c in cells) * line_h + 0.35 * line_h

        head_cells = wrap(header)
        body = [wrap(row) for row in rows]
        head_h = row_height(head_cells)
        title_h = self._text_height(title, size=10.5, bold=True) + 0.004 if title else 0.0
        if self.fig is None:
            self.new(continued or title or "(vervolg)")
        new_page, breaks = table_breaks(
            [row_height(c) for c in body],
            self.y - title_h - head_h - _BOTTOM,
            _TOP - head_h - _BOTTOM,
            title_room=title_h,
        )
        if new_page and self.y < _TOP:
            self.new(continued or title or "(vervolg)")
        if title:
            self.paragraph(title, size=10.5, bold=True, gap=0.004)
        draw_row(head_cells, head=True)
        for i, cells in enumerate(body):
            if i in breaks:
                self.new(continued or title or "(vervolg)")
                draw_row(head_cells, head=True)
            draw_row(cells, head=False, bold=bold_last and i == len(rows) - 1)
        self.y -= 0.018


def _count_rows(
    frame: pd.DataFrame, stay: str, *, with_region: bool, total: pd.DataFrame | None
) -> list[list[str]]:
    rows = []
    part = frame[frame["verblijfstype"] == stay]
    tables = [part] + ([total[total["verblijfstype"] == stay]] if total is not None else [])
    for table in tables:
        for r in table.itertuples(index=False):
            row = [str(r.gebied)] + (
                [str(r.regio or "") if r.gebied != TOTAL else ""] if with_region else []
            )
            row += [nl_number(getattr(r, c)) for c in (*VERDICTS, NO_VERDICT, "totaal")]
            row += [nl_number(r.capaciteit_geschikt), nl_number(r.capaciteit_voorwaardelijk)]
            rows.append(row)
    return rows


_COUNT_HEADER = [
    "Geschikt",
    "Voorwaardelijk",
    "Ongeschikt",
    "Geen oordeel",
    "Totaal",
    "Capaciteit geschikt (pers.)",
    "Capaciteit voorwaardelijk (pers.)",
]


def pdf_text_pages(
    pages: TextPages, run: RunFolder, tables: ReportTables, *, before_maps: bool
) -> None:
    stays = stay_types_of(tables)
    rs = run.record.get("regelset") or {}
    if before_maps:
        pages.new(
            "Locatietoets — rapportage huisvesting arbeidsmigranten",
            f"{run.ruleset_label} · toetsing {run.run_date} · {nl_number(len(run.sites))} locaties",
        )
        pages.paragraph("1. Samenvatting", size=12, bold=True)
        for line in intro_lines(run):
            pages.paragraph(line)
        for stay in stays:
            pages.table(
                ["Gebied", *_COUNT_HEADER],
                _count_rows(tables.totaal, stay, with_region=False, total=None),
                [2.2, 1, 1.1, 1, 1, 0.8, 1.4, 1.5],
                aligns=["left"] + ["right"] * 7,
                title=f"{stay_label(stay)}: alle locaties",
            )
        pages.chart(
            lambda fig, rect: verdict_chart(fig, rect, tables),
            verdict_chart_height(tables),
            title="Oordelen per gemeente en verblijfstype (aantal locaties)",
            continued="1. Samenvatting (vervolg)",
        )
        pages.section("2. Per regio")
        for stay in stays:
            pages.table(
                ["Regio", *_COUNT_HEADER],
                _count_rows(tables.regios, stay, with_region=False, total=tables.totaal),
                [2.2, 1, 1.1, 1, 1, 0.8, 1.4, 1.5],
                aligns=["left"] + ["right"] * 7,
                title=f"Regio's — {stay_label(stay)}",
                continued="2. Per regio (vervolg)",
                bold_last=True,
            )
        for stay in stays:
            pages.section(f"3. Per gemeente — {stay_label(stay)}")
            pages.table(
                ["Gemeente", "Regio", *_COUNT_HEADER],
                _count_rows(tables.gemeenten, stay, with_region=True, total=tables.totaal),
                [2.0, 1.4, 0.9, 1.1, 0.9, 0.9, 0.7, 1.3, 1.4],
                aligns=["left", "left"] + ["right"] * 7,
                continued=f"3. Per gemeente — {stay_label(stay)} (vervolg)",
                bold_last=True,
                size=7.2,
            )
        pages.section(
            "4. Meest voorkomende redenen voor een lager oordeel",
            "Regels die locaties ongeschikt of voorwaardelijk maakten; een locatie kan meer redenen"
            " hebben.",
            room=0.5,
        )
        pages.chart(
            lambda fig, rect: reasons_chart(fig, rect, tables),
            0.36,
            title="Meest voorkomende redenen (ongeschikt en voorwaardelijk)",
            continued="4. Redenen (vervolg)",
        )
        for stay in stays:
            part = tables.redenen[tables.redenen["verblijfstype"] == stay]
            rows = [
                [
                    r.titel,
                    r.regel,
                    r.oordeel_regel or "",
                    nl_number(r.locaties),
                    nl_number(r.ongeschikt),
                    nl_number(r.voorwaardelijk),
                    percent(r.aandeel_pct),
                ]
                for r in part.itertuples(index=False)
            ]
            if not rows:
                rows = [["Geen locaties ongeschikt of voorwaardelijk", "", "", "", "", "", ""]]
            pages.table(
                [
                    "Reden (regel)",
                    "Regel-id",
                    "Oordeel regel",
                    "Locaties",
                    "waarvan ongeschikt",
                    "waarvan voorwaardelijk",
                    "Aandeel",
                ],
                rows,
                [3.2, 2.0, 1.2, 0.8, 1.0, 1.1, 0.8],
                aligns=["left", "left", "left", "right", "right", "right", "right"],
                title=stay_label(stay),
                continued="4. Redenen (vervolg)",
                size=7.4,
            )
        return
    pages.new(
        "6. Regelset en bronnen",
        f"{rs.get('naam', '')} — id {rs.get('id')}, versie {rs.get('versie')}, datum"
        f" {rs.get('datum')}",
    )
    pages.paragraph(
        f"Herkomst: {rs.get('herkomst')}; vingerafdruk {rs.get('vingerafdruk')}.", size=8
    )
    pages.paragraph(
        "Betrouwbaarheid: H = hoog (staat zo in beleid of wet), M = middel (interpretatie), L ="
        " laag (aanname van de Locatietoets).",
        size=8,
    )
    rows = [
        [
            r.regel,
            r.titel,
            r.soort,
            *(str(getattr(r, "oordeel_" + s) or "") for s in STAY_TYPES),
            r.bron,
            f"{r.betrouwbaarheid}",
        ]
        for r in tables.regels.itertuples(index=False)
    ]
    pages.table(
        ["Regel", "Titel", "Soort", *STAY_LABELS.values(), "Bron", "Betr."],
        rows,
        [1.7, 2.2, 1.05, 1.25, 1.25, 1.25, 4.3, 0.45],
        continued="6. Regelset (vervolg)",
        size=6.8,
    )
    pages.table(
        ["Parameter", "Waarde", "Eenheid", "Omschrijving", "Herkomst"],
        parameter_rows(run),
        [3.0, 2.4, 1.5, 5.6, 1.4],
        title="Parameters (zoals gebruikt in deze run)",
        continued="6. Parameters (vervolg)",
        size=7.0,
    )
    rec = record_rows(run)
    pages.section("7. Verantwoording van de run")
    pages.table(
        ["Onderdeel", "Waarde"],
        rec["algemeen"],
        [1.2, 8],
        continued="7. Verantwoording (vervolg)",
        size=7.2,
    )
    pages.table(
        ["Laag", "Bestand", "Objecten", "CRS bron", "Gewijzigd", "SHA-256"],
        rec["invoer"],
        [1.0, 3.0, 0.6, 0.8, 1.5, 4.1],
        title="Invoerlagen",
        continued="7. Verantwoording (vervolg)",
        size=6.6,
    )
    pages.table(
        ["Stap", "Tijd"],
        rec["tijden"],
        [4, 1],
        title="Rekentijden",
        continued="7. Verantwoording (vervolg)",
        size=7.2,
    )
    if rec["beperkingen"]:
        pages.table(
            ["Toets", "Regels", "Getoetst", "Locaties met een regel"],
            rec["beperkingen"],
            [2.2, 3.6, 2.6, 1.0],
            title="Beperkingen, concentratie en voorzieningen",
            continued="7. Verantwoording (vervolg)",
            size=7.2,
        )
    pages.table(
        ["Analyse", "Waarom niet uitgevoerd"],
        rec["niet_uitgevoerd"] or [["—", "Alle analyses zijn uitgevoerd."]],
        [1.2, 8],
        title="Niet uitgevoerde analyses",
        continued="7. Verantwoording (vervolg)",
        size=7.2,
    )
    pages.table(
        ["Waarschuwing"],
        rec["waarschuwingen"] or [["Geen waarschuwingen."]],
        [1],
        title="Waarschuwingen",
        continued="7. Verantwoording (vervolg)",
        size=7.2,
    )
    pages.paragraph(attribution(run), size=8)
    pages.flush()
