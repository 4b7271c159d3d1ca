"""First-order optimisers that update a model's ``params`` in place from its ``grads``.

Usage: ``opt.step(model.params, model.grads)`` after ``model.backward``. Updates follow
PyTorch's formulas (so results can be compared one-to-one). Weight decay is the classic
coupled L2 penalty: g ← g + λθ (the gradient of λ/2‖θ‖²). The learning rate for step
t (counted from 0) is ``lr · schedule.factor(t)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# --------------------------------------------------------------------------- schedules


class LRSchedule:
    """Multiplier of the base learning rate as a function of the optimiser step."""

    def factor(self, step: int) -> float:
        """Multiplier for step ``step`` (0-based)."""
        return 1.0


class StepLR(LRSchedule):
    """lr_t = lr · γ^⌊t / step_size⌋ (decay by γ every ``step_size`` steps)."""

    def __init__(self, step_size: int, gamma: float = 0.1) -> None:
        if step_size <= 0:
            raise ValueError(f"StepLR: step_size must be positive, got {step_size}")
        self.step_size, self.gamma = int(step_size), float(gamma)

    def factor(self, step: int) -> float:
        return self.gamma ** (step // self.step_size)


class ExponentialLR(LRSchedule):
    """lr_t = lr · γ^t (smooth exponential decay per step)."""

    def __init__(self, gamma: float) -> None:
        if not 0.0 < gamma <= 1.0:
            raise ValueError(f"ExponentialLR: gamma must be in (0, 1], got {gamma}")
        self.gamma = float(gamma)

    def factor(self, step: int) -> float:
        return self.gamma**step


# --------------------------------------------------------------------------- optimisers


class Optimizer:
    """Base class: per-parameter state keyed by parameter name, a step counter ``t``."""

    def __init__(
        self, lr: float, weight_decay: float = 0.0, schedule: LRSchedule | None = None
    ) -> None:
        if lr < 0 or weight_decay < 0:
            raise ValueError(f"{type(self).__name__}: lr and weight_decay must be >= 0")
        self.base_lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.schedule = schedule or LRSchedule()
        self.t = 0
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self._scratch: dict[str, np.ndarray] = {}

    @property
    def lr(self) -> float:
        """Learning rate the next step will use."""
        return self.base_lr * self.schedule.factor(self.t)

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Apply one update to every parameter (in place)."""
        if set(params) != set(grads):
            raise KeyError(
                f"{type(self).__name__}.step: params and grads have different keys: "
                f"{sorted(set(params) ^ set(grads))}"
            )
        lr = self.lr
        self.t += 1
        for name, p in params.items():
            g = grads[name]
            if g.shape != p.shape:
                raise ValueError(
                    f"{type(self).__name__}.step: grad of {name!r} has shape {g.shape}, "
                    f"parameter has {p.shape}"
                )
            if self.weight_decay:
                g = g + self.weight_decay * p
            self._update(name, p, g, lr)

    def _update(self, name: str, p: np.ndarray, g: np.ndarray, lr: float) -> None:
        raise NotImplementedError

    def _buf(self, name: str, key: str, like: np.ndarray) -> np.ndarray:
        """Persistent per-parameter state array (zeros on first use)."""
        slot = self.state.setdefault(name, {})
        if key not in slot:
            slot[key] = np.zeros_like(like)
        return slot[key]

    def _tmp(self, name: str, like: np.ndarray) -> np.ndarray:
        """Reusable scratch array (avoids a large allocation per step)."""
        buf = self._scratch.get(name)
        if buf is None or buf.shape != like.shape or buf.dtype != like.dtype:
            buf = self._scratch[name] = np.empty_like(like)
        return buf

    def state_dict(self) -> dict[str, Any]:
        """Step counter and copies of the per-parameter state arrays."""
        return {
            "t": self.t,
            "state": {n: {k: v.copy() for k, v in s.items()} for n, s in self.state.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output (copies the arrays)."""
        self.t = int(state["t"])
        self.state = {
            n: {k: np.array(v, copy=True) for k, v in s.items()}
            for n, s in state["state"].items()
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.base_lr}, weight_decay={self.weight_decay})"


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum μ.

    Plain:     θ ← θ − η g
    Momentum:  v ← μ v + g,  θ ← θ − η v          (PyTorch's form)
    Nesterov:  v ← μ v + g,  θ ← θ − η (g + μ v)
    """

    def __init__(
        self,
        lr: float = 1e-2,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        schedule: LRSchedule | None = None,
    ) -> None:
        super().__init__(lr, weight_decay, schedule)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"SGD: momentum must be in [0, 1), got {momentum}")
        if nesterov and momentum == 0.0:
            raise ValueError("SGD: nesterov requires momentum > 0")
        self.momentum, self.nesterov = float(momentum), nesterov

    def _update(self, name: str, p: np.ndarray, g: np.ndarray, lr: float) -> None:
        tmp = self._tmp(name, p)
        if self.momentum:
            v = self._buf(name, "velocity", p)
            v *= self.momentum
            v += g
            if self.nesterov:
                np.multiply(v, self.momentum, out=tmp)
                tmp += g
                tmp *= lr
            else:
                np.multiply(v, lr, out=tmp)
        else:
            np.multiply(g, lr, out=tmp)
        p -= tmp


class Momentum(SGD):
    """SGD with momentum μ = 0.9 by default (``SGD(lr, momentum=μ)``)."""

    def __init__(
        self,
        lr: float = 1e-2,
        momentum: float = 0.9,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        schedule: LRSchedule | None = None,
    ) -> None:
        super().__init__(lr, momentum, nesterov, weight_decay, schedule)


class RMSProp(Optimizer):
    """RMSProp: v ← α v + (1 − α) g²,  θ ← θ − η g / (sqrt(v) + ε)."""

    def __init__(
        self,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        schedule: LRSchedule | None = None,
    ) -> None:
        super().__init__(lr, weight_decay, schedule)
        self.alpha, self.eps = float(alpha), float(eps)

    def _update(self, name: str, p: np.ndarray, g: np.ndarray, lr: float) -> None:
        v = self._buf(name, "square_avg", p)
        tmp = self._tmp(name, p)
        v *= self.alpha
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - self.alpha
        v += tmp
        np.sqrt(v, out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)
        tmp *= lr
        p -= tmp


class Adam(Optimizer):
    """Adam with bias correction (Kingma & Ba):

    m ← β₁ m + (1 − β₁) g,  v ← β₂ v + (1 − β₂) g²,
    m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ),  θ ← θ − η m̂ / (sqrt(v̂) + ε).
    """

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        schedule: LRSchedule | None = None,
    ) -> None:
        super().__init__(lr, weight_decay, schedule)
        self.beta1, self.beta2 = float(betas[0]), float(betas[1])
        self.eps = float(eps)

    def _update(self, name: str, p: np.ndarray, g: np.ndarray, lr: float) -> None:
        m = self._buf(name, "m", p)
        v = self._buf(name, "v", p)
        tmp = self._tmp(name, p)
        b1, b2, t = self.beta1, self.beta2, self.t
        m *= b1
        np.multiply(g, 1.0 - b1, out=tmp)
        m += tmp
        v *= b2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - b2
        v += tmp
        # θ ← θ − (η/bc1) · m / (sqrt(v)/sqrt(bc2) + ε), bc_i = 1 − β_iᵗ
        bc1, bc2 = 1.0 - b1**t, 1.0 - b2**t
        np.sqrt(v, out=tmp)
        tmp *= 1.0 / math.sqrt(bc2)
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        tmp *= lr / bc1
        p -= tmp
