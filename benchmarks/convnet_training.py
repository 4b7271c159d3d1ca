"""Training throughput of the CIFAR-10 ConvNets: a bare loop vs the project's loop.

Run: ``python benchmarks/convnet_training.py [--model vgg|preact] [--batch 128] [--steps 20]``

Measured side by side in one process, on in-memory CIFAR-sized tensors (random pixels:
throughput does not depend on content):

1. a plain fp32 loop (index batch → forward → loss → backward → Adam step), the floor;
2. the project's Trainer in fp32 (batch indexing, random crop + flip on the tensor batch,
   metrics, progress bookkeeping, checkpoint at the end);
3. the project's Trainer with bf16 autocast and channels_last.

It prints images/s for each, the ratios, and the share of the project loop's step time
spent outside the bare forward/backward/update (its overhead over 1).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from practica.context import RunContext, Settings  # noqa: E402
from practica.models.convnets import PreActConvNet, VGGConvNet  # noqa: E402
from practica.records import Run  # noqa: E402
from practica.train import EpochBatches, LoopConfig, Trainer  # noqa: E402
from practica.train.augment import crop_flip  # noqa: E402
from practica.train.classification import cross_entropy_step, evaluator  # noqa: E402

MODELS = {"vgg": VGGConvNet, "preact": PreActConvNet}


def data(n: int = 4096) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, 3, 32, 32, generator=g), torch.randint(0, 10, (n,), generator=g)


def plain(model_name: str, batch: int, steps: int, warmup: int) -> float:
    x, y = data()
    torch.manual_seed(0)
    model = MODELS[model_name]()
    opt = torch.optim.Adam(model.parameters(), 1e-4)
    sampler = EpochBatches(len(y), batch, seed=0)

    def step(s: int) -> None:
        idx = sampler(s)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for s in range(warmup):
        step(s)
    start = time.perf_counter()
    for s in range(warmup, warmup + steps):
        step(s)
    return steps * batch / (time.perf_counter() - start)


def project(model_name: str, batch: int, steps: int, warmup: int, amp: str,
            channels_last: bool) -> float:
    x, y = data()
    torch.manual_seed(0)
    model = MODELS[model_name]()
    with tempfile.TemporaryDirectory() as tmp:
        run = Run.create(Path(tmp), "bench", {"experiment": "bench"}, tensorboard=False)
        ctx = RunContext(run, Settings(progress=False, amp=amp, channels_last=channels_last))
        opt = torch.optim.Adam(model.parameters(), 1e-4)
        sampler = EpochBatches(len(y), batch, seed=0)
        times: list[float] = []

        def batch_at(s: int) -> tuple[torch.Tensor, torch.Tensor]:
            times.append(time.perf_counter())
            idx = sampler(s)
            return x[idx], y[idx]

        evaluate = evaluator({"test": (x[:8], y[:8])}, ctx)
        trainer = Trainer(ctx, model, opt, batch_at, cross_entropy_step(0.0, crop_flip(4)),
                          evaluate, LoopConfig(steps=warmup + steps,
                                               eval_every=warmup + steps))
        trainer.fit()
        end = time.perf_counter()  # includes the final evaluation and checkpoint
        run.close()
    return steps * batch / (end - times[warmup])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=tuple(MODELS), default="vgg")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    print(f"model {args.model}, batch {args.batch}, {args.steps} timed steps, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    bare = plain(args.model, args.batch, args.steps, args.warmup)
    fp32 = project(args.model, args.batch, args.steps, args.warmup, "none", False)
    fast = project(args.model, args.batch, args.steps, args.warmup, "bf16", True)
    print(f"{'plain fp32 loop':<34} {bare:8.1f} img/s")
    print(f"{'project loop fp32':<34} {fp32:8.1f} img/s  ({fp32 / bare:.2f}× plain)")
    print(f"{'project loop bf16 + channels_last':<34} {fast:8.1f} img/s  ({fast / bare:.2f}× "
          f"plain, {fast / fp32:.2f}× project fp32)")
    overhead = 1 - fp32 / bare
    print(f"share of the project loop's step time outside forward/backward/update: "
          f"{100 * max(overhead, 0):.1f}% (goal ≤ 5%)")


if __name__ == "__main__":
    main()
