"""Sites read from file block by block (scripts/runner/stream.py): the outputs of reading all sites
at once, the checks over the whole layer, and no block ever read whole."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from locatietoets.analysis.errors import InputError
from locatietoets.layers.io.config import load_config
from locatietoets.layers.worlds.demo import write_demo
from locatietoets.scripts.runner.score import run_config

BLOCK = 250


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo(tmp_path_factory.mktemp("stroom-demo") / "demo", n_sites=1000)


def _edited(demo: Path, root: Path, edit) -> Path:
    import shutil

    target = root / "demo"
    shutil.copytree(demo.parent, target)
    path = target / "invoer" / "locaties.gpkg"
    sites = edit(gpd.read_file(path, engine="pyogrio"))
    path.unlink()
    sites.to_file(path, layer="locaties", driver="GPKG", engine="pyogrio")
    return target / demo.name


def _both(config_path: Path, root: Path) -> tuple[Path, Path]:
    config = load_config(config_path)
    cache = root / "cache"
    run_config(config, root / "enkel", network_cache_dir=cache, block_size=0)
    run_config(config, root / "blokken", network_cache_dir=cache, block_size=BLOCK)
    return root / "enkel", root / "blokken"


def _record(path: Path) -> dict:
    record = json.loads((path / "run.json").read_text(encoding="utf-8"))
    for key in ("tijden_s", "gestart", "beeindigd"):
        record.pop(key)
    for step in record["stappen"].values():
        step.pop("seconden", None)
    return record


def test_blocks_are_read_from_file_never_the_whole_layer(demo, tmp_path, monkeypatch):
    import locatietoets.scripts.runner.stream as stream

    calls = []
    real = stream.load_sites

    def spy(spec, *, rows=None, opened=None):
        calls.append(rows)
        return real(spec, rows=rows, opened=opened)

    monkeypatch.setattr(stream, "load_sites", spy)
    run_config(
        load_config(demo), tmp_path / "uit", network_cache_dir=tmp_path / "c", block_size=BLOCK
    )
    # a GeoPackage block is selected by its fid range (skipping features steps through them all)
    blocks = [(a, a + 250, f'"fid" BETWEEN {a + 1} AND {a + 250}') for a in (0, 250, 500, 750)]
    # survey, then scoring (block 0 kept from the survey); never rows=None (the whole layer)
    assert calls == blocks + blocks[1:]
    assert _record(tmp_path / "uit")["locaties"] == 1000


def test_the_second_pass_reads_and_normalises_on_the_reading_thread(demo, tmp_path, monkeypatch):
    """The first pass checks each block in the calling thread (its features read ahead); the
    second reads, checks and normalises block k+1 on the reading thread while block k is scored,
    so the scoring thread never waits for GDAL or the normalisation."""
    import threading

    import locatietoets.scripts.runner.stream as stream

    threads: list[tuple[int, str]] = []
    real = stream.load_sites

    def spy(spec, *, rows=None, opened=None):
        threads.append((rows[0], threading.current_thread().name))
        return real(spec, rows=rows, opened=opened)

    monkeypatch.setattr(stream, "load_sites", spy)
    run_config(
        load_config(demo), tmp_path / "uit", network_cache_dir=tmp_path / "c", block_size=BLOCK
    )
    main = threading.main_thread().name
    survey, scoring = threads[:4], threads[4:]
    assert survey == [(a, main) for a in (0, 250, 500, 750)]
    assert [a for a, _ in scoring] == [250, 500, 750]
    assert all(name.startswith("locaties-lezen") for _, name in scoring)


def test_integer_field_with_nulls_in_one_block_and_logies_in_several(demo, tmp_path):
    """A whole-layer read makes an integer field with NULLs a float field; the logies warning
    counts and names sites over all blocks."""

    def edit(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        year = pd.array(np.arange(len(sites)) + 1900, dtype="Int64")
        year[[900, 950]] = pd.NA  # an integer field with NULLs only in the last block
        sites["bouwjaar"] = year
        sites["beoogde_huisvestingsvorm"] = None
        long_stay = sites.index[sites["beoogd_verblijfstype"].isin(["mid_stay", "long_stay"])]
        rows = list(long_stay[:3]) + list(long_stay[-20:])  # first and last blocks
        sites.loc[rows, "beoogde_huisvestingsvorm"] = "logies"
        return sites

    config = _edited(demo, tmp_path, edit)
    one, blocks = _both(config, tmp_path)
    assert (blocks / "locaties.csv").read_bytes() == (one / "locaties.csv").read_bytes()
    a = gpd.read_file(one / "locaties.gpkg", layer="locaties", engine="pyogrio")
    b = gpd.read_file(blocks / "locaties.gpkg", layer="locaties", engine="pyogrio")
    assert a["bouwjaar"].dtype == b["bouwjaar"].dtype == "float64"
    info = [pyogrio.read_info(p / "locaties.gpkg", layer="locaties") for p in (one, blocks)]
    assert list(info[1]["fields"]) == list(info[0]["fields"])
    assert list(info[1]["ogr_types"]) == list(info[0]["ogr_types"])  # a Real field in both
    assert a.equals(b)
    ra, rb = _record(one), _record(blocks)
    assert rb == ra
    logies = [w for w in rb["invoer"]["locaties"]["waarschuwingen"] if "'logies'" in w]
    assert (
        len(logies) == 1
        and logies[0].startswith("23 mid- of long-stay")
        and "13 andere" in logies[0]
    )


def test_gaps_in_the_fids_fall_back_to_skipping_rows(demo, tmp_path, monkeypatch):
    """Deleted rows leave gaps in a GeoPackage's fids: a fid range still selects each block's rows
    (fids rise); fids not rising in reading order fall back to skipping rows."""
    import sqlite3

    import locatietoets.scripts.runner.stream as stream

    def edit(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        return sites

    config = _edited(demo, tmp_path, edit)
    path = config.parent / "invoer" / "locaties.gpkg"
    con = sqlite3.connect(path)
    con.execute("DELETE FROM locaties WHERE fid IN (3, 260, 261, 999)")
    con.commit()
    con.close()
    spec = load_config(config).layer("locaties")
    blocks = stream.SiteBlocks(spec, 996, BLOCK)
    assert blocks._rows(250, 500)[2] == '"fid" BETWEEN 252 AND 503'
    # only each block's first and last fid are kept (all fids of 10,000,000 sites are 80 MB)
    assert blocks._fid_ranges.tolist() == [[1, 251], [252, 503], [504, 753], [754, 1000]]
    assert blocks._rows(750, 996)[2] == '"fid" BETWEEN 754 AND 1000'
    whole = gpd.read_file(path, engine="pyogrio")["locatie_code"].tolist()
    read = [c for k in range(4) for c in blocks.block(k)[0]["locatie_code"].tolist()]
    assert read == whole
    monkeypatch.setattr(stream, "_fid_order", lambda spec, n: (None, ""))
    assert stream.SiteBlocks(spec, 996, BLOCK)._rows(250, 500) == (250, 500)


def test_duplicate_ids_in_different_blocks_are_one_error(demo, tmp_path):
    def edit(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        sites.loc[999, "locatie_code"] = sites.loc[3, "locatie_code"]
        return sites

    config = _edited(demo, tmp_path, edit)
    code = gpd.read_file(config.parent / "invoer" / "locaties.gpkg").loc[3, "locatie_code"]
    with pytest.raises(InputError) as caught:
        run_config(
            load_config(config),
            tmp_path / "uit",
            network_cache_dir=tmp_path / "c",
            block_size=BLOCK,
        )
    assert f"dubbele waarden: {code} (1 ids)" in str(caught.value)
    assert not (tmp_path / "uit").exists() or not any((tmp_path / "uit").iterdir())


def _array_roots(frame: pd.DataFrame) -> list:
    """Weak references to the arrays that hold the numpy-typed columns of ``frame`` (a column is a
    view into a 2-D block of all columns of its type: the block is what a kept view holds)."""
    import weakref

    refs = []
    for name in frame.columns:
        if not isinstance(frame[name].dtype, np.dtype):
            continue
        root = frame[name].to_numpy(copy=False)
        while isinstance(root.base, np.ndarray):
            root = root.base
        refs.append((name, weakref.ref(root)))
    return refs


def test_nothing_of_a_block_outlives_it(demo, tmp_path, monkeypatch):
    """Memory stays flat over the blocks of a national run: once block k+1 is scored, no array of
    block k's result table or input attributes is alive any more (session 4 kept each block's
    float columns alive through a view of the travel times: ~23 MiB per 100,000 sites), and the
    per-run cache of derived structures does not grow per block."""
    import gc

    import locatietoets.analysis.derived as derived
    import locatietoets.scripts.runner.score as score

    real = score.score_blocks_locally
    earlier: list = []
    alive: list[list[str]] = []
    store_sizes: list[int] = []

    def tracked(*args):
        for original, result in real(*args):  # enumerate would keep the previous block
            gc.collect()
            alive.append([name for name, ref in earlier if ref() is not None])
            store_sizes.append(len(derived._STORE))
            earlier.extend(_array_roots(result.results) + _array_roots(original))
            yield original, result
            del original, result

    monkeypatch.setattr(score, "score_blocks_locally", tracked)
    run_config(
        load_config(demo), tmp_path / "uit", network_cache_dir=tmp_path / "c", block_size=BLOCK
    )
    assert len(alive) == 4
    assert any(name == "werkgever_reistijd_min" for name, _ in earlier)
    assert any(name.startswith("voorziening_") for name, _ in earlier)
    assert alive == [[], [], [], []]
    assert len(set(store_sizes[1:])) == 1


def test_sites_without_id_field_are_numbered_over_all_blocks(demo, tmp_path):
    """Without id_veld a site's id is its row number in the layer: a block numbers on from the
    blocks before it (numbering every block from 1 made the ids repeat, a duplicate-id error)."""
    from dataclasses import replace

    config = load_config(demo)
    spec = config.layer("locaties")
    options = {k: v for k, v in spec.options.items() if k != "id_veld"}
    config = replace(config, layers={**config.layers, "locaties": replace(spec, options=options)})
    cache = tmp_path / "cache"
    run_config(config, tmp_path / "enkel", network_cache_dir=cache, block_size=0)
    run_config(config, tmp_path / "blokken", network_cache_dir=cache, block_size=BLOCK)
    one, blocks = tmp_path / "enkel", tmp_path / "blokken"
    assert (blocks / "locaties.csv").read_bytes() == (one / "locaties.csv").read_bytes()
    ids = pd.read_csv(blocks / "locaties.csv", sep=None, engine="python", dtype=str)
    assert ids["locatie_id"].tolist() == [str(i) for i in range(1, 1001)]


def test_a_block_read_ahead_that_fails_is_one_of_the_problems(demo, tmp_path, monkeypatch):
    """The survey reads the next block on a second thread; a block whose reading fails there is
    reported (once, in Dutch) with the problems of the other blocks, and no block is lost."""
    import locatietoets.scripts.runner.stream as stream

    def edit(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        sites.loc[10, "beoogd_verblijfstype"] = "weekendverblijf"  # block 1: a bad value
        return sites

    config = _edited(demo, tmp_path, edit)
    spec = load_config(config).layer("locaties")
    real = stream.open_rows
    read: list[int] = []

    def failing(spec, rows):
        read.append(rows[0])
        if rows[0] == 500:
            raise InputError("[lagen.locaties] blok 3 kan niet gelezen worden.")
        return real(spec, rows)

    monkeypatch.setattr(stream, "open_rows", failing)
    with pytest.raises(InputError) as caught:
        stream.SiteBlocks(spec, 1000, BLOCK).survey()
    assert read == [0, 250, 500, 750]
    problems = caught.value.problems
    assert problems[0].startswith("[lagen.locaties] veld 'beoogd_verblijfstype'")
    assert "'weekendverblijf' (1×)" in problems[0]
    assert problems[1:] == ["[lagen.locaties] blok 3 kan niet gelezen worden."]


def test_the_first_pass_keeps_no_block_alive(demo, monkeypatch):
    """The first pass keeps every block's ids until all blocks are read (ids unique over the whole
    layer). A field read through GDAL's Arrow stream shares the memory of the whole batch (every
    field and geometry of the block), so the kept ids must be copies: sharing a buffer with the
    block read kept ~20 MiB per 100,000 sites alive (2 GiB at 10,000,000 before the second
    pass)."""
    import pyarrow as pa

    import locatietoets.scripts.runner.stream as stream

    def addresses(column: pd.Series) -> set[int]:
        arrow = pa.array(column.array)
        chunks = arrow.chunks if isinstance(arrow, pa.ChunkedArray) else [arrow]
        return {b.address for c in chunks for b in c.buffers() if b is not None and b.size}

    read: set[int] = set()
    kept: list[pd.Series] = []
    real_load, real_duplicates = stream.load_sites, stream.SiteBlocks._duplicates

    def load(spec, **kwargs):
        original, sites, report = real_load(spec, **kwargs)
        read.update(addresses(sites["locatie_id"]))
        return original, sites, report

    def duplicates(self, ids):
        kept.extend(ids)
        return real_duplicates(self, ids)

    monkeypatch.setattr(stream, "load_sites", load)
    monkeypatch.setattr(stream.SiteBlocks, "_duplicates", duplicates)
    spec = load_config(demo).layer("locaties")
    stream.SiteBlocks(spec, 1000, BLOCK).survey()
    assert len(kept) == 4 and read
    assert not isinstance(kept[0].dtype, np.dtype)  # read as Arrow strings
    assert not read & set().union(*(addresses(s) for s in kept))
    whole = gpd.read_file(demo.parent / "invoer" / "locaties.gpkg")["locatie_code"].tolist()
    assert pd.concat(kept).tolist() == whole


def test_duplicate_ids_named_in_order_of_first_occurrence(demo):
    """Ids repeated across blocks are found by their hashes and named by value, in the order of
    their first occurrence, as pandas' duplicated() over all ids at once names them."""
    import locatietoets.scripts.runner.stream as stream

    blocks = stream.SiteBlocks(load_config(demo).layer("locaties"), 1000, BLOCK)
    parts = [["k", "b", "c"], ["d", "b", "e", "é"], ["k", "f", "g", "b", "é"], ["h"]]
    ids = [pd.Series(p, dtype="str") for p in parts]
    (message,) = blocks._duplicates(ids)
    assert "dubbele waarden: k, b, é (3 ids)" in message
    assert (
        blocks._duplicates([pd.Series(["x", "y"], dtype="str"), pd.Series(["z"], dtype="str")])
        == []
    )
    rng = np.random.default_rng(5)
    values = [f"L{v:05d}" for v in rng.integers(0, 3000, 2000)]
    ids = [pd.Series(values[a : a + 300], dtype="str") for a in range(0, 2000, 300)]
    every = pd.Series(values, dtype="str")
    expected = [str(v) for v in pd.unique(every[every.duplicated(keep=False)])]
    (message,) = blocks._duplicates(ids)
    assert f"dubbele waarden: {', '.join(expected[:10])} … ({len(expected)} ids)" in message


def test_may_hold_polygons_from_the_declared_geometry_type(demo, tmp_path):
    """Points-only layers declare Point: the travel warm-up then leaves the polygons' index
    unbuilt; mixed or polygon layers (and undeclared types) may hold polygons."""
    import shapely

    import locatietoets.scripts.runner.stream as stream

    spec = load_config(demo).layer("locaties")
    sites = gpd.read_file(spec.path, engine="pyogrio")
    points = sites.assign(geometry=sites.geometry.representative_point())
    polygons = sites.assign(geometry=shapely.buffer(points.geometry.values, 5.0))
    for frame, expected in ((points, False), (polygons, True)):
        path = tmp_path / f"{expected}.gpkg"
        frame.to_file(path, layer="locaties", driver="GPKG", engine="pyogrio")
        layer = load_config(demo).layer("locaties")
        layer = type(layer)(**{**layer.__dict__, "path": path, "layer": "locaties"})
        assert stream.SiteBlocks(layer, len(frame), BLOCK).may_hold_polygons() is expected
    missing = type(spec)(**{**spec.__dict__, "path": tmp_path / "weg.gpkg"})
    blocks = stream.SiteBlocks.__new__(stream.SiteBlocks)  # no file: nothing to read
    blocks.spec = missing
    assert blocks.may_hold_polygons() is False


def test_blocks_scored_in_this_process_are_written_by_a_writer_process(
    demo, tmp_path, gpkg_writer_modes
):
    """GDAL holds the GIL while it writes: with the blocks scored here, the GeoPackage is written
    by a writer process (with dask, where the workers score, by a thread:
    tests/test_distributed.py)."""
    run_config(
        load_config(demo), tmp_path / "uit", network_cache_dir=tmp_path / "c", block_size=BLOCK
    )
    assert gpkg_writer_modes == [True]
