"""CrossEntropy (probabilities, one-hot) and fused SoftmaxCrossEntropy (integer labels)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from practica.numpy_nn import CrossEntropy, Softmax, SoftmaxCrossEntropy, one_hot


def test_cross_entropy_exact_value_and_gradient() -> None:
    ce = CrossEntropy(dtype=np.float64)
    x = np.array([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1]])
    t = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert ce.forward(x, t) == pytest.approx(-(math.log(0.5) + math.log(0.8)) / 2, rel=1e-15)
    np.testing.assert_allclose(ce.backward(), [[-1.0, 0, 0], [0, -0.625, 0]], rtol=1e-15)
    np.testing.assert_allclose(ce.backward(2.0), [[-2.0, 0, 0], [0, -1.25, 0]], rtol=1e-15)


def test_cross_entropy_clips_zero_probabilities_and_accepts_labels() -> None:
    ce = CrossEntropy(eps=1e-7, dtype=np.float64)
    x = np.array([[0.0, 1.0], [1.0, 0.0]])
    loss = ce.forward(x, np.array([0, 0]))
    assert loss == pytest.approx(-math.log(1e-7) / 2)
    assert np.all(np.isfinite(ce.backward()))
    assert ce.forward(x, one_hot(np.array([1, 0]), 2)) == pytest.approx(0.0, abs=1e-12)


def test_cross_entropy_at_probability_one_agrees_with_central_differences() -> None:
    """No upper clip: at X = 1 both sides of the loss move, so the finite difference reads
    the true gradient −1/S (with a clip at 1 it read half of it)."""
    ce = CrossEntropy(dtype=np.float64)
    x, t = np.array([[1.0]]), np.array([[1.0]])
    ce.forward(x, t)
    analytic = ce.backward()[0, 0]
    h = 1e-6
    numeric = (ce.forward(x + h, t) - ce.forward(x - h, t)) / (2 * h)
    assert analytic == pytest.approx(-1.0) and numeric == pytest.approx(analytic, rel=1e-6)


def test_softmax_cross_entropy_exact_cases() -> None:
    sce = SoftmaxCrossEntropy(dtype=np.float64)
    assert sce.forward(np.zeros((2, 4)), np.array([0, 3])) == pytest.approx(math.log(4))
    np.testing.assert_allclose(sce.backward(), [[-0.375, 0.125, 0.125, 0.125],
                                                [0.125, 0.125, 0.125, -0.375]])
    s = np.array([[0.0, math.log(2), math.log(3)]])  # softmax = (1/6, 2/6, 3/6)
    assert sce.forward(s, np.array([2])) == pytest.approx(-math.log(0.5), rel=1e-15)
    np.testing.assert_allclose(sce.backward(), [[1 / 6, 1 / 3, -0.5]], rtol=1e-14)


def test_softmax_cross_entropy_is_stable_for_huge_logits() -> None:
    sce = SoftmaxCrossEntropy()  # float32
    s = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4 - 2.0]], dtype=np.float32)
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow is fine
        loss = sce.forward(s, np.array([1, 2]))
        d = sce.backward()
    # Row 1: log p_1 = −1e4; row 2: log p_2 = −2 − log(1 + e⁻²).
    assert loss == pytest.approx((1e4 + 2 + math.log1p(math.exp(-2))) / 2, rel=1e-6)
    assert d.dtype == np.float32 and np.all(np.isfinite(d))


def test_softmax_cross_entropy_matches_torch_and_the_unfused_chain() -> None:
    rng = np.random.default_rng(0)
    s, y = 3 * rng.standard_normal((7, 5)), rng.integers(0, 5, size=7)
    sce = SoftmaxCrossEntropy(dtype=np.float64)
    loss, ds = sce.forward(s, y), sce.backward()
    st = torch.tensor(s, requires_grad=True)
    lt = F.cross_entropy(st, torch.tensor(y))
    lt.backward()
    assert loss == pytest.approx(lt.item(), rel=1e-13)
    np.testing.assert_allclose(ds, st.grad.numpy(), atol=1e-15)
    sm, ce = Softmax(dtype=np.float64), CrossEntropy(dtype=np.float64)
    assert ce.forward(sm.forward(s), one_hot(y, 5)) == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(sm.backward(ce.backward()), ds, atol=1e-15)


def test_losses_reject_bad_inputs() -> None:
    sce = SoftmaxCrossEntropy()
    with pytest.raises(ValueError, match=r"expected labels of shape \(2,\), got \(3,\)"):
        sce.forward(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        sce.forward(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="labels must be integers"):
        sce.forward(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"SoftmaxCrossEntropy: expected scores of shape"):
        sce.forward(np.zeros(3), np.array([0]))
    with pytest.raises(ValueError, match=r"CrossEntropy: expected target of shape \(2, 3\), "
                                         r"got \(2, 4\)"):
        CrossEntropy().forward(np.full((2, 3), 1 / 3), np.zeros((2, 4)))
    with pytest.raises(RuntimeError, match="before forward"):
        SoftmaxCrossEntropy().backward()
