"""The sources of ``data ophalen``: the ``endpoints.toml`` format, its data model and reader.

:func:`load_endpoints` reads and validates the packaged ``endpoints.toml`` (or a
user's copy given with ``--endpoints``) into an :class:`EndpointSet` of
:class:`Endpoint` records. No network access here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
import tomllib
from typing import Any

from locatietoets.analysis.constraints import LAYER_NAME_PATTERN
from locatietoets.analysis.errors import ConfigError, did_you_mean
from locatietoets.layers.io.config import CONSTRAINTS, LAYER_GROUPS, LAYER_KEYS

_KINDS = ("ogcapi", "wfs", "overpass")
#: ``geometrie`` of an endpoint -> the geometry types that layer may hold.
GEOMETRIES = {
    "vlak": {"Polygon", "MultiPolygon"},
    "lijn": {"LineString", "MultiLineString"},
    "punt": {"Point", "MultiPoint"},
}
_CLIP_MODES = ("knippen", "overlap")
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
    "selectie",
    "afleiden",
    "documentatie",
    "opmerking",
}
#: Derived fields an endpoint may ask for (``afleiden``), see :mod:`.processing`:
#: ``nwb_wegtype`` (road type from the NWB baansubsoort), ``cbs_onbekend`` (CBS's negative
#: codes for hidden or unknown numbers become empty; a kern without inhabitants is left out),
#: ``huisarts`` (OSM doctors with a speciality other than general practice are left out).
DERIVATIONS = ("nwb_wegtype", "cbs_onbekend", "huisarts")


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
        The config layer this source feeds (``"locaties"``, a declared
        constraint ``"beperkingen.natura2000"`` or a facility kind
        ``"voorzieningen.supermarkt"``), or ``None``.
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
    select
        Source field -> the values to keep (``selectie``); other features are
        dropped before cutting (TOP10NL functional areas of one kind).
    derive
        Derived fields to add (``afleiden``), e.g. ``"nwb_wegtype"``.
    documentation
        The provider documentation the definition was checked against, with
        the date (``documentatie``); goes into the manifest.
    note
        A Dutch remark for the planner (``opmerking``), written above the
        layer in config.toml and into the manifest.
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
    select: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    derive: tuple[str, ...] = ()
    documentation: str = ""
    note: str = ""

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
        if self.select:
            out["selectie"] = {k: list(v) for k, v in self.select.items()}
        if self.derive:
            out["afleiden"] = list(self.derive)
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


def _constraint_layer(name: Any) -> bool:
    """Whether ``name`` is a declared constraint layer, ``beperkingen.<naam>``, or a member of a
    layer group such as a facility kind, ``voorzieningen.<soort>``."""
    if not isinstance(name, str) or "." not in name:
        return False
    group, _, member = name.partition(".")
    return (group == CONSTRAINTS or group in LAYER_GROUPS) and (
        LAYER_NAME_PATTERN.match(member) is not None
    )


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
        if geometry is not None and geometry not in GEOMETRIES:
            problems.append(
                f"{label} geometrie moet één van {', '.join(GEOMETRIES)} zijn, niet {geometry!r}."
            )
        clip = table.get("bijsnijden", "knippen")
        if clip not in _CLIP_MODES:
            problems.append(
                f"{label} bijsnijden moet één van {', '.join(_CLIP_MODES)} zijn, niet {clip!r}."
            )
        layer = table.get("laag")
        if layer is not None and layer not in LAYER_KEYS and not _constraint_layer(layer):
            problems.append(
                f"{label} laag '{layer}' is geen laag van de"
                f" configuratie.{did_you_mean(str(layer), LAYER_KEYS)} Een beperking heet"
                f" '{CONSTRAINTS}.<naam>' (kleine letters, cijfers en _), bv."
                f" '{CONSTRAINTS}.natura2000'; een voorziening 'voorzieningen.<soort>', bv."
                " 'voorzieningen.supermarkt'."
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
        select = table.get("selectie", {})
        if not isinstance(select, Mapping) or not all(
            isinstance(v, list) and all(isinstance(s, str) for s in v) for v in select.values()
        ):
            problems.append(f'{label} selectie moet een tabel bronveld = ["waarde", ...] zijn.')
            select = {}
        derive = table.get("afleiden", [])
        if not isinstance(derive, list) or any(d not in DERIVATIONS for d in derive):
            problems.append(
                f"{label} afleiden moet een lijst zijn met waarden uit {', '.join(DERIVATIONS)},"
                f" niet {derive!r}."
            )
            derive = []
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
            select={k: tuple(v) for k, v in select.items()},
            derive=tuple(derive),
            documentation=str(table.get("documentatie", "")),
            note=str(table.get("opmerking", "")),
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
