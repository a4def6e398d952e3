"""The default QGIS style (QML) of the result layer: categorised on ``oordeel``.

The style is stored in the GeoPackage's ``layer_styles`` table, so QGIS opens
the result coloured by verdict, with Dutch labels, field aliases and a map
tip that shows the reasons.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

# One vocabulary (analysis/vocabulary.py): verdict colours and field aliases, re-exported here.
from locatietoets.analysis.vocabulary import FIELD_ALIASES, VERDICT_COLOURS

__all__ = ["VERDICT_COLOURS", "FIELD_ALIASES", "result_qml"]


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


def result_qml(*, polygon: bool, fields: list[str], mixed: bool = False) -> str:
    """Return the QML style of a result layer.

    Parameters
    ----------
    polygon
        True for polygon sites (fill symbols), False for points (markers).
    fields
        The layer's attribute fields, for aliases.
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
    aliases = "".join(
        f'<alias field={quoteattr(f)} name={quoteattr(FIELD_ALIASES[f])} index="{i}"/>'
        for i, f in enumerate(fields)
        if f in FIELD_ALIASES
    )
    maptip = escape(
        '<b>[% "locatie_id" %]</b> — [% "oordeel" %] ([% "verblijfstype" %], score [% "score"'
        " %])<br>[% replace(\"redenen\", '; ', '<br>') %]"
    )
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        '<qgis version="3.22.16-Białowieża" styleCategories="Symbology|Fields|MapTips|Forms">'
        f"{renderer}"
        f"<aliases>{aliases}</aliases>"
        f"<mapTip>{maptip}</mapTip>"
        '<previewExpression>"locatie_id"</previewExpression>'
        + (
            ""
            if mixed
            else "<layerGeometryType>" + ("2" if polygon else "0") + "</layerGeometryType>"
        )
        + "</qgis>\n"
    )
