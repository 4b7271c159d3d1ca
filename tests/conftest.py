"""Shared test set-up: an isolated cache, no real data unless a test asks for it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser import browser, firefox  # noqa: F401 - the headless browser fixtures

#: The real data folder, when the environment provides one (CI sets PRACTICA_DATA).
REAL_DATA = os.environ.get("PRACTICA_DATA")
#: The cache the real-data tests share (extracting CIFAR-10 once per session, not per test).
REAL_CACHE = os.environ.get("PRACTICA_CACHE")


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    """Every test gets its own cache; PRACTICA_DATA/PRACTICA_RUNS never leak into tests."""
    monkeypatch.setenv("PRACTICA_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("PRACTICA_DATA", raising=False)
    monkeypatch.delenv("PRACTICA_RUNS", raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def real_cache(tmp_path_factory) -> Path:
    return Path(REAL_CACHE) if REAL_CACHE else tmp_path_factory.mktemp("real-cache")


@pytest.fixture
def real_data(real_cache, monkeypatch) -> Path:
    """The real data folder; tests using it run only where PRACTICA_DATA is set."""
    if not REAL_DATA or not Path(REAL_DATA).is_dir():
        pytest.skip("real data not available (set PRACTICA_DATA to run real-data smoke tests)")
    monkeypatch.setenv("PRACTICA_CACHE", str(real_cache))
    return Path(REAL_DATA).resolve()
