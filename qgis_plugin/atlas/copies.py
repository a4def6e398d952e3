"""Memory copies of the map's input layers in one map CRS, so the user's layers are never touched.

A GeoPackage layer that mixes points and polygons (as the engine writes kandidaatlocaties) gets one
memory layer per geometry type; the maps draw and count it whole.
"""

from __future__ import annotations

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeature,
    QgsFeatureRequest,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsProcessingException,
    QgsVectorLayer,
    QgsWkbTypes,
)

__all__ = ["copies", "copy_layer", "gemeente_names", "map_crs", "points_first", "whole_layer"]


def map_crs(sites: QgsVectorLayer, gemeenten: QgsVectorLayer) -> QgsCoordinateReferenceSystem:
    for layer in (sites, gemeenten):
        crs = layer.crs()
        if crs.isValid() and not crs.isGeographic():
            return crs
    return QgsCoordinateReferenceSystem("EPSG:28992")


def whole_layer(layer: QgsVectorLayer, label: str, feedback) -> QgsVectorLayer:
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


def copy_layer(
    layer: QgsVectorLayer, crs, transform_context, name: str, feedback, extra=()
) -> QgsVectorLayer:
    """A memory copy of a layer of one geometry type (the first part of :func:`copies`)."""
    return copies(layer, crs, transform_context, name, feedback, extra)[0]


def copies(
    layer: QgsVectorLayer, crs, transform_context, name: str, feedback, extra=()
) -> list[QgsVectorLayer]:
    """Memory copies of a layer in the map CRS, one per geometry type it holds, plus extra empty
    fields.

    A GeoPackage layer of geometry type "Geometry" (points and polygons, as the engine writes
    mixed kandidaatlocaties) is reported by QGIS as the type of its first feature; a memory layer
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
    if declared not in (QgsWkbTypes.NullGeometry, QgsWkbTypes.UnknownGeometry) or len(buckets) == 1:
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
    result = []
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
        result.append(copy)
    return result


def points_first(layers: list[QgsVectorLayer]) -> list[QgsVectorLayer]:
    """Map layer order (top first): points above lines above polygons."""
    rank = {
        QgsWkbTypes.PointGeometry: 0,
        QgsWkbTypes.LineGeometry: 1,
        QgsWkbTypes.PolygonGeometry: 2,
    }
    return sorted(layers, key=lambda layer: rank.get(layer.geometryType(), 3))


def gemeente_names(gemeenten: QgsVectorLayer, name_field: str) -> list[str]:
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
