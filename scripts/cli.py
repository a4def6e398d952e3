"""Command line of Locatietoets (``locatietoets``).

Every command has Dutch ``--help``; errors the user can fix print a Dutch
message and exit with code 2, never a traceback (``--debug`` shows one).
With ``--voortgang json`` progress is printed as JSON lines on stdout, which
is how the QGIS plugin follows a run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from locatietoets.analysis.errors import CancelledError, LocatietoetsError
from locatietoets.analysis.texts import nl_value
from locatietoets.analysis.vocabulary import STAY_LABELS, STAY_TYPES, nl_number
from locatietoets.scripts.console import (
    CONTEXT,
    DEBUG_OPTION,
    PROGRESS_OPTION,
    DutchGroup,
    emit_json,
    err_console,
    fail,
    out_console,
    raise_on_sigterm,
    setup_logging,
    summary_table,
)

__all__ = ["main"]


def _run_scoring(
    config_path: Path | None,
    out: Path | None,
    mode: str,
    debug: bool,
    *,
    make_config: Callable[[], Path] | None = None,
    title: str = "Oordeel per verblijfstype (elke locatie getoetst voor elk verblijfstype)",
    engine: str = "lokaal",
    scheduler: str | None = None,
    workers: int = 2,
    block_size: int | None = None,
    geoparquet: bool = False,
) -> None:
    from dataclasses import replace

    from locatietoets.layers.io.config import load_config

    if engine == "dask":
        from locatietoets.scripts.runner.distributed import require_dask, run_config_dask

        def run_config(config, out_dir, progress=None):
            return run_config_dask(
                config,
                out_dir,
                scheduler=scheduler,
                n_workers=workers,
                progress=progress,
                block_size=block_size,
            )

    else:
        from functools import partial

        from locatietoets.scripts.runner.score import run_config as _run_config

        run_config = partial(_run_config, block_size=block_size)

    from locatietoets.layers.io.outdir import check_output, claim_output, config_inputs
    from locatietoets.layers.io.write import OUTPUT_FILES

    setup_logging(mode, debug)
    raise_on_sigterm()
    try:
        if engine == "dask":
            require_dask()  # before anything is read or written
        if make_config is not None:
            if out is not None:
                check_output(
                    out, inputs=()
                )  # an unusable folder is reported before the demo is written
            config_path = make_config()
        config = load_config(config_path)
        if geoparquet:
            config = replace(config, geoparquet=True)
        out_dir = out or config.output_dir or (config_path.resolve().parent / "uitvoer")
        with claim_output(out_dir, inputs=config_inputs(config), outputs=OUTPUT_FILES):
            outcome = _score_into(config, out_dir, mode, run_config)
    except (LocatietoetsError, KeyboardInterrupt, CancelledError) as exc:
        fail(exc, mode, debug)
    except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback for users
        fail(exc, mode, debug)
    _report_outcome(outcome, mode, title)


def _score_into(config, out_dir: Path, mode: str, run_config: Callable):
    """Run ``run_config`` with the progress display of ``mode``."""
    if mode == "balk":
        with Progress(
            TextColumn("[bold]{task.description:<48}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=err_console,
            transient=False,
        ) as bar:
            task = bar.add_task("Starten", total=1.0)

            def progress(step: str, message: str, fraction: float) -> None:
                bar.update(task, completed=fraction, description=message[:48])

            return run_config(config, out_dir, progress=progress)
    elif mode == "json":

        def progress(step: str, message: str, fraction: float) -> None:
            emit_json(
                {"type": "stap", "stap": step, "titel": message, "voortgang": round(fraction, 4)}
            )

        return run_config(config, out_dir, progress=progress)
    return run_config(config, out_dir)


_ORIGIN_NL = {
    "regelset": "regelset",
    "config": "configuratie",
    "regelset-gemeente": "regelset, gemeente",
    "config-gemeente": "configuratie, gemeente",
}


def own_stay_line(own: dict) -> str:
    """The counts of each site on its own stay type, worded as the QGIS plugin's summary."""
    return (
        f"Eigen verblijfstype: {nl_number(own.get('geschikt', 0))} locaties geschikt voor hun"
        f" eigen verblijfstype, {nl_number(own.get('voorwaardelijk', 0))} voorwaardelijk,"
        f" {nl_number(own.get('ongeschikt', 0))} ongeschikt"
        + (f", {nl_number(own['geen oordeel'])} zonder oordeel" if own.get("geen oordeel") else "")
        + "."
    )


def shown_value(value) -> str:
    """A parameter value as a planner reads it: ja/nee, 250 (not 250.0), 0,35, tables as
    "key value, ..."."""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, (int, float)):
        return nl_value(value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {shown_value(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(shown_value(v) for v in value)
    return str(value)


def _parameter_table(ruleset_record: dict) -> Table | None:
    """Every effective parameter with its origin (rule set or config, province-wide or per
    gemeente)."""
    origins = ruleset_record.get("parameters_herkomst")
    if not origins:
        return None
    table = Table(
        title=f"Parameters (regelset {ruleset_record.get('id')} {ruleset_record.get('versie')})",
        title_justify="left",
    )
    for col in ("Parameter", "Gemeente", "Waarde", "Eenheid", "Herkomst"):
        table.add_column(col)

    shown = shown_value

    hidden = 0
    per_gemeente = ruleset_record.get("gemeente_parameters") or {}
    for name, o in origins.items():
        origin = _ORIGIN_NL.get(o.get("herkomst"), str(o.get("herkomst")))
        if o.get("herkomst") == "config" and o.get("regelset_waarde") != o.get("waarde"):
            origin += f" (regelset: {shown(o.get('regelset_waarde'))})"
        table.add_row(name, "", shown(o.get("waarde")), str(o.get("eenheid") or ""), origin)
        for key, g in per_gemeente.items():
            entry = (g.get("parameters") or {}).get(name)
            if entry is None:
                continue
            if (
                entry.get("waarde") == o.get("waarde")
                and entry.get("herkomst") == "regelset-gemeente"
            ):
                hidden += 1
                continue
            table.add_row(
                "",
                str(g.get("naam", key)),
                shown(entry.get("waarde")),
                str(o.get("eenheid") or ""),
                _ORIGIN_NL.get(entry.get("herkomst"), str(entry.get("herkomst"))),
            )
    if hidden:
        table.caption = (
            f"{nl_number(hidden)} waarden per gemeente uit de regelset, gelijk aan de"
            " provinciale waarde, niet"
            " getoond (zie run.json)."
        )
    return table


def _report_outcome(outcome, mode: str, title: str) -> None:
    counts = outcome.record["telling"]
    if mode == "json":
        emit_json(
            {
                "type": "klaar",
                "uitvoer": str(outcome.out_dir),
                "telling": counts,
                "telling_eigen_verblijfstype": outcome.record.get("telling_eigen_verblijfstype"),
                "waarschuwingen": outcome.record["waarschuwingen"],
            }
        )
        return
    if mode == "balk":
        out_console.print(summary_table(counts, title))
        own = outcome.record.get("telling_eigen_verblijfstype")
        if own:
            out_console.print(own_stay_line(own))
        params = _parameter_table(outcome.record.get("regelset") or {})
        if params is not None:
            out_console.print(params)
        for step, why in outcome.record["niet_uitgevoerd"].items():
            out_console.print(f"[dim]Niet getoetst ({step}): {escape(why)}[/]")
        for warning in outcome.record["waarschuwingen"]:
            out_console.print(f"[yellow]Let op: {escape(warning)}[/]")
        n_sites = nl_number(outcome.record["locaties"])
        seconds = nl_number(outcome.record["tijden_s"]["totaal"], 1)
        parquet = " locaties.parquet," if (outcome.out_dir / "locaties.parquet").exists() else ""
        out_console.print(
            f"Uitvoer in [bold]{escape(str(outcome.out_dir))}[/]: locaties.gpkg, locaties.csv,"
            f"{parquet} run.json ({n_sites} locaties, {seconds} s)"
        )


def _version() -> str:
    from locatietoets.scripts.runner.score import tool_version

    return tool_version()


@click.group(cls=DutchGroup, context_settings=CONTEXT)
@click.version_option(
    version=None,
    package_name="locatietoets",
    prog_name="locatietoets",
    message="%(prog)s %(version)s",
)
def main() -> None:
    """Locatietoets: toets kandidaatlocaties voor huisvesting van arbeidsmigranten
    aan het ruimtelijk beleid van de Provincie Limburg (BBG, geur, recreatieparken,
    reisafstand tot werkgevers, woonnormen).

    Begin met 'locatietoets demo' voor een werkend voorbeeld.
    """


@main.command("score", context_settings=CONTEXT)
@click.argument("config", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, file_okay=False),
    help=(
        "Uitvoermap (standaard [uitvoer] map uit de configuratie, anders 'uitvoer' naast de"
        " configuratie)."
    ),
)
@click.option(
    "--engine",
    type=click.Choice(["lokaal", "dask"]),
    default="lokaal",
    show_default=True,
    help=(
        "Rekenmotor: één proces, of verdeeld over een dask-cluster (zelfde uitkomst; voor"
        " landelijke runs)."
    ),
)
@click.option(
    "--scheduler",
    default=None,
    help="Adres van een bestaande dask-scheduler (tcp://host:8786); standaard een lokaal cluster.",
)
@click.option(
    "--werkers",
    type=click.IntRange(1),
    default=2,
    show_default=True,
    help="Werkprocessen van het lokale dask-cluster.",
)
@click.option(
    "--blok",
    type=click.IntRange(0),
    default=None,
    help=(
        "Locaties per blok: grotere runs worden blok voor blok ingelezen (GeoPackage, shapefile), "
        "getoetst en weggeschreven (begrensd geheugen, zelfde uitkomst; ook met --engine dask). "
        "Standaard 50.000 (met --engine dask 20.000); 0 = alles in één keer."
    ),
)
@click.option(
    "--geoparquet",
    is_flag=True,
    help=(
        "Schrijf ook locaties.parquet (GeoParquet: dezelfde velden en geometrieën als"
        " locaties.gpkg, kleiner en sneller in te lezen in Python, R, DuckDB en QGIS 3.34+)."
        " Kan ook met geoparquet = true onder [uitvoer] in de configuratie."
    ),
)
@PROGRESS_OPTION
@DEBUG_OPTION
def score_command(
    config: Path,
    out: Path | None,
    engine: str,
    scheduler: str | None,
    werkers: int,
    blok: int | None,
    geoparquet: bool,
    voortgang: str,
    debug: bool,
) -> None:
    """Toets alle locaties uit CONFIG (een .toml-bestand).

    Schrijft locaties.gpkg (met QGIS-stijl), locaties.csv en run.json in de
    uitvoermap, met --geoparquet ook locaties.parquet. Een mislukte run laat
    geen half geschreven uitvoer achter.
    """
    _run_scoring(
        config,
        out,
        voortgang,
        debug,
        engine=engine,
        scheduler=scheduler,
        workers=werkers,
        block_size=blok,
        geoparquet=geoparquet,
    )


@main.command("demo", context_settings=CONTEXT)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("demo-uitvoer"),
    show_default=True,
    help="Map voor de demo-invoer (invoer/, config.toml) en de uitvoer.",
)
@click.option(
    "--locaties",
    "n_sites",
    type=click.IntRange(60, 2_000_000),
    default=3000,
    show_default=True,
    help="Aantal kandidaatlocaties in het demogebied.",
)
@PROGRESS_OPTION
@DEBUG_OPTION
def demo_command(out: Path, n_sites: int, voortgang: str, debug: bool) -> None:
    """Maak het fictieve demogebied (Noord-Limburg, RD New) en toets het.

    Het demogebied is verzonnen (FICTIEF DEMOGEBIED): BBG, bebouwde kom,
    veehouderijen met geurcontouren, recreatieparken, werkgevers, een
    wegennet en kandidaatlocaties van alle verblijfstypen. Altijd dezelfde
    uitkomst bij dezelfde instellingen.
    """
    from locatietoets.layers.worlds.demo import write_demo

    def make() -> Path:
        return write_demo(out, n_sites=n_sites)

    _run_scoring(
        None,
        out / "uitvoer",
        voortgang,
        debug,
        make_config=make,
        title="Demogebied (FICTIEF) — oordeel per verblijfstype",
    )


@main.command("regels", context_settings=CONTEXT)
@click.option(
    "--bestand",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Een eigen regelset-bestand (standaard de ingebouwde).",
)
@click.option(
    "--markdown",
    is_flag=True,
    help="Schrijf de regels en parameters als Markdown-tabellen (zoals in de README).",
)
def rules_command(bestand: Path | None, markdown: bool) -> None:
    """Toon de regelset: regels, oordelen per verblijfstype, parameters en bronnen."""
    from rich.markup import escape

    from locatietoets.analysis.ruleset import describe_layer_rule, format_number
    from locatietoets.layers.io.rules import read_ruleset_file, ruleset_markdown

    try:
        ruleset = read_ruleset_file(bestand)
    except LocatietoetsError as exc:
        fail(exc, "balk", False)
    if markdown:
        click.echo(ruleset_markdown(ruleset), nl=False)
        return
    out_console.print(
        f"[bold]{ruleset.name}[/] (id {ruleset.id}, versie {ruleset.version}, {ruleset.origin})"
    )
    table = Table(show_lines=True)
    for col in ("Regel", "Titel", *STAY_LABELS.values(), "Bron (betrouwbaarheid)"):
        table.add_column(col, overflow="fold")
    for rule in ruleset.rules:
        layer = describe_layer_rule(rule, ruleset.parameters)
        table.add_row(
            rule.id,
            escape(rule.title + (f"\n({layer})" if layer else "")),  # [lagen.…] is no markup
            *(rule.verdict[s] for s in STAY_TYPES),
            f"{rule.source} ({rule.confidence})",
        )
    out_console.print(table)
    params = Table(title="Parameters", show_lines=True)
    for col in ("Parameter", "Waarde", "Eenheid", "Bereik", "Bron (betrouwbaarheid)"):
        params.add_column(col, overflow="fold")
    for p in ruleset.parameters.values():
        span = (
            "" if p.minimum is None else f"{format_number(p.minimum)} – {format_number(p.maximum)}"
        )
        params.add_row(p.name, shown_value(p.value), p.unit, span, f"{p.source} ({p.confidence})")
    out_console.print(params)


def _register_commands() -> None:
    """Add the commands that live in their own modules."""
    from locatietoets.scripts.bench.benchmark import benchmark
    from locatietoets.scripts.bench.benchmark_network import benchmark_netwerk
    from locatietoets.scripts.data_cmd import data
    from locatietoets.scripts.planning import (
        bedrijfslocatie,
        capaciteit,
        gevoeligheid,
        raster,
        vergelijk,
    )
    from locatietoets.scripts.plugin_zip import plugin_zip
    from locatietoets.scripts.reporting import kaarten, rapport

    main.add_command(benchmark, "benchmark")
    main.add_command(benchmark_netwerk, "benchmark-netwerk")
    main.add_command(plugin_zip, "plugin-zip")
    main.add_command(data, "data")
    main.add_command(kaarten, "kaarten")
    main.add_command(rapport, "rapport")
    main.add_command(capaciteit, "capaciteit")
    main.add_command(vergelijk, "vergelijk")
    main.add_command(raster, "raster")
    main.add_command(bedrijfslocatie, "bedrijfslocatie")
    main.add_command(gevoeligheid, "gevoeligheid")
    _dutch_metavars(main)


def _dutch_metavars(command: click.Command) -> None:
    """Give every (sub)command the Dutch usage metavars, also those defined elsewhere."""
    command.options_metavar = "[OPTIES]"
    command.context_settings = {**CONTEXT, **command.context_settings}
    if isinstance(command, click.Group):
        command.subcommand_metavar = "COMMANDO [ARGUMENTEN]..."
        for sub in command.commands.values():
            _dutch_metavars(sub)


_register_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
