"""Colourisation and super-resolution of CIFAR-10 horses (IIT-H CS6360 A2 §1).

* ``colour-regression``: RegressionCNN, greyscale → RGB, MSE loss.
* ``colour-classification``: ColourCNN (with MyConv2d), greyscale → one of K palette
  colours per pixel, cross-entropy.
* ``colour-unet``: ColourUNet, the same with skip connections; ``batch_sizes=25,100,400``
  (or the ``colour-unet-batch-sizes`` experiment) trains one child run per batch size.
* ``superres-cnn`` / ``superres-unet``: the input is the RGB image average-pooled 4×
  (32×32 → 8×8) and upsampled back by nearest neighbour; the model predicts the
  full-resolution colours (as palette classes, like the assignment). Bilinear
  interpolation of the 8×8 image is the baseline.

Handout defaults: Adam, learning rate 1e-3, batch 100, 25 epochs, NF = 32, kernel 3;
the 1000 CIFAR-10 test horses are the evaluation set (the handout's "validation").
Every run reports per-pixel palette accuracy, PSNR and SSIM against the true image next
to baselines, and writes a result grid, per-block activations and larger test images.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..config import non_negative, option, positive
from ..context import RunContext
from ..data import colour
from ..errors import ConfigError, DataError
from ..models.colourisation import ColourCNN, ColourUNet, MyConv2d, RegressionCNN
from ..records.atomic import save_figure
from ..records.run import read_metrics
from ..report.html import esc, fmt
from ..train import EpochBatches, LoopConfig, Trainer
from ..train.batches import batched
from ..train.optim import OPTIMIZERS, make_optimizer
from .base import Experiment, child

MODELS = ("regression", "cnn", "unet")
TASKS = ("colour", "superres")


@dataclass
class ColourConfig:
    task: str = option("colour", "colour: greyscale → colour; superres: RGB average-pooled "
                       "by `downsample` and upsampled back → full resolution", choices=TASKS)
    model: str = option("cnn", "regression (RegressionCNN, nn.Conv2d, MSE on RGB), cnn "
                        "(ColourCNN) or unet (ColourUNet); cnn and unet classify each pixel "
                        "into the palette with cross-entropy", choices=MODELS)
    colours: int = positive("palette size K (the assignment ships 16, 24 and 32)", 24)
    palette: str = option("auto", "auto: the assignment's colour_kmeans{K}_cat7.npy if found, "
                          "else k-means on the training pixels; file; kmeans",
                          choices=("auto", "file", "kmeans"))
    num_filters: int = positive("NF, filters of the first block", 32)
    kernel: int = option(3, "convolution kernel size", check=lambda v: v > 0 and v % 2 == 1,
                         check_msg="must be a positive odd number")
    conv_impl: str = option("functional", "MyConv2d computation: functional (F.conv2d on "
                            "the layer's own parameters, as in the assignment) or im2col "
                            "(own unfold + matmul; 3-4× slower on CPU)",
                            choices=MyConv2d.IMPLS)
    epochs: int = positive("training epochs", 25)
    batch_size: int = positive("minibatch size", 100)
    optimizer: str = option("adam", "optimiser", choices=OPTIMIZERS)
    lr: float = positive("learning rate", 1e-3)
    downsample: int = option(4, "super-resolution factor (average pooling)",
                             choices=(2, 4, 8))
    batch_sizes: list[int] = option([], "batch-size study: one child run per batch size, "
                                    "same epochs (empty: a single run)",
                                    check=lambda v: v > 0, check_msg="must be > 0")
    epoch_counts: list[int] = option([], "epochs study: one child run per number of epochs "
                                     "(empty: a single run)",
                                     check=lambda v: v > 0, check_msg="must be > 0")
    learning_rates: list[float] = option([], "learning-rate study: one child run per "
                                         "learning rate (empty: a single run)",
                                         check=lambda v: v > 0, check_msg="must be > 0")
    train_limit: int = non_negative("use the first N training horses only (0: all 5000)", 0)
    test_limit: int = non_negative("evaluate on the first N test horses only (0: all 1000)",
                                   0)
    examples: int = positive("test images in the result grid", 10)
    activation_images: int = non_negative("test images whose block activations are drawn",
                                          3)
    large_size: int = option(128, "side of the larger-than-32×32 test images (0: skip)",
                             check=lambda v: v >= 0 and v % 8 == 0,
                             check_msg="must be a multiple of 8 (0 skips them)")

    @property
    def classification(self) -> bool:
        return self.model != "regression"


# --- inputs, targets and metrics -----------------------------------------------------

def model_input(rgb: torch.Tensor, cfg: ColourConfig) -> torch.Tensor:
    """Greyscale channel mean, or the super-resolution input (pool, then nearest up)."""
    if cfg.task == "colour":
        return rgb.mean(1, keepdim=True)
    return F.interpolate(F.avg_pool2d(rgb, cfg.downsample), scale_factor=cfg.downsample,
                         mode="nearest")


def bilinear_baseline(rgb: torch.Tensor, factor: int) -> torch.Tensor:
    """Average-pool by ``factor`` and upsample back bilinearly (the handout's baseline)."""
    return F.interpolate(F.avg_pool2d(rgb, factor), scale_factor=factor, mode="bilinear",
                         align_corners=False).clamp(0, 1)


def nearest_colour(rgb: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """Palette class of every pixel of N×3×H×W images (argmin squared RGB distance)."""
    d = ((rgb.unsqueeze(2) - centres.T.reshape(1, 3, -1, 1, 1)) ** 2).sum(1)
    return d.argmin(1)


def psnr(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR in dB for images in [0, 1]: 10·log10(1 / MSE), MSE floored at 1e-10."""
    mse = ((pred - target) ** 2).flatten(1).mean(1).clamp_min(1e-10)
    return 10 * torch.log10(1.0 / mse)


def ssim(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean SSIM (scikit-image, 7×7 window, data range 1) over N×3×H×W images."""
    from skimage.metrics import structural_similarity

    vals = [structural_similarity(t.transpose(1, 2, 0), p.transpose(1, 2, 0),
                                  channel_axis=-1, data_range=1.0)
            for p, t in zip(pred.astype(np.float64), target.astype(np.float64), strict=True)]
    return float(np.mean(vals))


def to_rgb(output: torch.Tensor, centres: torch.Tensor, classification: bool) -> torch.Tensor:
    """Model output as an RGB image: the palette colour of the argmax, or clamped RGB."""
    if classification:
        return centres[output.argmax(1)].permute(0, 3, 1, 2)
    return output.clamp(0, 1)


def image_scores(rgb: torch.Tensor, target: torch.Tensor, centres: torch.Tensor
                 ) -> dict[str, float]:
    """Palette accuracy, PSNR and SSIM of predicted images against the true ones."""
    acc = (nearest_colour(rgb, centres) == nearest_colour(target, centres)).float().mean()
    return {"accuracy": float(acc), "psnr": float(psnr(rgb, target).mean()),
            "ssim": ssim(rgb.numpy(), target.numpy())}


def build_model(cfg: ColourConfig, n_colours: int) -> nn.Module:
    in_channels = 1 if cfg.task == "colour" else 3
    if cfg.model == "regression":
        return RegressionCNN(in_channels, cfg.num_filters, cfg.kernel)
    conv = functools.partial(MyConv2d, impl=cfg.conv_impl)
    cls = ColourUNet if cfg.model == "unet" else ColourCNN
    return cls(in_channels, n_colours, cfg.num_filters, cfg.kernel, conv=conv)


def get_palette(cfg: ColourConfig, ctx: RunContext, train_rgb: np.ndarray) -> np.ndarray:
    """The K palette centres (K×3), from the assignment's file or computed by k-means."""
    path = None
    if cfg.palette != "kmeans":
        path = colour.locate_palette(cfg.colours, ctx.settings.data_dir)
        if path is None and cfg.palette == "file":
            raise DataError(f"palette {colour.palette_filename(cfg.colours)} not found; "
                            f"{colour.HOW_TO_GET}, or use --set palette=kmeans")
    if path is not None:
        centres, distortion = colour.read_palette(path)
        source = f"file {path.name}"
    else:
        centres, distortion = colour.kmeans(colour.palette_pixels(train_rgb), cfg.colours,
                                            seed=ctx.settings.seed)
        source = "k-means on the training pixels"
    ctx.summary_extra["palette"] = {"source": source, "colours": len(centres),
                                    "distortion": distortion}
    return centres.astype(np.float32)


# --- the run ---------------------------------------------------------------------------

def run(cfg: ColourConfig, ctx: RunContext) -> dict[str, float]:
    studies = [study for study in STUDIES if getattr(cfg, study.field)]
    if len(studies) > 1:
        raise ConfigError("set one of batch_sizes, epoch_counts, learning_rates at a time")
    if studies:
        return run_study(cfg, ctx, studies[0])
    s = ctx.settings
    horses = colour.load_horses(s.data_dir, offline=s.offline, progress=s.progress)
    train_np = horses.train[:cfg.train_limit or None]
    test_np = horses.test[:cfg.test_limit or None]
    if cfg.batch_size > len(train_np):
        raise ConfigError(f"batch_size {cfg.batch_size} is larger than the {len(train_np)} "
                          "training images")
    centres_np = get_palette(cfg, ctx, train_np)
    centres = torch.from_numpy(centres_np)
    train_rgb, test_rgb = torch.from_numpy(train_np), torch.from_numpy(test_np)
    train_x, test_x = model_input(train_rgb, cfg), model_input(test_rgb, cfg)
    train_cls, test_cls = nearest_colour(train_rgb, centres), nearest_colour(test_rgb, centres)
    model = build_model(cfg, len(centres))
    optimizer = make_optimizer(cfg.optimizer, model.parameters(), cfg.lr)
    sampler = EpochBatches(len(train_rgb), cfg.batch_size, seed=s.seed)
    steps = cfg.epochs * sampler.per_epoch
    dev_centres = centres.to(ctx.device)

    def batch_at(step: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        idx = sampler(step)
        return train_x[idx], train_rgb[idx], train_cls[idx]

    def loss_fn(model: nn.Module, batch: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        x, rgb, cls = batch
        out = model(x)
        if cfg.classification:
            loss = F.cross_entropy(out.float(), cls)
            pred = out.argmax(1)
        else:
            loss = F.mse_loss(out.float(), rgb)
            pred = nearest_colour(out.detach().float(), dev_centres)
        return loss, {"accuracy": (pred == cls).float().mean()}

    def predict(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        outs = [model(x[a:b].to(ctx.device)).float().cpu() for a, b in batched(len(x), 200)]
        return torch.cat(outs)

    def evaluate(model: nn.Module) -> dict[str, dict[str, float]]:
        out = predict(model, test_x)
        loss = (F.cross_entropy(out, test_cls) if cfg.classification
                else F.mse_loss(out, test_rgb))
        rgb = to_rgb(out, centres, cfg.classification)
        acc = (nearest_colour(rgb, centres) == test_cls).float().mean()
        return {"test": {"loss": float(loss), "accuracy": float(acc),
                         "psnr": float(psnr(rgb, test_rgb).mean())}}

    trainer = Trainer(ctx, model, optimizer, batch_at, loss_fn, evaluate,
                      LoopConfig(steps=steps, eval_every=sampler.per_epoch), name=cfg.model)
    final = trainer.fit()
    metrics = {f"{split}/{k}": v for split, m in final.items() for k, v in m.items()}

    model.eval()
    with torch.no_grad():
        out = predict(model, test_x)
    pred_rgb = to_rgb(out, centres, cfg.classification)
    metrics["test/ssim"] = ssim(pred_rgb.numpy(), test_np)
    baselines = {"palette (quantised truth)": centres[test_cls].permute(0, 3, 1, 2)}
    if cfg.task == "colour":
        baselines["greyscale input"] = test_x.expand(-1, 3, -1, -1)
    else:
        baselines["nearest (model input)"] = test_x
        baselines["bilinear"] = bilinear_baseline(test_rgb, cfg.downsample)
    rows = {f"{cfg.model} (this run)": {k: metrics[f"test/{k}"]
                                        for k in ("accuracy", "psnr", "ssim")}}
    for name, images in baselines.items():
        scores = image_scores(images, test_rgb, centres)
        rows[name] = scores
        key = name.split(" ")[0]
        metrics.update({f"baseline/{key}/{k}": v for k, v in scores.items()})
    ctx.summary_extra["comparison"] = rows
    ctx.summary_extra["steps"] = steps
    ctx.report_sections["Model against baselines (test horses)"] = comparison_html(rows)

    figures(cfg, ctx, model, centres, test_rgb, test_x, pred_rgb)
    return metrics


def comparison_html(rows: dict[str, dict[str, float]]) -> str:
    body = "".join(f"<tr><td>{esc(name)}</td>"
                   + "".join(f"<td>{esc(fmt(m[k]))}</td>" for k in ("accuracy", "psnr", "ssim"))
                   + "</tr>" for name, m in rows.items())
    return ("<p>Per-pixel accuracy: the predicted colour's nearest palette entry equals the "
            "true pixel's. PSNR in dB (data range 1). SSIM from scikit-image.</p>"
            "<table><tr><th>images</th><th>pixel accuracy</th><th>PSNR (dB)</th>"
            f"<th>SSIM</th></tr>{body}</table>")


# --- figures ---------------------------------------------------------------------------

def figures(cfg: ColourConfig, ctx: RunContext, model: nn.Module, centres: torch.Tensor,
            test_rgb: torch.Tensor, test_x: torch.Tensor, pred_rgb: torch.Tensor) -> None:
    n = min(cfg.examples, len(test_rgb))
    rows = {"input": test_x[:n], "output": pred_rgb[:n], "ground truth": test_rgb[:n]}
    if cfg.task == "superres":
        rows["bilinear"] = bilinear_baseline(test_rgb[:n], cfg.downsample)
    image_grid(rows, ctx.run.plots / "result_grid.png",
               title=f"{cfg.task} — {cfg.model}: test horses")
    palette_plot(centres.numpy(), ctx.run.plots / "palette.png")
    with torch.no_grad():
        for i in range(min(cfg.activation_images, len(test_x))):
            acts = model.activations(test_x[i:i + 1].to(ctx.device))
            activation_plot(test_x[i], acts, ctx.run.plots / f"activations_{i}.png",
                            title=f"{cfg.model} ({cfg.task}) activations, test image {i}")
        if cfg.large_size:
            large = larger_images(test_rgb[0], cfg.large_size)
            x = model_input(large, cfg)
            out = torch.cat([model(x[j:j + 1].to(ctx.device)).float().cpu()
                             for j in range(len(x))])
            big = {"input": x, "output": to_rgb(out, centres, cfg.classification),
                   "ground truth": large}
            if cfg.task == "superres":
                big["bilinear"] = bilinear_baseline(large, cfg.downsample)
            image_grid(big, ctx.run.plots / "larger_images.png",
                       title=f"{cfg.large_size}×{cfg.large_size} inputs (trained on 32×32)")


def larger_images(horse: torch.Tensor, size: int) -> torch.Tensor:
    """A CIFAR horse upsampled bicubically and scikit-image's cat photo, size×size RGB."""
    from skimage import data as skdata
    from skimage.transform import resize

    up = F.interpolate(horse[None], size=(size, size), mode="bicubic",
                       align_corners=False).clamp(0, 1)
    cat = skdata.chelsea()
    h, w = cat.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = resize(cat[top:top + side, left:left + side], (size, size), anti_aliasing=True)
    cat_t = torch.from_numpy(crop.astype(np.float32)).permute(2, 0, 1)[None]
    return torch.cat([up, cat_t])


def _show(ax: Any, img: torch.Tensor) -> None:
    img = img.detach().float().cpu()
    if img.shape[0] == 1:
        ax.imshow(img[0].numpy(), cmap="gray", vmin=0, vmax=1)
    else:
        ax.imshow(img.permute(1, 2, 0).clamp(0, 1).numpy())
    ax.set_xticks([])
    ax.set_yticks([])


def image_grid(rows: dict[str, torch.Tensor], path: Any, *, title: str = "") -> None:
    """One row per named image batch (N×C×H×W), one column per image."""
    import matplotlib.pyplot as plt

    n = len(next(iter(rows.values())))
    size = 1.3 if n > 3 else 2.6
    fig, axes = plt.subplots(len(rows), n, figsize=(size * n + 1, size * len(rows) + 0.4),
                             dpi=100, squeeze=False)
    for r, (name, images) in enumerate(rows.items()):
        for c in range(n):
            _show(axes[r, c], images[c])
        axes[r, 0].set_ylabel(name, fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path)
    plt.close(fig)


def tile_maps(maps: np.ndarray, size: int, columns: int = 8, gap: int = 2) -> np.ndarray:
    """Feature maps C×h×w, each scaled to [0, 1] and enlarged to size×size, as a mosaic."""
    lo = maps.min(axis=(1, 2), keepdims=True)
    hi = maps.max(axis=(1, 2), keepdims=True)
    maps = (maps - lo) / np.maximum(hi - lo, 1e-8)
    f = max(1, size // maps.shape[1])
    maps = maps.repeat(f, 1).repeat(f, 2)
    columns = min(columns, len(maps))
    rows = -(-len(maps) // columns)
    side = maps.shape[1]
    out = np.full((rows * (side + gap) - gap, columns * (side + gap) - gap), np.nan)
    for i, m in enumerate(maps):
        r, c = divmod(i, columns)
        out[r * (side + gap):r * (side + gap) + side, c * (side + gap):c * (side + gap) + side] = m
    return out


def activation_plot(x: torch.Tensor, acts: dict[str, torch.Tensor], path: Any, *,
                    title: str = "", channels: int = 16) -> None:
    """The input and, per block, its first ``channels`` feature maps (each own scale)."""
    import matplotlib.pyplot as plt

    size = max(a.shape[-1] for a in acts.values())
    fig, axes = plt.subplots(len(acts) + 1, 1, figsize=(7, 1.35 * (len(acts) + 1)), dpi=100)
    _show(axes[0], x)
    axes[0].set_ylabel("input", fontsize=8)
    for ax, (name, a) in zip(axes[1:], acts.items(), strict=True):
        a = a[0].float().cpu().numpy()
        ax.imshow(tile_maps(a[:channels], size), cmap="viridis", interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(f"{name}\n{a.shape[0]}×{a.shape[1]}²", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def palette_plot(centres: np.ndarray, path: Any) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(3, len(centres) * 0.35), 0.9), dpi=100)
    ax.imshow(centres[None].clip(0, 1), aspect="auto")
    ax.set_yticks([])
    ax.set_xticks(range(len(centres)))
    ax.tick_params(labelsize=6)
    ax.set_title(f"palette: {len(centres)} colours", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


# --- studies: one child run per value of a setting --------------------------------------

@dataclass(frozen=True)
class Study:
    """A study over one setting: the list field that holds its values, the setting each
    child gets, the child label prefix and the plots' wording."""

    field: str  # e.g. "batch_sizes"
    setting: str  # e.g. "batch_size"
    prefix: str  # child labels: f"{prefix}{value}"
    name: str  # "batch size"
    note: str  # what stays fixed


STUDIES = (
    Study("batch_sizes", "batch_size", "batch", "batch size", "same epochs"),
    Study("epoch_counts", "epochs", "epochs", "epochs", "same batch size and learning rate"),
    Study("learning_rates", "lr", "lr", "learning rate", "same epochs and batch size"),
)


def run_study(cfg: ColourConfig, ctx: RunContext, study: Study) -> dict[str, float]:
    """Train one child run per value of ``study.setting`` and compare their curves."""
    from ..report.plots import compare_curves, xy_plot

    out: dict[str, float] = {}
    curves, finals, rows = {}, {"test loss": [], "test accuracy": []}, {}
    reset = {s.field: [] for s in STUDIES}
    keys = ("train/loss", "test/loss", "test/accuracy", "test/psnr", "test/ssim")
    for value in getattr(cfg, study.field):
        label = f"{study.prefix}{value:g}" if isinstance(value, float) else \
            f"{study.prefix}{value}"
        point = dataclasses.replace(cfg, **reset, **{study.setting: value})
        summary = child(ctx, label, ctx.experiment, point)
        m = summary["metrics"]
        for k in keys:
            out[f"{label}/{k}"] = m[k]
        rows[label] = m
        finals["test loss"].append((value, m["test/loss"]))
        finals["test accuracy"].append((value, m["test/accuracy"]))
        curves[f"{study.name} {value:g}"] = read_metrics(
            ctx.run.path / "children" / label / "metrics.csv")
    plots = ctx.run.plots
    slug = study.field
    logx = study.setting != "epochs"
    scale = " (log scale)" if logx else ""
    for metric in ("loss", "accuracy"):
        compare_curves(curves, metric, plots / f"{slug}_{metric}.png",
                       splits=("train", "test"), xlabel="step",
                       title=f"{cfg.model}: {metric} by {study.name} ({study.note})")
    what = "after each run's epochs" if study.setting == "epochs" else \
        f"after {cfg.epochs} epochs"
    setting_slug = study.name.replace(" ", "_")
    xy_plot({"test loss": finals["test loss"]}, plots / f"final_loss_vs_{setting_slug}.png",
            xlabel=f"{study.name}{scale}", ylabel="final test loss", logx=logx,
            title=f"{cfg.model}: final test loss by {study.name}, {what}")
    xy_plot({"test accuracy": finals["test accuracy"]},
            plots / f"final_accuracy_vs_{setting_slug}.png", xlabel=f"{study.name}{scale}",
            ylabel="final test pixel accuracy", logx=logx,
            title=f"{cfg.model}: final test pixel accuracy by {study.name}, {what}")
    head = "".join(f"<th>{esc(k)}</th>" for k in keys)
    body = "".join(f"<tr><td>{esc(label)}</td>"
                   + "".join(f"<td>{esc(fmt(m[k]))}</td>" for k in keys) + "</tr>"
                   for label, m in rows.items())
    ctx.report_sections[study.name.capitalize() + "s"] = (
        f"<p>One child run per {study.name} ({study.note}). The children's own reports "
        f"(children/{study.prefix}N/report.html) hold their result grids.</p>"
        f"<table><tr><th>run</th>{head}</tr>{body}</table>")
    ctx.summary_extra[study.field] = {label: {k: m[k] for k in keys}
                                      for label, m in rows.items()}
    ctx.standard_plots = False
    return out


HANDOUT = "IIT-H CS6360 A2 §1"
SMOKE = {"epochs": 1, "train_limit": 300, "test_limit": 100, "examples": 5,
         "activation_images": 1, "large_size": 64}
COMMON = "Adam 1e-3, batch 100, 25 epochs, NF 32, kernel 3; CIFAR-10 horses"


def _experiment(name: str, handout: str, description: str, defaults: dict[str, Any],
                smoke: dict[str, Any] | None = None) -> Experiment:
    return Experiment(name=name, handout=f"{HANDOUT} {handout}", description=description,
                      config_cls=ColourConfig, run=run, datasets=("cifar10",),
                      defaults=defaults, smoke={**SMOKE, **(smoke or {})})


EXPERIMENTS = [
    _experiment("colour-regression", "q1 (colourisation as regression)",
                f"RegressionCNN greyscale → RGB with MSE; {COMMON}", {"model": "regression"}),
    _experiment("colour-classification", "q2 (colourisation as classification)",
                f"ColourCNN (MyConv2d) greyscale → 24 palette colours, cross-entropy; {COMMON}",
                {"model": "cnn"}),
    _experiment("colour-unet", "q3 (skip connections)",
                f"ColourUNet (concatenated skips), 24 colours, cross-entropy; {COMMON}",
                {"model": "unet"}),
    _experiment("colour-unet-batch-sizes", "q3c (batch sizes)",
                "ColourUNet trained with batch sizes 25, 100 and 400 for 25 epochs each",
                {"model": "unet", "batch_sizes": [25, 100, 400]},
                {"batch_sizes": [50, 100], "activation_images": 0, "large_size": 0}),
    _experiment("colour-regression-epochs", "q1c (number of epochs)",
                "RegressionCNN retrained for 5, 25 and 50 epochs: loss and outputs compared",
                {"model": "regression", "epoch_counts": [5, 25, 50]},
                {"epoch_counts": [1, 2], "activation_images": 0, "large_size": 0}),
    _experiment("colour-unet-learning-rates", "q6a (a hyperparameter: the learning rate)",
                "ColourUNet trained with Adam at learning rates 1e-4, 1e-3 and 1e-2, 25 epochs",
                {"model": "unet", "learning_rates": [1e-4, 1e-3, 1e-2]},
                {"learning_rates": [1e-3, 1e-2], "activation_images": 0, "large_size": 0}),
    _experiment("superres-cnn", "q4 (super-resolution)",
                f"ColourCNN from the 4× downsampled RGB image, bilinear baseline; {COMMON}",
                {"task": "superres", "model": "cnn"}),
    _experiment("superres-unet", "q4 (super-resolution)",
                f"ColourUNet from the 4× downsampled RGB image, bilinear baseline; {COMMON}",
                {"task": "superres", "model": "unet"}),
]
