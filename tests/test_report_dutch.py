"""No English and no Python reprs in the report a planner reads (issue 18).

The report (``rapport.html`` and the text of ``rapport.pdf``) of the demo and of a run with every
section filled (kernen, existing housing, facilities, a per-gemeente parameter, a warning) is
scanned for English words and phrases, Python reprs (True/False/None/nan, dict and list reprs),
ISO timestamps and floats with a decimal point. Dutch words that look English (park, score,
Natura, stay in short-stay) are not on the list.
"""

from __future__ import annotations

import html
from pathlib import Path
import re

import geopandas as gpd
import pytest

from locatietoets.layers.io.config import load_config
from locatietoets.layers.publish.report import write_report
from locatietoets.layers.publish.runfolder import read_run
from locatietoets.layers.worlds.demo import write_demo
from locatietoets.scripts.runner.score import run_config

pypdf = pytest.importorskip("pypdf")

#: English words a Dutch report never needs. Not listed: words that are Dutch as well (in, is,
#: of, type, park, score, plus, min, test, map, stay, rust, een), library names (click, rich).
ENGLISH_WORDS = (
    "the and with from for not none true false sites? network snapped reached loaded reading"
    " writing done warnings? errors? found skipped nodes edges unknown total rules? verdicts?"
    " suitable unsuitable conditional reasons? distance employers? fields? values? missing"
    " invalid files? written count outside inside within summary tables? chart page travel"
    " odour housing capacity share default layers? steps? areas? municipality region sources?"
    " date seconds people persons beds buildings? built than percent yes no unit empty"
    " required minutes hours between above below"
)
_ENGLISH = re.compile(rf"\b({'|'.join(ENGLISH_WORDS.split())})\b", re.IGNORECASE)
_REPRS = {
    "Python-waarde": re.compile(r"\b(True|False|None|nan|NaN|inf)\b"),
    "dict- of lijstweergave": re.compile(r"\{'|\['|'\]|'\}|\{\"|\w': \d"),
    "ISO-tijdstempel": re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d"),
    # a decimal point that is not a thousands separator (exactly three digits follow), not in a
    # version (3.0.0) and not an article number (art. 5.7, §3.3)
    "getal met decimale punt": re.compile(
        r"(?<![\d.§])(?<!art\. )(?<!artikel )\d+\.(?!\d{3}\b)\d+\b(?!\.\d)"
    ),
    # a count or distance of four or more digits without a thousands dot (1000 m, not 1.000 m);
    # years, codes (GM0983, EPSG:28992, ECLI:…:2021:6369) and ranges (2024-2027) are not counts
    "getal zonder scheidingsteken": re.compile(r"(?<![\w.,:/§-])\d{4,}(?![\w.,:/-])"),
}


def findings(text: str) -> list[tuple[str, str]]:
    """(what, line) for every English word or repr in ``text``; paths and hashes are skipped."""
    found = []
    for line in text.splitlines():
        plain = re.sub(r"\S*[/\\]\S*", " ", line)  # file paths name the user's own folders
        plain = re.sub(r"\b[0-9a-f]{16,}\b", " ", plain)  # sha256 checksums
        plain = re.sub(r"\b\d+\.\d+\.\d+\b", " ", plain)  # versions
        # article references, also as lists and ranges: art. 5.14, 5.15; art. 4.90-4.96; §3.3
        plain = re.sub(
            r"(\bart\.|\bartikel|§)\s*\d+(\.\d+)*[a-z]?(\s*(,|-|–|en)\s*\d+(\.\d+)*[a-z]?)*",
            " ",
            plain,
        )
        found += [(m.group(0), line.strip()) for m in _ENGLISH.finditer(plain)]
        for what, pattern in _REPRS.items():
            text = plain
            if what == "getal zonder scheidingsteken":
                # years and publication numbers (Provinciaal blad 2023, 14198) are not counts
                text = re.sub(r"\bblad \d{4}, \d+|\b(1[89]|20)\d\d\b", " ", plain)
            found += [(f"{what}: {m.group(0)}", line.strip()) for m in pattern.finditer(text)]
    return found


def html_text(path: Path) -> str:
    """The visible text of an HTML report: no style sheet, no image data, no tags or attributes."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"<style>.*?</style>", " ", text, flags=re.S)
    text = re.sub(r"<[^>]+>", "\n", text)
    return html.unescape(text)


def pdf_text(path: Path) -> str:
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)
    # a table cell may wrap between "art." and its number (art. 5.92): that is layout, no decimal
    return re.sub(r"\b(art\.|artikel)[ \t]*\n[ \t]*(?=\d)", r"\1 ", text)


def _full_world(root: Path) -> Path:
    """The demo (which has kernen, existing housing, three facility kinds and a per-gemeente
    parameter since issue 16) plus a facility kind no rule uses (a warning) and a second
    per-gemeente parameter, so that every section of the report has content."""
    config = write_demo(root, n_sites=600)
    kernen = gpd.read_file(root / "invoer" / "kernen.gpkg")
    centres = kernen.geometry.representative_point()
    gpd.GeoDataFrame(
        {"naam": [f"Bibliotheek {n}" for n in kernen["naam"]]},
        geometry=centres.translate(-200, 100),
        crs=kernen.crs,
    ).to_file(root / "invoer" / "bibliotheek.gpkg")
    extra = """
[lagen.voorzieningen.bibliotheek]
pad = "invoer/bibliotheek.gpkg"
naam_veld = "naam"

[regels]
"""
    head, tail = config.read_text(encoding="utf-8").rsplit("\n[regels]\n", 1)
    gemeente = "[regels.gemeenten.GM9902]\n"
    assert gemeente in tail
    text = head + extra + tail.replace(gemeente, gemeente + "bbg_rand_m = 150\n")
    config.write_text(text, encoding="utf-8")
    return config


def _report(root: Path, config: Path) -> dict[str, str]:
    run_config(load_config(config), root / "uitvoer", network_cache_dir=root / "cache")
    run = read_run(root / "uitvoer", stay_type="short_stay")
    html_path, pdf_path = write_report(run, per="gemeente", dpi=30)
    return {
        "html": html_text(html_path),
        "pdf": pdf_text(pdf_path),
        "record": run.record,
        "root": root,
    }


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("demo")
    return _report(root, write_demo(root, n_sites=600))


@pytest.fixture(scope="module")
def full_report(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("vol")
    return _report(root, _full_world(root))


def test_the_checker_finds_what_it_looks_for():
    text = (
        "Parameters: {'logistiek': 0.35}\nGestart 2026-12-03T13:33:21+00:00\nwaarde nan\n"
        "3000 sites reached an employer\nbijzonder: True\nafstand 315.3659 m\n['a']\nmax 10000 m"
    )
    got = " ".join(what for what, _ in findings(text))
    for needle in (
        "dict",
        "ISO",
        "nan",
        "sites",
        "reached",
        "employer",
        "True",
        "315.3659",
        "10000",
    ):
        assert needle in got, needle
    dutch = (
        "3.000 locaties in een recreatiepark, score 2,5; Bkl art. 5.7 en §3.3; art. 5.14, 5.15 en"
        " art. 4.90-4.96; park 'Het Zwaantje': geen; regelset versie"
        " 3.0.0; Natura 2000; short-stay; in /tmp/the_sites/config.toml; sha256 "
        + "ab12" * 16
        + "; GM0983, EPSG:28992, ECLI:NL:RBOBR:2021:6369, 2024-2027, 3 december 2026, 10.000 m"
    )
    assert findings(dutch) == []


def test_the_full_run_fills_every_section(full_report):
    record = full_report["record"]
    assert record["waarschuwingen"], "the unused facility kind should give a warning"
    for heading in (
        "Beperkingen, concentratie en voorzieningen",
        "Demogemeente Maasdal",  # the per-gemeente parameter value
        "Kern (concentratie)",
        "Voorziening: supermarkt",
        "Bestaande huisvesting",
    ):
        assert heading in full_report["pdf"], heading
    assert "Parameters (zoals gebruikt in deze run)" in full_report["html"]


@pytest.mark.parametrize("which", ["demo_report", "full_report"])
@pytest.mark.parametrize("part", ["html", "pdf"])
def test_report_has_no_english_and_no_python_reprs(request, which, part):
    text = request.getfixturevalue(which)[part]
    assert len(text) > 5000
    assert findings(text) == []


def test_table_cells_break_long_ids_after_a_separator_never_inside_a_word():
    from locatietoets.layers.publish.report_pdf import wrap_cell

    assert wrap_cell("geur.knelpunt_geurgevoelig", 21) == ["geur.knelpunt_", "geurgevoelig"]
    assert wrap_cell("voorziening.supermarkt.onbereikbaar", 21) == [
        "voorziening.",
        "supermarkt.",
        "onbereikbaar",
    ]
    assert wrap_cell("is voorwaardelijk", 14) == ["is", "voorwaardelijk"]
    assert wrap_cell("ab12" * 6, 10) == ["ab12ab12ab", "12ab12ab12", "ab12"]  # a checksum


@pytest.mark.parametrize("which", ["demo_report", "full_report"])
def test_pdf_tables_do_not_split_verdicts_and_kinds(request, which):
    """The rule table's columns fit 'voorwaardelijk' and 'waarschuwing' (issue 18 saw
    'voorwaardeli/jk')."""
    text = request.getfixturevalue(which)["pdf"]
    assert "waarschuwing" in text and "voorwaardelijk" in text
    assert not re.search(r"\b(waarschuwin|voorwaardeli|ongeschik)\b", text)


@pytest.fixture(scope="module")
def planning_pages(demo_report) -> dict[str, str]:
    """vergelijking.html of the demo against a run with two other parameter values, and
    capaciteit.html of the demo against a need table."""
    from click.testing import CliRunner

    from locatietoets.scripts.cli import main

    root = demo_report["root"]
    text = (root / "config.toml").read_text(encoding="utf-8")
    assert "\nbbg_rand_m = 250\n" in text
    config_b = root / "config_b.toml"
    config_b.write_text(
        text.replace("\nbbg_rand_m = 250\n", "\nbbg_rand_m = 150\nbbg_binnen_aandeel = 0.9\n"),
        encoding="utf-8",
    )
    run_config(load_config(config_b), root / "uit_b", network_cache_dir=root / "cache")
    need = root / "behoefte.csv"
    need.write_text(
        "gemeente;short_stay;mid_stay;long_stay\nGM9901;3000;1200;800\nGM9902;2500;5000;300\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    for args in (
        ["vergelijk", str(root / "uitvoer"), str(root / "uit_b"), "--out", str(root / "verg")],
        ["capaciteit", str(root / "uitvoer"), "--behoefte", str(need), "--out", str(root / "cap")],
    ):
        result = runner.invoke(main, [*args, "--voortgang", "geen"])
        assert result.exit_code == 0, result.output
    return {
        "vergelijking": html_text(root / "verg" / "vergelijking.html"),
        "capaciteit": html_text(root / "cap" / "capaciteit.html"),
    }


def test_comparison_shows_parameter_values_and_origins_in_dutch(planning_pages):
    text = planning_pages["vergelijking"]
    # 0.95 -> 0.9 printed as '1' -> '1' before (whole numbers), and the origin as 'config'
    assert re.search(r"bbg_binnen_aandeel\s+0,95\s+0,9\s+regelset\s+configuratie", text)
    assert re.search(r"bbg_rand_m\s+250\s+150\s+configuratie\s+configuratie", text)


def test_reason_templates_read_without_python_format_syntax():
    from locatietoets.layers.publish.comparison import _template

    assert _template("ten hoogste {max_termijn_jaar:.0f} jaar op '{recreatiepark}'") == (
        "ten hoogste [max_termijn_jaar] jaar op '[recreatiepark]'"
    )


@pytest.mark.parametrize("page", ["vergelijking", "capaciteit"])
def test_planning_pages_have_no_english_and_no_python_reprs(planning_pages, page):
    text = planning_pages[page]
    assert len(text) > 500
    assert findings(text) == []
