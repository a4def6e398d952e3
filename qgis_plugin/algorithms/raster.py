"""Geschiktheidskaart (raster): ``locatietoets raster CONFIG --cel 50``."""

from __future__ import annotations

import os

from qgis.core import (
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingOutputRasterLayer,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterNumber,
    QgsRasterLayer,
)

from ..vocabulary import STAY_LABELS
from ._command import CONFIG_LAYER_SPEC, CommandAlgorithm, read_json

__all__ = ["Raster", "qml_style"]

_STAYS = tuple(STAY_LABELS.items())
_AREAS = ("auto", "gemeenten", "locaties")


def qml_style(qml: str):
    """A post-processor style that loads the engine's QGIS style (``.qml`` sidecar) into a raster
    layer."""

    def apply(layer) -> None:
        if isinstance(layer, QgsRasterLayer) and layer.isValid() and os.path.isfile(qml):
            message, ok = layer.loadNamedStyle(qml)
            if not ok:
                raise RuntimeError(message)
            layer.triggerRepaint()

    return apply


class Raster(CommandAlgorithm):
    """Score a regular grid of cell centres: a suitability surface per stay type as GeoTIFFs."""

    ALGORITHM_ID = "raster"
    DISPLAY_NAME = "Geschiktheidskaart (raster)"
    COMMAND = "raster"
    CONFIG_INPUT = True
    LAYERS = CONFIG_LAYER_SPEC
    EXTRA_TAGS = ("raster", "geschiktheid", "zoekgebied", "GeoTIFF")

    CEL = "CEL"
    GEBIED = "GEBIED"
    BLOK = "BLOK"
    RASTER_JSON = "RASTER_JSON"
    AANTAL_CELLEN = "AANTAL_CELLEN"
    #: output keys per stay type
    OORDEEL = {stay: f"OORDEEL_{stay.upper()}" for stay, _ in _STAYS}
    SCORE = {stay: f"SCORE_{stay.upper()}" for stay, _ in _STAYS}

    def initAlgorithm(self, config=None):  # noqa: N802
        self._add_config_parameters()
        self.addParameter(
            QgsProcessingParameterNumber(
                self.CEL,
                "Celgrootte (m, RD New)",
                QgsProcessingParameterNumber.Double,
                defaultValue=50.0,
                minValue=1.0,
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.GEBIED,
                "Gebied van het raster",
                options=[
                    "automatisch (gemeentegrenzen als die er zijn, anders de locaties)",
                    "gemeentegrenzen",
                    "omhullende rechthoek van de kandidaatlocaties",
                ],
                defaultValue=0,
            )
        )
        blok = QgsProcessingParameterNumber(
            self.BLOK,
            "Aantal cellen per rekenblok (geheugen)",
            QgsProcessingParameterNumber.Integer,
            defaultValue=200_000,
            minValue=1_000,
            maxValue=5_000_000,
        )
        blok.setFlags(blok.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        self.addParameter(blok)
        self._add_output_parameters(
            "Map voor de GeoTIFFs (score_*.tif, oordeel_*.tif met stijl, raster.json)"
        )
        for stay, label in _STAYS:
            self.addOutput(QgsProcessingOutputRasterLayer(self.OORDEEL[stay], f"Oordeel {label}"))
        for stay, label in _STAYS:
            self.addOutput(
                QgsProcessingOutputRasterLayer(self.SCORE[stay], f"Score {label} (0-100)")
            )
        self.addOutput(QgsProcessingOutputFile(self.RASTER_JSON, "Runverslag (raster.json)"))
        self.addOutput(QgsProcessingOutputNumber(self.AANTAL_CELLEN, "Aantal getoetste cellen"))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        workdir = self._workdir()
        config = self._config_path(parameters, context, feedback, workdir)
        cell = self.parameterAsDouble(parameters, self.CEL, context)
        area = _AREAS[self.parameterAsEnum(parameters, self.GEBIED, context)]
        chunk = self.parameterAsInt(parameters, self.BLOK, context)
        out_dir = self._out_dir(parameters, context, workdir)
        finished = self._run_command(
            [config, "--cel", f"{cell:g}", "--gebied", area, "--blok", str(chunk)],
            out_dir,
            feedback,
            workdir,
        )
        out_dir = str(finished.get("uitvoer") or out_dir)
        record = read_json(os.path.join(out_dir, "raster.json"), feedback)
        info = record.get("raster") if isinstance(record.get("raster"), dict) else {}
        cells = record.get("cellen_getoetst", finished.get("cellen"))
        feedback.pushInfo(
            f"Raster: {info.get('breedte')} × {info.get('hoogte')} cellen van {cell:g} m, "
            f"{cells} getoetst ({info.get('gebied', area)})."
        )
        counts = record.get("telling") if isinstance(record.get("telling"), dict) else {}
        for stay, label in _STAYS:
            if isinstance(counts.get(stay), dict):
                feedback.pushInfo(
                    f"  {label}: " + ", ".join(f"{k} {v}" for k, v in counts[stay].items())
                )
        for step, why in (record.get("niet_uitgevoerd") or {}).items():
            feedback.pushInfo(f"Niet getoetst ({step}): {why}")
        results = {
            self.UITVOERMAP: out_dir,
            self.RASTER_JSON: os.path.join(out_dir, "raster.json"),
            self.AANTAL_CELLEN: cells if isinstance(cells, int) else None,
        }
        for stay, label in _STAYS:
            verdict = os.path.join(out_dir, f"oordeel_{stay}.tif")
            results[self.OORDEEL[stay]] = verdict
            results[self.SCORE[stay]] = os.path.join(out_dir, f"score_{stay}.tif")
            self._load(
                parameters,
                context,
                verdict,
                f"Oordeel {label} ({cell:g} m)",
                self.OORDEEL[stay],
                raster=True,
                style=qml_style(os.path.join(out_dir, f"oordeel_{stay}.qml")),
            )
        feedback.setProgress(100)
        return results
