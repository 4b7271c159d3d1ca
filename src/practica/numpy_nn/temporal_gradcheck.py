"""Finite-difference checks of the temporal layers and the captioning model (float64).

Rows in the format of :func:`~.gradcheck.check_all` (printable with ``format_table``);
kept separate from it so its fixed list of rows stays as it is. Each layer is checked
through the scalar
L = Σ dout ∘ f(inputs) for a fixed random ``dout``; the loss and the model directly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from . import rnn_layers as L
from .captioning import CaptioningRNN
from .gradcheck import DEFAULT_H, DEFAULT_TOL, GradCheckResult, numerical_gradient, relative_error


def _max_error(forward: Callable[[], np.ndarray], inputs: Sequence[np.ndarray],
               grads: Sequence[np.ndarray], dout: np.ndarray, h: float) -> float:
    def f() -> float:
        return float(np.sum(dout * forward()))

    return max(relative_error(g, numerical_gradient(f, x, h))
               for x, g in zip(inputs, grads, strict=True))


def check_temporal(tol: float = DEFAULT_TOL, seed: int = 0, h: float = DEFAULT_H
                   ) -> list[GradCheckResult]:
    """One row per temporal layer, the masked loss and the captioning model (both cells)."""
    rng = np.random.default_rng(seed)
    n, t, d, hd, v = 3, 4, 5, 6, 7
    rows: list[GradCheckResult] = []

    def add(name: str, err: float) -> None:
        rows.append(GradCheckResult(name, err, bool(err < tol)))

    def weights(gates: int) -> list[np.ndarray]:
        return [rng.standard_normal((d, gates * hd)) * 0.4,
                rng.standard_normal((hd, gates * hd)) * 0.4, rng.standard_normal(gates * hd)]

    x, h0 = rng.standard_normal((n, t, d)), rng.standard_normal((n, hd))
    w1, w4 = weights(1), weights(4)
    out, cache = L.rnn_forward(x, h0, *w1)
    dout = rng.standard_normal(out.shape)
    add("RNN (sequence)", _max_error(lambda: L.rnn_forward(x, h0, *w1)[0], [x, h0, *w1],
                                     L.rnn_backward(dout, cache), dout, h))
    out, cache = L.lstm_forward(x, h0, *w4)
    add("LSTM (sequence)", _max_error(lambda: L.lstm_forward(x, h0, *w4)[0], [x, h0, *w4],
                                      L.lstm_backward(dout, cache), dout, h))
    words, table = rng.integers(0, v, (n, t)), rng.standard_normal((v, d))
    out, cache = L.word_embedding_forward(words, table)
    dout = rng.standard_normal(out.shape)
    add("WordEmbedding", _max_error(lambda: L.word_embedding_forward(words, table)[0], [table],
                                    [L.word_embedding_backward(dout, cache)], dout, h))
    w, b = rng.standard_normal((d, v)), rng.standard_normal(v)
    out, cache = L.temporal_fc_forward(x, w, b)
    dout = rng.standard_normal(out.shape)
    add("TemporalFC", _max_error(lambda: L.temporal_fc_forward(x, w, b)[0], [x, w, b],
                                 L.temporal_fc_backward(dout, cache), dout, h))
    scores, mask = rng.standard_normal((n, t, v)), rng.random((n, t)) > 0.3
    _, dscores = L.temporal_softmax_loss(scores, words, mask)
    add("TemporalSoftmaxLoss", relative_error(dscores, numerical_gradient(
        lambda: L.temporal_softmax_loss(scores, words, mask)[0], scores, h)))

    vocab = {"<NULL>": 0, "<START>": 1, "<END>": 2, "a": 3, "b": 4, "c": 5}
    captions = np.array([[1, 3, 4, 2, 0], [1, 5, 2, 0, 0], [1, 3, 3, 5, 2]])
    feats = rng.standard_normal((3, 4))
    for cell in ("rnn", "lstm"):
        model = CaptioningRNN(vocab, 4, 3, 5, cell, seed=seed, dtype=np.float64)
        model.params["W_embed"][...] *= 100  # O(1) word vectors: no round-off-sized grads
        _, grads = model.loss(feats, captions)
        analytic = {k: g.copy() for k, g in grads.items()}
        def loss(m: CaptioningRNN = model) -> float:
            return m.loss(feats, captions)[0]

        err = max(relative_error(analytic[k], numerical_gradient(loss, p, h))
                  for k, p in model.params.items())
        # the model's error is a product of many layers; allow 10× the layer tolerance
        rows.append(GradCheckResult(f"CaptioningRNN ({cell}, tol ×10)", err,
                                    bool(err < 10 * tol)))
    return rows
