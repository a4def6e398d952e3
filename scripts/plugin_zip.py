"""``locatietoets plugin-zip``: build the QGIS plugin zip that "Install from ZIP" accepts.

The zip holds one folder ``locatietoets/``: the plugin code from
``qgis_plugin/``, ``metadata.txt``, the icon, ``LICENSE``, the help pages and,
under ``engine/``, the engine as a wheel plus its pinned requirements, so the
plugin can install its own engine. No tests, caches or byte code. Entries are
sorted and time-stamped from ``SOURCE_DATE_EPOCH`` (default 1980-01-01), so
the same sources give the same zip.
"""

from __future__ import annotations

import configparser
import os
from pathlib import Path
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile

import click

from locatietoets.analysis.vocabulary import nl_number

__all__ = ["plugin_zip", "build_plugin_zip", "package_version", "PLUGIN_FOLDER"]

REPO = Path(__file__).resolve().parents[1]
PLUGIN_FOLDER = "locatietoets"
_EXCLUDED_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", "tests", "test"}
_EXCLUDED_SUFFIXES = {".pyc", ".pyo", ".orig", ".rej", ".swp"}
_ENGINE_SOURCES = (
    "pyproject.toml",
    "README.md",
    "LICENSE",
    "analysis",
    "layers",
    "scripts",
    "requirements",
)


def package_version(repo: Path = REPO) -> str:
    """The package version: from pyproject.toml in a checkout, else from the installed metadata."""
    pyproject = repo / "pyproject.toml"
    if pyproject.is_file():
        with pyproject.open("rb") as fh:
            return str(tomllib.load(fh)["project"]["version"])
    from importlib.metadata import version

    return version("locatietoets")


def _metadata_version(path: Path) -> str | None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path, encoding="utf-8")
    return parser.get("general", "version", fallback=None)


def _included(path: Path) -> bool:
    return not (
        any(part in _EXCLUDED_DIRS or part.startswith(".") for part in path.parts)
        or path.suffix in _EXCLUDED_SUFFIXES
        or path.name.startswith("test_")
    )


def _copy_sources(repo: Path, target: Path) -> None:
    for name in _ENGINE_SOURCES:
        source = repo / name
        if source.is_dir():
            shutil.copytree(
                source,
                target / name,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*", "*.egg-info"),
            )
        elif source.is_file():
            shutil.copy2(source, target / name)
    if not (target / "README.md").exists():  # pyproject names it; the wheel needs one
        (target / "README.md").write_text("# Locatietoets\n", encoding="utf-8")


def build_engine_wheel(repo: Path, out_dir: Path, *, python: str = sys.executable) -> Path:
    """Build the engine wheel (``pip wheel . --no-deps``) from a clean copy of the sources.

    Building from a copy keeps ``build/`` and ``*.egg-info`` out of the checkout.
    Tries without build isolation first (offline, fast), then with it.
    """
    with tempfile.TemporaryDirectory(prefix="locatietoets-wheel-") as tmp:
        source = Path(tmp) / "src"
        source.mkdir()
        _copy_sources(repo, source)
        wheels = Path(tmp) / "wheels"
        errors = []
        for extra in (["--no-build-isolation"], []):
            command = [
                python,
                "-m",
                "pip",
                "wheel",
                str(source),
                "--no-deps",
                "--disable-pip-version-check",
                "-q",
                "-w",
                str(wheels),
                *extra,
            ]
            done = subprocess.run(command, capture_output=True, text=True)
            found = sorted(wheels.glob("locatietoets-*.whl"))
            if done.returncode == 0 and found:
                out_dir.mkdir(parents=True, exist_ok=True)
                target = out_dir / found[-1].name
                shutil.copy2(found[-1], target)
                return target
            errors.append((done.stderr or done.stdout).strip()[-2000:])
        raise click.ClickException(
            "Het wheel van de rekenkern kon niet gebouwd worden (pip wheel . --no-deps):\n"
            + "\n---\n".join(errors)
        )


def build_plugin_zip(out_dir: Path, *, repo: Path = REPO, include_engine: bool = True) -> Path:
    """Build ``locatietoets-<version>.zip`` in ``out_dir`` and return its path."""
    version = package_version(repo)
    metadata = repo / "metadata.txt"
    if not metadata.is_file():
        raise click.ClickException(
            f"'{metadata}' ontbreekt: de plugin heeft een metadata.txt nodig."
        )
    meta_version = _metadata_version(metadata)
    if meta_version != version:
        raise click.ClickException(
            f"Versie in metadata.txt ({meta_version}) is niet gelijk aan de pakketversie"
            f" ({version}) in pyproject.toml. Zet beide op dezelfde versie."
        )
    plugin_src = repo / "qgis_plugin"
    entries: list[tuple[str, Path]] = []
    for path in sorted(plugin_src.rglob("*")):
        relative = path.relative_to(plugin_src)
        if path.is_file() and _included(relative):
            entries.append((f"{PLUGIN_FOLDER}/{relative.as_posix()}", path))
    entries.append((f"{PLUGIN_FOLDER}/metadata.txt", metadata))
    licence = repo / "LICENSE"
    if licence.is_file():
        entries.append((f"{PLUGIN_FOLDER}/LICENSE", licence))

    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"locatietoets-{version}.zip"
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))
    import time

    stamp = time.gmtime(max(epoch, 315532800))[:6]
    with tempfile.TemporaryDirectory(prefix="locatietoets-zip-") as tmp:
        if include_engine:
            wheel = build_engine_wheel(repo, Path(tmp) / "engine")
            entries.append((f"{PLUGIN_FOLDER}/engine/{wheel.name}", wheel))
            requirements = repo / "requirements" / "engine.txt"
            if requirements.is_file():
                entries.append((f"{PLUGIN_FOLDER}/engine/requirements.txt", requirements))
        partial = target.with_suffix(".zip.part")
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for folder in sorted({name.rsplit("/", 1)[0] + "/" for name, _ in entries}):
                parts = folder.rstrip("/").split("/")
                for depth in range(1, len(parts) + 1):
                    directory = "/".join(parts[:depth]) + "/"
                    if directory not in archive.namelist():
                        info = zipfile.ZipInfo(directory, date_time=stamp)
                        info.external_attr = (0o40755 << 16) | 0x10
                        archive.writestr(info, b"")
            for name, path in sorted(entries):
                info = zipfile.ZipInfo(name, date_time=stamp)
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
        os.replace(partial, target)
    return target


@click.command("plugin-zip", context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("dist"),
    show_default=True,
    help="Map waarin locatietoets-<versie>.zip komt.",
)
@click.option(
    "--zonder-rekenkern",
    is_flag=True,
    help=(
        "Laat het wheel van de rekenkern weg (kleinere zip; de knop 'Rekenkern installeren'"
        " ontbreekt dan)."
    ),
)
def plugin_zip(out_dir: Path, zonder_rekenkern: bool) -> None:
    """Bouw de QGIS-plugin als zip voor 'Installeren vanaf ZIP'.

    De zip bevat de map locatietoets/ met de plugincode, metadata.txt (versie
    gelijk aan die van het pakket), het icoon, de licentie, de helppagina's en
    de rekenkern als wheel (map engine/), zodat de plugin die zelf kan
    installeren.
    """
    target = build_plugin_zip(out_dir, include_engine=not zonder_rekenkern)
    with zipfile.ZipFile(target) as archive:
        count = len([n for n in archive.namelist() if not n.endswith("/")])
    click.echo(
        f"Plugin-zip geschreven: {target} ({count} bestanden,"
        f" {nl_number(target.stat().st_size / 1024)} kB)"
    )
    click.echo(
        "Installeer in QGIS via Plugins → Plugins beheren en installeren → Installeren vanaf ZIP."
    )


if __name__ == "__main__":  # pragma: no cover
    plugin_zip()
