"""Running an experiment through the CLI in a test, and reading back what it wrote."""

from __future__ import annotations

import json
from pathlib import Path

from practica import cli


def run(root: Path, data: Path | None, *args: str) -> int:
    """`practica run ARGS --no-progress` with runs under ROOT/runs and data from DATA if given."""
    extra = ["--data-dir", str(data)] if data is not None else []
    return cli.main(["run", *args, "--no-progress", "--runs-dir", str(root / "runs"), *extra])


def only_run(root: Path, name: str) -> tuple[Path, dict]:
    """The single run directory of NAME under ROOT/runs, and its summary."""
    (path,) = (root / "runs" / name).iterdir()
    return path, json.loads((path / "summary.json").read_text())
