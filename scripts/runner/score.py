"""One scoring run, end to end: config → layers → analyses → outputs.

Used by the ``score`` and ``demo`` commands (and so by the QGIS plugin,
which runs the CLI as an external process).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
import datetime as dt
from importlib import metadata
import logging
from pathlib import Path
import platform
import threading
import time
from typing import Any

import numpy as np
import pandas as pd

from locatietoets.analysis.pipeline import RunResult, score_sites
from locatietoets.analysis.vocabulary import nl_number
from locatietoets.layers.io.config import Config
from locatietoets.layers.io.messages import Messages
from locatietoets.layers.io.write import (
    CsvStream,
    GeoParquetStream,
    GpkgStream,
    geometry_kind,
    merge_results,
    staged_output,
    write_csv,
    write_geoparquet,
    write_gpkg,
    write_json,
    write_reference,
)
from locatietoets.scripts.runner.prepare import PreparedRun, prepare

__all__ = [
    "DEFAULT_BLOCK_SIZE",
    "RunOutcome",
    "finish_run",
    "release_memory",
    "run_blocks",
    "run_config",
    "run_streamed",
    "score_blocks_locally",
    "tool_version",
]

#: Sites per block of the chunked engine: runs with more sites are scored and written block by
#: block. Measured on the 1,000,000-site benchmark world (3-12-2026, quiet 2-core machine, same
#: hour): blocks of 50,000 took 50.8 s at 1.44 GiB peak, of 100,000 58.8 s at 1.81 GiB, of
#: 25,000 63.3 s at 1.24 GiB (what a block derives from the reference layers is built once per
#: run, so smaller blocks cost little; the scoring of one block is most of the peak).
DEFAULT_BLOCK_SIZE = 50_000

log = logging.getLogger(__name__)
_LIBRARIES = (
    "numpy",
    "pandas",
    "shapely",
    "pyproj",
    "pyogrio",
    "geopandas",
    "scipy",
    "networkx",
    "osmnx",
    "click",
    "rich",
)


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
        The pipeline result (per-site table, step record). A run scored in
        blocks (:func:`run_blocks`) never holds all rows: its ``results``
        table is empty (with the result columns); read ``locaties.csv``.
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
    block_size: int | None = None,
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
    block_size
        With more sites than this, the sites are scored and written in blocks
        of this many (:func:`run_blocks`: bounded memory, the same outputs);
        a site layer GDAL reads by row range is then also read block by block
        (:func:`run_streamed`). Default :data:`DEFAULT_BLOCK_SIZE`; 0 scores
        all sites at once.
    """
    size = DEFAULT_BLOCK_SIZE if block_size is None else int(block_size)
    if size > 0:
        from locatietoets.scripts.runner.stream import streamable_count

        n = streamable_count(config.layer("locaties"))
        if n is not None and n > size:
            return run_streamed(
                config,
                out_dir,
                n=n,
                block_size=size,
                progress=progress,
                is_cancelled=is_cancelled,
                network_cache_dir=network_cache_dir,
            )
    prepared = prepare(config, progress=progress, network_cache_dir=network_cache_dir)
    if size > 0 and len(prepared.inputs.sites) > size:
        return run_blocks(prepared, out_dir, block_size=size, is_cancelled=is_cancelled)
    report = prepared.report

    def scaled(step: str, message: str, fraction: float) -> None:
        report(step, message, 0.13 + 0.8 * fraction)

    t = time.perf_counter()
    analysis = Messages("de analyse en het wegschrijven")
    prepared.messages.append(analysis)
    with analysis:
        result = score_sites(
            prepared.inputs,
            prepared.ruleset,
            network_mode=prepared.network_mode,
            progress=scaled,
            is_cancelled=is_cancelled,
        )
        prepared.timings["analyse"] = round(time.perf_counter() - t, 3)
        return finish_run(prepared, result, out_dir)


def _run_record(
    prepared: PreparedRun, result: RunResult, clashes: list[str], n_sites: int | None = None
) -> dict[str, Any]:
    """The run record (run.json) without its end time (``n_sites``: of a run read in blocks)."""
    reports = prepared.reports
    warnings = prepared.layer_warnings() + list(prepared.notes) + result.warnings
    warnings += list(dict.fromkeys(w for m in prepared.messages for w in m.warnings()))
    if clashes:
        warnings.append(
            "invoervelden met de naam van een resultaatveld hernoemd: " + ", ".join(clashes)
        )
    ruleset, timings = prepared.ruleset, prepared.timings
    if n_sites is None:
        n_sites = len(prepared.inputs.sites)
    network_summary, started = prepared.network_summary, prepared.started
    return {
        "locatietoets": {"versie": tool_version()},
        "configuratie": str(prepared.config_source) if prepared.config_source else None,
        "regelset": ruleset.record(),
        "invoer": {name: r.record() for name, r in reports.items()},
        "wegennet": network_summary,
        "niet_uitgevoerd": result.skipped,
        "stappen": result.steps,
        "tijden_s": timings,
        "telling": result.summary.get("telling", {}),
        "telling_eigen_verblijfstype": result.summary.get("telling_eigen_verblijfstype", {}),
        "regels_gevuurd": result.summary.get("regels_gevuurd", {}),
        "regels_niet_getoetst": result.summary.get("regels_niet_getoetst", []),
        "waarschuwingen": warnings,
        "locaties": int(n_sites),
        "bibliotheken": _library_versions(),
        "gestart": started.isoformat(timespec="seconds"),
    }


def finish_run(prepared: PreparedRun, result: RunResult, out_dir: Path) -> RunOutcome:
    """Merge the results with the input attributes and write all outputs into ``out_dir``."""
    report, timings, frames = prepared.report, prepared.timings, prepared.frames
    original, t0 = prepared.original, prepared.t0
    report("schrijven", "Uitvoer wegschrijven", 0.94)
    t = time.perf_counter()
    merged, clashes = merge_results(original, result.results)
    record = _run_record(prepared, result, clashes)
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
                if prepared.config.geoparquet:
                    write_geoparquet(merged, stage / "locaties.parquet")
            finally:
                geopackages.result()
        timings["schrijven"] = round(time.perf_counter() - t, 3)
        timings["totaal"] = round(time.perf_counter() - t0, 3)
        record["beeindigd"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        write_json(record, stage / "run.json")
    _remove_stale_outputs(prepared, out_dir)
    report("klaar", "Klaar", 1.0)
    return RunOutcome(out_dir=out_dir, result=result, record=record)


def run_blocks(
    prepared: PreparedRun,
    out_dir: Path,
    *,
    block_size: int = DEFAULT_BLOCK_SIZE,
    is_cancelled: Callable[[], bool] | None = None,
) -> RunOutcome:
    """Score the sites in blocks of ``block_size`` and stream each block's output to disk.

    Every block runs :func:`~analysis.pipeline.score_sites` with the same
    reference layers and road network; its rows are merged with the input
    attributes and appended to ``locaties.gpkg`` and ``locaties.csv`` in the
    staging folder, so no more than one block of result rows and reason
    texts is held at a time. What a block cannot see on its own is settled
    for the whole run before scoring (:mod:`scripts.runner.partitions`: the
    travel-time limit, whether any site has an own employer or persons, the
    layer's geometry type), so every block has the columns of the final
    table, and the step records and rule counts are combined afterwards.
    The outputs equal those of scoring all sites at once: ``locaties.csv``
    byte for byte, the same ``locaties`` layer and run record (timings apart).

    An input column with the name of a result field is kept as
    ``<naam>_invoer`` in every block (:func:`~layers.io.write.merge_results`).
    """
    from locatietoets.scripts.runner.partitions import max_travel_minutes, run_wide_flags

    inputs, ruleset, original = prepared.inputs, prepared.ruleset, prepared.original
    sites = inputs.sites
    n = len(sites)
    starts = list(range(0, n, block_size))
    t = time.perf_counter()
    run_wide = run_wide_flags(sites)
    max_minutes = max_travel_minutes(inputs, ruleset, prepared.network_mode, block_size)
    geometry_type, _ = geometry_kind(original.geometry.to_numpy())

    def block_at(k: int) -> tuple[Any, Any]:
        a = starts[k]
        b = min(a + block_size, n)
        return original.iloc[a:b], sites.iloc[a:b].reset_index(drop=True)

    log.info(
        "%s locaties in %s blokken van ten hoogste %s",
        nl_number(n),
        nl_number(len(starts)),
        nl_number(block_size),
    )
    analysis = Messages("de analyse en het wegschrijven")
    prepared.messages.append(analysis)
    with analysis:
        scored = score_blocks_locally(
            prepared, len(starts), block_at, inputs, run_wide, max_minutes, is_cancelled
        )
        return _write_blocks(prepared, out_dir, len(starts), scored, geometry_type, t)


def run_streamed(
    config: Config,
    out_dir: Path,
    *,
    n: int,
    block_size: int = DEFAULT_BLOCK_SIZE,
    progress: Callable[[str, str, float], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
    network_cache_dir: Path | None = None,
    score_blocks: Callable[..., Iterator[tuple[Any, RunResult]]] | None = None,
) -> RunOutcome:
    """Like :func:`run_blocks`, with the ``n`` sites also read from file block by block.

    The reference layers and the road network are read once; the site layer
    is read twice, one block of rows at a time (:mod:`scripts.runner.stream`):
    a first pass checks it and settles the run-wide values, the second scores
    and writes. No more than one block of sites is held at a time, so the
    memory a run needs does not grow with the number of sites. The outputs
    equal those of :func:`run_config` with all sites read at once.

    ``score_blocks`` scores the blocks (default :func:`score_blocks_locally`;
    the dask engine passes its own, with the same arguments).
    """
    from locatietoets.scripts.runner.partitions import part_max_minutes
    from locatietoets.scripts.runner.stream import SiteBlocks

    prepared = prepare(
        config, progress=progress, network_cache_dir=network_cache_dir, load_site_layer=False
    )
    ruleset, mode = prepared.ruleset, prepared.network_mode
    blocks = SiteBlocks(config.layer("locaties"), n, block_size)
    reference = prepared.inputs_for(None)
    name = f"reistijd_max_{mode}_min"
    per_gemeente = any(name in table for table in ruleset.gemeenten.values())
    travels = reference.employers is not None and reference.network is not None
    if travels and score_blocks is None:
        # what travel builds once per run is built while the sites are read (blocks wait for it)
        from locatietoets.analysis.travel import warm_up

        threading.Thread(
            target=warm_up,
            args=(reference.employers, reference.network),
            kwargs={
                "max_snap_m": float(ruleset.value("max_aansluitafstand_m")),
                "max_minutes": None if per_gemeente else float(ruleset.value(name)),
                "polygons": blocks.may_hold_polygons(),
            },
            name="reis-voorbereiden",
            daemon=True,
        ).start()
    t = time.perf_counter()
    reading = Messages("het inlezen van de locaties")
    with reading:
        survey = blocks.survey(
            (lambda s: part_max_minutes(s, reference, ruleset, mode))
            if travels and per_gemeente
            else None,
            progress=lambda k, total: prepared.report(
                "inlezen",
                f"Locaties controleren: blok {k + 1} van {total}",
                0.12 + 0.01 * k / total,
            ),
        )
    prepared.messages.append(reading)
    prepared.timings["inlezen"] = round(
        prepared.timings.get("inlezen", 0.0) + time.perf_counter() - t, 3
    )
    prepared.reports = {"locaties": survey.report, **prepared.reports}
    max_minutes = None
    if travels:
        max_minutes = (
            float(np.nanmax(survey.block_maxima)) if per_gemeente else float(ruleset.value(name))
        )
    log.info(
        "%s locaties in %s blokken van ten hoogste %s, per blok gelezen",
        nl_number(n),
        nl_number(len(blocks.starts)),
        nl_number(block_size),
    )
    t = time.perf_counter()
    analysis = Messages("de analyse en het wegschrijven")
    prepared.messages.append(analysis)
    with analysis:
        scored = (score_blocks or score_blocks_locally)(
            prepared,
            len(blocks.starts),
            blocks.block,
            reference,
            survey.run_wide,
            max_minutes,
            is_cancelled,
        )
        return _write_blocks(
            prepared,
            out_dir,
            len(blocks.starts),
            scored,
            survey.geometry_type,
            t,
            scored_here=score_blocks is None,
        )


def score_blocks_locally(
    prepared: PreparedRun,
    n_blocks: int,
    block_at: Callable[[int], tuple[Any, Any]],
    reference: Any,
    run_wide: dict[str, bool],
    max_minutes: float | None,
    is_cancelled: Callable[[], bool] | None,
) -> Iterator[tuple[Any, RunResult]]:
    """Score the blocks ``block_at(k)`` = (input attributes, normalised sites) one after the other
    in this process; yields (input attributes, result) per block, in order.

    The dask engine has its own (:func:`scripts.runner.distributed.score_blocks_dask`).
    """
    report = prepared.report
    for k in range(n_blocks):

        def scaled(step: str, message: str, fraction: float, k: int = k) -> None:
            report(
                step,
                f"Blok {k + 1} van {n_blocks}: {message}",
                0.13 + 0.8 * (k + 0.9 * fraction) / n_blocks,
            )

        block_original, block_sites = block_at(k)
        block = replace(reference, sites=block_sites)
        del block_sites
        result = score_sites(
            block,
            prepared.ruleset,
            network_mode=prepared.network_mode,
            travel_max_minutes=max_minutes,
            progress=scaled,
            is_cancelled=is_cancelled,
            **run_wide,
        )
        del block
        yield block_original, result
        del block_original, result  # before the next block is read


def _write_blocks(
    prepared: PreparedRun,
    out_dir: Path,
    n_blocks: int,
    scored: Iterator[tuple[Any, RunResult]],
    geometry_type: str,
    t: float,
    *,
    scored_here: bool = True,
) -> RunOutcome:
    """Write the scored blocks (input attributes, result), in order, as one run's outputs.

    GDAL writes the GeoPackage in a writer process while this process scores the blocks
    (``scored_here``; in a thread it would hold the GIL and stall the scoring), in a thread
    when they are scored elsewhere (dask workers): this process then only reads, sends and
    writes, and a process of its own would add its libraries and page cache to the run's
    memory (~0.2 GiB; 10,000,000 sites with dask on one machine: 2.22 GiB in all)."""
    from locatietoets.scripts.runner.partitions import combine_records, facility_distances

    report, timings, frames = prepared.report, prepared.timings, prepared.frames
    ruleset = prepared.ruleset
    parts: list[RunResult] = []
    travel_times: list[np.ndarray] = []
    distances: list[dict[str, np.ndarray]] = []
    clashes: list[str] = []
    columns: list[str] | None = None
    result_columns: list[str] = []
    writing = 0.0
    n_sites = 0
    with staged_output(out_dir) as stage:
        gpkg = GpkgStream(
            stage / "locaties.gpkg",
            geometry_type=geometry_type,
            process=scored_here and n_blocks > 1,
        )
        csv = CsvStream(stage / "locaties.csv")
        parquet = (
            GeoParquetStream(stage / "locaties.parquet", geometry_type=geometry_type)
            if prepared.config.geoparquet
            else None
        )
        try:
            # not enumerate(scored): it keeps the previous block in its reused result tuple
            # while the next block is scored
            k = -1
            for block_original, result in scored:
                k += 1
                n_sites += len(result.results)
                report(
                    "schrijven",
                    f"Blok {k + 1} van {n_blocks} wegschrijven",
                    0.13 + 0.8 * (k + 0.9) / n_blocks,
                )
                w = time.perf_counter()
                merged, block_clashes = merge_results(block_original, result.results)
                del block_original
                if columns is None:
                    columns, clashes, result_columns = (
                        list(merged.columns),
                        block_clashes,
                        list(result.results.columns),
                    )
                elif (
                    list(merged.columns) != columns
                ):  # pragma: no cover - the run-wide flags prevent this
                    raise RuntimeError(
                        f"blok {k + 1} heeft andere velden dan blok 1:"
                        f" {sorted(set(merged.columns) ^ set(columns))}"
                    )
                if "werkgever_reistijd_min" in result.results:
                    # a copy: a view would keep the block's whole float block alive
                    travel_times.append(
                        result.results["werkgever_reistijd_min"].to_numpy(dtype=float, copy=True)
                    )
                distances.append(facility_distances(result.results))
                parts.append(replace(result, results=pd.DataFrame()))
                del result
                # GDAL writes the block into the GeoPackage and the CSV is formatted (writer
                # threads) while the next block is scored; no more than one block waits for each
                if k:
                    gpkg.wait()
                    csv.wait()
                table = gpkg.put(merged)
                csv.put(merged)
                if parquet is not None:
                    parquet.put(merged, table)
                del merged, table
                release_memory()
                writing += time.perf_counter() - w
            w = time.perf_counter()
            csv.close()
            gpkg.close()
            if parquet is not None:
                parquet.close()
            writing += time.perf_counter() - w
        except BaseException:
            csv.abort()
            gpkg.abort()
            if parquet is not None:
                parquet.abort()
            raise
        timings["analyse"] = round(time.perf_counter() - t - writing, 3)
        report("schrijven", "Uitvoer afronden", 0.94)
        w = time.perf_counter()
        if frames:
            write_reference(frames, stage / "referentie.gpkg")
        combined = combine_records(
            parts,
            ruleset,
            np.concatenate(travel_times) if travel_times else None,
            {k: np.concatenate([d[k] for d in distances if k in d]) for k in distances[0]}
            if distances
            else None,
        )
        result = replace(combined, results=pd.DataFrame(columns=result_columns))
        record = _run_record(prepared, result, clashes, n_sites)
        timings["schrijven"] = round(writing + time.perf_counter() - w, 3)
        timings["totaal"] = round(time.perf_counter() - prepared.t0, 3)
        record["beeindigd"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        write_json(record, stage / "run.json")
    _remove_stale_outputs(prepared, out_dir)
    report("klaar", "Klaar", 1.0)
    return RunOutcome(out_dir=out_dir, result=result, record=record)


def _remove_stale_outputs(prepared: PreparedRun, out_dir: Path) -> None:
    """Remove a ``locaties.parquet`` or ``referentie.gpkg`` of an earlier run that this run did
    not write (they would not match the new outputs: maps and the plugin's atlas would draw the
    old reference layers); called once the new outputs are in place."""
    if not prepared.config.geoparquet:
        (Path(out_dir) / "locaties.parquet").unlink(missing_ok=True)
    if not prepared.frames:
        (Path(out_dir) / "referentie.gpkg").unlink(missing_ok=True)


def release_memory() -> None:
    """Give the memory freed by a block back to the system (Arrow's pool and glibc keep it
    otherwise)."""
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except Exception:  # pragma: no cover - informational only
        pass
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except Exception:  # pragma: no cover - not glibc
        pass
