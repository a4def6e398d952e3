"""Fetching public reference layers (PDOK, OpenStreetMap) for an area: ``locatietoets data``.

The modules, in the order a download passes through them:

- :mod:`.endpoints`: the sources, read from ``endpoints.toml`` in this package
  (or a user's copy), see :func:`load_endpoints`;
- :mod:`.http_client`: one retrying HTTP session (:class:`HttpClient`) with
  Dutch errors (:class:`FetchError`);
- :mod:`.clients`: the OGC API Features, WFS 2.0 and Overpass clients;
- :mod:`.area`: ``--gebied`` (gemeente, region, ``limburg``, bbox) as a polygon;
- :mod:`.processing`: select features, keep and rename fields, derive fields,
  cut to the area; :mod:`.roads`: NWB baansubsoort to the network's road types;
- :mod:`.cache`: the download cache and atomic file writes;
- :mod:`.run`: :func:`fetch_data`, one job end to end (GeoPackages, manifest,
  config), staged so that a failed run writes nothing; :mod:`.config_out`: the
  config.toml it writes; :mod:`.supply`: the layers a planner must still supply;
- :mod:`.check`: :func:`check_endpoints` for ``data controle`` (the schema of
  every endpoint, and what was checked).

The public names are re-exported here.
"""

from __future__ import annotations

from locatietoets.layers.fetch.area import Area, resolve_area
from locatietoets.layers.fetch.cache import DEFAULT_CACHE_DIR, LayerCache
from locatietoets.layers.fetch.check import CheckResult, check_endpoints
from locatietoets.layers.fetch.clients import (
    RawLayer,
    fetch_ogcapi,
    fetch_overpass,
    fetch_wfs,
    overpass_query,
)
from locatietoets.layers.fetch.endpoints import Endpoint, EndpointSet, load_endpoints
from locatietoets.layers.fetch.http_client import FetchError, HttpClient, HttpSettings
from locatietoets.layers.fetch.run import (
    DEFAULT_LAYERS,
    LAYER_ALIASES,
    FetchOutcome,
    LayerResult,
    expand_layers,
    fetch_data,
)

__all__ = [
    "FetchError",
    "Endpoint",
    "EndpointSet",
    "HttpSettings",
    "HttpClient",
    "Area",
    "RawLayer",
    "LayerCache",
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
