"""Weight initialisation schemes.

``"normal"`` is the UvA practical's default: W ~ N(0, σ²) with **standard deviation**
σ = 1e-4 (the starter code reads "normal distribution with mean = 0 and std = 0.0001";
we take 1e-4 as the std, not the variance). ``"kaiming"`` (He) uses σ = sqrt(2 / fan_in),
suited to ReLU-family activations; ``"xavier"`` (Glorot normal) uses
σ = sqrt(2 / (fan_in + fan_out)), suited to tanh. A float gives N(0, value²) directly.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import DTypeLike

Init = str | float

UVA_STD = 1e-4


def init_std(init: Init, fan_in: int, fan_out: int) -> float:
    """Standard deviation of the normal distribution selected by ``init``."""
    if isinstance(init, int | float) and not isinstance(init, bool):
        if init < 0:
            raise ValueError(f"init std must be >= 0, got {init}")
        return float(init)
    if init == "normal":
        return UVA_STD
    if init == "kaiming":
        return math.sqrt(2.0 / fan_in)
    if init == "xavier":
        return math.sqrt(2.0 / (fan_in + fan_out))
    raise ValueError(f"unknown init {init!r}: use 'normal', 'kaiming', 'xavier' or a float std")


def init_weight(
    shape: tuple[int, ...],
    fan_in: int,
    fan_out: int,
    init: Init,
    rng: np.random.Generator,
    dtype: DTypeLike = np.float32,
) -> np.ndarray:
    """Draw a weight array of ``shape`` from N(0, init_std(init, fan_in, fan_out)²)."""
    std = init_std(init, fan_in, fan_out)
    return (rng.standard_normal(shape) * std).astype(dtype)
