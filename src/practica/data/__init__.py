"""Data sets: finding, fetching, verifying and decoding them (see store.py)."""

from __future__ import annotations

from . import (
    cifar10,
    coco_captioning,
    colour,
    galaxy_zoo,
    hymenoptera,
    imagenet_weights,
    mnist,
    text,
    tweets,
)
from .base import DatasetInfo, ImageDataset, Split, VerifyReport, validation_split

# One entry a line; `practica data status` lists them in this order.
_INFOS = (
    cifar10.INFO,
    mnist.INFO_MNIST,
    mnist.INFO_FASHION,
    tweets.INFO,
    coco_captioning.INFO,
    colour.INFO,
    hymenoptera.INFO,
    text.INFO,
    galaxy_zoo.INFO,
    imagenet_weights.INFO,
)
DATASETS: dict[str, DatasetInfo] = {info.name: info for info in _INFOS}

__all__ = ["DATASETS", "DatasetInfo", "ImageDataset", "Split", "VerifyReport",
           "validation_split"]
