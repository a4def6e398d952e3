"""One scoring run, end to end: config → layers → analyses → outputs.

Used by the ``score`` and ``demo`` commands (and so by the QGIS plugin,
which runs the CLI as an external process).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
import datetime as dt
from importlib import metadata
import logging
from pathlib import Path
import platform
import time
from typing import Any

import geopandas as gpd

from analysis.errors import InputError
from analysis.pipeline import Inputs, RunResult, score_sites
from layers.config import Config
from layers.read import load_reference_layers, load_sites
from layers.rules import load_ruleset
from layers.write import merge_results, staged_output, write_csv, write_gpkg, write_json, write_reference

__all__ = ["PreparedRun", "RunOutcome", "finish_run", "prepare_run", "run_config", "tool_version"]

log = logging.getLogger(__name__)
_LIBRARIES = ("numpy", "pandas", "shapely", "pyproj", "pyogrio", "geopandas", "scipy", "networkx", "osmnx", "click", "rich")


def tool_version() -> str:
    """The installed version of the locatietoets package."""
    try:
        return metadata.version("locatietoets")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "0.1.0+bron"


def _library_versions() -> dict[str, str]:
    versions = {}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "niet geïnstalleerd"
    try:
        import pyogrio

        versions["gdal"] = pyogrio.__gdal_version_string__
    except Exception:  # pragma: no cover - informational only
        pass
    versions["python"] = platform.python_version()
    return versions


@dataclass
class RunOutcome:
    """What a finished run produced.

    Attributes
    ----------
    out_dir
        The output folder.
    result
        The pipeline result (per-site table, step record).
    record
        The run record as written to run.json.
    """

    out_dir: Path
    result: RunResult
    record: dict[str, Any]


def run_config(
    config: Config,
    out_dir: Path,
    *,
    progress: Callable[[str, str, float], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
    network_cache_dir: Path | None = None,
) -> RunOutcome:
    """Score all sites of ``config`` and write the outputs into ``out_dir``.

    Parameters
    ----------
    config
        A validated configuration.
    out_dir
        Output folder; created when missing. Existing outputs are replaced
        only when the run succeeds.
    progress
        ``progress(step_id, message, overall_fraction)``.
    is_cancelled
        Polled between steps.
    network_cache_dir
        Where prepared road networks are cached.
    """
    prepared = prepare_run(config, progress=progress, network_cache_dir=network_cache_dir)
    report = prepared.report

    def scaled(step: str, message: str, fraction: float) -> None:
        report(step, message, 0.13 + 0.8 * fraction)

    t = time.perf_counter()
    result = score_sites(prepared.inputs, prepared.ruleset, network_mode=prepared.network_mode, progress=scaled, is_cancelled=is_cancelled)
    prepared.timings["analyse"] = round(time.perf_counter() - t, 3)
    return finish_run(prepared, result, out_dir)


@dataclass
class PreparedRun:
    """A run whose inputs are read and validated, ready to be scored.

    Used by :func:`run_config` and by the distributed engine
    (:func:`scripts.distributed.run_config_dask`), so both read and write
    exactly the same way.
    """

    ruleset: Any
    original: gpd.GeoDataFrame
    inputs: Inputs
    frames: dict[str, gpd.GeoDataFrame]
    reports: dict[str, Any]
    network_summary: str | None
    network_mode: str
    timings: dict[str, float]
    started: dt.datetime
    t0: float
    report: Callable[[str, str, float], None]
    config_source: Path | None = None


def prepare_run(
    config: Config,
    *,
    progress: Callable[[str, str, float], None] | None = None,
    network_cache_dir: Path | None = None,
) -> PreparedRun:
    """Read the rule set, the sites, the reference layers and the road network of ``config``."""
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}

    def report(step: str, message: str, fraction: float) -> None:
        if progress is not None:
            progress(step, message, fraction)

    report("inlezen", "Configuratie en regelset laden", 0.0)
    ruleset = load_ruleset(config.rules)

    report("inlezen", "Locaties inlezen", 0.01)
    t = time.perf_counter()
    original, sites, site_report = load_sites(config.layers["locaties"])
    frames, reports = load_reference_layers(config)
    reports = {"locaties": site_report, **reports}
    timings["inlezen"] = round(time.perf_counter() - t, 3)

    network = None
    network_summary = None
    network_mode = "auto"
    spec = config.layer("wegennet")
    if spec is not None:
        network_mode = spec.get("modus", "auto")
        if config.layer("werkgevers") is None:
            log.warning("[lagen.wegennet] is opgegeven zonder [lagen.werkgevers]: reisafstand wordt niet berekend")
        else:
            from analysis.network import TravelSpeeds
            from layers.network import load_network
            from layers.read import LayerReport, file_sha256

            report("wegennet", "Wegennet voorbereiden", 0.03)
            t = time.perf_counter()
            speeds = TravelSpeeds(
                bike_kmh=float(ruleset.value("snelheid_fiets_kmh")),
                walk_kmh=float(ruleset.value("snelheid_lopen_kmh")),
            )
            if not spec.path.exists():
                raise InputError(
                    f"[lagen.wegennet] bestand '{spec.path}' bestaat niet. Controleer 'pad' in de configuratie."
                )
            network = load_network(
                spec,
                speeds=speeds,
                cache_dir=network_cache_dir,
                progress=lambda fr, msg="": report("wegennet", msg or "Wegennet voorbereiden", 0.03 + 0.1 * fr),
            )
            timings["wegennet"] = round(time.perf_counter() - t, 3)
            reports["wegennet"] = LayerReport(
                name="wegennet",
                path=str(spec.path),
                layer=spec.layer,
                sha256=file_sha256(spec.path) if spec.path.is_file() else "",
                modified=dt.datetime.fromtimestamp(spec.path.stat().st_mtime, tz=dt.timezone.utc).isoformat(timespec="seconds"),
                features=int(getattr(network, "n_edges", 0) or 0),
                source_crs="",
            )
            network_summary = network.summary()
            log.info(network_summary)

    inputs = Inputs(
        sites=sites,
        bbg=frames.get("bebouwd_gebied"),
        kom=frames.get("bebouwde_kom"),
        contours=frames.get("geurcontouren"),
        farms=frames.get("veehouderijen"),
        parks=frames.get("recreatieparken"),
        employers=frames.get("werkgevers"),
        gemeenten=frames.get("gemeenten"),
        network=network,
    )
    return PreparedRun(
        ruleset=ruleset,
        original=original,
        inputs=inputs,
        frames=frames,
        reports=reports,
        network_summary=network_summary,
        network_mode=network_mode,
        timings=timings,
        started=started,
        t0=t0,
        report=report,
        config_source=config.source,
    )


def finish_run(prepared: PreparedRun, result: RunResult, out_dir: Path) -> RunOutcome:
    """Merge the results with the input attributes and write all outputs into ``out_dir``."""
    report, timings, reports, frames = prepared.report, prepared.timings, prepared.reports, prepared.frames
    ruleset, original, sites = prepared.ruleset, prepared.original, prepared.inputs.sites
    network_summary, started, t0 = prepared.network_summary, prepared.started, prepared.t0
    report("schrijven", "Uitvoer wegschrijven", 0.94)
    t = time.perf_counter()
    merged, clashes = merge_results(original, result.results)
    warnings = [f"{name}: {w}" for name, r in reports.items() for w in r.warnings] + result.warnings
    if clashes:
        warnings.append("invoervelden met de naam van een resultaatveld hernoemd: " + ", ".join(clashes))
    record = {
        "locatietoets": {"versie": tool_version()},
        "configuratie": str(prepared.config_source) if prepared.config_source else None,
        "regelset": ruleset.record(),
        "invoer": {name: r.record() for name, r in reports.items()},
        "wegennet": network_summary,
        "niet_uitgevoerd": result.skipped,
        "stappen": result.steps,
        "tijden_s": timings,
        "telling": result.summary.get("telling", {}),
        "regels_gevuurd": result.summary.get("regels_gevuurd", {}),
        "regels_niet_getoetst": result.summary.get("regels_niet_getoetst", []),
        "waarschuwingen": warnings,
        "locaties": int(len(sites)),
        "bibliotheken": _library_versions(),
        "gestart": started.isoformat(timespec="seconds"),
    }
    with staged_output(out_dir) as stage:
        # the GeoPackages are written (by GDAL, mostly outside the GIL) while the CSV is formatted
        with ThreadPoolExecutor(max_workers=1) as pool:
            def write_geopackages() -> None:
                write_gpkg(merged, stage / "locaties.gpkg")
                if frames:
                    write_reference(frames, stage / "referentie.gpkg")

            geopackages = pool.submit(write_geopackages)
            try:
                write_csv(merged, stage / "locaties.csv")
            finally:
                geopackages.result()
        timings["schrijven"] = round(time.perf_counter() - t, 3)
        timings["totaal"] = round(time.perf_counter() - t0, 3)
        record["beeindigd"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        write_json(record, stage / "run.json")
    report("klaar", "Klaar", 1.0)
    return RunOutcome(out_dir=out_dir, result=result, record=record)
