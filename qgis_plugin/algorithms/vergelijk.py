"""Vergelijk twee toetsingen (POVI-herziening): ``locatietoets vergelijk RUN_A RUN_B [--toch]``."""

from __future__ import annotations

import os

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputFile,
    QgsProcessingOutputHtml,
    QgsProcessingOutputNumber,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFile,
    QgsVectorLayer,
)

from ._command import CommandAlgorithm, read_json

__all__ = ["Vergelijk", "style_changes"]

_ALIASES = {
    "locatie_id": "Locatie",
    "gemeente": "Gemeente",
    "wijziging": "Wijziging (A → B)",
    "oorzaak": "Oorzaak (regels)",
    "gewijzigd": "Gewijzigd",
}
MAP_TIP = """<b>[% "locatie_id" %]</b> ([% coalesce("gemeente", '') %])<br>
[% replace(coalesce("wijziging", ''), '; ', '<br>') %]<br>
<i>[% replace(coalesce("oorzaak", ''), '; ', '<br>') %]</i>"""


def style_changes(layer) -> None:
    """Dutch aliases, display expression and a map tip with the change and its cause."""
    if not isinstance(layer, QgsVectorLayer) or not layer.isValid():
        return
    fields = layer.fields()
    for name, alias in _ALIASES.items():
        index = fields.indexOf(name)
        if index >= 0:
            layer.setFieldAlias(index, alias)
    if fields.indexOf("locatie_id") >= 0 and fields.indexOf("wijziging") >= 0:
        layer.setDisplayExpression("\"locatie_id\" || ' — ' || coalesce(\"wijziging\", '')")
        layer.setMapTipTemplate(MAP_TIP)


class Vergelijk(CommandAlgorithm):
    """Compare two runs on the same sites: old and new verdicts per stay type and the rules that
    changed them."""

    ALGORITHM_ID = "vergelijk"
    DISPLAY_NAME = "Vergelijk twee toetsingen (POVI-herziening)"
    COMMAND = "vergelijk"
    EXTRA_TAGS = ("vergelijk", "herziening", "regelset", "verschil")

    RUN_A = "RUN_A"
    RUN_B = "RUN_B"
    TOCH = "TOCH"
    GEWIJZIGD = "GEWIJZIGDE_LOCATIES"
    CSV_LOCATIES = "CSV_LOCATIES"
    CSV_GEMEENTEN = "CSV_GEMEENTEN"
    CSV_OVERGANGEN = "CSV_OVERGANGEN"
    RAPPORT = "RAPPORT"
    AANTAL_GEWIJZIGD = "AANTAL_GEWIJZIGD"
    AANTAL_VERGELEKEN = "AANTAL_VERGELEKEN"

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(
            QgsProcessingParameterFile(
                self.RUN_A,
                "Toetsing A (uitvoermap, bv. met de huidige regels van de POVI 2021)",
                behavior=QgsProcessingParameterFile.Folder,
            )
        )
        self.addParameter(
            QgsProcessingParameterFile(
                self.RUN_B,
                "Toetsing B (uitvoermap, bv. met de ontwerp-herziening)",
                behavior=QgsProcessingParameterFile.Folder,
            )
        )
        self.addParameter(
            QgsProcessingParameterBoolean(
                self.TOCH,
                "Ook vergelijken als de toetsingen andere locaties hebben (alleen de"
                " gemeenschappelijke)",
                defaultValue=False,
            )
        )
        self._add_output_parameters("Map voor de uitvoer (vergelijking.gpkg, CSV's, rapport)")
        self.addOutput(
            QgsProcessingOutputVectorLayer(
                self.GEWIJZIGD, "Gewijzigde locaties", QgsProcessing.TypeVectorAnyGeometry
            )
        )
        self.addOutput(
            QgsProcessingOutputFile(self.CSV_LOCATIES, "Tabel gewijzigde locaties (CSV)")
        )
        self.addOutput(QgsProcessingOutputFile(self.CSV_GEMEENTEN, "Tabel per gemeente (CSV)"))
        self.addOutput(
            QgsProcessingOutputFile(self.CSV_OVERGANGEN, "Overgangen tussen oordelen (CSV)")
        )
        self.addOutput(QgsProcessingOutputHtml(self.RAPPORT, "Rapport vergelijking"))
        self.addOutput(
            QgsProcessingOutputNumber(
                self.AANTAL_GEWIJZIGD, "Aantal locaties met een ander oordeel"
            )
        )
        self.addOutput(
            QgsProcessingOutputNumber(self.AANTAL_VERGELEKEN, "Aantal vergeleken locaties")
        )

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        runs = []
        for key, label in ((self.RUN_A, "A"), (self.RUN_B, "B")):
            path = self.parameterAsFile(parameters, key, context)
            if not path or not os.path.isdir(path):
                raise QgsProcessingException(
                    f"De uitvoermap van toetsing {label} '{path}' bestaat niet."
                )
            runs.append(os.path.abspath(path))
        arguments = list(runs)
        if self.parameterAsBoolean(parameters, self.TOCH, context):
            arguments.append("--toch")
        workdir = self._workdir()
        out_dir = self._out_dir(parameters, context, workdir)
        try:
            finished = self._run_command(arguments, out_dir, feedback, workdir)
        except QgsProcessingException as exc:
            text = str(exc)
            if (
                "--toch" in text
            ):  # the engine names its command-line option; say what it is called here
                text = text.replace(
                    "geef --toch",
                    "vink 'Ook vergelijken als de toetsingen andere locaties hebben' aan",
                )
                raise QgsProcessingException(text) from None
            raise
        out_dir = str(finished.get("uitvoer") or out_dir)
        for note in finished.get("opmerkingen") or []:
            feedback.pushWarning(f"Let op: {note}")
        record = read_json(os.path.join(out_dir, "vergelijking.json"), feedback)
        changed = record.get("locaties_gewijzigd", finished.get("gewijzigd"))
        compared = record.get("locaties_vergeleken")
        feedback.pushInfo(
            f"{changed} van {compared} locaties krijgen in B een ander oordeel voor minstens één"
            " verblijfstype."
        )
        for row in record.get("parameters") or []:
            if isinstance(row, dict):
                feedback.pushInfo(
                    f"Parameter {row.get('parameter')}: {row.get('waarde_a')} →"
                    f" {row.get('waarde_b')}"
                )
        gpkg = os.path.join(out_dir, "vergelijking.gpkg")
        layer_uri = None
        if os.path.isfile(gpkg):
            layer_uri = f"{gpkg}|layername=gewijzigde_locaties"
            for uri, kind in self._vector_parts(gpkg, "gewijzigde_locaties"):
                name = "Gewijzigde locaties" + (f" ({kind})" if kind else "")
                self._load(parameters, context, uri, name, self.GEWIJZIGD, style=style_changes)
        else:
            feedback.pushInfo(
                "Geen gewijzigde locaties: er is geen laag vergelijking.gpkg geschreven."
            )
        feedback.setProgress(100)
        results = {
            self.UITVOERMAP: out_dir,
            self.CSV_LOCATIES: os.path.join(out_dir, "vergelijking_locaties.csv"),
            self.CSV_GEMEENTEN: os.path.join(out_dir, "vergelijking_gemeenten.csv"),
            self.CSV_OVERGANGEN: os.path.join(out_dir, "overgangen.csv"),
            self.RAPPORT: os.path.join(out_dir, "vergelijking.html"),
            self.AANTAL_GEWIJZIGD: changed if isinstance(changed, int) else None,
            self.AANTAL_VERGELEKEN: compared if isinstance(compared, int) else None,
        }
        if (
            layer_uri
        ):  # no changed sites: no layer (the output stays empty rather than naming a missing file)
            results[self.GEWIJZIGD] = layer_uri
        return results
