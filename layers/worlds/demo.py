"""Generate the deterministic, clearly labelled FICTIONAL demo region.

``locatietoets demo`` calls :func:`write_demo` to write a complete set of
input layers plus a ``config.toml`` and then scores them. The region is a
15 x 12 km box of Peel-like countryside in RD New (EPSG:28992) in
Noord-Limburg, but every feature is invented: villages, gemeenten (codes
GM9901/GM9902 do not exist at CBS), farms, odour contours, parks,
employers, roads and candidate sites. Every layer carries the text
attribute ``bron`` = :data:`DEMO_SOURCE` so no map or table made from it can
be mistaken for real data.

Same ``seed`` and ``n_sites`` give identical files, byte for byte: all
randomness comes from one ``numpy.random.default_rng(seed)``, everything is
built in a fixed order, and the GeoPackage timestamp is pinned.

Layout (local metres from the south-west corner of the box)::

    Broekveld (3000, 8500)    Zandrode (7600, 10000)    Loonhorst (13600, 10600)
    bedrijventerrein (5300, 5700)  Kempenrade (7000, 5500)  Maasheuvel (12300, 7200)
    Heiderade (4200, 3200)    Veltrum (11300, 2600)     bedrijventerrein (12650, 5500)
    road-free nature zone (1500, 1500)                  isolated buurtschap (14000, 1300)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
import logging
import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely import affinity

from locatietoets.analysis.vocabulary import STAY_TYPES
from locatietoets.layers.io.config_writer import write_config

__all__ = [
    "write_demo",
    "build_demo_layers",
    "DEMO_SOURCE",
    "DEMO_CRS",
    "DEMO_LAYERS",
    "DEMO_BOUNDS",
]

log = logging.getLogger(__name__)

#: Value of the ``bron`` attribute on every feature of every demo layer.
DEMO_SOURCE = "FICTIEF DEMOGEBIED Locatietoets — geen echte gegevens"
#: CRS of every demo layer: RD New.
DEMO_CRS = "EPSG:28992"
#: The demo layers, in the order they are written (file stem = layer name).
DEMO_LAYERS = (
    "gemeenten",
    "bebouwd_gebied",
    "bebouwde_kom",
    "veehouderijen",
    "geurcontouren",
    "recreatieparken",
    "werkgevers",
    "wegennet",
    "locaties",
)

# South-west corner and size of the demo box in RD New (m). The box lies
# entirely inside the province of Limburg (checked against the CBS province
# polygon in ../shared/data), on the Peel side west of the Maas.
_ORIGIN = np.array([194_000.0, 377_000.0])
_WIDTH_M = 15_000.0
_HEIGHT_M = 12_000.0
#: Bounds of the demo box (xmin, ymin, xmax, ymax) in EPSG:28992.
DEMO_BOUNDS = (_ORIGIN[0], _ORIGIN[1], _ORIGIN[0] + _WIDTH_M, _ORIGIN[1] + _HEIGHT_M)

# Fixed GeoPackage timestamp (gpkg_contents.last_change) so files are byte-identical.
_GPKG_DATE = "2026-01-01T00:00:00.000Z"
# Coordinates are rounded to this grid (m); it is also the snap-rounding grid for noding roads.
_GRID_M = 0.01

# --- layout (local metres) -------------------------------------------------


@dataclass(frozen=True)
class _VillageSpec:
    name: str
    x: float
    y: float
    area_km2: float


_VILLAGES = (
    _VillageSpec("Maasheuvel", 12_300, 7_200, 2.6),
    _VillageSpec("Kempenrade", 7_000, 5_500, 2.0),
    _VillageSpec("Broekveld", 3_000, 8_500, 1.5),
    _VillageSpec("Veltrum", 11_300, 2_600, 1.0),
    _VillageSpec("Heiderade", 4_200, 3_200, 0.8),
    _VillageSpec("Zandrode", 7_600, 10_000, 0.6),
    _VillageSpec("Loonhorst", 13_600, 10_600, 0.4),
)

# name, centre x, centre y, length m, width m, rotation degrees
_BUSINESS_PARKS = (
    ("Bedrijventerrein De Peelpoort", 5_300, 5_700, 750, 480, 12),
    ("Bedrijventerrein Maasheuvel-Zuid", 12_650, 5_500, 620, 420, -8),
)

_GEMEENTEN = (("Demogemeente Peelrand", "GM9901"), ("Demogemeente Maasdal", "GM9902"))
# x of the irregular gemeente border (local m) and how far it wanders east/west.
_BORDER_X_M, _BORDER_WANDER_M = 9_600.0, 450.0

# A nature area without any road: sites near its centre lie > 1 km from the network.
_NATURE_CENTRE = np.array([1_500.0, 1_500.0])
_NATURE_RADIUS_M = 1_350.0
# An isolated buurtschap whose few roads are not connected to the rest of the network.
_HAMLET_NAME = "Eikenhorst"
_HAMLET_CENTRE = np.array([14_000.0, 1_300.0])
_HAMLET_CLEAR_M = 900.0  # no other road comes closer than this to the hamlet centre
_HAMLET_RADIUS_M = 260.0  # extent of the hamlet's own roads

_N_FARMS = 60
_N_CONTOUR_FARMS = 45  # farms with an emission factor, hence with odour contours
_N_FARM_POLYGONS = 15  # farms given as stable footprints instead of emission points
_N_FIXED_DISTANCE = 8  # farms with a legacy stankcirkel (vaste_afstand_m)
_N_UPWIND_FARMS = 6  # farms with contours just upwind (south-west) of the six largest villages
_N_EDGE_CATTLE_FARMS = (
    3  # farms without emission factor right at the edge of the three largest villages
)
_CONTOUR_VALUES = (2.0, 3.0, 5.0, 8.0, 14.0, 20.0)  # OUe/m3
# Every 4th farm with contours (from the 2nd on) has coarser steps that skip the norms 3 and 14:
# a site between its 2 and 5 contour inside the kom, or between 8 and 20 outside, is undecidable.
_COARSE_CONTOUR_VALUES = (2.0, 5.0, 8.0, 20.0)  # OUe/m3
_COARSE_EVERY, _COARSE_FIRST = 4, 1
_N_UNKNOWN_FACTOR = 3  # farms whose emission factor the layer leaves empty (unknown)
# Prevailing wind blows from the south-west, so plumes stretch to the north-east.
_WIND_TOWARDS_DEG = 45.0

_SPECIES_WITH_FACTOR = {
    "varkens": "Varkenshouderij",
    "vleeskuikens": "Pluimveebedrijf",
    "legkippen": "Legkippenbedrijf",
    "geiten": "Geitenhouderij",
    "vleeskalveren": "Kalverhouderij",
}
_SPECIES_WITHOUT_FACTOR = {
    "melkrundvee": "Melkveebedrijf",
    "zoogkoeien": "Rundveehouderij",
    "paarden": "Paardenhouderij",
    "schapen": "Schapenhouderij",
}
_FARM_PREFIXES = ("Hoeve", "Hof", "Erve", "Boerderij")
_FARM_NAMES = (
    "'t Broek",
    "De Peelhoek",
    "Het Veen",
    "De Zandkuil",
    "'t Heike",
    "De Vennen",
    "De Turfhoeve",
    "Het Goor",
    "De Leemkuil",
    "'t Hazeveld",
    "De Schans",
    "Het Eikenhof",
)

_RECREATION_PARKS = (
    "Vakantiepark Het Vennenbos",
    "Camping De Zandhoeve",
    "Bungalowpark Peelrust",
    "Recreatiepark De Heidebloem",
    "Vakantiepark Klein Eikenrode",
    "Camping 't Leemputje",
)

# (name, sector, where): where = business park index, "rural" or a village name.
_EMPLOYERS = (
    ("Peelpoort Distributie BV", "logistiek", 0),
    ("Kempenrade Vleeswaren BV", "voedingsindustrie", 0),
    ("Maasdal Logistics Center", "logistiek", 1),
    ("Veltrum Verpakkingen BV", "industrie", 1),
    ("Transport Peelrand BV", "logistiek", 0),
    ("Metaalbewerking De Peelpoort", "industrie", 0),
    ("Koeltransport Maasheuvel", "logistiek", 1),
    ("Distributiecentrum Maasheuvel-Zuid", "logistiek", 1),
    ("Glastuinbouw Zonnekas Broekveld", "glastuinbouw", "rural"),
    ("Tomatenkwekerij De Glazen Hoeve", "glastuinbouw", "rural"),
    ("Paprikakwekerij Heiderade", "glastuinbouw", "rural"),
    ("Kassencomplex Zandrode", "glastuinbouw", "rural"),
    ("Komkommerteelt Veltrum", "glastuinbouw", "rural"),
    ("Glastuinbouw De Lichtweide", "glastuinbouw", "rural"),
    ("Aspergekwekerij 't Zandveld", "akkerbouw en tuinbouw", "rural"),
    ("Aardbeienteelt De Rode Hoek", "akkerbouw en tuinbouw", "rural"),
    ("Champignonkwekerij Kempenrade", "akkerbouw en tuinbouw", "rural"),
    ("Boomkwekerij Loonhorst", "akkerbouw en tuinbouw", "rural"),
    ("Aspergebedrijf De Witte Stengel", "akkerbouw en tuinbouw", "rural"),
    ("Sierteelt Peelbloem", "akkerbouw en tuinbouw", "rural"),
    ("Loonbedrijf Maasheuvel", "agrarische dienstverlening", "rural"),
    ("Prei- en koolteelt Het Veld", "akkerbouw en tuinbouw", "rural"),
    ("Slachterij Maasheuvel", "voedingsindustrie", "Maasheuvel"),
    ("Bouwbedrijf Broekveld", "bouw", "Broekveld"),
    ("Groenteverwerking Kempenrade", "voedingsindustrie", "Kempenrade"),
)
_N_EMPLOYER_POLYGONS = 4  # the first four employers are plots on a business park

_RURAL_ROAD_NAMES = (
    "Peelweg",
    "Kanaalweg",
    "Veenweg",
    "Turfweg",
    "Heideweg",
    "Zandweg",
    "Schansweg",
    "Lange Heide",
    "Vennenweg",
    "Dijkweg",
    "Molenweg",
    "Bosweg",
    "Ontginningsweg",
    "Middenweg",
    "Berkenweg",
    "Griendweg",
    "Schaapsdrift",
    "Kempweg",
    "Koolweg",
    "Rouwkuil",
)
_STREET_NAMES = (
    "Kerkstraat",
    "Dorpsstraat",
    "Schoolstraat",
    "Molenstraat",
    "Kapelstraat",
    "Beekstraat",
    "Pastoriestraat",
    "Lindelaan",
    "Eikenlaan",
    "Sint Jozefstraat",
    "Irenestraat",
    "Julianastraat",
    "Wilhelminastraat",
    "Marktstraat",
    "Veldstraat",
    "Nieuwstraat",
    "Akkerstraat",
    "Hoogstraat",
    "Broekstraat",
    "Meidoornlaan",
    "Vlierstraat",
    "Hulststraat",
)

_RIBBON_ROAD_NAMES = ("Steenweg", "Hoofdstraat", "Heerbaan")

# Road classes in priority order (a noded piece on two roads takes the first).
_ROAD_CLASSES = ("secondary", "tertiary", "unclassified", "residential", "cycleway", "track")
_SPEED_IN_BBG_KMH = 50.0  # through roads slow down to 50 km/h inside the built-up area
_SHARE_ONE_WAY = 0.05  # share of the 30 km/h village street blocks that are one-way

# Site classes and their share of all sites (fractions of n_sites).
_SHARE_IN_VILLAGE = 0.36
_SHARE_ON_BUSINESS_PARK = 0.04
_SHARE_KOM_CONTOUR = 0.04  # inside the kom and inside an odour contour >= 3 OUe/m3
_SHARE_KOM_FIXED = 0.01  # inside the kom near a farm without emission factor
_SHARE_EDGE = 0.20  # outside BBG but within 250 m
_SHARE_PARK = 0.04
_SHARE_NEAR_FARM = 0.03  # within 50 m of a farm emission point
_SHARE_CONTOUR_OUTSIDE = 0.04  # outside the kom, inside an odour contour >= 14 OUe/m3
_SHARE_ODOUR_UNDECIDED = (
    0.01  # between two contours of a coarse farm that straddle the norm (in and outside the kom)
)
_N_HAMLET_SITES = 6
_N_REMOTE_SITES = 3
_EDGE_M = 250.0  # width of the "rand" band around BBG (the default bbg_rand_m)
_SHARE_POLYGON_SITES = 0.20
_SHARE_ON_BOUNDARY = 0.01  # per kind: parcels half in BBG, parcels touching BBG from outside
_SHARE_TEMPORARY = (
    0.30  # tijdelijk = ja (a temporary building), with a term of 3-15 years (some above 10)
)
_SHARE_PERMANENT = 0.25  # tijdelijk = nee; the rest leaves it empty (unknown)
_SHARE_HOUSING_FORM_NULL = 0.20
_SHARE_WITH_EMPLOYER = 0.30
_SHARE_BEDROOM_VIOLATION = 0.15
_SHARE_FLOOR_AREA_VIOLATION = 0.15
_MIN_SITES = 60  # fewer sites cannot cover every class

# Per site context: descriptions and the (min, max) number of persons.
_SITE_CONTEXTS = {
    "kern": (
        (
            "Leegstaand kantoorpand",
            "Bovenwoning winkelpand",
            "Voormalig klooster",
            "Inbreidingskavel",
            "Leegstaande woning",
            "Voormalige school",
        ),
        (2, 24),
    ),
    "bedrijventerrein": (
        (
            "Kavel bedrijventerrein",
            "Leegstaande bedrijfshal",
            "Tijdelijke units op bedrijventerrein",
        ),
        (20, 150),
    ),
    "rand": (
        (
            "Weiland aan de dorpsrand",
            "Voormalige sportvelden",
            "Tijdelijke units aan de dorpsrand",
            "Voormalige tuinderij",
        ),
        (6, 60),
    ),
    "buitengebied": (
        (
            "Leegstaande boerderij",
            "Vrijkomende agrarische bebouwing",
            "Tijdelijke units op bedrijfserf",
            "Voormalige kas",
            "Woonboerderij",
        ),
        (4, 40),
    ),
    "veehouderij": (
        ("Bedrijfswoning bij veehouderij", "Tijdelijke units op bedrijfserf", "Leegstaande stal"),
        (2, 16),
    ),
    "recreatiepark": (("Vakantiepark-chalet", "Recreatiewoning", "Stacaravans op camping"), (2, 8)),
    # polygon sites on the BBG boundary: half inside ("deels") or touching it from outside
    "grens": (("Perceel op de dorpsgrens", "Kavel half in het dorp"), (6, 40)),
    "raakt": (("Weiland grenzend aan het dorp", "Perceel tegen de dorpsgrens"), (6, 40)),
    "buurtschap": (("Woning in buurtschap", "Leegstaande boerderij in buurtschap"), (2, 10)),
    "natuur": (("Voormalige boswachterswoning", "Jachthuis in natuurgebied"), (2, 6)),
}

#: Header of the demo's config.toml (``source``, ``seed`` and ``n_sites`` filled in).
_CONFIG_HEADER = (
    "============================================================================",
    "FICTIEF DEMOGEBIED — Locatietoets",
    "Alle lagen in invoer/ zijn verzonnen: dorpen, gemeenten (GM9901 en GM9902",
    "bestaan niet bij het CBS), veehouderijen, geurcontouren, recreatieparken,",
    "werkgevers, wegen en kandidaatlocaties. Het gebied ligt in RD New",
    "(EPSG:28992) in Noord-Limburg, maar niets komt overeen met de werkelijkheid.",
    'Elk object heeft het veld bron = "{source}".',
    "Gemaakt met: locatietoets demo (seed {seed}, {n_sites} locaties).",
    "============================================================================",
)

#: The demo's layers and the fields of its files (paths relative to the output folder).
_CONFIG_LAYERS: dict[str, dict[str, str]] = {
    "locaties": {
        "pad": "invoer/locaties.gpkg",
        "id_veld": "locatie_code",
        "verblijfstype_veld": "verblijfstype",
        "huisvestingsvorm_veld": "huisvestingsvorm",
        "personen_veld": "personen",
        "slaapkamers_veld": "slaapkamers",
        "woonoppervlak_veld": "woonoppervlak_m2",
        "werkgever_veld": "werkgever",
        "tijdelijk_veld": "tijdelijk",
        "termijn_jaar_veld": "termijn",
    },
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
}

#: Dutch comments above the tables of the demo's config.toml.
_CONFIG_NOTES: dict[str, tuple[str, ...]] = {
    "locaties": (
        "Kandidaatlocaties (punten en kleine vlakken) met hun plangegevens.",
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
    "wegennet": (
        "Wegennet als lijnenlaag met OSM-achtige velden; één buurtschap is bewust",
        "niet aangesloten op de rest van het netwerk.",
    ),
    "regels": (
        "Parameters uit de regelset kunnen onder [regels] worden overschreven (hier bbg_rand_m),",
        "en per gemeente (naam of code), bv.:",
        "[regels.gemeenten.GM9902]",
        "bbg_rand_m = 150",
    ),
}


# --- public API -------------------------------------------------------------


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
        regels={"bbg_rand_m": 250},
        kop=[
            line.format(source=DEMO_SOURCE, seed=seed, n_sites=n_sites) for line in _CONFIG_HEADER
        ],
        toelichting=_CONFIG_NOTES,
    )
    log.info(
        "demogebied geschreven naar %s (%d lagen, %d locaties)", input_dir, len(frames), n_sites
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
    if n_sites < _MIN_SITES:
        raise ValueError(
            f"Het demogebied heeft minstens {_MIN_SITES} locaties nodig om alle soorten locaties "
            f"te laten zien; gevraagd: {n_sites}."
        )
    rng = np.random.default_rng(seed)
    gemeenten = _build_gemeenten(rng)
    villages, business_parks = _build_built_up_area(rng)
    kom = _build_kom(villages, rng)
    parks = _build_recreation_parks(villages, business_parks, rng)
    farms = _build_farms(villages, business_parks, parks, rng)
    contours = _build_odour_contours(farms, rng)
    employers = _build_employers(villages, business_parks, farms, parks, rng)
    roads = _build_roads(villages, business_parks, farms, employers, rng)
    sites = _build_sites(
        n_sites, villages, business_parks, kom, parks, farms, contours, employers, roads, rng
    )
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
        "werkgevers": employers,
        "wegennet": roads,
        "locaties": sites.drop(columns=["context"]),
    }
    return {name: _finish(frames[name]) for name in DEMO_LAYERS}


# --- geometry helpers -------------------------------------------------------


def _to_rd(local_xy: np.ndarray) -> np.ndarray:
    """Local demo metres (from the south-west corner) to RD New coordinates."""
    return np.asarray(local_xy, dtype=float) + _ORIGIN


def _area_box() -> shapely.Polygon:
    return shapely.box(*DEMO_BOUNDS)


def _blob(
    centre: np.ndarray,
    area_m2: float,
    rng: np.random.Generator,
    *,
    roughness: float = 0.25,
    aspect: float = 1.0,
    angle_deg: float = 0.0,
    n_vertices: int = 96,
) -> shapely.Polygon:
    """An irregular star-shaped polygon of a given area around ``centre``.

    The radius is ``1 + sum_k a_k cos(k*theta + phi_k)`` for harmonics
    k = 2..11 with amplitudes ~ N(0, roughness / k^1.5) (smoother at higher k),
    clipped at 0.45 so the outline never passes through the centre; a
    star-shaped outline is always a simple, valid polygon.
    """
    theta = np.linspace(0.0, 2.0 * np.pi, n_vertices, endpoint=False)
    radius = np.ones_like(theta)
    for k in range(2, 12):
        radius += rng.normal(0.0, roughness / k**1.5) * np.cos(
            k * theta + rng.uniform(0.0, 2.0 * np.pi)
        )
    radius = np.clip(radius, 0.45, None)
    x = radius * np.cos(theta) * aspect
    y = radius * np.sin(theta) / aspect
    shape = affinity.rotate(shapely.Polygon(np.column_stack([x, y])), angle_deg, origin=(0, 0))
    shape = affinity.scale(
        shape, math.sqrt(area_m2 / shape.area), math.sqrt(area_m2 / shape.area), origin=(0, 0)
    )
    return affinity.translate(shape, *centre)


def _rectangles(
    centres: np.ndarray, lengths: np.ndarray, widths: np.ndarray, angles_deg: np.ndarray
) -> np.ndarray:
    """Rotated rectangles (vectorised) centred on ``centres``, as a shapely array."""
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5]])
    local = corners[None, :, :] * np.column_stack([lengths, widths])[:, None, :]
    a = np.radians(angles_deg)[:, None]
    x = local[..., 0] * np.cos(a) - local[..., 1] * np.sin(a) + centres[:, 0:1]
    y = local[..., 0] * np.sin(a) + local[..., 1] * np.cos(a) + centres[:, 1:2]
    return shapely.polygons(np.stack([x, y], axis=-1))


def _largest_part(geom: shapely.Geometry) -> shapely.Polygon:
    parts = shapely.get_parts(geom)
    return parts[int(np.argmax(shapely.area(parts)))]


def _sample_points(
    region: shapely.Geometry,
    n: int,
    rng: np.random.Generator,
    *,
    accept: Callable[[np.ndarray], np.ndarray] | None = None,
    max_rounds: int = 200,
) -> np.ndarray:
    """Draw ``n`` uniform random points inside ``region`` by rejection sampling.

    Parameters
    ----------
    region
        Polygon(s) in EPSG:28992 to sample from.
    n
        Number of points.
    rng
        The random generator.
    accept
        Optional extra filter: takes an (m, 2) array, returns a boolean mask.

    Returns
    -------
    numpy.ndarray
        An (n, 2) array of x, y in m.
    """
    if n <= 0:
        return np.empty((0, 2))
    if region.is_empty:
        raise RuntimeError("demo: cannot sample points in an empty region")
    shapely.prepare(region)
    xmin, ymin, xmax, ymax = region.bounds
    fill = max(region.area / ((xmax - xmin) * (ymax - ymin)), 1e-3)
    found: list[np.ndarray] = []
    count = 0
    for _ in range(max_rounds):
        batch = int(n / fill * 1.5) + 16
        xy = np.column_stack([rng.uniform(xmin, xmax, batch), rng.uniform(ymin, ymax, batch)])
        keep = shapely.contains_xy(region, xy[:, 0], xy[:, 1])
        if accept is not None:
            keep[keep] = accept(xy[keep])
        found.append(xy[keep])
        count += int(keep.sum())
        if count >= n:
            return np.concatenate(found)[:n]
    raise RuntimeError(f"demo: found only {count} of {n} points in the sampling region")


def _place_at_gap(
    shape: shapely.Geometry,
    anchor: shapely.Geometry,
    centre: np.ndarray,
    direction_deg: float,
    gap_m: float,
) -> shapely.Geometry:
    """Move ``shape`` out from ``centre`` along a direction until it lies ``gap_m`` from
    ``anchor``."""
    unit = np.array([math.cos(math.radians(direction_deg)), math.sin(math.radians(direction_deg))])
    start = np.asarray(shapely.centroid(shape).coords[0])
    # Start beyond the anchor's far edge, then step until the gap is right (distance grows ~1:1).
    t = math.hypot(anchor.bounds[2] - anchor.bounds[0], anchor.bounds[3] - anchor.bounds[1])
    for _ in range(60):
        moved = affinity.translate(shape, *(centre + unit * t - start))
        error = gap_m - shapely.distance(moved, anchor)
        if abs(error) < 0.5:
            break
        t += error
    return moved


def _frame(records: dict[str, Sequence], geometry: Sequence | np.ndarray) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(records, geometry=list(geometry), crs=DEMO_CRS)


def _finish(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Round coordinates to the grid, add ``bron`` and check validity."""
    frame = frame.copy()
    geoms = shapely.set_precision(frame.geometry.values, _GRID_M)
    geoms = np.where(shapely.is_valid(geoms), geoms, shapely.make_valid(geoms))
    frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=DEMO_CRS))
    frame["bron"] = DEMO_SOURCE
    cols = [c for c in frame.columns if c != "geometry"] + ["geometry"]
    frame = frame[cols].reset_index(drop=True)
    if frame.empty or frame.geometry.is_empty.any() or not frame.geometry.is_valid.all():
        raise RuntimeError("demo: a layer came out empty or with invalid geometry")
    return frame


# --- layers -----------------------------------------------------------------


def _build_gemeenten(rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Two gemeenten split along an irregular north-south border."""
    n_vertices = 13
    y = np.linspace(0.0, _HEIGHT_M, n_vertices)
    x = _BORDER_X_M + rng.uniform(-_BORDER_WANDER_M, _BORDER_WANDER_M, n_vertices)
    border = _to_rd(np.column_stack([x, y]))
    west = shapely.Polygon(np.vstack([_to_rd([[0.0, 0.0]]), border, _to_rd([[0.0, _HEIGHT_M]])]))
    east = _area_box().difference(west)
    west = _area_box().intersection(west)
    return _frame(
        {
            "gemeentenaam": [n for n, _ in _GEMEENTEN],
            "gemeentecode": [c for _, c in _GEMEENTEN],
            # the demo lies in Noord-Limburg; the maps and report group by this region
            "regio": ["Noord-Limburg"] * len(_GEMEENTEN),
        },
        [_largest_part(west), _largest_part(east)],
    )


def _build_built_up_area(rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Village polygons (irregular, with ribbon development) and business parks."""
    parks = []
    for name, x, y, length, width, angle in _BUSINESS_PARKS:
        centre = _to_rd([x, y])
        main = _rectangles(centre[None], np.array([length]), np.array([width]), np.array([angle]))[
            0
        ]
        # An L-shaped extension makes the park less schematic.
        corner = centre + rng.uniform(0.15, 0.3, 2) * np.array([length, width])
        extension = _rectangles(
            corner[None], np.array([length * 0.45]), np.array([width * 0.6]), np.array([angle])
        )[0]
        parks.append(shapely.union(main, extension))
    park_union = shapely.union_all(parks)

    villages = []
    ribbon_axes = []
    for spec in _VILLAGES:
        centre = _to_rd([spec.x, spec.y])
        area_m2 = spec.area_km2 * 1e6
        radius = math.sqrt(area_m2 / math.pi)
        core = _blob(
            centre,
            0.7 * area_m2,
            rng,
            roughness=0.35,
            aspect=rng.uniform(0.85, 1.2),
            angle_deg=rng.uniform(0, 180),
        )
        # Two younger neighbourhoods grown against the old core make the outline organic.
        lobes = []
        for _ in range(2):
            angle = rng.uniform(0.0, 2.0 * np.pi)
            offset = radius * rng.uniform(0.55, 0.8) * np.array([math.cos(angle), math.sin(angle)])
            lobes.append(
                _blob(
                    centre + offset,
                    rng.uniform(0.12, 0.2) * area_m2,
                    rng,
                    roughness=0.3,
                    aspect=rng.uniform(0.8, 1.3),
                    angle_deg=rng.uniform(0, 180),
                    n_vertices=48,
                )
            )
        ribbons, axes = [], []
        for _ in range(int(rng.integers(2, 4))):  # 2-3 strips of ribbon development along roads
            angle = rng.uniform(0.0, 2.0 * np.pi)
            length = radius + rng.uniform(250.0, 550.0)
            end = centre + length * np.array([math.cos(angle), math.sin(angle)])
            axes.append(shapely.LineString([centre, end]))
            ribbons.append(axes[-1].buffer(rng.uniform(35.0, 55.0), cap_style="flat"))
        village = shapely.union_all([core, *lobes, *ribbons]).difference(park_union.buffer(25.0))
        villages.append(_largest_part(shapely.simplify(village, 1.0)))
        ribbon_axes.append(shapely.MultiLineString(axes))

    village_frame = _frame(
        {
            "naam": [v.name for v in _VILLAGES],
            "soort": ["kern"] * len(_VILLAGES),
            "ribbon_axes": ribbon_axes,
        },
        villages,
    )
    park_frame = _frame(
        {
            "naam": [p[0] for p in _BUSINESS_PARKS],
            "soort": ["bedrijventerrein"] * len(_BUSINESS_PARKS),
        },
        parks,
    )
    return village_frame, park_frame


def _build_kom(villages: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Bebouwde kom per village: the village shrunk by 30-80 m (so it differs from BBG).

    The kom in the sense of odour law follows the actual built-up situation;
    here it stays inside the BBG line and leaves out the business parks and
    the thinnest ribbon development.
    """
    shrink_m = rng.uniform(30.0, 80.0, len(villages))
    koms = [
        _largest_part(shapely.simplify(geom.buffer(-d), 1.0))
        for geom, d in zip(villages.geometry.values, shrink_m, strict=True)
    ]
    return _frame({"naam": villages["naam"].tolist()}, koms)


def _build_recreation_parks(
    villages: gpd.GeoDataFrame, business_parks: gpd.GeoDataFrame, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    """Six holiday parks of 5-30 ha; two of them just outside a village edge."""
    polygons = []
    # Two parks 60-150 m outside a village, to the north-west (away from the business parks).
    for village_name, direction in (("Broekveld", 135.0), ("Veltrum", 160.0)):
        village = villages.loc[villages["naam"] == village_name].geometry.iloc[0]
        centre = np.asarray(village.centroid.coords[0])
        shape = _blob(
            centre,
            rng.uniform(8e4, 15e4),
            rng,
            roughness=0.2,
            aspect=1.3,
            angle_deg=rng.uniform(0, 180),
            n_vertices=48,
        )
        polygons.append(_place_at_gap(shape, village, centre, direction, rng.uniform(60.0, 150.0)))
    built = shapely.union_all([*villages.geometry.values, *business_parks.geometry.values])
    forbidden = shapely.union_all(
        [built.buffer(500.0), _no_road_zones(), *[p.buffer(300.0) for p in polygons]]
    )
    rural = _area_box().buffer(-500.0).difference(forbidden)
    while len(polygons) < len(_RECREATION_PARKS):
        centre = _sample_points(rural, 1, rng)[0]
        shape = _blob(
            centre,
            rng.uniform(5e4, 30e4),
            rng,
            roughness=0.2,
            aspect=rng.uniform(1.0, 1.6),
            angle_deg=rng.uniform(0, 180),
            n_vertices=48,
        )
        if not shape.intersects(forbidden):
            polygons.append(shape)
            forbidden = forbidden.union(shape.buffer(300.0))
    return _frame({"parknaam": list(_RECREATION_PARKS)}, polygons)


def _no_road_zones() -> shapely.Geometry:
    """The road-free nature area and the clearance around the isolated hamlet."""
    nature = shapely.Point(_to_rd(_NATURE_CENTRE)).buffer(_NATURE_RADIUS_M)
    hamlet = shapely.Point(_to_rd(_HAMLET_CENTRE)).buffer(_HAMLET_CLEAR_M)
    return shapely.union(nature, hamlet)


def _polar_plume_radius(
    theta: np.ndarray, *, major: float, minor: float, shift: float
) -> np.ndarray:
    """Distance from the emission point to an ellipse shifted downwind, per direction.

    The ellipse has semi-axes ``major`` (along the wind, x) and ``minor``
    and its centre lies ``shift`` downwind of the emission point. Solving
    ((t cos θ - shift)/major)² + (t sin θ / minor)² = 1 for t > 0 gives the
    radius; the shape is star-shaped around the emission point.
    """
    c, s = np.cos(theta), np.sin(theta)
    a = c**2 / major**2 + s**2 / minor**2
    b = -2.0 * shift * c / major**2
    cc = shift**2 / major**2 - 1.0
    return (-b + np.sqrt(b**2 - 4.0 * a * cc)) / (2.0 * a)


def _build_farms(
    villages: gpd.GeoDataFrame,
    business_parks: gpd.GeoDataFrame,
    parks: gpd.GeoDataFrame,
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    """Livestock farms: emission points, some as stable footprints, a few by the villages.

    Six farms with an emission factor lie 50-110 m south-west of a village,
    upwind, so their plumes reach into the village; three farms without an
    emission factor lie 10-25 m outside a village edge (north-east) (fixed distances).
    """
    points: list[np.ndarray] = []
    near_village: list[bool] = []
    has_factor: list[bool] = []
    # Upwind farms with plumes into the village (south-west = 225 degrees).
    for _, village in villages.iloc[:_N_UPWIND_FARMS].iterrows():
        centre = np.asarray(village.geometry.centroid.coords[0])
        moved = _place_at_gap(
            shapely.Point(centre),
            village.geometry,
            centre,
            225.0 + rng.uniform(-20.0, 20.0),
            rng.uniform(50.0, 110.0),
        )
        points.append(np.asarray(moved.coords[0]))
        near_village.append(True)
        has_factor.append(True)
    # Cattle farms right at a village edge, on the lee side (fixed-distance rules apply).
    for _, village in villages.iloc[:_N_EDGE_CATTLE_FARMS].iterrows():
        centre = np.asarray(village.geometry.centroid.coords[0])
        moved = _place_at_gap(
            shapely.Point(centre),
            village.geometry,
            centre,
            rng.uniform(20.0, 60.0),
            rng.uniform(10.0, 25.0),
        )
        points.append(np.asarray(moved.coords[0]))
        near_village.append(True)
        has_factor.append(False)

    built = shapely.union_all([*villages.geometry.values, *business_parks.geometry.values])
    rural = (
        _area_box()
        .buffer(-200.0)
        .difference(
            shapely.union_all(
                [
                    built.buffer(200.0),
                    parks.geometry.union_all().buffer(100.0),
                    _no_road_zones().buffer(300.0),
                ]
            )
        )
    )
    min_spacing_m = 300.0  # farms do not crowd each other
    candidates = _sample_points(rural, 4 * _N_FARMS, rng)
    for xy in candidates:
        if len(points) == _N_FARMS:
            break
        if min(math.dist(xy, p) for p in points) >= min_spacing_m:
            points.append(xy)
            near_village.append(False)
            has_factor.append(sum(has_factor) < _N_CONTOUR_FARMS)
    if len(points) < _N_FARMS:
        raise RuntimeError("demo: not enough room for the farms")
    # Interleave factor / no-factor farms in the rural set (keep the near-village ones as set).
    n_by_village = _N_UPWIND_FARMS + _N_EDGE_CATTLE_FARMS
    rural_idx = np.arange(n_by_village, _N_FARMS)
    flags = np.array(has_factor)
    flags[rural_idx] = rng.permutation(flags[rural_idx])
    has_factor = flags.tolist()

    xy = np.array(points)
    n = len(xy)
    species = np.empty(n, dtype=object)
    factor_species = list(_SPECIES_WITH_FACTOR)
    plain_species = list(_SPECIES_WITHOUT_FACTOR)
    flags = np.array(has_factor)
    # Pigs dominate the Peel: half of the farms with an emission factor.
    species[flags] = rng.choice(factor_species, flags.sum(), p=[0.5, 0.15, 0.15, 0.1, 0.1])
    species[~flags] = rng.choice(plain_species, (~flags).sum(), p=[0.5, 0.2, 0.2, 0.1])
    kinds = {**_SPECIES_WITH_FACTOR, **_SPECIES_WITHOUT_FACTOR}
    numbers = rng.permutation(np.arange(2, 200))[:n]  # unique house numbers keep names unique
    names = [
        f"{kinds[s]} {rng.choice(_FARM_PREFIXES)} {rng.choice(_FARM_NAMES)} {num}"
        for s, num in zip(species, numbers, strict=True)
    ]
    geometry = shapely.points(xy)
    # Stable footprints only in the open countryside, so none reaches into a village.
    as_polygon = np.sort(rng.choice(rural_idx, _N_FARM_POLYGONS, replace=False))
    dims = np.array(
        [(20.0, 60.0), (25.0, 80.0), (15.0, 50.0), (30.0, 90.0)]
    )  # stable width x length
    chosen = dims[rng.integers(0, len(dims), _N_FARM_POLYGONS)]
    geometry[as_polygon] = _rectangles(
        xy[as_polygon], chosen[:, 1], chosen[:, 0], rng.uniform(0.0, 180.0, _N_FARM_POLYGONS)
    )
    fixed = np.full(n, np.nan)
    plain_idx = np.flatnonzero(~flags)
    # One cattle farm at a village edge keeps a legacy circle; the rest are drawn at random.
    first_cattle = _N_UPWIND_FARMS
    others = plain_idx[plain_idx != first_cattle]
    legacy = np.concatenate(
        [[first_cattle], rng.choice(others, _N_FIXED_DISTANCE - 1, replace=False)]
    )
    fixed[legacy] = rng.choice(
        [100.0, 150.0, 200.0], _N_FIXED_DISTANCE
    )  # legacy stankcirkel radii (m)
    # Two-level emission radius: the 2 OUe/m3 upwind radius, larger for the farms by the villages.
    r2 = np.where(
        np.array(near_village) & flags, rng.uniform(550.0, 650.0, n), rng.uniform(300.0, 620.0, n)
    )
    # The layer says ja/nee per farm; a few leave it empty (unknown): two stable footprints of farms
    # with a factor (then the strictest distance, 100/50 m instead of 50/25 m, applies) and one
    # rural cattle farm.
    factor_text = np.where(flags, "ja", "nee").astype(object)
    unknown = [
        *as_polygon[flags[as_polygon]][: _N_UNKNOWN_FACTOR - 1],
        rural_idx[~flags[rural_idx]][0],
    ]
    factor_text[unknown] = None
    return _frame(
        {
            "naam": names,
            "diersoort": species.tolist(),
            "geuremissiefactor": factor_text.tolist(),
            "vaste_afstand_m": fixed,
            "emission_point": shapely.points(xy),
            "has_factor": flags,
            "r2_m": r2,
            "near_village": near_village,
        },
        geometry,
    )


def _build_odour_contours(farms: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Nested, filled odour contours around every farm with an emission factor.

    The contour for value v has upwind radius ``r2 * 2 / v`` (load falls off
    roughly inversely with distance): from ~1 km downwind for 2 OUe/m³ to
    tens of metres for 20 OUe/m³. All contours of a farm share one
    perturbed plume shape, so higher values always nest inside lower ones.
    Some farms have coarser steps (:data:`_COARSE_CONTOUR_VALUES`) that skip
    the norms, so the contours cannot decide between two of them.
    """
    theta = np.linspace(0.0, 2.0 * np.pi, 96, endpoint=False)
    box = _area_box()
    rows: list[tuple[float, str]] = []
    geoms = []
    for i, farm in enumerate(farms.loc[farms["has_factor"]].itertuples()):
        wind = math.radians(_WIND_TOWARDS_DEG + rng.uniform(-15.0, 15.0))
        shape = _polar_plume_radius(
            theta - wind,
            major=rng.uniform(1.25, 1.45),
            minor=rng.uniform(0.75, 0.9),
            shift=rng.uniform(0.3, 0.45),
        )
        for k in range(2, 6):  # a little irregularity, as in V-Stacks output
            shape *= 1.0 + rng.normal(0.0, 0.05) * np.cos(k * theta + rng.uniform(0.0, 2.0 * np.pi))
        n_levels = int(rng.integers(4, len(_CONTOUR_VALUES) + 1))  # small farms stop at 8 or 14
        values = _CONTOUR_VALUES[:n_levels]
        if i % _COARSE_EVERY == _COARSE_FIRST:
            values = _COARSE_CONTOUR_VALUES
        x0, y0 = farm.emission_point.coords[0]
        for value in values:
            radius = farm.r2_m * 2.0 / value * shape
            ring = np.column_stack([x0 + radius * np.cos(theta), y0 + radius * np.sin(theta)])
            # Clip to the demo box; star-shaped around the farm, so the result stays one polygon.
            geoms.append(shapely.Polygon(ring).intersection(box))
            rows.append((value, farm.naam))
    return _frame({"geur_oue": [r[0] for r in rows], "veehouderij": [r[1] for r in rows]}, geoms)


def _build_employers(
    villages: gpd.GeoDataFrame,
    business_parks: gpd.GeoDataFrame,
    farms: gpd.GeoDataFrame,
    parks: gpd.GeoDataFrame,
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    """Employers: plots on business parks (polygons) and points elsewhere."""
    built = shapely.union_all([*villages.geometry.values, *business_parks.geometry.values])
    rural = (
        _area_box()
        .buffer(-300.0)
        .difference(
            shapely.union_all(
                [
                    built.buffer(150.0),
                    parks.geometry.union_all().buffer(100.0),
                    farms.geometry.union_all().buffer(80.0),
                    _no_road_zones().buffer(200.0),
                ]
            )
        )
    )
    geoms = []
    for i, (_, _, where) in enumerate(_EMPLOYERS):
        if where == "rural":
            geoms.append(shapely.Point(_sample_points(rural, 1, rng)[0]))
            continue
        if isinstance(where, int):
            area = business_parks.geometry.iloc[where]
        else:
            area = villages.loc[villages["naam"] == where].geometry.iloc[0]
        inner = area.buffer(-40.0)
        xy = _sample_points(inner, 1, rng)[0]
        if i < _N_EMPLOYER_POLYGONS:
            plot = _rectangles(
                xy[None],
                np.array([rng.uniform(90.0, 160.0)]),
                np.array([rng.uniform(60.0, 100.0)]),
                np.array([_BUSINESS_PARKS[where][5]]),
            )[0]
            geoms.append(_largest_part(plot.intersection(area)))
        else:
            geoms.append(shapely.Point(xy))
    return _frame(
        {"bedrijfsnaam": [e[0] for e in _EMPLOYERS], "sector": [e[1] for e in _EMPLOYERS]}, geoms
    )


# --- roads ------------------------------------------------------------------


@dataclass
class _RoadDraft:
    """Road lines before noding, with their attributes (parallel lists)."""

    geoms: list[shapely.LineString]
    highway: list[str]
    maxspeed: list[float]
    oneway: list[str]
    names: list[str | None]

    def add(
        self,
        geom: shapely.Geometry,
        highway: str,
        maxspeed: float,
        name: str | None,
        oneway: str = "no",
    ) -> None:
        """Add the line parts of ``geom`` (points and slivers under 1 m are skipped)."""
        for part in shapely.get_parts(geom):
            if part.geom_type == "LineString" and part.length > 1.0:
                self.geoms.append(part)
                self.highway.append(highway)
                self.maxspeed.append(maxspeed)
                self.oneway.append(oneway)
                self.names.append(name)


def _wiggly_line(
    a: np.ndarray, b: np.ndarray, rng: np.random.Generator, *, bend_m: float, n: int = 12
) -> shapely.LineString:
    """A road from a to b that bends sideways smoothly (sum of two sine bumps)."""
    t = np.linspace(0.0, 1.0, n)
    direction = b - a
    normal = np.array([-direction[1], direction[0]]) / np.linalg.norm(direction)
    offset = rng.uniform(-bend_m, bend_m) * np.sin(np.pi * t) + rng.uniform(
        -bend_m, bend_m
    ) / 3 * np.sin(2 * np.pi * t)
    return shapely.LineString(a + t[:, None] * direction + offset[:, None] * normal)


def _street_grid(
    area: shapely.Geometry, centre: np.ndarray, spacing_m: float, angle_deg: float
) -> list:
    """Two families of parallel lines through ``area``, clipped to it."""
    half = (
        math.hypot(area.bounds[2] - area.bounds[0], area.bounds[3] - area.bounds[1]) / 2 + spacing_m
    )
    offsets = np.arange(-half, half + 1e-9, spacing_m)
    lines = []
    for family_angle in (angle_deg, angle_deg + 90.0):
        a = math.radians(family_angle)
        along = np.array([math.cos(a), math.sin(a)])
        across = np.array([-along[1], along[0]])
        for off in offsets:
            p = centre + across * off
            line = shapely.LineString([p - along * half, p + along * half])
            lines.append((off, line.intersection(area)))
    return lines


def _build_roads(
    villages: gpd.GeoDataFrame,
    business_parks: gpd.GeoDataFrame,
    farms: gpd.GeoDataFrame,
    employers: gpd.GeoDataFrame,
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    """A connected road network plus one isolated buurtschap, noded at every crossing."""
    draft = _RoadDraft([], [], [], [], [])
    centres = np.array([g.centroid.coords[0] for g in villages.geometry.values])
    names = villages["naam"].tolist()

    # Provincial roads: a minimum spanning tree of the villages plus one ring road.
    complete = nx.Graph()
    for i in range(len(centres)):
        for j in range(i + 1, len(centres)):
            complete.add_edge(i, j, weight=float(np.linalg.norm(centres[i] - centres[j])))
    tree_edges = sorted(tuple(sorted(e)) for e in nx.minimum_spanning_edges(complete, data=False))
    extra = sorted(
        (w, i, j)
        for i, j, w in complete.edges(data="weight")
        if (min(i, j), max(i, j)) not in tree_edges
    )
    for i, j in [*tree_edges, tuple(extra[0][1:])]:
        line = _wiggly_line(centres[i], centres[j], rng, bend_m=250.0)
        draft.add(line, "secondary", 80.0, f"Provinciale weg {names[i]}–{names[j]}")
    # Two provincial roads leave the box (to the east and to the north).
    draft.add(
        _wiggly_line(
            centres[0], np.array([DEMO_BOUNDS[2], centres[0][1] + 300.0]), rng, bend_m=150.0
        ),
        "secondary",
        80.0,
        f"Provinciale weg {names[0]}–Maas",
    )
    draft.add(
        _wiggly_line(
            centres[2], np.array([centres[2][0] + 500.0, DEMO_BOUNDS[3]]), rng, bend_m=150.0
        ),
        "secondary",
        80.0,
        f"Provinciale weg {names[2]}–Noord",
    )

    # Peel reclamation grid: long straight rural roads, slightly rotated, 900-1500 m apart.
    grid_angle = rng.uniform(8.0, 16.0)
    box_centre = np.array(
        [(DEMO_BOUNDS[0] + DEMO_BOUNDS[2]) / 2, (DEMO_BOUNDS[1] + DEMO_BOUNDS[3]) / 2]
    )
    box = _area_box()
    name_index = 0
    for family_angle, half_span in (
        (grid_angle, _HEIGHT_M / 2 + 1500),
        (grid_angle + 90.0, _WIDTH_M / 2 + 1500),
    ):
        a = math.radians(family_angle)
        along = np.array([math.cos(a), math.sin(a)])
        across = np.array([-along[1], along[0]])
        offset = -half_span
        while offset < half_span:
            offset += rng.uniform(900.0, 1500.0)
            start_f, end_f = (
                rng.uniform(-1.0, -0.4),
                rng.uniform(0.4, 1.0),
            )  # not every road spans the box
            p = box_centre + across * offset
            reach = max(_WIDTH_M, _HEIGHT_M)
            line = shapely.LineString(
                [p + along * reach * start_f, p + along * reach * end_f]
            ).intersection(box)
            highway = "tertiary" if name_index % 3 == 0 else "unclassified"
            draft.add(line, highway, 60.0, _RURAL_ROAD_NAMES[name_index % len(_RURAL_ROAD_NAMES)])
            name_index += 1

    # Village street grids; the two lines closest to the centre are 50 km/h main streets.
    for name, geom, centre in zip(names, villages.geometry.values, centres, strict=True):
        spacing = rng.uniform(100.0, 140.0)
        grid = _street_grid(geom.buffer(25.0), centre, spacing, rng.uniform(0.0, 90.0))
        for k, (off, clipped) in enumerate(grid):
            main = abs(off) < spacing / 2
            street = "Dorpsstraat" if main else _STREET_NAMES[(k + len(name)) % len(_STREET_NAMES)]
            if rng.random() < 0.5:
                clipped = shapely.reverse(clipped)  # streets are digitised both ways
            draft.add(clipped, "residential", 50.0 if main else 30.0, f"{street} ({name})")
    # The roads along which the ribbon development grew.
    for name, axes in zip(names, villages["ribbon_axes"], strict=True):
        for k, axis in enumerate(shapely.get_parts(axes)):
            draft.add(axis, "residential", 50.0, f"{_RIBBON_ROAD_NAMES[k]} ({name})")
    for (pname, *_rest), geom in zip(_BUSINESS_PARKS, business_parks.geometry.values, strict=True):
        centre = np.asarray(geom.centroid.coords[0])
        for _, clipped in _street_grid(geom.buffer(10.0), centre, 160.0, _rest[-1]):
            draft.add(clipped, "unclassified", 50.0, f"Industrieweg ({pname.split(' ', 1)[1]})")

    # Cycleways: an old railway track between two villages and short cuts out of three villages.
    draft.add(
        shapely.LineString([centres[2], centres[4]]), "cycleway", np.nan, "Fietspad Oude Spoorbaan"
    )
    for i in (0, 1, 3):
        angle = rng.uniform(0.0, 2.0 * np.pi)
        end = centres[i] + rng.uniform(1_300.0, 1_900.0) * np.array(
            [math.cos(angle), math.sin(angle)]
        )
        draft.add(
            _wiggly_line(centres[i], end, rng, bend_m=80.0, n=8),
            "cycleway",
            np.nan,
            f"Fietspad {names[i]}",
        )

    # Nothing may cross the nature area or come near the hamlet.
    zones = _no_road_zones()
    draft.geoms = [shapely.difference(g, zones) if g.intersects(zones) else g for g in draft.geoms]
    clean = _RoadDraft([], [], [], [], [])
    for g, h, s, o, n in zip(
        draft.geoms, draft.highway, draft.maxspeed, draft.oneway, draft.names, strict=True
    ):
        clean.add(g, h, s, n, o)
    draft = clean

    # Farm tracks and driveways from each farm and rural employer to the nearest road of the
    # connected network (a stub cut off by the nature area would leave a farm unreachable).
    network = _drop_stray_pieces(_node_roads(draft)).geometry.values
    tree = shapely.STRtree(network)
    built = shapely.union_all([*villages.geometry.values, *business_parks.geometry.values])
    employer_points = employers.geometry.values[employers.geom_type.to_numpy() == "Point"]
    rural_employers = [g for g in employer_points if not built.intersects(g)]
    access = np.array([*shapely.centroid(farms.geometry.values), *rural_employers])
    nearest = tree.query_nearest(access, all_matches=False)[1]
    tracks = shapely.shortest_line(access, network[nearest])
    for track in tracks:
        draft.add(track, "track", np.nan, None)

    # The isolated buurtschap: a crossroads and a short loop, linked to nothing else.
    hc = _to_rd(_HAMLET_CENTRE)
    arms = [
        hc + _HAMLET_RADIUS_M * np.array([math.cos(a), math.sin(a)])
        for a in np.radians([20, 110, 200, 290])
    ]
    draft.add(
        shapely.LineString([arms[0], hc, arms[2]]), "unclassified", 60.0, f"{_HAMLET_NAME}erweg"
    )
    draft.add(shapely.LineString([arms[1], hc, arms[3]]), "residential", 30.0, _HAMLET_NAME)
    loop = shapely.LineString(
        shapely.Point(hc + np.array([90.0, 90.0])).buffer(70.0, quad_segs=4).exterior.coords
    )
    draft.add(loop, "residential", 30.0, f"Kleine {_HAMLET_NAME}")

    roads = _node_roads(draft)
    roads = _drop_stray_pieces(roads)
    # A few village street blocks are one-way, in their digitised direction.
    side_streets = (roads["highway"] == "residential") & (roads["maxspeed"] < _SPEED_IN_BBG_KMH)
    one_way = side_streets & (rng.random(len(roads)) < _SHARE_ONE_WAY)
    roads.loc[one_way.to_numpy(), "oneway"] = "yes"
    inside = shapely.contains(
        built, shapely.line_interpolate_point(roads.geometry.values, 0.5, normalized=True)
    )
    roads.loc[inside & (roads["maxspeed"] > _SPEED_IN_BBG_KMH), "maxspeed"] = _SPEED_IN_BBG_KMH
    return roads


def _node_roads(draft: _RoadDraft) -> gpd.GeoDataFrame:
    """Split all road lines at every crossing and give each piece its road's attributes.

    Lines are unioned with snap rounding on a 1 cm grid (so a track ending
    on a road creates a node there), then each noded piece takes the
    attributes of the highest-ranked draft road it lies on and the
    digitising direction of that road (which one-way streets depend on).
    """
    order = np.argsort([_ROAD_CLASSES.index(h) for h in draft.highway], kind="stable")
    originals = np.array(draft.geoms, dtype=object)[order]
    pieces = shapely.get_parts(shapely.union_all(originals, grid_size=_GRID_M))
    pieces = pieces[shapely.length(pieces) > _GRID_M]
    midpoints = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
    piece_idx, orig_idx = shapely.STRtree(originals).query(
        midpoints, predicate="dwithin", distance=5 * _GRID_M
    )
    owner = np.full(len(pieces), len(originals))
    np.minimum.at(owner, piece_idx, orig_idx)
    if (owner == len(originals)).any():
        raise RuntimeError("demo: a noded road piece lies on no road")
    owned = originals[owner]
    start = shapely.line_locate_point(owned, shapely.get_point(pieces, 0))
    end = shapely.line_locate_point(owned, shapely.get_point(pieces, -1))
    pieces = np.where(start > end, shapely.reverse(pieces), pieces)
    source = order[owner]
    roads = gpd.GeoDataFrame(
        {
            "highway": np.array(draft.highway, dtype=object)[source],
            "maxspeed": np.array(draft.maxspeed, dtype=float)[source],
            "oneway": np.array(draft.oneway, dtype=object)[source],
            "naam": np.array(draft.names, dtype=object)[source],
        },
        geometry=pieces,
        crs=DEMO_CRS,
    )
    # Sort by class, then by start coordinate, so the file order does not depend on GEOS internals.
    first = shapely.get_coordinates(shapely.get_point(pieces, 0))
    key = np.lexsort((first[:, 1], first[:, 0], [_ROAD_CLASSES.index(h) for h in roads["highway"]]))
    return roads.iloc[key].reset_index(drop=True)


def _endpoint_graph(lines: np.ndarray) -> nx.Graph:
    """Graph with one node per (cm-rounded) line endpoint and one edge per line."""
    first = np.round(shapely.get_coordinates(shapely.get_point(lines, 0)), 2)
    last = np.round(shapely.get_coordinates(shapely.get_point(lines, -1)), 2)
    graph = nx.MultiGraph()
    for i, (a, b) in enumerate(zip(map(tuple, first), map(tuple, last), strict=True)):
        graph.add_edge(a, b, key=i)
    return graph


def _drop_stray_pieces(roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Keep the main connected network and the hamlet; drop street stubs cut off by clipping."""
    graph = _endpoint_graph(roads.geometry.values)
    components = sorted(nx.connected_components(graph), key=len, reverse=True)
    hamlet = shapely.Point(_to_rd(_HAMLET_CENTRE)).buffer(_HAMLET_CLEAR_M)
    keep_nodes = set(components[0])
    for comp in components[1:]:
        if all(hamlet.contains(shapely.Point(p)) for p in comp):
            keep_nodes |= comp
    first = map(
        tuple, np.round(shapely.get_coordinates(shapely.get_point(roads.geometry.values, 0)), 2)
    )
    keep = np.array([p in keep_nodes for p in first])
    log.info(
        "demowegennet: %d wegvakken behouden, %d losse stukken weggelaten",
        keep.sum(),
        (~keep).sum(),
    )
    return roads.loc[keep].reset_index(drop=True)


# --- candidate sites --------------------------------------------------------


def _build_sites(
    n_sites: int,
    villages: gpd.GeoDataFrame,
    business_parks: gpd.GeoDataFrame,
    kom: gpd.GeoDataFrame,
    parks: gpd.GeoDataFrame,
    farms: gpd.GeoDataFrame,
    contours: gpd.GeoDataFrame,
    employers: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    """Candidate sites covering every class: in, at the edge of and outside BBG, and the special
    cases."""
    village_union = villages.geometry.union_all()
    business_union = business_parks.geometry.union_all()
    bbg = shapely.union(village_union, business_union)
    kom_union = kom.geometry.union_all()
    park_union = parks.geometry.union_all()
    road_tree = shapely.STRtree(roads.geometry.values)

    def near_road(xy: np.ndarray) -> np.ndarray:
        """Ordinary rural sites lie within 900 m of a road (the remote ones are placed on
        purpose)."""
        _, dist = road_tree.query_nearest(
            shapely.points(xy), return_distance=True, all_matches=False
        )
        return dist <= 900.0

    def share(fraction: float) -> int:
        return max(3, round(fraction * n_sites))

    point_farms = farms.loc[farms.geometry.geom_type == "Point"]
    plain_farms = farms.loc[~farms["has_factor"] & farms["near_village"]]
    contour3 = contours.loc[contours["geur_oue"] >= 3.0].geometry.union_all()
    contour14 = contours.loc[contours["geur_oue"] >= 14.0].geometry.union_all()
    edge_band = bbg.buffer(_EDGE_M).difference(bbg).difference(park_union)
    # Undecidable odour: between a coarse farm's two contours that straddle the norm (3 in the kom,
    # 14 outside), away from every other contour at or above the norm and from every farm.
    coarse = (
        contours.groupby("veehouderij")["geur_oue"]
        .transform(lambda v: not {3.0, 14.0} & set(v))
        .astype(bool)
    )

    def coarse_ring(low: float, high: float) -> shapely.Geometry:
        ring = shapely.union_all(
            contours.loc[coarse & (contours["geur_oue"] == low)].geometry.values
        )
        return ring.difference(
            shapely.union_all(contours.loc[coarse & (contours["geur_oue"] == high)].geometry.values)
        )

    away = farms.geometry.buffer(100.0).union_all()
    undecided_in_kom = (
        kom_union.intersection(coarse_ring(2.0, 5.0)).difference(contour3).difference(away)
    )
    undecided_outside = (
        coarse_ring(8.0, 20.0)
        .difference(contour14)
        .difference(bbg.buffer(_EDGE_M))
        .difference(away)
    )
    rural = (
        _area_box()
        .buffer(-50.0)
        .difference(shapely.union_all([bbg.buffer(_EDGE_M), park_union, _no_road_zones()]))
    )

    groups: list[tuple[str, np.ndarray]] = [
        ("kern", _sample_points(kom_union.intersection(contour3), share(_SHARE_KOM_CONTOUR), rng)),
        (
            "kern",
            _sample_points(
                kom_union.intersection(plain_farms.geometry.buffer(100.0).union_all()),
                share(_SHARE_KOM_FIXED),
                rng,
            ),
        ),
        ("bedrijventerrein", _sample_points(business_union, share(_SHARE_ON_BUSINESS_PARK), rng)),
        # the parcels on the BBG boundary below are taken from the edge share
        ("rand", _sample_points(edge_band, share(_SHARE_EDGE) - 2 * _boundary_count(n_sites), rng)),
        ("recreatiepark", _sample_points(park_union, share(_SHARE_PARK), rng)),
        (
            "veehouderij",
            _near_points(
                point_farms.geometry.values, share(_SHARE_NEAR_FARM), rng, min_m=15.0, max_m=45.0
            ),
        ),
        (
            "buitengebied",
            _sample_points(
                contour14.difference(bbg.buffer(_EDGE_M)),
                share(_SHARE_CONTOUR_OUTSIDE),
                rng,
                accept=near_road,
            ),
        ),
        ("kern", _sample_points(undecided_in_kom, share(_SHARE_ODOUR_UNDECIDED), rng)),
        ("buitengebied", _sample_points(undecided_outside, share(_SHARE_ODOUR_UNDECIDED), rng)),
        (
            "buurtschap",
            _sample_points(
                shapely.Point(_to_rd(_HAMLET_CENTRE)).buffer(150.0), _N_HAMLET_SITES, rng
            ),
        ),
        (
            "natuur",
            _sample_points(
                shapely.Point(_to_rd(_NATURE_CENTRE)).buffer(200.0), _N_REMOTE_SITES, rng
            ),
        ),
    ]
    # parcels on the village boundary: centred on it (partly inside BBG) or cut off by it (touching
    # BBG)
    boundary = shapely.get_parts(village_union)
    boundary = (
        shapely.boundary(boundary[np.argmax(shapely.area(boundary))])
        if len(boundary)
        else shapely.LineString()
    )
    for name in ("grens", "raakt"):
        at = shapely.line_interpolate_point(
            boundary, rng.uniform(0.0, 1.0, _boundary_count(n_sites)), normalized=True
        )
        groups.append((name, shapely.get_coordinates(at)))
    n_fixed = sum(len(xy) for _, xy in groups)
    n_village = min(
        share(_SHARE_IN_VILLAGE), n_sites - n_fixed - 1
    )  # a small demo keeps one rural site
    n_rural = n_sites - n_fixed - n_village
    if n_rural < 1:
        raise ValueError(f"demo: {n_sites} sites are too few for all classes")
    groups.append(("kern", _sample_points(village_union, n_village, rng)))
    groups.append(("buitengebied", _sample_points(rural, n_rural, rng, accept=near_road)))

    xy = np.concatenate([g[1] for g in groups])
    context = np.concatenate([[g[0]] * len(g[1]) for g in groups])
    perm = rng.permutation(len(xy))  # the id says nothing about the class
    xy, context = xy[perm], context[perm]
    frame = _site_frame(xy, context, employers, rng)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    for name in ("grens", "raakt"):
        idx = np.flatnonzero(context == name)
        half = rng.uniform(12.0, 26.0, len(idx))  # 24-52 m squares (576-2704 m²)
        squares = shapely.box(
            xy[idx, 0] - half, xy[idx, 1] - half, xy[idx, 0] + half, xy[idx, 1] + half
        )
        if (
            name == "raakt"
            # the part outside BBG: along the boundary of BBG (5 cm off, so no sliver after
            # rounding)
        ):
            squares = np.array(
                [_largest_part(g) for g in shapely.difference(squares, bbg.buffer(0.05))],
                dtype=object,
            )
        geoms[idx] = squares
    return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=DEMO_CRS))


def _boundary_count(n_sites: int) -> int:
    """Parcels of each kind on the BBG boundary (half inside, touching): at least one."""
    return max(1, round(_SHARE_ON_BOUNDARY * n_sites))


def _near_points(
    geoms: np.ndarray, n: int, rng: np.random.Generator, *, min_m: float, max_m: float
) -> np.ndarray:
    """``n`` points at min_m..max_m from randomly chosen points of ``geoms``."""
    base = shapely.get_coordinates(geoms)[rng.integers(0, len(geoms), n)]
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    dist = rng.uniform(min_m, max_m, n)
    return base + dist[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])


def _site_frame(
    xy: np.ndarray, context: np.ndarray, employers: gpd.GeoDataFrame, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    """Attributes and geometry (80 % points, 20 % small parcels) of the sites."""
    n = len(xy)
    geometry = shapely.points(xy)
    as_polygon = rng.random(n) < _SHARE_POLYGON_SITES
    m = int(as_polygon.sum())
    area = rng.uniform(200.0, 3000.0, m)  # parcel or building footprint, m2
    aspect = rng.uniform(1.0, 2.5, m)
    geometry[as_polygon] = _rectangles(
        xy[as_polygon], np.sqrt(area * aspect), np.sqrt(area / aspect), rng.uniform(0.0, 180.0, m)
    )

    stay = rng.choice(list(STAY_TYPES), n, p=[0.5, 0.25, 0.25])
    # Probability of logies per stay type; the rest is woonfunctie (some short-stay in a dwelling).
    p_logies = np.select([stay == "short_stay", stay == "mid_stay"], [0.85, 0.3], 0.05)
    form = np.where(rng.random(n) < p_logies, "logies", "woonfunctie").astype(object)
    form[rng.random(n) < _SHARE_HOUSING_FORM_NULL] = None  # the default applies

    description = np.empty(n, dtype=object)
    persons = np.empty(n, dtype=np.int64)
    for name, (texts, (low, high)) in _SITE_CONTEXTS.items():
        idx = np.flatnonzero(context == name)
        description[idx] = rng.choice(texts, len(idx))
        persons[idx] = rng.integers(low, high + 1, len(idx))
    bedrooms = persons.copy()
    short = rng.random(n) < _SHARE_BEDROOM_VIOLATION
    bedrooms[short] = np.maximum(
        1, np.floor(persons[short] * rng.uniform(0.4, 0.9, short.sum()))
    ).astype(np.int64)
    floor_per_person = rng.uniform(15.5, 35.0, n)
    cramped = rng.random(n) < _SHARE_FLOOR_AREA_VIOLATION
    floor_per_person[cramped] = rng.uniform(8.0, 14.5, cramped.sum())
    floor_area = np.round(persons * floor_per_person, 1)

    # About 30 % name an employer: one of the five nearest by straight-line distance.
    employer_xy = shapely.get_coordinates(shapely.centroid(np.asarray(employers.geometry.values)))
    dist = np.linalg.norm(xy[:, None, :] - employer_xy[None, :, :], axis=2)
    nearest5 = np.argsort(dist, axis=1, kind="stable")[:, :5]
    pick = nearest5[np.arange(n), rng.integers(0, 5, n)]
    employer = employers["bedrijfsnaam"].to_numpy(dtype=object)[pick]
    employer[rng.random(n) >= _SHARE_WITH_EMPLOYER] = None

    # Temporary building (ja/nee/empty) and its term in years (empty: not given).
    draw = rng.random(n)
    temporary = np.where(
        draw < _SHARE_TEMPORARY,
        "ja",
        np.where(draw < _SHARE_TEMPORARY + _SHARE_PERMANENT, "nee", None),
    ).astype(object)
    term = np.where(
        temporary == "ja",
        rng.choice([3.0, 5.0, 10.0, 15.0, np.nan], n, p=[0.25, 0.3, 0.2, 0.15, 0.1]),
        np.nan,
    )

    return _frame(
        {
            "locatie_code": [f"DEMO-{i + 1:05d}" for i in range(n)],
            "verblijfstype": stay.tolist(),
            "huisvestingsvorm": form.tolist(),
            "personen": persons,
            "slaapkamers": bedrooms,
            "woonoppervlak_m2": floor_area,
            "werkgever": employer.tolist(),
            "tijdelijk": temporary.tolist(),
            "termijn": term,
            "omschrijving": description.tolist(),
            "context": context,
        },
        geometry,
    )


# --- writing ----------------------------------------------------------------


def _write_geopackages(frames: dict[str, gpd.GeoDataFrame], input_dir: Path) -> None:
    """Write one GeoPackage per layer, replacing older versions, with a pinned timestamp."""
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _GPKG_DATE})
    try:
        for name, frame in frames.items():
            path = input_dir / f"{name}.gpkg"
            path.unlink(missing_ok=True)
            frame.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
