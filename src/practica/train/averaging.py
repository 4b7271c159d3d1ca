r"""Lookahead-style weight averaging: slow weights that trail the trained (fast) ones.

Every ``every`` steps::

    slow ← β·slow + (1 − β)·fast,     fast ← slow

with ``β`` rising over training (``β = β_max·(t/T)³``): early on the slow weights simply
follow, late in training they average the last few hundred steps, which smooths out the
noise of a high learning rate. At the end ``β = 1`` copies the slow weights into the model.
BatchNorm running statistics are averaged like the parameters.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class Lookahead(nn.Module):
    """Wraps ``net``; ``forward`` is the fast net's, ``update`` pulls the two together.

    The slow copy is a submodule, so it is saved in checkpoints with the model and a resumed
    run continues with exactly the same averages.
    """

    def __init__(self, net: nn.Module, every: int = 5, beta_max: float = 0.95 ** 5) -> None:
        super().__init__()
        if every <= 0 or not 0 <= beta_max <= 1:
            raise ValueError("every must be > 0 and beta_max in [0, 1]")
        self.net = net
        self.slow = copy.deepcopy(net).requires_grad_(False)
        self.every, self.beta_max = every, beta_max

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def _pairs(self):
        fast = [*self.net.parameters(), *self.net.buffers()]
        slow = [*self.slow.parameters(), *self.slow.buffers()]
        return [(f, s) for f, s in zip(fast, slow, strict=True) if f.is_floating_point()]

    @torch.no_grad()
    def update(self, beta: float) -> None:
        """``slow ← β·slow + (1 − β)·fast``, then ``fast ← slow``."""
        for fast, slow in self._pairs():
            slow.lerp_(fast, 1.0 - beta)
            fast.copy_(slow)

    def after_step(self, total_steps: int):
        """A Trainer ``after_step`` hook: update every ``every`` steps and at the last one."""

        def hook(step: int) -> None:
            if step == total_steps:
                self.update(1.0)
            elif step % self.every == 0:
                self.update(self.beta_max * (step / total_steps) ** 3)

        return hook
