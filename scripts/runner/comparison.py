"""The comparison of two runs (``locatietoets vergelijk``): verdict changes and their causes.

Reads both run folders, compares them (:func:`analysis.planning.comparison.compare_runs`) and
writes the changed sites, transition tables, HTML page and record into a staged folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from locatietoets.analysis.vocabulary import STAY_LABELS

__all__ = ["COMPARISON_FILES", "run_comparison", "write_comparison"]

COMPARISON_FILES = (
    "vergelijking.gpkg",
    "vergelijking_locaties.csv",
    "overgangen.csv",
    "vergelijking_gemeenten.csv",
    "vergelijking.html",
    "vergelijking.json",
)


def run_comparison(
    run_a: Path, run_b: Path, out_dir: Path, *, allow_different_sites: bool = False
) -> tuple[Any, Any, Any, list[str]]:
    """Compare the runs in ``run_a`` (old) and ``run_b`` (new) and write the outputs into
    ``out_dir``; return the comparison, both runs and the files written."""
    from locatietoets.analysis.planning.comparison import compare_runs
    from locatietoets.layers.io.runs import read_run_folder

    a = read_run_folder(run_a, role="A")
    b = read_run_folder(run_b, role="B")
    comparison = compare_runs(
        a.sites,
        b.sites,
        record_a=a.record,
        record_b=b.record,
        allow_different_sites=allow_different_sites,
    )
    return comparison, a, b, write_comparison(comparison, a, b, out_dir)


def write_comparison(comparison, a, b, out_dir: Path) -> list[str]:
    """Write the comparison outputs into ``out_dir`` (staged); return the files."""
    import geopandas as gpd

    from locatietoets.analysis.planning.common import TOTAL_LABEL
    from locatietoets.analysis.ruleset import STAY_TYPES, VERDICTS
    from locatietoets.layers.io.tables import write_json, write_layer, write_table
    from locatietoets.layers.io.write import staged_output
    from locatietoets.layers.publish.pages import html_page, html_table

    changed = comparison.changed
    geometry = b.sites.geometry.to_numpy()[changed["positie_b"].to_numpy(dtype=int)]
    layer = gpd.GeoDataFrame(
        changed.drop(columns=["positie_a", "positie_b"]).reset_index(drop=True),
        geometry=geometry,
        crs=b.sites.crs,
    )
    meta = f"A: {a.label}; B: {b.label}"
    body = [
        f"<p>{len(changed)} van {len(comparison.sites)} locaties krijgen in B een ander oordeel"
        " voor minstens één verblijfstype.</p>"
    ]
    for note in comparison.notes:
        body.append(f"<p><strong>Let op:</strong> {note}</p>")
    body.append("<h2>Verschillen in de regelsets</h2>")
    body.append(
        html_table(
            comparison.parameters,
            columns={
                "parameter": "Parameter",
                "waarde_a": "A",
                "waarde_b": "B",
                "herkomst_a": "Herkomst A",
                "herkomst_b": "Herkomst B",
            },
        )
        if len(comparison.parameters)
        else "<p>Geen verschillen in de gebruikte parameterwaarden.</p>"
    )
    if len(comparison.masked):
        body.append("<h3>Verschillen tussen de regelsets die de configuratie maskeert</h3>")
        body.append(
            html_table(
                comparison.masked,
                columns={
                    "parameter": "Parameter",
                    "gemeente": "Gemeente",
                    "regelset_a": "Regelset A",
                    "regelset_b": "Regelset B",
                    "waarde_a": "Gebruikt in A",
                    "waarde_b": "Gebruikt in B",
                    "herkomst_a": "Herkomst A",
                    "herkomst_b": "Herkomst B",
                },
            )
        )
    body.append(
        html_table(comparison.rules, columns={"regel": "Regel", "wat": "Wat", "a": "A", "b": "B"})
        if len(comparison.rules)
        else "<p>Geen verschillen in regeldefinities.</p>"
    )
    total = comparison.transitions[comparison.transitions["gebied"] == TOTAL_LABEL]
    for stay in STAY_TYPES:
        part = total[total["verblijfstype"] == stay]
        matrix = part.pivot_table(
            index="van", columns="naar", values="aantal", aggfunc="sum", fill_value=0
        )
        order = [v for v in (*VERDICTS, "geen oordeel") if v in matrix.index or v in matrix.columns]
        matrix = matrix.reindex(index=order, columns=order, fill_value=0).reset_index()
        body.append(f"<h3>Overgangen {STAY_LABELS[stay]} (rijen A, kolommen B)</h3>")
        body.append(html_table(matrix, columns={"van": "A \\ B", **{v: v for v in order}}))
    body.append("<h2>Per gemeente</h2>")
    body.append(
        html_table(
            comparison.per_gemeente,
            columns={
                "gebied": "Gemeente",
                "verblijfstype": "Verblijfstype",
                "ongewijzigd": "Ongewijzigd",
                "strenger": "Strenger in B",
                "soepeler": "Soepeler in B",
            },
        )
    )
    body.append("<h2>Gewijzigde locaties (eerste 200)</h2>")
    body.append(
        html_table(
            changed.head(200),
            columns={
                "locatie_id": "Locatie",
                "gemeente": "Gemeente",
                "wijziging": "Wijziging",
                "oorzaak": "Oorzaak",
            },
        )
    )
    rs_a, rs_b = a.record.get("regelset") or {}, b.record.get("regelset") or {}
    with staged_output(out_dir) as stage:
        if len(layer):
            write_layer(layer, stage / "vergelijking.gpkg", layer="gewijzigde_locaties")
        write_table(
            changed.drop(columns=["positie_a", "positie_b"]), stage / "vergelijking_locaties.csv"
        )
        write_table(comparison.transitions, stage / "overgangen.csv")
        write_table(comparison.per_gemeente, stage / "vergelijking_gemeenten.csv")
        (stage / "vergelijking.html").write_text(
            html_page("Vergelijking van twee runs", "".join(body), meta=meta), encoding="utf-8"
        )
        write_json(
            {
                "run_a": {
                    "pad": str(a.path),
                    "regelset": {k: rs_a.get(k) for k in ("id", "versie", "vingerafdruk")},
                },
                "run_b": {
                    "pad": str(b.path),
                    "regelset": {k: rs_b.get(k) for k in ("id", "versie", "vingerafdruk")},
                },
                "locaties_vergeleken": int(len(comparison.sites)),
                "locaties_gewijzigd": int(len(changed)),
                "alleen_in_a": len(comparison.only_a),
                "alleen_in_b": len(comparison.only_b),
                "parameters": comparison.parameters.to_dict(orient="records"),
                "regels": comparison.rules.to_dict(orient="records"),
                "gemaskeerde_parameters": comparison.masked.to_dict(orient="records"),
                "opmerkingen": comparison.notes,
            },
            stage / "vergelijking.json",
        )
    files = (["vergelijking.gpkg"] if len(layer) else []) + [
        "vergelijking_locaties.csv",
        "overgangen.csv",
        "vergelijking_gemeenten.csv",
        "vergelijking.html",
        "vergelijking.json",
    ]
    return files
