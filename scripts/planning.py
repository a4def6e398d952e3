"""Commands of the planning analyses: ``capaciteit``, ``vergelijk``, ``raster``,
``bedrijfslocatie``.

Each is a click command object that ``scripts.cli`` registers on the main
group. Errors the user can fix print a Dutch message and exit with code 2
(``scripts.console.fail``); outputs are written into a staged folder and moved
into place only when complete (``layers.io.write.staged_output``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
import datetime as dt
import logging
from pathlib import Path
import time
from typing import Any, Iterator

import click

from locatietoets.analysis.texts import nl_number
from locatietoets.analysis.vocabulary import STAY_LABELS
from locatietoets.scripts.console import (
    CONTEXT,
    DEBUG_OPTION,
    emit_json,
    err_console,
    fail,
    out_console,
    setup_logging,
    summary_table,
)

__all__ = ["capaciteit", "vergelijk", "raster", "bedrijfslocatie", "DEFAULT_CHUNK"]

log = logging.getLogger(__name__)

#: Grid cells scored per call of ``score_sites`` in ``raster``.
DEFAULT_CHUNK = 200_000
#: The files each command writes into its output folder (checked against its inputs before any
#: work).
CAPACITY_FILES = (
    "capaciteit.gpkg",
    "capaciteit_gemeenten.csv",
    "capaciteit_regios.csv",
    "capaciteit.png",
    "capaciteit.html",
    "capaciteit.json",
)
COMPARISON_FILES = (
    "vergelijking.gpkg",
    "vergelijking_locaties.csv",
    "overgangen.csv",
    "vergelijking_gemeenten.csv",
    "vergelijking.html",
    "vergelijking.json",
)
RASTER_FILES = ("score_*.tif", "oordeel_*.tif", "oordeel_*.qml", "raster.json")
BUSINESS_FILES = ("bedrijfslocatie.json", "bedrijfslocatie.gpkg", "bedrijfslocatie.txt")
_STAY_NL = STAY_LABELS


@contextmanager
def _errors(mode: str, debug: bool) -> Iterator[None]:
    """Turn every error into a Dutch message and an exit code (2 for errors the user can fix)."""
    setup_logging(mode, debug)
    try:
        yield
    except click.exceptions.Exit:
        raise
    except (
        Exception,
        KeyboardInterrupt,
    ) as exc:  # noqa: BLE001 - last line of defence: no traceback for users
        fail(exc, mode, debug)


@contextmanager
def _progress(mode: str) -> Iterator[Callable[[float, str], None]]:
    """Yield ``progress(fraction, message)`` drawing a bar (balk), JSON lines (json) or nothing."""
    if mode == "balk":
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(
            TextColumn("[bold]{task.description:<48}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=err_console,
            transient=False,
        ) as bar:
            task = bar.add_task("Starten", total=1.0)
            yield lambda fraction, message: bar.update(
                task, completed=min(max(fraction, 0.0), 1.0), description=message[:48]
            )
    elif mode == "json":
        yield lambda fraction, message: emit_json(
            {"type": "stap", "titel": message, "voortgang": round(fraction, 4)}
        )
    else:
        yield lambda fraction, message: None


def _finish(
    mode: str, out_dir: Path, files: list[str], extra: dict[str, Any] | None = None
) -> None:
    if mode == "json":
        emit_json({"type": "klaar", "uitvoer": str(out_dir), "bestanden": files, **(extra or {})})
    elif mode == "balk":
        from rich.markup import escape

        out_console.print(f"Uitvoer in [bold]{escape(str(out_dir))}[/]: {escape(', '.join(files))}")


_VOORTGANG = click.option(
    "--voortgang",
    type=click.Choice(["balk", "json", "geen"]),
    default="balk",
    show_default=True,
    help=(
        "Voortgang en samenvatting in de terminal (balk), als JSON-regels op stdout (voor de"
        " QGIS-plugin) of niet tonen."
    ),
)
_OUT = click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Uitvoermap (standaard een submap van de run of naast de configuratie).",
)


# ---------------------------------------------------------------------------
# capaciteit
# ---------------------------------------------------------------------------


@click.command(
    "capaciteit",
    context_settings=CONTEXT,
    options_metavar="[OPTIES]",
    epilog="Formaat behoeftetabel: "
    + "CSV met ';' of ',' als scheidingsteken (UTF-8), één regel per gemeente: "
    "kolom 'gemeente' (naam of CBS-code GMxxxx) en per verblijfstype de behoefte in personen in"
    " kolommen "
    "short_stay, mid_stay, long_stay (minstens één). Voorbeeld:\n\n"
    "\b\ngemeente;short_stay;mid_stay;long_stay\nVenlo;1200;400;250\nGM0984;800;150;100",
)
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--behoefte",
    "behoefte",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help=(
        "Behoeftetabel (CSV) per gemeente: kolom 'gemeente' (naam of CBS-code) en kolommen"
        " short_stay, mid_stay, long_stay met de behoefte in personen; ';' of ',' als"
        " scheidingsteken."
    ),
)
@click.option(
    "--basis",
    type=click.Choice(["beoogd", "alle"]),
    default="beoogd",
    show_default=True,
    help=(
        "beoogd: een locatie telt alleen voor haar eigen verblijfstype (geen dubbeltelling); alle:"
        " elke locatie telt voor elk verblijfstype waarvoor zij geschikt is."
    ),
)
@_OUT
@_VOORTGANG
@DEBUG_OPTION
def capaciteit(
    run_dir: Path, behoefte: Path, basis: str, out: Path | None, voortgang: str, debug: bool
) -> None:
    """Capaciteit tegenover behoefte per gemeente en regio, voor een run (RUN_DIR).

    Telt de capaciteit (personen) van geschikte en van voorwaardelijke
    locaties per verblijfstype en zet die tegenover de behoefte uit de
    behoeftetabel: saldo, tekort en overschot. Schrijft capaciteit.gpkg
    (gemeenten en regio's), capaciteit_gemeenten.csv, capaciteit_regios.csv,
    capaciteit.png (kaart van het tekort) en capaciteit.html.
    """
    with _errors(voortgang, debug):
        from locatietoets.analysis.planning.capacity import capacity_balance, match_gemeenten
        from locatietoets.layers.io.outdir import claim_output, run_inputs
        from locatietoets.layers.planning_io import read_demand_table, read_run_folder

        out_dir = out or (Path(run_dir) / "capaciteit")
        with claim_output(out_dir, inputs=[*run_inputs(run_dir), behoefte], outputs=CAPACITY_FILES):
            run = read_run_folder(run_dir, need_gemeenten=True)
            demand = read_demand_table(behoefte)
            demand["positie"] = match_gemeenten(
                demand["gemeente"], names=run.gemeenten["naam"], codes=run.gemeenten["code"]
            )
            balance = capacity_balance(run.sites, demand, run.gemeenten, basis=basis)
            files = _write_capacity(balance, run, behoefte, out_dir)
    if voortgang == "balk":
        _print_capacity(balance)
    _finish(
        voortgang,
        out_dir,
        files,
        {"tekort_totaal": _float(balance.regios["tekort_totaal"].iloc[-1])},
    )


def _float(value: Any) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if value == value else None


def _write_capacity(balance, run, demand_path: Path, out_dir: Path) -> list[str]:
    import geopandas as gpd

    from locatietoets.analysis.planning.common import TOTAL_LABEL
    from locatietoets.analysis.ruleset import STAY_TYPES
    from locatietoets.layers.io.read import file_sha256
    from locatietoets.layers.io.write import staged_output
    from locatietoets.layers.planning_io import (
        html_page,
        html_table,
        write_choropleth,
        write_json,
        write_layer,
        write_table,
    )

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
        f"Run {run.path.name}, regelset {rs.get('id', '?')} {rs.get('versie', '')}; basis:"
        f" {basis};"
        f" behoefte uit {demand_path.name}"
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
            f" {', '.join(_STAY_NL[s] for s in balance.stay_types)}.</p>"
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
        body.append(f"<h3>{_STAY_NL[stay]} per gemeente</h3>")
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
    body.append(
        '<p><img src="capaciteit.png" alt="Kaart: tekort per gemeente" style="max-width:100%"></p>'
    )
    with staged_output(out_dir) as stage:
        write_layer(gem, stage / "capaciteit.gpkg", layer="capaciteit_gemeenten")
        write_layer(reg, stage / "capaciteit.gpkg", layer="capaciteit_regios")
        write_table(balance.gemeenten, stage / "capaciteit_gemeenten.csv")
        write_table(balance.regios, stage / "capaciteit_regios.csv")
        write_choropleth(
            gem,
            stage / "capaciteit.png",
            column="tekort_totaal",
            title="Tekort aan geschikte capaciteit per gemeente",
            subtitle=subtitle,
            legend_title="Tekort (personen)",
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
                    k: _float(v) for k, v in balance.regios.iloc[-1].items() if k != "regio"
                },
                "gemaakt": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            },
            stage / "capaciteit.json",
        )
    return [
        "capaciteit.gpkg",
        "capaciteit_gemeenten.csv",
        "capaciteit_regios.csv",
        "capaciteit.png",
        "capaciteit.html",
        "capaciteit.json",
    ]


def _print_capacity(balance) -> None:
    from rich.table import Table

    table = Table(title="Capaciteit tegenover behoefte per regio (personen)", title_justify="left")
    for col in (
        "Regio",
        "Behoefte",
        "Geschikt",
        "Voorwaardelijk",
        "Tekort",
        "Tekort incl. voorw.",
        "Gemeenten met tekort",
    ):
        table.add_column(col, justify="left" if col == "Regio" else "right")
    for row in balance.regios.itertuples(index=False):
        table.add_row(
            str(row.regio),
            nl_number(row.behoefte_totaal),
            nl_number(row.capaciteit_geschikt_totaal),
            nl_number(row.capaciteit_voorwaardelijk_totaal),
            nl_number(row.tekort_totaal),
            nl_number(row.tekort_incl_voorwaardelijk_totaal),
            str(row.gemeenten_met_tekort),
        )
    out_console.print(table)


# ---------------------------------------------------------------------------
# vergelijk
# ---------------------------------------------------------------------------


@click.command("vergelijk", context_settings=CONTEXT, options_metavar="[OPTIES]")
@click.argument("run_a", type=click.Path(path_type=Path, file_okay=False))
@click.argument("run_b", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--toch",
    is_flag=True,
    help=(
        "Ook vergelijken als de runs niet op dezelfde locaties zijn gedraaid: alleen de"
        " gemeenschappelijke locatie-id's."
    ),
)
@_OUT
@_VOORTGANG
@DEBUG_OPTION
def vergelijk(
    run_a: Path, run_b: Path, toch: bool, out: Path | None, voortgang: str, debug: bool
) -> None:
    """Vergelijk twee runs op dezelfde locaties (bv. POVI 2021 en een ontwerp-herziening).

    Geeft per locatie het oude (A) en nieuwe (B) oordeel per verblijfstype en
    welke regels dat veranderden (regels erbij, vervallen of anders
    gedefinieerd), de verschillen in parameters en regels van de twee
    regelsets, en per gemeente de overgangen (geschikt → voorwaardelijk enz.).
    Schrijft vergelijking.gpkg (gewijzigde locaties), CSV's en
    vergelijking.html.
    """
    with _errors(voortgang, debug):
        from locatietoets.analysis.planning.comparison import compare_runs
        from locatietoets.layers.io.outdir import claim_output, run_inputs
        from locatietoets.layers.planning_io import read_run_folder

        out_dir = out or (Path(run_b) / "vergelijking")
        with claim_output(
            out_dir, inputs=[*run_inputs(run_a), *run_inputs(run_b)], outputs=COMPARISON_FILES
        ):
            a = read_run_folder(run_a, role="A")
            b = read_run_folder(run_b, role="B")
            comparison = compare_runs(
                a.sites, b.sites, record_a=a.record, record_b=b.record, allow_different_sites=toch
            )
            files = _write_comparison(comparison, a, b, out_dir)
    if voortgang == "balk":
        _print_comparison(comparison, a, b)
    _finish(
        voortgang,
        out_dir,
        files,
        {"gewijzigd": int(comparison.sites["gewijzigd"].sum()), "opmerkingen": comparison.notes},
    )


def _write_comparison(comparison, a, b, out_dir: Path) -> list[str]:
    import geopandas as gpd

    from locatietoets.analysis.planning.common import TOTAL_LABEL
    from locatietoets.analysis.ruleset import STAY_TYPES, VERDICTS
    from locatietoets.layers.io.write import staged_output
    from locatietoets.layers.planning_io import (
        html_page,
        html_table,
        write_json,
        write_layer,
        write_table,
    )

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
        body.append(f"<h3>Overgangen {_STAY_NL[stay]} (rijen A, kolommen B)</h3>")
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


def _print_comparison(comparison, a, b) -> None:
    from rich.markup import escape
    from rich.table import Table

    from locatietoets.analysis.ruleset import STAY_TYPES

    for note in comparison.notes:
        out_console.print(f"[yellow]Let op: {escape(note)}[/]")
    out_console.print(f"A: {escape(a.label)}\nB: {escape(b.label)}")
    if len(comparison.parameters):
        out_console.print(
            "Parameters anders: "
            + escape(
                ", ".join(
                    f"{r.parameter} {r.waarde_a} → {r.waarde_b}"
                    for r in comparison.parameters.itertuples()
                )
            )
        )
    elif len(comparison.masked):
        out_console.print(
            "Gebruikte parameterwaarden gelijk, maar de configuratie maskeert verschillen tussen de"
            " regelsets (zie 'Let op')."
        )
    else:
        out_console.print("Geen verschillen in parameters.")
    if len(comparison.rules):
        verdicts = comparison.rules[
            ~comparison.rules["wat"].str.match(r"(reden|titel|bron|betrouwbaarheid)")
        ]
        texts = comparison.rules.drop(verdicts.index)
        if len(verdicts):
            out_console.print(
                "Regels anders: "
                + escape(
                    ", ".join(f"{r.regel} ({r.wat}: {r.a} → {r.b})" for r in verdicts.itertuples())
                )
            )
        if len(texts):
            per_rule: dict[str, list[str]] = {}
            for r in texts.itertuples():
                per_rule.setdefault(r.regel, []).append(r.wat)
            out_console.print(
                "Teksten anders (zie vergelijking.html): "
                + escape("; ".join(f"{k}: {', '.join(v)}" for k, v in per_rule.items()))
            )
    else:
        out_console.print("Geen verschillen in regeldefinities.")
    table = Table(title="Gewijzigde oordelen (alle locaties)", title_justify="left")
    for col in ("Verblijfstype", "Ongewijzigd", "Strenger in B", "Soepeler in B"):
        table.add_column(col, justify="left" if col == "Verblijfstype" else "right")
    totals = comparison.per_gemeente.groupby("verblijfstype")[
        ["ongewijzigd", "strenger", "soepeler"]
    ].sum()
    for stay in STAY_TYPES:
        if stay in totals.index:
            row = totals.loc[stay]
            table.add_row(
                _STAY_NL[stay],
                nl_number(row["ongewijzigd"]),
                nl_number(row["strenger"]),
                nl_number(row["soepeler"]),
            )
    out_console.print(table)


# ---------------------------------------------------------------------------
# raster
# ---------------------------------------------------------------------------


@click.command("raster", context_settings=CONTEXT, options_metavar="[OPTIES]")
@click.argument("config", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--cel",
    "cel",
    type=click.FloatRange(min=1.0),
    default=50.0,
    show_default=True,
    help="Celgrootte in meters (RD New).",
)
@click.option(
    "--gebied",
    type=click.Choice(["auto", "gemeenten", "locaties"]),
    default="auto",
    show_default=True,
    help=(
        "Gebied van het raster: de gemeentelaag (auto als die er is) of de omhullende rechthoek van"
        " de locaties."
    ),
)
@click.option(
    "--blok",
    type=click.IntRange(1_000, 5_000_000),
    default=DEFAULT_CHUNK,
    show_default=True,
    help="Aantal cellen per rekenblok (geheugen).",
)
@_OUT
@_VOORTGANG
@DEBUG_OPTION
def raster(
    config: Path, cel: float, gebied: str, blok: int, out: Path | None, voortgang: str, debug: bool
) -> None:
    """Geschiktheidskaart: toets een regelmatig raster van celmiddelpunten.

    Elke cel (standaard 50 m) in het gebied van de gemeentelaag (of de
    omhullende van de locaties) wordt als puntlocatie getoetst met alle
    lagen en regels uit CONFIG. Schrijft cloud-optimised GeoTIFFs (EPSG:28992,
    met overzichten): score_<verblijfstype>.tif (0-100, float32) en
    oordeel_<verblijfstype>.tif (1 geschikt, 2 voorwaardelijk, 3 ongeschikt,
    0 geen gegevens; met kleurentabel en QGIS-stijl), plus raster.json.
    """
    with _errors(voortgang, debug):
        from locatietoets.layers.io.config import load_config
        from locatietoets.layers.io.outdir import claim_output, config_inputs

        cfg = load_config(config)
        out_dir = out or cfg.output_dir or (Path(config).resolve().parent / "raster")
        with (
            claim_output(out_dir, inputs=config_inputs(cfg), outputs=RASTER_FILES),
            _progress(voortgang) as progress,
        ):
            record = run_raster(
                cfg, out_dir, cell_m=cel, area=gebied, chunk=blok, progress=progress
            )
    if voortgang == "balk":
        _print_raster(record)
    _finish(
        voortgang,
        out_dir,
        record["bestanden"],
        {"cellen": record["cellen_getoetst"], "seconden": record["tijden_s"]["totaal"]},
    )


def run_raster(
    config,
    out_dir: Path,
    *,
    cell_m: float,
    area: str = "auto",
    chunk: int = DEFAULT_CHUNK,
    progress: Callable[[float, str], None] | None = None,
) -> dict[str, Any]:
    """Score a grid over the config's area and write the COGs; return the run record.

    The reference layers and road network are loaded once and reused for
    every block of ``chunk`` cells (``analysis.pipeline.score_sites``).
    """
    import geopandas as gpd
    import numpy as np
    import shapely

    from locatietoets.analysis.errors import InputError
    from locatietoets.analysis.pipeline import score_sites
    from locatietoets.analysis.planning.grid import (
        NO_VERDICT_CODE,
        grid_over_area,
        grid_sites,
        verdict_codes,
    )
    from locatietoets.analysis.ruleset import STAY_TYPES
    from locatietoets.layers.io.read import RD_NEW
    from locatietoets.layers.io.write import staged_output
    from locatietoets.layers.planning_io import load_scoring_inputs, write_cog, write_json

    def report(fraction: float, message: str) -> None:
        if progress is not None:
            progress(fraction, message)

    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    use_gemeenten = area == "gemeenten" or (
        area == "auto" and config.layer("gemeenten") is not None
    )
    if area == "gemeenten" and config.layer("gemeenten") is None:
        raise InputError("--gebied gemeenten vraagt een laag [lagen.gemeenten] in de configuratie.")
    loaded = load_scoring_inputs(
        config, load_site_layer=not use_gemeenten, progress=lambda f, m: report(0.05 * f, m)
    )
    timings["inlezen"] = round(time.perf_counter() - t0, 3)
    if use_gemeenten:
        polygon = shapely.union_all(loaded.frames["gemeenten"].geometry.to_numpy())
        area_text = "gemeentelaag"
    else:
        geoms = loaded.sites.geometry
        geoms = geoms[~(geoms.isna() | geoms.is_empty)]
        if geoms.empty:
            raise InputError(
                "De locaties hebben geen geometrie; het rastergebied kan niet worden bepaald."
            )
        minx, miny, maxx, maxy = geoms.total_bounds
        polygon = shapely.box(minx - cell_m, miny - cell_m, maxx + cell_m, maxy + cell_m)
        area_text = "omhullende van de locaties"
    t = time.perf_counter()
    grid, inside = grid_over_area(polygon, cell_m=cell_m)
    cells = np.flatnonzero(inside.ravel())
    timings["raster_opbouwen"] = round(time.perf_counter() - t, 3)
    log.info(
        "raster: %d × %d cellen van %g m, %d in het gebied",
        grid.width,
        grid.height,
        cell_m,
        len(cells),
    )
    if len(cells) == 0:
        raise InputError(
            f"Geen enkel celmiddelpunt van {cell_m:g} m ligt in het gebied ({area_text}); kies een"
            " kleinere --cel."
        )
    n_total = grid.width * grid.height
    scores = {s: np.full(n_total, -9999.0, dtype=np.float32) for s in STAY_TYPES}
    classes = {s: np.zeros(n_total, dtype=np.uint8) for s in STAY_TYPES}
    skipped: dict[str, str] = {}
    t = time.perf_counter()
    n_chunks = max(1, -(-len(cells) // chunk))
    for k in range(n_chunks):
        idx = cells[k * chunk : (k + 1) * chunk]
        report(0.05 + 0.85 * k / n_chunks, f"Cellen toetsen: blok {k + 1} van {n_chunks}")
        frame = grid_sites(grid, idx)
        sites = gpd.GeoDataFrame(frame, geometry="geometry", crs=RD_NEW)
        result = score_sites(loaded.inputs(sites), loaded.ruleset, network_mode=loaded.network_mode)
        skipped = result.skipped
        for stay in STAY_TYPES:
            values = result.results[f"score_{stay}"].to_numpy(dtype=float)
            scores[stay][idx] = np.where(np.isfinite(values), values, -9999.0).astype(np.float32)
            classes[stay][idx] = verdict_codes(
                result.results[f"oordeel_{stay}"].to_numpy(dtype=object)
            )
    timings["toetsen"] = round(time.perf_counter() - t, 3)
    report(0.9, "GeoTIFFs wegschrijven")
    counts = {
        s: {
            name: int((classes[s] == code).sum())
            for name, code in (("geschikt", 1), ("voorwaardelijk", 2), ("ongeschikt", 3))
        }
        for s in STAY_TYPES
    }
    for s in STAY_TYPES:
        counts[s]["geen gegevens"] = int((classes[s][cells] == NO_VERDICT_CODE).sum())
    t = time.perf_counter()
    files: list[str] = []
    rs = loaded.ruleset
    tags = {
        "regelset": f"{rs.id} {rs.version}",
        "celgrootte_m": f"{cell_m:g}",
        "software": "Locatietoets",
    }
    with staged_output(Path(out_dir)) as stage:
        for stay in STAY_TYPES:
            label = _STAY_NL[stay]
            write_cog(
                stage / f"score_{stay}.tif",
                scores[stay].reshape(grid.height, grid.width),
                grid,
                nodata=-9999.0,
                description=f"Score {label} (0-100)",
                tags=tags,
            )
            write_cog(
                stage / f"oordeel_{stay}.tif",
                classes[stay].reshape(grid.height, grid.width),
                grid,
                nodata=0,
                description=f"Oordeel {label}: 1 geschikt, 2 voorwaardelijk, 3 ongeschikt",
                verdict_classes=True,
                tags=tags,
            )
            files += [f"score_{stay}.tif", f"oordeel_{stay}.tif", f"oordeel_{stay}.qml"]
        timings["schrijven"] = round(time.perf_counter() - t, 3)
        timings["totaal"] = round(time.perf_counter() - t0, 3)
        record = {
            **loaded.record(),
            "raster": {
                "celgrootte_m": cell_m,
                "breedte": grid.width,
                "hoogte": grid.height,
                "linksboven_rd": [grid.west, grid.north],
                "crs": "EPSG:28992",
                "gebied": area_text,
                "blokgrootte": chunk,
                "blokken": n_chunks,
            },
            "cellen_getoetst": int(len(cells)),
            "telling": counts,
            "niet_uitgevoerd": skipped,
            "tijden_s": timings,
            "bestanden": files + ["raster.json"],
            "gestart": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }
        write_json(record, stage / "raster.json")
    report(1.0, "Klaar")
    return record


def _print_raster(record: dict[str, Any]) -> None:
    from rich.markup import escape

    out_console.print(
        summary_table(
            record["telling"],
            f"Raster: {nl_number(record['cellen_getoetst'])} cellen van "
            f"{record['raster']['celgrootte_m']:g} m — oordeel per verblijfstype",
        )
    )
    for step, why in record["niet_uitgevoerd"].items():
        out_console.print(f"[dim]Niet getoetst ({step}): {escape(why)}[/]")
    out_console.print(
        f"Tijd: {nl_number(record['tijden_s']['totaal'], 1)} s (toetsen"
        f" {nl_number(record['tijden_s']['toetsen'], 1)} s)"
    )


# ---------------------------------------------------------------------------
# bedrijfslocatie
# ---------------------------------------------------------------------------


@click.command("bedrijfslocatie", context_settings=CONTEXT, options_metavar="[OPTIES]")
@click.argument("config", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--locatie",
    "locatie",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help=(
        "Plangebied (GeoPackage of andere GIS-laag): vlak(ken) met optioneel de velden naam, banen"
        " (verwachte banen), sector (logistiek, glastuinbouw, agrarisch, voedingsindustrie,"
        " industrie, handel, bouw, overig) en oppervlakte_ha (anders de oppervlakte van het vlak)."
    ),
)
@click.option("--laag", default=None, help="Laag in het planbestand (bij meerdere lagen).")
@_OUT
@_VOORTGANG
@DEBUG_OPTION
def bedrijfslocatie(
    config: Path, locatie: Path, laag: str | None, out: Path | None, voortgang: str, debug: bool
) -> None:
    """Huisvestingseffect van een nieuwe of uitbreidende bedrijfslocatie.

    Schat met de kengetallen uit de regelset hoeveel arbeidsmigranten het
    plan brengt en hoeveel bedden zij nodig hebben, telt de capaciteit van
    geschikte en voorwaardelijke locaties uit CONFIG binnen de maximale
    reistijd van het plan (over het wegennet; zonder wegennet hemelsbreed,
    met waarschuwing) en geeft het tekort. Signaleert uitbreidingen boven
    5 ha (Omgevingsverordening Limburg). Schrijft bedrijfslocatie.json en
    bedrijfslocatie.gpkg (plan en getelde locaties).
    """
    with _errors(voortgang, debug):
        from locatietoets.layers.io.config import load_config
        from locatietoets.layers.io.outdir import claim_output, config_inputs

        cfg = load_config(config)
        out_dir = out or (Path(config).resolve().parent / "bedrijfslocatie")
        inputs = [*config_inputs(cfg), locatie]
        with (
            claim_output(out_dir, inputs=inputs, outputs=BUSINESS_FILES),
            _progress(voortgang) as progress,
        ):
            record = run_business_check(cfg, locatie, out_dir, layer=laag, progress=progress)
    if voortgang == "balk":
        _print_business(record)
    _finish(voortgang, out_dir, record["bestanden"], {"plannen": record["plannen"]})


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
    from locatietoets.layers.io.read import RD_NEW
    from locatietoets.layers.io.write import merge_results, staged_output
    from locatietoets.layers.planning_io import read_plans, write_json, write_layer

    def report(fraction: float, message: str) -> None:
        if progress is not None:
            progress(fraction, message)

    plans, plan_report = read_plans(plan_path, layer=layer)
    from locatietoets.layers.planning_io import load_scoring_inputs

    loaded = load_scoring_inputs(
        config, network_without_employers=True, progress=lambda f, m: report(0.2 * f, m)
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
        loaded.inputs(loaded.sites),
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
    warnings = list(loaded.warnings)
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
            f" {speed_kmh:g} km/u, maximaal {max_minutes:g} min = {speed_kmh * max_minutes / 60:g}"
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
            basis = f"hemelsbreed {MODE_TEXT[mode]} ({speed_kmh:g} km/u)"
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
                "banen": _float(est["banen"]),
                "oppervlakte_ha": _float(est["oppervlakte_ha"]),
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


def _print_business(record: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="Huisvestingseffect bedrijfslocatie", title_justify="left")
    for col in (
        "Plan",
        "Arbeidsmigranten",
        "Bedden",
        "Geschikt binnen bereik",
        "Voorwaardelijk",
        "Tekort",
        "Tekort incl. voorw.",
        "> 5 ha",
    ):
        table.add_column(col, justify="left" if col == "Plan" else "right")
    for p in record["plannen"]:
        table.add_row(
            escape(p["naam"]),
            nl_number(p["arbeidsmigranten"]),
            nl_number(p["bedden"]),
            nl_number(p["capaciteit_geschikt"]),
            nl_number(p["capaciteit_voorwaardelijk"]),
            nl_number(p["tekort_geschikt"]),
            nl_number(p["tekort_incl_voorwaardelijk"]),
            "[red]ja[/]" if p["boven_max_ha"] else "nee",
        )
    out_console.print(table)
    out_console.print(escape(business_text(record)))
