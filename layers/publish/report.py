"""The woonvisie report of a run: ``rapport.html`` and ``rapport.pdf``.

Both hold the same content, in Dutch, for a planner who never opened QGIS:
counts per verdict and stay type per gemeente, region and in total, the
capacity in suitable sites, the most frequent reasons for exclusion, the
maps, the rule set with its sources and confidence, and the run record
(inputs with checksums and dates, parameters, timings, warnings, skipped
analyses). The HTML file is self-contained (inline CSS, maps as base64
PNG); the PDF is laid out on A4 landscape pages with matplotlib (vector
maps). Both are written to a temporary name first and then moved into place.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
import html
import logging
from pathlib import Path
import textwrap
from typing import Any

import matplotlib
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
import pandas as pd

from locatietoets.analysis.summary import (
    NO_VERDICT,
    STAY_TYPES,
    TOTAL,
    VERDICTS,
    exclusion_reasons,
    rules_frame,
    verdict_counts,
)
from locatietoets.analysis.texts import nl_number
from locatietoets.analysis.vocabulary import STAY_LABELS, hex_colour
from locatietoets.layers.publish.maps import (
    A4_LANDSCAPE_IN,
    PDF_RC,
    RunFolder,
    atomic_path,
    attribution,
    figure_png,
    iter_maps,
    plan_maps,
    stay_label,
)
from locatietoets.layers.publish.style import VERDICT_COLOURS

__all__ = ["ReportTables", "report_tables", "write_report"]

log = logging.getLogger(__name__)

_CONFIDENCE = {"H": "hoog", "M": "middel", "L": "laag"}
_STEP_NAMES = {
    "inlezen": "Invoer inlezen",
    "wegennet": "Wegennet opbouwen",
    "analyse": "Analyses en oordeel",
    "schrijven": "Uitvoer schrijven",
    "totaal": "Totaal",
}


@dataclass
class ReportTables:
    """The tables of a report (clean DataFrames, Dutch column names).

    Attributes
    ----------
    gemeenten, regios, totaal
        :func:`analysis.summary.verdict_counts` per gemeente, region and in total.
    redenen
        :func:`analysis.summary.exclusion_reasons` (top 10 per stay type).
    regels
        :func:`analysis.summary.rules_frame` of the run's rule set.
    """

    gemeenten: pd.DataFrame
    regios: pd.DataFrame
    totaal: pd.DataFrame
    redenen: pd.DataFrame
    regels: pd.DataFrame


def report_tables(run: RunFolder, *, top: int = 10) -> ReportTables:
    """Compute the report's tables from a run folder."""
    sites = run.sites
    gem_areas = reg_areas = None
    if run.gemeenten is not None:
        gem_areas = pd.DataFrame(
            {
                "gebied": run.gemeenten["naam"],
                "code": run.gemeenten["code"],
                "regio": run.gemeenten["regio"],
            }
        )
        reg_areas = pd.DataFrame({"gebied": sorted(set(run.gemeenten["regio"]))})
    rules = rules_frame(run.rules)
    return ReportTables(
        gemeenten=verdict_counts(sites, per="gemeente", areas=gem_areas),
        regios=verdict_counts(sites, per="regio", areas=reg_areas),
        totaal=verdict_counts(sites, per="provincie"),
        redenen=exclusion_reasons(sites, rules, per="provincie", top=top),
        regels=rules,
    )


# --------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------


def _cap(value: float) -> str:
    return nl_number(value)


def _pct(value: float) -> str:
    return f"{value:.1f}".replace(".", ",") + "%"


def _stay_types(tables: ReportTables) -> list[str]:
    return [s for s in STAY_TYPES if (tables.totaal["verblijfstype"] == s).any()]


def _intro_lines(run: RunFolder) -> list[str]:
    rs = run.record.get("regelset") or {}
    n = nl_number(len(run.sites))
    lines = [
        (
            f"Toetsing van {n} kandidaatlocaties voor de huisvesting van arbeidsmigranten op"
            f" {run.run_date}, met {rs.get('naam', 'de regelset')} ({run.ruleset_label})."
        ),
        (
            "Elke locatie is voor elk verblijfstype getoetst (short-stay, mid-stay, long-stay), ook"
            " als zij voor één type is voorgesteld: de tabellen tellen dus alle locaties per"
            " verblijfstype."
        ),
        (
            "Geschikt: past binnen het beleid. Voorwaardelijk: mogelijk, onder voorwaarden (zie de"
            " redenen). Ongeschikt: past niet binnen het beleid. Geen oordeel: locatie zonder"
            " geometrie."
        ),
        (
            "Capaciteit: het aantal personen dat volgens de woonnormen op de locatie past (som over"
            " de locaties)."
        ),
    ]
    if run.is_demo:
        lines.insert(
            0,
            "LET OP: dit is het FICTIEVE DEMOGEBIED van de Locatietoets; geen van de gegevens is"
            " echt.",
        )
    return lines


# --------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------

_CSS = (
    """
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;color:#222;max-width:1200px;
  margin:2em auto;padding:0 1.5em;line-height:1.45;font-size:14px}
h1{font-size:1.8em;margin-bottom:.1em}
h2{border-bottom:2px solid #444;padding-bottom:.2em;margin-top:2em}
h3{margin-top:1.5em}
.sub{color:#555;margin-top:0}
.demo{background:#fde0dd;border:1px solid #c51b8a;padding:.6em 1em;font-weight:bold;color:#8a0a3a}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.92em}
th,td{border:1px solid #ccc;padding:.25em .55em;vertical-align:top}
th{background:#f0f0f0;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.totaal td{font-weight:bold;background:#fafafa}
figure{margin:1.5em 0;page-break-inside:avoid}
figure img{width:100%;border:1px solid #ccc}
figcaption{color:#555;font-size:.9em}
code{font-size:.9em;word-break:break-all}
.note{color:#555;font-size:.9em}
nav ul{columns:2}
footer{margin-top:3em;color:#777;font-size:.85em;border-top:1px solid #ccc;padding-top:.5em}
@media print{body{max-width:none}h2{page-break-before:always}}
"""
    + "".join(  # verdict column heads in the verdict colours (white text on green and red)
        f"th.{v}{{background:{hex_colour(VERDICT_COLOURS[v][1])}"
        f"{'' if v == 'voorwaardelijk' else ';color:#fff'}}}"
        for v in ("geschikt", "voorwaardelijk", "ongeschikt")
    )
    + "\n"
)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _count_table_html(
    frame: pd.DataFrame,
    stay: str,
    *,
    area_label: str,
    with_region: bool,
    total: pd.DataFrame | None,
) -> str:
    head = [f"<th>{_e(area_label)}</th>"]
    if with_region:
        head.append("<th>Regio</th>")
    for v in VERDICTS:
        head.append(f'<th class="{v}">{_e(VERDICT_COLOURS[v][0])}</th>')
    head += [
        "<th>Geen oordeel</th>",
        "<th>Totaal</th>",
        "<th>Capaciteit geschikt (pers.)</th>",
        "<th>Capaciteit voorwaardelijk (pers.)</th>",
    ]
    rows = []
    part = frame[frame["verblijfstype"] == stay]
    extra = total[total["verblijfstype"] == stay] if total is not None else None
    for table, css in ((part, ""), (extra, "totaal")):
        if table is None:
            continue
        for r in table.itertuples(index=False):
            cells = [f"<td>{_e(r.gebied)}</td>"]
            if with_region:
                cells.append(f"<td>{_e(r.regio if css == '' else '')}</td>")
            for col in (*VERDICTS, NO_VERDICT, "totaal"):
                cells.append(f'<td class="n" data-kolom="{col}">{nl_number(getattr(r, col))}</td>')
            for col in ("capaciteit_geschikt", "capaciteit_voorwaardelijk"):
                cells.append(f'<td class="n" data-kolom="{col}">{_cap(getattr(r, col))}</td>')
            rows.append(
                f'<tr class="{css}" data-niveau="{_e(r.niveau)}" data-gebied="{_e(r.gebied)}"'
                f' data-verblijfstype="{_e(stay)}">' + "".join(cells) + "</tr>"
            )
    return (
        "<table><thead><tr>"
        + "".join(head)
        + "</tr></thead><tbody>"
        + "\n".join(rows)
        + "</tbody></table>"
    )


def _html(run: RunFolder, tables: ReportTables, maps: Sequence[tuple[str, str, bytes]]) -> str:
    rs = run.record.get("regelset") or {}
    stays = _stay_types(tables)
    parts = [
        '<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8">',
        (
            "<title>Locatietoets — rapportage"
            f" {run.run_date}</title><style>{_CSS}</style></head><body>"
        ),
        "<h1>Locatietoets — rapportage huisvesting arbeidsmigranten</h1>",
        (
            f'<p class="sub">{_e(run.ruleset_label)} · toetsing {run.run_date} ·'
            f" {nl_number(len(run.sites))} locaties · Locatietoets {_e(run.version)}</p>"
        ),
    ]
    if run.is_demo:
        parts.append(
            '<p class="demo">FICTIEF DEMOGEBIED — de locaties, gemeenten en lagen in dit rapport'
            " zijn verzonnen en geven geen echte situatie weer.</p>"
        )
    parts.append(
        '<nav><h2 style="page-break-before:avoid">Inhoud</h2><ul><li><a href="#samenvatting">1.'
        ' Samenvatting</a></li><li><a href="#regio">2. Per regio</a></li><li><a href="#gemeente">3.'
        ' Per gemeente</a></li><li><a href="#redenen">4. Meest voorkomende redenen</a></li><li><a'
        ' href="#kaarten">5. Kaarten</a></li><li><a href="#regelset">6. Regelset en'
        ' bronnen</a></li><li><a href="#verantwoording">7. Verantwoording van de'
        " run</a></li></ul></nav>"
    )
    parts.append('<h2 id="samenvatting">1. Samenvatting</h2>')
    parts += [f"<p>{_e(line)}</p>" for line in _intro_lines(run)]
    for stay in stays:
        parts.append(f"<h3>{_e(stay_label(stay))}: alle locaties</h3>")
        parts.append(
            _count_table_html(
                tables.totaal, stay, area_label="Gebied", with_region=False, total=None
            )
        )
    parts.append('<h2 id="regio">2. Per regio</h2>')
    parts.append(
        '<p class="note">Regio-indeling: het veld regio van de gemeentelaag, anders de tabel in de'
        " regelset (Noord-, Midden-, Zuid-Limburg).</p>"
    )
    for stay in stays:
        parts.append(f"<h3>{_e(stay_label(stay))}</h3>")
        parts.append(
            _count_table_html(
                tables.regios, stay, area_label="Regio", with_region=False, total=tables.totaal
            )
        )
    parts.append('<h2 id="gemeente">3. Per gemeente</h2>')
    for stay in stays:
        parts.append(f"<h3>{_e(stay_label(stay))}</h3>")
        parts.append(
            _count_table_html(
                tables.gemeenten, stay, area_label="Gemeente", with_region=True, total=tables.totaal
            )
        )
    parts.append('<h2 id="redenen">4. Meest voorkomende redenen voor een lager oordeel</h2>')
    parts.append(
        '<p class="note">Per verblijfstype de regels die locaties ongeschikt of voorwaardelijk'
        " maakten (een locatie kan meer redenen hebben). Aandeel: van alle locaties met een"
        " oordeel.</p>"
    )
    for stay in stays:
        part = tables.redenen[tables.redenen["verblijfstype"] == stay]
        parts.append(f"<h3>{_e(stay_label(stay))}</h3>")
        if part.empty:
            parts.append("<p>Geen locaties ongeschikt of voorwaardelijk.</p>")
            continue
        rows = "".join(
            f'<tr data-regel="{_e(r.regel)}"'
            f' data-verblijfstype="{_e(stay)}"><td>{_e(r.titel)}</td>'
            f"<td><code>{_e(r.regel)}</code></td><td>{_e(r.oordeel_regel or '')}</td><td"
            f' class="n">{nl_number(r.locaties)}</td><td'
            f' class="n">{nl_number(r.ongeschikt)}</td><td'
            f' class="n">{nl_number(r.voorwaardelijk)}</td><td'
            f' class="n">{_pct(r.aandeel_pct)}</td></tr>'
            for r in part.itertuples(index=False)
        )
        parts.append(
            "<table><thead><tr><th>Reden (regel)</th><th>Regel-id</th><th>Oordeel van de"
            " regel</th><th>Locaties</th><th>waarvan ongeschikt</th><th>waarvan"
            " voorwaardelijk</th><th>Aandeel</th></tr></thead><tbody>" + rows + "</tbody></table>"
        )
    parts.append('<h2 id="kaarten">5. Kaarten</h2>')
    if not maps:
        parts.append("<p>Geen kaarten.</p>")
    for title, caption, png in maps:
        data = base64.b64encode(png).decode("ascii")
        parts.append(
            f'<figure><img src="data:image/png;base64,{data}"'
            f' alt="{_e(title)}"><figcaption>{_e(caption)}</figcaption></figure>'
        )
    parts.append('<h2 id="regelset">6. Regelset en bronnen</h2>')
    parts.append(
        f"<p><b>{_e(rs.get('naam', ''))}</b><br>id <code>{_e(rs.get('id'))}</code>, versie"
        f" {_e(rs.get('versie'))}, datum {_e(rs.get('datum'))}, herkomst {_e(rs.get('herkomst'))},"
        f" vingerafdruk <code>{_e(rs.get('vingerafdruk'))}</code></p><p"
        ' class="note">Betrouwbaarheid: H = hoog (staat zo in beleid of wet), M = middel'
        " (interpretatie), L = laag (aanname van de Locatietoets).</p>"
    )
    rule_rows = "".join(
        f"<tr><td><code>{_e(r.regel)}</code></td><td>{_e(r.titel)}</td><td>{_e(r.soort)}</td>"
        + "".join(f"<td>{_e(getattr(r, 'oordeel_' + s) or '')}</td>" for s in STAY_TYPES)
        + f"<td>{_e(r.bron)}</td><td>{_e(r.betrouwbaarheid)}"
        f" ({_e(_CONFIDENCE.get(str(r.betrouwbaarheid), '?'))})</td></tr>"
        for r in tables.regels.itertuples(index=False)
    )
    parts.append(
        "<table><thead><tr><th>Regel</th><th>Titel</th><th>Soort</th>"
        + "".join(f"<th>{label}</th>" for label in STAY_LABELS.values())
        + "<th>Bron</th><th>Betrouwbaarheid</th></tr></thead><tbody>"
        + rule_rows
        + "</tbody></table>"
    )
    params = rs.get("parameters") or {}
    origins = rs.get("parameters_herkomst") or {}
    parts.append(
        "<h3>Parameters (zoals gebruikt in deze"
        " run)</h3><table><thead><tr><th>Parameter</th><th>Waarde</th>"
        "<th>Herkomst</th></tr></thead><tbody>"
    )
    parts += [
        f"<tr><td><code>{_e(k)}</code></td><td>{_e(_value(v))}</td><td>{_e(_origin(origins.get(k)))}</td></tr>"
        for k, v in params.items()
    ]
    parts.append("</tbody></table>")
    if rs.get("gemeenten_met_eigen_waarden"):
        parts.append(
            "<p>Gemeenten met eigen parameterwaarden:"
            f" {_e(', '.join(rs['gemeenten_met_eigen_waarden']))}</p>"
        )
    parts.append('<h2 id="verantwoording">7. Verantwoording van de run</h2>')
    parts.extend(_record_html(run))
    parts.append(
        f"<footer>{_e(attribution(run))} · gemaakt met 'locatietoets rapport' uit"
        f" {_e(run.path.name)}</footer></body></html>"
    )
    return "\n".join(parts) + "\n"


def _origin(origin: Any) -> str:
    """Dutch origin of a parameter value (run records before the origins were recorded: empty)."""
    if not isinstance(origin, dict):
        return ""
    if origin.get("herkomst") == "config":
        return f"configuratie (regelset: {_value(origin.get('regelset_waarde'))})"
    return "regelset"


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "ja" if v else "nee"
    if isinstance(v, float):
        return f"{v:g}".replace(".", ",")
    return str(v)


def constraint_rows(record: dict[str, Any]) -> list[list[str]]:
    """Per constraint (a declared layer of the rule set, and housing on the employer's yard):
    its rules, whether it was tested, and the number of sites a rule fired for (most over the stay
    types). Rows of [beperking, regels, getoetst, locaties]."""
    rules = (record.get("regelset") or {}).get("regels") or []
    untested = set(record.get("regels_niet_getoetst") or [])
    fired = record.get("regels_gevuurd") or {}
    groups: dict[str, list[str]] = {}
    for rule in rules:
        layer = rule.get("laag")
        if isinstance(layer, dict):
            groups.setdefault(f"[lagen.beperkingen.{layer.get('naam')}]", []).append(rule["id"])
        elif str(rule.get("id", "")).startswith("erf."):
            groups.setdefault("op het erf van de eigen werkgever", []).append(rule["id"])
    rows = []
    for name, ids in groups.items():
        tested = [i for i in ids if i not in untested]
        count = max((max((fired.get(i) or {}).values(), default=0) for i in tested), default=0)
        missing = (
            "niet getoetst: geen [lagen.werkgevers] of geen werkgever_veld"
            if name.startswith("op het erf")
            else "niet getoetst: de laag staat niet in de configuratie"
        )
        rows.append(
            [
                name,
                ", ".join(ids),
                "getoetst" if tested else missing,
                nl_number(count) if tested else "–",
            ]
        )
    return rows


def _record_rows(run: RunFolder) -> dict[str, list[list[str]]]:
    rec = run.record
    inputs = [
        [
            name,
            str(info.get("pad") or ""),
            nl_number(info.get("objecten") or 0),
            str(info.get("crs_bron") or ""),
            str(info.get("gewijzigd") or ""),
            str(info.get("sha256") or ""),
        ]
        for name, info in (rec.get("invoer") or {}).items()
    ]
    timings = [
        [_STEP_NAMES.get(k, k), f"{float(v):.2f}".replace(".", ",") + " s"]
        for k, v in (rec.get("tijden_s") or {}).items()
    ]
    steps = [
        [
            str(info.get("titel", key)),
            f"{float(info.get('seconden', 0)):.2f}".replace(".", ",") + " s",
        ]
        for key, info in (rec.get("stappen") or {}).items()
        if isinstance(info, dict)
    ]
    general = [
        ["Locatietoets", run.version],
        ["Configuratie", str(rec.get("configuratie") or "")],
        ["Gestart", str(rec.get("gestart") or "")],
        ["Beëindigd", str(rec.get("beeindigd") or "")],
        ["Locaties", nl_number(rec.get("locaties") or len(run.sites))],
        ["Bibliotheken", ", ".join(f"{k} {v}" for k, v in (rec.get("bibliotheken") or {}).items())],
    ]
    skipped = [[k, str(v)] for k, v in (rec.get("niet_uitgevoerd") or {}).items()]
    warnings = [[str(w)] for w in rec.get("waarschuwingen") or []]
    return {
        "algemeen": general,
        "invoer": inputs,
        "tijden": timings + steps,
        "niet_uitgevoerd": skipped,
        "waarschuwingen": warnings,
        "beperkingen": constraint_rows(rec),
    }


def _record_html(run: RunFolder) -> list[str]:
    rows = _record_rows(run)
    out = [
        "<table><tbody>"
        + "".join(f"<tr><th>{_e(a)}</th><td>{_e(b)}</td></tr>" for a, b in rows["algemeen"])
        + "</tbody></table>"
    ]
    out.append(
        "<h3>Invoerlagen</h3><table><thead><tr><th>Laag</th><th>Bestand</th><th>Objecten</th><th>CRS"
        " bron</th><th>Gewijzigd</th><th>SHA-256</th></tr></thead><tbody>"
    )
    out += [
        "<tr>"
        + "".join(
            f"<td>{_e(c)}</td>" if i != 5 else f"<td><code>{_e(c)}</code></td>"
            for i, c in enumerate(r)
        )
        + "</tr>"
        for r in rows["invoer"]
    ]
    out.append("</tbody></table><h3>Rekentijden</h3><table><tbody>")
    out += [f'<tr><td>{_e(a)}</td><td class="n">{_e(b)}</td></tr>' for a, b in rows["tijden"]]
    out.append("</tbody></table>")
    if rows["beperkingen"]:
        out.append(
            "<h3>Beperkingen</h3><table><thead><tr><th>Beperking</th><th>Regels</th>"
            "<th>Getoetst</th><th>Locaties met een regel</th></tr></thead><tbody>"
        )
        out += [
            f"<tr><td>{_e(a)}</td><td><code>{_e(b)}</code></td><td>{_e(c)}</td>"
            f'<td class="n">{_e(d)}</td></tr>'
            for a, b, c, d in rows["beperkingen"]
        ]
        out.append("</tbody></table>")
    out.append("<h3>Niet uitgevoerde analyses</h3>")
    out.append(
        "<ul>"
        + "".join(f"<li><b>{_e(a)}</b>: {_e(b)}</li>" for a, b in rows["niet_uitgevoerd"])
        + "</ul>"
        if rows["niet_uitgevoerd"]
        else "<p>Alle analyses zijn uitgevoerd.</p>"
    )
    out.append("<h3>Waarschuwingen</h3>")
    out.append(
        "<ul>" + "".join(f"<li>{_e(w[0])}</li>" for w in rows["waarschuwingen"]) + "</ul>"
        if rows["waarschuwingen"]
        else "<p>Geen waarschuwingen.</p>"
    )
    return out


# --------------------------------------------------------------------------
# PDF (matplotlib pages)
# --------------------------------------------------------------------------

_LEFT, _RIGHT, _TOP, _BOTTOM = 0.045, 0.955, 0.875, 0.075


class _Pages:
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

    def paragraph(
        self, text: str, *, size: float = 9.0, bold: bool = False, gap: float = 0.006
    ) -> None:
        width = int((_RIGHT - _LEFT) * A4_LANDSCAPE_IN[0] * 72 / (size * (0.6 if bold else 0.55)))
        lines = textwrap.wrap(text, width=width) or [""]
        height = len(lines) * size * 1.4 / 72 / A4_LANDSCAPE_IN[1]
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
            return [
                textwrap.wrap(str(c), width=n, break_long_words=True) or [""]
                for c, n in zip(cells, chars)
            ]

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

        head_cells = wrap(header)
        if title:
            need = 3 * line_h + max(len(c) for c in head_cells) * line_h
            if self.y - need < _BOTTOM:
                self.new(continued or title)
            self.paragraph(title, size=10.5, bold=True, gap=0.004)
        draw_row(head_cells, head=True)
        for i, row in enumerate(rows):
            cells = wrap(row)
            h = max(len(c) for c in cells) * line_h + 0.35 * line_h
            if self.y - h < _BOTTOM:
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
            row += [_cap(r.capaciteit_geschikt), _cap(r.capaciteit_voorwaardelijk)]
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


def _pdf_text_pages(
    pages: _Pages, run: RunFolder, tables: ReportTables, *, before_maps: bool
) -> None:
    stays = _stay_types(tables)
    rs = run.record.get("regelset") or {}
    if before_maps:
        pages.new(
            "Locatietoets — rapportage huisvesting arbeidsmigranten",
            f"{run.ruleset_label} · toetsing {run.run_date} · {nl_number(len(run.sites))} locaties",
        )
        pages.paragraph("1. Samenvatting", size=12, bold=True)
        for line in _intro_lines(run):
            pages.paragraph(line)
        for stay in stays:
            pages.table(
                ["Gebied", *_COUNT_HEADER],
                _count_rows(tables.totaal, stay, with_region=False, total=None),
                [2.2, 1, 1.1, 1, 1, 0.8, 1.4, 1.5],
                aligns=["left"] + ["right"] * 7,
                title=f"{stay_label(stay)}: alle locaties",
            )
        pages.new("2. Per regio")
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
            pages.new(f"3. Per gemeente — {stay_label(stay)}")
            pages.table(
                ["Gemeente", "Regio", *_COUNT_HEADER],
                _count_rows(tables.gemeenten, stay, with_region=True, total=tables.totaal),
                [2.0, 1.4, 0.9, 1.1, 0.9, 0.9, 0.7, 1.3, 1.4],
                aligns=["left", "left"] + ["right"] * 7,
                continued=f"3. Per gemeente — {stay_label(stay)} (vervolg)",
                bold_last=True,
                size=7.2,
            )
        pages.new(
            "4. Meest voorkomende redenen voor een lager oordeel",
            "Regels die locaties ongeschikt of voorwaardelijk maakten; een locatie kan meer redenen"
            " hebben.",
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
                    _pct(r.aandeel_pct),
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
        [1.7, 2.2, 0.9, 1.0, 1.0, 1.0, 5.0, 0.45],
        continued="6. Regelset (vervolg)",
        size=6.8,
    )
    params = rs.get("parameters") or {}
    half = (len(params) + 1) // 2
    items = list(params.items())
    prow = []
    for i in range(half):
        left = items[i]
        right = items[i + half] if i + half < len(items) else ("", "")
        origins = rs.get("parameters_herkomst") or {}

        def shown(name: str, value: Any) -> str:
            text = _value(value)
            return text + (
                " (configuratie)" if (origins.get(name) or {}).get("herkomst") == "config" else ""
            )

        prow.append([left[0], shown(*left), right[0], shown(*right) if right[0] else ""])
    pages.table(
        ["Parameter", "Waarde", "Parameter", "Waarde"],
        prow,
        [3, 1, 3, 1],
        title="Parameters (zoals gebruikt in deze run)",
        continued="6. Parameters (vervolg)",
        size=7.2,
    )
    rec = _record_rows(run)
    pages.new("7. Verantwoording van de run")
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
            ["Beperking", "Regels", "Getoetst", "Locaties met een regel"],
            rec["beperkingen"],
            [2.2, 3.6, 2.6, 1.0],
            title="Beperkingen",
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


Progress = Callable[[int, int, str], None]


def write_report(
    run: RunFolder,
    out_dir: Path | None = None,
    *,
    per: str = "gemeente",
    stay_type: str = "short_stay",
    dpi: int = 110,
    progress: Progress | None = None,
) -> tuple[Path, Path]:
    """Write ``rapport.html`` and ``rapport.pdf`` for a run.

    Parameters
    ----------
    run
        The run folder (see :func:`layers.publish.maps.read_run`).
    out_dir
        Where to write (default: the run folder).
    per
        Maps per ``"gemeente"``, ``"regio"`` or only the overview
        (``"provincie"``); without a gemeenten layer only the overview.
    stay_type
        Stay type shown on the maps (the tables show all stay types).
    dpi
        Resolution of the maps embedded in the HTML (PDF maps are vector).
    progress
        Called as ``progress(done, total, label)`` after each map.

    Returns
    -------
    tuple of pathlib.Path
        The HTML and the PDF file.
    """
    out_dir = Path(out_dir) if out_dir is not None else run.path
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = report_tables(run)
    specs = plan_maps(
        run, per=per if run.gemeenten is not None else "provincie", stay_type=stay_type
    )
    html_path = out_dir / "rapport.html"
    pdf_path = out_dir / "rapport.pdf"
    maps: list[tuple[str, str, bytes]] = []
    with matplotlib.rc_context(PDF_RC), atomic_path(pdf_path) as tmp_pdf:
        with PdfPages(
            tmp_pdf,
            metadata={
                "CreationDate": None,
                "Creator": "Locatietoets",
                "Title": "Locatietoets — rapportage",
            },
        ) as pdf:
            pages = _Pages(pdf, run)
            _pdf_text_pages(pages, run, tables, before_maps=True)
            pages.new(
                "5. Kaarten",
                f"Oordeel voor {stay_label(stay_type)}: een overzichtskaart en één kaart per"
                f" {'gemeente' if per == 'gemeente' else 'regio' if per == 'regio' else 'gebied'}.",
            )
            pages.paragraph(
                "Op de kaarten staat elke locatie in de kleur van haar oordeel voor dit"
                " verblijfstype. Locaties in een naburige gemeente zijn lichter getekend. De"
                " kaarten zijn offline gemaakt, zonder achtergrondkaart.",
            )
            for line in [
                f"{i + 1}. {s.name if s.scope != 'overzicht' else 'Overzicht'}"
                for i, s in enumerate(specs)
            ]:
                pages.paragraph(line, size=8.5, gap=0.0)
            for i, (spec, fig) in enumerate(iter_maps(run, specs, stay_type=stay_type), start=1):
                caption = fig.texts[0].get_text() if fig.texts else spec.name
                maps.append(
                    (caption, f"Kaart {i}: {caption}. {attribution(run)}", figure_png(fig, dpi=dpi))
                )
                pages.add_figure(fig)
                if progress:
                    progress(i, len(specs), spec.name)
            _pdf_text_pages(pages, run, tables, before_maps=False)
    with atomic_path(html_path) as tmp_html:
        tmp_html.write_text(_html(run, tables, maps), encoding="utf-8")
    log.info("rapport geschreven: %s, %s", html_path, pdf_path)
    return html_path, pdf_path
