import json

import pytest

from practica import cli
from practica.data import cifar10

from .formats import write_cifar_folder

TINY = ["--set", "steps=12", "--set", "eval_every=4", "--set", "batch_size=10"]


@pytest.fixture
def tiny_cifar(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar10, "SIZES", (100, 30))
    write_cifar_folder(tmp_path / "data")
    return tmp_path / "data"


def run_cli(*args):
    return cli.main(list(args))


def test_list_and_show(capsys):
    assert run_cli("list") == 0
    out = capsys.readouterr().out
    assert "mlp-torch" in out and "cifar10 (missing)" in out
    assert run_cli("list", "--markdown") == 0
    assert capsys.readouterr().out.startswith("| experiment |")
    assert run_cli("show", "mlp-torch") == 0
    assert "hidden" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["run", "mlp-torh"], "unknown experiment 'mlp-torh'; did you mean mlp-torch"),
    (["run", "mlp-torch", "--set", "lr=fast"], "lr: expected a number"),
    (["run", "mlp-torch", "--set", "hidden=0"], "hidden: [0] widths must be > 0"),
    (["run", "mlp-torch", "--config", "/no/such.toml"], "config file not found"),
    (["resume", "/no/such/run"], "is not a practica run directory"),
    (["data", "verify", "imagenet"], "unknown data set(s) imagenet"),
    (["run", "mlp-torch", "--amp", "fp16", "--device", "cpu"], "--amp fp16 needs a CUDA GPU"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, args, message):
    assert run_cli(*args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_bad_flag_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        run_cli("run", "mlp-torch", "--frobnicate")
    assert info.value.code == 2
    assert "unrecognized arguments: --frobnicate" in capsys.readouterr().err


def test_missing_data_offline(tmp_path, capsys):
    code = run_cli("run", "mlp-torch", "--offline", "--no-progress", "--data-dir",
                   str(tmp_path / "none"), "--runs-dir", str(tmp_path / "runs"))
    assert code == 2
    err = capsys.readouterr().err
    assert "CIFAR-10 not found" in err and "practica data fetch cifar10" in err


def test_run_writes_full_record(tiny_cifar, tmp_path, capsys):
    runs = tmp_path / "runs"
    assert run_cli("run", "mlp-torch", *TINY, "--data-dir", str(tiny_cifar), "--runs-dir",
                   str(runs), "--no-progress") == 0
    (run_dir,) = (runs / "mlp-torch").iterdir()
    record = json.loads((run_dir / "config.json").read_text())
    assert record["config"]["steps"] == 12 and record["settings"]["seed"] == 0
    assert {"torch", "numpy", "python", "practica"} <= set(record["environment"])
    rows = (run_dir / "metrics.csv").read_text().splitlines()
    assert rows[0] == "step,split,metric,value" and any(r.startswith("12,test,accuracy")
                                                        for r in rows)
    assert list(run_dir.glob("events.out.tfevents*"))
    assert (run_dir / "checkpoints" / "last.pt").is_file()
    assert {"accuracy.png", "loss.png", "confusion_matrix.png"} <= \
        {p.name for p in (run_dir / "plots").iterdir()}
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed"
    assert summary["target"]["value"] == 0.48
    assert summary["target"]["measured"] == summary["metrics"]["test/accuracy"]
    assert set(summary["per_class_accuracy"]) == set(cifar10.CLASSES)
    html = (run_dir / "report.html").read_text()
    assert "<img src='plots/accuracy.png'" in html and "mlp-torch" in html
    assert "report:" in capsys.readouterr().err
    # a finished run cannot be resumed
    assert run_cli("resume", str(run_dir)) == 2


def test_interrupted_run_resumes_to_identical_result(tiny_cifar, tmp_path, monkeypatch):
    base = ["--data-dir", str(tiny_cifar), "--no-progress", "--seed", "5", *TINY,
            "--set", "dropout=0.2"]
    assert run_cli("run", "mlp-torch", *base, "--runs-dir", str(tmp_path / "a")) == 0
    (full_dir,) = (tmp_path / "a" / "mlp-torch").iterdir()
    expected = json.loads((full_dir / "summary.json").read_text())["metrics"]

    from practica.train import loop

    real = loop.to_device
    calls = {"n": 0}

    def interrupt(batch, ctx):
        calls["n"] += 1
        if calls["n"] == 10:
            raise KeyboardInterrupt
        return real(batch, ctx)

    monkeypatch.setattr(loop, "to_device", interrupt)
    assert run_cli("run", "mlp-torch", *base, "--runs-dir", str(tmp_path / "b")) == 130
    (run_dir,) = (tmp_path / "b" / "mlp-torch").iterdir()
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "interrupted"
    monkeypatch.setattr(loop, "to_device", real)
    assert run_cli("resume", str(run_dir), "--no-progress") == 0
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["resumed"]
    assert summary["metrics"] == expected


def test_report_escapes_text(tmp_path):
    from practica.records import Run
    from practica.report.html import write_run_report

    run = Run.create(tmp_path, "x", {"experiment": "<script>alert(1)</script>",
                                     "config": {"note": "<b>&"}}, tensorboard=False)
    run.write_summary({"status": "completed", "metrics": {"<i>m": 1.0}})
    html = write_run_report(run.path).read_text()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "<b>&" not in html and "&lt;i&gt;m" in html


def test_data_commands(tiny_cifar, tmp_path, capsys):
    assert run_cli("data", "status", "--data-dir", str(tiny_cifar)) == 0
    out = capsys.readouterr().out
    assert "cifar10" in out and "found: " in out and "mnist" in out and "missing" in out
    # the fixture reads correctly but is not the official data: MODIFIED, exit 1 …
    assert run_cli("data", "verify", "cifar10", "--data-dir", str(tiny_cifar)) == 1
    out = capsys.readouterr().out
    assert "cifar10: MODIFIED" in out and "structure ok" in out and "--allow-modified" in out
    # … unless the user accepts it
    assert run_cli("data", "verify", "cifar10", "--data-dir", str(tiny_cifar),
                   "--allow-modified") == 0
    assert "cifar10: valid (modified copy accepted)" in capsys.readouterr().out
    assert run_cli("data", "verify", "mnist", "--data-dir", str(tiny_cifar)) == 1
    assert "mnist: missing" in capsys.readouterr().out
    assert run_cli("data", "fetch", "cifar10", "--data-dir", str(tiny_cifar)) == 0
    assert "already present" in capsys.readouterr().out


def test_data_fetch_without_network_says_what_to_do(tmp_path, capsys, monkeypatch):
    import dataclasses

    from practica.data import DATASETS
    from practica.data.store import Download

    info = DATASETS["mnist"]
    unreachable = tuple(Download((tmp_path / "offline" / d.filename).as_uri(), d.filename,
                                 md5=d.md5) for d in info.downloads)
    monkeypatch.setitem(DATASETS, "mnist", dataclasses.replace(info, downloads=unreachable))
    assert run_cli("data", "fetch", "mnist", "--no-progress") == 2
    err = capsys.readouterr().err
    assert "could not download" in err and "--data-dir" in err
