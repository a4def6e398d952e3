"""The figure every publication shares: A4 landscape, matplotlib settings and safe file writing.

``atomic_path`` writes a file under a temporary name and moves it into place, so a reader never
sees a half-written map or report; ``slugify`` makes file names of area names.
"""

from __future__ import annotations

from contextlib import contextmanager
import io
import os
from pathlib import Path
import re
import tempfile
from typing import Iterator
import unicodedata

from matplotlib.figure import Figure

__all__ = ["A4_LANDSCAPE_IN", "PDF_RC", "atomic_path", "figure_png", "slugify"]

A4_LANDSCAPE_IN = (11.69, 8.27)
#: matplotlib settings for every map and report. PDFs keep matplotlib's Type 3 fonts: their text
#: can be searched and extracted, and they write three times faster than embedded TrueType.
PDF_RC = {"pdf.fonttype": 3, "hatch.linewidth": 0.5}


def slugify(text: str) -> str:
    """Return a file-name-safe lower-case slug (``Sittard-Geleen`` → ``sittard-geleen``)."""
    norm = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", norm.lower()).strip("-")
    return slug or "onbekend"


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` on success.

    A reader never sees a half-written file, and a failure leaves an existing
    ``path`` unchanged.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def figure_png(fig: Figure, *, dpi: int) -> bytes:
    """Return a figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": "Locatietoets"})
    return buffer.getvalue()
