"""Matplotlib figures for runs: learning curves, comparisons, confusion matrices."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..records.atomic import save_figure

SPLIT_STYLE = {"train": "-", "val": "--", "test": "-"}
SPLIT_ORDER = {"train": 0, "val": 1, "test": 2}


def _split_key(item: tuple[str, object]) -> tuple[int, str]:
    return SPLIT_ORDER.get(item[0], 3), item[0]


def _series(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """metric -> split -> [(step, value)] from metrics.csv rows."""
    out: dict[str, dict[str, list[tuple[int, float]]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        out[r["metric"]][r["split"]].append((r["step"], r["value"]))
    return out


def start_off_scale(points: Iterable[tuple[float, float]], factor: float = 2.0
                    ) -> tuple[float, float] | None:
    """Y-limits fitted to the points after the first x, when the first x's values lie more than
    ``factor`` times the later points' range outside it (else None).

    The evaluation before training (step 0: a loss of 550 where training ends near 75, or
    chance accuracy where it ends at 0.99) would otherwise flatten the whole run into a line.
    """
    points = sorted(points)
    if not points:
        return None
    x0 = points[0][0]
    first = [v for x, v in points if x == x0]
    later = [v for x, v in points if x != x0]
    if not later or not all(np.isfinite(later + first)):
        return None
    lo, hi = min(later), max(later)
    span = (hi - lo) or abs(hi) or 1.0
    if max(first) <= hi + factor * span and min(first) >= lo - factor * span:
        return None
    return lo - 0.08 * span, hi + 0.08 * span


def fit_to_run(ax: plt.Axes, points: Sequence[tuple[float, float]], xlabel: str) -> str:
    """Apply :func:`start_off_scale` to ``ax``; return the note for the title ('' if none)."""
    limits = start_off_scale(points)
    if limits is None:
        return ""
    ax.set_ylim(*limits)
    x0 = min(points)[0]
    start = [v for x, v in points if x == x0]
    return f" (at {xlabel} {x0:g}: {max(start, key=abs):.3g}, off scale)"


def learning_curves(rows: Sequence[Mapping[str, Any]], out_dir: Path, *,
                    title: str = "", xlabel: str = "step") -> list[Path]:
    """One PNG per metric (loss, accuracy, ...) with a line per split (train, test, ...)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for metric, by_split in sorted(_series(rows).items()):
        fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
        for split, points in sorted(by_split.items(), key=_split_key):
            points.sort()
            steps, values = zip(*points, strict=True)
            ax.plot(steps, values, SPLIT_STYLE.get(split, "-"), marker="." if len(steps) < 40
                    else None, label=split)
        heading = f"{title} — {metric}" if title else metric
        heading += fit_to_run(ax, [pt for points in by_split.values() for pt in points], xlabel)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(metric)
        ax.set_title(heading)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        path = out_dir / f"{_slug(metric)}.png"
        save_figure(fig, path)
        plt.close(fig)
        written.append(path)
    return written


def compare_curves(runs: Mapping[str, Sequence[Mapping[str, Any]]], metric: str,
                   path: Path, *, splits: Sequence[str] = ("train", "test"),
                   title: str = "", xlabel: str = "step", ylabel: str = "",
                   zoom: bool = False) -> Path:
    """Several runs' ``metric`` on one axis: a colour per run, a line style per split.

    ``zoom``: the y range covers the points after the first tenth of the steps, so a steep
    first drop does not flatten the differences that matter later (the drop runs off the
    top of the axis).
    """
    fig, ax = plt.subplots(figsize=(6.5, 4.2), dpi=110)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    later: list[float] = []
    for i, (label, rows) in enumerate(runs.items()):
        by_split = _series(rows).get(metric, {})
        for split in splits:
            points = sorted(by_split.get(split, []))
            if not points:
                continue
            steps, values = zip(*points, strict=True)
            ax.plot(steps, values, "--" if split == "train" else "-",
                    color=colours[i % len(colours)], label=f"{label} ({split})")
            cut = steps[0] + 0.1 * (steps[-1] - steps[0])
            later += [v for t, v in points if t >= cut and math.isfinite(v)]
    if zoom and later:
        low, high = min(later), max(later)
        pad = 0.1 * (high - low) or 0.05 * abs(high) or 1.0
        ax.set_ylim(low - pad, high + pad)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel or metric)
    ax.set_title(title or metric, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path)
    plt.close(fig)
    return path


def confusion_matrix_plot(matrix: np.ndarray, classes: Sequence[str], path: Path,
                          title: str = "confusion matrix") -> Path:
    """A row-normalised confusion matrix (rows: true class, columns: predicted)."""
    matrix = np.asarray(matrix, dtype=float)
    norm = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6, 5.4), dpi=110)
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(classes)), classes, fontsize=8)
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(j, i, f"{norm[i, j]:.2f}", ha="center", va="center", fontsize=6,
                    color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path)
    plt.close(fig)
    return path


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


def xy_plot(series: Mapping[str, Sequence[tuple[float, float]]], path: Path, *, xlabel: str,
            ylabel: str, title: str = "", logx: bool = False,
            learning_curve: bool = False) -> Path:
    """One marked line per named series of (x, y) points.

    ``learning_curve``: x is training time, so a far-off first evaluation (before training)
    is left off the scale as in :func:`learning_curves`.
    """
    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    for label, points in series.items():
        xs, ys = zip(*sorted(points), strict=True) if points else ((), ())
        ax.plot(xs, ys, marker="o", label=label)
    if logx:
        ax.set_xscale("log", base=2)
        ticks = sorted({x for points in series.values() for x, _ in points})
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    if learning_curve:
        title += fit_to_run(ax, [pt for points in series.values() for pt in points], xlabel)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path)
    plt.close(fig)
    return path
