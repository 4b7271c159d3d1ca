"""Training steps per second of the handout's tweet LSTM (Waterloo A5 §3: one-hot ASCII,
hidden 128, batch 32, Adam), one thread: random batches (the handout) against batches of
tweets of similar length (``batching=bucketed``). Measured side by side in one run, in
alternating rounds so that load on the machine hits both alike; also prints the padding
each way computes over and what the 100000 handout iterations would take.

    PRACTICA_DATA=../shared/data python benchmarks/tweet_batching.py [--steps 200] [--rounds 3]

Without the tweets it uses random lengths of 10 to 140 characters (and says so).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from practica.errors import PracticaError
from practica.experiments.tweet_sentiment import CharLSTM, pad_batch
from practica.train import BucketedBatches, EpochBatches


def tweet_codes() -> tuple[list[torch.Tensor], str]:
    """The real training tweets' character codes, else synthetic ones of tweet lengths."""
    from practica.data import tweets

    try:
        data = tweets.load(None, offline=True, progress=False)
        return [tweets.encode(t) for t in data.train.texts], "the training tweets"
    except PracticaError:
        g = torch.Generator().manual_seed(0)
        lengths = torch.randint(10, 141, (80_000,), generator=g)
        return ([torch.randint(32, 127, (int(n),), generator=g) for n in lengths],
                "synthetic tweets (no tweets found: set PRACTICA_DATA)")


def steps_per_second(codes, labels, sampler, start: int, steps: int) -> float:
    torch.manual_seed(0)
    model = CharLSTM(128)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    batches = [(*pad_batch(codes, sampler(s)), labels[sampler(s)])
               for s in range(start, start + steps)]
    started = time.perf_counter()
    for x, lengths, y in batches:
        optimizer.zero_grad()
        F.nll_loss(model(x, lengths), y).backward()
        optimizer.step()
    return steps / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    codes, source = tweet_codes()
    labels = torch.randint(0, 2, (len(codes),))
    lengths = torch.tensor([len(c) for c in codes])
    ways = {"random batches (handout)": EpochBatches(len(codes), 32, seed=0),
            "bucketed batches": BucketedBatches(lengths, 32, seed=0)}
    per_epoch = len(codes) // 32
    for name, sampler in ways.items():
        padded = sum(int(lengths[sampler(s)].max()) * 32 for s in range(per_epoch))
        print(f"{name:<28} one epoch computes over {padded / int(lengths.sum()):.2f}× "
              "the characters it holds")
    results: dict[str, list[float]] = {name: [] for name in ways}
    for r in range(args.rounds):
        for name, sampler in ways.items():
            results[name].append(steps_per_second(codes, labels, sampler, r * args.steps,
                                                  args.steps))
    base = statistics.median(results["random batches (handout)"])
    print(f"tweet LSTM on {source}: batch 32, hidden 128, one thread, {args.steps} steps × "
          f"{args.rounds} rounds (median)")
    for name, values in results.items():
        med = statistics.median(values)
        print(f"  {name:<28} {med:6.1f} steps/s   × {med / base:4.2f}   100000 steps: "
              f"{100_000 / med / 60:5.1f} min")


if __name__ == "__main__":
    main()
