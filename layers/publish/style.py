"""The default QGIS style (QML) of the result layer: categorised on ``oordeel``.

The style is stored in the GeoPackage's ``layer_styles`` table, so QGIS opens
the result coloured by verdict, with Dutch labels, field aliases and a map
tip that shows the reasons.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
import sqlite3
from xml.sax.saxutils import escape, quoteattr

# One vocabulary (analysis/vocabulary.py): verdict colours and field aliases, re-exported here.
from locatietoets.analysis.vocabulary import (
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
    is_facility_field,
    kind_label,
)

__all__ = [
    "VERDICT_COLOURS",
    "FIELD_ALIASES",
    "field_alias",
    "field_decimals",
    "result_qml",
    "store_layer_style",
]


def _opt(name: str, value: str) -> str:
    return f'<Option type="QString" name={quoteattr(name)} value={quoteattr(value)}/>'


def _symbol(index: int, kind: str, rgb: tuple[int, int, int]) -> str:
    colour = f"{rgb[0]},{rgb[1]},{rgb[2]},255"
    if kind == "marker":
        layer_class = "SimpleMarker"
        options = [
            _opt("color", colour),
            _opt("name", "circle"),
            _opt("outline_color", "50,50,50,255"),
            _opt("outline_style", "solid"),
            _opt("outline_width", "0.2"),
            _opt("outline_width_unit", "MM"),
            _opt("size", "2.6"),
            _opt("size_unit", "MM"),
        ]
    else:
        layer_class = "SimpleFill"
        options = [
            _opt("color", colour),
            _opt("outline_color", "50,50,50,255"),
            _opt("outline_style", "solid"),
            _opt("outline_width", "0.26"),
            _opt("outline_width_unit", "MM"),
            _opt("style", "solid"),
        ]
    return (
        f'<symbol type="{kind}" name="{index}" alpha="1" clip_to_extent="1"'
        ' force_rhr="0"><data_defined_properties><Option type="Map"><Option type="QString"'
        ' name="name" value=""/><Option name="properties"/><Option type="QString" name="type"'
        f' value="collection"/></Option></data_defined_properties><layer class="{layer_class}"'
        ' enabled="1" pass="0" locked="0"><Option'
        f' type="Map">{"".join(options)}</Option></layer></symbol>'
    )


def _mixed_renderer() -> str:
    """A rule-based renderer for a layer of points and polygons: per verdict a marker rule and a
    fill rule.

    QGIS reports such a GeoPackage layer (geometry type "Geometry") as the type of its first feature
    and
    opens it as one layer or as one sublayer per type; a categorised renderer has one symbol type
    and
    leaves the other type undrawn (or the style is refused). Rules on ``geometry_type($geometry)``
    draw
    both in all three cases. Fixed rule keys keep the GeoPackage byte-identical between runs.
    """
    rules = []
    symbols = []
    n = 0
    for value, (label, rgb) in VERDICT_COLOURS.items():
        if not value:  # sites without geometry are not drawn
            continue
        for geometry, kind, suffix in (("Point", "marker", "punt"), ("Polygon", "fill", "vlak")):
            expression = f"\"oordeel\" = '{value}' AND geometry_type($geometry) = '{geometry}'"
            rules.append(
                f'<rule key="oordeel_{n}" symbol="{n}" filter={quoteattr(expression)} '
                f"label={quoteattr(f'{label} ({suffix})')}/>"
            )
            symbols.append(_symbol(n, kind, rgb))
            n += 1
    return (
        '<renderer-v2 type="RuleRenderer" symbollevels="0" enableorderby="0" forceraster="0"'
        ' referencescale="-1">'
        f'<rules key="oordeel_root">{"".join(rules)}</rules>'
        f"<symbols>{''.join(symbols)}</symbols>"
        "</renderer-v2>"
    )


_DISTANCE = "_afstand_m"


def field_alias(name: str, names: Iterable[str] = ()) -> str | None:
    """The Dutch alias of a result field, of its percentage ``<naam>_pct`` or of an input attribute
    renamed ``<naam>_invoer`` because a result field has its name; ``None`` for other fields.

    ``names`` are the layer's fields, for the fields whose names depend on the run (as the plugin
    names them, qgis_plugin/styling.py): a facility kind's ``voorziening_<soort>`` and
    ``voorziening_<soort>_afstand_m``, and a declared constraint's ``<naam>`` and
    ``<naam>_afstand_m`` (a pair of fields no other field forms).
    """
    if name in FIELD_ALIASES:
        return FIELD_ALIASES[name]
    if name.endswith("_pct") and name[: -len("_pct")] in SHARE_FIELDS:
        return f"{FIELD_ALIASES[name[: -len('_pct')]]} (%)"
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


def _constraint_of(name: str, names: Iterable[str]) -> str | None:
    """The declared constraint whose field ``name`` is: ``<naam>`` beside ``<naam>_afstand_m``
    (the engine writes both, one after the other), neither a known result field."""
    base = name[: -len(_DISTANCE)] if name.endswith(_DISTANCE) else name
    if not base or base in FIELD_ALIASES or base.endswith("_invoer"):
        return None
    names = set(names)
    return base if base in names and f"{base}{_DISTANCE}" in names else None


def _input_alias(name: str) -> str:
    """``personen`` -> "personen (invoer)"; an input attribute renamed because a result field of
    the run has its name, ``natura2000_invoer``, -> "natura2000 (invoer)"."""
    base = name[: -len("_invoer")] if name.endswith("_invoer") else name
    return f"{base or name} (invoer)"


def field_decimals(fields: Iterable[str]) -> dict[str, int]:
    """Decimals the number fields among ``fields`` show with: those of
    :data:`~analysis.vocabulary.FIELD_DECIMALS` and, to the metre, the distances of the run's
    facility kinds and declared constraints."""
    fields = list(fields)
    decimals = {name: FIELD_DECIMALS[name] for name in fields if name in FIELD_DECIMALS}
    for name in fields:
        if name.endswith(_DISTANCE) and name not in decimals and field_alias(name, fields):
            decimals[name] = 0
    return decimals


def _widget(field: str, kind: str, options: str = "") -> str:
    config = f'<Option type="Map">{options}</Option>' if options else "<Option/>"
    return (
        f'<field name={quoteattr(field)} configurationFlags="None">'
        f'<editWidget type="{kind}"><config>{config}</config></editWidget></field>'
    )


def _field_display(fields: list[str]) -> tuple[str, str, list[str]]:
    """How QGIS shows the fields (as the plugin sets them, qgis_plugin/styling.py): numbers rounded
    for display (distances to the metre, minutes to a tenth), truth values as ja/nee, shares as a
    percentage (whole, or as :data:`~analysis.vocabulary.SHARE_DECIMALS` says) in a virtual field
    ``<naam>_pct`` with the stored share hidden.

    Returns the ``fieldConfiguration`` and ``expressionfields`` content and the virtual fields.
    """
    config = []
    expressions = []
    virtual = []
    decimals = field_decimals(fields)
    for name in fields:
        if name in decimals:
            options = "".join(
                [
                    '<Option type="bool" name="AllowNull" value="true"/>',
                    '<Option type="double" name="Max" value="1e+15"/>',
                    '<Option type="double" name="Min" value="-1e+15"/>',
                    f'<Option type="int" name="Precision" value="{decimals[name]}"/>',
                    '<Option type="double" name="Step" value="1"/>',
                    '<Option type="QString" name="Style" value="SpinBox"/>',
                ]
            )
            config.append(_widget(name, "Range", options))
        elif name in YES_NO_FIELDS:
            options = (
                '<Option type="List" name="map">'
                '<Option type="Map"><Option type="QString" name="ja" value="true"/></Option>'
                '<Option type="Map"><Option type="QString" name="nee" value="false"/></Option>'
                "</Option>"
            )
            config.append(_widget(name, "ValueMap", options))
        elif name in SHARE_FIELDS:
            config.append(_widget(name, "Hidden"))
            virtual.append(f"{name}_pct")
            digits = SHARE_DECIMALS.get(name, 0)
            rounded = f'round("{name}" * 100{f", {digits}" if digits else ""})'
            kind = (
                f'type="6" typeName="double" precision="{digits}"'
                if digits
                else 'type="2" typeName="integer" precision="0"'
            )
            expressions.append(
                f"<field name={quoteattr(f'{name}_pct')} expression={quoteattr(rounded)}"
                f' {kind} length="0" subType="0" comment=""/>'
            )
    return "".join(config), "".join(expressions), virtual


def result_qml(*, polygon: bool, fields: list[str], mixed: bool = False) -> str:
    """Return the QML style of a result layer.

    Parameters
    ----------
    polygon
        True for polygon sites (fill symbols), False for points (markers).
    fields
        The layer's attribute fields, for aliases and rounding; any that is no result field (see
        :func:`field_alias`) is an input attribute, aliased ``<naam> (invoer)``.
    mixed
        True for a layer of points and polygons: rules draw each with its own symbol, and the style
        names no geometry type, so QGIS applies it to the whole layer and to each geometry-type
        sublayer.
    """
    kind = "fill" if polygon else "marker"
    categories = []
    symbols = []
    for i, (value, (label, rgb)) in enumerate(VERDICT_COLOURS.items()):
        categories.append(
            f'<category render="true" symbol="{i}" value={quoteattr(value)}'
            f" label={quoteattr(label)}/>"
        )
        symbols.append(_symbol(i, kind, rgb))
    renderer = (
        '<renderer-v2 type="categorizedSymbol" attr="oordeel" symbollevels="0" enableorderby="0"'
        ' forceraster="0" referencescale="-1">'
        f"<categories>{''.join(categories)}</categories>"
        f"<symbols>{''.join(symbols)}</symbols>"
        "<rotation/><sizescale/>"
        "</renderer-v2>"
    )
    if mixed:
        renderer = _mixed_renderer()
    field_config, expression_fields, virtual = _field_display(fields)
    # the input attributes the result carries (after the result fields) keep their own name,
    # marked as input as the renamed ones are: every field of the layer has an alias
    named = [(f, field_alias(f, fields) or _input_alias(f)) for f in [*fields, *virtual]]
    # the GeoPackage's feature id (an input attribute 'fid' is written as fid_invoer)
    named.append(("fid", "Objectnummer (GeoPackage)"))
    aliases = "".join(
        f'<alias field={quoteattr(f)} name={quoteattr(alias)} index="{i}"/>'
        for i, (f, alias) in enumerate(named)
        if alias
    )
    stay = MAP_TIP_STAY if "verblijfstype" in fields else ""
    maptip = escape(MAP_TIP.replace("{id}", "locatie_id").replace("{stay}", stay))
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        '<qgis version="3.22.16-Białowieża" styleCategories="Symbology|Fields|MapTips|Forms">'
        f"{renderer}"
        f"<fieldConfiguration>{field_config}</fieldConfiguration>"
        f"<aliases>{aliases}</aliases>"
        f"<expressionfields>{expression_fields}</expressionfields>"
        f"<mapTip>{maptip}</mapTip>"
        '<previewExpression>"locatie_id"</previewExpression>'
        + (
            ""
            if mixed
            else "<layerGeometryType>" + ("2" if polygon else "0") + "</layerGeometryType>"
        )
        + "</qgis>\n"
    )


def store_layer_style(
    path: Path,
    layer: str,
    qml: str,
    *,
    name: str,
    description: str,
    update_time: str,
) -> None:
    """Store ``qml`` as the default style of ``layer`` in the GeoPackage ``path``.

    The style goes into the ``layer_styles`` table (created when missing and
    registered in ``gpkg_contents``), which QGIS reads when it opens the
    layer. ``update_time`` is the fixed timestamp the caller also gave GDAL
    (``OGR_CURRENT_DATE``), so the same inputs give byte-identical files.
    The file must be in a staged folder (:func:`layers.io.write.staged_output`):
    it is only moved into place when complete, so no fsync is done here (it
    would flush the whole freshly written GeoPackage: seconds at 1M sites).
    """
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA synchronous = OFF")
        con.execute(
            """CREATE TABLE IF NOT EXISTS layer_styles (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256),
                f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
                useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
                update_time DATETIME)"""
        )
        geom_col = con.execute(
            "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (layer,)
        ).fetchone()[0]
        con.execute(
            """INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name,
               f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner,
               ui, update_time) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', NULL, ?)""",
            (layer, geom_col, name, qml, description, update_time),
        )
        con.execute(
            """INSERT OR REPLACE INTO gpkg_contents
               (table_name, data_type, identifier, description, last_change)
               VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS-stijlen', ?)""",
            (update_time,),
        )
        con.commit()
    finally:
        con.close()
