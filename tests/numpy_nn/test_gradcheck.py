"""Every module, loss and model passes the finite-difference check; the checker can fail."""

from __future__ import annotations

import numpy as np
import pytest

from practica.numpy_nn import (
    Linear,
    Tanh,
    check_all,
    check_module,
    format_table,
    numerical_gradient,
    relative_error,
)
from practica.numpy_nn.gradcheck import DEFAULT_TOL, GradCheckResult

EXPECTED_ROWS = [
    "Linear", "ReLU", "LeakyReLU", "ELU", "Tanh", "Softmax", "Flatten", "Dropout",
    "LayerNorm", "BatchNorm1d (train)", "BatchNorm1d (eval)", "BatchNorm2d (train)",
    "Conv2d", "Conv2d (stride 2, pad 1)", "MaxPool2d (2x2)", "MaxPool2d (3x3, stride 2)",
    "CrossEntropy", "SoftmaxCrossEntropy",
    "MLP (elu) + SoftmaxCrossEntropy", "MLP (tanh) + SoftmaxCrossEntropy",
    "SoftmaxClassifier + SoftmaxCrossEntropy", "ConvNet + SoftmaxCrossEntropy",
    "MLP + Softmax + CrossEntropy",
]


@pytest.fixture(scope="module")
def rows() -> dict[str, GradCheckResult]:
    return {r.name: r for r in check_all()}


def test_check_all_covers_every_module_and_model(rows: dict[str, GradCheckResult]) -> None:
    assert list(rows) == EXPECTED_ROWS


@pytest.mark.parametrize("name", EXPECTED_ROWS)
def test_gradient_below_tolerance(rows: dict[str, GradCheckResult], name: str) -> None:
    row = rows[name]
    assert row.max_rel_error < DEFAULT_TOL == 1e-6
    assert row.passed


def test_check_all_is_robust_to_the_seed() -> None:
    for seed in (1, 2):
        failed = [(r.name, r.max_rel_error) for r in check_all(seed=seed) if not r.passed]
        assert failed == []


class _BrokenTanh(Tanh):
    """Backward forgets the square: dX = dY (1 − Y) instead of dY (1 − Y²)."""

    def _backward(self, g: np.ndarray) -> np.ndarray:
        return g * (1.0 - self._cache)


class _BrokenLinear(Linear):
    """Bias gradient off by a factor 1.001 - a subtle bug the checker must still catch."""

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        dx = super().backward(dout)
        self._grads["bias"] *= 1.001
        return dx


def test_checker_detects_wrong_gradients() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    assert check_module(Tanh(), x)["input"] < 1e-6
    assert check_module(_BrokenTanh(), x)["input"] > 1e-2
    lin = _BrokenLinear(4, 2, init="kaiming", rng=0)
    errors = check_module(lin, x)
    assert errors["input"] < 1e-6 and errors["weight"] < 1e-6
    assert errors["bias"] > 1e-4


def test_relative_error_and_numerical_gradient_basics() -> None:
    a = np.array([1.0, -2.0, 0.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(np.array([1.0]), np.array([-1.0])) == 1.0
    assert relative_error(np.array([2.0]), np.array([1.0])) == pytest.approx(1 / 3)
    x = np.array([[0.5, -1.0], [2.0, 3.0]])
    g = numerical_gradient(lambda: float(np.sum(x**3)), x)
    np.testing.assert_allclose(g, 3 * x**2, rtol=1e-9)
    np.testing.assert_array_equal(x, [[0.5, -1.0], [2.0, 3.0]])  # restored


def test_format_table_lists_rows(rows: dict[str, GradCheckResult]) -> None:
    table = format_table(list(rows.values()))
    assert "ConvNet + SoftmaxCrossEntropy" in table and "FAIL" not in table
    assert "tolerance: 1e-06" in table
    bad = format_table([GradCheckResult("x", 1.0, False)])
    assert "FAIL" in bad
