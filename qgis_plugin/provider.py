"""The Processing provider "Locatietoets"."""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .algorithms.bedrijfslocatie import Bedrijfslocatie
from .algorithms.capaciteit import Capaciteit
from .algorithms.exporteer_kaarten import ExporteerKaarten
from .algorithms.geurtoets import Geurtoets
from .algorithms.gevoeligheid import Gevoeligheid
from .algorithms.ligging_bbg import LiggingBbg
from .algorithms.raster import Raster
from .algorithms.reisafstand import Reisafstand
from .algorithms.toets_locaties import ToetsLocaties
from .algorithms.vergelijk import Vergelijk
from .settings import SETTING_ENGINE_PATH, SETTING_LABEL

__all__ = ["LocatietoetsProvider", "ALGORITHMS"]

PLUGIN_DIR = Path(__file__).resolve().parent
#: One class per algorithm, each in its own module under ``algorithms/``. The toolbox shows Toets
#: locaties first (ungrouped), then the groups (each algorithm's ``GROUP``): "Kaarten" (woonvisie
#: maps), "Planning" (``locatietoets capaciteit``, ``vergelijk``, ``raster``, ``bedrijfslocatie``,
#: ``gevoeligheid``)
#: and "Toetsen" (the single steps of Toets locaties).
ALGORITHMS = (ToetsLocaties, LiggingBbg, Geurtoets, Reisafstand, ExporteerKaarten)
ALGORITHMS += (Capaciteit, Vergelijk, Raster, Bedrijfslocatie, Gevoeligheid)


class LocatietoetsProvider(QgsProcessingProvider):
    """Lists the Locatietoets algorithms and owns the "Pad naar locatietoets" setting."""

    def id(self):
        return "locatietoets"

    def name(self):
        return "Locatietoets"

    def longName(self):  # noqa: N802
        return "Locatietoets — huisvesting arbeidsmigranten (Provincie Limburg)"

    def icon(self):
        return QIcon(str(PLUGIN_DIR / "icon.svg"))

    def load(self):
        try:
            from processing.core.ProcessingConfig import ProcessingConfig, Setting
        except ImportError:  # Processing plugin not loaded: the setting is read from QgsSettings
            pass
        else:
            ProcessingConfig.settingIcons[self.name()] = self.icon()
            ProcessingConfig.addSetting(
                Setting(self.name(), SETTING_ENGINE_PATH, SETTING_LABEL, "", valuetype=Setting.FILE)
            )
            ProcessingConfig.readSettings()
        self.refreshAlgorithms()
        return True

    def unload(self):
        try:
            from processing.core.ProcessingConfig import ProcessingConfig
        except ImportError:
            return
        if SETTING_ENGINE_PATH in ProcessingConfig.settings:
            ProcessingConfig.removeSetting(SETTING_ENGINE_PATH)

    def loadAlgorithms(self):  # noqa: N802
        for algorithm in ALGORITHMS:
            self.addAlgorithm(algorithm())

    def supportedOutputVectorLayerExtensions(self):  # noqa: N802
        return ["gpkg", "shp", "geojson", "fgb", "csv"]

    def defaultVectorFileExtension(self, hasGeometry=True):  # noqa: N802
        return "gpkg"
