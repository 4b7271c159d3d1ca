"""Tests for practica.models.rnn (CVbL 2019, §3)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from practica.models import LSTM, VanillaRNN, lstm_parameter_count

N, T, D, H, K = 3, 6, 4, 5, 7


def _n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("cls", [VanillaRNN, LSTM])
def test_output_shapes_for_each_input_form(cls: type[nn.Module]) -> None:
    digits = torch.randint(0, 10, (N, T)).float()
    assert cls(T, 1, H, 10)(digits).shape == (N, 10)  # raw digit values
    assert cls(T, 10, H, 10)(digits).shape == (N, 10)  # one-hot digits
    assert cls(T, D, H, K)(torch.randn(N, T, D)).shape == (N, K)  # feature vectors


@pytest.mark.parametrize("cls", [VanillaRNN, LSTM])
def test_built_from_parameters_only(cls: type[nn.Module]) -> None:
    model = cls(T, D, H, K)
    assert list(model.children()) == []  # no nn.Linear / nn.RNN / nn.LSTM / nn.RNNCell
    assert all(isinstance(p, nn.Parameter) for p in model.parameters())


@pytest.mark.parametrize("cls", [VanillaRNN, LSTM])
def test_init_is_uniform_in_inverse_sqrt_hidden(cls: type[nn.Module]) -> None:
    torch.manual_seed(0)
    n = 64
    bound = 1.0 / math.sqrt(n)
    for name, p in cls(T, D, n, K).named_parameters():
        assert p.abs().max() <= bound, name
        assert p.abs().max() > 0.5 * bound, name  # actually spread over the interval


def test_vanilla_rnn_parameter_names_and_count() -> None:
    model = VanillaRNN(T, D, H, K)
    shapes = {n: tuple(p.shape) for n, p in model.named_parameters()}
    assert shapes == {"W_hx": (H, D), "W_hh": (H, H), "b_h": (H,), "W_ph": (K, H), "b_p": (K,)}
    assert _n_params(model) == H * D + H * H + H + K * H + K


@pytest.mark.parametrize(("d", "n", "k"), [(1, 128, 10), (10, 5, 10), (4, 5, 7), (3, 1, 2)])
def test_lstm_parameter_count_formula(d: int, n: int, k: int) -> None:
    assert lstm_parameter_count(d, n, k) == 4 * (n * d + n * n + n) + (k * n + k)
    assert _n_params(LSTM(T, d, n, k)) == lstm_parameter_count(d, n, k)


def test_lstm_parameter_count_known_value() -> None:
    # d=1, n=128, k=10: 4·(128 + 16384 + 128) + (1280 + 10)
    assert lstm_parameter_count(1, 128, 10) == 67_850


def test_lstm_parameter_names() -> None:
    names = {n for n, _ in LSTM(T, D, H, K).named_parameters()}
    expected = {f"{w}_{g}{s}" for g in "gifo" for w, s in (("W", "x"), ("W", "h"))}
    expected |= {f"b_{g}" for g in "gifo"} | {"W_ph", "b_p"}
    assert names == expected


def test_vanilla_rnn_single_step_equations() -> None:
    model = VanillaRNN(1, D, H, K).double()
    x = torch.randn(N, 1, D, dtype=torch.float64)
    h1 = torch.tanh(x[:, 0] @ model.W_hx.T + model.b_h)  # h(0) = 0 drops W_hh h(0)
    torch.testing.assert_close(model(x), h1 @ model.W_ph.T + model.b_p)


def test_vanilla_rnn_matches_torch_rnn() -> None:
    torch.manual_seed(0)
    model = VanillaRNN(T, D, H, K).double()
    ref = nn.RNN(D, H, nonlinearity="tanh", batch_first=True).double()
    with torch.no_grad():
        ref.weight_ih_l0.copy_(model.W_hx)
        ref.weight_hh_l0.copy_(model.W_hh)
        ref.bias_ih_l0.copy_(model.b_h)
        ref.bias_hh_l0.zero_()
    x = torch.randn(N, T, D, dtype=torch.float64, requires_grad=True)
    out = model(x)
    _, h_t = ref(x)
    expected = h_t[0] @ model.W_ph.T + model.b_p
    torch.testing.assert_close(out, expected)
    (gx,) = torch.autograd.grad(out.sum(), x)
    (gx_ref,) = torch.autograd.grad(expected.sum(), x)
    torch.testing.assert_close(gx, gx_ref)


def _lstm_and_cell() -> tuple[LSTM, nn.LSTMCell]:
    """An LSTM and an nn.LSTMCell with the same weights (LSTMCell gate order: i, f, g, o)."""
    torch.manual_seed(0)
    model = LSTM(T, D, H, K).double()
    cell = nn.LSTMCell(D, H).double()
    with torch.no_grad():
        for j, gate in enumerate("ifgo"):
            rows = slice(j * H, (j + 1) * H)
            cell.weight_ih[rows] = getattr(model, f"W_{gate}x")
            cell.weight_hh[rows] = getattr(model, f"W_{gate}h")
            cell.bias_ih[rows] = getattr(model, f"b_{gate}")
        cell.bias_hh.zero_()
    return model, cell


def test_lstm_step_matches_lstm_cell() -> None:
    model, cell = _lstm_and_cell()
    x = torch.randn(N, T, D, dtype=torch.float64)
    h = torch.zeros(N, H, dtype=torch.float64)
    c = torch.zeros_like(h)
    h_ref, c_ref = h.clone(), c.clone()
    for t in range(T):
        h, c = model.step(x[:, t], h, c)
        h_ref, c_ref = cell(x[:, t], (h_ref, c_ref))
        torch.testing.assert_close(h, h_ref)
        torch.testing.assert_close(c, c_ref)
    assert not torch.allclose(c, torch.zeros_like(c))


def test_lstm_forward_and_gradients_match_lstm_cell_unroll() -> None:
    model, cell = _lstm_and_cell()
    x = torch.randn(N, T, D, dtype=torch.float64, requires_grad=True)
    out = model(x)
    h = torch.zeros(N, H, dtype=torch.float64)
    c = torch.zeros_like(h)
    for t in range(T):
        h, c = cell(x[:, t], (h, c))
    expected = h @ model.W_ph.T + model.b_p
    torch.testing.assert_close(out, expected)
    (gx,) = torch.autograd.grad(out.pow(2).sum(), x)
    (gx_ref,) = torch.autograd.grad(expected.pow(2).sum(), x)
    torch.testing.assert_close(gx, gx_ref)


@pytest.mark.parametrize("cls", [VanillaRNN, LSTM])
def test_digit_inputs_are_one_hot_or_raw(cls: type[nn.Module]) -> None:
    torch.manual_seed(0)
    digits = torch.randint(0, 10, (N, T))
    one_hot_model = cls(T, 10, H, K)
    explicit = nn.functional.one_hot(digits, 10).float()
    torch.testing.assert_close(one_hot_model(digits), one_hot_model(explicit))
    torch.testing.assert_close(one_hot_model(digits.float()), one_hot_model(explicit))

    raw_model = cls(T, 1, H, K)
    torch.testing.assert_close(raw_model(digits), raw_model(digits.float().unsqueeze(-1)))


@pytest.mark.parametrize("cls", [VanillaRNN, LSTM])
@pytest.mark.parametrize(
    ("x", "message"),
    [
        (torch.randn(N, T + 1, D), "seq_length"),
        (torch.randn(N, T, D + 1), "input_dim"),
        (torch.randn(N, T, D, 1), "expected input of shape"),
        (torch.randn(N), "expected input of shape"),
    ],
)
def test_invalid_inputs_raise(cls: type[nn.Module], x: torch.Tensor, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cls(T, D, H, K)(x)


@pytest.mark.parametrize("cls", [VanillaRNN, LSTM])
def test_invalid_digits_raise(cls: type[nn.Module]) -> None:
    model = cls(T, 10, H, K)
    with pytest.raises(ValueError, match="integer-valued"):
        model(torch.full((N, T), 2.5))
    with pytest.raises(ValueError, match="digits must lie"):
        model(torch.full((N, T), 10))


def _palindrome_batch(batch: int, length: int, gen: torch.Generator):
    """First ``length − 1`` digits of random palindromes, and the last digit as the target."""
    half = torch.randint(0, 10, (batch, (length + 1) // 2), generator=gen)
    full = torch.cat([half, half[:, : length // 2].flip(1)], dim=1)
    assert torch.equal(full, full.flip(1))
    return full[:, :-1], full[:, -1]


def _train_on_palindromes(model: nn.Module, length: int, steps: int) -> float:
    """Train with RMSprop (as in the course's train.py) and return accuracy on fresh data."""
    gen = torch.Generator().manual_seed(0)
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-2)
    for _ in range(steps):
        x, y = _palindrome_batch(64, length, gen)
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    x, y = _palindrome_batch(1000, length, gen)
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()


@pytest.mark.parametrize("cls", [VanillaRNN, LSTM])
def test_fits_short_palindromes_one_hot(cls: type[nn.Module]) -> None:
    torch.manual_seed(0)
    length = 5
    accuracy = _train_on_palindromes(cls(length - 1, 10, 32, 10), length, steps=200)
    assert accuracy > 0.95, accuracy  # chance is 0.1


def test_rnn_learns_palindromes_from_raw_digit_values() -> None:
    torch.manual_seed(0)
    length = 5
    accuracy = _train_on_palindromes(VanillaRNN(length - 1, 1, 32, 10), length, steps=300)
    assert accuracy > 0.4, accuracy  # chance is 0.1; a scalar input is harder to decode


def test_the_fused_lstm_forward_equals_the_loop_over_step_and_its_gradients():
    torch.manual_seed(0)
    model = LSTM(9, 10, 16, 10, forget_bias=1.0).double()
    x = torch.randint(0, 10, (5, 9))
    plain = model(x)
    grads = torch.autograd.grad(plain.sum(), list(model.parameters()))
    model.fused = True
    fused = model(x)
    assert torch.allclose(fused, plain, atol=1e-12)
    for a, b in zip(torch.autograd.grad(fused.sum(), list(model.parameters())), grads,
                    strict=True):
        assert torch.allclose(a, b, atol=1e-12)
