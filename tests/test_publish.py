"""What a planner reads in the published report and maps (layers/publish/), checked on a small run.

Texts are read back from the PDF with pdftotext, as a planner would copy them.
"""

from __future__ import annotations

from pathlib import Path
import re
import shutil
import subprocess

from click.testing import CliRunner
from fixtures import build_world, standard_config, write_config
import numpy as np
import pytest

from locatietoets.layers.publish.report import write_report
from locatietoets.layers.publish.report_content import parameter_value, record_rows
from locatietoets.layers.publish.report_pdf import table_breaks, wrap_cell
from locatietoets.layers.publish.runfolder import nl_date, nl_datetime, read_run
from locatietoets.layers.publish.style import VERDICT_COLOURS
from locatietoets.scripts.cli import main


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    build_world(folder / "invoer")
    cfg = write_config(folder / "invoer", standard_config(), "config.toml")
    result = CliRunner().invoke(
        main, ["score", str(cfg), "--out", str(folder / "uit"), "--voortgang", "geen"]
    )
    assert result.exit_code == 0, result.output
    return folder / "uit"


@pytest.fixture(scope="module")
def report_text(run_dir: Path, tmp_path_factory) -> tuple[str, str]:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is niet geïnstalleerd")
    out = tmp_path_factory.mktemp("rapport")
    html_path, pdf_path = write_report(read_run(run_dir), out, per="provincie", dpi=50)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf_path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text, html_path.read_text(encoding="utf-8")


def test_dutch_local_timestamps() -> None:
    # 10:05 UTC is 11:05 in Amsterdam in winter, 12:05 in summer; the date follows local time
    assert nl_datetime("2026-12-03T10:05:18+00:00") == "3 december 2026 11:05"
    assert nl_datetime("2026-07-01T10:05:00Z") == "1 juli 2026 12:05"
    assert nl_date("2026-03-31T23:30:00+00:00") == "1 april 2026"
    assert nl_datetime("") == "onbekend"


def test_parameter_values_are_never_python_reprs() -> None:
    assert parameter_value({"logistiek": 0.35, "bouw": 0.15}) == "logistiek 0,35; bouw 0,15"
    assert parameter_value(True) == "ja"
    assert parameter_value(250.0) == "250"
    assert parameter_value([1.5, 2]) == "1,5, 2"


def test_table_cells_keep_words_whole() -> None:
    # a column that fits the word never splits it; a 64-character checksum is still broken
    assert wrap_cell("geschikt of voorwaardelijk", 15) == ["geschikt of", "voorwaardelijk"]
    assert all(len(line) <= 20 for line in wrap_cell("a" * 64, 20))


def test_report_tables_leave_no_small_part_on_a_page() -> None:
    # rows of height 1, pages of 10; keep 5 rows together (first part, last part)
    ones = [1.0] * 14
    assert table_breaks(ones, 20, 10) == (False, [])  # fits
    # 12 fit on this page, a tail of 2 would follow: the tail takes 3 rows, 9 stay
    assert table_breaks(ones, 12.5, 10) == (False, [9])
    # only 2 rows fit at the foot of this page: the table starts on the next (under its title)
    assert table_breaks([1.0] * 20, 2.5, 11, title_room=1) == (True, [10])
    assert table_breaks([1.0] * 3, 2.5, 10) == (True, [])
    # 22 rows over three pages: 10, 7 and a last part of 5 (not 10, 10, 2)
    assert table_breaks([1.0] * 22, 10, 10) == (False, [10, 17])
    assert table_breaks([1.0] * 25, 10, 10) == (False, [10, 20])
    # 7 rows, 5 fit: 5 + 2 cannot keep 5 on both pages, and the table fits a page: move it
    assert table_breaks([1.0] * 7, 5.5, 10) == (True, [])
    # 14 rows on small pages of 6: 5 + 6 + 3 -> 5 + 5 + 4 (the middle part keeps 5)
    assert table_breaks(ones, 5.5, 6) == (False, [5, 10])


def test_timings_end_with_the_total(run_dir: Path) -> None:
    rows = record_rows(read_run(run_dir))["tijden"]
    assert rows[-1][0] == "Totaal"
    assert [r[0] for r in rows].count("Totaal") == 1


def test_report_pdf_reads_as_dutch_text(report_text: tuple[str, str]) -> None:
    text, html = report_text
    for page in (text, html):
        assert not re.search(r"\{'[a-z_]+': ", page), "Python dict in het rapport"
        assert "True" not in page and "False" not in page
        assert "voorwaardeli\n" not in page
        assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", page), "ISO-tijd in het rapport"
    assert "Oordelen per gemeente en verblijfstype" in text
    assert "Meest voorkomende redenen (ongeschikt en voorwaardelijk)" in text
    # the parameters table has a unit and a description
    line = next(x for x in text.splitlines() if x.strip().startswith("bbg_rand_m"))
    assert re.search(r"bbg_rand_m\s+\d+\s+m\s+Afstand buiten", line), line
    assert html.count("data:image/png;base64,") >= 3  # map + two charts


# --- maps ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(
        main, ["demo", "--out", str(folder), "--locaties", "300", "--voortgang", "geen"]
    )
    assert result.exit_code == 0, result.output
    return folder / "uitvoer"


def _texts(fig) -> list[str]:
    texts = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        texts += [t.get_text() for t in ax.texts]
        legend = ax.get_legend()
        if legend is not None:
            texts += [t.get_text() for t in legend.get_texts()]
        texts += [ax.get_xlabel(), ax.get_ylabel(), ax.get_title()]
    return [t for t in texts if t]


def test_every_map_has_its_legend_items_roads_and_place_names(demo_run: Path) -> None:
    from locatietoets.layers.publish.maps import iter_maps, plan_maps

    run = read_run(demo_run)
    specs = plan_maps(run, per="gemeente", stay_type="short_stay")
    assert len(specs) == 3
    for spec, fig in iter_maps(run, specs, stay_type="short_stay"):
        texts = _texts(fig)
        joined = "\n".join(texts)
        for item in (
            "Geschikt (",
            "Voorwaardelijk (",
            "Ongeschikt (",
            "Bestaand bebouwd gebied (BBG)",
            "Bebouwde kom (geurregels)",
            "Recreatiepark",
            "Gemeentegrens",
            "Veehouderij",
            "Werkgever",
            "Regionale weg",  # the demo network's secondary and tertiary roads
            "Geurcontour (OUe/m³)",
            "FICTIEF DEMOGEBIED",
            "N",
            "Schaal 1:",
        ):
            assert item in joined, (spec.stem, item)
        assert "Maasheuvel" in texts or spec.name == "Demogemeente Peelrand"  # a kern's name
        assert not any(w in joined for w in ("metre", "Easting", "Northing", "None", "nan"))
        # ongeschikt is drawn after geschikt and voorwaardelijk, on top of them
        colour = {
            v: tuple(round(c / 255, 3) for c in VERDICT_COLOURS[v][1])
            for v in ("geschikt", "voorwaardelijk", "ongeschikt")
        }
        order = [
            tuple(round(float(v), 3) for v in c.get_facecolor()[0][:3])
            for c in fig.axes[0].collections
            if len(c.get_offsets()) and len(c.get_facecolor()) and c.get_alpha() in (None, 1.0)
        ]
        last = {v: max(i for i, f in enumerate(order) if f == rgb) for v, rgb in colour.items()}
        assert last["ongeschikt"] > last["voorwaardelijk"] > last["geschikt"], spec.stem


def test_capacity_classes_are_round_and_equal() -> None:
    from locatietoets.layers.publish.choropleth import shortage_classes

    assert shortage_classes(np.array([962.0, np.nan, 0.0, -40.0])) == [250, 500, 750, 1000]
    assert shortage_classes(np.array([120.0, 3000.0])) == [1000, 2000, 3000]
    assert shortage_classes(np.array([0.0, np.nan])) == []


def test_comparison_page_reads_dutch_and_maps_the_changed_sites(demo_run: Path) -> None:
    folder = demo_run.parent
    text = (folder / "config.toml").read_text(encoding="utf-8")
    assert "bbg_rand_m = 250" in text
    (folder / "config_b.toml").write_text(
        text.replace("bbg_rand_m = 250", "bbg_rand_m = 100"), encoding="utf-8"
    )
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["score", str(folder / "config_b.toml"), "--out", str(folder / "b"), "--voortgang", "geen"],
    )
    assert result.exit_code == 0, result.output
    out = folder / "vergelijking"
    result = runner.invoke(
        main,
        ["vergelijk", str(demo_run), str(folder / "b"), "--out", str(out), "--voortgang", "geen"],
    )
    assert result.exit_code == 0, result.output
    page = (out / "vergelijking.html").read_text(encoding="utf-8")
    visible = re.sub(r"<[^>]+>", " ", re.sub(r"<(style|img)[^>]*>.*?(</style>|)", " ", page))
    assert re.search(r"\d+ van 300 locaties krijgen in B een ander oordeel", visible)
    assert "short_stay" not in visible and "mid_stay" not in visible
    assert "mid-stay" in visible
    assert "Kaart van de gewijzigde locaties" in page
    assert page.count("data:image/png;base64,") == 1
    assert 'alt="Kaart van de gewijzigde locaties"' in page  # the map, not "geen locaties"


def test_change_direction_by_hand() -> None:
    import pandas as pd

    from locatietoets.layers.publish.comparison import change_direction

    changed = pd.DataFrame(
        {
            "oordeel_short_stay_a": ["geschikt", "ongeschikt", "geschikt", None],
            "oordeel_short_stay_b": ["ongeschikt", "voorwaardelijk", "voorwaardelijk", "geschikt"],
            "oordeel_mid_stay_a": ["geschikt", "ongeschikt", "ongeschikt", "ongeschikt"],
            "oordeel_mid_stay_b": ["geschikt", "ongeschikt", "geschikt", "voorwaardelijk"],
        }
    )
    assert change_direction(changed).tolist() == ["strenger", "soepeler", "gemengd", "soepeler"]


def _tile_png() -> bytes:
    import io

    from matplotlib.image import imsave

    tile = np.full((256, 256, 3), 0.85)
    tile[::16, :, :] = 0.5  # grey lines, as the BRT grijs draws roads
    buffer = io.BytesIO()
    imsave(buffer, tile, format="png")
    return buffer.getvalue()


def test_brt_basemap_from_replayed_tiles_cached_and_never_required(
    demo_run: Path, tmp_path: Path
) -> None:
    from locatietoets.layers.publish.basemap import BRT_ATTRIBUTION, Basemap, tile_range
    from locatietoets.layers.publish.maps import iter_maps, plan_maps

    run = read_run(demo_run)
    specs = plan_maps(run, per="provincie", stay_type="short_stay")
    urls: list[str] = []

    def replay(url: str) -> bytes:
        urls.append(url)
        return _tile_png()

    online = Basemap(cache_dir=tmp_path / "brt", fetch=replay)
    for _spec, fig in iter_maps(run, specs, stay_type="short_stay", basemap=online):
        assert len(fig.axes[0].images) == 1
        assert any(BRT_ATTRIBUTION in t for t in _texts(fig))
    assert urls and all(
        u.startswith("https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/grijs/EPSG:28992/")
        for u in urls
    )
    n_tiles = len(list((tmp_path / "brt").rglob("*.png")))
    assert n_tiles == len(urls)

    def offline(url: str) -> bytes:
        raise OSError("geen netwerk")

    cached = Basemap(cache_dir=tmp_path / "brt", fetch=offline)  # same area: from the cache
    for _spec, fig in iter_maps(run, specs, stay_type="short_stay", basemap=cached):
        assert len(fig.axes[0].images) == 1
    broken = Basemap(cache_dir=tmp_path / "leeg", fetch=offline)
    for _spec, fig in iter_maps(run, specs, stay_type="short_stay", basemap=broken):
        assert not fig.axes[0].images
        assert any("Achtergrondkaart (BRT) niet beschikbaar" in t for t in _texts(fig))
    # a 20 km wide map at 1,500 pixels wants 13,3 m per pixel: level 8 has 3440,64 / 2^8 = 13,44
    z, col0, col1, row0, row1 = tile_range((190000, 210000, 370000, 385000), 1500)
    assert z == 8
    size = 256 * 3440.64 / 2**8
    assert col0 == (190000 + 285401.92) // size and col1 == (210000 + 285401.92) // size
    assert row0 == (903401.92 - 385000) // size and row1 == (903401.92 - 370000) // size


def test_maps_draw_kernen_existing_housing_and_facilities_with_legend_items(tmp_path) -> None:
    import geopandas as gpd
    from shapely.geometry import MultiPolygon, Point, Polygon

    from locatietoets.layers.io.config import load_config
    from locatietoets.layers.publish.maps import iter_maps, plan_maps
    from locatietoets.scripts.runner.score import run_config

    world = tmp_path / "wereld"
    build_world(world)
    rd = "EPSG:28992"
    # one kern as a multipolygon with a hole, around the sites on y = 380,500
    ring = [(199_000, 380_000), (210_000, 380_000), (210_000, 381_000), (199_000, 381_000)]
    hole = [(205_000, 380_400), (205_500, 380_400), (205_500, 380_600), (205_000, 380_600)]
    gpd.GeoDataFrame(
        {"naam": ["Testkern"], "inw": [12_000]},
        geometry=[MultiPolygon([Polygon(ring, [hole])])],
        crs=rd,
    ).to_file(world / "kernen.gpkg")
    gpd.GeoDataFrame(
        {"naam": ["Pension"], "pers": [40]}, geometry=[Point(201_000, 380_600)], crs=rd
    ).to_file(world / "huisvesting.gpkg")
    gpd.GeoDataFrame(
        {"naam": ["Jumbo", None]},
        geometry=[Point(200_300, 380_500), None],
        crs=rd,
    ).to_file(world / "winkels.gpkg")
    extra = """
[lagen.kernen]
pad = "kernen.gpkg"
inwoners_veld = "inw"

[lagen.bestaande_huisvesting]
pad = "huisvesting.gpkg"
personen_veld = "pers"

[lagen.voorzieningen.supermarkt]
pad = "winkels.gpkg"
"""
    out = tmp_path / "uit"
    run_config(load_config(write_config(world, standard_config(extra=extra))), out)
    run = read_run(out)
    assert {"kernen", "bestaande_huisvesting", "voorzieningen.supermarkt"} <= set(run.reference)
    specs = plan_maps(run, per="gemeente", stay_type="short_stay")
    seen = 0
    for spec, fig in iter_maps(run, specs, stay_type="short_stay"):
        texts = _texts(fig)
        for item in ("Kern (concentratie)", "Bestaande huisvesting", "Voorziening: supermarkt"):
            assert item in texts, (spec.stem, item)
        seen += 1
    assert seen == len(specs) >= 1
