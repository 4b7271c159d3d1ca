"""End to end: a CIFAR-10 ResNet-18 checkpoint made here, then finetune/freeze on ants/bees."""


import pytest
import torch
from foundation.formats import write_cifar_folder
from foundation.runs import only_run, run

from practica.data import cifar10
from transfer.fixtures import write_zip

TINY = ["--set", "epochs=2", "--set", "batch_size=4", "--set", "image_size=32",
        "--set", "resize=36", "--set", "visualize=4"]


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar10, "SIZES", (100, 30))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    write_cifar_folder(tmp_path / "data")
    write_zip(tmp_path / "data" / "hymenoptera_data.zip")
    return tmp_path / "data"






@pytest.fixture
def checkpoint(tmp_path, data):
    assert run(tmp_path, data, "resnet18-cifar10", "--set", "steps=2", "--set",
               "eval_every=2", "--set", "batch_size=8", "--set", "warmup_steps=0") == 0
    path, summary = only_run(tmp_path, "resnet18-cifar10")
    assert summary["status"] == "completed" and summary["weights"] == str(path / "weights.pt")
    return path / "weights.pt"


def test_freeze_trains_only_the_head(tmp_path, data, checkpoint):
    assert run(tmp_path, data, "transfer-hymenoptera", "--set", "mode=freeze", "--set",
               f"weights={checkpoint}", *TINY) == 0
    path, summary = only_run(tmp_path, "transfer-hymenoptera")
    metrics = summary["metrics"]
    assert {"val/accuracy", "val/accuracy_before", "val/accuracy_best"} <= set(metrics)
    assert len(summary["val_accuracy_per_epoch"]) == 3  # before, epoch 1, epoch 2
    assert summary["trainable_parameters"] == 512 * 2 + 2
    assert summary["skipped_files"] == ["train/ants/imageNotFound.gif"]
    final = torch.load(path / "checkpoints" / "last.pt", weights_only=True)["model"]
    pretrained = torch.load(checkpoint, weights_only=True)
    assert torch.equal(final["layer3.0.conv1.weight"], pretrained["layer3.0.conv1.weight"])
    for name in ("val_predictions.png", "accuracy_vs_epoch.png", "loss_vs_epoch.png"):
        assert (path / "plots" / name).is_file()
    assert "val_predictions" in (path / "report.html").read_text()


def test_finetune_trains_every_layer(tmp_path, data, checkpoint):
    assert run(tmp_path, data, "transfer-hymenoptera", "--set", f"weights={checkpoint}",
               *TINY) == 0
    path, summary = only_run(tmp_path, "transfer-hymenoptera")
    final = torch.load(path / "checkpoints" / "last.pt", weights_only=True)["model"]
    pretrained = torch.load(checkpoint, weights_only=True)
    assert not torch.equal(final["layer3.0.conv1.weight"], pretrained["layer3.0.conv1.weight"])
    assert summary["trainable_parameters"] > 11_000_000


def test_imagenet_default_fails_clearly_offline(tmp_path, data, capsys):
    assert run(tmp_path, data, "transfer-hymenoptera", *TINY) == 2
    assert "not in the torch hub cache" in capsys.readouterr().err


def test_transfer_cifar10_upsamples(tmp_path, data, checkpoint):
    assert run(tmp_path, data, "transfer-cifar10", "--set", f"weights={checkpoint}",
               "--set", "steps=2", "--set", "eval_every=2", "--set", "batch_size=8",
               "--set", "image_size=40", "--set", "mode=freeze") == 0
    _, summary = only_run(tmp_path, "transfer-cifar10")
    assert summary["status"] == "completed" and summary["mode"] == "freeze"
