"""A local HTTP server that answers like PDOK and Overpass do, for the offline fetch tests.

Every answer is shaped as the providers document it (checked 2026-12-03):

- **OGC API Features** (PDOK's server gokoala, github.com/PDOK/gokoala:
  ``internal/engine/templates/openapi/features.go.json``, ``internal/ogc/features/url.go``,
  ``domain/geojson.go``, ``domain/profile.go``): ``limit`` default 10, at most 1000 (larger
  values are brought back to 1000); paging with an opaque ``cursor`` that only appears in the
  ``next`` link (and a ``prev`` link after the first page); the page has ``type``,
  ``timeStamp``, ``links``, ``features`` and ``numberReturned`` but no ``numberMatched``;
  ``crs`` and ``bbox-crs`` must be full URIs: a short name such as ``EPSG:28992`` gives
  HTTP 400 with an RFC 7807 problem (``application/problem+json``) whose ``detail`` reads
  ``crs param should start with http://www.opengis.net/def/crs/, got: EPSG:28992``; the
  answer's CRS is in the ``Content-Crs`` header (``<uri>``); a relation is a property
  ``<name>.href`` holding a URL or a list of URLs; ``/collections/{id}`` lists the CRSs.
- **WFS 2.0** (PDOK's MapServer): GeoJSON with ``numberMatched``/``numberReturned`` and a
  ``crs`` member; a ``startIndex`` above 50,000 is refused with HTTP 400 and an
  ``ExceptionReport``.
- **Overpass**: ``{"version": 0.6, "elements": [...]}``.

The content comes from the real Limburg data in ../shared/data (gemeenten, kernen as BAG
verblijfsobjecten, the RWS road sections as NWB wegvakken, Natura 2000) plus a few
hand-made features (TOP10NL parks, business parks and built-up areas; a grid of local roads
around Venlo so that a fetched network connects the sites); all in RD New and converted to
what a request asks for.
"""

from __future__ import annotations

import base64
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import json
from pathlib import Path
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, box

CRS_PREFIX = "http://www.opengis.net/def/crs/"
RD_URI = "http://www.opengis.net/def/crs/EPSG/0/28992"
CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
WFS_MAX_START_INDEX = 50_000
#: Features the NWB-like WFS claims to have (the real NWB: ~1.5 million wegvakken).
NWB_SIZE = 1_500_000
#: The local road grid around Venlo (RD New, m): x and y ranges and spacing.
GRID = (198_000, 214_000, 366_000, 384_000, 1_000)
#: The wijk whose number of inhabitants the replay hides as CBS does (-99995, geheim).
SECRET_WIJK = "WK098328"


def _lonlat(x: float, y: float) -> tuple[float, float]:
    point = gpd.GeoSeries([shapely.Point(x, y)], crs=28992).to_crs(4326).iloc[0]
    return point.x, point.y


def facility_elements() -> list[dict]:
    """Overpass elements of facilities near Venlo, placed on the local road grid (RD New, m):
    OpenStreetMap nodes and one building (a closed way) as the OSM wiki documents them.

    - bus stop 'Velden, Kerkstraat' (highway=bus_stop + public_transport=platform) 50 m north of
      the grid node (209000, 381000); station 'Venlo' (railway=station) at (209000, 375030);
    - supermarket 'Plus Belfeld' as a building (closed way, shop=supermarket) around
      (206100, 370000);
    - huisarts 'Huisartsenpraktijk Velden' (amenity=doctors, healthcare=doctor,
      healthcare:speciality=general) 30 m east of (209000, 381000); a dermatologist
      (amenity=doctors, healthcare:speciality=dermatology) at Belfeld, which is no huisarts;
    - a stop position on the road (public_transport=stop_position) and a convenience shop,
      which are neither a bus stop nor a supermarket.
    """
    elements: list[dict] = []
    next_id = [9_000]

    def node(x: float, y: float, tags: dict | None = None) -> int:
        next_id[0] += 1
        lon, lat = _lonlat(x, y)
        element = {"type": "node", "id": next_id[0], "lat": lat, "lon": lon}
        if tags:
            element["tags"] = tags
        elements.append(element)
        return next_id[0]

    node(
        209_000,
        381_050,
        {
            "highway": "bus_stop",
            "public_transport": "platform",
            "bus": "yes",
            "name": "Velden, Kerkstraat",
        },
    )
    node(209_000, 375_030, {"railway": "station", "name": "Venlo", "operator": "NS"})
    node(209_010, 381_000, {"public_transport": "stop_position", "bus": "yes"})
    corners = [(206_060, 369_960), (206_140, 369_960), (206_140, 370_040), (206_060, 370_040)]
    ids = [node(x, y) for x, y in corners]
    elements.append(
        {
            "type": "way",
            "id": 9_500,
            "nodes": ids + ids[:1],
            "tags": {
                "shop": "supermarket",
                "building": "retail",
                "name": "Plus Belfeld",
                "brand": "PLUS",
            },
        }
    )
    node(
        209_030,
        381_000,
        {
            "amenity": "doctors",
            "healthcare": "doctor",
            "healthcare:speciality": "general",
            "name": "Huisartsenpraktijk Velden",
        },
    )
    node(
        206_020,
        369_700,
        {
            "amenity": "doctors",
            "healthcare": "doctor",
            "healthcare:speciality": "dermatology",
            "name": "Huidkliniek",
        },
    )
    node(206_030, 369_720, {"shop": "convenience", "name": "Buurtwinkel"})
    return elements


def osm_nodes(path: Path) -> list[dict]:
    """Overpass node elements from an OSM GeoJSON export (``@id`` = ``node/<id>``, the tags as
    properties), such as the real Maastricht amenity and shop nodes in ../shared/data/points."""
    data = json.loads(path.read_text(encoding="utf-8"))
    elements = []
    for feature in data["features"]:
        props = dict(feature["properties"])
        kind, _, ident = str(props.pop("@id", feature.get("id", ""))).partition("/")
        if kind != "node" or feature["geometry"]["type"] != "Point":
            continue
        lon, lat = feature["geometry"]["coordinates"][:2]
        tags = {k: str(v) for k, v in props.items() if v is not None}
        elements.append({"type": "node", "id": int(ident), "lat": lat, "lon": lon, "tags": tags})
    return elements


def _features(frame: gpd.GeoDataFrame, crs: str) -> list[dict]:
    out = frame.to_crs(4326 if crs == CRS84_URI else 28992)
    return json.loads(out.to_json(drop_id=True, default=str))["features"]


def _cursor(offset: int) -> str:
    # opaque to the client, like gokoala's (which encodes a feature id and a checksum)
    return base64.urlsafe_b64encode(f"fid:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str) -> int:
    pad = "=" * (-len(cursor) % 4)
    return int(base64.urlsafe_b64decode(cursor + pad).decode().split(":")[1])


def _problem(status: int, title: str, detail: str) -> tuple[int, dict, bytes]:
    body = {
        "title": title,
        "status": status,
        "detail": detail,
        "timeStamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return status, {"Content-Type": "application/problem+json"}, json.dumps(body).encode()


def _exception_report(text: str) -> tuple[int, dict, bytes]:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><ows:ExceptionReport'
        ' xmlns:ows="http://www.opengis.net/ows/1.1" version="2.0.0"><ows:Exception'
        f' exceptionCode="InvalidParameterValue"><ows:ExceptionText>{text}</ows:ExceptionText>'
        "</ows:Exception></ows:ExceptionReport>"
    )
    return 400, {"Content-Type": "text/xml; charset=utf-8"}, body.encode()


def road_grid() -> gpd.GeoDataFrame:
    """Local roads every km around Venlo, one wegvak per km, meeting at their end points."""
    x0, x1, y0, y1, step = GRID
    lines, codes, names = [], [], []
    for x in range(x0, x1 + 1, step):
        for y in range(y0, y1, step):
            lines.append(LineString([(x, y), (x, y + step)]))
    for y in range(y0, y1 + 1, step):
        for x in range(x0, x1, step):
            lines.append(LineString([(x, y), (x + step, y)]))
    n = len(lines)
    rng = np.random.default_rng(17)
    codes = rng.choice(["HR", "HR", "HR", "PAR", "FP", "NRB"], size=n)
    codes[:3] = ["VD", "VV", "ZZZ"]  # a ferry, an airfield road and an unknown code
    names = [f"Weg {i}" for i in range(n)]
    return gpd.GeoDataFrame(
        {
            "wvk_id": np.arange(900_000_000, 900_000_000 + n),
            "stt_naam": names,
            "wegbehsrt": "G",
            "wegnummer": None,
            "rijrichtng": rng.choice(["B", "B", "B", "H", "T"], size=n),
            "bst_code": codes,
            "gme_naam": "Venlo",
        },
        geometry=lines,
        crs=28992,
    )


class PdokReplay:
    """The local server; ``hits`` counts requests per path, ``queries`` keeps the last query."""

    def __init__(self, shared: Path) -> None:
        self.shared = shared
        gemeenten = gpd.read_file(shared / "admin" / "limburg_gemeenten_2022_cbs_tmap.geojson")
        self.gemeenten_rd = gemeenten.to_crs(28992)
        # BRK gemeentegebied: 'code' as the 4-digit CBS number, 'naam'
        self.collections: dict[str, gpd.GeoDataFrame] = {}
        self.collections["gemeentegebied"] = gpd.GeoDataFrame(
            {
                "code": self.gemeenten_rd["code"].str.replace("GM", "", regex=False),
                "naam": self.gemeenten_rd["name"],
            },
            geometry=self.gemeenten_rd.geometry.values,
            crs=28992,
        )
        provincie = gpd.read_file(
            shared / "admin" / "limburg_provincie_2022_cbs_tmap.geojson"
        ).to_crs(28992)
        self.collections["provinciegebied"] = gpd.GeoDataFrame(
            {"code": ["31"] * len(provincie), "naam": ["Limburg"] * len(provincie)},
            geometry=provincie.geometry.values,
            crs=28992,
        )
        wijken = gpd.read_file(shared / "admin" / "limburg_wijken_2022_cbs_tmap.geojson").to_crs(
            28992
        )
        gem_of = gpd.sjoin(
            gpd.GeoDataFrame(geometry=wijken.representative_point(), crs=28992),
            self.gemeenten_rd[["code", "name", "geometry"]],
            how="left",
        )
        # CBS wijken en buurten: wijkcode WKggggww, gemeentecode GMgggg, lower-case names,
        # aantal_inwoners with CBS's negative code for a hidden number (-99995, 'geheim') on
        # one wijk (Wijk 28 Trade-Port, Venlo: a business park with few inhabitants)
        people = wijken["population"].astype("int64").to_numpy().copy()
        people[(wijken["code"] == SECRET_WIJK).to_numpy()] = -99995
        self.collections["wijken"] = gpd.GeoDataFrame(
            {
                "wijkcode": wijken["code"].values,
                "wijknaam": wijken["name"].values,
                "gemeentecode": gem_of["code"].values,
                "gemeentenaam": gem_of["name"].values,
                "aantal_inwoners": people,
            },
            geometry=wijken.geometry.values,
            crs=28992,
        )
        kernen = gpd.read_file(shared / "builtup" / "limburg_kernen_2021_centroids.geojson").to_crs(
            28992
        )
        self.kernen = kernen
        n = len(kernen)
        pand = [
            [f"{{base}}/ogc/collections/pand/items/{i:08d}-aaaa"]
            if i % 3
            else [f"{{base}}/ogc/collections/pand/items/{i:08d}-aaaa", f"{{base}}/p/{i}-b"]
            for i in range(n)
        ]
        self.collections["verblijfsobject"] = gpd.GeoDataFrame(
            {
                "identificatie": [f"0983010000{i:06d}" for i in range(n)],
                "gebruiksdoel": ["woonfunctie" if i % 4 else "logiesfunctie" for i in range(n)],
                "oppervlakte": [80 + i for i in range(n)],
                "status": "Verblijfsobject in gebruik",
                "openbare_ruimte_naam": [f"Straat {i}" for i in range(n)],
                "huisnummer": [1 + i for i in range(n)],
                "postcode": "5900AA",
                "woonplaats_naam": kernen["name"].values,
                "pand.href": pand,
            },
            geometry=kernen.geometry.values,
            crs=28992,
        )
        self.collections["pand"] = gpd.GeoDataFrame(
            {
                "identificatie": [f"0983100000{i:06d}" for i in range(n)],
                "bouwjaar": 1970,
                "status": "Pand in gebruik",
                "gebruiksdoel": "woonfunctie",
                "aantal_verblijfsobjecten": 1,
            },
            geometry=[g.buffer(8, cap_style="square") for g in kernen.geometry],
            crs=28992,
        )
        roads = gpd.read_file(shared / "roads" / "limburg_rws_max_snelheden_2013.gpkg").to_crs(
            28992
        )
        self.rijkswegen = gpd.GeoDataFrame(
            {
                "wvk_id": roads["WVK_ID"].astype("int64").values,
                "stt_naam": "A" + roads["OMSCHR"].astype(str).values,
                "wegbehsrt": "R",
                "wegnummer": roads["OMSCHR"].astype(str).values,
                "rijrichtng": "H",
                "bst_code": "HR",
                "gme_naam": None,
            },
            geometry=roads.geometry.values,
            crs=28992,
        )
        self.grid = road_grid()
        self.collections["wegvakken"] = gpd.GeoDataFrame(
            gpd.pd.concat([self.rijkswegen, self.grid], ignore_index=True),
            geometry="geometry",
            crs=28992,
        )
        # TOP10NL functioneel_gebied_vlak and plaats_multivlak, hand-made near Venlo
        fg = [
            ("Vakantiepark De Berckt", "bungalowpark", box(200_000, 376_000, 200_600, 376_500)),
            (
                "Camping Californië",
                "camping, kampeerterrein",
                box(204_000, 378_000, 204_400, 378_300),
            ),
            (
                "Sportpark Venlo",
                "sportterrein, sportcomplex",
                box(207_000, 372_000, 207_500, 372_400),
            ),
            ("Trade Port Noord", "bedrijventerrein", box(203_000, 380_000, 205_000, 381_500)),
            ("Veld Oostrum", "bedrijventerrein", box(198_500, 382_000, 199_500, 383_000)),
        ]
        self.collections["functioneel_gebied_vlak"] = gpd.GeoDataFrame(
            {"naamnl": [f[0] for f in fg], "typefunctioneelgebied": [f[1] for f in fg]},
            geometry=[f[2] for f in fg],
            crs=28992,
        )
        venlo = kernen[kernen["municipality"].astype(str).str.contains("Venlo")]
        self.collections["plaats_multivlak"] = gpd.GeoDataFrame(
            {"naamnl": venlo["name"].values, "typegebied": "woonkern"},
            geometry=[shapely.MultiPolygon([g.buffer(600)]) for g in venlo.geometry],
            crs=28992,
        )
        natura = gpd.read_file(shared / "nature" / "limburg_natura2000_2013_inspire.gpkg")
        # the fields PDOK's Natura 2000 WFS delivers
        self.natura = gpd.GeoDataFrame(
            {
                "naamN2K": natura["name"].values,
                "nr": np.arange(1, len(natura) + 1),
                "beschermin": "HR",
                "status": "Aangewezen",
            },
            geometry=natura.geometry.values,
            crs=natura.crs,
        ).to_crs(28992)
        self.overpass: dict[str, list[dict]] = {}
        self._cache: dict[tuple[int, str], list[dict]] = {}
        self.hits: Counter[str] = Counter()
        self.queries: dict[str, dict[str, str]] = {}
        self.lock = threading.Lock()
        self.faults: dict[str, Any] = {}
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

    # ---- OGC API Features (gokoala)

    def ogc_items(
        self, path: str, query: dict[str, str], frame: gpd.GeoDataFrame
    ) -> tuple[int, dict, bytes]:
        for name in ("crs", "bbox-crs"):
            value = query.get(name)
            if value is not None and not value.startswith(CRS_PREFIX):
                return _problem(
                    400, "Bad Request", f"{name} param should start with {CRS_PREFIX}, got: {value}"
                )
            if value is not None and value not in (RD_URI, CRS84_URI):
                return _problem(400, "Bad Request", f"unsupported {name}: {value}")
        try:
            limit = min(int(query.get("limit", 10)), 1000)
        except ValueError:
            return _problem(400, "Bad Request", "limit must be numeric")
        offset = _offset(query["cursor"]) if "cursor" in query else 0
        out_crs = query.get("crs", CRS84_URI)
        positions = np.arange(len(frame))
        if "bbox" in query:
            values = [float(v) for v in query["bbox"].split(",")]
            area = box(*values)
            if query.get("bbox-crs", CRS84_URI) == CRS84_URI:
                area = gpd.GeoSeries([area], crs=4326).to_crs(28992).iloc[0]
            positions = np.flatnonzero(frame.intersects(area).to_numpy())
        selected = positions
        self_query = {k: v for k, v in query.items()}
        links = [
            {
                "rel": "self",
                "type": "application/geo+json",
                "title": "This document as GeoJSON",
                "href": f"{self.base}{path}?{urlencode(self_query)}",
            }
        ]
        if offset + limit < len(selected):
            links.append(
                {
                    "rel": "next",
                    "type": "application/geo+json",
                    "title": "Next page",
                    "href": self._page_url(path, query, offset + limit),
                }
            )
        if offset > 0:
            links.append(
                {
                    "rel": "prev",
                    "type": "application/geo+json",
                    "title": "Previous page",
                    "href": self._page_url(path, query, max(offset - limit, 0)),
                }
            )
        every = self._serialised(frame, out_crs)
        features = [every[i] for i in selected[offset : offset + limit]]
        features = json.loads(json.dumps(features))  # copies: the relation URLs are filled in
        for feature in features:  # relation URLs carry the server's own base
            href = feature["properties"].get("pand.href")
            if isinstance(href, list):
                feature["properties"]["pand.href"] = [h.replace("{base}", self.base) for h in href]
        body = {
            "type": "FeatureCollection",
            "timeStamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "links": links,
            "features": features,
            "numberReturned": len(features),
        }
        headers = {"Content-Type": "application/geo+json", "Content-Crs": f"<{out_crs}>"}
        return 200, headers, json.dumps(body).encode()

    def _serialised(self, frame: gpd.GeoDataFrame, crs: str) -> list[dict]:
        """The GeoJSON features of a whole collection, built once per CRS (fast answers)."""
        key = (id(frame), crs)  # the server's own frames live as long as the server
        if key not in self._cache:
            self._cache[key] = _features(frame, crs)
        return self._cache[key]

    def _page_url(self, path: str, query: dict[str, str], offset: int) -> str:
        return f"{self.base}{path}?{urlencode({**query, 'cursor': _cursor(offset)})}"

    def ogc_collection(self, name: str) -> tuple[int, dict, bytes]:
        body = {
            "id": name,
            "title": name,
            "itemType": "feature",
            "crs": [CRS84_URI, RD_URI, "http://www.opengis.net/def/crs/EPSG/0/3857"],
            "storageCrs": RD_URI,
            "links": [
                {
                    "rel": "items",
                    "type": "application/geo+json",
                    "href": f"{self.base}/ogc/collections/{name}/items?f=json",
                }
            ],
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    # ---- WFS 2.0 (MapServer)

    def wfs(self, query: dict[str, str]) -> tuple[int, dict, bytes]:
        q = {k.lower(): v for k, v in query.items()}
        if q.get("request") != "GetFeature" or q.get("outputformat") != "application/json":
            return _exception_report("bad request")
        typename = q.get("typenames")
        start, count = int(q.get("startindex", 0)), int(q.get("count", 1000))
        if start > WFS_MAX_START_INDEX:
            return _exception_report(
                f"startIndex {start} is larger than the maximum of {WFS_MAX_START_INDEX}"
            )
        if typename == "nwbwegen:wegvakken":  # the NWB as a WFS: far beyond the cap
            features = self._serialised(self.rijkswegen, RD_URI)[:count]
            matched = NWB_SIZE
        elif typename == "natura2000:natura2000":
            positions = np.arange(len(self.natura))
            if "bbox" in q:
                area = box(*[float(v) for v in q["bbox"].split(",")[:4]])
                positions = np.flatnonzero(self.natura.intersects(area).to_numpy())
            matched = len(positions)
            every = self._serialised(self.natura, RD_URI)
            features = [every[i] for i in positions[start : start + count]]
        else:
            return _exception_report(f"unknown typename {typename}")
        body = {
            "type": "FeatureCollection",
            "features": features,
            "numberMatched": matched,
            "numberReturned": len(features),
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    # ---- dispatch

    def respond(
        self, method: str, path: str, query: dict[str, str], body: bytes
    ) -> tuple[int, dict, bytes]:
        with self.lock:
            self.hits[path] += 1
            self.queries[path] = query
            hits = self.hits[path]
        parts = path.strip("/").split("/")
        if len(parts) == 4 and parts[:2] == ["ogc", "collections"] and parts[3] == "items":
            frame = self.collections.get(parts[2])
            if frame is None:
                return _problem(404, "Not Found", f"collection '{parts[2]}' doesn't exist")
            return self.ogc_items(path, query, frame)
        if len(parts) == 3 and parts[:2] == ["ogc", "collections"]:
            if parts[2] not in self.collections:
                return _problem(404, "Not Found", f"collection '{parts[2]}' doesn't exist")
            return self.ogc_collection(parts[2])
        if path == "/wfs":
            return self.wfs(query)
        if path == "/overpass/interpreter" and method == "POST":
            text = parse_qs(body.decode())["data"][0]
            if "node(1)" in text:  # the endpoint check
                elements: list[dict] = []
            else:
                elements = next(
                    (v for k, v in self.overpass.items() if f'"{k}"' in text),
                    [],
                )
            answer = {"version": 0.6, "generator": "Overpass API", "elements": elements}
            return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()
        fault = self.faults.get(parts[0]) if parts else None
        if fault is not None:
            return fault(path, query, hits)
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
