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

from collections.abc import Callable
import logging
from pathlib import Path

import matplotlib
from matplotlib.backends.backend_pdf import PdfPages

from locatietoets.analysis.vocabulary import stay_label
from locatietoets.layers.publish.figures import PDF_RC, atomic_path, figure_png
from locatietoets.layers.publish.maps import iter_maps, plan_maps
from locatietoets.layers.publish.report_content import ReportTables, report_tables
from locatietoets.layers.publish.report_html import report_html
from locatietoets.layers.publish.report_pdf import TextPages, pdf_text_pages
from locatietoets.layers.publish.runfolder import RunFolder, attribution

__all__ = ["ReportTables", "report_tables", "write_report"]

log = logging.getLogger(__name__)


Progress = Callable[[int, int, str], None]


def write_report(
    run: RunFolder,
    out_dir: Path | None = None,
    *,
    per: str = "gemeente",
    stay_type: str = "short_stay",
    dpi: int = 110,
    progress: Progress | None = None,
    achtergrond: str = "geen",
) -> tuple[Path, Path]:
    """Write ``rapport.html`` and ``rapport.pdf`` for a run.

    Parameters
    ----------
    run
        The run folder (see :func:`layers.publish.runfolder.read_run`).
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
    achtergrond
        ``"geen"`` (offline, default) or ``"brt"``: the BRT-Achtergrondkaart grijs of PDOK as
        basemap, cached in ``~/.cache/locatietoets/brt``; without it the maps are drawn as usual.

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
            pages = TextPages(pdf, run)
            pdf_text_pages(pages, run, tables, before_maps=True)
            pages.new(
                "5. Kaarten",
                f"Oordeel voor {stay_label(stay_type)}: een overzichtskaart en één kaart per"
                f" {'gemeente' if per == 'gemeente' else 'regio' if per == 'regio' else 'gebied'}.",
            )
            pages.paragraph(
                "Op de kaarten staat elke locatie in de kleur van haar oordeel voor dit"
                " verblijfstype; ongeschikte locaties liggen bovenop. Locaties in een naburige"
                " gemeente zijn lichter getekend. "
                + (
                    "De kaarten zijn offline gemaakt, zonder achtergrondkaart."
                    if achtergrond == "geen"
                    else "Achtergrond: BRT-Achtergrondkaart grijs (Kadaster/PDOK)."
                ),
            )
            for line in [
                f"{i + 1}. {s.name if s.scope != 'overzicht' else 'Overzicht'}"
                for i, s in enumerate(specs)
            ]:
                pages.paragraph(line, size=8.5, gap=0.0)
            maps_iter = iter_maps(run, specs, stay_type=stay_type, achtergrond=achtergrond)
            for i, (spec, fig) in enumerate(maps_iter, start=1):
                caption = fig.texts[0].get_text() if fig.texts else spec.name
                maps.append(
                    (caption, f"Kaart {i}: {caption}. {attribution(run)}", figure_png(fig, dpi=dpi))
                )
                pages.add_figure(fig)
                if progress:
                    progress(i, len(specs), spec.name)
            pdf_text_pages(pages, run, tables, before_maps=False)
    with atomic_path(html_path) as tmp_html:
        tmp_html.write_text(report_html(run, tables, maps), encoding="utf-8")
    log.info("rapport getekend: %s en %s", html_path.name, pdf_path.name)
    return html_path, pdf_path
