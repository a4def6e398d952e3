"""Tests of the fictional demo region (layers/worlds/demo.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
from geopandas.testing import assert_geodataframe_equal
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from locatietoets.layers.io.config import load_config
from locatietoets.layers.worlds.demo import (
    DEMO_BOUNDS,
    DEMO_LAYERS,
    DEMO_SOURCE,
    config_layer_name,
    write_demo,
)

EDGE_M = 250.0  # default bbg_rand_m


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    write_demo(out)
    return out


@pytest.fixture(scope="module")
def layers(demo_dir: Path) -> dict[str, gpd.GeoDataFrame]:
    return {
        name: gpd.read_file(demo_dir / "invoer" / f"{name}.gpkg", layer=name, engine="pyogrio")
        for name in DEMO_LAYERS
    }


@pytest.fixture(scope="module")
def site_points(layers: dict[str, gpd.GeoDataFrame]) -> np.ndarray:
    """One point per site: the point itself or a point inside the polygon."""
    return shapely.point_on_surface(layers["locaties"].geometry.values)


def _union(frame: gpd.GeoDataFrame) -> shapely.Geometry:
    geom = frame.geometry.union_all()
    shapely.prepare(geom)
    return geom


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- files, determinism ------------------------------------------------------


def test_writes_every_layer_and_config(demo_dir: Path) -> None:
    assert sorted(p.name for p in (demo_dir / "invoer").iterdir()) == sorted(
        f"{n}.gpkg" for n in DEMO_LAYERS
    )
    text = (demo_dir / "config.toml").read_text(encoding="utf-8")
    assert text.startswith("# ====")
    assert "FICTIEF DEMOGEBIED" in text.splitlines()[1]


def test_same_seed_gives_identical_layers_and_bytes(demo_dir: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    config = write_demo(again)
    assert config == again / "config.toml"
    assert config.read_text(encoding="utf-8") == (demo_dir / "config.toml").read_text(
        encoding="utf-8"
    )
    for name in DEMO_LAYERS:
        first = gpd.read_file(demo_dir / "invoer" / f"{name}.gpkg", layer=name)
        second = gpd.read_file(again / "invoer" / f"{name}.gpkg", layer=name)
        assert_geodataframe_equal(first, second, check_less_precise=False)
        assert _sha256(demo_dir / "invoer" / f"{name}.gpkg") == _sha256(
            again / "invoer" / f"{name}.gpkg"
        ), name


def test_other_seed_gives_other_sites(demo_dir: Path, tmp_path: Path) -> None:
    write_demo(tmp_path, seed=7, n_sites=300)
    sites = gpd.read_file(tmp_path / "invoer" / "locaties.gpkg")
    reference = gpd.read_file(demo_dir / "invoer" / "locaties.gpkg")
    assert len(sites) == 300
    assert not sites.geometry.iloc[:300].geom_equals(reference.geometry.iloc[:300]).all()


def test_rewrite_replaces_own_files_and_keeps_others(tmp_path: Path) -> None:
    write_demo(tmp_path, n_sites=200)
    (tmp_path / "invoer" / "notities.txt").write_text("van de gebruiker", encoding="utf-8")
    write_demo(tmp_path, n_sites=100)
    assert len(gpd.read_file(tmp_path / "invoer" / "locaties.gpkg")) == 100
    assert (tmp_path / "invoer" / "notities.txt").read_text(encoding="utf-8") == "van de gebruiker"


def test_too_few_sites_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="minstens 60 locaties"):
        write_demo(tmp_path, n_sites=10)


def test_config_loads_and_points_at_the_layers(demo_dir: Path) -> None:
    config = load_config(demo_dir / "config.toml")
    # the business parks, nature, noise and safety zones are declared constraint layers
    # ([lagen.beperkingen.<naam>]); bus stops, supermarkets and doctors facility kinds
    # ([lagen.voorzieningen.<soort>])
    assert set(config.layers) == {config_layer_name(n) for n in DEMO_LAYERS}
    assert {
        "beperkingen.bedrijventerreinen",
        "beperkingen.natura2000",
        "beperkingen.natuurnetwerk",
        "beperkingen.geluid",
        "beperkingen.externe_veiligheid",
        "beperkingen.plaatsgebonden_risico",
        "voorzieningen.ov_halte",
        "voorzieningen.supermarkt",
        "voorzieningen.huisarts",
        "kernen",
        "bestaande_huisvesting",
    } <= set(config.layers)
    files = {config_layer_name(n): n for n in DEMO_LAYERS}
    for name, spec in config.layers.items():
        assert spec.path == (demo_dir / "invoer" / f"{files[name]}.gpkg").resolve()
    assert config.rules.overrides == {"bbg_rand_m": 250}
    # one gemeente allows no short-stay on an employer's yard: both erf policies occur
    assert config.rules.gemeenten == {"GM9902": {"erf_short_stay": "niet"}}
    assert config.layer("wegennet").get("modus") == "fiets"


def test_configured_fields_exist(demo_dir: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    config = load_config(demo_dir / "config.toml")
    files = {config_layer_name(n): n for n in DEMO_LAYERS}
    for name, spec in config.layers.items():
        for key, field in spec.options.items():
            if key.endswith("_veld"):
                frame = layers[files[name]]
                assert field in frame.columns, f"{name}.{key} = {field}"


# --- every layer ----------------------------------------------------------------


@pytest.mark.parametrize("name", DEMO_LAYERS)
def test_layer_is_valid_labelled_and_in_rd_new(
    layers: dict[str, gpd.GeoDataFrame], name: str
) -> None:
    frame = layers[name]
    assert len(frame) > 0
    assert frame.crs.to_epsg() == 28992
    assert frame.geometry.is_valid.all()
    assert not frame.geometry.is_empty.any()
    assert (frame["bron"] == DEMO_SOURCE).all()
    xmin, ymin, xmax, ymax = frame.total_bounds
    box = DEMO_BOUNDS
    assert box[0] - 1 <= xmin and xmax <= box[2] + 1 and box[1] - 1 <= ymin and ymax <= box[3] + 1


def test_gemeenten_are_fictional_and_cover_the_area(layers: dict[str, gpd.GeoDataFrame]) -> None:
    gemeenten = layers["gemeenten"]
    assert gemeenten["gemeentecode"].tolist() == ["GM9901", "GM9902"]
    assert all(name.startswith("Demogemeente ") for name in gemeenten["gemeentenaam"])
    assert gemeenten.geometry.union_all().area == pytest.approx(
        shapely.box(*DEMO_BOUNDS).area, rel=1e-6
    )
    assert gemeenten.geometry.iloc[0].intersection(gemeenten.geometry.iloc[1]).area < 1.0


@pytest.mark.shared
def test_codes_and_names_are_not_real(
    shared_data: Path, layers: dict[str, gpd.GeoDataFrame]
) -> None:
    real = gpd.read_file(shared_data / "admin" / "nl_gemeenten_2022_cbs_tmap.gpkg")
    assert real["code"].str.fullmatch(r"GM\d{4}").all() and len(real) > 300
    assert not set(layers["gemeenten"]["gemeentecode"]) & set(real["code"])
    assert not set(layers["gemeenten"]["gemeentenaam"]) & set(real["name"])
    kernen = pd.read_csv(shared_data / "builtup" / "limburg_kernen_2021_centroids.csv")
    assert not set(layers["bebouwd_gebied"]["naam"]) & set(kernen["name"])


def test_built_up_area_and_kom(layers: dict[str, gpd.GeoDataFrame]) -> None:
    bbg, kom = layers["bebouwd_gebied"], layers["bebouwde_kom"]
    villages = bbg[bbg["soort"] == "kern"]
    assert 6 <= len(villages) <= 8
    assert 1 <= (bbg["soort"] == "bedrijventerrein").sum() <= 2
    assert villages.area.between(0.3e6, 3.0e6).all()
    # Irregular outlines: clearly less compact than a circle.
    compactness = 4 * np.pi * villages.area / villages.length**2
    assert (compactness < 0.8).all()
    assert bbg.geometry.union_all().area == pytest.approx(
        bbg.area.sum()
    )  # BBG polygons do not overlap
    assert sorted(kom["naam"]) == sorted(villages["naam"])
    for name in villages["naam"]:
        village = villages.loc[villages["naam"] == name].geometry.iloc[0]
        kom_geom = kom.loc[kom["naam"] == name].geometry.iloc[0]
        assert kom_geom.within(village.buffer(0.05))
        assert 0.4 * village.area < kom_geom.area < 0.99 * village.area
    assert not kom.geometry.union_all().intersects(
        bbg[bbg["soort"] == "bedrijventerrein"].geometry.union_all()
    )


def test_farms_mix_points_and_polygons(layers: dict[str, gpd.GeoDataFrame]) -> None:
    farms = layers["veehouderijen"]
    assert 55 <= len(farms) <= 65
    assert farms["naam"].is_unique
    types = farms.geom_type.value_counts()
    assert set(types.index) == {"Point", "Polygon"}
    assert 12 <= types["Polygon"] <= 18
    fixed = farms["vaste_afstand_m"]
    assert 6 <= fixed.notna().sum() <= 10
    assert set(fixed.dropna()) <= {100.0, 150.0, 200.0}
    # Farms lie in the countryside, a few right at a village edge.
    bbg = _union(layers["bebouwd_gebied"])
    distance = shapely.distance(farms.geometry.values, bbg)
    assert (distance > 0).all()
    assert (distance < 120).sum() >= 5


def test_odour_contours_nest_overlap_and_reach_villages(
    layers: dict[str, gpd.GeoDataFrame],
) -> None:
    contours, farms = layers["geurcontouren"], layers["veehouderijen"]
    assert set(contours["veehouderij"]) <= set(farms["naam"])
    assert 40 <= contours["veehouderij"].nunique() <= 50
    assert set(contours["geur_oue"]) == {2.0, 3.0, 5.0, 8.0, 14.0, 20.0}
    # Nested: per farm each higher contour lies inside the lower one, and contains the farm.
    for farm_name, group in contours.groupby("veehouderij"):
        group = group.sort_values("geur_oue")
        geoms = group.geometry.values
        assert all(
            inner.within(outer) for outer, inner in zip(geoms[:-1], geoms[1:], strict=False)
        ), farm_name
        farm = farms.loc[farms["naam"] == farm_name].geometry.iloc[0]
        assert geoms[-1].contains(farm.centroid)
    two = contours[contours["geur_oue"] == 2.0]
    reach = two.geometry.apply(lambda g: g.bounds[2] - g.bounds[0])
    assert reach.max() > 900
    assert contours[contours["geur_oue"] == 20.0].area.apply(np.sqrt).min() < 100  # tens of metres
    # Plumes stretch to the north-east: the contour centroid lies NE of the farm.
    farm_xy = farms.set_index("naam").geometry.centroid
    shift = shapely.get_coordinates(two.geometry.centroid.values) - shapely.get_coordinates(
        farm_xy.loc[two["veehouderij"]].values
    )
    assert (shift[:, 0] > 0).mean() > 0.9 and (shift[:, 1] > 0).mean() > 0.9
    # Neighbouring farms overlap.
    outer = two.geometry.values
    left, right = shapely.STRtree(outer).query(outer, predicate="overlaps")
    assert (left != right).sum() >= 10
    # The 3 and 14 contours reach into villages.
    kom = _union(layers["bebouwde_kom"])
    bbg = _union(layers["bebouwd_gebied"])
    assert contours[contours["geur_oue"] == 3.0].intersects(kom).sum() >= 3
    assert contours[contours["geur_oue"] == 14.0].intersects(bbg).sum() >= 2


def test_recreation_parks(layers: dict[str, gpd.GeoDataFrame]) -> None:
    parks = layers["recreatieparken"]
    assert len(parks) == 6 and parks["parknaam"].is_unique
    assert parks.area.between(5e4, 30e4).all()
    bbg = _union(layers["bebouwd_gebied"])
    distance = shapely.distance(parks.geometry.values, bbg)
    assert (distance > 0).all()
    assert 1 <= (distance < EDGE_M).sum() <= 2


def test_employers(layers: dict[str, gpd.GeoDataFrame]) -> None:
    employers = layers["werkgevers"]
    assert len(employers) == 25 and employers["bedrijfsnaam"].is_unique
    assert (employers.geom_type == "Polygon").sum() == 4
    assert employers["sector"].nunique() >= 4


# --- road network ---------------------------------------------------------------


def _road_components(roads: gpd.GeoDataFrame) -> list[set]:
    first = np.round(shapely.get_coordinates(shapely.get_point(roads.geometry.values, 0)), 2)
    last = np.round(shapely.get_coordinates(shapely.get_point(roads.geometry.values, -1)), 2)
    graph = nx.Graph()
    graph.add_edges_from(zip(map(tuple, first), map(tuple, last), strict=True))
    return sorted(nx.connected_components(graph), key=len, reverse=True)


def test_road_fields_and_values(layers: dict[str, gpd.GeoDataFrame]) -> None:
    roads = layers["wegennet"]
    assert {"highway", "maxspeed", "oneway", "naam", "bron"} <= set(roads.columns)
    assert (roads.geom_type == "LineString").all()
    assert 2000 <= len(roads) <= 6000
    assert set(roads["highway"]) == {
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
        "cycleway",
        "track",
    }
    assert set(roads["oneway"]) == {"yes", "no"}
    assert 10 <= (roads["oneway"] == "yes").sum() <= 200
    assert roads.loc[roads["highway"].isin(["cycleway", "track"]), "maxspeed"].isna().all()
    speeds = roads.groupby("highway")["maxspeed"].agg(["min", "max"])
    assert (
        speeds.loc["secondary", "max"] == 80 and speeds.loc["secondary", "min"] == 50
    )  # 50 inside BBG
    assert set(roads.loc[roads["highway"] == "residential", "maxspeed"]) <= {30.0, 50.0}


def test_road_network_is_noded(layers: dict[str, gpd.GeoDataFrame]) -> None:
    lines = layers["wegennet"].geometry.values
    # No two edges cross in their interiors: all contact happens at shared endpoints.
    left, right = shapely.STRtree(lines).query(lines, predicate="crosses")
    assert len(left) == 0
    left, right = shapely.STRtree(lines).query(lines, predicate="overlaps")
    assert len(left) == 0


def test_road_network_is_connected_except_the_hamlet(layers: dict[str, gpd.GeoDataFrame]) -> None:
    components = _road_components(layers["wegennet"])
    assert len(components) == 2
    hamlet = components[1]
    assert 3 <= len(hamlet) <= 30
    # The hamlet lies far from everything else.
    hamlet_box = shapely.MultiPoint(list(hamlet)).envelope
    main_points = shapely.MultiPoint(list(components[0]))
    assert shapely.distance(hamlet_box, main_points) > 500


# --- candidate sites -------------------------------------------------------------


def test_site_fields(layers: dict[str, gpd.GeoDataFrame]) -> None:
    sites = layers["locaties"]
    assert len(sites) == 3000
    assert sites["locatie_code"].is_unique
    assert sites["locatie_code"].str.fullmatch(r"DEMO-\d{5}").all()
    stay = sites["beoogd_verblijfstype"].value_counts(normalize=True)
    assert set(stay.index) == {"short_stay", "mid_stay", "long_stay"}
    assert 0.45 < stay["short_stay"] < 0.55 and 0.2 < stay["mid_stay"] < 0.3
    form = sites["beoogde_huisvestingsvorm"]
    short = sites["beoogd_verblijfstype"] == "short_stay"
    assert set(form.dropna()) == {"logies", "woonfunctie"}
    assert 0.15 < form[short].isna().mean() < 0.25
    assert (short & (form == "woonfunctie")).sum() > 20
    # mid- and long-stay are a woonfunctie or left open, never logies (the run would warn)
    assert (~short & (form == "woonfunctie")).sum() > 500 and (~short & form.isna()).sum() > 200
    assert not (~short & (form == "logies")).any()
    assert sites["personen"].dtype.kind == "i" and (sites["personen"] >= 1).all()
    assert sites["slaapkamers"].dtype.kind == "i" and (sites["slaapkamers"] >= 1).all()
    assert 0.1 < (sites["slaapkamers"] < sites["personen"]).mean() < 0.2
    assert 0.1 < (sites["woonoppervlak_m2"] / sites["personen"] < 15).mean() < 0.2
    employers = set(layers["werkgevers"]["bedrijfsnaam"])
    assert set(sites["beoogde_werkgever"].dropna()) <= employers
    assert 0.25 < sites["beoogde_werkgever"].notna().mean() < 0.35
    assert sites["omschrijving"].notna().all()
    geom_types = sites.geom_type.value_counts(normalize=True)
    assert 0.15 < geom_types["Polygon"] < 0.25
    polygon_area = sites.loc[sites.geom_type == "Polygon"].area
    assert polygon_area.between(199.0, 3001.0).all()


def test_site_classes_bbg(layers: dict[str, gpd.GeoDataFrame], site_points: np.ndarray) -> None:
    bbg = _union(layers["bebouwd_gebied"])
    distance = shapely.distance(site_points, bbg)
    inside = distance == 0
    edge = (distance > 0) & (distance <= EDGE_M)
    outside = distance > EDGE_M
    assert 0.40 < inside.mean() < 0.50
    assert 0.15 < edge.mean() < 0.25
    assert 0.30 < outside.mean() < 0.40
    business = _union(layers["bebouwd_gebied"].query("soort == 'bedrijventerrein'"))
    assert shapely.contains(business, site_points).sum() >= 50


def test_site_classes_odour_and_farms(
    layers: dict[str, gpd.GeoDataFrame], site_points: np.ndarray
) -> None:
    contours, farms = layers["geurcontouren"], layers["veehouderijen"]
    kom = _union(layers["bebouwde_kom"])
    in_kom = shapely.contains(kom, site_points)
    c3 = _union(contours[contours["geur_oue"] >= 3.0])
    c14 = _union(contours[contours["geur_oue"] >= 14.0])
    assert (
        in_kom & shapely.contains(c3, site_points)
    ).sum() >= 30  # contour knelpunt inside the kom
    assert (
        ~in_kom & shapely.contains(c14, site_points)
    ).sum() >= 30  # contour knelpunt outside the kom
    # Fixed distances: farms without contours (no emission factor).
    plain = farms[~farms["naam"].isin(contours["veehouderij"])]
    assert len(plain) >= 10
    near_plain_kom = shapely.dwithin(plain.geometry.union_all(), site_points, 100.0) & in_kom
    assert near_plain_kom.sum() >= 3  # fixed-distance knelpunt inside the kom (100 m)
    near_plain_out = shapely.dwithin(plain.geometry.union_all(), site_points, 50.0) & ~in_kom
    assert near_plain_out.sum() >= 3  # fixed-distance knelpunt outside the kom (50 m)
    point_farms = farms[farms.geom_type == "Point"].geometry.union_all()
    assert shapely.dwithin(point_farms, site_points, 50.0).sum() >= 50


def test_site_classes_parks_hamlet_and_remote(
    layers: dict[str, gpd.GeoDataFrame], site_points: np.ndarray
) -> None:
    parks = _union(layers["recreatieparken"])
    assert shapely.contains(parks, site_points).sum() >= 90
    roads = layers["wegennet"]
    tree = shapely.STRtree(roads.geometry.values)
    nearest, distance = tree.query_nearest(site_points, return_distance=True, all_matches=False)
    assert 2 <= (distance > 1000).sum() <= 3
    # Sites whose nearest road belongs to the isolated hamlet.
    hamlet_nodes = _road_components(roads)[1]
    first = map(
        tuple, np.round(shapely.get_coordinates(shapely.get_point(roads.geometry.values, 0)), 2)
    )
    in_hamlet = np.array([p in hamlet_nodes for p in first])
    assert 3 <= in_hamlet[nearest[1]].sum() <= 10


def test_every_farm_and_employer_is_on_the_main_network(
    layers: dict[str, gpd.GeoDataFrame],
) -> None:
    roads = layers["wegennet"]
    main = _road_components(roads)[0]
    first = map(
        tuple, np.round(shapely.get_coordinates(shapely.get_point(roads.geometry.values, 0)), 2)
    )
    on_main = np.array([p in main for p in first])
    tree = shapely.STRtree(roads.geometry.values[on_main])
    for name in ("veehouderijen", "werkgevers"):
        anchors = shapely.point_on_surface(layers[name].geometry.values)
        _, distance = tree.query_nearest(anchors, return_distance=True, all_matches=False)
        assert distance.max() < 50.0, name  # a track or street reaches every farm and employer


def test_demo_geopackages_are_gpkg_1_2(demo_dir: Path) -> None:
    # issue 18: QGIS 3.22 / GDAL 3.6 warn on GeoPackage 1.4 for every file the demo writes
    import sqlite3

    written = sorted(demo_dir.rglob("*.gpkg"))
    assert len(written) >= 8
    for path in written:
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == 10200, path.name


# --- kernen, existing housing, facilities and zones (issue 16) -------------------


def test_kernen_and_existing_housing(layers: dict[str, gpd.GeoDataFrame]) -> None:
    kernen, housing = layers["kernen"], layers["bestaande_huisvesting"]
    villages = layers["bebouwd_gebied"].query("soort == 'kern'").set_index("naam")
    assert sorted(kernen["naam"]) == sorted(villages.index)
    # inhabitants: 2,300 per km² of the village's nominal size, rounded to tens
    people = kernen.set_index("naam")["inwoners"]
    assert people["Maasheuvel"] == 5980 and people["Loonhorst"] == 920
    assert people["Kempenrade"] == 4600
    for name, kern in kernen.set_index("naam").geometry.items():
        # the village with its edge: the rand sites count in the kern
        assert villages.geometry[name].buffer(-1.0).within(kern)
        assert kern.area > villages.geometry[name].area * 1.3
    assert kernen.geometry.union_all().area == pytest.approx(kernen.area.sum())  # no overlap
    assert (housing.geom_type == "Point").all() and (housing["personen"] > 0).all()
    inside = gpd.sjoin(housing, kernen[["naam", "geometry"]], predicate="within")
    assert len(inside) == len(housing)  # every existing location counts in a kern
    loonhorst = inside.loc[inside["naam_right"] == "Loonhorst", "personen"].sum()
    assert loonhorst == 40  # 40 / 920 = 4.3 %: a new site with more than 6 persons runs over 5 %


def test_facilities_stand_beside_the_main_network(layers: dict[str, gpd.GeoDataFrame]) -> None:
    roads = layers["wegennet"]
    main = _road_components(roads)[0]
    first = map(
        tuple, np.round(shapely.get_coordinates(shapely.get_point(roads.geometry.values, 0)), 2)
    )
    on_main = np.array([p in main for p in first])
    streets = roads[on_main & ~roads["highway"].isin(["track", "cycleway"])]
    tree = shapely.STRtree(streets.geometry.values)
    counts = {}
    for name in ("ov_haltes", "supermarkten", "huisartsen"):
        frame = layers[name]
        assert (frame.geom_type == "Point").all() and frame["naam"].is_unique
        _, distance = tree.query_nearest(
            frame.geometry.values, return_distance=True, all_matches=False
        )
        # 8 m beside a street (nearer where another street meets it)
        assert (distance > 0.1).all() and (distance <= 8.05).all(), name
        counts[name] = len(frame)
    assert counts == {"ov_haltes": 15, "supermarkten": 5, "huisartsen": 4}
    # the smallest villages have no supermarket or doctor of their own
    kernen = layers["kernen"].set_index("naam")
    for kind in ("supermarkten", "huisartsen"):
        assert not layers[kind].intersects(kernen.geometry["Loonhorst"]).any()


def test_zones(layers: dict[str, gpd.GeoDataFrame], site_points: np.ndarray) -> None:
    nature = layers["natura2000"].geometry.iloc[0]
    roads = layers["wegennet"].geometry.union_all()
    assert not nature.intersects(roads)  # the road-free nature area
    assert 3 <= shapely.contains(nature, site_points).sum() <= 3  # the remote sites
    near = shapely.dwithin(nature, site_points, 250.0) & ~shapely.contains(nature, site_points)
    assert near.sum() >= 1  # the 250 m signal zone of the rule set
    valley = layers["natuurnetwerk"].geometry.iloc[0]
    bbg = _union(layers["bebouwd_gebied"])
    assert not valley.intersects(bbg) and shapely.contains(valley, site_points).sum() >= 3
    noise = layers["geluid"]
    assert list(noise["lden_db"]) == [58.0]  # above the rule set's 53 dB
    assert shapely.contains(noise.geometry.iloc[0], site_points).sum() >= 30
    safety = layers["externe_veiligheid"].geometry.iloc[0]
    business = _union(layers["bedrijventerreinen"])
    assert safety.intersects(business) and shapely.contains(safety, site_points).sum() >= 10
    risk = layers["plaatsgebonden_risico"].geometry.iloc[0]  # the PR 10-6 contour inside it
    assert risk.within(safety) and shapely.contains(risk, site_points).sum() >= 3


def test_sites_on_the_yard_of_their_employer(layers: dict[str, gpd.GeoDataFrame]) -> None:
    sites, employers = layers["locaties"], layers["werkgevers"].set_index("bedrijfsnaam")
    named = sites[sites["beoogde_werkgever"].notna()]
    own = employers.geometry.loc[named["beoogde_werkgever"]].values
    distance = shapely.distance(named.geometry.values, own)
    yard = named[distance <= 100.0]  # the rule set's erf_max_m
    assert len(yard) >= 6
    assert {"short_stay", "mid_stay", "long_stay"} <= set(yard["beoogd_verblijfstype"])
    assert (yard["omschrijving"] == "Tijdelijke units op bedrijfserf").sum() >= 6
