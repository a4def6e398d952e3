"""Sites read from file block by block: runs of millions of sites within bounded memory.

A run with more sites than its block size whose site layer GDAL can read by
row range (GeoPackage, shapefile, FlatGeobuf; not a CSV with coordinate
columns) never holds all sites: :class:`SiteBlocks` reads and normalises one
block of rows at a time (:func:`layers.io.read.load_sites` with ``rows``).
Two passes over the file:

1. :meth:`SiteBlocks.survey` reads every block once and keeps only what the
   whole run must know before the first block is scored: the checks of the
   site layer (every problem of every block at once, ids unique over all
   blocks), the run-wide values of :mod:`scripts.runner.partitions` (the
   travel-time limit, whether any site has persons or an own employer), the
   geometry type of the result layer, the dtype each input field has when
   the layer is read whole (an integer field with NULLs in some block only
   is a float field), and the layer's report for run.json (counts summed,
   warnings merged);
2. :meth:`SiteBlocks.block` reads a block again for scoring (block 0: the
   one the survey read, kept).

In both passes a second thread reads ahead while the current block is checked
or scored: in the first the next block's features
(:func:`layers.io.files.open_rows`: GDAL reading and WKB parsing release the
GIL; the main thread checks them), in the second the next block read, checked
and normalised whole (:meth:`SiteBlocks._loaded`), so the main thread only
scores; it also hashes the file for run.json. The ids of all sites are kept
as Arrow text (~12 bytes a site) to find ids repeated across blocks.

The outputs equal those of reading all sites at once (tests/test_stream.py).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
import re
from typing import Any

import numpy as np
import pandas as pd
import shapely

from locatietoets.analysis.errors import InputError
from locatietoets.analysis.steps import logies_warning
from locatietoets.layers.io.files import LayerReport, file_sha256, layer_label, open_rows
from locatietoets.layers.io.read import _no_geometry, load_sites, logies_marked, marked_ids
from locatietoets.layers.io.spec import LayerSpec
from locatietoets.layers.io.write import geometry_kind

__all__ = ["SiteBlocks", "SiteSurvey", "streamable_count"]

#: Text tables are read whole (GDAL cannot skip rows of a parsed CSV cheaply).
_TEXT_SUFFIXES = (".csv", ".txt")
_COUNT_AT_START = re.compile(r"^(\d+) ")
_COUNT_OF_GEOMETRIES = re.compile(r" van (\d+) geometrieën ")


def streamable_count(spec: LayerSpec | None) -> int | None:
    """The number of features of a site layer GDAL can read block by block, else None."""
    if spec is None or spec.path.suffix.lower() in _TEXT_SUFFIXES or not spec.path.is_file():
        return None
    try:
        import pyogrio

        info = pyogrio.read_info(spec.path, layer=spec.layer)
    except Exception:  # unreadable: the ordinary reader says why, in Dutch
        return None
    count = int(info.get("features", -1))
    return count if count >= 0 else None


@dataclass
class SiteSurvey:
    """What the first pass over the blocks found (see the module docstring)."""

    n: int
    report: LayerReport
    run_wide: dict[str, bool]
    geometry_type: str
    dtypes: dict[str, Any]
    block_maxima: list[float] = field(default_factory=list)


class SiteBlocks:
    """The site layer of ``spec``, ``n`` features, read ``block_size`` rows at a time."""

    def __init__(self, spec: LayerSpec, n: int, block_size: int) -> None:
        self.spec, self.n, self.block_size = spec, n, block_size
        self.starts = list(range(0, n, block_size))
        self.survey_result: SiteSurvey | None = None
        self._fid_ranges, self._fid_column = _fid_ranges(spec, n, self.starts, block_size)
        self._pool: ThreadPoolExecutor | None = None  # the second pass's reading thread
        # the block the second pass reads ahead: (k, future of (input attributes, sites))
        self._next: tuple[int, Future | None] = (-1, None)
        self._first: tuple[Any, Any] | None = None  # block 0 as the survey read it

    def may_hold_polygons(self) -> bool:
        """Whether the layer's declared geometry type allows other geometries than points
        (False when it cannot be read: the caller only uses it to build an index ahead)."""
        try:
            import pyogrio

            declared = pyogrio.read_info(self.spec.path, layer=self.spec.layer)["geometry_type"]
        except Exception:
            return False
        return "point" not in str(declared or "").lower()

    def _rows(self, a: int, b: int) -> tuple:
        """The block as :func:`layers.io.files.read_layer` takes it: a GeoPackage by fid range
        (skipping features there steps through all earlier rows: quadratic over the blocks)."""
        if self._fid_ranges is None:
            return (a, b)
        lo, hi = (int(v) for v in self._fid_ranges[a // self.block_size])
        return (a, b, f'"{self._fid_column}" BETWEEN {lo} AND {hi}')

    def _reader(self) -> ThreadPoolExecutor:
        """The thread that reads blocks ahead (and hashes the file), started when first needed."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="locaties-lezen")
        return self._pool

    def _stop_reader(self) -> None:
        self._next = (-1, None)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _ahead(self, pool: ThreadPoolExecutor, k: int) -> Future | None:
        """Start reading block ``k``'s features on ``pool``'s thread (None past the last block)."""
        if k >= len(self.starts):
            return None
        a = self.starts[k]
        return pool.submit(open_rows, self.spec, self._rows(a, min(a + self.block_size, self.n)))

    def _read(self, a: int, ahead: Future | None = None) -> tuple[Any, Any, LayerReport]:
        """The block from row ``a``, checked and normalised; ``ahead`` is its features being read
        on another thread (:meth:`_ahead`), else they are read here."""
        b = min(a + self.block_size, self.n)
        opened = ahead.result() if ahead is not None else None
        original, sites, report = load_sites(self.spec, rows=self._rows(a, b), opened=opened)
        if len(original) != b - a:  # pragma: no cover - the file changed while being read
            raise InputError(
                f"{layer_label(self.spec)} '{self.spec.path.name}' veranderde tijdens het inlezen"
                f" (rijen {a + 1}–{b}). Start de toets opnieuw als het bestand niet meer wijzigt."
            )
        return original, sites, report

    def survey(self, max_minutes_of=None, progress=None) -> SiteSurvey:
        """First pass: check every block, settle the run-wide values (see the module docstring).

        ``max_minutes_of(sites)`` gives a block's largest travel-time limit
        (:func:`scripts.runner.partitions.part_max_minutes`); None skips it.
        ``progress(k, n_blocks)`` is called before block ``k`` is read.
        """
        problems: list[str] = []
        reports: list[LayerReport] = []
        ids: list[pd.Series] = []
        dtypes: dict[str, set] = {}
        samples: dict[int, Any] = {}  # one geometry of every type found
        persons = employer = False
        maxima: list[float] = []
        logies_ids: list[str] = []
        logies_total = 0
        # GDAL reading and WKB parsing release the GIL: block k+1 is read while block k is checked;
        # after the last block the thread hashes the file and reads the second pass's second block
        pool = self._reader()
        checksum: Future | None = None
        first = None
        try:
            ahead = self._ahead(pool, 0)
            for k, a in enumerate(self.starts):
                if progress is not None:
                    progress(k, len(self.starts))
                current, ahead = ahead, self._ahead(pool, k + 1)
                if ahead is None and checksum is None:
                    checksum = pool.submit(file_sha256, self.spec.path)
                try:
                    original, sites, report = self._read(a, current)
                except InputError as exc:
                    problems += [p for p in exc.problems if p not in problems]
                    continue
                for name, dtype in original.drop(columns=[original.geometry.name]).dtypes.items():
                    dtypes.setdefault(name, set()).add(dtype)
                _sample_types(original.geometry.to_numpy(), samples)
                persons |= bool(sites["personen"].notna().any())
                employer |= bool(sites["eigen_werkgever"].notna().any())
                ids.append(_detached(sites["locatie_id"]))
                marked = logies_marked(sites)
                if marked.any():
                    block_ids = marked_ids(sites, marked)
                    own = logies_warning(block_ids)
                    report.warnings = [w for w in report.warnings if w != own]
                    logies_ids += block_ids[: 10 - len(logies_ids)]
                    logies_total += len(block_ids)
                if max_minutes_of is not None:
                    maxima.append(max_minutes_of(sites))
                reports.append(report)
                if k == 0:  # kept for the second pass (one block): not read twice
                    first = (original, sites)
                del original, sites
        except BaseException:
            self._stop_reader()
            raise
        problems += self._duplicates(ids)
        del ids
        if reports and sum(r.without_geometry for r in reports) == self.n:
            problems.append(_no_geometry(self.spec, self.n))
        if problems:
            self._stop_reader()
            raise InputError(problems)
        self._first = first
        sha256 = checksum.result() if checksum is not None else file_sha256(self.spec.path)
        report = _merged_report(self.spec, reports, sha256)
        if logies_total:
            # the same text as for the whole layer: the first ten ids and the number of others
            shown = logies_ids + [""] * (logies_total - len(logies_ids))
            at = _logies_position(report.warnings)
            report.warnings.insert(at, logies_warning(shown))
        self.survey_result = SiteSurvey(
            n=self.n,
            report=report,
            run_wide={"has_persons": persons, "has_own_employer": employer},
            geometry_type=geometry_kind(np.array(list(samples.values()), dtype=object))[0],
            dtypes={name: _common_dtype(found) for name, found in dtypes.items()},
            block_maxima=maxima,
        )
        # the second pass's second block, read on the thread once the layer's dtypes are known
        self._next = (1, self._loaded_ahead(pool, 1))
        return self.survey_result

    def block(self, k: int) -> tuple[Any, Any]:
        """Second pass: block ``k`` as (input attributes as read, normalised sites), with the
        input fields in the dtypes of the whole layer.

        Called for k = 0, 1, … in turn, it reads, checks and normalises block k+1 on a second
        thread while block k is scored (one block of sites held ahead), so that the thread that
        scores does not also read: GDAL, shapely and Arrow's string kernels release the GIL.
        """
        wanted, ahead = self._next
        if wanted != k:
            ahead = None
        if k + 1 < len(self.starts) and wanted != k + 1:
            self._next = (k + 1, self._loaded_ahead(self._reader(), k + 1))
        if k == 0 and self._first is not None:
            (original, sites), self._first = self._first, None
            original = self._in_layer_dtypes(original)
        elif ahead is not None:
            original, sites = ahead.result()
        else:
            original, sites = self._loaded(k)
        del ahead
        if k + 1 >= len(self.starts):
            self._stop_reader()
        return original, sites

    def _loaded_ahead(self, pool: ThreadPoolExecutor, k: int) -> Future | None:
        """Start :meth:`_loaded` of block ``k`` on ``pool``'s thread (None past the last block)."""
        return pool.submit(self._loaded, k) if k < len(self.starts) else None

    def _loaded(self, k: int) -> tuple[Any, Any]:
        """Block ``k`` read, checked and normalised, its input fields in the layer's dtypes."""
        original, sites, _ = self._read(self.starts[k])
        return self._in_layer_dtypes(original), sites

    def _in_layer_dtypes(self, original: Any) -> Any:
        """``original`` with every input field in the dtype it has when the layer is read whole
        (an integer field with NULLs in some block only is a float field)."""
        dtypes = self.survey_result.dtypes if self.survey_result is not None else {}
        changed = {
            name: dtype
            for name, dtype in dtypes.items()
            if name in original.columns and original[name].dtype != dtype
        }
        return original.astype(changed) if changed else original

    def _duplicates(self, ids: list[pd.Series]) -> list[str]:
        """The message of :func:`load_sites` for ids that occur in more than one block (in the
        order of their first occurrence)."""
        if not ids:
            return []
        # by 64-bit hashes first: pandas' duplicated() over all ids at once built a hash table of
        # Python strings (~1.3 GiB at 10,000,000 sites: the peak of the run); only the ids whose
        # hash repeats are compared as values
        hashes = [_id_hashes(block) for block in ids]
        ordered = np.sort(np.concatenate(hashes))
        clashing = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
        del ordered
        if not len(clashing):
            return []
        every = pd.concat(
            [block[np.isin(h, clashing)] for block, h in zip(ids, hashes)], ignore_index=True
        )
        repeated = every[every.duplicated(keep=False)]
        if not len(repeated):  # pragma: no cover - a hash collision of distinct ids
            return []
        dup = [str(v) for v in pd.unique(repeated)]
        id_col = self.spec.get("id_veld")
        return [
            f"{layer_label(self.spec)} id-veld '{id_col}' heeft dubbele waarden:"
            f" {', '.join(dup[:10])}{' …' if len(dup) > 10 else ''}"
            f" ({len(dup)} ids). Maak de ids uniek."
        ]


def _id_hashes(ids: pd.Series) -> np.ndarray:
    """A 64-bit hash of every id (equal ids, equal hashes)."""
    return pd.util.hash_array(ids.to_numpy(dtype=object))


def _detached(column: pd.Series) -> pd.Series:
    """``column`` in memory of its own. A field read through GDAL's Arrow stream shares the memory
    of the whole batch it came in (every field and geometry of the block): kept for the whole first
    pass, the id columns kept every block alive (~13-25 MiB per 100,000 sites: 2 GiB at 10,000,000
    before the second pass began)."""
    if isinstance(column.dtype, np.dtype):
        return column.copy(deep=True)
    import pyarrow as pa

    arrow = pa.array(column.array)
    chunks = arrow.chunks if isinstance(arrow, pa.ChunkedArray) else [arrow]
    copied = pa.concat_arrays(chunks) if chunks else arrow
    return pd.Series(pd.array(copied, dtype=column.dtype), name=column.name)


def _fid_ranges(
    spec: LayerSpec, n: int, starts: list[int], block_size: int
) -> tuple[np.ndarray | None, str]:
    """Per block (rows ``starts[k]`` to ``starts[k] + block_size``) the first and last fid of a
    GeoPackage layer in reading order, when the fids rise strictly (then a fid range selects
    exactly the rows of a block); else None. Only the ranges are kept: all fids of 10,000,000
    sites are 80 MB held for the whole run."""
    fids, column = _fid_order(spec, n)
    if fids is None or not starts:
        return None, column
    first = np.asarray(starts, dtype=np.int64)
    last = np.minimum(first + block_size, n) - 1
    return np.stack([fids[first], fids[last]], axis=1), column


def _fid_order(spec: LayerSpec, n: int) -> tuple[np.ndarray | None, str]:
    """The fids of a GeoPackage layer in reading order, when they rise strictly (then a fid range
    selects exactly the rows of a block); else None."""
    if spec.path.suffix.lower() != ".gpkg":
        return None, ""
    try:
        import pyogrio

        column = pyogrio.read_info(spec.path, layer=spec.layer).get("fid_column") or ""
        if not column or '"' in column:
            return None, ""
        _, table = pyogrio.read_arrow(
            spec.path, layer=spec.layer, columns=[], read_geometry=False, return_fids=True
        )
        fids = table.column(0).to_numpy().astype(np.int64, copy=False)
    except Exception:  # the ordinary reader says what is wrong, in Dutch
        return None, ""
    if len(fids) != n or (len(fids) > 1 and not (np.diff(fids) > 0).all()):
        return None, ""
    return fids, column


def _sample_types(geoms: np.ndarray, samples: dict[int, Any]) -> None:
    """Add to ``samples`` the first non-empty geometry of every type in ``geoms`` not yet there."""
    types = shapely.get_type_id(geoms)  # -1: missing
    for t in np.unique(types[types >= 0]).tolist():
        if t in samples:
            continue
        of_type = np.flatnonzero(types == t)
        full = of_type[~shapely.is_empty(geoms[of_type])]
        if len(full):
            samples[t] = geoms[full[0]]


def _logies_position(warnings: list[str]) -> int:
    """Where :func:`load_sites` puts the logies warning: after the missing stay types, before the
    sites without geometry."""
    for i, w in enumerate(warnings):
        if "locaties zonder geometrie" in w:
            return i
    return len(warnings)


def _common_dtype(found: set) -> Any:
    """The dtype a field has when all blocks are read at once."""
    if len(found) == 1:
        return next(iter(found))
    if all(getattr(d, "kind", "O") in "iufb" for d in found):
        if any(getattr(d, "kind", "") == "b" for d in found):
            return np.dtype(object)  # bool with NULLs somewhere
        return np.result_type(*found)
    return np.dtype(object)


def _merged_report(spec: LayerSpec, reports: list[LayerReport], sha256: str) -> LayerReport:
    """One report for the whole layer: counts summed, count-bearing warnings summed."""
    first = reports[0]
    merged = replace(
        first,
        sha256=sha256,
        features=sum(r.features for r in reports),
        repaired=sum(r.repaired for r in reports),
        without_geometry=sum(r.without_geometry for r in reports),
        warnings=[],
        repaired_rows=None,
    )
    totals: dict[str, int] = {}
    order: list[str] = []
    for r in reports:
        for w in r.warnings:
            pattern = next(
                (p for p in (_COUNT_AT_START, _COUNT_OF_GEOMETRIES) if p.search(w)), None
            )
            if pattern is None:
                key, count = w, None
            else:
                m = pattern.search(w)
                key = w[: m.start(1)] + "{}" + w[m.end(1) :]
                count = int(m.group(1))
            if key not in totals:
                order.append(key)
                totals[key] = 0
            if count is not None:
                totals[key] += count
    merged.warnings = [k.replace("{}", str(totals[k]), 1) if "{}" in k else k for k in order]
    return merged
