"""The plugin shell: provider registration, toolbar button, menu entries, engine check."""

from __future__ import annotations

from pathlib import Path

from qgis.core import Qgis, QgsApplication, QgsMessageLog, QgsTask
from qgis.PyQt.QtCore import QUrl
from qgis.PyQt.QtGui import QDesktopServices, QIcon
from qgis.PyQt.QtWidgets import QAction, QPushButton

from . import engine as eng
from .install import bundled_engine, install_engine
from .provider import LocatietoetsProvider
from .settings import engine_setting, set_engine_setting

__all__ = ["LocatietoetsPlugin"]

PLUGIN_DIR = Path(__file__).resolve().parent
MENU = "&Locatietoets"
LOG_TAG = "Locatietoets"


class LocatietoetsPlugin:
    """Registered by :func:`classFactory`; also works without a GUI (``qgis_process``)."""

    def __init__(self, iface=None):
        self.iface = iface
        self.provider: LocatietoetsProvider | None = None
        self.actions: list[QAction] = []
        self.message = None  # the message bar item about the engine, if shown
        self._task: QgsTask | None = None

    # Processing ------------------------------------------------------------
    def initProcessing(self):  # noqa: N802
        if self.provider is None:
            self.provider = LocatietoetsProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    # GUI ------------------------------------------------------------------------
    def initGui(self):  # noqa: N802
        self.initProcessing()
        if self.iface is None:
            return
        icon = QIcon(str(PLUGIN_DIR / "icon.svg"))
        parent = self.iface.mainWindow()
        run = QAction(icon, "Toets locaties…", parent)
        run.setObjectName("locatietoetsToetsLocaties")
        run.setToolTip(
            "Locatietoets: toets kandidaatlocaties voor huisvesting van arbeidsmigranten"
        )
        run.triggered.connect(self.open_toets_locaties)
        check = QAction("Rekenkern controleren…", parent)
        check.setObjectName("locatietoetsRekenkern")
        check.triggered.connect(lambda: self.check_engine(report_success=True))
        help_action = QAction(
            QgsApplication.getThemeIcon("/mActionHelpContents.svg"), "Help bij Locatietoets", parent
        )
        help_action.setObjectName("locatietoetsHelp")
        help_action.triggered.connect(self.open_help)
        self.iface.addToolBarIcon(run)
        for action in (run, check, help_action):
            self.iface.addPluginToVectorMenu(MENU, action)
        self.actions = [run, check, help_action]
        self._check_engine_in_background()

    def unload(self):
        if self._task is not None:
            try:
                self._task.cancel()
            except RuntimeError:
                pass
            self._task = None
        if self.iface is not None:
            for action in self.actions:
                self.iface.removePluginVectorMenu(MENU, action)
                self.iface.removeToolBarIcon(action)
                action.deleteLater()
            self._clear_message()
        self.actions = []
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None

    # Actions ----------------------------------------------------------------------
    def open_toets_locaties(self):
        """Open the Processing dialog of Toets locaties."""
        try:
            import processing

            processing.execAlgorithmDialog("locatietoets:toetslocaties", {})
        except Exception as exc:  # noqa: BLE001 - never a traceback for the user
            self._push(
                "Locatietoets",
                f"Het venster 'Toets locaties' kan niet geopend worden: {exc}",
                Qgis.Critical,
            )

    def open_help(self):
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(PLUGIN_DIR / "help" / "index.html")))

    # Engine check ---------------------------------------------------------------
    def check_engine(self, report_success: bool = False) -> eng.Engine | None:
        """Find the engine; on failure show a Dutch message bar with what to do. Never raises."""
        try:
            found = eng.find_engine(engine_setting())
        except eng.EngineMissingError as exc:
            self.show_engine_problem(exc)
            return None
        except Exception as exc:  # noqa: BLE001
            self.show_engine_problem(eng.EngineMissingError(str(exc), reason="onbruikbaar"))
            return None
        self._clear_message()
        if report_success:
            self._push(
                "Locatietoets",
                f"Rekenkern gevonden: {found.path} (versie {found.version_text}).",
                Qgis.Success,
                8,
            )
        return found

    def _check_engine_in_background(self):
        """At start-up, check the engine without blocking QGIS (``--version`` may take a second)."""

        def work(_task):
            try:
                return eng.find_engine(engine_setting())
            except eng.EngineMissingError as exc:
                return exc

        def done(exception, result=None):
            self._task = None
            if isinstance(result, eng.EngineMissingError):
                self.show_engine_problem(result)

        self._task = QgsTask.fromFunction(
            "Locatietoets: rekenkern controleren", work, on_finished=done
        )
        QgsApplication.taskManager().addTask(self._task)

    def show_engine_problem(self, problem: eng.EngineMissingError):
        """Message bar: what is missing, how to install it, and buttons to fix it."""
        QgsMessageLog.logMessage(str(problem), LOG_TAG, Qgis.Warning)
        if self.iface is None:
            return
        first = str(problem).split("\n\n", 1)[0]
        title = {"te_oud": "Rekenkern te oud", "onbruikbaar": "Rekenkern werkt niet"}.get(
            problem.reason, "Rekenkern ontbreekt"
        )
        bar = self.iface.messageBar()
        self._clear_message()
        item = bar.createMessage(f"Locatietoets — {title}", first)
        details = QPushButton("Hoe installeren?")
        details.clicked.connect(lambda: self._show_details(str(problem)))
        item.layout().addWidget(details)
        if bundled_engine() is not None:
            install = QPushButton("Rekenkern installeren")
            install.clicked.connect(self.install_engine)
            item.layout().addWidget(install)
        settings = QPushButton("Instellingen…")
        settings.clicked.connect(self._open_settings)
        item.layout().addWidget(settings)
        self.message = bar.pushWidget(item, Qgis.Warning)

    def install_engine(self):
        """Create the engine's venv from the bundled wheel in a background task."""
        self._clear_message()
        self._push(
            "Locatietoets",
            "De rekenkern wordt geïnstalleerd (dit kan enkele minuten duren)…",
            Qgis.Info,
            10,
        )

        def work(task):
            def log(line):
                QgsMessageLog.logMessage(line, LOG_TAG, Qgis.Info)

            return str(install_engine(log=log, is_cancelled=task.isCanceled))

        def done(exception, result=None):
            self._task = None
            if exception is not None or result is None:
                text = str(exception) if exception is not None else "onbekende fout"
                self._push(
                    "Locatietoets",
                    f"Installatie mislukt: {text} (zie het logboek 'Locatietoets').",
                    Qgis.Critical,
                )
                return
            set_engine_setting(result)
            self.check_engine(report_success=True)

        self._task = QgsTask.fromFunction(
            "Locatietoets: rekenkern installeren", work, on_finished=done
        )
        QgsApplication.taskManager().addTask(self._task)

    # Helpers ---------------------------------------------------------------------
    def _show_details(self, text: str):
        from qgis.PyQt.QtWidgets import QMessageBox

        QMessageBox.information(
            self.iface.mainWindow() if self.iface else None, "Locatietoets — rekenkern", text
        )

    def _open_settings(self):
        try:
            self.iface.showOptionsDialog(self.iface.mainWindow(), currentPage="processingOptions")
        except Exception:  # noqa: BLE001
            pass

    def _push(self, title: str, text: str, level, duration: int = 0):
        QgsMessageLog.logMessage(text, LOG_TAG, level)
        if self.iface is not None:
            self.iface.messageBar().pushMessage(title, text, level=level, duration=duration)

    def _clear_message(self):
        if self.message is not None and self.iface is not None:
            try:
                self.iface.messageBar().popWidget(self.message)
            except RuntimeError:
                pass
        self.message = None
