"""The atlas coverage: one "overzicht" page (all gemeenten) plus one page per gemeente, and the
verdict counts of each page; the expressions that tell the overview page from a gemeente page."""

from __future__ import annotations

from qgis.core import QgsFeature, QgsField, QgsGeometry, QgsVectorLayer
from qgis.PyQt.QtCore import QVariant

from ..vocabulary import VERDICTS as VERDICT_VALUES
from .texts import key_figures_text, slugify

__all__ = ["IS_OVERVIEW", "OVERVIEW", "build_coverage", "focus_expr"]

OVERVIEW = "overzicht"

#: True on the overview page (an atlas feature of soort 'overzicht', or no atlas at all).
IS_OVERVIEW = f"coalesce(attribute(@atlas_feature, 'soort'), '{OVERVIEW}') = '{OVERVIEW}'"


def focus_expr(field: str) -> str:
    """True for features of the atlas page's gemeente (all features on the overview)."""
    return f'({IS_OVERVIEW} OR "{field}" = @atlas_pagename)'


def build_coverage(gemeenten, name_field, names, site_parts, verdict_field, stay, crs):
    """The atlas coverage: the overview (union of all gemeenten) plus one feature per gemeente.

    Also fills ``kaart_gemeente`` of the sites (every part: one layer per geometry type): the
    engine's ``gemeente`` when it names one of the gemeenten, else the gemeente that contains the
    site. Returns the layer and the counts per page.
    """
    geometries: dict[str, list[QgsGeometry]] = {n: [] for n in names}
    for feature in gemeenten.getFeatures():
        value = feature[name_field]
        if value in geometries and feature.hasGeometry():
            geometries[value].append(feature.geometry())
    merged = {n: QgsGeometry.unaryUnion(g) if len(g) > 1 else g[0] for n, g in geometries.items()}
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
                    if box.contains(point.asPoint()) and engine_obj.intersects(point.constGet()):
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

    layer = QgsVectorLayer(f"MultiPolygon?crs={crs.authid() or 'EPSG:28992'}", "Atlas", "memory")
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
            [name, kind, order, stem, key, key_figures_text(counts[key], cap_index >= 0)]
        )
        geometry = QgsGeometry(geometry)
        geometry.convertToMultiType()
        feature.setGeometry(geometry)
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    layer.updateExtents()
    return layer, counts
