"""LayerNorm vs BatchNorm across batch sizes (UvA DL practical 1 §3, question 3.2 d).

The same MLP is trained with BatchNorm and with the project's LayerNorm (the
hand-written ``LayerNormManual``) after every hidden layer, at batch sizes 4, 16, 64 and
256, each for the same number of training examples. BatchNorm's statistics are estimated
over the batch, so small batches make them noisy (and its train/eval behaviour differ);
LayerNorm normalises each example over its own features and does not depend on the batch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from torch import nn

from ..config import option, positive
from ..context import RunContext
from ..models.layernorm import LayerNormManual
from ..records.run import read_metrics
from ..report.plots import compare_curves, xy_plot
from .base import Experiment, child
from .classify import load_images, n_inputs, train_classifier
from .mlp_torch import MLPTorchConfig, build_model


@dataclass
class PointConfig(MLPTorchConfig):
    pass


def run_point(cfg: PointConfig, ctx: RunContext) -> dict[str, float]:
    data = load_images("cifar10", ctx)
    model = build_model(cfg, n_inputs(data), len(data.classes))
    if cfg.norm == "layer":  # use the project's own LayerNorm (manual backward)
        for module in list(model.modules()):
            for child_name, sub in list(module.named_children()):
                if isinstance(sub, nn.LayerNorm):
                    setattr(module, child_name, LayerNormManual(sub.normalized_shape[0]))
    return train_classifier(cfg, ctx, model, data, name=f"{cfg.norm}-{cfg.batch_size}")


POINT = Experiment("layernorm-vs-batchnorm-point", "UvA DL practical 1 §3",
                   "one normalisation/batch-size point", PointConfig, run_point,
                   datasets=("cifar10",))


@dataclass
class StudyConfig(MLPTorchConfig):
    batch_sizes: list[int] = option([4, 16, 64, 256], "batch sizes to compare",
                                    check=lambda v: v > 0, check_msg="must be > 0")
    examples: int = positive("training examples seen by every run (steps × batch size)",
                             100_000)
    evaluations: int = positive("evaluations per run", 8)


def run_study(cfg: StudyConfig, ctx: RunContext) -> dict[str, float]:
    base = {k: v for k, v in asdict(cfg).items()
            if k not in ("batch_sizes", "examples", "evaluations")}
    results: dict[str, float] = {}
    finals: dict[str, list[tuple[int, float]]] = {"batch": [], "layer": []}
    curves = {}
    for norm in ("batch", "layer"):
        for bs in cfg.batch_sizes:
            steps = max(1, cfg.examples // bs)
            point = PointConfig(**{**base, "norm": norm, "batch_size": bs, "steps": steps,
                                   "eval_every": max(1, steps // cfg.evaluations)})
            label = f"{norm}norm-batch{bs}"
            summary = child(ctx, label, POINT, point)
            acc = summary["metrics"]["test/accuracy"]
            results[f"{label}/test/accuracy"] = acc
            finals[norm].append((bs, acc))
            if bs in (min(cfg.batch_sizes), max(cfg.batch_sizes)):
                curves[label] = read_metrics(ctx.run.path / "children" / label / "metrics.csv")
    xy_plot({"BatchNorm": finals["batch"], "LayerNorm": finals["layer"]},
            ctx.run.plots / "accuracy_vs_batch_size.png", xlabel="batch size (log scale)",
            ylabel="final test accuracy", title="MLP on CIFAR-10: BatchNorm vs LayerNorm",
            logx=True)
    compare_curves(curves, "accuracy", ctx.run.plots / "curves_smallest_largest_batch.png",
                   splits=("test",), title="test accuracy, smallest vs largest batch",
                   xlabel="step")
    ctx.standard_plots = False
    return results


EXPERIMENTS = [Experiment(
    name="layernorm-vs-batchnorm",
    handout="UvA DL practical 1 §3 (LayerNorm; question 3.2 d)",
    description="MLP with BatchNorm vs the custom LayerNorm at batch sizes 4, 16, 64, 256 "
                "on CIFAR-10",
    config_cls=StudyConfig,
    run=run_study,
    datasets=("cifar10",),
    defaults={"hidden": [256, 256], "optimizer": "adam", "lr": 1e-3, "init": "pytorch",
              "preprocess": "standardize"},
    smoke={"batch_sizes": [4, 64], "examples": 2000, "evaluations": 2, "test_limit": 1000},
)]
