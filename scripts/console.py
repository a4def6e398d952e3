"""The console of the command line: output consoles, Dutch click classes, shared options,
logging, JSON progress lines, the Dutch error exit and the verdict summary table.

Kept apart from :mod:`scripts.cli` so that command modules (reporting,
planning, data, ...) can use them without importing the CLI itself.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import warnings

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from locatietoets.analysis.errors import LocatietoetsError
from locatietoets.analysis.vocabulary import VERDICTS, nl_number, stay_label
from locatietoets.layers.io.messages import route_gdal_messages
from locatietoets.scripts._dutch import install as _install_dutch

__all__ = [
    "CONTEXT",
    "DEBUG_OPTION",
    "PROGRESS_OPTION",
    "DutchCommand",
    "DutchGroup",
    "emit_json",
    "err_console",
    "fail",
    "out_console",
    "raise_on_sigterm",
    "setup_logging",
    "summary_table",
]

_install_dutch()
route_gdal_messages()  # GDAL's "ERROR 1: ..." lines go to a private log, never raw to the terminal

warnings.filterwarnings("ignore", message="Unable to import Axes3D")


def _dutch_showwarning(message, category, filename, lineno, file=None, line=None):  # noqa: ARG001 - warnings API
    """Python warnings (pyogrio, shapely, pandas) go to the log as a Dutch warning, never raw to
    stderr.
    """
    logging.getLogger("locatietoets").warning(
        "melding van Python: %s: %s", category.__name__, message
    )


warnings.showwarning = _dutch_showwarning
#: Console for progress, warnings and errors (stderr).
err_console = Console(stderr=True)
#: Console for results and summaries (stdout).
out_console = Console()

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class DutchCommand(click.Command):
    """A click command whose usage line reads [OPTIES]."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", "[OPTIES]")
        super().__init__(*args, **kwargs)


class DutchGroup(click.Group):
    """A click group whose usage line and subcommands read in Dutch."""

    command_class = DutchCommand

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", "[OPTIES]")
        kwargs.setdefault("subcommand_metavar", "COMMANDO [ARGUMENTEN]...")
        super().__init__(*args, **kwargs)


class _JsonLogHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        level = "waarschuwing" if record.levelno >= logging.WARNING else "info"
        emit_json({"type": "log", "niveau": level, "bericht": record.getMessage()})


def emit_json(payload: dict) -> None:
    """Write one JSON line on stdout (``--voortgang json``, read by the QGIS plugin)."""
    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def setup_logging(mode: str, debug: bool) -> None:
    """Route log records for progress mode ``mode``: JSON lines (json), a rich handler (balk) or
    nowhere.
    """
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for noisy in ("pyogrio", "fiona", "matplotlib", "urllib3", "numexpr"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if mode == "json":
        root.addHandler(_JsonLogHandler())
    elif mode == "balk":
        from rich.logging import RichHandler

        handler = RichHandler(console=err_console, show_path=False, show_time=False, markup=False)
        handler.setLevel(logging.WARNING if not debug else logging.DEBUG)
        root.addHandler(handler)


def raise_on_sigterm() -> None:
    """Turn SIGTERM (the plugin's cancel) into KeyboardInterrupt, so a run stops like on Ctrl-C."""

    def handler(signum, frame):  # noqa: ARG001 - signal signature
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def fail(exc: BaseException, mode: str, debug: bool, *, err: Console | None = None) -> None:
    """Print a Dutch error (JSON line in ``mode == "json"``) and exit: 2 user error, 130 cancelled,
    1 unexpected.
    """
    err = err or err_console
    if isinstance(exc, KeyboardInterrupt):
        message = "Afgebroken; er is niets weggeschreven (bestaande uitvoer is ongewijzigd)."
        code = 130
    elif isinstance(exc, LocatietoetsError):
        message = f"{exc.title}: {exc}"
        code = 2
    else:
        message = (
            f"Onverwachte fout ({type(exc).__name__}: {exc}). Er is niets weggeschreven. "
            "Draai opnieuw met --debug en meld de melding bij de beheerders van de Locatietoets."
        )
        code = 1
    if debug and not isinstance(exc, KeyboardInterrupt):
        err.print_exception()
    if mode == "json":
        emit_json({"type": "fout", "bericht": message, "code": code})
    else:
        err.print(f"[bold red]{escape(message)}[/]", highlight=False)
    sys.exit(code)


PROGRESS_OPTION = click.option(
    "--voortgang",
    type=click.Choice(["balk", "json", "geen"]),
    default="balk",
    show_default=True,
    help="Voortgang als balk (terminal), als JSON-regels op stdout (voor de QGIS-plugin) "
    "of niet tonen.",
)
DEBUG_OPTION = click.option(
    "--debug", is_flag=True, help="Toon bij een fout de volledige technische melding."
)


def summary_table(counts: dict[str, dict[str, int]], title: str) -> Table:
    """The verdict counts per stay type (``telling`` of a run record) as a rich table."""
    table = Table(title=title, title_justify="left")
    table.add_column("Verblijfstype")
    for verdict, style in (
        ("geschikt", "green"),
        ("voorwaardelijk", "dark_orange"),
        ("ongeschikt", "red"),
    ):
        table.add_column(verdict, justify="right", style=style)
    table.add_column("geen oordeel", justify="right", style="dim")
    for stay, row in counts.items():
        cells = [nl_number(row.get(v, 0)) for v in (*VERDICTS, "geen oordeel")]
        table.add_row(stay_label(stay), *cells)
    return table
