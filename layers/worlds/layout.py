"""The fixed layout of the FICTIONAL demo region and its coordinate frame.

Where the villages, business parks, gemeenten, the nature area and the
isolated buurtschap lie, what every demo layer carries (:data:`DEMO_SOURCE`,
:data:`DEMO_CRS`), and the helpers that place local metres in RD New and
finish a layer. The region is a 15 x 12 km box of Peel-like countryside in RD New (EPSG:28992) in
Noord-Limburg, but every feature is invented: villages, gemeenten (codes
GM9901/GM9902 do not exist at CBS), farms, odour contours, parks,
employers, roads and candidate sites. Every layer carries the text
attribute ``bron`` = :data:`DEMO_SOURCE` so no map or table made from it can
be mistaken for real data.

Layout (local metres from the south-west corner of the box)::

    Broekveld (3000, 8500)    Zandrode (7600, 10000)    Loonhorst (13600, 10600)
    bedrijventerrein (5300, 5700)  Kempenrade (7000, 5500)  Maasheuvel (12300, 7200)
    Heiderade (4200, 3200)    Veltrum (11300, 2600)     bedrijventerrein (12650, 5500)
    road-free nature zone (1500, 1500)                  isolated buurtschap (14000, 1300)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

__all__ = [
    "DEMO_SOURCE",
    "DEMO_CRS",
    "DEMO_LAYERS",
    "DEMO_CONSTRAINT_LAYERS",
    "DEMO_FACILITY_LAYERS",
    "config_layer_name",
    "ORIGIN",
    "WIDTH_M",
    "HEIGHT_M",
    "DEMO_BOUNDS",
    "GRID_M",
    "VillageSpec",
    "VILLAGES",
    "BUSINESS_PARKS",
    "GEMEENTEN",
    "NATURE_CENTRE",
    "NATURE_RADIUS_M",
    "HAMLET_NAME",
    "HAMLET_CENTRE",
    "HAMLET_CLEAR_M",
    "HAMLET_RADIUS_M",
    "to_rd",
    "area_box",
    "demo_frame",
    "finish_layer",
    "no_road_zones",
]

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
    "bedrijventerreinen",
    "werkgevers",
    "wegennet",
    "locaties",
    "kernen",
    "bestaande_huisvesting",
    "ov_haltes",
    "supermarkten",
    "huisartsen",
    "natura2000",
    "natuurnetwerk",
    "geluid",
    "externe_veiligheid",
    "plaatsgebonden_risico",
)
#: Demo layers that are declared constraint layers in the config ([lagen.beperkingen.<naam>]).
DEMO_CONSTRAINT_LAYERS = (
    "bedrijventerreinen",
    "natura2000",
    "natuurnetwerk",
    "geluid",
    "externe_veiligheid",
    "plaatsgebonden_risico",
)
#: Demo layers that are facility kinds in the config ([lagen.voorzieningen.<soort>]): file stem
#: -> soort.
DEMO_FACILITY_LAYERS = {
    "ov_haltes": "ov_halte",
    "supermarkten": "supermarkt",
    "huisartsen": "huisarts",
}


def config_layer_name(stem: str) -> str:
    """The config name of demo layer ``stem``: ``beperkingen.<naam>`` for a constraint layer,
    ``voorzieningen.<soort>`` for a facility kind, else the stem itself."""
    if stem in DEMO_CONSTRAINT_LAYERS:
        return f"beperkingen.{stem}"
    if stem in DEMO_FACILITY_LAYERS:
        return f"voorzieningen.{DEMO_FACILITY_LAYERS[stem]}"
    return stem


# South-west corner and size of the demo box in RD New (m). The box lies
# entirely inside the province of Limburg (checked against the CBS province
# polygon in ../shared/data), on the Peel side west of the Maas.
ORIGIN = np.array([194_000.0, 377_000.0])
WIDTH_M = 15_000.0
HEIGHT_M = 12_000.0
#: Bounds of the demo box (xmin, ymin, xmax, ymax) in EPSG:28992.
DEMO_BOUNDS = (ORIGIN[0], ORIGIN[1], ORIGIN[0] + WIDTH_M, ORIGIN[1] + HEIGHT_M)
# Coordinates are rounded to this grid (m); it is also the snap-rounding grid for noding roads.
GRID_M = 0.01


@dataclass(frozen=True)
class VillageSpec:
    """A village of the demo: name, centre (local m) and built-up area in km²."""

    name: str
    x: float
    y: float
    area_km2: float


VILLAGES = (
    VillageSpec("Maasheuvel", 12_300, 7_200, 2.6),
    VillageSpec("Kempenrade", 7_000, 5_500, 2.0),
    VillageSpec("Broekveld", 3_000, 8_500, 1.5),
    VillageSpec("Veltrum", 11_300, 2_600, 1.0),
    VillageSpec("Heiderade", 4_200, 3_200, 0.8),
    VillageSpec("Zandrode", 7_600, 10_000, 0.6),
    VillageSpec("Loonhorst", 13_600, 10_600, 0.4),
)

# name, centre x, centre y, length m, width m, rotation degrees
BUSINESS_PARKS = (
    ("Bedrijventerrein De Peelpoort", 5_300, 5_700, 750, 480, 12),
    ("Bedrijventerrein Maasheuvel-Zuid", 12_650, 5_500, 620, 420, -8),
)

GEMEENTEN = (("Demogemeente Peelrand", "GM9901"), ("Demogemeente Maasdal", "GM9902"))

# A nature area without any road: sites near its centre lie > 1 km from the network.
NATURE_CENTRE = np.array([1_500.0, 1_500.0])
NATURE_RADIUS_M = 1_350.0
# An isolated buurtschap whose few roads are not connected to the rest of the network.
HAMLET_NAME = "Eikenhorst"
HAMLET_CENTRE = np.array([14_000.0, 1_300.0])
HAMLET_CLEAR_M = 900.0  # no other road comes closer than this to the hamlet centre
HAMLET_RADIUS_M = 260.0  # extent of the hamlet's own roads


def to_rd(local_xy: np.ndarray) -> np.ndarray:
    """Local demo metres (from the south-west corner) to RD New coordinates."""
    return np.asarray(local_xy, dtype=float) + ORIGIN


def area_box() -> shapely.Polygon:
    """The demo box as a polygon in RD New."""
    return shapely.box(*DEMO_BOUNDS)


def demo_frame(records: dict[str, Sequence], geometry: Sequence | np.ndarray) -> gpd.GeoDataFrame:
    """A GeoDataFrame in the demo CRS from columns and geometries."""
    return gpd.GeoDataFrame(records, geometry=list(geometry), crs=DEMO_CRS)


def finish_layer(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Round coordinates to the grid, add ``bron`` and check validity."""
    frame = frame.copy()
    geoms = shapely.set_precision(frame.geometry.values, GRID_M)
    geoms = np.where(shapely.is_valid(geoms), geoms, shapely.make_valid(geoms))
    frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=DEMO_CRS))
    frame["bron"] = DEMO_SOURCE
    cols = [c for c in frame.columns if c != "geometry"] + ["geometry"]
    frame = frame[cols].reset_index(drop=True)
    if frame.empty or frame.geometry.is_empty.any() or not frame.geometry.is_valid.all():
        raise RuntimeError("demo: a layer came out empty or with invalid geometry")
    return frame


def no_road_zones() -> shapely.Geometry:
    """The road-free nature area and the clearance around the isolated hamlet."""
    nature = shapely.Point(to_rd(NATURE_CENTRE)).buffer(NATURE_RADIUS_M)
    hamlet = shapely.Point(to_rd(HAMLET_CENTRE)).buffer(HAMLET_CLEAR_M)
    return shapely.union(nature, hamlet)
