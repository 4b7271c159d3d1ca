"""Linear, activations, Flatten, Dropout, LayerNorm, BatchNorm, Sequential, Module state."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from practica.numpy_nn import (
    ELU,
    BatchNorm1d,
    BatchNorm2d,
    Dropout,
    Flatten,
    LayerNorm,
    LeakyReLU,
    Linear,
    ReLU,
    Sequential,
    Softmax,
    Tanh,
    init_std,
)

# --------------------------------------------------------------------------- Linear


def _linear_3x2() -> Linear:
    lin = Linear(2, 3, dtype=np.float64)
    lin.params["weight"][...] = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    lin.params["bias"][...] = [1.0, 0.0, -1.0]
    return lin


def test_linear_forward_exact() -> None:
    y = _linear_3x2().forward(np.array([[1.0, 1.0], [0.0, 2.0]]))
    np.testing.assert_array_equal(y, [[4.0, 7.0, 10.0], [5.0, 8.0, 11.0]])


def test_linear_backward_exact() -> None:
    lin = _linear_3x2()
    lin.forward(np.array([[1.0, 1.0], [0.0, 2.0]]))
    dx = lin.backward(np.ones((2, 3)))
    np.testing.assert_array_equal(lin.grads["weight"], [[1.0, 3.0]] * 3)  # doutᵀ X
    np.testing.assert_array_equal(lin.grads["bias"], [2.0, 2.0, 2.0])  # column sums
    np.testing.assert_array_equal(dx, [[9.0, 12.0], [9.0, 12.0]])  # dout W


def test_linear_default_init_is_normal_with_std_1e_minus_4() -> None:
    lin = Linear(500, 400, rng=0)
    w = lin.params["weight"]
    assert w.shape == (400, 500) and w.dtype == np.float32
    assert abs(w.mean()) < 1e-6
    assert w.std() == pytest.approx(1e-4, rel=0.01)
    np.testing.assert_array_equal(lin.params["bias"], np.zeros(400))


@pytest.mark.parametrize(
    ("init", "expected"),
    [("kaiming", math.sqrt(2 / 500)), ("xavier", math.sqrt(2 / 900)), (0.05, 0.05)],
)
def test_linear_selectable_inits(init: str | float, expected: float) -> None:
    w = Linear(500, 400, init=init, rng=1).params["weight"]
    assert w.std() == pytest.approx(expected, rel=0.01)
    assert init_std(init, 500, 400) == pytest.approx(expected)


def test_unknown_init_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown init 'he'"):
        Linear(3, 2, init="he")


def test_linear_rejects_bad_shapes_naming_module_and_shapes() -> None:
    lin = Linear(4, 2)
    with pytest.raises(ValueError, match=r"^Linear: expected input of shape \(N, 4\), "
                                         r"got \(3, 5\)$"):
        lin.forward(np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"Linear: expected input of shape \(N, 4\), got \(4,\)"):
        lin.forward(np.zeros(4))
    lin.forward(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"Linear.backward: expected gradient of shape "
                                         r"\(3, 2\), got \(2, 3\)"):
        lin.backward(np.zeros((2, 3)))


def test_linear_keeps_float32_and_float64() -> None:
    x = np.ones((2, 3))
    assert Linear(3, 2).forward(x).dtype == np.float32
    lin = Linear(3, 2, dtype=np.float64)
    assert lin.forward(x.astype(np.float32)).dtype == np.float64
    assert lin.backward(np.ones((2, 2))).dtype == np.float64


# --------------------------------------------------------------------------- activations


def test_relu_and_leaky_relu_values() -> None:
    x = np.array([[-2.0, -0.5, 0.0, 3.0]])
    np.testing.assert_array_equal(ReLU(dtype=np.float64).forward(x), [[0.0, 0.0, 0.0, 3.0]])
    leaky = LeakyReLU(0.1, dtype=np.float64)
    np.testing.assert_allclose(leaky.forward(x), [[-0.2, -0.05, 0.0, 3.0]])
    np.testing.assert_allclose(leaky.backward(np.ones((1, 4))), [[0.1, 0.1, 0.1, 1.0]])
    relu = ReLU(dtype=np.float64)
    relu.forward(x)
    np.testing.assert_array_equal(relu.backward(np.full((1, 4), 2.0)), [[0, 0, 0, 2.0]])


def test_elu_values_and_derivative() -> None:
    elu = ELU(dtype=np.float64)
    x = np.array([[-2.0, -1.0, 0.0, 1.0, 1000.0, -1000.0]])
    with np.errstate(all="raise"):  # no overflow for large |x|
        y = elu.forward(x)
    expected = [math.exp(-2) - 1, math.exp(-1) - 1, 0.0, 1.0, 1000.0, -1.0]
    np.testing.assert_allclose(y, [expected], rtol=1e-15)
    dx = elu.backward(np.ones_like(x))
    np.testing.assert_allclose(dx, [[math.exp(-2), math.exp(-1), 1.0, 1.0, 1.0, 0.0]],
                               rtol=1e-15)


def test_tanh_values_and_derivative() -> None:
    t = Tanh(dtype=np.float64)
    x = np.array([[0.0, 0.5, -2.0]])
    np.testing.assert_allclose(t.forward(x), np.tanh(x))
    np.testing.assert_allclose(t.backward(np.ones((1, 3))), 1 - np.tanh(x) ** 2)


def test_softmax_known_values_and_stability() -> None:
    sm = Softmax(dtype=np.float64)
    y = sm.forward(np.array([[0.0, math.log(2), math.log(3)], [1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(y[0], [1 / 6, 2 / 6, 3 / 6], rtol=1e-15)
    np.testing.assert_allclose(y[1], [0.09003057317038046, 0.24472847105479767,
                                      0.6652409557748219], rtol=1e-14)
    big = sm.forward(np.array([[1000.0, 1001.0, 1002.0]]))
    np.testing.assert_allclose(big[0], y[1], rtol=1e-14)


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, (3, 4), elements=st.floats(-50, 50)))
def test_softmax_rows_are_distributions_and_backward_sums_to_zero(x: np.ndarray) -> None:
    sm = Softmax(dtype=np.float64)
    y = sm.forward(x)
    assert np.all(y >= 0)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-12)
    dx = sm.backward(np.arange(12.0).reshape(3, 4))
    np.testing.assert_allclose(dx.sum(axis=1), 0.0, atol=1e-9)  # softmax is shift-invariant


# --------------------------------------------------------------------------- Flatten, Dropout


def test_flatten_round_trip_and_shape_error() -> None:
    fl = Flatten(dtype=np.float64)
    x = np.arange(24.0).reshape(2, 3, 2, 2)
    y = fl.forward(x)
    assert y.shape == (2, 12)
    np.testing.assert_array_equal(fl.backward(y), x)
    with pytest.raises(ValueError, match="Flatten"):
        fl.forward(np.zeros(3))


def test_dropout_is_inverted_reproducible_and_identity_in_eval() -> None:
    x = np.ones((200, 50))
    d1, d2 = Dropout(0.3, rng=7, dtype=np.float64), Dropout(0.3, rng=7, dtype=np.float64)
    y1, y2 = d1.forward(x), d2.forward(x)
    np.testing.assert_array_equal(y1, y2)  # same seed, same mask
    kept = y1 != 0
    np.testing.assert_allclose(y1[kept], 1 / 0.7)
    assert abs(1 - kept.mean() - 0.3) < 0.02
    assert abs(y1.mean() - 1.0) < 0.05  # E[y] = x
    dx = d1.backward(np.full_like(x, 2.0))
    np.testing.assert_allclose(dx, 2.0 * y1)  # same mask in backward
    assert not np.array_equal(d1.forward(x), y1)  # a new mask each call
    d1.eval()
    np.testing.assert_array_equal(d1.forward(x), x)
    np.testing.assert_array_equal(d1.backward(x), x)


def test_dropout_rejects_bad_probability() -> None:
    with pytest.raises(ValueError, match=r"Dropout: p must be in \[0, 1\)"):
        Dropout(1.0)


# --------------------------------------------------------------------------- normalisation


def test_layernorm_exact_forward() -> None:
    ln = LayerNorm(3, eps=0.0, dtype=np.float64)
    ln.params["gamma"][...] = [1.0, 2.0, 3.0]
    ln.params["beta"][...] = [0.0, 1.0, 0.0]
    y = ln.forward(np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]]))
    s = math.sqrt(1.5)  # mean 2, biased var 2/3 -> x̂ = (−1, 0, 1)·sqrt(3/2)
    np.testing.assert_allclose(y, [[-s, 1.0, 3 * s], [-s, 1.0, 3 * s]], rtol=1e-15)


def test_layernorm_matches_torch_forward_and_backward() -> None:
    rng = np.random.default_rng(0)
    ln = LayerNorm(6, dtype=np.float64)
    ln.params["gamma"][...] = rng.standard_normal(6)
    ln.params["beta"][...] = rng.standard_normal(6)
    x, dout = rng.standard_normal((2, 4, 6)), rng.standard_normal((2, 4, 6))
    y = ln.forward(x)
    dx = ln.backward(dout)
    xt = torch.tensor(x, requires_grad=True)
    g = torch.tensor(ln.params["gamma"], requires_grad=True)
    b = torch.tensor(ln.params["beta"], requires_grad=True)
    yt = F.layer_norm(xt, (6,), g, b, eps=1e-5)
    yt.backward(torch.tensor(dout))
    np.testing.assert_allclose(y, yt.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(ln.grads["gamma"], g.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(ln.grads["beta"], b.grad.numpy(), atol=1e-12)
    with pytest.raises(ValueError, match=r"LayerNorm: expected input of shape \(\.\.\., 6\)"):
        ln.forward(np.zeros((2, 5)))


@pytest.mark.parametrize("spatial", [False, True])
def test_batchnorm_matches_torch_train_eval_and_running_stats(spatial: bool) -> None:
    rng = np.random.default_rng(1)
    shape = (5, 3, 4, 2) if spatial else (6, 3)
    bn = (BatchNorm2d if spatial else BatchNorm1d)(3, momentum=0.2, dtype=np.float64)
    bn.params["gamma"][...] = rng.standard_normal(3)
    bn.params["beta"][...] = rng.standard_normal(3)
    tbn = (torch.nn.BatchNorm2d if spatial else torch.nn.BatchNorm1d)(3, momentum=0.2).double()
    with torch.no_grad():
        tbn.weight.copy_(torch.tensor(bn.params["gamma"]))
        tbn.bias.copy_(torch.tensor(bn.params["beta"]))
    for _ in range(3):  # train steps update the running statistics
        x, dout = 2 + 3 * rng.standard_normal(shape), rng.standard_normal(shape)
        y = bn.forward(x)
        dx = bn.backward(dout)
        xt = torch.tensor(x, requires_grad=True)
        tbn.zero_grad()
        yt = tbn(xt)
        yt.backward(torch.tensor(dout))
        np.testing.assert_allclose(y, yt.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(bn.grads["gamma"], tbn.weight.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(bn.grads["beta"], tbn.bias.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(bn.buffers["running_mean"], tbn.running_mean.numpy())
    np.testing.assert_allclose(bn.buffers["running_var"], tbn.running_var.numpy())
    bn.eval()
    tbn.eval()
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(bn.forward(x), tbn(torch.tensor(x)).detach().numpy(),
                               atol=1e-12)


def test_batchnorm_shape_errors() -> None:
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected input of shape \(N, 4\), "
                                         r"got \(8, 3\)"):
        BatchNorm1d(4).forward(np.zeros((8, 3)))
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected input of shape "
                                         r"\(N, 4, H, W\), got \(8, 4\)"):
        BatchNorm2d(4).forward(np.zeros((8, 4)))
    with pytest.raises(ValueError, match="more than one value per feature"):
        BatchNorm1d(4).forward(np.zeros((1, 4)))
    BatchNorm1d(4).eval().forward(np.zeros((1, 4)))  # fine with running statistics


# --------------------------------------------------------------------------- containers, state


def _net(seed: int) -> Sequential:
    return Sequential(
        Linear(4, 5, init="kaiming", rng=seed, dtype=np.float64),
        BatchNorm1d(5, dtype=np.float64),
        ReLU(dtype=np.float64),
        Dropout(0.5, rng=seed, dtype=np.float64),
        Linear(5, 2, init="kaiming", rng=seed + 1, dtype=np.float64),
        names=["fc1", "bn", "relu", "drop", "fc2"],
    )


def test_sequential_exposes_prefixed_params_grads_buffers_with_matching_keys() -> None:
    net = _net(0)
    assert list(net.params) == ["fc1.weight", "fc1.bias", "bn.gamma", "bn.beta",
                                "fc2.weight", "fc2.bias"]
    assert list(net.grads) == list(net.params)
    assert all(net.grads[k].shape == v.shape for k, v in net.params.items())
    assert list(net.buffers) == ["bn.running_mean", "bn.running_var"]
    assert net.num_params() == 4 * 5 + 5 + 5 + 5 + 5 * 2 + 2
    assert net.params["fc1.weight"] is net["fc1"].params["weight"]  # references


def test_sequential_backward_is_reverse_chain_and_can_skip_input_grad() -> None:
    net = _net(0)
    x = np.random.default_rng(0).standard_normal((6, 4))
    y = net.forward(x)
    dx = net.backward(np.ones_like(y))
    assert dx.shape == x.shape
    g_before = {k: v.copy() for k, v in net.grads.items()}
    net.requires_input_grad = False
    net["drop"].rng = np.random.default_rng(0)  # same mask as the first forward
    net.forward(x)
    assert net.backward(np.ones_like(y)) is None
    for k, v in net.grads.items():
        np.testing.assert_allclose(v, g_before[k])
    assert net["fc1"].requires_input_grad  # the flag is restored on the child


def test_train_eval_propagates_and_state_dict_round_trips() -> None:
    net, other = _net(0), _net(5)
    x = np.random.default_rng(1).standard_normal((6, 4))
    net.forward(x)  # updates BN running stats and advances the dropout generator
    state = net.state_dict()
    other.load_state_dict(state)
    np.testing.assert_array_equal(net.forward(x), other.forward(x))  # same mask, params
    net.eval()
    assert not any(m.training for _, m in net.named_modules())
    other.eval()
    np.testing.assert_array_equal(net.forward(x), other.forward(x))
    state["params"]["fc1.weight"][...] = 0  # a copy: the model is unaffected
    assert np.any(net.params["fc1.weight"] != 0)
    bad = net.state_dict()
    bad["params"]["fc2.weight"] = np.zeros((3, 3))
    with pytest.raises(ValueError, match="fc2.weight expected shape"):
        other.load_state_dict(bad)


def test_astype_converts_the_whole_tree() -> None:
    net = _net(0).astype(np.float32)
    assert all(v.dtype == np.float32 for v in net.params.values())
    assert all(v.dtype == np.float32 for v in net.buffers.values())
    assert net.forward(np.ones((3, 4))).dtype == np.float32


def test_relu_propagates_nan_so_divergence_stays_visible() -> None:
    y = ReLU().forward(np.array([[np.nan, -1.0, 2.0]]))
    assert np.isnan(y[0, 0]) and y.dtype == np.float32
