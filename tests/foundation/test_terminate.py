"""SIGTERM (a session ending, `kill`, a scheduler) ends a run like Ctrl-C: the summary says
interrupted, keeps the wall time so far, and `practica resume` adds to it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

TINY = ["--set", "hidden=8", "--set", "batch_size=16", "--set", "val_size=100",
        "--set", "test_size=200", "--set", "eval_every=20"]


def _start(root: Path, steps: int) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "practica", "run", "palindrome-rnn",
                             "--no-progress", "--runs-dir", str(root), "--set",
                             f"steps={steps}", *TINY], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_sigterm_writes_an_interrupted_summary_with_the_wall_time(tmp_path):
    proc = _start(tmp_path, 10_000_000)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob("palindrome-rnn/*/checkpoints/last.pt")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143
    run_dir = next(tmp_path.glob("palindrome-rnn/*"))
    assert f"terminated; continue with `practica resume {run_dir}`" in err
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "interrupted" and "SIGTERM" in summary["error"]
    assert summary["wall_time_s"] > 1.0
