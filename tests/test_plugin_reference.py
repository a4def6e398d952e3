"""The reference layers of a run (referentie.gpkg) as the plugin names and draws them: the legend
names and colours are the engine maps' (one vocabulary)."""

from __future__ import annotations

import pytest

import locatietoets.analysis.vocabulary as engine_vocabulary
import qgis_plugin.vocabulary as plugin_vocabulary


def test_reference_labels_name_declared_layers_by_their_kind():
    for vocabulary in (engine_vocabulary, plugin_vocabulary):
        label = vocabulary.reference_label
        assert label("beperkingen.natura_2000") == "Beperking: natura 2000"
        # the built-in names read as a planner writes them, not as identifiers
        assert label("beperkingen.natura2000") == "Beperking: Natura 2000"
        assert label("beperkingen.geluidzone_a2") == "Beperking: geluidzone a2"
        assert label("voorzieningen.ov_halte") == "Voorziening: ov-halte"
        assert label("kernen") == "Kern (concentratie)"
        assert label("bestaande_huisvesting") == "Bestaande huisvesting"
        assert label("bebouwd_gebied") == "Bestaand bebouwd gebied (BBG)"
        assert label("iets_anders") == "iets anders"


def _write(qgis_core, path, name: str, geometry: str, fields, rows) -> None:
    spec = "&".join(f"field={n}:{k}" for n, k in fields)
    layer = qgis_core.QgsVectorLayer(f"{geometry}?crs=EPSG:28992&{spec}", name, "memory")
    features = []
    for wkt, attrs in rows:
        feature = qgis_core.QgsFeature(layer.fields())
        feature.setGeometry(qgis_core.QgsGeometry.fromWkt(wkt))
        feature.setAttributes(list(attrs))
        features.append(feature)
    assert layer.dataProvider().addFeatures(features)
    options = qgis_core.QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    options.layerName = name
    if path.exists():
        options.actionOnExistingFile = qgis_core.QgsVectorFileWriter.CreateOrOverwriteLayer
    result = qgis_core.QgsVectorFileWriter.writeAsVectorFormatV3(
        layer, str(path), qgis_core.QgsProject.instance().transformContext(), options
    )
    assert result[0] == qgis_core.QgsVectorFileWriter.NoError, result


@pytest.mark.qgis
def test_reference_group_holds_every_reference_layer_styled(qgis_core, tmp_path):
    """After a run the group under the result holds the constraints, facilities, kernen and
    existing housing too, in the engine maps' colours; a layer of points and polygons (employers,
    as the engine writes them) is one layer per geometry type, so no point goes missing."""
    from qgis_plugin.reference import GROUP_NAME, add_reference_group, reference_for_run_record

    path = tmp_path / "o.referentie.gpkg"
    square = "POLYGON((0 0, 100 0, 100 100, 0 100, 0 0))"
    _write(
        qgis_core,
        path,
        "bebouwd_gebied",
        "MultiPolygon",
        [("naam", "string")],
        [(f"MULTI{square[:7]}({square[7:]})", ("Venlo",))],
    )
    _write(
        qgis_core,
        path,
        "beperkingen.natura2000",
        "Polygon",
        [("naam", "string")],
        [(square, ("Maasduinen",))],
    )
    _write(
        qgis_core,
        path,
        "voorzieningen.huisarts",
        "Point",
        [("naam", "string")],
        [("POINT(10 10)", ("Dokter",))],
    )
    _write(
        qgis_core,
        path,
        "voorzieningen.supermarkt",
        "Point",
        [("naam", "string")],
        [("POINT(20 20)", ("Jumbo",))],
    )
    _write(
        qgis_core,
        path,
        "kernen",
        "Polygon",
        [("naam", "string"), ("inwoners", "double")],
        [(square, ("Venlo", 1000.0))],
    )
    _write(
        qgis_core,
        path,
        "bestaande_huisvesting",
        "Point",
        [("personen", "double")],
        [("POINT(30 30)", (40.0,))],
    )
    # employers: points and a polygon in one GeoPackage layer of geometry type "Geometry", as
    # the engine writes them (layers/io/write.py write_reference)
    gpd = pytest.importorskip("geopandas")
    shapely = pytest.importorskip("shapely")
    gpd.GeoDataFrame(
        {"naam": ["A", "B", "C"]},
        geometry=[shapely.from_wkt(w) for w in ("POINT(40 40)", square, "POINT(50 50)")],
        crs="EPSG:28992",
    ).to_file(path, layer="werkgevers", driver="GPKG", engine="pyogrio", geometry_type="Unknown")
    (tmp_path / "o.run.json").write_text("{}", encoding="utf-8")
    assert reference_for_run_record(str(tmp_path / "o.run.json")) == str(path)
    assert reference_for_run_record(str(tmp_path / "run.json")) is None

    project = qgis_core.QgsProject()
    result = qgis_core.QgsVectorLayer("Point?crs=EPSG:28992", "Getoetste locaties", "memory")
    project.addMapLayer(result)
    added = add_reference_group(project, result, str(path))
    assert added == [
        "Voorziening: huisarts",
        "Voorziening: supermarkt",
        "Bestaande huisvesting",
        "Werkgever (punt)",
        "Werkgever (vlak)",
        "Beperking: Natura 2000",
        "Kern (concentratie)",
        "Bestaand bebouwd gebied (BBG)",
    ]
    group = project.layerTreeRoot().findGroup(GROUP_NAME)
    layers = {node.layer().name(): node.layer() for node in group.findLayers()}
    assert layers["Werkgever (punt)"].featureCount() == 2
    assert layers["Werkgever (vlak)"].featureCount() == 1

    def colour(name: str, level: int = 0) -> str:
        symbol = layers[name].renderer().symbol()
        return symbol.symbolLayer(level).color().name()

    assert colour("Voorziening: huisarts") == plugin_vocabulary.FACILITY_COLOURS[0]
    assert colour("Voorziening: supermarkt") == plugin_vocabulary.FACILITY_COLOURS[1]
    assert colour("Bestaande huisvesting") == plugin_vocabulary.MAP_COLOURS["housing"]
    assert colour("Beperking: Natura 2000") == plugin_vocabulary.CONSTRAINT_COLOURS[0]  # hatch
    kern = layers["Kern (concentratie)"].renderer().symbol().symbolLayer(0)
    assert kern.strokeColor().name() == plugin_vocabulary.MAP_COLOURS["kern"]
    project.clear()
