"""Training steps per second of the from-scratch palindrome LSTM (CVbL §3.3, batch 128,
hidden 128, RMSProp), one thread: the handout's loop over `LSTM.step` (eight gate products
per step) against the fused forward (one stacked product per step), and against
`torch.compile` of each where it works here. Measured side by side in one run, in
alternating rounds so that load on the machine hits both alike.

    python benchmarks/recurrent_steps.py [--length 20] [--steps 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from practica.data.palindromes import PalindromeDataset
from practica.models import LSTM


def steps_per_second(model: torch.nn.Module, forward, data: PalindromeDataset, steps: int
                     ) -> float:
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
    batches = [data.batch(s, 128) for s in range(steps)]
    started = time.perf_counter()
    for x, y in batches:
        optimizer.zero_grad()
        F.cross_entropy(forward(x), y).backward()
        optimizer.step()
    return steps / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=20)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-compile", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = PalindromeDataset(args.length, seed=0)
    ways = {}
    for name, fused in (("loop over step (handout)", False), ("fused gates", True)):
        model = LSTM(args.length - 1, 1, 128, 10)
        model.fused = fused
        ways[name] = (model, model)
        if not args.no_compile:
            try:
                compiled = torch.compile(model)
                steps_per_second(model, compiled, data, 3)  # compile outside the timing
                ways[name + ", torch.compile"] = (model, compiled)
            except Exception as exc:  # noqa: BLE001 - no compiler here: say so, go on
                print(f"torch.compile unavailable for {name}: {type(exc).__name__}: {exc}"
                      .splitlines()[0])
    results: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.rounds):
        for name, (model, forward) in ways.items():
            results[name].append(steps_per_second(model, forward, data, args.steps))
    base = statistics.median(results["loop over step (handout)"])
    print(f"palindrome LSTM, T = {args.length}, batch 128, hidden 128, 1 thread, "
          f"{args.steps} steps × {args.rounds} rounds (median)")
    for name, values in results.items():
        med = statistics.median(values)
        print(f"  {name:<40} {med:7.1f} steps/s   × {med / base:4.2f}")


if __name__ == "__main__":
    main()
