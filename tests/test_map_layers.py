"""The maps' reference layers are one table (layers/publish/map_layers.py MAP_LAYERS): drawing
and legend come from it, and every layer a run has is in the legend of every map (issue 18)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_report_dutch import _full_world

from locatietoets.analysis.vocabulary import MAP_COLOURS, reference_label
from locatietoets.layers.io.config import load_config
from locatietoets.layers.publish.map_layers import MAP_LAYERS, ROAD_CLASSES_DRAWN
from locatietoets.layers.publish.maps import iter_maps, plan_maps
from locatietoets.layers.publish.runfolder import ROAD_CLASSES, read_run
from locatietoets.scripts.runner.score import run_config


def test_the_table_covers_every_road_class_and_named_layer():
    assert ROAD_CLASSES_DRAWN == tuple(ROAD_CLASSES)
    sources = [row.source for row in MAP_LAYERS]
    assert len(set(sources)) == len(sources)
    for name in (
        "bebouwd_gebied",
        "bebouwde_kom",
        "geurcontouren",
        "recreatieparken",
        "veehouderijen",
        "werkgevers",
        "gemeenten",
        "kernen",
        "bestaande_huisvesting",
    ):
        assert name in sources, name
    assert {"beperkingen.", "voorzieningen."} <= set(sources)
    z = {row.source: row.zorder for row in MAP_LAYERS}
    # areas under boundaries under farms under the sites (zorder 9-10); employers, existing
    # housing and facilities above the sites (dense site dots hid them), labels (14) above all
    assert max(z["bebouwd_gebied"], z["recreatieparken"], z["beperkingen."]) < z["gemeenten"]
    assert z["gemeenten"] + 1 < z["veehouderijen"] < 9 < 10 < z["werkgevers"]
    assert 10 < z["bestaande_huisvesting"] == z["voorzieningen."] < 14
    # drawn over the sites: a dark outline with a white halo, readable on every verdict colour
    for source in ("bestaande_huisvesting", "voorzieningen."):
        look = next(r.look for r in MAP_LAYERS if r.source == source)
        assert look.halo and look.edgecolor != "white", source
    park = next(r for r in MAP_LAYERS if r.source == "recreatieparken")
    assert park.colours == (MAP_COLOURS["park"],) and park.look.hatch


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("kaartlagen")
    run_config(load_config(_full_world(root)), root / "uitvoer", network_cache_dir=root / "cache")
    return read_run(Path(root / "uitvoer"), stay_type="short_stay")


def _legend_texts(fig) -> list[str]:
    legend = next(ax.get_legend() for ax in fig.axes if ax.get_legend() is not None)
    return [t.get_text() for t in legend.get_texts()]


def test_every_map_lists_every_layer_of_the_run_in_table_order(full_run):
    expected = [
        "Bestaand bebouwd gebied (BBG)",
        "Bebouwde kom (geurregels)",
        "Regionale weg",
        "Lokale weg",
        "Recreatiepark",
        "Beperking: bedrijventerreinen",
        "Beperking: externe veiligheid",
        "Beperking: geluid",
        "Beperking: Natura 2000",
        "Beperking: natuurnetwerk (Goudgroene natuurzone)",
        "Beperking: plaatsgebonden risico 10⁻⁶",
        "Kern (concentratie)",
        "Bestaande huisvesting",
        "Voorziening: bibliotheek",
        "Voorziening: huisarts",
        "Voorziening: ov-halte",
        "Voorziening: supermarkt",
        "Gemeentegrens",
        "Veehouderij",
        "Werkgever",
    ]
    assert expected[5] == reference_label("beperkingen.bedrijventerreinen")
    specs = plan_maps(full_run, per="gemeente", stay_type="short_stay")
    assert len(specs) == 3
    for spec, fig in iter_maps(full_run, specs, stay_type="short_stay"):
        texts = _legend_texts(fig)
        start = texts.index("Ruimtelijke lagen") + 1
        end = texts.index("Geurcontour (OUe/m³)")
        assert texts[start:end] == expected, spec.name
        assert texts[end + 1].startswith("≥ ") and texts[-1].endswith("OUe/m³")


def test_housing_and_facilities_lie_on_top_of_the_sites_and_ongeschikt_on_top_of_the_verdicts(
    full_run,
):
    from matplotlib.colors import to_hex

    from locatietoets.analysis.vocabulary import VERDICT_COLOURS

    verdict_of = {"#%02x%02x%02x" % rgb: v for v, (_, rgb) in VERDICT_COLOURS.items()}
    specs = plan_maps(full_run, per="gemeente", stay_type="short_stay")
    overview = next(s for s in specs if s.scope == "overzicht")
    for _, fig in iter_maps(full_run, [overview], stay_type="short_stay"):
        ax = fig.axes[0]  # the map (the figure is cleared after the loop)
        drawn = sorted(enumerate(ax.collections), key=lambda kc: (kc[1].get_zorder(), kc[0]))
        order = []  # (kind, has halo) bottom to top
        for _, coll in drawn:
            faces = {to_hex(c) for c in coll.get_facecolors()}
            if len(faces) != 1 or not len(coll.get_offsets()):
                continue
            face = faces.pop()
            if face in verdict_of and coll.get_zorder() in (9, 10):
                order.append((verdict_of[face], coll.get_zorder()))
            elif face == to_hex(MAP_COLOURS["housing"]):
                order.append(("huisvesting", bool(coll.get_path_effects())))
    kinds = [k for k, _ in order]
    assert "huisvesting" in kinds and "ongeschikt" in kinds, kinds
    top_site = max(i for i, (k, _) in enumerate(order) if k != "huisvesting")
    assert all(i > top_site and halo for i, (k, halo) in enumerate(order) if k == "huisvesting")
    # within each stacking level (around the focus area, in it) ongeschikt is drawn last
    for z in (9, 10):
        level = [k for k, zz in order if k != "huisvesting" and zz == z]
        if level:
            assert level[-1] == "ongeschikt", level
