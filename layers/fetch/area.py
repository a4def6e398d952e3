"""The area of a fetch: ``--gebied`` (gemeente, region, ``limburg`` or a bbox) as a polygon."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import logging
import re
from typing import Any
import unicodedata

import geopandas as gpd
import shapely
from shapely.geometry import box

from locatietoets.analysis.errors import InputError, did_you_mean
from locatietoets.analysis.vocabulary import nl_number
from locatietoets.layers.fetch.clients import RawLayer

log = logging.getLogger(__name__)

#: The three regions of Limburg (the rule set's gemeente table names each gemeente's region).
REGIONS = ("Noord-Limburg", "Midden-Limburg", "Zuid-Limburg")


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


def gm_code(value: Any) -> str | None:
    digits = re.sub(r"\D", "", str(value or ""))
    return f"GM{int(digits):04d}" if digits else None


def parse_bbox(text: str) -> tuple[float, float, float, float] | None:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4:
        return None
    try:
        values = [float(p) for p in parts]
    except ValueError:
        return None
    return values[0], values[1], values[2], values[3]


def gemeenten_lookup() -> dict[str, Mapping[str, Any]]:
    from locatietoets.layers.io.rules import read_ruleset_file

    return dict(read_ruleset_file().gemeenten)


def area_codes(
    text: str, lookup: Mapping[str, Mapping[str, Any]]
) -> tuple[str, str, tuple[str, ...]]:
    folded = _fold(text)
    if folded == "limburg":
        return "limburg", "limburg", tuple(sorted(lookup))
    for region in REGIONS:
        if folded in (_fold(region), _fold(region.split("-")[0])):
            codes = tuple(sorted(c for c, v in lookup.items() if v.get("regio") == region))
            return "regio", f"regio:{region}", codes
    code = (
        gm_code(text) if re.fullmatch(r"\s*(GM)?\s*\d{1,4}\s*", text, flags=re.IGNORECASE) else None
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
        f"Gebied '{text}' is onbekend.{did_you_mean(text, names + list(REGIONS))} Geef een"
        " Limburgse gemeente (naam of CBS-code, bv. Venlo of GM0983), een regio"
        f" ({', '.join(REGIONS)}), 'limburg', of een rechthoek in RD New als 'xmin,ymin,xmax,ymax'"
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
    bbox = parse_bbox(text)
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
    lookup = gemeenten_lookup() if lookup is None else lookup
    kind, key, codes = area_codes(text, lookup)
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
    log.info(
        "gebied %s: %s gemeente(n), %s km²",
        text,
        nl_number(len(found)),
        nl_number(polygon.area / 1e6, 1),
    )
    return Area(text=text, kind=kind, key=key, polygon=polygon, codes=codes)
