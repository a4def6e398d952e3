"""Commands ``locatietoets kaarten`` and ``locatietoets rapport``.

Both read a finished run folder (``locaties.gpkg``, ``referentie.gpkg``,
``run.json``) and never change it except for adding their own outputs:
``kaarten/`` with the maps, and ``rapport.html`` / ``rapport.pdf``. Errors a
user can fix print a Dutch message and exit with code 2.
"""

from __future__ import annotations

from collections.abc import Callable
import logging
from pathlib import Path
import time

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from locatietoets.analysis.errors import CancelledError, InputError, LocatietoetsError, did_you_mean
from locatietoets.analysis.vocabulary import STAY_TYPES, nl_number
from locatietoets.layers.io.outdir import claim_output, run_inputs
from locatietoets.scripts.console import (
    CONTEXT,
    DEBUG_OPTION,
    PROGRESS_OPTION,
    emit_json,
    err_console,
    fail,
    out_console,
    setup_logging,
)

__all__ = ["kaarten", "rapport"]

log = logging.getLogger(__name__)

#: What the commands write into their output folder (checked against the run's files before any
#: work).
MAP_FILES = ("*.png", "*.pdf")
REPORT_FILES = ("rapport.html", "rapport.pdf")
_PER = ("gemeente", "regio", "provincie")
_FORMATS = ("pdf", "png", "beide")
_STAYS = STAY_TYPES

#: --achtergrond of `kaarten` and `rapport` (the maps of both draw the same basemap).
BACKGROUND_OPTION = click.option(
    "--achtergrond",
    "achtergrond",
    type=click.Choice(["geen", "brt"]),
    default="geen",
    show_default=True,
    help=(
        "Achtergrondkaart: geen (werkt offline) of brt: de BRT-Achtergrondkaart grijs van PDOK"
        " (internet nodig bij het eerste gebruik, daarna uit ~/.cache/locatietoets/brt). Niet"
        " beschikbaar? Dan komt de kaart zonder achtergrond."
    ),
)


def _choice(value: str, options: tuple[str, ...], option: str) -> str:
    """Check an option value; Dutch message instead of click's English one."""
    normalised = (
        value.strip().lower().replace("-", "_")
        if option == "--verblijfstype"
        else value.strip().lower()
    )
    if normalised not in options:
        raise InputError(
            f"Onbekende waarde '{value}' voor {option}. Kies uit:"
            f" {', '.join(options)}.{did_you_mean(value, options)}"
        )
    return normalised


def _with_progress(
    mode: str, label: str, work: Callable[[Callable[[int, int, str], None] | None], object]
) -> object:
    """Run ``work(progress)`` with a rich bar (balk), JSON lines (json) or silently (geen)."""
    if mode == "balk":
        with Progress(
            TextColumn("[bold]{task.description:<40}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
        ) as bar:
            task = bar.add_task(label, total=None)

            def progress(done: int, total: int, name: str) -> None:
                bar.update(task, completed=done, total=total, description=f"{label}: {name}"[:40])

            return work(progress)
    if mode == "json":

        def progress(done: int, total: int, name: str) -> None:
            emit_json(
                {
                    "type": "stap",
                    "stap": "kaart",
                    "titel": f"{label}: {name}",
                    "voortgang": round(done / max(total, 1), 4),
                }
            )

        return work(progress)
    return work(None)


def _run_dir_argument(function):
    return click.argument("run_dir", metavar="RUN_DIR", type=click.Path(path_type=Path))(function)


@click.command("kaarten", context_settings=CONTEXT)
@_run_dir_argument
@click.option(
    "--per",
    "per",
    default="gemeente",
    show_default=True,
    metavar="gemeente|regio|provincie",
    help=(
        "Eén kaart per gemeente of per regio (Noord-, Midden-, Zuid-Limburg), plus een"
        " overzichtskaart; 'provincie': alleen de overzichtskaart."
    ),
)
@click.option(
    "--formaat",
    "formaat",
    default="beide",
    show_default=True,
    metavar="pdf|png|beide",
    help=(
        "PNG (beeld, voor documenten), PDF (vector, om af te drukken) of beide. Met PDF komt er ook"
        " één atlas-PDF met alle kaarten."
    ),
)
@click.option(
    "--verblijfstype",
    "verblijfstype",
    default="short_stay",
    show_default=True,
    metavar="short_stay|mid_stay|long_stay",
    help="Van welk verblijfstype het oordeel op de kaart staat.",
)
@click.option(
    "--dpi",
    type=click.IntRange(50, 600),
    default=250,
    show_default=True,
    help="Resolutie van de PNG-kaarten (punten per inch).",
)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Map voor de kaarten (standaard RUN_DIR/kaarten).",
)
@BACKGROUND_OPTION
@PROGRESS_OPTION
@DEBUG_OPTION
def kaarten(
    run_dir: Path,
    per: str,
    formaat: str,
    verblijfstype: str,
    dpi: int,
    out: Path | None,
    achtergrond: str,
    voortgang: str,
    debug: bool,
) -> None:
    """Maak kaarten (A4 liggend) van een getoetste run in RUN_DIR.

    Per gemeente of regio en een overzichtskaart: locaties in de kleur van hun
    oordeel, met BBG, geurcontouren, recreatieparken, werkgevers en
    gemeentegrenzen, titel, legenda, schaalstok, noordpijl, datum, regelset en
    bronvermelding. Schrijft RUN_DIR/kaarten/<schaal>_<naam>_<verblijfstype>.png/.pdf.
    Werkt zonder internet; met --achtergrond brt op de BRT-Achtergrondkaart.
    """
    from locatietoets.layers.io.write import staged_output
    from locatietoets.layers.publish.maps import write_maps
    from locatietoets.layers.publish.runfolder import read_run

    setup_logging(voortgang, debug)
    try:
        per = _choice(per, _PER, "--per")
        formaat = _choice(formaat, _FORMATS, "--formaat")
        verblijfstype = _choice(verblijfstype, _STAYS, "--verblijfstype")
        target = out or (Path(run_dir) / "kaarten")
        with claim_output(target, inputs=run_inputs(run_dir), outputs=MAP_FILES):
            run = read_run(run_dir, stay_type=verblijfstype)
            started = time.perf_counter()
            with staged_output(
                Path(target)
            ) as stage:  # all maps or none: a failure leaves no half set
                staged = _with_progress(
                    voortgang,
                    "Kaarten",
                    lambda progress: write_maps(
                        run,
                        stage,
                        per=per,
                        stay_type=verblijfstype,
                        formats=formaat,
                        dpi=dpi,
                        progress=progress,
                        achtergrond=achtergrond,
                    ),
                )
            files = [Path(target) / f.name for f in staged]
            seconds = time.perf_counter() - started
    except (LocatietoetsError, KeyboardInterrupt, CancelledError) as exc:
        fail(exc, voortgang, debug)
    except Exception as exc:  # noqa: BLE001 - no traceback for users
        fail(exc, voortgang, debug)
    n_maps = len({f.stem for f in files if not f.stem.startswith("atlas_")})
    if voortgang == "json":
        emit_json(
            {
                "type": "klaar",
                "uitvoer": str(target),
                "bestanden": [str(f) for f in files],
                "kaarten": n_maps,
            }
        )
    elif voortgang == "balk":
        out_console.print(
            f"{n_maps} {'kaart' if n_maps == 1 else 'kaarten'} ({len(files)} bestanden) in"
            f" [bold]{target}[/] ({nl_number(seconds, 1)} s)"
        )


@click.command("rapport", context_settings=CONTEXT)
@_run_dir_argument
@click.option(
    "--per",
    "per",
    default="gemeente",
    show_default=True,
    metavar="gemeente|regio|provincie",
    help=(
        "Kaarten in het rapport per gemeente, per regio of alleen de overzichtskaart. De tabellen"
        " staan er altijd per gemeente én regio in."
    ),
)
@click.option(
    "--verblijfstype",
    "verblijfstype",
    default="short_stay",
    show_default=True,
    metavar="short_stay|mid_stay|long_stay",
    help=(
        "Van welk verblijfstype het oordeel op de kaarten staat (de tabellen tonen alle"
        " verblijfstypen)."
    ),
)
@click.option(
    "--dpi",
    type=click.IntRange(50, 300),
    default=110,
    show_default=True,
    help="Resolutie van de kaarten in rapport.html.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Map voor rapport.html en rapport.pdf (standaard RUN_DIR).",
)
@BACKGROUND_OPTION
@PROGRESS_OPTION
@DEBUG_OPTION
def rapport(
    run_dir: Path,
    per: str,
    verblijfstype: str,
    dpi: int,
    out: Path | None,
    achtergrond: str,
    voortgang: str,
    debug: bool,
) -> None:
    """Schrijf rapport.html en rapport.pdf voor een getoetste run in RUN_DIR.

    Voor woonvisies: per gemeente en regio het aantal locaties per oordeel en
    verblijfstype en de capaciteit in geschikte locaties, de meest
    voorkomende redenen voor afwijzing, de kaarten, de regelset met bronnen
    en betrouwbaarheid, en de verantwoording van de run (invoer met
    controlegetallen en datums, parameters, rekentijden, waarschuwingen).
    """
    from locatietoets.layers.io.write import staged_output
    from locatietoets.layers.publish.report import write_report
    from locatietoets.layers.publish.runfolder import read_run

    setup_logging(voortgang, debug)
    try:
        per = _choice(per, _PER, "--per")
        verblijfstype = _choice(verblijfstype, _STAYS, "--verblijfstype")
        with claim_output(out or Path(run_dir), inputs=run_inputs(run_dir), outputs=REPORT_FILES):
            run = read_run(run_dir, stay_type=verblijfstype)
            started = time.perf_counter()
            target = Path(out) if out is not None else run.path
            with staged_output(target) as stage:  # both files or neither
                staged = _with_progress(
                    voortgang,
                    "Rapport",
                    lambda progress: write_report(
                        run,
                        stage,
                        per=per,
                        stay_type=verblijfstype,
                        dpi=dpi,
                        progress=progress,
                        achtergrond=achtergrond,
                    ),
                )
            html_path, pdf_path = (target / f.name for f in staged)
            seconds = time.perf_counter() - started
    except (LocatietoetsError, KeyboardInterrupt, CancelledError) as exc:
        fail(exc, voortgang, debug)
    except Exception as exc:  # noqa: BLE001 - no traceback for users
        fail(exc, voortgang, debug)
    if voortgang == "json":
        emit_json(
            {
                "type": "klaar",
                "uitvoer": str(html_path.parent),
                "bestanden": [str(html_path), str(pdf_path)],
            }
        )
    elif voortgang == "balk":
        out_console.print(
            f"Rapport geschreven: [bold]{html_path}[/] en [bold]{pdf_path}[/]"
            f" ({nl_number(seconds, 1)} s)"
        )
