"""The capacity analysis (``locatietoets capaciteit``): capacity of a run against demand.

Reads the run folder and the demand table, balances them per gemeente and region
(:func:`analysis.planning.capacity.capacity_balance`) and writes the GeoPackage, CSV tables,
map, HTML page and record into a staged folder.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from locatietoets.analysis.vocabulary import STAY_LABELS
from locatietoets.layers.io.tables import json_float

__all__ = ["CAPACITY_FILES", "run_capacity", "write_capacity"]

#: work).
CAPACITY_FILES = (
    "capaciteit.gpkg",
    "capaciteit_gemeenten.csv",
    "capaciteit_regios.csv",
    "capaciteit_kernen.csv",
    "capaciteit.png",
    "capaciteit.html",
    "capaciteit.json",
)


def run_capacity(
    run_dir: Path, demand_path: Path, out_dir: Path, *, basis: str = "beoogd"
) -> tuple[Any, list[str]]:
    """Balance the capacity of the run in ``run_dir`` against the demand table and write the
    outputs into ``out_dir``; return the balance and the files written."""
    from locatietoets.analysis.planning.capacity import capacity_balance, match_gemeenten
    from locatietoets.layers.io.demand import read_demand_table
    from locatietoets.layers.io.runs import read_run_folder

    run = read_run_folder(run_dir, need_gemeenten=True)
    demand = read_demand_table(demand_path)
    demand["positie"] = match_gemeenten(
        demand["gemeente"], names=run.gemeenten["naam"], codes=run.gemeenten["code"]
    )
    share = ((run.record.get("regelset") or {}).get("parameters") or {}).get("max_aandeel_kern")
    balance = capacity_balance(
        run.sites,
        demand,
        run.gemeenten,
        basis=basis,
        max_share_kern=float(share) if isinstance(share, (int, float)) else None,
    )
    return balance, write_capacity(balance, run, demand_path, out_dir)


def write_capacity(balance, run, demand_path: Path, out_dir: Path) -> list[str]:
    """Write the capacity outputs of ``balance`` into ``out_dir`` (staged); return the files."""
    import geopandas as gpd

    from locatietoets.analysis.planning.common import TOTAL_LABEL
    from locatietoets.analysis.ruleset import STAY_TYPES
    from locatietoets.layers.io.read import file_sha256
    from locatietoets.layers.io.tables import write_json, write_layer, write_table
    from locatietoets.layers.io.write import staged_output
    from locatietoets.layers.publish.choropleth import write_choropleth
    from locatietoets.layers.publish.pages import html_page, html_table

    gem = gpd.GeoDataFrame(
        balance.gemeenten.copy(), geometry=run.gemeenten.geometry.to_numpy(), crs=run.gemeenten.crs
    )
    regions = gem.dissolve(by="regio", as_index=False)[["regio", "geometry"]]
    reg = gpd.GeoDataFrame(
        balance.regios.merge(regions, on="regio", how="left"), geometry="geometry", crs=gem.crs
    )
    reg = reg[reg["regio"] != TOTAL_LABEL]
    rs = run.record.get("regelset") or {}
    basis = (
        "eigen verblijfstype van de locatie"
        if balance.basis == "beoogd"
        else "alle verblijfstypen per locatie"
    )
    subtitle = (
        f"Regelset {rs.get('id', '?')} versie {rs.get('versie', '')}; basis: {basis}; behoefte"
        f" uit {demand_path.name}"
    )
    columns_gem = {
        "naam": "Gemeente",
        "code": "Code",
        "regio": "Regio",
        "behoefte_totaal": "Behoefte",
        "capaciteit_geschikt_totaal": "Capaciteit geschikt",
        "capaciteit_voorwaardelijk_totaal": "Capaciteit voorwaardelijk",
        "tekort_totaal": "Tekort (geschikt)",
        "tekort_incl_voorwaardelijk_totaal": "Tekort incl. voorwaardelijk",
    }
    body = [
        (
            "<p>Capaciteit in personen van geschikte en voorwaardelijke locaties tegenover de"
            " opgegeven behoefte. Saldo = capaciteit geschikt − behoefte (negatief = tekort). Het"
            " tekort telt per verblijfstype op, zodat een overschot aan short-stay geen tekort aan"
            " long-stay verbergt. Behoefte opgegeven voor:"
            f" {', '.join(STAY_LABELS[s] for s in balance.stay_types)}.</p>"
        ),
        "<h2>Per regio</h2>",
        html_table(
            balance.regios,
            columns={
                "regio": "Regio",
                "behoefte_totaal": "Behoefte",
                "capaciteit_geschikt_totaal": "Capaciteit geschikt",
                "capaciteit_voorwaardelijk_totaal": "Capaciteit voorwaardelijk",
                "tekort_totaal": "Tekort (geschikt)",
                "tekort_incl_voorwaardelijk_totaal": "Tekort incl. voorwaardelijk",
                "gemeenten_met_tekort": "Gemeenten met tekort",
                "gemeenten_zonder_opgave": "Gemeenten zonder opgave",
            },
        ),
        "<h2>Per gemeente</h2>",
        html_table(balance.gemeenten, columns=columns_gem),
    ]
    for stay in STAY_TYPES:
        if stay not in balance.stay_types:
            continue
        body.append(f"<h3>{STAY_LABELS[stay]} per gemeente</h3>")
        body.append(
            html_table(
                balance.gemeenten,
                columns={
                    "naam": "Gemeente",
                    f"behoefte_{stay}": "Behoefte",
                    f"capaciteit_geschikt_{stay}": "Capaciteit geschikt",
                    f"capaciteit_voorwaardelijk_{stay}": "Capaciteit voorwaardelijk",
                    f"saldo_{stay}": "Saldo",
                    f"saldo_incl_voorwaardelijk_{stay}": "Saldo incl. voorwaardelijk",
                },
                negative_red=(f"saldo_{stay}", f"saldo_incl_voorwaardelijk_{stay}"),
            )
        )
    if balance.outside:
        body.append(
            f'<p class="meta">{balance.outside} geschikte of voorwaardelijke locaties met'
            " capaciteit liggen buiten de gemeenten en tellen niet mee.</p>"
        )
    kernen = balance.kernen if balance.kernen is not None and len(balance.kernen) else None
    if kernen is not None:
        body.append("<h2>Concentratie per kern als alle geschikte locaties gebouwd worden</h2>")
        body.append(
            "<p>Per kern met een locatie: arbeidsmigranten in bestaande huisvesting plus de"
            " bruikbare capaciteit van de locaties die geschikt zijn voor hun eigen"
            " verblijfstype, als aandeel van de inwoners.</p>"
        )
        from locatietoets.analysis.vocabulary import nl_number

        shown = kernen.assign(
            **{
                c: [f"{nl_number(v * 100, 1)} %" for v in kernen[c]]
                for c in ("aandeel_nu", "aandeel_na_bouw")
            },
            boven_maximum=kernen.get("boven_maximum", False),
        )
        body.append(
            html_table(
                shown,
                columns={
                    "kern": "Kern",
                    "inwoners": "Inwoners",
                    "bestaand": "Bestaande huisvesting (personen)",
                    "locaties": "Geschikte locaties",
                    "capaciteit": "Capaciteit geschikt",
                    "aandeel_nu": "Aandeel nu",
                    "aandeel_na_bouw": "Aandeel na bouw",
                    **({"boven_maximum": "Boven maximum"} if "boven_maximum" in kernen else {}),
                },
            )
        )
    body.append(
        '<p><img src="capaciteit.png" alt="Kaart: tekort per gemeente" style="max-width:100%"></p>'
    )
    with staged_output(out_dir) as stage:
        write_layer(gem, stage / "capaciteit.gpkg", layer="capaciteit_gemeenten")
        write_layer(reg, stage / "capaciteit.gpkg", layer="capaciteit_regios")
        write_table(balance.gemeenten, stage / "capaciteit_gemeenten.csv")
        write_table(balance.regios, stage / "capaciteit_regios.csv")
        if kernen is not None:
            write_table(kernen, stage / "capaciteit_kernen.csv")
        write_choropleth(
            gem,
            stage / "capaciteit.png",
            column="tekort_totaal",
            title="Tekort aan geschikte capaciteit per gemeente",
            subtitle=subtitle,
            legend_title="Tekort (personen)",
            demo=_is_demo(run.sites),
        )
        (stage / "capaciteit.html").write_text(
            html_page("Capaciteit tegenover behoefte", "".join(body), meta=subtitle),
            encoding="utf-8",
        )
        write_json(
            {
                "run": str(run.path),
                "regelset": {k: rs.get(k) for k in ("id", "versie", "vingerafdruk")},
                "behoefte": {"pad": str(demand_path), "sha256": file_sha256(Path(demand_path))},
                "basis": balance.basis,
                "verblijfstypen": list(balance.stay_types),
                "buiten_gemeenten": balance.outside,
                "totaal": {
                    k: json_float(v) for k, v in balance.regios.iloc[-1].items() if k != "regio"
                },
                "gemaakt": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            },
            stage / "capaciteit.json",
        )
    return [
        "capaciteit.gpkg",
        "capaciteit_gemeenten.csv",
        "capaciteit_regios.csv",
        *(["capaciteit_kernen.csv"] if kernen is not None else []),
        "capaciteit.png",
        "capaciteit.html",
        "capaciteit.json",
    ]


def _is_demo(sites) -> bool:
    """True when the sites come from the fictional demo region (their ``bron`` says FICTIEF)."""
    if "bron" not in sites:
        return False
    return bool(sites["bron"].dropna().astype(str).str.contains("FICTIEF", case=False).any())
