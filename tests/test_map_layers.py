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
    # areas under boundaries under point layers; employers above the sites (zorder 9-10)
    assert max(z["bebouwd_gebied"], z["recreatieparken"], z["beperkingen."]) < z["gemeenten"]
    assert z["gemeenten"] + 1 < z["veehouderijen"] == z["voorzieningen."] < 9 < 10 < z["werkgevers"]
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
        "Kern (concentratie)",
        "Bestaande huisvesting",
        "Voorziening: bibliotheek",
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
