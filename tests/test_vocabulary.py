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


# --- colour-blind safety of the verdict colours -------------------------------------------------

#: Machado, Oliveira & Fernandes (2009), severity 1.0, applied to linear RGB.
_CVD = {
    "deuteranopie": [
        [0.367322, 0.860646, -0.227968],
        [0.280085, 0.672501, 0.047413],
        [-0.011820, 0.042940, 0.968881],
    ],
    "protanopie": [
        [0.152286, 1.052583, -0.204868],
        [0.114503, 0.786281, 0.099216],
        [-0.003882, -0.048116, 1.051998],
    ],
    "tritanopie": [
        [1.255528, -0.076749, -0.178779],
        [-0.078411, 0.930809, 0.147602],
        [0.004733, 0.691367, 0.303900],
    ],
}


def _linear(rgb):
    import numpy as np

    c = np.asarray(rgb, dtype=float) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(linear):
    """CIELAB (D65) of a linear-RGB colour."""
    import numpy as np

    xyz = np.array(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
    ) @ np.clip(linear, 0, 1)
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _delta_e(rgb1, rgb2, vision=None):
    """CIEDE2000 colour difference of two sRGB colours as seen with ``vision`` (None: normal)."""
    import numpy as np

    m = np.eye(3) if vision is None else np.array(_CVD[vision])
    return _delta_e_lab(_lab(m @ _linear(rgb1)), _lab(m @ _linear(rgb2)))


def _delta_e_lab(lab1, lab2):
    """CIEDE2000 (Sharma, Wu & Dalal 2005) of two CIELAB colours."""
    import numpy as np

    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    c_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_mean**7 / (c_mean**7 + 25**7)))
    a1, a2 = (1 + g) * a1, (1 + g) * a2
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    h1, h2 = np.degrees(np.arctan2(b1, a1)) % 360, np.degrees(np.arctan2(b2, a2)) % 360
    dh = 0.0 if c1 * c2 == 0 else (h2 - h1 + 180) % 360 - 180
    big_dh = 2 * np.sqrt(c1 * c2) * np.sin(np.radians(dh / 2))
    l_mean, c_mean = (l1 + l2) / 2, (c1 + c2) / 2
    h_mean = h1 + h2 if c1 * c2 == 0 else ((h1 + h2) / 2 + (180 if abs(h1 - h2) > 180 else 0))
    t = (
        1
        - 0.17 * np.cos(np.radians(h_mean - 30))
        + 0.24 * np.cos(np.radians(2 * h_mean))
        + 0.32 * np.cos(np.radians(3 * h_mean + 6))
        - 0.20 * np.cos(np.radians(4 * h_mean - 63))
    )
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / np.sqrt(20 + (l_mean - 50) ** 2)
    s_c, s_h = 1 + 0.045 * c_mean, 1 + 0.015 * c_mean * t
    r_t = (
        -np.sin(np.radians(60 * np.exp(-(((h_mean - 275) / 25) ** 2))))
        * 2
        * np.sqrt(c_mean**7 / (c_mean**7 + 25**7))
    )
    dl, dc, dh_ = (l2 - l1) / s_l, (c2 - c1) / s_c, big_dh / s_h
    return float(np.sqrt(dl**2 + dc**2 + dh_**2 + r_t * dc * dh_))


def test_colour_difference_by_hand():
    # black and white are 100 apart in lightness only, for every kind of vision
    for vision in (None, *_CVD):
        assert abs(_delta_e((0, 0, 0), (255, 255, 255), vision) - 100) < 0.1
    # Sharma, Wu & Dalal (2005), CIEDE2000 test data, pair 1
    assert abs(_delta_e_lab((50, 2.6772, -79.7751), (50, 0, -82.7485)) - 2.0425) < 1e-3
    # the old pair green #1a9641 / red #d7191c: far apart for normal vision, close (< 10) under
    # deuteranopia: the reason for the change
    assert _delta_e((26, 150, 65), (215, 25, 28)) > 60
    assert _delta_e((26, 150, 65), (215, 25, 28), "deuteranopie") < 10


def test_verdict_colours_stay_apart_for_colour_blind_readers():
    """Every pair of verdict colours differs by ΔE ≥ 15 (CIEDE2000) under deuteranopia, protanopia
    and tritanopia, and geschikt and ongeschikt differ in lightness by ≥ 10 L* under
    deuteranopia, so a map in grey or for a red-green colour-blind reader keeps the order."""
    colours = {v: engine_vocabulary.VERDICT_COLOURS[v][1] for v in engine_vocabulary.VERDICTS}
    for vision in (None, *_CVD):
        for i, a in enumerate(engine_vocabulary.VERDICTS):
            for b in engine_vocabulary.VERDICTS[i + 1 :]:
                assert _delta_e(colours[a], colours[b], vision) >= 15, (vision, a, b)
    m = _CVD["deuteranopie"]
    import numpy as np

    lightness = {v: _lab(np.array(m) @ _linear(c))[0] for v, c in colours.items()}
    assert lightness["ongeschikt"] - lightness["geschikt"] >= 10
    assert lightness["voorwaardelijk"] - lightness["ongeschikt"] >= 10


def test_map_colours_of_different_layer_kinds_stay_apart():
    """A facility marker or a constraint area never takes the colour of another kind of layer on
    the maps: every constraint colour differs by ΔE2000 ≥ 15 from each verdict colour and from the
    parks, employers, farms, odour, bebouwde kom, kernen and existing housing, every facility
    colour by ≥ 20 from all of those and the constraint colours (its markers lie among the sites
    and the employers' squares) and by ≥ 30 from the light areas it lies on; the colours within
    one kind differ as well. (Parks became
    #4d9221 with the colour-blind palette, which was the fourth facility colour.)"""

    def rgb(hex_colour):
        return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))

    vocabulary = engine_vocabulary
    others = {
        f"oordeel {verdict}": vocabulary.hex_colour(colour)
        for verdict, (_label, colour) in vocabulary.VERDICT_COLOURS.items()
        if verdict  # sites without geometry are not drawn
    }
    for name in ("park", "employer", "farm", "odour", "kom", "kern", "housing"):
        others[name] = vocabulary.MAP_COLOURS[name]
    facilities = {f"voorziening {i}": c for i, c in enumerate(vocabulary.FACILITY_COLOURS)}
    constraints = {f"beperking {i}": c for i, c in enumerate(vocabulary.CONSTRAINT_COLOURS)}
    assert "#4d9221" not in vocabulary.FACILITY_COLOURS  # the park colour, by hand
    too_close = []
    for own, foreign, least in (
        (facilities, {**others, **constraints}, 20),
        (constraints, others, 15),
    ):
        for name, colour in own.items():
            for other, other_colour in {**foreign, **own}.items():
                if other != name and _delta_e(rgb(colour), rgb(other_colour)) < least:
                    too_close.append((name, colour, other, other_colour))
    for name, colour in facilities.items():  # white-edged markers on the map's light areas
        for area in ("outside", "other_gemeente", "focus_fill", "bbg"):
            if _delta_e(rgb(colour), rgb(vocabulary.MAP_COLOURS[area])) < 30:
                too_close.append((name, colour, area, vocabulary.MAP_COLOURS[area]))
    assert not too_close
