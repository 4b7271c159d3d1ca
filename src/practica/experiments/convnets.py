"""CIFAR-10 ConvNets: the VGG-style net of CVbL 2019 §2 (Table 1) and the pre-activation
net of UvA DL practical 1 §4 (Figure 5).

Handout defaults for both: Adam with learning rate 1e-4, batch 32, 5000 steps, evaluation
every 500 steps, PyTorch's default initialisation, the same per-pixel mean subtraction as
the MLPs. The handouts quote ≈0.75 (VGG-style) and ≥0.79 (pre-activation) test accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import non_negative, option, positive
from ..context import RunContext
from ..models.convnets import PreActConvNet, VGGConvNet
from ..train.optim import OPTIMIZERS
from .base import Experiment, Target
from .classify import TrainingConfig, load_images, train_classifier

MODELS = {"vgg": VGGConvNet, "preact": PreActConvNet}


@dataclass
class ConvNetConfig(TrainingConfig):
    model: str = option("vgg", "architecture: vgg (CVbL Table 1) or preact (UvA Figure 5)",
                        choices=tuple(MODELS))
    batch_size: int = positive("minibatch size", 32)
    steps: int = positive("number of optimisation steps", 5000)
    eval_every: int = positive("evaluate on the whole test set every this many steps", 500)
    optimizer: str = option("adam", "optimiser", choices=OPTIMIZERS)
    lr: float = positive("learning rate", 1e-4)
    weight_decay: float = non_negative("weight decay", 0.0)


def run(cfg: ConvNetConfig, ctx: RunContext) -> dict[str, float]:
    data = load_images("cifar10", ctx)
    model = MODELS[cfg.model](in_channels=3, num_classes=len(data.classes))
    return train_classifier(cfg, ctx, model, data, name=cfg.model)


SMOKE = {"steps": 20, "eval_every": 10, "test_limit": 500}
#: the tuned training of both ConvNets: 1600 steps of 128 (4 epochs), one-cycle AdamW
BEST_RECIPE = {"batch_size": 128, "steps": 1600, "eval_every": 200, "optimizer": "adamw",
               "lr": 2e-3, "weight_decay": 5e-2, "schedule": "onecycle", "warmup_steps": 300,
               "label_smoothing": 0.1, "augment": "crop+flip", "preprocess": "standardize"}

EXPERIMENTS = [
    Experiment(
        name="convnet-vgg",
        handout="CVbL 2019 §2 (Table 1 ConvNet)",
        description="VGG-style ConvNet (8 conv+BN+ReLU blocks, 5 max-pools), Adam 1e-4, "
                    "batch 32, 5000 steps",
        config_cls=ConvNetConfig,
        run=run,
        target=Target("test/accuracy", 0.75, "CVbL 2019 §2: ≈0.75 test accuracy"),
        datasets=("cifar10",),
        # bf16 autocast + channels_last: the same accuracy in less than half the time on
        # this CPU (docs/speedrun.md); `--amp none --no-channels-last` is the fp32 run
        settings={"amp": "bf16", "channels_last": True},
        smoke=SMOKE,
    ),
    Experiment(
        name="convnet-preact",
        handout="UvA DL practical 1 §4 (Figure 5 pre-activation ConvNet)",
        description="VGG13-like ConvNet with pre-activation skip blocks, Adam 1e-4, batch 32, "
                    "5000 steps",
        config_cls=ConvNetConfig,
        run=run,
        target=Target("test/accuracy", 0.79, "UvA practical 1 §4: ≥0.79 test accuracy"),
        datasets=("cifar10",),
        defaults={"model": "preact"},
        smoke=SMOKE,
    ),
    Experiment(
        name="convnet-vgg-best",
        beyond=True,
        handout="CVbL 2019 §2 (Table 1 ConvNet, trained with the recipe of convnet-preact-best)",
        description="The VGG-style ConvNet of Table 1 with augmentation, standardised inputs, "
                    "AdamW + one-cycle schedule, label smoothing, bf16 + channels_last; 2200 "
                    "steps of 128, about the float32 handout run's wall time",
        config_cls=ConvNetConfig,
        run=run,
        target=Target("test/accuracy", 0.88, "issue 21: ≥0.88 within convnet-vgg's wall time"),
        datasets=("cifar10",),
        # the recipe's 1600 steps took 18.5 min here; 2200 fill the fp32 handout run's 26 min
        defaults={**BEST_RECIPE, "steps": 2200, "warmup_steps": 400},
        settings={"amp": "bf16", "channels_last": True},
        smoke=SMOKE,
    ),
    Experiment(
        name="convnet-preact-best",
        handout="UvA DL practical 1 §4 (improved within the same wall-clock budget)",
        description="The pre-activation ConvNet with augmentation, standardised inputs, "
                    "AdamW + one-cycle schedule, label smoothing, bf16 + channels_last",
        config_cls=ConvNetConfig,
        run=run,
        target=Target("test/accuracy", 0.79, "UvA practical 1 §4: beat ≥0.79"),
        datasets=("cifar10",),
        defaults={"model": "preact", **BEST_RECIPE},
        settings={"amp": "bf16", "channels_last": True},
        smoke=SMOKE,
    ),
]
