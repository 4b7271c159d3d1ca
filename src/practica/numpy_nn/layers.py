"""Linear, Flatten and Dropout layers."""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from .base import Module, as_generator, check_shape
from .init import Init, init_weight


class Linear(Module):
    """Fully connected layer Y = X Wᵀ + b with W of shape (out, in) (UvA convention).

    Backward, with G = dL/dY of shape (S, out):
        dL/dW = Gᵀ X        (out, in)
        dL/db = 1ᵀ G        (out,)   — column sums of G
        dL/dX = G W         (S, in)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        init: Init = "normal",
        rng: np.random.Generator | int | None = None,
        dtype: DTypeLike = np.float32,
    ) -> None:
        super().__init__(dtype)
        if in_features <= 0 or out_features <= 0:
            raise ValueError(f"Linear: sizes must be positive, got {in_features}, {out_features}")
        self.in_features = in_features
        self.out_features = out_features
        self.init = init
        gen = as_generator(rng)
        w = init_weight((out_features, in_features), in_features, out_features, init, gen,
                        self.dtype)
        self.add_param("weight", w)
        if bias:
            self.add_param("bias", np.zeros(out_features))
        self._x: np.ndarray | None = None
        self._out_shape: tuple[int, ...] | None = None

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, bias={'bias' in self._params}"

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Y = X Wᵀ + b."""
        x = self._input(x)
        check_shape(self.name, x, ("N", self.in_features))
        self._x = x
        y = x @ self._params["weight"].T
        if "bias" in self._params:
            y += self._params["bias"]
        self._out_shape = y.shape
        return y

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        """dW = Gᵀ X, db = Σ_rows G, dX = G W (skipped if not requires_input_grad)."""
        g = self._grad_input(dout, self._out_shape)
        assert self._x is not None
        np.matmul(g.T, self._x, out=self._grads["weight"])
        if "bias" in self._params:
            np.sum(g, axis=0, out=self._grads["bias"])
        if not self.requires_input_grad:
            return None
        return g @ self._params["weight"]


class Flatten(Module):
    """Reshape (N, d1, d2, ...) to (N, d1·d2·...); backward reshapes back."""

    def __init__(self, dtype: DTypeLike = np.float32) -> None:
        super().__init__(dtype)
        self._in_shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Y = X.reshape(N, -1)."""
        x = self._input(x)
        if x.ndim < 2:
            raise ValueError(
                f"{self.name}: expected input of shape (N, ...) with at least 2 dims, "
                f"got {x.shape}"
            )
        self._in_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dX = dY.reshape(input shape)."""
        if self._in_shape is None:
            raise RuntimeError(f"{self.name}.backward called before forward")
        n = self._in_shape[0]
        g = self._grad_input(dout, (n, int(np.prod(self._in_shape[1:]))))
        return g.reshape(self._in_shape)


class Dropout(Module):
    """Inverted dropout: in train mode Y = X ∘ M / (1 − p), M_ij ~ Bernoulli(1 − p).

    Scaling at train time keeps E[Y] = X, so eval mode is the identity. The mask comes from
    the module's own ``np.random.Generator`` (``rng``), making runs reproducible and the state
    checkpointable. Backward: dX = dY ∘ M / (1 − p).
    """

    def __init__(
        self,
        p: float = 0.5,
        rng: np.random.Generator | int | None = None,
        dtype: DTypeLike = np.float32,
    ) -> None:
        super().__init__(dtype)
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p = float(p)
        self.rng = as_generator(rng)
        self._mask: np.ndarray | None = None
        self._out_shape: tuple[int, ...] | None = None

    def extra_repr(self) -> str:
        return f"p={self.p}"

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Y = X ∘ M / (1 − p) in train mode, Y = X in eval mode."""
        x = self._input(x)
        self._out_shape = x.shape
        if not self.training or self.p == 0.0:
            self._mask = None
            return x
        keep = self.rng.random(x.shape, dtype=self.dtype) >= self.p
        self._mask = keep.astype(self.dtype) * (1.0 / (1.0 - self.p))
        return x * self._mask

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dX = dY ∘ M / (1 − p) (or dY in eval mode)."""
        g = self._grad_input(dout, self._out_shape)
        return g if self._mask is None else g * self._mask
