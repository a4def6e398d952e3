"""The suitability grid (``locatietoets raster``): every cell centre scored as a site.

The config's inputs and network are read once (:func:`scripts.runner.prepare.prepare`) and
reused for every block of cells; scores and verdict classes are written as cloud-optimised
GeoTIFFs (:mod:`layers.publish.rasters`).
"""

from __future__ import annotations

from collections.abc import Callable
import datetime as dt
import logging
from pathlib import Path
import time
from typing import Any

from locatietoets.analysis.texts import nl_value
from locatietoets.analysis.vocabulary import STAY_LABELS, nl_number

__all__ = ["DEFAULT_CHUNK", "RASTER_FILES", "run_raster"]

log = logging.getLogger(__name__)

#: Grid cells scored per call of ``score_sites`` in ``raster``.
DEFAULT_CHUNK = 200_000
RASTER_FILES = ("score_*.tif", "oordeel_*.tif", "oordeel_*.qml", "raster.json")


def run_raster(
    config,
    out_dir: Path,
    *,
    cell_m: float,
    area: str = "auto",
    chunk: int = DEFAULT_CHUNK,
    progress: Callable[[float, str], None] | None = None,
) -> dict[str, Any]:
    """Score a grid over the config's area and write the COGs; return the run record.

    The reference layers and road network are loaded once and reused for
    every block of ``chunk`` cells (``analysis.pipeline.score_sites``).
    """
    import geopandas as gpd
    import numpy as np
    import shapely

    from locatietoets.analysis.errors import InputError
    from locatietoets.analysis.pipeline import score_sites
    from locatietoets.analysis.planning.grid import (
        NO_VERDICT_CODE,
        grid_over_area,
        grid_sites,
        verdict_codes,
    )
    from locatietoets.analysis.ruleset import STAY_TYPES
    from locatietoets.layers.io.read import RD_NEW
    from locatietoets.layers.io.tables import write_json
    from locatietoets.layers.io.write import staged_output
    from locatietoets.layers.publish.rasters import write_cog
    from locatietoets.scripts.runner.prepare import prepare

    def report(fraction: float, message: str) -> None:
        if progress is not None:
            progress(fraction, message)

    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    use_gemeenten = area == "gemeenten" or (
        area == "auto" and config.layer("gemeenten") is not None
    )
    if area == "gemeenten" and config.layer("gemeenten") is None:
        raise InputError("--gebied gemeenten vraagt een laag [lagen.gemeenten] in de configuratie.")
    loaded = prepare(
        config,
        load_site_layer=not use_gemeenten,
        progress=lambda step, message, f: report(f, message),
        share=0.05,
    )
    timings["inlezen"] = round(time.perf_counter() - t0, 3)
    if use_gemeenten:
        polygon = shapely.union_all(loaded.frames["gemeenten"].geometry.to_numpy())
        area_text = "gemeentelaag"
    else:
        geoms = loaded.sites.geometry
        geoms = geoms[~(geoms.isna() | geoms.is_empty)]
        if geoms.empty:
            raise InputError(
                "De locaties hebben geen geometrie; het rastergebied kan niet worden bepaald."
            )
        minx, miny, maxx, maxy = geoms.total_bounds
        polygon = shapely.box(minx - cell_m, miny - cell_m, maxx + cell_m, maxy + cell_m)
        area_text = "omhullende van de locaties"
    t = time.perf_counter()
    grid, inside = grid_over_area(polygon, cell_m=cell_m)
    cells = np.flatnonzero(inside.ravel())
    timings["raster_opbouwen"] = round(time.perf_counter() - t, 3)
    log.info(
        "raster: %s × %s cellen van %s m, %s in het gebied",
        nl_number(grid.width),
        nl_number(grid.height),
        nl_number(cell_m, 1).removesuffix(",0"),
        nl_number(len(cells)),
    )
    if len(cells) == 0:
        raise InputError(
            f"Geen enkel celmiddelpunt van {nl_value(cell_m)} m ligt in het gebied"
            f" ({area_text}); kies een"
            " kleinere --cel."
        )
    n_total = grid.width * grid.height
    scores = {s: np.full(n_total, -9999.0, dtype=np.float32) for s in STAY_TYPES}
    classes = {s: np.zeros(n_total, dtype=np.uint8) for s in STAY_TYPES}
    skipped: dict[str, str] = {}
    t = time.perf_counter()
    n_chunks = max(1, -(-len(cells) // chunk))
    for k in range(n_chunks):
        idx = cells[k * chunk : (k + 1) * chunk]
        report(0.05 + 0.85 * k / n_chunks, f"Cellen toetsen: blok {k + 1} van {n_chunks}")
        frame = grid_sites(grid, idx)
        sites = gpd.GeoDataFrame(frame, geometry="geometry", crs=RD_NEW)
        result = score_sites(
            loaded.inputs_for(sites), loaded.ruleset, network_mode=loaded.network_mode
        )
        skipped = result.skipped
        for stay in STAY_TYPES:
            values = result.results[f"score_{stay}"].to_numpy(dtype=float)
            scores[stay][idx] = np.where(np.isfinite(values), values, -9999.0).astype(np.float32)
            classes[stay][idx] = verdict_codes(
                result.results[f"oordeel_{stay}"].to_numpy(dtype=object)
            )
    timings["toetsen"] = round(time.perf_counter() - t, 3)
    report(0.9, "GeoTIFFs wegschrijven")
    counts = {
        s: {
            name: int((classes[s] == code).sum())
            for name, code in (("geschikt", 1), ("voorwaardelijk", 2), ("ongeschikt", 3))
        }
        for s in STAY_TYPES
    }
    for s in STAY_TYPES:
        counts[s]["geen gegevens"] = int((classes[s][cells] == NO_VERDICT_CODE).sum())
    t = time.perf_counter()
    files: list[str] = []
    rs = loaded.ruleset
    tags = {
        "regelset": f"{rs.id} {rs.version}",
        "celgrootte_m": f"{cell_m:g}",
        "software": "Locatietoets",
    }
    with staged_output(Path(out_dir)) as stage:
        for stay in STAY_TYPES:
            label = STAY_LABELS[stay]
            write_cog(
                stage / f"score_{stay}.tif",
                scores[stay].reshape(grid.height, grid.width),
                grid,
                nodata=-9999.0,
                description=f"Score {label} (0-100)",
                tags=tags,
            )
            write_cog(
                stage / f"oordeel_{stay}.tif",
                classes[stay].reshape(grid.height, grid.width),
                grid,
                nodata=0,
                description=f"Oordeel {label}: 1 geschikt, 2 voorwaardelijk, 3 ongeschikt",
                verdict_classes=True,
                tags=tags,
            )
            files += [f"score_{stay}.tif", f"oordeel_{stay}.tif", f"oordeel_{stay}.qml"]
        timings["schrijven"] = round(time.perf_counter() - t, 3)
        timings["totaal"] = round(time.perf_counter() - t0, 3)
        record = {
            **loaded.record(),
            "raster": {
                "celgrootte_m": cell_m,
                "breedte": grid.width,
                "hoogte": grid.height,
                "linksboven_rd": [grid.west, grid.north],
                "crs": "EPSG:28992",
                "gebied": area_text,
                "blokgrootte": chunk,
                "blokken": n_chunks,
            },
            "cellen_getoetst": int(len(cells)),
            "telling": counts,
            "niet_uitgevoerd": skipped,
            "tijden_s": timings,
            "bestanden": files + ["raster.json"],
            "gestart": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }
        write_json(record, stage / "raster.json")
    report(1.0, "Klaar")
    return record
