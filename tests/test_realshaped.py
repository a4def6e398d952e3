"""The benchmark's real-shaped world (layers/worlds/realshaped.py): the shapes it promises."""

from __future__ import annotations

import numpy as np
import shapely

from locatietoets.layers.worlds.realshaped import realshaped_layers

BOX = (170_000.0, 310_000.0, 185_000.0, 325_000.0)


def _world(data):
    return realshaped_layers(
        BOX, n_sites=2000, n_kernen=200, n_farms=50, n_parks=5, n_employers=10, data=data
    )


def test_world_has_huge_bbg_multipolygons_with_holes_and_polygon_sites(shared_data):
    layers = _world(shared_data)
    bbg = np.asarray(layers["bebouwd_gebied"].geometry.values, dtype=object)
    # a few multipolygons (one per gemeente), together many vertices and holes
    assert len(bbg) <= len(layers["gemeenten"])
    assert set(shapely.get_type_id(bbg)) == {6}
    assert shapely.get_num_coordinates(bbg).max() > 500
    assert shapely.get_num_interior_rings(shapely.get_parts(bbg)).sum() > 0
    # the real gemeenten with their CBS codes
    assert layers["gemeenten"]["gemeentecode"].str.match(r"GM\d{4}$").all()
    sites = layers["locaties"].geometry
    share = (sites.geom_type == "Polygon").mean()
    assert 0.25 < share < 0.35
    assert sites.is_valid.all()
    # overlapping contours: contours of different farms overlap somewhere
    c = layers["geurcontouren"]
    outer = np.asarray(c[c["geur_oue"] == 3.0].geometry.values, dtype=object)
    left, right = shapely.STRtree(outer).query(outer, predicate="overlaps")
    assert (left != right).any()


def test_same_seed_same_world_and_synthetic_fallback(shared_data):
    a, b = _world(shared_data), _world(shared_data)
    for name in a:
        assert a[name].geometry.equals(b[name].geometry)
    synthetic = _world(None)
    assert len(synthetic["locaties"]) == 2000
    assert synthetic["gemeenten"]["gemeentecode"].str.startswith("GM99").all()
