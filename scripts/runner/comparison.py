"""The comparison of two runs (``locatietoets vergelijk``): verdict changes and their causes.

Reads both run folders, compares them (:func:`analysis.planning.comparison.compare_runs`) and
writes the changed sites, transition tables, HTML page and record into a staged folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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

    from locatietoets.layers.io.tables import write_json, write_layer, write_table
    from locatietoets.layers.io.write import staged_output
    from locatietoets.layers.publish.comparison import comparison_html

    changed = comparison.changed
    geometry = b.sites.geometry.to_numpy()[changed["positie_b"].to_numpy(dtype=int)]
    layer = gpd.GeoDataFrame(
        changed.drop(columns=["positie_a", "positie_b"]).reset_index(drop=True),
        geometry=geometry,
        crs=b.sites.crs,
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
            comparison_html(comparison, a, b, layer), encoding="utf-8"
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
