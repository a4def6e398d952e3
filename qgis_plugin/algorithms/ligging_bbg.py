"""Ligging t.o.v. bebouwd gebied: binnen, rand of buiten BBG, with the distance."""

from .base import EngineAlgorithm


class LiggingBbg(EngineAlgorithm):
    """Only the BBG step (and the bebouwde kom, when given)."""

    ALGORITHM_ID = "liggingbbg"
    DISPLAY_NAME = "Ligging t.o.v. bebouwd gebied"
    GROUP = "Toetsen"
    LAYERS = (
        (EngineAlgorithm.LOCATIES, True),
        (EngineAlgorithm.BEBOUWD_GEBIED, True),
        (EngineAlgorithm.BEBOUWDE_KOM, False),
    )
    OUTPUT_NAME = "Ligging t.o.v. BBG"
