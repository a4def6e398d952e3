"""What the woonvisie maps say: key figures, the credits line, run date, file names, the font."""

from __future__ import annotations

from datetime import datetime
import os
import re
from typing import Any
import unicodedata

from qgis.core import QgsVectorLayer
from qgis.PyQt.QtGui import QFont, QFontDatabase

from ..vocabulary import DEMO_SOURCE, OWN_SOURCE, SOURCES, nl_number

__all__ = [
    "DEMO_MARK",
    "attribution_text",
    "font_family",
    "is_demo",
    "key_figures_text",
    "run_date",
    "slugify",
]

#: The mark the demo generator puts in the sites' ``bron``: such maps are labelled fictitious.
DEMO_MARK = "FICTIEF DEMOGEBIED"


def slugify(text: str) -> str:
    """A file-name-safe lower-case slug (``Sittard-Geleen`` → ``sittard-geleen``), as the CLI maps
    use."""
    norm = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", norm.lower()).strip("-")
    return slug or "onbekend"


def attribution_text(
    record: dict[str, Any],
    layer_sources: list[str],
    *,
    demo: bool = False,
    version: str | None = None,
) -> str:
    """The "Bron: …" line: known sources from run.json's inputs and the given layers, else "eigen
    invoer"."""
    credits: list[str] = []
    if demo:
        credits.append(DEMO_SOURCE)
    else:
        texts = [
            f"{(info or {}).get('pad') or ''} {(info or {}).get('laag') or ''}"
            for info in (record.get("invoer") or {}).values()
        ]
        texts += layer_sources
        for text in texts:
            text = text.lower().replace("\\", "/")
            name = os.path.basename(text.split("|")[0].strip())
            for pattern, credit in SOURCES:
                if re.search(pattern, text) or re.search(pattern, name):
                    credits.append(credit)
                    break
            else:
                credits.append(OWN_SOURCE)
        known = [c for _, c in SOURCES]
        credits = sorted(set(credits), key=lambda c: known.index(c) if c in known else len(known))
    version = version or str((record.get("locatietoets") or {}).get("versie") or "")
    credits.append(f"Locatietoets {version}".strip())
    return "Bron: " + ", ".join(credits)


def key_figures_text(c: dict[str, Any], has_capacity: bool) -> str:
    """The key figures of one map's area (overview: all sites)."""
    lines = [
        f"Locaties in dit gebied: {nl_number(c['totaal'])}",
        f"   geschikt: {nl_number(c['geschikt'])}",
        f"   voorwaardelijk: {nl_number(c['voorwaardelijk'])}",
        f"   ongeschikt: {nl_number(c['ongeschikt'])}",
    ]
    unjudged = (
        c["totaal"] - c["geen_geometrie"] - c["geschikt"] - c["voorwaardelijk"] - c["ongeschikt"]
    )
    if unjudged:  # so the lines add up to the total
        lines.append(f"   geen oordeel: {nl_number(unjudged)}")
    if has_capacity:
        lines.append(f"Capaciteit geschikt: {nl_number(c['cap_geschikt'])} personen")
        lines.append(f"Capaciteit voorwaardelijk: {nl_number(c['cap_voorwaardelijk'])} personen")
    if c["geen_geometrie"]:
        lines.append(f"Zonder geometrie (niet op de kaart): {nl_number(c['geen_geometrie'])}")
    return "\n".join(lines)


def is_demo(sites: QgsVectorLayer) -> bool:
    """True when the sites come from the demo generator (its mark in ``bron``)."""
    index = sites.fields().indexOf("bron")
    if index < 0:
        return False
    return any(DEMO_MARK in str(v) for v in sites.uniqueValues(index, 20))


def run_date(record: dict[str, Any]) -> str:
    """The run's start date (run.json ``gestart``) as dd-mm-jjjj."""
    started = str(record.get("gestart") or "")
    try:
        return datetime.fromisoformat(started).strftime("%d-%m-%Y")
    except ValueError:
        return started[:10]


def font_family() -> str:
    """The first sans-serif family installed of a preferred list, else the default font."""
    families = set(QFontDatabase().families())
    for family in (
        "Open Sans",
        "Noto Sans",
        "Source Sans Pro",
        "Liberation Sans",
        "Arial",
        "DejaVu Sans",
    ):
        if family in families:
            return family
    return QFont().defaultFamily()
