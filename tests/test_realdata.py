"""Smoke tests on the real data sets (run where PRACTICA_DATA is set, as in CI)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from practica.data import DATASETS, cifar10, mnist


def test_real_cifar10(real_data):
    ds = cifar10.load(real_data, offline=True)
    assert ds.train.images.shape == (50000, 3, 32, 32)
    assert np.bincount(ds.test.labels).tolist() == [1000] * 10
    assert np.bincount(ds.train.labels).tolist() == [5000] * 10
    report = DATASETS["cifar10"].verify(cifar10.locate(real_data))
    assert report.valid
    assert sum("matches official" in line for line in report.lines) >= 6


def test_real_mnist(real_data):
    ds = mnist.load("mnist", real_data, offline=True)
    assert ds.train.images.shape == (60000, 1, 28, 28)
    assert DATASETS["mnist"].verify(mnist.locate(mnist.MNIST, real_data)).valid


def _wait_for_checkpoint(path: Path, proc: subprocess.Popen, min_step: int, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before it could be killed"
        if path.is_file():
            try:
                step = torch.load(path, weights_only=True)["step"]
            except Exception:  # being replaced right now
                step = -1
            if step >= min_step:
                return step
        time.sleep(0.2)
    raise AssertionError("no checkpoint appeared in time")


def test_kill_9_then_resume_equals_uninterrupted(real_data, tmp_path):
    """`practica run mlp-torch` killed with SIGKILL, then resumed, ends where an
    uninterrupted run with the same seed ends."""
    env = {**os.environ, "PRACTICA_DATA": str(real_data)}
    args = ["run", "mlp-torch", "--no-progress", "--seed", "7", "--set", "steps=600",
            "--set", "eval_every=100", "--set", "dropout=0.1"]
    subprocess.run([sys.executable, "-m", "practica", *args, "--runs-dir",
                    str(tmp_path / "full")], env=env, check=True, capture_output=True)
    (full,) = (tmp_path / "full" / "mlp-torch").iterdir()
    expected = json.loads((full / "summary.json").read_text())["metrics"]

    proc = subprocess.Popen([sys.executable, "-m", "practica", *args, "--runs-dir",
                             str(tmp_path / "killed")], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "killed" / "mlp-torch").is_dir() or not any(
                (tmp_path / "killed" / "mlp-torch").iterdir()):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        (run_dir,) = (tmp_path / "killed" / "mlp-torch").iterdir()
        step = _wait_for_checkpoint(run_dir / "checkpoints" / "last.pt", proc, 100, 120)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert step < 600 and not (run_dir / "summary.json").exists()
    done = subprocess.run([sys.executable, "-m", "practica", "resume", str(run_dir),
                           "--no-progress"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["resumed"]
    assert summary["metrics"] == expected


def test_mlp_torch_smoke(real_data, tmp_path):
    from practica import cli

    code = cli.main(["run", "mlp-torch", "--smoke", "--no-progress", "--data-dir",
                     str(real_data), "--runs-dir", str(tmp_path)])
    assert code == 0
    (run_dir,) = (tmp_path / "mlp-torch").iterdir()
    summary = json.loads((run_dir / "summary.json").read_text())
    # 100 SGD steps already lift the MLP well above chance (0.10) on the real test set
    assert summary["metrics"]["test/accuracy"] > 0.25
