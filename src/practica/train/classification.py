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


def evaluator(splits: dict[str, tuple[torch.Tensor, torch.Tensor]], ctx: RunContext,
              batch_size: int = 1000):
    """An ``evaluate`` for the Trainer: loss and accuracy on each named split."""

    def evaluate(model: nn.Module) -> dict[str, dict[str, float]]:
        return {name: classification_metrics(predict(model, x, ctx, batch_size), y)
                for name, (x, y) in splits.items()}

    return evaluate


def confusion_matrix(pred: torch.Tensor, y: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Counts[i, j] = number of examples of true class i predicted as j."""
    idx = y.long() * n_classes + pred.long()
    return torch.bincount(idx, minlength=n_classes * n_classes).reshape(n_classes, n_classes)
