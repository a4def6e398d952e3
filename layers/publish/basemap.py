"""Optional basemap: PDOK's BRT-Achtergrondkaart (grijs) as WMTS tiles in RD New, cached.

Only with ``--achtergrond brt``: the maps never need the internet. Tiles are fetched once into
``~/.cache/locatietoets/brt`` and read from there afterwards (offline too); when a tile cannot be
fetched the map is drawn without basemap and says so in its footer.
"""

from __future__ import annotations

from collections.abc import Callable
import io
import logging
import math
import os
from pathlib import Path
import urllib.request

import numpy as np

__all__ = [
    "BACKGROUNDS",
    "BRT_ATTRIBUTION",
    "BRT_URL",
    "Basemap",
    "basemap_for",
    "tile_range",
]

log = logging.getLogger(__name__)

#: Values of ``--achtergrond``.
BACKGROUNDS: tuple[str, ...] = ("geen", "brt")
BRT_URL = (
    "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/grijs/EPSG:28992/{z}/{col}/{row}.png"
)
BRT_ATTRIBUTION = "Achtergrond: BRT-Achtergrondkaart grijs, Kadaster/PDOK (CC BY 4.0)"
#: The RD New tile matrix set of PDOK (EPSG:28992): top-left corner and resolution of level 0.
_ORIGIN = (-285401.92, 903401.92)
_RES0 = 3440.64
_TILE = 256
_MAX_LEVEL = 14
_MAX_TILES = 80
DEFAULT_CACHE_DIR = Path("~/.cache/locatietoets/brt").expanduser()

Fetch = Callable[[str], bytes]


def _download(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "Locatietoets"})
    with urllib.request.urlopen(request, timeout=15) as answer:  # noqa: S310 - fixed https URL
        return answer.read()


def tile_range(extent, pixels: float) -> tuple[int, int, int, int, int]:
    """Level and tile columns/rows (``z, col0, col1, row0, row1``, inclusive) covering ``extent``
    (xmin, xmax, ymin, ymax) at about ``pixels`` image pixels across, at most 80 tiles."""
    xmin, xmax, ymin, ymax = extent
    want = (xmax - xmin) / max(pixels, 1.0)
    z = int(np.clip(math.floor(math.log2(_RES0 / want)), 0, _MAX_LEVEL))
    while True:
        size = _TILE * _RES0 / 2**z
        col0 = math.floor((xmin - _ORIGIN[0]) / size)
        col1 = math.floor((xmax - _ORIGIN[0]) / size)
        row0 = math.floor((_ORIGIN[1] - ymax) / size)
        row1 = math.floor((_ORIGIN[1] - ymin) / size)
        if (col1 - col0 + 1) * (row1 - row0 + 1) <= _MAX_TILES or z == 0:
            return z, col0, col1, row0, row1
        z -= 1


class Basemap:
    """Tiles of one background, fetched through a cache folder."""

    def __init__(self, *, cache_dir: Path | None = None, fetch: Fetch | None = None) -> None:
        self.cache_dir = Path(
            cache_dir or os.environ.get("LOCATIETOETS_BRT_CACHE") or DEFAULT_CACHE_DIR
        )
        self.fetch = fetch or _download
        self.failed = False
        self.attribution = BRT_ATTRIBUTION

    def _tile(self, z: int, col: int, row: int) -> np.ndarray:
        from matplotlib.image import imread

        path = self.cache_dir / str(z) / str(col) / f"{row}.png"
        if path.is_file():
            data = path.read_bytes()
        else:
            data = self.fetch(BRT_URL.format(z=z, col=col, row=row))
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        image = imread(io.BytesIO(data), format="png")
        if image.ndim == 2:
            image = np.dstack([image] * 3)
        if image.shape[2] == 3:
            image = np.dstack([image, np.ones(image.shape[:2])])
        return image[:, :, :4]

    def draw(self, ax, extent, pixels: float) -> bool:
        """Draw the tiles under everything on ``ax``; ``False`` (and a warning once) when the
        background is not available."""
        if self.failed:
            return False
        z, col0, col1, row0, row1 = tile_range(extent, pixels)
        try:
            rows = [
                np.concatenate([self._tile(z, c, r) for c in range(col0, col1 + 1)], axis=1)
                for r in range(row0, row1 + 1)
            ]
        except Exception as exc:  # noqa: BLE001 - the background is never required
            self.failed = True
            log.warning(
                "achtergrondkaart (BRT) niet beschikbaar (geen verbinding met service.pdok.nl of"
                " een onleesbare tegel): de kaarten komen zonder achtergrond"
            )
            log.debug("BRT-tegel: %r", exc)
            return False
        size = _TILE * _RES0 / 2**z
        left = _ORIGIN[0] + col0 * size
        top = _ORIGIN[1] - row0 * size
        mosaic = np.concatenate(rows, axis=0)
        ax.imshow(
            mosaic,
            extent=(left, left + (col1 - col0 + 1) * size, top - (row1 - row0 + 1) * size, top),
            interpolation="bilinear",
            zorder=0.5,
        )
        return True


def basemap_for(name: str, **kwargs) -> Basemap | None:
    """The basemap of ``--achtergrond`` (``None`` for ``geen``)."""
    return Basemap(**kwargs) if name == "brt" else None
