"""The scoring pipeline: all analyses on all sites, then the verdicts.

``score_sites`` takes validated, normalised layers (EPSG:28992) and a rule
set, runs each analysis whose layers are present, and returns one row of
results per site. It reads no files: ``layers`` prepares the inputs. The
steps themselves are in ``analysis.steps``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from locatietoets.analysis.ruleset import RuleSet
from locatietoets.analysis.steps import (
    ALWAYS_WOONFUNCTIE,
    DEFAULT_HOUSING_FORM,
    MODE_TEXT,
    Inputs,
    ProgressFn,
    RunState,
    StepProgress,
    apply_verdicts,
    concentration,
    constraint_untested_reason,
    constraints,
    facilities,
    housing_forms,
    housing_norms_and_capacity,
    locate_gemeente,
    logies_warning,
    odour,
    outside_gemeenten_warning,
    position_vs_bbg,
    recreation_parks,
    site_parameters,
    start_run,
    temporary_building,
    travel,
    unused_constraint_warning,
    yard,
)
from locatietoets.analysis.vocabulary import RESULT_FIELDS, facility_aliases

__all__ = [
    "Inputs",
    "RunResult",
    "score_sites",
    "outside_gemeenten_warning",
    "logies_warning",
    "RESULT_FIELDS",
    "DEFAULT_HOUSING_FORM",
    "ALWAYS_WOONFUNCTIE",
    "MODE_TEXT",
    "STEP_PARAMETERS",
    "Rescorer",
    "steps_reading",
    "constraint_parameters",
    "order_result_columns",
    "constraint_untested_reason",
    "unused_constraint_warning",
]


@dataclass
class RunResult:
    """Results of a run.

    Attributes
    ----------
    results
        One row per site (RangeIndex aligned with ``Inputs.sites``), the
        columns of :data:`RESULT_FIELDS` that apply.
    steps
        Per step: seconds and the analyses' counts, for the run record.
    skipped
        Analyses that did not run, with the Dutch reason.
    summary
        Rule counts from the verdict step.
    """

    results: pd.DataFrame
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def score_sites(
    inputs: Inputs,
    ruleset: RuleSet,
    *,
    network_mode: str = "auto",
    travel_max_minutes: float | None = None,
    has_persons: bool | None = None,
    has_own_employer: bool | None = None,
    progress: ProgressFn | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> RunResult:
    """Score every site against the rule set.

    Parameters
    ----------
    inputs
        Validated layers in EPSG:28992.
    ruleset
        The effective rule set (overrides applied).
    network_mode
        Travel mode of ``inputs.network``: ``auto``, ``fiets`` or ``lopen``.
    travel_max_minutes
        Travel-time limit in minutes for ``werkgevers_bereikbaar``; default
        the largest per-site maximum of ``inputs.sites``. A partitioned run
        passes the maximum over all sites so every partition counts alike.
    has_persons, has_own_employer
        Whether any site of the run has a number of persons / an own
        employer; when none has, those (empty) fields are left out. Default:
        any site of ``inputs.sites``. A partitioned run passes the value for
        all sites so every partition has the same fields.
    progress
        Called as ``progress(step_id, dutch_message, overall_fraction)``.
    is_cancelled
        Polled between steps; when it returns True the run stops with
        :class:`~analysis.errors.CancelledError`.

    Returns
    -------
    RunResult
    """
    result, _ = _score(
        inputs,
        ruleset,
        network_mode=network_mode,
        travel_max_minutes=travel_max_minutes,
        has_persons=has_persons,
        has_own_employer=has_own_employer,
        progress=progress,
        is_cancelled=is_cancelled,
    )
    return result


def _score(
    inputs: Inputs,
    ruleset: RuleSet,
    *,
    network_mode: str,
    travel_max_minutes: float | None,
    has_persons: bool | None,
    has_own_employer: bool | None,
    progress: ProgressFn | None,
    is_cancelled: Callable[[], bool] | None,
    base: RunState | None = None,
    only: frozenset[str] | None = None,
) -> tuple[RunResult, RunState]:
    """Run the steps of :data:`_PLAN` (all, or with ``base`` only the steps in ``only`` on a copy
    of ``base``'s fields) and the verdicts; return the result and the run state."""
    steps = StepProgress(_PLAN, progress, is_cancelled)
    if base is None:
        run = start_run(inputs.sites, steps)
        locate_gemeente(run, inputs, ruleset)
    else:
        run = replace(
            base,
            fields=base.fields.copy(),
            steps=steps,
            skipped=dict(base.skipped),
            warnings=list(base.warnings),
        )
    run.params = site_parameters(run, ruleset)

    def due(step: str) -> bool:
        return only is None or step in only

    if due("bbg"):
        position_vs_bbg(run, inputs)
    if due("recreatie"):
        recreation_parks(run, inputs)
    if due("beperkingen"):
        if base is not None:  # the fields of the layers re-measured below are replaced
            run.constraint_fields = []
        constraints(run, inputs, ruleset)
        yard(run, inputs, ruleset, has_own_employer)
    if due("woonnormen"):
        housing_norms_and_capacity(run, has_persons)
    if base is None:
        temporary_building(run)
        housing_forms(run)
    if due("geur"):
        odour(run, inputs, ruleset)
    if due("reis"):
        travel(
            run,
            inputs,
            ruleset,
            network_mode=network_mode,
            travel_max_minutes=travel_max_minutes,
            has_own_employer=has_own_employer,
            is_cancelled=is_cancelled,
        )
    if due("voorzieningen"):
        facilities(run, inputs, ruleset)
    if due("concentratie") or due("woonnormen"):  # the share counts the site's capacity
        concentration(run, inputs)
    summary, counts = apply_verdicts(run, ruleset, network_mode)
    result = RunResult(
        results=_result_table(
            run.fields,
            [
                *run.constraint_fields,
                *(c for kind in inputs.facilities for c in facility_aliases(kind)),
            ],
        ),
        steps=steps.record,
        skipped=run.skipped,
        summary={**summary, "telling": counts},
        warnings=list(dict.fromkeys(run.warnings)),
    )
    return result, run


#: The steps of a run: id, Dutch title (progress and run record), relative weight for the progress
#: bar.
_PLAN: list[tuple[str, str, float]] = [
    ("gemeente", "Gemeente bepalen", 1.0),
    ("bbg", "Ligging t.o.v. bestaand bebouwd gebied", 2.0),
    ("recreatie", "Recreatieparken", 1.0),
    ("beperkingen", "Beperkingen (natuur, bedrijventerreinen, geluid, veiligheid, ...)", 1.0),
    ("woonnormen", "Woonnormen en capaciteit", 0.5),
    ("geur", "Geurtoets", 3.0),
    ("reis", "Reisafstand tot werkgevers", 4.0),
    ("voorzieningen", "Afstand tot voorzieningen", 2.0),
    ("concentratie", "Concentratie per kern", 1.0),
    ("oordeel", "Oordeel, score en redenen", 2.0),
]


def order_result_columns(columns: Any) -> list[str]:
    """Result columns in output order: those of :data:`RESULT_FIELDS` in that order, with the
    fields of declared constraint layers (not known in advance) before the verdicts."""
    present = list(dict.fromkeys(columns))
    known = [c for c in RESULT_FIELDS if c in present]
    extra = [c for c in present if c not in RESULT_FIELDS and not c.startswith("_")]
    cut = next((i for i, c in enumerate(known) if c == "oordeel"), len(known))
    return known[:cut] + extra + known[cut:]


def _result_table(fields: pd.DataFrame, constraint_fields: list[str] = ()) -> pd.DataFrame:
    """The output columns of :data:`RESULT_FIELDS` that the run has, in that order, with the
    constraint layers' fields before the verdicts.

    The odour detail flags are needed by the rules; the headline ones are
    kept in the output as booleans.
    """
    present = set(fields.columns)
    keep = order_result_columns(
        [c for c in RESULT_FIELDS if c in present] + [c for c in constraint_fields if c in present]
    )
    # a selection, not a copy of every column: pandas copies on write, so the result and the run's
    # fields cannot change each other
    results = fields[keep]
    for col in ("geur_knelpunt", "geur_onzeker"):
        if col in results:
            results[col] = results[col].astype(bool)
    return results


#: The rule-set parameters each step reads besides the verdict step (which reads them all). When
#: only a parameter changes, :class:`Rescorer` re-runs the steps that read it and the verdicts;
#: the other steps keep their fields. tests/test_sensitivity.py checks this table against the
#: steps' source.
STEP_PARAMETERS: dict[str, tuple[str, ...]] = {
    "bbg": ("bbg_rand_m", "bbg_binnen_aandeel"),
    "woonnormen": ("max_personen_per_slaapkamer", "min_woonoppervlak_pp_m2"),
    "geur": (
        "concentratiegebied",
        "geur_norm_kom",
        "geur_norm_kom_concentratie",
        "geur_norm_buitengebied",
        "geur_norm_buitengebied_concentratie",
        "afstand_emissiepunt_kom_m",
        "afstand_emissiepunt_buitengebied_m",
        "afstand_gevel_kom_m",
        "afstand_gevel_buitengebied_m",
    ),
    # the built-in constraint rules' parameters; a rule set's own layer rules add theirs
    # (constraint_parameters)
    "beperkingen": (
        "natura2000_signaal_m",
        "geluid_standaardwaarde_lden_db",
        "erf_max_m",
        "erf_short_stay",
    ),
    "reis": (
        "reistijd_max_auto_min",
        "reistijd_max_fiets_min",
        "reistijd_max_lopen_min",
        "max_aansluitafstand_m",
    ),
    "voorzieningen": ("max_aansluitafstand_m",),
    # concentratie reads no parameter, but counts the capacity of "woonnormen" (re-run with it)
    "concentratie": (),
}


def steps_reading(parameters: set[str] | frozenset[str]) -> frozenset[str]:
    """The steps (ids of the plan) that read any of ``parameters``; the verdicts always re-run."""
    return frozenset(s for s, names in STEP_PARAMETERS.items() if set(names) & set(parameters))


def constraint_parameters(ruleset: RuleSet) -> frozenset[str]:
    """The parameters the constraint step reads for ``ruleset``: those its layer rules name as
    ``buffer_m`` or ``waarde_vanaf``, and the yard parameters."""
    names = {"erf_max_m", "erf_short_stay"}
    for rule in ruleset.rules:
        if rule.layer is not None:
            names |= {v for v in (rule.layer.buffer, rule.layer.min_value) if isinstance(v, str)}
    return frozenset(names)


class Rescorer:
    """Score the same sites again and again with rule sets that differ in a few parameter values.

    The first :meth:`score` runs every step; later calls copy its fields and re-run only the
    steps that read a changed parameter (:data:`STEP_PARAMETERS`) and the verdicts, so the result
    equals a full :func:`score_sites` with that rule set. The sites, layers and network stay
    the same (pass ``inputs`` with another network to :meth:`score` when the parameter shapes the
    network; the travel step then re-runs).
    """

    def __init__(
        self,
        inputs: Inputs,
        *,
        network_mode: str = "auto",
        travel_max_minutes: float | None = None,
        has_persons: bool | None = None,
        has_own_employer: bool | None = None,
    ):
        self.inputs = inputs
        self.options = {
            "network_mode": network_mode,
            "travel_max_minutes": travel_max_minutes,
            "has_persons": has_persons,
            "has_own_employer": has_own_employer,
        }
        self._base: RunState | None = None

    def score(
        self,
        ruleset: RuleSet,
        *,
        changed: set[str] | frozenset[str] = frozenset(),
        inputs: Inputs | None = None,
        progress: ProgressFn | None = None,
        is_cancelled: Callable[[], bool] | None = None,
    ) -> RunResult:
        """Score with ``ruleset``; ``changed`` names the parameters whose values differ from the
        rule set of the first call (re-run: the steps reading them; all steps on the first
        call)."""
        only = None if self._base is None else steps_reading(changed)
        if inputs is not None and self._base is not None:
            only = only | {"reis", "voorzieningen"}
        if self._base is not None and set(changed) & constraint_parameters(ruleset):
            only = only | {"beperkingen"}
        result, run = _score(
            inputs or self.inputs,
            ruleset,
            **self.options,
            progress=progress,
            is_cancelled=is_cancelled,
            base=self._base,
            only=only,
        )
        if self._base is None:
            self._base = run
        return result
