r"""Variational auto-encoders on MNIST (Waterloo A5 §4–5): MLP, five-conv and ResNet VAEs.

Each step minimises the negative ELBO of a minibatch (Adam 1e-3, batch 128)::

    −ELBO(x) = −log p(x|z) + KL(q(z|x) || N(0, I)),   z = μ + σ ⊙ ε  (one sample)

with a Bernoulli decoder (binary cross-entropy summed over the 784 pixels, in nats) and the
closed-form KL of :func:`practica.models.vae.gaussian_kl`.

Binarisation (``binarize``): ``dynamic`` (default) draws every training image afresh as
``x ~ Bernoulli(pixel / 255)`` at each step and binarises the test set once the same way
with a fixed seed (0), so every run is scored on the same binary test set; ``threshold``
uses ``pixel > 127`` for both; ``none`` keeps grey values in [0, 1] (BCE is then a
reconstruction loss, not a likelihood, and no NLL is reported). ``auto`` is ``dynamic`` for
MNIST/Fashion-MNIST and ``none`` for the colour Galaxy Zoo images.

Evaluation: reconstruction error ``E_q[−log p(x|z)]`` and −ELBO on train (running average of
the training batches) and test every ``eval_every`` steps; at the end the importance-
sampled log-likelihood with k = 500 samples (:func:`importance_log_likelihood`) on the
binarised test set — all 10,000 images for the MLP, a fixed subset for the (much slower)
convolutional decoders — next to the ELBO of the same images.

``objective=iwae`` trains on the importance-weighted bound instead (``vae-mlp-iwae``)::

    L_k(x) = log (1/k) Σ_i p(x|z_i) p(z_i) / q(z_i|x),   z_i ~ q(z|x),   ELBO = L_1 ≤ L_k
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from ..config import non_negative, option, positive
from ..context import RunContext
from ..data import galaxy_zoo
from ..data.base import ImageDataset
from ..errors import ConfigError
from ..evaluation.figures import latent_scatter, save_grid, save_rows, weight_images
from ..models.vae import (
    ARCHITECTURES,
    LIKELIHOODS,
    VAE,
    importance_log_likelihood,
    iwae_bound,
    log_importance_weights,
)
from ..records.run import read_metrics
from ..report.plots import compare_curves
from ..train import EpochBatches, LoopConfig, Trainer
from .base import Experiment, Target, child
from .classify import load_images

DATASETS = ("mnist", "fashion-mnist", "galaxy-zoo")
BINARIZE = ("auto", "dynamic", "threshold", "none")
OBJECTIVES = ("elbo", "iwae")
TEST_BINARIZE_SEED = 0


@dataclass
class VAEConfig:
    arch: str = option("mlp", "encoder/decoder: mlp (512 hidden), conv (five convolutions, "
                       "32→512 filters) or resnet (five residual blocks)", choices=ARCHITECTURES)
    dataset: str = option("mnist", "training images", choices=DATASETS)
    latent: int = positive("latent dimension (2 draws the latent map without projection)", 20)
    depth: int = positive("MLP only: hidden layers of 512 units in the encoder and in the "
                          "decoder (1: the handout's)", 1)
    likelihood: str = option("bernoulli", "decoder distribution p(x|z)", choices=LIKELIHOODS)
    sigma: float = positive("standard deviation of the Gaussian decoder", 0.1)
    binarize: str = option("auto", "dynamic: x ~ Bernoulli(pixel/255) per step (test set once, "
                           "seed 0); threshold: pixel > 127; none: grey values; auto: dynamic "
                           "for MNIST-like data, none for Galaxy Zoo", choices=BINARIZE)
    batch_size: int = positive("minibatch size", 128)
    lr: float = positive("Adam learning rate", 1e-3)
    steps: int = positive("training steps", 12000)
    eval_every: int = positive("evaluate on the test images every N steps", 500)
    eval_images: int = non_negative("test images used at each evaluation (0: all)", 0)
    final_images: int = non_negative("test images for the final ELBO and latent map (0: all)",
                                     0)
    objective: str = option("elbo", "training objective: elbo (one sample) or iwae (the "
                            "k-sample importance-weighted bound, k = iwae_samples)",
                            choices=OBJECTIVES)
    iwae_samples: int = positive("samples k of the IWAE objective", 5)
    nll_samples: int = non_negative("importance samples k for the final NLL (0: skip it)", 500)
    nll_images: int = non_negative("test images for the NLL (0: all)", 0)
    nll_chunk: int = positive("importance samples decoded at once per image", 100)
    image_size: int = positive("Galaxy Zoo: side of the resized images", 64)
    crop: int = positive("Galaxy Zoo: side of the centre crop of the 424×424 images", 256)
    galaxy_classes: str = option("top-level", "Galaxy Zoo labels: argmax of the 37 "
                                 "probabilities, its question (11 groups), or the top-level "
                                 "answer (smooth / features or disk / star or artifact)",
                                 choices=galaxy_zoo.GROUPINGS)
    galaxy_limit: int = non_negative("Galaxy Zoo: use the first N galaxies (0: all)", 0)


def load_data(cfg: VAEConfig, ctx: RunContext) -> ImageDataset:
    if cfg.dataset == "galaxy-zoo":
        return galaxy_zoo.load(ctx.settings.data_dir, image_size=cfg.image_size, crop=cfg.crop,
                               grouping=cfg.galaxy_classes, limit=cfg.galaxy_limit,
                               seed=0, progress=ctx.progress)
    return load_images(cfg.dataset, ctx)


def binarization(cfg: VAEConfig) -> str:
    if cfg.binarize == "auto":
        return "none" if cfg.dataset == "galaxy-zoo" else "dynamic"
    if cfg.dataset == "galaxy-zoo" and cfg.binarize != "none":
        raise ConfigError("binarize: Galaxy Zoo images are in colour; use binarize=none")
    return cfg.binarize


def binarize_images(x: torch.Tensor, how: str, generator: torch.Generator | None = None
                    ) -> torch.Tensor:
    """Pixels in [0, 1] → the training/test input for ``how`` (dynamic, threshold, none)."""
    if how == "dynamic":
        return torch.bernoulli(x, generator=generator)
    if how == "threshold":
        return (x > 127.5 / 255).float()
    return x


def vae_step(how: str, objective: str = "elbo", k: int = 5):
    """A Trainer ``loss_fn``: the batch's mean −ELBO (or −L_k, the IWAE bound with k samples).

    Logged beside it: the reconstruction error of one sample and the closed-form KL, whose
    sum is the one-sample −ELBO whichever objective is trained.
    """

    def loss_fn(model: VAE, x: torch.Tensor):
        x = binarize_images(x, how)
        if objective == "iwae":
            loss = -iwae_bound(log_importance_weights(model, x, k)).mean()
            with torch.no_grad():
                recon, kl = model.loss_terms(x)
            return loss, {"recon": recon.mean(), "kl": kl.mean()}
        recon, kl = model.loss_terms(x)
        return (recon + kl).mean(), {"recon": recon.mean().detach(), "kl": kl.mean().detach()}

    return loss_fn


@torch.no_grad()
def elbo_terms(model: VAE, x: torch.Tensor, batch_size: int = 500
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image reconstruction error and KL of ``x`` (one z sample each), on CPU."""
    device = next(model.parameters()).device
    recon, kl = [], []
    for start in range(0, len(x), batch_size):
        r, k = model.loss_terms(x[start:start + batch_size].to(device))
        recon.append(r.cpu())
        kl.append(k.cpu())
    return torch.cat(recon), torch.cat(kl)


@torch.no_grad()
def encode_means(model: VAE, x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    device = next(model.parameters()).device
    return torch.cat([model.encode(x[s:s + batch_size].to(device))[0].cpu()
                      for s in range(0, len(x), batch_size)])


@torch.no_grad()
def log_likelihood(model: VAE, x: torch.Tensor, k: int, chunk: int, batch_size: int = 100
                   ) -> torch.Tensor:
    """Importance-sampled ``log p(x)`` per image (see :func:`importance_log_likelihood`)."""
    device = next(model.parameters()).device
    return torch.cat([importance_log_likelihood(model, x[s:s + batch_size].to(device), k,
                                                chunk).cpu()
                      for s in range(0, len(x), batch_size)])


def first_and_deeper_layers(model: VAE) -> list[tuple[str, torch.Tensor, bool]]:
    """(name, weight, shown as image-shaped units?) of the layers whose weights are drawn."""
    e, d = model.encoder, model.decoder
    if model.arch == "mlp":
        return [("encoder_fc1", e.fc1.weight, True), ("encoder_head", e.head.weight, False),
                ("decoder_out", d.out.weight, True)]
    if model.arch == "conv":
        return [("encoder_conv1", e.convs[0][0].weight, False),
                ("encoder_conv2", e.convs[1][0].weight, False),
                ("decoder_deconv5", d.deconvs[-1].weight, False)]
    return [("encoder_stem", e.stem[0].weight, False),
            ("encoder_block3_conv1", e.blocks[2].conv1.weight, False),
            ("decoder_out", d.out.weight, False)]


@torch.no_grad()
def class_samples(model: VAE, x: torch.Tensor, y: np.ndarray, means: np.ndarray,
                  classes: tuple[str, ...], ctx: RunContext, path: Path, *, per_row: int = 5,
                  title: str = "") -> Path | None:
    """Originals of each class beside samples from that class's region of the latent space.

    The VAE is not class-conditional, so a class is sampled through its codes: the
    encoder means μ(x) of the class's test images, fitted by a Gaussian
    N(m_c, diag(s_c²)); each sample decodes z ~ N(m_c, diag(s_c²)). (Waterloo A5 §5.1:
    "compare sampled images of a particular class with their original images".)
    """
    gen = torch.Generator().manual_seed(ctx.settings.seed + 2)
    rows, found = [], [c for c in range(len(classes)) if (y == c).sum() >= per_row][:10]
    for c in found:
        codes = torch.from_numpy(means[y == c]).float()
        m, s = codes.mean(0), codes.std(0)
        z = m + s * torch.randn(per_row, codes.shape[1], generator=gen)
        samples = model.mean_image(model.decode(z.to(ctx.device))).cpu()
        originals = x[torch.from_numpy(np.flatnonzero(y == c)[:per_row])]
        rows.append((str(classes[c]), torch.cat([originals.float().cpu(), samples])))
    if not rows:  # too few test images per class (a tiny subset)
        return None
    captions = ["original"] * per_row + ["sample"] * per_row
    return save_rows(rows, path, captions=captions,
                     title=f"{title}: test images of each class | samples z ~ N(m_c, s_c²) "
                           "fitted to that class's codes")


def figures(model: VAE, cfg: VAEConfig, ctx: RunContext, data: ImageDataset,
            test_x: torch.Tensor, test_y: np.ndarray) -> None:
    plots, seed = ctx.run.plots, ctx.settings.seed
    model.eval()
    with torch.no_grad():
        samples = model.sample(64, torch.Generator().manual_seed(seed + 1)).cpu()
        save_grid(samples, plots / "samples.png", nrow=8,
                  title=f"{cfg.arch} VAE: E[x|z], z ~ N(0, I)")
        originals = test_x[:10]
        mu, _ = model.encode(originals.to(ctx.device))
        recon = model.mean_image(model.decode(mu)).cpu()
        save_rows([("original", originals), ("E[x|z=μ]", recon)],
                  plots / "reconstructions.png",
                  title=f"{cfg.arch} VAE: test images and their reconstructions")
        if cfg.latent == 2:
            q = torch.distributions.Normal(0, 1).icdf(torch.linspace(0.05, 0.95, 15))
            grid = torch.stack(torch.meshgrid(q, q.flip(0), indexing="xy"), -1).reshape(-1, 2)
            images = model.mean_image(model.decode(grid.to(ctx.device))).cpu()
            save_grid(images, plots / "latent_manifold.png", nrow=15,
                      title="decoded z on a 15×15 grid of N(0,1) quantiles")
    n = min(len(test_x), 5000)
    means = encode_means(model, test_x[:n]).numpy()
    class_samples(model, test_x[:n], test_y[:n], means, data.classes, ctx,
                  plots / "class_samples.png", title=f"{cfg.arch} VAE")
    latent_scatter(means, test_y[:n], data.classes, plots / "latent_means.png",
                   title=f"{cfg.arch} VAE: μ of {n} test images (z = {cfg.latent})")
    for name, weight, pixel_units in first_and_deeper_layers(model):
        weight_images(weight, plots / f"weights_{name}.png",
                      title=f"{cfg.arch} VAE weights: {name} {tuple(weight.shape)}",
                      image_shape=model.image_shape if pixel_units else None)


def run(cfg: VAEConfig, ctx: RunContext) -> dict[str, float]:
    if cfg.depth != 1 and cfg.arch != "mlp":
        raise ConfigError(f"depth: only the MLP VAE has a depth setting (arch={cfg.arch})")
    how = binarization(cfg)
    data = load_data(cfg, ctx)
    train_x = torch.from_numpy(data.train.images).float() / 255.0
    test_all = torch.from_numpy(data.test.images).float() / 255.0
    test_x = binarize_images(test_all, how, torch.Generator().manual_seed(TEST_BINARIZE_SEED))
    test_y = data.test.labels
    eval_x = test_x[:cfg.eval_images] if cfg.eval_images else test_x
    model = VAE(cfg.arch, tuple(train_x.shape[1:]), cfg.latent, cfg.likelihood, cfg.sigma,
                depth=cfg.depth)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sampler = EpochBatches(len(train_x), cfg.batch_size, seed=ctx.settings.seed)

    def evaluate(m: VAE) -> dict[str, dict[str, float]]:
        recon, kl = elbo_terms(m, eval_x)
        return {"test": {"loss": float((recon + kl).mean()), "recon": float(recon.mean()),
                         "kl": float(kl.mean())}}

    trainer = Trainer(ctx, model, optimizer, lambda s: train_x[sampler(s)],
                      vae_step(how, cfg.objective, cfg.iwae_samples),
                      evaluate, LoopConfig(steps=cfg.steps, eval_every=cfg.eval_every),
                      name=f"vae-{cfg.arch}")
    final = trainer.fit()
    model.eval()
    if cfg.final_images:
        test_x, test_y = test_x[:cfg.final_images], test_y[:cfg.final_images]
    figures(model, cfg, ctx, data, test_x, test_y)

    torch.manual_seed(ctx.settings.seed + 4)
    recon, kl = elbo_terms(model, test_x)
    metrics = {"test/elbo": -float((recon + kl).mean()), "test/recon": float(recon.mean()),
               "test/kl": float(kl.mean()), "train/loss": final["train"]["loss"],
               "train/recon": final["train"]["recon"]}
    ctx.summary_extra["binarization"] = how
    ctx.summary_extra["epochs"] = round(cfg.steps / sampler.per_epoch, 2)
    if cfg.nll_samples and how != "none" and cfg.likelihood == "bernoulli":
        n = min(cfg.nll_images or len(test_x), len(test_x))
        started = time.perf_counter()
        ll = log_likelihood(model, test_x[:n], cfg.nll_samples, cfg.nll_chunk)
        seconds = time.perf_counter() - started
        nll = -float(ll.mean())
        subset_elbo = -float((recon[:n] + kl[:n]).mean())
        metrics.update({"test/nll": nll, "test/nll_stderr": float(ll.std() / math.sqrt(n)),
                        "test/elbo_nll_images": subset_elbo})
        ctx.summary_extra["nll"] = {"images": n, "k": cfg.nll_samples,
                                    "seconds": round(seconds, 1)}
        ctx.report_sections["Likelihood"] = (
            f"<p>Importance-sampled log-likelihood (k = {cfg.nll_samples}) on the first {n} "
            f"images of the binarised ({how}) test set: <b>NLL = {nll:.2f} nats</b> "
            f"(± {metrics['test/nll_stderr']:.2f}), against −ELBO = {-subset_elbo:.2f} nats "
            f"on the same images (−ELBO on all {len(test_x)}: {-metrics['test/elbo']:.2f}). "
            f"Took {seconds:.0f} s.</p>")
    return metrics


# --- all three together -----------------------------------------------------------------

@dataclass
class VAECompareConfig:
    archs: list[str] = option(list(ARCHITECTURES), "architectures to train and compare",
                              check=lambda v: v in ARCHITECTURES,
                              check_msg=f"must be among {', '.join(ARCHITECTURES)}")
    from_runs: list[str] = option([], "finished vae-* run folders to compare instead of "
                                  "training (e.g. runs/vae-mlp/<stamp>,runs/vae-conv/<stamp>)")
    dataset: str = option("mnist", "training images", choices=DATASETS)
    latent: int = positive("latent dimension", 20)
    steps: int = non_negative("training steps of every child (0: each one's default)", 0)
    eval_every: int = non_negative("evaluation interval of every child (0: default)", 0)
    eval_images: int = non_negative("test images per evaluation (0: each default)", 0)
    final_images: int = non_negative("test images for the final ELBO (0: each default)", 0)
    nll_samples: int = option(-1, "importance samples of the NLL (-1: each default)")
    nll_images: int = non_negative("test images for the NLL (0: each default)", 0)


def child_config(arch: str, cfg: VAECompareConfig) -> VAEConfig:
    config = VARIANTS[arch].default_config()
    changes = {"dataset": cfg.dataset, "latent": cfg.latent}
    for key in ("steps", "eval_every", "eval_images", "final_images", "nll_images"):
        if getattr(cfg, key):
            changes[key] = getattr(cfg, key)
    if cfg.nll_samples >= 0:
        changes["nll_samples"] = cfg.nll_samples
    return VAEConfig(**{**asdict(config), **changes})


def run_compare(cfg: VAECompareConfig, ctx: RunContext) -> dict[str, float]:
    """Train each architecture as a child run (or read finished runs) and overlay the
    reconstruction-error curves on train and test."""
    curves, results = {}, {}
    if cfg.from_runs:
        import json

        for folder in map(Path, cfg.from_runs):
            record = json.loads((folder / "config.json").read_text())
            summary = json.loads((folder / "summary.json").read_text())
            label = record["config"].get("arch", folder.parent.name)
            curves[label] = read_metrics(folder / "metrics.csv")
            results.update({f"{label}/{k}": v for k, v in summary["metrics"].items()})
    else:
        for arch in cfg.archs:
            summary = child(ctx, arch, VARIANTS[arch], child_config(arch, cfg))
            curves[arch] = read_metrics(ctx.run.path / "children" / arch / "metrics.csv")
            results.update({f"{arch}/{k}": v for k, v in summary["metrics"].items()})
    for metric, what in (("recon", "reconstruction error −log p(x|z) (nats)"),
                         ("loss", "−ELBO (nats)")):
        compare_curves(curves, metric, ctx.run.plots / f"vae_{metric}.png",
                       title=f"VAEs: {what}")
    ctx.standard_plots = False
    return results


# --- the long run at several learning rates (Waterloo A5 §5.1, goal 1) -------------------

@dataclass
class VAELearningRatesConfig:
    arch: str = option("mlp", "encoder/decoder of every child", choices=ARCHITECTURES)
    learning_rates: list[float] = option([3e-4, 1e-3, 3e-3], "Adam learning rates, one child "
                                         "run each", check=lambda v: v > 0,
                                         check_msg="must be > 0")
    epochs: int = positive("passes over the training images per child (the handout: ≥ 200)",
                           200)
    dataset: str = option("mnist", "training images", choices=DATASETS)
    evaluations: int = positive("evaluations on the test images per child", 20)
    eval_images: int = non_negative("test images per evaluation (0: all)", 2000)
    nll_images: int = non_negative("test images for the final NLL (0: all)", 0)
    nll_samples: int = non_negative("importance samples k for the final NLL", 500)


def plot_learning_rates(run_dir: Path, arch: str, epochs: int,
                        labels: list[str] | None = None) -> None:
    """The children's train and test curves, one colour per learning rate (``lr_recon.png``,
    ``lr_loss.png``), zoomed past the first drop; drawn from the records alone (``labels``:
    the children, ``lr3e-4``…; default every ``children/lr*``)."""
    if labels is None:
        labels = sorted((p.name for p in (run_dir / "children").glob("lr*")),
                        key=lambda name: float(name.removeprefix("lr")))
    curves = {f"lr {name.removeprefix('lr')}":
              read_metrics(run_dir / "children" / name / "metrics.csv") for name in labels}
    for metric, what in (("recon", "reconstruction error −log p(x|z)"), ("loss", "−ELBO")):
        compare_curves(curves, metric, run_dir / "plots" / f"lr_{metric}.png",
                       title=f"{arch} VAE, {epochs} epochs: {what} by Adam learning rate",
                       ylabel=f"{what} (nats per image)", zoom=True)


def run_learning_rates(cfg: VAELearningRatesConfig, ctx: RunContext) -> dict[str, float]:
    """Train one child per learning rate for ``epochs`` epochs; overlay their curves."""
    base = VARIANTS[cfg.arch].default_config()
    base = VAEConfig(**{**asdict(base), "dataset": cfg.dataset})
    n_train = len(load_data(base, ctx).train)
    steps = cfg.epochs * math.ceil(n_train / base.batch_size)
    results, table = {}, {}
    for lr in cfg.learning_rates:
        label = f"lr{lr:g}"
        child_cfg = VAEConfig(**{**asdict(base), "lr": lr, "steps": steps,
                                 "eval_every": max(1, steps // cfg.evaluations),
                                 "eval_images": cfg.eval_images, "final_images": 0,
                                 "nll_images": cfg.nll_images, "nll_samples": cfg.nll_samples})
        summary = child(ctx, label, VARIANTS[cfg.arch], child_cfg)
        results.update({f"{label}/{k}": v for k, v in summary["metrics"].items()})
        table[label] = summary["metrics"]
    plot_learning_rates(ctx.run.path, cfg.arch, cfg.epochs,
                        [f"lr{lr:g}" for lr in cfg.learning_rates])
    ctx.summary_extra.update(epochs=cfg.epochs, steps_per_child=steps, learning_rates=table)
    ctx.standard_plots = False
    return results


HANDOUT = "Waterloo A5 §4–5 (VAE)"
SMOKE = {"steps": 20, "eval_every": 10, "eval_images": 200, "final_images": 500,
         "nll_samples": 10, "nll_images": 20}


def _variant(arch: str, description: str, **defaults) -> Experiment:
    return Experiment(
        name=f"vae-{arch}", handout=HANDOUT, description=description, config_cls=VAEConfig,
        run=run, datasets=("mnist",),  # the default; --set dataset=… picks the others
        defaults={"arch": arch, **defaults}, smoke=SMOKE)


VARIANTS = {
    "mlp": _variant("mlp", "VAE with one 512-unit hidden layer each way, z = 20, Bernoulli "
                    "decoder on dynamically binarised MNIST; Adam 1e-3, batch 128; NLL "
                    "(k = 500) on the whole test set", steps=10000, eval_every=500),
    "conv": _variant("conv", "VAE with five 4×4/2 convolutions (32→512 filters) and five "
                     "transposed ones, z = 20, binarised MNIST; NLL (k = 500) on 400 test "
                     "images", steps=1500, eval_every=150, eval_images=2000, nll_images=400),
    "resnet": _variant("resnet", "VAE with five hand-written residual blocks each way, "
                       "z = 20, binarised MNIST; NLL (k = 500) on 150 test images",
                       steps=1000, eval_every=100, eval_images=2000, nll_images=150),
}

IWAE = Experiment(
    name="vae-mlp-iwae", handout="Waterloo A5 §5.1 (bonus: a new idea that improves the "
    "result)", description="vae-mlp trained on the importance-weighted bound with k = 5 "
    "samples (IWAE, Burda et al. 2016) instead of the ELBO; same network, steps and NLL "
    "(k = 500) on the whole test set", config_cls=VAEConfig, run=run, datasets=("mnist",),
    defaults={"arch": "mlp", "objective": "iwae", "iwae_samples": 5, "steps": 10000,
              "eval_every": 500}, smoke=SMOKE)

BEST = Experiment(
    name="vae-mlp-best",
    beyond=True, handout="Waterloo A5 §5.1 (the MLP VAE at the level of the field)",
    description="vae-mlp with two 512-unit hidden layers each way, trained on the IWAE bound "
    "(k = 5) for the handout's 200 epochs; NLL with k = 5000 on the whole test set",
    config_cls=VAEConfig, run=run, datasets=("mnist",),
    target=Target("test/nll", 85.0, "issue 21: ≤85 nats (IWAE paper, 2 stochastic layers: "
                  "82.90)", higher_is_better=False),
    defaults={"arch": "mlp", "depth": 2, "objective": "iwae", "iwae_samples": 5,
              "steps": 93800, "eval_every": 4690, "eval_images": 2000, "nll_samples": 5000,
              "nll_chunk": 500}, smoke=SMOKE)

EXPERIMENTS = [*VARIANTS.values(), IWAE, BEST, Experiment(
    name="vae-compare", handout=HANDOUT + ", the three architectures on one plot",
    description="trains vae-mlp, vae-conv and vae-resnet as child runs (or reads finished "
                "runs, from_runs=...) and overlays their train/test reconstruction error",
    config_cls=VAECompareConfig, run=run_compare, datasets=("mnist",),
    smoke={**{k: v for k, v in SMOKE.items()}}), Experiment(
    name="vae-mlp-learning-rates", handout="Waterloo A5 §5.1 (goal 1: ≥ 200 epochs, the "
    "learning rate)", description="vae-mlp trained for 200 epochs at Adam learning rates "
    "3e-4, 1e-3 and 3e-3 (child runs); train/test reconstruction error overlaid",
    config_cls=VAELearningRatesConfig, run=run_learning_rates, datasets=("mnist",),
    smoke={"epochs": 1, "learning_rates": [1e-3, 3e-3], "evaluations": 2, "eval_images": 200,
           "nll_images": 20, "nll_samples": 10})]
