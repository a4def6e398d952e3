"""The ``config.toml`` a fetch writes: which fetched file feeds which config layer.

Every written layer whose endpoint names a config layer (``laag``) becomes a
``[lagen.NAAM]`` table with ``pad`` and the endpoint's ``config`` keys (a
``*_veld`` key only when that field exists in the written file). When two
fetched sources feed the same layer, the one listed first in the endpoints
file wins and the other is named in a comment. Layers the planner must still
supply (:mod:`.supply`) are listed in the header, each with a commented table
to fill in. The tables go to the one config writer
(:func:`locatietoets.layers.io.config_writer.write_config`); the result is
checked with the project's own config parser before it is moved in place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
import tomllib
from typing import Any

from locatietoets.layers.fetch.area import Area
from locatietoets.layers.fetch.endpoints import EndpointSet
from locatietoets.layers.fetch.supply import ToSupply
from locatietoets.layers.io.config import parse_config

__all__ = ["config_tables", "check_config"]


def config_tables(
    written: Mapping[str, list[str]],
    endpoints: EndpointSet,
    area: Area,
    missing: Sequence[ToSupply],
    *,
    when: str,
    counts: Mapping[str, int] | None = None,
) -> tuple[dict[str, dict[str, Any]], list[str], dict[str, list[str]]]:
    """Return the config's layers, header lines and per-layer comments.

    Parameters
    ----------
    written
        Per fetched endpoint key, the fields of the file written for it.
    endpoints
        The sources (their order decides which source feeds a shared layer).
    area
        The fetched area (named in the header).
    missing
        The layers the planner must still supply.
    when
        Time of the fetch (UTC, ISO 8601) for the header.
    counts
        Per fetched endpoint key, the number of features written. A facility kind or the
        kernen with no feature in the area stay out of the config (an empty facility layer
        cannot be tested; the scoring would stop on it), named in the header instead.

    Returns
    -------
    lagen, kop, toelichting
        ``{layer: {key: value}}`` with ``pad`` relative to the output folder;
        header comment lines; comment lines per layer.
    """
    lagen: dict[str, dict[str, Any]] = {}
    toelichting: dict[str, list[str]] = {}
    empty: list[str] = []
    for key, endpoint in endpoints.endpoints.items():
        if key not in written or endpoint.layer is None:
            continue
        if (
            counts is not None
            and counts.get(key, 1) == 0
            and (endpoint.layer == "kernen" or endpoint.layer.startswith("voorzieningen."))
        ):
            empty.append(
                f"- {endpoint.layer}: {endpoint.filename} bevat geen objecten in het gebied;"
                " de laag staat daarom niet in deze config (zonder die laag wordt de regel als"
                " 'niet getoetst' gemeld)."
            )
            continue
        if endpoint.layer in lagen:
            toelichting[endpoint.layer].append(
                f"Ook opgehaald voor deze laag: {endpoint.filename} ({endpoint.description});"
                " zet dat bestand bij 'pad' om het te gebruiken."
            )
            continue
        table: dict[str, Any] = {"pad": endpoint.filename}
        for option, value in endpoint.config.items():
            if option.endswith("_veld") and value not in written[key]:
                continue
            table[option] = value
        lagen[endpoint.layer] = table
        notes = [f"Bron: {endpoint.description} ({endpoint.provider}); zie manifest.json."]
        if endpoint.note:
            notes.append(endpoint.note)
        toelichting[endpoint.layer] = notes
    kop = [
        "Configuratie voor 'locatietoets score', gemaakt door 'locatietoets data ophalen'.",
        f"Gebied: {area.text} ({area.kind}); opgehaald {when}; bronnen: zie manifest.json.",
    ]
    if "locaties" not in lagen:
        kop += [
            "",
            "Kandidaatlocaties zijn niet opgehaald (haal 'bag' op, of vul uw eigen bestand in):",
            "[lagen.locaties]",
            'pad = "locaties.gpkg"',
        ]
    if empty:
        kop += ["", "Opgehaald maar leeg:", *empty]
    if missing:
        kop += ["", "Nog zelf aan te leveren (niet open op te halen; zie README):"]
        for item in missing:
            kop.append(f"- {item.layer}: {item.what}. Bron: {item.where}")
        for item in missing:
            if item.layer not in lagen:
                kop += [f"[lagen.{item.layer}]", f'pad = "{item.layer}.gpkg"']
        kop.append("")  # the writer's note on relative paths follows
    return lagen, kop, toelichting


def check_config(path: Path, *, has_sites: bool) -> None:
    """Validate the written config with the project's own parser."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    if not has_sites:  # the user still has to add sites; everything else must be valid
        data.setdefault("lagen", {})["locaties"] = {"pad": "locaties.gpkg"}
    parse_config(data, base_dir=path.parent, source=path)
