r"""A fully connected GAN on MNIST (CVbL 2019 §4, questions 4.1–4.3).

Generator 100 → 128 → 256 → 512 → 1024 → 784 (BatchNorm and LeakyReLU 0.2 in between,
tanh out), discriminator 784 → 512 → 256 → 1 (LeakyReLU 0.2), both trained with Adam
(lr 2e-4, β₁ 0.5) on batches of 64, noise ``z ~ N(0, I)``. Images are scaled to [−1, 1]
(``x / 127.5 − 1``) to match the tanh output.

Each step first updates D on a real and a generated batch with
``L_D = −log D(x) − log(1 − D(G(z)))``, then G with the non-saturating loss
``L_G = −log D(G(z))`` (see :mod:`practica.models.gan` for why). The shared Trainer runs the
loop; its optimizer is :class:`AlternatingAdam`, which holds both Adams (so checkpoints
and resume cover both) and steps the generator's, while the loss function steps the
discriminator's first.

Outputs: fixed-noise 5×5 grids at the start, halfway and end (question 4.2); a 9-image
interpolation between two samples the classifier puts in different classes (4.3); Inception
Score and Fréchet distance of 10,000 samples against the real test set, on the features
of a small classifier the project trains (see :mod:`practica.evaluation.generative`),
logged at every evaluation, next to the real test set's own IS.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import Any

import torch

from ..config import option, positive
from ..context import RunContext
from ..evaluation.figures import save_grid, save_rows
from ..evaluation.generative import SampleScorer, classify, load_or_train_classifier
from ..models.gan import ARCHITECTURES, GAN, GENERATOR_LOSSES, discriminator_loss, generator_loss
from ..report.plots import xy_plot
from ..train import EpochBatches, LoopConfig, Trainer
from .base import Experiment
from .classify import load_images

DATASETS = ("mnist", "fashion-mnist")


@dataclass
class GANConfig:
    dataset: str = option("mnist", "training images", choices=DATASETS)
    arch: str = option("mlp", "networks: mlp (the handout's fully connected G and D) or "
                       "dcgan (two transposed convolutions / two convolutions)",
                       choices=ARCHITECTURES)
    latent: int = positive("noise dimension", 100)
    batch_size: int = positive("minibatch size (real and generated each)", 64)
    lr: float = positive("Adam learning rate of both networks", 2e-4)
    beta1: float = option(0.5, "Adam β₁ of both networks (0.9: PyTorch's default)",
                          check=lambda v: 0 <= v < 1, check_msg="must be in [0, 1)")
    dropout: float = option(0.0, "dropout after each hidden layer of the discriminator",
                            check=lambda v: 0 <= v < 1, check_msg="must be in [0, 1)")
    discriminator_norm: str = option("batch", "dcgan: BatchNorm in the discriminator "
                                     "(batch) or none", choices=("batch", "none"))
    generator_loss: str = option("non-saturating", "generator loss: -log D(G(z)) "
                                 "(non-saturating) or log(1 - D(G(z))) (minimax)",
                                 choices=GENERATOR_LOSSES)
    steps: int = positive("training steps (one D and one G update each)", 15000)
    eval_every: int = positive("score samples and save the fixed-noise grid every N steps",
                               1250)
    eval_samples: int = positive("generated images scored for IS/FID at each evaluation",
                                 10000)
    classifier_steps: int = positive("training steps of the scoring classifier (cached)",
                                     4000)


class AlternatingAdam:
    """The generator's and the discriminator's Adam behind one optimizer interface.

    The Trainer calls ``zero_grad``/``step`` for the generator; the loss function steps
    ``discriminator`` itself. ``state_dict`` holds both, so a checkpoint resumes both.
    """

    def __init__(self, model: GAN, lr: float, beta1: float) -> None:
        betas = (beta1, 0.999)
        self.generator = torch.optim.Adam(model.generator.parameters(), lr=lr, betas=betas)
        self.discriminator = torch.optim.Adam(model.discriminator.parameters(), lr=lr,
                                              betas=betas)
        self.param_groups = self.generator.param_groups

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.generator.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        self.generator.step()

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.state_dict(),
                "discriminator": self.discriminator.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])


def gan_step(optimizers: AlternatingAdam, latent: int, kind: str):
    """A Trainer ``loss_fn``: update D on (real, fake), return G's loss on fresh fakes."""

    def loss_fn(model: GAN, real: torch.Tensor):
        n = len(real)
        z = torch.randn(n, latent, device=real.device)
        fake = model.generator(z)
        real_logits = model.discriminator(real)
        fake_logits = model.discriminator(fake.detach())
        d_loss = discriminator_loss(real_logits.float(), fake_logits.float())
        optimizers.discriminator.zero_grad(set_to_none=True)
        d_loss.backward()
        optimizers.discriminator.step()
        g_loss = generator_loss(model.discriminator(fake).float(), kind)
        return g_loss, {"d_loss": d_loss.detach(),
                        "d_real": torch.sigmoid(real_logits.detach()).mean(),
                        "d_fake": torch.sigmoid(fake_logits.detach()).mean()}

    return loss_fn


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """Generator output in [−1, 1] → [0, 1]."""
    return (images.float() + 1) / 2


@torch.no_grad()
def generate(model: GAN, n: int, seed: int, batch_size: int = 1000) -> torch.Tensor:
    """``n`` samples in [0, 1] (CPU) from noise drawn with ``seed``."""
    g = torch.Generator().manual_seed(seed)
    out = [to_unit(model.sample(min(batch_size, n - s), g)).cpu()
           for s in range(0, n, batch_size)]
    return torch.cat(out)


@torch.no_grad()
def interpolate(model: GAN, classifier, seed: int, steps: int = 7, pool: int = 512
                ) -> tuple[torch.Tensor, list[int], list[float]]:
    """9 images (``steps`` + 2) on the line between two noise vectors whose samples the
    classifier assigns, with the highest confidence, to two different classes."""
    device = next(model.parameters()).device
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(pool, model.latent, generator=g)
    probs, _ = classify(classifier, to_unit(model.generator(z.to(device))).cpu())
    conf, pred = probs.max(1)
    first = int(conf.argmax())
    others = torch.where(pred != pred[first], conf, torch.full_like(conf, -1.0))
    if float(others.max()) < 0:  # every sample in one class: take the least like it
        second = int(probs[:, pred[first]].argmin())
    else:
        second = int(others.argmax())
    t = torch.linspace(0, 1, steps + 2).unsqueeze(1)
    path = (1 - t) * z[first] + t * z[second]
    images = to_unit(model.generator(path.to(device))).cpu()
    p, _ = classify(classifier, images)
    return images, p.argmax(1).tolist(), p.max(1).values.tolist()


def run(cfg: GANConfig, ctx: RunContext) -> dict[str, float]:
    data = load_images(cfg.dataset, ctx)
    train = torch.from_numpy(data.train.images).float() / 127.5 - 1.0
    real_test = torch.from_numpy(data.test.images).float() / 255.0
    classifier, clf_accuracy = load_or_train_classifier(
        data, steps=cfg.classifier_steps, seed=0, progress=ctx.progress)
    classifier.to(ctx.device)
    scorer = SampleScorer(classifier, real_test)
    seed = ctx.settings.seed
    model = GAN(cfg.latent, tuple(train.shape[1:]), dropout=cfg.dropout, arch=cfg.arch,
                discriminator_norm=cfg.discriminator_norm)
    optimizers = AlternatingAdam(model, cfg.lr, cfg.beta1)
    sampler = EpochBatches(len(train), cfg.batch_size, seed=seed)
    fixed_z = torch.randn(25, cfg.latent, generator=torch.Generator().manual_seed(seed + 1))
    samples_dir = ctx.run.path / "samples"
    holder: dict[str, Trainer] = {}

    def evaluate(m: GAN) -> dict[str, dict[str, float]]:
        step = holder["trainer"].step
        grid = to_unit(m.generator(fixed_z.to(ctx.device))).cpu()
        save_grid(grid, samples_dir / f"step{step:06d}.png", nrow=5,
                  title=f"{cfg.dataset} GAN, fixed noise, step {step}")
        scores = scorer(generate(m, cfg.eval_samples, seed + 2))
        return {"samples": scores,
                "real": {"inception_score": scorer.real_inception_score}}

    trainer = Trainer(ctx, model, optimizers, lambda s: train[sampler(s)],
                      gan_step(optimizers, cfg.latent, cfg.generator_loss), evaluate,
                      LoopConfig(steps=cfg.steps, eval_every=cfg.eval_every), name="gan")
    holder["trainer"] = trainer
    final = trainer.fit()
    model.eval()

    # question 4.2: the grids at the start, halfway and at the end
    saved = sorted(int(p.stem[4:]) for p in samples_dir.glob("step*.png"))
    halfway = min(saved, key=lambda s: abs(s - cfg.steps / 2))
    for label, step in (("1_start", saved[0]), ("2_halfway", halfway), ("3_end", saved[-1])):
        shutil.copyfile(samples_dir / f"step{step:06d}.png",
                        ctx.run.plots / f"samples_{label}_step{step}.png")
    # question 4.3: interpolation between two samples of different classes
    images, classes, confidence = interpolate(model, classifier, seed + 3)
    captions = [f"{data.classes[c]} ({p:.2f})" for c, p in zip(classes, confidence, strict=True)]
    save_rows([("G(z)", images)], ctx.run.plots / "interpolation.png", captions=captions,
              title="linear interpolation in z between two samples of different classes "
                    "(classifier's label and confidence below)")

    # D and G on one figure: the adversarial game reads off their balance
    rows = ctx.run.metrics()
    series = {label: [(r["step"], r["value"]) for r in rows
                      if r["split"] == "train" and r["metric"] == metric]
              for label, metric in ((f"generator loss ({cfg.generator_loss})", "loss"),
                                    ("discriminator loss", "d_loss"))}
    xy_plot(series, ctx.run.plots / "losses_d_and_g.png", xlabel="step", ylabel="loss",
            title="GAN: generator and discriminator losses (train)", learning_curve=True)

    history = {h["step"]: h["samples"] for h in trainer.history}
    ctx.summary_extra["scores_over_training"] = {
        str(s): {k: round(v, 4) for k, v in m.items()} for s, m in history.items()}
    ctx.summary_extra["interpolation_classes"] = [data.classes[c] for c in classes]
    ctx.summary_extra["classifier_test_accuracy"] = round(clf_accuracy, 4)
    table = "".join(f"<tr><td>{s}</td><td>{m['inception_score']:.3f}</td>"
                    f"<td>{m['fid']:.3f}</td></tr>" for s, m in history.items())
    ctx.report_sections["Sample quality over training"] = (
        f"<p>{cfg.eval_samples} samples against the {len(real_test)} real test images; "
        f"classifier test accuracy {clf_accuracy:.4f}; real test set IS "
        f"{scorer.real_inception_score:.3f}.</p><table><tr><th>step</th><th>IS</th>"
        f"<th>FID (classifier features)</th></tr>{table}</table>")
    return {"samples/inception_score": final["samples"]["inception_score"],
            "samples/fid": final["samples"]["fid"],
            "real/inception_score": scorer.real_inception_score,
            "classifier/test_accuracy": clf_accuracy,
            "train/d_loss": final["train"]["d_loss"],
            "train/g_loss": final["train"]["loss"],
            "train/d_real": final["train"]["d_real"],
            "train/d_fake": final["train"]["d_fake"]}


SMOKE = {"steps": 40, "eval_every": 20, "eval_samples": 500, "classifier_steps": 60}

EXPERIMENTS = [Experiment(
    name="gan-mnist",
    handout="CVbL 2019 §4 (questions 4.1–4.3: GAN on MNIST)",
    description="fully connected GAN (G 100-128-256-512-1024-784, D 784-512-256-1), "
                "non-saturating G loss, Adam 2e-4 β₁ 0.5, batch 64; grids, interpolation, "
                "IS/FID on a trained MNIST classifier's features",
    config_cls=GANConfig,
    run=run,
    datasets=("mnist",),  # the default; --set dataset=fashion-mnist also works
    smoke=SMOKE,
), Experiment(
    name="gan-mnist-dcgan",
    beyond=True,
    handout="CVbL 2019 §4 (a convolutional GAN beside the handout's)",
    description="DCGAN (G: 100 → 128×7×7 → two 4×4/2 transposed convolutions → 28×28; D: "
                "two 4×4/2 convolutions → 1, no BatchNorm, dropout 0.3), same losses, "
                "optimiser, batch and scores as gan-mnist",
    config_cls=GANConfig,
    run=run,
    datasets=("mnist",),
    defaults={"arch": "dcgan", "discriminator_norm": "none", "dropout": 0.3},
    smoke=SMOKE,
)]
