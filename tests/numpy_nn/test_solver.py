"""Solver: learns a tiny XOR problem, is reproducible, checkpoints and resumes exactly."""

from __future__ import annotations

import numpy as np
import pytest

from practica.numpy_nn import (
    MLP,
    SGD,
    Adam,
    BatchNorm1d,
    ConvNet,
    Dropout,
    Linear,
    ReLU,
    Sequential,
    SoftmaxClassifier,
    Solver,
)


def xor_data(seed: int = 0, n_train: int = 256, n_val: int = 128) -> dict[str, np.ndarray]:
    """Four Gaussian blobs at (±1, ±1); the label is XOR of the signs (not linearly
    separable)."""
    rng = np.random.default_rng(seed)

    def make(n: int) -> tuple[np.ndarray, np.ndarray]:
        signs = rng.choice([-1.0, 1.0], size=(n, 2))
        x = signs + 0.25 * rng.standard_normal((n, 2))
        return x.astype(np.float32), (signs[:, 0] != signs[:, 1]).astype(np.int64)

    x_tr, y_tr = make(n_train)
    x_va, y_va = make(n_val)
    return {"X_train": x_tr, "y_train": y_tr, "X_val": x_va, "y_val": y_va}


def _solver(model_seed: int = 0, solver_seed: int = 0, **kw) -> Solver:
    model = SoftmaxClassifier(2, 16, 2, seed=model_seed)
    defaults = {"batch_size": 32, "num_steps": 200, "eval_every": 40, "seed": solver_seed}
    return Solver(model, xor_data(), Adam(lr=0.02), **{**defaults, **kw})


def test_learns_xor() -> None:
    solver = _solver()
    history = solver.train()
    assert solver.step == 200
    assert history["step"] == [40, 80, 120, 160, 200]
    assert history["val_acc"][-1] >= 0.97
    assert history["train_acc"][-1] >= 0.97
    assert history["train_loss"][-1] < 0.15 < history["train_loss"][0]
    assert solver.check_accuracy(solver.X_val, solver.y_val) == history["val_acc"][-1]


def test_same_seed_is_bit_identical_and_different_seed_differs() -> None:
    a, b, c = _solver(), _solver(), _solver(solver_seed=1)
    for s in (a, b, c):
        s.train(steps=60)
    assert a.loss_history == b.loss_history
    for k, v in a.model.params.items():
        np.testing.assert_array_equal(v, b.model.params[k])
    assert a.loss_history != c.loss_history


def _stochastic_model(seed: int) -> Sequential:
    return Sequential(
        Linear(2, 16, init="kaiming", rng=seed),
        BatchNorm1d(16),
        ReLU(),
        Dropout(0.2, rng=seed),
        Linear(16, 2, init="kaiming", rng=seed + 1),
    )


def _plain(value: object) -> bool:
    """Only numpy arrays, Python scalars, strings and nested dicts/lists."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return isinstance(value, np.ndarray | int | float | str | bool)


def test_state_dict_round_trip_gives_identical_continuation() -> None:
    data = xor_data()

    def make(model_seed: int) -> Solver:
        return Solver(_stochastic_model(model_seed), data, Adam(lr=0.01, weight_decay=1e-3),
                      batch_size=24, num_steps=45, eval_every=10, seed=3)

    full = make(0)
    full.train()
    first = make(0)
    first.train(steps=17)  # stop mid-epoch, between evaluations
    state = first.state_dict()
    assert _plain(state)
    first.train(steps=3)  # later training must not alter the exported state
    resumed = make(99)  # different initial weights and dropout generator
    resumed.load_state_dict(state)
    assert resumed.step == 17
    resumed.train()
    assert resumed.loss_history == full.loss_history
    assert resumed.history == full.history
    for k, v in full.model.params.items():
        np.testing.assert_array_equal(v, resumed.model.params[k], err_msg=k)
    for k, v in full.model.buffers.items():
        np.testing.assert_array_equal(v, resumed.model.buffers[k], err_msg=k)
    assert resumed.best_step == full.best_step


def test_keeps_and_restores_best_parameters() -> None:
    solver = _solver(num_steps=120, eval_every=20)
    solver.train()
    best = solver.best_val_acc
    assert best == max(solver.history["val_acc"])
    assert solver.history["step"][solver.history["val_acc"].index(best)] == solver.best_step
    for p in solver.model.params.values():
        p[...] = 0.0  # destroy the model
    solver.restore_best()
    assert solver.check_accuracy(solver.X_val, solver.y_val) == best


class _Bar:
    def __init__(self) -> None:
        self.n, self.closed = 0, 0

    def update(self, n: int = 1) -> None:
        self.n += n

    def close(self) -> None:
        self.closed += 1


def test_callback_and_progress_protocols() -> None:
    calls: list[tuple[int, dict[str, dict[str, float]]]] = []
    bar = _Bar()
    solver = Solver(SoftmaxClassifier(2, 8, 2, seed=0), xor_data(), SGD(lr=0.1), batch_size=64,
                    num_epochs=3, seed=0, callback=lambda s, m: calls.append((s, m)),
                    progress=bar)
    assert solver.iters_per_epoch == 4 and solver.num_steps == 12
    solver.train(steps=5)
    assert bar.n == 5 and bar.closed == 0  # paused, not finished
    solver.train()
    assert bar.n == 12 and bar.closed == 1
    assert [s for s, _ in calls] == [4, 8, 12]  # once per epoch by default
    step, metrics = calls[-1]
    assert set(metrics) == {"train", "val", "optim"}
    assert set(metrics["train"]) == set(metrics["val"]) == {"loss", "accuracy"}
    assert metrics["optim"]["lr"] == 0.1
    assert all(isinstance(v, float) for g in metrics.values() for v in g.values())


def test_invalid_configuration_and_divergence() -> None:
    data = xor_data()
    model = SoftmaxClassifier(2, 4, 2)
    with pytest.raises(ValueError, match="exactly one of num_epochs and num_steps"):
        Solver(model, data, SGD(), num_epochs=1, num_steps=5)
    with pytest.raises(KeyError, match="X_val"):
        Solver(model, {k: v for k, v in data.items() if k != "X_val"}, SGD(), num_steps=1)
    with pytest.raises(ValueError, match="one integer label per sample"):
        Solver(model, {**data, "y_train": data["y_train"][:-1]}, SGD(), num_steps=1)
    bad = {**data, "X_train": np.full_like(data["X_train"], np.nan)}
    with pytest.raises(FloatingPointError, match="loss became nan at step 1"):
        Solver(model, bad, SGD(), num_steps=3).train()


def test_convnet_and_uva_mlp_train_end_to_end_in_float32() -> None:
    """Images whose class is which half (top/bottom) is brighter; both models learn it."""
    rng = np.random.default_rng(0)

    def make(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 2, size=n)
        x = 0.3 * rng.standard_normal((n, 1, 8, 8))
        x[y == 0, :, :4] += 1.0
        x[y == 1, :, 4:] += 1.0
        return x.astype(np.float32), y

    (x_tr, y_tr), (x_va, y_va) = make(128), make(64)
    data = {"X_train": x_tr, "y_train": y_tr, "X_val": x_va, "y_val": y_va}
    net = ConvNet((1, 8, 8), num_filters=4, filter_size=3, hidden_dim=16, num_classes=2, seed=0)
    solver = Solver(net, data, SGD(lr=0.05, momentum=0.9), batch_size=32, num_epochs=4)
    solver.train()
    assert all(p.dtype == np.float32 for p in net.params.values())
    assert solver.history["val_acc"][-1] >= 0.95

    flat = {k: v.reshape(v.shape[0], -1) if k.startswith("X") else v for k, v in data.items()}
    mlp = MLP(64, [16], 2, seed=0)  # UvA defaults: ELU, N(0, 1e-4²) weights
    solver = Solver(mlp, flat, SGD(lr=0.1), batch_size=32, num_epochs=10)
    solver.train()
    assert solver.history["val_acc"][-1] >= 0.95
