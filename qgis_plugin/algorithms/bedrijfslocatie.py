"""Huisvestingseffect bedrijfslocatie: ``locatietoets bedrijfslocatie CONFIG --locatie
PLAN.gpkg``."""

from __future__ import annotations

import os

from qgis.core import (
    QgsFillSymbol,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterFeatureSource,
    QgsSingleSymbolRenderer,
    QgsVectorLayer,
)

from ..styling import apply_result_style
from ._command import CONFIG_LAYER_SPEC, CommandAlgorithm, read_json

__all__ = ["Bedrijfslocatie", "style_plan"]

_PLAN_ALIASES = {
    "naam": "Plan",
    "banen": "Verwachte banen",
    "oppervlakte_ha": "Oppervlakte (ha)",
    "arbeidsmigranten": "Verwachte arbeidsmigranten",
    "bedden": "Benodigde bedden",
    "capaciteit_geschikt": "Capaciteit geschikt binnen bereik",
    "capaciteit_voorwaardelijk": "Capaciteit voorwaardelijk binnen bereik",
    "tekort_geschikt": "Tekort (bedden)",
    "tekort_incl_voorwaardelijk": "Tekort incl. voorwaardelijk",
    "boven_max_ha": "Uitbreiding boven maximum (ha)",
    "signaal": "Signaal",
}


def style_plan(layer) -> None:
    """The plan as a dark-blue outline (the sites in reach stay visible underneath), with Dutch
    aliases."""
    if not isinstance(layer, QgsVectorLayer) or not layer.isValid():
        return
    symbol = QgsFillSymbol.createSimple(
        {"style": "no", "outline_color": "#253494", "outline_width": "0.8"}
    )
    layer.setRenderer(QgsSingleSymbolRenderer(symbol))
    for name, alias in _PLAN_ALIASES.items():
        index = layer.fields().indexOf(name)
        if index >= 0:
            layer.setFieldAlias(index, alias)
    layer.triggerRepaint()


class Bedrijfslocatie(CommandAlgorithm):
    """Housing effect of a new or expanding business location: migrants, beds, capacity within
    reach, shortfall."""

    ALGORITHM_ID = "bedrijfslocatie"
    DISPLAY_NAME = "Huisvestingseffect bedrijfslocatie"
    COMMAND = "bedrijfslocatie"
    CONFIG_INPUT = True
    LAYERS = CONFIG_LAYER_SPEC
    EXTRA_TAGS = ("bedrijfslocatie", "bedrijventerrein", "banen", "bedden", "tekort", "uitbreiding")

    PLAN = "PLAN"
    PLAN_UIT = "PLAN_UIT"
    LOCATIES_BINNEN_BEREIK = "LOCATIES_BINNEN_BEREIK"
    JSON = "JSON"
    SAMENVATTING = "SAMENVATTING"
    ARBEIDSMIGRANTEN = "ARBEIDSMIGRANTEN"
    BEDDEN = "BEDDEN"
    CAPACITEIT_GESCHIKT = "CAPACITEIT_GESCHIKT"
    CAPACITEIT_VOORWAARDELIJK = "CAPACITEIT_VOORWAARDELIJK"
    TEKORT_GESCHIKT = "TEKORT_GESCHIKT"
    TEKORT_INCL_VOORWAARDELIJK = "TEKORT_INCL_VOORWAARDELIJK"
    AANTAL_BOVEN_MAX_HA = "AANTAL_BOVEN_MAX_HA"
    _SUMS = (
        (ARBEIDSMIGRANTEN, "arbeidsmigranten", "Verwachte arbeidsmigranten"),
        (BEDDEN, "bedden", "Benodigde bedden"),
        (CAPACITEIT_GESCHIKT, "capaciteit_geschikt", "Capaciteit geschikte locaties binnen bereik"),
        (
            CAPACITEIT_VOORWAARDELIJK,
            "capaciteit_voorwaardelijk",
            "Capaciteit voorwaardelijke locaties binnen bereik",
        ),
        (TEKORT_GESCHIKT, "tekort_geschikt", "Tekort (bedden)"),
        (
            TEKORT_INCL_VOORWAARDELIJK,
            "tekort_incl_voorwaardelijk",
            "Tekort incl. voorwaardelijke locaties (bedden)",
        ),
    )

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                self.PLAN,
                "Plangebied bedrijfslocatie (vlakken; velden naam, banen, sector, oppervlakte_ha"
                " optioneel)",
                [QgsProcessing.TypeVectorPolygon],
            )
        )
        self._add_config_parameters()
        self._add_output_parameters("Map voor de uitvoer (bedrijfslocatie.gpkg, .json, .txt)")
        self.addOutput(
            QgsProcessingOutputVectorLayer(
                self.PLAN_UIT, "Plan met huisvestingseffect", QgsProcessing.TypeVectorPolygon
            )
        )
        self.addOutput(
            QgsProcessingOutputVectorLayer(
                self.LOCATIES_BINNEN_BEREIK,
                "Getelde locaties binnen bereik",
                QgsProcessing.TypeVectorAnyGeometry,
            )
        )
        self.addOutput(QgsProcessingOutputFile(self.JSON, "Verslag (bedrijfslocatie.json)"))
        self.addOutput(
            QgsProcessingOutputFile(self.SAMENVATTING, "Samenvatting (bedrijfslocatie.txt)")
        )
        for key, _field, label in self._SUMS:
            self.addOutput(QgsProcessingOutputNumber(key, f"{label} (som over de plannen)"))
        self.addOutput(
            QgsProcessingOutputNumber(
                self.AANTAL_BOVEN_MAX_HA, "Aantal plannen boven de maximale uitbreiding"
            )
        )

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        source = self.parameterAsSource(parameters, self.PLAN, context)
        if source is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, self.PLAN))
        if source.featureCount() == 0:
            raise QgsProcessingException(
                "Het plangebied bevat geen objecten (of geen geselecteerde objecten)."
            )
        plan_path, plan_layer = self.parameterAsCompatibleSourceLayerPathAndLayerName(
            parameters, self.PLAN, context, ["gpkg"], "gpkg", feedback
        )
        if not plan_path:
            raise QgsProcessingException(
                "Het plangebied kan niet als GeoPackage aan de rekenkern worden gegeven."
            )
        feedback.pushInfo(f"Plangebied: {source.featureCount()} object(en) → {plan_path}")
        workdir = self._workdir()
        config = self._config_path(parameters, context, feedback, workdir)
        arguments = [config, "--locatie", plan_path]
        if plan_layer:
            arguments += ["--laag", plan_layer]
        out_dir = self._out_dir(parameters, context, workdir)
        finished = self._run_command(arguments, out_dir, feedback, workdir)
        out_dir = str(finished.get("uitvoer") or out_dir)
        record = read_json(os.path.join(out_dir, "bedrijfslocatie.json"), feedback)
        plans = [
            p for p in record.get("plannen") or finished.get("plannen") or [] if isinstance(p, dict)
        ]
        summary = os.path.join(out_dir, "bedrijfslocatie.txt")
        try:
            with open(summary, encoding="utf-8") as fh:
                for line in fh.read().splitlines():
                    if line.startswith("  SIGNAAL") or line.startswith("Let op"):
                        feedback.pushWarning(line.strip())
                    else:
                        feedback.pushInfo(line)
        except OSError:
            pass
        gpkg = os.path.join(out_dir, "bedrijfslocatie.gpkg")
        plan_uri = f"{gpkg}|layername=plan"
        in_reach = None
        parts = self._vector_parts(gpkg, "locaties_binnen_bereik")
        if parts:
            in_reach = f"{gpkg}|layername=locaties_binnen_bereik"
            for uri, kind in parts:
                name = "Locaties binnen bereik" + (f" ({kind})" if kind else "")
                self._load(
                    parameters,
                    context,
                    uri,
                    name,
                    self.LOCATIES_BINNEN_BEREIK,
                    style=apply_result_style,
                )
        self._load(
            parameters, context, plan_uri, "Bedrijfslocatie (plan)", self.PLAN_UIT, style=style_plan
        )
        results = {
            self.UITVOERMAP: out_dir,
            self.PLAN_UIT: plan_uri,
            self.JSON: os.path.join(out_dir, "bedrijfslocatie.json"),
            self.SAMENVATTING: summary,
            self.AANTAL_BOVEN_MAX_HA: sum(1 for p in plans if p.get("boven_max_ha")),
        }
        if in_reach:  # no sites within reach: no layer
            results[self.LOCATIES_BINNEN_BEREIK] = in_reach
        for key, field, _label in self._SUMS:
            values = [p.get(field) for p in plans if isinstance(p.get(field), (int, float))]
            results[key] = float(sum(values)) if values else None
        feedback.setProgress(100)
        return results
