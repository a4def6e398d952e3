"""Find, check and run the ``locatietoets`` engine as an external process.

The plugin never imports the engine (or geopandas, shapely, ...) into QGIS's
own Python: like QGIS's GRASS, SAGA and WhiteboxTools providers it writes a
config file, starts the engine's command line and reads its progress back.
That keeps QGIS safe from library clashes (the engine's GDAL/PROJ/GEOS never
meet QGIS's in one process) and gives exactly the numbers of
``locatietoets score``.

This module uses only the standard library, so it can be tested without QGIS.
The Processing side passes plain callbacks (``progress``, ``info``, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
import glob
import json
import os
from pathlib import Path
import queue
import re
import shutil
import subprocess
import sys
import threading
from typing import Any

from .config_reader import parse_overrides
from .config_writer import LAYER_ORDER, render_config

__all__ = [
    "ENV_VAR",
    "MINIMUM_VERSION",
    "LAYER_ORDER",
    "Engine",
    "EngineMissingError",
    "EngineRunError",
    "EngineCancelledError",
    "find_engine",
    "candidate_paths",
    "engine_version",
    "install_instructions",
    "parse_overrides",
    "render_config",
    "run_engine",
]

#: Environment variable that names the engine executable (CI, qgis_process, admins).
ENV_VAR = "LOCATIETOETS_ENGINE"
#: Oldest engine whose command line (``score --voortgang json``) this plugin speaks.
MINIMUM_VERSION: tuple[int, int, int] = (0, 1, 0)
#: Environment variables of the QGIS process that must not leak into the engine:
#: they point at QGIS's own Python and GDAL/PROJ data, not the engine's.
_SCRUBBED_ENV = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONEXECUTABLE",
    "GDAL_DATA",
    "GDAL_DRIVER_PATH",
    "PROJ_LIB",
    "PROJ_DATA",
    "VIRTUAL_ENV",
)
_VERSION_RE = re.compile(r"(\d+)\.(\d+)\.(\d+)")


def _exe_name() -> str:
    return "locatietoets.exe" if os.name == "nt" else "locatietoets"


def _version_text(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


class EngineMissingError(RuntimeError):
    """The engine cannot be used: not found, not runnable or too old.

    ``str(error)`` is a complete Dutch message: what is wrong and exactly how
    to install the engine.

    Attributes
    ----------
    reason
        ``"ontbreekt"`` (not found), ``"onbruikbaar"`` (found but does not run)
        or ``"te_oud"`` (older than :data:`MINIMUM_VERSION`).
    path
        The executable that was tried, when there was one.
    """

    def __init__(self, message: str, *, reason: str, path: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.path = path


class EngineRunError(RuntimeError):
    """The engine ran but reported an error (``{"type": "fout"}``) or crashed."""

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class EngineCancelledError(RuntimeError):
    """The user cancelled the run; the engine process was ended."""


# ---------------------------------------------------------------------------
# Finding the engine
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Engine:
    """A usable engine: its executable and version."""

    path: str
    version: tuple[int, int, int]

    @property
    def version_text(self) -> str:
        return _version_text(self.version)


def engine_env_dir() -> Path:
    """Folder where the plugin's install button creates the engine's venv."""
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA") or os.environ.get("APPDATA") or str(Path.home())
        return Path(base) / "locatietoets" / "engine"
    return Path.home() / ".cache" / "locatietoets" / "engine"


def venv_executable(env_dir: str | os.PathLike[str]) -> Path:
    """The ``locatietoets`` executable inside a venv folder."""
    env_dir = Path(env_dir)
    if os.name == "nt":
        return env_dir / "Scripts" / _exe_name()
    return env_dir / "bin" / _exe_name()


def _resolve_setting(value: str) -> str:
    """A setting may name the executable or the venv folder that holds it."""
    path = Path(os.path.expanduser(value.strip().strip('"')))
    if path.is_dir():
        return str(venv_executable(path))
    return str(path)


def candidate_paths(
    setting: str | None = None, *, environ: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """List the places where the engine may be, best first.

    Parameters
    ----------
    setting
        The Processing setting "Pad naar locatietoets" (empty: detect).
    environ
        Environment to read :data:`ENV_VAR` and Windows folders from.

    Returns
    -------
    list of (path, source)
        ``source`` says in Dutch where the candidate came from. When the
        setting is filled in it is the only candidate: a user who points at a
        path gets told when it is wrong, never silently another engine.
    """
    environ = os.environ if environ is None else environ
    if setting and setting.strip():
        return [(_resolve_setting(setting), "de instelling 'Pad naar locatietoets'")]
    if environ.get(ENV_VAR, "").strip():
        return [(_resolve_setting(environ[ENV_VAR]), f"de omgevingsvariabele {ENV_VAR}")]

    found: list[tuple[str, str]] = []
    on_path = shutil.which("locatietoets", path=environ.get("PATH"))
    if on_path:
        found.append((on_path, "het zoekpad (PATH)"))
    home = Path.home()
    found.append(
        (str(venv_executable(engine_env_dir())), "de door de plugin geïnstalleerde rekenkern")
    )
    for venv in sorted(glob.glob(str(home / ".cache" / "locatietoets" / "venv*"))):
        found.append((str(venv_executable(venv)), "een bekende virtuele omgeving"))
    found.append((str(home / ".local" / "bin" / _exe_name()), "~/.local/bin"))
    if os.name == "nt":
        for var in ("LOCALAPPDATA", "APPDATA"):
            base = environ.get(var)
            if not base:
                continue
            found.append(
                (str(Path(base) / "locatietoets" / "engine" / "Scripts" / _exe_name()), f"%{var}%")
            )
            for scripts in sorted(
                glob.glob(str(Path(base) / "Python" / "Python3*" / "Scripts")), reverse=True
            ):
                found.append((str(Path(scripts) / _exe_name()), f"%{var}%"))
            for scripts in sorted(
                glob.glob(str(Path(base) / "Programs" / "Python" / "Python3*" / "Scripts")),
                reverse=True,
            ):
                found.append((str(Path(scripts) / _exe_name()), f"%{var}%"))
    else:
        found.append(("/usr/local/bin/locatietoets", "/usr/local/bin"))
    unique: list[tuple[str, str]] = []
    seen: set[str] = set()
    for path, source in found:
        if path not in seen:
            seen.add(path)
            unique.append((path, source))
    return unique


def engine_environment() -> dict[str, str]:
    """The environment the engine runs in: QGIS's, minus QGIS's Python and GDAL/PROJ settings."""
    env = {key: value for key, value in os.environ.items() if key not in _SCRUBBED_ENV}
    env["PYTHONUNBUFFERED"] = "1"  # progress lines arrive as they are printed
    env["PYTHONIOENCODING"] = "utf-8"
    env["PYTHONUTF8"] = "1"
    env.setdefault("MPLBACKEND", "Agg")
    return env


def _popen_kwargs() -> dict[str, Any]:
    kwargs: dict[str, Any] = {"env": engine_environment()}
    if os.name == "nt":  # no console window flashing up from QGIS Desktop
        kwargs["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
    return kwargs


_VERSION_CACHE: dict[tuple[str, float], tuple[int, int, int]] = {}


def engine_version(path: str, *, timeout: float = 120.0) -> tuple[int, int, int]:
    """Run ``PATH --version`` and parse ``locatietoets X.Y.Z``.

    Raises
    ------
    EngineMissingError
        With reason ``"onbruikbaar"`` when it does not run or prints no version.
    """
    try:
        key = (path, os.path.getmtime(path))
    except OSError:
        key = None
    if key is not None and key in _VERSION_CACHE:
        return _VERSION_CACHE[key]
    try:
        done = subprocess.run(
            [path, "--version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            **_popen_kwargs(),
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise EngineMissingError(
            f"De rekenkern '{path}' kan niet gestart worden ({exc}).\n\n{install_instructions()}",
            reason="onbruikbaar",
            path=path,
        ) from None
    text = (done.stdout or "") + (done.stderr or "")
    match = _VERSION_RE.search(done.stdout or "")
    if done.returncode != 0 or not match:
        tail = "\n".join(text.strip().splitlines()[-8:])
        raise EngineMissingError(
            f"De rekenkern '{path}' start niet goed: 'locatietoets --version' gaf exitcode"
            f" {done.returncode}"
            + (f" en meldde:\n{tail}" if tail else ".")
            + f"\n\n{install_instructions()}",
            reason="onbruikbaar",
            path=path,
        )
    version = (int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if key is not None:
        _VERSION_CACHE[key] = version
    return version


def find_engine(
    setting: str | None = None, *, minimum: tuple[int, int, int] = MINIMUM_VERSION
) -> Engine:
    """Find a usable engine, or explain in Dutch what is missing.

    Parameters
    ----------
    setting
        The Processing setting "Pad naar locatietoets"; empty means detect
        (environment variable :data:`ENV_VAR`, PATH, known venvs).
    minimum
        Oldest version accepted.

    Raises
    ------
    EngineMissingError
        When no engine is found, it does not run, or it is too old.
    """
    candidates = candidate_paths(setting)
    explicit = bool(setting and setting.strip()) or bool(os.environ.get(ENV_VAR, "").strip())
    existing = [(p, s) for p, s in candidates if os.path.isfile(p) and os.access(p, os.X_OK)]
    if not existing:
        if explicit:
            path, source = candidates[0]
            message = (
                f"De rekenkern 'locatietoets' is niet gevonden: {source} wijst naar '{path}', "
                "maar daar staat geen uitvoerbaar bestand."
            )
        else:
            message = (
                "De rekenkern 'locatietoets' is niet gevonden (gezocht in PATH, "
                + ", ".join(sorted({s for _, s in candidates[1:]}))
                + ")."
            )
        raise EngineMissingError(
            f"{message}\n\n{install_instructions()}",
            reason="ontbreekt",
            path=candidates[0][0] if explicit else None,
        )
    problems: list[EngineMissingError] = []
    for path, _source in existing:
        try:
            version = engine_version(path)
        except EngineMissingError as exc:
            problems.append(exc)
            continue
        if version < minimum:
            problems.append(
                EngineMissingError(
                    f"De rekenkern '{path}' is versie {_version_text(version)}; deze plugin heeft"
                    f" minstens versie {_version_text(minimum)} nodig. Werk de rekenkern"
                    f" bij.\n\n{install_instructions()}",
                    reason="te_oud",
                    path=path,
                )
            )
            continue
        return Engine(path=path, version=version)
    raise problems[0]


def install_instructions() -> str:
    """Dutch, step by step: how to install the engine so the plugin finds it."""
    env_dir = engine_env_dir()
    exe = venv_executable(env_dir)
    if os.name == "nt":
        python = "py -3.11"
        pip = env_dir / "Scripts" / "pip.exe"
    else:
        python = "python3"
        pip = env_dir / "bin" / "pip"
    return (
        "Zo installeert u de rekenkern (Python 3.11 of nieuwer nodig):\n"
        "  1. Klik in de berichtbalk op 'Rekenkern installeren' (plugin-menu Locatietoets), of voer"
        " zelf uit:\n"
        f'       {python} -m venv "{env_dir}"\n'
        f'       "{pip}" install locatietoets-<versie>-py3-none-any.whl\n'
        "     (het wheel-bestand staat in de map 'engine' van de plugin; de overige pakketten komen"
        " van PyPI).\n"
        f"  2. De plugin vindt '{exe}' dan vanzelf. Staat de rekenkern ergens anders, vul dan het"
        " pad in bij "
        "Processing → Opties → Providers → Locatietoets → 'Pad naar locatietoets', of zet de "
        f"omgevingsvariabele {ENV_VAR}.\n"
        "  3. Controleer met: locatietoets --version "
        f"(minimaal {_version_text(MINIMUM_VERSION)})."
    )


# ---------------------------------------------------------------------------
# Running the engine
# ---------------------------------------------------------------------------


def _pump(stream: Any, name: str, sink: queue.Queue[tuple[str, str | None]]) -> None:
    try:
        for line in iter(stream.readline, ""):
            sink.put((name, line.rstrip("\r\n")))
    except (OSError, ValueError):
        pass
    finally:
        sink.put((name, None))


def _end_process(process: subprocess.Popen[str], *, grace: float = 10.0) -> None:
    """Ask the engine to stop (SIGTERM: it removes half-written output), then force it."""
    if process.poll() is not None:
        return
    try:
        process.terminate()
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    except OSError:
        pass


def run_engine(
    engine: str,
    arguments: list[str],
    *,
    progress: Callable[[float], None] | None = None,
    info: Callable[[str], None] | None = None,
    warning: Callable[[str], None] | None = None,
    debug: Callable[[str], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
    cwd: str | None = None,
    poll_s: float = 0.1,
) -> dict[str, Any]:
    """Run the engine and stream its JSON-lines progress into callbacks.

    Parameters
    ----------
    engine
        The ``locatietoets`` executable.
    arguments
        Its arguments, e.g. ``["score", "config.toml", "--out", DIR, "--voortgang", "json"]``.
    progress
        Called with the overall fraction 0–1 of each ``stap`` line.
    info, warning
        Called with the Dutch text of ``stap`` titles and ``log`` lines.
    debug
        Called with every line of the engine's stderr and unparsable stdout.
    is_cancelled
        Polled every ``poll_s`` seconds; when true the engine is ended.

    Returns
    -------
    dict
        The final ``{"type": "klaar", ...}`` message.

    Raises
    ------
    EngineRunError
        With the engine's Dutch message (``fout`` line) or the tail of its stderr.
    EngineCancelledError
        When ``is_cancelled`` returned true.
    """
    progress = progress or (lambda _f: None)
    info = info or (lambda _m: None)
    warning = warning or info
    debug = debug or (lambda _m: None)
    is_cancelled = is_cancelled or (lambda: False)

    try:
        process = subprocess.Popen(
            [engine, *arguments],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
            cwd=cwd,
            **_popen_kwargs(),
        )
    except OSError as exc:
        raise EngineMissingError(
            f"De rekenkern '{engine}' kan niet gestart worden ({exc}).\n\n{install_instructions()}",
            reason="onbruikbaar",
            path=engine,
        ) from None

    lines: queue.Queue[tuple[str, str | None]] = queue.Queue()
    readers = [
        threading.Thread(target=_pump, args=(process.stdout, "stdout", lines), daemon=True),
        threading.Thread(target=_pump, args=(process.stderr, "stderr", lines), daemon=True),
    ]
    for reader in readers:
        reader.start()

    finished: dict[str, Any] | None = None
    failure: str | None = None
    stderr_tail: list[str] = []
    open_streams = 2
    cancelled = False
    last_title = ""
    try:
        while open_streams:
            if is_cancelled():
                cancelled = True
                _end_process(process)
                break
            try:
                stream, line = lines.get(timeout=poll_s)
            except queue.Empty:
                continue
            if line is None:
                open_streams -= 1
                continue
            if stream == "stderr":
                stderr_tail = (stderr_tail + [line])[-40:]
                debug(line)
                continue
            message = _parse_line(line)
            if message is None:
                if line.strip():
                    debug(line)
                continue
            kind = message.get("type")
            if kind == "stap":
                fraction = message.get("voortgang")
                if isinstance(fraction, (int, float)):
                    progress(min(max(float(fraction), 0.0), 1.0))
                title = str(message.get("titel") or "")
                if title and title != last_title:  # a step reports its title at start and end
                    info(title)
                    last_title = title
            elif kind == "log":
                text = str(message.get("bericht", ""))
                (warning if message.get("niveau") == "waarschuwing" else info)(text)
            elif kind == "klaar":
                finished = message
            elif kind == "fout":
                failure = str(message.get("bericht", "")).strip() or None
            else:
                debug(line)
    finally:
        if process.poll() is None and (cancelled or open_streams):
            _end_process(process)
        exit_code = process.wait()
        for reader in readers:
            reader.join(timeout=5)
        for stream in (process.stdout, process.stderr):
            try:
                stream.close()
            except (OSError, AttributeError):
                pass

    if cancelled:
        raise EngineCancelledError("De berekening is afgebroken; de rekenkern is gestopt.")
    if failure is not None:
        raise EngineRunError(failure, exit_code=exit_code)
    if exit_code != 0 or finished is None:
        tail = "\n".join(stderr_tail[-15:]).strip()
        raise EngineRunError(
            f"De rekenkern stopte onverwacht (exitcode {exit_code})"
            + (f". Laatste meldingen:\n{tail}" if tail else ", zonder melding."),
            exit_code=exit_code,
        )
    return finished


def _parse_line(line: str) -> dict[str, Any] | None:
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        message = json.loads(line)
    except ValueError:
        return None
    return message if isinstance(message, dict) and "type" in message else None


def read_run_record(out_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Read ``run.json`` from an engine output folder (``None`` when absent or unreadable)."""
    path = Path(out_dir) / "run.json"
    try:
        with path.open(encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def elapsed_text(seconds: float) -> str:
    """'12 ms', '3,2 s' or '2 min 5 s' (Dutch decimal comma)."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f}".replace(".", ",") + " s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest} s"


def python_for_venv() -> str | None:
    """A Python ≥ 3.11 that can create venvs, or ``None``. Used by the installer."""
    candidates: list[str] = []
    for name in (
        "python3.11",
        "python3.12",
        "python3.13",
        "python3",
        "python",
        "py",
    ):  # pins are tested on 3.11
        found = shutil.which(name)
        if found:
            candidates.append(found)
    prefix = Path(sys.exec_prefix)
    candidates += [
        str(prefix / "python3.exe"),
        str(prefix / "python.exe"),
        str(prefix / "bin" / "python3"),
    ]
    if os.name != "nt":
        candidates.append("/usr/bin/python3")
    seen: set[str] = set()
    for candidate in candidates:
        if candidate in seen or not os.path.isfile(candidate):
            continue
        seen.add(candidate)
        try:
            done = subprocess.run(
                [
                    candidate,
                    "-c",
                    "import sys, venv, ensurepip; print(sys.version_info >= (3, 11))",
                ],
                capture_output=True,
                text=True,
                timeout=60,
                stdin=subprocess.DEVNULL,
                **_popen_kwargs(),
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0 and done.stdout.strip() == "True":
            return candidate
    return None
