"""Exporteer woonvisiekaarten: a print layout with an atlas over the gemeenten, exported to PDF
and/or PNG.

Everything is built in a private :class:`QgsProject` from memory copies of the
input layers (reprojected to one map CRS), so the user's layers and styles are
never touched and the algorithm runs the same in QGIS Desktop, in models and in
``qgis_process`` (no ``iface``). The atlas coverage is a memory layer with one
feature per gemeente plus one "overzicht" feature (the union of all
gemeenten), sorted first: one atlas gives the overview page and the gemeente
pages, and with it one multi-page PDF.
"""

from __future__ import annotations

from datetime import date, datetime
import json
import os
from pathlib import Path
import re
import time
from typing import Any
import unicodedata

from qgis.core import (
    QgsApplication,
    QgsCategorizedSymbolRenderer,
    QgsCentroidFillSymbolLayer,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeature,
    QgsFeatureRequest,
    QgsField,
    QgsFields,
    QgsFillSymbol,
    QgsGeometry,
    QgsLayoutExporter,
    QgsLayoutItemLabel,
    QgsLayoutItemLegend,
    QgsLayoutItemMap,
    QgsLayoutItemPage,
    QgsLayoutItemPicture,
    QgsLayoutItemScaleBar,
    QgsLayoutItemShape,
    QgsLayoutMeasurement,
    QgsLayoutObject,
    QgsLayoutPoint,
    QgsLayoutSize,
    QgsLegendRenderer,
    QgsLegendStyle,
    QgsLinePatternFillSymbolLayer,
    QgsMapLayerLegendUtils,
    QgsMarkerSymbol,
    QgsPalLayerSettings,
    QgsPrintLayout,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingMultiStepFeedback,
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorLayer,
    QgsProject,
    QgsProperty,
    QgsRectangle,
    QgsRenderContext,
    QgsRendererCategory,
    QgsRuleBasedRenderer,
    QgsScaleBarSettings,
    QgsSingleSymbolRenderer,
    QgsSymbol,
    QgsSymbolLayer,
    QgsTextBufferSettings,
    QgsTextFormat,
    QgsUnitTypes,
    QgsVectorLayer,
    QgsVectorLayerSimpleLabeling,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QSize, Qt, QVariant
from qgis.PyQt.QtGui import QColor, QFont, QFontDatabase

from ..styling import RUN_JSON_PROPERTY, VERDICTS
from ..vocabulary import (
    DEMO_SOURCE,
    MAP_COLOURS,
    OWN_SOURCE,
    SOURCES,
    STAY_LABELS,
    STAY_TYPES,
    VERDICTS as VERDICT_VALUES,
    nl_number,
    stay_label,
)
from .base import LocatietoetsAlgorithm

__all__ = ["ExporteerKaarten", "slugify", "attribution_text"]

PLUGIN_DIR = Path(__file__).resolve().parents[1]

FORMATS = ("pdf", "png", "beide")
OVERVIEW = "overzicht"

# Colours of the command-line maps (layers/publish/maps.py), so both kinds of maps read the same.
_OUTSIDE = MAP_COLOURS["outside"]
_OTHER_GEMEENTE = MAP_COLOURS["other_gemeente"]
_FOCUS_FILL = MAP_COLOURS["focus_fill"]
_BBG = MAP_COLOURS["bbg"]
_PARK = MAP_COLOURS["park"]
_EMPLOYER = MAP_COLOURS["employer"]
_FARM = MAP_COLOURS["farm"]
_ODOUR = MAP_COLOURS["odour"]
_TEXT = MAP_COLOURS["text"]
_GREY_TEXT = MAP_COLOURS["grey_text"]
_BOUNDARY = MAP_COLOURS["boundary"]

# Page geometry (mm), A4 landscape.
_PAGE_W, _PAGE_H = 297.0, 210.0
_MARGIN = 10.0
_MAP_X, _MAP_Y, _MAP_W, _MAP_H = _MARGIN, 27.0, 203.0, 163.0
_SIDE_X = _MAP_X + _MAP_W + 7.0
_SIDE_W = _PAGE_W - _MARGIN - _SIDE_X

#: Known data sources and their credits (as the command-line maps credit them): the vocabulary.
_SOURCES = SOURCES
_OWN = OWN_SOURCE
_DEMO_MARK = "FICTIEF DEMOGEBIED"

_IS_OVERVIEW = f"coalesce(attribute(@atlas_feature, 'soort'), '{OVERVIEW}') = '{OVERVIEW}'"


def slugify(text: str) -> str:
    """A file-name-safe lower-case slug (``Sittard-Geleen`` → ``sittard-geleen``), as the CLI maps
    use."""
    norm = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", norm.lower()).strip("-")
    return slug or "onbekend"


def _quote(text: str) -> str:
    """A string literal for a QGIS expression."""
    return "'" + str(text).replace("'", "''") + "'"


def attribution_text(
    record: dict[str, Any],
    layer_sources: list[str],
    *,
    demo: bool = False,
    version: str | None = None,
) -> str:
    """The "Bron: …" line: known sources from run.json's inputs and the given layers, else "eigen
    invoer"."""
    credits: list[str] = []
    if demo:
        credits.append(DEMO_SOURCE)
    else:
        texts = [
            f"{(info or {}).get('pad') or ''} {(info or {}).get('laag') or ''}"
            for info in (record.get("invoer") or {}).values()
        ]
        texts += layer_sources
        for text in texts:
            text = text.lower().replace("\\", "/")
            name = os.path.basename(text.split("|")[0].strip())
            for pattern, credit in _SOURCES:
                if re.search(pattern, text) or re.search(pattern, name):
                    credits.append(credit)
                    break
            else:
                credits.append(_OWN)
        known = [c for _, c in _SOURCES]
        credits = sorted(set(credits), key=lambda c: known.index(c) if c in known else len(known))
    version = version or str((record.get("locatietoets") or {}).get("versie") or "")
    credits.append(f"Locatietoets {version}".strip())
    return "Bron: " + ", ".join(credits)


def _key_figures_text(c: dict[str, Any], has_capacity: bool) -> str:
    """The key figures of one map's area (overview: all sites)."""
    lines = [
        f"Locaties in dit gebied: {nl_number(c['totaal'])}",
        f"   geschikt: {nl_number(c['geschikt'])}",
        f"   voorwaardelijk: {nl_number(c['voorwaardelijk'])}",
        f"   ongeschikt: {nl_number(c['ongeschikt'])}",
    ]
    unjudged = (
        c["totaal"] - c["geen_geometrie"] - c["geschikt"] - c["voorwaardelijk"] - c["ongeschikt"]
    )
    if unjudged:  # so the lines add up to the total
        lines.append(f"   geen oordeel: {nl_number(unjudged)}")
    if has_capacity:
        lines.append(f"Capaciteit geschikt: {nl_number(c['cap_geschikt'])} personen")
        lines.append(f"Capaciteit voorwaardelijk: {nl_number(c['cap_voorwaardelijk'])} personen")
    if c["geen_geometrie"]:
        lines.append(f"Zonder geometrie (niet op de kaart): {nl_number(c['geen_geometrie'])}")
    return "\n".join(lines)


def _marker_size(n_sites: int) -> float:
    """Marker diameter (mm) of a site: 3 mm up to 300 sites, smaller when more would cover the map,
    at least 1.6."""
    if n_sites <= 300:
        return 3.0
    return max(1.6, 3.0 * (300.0 / n_sites) ** 0.5)


def _fit(extent: QgsRectangle, width_mm: float, height_mm: float, pad: float) -> QgsRectangle:
    """``extent`` grown by ``pad`` on every side and widened to the aspect ratio of a map item."""
    w = max(extent.width(), 1.0) * (1 + 2 * pad)
    h = max(extent.height(), 1.0) * (1 + 2 * pad)
    aspect = width_mm / height_mm
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    c = extent.center()
    return QgsRectangle(c.x() - w / 2, c.y() - h / 2, c.x() + w / 2, c.y() + h / 2)


def _font_family() -> str:
    families = set(QFontDatabase().families())
    for family in (
        "Open Sans",
        "Noto Sans",
        "Source Sans Pro",
        "Liberation Sans",
        "Arial",
        "DejaVu Sans",
    ):
        if family in families:
            return family
    return QFont().defaultFamily()


class ExporteerKaarten(LocatietoetsAlgorithm):
    """A4 woonvisie maps: one overview page plus one page per gemeente (atlas), as PDF and/or
    PNG."""

    ALGORITHM_ID = "exporteerkaarten"
    DISPLAY_NAME = "Exporteer woonvisiekaarten"
    GROUP = "Kaarten"

    LOCATIES = "LOCATIES"
    GEMEENTEN = "GEMEENTEN"
    GEMEENTE_NAAM_VELD = "GEMEENTE_NAAM_VELD"
    BEBOUWD_GEBIED = "BEBOUWD_GEBIED"
    GEURCONTOUREN = "GEURCONTOUREN"
    RECREATIEPARKEN = "RECREATIEPARKEN"
    VEEHOUDERIJEN = "VEEHOUDERIJEN"
    WERKGEVERS = "WERKGEVERS"
    VERBLIJFSTYPE = "VERBLIJFSTYPE"
    FORMAAT = "FORMAAT"
    RUN_JSON = "RUN_JSON"
    BRON = "BRON"
    DPI = "DPI"
    OUTPUT_FOLDER = "OUTPUT_FOLDER"
    # outputs
    PDF = "PDF"
    PNG_BESTANDEN = "PNG_BESTANDEN"
    AANTAL_KAARTEN = "AANTAL_KAARTEN"

    #: Context layers: key, Dutch label (parameter and legend), accepted geometry types.
    CONTEXT = (
        (BEBOUWD_GEBIED, "Bestaand bebouwd gebied (BBG)", (QgsProcessing.TypeVectorPolygon,)),
        (GEURCONTOUREN, "Geurcontouren", (QgsProcessing.TypeVectorPolygon,)),
        (RECREATIEPARKEN, "Recreatieparken", (QgsProcessing.TypeVectorPolygon,)),
        (
            VEEHOUDERIJEN,
            "Veehouderijen",
            (QgsProcessing.TypeVectorPoint, QgsProcessing.TypeVectorPolygon),
        ),
        (
            WERKGEVERS,
            "Werkgevers",
            (QgsProcessing.TypeVectorPoint, QgsProcessing.TypeVectorPolygon),
        ),
    )

    def tags(self):
        return [
            "locatietoets",
            "kaart",
            "atlas",
            "woonvisie",
            "pdf",
            "png",
            "arbeidsmigranten",
            "limburg",
        ]

    def flags(self):
        # Layout rendering belongs on the main thread in QGIS Desktop; no project is needed (a
        # private one is used).
        return super().flags() | QgsProcessingAlgorithm.FlagNoThreading

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(
            QgsProcessingParameterVectorLayer(
                self.LOCATIES,
                "Getoetste locaties (uitvoer van Toets locaties / locatietoets score)",
                [QgsProcessing.TypeVectorPoint, QgsProcessing.TypeVectorPolygon],
            )
        )
        self.addParameter(
            QgsProcessingParameterVectorLayer(
                self.GEMEENTEN,
                "Gemeentegrenzen (één kaart per gemeente)",
                [QgsProcessing.TypeVectorPolygon],
            )
        )
        self.addParameter(
            QgsProcessingParameterField(
                self.GEMEENTE_NAAM_VELD,
                "Veld met de gemeentenaam (leeg: naam, gemeentenaam, statnaam of name)",
                parentLayerParameterName=self.GEMEENTEN,
                type=QgsProcessingParameterField.String,
                optional=True,
            )
        )
        for key, label, types in self.CONTEXT:
            self.addParameter(
                QgsProcessingParameterVectorLayer(key, label, list(types), optional=True)
            )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.VERBLIJFSTYPE,
                "Verblijfstype op de kaart",
                options=[STAY_LABELS[s] for s in STAY_TYPES],
                defaultValue=0,
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.FORMAAT,
                "Formaat",
                options=[
                    "PDF (één bestand, alle kaarten)",
                    "PNG (één bestand per kaart)",
                    "PDF en PNG",
                ],
                defaultValue=2,
            )
        )
        self.addParameter(
            QgsProcessingParameterFile(
                self.RUN_JSON,
                "Runverslag run.json (regelset en bronnen; leeg: naast de locatielaag gezocht)",
                extension="json",
                optional=True,
            )
        )
        bron = QgsProcessingParameterString(
            self.BRON,
            "Eigen bronvermelding (leeg: samengesteld uit run.json en de lagen)",
            optional=True,
        )
        dpi = QgsProcessingParameterNumber(
            self.DPI,
            "Resolutie van de PNG's (dpi)",
            QgsProcessingParameterNumber.Integer,
            defaultValue=150,
            minValue=50,
            maxValue=600,
        )
        for param in (bron, dpi):
            param.setFlags(param.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(param)
        self.addParameter(
            QgsProcessingParameterFolderDestination(self.OUTPUT_FOLDER, "Map voor de kaarten")
        )
        self.addOutput(QgsProcessingOutputFile(self.PDF, "PDF met alle kaarten"))
        self.addOutput(
            QgsProcessingOutputString(self.PNG_BESTANDEN, "PNG-bestanden (gescheiden door ';')")
        )
        self.addOutput(QgsProcessingOutputNumber(self.AANTAL_KAARTEN, "Aantal kaarten"))

    def checkParameterValues(self, parameters, context):  # noqa: N802
        ok, message = super().checkParameterValues(parameters, context)
        if not ok:
            return ok, message
        sites = self.parameterAsVectorLayer(parameters, self.LOCATIES, context)
        stay = STAY_TYPES[self.parameterAsEnum(parameters, self.VERBLIJFSTYPE, context)]
        if (
            sites is not None
            and sites.fields().indexOf(f"oordeel_{stay}") < 0
            and sites.fields().indexOf("oordeel") < 0
        ):
            return (
                False,
                (
                    f"De locatielaag heeft geen veld 'oordeel_{stay}': gebruik de uitvoer van "
                    "'Toets locaties' of van 'locatietoets score'."
                ),
            )
        gemeenten = self.parameterAsVectorLayer(parameters, self.GEMEENTEN, context)
        if gemeenten is not None and self._name_field(parameters, gemeenten, context) is None:
            return False, "Kies bij 'Gemeentegrenzen' het veld met de gemeentenaam."
        return True, ""

    # Helpers (stateless) ----------------------------------------------------
    def _name_field(self, parameters, layer: QgsVectorLayer, context) -> str | None:
        chosen = self.parameterAsFields(parameters, self.GEMEENTE_NAAM_VELD, context)
        if chosen:
            return chosen[0]
        names = layer.fields().names()
        lower = {n.lower(): n for n in names}
        for candidate in ("naam", "gemeentenaam", "gm_naam", "statnaam", "name", "gemeente"):
            if candidate in lower:
                return lower[candidate]
        return None

    @staticmethod
    def _find_run_json(layer: QgsVectorLayer) -> str | None:
        """The run record of a result layer: named by the layer (Toets locaties sets it), beside its
        file as
        ``<naam>.run.json`` (Toets locaties writes it there) or ``run.json`` in its folder
        (locatietoets score).
        """
        named = layer.customProperty(RUN_JSON_PROPERTY)
        if isinstance(named, str) and os.path.isfile(named):
            return named
        path = layer.source().split("|")[0]
        if layer.providerType() == "memory" or not path:
            return None
        for guess in (
            os.path.splitext(path)[0] + ".run.json",
            os.path.join(os.path.dirname(path), "run.json"),
        ):
            if os.path.isfile(guess):
                return guess
        return None

    @staticmethod
    def _read_run_json(path: str, feedback) -> dict[str, Any]:
        try:
            with open(path, encoding="utf-8") as fh:
                record = json.load(fh)
        except (OSError, ValueError) as exc:
            feedback.pushWarning(
                f"run.json '{path}' is niet te lezen ({exc}); kaarten zonder regelset-gegevens."
            )
            return {}
        return record if isinstance(record, dict) else {}

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        started = time.monotonic()
        sites_in = self.parameterAsVectorLayer(parameters, self.LOCATIES, context)
        gemeenten_in = self.parameterAsVectorLayer(parameters, self.GEMEENTEN, context)
        if sites_in is None or gemeenten_in is None:
            raise QgsProcessingException("De locatielaag en de gemeentegrenzen zijn verplicht.")
        name_field = self._name_field(parameters, gemeenten_in, context)
        if name_field is None:
            raise QgsProcessingException("Kies bij 'Gemeentegrenzen' het veld met de gemeentenaam.")
        stay = STAY_TYPES[self.parameterAsEnum(parameters, self.VERBLIJFSTYPE, context)]
        verdict_field = (
            f"oordeel_{stay}" if sites_in.fields().indexOf(f"oordeel_{stay}") >= 0 else "oordeel"
        )
        if sites_in.fields().indexOf(verdict_field) < 0:
            raise QgsProcessingException(f"De locatielaag heeft geen veld 'oordeel_{stay}'.")
        if verdict_field == "oordeel":
            feedback.pushWarning(f"Geen veld 'oordeel_{stay}': het veld 'oordeel' wordt gebruikt.")
        fmt = FORMATS[self.parameterAsEnum(parameters, self.FORMAAT, context)]
        dpi = self.parameterAsInt(parameters, self.DPI, context) or 150
        out_dir = self.parameterAsString(parameters, self.OUTPUT_FOLDER, context)
        if not out_dir:
            raise QgsProcessingException("Geef een map voor de kaarten.")
        os.makedirs(out_dir, exist_ok=True)

        run_json = self.parameterAsFile(parameters, self.RUN_JSON, context)
        if not run_json:
            run_json = self._find_run_json(sites_in)
            if run_json:
                feedback.pushInfo(f"Runverslag van de locatielaag gevonden: {run_json}")
            else:
                feedback.pushWarning(
                    "Geen runverslag (run.json) bij de locatielaag gevonden: de kaarten noemen geen"
                    " regelset. Geef het bij 'Runverslag run.json'."
                )
        record = self._read_run_json(run_json, feedback) if run_json else {}
        if run_json and not os.path.isfile(run_json):
            raise QgsProcessingException(f"Het bestand '{run_json}' bestaat niet.")

        # --- map CRS and memory copies in a private project
        crs = self._map_crs(sites_in, gemeenten_in)
        feedback.pushInfo(f"Kaartprojectie: {crs.authid() or crs.description()}")
        project = QgsProject()
        project.setCrs(crs)
        project.setTitle("Woonvisiekaarten Locatietoets")
        transform_context = context.transformContext()
        project.setTransformContext(transform_context)

        gemeenten = self._copy(gemeenten_in, crs, transform_context, "Gemeenten", feedback)
        names = self._gemeente_names(gemeenten, name_field)
        if not names:
            raise QgsProcessingException(
                "De laag met gemeentegrenzen bevat geen gemeenten met een naam en een vlak."
            )
        # one memory layer per geometry type: a layer mixing points and polygons (as the engine
        # writes
        # kandidaatlocaties of both kinds) is drawn and counted whole
        site_parts = self._copies(
            self._whole_layer(sites_in, "locatielaag", feedback),
            crs,
            transform_context,
            f"Oordeel {stay_label(stay)}",
            feedback,
            extra=[QgsField("kaart_gemeente", QVariant.String)],
        )
        sites = site_parts[0]
        demo = any(self._is_demo(part) for part in site_parts)
        coverage, counts = self._coverage(
            gemeenten, name_field, names, site_parts, verdict_field, stay, crs
        )
        if feedback.isCanceled():
            raise QgsProcessingException("Het maken van de kaarten is afgebroken.")

        context_layers: dict[str, list[QgsVectorLayer]] = {}
        for key, label, _types in self.CONTEXT:
            layer = self.parameterAsVectorLayer(parameters, key, context)
            if layer is not None:
                context_layers[key] = self._copies(
                    self._whole_layer(layer, label, feedback),
                    crs,
                    transform_context,
                    label,
                    feedback,
                )

        bron = self.parameterAsString(parameters, self.BRON, context).strip()
        if bron:
            attribution = bron if bron.lower().startswith("bron") else f"Bron: {bron}"
        else:
            sources = [
                lyr.source()
                for lyr in [sites_in, gemeenten_in]
                + [
                    self.parameterAsVectorLayer(parameters, k, context)
                    for k, _l, _t in self.CONTEXT
                ]
                if lyr is not None and lyr.providerType() != "memory"
            ]
            attribution = attribution_text(
                record, [] if record.get("invoer") else sources, demo=demo
            )
        ruleset = record.get("regelset") or {}
        ruleset_label = (
            f"regelset {ruleset.get('id', 'onbekend')} versie {ruleset.get('versie', '?')}"
            if ruleset
            else "regelset onbekend (geen run.json)"
        )
        run_date = self._run_date(record)

        # --- styles, layout, atlas
        self._style_gemeenten_fill(gemeenten, name_field)
        boundary = self._copy(gemeenten, crs, transform_context, "Gemeentegrens", feedback)
        self._style_boundaries(boundary, name_field, len(names))
        inset_gemeenten = self._copy(gemeenten, crs, transform_context, "Ligging", feedback)
        self._style_inset(inset_gemeenten, name_field)
        for part in site_parts:
            legend_symbols = self._style_sites(part, verdict_field, stay, counts)
        styled_context = [
            self._style_context(key, layer, len(parts))
            for key, parts in context_layers.items()
            for layer in parts
        ]
        all_context = [layer for parts in context_layers.values() for layer in parts]
        for layer in [coverage, gemeenten, boundary, inset_gemeenten, *site_parts, *all_context]:
            project.addMapLayer(layer, False)
        self._legend_tree(project, sites, styled_context, boundary)

        # top first: employers above sites (points above polygons), context below, gemeente fill at
        # the bottom
        map_layers = []
        map_layers += self._points_first(context_layers.get(self.WERKGEVERS, []))
        map_layers += self._points_first(site_parts)
        map_layers += self._points_first(context_layers.get(self.VEEHOUDERIJEN, []))
        map_layers.append(boundary)
        for key in (self.RECREATIEPARKEN, self.GEURCONTOUREN, self.BEBOUWD_GEBIED):
            map_layers += self._points_first(context_layers.get(key, []))
        map_layers.append(gemeenten)

        layout = self._layout(
            project,
            coverage,
            inset_gemeenten,
            map_layers,
            stay,
            ruleset_label,
            run_date,
            attribution,
            demo,
            record,
            sites,
            legend_symbols,
        )
        atlas = layout.atlas()

        # --- export
        pages = len(names) + 1
        outputs: dict[str, Any] = {
            self.OUTPUT_FOLDER: out_dir,
            self.PDF: None,
            self.PNG_BESTANDEN: "",
            self.AANTAL_KAARTEN: 0,
        }
        steps = (1 if fmt in ("pdf", "beide") else 0) + (1 if fmt in ("png", "beide") else 0)
        step = 0
        if fmt in ("pdf", "beide"):
            pdf_path = os.path.join(out_dir, f"atlas_gemeente_{stay}.pdf")
            feedback.pushInfo(f"PDF met {pages} pagina's → {pdf_path}")
            t0 = time.monotonic()
            self._export_pdf(layout, atlas, pdf_path, feedback, step, steps)
            seconds = time.monotonic() - t0
            feedback.pushInfo(f"PDF klaar in {seconds:.1f} s ({seconds / pages:.2f} s per pagina).")
            outputs[self.PDF] = pdf_path
            outputs[self.AANTAL_KAARTEN] = pages
            step += 1
        if fmt in ("png", "beide"):
            pngs = self._export_pngs(layout, atlas, out_dir, dpi, feedback, step, steps)
            outputs[self.PNG_BESTANDEN] = ";".join(pngs)
            outputs[self.AANTAL_KAARTEN] = len(pngs)
        feedback.setProgress(100)
        feedback.pushInfo(
            f"{outputs[self.AANTAL_KAARTEN]} kaarten in {time.monotonic() - started:.1f} s →"
            f" {out_dir}"
        )
        # keep the project (and so the layers) alive until every export is done
        del layout
        project.clear()
        return outputs

    # Data -----------------------------------------------------------------
    @staticmethod
    def _map_crs(sites: QgsVectorLayer, gemeenten: QgsVectorLayer) -> QgsCoordinateReferenceSystem:
        for layer in (sites, gemeenten):
            crs = layer.crs()
            if crs.isValid() and not crs.isGeographic():
                return crs
        return QgsCoordinateReferenceSystem("EPSG:28992")

    @staticmethod
    def _whole_layer(layer: QgsVectorLayer, label: str, feedback) -> QgsVectorLayer:
        """The whole GeoPackage layer when ``layer`` is one geometry type of a mixed layer.

        QGIS opens a layer that holds points and polygons as one sublayer per geometry type
        (``…|geometrytype=Point``); the maps are of all sites, so the filter is dropped (a subset
        kept).
        """
        source = layer.source()
        if layer.providerType() != "ogr" or "|geometrytype=" not in source.lower():
            return layer
        parts = [p for p in source.split("|") if not p.lower().startswith("geometrytype=")]
        whole = QgsVectorLayer("|".join(parts), layer.name(), "ogr")
        if not whole.isValid():
            return layer
        if layer.subsetString():
            whole.setSubsetString(layer.subsetString())
        if whole.featureCount() != layer.featureCount():
            feedback.pushInfo(
                f"De {label} '{layer.name()}' is één geometrietype van een laag met punten én"
                f" vlakken; alle {whole.featureCount()} objecten van die laag komen op de kaart."
            )
        return whole

    @classmethod
    def _copy(
        cls, layer: QgsVectorLayer, crs, transform_context, name: str, feedback, extra=()
    ) -> QgsVectorLayer:
        """A memory copy of a layer of one geometry type (the first part of :meth:`_copies`)."""
        return cls._copies(layer, crs, transform_context, name, feedback, extra)[0]

    @staticmethod
    def _copies(
        layer: QgsVectorLayer, crs, transform_context, name: str, feedback, extra=()
    ) -> list[QgsVectorLayer]:
        """Memory copies of a layer in the map CRS, one per geometry type it holds, plus extra empty
        fields.

        A GeoPackage layer of geometry type "Geometry" (points and polygons, as the engine writes
        mixed kandidaatlocaties) is reported by QGIS as the type of its first feature; a memory
        layer
        refuses features of another type, so each type gets its own layer (multi-geometries kept).
        Features without geometry go into the first layer. The order: the layer's own type first.
        """
        fields = QgsFields()
        for field in layer.fields():
            fields.append(QgsField(field))
        for field in extra:
            fields.append(field)
        transform = QgsCoordinateTransform(layer.crs(), crs, transform_context)
        same = layer.crs() == crs
        n_extra = len(extra)
        declared = QgsWkbTypes.geometryType(layer.wkbType())
        buckets: dict[int, list[tuple[QgsFeature, QgsGeometry | None]]] = {declared: []}
        for feature in layer.getFeatures(QgsFeatureRequest()):
            if feedback.isCanceled():
                raise QgsProcessingException("Het maken van de kaarten is afgebroken.")
            geometry = None
            kind = declared
            if feature.hasGeometry() and not feature.geometry().isEmpty():
                geometry = QgsGeometry(feature.geometry())
                if not same:
                    geometry.transform(transform)
                geometry.convertToMultiType()
                kind = geometry.type()
            buckets.setdefault(kind, []).append((feature, geometry))
        if (
            declared not in (QgsWkbTypes.NullGeometry, QgsWkbTypes.UnknownGeometry)
            or len(buckets) == 1
        ):
            order = list(buckets)
        else:  # an unusable declared type: its features (without geometry) join the first real type
            rest = buckets.pop(declared)
            order = list(buckets)
            buckets[order[0]] = rest + buckets[order[0]]
        labels = {
            QgsWkbTypes.PointGeometry: "punten",
            QgsWkbTypes.LineGeometry: "lijnen",
            QgsWkbTypes.PolygonGeometry: "vlakken",
        }
        copies = []
        for kind in order:
            wkb = {
                QgsWkbTypes.PointGeometry: "MultiPoint",
                QgsWkbTypes.LineGeometry: "MultiLineString",
                QgsWkbTypes.PolygonGeometry: "MultiPolygon",
            }.get(kind, "None")
            part_name = name if len(order) == 1 else f"{name} ({labels.get(kind, wkb)})"
            copy = QgsVectorLayer(f"{wkb}?crs={crs.authid() or 'EPSG:28992'}", part_name, "memory")
            if not crs.authid():
                copy.setCrs(crs)
            provider = copy.dataProvider()
            provider.addAttributes(fields.toList())
            copy.updateFields()
            features = []
            for feature, geometry in buckets[kind]:
                out = QgsFeature(copy.fields())
                out.setAttributes(list(feature.attributes()) + [None] * n_extra)
                if geometry is not None:
                    out.setGeometry(geometry)
                features.append(out)
            if not provider.addFeatures(features) or copy.featureCount() != len(features):
                raise QgsProcessingException(
                    f"De laag '{layer.name()}' kon niet volledig worden overgenomen:"
                    f" {copy.featureCount()} van {len(features)} objecten"
                    f" ({'; '.join(provider.errors()[:3])})."
                )
            copy.updateExtents()
            copies.append(copy)
        return copies

    @staticmethod
    def _points_first(layers: list[QgsVectorLayer]) -> list[QgsVectorLayer]:
        """Map layer order (top first): points above lines above polygons."""
        rank = {
            QgsWkbTypes.PointGeometry: 0,
            QgsWkbTypes.LineGeometry: 1,
            QgsWkbTypes.PolygonGeometry: 2,
        }
        return sorted(layers, key=lambda layer: rank.get(layer.geometryType(), 3))

    @staticmethod
    def _gemeente_names(gemeenten: QgsVectorLayer, name_field: str) -> list[str]:
        names = []
        for feature in gemeenten.getFeatures():
            value = feature[name_field]
            if (
                feature.hasGeometry()
                and isinstance(value, str)
                and value.strip()
                and value not in names
            ):
                names.append(value)
        return sorted(names, key=str.casefold)

    @staticmethod
    def _is_demo(sites: QgsVectorLayer) -> bool:
        index = sites.fields().indexOf("bron")
        if index < 0:
            return False
        return any(_DEMO_MARK in str(v) for v in sites.uniqueValues(index, 20))

    @staticmethod
    def _run_date(record: dict[str, Any]) -> str:
        started = str(record.get("gestart") or "")
        try:
            return datetime.fromisoformat(started).strftime("%d-%m-%Y")
        except ValueError:
            return started[:10]

    @staticmethod
    def _coverage(gemeenten, name_field, names, site_parts, verdict_field, stay, crs):
        """The atlas coverage: the overview (union of all gemeenten) plus one feature per gemeente.

        Also fills ``kaart_gemeente`` of the sites (every part: one layer per geometry type): the
        engine's
        ``gemeente`` when it names one of the gemeenten, else the gemeente that contains the site.
        Returns
        the layer and the counts per page.
        """
        geometries: dict[str, list[QgsGeometry]] = {n: [] for n in names}
        for feature in gemeenten.getFeatures():
            value = feature[name_field]
            if value in geometries and feature.hasGeometry():
                geometries[value].append(feature.geometry())
        merged = {
            n: QgsGeometry.unaryUnion(g) if len(g) > 1 else g[0] for n, g in geometries.items()
        }
        site_fields = site_parts[0].fields()
        engines = site_fields.indexOf("gemeente")
        target = site_fields.indexOf("kaart_gemeente")
        verdict_index = site_fields.indexOf(verdict_field)
        cap_index = site_fields.indexOf("capaciteit_personen")
        keys = VERDICT_VALUES
        blank = {
            "totaal": 0,
            "geen_geometrie": 0,
            **{k: 0 for k in keys},
            **{f"cap_{k}": 0.0 for k in keys},
        }
        counts = {n: dict(blank) for n in [OVERVIEW, *names]}
        engines_of = {}
        for n, geom in merged.items():
            engine = QgsGeometry(geom)
            engine_obj = QgsGeometry.createGeometryEngine(engine.constGet())
            engine_obj.prepareGeometry()
            engines_of[n] = (engine_obj, geom.boundingBox())
        for part in site_parts:
            changes = {}
            for feature in part.getFeatures():
                located = feature.hasGeometry() and not feature.geometry().isEmpty()
                value = feature[engines] if engines >= 0 else None
                gemeente = value if isinstance(value, str) and value in merged else None
                if gemeente is None and located:
                    point = feature.geometry().pointOnSurface()
                    for n, (engine_obj, box) in engines_of.items():
                        if box.contains(point.asPoint()) and engine_obj.intersects(
                            point.constGet()
                        ):
                            gemeente = n
                            break
                changes[feature.id()] = {target: gemeente}
                verdict = feature[verdict_index]
                verdict = verdict if isinstance(verdict, str) else ""
                capacity = feature[cap_index] if cap_index >= 0 else None
                for page in (OVERVIEW, gemeente) if gemeente else (OVERVIEW,):
                    c = counts[page]
                    c["totaal"] += 1
                    if not located:
                        c["geen_geometrie"] += 1
                    elif verdict in keys:
                        c[verdict] += 1
                        if isinstance(capacity, (int, float)):
                            c[f"cap_{verdict}"] += float(capacity)
            part.dataProvider().changeAttributeValues(changes)

        layer = QgsVectorLayer(
            f"MultiPolygon?crs={crs.authid() or 'EPSG:28992'}", "Atlas", "memory"
        )
        if not crs.authid():
            layer.setCrs(crs)
        fields = [
            QgsField("naam", QVariant.String),
            QgsField("soort", QVariant.String),
            QgsField("volgorde", QVariant.Int),
            QgsField("bestand", QVariant.String),
            QgsField("sleutel", QVariant.String),
            QgsField("kerncijfers", QVariant.String),
        ]
        layer.dataProvider().addAttributes(fields)
        layer.updateFields()
        suffix = stay
        slugs = [slugify(n) for n in names]
        rows = [
            (
                OVERVIEW,
                OVERVIEW,
                0,
                f"overzicht_{suffix}",
                OVERVIEW,
                QgsGeometry.unaryUnion(list(merged.values())),
            )
        ]
        for i, (name, slug) in enumerate(zip(names, slugs), start=1):
            if slugs.count(slug) > 1:
                slug = f"{slug}-{i}"
            rows.append((name, "gemeente", i, f"gemeente_{slug}_{suffix}", name, merged[name]))
        features = []
        for name, kind, order, stem, key, geometry in rows:
            feature = QgsFeature(layer.fields())
            feature.setAttributes(
                [name, kind, order, stem, key, _key_figures_text(counts[key], cap_index >= 0)]
            )
            geometry = QgsGeometry(geometry)
            geometry.convertToMultiType()
            feature.setGeometry(geometry)
            features.append(feature)
        layer.dataProvider().addFeatures(features)
        layer.updateExtents()
        return layer, counts

    # Styles ---------------------------------------------------------------
    @staticmethod
    def _focus_expr(field: str) -> str:
        """True for features of the atlas page's gemeente (all features on the overview)."""
        return f'({_IS_OVERVIEW} OR "{field}" = @atlas_pagename)'

    def _style_gemeenten_fill(self, layer: QgsVectorLayer, name_field: str) -> None:
        root = QgsRuleBasedRenderer.Rule(None)
        for label, expression, colour in (
            ("Gemeente op de kaart", self._focus_expr(name_field), _FOCUS_FILL),
            ("Andere gemeente", "ELSE", _OTHER_GEMEENTE),
        ):
            symbol = QgsFillSymbol.createSimple({"color": colour, "outline_style": "no"})
            rule = QgsRuleBasedRenderer.Rule(
                symbol, 0, 0, "" if expression == "ELSE" else expression, label
            )
            if expression == "ELSE":
                rule.setIsElse(True)
            root.appendChild(rule)
        layer.setRenderer(QgsRuleBasedRenderer(root))

    def _style_inset(self, layer: QgsVectorLayer, name_field: str) -> None:
        """The inset's gemeenten: the page's gemeente dark, the others light, so "where is it" reads
        at a glance."""
        focus = f'(NOT {_IS_OVERVIEW} AND "{name_field}" = @atlas_pagename)'
        root = QgsRuleBasedRenderer.Rule(None)
        for label, expression, colour in (
            ("Gekozen gemeente", focus, "#4d4d4d"),
            ("Andere gemeente", f"NOT {focus}", "#f7f7f7"),
        ):
            symbol = QgsFillSymbol.createSimple(
                {"color": colour, "outline_color": _BOUNDARY, "outline_width": "0.15"}
            )
            root.appendChild(QgsRuleBasedRenderer.Rule(symbol, 0, 0, expression, label))
        layer.setRenderer(QgsRuleBasedRenderer(root))

    def _style_boundaries(self, layer: QgsVectorLayer, name_field: str, n_gemeenten: int) -> None:
        focus = f'(NOT {_IS_OVERVIEW} AND "{name_field}" = @atlas_pagename)'
        root = QgsRuleBasedRenderer.Rule(None)
        for label, expression, colour, width in (
            ("Gemeentegrens", f"NOT {focus}", _BOUNDARY, "0.3"),
            ("Grens van de gekozen gemeente", focus, _TEXT, "0.7"),
        ):
            symbol = QgsFillSymbol.createSimple(
                {
                    "style": "no",
                    "outline_color": colour,
                    "outline_width": width,
                    "joinstyle": "round",
                }
            )
            root.appendChild(QgsRuleBasedRenderer.Rule(symbol, 0, 0, expression, label))
        renderer = QgsRuleBasedRenderer(root)
        # the chosen gemeente last, so no neighbour's grey line covers its outline
        renderer.setOrderBy(
            QgsFeatureRequest.OrderBy([QgsFeatureRequest.OrderByClause(focus, True)])
        )
        renderer.setOrderByEnabled(True)
        layer.setRenderer(renderer)

        settings = QgsPalLayerSettings()
        settings.fieldName = name_field
        # horizontal, anywhere inside the gemeente where no site is (sites are label obstacles)
        settings.placement = QgsPalLayerSettings.Horizontal
        settings.centroidInside = True
        settings.obstacle = False
        fmt = QgsTextFormat()
        fmt.setFont(QFont(_font_family()))
        fmt.setSizeUnit(QgsUnitTypes.RenderPoints)
        fmt.setSize(7.5)
        fmt.setColor(QColor(_GREY_TEXT))
        buffer = QgsTextBufferSettings()
        buffer.setEnabled(True)
        buffer.setSize(0.9)
        buffer.setSizeUnit(QgsUnitTypes.RenderMillimeters)
        buffer.setColor(QColor("white"))
        buffer.setOpacity(0.85)
        fmt.setBuffer(buffer)
        settings.setFormat(fmt)
        small = 6.2 if n_gemeenten > 15 else 7.5
        props = settings.dataDefinedProperties()
        props.setProperty(
            QgsPalLayerSettings.Size,
            QgsProperty.fromExpression(
                f"CASE WHEN {_IS_OVERVIEW} THEN {small} WHEN {focus} THEN 10 ELSE 7.5 END"
            ),
        )
        props.setProperty(
            QgsPalLayerSettings.Bold, QgsProperty.fromExpression(f"{_IS_OVERVIEW} OR {focus}")
        )
        props.setProperty(
            QgsPalLayerSettings.Italic,
            QgsProperty.fromExpression(f"NOT ({_IS_OVERVIEW} OR {focus})"),
        )
        props.setProperty(
            QgsPalLayerSettings.Color,
            QgsProperty.fromExpression(
                f"CASE WHEN {_IS_OVERVIEW} OR {focus} THEN '{_TEXT}' ELSE '{_GREY_TEXT}' END"
            ),
        )
        settings.setDataDefinedProperties(props)
        layer.setLabeling(QgsVectorLayerSimpleLabeling(settings))
        layer.setLabelsEnabled(True)

    @staticmethod
    def _style_sites(
        layer: QgsVectorLayer, verdict_field: str, stay: str, counts
    ) -> list[QgsSymbol]:
        """Categories on the stay type's verdict, colours and labels of the plugin style; other
        gemeenten faded."""
        focus = f'({_IS_OVERVIEW} OR "kaart_gemeente" = @atlas_pagename)'
        polygon = layer.geometryType() == QgsWkbTypes.PolygonGeometry
        size = _marker_size(counts[OVERVIEW]["totaal"] - counts[OVERVIEW]["geen_geometrie"])
        has_blank = (
            counts[OVERVIEW]["totaal"]
            - counts[OVERVIEW]["geen_geometrie"]
            - sum(counts[OVERVIEW][k] for k in VERDICT_VALUES)
            > 0
        )
        categories = []
        plain = []
        for value, label, colour in VERDICTS:
            if value == "" and not has_blank:
                continue
            label = "Geen oordeel" if value == "" else label
            c = QColor(colour)
            faded = f"'{c.red()},{c.green()},{c.blue()},90'"
            fill_expr = QgsProperty.fromExpression(f"if({focus}, '{colour}', {faded})")
            stroke_expr = QgsProperty.fromExpression(f"if({focus}, '#333333', '255,255,255,120')")
            marker_symbol = QgsMarkerSymbol.createSimple(
                {
                    "name": "circle",
                    "color": colour,
                    "size": f"{size * (0.75 if polygon else 1.0):.2f}",
                    "outline_color": "#333333",
                    "outline_width": "0.25",
                }
            )
            marker = marker_symbol.symbolLayer(0)
            marker.setDataDefinedProperty(QgsSymbolLayer.PropertyFillColor, fill_expr)
            marker.setDataDefinedProperty(QgsSymbolLayer.PropertyStrokeColor, stroke_expr)
            if polygon:
                symbol = QgsFillSymbol.createSimple(
                    {"color": colour, "outline_color": "#333333", "outline_width": "0.3"}
                )
                fill = symbol.symbolLayer(0)
                fill.setDataDefinedProperty(QgsSymbolLayer.PropertyFillColor, fill_expr)
                fill.setDataDefinedProperty(QgsSymbolLayer.PropertyStrokeColor, stroke_expr)
                centroid = QgsCentroidFillSymbolLayer()
                centroid.setSubSymbol(marker_symbol)  # takes ownership
                centroid.setPointOnSurface(True)
                symbol.appendSymbolLayer(centroid)  # takes ownership
            else:
                symbol = marker_symbol
            categories.append(QgsRendererCategory(value if value else None, symbol, label, True))
            plain.append(
                QgsMarkerSymbol.createSimple(
                    {
                        "name": "circle",
                        "color": colour,
                        "size": "3.0",
                        "outline_color": "#333333",
                        "outline_width": "0.25",
                    }
                )
            )
        renderer = QgsCategorizedSymbolRenderer(verdict_field, categories)
        layer.setRenderer(renderer)
        # best verdicts on top
        order = (
            "CASE \"{0}\" WHEN 'geschikt' THEN 3 WHEN 'voorwaardelijk' THEN 2 WHEN 'ongeschikt'"
            " THEN 1 ELSE 0 END"
        )
        clause = QgsFeatureRequest.OrderByClause(
            f"if({focus}, 10, 0) + " + order.format(verdict_field), True
        )
        renderer.setOrderBy(QgsFeatureRequest.OrderBy([clause]))
        renderer.setOrderByEnabled(True)
        layer.setName(f"Oordeel {stay_label(stay)}")
        # no labels, but the sites are obstacles: a gemeente name is never written over a site
        obstacle = QgsPalLayerSettings()
        obstacle.fieldName = verdict_field
        obstacle.drawLabels = False
        obstacle.obstacleSettings().setIsObstacle(True)
        obstacle.obstacleSettings().setFactor(2.0)
        layer.setLabeling(QgsVectorLayerSimpleLabeling(obstacle))
        layer.setLabelsEnabled(True)
        # for the legend: the faded colours depend on the atlas page, the legend shows full ones
        return plain

    def _style_context(self, key: str, layer: QgsVectorLayer, n_parts: int = 1) -> QgsVectorLayer:
        """Style one (part of a) context layer; a layer of points and polygons gets
        "(punten)"/"(vlakken)"."""
        kind = layer.geometryType()
        if key == self.BEBOUWD_GEBIED:
            symbol = QgsFillSymbol.createSimple({"color": _BBG, "outline_style": "no"})
        elif key == self.GEURCONTOUREN:
            symbol = QgsFillSymbol.createSimple(
                {
                    "color": "118,42,131,60",
                    "outline_color": "118,42,131,200",
                    "outline_width": "0.25",
                }
            )
            layer.setName("Geurcontour")
        elif key == self.RECREATIEPARKEN:
            symbol = QgsFillSymbol.createSimple(
                {"style": "no", "outline_color": _PARK, "outline_width": "0.35"}
            )
            hatch = QgsLinePatternFillSymbolLayer()
            hatch.setLineAngle(45)
            hatch.setDistance(1.2)
            hatch.setLineWidth(0.2)
            hatch.setColor(QColor(_PARK))
            symbol.insertSymbolLayer(0, hatch)  # takes ownership
            layer.setName("Recreatiepark")
        else:
            colour, shape, size, name = (
                (_FARM, "triangle", "2.4", "Veehouderij")
                if key == self.VEEHOUDERIJEN
                else (_EMPLOYER, "square", "2.6", "Werkgever")
            )
            if kind == QgsWkbTypes.PolygonGeometry:
                symbol = QgsFillSymbol.createSimple(
                    {"color": colour, "outline_color": "white", "outline_width": "0.2"}
                )
            else:
                symbol = QgsMarkerSymbol.createSimple(
                    {
                        "name": shape,
                        "color": colour,
                        "size": size,
                        "outline_color": "white",
                        "outline_width": "0.25",
                    }
                )
            if n_parts > 1:
                name += {
                    QgsWkbTypes.PointGeometry: " (punt)",
                    QgsWkbTypes.PolygonGeometry: " (vlak)",
                }.get(kind, "")
            layer.setName(name)
        if symbol.type() != QgsSymbol.symbolTypeForGeometryType(kind):
            symbol = QgsSymbol.defaultSymbol(kind)
        layer.setRenderer(QgsSingleSymbolRenderer(symbol))
        return layer

    @staticmethod
    def _legend_tree(project: QgsProject, sites, context_layers, boundary) -> None:
        root = project.layerTreeRoot()
        root.addLayer(sites)
        group = root.addGroup("Ruimtelijke lagen")
        for layer in context_layers:
            group.addLayer(layer)
        group.addLayer(boundary)

    # Layout ---------------------------------------------------------------
    def _label(
        self,
        layout,
        text: str,
        x: float,
        y: float,
        w: float,
        h: float,
        *,
        size: float = 8.0,
        bold: bool = False,
        colour: str = _TEXT,
        align=Qt.AlignLeft,
        valign=Qt.AlignTop,
        item_id: str = "",
    ) -> QgsLayoutItemLabel:
        label = QgsLayoutItemLabel(layout)
        label.setText(text)
        font = QFont(_font_family())
        font.setPointSizeF(size)
        font.setBold(bold)
        if hasattr(label, "setTextFormat"):  # QGIS >= 3.24
            fmt = QgsTextFormat.fromQFont(font)
            fmt.setSize(size)
            fmt.setColor(QColor(colour))
            label.setTextFormat(fmt)
        else:
            label.setFont(font)
            label.setFontColor(QColor(colour))
        label.setHAlign(align)
        label.setVAlign(valign)
        label.setMarginX(0)
        label.setMarginY(0)
        label.attemptMove(QgsLayoutPoint(x, y, QgsUnitTypes.LayoutMillimeters))
        label.attemptResize(QgsLayoutSize(w, h, QgsUnitTypes.LayoutMillimeters))
        if item_id:
            label.setId(item_id)
        layout.addLayoutItem(label)
        return label

    def _layout(
        self,
        project,
        coverage,
        gemeenten,
        map_layers,
        stay,
        ruleset_label,
        run_date,
        attribution,
        demo,
        record,
        sites,
        legend_symbols,
    ) -> QgsPrintLayout:
        layout = QgsPrintLayout(project)
        layout.initializeDefaults()
        layout.setName(f"Woonvisiekaarten {stay_label(stay)}")
        page = layout.pageCollection().page(0)
        page.setPageSize("A4", QgsLayoutItemPage.Landscape)
        project.layoutManager().addLayout(layout)

        atlas = layout.atlas()
        atlas.setCoverageLayer(coverage)
        atlas.setEnabled(True)
        atlas.setPageNameExpression('"naam"')
        atlas.setSortFeatures(True)
        atlas.setSortExpression('"volgorde"')
        atlas.setSortAscending(True)
        atlas.setFilenameExpression('"bestand"')
        atlas.setHideCoverage(False)

        family = _font_family()
        head = f"Geschiktheid {stay_label(stay)}"
        self._label(
            layout,
            f"{head} — [% CASE WHEN {_IS_OVERVIEW} THEN 'overzicht alle gemeenten' "
            "WHEN @atlas_pagename ILIKE '%gemeente%' THEN @atlas_pagename "
            "ELSE 'gemeente ' || @atlas_pagename END %]",
            _MARGIN,
            8.0,
            230.0,
            10.0,
            size=17,
            bold=True,
            item_id="titel",
        )
        sub = f"Oordeel per kandidaatlocatie voor {stay_label(stay)}  ·  {ruleset_label}"
        if run_date:
            sub += f"  ·  toetsing {run_date}"
        self._label(
            layout,
            sub,
            _MARGIN,
            18.5,
            230.0,
            6.0,
            size=9.5,
            colour=_GREY_TEXT,
            item_id="ondertitel",
        )
        if demo:
            self._label(
                layout,
                "FICTIEF DEMOGEBIED\ngeen echte gegevens",
                _PAGE_W - _MARGIN - 60,
                9.0,
                60,
                12,
                size=10,
                bold=True,
                colour="#bf1a1a",
                align=Qt.AlignRight,
            )

        # main map
        main = QgsLayoutItemMap(layout)
        main.setId("kaart")
        main.attemptMove(QgsLayoutPoint(_MAP_X, _MAP_Y, QgsUnitTypes.LayoutMillimeters))
        main.attemptResize(QgsLayoutSize(_MAP_W, _MAP_H, QgsUnitTypes.LayoutMillimeters))
        main.setCrs(project.crs())
        main.setLayers(map_layers)
        main.setKeepLayerSet(True)
        main.setBackgroundColor(QColor(_OUTSIDE))
        main.setFrameEnabled(True)
        main.setFrameStrokeColor(QColor("#444444"))
        main.setFrameStrokeWidth(QgsLayoutMeasurement(0.3, QgsUnitTypes.LayoutMillimeters))
        main.setExtent(
            _fit(coverage.extent(), _MAP_W, _MAP_H, 0.04)
        )  # same aspect: the item keeps its size
        main.setAtlasDriven(True)
        main.setAtlasScalingMode(QgsLayoutItemMap.Auto)
        main.setAtlasMargin(0.06)
        layout.addLayoutItem(main)

        # north arrow: an SVG of QGIS, else a text arrow
        svg = self._north_svg()
        if svg:
            arrow = QgsLayoutItemPicture(layout)
            arrow.setPicturePath(svg)
            arrow.setSvgFillColor(QColor(_TEXT))
            arrow.setSvgStrokeColor(QColor(_TEXT))
            arrow.setLinkedMap(main)
            arrow.setNorthMode(QgsLayoutItemPicture.GridNorth)
            arrow.attemptMove(
                QgsLayoutPoint(_MAP_X + _MAP_W - 14.0, _MAP_Y + 3.0, QgsUnitTypes.LayoutMillimeters)
            )
            arrow.attemptResize(QgsLayoutSize(10.0, 16.0, QgsUnitTypes.LayoutMillimeters))
            arrow.setId("noordpijl")
            layout.addLayoutItem(arrow)
        else:
            self._label(
                layout,
                "N\n↑",
                _MAP_X + _MAP_W - 12.0,
                _MAP_Y + 3.0,
                9.0,
                14.0,
                size=14,
                bold=True,
                align=Qt.AlignHCenter,
                item_id="noordpijl",
            )

        # scale bar on a white box, bottom left inside the map
        box = QgsLayoutItemShape(layout)
        box.setShapeType(QgsLayoutItemShape.Rectangle)
        box.setSymbol(
            QgsFillSymbol.createSimple({"color": "255,255,255,215", "outline_style": "no"})
        )
        box.attemptMove(
            QgsLayoutPoint(_MAP_X + 2.5, _MAP_Y + _MAP_H - 13.5, QgsUnitTypes.LayoutMillimeters)
        )
        box.attemptResize(QgsLayoutSize(72.0, 11.0, QgsUnitTypes.LayoutMillimeters))
        layout.addLayoutItem(box)
        bar = QgsLayoutItemScaleBar(layout)
        bar.setStyle("Single Box")
        bar.setLinkedMap(main)
        bar.setUnits(QgsUnitTypes.DistanceKilometers)
        bar.setUnitLabel("km")
        bar.setMapUnitsPerScaleBarUnit(1.0)  # QGIS converts map units (m) to km itself
        bar.setNumberOfSegments(2)
        bar.setNumberOfSegmentsLeft(0)
        bar.setSegmentSizeMode(QgsScaleBarSettings.SegmentSizeFitWidth)
        bar.setMinimumBarWidth(25.0)
        bar.setMaximumBarWidth(40.0)
        bar.setHeight(1.8)
        bar_format = QgsTextFormat()
        bar_format.setFont(QFont(family))
        bar_format.setSize(7.0)
        bar_format.setSizeUnit(QgsUnitTypes.RenderPoints)
        bar_format.setColor(QColor(_TEXT))
        bar.setTextFormat(bar_format)
        bar.setBackgroundEnabled(False)
        bar.setFrameEnabled(False)
        bar.attemptMove(
            QgsLayoutPoint(_MAP_X + 5.0, _MAP_Y + _MAP_H - 12.0, QgsUnitTypes.LayoutMillimeters)
        )
        bar.setId("schaalbalk")
        layout.addLayoutItem(bar)
        bar.update()
        scale_text = self._label(
            layout,
            "Schaal 1:[% replace(format_number(round(item_variables('kaart')['map_scale'], "
            "-floor(log10(item_variables('kaart')['map_scale'])) + 1), 0), ',', '.') %]",
            _MAP_X + 52.0,
            _MAP_Y + _MAP_H - 10.5,
            21.0,
            7.0,
            size=6.5,
            colour=_GREY_TEXT,
            align=Qt.AlignRight,
            valign=Qt.AlignBottom,
            item_id="schaal",
        )
        scale_text.setVisibility(True)

        # side panel: legend, key figures, inset
        legend = QgsLayoutItemLegend(layout)
        legend.setId("legenda")
        legend.setTitle("Legenda")
        legend.setLinkedMap(main)
        legend.setAutoUpdateModel(False)
        legend.setLegendFilterByMapEnabled(False)
        legend.setSymbolWidth(5.0)
        legend.setSymbolHeight(3.6)
        legend.setBoxSpace(0.0)
        legend.setColumnSpace(0.0)
        styles = {
            QgsLegendStyle.Title: (11.0, True),
            QgsLegendStyle.Group: (9.0, True),
            QgsLegendStyle.Subgroup: (9.0, True),
            QgsLegendStyle.SymbolLabel: (8.2, False),
        }
        for style, (size, bold) in styles.items():
            font = QFont(family)
            font.setPointSizeF(size)
            font.setBold(bold)
            legend.setStyleFont(style, font)
        legend.setStyleMargin(QgsLegendStyle.Group, QgsLegendStyle.Top, 4.0)
        legend.setStyleMargin(QgsLegendStyle.Subgroup, QgsLegendStyle.Top, 2.0)
        legend.setStyleMargin(QgsLegendStyle.Symbol, QgsLegendStyle.Top, 1.6)
        legend.setStyleMargin(QgsLegendStyle.SymbolLabel, QgsLegendStyle.Top, 1.6)
        legend.setFontColor(QColor(_TEXT))
        legend.setBackgroundEnabled(False)
        legend.setFrameEnabled(False)
        legend.setResizeToContents(True)
        legend.attemptMove(QgsLayoutPoint(_SIDE_X, _MAP_Y, QgsUnitTypes.LayoutMillimeters))
        layout.addLayoutItem(legend)
        self._tidy_legend(legend, sites, legend_symbols)
        legend.adjustBoxSize()
        # the item's own size is only known once rendered; the legend renderer measures it now (mm)
        legend_bottom = (
            _MAP_Y
            + QgsLegendRenderer(legend.model(), legend.legendSettings()).minimumSize().height()
        )

        # key figures right below the legend; the inset fills what is left down to the map's bottom
        # (if enough)
        n_lines = max(str(f["kerncijfers"]).count("\n") + 1 for f in coverage.getFeatures())
        figures_bottom = self._key_figures(layout, stay, legend_bottom + 5.0, n_lines)
        inset_h = min(42.0, _MAP_Y + _MAP_H - figures_bottom - 8.0)

        inset = QgsLayoutItemMap(layout)
        inset.setId("overzichtskaart")
        inset.attemptMove(
            QgsLayoutPoint(_SIDE_X, _MAP_Y + _MAP_H - inset_h, QgsUnitTypes.LayoutMillimeters)
        )
        inset.attemptResize(QgsLayoutSize(_SIDE_W, inset_h, QgsUnitTypes.LayoutMillimeters))
        inset.setCrs(project.crs())
        inset.setLayers([gemeenten])
        inset.setKeepLayerSet(True)
        inset.setExtent(_fit(coverage.extent(), _SIDE_W, inset_h, 0.05))
        inset.setBackgroundColor(
            QColor("#cfd5da")
        )  # darker than the main map: the small province stands out
        inset.setFrameEnabled(True)
        inset.setFrameStrokeColor(QColor("#8a8a8a"))
        inset.setFrameStrokeWidth(QgsLayoutMeasurement(0.2, QgsUnitTypes.LayoutMillimeters))
        inset.overviews().addOverview(self._overview(inset, main))
        inset.dataDefinedProperties().setProperty(
            QgsLayoutObject.ExcludeFromExports, QgsProperty.fromExpression(_IS_OVERVIEW)
        )
        if (
            inset_h >= 20.0
        ):  # a long legend leaves no room: no inset rather than one over the key figures
            layout.addLayoutItem(inset)
            inset_title = self._label(
                layout,
                "Ligging in het gebied",
                _SIDE_X,
                _MAP_Y + _MAP_H - inset_h - 5.0,
                _SIDE_W,
                4.5,
                size=7.5,
                bold=True,
                colour=_GREY_TEXT,
                item_id="inset_titel",
            )
            inset_title.dataDefinedProperties().setProperty(
                QgsLayoutObject.ExcludeFromExports, QgsProperty.fromExpression(_IS_OVERVIEW)
            )

        # footer
        version = str((record.get("locatietoets") or {}).get("versie") or "")
        crs = project.crs()
        crs_text = f"{crs.description()} ({crs.authid()})" if crs.authid() else crs.description()
        right = f"Coördinaten {crs_text}"
        if version:
            right += f"  ·  Locatietoets {version}"
        right += f"  ·  kaart gemaakt {date.today().strftime('%d-%m-%Y')}"
        footer_y = _MAP_Y + _MAP_H + 3.0
        self._label(
            layout,
            attribution,
            _MARGIN,
            footer_y,
            135.0,
            8.0,
            size=7.5,
            colour=_GREY_TEXT,
            item_id="bron",
        )
        self._label(
            layout,
            right,
            _MARGIN + 135.0,
            footer_y,
            _PAGE_W - 2 * _MARGIN - 135.0,
            8.0,
            size=7.5,
            colour=_GREY_TEXT,
            align=Qt.AlignRight,
            item_id="voettekst",
        )
        self._label(
            layout,
            "Kaart zonder achtergrondkaart; oordelen zijn een eerste ruimtelijke toets, geen "
            "vergunningsbesluit. Redenen per locatie: zie de locatielaag (veld 'redenen').",
            _MARGIN,
            footer_y + 7.5,
            _PAGE_W - 2 * _MARGIN,
            5.0,
            size=6.5,
            colour="#8a8a8a",
            item_id="disclaimer",
        )
        return layout

    @staticmethod
    def _overview(inset: QgsLayoutItemMap, main: QgsLayoutItemMap):
        from qgis.core import QgsLayoutItemMapOverview

        overview = QgsLayoutItemMapOverview("Kaartbeeld", inset)
        overview.setLinkedMap(main)
        overview.setFrameSymbol(
            QgsFillSymbol.createSimple(
                {"color": "215,25,28,25", "outline_color": "#d7191c", "outline_width": "0.4"}
            )
        )
        return overview

    @staticmethod
    def _north_svg() -> str | None:
        for folder in QgsApplication.svgPaths() + [
            os.path.join(QgsApplication.pkgDataPath(), "svg")
        ]:
            path = os.path.join(folder, "arrows", "NorthArrow_02.svg")
            if os.path.isfile(path):
                return path
        return None

    @staticmethod
    def _tidy_legend(
        legend: QgsLayoutItemLegend, sites: QgsVectorLayer, symbols: list[QgsSymbol]
    ) -> None:
        """Only the sites get a layer heading; the sites' entries show the full verdict colours."""
        model = legend.model()
        for node in model.rootGroup().findLayers():
            layer = node.layer()
            if layer is None:
                continue
            if layer.id() == sites.id():
                node.setCustomProperty("legend/title-style", "subgroup")
                for i, symbol in enumerate(symbols):
                    QgsMapLayerLegendUtils.setLegendNodeCustomSymbol(node, i, symbol)
            else:
                node.setCustomProperty("legend/title-style", "hidden")
            model.refreshLayerLegend(node)
        legend.updateLegend()

    def _key_figures(self, layout, stay, y: float, n_lines: int) -> float:
        """Counts of the page's area, from the atlas feature's ``kerncijfers``, from ``y`` down;
        returns the bottom."""
        note = (
            f"Elke locatie is getoetst alsof zij voor {stay_label(stay)} wordt gebruikt. "
            "Locaties buiten de gekozen gemeente zijn lichter getekend."
        )
        text_h = 3.4 * n_lines + 1.0  # 7.5 pt lines
        self._label(
            layout,
            "Kerncijfers",
            _SIDE_X,
            y,
            _SIDE_W,
            5.0,
            size=9,
            bold=True,
            item_id="kerncijfers_titel",
        )
        self._label(
            layout,
            '[% "kerncijfers" %]',
            _SIDE_X,
            y + 6.0,
            _SIDE_W,
            text_h,
            size=7.5,
            item_id="kerncijfers",
        )
        self._label(
            layout,
            note,
            _SIDE_X,
            y + 7.0 + text_h,
            _SIDE_W,
            9.0,
            size=6.8,
            colour=_GREY_TEXT,
            item_id="toelichting",
        )
        return y + 7.0 + text_h + 9.0

    # Export ---------------------------------------------------------------
    @staticmethod
    def _export_pdf(layout, atlas, path: str, feedback, step: int, steps: int) -> None:
        settings = QgsLayoutExporter.PdfExportSettings()
        settings.dpi = 300
        settings.rasterizeWholeImage = False
        settings.forceVectorOutput = False
        settings.textRenderFormat = QgsRenderContext.TextFormatAlwaysText
        settings.appendGeoreference = True
        settings.exportMetadata = True
        settings.simplifyGeometries = True
        multi = QgsProcessingMultiStepFeedback(steps, feedback)
        multi.setCurrentStep(step)
        if os.path.exists(path):
            os.remove(path)
        result, error = QgsLayoutExporter.exportToPdf(atlas, path, settings, multi)
        if feedback.isCanceled() or result == QgsLayoutExporter.Canceled:
            raise QgsProcessingException("Het maken van de kaarten is afgebroken.")
        if result != QgsLayoutExporter.Success:
            raise QgsProcessingException(
                f"De PDF '{path}' kon niet worden gemaakt: {error or result}"
            )

    @staticmethod
    def _export_pngs(
        layout, atlas, out_dir: str, dpi: int, feedback, step: int, steps: int
    ) -> list[str]:
        # renderPageToImage + QImage.save rather than exportToImage: the latter also asks GDAL to
        # georeference
        # the PNG in place, which the PNG driver refuses with an error line in every log.
        exporter = QgsLayoutExporter(layout)
        dots_per_metre = int(round(dpi / 0.0254))
        paths: list[str] = []
        if not atlas.beginRender():
            raise QgsProcessingException("De atlas over de gemeenten kon niet worden gestart.")
        try:
            count = atlas.count()
            for i in range(count):
                if feedback.isCanceled():
                    raise QgsProcessingException("Het maken van de kaarten is afgebroken.")
                t0 = time.monotonic()
                if not atlas.seekTo(i):
                    raise QgsProcessingException(f"Atlaspagina {i + 1} kon niet worden gemaakt.")
                path = os.path.join(out_dir, atlas.currentFilename() + ".png")
                image = exporter.renderPageToImage(0, QSize(), dpi)
                image.setDotsPerMeterX(dots_per_metre)
                image.setDotsPerMeterY(dots_per_metre)
                if image.isNull() or not image.save(path, "PNG"):
                    raise QgsProcessingException(f"De kaart '{path}' kon niet worden geschreven.")
                paths.append(path)
                name = atlas.nameForPage(i) or atlas.currentFilename()
                feedback.pushInfo(
                    f"Kaart {i + 1}/{count}: {name} → {os.path.basename(path)} "
                    f"({time.monotonic() - t0:.2f} s)"
                )
                feedback.setProgress(100.0 * (step + (i + 1) / count) / steps)
        finally:
            atlas.endRender()
        return paths
