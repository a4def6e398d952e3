"""Network distance from every site to the nearest facility of each kind (voorzieningen).

A facility kind (``ov_halte``, ``supermarkt``, ``huisarts``, ...) is a layer of points or
polygons (``[lagen.voorzieningen.<soort>]``). For each kind every site gets the shortest
distance over the road network to the nearest facility of that kind, with the same snapping and
the same compiled multi-source search as the travel to employers
(:func:`analysis.travel.prepare_travel` and :func:`analysis.travel.nearest_employers`): all
facilities of a kind are the sources of one Dijkstra over the whole network.

What is measured is *distance*, not travel time: the search runs on a copy of the network whose
arc weights are the arc lengths (a walk to the bus stop or the shop), in both directions of every
link (one-way streets do not bind a pedestrian), over the links a site may connect to (by car
network: not over motorways and trunk roads, which nobody walks along). The straight connection
legs from site and facility to the network are part of the distance, as for employers.

Everything that depends on the network and a facility layer alone is built once per run and
reused by every block of sites (:func:`analysis.derived.derived`): the distance network is kept
beside the road network (:func:`distance_network`), and per facility kind the facilities snapped
to it, the routing graph and the shortest-path tree from all facilities are kept beside the
facility frame (:func:`analysis.travel.employer_side` on the distance network). Per block only
the sites are snapped (once, for every kind) and looked up.

A site more than ``max_snap_m`` from the network, or on a part of the network from which no
facility of the kind can be reached, gets no distance (NaN, never 0) and a Dutch reason.

Pure: GeoDataFrames in, a DataFrame out; no file I/O.
"""

from __future__ import annotations

from dataclasses import replace
import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from locatietoets.analysis.derived import derived
from locatietoets.analysis.errors import InputError
from locatietoets.analysis.network import RoadNetwork
from locatietoets.analysis.travel import (
    employer_side,
    nearest_employers,
    prepare_travel,
    snap_to_network,
)
from locatietoets.analysis.vocabulary import facility_fields, nl_number

__all__ = ["distance_network", "nearest_facilities"]

logger = logging.getLogger(__name__)

#: Cached properties of a network that depend only on link geometry and snappability: a distance
#: network shares them with the network it is made from (no second snapping index).
_SHARED_CACHE = (
    "link_geometry",
    "link_geometry_length_m",
    "snap_links",
    "snap_tree",
)


def distance_network(network: RoadNetwork) -> RoadNetwork:
    """A copy of ``network`` whose travel "time" in seconds is the length in metres.

    Built once per network object and kept beside it (:func:`analysis.derived.derived`): every
    block of a run routes on the same copy (and so shares the facility sides built on it).

    Every link a site may connect to (:attr:`RoadNetwork.link_snappable`) is open in both
    directions with weight = its length; the others (motorways and trunk roads of a car network)
    are closed. The speed is 3.6 km/h (1 m/s), so a connection leg of ``d`` metres also weighs
    ``d``. Routing this copy with :func:`analysis.travel.nearest_employers` gives shortest
    distances.
    """
    return derived(network, "facilities.distance_network", lambda: _distance_network(network))


def _distance_network(network: RoadNetwork) -> RoadNetwork:
    usable = np.asarray(network.link_snappable, dtype=bool)
    weight = np.where(usable, network.link_length_m.astype(float), np.inf)
    copy = replace(
        network,
        link_speed_kmh=np.full(network.n_links, 3.6),
        link_time_fwd_s=weight,
        link_time_bwd_s=weight.copy(),
        source=f"{network.source} (afstand)",
    )
    for name in (*_SHARED_CACHE, "snap_segments"):
        if name in network.__dict__:
            copy.__dict__[name] = network.__dict__[name]
    return copy


def _check(sites, facilities: dict[str, gpd.GeoDataFrame], max_snap_m: float) -> None:
    problems = []
    for kind, frame in facilities.items():
        label = f"[lagen.voorzieningen.{kind}]"
        crs = getattr(frame, "crs", None)
        if crs is not None and crs.to_epsg() != 28992:
            problems.append(
                f"{label} staat in {crs.to_string()}, het wegennet in EPSG:28992 (RD New). Zet de"
                " laag eerst om naar EPSG:28992."
            )
        if len(frame) == 0:
            problems.append(
                f"{label} bevat geen voorzieningen. Geef een laag met minstens één punt of vlak,"
                " of laat de sectie weg."
            )
    if not (np.isfinite(max_snap_m) and max_snap_m >= 0):
        problems.append(
            f"De maximale aansluitafstand moet een getal van 0 m of meer zijn, niet {max_snap_m!r}."
        )
    crs = getattr(sites, "crs", None)
    if crs is not None and crs.to_epsg() != 28992:
        problems.append(
            f"[lagen.locaties] staat in {crs.to_string()}, het wegennet in EPSG:28992 (RD New)."
        )
    if problems:
        raise InputError(problems)


def nearest_facilities(
    sites: gpd.GeoSeries,
    facilities: dict[str, gpd.GeoDataFrame],
    network: RoadNetwork,
    *,
    max_snap_m: float = 1000.0,
) -> pd.DataFrame:
    """Shortest network distance from every site to the nearest facility of each kind.

    Parameters
    ----------
    sites
        Site points and/or polygons in EPSG:28992, no empty geometries.
    facilities
        Per kind (``ov_halte``, ...) the facilities in EPSG:28992: points or polygons, with an
        optional text column ``naam``.
    network
        The run's road network (any mode; see :func:`distance_network`).
    max_snap_m
        A site or facility farther than this (metres, straight line) from the nearest usable
        road is not connected to the network.

    Returns
    -------
    pandas.DataFrame
        Index ``sites.index``; per kind ``k`` the columns of
        :func:`analysis.vocabulary.facility_fields`: ``voorziening_<k>`` (name of the nearest
        facility), ``voorziening_<k>_afstand_m`` (route length incl. both connection legs; NaN
        when none is reached), ``voorziening_<k>_onbereikbaar`` (bool) and
        ``voorziening_<k>_reden`` (Dutch, ``""`` when reached).
    """
    _check(sites, facilities, float(max_snap_m))
    site_geoms = np.asarray(sites.geometry.values if hasattr(sites, "geometry") else sites)
    n_sites = len(site_geoms)
    out = pd.DataFrame(index=sites.index)
    if not facilities:
        return out
    dnet = distance_network(network)
    site_snap = snap_to_network(site_geoms, dnet)  # the same for every kind
    for kind, frame in facilities.items():
        name_f, dist_f, unreach_f, reason_f = facility_fields(kind)
        problem = prepare_travel(
            site_geoms,
            None,
            dnet,
            max_snap_m=max_snap_m,
            employer_side=employer_side(frame, dnet, max_snap_m=max_snap_m),
            site_snap=site_snap,
        )
        best, _, best_idx = nearest_employers(problem)
        reached = np.isfinite(best)
        names = (
            frame["naam"].astype(object).to_numpy()
            if "naam" in frame.columns
            else np.array([f"{kind} {i + 1}" for i in range(len(frame))], dtype=object)
        )
        nearest = np.full(n_sites, None, dtype=object)
        nearest[reached] = names[best_idx[reached]]
        reason = np.full(n_sites, "", dtype=object)
        too_far = ~problem.site_ok
        if too_far.any():
            reason[too_far] = [
                f"ligt {nl_number(d)} m van het dichtstbijzijnde wegvak (meer dan"
                f" {nl_number(max_snap_m)} m)"
                for d in problem.site_dist_m[too_far]
            ]
        isolated = problem.site_ok & ~reached
        if isolated.any():
            reason[isolated] = (
                "geen voorziening van deze soort bereikbaar vanaf dit deel van het wegennet (los"
                " netdeel)"
                if problem.employer_ok.any()
                else "geen enkele voorziening van deze soort ligt binnen"
                f" {nl_number(max_snap_m)} m van het wegennet"
            )
        out[name_f] = pd.Series(nearest, index=sites.index, dtype=object)
        out[dist_f] = np.where(reached, best, np.nan)
        out[unreach_f] = ~reached
        out[reason_f] = pd.Series(reason, index=sites.index, dtype=object)
        logger.info(
            "voorzieningen '%s': %s locaties bereiken er een, %s niet",
            kind,
            nl_number(int(reached.sum())),
            nl_number(int((~reached).sum())),
        )
    return out
