r"""A small, fast CIFAR-10 ConvNet for the CPU speedrun (``cifar-speedrun``).

The shape follows the published fast-CIFAR recipes (David Page's ResNet-9 series,
hlb-CIFAR10, airbench): a frozen *patch-whitening* first layer, then three blocks

    conv 3×3 → max-pool 2 → BatchNorm → GELU → conv 3×3 → BatchNorm → GELU

of widths 64, 256, 256, a global max-pool and a linear classifier whose output is scaled
down (``head_scale``) so the initial logits are small.

Patch whitening. Let ``p ∈ R^{3·k·k}`` be the k×k patches of the training images and
``Σ = Cov(p) = V Λ Vᵀ``. A convolution whose filters are the rows of ``Λ^{-1/2} Vᵀ`` maps
patches to coordinates with identity covariance: every direction of pixel space starts on an
equal footing, which is what lets a short schedule make progress on all of them at once. The
layer keeps both signs of each filter (``±Λ^{-1/2} Vᵀ``), so that the GELU after it passes
both halves of each whitened coordinate; it is not trained (its bias is, briefly).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def patch_whitening_filters(images: torch.Tensor, kernel: int = 2, eps: float = 5e-4
                            ) -> torch.Tensor:
    """Filters ``(2·d, C, k, k)`` with ``d = C·k²`` that whiten the k×k patches of ``images``.

    ``images``: float ``(N, C, H, W)``, already normalised as the network will see them.
    Rows ``i < d`` are ``v_i / sqrt(λ_i + eps)`` for the eigenpairs of the patch covariance,
    rows ``d + i`` their negatives; ``eps`` keeps near-zero eigenvalues from exploding.
    """
    if images.dim() != 4:
        raise ValueError(f"images must be N×C×H×W, got shape {tuple(images.shape)}")
    c = images.shape[1]
    patches = images.float().unfold(2, kernel, 1).unfold(3, kernel, 1)  # N,C,H',W',k,k
    patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(-1, c * kernel * kernel).double()
    patches = patches - patches.mean(dim=0)
    cov = patches.T @ patches / (len(patches) - 1)
    eigenvalues, eigenvectors = torch.linalg.eigh(cov)
    filters = (eigenvectors.T / torch.sqrt(eigenvalues.clamp_min(0) + eps)[:, None])
    filters = filters.reshape(-1, c, kernel, kernel).float()
    return torch.cat([filters, -filters])


class ConvBlock(nn.Sequential):
    """conv 3×3 → max-pool 2 → BN → GELU → conv 3×3 → BN → GELU (no conv biases: BN has them)."""

    def __init__(self, c_in: int, c_out: int, bn_momentum: float) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            nn.MaxPool2d(2),
            _batch_norm(c_out, bn_momentum),
            nn.GELU(),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            _batch_norm(c_out, bn_momentum),
            nn.GELU(),
        )


def _batch_norm(channels: int, momentum: float) -> nn.BatchNorm2d:
    """BatchNorm with the scale γ fixed at 1 (only the shift β trains), as in the recipes."""
    bn = nn.BatchNorm2d(channels, momentum=momentum)
    bn.weight.requires_grad_(False)
    return bn


class SpeedrunNet(nn.Module):
    """Whitening conv (k×k, 2·3k² filters, no padding) → GELU → 3 ConvBlocks → max → linear."""

    def __init__(self, widths: Sequence[int] = (64, 256, 256), *, whiten_kernel: int = 2,
                 num_classes: int = 10, in_channels: int = 3, bn_momentum: float = 0.4,
                 head_scale: float = 1 / 9) -> None:
        super().__init__()
        whiten_width = 2 * in_channels * whiten_kernel ** 2
        self.whiten = nn.Conv2d(in_channels, whiten_width, whiten_kernel, bias=True)
        self.whiten.weight.requires_grad_(False)
        self.act = nn.GELU()
        chans = [whiten_width, *widths]
        self.blocks = nn.Sequential(*[ConvBlock(a, b, bn_momentum)
                                      for a, b in zip(chans[:-1], chans[1:], strict=True)])
        self.pool = nn.AdaptiveMaxPool2d(1)
        self.head = nn.Linear(widths[-1], num_classes, bias=False)
        self.head_scale = head_scale
        for block in self.blocks:
            for m in block:
                if isinstance(m, nn.Conv2d):  # PyTorch's init, plus identity on the first
                    k = min(m.in_channels, m.out_channels)  # min(c_in, c_out) filters
                    with torch.no_grad():
                        nn.init.dirac_(m.weight[:k])

    @torch.no_grad()
    def init_whitening(self, images: torch.Tensor, eps: float = 5e-4) -> None:
        """Set the first layer's filters from (a sample of) the training images."""
        filters = patch_whitening_filters(images, self.whiten.kernel_size[0], eps)
        if filters.shape != self.whiten.weight.shape:
            raise ValueError(f"whitening filters {tuple(filters.shape)} do not fit the layer "
                             f"{tuple(self.whiten.weight.shape)}")
        self.whiten.weight.copy_(filters)
        self.whiten.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.act(self.whiten(x)))
        return self.head(self.pool(x).flatten(1)) * self.head_scale
