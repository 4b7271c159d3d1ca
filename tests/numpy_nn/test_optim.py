"""Optimisers: exact hand-computed steps, agreement with torch.optim, state round-trip."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from practica.numpy_nn import SGD, Adam, ExponentialLR, Momentum, RMSProp, StepLR


def _step(opt, p: list[float], g: list[float]) -> np.ndarray:
    params = {"w": np.array(p, dtype=np.float64)}
    opt.step(params, {"w": np.array(g, dtype=np.float64)})
    return params["w"]


def test_sgd_exact_step_and_weight_decay() -> None:
    np.testing.assert_allclose(_step(SGD(lr=0.1), [1.0, 2.0], [0.5, -1.0]), [0.95, 2.1])
    # g ← g + λθ = (0.5 + 0.1, −1 + 0.2)
    np.testing.assert_allclose(_step(SGD(lr=0.1, weight_decay=0.1), [1.0, 2.0], [0.5, -1.0]),
                               [0.94, 2.08])


def test_momentum_two_steps_by_hand() -> None:
    opt = Momentum(lr=0.1, momentum=0.9)
    params, grads = {"w": np.array([1.0])}, {"w": np.array([1.0])}
    opt.step(params, grads)  # v = 1, w = 1 − 0.1
    np.testing.assert_allclose(params["w"], [0.9])
    opt.step(params, grads)  # v = 0.9 + 1 = 1.9, w = 0.9 − 0.19
    np.testing.assert_allclose(params["w"], [0.71])
    nes = SGD(lr=0.1, momentum=0.9, nesterov=True)
    np.testing.assert_allclose(_step(nes, [1.0], [1.0]), [1.0 - 0.1 * 1.9])


def test_rmsprop_one_step_by_hand() -> None:
    w = _step(RMSProp(lr=0.01, alpha=0.9, eps=1e-8), [1.0], [2.0])
    # v = 0.1 · 4 = 0.4, w = 1 − 0.01 · 2 / (sqrt(0.4) + 1e-8)
    np.testing.assert_allclose(w, [1.0 - 0.02 / (math.sqrt(0.4) + 1e-8)], rtol=1e-15)


def test_adam_one_and_two_steps_by_hand() -> None:
    opt = Adam(lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    params = {"w": np.array([1.0, -1.0])}
    g1, g2 = np.array([0.5, -2.0]), np.array([1.0, 1.0])
    opt.step(params, {"w": g1})
    # m̂ = g, v̂ = g²: the first step is −lr · g / (|g| + ε) ≈ −lr · sign(g)
    expected = np.array([1.0, -1.0]) - 0.1 * g1 / (np.abs(g1) + 1e-8)
    np.testing.assert_allclose(params["w"], expected, rtol=1e-15)
    opt.step(params, {"w": g2})
    m = 0.9 * 0.1 * g1 + 0.1 * g2
    v = 0.999 * 0.001 * g1**2 + 0.001 * g2**2
    m_hat, v_hat = m / (1 - 0.9**2), v / (1 - 0.999**2)
    expected = expected - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8)
    np.testing.assert_allclose(params["w"], expected, rtol=1e-14)


def test_learning_rate_schedules() -> None:
    sched = StepLR(step_size=2, gamma=0.5)
    assert [sched.factor(t) for t in range(5)] == [1, 1, 0.5, 0.5, 0.25]
    opt = SGD(lr=1.0, schedule=ExponentialLR(0.9))
    params, grads = {"w": np.array([0.0])}, {"w": np.array([1.0])}
    for _ in range(3):
        opt.step(params, grads)
    np.testing.assert_allclose(params["w"], [-(1 + 0.9 + 0.81)])
    assert opt.lr == pytest.approx(0.729)


TORCH_CASES = [
    (lambda: SGD(lr=0.1, weight_decay=0.01),
     lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.01)),
    (lambda: SGD(lr=0.05, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    (lambda: SGD(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    (lambda: RMSProp(lr=0.01, alpha=0.95, weight_decay=0.05),
     lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.95, eps=1e-8, weight_decay=0.05)),
    (lambda: Adam(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1),
     lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
]


@pytest.mark.parametrize(("ours", "theirs"), TORCH_CASES, ids=["sgd", "momentum", "nesterov",
                                                               "rmsprop", "adam"])
def test_optimisers_match_torch_over_several_steps(ours, theirs) -> None:
    rng = np.random.default_rng(0)
    params = {"a": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
    t_params = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    opt, t_opt = ours(), theirs(list(t_params.values()))
    for _ in range(6):
        grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
        grads_before = {k: v.copy() for k, v in grads.items()}
        opt.step(params, grads)
        for k, tp in t_params.items():
            tp.grad = torch.tensor(grads[k])
        t_opt.step()
        for k in grads:
            np.testing.assert_array_equal(grads[k], grads_before[k])  # grads untouched
    for k, v in params.items():
        np.testing.assert_allclose(v, t_params[k].detach().numpy(), rtol=1e-12, atol=1e-14)


def test_state_dict_round_trip_continues_identically_and_keeps_dtype() -> None:
    rng = np.random.default_rng(1)
    p1 = {"w": rng.standard_normal(5).astype(np.float32)}
    opt1 = Adam(lr=0.01)
    grads = [{"w": rng.standard_normal(5).astype(np.float32)} for _ in range(6)]
    for g in grads[:3]:
        opt1.step(p1, g)
    p2, opt2 = {"w": p1["w"].copy()}, Adam(lr=0.01)
    opt2.load_state_dict(opt1.state_dict())
    for g in grads[3:]:
        opt1.step(p1, g)
        opt2.step(p2, g)
    np.testing.assert_array_equal(p1["w"], p2["w"])
    assert p1["w"].dtype == np.float32 and opt1.state["w"]["m"].dtype == np.float32


def test_step_validates_keys_and_shapes() -> None:
    with pytest.raises(KeyError, match="different keys"):
        SGD().step({"a": np.zeros(2)}, {"b": np.zeros(2)})
    with pytest.raises(ValueError, match="grad of 'a' has shape"):
        SGD().step({"a": np.zeros(2)}, {"a": np.zeros(3)})
    with pytest.raises(ValueError, match="nesterov requires momentum"):
        SGD(nesterov=True)
