"""Load a run's reference layers (``referentie.gpkg``: BBG, contours, parks, farms, employers,
constraints, gemeenten) styled into the project, as a group under the result layer, drawn as the
engine's maps and the plugin's atlas draw them."""

from __future__ import annotations

import os
import sqlite3

from qgis.core import QgsFillSymbol, QgsProject, QgsSingleSymbolRenderer, QgsVectorLayer

from .atlas import symbology
from .vocabulary import MAP_COLOURS

__all__ = ["GROUP_NAME", "add_reference_group", "reference_layers"]

GROUP_NAME = "Referentielagen van de toetsing"

#: referentie.gpkg layer -> (Dutch name, atlas style key or None), top of the group first.
_LAYERS = (
    ("werkgevers", "Werkgevers", symbology.WERKGEVERS),
    ("veehouderijen", "Veehouderijen", symbology.VEEHOUDERIJEN),
    ("geurcontouren", "Geurcontouren", symbology.GEURCONTOUREN),
    ("recreatieparken", "Recreatieparken", symbology.RECREATIEPARKEN),
    ("bebouwde_kom", "Bebouwde kom (geur)", None),
    ("bebouwd_gebied", "Bestaand bebouwd gebied (BBG)", symbology.BEBOUWD_GEBIED),
    ("gemeenten", "Gemeentegrenzen", None),
)


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


def _outline(layer: QgsVectorLayer, colour: str, width: str, style: str = "solid") -> None:
    symbol = QgsFillSymbol.createSimple(
        {"style": "no", "outline_color": colour, "outline_width": width, "outline_style": style}
    )
    layer.setRenderer(QgsSingleSymbolRenderer(symbol))


def _styled(path: str, name: str) -> QgsVectorLayer | None:
    layer = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
    if not layer.isValid():
        return None
    known = {table: (label, key) for table, label, key in _LAYERS}
    if name.startswith("beperkingen."):
        _outline(layer, MAP_COLOURS["grey_text"], "0.5", "dash")
        layer.setName(f"Beperking: {name.split('.', 1)[1].replace('_', ' ')}")
        return layer
    label, key = known.get(name, (name, None))
    if key is not None:
        symbology.style_context(key, layer)
    elif name == "bebouwde_kom":
        _outline(layer, MAP_COLOURS["kom"], "0.4", "dash")
    elif name == "gemeenten":
        _outline(layer, MAP_COLOURS["boundary"], "0.6")
    layer.setName(label)
    return layer


def add_reference_group(project: QgsProject, result: QgsVectorLayer, path: str) -> list[str]:
    """Add the run's reference layers as a group right under ``result``; returns the layer names."""
    names = reference_layers(path)
    if not names or project is None:
        return []
    order = [table for table, _label, _key in _LAYERS]
    constraints = sorted(n for n in names if n.startswith("beperkingen."))
    ordered = [n for n in order[:2] if n in names] + constraints
    ordered += [n for n in order[2:] if n in names]
    ordered += [n for n in names if n not in ordered]
    root = project.layerTreeRoot()
    node = root.findLayer(result.id())
    parent = node.parent() if node is not None else root
    index = parent.children().index(node) + 1 if node is not None else 0
    group = parent.insertGroup(index, GROUP_NAME)
    added = []
    for name in ordered:
        layer = _styled(path, name)
        if layer is None:
            continue
        project.addMapLayer(layer, False)
        group.addLayer(layer)
        added.append(layer.name())
    group.setExpanded(False)
    return added
