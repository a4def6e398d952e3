"""One vocabulary: analysis/vocabulary.py and the plugin's copy agree; the engine uses it."""

from __future__ import annotations

import ast
from pathlib import Path

import locatietoets.analysis.vocabulary as engine_vocabulary
import qgis_plugin.vocabulary as plugin_vocabulary

REPO = Path(__file__).resolve().parents[1]


def test_plugin_copy_has_the_same_names_and_values():
    assert plugin_vocabulary.__all__ == engine_vocabulary.__all__
    for name in engine_vocabulary.__all__:
        engine_value, plugin_value = (
            getattr(engine_vocabulary, name),
            getattr(plugin_vocabulary, name),
        )
        if callable(engine_value):
            continue
        assert plugin_value == engine_value, (
            f"{name}: qgis_plugin/vocabulary.py wijkt af van analysis/vocabulary.py"
        )
    assert (
        plugin_vocabulary.hex_colour((253, 174, 97))
        == engine_vocabulary.hex_colour((253, 174, 97))
        == "#fdae61"
    )


def test_plugin_copy_imports_nothing_of_the_engine():
    tree = ast.parse((REPO / "qgis_plugin" / "vocabulary.py").read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert imported <= {"__future__", "math", "numbers"}  # the standard library only


def test_one_verdict_colour_set_everywhere():
    from locatietoets.layers.publish.style import VERDICT_COLOURS

    assert VERDICT_COLOURS is engine_vocabulary.VERDICT_COLOURS
    assert engine_vocabulary.hex_colour(VERDICT_COLOURS["voorwaardelijk"][1]) == "#fdae61"
    assert list(VERDICT_COLOURS)[:3] == list(engine_vocabulary.VERDICTS)
    style = (REPO / "qgis_plugin" / "styling.py").read_text(encoding="utf-8")
    assert (
        "#f28e1c" not in style and "#fdae61" not in style
    )  # the plugin takes its colours from its copy


def test_result_fields_are_one_list_with_the_others_derived():
    from locatietoets.analysis.pipeline import RESULT_FIELDS
    from locatietoets.analysis.travel import RESULT_COLUMNS
    from locatietoets.analysis.verdict import REASON_FIELDS
    from locatietoets.layers.publish.style import FIELD_ALIASES

    assert RESULT_FIELDS == tuple(engine_vocabulary.FIELD_ALIASES) == tuple(FIELD_ALIASES)
    assert len(set(RESULT_FIELDS)) == len(RESULT_FIELDS)
    assert RESULT_COLUMNS == (*engine_vocabulary.TRAVEL_FIELDS, "reis_onbereikbaar_reden")
    assert set(engine_vocabulary.TRAVEL_FIELDS) - {"reis_onbereikbaar"} <= REASON_FIELDS
    assert all(alias.strip() for alias in FIELD_ALIASES.values())


def test_stay_types_and_verdicts_come_from_the_vocabulary():
    from locatietoets.analysis import ruleset, summary

    assert ruleset.STAY_TYPES is summary.STAY_TYPES is engine_vocabulary.STAY_TYPES
    assert ruleset.VERDICTS is summary.VERDICTS is engine_vocabulary.VERDICTS
    assert engine_vocabulary.STAY_LABELS == {
        "short_stay": "short-stay",
        "mid_stay": "mid-stay",
        "long_stay": "long-stay",
    }


def test_one_dutch_number_formatter_in_engine_and_plugin():
    from locatietoets.analysis.texts import nl_number

    cases = [
        ((12345,), "12.345"),
        ((1234.56, 1), "1.234,6"),
        ((0.25, 2), "0,25"),
        ((-0.4,), "0"),
        ((None,), "–"),
        ((float("nan"),), "–"),
        ((True,), "ja"),
        (("Venlo",), "Venlo"),
    ]
    for args, text in cases:
        assert nl_number(*args) == plugin_vocabulary.nl_number(*args) == text, args


def test_analyses_give_the_result_fields_of_their_group():
    from locatietoets.analysis import odour
    from locatietoets.analysis.planning.grid import VERDICT_CODES

    assert set(engine_vocabulary.ODOUR_FIELDS) <= set(odour.COLUMNS)
    assert VERDICT_CODES == {"geschikt": 1, "voorwaardelijk": 2, "ongeschikt": 3}
