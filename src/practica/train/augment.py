"""Data augmentation on whole batches of tensors (no per-image Python work)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def random_flip(x: torch.Tensor) -> torch.Tensor:
    """Mirror each image of an N×C×H×W batch left-right with probability ½."""
    mask = torch.rand(x.shape[0], device=x.device) < 0.5
    return torch.where(mask[:, None, None, None], x.flip(3), x)


def random_crop(x: torch.Tensor, padding: int = 4, mode: str = "constant") -> torch.Tensor:
    """Pad by ``padding`` and take a random H×W crop per image (random translation).

    ``mode`` is F.pad's: ``constant`` (zeros) or ``reflect`` (mirror the border pixels).
    """
    if padding <= 0:
        return x
    n, c, h, w = x.shape
    padded = F.pad(x, (padding, padding, padding, padding), mode=mode)
    dy = torch.randint(0, 2 * padding + 1, (n,), device=x.device)
    dx = torch.randint(0, 2 * padding + 1, (n,), device=x.device)
    rows = (torch.arange(h, device=x.device)[None, :] + dy[:, None])[:, None, :, None]
    cols = (torch.arange(w, device=x.device)[None, :] + dx[:, None])[:, None, None, :]
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    chans = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, chans, rows, cols]


def crop_flip(padding: int = 4):
    """Random translation by up to ``padding`` pixels, then a random horizontal flip."""

    def transform(x: torch.Tensor) -> torch.Tensor:
        return random_flip(random_crop(x, padding))

    return transform
