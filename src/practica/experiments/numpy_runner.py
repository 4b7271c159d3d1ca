"""Running the NumPy engine's Solver inside a practica run.

The engine knows nothing about files or logging; this module connects its callback to the
run's metrics, checkpoints the solver's full state at every evaluation (an ``.npz``, no
pickle), resumes from it, and turns a non-finite loss into a clean stop.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping

import numpy as np

from ..context import RunContext
from ..errors import TrainingDiverged
from ..numpy_nn import SGD, Adam, Momentum, Optimizer, RMSProp, Solver
from ..train.array_checkpoint import load_arrays, save_arrays

OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam")


def make_numpy_optimizer(name: str, lr: float, momentum: float = 0.9,
                         weight_decay: float = 0.0) -> Optimizer:
    if name == "sgd":
        return SGD(lr, weight_decay=weight_decay)
    if name == "momentum":
        return Momentum(lr, momentum=momentum, weight_decay=weight_decay)
    if name == "nesterov":
        return SGD(lr, momentum=momentum, nesterov=True, weight_decay=weight_decay)
    if name == "rmsprop":
        return RMSProp(lr, weight_decay=weight_decay)
    if name == "adam":
        return Adam(lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")


def run_solver(ctx: RunContext, solver: Solver, *, val_split: str = "val",
               name: str = "numpy") -> None:
    """Train ``solver`` to the end with logging, checkpoints and resume.

    The solver's validation metrics are logged under ``val_split`` (the UvA MLP evaluates
    on the test set, so it passes ``"test"``).
    """
    from tqdm.auto import tqdm

    path = ctx.run.checkpoints / "last.npz"
    previous = 0.0
    if ctx.resuming and path.is_file():
        state = load_arrays(path)
        solver.load_state_dict(state["solver"])
        previous = float(state["elapsed"])
        ctx.run.truncate_metrics(solver.step)
    started = time.perf_counter() - previous

    def callback(step: int, metrics: Mapping[str, Mapping[str, float]]) -> None:
        for split, values in metrics.items():
            ctx.run.log(step, val_split if split == "val" else split, values)
        if "val" in metrics:
            elapsed = time.perf_counter() - started
            ctx.train_times[name] = elapsed
            save_arrays(path, {"solver": solver.state_dict(), "elapsed": elapsed})

    if solver.step == 0:  # log the untrained model like the PyTorch loop does
        ctx.run.log(0, val_split, solver.evaluate(solver.X_val, solver.y_val))
    solver.callback = callback
    solver.progress = tqdm(total=solver.num_steps, initial=solver.step, desc=name,
                           disable=not ctx.progress, file=sys.stderr, leave=False)
    try:
        solver.train()
    except FloatingPointError as exc:
        where = (f"the last good checkpoint ({path}) is kept" if path.is_file()
                 else "no checkpoint had been written yet")
        raise TrainingDiverged(f"training stopped: {str(exc).removeprefix('Solver: ')}; "
                               f"{where}. Try a lower learning rate") from None
    ctx.train_times[name] = time.perf_counter() - started


def flatten_images(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.reshape(len(x), -1))
