"""Facilities (voorzieningen): network distance to the nearest facility of each kind, its rules,
the config and the reader; a real test on Maastricht's bus stops and shops."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point

from locatietoets.analysis.errors import ConfigError, RuleSetError
from locatietoets.analysis.facilities import distance_network, nearest_facilities
from locatietoets.analysis.network import TravelSpeeds, build_network
from locatietoets.analysis.pipeline import Inputs, score_sites
from locatietoets.layers.io.config import parse_config
from locatietoets.layers.io.rules import read_ruleset_file

RD = "EPSG:28992"


def grid_network(size=10, step=100.0, *, mode="lopen", extra_links=(), oneway=None):
    """A size x size grid of roads, ``step`` m apart, node (i, j) at (i*step, j*step); plus
    ``extra_links`` ((x1, y1), (x2, y2)) as separate roads (their own nodes)."""
    nodes = [(i * step, j * step) for j in range(size) for i in range(size)]
    links = []
    for j in range(size):
        for i in range(size):
            here = j * size + i
            if i + 1 < size:
                links.append((here, here + 1))
            if j + 1 < size:
                links.append((here, here + size))
    for a, b in extra_links:
        nodes += [a, b]
        links.append((len(nodes) - 2, len(nodes) - 1))
    xy = np.asarray(nodes, dtype=float)
    u = np.array([a for a, _ in links])
    v = np.array([b for _, b in links])
    geoms = shapely.linestrings(np.stack([xy[u], xy[v]], axis=1))
    n = len(links)
    return build_network(
        mode=mode,
        node_x=xy[:, 0],
        node_y=xy[:, 1],
        node_id=None,
        link_u=u,
        link_v=v,
        link_length_m=shapely.length(geoms),
        link_geometry=geoms,
        link_highway=None,
        link_oneway=None if oneway is None else np.asarray(oneway, dtype=np.int8),
        link_car_kmh=np.full(n, 36.0) if mode == "auto" else None,
        speeds=TravelSpeeds(bike_kmh=18.0),
    )


def points(*xy) -> gpd.GeoSeries:
    return gpd.GeoSeries([Point(x, y) for x, y in xy], crs=RD)


def stops(*xy, names=None) -> gpd.GeoDataFrame:
    names = names or [f"halte {i + 1}" for i in range(len(xy))]
    return gpd.GeoDataFrame({"naam": names}, geometry=list(points(*xy)), crs=RD)


# A 900 x 900 m grid, a bus stop at the corner (0, 0) and a road of its own far to the east.
ISLAND = ((5000.0, 0.0), (5100.0, 0.0))
NET = grid_network(extra_links=[ISLAND])
STOPS = stops((0, 0), names=["Hoek"])
# 700 m over the grid (300 east + 400 north; 500 m in a straight line), 900 m, on the separate
# road (no stop reachable) and 3 km from any road (not connected)
SITES = points((300, 400), (500, 400), (5050, 0), (1000, 4000))


def test_distance_is_the_shortest_route_over_the_network_not_the_straight_line():
    out = nearest_facilities(SITES, {"ov_halte": STOPS}, NET, max_snap_m=1000)
    d = out["voorziening_ov_halte_afstand_m"].to_numpy()
    assert d[0] == pytest.approx(700.0) and d[1] == pytest.approx(900.0)
    assert out["voorziening_ov_halte"].tolist()[:2] == ["Hoek", "Hoek"]
    assert out["voorziening_ov_halte_onbereikbaar"].tolist() == [False, False, True, True]


def test_unreachable_gets_no_distance_and_a_reason_never_zero():
    out = nearest_facilities(SITES, {"ov_halte": STOPS}, NET, max_snap_m=1000)
    assert np.isnan(out["voorziening_ov_halte_afstand_m"].to_numpy()[2:]).all()
    assert out["voorziening_ov_halte"].tolist()[2:] == [None, None]
    reasons = out["voorziening_ov_halte_reden"].tolist()
    assert reasons[0] == reasons[1] == ""
    assert "los netdeel" in reasons[2]
    # 3,000 m north of the grid's top edge (y = 900) at x = 1000 -> nearest road corner (900, 900)
    assert reasons[3].startswith("ligt 3.102 m van het dichtstbijzijnde wegvak")


def test_connection_legs_count_and_the_nearest_of_several_facilities_wins():
    # a site 30 m beside the road, stops at both ends of the grid's bottom row
    two = stops((0, 0), (900, 0), names=["West", "Oost"])
    out = nearest_facilities(points((650, 30)), {"ov_halte": two}, NET, max_snap_m=1000)
    assert out["voorziening_ov_halte"].iloc[0] == "Oost"
    assert out["voorziening_ov_halte_afstand_m"].iloc[0] == pytest.approx(30 + 250)


def test_kinds_are_measured_separately():
    shops = stops((900, 900), names=["Super"])
    out = nearest_facilities(
        points((300, 400)), {"ov_halte": STOPS, "supermarkt": shops}, NET, max_snap_m=1000
    )
    assert out["voorziening_ov_halte_afstand_m"].iloc[0] == pytest.approx(700)
    assert out["voorziening_supermarkt_afstand_m"].iloc[0] == pytest.approx(600 + 500)


def test_a_car_network_measures_distance_both_ways_along_one_way_streets():
    # a single east-bound one-way road: by car (0 -> 500) only; a walk to the stop goes back
    net = grid_network(size=6, mode="auto", oneway=None)
    car = distance_network(net)
    assert np.isfinite(car.link_time_bwd_s).all()
    assert car.link_time_fwd_s == pytest.approx(net.link_length_m)
    out = nearest_facilities(points((500, 0)), {"ov_halte": STOPS}, net, max_snap_m=1000)
    assert out["voorziening_ov_halte_afstand_m"].iloc[0] == pytest.approx(500)


# Blocks of sites reuse the per-run structures (distance network, snapped facilities, tree).
# A shop as a multipolygon: a square with a hole 20 m from every road around it and a triangle
# whose tip is 10 m east of the road x = 800 at y = 450 (its nearest network point); a point shop.
MARKT = shapely.MultiPolygon(
    [
        (
            [(320, 620), (380, 620), (380, 680), (320, 680)],
            [[(340, 640), (360, 640), (360, 660), (340, 660)]],
        ),
        ([(810, 450), (880, 420), (880, 480)], []),
    ]
)
SHOPS = gpd.GeoDataFrame(
    {"naam": ["Markt", "Buurtwinkel"]}, geometry=[MARKT, Point(100, 900)], crs=RD
)
HALTES = stops((0, 0), (900, 0), names=["West", "Oost"])


def _block_sites() -> gpd.GeoSeries:
    rng = np.random.default_rng(15)
    xy = rng.uniform(-50, 950, size=(40, 2))
    geoms = [Point(x, y) for x, y in xy]
    geoms += [
        shapely.Polygon([(420, 420), (480, 420), (480, 480), (420, 480)]),  # a polygon site
        Point(5050, 0),  # on the separate road: nothing reachable
        Point(1000, 4000),  # 3 km from any road
    ]
    return gpd.GeoSeries(geoms, index=np.arange(100, 100 + len(geoms)), crs=RD)


def test_blocks_give_the_same_as_one_call_and_build_the_facility_side_once(monkeypatch):
    from locatietoets.analysis import travel
    from locatietoets.analysis.derived import clear_derived

    clear_derived()
    facilities = {"ov_halte": HALTES, "supermarkt": SHOPS}
    sites = _block_sites()
    one = nearest_facilities(sites, facilities, NET, max_snap_m=1000)
    # hand-computed: (800, 300) walks 150 m north along x = 800 and 10 m to the triangle's tip
    check = nearest_facilities(points((800, 300)), facilities, NET, max_snap_m=1000)
    assert check["voorziening_supermarkt"].iloc[0] == "Markt"
    assert check["voorziening_supermarkt_afstand_m"].iloc[0] == pytest.approx(160.0)

    from locatietoets.analysis import facilities as module

    built, snapped = [], []
    original, snap = travel.prepare_employers, travel.snap_to_network
    monkeypatch.setattr(
        travel, "prepare_employers", lambda *a, **k: built.append(1) or original(*a, **k)
    )
    counting_snap = lambda *a, **k: snapped.append(len(a[0])) or snap(*a, **k)  # noqa: E731
    monkeypatch.setattr(travel, "snap_to_network", counting_snap)
    monkeypatch.setattr(module, "snap_to_network", counting_snap)
    clear_derived()
    blocks = [sites.iloc[:15], sites.iloc[15:30], sites.iloc[30:]]
    cached = pd.concat([nearest_facilities(b, facilities, NET, max_snap_m=1000) for b in blocks])
    assert len(built) == 2  # once per kind for the whole run, not once per block and kind
    # the facilities of each kind once (2 stops, 2 shops), each block's sites once for both kinds
    assert sorted(snapped) == [2, 2, 13, 15, 15]
    assert distance_network(NET) is distance_network(NET)
    fresh = []
    for b in blocks:
        clear_derived()
        fresh.append(nearest_facilities(b, facilities, NET, max_snap_m=1000))
    pd.testing.assert_frame_equal(cached, one, check_exact=True)
    pd.testing.assert_frame_equal(pd.concat(fresh), one, check_exact=True)
    assert one["voorziening_supermarkt_onbereikbaar"].tolist()[-2:] == [True, True]


def test_a_changed_facility_frame_or_network_is_not_served_from_the_cache():
    from locatietoets.analysis.derived import clear_derived

    clear_derived()
    site = points((800, 300))
    before = nearest_facilities(site, {"supermarkt": SHOPS}, NET, max_snap_m=1000)
    moved = SHOPS.copy()  # the triangle's shop closes; the other one moves next to the site
    moved.geometry = gpd.GeoSeries([MARKT.geoms[0], Point(800, 320)], crs=RD)
    after = nearest_facilities(site, {"supermarkt": moved}, NET, max_snap_m=1000)
    assert before["voorziening_supermarkt_afstand_m"].iloc[0] == pytest.approx(160.0)
    assert after["voorziening_supermarkt"].iloc[0] == "Buurtwinkel"
    assert after["voorziening_supermarkt_afstand_m"].iloc[0] == pytest.approx(20.0)
    # another network (the grid without its link x = 800, 300..400): its own distance network,
    # so (800, 300) detours by (700, 300), (700, 400) and (800, 400): 300 + 50 + 10 m
    grid = grid_network()
    keep = ~(
        (grid.node_x[grid.link_u] == 800)
        & (grid.node_x[grid.link_v] == 800)
        & (grid.node_y[grid.link_u] == 300)
        & (grid.node_y[grid.link_v] == 400)
    )
    cut = build_network(
        mode="lopen",
        node_x=grid.node_x,
        node_y=grid.node_y,
        node_id=None,
        link_u=grid.link_u[keep],
        link_v=grid.link_v[keep],
        link_length_m=grid.link_length_m[keep],
        link_geometry=np.asarray(grid.link_geometry)[keep],
        link_highway=None,
        link_oneway=None,
        link_car_kmh=None,
        speeds=TravelSpeeds(bike_kmh=18.0),
    )
    detour = nearest_facilities(site, {"supermarkt": SHOPS}, cut, max_snap_m=1000)
    assert detour["voorziening_supermarkt_afstand_m"].iloc[0] == pytest.approx(360.0)
    clear_derived()
    for frame, net, got in ((moved, NET, after), (SHOPS, cut, detour)):
        want = nearest_facilities(site, {"supermarkt": frame}, net, max_snap_m=1000)
        pd.testing.assert_frame_equal(got, want, check_exact=True)


def _sites(xy, stay="short_stay"):
    n = len(xy)
    return gpd.GeoDataFrame(
        {
            "locatie_id": [f"L{i + 1}" for i in range(n)],
            "verblijfstype": stay,
            "huisvestingsvorm": [None] * n,
            "personen": np.nan,
            "slaapkamers": np.nan,
            "woonoppervlak_m2": np.nan,
            "eigen_werkgever": None,
        },
        geometry=[Point(x, y) for x, y in xy],
        crs=RD,
    )


def test_pipeline_rules_fire_above_the_threshold_and_when_unreachable():
    sites = _sites([(300, 400), (500, 400), (5050, 0)])
    result = score_sites(
        Inputs(sites=sites, network=NET, facilities={"ov_halte": STOPS}), read_ruleset_file()
    )
    r = result.results
    assert r["voorziening_ov_halte_afstand_m"].round(1).tolist()[:2] == [700.0, 900.0]
    assert "voorziening.ov_halte.ver" not in r["regels"].iloc[0]
    assert r["regels"].iloc[1] == "voorziening.ov_halte.ver"
    assert (
        r["redenen"]
        .iloc[1]
        .startswith("Dichtstbijzijnde ov-halte 'Hoek' ligt 900 m over het wegennet; maximum 800 m")
    )
    assert r["regels"].iloc[2] == "voorziening.ov_halte.onbereikbaar"
    assert "Geen ov-halte bereikbaar over het wegennet: geen voorziening" in r["redenen"].iloc[2]
    # a warning: geschikt with 10 points off
    assert r["oordeel"].tolist() == ["geschikt"] * 3
    assert r["score"].tolist() == [100.0, 90.0, 90.0]
    # kinds without a layer are not tested; the output has the kind's name and distance only
    assert "voorziening.supermarkt.ver" in result.summary["regels_niet_getoetst"]
    assert "voorziening.ov_halte.ver" not in result.summary["regels_niet_getoetst"]
    assert "voorziening_ov_halte_onbereikbaar" not in r.columns
    cols = list(r.columns)
    assert cols.index("voorziening_ov_halte_afstand_m") < cols.index("oordeel")


def test_the_threshold_is_a_parameter_per_gemeente_too():
    sites = _sites([(500, 400)])
    ruleset = read_ruleset_file().with_overrides({"voorziening_ov_halte_max_m": 1000}, {})
    r = score_sites(
        Inputs(sites=sites, network=NET, facilities={"ov_halte": STOPS}), ruleset
    ).results
    assert r["regels"].iloc[0] == ""


def test_without_network_the_step_is_skipped_with_a_dutch_reason():
    result = score_sites(
        Inputs(sites=_sites([(0, 0)]), facilities={"ov_halte": STOPS}), read_ruleset_file()
    )
    assert "wegennet" in result.skipped["voorzieningen"]
    assert "voorziening_ov_halte_afstand_m" not in result.results.columns


def test_a_new_kind_is_a_rule_set_entry_and_its_rule_needs_its_parameter(tmp_path):
    from locatietoets.layers.io.rules import DEFAULT_RULESET

    base = (Path(__file__).parents[1] / "analysis" / "rulesets" / DEFAULT_RULESET).read_text(
        encoding="utf-8"
    )
    rule = """
[[regel]]
id = "voorziening.basisschool.ver"
titel = "Basisschool ver weg"
soort = "waarschuwing"
oordeel = "geschikt"
strafpunten = 3
reden = "School '{voorziening}' op {voorziening_afstand_m:.0f} m; maximum {voorziening_max_m:.0f} m"
bron = "test"
"""
    param = """
[parameters.voorziening_basisschool_max_m]
waarde = 500.0
eenheid = "m"
min = 0
max = 5000
bron = "test"
"""
    without = tmp_path / "zonder.toml"
    without.write_text(base + rule, encoding="utf-8")
    with pytest.raises(RuleSetError, match="voorziening_basisschool_max_m"):
        read_ruleset_file(without)
    head, tail = base.split("\n[[regel]]", 1)
    with_param = tmp_path / "met.toml"
    with_param.write_text(head + param + "\n[[regel]]" + tail + rule, encoding="utf-8")
    ruleset = read_ruleset_file(with_param)
    school = stops((300, 400), names=["De Hoeksteen"])
    r = score_sites(
        Inputs(sites=_sites([(0, 0)]), network=NET, facilities={"basisschool": school}), ruleset
    ).results
    assert r["regels"].iloc[0] == "voorziening.basisschool.ver"
    assert r["redenen"].iloc[0].startswith("School 'De Hoeksteen' op 700 m; maximum 500 m")
    assert r["score"].iloc[0] == 97.0


def test_config_takes_a_table_per_kind_with_a_selection(tmp_path):
    config = parse_config(
        {
            "lagen": {
                "locaties": {"pad": "l.gpkg"},
                "voorzieningen": {
                    "supermarkt": {
                        "pad": "shops.geojson",
                        "selectie_veld": "shop",
                        "selectie_waarden": "supermarket",
                    },
                    "ov_halte": {"pad": "haltes.csv", "x_veld": "lon", "y_veld": "lat"},
                },
            }
        },
        base_dir=tmp_path,
    )
    assert set(config.layers) == {"locaties", "voorzieningen.supermarkt", "voorzieningen.ov_halte"}
    assert config.layer("voorzieningen.supermarkt").get("selectie_waarden") == "supermarket"


@pytest.mark.parametrize(
    "voorzieningen, message",
    [
        ({"Bus Halte": {"pad": "x.gpkg"}}, "alleen kleine letters"),
        ({"ov_halte": {"pad": "x.gpkg", "selectie_veld": "shop"}}, "selectie_waarden samen"),
        ({"ov_halte": {"pad": "x.gpkg", "naam_veldd": "n"}}, "bedoelde u 'naam_veld'"),
        ({"ov_halte": "x.gpkg"}, "geef per soort een tabel"),
    ],
)
def test_config_problems_are_dutch_and_name_the_table(tmp_path, voorzieningen, message):
    with pytest.raises(ConfigError) as exc:
        parse_config(
            {"lagen": {"locaties": {"pad": "l.gpkg"}, "voorzieningen": voorzieningen}},
            base_dir=tmp_path,
        )
    assert message.casefold() in str(exc.value).casefold()


def test_score_run_reads_the_layers_and_writes_the_fields(world, tmp_path):
    from fixtures import read_output, standard_config, write_config

    from locatietoets.layers.io.config import load_config
    from locatietoets.scripts.runner.score import run_config

    # the standard world's sites lie on y = 380,500 east of x = 200,000: one road along them
    x0, y0 = 200_000.0, 380_500.0
    lines = gpd.GeoDataFrame(
        {"highway": ["residential"]},
        geometry=[shapely.LineString([(x0 - 500, y0), (x0 + 9000, y0)])],
        crs=RD,
    )
    lines.to_file(world / "wegen.gpkg")
    shops = gpd.GeoDataFrame(
        {"shop": ["supermarket", "bakery", "Supermarket"], "name": ["Jumbo", "Bakker", "Lidl"]},
        geometry=[Point(x0, y0), Point(x0 + 250, y0), Point(x0 + 3000, y0)],
        crs=RD,
    )
    shops.to_file(world / "winkels.geojson", driver="GeoJSON")
    extra = """
[lagen.wegennet]
pad = "wegen.gpkg"
modus = "lopen"

[lagen.voorzieningen.supermarkt]
pad = "winkels.geojson"
naam_veld = "name"
selectie_veld = "shop"
selectie_waarden = "supermarket"
"""
    config = load_config(write_config(world, standard_config(extra=extra)))
    out = tmp_path / "uit"
    run_config(config, out)
    got = read_output(out)
    assert {"voorziening_supermarkt", "voorziening_supermarkt_afstand_m"} <= set(got.columns)
    assert set(got["voorziening_supermarkt"].dropna()) <= {"Jumbo", "Lidl"}
    # A1 at x0 + 250 on the road: 250 m to Jumbo (the bakery is not a supermarket)
    a1 = got.set_index("id").loc["A1"]
    assert a1["voorziening_supermarkt"] == "Jumbo"
    assert a1["voorziening_supermarkt_afstand_m"] == pytest.approx(250.0)
    reference = gpd.read_file(out / "referentie.gpkg", layer="voorzieningen.supermarkt")
    assert sorted(reference["naam"]) == ["Jumbo", "Lidl"]


# --- real data: Maastricht ------------------------------------------------------------------


def test_maastricht_bus_stops_and_supermarkets_over_the_real_network(shared_data, tmp_path):
    from locatietoets.layers.io.network import load_network
    from locatietoets.layers.io.read import load_reference_layers
    from locatietoets.layers.io.spec import Config, LayerSpec, RulesConfig

    graph = shared_data / "roads" / "maastricht_roads_case2024_georef.graphml"
    stops_csv = shared_data / "points" / "maastricht_gtfs_stops_2024.csv"
    shops = shared_data / "points" / "maastricht_osm_shop_nodes_2023.geojson"
    pc6 = shared_data / "points" / "maastricht_pc6_centroids.csv"
    for path in (graph, stops_csv, shops, pc6):
        if not path.is_file():
            pytest.skip(f"{path.name} ontbreekt in de gedeelde data")
    layers = {
        "voorzieningen.ov_halte": LayerSpec(
            "voorzieningen.ov_halte",
            stops_csv,
            crs="EPSG:4326",
            options={"x_veld": "stop_lon", "y_veld": "stop_lat", "naam_veld": "stop_name"},
        ),
        "voorzieningen.supermarkt": LayerSpec(
            "voorzieningen.supermarkt",
            shops,
            options={"selectie_veld": "shop", "selectie_waarden": "supermarket"},
        ),
    }
    frames, _ = load_reference_layers(Config(None, layers, RulesConfig()))
    assert len(frames["voorzieningen.supermarkt"]) == 32
    network = load_network(
        LayerSpec("wegennet", graph, options={"modus": "lopen"}),
        speeds=TravelSpeeds(),
        cache_dir=tmp_path,
    )
    postcodes = pd.read_csv(pc6)
    sites = gpd.GeoSeries(
        gpd.points_from_xy(postcodes["longitude"], postcodes["latitude"]), crs=4326
    ).to_crs(RD)
    out = nearest_facilities(
        sites,
        {
            "ov_halte": frames["voorzieningen.ov_halte"],
            "supermarkt": frames["voorzieningen.supermarkt"],
        },
        network,
        max_snap_m=1000,
    )
    bus = out["voorziening_ov_halte_afstand_m"]
    shop = out["voorziening_supermarkt_afstand_m"]
    # every Maastricht postcode reaches a stop and a supermarket; the network distance is never
    # shorter than the straight line to the nearest facility
    assert bus.notna().mean() > 0.99 and shop.notna().mean() > 0.99
    site_arr = np.asarray(sites.values, dtype=object)
    stop_arr = np.asarray(frames["voorzieningen.ov_halte"].geometry.values, dtype=object)
    straight_bus = shapely.distance(site_arr[:, None], stop_arr[None, :]).min(axis=1)
    ok = bus.notna().to_numpy()
    assert (bus.to_numpy()[ok] >= straight_bus[ok] - 1e-6).all()
    # a city: most addresses lie within 800 m of a bus stop and 2 km of a supermarket
    assert 0.6 < (bus <= 800).mean() <= 1.0
    assert 0.6 < (shop <= 2000).mean() <= 1.0
    print(
        f"Maastricht, {len(sites)} PC6: mediaan bushalte {bus.median():.0f} m, "
        f"supermarkt {shop.median():.0f} m; >800 m bus {(bus > 800).mean():.1%}, "
        f">2 km supermarkt {(shop > 2000).mean():.1%}"
    )


def test_a_kind_no_rule_uses_is_a_dutch_warning_in_the_run_record(world, tmp_path):
    import json

    from fixtures import standard_config, write_config

    from locatietoets.layers.io.config import load_config
    from locatietoets.scripts.runner.score import run_config

    gpd.GeoDataFrame(
        {"naam": ["Jumbo", "Bakker"]},
        geometry=[Point(200_000, 380_500), Point(200_250, 380_500)],
        crs=RD,
    ).to_file(world / "winkels.gpkg")
    extra = """
[lagen.voorzieningen.supermarkt]
pad = "winkels.gpkg"

[lagen.voorzieningen.bakkerij]
pad = "winkels.gpkg"
"""
    out = tmp_path / "uit"
    run_config(load_config(write_config(world, standard_config(extra=extra))), out)
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    warnings = [w for w in record["waarschuwingen"] if "[lagen.voorzieningen." in w]
    # supermarkt has rules in limburg-povi2021 (voorziening.supermarkt.*), bakkerij has none
    assert len(warnings) == 1
    assert "[lagen.voorzieningen.bakkerij]" in warnings[0]
    assert "geen regel" in warnings[0] and "voorziening_bakkerij_max_m" in warnings[0]
