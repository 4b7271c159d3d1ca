"""NumPy engine vs PyTorch (CPU), side by side in one process.

Run: ``python benchmarks/numpy_vs_torch.py [--repeats 30] [--threads N] [--clock wall|cpu]
[--no-float64]``

1. MLP train step (3072 → 100 → 10, ELU, softmax cross entropy, SGD), batch 200:
   forward + loss + backward + parameter update.
2. Conv2d forward + backward (batch 64, 3 → 32 channels, 32×32, 3×3, padding 1),
   gradients for the input, weight and bias.

Each measurement is the median of ``--repeats`` timed runs after warm-up, NumPy and torch
timed alternately. The BLAS
threading is printed (threadpoolctl if installed, else numpy.show_config), and the same
benchmarks are repeated in float64 to show the dtype effect.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from practica.numpy_nn import MLP, SGD, Conv2d, SoftmaxCrossEntropy  # noqa: E402


def compare_ms(
    fn_a: Callable[[], object],
    fn_b: Callable[[], object],
    repeats: int,
    clock: Callable[[], float] = time.perf_counter,
    warmup: int = 5,
) -> tuple[float, float]:
    """Median times (ms) of ``fn_a()`` and ``fn_b()``, timed alternately so that
    fluctuating load from other processes affects both sides alike."""
    for _ in range(warmup):
        fn_a()
        fn_b()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for fn, out in ((fn_a, times[0]), (fn_b, times[1])):
            t0 = clock()
            fn()
            out.append(clock() - t0)
    return 1e3 * statistics.median(times[0]), 1e3 * statistics.median(times[1])


def _openblas_fn(kind: str) -> Callable[..., int] | None:
    """``get``/``set`` num-threads function of the OpenBLAS numpy loaded (Linux only)."""
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({ln.split()[-1] for ln in f if "openblas" in ln.lower()})
    except OSError:
        return None
    for path in paths:
        lib = ctypes.CDLL(path)
        for prefix in ("scipy_openblas_", "openblas_"):
            for suffix in ("64_", ""):
                fn = getattr(lib, f"{prefix}{kind}_num_threads{suffix}", None)
                if fn is not None:
                    return fn
    return None


def openblas_threads() -> int | None:
    """Thread count of numpy's OpenBLAS, queried through its C API."""
    fn = _openblas_fn("get")
    return None if fn is None else int(fn())


def set_threads(n: int) -> None:
    """Use ``n`` threads in numpy's OpenBLAS and in torch."""
    torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:
        fn = _openblas_fn("set")
        if fn is not None:
            fn(ctypes.c_int(n))


def blas_info() -> str:
    """Describe the BLAS libraries and their thread counts."""
    lines = []
    try:
        from threadpoolctl import threadpool_info

        for info in threadpool_info():
            lines.append(
                f"  {info.get('internal_api')} {info.get('version')} "
                f"threads={info.get('num_threads')} ({info.get('filepath')})"
            )
    except ImportError:
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        lines.append(
            f"  threadpoolctl not installed; numpy BLAS (numpy.show_config): {blas.get('name')} "
            f"{blas.get('version')} ({blas.get('openblas configuration', '').strip()})"
        )
        threads = openblas_threads()
        if threads is not None:
            lines.append(f"  OpenBLAS threads (queried via ctypes): {threads}")
    env = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                       "MKL_NUM_THREADS") if k in os.environ}
    lines.append(f"  thread env vars: {env or 'none set'}")
    lines.append(f"  torch intra-op threads: {torch.get_num_threads()}, os.cpu_count(): "
                 f"{os.cpu_count()}, sched_getaffinity: {len(os.sched_getaffinity(0))}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- MLP


def mlp_numpy(dtype: np.dtype, batch: int = 200) -> Callable[[], float]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 3072)).astype(dtype)
    y = rng.integers(0, 10, size=batch)
    model = MLP(3072, [100], 10, activation="elu", init="kaiming", seed=0, dtype=dtype)
    model.requires_input_grad = False  # like torch: the data needs no gradient
    loss_fn = SoftmaxCrossEntropy(dtype=dtype)
    opt = SGD(lr=1e-3)
    params, grads = model.params, model.grads

    def step() -> float:
        loss = loss_fn.forward(model.forward(x), y)
        model.backward(loss_fn.backward())
        opt.step(params, grads)
        return loss

    return step


def mlp_torch(dtype: torch.dtype, batch: int = 200) -> Callable[[], float]:
    torch.manual_seed(0)
    x = torch.randn(batch, 3072, dtype=dtype)
    y = torch.randint(0, 10, (batch,))
    model = torch.nn.Sequential(
        torch.nn.Linear(3072, 100), torch.nn.ELU(), torch.nn.Linear(100, 10)
    ).to(dtype)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)

    def step() -> float:
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    return step


# --------------------------------------------------------------------------- conv


def conv_numpy(dtype: np.dtype) -> Callable[[], np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3, 32, 32)).astype(dtype)
    conv = Conv2d(3, 32, 3, padding=1, rng=0, dtype=dtype)
    dout = rng.standard_normal((64, 32, 32, 32)).astype(dtype)

    def step() -> np.ndarray:
        conv.forward(x)
        return conv.backward(dout)

    return step


def conv_torch(dtype: torch.dtype) -> Callable[[], torch.Tensor]:
    torch.manual_seed(0)
    x = torch.randn(64, 3, 32, 32, dtype=dtype, requires_grad=True)
    conv = torch.nn.Conv2d(3, 32, 3, padding=1).to(dtype)
    dout = torch.randn(64, 32, 32, 32, dtype=dtype)

    def step() -> torch.Tensor:
        x.grad = None
        conv.zero_grad(set_to_none=True)
        conv(x).backward(dout)
        return x.grad

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--no-float64", action="store_true", help="skip the float64 rows")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for both numpy's BLAS and torch (default: library "
                             "defaults)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="wall-clock time, or process CPU time (robust on a shared "
                             "machine when combined with --threads 1)")
    args = parser.parse_args()
    if args.threads:
        set_threads(args.threads)
    clock = time.perf_counter if args.clock == "wall" else time.process_time

    print(f"python {platform.python_version()}, numpy {np.__version__}, torch "
          f"{torch.__version__}, {platform.processor() or platform.machine()}")
    print("BLAS / threading:")
    print(blas_info())
    print(f"torch mkldnn enabled: {torch.backends.mkldnn.is_available()}")
    print(f"clock: {args.clock}, repeats: {args.repeats}, load average: "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print()

    goals = {"MLP train step": 1.3, "Conv2d fwd+bwd": 3.0}
    rows = []
    dtypes = [(np.float32, torch.float32)]
    if not args.no_float64:
        dtypes.append((np.float64, torch.float64))
    for np_dt, t_dt in dtypes:
        name = np.dtype(np_dt).name
        for label, make_np, make_t in (
            ("MLP train step", mlp_numpy, mlp_torch),
            ("Conv2d fwd+bwd", conv_numpy, conv_torch),
        ):
            t_np, t_t = compare_ms(make_np(np.dtype(np_dt)), make_t(t_dt), args.repeats, clock)
            rows.append((label, name, t_np, t_t, t_np / t_t, goals[label]))

    header = f"{'benchmark':<16} {'dtype':<8} {'numpy ms':>9} {'torch ms':>9} {'ratio':>6}  goal"
    print(header)
    print("-" * len(header))
    for label, name, t_np, t_t, ratio, goal in rows:
        mark = "ok" if ratio <= goal or name != "float32" else "over"
        goal_txt = f"<= {goal}x ({mark})" if name == "float32" else "-"
        print(f"{label:<16} {name:<8} {t_np:>9.2f} {t_t:>9.2f} {ratio:>5.2f}x  {goal_txt}")


if __name__ == "__main__":
    main()
