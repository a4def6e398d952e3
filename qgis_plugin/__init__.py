"""Locatietoets QGIS plugin: the Locatietoets engine in the Processing toolbox.

QGIS loads this package (named ``locatietoets`` in the plugin zip) and calls
:func:`classFactory`. Nothing heavy is imported here: the engine runs as an
external process, so a missing engine can never stop QGIS from starting.
"""


def classFactory(iface):  # noqa: N802 (QGIS API)
    """Create the plugin for QGIS (``iface`` is ``None`` in ``qgis_process``)."""
    from .plugin import LocatietoetsPlugin

    return LocatietoetsPlugin(iface)
