"""What an experiment is, and how one is run and recorded.

An :class:`Experiment` couples a handout exercise (its reference, its target figure, the
data it needs) with a config dataclass holding the handout's defaults and a ``run``
function ``run(config, ctx) -> {metric: value}``. :func:`start` and :func:`resume` wrap
that function with everything a run needs around it: the run directory, config.json,
plots, summary.json and report.html.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import config as cfgmod
from ..context import RunContext, Settings, check_settings
from ..errors import PracticaError, Terminated, TrainingDiverged
from ..records import Run
from ..train import distributed


@dataclass(frozen=True)
class Target:
    """The handout's figure for an experiment: a floor to reach (or a ceiling for losses)."""

    metric: str  # key of the final metrics, e.g. "test/accuracy"
    value: float
    source: str  # where the handout says so
    higher_is_better: bool = True

    def passed(self, measured: float | None) -> bool | None:
        if measured is None:
            return None
        return measured >= self.value if self.higher_is_better else measured <= self.value


RunFn = Callable[[Any, RunContext], Mapping[str, float]]


@dataclass(frozen=True)
class Experiment:
    """A runnable handout exercise."""

    name: str
    handout: str
    description: str
    config_cls: type
    run: RunFn
    target: Target | None = None
    datasets: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)  # named variants
    smoke: Mapping[str, Any] = field(default_factory=dict)  # short-budget overrides
    settings: Mapping[str, Any] = field(default_factory=dict)  # default amp / channels_last
    #: beyond the handout: a tuned variant reaching for the field's best figures, or an
    #: extension (`reproduce --handouts-only` leaves these out; the plan counts them apart)
    beyond: bool = False

    def default_config(self) -> Any:
        return cfgmod.apply_overrides(self.config_cls(), self.defaults)

    def resolve_config(self, toml_path: str | Path | None = None,
                       set_pairs: tuple[str, ...] | list[str] = (),
                       smoke: bool = False) -> Any:
        config = self.default_config()
        if smoke:
            config = cfgmod.apply_overrides(config, self.smoke)
        if toml_path is not None:
            config = cfgmod.apply_overrides(config, cfgmod.load_toml(toml_path))
        return cfgmod.apply_overrides(config, cfgmod.parse_set(set_pairs))


def budget_of(experiment: Experiment, config: Mapping[str, Any] | Any) -> str:
    """``default`` (the handout's settings), ``smoke`` (the short budget) or ``custom``."""
    stored = dict(config) if isinstance(config, Mapping) else cfgmod.to_dict(config)
    # a key the record lacks is a setting added since: the run had the behaviour of the
    # config class's default (an experiment that now defaults to another value differs)
    filled = {**cfgmod.to_dict(experiment.config_cls()), **stored}
    for budget, reference in (("default", experiment.default_config()),
                              ("smoke", experiment.resolve_config(smoke=True))):
        expected = cfgmod.to_dict(reference)
        if set(stored) <= set(expected) and {k: filled[k] for k in expected} == expected:
            return budget
    return "custom"


def run_record(experiment: Experiment, config: Any, settings: Settings,
               budget: str | None = None) -> dict[str, Any]:
    return {
        "experiment": experiment.name,
        "handout": experiment.handout,
        "description": experiment.description,
        "budget": budget or budget_of(experiment, config),
        "config": cfgmod.to_dict(config),
        "settings": settings.to_dict(),
        "command": sys.argv[1:],
    }


def runs_root(explicit: str | Path | None = None) -> Path:
    """``--runs-dir``, else ``PRACTICA_RUNS``, else ``./runs``."""
    import os

    return Path(explicit or os.environ.get("PRACTICA_RUNS") or "runs")


def start(experiment: Experiment, config: Any, settings: Settings,
          root: str | Path | None = None, *, announce: Callable[[str], None] | None = None,
          budget: str | None = None) -> Run:
    """Create a run directory for ``experiment`` and run it to the end.

    ``budget`` labels the run in its record (``smoke`` for a short-budget run, even with
    overrides); by default it is read off the config (see :func:`budget_of`)."""
    settings = settings.with_defaults(dict(experiment.settings))
    device = check_settings(settings)  # fail before a run directory is made
    w = distributed.init(device.type)
    record = run_record(experiment, config, settings, budget)
    if w.active:
        record["world_size"] = w.size
    main = Run.create(runs_root(root), experiment.name, record) if w.is_main else None
    main_path = Path(distributed.broadcast(str(main.path) if main else None))
    run = main or Run.create_at(rank_dir(main_path, w.rank), record, tensorboard=False)
    if announce and w.is_main:
        announce(f"run directory: {main_path}")
    try:
        with main.exclusive() if main is not None else contextlib.nullcontext():
            execute(experiment, config, run, settings, resuming=False)
    except PracticaError as exc:
        if main is not None and not w.active and not isinstance(exc, TrainingDiverged) \
                and main.untrained():
            shutil.rmtree(main.path, ignore_errors=True)  # nothing to resume: leave nothing
            with contextlib.suppress(OSError):
                main.path.parent.rmdir()  # the experiment's folder, if this was its only run
            raise PracticaError(f"{exc} (nothing was trained; the run directory was "
                                "removed)") from None
        raise
    finally:
        distributed.shutdown()
    return main or Run.open(main_path)


def resume(run_dir: str | Path, *, progress: bool | None = None, device: str | None = None,
           announce: Callable[[str], None] | None = None) -> Run:
    """Continue an interrupted run from its last checkpoint."""
    from .registry import get

    main = Run.open(Path(run_dir))
    record = main.record
    where = main.path / "config.json"
    if not isinstance(record.get("experiment"), str) or not isinstance(record.get("config"),
                                                                        dict):
        raise PracticaError(f"{where} lacks the experiment or its config; is it a practica run?")
    experiment = get(record["experiment"])
    try:
        config = cfgmod.from_dict(experiment.config_cls, record["config"])
    except PracticaError as exc:
        raise PracticaError(f"{where}: {exc}") from None
    stored = dict(record.get("settings") or {})
    unknown = sorted(set(stored) - {f.name for f in dataclasses.fields(Settings)})
    if unknown:
        raise PracticaError(f"{where}: unknown settings {', '.join(unknown)} (written by "
                            "another version of practica?); remove them to resume")
    if progress is not None:
        stored["progress"] = progress
    if device is not None:
        stored["device"] = device
    settings = Settings(**stored).with_defaults(dict(experiment.settings))
    summary = main.summary()
    if summary and summary.get("status") == "completed":
        raise PracticaError(f"{main.path} already completed; nothing to resume")
    w = distributed.init(check_settings(settings).type)
    if w.size != int(record.get("world_size", 1)):
        raise PracticaError(f"{main.path} was trained by {record.get('world_size', 1)} "
                            f"process(es); resume it with as many (this is {w.size})")
    run = main if w.is_main else Run.open(rank_dir(main.path, w.rank), tensorboard=False)
    try:
        with main.exclusive() if w.is_main else contextlib.nullcontext():
            if announce and w.is_main:
                announce(f"resuming {main.path}")
            execute(experiment, config, run, settings, resuming=True)
    finally:
        distributed.shutdown()
    return main


def rank_dir(main: Path, rank: int) -> Path:
    """Where rank ``rank > 0`` of a distributed run keeps its own checkpoint."""
    return main / "ranks" / str(rank)


def execute(experiment: Experiment, config: Any, run: Run, settings: Settings, *,
            resuming: bool) -> dict[str, Any]:
    """Run ``experiment`` in ``run``; write plots, summary.json and report.html."""
    ctx = RunContext(run, settings, resuming=resuming)
    ctx.experiment = experiment
    started = time.perf_counter()
    status, metrics, error = "completed", {}, None
    try:
        metrics = dict(experiment.run(config, ctx))
    except TrainingDiverged as exc:
        status, error = "diverged", str(exc)
        raise
    except KeyboardInterrupt as exc:
        status = "interrupted"
        error = ("terminated by SIGTERM" if isinstance(exc, Terminated) else
                 "interrupted by the user") + "; continue with practica resume"
        raise
    except BaseException as exc:
        status, error = "failed", f"{type(exc).__name__}: {exc}"
        raise
    finally:
        run.close()
        summary = make_summary(experiment, run, metrics, status, error,
                               time.perf_counter() - started, ctx)
        try:
            if ctx.world.is_main:  # rank 0 writes the records of a distributed run
                finish(run, summary, ctx)
        except Exception as exc:  # a plotting problem must not hide the real error
            if status == "completed":
                raise
            print(f"practica: warning: could not write the report: {exc}", file=sys.stderr)
    return summary


def make_summary(experiment: Experiment, run: Run, metrics: Mapping[str, float], status: str,
                 error: str | None, seconds: float, ctx: RunContext) -> dict[str, Any]:
    previous = run.summary() or {}
    summary: dict[str, Any] = {
        "experiment": experiment.name,
        "handout": experiment.handout,
        "status": status,
        "metrics": dict(metrics),
        "wall_time_s": round(seconds + float(previous.get("wall_time_s", 0.0)), 2),
        "train_time_s": round(sum(ctx.train_times.values()), 2),
        "resumed": ctx.resuming or bool(previous.get("resumed")),
    }
    summary.update(ctx.summary_extra)
    if error:
        summary["error"] = error
    if experiment.target is not None:
        t = experiment.target
        measured = metrics.get(t.metric)
        summary["target"] = {"metric": t.metric, "value": t.value, "source": t.source,
                             "higher_is_better": t.higher_is_better, "measured": measured,
                             "passed": t.passed(measured)}
    return summary


def finish(run: Run, summary: Mapping[str, Any], ctx: RunContext) -> None:
    from ..report.html import write_run_report
    from ..report.plots import learning_curves

    rows = run.metrics()
    if rows and ctx.standard_plots:
        learning_curves(rows, run.plots, title=summary["experiment"])
    run.write_summary(summary)
    write_run_report(run.path, extra_sections=ctx.report_sections)


def child(ctx: RunContext, label: str, experiment: Experiment, config: Any) -> dict[str, Any]:
    """Run ``experiment`` as a sub-run of ``ctx.run`` in ``children/<label>/``.

    Used by comparison and sweep experiments. On resume, finished children are not rerun
    and an unfinished one continues from its own checkpoint.
    """
    path = ctx.run.path / "children" / label
    if (path / "config.json").is_file():
        sub = Run.open(path)
        summary = sub.summary()
        if summary and summary.get("status") == "completed":
            ctx.train_times[f"children/{label}"] = float(summary.get("train_time_s", 0.0))
            return summary
        resuming = True
    else:
        record = run_record(experiment, config, ctx.settings)
        record["parent"] = str(ctx.run.path)
        sub = Run.create_at(path, record)
        resuming = False
    settings = dataclasses.replace(ctx.settings)
    summary = execute(experiment, config, sub, settings, resuming=resuming)
    ctx.train_times[f"children/{label}"] = float(summary.get("train_time_s", 0.0))
    return summary
