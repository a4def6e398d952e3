"""From a downloaded layer to the written one: keep and rename fields, cut to the area."""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from locatietoets.analysis.vocabulary import nl_number
from locatietoets.layers.fetch.area import Area, gm_code
from locatietoets.layers.fetch.clients import RawLayer
from locatietoets.layers.fetch.endpoints import GEOMETRIES, Endpoint
from locatietoets.layers.fetch.roads import nwb_road_types

log = logging.getLogger(__name__)

_OVERLAP_MIN_SHARE = 0.01


def select_fields(
    frame: gpd.GeoDataFrame, endpoint: Endpoint
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Keep the endpoint's fields under their output names.

    A value that is a list (a relation with several targets, such as a BAG
    verblijfsobject's ``pand.href``) is written as one text, comma-separated.
    """
    present = {src: dst for src, dst in endpoint.fields.items() if src in frame.columns}
    missing = [src for src in endpoint.fields if src not in frame.columns]
    columns = list(present)
    extra = ["osm_id"] if endpoint.kind == "overpass" and "osm_id" in frame.columns else []
    out = frame[columns + extra].rename(columns=present)
    out = gpd.GeoDataFrame(out, geometry=frame.geometry.values, crs=frame.crs)
    for column in out.columns:
        if column != out.geometry.name and out[column].dtype == object:
            lists = out[column].map(lambda v: isinstance(v, (list, tuple)))
            if lists.any():
                out.loc[lists, column] = out.loc[lists, column].map(
                    lambda v: ",".join(str(x) for x in v)
                )
    warnings = []
    if missing and len(frame) and endpoint.kind == "overpass":
        # OpenStreetMap has no schema: a tag no element carries is simply absent
        log.info("%s: tags %s komen in het antwoord niet voor", endpoint.key, ", ".join(missing))
    elif missing and len(frame):
        warnings.append(
            f"Velden {', '.join(missing)} ontbreken in de bron '{endpoint.key}' en zijn"
            " overgeslagen; aanwezig:"
            f" {', '.join(c for c in frame.columns if c != frame.geometry.name)[:300]}."
        )
    return out, warnings


def _cut(
    frame: gpd.GeoDataFrame, endpoint: Endpoint, area: Area
) -> tuple[gpd.GeoDataFrame, list[str]]:
    warnings: list[str] = []
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    wanted = GEOMETRIES[endpoint.geometry]
    if endpoint.geometry == "punt" and endpoint.kind == "overpass":
        frame = _areas_to_points(frame, endpoint)
    other = ~frame.geom_type.isin(wanted)
    if other.any():
        counts = frame.geom_type[other].value_counts().to_dict()
        log.info(
            "%s: %s objecten met een ander geometrietype overgeslagen (%s)",
            endpoint.key,
            nl_number(int(other.sum())),
            counts,
        )
        if endpoint.kind != "overpass":  # OSM mixes points and areas by design
            warnings.append(
                f"{nl_number(int(other.sum()))} objecten met een ander geometrietype dan"
                f" '{endpoint.geometry}'"
                f" overgeslagen: {counts}."
            )
        frame = frame[~other]
    if endpoint.geometry == "vlak":
        invalid = ~frame.geometry.is_valid
        if invalid.any():
            frame = frame.copy()
            frame.loc[invalid, "geometry"] = frame.geometry[invalid].make_valid()
    if endpoint.clip == "overlap" and endpoint.geometry == "vlak":
        own = frame.geometry.area.to_numpy()
        shared = shapely.area(shapely.intersection(frame.geometry.values, area.polygon))
        keep = shared >= _OVERLAP_MIN_SHARE * own
        frame = frame[keep]
    else:
        frame = gpd.clip(frame, area.polygon, keep_geom_type=True)
        frame = frame[~frame.geometry.is_empty & frame.geom_type.isin(wanted)]
    frame = frame.reset_index(drop=True)
    if endpoint.geometry != "punt":
        frame = frame.set_geometry(_promote(frame.geometry))
    return frame, warnings


def _areas_to_points(frame: gpd.GeoDataFrame, endpoint: Endpoint) -> gpd.GeoDataFrame:
    """OpenStreetMap maps a shop or a doctor's practice as a node or as its building: a point
    layer (a facility) takes an area's representative point (a point inside it)."""
    areas = frame.geom_type.isin(GEOMETRIES["vlak"]).to_numpy()
    if not areas.any():
        return frame
    frame = frame.copy()
    frame.loc[areas, frame.geometry.name] = frame.geometry[areas].representative_point()
    log.info(
        "%s: %s vlakken (gebouwen, terreinen) als punt binnen het vlak",
        endpoint.key,
        nl_number(int(areas.sum())),
    )
    return frame


def _promote(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    values = geoms.values
    single_poly = shapely.get_type_id(values) == 3
    single_line = shapely.get_type_id(values) == 1
    out = values.copy()
    out[single_poly] = [shapely.MultiPolygon([g]) for g in values[single_poly]]
    out[single_line] = [shapely.MultiLineString([g]) for g in values[single_line]]
    return gpd.GeoSeries(out, index=geoms.index, crs=geoms.crs)


def select_values(
    frame: gpd.GeoDataFrame, endpoint: Endpoint
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Keep the features whose source fields hold one of the endpoint's ``selectie`` values."""
    warnings: list[str] = []
    for source_field, values in endpoint.select.items():
        if source_field not in frame.columns:
            if len(frame):
                warnings.append(
                    f"Het selectieveld '{source_field}' ontbreekt in de bron '{endpoint.key}';"
                    " er is niets geselecteerd. Controleer 'selectie' in het endpoint-bestand."
                )
            return frame.iloc[0:0], warnings
        keep = frame[source_field].astype("string").isin(list(values)).fillna(False)
        log.info(
            "%s: %s van %s objecten met %s in %s",
            endpoint.key,
            nl_number(int(keep.sum())),
            nl_number(len(frame)),
            source_field,
            ", ".join(str(v) for v in values),
        )
        frame = frame[keep.to_numpy()]
    return frame, warnings


def derive_fields(
    frame: gpd.GeoDataFrame, endpoint: Endpoint
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Add the endpoint's derived fields (``afleiden``), on the output field names."""
    warnings: list[str] = []
    if "nwb_wegtype" in endpoint.derive:
        code_field = endpoint.fields.get("bst_code")
        owner_field = endpoint.fields.get("wegbehsrt")
        if code_field is None or code_field not in frame.columns:
            if len(frame):
                warnings.append(
                    f"De bron '{endpoint.key}' levert geen baansubsoort (bst_code): het wegtype"
                    " is niet afgeleid; het netwerk behandelt alle wegen als gewone wegen."
                )
            return frame, warnings
        types, unknown = nwb_road_types(
            frame[code_field],
            frame[owner_field] if owner_field in frame.columns else None,
        )
        frame = frame.assign(wegtype=types)
        not_roads = frame["wegtype"].isna()
        if not_roads.any():
            log.info(
                "%s: %s wegvakken zonder weg (veerdienst, vliegveld) weggelaten",
                endpoint.key,
                nl_number(int(not_roads.sum())),
            )
            frame = frame[~not_roads.to_numpy()]
        if unknown:
            warnings.append(
                f"{nl_number(unknown)} wegvakken hebben een onbekende baansubsoort en gelden als"
                " gewone weg"
                " (wegtype 'unclassified')."
            )
    if "cbs_onbekend" in endpoint.derive:
        frame, more = _cbs_unknown(frame, endpoint)
        warnings += more
    if "huisarts" in endpoint.derive:
        frame = _general_practice(frame, endpoint)
    return frame, warnings


#: CBS writes a hidden or unknown number as a negative code (-99995 geheim, -99997 niet van
#: toepassing/onbekend, -99999999 in older editions); no count CBS publishes is negative.
def _cbs_unknown(frame: gpd.GeoDataFrame, endpoint: Endpoint) -> tuple[gpd.GeoDataFrame, list[str]]:
    """CBS's negative codes become empty; features whose ``inwoners_veld`` is then empty are left
    out (a kern needs its number of inhabitants), with a warning that names them."""
    warnings: list[str] = []
    frame = frame.copy()
    for column in frame.columns:
        if column == frame.geometry.name:
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        if values.notna().any() and frame[column].dtype != object:
            frame[column] = values.where(values >= 0)
    people = endpoint.config.get("inwoners_veld")
    if people and people in frame.columns:
        unknown = pd.to_numeric(frame[people], errors="coerce").isna().to_numpy()
        if unknown.any():
            name = endpoint.config.get("naam_veld")
            names = (
                frame.loc[unknown, name].astype(str).tolist()[:5] if name in frame.columns else []
            )
            shown = f" ({', '.join(names)}{', ...' if int(unknown.sum()) > 5 else ''})"
            warnings.append(
                f"{nl_number(int(unknown.sum()))} objecten zonder bekend aantal inwoners (CBS:"
                " geheim of"
                f" onbekend) weggelaten{shown if names else ''}; locaties daar horen bij geen"
                " kern en hun concentratie wordt niet getoetst."
            )
            frame = frame[~unknown]
    return frame, warnings


def _general_practice(frame: gpd.GeoDataFrame, endpoint: Endpoint) -> gpd.GeoDataFrame:
    """Keep the doctors without a speciality or with ``general`` among their specialities
    (OSM ``healthcare:speciality``, semicolon-separated): a huisarts, not a specialist."""
    column = endpoint.fields.get("healthcare:speciality")
    if column is None or column not in frame.columns:
        return frame
    text = frame[column].astype("string").str.lower().fillna("")
    general = text.map(
        lambda v: v.strip() == "" or "general" in (p.strip() for p in v.split(";"))
    ).to_numpy(dtype=bool)
    if not general.all():
        log.info(
            "%s: %s artsen met een ander specialisme dan huisarts weggelaten",
            endpoint.key,
            nl_number(int((~general).sum())),
        )
    return frame[general]


def prepare_layer(
    raw: RawLayer, endpoint: Endpoint, area: Area, lookup: Mapping[str, Mapping[str, Any]]
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """From a downloaded layer to the one written: select, keep fields, derive, cut."""
    selected, warnings = select_values(raw.frame, endpoint)
    frame, more = select_fields(selected, endpoint)
    warnings += more
    frame, more = derive_fields(frame, endpoint)
    warnings += more
    if endpoint.key == "gemeenten" and "code" in frame.columns:
        frame["code"] = frame["code"].map(gm_code)
        frame["regio"] = frame["code"].map(lambda c: (lookup.get(c) or {}).get("regio"))
    frame, more = _cut(frame, endpoint, area)
    return frame, warnings + more
