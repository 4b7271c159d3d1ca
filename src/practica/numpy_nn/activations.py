"""Element-wise activations and Softmax.

For an element-wise Y = h(X) the backward pass is the Hadamard product
dL/dX = dL/dY ∘ h'(X) (UvA Q1.1b).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from .base import Module


class _Elementwise(Module):
    """Shared plumbing: cache, output-shape check for the upstream gradient."""

    def __init__(self, dtype: DTypeLike = np.float32) -> None:
        super().__init__(dtype)
        self._cache: np.ndarray | None = None
        self._out_shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._input(x)
        y = self._forward(x)
        self._out_shape = y.shape
        return y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        g = self._grad_input(dout, self._out_shape)
        return self._backward(g)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _backward(self, g: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class ReLU(_Elementwise):
    """Y = max(0, X); dX = dY ∘ 1[X > 0] (sub-gradient 0 at the kink). NaN propagates."""

    def _forward(self, x: np.ndarray) -> np.ndarray:
        self._cache = x > 0
        return np.maximum(x, 0)

    def _backward(self, g: np.ndarray) -> np.ndarray:
        assert self._cache is not None
        return np.where(self._cache, g, 0)


class LeakyReLU(_Elementwise):
    """Y = X if X > 0 else a·X; dX = dY ∘ (1 if X > 0 else a)."""

    def __init__(self, negative_slope: float = 0.01, dtype: DTypeLike = np.float32) -> None:
        super().__init__(dtype)
        self.negative_slope = float(negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"

    def _forward(self, x: np.ndarray) -> np.ndarray:
        self._cache = x > 0
        return np.where(self._cache, x, self.negative_slope * x)

    def _backward(self, g: np.ndarray) -> np.ndarray:
        assert self._cache is not None
        return np.where(self._cache, g, self.negative_slope * g)


class ELU(_Elementwise):
    """ELU (UvA §1.2): Y = X if X > 0 else α(eˣ − 1); h'(X) = 1 if X > 0 else Y + α.

    ``expm1`` of ``min(X, 0)`` avoids overflow for large positive X and keeps precision
    near 0.
    """

    def __init__(self, alpha: float = 1.0, dtype: DTypeLike = np.float32) -> None:
        super().__init__(dtype)
        self.alpha = float(alpha)
        self._y: np.ndarray | None = None

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"

    def _forward(self, x: np.ndarray) -> np.ndarray:
        self._cache = x > 0
        y = np.where(self._cache, x, self.alpha * np.expm1(np.minimum(x, 0)))
        self._y = y
        return y

    def _backward(self, g: np.ndarray) -> np.ndarray:
        assert self._cache is not None and self._y is not None
        return np.where(self._cache, g, g * (self._y + self.alpha))


class Tanh(_Elementwise):
    """Y = tanh(X); dX = dY ∘ (1 − Y²)."""

    def _forward(self, x: np.ndarray) -> np.ndarray:
        y = np.tanh(x)
        self._cache = y
        return y

    def _backward(self, g: np.ndarray) -> np.ndarray:
        assert self._cache is not None
        return g * (1.0 - self._cache * self._cache)


class Softmax(_Elementwise):
    """Row-wise softmax over the last axis, Y_ij = exp(X_ij − m_i) / Σ_k exp(X_ik − m_i).

    Subtracting the row maximum m_i leaves Y unchanged and prevents overflow.
    Backward (Jacobian diag(y) − y yᵀ per row): dX = Y ∘ (dY − Σ_k dY_k Y_k).
    """

    def _forward(self, x: np.ndarray) -> np.ndarray:
        if x.ndim < 1:
            raise ValueError(f"{self.name}: expected input of shape (..., C), got {x.shape}")
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        y = e / e.sum(axis=-1, keepdims=True)
        self._cache = y
        return y

    def _backward(self, g: np.ndarray) -> np.ndarray:
        y = self._cache
        assert y is not None
        return y * (g - np.sum(g * y, axis=-1, keepdims=True))
