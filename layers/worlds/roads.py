"""The road network of the demo region: rural roads, village street grids, ribbons and an
isolated buurtschap, noded into an OSM-like line layer (highway, maxspeed, oneway).
"""

from __future__ import annotations

from dataclasses import dataclass
import logging
import math

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

from locatietoets.analysis.vocabulary import nl_number
from locatietoets.layers.worlds.layout import (
    BUSINESS_PARKS,
    DEMO_BOUNDS,
    DEMO_CRS,
    GRID_M,
    HAMLET_CENTRE,
    HAMLET_CLEAR_M,
    HAMLET_NAME,
    HAMLET_RADIUS_M,
    HEIGHT_M,
    WIDTH_M,
    area_box,
    no_road_zones,
    to_rd,
)
from locatietoets.layers.worlds.shapes import wiggly_line

__all__ = [
    "build_roads",
]

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


log = logging.getLogger(__name__)


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


def build_roads(
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
        line = wiggly_line(centres[i], centres[j], rng, bend_m=250.0)
        draft.add(line, "secondary", 80.0, f"Provinciale weg {names[i]}–{names[j]}")
    # Two provincial roads leave the box (to the east and to the north).
    draft.add(
        wiggly_line(
            centres[0], np.array([DEMO_BOUNDS[2], centres[0][1] + 300.0]), rng, bend_m=150.0
        ),
        "secondary",
        80.0,
        f"Provinciale weg {names[0]}–Maas",
    )
    draft.add(
        wiggly_line(
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
    box = area_box()
    name_index = 0
    for family_angle, half_span in (
        (grid_angle, HEIGHT_M / 2 + 1500),
        (grid_angle + 90.0, WIDTH_M / 2 + 1500),
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
            reach = max(WIDTH_M, HEIGHT_M)
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
    for (pname, *_rest), geom in zip(BUSINESS_PARKS, business_parks.geometry.values, strict=True):
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
            wiggly_line(centres[i], end, rng, bend_m=80.0, n=8),
            "cycleway",
            np.nan,
            f"Fietspad {names[i]}",
        )

    # Nothing may cross the nature area or come near the hamlet.
    zones = no_road_zones()
    draft.geoms = [shapely.difference(g, zones) if g.intersects(zones) else g for g in draft.geoms]
    clean = _RoadDraft([], [], [], [], [])
    for g, h, s, o, n in zip(
        draft.geoms, draft.highway, draft.maxspeed, draft.oneway, draft.names, strict=True
    ):
        clean.add(g, h, s, n, o)
    draft = clean

    # Farm tracks and driveways from each farm and rural employer to the nearest road of the
    # connected network (a stub cut off by the nature area would leave a farm unreachable).
    network = _drop_stray_pieces(_node_roads(draft), final=False).geometry.values
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
    hc = to_rd(HAMLET_CENTRE)
    arms = [
        hc + HAMLET_RADIUS_M * np.array([math.cos(a), math.sin(a)])
        for a in np.radians([20, 110, 200, 290])
    ]
    draft.add(
        shapely.LineString([arms[0], hc, arms[2]]), "unclassified", 60.0, f"{HAMLET_NAME}erweg"
    )
    draft.add(shapely.LineString([arms[1], hc, arms[3]]), "residential", 30.0, HAMLET_NAME)
    loop = shapely.LineString(
        shapely.Point(hc + np.array([90.0, 90.0])).buffer(70.0, quad_segs=4).exterior.coords
    )
    draft.add(loop, "residential", 30.0, f"Kleine {HAMLET_NAME}")

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
    pieces = shapely.get_parts(shapely.union_all(originals, grid_size=GRID_M))
    pieces = pieces[shapely.length(pieces) > GRID_M]
    midpoints = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
    piece_idx, orig_idx = shapely.STRtree(originals).query(
        midpoints, predicate="dwithin", distance=5 * GRID_M
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


def _drop_stray_pieces(roads: gpd.GeoDataFrame, *, final: bool = True) -> gpd.GeoDataFrame:
    """Keep the main connected network and the hamlet; drop street stubs cut off by clipping.

    It runs twice: on the draft without farm tracks and driveways (``final=False``: the network
    the tracks are attached to, logged at debug level only) and on the finished network, whose
    count is the one logged (so the demo says "demowegennet" once, with the segments it writes).
    """
    graph = _endpoint_graph(roads.geometry.values)
    components = sorted(nx.connected_components(graph), key=len, reverse=True)
    hamlet = shapely.Point(to_rd(HAMLET_CENTRE)).buffer(HAMLET_CLEAR_M)
    keep_nodes = set(components[0])
    for comp in components[1:]:
        if all(hamlet.contains(shapely.Point(p)) for p in comp):
            keep_nodes |= comp
    first = map(
        tuple, np.round(shapely.get_coordinates(shapely.get_point(roads.geometry.values, 0)), 2)
    )
    keep = np.array([p in keep_nodes for p in first])
    log.log(
        logging.INFO if final else logging.DEBUG,
        "demowegennet%s: %s wegvakken behouden, %s losse stukken weggelaten",
        "" if final else " zonder erfontsluitingen (tussenstap)",
        nl_number(int(keep.sum())),
        nl_number(int((~keep).sum())),
    )
    return roads.loc[keep].reset_index(drop=True)
