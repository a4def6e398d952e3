"""Small input layers and configs built in code for the end-to-end tests.

All coordinates are EPSG:28992 (RD New, metres), placed near Venlo so they
pass the "ligt in Nederland" check. Every expected number in the tests can be
computed by hand from the constants here.

The standard world (``build_world``)::

    y
    381000 +--------------------+                         +----+ park 'De Heide'
           |   BBG (1 x 1 km)    |                         |    | 203000-203400,
           |  kom = west half    |                         +----+ 380000-380400
    380000 +--------------------+
          200000               201000        202000 (gemeentegrens Venlo | Venray)

    gemeente 'Venlo' (GM0983): x 190000-202000; 'Venray' (GM0984): x 202000-212000
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
import subprocess
import sys
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point, Polygon, box

from locatietoets.layers.io.config_writer import render_config

RD = "EPSG:28992"
REPO = Path(__file__).resolve().parents[1]

BBG_BOX = (200_000.0, 380_000.0, 201_000.0, 381_000.0)
KOM_BOX = (200_000.0, 380_000.0, 200_500.0, 381_000.0)
PARK_BOX = (203_000.0, 380_000.0, 203_400.0, 380_400.0)
PARK_NAME = "De Heide"
VENLO_BOX = (190_000.0, 370_000.0, 202_000.0, 390_000.0)
VENRAY_BOX = (202_000.0, 370_000.0, 212_000.0, 390_000.0)

#: The standard candidate sites: id, type, x, y, persons, bedrooms, area.
SITES: list[dict[str, Any]] = [
    # inside BBG and inside the kom
    {
        "id": "A1",
        "type": "short_stay",
        "x": 200_250.0,
        "y": 380_500.0,
        "personen": 4,
        "slaapkamers": 4,
        "opp": 80.0,
    },
    # inside BBG, outside the kom; 3 persons in 2 bedrooms and 40 m² break both housing norms
    {
        "id": "A2",
        "type": "long_stay",
        "x": 200_750.0,
        "y": 380_500.0,
        "personen": 3,
        "slaapkamers": 2,
        "opp": 40.0,
    },
    # 100 m east of BBG → rand
    {
        "id": "B1",
        "type": "long_stay",
        "x": 201_100.0,
        "y": 380_500.0,
        "personen": None,
        "slaapkamers": None,
        "opp": None,
    },
    # 600 m east of BBG → buiten
    {
        "id": "B2",
        "type": "mid_stay",
        "x": 201_600.0,
        "y": 380_500.0,
        "personen": 2,
        "slaapkamers": 2,
        "opp": 60.0,
    },
    # 300 m south and 400 m east of the BBG corner → 500 m, buiten (Venlo)
    {
        "id": "B3",
        "type": "short_stay",
        "x": 201_400.0,
        "y": 379_700.0,
        "personen": None,
        "slaapkamers": None,
        "opp": None,
    },
    # on park De Heide, 2200 m east of BBG, in Venray
    {
        "id": "P1",
        "type": "short_stay",
        "x": 203_200.0,
        "y": 380_200.0,
        "personen": None,
        "slaapkamers": None,
        "opp": None,
    },
    # 2200 m west of BBG, in Venlo (twin of P1 for per-gemeente overrides)
    {
        "id": "W1",
        "type": "short_stay",
        "x": 197_800.0,
        "y": 380_500.0,
        "personen": None,
        "slaapkamers": None,
        "opp": None,
    },
    # 2200 m east of BBG in Venray, not on the park
    {
        "id": "E1",
        "type": "long_stay",
        "x": 203_200.0,
        "y": 380_700.0,
        "personen": None,
        "slaapkamers": None,
        "opp": None,
    },
]

#: Hand-computed expectations per site id with the built-in rule set (bbg_rand_m = 250).
EXPECTED = {
    "A1": {
        "ligging": "binnen",
        "afstand": 0.0,
        "gemeente": "Venlo",
        "code": "GM0983",
        "park": None,
        "kom": True,
        "oordeel": ("geschikt", "geschikt", "geschikt"),
    },
    "A2": {
        "ligging": "binnen",
        "afstand": 0.0,
        "gemeente": "Venlo",
        "code": "GM0983",
        "park": None,
        "kom": False,
        "oordeel": ("voorwaardelijk", "voorwaardelijk", "voorwaardelijk"),
    },
    "B1": {
        "ligging": "rand",
        "afstand": 100.0,
        "gemeente": "Venlo",
        "code": "GM0983",
        "park": None,
        "kom": False,
        "oordeel": ("voorwaardelijk", "voorwaardelijk", "voorwaardelijk"),
    },
    "B2": {
        "ligging": "buiten",
        "afstand": 600.0,
        "gemeente": "Venlo",
        "code": "GM0983",
        "park": None,
        "kom": False,
        "oordeel": ("voorwaardelijk", "ongeschikt", "ongeschikt"),
    },
    "B3": {
        "ligging": "buiten",
        "afstand": 500.0,
        "gemeente": "Venlo",
        "code": "GM0983",
        "park": None,
        "kom": False,
        "oordeel": ("voorwaardelijk", "ongeschikt", "ongeschikt"),
    },
    "P1": {
        "ligging": "buiten",
        "afstand": 2200.0,
        "gemeente": "Venray",
        "code": "GM0984",
        "park": PARK_NAME,
        "kom": False,
        "oordeel": ("voorwaardelijk", "ongeschikt", "ongeschikt"),
    },
    "W1": {
        "ligging": "buiten",
        "afstand": 2200.0,
        "gemeente": "Venlo",
        "code": "GM0983",
        "park": None,
        "kom": False,
        "oordeel": ("voorwaardelijk", "ongeschikt", "ongeschikt"),
    },
    "E1": {
        "ligging": "buiten",
        "afstand": 2200.0,
        "gemeente": "Venray",
        "code": "GM0984",
        "park": None,
        "kom": False,
        "oordeel": ("voorwaardelijk", "ongeschikt", "ongeschikt"),
    },
}


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_gdf(frame: gpd.GeoDataFrame, path: Path, layer: str | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    kwargs = {"layer": layer} if layer else {}
    frame.to_file(path, **kwargs)
    return path


def polygons(items: list[tuple[dict[str, Any], Polygon]], crs: str | None = RD) -> gpd.GeoDataFrame:
    attrs = [a for a, _ in items]
    return gpd.GeoDataFrame(pd.DataFrame(attrs), geometry=[g for _, g in items], crs=crs)


def sites_frame(sites: list[dict[str, Any]] = SITES) -> gpd.GeoDataFrame:
    data = pd.DataFrame(
        {
            "id": [s["id"] for s in sites],
            "type": [s["type"] for s in sites],
            "personen": pd.array([s["personen"] for s in sites], dtype="Int64"),
            "slaapkamers": pd.array([s["slaapkamers"] for s in sites], dtype="Int64"),
            "opp": [s["opp"] if s["opp"] is not None else float("nan") for s in sites],
            "opmerking": [f"invoer {s['id']}" for s in sites],
        }
    )
    return gpd.GeoDataFrame(data, geometry=[Point(s["x"], s["y"]) for s in sites], crs=RD)


def build_world(
    folder: Path, *, sites: gpd.GeoDataFrame | None = None, kom: bool = True
) -> dict[str, Path]:
    """Write the standard reference layers and sites into ``folder``; return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "bbg": write_gdf(polygons([({"naam": "BBG"}, box(*BBG_BOX))]), folder / "bbg.gpkg"),
        "parken": write_gdf(
            polygons([({"naam": PARK_NAME}, box(*PARK_BOX))]), folder / "parken.geojson"
        ),
        "gemeenten": write_gdf(
            polygons(
                [
                    ({"naam": "Venlo", "code": "GM0983"}, box(*VENLO_BOX)),
                    ({"naam": "Venray", "code": "GM0984"}, box(*VENRAY_BOX)),
                ]
            ),
            folder / "gemeenten.gpkg",
        ),
        "locaties": write_gdf(
            sites if sites is not None else sites_frame(), folder / "locaties.gpkg"
        ),
    }
    if kom:
        paths["kom"] = write_gdf(polygons([({"naam": "kom"}, box(*KOM_BOX))]), folder / "kom.gpkg")
    return paths


def standard_layers(*, kom: bool = True, locaties: str = "locaties.gpkg") -> dict[str, dict]:
    """The ``[lagen]`` of ``build_world`` (relative paths), for ``config_writer.write_config``."""
    lagen: dict[str, dict] = {
        "locaties": {
            "pad": locaties,
            "id_veld": "id",
            "verblijfstype_veld": "type",
            "personen_veld": "personen",
            "slaapkamers_veld": "slaapkamers",
            "woonoppervlak_veld": "opp",
        },
        "bebouwd_gebied": {"pad": "bbg.gpkg"},
        "recreatieparken": {"pad": "parken.geojson", "naam_veld": "naam"},
        "gemeenten": {"pad": "gemeenten.gpkg", "naam_veld": "naam", "code_veld": "code"},
    }
    if kom:
        lagen["bebouwde_kom"] = {"pad": "kom.gpkg"}
    return lagen


def standard_config(
    *,
    kom: bool = True,
    extra: str = "",
    locaties: str = "locaties.gpkg",
    regels: dict[str, Any] | None = None,
    uitvoer: dict[str, Any] | None = None,
    layers: dict[str, dict[str, Any]] | None = None,
) -> str:
    """Config text for ``build_world`` (relative paths), written by the config writer.

    ``layers`` adds (or replaces) layer tables; ``extra`` is appended as is (for the configs of
    tests of what a user may type and the writer would refuse).
    """
    lagen = {**standard_layers(kom=kom, locaties=locaties), **(layers or {})}
    return render_config(lagen, regels=regels, uitvoer=uitvoer) + extra


def write_config(folder: Path, text: str, name: str = "config.toml") -> Path:
    """Write config ``text`` as is (also deliberately faulty configs); see ``config_writer``."""
    path = Path(folder) / name
    path.write_text(text, encoding="utf-8")
    return path


def read_output(out: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(Path(out) / "locaties.gpkg", layer="locaties")


def console_command() -> list[str]:
    """The ``locatietoets`` console script next to the running Python, else ``python -m
    locatietoets.scripts.cli``.

    A console script of an older install (entry point ``scripts.cli:main``) is not used.
    """
    script = Path(sys.executable).parent / (
        "locatietoets.exe" if os.name == "nt" else "locatietoets"
    )
    if script.exists() and (
        os.name == "nt" or "locatietoets.scripts.cli" in script.read_text(errors="replace")
    ):
        return [str(script)]
    return [sys.executable, "-m", "locatietoets.scripts.cli"]


def run_subprocess(
    args: list[str], *, cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess:
    env = dict(os.environ)  # PYTHONPATH makes `locatietoets` this checkout (tests/conftest.py)
    env.setdefault("COLUMNS", "160")
    return subprocess.run(
        console_command() + args,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def flat(text: str) -> str:
    """``text`` with every run of whitespace as one space (rich and click wrap long messages)."""
    return " ".join(text.split())
