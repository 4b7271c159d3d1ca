"""Where a `cifar-speedrun` training step spends its time on this machine.

Run: ``python benchmarks/speedrun_profile.py [--steps 10] [--batch 1024] [--amp bf16|none]``

Builds the experiment's own pieces (``SpeedrunNet``, ``training_batches``,
``speedrun_loss``, ``speedrun_optimizer``, Lookahead) on random CIFAR-sized uint8 images
(throughput does not depend on content) and prints, measured in one process:

1. wall-clock time per step split into phases: batch (index, normalise, flip, to
   channels_last), forward + loss (translation included), backward, update (SGD step,
   schedule, Lookahead), and the share of the step outside forward and backward;
2. the step's arithmetic rate (GFLOP/s) next to that of a large matrix product, the CPU's
   best dense kernel;
3. every convolution's forward and backward time, by layer, from ``torch.profiler``;
4. the operators with the most self time.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from practica.experiments.speedrun import (  # noqa: E402
    SpeedrunConfig,
    speedrun_loss,
    speedrun_optimizer,
    training_batches,
)
from practica.models.speedrun import SpeedrunNet  # noqa: E402
from practica.train.averaging import Lookahead  # noqa: E402


def conv_layers(net: SpeedrunNet, height: int = 32) -> tuple[dict[tuple, str], int]:
    """(input channels, input height, output channels) → a layer name, for every conv; and
    the forward multiply-adds per image of all convolutions and the linear head."""
    names: dict[tuple, str] = {}
    macs = net.head.in_features * net.head.out_features

    def hook(name):
        def record(module, inputs, output):
            nonlocal macs
            key = (inputs[0].shape[1], inputs[0].shape[2], output.shape[1])
            names[key] = f"{names[key]} = {name}" if key in names else name
            macs += output[0].numel() * module.weight[0].numel()
        return record

    handles = [m.register_forward_hook(hook(n)) for n, m in net.named_modules()
               if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        net(torch.zeros(2, 3, height, height))
    for h in handles:
        h.remove()
    return names, macs


def matmul_gflops(dtype: torch.dtype, n: int = 4096, repeats: int = 5) -> float:
    """GFLOP/s of an n×n matrix product: the CPU's best dense kernel, for reference."""
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n ** 3 * repeats / (time.perf_counter() - start) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="timed steps (after 3 warm-up)")
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--amp", choices=("bf16", "none"), default="bf16")
    parser.add_argument("--widths", default="64,256,256")
    args = parser.parse_args()

    torch.manual_seed(0)
    cfg = SpeedrunConfig(batch_size=args.batch, widths=[int(w) for w in args.widths.split(",")])
    n = max(4 * args.batch, 4096)
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g)
    labels = torch.randint(0, 10, (n,), generator=g)
    mean = images.float().mean(dim=(0, 2, 3), keepdim=True)
    std = images.float().std(dim=(0, 2, 3), keepdim=True)
    sampler, batch_at = training_batches(cfg, images, labels, mean, std, seed=0)
    loss_fn = speedrun_loss(cfg)
    net = SpeedrunNet(cfg.widths)
    net.init_whitening((images[:1000].float() - mean) / std)
    layers, macs = conv_layers(net)
    net = net.to(memory_format=torch.channels_last)
    model = Lookahead(net)
    total = 1000
    optimizer, scheduler = speedrun_optimizer(net, cfg, total, sampler.per_epoch)
    after_step = model.after_step(total)
    use_amp = args.amp == "bf16"
    phases: dict[str, float] = defaultdict(float)

    def step(s: int, timed: bool) -> None:
        t = [time.perf_counter()]
        x, y = batch_at(s)
        x = x.contiguous(memory_format=torch.channels_last)
        t.append(time.perf_counter())
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=use_amp):
            loss, _ = loss_fn(model, (x, y))
        t.append(time.perf_counter())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        t.append(time.perf_counter())
        optimizer.step()
        scheduler.step()
        after_step(s + 1)
        t.append(time.perf_counter())
        if timed:
            for name, a, b in zip(("batch", "forward + loss", "backward", "update"),
                                  t[:-1], t[1:], strict=True):
                phases[name] += b - a

    model.train()
    for s in range(3):
        step(s, timed=False)
    start = time.perf_counter()
    for s in range(3, 3 + args.steps):
        step(s, timed=True)
    seconds = time.perf_counter() - start
    per_step = seconds / args.steps
    print(f"cifar-speedrun step, batch {args.batch}, widths {cfg.widths}, amp {args.amp}, "
          f"channels_last, {torch.get_num_threads()} threads")
    print(f"{args.batch / per_step:.0f} training images/s ({per_step * 1000:.0f} ms/step; "
          f"50,000 images: {50000 / args.batch * per_step:.0f} s per epoch)\n")
    print(f"{'phase':<16}{'ms/step':>9}{'share':>8}")
    for name, value in phases.items():
        print(f"{name:<16}{value / args.steps * 1000:>9.1f}{value / seconds:>8.1%}")
    outside = (phases["batch"] + phases["update"]) / seconds
    print(f"outside forward and backward: {outside:.1%}\n")
    step_gflops = 3 * 2 * macs * args.batch / per_step / 1e9  # backward ≈ 2× forward
    reference = matmul_gflops(torch.bfloat16 if use_amp else torch.float32)
    print(f"arithmetic: {3 * 2 * macs / 1e9:.2f} GFLOP per training image (3× the forward's "
          f"{macs / 1e6:.0f} M multiply-adds) → {step_gflops:.0f} GFLOP/s; a 4096² {args.amp} "
          f"matrix product runs at {reference:.0f} GFLOP/s here ({step_gflops / reference:.0%})\n")

    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for s in range(3 + args.steps, 3 + 2 * args.steps):
            step(s, timed=False)
    events = prof.key_averages(group_by_input_shape=True)
    profiled = sum(e.self_cpu_time_total for e in events)
    conv = defaultdict(lambda: [0.0, 0.0])
    for e in events:
        shapes = e.input_shapes
        if e.key == "aten::convolution" and len(shapes) > 1 and len(shapes[0]) == 4:
            x, w = shapes[0], shapes[1]
            conv[(x[1], x[2], w[0])][0] += e.cpu_time_total
        elif e.key == "aten::convolution_backward" and len(shapes) > 2 and len(shapes[1]) == 4:
            x, w = shapes[1], shapes[2]
            conv[(x[1], x[2], w[0])][1] += e.cpu_time_total
    print(f"{'convolution (in→out @ input size)':<38}{'fwd ms':>8}{'bwd ms':>8}{'share':>8}  layer")
    conv_total = 0.0
    for key, (fwd, bwd) in sorted(conv.items(), key=lambda kv: -sum(kv[1])):
        c_in, h, c_out = key
        conv_total += fwd + bwd
        print(f"{f'{c_in}→{c_out} @ {h}×{h}':<38}{fwd / args.steps / 1000:>8.1f}"
              f"{bwd / args.steps / 1000:>8.1f}{(fwd + bwd) / profiled:>8.1%}  "
              f"{layers.get(key, '?')}")
    print(f"all convolutions: {conv_total / profiled:.1%} of the profiled CPU time\n")
    print(f"{'operator (self time)':<44}{'ms/step':>9}{'share':>8}")
    by_name: dict[str, float] = defaultdict(float)
    for e in events:
        by_name[e.key] += e.self_cpu_time_total
    for name, value in sorted(by_name.items(), key=lambda kv: -kv[1])[:15]:
        print(f"{name:<44}{value / args.steps / 1000:>9.1f}{value / profiled:>8.1%}")


if __name__ == "__main__":
    main()
