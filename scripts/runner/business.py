"""The business-location check (``locatietoets bedrijfslocatie``): housing effect of a plan.

Estimates the labour migrants and beds a plan brings (rule-set key figures), scores the config's
sites once (:func:`scripts.runner.prepare.prepare`), counts the capacity of suitable and
conditional sites within the plan's travel time and writes the record, plan layer and summary.
"""

from __future__ import annotations

from collections.abc import Callable
import datetime as dt
from pathlib import Path
from typing import Any

from locatietoets.analysis.texts import nl_number, nl_value
from locatietoets.layers.io.tables import json_float

__all__ = ["BUSINESS_FILES", "business_text", "run_business_check"]

BUSINESS_FILES = ("bedrijfslocatie.json", "bedrijfslocatie.gpkg", "bedrijfslocatie.txt")


def run_business_check(
    config,
    plan_path: Path,
    out_dir: Path,
    *,
    layer: str | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> dict[str, Any]:
    """Estimate the housing effect of the plans in ``plan_path`` and write the outputs; return the
    record."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely

    from locatietoets.analysis.pipeline import MODE_TEXT, score_sites
    from locatietoets.analysis.planning.business import capacity_within_reach, plan_demand
    from locatietoets.analysis.planning.common import TOTAL_LABEL
    from locatietoets.layers.io.plans import read_plans
    from locatietoets.layers.io.read import RD_NEW
    from locatietoets.layers.io.tables import write_json, write_layer
    from locatietoets.layers.io.write import merge_results, staged_output
    from locatietoets.scripts.runner.prepare import prepare

    def report(fraction: float, message: str) -> None:
        if progress is not None:
            progress(fraction, message)

    plans, plan_report = read_plans(plan_path, layer=layer)
    loaded = prepare(
        config,
        network_without_employers=True,
        progress=lambda step, message, f: report(f, message),
        share=0.2,
    )
    rs = loaded.ruleset
    estimate = plan_demand(
        plans.drop(columns="geometry"),
        migrants_per_job=rs.value("arbeidsmigranten_per_baan"),
        migrants_per_ha=rs.value("arbeidsmigranten_per_ha"),
        beds_per_migrant=float(rs.value("bedden_per_arbeidsmigrant")),
        max_expansion_ha=float(rs.value("bedrijf_max_uitbreiding_ha")),
    )
    report(0.25, "Locaties toetsen")
    result = score_sites(
        loaded.inputs_for(loaded.sites),
        rs,
        network_mode=loaded.network_mode,
        progress=lambda step, msg, f: report(0.25 + 0.5 * f, msg),
    )
    results = result.results
    sites = loaded.sites
    has_geom = ~(sites.geometry.isna() | sites.geometry.is_empty).to_numpy()
    geo = sites.geometry[has_geom]
    mode = loaded.network_mode
    max_minutes = float(rs.value(f"reistijd_max_{mode}_min"))
    warnings = loaded.layer_warnings() + loaded.notes
    if loaded.network is None:
        speed_kmh = float(
            rs.value("snelheid_lopen_kmh" if mode == "lopen" else "snelheid_fiets_kmh")
        )
        if mode == "auto":
            mode, speed_kmh, max_minutes = (
                "fiets",
                float(rs.value("snelheid_fiets_kmh")),
                float(rs.value("reistijd_max_fiets_min")),
            )
        warnings.append(
            f"Geen wegennet in de configuratie: reistijd hemelsbreed benaderd ({MODE_TEXT[mode]},"
            f" {nl_value(speed_kmh)} km/u, maximaal {nl_value(max_minutes)} min ="
            f" {nl_value(round(speed_kmh * max_minutes / 60, 1))}"
            " km). Over de weg is de reistijd langer: voeg [lagen.wegennet] toe voor een"
            " betrouwbare telling."
        )
    rows = []
    counted_frames = []
    for i, plan in enumerate(
        plans.itertuples(index=False)
    ):  # one network run per plan (a handful of plans)
        report(0.75 + 0.2 * i / max(len(plans), 1), f"Reistijd naar '{plan.naam}'")
        minutes = np.full(len(sites), np.nan)
        if loaded.network is not None:
            from locatietoets.analysis.travel import travel_to_employers

            target = gpd.GeoDataFrame(
                {"naam": [str(plan.naam)]}, geometry=[plan.geometry], crs=RD_NEW
            )
            travel = travel_to_employers(
                geo,
                target,
                loaded.network,
                max_minutes=max_minutes,
                max_snap_m=float(rs.value("max_aansluitafstand_m")),
            )
            minutes[has_geom] = travel["werkgever_reistijd_min"].to_numpy(dtype=float)
            basis = f"over het wegennet {MODE_TEXT[mode]}"
        else:
            distance = shapely.distance(geo.to_numpy(), plan.geometry)
            minutes[has_geom] = distance / (speed_kmh * 1000.0 / 60.0)
            basis = f"hemelsbreed {MODE_TEXT[mode]} ({nl_value(speed_kmh)} km/u)"
        table, counted = capacity_within_reach(results, minutes, max_minutes=max_minutes)
        total = table.set_index("verblijfstype").loc[TOTAL_LABEL]
        est = estimate.iloc[i]
        beds = float(est["bedden"])
        cap_g, cap_v = (
            float(total["capaciteit_geschikt"]),
            float(total["capaciteit_voorwaardelijk"]),
        )
        rows.append(
            {
                "naam": str(plan.naam),
                "sector": est["sector"],
                "banen": json_float(est["banen"]),
                "oppervlakte_ha": json_float(est["oppervlakte_ha"]),
                "oppervlakte_bron": plan.oppervlakte_bron,
                "grondslag": est["grondslag"],
                "kental": float(est["kental"]),
                "arbeidsmigranten": round(float(est["arbeidsmigranten"]), 1),
                "bedden": round(beds, 1),
                "reistijd_max_min": max_minutes,
                "reistijd_basis": basis,
                "locaties_geschikt": int(total["locaties_geschikt"]),
                "capaciteit_geschikt": cap_g,
                "locaties_voorwaardelijk": int(total["locaties_voorwaardelijk"]),
                "capaciteit_voorwaardelijk": cap_v,
                "locaties_zonder_capaciteit": int(total["zonder_capaciteit"]),
                "tekort_geschikt": round(max(0.0, beds - cap_g), 1),
                "tekort_incl_voorwaardelijk": round(max(0.0, beds - cap_g - cap_v), 1),
                "boven_max_ha": bool(est["boven_max_ha"]),
                "signaal": est["signaal"],
                "per_verblijfstype": table.to_dict(orient="records"),
            }
        )
        part = merge_results(loaded.original, results)[0].loc[counted].copy()
        part["bedrijfslocatie"] = str(plan.naam)
        part["reistijd_naar_plan_min"] = minutes[counted]
        counted_frames.append(part)
    report(0.95, "Uitvoer wegschrijven")
    plan_layer = plans.copy()
    for key in (
        "sector",
        "grondslag",
        "kental",
        "arbeidsmigranten",
        "bedden",
        "boven_max_ha",
        "signaal",
    ):
        plan_layer[key] = estimate[key].to_numpy()
    for key in (
        "locaties_geschikt",
        "capaciteit_geschikt",
        "locaties_voorwaardelijk",
        "capaciteit_voorwaardelijk",
        "tekort_geschikt",
        "tekort_incl_voorwaardelijk",
    ):
        plan_layer[key] = [r[key] for r in rows]
    record = {
        **loaded.record(),
        "bedrijfslocatie": {
            "pad": str(plan_path),
            "sha256": plan_report.sha256,
            "objecten": plan_report.features,
        },
        "kengetallen": {
            k: rs.value(k)
            for k in (
                "arbeidsmigranten_per_baan",
                "arbeidsmigranten_per_ha",
                "bedden_per_arbeidsmigrant",
                "bedrijf_max_uitbreiding_ha",
            )
        },
        "plannen": rows,
        "waarschuwingen": warnings,
        "gestart": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    files = ["bedrijfslocatie.json", "bedrijfslocatie.gpkg", "bedrijfslocatie.txt"]
    record["bestanden"] = files
    with staged_output(Path(out_dir)) as stage:
        write_layer(plan_layer, stage / "bedrijfslocatie.gpkg", layer="plan")
        counted_all = pd.concat(counted_frames, ignore_index=True) if counted_frames else None
        if counted_all is not None and len(counted_all):
            write_layer(
                gpd.GeoDataFrame(counted_all, geometry=counted_all.geometry.name, crs=RD_NEW),
                stage / "bedrijfslocatie.gpkg",
                layer="locaties_binnen_bereik",
            )
        write_json(record, stage / "bedrijfslocatie.json")
        (stage / "bedrijfslocatie.txt").write_text(business_text(record), encoding="utf-8")
    report(1.0, "Klaar")
    return record


def business_text(record: dict[str, Any]) -> str:
    """The short Dutch summary of a business-location check (plain text)."""
    lines = []
    for plan in record["plannen"]:
        basis = (
            f"{nl_number(plan['banen'])} banen × {nl_number(plan['kental'], 2)} arbeidsmigranten"
            " per baan"
            if plan["grondslag"] == "banen"
            else (
                f"{nl_number(plan['oppervlakte_ha'], 1)} ha × {nl_number(plan['kental'], 1)}"
                " arbeidsmigranten per ha"
            )
        )
        lines += [
            (
                f"Bedrijfslocatie '{plan['naam']}' (sector {plan['sector']},"
                f" {nl_number(plan['oppervlakte_ha'], 1)} ha):"
            ),
            (
                f"  verwacht {nl_number(plan['arbeidsmigranten'])} arbeidsmigranten ({basis}),"
                f" {nl_number(plan['bedden'])} bedden nodig;"
            ),
            (
                f"  binnen {nl_number(plan['reistijd_max_min'])} min ({plan['reistijd_basis']}):"
                f" {nl_number(plan['capaciteit_geschikt'])} plaatsen in {plan['locaties_geschikt']}"
                f" geschikte en {nl_number(plan['capaciteit_voorwaardelijk'])} in"
                f" {plan['locaties_voorwaardelijk']} voorwaardelijke locaties;"
            ),
            (
                f"  tekort {nl_number(plan['tekort_geschikt'])} bedden (met voorwaardelijke"
                f" locaties: {nl_number(plan['tekort_incl_voorwaardelijk'])})."
            ),
        ]
        if plan["locaties_zonder_capaciteit"]:
            lines.append(
                f"  {plan['locaties_zonder_capaciteit']} geschikte/voorwaardelijke locaties binnen"
                " bereik hebben geen bekende capaciteit en tellen niet mee."
            )
        if plan["signaal"]:
            lines.append("  SIGNAAL: " + plan["signaal"])
    for warning in record["waarschuwingen"]:
        lines.append("Let op: " + warning)
    return "\n".join(lines) + "\n"
