"""Data sets: finding, fetching, verifying and decoding them (see store.py)."""

from __future__ import annotations

from . import cifar10, mnist, tweets
from .base import DatasetInfo, ImageDataset, Split, VerifyReport, validation_split

DATASETS: dict[str, DatasetInfo] = {
    info.name: info for info in (cifar10.INFO, mnist.INFO_MNIST, mnist.INFO_FASHION,
                                 tweets.INFO)
}

__all__ = ["DATASETS", "DatasetInfo", "ImageDataset", "Split", "VerifyReport",
           "validation_split"]
