"""A project-made pretrained checkpoint: torchvision's ResNet-18 trained on CIFAR-10.

Without internet there are no ImageNet weights, so the transfer experiments need another
source of pretrained features. This experiment trains the unmodified torchvision ResNet-18
(ImageNet stem: 7×7/2 conv and 3×3/2 max-pool, so a 32×32 image ends as a 1×1 map) on
CIFAR-10 inputs in [0, 1] normalised with the ImageNet mean and std — the same input
convention as the transfer experiments — and saves its state dict to ``weights.pt`` in the
run directory, for ``practica run transfer-hymenoptera --set weights=RUN/weights.pt``.

Default budget: 1200 steps of batch 128 (≈3 epochs) with crop+flip, SGD momentum 0.05 with
a cosine schedule and warm-up; modest on purpose (≈10 minutes on 2 CPU cores with bf16).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..context import RunContext
from ..models.pretrained import ImageNetInput, resnet18
from ..train.checkpoint import save_checkpoint
from .base import Experiment, Target
from .classify import TrainingConfig, load_images, train_classifier


@dataclass
class ResNetCifarConfig(TrainingConfig):
    pass


def run(cfg: ResNetCifarConfig, ctx: RunContext) -> dict[str, float]:
    data = load_images("cifar10", ctx)
    net, _ = resnet18(len(data.classes), "none")
    metrics = train_classifier(cfg, ctx, ImageNetInput(net), data, name="resnet18")
    path = ctx.run.path / "weights.pt"
    save_checkpoint(path, {k: v.detach().cpu() for k, v in net.state_dict().items()})
    ctx.summary_extra["weights"] = str(path)
    print(f"weights for the transfer experiments: {path}", flush=True)
    return metrics


EXPERIMENTS = [Experiment(
    name="resnet18-cifar10",
    handout="EECS545 HW4 §5 / UvA practical 1 §4b (offline stand-in for ImageNet weights)",
    description="torchvision ResNet-18 trained on CIFAR-10 (32×32, ImageNet normalisation), "
                "saved as weights.pt for transfer-hymenoptera/transfer-cifar10",
    config_cls=ResNetCifarConfig,
    run=run,
    target=Target("test/accuracy", 0.6, "issue 8: a usable pretrained checkpoint (no handout "
                  "figure)"),
    datasets=("cifar10",),
    defaults={"optimizer": "momentum", "lr": 0.05, "weight_decay": 5e-4, "batch_size": 128,
              "steps": 1200, "eval_every": 400, "schedule": "cosine", "warmup_steps": 100,
              "augment": "crop+flip", "preprocess": "unit"},
    settings={"amp": "bf16", "channels_last": True},
    smoke={"steps": 6, "eval_every": 3, "batch_size": 16, "test_limit": 200,
           "warmup_steps": 2},
)]
