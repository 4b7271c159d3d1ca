"""The checks of EECS 545 HW4's pieces (``layers.py``, ``rnn_layers.py``).

Each check calls the learner's functions on random float64 inputs (several seeds and
sizes, and the edge cases named below), compares forward and backward with the reference
(:mod:`practica.handouts.eecs545_hw4`), and checks the learner's backward against central
finite differences of the learner's own forward.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np

from ..handouts import eecs545_hw4 as ref
from .compare import Missing, numeric_gradient, same, unpack
from .spec import Piece

SEEDS = (0, 1, 2)


def _fn(module: ModuleType, name: str, also: str | None = None):
    """``module``'s function ``name``; where it has none, the one in the sibling file
    ``also`` (the later edition's ``cnn_layers.py``, which holds the convolution and the
    pooling that ``layers.py`` holds in this one)."""
    fn = getattr(module, name, None)
    if not callable(fn) and also is not None:
        path = Path(module.__file__ or "").with_name(f"{also}.py")
        if path.is_file():
            spec = importlib.util.spec_from_file_location(also, path)
            assert spec is not None and spec.loader is not None
            sibling = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(sibling)
            fn = getattr(sibling, name, None)
    if not callable(fn):
        where = f" (nor {also}.py)" if also else ""
        raise Missing(f"{module.__name__}.py{where} has no function {name}")
    return fn


def check_fc(m: ModuleType) -> None:
    forward, backward = _fn(m, "fc_forward"), _fn(m, "fc_backward")
    for seed, (n, d, k) in zip(SEEDS, ((3, 5, 4), (1, 7, 2), (6, 2, 9)), strict=True):
        rng = np.random.default_rng(seed)
        x, w, b = rng.standard_normal((n, d)), rng.standard_normal((d, k)), rng.standard_normal(k)
        out, cache = unpack(forward(x, w, b), 2, "fc_forward")
        want, ref_cache = ref.fc_forward(x, w, b)
        same("fc_forward: out", out, want, hint=" (Y = XW + B, with w of shape (D_in, D_out))")
        dout = rng.standard_normal(want.shape)
        dx, dw, db = unpack(backward(dout, cache), 3, "fc_backward")
        rdx, rdw, rdb = ref.fc_backward(dout, ref_cache)
        same("fc_backward: dx", dx, rdx, hint=" (expected dY Wᵀ)")
        same("fc_backward: dw", dw, rdw, hint=" (expected Xᵀ dY)")
        same("fc_backward: db", db, rdb, hint=" (expected the column sums of dY)")
        numeric = numeric_gradient(lambda v, w=w, b=b: forward(v, w, b)[0], x.copy(), dout)
        same("fc_backward: dx against finite differences", dx, numeric, rtol=1e-5, atol=1e-7)


def check_relu(m: ModuleType) -> None:
    forward, backward = _fn(m, "relu_forward"), _fn(m, "relu_backward")
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((4, 5))
        x[0, :3] = 0.0  # the kink: any subgradient in [0, 1] is accepted there
        out, cache = unpack(forward(x), 2, "relu_forward")
        same("relu_forward: out", out, np.maximum(x, 0))
        dout = rng.standard_normal(x.shape)
        dx = backward(dout, cache)
        same("relu_backward: dx", dx, ref.relu_backward(dout, x), ignore=(x == 0),
             hint=" (expected dY where X > 0, else 0)")


def check_conv(m: ModuleType) -> None:
    forward = _fn(m, "conv_forward", "cnn_layers")
    backward = _fn(m, "conv_backward", "cnn_layers")
    for seed, (x_shape, w_shape) in zip(SEEDS, (((2, 3, 6, 5), (4, 3, 3, 2)),
                                                ((1, 1, 4, 4), (1, 1, 4, 4)),
                                                ((3, 2, 5, 7), (2, 2, 1, 3))), strict=True):
        rng = np.random.default_rng(seed)
        x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
        out, cache = unpack(forward(x, w), 2, "conv_forward")
        want, ref_cache = ref.conv_forward(x, w)
        same("conv_forward: out", out, want,
             hint=" (Y_nf = Σ_c X_nc ⋆_filt W_fc: filtering, the kernel not flipped)")
        dout = rng.standard_normal(want.shape)
        dx, dw = unpack(backward(dout, cache), 2, "conv_backward")
        rdx, rdw = ref.conv_backward(dout, ref_cache)
        same("conv_backward: dx", dx, rdx, hint=" (expected Σ_f W_fc ∗_full dY_nf)")
        same("conv_backward: dw", dw, rdw, hint=" (expected Σ_n X_nc ⋆_filt dY_nf)")


def check_max_pool(m: ModuleType) -> None:
    forward = _fn(m, "max_pool_forward", "cnn_layers")
    backward = _fn(m, "max_pool_backward", "cnn_layers")
    for seed, (shape, pool) in zip(SEEDS, (((2, 3, 8, 8), (2, 2, 2)), ((1, 2, 7, 9), (2, 3, 2)),
                                           ((2, 1, 6, 6), (3, 3, 3))), strict=True):
        rng = np.random.default_rng(seed)
        x = rng.standard_normal(shape)
        param = {"pool_height": pool[0], "pool_width": pool[1], "stride": pool[2]}
        out, cache = unpack(forward(x, dict(param)), 2, "max_pool_forward")
        want, ref_cache = ref.max_pool_forward(x, param)
        same("max_pool_forward: out", out, want,
             hint=f" (windows {pool[0]}×{pool[1]}, stride {pool[2]})")
        dout = rng.standard_normal(want.shape)
        same("max_pool_backward: dx", backward(dout, cache), ref.max_pool_backward(dout,
                                                                                  ref_cache),
             hint=" (each window's gradient goes to the position of its maximum)")


def check_softmax_loss(m: ModuleType) -> None:
    loss_fn = _fn(m, "softmax_loss")
    cases = [np.random.default_rng(s).standard_normal((5, 4)) * 3 for s in SEEDS]
    cases += [np.zeros((3, 4)),  # equal logits: loss log C, gradient (1/C − onehot) / N
              np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 0.0]]),  # overflow in exp
              np.random.default_rng(9).standard_normal((4, 1))]  # a single class
    overflow = len(cases) - 2
    for i, x in enumerate(cases):
        y = np.random.default_rng(i).integers(0, x.shape[1], x.shape[0])
        if i == overflow:  # each row's label at its largest score: exp(x − max) must not
            y = x.argmax(axis=1)  # overflow, and p = exp / Σ exp (the starter's) is exact
        loss, dx = unpack(loss_fn(x.copy(), y), 2, "softmax_loss")
        want_loss, want_dx = ref.softmax_loss(x, y)
        same("softmax_loss: loss", loss, want_loss,
             hint=" (expected the mean over the N samples of −log softmax(x)[y])")
        same("softmax_loss: dx", dx, want_dx, hint=" (expected (softmax(x) − onehot(y)) / N)")


def check_temporal_fc(m: ModuleType) -> None:
    forward, backward = _fn(m, "temporal_fc_forward"), _fn(m, "temporal_fc_backward")
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5)), \
            rng.standard_normal(5)
        out, cache = unpack(forward(x, w, b), 2, "temporal_fc_forward")
        want, ref_cache = ref.temporal_fc_forward(x, w, b)
        same("temporal_fc_forward: out", out, want)
        dout = rng.standard_normal(want.shape)
        grads = unpack(backward(dout, cache), 3, "temporal_fc_backward")
        for name, got, expected in zip(("dx", "dw", "db"), grads,
                                       ref.temporal_fc_backward(dout, ref_cache), strict=True):
            same(f"temporal_fc_backward: {name}", got, expected)


def check_temporal_softmax_loss(m: ModuleType) -> None:
    loss_fn = _fn(m, "temporal_softmax_loss")
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((3, 4, 5))
        y = rng.integers(0, 5, (3, 4))
        mask = rng.random((3, 4)) > 0.4
        mask[0] = False  # a caption that is all padding
        loss, dx = unpack(loss_fn(x.copy(), y, mask), 2, "temporal_softmax_loss")
        want_loss, want_dx = ref.temporal_softmax_loss(x, y, mask)
        same("temporal_softmax_loss: loss", loss, want_loss,
             hint=" (masked steps must add nothing; sum over time, mean over N)")
        same("temporal_softmax_loss: dx", dx, want_dx,
             hint=" (masked steps must get a zero gradient)")


def check_rnn_step(m: ModuleType) -> None:
    forward, backward = _fn(m, "rnn_step_forward"), _fn(m, "rnn_step_backward")
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        x, h = rng.standard_normal((3, 4)), rng.standard_normal((3, 5))
        wx, wh, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 5)), \
            rng.standard_normal(5)
        out, cache = unpack(forward(x, h, wx, wh, b), 2, "rnn_step_forward")
        want, ref_cache = ref.rnn_step_forward(x, h, wx, wh, b)
        same("rnn_step_forward: next_h", out, want, hint=" (tanh(x Wx + prev_h Wh + b))")
        dout = rng.standard_normal(want.shape)
        grads = unpack(backward(dout, cache), 5, "rnn_step_backward")
        for name, got, expected in zip(("dx", "dprev_h", "dWx", "dWh", "db"), grads,
                                       ref.rnn_step_backward(dout, ref_cache), strict=True):
            same(f"rnn_step_backward: {name}", got, expected)


def _rnn_layout(forward, x: np.ndarray, h0: np.ndarray, weights: tuple,
                want: np.ndarray) -> str:
    """"time" if the learner's rnn_forward takes x (T, N, D) as the starter's does (or
    fails either way), "batch" if it takes x (N, T, D) and only that way gives ``want``."""
    outcomes = {}
    for layout, inputs, expected in (("time", x, want),
                                     ("batch", x.transpose(1, 0, 2), want.transpose(1, 0, 2))):
        try:
            out = np.asarray(forward(inputs.copy(), h0.copy(), *weights)[0], dtype=float)
        except Exception:
            outcomes[layout] = None
            continue
        outcomes[layout] = out.shape == expected.shape and bool(
            np.allclose(out, expected, rtol=1e-6, atol=1e-9))
    if not outcomes["time"] and (outcomes["batch"] or (outcomes["time"] is None
                                                        and outcomes["batch"] is not None)):
        return "batch"
    return "time"


def check_rnn(m: ModuleType) -> None:
    """The starter's rnn_forward is time-major — x (T, N, D), h (T, N, H) — and given; a
    batch-major one (N, T, D), as in CS231n's, is accepted too."""
    forward, backward = _fn(m, "rnn_forward"), _fn(m, "rnn_backward")
    layout = None
    for seed, (n, t, d, h) in zip(SEEDS, ((2, 4, 3, 5), (1, 1, 2, 3), (3, 6, 4, 4)),
                                  strict=True):
        rng = np.random.default_rng(seed)
        x, h0 = rng.standard_normal((t, n, d)), rng.standard_normal((n, h))
        wx, wh, b = rng.standard_normal((d, h)) * 0.5, rng.standard_normal((h, h)) * 0.5, \
            rng.standard_normal(h)
        want, ref_cache = ref.rnn_forward(x, h0, wx, wh, b)  # time-major, (T, N, H)
        if layout is None:
            layout = _rnn_layout(forward, x, h0, (wx, wh, b), want)
        swap = (lambda a: a) if layout == "time" else (lambda a: a.transpose(1, 0, 2))
        shape = "(T, N, H)" if layout == "time" else "(N, T, H)"
        out, cache = unpack(forward(swap(x).copy(), h0.copy(), wx, wh, b), 2, "rnn_forward")
        same("rnn_forward: h", out, swap(want), hint=f" (every step's hidden state, {shape})")
        dout = rng.standard_normal(want.shape)
        grads = unpack(backward(swap(dout).copy(), cache), 5, "rnn_backward")
        rdx, *rest = ref.rnn_backward(dout, ref_cache)
        for name, got, expected in zip(("dx", "dh0", "dWx", "dWh", "db"), grads,
                                       (swap(rdx), *rest), strict=True):
            same(f"rnn_backward: {name}", got, expected,
                 hint=" (each step adds its upstream gradient to the one from the next step)")


def check_word_embedding(m: ModuleType) -> None:
    forward, backward = _fn(m, "word_embedding_forward"), _fn(m, "word_embedding_backward")
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        x = rng.integers(0, 6, (2, 5))
        x[0, :2] = 3  # a repeated word: its gradients must add up
        w = rng.standard_normal((6, 4))
        out, cache = unpack(forward(x, w), 2, "word_embedding_forward")
        want, ref_cache = ref.word_embedding_forward(x, w)
        same("word_embedding_forward: out", out, want)
        dout = rng.standard_normal(want.shape)
        same("word_embedding_backward: dW", backward(dout, cache),
             ref.word_embedding_backward(dout, ref_cache),
             hint=" (rows of repeated words must accumulate, e.g. with np.add.at)")


PIECES = (
    Piece("fc", "Q1 (a)", "layers", check_fc, "fully-connected forward and backward"),
    Piece("relu", "Q1 (b)", "layers", check_relu, "ReLU forward and backward"),
    Piece("conv", "Q1 (c)", "layers", check_conv, "convolution (filtering form) forward and "
          "backward"),
    Piece("softmax_loss", "Q2 (a)", "layers", check_softmax_loss, "softmax loss and gradient"),
    Piece("max_pool", "Q3 (a)", "layers", check_max_pool, "max-pooling forward and backward"),
    Piece("temporal_fc", "Q4 (a)", "rnn_layers", check_temporal_fc, "temporal affine layer"),
    Piece("temporal_softmax_loss", "Q4 (b)", "rnn_layers", check_temporal_softmax_loss,
          "masked temporal softmax loss"),
    Piece("rnn_step", "Q4 (c)", "rnn_layers", check_rnn_step, "one RNN step forward and "
          "backward"),
    Piece("rnn", "Q4 (c)", "rnn_layers", check_rnn, "RNN over a sequence, forward and "
          "backpropagation through time"),
    Piece("word_embedding", "Q4 (c)", "rnn_layers", check_word_embedding, "word embedding "
          "forward and backward"),
)
