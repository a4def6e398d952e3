"""Exporteer woonvisiekaarten (``locatietoets:exporteerkaarten``): atlas PDF and PNGs from a scored
layer.

The scored layer is written directly as a small GeoPackage (as ``locatietoets score`` writes it:
``gemeente``,
``oordeel_short_stay`` …) with three gemeenten near Venlo, plus BBG, a recreation park, an employer
and a
``run.json``. The maps are checked by their pixels (QImage, no numpy) and the PDF by its pages and
text (pypdf,
test-only). One run goes through ``qgis_process.bin`` with the plugin from the built zip.
"""

from __future__ import annotations

import json
from pathlib import Path
import time

import pytest

pytestmark = pytest.mark.qgis

qgis_core = pytest.importorskip(
    "qgis.core", reason="PyQGIS (Debian's python3-qgis) is niet geïnstalleerd"
)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QImage  # noqa: E402

from qgis_plugin.vocabulary import VERDICT_COLOURS  # noqa: E402

RD = "EPSG:28992"
# name, code, box (RD New); alphabetical order: Horst aan de Maas, Venlo, Venray
GEMEENTEN = [
    ("Venlo", "GM0983", (190_000.0, 370_000.0, 202_000.0, 390_000.0)),
    ("Venray", "GM0984", (202_000.0, 370_000.0, 212_000.0, 390_000.0)),
    ("Horst aan de Maas", "GM1507", (190_000.0, 390_000.0, 212_000.0, 400_000.0)),
]
# id, gemeente, short, mid, long, capacity, x, y (None: no geometry)
SITES = [
    ("A1", "Venlo", "geschikt", "geschikt", "voorwaardelijk", 40, 196_000.0, 380_000.0),
    ("A2", "Venlo", "voorwaardelijk", "ongeschikt", "ongeschikt", 12, 198_000.0, 376_000.0),
    ("A3", "Venlo", "ongeschikt", "ongeschikt", "ongeschikt", 8, 193_000.0, 385_000.0),
    ("A4", "Venlo", "geschikt", "voorwaardelijk", "voorwaardelijk", 20, 200_500.0, 372_500.0),
    ("B1", "Venray", "geschikt", "geschikt", "geschikt", 60, 206_000.0, 381_000.0),
    ("B2", "Venray", "ongeschikt", "ongeschikt", "ongeschikt", 10, 209_000.0, 374_000.0),
    (
        "C1",
        "Horst aan de Maas",
        "voorwaardelijk",
        "voorwaardelijk",
        "ongeschikt",
        25,
        200_000.0,
        395_000.0,
    ),
    (
        "C2",
        "Horst aan de Maas",
        "geschikt",
        "voorwaardelijk",
        "ongeschikt",
        30,
        205_000.0,
        396_000.0,
    ),
    ("C3", "Horst aan de Maas", None, None, None, None, None, None),  # no geometry
]
# the verdict colours of the plugin's vocabulary (the same as the engine's: test_vocabulary)
VERDICT_RGB = {value: rgb for value, (_label, rgb) in VERDICT_COLOURS.items() if value}
RUN_JSON = {
    "locatietoets": {"versie": "0.1.0"},
    "regelset": {"id": "limburg-povi2021", "versie": "1.0.0"},
    "gestart": "2026-01-15T10:00:00+00:00",
    "invoer": {
        "locaties": {"pad": "/data/kandidaten.gpkg"},
        "gemeenten": {"pad": "/data/cbs_gemeenten_2022.gpkg"},
    },
}


def _layer(geometry: str, fields: list[tuple[str, str]], rows) -> "qgis_core.QgsVectorLayer":
    spec = "&".join(f"field={name}:{kind}" for name, kind in fields)
    layer = qgis_core.QgsVectorLayer(f"{geometry}?crs={RD}&{spec}", "laag", "memory")
    features = []
    for geom, attrs in rows:
        feature = qgis_core.QgsFeature(layer.fields())
        if geom is not None:
            feature.setGeometry(geom)
        feature.setAttributes(list(attrs))
        features.append(feature)
    assert layer.dataProvider().addFeatures(features)
    return layer


def _box(xmin, ymin, xmax, ymax):
    return qgis_core.QgsGeometry.fromRect(qgis_core.QgsRectangle(xmin, ymin, xmax, ymax))


def _point(x, y):
    return qgis_core.QgsGeometry.fromPointXY(qgis_core.QgsPointXY(x, y))


def _write(layer, path: Path, name: str) -> str:
    options = qgis_core.QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    options.layerName = name
    if path.exists():
        options.actionOnExistingFile = qgis_core.QgsVectorFileWriter.CreateOrOverwriteLayer
    result = qgis_core.QgsVectorFileWriter.writeAsVectorFormatV3(
        layer, str(path), qgis_core.QgsProject.instance().transformContext(), options
    )
    assert result[0] == qgis_core.QgsVectorFileWriter.NoError, result
    return f"{path}|layername={name}"


@pytest.fixture(scope="module")
def scored_run(tmp_path_factory, qgis_app) -> dict[str, str]:
    """A run folder as ``locatietoets score`` leaves it: locaties.gpkg, run.json, plus context
    layers."""
    folder = tmp_path_factory.mktemp("run")
    sites = _layer(
        "Point",
        [
            ("locatie_id", "string"),
            ("gemeente", "string"),
            ("oordeel", "string"),
            ("oordeel_short_stay", "string"),
            ("oordeel_mid_stay", "string"),
            ("oordeel_long_stay", "string"),
            ("capaciteit_personen", "double"),
            ("redenen", "string"),
        ],
        [
            (
                None if x is None else _point(x, y),
                (i, g if x is not None else None, s, s, m, lo, c, "test"),
            )
            for i, g, s, m, lo, c, x, y in SITES
        ],
    )
    gemeenten = _layer(
        "Polygon",
        [("naam", "string"), ("code", "string")],
        [(_box(*b), (n, c)) for n, c, b in GEMEENTEN],
    )
    bbg = _layer(
        "Polygon",
        [("naam", "string")],
        [
            (_box(195_000, 378_000, 199_000, 382_000), ("Venlo",)),
            (_box(205_000, 380_000, 207_500, 382_500), ("Venray",)),
        ],
    )
    parks = _layer(
        "Polygon", [("naam", "string")], [(_box(208_000, 373_000, 210_000, 375_000), ("De Heide",))]
    )
    employers = _layer(
        "Point", [("naam", "string")], [(_point(201_000, 374_000), ("Logistiek BV",))]
    )
    (folder / "run.json").write_text(json.dumps(RUN_JSON), encoding="utf-8")
    return {
        "LOCATIES": _write(sites, folder / "locaties.gpkg", "locaties"),
        "GEMEENTEN": _write(gemeenten, folder / "referentie.gpkg", "gemeenten"),
        "BEBOUWD_GEBIED": _write(bbg, folder / "referentie.gpkg", "bebouwd_gebied"),
        "RECREATIEPARKEN": _write(parks, folder / "referentie.gpkg", "recreatieparken"),
        "WERKGEVERS": _write(employers, folder / "referentie.gpkg", "werkgevers"),
        "RUN_JSON": str(folder / "run.json"),
    }


@pytest.fixture()
def maps_provider(qgis_processing):
    """The Locatietoets provider registered (this algorithm needs no engine)."""
    from qgis_plugin.provider import LocatietoetsProvider

    registry = qgis_core.QgsApplication.processingRegistry()
    prov = LocatietoetsProvider()
    assert registry.addProvider(prov)
    yield prov
    registry.removeProvider(prov)


class _Feedback(qgis_core.QgsProcessingFeedback):
    """Records progress and log lines; cancels once progress passes ``cancel_at``."""

    def __init__(self, cancel_at: float | None = None):
        super().__init__()
        self.progress: list[float] = []
        self.infos: list[str] = []
        self.errors: list[str] = []
        self.cancel_at = cancel_at
        self.progressChanged.connect(self._on_progress)

    def _on_progress(self, value):
        self.progress.append(value)
        if self.cancel_at is not None and value >= self.cancel_at:
            self.cancel()

    def reportError(self, error, fatalError=False):  # noqa: N802,N803
        self.errors.append(error)
        super().reportError(error, fatalError)

    def pushInfo(self, info):  # noqa: N802
        self.infos.append(info)
        super().pushInfo(info)


def _run(params, feedback=None):
    import processing

    return processing.run("locatietoets:exporteerkaarten", params, feedback=feedback or _Feedback())


def _colours(path: str, step: int = 3) -> dict[tuple[int, int, int], int]:
    image = QImage(path)
    assert not image.isNull(), path
    counts: dict[tuple[int, int, int], int] = {}
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            rgb = image.pixel(x, y) & 0xFFFFFF
            key = (rgb >> 16 & 0xFF, rgb >> 8 & 0xFF, rgb & 0xFF)
            counts[key] = counts.get(key, 0) + 1
    return counts


def _has_colour(counts, rgb, tolerance: int = 10, minimum: int = 3) -> bool:
    return (
        sum(n for c, n in counts.items() if max(abs(a - b) for a, b in zip(c, rgb)) <= tolerance)
        >= minimum
    )


def _pdf_pages(path: str) -> list[str]:
    pypdf = pytest.importorskip(
        "pypdf", reason="pypdf (alleen voor de tests) is niet geïnstalleerd"
    )
    reader = pypdf.PdfReader(path)
    return [" ".join((page.extract_text() or "").split()) for page in reader.pages]


def test_algorithm_is_registered_with_dutch_help(maps_provider):
    algorithm = qgis_core.QgsApplication.processingRegistry().algorithmById(
        "locatietoets:exporteerkaarten"
    )
    assert algorithm is not None and algorithm.displayName() == "Exporteer woonvisiekaarten"
    assert algorithm.flags() & qgis_core.QgsProcessingAlgorithm.FlagNoThreading
    help_text = algorithm.shortHelpString()
    assert "<h3>Exporteer woonvisiekaarten</h3>" not in help_text and "atlas" in help_text
    outputs = {o.name() for o in algorithm.outputDefinitions()}
    assert {"OUTPUT_FOLDER", "PDF", "PNG_BESTANDEN", "AANTAL_KAARTEN"} <= outputs


def test_pdf_and_pngs_per_gemeente_plus_overview(maps_provider, scored_run, tmp_path):
    out = tmp_path / "kaarten"
    feedback = _Feedback()
    started = time.monotonic()
    result = _run({**scored_run, "FORMAAT": 2, "OUTPUT_FOLDER": str(out)}, feedback)
    seconds = time.monotonic() - started
    print(f"exporteerkaarten: 4 pagina's PDF + 4 PNG in {seconds:.2f} s")
    for line in feedback.infos:
        if line.startswith(("Kaart ", "PDF klaar")):
            print("  " + line)

    # files: one PNG per gemeente plus the overview, named as the CLI names them; one atlas PDF
    expected = [
        "overzicht_short_stay.png",
        "gemeente_horst-aan-de-maas_short_stay.png",
        "gemeente_venlo_short_stay.png",
        "gemeente_venray_short_stay.png",
    ]
    assert sorted(p.name for p in out.glob("*.png")) == sorted(expected)
    assert result["AANTAL_KAARTEN"] == 4
    assert Path(result["OUTPUT_FOLDER"]) == out
    assert [
        Path(p).name for p in result["PNG_BESTANDEN"].split(";")
    ] == expected  # overview first, then A-Z
    assert Path(result["PDF"]) == out / "atlas_gemeente_short_stay.pdf"
    assert max(feedback.progress) == pytest.approx(100.0)
    assert any("run.json" not in line and "Kaart 4/4: Venray" in line for line in feedback.infos)

    # PNGs are maps, not blank pages: many colours; each page shows the verdict colours of its own
    # sites
    pngs = {name: _colours(str(out / name)) for name in expected}
    image = QImage(str(out / expected[0]))
    assert (
        abs(image.width() - 1754) <= 1 and abs(image.height() - 1240) <= 1
    )  # A4 landscape at 150 dpi
    for name, counts in pngs.items():
        assert len(counts) > 40, name
        white = counts.get((255, 255, 255), 0)
        assert white < 0.8 * sum(counts.values()), name
    overview = pngs["overzicht_short_stay.png"]
    for verdict, rgb in VERDICT_RGB.items():
        assert _has_colour(overview, rgb), verdict
    venray = pngs["gemeente_venray_short_stay.png"]
    assert _has_colour(venray, VERDICT_RGB["geschikt"]) and _has_colour(
        venray, VERDICT_RGB["ongeschikt"]
    )

    # PDF: overview + one page per gemeente, searchable text with title, legend, key figures and
    # attribution
    pages = _pdf_pages(result["PDF"])
    assert len(pages) == len(GEMEENTEN) + 1
    assert "Geschiktheid short-stay — overzicht alle gemeenten" in pages[0]
    for page, name in zip(pages[1:], sorted(n for n, _, _ in GEMEENTEN)):
        assert f"Geschiktheid short-stay — gemeente {name}" in page
    for page in pages:
        assert "Bron: CBS, Provincie Limburg / eigen invoer, Locatietoets 0.1.0" in page
        assert "regelset limburg-povi2021 versie 1.0.0" in page and "toetsing 15-01-2026" in page
        for entry in (
            "Oordeel short-stay",
            "Geschikt",
            "Voorwaardelijk",
            "Ongeschikt",
            "Bestaand bebouwd gebied (BBG)",
            "Recreatiepark",
            "Werkgever",
            "Gemeentegrens",
        ):
            assert entry in page, entry
        assert "Schaal 1:" in page


def _write_reference_extras(path: Path) -> None:
    """A constraint (polygon with a hole), a facility kind, kernen and existing housing, as the
    engine writes them into referentie.gpkg."""
    natura = qgis_core.QgsGeometry.fromWkt(
        "POLYGON((191000 386000, 199000 386000, 199000 389000, 191000 389000, 191000 386000),"
        "(194000 387000, 195000 387000, 195000 388000, 194000 388000, 194000 387000))"
    )
    _write(
        _layer("Polygon", [("naam", "string")], [(natura, ("Maasduinen",))]),
        path,
        "beperkingen.natura2000",
    )
    _write(
        _layer(
            "Point",
            [("naam", "string")],
            [(_point(197_000, 380_500), ("Jumbo",)), (_point(207_000, 382_000), ("Aldi",))],
        ),
        path,
        "voorzieningen.supermarkt",
    )
    _write(
        _layer(
            "Polygon",
            [("naam", "string"), ("inwoners", "double")],
            [(_box(203_000, 376_000, 209_000, 384_000), ("Venray", 30_000.0))],
        ),
        path,
        "kernen",
    )
    _write(
        _layer(
            "Point",
            [("naam", "string"), ("personen", "double")],
            [(_point(208_000, 379_000), ("Pension De Linde", 80.0))],
        ),
        path,
        "bestaande_huisvesting",
    )


def test_maps_draw_the_runs_constraints_facilities_kernen_and_housing(
    maps_provider, scored_run, tmp_path
):
    """The reference layers the atlas has no parameter for come from the run's referentie.gpkg
    (here given; else found beside the run record): drawn in the engine maps' colours, with their
    legend items."""
    reference = tmp_path / "extra.referentie.gpkg"
    _write_reference_extras(reference)
    out = tmp_path / "kaarten"
    feedback = _Feedback()
    result = _run(
        {**scored_run, "REFERENTIE": str(reference), "FORMAAT": 2, "OUTPUT_FOLDER": str(out)},
        feedback,
    )
    from qgis_plugin.vocabulary import CONSTRAINT_COLOURS, FACILITY_COLOURS, MAP_COLOURS

    def rgb(colour: str) -> tuple[int, int, int]:
        return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))

    venlo = _colours(str(out / "gemeente_venlo_short_stay.png"), step=1)
    venray = _colours(str(out / "gemeente_venray_short_stay.png"), step=1)
    assert _has_colour(venlo, rgb(CONSTRAINT_COLOURS[0]), minimum=50)  # Natura 2000 hatching
    assert _has_colour(venlo, rgb(FACILITY_COLOURS[0]))  # the supermarket in Venlo
    assert _has_colour(venray, rgb(MAP_COLOURS["housing"]))
    assert _has_colour(venray, rgb(MAP_COLOURS["kern"]), tolerance=6, minimum=20)
    pages = _pdf_pages(result["PDF"])
    for page in pages:
        for entry in (
            "Beperking: Natura 2000",
            "Voorziening: supermarkt",
            "Kern (concentratie)",
            "Bestaande huisvesting",
            "Recreatiepark",
        ):
            assert entry in page, entry
    assert any("Voorziening: supermarkt" in line for line in feedback.infos)

    # not given: the run record's folder has none of these layers, the maps have none
    plain = _run({**scored_run, "FORMAAT": 0, "OUTPUT_FOLDER": str(tmp_path / "zonder")})
    assert "Beperking" not in " ".join(_pdf_pages(plain["PDF"]))
    missing = {**scored_run, "REFERENTIE": str(tmp_path / "weg.gpkg"), "FORMAAT": 0}
    with pytest.raises(qgis_core.QgsProcessingException, match="bestaat niet"):
        _run({**missing, "OUTPUT_FOLDER": str(tmp_path / "weg")})


def test_key_figure_lines_add_up_to_the_total():
    from qgis_plugin.atlas.texts import key_figures_text

    counts = {
        "totaal": 1210,
        "geen_geometrie": 1,
        "geschikt": 1000,
        "voorwaardelijk": 200,
        "ongeschikt": 6,
        "cap_geschikt": 0.0,
        "cap_voorwaardelijk": 0.0,
    }
    assert key_figures_text(counts, False).split("\n") == [
        "Locaties in dit gebied: 1.210",
        "   geschikt: 1.000",
        "   voorwaardelijk: 200",
        "   ongeschikt: 6",
        "   geen oordeel: 3",
        "Zonder geometrie (niet op de kaart): 1",
    ]


def test_key_figures_equal_the_counts_in_the_layer(maps_provider, scored_run, tmp_path):
    result = _run({**scored_run, "VERBLIJFSTYPE": 1, "FORMAAT": 0, "OUTPUT_FOLDER": str(tmp_path)})
    assert result["PNG_BESTANDEN"] == "" and result["AANTAL_KAARTEN"] == 4
    pages = _pdf_pages(result["PDF"])
    assert Path(result["PDF"]).name == "atlas_gemeente_mid_stay.pdf"
    assert "Geschiktheid mid-stay — overzicht alle gemeenten" in pages[0]

    layer = qgis_core.QgsVectorLayer(scored_run["LOCATIES"], "l", "ogr")
    expected = {}
    for feature in layer.getFeatures():
        for area in ("overzicht", feature["gemeente"]):
            if area is None or (hasattr(area, "isNull") and area.isNull()):
                continue
            c = expected.setdefault(
                area, {"totaal": 0, "geschikt": 0, "voorwaardelijk": 0, "ongeschikt": 0}
            )
            c["totaal"] += 1
            verdict = feature["oordeel_mid_stay"]
            if isinstance(verdict, str) and feature.hasGeometry():
                c[verdict] += 1
    # C3 has no geometry and no gemeente: only the overview counts it
    assert expected["overzicht"]["totaal"] == len(SITES)
    for page, area in zip(pages, ["overzicht", "Horst aan de Maas", "Venlo", "Venray"]):
        c = expected[area]
        assert f"Locaties in dit gebied: {c['totaal']}" in page, area
        assert (
            f"geschikt: {c['geschikt']} voorwaardelijk: {c['voorwaardelijk']} "
            f"ongeschikt: {c['ongeschikt']}" in page
        ), area
    assert "Zonder geometrie (niet op de kaart): 1" in pages[0]


def test_sites_without_gemeente_field_are_placed_by_location(maps_provider, scored_run, tmp_path):
    """A layer without ``gemeente`` (e.g. edited by hand): each site belongs to the gemeente that
    contains it."""
    source = qgis_core.QgsVectorLayer(scored_run["LOCATIES"], "l", "ogr")
    layer = _layer(
        "Point",
        [("oordeel_short_stay", "string")],
        [
            (f.geometry() if f.hasGeometry() else None, (f["oordeel_short_stay"],))
            for f in source.getFeatures()
        ],
    )
    params = {
        "LOCATIES": layer,
        "GEMEENTEN": scored_run["GEMEENTEN"],
        "FORMAAT": 0,
        "BRON": "Gemeente Venlo",
        "OUTPUT_FOLDER": str(tmp_path),
    }
    pages = _pdf_pages(_run(params)["PDF"])
    assert "Locaties in dit gebied: 2" in pages[1]  # Horst aan de Maas: C1, C2 (C3 has no geometry)
    assert "Locaties in dit gebied: 4" in pages[2]  # Venlo
    assert "Bron: Gemeente Venlo" in pages[0]
    assert "regelset onbekend (geen run.json)" in pages[0]


def test_progress_per_page_and_cancel_between_pages(maps_provider, scored_run, tmp_path):
    feedback = _Feedback(cancel_at=20.0)
    with pytest.raises(qgis_core.QgsProcessingException, match="afgebroken"):
        _run({**scored_run, "FORMAAT": 1, "OUTPUT_FOLDER": str(tmp_path)}, feedback)
    written = list(tmp_path.glob("*.png"))
    assert len(written) == 1  # page 1 done (25 %), then the cancel is seen before page 2
    assert 25.0 in feedback.progress and 50.0 not in feedback.progress


def test_layer_without_verdicts_is_refused_in_dutch(maps_provider, scored_run, tmp_path):
    layer = _layer("Point", [("id", "string")], [(_point(196_000, 380_000), ("x",))])
    with pytest.raises(qgis_core.QgsProcessingException, match="oordeel_short_stay"):
        _run(
            {
                "LOCATIES": layer,
                "GEMEENTEN": scored_run["GEMEENTEN"],
                "OUTPUT_FOLDER": str(tmp_path),
            }
        )


# ---------------------------------------------------------------------------
# A layer of points and polygons, written as the engine writes it (geometry type "Geometry")
# ---------------------------------------------------------------------------

MIXED_VERDICTS = ("geschikt", "voorwaardelijk", "ongeschikt")


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory, scored_run) -> dict[str, str]:
    """locaties.gpkg of 3 points and 27 polygons (first feature a point, as in the demo), by
    layers.io.write."""
    gpd = pytest.importorskip("geopandas")
    from shapely.geometry import Point, box

    from locatietoets.layers.io.write import geometry_kind, write_gpkg

    folder = tmp_path_factory.mktemp("gemengd")
    rows = []
    # columns of 10 sites per gemeente box, well inside it; site 0, 10 and 20 are points, the rest
    # polygons
    for g, (name, _code, (xmin, ymin, xmax, ymax)) in enumerate(GEMEENTEN):
        for i in range(10):
            x = xmin + 1_000 + 700 * i
            y = ymin + 1_500 + 300 * i
            n = 10 * g + i
            geometry = Point(x, y) if i == 0 else box(x - 60, y - 40, x + 60, y + 40)
            verdict = MIXED_VERDICTS[n % 3]
            # the engine's gemeente for most; three sites without one are placed by location
            rows.append(
                {
                    "locatie_id": f"M{n:02d}",
                    "gemeente": None if i == 9 else name,
                    "oordeel": verdict,
                    "oordeel_short_stay": verdict,
                    "oordeel_mid_stay": MIXED_VERDICTS[(n + 1) % 3],
                    "oordeel_long_stay": "ongeschikt",
                    "capaciteit_personen": 10.0,
                    "redenen": "test",
                    "geometry": geometry,
                }
            )
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:28992")
    assert geometry_kind(frame.geometry)[0] == "Unknown"
    write_gpkg(frame, folder / "locaties.gpkg")
    (folder / "run.json").write_text(json.dumps(RUN_JSON), encoding="utf-8")
    return {
        "LOCATIES": f"{folder / 'locaties.gpkg'}|layername=locaties",
        "GEMEENTEN": scored_run["GEMEENTEN"],
        "frame": frame,
    }


def _expected_counts(frame, gemeenten_uri: str, field: str) -> dict[str, dict[str, int]]:
    """Per page (overzicht, gemeenten A-Z): sites and verdicts, counted by geopandas (a spatial
    join)."""
    import geopandas as gpd

    path, layer = gemeenten_uri.split("|layername=")
    gemeenten = gpd.read_file(path, layer=layer)
    points = frame.set_geometry(frame.geometry.representative_point())
    joined = gpd.sjoin(points, gemeenten[["naam", "geometry"]], predicate="within", how="left")
    expected = {"overzicht": joined}
    expected.update({name: joined[joined["naam"] == name] for name in sorted(gemeenten["naam"])})
    return {
        area: {"totaal": len(rows), **{v: int((rows[field] == v).sum()) for v in MIXED_VERDICTS}}
        for area, rows in expected.items()
    }


def test_mixed_points_and_polygons_are_all_drawn_and_counted(maps_provider, mixed_run, tmp_path):
    """The engine's layer of points and polygons (QGIS reports it as "Point"): every site counts and
    is drawn."""
    layer = qgis_core.QgsVectorLayer(mixed_run["LOCATIES"], "l", "ogr")
    assert (
        layer.wkbType() == qgis_core.QgsWkbTypes.Point and layer.featureCount() == 30
    )  # as QGIS sees it
    params = {k: v for k, v in mixed_run.items() if k != "frame"}
    result = _run({**params, "FORMAAT": 2, "OUTPUT_FOLDER": str(tmp_path)})
    pages = _pdf_pages(result["PDF"])
    expected = _expected_counts(mixed_run["frame"], mixed_run["GEMEENTEN"], "oordeel_short_stay")
    assert expected["overzicht"]["totaal"] == 30
    assert list(expected) == ["overzicht", "Horst aan de Maas", "Venlo", "Venray"]
    for page, (area, c) in zip(pages, expected.items()):
        assert f"Locaties in dit gebied: {c['totaal']}" in page, area
        assert (
            f"geschikt: {c['geschikt']} voorwaardelijk: {c['voorwaardelijk']} "
            f"ongeschikt: {c['ongeschikt']}" in page
        ), area
    # the polygons are drawn: all three verdict colours on every gemeente page (its 9 polygons hold
    # all three)
    for png in result["PNG_BESTANDEN"].split(";")[1:]:
        colours = _colours(png, step=2)
        for verdict, rgb in VERDICT_RGB.items():
            assert _has_colour(colours, rgb), (png, verdict)


def test_engine_style_of_a_mixed_layer_colours_points_and_polygons_in_qgis(qgis_app, mixed_run):
    """The default style layers.io.write stores draws both types: whole layer and each geometry-type
    sublayer."""
    for suffix, n in (("", 30), ("|geometrytype=Point", 3), ("|geometrytype=Polygon", 27)):
        layer = qgis_core.QgsVectorLayer(mixed_run["LOCATIES"] + suffix, "l", "ogr")
        assert layer.isValid() and layer.featureCount() == n
        renderer = layer.renderer()
        assert renderer.type() == "RuleRenderer", suffix
        labels = {rule.label(): rule.symbol().type() for rule in renderer.rootRule().children()}
        assert labels["Geschikt (punt)"] == qgis_core.QgsSymbol.Marker
        assert labels["Geschikt (vlak)"] == qgis_core.QgsSymbol.Fill
        settings = qgis_core.QgsMapSettings()
        settings.setLayers([layer])
        settings.setDestinationCrs(layer.crs())
        settings.setExtent(layer.extent().buffered(100))
        settings.setOutputSize(QSize(1200, 1200))  # a 120 m plot is ~7 pixels wide
        job = qgis_core.QgsMapRendererSequentialJob(settings)
        job.start()
        job.waitForFinished()
        image = job.renderedImage()
        path = str(Path(mixed_run["LOCATIES"].split("|")[0]).with_name(f"render{len(suffix)}.png"))
        image.save(path)
        colours = _colours(path, step=2)
        assert _has_colour(colours, VERDICT_RGB["geschikt"], minimum=5), (
            suffix
        )  # engine green = plugin green
        assert _has_colour(colours, VERDICT_RGB["ongeschikt"], minimum=5), suffix


def test_mixed_layer_copies_hold_every_feature(maps_provider, mixed_run):
    from qgis_plugin.atlas.copies import copies

    layer = qgis_core.QgsVectorLayer(mixed_run["LOCATIES"], "l", "ogr")
    crs = qgis_core.QgsCoordinateReferenceSystem(RD)
    parts = copies(
        layer,
        crs,
        qgis_core.QgsCoordinateTransformContext(),
        "Oordeel",
        qgis_core.QgsProcessingFeedback(),
    )
    kinds = {part.geometryType(): part.featureCount() for part in parts}
    assert kinds == {
        qgis_core.QgsWkbTypes.PointGeometry: 3,
        qgis_core.QgsWkbTypes.PolygonGeometry: 27,
    }
    assert [part.name() for part in parts] == ["Oordeel (punten)", "Oordeel (vlakken)"]


def test_one_geometry_type_of_a_mixed_layer_still_maps_the_whole_layer(
    maps_provider, mixed_run, tmp_path
):
    """QGIS Desktop opens a mixed GeoPackage layer as sublayers (…|geometrytype=Polygon): all sites
    are mapped."""
    polygons = qgis_core.QgsVectorLayer(
        mixed_run["LOCATIES"] + "|geometrytype=Polygon", "vlakken", "ogr"
    )
    assert polygons.isValid() and polygons.featureCount() == 27
    feedback = _Feedback()
    result = _run(
        {
            "LOCATIES": polygons,
            "GEMEENTEN": mixed_run["GEMEENTEN"],
            "FORMAAT": 0,
            "OUTPUT_FOLDER": str(tmp_path),
        },
        feedback,
    )
    assert "Locaties in dit gebied: 30" in _pdf_pages(result["PDF"])[0]
    assert any("alle 30 objecten" in line for line in feedback.infos)


def test_demo_result_every_site_on_the_maps_and_in_the_figures(maps_provider, engine_exe, tmp_path):
    """The demo (points and small polygons in one layer): each page's figures equal the result
    layer's count."""
    import subprocess

    gpd = pytest.importorskip("geopandas")
    done = subprocess.run(
        [
            engine_exe,
            "demo",
            "--locaties",
            "400",
            "--out",
            str(tmp_path / "demo"),
            "--voortgang",
            "geen",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    run = tmp_path / "demo" / "uitvoer"
    frame = gpd.read_file(run / "locaties.gpkg", layer="locaties")
    assert set(frame.geom_type) >= {"Point", "Polygon"} or set(frame.geom_type) >= {
        "Point",
        "MultiPolygon",
    }
    ref = f"{run / 'referentie.gpkg'}|layername="
    feedback = _Feedback()
    result = _run(
        {
            "LOCATIES": f"{run / 'locaties.gpkg'}|layername=locaties",
            "GEMEENTEN": ref + "gemeenten",
            "BEBOUWD_GEBIED": ref + "bebouwd_gebied",
            "VEEHOUDERIJEN": ref + "veehouderijen",
            "WERKGEVERS": ref + "werkgevers",
            "FORMAAT": 0,
            "OUTPUT_FOLDER": str(tmp_path / "kaarten"),
        },
        feedback,
    )
    pages = _pdf_pages(result["PDF"])
    gemeenten = sorted(
        gpd.read_file(run / "referentie.gpkg", layer="gemeenten")["naam"], key=str.casefold
    )
    assert len(pages) == len(gemeenten) + 1
    areas = {"overzicht": frame, **{name: frame[frame["gemeente"] == name] for name in gemeenten}}
    assert (
        sum(len(areas[name]) for name in gemeenten) == len(frame) == 400
    )  # every demo site lies in a gemeente
    for page, (area, rows) in zip(pages, areas.items()):
        verdicts = rows["oordeel_short_stay"].value_counts()
        assert f"Locaties in dit gebied: {len(rows)}" in page, area
        assert (
            f"geschikt: {verdicts.get('geschikt', 0)} voorwaardelijk:"
            f" {verdicts.get('voorwaardelijk', 0)} ongeschikt: {verdicts.get('ongeschikt', 0)}"
            in page
        ), area
        assert "regelset limburg-povi2021 versie" in page and "Demogemeente" in page
    assert any("Runverslag van de locatielaag gevonden" in line for line in feedback.infos)


# ---------------------------------------------------------------------------
# Inside qgis_process (the plugin from the built zip, headless)
# ---------------------------------------------------------------------------

from test_qgis_process import _run as _run_qgis_process, qgis_process_env  # noqa: E402,F401


@pytest.mark.slow
def test_exporteer_kaarten_in_qgis_process(qgis_process_env, scored_run, tmp_path):  # noqa: F811
    out = tmp_path / "kaarten"
    args = [f"{key}={value}" for key, value in scored_run.items()] + [
        f"OUTPUT_FOLDER={out}",
        "FORMAAT=2",
    ]
    done, seconds = _run_qgis_process(
        qgis_process_env, "--json", "run", "locatietoets:exporteerkaarten", "--", *args
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    print(f"qgis_process run locatietoets:exporteerkaarten: {seconds:.1f} s")
    report = json.loads(done.stdout[done.stdout.index("{") :])
    results = report["results"]
    assert results["AANTAL_KAARTEN"] == 4
    assert len(list(out.glob("*.png"))) == 4
    pages = _pdf_pages(results["PDF"])
    assert len(pages) == 4 and "Bron:" in pages[0]
    assert "Geschiktheid short-stay — gemeente Venlo" in pages[2]
    counts = _colours(str(out / "gemeente_venlo_short_stay.png"))
    assert len(counts) > 40 and _has_colour(counts, VERDICT_RGB["geschikt"])


def test_gemeente_name_field_is_the_first_candidate_the_layer_has(maps_provider):
    """Not chosen: the first of naam, gemeentenaam, gemeente, gm_naam, ... the layer has, in any
    case; the dialog's picker pre-selects the same (the plugin's field wrapper)."""
    from qgis_plugin.algorithms.exporteer_kaarten import ExporteerKaarten

    alg = ExporteerKaarten()
    alg.initAlgorithm()
    context = qgis_core.QgsProcessingContext()
    cbs = _layer("Polygon", [("GM_CODE", "string"), ("GM_NAAM", "string")], [])
    both = _layer("Polygon", [("Gemeente", "string"), ("GM_NAAM", "string")], [])
    assert alg._name_field({}, cbs, context) == "GM_NAAM"
    assert alg._name_field({}, both, context) == "Gemeente"
    assert alg._name_field({"GEMEENTE_NAAM_VELD": "GM_NAAM"}, both, context) == "GM_NAAM"
    wrapper = alg.parameterDefinition("GEMEENTE_NAAM_VELD").metadata()["widget_wrapper"]
    assert wrapper["guesses"][:3] == ["naam", "gemeentenaam", "gemeente"]
