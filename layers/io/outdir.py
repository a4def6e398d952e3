"""Claim an output folder before any work: never an input, writable, one run at a time.

Every command that writes calls :func:`claim_output` before it reads its
inputs:

* no output file may be an input file (or one of its side files, such as a
  Shapefile's ``.dbf``), the output folder may not be an input path or lie
  inside one, and an output folder that is replaced as a whole may not hold
  an input: otherwise the command stops with exit code 2, naming both paths;
* a folder that cannot be written (under a file, read-only, ``/proc``) is
  reported in Dutch before any input is read;
* a lock file (``.locatietoets-slot``, ``fcntl.flock``) keeps a second run
  out of a folder while a first one writes into it; the kernel releases the
  lock when a run ends in any way, also when it is killed;
* staging folders (``.locatietoets-bezig-*``) left behind by a run that was
  killed hard are removed by the next run that holds the lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
import errno
import fnmatch
import os
from pathlib import Path
import shutil

from locatietoets.analysis.errors import InputError, OutputError

__all__ = [
    "LOCK_NAME",
    "RUN_FOLDER_HINT",
    "check_run_folder",
    "STAGE_PREFIX",
    "claim_output",
    "check_output",
    "config_inputs",
    "run_inputs",
    "side_files",
    "write_error",
]

#: Prefix of the hidden staging folders of :func:`layers.io.write.staged_output`.
STAGE_PREFIX = ".locatietoets-bezig-"
_STALE_PREFIXES = (STAGE_PREFIX, ".ophalen-")
#: The lock file in an output folder while a run writes into it.
LOCK_NAME = ".locatietoets-slot"

_SIDE_SUFFIXES = {
    ".shp": (".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".shp.xml", ".qmd", ".qml"),
    ".gpkg": ("-wal", "-shm", "-journal"),
    ".sqlite": ("-wal", "-shm", "-journal"),
}


def side_files(path: Path) -> list[Path]:
    """``path`` and the files a GIS reader uses with it (Shapefile parts, SQLite journals)."""
    path = Path(path)
    suffix = path.suffix.lower()
    out = [path]
    for extra in _SIDE_SUFFIXES.get(suffix, ()):
        if extra.startswith("-"):
            out.append(path.with_name(path.name + extra))
        else:
            out.append(path.with_suffix(extra))
            out.append(path.with_suffix(extra.upper()))
    return out


def config_inputs(config) -> list[Path]:
    """Every file a scoring config reads: the config itself, the layers and the rule-set file."""
    paths = [config.source] if config.source is not None else []
    paths += [spec.path for spec in config.layers.values()]
    if config.rules.file is not None:
        paths.append(config.rules.file)
    return [Path(p) for p in paths]


#: What to do when a command is not given a run folder of ``locatietoets score``.
RUN_FOLDER_HINT = (
    "Geef de uitvoermap van een run van 'locatietoets score' (met locaties.gpkg, "
    "referentie.gpkg en run.json), of maak een voorbeeld met 'locatietoets demo'."
)


def check_run_folder(run_dir: Path) -> None:
    """Raise InputError when ``run_dir`` does not exist or is not a folder."""
    if not run_dir.exists():
        raise InputError(f"Uitvoermap '{run_dir}' bestaat niet. {RUN_FOLDER_HINT}")
    if not run_dir.is_dir():
        raise InputError(f"'{run_dir}' is geen map. {RUN_FOLDER_HINT}")


def run_inputs(run_dir: Path) -> list[Path]:
    """The files of a run folder that maps, reports and planning commands read.

    Raises InputError when the folder does not exist, so that claiming an
    output folder inside it never creates the run folder it was meant to read.
    """
    run_dir = Path(run_dir)
    check_run_folder(run_dir)
    return [
        run_dir / name for name in ("locaties.gpkg", "referentie.gpkg", "run.json", "locaties.csv")
    ]


def _resolve(path: Path) -> Path:
    return Path(os.path.abspath(Path(path).expanduser())).resolve()


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_output(
    out_dir: Path,
    *,
    inputs: Iterable[Path],
    outputs: Iterable[str] = (),
    folders: Iterable[str] = (),
) -> Path:
    """Refuse an output folder that would replace or hold an input, or that cannot be written.

    Parameters
    ----------
    out_dir
        The output folder (may not exist yet).
    inputs
        Every file or folder the command reads.
    outputs
        Names (or patterns such as ``*.png``) of the files the command puts
        into ``out_dir``.
    folders
        Names of sub-folders of ``out_dir`` the command replaces as a whole.

    Returns
    -------
    pathlib.Path
        ``out_dir`` resolved.

    Raises
    ------
    OutputError
        Naming the output and the input path, or why the folder cannot be written.
    """
    target = _resolve(out_dir)
    outputs = list(outputs)
    problems: list[str] = []
    for given in inputs:
        if given is None:
            continue
        source = _resolve(given)
        if _within(target, source):
            what = "is zelf" if target == source else "ligt in"
            problems.append(
                f"De uitvoermap '{target}' {what} invoer '{source}'. Kies een andere uitvoermap"
                " (--out); de invoer wordt nooit overschreven."
            )
            continue
        for folder in folders:
            replaced = target / folder
            if _within(source, replaced):
                problems.append(
                    f"De uitvoermap '{replaced}' wordt vervangen, maar bevat invoer '{source}'. "
                    "Kies een andere uitvoermap (--out) of verplaats de invoer."
                )
        for part in side_files(source):
            if part.parent != target:
                continue
            hit = next(
                (
                    pattern
                    for pattern in outputs
                    if fnmatch.fnmatchcase(part.name.lower(), pattern.lower())
                ),
                None,
            )
            if hit is not None:
                problems.append(
                    f"Uitvoerbestand '{target / part.name}' zou invoer '{source}' overschrijven. "
                    "Kies een andere uitvoermap (--out) of geef de invoer een andere naam of map."
                )
                break
    if problems:
        raise OutputError(problems)
    _check_writable(target)
    return target


def _check_writable(target: Path) -> None:
    """Report a folder that cannot be created or written, before any work is done."""
    probe = target
    while not probe.exists():
        if probe.is_symlink() or probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        where = "is een bestand" if probe == target else f"ligt onder het bestand '{probe}'"
        raise OutputError(
            f"De uitvoermap '{target}' {where}, geen map. Kies een map als uitvoer (--out)."
        )


def write_error(exc: OSError, path: Path) -> OutputError:
    """A Dutch message for an ``OSError`` while creating or writing output at ``path``."""
    reason = {
        errno.ENOSPC: "de schijf is vol",
        errno.EDQUOT: "het schijfquotum is op",
        errno.EROFS: "de map is alleen-lezen",
        errno.EACCES: "geen schrijfrechten",
        errno.EPERM: "geen schrijfrechten",
        errno.ENOENT: "de map kan hier niet worden aangemaakt",
        errno.ENOTDIR: "een deel van het pad is een bestand",
        errno.EEXIST: "er staat een bestand met die naam",
        errno.EIO: "schrijffout van het apparaat",
    }.get(exc.errno or 0, exc.strerror or type(exc).__name__)
    hint = (
        "Maak ruimte vrij of kies een andere uitvoermap (--out)."
        if exc.errno in (errno.ENOSPC, errno.EDQUOT)
        else ("Kies een map waarin u mag schrijven (--out).")
    )
    return OutputError(
        f"Kan niet schrijven in de uitvoermap '{path}': {reason}. {hint} Er is niets weggeschreven."
    )


def _make_dirs(target: Path) -> list[Path]:
    """Create ``target`` with its missing parents; return the folders that were created (deepest
    last)."""
    missing = []
    probe = target
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    created = []
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            if not folder.is_dir():
                raise
            continue
        created.append(folder)
    return created


@contextmanager
def claim_output(
    out_dir: Path,
    *,
    inputs: Iterable[Path] = (),
    outputs: Iterable[str] = (),
    folders: Iterable[str] = (),
) -> Iterator[Path]:
    """Check ``out_dir`` (:func:`check_output`), create it, hold its lock and clean stale staging
    folders.

    Yields the resolved folder. Folders created here are removed again when
    the block fails and they are still empty.

    Raises
    ------
    OutputError
        An input would be overwritten, the folder cannot be written, or
        another run is writing into it.
    """
    target = check_output(out_dir, inputs=inputs, outputs=outputs, folders=folders)
    try:
        created = _make_dirs(target)
    except OSError as exc:
        raise write_error(exc, target) from None
    lock_path = target / LOCK_NAME
    ok = False
    fd = None
    try:
        while True:
            try:
                fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise write_error(exc, target) from None
            try:
                _lock(fd)
            except OSError:
                os.close(fd)
                fd = None
                holder = _read_pid(lock_path)
                raise OutputError(
                    f"In de uitvoermap '{target}' schrijft al een andere"
                    f" run{f' (proces {holder})' if holder else ''}. Wacht tot die klaar is of kies"
                    " een andere uitvoermap (--out)."
                ) from None
            try:  # the file may have been removed by a run that just finished: lock the current one
                same = os.fstat(fd).st_ino == os.stat(lock_path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
            fd = None
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError as exc:
            raise write_error(exc, target) from None
        _clean_stale_stages(target)
        yield target
        ok = True
    finally:
        if fd is not None:
            try:
                os.unlink(
                    lock_path
                )  # removed while still locked, so no other run locks a stale file
            except OSError:
                pass
            os.close(fd)
        if not ok:
            for folder in reversed(created):
                try:
                    folder.rmdir()
                except OSError:
                    break


def _lock(fd: int) -> None:
    """Take an exclusive lock on ``fd`` without waiting; OSError when another process holds it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        return
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _read_pid(path: Path) -> str:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return text if text.isdigit() else ""


def _clean_stale_stages(target: Path) -> None:
    """Remove staging folders of earlier runs (this run holds the lock, so none is in use)."""
    for item in target.iterdir():
        if item.name.startswith(_STALE_PREFIXES) and item.is_dir() and not item.is_symlink():
            shutil.rmtree(item, ignore_errors=True)
