"""``data controle``: check every endpoint with one cheap request."""

from __future__ import annotations

from dataclasses import dataclass
import logging
from typing import Any
from urllib.parse import urljoin

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
            f"HTTP {code} {response.reason}: {body_excerpt(response)}",
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
        payload = json_page(response, provider=endpoint.provider, page=1, need=need)
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
