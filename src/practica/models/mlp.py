"""Multi-layer perceptron for flattened inputs (UvA DL practical 1, §2; CVbL 2019, §1).

The network is a stack of hidden blocks followed by one output layer::

    a_0 = flatten(x)                          x ∈ R^{N×...}, a_0 ∈ R^{N×M}
    z_l = a_{l-1} W_lᵀ + b_l                  (nn.Linear)
    z_l ← Norm(z_l)                           optional: BatchNorm1d or LayerNorm
    a_l = Dropout(h(z_l))                     h ∈ {ELU, tanh, ReLU, GELU}
    logits = a_L W_outᵀ + b_out               no activation, no softmax

The output layer returns raw logits; pair it with ``nn.CrossEntropyLoss`` (which applies
log-softmax internally).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "elu": nn.ELU,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "gelu": nn.GELU,
}
"""Supported hidden-layer activations, by name."""

NORMS: tuple[str | None, ...] = (None, "batch", "layer")
"""Supported normalisation choices after each hidden linear layer."""


def _resolve_norm(norm: str | None, batch_norm: bool) -> str | None:
    """Combine the ``norm`` argument with the ``batch_norm`` shorthand."""
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
    if batch_norm:
        if norm not in (None, "batch"):
            raise ValueError(f"batch_norm=True conflicts with norm={norm!r}")
        return "batch"
    return norm


class MLP(nn.Module):
    """Fully connected classifier: ``[Linear → (Norm) → act → (Dropout)] × L → Linear``.

    Args:
        n_inputs: number of input features ``M`` after flattening (e.g. 3·32·32 for CIFAR-10).
        n_hidden: hidden-layer widths; ``[]`` gives a linear (softmax-regression) model.
        n_classes: number of output logits ``C``.
        activation: one of ``"elu"``, ``"tanh"``, ``"relu"``, ``"gelu"``.
        batch_norm: shorthand for ``norm="batch"``.
        dropout: drop probability after each hidden activation, in ``[0, 1)``; 0 disables it.
        norm: ``None``, ``"batch"`` (``nn.BatchNorm1d``) or ``"layer"`` (``nn.LayerNorm``),
            applied to each hidden pre-activation.

    Input of shape ``(N, ...)`` is flattened to ``(N, n_inputs)``; the output is ``(N, C)``
    logits. Weights use PyTorch's default ``nn.Linear`` initialisation.
    """

    def __init__(
        self,
        n_inputs: int,
        n_hidden: list[int],
        n_classes: int,
        activation: str = "elu",
        batch_norm: bool = False,
        dropout: float = 0.0,
        norm: str | None = None,
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if n_inputs < 1 or n_classes < 1 or any(h < 1 for h in n_hidden):
            raise ValueError("n_inputs, n_classes and every hidden width must be positive")
        self.n_inputs = n_inputs
        self.norm = _resolve_norm(norm, batch_norm)
        self.activation = activation

        layers: list[nn.Module] = []
        width = n_inputs
        for h in n_hidden:
            layers.append(nn.Linear(width, h))
            if self.norm == "batch":
                layers.append(nn.BatchNorm1d(h))
            elif self.norm == "layer":
                layers.append(nn.LayerNorm(h))
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0.0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, n_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Flatten ``x`` of shape ``(N, ...)`` and return logits of shape ``(N, C)``."""
        x = x.reshape(x.shape[0], -1)
        if x.shape[1] != self.n_inputs:
            raise ValueError(
                f"expected {self.n_inputs} features per sample after flattening, got {x.shape[1]}"
            )
        return self.layers(x)
