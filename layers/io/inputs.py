"""Read everything a config names — rule set and layers — reporting every problem at once.

The one place where a config is turned into a rule set and GeoDataFrames; every job reaches it
through :func:`scripts.runner.prepare.prepare`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd

from locatietoets.analysis.errors import InputError, LocatietoetsError, combine_errors
from locatietoets.layers.io.read import (
    LayerReport,
    check_inputs,
    load_reference_layers,
    load_sites,
    readable_part,
)
from locatietoets.layers.io.rules import check_gemeente_keys, load_ruleset
from locatietoets.layers.io.spec import Config

__all__ = ["ConfigInputs", "load_inputs"]


@dataclass
class ConfigInputs:
    """The rule set and the layers of a config, read and normalised (EPSG:28992)."""

    ruleset: Any
    original: gpd.GeoDataFrame | None  # the sites as read (for merging results back)
    sites: gpd.GeoDataFrame | None  # the sites normalised for the analyses
    frames: Any  # the reference layers (layers.io.read.ReferenceLayers)
    reports: dict[str, LayerReport]  # per layer: counts and warnings


def load_inputs(config: Config, *, load_site_layer: bool = True) -> ConfigInputs:
    """Load the rule set, the sites and the reference layers of ``config``.

    Every problem — rule set, missing files or fields of any layer (checked
    before any data is read), unusable data, per-gemeente keys that name no
    gemeente — is collected and raised together.

    Raises
    ------
    LocatietoetsError
        All problems found, in one error.
    """
    errors: list[LocatietoetsError] = []
    ruleset = None
    try:
        ruleset = load_ruleset(config.rules)
    except LocatietoetsError as exc:
        errors.append(exc)
    bad = check_inputs(config)  # missing or unreadable files, missing fields: before reading any
    if bad:
        errors.append(InputError([p for problems in bad.values() for p in problems]))
    readable = readable_part(config, bad)
    original = sites = None
    reports: dict[str, LayerReport] = {}
    if load_site_layer and "locaties" in readable.layers:
        try:
            original, sites, reports["locaties"] = load_sites(readable.layers["locaties"])
        except InputError as exc:
            errors.append(exc)
    frames = None
    try:
        frames, ref_reports = load_reference_layers(readable)
    except InputError as exc:
        errors.append(exc)
    bad_keys = check_gemeente_keys(
        ruleset, frames, gemeenten_configured=config.layer("gemeenten") is not None
    )
    if bad_keys is not None:
        errors.append(bad_keys)
    if errors:
        raise combine_errors(errors)
    reports.update(ref_reports)
    return ConfigInputs(ruleset, original, sites, frames, reports)
