"""``locatietoets plugin-zip``: what "Install from ZIP" gets."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import tomllib
import zipfile

import pytest

click_testing = pytest.importorskip("click.testing")

from locatietoets.scripts.plugin_zip import REPO, build_plugin_zip, package_version, plugin_zip  # noqa: E402

REQUIRED_METADATA = (
    "name",
    "qgisMinimumVersion",
    "description",
    "about",
    "version",
    "author",
    "repository",
    "tracker",
    "homepage",
    "tags",
    "icon",
    "category",
    "hasProcessingProvider",
    "license",
)


@pytest.fixture(scope="module")
def built_zip(tmp_path_factory):
    return build_plugin_zip(tmp_path_factory.mktemp("dist"))


def _metadata(archive: zipfile.ZipFile) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(archive.read("locatietoets/metadata.txt").decode("utf-8"))
    return parser


def test_zip_is_named_after_the_package_version(built_zip):
    with (REPO / "pyproject.toml").open("rb") as fh:
        version = tomllib.load(fh)["project"]["version"]
    assert package_version() == version
    assert built_zip.name == f"locatietoets-{version}.zip"


def test_zip_has_one_plugin_folder_with_code_metadata_icon_licence_help_and_engine(built_zip):
    with zipfile.ZipFile(built_zip) as archive:
        names = archive.namelist()
        assert archive.testzip() is None
    assert all(name.startswith("locatietoets/") for name in names)
    for required in (
        "__init__.py",
        "metadata.txt",
        "icon.png",
        "icon.svg",
        "LICENSE",
        "plugin.py",
        "provider.py",
        "engine.py",
        "install.py",
        "styling.py",
        "help/index.html",
        "help/toetslocaties.html",
        "algorithms/toets_locaties.py",
        "algorithms/ligging_bbg.py",
        "algorithms/geurtoets.py",
        "algorithms/reisafstand.py",
        "engine/requirements.txt",
    ):
        assert f"locatietoets/{required}" in names, required
    wheels = [n for n in names if n.startswith("locatietoets/engine/") and n.endswith(".whl")]
    assert wheels == [f"locatietoets/engine/locatietoets-{package_version()}-py3-none-any.whl"]


def test_zip_has_no_tests_caches_or_byte_code(built_zip):
    with zipfile.ZipFile(built_zip) as archive:
        names = archive.namelist()
    for name in names:
        parts = name.split("/")
        assert "__pycache__" not in parts and "tests" not in parts, name
        assert not name.endswith((".pyc", ".pyo")), name
        assert not any(p.startswith(".") for p in parts), name
        assert not parts[-1].startswith("test_"), name


def test_metadata_has_every_required_key_and_the_package_version(built_zip):
    with zipfile.ZipFile(built_zip) as archive:
        meta = _metadata(archive)
        names = archive.namelist()
    general = meta["general"]
    for key in REQUIRED_METADATA:
        assert general.get(key, "").strip(), key
    assert general["version"] == package_version()
    assert general["qgisMinimumVersion"] == "3.22"
    assert general["hasProcessingProvider"] == "yes"
    assert general["category"] == "Analysis"
    assert general["license"] == "GPL-2.0-or-later"
    assert f"locatietoets/{general['icon']}" in names
    assert "arbeidsmigranten" in general["description"]  # Dutch for the user
    for key in ("homepage", "tracker", "repository"):
        assert general[key].startswith("https://")


def test_metadata_version_matches_the_installed_package_when_installed():
    from importlib import metadata

    try:
        installed = metadata.version("locatietoets")
    except metadata.PackageNotFoundError:
        pytest.skip("pakket locatietoets niet geïnstalleerd")
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO / "metadata.txt", encoding="utf-8")
    assert parser["general"]["version"] == installed.split("+")[0]


def test_licence_is_the_gpl2_text(built_zip):
    with zipfile.ZipFile(built_zip) as archive:
        licence = archive.read("locatietoets/LICENSE").decode("utf-8")
    assert "GNU GENERAL PUBLIC LICENSE" in licence and "Version 2, June 1991" in licence


def test_bundled_engine_wheel_has_the_cli_entry_point(built_zip, tmp_path):
    with zipfile.ZipFile(built_zip) as archive:
        wheel_name = next(n for n in archive.namelist() if n.endswith(".whl"))
        (tmp_path / "engine.whl").write_bytes(archive.read(wheel_name))
    with zipfile.ZipFile(tmp_path / "engine.whl") as wheel:
        names = wheel.namelist()
        entry_points = next(wheel.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    assert (
        "locatietoets/scripts/cli.py" in names
        and "locatietoets/analysis/rulesets/limburg-povi2021.toml" in names
    )
    assert not [
        n for n in names if n.split("/")[0] in ("analysis", "layers", "scripts", "qgis_plugin")
    ]
    console = [line.replace(" ", "") for line in entry_points.splitlines()]
    assert "locatietoets=locatietoets.scripts.cli:main" in console


def test_unzipped_plugin_imports_as_package_locatietoets(built_zip, tmp_path):
    """The code uses relative imports only, and engine.py wins over the engine/ folder of the
    wheel."""
    with zipfile.ZipFile(built_zip) as archive:
        archive.extractall(tmp_path)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "import locatietoets.engine as e, locatietoets.install as i\n"
        "assert hasattr(e, 'run_engine'), e\n"
        "wheel, req = i.bundled_engine()\n"
        "print(wheel.name, req.name)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        f"locatietoets-{package_version()}-py3-none-any.whl",
        "requirements.txt",
    ]


def test_same_sources_give_the_same_zip(tmp_path):
    first = build_plugin_zip(tmp_path / "a", include_engine=False).read_bytes()
    second = build_plugin_zip(tmp_path / "b", include_engine=False).read_bytes()
    assert first == second


def test_version_mismatch_between_metadata_and_package_is_refused(tmp_path):
    import click

    repo = tmp_path / "repo"
    shutil.copytree(
        REPO / "qgis_plugin", repo / "qgis_plugin", ignore=shutil.ignore_patterns("__pycache__")
    )
    (repo / "pyproject.toml").write_text('[project]\nname = "locatietoets"\nversion = "9.9.9"\n')
    shutil.copy2(REPO / "metadata.txt", repo / "metadata.txt")
    with pytest.raises(click.ClickException, match=r"metadata.txt \(0\.1\.0\).*\(9\.9\.9\)"):
        build_plugin_zip(tmp_path / "out", repo=repo, include_engine=False)


def test_cli_command_writes_the_zip(tmp_path):
    result = click_testing.CliRunner().invoke(
        plugin_zip, ["--out", str(tmp_path), "--zonder-rekenkern"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / f"locatietoets-{package_version()}.zip").is_file()
    assert "Plugin-zip geschreven" in result.output and "Installeren vanaf ZIP" in result.output


@pytest.mark.slow
def test_bundled_engine_installs_into_its_own_venv_and_is_found(built_zip, tmp_path):
    """What the message bar's "Rekenkern installeren" button does (~40 s, ~700 MB; packages from
    PyPI)."""
    with zipfile.ZipFile(built_zip) as archive:
        archive.extractall(tmp_path / "plugins")
    env_dir = tmp_path / "engine-venv"
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1])\n"
        "from locatietoets.install import install_engine\n"
        "from locatietoets.engine import find_engine\n"
        "exe = install_engine(env_dir=Path(sys.argv[2]))\n"
        "found = find_engine(sys.argv[2])\n"  # the setting may name the venv folder
        "print(exe, found.path, found.version_text)\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / "plugins"), str(env_dir)],
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        exe, found, version = done.stdout.split()
        assert exe == found == str(env_dir / "bin" / "locatietoets")
        assert version == package_version()
    finally:
        shutil.rmtree(env_dir, ignore_errors=True)
