"""Turning uint8 images into network inputs (NumPy, shared by both engines)."""

from __future__ import annotations

import numpy as np

from .base import ImageDataset

PREPROCESS = ("mean", "standardize", "unit")


def preprocess(dataset: ImageDataset, how: str = "mean",
               dtype: np.dtype = np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Float train and test images, normalised with training-set statistics only.

    - ``mean``: subtract the per-pixel mean image of the training set, keeping the 0–255
      scale. This is what the UvA handout's ``cifar10_utils`` does, and what its default
      learning rates (1e-3 for SGD) were chosen for.
    - ``standardize``: scale to [0, 1], then subtract the per-channel mean and divide by
      the per-channel standard deviation (the usual ConvNet normalisation).
    - ``unit``: scale to [0, 1] only.
    """
    train = dataset.train.images.astype(dtype)
    test = dataset.test.images.astype(dtype)
    if how == "mean":
        mean = train.mean(axis=0, dtype=np.float64).astype(dtype)
        return train - mean, test - mean
    train /= 255.0
    test /= 255.0
    if how == "unit":
        return train, test
    if how == "standardize":
        mean = train.mean(axis=(0, 2, 3), dtype=np.float64, keepdims=True).astype(dtype)
        std = train.std(axis=(0, 2, 3), dtype=np.float64, keepdims=True).astype(dtype)
        return (train - mean) / std, (test - mean) / std
    raise ValueError(f"unknown preprocessing {how!r}; choose from {', '.join(PREPROCESS)}")
