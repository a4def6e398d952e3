"""Planning analyses on scored sites, one module per analysis:

* :mod:`analysis.planning.capacity`: capacity against demand per gemeente and region;
* :mod:`analysis.planning.comparison`: what changed between two runs (e.g. two rule sets) and why;
* :mod:`analysis.planning.grid`: the suitability grid (cells scored as point sites, raster classes);
* :mod:`analysis.planning.business`: the housing effect of a business location;
* :mod:`analysis.planning.sensitivity`: verdict counts per value of one rule parameter.

Pure logic on (Geo)DataFrames and arrays: nothing here opens or writes a file
(``layers.io`` and ``layers.publish`` do, driven by ``scripts.runner``). Every function is
vectorised over sites, gemeenten or grid cells; column names and messages are Dutch, identifiers
English. All geometry is EPSG:28992 (RD New, metres). The public names of the
modules are re-exported here.
"""

from __future__ import annotations

from locatietoets.analysis.planning.business import capacity_within_reach, plan_demand
from locatietoets.analysis.planning.capacity import (
    NO_DEMAND,
    CapacityBalance,
    capacity_balance,
    match_gemeenten,
)
from locatietoets.analysis.planning.common import TOTAL_LABEL
from locatietoets.analysis.planning.comparison import Comparison, compare_runs
from locatietoets.analysis.planning.grid import (
    NO_VERDICT_CODE,
    VERDICT_CODES,
    GridSpec,
    grid_over_area,
    grid_sites,
    verdict_codes,
)
from locatietoets.analysis.planning.sensitivity import (
    COUNT_COLUMNS,
    changed_between,
    sensitivity_counts,
)

__all__ = [
    "VERDICT_CODES",
    "NO_VERDICT_CODE",
    "NO_DEMAND",
    "TOTAL_LABEL",
    "match_gemeenten",
    "capacity_balance",
    "CapacityBalance",
    "compare_runs",
    "Comparison",
    "GridSpec",
    "grid_over_area",
    "grid_sites",
    "verdict_codes",
    "plan_demand",
    "capacity_within_reach",
    "COUNT_COLUMNS",
    "sensitivity_counts",
    "changed_between",
]
