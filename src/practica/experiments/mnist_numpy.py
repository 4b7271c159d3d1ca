"""MNIST with the NumPy engine (EECS 545 HW4 §2 and §3).

The handout's split: the first 55,000 training images for training, the last 5,000 for
validation, the 10,000 test images for the final number. Model selection (hidden units;
filter size and hidden units for the ConvNet) is done on validation accuracy only; the
selected model's parameters at its best validation step are evaluated on the test set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import non_negative, option, positive
from ..context import RunContext
from ..numpy_nn import ConvNet, SoftmaxClassifier, Solver
from .base import Experiment, Target
from .classify import load_images
from .numpy_runner import OPTIMIZERS, flatten_images, make_numpy_optimizer, run_solver
from .sweep import run_sweep

N_TRAIN = 55000


@dataclass
class SolverConfig:
    optimizer: str = option("adam", "optimiser", choices=OPTIMIZERS)
    lr: float = positive("learning rate", 1e-3)
    momentum: float = non_negative("momentum (momentum/nesterov)", 0.9)
    weight_decay: float = non_negative("L2 weight decay", 0.0)
    batch_size: int = positive("minibatch size", 100)
    epochs: int = positive("training epochs per config", 10)
    eval_every: int = non_negative("evaluate every this many steps (0: once per epoch)", 0)
    train_limit: int = non_negative("use only this many training images (0: all 55,000)", 0)


def mnist_splits(ctx: RunContext, limit: int = 0) -> dict[str, np.ndarray]:
    """55k/5k/10k float32 images in [0, 1] (N×1×28×28) and int64 labels."""
    data = load_images("mnist", ctx)
    x = data.train.images.astype(np.float32) / 255.0
    y = data.train.labels
    n_train = min(N_TRAIN, len(x) - max(1, len(x) // 12))  # tiny fixtures keep a val split
    train_idx = np.arange(n_train)[: limit or None]
    return {"X_train": x[train_idx], "y_train": y[train_idx],
            "X_val": x[n_train:], "y_val": y[n_train:],
            "X_test": data.test.images.astype(np.float32) / 255.0, "y_test": data.test.labels}


def train_and_test(ctx: RunContext, model, data: dict[str, np.ndarray], cfg: SolverConfig,
                   name: str, flat: bool) -> dict[str, float]:
    prep = flatten_images if flat else (lambda a: a)
    solver = Solver(model, {"X_train": prep(data["X_train"]), "y_train": data["y_train"],
                            "X_val": prep(data["X_val"]), "y_val": data["y_val"]},
                    make_numpy_optimizer(cfg.optimizer, cfg.lr, cfg.momentum,
                                         cfg.weight_decay),
                    batch_size=cfg.batch_size, num_epochs=cfg.epochs,
                    eval_every=cfg.eval_every or None, seed=ctx.settings.seed,
                    eval_batch_size=500)
    run_solver(ctx, solver, val_split="val", name=name)
    solver.restore_best()
    test = solver.evaluate(prep(data["X_test"]), data["y_test"])
    ctx.run.log(solver.step, "test", test)
    ctx.summary_extra["best_val_step"] = solver.best_step
    return {"val/accuracy": solver.best_val_acc, "test/accuracy": test["accuracy"],
            "test/loss": test["loss"]}


# --- §2: fc – relu – fc -----------------------------------------------------------------

@dataclass
class SoftmaxPointConfig(SolverConfig):
    hidden: int = positive("hidden units", 100)


def run_softmax_point(cfg: SoftmaxPointConfig, ctx: RunContext) -> dict[str, float]:
    data = mnist_splits(ctx, cfg.train_limit)
    model = SoftmaxClassifier(28 * 28, cfg.hidden, 10, seed=ctx.settings.seed)
    return train_and_test(ctx, model, data, cfg, f"hidden={cfg.hidden}", flat=True)


SOFTMAX_POINT = Experiment("mnist-softmax-numpy-point", "EECS 545 HW4 §2",
                           "one fc–relu–fc config", SoftmaxPointConfig, run_softmax_point,
                           datasets=("mnist",))


@dataclass
class SoftmaxSweepConfig(SolverConfig):
    hidden_sizes: list[int] = option([50, 100, 200, 500], "hidden units to compare",
                                     check=lambda v: v > 0, check_msg="must be > 0")


def run_softmax_sweep(cfg: SoftmaxSweepConfig, ctx: RunContext) -> dict[str, float]:
    from dataclasses import asdict

    base = {k: v for k, v in asdict(cfg).items() if k != "hidden_sizes"}
    points = [(f"hidden-{h}", SOFTMAX_POINT, SoftmaxPointConfig(**base, hidden=h))
              for h in cfg.hidden_sizes]
    return run_sweep(ctx, points, title="MNIST fc–relu–fc: validation accuracy by hidden units")


# --- §3: conv – relu – pool – fc – relu – fc ---------------------------------------------

@dataclass
class ConvPointConfig(SolverConfig):
    filter_size: int = positive("convolution filter size", 7)
    num_filters: int = positive("number of filters", 32)
    hidden: int = positive("hidden units of the fc layer", 100)


def run_conv_point(cfg: ConvPointConfig, ctx: RunContext) -> dict[str, float]:
    data = mnist_splits(ctx, cfg.train_limit)
    model = ConvNet((1, 28, 28), num_filters=cfg.num_filters, filter_size=cfg.filter_size,
                    hidden_dim=cfg.hidden, num_classes=10, seed=ctx.settings.seed)
    return train_and_test(ctx, model, data, cfg, f"filter={cfg.filter_size},hidden={cfg.hidden}",
                          flat=False)


CONV_POINT = Experiment("mnist-cnn-numpy-point", "EECS 545 HW4 §3", "one ConvNet config",
                        ConvPointConfig, run_conv_point, datasets=("mnist",))


@dataclass
class ConvSweepConfig(SolverConfig):
    filter_sizes: list[int] = option([3, 5, 7], "filter sizes to compare",
                                     check=lambda v: v > 0, check_msg="must be > 0")
    hidden_sizes: list[int] = option([100, 200], "fc hidden units to compare",
                                     check=lambda v: v > 0, check_msg="must be > 0")
    num_filters: int = positive("number of filters", 32)


def run_conv_sweep(cfg: ConvSweepConfig, ctx: RunContext) -> dict[str, float]:
    from dataclasses import asdict

    base = {k: v for k, v in asdict(cfg).items() if k not in ("filter_sizes", "hidden_sizes")}
    points = [(f"filter-{f}-hidden-{h}", CONV_POINT,
               ConvPointConfig(**base, filter_size=f, hidden=h))
              for f in cfg.filter_sizes for h in cfg.hidden_sizes]
    return run_sweep(ctx, points, title="MNIST ConvNet: validation accuracy by config")


SMOKE = {"epochs": 1, "train_limit": 2000}

EXPERIMENTS = [
    Experiment(
        name="mnist-softmax-numpy",
        handout="EECS 545 HW4 §2 (two-layer net, softmax loss)",
        description="NumPy fc–relu–fc on MNIST (55k/5k/10k); hidden units chosen on validation",
        config_cls=SoftmaxSweepConfig,
        run=run_softmax_sweep,
        target=Target("test/accuracy", 0.97, "EECS 545 HW4 §2: students report ≈0.97"),
        datasets=("mnist",),
        smoke={**SMOKE, "hidden_sizes": [50, 100]},
    ),
    Experiment(
        name="mnist-cnn-numpy",
        handout="EECS 545 HW4 §3 (CNN)",
        description="NumPy conv–relu–pool–fc–relu–fc on MNIST; filter size and hidden units "
                    "chosen on validation",
        config_cls=ConvSweepConfig,
        run=run_conv_sweep,
        target=Target("test/accuracy", 0.98, "EECS 545 HW4 §3: students report ≈0.98"),
        datasets=("mnist",),
        defaults={"epochs": 2},
        smoke={**SMOKE, "filter_sizes": [5], "hidden_sizes": [50], "train_limit": 1000},
    ),
]
