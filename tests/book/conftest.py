"""Real run records for the book tests: tiny CLI runs on the CIFAR-10 fixture."""

from __future__ import annotations

from pathlib import Path

import pytest
from foundation.formats import write_cifar_folder

from practica import cli
from practica.data import cifar10


def tiny_run(root: Path, data: Path, *extra: str) -> None:
    """`practica run mlp-torch` on the tiny CIFAR-10 fixture into ROOT (a few seconds)."""
    assert cli.main(["run", "mlp-torch", "--no-progress", "--data-dir", str(data),
                     "--runs-dir", str(root), "--set", "steps=8", "--set", "eval_every=4",
                     "--set", "batch_size=10", *extra]) == 0


@pytest.fixture
def tiny_data(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(cifar10, "SIZES", (100, 30))
    return write_cifar_folder(tmp_path / "data").parent


@pytest.fixture
def reference_runs(tmp_path, tiny_data) -> Path:
    root = tmp_path / "reference"
    tiny_run(root, tiny_data)
    return root


@pytest.fixture
def smoke_runs(tmp_path, tiny_data) -> Path:
    root = tmp_path / "smoke"
    tiny_run(root, tiny_data, "--smoke")
    return root
