"""The Processing side shared by every Locatietoets algorithm.

An algorithm here is a declaration: which config layers it offers (and which
are required). :class:`EngineAlgorithm` turns that into parameters with field
pickers, hands the layers to the engine as files, writes ``config.toml``,
runs ``locatietoets score`` as an external process with progress and cancel,
and copies the engine's result layer into the output. No state lives on
``self``: everything a run needs is local to ``processAlgorithm``.
"""

from __future__ import annotations

import os
from pathlib import Path
import re
import shutil
import tempfile
import time
from typing import Any

from qgis.core import (
    QgsFeature,
    QgsFeatureRequest,
    QgsFeatureSink,
    QgsFields,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingOutputFile,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingOutputNumber,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterString,
    QgsProcessingUtils,
    QgsVectorFileWriter,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtGui import QIcon

from .. import engine as eng
from ..config_reader import read_config
from ..config_writer import CONSTRAINT_NAME_PATTERN, CONSTRAINTS, FACILITIES
from ..helptext import help_html
from ..settings import engine_setting
from ..styling import RUN_JSON_PROPERTY, ResultStyler, geometry_kinds, save_style_in_geopackage
from ..vocabulary import (
    IDENTIFY_FIRST,
    RESULT_FIELDS,
    STAY_LABELS,
    STAY_TYPES,
    nl_number,
    stay_label,
)
from .field_wrapper import guessing_wrapper_metadata
from .inputs import NAME_FIELD_GUESSES, FieldInput, LayerInput, LayerParameters, pick_field

__all__ = ["FieldInput", "LayerInput", "EngineAlgorithm"]

PLUGIN_DIR = Path(__file__).resolve().parents[1]
_COMPATIBLE_FORMATS = ["gpkg", "shp"]
_STAY_TYPES = STAY_TYPES
_MODES = ("auto", "fiets", "lopen")


#: The constraint layers the built-in rule sets judge (``laag = "<naam>"`` in
#: analysis/rulesets/*.toml; tests/test_qgis_plugin.py holds the list equal to them).
BUILTIN_CONSTRAINTS = (
    "natura2000",
    "natuurnetwerk",
    "bedrijventerreinen",
    "geluid",
    "externe_veiligheid",
    "plaatsgebonden_risico",
)


#: The facility kinds the built-in rule sets judge (rules ``voorziening.<soort>.*``; the same
#: test holds them equal).
BUILTIN_FACILITIES = ("ov_halte", "supermarkt", "huisarts")


def _squashed(name: str) -> str:
    return name.replace("_", "")


def constraint_name(layer_name: str, known: tuple[str, ...] = BUILTIN_CONSTRAINTS) -> str:
    """The constraint name of a QGIS layer for ``[lagen.beperkingen.<naam>]``: lower case, every
    run of other characters than letters and digits one ``_`` ("Externe veiligheid" ->
    "externe_veiligheid"); "" when nothing usable remains.

    A name that equals one of ``known`` (the rule set's layer names) but for case, spaces,
    underscores and hyphens becomes that name, so "Natura 2000" is ``natura2000`` and
    "Bedrijven-terreinen" ``bedrijventerreinen``: the rule set's rules judge it.
    """
    import unicodedata

    text = unicodedata.normalize("NFKD", layer_name).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    for name in known:
        if _squashed(text) == _squashed(name):
            return name
    if text and not text[0].isalpha():
        text = f"laag_{text}"
    return text[:40]


def ruleset_layer_names(path: str | None, *, facilities: bool = False) -> tuple[str, ...]:
    """The layer names (``laag = "<naam>"``) the rules of a rule-set file judge, after the
    built-in ones; with ``facilities`` the facility kinds (rules ``voorziening.<soort>.*``).
    Only the built-in ones when there is no file or it cannot be read (the engine reports a
    broken rule set itself)."""
    names = list(BUILTIN_FACILITIES if facilities else BUILTIN_CONSTRAINTS)
    if not path or not os.path.isfile(path):
        return tuple(names)
    try:
        import tomllib

        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, ValueError, ImportError):
        return tuple(names)
    rules = data.get("regel") if isinstance(data, dict) else None
    for rule in rules if isinstance(rules, list) else []:
        if not isinstance(rule, dict):
            continue
        name = rule.get("laag")
        if facilities:
            parts = str(rule.get("id", "")).split(".")
            name = parts[1] if len(parts) == 3 and parts[0] == "voorziening" else None
        if isinstance(name, str) and name and name not in names:
            names.append(name)
    return tuple(names)


def _single_type_file(sink: str) -> bool:
    """Whether an output path is a format that holds one geometry type per layer (a shapefile,
    MapInfo, …)."""
    return os.path.splitext(sink.split("|")[0])[1].lower() in (
        ".shp",
        ".dbf",
        ".tab",
        ".mif",
        ".csv",
        ".xlsx",
        ".ods",
    )


def _number(value: float) -> str:
    """Counts as integers, measures with a decimal comma."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}".replace(".", ",")
    return str(int(value))


def own_stay_line(counts: dict[Any, int]) -> str:
    """The counts of each site on its own stay type, worded as the command line's summary
    (``scripts/cli.py`` ``own_stay_line``); ``None`` counts the sites without a verdict."""
    line = (
        f"Eigen verblijfstype: {nl_number(counts.get('geschikt', 0))} locaties geschikt voor hun"
        f" eigen verblijfstype, {nl_number(counts.get('voorwaardelijk', 0))} voorwaardelijk,"
        f" {nl_number(counts.get('ongeschikt', 0))} ongeschikt"
    )
    if counts.get(None):
        line += f", {nl_number(counts[None])} zonder oordeel"
    return line + "."


def _copy_beside(dest_id: str, source: str, suffix: str, what: str, feedback) -> str:
    """Copy ``source`` beside a file output as ``<naam><suffix>``; return the copy, or ``source``
    when the output is no file (a temporary layer) or the copy fails (with a warning).

    A run without ``source`` (no reference layers) removes a copy an earlier run left beside the
    same output: the maps would draw it as if the new sites had been tested against it.
    """
    path = dest_id.split("|")[0]
    if not os.path.isfile(path):
        return source
    beside = os.path.splitext(path)[0] + suffix
    if not os.path.isfile(source):
        if os.path.isfile(beside):
            try:
                os.remove(beside)
            except OSError as exc:
                feedback.pushWarning(
                    f"{what} van een eerdere run staan nog naast de uitvoer ('{beside}') en horen"
                    f" niet bij deze run; verwijder het bestand: {exc}"
                )
            else:
                feedback.pushInfo(f"{what} van een eerdere run verwijderd: {beside}")
        return source
    try:
        shutil.copyfile(source, beside)
    except OSError as exc:
        feedback.pushWarning(f"{what} niet naast de uitvoer geschreven ('{beside}'): {exc}")
        return source
    feedback.pushInfo(f"{what} naast de uitvoer: {beside}")
    return beside


class LocatietoetsAlgorithm(QgsProcessingAlgorithm):
    """Identity shared by every Locatietoets algorithm: id, name, icon and help from class
    attributes."""

    ALGORITHM_ID = ""
    DISPLAY_NAME = ""
    #: Toolbox group: "Toetsen", "Planning" or "Kaarten"; empty puts the algorithm above the groups
    #: (QGIS lists a provider's ungrouped algorithms first, then its groups alphabetically).
    GROUP = ""

    # QgsProcessingAlgorithm ----------------------------------------------
    def createInstance(self):  # noqa: N802
        return type(self)()

    def name(self):
        return self.ALGORITHM_ID

    def displayName(self):  # noqa: N802
        return self.DISPLAY_NAME

    def group(self):
        return self.GROUP

    def groupId(self):  # noqa: N802
        return self.GROUP.lower()

    def icon(self):
        return QIcon(str(PLUGIN_DIR / "icon.svg"))

    def shortHelpString(self):  # noqa: N802
        return help_html(self.ALGORITHM_ID)

    def helpUrl(self):  # noqa: N802
        return (PLUGIN_DIR / "help" / f"{self.ALGORITHM_ID}.html").as_uri()


class EngineAlgorithm(LayerParameters, LocatietoetsAlgorithm):
    """Base of the algorithms that run the engine; subclasses set the class attributes below
    (the parameter keys and the table of config layers come from :class:`LayerParameters`)."""

    # Declared by each algorithm -------------------------------------------
    ALGORITHM_ID = ""
    DISPLAY_NAME = ""
    #: (layer key, required) in the order shown
    LAYERS: tuple[tuple[str, bool], ...] = ()
    #: at least one of these layer keys must be given
    AT_LEAST_ONE: tuple[str, ...] = ()
    #: offer the default verblijfstype choice
    OFFERS_STAY_DEFAULT = False
    #: offer declared constraint layers ([lagen.beperkingen.<naam>], named after the QGIS layer)
    #: and facility layers ([lagen.voorzieningen.<soort>], likewise)
    OFFERS_CONSTRAINTS = False
    #: offer an existing config.toml as the starting point, and saving the run's config.toml
    OFFERS_CONFIG = False
    OUTPUT_NAME = "Getoetste locaties"

    def tags(self):
        return ["locatietoets", "arbeidsmigranten", "huisvesting", "limburg", "POVI", "BBG", "geur"]

    def _add_layer_parameters(self, key: str, *, optional: bool, label: str | None = None) -> None:
        """Add a config layer as a feature-source parameter with its field pickers (and the mode for
        roads)."""
        layer = self.LAYER_INPUTS[key]
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                key, label or layer.label, list(layer.types), optional=optional
            )
        )
        for field in layer.fields:
            param = QgsProcessingParameterField(
                field.key,
                field.label,
                parentLayerParameterName=key,
                type=(
                    QgsProcessingParameterField.Numeric
                    if field.numeric
                    else QgsProcessingParameterField.Any
                ),
                optional=True,
                defaultValue=field.guesses[0] if field.guesses else None,
            )
            if field.advanced:
                param.setFlags(param.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            # the dialog pre-selects the first of the guesses the chosen layer has
            param.setMetadata({**param.metadata(), **guessing_wrapper_metadata(field.guesses)})
            self.addParameter(param)
        if key == self.WEGENNET:
            self.addParameter(
                QgsProcessingParameterEnum(
                    self.WEGENNET_MODUS,
                    "Vervoerwijze over het wegennet",
                    options=["auto", "fiets", "lopen"],
                    defaultValue=1,
                )
            )

    def initAlgorithm(self, config=None):  # noqa: N802
        if self.OFFERS_CONFIG:
            self.addParameter(
                QgsProcessingParameterFile(
                    self.CONFIGURATIE,
                    "Configuratie (config.toml) als startpunt (wat hier leeg blijft)",
                    extension="toml",
                    optional=True,
                )
            )
        for key, required in self.LAYERS:
            # with a config as the starting point the sites may come from it
            optional = not required or (self.OFFERS_CONFIG and key == self.LOCATIES)
            self._add_layer_parameters(key, optional=optional)
        if self.OFFERS_STAY_DEFAULT:
            self.addParameter(
                QgsProcessingParameterEnum(
                    self.STANDAARD_VERBLIJFSTYPE,
                    "Verblijfstype voor locaties zonder verblijfstype",
                    options=[STAY_LABELS[s] for s in STAY_TYPES],
                    defaultValue=0,
                )
            )
        if self.OFFERS_CONSTRAINTS:
            self._add_constraints_parameter()
            self._add_facilities_parameter()
        ruleset = QgsProcessingParameterFile(
            self.REGELSET,
            "Regelset (TOML; leeg = standaard POVI 2021)",
            extension="toml",
            optional=True,
        )
        overrides = QgsProcessingParameterString(
            self.PARAMETERS,
            "Parameteraanpassingen, bv. bbg_rand_m=150; max_termijn_jaar=5",
            multiLine=False,
            optional=True,
        )
        for param in (ruleset, overrides):
            param.setFlags(param.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(param)
        folder = QgsProcessingParameterFolderDestination(
            self.UITVOERMAP,
            "Map voor alle uitvoer van de rekenkern (GeoPackage, CSV, run.json)",
            optional=True,
            createByDefault=True,
        )
        folder.setFlags(folder.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        self.addParameter(folder)
        if self.OFFERS_CONFIG:
            save = QgsProcessingParameterFileDestination(
                self.CONFIGURATIE_OPSLAAN,
                "Configuratie van deze toetsing opslaan als (config.toml; voor locatietoets score)",
                fileFilter="TOML (*.toml)",
                optional=True,
                createByDefault=False,
            )
            save.setFlags(save.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(save)
        self.addParameter(
            QgsProcessingParameterFeatureSink(
                self.OUTPUT, self.OUTPUT_NAME, QgsProcessing.TypeVectorAnyGeometry
            )
        )
        self.addOutput(QgsProcessingOutputFile(self.RUN_JSON, "Runverslag (run.json)"))
        self.addOutput(QgsProcessingOutputFile(self.CSV, "Tabel (locaties.csv)"))
        self.addOutput(
            QgsProcessingOutputNumber(
                self.AANTAL_GESCHIKT, "Aantal geschikt voor het eigen verblijfstype"
            )
        )
        self.addOutput(
            QgsProcessingOutputNumber(
                self.AANTAL_VOORWAARDELIJK, "Aantal voorwaardelijk voor het eigen verblijfstype"
            )
        )
        self.addOutput(
            QgsProcessingOutputNumber(
                self.AANTAL_ONGESCHIKT, "Aantal ongeschikt voor het eigen verblijfstype"
            )
        )
        self.addOutput(
            QgsProcessingOutputNumber(
                self.AANTAL_ZONDER_OORDEEL, "Aantal zonder oordeel (geen geometrie)"
            )
        )

    def checkParameterValues(self, parameters, context):  # noqa: N802
        ok, message = super().checkParameterValues(parameters, context)
        if not ok:
            return ok, message
        problems = []
        for key, _required in self.LAYERS:
            layer = self.LAYER_INPUTS[key]
            if not self._given(parameters, key):
                continue
            for field_key in layer.required_fields:
                if not self._field(parameters, field_key, context):
                    field = next(f for f in layer.fields if f.key == field_key)
                    if field_key not in parameters:  # not asked: a name that fits will do
                        given = self.parameterAsVectorLayer(parameters, key, context)
                        if given is not None and pick_field(given.fields().names(), field.guesses):
                            continue
                    problems.append(f"Bij '{layer.label}' is '{field.label}' verplicht.")
        if (
            self.OFFERS_CONFIG
            and not self._given(parameters, self.LOCATIES)
            and not self._given(parameters, self.CONFIGURATIE)
        ):
            problems.append(
                "Geef de kandidaatlocaties, of een configuratie (config.toml) met [lagen.locaties]."
            )
        if self.AT_LEAST_ONE and not any(self._given(parameters, key) for key in self.AT_LEAST_ONE):
            names = " of ".join(f"'{self.LAYER_INPUTS[k].label}'" for k in self.AT_LEAST_ONE)
            problems.append(f"Geef minstens één van deze lagen: {names}.")
        try:
            eng.parse_overrides(self.parameterAsString(parameters, self.PARAMETERS, context))
        except ValueError as exc:
            problems.append(str(exc))
        problems += self._mixed_output_problems(parameters, context)
        if problems:
            return False, "\n".join(problems)
        return True, ""

    def _mixed_output_problems(self, parameters, context) -> list[str]:
        """Sites of points and polygons cannot go into a one-geometry-type file (a shapefile): say
        so before the run."""
        if self.parameterDefinition(self.OUTPUT) is None or not self._given(
            parameters, self.LOCATIES
        ):
            return []
        sink = self._sink_text(parameters.get(self.OUTPUT), context)
        if not _single_type_file(sink):
            return []
        sites = self.parameterAsVectorLayer(parameters, self.LOCATIES, context)
        if sites is None or len(geometry_kinds(sites)) <= 1:
            return []
        return [
            f"De kandidaatlocaties zijn punten én vlakken; '{os.path.basename(sink.split('|')[0])}'"
            " kan maar één geometrietype bevatten. Kies een GeoPackage (.gpkg) als uitvoer."
        ]

    @staticmethod
    def _sink_text(value, context) -> str:
        if isinstance(value, QgsProcessingOutputLayerDefinition):
            return value.sink.valueAsString(context.expressionContext(), "")[0]
        return str(value or "")

    # Helpers (stateless) ----------------------------------------------------
    @staticmethod
    def _given(parameters: dict[str, Any], key: str) -> bool:
        value = parameters.get(key)
        return value is not None and value != ""

    def _field(self, parameters, key, context) -> str | None:
        if not self._given(parameters, key):
            return None
        fields = self.parameterAsFields(parameters, key, context)
        return fields[0] if fields else None

    def _layer_table(self, parameters, key, context, feedback) -> dict[str, Any] | None:
        """Hand one layer to the engine as a file and describe it as a config table."""
        layer = self.LAYER_INPUTS[key]
        source = self.parameterAsSource(parameters, key, context)
        if source is None:
            return None
        path, layer_name = self.parameterAsCompatibleSourceLayerPathAndLayerName(
            parameters, key, context, _COMPATIBLE_FORMATS, "gpkg", feedback
        )
        if not path:
            raise QgsProcessingException(
                f"De laag '{layer.label}' kan niet als bestand aan de rekenkern worden gegeven."
            )
        table: dict[str, Any] = {"pad": path}
        if layer_name and path.lower().endswith(".gpkg"):
            table["laag"] = layer_name
        # 'crs' is only for files that carry none (the engine rejects a conflicting one): a
        # shapefile
        # without .prj whose CRS the user set in QGIS, for example.
        crs = source.sourceCrs()
        if crs.isValid() and crs.authid() and not self._file_has_crs(path, table.get("laag")):
            table["crs"] = crs.authid()
        field_names = source.fields().names()
        for field in layer.fields:
            value = self._field(parameters, field.key, context)
            if value and value not in field_names:
                # a pre-selected name this layer lacks: none
                value = pick_field(field_names, (value,))
            if not value and field.key not in parameters:  # not asked: take a name that fits
                value = pick_field(field_names, field.guesses)
                if value:
                    feedback.pushInfo(
                        f"Laag '{layer.label}': veld '{value}' gebruikt voor"
                        f" '{field.label}' (de naam past)."
                    )
            if value:
                table[field.config_key] = value
        if key == self.WEGENNET:
            table["modus"] = _MODES[self.parameterAsEnum(parameters, self.WEGENNET_MODUS, context)]
        if feedback.isCanceled():
            raise QgsProcessingException("De berekening is afgebroken.")
        feedback.pushInfo(f"Laag '{layer.label}': {source.featureCount()} objecten → {path}")
        return table

    def _add_constraints_parameter(self) -> None:
        """Declared constraint layers: several layers, each named after the QGIS layer, and the
        field that names their features."""
        self.addParameter(
            QgsProcessingParameterMultipleLayers(
                self.BEPERKINGEN,
                "Beperkingen (Natura 2000, natuurnetwerk, bedrijventerreinen, geluid, externe"
                " veiligheid, eigen lagen): de laagnaam is de naam van de beperking",
                layerType=QgsProcessing.TypeVectorAnyGeometry,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterString(
                self.BEPERKING_NAAM_VELD,
                "Naamveld van de beperkingen: veldnamen na elkaar, de eerste die een laag heeft"
                " geeft de naam van het gebied (hoofdletters tellen niet)",
                defaultValue=", ".join(NAME_FIELD_GUESSES[CONSTRAINTS]),
                optional=True,
            )
        )

    def _add_facilities_parameter(self) -> None:
        """Facility layers: several point (or polygon) layers, each named after its kind, and the
        field that names their features."""
        self.addParameter(
            QgsProcessingParameterMultipleLayers(
                self.VOORZIENINGEN,
                "Voorzieningen (ov-haltes, supermarkten, huisartsen, ...): de laagnaam is de soort"
                " (bv. 'ov_halte', 'supermarkt', 'huisarts')",
                layerType=QgsProcessing.TypeVectorAnyGeometry,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterString(
                self.VOORZIENING_NAAM_VELD,
                "Naamveld van de voorzieningen: veldnamen na elkaar, de eerste die een laag heeft"
                " geeft de naam van de voorziening (hoofdletters tellen niet)",
                defaultValue=", ".join(NAME_FIELD_GUESSES[FACILITIES]),
                optional=True,
            )
        )

    def _constraint_tables(
        self, parameters, context, feedback, workdir, ruleset: str | None = None
    ) -> dict[str, Any]:
        """Hand each chosen constraint layer to the engine as a GeoPackage, as
        ``beperkingen.<naam>`` with the layer's name as the constraint's name (a built-in or
        ``ruleset`` layer name when it matches but for case, spaces, _ and -)."""
        return self._named_layer_tables(
            parameters, self.BEPERKINGEN, CONSTRAINTS, context, feedback, workdir, ruleset
        )

    def _facility_tables(
        self, parameters, context, feedback, workdir, ruleset: str | None = None
    ) -> dict[str, Any]:
        """Hand each chosen facility layer to the engine as a GeoPackage, as
        ``voorzieningen.<soort>`` with the layer's name as the kind (a built-in or ``ruleset``
        kind when it matches but for case, spaces, _ and -: "OV-halte" is ``ov_halte``)."""
        return self._named_layer_tables(
            parameters, self.VOORZIENINGEN, FACILITIES, context, feedback, workdir, ruleset
        )

    def _name_field_candidates(self, parameters, group: str, context) -> tuple[str, ...]:
        """The candidate name fields of the constraint or facility layers: the parameter's list
        (comma, semicolon or space separated), the default list when the parameter is absent."""
        key = self.VOORZIENING_NAAM_VELD if group == FACILITIES else self.BEPERKING_NAAM_VELD
        if key not in parameters or self.parameterDefinition(key) is None:
            return NAME_FIELD_GUESSES[group]
        text = self.parameterAsString(parameters, key, context) or ""
        return tuple(n for n in re.split(r"[,;\s]+", text) if n)

    def _named_layer_tables(
        self,
        parameters,
        param: str,
        group: str,
        context,
        feedback,
        workdir,
        ruleset: str | None = None,
    ) -> dict[str, Any]:
        """Write the layers of a multiple-layer parameter as GeoPackages, one config table
        ``<group>.<naam>`` each, the name taken from the QGIS layer name; the first candidate
        name field a layer has becomes its ``naam_veld``."""
        facility = group == FACILITIES
        what = "voorziening" if facility else "beperking"
        known = ruleset_layer_names(ruleset, facilities=facility)
        candidates = self._name_field_candidates(parameters, group, context)
        tables: dict[str, Any] = {}
        for layer in self.parameterAsLayerList(parameters, param, context) or []:
            name = constraint_name(layer.name(), known)
            if not CONSTRAINT_NAME_PATTERN.match(name):
                example = "'supermarkt' of 'ov_halte'" if facility else "'natura2000' of 'geluid'"
                raise QgsProcessingException(
                    f"De laagnaam '{layer.name()}' geeft geen bruikbare naam voor een {what};"
                    f" geef de laag een naam met letters, bv. {example}."
                )
            key = f"{group}.{name}"
            if key in tables:
                raise QgsProcessingException(
                    f"Twee {'voorzieningen' if facility else 'beperkingen'} heten '{name}';"
                    " geef elke laag een eigen naam."
                )
            path = os.path.join(workdir, f"{what}_{name}.gpkg")
            options = QgsVectorFileWriter.SaveVectorOptions()
            options.driverName = "GPKG"
            options.layerName = name
            error, message, _path, _layer = QgsVectorFileWriter.writeAsVectorFormatV3(
                layer, path, context.transformContext(), options
            )
            if error != QgsVectorFileWriter.NoError:
                raise QgsProcessingException(
                    f"De {what} '{layer.name()}' kan niet als bestand aan de rekenkern worden"
                    f" gegeven: {message}"
                )
            tables[key] = {"pad": path, "laag": name}
            if name != constraint_name(layer.name(), ()):
                feedback.pushInfo(
                    f"De laag '{layer.name()}' is de {what} '{name}' van de regelset."
                )
            naam = pick_field([f.name() for f in layer.fields()], candidates)
            if naam:
                tables[key]["naam_veld"] = naam
                named = f"naamveld '{naam}'"
            else:
                named = "geen naamveld (geen van " + ", ".join(candidates or ("-",)) + ")"
            if facility:
                feedback.pushInfo(
                    f"Voorziening '{name}' (laag '{layer.name()}'): {layer.featureCount()}"
                    f" objecten, {named} → {path}; de regelset toetst de afstand ernaartoe met de"
                    f" regels voorziening.{name}.* en de parameter voorziening_{name}_max_m"
                )
            else:
                feedback.pushInfo(
                    f"Beperking '{name}' (laag '{layer.name()}'): {layer.featureCount()} objecten,"
                    f' {named} → {path}; de regelset toetst haar met regels met laag = "{name}"'
                )
        return tables

    @staticmethod
    def _file_has_crs(path: str, layer_name: str | None) -> bool:
        uri = f"{path}|layername={layer_name}" if layer_name else path
        options = QgsVectorLayer.LayerOptions(False, False)  # no default style; do not read extent
        probe = QgsVectorLayer(uri, "probe", "ogr", options)
        return probe.isValid() and probe.dataProvider().crs().isValid()

    def _apply_stay_default(self, parameters, table, context, feedback) -> None:
        """Hand the chosen default stay type to the engine (config key
        ``standaard_verblijfstype``)."""
        stay = _STAY_TYPES[self.parameterAsEnum(parameters, self.STANDAARD_VERBLIJFSTYPE, context)]
        table["standaard_verblijfstype"] = stay
        if stay != _STAY_TYPES[0]:
            feedback.pushInfo(f"Locaties zonder verblijfstype krijgen '{stay}'.")

    @staticmethod
    def _run_engine(
        engine_path: str, command: list[str], workdir: str, feedback, *, share: float
    ) -> dict:
        """Run one engine command, streaming its progress (0..share %) and log into ``feedback``."""
        try:
            return eng.run_engine(
                engine_path,
                command,
                progress=lambda fraction: feedback.setProgress(share * fraction),
                info=feedback.pushInfo,
                warning=feedback.pushWarning,
                debug=feedback.pushDebugInfo,
                is_cancelled=feedback.isCanceled,
                cwd=workdir,
            )
        except eng.EngineCancelledError as exc:
            raise QgsProcessingException(str(exc)) from None
        except (eng.EngineRunError, eng.EngineMissingError) as exc:
            raise QgsProcessingException(f"De rekenkern meldt een fout:\n{exc}") from None

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        started = time.monotonic()
        try:
            engine = eng.find_engine(engine_setting())
        except eng.EngineMissingError as exc:
            raise QgsProcessingException(str(exc)) from None
        feedback.pushInfo(f"Rekenkern: {engine.path} (versie {engine.version_text})")

        try:
            overrides, gemeenten = eng.parse_overrides(
                self.parameterAsString(parameters, self.PARAMETERS, context)
            )
        except ValueError as exc:
            raise QgsProcessingException(str(exc)) from None
        ruleset = self.parameterAsFile(parameters, self.REGELSET, context) or None
        if ruleset and not os.path.isfile(ruleset):
            raise QgsProcessingException(f"Het regelsetbestand '{ruleset}' bestaat niet.")

        workdir = tempfile.mkdtemp(prefix="locatietoets_", dir=QgsProcessingUtils.tempFolder())
        layers: dict[str, dict[str, Any]] = {}
        for key, _required in self.LAYERS:
            table = self._layer_table(parameters, key, context, feedback)
            if table is not None:
                layers[self.LAYER_INPUTS[key].config_name] = table
        if self.OFFERS_CONFIG:
            ruleset, overrides, gemeenten = self._start_from_config(
                parameters, context, feedback, layers, ruleset, overrides, gemeenten
            )
        if "locaties" not in layers:
            raise QgsProcessingException(
                "De laag met kandidaatlocaties ontbreekt; die is verplicht."
            )
        if self.OFFERS_STAY_DEFAULT:
            self._apply_stay_default(parameters, layers["locaties"], context, feedback)
        if self.OFFERS_CONSTRAINTS:
            layers.update(self._constraint_tables(parameters, context, feedback, workdir, ruleset))
            layers.update(self._facility_tables(parameters, context, feedback, workdir, ruleset))

        config_path = os.path.join(workdir, "config.toml")
        with open(config_path, "w", encoding="utf-8") as fh:
            fh.write(
                eng.render_config(layers, ruleset=ruleset, overrides=overrides, gemeenten=gemeenten)
            )
        feedback.pushDebugInfo(f"Configuratie: {config_path}")
        if self.OFFERS_CONFIG:
            self._save_config(parameters, context, feedback, config_path, layers)

        out_dir = self.parameterAsFileOutput(parameters, self.UITVOERMAP, context) or os.path.join(
            workdir, "uitvoer"
        )
        feedback.pushInfo(f"Uitvoermap: {out_dir}")
        finished = self._run_engine(
            engine.path,
            ["score", config_path, "--out", out_dir, "--voortgang", "json"],
            workdir,
            feedback,
            share=90.0,
        )
        out_dir = str(finished.get("uitvoer") or out_dir)
        self._log_summary(finished, out_dir, feedback)

        gpkg = os.path.join(out_dir, "locaties.gpkg")
        sink_result = self._copy_result(parameters, gpkg, context, feedback)
        dest_id, counts = sink_result
        id_field = layers["locaties"].get("id_veld")
        if dest_id.lower().endswith(".gpkg") and os.path.isfile(dest_id):
            error = save_style_in_geopackage(dest_id, id_field=id_field)
            if error:
                feedback.pushWarning(f"Stijl niet in de GeoPackage opgeslagen: {error}")
        run_json = self._run_record_beside(dest_id, os.path.join(out_dir, "run.json"), feedback)
        reference = self._reference_beside(
            dest_id, os.path.join(out_dir, "referentie.gpkg"), feedback
        )
        temporary = QgsProcessingUtils.mapLayerFromString(
            dest_id, context, False
        )  # a layer of this run, never a file
        if (
            temporary is not None
        ):  # a temporary layer: it carries the run record's path (Exporteer kaarten reads it)
            temporary.setCustomProperty(RUN_JSON_PROPERTY, run_json)
        if context.willLoadLayerOnCompletion(dest_id):
            details = context.layerToLoadOnCompletionDetails(dest_id)
            details.setPostProcessor(ResultStyler.create(id_field, run_json, reference))
        feedback.pushInfo(own_stay_line(counts))
        feedback.setProgress(100)
        feedback.pushInfo(f"Klaar in {eng.elapsed_text(time.monotonic() - started)}.")
        return {
            self.OUTPUT: dest_id,
            self.UITVOERMAP: out_dir,
            self.RUN_JSON: run_json,
            self.CSV: os.path.join(out_dir, "locaties.csv"),
            self.AANTAL_GESCHIKT: counts.get("geschikt", 0),
            self.AANTAL_VOORWAARDELIJK: counts.get("voorwaardelijk", 0),
            self.AANTAL_ONGESCHIKT: counts.get("ongeschikt", 0),
            self.AANTAL_ZONDER_OORDEEL: counts.get(None, 0),
        }

    def _start_from_config(
        self, parameters, context, feedback, layers, ruleset, overrides, gemeenten
    ) -> tuple[str | None, dict[str, Any], dict[str, dict[str, Any]]]:
        """Fill what the dialog leaves empty from a config.toml: whole layers (with their fields),
        the rule set and the parameters; what the dialog gives wins."""
        path = self.parameterAsFile(parameters, self.CONFIGURATIE, context)
        if not path:
            return ruleset, overrides, gemeenten
        try:
            start = read_config(path)
        except ValueError as exc:
            raise QgsProcessingException(str(exc)) from None
        taken = []
        for name, table in start.layers.items():
            if name not in layers:
                layers[name] = dict(table)
                taken.append(name)
        if taken:
            feedback.pushInfo(f"Uit de configuratie '{path}': lagen {', '.join(taken)}.")
        if not ruleset and start.ruleset:
            ruleset = start.ruleset
            feedback.pushInfo(f"Regelset uit de configuratie: {ruleset}")
        merged = {
            g: {**start.gemeenten.get(g, {}), **gemeenten.get(g, {})} for g in start.gemeenten
        }
        merged.update({g: v for g, v in gemeenten.items() if g not in merged})
        return ruleset, {**start.overrides, **overrides}, merged

    def _save_config(self, parameters, context, feedback, config_path: str, layers) -> None:
        """Keep the run's config.toml where the user asked (for ``locatietoets score``)."""
        target = self.parameterAsFileOutput(parameters, self.CONFIGURATIE_OPSLAAN, context)
        if not target:
            return
        if not target.lower().endswith(".toml"):
            target += ".toml"
        try:
            shutil.copyfile(config_path, target)
        except OSError as exc:
            feedback.pushWarning(f"Configuratie niet opgeslagen als '{target}': {exc}")
            return
        feedback.pushInfo(f"Configuratie opgeslagen: {target}")
        temporary = os.path.normcase(os.path.abspath(QgsProcessingUtils.tempFolder()))
        for name, table in layers.items():
            source = os.path.normcase(os.path.abspath(str(table.get("pad", ""))))
            if source.startswith(temporary):
                feedback.pushWarning(
                    f"De laag '{name}' staat in de opgeslagen configuratie als tijdelijke kopie"
                    f" ({table['pad']}): sla die laag eerst op als bestand (GeoPackage) en toets"
                    " opnieuw, anders werkt de configuratie niet meer na het sluiten van QGIS."
                )

    def _log_summary(self, finished: dict[str, Any], out_dir: str, feedback) -> None:
        telling = finished.get("telling")
        if isinstance(telling, dict) and telling:
            # worded as the command line's summary (scripts/cli.py), so both counts read the same
            feedback.pushInfo(
                "Oordeel per verblijfstype (elke locatie getoetst voor elk verblijfstype):"
            )
            for stay, counts in telling.items():
                if isinstance(counts, dict):
                    parts = ", ".join(f"{nl_number(v)} {k}" for k, v in counts.items())
                    feedback.pushInfo(f"  {stay_label(str(stay))}: {parts}")
        record = eng.read_run_record(out_dir) or {}
        steps = record.get("stappen")
        if isinstance(steps, dict) and steps:
            feedback.pushInfo("Tellingen per stap (uit run.json):")
            for step, info in steps.items():
                if not isinstance(info, dict):
                    continue
                title = info.get("titel") or step
                counts = ", ".join(
                    f"{k.replace('_', ' ')} {_number(v)}"
                    for k, v in info.items()
                    if k not in {"titel", "seconden"}
                    and isinstance(v, (int, float))
                    and not isinstance(v, bool)
                )
                seconds = info.get("seconden")
                timing = (
                    f" ({eng.elapsed_text(float(seconds))})"
                    if isinstance(seconds, (int, float))
                    else ""
                )
                feedback.pushInfo(f"  {title}: {counts or 'klaar'}{timing}")
        skipped = record.get("niet_uitgevoerd")
        if isinstance(skipped, dict):
            for step, why in skipped.items():
                feedback.pushInfo(f"Niet uitgevoerd: {step} ({why})")

    @staticmethod
    def _run_record_beside(dest_id: str, run_json: str, feedback) -> str:
        """Copy the run record beside a file output as ``<naam>.run.json``; return the record to
        name.

        The engine's folder is often a temporary one; beside the output it is found again by
        Exporteer woonvisiekaarten (rule set and date on every map) and by anyone who opens the
        file.
        """
        return _copy_beside(dest_id, run_json, ".run.json", "Runverslag", feedback)

    @staticmethod
    def _reference_beside(dest_id: str, reference: str, feedback) -> str:
        """Copy the run's reference layers beside a file output as ``<naam>.referentie.gpkg``
        (next to ``<naam>.run.json``, where Exporteer woonvisiekaarten finds them: constraints,
        facilities, kernen ... on the maps); return the file to name."""
        return _copy_beside(dest_id, reference, ".referentie.gpkg", "Referentielagen", feedback)

    def _file_destination(self, parameters, context, feedback) -> dict[str, Any]:
        """``parameters`` with a GeoPackage for the output: a layer of points and polygons needs a
        file.

        A temporary (memory) layer holds one geometry type only; a GeoPackage layer holds both and
        QGIS shows it as one layer per type. A shapefile cannot hold both: refused with a Dutch
        message.
        """
        value = parameters.get(self.OUTPUT)
        if isinstance(value, QgsProcessingOutputLayerDefinition):
            definition = QgsProcessingOutputLayerDefinition(value)
        else:
            definition = QgsProcessingOutputLayerDefinition(
                str(value) if value else QgsProcessing.TEMPORARY_OUTPUT
            )
        sink, _ok = definition.sink.valueAsString(context.expressionContext(), "")
        if not sink or sink == QgsProcessing.TEMPORARY_OUTPUT or sink.startswith("memory:"):
            path = QgsProcessingUtils.generateTempFilename("getoetste_locaties.gpkg")
            definition.sink.setStaticValue(path)
            feedback.pushInfo(
                "De locaties zijn punten én vlakken: de uitvoer wordt een tijdelijke GeoPackage "
                f"({path}), die beide kan bevatten."
            )
        elif _single_type_file(sink):
            raise QgsProcessingException(
                f"De locaties zijn punten én vlakken; '{os.path.basename(sink)}' kan maar één"
                " geometrietype bevatten. Kies een GeoPackage (.gpkg) als uitvoer."
            )
        return {**parameters, self.OUTPUT: definition}

    def _copy_result(self, parameters, gpkg: str, context, feedback) -> tuple[str, dict[Any, int]]:
        """Copy the engine's result layer into the algorithm's output sink (values unchanged, the
        verdict fields first).

        Sites of points and polygons (one GeoPackage layer of type "Geometry") are copied whole into
        a
        GeoPackage layer of that type (see :meth:`_file_destination`), never cut to the first
        feature's type.
        """
        result = QgsVectorLayer(f"{gpkg}|layername=locaties", "locaties", "ogr")
        if not result.isValid():
            raise QgsProcessingException(
                f"De rekenkern gaf geen leesbare uitvoer: '{gpkg}' (laag 'locaties')."
            )
        source_fields = result.fields()
        keys = set(result.dataProvider().pkAttributeIndexes())
        # oordeel, score and redenen first, then the other result fields, then the input attributes
        # (the identify panel lists fields in this order and cuts off what is below)
        rank = {name: r for r, name in enumerate(dict.fromkeys((*IDENTIFY_FIRST, *RESULT_FIELDS)))}
        keep = sorted(
            (i for i in range(source_fields.count()) if i not in keys),
            key=lambda i: rank.get(source_fields.at(i).name(), len(rank)),
        )
        fields = QgsFields()
        for i in keep:
            fields.append(source_fields.at(i))
        wkb_type = result.wkbType()
        if len(geometry_kinds(result)) > 1:
            wkb_type = QgsWkbTypes.Unknown
            parameters = self._file_destination(parameters, context, feedback)
        sink, dest_id = self.parameterAsSink(
            parameters, self.OUTPUT, context, fields, wkb_type, result.crs()
        )
        if sink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, self.OUTPUT))
        verdict_index = fields.indexOf("oordeel")
        total = max(result.featureCount(), 1)
        counts: dict[Any, int] = {}
        for n, feature in enumerate(result.getFeatures(QgsFeatureRequest())):
            if feedback.isCanceled():
                raise QgsProcessingException("De berekening is afgebroken.")
            out = QgsFeature(fields)
            if feature.hasGeometry():
                out.setGeometry(feature.geometry())
            attributes = feature.attributes()
            out.setAttributes([attributes[i] for i in keep])
            if not sink.addFeature(out, QgsFeatureSink.FastInsert):
                raise QgsProcessingException(self.writeFeatureError(sink, parameters, self.OUTPUT))
            if verdict_index >= 0:
                verdict = out.attribute(verdict_index)
                verdict = verdict if isinstance(verdict, str) and verdict else None
                counts[verdict] = counts.get(verdict, 0) + 1
            if n % 1000 == 0:
                feedback.setProgress(90.0 + 10.0 * n / total)
        del sink  # flush and close the output before its style is stored in it
        del result
        return dest_id, counts
