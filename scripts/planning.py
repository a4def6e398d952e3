"""Commands of the planning analyses: ``capaciteit``, ``vergelijk``, ``raster``,
``bedrijfslocatie``, ``gevoeligheid``.

Each is a click command object that ``scripts.cli`` registers on the main
group. Errors the user can fix print a Dutch message and exit with code 2
(``scripts.console.fail``); outputs are written into a staged folder and moved
into place only when complete (``layers.io.write.staged_output``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
import logging
from pathlib import Path
from typing import Any, Iterator

import click

from locatietoets.analysis.texts import nl_number
from locatietoets.analysis.vocabulary import STAY_LABELS
from locatietoets.layers.io.tables import json_float
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
from locatietoets.scripts.runner.business import (
    BUSINESS_FILES,
    business_text,
    run_business_check,
)
from locatietoets.scripts.runner.capacity import CAPACITY_FILES, run_capacity
from locatietoets.scripts.runner.comparison import COMPARISON_FILES, run_comparison
from locatietoets.scripts.runner.raster import DEFAULT_CHUNK, RASTER_FILES, run_raster
from locatietoets.scripts.runner.sensitivity import (
    SENSITIVITY_FILES,
    parse_values,
    run_sensitivity,
)

__all__ = ["capaciteit", "vergelijk", "raster", "bedrijfslocatie", "gevoeligheid"]

log = logging.getLogger(__name__)

#: Grid cells scored per call of ``score_sites`` in ``raster``.
#: The files each command writes into its output folder (checked against its inputs before any


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
        from locatietoets.layers.io.outdir import claim_output, run_inputs

        out_dir = out or (Path(run_dir) / "capaciteit")
        with claim_output(out_dir, inputs=[*run_inputs(run_dir), behoefte], outputs=CAPACITY_FILES):
            balance, files = run_capacity(run_dir, behoefte, out_dir, basis=basis)
    if voortgang == "balk":
        _print_capacity(balance)
    _finish(
        voortgang,
        out_dir,
        files,
        {"tekort_totaal": json_float(balance.regios["tekort_totaal"].iloc[-1])},
    )


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
        from locatietoets.layers.io.outdir import claim_output, run_inputs

        out_dir = out or (Path(run_b) / "vergelijking")
        with claim_output(
            out_dir, inputs=[*run_inputs(run_a), *run_inputs(run_b)], outputs=COMPARISON_FILES
        ):
            comparison, a, b, files = run_comparison(
                run_a, run_b, out_dir, allow_different_sites=toch
            )
    if voortgang == "balk":
        _print_comparison(comparison, a, b)
    _finish(
        voortgang,
        out_dir,
        files,
        {"gewijzigd": int(comparison.sites["gewijzigd"].sum()), "opmerkingen": comparison.notes},
    )


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
                STAY_LABELS[stay],
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


def _print_raster(record: dict[str, Any]) -> None:
    from rich.markup import escape

    out_console.print(
        summary_table(
            record["telling"],
            f"Raster: {nl_number(record['cellen_getoetst'])} cellen van "
            f"{nl_number(record['raster']['celgrootte_m'], 1).removesuffix(',0')} m — oordeel per"
            " verblijfstype",
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


# ---------------------------------------------------------------------------
# gevoeligheid
# ---------------------------------------------------------------------------


@click.command("gevoeligheid", context_settings=CONTEXT, options_metavar="[OPTIES]")
@click.argument("config", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--parameter",
    "parameter",
    required=True,
    metavar="NAAM",
    help="De regelparameter die varieert, bv. bbg_rand_m (zie 'locatietoets regels').",
)
@click.option(
    "--waarden",
    "waarden",
    required=True,
    metavar="LIJST",
    help=(
        "De waarden, gescheiden door komma's (100,150,200,250,300), of door puntkomma's met een"
        " decimale komma (0,5;0,75). Elke waarde geldt in de hele provincie, ook waar een gemeente"
        " een eigen waarde heeft."
    ),
)
@_OUT
@_VOORTGANG
@DEBUG_OPTION
def gevoeligheid(
    config: Path, parameter: str, waarden: str, out: Path | None, voortgang: str, debug: bool
) -> None:
    """Gevoeligheid van een regelparameter: wat verandert er als de waarde anders is?

    Toetst de locaties uit CONFIG één keer per waarde van --parameter. Lagen
    en wegennet worden één keer ingelezen; per waarde worden alleen de
    stappen herhaald die de parameter gebruiken, plus het oordeel. Schrijft
    gevoeligheid.csv (aantal locaties per oordeel, per waarde, gemeente en
    verblijfstype; elke locatie getoetst voor elk verblijfstype),
    gevoeligheid.png (grafiek daarvan), gevoeligheid.gpkg (de locaties
    waarvan het oordeel verandert tussen twee opeenvolgende waarden, met
    QGIS-stijl) en gevoeligheid.json.

    \b
    Voorbeeld:
      locatietoets gevoeligheid config.toml --parameter bbg_rand_m --waarden 100,150,200,250,300
    """
    with _errors(voortgang, debug):
        from locatietoets.layers.io.config import load_config
        from locatietoets.layers.io.outdir import claim_output, config_inputs

        values = parse_values(waarden)
        cfg = load_config(config)
        out_dir = out or (Path(config).resolve().parent / "gevoeligheid")
        with (
            claim_output(out_dir, inputs=config_inputs(cfg), outputs=SENSITIVITY_FILES),
            _progress(voortgang) as progress,
        ):
            record = run_sensitivity(cfg, parameter, values, out_dir, progress=progress)
    if voortgang == "balk":
        _print_sensitivity(record)
    _finish(
        voortgang,
        out_dir,
        record["bestanden"],
        {"gewijzigd": record["gewijzigd"], "seconden": record["tijden_s"]["totaal"]},
    )


def _print_sensitivity(record: dict[str, Any]) -> None:
    from rich.table import Table

    from locatietoets.analysis.planning.common import TOTAL_LABEL

    par = record["parameter"]
    unit = f" ({par['eenheid']})" if par["eenheid"] else ""
    table = Table(
        title=(
            f"Gevoeligheid van {par['naam']}{unit}: aantal locaties per oordeel, alle gemeenten"
            f" ({nl_number(record['locaties'])} locaties, elk getoetst voor elk verblijfstype)"
        ),
        title_justify="left",
    )
    table.add_column("Waarde", justify="right")
    for stay in STAY_LABELS.values():
        table.add_column(f"{stay}: geschikt / voorwaardelijk / ongeschikt", justify="right")
    counts = record["telling"]
    total = counts[counts["gemeente"] == TOTAL_LABEL]
    for value in par["waarden"]:
        rows = total[total["waarde"] == value].set_index("verblijfstype")
        cells = [
            " / ".join(
                nl_number(rows.loc[s, v]) for v in ("geschikt", "voorwaardelijk", "ongeschikt")
            )
            for s in STAY_LABELS
        ]
        table.add_row(nl_number(value, 0 if float(value).is_integer() else 2), *cells)
    out_console.print(table)
    for pair, n in record["gewijzigd"].items():
        out_console.print(
            f"{pair.replace('.', ',')}: oordeel van {nl_number(n)} locaties verandert"
        )
