"""The data model of a configuration: which layers, which rule set, which output folder.

:mod:`locatietoets.layers.io.config` parses a TOML file into these; the readers
(:mod:`locatietoets.layers.io.read`, ...) take them. Kept apart so that the parser may use the
readers (to report the layer problems of a faulty config in one go) without an import cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["LayerSpec", "RulesConfig", "Config"]


@dataclass(frozen=True)
class LayerSpec:
    """Where one input layer lives and which of its fields mean what.

    Attributes
    ----------
    name
        The config name of the layer (``"locaties"``, ``"wegennet"``, ...).
    path
        Absolute path of the file.
    layer
        Layer name inside a multi-layer source (GeoPackage), or ``None``.
    crs
        CRS to assume when the file carries none (e.g. ``"EPSG:28992"``).
    options
        All other keys of the layer's table (field names, ``modus``, ...).
    """

    name: str
    path: Path
    layer: str | None = None
    crs: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        """Return an option (e.g. ``"naam_veld"``) or ``default``."""
        return self.options.get(key, default)


@dataclass(frozen=True)
class RulesConfig:
    """The ``[regels]`` table: a rule-set file and parameter overrides.

    Attributes
    ----------
    file
        A rule-set file to use instead of the built-in default, or ``None``.
    overrides
        Parameter values that replace the rule set's (``bbg_rand_m = 150``).
    gemeenten
        Per-gemeente overrides, keyed by gemeente name or CBS code.
    """

    file: Path | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    gemeenten: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    """A validated configuration.

    Attributes
    ----------
    source
        The config file (``None`` for a config built in code).
    layers
        The input layers that were given, by name.
    rules
        The rule set choice and overrides.
    output_dir
        Output folder from ``[uitvoer] map``, or ``None``.
    geoparquet
        Whether a score run also writes ``locaties.parquet`` (``[uitvoer] geoparquet = true`` or
        ``score --geoparquet``).
    """

    source: Path | None
    layers: Mapping[str, LayerSpec]
    rules: RulesConfig
    output_dir: Path | None = None
    geoparquet: bool = False

    def layer(self, name: str) -> LayerSpec | None:
        """Return the spec of layer ``name`` or ``None`` when it was not given."""
        return self.layers.get(name)
