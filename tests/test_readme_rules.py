"""The README's rule table is the built-in rule set (issue 12: 'the README's rule table matches the
rule set')."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from locatietoets.layers.io.rules import (
    README_BEGIN,
    README_END,
    read_ruleset_file,
    ruleset_markdown,
)
from locatietoets.scripts.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_tables() -> str:
    text = README.read_text(encoding="utf-8")
    assert text.count(README_BEGIN) == 1 and text.count(README_END) == 1, (
        "README mist de markeringen van de regeltabel"
    )
    return text.split(README_BEGIN, 1)[1].split(README_END, 1)[0].lstrip("\n")


def test_readme_rule_table_matches_the_rule_set():
    expected = ruleset_markdown(read_ruleset_file())
    assert _readme_tables() == expected, (
        "De regeltabel in README.md wijkt af van de ingebouwde regelset. Vervang de tekst tussen de"
        " markeringen 'regeltabel: begin' en 'regeltabel: einde' door de uitvoer van 'locatietoets"
        " regels --markdown'."
    )


def test_markdown_table_names_every_rule_and_parameter():
    rs = read_ruleset_file()
    text = ruleset_markdown(rs)
    for rule in rs.rules:
        row = next(line for line in text.splitlines() if line.startswith(f"| `{rule.id}` |"))
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert cells[2:5] == [rule.verdict[s] for s in ("short_stay", "mid_stay", "long_stay")], (
            rule.id
        )
        assert cells[-1] == rule.confidence
    for name in rs.parameters:
        assert f"| `{name}` |" in text, name
    assert f"versie {rs.version}" in text


def test_regels_markdown_option_prints_the_same_text():
    result = CliRunner().invoke(main, ["regels", "--markdown"])
    assert result.exit_code == 0, result.output
    assert result.output == ruleset_markdown(read_ruleset_file())
