"""How the woonvisie maps draw their layers: gemeenten (fill, boundaries with names, the inset),
the sites by verdict (other gemeenten faded, best verdicts on top) and the context layers."""

from __future__ import annotations

from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsCentroidFillSymbolLayer,
    QgsFeatureRequest,
    QgsFillSymbol,
    QgsLinePatternFillSymbolLayer,
    QgsLineSymbol,
    QgsMarkerSymbol,
    QgsPalLayerSettings,
    QgsProcessing,
    QgsProject,
    QgsProperty,
    QgsRendererCategory,
    QgsRuleBasedRenderer,
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
from qgis.PyQt.QtGui import QColor, QFont

from ..styling import VERDICTS

# _C: the colours of the command-line maps (layers/publish/maps.py), so both kinds of maps read
# the same.
from ..vocabulary import (
    CONSTRAINT_COLOURS,
    FACILITY_COLOURS,
    MAP_COLOURS as _C,
    VERDICTS as VERDICT_VALUES,
    reference_label,
    stay_label,
)
from .coverage import IS_OVERVIEW, OVERVIEW, focus_expr
from .texts import font_family

__all__ = [
    "CONTEXT",
    "REFERENCE_CONTEXT",
    "legend_tree",
    "reference_order",
    "marker_size",
    "style_boundaries",
    "style_context",
    "style_gemeenten_fill",
    "style_inset",
    "style_reference",
    "style_sites",
]

#: Context layers (the algorithm's parameter names): key, Dutch label (parameter and legend),
#: accepted geometry types.
BEBOUWD_GEBIED = "BEBOUWD_GEBIED"
GEURCONTOUREN = "GEURCONTOUREN"
RECREATIEPARKEN = "RECREATIEPARKEN"
VEEHOUDERIJEN = "VEEHOUDERIJEN"
WERKGEVERS = "WERKGEVERS"
CONTEXT = (
    (BEBOUWD_GEBIED, "Bestaand bebouwd gebied (BBG)", (QgsProcessing.TypeVectorPolygon,)),
    (GEURCONTOUREN, "Geurcontouren", (QgsProcessing.TypeVectorPolygon,)),
    (RECREATIEPARKEN, "Recreatieparken", (QgsProcessing.TypeVectorPolygon,)),
    (
        VEEHOUDERIJEN,
        "Veehouderijen",
        (QgsProcessing.TypeVectorPoint, QgsProcessing.TypeVectorPolygon),
    ),
    (WERKGEVERS, "Werkgevers", (QgsProcessing.TypeVectorPoint, QgsProcessing.TypeVectorPolygon)),
)
#: The referentie.gpkg layers drawn with the style of a context layer parameter.
REFERENCE_CONTEXT = {
    "bebouwd_gebied": BEBOUWD_GEBIED,
    "geurcontouren": GEURCONTOUREN,
    "recreatieparken": RECREATIEPARKEN,
    "veehouderijen": VEEHOUDERIJEN,
    "werkgevers": WERKGEVERS,
}


def marker_size(n_sites: int) -> float:
    """Marker diameter (mm) of a site: 3 mm up to 300 sites, smaller when more would cover the map,
    at least 1.6."""
    if n_sites <= 300:
        return 3.0
    return max(1.6, 3.0 * (300.0 / n_sites) ** 0.5)


def style_gemeenten_fill(layer: QgsVectorLayer, name_field: str) -> None:
    root = QgsRuleBasedRenderer.Rule(None)
    for label, expression, colour in (
        ("Gemeente op de kaart", focus_expr(name_field), _C["focus_fill"]),
        ("Andere gemeente", "ELSE", _C["other_gemeente"]),
    ):
        symbol = QgsFillSymbol.createSimple({"color": colour, "outline_style": "no"})
        rule = QgsRuleBasedRenderer.Rule(
            symbol, 0, 0, "" if expression == "ELSE" else expression, label
        )
        if expression == "ELSE":
            rule.setIsElse(True)
        root.appendChild(rule)
    layer.setRenderer(QgsRuleBasedRenderer(root))


def style_inset(layer: QgsVectorLayer, name_field: str) -> None:
    """The inset's gemeenten: the page's gemeente dark, the others light, so "where is it" reads
    at a glance."""
    focus = f'(NOT {IS_OVERVIEW} AND "{name_field}" = @atlas_pagename)'
    root = QgsRuleBasedRenderer.Rule(None)
    for label, expression, colour in (
        ("Gekozen gemeente", focus, "#4d4d4d"),
        ("Andere gemeente", f"NOT {focus}", "#f7f7f7"),
    ):
        symbol = QgsFillSymbol.createSimple(
            {"color": colour, "outline_color": _C["boundary"], "outline_width": "0.15"}
        )
        root.appendChild(QgsRuleBasedRenderer.Rule(symbol, 0, 0, expression, label))
    layer.setRenderer(QgsRuleBasedRenderer(root))


def style_boundaries(layer: QgsVectorLayer, name_field: str, n_gemeenten: int) -> None:
    focus = f'(NOT {IS_OVERVIEW} AND "{name_field}" = @atlas_pagename)'
    root = QgsRuleBasedRenderer.Rule(None)
    for label, expression, colour, width in (
        ("Gemeentegrens", f"NOT {focus}", _C["boundary"], "0.3"),
        ("Grens van de gekozen gemeente", focus, _C["text"], "0.7"),
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
    renderer.setOrderBy(QgsFeatureRequest.OrderBy([QgsFeatureRequest.OrderByClause(focus, True)]))
    renderer.setOrderByEnabled(True)
    layer.setRenderer(renderer)

    settings = QgsPalLayerSettings()
    settings.fieldName = name_field
    # horizontal, anywhere inside the gemeente where no site is (sites are label obstacles)
    settings.placement = QgsPalLayerSettings.Horizontal
    settings.centroidInside = True
    settings.obstacle = False
    fmt = QgsTextFormat()
    fmt.setFont(QFont(font_family()))
    fmt.setSizeUnit(QgsUnitTypes.RenderPoints)
    fmt.setSize(7.5)
    fmt.setColor(QColor(_C["grey_text"]))
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
            f"CASE WHEN {IS_OVERVIEW} THEN {small} WHEN {focus} THEN 10 ELSE 7.5 END"
        ),
    )
    props.setProperty(
        QgsPalLayerSettings.Bold, QgsProperty.fromExpression(f"{IS_OVERVIEW} OR {focus}")
    )
    props.setProperty(
        QgsPalLayerSettings.Italic,
        QgsProperty.fromExpression(f"NOT ({IS_OVERVIEW} OR {focus})"),
    )
    props.setProperty(
        QgsPalLayerSettings.Color,
        QgsProperty.fromExpression(
            f"CASE WHEN {IS_OVERVIEW} OR {focus} THEN '{_C['text']}' ELSE '{_C['grey_text']}' END"
        ),
    )
    settings.setDataDefinedProperties(props)
    layer.setLabeling(QgsVectorLayerSimpleLabeling(settings))
    layer.setLabelsEnabled(True)


def style_sites(layer: QgsVectorLayer, verdict_field: str, stay: str, counts) -> list[QgsSymbol]:
    """Categories on the stay type's verdict, colours and labels of the plugin style; other
    gemeenten faded."""
    focus = f'({IS_OVERVIEW} OR "kaart_gemeente" = @atlas_pagename)'
    polygon = layer.geometryType() == QgsWkbTypes.PolygonGeometry
    size = marker_size(counts[OVERVIEW]["totaal"] - counts[OVERVIEW]["geen_geometrie"])
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


def style_context(key: str, layer: QgsVectorLayer, n_parts: int = 1) -> QgsVectorLayer:
    """Style one (part of a) context layer; a layer of points and polygons gets
    "(punten)"/"(vlakken)"."""
    kind = layer.geometryType()
    if key == BEBOUWD_GEBIED:
        symbol = QgsFillSymbol.createSimple({"color": _C["bbg"], "outline_style": "no"})
    elif key == GEURCONTOUREN:
        symbol = QgsFillSymbol.createSimple(
            {
                "color": "118,42,131,60",
                "outline_color": "118,42,131,200",
                "outline_width": "0.25",
            }
        )
        layer.setName("Geurcontour")
    elif key == RECREATIEPARKEN:
        symbol = QgsFillSymbol.createSimple(
            {"style": "no", "outline_color": _C["park"], "outline_width": "0.35"}
        )
        hatch = QgsLinePatternFillSymbolLayer()
        hatch.setLineAngle(45)
        hatch.setDistance(1.2)
        hatch.setLineWidth(0.2)
        hatch.setColor(QColor(_C["park"]))
        symbol.insertSymbolLayer(0, hatch)  # takes ownership
        layer.setName("Recreatiepark")
    else:
        colour, shape, size, name = (
            (_C["farm"], "triangle", "2.4", "Veehouderij")
            if key == VEEHOUDERIJEN
            else (_C["employer"], "square", "2.6", "Werkgever")
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


def legend_tree(project: QgsProject, sites, context_layers, boundary) -> None:
    root = project.layerTreeRoot()
    root.addLayer(sites)
    group = root.addGroup("Ruimtelijke lagen")
    for layer in context_layers:
        group.addLayer(layer)
    group.addLayer(boundary)


def reference_order(names) -> list[str]:
    """referentie.gpkg layer names, top of the map (and legend) first: facilities, existing
    housing, employers and farms (points) above the constraints, kernen, contours, parks, the
    bebouwde kom and the BBG; gemeenten last."""

    def rank(name: str) -> tuple[int, str]:
        for r, prefix in enumerate(
            (
                "voorzieningen.",
                "bestaande_huisvesting",
                "werkgevers",
                "veehouderijen",
                "beperkingen.",
                "kernen",
                "geurcontouren",
                "recreatieparken",
                "bebouwde_kom",
                "bebouwd_gebied",
                "gemeenten",
            )
        ):
            if name == prefix or (prefix.endswith(".") and name.startswith(prefix)):
                return r, name
        return 99, name

    return sorted(names, key=rank)


def _declared_colour(name: str, names, prefix: str, colours) -> str:
    """The colour of a declared layer: its place among the run's layers of its kind (sorted, as
    the command-line maps count)."""
    kinds = sorted(n for n in names if n.startswith(prefix))
    k = kinds.index(name) if name in kinds else 0
    return colours[k % len(colours)]


def style_reference(name: str, layer: QgsVectorLayer, names, n_parts: int = 1) -> QgsVectorLayer:
    """Style (one geometry type of) a referentie.gpkg layer as the command-line maps draw it
    (layers/publish/maps.py): same colours and legend names; ``names`` are all the run's
    reference layers (a declared layer's colour is its place among them)."""
    kind = layer.geometryType()
    if name in REFERENCE_CONTEXT:
        style_context(REFERENCE_CONTEXT[name], layer, n_parts)
        if name == "bebouwd_gebied":
            layer.setName(reference_label(name))
        return layer
    label = reference_label(name)
    if name.startswith("beperkingen."):
        colour = _declared_colour(name, names, "beperkingen.", CONSTRAINT_COLOURS)
        if kind == QgsWkbTypes.PolygonGeometry:
            symbol = QgsFillSymbol.createSimple(
                {"style": "no", "outline_color": colour, "outline_width": "0.35"}
            )
            hatch = QgsLinePatternFillSymbolLayer()
            hatch.setLineAngle(135)
            hatch.setDistance(1.2)
            hatch.setLineWidth(0.2)
            hatch.setColor(QColor(colour))
            symbol.insertSymbolLayer(0, hatch)  # takes ownership
        elif kind == QgsWkbTypes.LineGeometry:
            symbol = QgsLineSymbol.createSimple({"line_color": colour, "line_width": "0.45"})
        else:
            symbol = QgsMarkerSymbol.createSimple(
                {"name": "cross2", "color": colour, "outline_color": colour, "size": "2.0"}
            )
    elif name.startswith("voorzieningen."):
        colour = _declared_colour(name, names, "voorzieningen.", FACILITY_COLOURS)
        symbol = QgsMarkerSymbol.createSimple(
            {
                "name": "cross_fill",
                "color": colour,
                "size": "3.4",
                "outline_color": "white",
                "outline_width": "0.1",
            }
        )
    elif name == "bestaande_huisvesting":
        symbol = QgsMarkerSymbol.createSimple(
            {
                "name": "diamond",
                "color": _C["housing"],
                "size": "2.6",
                "outline_color": "white",
                "outline_width": "0.15",
            }
        )
    elif name == "kernen":
        if kind == QgsWkbTypes.PolygonGeometry:
            symbol = QgsFillSymbol.createSimple(
                {
                    "style": "no",
                    "outline_color": _C["kern"],
                    "outline_width": "0.35",
                    "outline_style": "dot",
                }
            )
        else:
            symbol = QgsMarkerSymbol.createSimple(
                {
                    "name": "circle",
                    "color": "0,0,0,0",
                    "size": "1.6",
                    "outline_color": _C["kern"],
                    "outline_width": "0.25",
                }
            )
    elif name == "bebouwde_kom":
        symbol = QgsFillSymbol.createSimple(
            {
                "style": "no",
                "outline_color": _C["kom"],
                "outline_width": "0.4",
                "outline_style": "dash",
            }
        )
    elif name == "gemeenten":
        symbol = QgsFillSymbol.createSimple(
            {"style": "no", "outline_color": _C["boundary"], "outline_width": "0.6"}
        )
    else:
        symbol = QgsSymbol.defaultSymbol(kind)
    if symbol is None or symbol.type() != QgsSymbol.symbolTypeForGeometryType(kind):
        symbol = QgsSymbol.defaultSymbol(kind)
    if symbol is not None:
        layer.setRenderer(QgsSingleSymbolRenderer(symbol))
    if n_parts > 1:
        label += {
            QgsWkbTypes.PointGeometry: " (punt)",
            QgsWkbTypes.LineGeometry: " (lijn)",
            QgsWkbTypes.PolygonGeometry: " (vlak)",
        }.get(kind, "")
    layer.setName(label)
    return layer
