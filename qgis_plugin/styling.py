"""Style a result layer: categories on ``oordeel``, Dutch aliases, map tips with the reasons."""

from __future__ import annotations

from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsDataProvider,
    QgsEditorWidgetSetup,
    QgsField,
    QgsProcessingLayerPostProcessorInterface,
    QgsProject,
    QgsRendererCategory,
    QgsRuleBasedRenderer,
    QgsSymbol,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QVariant
from qgis.PyQt.QtGui import QColor

from .vocabulary import (
    FACILITY_PREFIX,
    FIELD_ALIASES,
    FIELD_DECIMALS,
    MAP_TIP,
    MAP_TIP_STAY,
    SHARE_DECIMALS,
    SHARE_FIELDS,
    VERDICT_COLOURS,
    YES_NO_FIELDS,
    facility_aliases,
    hex_colour,
    is_facility_field,
    kind_label,
)

__all__ = [
    "VERDICTS",
    "RUN_JSON_PROPERTY",
    "apply_result_style",
    "configure_result_fields",
    "field_alias",
    "geometry_kinds",
    "mixed_result_renderer",
    "save_style_in_geopackage",
    "ResultStyler",
]

#: Custom layer property: the run record (run.json) of the run that made a result layer.
RUN_JSON_PROPERTY = "locatietoets/run_json"


#: (value of ``oordeel``, Dutch label, colour). The empty value catches NULL: sites without
#: geometry.
#: From the plugin's copy of the vocabulary, so QGIS layers and atlases match the engine's maps and
#: QML.
VERDICTS = tuple((value, label, hex_colour(rgb)) for value, (label, rgb) in VERDICT_COLOURS.items())


def _field_or_first(layer: QgsVectorLayer, preferred: str | None) -> str:
    names = layer.fields().names()
    for candidate in (preferred, "id", "locatie_id", "naam"):
        if candidate and candidate in names:
            return candidate
    return names[0] if names else "oordeel"


def mixed_result_renderer(field: str = "oordeel") -> QgsRuleBasedRenderer:
    """Verdict colours for a layer of points and polygons: per verdict a marker rule and a fill
    rule.

    QGIS reports such a GeoPackage layer as the type of its first feature; one symbol type would
    leave
    the other type undrawn. Rules on ``geometry_type($geometry)`` draw each with its own symbol.
    """
    root = QgsRuleBasedRenderer.Rule(None)
    quoted = '"' + field.replace('"', '""') + '"'
    for value, label, colour in VERDICTS:
        if not value:  # sites without geometry are not drawn
            continue
        for geometry, kind, suffix in (
            ("Point", QgsWkbTypes.PointGeometry, "punt"),
            ("Polygon", QgsWkbTypes.PolygonGeometry, "vlak"),
        ):
            symbol = QgsSymbol.defaultSymbol(kind)
            symbol.setColor(QColor(colour))
            expression = f"{quoted} = '{value}' AND geometry_type($geometry) = '{geometry}'"
            root.appendChild(
                QgsRuleBasedRenderer.Rule(symbol, 0, 0, expression, f"{label} ({suffix})")
            )
    return QgsRuleBasedRenderer(root)


_DISTANCE = "_afstand_m"


def field_alias(name: str, names=()) -> str | None:
    """The Dutch alias of a result field, or of an input attribute renamed ``<naam>_invoer``
    because a result field has its name; ``None`` for other fields.

    ``names`` are the layer's fields, for the fields whose names depend on the run: a facility
    kind's ``voorziening_<soort>`` and ``voorziening_<soort>_afstand_m``, and a declared
    constraint's ``<naam>`` and ``<naam>_afstand_m`` (a pair of fields no other field forms).
    """
    if name in FIELD_ALIASES:
        return FIELD_ALIASES[name]
    if is_facility_field(name):
        kind = name[len(FACILITY_PREFIX) :]
        kind = kind[: -len(_DISTANCE)] if kind.endswith(_DISTANCE) else kind
        return facility_aliases(kind).get(name) if kind else None
    constraint = _constraint_of(name, names)
    if constraint:
        label = kind_label(constraint)
        return f"Beperking: {label}" if name == constraint else f"Afstand tot {label} (m)"
    base = name[: -len("_invoer")] if name.endswith("_invoer") else ""
    return f"{FIELD_ALIASES[base]} (invoer)" if base in FIELD_ALIASES else None


def _constraint_of(name: str, names) -> str | None:
    """The declared constraint whose field ``name`` is: ``<naam>`` beside ``<naam>_afstand_m``
    (the engine writes both, one after the other), neither a known result field."""
    base = name[: -len(_DISTANCE)] if name.endswith(_DISTANCE) else name
    if not base or base in FIELD_ALIASES or base.endswith("_invoer"):
        return None
    return base if base in names and f"{base}{_DISTANCE}" in names else None


def _range(digits: int) -> QgsEditorWidgetSetup:
    """A read-out of a number rounded to ``digits`` decimals (the identify panel and the attribute
    table show it so; the file keeps every digit)."""
    return QgsEditorWidgetSetup(
        "Range",
        {
            "Precision": digits,
            "AllowNull": True,
            "Min": -1e15,
            "Max": 1e15,
            "Step": 1,
            "Style": "SpinBox",
        },
    )


def configure_result_fields(layer: QgsVectorLayer) -> None:
    """How QGIS shows the result fields: a Dutch alias for every one, numbers rounded (distances to
    the metre, minutes to a tenth), shares as a percentage, truth values as ja/nee.

    A share (0..1) gets a virtual field ``<naam>_pct`` (the percentage, whole or to a tenth as
    ``SHARE_DECIMALS`` says) and the stored share
    is hidden from the identify panel and the attribute table; the file is not changed.
    """
    fields = layer.fields()
    names = set(fields.names())
    decimals = dict(FIELD_DECIMALS)
    for index, field in enumerate(fields):
        alias = field_alias(field.name(), names)
        if alias:
            layer.setFieldAlias(index, alias)
            if field.name().endswith(_DISTANCE):  # a facility's or constraint's distance
                decimals.setdefault(field.name(), 0)
    for name, digits in decimals.items():
        index = fields.indexOf(name)
        if index >= 0 and fields.at(index).type() == QVariant.Double:
            layer.setEditorWidgetSetup(index, _range(digits))
    # every truth value (also one a newer engine adds) reads ja/nee
    truths = [f.name() for f in fields if f.type() == QVariant.Bool]
    for name in dict.fromkeys([*YES_NO_FIELDS, *truths]):
        index = fields.indexOf(name)
        if index < 0:
            continue
        stored = ("true", "false") if fields.at(index).type() == QVariant.Bool else ("1", "0")
        layer.setEditorWidgetSetup(
            index,
            QgsEditorWidgetSetup("ValueMap", {"map": [{"ja": stored[0]}, {"nee": stored[1]}]}),
        )
    for name in SHARE_FIELDS:
        index = fields.indexOf(name)
        if index < 0:
            continue
        share = f"{name}_pct"
        if layer.fields().indexOf(share) < 0:
            quoted = '"' + name.replace('"', '""') + '"'
            digits = SHARE_DECIMALS.get(name, 0)
            if digits:  # a few tenths of a percent: 0,4
                expression = f"round({quoted} * 100, {digits})"
                layer.addExpressionField(expression, QgsField(share, QVariant.Double))
            else:
                layer.addExpressionField(f"round({quoted} * 100)", QgsField(share, QVariant.Int))
        layer.setFieldAlias(layer.fields().indexOf(share), f"{FIELD_ALIASES[name]} (%)")
        layer.setEditorWidgetSetup(index, QgsEditorWidgetSetup("Hidden", {}))


def apply_result_style(layer: QgsVectorLayer, *, id_field: str | None = None) -> None:
    """Give a result layer its categorised renderer (rules for points and polygons in one layer),
    Dutch aliases, rounded numbers, display expression and map tip."""
    if not isinstance(layer, QgsVectorLayer) or not layer.isValid():
        return
    fields = layer.fields()
    mixed = len(geometry_kinds(layer)) > 1 and "|geometrytype=" not in layer.source().lower()
    if fields.indexOf("oordeel") >= 0 and mixed:
        layer.setRenderer(mixed_result_renderer())
    elif fields.indexOf("oordeel") >= 0 and layer.geometryType() not in (
        QgsWkbTypes.NullGeometry,
        QgsWkbTypes.UnknownGeometry,
    ):
        categories = []
        for value, label, colour in VERDICTS:
            symbol = QgsSymbol.defaultSymbol(layer.geometryType())
            symbol.setColor(QColor(colour))
            categories.append(QgsRendererCategory(value, symbol, label, True))
        layer.setRenderer(QgsCategorizedSymbolRenderer("oordeel", categories))
    configure_result_fields(layer)
    key = _field_or_first(layer, id_field)
    layer.setDisplayExpression(
        f"\"{key}\" || ' — ' || coalesce(\"oordeel\", 'geen geometrie')"
        if fields.indexOf("oordeel") >= 0
        else f'"{key}"'
    )
    if fields.indexOf("redenen") >= 0:
        stay = MAP_TIP_STAY if fields.indexOf("verblijfstype") >= 0 else ""
        layer.setMapTipTemplate(
            MAP_TIP.replace("{id}", key.replace('"', '""')).replace("{stay}", stay)
        )
    layer.triggerRepaint()


def save_style_in_geopackage(
    path: str, *, layer_name: str | None = None, id_field: str | None = None
) -> str | None:
    """Store the result style as the default style inside a GeoPackage.

    Returns ``None`` on success, else the (Dutch or QGIS) error text.
    """
    uri = f"{path}|layername={layer_name}" if layer_name else path
    layer = QgsVectorLayer(uri, "locaties", "ogr")
    if not layer.isValid():
        return f"'{uri}' kan niet geopend worden om de stijl op te slaan"
    apply_result_style(layer, id_field=id_field)
    mixed = len(geometry_kinds(layer)) > 1
    error = layer.saveStyleToDatabase(
        "locatietoets", "Oordeel per locatie (Locatietoets)", True, ""
    )
    del layer
    if not error and mixed:
        error = _style_for_any_geometry_type(path)
    return error or None


def _style_for_any_geometry_type(path: str) -> str | None:
    """Drop the geometry type QGIS wrote into the stored style of a layer of points and polygons.

    QGIS refuses a style whose geometry type differs from the layer's; opened as one sublayer per
    type, the polygons would otherwise lose the (rule-based) style that draws both.
    """
    import re
    import sqlite3

    try:
        con = sqlite3.connect(path)
        try:
            rows = con.execute(
                "SELECT id, styleQML FROM layer_styles WHERE styleName = 'locatietoets'"
            ).fetchall()
            for row_id, qml in rows:
                cleaned = re.sub(r"<layerGeometryType>\d+</layerGeometryType>", "", qml or "")
                con.execute("UPDATE layer_styles SET styleQML = ? WHERE id = ?", (cleaned, row_id))
            con.commit()
        finally:
            con.close()
    except sqlite3.Error as exc:
        return f"stijl voor punten én vlakken niet aangepast: {exc}"
    return None


def geometry_kinds(layer: QgsVectorLayer) -> list[str]:
    """The geometry types (OGR names, e.g. ``Point``, ``Polygon``) a file layer holds; one for most
    layers.

    A GeoPackage layer of geometry type "Geometry" (the engine writes kandidaatlocaties of points
    and
    polygons so) is reported by QGIS as the type of its first feature; its sublayers list every
    type.
    """
    if (
        not isinstance(layer, QgsVectorLayer)
        or not layer.isValid()
        or layer.providerType() != "ogr"
    ):
        return []
    kinds: list[str] = []
    for sub in layer.dataProvider().subLayers():
        parts = sub.split(QgsDataProvider.sublayerSeparator())
        if len(parts) >= 4 and parts[3] not in kinds and parts[3] not in ("None", "Unknown"):
            kinds.append(parts[3])
    return kinds


class ResultStyler(QgsProcessingLayerPostProcessorInterface):
    """Applies :func:`apply_result_style` when Processing loads a result layer.

    Processing keeps only a raw pointer to post-processors, so Python must hold
    a reference: instances live in :attr:`_alive` until used.
    """

    _alive: list["ResultStyler"] = []

    def __init__(
        self,
        id_field: str | None = None,
        run_json: str | None = None,
        reference: str | None = None,
    ) -> None:
        super().__init__()
        self.id_field = id_field
        self.run_json = run_json
        #: the run's referentie.gpkg: its layers go into a group under the result, once
        self.reference = reference

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS API)
        if self.run_json and isinstance(layer, QgsVectorLayer):
            layer.setCustomProperty(RUN_JSON_PROPERTY, self.run_json)
        apply_result_style(layer, id_field=self.id_field)
        if self.reference and isinstance(layer, QgsVectorLayer):
            from .reference import add_reference_group  # the atlas imports this module

            project = context.project() if context is not None else None
            added = add_reference_group(project or QgsProject.instance(), layer, self.reference)
            if added and feedback is not None:
                feedback.pushInfo(f"Referentielagen geladen: {', '.join(added)}.")
            self.reference = None

    @classmethod
    def create(
        cls, id_field: str | None = None, run_json: str | None = None, reference: str | None = None
    ) -> "ResultStyler":
        styler = cls(id_field, run_json, reference)
        cls._alive.append(styler)
        del cls._alive[
            :-200
        ]  # Processing uses each one once, right after its run (batch: one per run)
        return styler
