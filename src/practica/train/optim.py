"""Optimisers and learning-rate schedules chosen by name from a config."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop")
SCHEDULES = ("constant", "cosine", "step", "onecycle")


def make_optimizer(name: str, params: Iterable[torch.nn.Parameter], lr: float, *,
                   momentum: float = 0.9, weight_decay: float = 0.0,
                   betas: tuple[float, float] = (0.9, 0.999)) -> torch.optim.Optimizer:
    """``sgd`` (plain), ``momentum``, ``nesterov``, ``adam``, ``adamw`` or ``rmsprop``."""
    params = list(params)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name in ("momentum", "nesterov"):
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay,
                               nesterov=name == "nesterov")
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=betas, weight_decay=weight_decay)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, momentum=0.0, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")


def make_schedule(name: str, optimizer: torch.optim.Optimizer, total_steps: int, *,
                  warmup_steps: int = 0, final_fraction: float = 0.0,
                  step_every: int = 0, gamma: float = 0.1
                  ) -> torch.optim.lr_scheduler.LRScheduler | None:
    """A per-step schedule multiplying the base LR.

    - ``constant``: 1 (after the optional linear warm-up);
    - ``cosine``: warm-up, then ½(1 + cos(π t)) decay to ``final_fraction``;
    - ``step``: multiply by ``gamma`` every ``step_every`` steps;
    - ``onecycle``: linear warm-up to the peak, then linear decay to ``final_fraction``.
    """
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; choose from {', '.join(SCHEDULES)}")
    if name == "constant" and warmup_steps == 0:
        return None

    def factor(step: int) -> float:
        if warmup_steps and step < warmup_steps:
            return (step + 1) / warmup_steps
        if name == "constant":
            return 1.0
        if name == "step":
            return gamma ** (step // step_every) if step_every else 1.0
        t = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        if name == "cosine":
            return final_fraction + (1 - final_fraction) * 0.5 * (1 + math.cos(math.pi * t))
        return final_fraction + (1 - final_fraction) * (1 - t)  # onecycle

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
