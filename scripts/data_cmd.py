"""``locatietoets data``: fetch reference layers (``ophalen``) and check endpoints (``controle``).

The group object :data:`data` is registered in :mod:`scripts.cli`. Errors the
user can fix print a Dutch message and exit with code 2 (``--debug`` shows the
traceback); ``data controle`` exits with code 1 when an endpoint moved or failed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import logging
from pathlib import Path
import sys
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from locatietoets.analysis.errors import LocatietoetsError
from locatietoets.analysis.vocabulary import nl_number
from locatietoets.scripts.console import fail

if TYPE_CHECKING:
    from locatietoets.layers.fetch import FetchOutcome, HttpSettings

__all__ = ["data", "ophalen", "controle"]

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
_ENDPOINTS = click.option(
    "--endpoints",
    "endpoints_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Eigen endpoint-bestand (.toml) in plaats van het ingebouwde layers/fetch/endpoints.toml.",
)
#: What 'data ophalen' writes into --out (checked against its inputs before any work).
FETCH_FILES = ("*.gpkg", "manifest.json", "config.toml")
DEBUG_OPTION = click.option(
    "--debug", is_flag=True, help="Toon bij een fout de volledige technische melding."
)


def _consoles() -> tuple[Console, Console]:
    # created per call so click's CliRunner (which swaps sys.stdout) sees the output
    return Console(file=sys.stdout, soft_wrap=True), Console(file=sys.stderr, soft_wrap=True)


@contextmanager
def _logging(debug: bool, err: Console) -> Iterator[None]:
    """Show warnings (all messages with --debug) on stderr while a command runs."""
    from rich.logging import RichHandler

    root = logging.getLogger()
    handler = RichHandler(console=err, show_path=False, show_time=False, markup=False)
    handler.setLevel(logging.DEBUG if debug else logging.WARNING)
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for noisy in ("urllib3", "pyogrio", "osmnx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@click.group("data", context_settings=_CONTEXT)
def data() -> None:
    """Referentielagen ophalen bij PDOK en OpenStreetMap, en de bronnen controleren."""


@data.command("ophalen", context_settings=_CONTEXT)
@click.option(
    "--gebied",
    required=True,
    help=(
        "Gemeente (naam of CBS-code, bv. Venlo of GM0983), regio (Noord-, Midden- of Zuid-Limburg),"
        " 'limburg', of een rechthoek in RD New 'xmin,ymin,xmax,ymax' (meter)."
    ),
)
@click.option(
    "--lagen",
    # the same as layers.fetch.run.DEFAULT_LAYERS (a test compares them; not imported here so
    # that the command line starts without loading the download code)
    default=(
        "gemeenten,wijken,bag,wegen,natura2000,parken,werkgevers,bedrijventerreinen,bebouwde_kom,"
        "kernen,voorzieningen"
    ),
    show_default=True,
    help=(
        "Kommagescheiden lagen: gemeenten, provincies, wijken, bag (verblijfsobjecten), panden,"
        " wegen (NWB), natura2000, parken (recreatieparken_top10nl en recreatieparken uit OSM),"
        " werkgevers (OSM), bedrijventerreinen (TOP10NL), bebouwde_kom (TOP10NL, benadering),"
        " kernen (CBS-wijken met inwoners, benadering), voorzieningen (ov_haltes, supermarkten"
        " en huisartsen uit OSM)."
    ),
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Map voor de GeoPackages, manifest.json en config.toml.",
)
@click.option(
    "--vernieuw", is_flag=True, help="Opnieuw downloaden, ook als de cache de laag al heeft."
)
@_ENDPOINTS
@click.option(
    "--cache",
    "cache_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Cachemap (standaard ~/.cache/locatietoets/data).",
)
@click.option(
    "--tijdslimiet",
    type=click.FloatRange(0.01, 3600),
    default=60.0,
    show_default=True,
    help="Wachttijd per verzoek in seconden.",
)
@click.option(
    "--pogingen",
    type=click.IntRange(0, 10),
    default=3,
    show_default=True,
    help="Extra pogingen na een time-out, verbindingsfout of serverfout (5xx).",
)
@click.option(
    "--wacht",
    "backoff_s",
    type=click.FloatRange(0, 60),
    default=0.5,
    show_default=True,
    help="Wachttijd vóór de eerste nieuwe poging in seconden; verdubbelt per poging.",
)
@click.option(
    "--voortgang",
    type=click.Choice(["balk", "geen"]),
    default="balk",
    show_default=True,
    help="Voortgangsbalk per laag tonen of niet.",
)
@DEBUG_OPTION
def ophalen(
    gebied: str,
    lagen: str,
    out: Path,
    vernieuw: bool,
    endpoints_file: Path | None,
    cache_dir: Path | None,
    tijdslimiet: float,
    pogingen: int,
    backoff_s: float,
    voortgang: str,
    debug: bool,
) -> None:
    """Haal referentielagen op voor een gebied en schrijf ze als GeoPackage (EPSG:28992).

    Schrijft per laag een .gpkg, een manifest.json (URL's, parameters, tijdstip,
    aantallen, sha256) en een config.toml voor 'locatietoets score'. Een tweede
    keer voor hetzelfde gebied komt uit de cache; --vernieuw downloadt opnieuw.
    Bij een fout wordt niets (half) weggeschreven.
    """
    from locatietoets.layers.fetch import HttpSettings

    out_console, err = _consoles()
    http = HttpSettings(timeout_s=tijdslimiet, retries=pogingen, backoff_s=backoff_s)
    with _logging(debug, err):
        outcome = _fetch(
            gebied,
            lagen,
            out,
            refresh=vernieuw,
            endpoints_file=endpoints_file,
            cache_dir=cache_dir,
            http=http,
            bar=voortgang == "balk",
            debug=debug,
            err=err,
        )
    _report(outcome, gebied, out_console)


def _fetch(
    gebied: str,
    lagen: str,
    out: Path,
    *,
    refresh: bool,
    endpoints_file: Path | None,
    cache_dir: Path | None,
    http: HttpSettings,
    bar: bool,
    debug: bool,
    err: Console,
) -> FetchOutcome:
    """Run :func:`layers.fetch.fetch_data` with a progress bar per layer; exit on errors."""
    from locatietoets.layers.io.outdir import claim_output

    try:
        with claim_output(
            out, inputs=[endpoints_file] if endpoints_file else [], outputs=FETCH_FILES
        ):
            return _fetch_into(
                gebied,
                lagen,
                out,
                refresh=refresh,
                endpoints_file=endpoints_file,
                cache_dir=cache_dir,
                http=http,
                bar=bar,
                err=err,
            )
    except (LocatietoetsError, KeyboardInterrupt) as exc:
        fail(exc, "balk", debug, err=err)
    except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback for users
        fail(exc, "balk", debug, err=err)


def _fetch_into(
    gebied: str,
    lagen: str,
    out: Path,
    *,
    refresh: bool,
    endpoints_file: Path | None,
    cache_dir: Path | None,
    http: HttpSettings,
    bar: bool,
    err: Console,
) -> FetchOutcome:
    from locatietoets.layers.fetch import fetch_data, load_endpoints

    endpoints = load_endpoints(endpoints_file)
    names = [n.strip() for n in lagen.split(",") if n.strip()]
    kwargs = dict(endpoints=endpoints, cache_dir=cache_dir, refresh=refresh, http=http)
    if bar:
        with Progress(
            TextColumn("[bold]{task.description:<18}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("objecten, {task.fields[pages]} pagina('s)"),
            TimeElapsedColumn(),
            console=err,
            transient=False,
        ) as progress_bar:
            tasks: dict[str, TaskID] = {}

            def progress(key: str, pages: int, features: int, total: int | None) -> None:
                if key not in tasks:
                    tasks[key] = progress_bar.add_task(key, total=None, pages=0)
                progress_bar.update(tasks[key], completed=features, total=total, pages=pages)

            outcome = fetch_data(gebied, names, out, progress=progress, **kwargs)
            for key, task in tasks.items():
                if key in outcome.layers:  # the written count (after cutting to the area)
                    done = max(outcome.layers[key].features, 1)
                    progress_bar.update(task, total=done, completed=done)
    else:
        outcome = fetch_data(gebied, names, out, **kwargs)
    return outcome


def _report(outcome: FetchOutcome, gebied: str, out_console: Console) -> None:
    """Print the table of written layers and the warnings."""
    table = Table(title=f"Opgehaald voor {gebied}", title_justify="left")
    for col, justify in (
        ("Laag", "left"),
        ("Bestand", "left"),
        ("Objecten", "right"),
        ("Pagina's", "right"),
        ("Bron", "left"),
    ):
        table.add_column(col, justify=justify)
    for key, result in outcome.layers.items():
        source = (
            "cache (" + str(result.record["opgehaald"])[:10] + ")"
            if result.from_cache
            else "gedownload"
        )
        table.add_row(
            key, result.path.name, nl_number(result.features), str(result.record["paginas"]), source
        )
    out_console.print(table)
    for warning in outcome.warnings:
        out_console.print(f"[yellow]Let op: {escape(warning)}[/]")
    if outcome.to_supply:
        out_console.print(
            "[bold]Nog zelf aan te leveren[/] (niet open op te halen; in config.toml staan ze als"
            " commentaar klaar):"
        )
        for item in outcome.to_supply:
            out_console.print(
                f"  - [bold]{escape(item.layer)}[/]: {escape(item.what)}."
                f" Bron: {escape(item.where)}"
            )
    out_console.print(
        f"Uitvoer in [bold]{escape(str(outcome.out_dir))}[/]: manifest.json, config.toml "
        f"({outcome.requests} verzoek(en) naar de bronnen)."
    )


@data.command("controle", context_settings=_CONTEXT)
@_ENDPOINTS
@click.option(
    "--tijdslimiet",
    type=click.FloatRange(0.01, 600),
    default=20.0,
    show_default=True,
    help="Wachttijd per verzoek in seconden.",
)
@DEBUG_OPTION
def controle(endpoints_file: Path | None, tijdslimiet: float, debug: bool) -> None:
    """Controleer elke bron in het endpoint-bestand met een of twee kleine verzoeken.

    Controleert per bron of de collectie (of het featuretype) bestaat, RD New
    aanbiedt en de ingestelde velden levert, en toont per laag wat is
    gecontroleerd. Meldt per bron OK, verplaatst (HTTP 301/308/404, met de
    nieuwe locatie als de server die geeft) of fout. Eindigt met code 1 als een
    bron niet OK is.
    """
    from locatietoets.layers.fetch import HttpSettings, check_endpoints, load_endpoints

    out_console, err = _consoles()
    with _logging(debug, err):
        try:
            endpoints = load_endpoints(endpoints_file)
            results = check_endpoints(
                endpoints, http=HttpSettings(timeout_s=tijdslimiet, retries=1, backoff_s=0.5)
            )
        except (LocatietoetsError, KeyboardInterrupt) as exc:
            fail(exc, "balk", debug, err=err)
        except Exception as exc:  # noqa: BLE001
            fail(exc, "balk", debug, err=err)
    table = Table(
        title=f"Controle van {endpoints.source} (versie {endpoints.version})",
        title_justify="left",
        show_lines=True,
    )
    for col in ("Bron", "Status", "HTTP", "URL", "Toelichting"):
        table.add_column(col, overflow="fold")
    styles = {"OK": "green", "verplaatst": "dark_orange", "fout": "red"}
    for r in results:
        checked = "".join(f"\n- {line}" for line in r.checked)
        table.add_row(
            r.key,
            f"[{styles[r.status]}]{r.status}[/]",
            str(r.http_status or "-"),
            escape(r.url),
            escape(r.detail + checked),
        )
    out_console.print(table)
    bad = [r for r in results if r.status != "OK"]
    if bad:
        out_console.print(
            f"{len(bad)} van {len(results)} bronnen niet in orde. Pas de URL's aan in het"
            " endpoint-bestand (of geef een eigen bestand met --endpoints) en verhoog daar"
            " 'versie'."
        )
        sys.exit(1)
    out_console.print(f"Alle {len(results)} bronnen zijn bereikbaar.")
