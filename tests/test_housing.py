"""Housing norms: persons per bedroom, m² per person, capacity and the binding norm."""

from __future__ import annotations

import numpy as np

from locatietoets.analysis.housing import housing_norms


def test_capacity_is_the_smallest_known_limit():
    out = housing_norms(
        np.array([4, 6, 2, 10, np.nan, 3, 5]),
        np.array([4, 3, 2, np.nan, 5, np.nan, 0]),
        np.array([80, 100, 20, 150, np.nan, np.nan, 45]),
        max_persons_per_bedroom=1.0,
        min_area_per_person_m2=15.0,
    )
    # 4 bedrooms / 80 m² -> min(4, 5) = 4 by bedrooms; 3 / 100 m² -> 3 by bedrooms;
    # 2 / 20 m² -> min(2, 1) = 1 by area; ? / 150 m² -> 10 by area; 5 bedrooms only -> 5;
    # nothing known -> the planned 3 persons; 0 bedrooms / 45 m² -> 0 by bedrooms
    np.testing.assert_array_equal(out["capaciteit_personen"], [4, 3, 1, 10, 5, 3, 0])
    assert out["capaciteit_norm"].tolist() == [
        "slaapkamers",
        "slaapkamers",
        "woonoppervlak",
        "woonoppervlak",
        "slaapkamers",
        "opgegeven personen (geen woonnorm toetsbaar)",
        "slaapkamers",
    ]
    np.testing.assert_allclose(out["personen_per_slaapkamer"][:3], [1.0, 2.0, 1.0])
    np.testing.assert_allclose(out["woonoppervlak_pp_m2"][:3], [20.0, 100 / 6, 10.0])


def test_exact_boundary_does_not_floor_down():
    out = housing_norms(
        np.array([3.0]),
        np.array([np.nan]),
        np.array([45.0]),
        max_persons_per_bedroom=1.0,
        min_area_per_person_m2=15.0,
    )
    assert out["capaciteit_personen"].iloc[0] == 3


def test_nothing_known_is_onbekend():
    out = housing_norms(
        np.array([np.nan]),
        np.array([np.nan]),
        np.array([np.nan]),
        max_persons_per_bedroom=1.0,
        min_area_per_person_m2=15.0,
    )
    assert np.isnan(out["capaciteit_personen"].iloc[0])
    assert out["capaciteit_norm"].iloc[0] == "onbekend"
