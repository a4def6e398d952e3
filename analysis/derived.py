"""Structures derived from a reference layer once per run, reused by every block of sites.

A run in blocks (``scripts.runner.stream``, the dask engine) scores block after block against
the same reference frames (BBG, contours, farms, parks, employers, gemeenten, the road network).
Whatever a step derives from a reference layer alone — polygons split into indexable pieces, an
STRtree, prepared geometries, the employers snapped to the network — does not depend on the
block and is built once: :func:`derived` keeps it beside the frame it came from, for as long as
that frame lives.

The cache is keyed by the identity of the frame (a new or copied frame gets its own entry) and
by a key naming what was derived and with which parameters; an entry is dropped when its frame is
garbage-collected. Only derive from data the frame holds: a frame is never modified in place
after it is read (``layers.io`` hands out fresh frames), which is what makes identity a safe key.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
import threading
from typing import Any, TypeVar
import weakref

__all__ = ["derived", "clear_derived"]

T = TypeVar("T")

_STORE: dict[int, dict[Hashable, Any]] = {}
# Re-entrant: a frame's finalizer (_forget) runs when the garbage collector frees the frame, and
# the collector can run inside any allocation — also in a thread that holds this lock in
# derived(). With a plain Lock that thread waited for itself for ever (a hang seen in a test run).
_LOCK = threading.RLock()


def _forget(ident: int) -> None:
    with _LOCK:
        _STORE.pop(ident, None)


def derived(frame: Any, key: Hashable, build: Callable[[], T], *, per_thread: bool = False) -> T:
    """``build()`` for ``frame`` and ``key``, built on the first call and reused while ``frame``
    lives.

    ``frame`` is the reference object the structure is derived from (a GeoDataFrame, a
    GeoSeries, a road network); ``key`` names the structure and every parameter it depends on
    besides ``frame`` (e.g. ``("bbg.pieces", 256)``). ``build`` must not depend on anything else.
    Objects that cannot be weakly referenced are not cached (``build()`` each call).

    ``per_thread``: one structure per calling thread, for structures holding prepared GEOS
    geometries, which keep scratch state while tested and must not be tested by two threads at
    once (GEOS issue #825) — blocks may be scored in threads side by side (a dask worker).
    """
    if per_thread:
        key = (key, threading.get_ident())
    ident = id(frame)
    with _LOCK:
        entries = _STORE.get(ident)
        if entries is not None and key in entries:
            return entries[key]
    value = build()
    with _LOCK:
        entries = _STORE.get(ident)
        if entries is None:
            try:
                weakref.finalize(frame, _forget, ident)
            except TypeError:  # not weak-referenceable: no safe identity to cache on
                return value
            entries = _STORE[ident] = {}
        return entries.setdefault(key, value)


def clear_derived() -> None:
    """Forget every derived structure (tests; a long-lived process between unrelated runs)."""
    with _LOCK:
        _STORE.clear()
