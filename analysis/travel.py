"""Travel over the road network from every site to employers.

Vectorised throughout: sites and employers are snapped to the network in one
call, and shortest paths come from :func:`scipy.sparse.csgraph.dijkstra` run
over the whole network at once — never a loop over sites or site/employer pairs.

How a trip is measured
----------------------
1. Snapping. Each site and employer is connected to the nearest point of the
   nearest road link (shapely ``STRtree.query_nearest`` and
   ``line_locate_point``). A polygon (business park) is connected at its
   nearest network point; when roads cross it, at every crossing road, with
   connection distance 0. The straight connection is part of the trip (its
   length is ``aansluitafstand_m`` for the site), travelled at the speed of
   the link it connects to.
2. From the snapped point a trip runs along the link to either end node (only
   in directions open to the mode: one-way streets by car), over the network,
   and along the employer's link to the employer's snapped point. When site
   and employer lie on the same link, the direct run along that link is also
   considered. This is exact: it equals inserting the snapped points as nodes.
3. Travel direction is site → employer (home to work). All employers are
   sources of one Dijkstra on the *reversed* graph (``min_only=True``), which
   yields, for every node, the fastest employer and the time to it; a route's
   length is summed along the shortest-path tree (pointer jumping).
4. ``werkgevers_bereikbaar`` counts employers within ``max_minutes``; it runs
   one time-limited Dijkstra per employer, in chunks sized to bound memory.

The nearest employer is the one with the shortest *travel time*;
``werkgever_afstand_m`` is the length of that fastest route.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csgraph, csr_matrix

from analysis.errors import CancelledError, InputError
from analysis.network import RoadNetwork

__all__ = ["travel_to_employers", "snap_to_network", "SnapTable", "RESULT_COLUMNS"]

logger = logging.getLogger(__name__)

#: Output columns of :func:`travel_to_employers`, in order.
RESULT_COLUMNS = (
    "werkgever",
    "werkgever_afstand_m",
    "werkgever_reistijd_min",
    "werkgevers_bereikbaar",
    "aansluitafstand_m",
    "eigen_werkgever",
    "eigen_werkgever_afstand_m",
    "eigen_werkgever_reistijd_min",
    "reis_onbereikbaar",
    "reis_onbereikbaar_reden",
)

# Upper bound on elements of one dense (sources x nodes) block: ~160 MB per float64 array.
_BLOCK_ELEMENTS = 20_000_000
_TIME_TOLERANCE = 1e-9


@dataclass(frozen=True)
class SnapTable:
    """Connections of geometries to the network, one row per (geometry, link).

    A point has one row; a polygon has one row per link at its minimum distance
    (every crossing road when roads cross it). Rows are sorted by ``item``.

    Attributes
    ----------
    item
        Position of the geometry in the input (0-based).
    link
        Link index in the network.
    frac
        Position of the connection point along the link, as a fraction of the
        link from ``u`` (0) to ``v`` (1).
    dist_m
        Straight-line distance from the geometry to the link in metres.
    """

    item: np.ndarray
    link: np.ndarray
    frac: np.ndarray
    dist_m: np.ndarray

    def take(self, mask: np.ndarray) -> SnapTable:
        """Return the rows selected by a boolean mask."""
        return SnapTable(self.item[mask], self.link[mask], self.frac[mask], self.dist_m[mask])


def snap_to_network(geometries: np.ndarray | gpd.GeoSeries, network: RoadNetwork) -> SnapTable:
    """Connect points and polygons to their nearest network point.

    Parameters
    ----------
    geometries
        Points and/or polygons in EPSG:28992 (no empty geometries).
    network
        The road network (same CRS).

    Returns
    -------
    SnapTable
        One row per point; one or more per polygon (see :class:`SnapTable`).
    """
    geoms = np.asarray(geometries, dtype=object)
    n = geoms.shape[0]
    if n == 0 or network.n_links == 0:
        return SnapTable(*(np.zeros(0, dtype=t) for t in (np.int64, np.int64, float, float)))
    tree = network.snap_tree
    is_point = shapely.get_type_id(geoms) == 0
    parts = []
    for mask, all_matches in ((is_point, False), (~is_point, True)):
        idx = np.flatnonzero(mask)
        if idx.shape[0] == 0:
            continue
        (q, t), dist = tree.query_nearest(geoms[idx], all_matches=all_matches, return_distance=True)
        parts.append((idx[q], network.snap_links[t], dist, bool(all_matches)))
    items, links, dists, fracs = [], [], [], []
    length = network.link_geometry_length_m
    for item, link, dist, polygonal in parts:
        lines = network.link_geometry[link]
        if polygonal:
            points = shapely.get_point(shapely.shortest_line(geoms[item], lines), 1)
        else:
            points = geoms[item]
        position = shapely.line_locate_point(lines, points)
        geom_len = length[link]
        frac = np.divide(position, geom_len, out=np.zeros_like(position), where=geom_len > 0)
        items.append(item)
        links.append(link)
        dists.append(dist)
        fracs.append(np.clip(frac, 0.0, 1.0))
    item = np.concatenate(items).astype(np.int64)
    order = np.argsort(item, kind="stable")
    return SnapTable(
        item[order],
        np.concatenate(links).astype(np.int64)[order],
        np.concatenate(fracs)[order],
        np.concatenate(dists)[order],
    )


# ---------------------------------------------------------------------------
# Connection costs
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Access:
    """Cost of getting between a snapped geometry and the two end nodes of its link."""

    snap: SnapTable
    u: np.ndarray
    v: np.ndarray
    time_u_s: np.ndarray
    len_u_m: np.ndarray
    time_v_s: np.ndarray
    len_v_m: np.ndarray
    leg_time_s: np.ndarray


def _part(fraction: np.ndarray, time_s: np.ndarray) -> np.ndarray:
    """``fraction * time_s``, with 0 for a zero fraction even on a closed direction (``inf``)."""
    with np.errstate(invalid="ignore"):
        return np.where(fraction == 0, 0.0, fraction * time_s)


def _access(snap: SnapTable, network: RoadNetwork, *, outbound: bool) -> _Access:
    """Costs to (``outbound``: site → node) or from (employer: node → point) the end nodes.

    The straight connection leg (``dist_m``) is included in both ends' costs.
    """
    link = snap.link
    f = snap.frac
    length = network.link_length_m[link]
    t_fwd = network.link_time_fwd_s[link]
    t_bwd = network.link_time_bwd_s[link]
    leg_time = snap.dist_m / (network.link_speed_kmh[link] / 3.6)
    if outbound:
        # site at f: to v runs forward (1 - f), to u runs backward (f)
        time_v, time_u = _part(1.0 - f, t_fwd), _part(f, t_bwd)
    else:
        # employer at f: from u runs forward (f), from v runs backward (1 - f)
        time_u, time_v = _part(f, t_fwd), _part(1.0 - f, t_bwd)
    return _Access(
        snap=snap,
        u=network.link_u[link].astype(np.int64),
        v=network.link_v[link].astype(np.int64),
        time_u_s=time_u + leg_time,
        len_u_m=f * length + snap.dist_m,
        time_v_s=time_v + leg_time,
        len_v_m=(1.0 - f) * length + snap.dist_m,
        leg_time_s=leg_time,
    )


def _same_link_pairs(site: _Access, emp: _Access, network: RoadNetwork):
    """Direct trips along one link for site/employer connections on the same link.

    Returns ``(site_row, employer_item, time_s, length_m)`` for every pair whose
    direct run is open to the mode.
    """
    e_order = np.argsort(emp.snap.link, kind="stable")
    e_links = emp.snap.link[e_order]
    start = np.searchsorted(e_links, site.snap.link, side="left")
    stop = np.searchsorted(e_links, site.snap.link, side="right")
    counts = stop - start
    if counts.sum() == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0), np.zeros(0)
    s_row = np.repeat(np.arange(site.snap.item.shape[0]), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    e_row = e_order[np.repeat(start, counts) + offsets]
    link = site.snap.link[s_row]
    fs, fe = site.snap.frac[s_row], emp.snap.frac[e_row]
    forward = fe >= fs
    t_dir = np.where(forward, network.link_time_fwd_s[link], network.link_time_bwd_s[link])
    span = np.abs(fe - fs)
    time = _part(span, t_dir) + site.leg_time_s[s_row] + emp.leg_time_s[e_row]
    length = span * network.link_length_m[link] + site.snap.dist_m[s_row] + emp.snap.dist_m[e_row]
    ok = np.isfinite(time)
    return s_row[ok], emp.snap.item[e_row][ok], time[ok], length[ok]


# ---------------------------------------------------------------------------
# Graph with employers as extra nodes
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _ReverseGraph:
    """The reversed network plus one node per employer (index ``n_nodes + employer``)."""

    time: csr_matrix
    arc_key: np.ndarray  # sorted tail * n_total + head, of the reversed arcs
    arc_len: np.ndarray
    n_nodes: int
    n_total: int


def _reverse_graph(network: RoadNetwork, emp: _Access, n_employers: int) -> _ReverseGraph:
    tail, head, length, time = network.arcs
    n = network.n_nodes
    n_total = n + n_employers
    vnode = n + emp.snap.item
    # reversed network arcs: head -> tail; employer node -> end node (reverse of node -> employer)
    r_tail = np.concatenate([head, vnode, vnode])
    r_head = np.concatenate([tail, emp.u, emp.v])
    r_len = np.concatenate([length, emp.len_u_m, emp.len_v_m])
    r_time = np.concatenate([time, emp.time_u_s, emp.time_v_s])
    ok = np.isfinite(r_time)
    r_tail, r_head, r_len, r_time = r_tail[ok], r_head[ok], r_len[ok], r_time[ok]
    order = np.lexsort((r_len, r_time, r_head, r_tail))
    r_tail, r_head, r_len, r_time = r_tail[order], r_head[order], r_len[order], r_time[order]
    key = r_tail * n_total + r_head
    first = np.ones(key.shape[0], dtype=bool)
    first[1:] = key[1:] != key[:-1]
    key, r_tail, r_head, r_len, r_time = key[first], r_tail[first], r_head[first], r_len[first], r_time[first]
    matrix = csr_matrix((r_time, (r_tail, r_head)), shape=(n_total, n_total))
    matrix.sort_indices()
    return _ReverseGraph(matrix, key, r_len, n, n_total)


def _tree_lengths(pred: np.ndarray, graph: _ReverseGraph) -> np.ndarray:
    """Length in metres from each node to its tree root along a predecessor array.

    ``pred`` may be 2-D (one row per source); roots and unreached nodes have
    a negative predecessor. Vectorised pointer jumping: ``log2(depth)`` passes.
    """
    shape = pred.shape
    n_total = graph.n_total
    pred2 = pred.reshape(-1, n_total)
    flat_pred = pred2.reshape(-1).astype(np.int64)
    has = flat_pred >= 0
    idx = np.flatnonzero(has)
    local = idx % n_total
    step = np.zeros(flat_pred.shape[0])
    pos = np.searchsorted(graph.arc_key, flat_pred[idx] * n_total + local)
    step[idx] = graph.arc_len[pos]
    parent = np.full(flat_pred.shape[0], -1, dtype=np.int64)
    parent[idx] = flat_pred[idx] + (idx // n_total) * n_total
    acc = step
    active = idx
    while active.shape[0]:
        p = parent[active]
        new_acc = acc[active] + acc[p]
        new_parent = parent[p]
        acc[active] = new_acc
        parent[active] = new_parent
        active = active[new_parent >= 0]
    return acc.reshape(shape)


# ---------------------------------------------------------------------------
# Main entry
# ---------------------------------------------------------------------------
def _nl_m(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".")


def _check_inputs(sites, employers, own_employer, max_minutes, max_snap_m) -> None:
    problems = []
    for label, frame in (("[lagen.locaties]", sites), ("[lagen.werkgevers]", employers)):
        crs = getattr(frame, "crs", None)
        if crs is not None and crs.to_epsg() != 28992:
            problems.append(
                f"{label} staat in {crs.to_string()}, het wegennet in EPSG:28992 (RD New). "
                "Zet de laag eerst om naar EPSG:28992."
            )
    if "naam" not in employers.columns:
        problems.append(
            "[lagen.werkgevers] heeft geen kolom 'naam'. Geef met naam_veld aan welke kolom de naam van de werkgever bevat."
        )
    else:
        names = employers["naam"]
        dup = names[names.duplicated()].astype(str).unique().tolist()
        if dup:
            problems.append(
                f"[lagen.werkgevers] veld 'naam' is niet uniek: {', '.join(repr(d) for d in dup[:10])}"
                f"{' en meer' if len(dup) > 10 else ''}. Geef elke werkgever een eigen naam."
            )
        if names.isna().any():
            problems.append(
                f"[lagen.werkgevers] veld 'naam' is leeg bij {int(names.isna().sum())} werkgever(s). Vul de namen aan."
            )
    if len(employers) == 0:
        problems.append(
            "[lagen.werkgevers] bevat geen werkgevers. Geef een laag met minstens één werkgever (punt of vlak)."
        )
    if not (np.isfinite(max_minutes) and max_minutes > 0):
        problems.append(f"De maximale reistijd moet een positief aantal minuten zijn, niet {max_minutes!r}.")
    if not (np.isfinite(max_snap_m) and max_snap_m >= 0):
        problems.append(f"De maximale aansluitafstand moet een getal van 0 m of meer zijn, niet {max_snap_m!r}.")
    if own_employer is not None and not own_employer.index.equals(sites.index):
        problems.append("De eigen werkgever per locatie hoort dezelfde index te hebben als de locaties.")
    if problems:
        raise InputError(problems)
    if own_employer is not None and "naam" in employers.columns:
        given = own_employer.dropna()
        given = given[given.astype(str).str.strip() != ""]
        unknown = sorted(set(given.astype(str)) - set(employers["naam"].astype(str)))
        if unknown:
            shown = ", ".join(f"'{u}'" for u in unknown[:10])
            more = f" (en {len(unknown) - 10} meer)" if len(unknown) > 10 else ""
            raise InputError(
                f"[lagen.locaties] veld werkgever_veld noemt {len(unknown)} werkgever(s) die niet in "
                f"[lagen.werkgevers] staan: {shown}{more}. Schrijf de naam precies zoals in de "
                "werkgeverslaag (kolom naam_veld), of voeg de werkgever toe aan die laag."
            )


def travel_to_employers(
    sites: gpd.GeoSeries,
    employers: gpd.GeoDataFrame,
    network: RoadNetwork,
    *,
    max_minutes: float,
    max_snap_m: float = 1000.0,
    own_employer: pd.Series | None = None,
    progress: Callable[[float, str], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> pd.DataFrame:
    """Travel distance and time over the road network from every site to employers.

    Parameters
    ----------
    sites
        Site points and/or polygons in EPSG:28992, no empty geometries.
    employers
        Employers in EPSG:28992 with a unique text column ``naam``; points or
        polygons (business parks, reached at their nearest network point).
    network
        The road network for one mode (see ``layers.network.load_network``).
    max_minutes
        Travel-time threshold in minutes for ``werkgevers_bereikbaar``.
    max_snap_m
        A site or employer farther than this (metres, straight line) from the
        nearest usable road is not connected to the network.
    own_employer
        Per site (aligned with ``sites.index``) the name of its own employer
        (a ``naam`` from ``employers``), or None/NaN.
    progress
        Called with (fraction 0–1, Dutch message).
    is_cancelled
        Polled between steps; when it returns True, :class:`CancelledError` is raised.

    Returns
    -------
    pandas.DataFrame
        Index ``sites.index``; columns :data:`RESULT_COLUMNS`:
        ``werkgever`` (fastest employer over the network), ``werkgever_afstand_m``
        (length of that route incl. both connection legs), ``werkgever_reistijd_min``,
        ``werkgevers_bereikbaar`` (employers within ``max_minutes``),
        ``aansluitafstand_m`` (site to network, straight line), ``eigen_werkgever``,
        ``eigen_werkgever_afstand_m``, ``eigen_werkgever_reistijd_min``,
        ``reis_onbereikbaar`` and ``reis_onbereikbaar_reden`` (Dutch, ``""`` when reachable).
        ``reis_onbereikbaar`` is about the nearest employer only: True when the site
        lies more than ``max_snap_m`` from the network or no employer can be reached
        from its part of the network. The own-employer fields are NaN when there is
        no own employer or it cannot be reached; that does not set ``reis_onbereikbaar``.

    Raises
    ------
    InputError
        Wrong CRS, missing/duplicate employer names, an own employer that is not
        in ``employers``, or an empty employers layer.
    """
    _check_inputs(sites, employers, own_employer, float(max_minutes), float(max_snap_m))

    def report(fraction: float, message: str) -> None:
        if is_cancelled is not None and is_cancelled():
            raise CancelledError("De berekening van de reistijden is afgebroken.")
        if progress is not None:
            progress(fraction, message)

    n_sites = len(sites)
    n_emp = len(employers)
    limit_s = float(max_minutes) * 60.0
    names = employers["naam"].astype(str).to_numpy(dtype=object)

    report(0.0, "locaties en werkgevers aansluiten op het wegennet")
    site_snap = snap_to_network(np.asarray(sites.geometry.values if hasattr(sites, "geometry") else sites), network)
    emp_snap = snap_to_network(np.asarray(employers.geometry.values), network)
    site_dist = np.full(n_sites, np.inf)
    np.minimum.at(site_dist, site_snap.item, site_snap.dist_m)
    emp_dist = np.full(n_emp, np.inf)
    np.minimum.at(emp_dist, emp_snap.item, emp_snap.dist_m)
    emp_ok = emp_dist <= max_snap_m
    if (~emp_ok).any():
        logger.warning(
            "%d of %d employers lie more than %.0f m from the network and are left out",
            int((~emp_ok).sum()),
            n_emp,
            max_snap_m,
        )
    site_ok = site_dist <= max_snap_m
    site_acc = _access(site_snap.take(site_ok[site_snap.item]), network, outbound=True)
    emp_acc = _access(emp_snap.take(emp_ok[emp_snap.item]), network, outbound=False)
    logger.info(
        "snapped %d sites (%d within %.0f m of the network) and %d employers (%d within)",
        n_sites,
        int(site_ok.sum()),
        max_snap_m,
        n_emp,
        int(emp_ok.sum()),
    )

    report(0.2, "kortste routes naar de dichtstbijzijnde werkgever")
    graph = _reverse_graph(network, emp_acc, n_emp)
    sources = network.n_nodes + np.flatnonzero(emp_ok)
    best_time = np.full(n_sites, np.inf)
    best_len = np.full(n_sites, np.nan)
    best_emp = np.full(n_sites, -1, dtype=np.int64)
    pairs = _same_link_pairs(site_acc, emp_acc, network)
    if sources.shape[0]:
        dist, pred, src = csgraph.dijkstra(
            graph.time, directed=True, indices=sources, min_only=True, return_predecessors=True
        )
        tree_len = _tree_lengths(pred, graph)
        t_u = site_acc.time_u_s + dist[site_acc.u]
        t_v = site_acc.time_v_s + dist[site_acc.v]
        via_v = t_v < t_u
        t_row = np.where(via_v, t_v, t_u)
        node = np.where(via_v, site_acc.v, site_acc.u)
        l_row = np.where(via_v, site_acc.len_v_m + tree_len[node], site_acc.len_u_m + tree_len[node])
        e_row = src[node].astype(np.int64) - network.n_nodes
        _take_best(site_acc.snap.item, t_row, l_row, e_row, best_time, best_len, best_emp)
        s_row, p_emp, p_time, p_len = pairs
        _take_best(site_acc.snap.item[s_row], p_time, p_len, p_emp, best_time, best_len, best_emp)

    report(0.4, "werkgevers binnen de maximale reistijd tellen")
    count = np.zeros(n_sites, dtype=np.int64)
    if sources.shape[0] and site_acc.snap.item.shape[0]:
        _count_within(graph, sources, site_acc, pairs, limit_s, count, report)

    own_name = np.full(n_sites, None, dtype=object)
    own_time = np.full(n_sites, np.nan)
    own_len = np.full(n_sites, np.nan)
    if own_employer is not None:
        report(0.8, "routes naar de eigen werkgever")
        given = own_employer.to_numpy(dtype=object)
        valid = pd.notna(given) & (pd.Series(given).astype(str).str.strip() != "").to_numpy()
        own_name[valid] = pd.Series(given[valid]).astype(str).to_numpy(dtype=object)
        lookup = {name: i for i, name in enumerate(names)}
        own_idx = np.full(n_sites, -1, dtype=np.int64)
        own_idx[valid] = [lookup[str(g)] for g in given[valid]]
        own_idx[valid & ~emp_ok[np.maximum(own_idx, 0)]] = -1
        _own_routes(graph, network, site_acc, pairs, own_idx, own_time, own_len)

    report(0.95, "resultaat samenstellen")
    reachable = np.isfinite(best_time)
    reason = np.full(n_sites, "", dtype=object)
    too_far = ~site_ok
    if too_far.any():
        reason[too_far] = [
            f"ligt {_nl_m(d)} m van het dichtstbijzijnde wegvak (meer dan {_nl_m(max_snap_m)} m)"
            for d in site_dist[too_far]
        ]
    isolated = site_ok & ~reachable
    if isolated.any():
        text = (
            "geen werkgever bereikbaar vanaf dit deel van het wegennet (los netdeel)"
            if emp_ok.any()
            else f"geen enkele werkgever ligt binnen {_nl_m(max_snap_m)} m van het wegennet"
        )
        reason[isolated] = text
    werkgever = np.full(n_sites, None, dtype=object)
    werkgever[reachable] = names[best_emp[reachable]]
    out = pd.DataFrame(
        {
            "werkgever": pd.Series(werkgever, dtype=object),
            "werkgever_afstand_m": np.where(reachable, best_len, np.nan),
            "werkgever_reistijd_min": np.where(reachable, best_time / 60.0, np.nan),
            "werkgevers_bereikbaar": count,
            "aansluitafstand_m": site_dist,
            "eigen_werkgever": pd.Series(own_name, dtype=object),
            "eigen_werkgever_afstand_m": own_len,
            "eigen_werkgever_reistijd_min": own_time / 60.0,
            "reis_onbereikbaar": ~reachable,
            "reis_onbereikbaar_reden": pd.Series(reason, dtype=object),
        }
    )
    out.index = sites.index
    logger.info(
        "travel (%s): %d sites reached an employer, %d not (%d too far from the network)",
        network.mode,
        int(reachable.sum()),
        int((~reachable).sum()),
        int(too_far.sum()),
    )
    report(1.0, "reistijden berekend")
    return out


def _take_best(item, time, length, emp, best_time, best_len, best_emp) -> None:
    """Per item keep the fastest (time, length, employer) row, updating the ``best_*`` arrays."""
    if item.shape[0] == 0:
        return
    order = np.lexsort((length, time, item))
    item, time, length, emp = item[order], time[order], length[order], emp[order]
    first = np.ones(item.shape[0], dtype=bool)
    first[1:] = item[1:] != item[:-1]
    item, time, length, emp = item[first], time[first], length[first], emp[first]
    better = np.isfinite(time) & (time < best_time[item])
    item = item[better]
    best_time[item] = time[better]
    best_len[item] = length[better]
    best_emp[item] = emp[better]


def _site_min(values: np.ndarray, item: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column-wise minimum of ``values`` (rows x entries) per site; entries sorted by ``item``."""
    starts = np.flatnonzero(np.r_[True, item[1:] != item[:-1]])
    if starts.shape[0] == item.shape[0]:  # one entry per site (points): nothing to reduce
        return values, item
    return np.minimum.reduceat(values, starts, axis=1), item[starts]


def _count_within(graph, sources, site_acc: _Access, pairs, limit_s, count, report) -> None:
    """Add to ``count`` the employers each site reaches within ``limit_s``."""
    n_entries = site_acc.snap.item.shape[0]
    chunk = max(1, min(256, _BLOCK_ELEMENTS // max(graph.n_total, n_entries)))
    s_row, p_emp, p_time, _ = pairs
    p_site = site_acc.snap.item[s_row]
    limit = limit_s * (1 + _TIME_TOLERANCE)
    for start in range(0, sources.shape[0], chunk):
        block = sources[start : start + chunk]
        dist = csgraph.dijkstra(graph.time, directed=True, indices=block, limit=limit)
        per_entry = np.minimum(site_acc.time_u_s + dist[:, site_acc.u], site_acc.time_v_s + dist[:, site_acc.v])
        per_site, site_ids = _site_min(per_entry, site_acc.snap.item)
        within = per_site <= limit
        emp_ids = block - graph.n_nodes
        if p_emp.shape[0]:
            # direct runs along a shared link: count a pair once, when only the direct run is within the limit
            row_of = np.full(graph.n_total - graph.n_nodes, -1, dtype=np.int64)
            row_of[emp_ids] = np.arange(block.shape[0])
            sel = row_of[p_emp] >= 0
            if sel.any():
                col = np.searchsorted(site_ids, p_site[sel])
                rows = row_of[p_emp[sel]]
                direct_ok = p_time[sel] <= limit
                add = direct_ok & ~within[rows, col]
                within[rows[add], col[add]] = True
        count[site_ids] += within.sum(axis=0)
        del dist, per_entry, per_site, within
        report(0.4 + 0.4 * min(1.0, (start + chunk) / sources.shape[0]), "werkgevers binnen de maximale reistijd tellen")


def _own_routes(graph, network, site_acc: _Access, pairs, own_idx, own_time, own_len) -> None:
    """Fastest route from each site to its own employer: one Dijkstra per distinct employer."""
    entry_site = site_acc.snap.item
    entry_emp = own_idx[entry_site]
    wanted = np.unique(entry_emp[entry_emp >= 0])
    if wanted.shape[0] == 0:
        return
    chunk = max(1, min(256, _BLOCK_ELEMENTS // graph.n_total))
    for start in range(0, wanted.shape[0], chunk):
        block = wanted[start : start + chunk]
        dist, pred = csgraph.dijkstra(
            graph.time, directed=True, indices=graph.n_nodes + block, return_predecessors=True
        )
        tree_len = _tree_lengths(pred, graph)
        row_of = np.full(graph.n_total - graph.n_nodes, -1, dtype=np.int64)
        row_of[block] = np.arange(block.shape[0])
        sel = np.flatnonzero((entry_emp >= 0) & (row_of[np.maximum(entry_emp, 0)] >= 0))
        rows = row_of[entry_emp[sel]]
        u, v = site_acc.u[sel], site_acc.v[sel]
        t_u = site_acc.time_u_s[sel] + dist[rows, u]
        t_v = site_acc.time_v_s[sel] + dist[rows, v]
        via_v = t_v < t_u
        time = np.where(via_v, t_v, t_u)
        length = np.where(via_v, site_acc.len_v_m[sel] + tree_len[rows, v], site_acc.len_u_m[sel] + tree_len[rows, u])
        _take_best_into(entry_site[sel], time, length, own_time, own_len)
        del dist, pred, tree_len
    s_row, p_emp, p_time, p_len = pairs
    p_site = entry_site[s_row]
    match = own_idx[p_site] == p_emp
    _take_best_into(p_site[match], p_time[match], p_len[match], own_time, own_len)


def _take_best_into(item, time, length, best_time, best_len) -> None:
    """Like :func:`_take_best` for arrays that start as NaN (no employer index)."""
    current = np.where(np.isnan(best_time), np.inf, best_time)
    emp = np.zeros(item.shape[0], dtype=np.int64)
    dummy = np.zeros(best_time.shape[0], dtype=np.int64)
    _take_best(item, time, length, emp, current, best_len, dummy)
    best_time[:] = np.where(np.isfinite(current), current, np.nan)
