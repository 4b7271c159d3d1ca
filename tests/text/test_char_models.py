"""The character LSTM (state carried across chunks) and min-char-rnn (gradient-checked)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from practica.models.char_lstm import CharLSTM
from practica.numpy_nn import numerical_gradient, relative_error
from practica.numpy_nn.char_rnn import Adagrad, CharRNN, Sweep, clip_grads, mean_loss
from practica.text import sampling


@pytest.mark.parametrize("embed_dim", [0, 4])
def test_lstm_chunks_and_steps_equal_one_pass(embed_dim):
    torch.manual_seed(0)
    model = CharLSTM(7, hidden=6, layers=2, embed_dim=embed_dim).eval()
    x = torch.randint(0, 7, (1, 11))
    with torch.no_grad():
        full, (h, c) = model(x)
        assert full.shape == (1, 11, 7) and h.shape == c.shape == (2, 1, 6)
        state = None
        for start in (0, 4, 8):  # carrying (h, c) from chunk to chunk changes nothing
            part, state = model(x[:, start: start + 4], state)
            torch.testing.assert_close(part, full[:, start: start + 4])
    logits, state = model.feed_prompt(x[0].tolist(), chunk=3)
    np.testing.assert_allclose(logits, full[0, -1].double().numpy(), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(state[0], h)
    logits, state = sampling.feed(model.step, None, x[0].tolist())
    np.testing.assert_allclose(logits, full[0, -1].double().numpy(), rtol=1e-5, atol=1e-6)


def _tiny_rnn(seed=0):
    model = CharRNN(5, 4, seed=seed)
    rng = np.random.default_rng(seed + 1)
    for v in model.params.values():  # larger than min-char-rnn's 0.01 init: a real test
        v[...] = rng.standard_normal(v.shape) * 0.5
    return model


def test_minchar_rnn_gradients_match_finite_differences():
    model = _tiny_rnn()
    inputs, targets = [0, 3, 1, 4, 2, 2], [3, 1, 4, 2, 2, 0]
    hprev = np.random.default_rng(3).standard_normal((4, 1)) * 0.5
    loss, grads, h_last = model.loss_and_grads(inputs, targets, hprev)
    assert h_last.shape == (4, 1)

    def f():
        return model.loss_and_grads(inputs, targets, hprev)[0]

    for name, param in model.params.items():
        numeric = numerical_gradient(f, param)
        assert relative_error(grads[name], numeric) < 1e-6, name
    # the loss is the summed cross-entropy that step() implies
    h, total = hprev, 0.0
    for i, j in zip(inputs, targets, strict=True):
        y, h = model.step(i, h)
        total -= sampling.log_softmax(y)[j]
    assert loss == pytest.approx(total)


def test_adagrad_clipping_and_sweep():
    params = {"w": np.array([1.0, -2.0])}
    opt = Adagrad(params, lr=0.1)
    grads = {"w": np.array([10.0, -0.5])}
    clip_grads(grads, 5.0)
    np.testing.assert_array_equal(grads["w"], [5.0, -0.5])
    opt.step(params, grads)
    np.testing.assert_allclose(params["w"], [1.0 - 0.1 * 5 / np.sqrt(25 + 1e-8),
                                             -2.0 + 0.1 * 0.5 / np.sqrt(0.25 + 1e-8)])
    np.testing.assert_allclose(opt.memory["w"], [25.0, 0.25])
    sweep = Sweep(np.arange(10), 4, 3)
    x, y, _ = sweep.next()
    np.testing.assert_array_equal(x, [0, 1, 2, 3])
    np.testing.assert_array_equal(y, [1, 2, 3, 4])
    sweep.h = np.ones((3, 1))
    x, _, h = sweep.next()
    assert x[0] == 4 and h.sum() == 3  # state carried
    x, _, h = sweep.next()  # 8 + 4 + 1 > 10: back to the start with a zero state
    assert x[0] == 0 and h.sum() == 0


def test_minchar_rnn_learns_a_repeating_text():
    data = np.array([0, 1, 2, 3, 1, 2] * 60)
    model = CharRNN(4, 16, seed=0)
    opt = Adagrad(model.params, lr=0.1)
    sweep = Sweep(data, 12, 16)
    before = mean_loss(model, data)
    for _ in range(300):
        x, y, h = sweep.next()
        _, grads, sweep.h = model.loss_and_grads(x, y, h)
        clip_grads(grads)
        opt.step(model.params, grads)
    assert before == pytest.approx(np.log(4), abs=0.01)
    assert mean_loss(model, data) < 0.1  # nats per character
