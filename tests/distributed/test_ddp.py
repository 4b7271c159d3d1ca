"""Data-parallel training with torchrun: two gloo processes on the CPU take the same steps as
one process with the same global batch, and a crashed distributed run resumes exactly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from foundation.formats import write_cifar_folder

from practica.train.distributed import World, shard

ARGS = ["run", "mlp-torch", "--no-progress", "--seed", "3", "--set", "steps=6",
        "--set", "eval_every=3", "--set", "batch_size=8", "--set", "hidden=[16]",
        "--set", "lr=0.01"]
LAUNCH = str(Path(__file__).with_name("launch.py"))
ONE = [sys.executable, LAUNCH]
TWO = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
       LAUNCH]


@pytest.fixture
def env(tmp_path):
    write_cifar_folder(tmp_path / "data")
    return {**os.environ, "PRACTICA_DATA": str(tmp_path / "data"), "OMP_NUM_THREADS": "1",
            }


def _run(cmd: list[str], env: dict, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, done.stderr[-3000:]
    return done


def _only_run(root: Path) -> Path:
    (run_dir,) = (root / "mlp-torch").iterdir()
    return run_dir


def _weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)["model"]


def test_two_processes_equal_one_process_with_the_same_global_batch(env, tmp_path):
    _run([*ONE, *ARGS, "--runs-dir", str(tmp_path / "one")], env)
    _run([*TWO, *ARGS, "--runs-dir", str(tmp_path / "two")], env)
    one, two = _only_run(tmp_path / "one"), _only_run(tmp_path / "two")
    w1, w2 = _weights(one), _weights(two)
    assert w1.keys() == w2.keys()
    start = torch.load(one / "checkpoints" / "last.pt", weights_only=True)
    assert start["step"] == 6
    for name in w1:
        torch.testing.assert_close(w2[name], w1[name], rtol=1e-5, atol=1e-6, msg=name)
    # the weights moved: the comparison is not between two untrained models
    assert any(float(v.abs().max()) > 1e-3 for k, v in w1.items() if k.endswith("weight"))
    # rank 0 wrote the records; rank 1 only its checkpoint
    assert json.loads((two / "config.json").read_text())["world_size"] == 2
    assert json.loads((two / "summary.json").read_text())["status"] == "completed"
    assert (two / "report.html").is_file()
    rank1 = two / "ranks" / "1"
    assert (rank1 / "checkpoints" / "last.pt").is_file()
    assert not (rank1 / "summary.json").exists() and not (rank1 / "report.html").exists()


def test_crashed_distributed_run_resumes_to_the_uninterrupted_result(env, tmp_path):
    _run([*TWO, *ARGS, "--runs-dir", str(tmp_path / "full")], env)
    crashed = _run([*TWO, *ARGS, "--runs-dir", str(tmp_path / "cut")],
                   {**env, "CRASH_AT_STEP": "3"}, check=False)
    assert crashed.returncode != 0
    cut = _only_run(tmp_path / "cut")
    assert torch.load(cut / "checkpoints" / "last.pt", weights_only=True)["step"] == 3
    assert not (cut / "summary.json").exists()
    _run([*TWO, "resume", str(cut), "--no-progress"], env)
    full = _only_run(tmp_path / "full")
    for name, value in _weights(full).items():
        torch.testing.assert_close(_weights(cut)[name], value, rtol=0, atol=0, msg=name)
    expected = json.loads((full / "summary.json").read_text())["metrics"]
    summary = json.loads((cut / "summary.json").read_text())
    assert summary["resumed"] and summary["metrics"] == expected


def test_resume_refuses_a_different_number_of_processes(env, tmp_path):
    _run([*TWO, *ARGS, "--runs-dir", str(tmp_path / "runs")], env)
    run_dir = _only_run(tmp_path / "runs")
    (run_dir / "summary.json").unlink()  # pretend it was interrupted
    done = _run([*ONE, "resume", str(run_dir)], env, check=False)
    assert done.returncode == 2
    assert "trained by 2 process(es)" in done.stderr


def test_shard_gives_each_rank_its_contiguous_slice():
    x, y = torch.arange(12).reshape(6, 2), torch.arange(6)
    parts = [shard((x, y), World(rank=r, size=3)) for r in range(3)]
    assert torch.equal(torch.cat([p[0] for p in parts]), x)
    assert torch.equal(parts[1][1], torch.tensor([2, 3]))
    assert shard((x, y), World()) == (x, y)


def test_shard_refuses_a_batch_that_does_not_split_evenly():
    from practica.errors import PracticaError

    with pytest.raises(PracticaError, match="divisible by 4"):
        shard(torch.zeros(6, 2), World(rank=0, size=4))
