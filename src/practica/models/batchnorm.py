r"""Batch normalisation, twice: by autograd and with a hand-written backward (the 2019
edition of UvA DL practical 1, §3).

For an input ``X ∈ R^{S×M}`` batch norm normalises each feature over the batch, then
scales and shifts it (training mode: the batch's own statistics)::

    μ_i   = (1/S) Σ_s X_si                               (1) mean over the batch
    σ²_i  = (1/S) Σ_s (X_si − μ_i)²                      (2) biased variance
    X̂_si  = (X_si − μ_i) / sqrt(σ²_i + ε)                (3) normalise
    Y_si  = γ_i X̂_si + β_i                               (4) scale and shift, γ, β ∈ R^M

It is layer norm with the roles of the two axes exchanged, so its backward is the same
expression with the means taken over the batch (see :class:`BatchNormFunction`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.autograd.function import once_differentiable


def _check_input(x: torch.Tensor, n_neurons: int) -> None:
    """Raise ``ValueError`` unless ``x`` has shape ``(S, n_neurons)`` with ``S ≥ 2``."""
    if x.dim() != 2 or x.shape[1] != n_neurons:
        raise ValueError(f"batch norm expects an input of shape (S, {n_neurons}), got "
                         f"{tuple(x.shape)}")
    if x.shape[0] < 2:
        raise ValueError("batch norm needs at least 2 samples to compute batch statistics")


class BatchNormAutograd(nn.Module):
    """Batch norm from elementary ops, differentiated by autograd; γ ones, β zeros (M,)."""

    def __init__(self, n_neurons: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.n_neurons = n_neurons
        self.eps = eps
        self.gamma = nn.Parameter(torch.ones(n_neurons))
        self.beta = nn.Parameter(torch.zeros(n_neurons))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.n_neurons)
        mean = x.mean(dim=0, keepdim=True)  # (1) μ
        centered = x - mean
        var = (centered * centered).mean(dim=0, keepdim=True)  # (2) biased σ²
        return self.gamma * centered / torch.sqrt(var + self.eps) + self.beta  # (3), (4)


class BatchNormFunction(torch.autograd.Function):
    r"""Batch norm with a hand-derived backward: ``BatchNormFunction.apply(x, gamma, beta,
    eps)``.

    With ``σ_i = sqrt(σ²_i + ε)`` and ``dX̂ = dY ⊙ γ``, the derivation of the layer norm
    (:class:`~practica.models.layernorm.LayerNormFunction`) carried over to the batch axis
    gives::

        ∂L/∂γ = Σ_s dY ⊙ X̂,    ∂L/∂β = Σ_s dY,
        ∂L/∂X = (1/σ) ⊙ (dX̂ − mean_s(dX̂) − X̂ ⊙ mean_s(dX̂ ⊙ X̂))

    Only what backward needs is saved, and only for the gradients that are required.
    """

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor,
                eps: float = 1e-5) -> torch.Tensor:
        _check_input(x, gamma.shape[0])
        mean = x.mean(dim=0, keepdim=True)
        centered = x - mean
        inv_std = torch.rsqrt((centered * centered).mean(dim=0, keepdim=True) + eps)  # (1, M)
        x_hat = centered * inv_std
        need_x, need_gamma, _ = ctx.needs_input_grad[:3]
        ctx.save_for_backward(x_hat if (need_x or need_gamma) else None,
                              inv_std if need_x else None, gamma if need_x else None)
        return gamma * x_hat + beta

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_y: torch.Tensor
                 ) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None, None]:
        x_hat, inv_std, gamma = ctx.saved_tensors
        need_x, need_gamma, need_beta = ctx.needs_input_grad[:3]
        grad_x = grad_gamma = grad_beta = None
        if need_gamma:
            grad_gamma = (grad_y * x_hat).sum(dim=0)
        if need_beta:
            grad_beta = grad_y.sum(dim=0)
        if need_x:
            d_xhat = grad_y * gamma
            grad_x = inv_std * (d_xhat - d_xhat.mean(dim=0, keepdim=True)
                                - x_hat * (d_xhat * x_hat).mean(dim=0, keepdim=True))
        return grad_x, grad_gamma, grad_beta, None


class BatchNormManual(BatchNormAutograd):
    """``nn.Module`` owning γ and β that calls :class:`BatchNormFunction`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.n_neurons)
        return BatchNormFunction.apply(x, self.gamma, self.beta, self.eps)
