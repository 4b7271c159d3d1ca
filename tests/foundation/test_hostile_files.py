"""Hostile files given to the CLI: nothing is written outside practica's folders, and the
user sees one line (exit 2), never a traceback."""

from __future__ import annotations

import lzma
import os
from pathlib import Path

import pytest

from practica import cli

from .formats import chained_symlink_tar


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def assert_one_line_exit_2(code: int, capsys) -> str:
    """Exit 2, no traceback, and the error on one line (after the run's announcement)."""
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2, lines
    assert not any("Traceback" in line for line in lines), lines
    errors = [line for line in lines if not line.startswith("run directory:")]
    assert len(errors) == 1 and errors[0].startswith("practica: error: "), lines
    return errors[0]


@pytest.fixture
def hostile_cifar(tmp_path) -> Path:
    """A data folder whose CIFAR-10 archive is the chained-symlink escape, xz-compressed."""
    data = tmp_path / "data"
    data.mkdir()
    raw = chained_symlink_tar(tmp_path / "evil.tar").read_bytes()
    (data / "cifar-10-batches-py.tar.xz").write_bytes(lzma.compress(raw))
    (tmp_path / "victim").write_text("original\n")
    return data


@pytest.mark.parametrize("command", [["run", "mlp-torch", "--no-progress"],
                                     ["data", "verify", "cifar10"]])
def test_hostile_cifar_archive_writes_nothing_outside(hostile_cifar, tmp_path, capsys,
                                                      command):
    before = files_under(tmp_path)
    code = cli.main([*command, "--data-dir", str(hostile_cifar),
                     *(["--runs-dir", str(tmp_path / "runs")] if command[0] == "run" else [])])
    if command[0] == "run":
        err = assert_one_line_exit_2(code, capsys)
    else:
        out = capsys.readouterr()
        assert code != 0 and "Traceback" not in out.err
        err = out.out + out.err
    assert "symbolic link" in err
    new = files_under(tmp_path) - before
    allowed = {tmp_path / "runs"}  # the runs folder may stay; no run directory in it
    assert all(p.is_relative_to(tmp_path / "cache") or p in allowed for p in new), new
    assert not (tmp_path / "pwned").exists()
    assert (tmp_path / "victim").read_text() == "original\n"
    extracted = tmp_path / "cache" / "extracted"
    assert not extracted.exists() or not any(extracted.rglob(".complete"))
    assert not any(p.is_symlink() for p in (tmp_path / "cache").rglob("*"))


# --- a hostile run directory ------------------------------------------------------------

TINY = ["--set", "steps=12", "--set", "eval_every=4", "--set", "batch_size=10"]


@pytest.fixture
def interrupted_run(tmp_path, monkeypatch, capsys) -> Path:
    """A tiny mlp-torch run on fixture CIFAR-10, stopped by Ctrl-C after a checkpoint."""
    from practica.data import cifar10
    from practica.train import loop

    from .formats import write_cifar_folder

    monkeypatch.setattr(cifar10, "SIZES", (100, 30))
    data = write_cifar_folder(tmp_path / "data").parent
    real, calls = loop.to_device, {"n": 0}

    def interrupt(batch, ctx):
        calls["n"] += 1
        if calls["n"] == 10:
            raise KeyboardInterrupt
        return real(batch, ctx)

    monkeypatch.setattr(loop, "to_device", interrupt)
    code = cli.main(["run", "mlp-torch", "--data-dir", str(data), "--no-progress", *TINY,
                     "--runs-dir", str(tmp_path / "runs")])
    assert code == 130
    monkeypatch.setattr(loop, "to_device", real)
    (run_dir,) = (tmp_path / "runs" / "mlp-torch").iterdir()
    assert capsys.readouterr().err.strip().endswith(f"`practica resume {run_dir}`")
    return run_dir


@pytest.mark.parametrize("planted", ["checkpoints/.last.pt.tmp", ".summary.json.tmp",
                                     "report.html", "plots/loss.png", "metrics.csv"])
def test_resume_refuses_links_leading_outside(interrupted_run, tmp_path, capsys, planted):
    victim = tmp_path / "victim.txt"
    victim.write_text("original\n")
    link = interrupted_run / planted
    link.unlink(missing_ok=True)
    link.symlink_to(victim)
    capsys.readouterr()
    err = assert_one_line_exit_2(cli.main(["resume", str(interrupted_run), "--no-progress"]),
                                 capsys)
    assert "symbolic link" in err and planted.split("/")[-1] in err
    assert victim.read_text() == "original\n"


def test_resume_refuses_a_hard_linked_metrics_file(interrupted_run, tmp_path, capsys):
    metrics = interrupted_run / "metrics.csv"
    os.link(metrics, tmp_path / "elsewhere.csv")
    before = (tmp_path / "elsewhere.csv").read_text()
    capsys.readouterr()
    err = assert_one_line_exit_2(cli.main(["resume", str(interrupted_run), "--no-progress"]),
                                 capsys)
    assert "hard-linked" in err
    assert (tmp_path / "elsewhere.csv").read_text() == before


def test_resume_writes_no_fixed_temporary_names(interrupted_run, tmp_path, capsys):
    """The old fixed temporary names are just files now: resume neither follows nor needs
    them, and leaves no temporary file behind."""
    (interrupted_run / "checkpoints" / ".last.pt.tmp").write_text("planted")
    assert cli.main(["resume", str(interrupted_run), "--no-progress"]) == 0
    assert (interrupted_run / "checkpoints" / ".last.pt.tmp").read_text() == "planted"
    leftovers = [p for p in interrupted_run.rglob("*.tmp") if p.name != ".last.pt.tmp"]
    assert leftovers == []
