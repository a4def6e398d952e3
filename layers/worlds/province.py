"""The benchmark's province: a synthetic road grid plus the reference layers and sites, as files.

:func:`generate_province` writes (deterministically, vectorised) a province in
RD New — by default 1,000,000 sites, 5,000 farms with four nested odour
contours each, 300 recreation parks, 1,000 employers, gemeenten, a BBG layer
and an osmnx GraphML road network of at least 150,000 nodes — as GeoPackages
plus a ``config.toml``. Two worlds:

* ``realistisch`` (default): the grid over Zuid-Limburg and every other layer
  from :func:`layers.worlds.realshaped.realshaped_layers` (real gemeenten, a
  dissolved BBG of a few huge multipolygons with holes, overlapping contours,
  30 % polygon sites);
* ``synthetisch``: the first benchmark world (:func:`synthetic_layers`:
  simple disjoint BBG blobs, Voronoi gemeenten, point sites only).

The builders both worlds share — farms with their contours, parks, employers
and the sites' attributes — live once in :mod:`layers.worlds.builders`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from locatietoets.layers.worlds.builders import (
    blobs,
    employer_layer,
    farm_layers,
    park_layer,
    site_table,
)

__all__ = [
    "generate_province",
    "synthetic_layers",
    "write_graphml",
    "write_province_config",
    "write_province_layers",
]

_CRS = "EPSG:28992"
_X0, _Y0 = 176_000.0, 320_000.0
#: South-west corner of the real-shaped world: the grid then covers Zuid-Limburg.
_REAL_ORIGIN = (170_000.0, 310_000.0)
_SPACING_M = 100.0


def write_graphml(
    path: Path,
    x: np.ndarray,
    y: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    highway: np.ndarray,
    wkt_fwd: np.ndarray,
    wkt_bwd: np.ndarray,
    length: np.ndarray,
) -> None:
    """Write an osmnx-compatible GraphML (both directions of every two-way road) without
    networkx."""
    keys = [
        ("edge", "geometry"),
        ("edge", "length"),
        ("edge", "reversed"),
        ("edge", "oneway"),
        ("edge", "highway"),
        ("edge", "osmid"),
        ("node", "street_count"),
        ("node", "y"),
        ("node", "x"),
        ("graph", "crs"),
    ]
    n_keys = len(keys)
    kid = {name: f"d{n_keys - 1 - i}" for i, (_, name) in enumerate(keys)}
    street_count = np.bincount(np.concatenate([u, v]), minlength=len(x))
    with path.open("w", encoding="utf-8") as fh:
        fh.write(
            "<?xml version='1.0' encoding='utf-8'?>\n<graphml"
            ' xmlns="http://graphml.graphdrawing.org/xmlns">'
        )
        for i, (kind, name) in enumerate(keys):
            fh.write(
                f'<key id="d{n_keys - 1 - i}" for="{kind}" attr.name="{name}"'
                ' attr.type="string"/>\n'
            )
        fh.write(f'<graph edgedefault="directed"><data key="{kid["crs"]}">EPSG:28992</data>\n')
        fh.write(
            "".join(
                f'<node id="{i}"><data key="{kid["x"]}">{xi:.2f}</data><data'
                f' key="{kid["y"]}">{yi:.2f}</data><data'
                f' key="{kid["street_count"]}">{c}</data></node>\n'
                for i, xi, yi, c in zip(
                    range(len(x)), x.tolist(), y.tolist(), street_count.tolist()
                )
            )
        )
        for forward in (True, False):
            a, b, wkt = (u, v, wkt_fwd) if forward else (v, u, wkt_bwd)
            rev = "False" if forward else "True"
            fh.write(
                "".join(
                    f'<edge source="{s}" target="{t}" id="0"><data'
                    f' key="{kid["osmid"]}">{k}</data><data key="{kid["highway"]}">{h}</data><data'
                    f' key="{kid["oneway"]}">False</data><data'
                    f' key="{kid["reversed"]}">{rev}</data><data'
                    f' key="{kid["length"]}">{ln:.3f}</data><data'
                    f' key="{kid["geometry"]}">{g}</data></edge>\n'
                    for k, (s, t, h, ln, g) in enumerate(
                        zip(a.tolist(), b.tolist(), highway.tolist(), length.tolist(), wkt.tolist())
                    )
                )
            )
        fh.write("</graph></graphml>\n")


def generate_province(
    work: Path,
    *,
    n_sites: int = 1_000_000,
    n_nodes: int = 155_000,
    n_bbg: int = 3000,
    n_farms: int = 5000,
    n_parks: int = 300,
    n_employers: int = 1000,
    seed: int = 8,
    world: str = "realistisch",
) -> Path:
    """Write the synthetic province (GeoPackages, GraphML) and its ``config.toml`` into ``work``.

    The road network is a perturbed grid (100 m) of about ``n_nodes`` nodes
    with ~8 % of residential links missing and secondary/tertiary roads every
    2 km/500 m; every other layer lies in its extent. Each farm has four
    nested odour contours (3, 8, 14, 25 OUe/m³). The same arguments give the
    same files.

    ``world="realistisch"`` (default) lays the grid over Zuid-Limburg and
    takes every other layer from :func:`layers.worlds.realshaped.realshaped_layers`:
    the real gemeenten, a dissolved BBG of a few huge multipolygons with
    holes per gemeente, overlapping contours and 30 % polygon sites.
    ``world="synthetisch"`` is the first benchmark world: simple disjoint BBG
    blobs, Voronoi gemeenten, point sites only.

    Returns
    -------
    Path
        ``work / "config.toml"``.
    """
    from locatietoets.scripts.bench.benchmark_network import grid_layout

    rng = np.random.default_rng(seed)
    inv = work / "invoer"
    inv.mkdir(parents=True, exist_ok=True)
    side = int(np.ceil(np.sqrt(n_nodes)))
    extent = side * _SPACING_M
    x0, y0 = (_X0, _Y0) if world == "synthetisch" else _REAL_ORIGIN

    def uniform_points(n: int, margin: float = 200.0) -> np.ndarray:
        return np.c_[
            rng.uniform(x0 + margin, x0 + extent - margin, n),
            rng.uniform(y0 + margin, y0 + extent - margin, n),
        ]

    # road network (osmnx GraphML, fiets: every road two-way)
    x, y, u, v, highway = grid_layout(side, spacing_m=_SPACING_M, x0=x0, y0=y0, rng=rng)
    mid = np.c_[
        (x[u] + x[v]) / 2 + rng.normal(0, 5, u.shape[0]),
        (y[u] + y[v]) / 2 + rng.normal(0, 5, u.shape[0]),
    ]
    coords = np.round(np.stack([np.c_[x[u], y[u]], mid, np.c_[x[v], y[v]]], axis=1), 2)
    x, y = np.round(x, 2), np.round(y, 2)
    fwd = shapely.linestrings(coords)
    bwd = shapely.linestrings(coords[:, ::-1])
    write_graphml(
        inv / "wegennet.graphml",
        x,
        y,
        u,
        v,
        highway,
        shapely.to_wkt(fwd, rounding_precision=2),
        shapely.to_wkt(bwd, rounding_precision=2),
        shapely.length(fwd),
    )

    if world == "synthetisch":
        layers = synthetic_layers(
            rng, uniform_points, x0, y0, extent, n_sites, n_bbg, n_farms, n_parks, n_employers
        )
    else:
        from locatietoets.layers.worlds.realshaped import realshaped_layers, shared_data_dir

        layers = realshaped_layers(
            (x0, y0, x0 + extent, y0 + extent),
            n_sites=n_sites,
            n_farms=n_farms,
            n_parks=n_parks,
            n_employers=n_employers,
            seed=seed,
            data=shared_data_dir(),
        )
    write_province_layers(inv, layers)
    return write_province_config(work, seed, n_sites)


def synthetic_layers(
    rng: np.random.Generator,
    uniform_points: Callable[[int], np.ndarray],
    x0: float,
    y0: float,
    extent: float,
    n_sites: int,
    n_bbg: int,
    n_farms: int,
    n_parks: int,
    n_employers: int,
) -> dict[str, gpd.GeoDataFrame]:
    """The layers of the first benchmark world (simple disjoint shapes, point sites)."""
    # gemeenten: Voronoi cells of the rule set's 31 gemeenten
    from locatietoets.layers.io.config import RulesConfig
    from locatietoets.layers.io.rules import load_ruleset

    ruleset = load_ruleset(RulesConfig())
    codes = sorted(k for k in ruleset.gemeenten if k.upper().startswith("GM"))
    names = [str(ruleset.gemeenten[c].get("naam", c)) for c in codes]
    box = shapely.box(x0 - 1000, y0 - 1000, x0 + extent + 1000, y0 + extent + 1000)
    seeds = shapely.multipoints(uniform_points(len(codes)))
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=box))
    cells = shapely.intersection(cells, box)
    # order cells like the seeds so names are deterministic
    seed_pts = shapely.get_parts(seeds)
    order = shapely.STRtree(cells).query(seed_pts, predicate="within")
    cells = cells[order[1][np.argsort(order[0])]]
    gemeenten = gpd.GeoDataFrame(
        {"gemeentenaam": names, "gemeentecode": codes}, geometry=cells, crs=_CRS
    )

    bbg = gpd.GeoDataFrame(
        {"soort": np.full(n_bbg, "kern", dtype=object)},
        geometry=blobs(uniform_points(n_bbg), rng.uniform(80, 350, n_bbg), rng),
        crs=_CRS,
    )
    farms, contours = farm_layers(
        uniform_points(n_farms), rng, lambda c, r, g: blobs(c, r, g, vertices=32)
    )
    parks = park_layer(uniform_points(n_parks), rng, blobs)
    employers = employer_layer(uniform_points(n_employers))
    sites = site_table(n_sites, rng, lambda: shapely.points(uniform_points(n_sites)))
    return {
        "locaties": sites,
        "bebouwd_gebied": bbg,
        "geurcontouren": contours,
        "veehouderijen": farms,
        "recreatieparken": parks,
        "werkgevers": employers,
        "gemeenten": gemeenten,
    }


def write_province_layers(inv: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    """Write every layer as ``inv/<name>.gpkg`` (GeoPackage 1.2, fixed timestamps: same bytes on
    every run)."""
    import pyogrio

    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2000-01-01T00:00:00Z"})
    try:
        for name, frame in layers.items():
            path = inv / f"{name}.gpkg"
            path.unlink(missing_ok=True)
            pyogrio.write_dataframe(
                frame, path, layer=name, driver="GPKG", dataset_options={"VERSION": "1.2"}
            )
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def write_province_config(work: Path, seed: int, n_sites: int) -> Path:
    """The ``config.toml`` of a generated province (paths relative to ``work``)."""
    from locatietoets.layers.io.config_writer import write_config

    return write_config(
        work / "config.toml",
        {
            "locaties": {
                "pad": "invoer/locaties.gpkg",
                "id_veld": "locatie_code",
                "verblijfstype_veld": "verblijfstype",
                "huisvestingsvorm_veld": "huisvestingsvorm",
                "personen_veld": "personen",
                "slaapkamers_veld": "slaapkamers",
                "woonoppervlak_veld": "woonoppervlak_m2",
            },
            "bebouwd_gebied": {"pad": "invoer/bebouwd_gebied.gpkg"},
            "geurcontouren": {"pad": "invoer/geurcontouren.gpkg", "waarde_veld": "geur_oue"},
            "veehouderijen": {
                "pad": "invoer/veehouderijen.gpkg",
                "naam_veld": "naam",
                "vaste_afstand_veld": "vaste_afstand_m",
            },
            "recreatieparken": {"pad": "invoer/recreatieparken.gpkg", "naam_veld": "naam"},
            "werkgevers": {"pad": "invoer/werkgevers.gpkg", "naam_veld": "naam"},
            "gemeenten": {
                "pad": "invoer/gemeenten.gpkg",
                "naam_veld": "gemeentenaam",
                "code_veld": "gemeentecode",
            },
            "wegennet": {"pad": "invoer/wegennet.graphml", "modus": "fiets"},
        },
        kop=[
            f"Synthetische provincie voor 'locatietoets benchmark' (FICTIEF), seed {seed},",
            f"{n_sites} locaties.",
        ],
    )
