"""Create the engine's own Python environment from the wheel bundled in the plugin.

``plugin-zip`` puts the engine as a wheel (``engine/locatietoets-<versie>-py3-none-any.whl``)
and its pinned requirements (``engine/requirements.txt``) inside the plugin. This
module makes a separate venv (never QGIS's own Python) and pip-installs them;
the engine's dependencies come from PyPI. Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable
import os
from pathlib import Path
import shutil
import subprocess

from .engine import (
    EngineCancelledError,
    EngineRunError,
    engine_env_dir,
    engine_environment,
    python_for_venv,
    venv_executable,
)

__all__ = ["bundled_engine", "install_plan", "install_engine"]

PLUGIN_DIR = Path(__file__).resolve().parent


def bundled_engine(plugin_dir: Path = PLUGIN_DIR) -> tuple[Path, Path | None] | None:
    """The bundled engine wheel and its requirements file, or ``None`` when the plugin has none."""
    wheels = sorted((plugin_dir / "engine").glob("locatietoets-*.whl"))
    if not wheels:
        return None
    requirements = plugin_dir / "engine" / "requirements.txt"
    return wheels[-1], requirements if requirements.is_file() else None


def install_plan(
    python: str, env_dir: Path, wheel: Path, requirements: Path | None
) -> list[list[str]]:
    """The commands that create the environment and install the engine into it."""
    env_python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    install = [
        str(env_python),
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--upgrade-strategy",
        "eager",
    ]
    if requirements is not None:
        install += ["-r", str(requirements)]
    install.append(str(wheel))
    return [[python, "-m", "venv", "--clear", str(env_dir)], install]


def install_engine(
    *,
    log: Callable[[str], None] = lambda _line: None,
    is_cancelled: Callable[[], bool] = lambda: False,
    env_dir: Path | None = None,
    plugin_dir: Path = PLUGIN_DIR,
) -> Path:
    """Create the engine venv and install the bundled engine; return its executable.

    Raises
    ------
    EngineRunError
        With a Dutch message when there is no bundled wheel, no suitable Python,
        or a command fails.
    EngineCancelledError
        When ``is_cancelled`` became true.
    """
    bundle = bundled_engine(plugin_dir)
    if bundle is None:
        raise EngineRunError(
            "Deze plugin bevat geen rekenkern om te installeren (map 'engine' ontbreekt)."
            " Installeer de plugin uit het zip-bestand van 'locatietoets plugin-zip', of installeer"
            " de rekenkern zelf."
        )
    python = python_for_venv()
    if python is None:
        raise EngineRunError(
            "Geen Python 3.11 of nieuwer met de module 'venv' gevonden om de rekenkern in te"
            " installeren. Installeer Python 3.11+ (Debian/Ubuntu: sudo apt install python3-venv;"
            " Windows: python.org) en probeer opnieuw."
        )
    env_dir = env_dir or engine_env_dir()
    env_dir.parent.mkdir(parents=True, exist_ok=True)
    wheel, requirements = bundle
    for command in install_plan(python, env_dir, wheel, requirements):
        log("$ " + " ".join(command))
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=engine_environment(),
        )
        tail: list[str] = []
        assert process.stdout is not None
        for line in iter(process.stdout.readline, ""):
            line = line.rstrip()
            tail = (tail + [line])[-20:]
            log(line)
            if is_cancelled():
                process.terminate()
                process.wait()
                shutil.rmtree(env_dir, ignore_errors=True)
                raise EngineCancelledError("Installatie van de rekenkern afgebroken.")
        if process.wait() != 0:
            raise EngineRunError(
                f"Installatie van de rekenkern mislukt bij '{' '.join(command[:4])} …' (exitcode"
                f" {process.returncode}):\n" + "\n".join(tail[-10:])
            )
    exe = venv_executable(env_dir)
    if not exe.is_file():
        raise EngineRunError(f"Installatie leek te lukken, maar '{exe}' bestaat niet.")
    return exe
