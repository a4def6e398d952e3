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

import json
import os
import time
from typing import Any

from qgis.core import (
    QgsField,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingException,
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
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QVariant

from ..atlas import copies, coverage, export, layout as layout_, symbology, texts
from ..atlas.texts import attribution_text, slugify
from ..reference import reference_for_run_record, reference_layers, reference_parts
from ..styling import RUN_JSON_PROPERTY
from ..vocabulary import STAY_LABELS, STAY_TYPES, reference_label, stay_label
from .base import LocatietoetsAlgorithm
from .field_wrapper import guessing_wrapper_metadata
from .inputs import pick_field

__all__ = ["ExporteerKaarten", "slugify", "attribution_text"]

FORMATS = ("pdf", "png", "beide")
#: The gemeente name field when none is chosen: the first of these the layer has (any case).
GEMEENTE_NAME_GUESSES = ("naam", "gemeentenaam", "gemeente", "gm_naam", "statnaam", "name")


class ExporteerKaarten(LocatietoetsAlgorithm):
    """A4 woonvisie maps: one overview page plus one page per gemeente (atlas), as PDF and/or
    PNG."""

    ALGORITHM_ID = "exporteerkaarten"
    DISPLAY_NAME = "Exporteer woonvisiekaarten"
    GROUP = "Kaarten"

    LOCATIES = "LOCATIES"
    GEMEENTEN = "GEMEENTEN"
    GEMEENTE_NAAM_VELD = "GEMEENTE_NAAM_VELD"
    BEBOUWD_GEBIED = symbology.BEBOUWD_GEBIED
    GEURCONTOUREN = symbology.GEURCONTOUREN
    RECREATIEPARKEN = symbology.RECREATIEPARKEN
    VEEHOUDERIJEN = symbology.VEEHOUDERIJEN
    WERKGEVERS = symbology.WERKGEVERS
    VERBLIJFSTYPE = "VERBLIJFSTYPE"
    FORMAAT = "FORMAAT"
    RUN_JSON = "RUN_JSON"
    REFERENTIE = "REFERENTIE"
    BRON = "BRON"
    DPI = "DPI"
    OUTPUT_FOLDER = "OUTPUT_FOLDER"
    # outputs
    PDF = "PDF"
    PNG_BESTANDEN = "PNG_BESTANDEN"
    AANTAL_KAARTEN = "AANTAL_KAARTEN"

    #: Context layers: key, Dutch label (parameter and legend), accepted geometry types.
    CONTEXT = symbology.CONTEXT

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
        name_field = QgsProcessingParameterField(
            self.GEMEENTE_NAAM_VELD,
            "Veld met de gemeentenaam (leeg: naam, gemeentenaam, gemeente, gm_naam, statnaam of"
            " name)",
            parentLayerParameterName=self.GEMEENTEN,
            type=QgsProcessingParameterField.String,
            optional=True,
        )
        # the dialog pre-selects the first of these names the chosen layer has
        name_field.setMetadata(guessing_wrapper_metadata(GEMEENTE_NAME_GUESSES))
        self.addParameter(name_field)
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
        self.addParameter(
            QgsProcessingParameterFile(
                self.REFERENTIE,
                "Referentielagen van de toetsing (referentie.gpkg: beperkingen, voorzieningen,"
                " kernen, bestaande huisvesting; leeg: naast het runverslag gezocht)",
                extension="gpkg",
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
        return pick_field(layer.fields().names(), GEMEENTE_NAME_GUESSES)

    def _reference_layers(
        self, parameters, context, run_json, crs, transform_context, feedback
    ) -> dict[str, list[QgsVectorLayer]]:
        """The run's declared constraints, facilities, kernen and existing housing from its
        ``referentie.gpkg`` (the parameter, else beside the run record) as memory copies in the
        map CRS, one per geometry type, in drawing order (top first); the other reference layers
        come from their own parameters."""
        path = self.parameterAsFile(parameters, self.REFERENTIE, context)
        if path and not os.path.isfile(path):
            raise QgsProcessingException(f"Het bestand '{path}' bestaat niet.")
        if not path:
            path = reference_for_run_record(run_json)
            if not path:
                return {}
            feedback.pushInfo(f"Referentielagen van de toetsing gevonden: {path}")
        wanted = [
            name
            for name in symbology.reference_order(reference_layers(path))
            if name.startswith(("beperkingen.", "voorzieningen."))
            or name in ("kernen", "bestaande_huisvesting")
        ]
        layers: dict[str, list[QgsVectorLayer]] = {}
        for name in wanted:
            parts = []
            for part in reference_parts(path, name):
                parts += copies.copies(part, crs, transform_context, name, feedback)
            if parts:
                layers[name] = parts
        if layers:
            feedback.pushInfo(
                "Op de kaarten uit de referentielagen: "
                + ", ".join(reference_label(name) for name in layers)
                + "."
            )
        return layers

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
        crs = copies.map_crs(sites_in, gemeenten_in)
        feedback.pushInfo(f"Kaartprojectie: {crs.authid() or crs.description()}")
        project = QgsProject()
        project.setCrs(crs)
        project.setTitle("Woonvisiekaarten Locatietoets")
        transform_context = context.transformContext()
        project.setTransformContext(transform_context)

        gemeenten = copies.copy_layer(gemeenten_in, crs, transform_context, "Gemeenten", feedback)
        names = copies.gemeente_names(gemeenten, name_field)
        if not names:
            raise QgsProcessingException(
                "De laag met gemeentegrenzen bevat geen gemeenten met een naam en een vlak."
            )
        # one memory layer per geometry type: a layer mixing points and polygons (as the engine
        # writes
        # kandidaatlocaties of both kinds) is drawn and counted whole
        site_parts = copies.copies(
            copies.whole_layer(sites_in, "locatielaag", feedback),
            crs,
            transform_context,
            f"Oordeel {stay_label(stay)}",
            feedback,
            extra=[QgsField("kaart_gemeente", QVariant.String)],
        )
        sites = site_parts[0]
        demo = any(texts.is_demo(part) for part in site_parts)
        atlas_layer, counts = coverage.build_coverage(
            gemeenten, name_field, names, site_parts, verdict_field, stay, crs
        )
        if feedback.isCanceled():
            raise QgsProcessingException("Het maken van de kaarten is afgebroken.")

        context_layers: dict[str, list[QgsVectorLayer]] = {}
        for key, label, _types in self.CONTEXT:
            layer = self.parameterAsVectorLayer(parameters, key, context)
            if layer is not None:
                context_layers[key] = copies.copies(
                    copies.whole_layer(layer, label, feedback),
                    crs,
                    transform_context,
                    label,
                    feedback,
                )

        reference_layers = self._reference_layers(
            parameters, context, run_json, crs, transform_context, feedback
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
        run_date = texts.run_date(record)

        # --- styles, layout, atlas
        symbology.style_gemeenten_fill(gemeenten, name_field)
        boundary = copies.copy_layer(gemeenten, crs, transform_context, "Gemeentegrens", feedback)
        symbology.style_boundaries(boundary, name_field, len(names))
        inset_gemeenten = copies.copy_layer(gemeenten, crs, transform_context, "Ligging", feedback)
        symbology.style_inset(inset_gemeenten, name_field)
        for part in site_parts:
            legend_symbols = symbology.style_sites(part, verdict_field, stay, counts)
        styled_context = [
            symbology.style_context(key, layer, len(parts))
            for key, parts in context_layers.items()
            for layer in parts
        ]
        all_context = [layer for parts in context_layers.values() for layer in parts]
        reference_names = list(reference_layers)
        for name, parts in reference_layers.items():
            for layer in parts:
                symbology.style_reference(name, layer, reference_names, len(parts))
        # the legend: point layers above the areas, as on the map
        reference_points = [
            layer
            for name, parts in reference_layers.items()
            if name.startswith("voorzieningen.") or name == "bestaande_huisvesting"
            for layer in parts
        ]
        reference_areas = [
            layer
            for parts in reference_layers.values()
            for layer in parts
            if layer not in reference_points
        ]
        styled_context = reference_points + styled_context + reference_areas
        all_context += reference_points + reference_areas
        for layer in [atlas_layer, gemeenten, boundary, inset_gemeenten, *site_parts, *all_context]:
            project.addMapLayer(layer, False)
        symbology.legend_tree(project, sites, styled_context, boundary)

        # top first: employers above sites (points above polygons), context below, gemeente fill at
        # the bottom
        map_layers = []
        map_layers += copies.points_first(context_layers.get(self.WERKGEVERS, []))
        map_layers += copies.points_first(site_parts)
        map_layers += reference_points
        map_layers += copies.points_first(context_layers.get(self.VEEHOUDERIJEN, []))
        map_layers.append(boundary)
        map_layers += reference_areas
        for key in (self.RECREATIEPARKEN, self.GEURCONTOUREN, self.BEBOUWD_GEBIED):
            map_layers += copies.points_first(context_layers.get(key, []))
        map_layers.append(gemeenten)

        layout = layout_.build_layout(
            project,
            atlas_layer,
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
            export.export_pdf(layout, atlas, pdf_path, feedback, step, steps)
            seconds = time.monotonic() - t0
            feedback.pushInfo(f"PDF klaar in {seconds:.1f} s ({seconds / pages:.2f} s per pagina).")
            outputs[self.PDF] = pdf_path
            outputs[self.AANTAL_KAARTEN] = pages
            step += 1
        if fmt in ("png", "beide"):
            pngs = export.export_pngs(layout, atlas, out_dir, dpi, feedback, step, steps)
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
