"""gan-mnist, vae-* and vae-compare end to end on tiny fixture data in the real formats."""

from __future__ import annotations

import csv
import json

import pytest
from foundation.formats import write_mnist_folder
from foundation.runs import only_run, run

from practica import cli
from practica.data import mnist

from .galaxy_fixture import fixture_probs, write_galaxy_zoo


@pytest.fixture
def tiny_mnist(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "SIZES", (130, 40))
    write_mnist_folder(tmp_path / "data" / "mnist", n_train=130, n_test=40)
    return tmp_path / "data"


def finished(tmp_path, name):
    path, summary = only_run(tmp_path, name)
    assert summary["status"] == "completed"
    return path, summary


@pytest.mark.parametrize("name", ["gan-mnist", "gan-mnist-dcgan"])
def test_gan_mnist(tiny_mnist, tmp_path, name):
    assert run(tmp_path, tiny_mnist, name, "--set", "steps=4", "--set", "eval_every=2",
               "--set", "batch_size=16", "--set", "eval_samples=64", "--set",
               "classifier_steps=3") == 0
    path, summary = finished(tmp_path, name)
    plots = {p.name for p in (path / "plots").glob("*.png")}
    assert {"samples_1_start_step0.png", "samples_2_halfway_step2.png",
            "samples_3_end_step4.png", "interpolation.png", "fid.png",
            "inception_score.png", "losses_d_and_g.png"} <= plots
    m = summary["metrics"]
    assert 1.0 <= m["samples/inception_score"] <= 10 and m["samples/fid"] >= 0
    assert 1.0 <= m["real/inception_score"] <= 10
    assert set(summary["scores_over_training"]) == {"0", "2", "4"}
    assert "Sample quality over training" in (path / "report.html").read_text()


@pytest.mark.parametrize("arch", ["mlp", "conv", "resnet"])
def test_vae_variants(tiny_mnist, tmp_path, arch):
    assert run(tmp_path, tiny_mnist, f"vae-{arch}", "--set", "steps=2", "--set",
               "eval_every=1", "--set", "batch_size=16", "--set", "nll_samples=6", "--set",
               "nll_images=5", "--set", "latent=2") == 0
    path, summary = finished(tmp_path, f"vae-{arch}")
    plots = {p.name for p in (path / "plots").glob("*.png")}
    assert {"samples.png", "reconstructions.png", "latent_means.png", "latent_manifold.png",
            "recon.png", "loss.png", "class_samples.png"} <= plots
    assert sum(p.startswith("weights_") for p in plots) == 3
    m = summary["metrics"]
    assert m["test/nll"] > 0 and m["test/recon"] > 0 and m["test/kl"] >= 0
    assert summary["binarization"] == "dynamic" and summary["nll"]["k"] == 6
    report = (path / "report.html").read_text()
    assert "Likelihood" in report and "latent_means.png" in report


def test_vae_mlp_iwae_trains_on_the_k_sample_bound(tiny_mnist, tmp_path):
    """The IWAE variant lowers its own objective −L_5 on a tiny real problem; L_5 ≥ ELBO."""
    assert run(tmp_path, tiny_mnist, "vae-mlp-iwae", "--set", "steps=60", "--set",
               "eval_every=30", "--set", "batch_size=32", "--set", "lr=0.01", "--set",
               "nll_samples=20", "--set", "nll_images=20") == 0
    path, summary = finished(tmp_path, "vae-mlp-iwae")
    config = json.loads((path / "config.json").read_text())["config"]
    assert config["objective"] == "iwae" and config["iwae_samples"] == 5
    train = [r for r in csv.DictReader((path / "metrics.csv").open())
             if r["split"] == "train" and r["metric"] == "loss"]
    assert float(train[-1]["value"]) < float(train[0]["value"]) - 5
    m = summary["metrics"]
    assert m["test/nll"] < -m["test/elbo"] + 1e-6 and m["test/kl"] > 0


def test_vae_compare_trains_children_and_reads_finished_runs(tiny_mnist, tmp_path):
    args = ("--set", "steps=2", "--set", "eval_every=1", "--set", "nll_samples=0",
            "--set", "eval_images=20")
    assert run(tmp_path, tiny_mnist, "vae-compare", "--set", "archs=mlp", *args) == 0
    path, summary = finished(tmp_path, "vae-compare")
    assert (path / "children" / "mlp" / "summary.json").is_file()
    assert (path / "plots" / "vae_recon.png").is_file()
    assert "mlp/test/elbo" in summary["metrics"]
    child = path / "children" / "mlp"
    out = tmp_path / "again"
    assert cli.main(["run", "vae-compare", "--no-progress", "--runs-dir", str(out), "--set",
                     f"from_runs={child}"]) == 0
    (again,) = (out / "vae-compare").iterdir()
    assert (again / "plots" / "vae_recon.png").is_file() and not (again / "children").exists()


def test_vae_on_galaxy_zoo_fixture(tmp_path):
    write_galaxy_zoo(tmp_path / "data", fixture_probs(12))
    assert run(tmp_path, tmp_path / "data", "vae-conv", "--set", "dataset=galaxy-zoo",
               "--set", "image_size=16", "--set", "crop=32", "--set", "batch_size=4",
               "--set", "steps=2", "--set", "eval_every=1") == 0
    path, summary = finished(tmp_path, "vae-conv")
    assert summary["binarization"] == "none" and "test/nll" not in summary["metrics"]
    assert (path / "plots" / "latent_means.png").is_file()


def test_galaxy_zoo_refuses_binarisation(tmp_path):
    write_galaxy_zoo(tmp_path / "data", fixture_probs(4))
    assert run(tmp_path, tmp_path / "data", "vae-mlp", "--set", "dataset=galaxy-zoo",
               "--set", "binarize=dynamic") == 2


def test_class_samples_decode_codes_from_each_class_region():
    """Each class's samples are decoded from N(m_c, s_c²) fitted to that class's codes."""
    import types

    import numpy as np
    import torch

    from practica.experiments.vae import class_samples
    from practica.models.vae import VAE

    model = VAE("mlp", latent=2)
    seen = []
    real_decode = model.decode

    def decode(z):
        seen.append(z.clone())
        return real_decode(z)

    model.decode = decode
    y = np.repeat(np.arange(3), 40)
    means = np.stack([np.full(2, 10.0 * c) for c in y]) + np.random.default_rng(0).normal(
        0, 0.1, (len(y), 2))
    x = torch.rand(len(y), 1, 28, 28)
    ctx = types.SimpleNamespace(settings=types.SimpleNamespace(seed=0), device="cpu")
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = class_samples(model, x, y, means, ("a", "b", "c"), ctx, Path(tmp) / "c.png")
        assert path.read_bytes()[:4] == b"\x89PNG"
    assert len(seen) == 3
    for c, z in enumerate(seen):
        assert z.shape == (5, 2)
        assert torch.allclose(z.mean(0), torch.full((2,), 10.0 * c), atol=0.5)


def test_vae_learning_rates_trains_whole_epochs_per_child(tiny_mnist, tmp_path):
    assert run(tmp_path, tiny_mnist, "vae-mlp-learning-rates", "--set", "epochs=2",
               "--set", "learning_rates=[1e-3, 1e-2]", "--set", "evaluations=2",
               "--set", "eval_images=20", "--set", "nll_samples=0") == 0
    path, summary = finished(tmp_path, "vae-mlp-learning-rates")
    per_epoch = -(-130 // 128)  # 130 fixture images, batch 128: two steps an epoch
    assert summary["steps_per_child"] == 2 * per_epoch
    lrs = []
    for label in ("lr0.001", "lr0.01"):
        child = json.loads((path / "children" / label / "config.json").read_text())["config"]
        assert child["steps"] == 2 * per_epoch and child["arch"] == "mlp"
        lrs.append(child["lr"])
    assert lrs == [1e-3, 1e-2]
    assert summary["metrics"]["lr0.001/test/recon"] != summary["metrics"]["lr0.01/test/recon"]
    assert (path / "plots" / "lr_recon.png").is_file()


def test_vae_mlp_best_runs_at_its_smoke_budget(tiny_mnist, tmp_path):
    """Two hidden layers each way, the IWAE bound, and the NLL at the smoke budget's k."""
    assert run(tmp_path, tiny_mnist, "vae-mlp-best", "--smoke", "--set", "batch_size=32") == 0
    path, summary = finished(tmp_path, "vae-mlp-best")
    config = json.loads((path / "config.json").read_text())["config"]
    assert (config["depth"], config["objective"], config["nll_chunk"]) == (2, "iwae", 500)
    assert summary["nll"]["k"] == 10 and summary["metrics"]["test/nll"] > 0
