"""Wall time of `practica reproduce` one experiment after another (--jobs 1, all cores to
each run) against side by side (--jobs 2, one thread each), measured in one run.

    PRACTICA_DATA=../shared/data python benchmarks/parallel_jobs.py [--budget smoke]
        [--only NAME ...]

Prints each way's wall time and the ratio; the metrics of the two ways are compared too
(they must be equal where an experiment fixes its own thread count, e.g. the recurrent
ones, and within float rounding elsewhere).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT = ["palindrome-rnn", "palindrome-lstm", "mlp-numpy", "mlp-torch", "minchar-rnn",
           "captioning-overfit", "mnist-softmax-numpy", "rnn-gradients"]


def timed(jobs: int, budget: str, names: list[str], root: Path) -> float:
    argv = [sys.executable, "-m", "practica", "reproduce", "--budget", budget, "--no-progress",
            "--jobs", str(jobs), "--runs-dir", str(root), "--only", *names]
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def metrics(root: Path, name: str) -> dict:
    return json.loads(next((root / name).glob("*/summary.json")).read_text())["metrics"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budget", default="smoke", choices=("smoke", "full"))
    p.add_argument("--only", nargs="+", default=DEFAULT)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        serial = timed(1, args.budget, args.only, Path(tmp) / "serial")
        parallel = timed(2, args.budget, args.only, Path(tmp) / "parallel")
        same = [n for n in args.only
                if metrics(Path(tmp) / "serial", n) == metrics(Path(tmp) / "parallel", n)]
    print(f"{len(args.only)} experiments, {args.budget} budget")
    print(f"--jobs 1 (one after another): {serial:8.1f} s")
    print(f"--jobs 2 (side by side):      {parallel:8.1f} s   ratio {serial / parallel:.2f}×")
    print(f"identical metrics: {len(same)} of {len(args.only)} ({', '.join(same)})")


if __name__ == "__main__":
    main()
