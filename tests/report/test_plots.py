"""Learning-curve figures: one file per metric, and a far-off step-0 point left off the scale."""

from __future__ import annotations

import math

import matplotlib.image
import matplotlib.pyplot as plt

from practica.report.plots import fit_to_run, learning_curves, start_off_scale, xy_plot


def test_axis_fits_the_run_when_the_start_is_far_off() -> None:
    # VAE reconstruction error: 550 before training, 98 → 75 after
    lo, hi = start_off_scale([(0, 550.0), (500, 98.0), (1000, 80.0), (1500, 75.0)])
    assert lo < 75.0 and 98.0 < hi < 110.0
    # accuracy: chance before training, 0.98–0.995 after (off scale below)
    lo, hi = start_off_scale([(0, 0.11), (1, 0.979), (2, 0.994), (3, 0.9954)])
    assert 0.9 < lo < 0.979 and 0.9954 < hi < 1.01
    # a usual loss curve keeps the automatic limits
    assert start_off_scale([(0, 2.3), (100, 1.6), (200, 1.2), (300, 0.9)]) is None
    assert start_off_scale([(0, 2.3)]) is None and start_off_scale([]) is None
    assert start_off_scale([(0, math.nan), (1, 1.0), (2, 0.5)]) is None


def test_learning_curves_write_one_png_per_metric(tmp_path) -> None:
    rows = [{"step": s, "split": split, "metric": m, "value": v}
            for s, split, m, v in [(0, "test", "loss", 550.0), (10, "train", "loss", 90.0),
                                   (10, "test", "loss", 80.0), (0, "test", "accuracy", 0.1),
                                   (10, "test", "accuracy", 0.8)]]
    paths = learning_curves(rows, tmp_path / "plots", title="run")
    assert sorted(p.name for p in paths) == ["accuracy.png", "loss.png"]
    for p in paths:
        image = matplotlib.image.imread(p)
        assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100


def test_fit_to_run_sets_the_limits_and_says_so() -> None:
    fig, ax = plt.subplots()
    points = [(0.0, 0.11), (1.0, 0.979), (2.0, 0.994), (3.0, 0.9954)]
    note = fit_to_run(ax, points, "epoch")
    lo, hi = ax.get_ylim()
    assert 0.9 < lo < 0.979 and 0.9954 < hi < 1.01
    assert note == " (at epoch 0: 0.11, off scale)"
    ax.clear()
    assert fit_to_run(ax, [(0.0, 2.3), (1.0, 1.6), (2.0, 1.2)], "epoch") == ""
    plt.close(fig)


def test_xy_plot_as_a_learning_curve(tmp_path) -> None:
    series = {"test": [(0.0, 0.11), (1.0, 0.979), (2.0, 0.994)], "train": [(1.0, 0.95)]}
    path = xy_plot(series, tmp_path / "acc.png", xlabel="epoch", ylabel="accuracy",
                   learning_curve=True)
    assert matplotlib.image.imread(path).ndim == 3
