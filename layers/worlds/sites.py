"""The candidate sites of the demo region: every class of site a planner meets.

Sites in villages, on business parks, in odour contours inside and outside the
kom, at the BBG edge, on recreation parks, near farms, in the isolated
buurtschap and far from any road; points and small parcels, with plan fields
(stay type, housing form, persons, bedrooms, floor area, employer, temporary).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from locatietoets.analysis.vocabulary import STAY_TYPES
from locatietoets.layers.worlds.layout import (
    DEMO_CRS,
    HAMLET_CENTRE,
    NATURE_CENTRE,
    area_box,
    demo_frame,
    no_road_zones,
    to_rd,
)
from locatietoets.layers.worlds.shapes import (
    largest_part,
    near_points,
    rotated_rectangles,
    sample_points,
)

__all__ = [
    "MIN_SITES",
    "SITE_FIELDS",
    "build_sites",
]

#: The plan fields of the demo's sites by config key. Named apart from the result fields
#: (``verblijfstype``, ``huisvestingsvorm``, ``werkgever``) so that the demo does not trip the
#: warning for input fields that the outputs rename to ``<naam>_invoer``; a planner's own layer
#: may still use those names.
SITE_FIELDS = {
    "id_veld": "locatie_code",
    "verblijfstype_veld": "beoogd_verblijfstype",
    "huisvestingsvorm_veld": "beoogde_huisvestingsvorm",
    "personen_veld": "personen",
    "slaapkamers_veld": "slaapkamers",
    "woonoppervlak_veld": "woonoppervlak_m2",
    "werkgever_veld": "beoogde_werkgever",
    "tijdelijk_veld": "tijdelijk",
    "termijn_jaar_veld": "termijn",
}

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
MIN_SITES = 60  # fewer sites cannot cover every class
# Sites on the yard of their own employer (huisvesting op het erf): how many, how far east of the
# employer (m, within the rule set's erf_max_m of 100 m) and their stay types in turn.
_N_YARD_SITES = 6
_YARD_OFFSET_M = 40.0
_YARD_STAY = ("short_stay", "mid_stay", "short_stay", "long_stay")

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


def build_sites(
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
        area_box()
        .buffer(-50.0)
        .difference(shapely.union_all([bbg.buffer(_EDGE_M), park_union, no_road_zones()]))
    )

    groups: list[tuple[str, np.ndarray]] = [
        ("kern", sample_points(kom_union.intersection(contour3), share(_SHARE_KOM_CONTOUR), rng)),
        (
            "kern",
            sample_points(
                kom_union.intersection(plain_farms.geometry.buffer(100.0).union_all()),
                share(_SHARE_KOM_FIXED),
                rng,
            ),
        ),
        ("bedrijventerrein", sample_points(business_union, share(_SHARE_ON_BUSINESS_PARK), rng)),
        # the parcels on the BBG boundary below are taken from the edge share
        ("rand", sample_points(edge_band, share(_SHARE_EDGE) - 2 * _boundary_count(n_sites), rng)),
        ("recreatiepark", sample_points(park_union, share(_SHARE_PARK), rng)),
        (
            "veehouderij",
            near_points(
                point_farms.geometry.values, share(_SHARE_NEAR_FARM), rng, min_m=15.0, max_m=45.0
            ),
        ),
        (
            "buitengebied",
            sample_points(
                contour14.difference(bbg.buffer(_EDGE_M)),
                share(_SHARE_CONTOUR_OUTSIDE),
                rng,
                accept=near_road,
            ),
        ),
        ("kern", sample_points(undecided_in_kom, share(_SHARE_ODOUR_UNDECIDED), rng)),
        ("buitengebied", sample_points(undecided_outside, share(_SHARE_ODOUR_UNDECIDED), rng)),
        (
            "buurtschap",
            sample_points(shapely.Point(to_rd(HAMLET_CENTRE)).buffer(150.0), _N_HAMLET_SITES, rng),
        ),
        (
            "natuur",
            sample_points(shapely.Point(to_rd(NATURE_CENTRE)).buffer(200.0), _N_REMOTE_SITES, rng),
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
    groups.append(("kern", sample_points(village_union, n_village, rng)))
    groups.append(("buitengebied", sample_points(rural, n_rural, rng, accept=near_road)))

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
                [largest_part(g) for g in shapely.difference(squares, bbg.buffer(0.05))],
                dtype=object,
            )
        geoms[idx] = squares
    frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=DEMO_CRS))
    return _on_the_yard(frame, employers, bbg)


def _on_the_yard(
    frame: gpd.GeoDataFrame, employers: gpd.GeoDataFrame, bbg: shapely.Geometry
) -> gpd.GeoDataFrame:
    """Put a few countryside sites on the yard of their own employer (huisvesting op het erf).

    For each of the first :data:`_N_YARD_SITES` employers that are points outside BBG (a
    greenhouse, a nursery), the countryside site nearest to it moves to
    :data:`_YARD_OFFSET_M` east of it and names it as its employer, with the stay types of
    :data:`_YARD_STAY`: the erf rules (short-stay by the gemeente's policy, mid/long-stay outside
    BBG not) then apply. No random draw: the other sites stay as they are.
    """
    points = employers.geometry.geom_type.to_numpy() == "Point"
    outside = ~shapely.intersects(np.asarray(employers.geometry.values), bbg)
    chosen = np.flatnonzero(points & outside)[:_N_YARD_SITES]
    frame = frame.copy()
    geoms = np.asarray(frame.geometry.values, dtype=object)
    rural = frame["context"].to_numpy() == "buitengebied"
    anchors = shapely.point_on_surface(geoms)
    taken: set[int] = set()
    stay_col = SITE_FIELDS["verblijfstype_veld"]
    form_col = SITE_FIELDS["huisvestingsvorm_veld"]
    for k, row in enumerate(chosen):
        employer = employers.geometry.values[row]
        dist = shapely.distance(anchors, employer)
        dist[~rural] = np.inf
        dist[list(taken)] = np.inf
        site = int(np.argmin(dist))
        taken.add(site)
        xy = shapely.get_coordinates(employer)[0] + np.array([_YARD_OFFSET_M, 0.0])
        geoms[site] = shapely.Point(xy)
        stay = _YARD_STAY[k % len(_YARD_STAY)]
        frame.iloc[site, frame.columns.get_loc(SITE_FIELDS["werkgever_veld"])] = employers[
            "bedrijfsnaam"
        ].iloc[row]
        frame.iloc[site, frame.columns.get_loc(stay_col)] = stay
        frame.iloc[site, frame.columns.get_loc(form_col)] = (
            "logies" if stay == "short_stay" else "woonfunctie"
        )
        frame.iloc[site, frame.columns.get_loc("omschrijving")] = "Tijdelijke units op bedrijfserf"
    return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=DEMO_CRS))


def _boundary_count(n_sites: int) -> int:
    """Parcels of each kind on the BBG boundary (half inside, touching): at least one."""
    return max(1, round(_SHARE_ON_BOUNDARY * n_sites))


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
    geometry[as_polygon] = rotated_rectangles(
        xy[as_polygon], np.sqrt(area * aspect), np.sqrt(area / aspect), rng.uniform(0.0, 180.0, m)
    )

    stay = rng.choice(list(STAY_TYPES), n, p=[0.5, 0.25, 0.25])
    # Probability of logies per stay type; the rest is woonfunctie (some short-stay in a dwelling).
    p_logies = np.select([stay == "short_stay", stay == "mid_stay"], [0.85, 0.3], 0.05)
    form = np.where(rng.random(n) < p_logies, "logies", "woonfunctie").astype(object)
    form[rng.random(n) < _SHARE_HOUSING_FORM_NULL] = None  # the default applies
    # Mid- and long-stay are always a woonfunctie (BRP registration) and the run warns about a
    # site that says logies: the demo leaves those open instead (the default: logies when scored
    # as short-stay, woonfunctie as mid/long-stay, which is how the run reads them anyway).
    form[(stay != "short_stay") & (form == "logies")] = None

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

    return demo_frame(
        {
            SITE_FIELDS["id_veld"]: [f"DEMO-{i + 1:05d}" for i in range(n)],
            SITE_FIELDS["verblijfstype_veld"]: stay.tolist(),
            SITE_FIELDS["huisvestingsvorm_veld"]: form.tolist(),
            SITE_FIELDS["personen_veld"]: persons,
            SITE_FIELDS["slaapkamers_veld"]: bedrooms,
            SITE_FIELDS["woonoppervlak_veld"]: floor_area,
            SITE_FIELDS["werkgever_veld"]: employer.tolist(),
            SITE_FIELDS["tijdelijk_veld"]: temporary.tolist(),
            SITE_FIELDS["termijn_jaar_veld"]: term,
            "omschrijving": description.tolist(),
            "context": context,
        },
        geometry,
    )
