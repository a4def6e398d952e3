"""The plugin's help texts as the Processing dialog shows them."""

from __future__ import annotations

import re

import pytest

from qgis_plugin.helptext import HELP_DIR, help_html

ALGORITHMS = sorted(
    p.stem for p in HELP_DIR.glob("*.html") if not p.stem.startswith("_") and p.stem != "index"
)


def test_every_algorithm_has_help():
    assert len(ALGORITHMS) >= 9


@pytest.mark.parametrize("algorithm_id", ALGORITHMS)
def test_help_has_no_line_breaks_outside_pre(algorithm_id):
    # The dialog's help panel turns each newline into a paragraph break: a sentence wrapped in the
    # source file came out cut in two ("... Provincie Limburg" / "(POVI 2021) en aan ...").
    text = help_html(algorithm_id)
    outside_pre = re.sub(r"<pre>.*?</pre>", "", text, flags=re.DOTALL)
    assert "\n" not in outside_pre


def test_wrapped_sentence_reads_as_one():
    text = help_html("toetslocaties")
    assert "van de Provincie Limburg (POVI 2021) en aan de geurregels" in text
    assert "(binnen, deels, rand, buiten)" in text


def test_pre_blocks_keep_their_lines():
    text = help_html("capaciteit")
    assert "<pre>gemeente;short_stay;mid_stay;long_stay\nVenlo;1200;400;250\n" in text


@pytest.mark.parametrize("algorithm_id", ALGORITHMS)
def test_help_does_not_repeat_the_title(algorithm_id):
    # the dialog puts the algorithm's name above the help: the file's <h3> title came out twice
    source = (HELP_DIR / f"{algorithm_id}.html").read_text(encoding="utf-8")
    title = re.match(r"<h3>([^<]*)</h3>", source)
    text = help_html(algorithm_id)
    assert not text.startswith("<h3>")
    if title:
        assert f"<h3>{title.group(1)}</h3>" not in text
