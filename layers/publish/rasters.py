"""Cloud-optimised GeoTIFFs of ``locatietoets raster``: scores and verdict classes (with colour
table, category names and a QGIS style)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
import html
from pathlib import Path

import numpy as np

from locatietoets.analysis.errors import InputError
from locatietoets.analysis.planning.grid import VERDICT_CODES, GridSpec
from locatietoets.layers.publish.style import VERDICT_COLOURS

__all__ = ["verdict_qml", "write_cog"]

_VERDICT_LABELS = {code: VERDICT_COLOURS[v][0] for v, code in VERDICT_CODES.items()}


def verdict_qml() -> str:
    """QGIS style (paletted, Dutch labels) for a verdict raster; QGIS loads ``<naam>.qml``
    automatically."""
    entries = "".join(
        f'<paletteEntry value="{code}" color="#{r:02x}{g:02x}{b:02x}" alpha="255"'
        f' label="{html.escape(VERDICT_COLOURS[v][0])}"/>'
        for v, code in VERDICT_CODES.items()
        for r, g, b in [VERDICT_COLOURS[v][1]]
    )
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        '<qgis version="3.22.16-Białowieża" styleCategories="Symbology">'
        '<pipe><rasterrenderer type="paletted" band="1" opacity="1" alphaBand="-1" nodataColor="">'
        f"<colorPalette>{entries}</colorPalette></rasterrenderer></pipe></qgis>\n"
    )


def _category_aux_xml(names: Sequence[str]) -> str:
    cats = "".join(f"<Category>{html.escape(n)}</Category>" for n in names)
    return (
        '<PAMDataset>\n  <PAMRasterBand band="1">\n'
        f"    <CategoryNames>{cats}</CategoryNames>\n"
        "  </PAMRasterBand>\n</PAMDataset>\n"
    )


def write_cog(
    path: Path,
    data: np.ndarray,
    grid: GridSpec,
    *,
    nodata: float,
    description: str,
    verdict_classes: bool = False,
    tags: Mapping[str, str] | None = None,
) -> None:
    """Write one band as a cloud-optimised GeoTIFF (GDAL COG driver), EPSG:28992.

    Parameters
    ----------
    path
        Destination ``.tif`` (normally inside a staged folder).
    data
        2-D array ``(grid.height, grid.width)``: float32 scores or uint8
        verdict classes.
    grid
        The grid (transform).
    nodata
        The nodata value.
    description
        Band description (Dutch).
    verdict_classes
        Add the verdict colour table, category names (``.aux.xml``) and a
        QGIS style (``.qml``) next to the file; overviews by nearest
        neighbour instead of averaging.
    tags
        Extra dataset metadata.
    """
    import rasterio
    from rasterio.io import MemoryFile
    from rasterio.shutil import copy as rio_copy
    from rasterio.transform import Affine

    profile = {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": 1,
        "dtype": data.dtype.name,
        "crs": "EPSG:28992",
        "transform": Affine(*grid.transform),
        "nodata": nodata,
    }
    # Overviews are made down to one block: small grids get small blocks so they still get
    # overviews.
    block = 512
    while block > 16 and max(grid.width, grid.height) <= block:
        block //= 2
    with MemoryFile() as mem:
        with mem.open(**profile) as ds:
            ds.write(data, 1)
            ds.set_band_description(1, description)
            ds.update_tags(**(tags or {}))
            if verdict_classes:
                cmap = {0: (0, 0, 0, 0)}
                for verdict, code in VERDICT_CODES.items():
                    cmap[code] = (*VERDICT_COLOURS[verdict][1], 255)
                ds.write_colormap(1, cmap)
                ds.update_tags(
                    1,
                    **{f"klasse_{code}": label for code, label in _VERDICT_LABELS.items()},
                    klasse_0="geen gegevens",
                )
        with mem.open() as src:
            rio_copy(
                src,
                str(path),
                driver="COG",
                COMPRESS="DEFLATE",
                PREDICTOR="NO" if verdict_classes else "YES",
                BLOCKSIZE=str(block),
                OVERVIEWS="IGNORE_EXISTING",
                RESAMPLING="NEAREST" if verdict_classes else "AVERAGE",
                OVERVIEW_RESAMPLING="NEAREST" if verdict_classes else "AVERAGE",
                NUM_THREADS="ALL_CPUS",
            )
    if verdict_classes:
        names = ["geen gegevens"] + [_VERDICT_LABELS[c] for c in sorted(_VERDICT_LABELS)]
        Path(str(path) + ".aux.xml").write_text(_category_aux_xml(names), encoding="utf-8")
        path.with_suffix(".qml").write_text(verdict_qml(), encoding="utf-8")
    with rasterio.open(path) as check:  # fail here, not in the user's GIS
        if check.overviews(1) == [] and max(grid.width, grid.height) > 32:
            raise InputError(
                f"'{path.name}' is zonder overzichten geschreven; controleer de GDAL-installatie"
                " (COG-driver)."
            )
