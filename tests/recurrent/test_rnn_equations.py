"""The recurrent models against hand-computed values, gradient flow, and torch's nn.LSTM.

Complements tests/models/test_models_rnn.py (shapes, init, nn.RNN / nn.LSTMCell agreement).
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from practica.experiments.recurrent import LSTMClassifier
from practica.models import LSTM, VanillaRNN


def _set(model: nn.Module, **values: list) -> nn.Module:
    with torch.no_grad():
        for name, value in values.items():
            getattr(model, name).copy_(torch.tensor(value, dtype=torch.float64))
    return model


def _sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def test_vanilla_rnn_hand_set_weights() -> None:
    # d = 1, n = 2, k = 2; W_hh is not symmetric, so W_hh vs W_hhᵀ would show
    model = _set(VanillaRNN(3, 1, 2, 2).double(),
                 W_hx=[[0.5], [-1.0]], W_hh=[[0.0, 2.0], [0.0, 0.0]], b_h=[0.1, 0.2],
                 W_ph=[[1.0, 0.0], [0.5, -1.0]], b_p=[0.0, 0.3])
    x = [1.0, 2.0, -1.0]
    h = [0.0, 0.0]
    for xt in x:  # h(t) = tanh(W_hx x(t) + W_hh h(t−1) + b_h), written out
        h = [math.tanh(0.5 * xt + 2.0 * h[1] + 0.1), math.tanh(-1.0 * xt + 0.2)]
    expected = [[h[0], 0.5 * h[0] - h[1] + 0.3]]
    out = model(torch.tensor([x], dtype=torch.float64))
    torch.testing.assert_close(out, torch.tensor(expected, dtype=torch.float64))


def test_vanilla_rnn_exact_values_with_zero_and_identity_weights() -> None:
    model = _set(VanillaRNN(4, 1, 1, 1).double(), W_hx=[[0.0]], W_hh=[[1.0]], b_h=[0.0],
                 W_ph=[[1.0]], b_p=[0.25])
    out = model(torch.tensor([[3.0, -2.0, 7.0, 1.0]], dtype=torch.float64))
    assert out.item() == 0.25  # the input never reaches h: h stays 0, p = b_p exactly


def test_lstm_hand_set_weights() -> None:
    # n = 1, d = 1: every gate written out by hand over two steps
    w = {"g": (0.5, -0.3, 0.1), "i": (1.0, 0.2, -0.1), "f": (-0.5, 0.4, 0.3),
         "o": (0.8, -0.6, 0.05)}  # (W_·x, W_·h, b_·)
    model = LSTM(2, 1, 1, 1).double()
    values = {}
    for gate, (wx, wh, b) in w.items():
        values.update({f"W_{gate}x": [[wx]], f"W_{gate}h": [[wh]], f"b_{gate}": [b]})
    _set(model, W_ph=[[2.0]], b_p=[-1.0], **values)
    h = c = 0.0
    for xt in (1.5, -0.5):
        pre = {k: wx * xt + wh * h + b for k, (wx, wh, b) in w.items()}
        g = math.tanh(pre["g"])
        i, f, o = (_sigmoid(pre[k]) for k in "ifo")
        c = g * i + c * f
        h = math.tanh(c) * o
    out = model(torch.tensor([[1.5, -0.5]], dtype=torch.float64))
    assert out.item() == pytest.approx(2.0 * h - 1.0, abs=1e-12)


def test_lstm_saturated_gates_copy_and_hold_the_cell() -> None:
    # i = 1, f = 1, o = 1 (saturated), g = tanh(x): c(T) = Σ tanh(x(t)) exactly in the limit
    model = LSTM(3, 1, 1, 1).double()
    zeros = {f"W_{g}{s}": [[0.0]] for g in "gifo" for s in "xh"}
    _set(model, **{**zeros, "W_gx": [[1.0]]}, b_g=[0.0], b_i=[50.0], b_f=[50.0], b_o=[50.0],
         W_ph=[[1.0]], b_p=[0.0])
    x = [0.3, -0.1, 0.4]
    out = model(torch.tensor([x], dtype=torch.float64))
    assert out.item() == pytest.approx(math.tanh(sum(math.tanh(v) for v in x)), abs=1e-12)


@pytest.mark.parametrize("cls", [VanillaRNN, LSTM])
def test_gradients_reach_every_parameter(cls: type[nn.Module]) -> None:
    torch.manual_seed(0)
    model = cls(4, 3, 5, 2)
    out = model(torch.randn(6, 4, 3))
    nn.functional.cross_entropy(out, torch.tensor([0, 1, 0, 1, 1, 0])).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert p.grad.abs().sum() > 0, name


def test_lstm_matches_torch_lstm_layer_with_copied_weights() -> None:
    """The handout's LSTM equals nn.LSTM (the layer behind lstm-mnist and tweet-sentiment)."""
    torch.manual_seed(0)
    d, n, k, t = 3, 4, 2, 5
    ours = LSTM(t, d, n, k).double()
    ref = LSTMClassifier(d, n, k).double()
    with torch.no_grad():
        for j, gate in enumerate("ifgo"):  # nn.LSTM stacks its gates as (i, f, g, o)
            rows = slice(j * n, (j + 1) * n)
            ref.lstm.weight_ih_l0[rows] = getattr(ours, f"W_{gate}x")
            ref.lstm.weight_hh_l0[rows] = getattr(ours, f"W_{gate}h")
            ref.lstm.bias_ih_l0[rows] = getattr(ours, f"b_{gate}")
        ref.lstm.bias_hh_l0.zero_()
        ref.head.weight.copy_(ours.W_ph)
        ref.head.bias.copy_(ours.b_p)
    x = torch.randn(7, t, d, dtype=torch.float64, requires_grad=True)
    out, out_ref = ours(x), ref(x)
    torch.testing.assert_close(out, out_ref)
    (g,) = torch.autograd.grad(out.square().sum(), x)
    (g_ref,) = torch.autograd.grad(out_ref.square().sum(), x)
    torch.testing.assert_close(g, g_ref)


@pytest.mark.parametrize("padding", ["gather", "pack"])
def test_padding_does_not_reach_the_final_state(padding: str) -> None:
    torch.manual_seed(0)
    model = LSTMClassifier(3, 4, 2, padding=padding).double()
    lengths = torch.tensor([5, 2, 3])
    x = torch.randn(3, 5, 3, dtype=torch.float64)
    alone = torch.cat([model(x[i:i + 1, :int(n)]) for i, n in enumerate(lengths)])
    torch.testing.assert_close(model(x, lengths), alone)
    garbage = x.clone()
    garbage[1, 2:] = 1e3  # change only the padding
    garbage[2, 3:] = -7.0
    torch.testing.assert_close(model(garbage, lengths), alone)
