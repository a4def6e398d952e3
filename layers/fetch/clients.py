"""The three download clients: OGC API Features, WFS 2.0 and Overpass.

- :func:`fetch_ogcapi` (PDOK ``api.pdok.nl``): ``/collections/{c}/items`` with a
  ``bbox`` and output in RD New, both named by their full CRS URI (PDOK answers
  HTTP 400 to a short name such as ``EPSG:28992``), following ``rel="next"``
  links (PDOK: cursor paging) until there are none;
- :func:`fetch_wfs` (PDOK ``service.pdok.nl``): GetFeature with GeoJSON output,
  ``srsName=EPSG:28992`` and ``startIndex``/``count`` paging, which PDOK caps at
  ``startIndex`` 50,000 (:data:`WFS_MAX_START_INDEX`);
- :func:`fetch_overpass` (OpenStreetMap): one Overpass QL query per layer for
  the area's bounding box; the JSON answer is turned into polygons by osmnx's
  own feature builder (closed ways and multipolygon relations).

Each returns a :class:`RawLayer` in EPSG:28992 with the URLs it requested.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
import datetime as dt
import json
import logging
import re
from typing import Any
from urllib.parse import urljoin

import geopandas as gpd
import pandas as pd
from pyproj import CRS, Transformer
import requests
from shapely.geometry import Polygon

from locatietoets.analysis.vocabulary import nl_number
from locatietoets.layers.fetch.endpoints import Endpoint
from locatietoets.layers.fetch.http_client import FetchError, HttpClient, json_page

log = logging.getLogger(__name__)

#: RD New, the CRS of every written layer; CRS84 is the OGC API default (lon/lat).
RD = CRS.from_epsg(28992)
CRS84 = "OGC:CRS84"
#: RD New as OGC API Features Part 2 names it (``crs``, ``bbox-crs``, ``Content-Crs``).
RD_URI = "http://www.opengis.net/def/crs/EPSG/0/28992"
#: CRS84 as a URI: the OGC API default when the answer names no CRS.
CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
#: PDOK's WFS (MapServer) refuses a ``startIndex`` above this value; larger layers need the
#: OGC API (cursor paging) or a smaller area.
WFS_MAX_START_INDEX = 50_000
_MAX_PAGES = 100_000


@dataclass
class RawLayer:
    """What a client fetched, before selection and cutting.

    Attributes
    ----------
    frame
        Features in EPSG:28992 with their source attributes.
    urls
        Every URL requested, in order.
    params
        The query parameters of the first request (or the Overpass query).
    pages
        Number of pages (requests) fetched.
    retrieved
        Time of retrieval (UTC, ISO 8601).
    """

    frame: gpd.GeoDataFrame
    urls: list[str]
    params: dict[str, Any]
    pages: int
    retrieved: str


ProgressFn = Callable[[str, int, int, "int | None"], None]


def no_progress(*_: Any) -> None:
    return None


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _frame_from_features(features: list[dict[str, Any]], crs: Any) -> gpd.GeoDataFrame:
    if not features:
        return gpd.GeoDataFrame(
            {"geometry": gpd.GeoSeries([], crs=crs)}, geometry="geometry", crs=crs
        )
    frame = gpd.GeoDataFrame.from_features(features, crs=crs)
    return frame


def to_rd(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.crs is None or CRS(frame.crs).equals(RD):
        return frame.set_crs(RD, allow_override=True)
    return frame.to_crs(RD)


def _content_crs(response: requests.Response, default: str) -> Any:
    header = response.headers.get("Content-Crs", "").strip().strip("<>")
    if not header:
        return default
    try:
        return CRS.from_user_input(header)
    except Exception:  # noqa: BLE001 - an odd header must not stop the download
        log.warning("onbekende Content-Crs '%s'; aangenomen: %s", header, default)
        return default


def bbox_crs84(bbox_rd: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    transformer = Transformer.from_crs(RD, CRS84, always_xy=True)
    west, south, east, north = transformer.transform_bounds(*bbox_rd, densify_pts=21)
    pad = 0.0005  # about 50 m: the cut to the area happens afterwards in RD
    return west - pad, south - pad, east + pad, north + pad


def fetch_ogcapi(
    client: HttpClient,
    endpoint: Endpoint,
    bbox_rd: tuple[float, float, float, float],
    *,
    progress: ProgressFn = no_progress,
    cache_hint: str = "",
) -> RawLayer:
    """Fetch all features of an OGC API Features collection in a bounding box.

    Follows ``rel="next"`` links until a page has none (PDOK's APIs page with an
    opaque ``cursor`` in that link and send no ``numberMatched``). The bbox is
    sent in RD New and the answer asked in RD New, both as the full CRS URI
    (:data:`RD_URI`); the answer's CRS is read from the ``Content-Crs`` header
    (without one it is CRS84, the OGC API default) and converted to EPSG:28992
    when it is not RD New already.

    Parameters
    ----------
    client
        The HTTP client.
    endpoint
        A source of kind ``"ogcapi"``.
    bbox_rd
        ``(xmin, ymin, xmax, ymax)`` in EPSG:28992, m.
    progress
        Called as ``progress(key, pages, features, total_or_None)`` per page.
    cache_hint
        Sentence about cached data for the offline message.
    """
    url = endpoint.url.rstrip("/") + f"/collections/{endpoint.collection}/items"
    xmin, ymin, xmax, ymax = bbox_rd
    params: dict[str, Any] = {
        "f": "json",
        "limit": endpoint.page_size,
        "bbox": f"{xmin:.2f},{ymin:.2f},{xmax:.2f},{ymax:.2f}",
        "bbox-crs": RD_URI,
        "crs": RD_URI,
    }
    retrieved = now_utc()
    frames: list[gpd.GeoDataFrame] = []
    urls: list[str] = []
    seen: set[str] = set()
    next_url: str | None = url
    next_params: dict[str, Any] | None = params
    features = 0
    total: int | None = None
    page = 0
    while next_url is not None:
        page += 1
        if page > _MAX_PAGES:
            raise FetchError(
                f"{endpoint.provider} blijft pagina's sturen na {_MAX_PAGES} pagina's ({url});"
                " ophalen gestopt."
            )
        response = client.request(
            "GET", next_url, params=next_params, provider=endpoint.provider, cache_hint=cache_hint
        )
        urls.append(response.url)
        seen.add(response.url)
        payload = json_page(response, provider=endpoint.provider, page=page, need="features")
        crs = _content_crs(response, CRS84)
        frames.append(to_rd(_frame_from_features(payload["features"], crs)))
        features += len(payload["features"])
        if isinstance(payload.get("numberMatched"), int):
            total = payload["numberMatched"]
        progress(endpoint.key, page, features, total)
        next_url = _next_link(payload, response.url)
        next_params = None
        if next_url is not None and next_url in seen:
            raise FetchError(
                f"{endpoint.provider} verwijst op pagina {page} terug naar een eerder opgehaalde"
                f" pagina ({next_url}); ophalen gestopt om een oneindige lus te voorkomen."
            )
        if not payload["features"] and next_url is not None:
            log.warning("lege pagina %s met een vervolglink bij %s; gestopt", nl_number(page), url)
            next_url = None
    frame = _concat(frames)
    log.info(
        "%s: %s objecten in %s pagina's van %s",
        endpoint.key,
        nl_number(len(frame)),
        nl_number(page),
        url,
    )
    return RawLayer(frame=frame, urls=urls, params=params, pages=page, retrieved=retrieved)


def _next_link(payload: Mapping[str, Any], base: str) -> str | None:
    links = payload.get("links") or []
    candidates = [
        link
        for link in links
        if isinstance(link, Mapping) and link.get("rel") == "next" and link.get("href")
    ]
    if not candidates:
        return None
    preferred = [link for link in candidates if "json" in str(link.get("type", "json"))]
    return urljoin(base, str((preferred or candidates)[0]["href"]))


def _concat(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    frames = [f for f in frames if len(f)] or frames[:1]
    if not frames:
        return gpd.GeoDataFrame(
            {"geometry": gpd.GeoSeries([], crs=RD)}, geometry="geometry", crs=RD
        )
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=RD)


def fetch_wfs(
    client: HttpClient,
    endpoint: Endpoint,
    bbox_rd: tuple[float, float, float, float],
    *,
    progress: ProgressFn = no_progress,
    cache_hint: str = "",
) -> RawLayer:
    """Fetch all features of a WFS 2.0 feature type in a bounding box.

    Pages with ``startIndex``/``count`` until a page returns fewer than
    ``count`` features (or ``numberMatched`` is reached). Asks for GeoJSON in
    EPSG:28992.

    Parameters
    ----------
    client, endpoint, bbox_rd, progress, cache_hint
        As for :func:`fetch_ogcapi`; ``endpoint`` has kind ``"wfs"``.
    """
    xmin, ymin, xmax, ymax = bbox_rd
    base = {
        "service": "WFS",
        "version": "2.0.0",
        "request": "GetFeature",
        "typeNames": endpoint.typename,
        "outputFormat": "application/json",
        "srsName": "EPSG:28992",
        "bbox": f"{xmin:.2f},{ymin:.2f},{xmax:.2f},{ymax:.2f},urn:ogc:def:crs:EPSG::28992",
        "count": endpoint.page_size,
    }
    retrieved = now_utc()
    frames: list[gpd.GeoDataFrame] = []
    urls: list[str] = []
    start = 0
    page = 0
    total: int | None = None
    while True:
        page += 1
        if page > _MAX_PAGES:
            raise FetchError(
                f"{endpoint.provider} blijft pagina's sturen na {_MAX_PAGES} pagina's"
                f" ({endpoint.url}); ophalen gestopt."
            )
        if start > WFS_MAX_START_INDEX:
            raise _wfs_cap_error(endpoint, total)
        params = {**base, "startIndex": start}
        response = client.request(
            "GET", endpoint.url, params=params, provider=endpoint.provider, cache_hint=cache_hint
        )
        urls.append(response.url)
        payload = json_page(response, provider=endpoint.provider, page=page, need="features")
        crs = _geojson_crs(payload, "EPSG:28992")
        got = len(payload["features"])
        frames.append(to_rd(_frame_from_features(payload["features"], crs)))
        start += got
        matched = payload.get("numberMatched")
        if isinstance(matched, int):
            total = matched
            if total > WFS_MAX_START_INDEX + endpoint.page_size:
                # fail before downloading pages that could never be completed
                raise _wfs_cap_error(endpoint, total)
        progress(endpoint.key, page, start, total)
        if got < endpoint.page_size or got == 0 or (total is not None and start >= total):
            break
    frame = _concat(frames)
    log.info(
        "%s: %s objecten in %s pagina's van %s",
        endpoint.key,
        nl_number(len(frame)),
        nl_number(page),
        endpoint.url,
    )
    return RawLayer(
        frame=frame, urls=urls, params={**base, "startIndex": 0}, pages=page, retrieved=retrieved
    )


def _wfs_cap_error(endpoint: Endpoint, total: int | None) -> FetchError:
    found = f" ({nl_number(total)} objecten in het gebied)" if total else ""
    return FetchError(
        f"De bron '{endpoint.key}' ({endpoint.url}, WFS) heeft meer objecten{found} dan de"
        " WFS in één vraag kan leveren: PDOK weigert een startIndex boven"
        f" {nl_number(WFS_MAX_START_INDEX)}. Kies een kleiner gebied, of een OGC API-bron"
        ' (soort = "ogcapi", die pagineert zonder grens) in het endpoint-bestand.'
    )


def _geojson_crs(payload: Mapping[str, Any], default: str) -> Any:
    name = ((payload.get("crs") or {}).get("properties") or {}).get("name")
    if not name:
        return default
    try:
        crs = CRS.from_user_input(name)
    except Exception:  # noqa: BLE001
        return default
    # urn:ogc:def:crs:EPSG::4326 in GeoJSON still means lon/lat order
    return CRS84 if crs.to_epsg() == 4326 else crs


def overpass_query(
    tags: Mapping[str, Iterable[str]],
    bbox_rd: tuple[float, float, float, float],
    *,
    timeout_s: int = 180,
) -> str:
    """Build the Overpass QL query for features with any of ``tags`` in a bbox.

    Asks for nodes, ways and relations (``nwr``) per tag and recurses down
    (``(._;>;)``) so the answer carries the nodes and member ways needed to
    build way polygons and multipolygon relations.

    Parameters
    ----------
    tags
        OSM key -> values, e.g. ``{"tourism": ["camp_site", "chalet"]}``.
    bbox_rd
        ``(xmin, ymin, xmax, ymax)`` in EPSG:28992, m.
    timeout_s
        Server-side time limit of the query, in s.
    """
    west, south, east, north = bbox_crs84(bbox_rd)
    bbox = f"{south:.6f},{west:.6f},{north:.6f},{east:.6f}"
    parts = []
    for key, values in tags.items():
        values = list(values)
        if len(values) == 1:
            parts.append(f'nwr["{key}"="{values[0]}"]({bbox});')
        else:
            pattern = "|".join(re.escape(v) for v in values)
            parts.append(f'nwr["{key}"~"^({pattern})$"]({bbox});')
    return f"[out:json][timeout:{int(timeout_s)}];({''.join(parts)});(._;>;);out body;"


def fetch_overpass(
    client: HttpClient,
    endpoint: Endpoint,
    bbox_rd: tuple[float, float, float, float],
    *,
    progress: ProgressFn = no_progress,
    cache_hint: str = "",
) -> RawLayer:
    """Fetch OpenStreetMap features with the endpoint's tags from Overpass.

    The query is built by :func:`overpass_query` and posted with the retrying
    client (osmnx's own downloader is not used: it rewires DNS for the whole
    process, falls back to DNS-over-HTTPS and sleeps 55 s on 429/504). The
    JSON answer is converted with osmnx's feature builder
    (``osmnx.features._create_gdf``): closed ways become polygons according to
    OSM's area rules and multipolygon relations are assembled from their
    member ways, holes included.

    Parameters
    ----------
    client, endpoint, bbox_rd, progress, cache_hint
        As for :func:`fetch_ogcapi`; ``endpoint`` has kind ``"overpass"``.
    """
    query = overpass_query(
        endpoint.tags, bbox_rd, timeout_s=max(int(client.settings.timeout_s), 25)
    )
    retrieved = now_utc()
    response = client.request(
        "POST",
        endpoint.url,
        data={"data": query},
        provider=endpoint.provider,
        cache_hint=cache_hint,
    )
    payload = json_page(response, provider=endpoint.provider, page=1, need="elements")
    remark = str(payload.get("remark") or "")
    if "error" in remark.lower():
        raise FetchError(
            f"{endpoint.provider} meldt een fout bij de zoekvraag ({endpoint.url}):"
            f" '{remark[:300]}'. Kies een kleiner gebied of probeer het later opnieuw."
        )
    frame = _overpass_frame(payload, endpoint.tags)
    progress(endpoint.key, 1, len(frame), len(frame))
    log.info(
        "%s: %s OSM-elementen, %s objecten van %s",
        endpoint.key,
        nl_number(len(payload["elements"])),
        nl_number(len(frame)),
        endpoint.url,
    )
    return RawLayer(
        frame=to_rd(frame),
        urls=[endpoint.url],
        params={"data": query},
        pages=1,
        retrieved=retrieved,
    )


def _overpass_frame(
    payload: Mapping[str, Any], tags: Mapping[str, Iterable[str]]
) -> gpd.GeoDataFrame:
    from osmnx import _errors as ox_errors, features as ox_features

    elements = json.loads(json.dumps(payload["elements"]))  # osmnx changes the dicts it is given
    try:
        frame = ox_features._create_gdf(
            [{"elements": elements}], Polygon(), {k: list(v) for k, v in tags.items()}
        )
    except ox_errors.InsufficientResponseError:
        return gpd.GeoDataFrame(
            {"osm_id": pd.Series([], dtype=object)},
            geometry=gpd.GeoSeries([], crs=CRS84),
            crs=CRS84,
        )
    frame = frame.reset_index()
    frame["osm_id"] = frame["element"].astype(str) + "/" + frame["id"].astype(str)
    return frame.set_crs(CRS84, allow_override=True)


#: The client of each endpoint kind.
CLIENTS = {"ogcapi": fetch_ogcapi, "wfs": fetch_wfs, "overpass": fetch_overpass}
