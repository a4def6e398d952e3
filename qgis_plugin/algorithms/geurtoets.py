"""Geurtoets: odour contours and fixed distances to livestock farms."""

from .base import EngineAlgorithm


class Geurtoets(EngineAlgorithm):
    """Only the odour step: contours and/or farms, with BBG/kom and gemeenten for the norm."""

    ALGORITHM_ID = "geurtoets"
    DISPLAY_NAME = "Geurtoets"
    GROUP = "Toetsen"
    LAYERS = (
        (EngineAlgorithm.LOCATIES, True),
        (EngineAlgorithm.GEURCONTOUREN, False),
        (EngineAlgorithm.VEEHOUDERIJEN, False),
        (EngineAlgorithm.BEBOUWD_GEBIED, False),
        (EngineAlgorithm.BEBOUWDE_KOM, False),
        (EngineAlgorithm.GEMEENTEN, False),
    )
    AT_LEAST_ONE = (EngineAlgorithm.GEURCONTOUREN, EngineAlgorithm.VEEHOUDERIJEN)
    OUTPUT_NAME = "Geurtoets"
