"""Loss functions: ``forward(x, target) -> float`` and ``backward(dout=1.0) -> dL/dx``."""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from .base import check_shape


class Loss:
    """Base class of losses. A loss is the root of backpropagation: ``backward`` returns
    ``dout · dL/dx`` with ``dout = 1`` by default."""

    def __init__(self, dtype: DTypeLike = np.float32) -> None:
        self.dtype = np.dtype(dtype)

    @property
    def name(self) -> str:
        """Class name, used in error messages."""
        return type(self).__name__

    def forward(self, x: np.ndarray, target: np.ndarray) -> float:
        """Return the scalar loss and cache what ``backward`` needs."""
        raise NotImplementedError

    def backward(self, dout: float = 1.0) -> np.ndarray:
        """Return dL/dx (times ``dout``)."""
        raise NotImplementedError

    def __call__(self, x: np.ndarray, target: np.ndarray) -> float:
        return self.forward(x, target)

    def __repr__(self) -> str:
        return f"{self.name}()"


def _labels(owner: str, y: np.ndarray, n: int, num_classes: int) -> np.ndarray:
    """Validate integer class labels of shape (n,) in [0, num_classes)."""
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"{owner}: expected labels of shape ({n},), got {y.shape}")
    if y.dtype.kind not in "iu":
        raise ValueError(f"{owner}: labels must be integers, got dtype {y.dtype}")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"{owner}: labels must lie in [0, {num_classes}), got "
                         f"[{y.min()}, {y.max()}]")
    return y.astype(np.intp, copy=False)


def one_hot(y: np.ndarray, num_classes: int, dtype: DTypeLike = np.float32) -> np.ndarray:
    """T ∈ {0,1}^{S×C} with T[s, y_s] = 1."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"one_hot: expected labels of shape (S,), got {y.shape}")
    y = _labels("one_hot", y, y.shape[0], num_classes)
    t = np.zeros((y.shape[0], num_classes), dtype=dtype)
    t[np.arange(y.shape[0]), y] = 1
    return t


class CrossEntropy(Loss):
    """Categorical cross entropy on probabilities (UvA Q1.1c):
    L = −1/S Σ_ik T_ik log X_ik, dL/dX = −1/S · T ⊘ X.

    X is clipped from below at eps before the log so log 0 never occurs; the same clipped X
    is used in the gradient (a deliberate surrogate: the clip's true derivative would be 0).
    There is no upper clip: at X = 1 (e.g. a one-class softmax) it would make the loss flat
    on one side, and a central finite difference would then read half the true gradient.
    Targets are one-hot (or any rows summing to 1); integer labels are one-hot encoded.
    """

    def __init__(self, eps: float = 1e-7, dtype: DTypeLike = np.float32) -> None:
        super().__init__(dtype)
        self.eps = float(eps)
        self._x: np.ndarray | None = None
        self._t: np.ndarray | None = None

    def forward(self, x: np.ndarray, target: np.ndarray) -> float:
        """L = −1/S Σ T log max(X, eps)."""
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 2:
            raise ValueError(f"{self.name}: expected input of shape (S, C), got {x.shape}")
        t = np.asarray(target)
        if t.ndim == 1:
            t = one_hot(t, x.shape[1], self.dtype)
        t = t.astype(self.dtype, copy=False)
        check_shape(self.name, t, x.shape, what="target")
        xc = np.maximum(x, self.eps)
        self._x, self._t = xc, t
        return float(-np.sum(t * np.log(xc)) / x.shape[0])

    def backward(self, dout: float = 1.0) -> np.ndarray:
        """dL/dX = −dout/S · T ⊘ X."""
        if self._x is None or self._t is None:
            raise RuntimeError(f"{self.name}.backward called before forward")
        return (-float(dout) / self._x.shape[0]) * self._t / self._x


class SoftmaxCrossEntropy(Loss):
    """Softmax followed by cross entropy on integer labels, fused for stability.

    With log p_ij = s_ij − logsumexp_k(s_ik) (computed after subtracting the row max),
    L = −1/S Σ_i log p_{i,y_i}. Its gradient collapses to dL/ds = (softmax(s) − onehot(y))/S,
    which is cheaper and better conditioned than chaining Softmax and CrossEntropy.
    """

    def __init__(self, dtype: DTypeLike = np.float32) -> None:
        super().__init__(dtype)
        self._p: np.ndarray | None = None
        self._y: np.ndarray | None = None

    def forward(self, x: np.ndarray, target: np.ndarray) -> float:
        """L = −1/S Σ_i (s_{i,y_i} − logsumexp(s_i))."""
        s = np.asarray(x, dtype=self.dtype)
        if s.ndim != 2:
            raise ValueError(f"{self.name}: expected scores of shape (S, C), got {s.shape}")
        y = _labels(self.name, target, s.shape[0], s.shape[1])
        shifted = s - s.max(axis=1, keepdims=True)
        log_z = np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        log_p = shifted - log_z
        self._p = np.exp(log_p)
        self._y = y
        return float(-np.mean(log_p[np.arange(s.shape[0]), y]))

    def backward(self, dout: float = 1.0) -> np.ndarray:
        """dL/ds = dout · (softmax(s) − onehot(y)) / S."""
        if self._p is None or self._y is None:
            raise RuntimeError(f"{self.name}.backward called before forward")
        d = self._p.copy()
        d[np.arange(d.shape[0]), self._y] -= 1.0
        d *= float(dout) / d.shape[0]
        return d
