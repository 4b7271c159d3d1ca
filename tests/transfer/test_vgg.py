"""VGG11 for 32×32 MNIST: shapes, parameter count, a training step, the experiment."""

import json

import numpy as np
import pytest
import torch
from foundation.formats import write_mnist_folder

from practica import cli
from practica.data import mnist
from practica.data.base import Split
from practica.experiments.vgg11_mnist import subset, to_32
from practica.models.vgg import VGG11_CFG, vgg11
from practica.shapes import analyse_model


def test_config_a_has_eight_convs_and_five_pools():
    assert sum(isinstance(c, int) for c in VGG11_CFG) == 8
    assert VGG11_CFG.count("M") == 5


def test_vgg11_shapes_and_head():
    model = vgg11(head=64).eval()
    x = torch.randn(2, 1, 32, 32)
    assert model.features(x).shape == (2, 512, 1, 1)
    assert model(x).shape == (2, 10)
    linears = [m for m in model.classifier if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(512, 64), (64, 64), (64, 10)]
    dropouts = [m.p for m in model.classifier if isinstance(m, torch.nn.Dropout)]
    assert dropouts == [0.5, 0.5]


def test_full_head_parameter_count_matches_the_calculator():
    model = vgg11()
    rows = analyse_model(model, (1, 32, 32))
    bn = sum(p.numel() for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)
             for p in m.parameters())
    assert sum(r.params_with_bias for r in rows) + bn == sum(p.numel() for p in
                                                             model.parameters())
    # 512·4096 + 4096 + 4096·4096 + 4096 + 4096·10 + 10 in the head
    assert sum(r.params_with_bias for r in rows if r.kind == "fc") == 18_923_530


def test_28_pixels_do_not_fit_five_pools():
    with pytest.raises(ValueError, match="not divisible"):
        vgg11(image_size=28)


def test_one_training_step_lowers_the_loss_on_its_batch():
    torch.manual_seed(0)
    model = vgg11(head=32, dropout=0.0)
    x, y = torch.randn(8, 1, 32, 32), torch.arange(8) % 10
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(3):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]


def test_resize_and_pad_to_32():
    x = torch.arange(4 * 28 * 28, dtype=torch.float32).reshape(4, 1, 28, 28)
    assert to_32(x, "bilinear").shape == (4, 1, 32, 32)
    padded = to_32(x, "pad")
    assert torch.equal(padded[:, :, 2:30, 2:30], x) and padded[0, 0, 0, 0] == x.min()


def test_train_fraction_is_stratified():
    labels = np.repeat(np.arange(10), 20)
    split = Split(np.zeros((200, 1, 2, 2), np.uint8), labels)
    part = subset(split, 0.1, seed=0)
    assert len(part) == 20 and np.bincount(part.labels).tolist() == [2] * 10


def test_experiment_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "SIZES", (40, 20))
    write_mnist_folder(tmp_path / "data" / "mnist", n_train=40, n_test=20)
    assert cli.main(["run", "vgg11-mnist", "--set", "epochs=2", "--set", "batch_size=8",
                     "--set", "head=16", "--set", "evals_per_epoch=2", "--no-progress",
                     "--data-dir", str(tmp_path / "data"), "--runs-dir",
                     str(tmp_path / "runs")]) == 0
    (run,) = (tmp_path / "runs" / "vgg11-mnist").iterdir()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["steps"] == 10
    assert summary["steps_per_epoch"] == 5
    for name in ("accuracy_vs_epoch.png", "loss_vs_epoch.png", "confusion_matrix.png"):
        assert (run / "plots" / name).is_file()
    record = json.loads((run / "config.json").read_text())
    assert record["settings"]["amp"] == "bf16" and record["settings"]["channels_last"]
