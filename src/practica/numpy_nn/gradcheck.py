"""Finite-difference gradient checks (float64).

The numerical derivative is the centred difference
    ∂f/∂x_i ≈ (f(x + h e_i) − f(x − h e_i)) / 2h,   error O(h²),
compared with the analytic gradient by the element-wise relative error
    |a − n| / max(|a| + |n|, tiny),
reporting its maximum. For a module with output Y we check the scalar L = Σ dout ∘ Y for
a random fixed ``dout`` (so dL/dY = dout). Inputs are built to stay away from kinks
(ReLU at 0, max-pool ties), where finite differences are meaningless.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .activations import ELU, LeakyReLU, ReLU, Softmax, Tanh
from .base import Module, Sequential
from .conv import Conv2d, MaxPool2d
from .layers import Dropout, Flatten, Linear
from .losses import CrossEntropy, Loss, SoftmaxCrossEntropy
from .models import MLP, ConvNet, SoftmaxClassifier
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm

DEFAULT_TOL = 1e-6
DEFAULT_H = 1e-5


class GradCheckResult(NamedTuple):
    """One row of :func:`check_all`: what was checked, its worst error, pass/fail."""

    name: str
    max_rel_error: float
    passed: bool


def relative_error(analytic: np.ndarray, numeric: np.ndarray, tiny: float = 1e-12) -> float:
    """max_i |a_i − n_i| / max(|a_i| + |n_i|, tiny)."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"relative_error: shapes differ {a.shape} vs {n.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), tiny)))


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = DEFAULT_H) -> np.ndarray:
    """Centred-difference gradient of the scalar ``f()`` w.r.t. the array ``x``.

    ``x`` is perturbed in place one element at a time and restored afterwards.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        fp = f()
        x[i] = old - h
        fm = f()
        x[i] = old
        grad[i] = (fp - fm) / (2.0 * h)
    return grad


def _as_float64(module: Module) -> Module:
    return copy.deepcopy(module).astype(np.float64)


def _compare(
    m: Module, f: Callable[[], float], x: np.ndarray, dx: np.ndarray | None, h: float
) -> dict[str, float]:
    """Relative errors of the analytic dx and parameter gradients against ``f``'s numerics."""
    errors: dict[str, float] = {}
    if dx is not None:
        errors["input"] = relative_error(dx, numerical_gradient(f, x, h))
    analytic = {k: v.copy() for k, v in m.grads.items()}
    for name, p in m.params.items():
        errors[name] = relative_error(analytic[name], numerical_gradient(f, p, h))
    return errors


def check_module(
    module: Module, x: np.ndarray, seed: int = 0, h: float = DEFAULT_H
) -> dict[str, float]:
    """Max relative error of dL/dX (key ``"input"``) and every dL/dθ for L = Σ dout ∘ Y.

    Runs on a float64 copy of ``module``; generator states (Dropout) are restored before
    every forward so all evaluations see the same mask.
    """
    m = _as_float64(module)
    x = np.array(x, dtype=np.float64)
    rng_states = m.rng_states()

    def run() -> np.ndarray:
        m.set_rng_states(rng_states)
        return m.forward(x)

    y = run()
    dout = np.random.default_rng(seed).standard_normal(y.shape)

    def f() -> float:
        return float(np.sum(dout * run()))

    run()
    m.zero_grad()
    dx = m.backward(dout)
    return _compare(m, f, x, dx, h)


def check_loss(loss: Loss, x: np.ndarray, target: np.ndarray, h: float = DEFAULT_H) -> float:
    """Max relative error of dL/dx for a loss module (float64)."""
    lf = copy.deepcopy(loss)
    lf.dtype = np.dtype(np.float64)
    x = np.array(x, dtype=np.float64)
    lf.forward(x, target)
    dx = lf.backward()
    return relative_error(dx, numerical_gradient(lambda: lf.forward(x, target), x, h))


def check_model(
    model: Module, loss: Loss, x: np.ndarray, target: np.ndarray, h: float = DEFAULT_H
) -> dict[str, float]:
    """Max relative error of every parameter gradient (and ``"input"``) of loss(model(x))."""
    m = _as_float64(model)
    lf = copy.deepcopy(loss)
    lf.dtype = np.dtype(np.float64)
    x = np.array(x, dtype=np.float64)
    rng_states = m.rng_states()

    def f() -> float:
        m.set_rng_states(rng_states)
        return lf.forward(m.forward(x), target)

    f()
    m.zero_grad()
    m.requires_input_grad = True
    dx = m.backward(lf.backward())
    return _compare(m, f, x, dx, h)


# --------------------------------------------------------------------------- check_all


def _away_from_zero(
    rng: np.random.Generator, shape: tuple[int, ...], margin: float = 0.1
) -> np.ndarray:
    """Random values with |x| ≥ margin (no ReLU kink within reach of ±h)."""
    return rng.choice([-1.0, 1.0], size=shape) * (margin + rng.random(shape))


def _distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A permutation of well-separated values (gaps 0.1): no max-pool ties."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.1 - 0.05 * n).reshape(shape)


Draw = Callable[[np.random.Generator], np.ndarray]


def _normal(shape: tuple[int, ...]) -> Draw:
    return lambda rng: rng.standard_normal(shape)


def _module_cases(rng: np.random.Generator) -> list[tuple[str, Module, Draw]]:
    """(name, float64 module, input generator) for every module."""
    f64 = np.float64
    bn1, bn2 = BatchNorm1d(5, dtype=f64), BatchNorm2d(3, dtype=f64)
    for bn in (bn1, bn2):
        bn.params["gamma"][...] = 1.0 + 0.5 * rng.standard_normal(bn.params["gamma"].shape)
        bn.params["beta"][...] = rng.standard_normal(bn.params["beta"].shape)
    bn1_eval = copy.deepcopy(bn1)
    bn1_eval.buffers["running_var"][...] = 0.5 + rng.random(5)
    bn1_eval.eval()
    ln = LayerNorm(6, dtype=f64)
    ln.params["gamma"][...] = 1.0 + 0.5 * rng.standard_normal(6)
    ln.params["beta"][...] = rng.standard_normal(6)
    lin = Linear(5, 4, init="kaiming", rng=rng, dtype=f64)
    lin.params["bias"][...] = rng.standard_normal(4)

    def conv(**kw: int) -> Conv2d:
        c = Conv2d(2, 3, 3, rng=rng, dtype=f64, **kw)
        c.params["bias"][...] = rng.standard_normal(3)
        return c

    def away(shape: tuple[int, ...]) -> Draw:
        return lambda r: _away_from_zero(r, shape)

    def distinct(shape: tuple[int, ...]) -> Draw:
        return lambda r: _distinct(r, shape)

    return [
        ("Linear", lin, _normal((4, 5))),
        ("ReLU", ReLU(dtype=f64), away((4, 5))),
        ("LeakyReLU", LeakyReLU(0.1, dtype=f64), away((4, 5))),
        ("ELU", ELU(dtype=f64), away((4, 5))),
        ("Tanh", Tanh(dtype=f64), _normal((4, 5))),
        ("Softmax", Softmax(dtype=f64), _normal((4, 5))),
        ("Flatten", Flatten(dtype=f64), _normal((2, 3, 2, 2))),
        ("Dropout", Dropout(0.4, rng=1, dtype=f64), _normal((4, 5))),
        ("LayerNorm", ln, _normal((4, 6))),
        ("BatchNorm1d (train)", bn1, _normal((6, 5))),
        ("BatchNorm1d (eval)", bn1_eval, _normal((6, 5))),
        ("BatchNorm2d (train)", bn2, _normal((2, 3, 3, 3))),
        ("Conv2d", conv(), _normal((2, 2, 5, 5))),
        ("Conv2d (stride 2, pad 1)", conv(stride=2, padding=1), _normal((2, 2, 5, 5))),
        ("MaxPool2d (2x2)", MaxPool2d(2, dtype=f64), distinct((2, 2, 4, 5))),
        ("MaxPool2d (3x3, stride 2)", MaxPool2d(3, 2, dtype=f64), distinct((2, 2, 5, 5))),
    ]


def _module_min_abs_grad(module: Module, x: np.ndarray, seed: int) -> float:
    """Smallest non-zero |element| of the analytic gradients :func:`check_module` uses."""
    m = _as_float64(module)
    states = m.rng_states()
    y = m.forward(x)
    dout = np.random.default_rng(seed).standard_normal(y.shape)
    dx = m.backward(dout)
    m.set_rng_states(states)
    return _min_nonzero([dx, *m.grads.values()])


def _min_nonzero(arrays: list[np.ndarray | None]) -> float:
    flat = np.concatenate([np.abs(a).ravel() for a in arrays if a is not None])
    flat = flat[flat > 0]
    return float(flat.min()) if flat.size else np.inf


def kink_margin(model: Module, x: np.ndarray) -> float:
    """Smallest distance of any ReLU input from 0 and of any max-pool window's top two
    values, along the forward pass of a :class:`Sequential` ``model`` on ``x``.

    Finite differences with step h are only valid where this margin is well above h.
    """
    layers = model.layers if isinstance(model, Sequential) else [model]
    margin = np.inf
    h = np.asarray(x, dtype=model.dtype)
    for layer in layers:
        if isinstance(layer, ReLU | LeakyReLU):
            margin = min(margin, float(np.min(np.abs(h))))
        elif isinstance(layer, MaxPool2d):
            k, s = layer.kernel_size, layer.stride
            win = np.lib.stride_tricks.sliding_window_view(h, (k, k), axis=(2, 3))[:, :, ::s, ::s]
            top2 = np.sort(win.reshape(*win.shape[:4], k * k), axis=-1)[..., -2:]
            # Windows whose two largest values are exact zeros hold dead ReLU outputs; they
            # stay 0 under perturbation as long as the ReLU margin holds.
            live = (top2[..., 1] != 0) | (top2[..., 0] != 0)
            if live.any():
                margin = min(margin, float(np.min((top2[..., 1] - top2[..., 0])[live])))
        h = layer.forward(h)
    return margin


def _min_abs_grad(model: Module, x: np.ndarray, y: np.ndarray) -> float:
    """Smallest non-zero |element| of dL/dX and all dL/dθ for softmax cross entropy."""
    m = _as_float64(model)
    lf = SoftmaxCrossEntropy(dtype=np.float64)
    lf.forward(m.forward(x), y)
    m.requires_input_grad = True
    dx = m.backward(lf.backward())
    return _min_nonzero([dx, *m.grads.values()])


def check_all(
    tol: float = DEFAULT_TOL, seed: int = 0, h: float = DEFAULT_H
) -> list[GradCheckResult]:
    """Gradient-check every module, loss and model; one row per case.

    The error of a case is the maximum over its input gradient and all parameter
    gradients; ``passed`` means it is below ``tol``.
    """
    rng = np.random.default_rng(seed)
    rows: list[GradCheckResult] = []

    def add(name: str, err: float) -> None:
        rows.append(GradCheckResult(name, err, bool(err < tol)))

    for name, module, draw in _module_cases(rng):
        x = draw(rng)
        for _ in range(100):  # avoid gradient elements ~0 (round-off dominated)
            if _module_min_abs_grad(module, x, seed) >= 1e-5:
                break
            x = draw(rng)
        add(name, max(check_module(module, x, seed=seed, h=h).values()))

    probs = rng.random((4, 5)) + 0.1
    probs /= probs.sum(axis=1, keepdims=True)
    labels = rng.integers(0, 5, size=4)
    add("CrossEntropy", check_loss(CrossEntropy(), probs, np.eye(5)[labels], h))
    add("SoftmaxCrossEntropy", check_loss(SoftmaxCrossEntropy(), rng.standard_normal((4, 5)),
                                          labels, h))

    f64 = np.float64
    models: list[tuple[str, Module, np.ndarray, int]] = [
        ("MLP (elu)", MLP(6, [5, 4], 3, "elu", init="kaiming", seed=seed, dtype=f64),
         rng.standard_normal((4, 6)), 3),
        ("MLP (tanh)", MLP(6, [5], 3, "tanh", init="xavier", seed=seed, dtype=f64),
         rng.standard_normal((4, 6)), 3),
        ("SoftmaxClassifier", SoftmaxClassifier(6, 5, 3, seed=seed, dtype=f64),
         rng.standard_normal((4, 6)), 3),
        ("ConvNet", ConvNet((1, 6, 6), num_filters=2, filter_size=3, hidden_dim=4,
                            num_classes=3, seed=seed, dtype=f64),
         rng.standard_normal((2, 1, 6, 6)), 3),
    ]
    for name, model, x, n_classes in models:
        y = rng.integers(0, n_classes, size=x.shape[0])
        # Redraw points where finite differences are ill-posed (near a kink) or where the
        # element-wise relative error is dominated by round-off (a gradient element ~0).
        for _ in range(100):
            if kink_margin(model, x) >= 1e-3 and _min_abs_grad(model, x, y) >= 1e-5:
                break
            x = rng.standard_normal(x.shape)
            y = rng.integers(0, n_classes, size=x.shape[0])
        errs = check_model(model, SoftmaxCrossEntropy(), x, y, h)
        add(f"{name} + SoftmaxCrossEntropy", max(errs.values()))
    mlp = MLP(6, [5], 3, "relu", init="kaiming", seed=seed, dtype=f64)
    mlp_softmax = Sequential(*mlp.layers, Softmax(dtype=f64))
    y = rng.integers(0, 3, size=4)
    errs = check_model(mlp_softmax, CrossEntropy(), rng.standard_normal((4, 6)), np.eye(3)[y], h)
    add("MLP + Softmax + CrossEntropy", max(errs.values()))
    return rows


def format_table(rows: list[GradCheckResult], tol: float = DEFAULT_TOL) -> str:
    """Plain-text table of :func:`check_all` rows."""
    width = max(len(r.name) for r in rows)
    lines = [f"{'check':<{width}}  {'max rel. error':>14}  result", "-" * (width + 24)]
    for r in rows:
        lines.append(f"{r.name:<{width}}  {r.max_rel_error:>14.2e}  {'ok' if r.passed else 'FAIL'}")
    lines.append(f"tolerance: {tol:.0e}")
    return "\n".join(lines)
