"""Image captioning with the NumPy RNN (EECS 545 HW4 §4, after CS231n assignment 3).

Two experiments share one pipeline:

* ``captioning-overfit``: the classic check — 50 training captions, batch 25, 50 epochs of
  Adam (lr 5e-3, ×0.95 per epoch); the loss should fall close to zero and greedy samples
  on those training images should reproduce their captions, while validation samples
  show it generalises poorly.
* ``captioning-rnn``: the full training run, with learning curves and samples.

Data: the handout's COCO captioning folder when it is found (``--data-dir``; see
:mod:`practica.data.coco_captioning`), else — this machine has no COCO — the digit-pair
task of :mod:`practica.data.digit_captions`, whose image features are the penultimate
layer of a small ConvNet that practica first trains (as a sub-run, ``children/feature-cnn``)
to recognise both digits and the layout of the composite images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..config import non_negative, option, positive
from ..context import RunContext
from ..data import coco_captioning, digit_captions
from ..data.coco_captioning import CaptionData
from ..errors import PracticaError
from ..numpy_nn.captioning import CELL_TYPES, CaptioningRNN, decode_captions
from ..numpy_nn.captioning_solver import CaptioningSolver
from ..numpy_nn.optim import Adam
from ..records.atomic import atomic_open, save_figure
from ..report.html import esc
from ..train import EpochBatches, LoopConfig, Trainer
from ..train.batches import batched
from .base import Experiment, Target, child
from .classify import load_images
from .numpy_runner import run_solver

DATASETS = ("auto", "coco", "digit-pairs")
HEADS = (10, 10, 2)  # first digit, second digit, layout


# --------------------------------------------------------------------------- feature CNN


class FeatureNet(nn.Module):
    """conv5/2 → conv3 → pool → conv3 → pool → fc (the features) → three heads."""

    def __init__(self, feature_dim: int = 128) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 5, stride=2, padding=2), nn.ReLU(),  # 28×28
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 14×14
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 7×7
            nn.Flatten(), nn.Linear(64 * 7 * 7, feature_dim), nn.ReLU())
        self.heads = nn.Linear(feature_dim, sum(HEADS))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.heads(self.body(x))


def head_loss(logits: torch.Tensor, contents: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Sum of the three heads' cross-entropies; whole-image and per-digit correctness."""
    parts = torch.split(logits.float(), HEADS, dim=1)
    loss = sum(F.cross_entropy(p, contents[:, k]) for k, p in enumerate(parts))
    right = torch.stack([p.argmax(1) == contents[:, k] for k, p in enumerate(parts)], dim=1)
    return loss, right.all(dim=1).float(), right[:, :2].float()


@dataclass
class FeatureConfig:
    train_images: int = positive("training composites", 20000)
    val_images: int = positive("validation composites", 2000)
    steps: int = positive("training steps", 1500)
    lr: float = positive("Adam learning rate", 1e-3)
    batch_size: int = positive("minibatch size", 100)
    feature_dim: int = positive("feature (penultimate layer) size", 128)


def _as_float(images: torch.Tensor) -> torch.Tensor:
    return images.float().div_(255.0)


def run_features(cfg: FeatureConfig, ctx: RunContext) -> dict[str, float]:
    """Train :class:`FeatureNet` on the digit pairs; save both splits' features."""
    mnist = load_images("mnist", ctx)
    train, val = digit_captions.make_pairs(mnist.train.images, mnist.train.labels,
                                           cfg.train_images, cfg.val_images, ctx.settings.seed)
    x_train, y_train = torch.from_numpy(train.images), torch.from_numpy(train.contents)
    x_val, y_val = torch.from_numpy(val.images), torch.from_numpy(val.contents)
    model = FeatureNet(cfg.feature_dim)
    sampler = EpochBatches(len(y_train), min(cfg.batch_size, len(y_train)), ctx.settings.seed)

    def batch_at(step: int):
        idx = sampler(step)
        return _as_float(x_train[idx]), y_train[idx]

    def loss_fn(net: nn.Module, batch):
        x, y = batch
        loss, image_ok, digit_ok = head_loss(net(x), y)
        return loss, {"accuracy": image_ok.mean(), "digit_accuracy": digit_ok.mean()}

    def evaluate(net: nn.Module):
        totals = torch.zeros(3)
        for start, stop in batched(len(y_val), 500):
            loss, image_ok, digit_ok = head_loss(net(_as_float(x_val[start:stop])),
                                                 y_val[start:stop])
            totals += torch.stack([loss * (stop - start), image_ok.sum(), digit_ok.sum() / 2])
        loss, acc, digit = (totals / len(y_val)).tolist()
        return {"val": {"loss": loss, "accuracy": acc, "digit_accuracy": digit}}

    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    trainer = Trainer(ctx, model, optimizer, batch_at, loss_fn, evaluate,
                      LoopConfig(steps=cfg.steps, eval_every=max(1, min(500, cfg.steps))),
                      name="feature-cnn")
    final = trainer.fit()
    model.eval()
    with torch.no_grad():
        feats = {name: torch.cat([model.features(_as_float(x[a:b]))
                                  for a, b in batched(len(x), 500)]).numpy()
                 for name, x in (("train", x_train), ("val", x_val))}
    with atomic_open(ctx.run.path / "features.npz", "wb", sync=False) as fh:
        np.savez(fh, train_features=feats["train"], val_features=feats["val"])
    return {"val/accuracy": final["val"]["accuracy"],
            "val/digit_accuracy": final["val"]["digit_accuracy"]}


FEATURES = Experiment("captioning-feature-cnn", "EECS 545 HW4 §4 (image features)",
                      "ConvNet trained to read both digits and the layout of digit-pair "
                      "images; its penultimate layer gives the captioning features",
                      FeatureConfig, run_features, datasets=("mnist",))


# --------------------------------------------------------------------------- captioning


@dataclass
class CaptioningConfig:
    dataset: str = option("auto", "auto (COCO if found, else digit-pairs), coco or "
                          "digit-pairs", choices=DATASETS)
    pca_features: bool = option(True, "COCO: use the 512-d PCA features (else 4096-d fc7)")
    train_images: int = positive("digit-pairs: training images", 20000)
    val_images: int = positive("digit-pairs: validation images", 2000)
    cnn_steps: int = positive("digit-pairs: feature ConvNet training steps", 1500)
    feature_dim: int = positive("digit-pairs: feature size", 128)
    standardize: bool = option(True, "scale features to zero mean and unit variance per "
                               "dimension (training statistics)")
    max_train: int = non_negative("keep this many training captions (0: all)", 0)
    max_val: int = non_negative("evaluate on this many validation captions (0: all)", 0)
    cell_type: str = option("rnn", "recurrent cell", choices=CELL_TYPES)
    wordvec_dim: int = positive("word vector size", 256)
    hidden_dim: int = positive("RNN hidden size", 512)
    lr: float = positive("Adam learning rate", 5e-3)
    lr_decay: float = option(0.95, "learning-rate factor after each epoch",
                             check=lambda v: 0 < v <= 1, check_msg="must be in (0, 1]")
    batch_size: int = positive("minibatch size (captions)", 100)
    epochs: int = positive("training epochs", 5)
    eval_every: int = non_negative("evaluate every this many steps (0: once per epoch)", 0)
    num_samples: int = positive("images per split whose sampled captions are shown", 6)
    max_length: int = positive("longest sampled caption (words)", 30)


def resolve_dataset(cfg: CaptioningConfig, ctx: RunContext) -> str:
    if cfg.dataset != "auto":
        return cfg.dataset
    return "coco" if coco_captioning.locate(ctx.settings.data_dir) else "digit-pairs"


def load_data(cfg: CaptioningConfig, ctx: RunContext
              ) -> tuple[CaptionData, dict[str, np.ndarray] | None]:
    """Caption data (subsampled as asked) and, for digit pairs, the images of each split."""
    seed = ctx.settings.seed
    if resolve_dataset(cfg, ctx) == "coco":
        data = coco_captioning.load(ctx.settings.data_dir, pca_features=cfg.pca_features)
        return coco_captioning.keep_captions(data, cfg.max_train, cfg.max_val, seed), None
    sub = FeatureConfig(train_images=cfg.train_images, val_images=cfg.val_images,
                        steps=cfg.cnn_steps, feature_dim=cfg.feature_dim)
    summary = child(ctx, "feature-cnn", FEATURES, sub)
    if summary.get("status") != "completed":
        raise PracticaError(f"the feature ConvNet sub-run did not complete: {summary}")
    ctx.summary_extra["feature_cnn"] = summary["metrics"]
    with np.load(ctx.run.path / "children" / "feature-cnn" / "features.npz",
                 allow_pickle=False) as f:
        train_feats, val_feats = f["train_features"], f["val_features"]
    mnist = load_images("mnist", ctx)
    train, val = digit_captions.make_pairs(mnist.train.images, mnist.train.labels,
                                           cfg.train_images, cfg.val_images, seed)
    data = digit_captions.caption_data(train, val, train_feats, val_feats)
    images = {"train": train.images[:, 0], "val": val.images[:, 0]}
    return coco_captioning.keep_captions(data, cfg.max_train, cfg.max_val, seed), images


def ground_truth(data: CaptionData, split: str) -> dict[int, list[str]]:
    """image index -> its decoded captions (only images with a caption in the split)."""
    caps = getattr(data, f"{split}_captions")
    idxs = getattr(data, f"{split}_image_idxs")
    out: dict[int, list[str]] = {}
    for image, text in zip(idxs.tolist(), decode_captions(caps, data.idx_to_word),
                           strict=True):
        out.setdefault(image, []).append(text)
    return out


def caption_match(solver: CaptioningSolver, data: CaptionData, split: str,
                  max_length: int, limit: int = 5000) -> tuple[float, dict[int, str]]:
    """Fraction of (up to ``limit``) images whose greedy caption is one of their captions."""
    truth = ground_truth(data, split)
    images = sorted(truth)[:limit]
    generated = {}
    for start in range(0, len(images), 1000):
        chunk = images[start:start + 1000]
        texts = decode_captions(solver.sample(split, np.asarray(chunk), max_length),
                                data.idx_to_word)
        generated.update(zip(chunk, texts, strict=True))
    hits = sum(generated[i] in truth[i] for i in images)
    return hits / max(len(images), 1), generated


def samples_figure(rows: list[dict], images: dict[str, np.ndarray], path) -> None:
    import matplotlib.pyplot as plt

    cols = 3
    nrows = -(-len(rows) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, 3.6 * nrows), dpi=100,
                             squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, row in zip(axes.ravel(), rows, strict=False):
        ax.imshow(images[row["split"]][row["image"]], cmap="gray")
        mark = "✓" if row["match"] else "✗"
        ax.set_title(f"[{row['split']}] {mark} {row['generated']}\ntruth: "
                     f"{row['truth'][0]}", fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def samples_html(rows: list[dict], urls: dict[str, tuple[str, ...] | None]) -> str:
    body = []
    for r in rows:
        url = (urls.get(r["split"]) or ())
        where = url[r["image"]] if r["image"] < len(url) else str(r["image"])
        body.append(f"<tr><td>{esc(r['split'])}</td><td>{esc(where)}</td>"
                    f"<td>{esc(r['generated'])}</td><td>{esc(' | '.join(r['truth']))}</td>"
                    f"<td>{'yes' if r['match'] else 'no'}</td></tr>")
    return ("<table><tr><th>split</th><th>image</th><th>generated (greedy)</th>"
            "<th>ground truth</th><th>exact match</th></tr>" + "".join(body) + "</table>")


def run_captioning(cfg: CaptioningConfig, ctx: RunContext) -> dict[str, float]:
    dataset = resolve_dataset(cfg, ctx)
    ctx.summary_extra["dataset"] = dataset
    data, images = load_data(cfg, ctx)
    if cfg.standardize:
        data = coco_captioning.standardize_features(data)
    seed = ctx.settings.seed
    model = CaptioningRNN(data.word_to_idx, input_dim=data.train_features.shape[1],
                          wordvec_dim=cfg.wordvec_dim, hidden_dim=cfg.hidden_dim,
                          cell_type=cfg.cell_type, seed=seed)
    solver = CaptioningSolver(model, data.arrays(), Adam(cfg.lr), lr_decay=cfg.lr_decay,
                              batch_size=min(cfg.batch_size, len(data.train_captions)),
                              num_epochs=cfg.epochs, eval_every=cfg.eval_every or None,
                              seed=seed, eval_batch_size=500)
    run_solver(ctx, solver, val_split="val", name="captioning-rnn")
    h = solver.history

    metrics = {"train/loss": h["train_loss"][-1], "val/loss": h["val_loss"][-1],
               "train/word_accuracy": h["train_acc"][-1], "val/word_accuracy": h["val_acc"][-1]}
    rows = []
    rng = np.random.default_rng([seed, 7])
    for split in ("train", "val"):
        match, generated = caption_match(solver, data, split, cfg.max_length)
        metrics[f"{split}/caption_match"] = match
        truth = ground_truth(data, split)
        shown = rng.choice(sorted(generated), min(cfg.num_samples, len(generated)),
                           replace=False)
        rows += [{"split": split, "image": int(i), "generated": generated[int(i)],
                  "truth": truth[int(i)], "match": generated[int(i)] in truth[int(i)]}
                 for i in sorted(shown.tolist())]
    ctx.summary_extra["samples"] = rows
    if images is not None:
        samples_figure(rows, images, ctx.run.plots / "samples.png")
    ctx.report_sections["Sampled captions"] = (
        "<p>Greedy samples; exact match means the generated caption equals one of the "
        "image's ground-truth captions. Caption match over (up to 5,000) images: train "
        f"{metrics['train/caption_match']:.3f}, val {metrics['val/caption_match']:.3f}.</p>"
        + samples_html(rows, {"train": data.train_urls, "val": data.val_urls}))
    if dataset == "digit-pairs":
        ctx.report_sections["Image features"] = (
            "<p>Features: the penultimate layer of a ConvNet trained in the sub-run "
            "<a href='children/feature-cnn/report.html'>children/feature-cnn</a> to read "
            "both digits and the layout; validation images use MNIST digits that neither "
            "network saw in training.</p>")
    return metrics


CAPTION_SMOKE = {"train_images": 300, "val_images": 100, "cnn_steps": 20, "wordvec_dim": 16,
                 "hidden_dim": 32, "epochs": 2, "batch_size": 50, "num_samples": 2}

EXPERIMENTS = [
    Experiment(
        name="captioning-overfit",
        handout="EECS 545 HW4 §4 (image captioning; CS231n overfit check)",
        description="NumPy captioning RNN overfits 50 training captions (batch 25, 50 "
                    "epochs, Adam 5e-3); COCO if found, else MNIST digit-pair captions",
        config_cls=CaptioningConfig,
        run=run_captioning,
        target=Target("train/loss", 0.1, "CS231n RNN_Captioning: final overfit loss below "
                      "about 0.1", higher_is_better=False),
        datasets=("mnist",),
        defaults={"max_train": 50, "max_val": 1000, "batch_size": 25, "epochs": 50,
                  "train_images": 5000, "val_images": 1000, "cnn_steps": 600},
        smoke={**CAPTION_SMOKE, "epochs": 5, "batch_size": 25},
    ),
    Experiment(
        name="captioning-rnn",
        handout="EECS 545 HW4 §4 (image captioning)",
        description="NumPy captioning RNN (word vectors 256, hidden 512, Adam 5e-3 ×0.95 per "
                    "epoch) on COCO if found, else MNIST digit-pair captions",
        config_cls=CaptioningConfig,
        run=run_captioning,
        datasets=("mnist",),
        defaults={"eval_every": 250},
        smoke={**CAPTION_SMOKE, "eval_every": 0},
    ),
]
