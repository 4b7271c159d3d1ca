"""Temporal layers for RNN language models (EECS 545 HW4 §4, after CS231n), as functions.

Each ``*_forward`` returns ``(out, cache)`` and each ``*_backward`` takes the upstream
gradient and that cache. Layout is batch-major: sequences are ``(N, T, D)``, hidden states
``(N, T, H)``, word indices ``(N, T)``. Weights follow the handout's row convention
(``y = x W + b`` with ``W`` of shape ``(in, out)``), unlike :class:`~.layers.Linear`.

Vanilla RNN step:   a = x Wx + h_prev Wh + b,   h = tanh(a)
    backward: da = dh ∘ (1 − h²);  dx = da Wxᵀ, dh_prev = da Whᵀ, dWx = xᵀ da,
              dWh = h_prevᵀ da, db = Σ_n da.
Over a sequence the gradient reaching h_t is the sum of the loss's dh_t and the
dh_prev flowing back from step t + 1 (backpropagation through time).

LSTM step (gates stacked as i, f, o, g in the 4H columns):
    a = x Wx + h_prev Wh + b;  i, f, o = σ(a_i), σ(a_f), σ(a_o);  g = tanh(a_g)
    c = f ∘ c_prev + i ∘ g,    h = o ∘ tanh(c)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import check_shape

Cache = Any


# --------------------------------------------------------------------------- vanilla RNN


def rnn_step_forward(x: np.ndarray, prev_h: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                     b: np.ndarray) -> tuple[np.ndarray, Cache]:
    """h = tanh(x Wx + prev_h Wh + b) for one timestep; x (N, D), prev_h (N, H)."""
    d, h = Wx.shape
    check_shape("rnn_step_forward", x, ("N", d), "x")
    check_shape("rnn_step_forward", prev_h, (x.shape[0], h), "prev_h")
    check_shape("rnn_step_forward", Wh, (h, h), "Wh")
    check_shape("rnn_step_forward", b, (h,), "b")
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h: np.ndarray, cache: Cache
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dprev_h, dWx, dWh, db) for one timestep, from dL/dh."""
    x, prev_h, Wx, Wh, next_h = cache
    check_shape("rnn_step_backward", dnext_h, next_h.shape, "dnext_h")
    da = dnext_h * (1.0 - next_h * next_h)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def rnn_forward(x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                b: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Run the RNN over a whole sequence: x (N, T, D), h0 (N, H) -> h (N, T, H).

    The input projection x Wx is computed for all timesteps in one product; only the
    recurrence is a Python loop.
    """
    d, hd = Wx.shape
    check_shape("rnn_forward", x, ("N", "T", d), "x")
    n, t, _ = x.shape
    check_shape("rnn_forward", h0, (n, hd), "h0")
    check_shape("rnn_forward", Wh, (hd, hd), "Wh")
    check_shape("rnn_forward", b, (hd,), "b")
    # time-major inside, so every step's (N, H) slice is contiguous for the BLAS product
    xw = (x.transpose(1, 0, 2).reshape(t * n, d) @ Wx).reshape(t, n, hd) + b
    h_tm = np.empty((t, n, hd), dtype=np.result_type(x, Wx))
    prev = h0
    for step in range(t):
        prev = h_tm[step] = np.tanh(xw[step] + prev @ Wh)
    h = np.ascontiguousarray(h_tm.transpose(1, 0, 2))
    return h, (x, h0, Wx, Wh, h_tm)


def rnn_backward(dh: np.ndarray, cache: Cache
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backpropagation through time: dh (N, T, H) -> (dx, dh0, dWx, dWh, db)."""
    x, h0, Wx, Wh, h_tm = cache  # h_tm: the states time-major (T, N, H)
    t, n, hd = h_tm.shape
    check_shape("rnn_backward", dh, (n, t, hd), "dh")
    dh_tm = dh.transpose(1, 0, 2)
    da = np.empty_like(h_tm)
    carry = np.zeros((n, hd), dtype=h_tm.dtype)  # dL/dh_t arriving from step t + 1
    for step in reversed(range(t)):
        ht = h_tm[step]
        da[step] = (dh_tm[step] + carry) * (1.0 - ht * ht)
        carry = da[step] @ Wh.T
    h_prev = np.concatenate([h0[None], h_tm[:-1]], axis=0)
    flat_da = da.reshape(t * n, hd)
    x_tm = x.transpose(1, 0, 2).reshape(t * n, -1)
    dx = (flat_da @ Wx.T).reshape(t, n, -1).transpose(1, 0, 2)
    dWx = x_tm.T @ flat_da
    dWh = h_prev.reshape(t * n, hd).T @ flat_da
    return np.ascontiguousarray(dx), carry, dWx, dWh, flat_da.sum(axis=0)


# --------------------------------------------------------------------------- LSTM


def _sigmoid(a: np.ndarray) -> np.ndarray:
    """σ(a) = 1 / (1 + e^−a), written to avoid overflow for large |a|."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def lstm_step_forward(x: np.ndarray, prev_h: np.ndarray, prev_c: np.ndarray, Wx: np.ndarray,
                      Wh: np.ndarray, b: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, Cache]:
    """One LSTM step: x (N, D), prev_h and prev_c (N, H), Wx (D, 4H) -> (next_h, next_c)."""
    d, h4 = Wx.shape
    if h4 % 4:
        raise ValueError(f"lstm_step_forward: Wx must have 4H columns, got {Wx.shape}")
    hd = h4 // 4
    check_shape("lstm_step_forward", x, ("N", d), "x")
    check_shape("lstm_step_forward", prev_h, (x.shape[0], hd), "prev_h")
    check_shape("lstm_step_forward", prev_c, (x.shape[0], hd), "prev_c")
    check_shape("lstm_step_forward", Wh, (hd, h4), "Wh")
    check_shape("lstm_step_forward", b, (h4,), "b")
    a = x @ Wx + prev_h @ Wh + b
    i, f, o = (_sigmoid(a[:, k * hd:(k + 1) * hd]) for k in range(3))
    g = np.tanh(a[:, 3 * hd:])
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c)


def lstm_step_backward(dnext_h: np.ndarray, dnext_c: np.ndarray, cache: Cache
                       ) -> tuple[np.ndarray, ...]:
    """(dx, dprev_h, dprev_c, dWx, dWh, db) for one LSTM step.

    dc = dnext_c + dnext_h ∘ o ∘ (1 − tanh²c);  do = dnext_h ∘ tanh c;  di = dc ∘ g;
    df = dc ∘ c_prev;  dg = dc ∘ i;  dc_prev = dc ∘ f; gate pre-activations through
    σ' = σ(1 − σ) and tanh' = 1 − tanh².
    """
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c = cache
    check_shape("lstm_step_backward", dnext_h, i.shape, "dnext_h")
    check_shape("lstm_step_backward", dnext_c, i.shape, "dnext_c")
    dc = dnext_c + dnext_h * o * (1.0 - tanh_c * tanh_c)
    da = np.concatenate([dc * g * i * (1.0 - i), dc * prev_c * f * (1.0 - f),
                         dnext_h * tanh_c * o * (1.0 - o), dc * i * (1.0 - g * g)], axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def lstm_forward(x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                 b: np.ndarray) -> tuple[np.ndarray, Cache]:
    """LSTM over a sequence: x (N, T, D), h0 (N, H), c0 = 0 -> h (N, T, H)."""
    check_shape("lstm_forward", x, ("N", "T", Wx.shape[0]), "x")
    n, t, _ = x.shape
    h = np.empty((n, t, Wh.shape[0]), dtype=np.result_type(x, Wx))
    prev_h, prev_c = h0, np.zeros_like(h0)
    caches = []
    for step in range(t):
        prev_h, prev_c, cache = lstm_step_forward(x[:, step], prev_h, prev_c, Wx, Wh, b)
        h[:, step] = prev_h
        caches.append(cache)
    return h, caches


def lstm_backward(dh: np.ndarray, cache: Cache) -> tuple[np.ndarray, ...]:
    """Backpropagation through time for :func:`lstm_forward` -> (dx, dh0, dWx, dWh, db)."""
    caches = cache
    n, t, hd = dh.shape
    if len(caches) != t:
        raise ValueError(f"lstm_backward: dh has {t} timesteps, the cache {len(caches)}")
    x0, _, _, Wx, Wh = caches[0][:5]
    dx = np.empty((n, t, x0.shape[1]), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wx.shape[1], dh.dtype)
    carry_h = np.zeros((n, hd), dtype=dh.dtype)
    carry_c = np.zeros((n, hd), dtype=dh.dtype)
    for step in reversed(range(t)):
        dxt, carry_h, carry_c, dwx, dwh, dbt = lstm_step_backward(
            dh[:, step] + carry_h, carry_c, caches[step])
        dx[:, step] = dxt
        dWx += dwx
        dWh += dwh
        db += dbt
    return dx, carry_h, dWx, dWh, db


# --------------------------------------------------------------------------- embedding, fc


def word_embedding_forward(x: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Look up word vectors: out[n, t] = W[x[n, t]]; x (N, T) ints, W (V, D)."""
    x = np.asarray(x)
    if x.ndim != 2 or x.dtype.kind not in "iu":
        raise ValueError(f"word_embedding_forward: expected integer indices of shape (N, T), "
                         f"got {x.dtype} {x.shape}")
    if x.size and (x.min() < 0 or x.max() >= W.shape[0]):
        raise ValueError(f"word_embedding_forward: indices must lie in [0, {W.shape[0]}), "
                         f"got [{x.min()}, {x.max()}]")
    return W[x], (x, W.shape)


def word_embedding_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """dW[v] = Σ over all (n, t) with x[n, t] = v of dout[n, t] (scatter-add)."""
    x, shape = cache
    check_shape("word_embedding_backward", dout, (*x.shape, shape[1]), "dout")
    dW = np.zeros(shape, dtype=dout.dtype)
    ids = x.ravel()
    if ids.size:  # sort by word, then sum each word's run of rows (faster than np.add.at)
        order = np.argsort(ids, kind="stable")
        words, starts = np.unique(ids[order], return_index=True)
        dW[words] = np.add.reduceat(dout.reshape(-1, shape[1])[order], starts, axis=0)
    return dW


def temporal_fc_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray
                        ) -> tuple[np.ndarray, Cache]:
    """The same affine map at every timestep: out[n, t] = x[n, t] w + b; x (N, T, D)."""
    d, m = w.shape
    check_shape("temporal_fc_forward", x, ("N", "T", d), "x")
    check_shape("temporal_fc_forward", b, (m,), "b")
    n, t, _ = x.shape
    out = (x.reshape(n * t, d) @ w).reshape(n, t, m) + b
    return out, (x, w)


def temporal_fc_backward(dout: np.ndarray, cache: Cache
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dw, db): the affine layer's gradients with (n, t) flattened into one batch axis.

    dx = dout wᵀ,  dw = Σ_{n,t} x[n, t]ᵀ dout[n, t],  db = Σ_{n,t} dout[n, t].
    """
    x, w = cache
    n, t, d = x.shape
    m = w.shape[1]
    check_shape("temporal_fc_backward", dout, (n, t, m), "dout")
    flat = dout.reshape(n * t, m)
    return (flat @ w.T).reshape(n, t, d), x.reshape(n * t, d).T @ flat, flat.sum(axis=0)


# --------------------------------------------------------------------------- masked loss


def temporal_softmax_loss(x: np.ndarray, y: np.ndarray, mask: np.ndarray
                          ) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy summed over time and averaged over the minibatch.

    L = −(1/N) Σ_n Σ_t mask[n, t] · log softmax(x[n, t])[y[n, t]],
    dL/dx[n, t] = mask[n, t] · (softmax(x[n, t]) − onehot(y[n, t])) / N.

    x (N, T, V) scores, y (N, T) integer targets, mask (N, T) booleans; masked-out
    positions (NULL padding) contribute neither loss nor gradient.
    """
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"temporal_softmax_loss: expected scores of shape (N, T, V), "
                         f"got {x.shape}")
    n, t, v = x.shape
    y, mask = np.asarray(y), np.asarray(mask)
    check_shape("temporal_softmax_loss", y, (n, t), "y")
    check_shape("temporal_softmax_loss", mask, (n, t), "mask")
    if y.dtype.kind not in "iu":
        raise ValueError(f"temporal_softmax_loss: y must be integers, got {y.dtype}")
    if y.size and (y.min() < 0 or y.max() >= v):
        raise ValueError(f"temporal_softmax_loss: targets must lie in [0, {v}), "
                         f"got [{y.min()}, {y.max()}]")
    flat_x, flat_y = x.reshape(n * t, v), y.reshape(n * t)
    weight = mask.reshape(n * t).astype(x.dtype)
    shifted = flat_x - flat_x.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_p = shifted - log_z
    rows = np.arange(n * t)
    loss = -float(np.sum(weight * log_p[rows, flat_y])) / n
    dx = np.exp(log_p)
    dx[rows, flat_y] -= 1.0
    dx *= weight[:, None] / n
    return loss, dx.reshape(n, t, v)
