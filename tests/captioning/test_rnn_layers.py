"""Gradient checks and hand-computed values for the temporal layers."""

from __future__ import annotations

import numpy as np
import pytest

from practica.numpy_nn import rnn_layers as L
from practica.numpy_nn.gradcheck import numerical_gradient, relative_error

TOL = 1e-6
N, T, D, H, V = 3, 4, 5, 6, 7


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def check(forward, inputs, backward_grads, dout):
    """Compare analytic gradients with centred differences of Σ dout ∘ forward()."""

    def f():
        return float(np.sum(dout * forward()))

    for (name, array), grad in zip(inputs, backward_grads, strict=True):
        err = relative_error(grad, numerical_gradient(f, array))
        assert err < TOL, f"{name}: relative error {err:.2e}"


def rnn_params(rng, gates=1):
    return (rng.standard_normal((D, gates * H)) * 0.4, rng.standard_normal((H, gates * H)) * 0.4,
            rng.standard_normal(gates * H) * 0.3)


def test_rnn_step_gradients(rng):
    x, h = rng.standard_normal((N, D)), rng.standard_normal((N, H))
    Wx, Wh, b = rnn_params(rng)
    out, cache = L.rnn_step_forward(x, h, Wx, Wh, b)
    dout = rng.standard_normal(out.shape)
    grads = L.rnn_step_backward(dout, cache)
    check(lambda: L.rnn_step_forward(x, h, Wx, Wh, b)[0],
          zip(("x", "prev_h", "Wx", "Wh", "b"), (x, h, Wx, Wh, b), strict=True), grads, dout)


def test_rnn_step_matches_formula():
    x = np.array([[1.0, 2.0]])
    h = np.array([[0.5]])
    out, _ = L.rnn_step_forward(x, h, np.array([[0.1], [0.2]]), np.array([[2.0]]),
                                np.array([-0.3]))
    assert out == pytest.approx(np.tanh(0.1 + 0.4 + 1.0 - 0.3))


def test_rnn_sequence_gradients_and_steps(rng):
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    Wx, Wh, b = rnn_params(rng)
    h, cache = L.rnn_forward(x, h0, Wx, Wh, b)
    prev = h0
    for t in range(T):  # the sequence is the step applied T times
        prev, _ = L.rnn_step_forward(x[:, t], prev, Wx, Wh, b)
        np.testing.assert_allclose(h[:, t], prev, rtol=1e-12)
    dout = rng.standard_normal(h.shape)
    grads = L.rnn_backward(dout, cache)
    check(lambda: L.rnn_forward(x, h0, Wx, Wh, b)[0],
          zip(("x", "h0", "Wx", "Wh", "b"), (x, h0, Wx, Wh, b), strict=True), grads, dout)


def test_lstm_step_gradients(rng):
    x, h, c = (rng.standard_normal(s) for s in ((N, D), (N, H), (N, H)))
    Wx, Wh, b = rnn_params(rng, gates=4)
    next_h, next_c, cache = L.lstm_step_forward(x, h, c, Wx, Wh, b)
    dh, dc = rng.standard_normal(next_h.shape), rng.standard_normal(next_c.shape)
    grads = L.lstm_step_backward(dh, dc, cache)

    def both():
        nh, nc, _ = L.lstm_step_forward(x, h, c, Wx, Wh, b)
        return np.concatenate([nh, nc], axis=1)

    names = ("x", "prev_h", "prev_c", "Wx", "Wh", "b")
    check(both, zip(names, (x, h, c, Wx, Wh, b), strict=True), grads,
          np.concatenate([dh, dc], axis=1))


def test_lstm_step_matches_gate_equations(rng):
    x, h, c = (rng.standard_normal(s) for s in ((N, D), (N, H), (N, H)))
    Wx, Wh, b = rnn_params(rng, gates=4)
    a = x @ Wx + h @ Wh + b
    sig = 1 / (1 + np.exp(-a))
    i, f, o, g = sig[:, :H], sig[:, H:2 * H], sig[:, 2 * H:3 * H], np.tanh(a[:, 3 * H:])
    next_h, next_c, _ = L.lstm_step_forward(x, h, c, Wx, Wh, b)
    np.testing.assert_allclose(next_c, f * c + i * g, rtol=1e-12)
    np.testing.assert_allclose(next_h, o * np.tanh(f * c + i * g), rtol=1e-12)


def test_lstm_sequence_gradients(rng):
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    Wx, Wh, b = rnn_params(rng, gates=4)
    h, cache = L.lstm_forward(x, h0, Wx, Wh, b)
    dout = rng.standard_normal(h.shape)
    grads = L.lstm_backward(dout, cache)
    check(lambda: L.lstm_forward(x, h0, Wx, Wh, b)[0],
          zip(("x", "h0", "Wx", "Wh", "b"), (x, h0, Wx, Wh, b), strict=True), grads, dout)


def test_word_embedding(rng):
    W = rng.standard_normal((V, D))
    x = np.array([[0, 3, 3], [6, 0, 1]])
    out, cache = L.word_embedding_forward(x, W)
    np.testing.assert_array_equal(out[1, 0], W[6])
    dout = rng.standard_normal(out.shape)
    dW = L.word_embedding_backward(dout, cache)
    np.testing.assert_allclose(dW[3], dout[0, 1] + dout[0, 2])  # repeated words add up
    assert not dW[2].any()
    check(lambda: L.word_embedding_forward(x, W)[0], [("W", W)], [dW], dout)
    with pytest.raises(ValueError, match="indices must lie in"):
        L.word_embedding_forward(np.array([[V]]), W)


def test_temporal_fc(rng):
    x, w, b = rng.standard_normal((N, T, D)), rng.standard_normal((D, V)), rng.standard_normal(V)
    out, cache = L.temporal_fc_forward(x, w, b)
    np.testing.assert_allclose(out[2, 1], x[2, 1] @ w + b)
    dout = rng.standard_normal(out.shape)
    grads = L.temporal_fc_backward(dout, cache)
    check(lambda: L.temporal_fc_forward(x, w, b)[0], zip("xwb", (x, w, b), strict=True), grads,
          dout)
    with pytest.raises(ValueError, match=r"expected x of shape \(N, T, 5\)"):
        L.temporal_fc_forward(x[..., :4], w, b)


def test_temporal_softmax_loss_hand_computed():
    # probabilities [1/4, 1/4, 1/2], [1/8, 3/8, 1/2] and uniform; the last position masked
    x = np.log(np.array([[[1, 1, 2], [1, 3, 4]], [[1, 1, 1], [1e-3, 1e6, 1]]], dtype=float))
    y = np.array([[2, 0], [1, 2]])
    mask = np.array([[True, True], [True, False]])
    loss, dx = L.temporal_softmax_loss(x, y, mask)
    # summed over time, averaged over the N = 2 captions
    assert loss == pytest.approx((np.log(2) + np.log(8) + np.log(3)) / 2, rel=1e-12)
    np.testing.assert_allclose(dx[0, 0], np.array([0.25, 0.25, -0.5]) / 2)
    np.testing.assert_allclose(dx[0, 1], np.array([1 / 8 - 1, 3 / 8, 1 / 2]) / 2)
    assert not dx[1, 1].any()


def test_temporal_softmax_loss_gradient(rng):
    x = rng.standard_normal((N, T, V))
    y = rng.integers(0, V, (N, T))
    mask = rng.random((N, T)) > 0.3
    _, dx = L.temporal_softmax_loss(x, y, mask)
    err = relative_error(dx, numerical_gradient(lambda: L.temporal_softmax_loss(x, y, mask)[0],
                                                x))
    assert err < TOL


def test_shape_errors_name_the_argument(rng):
    Wx, Wh, b = rnn_params(rng)
    with pytest.raises(ValueError, match="rnn_forward: expected h0 of shape"):
        L.rnn_forward(np.zeros((N, T, D)), np.zeros((N + 1, H)), Wx, Wh, b)
    with pytest.raises(ValueError, match="mask of shape"):
        L.temporal_softmax_loss(np.zeros((N, T, V)), np.zeros((N, T), int), np.ones((N, 1)))


@pytest.mark.parametrize("seed", [0, 1])
def test_temporal_gradcheck_table(seed):
    from practica.numpy_nn.gradcheck import format_table
    from practica.numpy_nn.temporal_gradcheck import check_temporal

    rows = check_temporal(seed=seed)
    assert len(rows) == 7 and all(r.passed for r in rows), format_table(rows)
