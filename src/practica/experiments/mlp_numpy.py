"""NumPy MLP on CIFAR-10 (UvA DL practical 1 §1.2), trained by the from-scratch engine.

Handout defaults: one hidden layer of 100 ELU units, weights N(0, 1e-4²), SGD with
learning rate 1e-3, batch 200, 1400 steps, evaluation on the whole test set every 100
steps, per-pixel training-mean subtraction. The handout expects about 0.48 test accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import non_negative, option, positive
from ..context import RunContext
from ..data.preprocess import PREPROCESS, preprocess
from ..numpy_nn import MLP, Solver
from .base import Experiment, Target
from .classify import load_images
from .numpy_runner import OPTIMIZERS, flatten_images, make_numpy_optimizer, run_solver


@dataclass
class MLPNumpyConfig:
    hidden: list[int] = option([100], "hidden layer widths, e.g. 100 or 100,100",
                               check=lambda v: v > 0, check_msg="widths must be > 0")
    activation: str = option("elu", "hidden activation", choices=("elu", "relu", "tanh",
                                                                  "leaky_relu"))
    init: str = option("normal", "weight init: normal = N(0, 1e-4²) (handout), kaiming, "
                       "xavier", choices=("normal", "kaiming", "xavier"))
    optimizer: str = option("sgd", "optimiser", choices=OPTIMIZERS)
    lr: float = positive("learning rate", 1e-3)
    momentum: float = non_negative("momentum (momentum/nesterov)", 0.9)
    weight_decay: float = non_negative("L2 weight decay", 0.0)
    batch_size: int = positive("minibatch size", 200)
    steps: int = positive("number of SGD steps", 1400)
    eval_every: int = positive("evaluate on the whole test set every this many steps", 100)
    preprocess: str = option("mean", "input normalisation", choices=PREPROCESS)


def run(cfg: MLPNumpyConfig, ctx: RunContext) -> dict[str, float]:
    data = load_images("cifar10", ctx)
    train_x, test_x = preprocess(data, cfg.preprocess)
    model = MLP(3 * 32 * 32, cfg.hidden, len(data.classes), activation=cfg.activation,
                init=cfg.init, seed=ctx.settings.seed)
    solver = Solver(model, {"X_train": flatten_images(train_x), "y_train": data.train.labels,
                            "X_val": flatten_images(test_x), "y_val": data.test.labels},
                    make_numpy_optimizer(cfg.optimizer, cfg.lr, cfg.momentum,
                                         cfg.weight_decay),
                    batch_size=cfg.batch_size, num_steps=cfg.steps, eval_every=cfg.eval_every,
                    seed=ctx.settings.seed, eval_batch_size=1000)
    run_solver(ctx, solver, val_split="test", name="mlp-numpy")
    h = solver.history
    ctx.summary_extra["steps"] = cfg.steps
    return {"train/loss": h["train_loss"][-1], "train/accuracy": h["train_acc"][-1],
            "test/loss": h["val_loss"][-1], "test/accuracy": h["val_acc"][-1]}


EXPERIMENTS = [Experiment(
    name="mlp-numpy",
    handout="UvA DL practical 1 §1.2 (NumPy MLP)",
    description="From-scratch NumPy MLP (1×100 ELU, SGD 1e-3, batch 200, 1400 steps) on "
                "CIFAR-10",
    config_cls=MLPNumpyConfig,
    run=run,
    target=Target("test/accuracy", 0.48, "UvA practical 1 §1.2: ≈0.48 with the defaults"),
    datasets=("cifar10",),
    smoke={"steps": 100, "eval_every": 50},
)]
