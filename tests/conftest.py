"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to the real Limburg data in ../shared/data; skips the test when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"echte Limburgse data ontbreekt: {SHARED_DATA} bestaat niet "
            "(zet de map shared/ naast de repository om deze test te draaien)"
        )
    return SHARED_DATA
