"""Maps and report (layers/publish/: maps, report and their parts; scripts/reporting.py).

The end-to-end tests score sites placed in the 31 real Limburg gemeenten
(../shared/data/admin, CBS 2022) with a made-up BBG, odour contours and
recreation parks, then draw the maps and the report at a low resolution.
Expected numbers are counted directly from ``locaties.gpkg`` and the region
lookup CSV in ../shared, not with ``analysis.summary``.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
import shutil
import warnings

from click.testing import CliRunner
import geopandas as gpd
import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from locatietoets.analysis.summary import (
    NO_GEMEENTE,
    NO_REGION,
    exclusion_reasons,
    rules_frame,
    verdict_counts,
)
from locatietoets.layers.io.config import load_config
from locatietoets.layers.io.config_writer import write_config
from locatietoets.layers.publish.figures import slugify
from locatietoets.layers.publish.maps import write_maps
from locatietoets.layers.publish.report import write_report
from locatietoets.layers.publish.runfolder import attribution, read_run
from locatietoets.layers.publish.style import VERDICT_COLOURS
from locatietoets.scripts.reporting import kaarten, rapport
from locatietoets.scripts.runner.score import run_config

pypdf = pytest.importorskip("pypdf")

DPI = 45  # low resolution keeps the test fast; the layout is resolution independent
STAYS = ("short_stay", "mid_stay", "long_stay")


# --- a scored run on the real Limburg gemeenten --------------------------------


def _limburg_world(folder: Path, gemeenten_path: Path) -> Path:
    """Write sites, BBG, odour and parks around the 31 gemeenten; return the config."""
    gem = gpd.read_file(gemeenten_path)[["code", "name", "geometry"]]
    rng = np.random.default_rng(6)
    centres = shapely.point_on_surface(gem.geometry.to_numpy())
    bbg = gpd.GeoDataFrame(
        {"naam": gem["name"]},
        geometry=shapely.intersection(shapely.buffer(centres, 1500), gem.geometry.to_numpy()),
        crs=28992,
    )
    rows = []
    n = 0
    for k, (geom, centre) in enumerate(zip(gem.geometry, centres)):
        placed = 0
        while placed < 8 + k % 5:
            r, a = rng.uniform(0, 4000), rng.uniform(0, 2 * np.pi)
            p = Point(centre.x + r * np.cos(a), centre.y + r * np.sin(a))
            if not geom.contains(p):
                continue
            n += 1
            placed += 1
            rows.append(
                {
                    "id": f"L{n:04d}",
                    "type": STAYS[n % 3],
                    "vorm": "woonfunctie" if n % 2 == 0 else "logies",
                    "personen": int(rng.integers(4, 60)),
                    "slaapkamers": int(rng.integers(4, 60)),
                    "opp": float(rng.uniform(100, 1500)),
                    "geometry": p if placed % 4 else p.buffer(60, quad_segs=2),
                }
            )
    rows.append(
        {
            "id": "LNUL1",
            "type": "short_stay",
            "vorm": "logies",
            "personen": 5,
            "slaapkamers": 5,
            "opp": 200.0,
            "geometry": None,
        }
    )
    gpd.GeoDataFrame(rows, crs=28992).to_file(folder / "locaties.gpkg")
    bbg.to_file(folder / "bbg.gpkg")
    parks = [box(c.x + 2000, c.y - 200, c.x + 2400, c.y + 200) for c in centres[::4]]
    gpd.GeoDataFrame(
        {"naam": [f"Park {i}" for i in range(len(parks))]}, geometry=parks, crs=28992
    ).to_file(folder / "parken.gpkg")
    farms = [Point(c.x + 700, c.y + 300) for c in centres[::2]]
    gpd.GeoDataFrame(
        {"naam": [f"Veehouderij {i}" for i in range(len(farms))], "vaste_afstand_m": 100.0},
        geometry=farms,
        crs=28992,
    ).to_file(folder / "veehouderijen.gpkg")
    rings = [
        (p.buffer(r), v)
        for p in farms
        for r, v in ((1800, 2.0), (1200, 5.0), (700, 14.0), (350, 25.0))
    ]
    gpd.GeoDataFrame(
        {"geur": [v for _, v in rings]}, geometry=[g for g, _ in rings], crs=28992
    ).to_file(folder / "geur.gpkg")
    return write_config(
        folder / "config.toml",
        {
            "locaties": {
                "pad": "locaties.gpkg",
                "id_veld": "id",
                "verblijfstype_veld": "type",
                "huisvestingsvorm_veld": "vorm",
                "personen_veld": "personen",
                "slaapkamers_veld": "slaapkamers",
                "woonoppervlak_veld": "opp",
            },
            "bebouwd_gebied": {"pad": "bbg.gpkg"},
            "recreatieparken": {"pad": "parken.gpkg", "naam_veld": "naam"},
            "geurcontouren": {"pad": "geur.gpkg", "waarde_veld": "geur"},
            "veehouderijen": {
                "pad": "veehouderijen.gpkg",
                "naam_veld": "naam",
                "vaste_afstand_veld": "vaste_afstand_m",
            },
            "gemeenten": {"pad": gemeenten_path, "naam_veld": "name", "code_veld": "code"},
        },
    )


@pytest.fixture(scope="module")
def limburg(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    gem_path = shared_data / "admin" / "limburg_gemeenten_2022_cbs_tmap.geojson"
    world = tmp_path_factory.mktemp("limburg")
    config = _limburg_world(world, gem_path)
    out = world / "uitvoer"
    run_config(load_config(config), out)
    run = read_run(out, stay_type="short_stay")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        files = write_maps(
            run, out / "kaarten", per="gemeente", stay_type="short_stay", formats="beide", dpi=DPI
        )
    # no raw (English) library warning may reach the planner's terminal
    assert not caught, [str(w.message) for w in caught]
    # the report's maps per region (4 maps): the per-gemeente maps are tested above, and this keeps
    # the test fast
    html_path, pdf_path = write_report(run, per="regio", dpi=DPI)
    gemeenten = gpd.read_file(gem_path)
    lookup = pd.read_csv(shared_data / "admin" / "limburg_gemeente_regio_lookup.csv")
    return {
        "out": out,
        "files": files,
        "html": html_path,
        "pdf": pdf_path,
        "gemeenten": gemeenten,
        "lookup": lookup,
        "run": run,
    }


def _sites(out: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(out / "locaties.gpkg", layer="locaties")


# --- maps ------------------------------------------------------------------------


@pytest.mark.shared
@pytest.mark.slow
def test_one_map_per_gemeente_plus_overview(limburg: dict) -> None:
    kaarten_dir = limburg["out"] / "kaarten"
    expected = {"overzicht_short_stay"} | {
        f"gemeente_{slugify(n)}_short_stay" for n in limburg["gemeenten"]["name"]
    }
    assert len(expected) == 32
    for ext in ("png", "pdf"):
        assert {
            p.stem for p in kaarten_dir.glob(f"*.{ext}") if not p.stem.startswith("atlas_")
        } == expected
    assert (
        "gemeente_sittard-geleen_short_stay" in expected
        and "gemeente_bergen-l_short_stay" in expected
    )
    atlas = pypdf.PdfReader(kaarten_dir / "atlas_gemeente_short_stay.pdf")
    assert len(atlas.pages) == 32
    for stem in ("overzicht_short_stay", "gemeente_venlo_short_stay"):
        assert len(pypdf.PdfReader(kaarten_dir / f"{stem}.pdf").pages) == 1
    assert not list(kaarten_dir.glob(".*")), "temporary files left behind"


def _has_colour(
    image: np.ndarray, rgb: tuple[int, int, int], *, tol: int = 6, min_pixels: int = 3
) -> bool:
    pixels = (image[..., :3] * 255).round().astype(int)
    close = np.all(np.abs(pixels - np.array(rgb)) <= tol, axis=-1)
    return int(close.sum()) >= min_pixels


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.parametrize(
    "stem", ["overzicht_short_stay", "gemeente_venlo_short_stay", "gemeente_vaals_short_stay"]
)
def test_png_maps_are_not_blank_and_show_sites(limburg: dict, stem: str) -> None:
    image = mpimg.imread(limburg["out"] / "kaarten" / f"{stem}.png")
    assert image.shape[0] == round(8.27 * DPI) and image.shape[1] == round(
        11.69 * DPI
    )  # A4 landscape
    colours = np.unique((image[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50
    sites = _sites(limburg["out"])
    name = stem.split("_")[1]
    if name != "short":  # a gemeente map: only the verdicts occurring in that gemeente are expected
        sites = sites[sites["gemeente"].map(slugify) == name]
    for verdict in sites["oordeel_short_stay"].dropna().unique():
        assert _has_colour(image, VERDICT_COLOURS[verdict][1]), f"{verdict} not visible on {stem}"


@pytest.mark.shared
@pytest.mark.slow
def test_map_pdf_text_has_title_legend_and_attribution(limburg: dict) -> None:
    atlas = pypdf.PdfReader(limburg["out"] / "kaarten" / "atlas_gemeente_short_stay.pdf")
    first = atlas.pages[0].extract_text()
    assert "Geschiktheid short-stay — provincie Limburg" in first
    for entry in (
        "Geschikt (",
        "Voorwaardelijk (",
        "Ongeschikt (",
        "Bestaand bebouwd gebied (BBG)",
        "Recreatiepark",
        "Geurcontour",
        "Gemeentegrens",
    ):
        assert entry in first
    assert "Bron: CBS, Provincie Limburg / eigen invoer, Locatietoets" in first
    assert "regelset limburg-povi2021 versie" in first and "Schaal 1:" in first
    texts = [p.extract_text() for p in atlas.pages]
    assert sum("Geschiktheid short-stay — gemeente " in t for t in texts) == 31
    venlo = next(t for t in texts if "— gemeente Venlo" in t)
    n_venlo = int((_sites(limburg["out"])["gemeente"] == "Venlo").sum())
    assert f"Locaties in dit gebied: {n_venlo}" in venlo


# --- report ---------------------------------------------------------------------------


class _Rows(HTMLParser):
    """Collect ``<tr data-…>`` rows with their ``<td data-kolom>`` values."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict] = []
        self._row: dict | None = None
        self._col: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-gebied" in a:
            self._row = {
                "niveau": a["data-niveau"],
                "gebied": a["data-gebied"],
                "verblijfstype": a["data-verblijfstype"],
            }
        elif tag == "td" and self._row is not None and "data-kolom" in a:
            self._col = a["data-kolom"]

    def handle_data(self, data):
        if self._row is not None and self._col is not None:
            self._row[self._col] = (
                int(data.replace(".", "")) if data.strip() not in ("", "–") else 0
            )
            self._col = None

    def handle_endtag(self, tag):
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None


@pytest.fixture(scope="module")
def report_rows(limburg: dict) -> pd.DataFrame:
    parser = _Rows()
    parser.feed(limburg["html"].read_text(encoding="utf-8"))
    return pd.DataFrame(parser.rows).drop_duplicates(subset=["niveau", "gebied", "verblijfstype"])


def _expected(sites: pd.DataFrame, key: pd.Series, stay: str) -> pd.DataFrame:
    verdict = sites[f"oordeel_{stay}"].fillna("geen_oordeel")
    counts = pd.crosstab(key, verdict)
    cap = pd.to_numeric(sites["capaciteit_personen"], errors="coerce")
    counts["capaciteit_geschikt"] = cap.where(verdict == "geschikt").groupby(key).sum().round()
    return counts


@pytest.mark.shared
@pytest.mark.slow
def test_report_numbers_equal_counts_in_gpkg(limburg: dict, report_rows: pd.DataFrame) -> None:
    sites = _sites(limburg["out"])
    lookup = limburg["lookup"].set_index("code")["regio"]
    region = sites["gemeente_code"].map(lookup)
    assert region.notna().sum() == sites["gemeente_code"].notna().sum()
    for stay in STAYS:
        for niveau, key in (("gemeente", sites["gemeente"]), ("regio", region)):
            expected = _expected(sites, key, stay)
            got = report_rows[
                (report_rows["niveau"] == niveau) & (report_rows["verblijfstype"] == stay)
            ].set_index("gebied")
            if niveau == "gemeente":
                assert set(got.index) == set(limburg["gemeenten"]["name"]) | {NO_GEMEENTE}
                assert got.loc[NO_GEMEENTE, "geen_oordeel"] == 1  # the site without geometry
            else:
                assert set(got.index) == {
                    "Noord-Limburg",
                    "Midden-Limburg",
                    "Zuid-Limburg",
                    NO_REGION,
                }
            for area, row in expected.iterrows():
                for col in ("geschikt", "voorwaardelijk", "ongeschikt", "capaciteit_geschikt"):
                    want = int(row.get(col, 0)) if col in row else 0
                    assert got.loc[area, col] == want, (stay, niveau, area, col)
        total = report_rows[
            (report_rows["niveau"] == "provincie") & (report_rows["verblijfstype"] == stay)
        ].iloc[0]
        telling = limburg["run"].record["telling"][stay]
        assert (
            total["geschikt"] == telling["geschikt"]
            and total["ongeschikt"] == telling["ongeschikt"]
        )
        assert total["geen_oordeel"] == telling["geen oordeel"] == 1
        assert total["totaal"] == len(sites)


@pytest.mark.shared
@pytest.mark.slow
def test_report_html_is_self_contained_and_complete(limburg: dict) -> None:
    text = limburg["html"].read_text(encoding="utf-8")
    assert text.count("data:image/png;base64,") == 6  # overview + 3 regions + 2 charts
    assert (
        "<link" not in text
        and "<script" not in text
        and "http" not in text.split("<footer>")[0].split("<style>")[0]
    )
    for heading in (
        "Per regio",
        "Per gemeente",
        "Meest voorkomende redenen",
        "Regelset en bronnen",
        "Verantwoording van de run",
        "Invoerlagen",
    ):
        assert heading in text
    record = limburg["run"].record
    assert record["invoer"]["locaties"]["sha256"] in text
    assert "Buiten bestaand bebouwd gebied" in text  # a reason, with its rule title


@pytest.mark.shared
@pytest.mark.slow
def test_report_pdf_pages_and_text(limburg: dict) -> None:
    reader = pypdf.PdfReader(limburg["pdf"])
    texts = [p.extract_text() for p in reader.pages]
    assert sum("Geschiktheid short-stay — regio " in t for t in texts) == 3
    assert sum("Geschiktheid short-stay — provincie Limburg" in t for t in texts) == 1
    full = "\n".join(texts)
    for heading in (
        "1. Samenvatting",
        "2. Per regio",
        "3. Per gemeente",
        "4. Meest voorkomende redenen",
        "6. Regelset en bronnen",
        "7. Verantwoording van de run",
    ):
        assert heading in full
    assert "Noord-Limburg" in full and "Zuid-Limburg" in full
    telling = limburg["run"].record["telling"]["short_stay"]
    numbers = [telling[k] for k in ("geschikt", "voorwaardelijk", "ongeschikt", "geen oordeel")]
    assert (
        "Totaal " + " ".join(str(n) for n in numbers) in full
    )  # the summary row (numbers < 1.000 here)


# --- commands and errors ------------------------------------------------------------------


@pytest.mark.shared
@pytest.mark.slow
def test_commands_write_outputs_and_fail_in_dutch(limburg: dict, tmp_path: Path) -> None:
    runner = CliRunner()
    out = limburg["out"]
    result = runner.invoke(
        kaarten,
        [
            str(out),
            "--per",
            "regio",
            "--formaat",
            "png",
            "--dpi",
            "50",
            "--out",
            str(tmp_path / "k"),
            "--voortgang",
            "geen",
        ],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "k").iterdir()) == [
        "overzicht_short_stay.png",
        "regio_midden-limburg_short_stay.png",
        "regio_noord-limburg_short_stay.png",
        "regio_zuid-limburg_short_stay.png",
    ]
    cases = [
        ([str(tmp_path / "bestaat-niet")], "Uitvoermap"),
        ([str(tmp_path)], "ontbreekt locaties.gpkg"),
        ([str(out), "--per", "gemeenten"], "Bedoelde u 'gemeente'"),
        ([str(out), "--formaat", "svg"], "--formaat"),
        ([str(out), "--verblijfstype", "kort"], "--verblijfstype"),
    ]
    for args, message in cases:
        result = runner.invoke(kaarten, [*args, "--voortgang", "geen"])
        assert result.exit_code == 2, (args, result.output)
        stderr = " ".join(result.stderr.split())  # rich wraps long lines
        assert message in stderr and "Traceback" not in result.output + result.stderr
    assert not (tmp_path / "bestaat-niet").exists(), "a missing run folder must not be created"
    # a run without gemeenten: per gemeente fails clearly, the overview works
    bare = tmp_path / "zonder_gemeenten"
    bare.mkdir()
    for name in ("locaties.gpkg", "run.json"):
        shutil.copy(out / name, bare / name)
    result = runner.invoke(kaarten, [str(bare), "--voortgang", "geen"])
    stderr = " ".join(result.stderr.split())
    assert result.exit_code == 2 and "[lagen.gemeenten]" in stderr and "--per provincie" in stderr
    result = runner.invoke(
        kaarten,
        [str(bare), "--per", "provincie", "--formaat", "png", "--dpi", "50", "--voortgang", "geen"],
    )
    assert result.exit_code == 0, result.stderr
    assert [p.name for p in (bare / "kaarten").iterdir()] == ["overzicht_short_stay.png"]
    result = runner.invoke(rapport, [str(bare), "--dpi", "50", "--voortgang", "geen"])
    assert result.exit_code == 0, result.stderr
    assert (bare / "rapport.html").is_file() and (bare / "rapport.pdf").is_file()


# --- pure summaries and attribution --------------------------------------------------------


def test_verdict_counts_and_reasons_by_hand() -> None:
    sites = pd.DataFrame(
        {
            "gemeente": ["Venlo", "Venlo", "Venray", None],
            "gemeente_code": ["GM0983", "GM0983", "GM0984", None],
            "regio": ["Noord-Limburg", "Noord-Limburg", "Noord-Limburg", None],
            "verblijfstype": ["short_stay", "long_stay", "short_stay", "short_stay"],
            "capaciteit_personen": [10.0, np.nan, 4.0, 7.0],
            "oordeel_short_stay": ["geschikt", "voorwaardelijk", "ongeschikt", None],
            "regels_short_stay": [
                "",
                "bbg.rand;geur.omgekeerde_werking",
                "bbg.buiten;geur.knelpunt",
                "",
            ],
        }
    )
    table = verdict_counts(
        sites,
        per="gemeente",
        areas=pd.DataFrame({"gebied": ["Venlo", "Venray", "Beesel"], "regio": ["N", "N", "N"]}),
    )
    venlo = table[table["gebied"] == "Venlo"].iloc[0]
    assert (venlo["geschikt"], venlo["voorwaardelijk"], venlo["totaal"]) == (1, 1, 2)
    assert (
        venlo["capaciteit_geschikt"] == 10.0
        and venlo["capaciteit_voorwaardelijk"] == 0.0
        and venlo["capaciteit_onbekend"] == 1
    )
    assert table[table["gebied"] == "Beesel"].iloc[0]["totaal"] == 0
    assert table.iloc[-1]["gebied"] == "buiten de gemeenten" and table.iloc[-1]["geen_oordeel"] == 1
    own = verdict_counts(sites, per="provincie", basis="beoogd").iloc[0]
    assert own["totaal"] == 3 and own["geen_oordeel"] == 1
    rules = rules_frame(
        [
            {"id": "bbg.rand", "titel": "Rand", "oordeel": {"short_stay": "geschikt"}},
            {"id": "bbg.buiten", "titel": "Buiten", "oordeel": {"short_stay": "voorwaardelijk"}},
            {
                "id": "geur.omgekeerde_werking",
                "titel": "Omgekeerd",
                "oordeel": {"short_stay": "geschikt"},
            },
        ]
    )
    reasons = exclusion_reasons(sites, rules, stay_types=["short_stay"])
    # bbg.rand and the warning give 'geschikt' for short-stay: not a reason; unknown rules are kept
    assert list(reasons["regel"]) == ["bbg.buiten", "geur.knelpunt"]
    assert list(reasons["titel"]) == ["Buiten", "geur.knelpunt"]
    assert reasons["aandeel_pct"].tolist() == [33.3, 33.3]


def test_attribution_names_the_sources(tmp_path: Path) -> None:
    from locatietoets.layers.publish.runfolder import RunFolder

    def run_with(invoer: dict, bron: str = "") -> RunFolder:
        sites = gpd.GeoDataFrame({"bron": [bron]}, geometry=[Point(200000, 380000)], crs=28992)
        return RunFolder(
            tmp_path, sites, {}, {"invoer": invoer, "locatietoets": {"versie": "9.9"}}, None
        )

    invoer = {
        "gemeenten": {"pad": "/data/cbs_gemeenten_2022.gpkg"},
        "wegennet": {"pad": "/data/limburg-latest.osm.pbf"},
        "locaties": {"pad": "/data/kandidaten.gpkg"},
    }
    assert (
        attribution(run_with(invoer))
        == "Bron: CBS, OpenStreetMap-bijdragers, Provincie Limburg / eigen invoer, Locatietoets 9.9"
    )
    assert "fictief demogebied" in attribution(run_with(invoer, "FICTIEF DEMOGEBIED Locatietoets"))
