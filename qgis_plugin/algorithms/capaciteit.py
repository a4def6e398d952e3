"""Capaciteit tegen behoefte: ``locatietoets capaciteit RUN_DIR --behoefte CSV``."""

from __future__ import annotations

import csv
import os

from qgis.core import (
    QgsGraduatedSymbolRenderer,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputFile,
    QgsProcessingOutputHtml,
    QgsProcessingOutputNumber,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsRendererRange,
    QgsSymbol,
    QgsSymbolLayerUtils,
    QgsVectorLayer,
)
from qgis.PyQt.QtGui import QColor

from ..vocabulary import nl_number
from ._command import CommandAlgorithm, read_json

__all__ = ["Capaciteit", "style_shortfall"]

_BASES = ("beoogd", "alle")
#: No shortfall, then light to dark red (ColorBrewer Reds).
_NO_SHORTFALL = "#d9f0d3"
_REDS = ("#fcbba1", "#fb6a4a", "#de2d26", "#a50f15", "#67000d")
SHORTFALL_FIELD = "tekort_totaal"


def style_shortfall(layer, field: str = SHORTFALL_FIELD) -> None:
    """Graduated colours on the shortfall: green for none, then classes of red (pretty breaks)."""
    if (
        not isinstance(layer, QgsVectorLayer)
        or not layer.isValid()
        or layer.fields().indexOf(field) < 0
    ):
        return
    highest = layer.maximumValue(layer.fields().indexOf(field))
    try:
        highest = float(highest)
    except (TypeError, ValueError):
        highest = 0.0

    def symbol(colour: str):
        sym = QgsSymbol.defaultSymbol(layer.geometryType())
        sym.setColor(QColor(colour))
        return sym

    ranges = [QgsRendererRange(0.0, 0.0, symbol(_NO_SHORTFALL), "Geen tekort")]
    if highest > 0:
        breaks = [b for b in QgsSymbolLayerUtils.prettyBreaks(0.0, highest, 4) if b > 0]
        if not breaks or breaks[-1] < highest:
            breaks.append(highest)
        lower = 0.0
        for i, upper in enumerate(breaks[: len(_REDS)]):
            label = f"{nl_number(lower + 1 if lower else 1)} – {nl_number(upper)}"
            ranges.append(QgsRendererRange(lower, upper, symbol(_REDS[i]), label))
            lower = upper
    renderer = QgsGraduatedSymbolRenderer(field, ranges)
    renderer.setClassAttribute(field)
    layer.setRenderer(renderer)
    for name, alias in (
        ("naam", "Gemeente"),
        ("behoefte_totaal", "Behoefte (personen)"),
        ("capaciteit_geschikt_totaal", "Capaciteit geschikt"),
        ("capaciteit_voorwaardelijk_totaal", "Capaciteit voorwaardelijk"),
        ("tekort_totaal", "Tekort (geschikt)"),
        ("tekort_incl_voorwaardelijk_totaal", "Tekort incl. voorwaardelijk"),
    ):
        index = layer.fields().indexOf(name)
        if index >= 0:
            layer.setFieldAlias(index, alias)
    if layer.fields().indexOf("naam") >= 0:
        layer.setDisplayExpression('"naam" || \' — tekort \' || format_number("tekort_totaal", 0)')
    layer.triggerRepaint()


class Capaciteit(CommandAlgorithm):
    """Capacity of suitable and conditional sites of a run against the demand per gemeente and
    region."""

    ALGORITHM_ID = "capaciteit"
    DISPLAY_NAME = "Capaciteit tegen behoefte"
    COMMAND = "capaciteit"
    EXTRA_TAGS = ("capaciteit", "behoefte", "tekort", "woonvisie")

    RUN = "RUN"
    BEHOEFTE = "BEHOEFTE"
    BASIS = "BASIS"
    GEMEENTEN_UIT = "CAPACITEIT_GEMEENTEN"
    REGIOS_UIT = "CAPACITEIT_REGIOS"
    CSV_GEMEENTEN = "CSV_GEMEENTEN"
    CSV_REGIOS = "CSV_REGIOS"
    RAPPORT = "RAPPORT"
    BEHOEFTE_TOTAAL = "BEHOEFTE_TOTAAL"
    CAPACITEIT_GESCHIKT = "CAPACITEIT_GESCHIKT"
    CAPACITEIT_VOORWAARDELIJK = "CAPACITEIT_VOORWAARDELIJK"
    TEKORT_TOTAAL = "TEKORT_TOTAAL"
    TEKORT_INCL_VOORWAARDELIJK = "TEKORT_INCL_VOORWAARDELIJK"
    TEKORT_SOM_GEMEENTEN = "TEKORT_SOM_GEMEENTEN"
    GEMEENTEN_MET_TEKORT = "GEMEENTEN_MET_TEKORT"

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(
            QgsProcessingParameterFile(
                self.RUN,
                "Uitvoermap van een toetsing (met locaties.gpkg en run.json, mét gemeentegrenzen)",
                behavior=QgsProcessingParameterFile.Folder,
            )
        )
        self.addParameter(
            QgsProcessingParameterFile(
                self.BEHOEFTE,
                "Behoeftetabel (CSV: gemeente; short_stay; mid_stay; long_stay in personen)",
                extension="csv",
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.BASIS,
                "Capaciteit tellen voor",
                options=[
                    "alleen het eigen verblijfstype van de locatie (geen dubbeltelling)",
                    "elk verblijfstype waarvoor de locatie geschikt is",
                ],
                defaultValue=0,
            )
        )
        self._add_output_parameters("Map voor de uitvoer (capaciteit.gpkg, CSV's, kaart, rapport)")
        self.addOutput(
            QgsProcessingOutputVectorLayer(
                self.GEMEENTEN_UIT, "Capaciteit per gemeente", QgsProcessing.TypeVectorPolygon
            )
        )
        self.addOutput(
            QgsProcessingOutputVectorLayer(
                self.REGIOS_UIT, "Capaciteit per regio", QgsProcessing.TypeVectorPolygon
            )
        )
        self.addOutput(QgsProcessingOutputFile(self.CSV_GEMEENTEN, "Tabel per gemeente (CSV)"))
        self.addOutput(QgsProcessingOutputFile(self.CSV_REGIOS, "Tabel per regio (CSV)"))
        self.addOutput(QgsProcessingOutputHtml(self.RAPPORT, "Rapport capaciteit tegen behoefte"))
        for key, label in (
            (self.BEHOEFTE_TOTAAL, "Behoefte totaal (personen)"),
            (self.CAPACITEIT_GESCHIKT, "Capaciteit geschikt totaal (personen)"),
            (self.CAPACITEIT_VOORWAARDELIJK, "Capaciteit voorwaardelijk totaal (personen)"),
            (
                self.TEKORT_TOTAAL,
                (
                    "Tekort over het hele gebied (personen; overschot in de ene gemeente "
                    "dekt tekort in de andere)"
                ),
            ),
            (
                self.TEKORT_INCL_VOORWAARDELIJK,
                "Tekort over het hele gebied incl. voorwaardelijke locaties",
            ),
            (self.TEKORT_SOM_GEMEENTEN, "Som van de tekorten per gemeente (personen)"),
            (self.GEMEENTEN_MET_TEKORT, "Aantal gemeenten met een tekort"),
        ):
            self.addOutput(QgsProcessingOutputNumber(key, label))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        run_dir = self.parameterAsFile(parameters, self.RUN, context)
        demand = self.parameterAsFile(parameters, self.BEHOEFTE, context)
        if not run_dir or not os.path.isdir(run_dir):
            raise QgsProcessingException(f"De uitvoermap van de toetsing '{run_dir}' bestaat niet.")
        if not demand or not os.path.isfile(demand):
            raise QgsProcessingException(f"De behoeftetabel '{demand}' bestaat niet.")
        basis = _BASES[self.parameterAsEnum(parameters, self.BASIS, context)]
        workdir = self._workdir()
        out_dir = self._out_dir(parameters, context, workdir)
        finished = self._run_command(
            [os.path.abspath(run_dir), "--behoefte", os.path.abspath(demand), "--basis", basis],
            out_dir,
            feedback,
            workdir,
        )
        out_dir = str(finished.get("uitvoer") or out_dir)
        gpkg = os.path.join(out_dir, "capaciteit.gpkg")
        gemeenten = f"{gpkg}|layername=capaciteit_gemeenten"
        regios = f"{gpkg}|layername=capaciteit_regios"
        record = read_json(os.path.join(out_dir, "capaciteit.json"), feedback)
        totals = record.get("totaal") if isinstance(record.get("totaal"), dict) else {}

        def total(key: str) -> float | None:
            value = totals.get(key)
            return float(value) if isinstance(value, (int, float)) else None

        shortfall = total("tekort_totaal")
        if shortfall is None and isinstance(finished.get("tekort_totaal"), (int, float)):
            shortfall = float(finished["tekort_totaal"])
        per_gemeente = _sum_column(
            os.path.join(out_dir, "capaciteit_gemeenten.csv"), SHORTFALL_FIELD
        )
        feedback.pushInfo(
            "Totaal: behoefte {b}, capaciteit geschikt {g}, voorwaardelijk {v}; tekort {t} (incl."
            " voorwaardelijk {ti}); som van de tekorten per gemeente {s}.".format(
                s=_fmt(per_gemeente),
                b=_fmt(total("behoefte_totaal")),
                g=_fmt(total("capaciteit_geschikt_totaal")),
                v=_fmt(total("capaciteit_voorwaardelijk_totaal")),
                t=_fmt(shortfall),
                ti=_fmt(total("tekort_incl_voorwaardelijk_totaal")),
            )
        )
        self._load(
            parameters,
            context,
            gemeenten,
            "Capaciteit per gemeente",
            self.GEMEENTEN_UIT,
            style=style_shortfall,
        )
        feedback.setProgress(100)
        return {
            self.UITVOERMAP: out_dir,
            self.GEMEENTEN_UIT: gemeenten,
            self.REGIOS_UIT: regios,
            self.CSV_GEMEENTEN: os.path.join(out_dir, "capaciteit_gemeenten.csv"),
            self.CSV_REGIOS: os.path.join(out_dir, "capaciteit_regios.csv"),
            self.RAPPORT: os.path.join(out_dir, "capaciteit.html"),
            self.BEHOEFTE_TOTAAL: total("behoefte_totaal"),
            self.CAPACITEIT_GESCHIKT: total("capaciteit_geschikt_totaal"),
            self.CAPACITEIT_VOORWAARDELIJK: total("capaciteit_voorwaardelijk_totaal"),
            self.TEKORT_TOTAAL: shortfall,
            self.TEKORT_INCL_VOORWAARDELIJK: total("tekort_incl_voorwaardelijk_totaal"),
            self.TEKORT_SOM_GEMEENTEN: per_gemeente,
            self.GEMEENTEN_MET_TEKORT: total("gemeenten_met_tekort"),
        }


def _sum_column(path: str, column: str) -> float | None:
    """Sum of a numeric column of the engine's CSV (``None`` when unreadable)."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            sample = fh.read(4096)
            fh.seek(0)
            dialect = csv.Sniffer().sniff(sample, delimiters=";,")
            return float(
                sum(
                    float(row[column])
                    for row in csv.DictReader(fh, dialect=dialect)
                    if row.get(column)
                )
            )
    except (OSError, ValueError, KeyError, csv.Error):
        return None


def _fmt(value: float | None) -> str:
    return "?" if value is None else nl_number(value)
