import json

import pytest
from foundation.formats import write_cifar_folder
from foundation.runs import only_run, run

from practica.data import cifar10


@pytest.fixture
def tiny_cifar(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar10, "SIZES", (100, 30))
    write_cifar_folder(tmp_path / "data")
    return tmp_path / "data"






@pytest.mark.parametrize("name", ["convnet-vgg", "convnet-preact"])
def test_convnets_run_end_to_end(tiny_cifar, tmp_path, name):
    assert run(tmp_path, tiny_cifar, name, "--set", "steps=4", "--set", "eval_every=2",
               "--set", "batch_size=8") == 0
    path, summary = only_run(tmp_path, name)
    assert summary["status"] == "completed" and len(summary["per_class_accuracy"]) == 10
    assert (path / "plots" / "confusion_matrix.png").is_file()


def test_improved_convnet_uses_bf16_channels_last_by_default(tiny_cifar, tmp_path):
    assert run(tmp_path, tiny_cifar, "convnet-preact-best", "--set", "steps=3",
               "--set", "eval_every=3", "--set", "batch_size=8", "--set",
               "warmup_steps=1") == 0
    path, summary = only_run(tmp_path, "convnet-preact-best")
    settings = json.loads((path / "config.json").read_text())["settings"]
    assert settings["amp"] == "bf16" and settings["channels_last"] is True
    assert summary["status"] == "completed"


@pytest.mark.parametrize("name", ["convnet-vgg-best", "mlp-torch-long"])
def test_tuned_variants_run_at_their_smoke_budget(tiny_cifar, tmp_path, name):
    """The variants of issue 21: their own defaults, bf16, and the smoke budget CI runs."""
    assert run(tmp_path, tiny_cifar, name, "--smoke", "--set", "batch_size=8",
               "--set", "warmup_steps=1") == 0
    path, summary = only_run(tmp_path, name)
    record = json.loads((path / "config.json").read_text())
    assert summary["status"] == "completed" and record["settings"]["amp"] == "bf16"
    assert record["config"]["augment"] == "crop+flip"
    assert record["config"]["schedule"] in ("onecycle", "cosine")


def test_flags_override_experiment_settings(tiny_cifar, tmp_path):
    assert run(tmp_path, tiny_cifar, "convnet-preact-best", "--amp", "none",
               "--no-channels-last", "--set", "steps=2", "--set", "eval_every=2",
               "--set", "batch_size=8", "--set", "warmup_steps=1") == 0
    path, _ = only_run(tmp_path, "convnet-preact-best")
    settings = json.loads((path / "config.json").read_text())["settings"]
    assert settings["amp"] == "none" and settings["channels_last"] is False


def test_activation_comparison_plots_both(tiny_cifar, tmp_path):
    assert run(tmp_path, tiny_cifar, "mlp-torch-activations", "--set", "steps=6",
               "--set", "eval_every=3", "--set", "batch_size=10") == 0
    path, summary = only_run(tmp_path, "mlp-torch-activations")
    assert {"elu/test/accuracy", "tanh/test/accuracy"} <= set(summary["metrics"])
    assert (path / "plots" / "activations_accuracy.png").is_file()
    for act in ("elu", "tanh"):
        child = json.loads((path / "children" / act / "config.json").read_text())
        assert child["config"]["activation"] == act


def test_normalisation_study_uses_the_custom_layernorm(tiny_cifar, tmp_path, monkeypatch):
    from practica.models import layernorm

    calls = {"n": 0}
    real = layernorm.LayerNormFunction.backward

    def counting(ctx, *grads):
        calls["n"] += 1
        return real(ctx, *grads)

    monkeypatch.setattr(layernorm.LayerNormFunction, "backward", staticmethod(counting))
    assert run(tmp_path, tiny_cifar, "layernorm-vs-batchnorm", "--set", "batch_sizes=4,16",
               "--set", "examples=64", "--set", "evaluations=2", "--set", "hidden=8") == 0
    path, summary = only_run(tmp_path, "layernorm-vs-batchnorm")
    assert {"batchnorm-batch4/test/accuracy", "layernorm-batch16/test/accuracy"} <= \
        set(summary["metrics"])
    assert (path / "plots" / "accuracy_vs_batch_size.png").is_file()
    assert calls["n"] > 0  # the hand-written backward ran


def test_validation_split_is_held_out_and_evaluated(tiny_cifar, tmp_path):
    assert run(tmp_path, tiny_cifar, "mlp-torch", "--set", "steps=4", "--set", "eval_every=2",
               "--set", "batch_size=10", "--set", "val_size=20") == 0
    path, summary = only_run(tmp_path, "mlp-torch")
    assert {"val/accuracy", "test/accuracy"} <= set(summary["metrics"])
    rows = (path / "metrics.csv").read_text()
    assert "4,val,accuracy" in rows


def test_validation_split_function():
    import numpy as np

    from practica.data import Split, validation_split

    split = Split(np.arange(50)[:, None], np.arange(50))
    train, val = validation_split(split, 10, seed=1)
    again = validation_split(split, 10, seed=1)[1]
    assert len(train) == 40 and len(val) == 10
    assert set(train.labels) | set(val.labels) == set(range(50))
    assert not set(train.labels) & set(val.labels)
    assert np.array_equal(val.labels, again.labels)
    with pytest.raises(ValueError):
        validation_split(split, 50, seed=1)
