"""How QGIS shows a result layer: the engine's stored style (QML in the GeoPackage) and the plugin's
style give every result field a Dutch alias, round numbers for display (distances to the metre,
minutes to a tenth), show shares as a percentage and truth values as ja/nee, and have a map tip
that says for which stay type the verdict is. Checked as QGIS shows it: the field formatter's text.
"""

from __future__ import annotations

import pytest

from locatietoets.analysis.vocabulary import (
    FIELD_ALIASES,
    FIELD_DECIMALS,
    RESULT_FIELDS,
    SHARE_FIELDS,
    YES_NO_FIELDS,
)
from locatietoets.layers.publish.style import result_qml

pytestmark = pytest.mark.qgis

#: A row of a real result: (field, QGIS type, value, what the identify panel shows).
ROW = [
    ("locatie_id", "string", "L7", "L7"),
    ("verblijfstype_invoer", "string", "short stay", "short stay"),
    ("verblijfstype", "string", "mid_stay", "mid_stay"),
    ("bbg_afstand_m", "double", 315.3659131571846, "315"),
    ("bbg_aandeel", "double", 0.9507173293276298, None),  # hidden: shown as bbg_aandeel_pct
    ("bebouwde_kom", "boolean", False, "nee"),
    ("geur_knelpunt", "boolean", True, "ja"),
    ("werkgever_reistijd_min", "double", 8.266624237539306, "8.3"),
    ("aandeel_arbeidsmigranten_kern", "double", 0.004250, None),  # shown as 0,4 %
    ("oordeel", "string", "ongeschikt", "ongeschikt"),
    ("score", "double", 23.4, "23"),
    ("redenen", "string", "Reden één (POVI; Visie); Reden twee; vervolg", None),
]


def _layer(qgis_core):
    spec = "&".join(f"field={name}:{kind}" for name, kind, _v, _s in ROW)
    layer = qgis_core.QgsVectorLayer(f"Point?crs=EPSG:28992&{spec}", "locaties", "memory")
    feature = qgis_core.QgsFeature(layer.fields())
    feature.setAttributes([value for _n, _k, value, _s in ROW])
    feature.setGeometry(
        qgis_core.QgsGeometry.fromPointXY(qgis_core.QgsPointXY(200_000.0, 380_000.0))
    )
    assert layer.dataProvider().addFeatures([feature])
    return layer


def _shown(qgis_core, layer, name: str) -> tuple[str, str]:
    """(alias, text) of a field as QGIS's identify panel shows it."""
    index = layer.fields().indexOf(name)
    assert index >= 0, name
    setup = layer.editorWidgetSetup(index)
    formatter = qgis_core.QgsApplication.fieldFormatterRegistry().fieldFormatter(setup.type())
    value = next(layer.getFeatures())[index]
    text = formatter.representValue(layer, index, setup.config(), None, value)
    return layer.attributeDisplayName(index), text.replace(",", ".")  # locale-free


def _check_display(qgis_core, layer) -> None:
    for name, _kind, _value, shown in ROW:
        if shown is not None:
            assert _shown(qgis_core, layer, name)[1] == shown, name
    assert _shown(qgis_core, layer, "bbg_aandeel_pct") == ("Aandeel in BBG (%)", "95")
    assert layer.editorWidgetSetup(layer.fields().indexOf("bbg_aandeel")).type() == "Hidden"
    assert _shown(qgis_core, layer, "verblijfstype_invoer")[0] == "Verblijfstype (invoer)"
    assert _shown(qgis_core, layer, "bbg_afstand_m")[0] == "Afstand tot BBG (m)"
    if layer.fields().indexOf("aandeel_arbeidsmigranten_kern") >= 0:
        assert _shown(qgis_core, layer, "aandeel_arbeidsmigranten_kern_pct") == (
            "Aandeel arbeidsmigranten in kern (%)",
            "0.4",
        )
    for name, *_rest in ROW:
        alias = layer.attributeDisplayName(layer.fields().indexOf(name))
        assert alias != name and alias.strip(), name  # every field has a Dutch alias
    context = qgis_core.QgsExpressionContext(
        qgis_core.QgsExpressionContextUtils.globalProjectLayerScopes(layer)
    )
    context.setFeature(next(layer.getFeatures()))
    tip = qgis_core.QgsExpression.replaceExpressionText(layer.mapTipTemplate(), context)
    assert "<b>ongeschikt</b> voor mid-stay (score 23)" in tip
    assert "&bull; Reden één (POVI; Visie)<br>&bull; Reden twee; vervolg</div>" in tip
    assert "sans-serif" in tip and "width: 28em" in tip


def test_engine_stored_style_as_qgis_shows_it(qgis_core, tmp_path):
    layer = _layer(qgis_core)
    qml = tmp_path / "locaties.qml"
    qml.write_text(result_qml(polygon=False, fields=[n for n, *_r in ROW]), encoding="utf-8")
    message, ok = layer.loadNamedStyle(str(qml))
    assert ok, message
    _check_display(qgis_core, layer)


def test_plugin_style_as_qgis_shows_it(qgis_core):
    from qgis_plugin.styling import apply_result_style

    layer = _layer(qgis_core)
    apply_result_style(layer, id_field="locatie_id")
    _check_display(qgis_core, layer)
    apply_result_style(layer, id_field="locatie_id")  # again: no second percentage field
    assert layer.fields().names().count("bbg_aandeel_pct") == 1


def test_stored_style_covers_every_result_field():
    fields = list(RESULT_FIELDS)
    qml = result_qml(polygon=True, fields=fields)
    for name in fields:
        assert f'<alias field="{name}" name=' in qml, name
    for name in SHARE_FIELDS:
        assert f'<alias field="{name}_pct" name="{FIELD_ALIASES[name]} (%)"' in qml
        digits = ", 1" if name == "aandeel_arbeidsmigranten_kern" else ""  # 0,4%
        assert f"""<field name="{name}_pct" expression='round("{name}" * 100{digits})'""" in qml
    for name, digits in FIELD_DECIMALS.items():
        assert f'<field name="{name}" configurationFlags="None"><editWidget type="Range">' in qml, (
            name
        )
        start = qml.index(f'<field name="{name}" configurationFlags="None">')
        assert f'name="Precision" value="{digits}"' in qml[start : qml.index("</field>", start)]
    assert {n for n in FIELD_DECIMALS if n.endswith("_m")} >= {"bbg_afstand_m"}
    for name in YES_NO_FIELDS:
        assert f'<field name="{name}" configurationFlags="None"><editWidget type="ValueMap">' in qml


def test_run_dependent_fields_get_aliases_and_rounding(qgis_core):
    """Fields named after the run's facility kinds and declared constraints get a Dutch alias and
    their distances are shown to the metre, as every other result field."""
    from qgis_plugin.styling import configure_result_fields, field_alias

    names = {
        "voorziening_ov_halte",
        "voorziening_ov_halte_afstand_m",
        "natura2000",
        "natura2000_afstand_m",
        "eigen_afstand_m",  # an input field without its pair: left alone
    }
    assert field_alias("voorziening_ov_halte", names) == "Dichtstbijzijnde ov-halte"
    assert field_alias("voorziening_ov_halte_afstand_m", names) == "Afstand tot ov-halte (m)"
    assert field_alias("natura2000", names) == "Beperking: Natura 2000"
    assert field_alias("natura2000_afstand_m", names) == "Afstand tot Natura 2000 (m)"
    assert field_alias("eigen_afstand_m", names) is None
    assert field_alias("natura2000", {"natura2000"}) is None  # no pair: an input field
    layer = qgis_core.QgsVectorLayer(
        "Point?crs=EPSG:28992&field=natura2000:string&field=natura2000_afstand_m:double"
        "&field=voorziening_ov_halte_afstand_m:double",
        "r",
        "memory",
    )
    configure_result_fields(layer)
    fields = layer.fields()
    assert layer.attributeAlias(fields.indexOf("natura2000")) == "Beperking: Natura 2000"
    for name in ("natura2000_afstand_m", "voorziening_ov_halte_afstand_m"):
        setup = layer.editorWidgetSetup(fields.indexOf(name))
        assert setup.type() == "Range" and setup.config()["Precision"] == 0, name


def _run_with_declared_layers(world, out):
    """A run with a declared constraint (the rule set's bedrijventerreinen), two facility kinds
    and kernen (fields named after the run) on the standard world; returns the GeoPackage."""
    from fixtures import RD, build_world, standard_config, write_config, write_gdf
    import geopandas as gpd
    from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

    from locatietoets.layers.io.config import load_config
    from locatietoets.scripts.runner.score import run_config

    build_world(world)
    # a kern as a multipolygon with a hole around the sites, a business park, two kinds of
    # facility along a road
    ring = [(199_000, 380_000), (210_000, 380_000), (210_000, 381_000), (199_000, 381_000)]
    hole = [(205_000, 380_400), (205_500, 380_400), (205_500, 380_600), (205_000, 380_600)]
    write_gdf(
        gpd.GeoDataFrame(
            {"naam": ["Testkern"], "inw": [12_000]},
            geometry=[MultiPolygon([Polygon(ring, [hole])])],
            crs=RD,
        ),
        world / "kernen.gpkg",
    )
    write_gdf(
        gpd.GeoDataFrame(
            {"gebied": ["Trade Port"]}, geometry=[box(202_000, 381_500, 203_000, 382_500)], crs=RD
        ),
        world / "terreinen.gpkg",
    )
    # the sites lie on y = 380,500 east of x = 200,000: one road along them
    write_gdf(
        gpd.GeoDataFrame(
            {"highway": ["residential"]},
            geometry=[LineString([(199_500, 380_500), (209_000, 380_500)])],
            crs=RD,
        ),
        world / "wegen.gpkg",
    )
    for name, x in (("winkels", 200_300), ("haltes", 201_300)):
        write_gdf(
            gpd.GeoDataFrame({"naam": [f"{name} 1"]}, geometry=[Point(x, 380_500)], crs=RD),
            world / f"{name}.gpkg",
        )
    extra = """
[lagen.kernen]
pad = "kernen.gpkg"
inwoners_veld = "inw"

[lagen.beperkingen.bedrijventerreinen]
pad = "terreinen.gpkg"
naam_veld = "gebied"

[lagen.wegennet]
pad = "wegen.gpkg"
modus = "lopen"

[lagen.voorzieningen.supermarkt]
pad = "winkels.gpkg"

[lagen.voorzieningen.ov_halte]
pad = "haltes.gpkg"
"""
    run_config(load_config(write_config(world, standard_config(extra=extra))), out)
    return out / "locaties.gpkg"


def test_stored_style_of_a_run_names_and_rounds_every_field(qgis_core, tmp_path):
    """The style the engine stores in locaties.gpkg gives every field of the result layer a Dutch
    alias (the run's constraint, facility and kern fields too; input attributes '<naam>
    (invoer)') and every number result field its rounding, as QGIS loads it from the file; a
    rerun writes the same bytes."""
    import sqlite3

    gpkg = _run_with_declared_layers(tmp_path / "wereld", tmp_path / "uit")
    with sqlite3.connect(gpkg) as con:
        columns = {r[1]: r[2] for r in con.execute("PRAGMA table_info(locaties)")}
    layer = qgis_core.QgsVectorLayer(f"{gpkg}|layername=locaties", "locaties", "ogr")
    assert layer.isValid()
    fields = layer.fields()
    shown = {f.name(): layer.attributeDisplayName(fields.indexOf(f.name())) for f in fields}
    expected = {
        "bedrijventerreinen": "Beperking: bedrijventerreinen",
        "bedrijventerreinen_afstand_m": "Afstand tot bedrijventerreinen (m)",
        "voorziening_supermarkt": "Dichtstbijzijnde supermarkt",
        "voorziening_supermarkt_afstand_m": "Afstand tot supermarkt (m)",
        "voorziening_ov_halte": "Dichtstbijzijnde ov-halte",
        "voorziening_ov_halte_afstand_m": "Afstand tot ov-halte (m)",
        "kern": "Kern",
        "kern_inwoners": "Inwoners kern",
        "arbeidsmigranten_in_kern": "Arbeidsmigranten in kern (incl. deze locatie)",
        "aandeel_arbeidsmigranten_kern_pct": "Aandeel arbeidsmigranten in kern (%)",
        "personen": "personen (invoer)",
        "opmerking": "opmerking (invoer)",
    }
    assert {name: shown.get(name) for name in expected} == expected
    assert shown["fid"] == "Objectnummer (GeoPackage)"
    unnamed = [n for n, alias in shown.items() if alias == n]
    assert not unnamed  # every field has an alias
    decimals = {
        "bedrijventerreinen_afstand_m": 0,
        "voorziening_supermarkt_afstand_m": 0,
        "voorziening_ov_halte_afstand_m": 0,
        "kern_inwoners": 0,
        "arbeidsmigranten_in_kern": 0,
        "werkgever_reistijd_min": 1,
    }
    result_numbers = [
        n
        for n, kind in columns.items()
        if kind in ("REAL", "DOUBLE") and n in shown and not shown[n].endswith(" (invoer)")
    ]
    for name in result_numbers:
        setup = layer.editorWidgetSetup(fields.indexOf(name))
        if setup.type() == "Hidden":  # a share, shown as <naam>_pct
            assert f"{name}_pct" in shown, name
            continue
        assert setup.type() == "Range", name
        if name in decimals:
            assert setup.config()["Precision"] == decimals[name], name
    assert set(decimals) - {"werkgever_reistijd_min"} <= set(result_numbers)
    again = _run_with_declared_layers(tmp_path / "wereld2", tmp_path / "uit2")
    assert again.read_bytes() == gpkg.read_bytes()


def test_engine_and_plugin_name_the_run_dependent_fields_alike(qgis_core):
    """The stored style and the plugin's style give the fields named after the run the same
    alias, and the engine's stored style rounds their distances to the metre."""
    from locatietoets.layers.publish.style import field_alias, field_decimals
    from qgis_plugin.styling import field_alias as plugin_alias

    names = [
        "oordeel",
        "voorziening_ov_halte",
        "voorziening_ov_halte_afstand_m",
        "natura2000",
        "natura2000_afstand_m",
        "kern_inwoners",
        "eigen_afstand_m",  # an input field without its pair: no result field
        "natura2000_invoer",
    ]
    for name in names:
        assert field_alias(name, names) == plugin_alias(name, set(names)), name
    assert field_alias("eigen_afstand_m", names) is None
    assert field_decimals(names) == {
        "voorziening_ov_halte_afstand_m": 0,
        "natura2000_afstand_m": 0,
        "kern_inwoners": 0,
    }
    qml = result_qml(polygon=False, fields=names)
    assert '<alias field="eigen_afstand_m" name="eigen_afstand_m (invoer)"' in qml
    assert '<alias field="natura2000" name="Beperking: Natura 2000"' in qml
    assert '<alias field="natura2000_invoer" name="natura2000 (invoer)"' in qml
