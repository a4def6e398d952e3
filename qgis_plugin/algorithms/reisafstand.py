"""Reisafstand tot werkgevers: network distance and time to the nearest (or own) employer."""

from .base import EngineAlgorithm


class Reisafstand(EngineAlgorithm):
    """Only the travel step: sites, employers and a road network."""

    ALGORITHM_ID = "reisafstand"
    DISPLAY_NAME = "Reisafstand tot werkgevers"
    GROUP = "Toetsen"
    LAYERS = (
        (EngineAlgorithm.LOCATIES, True),
        (EngineAlgorithm.WERKGEVERS, True),
        (EngineAlgorithm.WEGENNET, True),
    )
    OUTPUT_NAME = "Reisafstand tot werkgevers"
