"""Tests of ``locatietoets data ophalen`` / ``data controle`` against a local HTTP server.

Everything runs offline: the tests start an ``http.server.ThreadingHTTPServer``
on 127.0.0.1 (port 0) that serves OGC API Features pages (with ``next`` links)
and WFS 2.0 pages (``startIndex``) built from the real Limburg data in
../shared/data, an Overpass-style JSON answer, and faults (503 then OK, a
timeout, a malformed page, a 400, moved and missing endpoints).
"""

from __future__ import annotations

import json
from pathlib import Path
import socket
import sqlite3
import time

from click.testing import CliRunner
import geopandas as gpd
from pdok_replay import SECRET_WIJK, PdokReplay, facility_elements, osm_nodes
import pyogrio
import pytest
import shapely

from locatietoets.analysis.errors import InputError
from locatietoets.layers.fetch import (
    DEFAULT_LAYERS,
    Endpoint,
    FetchError,
    HttpClient,
    HttpSettings,
    check_endpoints,
    expand_layers,
    fetch_data,
    fetch_ogcapi,
    fetch_overpass,
    fetch_wfs,
    load_endpoints,
    overpass_query,
    resolve_area,
)
from locatietoets.layers.io.config import load_config
from locatietoets.scripts.data_cmd import data

pytestmark = pytest.mark.shared

FAST = HttpSettings(timeout_s=5.0, retries=2, backoff_s=0.01, max_wait_s=0.2)
GEMEENTEN_PAGE = 10  # 31 gemeenten -> 4 pages
CLI_FAST = ["--tijdslimiet", "0.5", "--pogingen", "2", "--wacht", "0.01", "--voortgang", "geen"]
# for the tests that count requests: a busy machine must not turn a slow answer into a retry
CLI_PATIENT = ["--tijdslimiet", "30", "--pogingen", "2", "--wacht", "0.01", "--voortgang", "geen"]


# --------------------------------------------------------------------------- the local server


def _collection(frame: gpd.GeoDataFrame) -> list[dict]:
    return json.loads(frame.to_json(drop_id=True, default=str))["features"]


def _overpass_elements(kind: str) -> list[dict]:
    """A small Overpass answer: closed ways, multipolygon relations (one with a hole), a node."""
    elements: list[dict] = []
    node_id = [1000]

    def ring(lon: float, lat: float, d: float) -> list[int]:
        ids = []
        for x, y in ((lon, lat), (lon + d, lat), (lon + d, lat + d), (lon, lat + d)):
            node_id[0] += 1
            elements.append({"type": "node", "id": node_id[0], "lat": y, "lon": x})
            ids.append(node_id[0])
        return ids + ids[:1]

    if kind == "recreation":
        elements.append(
            {
                "type": "way",
                "id": 100,
                "nodes": ring(6.160, 51.365, 0.003),
                "tags": {"tourism": "camp_site", "name": "Camping De Maas"},
            }
        )
        elements.append({"type": "way", "id": 201, "nodes": ring(6.180, 51.380, 0.004)})
        elements.append({"type": "way", "id": 202, "nodes": ring(6.1815, 51.3815, 0.001)})
        elements.append(
            {
                "type": "relation",
                "id": 200,
                "members": [
                    {"type": "way", "ref": 201, "role": "outer"},
                    {"type": "way", "ref": 202, "role": "inner"},
                ],
                "tags": {
                    "type": "multipolygon",
                    "tourism": "caravan_site",
                    "name": "Vakantiepark Het Bos",
                },
            }
        )
        elements.append(
            {
                "type": "node",
                "id": 300,
                "lat": 51.37,
                "lon": 6.17,
                "tags": {"tourism": "chalet", "name": "Chalet"},
            }
        )
        # far outside Limburg (Zeeland): must be cut away
        elements.append(
            {
                "type": "way",
                "id": 400,
                "nodes": ring(3.80, 51.50, 0.003),
                "tags": {"tourism": "camp_site", "name": "Camping Zee"},
            }
        )
        # not a recreation park: filtered on tags
        elements.append(
            {
                "type": "way",
                "id": 401,
                "nodes": ring(6.150, 51.360, 0.002),
                "tags": {"tourism": "hotel"},
            }
        )
    else:
        elements.append(
            {
                "type": "way",
                "id": 500,
                "nodes": ring(6.120, 51.400, 0.005),
                "tags": {"landuse": "industrial", "name": "Trade Port"},
            }
        )
        elements.append({"type": "way", "id": 601, "nodes": ring(6.100, 51.390, 0.002)})
        elements.append({"type": "way", "id": 602, "nodes": ring(6.104, 51.390, 0.002)})
        elements.append(
            {
                "type": "relation",
                "id": 600,
                "members": [
                    {"type": "way", "ref": 601, "role": "outer"},
                    {"type": "way", "ref": 602, "role": "outer"},
                ],
                "tags": {"type": "multipolygon", "landuse": "greenhouse_horticulture"},
            }
        )
    return elements


def _fault_handlers(srv: PdokReplay) -> dict:
    """Faulty endpoints, by the first part of their path."""
    three = srv.collections["gemeentegebied"].iloc[:3]
    five = srv.collections["gemeentegebied"].iloc[:5]

    def wisselvallig(path, query, hits):
        if hits == 1:
            return 503, {"Retry-After": "0.05", "Content-Type": "text/plain"}, b"Unavailable"
        return srv.ogc_items(path, query, three)

    def traag(path, query, hits):
        time.sleep(1.2)
        return srv.ogc_items(path, query, three)

    def kapot(path, query, hits):
        if "cursor" not in query:
            first = {k: v for k, v in query.items() if k not in ("bbox", "bbox-crs")}
            return srv.ogc_items(path, {**first, "limit": "2"}, five)
        return 200, {"Content-Type": "application/json"}, b'{"type": "FeatureCollection", "featu'

    def zonderfeatures(path, query, hits):
        return 200, {"Content-Type": "application/json"}, b'{"type": "FeatureCollection"}'

    def weigert(path, query, hits):
        body = {"code": "InvalidParameterValue", "description": "unknown collection 'x'"}
        return 400, {"Content-Type": "application/json"}, json.dumps(body).encode()

    def oud(path, query, hits):
        return 301, {"Location": f"{srv.base}/ogc/collections/gemeentegebied/items"}, b""

    def stuk(path, query, hits):
        return 500, {"Content-Type": "text/plain"}, b"Internal Server Error"

    def crs84(path, query, hits):
        # a server that ignores 'crs' and 'bbox-crs' and answers in CRS84, saying so in the header
        plain = {k: v for k, v in query.items() if k not in ("crs", "bbox-crs", "bbox")}
        return srv.ogc_items(path, plain, three)

    def zonderkop(path, query, hits):
        # the same without a Content-Crs header: the OGC API default (CRS84) applies
        status, headers, body = crs84(path, query, hits)
        return status, {k: v for k, v in headers.items() if k != "Content-Crs"}, body

    def geenrd(path, query, hits):
        # a collection whose metadata does not offer RD New
        if path.endswith("/items"):
            return srv.ogc_items(path, query, three)
        body = {"id": "x", "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]}
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    return {
        "geenrd": geenrd,
        "crs84": crs84,
        "zonderkop": zonderkop,
        "wisselvallig": wisselvallig,
        "traag": traag,
        "kapot": kapot,
        "zonderfeatures": zonderfeatures,
        "weigert": weigert,
        "oud": oud,
        "stuk": stuk,
    }


@pytest.fixture(scope="module")
def server(shared_data: Path):
    srv = PdokReplay(shared_data)
    srv.faults = _fault_handlers(srv)
    # facilities: the hand-made ones near Venlo and the real OSM nodes of Maastricht, in one
    # answer per key as Overpass would send every element in the bbox that has the tag (osmnx's
    # builder keeps the ones with the asked tags)
    points = shared_data / "points"
    facilities = (
        facility_elements()
        + osm_nodes(points / "maastricht_osm_shop_nodes_2023.geojson")
        + osm_nodes(points / "maastricht_osm_amenity_nodes_2023.geojson")
    )
    srv.overpass = {
        "tourism": _overpass_elements("recreation"),
        "landuse": _overpass_elements("industrial"),
        "highway": facilities,
        "shop": facilities,
        "amenity": facilities,
    }
    yield srv
    srv.close()


PACKAGED = Path(__file__).resolve().parents[1] / "layers" / "fetch" / "endpoints.toml"


def _endpoints_toml(base: str, extra: str = "") -> str:
    """The packaged endpoints file, pointed at the local server (same collections, fields,
    type names and tags); smaller pages for the gemeenten, BAG and Natura 2000 to test paging."""
    import re

    text = PACKAGED.read_text(encoding="utf-8")
    text = re.sub(r'url = "https://api\.pdok\.nl/[^"]*"', f'url = "{base}/ogc"', text)
    text = re.sub(r'url = "https://service\.pdok\.nl/[^"]*"', f'url = "{base}/wfs"', text)
    text = text.replace(
        'url = "https://overpass-api.de/api/interpreter"', f'url = "{base}/overpass/interpreter"'
    )
    text = text.replace('versie = "2026.12.1"', 'versie = "test-1"', 1)
    sizes = {"gemeenten": GEMEENTEN_PAGE, "verblijfsobjecten": 50, "natura2000": 40}
    for key, size in sizes.items():
        start = text.index(f"[bronnen.{key}]")
        end = text.index("paginagrootte", start)
        line_end = text.index("\n", end)
        text = text[:end] + f"paginagrootte = {size}" + text[line_end:]
    assert 'url = "https' not in text  # every source points at the local server
    return text + extra


def _fault(name: str, base: str, path: str | None = None) -> str:
    return f"""
[bronnen.{name}]
aanbieder = "PDOK"
soort = "ogcapi"
url = "{base}/{path or name}"
collectie = "x"
velden = {{ code = "code", name = "naam" }}
geometrie = "vlak"
bestand = "{name}.gpkg"
paginagrootte = 10
"""


@pytest.fixture(scope="module")
def endpoints_file(server: PdokReplay, tmp_path_factory: pytest.TempPathFactory) -> Path:
    faults = "".join(
        _fault(n, server.base)
        for n in ("wisselvallig", "traag", "kapot", "weigert", "zonderfeatures")
    )
    faults += _fault("afwezig", f"http://127.0.0.1:{_free_port()}", "afwezig")
    path = tmp_path_factory.mktemp("endpoints") / "endpoints.toml"
    path.write_text(_endpoints_toml(server.base, faults), encoding="utf-8")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(args: list[str]) -> object:
    return CliRunner().invoke(data, args, catch_exceptions=False)


def _gpkg_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


# --------------------------------------------------------------------------- fetching


def test_ophalen_limburg_pages_converts_caches_and_refreshes(
    server: PdokReplay, endpoints_file: Path, tmp_path: Path
) -> None:
    out, cache = tmp_path / "uit", tmp_path / "cache"
    layers = "gemeenten,bag,wegen,natura2000,recreatieparken,werkgevers"
    args = [
        "ophalen",
        "--gebied",
        "limburg",
        "--lagen",
        layers,
        "--out",
        str(out),
        "--endpoints",
        str(endpoints_file),
        "--cache",
        str(cache),
        *CLI_PATIENT,
    ]
    before = server.total()
    hits_before = dict(server.hits)
    result = _run(args)
    assert result.exit_code == 0, result.output
    first_requests = server.total() - before
    first_hits = {k: v - hits_before.get(k, 0) for k, v in server.hits.items()}
    assert server.hits["/ogc/collections/gemeentegebied/items"] >= 4

    # gemeenten: every page fetched, attributes intact, geometry back in RD New
    gem = gpd.read_file(out / "gemeenten.gpkg")
    assert len(gem) == 31
    assert gem.crs.to_epsg() == 28992
    source = server.gemeenten_rd.set_index("code")
    gem = gem.set_index("code")
    assert set(gem.index) == set(source.index)
    # BRK delivers the 4-digit CBS number; the layer has the GMxxxx code of the rule set
    assert (gem["naam"] == source.loc[gem.index, "name"]).all()
    assert (
        gem.loc["GM0983", "regio"] == "Noord-Limburg"
        and gem.loc["GM0935", "regio"] == "Zuid-Limburg"
    )
    # asked and delivered in RD New: the geometry is the source's, not a CRS84 round trip
    ratio = gem.geometry.area / source.loc[gem.index].geometry.area
    assert ((ratio - 1).abs() < 1e-9).all(), ratio.describe()
    assert _gpkg_version(out / "gemeenten.gpkg") == 10200

    # manifest
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["lagen"]["gemeenten"]
    assert entry["paginas"] == 4 and entry["objecten"] == 31 and len(entry["urls"]) == 4
    assert entry["urls"][0].startswith(f"{server.base}/ogc/collections/gemeentegebied/items?")
    assert entry["parameters"]["limit"] == GEMEENTEN_PAGE and "bbox" in entry["parameters"]
    # PDOK wants full CRS URIs; the later pages come from the 'next' links (an opaque cursor)
    rd_uri = "http://www.opengis.net/def/crs/EPSG/0/28992"
    assert entry["parameters"]["crs"] == rd_uri and entry["parameters"]["bbox-crs"] == rd_uri
    assert "cursor=" not in entry["urls"][0] and all("cursor=" in u for u in entry["urls"][1:])
    assert (
        entry["opgehaald"].endswith("Z")
        and entry["endpoint_versie"] == "v1"
        and entry["uit_cache"] is False
    )
    for key in (
        "gemeenten",
        "verblijfsobjecten",
        "wegen",
        "natura2000",
        "recreatieparken",
        "werkgevers",
    ):
        layer = manifest["lagen"][key]
        assert pyogrio.read_info(out / layer["bestand"])["features"] == layer["objecten"]
        from locatietoets.layers.io.read import file_sha256

        assert file_sha256(out / layer["bestand"]) == layer["sha256"]
    assert manifest["gebied"]["soort"] == "limburg" and len(manifest["gebied"]["gemeenten"]) == 31
    assert manifest["endpoints"]["versie"] == "test-1"

    # WFS: paged with startIndex, with and without numberMatched
    natura = manifest["lagen"]["natura2000"]
    assert natura["paginas"] >= 3 and natura["objecten"] > 0
    assert [int(u.split("startIndex=")[1].split("&")[0]) for u in natura["urls"]] == [
        40 * i for i in range(natura["paginas"])
    ]
    # NWB from the OGC API (cursor paging, no 50,000 cap): every wegvak in the bbox, the road
    # type derived from bst_code/wegbehsrt, the ferry and airfield sections dropped
    wegen = manifest["lagen"]["wegen"]
    # (the area of 'limburg' is the union of its gemeenten; the request asks for its bbox)
    limburg = shapely.box(*server.gemeenten_rd.total_bounds)
    in_bbox = server.collections["wegvakken"].intersects(limburg)
    assert wegen["objecten_bron"] == int(in_bbox.sum()) > 1000 and wegen["paginas"] >= 2
    assert any(
        "1 wegvakken hebben een onbekende baansubsoort" in w for w in wegen["waarschuwingen"]
    )
    roads = gpd.read_file(out / "nwb_wegen.gpkg")
    assert set(roads.geom_type) == {"MultiLineString"}
    assert {"wvk_id", "straatnaam", "rijrichting", "baansoort", "wegtype"} <= set(roads.columns)
    assert not roads["baansoort"].isin(["VD", "VV"]).any()
    by_code = roads.groupby(["baansoort", "wegbeheerder_soort"])["wegtype"].agg(set).to_dict()
    assert by_code[("HR", "R")] == {"motorway"} and by_code[("HR", "G")] == {"unclassified"}
    assert by_code[("FP", "G")] == {"cycleway"} and by_code[("ZZZ", "G")] == {"unclassified"}

    # BAG points: all of them are in Limburg's kernen
    bag = gpd.read_file(out / "bag_verblijfsobjecten.gpkg")
    assert 90 <= len(bag) <= 107 and set(bag.geom_type) == {"Point"}
    # the building link is 'pand.href' (a URL, or a list of URLs written comma-separated)
    assert bag["pand_url"].str.startswith(f"{server.base}/ogc/collections/pand/items/").all()
    two = bag[bag["pand_url"].str.contains(",")]
    assert len(two) > 0 and (two["pand_url"].str.count("http") == 2).all()

    # Overpass: polygons only, cut to the area, tags filtered
    parks = gpd.read_file(out / "osm_recreatieparken.gpkg")
    assert sorted(parks["naam"]) == ["Camping De Maas", "Vakantiepark Het Bos"]
    work = gpd.read_file(out / "osm_werkgevers.gpkg")
    assert sorted(work["landuse"]) == ["greenhouse_horticulture", "industrial"]

    # config.toml loads with the project's own loader and points at what was fetched
    config = load_config(out / "config.toml")
    assert config.layer("locaties").path == (out / "bag_verblijfsobjecten.gpkg").resolve()
    assert config.layer("locaties").get("id_veld") == "identificatie"
    assert config.layer("gemeenten").get("regio_veld") == "regio"
    assert config.layer("wegennet").get("modus") == "fiets"
    assert config.layer("wegennet").get("eenrichting_veld") == "rijrichting"
    assert config.layer("wegennet").get("wegtype_veld") == "wegtype"
    assert config.layer("recreatieparken").get("naam_veld") == "naam"
    assert config.layer("werkgevers") is not None

    # second run: everything from the cache, not one request
    before = server.total()
    result = _run(args)
    assert result.exit_code == 0, result.output
    assert server.total() == before
    manifest2 = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert all(layer["uit_cache"] for layer in manifest2["lagen"].values())
    assert manifest2["lagen"]["gemeenten"]["opgehaald"] == entry["opgehaald"]
    assert manifest2["verzoeken"] == 0

    # --vernieuw downloads again
    hits_before = dict(server.hits)
    result = _run([*args, "--vernieuw", "--voortgang", "balk"])
    assert result.exit_code == 0, result.output
    again = {k: v - hits_before.get(k, 0) for k, v in server.hits.items()}
    assert {k: v for k, v in again.items() if v} == {k: v for k, v in first_hits.items() if v}
    assert server.total() - before == first_requests
    assert len(gpd.read_file(out / "gemeenten.gpkg")) == 31


def test_gemeente_and_region_areas(
    server: PdokReplay, endpoints_file: Path, tmp_path: Path
) -> None:
    endpoints = load_endpoints(endpoints_file)
    cache = tmp_path / "cache"
    venlo = fetch_data(
        "Venlo",
        ["gemeenten", "bag"],
        tmp_path / "venlo",
        endpoints=endpoints,
        cache_dir=cache,
        http=FAST,
    )
    gem = gpd.read_file(venlo.layers["gemeenten"].path)
    assert list(gem["naam"]) == ["Venlo"]
    bag = gpd.read_file(venlo.layers["verblijfsobjecten"].path)
    assert len(bag) > 0 and bag.within(gem.geometry.iloc[0].buffer(1)).all()
    assert "Arcen" in set(bag["woonplaats"])  # a kern of gemeente Venlo

    noord = fetch_data(
        "noord-limburg",
        ["gemeenten"],
        tmp_path / "noord",
        endpoints=endpoints,
        cache_dir=cache,
        http=FAST,
    )
    assert noord.requests == 0  # the gemeenten came from the cache filled for Venlo
    names = set(gpd.read_file(noord.layers["gemeenten"].path)["naam"])
    assert names == {
        "Beesel",
        "Bergen (L.)",
        "Gennep",
        "Horst aan de Maas",
        "Mook en Middelaar",
        "Peel en Maas",
        "Venlo",
        "Venray",
    }

    by_code = fetch_data(
        "GM0983", ["gemeenten"], tmp_path / "code", endpoints=endpoints, cache_dir=cache, http=FAST
    )
    assert list(gpd.read_file(by_code.layers["gemeenten"].path)["code"]) == ["GM0983"]
    # config without sites: a commented hint, and the rest is valid
    text = (tmp_path / "code" / "config.toml").read_text(encoding="utf-8")
    assert "# [lagen.locaties]" in text and "[lagen.gemeenten]" in text


def test_bbox_area_needs_no_gemeenten(
    server: PdokReplay, endpoints_file: Path, tmp_path: Path
) -> None:
    endpoints = load_endpoints(endpoints_file)
    before = server.hits["/ogc/collections/gemeenten/items"]
    outcome = fetch_data(
        "200000,370000,215000,385000",
        ["natura2000"],
        tmp_path / "uit",
        endpoints=endpoints,
        cache_dir=tmp_path / "cache",
        http=FAST,
    )
    assert server.hits["/ogc/collections/gemeenten/items"] == before
    frame = gpd.read_file(outcome.layers["natura2000"].path)
    assert len(frame) > 0
    xmin, ymin, xmax, ymax = frame.total_bounds
    assert (
        xmin >= 200000 - 0.01
        and xmax <= 215000 + 0.01
        and ymin >= 370000 - 0.01
        and ymax <= 385000 + 0.01
    )


def test_503_is_retried_and_retry_after_honoured(server: PdokReplay, endpoints_file: Path) -> None:
    endpoint = load_endpoints(endpoints_file).endpoints["wisselvallig"]
    waits: list[float] = []
    client = HttpClient(FAST, sleep=waits.append)
    before = server.hits["/wisselvallig/collections/x/items"]
    raw = fetch_ogcapi(client, endpoint, (167000.0, 306000.0, 214000.0, 422000.0))
    assert len(raw.frame) == 3 and raw.pages == 1
    assert server.hits["/wisselvallig/collections/x/items"] - before == 2
    assert client.retried == 1 and waits == [0.05]  # Retry-After, not the backoff


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ("traag", r"PDOK antwoordt niet binnen 0,5 s \(3 pogingen\)"),
        ("kapot", r"geen geldige JSON.*pagina 2|pagina 2.*geen geldige JSON"),
        ("zonderfeatures", r"pagina 1 een onbruikbaar antwoord.*'features' ontbreekt"),
        (
            "weigert",
            (
                r"PDOK weigert het verzoek \(HTTP 400 .*unknown collection.*controleer de"
                r" endpoint-configuratie"
            ),
        ),
        (
            "afwezig",
            (
                r"Geen verbinding met 127\.0\.0\.1:\d+ \(PDOK\) na 3 pogingen.*geen eerder"
                r" opgehaalde gegevens"
            ),
        ),
    ],
)
def test_faults_fail_cleanly_in_dutch(
    server: PdokReplay, endpoints_file: Path, tmp_path: Path, layer: str, message: str
) -> None:
    out = tmp_path / "uit"
    start = time.perf_counter()
    # a good layer first: it must not be written either when a later one fails
    result = _run(
        [
            "ophalen",
            "--gebied",
            "190000,350000,200000,360000",
            "--lagen",
            f"natura2000,{layer}",
            "--out",
            str(out),
            "--endpoints",
            str(endpoints_file),
            "--cache",
            str(tmp_path / "cache"),
            *CLI_FAST,
        ]
    )
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "Fout bij ophalen" in text
    import re

    assert re.search(message, text, flags=re.IGNORECASE | re.DOTALL), text
    assert not list(out.glob("*.gpkg")) if out.exists() else True
    assert not (out / "manifest.json").exists() and not (out / "config.toml").exists()
    assert not any(out.glob(".ophalen-*")) if out.exists() else True
    assert time.perf_counter() - start < 10


@pytest.mark.parametrize("name", ["crs84", "zonderkop"])
def test_answer_in_crs84_is_converted(server: PdokReplay, endpoints_file: Path, name: str) -> None:
    # asked for RD New but answered in CRS84 (with or without a Content-Crs header): the layer
    # still lands in RD New at the right place
    endpoint = load_endpoints(endpoints_file).endpoints["wisselvallig"]
    endpoint = Endpoint(**{**endpoint.__dict__, "key": name, "url": f"{server.base}/{name}"})
    raw = fetch_ogcapi(HttpClient(FAST), endpoint, (167000.0, 306000.0, 214000.0, 422000.0))
    source = server.collections["gemeentegebied"].iloc[:3]
    assert raw.frame.crs.to_epsg() == 28992 and len(raw.frame) == 3
    shift = raw.frame.geometry.centroid.distance(source.geometry.centroid.reset_index(drop=True))
    assert (shift < 0.5).all(), shift  # metres; a CRS mix-up would be off by kilometres


def test_timeout_is_retried(server: PdokReplay, endpoints_file: Path) -> None:
    endpoint = load_endpoints(endpoints_file).endpoints["traag"]
    client = HttpClient(HttpSettings(timeout_s=0.2, retries=1, backoff_s=0.01))
    before = server.hits["/traag/collections/x/items"]
    with pytest.raises(FetchError, match="antwoordt niet binnen"):
        fetch_ogcapi(client, endpoint, (190000.0, 350000.0, 200000.0, 360000.0))
    assert server.hits["/traag/collections/x/items"] - before == 2


def test_offline_message_lists_cached_data(
    server: PdokReplay, endpoints_file: Path, tmp_path: Path
) -> None:
    endpoints = load_endpoints(endpoints_file)
    cache = tmp_path / "cache"
    fetch_data(
        "190000,350000,200000,360000",
        ["natura2000"],
        tmp_path / "a",
        endpoints=endpoints,
        cache_dir=cache,
        http=FAST,
    )
    moved = load_endpoints(endpoints_file)
    dead = Endpoint(
        **{**moved.endpoints["natura2000"].__dict__, "url": f"http://127.0.0.1:{_free_port()}/wfs"}
    )
    # same query but unreachable: the message points at what the cache holds (for the old URL it is
    # keyed on)
    client = HttpClient(HttpSettings(timeout_s=1, retries=0))
    from locatietoets.layers.fetch import LayerCache

    with pytest.raises(FetchError, match="Geen verbinding"):
        fetch_wfs(
            client,
            dead,
            (190000.0, 350000.0, 200000.0, 360000.0),
            cache_hint=LayerCache(cache).hint(moved.endpoints["natura2000"]),
        )
    with pytest.raises(
        FetchError,
        match=(
            r"eerder opgehaalde gegevens van 'natura2000' voor:"
            r" bbox:190000\.00.*\(\d{4}-\d{2}-\d{2}\)"
        ),
    ):
        fetch_wfs(
            client,
            dead,
            (190000.0, 350000.0, 200000.0, 360000.0),
            cache_hint=LayerCache(cache).hint(moved.endpoints["natura2000"]),
        )


def test_overpass_json_to_polygons(server: PdokReplay, endpoints_file: Path) -> None:
    endpoint = load_endpoints(endpoints_file).endpoints["recreatieparken"]
    raw = fetch_overpass(HttpClient(FAST), endpoint, (167000.0, 306000.0, 214000.0, 422000.0))
    frame = raw.frame.set_index("osm_id")
    assert raw.frame.crs.to_epsg() == 28992
    assert set(frame.index) == {
        "way/100",
        "relation/200",
        "way/400",
    }  # the hotel and the single holiday cottage (tourism=chalet) are filtered out
    assert frame.loc["relation/200"].geometry.geom_type == "Polygon"

    # the multipolygon's hole is cut out: outer minus inner, both projected
    def square(lon: float, lat: float, d: float) -> float:
        return (
            gpd.GeoSeries([shapely.box(lon, lat, lon + d, lat + d)], crs=4326)
            .to_crs(28992)
            .area.iloc[0]
        )

    expected = square(6.180, 51.380, 0.004) - square(6.1815, 51.3815, 0.001)
    assert frame.loc["relation/200"].geometry.area == pytest.approx(expected, rel=1e-3)
    assert 'nwr["tourism"~"^(camp_site|caravan_site)$"]' in raw.params["data"]
    assert raw.params["data"].startswith("[out:json]") and "(._;>;);out body;" in raw.params["data"]


def test_overpass_query_bbox_order() -> None:
    query = overpass_query(
        {"landuse": ["industrial"]}, (190000.0, 350000.0, 200000.0, 360000.0), timeout_s=30
    )
    south, west, north, east = (float(v) for v in query.split("](")[1].split(")")[0].split(","))
    assert 50.0 < south < north < 52.0 and 5.5 < west < east < 6.5
    assert query.startswith("[out:json][timeout:30];") and 'nwr["landuse"="industrial"]' in query


# --------------------------------------------------------------------------- data controle


def test_controle_reports_ok_moved_and_failed(server: PdokReplay, tmp_path: Path) -> None:
    old_nwb = f"""
[bronnen.nwb_oud]
aanbieder = "PDOK"
soort = "ogcapi"
url = "{server.base}/ogc"
collectie = "wegvakken"
velden = {{ wvkId = "wvk_id", sttNaam = "straatnaam", bstCode = "baansoort" }}
geometrie = "lijn"
bestand = "nwb_oud.gpkg"
"""
    extra = (
        _fault("oud", server.base, "oud")
        + _fault("weg", server.base, "bestaatniet")
        + _fault("stuk", server.base)
        + _fault("afwezig", f"http://127.0.0.1:{_free_port()}", "afwezig")
        + _fault("geenrd", server.base)
        + old_nwb
    )
    path = tmp_path / "endpoints.toml"
    path.write_text(_endpoints_toml(server.base, extra), encoding="utf-8")
    results = {
        r.key: r
        for r in check_endpoints(load_endpoints(path), http=HttpSettings(timeout_s=2, retries=0))
    }
    # every packaged source matches the documented shape of its service
    assert {k for k, r in results.items() if r.status == "OK"} == set(load_endpoints().endpoints)
    wegen = results["wegen"].checked
    assert wegen[0] == "collectie 'wegvakken' bestaat" and "RD New (EPSG:28992) aangeboden" in wegen
    assert any(c.startswith("velden aanwezig: wvk_id, stt_naam, wegbehsrt") for c in wegen)
    assert "Content-Crs EPSG:28992" in wegen
    parks = results["recreatieparken_top10nl"].checked
    assert any("typefunctioneelgebied" in c for c in parks)  # the selection field is checked too
    assert any("objecten in de dienst" in c for c in results["natura2000"].checked)
    assert results["oud"].status == "verplaatst" and results["oud"].http_status == 301
    assert f"{server.base}/ogc/collections/gemeentegebied/items" in results["oud"].detail
    assert results["weg"].status == "verplaatst" and results["weg"].http_status == 404
    assert results["stuk"].status == "fout" and results["stuk"].http_status == 500
    assert results["afwezig"].status == "fout" and "Geen verbinding" in results["afwezig"].detail
    assert results["geenrd"].status == "fout" and "biedt RD New" in results["geenrd"].detail
    assert results["geenrd"].checked == ("collectie 'x' bestaat",)
    # the camelCase NWB fields of the old definition do not exist in PDOK's NWB
    assert results["nwb_oud"].status == "fout"
    assert "wvkId, sttNaam, bstCode" in results["nwb_oud"].detail
    assert "wvk_id" in results["nwb_oud"].detail  # what is there instead

    result = _run(["controle", "--endpoints", str(path), "--tijdslimiet", "2"])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    for word in ("OK", "verplaatst", "fout", "niet in orde", "aanwezig", "aangeboden"):
        assert word in text


def test_controle_all_ok_exits_zero(server: PdokReplay, tmp_path: Path) -> None:
    path = tmp_path / "endpoints.toml"
    path.write_text(_endpoints_toml(server.base), encoding="utf-8")
    result = _run(["controle", "--endpoints", str(path)])
    assert result.exit_code == 0, result.output
    n = len(load_endpoints().endpoints)
    assert f"Alle {n} bronnen zijn bereikbaar" in " ".join(result.output.split())


def test_short_crs_name_is_refused_as_pdok_does(server: PdokReplay) -> None:
    # PDOK answers a short CRS name with HTTP 400 and an RFC 7807 problem; the message shows
    # the server's own explanation
    client = HttpClient(FAST)
    url = f"{server.base}/ogc/collections/gemeentegebied/items"
    with pytest.raises(FetchError) as info:
        client.request("GET", url, params={"f": "json", "crs": "EPSG:28992"}, provider="PDOK")
    text = str(info.value)
    assert "HTTP 400" in text
    assert "crs param should start with http://www.opengis.net/def/crs/, got: EPSG:28992" in text


def test_wfs_start_index_cap(server: PdokReplay, tmp_path: Path) -> None:
    # the NWB as a WFS: 1.5 million wegvakken, PDOK refuses a startIndex above 50,000; the
    # fetch stops after the first page with a Dutch message instead of ending partway
    endpoint = Endpoint(
        key="nwb_wfs",
        kind="wfs",
        url=f"{server.base}/wfs",
        typename="nwbwegen:wegvakken",
        fields={"wvk_id": "wvk_id"},
        geometry="lijn",
        filename="nwb_wfs.gpkg",
        page_size=1000,
    )
    before = server.hits["/wfs"]
    with pytest.raises(FetchError, match=r"startIndex boven 50\.000.*OGC API"):
        fetch_wfs(HttpClient(FAST), endpoint, (190000.0, 350000.0, 200000.0, 360000.0))
    assert server.hits["/wfs"] - before == 1
    # and the server refuses what the client no longer asks
    response = HttpClient(FAST).request(
        "GET",
        f"{server.base}/wfs",
        params={
            "service": "WFS",
            "request": "GetFeature",
            "typeNames": "nwbwegen:wegvakken",
            "outputFormat": "application/json",
            "startIndex": 51000,
        },
        raise_for_status=False,
    )
    assert response.status_code == 400 and "maximum of 50000" in response.text


# --------------------------------------------------------------------------- no server needed


def test_packaged_endpoints_are_valid() -> None:
    endpoints = load_endpoints()
    assert set(expand_layers(DEFAULT_LAYERS, endpoints)) == {
        "gemeenten",
        "wijken",
        "verblijfsobjecten",
        "wegen",
        "natura2000",
        "recreatieparken_top10nl",
        "recreatieparken",
        "werkgevers",
        "bedrijventerreinen",
        "bebouwde_kom",
        "kernen",
        "ov_haltes",
        "supermarkten",
        "huisartsen",
    }
    for endpoint in endpoints.endpoints.values():
        assert endpoint.url.startswith("https://") and endpoint.version and endpoint.checked
        # every entry says which documentation it was checked against, and when
        assert "2026-12-03" in endpoint.documentation, endpoint.key
    assert endpoints.endpoints["gemeenten"].url.startswith("https://api.pdok.nl/")
    # the corrections of issue 17
    nwb = endpoints.endpoints["wegen"]
    assert nwb.kind == "ogcapi" and nwb.collection == "wegvakken"
    assert nwb.url == "https://api.pdok.nl/rws/nationaal-wegenbestand-wegen/ogc/v1"
    assert {"wvk_id", "stt_naam", "wegbehsrt", "rijrichtng", "bst_code"} <= set(nwb.fields)
    assert nwb.derive == ("nwb_wegtype",) and nwb.config["wegtype_veld"] == "wegtype"
    assert "nr" in endpoints.endpoints["natura2000"].fields
    assert endpoints.endpoints["natura2000"].layer == "beperkingen.natura2000"
    assert endpoints.endpoints["bedrijventerreinen"].layer == "beperkingen.bedrijventerreinen"
    assert endpoints.endpoints["bebouwde_kom"].layer == "bebouwde_kom"
    bag = endpoints.endpoints["verblijfsobjecten"]
    assert "pand_identificatie" not in bag.fields and "pand.href" in bag.fields
    assert "wijken-en-buurten-2025" in endpoints.endpoints["wijken"].url
    assert "chalet" not in endpoints.endpoints["recreatieparken"].tags["tourism"]
    # issue 16: kernen with inhabitants and facilities, fed into the layers the rules test
    kernen = endpoints.endpoints["kernen"]
    assert kernen.layer == "kernen" and kernen.config["inwoners_veld"] == "inwoners"
    assert kernen.fields["aantal_inwoners"] == "inwoners" and "cbs_onbekend" in kernen.derive
    assert {e.layer for e in endpoints.endpoints.values() if e.kind == "overpass"} >= {
        "voorzieningen.ov_halte",
        "voorzieningen.supermarkt",
        "voorzieningen.huisarts",
    }
    assert endpoints.endpoints["ov_haltes"].tags == {
        "highway": ("bus_stop",),
        "railway": ("station", "halt"),
    }
    # the command line's default --lagen is DEFAULT_LAYERS (kept literally there to start fast)
    option = next(p for p in data.commands["ophalen"].params if p.name == "lagen")
    assert option.default == ",".join(DEFAULT_LAYERS)
    with pytest.raises(InputError, match="Laag 'gemeentes' is onbekend. Bedoelde u 'gemeenten'"):
        expand_layers(["gemeentes"], endpoints)


def test_area_errors_are_dutch() -> None:
    with pytest.raises(InputError, match="Gebied 'Venloo' is onbekend. Bedoelde u 'Venlo'"):
        resolve_area("Venloo")
    with pytest.raises(InputError, match="ligt niet in Nederland in RD New"):
        resolve_area("5.9,50.8,6.2,51.0")
    area = resolve_area("190000,350000,200000,360000")
    assert area.kind == "bbox" and area.polygon.area == pytest.approx(1e8)


def test_bad_endpoints_file_lists_problems(tmp_path: Path) -> None:
    from locatietoets.analysis.errors import ConfigError

    path = tmp_path / "e.toml"
    path.write_text(
        '[gebied]\nlimburg_bbox=[1,2,3,4]\n[bronnen.a]\nsoort="wms"\n[bronnen.b]\nsoort="ogcapi"\nurl="x"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_endpoints(path)
    text = str(info.value)
    assert "[bronnen.a] soort moet één van ogcapi, wfs, overpass zijn" in text
    assert "[bronnen.b] mist 'velden'" in text and "mist 'collectie'" in text


# --------------------------------------------------------------------------- end to end


def test_ophalen_gemeente_config_scores_end_to_end(
    server: PdokReplay, endpoints_file: Path, tmp_path: Path
) -> None:
    """`data ophalen --gebied Venlo` with the default layers writes a config that `score` runs."""
    from locatietoets.scripts.cli import main

    out = tmp_path / "venlo"
    result = _run(
        ["ophalen", "--gebied", "Venlo", "--out", str(out), "--endpoints", str(endpoints_file)]
        + ["--cache", str(tmp_path / "cache"), *CLI_PATIENT]
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    # the summary names what the planner must still supply, and where to get it
    assert "Nog zelf aan te leveren" in text
    # OpenStreetMap has no schema: a tag no park carries (operator) is not a warning
    assert "ontbreken in de bron 'recreatieparken'" not in text
    for layer, where in (
        ("bebouwd_gebied", "Provincie Limburg"),
        ("geurcontouren", "omgevingsdienst"),
        ("veehouderijen", "Bestand Veehouderijbedrijven"),
        ("werkgevers", "KvK-Handelsregister"),
    ):
        assert f"{layer}: " in text and where in text

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [m["laag"] for m in manifest["nog_aan_te_leveren"]] == [
        "bebouwd_gebied",
        "geurcontouren",
        "veehouderijen",
        "werkgevers",
    ]
    kom = manifest["lagen"]["bebouwde_kom"]
    assert kom["config_laag"] == "bebouwde_kom" and "Benadering" in kom["opmerking"]
    assert kom["documentatie"].endswith("(2026-12-03)")
    business = gpd.read_file(out / "top10nl_bedrijventerreinen.gpkg")
    assert list(business["naam"]) == ["Trade Port Noord"]  # 'Veld Oostrum' lies in Venray
    parks = gpd.read_file(out / "top10nl_recreatieparken.gpkg")
    # the sports park in Venlo is not a recreation park; the bungalow park lies in Peel en Maas
    assert list(parks["type"]) == ["camping, kampeerterrein"]

    config_text = (out / "config.toml").read_text(encoding="utf-8")
    assert "# [lagen.bebouwd_gebied]" in config_text and "# [lagen.geurcontouren]" in config_text
    assert "Ook opgehaald voor deze laag: osm_recreatieparken.gpkg" in config_text
    config = load_config(out / "config.toml")
    assert config.layer("recreatieparken").path.name == "top10nl_recreatieparken.gpkg"
    assert config.layer("bebouwde_kom").path.name == "top10nl_bebouwde_kom.gpkg"
    assert config.layer("wegennet").get("wegtype_veld") == "wegtype"
    # the constraint layers of issue 16, under the names the rule set's rules test
    assert config.layer("beperkingen.natura2000").get("naam_veld") == "naam"
    assert config.layer("beperkingen.bedrijventerreinen").path.name == (
        "top10nl_bedrijventerreinen.gpkg"
    )
    assert manifest["lagen"]["natura2000"]["config_laag"] == "beperkingen.natura2000"

    run = tmp_path / "run"
    scored = CliRunner().invoke(main, ["score", str(out / "config.toml"), "--out", str(run)])
    assert scored.exit_code == 0, scored.output
    sites = gpd.read_file(run / "locaties.gpkg", layer="locaties")
    bag = gpd.read_file(out / "bag_verblijfsobjecten.gpkg")
    assert len(sites) == len(bag) >= 3
    assert set(sites["gemeente_code"]) == {"GM0983"}
    assert set(sites["kom_bron"]) == {"bebouwde kom"}  # the TOP10NL layer, not the BBG fallback
    # travel over the fetched NWB network: sites near the local road grid are reachable
    near = sites[sites["aansluitafstand_m"] < 1000]
    assert len(near) >= 1 and not near["reis_onbereikbaar"].any()
    assert set(sites["reismodus"]) == {"fiets"}
    # the fetched constraint layers were tested: distances to Natura 2000 and the business park
    business_park = business.geometry.iloc[0]
    expected = sites.geometry.distance(business_park).to_numpy()
    assert sites["bedrijventerreinen_afstand_m"].to_numpy() == pytest.approx(expected, abs=0.5)
    assert sites["natura2000_afstand_m"].notna().all()


def _sites(path: Path, rows: list[tuple[str, float, float, int]]) -> Path:
    frame = gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "personen": [r[3] for r in rows]},
        geometry=[shapely.Point(r[1], r[2]) for r in rows],
        crs=28992,
    )
    frame.to_file(path, driver="GPKG")
    return path


def test_ophalen_kernen_and_facilities_fire_their_rules(
    server: PdokReplay, endpoints_file: Path, tmp_path: Path
) -> None:
    """Kernen (CBS wijken with inhabitants) and facilities (OSM) fetched for Venlo feed the
    concentration and facility rules: a planner's own sites with a capacity, scored on the
    fetched config, get every one of those reasons that applies (hand-computed below)."""
    import tomllib

    from locatietoets.layers.io.config_writer import write_config
    from locatietoets.scripts.cli import main

    out = tmp_path / "venlo"
    layers = "gemeenten,wegen,kernen,voorzieningen"
    result = _run(
        ["ophalen", "--gebied", "Venlo", "--lagen", layers, "--out", str(out)]
        + ["--endpoints", str(endpoints_file), "--cache", str(tmp_path / "cache"), *CLI_PATIENT]
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    # the wijk whose number CBS hides (-99995) is left out, and the summary says so
    assert "1 objecten zonder bekend aantal inwoners" in text and "Trade-Port" in text

    kernen = gpd.read_file(out / "cbs_kernen_wijken.gpkg")
    assert SECRET_WIJK not in set(kernen["wijkcode"]) and len(kernen) == 20
    assert (kernen["inwoners"] > 0).all()
    velden = kernen.set_index("naam").loc["Wijk 41 Velden"]
    assert velden["inwoners"] == 5415 and velden["gemeentenaam"] == "Venlo"

    stops = gpd.read_file(out / "osm_ov_haltes.gpkg")
    # the bus stop and the station; not the stop position on the road, nothing from Maastricht
    assert sorted(stops["naam"]) == ["Velden, Kerkstraat", "Venlo"]
    assert set(stops.geom_type) == {"Point"}
    shops = gpd.read_file(out / "osm_supermarkten.gpkg")
    # the supermarket mapped as its building is a point inside it; the convenience shop is not
    assert list(shops["naam"]) == ["Plus Belfeld"] and list(shops["merk"]) == ["PLUS"]
    assert shops.geometry.iloc[0].within(shapely.box(206_060, 369_960, 206_140, 370_040))
    doctors = gpd.read_file(out / "osm_huisartsen.gpkg")
    assert list(doctors["naam"]) == ["Huisartsenpraktijk Velden"]  # not the dermatologist

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["lagen"]["kernen"]["config_laag"] == "kernen"
    assert "Benadering" in manifest["lagen"]["kernen"]["opmerking"]
    assert manifest["lagen"]["huisartsen"]["config_laag"] == "voorzieningen.huisarts"

    # the planner's own candidate sites, with a capacity, scored on the fetched layers
    plan = _sites(
        out / "plan.gpkg",
        [
            ("velden", 209_345, 381_047, 150),  # Wijk 41 Velden, 5,415 inhabitants
            ("belfeld", 206_014, 369_682, 300),  # Wijk 51 Belfeld, 5,475 inhabitants
        ],
    )
    data = tomllib.loads((out / "config.toml").read_text(encoding="utf-8"))
    lagen = data["lagen"]
    lagen["locaties"] = {"pad": plan, "id_veld": "code", "personen_veld": "personen"}
    flat = {k: v for k, v in lagen.items() if k not in ("voorzieningen", "beperkingen")}
    flat.update({f"voorzieningen.{k}": v for k, v in lagen.get("voorzieningen", {}).items()})
    write_config(out / "plan.toml", flat)
    config = load_config(out / "plan.toml")
    assert config.layer("kernen").get("inwoners_veld") == "inwoners"
    assert config.layer("kernen").get("naam_veld") == "naam"
    for kind, name in (
        ("ov_halte", "osm_ov_haltes.gpkg"),
        ("supermarkt", "osm_supermarkten.gpkg"),
        ("huisarts", "osm_huisartsen.gpkg"),
    ):
        assert config.layer(f"voorzieningen.{kind}").path.name == name
        assert config.layer(f"voorzieningen.{kind}").get("naam_veld") == "naam"
    run = tmp_path / "run"
    scored = CliRunner().invoke(main, ["score", str(out / "plan.toml"), "--out", str(run)])
    assert scored.exit_code == 0, scored.output
    sites = gpd.read_file(run / "locaties.gpkg", layer="locaties").set_index("code")

    # concentration: kern and share by hand
    assert sites.loc["velden", "kern"] == "Wijk 41 Velden"
    assert sites.loc["velden", "aandeel_arbeidsmigranten_kern"] == pytest.approx(150 / 5415)
    assert sites.loc["belfeld", "kern"] == "Wijk 51 Belfeld"
    assert sites.loc["belfeld", "aandeel_arbeidsmigranten_kern"] == pytest.approx(300 / 5475)
    rules = {code: set(str(sites.loc[code, "regels"]).split(";")) for code in sites.index}
    fired = {r.strip() for code in rules for r in rules[code]}
    assert "concentratie.max_personen" in rules["velden"] & rules["belfeld"]
    assert "concentratie.aandeel_kern" in rules["belfeld"] - rules["velden"]  # 5.5 % > 5 %

    # facilities over the fetched network (the 1 km grid; distances in m, by hand):
    # Velden: 47 m to the road y=381000, 345 m along it to the node (209000, 381000), 50 m up
    # the road x=209000 to the bus stop beside it: 442 m; the huisarts lies on the road
    # y=381000 at x=209030: 47 + (345 - 30) = 362 m
    assert sites.loc["velden", "voorziening_ov_halte_afstand_m"] == pytest.approx(442, abs=2)
    assert sites.loc["velden", "voorziening_huisarts_afstand_m"] == pytest.approx(362, abs=2)
    # Belfeld: 14 m to the road x=206000, 318 m north to (206000, 370000), 100 m east to
    # (206100, 370000) and 0-40 m to the point inside the supermarket building
    assert 430 <= sites.loc["belfeld", "voorziening_supermarkt_afstand_m"] <= 475
    assert "voorziening.ov_halte.ver" in rules["belfeld"]  # the nearest stop is in Velden
    assert "voorziening.huisarts.ver" in rules["belfeld"]  # the dermatologist does not count
    assert "voorziening.supermarkt.ver" in rules["velden"]  # > 2 km to Belfeld
    assert not {r for r in fired if r.startswith("voorziening.") and r.endswith("onbereikbaar")}


def test_ophalen_real_maastricht_facilities(
    server: PdokReplay, endpoints_file: Path, tmp_path: Path
) -> None:
    """The real OSM shop and amenity nodes of Maastricht (../shared/data/points), replayed as
    Overpass answers: every supermarket and every general or unspecified doctor inside the
    gemeente is fetched, and nothing else."""
    points = Path(server.shared) / "points"
    outcome = fetch_data(
        "Maastricht",
        ["gemeenten", "supermarkten", "huisartsen"],
        tmp_path / "mst",
        endpoints=load_endpoints(endpoints_file),
        cache_dir=tmp_path / "cache",
        http=FAST,
    )
    area = gpd.read_file(outcome.layers["gemeenten"].path).geometry.union_all()

    def expected(path: Path, keep) -> int:
        frame = gpd.read_file(path).to_crs(28992)
        return int((frame.apply(keep, axis=1) & frame.within(area)).sum())

    shops = gpd.read_file(outcome.layers["supermarkten"].path)
    n_shops = expected(
        points / "maastricht_osm_shop_nodes_2023.geojson",
        lambda r: r.get("shop") == "supermarket",
    )
    assert len(shops) == n_shops >= 20

    def doctor(row) -> bool:
        tagged = row.get("amenity") == "doctors" or row.get("healthcare") == "doctor"
        speciality = row.get("healthcare:speciality")
        general = not isinstance(speciality, str) or "general" in speciality.split(";")
        return tagged and general

    doctors = gpd.read_file(outcome.layers["huisartsen"].path)
    assert len(doctors) == expected(points / "maastricht_osm_amenity_nodes_2023.geojson", doctor)
    assert len(doctors) >= 1
