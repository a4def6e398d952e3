"""What the woonvisie report says: its tables, introduction and run-record rows.

Shared by the HTML (``report_html.py``) and the PDF (``report_pdf.py``) so that both hold the
same content; nothing here draws or writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from locatietoets.analysis.summary import (
    STAY_TYPES,
    exclusion_reasons,
    rules_frame,
    verdict_counts,
)
from locatietoets.analysis.texts import nl_number, nl_value
from locatietoets.analysis.verdict import facility_rule
from locatietoets.layers.publish.runfolder import RunFolder, nl_datetime

__all__ = [
    "CONFIDENCE",
    "ReportTables",
    "STEP_NAMES",
    "constraint_rows",
    "intro_lines",
    "parameter_origin",
    "parameter_rows",
    "parameter_value",
    "percent",
    "record_rows",
    "report_tables",
    "stay_types_of",
]

CONFIDENCE = {"H": "hoog", "M": "middel", "L": "laag"}
STEP_NAMES = {
    "inlezen": "Invoer inlezen",
    "wegennet": "Wegennet opbouwen",
    "analyse": "Analyses en oordeel",
    "schrijven": "Uitvoer schrijven",
    "totaal": "Totaal",
}


@dataclass
class ReportTables:
    """The tables of a report (clean DataFrames, Dutch column names).

    Attributes
    ----------
    gemeenten, regios, totaal
        :func:`analysis.summary.verdict_counts` per gemeente, region and in total.
    redenen
        :func:`analysis.summary.exclusion_reasons` (top 10 per stay type).
    regels
        :func:`analysis.summary.rules_frame` of the run's rule set.
    """

    gemeenten: pd.DataFrame
    regios: pd.DataFrame
    totaal: pd.DataFrame
    redenen: pd.DataFrame
    regels: pd.DataFrame


def report_tables(run: RunFolder, *, top: int = 10) -> ReportTables:
    """Compute the report's tables from a run folder."""
    sites = run.sites
    gem_areas = reg_areas = None
    if run.gemeenten is not None:
        gem_areas = pd.DataFrame(
            {
                "gebied": run.gemeenten["naam"],
                "code": run.gemeenten["code"],
                "regio": run.gemeenten["regio"],
            }
        )
        reg_areas = pd.DataFrame({"gebied": sorted(set(run.gemeenten["regio"]))})
    rules = rules_frame(run.rules)
    return ReportTables(
        gemeenten=verdict_counts(sites, per="gemeente", areas=gem_areas),
        regios=verdict_counts(sites, per="regio", areas=reg_areas),
        totaal=verdict_counts(sites, per="provincie"),
        redenen=exclusion_reasons(sites, rules, per="provincie", top=top),
        regels=rules,
    )


# --------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------


def percent(value: float) -> str:
    return f"{value:.1f}".replace(".", ",") + "%"


def stay_types_of(tables: ReportTables) -> list[str]:
    return [s for s in STAY_TYPES if (tables.totaal["verblijfstype"] == s).any()]


def intro_lines(run: RunFolder) -> list[str]:
    rs = run.record.get("regelset") or {}
    n = nl_number(len(run.sites))
    lines = [
        (
            f"Toetsing van {n} kandidaatlocaties voor de huisvesting van arbeidsmigranten op"
            f" {run.run_date}, met {rs.get('naam', 'de regelset')} ({run.ruleset_label})."
        ),
        (
            "Elke locatie is voor elk verblijfstype getoetst (short-stay, mid-stay, long-stay), ook"
            " als zij voor één type is voorgesteld: de tabellen tellen dus alle locaties per"
            " verblijfstype."
        ),
        (
            "Geschikt: past binnen het beleid. Voorwaardelijk: mogelijk, onder voorwaarden (zie de"
            " redenen). Ongeschikt: past niet binnen het beleid. Geen oordeel: locatie zonder"
            " geometrie."
        ),
        (
            "Capaciteit: het aantal personen dat volgens de woonnormen op de locatie past (som over"
            " de locaties)."
        ),
    ]
    if run.is_demo:
        lines.insert(
            0,
            "LET OP: dit is het FICTIEVE DEMOGEBIED van de Locatietoets; geen van de gegevens is"
            " echt.",
        )
    return lines


def parameter_origin(origin: Any) -> str:
    """Dutch origin of a parameter value (run records before the origins were recorded: empty)."""
    if not isinstance(origin, dict):
        return ""
    if origin.get("herkomst") == "config":
        return f"configuratie (regelset: {parameter_value(origin.get('regelset_waarde'))})"
    return "regelset"


def parameter_value(v: Any) -> str:
    """A parameter value as a planner reads it: ``250``, ``0,95``, ``ja``, and a table per sector
    as ``logistiek 0,35; glastuinbouw 0,5`` (never a Python dict or list)."""
    if isinstance(v, bool):
        return "ja" if v else "nee"
    if isinstance(v, (int, float)):
        return nl_value(v)
    if isinstance(v, dict):
        return "; ".join(f"{k} {parameter_value(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(parameter_value(x) for x in v)
    if v is None:
        return "–"
    return str(v)


_UNITS = {"fractie": "aandeel (0–1)", "ja/nee": "ja/nee"}


def parameter_rows(run: RunFolder) -> list[list[str]]:
    """The parameters as used in the run: rows of [parameter, waarde, eenheid, omschrijving,
    herkomst]; unit and description from the rule set the run named (empty when unknown)."""
    rs = run.record.get("regelset") or {}
    origins = rs.get("parameters_herkomst") or {}
    known = getattr(run.ruleset, "parameters", None) or {}
    rows = []
    for name, value in (rs.get("parameters") or {}).items():
        param = known.get(name)
        unit = str(getattr(param, "unit", "") or "")
        if isinstance(value, bool):
            unit = "ja/nee"
        rows.append(
            [
                name,
                parameter_value(value),
                _UNITS.get(unit, unit),
                str(getattr(param, "description", "") or ""),
                parameter_origin(origins.get(name)) or "regelset",
            ]
        )
    return rows


#: Row name of the concentration rules (``concentratie.*``) in the constraint table.
_CONCENTRATION = "concentratie per kern ([lagen.kernen], [lagen.bestaande_huisvesting])"


def constraint_rows(record: dict[str, Any]) -> list[list[str]]:
    """Per constraint (a declared layer of the rule set, housing on the employer's yard, the
    concentration per kern and each facility kind ``[lagen.voorzieningen.<soort>]``):
    its rules, whether it was tested, and the number of sites a rule fired for (most over the stay
    types). Rows of [beperking, regels, getoetst, locaties]."""
    rules = (record.get("regelset") or {}).get("regels") or []
    untested = set(record.get("regels_niet_getoetst") or [])
    fired = record.get("regels_gevuurd") or {}
    groups: dict[str, list[str]] = {}
    for rule in rules:
        layer = rule.get("laag")
        if isinstance(layer, dict):
            groups.setdefault(f"[lagen.beperkingen.{layer.get('naam')}]", []).append(rule["id"])
        elif str(rule.get("id", "")).startswith("erf."):
            groups.setdefault("op het erf van de eigen werkgever", []).append(rule["id"])
        elif str(rule.get("id", "")).startswith("concentratie."):
            groups.setdefault(_CONCENTRATION, []).append(rule["id"])
        elif (facility := facility_rule(str(rule.get("id", "")))) is not None:
            groups.setdefault(f"[lagen.voorzieningen.{facility[0]}]", []).append(rule["id"])
    rows = []
    for name, ids in groups.items():
        tested = [i for i in ids if i not in untested]
        count = max((max((fired.get(i) or {}).values(), default=0) for i in tested), default=0)
        if name.startswith("op het erf"):
            missing = "niet getoetst: geen [lagen.werkgevers] of geen werkgever_veld"
        elif name == _CONCENTRATION:
            missing = "niet getoetst: geen [lagen.kernen] met inwoners_veld"
        elif name.startswith("[lagen.voorzieningen."):
            missing = "niet getoetst: de laag of [lagen.wegennet] staat niet in de configuratie"
        else:
            missing = "niet getoetst: de laag staat niet in de configuratie"
        rows.append(
            [
                name,
                ", ".join(ids),
                "getoetst" if tested else missing,
                nl_number(count) if tested else "–",
            ]
        )
    return rows


def record_rows(run: RunFolder) -> dict[str, list[list[str]]]:
    rec = run.record
    inputs = [
        [
            name,
            str(info.get("pad") or ""),
            nl_number(info.get("objecten") or 0),
            str(info.get("crs_bron") or ""),
            nl_datetime(info.get("gewijzigd")) if info.get("gewijzigd") else "",
            str(info.get("sha256") or ""),
        ]
        for name, info in (rec.get("invoer") or {}).items()
    ]

    def seconds(value: Any) -> str:
        return f"{float(value):.2f}".replace(".", ",") + " s"

    times = rec.get("tijden_s") or {}
    timings = [[STEP_NAMES.get(k, k), seconds(v)] for k, v in times.items() if k != "totaal"]
    steps = [
        [f"Analyse: {info.get('titel', key)}", seconds(info.get("seconden", 0))]
        for key, info in (rec.get("stappen") or {}).items()
        if isinstance(info, dict)
    ]
    if "totaal" in times:  # the total last, under the steps it adds up
        steps.append([STEP_NAMES["totaal"], seconds(times["totaal"])])
    general = [
        ["Locatietoets", run.version],
        ["Configuratie", str(rec.get("configuratie") or "")],
        ["Gestart", nl_datetime(rec.get("gestart"))],
        ["Beëindigd", nl_datetime(rec.get("beeindigd"))],
        ["Locaties", nl_number(rec.get("locaties") or len(run.sites))],
        ["Bibliotheken", ", ".join(f"{k} {v}" for k, v in (rec.get("bibliotheken") or {}).items())],
    ]
    skipped = [[k, str(v)] for k, v in (rec.get("niet_uitgevoerd") or {}).items()]
    warnings = [[str(w)] for w in rec.get("waarschuwingen") or []]
    return {
        "algemeen": general,
        "invoer": inputs,
        "tijden": timings + steps,
        "niet_uitgevoerd": skipped,
        "waarschuwingen": warnings,
        "beperkingen": constraint_rows(rec),
    }
