"""Kernen, existing housing, facilities and the nature, noise and safety zones of the demo region.

What the concentration and facility rules and the declared constraint layers test, so that a
planner sees every kind of reason in the demo:

- **kernen**: one polygon per village, the village's built-up area with its edge
  (:data:`KERN_MARGIN_M`), with a number of inhabitants from the village's size
  (:data:`INHABITANTS_PER_KM2`); the small villages are where the share of labour migrants runs
  over the maximum;
- **bestaande_huisvesting**: a few existing housing locations with their number of persons,
  inside the kernen (:data:`EXISTING_HOUSING`);
- **voorzieningen**: bus stops, supermarkets and general practitioners beside the demo's roads in
  the villages (:data:`FACILITIES`); the smallest villages have no shop or doctor of their own,
  the countryside is far from all of them, and the isolated buurtschap reaches none;
- **natura2000**: the road-free nature area; **natuurnetwerk**: a brook valley from it to the
  north; **geluid**: a noise contour along two provincial roads; **externe_veiligheid**: an
  aandachtsgebied around a hazardous installation on a business park, and
  **plaatsgebonden_risico**: its PR 10-6 contour.

Everything is placed from the fixed layout and drawn from a random generator of its own
(:func:`build_amenities` takes it), so the other demo layers do not change when these do.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from locatietoets.layers.worlds.layout import (
    BUSINESS_PARKS,
    DEMO_FACILITY_LAYERS,
    NATURE_CENTRE,
    NATURE_RADIUS_M,
    VILLAGES,
    area_box,
    demo_frame,
    to_rd,
)
from locatietoets.layers.worlds.shapes import largest_part, sample_points, wiggly_line

__all__ = [
    "KERN_MARGIN_M",
    "INHABITANTS_PER_KM2",
    "EXISTING_HOUSING",
    "FACILITIES",
    "NOISE_DB",
    "build_amenities",
]

#: A kern is its village's built-up area plus this edge (m): sites at the village edge count in
#: the kern, as a gemeente counts them.
KERN_MARGIN_M = 300.0
#: Inhabitants per km² of a village's nominal built-up area (a Dutch village: 2,000-3,000).
INHABITANTS_PER_KM2 = 2_300
#: Existing labour-migrant housing: (name, village, persons). Loonhorst (920 inhabitants)
#: already houses 40: any new site there with more than 6 persons runs over 5 %.
EXISTING_HOUSING = (
    ("Pension De Linde", "Maasheuvel", 96),
    ("Logiesgebouw Maasheuvel-Zuid", "Maasheuvel", 60),
    ("Voormalig hotel De Kroon", "Kempenrade", 80),
    ("Woonboerderij Zandrode", "Zandrode", 30),
    ("Short-stay Loonhorst", "Loonhorst", 40),
    ("Arbeidershuis Heiderade", "Heiderade", 25),
)
#: Facilities per kind (soort): (name, village, offset from the village centre in m); a village
#: "A/B" is the point halfway between the centres of A and B.
FACILITIES: dict[str, tuple[tuple[str, str, tuple[float, float]], ...]] = {
    "ov_halte": (
        ("Bushalte Maasheuvel, Markt", "Maasheuvel", (0.0, 0.0)),
        ("Bushalte Maasheuvel, Station", "Maasheuvel", (600.0, -350.0)),
        ("Bushalte Maasheuvel, Noord", "Maasheuvel", (-300.0, 650.0)),
        ("Bushalte Maasheuvel, West", "Maasheuvel", (-700.0, -100.0)),
        ("Bushalte Kempenrade, Kerk", "Kempenrade", (0.0, 0.0)),
        ("Bushalte Kempenrade, Peelpoort", "Kempenrade", (-900.0, 150.0)),
        ("Bushalte Kempenrade, Oost", "Kempenrade", (650.0, 250.0)),
        ("Bushalte Broekveld, Dorpsplein", "Broekveld", (0.0, 0.0)),
        ("Bushalte Broekveld, Zuid", "Broekveld", (100.0, -550.0)),
        ("Bushalte Veltrum, Kapel", "Veltrum", (0.0, 0.0)),
        ("Bushalte Heiderade", "Heiderade", (0.0, 0.0)),
        ("Bushalte Zandrode", "Zandrode", (0.0, 0.0)),
        ("Bushalte Loonhorst", "Loonhorst", (0.0, 0.0)),
        # stops on the provincial roads between two villages (halfway)
        ("Bushalte Kruispunt Peelweg", "Kempenrade/Broekveld", (0.0, 0.0)),
        ("Bushalte Veltrumse Heide", "Maasheuvel/Veltrum", (0.0, 0.0)),
    ),
    "supermarkt": (
        ("Supermarkt Maasheuvel Centrum", "Maasheuvel", (150.0, 100.0)),
        ("Supermarkt Maasheuvel Zuid", "Maasheuvel", (200.0, -600.0)),
        ("Supermarkt Kempenrade", "Kempenrade", (-120.0, 80.0)),
        ("Supermarkt Broekveld", "Broekveld", (100.0, -60.0)),
        ("Supermarkt Veltrum", "Veltrum", (-80.0, 60.0)),
    ),
    "huisarts": (
        ("Gezondheidscentrum Maasheuvel", "Maasheuvel", (-150.0, 120.0)),
        ("Huisartsenpraktijk Kempenrade", "Kempenrade", (90.0, -110.0)),
        ("Huisartsenpraktijk Broekveld", "Broekveld", (-70.0, 90.0)),
        ("Huisarts Heiderade", "Heiderade", (60.0, 40.0)),
    ),
}
#: File stem of each facility kind's layer.
_FACILITY_FILES = {kind: stem for stem, kind in DEMO_FACILITY_LAYERS.items()}
#: Lden of the noise contour along the provincial roads (dB; the rule set's standard is 53).
NOISE_DB = 58.0
_NOISE_ROADS = ("Provinciale weg Kempenrade–Zandrode", "Provinciale weg Maasheuvel–Loonhorst")
_NOISE_WIDTH_M = 90.0
#: The hazardous installation: on a business park (index into BUSINESS_PARKS), aandachtsgebied
#: radius in m.
_SAFETY_PARK = 1
_SAFETY_RADIUS_M = 350.0
#: Radius of its plaatsgebonden-risicocontour of 10-6 per year (m), inside the aandachtsgebied.
_RISK_RADIUS_M = 160.0
#: Roads a facility may stand beside (not tracks or cycle paths).
_STREETS = ("secondary", "tertiary", "unclassified", "residential")


def _beside_road(target: np.ndarray, streets: np.ndarray, tree: shapely.STRtree) -> shapely.Point:
    """A point 8 m beside the street nearest to ``target``, on the side of ``target``."""
    point = shapely.Point(target)
    nearest = streets[int(tree.nearest(point))]
    on_road = shapely.get_coordinates(shapely.shortest_line(nearest, point))[0]
    direction = np.asarray(target) - on_road
    length = float(np.hypot(*direction))
    if length < 1e-6:  # on the road: step aside along the road's normal
        along = shapely.get_coordinates(nearest)
        seg = along[1] - along[0]
        direction = np.array([-seg[1], seg[0]])
        length = float(np.hypot(*direction))
    return shapely.Point(on_road + direction / length * 8.0)


def build_amenities(
    villages: gpd.GeoDataFrame,
    business_parks: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
    rng: np.random.Generator,
) -> dict[str, gpd.GeoDataFrame]:
    """The kernen, existing housing, facility and zone layers of the demo.

    Parameters
    ----------
    villages, business_parks
        The villages (``naam``) and business parks of the built-up area.
    roads
        The demo's road network (``highway``, ``naam``).
    rng
        A random generator of these layers alone.

    Returns
    -------
    dict of str to GeoDataFrame
        ``kernen`` (``naam``, ``inwoners``), ``bestaande_huisvesting`` (``naam``, ``personen``),
        ``ov_haltes``, ``supermarkten``, ``huisartsen`` (``naam``), ``natura2000``,
        ``natuurnetwerk`` (``naam``), ``geluid`` (``naam``, ``lden_db``),
        ``externe_veiligheid`` and ``plaatsgebonden_risico`` (``naam``); EPSG:28992.
    """
    by_name = {name: geom for name, geom in zip(villages["naam"], villages.geometry.values)}
    centres = {v.name: to_rd([v.x, v.y]) for v in VILLAGES}
    for items in FACILITIES.values():
        for _, anchor, _ in items:
            if "/" in anchor:
                a, b = anchor.split("/")
                centres[anchor] = (centres[a] + centres[b]) / 2.0
    box = area_box()

    kernen = demo_frame(
        {
            "naam": [v.name for v in VILLAGES],
            "inwoners": [int(round(v.area_km2 * INHABITANTS_PER_KM2, -1)) for v in VILLAGES],
        },
        [
            largest_part(
                shapely.simplify(by_name[v.name].buffer(KERN_MARGIN_M), 5.0).intersection(box)
            )
            for v in VILLAGES
        ],
    )

    housing_points = [
        shapely.Point(sample_points(by_name[village].buffer(-60.0), 1, rng)[0])
        for _, village, _ in EXISTING_HOUSING
    ]
    existing = demo_frame(
        {
            "naam": [h[0] for h in EXISTING_HOUSING],
            "personen": [h[2] for h in EXISTING_HOUSING],
        },
        housing_points,
    )

    streets = roads.loc[roads["highway"].isin(_STREETS)].geometry.values
    tree = shapely.STRtree(streets)
    frames: dict[str, gpd.GeoDataFrame] = {"kernen": kernen, "bestaande_huisvesting": existing}
    for kind, items in FACILITIES.items():
        points = [
            _beside_road(centres[village] + np.asarray(offset), streets, tree)
            for _, village, offset in items
        ]
        frames[_FACILITY_FILES[kind]] = demo_frame({"naam": [i[0] for i in items]}, points)

    nature = shapely.Point(to_rd(NATURE_CENTRE)).buffer(NATURE_RADIUS_M - 60.0, quad_segs=24)
    frames["natura2000"] = demo_frame(
        {"naam": ["Peelvenen (fictief Natura 2000-gebied)"]}, [nature]
    )
    # a brook valley from the nature area north through the countryside, clear of the villages
    start = to_rd(NATURE_CENTRE) + np.array([0.0, NATURE_RADIUS_M - 200.0])
    end = to_rd(NATURE_CENTRE) + np.array([700.0, 5_300.0])
    villages_clear = shapely.union_all(villages.geometry.values).buffer(KERN_MARGIN_M)
    valley = (
        wiggly_line(start, end, rng, bend_m=250.0)
        .buffer(110.0)
        .difference(nature)
        .difference(villages_clear)
    )
    frames["natuurnetwerk"] = demo_frame(
        {"naam": ["Beekdal van de Loobeek (fictief natuurnetwerk)"]},
        [largest_part(shapely.simplify(valley, 2.0))],
    )

    noisy = roads.loc[roads["naam"].isin(_NOISE_ROADS)].geometry.union_all()
    contour = shapely.simplify(noisy.buffer(_NOISE_WIDTH_M), 2.0).intersection(box)
    contour = shapely.MultiPolygon(list(shapely.get_parts(contour)))
    frames["geluid"] = demo_frame(
        {"naam": [f"Geluidcontour provinciale wegen {NOISE_DB:.0f} dB"], "lden_db": [NOISE_DB]},
        [contour],
    )

    park = business_parks.geometry.values[_SAFETY_PARK]
    installation = shapely.Point(shapely.get_coordinates(park.exterior)[0])  # at the park's edge
    frames["externe_veiligheid"] = demo_frame(
        {"naam": [f"Aandachtsgebied LPG-opslag {BUSINESS_PARKS[_SAFETY_PARK][0]}"]},
        [installation.buffer(_SAFETY_RADIUS_M, quad_segs=24).intersection(box)],
    )
    frames["plaatsgebonden_risico"] = demo_frame(
        {"naam": [f"PR 10-6 LPG-opslag {BUSINESS_PARKS[_SAFETY_PARK][0]}"]},
        [installation.buffer(_RISK_RADIUS_M, quad_segs=24).intersection(box)],
    )
    return frames
