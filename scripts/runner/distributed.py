"""Scale-out engine: the same analyses, partitioned with dask-geopandas on dask.distributed.

``locatietoets score CONFIG --engine dask [--scheduler ADDRESS]`` reads and
validates the inputs exactly like the single-process engine
(:func:`scripts.runner.prepare.prepare`), splits the sites into partitions with
dask-geopandas, and runs :func:`analysis.pipeline.score_sites` on every
partition on the workers of a dask.distributed cluster — a
:class:`~distributed.LocalCluster` of worker processes by default, or an
existing scheduler. The rule set, the reference layers and the prepared road
network are scattered to every worker once (``broadcast=True``) and shared by
all partitions on that worker; they are not re-sent per partition. The
per-partition results are put back in site order and written by
:func:`scripts.runner.score.finish_run`, so the outputs equal those of
:func:`scripts.runner.score.run_config` on the same input.

Every analysis is per site, with two run-wide values that a partition cannot
see on its own; both are settled on the client:

* the travel-time limit for ``werkgevers_bereikbaar`` is the largest per-site
  maximum over *all* sites (a first, cheap pass over the partitions when
  gemeenten override it);
* whether any site has an own employer or a number of persons (a partition
  in which none has would drop those fields): every partition is told the
  run-wide answer; fields a partition still lacks are restored with their
  empty values, and rule counts and "not tested" lists are combined over
  partitions (:mod:`scripts.runner.partitions`, shared with the chunked engine).

Workers on other machines need this package (same version) installed and the
input files are read on the client only; workers never open a file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
import logging
import math
from pathlib import Path
import time
from typing import Any
import uuid

import numpy as np
import pandas as pd

from locatietoets.analysis.pipeline import (
    Inputs,
    RunResult,
    order_result_columns,
    score_sites,
)
from locatietoets.analysis.vocabulary import nl_number
from locatietoets.layers.io.config import Config
from locatietoets.scripts.runner.partitions import (
    combine_records,
    empty_like,
    facility_distances,
    part_max_minutes,
    run_wide_flags,
)
from locatietoets.scripts.runner.prepare import prepare
from locatietoets.scripts.runner.score import RunOutcome, finish_run

__all__ = [
    "run_config_dask",
    "score_blocks_dask",
    "score_sites_dask",
    "require_dask",
    "DEFAULT_PARTITION_SITES",
    "DEFAULT_DASK_BLOCK_SIZE",
]

log = logging.getLogger(__name__)

#: Largest number of sites per partition (bounds a worker's memory).
DEFAULT_PARTITION_SITES = 500_000


#: Sites per block when a large site layer is read block by block and ``--blok`` is not given:
#: two fifths of the single-process default (:data:`scripts.runner.score.DEFAULT_BLOCK_SIZE`). On
#: one machine the client (reading, writing one block) and the worker (scoring one block) each
#: hold a block's transient memory beside their own copy of the libraries and, in the worker, what
#: the run derives from the reference layers (~0.6 GiB), so blocks of 50,000 took the run over
#: 2 GiB summed over the processes (1,000,000 sites, ``--werkers 1``: 2.37 GiB). 25,000 kept
#: 1,000,000 sites within it but not 10,000,000 (2.00 GiB with the GeoPackage written in the
#: client); 20,000: 1,000,000 sites 1.78 -> 1.68 GiB (see README "Landelijke run"), same outputs.
DEFAULT_DASK_BLOCK_SIZE = 20_000


#: The optional packages of the dask engine (``pip install "locatietoets[dask]"``).
DASK_PACKAGES = ("dask", "distributed", "dask_geopandas")


def require_dask() -> None:
    """Raise a Dutch :class:`~analysis.errors.ConfigError` when the dask engine's packages are
    missing.

    dask, distributed and dask-geopandas are an optional extra of the package
    (``[project.optional-dependencies] dask``); the single-process engine
    needs none of them.
    """
    import importlib

    from locatietoets.analysis.errors import ConfigError

    missing = []
    for name in DASK_PACKAGES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name.replace("_", "-"))
    if missing:
        raise ConfigError(
            "De rekenmotor 'dask' (--engine dask) heeft de pakketten dask, distributed en "
            f"dask-geopandas nodig, maar {', '.join(missing)} ontbreekt in deze Python-omgeving. "
            'Installeer ze met: pip install "locatietoets[dask]" '
            "(of gebruik de standaardrekenmotor: --engine lokaal)."
        )


@dataclass
class _Shared:
    """What every partition needs besides its sites; scattered once to every worker."""

    reference: Inputs  # sites=None
    ruleset: Any
    network_mode: str
    run_wide: dict[str, bool]


def run_config_dask(
    config: Config,
    out_dir: Path,
    *,
    scheduler: str | None = None,
    n_workers: int = 2,
    progress: Callable[[str, str, float], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
    network_cache_dir: Path | None = None,
    npartitions: int | None = None,
    block_size: int | None = None,
) -> RunOutcome:
    """Like :func:`scripts.runner.score.run_config`, with the analyses on a dask cluster.

    Parameters
    ----------
    config
        A validated configuration.
    out_dir
        Output folder (same files as :func:`~scripts.runner.score.run_config`).
    scheduler
        Address of a running dask scheduler (``tcp://host:8786``); ``None``
        starts a local cluster of ``n_workers`` worker processes for this run.
    n_workers
        Worker processes of the local cluster (one thread each).
    progress
        ``progress(step_id, message, overall_fraction)``.
    is_cancelled
        Polled while partitions run; True stops the run with
        :class:`~analysis.errors.CancelledError` and writes nothing.
    network_cache_dir
        Where prepared road networks are cached.
    npartitions
        Number of partitions; default one per worker thread, more when a
        partition would exceed :data:`DEFAULT_PARTITION_SITES` sites.
    block_size
        With more sites than this in a site layer GDAL reads by row range, the
        client reads the sites block by block (:func:`scripts.runner.score.run_streamed`),
        the workers score the blocks (:func:`score_blocks_dask`) and the client
        writes them in order: memory bounded however many sites. Default
        :data:`DEFAULT_DASK_BLOCK_SIZE`; 0 partitions all sites read at once.
    """
    require_dask()
    from locatietoets.scripts.runner.score import run_streamed
    from locatietoets.scripts.runner.stream import streamable_count

    size = DEFAULT_DASK_BLOCK_SIZE if block_size is None else int(block_size)
    n = streamable_count(config.layer("locaties")) if size > 0 else None
    if n is not None and n > size:
        # read block by block on the client, score on the workers, write block by block
        with _cluster(scheduler, n_workers) as client:
            return run_streamed(
                config,
                out_dir,
                n=n,
                block_size=size,
                progress=progress,
                is_cancelled=is_cancelled,
                network_cache_dir=network_cache_dir,
                score_blocks=partial(score_blocks_dask, client),
            )

    prepared = prepare(config, progress=progress, network_cache_dir=network_cache_dir)
    report = prepared.report

    def scaled(step: str, message: str, fraction: float) -> None:
        report(step, message, 0.13 + 0.8 * fraction)

    t = time.perf_counter()
    scaled(
        "dask",
        "Rekencluster starten" if scheduler is None else f"Verbinden met scheduler {scheduler}",
        0.0,
    )
    with _cluster(scheduler, n_workers) as client:
        result = score_sites_dask(
            prepared.inputs,
            prepared.ruleset,
            client=client,
            network_mode=prepared.network_mode,
            npartitions=npartitions,
            progress=scaled,
            is_cancelled=is_cancelled,
        )
    prepared.timings["analyse"] = round(time.perf_counter() - t, 3)
    return finish_run(prepared, result, out_dir)


def score_sites_dask(
    inputs: Inputs,
    ruleset: Any,
    *,
    client: Any,
    network_mode: str = "auto",
    npartitions: int | None = None,
    progress: Callable[[str, str, float], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> RunResult:
    """Run :func:`~analysis.pipeline.score_sites` per partition of ``inputs.sites`` on ``client``.

    Returns the same :class:`~analysis.pipeline.RunResult` as the
    single-process call (``steps`` seconds are summed over partitions).
    """
    import dask_geopandas
    from distributed import as_completed

    from locatietoets.analysis.errors import CancelledError

    sites = inputs.sites
    n = len(sites)
    threads = max(1, sum(client.nthreads().values()))
    parts = npartitions or max(threads, math.ceil(n / DEFAULT_PARTITION_SITES))
    parts = max(1, min(parts, n))
    network = inputs.network
    if network is not None and hasattr(network, "to_arrays"):
        # a fresh copy without cached trees: smaller to send, rebuilt once per worker
        network = type(network).from_arrays(network.to_arrays())
    shared = _Shared(
        reference=replace(inputs, sites=None, network=network),
        ruleset=ruleset,
        network_mode=network_mode,
        run_wide=run_wide_flags(sites),
    )
    token = uuid.uuid4().hex[:12]
    shared_future = client.scatter(shared, broadcast=True, hash=False)

    ddf = dask_geopandas.from_geopandas(sites, npartitions=parts)
    part_futures = client.compute(ddf.to_delayed())
    log.info(
        "dask: %s locaties in %s partities over %s werkthreads",
        nl_number(n),
        nl_number(len(part_futures)),
        nl_number(threads),
    )

    max_minutes = None
    if inputs.employers is not None and inputs.network is not None:
        name = f"reistijd_max_{network_mode}_min"
        if any(name in table for table in ruleset.gemeenten.values()):
            local = client.gather(
                [
                    client.submit(
                        _partition_max_minutes,
                        pf,
                        shared_future,
                        key=f"locatietoets-max-{i}-{token}",
                    )
                    for i, pf in enumerate(part_futures)
                ]
            )
            max_minutes = float(np.nanmax(local))
        else:
            max_minutes = float(ruleset.value(name))

    futures = [
        client.submit(
            _score_partition, pf, shared_future, max_minutes, key=f"locatietoets-deel-{i}-{token}"
        )
        for i, pf in enumerate(part_futures)
    ]
    done = 0
    for _ in as_completed(futures):
        done += 1
        if is_cancelled is not None and is_cancelled():
            client.cancel(futures)
            raise CancelledError(
                "De toets is afgebroken door de gebruiker; er is niets weggeschreven."
            )
        if progress is not None:
            progress("dask", f"Partitie {done} van {len(futures)} getoetst", done / len(futures))
    results: list[RunResult] = client.gather(futures)
    client.cancel([shared_future, *part_futures])
    return _combine(results, ruleset)


@contextmanager
def _cluster(scheduler: str | None, n_workers: int) -> Iterator[Any]:
    """A client of ``scheduler``, or of a local cluster of ``n_workers`` single-thread worker
    processes for this run."""
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def score_blocks_dask(
    client: Any,
    prepared: Any,
    n_blocks: int,
    block_at: Callable[[int], tuple[Any, Any]],
    reference: Inputs,
    run_wide: dict[str, bool],
    max_minutes: float | None,
    is_cancelled: Callable[[], bool] | None,
) -> Iterator[tuple[Any, RunResult]]:
    """Score the blocks on the workers of ``client``; yields (input attributes, result) in order.

    The block-wise counterpart of :func:`scripts.runner.score.score_blocks_locally`: the
    client reads block ``k`` (``block_at(k)``) and sends its sites to a worker; a few more
    blocks than there are worker threads are in flight, so the workers never wait for the
    client writing a block, and no more than those are held anywhere.
    """
    from collections import deque

    from locatietoets.analysis.errors import CancelledError

    threads = max(1, sum(client.nthreads().values()))
    network = reference.network
    if network is not None and hasattr(network, "to_arrays"):
        network = type(network).from_arrays(network.to_arrays())
    shared = _Shared(
        reference=replace(reference, sites=None, network=network),
        ruleset=prepared.ruleset,
        network_mode=prepared.network_mode,
        run_wide=run_wide,
    )
    token = uuid.uuid4().hex[:12]
    shared_future = client.scatter(shared, broadcast=True, hash=False)
    del network, shared
    report = prepared.report
    pending: deque = deque()
    submitted = 0

    def submit() -> None:
        nonlocal submitted
        original, sites = block_at(submitted)
        part = client.scatter(sites, hash=False)
        future = client.submit(
            _score_partition,
            part,
            shared_future,
            max_minutes,
            key=f"locatietoets-blok-{submitted}-{token}",
        )
        pending.append((original, part, future))
        submitted += 1

    log.info("dask: %s blokken over %s werkthreads", nl_number(n_blocks), nl_number(threads))
    try:
        while submitted < min(n_blocks, threads + 1):
            submit()
        for k in range(n_blocks):
            original, part, future = pending.popleft()
            result = future.result()
            part.release()
            future.release()
            if is_cancelled is not None and is_cancelled():
                raise CancelledError(
                    "De toets is afgebroken door de gebruiker; er is niets weggeschreven."
                )
            report(
                "dask", f"Blok {k + 1} van {n_blocks} getoetst", 0.13 + 0.8 * (k + 0.9) / n_blocks
            )
            if submitted < n_blocks:
                submit()
            yield original, result
            del original, result
    finally:
        for _, part, future in pending:
            future.cancel()
            part.release()
        shared_future.release()


def _partition_max_minutes(part: pd.DataFrame, shared: _Shared) -> float:
    """The largest per-site travel-time maximum in one partition (as score_sites resolves it)."""
    return part_max_minutes(part, shared.reference, shared.ruleset, shared.network_mode)


def _score_partition(part: pd.DataFrame, shared: _Shared, max_minutes: float | None) -> RunResult:
    """Score one partition of sites on a worker.

    What the scoring freed is given back to the system before the result is sent: a worker
    otherwise keeps the peak of its largest partition in glibc's and Arrow's pools, beside the
    client that writes the previous partition (on one machine their sum is the run's memory).
    """
    from locatietoets.scripts.runner.score import release_memory

    inputs = replace(shared.reference, sites=part.reset_index(drop=True))
    result = score_sites(
        inputs,
        shared.ruleset,
        network_mode=shared.network_mode,
        travel_max_minutes=max_minutes,
        **shared.run_wide,
    )
    del inputs
    release_memory()
    return result


def _combine(results: list[RunResult], ruleset: Any) -> RunResult:
    """Put partition results back together as one run (partitions in site order)."""
    frames = [r.results for r in results]
    columns = order_result_columns(c for f in frames for c in f.columns)
    example = {c: next(f[c] for f in frames if c in f.columns) for c in columns}
    filled = []
    for frame in frames:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            frame = frame.assign(**{c: empty_like(example[c], len(frame)) for c in missing})
        filled.append(frame[columns])
    table = (
        pd.concat(filled, ignore_index=True)
        if len(filled) > 1
        else filled[0].reset_index(drop=True)
    )
    # a text field that is empty in one partition is 'object' there and 'str' where it has text
    # (pandas infers str from text values); concatenated it would become 'object', while one pass
    # over all sites gives 'str': take the text dtype of the partitions that have text
    text = {
        c: next(
            f[c].dtype for f in frames if c in f.columns and isinstance(f[c].dtype, pd.StringDtype)
        )
        for c in columns
        if table[c].dtype == object
        and any(c in f.columns and isinstance(f[c].dtype, pd.StringDtype) for f in frames)
    }
    if text:
        table = table.astype(text)

    times = (
        table["werkgever_reistijd_min"].to_numpy(dtype=float)
        if "werkgever_reistijd_min" in table
        else None
    )
    record = combine_records(results, ruleset, times, facility_distances(table))
    return replace(record, results=table)
