"""VGG11 on MNIST (Waterloo A5 §2.1–2.2).

VGG11 with BatchNorm (:mod:`practica.models.vgg`) on MNIST images resized 28×28 → 32×32
(bilinear, or zero-padding 2 pixels a side with ``resize=pad``) so that VGG11's five 2×2
max-pools divide the image exactly (32 = 2⁵; 28 would become 14, 7, 3, 1, and the fifth
pool would have nothing left). Trained by the shared loop for ``epochs`` passes over the
(optionally reduced, ``train_fraction``) training set; the test set is evaluated
``evals_per_epoch`` times per epoch, and the four handout curves — test/training accuracy
and loss against epochs — are drawn. The training figures are the running mean over the
minibatches since the previous evaluation (dropout on), the usual "training accuracy".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..config import option, positive
from ..context import RunContext
from ..data.base import ImageDataset, Split
from ..models.vgg import vgg11
from ..report.plots import xy_plot
from .base import Experiment, Target
from .classify import TrainingConfig, load_images, to_tensors, train_classifier


@dataclass
class VGG11MNISTConfig(TrainingConfig):
    epochs: int = positive("passes over the training set (sets steps; the handout: 3–5)", 3)
    evals_per_epoch: int = positive("test-set evaluations per epoch (sets eval_every; use "
                                    "more for curves every few minibatches)", 1)
    train_fraction: float = option(1.0, "use this fraction of the training set (the "
                                   "handout's 0.1 for slow machines), stratified, fixed seed",
                                   check=lambda v: 0 < v <= 1, check_msg="must be in (0, 1]")
    resize: str = option("bilinear", "28→32: bilinear resize, or zero-pad 2 pixels a side",
                         choices=("bilinear", "pad"))
    head: int = positive("width of the two hidden FC layers (VGG: 4096; smaller is faster)",
                         4096)
    dropout: float = option(0.5, "dropout before each hidden FC layer's output",
                            check=lambda v: 0 <= v < 1, check_msg="must be in [0, 1)")


def subset(split: Split, fraction: float, seed: int) -> Split:
    """``fraction`` of each class, chosen with a fixed seed (order kept)."""
    if fraction >= 1:
        return split
    rng = np.random.default_rng(seed)
    keep = []
    for label in np.unique(split.labels):
        idx = np.flatnonzero(split.labels == label)
        keep.append(rng.choice(idx, size=max(1, round(fraction * len(idx))), replace=False))
    order = np.sort(np.concatenate(keep))
    return Split(split.images[order], split.labels[order])


def to_32(x: torch.Tensor, how: str, chunk: int = 10000) -> torch.Tensor:
    """N×1×28×28 → N×1×32×32: bilinear resize (in chunks, to bound memory) or zero-pad."""
    if how == "pad":
        pad = (32 - x.shape[-1]) // 2
        return F.pad(x, (pad, pad, pad, pad), value=float(x.min()))
    return torch.cat([F.interpolate(x[i:i + chunk], size=(32, 32), mode="bilinear",
                                    align_corners=False) for i in range(0, len(x), chunk)])


def epoch_curves(rows: list[dict], steps_per_epoch: int, out_dir: Path, title: str,
                 splits: tuple[str, ...] = ("train", "test")) -> None:
    """Accuracy and loss of each split against epochs (step / steps per epoch).

    For VGG11 these are the handout's four curves (a)–(d). Step 0 has no training figure.
    """
    for metric in ("accuracy", "loss"):
        series = {}
        for split in splits:
            pts = [(r["step"] / steps_per_epoch, r["value"]) for r in rows
                   if r["split"] == split and r["metric"] == metric
                   and (split != "train" or r["step"] > 0)]
            if pts:
                series[split] = pts
        xy_plot(series, out_dir / f"{metric}_vs_epoch.png", xlabel="epoch", ylabel=metric,
                title=f"{title} — {metric}", learning_curve=True)


def run(cfg: VGG11MNISTConfig, ctx: RunContext) -> dict[str, float]:
    data = load_images("mnist", ctx)
    data = ImageDataset(data.name, subset(data.train, cfg.train_fraction, ctx.settings.seed),
                        data.test, data.classes, data.source)
    tensors = {k: (to_32(x, cfg.resize), y)
               for k, (x, y) in to_tensors(data, cfg.preprocess).items()}
    steps_per_epoch = len(data.train) // cfg.batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"batch_size {cfg.batch_size} exceeds the {len(data.train)} training "
                         "images; lower batch_size or raise train_fraction")
    eval_every = max(1, steps_per_epoch // cfg.evals_per_epoch)
    cfg = replace(cfg, steps=cfg.epochs * steps_per_epoch, eval_every=eval_every)
    model = vgg11(1, len(data.classes), head=cfg.head, dropout=cfg.dropout)
    ctx.summary_extra.update(train_images=len(data.train), steps_per_epoch=steps_per_epoch,
                             parameters=sum(p.numel() for p in model.parameters()))
    metrics = train_classifier(cfg, ctx, model, data, name="vgg11", tensors=tensors)
    epoch_curves(ctx.run.metrics(), steps_per_epoch, ctx.run.plots, "VGG11 on MNIST")
    return metrics


EXPERIMENTS = [Experiment(
    name="vgg11-mnist",
    handout="Waterloo A5 §2.1–2.2 (VGG11 on MNIST)",
    description="VGG11-BN (config A) on MNIST resized to 32×32, head 512→4096→4096→10 with "
                "dropout 0.5; SGD momentum, cosine, batch 128, 3 epochs; bf16 + channels_last",
    config_cls=VGG11MNISTConfig,
    run=run,
    target=Target("test/accuracy", 0.995, "issue 8 goal (the handout: loss as close to 0 as "
                  "possible)"),
    datasets=("mnist",),
    defaults={"optimizer": "momentum", "lr": 0.02, "momentum": 0.9, "weight_decay": 5e-4,
              "batch_size": 128, "schedule": "cosine", "preprocess": "standardize"},
    settings={"amp": "bf16", "channels_last": True},
    smoke={"epochs": 1, "train_fraction": 0.01, "batch_size": 32, "head": 256,
           "test_limit": 500},
)]
