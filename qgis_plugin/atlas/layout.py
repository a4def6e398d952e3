"""The A4 print layout of the woonvisie maps: title, main map with north arrow and scale bar, the
side panel (legend, key figures, inset) and the footer (credits, CRS, disclaimer), atlas-driven."""

from __future__ import annotations

from datetime import date
import os

from qgis.core import (
    QgsApplication,
    QgsFillSymbol,
    QgsLayoutItemLabel,
    QgsLayoutItemLegend,
    QgsLayoutItemMap,
    QgsLayoutItemMapOverview,
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
    QgsMapLayerLegendUtils,
    QgsPrintLayout,
    QgsProperty,
    QgsRectangle,
    QgsScaleBarSettings,
    QgsSymbol,
    QgsTextFormat,
    QgsUnitTypes,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QColor, QFont

from ..vocabulary import MAP_COLOURS as _C, stay_label
from .coverage import IS_OVERVIEW
from .texts import DEMO_MARK, font_family

__all__ = ["build_layout", "fit_extent"]

# Page geometry (mm), A4 landscape.
_PAGE_W, _PAGE_H = 297.0, 210.0
_MARGIN = 10.0
_MAP_X, _MAP_Y, _MAP_W, _MAP_H = _MARGIN, 27.0, 203.0, 163.0
_SIDE_X = _MAP_X + _MAP_W + 7.0
_SIDE_W = _PAGE_W - _MARGIN - _SIDE_X


def fit_extent(extent: QgsRectangle, width_mm: float, height_mm: float, pad: float) -> QgsRectangle:
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


def _label(
    layout,
    text: str,
    x: float,
    y: float,
    w: float,
    h: float,
    *,
    size: float = 8.0,
    bold: bool = False,
    colour: str = _C["text"],
    align=Qt.AlignLeft,
    valign=Qt.AlignTop,
    item_id: str = "",
) -> QgsLayoutItemLabel:
    label = QgsLayoutItemLabel(layout)
    label.setText(text)
    font = QFont(font_family())
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


def build_layout(
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

    family = font_family()
    head = f"Geschiktheid {stay_label(stay)}"
    _label(
        layout,
        f"{head} — [% CASE WHEN {IS_OVERVIEW} THEN 'overzicht alle gemeenten' "
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
    _label(
        layout,
        sub,
        _MARGIN,
        18.5,
        230.0,
        6.0,
        size=9.5,
        colour=_C["grey_text"],
        item_id="ondertitel",
    )
    if demo:
        _label(
            layout,
            f"{DEMO_MARK}\ngeen echte gegevens",
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
    main.setBackgroundColor(QColor(_C["outside"]))
    main.setFrameEnabled(True)
    main.setFrameStrokeColor(QColor("#444444"))
    main.setFrameStrokeWidth(QgsLayoutMeasurement(0.3, QgsUnitTypes.LayoutMillimeters))
    main.setExtent(
        fit_extent(coverage.extent(), _MAP_W, _MAP_H, 0.04)
    )  # same aspect: the item keeps its size
    main.setAtlasDriven(True)
    main.setAtlasScalingMode(QgsLayoutItemMap.Auto)
    main.setAtlasMargin(0.06)
    layout.addLayoutItem(main)

    # north arrow: an SVG of QGIS, else a text arrow
    svg = _north_svg()
    if svg:
        arrow = QgsLayoutItemPicture(layout)
        arrow.setPicturePath(svg)
        arrow.setSvgFillColor(QColor(_C["text"]))
        arrow.setSvgStrokeColor(QColor(_C["text"]))
        arrow.setLinkedMap(main)
        arrow.setNorthMode(QgsLayoutItemPicture.GridNorth)
        arrow.attemptMove(
            QgsLayoutPoint(_MAP_X + _MAP_W - 14.0, _MAP_Y + 3.0, QgsUnitTypes.LayoutMillimeters)
        )
        arrow.attemptResize(QgsLayoutSize(10.0, 16.0, QgsUnitTypes.LayoutMillimeters))
        arrow.setId("noordpijl")
        layout.addLayoutItem(arrow)
    else:
        _label(
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
    box.setSymbol(QgsFillSymbol.createSimple({"color": "255,255,255,215", "outline_style": "no"}))
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
    bar_format.setColor(QColor(_C["text"]))
    bar.setTextFormat(bar_format)
    bar.setBackgroundEnabled(False)
    bar.setFrameEnabled(False)
    bar.attemptMove(
        QgsLayoutPoint(_MAP_X + 5.0, _MAP_Y + _MAP_H - 12.0, QgsUnitTypes.LayoutMillimeters)
    )
    bar.setId("schaalbalk")
    layout.addLayoutItem(bar)
    bar.update()
    scale_text = _label(
        layout,
        "Schaal 1:[% replace(format_number(round(item_variables('kaart')['map_scale'], "
        "-floor(log10(item_variables('kaart')['map_scale'])) + 1), 0), ',', '.') %]",
        _MAP_X + 52.0,
        _MAP_Y + _MAP_H - 10.5,
        21.0,
        7.0,
        size=6.5,
        colour=_C["grey_text"],
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
    legend.setFontColor(QColor(_C["text"]))
    legend.setBackgroundEnabled(False)
    legend.setFrameEnabled(False)
    legend.setResizeToContents(True)
    legend.attemptMove(QgsLayoutPoint(_SIDE_X, _MAP_Y, QgsUnitTypes.LayoutMillimeters))
    layout.addLayoutItem(legend)
    _tidy_legend(legend, sites, legend_symbols)
    legend.adjustBoxSize()
    # the item's own size is only known once rendered; the legend renderer measures it now (mm)
    legend_bottom = (
        _MAP_Y + QgsLegendRenderer(legend.model(), legend.legendSettings()).minimumSize().height()
    )

    # key figures right below the legend; the inset fills what is left down to the map's bottom
    # (if enough)
    n_lines = max(str(f["kerncijfers"]).count("\n") + 1 for f in coverage.getFeatures())
    figures_bottom = _key_figures(layout, stay, legend_bottom + 5.0, n_lines)
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
    inset.setExtent(fit_extent(coverage.extent(), _SIDE_W, inset_h, 0.05))
    inset.setBackgroundColor(
        QColor("#cfd5da")
    )  # darker than the main map: the small province stands out
    inset.setFrameEnabled(True)
    inset.setFrameStrokeColor(QColor("#8a8a8a"))
    inset.setFrameStrokeWidth(QgsLayoutMeasurement(0.2, QgsUnitTypes.LayoutMillimeters))
    inset.overviews().addOverview(_overview(inset, main))
    inset.dataDefinedProperties().setProperty(
        QgsLayoutObject.ExcludeFromExports, QgsProperty.fromExpression(IS_OVERVIEW)
    )
    if (
        inset_h >= 20.0
    ):  # a long legend leaves no room: no inset rather than one over the key figures
        layout.addLayoutItem(inset)
        inset_title = _label(
            layout,
            "Ligging in het gebied",
            _SIDE_X,
            _MAP_Y + _MAP_H - inset_h - 5.0,
            _SIDE_W,
            4.5,
            size=7.5,
            bold=True,
            colour=_C["grey_text"],
            item_id="inset_titel",
        )
        inset_title.dataDefinedProperties().setProperty(
            QgsLayoutObject.ExcludeFromExports, QgsProperty.fromExpression(IS_OVERVIEW)
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
    _label(
        layout,
        attribution,
        _MARGIN,
        footer_y,
        135.0,
        8.0,
        size=7.5,
        colour=_C["grey_text"],
        item_id="bron",
    )
    _label(
        layout,
        right,
        _MARGIN + 135.0,
        footer_y,
        _PAGE_W - 2 * _MARGIN - 135.0,
        8.0,
        size=7.5,
        colour=_C["grey_text"],
        align=Qt.AlignRight,
        item_id="voettekst",
    )
    _label(
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


def _overview(inset: QgsLayoutItemMap, main: QgsLayoutItemMap):
    overview = QgsLayoutItemMapOverview("Kaartbeeld", inset)
    overview.setLinkedMap(main)
    overview.setFrameSymbol(
        QgsFillSymbol.createSimple(
            {"color": "215,25,28,25", "outline_color": "#d7191c", "outline_width": "0.4"}
        )
    )
    return overview


def _north_svg() -> str | None:
    for folder in QgsApplication.svgPaths() + [os.path.join(QgsApplication.pkgDataPath(), "svg")]:
        path = os.path.join(folder, "arrows", "NorthArrow_02.svg")
        if os.path.isfile(path):
            return path
    return None


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


def _key_figures(layout, stay, y: float, n_lines: int) -> float:
    """Counts of the page's area, from the atlas feature's ``kerncijfers``, from ``y`` down;
    returns the bottom."""
    note = (
        f"Elke locatie is getoetst alsof zij voor {stay_label(stay)} wordt gebruikt. "
        "Locaties buiten de gekozen gemeente zijn lichter getekend."
    )
    text_h = 3.4 * n_lines + 1.0  # 7.5 pt lines
    _label(
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
    _label(
        layout,
        '[% "kerncijfers" %]',
        _SIDE_X,
        y + 6.0,
        _SIDE_W,
        text_h,
        size=7.5,
        item_id="kerncijfers",
    )
    _label(
        layout,
        note,
        _SIDE_X,
        y + 7.0 + text_h,
        _SIDE_W,
        9.0,
        size=6.8,
        colour=_C["grey_text"],
        item_id="toelichting",
    )
    return y + 7.0 + text_h + 9.0
