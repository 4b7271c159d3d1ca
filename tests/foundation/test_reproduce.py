import dataclasses

import pytest

from practica import cli
from practica.data import cifar10
from practica.experiments.base import Experiment
from practica.experiments.registry import REGISTRY

from .formats import write_cifar_folder


@dataclasses.dataclass
class Empty:
    pass


def broken(cfg, ctx):
    raise RuntimeError("deliberately broken")


@pytest.fixture
def tiny_cifar(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar10, "SIZES", (100, 30))
    write_cifar_folder(tmp_path / "data")
    exp = REGISTRY["mlp-torch"]
    monkeypatch.setitem(REGISTRY, "mlp-torch", dataclasses.replace(
        exp, smoke={"steps": 4, "eval_every": 2, "batch_size": 10}))
    monkeypatch.setitem(REGISTRY, "broken", Experiment("broken", "none", "always fails",
                                                       Empty, broken))
    return tmp_path / "data"


def test_reproduce_runs_skips_and_survives_failures(tiny_cifar, tmp_path, capsys):
    runs = tmp_path / "runs"
    code = cli.main(["reproduce", "--only", "broken", "mlp-torch", "mnist-softmax-numpy",
                     "--offline", "--no-progress", "--data-dir", str(tiny_cifar),
                     "--runs-dir", str(runs)])
    assert code == 1  # one experiment failed, the others went on
    err = capsys.readouterr().err
    assert "1 completed, 1 failed, 1 skipped" in err
    assert "mnist not found" in err
    index = (runs / "report" / "index.html").read_text()
    assert index.count("<tr>") == 4  # header + three experiments
    assert "deliberately broken" in index and "skipped" in index
    assert "../mlp-torch/" in index and "report.html" in index
    assert "smoke run (not comparable)" in index  # smoke figures claim no pass/fail


def test_report_command_indexes_latest_runs(tiny_cifar, tmp_path, capsys):
    runs = tmp_path / "runs"
    for _ in range(2):
        assert cli.main(["run", "mlp-torch", "--smoke", "--no-progress", "--data-dir",
                         str(tiny_cifar), "--runs-dir", str(runs)]) == 0
    assert cli.main(["report", str(runs)]) == 0
    index = (runs / "report" / "index.html").read_text()
    latest = sorted(p.name for p in (runs / "mlp-torch").iterdir())[-1]
    assert latest in index and index.count("<tr>") == 2
    assert cli.main(["report", str(tmp_path / "none")]) == 2
