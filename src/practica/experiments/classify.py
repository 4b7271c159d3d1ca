"""Shared wiring for image-classification experiments trained with the PyTorch loop.

An experiment defines its model; everything else — data to tensors, batches,
augmentation, optimiser, schedule, the loop, final confusion matrix and per-class
accuracy — is here once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from ..config import non_negative, option, positive
from ..context import RunContext
from ..data import DATASETS, ImageDataset, cifar10, mnist, validation_split
from ..data.preprocess import PREPROCESS, preprocess
from ..report.plots import confusion_matrix_plot
from ..train import EpochBatches, LoopConfig, Trainer
from ..train.augment import crop_flip, random_flip
from ..train.classification import (
    confusion_matrix,
    cross_entropy_step,
    evaluator,
    predict,
)
from ..train.optim import OPTIMIZERS, SCHEDULES, make_optimizer, make_schedule


@dataclass
class TrainingConfig:
    """Training options shared by the classification experiments."""

    batch_size: int = positive("minibatch size", 200)
    steps: int = positive("number of optimisation steps", 1400)
    eval_every: int = positive("evaluate on the whole test set every this many steps", 100)
    optimizer: str = option("sgd", "optimiser", choices=OPTIMIZERS)
    lr: float = positive("learning rate", 1e-3)
    momentum: float = non_negative("momentum (momentum/nesterov optimisers)", 0.9)
    weight_decay: float = non_negative("L2 weight decay", 0.0)
    schedule: str = option("constant", "learning-rate schedule", choices=SCHEDULES)
    warmup_steps: int = non_negative("linear warm-up steps", 0)
    label_smoothing: float = option(0.0, "label smoothing of the cross-entropy",
                                    check=lambda v: 0 <= v < 1, check_msg="must be in [0, 1)")
    augment: str = option("none", "training augmentation: none, flip (random horizontal "
                          "flips) or crop+flip (also random ±4 px translations)",
                          choices=("none", "flip", "crop+flip"))
    clip_grad_norm: float = non_negative("clip the gradient norm to this (0: off)", 0.0)
    preprocess: str = option("mean", "input normalisation (see data/preprocess.py)",
                             choices=PREPROCESS)
    val_size: int = non_negative("hold out this many training images (fixed seed) as a "
                                 "validation split, evaluated with the test set (0: none)", 0)
    test_limit: int = non_negative("evaluate on the first N test images only (0: all; "
                                   "for quick smoke runs)", 0)
    log_seconds: bool = option(False, "log train/seconds (time since training began) at "
                               "each evaluation, for accuracy-against-time comparisons")


def load_images(name: str, ctx: RunContext) -> ImageDataset:
    """Load a registered image data set with the run's data settings."""
    s = ctx.settings
    if name == "cifar10":
        return cifar10.load(s.data_dir, offline=s.offline, progress=s.progress)
    if name in mnist.SETS:
        return mnist.load(name, s.data_dir, offline=s.offline, progress=s.progress)
    raise ValueError(f"not an image classification data set: {name} (known: {list(DATASETS)})")


def to_tensors(dataset: ImageDataset, how: str, val_size: int = 0, seed: int = 0
               ) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Preprocessed train/test tensors, plus a ``val`` split held out of train if asked.

    Normalisation statistics come from the images that remain in the training split.
    """
    if val_size:
        train, val = validation_split(dataset.train, val_size, seed)
        dataset = replace(dataset, train=train)
    train_x, test_x = preprocess(dataset, how)
    out = {"train": (torch.from_numpy(train_x), torch.from_numpy(dataset.train.labels)),
           "test": (torch.from_numpy(test_x), torch.from_numpy(dataset.test.labels))}
    if val_size:
        _, val_x = preprocess(replace(dataset, test=val), how)
        out["val"] = (torch.from_numpy(val_x), torch.from_numpy(val.labels))
    return out


def train_classifier(cfg: TrainingConfig, ctx: RunContext, model: nn.Module,
                     dataset: ImageDataset, *, name: str = "",
                     tensors: dict[str, tuple[torch.Tensor, torch.Tensor]] | None = None,
                     transform: Callable[[torch.Tensor], torch.Tensor] | None = None
                     ) -> dict[str, float]:
    """Train ``model`` on ``dataset`` with ``cfg``; return flat final metrics.

    Also writes a confusion-matrix plot and puts per-class test accuracy in the summary.
    """
    tensors = tensors or to_tensors(dataset, cfg.preprocess, cfg.val_size, ctx.settings.seed)
    if cfg.test_limit:
        x, y = tensors["test"]
        tensors = {**tensors, "test": (x[:cfg.test_limit], y[:cfg.test_limit])}
    train_x, train_y = tensors["train"]
    if ctx.device.type == "cuda":  # the in-memory images live on the GPU: no copy per step
        train_x, train_y = train_x.to(ctx.device), train_y.to(ctx.device)
    sampler = EpochBatches(len(train_y), cfg.batch_size, seed=ctx.settings.seed)

    def batch_at(step: int) -> tuple[torch.Tensor, torch.Tensor]:
        idx = sampler(step)
        return train_x[idx], train_y[idx]

    if transform is None and cfg.augment == "crop+flip":
        transform = crop_flip(4)
    elif transform is None and cfg.augment == "flip":
        transform = random_flip
    optimizer = make_optimizer(cfg.optimizer, model.parameters(), cfg.lr,
                               momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    scheduler = make_schedule(cfg.schedule, optimizer, cfg.steps,
                              warmup_steps=cfg.warmup_steps)
    evaluate = evaluator({k: v for k, v in tensors.items() if k != "train"}, ctx)
    trainer = Trainer(ctx, model, optimizer, batch_at,
                      cross_entropy_step(cfg.label_smoothing, transform), evaluate,
                      LoopConfig(steps=cfg.steps, eval_every=cfg.eval_every,
                                 clip_grad_norm=cfg.clip_grad_norm or None,
                                 log_seconds=cfg.log_seconds),
                      scheduler=scheduler, name=name)
    final = trainer.fit()
    test_x, test_y = tensors["test"]
    pred = evaluate.predictions.get("test")
    if pred is None:  # resumed after the last evaluation: predict once more
        model.eval()
        pred = predict(model, test_x, ctx).argmax(1)
    cm = confusion_matrix(pred, test_y, len(dataset.classes)).numpy()
    per_class = cm.diagonal() / np.maximum(cm.sum(axis=1), 1)
    ctx.summary_extra["per_class_accuracy"] = {
        c: round(float(a), 4) for c, a in zip(dataset.classes, per_class, strict=True)}
    ctx.summary_extra["steps"] = cfg.steps
    confusion_matrix_plot(cm, dataset.classes, ctx.run.plots / "confusion_matrix.png",
                          title=f"{name or 'test'} confusion matrix")
    return flatten(final)


def flatten(results: dict[str, dict[str, float]]) -> dict[str, float]:
    """{"test": {"accuracy": a}} → {"test/accuracy": a}."""
    return {f"{split}/{k}": v for split, metrics in results.items() for k, v in metrics.items()}


def n_inputs(dataset: ImageDataset) -> int:
    return int(np.prod(dataset.train.images.shape[1:]))
