"""Pieces shared by the planning analyses: the total label and text cleaning."""

from __future__ import annotations

import pandas as pd

__all__ = ["TOTAL_LABEL", "clean_text"]

#: Label of the total row.
TOTAL_LABEL = "Totaal"


def clean_text(values: pd.Series) -> pd.Series:
    """The values as stripped strings, with None for missing and blank values."""
    out = values.astype("object")
    return out.where(out.notna(), None).map(
        lambda v: None if v is None or str(v).strip() == "" else str(v).strip()
    )
