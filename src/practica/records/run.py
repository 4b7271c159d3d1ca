"""One run's directory: config, metrics (CSV + TensorBoard), checkpoints, plots, summary.

Layout of ``runs/NAME/<timestamp>/``::

    config.json          resolved config, seed, settings, versions, git commit, device
    metrics.csv          step,split,metric,value — one row per logged value
    events.out.tfevents* TensorBoard events (same values)
    checkpoints/last.pt  latest checkpoint (written atomically)
    plots/*.png          figures
    summary.json         final metrics next to the handout's figure, pass/fail
    report.html          plots, config and summary on one page
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import math
import os
import platform
import stat
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .. import __version__
from .atomic import atomic_open, atomic_write_text

METRICS_HEADER = ("step", "split", "metric", "value")


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def environment_info() -> dict[str, Any]:
    """Versions of practica, Python and the libraries, the platform and the git commit."""
    import numpy
    import torch

    info: dict[str, Any] = {
        "practica": __version__,
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "torch": torch.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.is_available(),
        "git_commit": _git_commit(),
    }
    try:
        import torchvision

        info["torchvision"] = torchvision.__version__
    except ImportError:  # pragma: no cover
        pass
    return info


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(_json_safe(data), indent=2, sort_keys=False) + "\n")


def read_record(path: Path) -> dict[str, Any]:
    """A run's config.json or summary.json; a damaged one is a one-line error naming it."""
    from ..errors import PracticaError, describe

    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PracticaError(f"{path} is missing; is this a practica run directory?") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PracticaError(f"{path} is damaged ({describe(exc)}); restore it from a backup or "
                            "start the run again") from None
    if not isinstance(value, dict):
        raise PracticaError(f"{path} is damaged (not a JSON object); start the run again")
    return value


def refuse_outside_links(path: Path) -> None:
    """Refuse a run directory holding a symlink that leads outside it, or a hard-linked file.

    practica never makes links in a run directory; one planted there would make the next
    write (a checkpoint, the metrics, the report) land in a file outside it.
    """
    from ..errors import PracticaError

    base = Path(os.path.realpath(path))
    for folder, dirs, files in os.walk(base):
        for name in dirs + files:
            entry = Path(folder) / name
            info = os.lstat(entry)
            if stat.S_ISLNK(info.st_mode):
                target = Path(os.path.realpath(entry))
                if target != base and base not in target.parents:
                    raise PracticaError(f"refusing to use run directory {path}: "
                                        f"{entry.relative_to(base)} is a symbolic link to "
                                        f"{target}, outside it; remove the link")
            elif stat.S_ISREG(info.st_mode) and info.st_nlink > 1:
                raise PracticaError(f"refusing to use run directory {path}: "
                                    f"{entry.relative_to(base)} is hard-linked elsewhere; "
                                    "replace it with a copy")


class Run:
    """A run directory. Create with :meth:`create`, reopen for resuming with :meth:`open`."""

    def __init__(self, path: Path, *, tensorboard: bool = True) -> None:
        self.path = Path(path)
        self.checkpoints = self.path / "checkpoints"
        self.plots = self.path / "plots"
        self._tensorboard = tensorboard
        self._writer: Any = None
        self._csv: Any = None
        self._csv_writer: Any = None

    # -- creation -----------------------------------------------------------------------
    @classmethod
    def create(cls, root: Path, experiment: str, record: Mapping[str, Any], *,
               tensorboard: bool = True) -> Run:
        """Make ``root/experiment/<timestamp>/`` and write ``config.json`` there."""
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        base = Path(root) / experiment
        base.mkdir(parents=True, exist_ok=True)
        path, n = base / stamp, 1
        while True:
            try:
                path.mkdir()
                break
            except FileExistsError:
                n += 1
                path = base / f"{stamp}-{n}"
        return cls._init_dir(path, record, tensorboard)

    @classmethod
    def create_at(cls, path: Path, record: Mapping[str, Any], *, tensorboard: bool = True) -> Run:
        """Make a run directory at exactly ``path`` (used for sub-runs)."""
        Path(path).mkdir(parents=True)
        return cls._init_dir(Path(path), record, tensorboard)

    @classmethod
    def _init_dir(cls, path: Path, record: Mapping[str, Any], tensorboard: bool) -> Run:
        run = cls(path, tensorboard=tensorboard)
        run.checkpoints.mkdir()
        run.plots.mkdir()
        full = dict(record)
        full.setdefault("created", dt.datetime.now().isoformat(timespec="seconds"))
        full["environment"] = environment_info()
        write_json(path / "config.json", full)
        with (path / "metrics.csv").open("w", newline="") as fh:
            csv.writer(fh).writerow(METRICS_HEADER)
        return run

    @classmethod
    def open(cls, path: Path, *, tensorboard: bool = True) -> Run:
        """Reopen an existing run directory (for resuming or re-plotting)."""
        path = Path(path)
        if not (path / "config.json").is_file():
            from ..errors import PracticaError

            raise PracticaError(f"{path} is not a practica run directory (no config.json)")
        refuse_outside_links(path)
        run = cls(path, tensorboard=tensorboard)
        run.checkpoints.mkdir(exist_ok=True)
        run.plots.mkdir(exist_ok=True)
        return run

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold an exclusive lock on the run directory while a process works in it, so a
        second ``resume`` of the same run stops at once instead of training alongside."""
        import fcntl

        from ..errors import PracticaError

        path = self.path / ".lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
                raise PracticaError(f"{self.path} is in use by process {holder} (a run or "
                                    "resume still working in it); wait for it to end or "
                                    "stop it first") from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def untrained(self) -> bool:
        """True while the run holds no checkpoint and no logged metric (safe to delete)."""
        if any(self.checkpoints.glob("*.pt")) or any(self.checkpoints.glob("*.npz")):
            return False
        if (self.path / "children").is_dir():
            return False
        metrics = self.path / "metrics.csv"
        return not (metrics.is_file() and read_metrics(metrics))

    @property
    def record(self) -> dict[str, Any]:
        return read_record(self.path / "config.json")

    # -- metrics ------------------------------------------------------------------------
    def _open_writers(self) -> None:
        if self._csv is None:
            self._csv = (self.path / "metrics.csv").open("a", newline="")
            self._csv_writer = csv.writer(self._csv)

    def writer(self) -> Any:
        """The TensorBoard SummaryWriter (created on first use), or None if disabled."""
        if self._writer is None and self._tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(log_dir=str(self.path))
        return self._writer

    def log(self, step: int, split: str, metrics: Mapping[str, float]) -> None:
        """Record ``metrics`` (name → value) for ``split`` at ``step``."""
        self._open_writers()
        writer = self.writer()
        for name, value in metrics.items():
            value = float(value)
            self._csv_writer.writerow((step, split, name, repr(value)))
            if writer is not None:
                writer.add_scalar(f"{split}/{name}", value, step)
        self._csv.flush()

    def truncate_metrics(self, after_step: int) -> None:
        """Drop metric rows logged after ``after_step`` (used when resuming)."""
        self.close()
        path = self.path / "metrics.csv"
        rows = read_metrics(path)
        kept = [r for r in rows if r["step"] <= after_step]
        with atomic_open(path, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(METRICS_HEADER)
            for r in kept:
                w.writerow((r["step"], r["split"], r["metric"], repr(r["value"])))
        if self._tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(log_dir=str(self.path), purge_step=after_step + 1)

    def metrics(self) -> list[dict[str, Any]]:
        if self._csv is not None:
            self._csv.flush()
        return read_metrics(self.path / "metrics.csv")

    # -- summary ------------------------------------------------------------------------
    def write_summary(self, summary: Mapping[str, Any]) -> None:
        write_json(self.path / "summary.json", summary)

    def summary(self) -> dict[str, Any] | None:
        path = self.path / "summary.json"
        return read_record(path) if path.is_file() else None

    def write_json(self, name: str, data: Any) -> Path:
        path = self.path / name
        write_json(path, data)
        return path

    def close(self) -> None:
        if self._csv is not None:
            self._csv.close()
            self._csv = self._csv_writer = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """Rows of a metrics.csv as dicts with int step and float value."""
    rows = []
    with Path(path).open(newline="") as fh:
        for row in csv.DictReader(fh):
            rows.append({"step": int(row["step"]), "split": row["split"],
                         "metric": row["metric"], "value": float(row["value"])})
    return rows
