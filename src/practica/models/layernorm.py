r"""Layer normalisation, twice: by autograd and with a hand-written backward (UvA DL 1, §3).

For an input ``X ∈ R^{S×M}`` (``S`` samples, ``M`` features) layer norm normalises each row
over its features, then scales and shifts per feature::

    μ_s   = (1/M) Σ_i X_si                               (1) mean
    σ²_s  = (1/M) Σ_i (X_si − μ_s)²                      (2) biased variance (no Bessel)
    X̂_si  = (X_si − μ_s) / sqrt(σ²_s + ε)                (3) normalise
    Y_si  = γ_i X̂_si + β_i                               (4) scale and shift, γ, β ∈ R^M

Unlike batch norm the statistics are per sample, so the layer behaves identically in training
and evaluation and for any batch size (including ``S = 1``).

* :class:`LayerNormAutograd` composes (1)-(4) from elementary tensor ops; autograd derives
  the backward pass.
* :class:`LayerNormFunction` is a ``torch.autograd.Function`` whose backward is derived by hand
  (see its docstring); :class:`LayerNormManual` is the ``nn.Module`` owning γ, β that calls it.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.autograd.function import once_differentiable


def _check_input(x: torch.Tensor, n_neurons: int) -> None:
    """Raise ``ValueError`` unless ``x`` has shape ``(S, n_neurons)``."""
    if x.dim() != 2:
        raise ValueError(
            f"layer norm expects a 2-D input of shape (S, {n_neurons}), "
            f"got {x.dim()}-D input of shape {tuple(x.shape)}"
        )
    if x.shape[1] != n_neurons:
        raise ValueError(
            f"layer norm was built for {n_neurons} features, but the input has "
            f"{x.shape[1]} (shape {tuple(x.shape)})"
        )


class LayerNormAutograd(nn.Module):
    """Layer norm from elementary ops, differentiated by autograd (UvA §3.1).

    Args:
        n_neurons: number of features ``M``.
        eps: ``ε`` added to the variance for numerical stability.

    Parameters ``gamma`` (initialised to ones) and ``beta`` (zeros) have shape ``(M,)``.
    Forward computes equations (1)-(4) of the module docstring on ``x`` of shape ``(S, M)``
    and raises ``ValueError`` for any other shape.
    """

    def __init__(self, n_neurons: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.n_neurons = n_neurons
        self.eps = eps
        self.gamma = nn.Parameter(torch.ones(n_neurons))
        self.beta = nn.Parameter(torch.zeros(n_neurons))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.n_neurons)
        mean = x.mean(dim=1, keepdim=True)  # (1) μ
        centered = x - mean
        var = (centered * centered).mean(dim=1, keepdim=True)  # (2) biased σ²
        x_hat = centered / torch.sqrt(var + self.eps)  # (3) X̂
        return self.gamma * x_hat + self.beta  # (4) Y

    def extra_repr(self) -> str:
        return f"{self.n_neurons}, eps={self.eps}"


class LayerNormFunction(torch.autograd.Function):
    r"""Layer norm as an autograd ``Function`` with a hand-derived backward (UvA §3.2).

    ``LayerNormFunction.apply(x, gamma, beta, eps)`` with ``x`` of shape ``(S, M)`` and
    ``gamma``, ``beta`` of shape ``(M,)``.

    **Derivation.** Write ``σ_s = sqrt(σ²_s + ε)`` and let ``dY = ∂L/∂Y`` be the upstream
    gradient. ``Y_si = γ_i X̂_si + β_i`` gives directly::

        ∂L/∂γ_i = Σ_s dY_si X̂_si          i.e.  ∂L/∂γ = Σ_s dY ⊙ X̂   (sum over the batch)
        ∂L/∂β_i = Σ_s dY_si               i.e.  ∂L/∂β = Σ_s dY

    and ``dX̂ := ∂L/∂X̂ = dY ⊙ γ`` (γ broadcast over rows). Rows are independent, so fix ``s``
    and drop it. With ``X̂_j = (X_j − μ)/σ``, ``∂μ/∂X_k = 1/M`` and
    ``∂σ/∂X_k = (X_k − μ)/(M σ) = X̂_k / M``::

        ∂X̂_j/∂X_k = (δ_jk − 1/M)/σ − (X_j − μ) X̂_k /(M σ²) = (1/σ)(δ_jk − 1/M − X̂_j X̂_k / M)

    Contracting with ``dX̂_j``::

        ∂L/∂X_k = Σ_j dX̂_j ∂X̂_j/∂X_k
                = (1/σ) (dX̂_k − (1/M) Σ_j dX̂_j − X̂_k (1/M) Σ_j dX̂_j X̂_j)

    i.e. row-wise, with ``mean`` over the feature dimension::

        ∂L/∂X = (1/σ) ⊙ (dX̂ − mean(dX̂) − X̂ ⊙ mean(dX̂ ⊙ X̂))

    **What is saved.** Only what backward uses, and only when the corresponding gradient is
    required (``ctx.needs_input_grad`` is already known in forward):

    * ``X̂`` (S×M) — needed for ∂L/∂γ and ∂L/∂X. It replaces ``X``: keeping ``X`` would force
      backward to recompute μ, σ and X̂.
    * ``1/σ`` (S×1) — needed only for ∂L/∂X; a column, so negligible memory.
    * ``γ`` (M,) — needed only for ∂L/∂X (through ``dX̂ = dY ⊙ γ``).
    * ``β`` is never saved: ∂L/∂β depends on ``dY`` alone.

    Unneeded slots are saved as ``None``; if only β requires grad nothing is kept at all.
    Backward returns ``None`` (and does no work) for every input whose gradient is not
    required, and always ``None`` for ``eps``.

    Backward is decorated with ``once_differentiable``: the saved ``X̂`` is detached from ``X``,
    so double backward through this function would be silently wrong; it raises instead.
    """

    @staticmethod
    def forward(
        ctx: Any,
        x: torch.Tensor,
        gamma: torch.Tensor,
        beta: torch.Tensor,
        eps: float = 1e-5,
    ) -> torch.Tensor:
        _check_input(x, gamma.shape[0])
        if gamma.shape != beta.shape or gamma.dim() != 1:
            raise ValueError(
                f"gamma and beta must both have shape ({x.shape[1]},), "
                f"got {tuple(gamma.shape)} and {tuple(beta.shape)}"
            )
        mean = x.mean(dim=1, keepdim=True)
        centered = x - mean
        var = (centered * centered).mean(dim=1, keepdim=True)
        inv_std = torch.rsqrt(var + eps)  # 1/σ, shape (S, 1)
        x_hat = centered * inv_std
        y = gamma * x_hat + beta

        need_x, need_gamma, _need_beta = ctx.needs_input_grad[:3]
        ctx.save_for_backward(
            x_hat if (need_x or need_gamma) else None,
            inv_std if need_x else None,
            gamma if need_x else None,
        )
        return y

    @staticmethod
    @once_differentiable
    def backward(
        ctx: Any, grad_y: torch.Tensor
    ) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None, None]:
        x_hat, inv_std, gamma = ctx.saved_tensors
        need_x, need_gamma, need_beta = ctx.needs_input_grad[:3]
        grad_x = grad_gamma = grad_beta = None

        if need_gamma:
            grad_gamma = (grad_y * x_hat).sum(dim=0)  # Σ_s dY ⊙ X̂
        if need_beta:
            grad_beta = grad_y.sum(dim=0)  # Σ_s dY
        if need_x:
            d_xhat = grad_y * gamma  # dX̂ = dY ⊙ γ
            grad_x = inv_std * (
                d_xhat
                - d_xhat.mean(dim=1, keepdim=True)
                - x_hat * (d_xhat * x_hat).mean(dim=1, keepdim=True)
            )
        return grad_x, grad_gamma, grad_beta, None


class LayerNormManual(LayerNormAutograd):
    """``nn.Module`` owning γ (ones) and β (zeros) that calls :class:`LayerNormFunction`.

    Args:
        n_neurons: number of features ``M``.
        eps: ``ε`` added to the variance for numerical stability.

    Forward takes ``x`` of shape ``(S, M)`` and raises ``ValueError`` for any other shape.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.n_neurons)
        return LayerNormFunction.apply(x, self.gamma, self.beta, self.eps)

    def extra_repr(self) -> str:
        return f"{self.n_neurons}, eps={self.eps}"
