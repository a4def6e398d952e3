"""A config's inputs read once: rule set, sites, reference layers and the road network.

Every job starts here — the scoring run (:mod:`scripts.runner.score`), the dask engine, the
planning analyses (raster, bedrijfslocatie) and the sensitivity analysis — so they read, check and
build the network the same way. GDAL's and Python's own warnings while reading become Dutch
warnings of the run (:class:`layers.io.messages.Messages`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import datetime as dt
import logging
from pathlib import Path
import time
from typing import Any

import geopandas as gpd

from locatietoets.analysis.network import DEFAULT_MODE
from locatietoets.analysis.pipeline import Inputs
from locatietoets.layers.io.inputs import load_inputs
from locatietoets.layers.io.messages import Messages
from locatietoets.layers.io.read import LayerReport
from locatietoets.layers.io.spec import Config

__all__ = ["NO_NETWORK_MODE", "PreparedRun", "prepare"]

log = logging.getLogger(__name__)

#: The travel mode of a run without a road network: the mode a ``[lagen.wegennet]`` without
#: ``modus`` gets (fiets). It sets which travel-time limit a site carries; no travel is computed.
NO_NETWORK_MODE = DEFAULT_MODE

Progress = Callable[[str, str, float], None]


@dataclass
class PreparedRun:
    """A config's inputs, read and validated, ready to be scored (once or many times).

    Attributes
    ----------
    config, ruleset
        The config and its effective rule set.
    original, sites
        The locaties layer as read (for merging results back) and normalised for the
        analyses; None when the site layer was not loaded.
    frames, reports
        The normalised reference layers and what reading each layer found.
    network, network_mode, network_summary
        The road network (:class:`analysis.network.RoadNetwork`) or None, its mode
        (:data:`NO_NETWORK_MODE` without one) and its Dutch summary.
    inputs
        :class:`analysis.pipeline.Inputs` for all sites (None without a site layer).
    notes
        Dutch warnings of the preparation itself (a network without employers).
    timings, started, t0, report, messages
        Seconds per step, start time (UTC and ``perf_counter``), the overall progress
        callback ``report(step, message, fraction)`` and the collected GDAL/Python messages.
    """

    config: Config
    ruleset: Any
    original: gpd.GeoDataFrame | None
    sites: gpd.GeoDataFrame | None
    frames: dict[str, gpd.GeoDataFrame]
    reports: dict[str, LayerReport]
    network: Any = None
    network_mode: str = NO_NETWORK_MODE
    network_summary: str | None = None
    inputs: Inputs | None = None
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    t0: float = field(default_factory=time.perf_counter)
    report: Progress = field(default=lambda step, message, fraction: None)
    messages: list[Messages] = field(default_factory=list)

    @property
    def config_source(self) -> Path | None:
        return self.config.source

    def inputs_for(self, sites: gpd.GeoDataFrame) -> Inputs:
        """:class:`analysis.pipeline.Inputs` for ``sites`` (grid cells, a block) with the loaded
        reference layers and network."""
        uses_network = _uses_network(self.frames)
        return Inputs.from_frames(sites, self.frames, self.network if uses_network else None)

    def layer_warnings(self) -> list[str]:
        """The warnings of reading the layers, as ``"<laag>: <waarschuwing>"``."""
        return [f"{name}: {w}" for name, r in self.reports.items() for w in r.warnings]

    def record(self) -> dict[str, Any]:
        """The inputs part of a planning record (config, rule set, input checksums, warnings)."""
        return {
            "configuratie": str(self.config.source) if self.config.source else None,
            "regelset": self.ruleset.record(),
            "invoer": {name: r.record() for name, r in self.reports.items()},
            "waarschuwingen": self.layer_warnings() + list(self.notes),
        }


def prepare(
    config: Config,
    *,
    progress: Progress | None = None,
    network_cache_dir: Path | None = None,
    load_site_layer: bool = True,
    network_without_employers: bool = False,
    share: float = 0.13,
) -> PreparedRun:
    """Read the rule set, the sites, the reference layers and the road network of ``config``.

    Parameters
    ----------
    config
        A validated config.
    progress
        ``progress(step_id, message, overall_fraction)``; the preparation reports fractions
        from 0 to ``share``.
    network_cache_dir
        Where prepared road networks are cached.
    load_site_layer
        Also read ``[lagen.locaties]`` (the raster over the gemeenten does not need it).
    network_without_employers
        Load ``[lagen.wegennet]`` also when the config has no werkgevers (the business-location
        check routes to the plan instead).
    share
        The part of the overall progress the preparation takes.

    Raises
    ------
    LocatietoetsError
        Every problem of rule set and layers at once; an unusable network.
    """

    def report(step: str, message: str, fraction: float) -> None:
        if progress is not None:
            progress(step, message, fraction)

    prepared = PreparedRun(
        config=config, ruleset=None, original=None, sites=None, frames={}, reports={}
    )
    prepared.report = report
    reading = Messages("het inlezen")  # GDAL's and Python's warnings become Dutch warnings
    with reading:
        _read(prepared, load_site_layer, network_without_employers, network_cache_dir, share)
    prepared.messages.append(reading)
    return prepared


def _uses_network(layers: Any) -> bool:
    """Whether the layers (names) include employers or a facility kind: the scoring run routes
    to them over the road network."""
    return "werkgevers" in layers or any(name.startswith("voorzieningen.") for name in layers)


def unused_facility_warnings(layers: Any, ruleset: Any) -> list[str]:
    """A Dutch warning per facility kind ``[lagen.voorzieningen.<soort>]`` in the config that
    no rule of the rule set (``voorziening.<soort>.ver`` / ``.onbereikbaar``) uses."""
    from locatietoets.analysis.verdict import facility_rule

    used = {parsed[0] for r in ruleset.rules if (parsed := facility_rule(r.id)) is not None}
    return [
        f"[lagen.voorzieningen.{kind}] is opgegeven, maar geen regel van regelset"
        f" '{ruleset.id}' gebruikt deze soort (regels voorziening.{kind}.ver en"
        f" voorziening.{kind}.onbereikbaar): de afstand wordt gemeten maar niet getoetst. Voeg"
        " die regels en de parameter"
        f" voorziening_{kind}_max_m toe aan de regelset of controleer de naam"
        for name in layers
        if name.startswith("voorzieningen.") and (kind := name.split(".", 1)[1]) not in used
    ]


def _read(
    prepared: PreparedRun,
    load_site_layer: bool,
    network_without_employers: bool,
    network_cache_dir: Path | None,
    share: float,
) -> None:
    config, report, timings = prepared.config, prepared.report, prepared.timings
    report("inlezen", "Regelset en lagen inlezen", 0.0)
    t = time.perf_counter()
    loaded = load_inputs(config, load_site_layer=load_site_layer)  # every problem at once
    prepared.ruleset, prepared.original, prepared.sites = (
        loaded.ruleset,
        loaded.original,
        loaded.sites,
    )
    prepared.frames, prepared.reports = loaded.frames, loaded.reports
    timings["inlezen"] = round(time.perf_counter() - t, 3)
    for note in unused_facility_warnings(config.layers, prepared.ruleset):
        log.warning(note)
        prepared.notes.append(note)
    spec = config.layer("wegennet")
    if spec is not None:
        if not _uses_network(config.layers) and not network_without_employers:
            note = (
                "[lagen.wegennet] is opgegeven zonder [lagen.werkgevers] en zonder"
                " [lagen.voorzieningen.<soort>]: het wegennet wordt niet gebruikt"
            )
            log.warning(note)
            prepared.notes.append(note)
        else:
            from locatietoets.layers.io.network import load_configured_network

            start = share * 3 / 13  # 0.03 of a scoring run
            report("wegennet", "Wegennet voorbereiden", start)
            t = time.perf_counter()
            network, prepared.reports["wegennet"] = load_configured_network(
                spec,
                prepared.ruleset,
                cache_dir=network_cache_dir,
                progress=lambda fr, msg="": report(
                    "wegennet", msg or "Wegennet voorbereiden", start + (share - start) * fr
                ),
            )
            prepared.network, prepared.network_mode = network, network.mode
            timings["wegennet"] = round(time.perf_counter() - t, 3)
            prepared.network_summary = network.summary()
            log.info(prepared.network_summary)
    if prepared.sites is not None:
        prepared.inputs = prepared.inputs_for(prepared.sites)
