"""The reference layers of the demo region: gemeenten, built-up area, kom, parks, farms,
odour contours and employers.

Each builder draws from the one random generator of the demo in a fixed order
(see :func:`locatietoets.layers.worlds.demo.build_demo_layers`), so the
layers are deterministic. Sizes, counts and names of the farms, parks and
employers are set here; where things lie is set in
:mod:`locatietoets.layers.worlds.layout`.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely

from locatietoets.layers.worlds.layout import (
    BUSINESS_PARKS,
    GEMEENTEN,
    HEIGHT_M,
    VILLAGES,
    area_box,
    demo_frame,
    no_road_zones,
    to_rd,
)
from locatietoets.layers.worlds.shapes import (
    blob,
    largest_part,
    place_at_gap,
    rotated_rectangles,
    sample_points,
)

__all__ = [
    "build_gemeenten",
    "build_built_up_area",
    "build_kom",
    "build_recreation_parks",
    "build_farms",
    "build_odour_contours",
    "build_employers",
]

# x of the irregular gemeente border (local m) and how far it wanders east/west.
_BORDER_X_M, _BORDER_WANDER_M = 9_600.0, 450.0

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


def build_gemeenten(rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Two gemeenten split along an irregular north-south border."""
    n_vertices = 13
    y = np.linspace(0.0, HEIGHT_M, n_vertices)
    x = _BORDER_X_M + rng.uniform(-_BORDER_WANDER_M, _BORDER_WANDER_M, n_vertices)
    border = to_rd(np.column_stack([x, y]))
    west = shapely.Polygon(np.vstack([to_rd([[0.0, 0.0]]), border, to_rd([[0.0, HEIGHT_M]])]))
    east = area_box().difference(west)
    west = area_box().intersection(west)
    return demo_frame(
        {
            "gemeentenaam": [n for n, _ in GEMEENTEN],
            "gemeentecode": [c for _, c in GEMEENTEN],
            # the demo lies in Noord-Limburg; the maps and report group by this region
            "regio": ["Noord-Limburg"] * len(GEMEENTEN),
        },
        [largest_part(west), largest_part(east)],
    )


def build_built_up_area(rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Village polygons (irregular, with ribbon development) and business parks."""
    parks = []
    for name, x, y, length, width, angle in BUSINESS_PARKS:
        centre = to_rd([x, y])
        main = rotated_rectangles(
            centre[None], np.array([length]), np.array([width]), np.array([angle])
        )[0]
        # An L-shaped extension makes the park less schematic.
        corner = centre + rng.uniform(0.15, 0.3, 2) * np.array([length, width])
        extension = rotated_rectangles(
            corner[None], np.array([length * 0.45]), np.array([width * 0.6]), np.array([angle])
        )[0]
        parks.append(shapely.union(main, extension))
    park_union = shapely.union_all(parks)

    villages = []
    ribbon_axes = []
    for spec in VILLAGES:
        centre = to_rd([spec.x, spec.y])
        area_m2 = spec.area_km2 * 1e6
        radius = math.sqrt(area_m2 / math.pi)
        core = blob(
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
                blob(
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
        villages.append(largest_part(shapely.simplify(village, 1.0)))
        ribbon_axes.append(shapely.MultiLineString(axes))

    village_frame = demo_frame(
        {
            "naam": [v.name for v in VILLAGES],
            "soort": ["kern"] * len(VILLAGES),
            "ribbon_axes": ribbon_axes,
        },
        villages,
    )
    park_frame = demo_frame(
        {
            "naam": [p[0] for p in BUSINESS_PARKS],
            "soort": ["bedrijventerrein"] * len(BUSINESS_PARKS),
        },
        parks,
    )
    return village_frame, park_frame


def build_kom(villages: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Bebouwde kom per village: the village shrunk by 30-80 m (so it differs from BBG).

    The kom in the sense of odour law follows the actual built-up situation;
    here it stays inside the BBG line and leaves out the business parks and
    the thinnest ribbon development.
    """
    shrink_m = rng.uniform(30.0, 80.0, len(villages))
    koms = [
        largest_part(shapely.simplify(geom.buffer(-d), 1.0))
        for geom, d in zip(villages.geometry.values, shrink_m, strict=True)
    ]
    return demo_frame({"naam": villages["naam"].tolist()}, koms)


def build_recreation_parks(
    villages: gpd.GeoDataFrame, business_parks: gpd.GeoDataFrame, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    """Six holiday parks of 5-30 ha; two of them just outside a village edge."""
    polygons = []
    # Two parks 60-150 m outside a village, to the north-west (away from the business parks).
    for village_name, direction in (("Broekveld", 135.0), ("Veltrum", 160.0)):
        village = villages.loc[villages["naam"] == village_name].geometry.iloc[0]
        centre = np.asarray(village.centroid.coords[0])
        shape = blob(
            centre,
            rng.uniform(8e4, 15e4),
            rng,
            roughness=0.2,
            aspect=1.3,
            angle_deg=rng.uniform(0, 180),
            n_vertices=48,
        )
        polygons.append(place_at_gap(shape, village, centre, direction, rng.uniform(60.0, 150.0)))
    built = shapely.union_all([*villages.geometry.values, *business_parks.geometry.values])
    forbidden = shapely.union_all(
        [built.buffer(500.0), no_road_zones(), *[p.buffer(300.0) for p in polygons]]
    )
    rural = area_box().buffer(-500.0).difference(forbidden)
    while len(polygons) < len(_RECREATION_PARKS):
        centre = sample_points(rural, 1, rng)[0]
        shape = blob(
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
    return demo_frame({"parknaam": list(_RECREATION_PARKS)}, polygons)


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


def build_farms(
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
        moved = place_at_gap(
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
        moved = place_at_gap(
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
        area_box()
        .buffer(-200.0)
        .difference(
            shapely.union_all(
                [
                    built.buffer(200.0),
                    parks.geometry.union_all().buffer(100.0),
                    no_road_zones().buffer(300.0),
                ]
            )
        )
    )
    min_spacing_m = 300.0  # farms do not crowd each other
    candidates = sample_points(rural, 4 * _N_FARMS, rng)
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
    geometry[as_polygon] = rotated_rectangles(
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
    return demo_frame(
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


def build_odour_contours(farms: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Nested, filled odour contours around every farm with an emission factor.

    The contour for value v has upwind radius ``r2 * 2 / v`` (load falls off
    roughly inversely with distance): from ~1 km downwind for 2 OUe/m³ to
    tens of metres for 20 OUe/m³. All contours of a farm share one
    perturbed plume shape, so higher values always nest inside lower ones.
    Some farms have coarser steps (:data:`_COARSE_CONTOUR_VALUES`) that skip
    the norms, so the contours cannot decide between two of them.
    """
    theta = np.linspace(0.0, 2.0 * np.pi, 96, endpoint=False)
    box = area_box()
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
    return demo_frame(
        {"geur_oue": [r[0] for r in rows], "veehouderij": [r[1] for r in rows]}, geoms
    )


def build_employers(
    villages: gpd.GeoDataFrame,
    business_parks: gpd.GeoDataFrame,
    farms: gpd.GeoDataFrame,
    parks: gpd.GeoDataFrame,
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    """Employers: plots on business parks (polygons) and points elsewhere."""
    built = shapely.union_all([*villages.geometry.values, *business_parks.geometry.values])
    rural = (
        area_box()
        .buffer(-300.0)
        .difference(
            shapely.union_all(
                [
                    built.buffer(150.0),
                    parks.geometry.union_all().buffer(100.0),
                    farms.geometry.union_all().buffer(80.0),
                    no_road_zones().buffer(200.0),
                ]
            )
        )
    )
    geoms = []
    for i, (_, _, where) in enumerate(_EMPLOYERS):
        if where == "rural":
            geoms.append(shapely.Point(sample_points(rural, 1, rng)[0]))
            continue
        if isinstance(where, int):
            area = business_parks.geometry.iloc[where]
        else:
            area = villages.loc[villages["naam"] == where].geometry.iloc[0]
        inner = area.buffer(-40.0)
        xy = sample_points(inner, 1, rng)[0]
        if i < _N_EMPLOYER_POLYGONS:
            plot = rotated_rectangles(
                xy[None],
                np.array([rng.uniform(90.0, 160.0)]),
                np.array([rng.uniform(60.0, 100.0)]),
                np.array([BUSINESS_PARKS[where][5]]),
            )[0]
            geoms.append(largest_part(plot.intersection(area)))
        else:
            geoms.append(shapely.Point(xy))
    return demo_frame(
        {"bedrijfsnaam": [e[0] for e in _EMPLOYERS], "sector": [e[1] for e in _EMPLOYERS]}, geoms
    )
