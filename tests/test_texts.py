"""Vectorised Dutch reason texts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from locatietoets.analysis.texts import format_number, join_nonempty, nl_value, render_template


def test_format_number_dutch_decimal_comma_and_missing():
    out = format_number(np.array([14.0, 2.25, np.nan, 0.5, 1234.5]), ".1f")
    # 2.25 is exactly representable: one decimal rounds half to even, as Python does
    assert out.tolist() == ["14,0", "2,2", "onbekend", "0,5", "1.234,5"]
    assert format_number(np.array([0.5, 1.5, 249.6]), ".0f").tolist() == ["1", "2", "250"]
    assert format_number(np.array([2.0, 2.5, 2.125]), "").tolist() == ["2", "2,5", "2,12"]


def test_render_template_mixes_columns_and_scalars():
    out = render_template(
        "Ligt {afstand:.0f} m buiten; rand tot {rand:.0f} m; park '{park}'",
        {"afstand": np.array([100.4, 2500.0]), "rand": 250.0, "park": pd.Series(["A", None])},
        2,
    )
    assert out.tolist() == [
        "Ligt 100 m buiten; rand tot 250 m; park 'A'",
        "Ligt 2.500 m buiten; rand tot 250 m; park ''",
    ]


def test_join_nonempty_skips_empty_strings():
    a = pd.Series(["x", "", "", "y"])
    b = pd.Series(["", "z", "", "w"])
    c = pd.Series(["q", None, "", ""])
    assert join_nonempty([a, b, c], "; ").tolist() == ["x; q", "z", "", "y; w"]


def test_format_number_empty():
    assert format_number(np.array([]), ".1f").tolist() == []
    assert render_template("{a:.0f} m", {"a": np.array([])}, 0).tolist() == []


def test_nl_value_gives_only_the_decimals_a_value_needs():
    # where Python's :g printed 1000, 0.35 and 1e+06
    assert [nl_value(v) for v in (250, 250.0, 1000, 0.35, 12.5, 1e6, -3.25)] == [
        "250",
        "250",
        "1.000",
        "0,35",
        "12,5",
        "1.000.000",
        "-3,25",
    ]
