"""One retrying HTTP session for every download, with Dutch errors.

:class:`HttpClient` retries network faults with exponential backoff (timeouts,
connection errors, HTTP 5xx and 429, honouring ``Retry-After``); other 4xx
answers raise :class:`FetchError` at once. :func:`json_page` turns a response
into a JSON page or a Dutch error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
import datetime as dt
import email.utils
import logging
import re
import time
from typing import Any
from urllib.parse import urlparse

import requests

from locatietoets.analysis.errors import InputError
from locatietoets.analysis.texts import nl_value
from locatietoets.analysis.vocabulary import nl_number

log = logging.getLogger(__name__)


class FetchError(InputError):
    """A service could not be reached, refused a request or sent an unusable page."""

    title = "Fout bij ophalen"


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
                    "%s: %s, poging %s van %s opnieuw over %s s",
                    urlparse(url).netloc,
                    reason,
                    nl_number(attempt + 2),
                    nl_number(attempts),
                    nl_number(wait, 1),
                )
                self.sleep(wait)
        full_url = response.url if response is not None else with_params(url, params)
        if last is not None:
            if last.kind == "timeout":
                raise FetchError(
                    f"{provider} antwoordt niet binnen {nl_value(self.settings.timeout_s)} s"
                    f" ({attempts}"
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
                f" {body_excerpt(response)} URL: {full_url}. Controleer de endpoint-configuratie"
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


def body_excerpt(response: requests.Response) -> str:
    """The server's explanation of an error: the ``detail`` of an RFC 7807 problem
    (PDOK's OGC APIs), else the start of the body."""
    if "json" in response.headers.get("Content-Type", ""):
        try:
            problem = response.json()
        except ValueError:
            problem = None
        if isinstance(problem, Mapping) and problem.get("detail"):
            return f"'{str(problem['detail'])[:300]}'."
    text = re.sub(r"\s+", " ", response.text or "").strip()
    return f"'{text[:300]}'." if text else "(leeg antwoord)."


def with_params(url: str, params: Mapping[str, Any] | None) -> str:
    if not params:
        return url
    return str(requests.Request("GET", url, params=params).prepare().url)


def json_page(
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
