"""Minibatch training loop with evaluation, best-model tracking and exact checkpointing.

The solver knows nothing about logging, progress bars or files: metrics go to an optional
``callback(step, metrics)`` and steps to an optional ``progress`` object with
``update(n)``/``close()`` (a tqdm works). ``state_dict()`` captures everything needed to
resume bit-for-bit: step, model parameters/buffers/generator states, optimiser state, the
solver's generator and the current epoch permutation — all as numpy arrays, Python
scalars and nested dicts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from .base import Module
from .losses import Loss, SoftmaxCrossEntropy
from .optim import Optimizer

Metrics = dict[str, dict[str, float]]
Callback = Callable[[int, Metrics], None]

_HISTORY_KEYS = ("step", "train_loss", "train_acc", "val_loss", "val_acc")


class Progress(Protocol):
    """Anything with ``update(n)`` and ``close()``, e.g. ``tqdm.tqdm(total=...)``."""

    def update(self, n: int = 1) -> Any: ...

    def close(self) -> Any: ...


class Solver:
    """Train ``model`` on ``data`` with ``optimizer`` by minibatch gradient descent.

    Args:
        model: a Module mapping inputs to class scores.
        data: ``X_train``, ``y_train``, ``X_val``, ``y_val`` (labels are integer classes).
        optimizer: updates ``model.params`` from ``model.grads``.
        loss: defaults to :class:`SoftmaxCrossEntropy`.
        batch_size: minibatch size; each epoch visits a fresh random permutation.
        num_epochs / num_steps: training length (give exactly one); one epoch is
            ⌊N / batch_size⌋ steps (at least 1).
        eval_every: evaluate (train subset + validation) every this many steps and at
            the end; defaults to once per epoch.
        seed: seeds the solver's generator (batch order, train-accuracy subset).
        callback: ``callback(step, {"train": {...}, "val": {...}, "optim": {"lr": ...}})``
            after each evaluation (and ``{"train": {"loss": ...}}`` every ``log_every``
            steps if set).
        progress: optional object with ``update(n)``/``close()``.
        num_train_samples: size of the fixed training subset used for train accuracy.
        eval_batch_size: batch size for evaluation (default: ``batch_size``).
    """

    def __init__(
        self,
        model: Module,
        data: dict[str, np.ndarray],
        optimizer: Optimizer,
        loss: Loss | None = None,
        batch_size: int = 100,
        num_epochs: int | None = None,
        num_steps: int | None = None,
        eval_every: int | None = None,
        seed: int | None = 0,
        callback: Callback | None = None,
        progress: Progress | None = None,
        num_train_samples: int = 1000,
        eval_batch_size: int | None = None,
        log_every: int | None = None,
        stop_on_nonfinite: bool = True,
    ) -> None:
        missing = {"X_train", "y_train", "X_val", "y_val"} - set(data)
        if missing:
            raise KeyError(f"Solver: data is missing {sorted(missing)}")
        self.X_train, self.y_train = np.asarray(data["X_train"]), np.asarray(data["y_train"])
        self.X_val, self.y_val = np.asarray(data["X_val"]), np.asarray(data["y_val"])
        for split, x, y in (("train", self.X_train, self.y_train),
                            ("val", self.X_val, self.y_val)):
            if y.ndim != 1 or x.shape[0] != y.shape[0] or x.shape[0] == 0:
                raise ValueError(
                    f"Solver: X_{split} {x.shape} and y_{split} {y.shape} must be non-empty "
                    f"with one integer label per sample"
                )
        if (num_epochs is None) == (num_steps is None):
            raise ValueError("Solver: give exactly one of num_epochs and num_steps")
        if batch_size <= 0:
            raise ValueError(f"Solver: batch_size must be positive, got {batch_size}")
        self.model, self.optimizer = model, optimizer
        self.loss_fn = loss if loss is not None else SoftmaxCrossEntropy(dtype=model.dtype)
        self.batch_size = int(batch_size)
        n = self.X_train.shape[0]
        self.iters_per_epoch = max(n // self.batch_size, 1)
        self.num_steps = int(num_steps) if num_steps is not None else (
            int(num_epochs) * self.iters_per_epoch  # type: ignore[arg-type]
        )
        if self.num_steps <= 0:
            raise ValueError("Solver: training length must be at least one step")
        self.eval_every = int(eval_every) if eval_every else self.iters_per_epoch
        self.eval_batch_size = int(eval_batch_size or self.batch_size)
        self.log_every = log_every
        self.callback, self.progress = callback, progress
        self.stop_on_nonfinite = stop_on_nonfinite
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        sub_rng = np.random.default_rng(None if seed is None else [seed, 1])
        k = min(n, num_train_samples)
        self._train_subset = np.sort(sub_rng.choice(n, size=k, replace=False))
        self._reset_progress_state()

    def _reset_progress_state(self) -> None:
        self.step = 0
        self._perm: np.ndarray | None = None
        self._loss_sum, self._loss_count = 0.0, 0
        self.loss_history: list[float] = []
        self.history: dict[str, list[float]] = {k: [] for k in _HISTORY_KEYS}
        self.best_val_acc = -math.inf
        self.best_step = -1
        self.best_state: dict[str, dict[str, np.ndarray]] | None = None

    # ----------------------------------------------------------------- training
    @property
    def epoch(self) -> float:
        """Epochs completed so far (fractional)."""
        return self.step / self.iters_per_epoch

    def _next_batch(self) -> tuple[np.ndarray, np.ndarray]:
        i = self.step % self.iters_per_epoch
        if i == 0 or self._perm is None:
            self._perm = self.rng.permutation(self.X_train.shape[0])
        idx = self._perm[i * self.batch_size : (i + 1) * self.batch_size]
        return self.X_train[idx], self.y_train[idx]

    def train_step(self) -> float:
        """One forward/backward/update on the next minibatch; returns its loss."""
        x, y = self._next_batch()
        model = self.model
        model.train()
        scores = model.forward(x)
        loss = self.loss_fn.forward(scores, y)
        if self.stop_on_nonfinite and not math.isfinite(loss):
            raise FloatingPointError(f"Solver: loss became {loss} at step {self.step + 1}")
        saved = model.requires_input_grad
        model.requires_input_grad = False  # dL/dX of the data is never needed
        try:
            model.backward(self.loss_fn.backward())
        finally:
            model.requires_input_grad = saved
        self.optimizer.step(model.params, model.grads)
        self.step += 1
        self.loss_history.append(loss)
        self._loss_sum += loss
        self._loss_count += 1
        return loss

    def train(self, steps: int | None = None) -> dict[str, list[float]]:
        """Run until ``num_steps`` (or at most ``steps`` more steps); returns the history.

        Evaluates every ``eval_every`` steps and at the final step. Can be called again to
        continue (e.g. after :meth:`load_state_dict`).
        """
        end = self.num_steps if steps is None else min(self.num_steps, self.step + steps)
        finished = False
        try:
            while self.step < end:
                loss = self.train_step()
                if self.progress is not None:
                    self.progress.update(1)
                if self.log_every and self.step % self.log_every == 0 and self.callback:
                    self.callback(self.step, {"train": {"loss": loss}})
                if self.step % self.eval_every == 0 or self.step == self.num_steps:
                    self._evaluate_and_record()
            finished = self.step >= self.num_steps
        finally:
            if self.progress is not None and (finished or self.step < end):
                self.progress.close()
        return self.history

    def _evaluate_and_record(self) -> Metrics:
        train_loss = self._loss_sum / max(self._loss_count, 1)
        self._loss_sum, self._loss_count = 0.0, 0
        sub = self._train_subset
        train_acc = self.check_accuracy(self.X_train[sub], self.y_train[sub])
        val = self.evaluate(self.X_val, self.y_val)
        for key, value in zip(
            _HISTORY_KEYS,
            (self.step, train_loss, train_acc, val["loss"], val["accuracy"]),
            strict=True,
        ):
            self.history[key].append(value)
        if val["accuracy"] > self.best_val_acc:
            self.best_val_acc, self.best_step = val["accuracy"], self.step
            self.best_state = {
                "params": {k: v.copy() for k, v in self.model.params.items()},
                "buffers": {k: v.copy() for k, v in self.model.buffers.items()},
            }
        metrics: Metrics = {
            "train": {"loss": train_loss, "accuracy": train_acc},
            "val": {"loss": val["loss"], "accuracy": val["accuracy"]},
            "optim": {"lr": self.optimizer.lr},
        }
        if self.callback is not None:
            self.callback(self.step, metrics)
        return metrics

    # ----------------------------------------------------------------- evaluation
    def predict_scores(self, X: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Class scores in eval mode, computed in batches."""
        bs = batch_size or self.eval_batch_size
        was_training = self.model.training
        self.model.eval()
        try:
            parts = [self.model.forward(X[i : i + bs]) for i in range(0, X.shape[0], bs)]
        finally:
            self.model.train(was_training)
        return np.concatenate(parts, axis=0)

    def evaluate(
        self, X: np.ndarray, y: np.ndarray, batch_size: int | None = None
    ) -> dict[str, float]:
        """Mean loss and accuracy of the model (eval mode) on (X, y)."""
        scores = self.predict_scores(X, batch_size)
        loss = self.loss_fn.forward(scores, y)
        acc = float(np.mean(scores.argmax(axis=1) == y))
        return {"loss": loss, "accuracy": acc}

    def check_accuracy(
        self,
        X: np.ndarray,
        y: np.ndarray,
        batch_size: int | None = None,
        num_samples: int | None = None,
    ) -> float:
        """Fraction of correctly classified samples (optionally on a seeded subsample)."""
        if num_samples is not None and X.shape[0] > num_samples:
            idx = np.random.default_rng(self.seed).choice(X.shape[0], num_samples, replace=False)
            X, y = X[idx], y[idx]
        scores = self.predict_scores(X, batch_size)
        return float(np.mean(scores.argmax(axis=1) == y))

    def restore_best(self) -> None:
        """Load the parameters (and buffers) with the best validation accuracy so far."""
        if self.best_state is None:
            raise RuntimeError("Solver.restore_best: no evaluation has been run yet")
        for group, target in (("params", self.model.params), ("buffers", self.model.buffers)):
            for k, v in self.best_state[group].items():
                target[k][...] = v

    # ----------------------------------------------------------------- checkpointing
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume training exactly, as arrays/scalars/dicts."""
        return {
            "step": self.step,
            "num_steps": self.num_steps,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "rng": self.rng.bit_generator.state,
            "perm": (np.empty(0, dtype=np.int64) if self._perm is None else self._perm.copy()),
            "loss_sum": self._loss_sum,
            "loss_count": self._loss_count,
            "loss_history": np.asarray(self.loss_history, dtype=np.float64),
            "history": {k: np.asarray(v, dtype=np.float64) for k, v in self.history.items()},
            "best": {
                "val_acc": self.best_val_acc,
                "step": self.best_step,
                "state": {} if self.best_state is None else {
                    g: {k: v.copy() for k, v in d.items()} for g, d in self.best_state.items()
                },
            },
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`; the next :meth:`train` continues from there."""
        self.step = int(state["step"])
        self.num_steps = int(state["num_steps"])
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.rng.bit_generator.state = state["rng"]
        perm = np.asarray(state["perm"])
        self._perm = perm.astype(np.int64) if perm.size else None
        self._loss_sum, self._loss_count = float(state["loss_sum"]), int(state["loss_count"])
        self.loss_history = [float(v) for v in state["loss_history"]]
        self.history = {k: [float(v) for v in state["history"][k]] for k in _HISTORY_KEYS}
        self.history["step"] = [int(s) for s in self.history["step"]]
        best = state["best"]
        self.best_val_acc, self.best_step = float(best["val_acc"]), int(best["step"])
        self.best_state = (
            {g: {k: np.array(v, copy=True) for k, v in d.items()} for g, d in best["state"].items()}
            if best["state"] else None
        )
