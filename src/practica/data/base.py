"""The shape every data set module shares: where it is found, how it is checked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .store import Download


@dataclass(frozen=True)
class Split:
    """Images (uint8, N×C×H×W) and integer labels (int64, N) held in memory."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class ImageDataset:
    """A decoded image classification data set: train and test splits and class names."""

    name: str
    train: Split
    test: Split
    classes: tuple[str, ...]
    source: Path


@dataclass
class VerifyReport:
    """What ``practica data verify`` prints for one data set."""

    name: str
    location: Path | None
    valid: bool
    lines: list[str] = field(default_factory=list)
    #: files whose checksum differs from the official one (readable, but not the official
    #: data: ``practica data verify`` fails on them unless --allow-modified)
    modified: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DatasetInfo:
    """A data set known to practica: how to find, verify and fetch it."""

    name: str
    description: str
    locate: Callable[[str | Path | None], Path | None]
    verify: Callable[[Path], VerifyReport]
    downloads: tuple[Download, ...]
    how_to_get: str


def validation_split(split: Split, n_val: int, seed: int) -> tuple[Split, Split]:
    """Split off ``n_val`` examples for validation with a fixed seed."""
    if not 0 < n_val < len(split):
        raise ValueError(f"validation size must be in (0, {len(split)}), got {n_val}")
    order = np.random.default_rng(seed).permutation(len(split))
    val, train = order[:n_val], np.sort(order[n_val:])
    val = np.sort(val)
    return (Split(split.images[train], split.labels[train]),
            Split(split.images[val], split.labels[val]))
