"""The QGIS plugin: provider, algorithms, engine handling, styling, load/unload.

The Processing runs go through ``processing.run`` exactly as a model or batch
would, and their output is compared, field by field and site by site, with
``locatietoets score`` on the same data. Fixture layers are built in code with
PyQGIS (memory layers and GeoPackages near Venlo, EPSG:28992 and EPSG:4326).
The pure helpers of ``qgis_plugin.engine`` are tested without QGIS.
"""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path
import subprocess
import sys
import tomllib

import pytest

from qgis_plugin import engine as eng

REPO = Path(__file__).resolve().parents[1]
RD = "EPSG:28992"

# Sites: id, verblijfstype, huisvestingsvorm, personen, slaapkamers, woonoppervlak, x, y (RD New;
# None = no geometry)
SITES = [
    ("L1", "short_stay", "logies", 4, 4, 80.0, 200_250.0, 380_500.0),  # in BBG
    (
        "L2",
        "long_stay",
        "woonfunctie",
        3,
        2,
        40.0,
        200_750.0,
        380_500.0,
    ),  # in BBG, breaks housing norms
    ("L3", "long_stay", None, None, None, None, 201_100.0, 380_500.0),  # 100 m from BBG: rand
    ("L4", "mid_stay", None, 2, 2, 60.0, 201_600.0, 380_500.0),  # 600 m: buiten
    ("L5", "short_stay", None, None, None, None, 203_200.0, 380_200.0),  # on the park
    (
        "L6",
        None,
        None,
        None,
        None,
        None,
        201_050.0,
        380_900.0,
    ),  # no stay type: default; in the odour contour
    ("L7", "short_stay", None, None, None, None, None, None),  # no geometry
]
BBG = (200_000.0, 380_000.0, 201_000.0, 381_000.0)
KOM = (200_000.0, 380_000.0, 200_500.0, 381_000.0)
PARK = (203_000.0, 380_000.0, 203_400.0, 380_400.0)
CONTOUR = (
    200_900.0,
    380_800.0,
    201_300.0,
    381_200.0,
)  # 10 OUe/m³ around a farm at (201 100, 381 000)
FARM = (201_100.0, 381_000.0)
GEMEENTEN = [
    ("Venlo", "GM0983", (190_000.0, 370_000.0, 202_000.0, 390_000.0)),
    ("Venray", "GM0984", (202_000.0, 370_000.0, 212_000.0, 390_000.0)),
]


# ---------------------------------------------------------------------------
# Pure helpers (no QGIS needed)
# ---------------------------------------------------------------------------


def test_parse_overrides_numbers_booleans_text_and_gemeenten():
    overrides, gemeenten = eng.parse_overrides(
        "bbg_rand_m=150; max_termijn_jaar = 5\nbbg_binnen_aandeel=0,6; logies_geurgevoelig=ja;"
        " naam='x'; gemeenten.GM0983.bbg_rand_m=100; gemeenten.Venray.concentratiegebied=false"
    )
    assert overrides == {
        "bbg_rand_m": 150,
        "max_termijn_jaar": 5,
        "bbg_binnen_aandeel": 0.6,
        "logies_geurgevoelig": True,
        "naam": "x",
    }
    assert gemeenten == {"GM0983": {"bbg_rand_m": 100}, "Venray": {"concentratiegebied": False}}
    assert eng.parse_overrides("") == ({}, {})


def test_parse_overrides_reports_every_problem_in_dutch():
    with pytest.raises(ValueError, match="niet te lezen") as info:
        eng.parse_overrides("bbg_rand_m 150; 9x=1; bestand=a.toml; leeg=")
    text = str(info.value)
    assert (
        "mist een '='" in text and "'9x'" in text and "'bestand'" in text and "geen waarde" in text
    )


def test_render_config_is_valid_toml_with_escaped_paths():
    text = eng.render_config(
        {
            "locaties": {
                "pad": 'C:\\data\\"loc".gpkg',
                "laag": "sites",
                "id_veld": "id",
                "personen_veld": None,
            },
            "wegennet": {"pad": "/tmp/weg.gpkg", "modus": "fiets"},
        },
        ruleset="/tmp/regels.toml",
        overrides={"bbg_rand_m": 150, "aandeel": 0.5, "flag": True},
        gemeenten={"Sittard-Geleen": {"bbg_rand_m": 50}},
    )
    data = tomllib.loads(text)
    assert data["lagen"]["locaties"] == {
        "pad": 'C:\\data\\"loc".gpkg',
        "laag": "sites",
        "id_veld": "id",
    }
    assert data["lagen"]["wegennet"]["modus"] == "fiets"
    assert data["regels"] == {
        "bestand": "/tmp/regels.toml",
        "bbg_rand_m": 150,
        "aandeel": 0.5,
        "flag": True,
        "gemeenten": {"Sittard-Geleen": {"bbg_rand_m": 50}},
    }
    assert list(data["lagen"]) == ["locaties", "wegennet"]


def test_render_config_is_accepted_by_the_engine_config_reader(tmp_path):
    config = pytest.importorskip("locatietoets.layers.io.config")
    (tmp_path / "l.gpkg").write_bytes(b"")
    text = eng.render_config(
        {
            "locaties": {"pad": str(tmp_path / "l.gpkg"), "id_veld": "id"},
            "geurcontouren": {"pad": str(tmp_path / "g.gpkg"), "waarde_veld": "w"},
        },
        overrides={"bbg_rand_m": 150},
        gemeenten={"Venlo": {"bbg_rand_m": 100}},
    )
    parsed = config.parse_config(tomllib.loads(text), base_dir=tmp_path)
    assert parsed.layer("geurcontouren").get("waarde_veld") == "w"
    assert parsed.rules.overrides == {"bbg_rand_m": 150}
    assert parsed.rules.gemeenten == {"Venlo": {"bbg_rand_m": 100}}


def test_candidates_setting_wins_then_environment_variable(tmp_path):
    assert eng.candidate_paths(str(tmp_path / "x"), environ={eng.ENV_VAR: "/y"}) == [
        (str(tmp_path / "x"), "de instelling 'Pad naar locatietoets'")
    ]
    assert eng.candidate_paths("", environ={eng.ENV_VAR: "/y"})[0][0] == "/y"
    # a folder means the venv that holds the executable
    assert eng.candidate_paths(str(tmp_path), environ={})[0][0] == str(
        eng.venv_executable(tmp_path)
    )
    detected = [p for p, _ in eng.candidate_paths("", environ={"PATH": ""})]
    assert str(eng.venv_executable(eng.engine_env_dir())) in detected


def test_missing_engine_message_says_how_to_install(tmp_path):
    with pytest.raises(eng.EngineMissingError) as info:
        eng.find_engine(str(tmp_path / "bestaat-niet" / "locatietoets"))
    text = str(info.value)
    assert info.value.reason == "ontbreekt"
    assert "niet gevonden" in text and "bestaat-niet" in text
    assert "python3 -m venv" in text or "py -3.11 -m venv" in text
    assert "Pad naar locatietoets" in text and eng.ENV_VAR in text


def test_too_old_and_broken_engines_are_refused(tmp_path):
    old = tmp_path / "old"
    old.write_text("#!/bin/sh\necho 'locatietoets 0.0.9'\n")
    old.chmod(0o755)
    with pytest.raises(eng.EngineMissingError, match="versie 0.0.9.*minstens") as info:
        eng.find_engine(str(old))
    assert info.value.reason == "te_oud"
    broken = tmp_path / "broken"
    broken.write_text("#!/bin/sh\necho 'ModuleNotFoundError: geopandas' >&2\nexit 1\n")
    broken.chmod(0o755)
    with pytest.raises(eng.EngineMissingError, match="geopandas") as info:
        eng.find_engine(str(broken))
    assert info.value.reason == "onbruikbaar"


def test_run_engine_streams_progress_logs_and_errors(tmp_path):
    fake = tmp_path / "fake.py"
    fake.write_text(
        "import json, sys\n"
        "for f in (0.0, 0.5):\n"
        "    print(json.dumps({'type': 'stap', 'stap': 's', 'titel': 'Stap', 'voortgang': f}))\n"
        "print(json.dumps({'type': 'log', 'niveau': 'waarschuwing', 'bericht': 'Let op'}))\n"
        "print('geen json')\n"
        "if sys.argv[1] == 'fout':\n"
        "    print(json.dumps({'type': 'fout', 'bericht': 'Veld ontbreekt'})); sys.exit(2)\n"
        "print(json.dumps({'type': 'klaar', 'uitvoer': 'X', 'telling': {}}))\n"
    )
    seen: dict[str, list] = {"p": [], "i": [], "w": [], "d": []}
    done = eng.run_engine(
        sys.executable,
        [str(fake), "ok"],
        progress=seen["p"].append,
        info=seen["i"].append,
        warning=seen["w"].append,
        debug=seen["d"].append,
    )
    assert done["type"] == "klaar" and seen["p"] == [0.0, 0.5]
    assert seen["w"] == ["Let op"] and "geen json" in seen["d"]
    assert seen["i"] == ["Stap"]  # a title repeated by the next line is logged once
    with pytest.raises(eng.EngineRunError, match="Veld ontbreekt") as info:
        eng.run_engine(sys.executable, [str(fake), "fout"])
    assert info.value.exit_code == 2


def test_run_engine_cancel_ends_the_process(tmp_path):
    slow = tmp_path / "slow.py"
    slow.write_text(
        "import json, time\nprint(json.dumps({'type': 'stap', 'voortgang': 0.1}))\ntime.sleep(60)\n"
    )
    calls = []
    with pytest.raises(eng.EngineCancelledError):
        eng.run_engine(
            sys.executable, [str(slow)], progress=calls.append, is_cancelled=lambda: bool(calls)
        )
    assert calls == [0.1]


def test_engine_environment_drops_qgis_python_and_gdal_settings(monkeypatch):
    monkeypatch.setenv("PYTHONHOME", "/qgis/python")
    monkeypatch.setenv("PYTHONPATH", "/qgis/python/lib")
    monkeypatch.setenv("GDAL_DATA", "/qgis/gdal")
    env = eng.engine_environment()
    assert "PYTHONHOME" not in env and "PYTHONPATH" not in env and "GDAL_DATA" not in env
    assert env["PYTHONUNBUFFERED"] == "1"


def test_plugin_package_imports_no_geo_wheels():
    """Inside QGIS the plugin must not load geopandas & co. (library clash); it talks to the engine
    by process."""
    forbidden = (
        "geopandas",
        "shapely",
        "numpy",
        "pandas",
        "pyproj",
        "pyogrio",
        "rasterio",
        "fiona",
        "osmnx",
        "analysis",
        "layers",
        "scripts",
        "locatietoets",
    )
    for path in (REPO / "qgis_plugin").rglob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if stripped.startswith(("import ", "from ")):
                module = stripped.split()[1].split(".")[0]
                assert module not in forbidden, f"{path.name}: {stripped}"


# ---------------------------------------------------------------------------
# QGIS fixtures
# ---------------------------------------------------------------------------


@pytest.fixture()
def provider(qgis_core, qgis_processing, engine_exe, monkeypatch):
    """The Locatietoets provider registered, the engine given through LOCATIETOETS_ENGINE."""
    from qgis_plugin.provider import LocatietoetsProvider
    from qgis_plugin.settings import set_engine_setting

    monkeypatch.setenv(eng.ENV_VAR, engine_exe)
    registry = qgis_core.QgsApplication.processingRegistry()
    prov = LocatietoetsProvider()
    assert registry.addProvider(prov)
    set_engine_setting("")
    yield prov
    set_engine_setting("")
    registry.removeProvider(prov)


def _memory_layer(qgis_core, geometry: str, fields: list[tuple[str, str]], rows, crs: str = RD):
    spec = "&".join(f"field={name}:{kind}" for name, kind in fields)
    layer = qgis_core.QgsVectorLayer(f"{geometry}?crs={crs}&{spec}", "laag", "memory")
    features = []
    for geom, attrs in rows:
        feature = qgis_core.QgsFeature(layer.fields())
        if geom is not None:
            feature.setGeometry(geom)
        feature.setAttributes(list(attrs))
        features.append(feature)
    assert layer.dataProvider().addFeatures(features)
    layer.updateExtents()
    return layer


def _box(qgis_core, xmin, ymin, xmax, ymax):
    return qgis_core.QgsGeometry.fromRect(qgis_core.QgsRectangle(xmin, ymin, xmax, ymax))


def make_layers(qgis_core, crs: str = RD) -> dict[str, object]:
    """Fixture layers as memory layers, reprojected to ``crs`` when it is not RD New."""
    point = qgis_core.QgsPointXY
    g = qgis_core.QgsGeometry
    layers = {
        "locaties": _memory_layer(
            qgis_core,
            "Point",
            [
                ("id", "string"),
                ("type", "string"),
                ("vorm", "string"),
                ("personen", "integer"),
                ("slaapkamers", "integer"),
                ("opp", "double"),
            ],
            [
                (None if x is None else g.fromPointXY(point(x, y)), (i, t, v, p, s, o))
                for i, t, v, p, s, o, x, y in SITES
            ],
        ),
        "bebouwd_gebied": _memory_layer(
            qgis_core, "Polygon", [("naam", "string")], [(_box(qgis_core, *BBG), ("Venlo",))]
        ),
        "bebouwde_kom": _memory_layer(
            qgis_core, "Polygon", [("naam", "string")], [(_box(qgis_core, *KOM), ("kom",))]
        ),
        "recreatieparken": _memory_layer(
            qgis_core, "Polygon", [("naam", "string")], [(_box(qgis_core, *PARK), ("De Heide",))]
        ),
        "geurcontouren": _memory_layer(
            qgis_core, "Polygon", [("oue", "double")], [(_box(qgis_core, *CONTOUR), (10.0,))]
        ),
        "veehouderijen": _memory_layer(
            qgis_core,
            "Point",
            [("naam", "string")],
            [(g.fromPointXY(point(*FARM)), ("Varkenshouderij Hazenhof",))],
        ),
        "gemeenten": _memory_layer(
            qgis_core,
            "Polygon",
            [("naam", "string"), ("code", "string")],
            [(_box(qgis_core, *b), (n, c)) for n, c, b in GEMEENTEN],
        ),
    }
    if crs != RD:
        transform = qgis_core.QgsCoordinateTransform(
            qgis_core.QgsCoordinateReferenceSystem(RD),
            qgis_core.QgsCoordinateReferenceSystem(crs),
            qgis_core.QgsProject.instance(),
        )
        for name, layer in list(layers.items()):
            kind = {0: "Point", 2: "Polygon"}[layer.geometryType()]
            fields = [
                (
                    f.name(),
                    (
                        {"QString": "string", "int": "integer", "double": "double"}[f.typeName()]
                        if f.typeName() in ("QString", "int", "double")
                        else {10: "string", 2: "integer", 6: "double"}[f.type()]
                    ),
                )
                for f in layer.fields()
            ]
            rows = []
            for feature in layer.getFeatures():
                geom = None
                if feature.hasGeometry():
                    geom = qgis_core.QgsGeometry(feature.geometry())
                    geom.transform(transform)
                rows.append((geom, feature.attributes()))
            layers[name] = _memory_layer(qgis_core, kind, fields, rows, crs=crs)
    return layers


FIELD_PARAMS = {
    "ID_VELD": "id",
    "VERBLIJFSTYPE_VELD": "type",
    "HUISVESTINGSVORM_VELD": "vorm",
    "PERSONEN_VELD": "personen",
    "SLAAPKAMERS_VELD": "slaapkamers",
    "WOONOPPERVLAK_VELD": "opp",
    "GEURWAARDE_VELD": "oue",
    "VEEHOUDERIJ_NAAM_VELD": "naam",
    "RECREATIEPARK_NAAM_VELD": "naam",
    "GEMEENTE_NAAM_VELD": "naam",
    "GEMEENTE_CODE_VELD": "code",
}
LAYER_PARAMS = {
    "LOCATIES": "locaties",
    "BEBOUWD_GEBIED": "bebouwd_gebied",
    "BEBOUWDE_KOM": "bebouwde_kom",
    "RECREATIEPARKEN": "recreatieparken",
    "GEURCONTOUREN": "geurcontouren",
    "VEEHOUDERIJEN": "veehouderijen",
    "GEMEENTEN": "gemeenten",
}
CLI_CONFIG = """
[lagen.locaties]
pad = "locaties.gpkg"
id_veld = "id"
verblijfstype_veld = "type"
huisvestingsvorm_veld = "vorm"
personen_veld = "personen"
slaapkamers_veld = "slaapkamers"
woonoppervlak_veld = "opp"

[lagen.bebouwd_gebied]
pad = "bebouwd_gebied.gpkg"

[lagen.bebouwde_kom]
pad = "bebouwde_kom.gpkg"

[lagen.recreatieparken]
pad = "recreatieparken.gpkg"
naam_veld = "naam"

[lagen.geurcontouren]
pad = "geurcontouren.gpkg"
waarde_veld = "oue"

[lagen.veehouderijen]
pad = "veehouderijen.gpkg"
naam_veld = "naam"

[lagen.gemeenten]
pad = "gemeenten.gpkg"
naam_veld = "naam"
code_veld = "code"

[regels]
bbg_rand_m = 150
"""


def write_gpkg(qgis_core, layer, path: Path) -> None:
    options = qgis_core.QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    options.layerName = path.stem
    result = qgis_core.QgsVectorFileWriter.writeAsVectorFormatV3(
        layer, str(path), qgis_core.QgsProject.instance().transformContext(), options
    )
    assert result[0] == qgis_core.QgsVectorFileWriter.NoError, result


def run_cli(qgis_core, engine_exe: str, layers: dict, folder: Path) -> Path:
    """Write the layers as GeoPackages plus a config and run `locatietoets score` on them."""
    folder.mkdir(parents=True)
    for name, layer in layers.items():
        write_gpkg(qgis_core, layer, folder / f"{name}.gpkg")
    (folder / "config.toml").write_text(CLI_CONFIG, encoding="utf-8")
    done = subprocess.run(
        [
            engine_exe,
            "score",
            str(folder / "config.toml"),
            "--out",
            str(folder / "uit"),
            "--voortgang",
            "geen",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=eng.engine_environment(),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return folder / "uit" / "locaties.gpkg"


def stored_aliases(path: str) -> dict[str, str]:
    """The field aliases of the default style (QML) stored in the output GeoPackage's
    layer_styles table.

    Read with sqlite, not by opening the file as a QGIS layer: a second QgsVectorLayer on the
    Processing output, alive until the interpreter exits, made the test process end with a
    segmentation fault after every test had passed (QGIS tears down after exitQgis); loading the
    stored style in QGIS is tested in tests/test_qgis_result_style.py.
    """
    import sqlite3
    from xml.etree import ElementTree

    with contextlib.closing(sqlite3.connect(path.split("|")[0])) as db:
        (qml,) = db.execute(
            "SELECT styleQML FROM layer_styles WHERE useAsDefault = 1 LIMIT 1"
        ).fetchone()
    root = ElementTree.fromstring(qml.split("\n", 1)[1])  # past the DOCTYPE line
    return {alias.get("field"): alias.get("name") for alias in root.iter("alias")}


def read_result(qgis_core, uri: str) -> tuple[list[str], dict[str, dict]]:
    """Field names (without the GeoPackage fid) and {locatie id: attributes + geometry WKT}."""
    layer = qgis_core.QgsVectorLayer(uri, "r", "ogr")
    assert layer.isValid(), uri
    pk = set(layer.dataProvider().pkAttributeIndexes())
    names = [f.name() for i, f in enumerate(layer.fields()) if i not in pk]
    rows = {}
    for feature in layer.getFeatures():
        values = {n: feature[n] for n in names}
        values = {
            k: None if v is None or (hasattr(v, "isNull") and v.isNull()) else v
            for k, v in values.items()
        }
        # no geometry: the engine writes NULL, a QGIS sink may write an empty point; both mean
        # "none"
        geometry = feature.geometry()
        values["__geom"] = (
            geometry.asWkt(3) if feature.hasGeometry() and not geometry.isEmpty() else None
        )
        rows[values["id"]] = values
    return names, rows


def plugin_params(layers: dict, out: str, **extra) -> dict:
    params = {key: layers[name] for key, name in LAYER_PARAMS.items() if name in layers}
    params.update(FIELD_PARAMS)
    params.update({"PARAMETERS": "bbg_rand_m=150", "OUTPUT": out})
    params.update(extra)
    return params


# ---------------------------------------------------------------------------
# QGIS tests
# ---------------------------------------------------------------------------


@pytest.mark.qgis
def test_provider_lists_its_algorithms(provider, qgis_core):
    registry = qgis_core.QgsApplication.processingRegistry()
    assert registry.providerById("locatietoets") is not None
    ids = sorted(a.id() for a in provider.algorithms())
    assert {
        "locatietoets:geurtoets",
        "locatietoets:liggingbbg",
        "locatietoets:reisafstand",
        "locatietoets:toetslocaties",
        "locatietoets:exporteerkaarten",
    } <= set(ids)
    names = {a.id(): a.displayName() for a in provider.algorithms()}
    assert names["locatietoets:toetslocaties"] == "Toets locaties"
    assert names["locatietoets:liggingbbg"] == "Ligging t.o.v. bebouwd gebied"
    for algorithm in provider.algorithms():
        help_text = algorithm.shortHelpString()
        assert not help_text.startswith("<h3>")  # the dialog shows the name as the title
        assert "Bronnen" in help_text and "Kandidaatlocaties" in help_text


@pytest.mark.qgis
def test_toolbox_shows_toets_locaties_first_then_the_groups(provider, qgis_core):
    """In the Processing toolbox: Toets locaties above the groups Kaarten, Planning, Toetsen (QGIS's
    own sorting)."""
    qgis_gui = pytest.importorskip("qgis.gui")
    groups = {a.id().split(":")[1]: (a.group(), a.groupId()) for a in provider.algorithms()}
    assert groups == {
        "toetslocaties": ("", ""),
        "liggingbbg": ("Toetsen", "toetsen"),
        "geurtoets": ("Toetsen", "toetsen"),
        "reisafstand": ("Toetsen", "toetsen"),
        "capaciteit": ("Planning", "planning"),
        "vergelijk": ("Planning", "planning"),
        "raster": ("Planning", "planning"),
        "bedrijfslocatie": ("Planning", "planning"),
        "gevoeligheid": ("Planning", "planning"),
        "exporteerkaarten": ("Kaarten", "kaarten"),
    }
    model = qgis_gui.QgsProcessingToolboxProxyModel(
        None, qgis_core.QgsApplication.processingRegistry()
    )
    top = next(
        model.index(r, 0)
        for r in range(model.rowCount())
        if model.data(model.index(r, 0)) == "Locatietoets"
    )
    shown = [model.data(model.index(r, 0, top)) for r in range(model.rowCount(top))]
    assert shown == ["Toets locaties", "Kaarten", "Planning", "Toetsen"]


@pytest.mark.qgis
def test_toets_locaties_offers_every_config_layer_with_field_pickers(provider, qgis_core):
    from locatietoets.layers.io.config import LAYER_KEYS
    from qgis_plugin.algorithms.base import EngineAlgorithm

    algorithm = qgis_core.QgsApplication.processingRegistry().algorithmById(
        "locatietoets:toetslocaties"
    )
    sources = {
        p.name(): p
        for p in algorithm.parameterDefinitions()
        if isinstance(p, qgis_core.QgsProcessingParameterFeatureSource)
    }
    config_names = {EngineAlgorithm.LAYER_INPUTS[k].config_name for k in sources}
    assert config_names == set(LAYER_KEYS)
    # optional in the form: a config.toml may give the sites (checked: sites or a config)
    assert sources["LOCATIES"].flags() & qgis_core.QgsProcessingParameterDefinition.FlagOptional
    assert all(
        p.flags() & qgis_core.QgsProcessingParameterDefinition.FlagOptional
        for k, p in sources.items()
        if k != "LOCATIES"
    )
    for layer in EngineAlgorithm.LAYER_INPUTS.values():
        for field in layer.fields:
            assert field.config_key in LAYER_KEYS[layer.config_name]
            param = algorithm.parameterDefinition(field.key)
            assert param.parentLayerParameterName() == layer.key
    for key in (
        "REGELSET",
        "PARAMETERS",
        "STANDAARD_VERBLIJFSTYPE",
        "WEGENNET_MODUS",
        "UITVOERMAP",
        "OUTPUT",
    ):
        assert algorithm.parameterDefinition(key) is not None, key


@pytest.mark.qgis
def test_toets_locaties_gives_the_same_fields_and_values_as_the_cli(
    provider, qgis_core, engine_exe, tmp_path
):
    import processing

    layers = make_layers(qgis_core)
    cli_gpkg = run_cli(qgis_core, engine_exe, layers, tmp_path / "cli")
    feedback = qgis_core.QgsProcessingFeedback()
    progress = []
    feedback.progressChanged.connect(progress.append)
    result = processing.run(
        "locatietoets:toetslocaties",
        plugin_params(layers, str(tmp_path / "plugin.gpkg"), UITVOERMAP=str(tmp_path / "uit")),
        feedback=feedback,
    )
    cli_fields, cli_rows = read_result(qgis_core, f"{cli_gpkg}|layername=locaties")
    fields, rows = read_result(qgis_core, result["OUTPUT"])
    assert fields == cli_fields
    for key in cli_rows:
        assert rows[key] == cli_rows[key], {
            k: (rows[key].get(k), v) for k, v in cli_rows[key].items() if rows[key].get(k) != v
        }
    assert rows.keys() == cli_rows.keys()
    for name in (
        "oordeel",
        "oordeel_short_stay",
        "oordeel_mid_stay",
        "oordeel_long_stay",
        "score",
        "redenen",
        "regels",
        "bbg_ligging",
        "bbg_afstand_m",
        "recreatiepark",
        "gemeente",
    ):
        assert name in fields
    # sanity: the numbers are the hand-computable ones, with bbg_rand_m=150 from the overrides
    assert rows["L1"]["bbg_ligging"] == "binnen" and rows["L3"]["bbg_ligging"] == "rand"
    assert rows["L3"]["bbg_afstand_m"] == pytest.approx(100.0)
    assert rows["L4"]["bbg_ligging"] == "buiten" and rows["L4"]["oordeel"] == "ongeschikt"
    assert rows["L5"]["recreatiepark"] == "De Heide" and rows["L5"]["gemeente"] == "Venray"
    assert rows["L7"]["oordeel"] is None and rows["L7"]["__geom"] in (None, "Point EMPTY")
    assert rows["L1"]["oordeel"] == "geschikt"
    # outputs, counts and progress
    counts = {
        k: result[k]
        for k in (
            "AANTAL_GESCHIKT",
            "AANTAL_VOORWAARDELIJK",
            "AANTAL_ONGESCHIKT",
            "AANTAL_ZONDER_OORDEEL",
        )
    }
    expected = {
        "AANTAL_GESCHIKT": 0,
        "AANTAL_VOORWAARDELIJK": 0,
        "AANTAL_ONGESCHIKT": 0,
        "AANTAL_ZONDER_OORDEEL": 0,
    }
    for row in rows.values():
        key = {
            "geschikt": "AANTAL_GESCHIKT",
            "voorwaardelijk": "AANTAL_VOORWAARDELIJK",
            "ongeschikt": "AANTAL_ONGESCHIKT",
            None: "AANTAL_ZONDER_OORDEEL",
        }[row["oordeel"]]
        expected[key] += 1
    assert counts == expected
    assert Path(result["RUN_JSON"]).is_file() and Path(result["CSV"]).is_file()
    assert Path(result["UITVOERMAP"]) == tmp_path / "uit"
    assert progress and max(progress) == 100 and progress == sorted(progress)
    log = feedback.textLog()
    assert "Rekenkern:" in log
    # the counts worded as the command line's summary
    assert "Oordeel per verblijfstype (elke locatie getoetst voor elk verblijfstype):" in log
    assert (
        "Eigen verblijfstype: " in log
        and " locaties geschikt voor hun eigen verblijfstype, " in log
    )
    assert (
        "Ligging t.o.v. bestaand bebouwd gebied: binnen 2, deels 0, rand 2, buiten 2" in log
    )  # per-step counts
    assert "Niet uitgevoerd: reis" in log
    # the output GeoPackage carries the plugin's categorised style as its default
    styled = qgis_core.QgsVectorLayer(result["OUTPUT"], "s", "ogr")
    assert styled.renderer().type() == "categorizedSymbol"
    assert styled.renderer().classAttribute() == "oordeel"


@pytest.mark.qgis
def test_reprojected_input_gives_the_same_numbers(provider, qgis_core, engine_exe, tmp_path):
    """Layers in EPSG:4326: the plugin equals the CLI on the same data, and the RD New run up to
    rounding."""
    import processing

    layers_wgs = make_layers(qgis_core, "EPSG:4326")
    assert layers_wgs["locaties"].crs().authid() == "EPSG:4326"
    cli_gpkg = run_cli(qgis_core, engine_exe, layers_wgs, tmp_path / "cli")
    result = processing.run(
        "locatietoets:toetslocaties", plugin_params(layers_wgs, str(tmp_path / "wgs.gpkg"))
    )
    fields, rows = read_result(qgis_core, result["OUTPUT"])
    assert (fields, rows) == read_result(qgis_core, f"{cli_gpkg}|layername=locaties")

    rd = processing.run(
        "locatietoets:toetslocaties",
        plugin_params(make_layers(qgis_core), str(tmp_path / "rd.gpkg")),
    )
    _, rows_rd = read_result(qgis_core, rd["OUTPUT"])
    assert rows.keys() == rows_rd.keys()
    for site, row in rows.items():
        for name in fields:
            a, b = row[name], rows_rd[site][name]
            if isinstance(a, float) and isinstance(b, float):
                assert math.isclose(a, b, abs_tol=0.5), (
                    site,
                    name,
                    a,
                    b,
                )  # < 0.5 m from the datum shift round trip
            elif name != "redenen":  # reasons quote distances rounded to whole metres
                assert a == b, (site, name, a, b)


@pytest.mark.qgis
def test_single_steps_build_their_own_config(provider, qgis_core, tmp_path):
    import processing

    layers = make_layers(qgis_core)
    bbg = processing.run(
        "locatietoets:liggingbbg",
        {
            "LOCATIES": layers["locaties"],
            "ID_VELD": "id",
            "VERBLIJFSTYPE_VELD": "type",
            "BEBOUWD_GEBIED": layers["bebouwd_gebied"],
            "OUTPUT": str(tmp_path / "bbg.gpkg"),
        },
    )
    _, rows = read_result(qgis_core, bbg["OUTPUT"])
    assert rows["L3"]["bbg_ligging"] == "rand" and rows["L4"]["bbg_ligging"] == "buiten"
    assert rows["L5"].get("recreatiepark") in (None, "")  # no park layer in this step

    geur = processing.run(
        "locatietoets:geurtoets",
        {
            "LOCATIES": layers["locaties"],
            "ID_VELD": "id",
            "HUISVESTINGSVORM_VELD": "vorm",
            "GEURCONTOUREN": layers["geurcontouren"],
            "GEURWAARDE_VELD": "oue",
            "VEEHOUDERIJEN": layers["veehouderijen"],
            "BEBOUWD_GEBIED": layers["bebouwd_gebied"],
            "OUTPUT": str(tmp_path / "geur.gpkg"),
        },
    )
    fields, rows = read_result(qgis_core, geur["OUTPUT"])
    assert "geur_oue" in fields
    assert rows["L6"]["geur_oue"] == pytest.approx(10.0)

    algorithm = qgis_core.QgsApplication.processingRegistry().algorithmById(
        "locatietoets:geurtoets"
    )
    ok, message = algorithm.checkParameterValues(
        {"LOCATIES": layers["locaties"], "OUTPUT": "TEMPORARY_OUTPUT"},
        qgis_core.QgsProcessingContext(),
    )
    assert not ok and "Geurcontouren" in message and "Veehouderijen" in message
    # the contour value field left out: 'oue' fits (the run takes it), a layer without a field
    # that fits is refused
    ok, message = algorithm.checkParameterValues(
        {
            "LOCATIES": layers["locaties"],
            "GEURCONTOUREN": layers["geurcontouren"],
            "OUTPUT": "TEMPORARY_OUTPUT",
        },
        qgis_core.QgsProcessingContext(),
    )
    assert ok, message
    no_value = _memory_layer(
        qgis_core, "Polygon", [("code", "string")], [(_box(qgis_core, *CONTOUR), ("c1",))]
    )
    ok, message = algorithm.checkParameterValues(
        {
            "LOCATIES": layers["locaties"],
            "GEURCONTOUREN": no_value,
            "OUTPUT": "TEMPORARY_OUTPUT",
        },
        qgis_core.QgsProcessingContext(),
    )
    assert not ok and "contourwaarde" in message


@pytest.mark.qgis
def test_reisafstand_runs_on_a_small_network(provider, qgis_core, tmp_path):
    import processing

    g, p = qgis_core.QgsGeometry, qgis_core.QgsPointXY
    locaties = _memory_layer(
        qgis_core,
        "Point",
        [("id", "string")],
        [
            (g.fromPointXY(p(200_000.0, 380_010.0)), ("R1",)),
            (g.fromPointXY(p(201_000.0, 380_010.0)), ("R2",)),
        ],
    )
    werkgevers = _memory_layer(
        qgis_core,
        "Point",
        [("naam", "string")],
        [(g.fromPointXY(p(202_000.0, 380_010.0)), ("Kassen BV",))],
    )
    roads = _memory_layer(
        qgis_core,
        "LineString",
        [("naam", "string")],
        [(g.fromPolylineXY([p(199_900.0, 380_000.0), p(202_100.0, 380_000.0)]), ("Hoofdweg",))],
    )
    result = processing.run(
        "locatietoets:reisafstand",
        {
            "LOCATIES": locaties,
            "ID_VELD": "id",
            "WERKGEVERS": werkgevers,
            "WERKGEVER_NAAM_VELD": "naam",
            "WEGENNET": roads,
            "WEGENNET_MODUS": 1,
            "OUTPUT": str(tmp_path / "reis.gpkg"),
        },
    )
    fields, rows = read_result(qgis_core, result["OUTPUT"])
    assert rows["R1"]["werkgever"] == "Kassen BV"
    assert rows["R1"]["werkgever_reistijd_min"] > rows["R2"]["werkgever_reistijd_min"] > 0


@pytest.mark.qgis
def test_default_stay_type_applies_to_sites_without_one(provider, qgis_core, tmp_path):
    import processing

    layers = make_layers(qgis_core)
    result = processing.run(
        "locatietoets:toetslocaties",
        {
            "LOCATIES": layers["locaties"],
            "ID_VELD": "id",
            "VERBLIJFSTYPE_VELD": "type",
            "BEBOUWD_GEBIED": layers["bebouwd_gebied"],
            "STANDAARD_VERBLIJFSTYPE": 2,
            "OUTPUT": str(tmp_path / "o.gpkg"),
        },
    )
    _, rows = read_result(qgis_core, result["OUTPUT"])
    assert rows["L6"]["verblijfstype"] == "long_stay"  # no stay type → the chosen default
    assert rows["L6"]["oordeel"] == rows["L6"]["oordeel_long_stay"]
    assert rows["L4"]["verblijfstype"] == "mid_stay"  # its own type is kept


@pytest.mark.qgis
def test_cancel_stops_the_engine(provider, qgis_core, tmp_path):
    import processing

    layers = make_layers(qgis_core)
    feedback = qgis_core.QgsProcessingFeedback()
    feedback.progressChanged.connect(lambda _p: feedback.cancel())
    with pytest.raises(qgis_core.QgsProcessingException, match="afgebroken"):
        processing.run(
            "locatietoets:toetslocaties",
            plugin_params(layers, str(tmp_path / "o.gpkg"), UITVOERMAP=str(tmp_path / "uit")),
            feedback=feedback,
        )
    assert not (tmp_path / "uit" / "locaties.gpkg").exists()


@pytest.mark.qgis
def test_engine_errors_come_back_in_dutch(provider, qgis_core, tmp_path):
    import processing

    layers = make_layers(qgis_core)
    with pytest.raises(qgis_core.QgsProcessingException, match="rekenkern meldt een fout") as info:
        processing.run(
            "locatietoets:toetslocaties",
            plugin_params(
                {"locaties": layers["locaties"]},
                str(tmp_path / "o.gpkg"),
                PARAMETERS="bbg_rand_mm=150",
            ),
        )
    assert "bbg_rand_mm" in str(info.value)


@pytest.mark.qgis
def test_missing_engine_raises_processing_exception_with_instructions(
    provider, qgis_core, tmp_path
):
    import processing

    from qgis_plugin.settings import engine_setting, set_engine_setting

    set_engine_setting(str(tmp_path / "nergens" / "locatietoets"))
    assert engine_setting().endswith("nergens/locatietoets")
    layers = make_layers(qgis_core)
    with pytest.raises(qgis_core.QgsProcessingException) as info:
        processing.run(
            "locatietoets:toetslocaties",
            {"LOCATIES": layers["locaties"], "OUTPUT": "TEMPORARY_OUTPUT"},
        )
    text = str(info.value)
    assert "niet gevonden" in text and "nergens" in text and "Zo installeert u de rekenkern" in text


@pytest.mark.qgis
def test_result_style_categories_labels_and_map_tip(qgis_core):
    from qgis_plugin.styling import ResultStyler, apply_result_style

    layer = _memory_layer(
        qgis_core,
        "Point",
        [("id", "string"), ("oordeel", "string"), ("redenen", "string"), ("score", "double")],
        [
            (
                qgis_core.QgsGeometry.fromPointXY(qgis_core.QgsPointXY(200_000, 380_000)),
                ("L1", "voorwaardelijk", "Reden één; Reden twee", 55.0),
            )
        ],
    )
    ResultStyler.create("id").postProcessLayer(layer, qgis_core.QgsProcessingContext(), None)
    renderer = layer.renderer()
    assert renderer.classAttribute() == "oordeel"
    cats = [(c.value(), c.label(), c.symbol().color().name()) for c in renderer.categories()]
    assert cats == [
        ("geschikt", "Geschikt", "#01665e"),
        ("voorwaardelijk", "Voorwaardelijk", "#fdae61"),
        ("ongeschikt", "Ongeschikt", "#d7191c"),
        ("", "Geen oordeel (geen geometrie)", "#a0a0a0"),
    ]
    assert '"redenen"' in layer.mapTipTemplate()
    assert layer.attributeDisplayName(layer.fields().indexOf("redenen")) == "Redenen"
    context = qgis_core.QgsExpressionContext(
        qgis_core.QgsExpressionContextUtils.globalProjectLayerScopes(layer)
    )
    context.setFeature(next(layer.getFeatures()))
    tip = qgis_core.QgsExpression.replaceExpressionText(layer.mapTipTemplate(), context)
    assert "L1" in tip and "voorwaardelijk" in tip and "Reden één<br>&bull; Reden twee" in tip
    display = qgis_core.QgsExpression(layer.displayExpression()).evaluate(context)
    assert display == "L1 — voorwaardelijk"
    apply_result_style(layer)  # idempotent


@pytest.mark.qgis
def test_run_and_load_results_styles_the_loaded_layer(provider, qgis_core, tmp_path):
    import processing

    layers = make_layers(qgis_core)
    project = qgis_core.QgsProject.instance()
    result = processing.runAndLoadResults(
        "locatietoets:liggingbbg",
        {
            "LOCATIES": layers["locaties"],
            "ID_VELD": "id",
            "BEBOUWD_GEBIED": layers["bebouwd_gebied"],
            "OUTPUT": "TEMPORARY_OUTPUT",
        },
    )
    try:
        loaded = (
            project.mapLayer(result["OUTPUT"])
            if isinstance(result["OUTPUT"], str)
            else result["OUTPUT"]
        )
        assert loaded is not None
        assert loaded.renderer().type() == "categorizedSymbol"
        assert "redenen" in loaded.mapTipTemplate()
        # the run's reference layers, styled, as a group right under the result
        from qgis_plugin.reference import GROUP_NAME

        root = project.layerTreeRoot()
        group = root.findGroup(GROUP_NAME)
        assert group is not None
        node = root.findLayer(loaded.id())
        siblings = node.parent().children()
        assert siblings.index(group) == siblings.index(node) + 1
        names = [child.layer().name() for child in group.findLayers()]
        assert "Bestaand bebouwd gebied (BBG)" in names
        bbg = next(c.layer() for c in group.findLayers() if c.layer().name().startswith("Bestaand"))
        assert bbg.renderer().symbol().color().name() == "#d5cbbb"  # the maps' BBG colour
    finally:
        project.removeAllMapLayers()
        project.layerTreeRoot().removeAllChildren()


@pytest.mark.qgis
def test_plugin_loads_shows_missing_engine_message_and_unloads(
    qgis_core, qgis_iface, qgis_processing, tmp_path, monkeypatch
):
    import qgis_plugin
    from qgis_plugin.settings import set_engine_setting

    monkeypatch.delenv(eng.ENV_VAR, raising=False)
    registry = qgis_core.QgsApplication.processingRegistry()
    plugin = qgis_plugin.classFactory(qgis_iface)
    plugin.initGui()
    try:
        assert registry.providerById("locatietoets") is not None
        assert [a.objectName() for a in plugin.actions] == [
            "locatietoetsToetsLocaties",
            "locatietoetsRekenkern",
            "locatietoetsHelp",
        ]
        set_engine_setting(str(tmp_path / "weg" / "locatietoets"))
        assert plugin.check_engine() is None  # no exception: a message instead
        item = plugin.message
        assert item is not None
        assert "Rekenkern ontbreekt" in item.title() and "niet gevonden" in item.text()
        from qgis.PyQt.QtWidgets import QPushButton

        labels = [b.text() for b in item.findChildren(QPushButton)]
        assert "Hoe installeren?" in labels and "Instellingen…" in labels
    finally:
        set_engine_setting("")
        plugin.unload()
    assert registry.providerById("locatietoets") is None
    assert plugin.actions == [] and plugin.message is None


@pytest.mark.qgis
def test_plugin_finds_the_engine_through_the_environment_variable(
    qgis_core, qgis_iface, qgis_processing, engine_exe, monkeypatch
):
    import qgis_plugin

    monkeypatch.setenv(eng.ENV_VAR, engine_exe)
    plugin = qgis_plugin.classFactory(qgis_iface)
    plugin.initProcessing()
    try:
        found = plugin.check_engine()
        assert (
            found is not None and found.path == engine_exe and found.version >= eng.MINIMUM_VERSION
        )
        assert plugin.message is None
    finally:
        plugin.unload()


def _mixed_sites(tmp_path: Path) -> str:
    """The fixture sites as one GeoPackage layer of points and polygons (as the demo's
    kandidaatlocaties)."""
    gpd = pytest.importorskip("geopandas")
    from shapely.geometry import Point, box

    rows = []
    for i, t, v, p, s, o, x, y in SITES:
        if x is None:
            geometry = None
        elif i in ("L2", "L4"):  # two sites are small plots around their point
            geometry = box(x - 30, y - 20, x + 30, y + 20)
        else:
            geometry = Point(x, y)
        rows.append(
            {
                "id": i,
                "type": t,
                "vorm": v,
                "personen": p,
                "slaapkamers": s,
                "opp": o,
                "geometry": geometry,
            }
        )
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=RD)
    path = tmp_path / "gemengd.gpkg"
    frame.to_file(
        path,
        layer="locaties",
        driver="GPKG",
        geometry_type="Unknown",
        engine="pyogrio",
        VERSION="1.2",
    )
    return f"{path}|layername=locaties"


@pytest.mark.qgis
def test_toets_locaties_on_points_and_polygons_loads_every_site_styled(
    provider, qgis_core, tmp_path
):
    """Mixed sites (QGIS reports the layer as "Point"): the temporary output becomes a GeoPackage
    that holds
    both types, loaded as one layer whose rules colour points and polygons; no site is lost."""
    import processing

    layers = make_layers(qgis_core)
    layers["locaties"] = qgis_core.QgsVectorLayer(_mixed_sites(tmp_path), "locaties", "ogr")
    assert layers["locaties"].wkbType() == qgis_core.QgsWkbTypes.Point
    project = qgis_core.QgsProject.instance()
    result = processing.runAndLoadResults(
        "locatietoets:toetslocaties", plugin_params(layers, "TEMPORARY_OUTPUT")
    )
    try:
        assert result["OUTPUT"].endswith(".gpkg")
        loaded = [
            layer
            for layer in project.mapLayers().values()
            if layer.source().startswith(result["OUTPUT"])
        ]
        assert len(loaded) == 1
        layer = loaded[0]
        assert layer.featureCount() == len(SITES)  # L7 without geometry too
        kinds = {}
        for feature in layer.getFeatures():
            if feature.hasGeometry():
                kind = feature.geometry().type()
                kinds[kind] = kinds.get(kind, 0) + 1
        assert kinds == {
            qgis_core.QgsWkbTypes.PointGeometry: 4,
            qgis_core.QgsWkbTypes.PolygonGeometry: 2,
        }
        renderer = layer.renderer()
        assert renderer.type() == "RuleRenderer"
        rules = renderer.rootRule().children()
        assert {(rule.label(), rule.symbol().type()) for rule in rules} >= {
            ("Geschikt (punt)", qgis_core.QgsSymbol.Marker),
            ("Geschikt (vlak)", qgis_core.QgsSymbol.Fill),
            ("Ongeschikt (vlak)", qgis_core.QgsSymbol.Fill),
        }
        assert layer.customProperty("locatietoets/run_json") == result["RUN_JSON"]
        # the run record beside the file names the rule set
        assert Path(result["RUN_JSON"]) == Path(result["OUTPUT"]).with_suffix(".run.json")
        assert '"regelset"' in Path(result["RUN_JSON"]).read_text(encoding="utf-8")
        # opened again as one sublayer per type (as QGIS Desktop offers it), both keep the verdict
        # rules
        for kind in ("Point", "Polygon"):
            part = qgis_core.QgsVectorLayer(f"{result['OUTPUT']}|geometrytype={kind}", kind, "ogr")
            assert part.isValid() and part.renderer().type() == "RuleRenderer", kind
    finally:
        project.removeAllMapLayers()


@pytest.mark.qgis
def test_toets_locaties_refuses_a_shapefile_for_points_and_polygons(provider, qgis_core, tmp_path):
    import processing

    layers = make_layers(qgis_core)
    layers["locaties"] = qgis_core.QgsVectorLayer(_mixed_sites(tmp_path), "locaties", "ogr")
    feedback = qgis_core.QgsProcessingFeedback()
    with pytest.raises(qgis_core.QgsProcessingException, match="GeoPackage"):
        processing.run(
            "locatietoets:toetslocaties",
            plugin_params(layers, str(tmp_path / "uit.shp")),
            feedback=feedback,
        )
    assert "Rekenkern" not in feedback.textLog()  # refused before the engine runs
    assert not list(tmp_path.glob("uit.*"))


@pytest.mark.qgis
def test_maps_of_a_toets_locaties_output_name_its_rule_set(provider, qgis_core, tmp_path):
    """The output GeoPackage gets ``<naam>.run.json`` beside it; Exporteer woonvisiekaarten finds it
    there."""
    import processing

    layers = make_layers(qgis_core)
    out = tmp_path / "resultaat" / "toets.gpkg"
    out.parent.mkdir()
    result = processing.run("locatietoets:toetslocaties", plugin_params(layers, str(out)))
    assert Path(result["RUN_JSON"]) == tmp_path / "resultaat" / "toets.run.json"
    assert not (tmp_path / "resultaat" / "run.json").exists()
    gemeenten = tmp_path / "gemeenten.gpkg"
    write_gpkg(qgis_core, layers["gemeenten"], gemeenten)
    maps = processing.run(
        "locatietoets:exporteerkaarten",
        {
            "LOCATIES": str(out),
            "GEMEENTEN": str(gemeenten),
            "FORMAAT": 0,
            "OUTPUT_FOLDER": str(tmp_path / "kaarten"),
        },
    )
    pypdf = pytest.importorskip("pypdf")
    text = " ".join((pypdf.PdfReader(maps["PDF"]).pages[0].extract_text() or "").split())
    assert "regelset limburg-povi2021 versie" in text and "regelset onbekend" not in text


@pytest.mark.qgis
def test_maps_of_a_temporary_toets_locaties_layer_name_its_rule_set(provider, qgis_core, tmp_path):
    """A temporary (memory) result carries its run record's path; Exporteer woonvisiekaarten reads
    it."""
    import processing

    layers = make_layers(qgis_core)
    result = processing.run("locatietoets:toetslocaties", plugin_params(layers, "TEMPORARY_OUTPUT"))
    layer = result["OUTPUT"]
    if isinstance(layer, str):
        layer = qgis_core.QgsProject.instance().mapLayer(layer)
    assert isinstance(layer, qgis_core.QgsVectorLayer) and layer.providerType() == "memory"
    assert layer.customProperty("locatietoets/run_json") == result["RUN_JSON"]
    maps = processing.run(
        "locatietoets:exporteerkaarten",
        {
            "LOCATIES": layer,
            "GEMEENTEN": layers["gemeenten"],
            "FORMAAT": 0,
            "OUTPUT_FOLDER": str(tmp_path),
        },
    )
    pypdf = pytest.importorskip("pypdf")
    text = " ".join((pypdf.PdfReader(maps["PDF"]).pages[0].extract_text() or "").split())
    assert "regelset limburg-povi2021 versie" in text and "regelset onbekend" not in text


@pytest.mark.qgis
def test_toets_locaties_takes_constraint_layers_named_after_the_layer(
    provider, qgis_core, tmp_path
):
    """Declared constraint layers: the QGIS layer name is the constraint's name; the rule set's
    rules on that name judge it, a layer without a rule is a warning."""
    import processing

    from qgis_plugin.algorithms.base import constraint_name

    assert constraint_name("Externe veiligheid") == "externe_veiligheid"
    assert constraint_name("Natura2000") == "natura2000"
    assert constraint_name("2024 geluid") == "laag_2024_geluid"
    # the built-in rule set's names match without case, spaces, underscores and hyphens
    assert constraint_name("Natura 2000") == "natura2000"
    assert constraint_name("Bedrijven-terreinen") == "bedrijventerreinen"
    assert constraint_name("ExterneVeiligheid") == "externe_veiligheid"
    assert constraint_name("Natura 2000 gebieden") == "natura_2000_gebieden"  # not equal: kept
    assert constraint_name("Water wingebied", ("waterwingebied",)) == "waterwingebied"
    layers = make_layers(qgis_core)
    natura = _memory_layer(
        qgis_core,
        "Polygon",
        [("code", "string"), ("Naam_N2K", "string")],
        [(_box(qgis_core, 200_100, 380_400, 200_400, 380_600), ("N2K-133", "Peelvenen"))],
    )
    natura.setName("Natura 2000")  # as QGIS names it: the rule set's natura2000
    water = _memory_layer(
        qgis_core,
        "Polygon",
        [("naam", "string")],
        [(_box(qgis_core, 205_000, 385_000, 205_100, 385_100), ("put",))],
    )
    water.setName("Waterwingebied")
    feedback = qgis_core.QgsProcessingFeedback()
    warnings = []
    feedback.reportError = lambda text, fatal=False: warnings.append(text)
    result = processing.run(
        "locatietoets:toetslocaties",
        {
            "LOCATIES": layers["locaties"],
            "ID_VELD": "id",
            "VERBLIJFSTYPE_VELD": "type",
            "BEPERKINGEN": [natura, water],
            "UITVOERMAP": str(tmp_path / "uit"),
            "OUTPUT": str(tmp_path / "o.gpkg"),
        },
        feedback=feedback,
    )
    fields, rows = read_result(qgis_core, result["OUTPUT"])
    assert {"natura2000", "natura2000_afstand_m", "waterwingebied"} & set(fields) == {
        "natura2000",
        "natura2000_afstand_m",
    }
    assert rows["L1"]["natura2000"] == "Peelvenen"
    assert stored_aliases(result["OUTPUT"])["natura2000"] == "Beperking: Natura 2000"
    assert rows["L1"]["oordeel"] == "ongeschikt" and "natura2000.binnen" in rows["L1"]["regels"]
    assert rows["L2"]["natura2000_afstand_m"] == pytest.approx(350.0)
    record = json.loads((tmp_path / "uit" / "run.json").read_text(encoding="utf-8"))
    assert any("[lagen.beperkingen.waterwingebied]" in w for w in record["waarschuwingen"])
    assert "natuurnetwerk.binnen" in record["regels_niet_getoetst"]
    assert "[lagen.beperkingen.natura2000]" not in " ".join(record["waarschuwingen"])


@pytest.mark.qgis
def test_toets_locaties_takes_facility_layers_named_after_the_layer(provider, qgis_core, tmp_path):
    """Facility layers: the QGIS layer name is the kind ([lagen.voorzieningen.<soort>]), a field
    'name' its naam_veld; the distance over the road network is judged by the rule set's
    voorziening.<soort>.* rules (supermarkt: at most 2000 m)."""
    import processing

    g, p = qgis_core.QgsGeometry, qgis_core.QgsPointXY
    locaties = _memory_layer(
        qgis_core,
        "Point",
        [("id", "string"), ("type", "string")],
        [
            (g.fromPointXY(p(200_000.0, 380_010.0)), ("V1", "short_stay")),
            (g.fromPointXY(p(203_000.0, 380_010.0)), ("V2", "short_stay")),
        ],
    )
    roads = _memory_layer(
        qgis_core,
        "LineString",
        [("naam", "string")],
        [(g.fromPolylineXY([p(199_900.0, 380_000.0), p(203_100.0, 380_000.0)]), ("Hoofdweg",))],
    )
    shops = _memory_layer(
        qgis_core,
        "Point",
        [("winkelketen", "string"), ("name", "string")],
        [(g.fromPointXY(p(200_500.0, 380_010.0)), ("Jumbo", "Jumbo Venlo-Oost"))],
    )
    shops.setName("Supermarkt")
    params = {
        "LOCATIES": locaties,
        "ID_VELD": "id",
        "VERBLIJFSTYPE_VELD": "type",
        "WEGENNET": roads,
        "VOORZIENINGEN": [shops],
        "UITVOERMAP": str(tmp_path / "uit"),
        "CONFIGURATIE_OPSLAAN": str(tmp_path / "config.toml"),
        "OUTPUT": str(tmp_path / "o.gpkg"),
    }
    result = processing.run("locatietoets:toetslocaties", params)
    fields, rows = read_result(qgis_core, result["OUTPUT"])
    assert {"voorziening_supermarkt", "voorziening_supermarkt_afstand_m"} <= set(fields)
    # not asked: the default candidates (naam, name, ...) pick 'name'
    assert rows["V1"]["voorziening_supermarkt"] == "Jumbo Venlo-Oost"
    # the style stored in the output names the kind's fields in Dutch
    aliases = stored_aliases(result["OUTPUT"])
    assert aliases["voorziening_supermarkt_afstand_m"] == "Afstand tot supermarkt (m)"
    # 10 m to the road, 500 m along it, 10 m to the shop
    assert rows["V1"]["voorziening_supermarkt_afstand_m"] == pytest.approx(520.0)
    assert rows["V2"]["voorziening_supermarkt_afstand_m"] == pytest.approx(2520.0)
    assert "voorziening.supermarkt.ver" not in (rows["V1"]["regels"] or "")
    assert "voorziening.supermarkt.ver" in rows["V2"]["regels"]
    config = (tmp_path / "config.toml").read_text(encoding="utf-8")
    assert "[lagen.voorzieningen.supermarkt]" in config and 'naam_veld = "name"' in config
    # the run's reference layers are kept beside the output, where the maps find them
    from qgis_plugin.reference import reference_for_run_record, reference_layers

    beside = reference_for_run_record(str(tmp_path / "o.run.json"))
    assert beside == str(tmp_path / "o.referentie.gpkg")
    assert "voorzieningen.supermarkt" in reference_layers(beside)
    # the naam field chosen in the dialog (its own list of candidates) goes into the config
    chosen = processing.run(
        "locatietoets:toetslocaties",
        {
            **params,
            "VOORZIENING_NAAM_VELD": "keten, Winkelketen",
            "OUTPUT": str(tmp_path / "c.gpkg"),
        },
    )
    _fields, rows = read_result(qgis_core, chosen["OUTPUT"])
    assert rows["V1"]["voorziening_supermarkt"] == "Jumbo"
    config = (tmp_path / "config.toml").read_text(encoding="utf-8")
    assert 'naam_veld = "winkelketen"' in config

    shops.setName("+++")  # no letters or digits: refused with a Dutch message, nothing run
    with pytest.raises(qgis_core.QgsProcessingException, match="bruikbare naam voor een voorz"):
        processing.run("locatietoets:toetslocaties", {**params, "OUTPUT": str(tmp_path / "b.gpkg")})


@pytest.mark.qgis
def test_planning_algorithms_with_kernen_offer_facility_layers(provider, qgis_core):
    registry = qgis_core.QgsApplication.processingRegistry()
    with_kernen = [
        alg
        for alg in registry.algorithms()
        if alg.provider().id() == "locatietoets" and alg.parameterDefinition("KERNEN")
    ]
    assert len(with_kernen) >= 2
    for alg in with_kernen:
        assert alg.parameterDefinition("VOORZIENINGEN") is not None, alg.id()
        assert alg.parameterDefinition("BEPERKINGEN") is not None, alg.id()


@pytest.mark.qgis
def test_fields_whose_names_fit_are_preselected(provider, qgis_core):
    from qgis_plugin.algorithms.toets_locaties import ToetsLocaties

    alg = ToetsLocaties()
    alg.initAlgorithm()
    defaults = {
        key: alg.parameterDefinition(key).defaultValue()
        for key in ("VERBLIJFSTYPE_VELD", "PERSONEN_VELD", "GEMEENTE_NAAM_VELD", "ID_VELD")
    }
    assert defaults == {
        "VERBLIJFSTYPE_VELD": "verblijfstype",
        "PERSONEN_VELD": "personen",
        "GEMEENTE_NAAM_VELD": "gemeentenaam",
        "ID_VELD": None,  # ids are named anyhow: never guessed
    }
    layer = _memory_layer(
        qgis_core,
        "Point",
        [("code", "string"), ("Aantal_Personen", "integer"), ("Verblijfstype", "string")],
        [
            (
                qgis_core.QgsGeometry.fromPointXY(qgis_core.QgsPointXY(200_000, 380_000)),
                ("L1", 12, "short_stay"),
            )
        ],
    )
    context = qgis_core.QgsProcessingContext()
    feedback = qgis_core.QgsProcessingFeedback()
    # not asked (qgis_process, a script): names that fit are taken, case-insensitively
    table = alg._layer_table({"LOCATIES": layer}, "LOCATIES", context, feedback)
    assert table["verblijfstype_veld"] == "Verblijfstype"
    assert table["personen_veld"] == "Aantal_Personen"
    assert "slaapkamers_veld" not in table and "id_veld" not in table
    # left empty in the dialog: the user's choice stands
    table = alg._layer_table(
        {"LOCATIES": layer, "VERBLIJFSTYPE_VELD": None, "PERSONEN_VELD": None},
        "LOCATIES",
        context,
        feedback,
    )
    assert "verblijfstype_veld" not in table and "personen_veld" not in table
    # a list of candidates per field, first match wins, without case
    table = alg._layer_table(
        {
            "LOCATIES": _memory_layer(
                qgis_core,
                "Point",
                [("Verblijf", "string"), ("TYPE_VERBLIJF", "string"), ("Capaciteit", "integer")],
                [],
            )
        },
        "LOCATIES",
        context,
        feedback,
    )
    assert table["verblijfstype_veld"] == "TYPE_VERBLIJF"  # type_verblijf before verblijf
    assert table["personen_veld"] == "Capaciteit"
    gemeenten = alg._layer_table(
        {
            "GEMEENTEN": _memory_layer(
                qgis_core, "Polygon", [("GM_NAAM", "string"), ("Gemeente", "string")], []
            )
        },
        "GEMEENTEN",
        context,
        feedback,
    )
    assert gemeenten["naam_veld"] == "Gemeente"  # gemeente before gm_naam


@pytest.mark.qgis
def test_dialog_field_picker_preselects_the_first_candidate_the_layer_has(
    provider, qgis_core, qgis_iface
):
    """In the dialog, choosing a layer pre-selects per field the first candidate name the layer
    has (case-insensitive), not only the first of the list; none fits: left empty."""
    from qgis.PyQt.QtWidgets import QWidget

    from qgis_plugin.algorithms.field_wrapper import guessing_wrapper_metadata
    from qgis_plugin.algorithms.toets_locaties import ToetsLocaties

    alg = ToetsLocaties()
    alg.initAlgorithm()
    layer = _memory_layer(
        qgis_core,
        "Point",
        [("id", "string"), ("Type_Verblijf", "string"), ("CAPACITEIT", "integer")],
        [],
    )
    dialog = QWidget()
    chosen = {}
    for key in ("VERBLIJFSTYPE_VELD", "PERSONEN_VELD", "SLAAPKAMERS_VELD"):
        param = alg.parameterDefinition(key)
        wrapper_info = dict(param.metadata()["widget_wrapper"])
        cls = wrapper_info.pop("class")
        wrapper = cls(param, dialog, **wrapper_info)
        wrapper.setLayer(layer)
        chosen[key] = wrapper.value()
    assert chosen == {
        "VERBLIJFSTYPE_VELD": "Type_Verblijf",
        "PERSONEN_VELD": "CAPACITEIT",
        "SLAAPKAMERS_VELD": None,
    }
    assert guessing_wrapper_metadata(()) == {}


@pytest.mark.qgis
def test_dialog_and_command_line_name_the_counts_the_same(qgis_core):
    from locatietoets.scripts.cli import own_stay_line as cli_line
    from qgis_plugin.algorithms.base import own_stay_line

    counts = {"geschikt": 842, "voorwaardelijk": 1204, "ongeschikt": 953, None: 1}
    line = own_stay_line(counts)
    assert line == cli_line({**counts, "geen oordeel": 1})
    assert line == (
        "Eigen verblijfstype: 842 locaties geschikt voor hun eigen verblijfstype, 1.204"
        " voorwaardelijk, 953 ongeschikt, 1 zonder oordeel."
    )


@pytest.mark.qgis
def test_toets_locaties_saves_its_config_and_starts_from_one(
    provider, qgis_core, engine_exe, tmp_path
):
    import tomllib

    import processing

    layers = make_layers(qgis_core)
    saved = tmp_path / "mijn_config.toml"
    feedback = qgis_core.QgsProcessingFeedback()
    first = processing.run(
        "locatietoets:toetslocaties",
        plugin_params(layers, str(tmp_path / "eerste.gpkg"), CONFIGURATIE_OPSLAAN=str(saved)),
        feedback=feedback,
    )
    config = tomllib.loads(saved.read_text(encoding="utf-8"))
    assert config["lagen"]["locaties"]["personen_veld"] == "personen"
    assert config["regels"]["bbg_rand_m"] == 150
    assert {"locaties", "bebouwd_gebied", "gemeenten"} <= set(config["lagen"])
    # memory layers are saved as temporary copies: the user is told to save them first
    assert "tijdelijke kopie" in feedback.textLog()
    # only the saved config as the starting point (no layer in the dialog): the same verdicts
    second = processing.run(
        "locatietoets:toetslocaties",
        {"CONFIGURATIE": str(saved), "OUTPUT": str(tmp_path / "tweede.gpkg")},
    )
    _fields, rows_first = read_result(qgis_core, first["OUTPUT"])
    _fields, rows_second = read_result(qgis_core, second["OUTPUT"])
    assert {k: r["oordeel"] for k, r in rows_second.items()} == {
        k: r["oordeel"] for k, r in rows_first.items()
    }
    assert rows_second["L3"]["bbg_ligging"] == "rand"  # bbg_rand_m=150 came from the config
    # the dialog wins over the config: a wider rand
    third = processing.run(
        "locatietoets:toetslocaties",
        {
            "CONFIGURATIE": str(saved),
            "PARAMETERS": "bbg_rand_m=50",
            "OUTPUT": str(tmp_path / "derde.gpkg"),
        },
    )
    _fields, rows_third = read_result(qgis_core, third["OUTPUT"])
    assert rows_third["L3"]["bbg_ligging"] == "buiten"


@pytest.mark.qgis
def test_toets_locaties_needs_sites_or_a_config(provider, qgis_core):
    alg = qgis_core.QgsApplication.processingRegistry().algorithmById("locatietoets:toetslocaties")
    ok, message = alg.checkParameterValues(
        {"OUTPUT": "TEMPORARY_OUTPUT"}, qgis_core.QgsProcessingContext()
    )
    assert not ok and "config.toml" in message


@pytest.mark.qgis
def test_builtin_constraint_names_are_the_rule_sets_layers(qgis_core, tmp_path):
    """The plugin cannot ask the engine: its list of built-in constraint layer names equals the
    layers the rules of the shipped rule sets judge; a rule set file given adds its own."""
    import tomllib

    from qgis_plugin.algorithms.base import (
        BUILTIN_CONSTRAINTS,
        BUILTIN_FACILITIES,
        constraint_name,
        ruleset_layer_names,
    )

    names = set()
    for path in (REPO / "analysis" / "rulesets").glob("*.toml"):
        rules = tomllib.loads(path.read_text(encoding="utf-8")).get("regel", [])
        names |= {rule["laag"] for rule in rules if "laag" in rule}
    assert names == set(BUILTIN_CONSTRAINTS)
    kinds = set()
    for path in (REPO / "analysis" / "rulesets").glob("*.toml"):
        rules = tomllib.loads(path.read_text(encoding="utf-8")).get("regel", [])
        kinds |= {r["id"].split(".")[1] for r in rules if r["id"].startswith("voorziening.")}
    assert kinds == set(BUILTIN_FACILITIES)
    assert constraint_name("OV-Halte", BUILTIN_FACILITIES) == "ov_halte"
    assert constraint_name("Huis arts", BUILTIN_FACILITIES) == "huisarts"
    own = tmp_path / "eigen.toml"
    own.write_text(
        '[[regel]]\nid = "waterwingebied.binnen"\nlaag = "waterwingebied"\n'
        '[[regel]]\nid = "voorziening.bakker.ver"\n',
        encoding="utf-8",
    )
    assert ruleset_layer_names(str(own)) == (*BUILTIN_CONSTRAINTS, "waterwingebied")
    assert ruleset_layer_names(str(own), facilities=True) == (*BUILTIN_FACILITIES, "bakker")
    assert ruleset_layer_names(str(tmp_path / "weg.toml")) == BUILTIN_CONSTRAINTS


@pytest.mark.qgis
def test_a_required_field_left_out_is_fine_when_a_name_fits(provider, qgis_core):
    """qgis_process or a script that leaves out a required field: a field whose name fits (here
    'Aantal_Inwoners' for the kern's inhabitants) passes the check, as the run will take it."""
    alg = qgis_core.QgsApplication.processingRegistry().algorithmById("locatietoets:toetslocaties")
    context = qgis_core.QgsProcessingContext()
    sites = make_layers(qgis_core)["locaties"]
    fits = _memory_layer(
        qgis_core, "Polygon", [("naam", "string"), ("Aantal_Inwoners", "integer")], []
    )
    ok, message = alg.checkParameterValues(
        {"LOCATIES": sites, "KERNEN": fits, "OUTPUT": "TEMPORARY_OUTPUT"}, context
    )
    assert ok, message
    lacks = _memory_layer(qgis_core, "Polygon", [("naam", "string"), ("oppervlak", "double")], [])
    ok, message = alg.checkParameterValues(
        {"LOCATIES": sites, "KERNEN": lacks, "OUTPUT": "TEMPORARY_OUTPUT"}, context
    )
    assert not ok and "Veld met het aantal inwoners van de kern' verplicht" in message
    # chosen empty in the dialog: the user's choice stands, the check asks for the field
    ok, message = alg.checkParameterValues(
        {"LOCATIES": sites, "KERNEN": fits, "KERN_INWONERS_VELD": None, "OUTPUT": "x"}, context
    )
    assert not ok


@pytest.mark.qgis
def test_help_names_the_constraint_facility_and_kern_layers_an_algorithm_takes(provider, qgis_core):
    """Every algorithm that takes Beperkingen, Voorzieningen or Kernen says so in its help; the
    maps' help names the reference layers it draws, the capacity's help the kernen table."""
    registry = qgis_core.QgsApplication.processingRegistry()
    checked = 0
    for alg in registry.algorithms():
        if alg.provider().id() != "locatietoets":
            continue
        text = alg.shortHelpString()
        for key, word in (
            ("BEPERKINGEN", "Beperkingen"),
            ("VOORZIENINGEN", "Voorzieningen"),
            ("KERNEN", "Kernen"),
        ):
            if alg.parameterDefinition(key) is not None:
                assert word in text, (alg.id(), word)
                checked += 1
    assert checked >= 12  # Toets locaties and the three planning algorithms with layers
    maps = registry.algorithmById("locatietoets:exporteerkaarten").shortHelpString()
    assert "Referentielagen van de toetsing" in maps and "referentie.gpkg" in maps
    assert (
        "capaciteit_kernen.csv"
        in registry.algorithmById("locatietoets:capaciteit").shortHelpString()
    )


def test_a_copy_beside_the_output_from_an_earlier_run_goes_when_this_run_has_none(tmp_path):
    """Exporteer woonvisiekaarten finds <naam>.referentie.gpkg beside the output: one left by an
    earlier run without reference layers now would be drawn as this run's."""
    from qgis_plugin.algorithms.base import _copy_beside

    class Feedback:
        def __init__(self):
            self.info = []

        def pushInfo(self, text):  # noqa: N802
            self.info.append(text)

        def pushWarning(self, text):  # noqa: N802
            self.info.append(text)

    out = tmp_path / "o.gpkg"
    out.write_bytes(b"uitvoer")
    source = tmp_path / "run" / "referentie.gpkg"
    source.parent.mkdir()
    source.write_bytes(b"oud")
    feedback = Feedback()
    assert _copy_beside(str(out), str(source), ".referentie.gpkg", "Referentielagen", feedback) == (
        str(tmp_path / "o.referentie.gpkg")
    )
    assert (tmp_path / "o.referentie.gpkg").read_bytes() == b"oud"
    source.unlink()  # the next run writes no reference layers
    assert _copy_beside(
        str(out), str(source), ".referentie.gpkg", "Referentielagen", feedback
    ) == str(source)
    assert not (tmp_path / "o.referentie.gpkg").exists()
    assert "Referentielagen van een eerdere run verwijderd" in feedback.info[-1]
