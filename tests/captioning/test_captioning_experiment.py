"""The captioning experiments end to end on tiny fixtures (MNIST IDX and COCO HDF5)."""

from __future__ import annotations

import json

import pytest
from foundation.formats import write_mnist_folder
from foundation.runs import only_run, run

from practica import cli
from practica.data import mnist
from practica.train.array_checkpoint import load_arrays

from .coco_format import write_coco_folder


@pytest.fixture
def tiny_mnist(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "SIZES", (240, 60))
    return write_mnist_folder(tmp_path / "data" / "mnist", n_train=240, n_test=60).parent


def test_digit_pairs_smoke_run(tiny_mnist, tmp_path):
    assert run(tmp_path, tiny_mnist, "captioning-rnn", "--smoke") == 0
    path = only_run(tmp_path, "captioning-rnn")[0]
    summary = json.loads((path / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["dataset"] == "digit-pairs"
    metrics = summary["metrics"]
    for key in ("train/loss", "val/loss", "val/word_accuracy", "val/caption_match"):
        assert key in metrics
    assert len(summary["samples"]) == 4  # two per split
    assert (path / "plots" / "samples.png").is_file() and (path / "plots" / "loss.png").is_file()
    child = path / "children" / "feature-cnn"
    assert json.loads((child / "summary.json").read_text())["status"] == "completed"
    assert (child / "features.npz").is_file()
    report = (path / "report.html").read_text()
    assert "Sampled captions" in report and "children/feature-cnn" in report
    state = load_arrays(path / "checkpoints" / "last.npz")
    assert state["solver"]["step"] == state["solver"]["num_steps"] > 0


def test_overfit_on_coco_fixture(tmp_path):
    data = tmp_path / "data"
    # one caption per image, so the training loss can really approach zero
    write_coco_folder(data / "coco_captioning", captions_per_image=1)
    assert run(tmp_path, data, "captioning-overfit", "--set", "hidden_dim=32", "--set",
               "wordvec_dim=16", "--set", "epochs=100", "--set", "batch_size=3", "--set",
               "lr_decay=1", "--set", "num_samples=2") == 0
    summary = json.loads((only_run(tmp_path, "captioning-overfit")[0] / "summary.json").read_text())
    assert summary["dataset"] == "coco"
    assert summary["metrics"]["train/loss"] < 0.1 and summary["target"]["passed"]
    # the URLs of the images stand in for the pictures in the report
    report = (only_run(tmp_path, "captioning-overfit")[0] / "report.html").read_text()
    assert "COCO_val2014_" in report


def test_coco_asked_for_but_missing(tmp_path, capsys):
    (tmp_path / "data").mkdir()
    assert run(tmp_path, tmp_path / "data", "captioning-rnn", "--set", "dataset=coco") == 2
    assert "COCO captioning data not found" in capsys.readouterr().err


def test_interrupted_run_resumes_exactly(tiny_mnist, tmp_path, monkeypatch):
    args = ["captioning-rnn", "--smoke", "--set", "cnn_steps=5", "--set", "eval_every=5",
            "--seed", "3"]
    assert run(tmp_path / "a", tiny_mnist, *args) == 0
    expected = json.loads((only_run(tmp_path / "a", "captioning-rnn")[0] / "summary.json")
                          .read_text())["metrics"]

    from practica.numpy_nn.captioning_solver import CaptioningSolver

    real = CaptioningSolver.train_step

    def interrupt(self):
        if self.step == 12:
            raise KeyboardInterrupt
        return real(self)

    monkeypatch.setattr(CaptioningSolver, "train_step", interrupt)
    assert run(tmp_path / "b", tiny_mnist, *args) == 130
    monkeypatch.setattr(CaptioningSolver, "train_step", real)
    path = only_run(tmp_path / "b", "captioning-rnn")[0]
    assert load_arrays(path / "checkpoints" / "last.npz")["solver"]["step"] == 10
    assert cli.main(["resume", str(path), "--no-progress"]) == 0
    assert json.loads((path / "summary.json").read_text())["metrics"] == expected
