"""The product's vocabulary: stay types, verdicts and their colours, result fields and their Dutch
labels, source attributions.

One place for every module of the engine. The QGIS plugin must not import the engine, so it keeps
a copy (``qgis_plugin/vocabulary.py``); ``tests/test_vocabulary.py`` fails when the two differ.

A new result field is one entry here (in its group, with its Dutch label): the output order
(:data:`RESULT_FIELDS`), the aliases of the stored QGIS style and the plugin (:data:`FIELD_ALIASES`)
and, for a travel field, the columns of ``analysis.travel`` and the fields reasons may use all
follow from it.
"""

from __future__ import annotations

import math
from numbers import Number

__all__ = [
    "STAY_TYPES",
    "STAY_LABELS",
    "stay_label",
    "HOUSING_FORMS",
    "VERDICTS",
    "VERDICT_COLOURS",
    "hex_colour",
    "MAP_COLOURS",
    "CONSTRAINT_COLOURS",
    "FACILITY_COLOURS",
    "REFERENCE_LABELS",
    "reference_label",
    "kind_label",
    "KIND_LABELS",
    "SITE_FIELDS",
    "LOCATION_FIELDS",
    "HOUSING_FIELDS",
    "ODOUR_FIELDS",
    "TRAVEL_FIELDS",
    "TRAVEL_MODE_FIELDS",
    "CONCENTRATION_FIELDS",
    "FACILITY_PREFIX",
    "facility_fields",
    "facility_aliases",
    "is_facility_field",
    "VERDICT_FIELDS",
    "FIELD_ALIASES",
    "RESULT_FIELDS",
    "IDENTIFY_FIRST",
    "FIELD_DECIMALS",
    "SHARE_FIELDS",
    "SHARE_DECIMALS",
    "YES_NO_FIELDS",
    "MAP_TIP",
    "MAP_TIP_STAY",
    "SOURCES",
    "OWN_SOURCE",
    "DEMO_SOURCE",
    "nl_number",
]

#: Stay types (verblijfstypen), in output order.
STAY_TYPES: tuple[str, ...] = ("short_stay", "mid_stay", "long_stay")
#: How a stay type reads in Dutch text, tables and maps.
STAY_LABELS: dict[str, str] = {
    "short_stay": "short-stay",
    "mid_stay": "mid-stay",
    "long_stay": "long-stay",
}


def stay_label(stay: str) -> str:
    """How a stay type reads in Dutch text: ``short_stay`` -> ``short-stay``."""
    return STAY_LABELS.get(stay, stay.replace("_", "-"))


#: Housing forms (huisvestingsvormen).
HOUSING_FORMS: tuple[str, ...] = ("logies", "woonfunctie")
#: Verdicts from best to worst; their index is their severity (and their order in tables).
VERDICTS: tuple[str, ...] = ("geschikt", "voorwaardelijk", "ongeschikt")

#: Verdict -> (Dutch label, RGB): the colours of the stored QGIS style, the maps, the report, the
#: planning rasters and the plugin's layers and atlas. Green / light orange / red keep their
#: meaning, but geschikt is a dark blue-green (#01665e, ColorBrewer BrBG) instead of RdYlGn's
#: green #1a9641: under deuteranopia (Machado 2009) that green and the red #d7191c differ by
#: ΔE2000 8, the blue-green by 33 and by 14 L* in lightness; every pair stays ≥ 15 apart under
#: deuteranopia, protanopia and tritanopia (tests/test_vocabulary.py). The empty value: sites
#: without geometry.
VERDICT_COLOURS: dict[str, tuple[str, tuple[int, int, int]]] = {
    "geschikt": ("Geschikt", (1, 102, 94)),
    "voorwaardelijk": ("Voorwaardelijk", (253, 174, 97)),
    "ongeschikt": ("Ongeschikt", (215, 25, 28)),
    "": ("Geen oordeel (geen geometrie)", (160, 160, 160)),
}


#: The other colours of the woonvisie maps, the same on the command line's maps
#: (layers/publish/maps.py) and in the plugin's atlas, so both kinds of maps read the same.
MAP_COLOURS: dict[str, str] = {
    "outside": "#e4e8eb",  # outside every gemeente (abroad, other provinces)
    "other_gemeente": "#f1efe9",
    "focus_fill": "#ffffff",
    "bbg": "#d5cbbb",
    "kom": "#6f6f6f",
    "park": "#4d9221",  # a true green: #01665e is geschikt (VERDICT_COLOURS)
    "employer": "#253494",
    "farm": "#7f3b08",
    "odour": "#762a83",  # the atlas's contours (the command-line maps shade them: Purples)
    "text": "#222222",
    "grey_text": "#5a5a5a",
    "boundary": "#8d8d8d",
    "kern": "#4d4d4d",  # kernen of the concentration rules (dotted outlines)
    "housing": "#b2182b",  # existing labour-migrant housing (diamonds)
}
#: Colours of the declared constraint layers (referentie.gpkg "beperkingen.<naam>", hatched
#: outlines), in the order of their names: ColorBrewer Dark2 without its green (close to parks)
#: and grey (close to the bebouwde kom and kernen), and with Set2's yellow for its own (close to
#: voorwaardelijk).
CONSTRAINT_COLOURS: tuple[str, ...] = (
    "#d95f02",
    "#e7298a",
    "#1b9e77",
    "#ffd92f",
    "#a6761d",
    "#7570b3",
)
#: Colours of the facility kinds (referentie.gpkg "voorzieningen.<soort>", filled plus
#: markers), in the order of their names. Each differs by at least ΔE2000 20 from the colours of
#: the other layer kinds (verdicts, parks, employers, farms, odour, kernen, existing housing,
#: constraints) and from each other, and by at least 30 from the map's backgrounds and the BBG, as
#: the white-edged markers must show on them (tests/test_vocabulary.py): parks are #4d9221, odour
#: #762a83 and the employers' squares dark blue, so none of those is here, nor a pastel.
FACILITY_COLOURS: tuple[str, ...] = ("#0099cc", "#000000", "#cc00ff", "#555500", "#33ee00")
#: How a planner writes the config names of the built-in constraint layers and facility kinds
#: (the names themselves are identifiers: natura2000, ov_halte); any other name shows with its
#: underscores as spaces (:func:`kind_label`).
KIND_LABELS: dict[str, str] = {
    "natura2000": "Natura 2000",
    "natuurnetwerk": "natuurnetwerk (Goudgroene natuurzone)",
    "plaatsgebonden_risico": "plaatsgebonden risico 10⁻⁶",
    "ov_halte": "ov-halte",
}
#: Legend names of the reference layers a run writes (referentie.gpkg), the same on the
#: command line's maps, in the plugin's atlas and in its reference group;
#: :func:`reference_label` names the declared ones (beperkingen.<naam>, voorzieningen.<soort>).
REFERENCE_LABELS: dict[str, str] = {
    "bebouwd_gebied": "Bestaand bebouwd gebied (BBG)",
    "bebouwde_kom": "Bebouwde kom (geurregels)",
    "geurcontouren": "Geurcontour",
    "recreatieparken": "Recreatiepark",
    "veehouderijen": "Veehouderij",
    "werkgevers": "Werkgever",
    "gemeenten": "Gemeentegrens",
    "kernen": "Kern (concentratie)",
    "bestaande_huisvesting": "Bestaande huisvesting",
}


def reference_label(name: str) -> str:
    """The legend name of a referentie.gpkg layer: "beperkingen.natura_2000" -> "Beperking:
    natura 2000", "voorzieningen.ov_halte" -> "Voorziening: ov halte", "kernen" -> "Kern
    (concentratie)"."""
    for prefix, word in (("beperkingen.", "Beperking"), ("voorzieningen.", "Voorziening")):
        if name.startswith(prefix):
            return f"{word}: {kind_label(name[len(prefix):])}"
    return REFERENCE_LABELS.get(name, name.replace("_", " "))


def kind_label(name: str) -> str:
    """The Dutch name of a constraint layer or facility kind as a planner writes it:
    "natura2000" -> "Natura 2000", "ov_halte" -> "ov-halte", "geluidzone_a2" -> "geluidzone a2"."""
    return KIND_LABELS.get(name, name.replace("_", " "))


def hex_colour(rgb: tuple[int, int, int]) -> str:
    """``(253, 174, 97)`` -> ``"#fdae61"``."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _per_stay(prefix: str, label: str) -> dict[str, str]:
    return {f"{prefix}_{stay}": f"{label} {STAY_LABELS[stay]}" for stay in STAY_TYPES}


def _per_stay_value(prefix: str, value: int) -> dict[str, int]:
    return {f"{prefix}_{stay}": value for stay in STAY_TYPES}


# Result fields by analysis, in output order, each with its Dutch label (QGIS alias) ---------

#: The site itself and the area it lies in.
SITE_FIELDS: dict[str, str] = {
    "locatie_id": "Locatie-id",
    "verblijfstype": "Verblijfstype",
    "huisvestingsvorm": "Huisvestingsvorm",
    "geometrie_status": "Geometrie",
    "gemeente": "Gemeente",
    "gemeente_code": "Gemeentecode",
    "regio": "Regio",
}
#: Position: bestaand bebouwd gebied, temporary building, bebouwde kom, recreation parks.
LOCATION_FIELDS: dict[str, str] = {
    "bbg_ligging": "Ligging t.o.v. BBG",
    "bbg_afstand_m": "Afstand tot BBG (m)",
    "bbg_aandeel": "Aandeel in BBG",
    "tijdelijk_bouwwerk": "Tijdelijk bouwwerk",
    "termijn_jaar": "Termijn tijdelijk bouwwerk (jaar)",
    "bebouwde_kom": "In bebouwde kom (geur)",
    "kom_bron": "Bron bebouwde kom",
    "recreatiepark": "Recreatiepark",
    "recreatiepark_aandeel": "Aandeel op recreatiepark",
    "op_erf": "Op het erf van de eigen werkgever",
    "erf_afstand_m": "Afstand tot eigen werkgever, hemelsbreed (m)",
    "erf_beleid": "Beleid gemeente short-stay op het erf",
}
#: Housing norms and capacity.
HOUSING_FIELDS: dict[str, str] = {
    "personen_per_slaapkamer": "Personen per slaapkamer",
    "woonoppervlak_pp_m2": "Woonoppervlak per persoon (m²)",
    "capaciteit_personen": "Capaciteit (personen)",
    "capaciteit_norm": "Bepalende norm capaciteit",
}
#: Odour: contours and fixed distances to livestock farms.
ODOUR_FIELDS: dict[str, str] = {
    "geur_oue": "Geurbelasting (OUe/m³)",
    "geur_norm_oue": "Geurnorm (OUe/m³)",
    "geur_knelpunt": "Geurknelpunt",
    "geur_knelpunt_aandeel": "Aandeel in geurknelpunt",
    "geur_onzeker": "Geur onzeker (contouren beslissen niet)",
    "geur_reden": "Geur: toelichting",
    "veehouderij": "Dichtstbijzijnde veehouderij",
    "veehouderij_afstand_m": "Afstand tot veehouderij (m)",
    "geur_vaste_afstand_m": "Vaste afstand (m)",
}
#: Travel to employers, as measured by ``analysis.travel.travel_to_employers``.
TRAVEL_FIELDS: dict[str, str] = {
    "werkgever": "Dichtstbijzijnde werkgever",
    "werkgever_afstand_m": "Afstand tot werkgever (m)",
    "werkgever_reistijd_min": "Reistijd tot werkgever (min)",
    "werkgevers_bereikbaar": "Werkgevers binnen reistijd",
    "aansluitafstand_m": "Afstand tot wegennet (m)",
    "eigen_werkgever": "Eigen werkgever",
    "eigen_werkgever_afstand_m": "Afstand tot eigen werkgever (m)",
    "eigen_werkgever_reistijd_min": "Reistijd tot eigen werkgever (min)",
    "reis_onbereikbaar": "Niet bereikbaar over wegennet",
}
#: The travel mode of the run (set by the pipeline, not measured).
TRAVEL_MODE_FIELDS: dict[str, str] = {"reismodus": "Vervoerwijze"}
#: Concentration: the kern a site lies in, its inhabitants, the labour migrants housed there
#: (existing housing plus this site's capacity) and their share of the inhabitants.
CONCENTRATION_FIELDS: dict[str, str] = {
    "kern": "Kern",
    "kern_inwoners": "Inwoners kern",
    "arbeidsmigranten_in_kern": "Arbeidsmigranten in kern (incl. deze locatie)",
    "aandeel_arbeidsmigranten_kern": "Aandeel arbeidsmigranten in kern",
}
#: Facility fields (one set per kind of ``[lagen.voorzieningen.<soort>]``) start with this; they
#: follow the concentration fields in the output, in the order of the config.
FACILITY_PREFIX = "voorziening_"


def facility_fields(kind: str) -> tuple[str, str, str, str]:
    """The fields of facility kind ``kind``: nearest facility's name, network distance (m),
    unreachable (bool) and the reason it is unreachable (the last two are not output fields)."""
    base = f"{FACILITY_PREFIX}{kind}"
    return base, f"{base}_afstand_m", f"{base}_onbereikbaar", f"{base}_reden"


def facility_aliases(kind: str) -> dict[str, str]:
    """The output fields of facility kind ``kind`` with their Dutch labels."""
    name, distance, _, _ = facility_fields(kind)
    label = kind_label(kind)
    return {name: f"Dichtstbijzijnde {label}", distance: f"Afstand tot {label} (m)"}


def is_facility_field(name: str) -> bool:
    """Whether ``name`` is an output field of some facility kind (name or distance)."""
    return name.startswith(FACILITY_PREFIX) and not name.endswith(("_onbereikbaar", "_reden"))
#: Verdicts, scores and reasons: for the site's own stay type and for every stay type.
VERDICT_FIELDS: dict[str, str] = {
    "oordeel": "Oordeel",
    "score": "Score (0-100)",
    "vrij_aandeel": "Vrij aandeel (geen ongeschikt-regel)",
    **_per_stay("oordeel", "Oordeel"),
    **_per_stay("score", "Score"),
    **_per_stay("vrij_aandeel", "Vrij aandeel"),
    "redenen": "Redenen",
    "regels": "Toegepaste regels",
    **_per_stay("regels", "Regels"),
}

#: Dutch aliases of every result field (QGIS attribute table and identify panel), in output order.
FIELD_ALIASES: dict[str, str] = {
    **SITE_FIELDS,
    **LOCATION_FIELDS,
    **HOUSING_FIELDS,
    **ODOUR_FIELDS,
    **TRAVEL_FIELDS,
    **TRAVEL_MODE_FIELDS,
    **CONCENTRATION_FIELDS,
    **VERDICT_FIELDS,
}
#: Result fields in output order (those of analyses that did not run are left out of a result).
RESULT_FIELDS: tuple[str, ...] = tuple(FIELD_ALIASES)

# How QGIS shows the result fields (stored style, plugin) ---------------------------------------

#: Fields shown first in QGIS's identify panel and attribute table (the plugin writes its result
#: in this order): the verdict, its score and the reasons, then the other result fields, then the
#: input attributes.
IDENTIFY_FIRST: tuple[str, ...] = ("oordeel", "score", "redenen")
#: Decimals a number field shows with in QGIS (rounded for display only; the file keeps every
#: digit): distances to the metre, travel times to a tenth of a minute.
FIELD_DECIMALS: dict[str, int] = {
    **{name: 0 for name in FIELD_ALIASES if name.endswith("_m")},
    **{name: 1 for name in FIELD_ALIASES if name.endswith("_min")},
    "termijn_jaar": 0,
    "personen_per_slaapkamer": 1,
    "woonoppervlak_pp_m2": 1,
    "capaciteit_personen": 0,
    "geur_oue": 1,
    "geur_norm_oue": 1,
    "score": 0,
    **_per_stay_value("score", 0),
    "kern_inwoners": 0,
    "arbeidsmigranten_in_kern": 0,
}
#: Shares (0..1) that QGIS shows as a whole percentage, in a virtual field ``<naam>_pct``.
SHARE_FIELDS: tuple[str, ...] = tuple(name for name in FIELD_ALIASES if "aandeel" in name)
#: Decimals of a share's percentage where a whole one says too little (others: 0): the share of
#: labour migrants in a kern is a few tenths of a percent (the concentration rule's reason gives it
#: to a tenth: 0,4%).
SHARE_DECIMALS: dict[str, int] = {"aandeel_arbeidsmigranten_kern": 1}
#: Truth values that QGIS shows as ja/nee (not true/false).
YES_NO_FIELDS: tuple[str, ...] = (
    "bebouwde_kom",
    "op_erf",
    "geur_knelpunt",
    "geur_onzeker",
    "reis_onbereikbaar",
)

#: The map tip of a result layer (QGIS HTML; ``{id}`` is the id field, ``{stay}`` is
#: :data:`MAP_TIP_STAY` when the layer has ``verblijfstype``): the verdict and for which stay type,
#: the score, the reasons one per line (bulleted); sans-serif and wide enough to read.
MAP_TIP: str = (
    "<div style=\"font-family: 'Noto Sans', 'DejaVu Sans', Arial, sans-serif; font-size: 9pt;"
    ' width: 28em">'
    "<b>[% coalesce(\"{id}\", '') %]</b> &mdash; "
    "<b>[% CASE WHEN \"oordeel\" IS NULL THEN 'geen oordeel (geen geometrie)'"
    ' ELSE "oordeel" END %]</b>'
    "{stay}"
    "[% CASE WHEN \"score\" IS NOT NULL THEN ' (score ' || format_number(\"score\", 0) || ')'"
    " ELSE '' END %]<br>"
    # one reason per line: reasons are joined by "; " and start with a capital; a "; " inside
    # parentheses ("(POVI; Visie …)") or before a lower-case word continues the same reason
    "[% CASE WHEN coalesce(\"redenen\", '') = '' THEN '' ELSE '&bull; ' ||"
    " regexp_replace(\"redenen\", '; (?=[A-Z])(?![^(]*[)])', '<br>&bull; ') END %]</div>"
)

#: The map tip's "voor short-stay": the stay type the verdict is for.
MAP_TIP_STAY: str = "[% coalesce(' voor ' || replace(\"verblijfstype\", '_', '-'), '') %]"

# Source attributions ---------------------------------------------------------------------

#: Known data sources: a pattern on a layer's path or layer name (lower case, "/" as separator)
#: and the credit on maps and in reports, in the order they are credited.
SOURCES: tuple[tuple[str, str], ...] = (
    (r"cbs|wijkenbuurten|wijk_en_buurt|bestuurlijke|gemeentegrenzen|tmap", "CBS"),
    (r"openstreetmap|(^|[^a-z])osm([^a-z]|$)|\.pbf$|\.osm$|graphml", "OpenStreetMap-bijdragers"),
    (r"(^|[^a-z])bag([^a-z]|$)", "BAG (Kadaster)"),
    (r"top10|(^|[^a-z])brt([^a-z]|$)", "BRT TOP10NL (Kadaster)"),
    (r"(^|[^a-z])nwb([^a-z]|$)|wegvakken", "NWB (Rijkswaterstaat)"),
    (r"bij12|(^|[^a-z])bvb([^a-z]|$)", "BIJ12 (BVB)"),
    (r"pdok", "PDOK"),
)
#: The credit of a layer that matches no known source.
OWN_SOURCE = "Provincie Limburg / eigen invoer"
#: The credit of the demo's fictional region.
DEMO_SOURCE = "fictief demogebied (Locatietoets demo, geen echte gegevens)"


# Numbers in Dutch text ---------------------------------------------------------------------------

_DUTCH_DIGITS = str.maketrans({",": ".", ".": ","})


def nl_number(value: object, digits: int = 0, missing: str = "–") -> str:
    """One value as a planner reads it in Dutch text.

    ``12.345``, ``1.234,5``: thousands dot, decimal comma, ``digits`` decimals, never ``-0``;
    ``ja``/``nee`` for a truth value; ``missing`` for None and NaN; any other value as ``str``.
    Whole columns (the reasons of a million sites): ``analysis.texts.format_number``.
    """
    if value is None:
        return missing
    if type(value).__name__ in ("bool", "bool_"):
        return "ja" if value else "nee"
    if not isinstance(value, Number):
        return str(value)
    number = float(value)
    if not math.isfinite(number):
        return missing
    number = round(number, digits)
    if number == 0:
        number = 0.0  # -0.0 and tiny negatives read as 0
    return f"{number:,.{digits}f}".translate(_DUTCH_DIGITS)
