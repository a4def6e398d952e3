"""The layers a planner must still supply: not openly fetchable, and who provides them.

``data ophalen`` fetches what the providers publish openly. The policy layers of
the province and the odour data of gemeenten and omgevingsdiensten are not
published as open services; the planner gets them from their owner. This table
is shown in the fetch summary, written into ``manifest.json`` and, as comments,
into ``config.toml``; the README section "Wat niet open op te halen is" says
the same.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ToSupply", "TO_SUPPLY", "to_supply"]


@dataclass(frozen=True)
class ToSupply:
    """One config layer that ``data ophalen`` does not (fully) provide.

    Attributes
    ----------
    layer
        The config layer (``[lagen.NAAM]``).
    what
        What the layer holds (Dutch).
    where
        Who provides it and where to ask (Dutch).
    proxy
        The endpoint key whose fetched layer is only an approximation of it
        (``None`` when nothing is fetched for it).
    """

    layer: str
    what: str
    where: str
    proxy: str | None = None

    def record(self) -> dict[str, str | None]:
        """JSON-able form for the manifest."""
        return {"laag": self.layer, "wat": self.what, "bron": self.where, "benadering": self.proxy}


#: The layers of the contract that no open service provides, in the order the summary shows them.
TO_SUPPLY: tuple[ToSupply, ...] = (
    ToSupply(
        "bebouwd_gebied",
        "Bestaand bebouwd gebied (BBG) en de POVI-zones",
        "Provincie Limburg: de kaarten bij het Provinciaal Omgevingsbeleid (POVI), via het"
        " geoportaal van de provincie of op aanvraag bij de provincie.",
    ),
    ToSupply(
        "geurcontouren",
        "Geurcontouren (voorgrond- of achtergrondbelasting) van veehouderijen",
        "De gemeente of de omgevingsdienst (geurgebiedsvisie, berekeningen met V-Stacks).",
    ),
    ToSupply(
        "veehouderijen",
        "Veehouderijen met vaste afstanden en geuremissie",
        "De omgevingsdienst, of de provincie (Bestand Veehouderijbedrijven, BVB).",
    ),
    ToSupply(
        "werkgevers",
        "Werkgevers die arbeidsmigranten in dienst hebben",
        "Het KvK-Handelsregister (betaald) of de gemeente; opgehaald is alleen een benadering"
        " (bedrijventerreinen en kassen uit OpenStreetMap).",
        proxy="werkgevers",
    ),
)


def to_supply(fetched_layers: set[str]) -> list[ToSupply]:
    """Return the entries of :data:`TO_SUPPLY` that still apply after a fetch.

    A layer that was not written applies; so does one that was written from an
    approximation (its entry says so).

    Parameters
    ----------
    fetched_layers
        The config layers written by this fetch.
    """
    return [t for t in TO_SUPPLY if t.layer not in fetched_layers or t.proxy is not None]
