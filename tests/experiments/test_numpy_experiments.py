import json

import pytest
from foundation.formats import write_cifar_folder, write_mnist_folder
from foundation.runs import only_run, run

from practica import cli
from practica.data import cifar10, mnist
from practica.train.array_checkpoint import load_arrays


@pytest.fixture
def tiny_data(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar10, "SIZES", (100, 30))
    monkeypatch.setattr(mnist, "SIZES", (240, 60))
    write_cifar_folder(tmp_path / "data")
    write_mnist_folder(tmp_path / "data" / "mnist", n_train=240, n_test=60)
    return tmp_path / "data"






def test_gradcheck_command(capsys):
    assert cli.main(["gradcheck"]) == 0
    out = capsys.readouterr().out
    assert "Conv2d" in out and "ELU" in out and "FAIL" not in out
    assert "gradient checks are within tolerance" in out


def test_mlp_numpy_learns_the_fixture(tiny_data, tmp_path):
    # the fixture paints a class-specific stripe, so a linear-ish model separates it
    assert run(tmp_path, tiny_data, "mlp-numpy", "--set", "steps=60", "--set", "eval_every=20",
               "--set", "batch_size=20", "--set", "preprocess=unit", "--set",
               "init=kaiming", "--set", "optimizer=adam") == 0
    path = only_run(tmp_path, "mlp-numpy")[0]
    summary = json.loads((path / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["metrics"]["test/accuracy"] > 0.5
    state = load_arrays(path / "checkpoints" / "last.npz")
    assert state["solver"]["step"] == 60
    assert (path / "plots" / "accuracy.png").is_file()


def test_mlp_numpy_resume_is_exact(tiny_data, tmp_path, monkeypatch):
    args = ["mlp-numpy", "--set", "steps=40", "--set", "eval_every=10", "--set",
            "batch_size=20", "--seed", "3"]
    assert run(tmp_path / "a", tiny_data, *args) == 0
    expected = json.loads((only_run(tmp_path / "a", "mlp-numpy")[0] / "summary.json")
                          .read_text())["metrics"]

    from practica.numpy_nn import Solver

    real = Solver.train_step

    def interrupt(self):
        if self.step == 25:
            raise KeyboardInterrupt
        return real(self)

    monkeypatch.setattr(Solver, "train_step", interrupt)
    assert run(tmp_path / "b", tiny_data, *args) == 130
    monkeypatch.setattr(Solver, "train_step", real)
    path = only_run(tmp_path / "b", "mlp-numpy")[0]
    assert load_arrays(path / "checkpoints" / "last.npz")["solver"]["step"] == 20
    assert cli.main(["resume", str(path), "--no-progress"]) == 0
    assert json.loads((path / "summary.json").read_text())["metrics"] == expected


def test_numpy_divergence_is_a_clean_stop(tiny_data, tmp_path, capsys):
    code = run(tmp_path, tiny_data, "mlp-numpy", "--set", "steps=30", "--set", "lr=1e6",
               "--set", "init=kaiming", "--set", "eval_every=5", "--set", "batch_size=20")
    assert code == 1
    assert "training stopped: loss became" in capsys.readouterr().err
    summary = json.loads((only_run(tmp_path, "mlp-numpy")[0] / "summary.json").read_text())
    assert summary["status"] == "diverged"


def test_mnist_softmax_sweep_selects_on_validation(tiny_data, tmp_path):
    assert run(tmp_path, tiny_data, "mnist-softmax-numpy", "--set", "hidden_sizes=8,16",
               "--set", "epochs=2", "--set", "batch_size=20") == 0
    path = only_run(tmp_path, "mnist-softmax-numpy")[0]
    summary = json.loads((path / "summary.json").read_text())
    sweep = summary["sweep"]
    assert set(sweep) == {"hidden-8", "hidden-16"}
    best = max(sweep, key=lambda k: sweep[k]["val/accuracy"])
    assert summary["best"] == best
    assert summary["metrics"]["test/accuracy"] == sweep[best]["test/accuracy"]
    assert (path / "children" / "hidden-8" / "summary.json").is_file()
    assert (path / "plots" / "sweep_accuracy.png").is_file()
    assert "Sweep" in (path / "report.html").read_text()


def test_mnist_cnn_sweep_runs(tiny_data, tmp_path):
    assert run(tmp_path, tiny_data, "mnist-cnn-numpy", "--set", "filter_sizes=3",
               "--set", "hidden_sizes=8", "--set", "num_filters=4", "--set", "epochs=1",
               "--set", "batch_size=20") == 0
    summary = json.loads((only_run(tmp_path, "mnist-cnn-numpy")[0] / "summary.json").read_text())
    assert summary["best"] == "filter-3-hidden-8"
    assert 0.0 <= summary["metrics"]["test/accuracy"] <= 1.0
