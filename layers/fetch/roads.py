"""NWB wegvakken as a travel network: the road type of each wegvak from its baansubsoort.

The network (``analysis.network``) decides per road type (OSM ``highway``
values) which modes may use a road and how fast a car drives where the data has
no speed. The NWB has no such type; it has the *baansubsoort* (``bst_code``,
what the carriageway is for) and the *wegbeheerdersoort* (``wegbehsrt``: R
rijk, P provincie, G gemeente, W waterschap, T overig). :func:`nwb_road_types`
combines the two into the network's road types:

- a main carriageway (``HR``) of a Rijksweg is a motorway (closed to bicycles and
  pedestrians; in Limburg the Rijkswegen are motorways or autowegen), of a
  province a ``secondary`` road, of anyone else ``unclassified`` (50 km/h);
- ramps and connecting roads (``OPR``, ``AFR``, ``VB*``, ``TN``) are
  ``motorway_link`` for the Rijk and ``secondary_link`` otherwise;
- parallel and service roads (``PAR``, ``VWG``) are ``residential``; roundabouts
  (``NRB``, ``MRB``, ``TRB``) and other carriageways ``unclassified``;
- cycle paths ``cycleway``, footpaths ``footway``, bridle paths ``bridleway``,
  parking and fuel-station roads ``service``;
- bus and public-transport lanes and emergency passages (``BU``, ``OVB``,
  ``CADO``) are ``busway`` (closed to every mode of this tool);
- ferries and airfield taxiways (``VD``, ``VV``) are not roads: those wegvakken
  are dropped.

The codes and their meaning are RWS's baansubsoort list as tabulated (with a
reference to nationaalwegenbestand.nl) by OSM's road-completion project,
osmbe/road-completion data/netherlands/README.md, read 2026-12-03; the column
names are those of PDOK's NWB service (PDOK/mapserver-operator fixture
rws-nwbwegen-v1-0). An unknown code becomes ``unclassified``, so it stays
usable and is counted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["NOT_ROADS", "nwb_road_types"]

_LINKS = frozenset({"OPR", "AFR", "VBD", "VBI", "VBS", "VBR", "VBK", "VBW", "TN"})
_BY_CODE = {
    "PAR": "residential",
    "VWG": "residential",
    "NRB": "unclassified",
    "MRB": "unclassified",
    "TRB": "unclassified",
    "PST": "unclassified",
    "DST": "unclassified",
    "YYY": "unclassified",
    "FP": "cycleway",
    "VP": "footway",
    "RP": "bridleway",
    "PP": "service",
    "PC": "service",
    "PR": "service",
    "PKP": "service",
    "PKB": "service",
    "BST": "service",
    "BU": "busway",
    "OVB": "busway",
    "CADO": "busway",
}
#: Baansubsoorten that are no road at all (ferry, airfield): dropped from the network.
NOT_ROADS = frozenset({"VD", "VV"})


def nwb_road_types(bst_code: pd.Series, wegbehsrt: pd.Series | None) -> tuple[np.ndarray, int]:
    """Return the network road type per wegvak, and how many codes were unknown.

    Parameters
    ----------
    bst_code
        NWB baansubsoort per wegvak (``HR``, ``FP``, ...); case and spaces are ignored.
    wegbehsrt
        NWB wegbeheerdersoort per wegvak (``R``, ``P``, ``G``, ``W``, ``T``), or
        ``None`` when the source has no such field (then no road is a motorway).

    Returns
    -------
    types, unknown
        OSM ``highway`` values (``None`` for :data:`NOT_ROADS`), and the number
        of wegvakken whose code is not in the list (typed ``unclassified``).
    """
    codes = bst_code.astype("string").str.strip().str.upper().fillna("")
    owner = (
        wegbehsrt.astype("string").str.strip().str.upper().fillna("")
        if wegbehsrt is not None
        else pd.Series("", index=bst_code.index, dtype="string")
    )
    rijk = (owner == "R").to_numpy()
    provincie = (owner == "P").to_numpy()
    values = codes.to_numpy(dtype=object)
    out = np.array([_BY_CODE.get(c) for c in values], dtype=object)
    main = values == "HR"
    out[main] = np.where(
        rijk[main], "motorway", np.where(provincie[main], "secondary", "unclassified")
    )
    link = np.isin(values, list(_LINKS))
    out[link] = np.where(rijk[link], "motorway_link", "secondary_link")
    dropped = np.isin(values, list(NOT_ROADS))
    out[dropped] = None
    unknown = np.array([v is None for v in out], dtype=bool) & ~dropped
    out[unknown] = "unclassified"
    return out, int(unknown.sum())
