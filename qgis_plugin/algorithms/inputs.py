"""The config layers the plugin offers as Processing parameters: the parameter keys, each layer's
field pickers (with the field names that fit, pre-selected) and the table of every config layer the
engine knows (``tests/test_qgis_plugin.py`` holds the key contract with the engine)."""

from __future__ import annotations

from dataclasses import dataclass

from qgis.core import QgsProcessing

__all__ = ["FieldInput", "LayerInput", "LayerParameters", "NAME_FIELD_GUESSES", "pick_field"]

#: Candidate name fields of declared constraint layers and facility layers (the default of the
#: parameters BEPERKING_NAAM_VELD and VOORZIENING_NAAM_VELD), best first.
NAME_FIELD_GUESSES: dict[str, tuple[str, ...]] = {
    "beperkingen": ("naam", "name", "gebiedsnaam", "naam_n2k", "omschrijving"),
    "voorzieningen": ("naam", "name", "halte_naam", "stop_name", "bedrijfsnaam", "omschrijving"),
}


def pick_field(names, candidates) -> str | None:
    """The first of ``candidates`` that is one of the field ``names``, compared without case;
    returned as the layer spells it ("Aantal_Personen"), ``None`` when none fits."""
    lower: dict[str, str] = {}
    for name in names:
        lower.setdefault(str(name).lower(), str(name))
    return next((lower[c.lower()] for c in candidates if c.lower() in lower), None)


@dataclass(frozen=True)
class FieldInput:
    """A field picker of a layer: parameter key, config key, Dutch label."""

    key: str
    config_key: str
    label: str
    numeric: bool = False
    advanced: bool = False
    #: field names that fit (case-insensitive), best first: the dialog pre-selects the first the
    #: chosen layer has (:mod:`qgis_plugin.algorithms.field_wrapper`); a run without this
    #: parameter (qgis_process, a script) takes the first the layer has
    guesses: tuple[str, ...] = ()


@dataclass(frozen=True)
class LayerInput:
    """A config layer offered as a Processing layer parameter."""

    key: str
    config_name: str
    label: str
    types: tuple[int, ...]
    fields: tuple[FieldInput, ...] = ()
    #: field keys that must be filled in when the layer is given
    required_fields: tuple[str, ...] = ()


class LayerParameters:
    """Parameter and output keys of the engine algorithms, and :attr:`LAYER_INPUTS`."""

    # Parameter keys -----------------------------------------------------
    LOCATIES = "LOCATIES"
    ID_VELD = "ID_VELD"
    VERBLIJFSTYPE_VELD = "VERBLIJFSTYPE_VELD"
    HUISVESTINGSVORM_VELD = "HUISVESTINGSVORM_VELD"
    PERSONEN_VELD = "PERSONEN_VELD"
    SLAAPKAMERS_VELD = "SLAAPKAMERS_VELD"
    WOONOPPERVLAK_VELD = "WOONOPPERVLAK_VELD"
    EIGEN_WERKGEVER_VELD = "EIGEN_WERKGEVER_VELD"
    TIJDELIJK_VELD = "TIJDELIJK_VELD"
    TERMIJN_JAAR_VELD = "TERMIJN_JAAR_VELD"
    BEBOUWD_GEBIED = "BEBOUWD_GEBIED"
    BEBOUWDE_KOM = "BEBOUWDE_KOM"
    GEURCONTOUREN = "GEURCONTOUREN"
    GEURWAARDE_VELD = "GEURWAARDE_VELD"
    GEURCONTOUR_VEEHOUDERIJ_VELD = "GEURCONTOUR_VEEHOUDERIJ_VELD"
    VEEHOUDERIJEN = "VEEHOUDERIJEN"
    VEEHOUDERIJ_NAAM_VELD = "VEEHOUDERIJ_NAAM_VELD"
    VASTE_AFSTAND_VELD = "VASTE_AFSTAND_VELD"
    GEUREMISSIEFACTOR_VELD = "GEUREMISSIEFACTOR_VELD"
    RECREATIEPARKEN = "RECREATIEPARKEN"
    RECREATIEPARK_NAAM_VELD = "RECREATIEPARK_NAAM_VELD"
    WERKGEVERS = "WERKGEVERS"
    WERKGEVER_NAAM_VELD = "WERKGEVER_NAAM_VELD"
    WEGENNET = "WEGENNET"
    WEGENNET_MODUS = "WEGENNET_MODUS"
    SNELHEID_VELD = "SNELHEID_VELD"
    EENRICHTING_VELD = "EENRICHTING_VELD"
    WEGTYPE_VELD = "WEGTYPE_VELD"
    GEMEENTEN = "GEMEENTEN"
    GEMEENTE_NAAM_VELD = "GEMEENTE_NAAM_VELD"
    GEMEENTE_CODE_VELD = "GEMEENTE_CODE_VELD"
    GEMEENTE_REGIO_VELD = "GEMEENTE_REGIO_VELD"
    KERNEN = "KERNEN"
    KERN_NAAM_VELD = "KERN_NAAM_VELD"
    KERN_INWONERS_VELD = "KERN_INWONERS_VELD"
    BESTAANDE_HUISVESTING = "BESTAANDE_HUISVESTING"
    BESTAANDE_HUISVESTING_NAAM_VELD = "BESTAANDE_HUISVESTING_NAAM_VELD"
    BESTAANDE_HUISVESTING_PERSONEN_VELD = "BESTAANDE_HUISVESTING_PERSONEN_VELD"
    STANDAARD_VERBLIJFSTYPE = "STANDAARD_VERBLIJFSTYPE"
    REGELSET = "REGELSET"
    PARAMETERS = "PARAMETERS"
    BEPERKINGEN = "BEPERKINGEN"
    VOORZIENINGEN = "VOORZIENINGEN"
    BEPERKING_NAAM_VELD = "BEPERKING_NAAM_VELD"
    VOORZIENING_NAAM_VELD = "VOORZIENING_NAAM_VELD"
    UITVOERMAP = "UITVOERMAP"
    CONFIGURATIE = "CONFIGURATIE"
    CONFIGURATIE_OPSLAAN = "CONFIGURATIE_OPSLAAN"
    OUTPUT = "OUTPUT"
    # Output keys
    RUN_JSON = "RUN_JSON"
    CSV = "CSV"
    AANTAL_GESCHIKT = "AANTAL_GESCHIKT"
    AANTAL_VOORWAARDELIJK = "AANTAL_VOORWAARDELIJK"
    AANTAL_ONGESCHIKT = "AANTAL_ONGESCHIKT"
    AANTAL_ZONDER_OORDEEL = "AANTAL_ZONDER_OORDEEL"

    _POINT = QgsProcessing.TypeVectorPoint
    _LINE = QgsProcessing.TypeVectorLine
    _POLYGON = QgsProcessing.TypeVectorPolygon

    #: Every config layer the engine knows, with its field pickers.
    LAYER_INPUTS: dict[str, LayerInput] = {
        layer.key: layer
        for layer in (
            LayerInput(
                LOCATIES,
                "locaties",
                "Kandidaatlocaties (punten of vlakken)",
                (_POINT, _POLYGON),
                (
                    FieldInput(ID_VELD, "id_veld", "Veld met de locatie-id"),
                    FieldInput(
                        VERBLIJFSTYPE_VELD,
                        "verblijfstype_veld",
                        "Veld met het verblijfstype (short_stay, mid_stay, long_stay)",
                        guesses=(
                            "verblijfstype",
                            "type_verblijf",
                            "verblijf",
                            "beoogd_verblijfstype",
                            "stay_type",
                        ),
                    ),
                    FieldInput(
                        HUISVESTINGSVORM_VELD,
                        "huisvestingsvorm_veld",
                        "Veld met de huisvestingsvorm (logies of woonfunctie)",
                        guesses=("huisvestingsvorm", "beoogde_huisvestingsvorm", "woonvorm"),
                    ),
                    FieldInput(
                        PERSONEN_VELD,
                        "personen_veld",
                        "Veld met het aantal personen",
                        numeric=True,
                        guesses=(
                            "personen",
                            "aantal_personen",
                            "capaciteit",
                            "aantal_bedden",
                            "bedden",
                        ),
                    ),
                    FieldInput(
                        SLAAPKAMERS_VELD,
                        "slaapkamers_veld",
                        "Veld met het aantal slaapkamers",
                        numeric=True,
                        guesses=("slaapkamers", "aantal_slaapkamers"),
                    ),
                    FieldInput(
                        WOONOPPERVLAK_VELD,
                        "woonoppervlak_veld",
                        "Veld met het woonoppervlak (m²)",
                        numeric=True,
                        guesses=(
                            "woonoppervlak_m2",
                            "woonoppervlak",
                            "gebruiksoppervlakte",
                            "oppervlak_m2",
                        ),
                    ),
                    FieldInput(
                        EIGEN_WERKGEVER_VELD,
                        "werkgever_veld",
                        "Veld met de naam van de eigen werkgever",
                        guesses=("werkgever", "eigen_werkgever", "beoogde_werkgever"),
                    ),
                    FieldInput(
                        TIJDELIJK_VELD,
                        "tijdelijk_veld",
                        "Veld: tijdelijk bouwwerk? (ja/nee; leeg = onbekend)",
                        guesses=("tijdelijk", "tijdelijk_bouwwerk"),
                    ),
                    FieldInput(
                        TERMIJN_JAAR_VELD,
                        "termijn_jaar_veld",
                        "Veld met de termijn van het tijdelijke bouwwerk (jaar)",
                        numeric=True,
                        guesses=("termijn_jaar", "termijn"),
                    ),
                ),
            ),
            LayerInput(
                BEBOUWD_GEBIED, "bebouwd_gebied", "Bestaand bebouwd gebied (BBG)", (_POLYGON,)
            ),
            LayerInput(
                BEBOUWDE_KOM, "bebouwde_kom", "Bebouwde kom voor geur (zonder: BBG)", (_POLYGON,)
            ),
            LayerInput(
                GEURCONTOUREN,
                "geurcontouren",
                "Geurcontouren (vlakken met waarde in OUe/m³)",
                (_POLYGON,),
                (
                    FieldInput(
                        GEURWAARDE_VELD,
                        "waarde_veld",
                        "Veld met de contourwaarde (OUe/m³)",
                        numeric=True,
                        guesses=("geur_oue", "waarde", "oue"),
                    ),
                    FieldInput(
                        GEURCONTOUR_VEEHOUDERIJ_VELD,
                        "veehouderij_veld",
                        "Veld met de veehouderij van de contour (voor 'contouren beslissen niet')",
                        guesses=("veehouderij",),
                    ),
                ),
                required_fields=(GEURWAARDE_VELD,),
            ),
            LayerInput(
                VEEHOUDERIJEN,
                "veehouderijen",
                "Veehouderijen (emissiepunten of bouwvlakken)",
                (_POINT, _POLYGON),
                (
                    FieldInput(
                        VEEHOUDERIJ_NAAM_VELD,
                        "naam_veld",
                        "Veld met de naam van de veehouderij",
                        guesses=("naam", "bedrijfsnaam"),
                    ),
                    FieldInput(
                        VASTE_AFSTAND_VELD,
                        "vaste_afstand_veld",
                        "Veld met een eigen vaste afstand (m)",
                        numeric=True,
                        guesses=("vaste_afstand_m", "vaste_afstand"),
                    ),
                    FieldInput(
                        GEUREMISSIEFACTOR_VELD,
                        "geuremissiefactor_veld",
                        "Veld: dieren met geuremissiefactor? (ja/nee; leeg = onbekend, strengste"
                        " afstand)",
                        guesses=("geuremissiefactor",),
                    ),
                ),
            ),
            LayerInput(
                RECREATIEPARKEN,
                "recreatieparken",
                "Recreatieparken",
                (_POLYGON,),
                (
                    FieldInput(
                        RECREATIEPARK_NAAM_VELD,
                        "naam_veld",
                        "Veld met de naam van het park",
                        guesses=("naam", "parknaam"),
                    ),
                ),
            ),
            LayerInput(
                WERKGEVERS,
                "werkgevers",
                "Werkgevers",
                (_POINT, _POLYGON),
                (
                    FieldInput(
                        WERKGEVER_NAAM_VELD,
                        "naam_veld",
                        "Veld met de naam van de werkgever",
                        guesses=("naam", "bedrijfsnaam"),
                    ),
                ),
            ),
            LayerInput(
                WEGENNET,
                "wegennet",
                "Wegennet (lijnen, bv. NWB-wegvakken of OSM)",
                (_LINE,),
                (
                    FieldInput(
                        SNELHEID_VELD,
                        "snelheid_veld",
                        "Veld met de maximumsnelheid (km/u)",
                        numeric=True,
                        advanced=True,
                        guesses=("maxspeed", "maxsnelheid", "snelheid"),
                    ),
                    FieldInput(
                        EENRICHTING_VELD,
                        "eenrichting_veld",
                        "Veld met eenrichtingsverkeer",
                        advanced=True,
                        guesses=("oneway", "eenrichting"),
                    ),
                    FieldInput(
                        WEGTYPE_VELD,
                        "wegtype_veld",
                        "Veld met het wegtype",
                        advanced=True,
                        guesses=("highway", "wegtype", "bst_code"),
                    ),
                ),
            ),
            LayerInput(
                GEMEENTEN,
                "gemeenten",
                "Gemeentegrenzen",
                (_POLYGON,),
                (
                    FieldInput(
                        GEMEENTE_NAAM_VELD,
                        "naam_veld",
                        "Veld met de gemeentenaam",
                        guesses=(
                            "gemeentenaam",
                            "gemeente",
                            "gm_naam",
                            "statnaam",
                            "naam",
                            "name",
                        ),
                    ),
                    FieldInput(
                        GEMEENTE_CODE_VELD,
                        "code_veld",
                        "Veld met de CBS-gemeentecode (GMxxxx)",
                        guesses=("gemeentecode", "gm_code", "statcode", "code"),
                    ),
                    FieldInput(
                        GEMEENTE_REGIO_VELD,
                        "regio_veld",
                        "Veld met de regio",
                        advanced=True,
                        guesses=("regio",),
                    ),
                ),
            ),
            LayerInput(
                KERNEN,
                "kernen",
                "Kernen met inwoners (vlakken, of CBS-kernpunten) voor de concentratie",
                (_POLYGON, _POINT),
                (
                    FieldInput(
                        KERN_NAAM_VELD,
                        "naam_veld",
                        "Veld met de naam van de kern",
                        guesses=("naam", "kernnaam", "kern", "name", "woonplaats"),
                    ),
                    FieldInput(
                        KERN_INWONERS_VELD,
                        "inwoners_veld",
                        "Veld met het aantal inwoners van de kern",
                        numeric=True,
                        guesses=("inwoners", "aantal_inwoners", "population", "bevolking"),
                    ),
                ),
                required_fields=(KERN_INWONERS_VELD,),
            ),
            LayerInput(
                BESTAANDE_HUISVESTING,
                "bestaande_huisvesting",
                "Bestaande huisvesting arbeidsmigranten (voor de concentratie per kern)",
                (_POINT, _POLYGON),
                (
                    FieldInput(
                        BESTAANDE_HUISVESTING_PERSONEN_VELD,
                        "personen_veld",
                        "Veld met het aantal arbeidsmigranten dat er woont",
                        numeric=True,
                        guesses=("personen", "aantal_personen"),
                    ),
                    FieldInput(
                        BESTAANDE_HUISVESTING_NAAM_VELD,
                        "naam_veld",
                        "Veld met de naam van de huisvesting",
                        advanced=True,
                        guesses=("naam", "name"),
                    ),
                ),
                required_fields=(BESTAANDE_HUISVESTING_PERSONEN_VELD,),
            ),
        )
    }
