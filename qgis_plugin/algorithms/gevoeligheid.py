"""Gevoeligheid van een regelparameter:
``locatietoets gevoeligheid CONFIG --parameter P --waarden W``."""

from __future__ import annotations

import os

from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterString,
    QgsVectorLayer,
)

from ._command import CONFIG_LAYER_SPEC, CommandAlgorithm, read_json

__all__ = ["Gevoeligheid", "style_sensitivity"]


def style_sensitivity(layer) -> None:
    """Load the style the engine stored in the GeoPackage (colours by direction, Dutch aliases,
    map tip)."""
    if not isinstance(layer, QgsVectorLayer) or not layer.isValid():
        return
    message, ok = layer.loadDefaultStyle()
    if not ok:
        raise RuntimeError(message)
    if layer.fields().indexOf("wijziging") >= 0:
        layer.setDisplayExpression("\"locatie_id\" || ' — ' || coalesce(\"wijziging\", '')")
    layer.triggerRepaint()


class Gevoeligheid(CommandAlgorithm):
    """Score the sites once per value of one rule parameter: verdict counts per value and the
    sites whose verdict changes."""

    ALGORITHM_ID = "gevoeligheid"
    DISPLAY_NAME = "Gevoeligheid van een regelparameter"
    COMMAND = "gevoeligheid"
    CONFIG_INPUT = True
    LAYERS = CONFIG_LAYER_SPEC
    EXTRA_TAGS = ("gevoeligheid", "parameter", "wat als", "POVI", "bbg_rand_m")

    REGELPARAMETER = "REGELPARAMETER"
    WAARDEN = "WAARDEN"
    TABEL = "TABEL"
    GRAFIEK = "GRAFIEK"
    GEWIJZIGD = "GEWIJZIGD"
    VERSLAG = "VERSLAG"
    AANTAL_GEWIJZIGD = "AANTAL_GEWIJZIGD"

    def initAlgorithm(self, config=None):  # noqa: N802
        self._add_config_parameters()
        self.addParameter(
            QgsProcessingParameterString(
                self.REGELPARAMETER,
                "Regelparameter (naam uit de regelset, bv. bbg_rand_m)",
                defaultValue="bbg_rand_m",
            )
        )
        self.addParameter(
            QgsProcessingParameterString(
                self.WAARDEN,
                "Waarden, gescheiden door komma's (of puntkomma's met decimale komma)",
                defaultValue="100,150,200,250,300",
            )
        )
        self._add_output_parameters("Map voor de uitvoer (gevoeligheid.csv, .png, .gpkg en .json)")
        self.addOutput(
            QgsProcessingOutputFile(
                self.TABEL, "Aantal locaties per oordeel, waarde, gemeente en verblijfstype (CSV)"
            )
        )
        self.addOutput(QgsProcessingOutputFile(self.GRAFIEK, "Grafiek (PNG)"))
        self.addOutput(
            QgsProcessingOutputVectorLayer(self.GEWIJZIGD, "Locaties waarvan het oordeel verandert")
        )
        self.addOutput(QgsProcessingOutputFile(self.VERSLAG, "Runverslag (gevoeligheid.json)"))
        self.addOutput(
            QgsProcessingOutputNumber(
                self.AANTAL_GEWIJZIGD, "Aantal wijzigingen tussen opeenvolgende waarden"
            )
        )

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        parameter = self.parameterAsString(parameters, self.REGELPARAMETER, context).strip()
        values = self.parameterAsString(parameters, self.WAARDEN, context).strip()
        if not parameter or not values:
            raise QgsProcessingException("Geef een regelparameter en minstens twee waarden.")
        workdir = self._workdir()
        config = self._config_path(parameters, context, feedback, workdir)
        out_dir = self._out_dir(parameters, context, workdir)
        finished = self._run_command(
            [config, "--parameter", parameter, "--waarden", values], out_dir, feedback, workdir
        )
        out_dir = str(finished.get("uitvoer") or out_dir)
        record = read_json(os.path.join(out_dir, "gevoeligheid.json"), feedback)
        changed = record.get("gewijzigd") if isinstance(record.get("gewijzigd"), dict) else {}
        for pair, count in changed.items():
            feedback.pushInfo(f"{pair}: oordeel van {count} locaties verandert")
        gpkg = os.path.join(out_dir, "gevoeligheid.gpkg")
        results = {
            self.UITVOERMAP: out_dir,
            self.TABEL: os.path.join(out_dir, "gevoeligheid.csv"),
            self.GRAFIEK: os.path.join(out_dir, "gevoeligheid.png"),
            self.VERSLAG: os.path.join(out_dir, "gevoeligheid.json"),
            self.AANTAL_GEWIJZIGD: sum(v for v in changed.values() if isinstance(v, int)),
        }
        if os.path.isfile(gpkg):
            results[self.GEWIJZIGD] = f"{gpkg}|layername=gewijzigde_locaties"
            for uri, kind in self._vector_parts(gpkg, "gewijzigde_locaties"):
                name = f"Gevoeligheid {parameter}: gewijzigd oordeel" + (
                    f" ({kind})" if kind else ""
                )
                self._load(parameters, context, uri, name, self.GEWIJZIGD, style=style_sensitivity)
        else:
            feedback.pushInfo(
                "Bij geen van de waarden verandert een oordeel: geen laag geschreven."
            )
        feedback.setProgress(100)
        return results
