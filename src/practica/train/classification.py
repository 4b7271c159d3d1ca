"""Loss, accuracy and evaluation for classifiers trained by the shared loop."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..context import RunContext
from .batches import batched
from .loop import to_device


def cross_entropy_step(label_smoothing: float = 0.0,
                       transform: Callable[[torch.Tensor], torch.Tensor] | None = None):
    """A ``loss_fn`` for the Trainer: mean cross-entropy and batch accuracy.

    ``transform`` (e.g. random crops/flips) is applied to the input batch first.
    """

    def loss_fn(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]):
        x, y = batch
        if transform is not None:
            x = transform(x)
        logits = model(x)
        loss = F.cross_entropy(logits.float(), y, label_smoothing=label_smoothing)
        accuracy = (logits.argmax(1) == y).float().mean()
        return loss, {"accuracy": accuracy}

    return loss_fn


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, ctx: RunContext,
            batch_size: int = 1000) -> torch.Tensor:
    """Logits (float32, on CPU) for all of ``x``, in batches."""
    out = []
    for start, stop in batched(len(x), batch_size):
        out.append(model(to_device(x[start:stop], ctx)).float().cpu())
    return torch.cat(out)


def classification_metrics(logits: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """Mean cross-entropy and accuracy of ``logits`` against integer labels ``y``."""
    return {"loss": float(F.cross_entropy(logits, y)),
            "accuracy": float((logits.argmax(1) == y).float().mean())}


class Evaluator:
    """An ``evaluate`` for the Trainer: loss and accuracy on each named split.

    The predicted classes of the latest evaluation are kept in ``predictions`` (split →
    tensor), so the final confusion matrix needs no extra pass over the test set.
    """

    def __init__(self, splits: dict[str, tuple[torch.Tensor, torch.Tensor]], ctx: RunContext,
                 batch_size: int = 1000) -> None:
        self.splits, self.ctx, self.batch_size = splits, ctx, batch_size
        self.predictions: dict[str, torch.Tensor] = {}

    def __call__(self, model: nn.Module) -> dict[str, dict[str, float]]:
        out = {}
        for name, (x, y) in self.splits.items():
            logits = predict(model, x, self.ctx, self.batch_size)
            self.predictions[name] = logits.argmax(1)
            out[name] = classification_metrics(logits, y)
        return out


def evaluator(splits: dict[str, tuple[torch.Tensor, torch.Tensor]], ctx: RunContext,
              batch_size: int = 1000) -> Evaluator:
    return Evaluator(splits, ctx, batch_size)


def confusion_matrix(pred: torch.Tensor, y: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Counts[i, j] = number of examples of true class i predicted as j."""
    idx = y.long() * n_classes + pred.long()
    return torch.bincount(idx, minlength=n_classes * n_classes).reshape(n_classes, n_classes)
