"""One fetch job end to end: :func:`fetch_data`.

Resolves the area, fetches each layer (or takes it from the cache), and writes
one GeoPackage per layer, ``manifest.json`` and ``config.toml`` for
``locatietoets score``. All output is staged and moved in place only when
every layer succeeded, so a failed run never leaves a half-written layer or
manifest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
import json
import logging
import os
from pathlib import Path
import shutil
import tempfile
from typing import Any

import geopandas as gpd
import pyogrio

from locatietoets.analysis.errors import ConfigError, InputError, did_you_mean
from locatietoets.analysis.vocabulary import nl_number
from locatietoets.layers.fetch.area import (
    Area,
    area_codes,
    gemeenten_lookup,
    gm_code,
    parse_bbox,
    resolve_area,
)
from locatietoets.layers.fetch.cache import (
    DEFAULT_CACHE_DIR,
    LayerCache,
    cache_key,
    sha256_file,
    write_text_atomic,
)
from locatietoets.layers.fetch.clients import CLIENTS, ProgressFn, RawLayer, no_progress, now_utc
from locatietoets.layers.fetch.config_out import check_config, config_tables
from locatietoets.layers.fetch.endpoints import GEOMETRIES, Endpoint, EndpointSet, load_endpoints
from locatietoets.layers.fetch.http_client import FetchError, HttpClient, HttpSettings
from locatietoets.layers.fetch.processing import prepare_layer, select_fields
from locatietoets.layers.fetch.supply import ToSupply, to_supply
from locatietoets.layers.io.config_writer import write_config

log = logging.getLogger(__name__)

#: Layers fetched when ``--lagen`` is not given.
DEFAULT_LAYERS = (
    "gemeenten",
    "wijken",
    "bag",
    "wegen",
    "natura2000",
    "parken",
    "werkgevers",
    "bedrijventerreinen",
    "bebouwde_kom",
    "kernen",
    "voorzieningen",
)
#: Short names on the command line for one or more endpoint keys.
LAYER_ALIASES: dict[str, tuple[str, ...]] = {
    "bag": ("verblijfsobjecten",),
    "nwb": ("wegen",),
    "parken": ("recreatieparken_top10nl", "recreatieparken"),
    "kom": ("bebouwde_kom",),
    "voorzieningen": ("ov_haltes", "supermarkten", "huisartsen"),
}


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
    to_supply
        The config layers the planner must still supply, and where to get them.
    """

    out_dir: Path
    layers: dict[str, LayerResult]
    manifest: Path
    config: Path
    requests: int
    warnings: list[str]
    to_supply: list[ToSupply] = field(default_factory=list)


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
    progress: ProgressFn = no_progress,
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
    cache = LayerCache(Path(cache_dir).expanduser() if cache_dir else DEFAULT_CACHE_DIR)
    own_client = client is None
    client = client or HttpClient(http)
    lookup = gemeenten_lookup()
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
    cache: LayerCache,
    client: HttpClient,
    *,
    refresh: bool,
    lookup: Mapping[str, Mapping[str, Any]],
    progress: ProgressFn,
) -> Area:
    if parse_bbox(area_text) is not None:
        return resolve_area(area_text, lookup=lookup)
    area_codes(area_text, lookup)  # fail on an unknown name before any download
    if "gemeenten" not in endpoints.endpoints:
        raise ConfigError(
            f"Het endpoint-bestand '{endpoints.source}' mist [bronnen.gemeenten]; die is nodig om"
            f" '{area_text}' te bepalen."
        )
    endpoint = endpoints.endpoints["gemeenten"]
    key = cache_key(
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
        raw = CLIENTS[endpoint.kind](
            client,
            endpoint,
            endpoints.limburg_bbox,
            progress=progress,
            cache_hint=cache.hint(endpoint),
        )
        frame, _ = select_fields(raw.frame, endpoint)
        if "code" not in frame.columns:
            raise FetchError(
                f"De bron 'gemeenten' ({endpoint.url}) levert geen veld dat als 'code' is"
                f" ingesteld; controleer 'velden' in '{endpoints.source}'."
            )
        frame["code"] = frame["code"].map(gm_code)
        frame = frame[
            frame.geometry.notna() & frame.geom_type.isin(GEOMETRIES["vlak"])
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
    cache: LayerCache,
    client: HttpClient,
    *,
    refresh: bool,
    lookup: Mapping[str, Mapping[str, Any]],
    progress: ProgressFn,
) -> tuple[gpd.GeoDataFrame | None, Path | None, dict[str, Any], bool]:
    key = cache_key(endpoint, area.key)
    hit = None if refresh else cache.get(key)
    if hit is not None:
        path, record = hit
        log.info(
            "%s uit de cache (opgehaald %s, %s objecten)",
            endpoint.key,
            record["opgehaald"],
            nl_number(record["objecten"]),
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
        raw = CLIENTS[endpoint.kind](
            client, endpoint, area.bbox, progress=progress, cache_hint=cache.hint(endpoint)
        )
    frame, warnings = prepare_layer(raw, endpoint, area, lookup)
    log.info(
        "%s: %s objecten na bijsnijden tot het gebied (%s)",
        endpoint.key,
        nl_number(len(frame)),
        endpoint.clip,
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
        counts: dict[str, int] = {}
        for key, (_frame, cached_path, record, from_cache) in staged.items():
            endpoint = endpoints.endpoints[key]
            target = stage / endpoint.filename
            shutil.copyfile(cached_path, target)  # the cache file is the processed layer
            info = pyogrio.read_info(target)
            columns[key] = [str(c) for c in info["fields"]]
            counts[key] = int(info["features"])
            entry = {
                "bestand": endpoint.filename,
                "laag_in_bestand": endpoint.key,
                "config_laag": endpoint.layer,
                "crs": "EPSG:28992",
                "sha256": sha256_file(target),
                "uit_cache": from_cache,
                **{k: v for k, v in record.items() if k != "sha256"},
                "documentatie": endpoint.documentation,
                "opmerking": endpoint.note,
            }
            results[key] = LayerResult(
                key=key,
                path=out_dir / endpoint.filename,
                features=int(record["objecten"]),
                from_cache=from_cache,
                record=entry,
            )
        manifest = {
            "gemaakt": now_utc(),
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
        fetched_layers = {endpoints.endpoints[k].layer for k in results} - {None}
        missing = to_supply(fetched_layers)  # type: ignore[arg-type]
        manifest["nog_aan_te_leveren"] = [item.record() for item in missing]
        lagen, kop, toelichting = config_tables(
            columns, endpoints, area, missing, when=manifest["gemaakt"], counts=counts
        )
        write_text_atomic(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", stage / "manifest.json"
        )
        write_config(stage / "config.toml", lagen, kop=kop, toelichting=toelichting)
        check_config(
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
    log.info("%s lagen geschreven naar %s", nl_number(len(results)), out_dir)
    return FetchOutcome(
        out_dir=out_dir,
        layers=results,
        manifest=out_dir / "manifest.json",
        config=out_dir / "config.toml",
        requests=requests_made,
        warnings=[],
        to_supply=missing,
    )


def _tool_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("locatietoets")
    except metadata.PackageNotFoundError:
        return "0.1.0+bron"
