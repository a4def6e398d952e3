"""Load a run's reference layers (``referentie.gpkg``: BBG, contours, parks, farms, employers,
constraints, kernen, existing housing, facilities, gemeenten) styled into the project, as a group
under the result layer, drawn as the engine's maps and the plugin's atlas draw them."""

from __future__ import annotations

import os
import sqlite3

from qgis.core import QgsFeatureRequest, QgsProject, QgsVectorLayer, QgsWkbTypes

from .atlas import symbology

__all__ = [
    "GROUP_NAME",
    "add_reference_group",
    "reference_for_run_record",
    "reference_layers",
    "reference_parts",
]

GROUP_NAME = "Referentielagen van de toetsing"

#: OGR's geometry type filter per QGIS geometry type, in drawing order (points on top).
_GEOMETRY_FILTERS = (
    (QgsWkbTypes.PointGeometry, "Point"),
    (QgsWkbTypes.LineGeometry, "LineString"),
    (QgsWkbTypes.PolygonGeometry, "Polygon"),
)


def reference_for_run_record(run_json: str | None) -> str | None:
    """The reference layers of a run record: ``<naam>.referentie.gpkg`` beside
    ``<naam>.run.json`` (Toets locaties copies both beside its output), ``referentie.gpkg``
    beside ``run.json`` (the engine's folder); ``None`` when there is none."""
    if not run_json:
        return None
    folder, base = os.path.split(run_json)
    if base.lower().endswith(".run.json"):
        guess = os.path.join(folder, base[: -len(".run.json")] + ".referentie.gpkg")
    else:
        guess = os.path.join(folder, "referentie.gpkg")
    return guess if os.path.isfile(guess) else None


def reference_layers(path: str) -> list[str]:
    """The layer names in a ``referentie.gpkg`` (empty when there is none)."""
    if not path or not os.path.isfile(path):
        return []
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
            rows = con.execute("SELECT table_name FROM gpkg_contents").fetchall()
    except sqlite3.Error:
        return []
    return [str(name) for (name,) in rows]


def _kinds(layer: QgsVectorLayer) -> set[int]:
    request = QgsFeatureRequest().setNoAttributes()
    return {
        f.geometry().type()
        for f in layer.getFeatures(request)
        if f.hasGeometry() and not f.geometry().isEmpty()
    }


def reference_parts(path: str, name: str) -> list[QgsVectorLayer]:
    """The layer ``name`` of a ``referentie.gpkg``, one file layer per geometry type it holds
    (the engine writes points and polygons into one layer, e.g. employers; QGIS would draw only
    the first feature's type), points first; empty when the layer is missing or empty."""
    uri = f"{path}|layername={name}"
    whole = QgsVectorLayer(uri, name, "ogr")
    if not whole.isValid():
        return []
    kinds = _kinds(whole)
    if len(kinds) <= 1 and whole.geometryType() in kinds:
        return [whole]
    parts = []
    for kind, ogr_name in _GEOMETRY_FILTERS:
        if kind in kinds:
            part = QgsVectorLayer(f"{uri}|geometrytype={ogr_name}", name, "ogr")
            if part.isValid():
                parts.append(part)
    return parts


def add_reference_group(project: QgsProject, result: QgsVectorLayer, path: str) -> list[str]:
    """Add the run's reference layers as a group right under ``result``; returns the layer names."""
    names = reference_layers(path)
    if not names or project is None:
        return []
    root = project.layerTreeRoot()
    node = root.findLayer(result.id())
    parent = node.parent() if node is not None else root
    index = parent.children().index(node) + 1 if node is not None else 0
    group = parent.insertGroup(index, GROUP_NAME)
    added = []
    for name in symbology.reference_order(names):
        parts = reference_parts(path, name)
        for layer in parts:
            symbology.style_reference(name, layer, names, len(parts))
            project.addMapLayer(layer, False)
            group.addLayer(layer)
            added.append(layer.name())
    group.setExpanded(False)
    return added
