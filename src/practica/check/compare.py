"""Comparing a learner's arrays with the reference, and saying what is wrong in words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


class Mismatch(Exception):
    """A check failed; the message is the one line the learner reads."""


class Missing(Mismatch):
    """The learner's module lacks a function the piece needs."""


def as_array(value: Any, what: str) -> np.ndarray:
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Mismatch(f"{what} is a {type(value).__name__}, not an array") from None


def same(what: str, got: Any, expected: Any, *, rtol: float = 1e-6, atol: float = 1e-9,
         ignore: np.ndarray | None = None, hint: str = "") -> None:
    """Raise Mismatch naming the first and largest discrepancy of ``got`` from ``expected``.

    ``ignore`` marks entries not compared (e.g. ReLU's gradient at exactly 0, where any
    value in [0, 1] is a valid subgradient)."""
    expected = np.asarray(expected, dtype=np.float64)
    got = as_array(got, what)
    if got.shape != expected.shape:
        raise Mismatch(f"{what} has shape {got.shape}, expected {expected.shape}")
    if not np.all(np.isfinite(got)):
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(got))[0])
        raise Mismatch(f"{what} holds {got[index]} at index {index}")
    error = np.abs(got - expected)
    allowed = atol + rtol * np.abs(expected)
    bad = error > allowed
    if ignore is not None:
        bad &= ~ignore
    if not bad.any():
        return
    relative = error / np.maximum(np.abs(expected), 1e-12)
    relative = np.where(bad, relative, 0.0)
    index = np.unravel_index(int(np.argmax(relative)), relative.shape)
    where = f" at index {tuple(int(i) for i in index)}" if got.ndim else ""
    raise Mismatch(f"{what} is wrong{hint}: max rel. error {relative[index]:.3g}{where} "
                   f"(expected {expected[index]:.6g}, got {got[index]:.6g}; "
                   f"{int(bad.sum())} of {bad.size} entries differ)")


def numeric_gradient(f: Callable[[np.ndarray], Any], x: np.ndarray, dout: np.ndarray,
                     h: float = 1e-6) -> np.ndarray:
    """Central differences of Σ f(x) ∘ dout with respect to x (float64, in place)."""
    grad = np.zeros_like(x)
    flat, g = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = float(np.sum(as_array(f(x), "forward") * dout))
        flat[i] = old - h
        minus = float(np.sum(as_array(f(x), "forward") * dout))
        flat[i] = old
        g[i] = (plus - minus) / (2 * h)
    return grad


def unpack(value: Any, n: int, what: str) -> tuple[Any, ...]:
    """``value`` as an n-tuple (a forward's ``(out, cache)``, a backward's gradients)."""
    if not isinstance(value, (tuple, list)) or len(value) != n:
        kind = f"a {len(value)}-tuple" if isinstance(value, (tuple, list)) else \
            type(value).__name__
        raise Mismatch(f"{what} should return {n} values, returned {kind}")
    return tuple(value)
