"""Generate the deterministic, clearly labelled FICTIONAL demo region.

``locatietoets demo`` calls :func:`write_demo` to write a complete set of
input layers plus a ``config.toml`` and then scores them. Every feature is
invented, and every layer carries the text attribute ``bron`` =
:data:`DEMO_SOURCE` so no map or table made from it can be mistaken for real
data. The region's layout is in :mod:`~locatietoets.layers.worlds.layout`,
its layers in :mod:`~locatietoets.layers.worlds.region`,
:mod:`~locatietoets.layers.worlds.roads` and
:mod:`~locatietoets.layers.worlds.sites`.

Same ``seed`` and ``n_sites`` give identical files, byte for byte: all
randomness comes from one ``numpy.random.default_rng(seed)``, everything is
built in a fixed order, and the GeoPackage timestamp is pinned.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from locatietoets.analysis.vocabulary import nl_number
from locatietoets.layers.io.config_writer import write_config
from locatietoets.layers.worlds.amenities import build_amenities
from locatietoets.layers.worlds.layout import (
    DEMO_BOUNDS,
    DEMO_CONSTRAINT_LAYERS,
    DEMO_CRS,
    DEMO_FACILITY_LAYERS,
    DEMO_LAYERS,
    DEMO_SOURCE,
    config_layer_name,
    finish_layer,
)
from locatietoets.layers.worlds.region import (
    build_built_up_area,
    build_employers,
    build_farms,
    build_gemeenten,
    build_kom,
    build_odour_contours,
    build_recreation_parks,
)
from locatietoets.layers.worlds.roads import build_roads
from locatietoets.layers.worlds.sites import MIN_SITES, SITE_FIELDS, build_sites

__all__ = [
    "write_demo",
    "build_demo_layers",
    "DEMO_SOURCE",
    "DEMO_CRS",
    "DEMO_LAYERS",
    "DEMO_CONSTRAINT_LAYERS",
    "DEMO_FACILITY_LAYERS",
    "DEMO_BOUNDS",
    "config_layer_name",
]

log = logging.getLogger(__name__)

# Fixed GeoPackage timestamp (gpkg_contents.last_change) so files are byte-identical.
_GPKG_DATE = "2026-01-01T00:00:00.000Z"

#: Header of the demo's config.toml (``source``, ``seed`` and ``n_sites`` filled in).
_CONFIG_HEADER = (
    "============================================================================",
    "FICTIEF DEMOGEBIED — Locatietoets",
    "Alle lagen in invoer/ zijn verzonnen: dorpen, gemeenten (GM9901 en GM9902",
    "bestaan niet bij het CBS), veehouderijen, geurcontouren, recreatieparken,",
    "werkgevers, wegen, kernen met inwoners, voorzieningen, natuur-, geluids- en",
    "veiligheidszones en kandidaatlocaties. Het gebied ligt in RD New",
    "(EPSG:28992) in Noord-Limburg, maar niets komt overeen met de werkelijkheid.",
    'Elk object heeft het veld bron = "{source}".',
    "Gemaakt met: locatietoets demo (seed {seed}, {n_sites} locaties).",
    "============================================================================",
)

#: The demo's layers and the fields of its files (paths relative to the output folder).
_CONFIG_LAYERS: dict[str, dict[str, str]] = {
    "locaties": {"pad": "invoer/locaties.gpkg", **SITE_FIELDS},
    "bebouwd_gebied": {"pad": "invoer/bebouwd_gebied.gpkg"},
    "bebouwde_kom": {"pad": "invoer/bebouwde_kom.gpkg"},
    "geurcontouren": {
        "pad": "invoer/geurcontouren.gpkg",
        "waarde_veld": "geur_oue",
        "veehouderij_veld": "veehouderij",
    },
    "veehouderijen": {
        "pad": "invoer/veehouderijen.gpkg",
        "naam_veld": "naam",
        "vaste_afstand_veld": "vaste_afstand_m",
        "geuremissiefactor_veld": "geuremissiefactor",
    },
    "recreatieparken": {"pad": "invoer/recreatieparken.gpkg", "naam_veld": "parknaam"},
    "beperkingen.bedrijventerreinen": {
        "pad": "invoer/bedrijventerreinen.gpkg",
        "naam_veld": "naam",
    },
    "werkgevers": {"pad": "invoer/werkgevers.gpkg", "naam_veld": "bedrijfsnaam"},
    "wegennet": {
        "pad": "invoer/wegennet.gpkg",
        "modus": "fiets",
        "wegtype_veld": "highway",
        "snelheid_veld": "maxspeed",
        "eenrichting_veld": "oneway",
    },
    "gemeenten": {
        "pad": "invoer/gemeenten.gpkg",
        "naam_veld": "gemeentenaam",
        "code_veld": "gemeentecode",
        "regio_veld": "regio",
    },
    "kernen": {"pad": "invoer/kernen.gpkg", "naam_veld": "naam", "inwoners_veld": "inwoners"},
    "bestaande_huisvesting": {
        "pad": "invoer/bestaande_huisvesting.gpkg",
        "naam_veld": "naam",
        "personen_veld": "personen",
    },
    **{
        config_layer_name(stem): {"pad": f"invoer/{stem}.gpkg", "naam_veld": "naam"}
        for stem in DEMO_FACILITY_LAYERS
    },
    **{
        config_layer_name(stem): {"pad": f"invoer/{stem}.gpkg", "naam_veld": "naam"}
        for stem in ("natura2000", "natuurnetwerk", "externe_veiligheid", "plaatsgebonden_risico")
    },
    "beperkingen.geluid": {
        "pad": "invoer/geluid.gpkg",
        "naam_veld": "naam",
        "waarde_veld": "lden_db",
    },
}

#: Dutch comments above the tables of the demo's config.toml.
_CONFIG_NOTES: dict[str, tuple[str, ...]] = {
    "locaties": (
        "Kandidaatlocaties (punten en kleine vlakken) met hun plangegevens. De velden heten",
        "beoogd(e)_... zodat ze niet samenvallen met de resultaatvelden verblijfstype,",
        "huisvestingsvorm en werkgever (een invoerveld met zo'n naam heet in de uitvoer",
        "<naam>_invoer).",
        "tijdelijk = ja/nee: een tijdelijk bouwwerk (flexibele woonvorm)? leeg = onbekend;",
        "termijn = de termijn van het tijdelijke bouwwerk in jaren (max_termijn_jaar in de"
        " regelset).",
    ),
    "bebouwd_gebied": ("Bestaand bebouwd gebied (BBG): dorpskernen en bedrijventerreinen.",),
    "bebouwde_kom": ("Bebouwde kom in de zin van de geurwetgeving: wijkt bewust af van het BBG.",),
    "geurcontouren": (
        "Geurcontouren (98-percentiel, OUe/m³), gevulde vlakken per contourwaarde.",
        'veehouderij_veld: de contouren per bedrijf, zodat "de volgende hogere contour" die van',
        "hetzelfde bedrijf is.",
    ),
    "veehouderijen": (
        "Veehouderijen: emissiepunten en stalvlakken; vaste_afstand_m = oude stankcirkel of eigen",
        "afstand uit het omgevingsplan (verhoogt het wettelijk minimum, verlaagt het nooit);",
        "geuremissiefactor = ja/nee (leeg: onbekend, dan geldt de strengste vaste afstand).",
    ),
    "beperkingen.bedrijventerreinen": (
        "Bedrijventerreinen (de vlakken met soort = bedrijventerrein uit het BBG) als beperking:",
        "de regel 'bedrijventerrein' van de regelset toetst locaties erop.",
    ),
    "kernen": (
        "Kernen: elk dorp met zijn rand (300 m), met het aantal inwoners; de concentratie",
        "arbeidsmigranten per kern wordt hiermee getoetst.",
    ),
    "bestaande_huisvesting": (
        "Bestaande huisvesting van arbeidsmigranten met het aantal personen; telt mee in de",
        "concentratie per kern (Loonhorst zit al dicht bij het maximum).",
    ),
    "voorzieningen.ov_halte": (
        "Voorzieningen per soort: de afstand over het wegennet tot de dichtstbijzijnde",
        "bushalte, supermarkt en huisarts (regels voorziening.<soort>.ver/.onbereikbaar).",
    ),
    "beperkingen.natura2000": (
        "Het natuurgebied zonder wegen als Natura 2000-gebied (binnen: ongeschikt; tot 250 m:",
        "voortoets stikstof), een beekdal als natuurnetwerk, een geluidcontour langs twee",
        "provinciale wegen en een aandachtsgebied externe veiligheid met de plaatsgebonden-",
        "risicocontour (10-6) van een LPG-opslag op een bedrijventerrein.",
    ),
    "wegennet": (
        "Wegennet als lijnenlaag met OSM-achtige velden; één buurtschap is bewust",
        "niet aangesloten op de rest van het netwerk.",
    ),
    "regels": (
        "Parameters uit de regelset kunnen onder [regels] worden overschreven (hier bbg_rand_m),",
        "en per gemeente (naam of code): hier staat Demogemeente Maasdal (GM9902) geen",
        'short-stay op het erf van de werkgever toe (erf_short_stay = "niet"); Peelrand volgt',
        "de regelset (voorwaardelijk).",
    ),
}


def write_demo(out_dir: Path, *, seed: int = 2026, n_sites: int = 3000) -> Path:
    """Write the fictional demo input layers and their config file.

    Parameters
    ----------
    out_dir
        Folder to write into; created when missing. The layers go to
        ``out_dir / "invoer"`` (one GeoPackage per layer, layer name = file
        stem, EPSG:28992); files with the same names are replaced, other
        files are left alone.
    seed
        Seed of the random generator; the same seed and ``n_sites`` give
        byte-identical files.
    n_sites
        Number of candidate sites in ``locaties.gpkg`` (at least 60, so that
        every class of site occurs).

    Returns
    -------
    Path
        The written ``out_dir / "config.toml"``, which points at the layers
        with paths relative to ``out_dir``.

    Raises
    ------
    ValueError
        When ``n_sites`` is too small to cover every class of site.
    """
    frames = build_demo_layers(seed=seed, n_sites=n_sites)
    out_dir = Path(out_dir)
    input_dir = out_dir / "invoer"
    input_dir.mkdir(parents=True, exist_ok=True)
    _write_geopackages(frames, input_dir)
    config_path = write_config(
        out_dir / "config.toml",
        _CONFIG_LAYERS,
        # one gemeente allows no short-stay on an employer's yard (the other keeps the rule
        # set's 'voorwaardelijk'), so the demo shows both erf policies
        regels={"bbg_rand_m": 250, "gemeenten": {"GM9902": {"erf_short_stay": "niet"}}},
        kop=[
            line.format(source=DEMO_SOURCE, seed=seed, n_sites=nl_number(n_sites))
            for line in _CONFIG_HEADER
        ],
        toelichting=_CONFIG_NOTES,
    )
    log.info(
        "demogebied geschreven naar %s (%s lagen, %s locaties)",
        input_dir,
        nl_number(len(frames)),
        nl_number(n_sites),
    )
    return config_path


def build_demo_layers(*, seed: int = 2026, n_sites: int = 3000) -> dict[str, gpd.GeoDataFrame]:
    """Build the demo layers in memory, without writing anything.

    Parameters
    ----------
    seed
        Seed of the random generator.
    n_sites
        Number of candidate sites.

    Returns
    -------
    dict of str to GeoDataFrame
        One frame per name in :data:`DEMO_LAYERS`, in EPSG:28992, each with a
        ``bron`` column.

    Raises
    ------
    ValueError
        When ``n_sites`` is too small to cover every class of site.
    """
    if n_sites < MIN_SITES:
        raise ValueError(
            f"Het demogebied heeft minstens {MIN_SITES} locaties nodig om alle soorten locaties "
            f"te laten zien; gevraagd: {n_sites}."
        )
    rng = np.random.default_rng(seed)
    gemeenten = build_gemeenten(rng)
    villages, business_parks = build_built_up_area(rng)
    kom = build_kom(villages, rng)
    parks = build_recreation_parks(villages, business_parks, rng)
    farms = build_farms(villages, business_parks, parks, rng)
    contours = build_odour_contours(farms, rng)
    employers = build_employers(villages, business_parks, farms, parks, rng)
    roads = build_roads(villages, business_parks, farms, employers, rng)
    sites = build_sites(
        n_sites, villages, business_parks, kom, parks, farms, contours, employers, roads, rng
    )
    # a generator of their own: the layers above stay the same when these change
    amenities = build_amenities(villages, business_parks, roads, np.random.default_rng([seed, 16]))
    frames = {
        "gemeenten": gemeenten,
        "bebouwd_gebied": pd.concat(
            [villages.drop(columns=["ribbon_axes"]), business_parks], ignore_index=True
        ),
        "bebouwde_kom": kom,
        "veehouderijen": farms.drop(
            columns=["emission_point", "has_factor", "r2_m", "near_village"]
        ),
        "geurcontouren": contours,
        "recreatieparken": parks,
        # the BBG's business parks (soort = bedrijventerrein) as a constraint layer of their own
        "bedrijventerreinen": business_parks.drop(columns=["soort"]),
        "werkgevers": employers,
        "wegennet": roads,
        "locaties": sites.drop(columns=["context"]),
        **amenities,
    }
    return {name: finish_layer(frames[name]) for name in DEMO_LAYERS}


def _write_geopackages(frames: dict[str, gpd.GeoDataFrame], input_dir: Path) -> None:
    """Write one GeoPackage per layer, replacing older versions, with a pinned timestamp."""
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _GPKG_DATE})
    try:
        for name, frame in frames.items():
            path = input_dir / f"{name}.gpkg"
            path.unlink(missing_ok=True)
            frame.to_file(
                path,
                layer=name,
                driver="GPKG",
                engine="pyogrio",
                dataset_options={"VERSION": "1.2"},  # QGIS 3.22 (GDAL 3.6) warns on 1.4
            )
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
