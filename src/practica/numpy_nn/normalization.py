"""LayerNorm and BatchNorm (1-D over features, 2-D over channels).

All three normalise over a set of axes A with m = Π_{a∈A} size(a) elements per group:

    μ = 1/m Σ x,   σ² = 1/m Σ (x − μ)²  (biased, as in the UvA handout),
    x̂ = (x − μ)/sqrt(σ² + ε),   y = γ ∘ x̂ + β.

Backward (hand-derived; dx̂ = dy ∘ γ, sums over A):

    dβ = Σ dy,   dγ = Σ dy ∘ x̂,
    dx = 1/sqrt(σ² + ε) · (dx̂ − mean(dx̂) − x̂ ∘ mean(dx̂ ∘ x̂)).

The last line follows from ∂x̂_j/∂x_i = (δ_ij − 1/m − x̂_i x̂_j / m)/sqrt(σ² + ε).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from .base import Module, check_shape


def _normalize(
    x: np.ndarray, axes: tuple[int, ...], eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return x̂, 1/sqrt(σ²+ε), μ and σ² (keepdims) over ``axes``."""
    mean = x.mean(axis=axes, keepdims=True)
    xc = x - mean
    var = np.mean(xc * xc, axis=axes, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    return xc * inv_std, inv_std, mean, var


def _normalize_backward(
    dxhat: np.ndarray, xhat: np.ndarray, inv_std: np.ndarray, axes: tuple[int, ...]
) -> np.ndarray:
    """dx = inv_std · (dx̂ − mean(dx̂) − x̂ ∘ mean(dx̂ ∘ x̂)) over ``axes``."""
    mean_d = dxhat.mean(axis=axes, keepdims=True)
    mean_dx = np.mean(dxhat * xhat, axis=axes, keepdims=True)
    return inv_std * (dxhat - mean_d - xhat * mean_dx)


class LayerNorm(Module):
    """Layer normalisation over the last dimension (UvA §3): statistics per sample,
    learnable γ, β ∈ R^D. Works on inputs of shape (..., D)."""

    def __init__(
        self, normalized_shape: int, eps: float = 1e-5, dtype: DTypeLike = np.float32
    ) -> None:
        super().__init__(dtype)
        self.normalized_shape = int(normalized_shape)
        self.eps = float(eps)
        self.add_param("gamma", np.ones(self.normalized_shape))
        self.add_param("beta", np.zeros(self.normalized_shape))
        self._xhat: np.ndarray | None = None
        self._inv_std: np.ndarray | None = None
        self._out_shape: tuple[int, ...] | None = None

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"

    def forward(self, x: np.ndarray) -> np.ndarray:
        """y = γ ∘ (x − μ_s)/sqrt(σ²_s + ε) + β with μ_s, σ²_s over the last axis."""
        x = self._input(x)
        if x.ndim < 1 or x.shape[-1] != self.normalized_shape:
            raise ValueError(
                f"{self.name}: expected input of shape (..., {self.normalized_shape}), "
                f"got {x.shape}"
            )
        self._xhat, self._inv_std, _, _ = _normalize(x, (-1,), self.eps)
        self._out_shape = x.shape
        return self._params["gamma"] * self._xhat + self._params["beta"]

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dγ = Σ dy∘x̂, dβ = Σ dy (over all leading axes); dx from the module formula."""
        g = self._grad_input(dout, self._out_shape)
        assert self._xhat is not None and self._inv_std is not None
        lead = tuple(range(g.ndim - 1))
        np.sum(g * self._xhat, axis=lead, out=self._grads["gamma"])
        np.sum(g, axis=lead, out=self._grads["beta"])
        dxhat = g * self._params["gamma"]
        return _normalize_backward(dxhat, self._xhat, self._inv_std, (-1,))


class _BatchNorm(Module):
    """Shared BatchNorm logic; subclasses define the reduced axes and parameter shape.

    Train mode normalises with batch statistics and updates running statistics as
    r ← (1 − momentum)·r + momentum·batch_stat (running variance uses the unbiased
    estimate m/(m−1)·σ², as PyTorch does). Eval mode uses the running statistics, so the
    layer is affine and dx = dy ∘ γ / sqrt(r_var + ε).
    """

    _axes: tuple[int, ...] = (0,)

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        dtype: DTypeLike = np.float32,
    ) -> None:
        super().__init__(dtype)
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = float(momentum)
        self.add_param("gamma", np.ones(self.num_features))
        self.add_param("beta", np.zeros(self.num_features))
        self._buffers["running_mean"] = np.zeros(self.num_features, dtype=self.dtype)
        self._buffers["running_var"] = np.ones(self.num_features, dtype=self.dtype)
        self._xhat: np.ndarray | None = None
        self._inv_std: np.ndarray | None = None
        self._out_shape: tuple[int, ...] | None = None
        self._used_batch_stats = True

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"

    def _expected(self) -> tuple[int | str, ...]:
        raise NotImplementedError

    def _bshape(self, ndim: int) -> tuple[int, ...]:
        """Shape that broadcasts a per-feature vector against the input."""
        shape = [1] * ndim
        shape[1] = self.num_features
        return tuple(shape)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """y = γ ∘ x̂ + β with batch (train) or running (eval) statistics."""
        x = self._input(x)
        check_shape(self.name, x, self._expected())
        bshape = self._bshape(x.ndim)
        if self.training:
            m = int(np.prod([x.shape[a] for a in self._axes]))
            if m < 2:
                raise ValueError(
                    f"{self.name}: need more than one value per feature in train mode, "
                    f"got input of shape {x.shape}"
                )
            xhat, inv_std, mean, var = _normalize(x, self._axes, self.eps)
            mom = self.momentum
            rm, rv = self._buffers["running_mean"], self._buffers["running_var"]
            rm *= 1.0 - mom
            rm += mom * mean.reshape(-1)
            rv *= 1.0 - mom
            rv += (mom * m / (m - 1)) * var.reshape(-1)
        else:
            inv_std = 1.0 / np.sqrt(self._buffers["running_var"].reshape(bshape) + self.eps)
            xhat = (x - self._buffers["running_mean"].reshape(bshape)) * inv_std
        self._used_batch_stats = self.training
        self._xhat, self._inv_std, self._out_shape = xhat, inv_std, x.shape
        return self._params["gamma"].reshape(bshape) * xhat + self._params["beta"].reshape(
            bshape
        )

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dγ = Σ dy∘x̂, dβ = Σ dy over the reduced axes; dx by the normalisation formula."""
        g = self._grad_input(dout, self._out_shape)
        assert self._xhat is not None and self._inv_std is not None
        np.sum(g * self._xhat, axis=self._axes, out=self._grads["gamma"])
        np.sum(g, axis=self._axes, out=self._grads["beta"])
        dxhat = g * self._params["gamma"].reshape(self._bshape(g.ndim))
        if not self._used_batch_stats:
            return dxhat * self._inv_std
        return _normalize_backward(dxhat, self._xhat, self._inv_std, self._axes)


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, D) inputs: statistics per feature over the batch."""

    _axes = (0,)

    def _expected(self) -> tuple[int | str, ...]:
        return ("N", self.num_features)


class BatchNorm2d(_BatchNorm):
    """Spatial batch normalisation of (N, C, H, W) inputs: statistics per channel over
    the batch and both spatial axes (m = N·H·W)."""

    _axes = (0, 2, 3)

    def _expected(self) -> tuple[int | str, ...]:
        return ("N", self.num_features, "H", "W")
