"""The field picker of the Processing dialog that pre-selects, when a layer is chosen, the first of
a list of candidate field names the layer has (case-insensitive): QGIS's own picker can pre-select
one default name only.

It is the Processing plugin's Python field wrapper (``TableFieldWidgetWrapper``) with another
choice after the layer changed, handed to QGIS through the parameter's ``widget_wrapper``
metadata. Where the Processing GUI is not there (``qgis_process``, a bare Python) the metadata is
empty and QGIS's own picker is used; a run without the parameter takes the first candidate the
layer has anyhow (:meth:`EngineAlgorithm._layer_table`).
"""

from __future__ import annotations

from typing import Any
import warnings

from .inputs import pick_field

__all__ = ["guessing_wrapper_metadata"]

_WRAPPER_CLASS: Any = None


def _wrapper_class():
    """The wrapper class, made once (it needs the Processing plugin's GUI module)."""
    global _WRAPPER_CLASS
    if _WRAPPER_CLASS is not None:
        return _WRAPPER_CLASS
    from processing.gui.wrappers import (  # the Processing plugin, in QGIS only
        DIALOG_BATCH,
        DIALOG_STANDARD,
        TableFieldWidgetWrapper,
    )

    class GuessingFieldWrapper(TableFieldWidgetWrapper):
        """A field combo box that picks the first candidate name the chosen layer has."""

        def __init__(self, param, dialog, row=0, col=0, guesses=(), **kwargs):
            self.guesses = tuple(guesses)
            with warnings.catch_warnings():  # the base class is deprecated for QGIS 4, not 3.x
                warnings.simplefilter("ignore", DeprecationWarning)
                super().__init__(param, dialog, row, col, **kwargs)

        def refreshItems(self):  # noqa: N802
            definition = self.parameterDefinition()
            if definition.allowMultiple() or self.dialogType not in (
                DIALOG_STANDARD,
                DIALOG_BATCH,
            ):
                super().refreshItems()
                return
            self.widget.setLayer(self._layer)
            choice = pick_field(self.getFields(), self.guesses)
            self.widget.setField(choice or "")

    _WRAPPER_CLASS = GuessingFieldWrapper
    return _WRAPPER_CLASS


def guessing_wrapper_metadata(guesses: tuple[str, ...]) -> dict[str, Any]:
    """Parameter metadata that makes the dialog pre-select the first of ``guesses`` the chosen
    layer has; ``{}`` without the Processing GUI or without guesses."""
    if not guesses:
        return {}
    try:
        cls = _wrapper_class()
    except Exception:  # noqa: BLE001 - no Processing GUI here: QGIS's own picker
        return {}
    return {"widget_wrapper": {"class": cls, "guesses": list(guesses)}}
