"""The CIFAR-10 speedrun over several seeds, and the time-to-accuracy ratio against the
handout's VGG-style ConvNet.

Run (from the repository root, with the real data)::

    PRACTICA_DATA=../shared/data python benchmarks/speedrun.py --seeds 5 [--vgg]

Each run is a separate ``practica run cifar-speedrun --seed S`` process, as a user would
start it. Printed: test accuracy with and without TTA, wall time (data loading included),
training time and images/s per seed, then mean/min/max. With ``--vgg`` it also runs
``convnet-vgg`` (handout settings, bf16 + channels_last) and compares the seconds each needs
to first reach 0.75 test accuracy (time since training began, at the evaluation points; the
speedrun's mid-run accuracy at its peak learning rate is noisy, so this understates it) and
each one's final accuracy and wall time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def run(name: str, runs: Path, *args: str) -> Path:
    cmd = [sys.executable, "-m", "practica", "run", name, "--no-progress", "--runs-dir",
           str(runs), *args]
    subprocess.run(cmd, check=True)
    return sorted((runs / name).iterdir())[-1]


def seconds_to(run_dir: Path, accuracy: float) -> float | None:
    """Training seconds at the first evaluation whose test accuracy reaches ``accuracy``."""
    seconds, reached = {}, []
    for line in (run_dir / "metrics.csv").read_text().splitlines()[1:]:
        step, split, metric, value = line.split(",")
        if (split, metric) == ("train", "seconds"):
            seconds[int(step)] = float(value)
        elif (split, metric) == ("test", "accuracy") and float(value) >= accuracy:
            reached.append(int(step))
    hits = [seconds[s] for s in sorted(reached) if s in seconds]
    return hits[0] if hits else None


def describe(label: str, values: list[float], fmt: str = "{:.4f}") -> str:
    return (f"{label:<22} mean {fmt.format(statistics.mean(values))}  "
            f"min {fmt.format(min(values))}  max {fmt.format(max(values))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--vgg", action="store_true", help="also time convnet-vgg to 0.75")
    parser.add_argument("--runs-dir", help="keep the runs here (default: a temporary folder)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="config override for the speedrun (repeatable)")
    args = parser.parse_args()
    runs = Path(args.runs_dir or tempfile.mkdtemp(prefix="speedrun-"))
    overrides = [a for kv in args.set for a in ("--set", kv)]
    rows = []
    for seed in range(args.seeds):
        d = run("cifar-speedrun", runs, "--seed", str(seed), *overrides)
        s = json.loads((d / "summary.json").read_text())
        rows.append({"seed": seed, "tta": s["metrics"]["test/accuracy_tta"],
                     "plain": s["metrics"]["test/accuracy"], "wall": s["wall_time_s"],
                     "train": s["train_time_s"], "ips": s["train_images_per_second"],
                     "to75": seconds_to(d, 0.75)})
        r = rows[-1]
        print(f"seed {seed}: accuracy {r['tta']:.4f} with TTA, {r['plain']:.4f} without; "
              f"wall {r['wall']:.1f} s (training {r['train']:.1f} s, {r['ips']:.0f} img/s)",
              flush=True)
    print(f"\ncifar-speedrun over {len(rows)} seeds ({runs})")
    print(describe("accuracy (TTA)", [r["tta"] for r in rows]))
    print(describe("accuracy (no TTA)", [r["plain"] for r in rows]))
    print(describe("wall time (s)", [r["wall"] for r in rows], "{:.1f}"))
    print(describe("training images/s", [r["ips"] for r in rows], "{:.0f}"))
    print(f"runs at or above 0.94 (TTA): {sum(r['tta'] >= 0.94 for r in rows)}/{len(rows)}; "
          f"within 600 s: {sum(r['wall'] <= 600 for r in rows)}/{len(rows)}")
    if args.vgg:
        d = run("convnet-vgg", runs, "--amp", "bf16", "--channels-last",
                "--set", "log_seconds=true")
        vgg = seconds_to(d, 0.75)
        v = json.loads((d / "summary.json").read_text())
        mean_tta = statistics.mean(r["tta"] for r in rows)
        mean_wall = statistics.mean(r["wall"] for r in rows)
        print(f"final test accuracy: convnet-vgg {v['metrics']['test/accuracy']:.4f} in "
              f"{v['wall_time_s']:.0f} s; cifar-speedrun {mean_tta:.4f} (mean, TTA) in "
              f"{mean_wall:.0f} s (mean)")
        fast = [r["to75"] for r in rows if r["to75"] is not None]
        if vgg is None or not fast:
            print("time to 0.75: not reached by one of the two")
        else:
            mean_fast = statistics.mean(fast)
            print(f"time to 0.75 test accuracy: convnet-vgg {vgg:.0f} s, cifar-speedrun "
                  f"{mean_fast:.0f} s (mean) → {vgg / mean_fast:.1f}× faster")


if __name__ == "__main__":
    main()
