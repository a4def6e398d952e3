"""``rapport.html``: the report as one self-contained HTML page (inline CSS, maps as base64 PNG)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
import html
from typing import Any

import pandas as pd

from locatietoets.analysis.summary import NO_VERDICT, STAY_TYPES, VERDICTS
from locatietoets.analysis.texts import nl_number
from locatietoets.analysis.vocabulary import STAY_LABELS, hex_colour, stay_label
from locatietoets.layers.publish.report_charts import (
    chart_png,
    reasons_chart,
    verdict_chart,
    verdict_chart_height,
)
from locatietoets.layers.publish.report_content import (
    CONFIDENCE,
    ReportTables,
    intro_lines,
    parameter_rows,
    percent,
    record_rows,
    stay_types_of,
)
from locatietoets.layers.publish.runfolder import RunFolder, attribution
from locatietoets.layers.publish.style import VERDICT_COLOURS

__all__ = ["report_html"]


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
                cells.append(f'<td class="n" data-kolom="{col}">{nl_number(getattr(r, col))}</td>')
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


def report_html(
    run: RunFolder, tables: ReportTables, maps: Sequence[tuple[str, str, bytes]]
) -> str:
    rs = run.record.get("regelset") or {}
    stays = stay_types_of(tables)
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
    parts += [f"<p>{_e(line)}</p>" for line in intro_lines(run)]
    for stay in stays:
        parts.append(f"<h3>{_e(stay_label(stay))}: alle locaties</h3>")
        parts.append(
            _count_table_html(
                tables.totaal, stay, area_label="Gebied", with_region=False, total=None
            )
        )
    parts.append(
        _chart(
            lambda fig, rect: verdict_chart(fig, rect, tables),
            "Oordelen per gemeente en verblijfstype (aantal locaties)",
            height=1.2 + 8.27 * verdict_chart_height(tables),
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
    parts.append(
        _chart(
            lambda fig, rect: reasons_chart(fig, rect, tables),
            "Meest voorkomende redenen (ongeschikt en voorwaardelijk)",
            height=3.4,
        )
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
            f' class="n">{percent(r.aandeel_pct)}</td></tr>'
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
        f" ({_e(CONFIDENCE.get(str(r.betrouwbaarheid), '?'))})</td></tr>"
        for r in tables.regels.itertuples(index=False)
    )
    parts.append(
        "<table><thead><tr><th>Regel</th><th>Titel</th><th>Soort</th>"
        + "".join(f"<th>{label}</th>" for label in STAY_LABELS.values())
        + "<th>Bron</th><th>Betrouwbaarheid</th></tr></thead><tbody>"
        + rule_rows
        + "</tbody></table>"
    )
    parts.append(
        "<h3>Parameters (zoals gebruikt in deze run)</h3><table><thead><tr><th>Parameter</th>"
        "<th>Waarde</th><th>Eenheid</th><th>Omschrijving</th><th>Herkomst</th></tr></thead><tbody>"
    )
    parts += [
        f"<tr><td><code>{_e(name)}</code></td><td>{_e(value)}</td><td>{_e(unit)}</td>"
        f"<td>{_e(text)}</td><td>{_e(origin)}</td></tr>"
        for name, value, unit, text, origin in parameter_rows(run)
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


def _chart(draw, caption: str, *, height: float) -> str:
    data = base64.b64encode(chart_png(draw, size=(11.0, height))).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{_e(caption)}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _record_html(run: RunFolder) -> list[str]:
    rows = record_rows(run)
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
            "<h3>Beperkingen, concentratie en voorzieningen</h3><table><thead><tr><th>Toets</th>"
            "<th>Regels</th>"
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
