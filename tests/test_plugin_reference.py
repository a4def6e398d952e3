"""The reference layers of a run (referentie.gpkg) as the plugin names and draws them: the legend
names and colours are the engine maps' (one vocabulary)."""

from __future__ import annotations

import locatietoets.analysis.vocabulary as engine_vocabulary
import qgis_plugin.vocabulary as plugin_vocabulary


def test_reference_labels_name_declared_layers_by_their_kind():
    for vocabulary in (engine_vocabulary, plugin_vocabulary):
        label = vocabulary.reference_label
        assert label("beperkingen.natura_2000") == "Beperking: natura 2000"
        assert label("voorzieningen.ov_halte") == "Voorziening: ov halte"
        assert label("kernen") == "Kern (concentratie)"
        assert label("bestaande_huisvesting") == "Bestaande huisvesting"
        assert label("bebouwd_gebied") == "Bestaand bebouwd gebied (BBG)"
        assert label("iets_anders") == "iets anders"

