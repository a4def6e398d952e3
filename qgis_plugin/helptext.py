"""Dutch help texts of the algorithms: HTML files in ``help/``, one per algorithm."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
import re

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
    # the dialog's help panel shows the algorithm's name as its title: a leading <h3> title of the
    # help file would repeat it
    text = _TITLE.sub("", "\n".join(parts), count=1)
    return _one_line(text) or "Geen helptekst gevonden."


_TITLE = re.compile(r"^\s*<h3>[^<]*</h3>\s*")
_PRE = re.compile(r"(<pre>.*?</pre>)", re.DOTALL)


def _one_line(html: str) -> str:
    """Join the source's wrapped lines: the Processing dialog's help panel shows every newline
    as a paragraph break, which cut sentences in half. Newlines inside ``<pre>`` stay."""
    pieces = _PRE.split(html)
    return "".join(
        p if p.startswith("<pre>") else re.sub(r"\s*\n\s*", " ", p) for p in pieces
    ).strip()
