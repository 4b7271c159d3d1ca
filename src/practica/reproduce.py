"""``practica reproduce``: run every registered experiment and build the results index.

Experiments run in registry order, or with ``--jobs N`` side by side in N processes (each
given ``cores // N`` threads, longest expected run first). One whose data is missing (and
cannot be downloaded) is listed as skipped with the reason; one that fails is reported and
the rest go on. ``--plan`` prints the expected wall time of each experiment on this kind
of machine, from the reference results' recorded times, and the total.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .context import Settings
from .data import DATASETS
from .errors import PracticaError
from .experiments.base import runs_root, start
from .experiments.registry import REGISTRY, get
from .report.index import row_for, write_index

BUDGETS = ("smoke", "full")


def missing_data(names: Sequence[str], settings: Settings) -> str | None:
    """Why the data sets ``names`` cannot be had, or None when all are found."""
    missing = [n for n in names if DATASETS[n].locate(settings.data_dir) is None]
    if not missing:
        return None
    reasons = [f"{n} not found: {DATASETS[n].how_to_get}" for n in missing]
    return "; ".join(reasons)


def reproduce(budget: str, only: Sequence[str], settings: Settings,
              root: str | Path | None = None,
              say: Callable[[str], None] = print) -> tuple[Path, list[dict[str, Any]]]:
    """Run the experiments; return the index path and its rows."""
    if budget not in BUDGETS:
        raise PracticaError(f"--budget must be one of {', '.join(BUDGETS)}")
    names = list(only) if only else list(REGISTRY)
    experiments = [get(n) for n in names]
    root = runs_root(root)
    rows = []
    expected = expected_seconds(names, budget)
    started_at = time.perf_counter()
    for i, exp in enumerate(experiments, 1):
        say(f"[{i}/{len(experiments)}] {exp.name}: {exp.description}")
        say("    " + progress_line(expected, names[i - 1:], time.perf_counter() - started_at))
        reason = missing_data(exp.datasets, settings) if settings.offline else None
        if reason is None and not settings.offline:
            reason = _fetch(exp.datasets, settings)
        if reason:
            say(f"    skipped: {reason}")
            rows.append(row_for(exp.name, None, status="skipped", reason=reason))
            continue
        try:
            config = exp.resolve_config(smoke=budget == "smoke")
            run = start(exp, config, settings, root, budget="smoke" if budget == "smoke" else None)
            row = row_for(exp.name, run.path)
        except PracticaError as exc:
            say(f"    failed: {exc}")
            row = row_for(exp.name, _last_run(root, exp.name), status="failed", reason=str(exc))
        except Exception as exc:  # a bug in one experiment must not stop the others
            traceback.print_exc(file=sys.stderr)
            row = row_for(exp.name, _last_run(root, exp.name), status="failed",
                          reason=f"{type(exc).__name__}: {exc}")
        rows.append(row)
        measured = row.get("measured")
        note = ", smoke budget" if budget == "smoke" else ""
        say(f"    {row['status']}" + (f": {row['metric']} {measured:.4f} (handout "
                                      f"{row['figure']}{note})" if measured is not None else ""))
    index = write_index(root, rows, title=f"practica reproduce — {budget} budget",
                        smoke=budget == "smoke")
    return index, rows


def _fetch(datasets: Sequence[str], settings: Settings) -> str | None:
    """Try to download what is missing; the reason it failed, or None."""
    from .data.store import download

    for name in datasets:
        info = DATASETS[name]
        if info.locate(settings.data_dir) is not None:
            continue
        try:
            from .cli import _fetch_dir

            for item in info.downloads:
                download(item, _fetch_dir(name), progress=settings.progress, timeout=15)
        except PracticaError as exc:
            return f"{name} not found and download failed ({exc})"
        if info.locate(settings.data_dir) is None:  # nothing to download, or not usable
            return f"{name} not found: {info.how_to_get}"
    return None


def _last_run(root: Path, name: str) -> Path | None:
    folder = root / name
    runs = sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    return runs[-1] if runs else None


# --- plan and parallel runs -----------------------------------------------------------------

def expected_seconds(names: Sequence[str], budget: str) -> dict[str, float | None]:
    """Each experiment's wall time in the reference results (full budget), else None."""
    from .book.records import RunIndex
    from .book.reference import default_reference

    if budget != "full":
        return {n: None for n in names}
    from .experiments.registry import get

    index = RunIndex(default_reference(), "reference")
    out: dict[str, float | None] = {}
    for name in names:
        # the handout's defaults at the experiment's own precision only: a custom run, or
        # an fp32 run of a bf16 experiment, times another job
        settings = get(name).settings
        where = {"amp": settings.get("amp", "none"),
                 "channels_last": bool(settings.get("channels_last", False))}
        run = index.best(name, where)
        out[name] = run.wall_time_s if run is not None and run.budget == "default" else None
    return out


def progress_line(expected: dict[str, float | None], left: Sequence[str], elapsed: float,
                  jobs: int = 1, now: float | None = None) -> str:
    """``elapsed 12.0 min; about 1.6 h left (ETA 21:40)``: the time so far and the reference
    times of the experiments not yet finished, spread over ``jobs`` lanes; runs without a
    reference time are counted as zero and said."""
    known = [expected.get(n) for n in left]
    line = f"elapsed {_duration(elapsed)}"
    if not any(v is not None for v in known):
        return line
    rest = schedule({n: expected.get(n) for n in left}, jobs)[1]
    finish = time.localtime((time.time() if now is None else now) + rest)
    line += f"; about {_duration(rest)} left (ETA {time.strftime('%H:%M', finish)})"
    unknown = sum(v is None for v in known)
    return line + (f", +{unknown} without a reference time" if unknown else "")


def schedule(seconds: dict[str, float | None], jobs: int) -> tuple[list[str], float]:
    """Longest expected run first; the makespan of that order on ``jobs`` lanes (runs
    with no recorded time count as zero and go last)."""
    order = sorted(seconds, key=lambda n: -(seconds[n] or 0.0))
    lanes = [0.0] * max(1, jobs)
    for name in order:
        lanes[lanes.index(min(lanes))] += seconds[name] or 0.0
    return order, max(lanes)


def format_plan(seconds: dict[str, float | None], jobs: int, budget: str,
                beyond: set[str] | frozenset[str] = frozenset()) -> str:
    """The plan table; with experiments ``beyond`` the handouts among them, the totals are
    also given for the handouts' own experiments alone."""
    order, _ = schedule(seconds, jobs)
    lines = [f"{'experiment':<28} expected wall time ({budget} budget; recorded on the "
             "reference machine, 2 CPU cores, two runs side by side with one thread each)"]
    for name in order:
        value = seconds[name]
        lines.append(f"{name:<28} " + ("no reference time" if value is None else
                                       _duration(value))
                     + ("   (beyond the handouts)" if name in beyond else ""))
    parts = [("", seconds)]
    if beyond and set(seconds) - set(beyond):
        parts = [(", handouts only", {k: v for k, v in seconds.items() if k not in beyond}),
                 (", all", seconds)]
    for label, some in parts:
        known = [v for v in some.values() if v is not None]
        lines.append(f"{'total' + label + ', one after another':<28} {_duration(sum(known))}"
                     + (f" (+{len(some) - len(known)} without a reference time)"
                        if len(known) < len(some) else ""))
        if jobs > 1:
            lines.append(f"{f'with --jobs {jobs}' + label:<28} "
                         f"{_duration(schedule(some, jobs)[1])} (longest first)")
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min" \
        if seconds < 7200 else f"{seconds / 3600:.2f} h"


def run_argv(name: str, budget: str, settings: Settings, root: Path) -> list[str]:
    """The ``practica run`` command that runs ``name`` as ``reproduce`` would."""
    argv = [sys.executable, "-m", "practica", "run", name, "--runs-dir", str(root),
            "--no-progress", "--seed", str(settings.seed), "--device", settings.device]
    if budget == "smoke":
        argv.append("--smoke")
    if settings.amp is not None:
        argv += ["--amp", settings.amp]
    if settings.channels_last:
        argv.append("--channels-last")
    if settings.data_dir:
        argv += ["--data-dir", str(settings.data_dir)]
    if settings.offline:
        argv.append("--offline")
    return argv


def reproduce_parallel(budget: str, only: Sequence[str], settings: Settings, jobs: int,
                       root: str | Path | None = None,
                       say: Callable[[str], None] = print) -> tuple[Path, list[dict[str, Any]]]:
    """Like :func:`reproduce`, with up to ``jobs`` experiments running at once, each in its
    own process with ``cores // jobs`` threads (never more threads than cores)."""
    names = list(only) if only else list(REGISTRY)
    experiments = {n: get(n) for n in names}
    root = runs_root(root)
    logs = root / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    rows: dict[str, dict[str, Any]] = {}
    runnable = []
    for name, exp in experiments.items():
        reason = missing_data(exp.datasets, settings) if settings.offline else \
            _fetch(exp.datasets, settings)
        if reason:
            say(f"    {name} skipped: {reason}")
            rows[name] = row_for(name, None, status="skipped", reason=reason)
        else:
            runnable.append(name)
    seconds = expected_seconds(runnable, budget)
    order, makespan = schedule(seconds, jobs)
    threads = max(1, (os.cpu_count() or 1) // jobs)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    started_at = time.perf_counter()
    pending, running = list(order), {}
    if makespan:
        say(f"{len(order)} experiments on {jobs} lanes of {threads} thread(s); expected "
            f"{_duration(makespan)}")
    done = 0
    try:
        while pending or running:
            while pending and len(running) < jobs:
                name = pending.pop(0)
                log = (logs / f"{name}.log").open("w")
                proc = subprocess.Popen(run_argv(name, budget, settings, root), env=env,
                                        stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
                running[name] = (proc, log, time.perf_counter())
                say(f"[{done + len(running)}/{len(order)}] {name} started")
            time.sleep(0.2)
            for name, (proc, log, _) in list(running.items()):
                if proc.poll() is None:
                    continue
                log.close()
                del running[name]
                done += 1
                last = _last_run(root, name)
                if proc.returncode == 0:
                    row = row_for(name, last)
                else:
                    tail = (logs / f"{name}.log").read_text(errors="replace").strip().splitlines()
                    row = row_for(name, last, status="failed",
                                  reason=tail[-1] if tail else f"exit {proc.returncode}")
                rows[name] = row
                elapsed = time.perf_counter() - started_at
                measured = row.get("measured")
                say(f"    {name} {row['status']} after {_duration(elapsed)}"
                    + (f": {row['metric']} {measured:.4f}" if measured is not None else ""))
                now = time.perf_counter()
                left = {**{n: None if seconds[n] is None else max(0.0, seconds[n] - (now - t0))
                           for n, (_, _, t0) in running.items()},
                        **{n: seconds[n] for n in pending}}
                say(f"    [{done}/{len(order)} done] " + progress_line(left, list(left), elapsed,
                                                                      jobs))
    except BaseException:  # Ctrl-C or SIGTERM: the runs side by side end the same way
        for proc, _, _ in running.values():
            proc.terminate()  # each writes its summary (interrupted) and can be resumed
        for proc, log, _ in running.values():
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
        raise
    ordered = [rows[n] for n in names]
    index = write_index(root, ordered, title=f"practica reproduce — {budget} budget",
                        smoke=budget == "smoke")
    return index, ordered
