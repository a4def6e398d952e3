"""The sensitivity of one rule parameter (``locatietoets gevoeligheid``).

The config's inputs and network are read once (:func:`scripts.runner.prepare.prepare`); the sites
are scored once per value, the first time with every step and then re-running only the steps that
read the parameter and the verdicts (:class:`analysis.pipeline.Rescorer`). A travel speed shapes
the prepared network: it is prepared (or taken from the cache) per value. Writes the verdict counts
per value, gemeente and stay type (CSV), a chart of them (PNG), the sites whose verdict changes
between consecutive values (GeoPackage with a QGIS style) and a record (JSON).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
import datetime as dt
import logging
from pathlib import Path
import re
import time
from typing import Any

import geopandas as gpd

from locatietoets.analysis.errors import ConfigError, did_you_mean
from locatietoets.analysis.texts import nl_value
from locatietoets.analysis.vocabulary import STAY_TYPES, nl_number

__all__ = ["NETWORK_PARAMETERS", "SENSITIVITY_FILES", "parse_values", "run_sensitivity"]

log = logging.getLogger(__name__)

#: The files the command writes into its output folder.
SENSITIVITY_FILES = (
    "gevoeligheid.csv",
    "gevoeligheid.png",
    "gevoeligheid.gpkg",
    "gevoeligheid.json",
)
#: Parameters that shape the prepared road network (travel speeds).
NETWORK_PARAMETERS = ("snelheid_fiets_kmh", "snelheid_lopen_kmh")
_ALIASES = {
    "locatie_id": "Locatie",
    "gemeente": "Gemeente",
    "van_waarde": "Van waarde",
    "naar_waarde": "Naar waarde",
    "richting": "Richting",
    "wijziging": "Wijziging",
    **{f"oordeel_{s}_van": f"Oordeel {s.replace('_', '-')} (van)" for s in STAY_TYPES},
    **{f"oordeel_{s}_naar": f"Oordeel {s.replace('_', '-')} (naar)" for s in STAY_TYPES},
}


def parse_values(text: str) -> list[float]:
    """``"100,150,200"`` (or ``"0,5; 0,75"`` with ';' between values and decimal commas) as
    numbers, in the order given.

    Raises
    ------
    ConfigError
        Fewer than two values, a value that is not a number, or a value given twice.
    """
    raw = str(text).strip()
    parts = raw.split(";") if ";" in raw else raw.split(",")
    values, bad = [], []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        number = part.replace(",", ".") if ";" in raw else part
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", number):
            bad.append(part)
            continue
        values.append(float(number))
    if bad:
        raise ConfigError(
            f"--waarden: {', '.join(repr(b) for b in bad)} is geen getal. Geef de waarden"
            " gescheiden door komma's (100,150,200), of door puntkomma's met een decimale komma"
            " (0,5;0,75)."
        )
    if len(values) < 2:
        raise ConfigError("--waarden: geef minstens twee waarden, bijvoorbeeld 100,150,200.")
    if len(set(values)) < len(values):
        raise ConfigError("--waarden: een waarde staat er twee keer in; geef elke waarde één keer.")
    return values


def run_sensitivity(
    config,
    parameter: str,
    values: Sequence[float],
    out_dir: Path,
    *,
    progress: Callable[[float, str], None] | None = None,
    network_cache_dir: Path | None = None,
) -> dict[str, Any]:
    """Score the config's sites once per value of ``parameter`` and write the outputs; return the
    record (also written as ``gevoeligheid.json``)."""
    from locatietoets.analysis.pipeline import Rescorer
    from locatietoets.analysis.planning.sensitivity import changed_between, sensitivity_counts
    from locatietoets.layers.io.read import RD_NEW
    from locatietoets.layers.io.tables import FIXED_DATE, write_json, write_layer, write_table
    from locatietoets.layers.io.write import staged_output
    from locatietoets.layers.publish.sensitivity import change_qml, sensitivity_chart
    from locatietoets.layers.publish.style import store_layer_style
    from locatietoets.scripts.runner.prepare import prepare

    def report(fraction: float, message: str) -> None:
        if progress is not None:
            progress(fraction, message)

    t0 = time.perf_counter()
    prepared = prepare(
        config,
        network_cache_dir=network_cache_dir,
        progress=lambda step, message, f: report(f, message),
        share=0.1,
    )
    if prepared.sites is None:  # pragma: no cover - load_inputs requires [lagen.locaties]
        raise ConfigError("De configuratie heeft geen [lagen.locaties].")
    base = prepared.ruleset
    _check_parameter(base, parameter)
    rulesets = [
        base.with_overrides({parameter: v}, where=f"--waarden van {parameter}") for v in values
    ]
    unit = base.parameters[parameter].unit
    timings = {"inlezen": round(time.perf_counter() - t0, 3)}
    rescorer = Rescorer(prepared.inputs, network_mode=prepared.network_mode)
    tables, seconds = [], []
    for k, (value, ruleset) in enumerate(zip(values, rulesets)):
        report(
            0.1 + 0.8 * k / len(values),
            f"Toetsen met {parameter} = {nl_value(value)} ({k + 1} van {len(values)})",
        )
        t = time.perf_counter()
        inputs = None
        if parameter in NETWORK_PARAMETERS:
            inputs = _with_network(prepared, ruleset, network_cache_dir)
        result = rescorer.score(ruleset, changed={parameter}, inputs=inputs)
        keep = ["locatie_id", "gemeente", *(f"oordeel_{s}" for s in STAY_TYPES)]
        tables.append(result.results[[c for c in keep if c in result.results]].copy())
        seconds.append(round(time.perf_counter() - t, 3))
    timings["toetsen_per_waarde"] = seconds
    report(0.9, "Uitvoer wegschrijven")
    counts = sensitivity_counts(values, tables)
    changed = changed_between(values, tables, unit=unit)
    geometry = prepared.original.geometry.to_numpy()[changed["positie"].to_numpy(dtype=int)]
    layer = gpd.GeoDataFrame(changed.drop(columns="positie"), geometry=geometry, crs=RD_NEW)
    rs_record = base.record()
    subtitle = (
        f"Regelset {rs_record.get('id', '?')} {rs_record.get('versie', '')}; waarden"
        f" {' / '.join(nl_value(v) for v in values)} {unit};"
        f" {nl_number(len(prepared.sites))} locaties, elk getoetst voor elk verblijfstype;"
        f" configuratie {Path(config.source).name if config.source else '(geen bestand)'}"
    )
    files = list(SENSITIVITY_FILES)
    with staged_output(Path(out_dir)) as stage:
        write_table(counts, stage / "gevoeligheid.csv")
        sensitivity_chart(
            counts, stage / "gevoeligheid.png", parameter=parameter, unit=unit, subtitle=subtitle
        )
        if len(layer):
            gpkg = stage / "gevoeligheid.gpkg"
            write_layer(layer, gpkg, layer="gewijzigde_locaties")
            polygon = bool(layer.geom_type.isin(["Polygon", "MultiPolygon"]).any())
            store_layer_style(
                gpkg,
                "gewijzigde_locaties",
                change_qml(polygon=polygon, aliases=_ALIASES),
                name="Wijziging",
                description="Locatietoets: gekleurd op richting van de wijziging",
                update_time=FIXED_DATE,
            )
        else:
            files.remove("gevoeligheid.gpkg")
        timings["totaal"] = round(time.perf_counter() - t0, 3)
        record = {
            **prepared.record(),
            "parameter": {
                "naam": parameter,
                "eenheid": unit,
                "waarde_regelset": base.value(parameter),
                "waarden": [float(v) for v in values],
                "stappen_opnieuw": _rerun_steps(parameter),
            },
            "locaties": int(len(prepared.sites)),
            "gewijzigd": {
                f"{a:g} → {b:g}": int((changed["van_waarde"] == a).sum()) if len(changed) else 0
                for a, b in zip(values[:-1], values[1:])
            },
            "tijden_s": timings,
            "bestanden": files,
            "gestart": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }
        write_json(record, stage / "gevoeligheid.json")
    report(1.0, "Klaar")
    record["telling"] = counts
    return record


def _check_parameter(ruleset, parameter: str) -> None:
    if parameter not in ruleset.parameters:
        raise ConfigError(
            f"--parameter '{parameter}' staat niet in regelset"
            f" '{ruleset.id}'.{did_you_mean(parameter, ruleset.parameters)} Zie 'locatietoets"
            " regels' voor alle parameters."
        )
    value = ruleset.value(parameter)
    if isinstance(value, (bool, str, dict, list)):
        raise ConfigError(
            f"--parameter '{parameter}' heeft geen getal als waarde (maar ja/nee, tekst of een"
            " tabel); gevoeligheid werkt voor parameters met één getal, zoals bbg_rand_m."
        )


def _rerun_steps(parameter: str) -> list[str]:
    from locatietoets.analysis.pipeline import steps_reading

    steps = sorted(steps_reading({parameter}))
    if parameter in NETWORK_PARAMETERS:
        steps = sorted({*steps, "reis"})
    return [*steps, "oordeel"]


def _with_network(prepared, ruleset, network_cache_dir: Path | None):
    """The inputs with the road network prepared for ``ruleset``'s travel speeds (cached)."""
    from locatietoets.layers.io.network import load_configured_network

    spec = prepared.config.layer("wegennet")
    if spec is None or prepared.network is None:
        return None
    network, _ = load_configured_network(spec, ruleset, cache_dir=network_cache_dir)
    inputs = prepared.inputs_for(prepared.sites)
    inputs.network = network
    return inputs
