"""Figures of generative models: image grids, rows with captions, latent maps, weights."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from ..records.atomic import save_figure


def _hwc(images: np.ndarray | torch.Tensor) -> np.ndarray:
    """(N, C, H, W) in [0, 1] → (N, H, W, C) float in [0, 1] (C = 1 or 3)."""
    a = images.detach().cpu().float().numpy() if isinstance(images, torch.Tensor) else images
    a = np.asarray(a, dtype=np.float32)
    if a.ndim != 4 or a.shape[1] not in (1, 3):
        raise ValueError(f"expected (N, 1 or 3, H, W) images, got {a.shape}")
    return np.clip(a.transpose(0, 2, 3, 1), 0.0, 1.0)


def tile(images: np.ndarray | torch.Tensor, nrow: int, pad: int = 1,
         background: float = 1.0) -> np.ndarray:
    """Images in a grid of ``nrow`` per row: (rows·(H+pad)−pad, nrow·(W+pad)−pad, C)."""
    a = _hwc(images)
    n, h, w, c = a.shape
    rows = -(-n // nrow)
    out = np.full((rows * (h + pad) - pad, nrow * (w + pad) - pad, c), background, np.float32)
    for i in range(n):
        r, q = divmod(i, nrow)
        out[r * (h + pad):r * (h + pad) + h, q * (w + pad):q * (w + pad) + w] = a[i]
    return out


def _show(ax, picture: np.ndarray) -> None:
    if picture.shape[-1] == 1:
        ax.imshow(picture[..., 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(picture, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def save_grid(images: np.ndarray | torch.Tensor, path: Path, *, nrow: int, title: str = ""
              ) -> Path:
    """A grid of images in [0, 1] as a PNG."""
    picture = tile(images, nrow)
    scale = 4.5 / max(picture.shape[:2])
    fig, ax = plt.subplots(figsize=(picture.shape[1] * scale + 0.3,
                                    picture.shape[0] * scale + (0.6 if title else 0.3)), dpi=120)
    _show(ax, picture)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path)
    plt.close(fig)
    return path


def save_rows(rows: Sequence[tuple[str, np.ndarray | torch.Tensor]], path: Path, *,
              captions: Sequence[str] | None = None, title: str = "") -> Path:
    """Rows of equally many images, each row labelled (e.g. originals / reconstructions);
    ``captions`` label the columns (e.g. the classifier's prediction per image)."""
    arrays = [_hwc(images) for _, images in rows]
    n = len(arrays[0])
    fig, axes = plt.subplots(len(rows), n, figsize=(0.9 * n + 1.2, 0.95 * len(rows) + 0.5),
                             dpi=120, squeeze=False)
    for r, ((label, _), a) in enumerate(zip(rows, arrays, strict=True)):
        for q in range(n):
            ax = axes[r][q]
            _show(ax, a[q])
            if q == 0:
                ax.set_ylabel(label, fontsize=8)
            if captions is not None and r == len(rows) - 1:
                ax.set_xlabel(captions[q], fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path)
    plt.close(fig)
    return path


def project_2d(points: np.ndarray) -> tuple[np.ndarray, tuple[str, str]]:
    """The points themselves when 2-D, else their first two principal components; with
    the two axis names."""
    p = np.asarray(points, dtype=np.float64)
    if p.shape[1] == 2:
        return p, ("z₁", "z₂")
    centred = p - p.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    xy = centred @ vt[:2].T
    if xy.shape[1] < 2:  # fewer points than dimensions: pad the missing component
        xy = np.pad(xy, ((0, 0), (0, 2 - xy.shape[1])))
    return xy, ("principal component 1 of μ", "principal component 2 of μ")


def latent_scatter(points: np.ndarray, labels: np.ndarray, classes: Sequence[str], path: Path,
                   *, title: str = "") -> Path:
    """Scatter of encoder means coloured by class (PCA projection when z has > 2 dims)."""
    xy, (xlabel, ylabel) = project_2d(points)
    fig, ax = plt.subplots(figsize=(6.2, 5.2), dpi=110)
    cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
    for c, name in enumerate(classes):
        mask = labels == c
        if mask.any():
            ax.scatter(xy[mask, 0], xy[mask, 1], s=3, alpha=0.6, color=cmap(c % cmap.N),
                       label=name)
    ax.set_title(title or "latent means of the test set", fontsize=9)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(markerscale=4, fontsize=7, loc="best")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path)
    plt.close(fig)
    return path


def _normalise_each(w: np.ndarray) -> np.ndarray:
    flat = w.reshape(len(w), -1)
    lo, hi = flat.min(1, keepdims=True), flat.max(1, keepdims=True)
    return ((flat - lo) / np.maximum(hi - lo, 1e-12)).reshape(w.shape)


def weight_images(weight: torch.Tensor, path: Path, *, title: str,
                  image_shape: tuple[int, int, int] | None = None, limit: int = 64) -> Path:
    """Show a layer's weights as pictures.

    A linear layer whose inputs (or outputs) are the image's pixels: one picture per unit
    (``image_shape`` given). A convolution ``(out, in, k, k)``: one k×k picture per filter
    (RGB when ``in`` is 3, else the first input channel). Anything else: the weight matrix
    as a heat map.
    """
    w = weight.detach().cpu().float().numpy()
    if image_shape is not None and w.ndim == 2:
        n_pixels = int(np.prod(image_shape))
        if w.shape[1] != n_pixels:
            w = w.T  # a decoder's output layer: one column per unit
        pictures = _normalise_each(w[:limit].reshape(-1, *image_shape))
        return save_grid(pictures, path, nrow=int(np.ceil(np.sqrt(len(pictures)))), title=title)
    if w.ndim == 4:
        if w.shape[1] in (1, 3):
            kernels = w[:limit]
        elif w.shape[0] in (1, 3):  # transposed convolution to the image
            kernels = w.transpose(1, 0, 2, 3)[:limit]
        else:
            kernels = w[:limit, :1]
        pictures = _normalise_each(kernels)
        return save_grid(pictures, path, nrow=int(np.ceil(np.sqrt(len(pictures)))), title=title)
    matrix = w.reshape(w.shape[0], -1)
    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    bound = float(np.abs(matrix).max()) or 1.0
    im = ax.imshow(matrix, aspect="auto", cmap="RdBu_r", vmin=-bound, vmax=bound,
                   interpolation="nearest")
    fig.colorbar(im, ax=ax)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("input")
    ax.set_ylabel("output unit")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path)
    plt.close(fig)
    return path
