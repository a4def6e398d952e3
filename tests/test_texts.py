"""Vectorised Dutch reason texts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from locatietoets.analysis.texts import (
    format_number,
    join_nonempty,
    nl_value,
    render_array,
    render_rows,
    render_template,
)


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


def test_render_rows_gives_the_text_of_render_array_at_the_rows_and_null_elsewhere():
    n = 7
    values = {
        # an Arrow text column with a gap, an object column, numbers with NaN and -0.0, a share,
        # yes/no, a nullable integer and a scalar
        "park": pd.Series(
            ["A", None, "B", "C", "", "D", "E"], dtype=pd.StringDtype(na_value=np.nan)
        ),
        "vorm": np.array(
            ["logies", None, "woonfunctie", "logies", pd.NA, "x", np.nan], dtype=object
        ),
        # not only text: each value as pandas' astype(str) gives it (bytes decoded), missing as ""
        "code": np.array([1, "a", b"x", None, 2.5, pd.NA, "b"], dtype=object),
        "afstand": np.array([100.4, 2500.0, np.nan, -0.04, 0.5, 1234.56, 7.0]),
        "aandeel": np.array([0.125, 1.0, np.nan, 0.0, 0.5, 0.333, 1.0]),
        "erf": np.array([True, False, True, True, False, True, False]),
        "inwoners": pd.Series(pd.array([1200, None, 5, 6, 7, 8, 9], dtype="Int64")),
        "rand": 250.0,
    }
    template = (
        "park '{park}' ({vorm}, {code}), {afstand:.1f} m en {afstand:.0f} m ({afstand});"
        " {aandeel:.0%} vrij, erf {erf}, {inwoners:.0f} inwoners, rand {rand:.0f} m; 100%"
    )
    rows = np.array([0, 2, 3, 6])
    cache: dict = {}
    out = render_rows(
        template, lambda name: (name, values[name]), rows, n, suffix=" (bron)", cache=cache
    )
    expected = render_array(
        template,
        {
            k: (v.iloc[rows] if isinstance(v, pd.Series) else v[rows] if np.ndim(v) else v)
            for k, v in values.items()
        },
        len(rows),
        suffix=" (bron)",
    )
    assert out.to_pylist() == [expected[0], None, expected[1], expected[2], None, None, expected[3]]
    assert out.to_pylist()[3] == (
        "park 'C' (logies, ), -0,0 m en 0 m (-0,04); 0 % vrij, erf ja, 6 inwoners, rand 250 m; 100%"
        " (bron)"
    )
    assert out.to_pylist()[2].startswith("park 'B' (woonfunctie, x), onbekend m en onbekend m")
    # the text columns were converted once and are reused by the next template
    assert {key for key, _ in cache} == {"park", "vorm", "code"}
    literal = render_rows("alleen tekst", lambda name: (name, values[name]), rows, n)
    assert literal.to_pylist() == [
        "alleen tekst",
        None,
        "alleen tekst",
        "alleen tekst",
        None,
        None,
        "alleen tekst",
    ]
    with pytest.raises(KeyError):
        render_rows("{onbekend_veld}", lambda name: (name, values[name]), rows, n)


def test_render_rows_for_a_few_of_many_sites_equals_the_text_for_all():
    # a template for up to two thirds of the sites is joined over its rows and spread out;
    # the texts equal those rendered with the rows among all sites
    rng = np.random.default_rng(5)
    n = 400
    values = {
        "naam": pd.Series(
            rng.choice(["Park A", "Park B", None], n), dtype=pd.StringDtype(na_value=np.nan)
        ),
        "vorm": rng.choice(np.array(["logies", "woonfunctie", None], dtype=object), n),
        "afstand": np.where(rng.random(n) < 0.1, np.nan, rng.normal(500, 300, n)),
        "erf": rng.random(n) < 0.5,
    }
    template = "'{naam}' ({vorm}) op {afstand:.0f} m ({afstand:.1%}), erf {erf}"
    few = np.sort(rng.choice(n, 40, replace=False))
    many = np.sort(np.concatenate([few, rng.choice(np.setdiff1d(np.arange(n), few), 300, False)]))
    cache: dict = {}
    out_few = render_rows(template, lambda k: (k, values[k]), few, n, suffix=" (x)", cache=cache)
    out_many = render_rows(template, lambda k: (k, values[k]), many, n, suffix=" (x)", cache=cache)
    assert out_few.null_count == n - len(few) and out_many.null_count == n - len(many)
    few_texts, many_texts = out_few.to_pylist(), out_many.to_pylist()
    assert all(few_texts[i] == many_texts[i] for i in few)
    expected = render_array(
        template,
        {k: (v.iloc[few] if isinstance(v, pd.Series) else v[few]) for k, v in values.items()},
        len(few),
        suffix=" (x)",
    )
    assert [few_texts[i] for i in few] == expected.tolist()
    assert render_rows("vast", lambda k: (k, values[k]), few, n).to_pylist() == [
        "vast" if i in set(few.tolist()) else None for i in range(n)
    ]


@pytest.mark.parametrize("share", [0.1, 0.8])  # rows joined compactly and spread / over all sites
def test_render_rows_missing_text_in_the_rows_and_parameters_equal_at_the_rows(share):
    # a text column missing at some of the rendered sites (""), null outside the rows; a
    # parameter with one value at the rows (but another outside them) becomes literal text; one
    # whose values differ only as 0.0 and -0.0 keeps each site's own text
    rng = np.random.default_rng(11)
    n = 200
    rows = np.sort(rng.choice(n, int(n * share), replace=False))
    naam = rng.choice(np.array(["Park A", "Park Ë", None], dtype=object), n)
    naam[rows[:3]] = None
    values = {
        "naam": pd.Series(naam, dtype=pd.StringDtype(na_value=np.nan)),
        "rand": np.where(np.isin(np.arange(n), rows), 250.0, 300.0),
        "nul": np.where(np.arange(n) % 2 == 0, 0.0, -0.0),
        "afstand": rng.normal(400, 200, n),
    }
    template = "'{naam}' op {afstand:.0f} m (rand {rand:.0f} m, {nul:.1f}); {rand:.0%}"
    out = render_rows(template, lambda k: (k, values[k]), rows, n, suffix=" (x)")
    expected = render_array(
        template,
        {k: (v.iloc[rows] if isinstance(v, pd.Series) else v[rows]) for k, v in values.items()},
        len(rows),
        suffix=" (x)",
    )
    texts = out.to_pylist()
    assert [texts[i] for i in rows] == expected.tolist()
    assert all(texts[i] is None for i in np.setdiff1d(np.arange(n), rows))
    assert texts[rows[0]].startswith("'' op ") and "rand 250 m" in texts[rows[0]]
    assert {t.split(", ")[1].split(")")[0] for t in expected} == {"0,0", "-0,0"}
