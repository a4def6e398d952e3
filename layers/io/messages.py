"""Keep GDAL's and Python's raw messages off the terminal; turn them into Dutch warnings.

GDAL prints its errors and warnings ("ERROR 1: ...", "Warning 1: ...") to
stderr unless the configuration option ``CPL_LOG`` names a file; GDAL reads
it at its first message. :func:`route_gdal_messages` (called when the command
line starts) points it at a private file, :class:`Messages` collects what
GDAL and Python's :mod:`warnings` said during a block of work, as Dutch
warnings for the run summary and ``run.json``; :func:`disk_full` tells from
them (and from the exception) whether a write failed because the disk is full.
"""

from __future__ import annotations

import atexit
import errno
import os
from pathlib import Path
import tempfile
import warnings

__all__ = ["Messages", "disk_full", "gdal_log_lines", "gdal_log_size", "route_gdal_messages"]

_LOG: Path | None = None
_DISK_FULL = ("disk is full", "no space left", "disk full", "quota exceeded")


def route_gdal_messages() -> Path | None:
    """Send GDAL's messages to a private log file instead of stderr (once per process); return that
    file."""
    global _LOG
    if _LOG is not None:
        return _LOG
    if os.environ.get("CPL_LOG"):
        _LOG = Path(os.environ["CPL_LOG"])
        return _LOG
    fd, name = tempfile.mkstemp(prefix="locatietoets-gdal-", suffix=".log")
    os.close(fd)
    try:  # a GDAL option, not an environment variable: child processes keep their own log
        import pyogrio

        pyogrio.set_gdal_config_options({"CPL_LOG": name})
    except Exception:  # pragma: no cover - without pyogrio there is no GDAL to quieten
        _remove(Path(name))
        return None
    _LOG = Path(name)
    atexit.register(_remove, _LOG)
    return _LOG


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def gdal_log_size() -> int:
    """The current size (bytes) of GDAL's private log: where the messages of a block of work
    start."""
    try:
        return _LOG.stat().st_size if _LOG is not None else 0
    except OSError:
        return 0


def gdal_log_lines(start: int) -> list[str]:
    """GDAL's messages logged since byte ``start`` of its private log (from
    :func:`gdal_log_size`)."""
    if _LOG is None:
        return []
    try:
        with _LOG.open("rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(start if start <= size else 0)  # GDAL truncated the file when it opened it
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip()]


class Messages:
    """Collect GDAL's log lines and Python warnings raised in a ``with`` block.

    Attributes
    ----------
    gdal
        GDAL's raw lines ("ERROR 1: ...", "Warning 1: ...").
    python
        Python warnings as ``"Categorie: tekst"``.
    """

    def __init__(self, what: str = "") -> None:
        self.what = what
        self.gdal: list[str] = []
        self.python: list[str] = []
        self._start = 0
        self._catch: warnings.catch_warnings | None = None
        self._caught: list[warnings.WarningMessage] = []
        self._open = False

    def __enter__(self) -> "Messages":
        self._start = gdal_log_size()
        self._catch = warnings.catch_warnings(record=True)
        self._caught = self._catch.__enter__()
        warnings.simplefilter("always")
        for category in (
            DeprecationWarning,
            PendingDeprecationWarning,
            FutureWarning,
        ):  # for developers, not planners
            warnings.simplefilter("ignore", category)
        warnings.filterwarnings("ignore", message="Unable to import Axes3D")
        self._open = True
        return self

    def __exit__(self, *exc_info) -> bool:
        self._catch.__exit__(*exc_info)
        self._open = False
        self._collect()
        return False

    def _collect(self) -> None:
        self.gdal = gdal_log_lines(self._start)
        self.python = list(
            dict.fromkeys(f"{item.category.__name__}: {item.message}" for item in self._caught)
        )

    def warnings(self) -> list[str]:
        """The collected messages as Dutch warnings (same message once); also while the block still
        runs."""
        if self._open:
            self._collect()
        where = f" bij {self.what}" if self.what else ""
        out = [f"melding van GDAL{where}: {_gdal_text(line)}" for line in dict.fromkeys(self.gdal)]
        out += [f"melding van Python{where}: {text}" for text in self.python]
        return out


def _gdal_text(line: str) -> str:
    for prefix in ("ERROR", "Warning"):
        if line.startswith(prefix):
            head, _, rest = line.partition(":")
            return rest.strip() or line
    return line


def disk_full(exc: BaseException | None, lines: list[str] = (), folder: Path | None = None) -> bool:
    """Whether a failed write ran out of disk space (by errno, GDAL's message, or the free space
    left)."""
    seen = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if any(word in str(seen).lower() for word in _DISK_FULL):
            return True
        seen = seen.__cause__ or seen.__context__
    if any(word in line.lower() for line in lines for word in _DISK_FULL):
        return True
    if folder is not None:
        try:
            stat = os.statvfs(folder)
        except OSError:
            return False
        return stat.f_bavail * stat.f_frsize < 64 * 1024
    return False
