"""The plugin's Processing setting: where the engine lives."""

from __future__ import annotations

from qgis.core import QgsSettings

__all__ = ["SETTING_ENGINE_PATH", "SETTING_LABEL", "engine_setting", "set_engine_setting"]

#: Processing setting key (Processing → Opties → Providers → Locatietoets).
SETTING_ENGINE_PATH = "LOCATIETOETS_PAD"
SETTING_LABEL = "Pad naar locatietoets (leeg = automatisch zoeken)"
_QSETTINGS_KEY = f"Processing/Configuration/{SETTING_ENGINE_PATH}"


def engine_setting() -> str:
    """The configured engine path ('' when not set: detect automatically).

    Read through Processing's config when it is loaded (it mirrors QgsSettings),
    else straight from QgsSettings, so this works in every QGIS executable.
    """
    try:
        from processing.core.ProcessingConfig import ProcessingConfig

        value = ProcessingConfig.getSetting(SETTING_ENGINE_PATH)
        if value is not None:
            return str(value or "")
    except ImportError:
        pass
    value = QgsSettings().value(_QSETTINGS_KEY, "")
    return str(value or "")


def set_engine_setting(path: str) -> None:
    """Store the engine path (e.g. after the plugin installed the engine).

    Written straight to QgsSettings and mirrored into Processing's in-memory
    config, without Processing's "path must exist" check: a stale path must be
    storable so the plugin can explain what is wrong with it.
    """
    QgsSettings().setValue(_QSETTINGS_KEY, path)
    try:
        from processing.core.ProcessingConfig import ProcessingConfig
    except ImportError:
        return
    setting = ProcessingConfig.settings.get(SETTING_ENGINE_PATH)
    if setting is not None:
        setting.value = path
