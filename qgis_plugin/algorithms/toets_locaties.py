"""Toets locaties: the full score, every config layer."""

from .base import EngineAlgorithm


class ToetsLocaties(EngineAlgorithm):
    """Score candidate sites against every rule whose layers are given."""

    ALGORITHM_ID = "toetslocaties"
    DISPLAY_NAME = "Toets locaties"
    GROUP = ""  # the main tool: above the groups Kaarten, Planning and Toetsen (its single steps)
    LAYERS = (
        (EngineAlgorithm.LOCATIES, True),
        (EngineAlgorithm.BEBOUWD_GEBIED, False),
        (EngineAlgorithm.BEBOUWDE_KOM, False),
        (EngineAlgorithm.RECREATIEPARKEN, False),
        (EngineAlgorithm.GEURCONTOUREN, False),
        (EngineAlgorithm.VEEHOUDERIJEN, False),
        (EngineAlgorithm.WERKGEVERS, False),
        (EngineAlgorithm.WEGENNET, False),
        (EngineAlgorithm.GEMEENTEN, False),
        (EngineAlgorithm.KERNEN, False),
        (EngineAlgorithm.BESTAANDE_HUISVESTING, False),
    )
    OFFERS_STAY_DEFAULT = True
    OFFERS_CONSTRAINTS = True
    OFFERS_CONFIG = True
