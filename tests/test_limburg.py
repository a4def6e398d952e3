"""On the real Limburg gemeente boundaries (../shared/data/admin, CBS 2022).

Skips with a clear message when ../shared is absent (``shared_data`` fixture).
The expectations come from the data files themselves: each gemeente polygon,
the gemeente→regio lookup table and the CBS kernen with their municipality.
"""

from __future__ import annotations

import json
from pathlib import Path
import time

from fixtures import polygons, write_config, write_gdf
import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from locatietoets.layers.io.config import load_config
from locatietoets.layers.io.config_writer import render_config
from locatietoets.scripts.runner.score import run_config

pytestmark = pytest.mark.shared

GEMEENTEN = "admin/limburg_gemeenten_2022_cbs_tmap.geojson"
REGIO_LOOKUP = "admin/limburg_gemeente_regio_lookup.csv"
KERNEN = "builtup/limburg_kernen_2021_centroids.csv"
OUTSIDE_LIMBURG = Point(136_000, 455_000)  # Utrecht


@pytest.fixture(scope="module")
def gemeenten(shared_data: Path) -> gpd.GeoDataFrame:
    frame = gpd.read_file(shared_data / GEMEENTEN)
    assert len(frame) == 31 and frame.crs.to_epsg() == 28992
    return frame


@pytest.fixture(scope="module")
def regio(shared_data: Path) -> dict[str, str]:
    table = pd.read_csv(shared_data / REGIO_LOOKUP)
    return dict(zip(table["code"], table["regio"]))


def _gemeenten_config(shared_data: Path, regels: dict | None = None) -> str:
    return render_config(
        {
            "locaties": {"pad": "locaties.gpkg", "id_veld": "id"},
            "bebouwd_gebied": {"pad": "bbg.gpkg"},
            "gemeenten": {"pad": shared_data / GEMEENTEN, "naam_veld": "name", "code_veld": "code"},
        },
        regels=regels,
    )


def _representative_sites(gemeenten: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    points = gemeenten.geometry.representative_point()
    return gpd.GeoDataFrame(
        {"id": gemeenten["code"].to_numpy(), "verwacht": gemeenten["name"].to_numpy()},
        geometry=points.to_numpy(),
        crs=gemeenten.crs,
    )


def _bbg_500_m_west(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A 200 x 200 m BBG square whose east edge lies 500 m west of each site."""
    items = [
        ({"naam": sid}, box(p.x - 700, p.y - 100, p.x - 500, p.y + 100))
        for sid, p in zip(sites["id"], sites.geometry)
    ]
    bbg = polygons(items)
    union = bbg.geometry.union_all()
    # oracle: the nearest BBG of every site is its own square, exactly 500 m away
    assert all(abs(union.distance(p) - 500.0) < 1e-6 for p in sites.geometry)
    return bbg


def _straddling_site(gemeenten: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, str, str, float]:
    """A 400 x 400 m square across the Horst aan de Maas/Venray border, mostly in Venray."""
    horst = gemeenten.loc[gemeenten["name"] == "Horst aan de Maas"].geometry.item()
    venray = gemeenten.loc[gemeenten["name"] == "Venray"].geometry.item()
    border = horst.buffer(25).intersection(venray.buffer(25))
    assert border.area > 50 * 1000  # a border of more than a kilometre
    p = border.representative_point()
    inner = venray.representative_point()
    d = p.distance(inner)
    c = Point(p.x + (inner.x - p.x) * 120 / d, p.y + (inner.y - p.y) * 120 / d)  # 120 m into Venray
    square = box(c.x - 200, c.y - 200, c.x + 200, c.y + 200)
    shares = gemeenten.geometry.intersection(square).area / square.area
    best = shares.idxmax()
    assert shares.sort_values().iloc[-2] > 0.05  # it really straddles
    assert gemeenten.loc[shares.sort_values().index[-2], "name"] == "Horst aan de Maas"
    return (
        gpd.GeoDataFrame(
            {"id": ["GRENS"], "verwacht": [gemeenten.loc[best, "name"]]},
            geometry=[square],
            crs=gemeenten.crs,
        ),
        gemeenten.loc[best, "name"],
        gemeenten.loc[best, "code"],
        float(shares.max()),
    )


@pytest.fixture(scope="module")
def limburg_run(tmp_path_factory, shared_data, gemeenten):
    folder = tmp_path_factory.mktemp("limburg")
    points = _representative_sites(gemeenten)
    straddle, name, code, share = _straddling_site(gemeenten)
    outside = gpd.GeoDataFrame(
        {"id": ["UTRECHT"], "verwacht": [None]}, geometry=[OUTSIDE_LIMBURG], crs=gemeenten.crs
    )
    sites = pd.concat([points, straddle, outside], ignore_index=True)
    write_gdf(
        gpd.GeoDataFrame(sites, geometry="geometry", crs=gemeenten.crs), folder / "locaties.gpkg"
    )
    write_gdf(_bbg_500_m_west(points), folder / "bbg.gpkg")
    return {"folder": folder, "sites": sites, "straddle": (name, code, share)}


def _run(folder: Path, text: str, name: str):
    cfg = write_config(folder, text, f"{name}.toml")
    outcome = run_config(load_config(cfg), folder / f"uit_{name}")
    results = outcome.result.results.set_index("locatie_id")
    return outcome, results


def test_every_gemeente_gets_its_own_site(limburg_run, shared_data, gemeenten, regio):
    outcome, res = _run(limburg_run["folder"], _gemeenten_config(shared_data), "basis")
    assert len(res) == 33
    for code, name in zip(gemeenten["code"], gemeenten["name"]):
        assert res.loc[code, "gemeente"] == name, code
        assert res.loc[code, "gemeente_code"] == code, code
        assert res.loc[code, "regio"] == regio[code], code
    assert sorted(res["regio"].dropna().unique()) == [
        "Midden-Limburg",
        "Noord-Limburg",
        "Zuid-Limburg",
    ]
    # without overrides every site at 500 m from BBG is buiten (rand is 250 m)
    in_limburg = res.drop(index="UTRECHT")
    assert (in_limburg.loc[gemeenten["code"], "bbg_afstand_m"].round(6) == 500.0).all()
    assert (in_limburg.loc[gemeenten["code"], "bbg_ligging"] == "buiten").all()


def test_polygon_site_across_a_border_takes_the_majority_gemeente(limburg_run, shared_data):
    name, code, share = limburg_run["straddle"]
    assert name == "Venray" and 0.5 < share < 0.95
    _, res = _run(limburg_run["folder"], _gemeenten_config(shared_data), "grens")
    assert res.loc["GRENS", "gemeente"] == "Venray"
    assert res.loc["GRENS", "gemeente_code"] == "GM0984"
    assert res.loc["GRENS", "regio"] == "Noord-Limburg"


def test_site_outside_limburg_gets_no_gemeente(limburg_run, shared_data):
    outcome, res = _run(limburg_run["folder"], _gemeenten_config(shared_data), "buiten")
    assert pd.isna(res.loc["UTRECHT", "gemeente"]) and pd.isna(res.loc["UTRECHT", "gemeente_code"])
    assert pd.isna(res.loc["UTRECHT", "regio"])
    assert res.loc["UTRECHT", "oordeel"] in (
        "geschikt",
        "voorwaardelijk",
        "ongeschikt",
    )  # still scored
    run = json.loads(
        (limburg_run["folder"] / "uit_buiten" / "run.json").read_text(encoding="utf-8")
    )
    assert run["stappen"]["gemeente"]["buiten_gemeenten"] == 1


def test_site_outside_limburg_is_a_warning_in_run_json(limburg_run, shared_data):
    _run(limburg_run["folder"], _gemeenten_config(shared_data), "buiten_w")
    run = json.loads(
        (limburg_run["folder"] / "uit_buiten_w" / "run.json").read_text(encoding="utf-8")
    )
    assert any("buiten alle gemeenten" in w for w in run["waarschuwingen"]), run["waarschuwingen"]


@pytest.mark.parametrize(
    ("key", "gemeente"),
    [
        ("Venray", "Venray"),
        ("GM0984", "Venray"),
        ("venray", "Venray"),
        ("GM0983", "Venlo"),
        ("Bergen (L.)", "Bergen (L.)"),
    ],
)
def test_per_gemeente_override_applies_only_there(
    limburg_run, shared_data, gemeenten, key, gemeente
):
    text = _gemeenten_config(shared_data, {"gemeenten": {key: {"bbg_rand_m": 1000}}})
    _, res = _run(limburg_run["folder"], text, "override")
    codes = dict(zip(gemeenten["name"], gemeenten["code"]))
    target = codes[gemeente]
    assert res.loc[target, "bbg_ligging"] == "rand"
    assert "500 m buiten de grens (rand tot 1.000 m)" in res.loc[target, "redenen"]
    others = [c for c in gemeenten["code"] if c != target]
    assert (res.loc[others, "bbg_ligging"] == "buiten").all(), res.loc[
        others, "bbg_ligging"
    ].value_counts()
    assert res.loc["UTRECHT", "bbg_ligging"] == "buiten"


def test_kernen_as_candidate_sites(shared_data, gemeenten, tmp_path):
    kernen = pd.read_csv(shared_data / KERNEN)
    assert len(kernen) == 107
    points = gpd.GeoDataFrame(
        kernen, geometry=gpd.points_from_xy(kernen["x"], kernen["y"]), crs="EPSG:28992"
    )
    write_gdf(
        gpd.GeoDataFrame(
            {"naam": ["kernen"]}, geometry=[points.buffer(800).union_all()], crs="EPSG:28992"
        ),
        tmp_path / "bbg.gpkg",
    )
    text = render_config(
        {
            "locaties": {
                "pad": shared_data / KERNEN,
                "id_veld": "name",
                "x_veld": "x",
                "y_veld": "y",
                "crs": "EPSG:28992",
            },
            "bebouwd_gebied": {"pad": "bbg.gpkg"},
            "gemeenten": {"pad": shared_data / GEMEENTEN, "naam_veld": "name", "code_veld": "code"},
        }
    )
    t0 = time.perf_counter()
    outcome, res = _run(tmp_path, text, "kernen")
    seconds = time.perf_counter() - t0
    assert len(res) == 107
    assert (res["bbg_ligging"] == "binnen").all()
    assert (res["bbg_afstand_m"] == 0).all()
    assert (res["oordeel"] == "geschikt").all()  # no other rule applies to a kern in BBG
    # the CBS municipality of each kern is the gemeente the tool finds
    expected = kernen.set_index("name")["municipality"]
    assert (res["gemeente"] == expected.reindex(res.index)).all(), res.loc[
        res["gemeente"] != expected.reindex(res.index), "gemeente"
    ]
    assert outcome.record["telling"]["short_stay"]["geschikt"] == 107
    assert outcome.record["invoer"]["locaties"]["objecten"] == 107
    out = gpd.read_file(tmp_path / "uit_kernen" / "locaties.gpkg", layer="locaties")
    assert out["municipality"].tolist() == kernen["municipality"].tolist()  # input attributes kept
    assert seconds < 15, f"107 kernen took {seconds:.1f} s"
