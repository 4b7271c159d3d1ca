"""``practica reproduce``: run every registered experiment and build the results index.

Experiments run in registry order. One whose data is missing (and cannot be downloaded)
is listed as skipped with the reason; one that fails is reported and the rest go on.
"""

from __future__ import annotations

import sys
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
    for i, exp in enumerate(experiments, 1):
        say(f"[{i}/{len(experiments)}] {exp.name}: {exp.description}")
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
