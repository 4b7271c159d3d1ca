"""Tiny files in the real on-disk formats: CIFAR-10 batches with many horses, palettes."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
from numpy.lib import format as npy

from practica.data.colour import HORSE


def write_horse_cifar(root: Path, n_per_batch: int = 12, n_test: int = 10) -> Path:
    """``root/cifar-10-batches-py/`` whose batches are half horses (class 7)."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)

    def batch(n: int) -> dict:
        labels = [HORSE if i % 2 == 0 else int(rng.integers(0, 7)) for i in range(n)]
        # smooth-ish images: a colour gradient plus noise, so colours are learnable
        base = np.linspace(0, 200, 1024).astype(np.uint8)
        data = np.stack([np.concatenate([base, base[::-1], np.full(1024, 90, np.uint8)])
                         + rng.integers(0, 50, 3072).astype(np.uint8) for _ in range(n)])
        return {"batch_label": "fixture", "labels": labels, "data": data}

    for i in range(1, 6):
        (folder / f"data_batch_{i}").write_bytes(pickle.dumps(batch(n_per_batch), protocol=2))
    (folder / "test_batch").write_bytes(pickle.dumps(batch(n_test), protocol=2))
    return folder


def npy_object_bytes(payload: bytes, shape: tuple[int, ...] = (2,)) -> bytes:
    """A version-1.0 ``.npy`` header for an object array followed by ``payload``."""
    import io

    fh = io.BytesIO()
    npy.write_array_header_1_0(fh, {"descr": "|O", "fortran_order": False, "shape": shape})
    return fh.getvalue() + payload


def palette_file_bytes(centres: np.ndarray, distortion: float, protocol: int = 2) -> bytes:
    """The assignment's layout: object array [centres, distortion], pickled after the header.

    Protocol 2 with ``numpy.core`` globals is what the shipped files hold.
    """
    array = np.empty(2, dtype=object)
    array[0], array[1] = centres, np.float64(distortion)
    return npy_object_bytes(pickle.dumps(array, protocol=protocol))


def write_palette(folder: Path, centres: np.ndarray, distortion: float = 0.1) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"colour_kmeans{len(centres)}_cat7.npy"
    path.write_bytes(palette_file_bytes(centres, distortion))
    return path
