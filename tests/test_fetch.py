"""Tests of ``locatietoets data ophalen`` / ``data controle`` against a local HTTP server.

Everything runs offline: the tests start an ``http.server.ThreadingHTTPServer``
on 127.0.0.1 (port 0) that serves OGC API Features pages (with ``next`` links)
and WFS 2.0 pages (``startIndex``) built from the real Limburg data in
../shared/data, an Overpass-style JSON answer, and faults (503 then OK, a
timeout, a malformed page, a 400, moved and missing endpoints).
"""

from __future__ import annotations

from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import json
from pathlib import Path
import socket
import sqlite3
import threading
import time
from urllib.parse import parse_qs, urlencode, urlparse

from click.testing import CliRunner
import geopandas as gpd
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


# --------------------------------------------------------------------------- the local server


def _collection(frame: gpd.GeoDataFrame) -> list[dict]:
    return json.loads(frame.to_json(drop_id=True, default=str))["features"]


_SHAPES: dict[int, object] = {}


def _in_bbox(features: list[dict], bbox: tuple[float, ...] | None) -> list[dict]:
    if bbox is None:
        return features
    key = id(features)
    if key not in _SHAPES:  # build the geometries once per collection
        _SHAPES[key] = shapely.from_geojson([json.dumps(f["geometry"]) for f in features])
    hit = shapely.intersects(_SHAPES[key], shapely.box(*bbox))
    return [f for f, ok in zip(features, hit) if ok]


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


class _Server:
    """The local test server; ``hits`` counts requests per path."""

    def __init__(self, shared: Path) -> None:
        gemeenten = gpd.read_file(shared / "admin" / "limburg_gemeenten_2022_cbs_tmap.geojson")
        self.gemeenten_rd = gemeenten
        self.gemeenten = _collection(gemeenten.to_crs(4326))
        kernen = gpd.read_file(shared / "builtup" / "limburg_kernen_2021_centroids.geojson")
        self.kernen = _collection(
            kernen.assign(identificatie=[f"0{i:015d}" for i in range(len(kernen))]).to_crs(4326)
        )
        self.natura = _collection(
            gpd.read_file(shared / "nature" / "limburg_natura2000_2013_inspire.gpkg")
        )
        self.roads = _collection(
            gpd.read_file(shared / "roads" / "limburg_rws_max_snelheden_2013.gpkg")
        )
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def total(self) -> int:
        return sum(self.hits.values())

    # ---- responses

    def _ogc_page(
        self, path: str, query: dict[str, str], features: list[dict]
    ) -> tuple[int, dict, bytes]:
        limit = int(query.get("limit", 10))
        offset = int(query.get("offset", 0))
        bbox = tuple(float(v) for v in query["bbox"].split(",")) if "bbox" in query else None
        selected = _in_bbox(features, bbox)
        page = selected[offset : offset + limit]
        links = [
            {
                "rel": "self",
                "type": "application/geo+json",
                "href": f"{self.base}{path}?{urlencode(query)}",
            }
        ]
        if offset + limit < len(selected):
            nxt = {**query, "offset": offset + limit}
            links.append(
                {
                    "rel": "next",
                    "type": "application/geo+json",
                    "href": f"{self.base}{path}?{urlencode(nxt)}",
                }
            )
        body = {
            "type": "FeatureCollection",
            "features": page,
            "numberReturned": len(page),
            "links": links,
        }
        headers = {
            "Content-Type": "application/geo+json",
            "Content-Crs": "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>",
        }
        return 200, headers, json.dumps(body).encode()

    def _wfs_page(self, query: dict[str, str]) -> tuple[int, dict, bytes]:
        q = {k.lower(): v for k, v in query.items()}
        if q.get("request") != "GetFeature" or q.get("outputformat") != "application/json":
            return (
                400,
                {"Content-Type": "text/xml"},
                b"<ExceptionReport>bad request</ExceptionReport>",
            )
        typename = q.get("typenames")
        features = {"test:natura2000": self.natura, "test:wegen": self.roads}.get(typename)
        if features is None:
            return (
                400,
                {"Content-Type": "text/xml"},
                f"<ExceptionReport>unknown typename {typename}</ExceptionReport>".encode(),
            )
        bbox = tuple(float(v) for v in q["bbox"].split(",")[:4]) if "bbox" in q else None
        selected = _in_bbox(features, bbox)
        start, count = int(q.get("startindex", 0)), int(q.get("count", 1000))
        page = selected[start : start + count]
        body: dict = {
            "type": "FeatureCollection",
            "features": page,
            "numberReturned": len(page),
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
        }
        if (
            typename == "test:natura2000"
        ):  # the roads answer leaves numberMatched out, as MapServer may
            body["numberMatched"] = len(selected)
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    def respond(
        self, method: str, path: str, query: dict[str, str], body: bytes
    ) -> tuple[int, dict, bytes]:
        with self.lock:
            self.hits[path] += 1
            hits = self.hits[path]
        if path == "/ogc/collections/gemeenten/items":
            return self._ogc_page(path, query, self.gemeenten)
        if path == "/ogc/collections/verblijfsobject/items":
            return self._ogc_page(path, query, self.kernen)
        if path == "/wfs":
            return self._wfs_page(query)
        if path == "/overpass/interpreter" and method == "POST":
            text = parse_qs(body.decode())["data"][0]
            kind = "recreation" if "tourism" in text else "industrial"
            if "node(1)" in text:  # the endpoint check
                return (
                    200,
                    {"Content-Type": "application/json"},
                    json.dumps({"version": 0.6, "elements": []}).encode(),
                )
            return (
                200,
                {"Content-Type": "application/json"},
                json.dumps({"version": 0.6, "elements": _overpass_elements(kind)}).encode(),
            )
        if path == "/wisselvallig/collections/x/items":
            if hits == 1:
                return (
                    503,
                    {"Retry-After": "0.05", "Content-Type": "text/plain"},
                    b"Service Unavailable",
                )
            return self._ogc_page(path, query, self.gemeenten[:3])
        if path == "/traag/collections/x/items":
            time.sleep(1.2)
            return self._ogc_page(path, query, self.gemeenten[:3])
        if path == "/kapot/collections/x/items":
            if int(query.get("offset", 0)) == 0:
                first = {k: v for k, v in query.items() if k != "bbox"}
                return self._ogc_page(path, {**first, "limit": "2"}, self.gemeenten[:5])
            return (
                200,
                {"Content-Type": "application/json"},
                b'{"type": "FeatureCollection", "featu',
            )
        if path == "/zonderfeatures/collections/x/items":
            return 200, {"Content-Type": "application/json"}, b'{"type": "FeatureCollection"}'
        if path == "/weigert/collections/x/items":
            body_json = {"code": "InvalidParameterValue", "description": "unknown collection 'x'"}
            return 400, {"Content-Type": "application/json"}, json.dumps(body_json).encode()
        if path.startswith("/oud/"):
            return 301, {"Location": f"{self.base}/ogc/collections/gemeenten/items"}, b""
        if path == "/stuk/collections/x/items":
            return 500, {"Content-Type": "text/plain"}, b"Internal Server Error"
        return 404, {"Content-Type": "text/plain"}, b"Not Found"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                parsed = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                try:
                    status, headers, payload = server.respond(method, parsed.path, query, body)
                except (BrokenPipeError, ConnectionResetError):
                    return
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

            def do_GET(self) -> None:  # noqa: N802
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@pytest.fixture(scope="module")
def server(shared_data: Path):
    srv = _Server(shared_data)
    yield srv
    srv.close()


def _endpoints_toml(base: str, extra: str = "") -> str:
    return f"""
schema = 1
versie = "test-1"
gecontroleerd = 2026-11-23

[gebied]
limburg_bbox = [167000.0, 306000.0, 214000.0, 422000.0]

[bronnen.gemeenten]
aanbieder = "PDOK"
soort = "ogcapi"
url = "{base}/ogc"
collectie = "gemeenten"
velden = {{ code = "code", name = "naam", population = "inwoners" }}
geometrie = "vlak"
bijsnijden = "overlap"
laag = "gemeenten"
config = {{ naam_veld = "naam", code_veld = "code", regio_veld = "regio" }}
bestand = "gemeenten.gpkg"
paginagrootte = {GEMEENTEN_PAGE}
versie = "v1"

[bronnen.verblijfsobjecten]
aanbieder = "PDOK"
soort = "ogcapi"
url = "{base}/ogc"
collectie = "verblijfsobject"
velden = {{ identificatie = "identificatie", name = "woonplaats", population = "inwoners" }}
geometrie = "punt"
bijsnijden = "knippen"
laag = "locaties"
config = {{ id_veld = "identificatie" }}
bestand = "bag_verblijfsobjecten.gpkg"
paginagrootte = 50
versie = "v2"

[bronnen.natura2000]
aanbieder = "PDOK"
soort = "wfs"
url = "{base}/wfs"
typenaam = "test:natura2000"
velden = {{ name = "naam", identifier = "nummer" }}
geometrie = "vlak"
bestand = "natura2000.gpkg"
paginagrootte = 40
versie = "v1_0"

[bronnen.wegen]
aanbieder = "PDOK"
soort = "wfs"
url = "{base}/wfs"
typenaam = "test:wegen"
velden = {{ WVK_ID = "wvk_id", OMSCHR = "omschrijving", rijrichtng = "rijrichting" }}
geometrie = "lijn"
laag = "wegennet"
config = {{ modus = "fiets", eenrichting_veld = "rijrichting" }}
bestand = "nwb_wegen.gpkg"
paginagrootte = 300
versie = "v1_0"

[bronnen.recreatieparken]
aanbieder = "OpenStreetMap (Overpass)"
soort = "overpass"
url = "{base}/overpass/interpreter"
tags = {{ tourism = ["camp_site", "caravan_site", "chalet"], leisure = ["resort"] }}
velden = {{ name = "naam", tourism = "tourism" }}
geometrie = "vlak"
laag = "recreatieparken"
config = {{ naam_veld = "naam" }}
bestand = "osm_recreatieparken.gpkg"

[bronnen.werkgevers]
aanbieder = "OpenStreetMap (Overpass)"
soort = "overpass"
url = "{base}/overpass/interpreter"
tags = {{ landuse = ["industrial", "greenhouse_horticulture"] }}
velden = {{ name = "naam", landuse = "landuse" }}
geometrie = "vlak"
laag = "werkgevers"
config = {{ naam_veld = "naam" }}
bestand = "osm_werkgevers.gpkg"
{extra}
"""


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
def endpoints_file(server: _Server, tmp_path_factory: pytest.TempPathFactory) -> Path:
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
    server: _Server, endpoints_file: Path, tmp_path: Path
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
        *CLI_FAST,
    ]
    before = server.total()
    result = _run(args)
    assert result.exit_code == 0, result.output
    first_requests = server.total() - before
    assert server.hits["/ogc/collections/gemeenten/items"] >= 4

    # gemeenten: every page fetched, attributes intact, geometry back in RD New
    gem = gpd.read_file(out / "gemeenten.gpkg")
    assert len(gem) == 31
    assert gem.crs.to_epsg() == 28992
    source = server.gemeenten_rd.set_index("code")
    gem = gem.set_index("code")
    assert set(gem.index) == set(source.index)
    assert (gem["naam"] == source.loc[gem.index, "name"]).all()
    assert (gem["inwoners"] == source.loc[gem.index, "population"]).all()
    assert (
        gem.loc["GM0983", "regio"] == "Noord-Limburg"
        and gem.loc["GM0935", "regio"] == "Zuid-Limburg"
    )
    ratio = gem.geometry.area / source.loc[gem.index].geometry.area
    assert ((ratio - 1).abs() < 0.005).all(), ratio.describe()
    assert _gpkg_version(out / "gemeenten.gpkg") == 10200

    # manifest
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["lagen"]["gemeenten"]
    assert entry["paginas"] == 4 and entry["objecten"] == 31 and len(entry["urls"]) == 4
    assert entry["urls"][0].startswith(f"{server.base}/ogc/collections/gemeenten/items?")
    assert entry["parameters"]["limit"] == GEMEENTEN_PAGE and "bbox" in entry["parameters"]
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
    wegen = manifest["lagen"]["wegen"]
    assert wegen["paginas"] == 995 // 300 + 1 and wegen["objecten_bron"] == 995
    assert any(
        "rijrichtng" in w for w in wegen["waarschuwingen"]
    )  # a field that is not in the source is reported
    roads = gpd.read_file(out / "nwb_wegen.gpkg")
    assert set(roads.geom_type) == {"MultiLineString"} and "omschrijving" in roads

    # BAG points: all of them are in Limburg's kernen
    bag = gpd.read_file(out / "bag_verblijfsobjecten.gpkg")
    assert 90 <= len(bag) <= 107 and set(bag.geom_type) == {"Point"}

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
    assert config.layer("wegennet").get("eenrichting_veld") is None  # the field was not delivered
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
    result = _run([*args, "--vernieuw", "--voortgang", "balk"])
    assert result.exit_code == 0, result.output
    assert server.total() - before == first_requests
    assert len(gpd.read_file(out / "gemeenten.gpkg")) == 31


def test_gemeente_and_region_areas(server: _Server, endpoints_file: Path, tmp_path: Path) -> None:
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
    server: _Server, endpoints_file: Path, tmp_path: Path
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


def test_503_is_retried_and_retry_after_honoured(server: _Server, endpoints_file: Path) -> None:
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
        ("traag", r"PDOK antwoordt niet binnen 0\.5 s \(3 pogingen\)"),
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
    server: _Server, endpoints_file: Path, tmp_path: Path, layer: str, message: str
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


def test_timeout_is_retried(server: _Server, endpoints_file: Path) -> None:
    endpoint = load_endpoints(endpoints_file).endpoints["traag"]
    client = HttpClient(HttpSettings(timeout_s=0.2, retries=1, backoff_s=0.01))
    before = server.hits["/traag/collections/x/items"]
    with pytest.raises(FetchError, match="antwoordt niet binnen"):
        fetch_ogcapi(client, endpoint, (190000.0, 350000.0, 200000.0, 360000.0))
    assert server.hits["/traag/collections/x/items"] - before == 2


def test_offline_message_lists_cached_data(
    server: _Server, endpoints_file: Path, tmp_path: Path
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
    from locatietoets.layers.fetch import LayerCache, fetch_wfs

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


def test_overpass_json_to_polygons(server: _Server, endpoints_file: Path) -> None:
    endpoint = load_endpoints(endpoints_file).endpoints["recreatieparken"]
    raw = fetch_overpass(HttpClient(FAST), endpoint, (167000.0, 306000.0, 214000.0, 422000.0))
    frame = raw.frame.set_index("osm_id")
    assert raw.frame.crs.to_epsg() == 28992
    assert set(frame.index) == {
        "way/100",
        "relation/200",
        "node/300",
        "way/400",
    }  # the hotel is filtered out
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
    assert 'nwr["tourism"~"^(camp_site|caravan_site|chalet)$"]' in raw.params["data"]
    assert raw.params["data"].startswith("[out:json]") and "(._;>;);out body;" in raw.params["data"]


def test_overpass_query_bbox_order() -> None:
    query = overpass_query(
        {"landuse": ["industrial"]}, (190000.0, 350000.0, 200000.0, 360000.0), timeout_s=30
    )
    south, west, north, east = (float(v) for v in query.split("](")[1].split(")")[0].split(","))
    assert 50.0 < south < north < 52.0 and 5.5 < west < east < 6.5
    assert query.startswith("[out:json][timeout:30];") and 'nwr["landuse"="industrial"]' in query


# --------------------------------------------------------------------------- data controle


def test_controle_reports_ok_moved_and_failed(server: _Server, tmp_path: Path) -> None:
    extra = (
        _fault("oud", server.base, "oud")
        + _fault("weg", server.base, "bestaatniet")
        + _fault("stuk", server.base)
        + _fault("afwezig", f"http://127.0.0.1:{_free_port()}", "afwezig")
    )
    path = tmp_path / "endpoints.toml"
    path.write_text(_endpoints_toml(server.base, extra), encoding="utf-8")
    results = {
        r.key: r
        for r in check_endpoints(load_endpoints(path), http=HttpSettings(timeout_s=2, retries=0))
    }
    assert {k for k, r in results.items() if r.status == "OK"} == {
        "gemeenten",
        "verblijfsobjecten",
        "natura2000",
        "recreatieparken",
        "werkgevers",
    }
    assert results["oud"].status == "verplaatst" and results["oud"].http_status == 301
    assert f"{server.base}/ogc/collections/gemeenten/items" in results["oud"].detail
    assert results["weg"].status == "verplaatst" and results["weg"].http_status == 404
    assert results["stuk"].status == "fout" and results["stuk"].http_status == 500
    assert results["afwezig"].status == "fout" and "Geen verbinding" in results["afwezig"].detail
    # the roads source asks for a field the service does not have
    assert results["wegen"].status == "fout" and "rijrichtng" in results["wegen"].detail

    result = _run(["controle", "--endpoints", str(path), "--tijdslimiet", "2"])
    assert result.exit_code == 1
    text = result.output
    for word in ("OK", "verplaatst", "fout", "niet in orde"):
        assert word in text


def test_controle_all_ok_exits_zero(server: _Server, tmp_path: Path) -> None:
    path = tmp_path / "endpoints.toml"
    path.write_text(
        _endpoints_toml(server.base).replace(', rijrichtng = "rijrichting"', ""), encoding="utf-8"
    )
    result = _run(["controle", "--endpoints", str(path)])
    assert result.exit_code == 0, result.output
    assert "Alle 6 bronnen zijn bereikbaar" in " ".join(result.output.split())


# --------------------------------------------------------------------------- no server needed


def test_packaged_endpoints_are_valid() -> None:
    endpoints = load_endpoints()
    assert set(expand_layers(DEFAULT_LAYERS, endpoints)) == {
        "gemeenten",
        "wijken",
        "verblijfsobjecten",
        "wegen",
        "natura2000",
        "recreatieparken",
        "werkgevers",
    }
    for endpoint in endpoints.endpoints.values():
        assert endpoint.url.startswith("https://") and endpoint.version and endpoint.checked
    assert endpoints.endpoints["gemeenten"].url.startswith("https://api.pdok.nl/")
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
