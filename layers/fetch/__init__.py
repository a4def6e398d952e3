"""Fetch public reference layers (PDOK, OpenStreetMap) for an area, page by page.

Three clients, all over one retrying HTTP session (:class:`HttpClient`):

- OGC API Features (PDOK ``api.pdok.nl``): ``/collections/{c}/items`` with a
  ``bbox`` in CRS84, following ``rel="next"`` links until there are none;
- WFS 2.0 GetFeature (PDOK ``service.pdok.nl``) with GeoJSON output,
  ``srsName=EPSG:28992`` and ``startIndex``/``count`` paging;
- Overpass (OpenStreetMap): one Overpass QL query per layer for the area's
  bounding box; the JSON answer is turned into polygons by osmnx's own
  feature builder (closed ways and multipolygon relations).

Endpoints are not in this module: they are read from ``endpoints.toml`` in
this package (or a user's copy), see :func:`load_endpoints`.

:func:`fetch_data` resolves the area (a gemeente, a region, ``limburg`` or a
bounding box in RD New), fetches each layer, converts it to EPSG:28992, cuts
it to the area and writes one GeoPackage (version 1.2) per layer, a
``manifest.json`` and a ``config.toml`` for ``locatietoets score``. All output
is staged and moved in place only when every layer succeeded, so a failed run
never leaves a half-written layer or manifest. Downloads are cached by
endpoint, query and area; ``refresh=True`` forces a new download.

Network faults are retried with exponential backoff (timeouts, connection
errors, HTTP 5xx and 429, honouring ``Retry-After``); other 4xx answers and
malformed pages raise :class:`FetchError` with a Dutch message at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
import datetime as dt
import email.utils
import hashlib
from importlib import resources
import json
import logging
import os
from pathlib import Path
import re
import shutil
import tempfile
import time
import tomllib
from typing import Any
import unicodedata
from urllib.parse import urljoin, urlparse

import geopandas as gpd
import pandas as pd
import pyogrio
from pyproj import CRS, Transformer
import requests
import shapely
from shapely.geometry import Polygon, box

from locatietoets.analysis.errors import ConfigError, InputError, did_you_mean
from locatietoets.layers.io.config import LAYER_KEYS, parse_config

__all__ = [
    "FetchError",
    "Endpoint",
    "EndpointSet",
    "HttpSettings",
    "HttpClient",
    "Area",
    "LayerResult",
    "FetchOutcome",
    "CheckResult",
    "DEFAULT_CACHE_DIR",
    "DEFAULT_LAYERS",
    "LAYER_ALIASES",
    "load_endpoints",
    "expand_layers",
    "resolve_area",
    "fetch_ogcapi",
    "fetch_wfs",
    "fetch_overpass",
    "overpass_query",
    "fetch_data",
    "check_endpoints",
]

log = logging.getLogger(__name__)

#: Default cache folder of downloaded layers.
DEFAULT_CACHE_DIR = Path("~/.cache/locatietoets/data").expanduser()
#: Bump when the cached layer format or the processing rules change.
CACHE_VERSION = "1"
#: Layers fetched when ``--lagen`` is not given.
DEFAULT_LAYERS = (
    "gemeenten",
    "wijken",
    "bag",
    "wegen",
    "natura2000",
    "recreatieparken",
    "werkgevers",
)
#: Short names on the command line for one or more endpoint keys.
LAYER_ALIASES: dict[str, tuple[str, ...]] = {"bag": ("verblijfsobjecten",), "nwb": ("wegen",)}

_RD = CRS.from_epsg(28992)
_CRS84 = "OGC:CRS84"
_KINDS = ("ogcapi", "wfs", "overpass")
_GEOMETRIES = {
    "vlak": {"Polygon", "MultiPolygon"},
    "lijn": {"LineString", "MultiLineString"},
    "punt": {"Point", "MultiPoint"},
}
_GPKG_TYPES = {"vlak": "MultiPolygon", "lijn": "MultiLineString", "punt": "Point"}
_CLIP_MODES = ("knippen", "overlap")
_OVERLAP_MIN_SHARE = 0.01
_REGIONS = ("Noord-Limburg", "Midden-Limburg", "Zuid-Limburg")
_ENDPOINT_KEYS = {
    "omschrijving",
    "aanbieder",
    "soort",
    "url",
    "collectie",
    "typenaam",
    "tags",
    "velden",
    "geometrie",
    "bijsnijden",
    "laag",
    "config",
    "bestand",
    "paginagrootte",
    "versie",
    "gecontroleerd",
}
_MAX_PAGES = 100_000


class FetchError(InputError):
    """A service could not be reached, refused a request or sent an unusable page."""

    title = "Fout bij ophalen"


# --------------------------------------------------------------------------- endpoints


@dataclass(frozen=True)
class Endpoint:
    """One source in ``endpoints.toml``.

    Attributes
    ----------
    key
        The name of the source (``"gemeenten"``, ``"wegen"``, ...).
    kind
        ``"ogcapi"``, ``"wfs"`` or ``"overpass"``.
    url
        OGC API landing page, WFS service URL or Overpass interpreter URL.
    collection, typename, tags
        What to ask for: OGC API collection, WFS feature type, Overpass tags.
    fields
        Source field -> output field; only these are kept.
    geometry
        ``"vlak"``, ``"lijn"`` or ``"punt"``.
    clip
        ``"knippen"`` (cut to the area) or ``"overlap"`` (keep whole features
        that lie at least 1 % in the area).
    layer
        The config layer (``[lagen.NAME]``) this source feeds, or ``None``.
    config
        Extra keys for that config layer.
    filename
        GeoPackage file name in the output folder.
    page_size
        Features per request.
    provider
        Name of the provider in messages (``"PDOK"``).
    version, checked
        Version of the definition and date of the last check.
    description
        Dutch description.
    """

    key: str
    kind: str
    url: str
    fields: Mapping[str, str]
    geometry: str
    filename: str
    collection: str | None = None
    typename: str | None = None
    tags: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    clip: str = "knippen"
    layer: str | None = None
    config: Mapping[str, str] = field(default_factory=dict)
    page_size: int = 1000
    provider: str = "PDOK"
    version: str = ""
    checked: str = ""
    description: str = ""

    def query(self) -> dict[str, Any]:
        """What identifies the request (for the cache key and the manifest)."""
        out: dict[str, Any] = {"soort": self.kind, "url": self.url}
        if self.collection:
            out["collectie"] = self.collection
        if self.typename:
            out["typenaam"] = self.typename
        if self.tags:
            out["tags"] = {k: list(v) for k, v in self.tags.items()}
        out["velden"] = dict(self.fields)
        out["paginagrootte"] = self.page_size
        out["bijsnijden"] = self.clip
        return out


@dataclass(frozen=True)
class EndpointSet:
    """All sources of an endpoints file.

    Attributes
    ----------
    source
        The file read (``"ingebouwd: endpoints.toml"`` for the packaged one).
    version, checked
        Version and check date of the file.
    limburg_bbox
        Bounding box of the province in RD New (m), used to resolve areas.
    endpoints
        The sources by key.
    """

    source: str
    version: str
    checked: str
    limburg_bbox: tuple[float, float, float, float]
    endpoints: Mapping[str, Endpoint]


def load_endpoints(path: str | Path | None = None) -> EndpointSet:
    """Read and validate an endpoints file (``None``: the one in this package).

    Parameters
    ----------
    path
        A TOML file with ``[bronnen.*]`` tables; see the packaged
        ``layers/fetch/endpoints.toml`` for the format.

    Raises
    ------
    ConfigError
        When the file is missing or invalid; lists every problem found.
    """
    if path is None:
        text = (resources.files("locatietoets.layers.fetch") / "endpoints.toml").read_text(
            encoding="utf-8"
        )
        origin = "ingebouwd: endpoints.toml"
    else:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(
                f"Endpoint-bestand '{path}' bestaat niet. Geef een .toml-bestand met [bronnen.*]"
                " (zie layers/fetch/endpoints.toml), of laat --endpoints weg voor de ingebouwde"
                " bronnen."
            )
        text = path.read_text(encoding="utf-8")
        origin = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Endpoint-bestand '{origin}' is geen geldige TOML: {exc}.") from None
    return _parse_endpoints(data, origin)


def _parse_endpoints(data: Mapping[str, Any], origin: str) -> EndpointSet:
    problems: list[str] = []
    where = f"endpoint-bestand '{origin}'"
    bbox = data.get("gebied", {}).get("limburg_bbox")
    if not (
        isinstance(bbox, list) and len(bbox) == 4 and all(isinstance(v, (int, float)) for v in bbox)
    ):
        problems.append(
            f"In het {where} ontbreekt [gebied] limburg_bbox = [xmin, ymin, xmax, ymax] (RD New,"
            " meter)."
        )
        bbox = [0.0, 0.0, 0.0, 0.0]
    sources = data.get("bronnen")
    if not isinstance(sources, Mapping) or not sources:
        problems.append(f"Het {where} bevat geen bronnen: voeg [bronnen.NAAM]-tabellen toe.")
        sources = {}
    endpoints: dict[str, Endpoint] = {}
    for key, table in sources.items():
        label = f"[bronnen.{key}]"
        if not isinstance(table, Mapping):
            problems.append(f"{label} moet een tabel zijn.")
            continue
        for name in table:
            if name not in _ENDPOINT_KEYS:
                problems.append(
                    f"{label} onbekende sleutel '{name}'.{did_you_mean(name, _ENDPOINT_KEYS)}"
                )
        kind = table.get("soort")
        if kind not in _KINDS:
            problems.append(f"{label} soort moet één van {', '.join(_KINDS)} zijn, niet {kind!r}.")
            continue
        for required in ("url", "velden", "geometrie", "bestand"):
            if required not in table:
                problems.append(f"{label} mist '{required}'.")
        needed = {"ogcapi": "collectie", "wfs": "typenaam", "overpass": "tags"}[kind]
        if needed not in table:
            problems.append(f"{label} (soort {kind}) mist '{needed}'.")
        geometry = table.get("geometrie")
        if geometry is not None and geometry not in _GEOMETRIES:
            problems.append(
                f"{label} geometrie moet één van {', '.join(_GEOMETRIES)} zijn, niet {geometry!r}."
            )
        clip = table.get("bijsnijden", "knippen")
        if clip not in _CLIP_MODES:
            problems.append(
                f"{label} bijsnijden moet één van {', '.join(_CLIP_MODES)} zijn, niet {clip!r}."
            )
        layer = table.get("laag")
        if layer is not None and layer not in LAYER_KEYS:
            problems.append(
                f"{label} laag '{layer}' is geen laag van de"
                f" configuratie.{did_you_mean(str(layer), LAYER_KEYS)}"
            )
        fields = table.get("velden", {})
        if not isinstance(fields, Mapping) or not all(isinstance(v, str) for v in fields.values()):
            problems.append(f'{label} velden moet een tabel bronveld = "uitvoerveld" zijn.')
            fields = {}
        tags = table.get("tags", {})
        if not isinstance(tags, Mapping) or not all(
            isinstance(v, list) and all(isinstance(s, str) for s in v) for v in tags.values()
        ):
            problems.append(f'{label} tags moet een tabel sleutel = ["waarde", ...] zijn.')
            tags = {}
        page_size = table.get("paginagrootte", 1000)
        if not isinstance(page_size, int) or page_size < 1:
            problems.append(f"{label} paginagrootte moet een positief geheel getal zijn.")
            page_size = 1000
        if any(p.startswith(label) for p in problems):
            continue
        endpoints[key] = Endpoint(
            key=key,
            kind=kind,
            url=str(table["url"]),
            fields=dict(fields),
            geometry=str(geometry),
            filename=str(table["bestand"]),
            collection=table.get("collectie"),
            typename=table.get("typenaam"),
            tags={k: tuple(v) for k, v in tags.items()},
            clip=clip,
            layer=layer,
            config={str(k): str(v) for k, v in table.get("config", {}).items()},
            page_size=page_size,
            provider=str(table.get("aanbieder", "De server")),
            version=str(table.get("versie", "")),
            checked=str(table.get("gecontroleerd", "")),
            description=str(table.get("omschrijving", "")),
        )
    if problems:
        raise ConfigError(problems)
    return EndpointSet(
        source=origin,
        version=str(data.get("versie", "")),
        checked=str(data.get("gecontroleerd", "")),
        limburg_bbox=tuple(float(v) for v in bbox),  # type: ignore[arg-type]
        endpoints=endpoints,
    )


# --------------------------------------------------------------------------- HTTP


@dataclass(frozen=True)
class HttpSettings:
    """How patient the HTTP client is.

    Attributes
    ----------
    timeout_s
        Connect and read timeout per request, in s.
    retries
        Extra attempts after a timeout, connection error, HTTP 5xx or 429.
    backoff_s
        Wait before retry n (0-based) is ``backoff_s * 2**n`` s, unless the
        server sends ``Retry-After``.
    max_wait_s
        Upper bound of any single wait, in s.
    user_agent
        The ``User-Agent`` header.
    """

    timeout_s: float = 60.0
    retries: int = 3
    backoff_s: float = 0.5
    max_wait_s: float = 60.0
    user_agent: str = "locatietoets (Provincie Limburg; python-requests)"


class _Unreachable(Exception):
    """Internal: the last attempt failed with a timeout or connection error."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


class HttpClient:
    """A ``requests`` session with timeouts, retries and Dutch errors.

    Parameters
    ----------
    settings
        Timeouts and retry policy.
    session
        A session to use (a new one by default).
    sleep
        The wait function (tests may pass a recorder).
    """

    def __init__(
        self,
        settings: HttpSettings | None = None,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings or HttpSettings()
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", self.settings.user_agent)
        self.sleep = sleep
        self.requests = 0
        self.retried = 0
        self.redirects: list[tuple[str, str]] = []

    def close(self) -> None:
        """Close the session."""
        self.session.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        provider: str = "De server",
        allow_redirects: bool = True,
        retries: int | None = None,
        cache_hint: str = "",
        raise_for_status: bool = True,
    ) -> requests.Response:
        """Send a request; retry transient faults; raise :class:`FetchError` otherwise.

        Parameters
        ----------
        method, url, params, data
            As for :meth:`requests.Session.request`.
        provider
            Name of the provider in messages.
        allow_redirects
            Follow redirects (``False`` for endpoint checks).
        retries
            Override of ``settings.retries``.
        cache_hint
            Dutch sentence about usable cached data, appended when unreachable.
        raise_for_status
            Raise on HTTP errors (after the retries); ``False`` returns the response.
        """
        retries = self.settings.retries if retries is None else retries
        attempts = retries + 1
        last: _Unreachable | None = None
        response: requests.Response | None = None
        for attempt in range(attempts):
            wait = min(self.settings.backoff_s * (2**attempt), self.settings.max_wait_s)
            try:
                self.requests += 1
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    timeout=self.settings.timeout_s,
                    allow_redirects=allow_redirects,
                )
            except requests.exceptions.Timeout as exc:
                last = _Unreachable("timeout", _short(exc))
                response = None
            except requests.exceptions.ConnectionError as exc:
                last = _Unreachable("connection", _short(exc))
                response = None
            else:
                last = None
                if response.status_code < 400 or not _retryable(response.status_code):
                    break
                wait = _retry_after(response, default=wait, cap=self.settings.max_wait_s)
            if attempt + 1 < attempts:
                self.retried += 1
                reason = f"HTTP {response.status_code}" if response is not None else last.kind  # type: ignore[union-attr]
                log.warning(
                    "%s: %s, poging %d van %d opnieuw over %.2f s",
                    urlparse(url).netloc,
                    reason,
                    attempt + 2,
                    attempts,
                    wait,
                )
                self.sleep(wait)
        full_url = response.url if response is not None else _with_params(url, params)
        if last is not None:
            if last.kind == "timeout":
                raise FetchError(
                    f"{provider} antwoordt niet binnen {self.settings.timeout_s:g} s ({attempts}"
                    f" pogingen) op {full_url}. De dienst is traag of overbelast; probeer het later"
                    f" opnieuw of verhoog --tijdslimiet.{cache_hint}"
                )
            raise FetchError(
                f"Geen verbinding met {urlparse(url).netloc} ({provider}) na {attempts} pogingen"
                f" ({last.detail}). Controleer de internetverbinding (en een eventuele"
                f" proxy).{cache_hint}"
            )
        assert response is not None
        if response.history:
            for hop in response.history:
                self.redirects.append((hop.url, hop.headers.get("Location", "")))
            log.warning(
                "%s is doorgestuurd naar %s; pas de endpoint-configuratie aan", url, response.url
            )
        if not raise_for_status:
            return response
        if response.status_code >= 500 or response.status_code == 429:
            raise FetchError(
                f"{provider} geeft een serverfout (HTTP {response.status_code} {response.reason})"
                f" na {attempts} pogingen op {full_url}. Probeer het later opnieuw.{cache_hint}"
            )
        if response.status_code >= 400:
            raise FetchError(
                f"{provider} weigert het verzoek (HTTP {response.status_code} {response.reason}):"
                f" {_body_excerpt(response)} URL: {full_url}. Controleer de endpoint-configuratie"
                " (url, collectie/typenaam, velden) of draai 'locatietoets data controle'."
            )
        return response


def _retryable(status: int) -> bool:
    return status >= 500 or status == 429


def _retry_after(response: requests.Response, *, default: float, cap: float) -> float:
    value = response.headers.get("Retry-After")
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return default
        seconds = (when - dt.datetime.now(dt.UTC)).total_seconds()
    return min(max(seconds, 0.0), cap)


def _short(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    text = re.sub(r"<urllib3[^>]*>", "", text)
    return text.splitlines()[0][:200]


def _body_excerpt(response: requests.Response) -> str:
    text = re.sub(r"\s+", " ", response.text or "").strip()
    return f"'{text[:300]}'." if text else "(leeg antwoord)."


def _with_params(url: str, params: Mapping[str, Any] | None) -> str:
    if not params:
        return url
    return str(requests.Request("GET", url, params=params).prepare().url)


def _json_page(
    response: requests.Response, *, provider: str, page: int, need: str
) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        start = re.sub(r"\s+", " ", response.text[:120]).strip()
        raise FetchError(
            f"{provider} stuurde op pagina {page} geen geldige JSON ({response.url}); het antwoord"
            f" begint met '{start}'. De dienst is mogelijk gewijzigd: draai 'locatietoets data"
            " controle'."
        ) from None
    if not isinstance(payload, dict) or not isinstance(payload.get(need), list):
        raise FetchError(
            f"{provider} stuurde op pagina {page} een onbruikbaar antwoord ({response.url}):"
            f" '{need}' ontbreekt. De dienst is mogelijk gewijzigd: draai 'locatietoets data"
            " controle'."
        )
    return payload


# --------------------------------------------------------------------------- clients


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


def _noop(*_: Any) -> None:
    return None


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _frame_from_features(features: list[dict[str, Any]], crs: Any) -> gpd.GeoDataFrame:
    if not features:
        return gpd.GeoDataFrame(
            {"geometry": gpd.GeoSeries([], crs=crs)}, geometry="geometry", crs=crs
        )
    frame = gpd.GeoDataFrame.from_features(features, crs=crs)
    return frame


def _to_rd(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.crs is None or CRS(frame.crs).equals(_RD):
        return frame.set_crs(_RD, allow_override=True)
    return frame.to_crs(_RD)


def _content_crs(response: requests.Response, default: str) -> Any:
    header = response.headers.get("Content-Crs", "").strip().strip("<>")
    if not header:
        return default
    try:
        return CRS.from_user_input(header)
    except Exception:  # noqa: BLE001 - an odd header must not stop the download
        log.warning("onbekende Content-Crs %r; aangenomen: %s", header, default)
        return default


def _bbox_crs84(bbox_rd: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    transformer = Transformer.from_crs(_RD, _CRS84, always_xy=True)
    west, south, east, north = transformer.transform_bounds(*bbox_rd, densify_pts=21)
    pad = 0.0005  # about 50 m: the cut to the area happens afterwards in RD
    return west - pad, south - pad, east + pad, north + pad


def fetch_ogcapi(
    client: HttpClient,
    endpoint: Endpoint,
    bbox_rd: tuple[float, float, float, float],
    *,
    progress: ProgressFn = _noop,
    cache_hint: str = "",
) -> RawLayer:
    """Fetch all features of an OGC API Features collection in a bounding box.

    Follows ``rel="next"`` links until a page has none. The bbox is sent in
    CRS84 (the OGC API default); the answer's CRS is read from the
    ``Content-Crs`` header (default CRS84) and converted to EPSG:28992.

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
    west, south, east, north = _bbox_crs84(bbox_rd)
    params: dict[str, Any] = {
        "f": "json",
        "limit": endpoint.page_size,
        "bbox": f"{west:.6f},{south:.6f},{east:.6f},{north:.6f}",
    }
    retrieved = _now()
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
        payload = _json_page(response, provider=endpoint.provider, page=page, need="features")
        crs = _content_crs(response, _CRS84)
        frames.append(_to_rd(_frame_from_features(payload["features"], crs)))
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
            log.warning("lege pagina %d met een next-link bij %s; gestopt", page, url)
            next_url = None
    frame = _concat(frames)
    log.info("%s: %d objecten in %d pagina's van %s", endpoint.key, len(frame), page, url)
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
            {"geometry": gpd.GeoSeries([], crs=_RD)}, geometry="geometry", crs=_RD
        )
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=_RD)


def fetch_wfs(
    client: HttpClient,
    endpoint: Endpoint,
    bbox_rd: tuple[float, float, float, float],
    *,
    progress: ProgressFn = _noop,
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
    retrieved = _now()
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
        params = {**base, "startIndex": start}
        response = client.request(
            "GET", endpoint.url, params=params, provider=endpoint.provider, cache_hint=cache_hint
        )
        urls.append(response.url)
        payload = _json_page(response, provider=endpoint.provider, page=page, need="features")
        crs = _geojson_crs(payload, "EPSG:28992")
        got = len(payload["features"])
        frames.append(_to_rd(_frame_from_features(payload["features"], crs)))
        start += got
        matched = payload.get("numberMatched")
        if isinstance(matched, int):
            total = matched
        progress(endpoint.key, page, start, total)
        if got < endpoint.page_size or got == 0 or (total is not None and start >= total):
            break
    frame = _concat(frames)
    log.info("%s: %d objecten in %d pagina's van %s", endpoint.key, len(frame), page, endpoint.url)
    return RawLayer(
        frame=frame, urls=urls, params={**base, "startIndex": 0}, pages=page, retrieved=retrieved
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
    return _CRS84 if crs.to_epsg() == 4326 else crs


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
    west, south, east, north = _bbox_crs84(bbox_rd)
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
    progress: ProgressFn = _noop,
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
    retrieved = _now()
    response = client.request(
        "POST",
        endpoint.url,
        data={"data": query},
        provider=endpoint.provider,
        cache_hint=cache_hint,
    )
    payload = _json_page(response, provider=endpoint.provider, page=1, need="elements")
    remark = str(payload.get("remark") or "")
    if "error" in remark.lower():
        raise FetchError(
            f"{endpoint.provider} meldt een fout bij de zoekvraag ({endpoint.url}):"
            f" '{remark[:300]}'. Kies een kleiner gebied of probeer het later opnieuw."
        )
    frame = _overpass_frame(payload, endpoint.tags)
    progress(endpoint.key, 1, len(frame), len(frame))
    log.info(
        "%s: %d OSM-elementen, %d objecten van %s",
        endpoint.key,
        len(payload["elements"]),
        len(frame),
        endpoint.url,
    )
    return RawLayer(
        frame=_to_rd(frame),
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
            geometry=gpd.GeoSeries([], crs=_CRS84),
            crs=_CRS84,
        )
    frame = frame.reset_index()
    frame["osm_id"] = frame["element"].astype(str) + "/" + frame["id"].astype(str)
    return frame.set_crs(_CRS84, allow_override=True)


_CLIENTS = {"ogcapi": fetch_ogcapi, "wfs": fetch_wfs, "overpass": fetch_overpass}


# --------------------------------------------------------------------------- area


@dataclass
class Area:
    """The area to fetch for.

    Attributes
    ----------
    text
        What the user gave (``"Venlo"``, ``"Noord-Limburg"``, ``"limburg"``, a bbox).
    kind
        ``"gemeente"``, ``"regio"``, ``"limburg"`` or ``"bbox"``.
    key
        Stable identity for the cache (``"gemeente:GM0983"``).
    polygon
        The area in EPSG:28992.
    codes
        CBS codes of the gemeenten in the area (empty for a bbox).
    gemeenten_raw
        The gemeenten fetched to resolve the area (reused for the gemeenten layer).
    """

    text: str
    kind: str
    key: str
    polygon: shapely.Geometry
    codes: tuple[str, ...] = ()
    gemeenten_raw: tuple[RawLayer, bool] | None = None

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the area in EPSG:28992, m."""
        return tuple(float(v) for v in self.polygon.bounds)  # type: ignore[return-value]

    def record(self) -> dict[str, Any]:
        """JSON-able form for the manifest."""
        return {
            "invoer": self.text,
            "soort": self.kind,
            "sleutel": self.key,
            "bbox_rd": [round(v, 2) for v in self.bbox],
            "gemeenten": list(self.codes),
        }


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _gm_code(value: Any) -> str | None:
    digits = re.sub(r"\D", "", str(value or ""))
    return f"GM{int(digits):04d}" if digits else None


def _parse_bbox(text: str) -> tuple[float, float, float, float] | None:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4:
        return None
    try:
        values = [float(p) for p in parts]
    except ValueError:
        return None
    return values[0], values[1], values[2], values[3]


def _lookup() -> dict[str, Mapping[str, Any]]:
    from locatietoets.layers.io.rules import read_ruleset_file

    return dict(read_ruleset_file().gemeenten)


def _area_codes(
    text: str, lookup: Mapping[str, Mapping[str, Any]]
) -> tuple[str, str, tuple[str, ...]]:
    folded = _fold(text)
    if folded == "limburg":
        return "limburg", "limburg", tuple(sorted(lookup))
    for region in _REGIONS:
        if folded in (_fold(region), _fold(region.split("-")[0])):
            codes = tuple(sorted(c for c, v in lookup.items() if v.get("regio") == region))
            return "regio", f"regio:{region}", codes
    code = (
        _gm_code(text)
        if re.fullmatch(r"\s*(GM)?\s*\d{1,4}\s*", text, flags=re.IGNORECASE)
        else None
    )
    if code is not None and code in lookup:
        return "gemeente", f"gemeente:{code}", (code,)
    by_name = {_fold(str(v.get("naam", ""))): c for c, v in lookup.items()}
    by_name.update({_fold(str(v.get("naam", "")).split("(")[0]): c for c, v in lookup.items()})
    if folded in by_name:
        code = by_name[folded]
        return "gemeente", f"gemeente:{code}", (code,)
    names = sorted(str(v.get("naam")) for v in lookup.values())
    raise InputError(
        f"Gebied '{text}' is onbekend.{did_you_mean(text, names + list(_REGIONS))} Geef een"
        " Limburgse gemeente (naam of CBS-code, bv. Venlo of GM0983), een regio"
        f" ({', '.join(_REGIONS)}), 'limburg', of een rechthoek in RD New als 'xmin,ymin,xmax,ymax'"
        " (meter)."
    )


def resolve_area(
    text: str,
    *,
    gemeenten: gpd.GeoDataFrame | None = None,
    lookup: Mapping[str, Mapping[str, Any]] | None = None,
) -> Area:
    """Turn ``--gebied`` into an area polygon in EPSG:28992.

    Parameters
    ----------
    text
        A gemeente (name or CBS code), a region (Noord-/Midden-/Zuid-Limburg),
        ``limburg``, or ``"xmin,ymin,xmax,ymax"`` in RD New (m).
    gemeenten
        Gemeente polygons in EPSG:28992 with a ``code`` field (GMxxxx); needed
        for everything but a bbox.
    lookup
        CBS code -> ``{"naam", "regio"}``; default the rule set's table of the
        31 Limburg gemeenten.

    Raises
    ------
    InputError
        For an unknown area, a bad bbox, or gemeenten missing from the data.
    """
    bbox = _parse_bbox(text)
    if bbox is not None:
        xmin, ymin, xmax, ymax = bbox
        if not (xmin < xmax and ymin < ymax):
            raise InputError(
                f"Gebied '{text}': een rechthoek is 'xmin,ymin,xmax,ymax' met xmin < xmax en ymin <"
                " ymax."
            )
        if not (-60_000 <= xmin and xmax <= 360_000 and 250_000 <= ymin and ymax <= 680_000):
            raise InputError(
                f"Gebied '{text}' ligt niet in Nederland in RD New (EPSG:28992, meter). Limburg"
                " ligt ongeveer tussen x 167.000-214.000 en y 306.000-422.000. Lengte- en"
                " breedtegraden worden niet geaccepteerd."
            )
        key = "bbox:" + ",".join(f"{v:.2f}" for v in bbox)
        return Area(text=text, kind="bbox", key=key, polygon=box(*bbox))
    lookup = _lookup() if lookup is None else lookup
    kind, key, codes = _area_codes(text, lookup)
    if gemeenten is None:
        raise InputError(
            f"Gebied '{text}': de gemeentegrenzen zijn nodig om dit gebied te bepalen."
        )
    found = gemeenten[gemeenten["code"].isin(codes)]
    missing = sorted(set(codes) - set(found["code"]))
    if missing:
        raise InputError(
            f"Gebied '{text}': de opgehaalde gemeentegrenzen missen {', '.join(missing)}."
            " Controleer de bron 'gemeenten' in de endpoint-configuratie (velden code/naam) met"
            " 'locatietoets data controle'."
        )
    polygon = shapely.make_valid(shapely.union_all(found.geometry.values))
    log.info("gebied %s: %d gemeente(n), %.1f km²", text, len(found), polygon.area / 1e6)
    return Area(text=text, kind=kind, key=key, polygon=polygon, codes=codes)


# --------------------------------------------------------------------------- processing


def _select_fields(
    frame: gpd.GeoDataFrame, endpoint: Endpoint
) -> tuple[gpd.GeoDataFrame, list[str]]:
    present = {src: dst for src, dst in endpoint.fields.items() if src in frame.columns}
    missing = [src for src in endpoint.fields if src not in frame.columns]
    columns = list(present)
    extra = ["osm_id"] if endpoint.kind == "overpass" and "osm_id" in frame.columns else []
    out = frame[columns + extra].rename(columns=present)
    out = gpd.GeoDataFrame(out, geometry=frame.geometry.values, crs=frame.crs)
    warnings = []
    if missing and len(frame):
        warnings.append(
            f"Velden {', '.join(missing)} ontbreken in de bron '{endpoint.key}' en zijn"
            " overgeslagen; aanwezig:"
            f" {', '.join(c for c in frame.columns if c != frame.geometry.name)[:300]}."
        )
    return out, warnings


def _cut(
    frame: gpd.GeoDataFrame, endpoint: Endpoint, area: Area
) -> tuple[gpd.GeoDataFrame, list[str]]:
    warnings: list[str] = []
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    wanted = _GEOMETRIES[endpoint.geometry]
    other = ~frame.geom_type.isin(wanted)
    if other.any():
        counts = frame.geom_type[other].value_counts().to_dict()
        log.info(
            "%s: %d objecten met een ander geometrietype overgeslagen (%s)",
            endpoint.key,
            int(other.sum()),
            counts,
        )
        if endpoint.kind != "overpass":  # OSM mixes points and areas by design
            warnings.append(
                f"{int(other.sum())} objecten met een ander geometrietype dan '{endpoint.geometry}'"
                f" overgeslagen: {counts}."
            )
        frame = frame[~other]
    if endpoint.geometry == "vlak":
        invalid = ~frame.geometry.is_valid
        if invalid.any():
            frame = frame.copy()
            frame.loc[invalid, "geometry"] = frame.geometry[invalid].make_valid()
    if endpoint.clip == "overlap" and endpoint.geometry == "vlak":
        own = frame.geometry.area.to_numpy()
        shared = shapely.area(shapely.intersection(frame.geometry.values, area.polygon))
        keep = shared >= _OVERLAP_MIN_SHARE * own
        frame = frame[keep]
    else:
        frame = gpd.clip(frame, area.polygon, keep_geom_type=True)
        frame = frame[~frame.geometry.is_empty & frame.geom_type.isin(wanted)]
    frame = frame.reset_index(drop=True)
    if endpoint.geometry != "punt":
        frame = frame.set_geometry(_promote(frame.geometry))
    return frame, warnings


def _promote(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    values = geoms.values
    single_poly = shapely.get_type_id(values) == 3
    single_line = shapely.get_type_id(values) == 1
    out = values.copy()
    out[single_poly] = [shapely.MultiPolygon([g]) for g in values[single_poly]]
    out[single_line] = [shapely.MultiLineString([g]) for g in values[single_line]]
    return gpd.GeoSeries(out, index=geoms.index, crs=geoms.crs)


def _prepare(
    raw: RawLayer, endpoint: Endpoint, area: Area, lookup: Mapping[str, Mapping[str, Any]]
) -> tuple[gpd.GeoDataFrame, list[str]]:
    frame, warnings = _select_fields(raw.frame, endpoint)
    if endpoint.key == "gemeenten" and "code" in frame.columns:
        frame["code"] = frame["code"].map(_gm_code)
        frame["regio"] = frame["code"].map(lambda c: (lookup.get(c) or {}).get("regio"))
    frame, more = _cut(frame, endpoint, area)
    return frame, warnings + more


# --------------------------------------------------------------------------- cache and writing


def _cache_key(endpoint: Endpoint, area_key: str) -> str:
    text = json.dumps(
        {"v": CACHE_VERSION, "query": endpoint.query(), "gebied": area_key}, sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_gpkg(frame: gpd.GeoDataFrame, path: Path, *, layer: str, geometry: str) -> None:
    """Write a GeoPackage 1.2 atomically (temp file in the same folder, then ``os.replace``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".gpkg", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        pyogrio.write_dataframe(
            frame,
            tmp,
            layer=layer,
            driver="GPKG",
            geometry_type=_GPKG_TYPES[geometry],
            dataset_options={"VERSION": "1.2"},
        )
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _write_text(text: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp_name, path)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


class _Cache:
    """Downloaded, processed layers keyed by endpoint query and area."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _paths(self, key: str) -> tuple[Path, Path]:
        sub = self.folder / key[:2]
        return sub / f"{key}.gpkg", sub / f"{key}.json"

    def get(self, key: str) -> tuple[Path, dict[str, Any]] | None:
        data, meta = self._paths(key)
        if not (data.is_file() and meta.is_file()):
            return None
        try:
            record = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if record.get("sha256") != _sha256(data):
            log.warning("cache-bestand %s is beschadigd; opnieuw ophalen", data)
            return None
        return data, record

    def put(
        self, key: str, frame: gpd.GeoDataFrame, endpoint: Endpoint, record: dict[str, Any]
    ) -> Path:
        data, meta = self._paths(key)
        _write_gpkg(frame, data, layer=endpoint.key, geometry=endpoint.geometry)
        record = {**record, "sha256": _sha256(data)}
        _write_text(json.dumps(record, ensure_ascii=False, indent=2), meta)
        return data

    def hint(self, endpoint: Endpoint) -> str:
        """A Dutch sentence listing earlier downloads of this source, with their dates."""
        found = []
        if self.folder.is_dir():
            for meta in self.folder.glob("*/*.json"):
                try:
                    record = json.loads(meta.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    continue
                if record.get("url") == endpoint.url and record.get("bron") == endpoint.key:
                    found.append(
                        f"{record.get('gebied', '?')} ({str(record.get('opgehaald', '?'))[:10]})"
                    )
        if not found:
            return (
                f" Er staan geen eerder opgehaalde gegevens van '{endpoint.key}' in de cache"
                f" ({self.folder})."
            )
        return (
            f" In de cache ({self.folder}) staan eerder opgehaalde gegevens van '{endpoint.key}'"
            f" voor: {', '.join(sorted(found)[:10])}; die worden zonder --vernieuw gebruikt voor"
            " hetzelfde gebied."
        )


@dataclass
class LayerResult:
    """One written layer, for the manifest.

    Attributes
    ----------
    key
        The source key.
    path
        The GeoPackage written.
    features
        Number of features written.
    from_cache
        Whether the layer came from the cache (no request made).
    record
        The manifest entry.
    """

    key: str
    path: Path
    features: int
    from_cache: bool
    record: dict[str, Any]


@dataclass
class FetchOutcome:
    """What :func:`fetch_data` wrote.

    Attributes
    ----------
    out_dir
        The output folder.
    layers
        Per source key.
    manifest, config
        Paths of ``manifest.json`` and ``config.toml``.
    requests
        Number of HTTP requests made (0 when everything came from the cache).
    warnings
        Dutch warnings.
    """

    out_dir: Path
    layers: dict[str, LayerResult]
    manifest: Path
    config: Path
    requests: int
    warnings: list[str]


def expand_layers(names: Iterable[str], endpoints: EndpointSet) -> list[str]:
    """Expand aliases (``bag``) and check names against the endpoints.

    Raises
    ------
    InputError
        Listing every unknown layer name.
    """
    keys: list[str] = []
    problems = []
    known = sorted(set(endpoints.endpoints) | set(LAYER_ALIASES))
    for name in names:
        name = name.strip()
        if not name:
            continue
        for key in LAYER_ALIASES.get(name, (name,)):
            if key not in endpoints.endpoints:
                problems.append(
                    f"Laag '{name}' is onbekend.{did_you_mean(name, known)} Beschikbaar:"
                    f" {', '.join(known)}."
                )
            elif key not in keys:
                keys.append(key)
    if problems:
        raise InputError(problems)
    if not keys:
        raise InputError(f"Geef minstens één laag met --lagen. Beschikbaar: {', '.join(known)}.")
    return keys


def fetch_data(
    area_text: str,
    layers: Iterable[str],
    out_dir: str | Path,
    *,
    endpoints: EndpointSet | None = None,
    cache_dir: str | Path | None = None,
    refresh: bool = False,
    http: HttpSettings | None = None,
    client: HttpClient | None = None,
    progress: ProgressFn = _noop,
) -> FetchOutcome:
    """Fetch reference layers for an area; write GeoPackages, manifest and config.

    Parameters
    ----------
    area_text
        ``--gebied``: gemeente, region, ``limburg`` or ``xmin,ymin,xmax,ymax`` (RD New, m).
    layers
        Source keys or aliases (``gemeenten``, ``bag``, ``wegen``, ...).
    out_dir
        Output folder; gets one ``.gpkg`` per layer, ``manifest.json`` and ``config.toml``.
    endpoints
        The sources (default: the packaged ``endpoints.toml``).
    cache_dir
        Cache folder (default ``~/.cache/locatietoets/data``).
    refresh
        Download again even when the cache has the layer.
    http
        Timeouts and retries.
    client
        An HTTP client to use instead of a new one.
    progress
        Called as ``progress(key, pages, features, total_or_None)``.

    Raises
    ------
    FetchError
        When a service cannot be reached, refuses or sends a bad page; nothing
        is written to ``out_dir`` then.
    InputError
        For an unknown area or layer.
    """
    endpoints = endpoints or load_endpoints()
    keys = expand_layers(layers, endpoints)
    out_dir = Path(out_dir)
    cache = _Cache(Path(cache_dir).expanduser() if cache_dir else DEFAULT_CACHE_DIR)
    own_client = client is None
    client = client or HttpClient(http)
    lookup = _lookup()
    warnings: list[str] = []
    try:
        area = _resolve(
            area_text, endpoints, cache, client, refresh=refresh, lookup=lookup, progress=progress
        )
        staged: dict[str, tuple[gpd.GeoDataFrame | None, Path | None, dict[str, Any], bool]] = {}
        for key in keys:
            endpoint = endpoints.endpoints[key]
            staged[key] = _fetch_one(
                endpoint, area, cache, client, refresh=refresh, lookup=lookup, progress=progress
            )
        outcome = _publish(staged, endpoints, area, out_dir, requests_made=client.requests)
    finally:
        if own_client:
            client.close()
    for key, result in outcome.layers.items():
        warnings.extend(f"{key}: {w}" for w in result.record.get("waarschuwingen", []))
    outcome.warnings = warnings
    return outcome


def _resolve(
    area_text: str,
    endpoints: EndpointSet,
    cache: _Cache,
    client: HttpClient,
    *,
    refresh: bool,
    lookup: Mapping[str, Mapping[str, Any]],
    progress: ProgressFn,
) -> Area:
    if _parse_bbox(area_text) is not None:
        return resolve_area(area_text, lookup=lookup)
    _area_codes(area_text, lookup)  # fail on an unknown name before any download
    if "gemeenten" not in endpoints.endpoints:
        raise ConfigError(
            f"Het endpoint-bestand '{endpoints.source}' mist [bronnen.gemeenten]; die is nodig om"
            f" '{area_text}' te bepalen."
        )
    endpoint = endpoints.endpoints["gemeenten"]
    key = _cache_key(
        endpoint, "limburg_bbox:" + ",".join(f"{v:.2f}" for v in endpoints.limburg_bbox)
    )
    hit = None if refresh else cache.get(key)
    if hit is not None:
        path, record = hit
        frame = pyogrio.read_dataframe(path)
        raw = RawLayer(
            frame=frame,
            urls=record["urls"],
            params=record["parameters"],
            pages=record["paginas"],
            retrieved=record["opgehaald"],
        )
        from_cache = True
        log.info("gemeentegrenzen voor het gebied uit de cache (%s)", record["opgehaald"])
    else:
        raw = _CLIENTS[endpoint.kind](
            client,
            endpoint,
            endpoints.limburg_bbox,
            progress=progress,
            cache_hint=cache.hint(endpoint),
        )
        frame, _ = _select_fields(raw.frame, endpoint)
        if "code" not in frame.columns:
            raise FetchError(
                f"De bron 'gemeenten' ({endpoint.url}) levert geen veld dat als 'code' is"
                f" ingesteld; controleer 'velden' in '{endpoints.source}'."
            )
        frame["code"] = frame["code"].map(_gm_code)
        frame = frame[
            frame.geometry.notna() & frame.geom_type.isin(_GEOMETRIES["vlak"])
        ].reset_index(drop=True)
        record = {
            "bron": endpoint.key,
            "url": endpoint.url,
            "gebied": "limburg_bbox",
            "urls": raw.urls,
            "parameters": raw.params,
            "paginas": raw.pages,
            "opgehaald": raw.retrieved,
        }
        cache.put(key, frame, endpoint, record)
        raw = RawLayer(
            frame=frame, urls=raw.urls, params=raw.params, pages=raw.pages, retrieved=raw.retrieved
        )
        from_cache = False
    area = resolve_area(area_text, gemeenten=raw.frame, lookup=lookup)
    area.gemeenten_raw = (raw, from_cache)
    return area


def _fetch_one(
    endpoint: Endpoint,
    area: Area,
    cache: _Cache,
    client: HttpClient,
    *,
    refresh: bool,
    lookup: Mapping[str, Mapping[str, Any]],
    progress: ProgressFn,
) -> tuple[gpd.GeoDataFrame | None, Path | None, dict[str, Any], bool]:
    key = _cache_key(endpoint, area.key)
    hit = None if refresh else cache.get(key)
    if hit is not None:
        path, record = hit
        log.info(
            "%s uit de cache (opgehaald %s, %d objecten)",
            endpoint.key,
            record["opgehaald"],
            record["objecten"],
        )
        progress(endpoint.key, record["paginas"], record["objecten"], record["objecten"])
        return None, path, record, True
    if endpoint.key == "gemeenten" and area.gemeenten_raw is not None:
        raw, _ = area.gemeenten_raw
        raw = RawLayer(
            frame=raw.frame.rename(columns={v: k for k, v in endpoint.fields.items()}),
            urls=raw.urls,
            params=raw.params,
            pages=raw.pages,
            retrieved=raw.retrieved,
        )
        progress(endpoint.key, raw.pages, len(raw.frame), len(raw.frame))
    else:
        raw = _CLIENTS[endpoint.kind](
            client, endpoint, area.bbox, progress=progress, cache_hint=cache.hint(endpoint)
        )
    frame, warnings = _prepare(raw, endpoint, area, lookup)
    log.info(
        "%s: %d objecten na bijsnijden tot het gebied (%s)", endpoint.key, len(frame), endpoint.clip
    )
    record = {
        "bron": endpoint.key,
        "omschrijving": endpoint.description,
        "aanbieder": endpoint.provider,
        "soort": endpoint.kind,
        "url": endpoint.url,
        "urls": raw.urls,
        "parameters": raw.params,
        "query": endpoint.query(),
        "gebied": area.key,
        "opgehaald": raw.retrieved,
        "paginas": raw.pages,
        "objecten_bron": len(raw.frame),
        "objecten": len(frame),
        "endpoint_versie": endpoint.version,
        "endpoint_gecontroleerd": endpoint.checked,
        "waarschuwingen": warnings,
    }
    path = cache.put(key, frame, endpoint, record)
    record = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    return frame, path, record, False


def _publish(
    staged: Mapping[str, tuple[gpd.GeoDataFrame | None, Path | None, dict[str, Any], bool]],
    endpoints: EndpointSet,
    area: Area,
    out_dir: Path,
    *,
    requests_made: int,
) -> FetchOutcome:
    """Write every layer, then the manifest and config; all into a staging folder first."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".ophalen-", dir=out_dir))
    try:
        results: dict[str, LayerResult] = {}
        columns: dict[str, list[str]] = {}
        for key, (_frame, cached_path, record, from_cache) in staged.items():
            endpoint = endpoints.endpoints[key]
            target = stage / endpoint.filename
            shutil.copyfile(cached_path, target)  # the cache file is the processed layer
            info = pyogrio.read_info(target)
            columns[key] = [str(c) for c in info["fields"]]
            entry = {
                "bestand": endpoint.filename,
                "laag_in_bestand": endpoint.key,
                "crs": "EPSG:28992",
                "sha256": _sha256(target),
                "uit_cache": from_cache,
                **{k: v for k, v in record.items() if k != "sha256"},
            }
            results[key] = LayerResult(
                key=key,
                path=out_dir / endpoint.filename,
                features=int(record["objecten"]),
                from_cache=from_cache,
                record=entry,
            )
        manifest = {
            "gemaakt": _now(),
            "programma": f"locatietoets {_tool_version()}",
            "gebied": area.record(),
            "endpoints": {
                "bestand": endpoints.source,
                "versie": endpoints.version,
                "gecontroleerd": endpoints.checked,
            },
            "verzoeken": requests_made,
            "lagen": {key: r.record for key, r in results.items()},
        }
        config_text = _config_toml(results, endpoints, area, columns)
        _write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", stage / "manifest.json"
        )
        _write_text(config_text, stage / "config.toml")
        _check_config(
            stage / "config.toml",
            has_sites=any(endpoints.endpoints[k].layer == "locaties" for k in results),
        )
        # every file is complete: move them in place (os.replace within one folder is atomic per
        # file)
        for key, result in results.items():
            os.replace(stage / endpoints.endpoints[key].filename, result.path)
        os.replace(stage / "config.toml", out_dir / "config.toml")
        os.replace(stage / "manifest.json", out_dir / "manifest.json")
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    log.info("%d lagen geschreven naar %s", len(results), out_dir)
    return FetchOutcome(
        out_dir=out_dir,
        layers=results,
        manifest=out_dir / "manifest.json",
        config=out_dir / "config.toml",
        requests=requests_made,
        warnings=[],
    )


def _tool_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("locatietoets")
    except metadata.PackageNotFoundError:
        return "0.1.0+bron"


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _config_toml(
    results: Mapping[str, LayerResult],
    endpoints: EndpointSet,
    area: Area,
    columns: Mapping[str, list[str]],
) -> str:
    lines = [
        "# Configuratie voor 'locatietoets score', gemaakt door 'locatietoets data ophalen'.",
        f"# Gebied: {area.text} ({area.kind}); opgehaald {_now()}; bronnen: zie manifest.json.",
        "# Paden zijn relatief aan deze map.",
        "",
    ]
    used: set[str] = set()
    tables: list[tuple[str, list[str]]] = []
    for key, result in results.items():
        endpoint = endpoints.endpoints[key]
        if endpoint.layer is None or endpoint.layer in used:
            continue
        used.add(endpoint.layer)
        body = [f"pad = {_toml_str(endpoint.filename)}"]
        for option, value in endpoint.config.items():
            if option.endswith("_veld") and value not in columns[key]:
                continue
            body.append(f"{option} = {_toml_str(value)}")
        tables.append((endpoint.layer, body))
    tables.sort(key=lambda t: list(LAYER_KEYS).index(t[0]))
    if "locaties" not in used:
        lines += [
            "# Kandidaatlocaties zijn niet opgehaald (haal 'bag' op, of vul uw eigen bestand in):",
            "# [lagen.locaties]",
            '# pad = "locaties.gpkg"',
            "",
        ]
    for name, body in tables:
        lines.append(f"[lagen.{name}]")
        lines += body
        lines.append("")
    return "\n".join(lines)


def _check_config(path: Path, *, has_sites: bool) -> None:
    """Validate the written config with the project's own parser."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    if not has_sites:  # the user still has to add sites; everything else must be valid
        data.setdefault("lagen", {})["locaties"] = {"pad": "locaties.gpkg"}
    parse_config(data, base_dir=path.parent, source=path)


# --------------------------------------------------------------------------- endpoint check


@dataclass(frozen=True)
class CheckResult:
    """Outcome of checking one endpoint.

    Attributes
    ----------
    key
        The source key.
    url
        The URL requested.
    status
        ``"OK"``, ``"verplaatst"`` or ``"fout"``.
    http_status
        The HTTP status, or ``None`` without an answer.
    detail
        Dutch explanation (new location, error, missing fields).
    """

    key: str
    url: str
    status: str
    http_status: int | None
    detail: str


def _check_request(
    endpoint: Endpoint,
) -> tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]:
    if endpoint.kind == "ogcapi":
        url = endpoint.url.rstrip("/") + f"/collections/{endpoint.collection}/items"
        return "GET", url, {"f": "json", "limit": 1}, None
    if endpoint.kind == "wfs":
        params = {
            "service": "WFS",
            "version": "2.0.0",
            "request": "GetFeature",
            "typeNames": endpoint.typename,
            "outputFormat": "application/json",
            "count": 1,
        }
        return "GET", endpoint.url, params, None
    return "POST", endpoint.url, None, {"data": "[out:json][timeout:25];node(1);out ids;"}


def check_endpoints(
    endpoints: EndpointSet, *, client: HttpClient | None = None, http: HttpSettings | None = None
) -> list[CheckResult]:
    """Check every endpoint with one cheap request (a ``limit=1``/``count=1`` query).

    A redirect (301, 302, 307, 308) or 404 counts as ``"verplaatst"`` (with the
    new location when the server gives one); any other failure, an unusable
    answer or missing fields as ``"fout"``.

    Parameters
    ----------
    endpoints
        The sources to check.
    client, http
        An HTTP client, or settings for a new one (one retry by default).
    """
    own = client is None
    client = client or HttpClient(http or HttpSettings(timeout_s=20.0, retries=1))
    results = []
    try:
        for endpoint in endpoints.endpoints.values():
            results.append(_check_one(client, endpoint))
    finally:
        if own:
            client.close()
    bad = sum(r.status != "OK" for r in results)
    log.info("%d endpoints gecontroleerd, %d niet in orde", len(results), bad)
    return results


def _check_one(client: HttpClient, endpoint: Endpoint) -> CheckResult:
    method, url, params, data = _check_request(endpoint)
    shown = _with_params(url, params)
    try:
        response = client.request(
            method,
            url,
            params=params,
            data=data,
            provider=endpoint.provider,
            allow_redirects=False,
            raise_for_status=False,
        )
    except FetchError as exc:  # no answer at all: timeout or no connection
        return CheckResult(endpoint.key, shown, "fout", None, str(exc))
    code = response.status_code
    if code == 404:
        location = response.headers.get("Location")
        where = (
            f" Nieuwe locatie: {urljoin(response.url, location)}."
            if location
            else " Zoek de nieuwe URL op pdok.nl."
        )
        return CheckResult(
            endpoint.key,
            shown,
            "verplaatst",
            404,
            f"niet gevonden (HTTP 404): de dienst of collectie is verplaatst of verwijderd.{where}",
        )
    if code >= 400:
        return CheckResult(
            endpoint.key,
            shown,
            "fout",
            code,
            f"HTTP {code} {response.reason}: {_body_excerpt(response)}",
        )
    if code in (301, 302, 303, 307, 308):
        location = response.headers.get("Location")
        where = (
            f"nieuwe locatie: {urljoin(response.url, location)}"
            if location
            else "geen nieuwe locatie opgegeven"
        )
        return CheckResult(
            endpoint.key,
            shown,
            "verplaatst",
            response.status_code,
            f"doorgestuurd (HTTP {response.status_code}); {where}.",
        )
    need = "elements" if endpoint.kind == "overpass" else "features"
    try:
        payload = _json_page(response, provider=endpoint.provider, page=1, need=need)
    except FetchError as exc:
        return CheckResult(endpoint.key, shown, "fout", response.status_code, str(exc))
    detail = f"{endpoint.kind}, versie {endpoint.version or '?'}"
    if endpoint.kind != "overpass" and payload["features"]:
        props = payload["features"][0].get("properties") or {}
        missing = [f for f in endpoint.fields if f not in props]
        if missing:
            return CheckResult(
                endpoint.key,
                shown,
                "fout",
                response.status_code,
                f"velden ontbreken in het antwoord: {', '.join(missing)}; aanwezig:"
                f" {', '.join(list(props)[:15])}.",
            )
    return CheckResult(endpoint.key, shown, "OK", response.status_code, detail)
