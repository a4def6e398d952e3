"""Dutch help texts of the algorithms: HTML files in ``help/``, one per algorithm."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

__all__ = ["HELP_DIR", "help_html"]

HELP_DIR = Path(__file__).resolve().parent / "help"


@lru_cache(maxsize=None)
def help_html(algorithm_id: str) -> str:
    """The help body of an algorithm (``help/<id>.html``) plus the shared rule sources."""
    parts = []
    for name in (f"{algorithm_id}.html", "_bronnen.html"):
        path = HELP_DIR / name
        if path.is_file():
            parts.append(path.read_text(encoding="utf-8"))
    return "\n".join(parts) or "Geen helptekst gevonden."
