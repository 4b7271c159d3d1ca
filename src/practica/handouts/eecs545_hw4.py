"""EECS 545 HW4's starter-code interfaces (``layers.py``, ``rnn_layers.py``), backed by
practica's NumPy engine.

Every forward returns ``(out, cache)``; every backward takes ``(dout, cache)`` and returns
the gradients in the order of the forward's inputs. Row-major convention: a sample is a
row, ``w`` of a fully-connected layer is (D_in, D_out), ``Y = XW + B`` (§1a). The
convolution is the handout's filtering form without padding or stride (§1c), and the
max-pooling windows may be non-square (``pool_height``, ``pool_width``, ``stride``).

Provenance: signatures, caches and layouts were compared with public copies of the HW4
starter (``hw4_starter/layers.py`` and ``rnn_layers.py``, and students' copies of the same
files). As there: ``fc_forward`` caches ``(x, w, b)``, ``conv_forward`` and
``max_pool_forward`` cache ``(x, w)`` and ``(x, pool_param)``, ``softmax_loss(x, y)``
returns ``(loss, dx)``, ``temporal_softmax_loss(x, y, mask)`` takes the mask without a
default. The starter gives ``rnn_step_*``, ``rnn_forward``/``rnn_backward`` and
``word_embedding_*`` written out; its ``rnn_forward`` is time-major — x (T, N, D) → h
(T, N, H), ``rnn_backward`` likewise — and so is this one (the check also accepts
CS231n's batch-major (N, T, D)). A later edition moves ``conv_*`` and ``max_pool_*`` to
``cnn_layers.py``; the check reads them from there when ``layers.py`` has none.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..numpy_nn import rnn_layers as _engine
from ..numpy_nn.conv import batch_conv2d_full, batch_filter2d
from ..numpy_nn.rnn_layers import (  # noqa: F401 - re-exported: the starter's rnn_layers.py
    rnn_step_backward,
    rnn_step_forward,
    temporal_fc_backward,
    temporal_fc_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)

Cache = Any


# --- §1 (a) fully-connected ---------------------------------------------------------------

def fc_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Y = XW + B: x (N, D_in) (or (N, d1, …), flattened), w (D_in, D_out), b (D_out,)."""
    flat = x.reshape(x.shape[0], -1)
    return flat @ w + b, (x, w, b)


def fc_backward(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dX = dY Wᵀ (reshaped like x), dW = Xᵀ dY, db = Σ_n dY_n; cache = (x, w, b)."""
    x, w, _ = cache
    flat = x.reshape(x.shape[0], -1)
    return (dout @ w.T).reshape(x.shape), flat.T @ dout, dout.sum(axis=0)


# --- §1 (b) ReLU ----------------------------------------------------------------------------

def relu_forward(x: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Y = max(0, X), element-wise."""
    return np.maximum(x, 0), x


def relu_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """dX = dY ∘ 1[X > 0] (the subgradient 0 at X = 0)."""
    return dout * (cache > 0)


# --- §1 (c) convolution ---------------------------------------------------------------------

def conv_forward(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Y_nf = Σ_c X_nc ⋆_filt W_fc: x (N, C, H, W), w (F, C, H', W') → (N, F, H−H'+1, W−W'+1)."""
    out = batch_filter2d(x[:, None], w[None]).sum(axis=2)  # (N, F, C, Ho, Wo) summed over C
    return out, (x, w)


def conv_backward(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray]:
    """dX_nc = Σ_f W_fc ∗_full dY_nf and dW_fc = Σ_n X_nc ⋆_filt dY_nf (§1c's identities)."""
    x, w = cache
    dx = batch_conv2d_full(dout[:, :, None], w[None]).sum(axis=1)  # (N, F, C, H, W) → F
    dw = batch_filter2d(x[:, None], dout[:, :, None]).sum(axis=0)  # (N, F, C, H', W') → N
    return dx, dw


# --- §3 (a) max-pooling ---------------------------------------------------------------------

def _windows(x: np.ndarray, pool_param: dict[str, int]) -> np.ndarray:
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    return sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::s, ::s]  # (N,C,Ho,Wo,ph,pw)


def max_pool_forward(x: np.ndarray, pool_param: dict[str, int]) -> tuple[np.ndarray, Cache]:
    """The maximum of each pool_height × pool_width window, windows ``stride`` apart."""
    return _windows(x, pool_param).max(axis=(-2, -1)), (x, pool_param)


def max_pool_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """Each window's gradient goes to its (first) maximum; overlapping windows add up."""
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    win = _windows(x, pool_param)
    n, c, ho, wo = win.shape[:4]
    arg = win.reshape(n, c, ho, wo, ph * pw).argmax(axis=-1)
    dx = np.zeros_like(x, dtype=np.result_type(x, dout))
    rows = (np.arange(ho) * s)[None, None, :, None] + arg // pw
    cols = (np.arange(wo) * s)[None, None, None, :] + arg % pw
    nn, cc = np.indices((n, c))
    np.add.at(dx, (nn[:, :, None, None], cc[:, :, None, None], rows, cols), dout)
    return dx


# --- §2 (a) softmax loss --------------------------------------------------------------------

def softmax_loss(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """L = −(1/N) Σ_n log softmax(x_n)[y_n] and dL/dx = (softmax(x) − onehot(y)) / N."""
    shifted = x - x.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = x.shape[0]
    loss = -float(log_p[np.arange(n), y].mean())
    dx = np.exp(log_p)
    dx[np.arange(n), y] -= 1.0
    return loss, dx / n


# --- rnn_layers.py's sequence RNN, time-major as the starter gives it ----------------------

def rnn_forward(x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,  # noqa: N803
                b: np.ndarray) -> tuple[np.ndarray, Cache]:
    """x (T, N, D), h0 (N, H) → every step's state h (T, N, H), as the starter's docstring."""
    h, cache = _engine.rnn_forward(x.transpose(1, 0, 2), h0, Wx, Wh, b)
    return h.transpose(1, 0, 2), cache


def rnn_backward(dh: np.ndarray, cache: Cache) -> tuple[np.ndarray, ...]:
    """dh (T, N, H) → dx (T, N, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,)."""
    dx, dh0, dWx, dWh, db = _engine.rnn_backward(dh.transpose(1, 0, 2), cache)  # noqa: N806
    return dx.transpose(1, 0, 2), dh0, dWx, dWh, db
