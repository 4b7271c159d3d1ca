"""Transfer learning with a pretrained ResNet-18 (EECS545 HW4 §5, UvA practical 1 §4b).

``transfer-hymenoptera`` follows the PyTorch transfer-learning tutorial the EECS545 handout
builds on: ants vs bees, torchvision's ResNet-18 with a new 2-way ``fc`` layer, SGD
(lr 0.001, momentum 0.9) and StepLR (×0.1 every 7 epochs), 25 epochs of batch 4. Two modes:

* ``finetune`` — start from the pretrained weights and train every layer;
* ``freeze`` — only the new ``fc`` layer trains; the rest keeps the pretrained weights
  (BatchNorm statistics still update in train mode, as in the tutorial).

Transforms as in the tutorial: training images get RandomResizedCrop(224) and a random
horizontal flip, validation images Resize(256) and CenterCrop(224); both are normalised
with the ImageNet channel mean and std. Validation accuracy is measured before training
(step 0: the pretrained backbone with a random head) and after every epoch; a grid of
validation images with predicted and true labels is drawn at the end.

``transfer-cifar10`` fine-tunes the same pretrained ResNet-18 on CIFAR-10, upsampling the
32×32 images (``image_size``) on the fly. Weights: see :mod:`practica.models.pretrained`
(ImageNet weights only from the torch hub cache; else ``--set weights=PATH``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..config import non_negative, option, positive
from ..context import RunContext
from ..data import hymenoptera
from ..models.pretrained import IMAGENET_MEAN, IMAGENET_STD, ImageNetInput, resnet18
from ..records.atomic import save_figure
from ..train import EpochBatches, LoopConfig, Trainer
from ..train.classification import cross_entropy_step, evaluator, predict
from ..train.optim import make_optimizer, make_schedule
from .base import Experiment, Target
from .classify import TrainingConfig, flatten, load_images, train_classifier
from .vgg11_mnist import epoch_curves

MODES = ("finetune", "freeze")
WEIGHTS_HELP = ("imagenet (torchvision's, from the torch hub cache only: no download), none "
                "(random init) or a path to a state dict, e.g. the weights.pt of a "
                "resnet18-cifar10 run")


@dataclass
class HymenopteraConfig:
    mode: str = option("finetune", "finetune: train every layer; freeze: train only the new "
                       "fc layer", choices=MODES)
    weights: str = option("imagenet", WEIGHTS_HELP)
    epochs: int = positive("passes over the training images", 25)
    batch_size: int = positive("minibatch size", 4)
    lr: float = positive("SGD learning rate", 0.001)
    momentum: float = non_negative("SGD momentum", 0.9)
    step_size: int = positive("StepLR: multiply the learning rate by gamma every this many "
                              "epochs", 7)
    gamma: float = positive("StepLR factor", 0.1)
    image_size: int = positive("crop size fed to the network (RandomResizedCrop / "
                               "CenterCrop)", 224)
    resize: int = positive("validation images: Resize to this before the centre crop", 256)
    visualize: int = non_negative("validation images drawn with predicted/true labels", 8)


def transforms(image_size: int, resize: int):
    """The tutorial's (train, val) torchvision transforms: PIL image → normalised tensor."""
    from torchvision import transforms as T

    normalize = T.Normalize(IMAGENET_MEAN, IMAGENET_STD)
    train = T.Compose([T.RandomResizedCrop(image_size), T.RandomHorizontalFlip(),
                       T.ToTensor(), normalize])
    val = T.Compose([T.Resize(resize), T.CenterCrop(image_size), T.ToTensor(), normalize])
    return train, val


def prediction_grid(images: torch.Tensor, pred: list[int], true: list[int],
                    classes: tuple[str, ...], path: Path) -> Path:
    """Normalised images with "predicted / true" titles (green right, red wrong)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(images)
    cols = min(4, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.8 * rows), dpi=100,
                             squeeze=False)
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
    for ax in axes.flat:
        ax.axis("off")
    for ax, img, p, t in zip(axes.flat, images, pred, true, strict=False):
        ax.imshow((img * std + mean).clamp(0, 1).permute(1, 2, 0).numpy())
        ax.set_title(f"pred: {classes[p]}\ntrue: {classes[t]}", fontsize=9,
                     color="green" if p == t else "red")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path, bbox_inches="tight")
    plt.close(fig)
    return path


def run_hymenoptera(cfg: HymenopteraConfig, ctx: RunContext) -> dict[str, float]:
    data = hymenoptera.load(ctx.settings.data_dir)
    train, val = data.splits["train"], data.splits["val"]
    model, source = resnet18(len(data.classes), cfg.weights, freeze=cfg.mode == "freeze")
    print(f"transfer-hymenoptera ({cfg.mode}): {source}", flush=True)
    train_tf, val_tf = transforms(cfg.image_size, cfg.resize)
    val_x = torch.stack([val_tf(img) for img in val.images])
    val_y = torch.tensor(val.labels)
    train_y = torch.tensor(train.labels)
    sampler = EpochBatches(len(train), cfg.batch_size, seed=ctx.settings.seed)
    steps_per_epoch = sampler.per_epoch

    def batch_at(step: int) -> tuple[torch.Tensor, torch.Tensor]:
        idx = sampler(step)
        return torch.stack([train_tf(train.images[i]) for i in idx.tolist()]), train_y[idx]

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = make_optimizer("momentum", params, cfg.lr, momentum=cfg.momentum)
    steps = cfg.epochs * steps_per_epoch
    scheduler = make_schedule("step", optimizer, steps, gamma=cfg.gamma,
                              step_every=cfg.step_size * steps_per_epoch)  # = StepLR per epoch
    evaluate = evaluator({"val": (val_x, val_y)}, ctx, batch_size=50)
    trainer = Trainer(ctx, model, optimizer, batch_at, cross_entropy_step(), evaluate,
                      LoopConfig(steps=steps, eval_every=steps_per_epoch), scheduler=scheduler,
                      name=f"resnet18-{cfg.mode}")
    final = trainer.fit()
    history = [h["val"]["accuracy"] for h in trainer.history]
    metrics = flatten(final)
    metrics["val/accuracy_before"] = history[0]
    metrics["val/accuracy_best"] = max(history[1:] or history)
    ctx.summary_extra.update(weights=source, mode=cfg.mode, train_images=len(train),
                             val_images=len(val), skipped_files=list(data.skipped),
                             trainable_parameters=sum(p.numel() for p in params),
                             val_accuracy_per_epoch=[round(a, 4) for a in history])
    epoch_curves(ctx.run.metrics(), steps_per_epoch, ctx.run.plots,
                 f"ResNet-18 {cfg.mode}", splits=("train", "val"))
    if cfg.visualize:
        pred = evaluate.predictions.get("val")
        if pred is None:  # resumed after the last evaluation
            pred = predict(model.eval(), val_x, ctx).argmax(1)
        pick = torch.randperm(len(val_y), generator=torch.Generator().manual_seed(0))
        pick = pick[:cfg.visualize].tolist()
        prediction_grid(val_x[pick], pred[pick].tolist(), val_y[pick].tolist(), data.classes,
                        ctx.run.plots / "val_predictions.png")
    return metrics


@dataclass
class CifarTransferConfig(TrainingConfig):
    mode: str = option("finetune", "finetune: train every layer; freeze: train only the new "
                       "fc layer", choices=MODES)
    weights: str = option("imagenet", WEIGHTS_HELP)
    image_size: int = positive("upsample the 32×32 images to this before the network", 64)


def run_cifar(cfg: CifarTransferConfig, ctx: RunContext) -> dict[str, float]:
    data = load_images("cifar10", ctx)
    net, source = resnet18(len(data.classes), cfg.weights, freeze=cfg.mode == "freeze")
    print(f"transfer-cifar10 ({cfg.mode}): {source}", flush=True)
    ctx.summary_extra.update(weights=source, mode=cfg.mode)
    model = ImageNetInput(net, cfg.image_size)
    return train_classifier(cfg, ctx, model, data, name=f"resnet18-{cfg.mode}")


EXPERIMENTS = [
    Experiment(
        name="transfer-hymenoptera",
        handout="EECS545 HW4 §5 (transfer learning: finetune vs freeze)",
        description="ResNet-18 on ants vs bees from pretrained weights; finetune all layers "
                    "or freeze all but fc; SGD 0.001 + StepLR(7, 0.1), batch 4, 25 epochs",
        config_cls=HymenopteraConfig,
        run=run_hymenoptera,
        target=Target("val/accuracy", 0.9, "PyTorch tutorial with ImageNet weights: ≈0.94 "
                      "finetune, ≈0.95 freeze (needs ImageNet weights)"),
        datasets=("hymenoptera",),
        settings={"amp": "bf16", "channels_last": True},
        smoke={"epochs": 1, "image_size": 64, "resize": 72, "batch_size": 16,
               "weights": "none", "visualize": 4},
    ),
    Experiment(
        name="transfer-cifar10",
        handout="UvA DL practical 1 §4b (bonus: fine-tune an ImageNet model on CIFAR-10)",
        description="Pretrained ResNet-18 fine-tuned on CIFAR-10 upsampled to 64×64; SGD "
                    "momentum 0.01, cosine, batch 64, 1500 steps, crop+flip",
        config_cls=CifarTransferConfig,
        run=run_cifar,
        datasets=("cifar10",),
        defaults={"optimizer": "momentum", "lr": 0.01, "weight_decay": 5e-4,
                  "batch_size": 64, "steps": 1500, "eval_every": 500, "schedule": "cosine",
                  "augment": "crop+flip", "preprocess": "unit"},
        settings={"amp": "bf16", "channels_last": True},
        smoke={"steps": 6, "eval_every": 3, "batch_size": 16, "test_limit": 200,
               "weights": "none", "image_size": 32},
    ),
]
