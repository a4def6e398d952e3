"""The per-run cache of structures derived from a reference layer (analysis.derived)."""

import gc

import geopandas as gpd
from shapely.geometry import Point

from locatietoets.analysis.derived import _STORE, clear_derived, derived


def _frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"naam": ["a"]}, geometry=[Point(0, 0)], crs="EPSG:28992")


def test_built_once_per_frame_and_key():
    clear_derived()
    frame, calls = _frame(), []

    def build():
        calls.append(1)
        return len(calls)

    assert derived(frame, "k", build) == 1
    assert derived(frame, "k", build) == 1  # reused, not rebuilt
    assert derived(frame, ("k", 2), build) == 2  # another key (parameter) is another structure
    assert derived(frame.copy(), "k", build) == 3  # a copy is another frame
    assert len(calls) == 3


def test_entry_dropped_with_its_frame():
    clear_derived()
    frame = _frame()
    derived(frame, "k", lambda: [1] * 10)
    assert id(frame) in _STORE
    ident = id(frame)
    del frame
    gc.collect()
    assert ident not in _STORE


def test_objects_without_weak_references_are_not_cached():
    clear_derived()
    calls = []
    key_object = (1, 2)  # a tuple cannot be weakly referenced
    derived(key_object, "k", lambda: calls.append(1))
    derived(key_object, "k", lambda: calls.append(1))
    assert len(calls) == 2
    assert not _STORE


def test_piece_index_is_not_shared_between_threads():
    """Prepared pieces keep GEOS scratch state: each thread scoring blocks gets its own index."""
    import threading

    from shapely.geometry import Polygon

    from locatietoets.analysis.overlay import piece_index

    clear_derived()
    frame = gpd.GeoDataFrame(
        {"naam": ["a"]}, geometry=[Polygon([(0, 0), (10, 0), (10, 10), (0, 10)])], crs="EPSG:28992"
    )
    here = piece_index(frame)
    assert piece_index(frame) is here  # reused within a thread
    there = []
    worker = threading.Thread(target=lambda: there.append(piece_index(frame)))
    worker.start()
    worker.join()
    assert there[0] is not here


def test_a_finalizer_inside_the_locked_section_does_not_hang():
    """The garbage collector may free a cached frame (and run its finalizer, which takes the
    cache's lock) while the same thread holds that lock inside derived(): that must not wait for
    itself (it hung a run before the lock was made re-entrant)."""
    import threading

    from locatietoets.analysis import derived as module

    clear_derived()
    frame = _frame()
    derived(frame, "k", lambda: 1)
    ident = id(frame)

    def finalizer_while_locked():
        with module._LOCK:  # as inside derived()
            module._forget(ident)  # as the collector would, in the same thread

    worker = threading.Thread(target=finalizer_while_locked, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "the cache's lock waited for itself"
    assert ident not in _STORE
