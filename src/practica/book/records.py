"""Finding run records for the book: the newest completed run of each experiment in a
folder laid out as ``ROOT/<experiment>/<run id>/`` (a runs folder, or the shipped
reference results, which keep the same layout).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ..errors import PracticaError

#: Budgets in the order the book prefers them: the handout's defaults first.
BUDGET_ORDER = {"default": 0, "full": 0, "custom": 1, "smoke": 2}


def run_budget(experiment: str, record: dict[str, Any]) -> str:
    """``default`` (today's defaults of the experiment), ``smoke`` or ``custom`` (anything
    else), from the run's config: a run made at defaults that have changed since is
    ``custom`` now, whatever its record said then."""
    from ..experiments.base import budget_of
    from ..experiments.registry import REGISTRY

    exp = REGISTRY.get(experiment)
    stored = str(record.get("budget") or "custom")
    if stored == "smoke" or exp is None or "config" not in record:
        return stored  # a run started with --smoke is a smoke run, whatever it overrode
    try:
        return budget_of(exp, record["config"])
    except Exception:  # a config of an older version of the experiment
        return "custom"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PracticaError(f"cannot read {path} ({exc}); delete the run or rerun it") from None
    if not isinstance(value, dict):
        raise PracticaError(f"{path} is not a JSON object; delete the run or rerun it")
    return value


@dataclass
class RunRecord:
    """One finished run, as the book quotes it."""

    experiment: str
    path: Path
    summary: dict[str, Any]
    config: dict[str, Any]
    label: str  # "reference" or "yours"
    budget: str = field(init=False)

    def __post_init__(self) -> None:
        self.budget = run_budget(self.experiment, self.config)

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def seed(self) -> int | None:
        return self.config.get("settings", {}).get("seed")

    @property
    def commit(self) -> str:
        return str(self.config.get("environment", {}).get("git_commit") or "unknown")[:9]

    @property
    def created(self) -> str:
        return str(self.config.get("created", ""))[:10]

    @property
    def machine(self) -> str:
        env = self.config.get("environment", {})
        cores = env.get("cpu_count")
        device = "GPU" if env.get("cuda") else "CPU"
        return f"{cores}-core {device}" if cores else device

    @property
    def wall_time_s(self) -> float | None:
        """The run's wall time; for a run resumed after being killed (no summary written
        then, so the killed session's time is not in ``wall_time_s``) at least its training
        time, which sums every session's."""
        wall, train = self.summary.get("wall_time_s"), self.summary.get("train_time_s")
        if not isinstance(wall, (int, float)):
            return None
        if self.summary.get("resumed") and isinstance(train, (int, float)):
            return max(float(wall), float(train))
        return float(wall)

    def metric(self, name: str) -> Any:
        """A final metric (``test/accuracy``), else a summary value by dotted path
        (``target.value``); ``children/LABEL:METRIC`` reads a child run's summary, and
        ``config.NAME`` a setting of the run's config (``config.steps``)."""
        if name.startswith("children/") and ":" in name:
            child, _, rest = name.partition(":")
            path = self.path / child / "summary.json"
            if not path.is_file():
                return None
            sub = RunRecord(self.experiment, path.parent, _read_json(path), {}, self.label)
            return sub.metric(rest)
        metrics = self.summary.get("metrics") or {}
        if name in metrics:
            return metrics[name]
        node: Any = self.summary
        if name.startswith("config."):
            node, name = self.config.get("config", {}), name.removeprefix("config.")
        for part in name.split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def file(self, relative: str) -> Path | None:
        """A file of the run; a pattern with ``*`` matches (the first, sorted), so a name
        holding a step count (``samples_3_end_step*.png``) works at any budget."""
        if "*" in relative:
            matches = sorted(p for p in self.path.glob(relative) if p.is_file())
            return matches[0] if matches else None
        path = self.path / relative
        return path if path.is_file() else None

    @cached_property
    def files(self) -> list[str]:
        return sorted(p.relative_to(self.path).as_posix() for p in self.path.rglob("*")
                      if p.is_file())


class RunIndex:
    """The completed runs under ``root``, newest first per experiment."""

    def __init__(self, root: Path | None, label: str) -> None:
        self.root = Path(root) if root else None
        self.label = label
        self._runs: dict[str, list[RunRecord]] = {}
        if self.root is not None and self.root.is_dir():
            self._scan()

    def _scan(self) -> None:
        assert self.root is not None
        for summary_path in sorted(self.root.glob("*/*/summary.json")):
            run_dir = summary_path.parent
            summary = _read_json(summary_path)
            if summary.get("status") != "completed" or not (run_dir / "config.json").is_file():
                continue
            config = _read_json(run_dir / "config.json")
            name = str(summary.get("experiment") or run_dir.parent.name)
            self._runs.setdefault(name, []).append(
                RunRecord(name, run_dir, summary, config, self.label))
        for runs in self._runs.values():
            # the handout's defaults first, then seed 0 (other seeds are aggregated), newest
            runs.sort(key=lambda r: (BUDGET_ORDER.get(r.budget, 3), r.seed not in (0, None),
                                     -_stamp(r), r.run_id))

    def __contains__(self, experiment: str) -> bool:
        return experiment in self._runs

    def experiments(self) -> list[str]:
        return sorted(self._runs)

    def best(self, experiment: str, where: Mapping[str, Any] | None = None) -> RunRecord | None:
        """The run the book quotes: the handout's defaults over custom over smoke, newest;
        ``where`` keeps only runs whose config has those values (e.g. ``{"mode": "freeze"}``)."""
        runs = [r for r in self._runs.get(experiment, []) if _matches(r, where)]
        return runs[0] if runs else None

    def seeds(self, experiment: str, where: Mapping[str, Any] | None = None) -> list[RunRecord]:
        """Completed runs with the same config and budget as :meth:`best` (other seeds)."""
        best = self.best(experiment, where)
        if best is None:
            return []
        one_each: dict[Any, RunRecord] = {}  # a seed run twice counts once (the first)
        for r in self._runs[experiment]:
            if _same_job(r, best):
                one_each.setdefault(r.seed, r)
        return list(one_each.values())

    def distinct(self, experiment: str) -> list[RunRecord]:
        """The newest run of each distinct config, budget, seed and precision (what export
        keeps)."""
        out: dict[tuple[str, str, Any, Any], RunRecord] = {}
        for r in self._runs.get(experiment, []):
            config = "" if r.budget in ("default", "smoke") else \
                json.dumps(r.config.get("config"), sort_keys=True)
            key = (r.budget, config, r.seed, _precision(r))
            if key not in out or _stamp(r) > _stamp(out[key]):
                out[key] = r
        return list(out.values())

    def tolerance(self, experiment: str, metric: str,
                  where: Mapping[str, Any] | None = None) -> float | None:
        """How far another run may differ from the quoted value before the book flags it:
        three standard deviations over the seeds when there are at least three, else None
        (the builder then uses its default relative tolerance)."""
        values = [r.metric(metric) for r in self.seeds(experiment, where)]
        values = [float(v) for v in values if isinstance(v, (int, float))]
        if len(values) < 3:
            return None
        return 3 * statistics.stdev(values)


def _same_job(a: RunRecord, b: RunRecord) -> bool:
    """Runs of one config and budget, other seeds. A default (or smoke) budget is one job
    even when an older record lacks a setting added since (it ran at that default)."""
    if a.budget != b.budget or _precision(a) != _precision(b):
        return False
    return a.budget in ("default", "smoke") or a.config.get("config") == b.config.get("config")


def _precision(run: RunRecord) -> tuple[Any, Any]:
    """The run's arithmetic (``amp``, ``channels_last``): a bf16 run and an fp32 run of one
    config are different jobs, kept and quoted apart (``where={"amp": "none"}``)."""
    settings = run.config.get("settings", {})
    return settings.get("amp", "none"), bool(settings.get("channels_last", False))


def _matches(run: RunRecord, where: Mapping[str, Any] | None) -> bool:
    """Every ``where`` key equals the run's config value, or for ``amp`` and
    ``channels_last`` its settings value."""
    config = run.config.get("config", {})
    amp, channels_last = _precision(run)
    arithmetic = {"amp": amp, "channels_last": channels_last}
    return all((arithmetic if k in arithmetic else config).get(k) == v
               for k, v in (where or {}).items())


def _stamp(run: RunRecord) -> float:
    import datetime as dt

    try:
        return dt.datetime.fromisoformat(str(run.config.get("created"))).timestamp()
    except ValueError:
        return 0.0
