"""What each speed lever of `practica reproduce --budget full` buys on this machine, and the
planned total before and after (issue 22).

    PRACTICA_DATA=../shared/data python benchmarks/reproduce_levers.py [--rounds 3]

Measured side by side in one run, one thread each, alternating rounds so that load on the
machine hits both ways alike:

1. tweet-sentiment: random batches (before) against batches of tweets of similar length
   (``batching=bucketed``, the default now): training steps per second;
2. convnet-vgg: float32 (before) against bf16 autocast + channels_last (the default now):
   training images per second at the handout's batch of 32.

Then the plan of the handouts' experiments (`reproduce --plan --handouts-only`) twice: with
the reference run each experiment had before its lever (the float32 VGG, the random-batch
tweets), and with the runs at today's defaults; where no run at today's defaults exists
yet, the before-time divided by the measured ratio stands in, marked as estimated.
``reproduce --jobs 2`` is measured by ``benchmarks/parallel_jobs.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import convnet_training  # noqa: E402
import tweet_batching  # noqa: E402

from practica.book.records import RunIndex  # noqa: E402
from practica.book.reference import default_reference  # noqa: E402
from practica.experiments.registry import REGISTRY  # noqa: E402
from practica.reproduce import _duration, expected_seconds, schedule  # noqa: E402
from practica.train import BucketedBatches, EpochBatches  # noqa: E402


def measure(rounds: int, tweet_steps: int, vgg_steps: int) -> dict[str, float]:
    """Each lever's median speed-up, after over before."""
    torch.set_num_threads(1)
    codes, source = tweet_batching.tweet_codes()
    labels = torch.randint(0, 2, (len(codes),))
    lengths = torch.tensor([len(c) for c in codes])
    samplers = {"random": EpochBatches(len(codes), 32, seed=0),
                "bucketed": BucketedBatches(lengths, 32, seed=0)}
    speed: dict[str, list[float]] = {"random": [], "bucketed": [], "fp32": [], "bf16": []}
    for r in range(rounds):
        for way, sampler in samplers.items():
            speed[way].append(tweet_batching.steps_per_second(
                codes, labels, sampler, r * tweet_steps, tweet_steps))
        speed["fp32"].append(convnet_training.project("vgg", 32, vgg_steps, 2, "none", False))
        speed["bf16"].append(convnet_training.project("vgg", 32, vgg_steps, 2, "bf16", True))
    med = {k: statistics.median(v) for k, v in speed.items()}
    print(f"measured: {rounds} rounds, one thread, medians (tweets: {source})")
    print(f"  tweet-sentiment  random {med['random']:6.1f} steps/s  bucketed "
          f"{med['bucketed']:6.1f} steps/s   × {med['bucketed'] / med['random']:.2f}")
    print(f"  convnet-vgg      fp32 {med['fp32']:6.1f} img/s  bf16 + channels_last "
          f"{med['bf16']:6.1f} img/s   × {med['bf16'] / med['fp32']:.2f}")
    return {"tweet-sentiment": med["bucketed"] / med["random"],
            "convnet-vgg": med["bf16"] / med["fp32"]}


def before_and_after(ratios: dict[str, float]) -> None:
    names = [n for n, e in REGISTRY.items() if not e.beyond]
    after = expected_seconds(names, "full")
    index = RunIndex(default_reference(), "reference")
    before_runs = {"convnet-vgg": index.best("convnet-vgg", {"amp": "none"}),
                   "tweet-sentiment": next((r for r in index.seeds("tweet-sentiment")
                                            if r.config.get("config", {}).get(
                                                "batching", "random") == "random"), None)}
    before = dict(after)
    print("\nthe levers' experiments (reference wall times):")
    for name, run in before_runs.items():
        old = run.wall_time_s if run is not None else None
        before[name] = old
        if after[name] is None and old is not None:
            after[name] = old / ratios[name]
            note = "estimated: no run at today's defaults yet"
        else:
            note = "measured"
        print(f"  {name:<16} before {_duration(old) if old else '—':>10}   after "
              f"{_duration(after[name]) if after[name] else '—':>10}   ({note})")
    for label, plan in (("before", before), ("after", after)):
        known = {n: v for n, v in plan.items() if v is not None}
        print(f"plan {label:<6}  one after another {_duration(sum(known.values())):>8}   "
              f"--jobs 2 {_duration(schedule(known, 2)[1]):>8}   "
              f"({len(plan) - len(known)} of {len(plan)} without a reference time)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tweet-steps", type=int, default=200)
    parser.add_argument("--vgg-steps", type=int, default=10)
    args = parser.parse_args()
    before_and_after(measure(args.rounds, args.tweet_steps, args.vgg_steps))


if __name__ == "__main__":
    main()
