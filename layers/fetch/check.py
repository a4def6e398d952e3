"""``data controle``: check every endpoint's schema with a few cheap requests.

Per source, what is checked is recorded in :attr:`CheckResult.checked` (Dutch
lines, printed per layer):

- OGC API: the collection's metadata (``/collections/{id}``) exists and offers
  RD New (EPSG:28992) as an output CRS; one feature (``limit=1``, ``crs`` as a
  full URI) carries every configured field and the ``selectie`` field, and the
  answer names its CRS in ``Content-Crs``;
- WFS: one feature (``count=1``) carries every configured field; the number of
  features is compared with PDOK's ``startIndex`` cap of 50,000;
- Overpass: the interpreter answers a trivial query (the tags are not checked:
  OpenStreetMap has no schema).

A redirect (301, 302, 307, 308) or 404 counts as ``"verplaatst"`` (with the new
location when the server gives one); any other failure, an unusable answer or
a missing field as ``"fout"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import logging
from typing import Any
from urllib.parse import urljoin

import requests

from locatietoets.analysis.vocabulary import nl_number
from locatietoets.layers.fetch.clients import RD_URI, WFS_MAX_START_INDEX
from locatietoets.layers.fetch.endpoints import Endpoint, EndpointSet
from locatietoets.layers.fetch.http_client import (
    FetchError,
    HttpClient,
    HttpSettings,
    body_excerpt,
    json_page,
    with_params,
)

log = logging.getLogger(__name__)

__all__ = ["CheckResult", "check_endpoints"]


@dataclass(frozen=True)
class CheckResult:
    """Outcome of checking one endpoint.

    Attributes
    ----------
    key
        The source key.
    url
        The last URL requested.
    status
        ``"OK"``, ``"verplaatst"`` or ``"fout"``.
    http_status
        The HTTP status, or ``None`` without an answer.
    detail
        Dutch explanation (new location, error, missing fields).
    checked
        Dutch lines saying what was checked and found, in order.
    """

    key: str
    url: str
    status: str
    http_status: int | None
    detail: str
    checked: tuple[str, ...] = field(default=())


class _Stop(Exception):
    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.detail)
        self.result = result


def check_endpoints(
    endpoints: EndpointSet, *, client: HttpClient | None = None, http: HttpSettings | None = None
) -> list[CheckResult]:
    """Check every endpoint's schema with one to two small requests.

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
            checked: list[str] = []
            try:
                results.append(_check_one(client, endpoint, checked))
            except _Stop as stop:
                results.append(stop.result)
    finally:
        if own:
            client.close()
    bad = sum(r.status != "OK" for r in results)
    log.info("%s bronnen gecontroleerd, %s niet in orde", nl_number(len(results)), nl_number(bad))
    return results


def _get(
    client: HttpClient,
    endpoint: Endpoint,
    method: str,
    url: str,
    params: dict[str, Any] | None,
    data: dict[str, Any] | None,
    checked: list[str],
) -> tuple[requests.Response, str]:
    """One request; a redirect, 404, other HTTP error or no answer stops the check."""
    shown = with_params(url, params)
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
        raise _Stop(CheckResult(endpoint.key, shown, "fout", None, str(exc), tuple(checked)))
    code = response.status_code
    if code == 404:
        location = response.headers.get("Location")
        where = (
            f" Nieuwe locatie: {urljoin(response.url, location)}."
            if location
            else " Zoek de nieuwe URL op pdok.nl."
        )
        detail = (
            f"niet gevonden (HTTP 404): de dienst of collectie is verplaatst of verwijderd.{where}"
        )
        raise _Stop(CheckResult(endpoint.key, shown, "verplaatst", 404, detail, tuple(checked)))
    if code >= 400:
        detail = f"HTTP {code} {response.reason}: {body_excerpt(response)}"
        raise _Stop(CheckResult(endpoint.key, shown, "fout", code, detail, tuple(checked)))
    if code in (301, 302, 303, 307, 308):
        location = response.headers.get("Location")
        where = (
            f"nieuwe locatie: {urljoin(response.url, location)}"
            if location
            else "geen nieuwe locatie opgegeven"
        )
        detail = f"doorgestuurd (HTTP {code}); {where}."
        raise _Stop(CheckResult(endpoint.key, shown, "verplaatst", code, detail, tuple(checked)))
    return response, shown


def _payload(
    response: requests.Response, endpoint: Endpoint, shown: str, need: str, checked: list[str]
) -> dict[str, Any]:
    try:
        return json_page(response, provider=endpoint.provider, page=1, need=need)
    except FetchError as exc:
        raise _Stop(
            CheckResult(endpoint.key, shown, "fout", response.status_code, str(exc), tuple(checked))
        ) from None


def _fields(
    payload: dict[str, Any], endpoint: Endpoint, shown: str, code: int, checked: list[str]
) -> None:
    if not payload["features"]:
        checked.append("geen object in het antwoord: velden niet te controleren")
        return
    props = payload["features"][0].get("properties") or {}
    wanted = list(endpoint.fields) + [f for f in endpoint.select if f not in endpoint.fields]
    missing = [f for f in wanted if f not in props]
    if missing:
        detail = (
            f"velden ontbreken in het antwoord: {', '.join(missing)}; aanwezig:"
            f" {', '.join(list(props)[:15])}."
        )
        raise _Stop(CheckResult(endpoint.key, shown, "fout", code, detail, tuple(checked)))
    checked.append(f"velden aanwezig: {', '.join(wanted)}")


def _check_one(client: HttpClient, endpoint: Endpoint, checked: list[str]) -> CheckResult:
    base = endpoint.url.rstrip("/")
    if endpoint.kind == "ogcapi":
        meta_url = f"{base}/collections/{endpoint.collection}"
        response, shown = _get(client, endpoint, "GET", meta_url, {"f": "json"}, None, checked)
        try:
            meta = response.json()
        except ValueError:
            meta = {}
        checked.append(f"collectie '{endpoint.collection}' bestaat")
        crs_list = meta.get("crs") if isinstance(meta, dict) else None
        if isinstance(crs_list, list):
            if RD_URI not in crs_list:
                detail = (
                    f"de collectie biedt RD New ({RD_URI}) niet aan; wel: {', '.join(crs_list)}."
                )
                raise _Stop(CheckResult(endpoint.key, shown, "fout", 200, detail, tuple(checked)))
            checked.append("RD New (EPSG:28992) aangeboden")
        params = {"f": "json", "limit": 1, "crs": RD_URI}
        response, shown = _get(
            client,
            endpoint,
            "GET",
            f"{base}/collections/{endpoint.collection}/items",
            params,
            None,
            checked,
        )
        payload = _payload(response, endpoint, shown, "features", checked)
        _fields(payload, endpoint, shown, response.status_code, checked)
        content_crs = response.headers.get("Content-Crs", "").strip("<> ")
        if content_crs == RD_URI:
            content_crs = "EPSG:28992"
        checked.append(
            f"Content-Crs {content_crs}" if content_crs else "geen Content-Crs (dan geldt CRS84)"
        )
    elif endpoint.kind == "wfs":
        params = {
            "service": "WFS",
            "version": "2.0.0",
            "request": "GetFeature",
            "typeNames": endpoint.typename,
            "outputFormat": "application/json",
            "count": 1,
        }
        response, shown = _get(client, endpoint, "GET", base, params, None, checked)
        payload = _payload(response, endpoint, shown, "features", checked)
        checked.append(f"featuretype '{endpoint.typename}' bestaat")
        _fields(payload, endpoint, shown, response.status_code, checked)
        matched = payload.get("numberMatched")
        if isinstance(matched, int):
            note = (
                f" (meer dan {nl_number(WFS_MAX_START_INDEX)}: de WFS kan dat niet in één vraag"
                " leveren, gebruik de OGC API)"
                if matched > WFS_MAX_START_INDEX
                else ""
            )
            checked.append(f"{nl_number(matched)} objecten in de dienst{note}")
    else:
        query = {"data": "[out:json][timeout:25];node(1);out ids;"}
        response, shown = _get(client, endpoint, "POST", base, None, query, checked)
        _payload(response, endpoint, shown, "elements", checked)
        checked.append("Overpass antwoordt; tags zijn niet vooraf te controleren")
    detail = f"{endpoint.kind}, versie {endpoint.version or '?'}"
    return CheckResult(endpoint.key, shown, "OK", response.status_code, detail, tuple(checked))
