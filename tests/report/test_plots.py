"""Learning-curve figures: one file per metric, and a log axis only where the range needs it."""

from __future__ import annotations

import math

import matplotlib.image

from practica.report.plots import learning_curves, start_off_scale


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
