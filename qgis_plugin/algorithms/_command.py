"""Shared Processing side of the planning commands (capaciteit, vergelijk, raster, bedrijfslocatie).

The score algorithms (:mod:`.base`) always run ``locatietoets score`` and copy
one result layer into a sink. The planning algorithms run another command of
the same engine and leave its output files in an output folder, loading the
interesting ones into the project. :class:`CommandAlgorithm` reuses everything
of :class:`~.base.EngineAlgorithm` that is not score-specific (name, help,
icon, the config layers with their field pickers and the layer → file →
config logic) and adds:

* the "config file or layers" input of ``raster`` and ``bedrijfslocatie``;
* running a command through :func:`..engine.run_engine` (JSON-lines progress
  into ``feedback``, cancel ends the process, Dutch errors);
* loading result files on completion, with a style applied by a
  post-processor (graduated colours, the engine's ``.qml`` sidecar, ...).

No state lives on ``self``: everything a run needs is local to ``processAlgorithm``.
"""

from __future__ import annotations

from collections.abc import Callable
import json
import os
import tempfile
import time
from typing import Any

from qgis.core import (
    QgsDataProvider,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterString,
    QgsProcessingUtils,
    QgsVectorLayer,
)

from .. import engine as eng
from ..settings import engine_setting
from ..vocabulary import STAY_LABELS, STAY_TYPES
from .base import EngineAlgorithm

__all__ = ["CommandAlgorithm", "LayerStyler", "CONFIG_LAYERS", "CONFIG_LAYER_SPEC", "read_json"]

#: The config layers offered by "config file or layers" algorithms: those of Toets locaties.
CONFIG_LAYERS: tuple[str, ...] = (
    EngineAlgorithm.LOCATIES,
    EngineAlgorithm.BEBOUWD_GEBIED,
    EngineAlgorithm.BEBOUWDE_KOM,
    EngineAlgorithm.RECREATIEPARKEN,
    EngineAlgorithm.GEURCONTOUREN,
    EngineAlgorithm.VEEHOUDERIJEN,
    EngineAlgorithm.WERKGEVERS,
    EngineAlgorithm.WEGENNET,
    EngineAlgorithm.GEMEENTEN,
    EngineAlgorithm.KERNEN,
    EngineAlgorithm.BESTAANDE_HUISVESTING,
)
#: ``LAYERS`` of the "config file or layers" algorithms: every layer optional (the config file may
#: replace them).
CONFIG_LAYER_SPEC: tuple[tuple[str, bool], ...] = tuple((key, False) for key in CONFIG_LAYERS)


def read_json(path: str, feedback=None) -> dict[str, Any]:
    """A JSON object written by the engine (``{}`` when absent or unreadable, with a warning)."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        if feedback is not None:
            feedback.pushWarning(f"'{path}' is niet te lezen ({exc}).")
        return {}
    return data if isinstance(data, dict) else {}


class LayerStyler(QgsProcessingLayerPostProcessorInterface):
    """Runs ``style(layer)`` when Processing loads a result layer.

    Processing keeps only a raw pointer to post-processors, so Python must hold
    a reference: instances live in :attr:`_alive` until used.
    """

    _alive: list["LayerStyler"] = []

    def __init__(self, style: Callable[[Any], None]) -> None:
        super().__init__()
        self.style = style

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS API)
        try:
            self.style(layer)
        except Exception as exc:  # noqa: BLE001 - a style problem must never lose the result
            feedback.pushWarning(f"Stijl niet toegepast op '{layer.name()}': {exc}")

    @classmethod
    def create(cls, style: Callable[[Any], None]) -> "LayerStyler":
        styler = cls(style)
        cls._alive.append(styler)
        del cls._alive[
            :-200
        ]  # Processing uses each one once, right after its run (batch: one per run)
        return styler


class CommandAlgorithm(EngineAlgorithm):
    """Base of the algorithms that run one planning command of the engine; subclasses set the
    attributes below."""

    # Parameter and output keys ---------------------------------------------
    CONFIGURATIE = "CONFIGURATIE"
    LADEN = "LADEN"

    # Declared by each algorithm ----------------------------------------------
    #: the engine command, e.g. ``"capaciteit"``
    COMMAND = ""
    #: offer "config file or the layers of Toets locaties" (raster, bedrijfslocatie)
    CONFIG_INPUT = False
    #: (layer key, required) checked by EngineAlgorithm.checkParameterValues; ``CONFIG_LAYER_SPEC``
    #: with CONFIG_INPUT
    LAYERS: tuple[tuple[str, bool], ...] = ()
    #: part of the progress bar for the engine; the rest is for loading/reading the results
    ENGINE_SHARE = 95.0
    EXTRA_TAGS: tuple[str, ...] = ()
    GROUP = "Planning"

    def tags(self):
        return super().tags() + ["planning", self.COMMAND, *self.EXTRA_TAGS]

    # Parameters ----------------------------------------------------------------
    def _add_config_parameters(self) -> None:
        """Config file OR the config layers (with field pickers, rule set and overrides), as in
        Toets locaties."""
        self.addParameter(
            QgsProcessingParameterFile(
                self.CONFIGURATIE,
                "Configuratiebestand (config.toml van locatietoets; leeg = de lagen hieronder"
                " gebruiken)",
                extension="toml",
                optional=True,
            )
        )
        for key in CONFIG_LAYERS:
            label = self.LAYER_INPUTS[key].label + (
                " — verplicht zonder configuratiebestand" if key == self.LOCATIES else ""
            )
            self._add_layer_parameters(key, optional=True, label=label)
        self._add_constraints_parameter()
        self._add_facilities_parameter()
        self.addParameter(
            QgsProcessingParameterEnum(
                self.STANDAARD_VERBLIJFSTYPE,
                "Verblijfstype voor locaties zonder verblijfstype",
                options=[STAY_LABELS[s] for s in STAY_TYPES],
                defaultValue=0,
            )
        )
        ruleset = QgsProcessingParameterFile(
            self.REGELSET,
            "Regelset (TOML; leeg = standaard POVI 2021; alleen zonder configuratiebestand)",
            extension="toml",
            optional=True,
        )
        overrides = QgsProcessingParameterString(
            self.PARAMETERS,
            "Parameteraanpassingen, bv. bbg_rand_m=150; max_termijn_jaar=5 (alleen zonder "
            "configuratiebestand)",
            multiLine=False,
            optional=True,
        )
        for param in (ruleset, overrides):
            param.setFlags(param.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(param)

    def _add_output_parameters(self, label: str) -> None:
        """The output folder (also declared as an output) and "load the results"."""
        self.addParameter(QgsProcessingParameterFolderDestination(self.UITVOERMAP, label))
        self.addParameter(
            QgsProcessingParameterBoolean(
                self.LADEN, "Resultaten in het project laden", defaultValue=True, optional=True
            )
        )

    def checkParameterValues(self, parameters, context):  # noqa: N802
        ok, message = super().checkParameterValues(parameters, context)
        if not ok or not self.CONFIG_INPUT:
            return ok, message
        has_config = bool(self.parameterAsFile(parameters, self.CONFIGURATIE, context))
        given = [
            self.LAYER_INPUTS[key].label for key in CONFIG_LAYERS if self._given(parameters, key)
        ]
        if has_config and given:
            return False, (
                "Geef óf een configuratiebestand óf lagen, niet allebei. Opgegeven lagen: "
                + ", ".join(given)
                + "."
            )
        if has_config and (
            self.parameterAsFile(parameters, self.REGELSET, context)
            or self.parameterAsString(parameters, self.PARAMETERS, context).strip()
        ):
            return (
                False,
                (
                    "Regelset en parameteraanpassingen gelden alleen bij invoer via lagen; zet ze"
                    " bij een configuratiebestand in de sectie [regels] van dat bestand."
                ),
            )
        if not has_config and not self._given(parameters, self.LOCATIES):
            return (
                False,
                (
                    "Geef een configuratiebestand (config.toml) of minstens de laag "
                    f"'{self.LAYER_INPUTS[self.LOCATIES].label}'."
                ),
            )
        return True, ""

    # Running --------------------------------------------------------------------
    @staticmethod
    def _workdir() -> str:
        return tempfile.mkdtemp(prefix="locatietoets_", dir=QgsProcessingUtils.tempFolder())

    def _config_path(self, parameters, context, feedback, workdir: str) -> str:
        """The config file given, or one written from the layers (as Toets locaties does)."""
        given = self.parameterAsFile(parameters, self.CONFIGURATIE, context)
        if given:
            if not os.path.isfile(given):
                raise QgsProcessingException(f"Het configuratiebestand '{given}' bestaat niet.")
            feedback.pushInfo(f"Configuratie: {given}")
            return os.path.abspath(given)
        try:
            overrides, gemeenten = eng.parse_overrides(
                self.parameterAsString(parameters, self.PARAMETERS, context)
            )
        except ValueError as exc:
            raise QgsProcessingException(str(exc)) from None
        ruleset = self.parameterAsFile(parameters, self.REGELSET, context) or None
        if ruleset and not os.path.isfile(ruleset):
            raise QgsProcessingException(f"Het regelsetbestand '{ruleset}' bestaat niet.")
        layers: dict[str, dict[str, Any]] = {}
        for key in CONFIG_LAYERS:
            table = self._layer_table(parameters, key, context, feedback)
            if table is not None:
                layers[self.LAYER_INPUTS[key].config_name] = table
        if "locaties" not in layers:
            raise QgsProcessingException(
                "Geef een configuratiebestand of de laag met kandidaatlocaties."
            )
        self._apply_stay_default(parameters, layers["locaties"], context, feedback)
        layers.update(self._constraint_tables(parameters, context, feedback, workdir, ruleset))
        layers.update(self._facility_tables(parameters, context, feedback, workdir, ruleset))
        path = os.path.join(workdir, "config.toml")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(
                eng.render_config(layers, ruleset=ruleset, overrides=overrides, gemeenten=gemeenten)
            )
        feedback.pushDebugInfo(f"Configuratie: {path}")
        return path

    def _out_dir(self, parameters, context, workdir: str) -> str:
        return self.parameterAsFileOutput(parameters, self.UITVOERMAP, context) or os.path.join(
            workdir, "uitvoer"
        )

    def _run_command(
        self, arguments: list[str], out_dir: str, feedback, workdir: str
    ) -> dict[str, Any]:
        """Run ``locatietoets COMMAND ARGUMENTS --out OUT_DIR --voortgang json``; return its
        ``klaar`` message."""
        try:
            engine = eng.find_engine(engine_setting())
        except eng.EngineMissingError as exc:
            raise QgsProcessingException(str(exc)) from None
        feedback.pushInfo(f"Rekenkern: {engine.path} (versie {engine.version_text})")
        feedback.pushInfo(f"Uitvoermap: {out_dir}")
        command = [self.COMMAND, *arguments, "--out", out_dir, "--voortgang", "json"]
        feedback.pushCommandInfo("locatietoets " + " ".join(_quote(part) for part in command))
        started = time.monotonic()
        finished = self._run_engine(
            engine.path, command, workdir, feedback, share=self.ENGINE_SHARE
        )
        feedback.setProgress(self.ENGINE_SHARE)
        feedback.pushInfo(f"Rekenkern klaar in {eng.elapsed_text(time.monotonic() - started)}.")
        return finished

    # Results ----------------------------------------------------------------------
    def _load(
        self,
        parameters,
        context,
        uri: str,
        name: str,
        output_key: str,
        *,
        raster: bool = False,
        style: Callable[[Any], None] | None = None,
    ) -> None:
        """Load a result file into the project when the algorithm finishes (when "Resultaten laden"
        is on)."""
        if (
            not self.parameterAsBoolean(parameters, self.LADEN, context)
            or context.project() is None
        ):
            return
        hint = (
            QgsProcessingUtils.LayerHint.Raster if raster else QgsProcessingUtils.LayerHint.Vector
        )
        details = QgsProcessingContext.LayerDetails(name, context.project(), output_key, hint)
        if style is not None:
            details.setPostProcessor(LayerStyler.create(style))
        context.addLayerToLoadOnCompletion(uri, details)

    @staticmethod
    def _vector_parts(path: str, layer_name: str) -> list[tuple[str, str]]:
        """(uri, geometry label) per geometry type of a GeoPackage layer: a layer mixing points and
        polygons (kandidaatlocaties may be either) is split into sublayers so that QGIS draws both.
        """
        uri = f"{path}|layername={layer_name}"
        probe = QgsVectorLayer(uri, "probe", "ogr", QgsVectorLayer.LayerOptions(False, False))
        if not probe.isValid():
            return []
        kinds = []
        for sub in probe.dataProvider().subLayers():
            parts = sub.split(QgsDataProvider.sublayerSeparator())
            if len(parts) >= 4 and parts[3] not in kinds:
                kinds.append(parts[3])
        if len(kinds) <= 1:
            return [(uri, "")]
        labels = {
            "Point": "punten",
            "MultiPoint": "punten",
            "Polygon": "vlakken",
            "MultiPolygon": "vlakken",
        }
        return [(f"{uri}|geometrytype={kind}", labels.get(kind, kind)) for kind in kinds]


def _quote(text: str) -> str:
    return f'"{text}"' if any(c in text for c in " \t'\"") else text
