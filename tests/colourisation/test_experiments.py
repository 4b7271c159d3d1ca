"""The colourisation experiments end to end on a tiny CIFAR-10 fixture, and their metrics."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from foundation.runs import only_run
from foundation.runs import run as run_experiment

from practica.data import cifar10
from practica.experiments.colourisation import (
    ColourConfig,
    bilinear_baseline,
    image_scores,
    model_input,
    psnr,
)

from .fixtures import write_horse_cifar, write_palette


@pytest.fixture(autouse=True)
def single_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar10, "SIZES", (60, 10))
    root = tmp_path / "data"
    write_horse_cifar(root)  # 30 training horses, 5 test horses
    return root


FAST = ["--set", "epochs=2", "--set", "batch_size=10", "--set", "num_filters=4",
        "--set", "examples=3", "--set", "activation_images=0", "--set", "large_size=0"]


def run(tmp_path, data, name, *args):
    return run_experiment(tmp_path, data, name, *FAST, *args)


def test_psnr_and_scores_by_hand():
    target = torch.full((2, 3, 8, 8), 0.5)
    assert psnr(target + 0.1, target).tolist() == pytest.approx([20.0, 20.0])
    centres = torch.tensor([[0.0, 0, 0], [0.5, 0.5, 0.5], [1.0, 1, 1]])
    scores = image_scores(target.clone(), target, centres)
    assert scores["accuracy"] == 1.0 and scores["ssim"] == pytest.approx(1.0)
    assert image_scores(target + 0.4, target, centres)["accuracy"] == 0.0


def test_superres_input_and_bilinear_baseline():
    cfg = ColourConfig(task="superres")
    blocks = torch.rand(1, 3, 2, 2)
    image = blocks.repeat_interleave(4, 2).repeat_interleave(4, 3)  # constant 4×4 blocks
    torch.testing.assert_close(model_input(image, cfg), image)
    flat = torch.full((1, 3, 8, 8), 0.3)
    torch.testing.assert_close(bilinear_baseline(flat, 4), flat)
    grey = model_input(image, ColourConfig())
    assert grey.shape == (1, 1, 8, 8)
    torch.testing.assert_close(grey, image.mean(1, keepdim=True))


def test_classification_uses_the_palette_file_and_writes_figures(tmp_path, data):
    centres = np.random.default_rng(0).random((24, 3))
    write_palette(data / "colourization", centres, 0.07)
    assert run(tmp_path, data, "colour-classification", "--set", "activation_images=1",
               "--set", "large_size=16") == 0
    path, summary = only_run(tmp_path, "colour-classification")
    assert summary["status"] == "completed"
    assert summary["palette"]["source"] == "file colour_kmeans24_cat7.npy"
    m = summary["metrics"]
    for key in ("test/loss", "test/accuracy", "test/psnr", "test/ssim", "train/accuracy",
                "baseline/greyscale/psnr", "baseline/palette/psnr"):
        assert np.isfinite(m[key]), key
    assert m["baseline/palette/accuracy"] == 1.0
    assert 0 <= m["test/accuracy"] <= 1 and summary["steps"] == 2 * 3
    plots = {p.name for p in (path / "plots").iterdir()}
    assert {"result_grid.png", "activations_0.png", "larger_images.png", "palette.png",
            "loss.png", "accuracy.png", "psnr.png"} <= plots
    report = (path / "report.html").read_text()
    assert "Model against baselines" in report and "result_grid.png" in report
    rows = [r for r in (path / "metrics.csv").read_text().splitlines() if ",test,accuracy," in r]
    assert len(rows) == 3  # step 0 and once per epoch


def test_superres_with_kmeans_palette_has_a_bilinear_baseline(tmp_path, data):
    assert run(tmp_path, data, "superres-unet", "--set", "palette=kmeans",
               "--set", "colours=4") == 0
    _, summary = only_run(tmp_path, "superres-unet")
    assert summary["palette"]["source"].startswith("k-means")
    assert summary["palette"]["colours"] == 4
    assert {"baseline/bilinear/psnr", "baseline/nearest/ssim"} <= set(summary["metrics"])
    assert "bilinear" in summary["comparison"]


def test_regression_is_reproducible(tmp_path, data):
    args = ["--set", "palette=kmeans", "--set", "colours=8", "--seed", "3"]
    assert run(tmp_path / "a", data, "colour-regression", *args) == 0
    assert run(tmp_path / "b", data, "colour-regression", *args) == 0
    _, first = only_run(tmp_path / "a", "colour-regression")
    _, second = only_run(tmp_path / "b", "colour-regression")
    assert first["metrics"] == second["metrics"]


def test_batch_size_study_runs_one_child_per_batch_size(tmp_path, data):
    assert run(tmp_path, data, "colour-unet-batch-sizes", "--set", "batch_sizes=5,15",
               "--set", "palette=kmeans", "--set", "colours=4") == 0
    path, summary = only_run(tmp_path, "colour-unet-batch-sizes")
    assert set(summary["batch_sizes"]) == {"batch5", "batch15"}
    for bs, steps in ((5, 12), (15, 4)):
        child = json.loads((path / "children" / f"batch{bs}" / "summary.json").read_text())
        assert child["steps"] == steps and child["status"] == "completed"
    assert (path / "plots" / "batch_sizes_loss.png").is_file()
    assert (path / "plots" / "final_accuracy_vs_batch_size.png").is_file()


def test_epochs_study_trains_each_child_for_its_epochs(tmp_path, data):
    assert run(tmp_path, data, "colour-regression-epochs", "--set", "epoch_counts=1,3",
               "--set", "palette=kmeans", "--set", "colours=4", "--set", "batch_size=15") == 0
    path, summary = only_run(tmp_path, "colour-regression-epochs")
    assert set(summary["epoch_counts"]) == {"epochs1", "epochs3"}
    steps = {n: json.loads((path / "children" / f"epochs{n}" / "summary.json").read_text())
             ["steps"] for n in (1, 3)}
    assert steps[3] == 3 * steps[1]  # same batch size, three times the passes
    assert (path / "plots" / "final_loss_vs_epochs.png").is_file()
    assert (path / "plots" / "epoch_counts_loss.png").is_file()


def test_learning_rate_study_differs_only_in_the_learning_rate(tmp_path, data):
    assert run(tmp_path, data, "colour-unet-learning-rates", "--set",
               "learning_rates=[1e-4, 1e-2]", "--set", "palette=kmeans", "--set", "colours=4",
               "--set", "epochs=1", "--set", "batch_size=15") == 0
    path, summary = only_run(tmp_path, "colour-unet-learning-rates")
    assert set(summary["learning_rates"]) == {"lr0.0001", "lr0.01"}
    configs = [json.loads((path / "children" / f"lr{v}" / "config.json").read_text())["config"]
               for v in ("0.0001", "0.01")]
    assert configs[0]["lr"] == 1e-4 and configs[1]["lr"] == 1e-2
    assert {k for k in configs[0] if configs[0][k] != configs[1][k]} == {"lr"}
    losses = [summary["learning_rates"][f"lr{v}"]["train/loss"] for v in ("0.0001", "0.01")]
    assert losses[0] != losses[1]
    assert (path / "plots" / "final_accuracy_vs_learning_rate.png").is_file()


def test_two_studies_at_once_are_refused(tmp_path, data, capsys):
    assert run(tmp_path, data, "colour-unet-learning-rates", "--set", "epoch_counts=1,2") == 2
    assert "one of batch_sizes, epoch_counts, learning_rates" in capsys.readouterr().err


def test_missing_palette_file_and_bad_options_fail_cleanly(tmp_path, data, capsys):
    assert run(tmp_path, data, "colour-unet", "--set", "palette=file") == 2
    assert "colour_kmeans24_cat7.npy not found" in capsys.readouterr().err
    assert run(tmp_path, data, "colour-unet", "--set", "kernel=4") == 2
    assert run(tmp_path, data, "colour-unet", "--set", "batch_size=1000",
               "--set", "palette=kmeans") == 2


def test_tile_maps_scales_each_map_and_lays_out_a_mosaic():
    from practica.experiments.colourisation import tile_maps

    maps = np.stack([np.arange(4.0).reshape(2, 2) * (i + 1) for i in range(3)])
    out = tile_maps(maps, size=4, columns=2, gap=1)
    assert out.shape == (2 * 4 + 1, 2 * 4 + 1)
    # every map is scaled to [0, 1] on its own and enlarged 2× by repetition
    assert out[:4, :4].tolist() == [[0, 0, 1 / 3, 1 / 3]] * 2 + [[2 / 3, 2 / 3, 1, 1]] * 2
    assert np.array_equal(out[:4, 5:], out[:4, :4]) and np.isnan(out[5:, 5:]).all()
    assert tile_maps(maps[:1], size=2).shape == (2, 2)  # fewer maps than columns
