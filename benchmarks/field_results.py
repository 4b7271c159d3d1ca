"""The handout-default runs beside their tuned variants (issue 21), from run records.

For each task: the metric, wall time and steps of the handout-default experiment and of the
variant meant to reach the field's level, the goal, and whether it was met. Reads the
reference results shipped in ``results/`` (or ``--runs DIR``); nothing is typed in.

    python benchmarks/field_results.py [--runs results]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from practica.book.records import RunIndex, RunRecord

#: (task, handout-default experiment, variant, metric, goal, higher is better); a metric
#: "a|b" reads a for the handout run and b for the variant
ROWS = [
    ("palindromes, LSTM at T = 30 (mean | worst of 3 seeds)", "palindrome-sweep",
     "palindrome-sweep-tuned", "lstm/T30/accuracy_mean|lstm/T30/accuracy_min", 0.99, True),
    ("character LSTM, tiny-shakespeare (val nats/char)", "textgen-lstm",
     "textgen-lstm-best", "val/loss", 1.47, False),
    ("tweet sentiment (test accuracy)", "tweet-sentiment", "tweet-sentiment-best",
     "test/accuracy", 0.80, True),
    ("VAE, binarised MNIST (test NLL, nats)", "vae-mlp", "vae-mlp-best", "test/nll", 85.0,
     False),
    ("GAN on MNIST (Inception Score)", "gan-mnist", "gan-mnist-dcgan",
     "samples/inception_score", 9.5, True),
    ("GAN on MNIST (Fréchet distance)", "gan-mnist", "gan-mnist-dcgan", "samples/fid", 10.0,
     False),
    ("MLP on CIFAR-10 (test accuracy)", "mlp-torch", "mlp-torch-long", "test/accuracy", 0.65,
     True),
    ("VGG-style ConvNet on CIFAR-10 (test accuracy)", "convnet-vgg", "convnet-vgg-best",
     "test/accuracy", 0.88, True),
]


def steps(run: RunRecord) -> str:
    config = run.config.get("config", {})
    value = run.summary.get("steps") or config.get("steps")
    return f"{value:,}" if isinstance(value, int) else "—"


def cell(run: RunRecord | None, metric: str) -> tuple[str, str, str]:
    if run is None:
        return "not run", "", ""
    value = run.metric(metric)
    wall = run.wall_time_s
    shown = "—" if not isinstance(value, (int, float)) else \
        f"{value:.4f}" if abs(value) < 10 else f"{value:.2f}"
    return (shown,
            f"{wall / 60:.1f} min" if wall else "—", steps(run))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path,
                        default=Path(__file__).resolve().parents[1] / "results")
    args = parser.parse_args()
    index = RunIndex(args.runs, "reference")
    head = ("task", "handout", "time", "steps", "variant", "time", "steps", "goal", "met")
    rows = [head]
    for task, default, variant, metric, goal, higher in ROWS:
        a, b = index.best(default), index.best(variant)
        metric_a, _, metric_b = metric.partition("|")
        metric_b = metric_b or metric_a
        value = b.metric(metric_b) if b is not None else None
        met = "—" if not isinstance(value, (int, float)) else \
            ("yes" if (value >= goal if higher else value <= goal) else "no")
        rows.append((task, *cell(a, metric_a), *cell(b, metric_b),
                     ("≥ " if higher else "≤ ") + f"{goal:g}", met))
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    print(f"\nseed-0 runs from {args.runs} (the book gives the mean ± sd where there are more)")


if __name__ == "__main__":
    main()
