"""The reference results: records of full-budget runs shipped in the repository's
``results/`` folder, so a fresh clone builds a complete book without training.

``practica results export RUNS`` copies, for each experiment, the run the book would
quote (the handout's defaults, newest) — summary, config, metrics, report page, figures
and small text outputs, never checkpoints — and rewrites every path of the machine it
ran on into a placeholder (``$RUNS``, ``$DATA``, ``$CACHE``, ``~``), so no absolute path
lands in the repository.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from ..errors import PracticaError
from ..records.atomic import atomic_write_bytes, atomic_write_text
from .records import RunIndex, RunRecord

#: Files of a run that the book may quote (relative globs); checkpoints never travel.
KEEP = ("summary.json", "config.json", "metrics.csv", "report.html", "plots/*.png", "*.txt",
        "children/*/summary.json", "children/*/config.json", "children/*/metrics.csv",
        "children/*/plots/*.png", "children/*/*.txt")
#: Largest single file exported (figures are small; a bigger file is a mistake).
MAX_FILE = 2 * 1024 * 1024


def default_reference() -> Path | None:
    """``PRACTICA_RESULTS``, else the ``results/`` folder of this source checkout."""
    env = os.environ.get("PRACTICA_RESULTS")
    if env:
        return Path(env).expanduser()
    here = Path(__file__).resolve().parents[3] / "results"
    return here if here.is_dir() else None


def _json_paths(value: Any) -> set[str]:
    """Every string in a JSON value that is an absolute file-system path."""
    if isinstance(value, dict):
        return set().union(*(_json_paths(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_json_paths(v) for v in value)) if value else set()
    if isinstance(value, str) and value.startswith("/") and "\n" not in value:
        return {value}
    return set()


def _run_placeholders(run: RunRecord, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The export's placeholders plus one for each other absolute path the run recorded
    (a --data-dir, a weights file): ``$PATH/<its name>``."""
    found = _json_paths(run.config) | _json_paths(run.summary)
    extra = [(p, f"$PATH/{Path(p).name}") for p in found if scrub(p, pairs) == p]
    return sorted(pairs + extra, key=lambda pair: -len(pair[0]))


def _placeholders(runs: Path) -> list[tuple[str, str]]:
    from ..data.store import cache_dir

    pairs = [(str(runs.resolve()), "$RUNS"), (str(runs), "$RUNS")]
    if os.environ.get("PRACTICA_DATA"):
        data = Path(os.environ["PRACTICA_DATA"])
        pairs += [(str(data.resolve()), "$DATA"), (str(data), "$DATA")]
    pairs += [(str(cache_dir().resolve()), "$CACHE"), (str(Path.home()), "~")]
    # longest first, so a folder inside another is replaced by its own name
    return sorted({(a, b) for a, b in pairs if a not in ("", "/")}, key=lambda p: -len(p[0]))


def scrub(text: str, pairs: list[tuple[str, str]]) -> str:
    for path, name in pairs:
        text = text.replace(path, name)
    return text


def export_results(runs: Path, out: Path, *, include_smoke: bool = False) -> list[RunRecord]:
    """Copy the quotable run of every experiment in ``runs`` into ``out``."""
    index = RunIndex(runs, "reference")
    if not index.experiments():
        raise PracticaError(f"no completed runs under {runs}")
    pairs = _placeholders(runs)
    exported = []
    for name in index.experiments():
        chosen = [r for r in index.distinct(name) if include_smoke or r.budget != "smoke"]
        if chosen and (out / name).is_dir():
            shutil.rmtree(out / name)  # the newest run of each config replaces older ones
        for run in chosen:
            _export_run(run, out / name / run.run_id, pairs)
            exported.append(run)
    write_manifest(out)
    return exported


def _export_run(run: RunRecord, dest: Path, pairs: list[tuple[str, str]]) -> None:
    pairs = _run_placeholders(run, pairs)
    for pattern in KEEP:
        for src in sorted(run.path.glob(pattern)):
            if not src.is_file() or src.is_symlink():
                continue
            if src.stat().st_size > MAX_FILE:
                raise PracticaError(f"{src} is larger than {MAX_FILE // 1024} KiB; "
                                    "reference results keep figures small")
            target = dest / src.relative_to(run.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            if src.suffix in (".json", ".csv", ".html", ".txt"):
                atomic_write_text(target, scrub(src.read_text(encoding="utf-8",
                                                              errors="replace"), pairs))
            elif src.suffix == ".png":
                atomic_write_bytes(target, small_png(src.read_bytes()))
            else:
                shutil.copyfile(src, target)


def small_png(raw: bytes) -> bytes:
    """A figure re-encoded with a 256-colour palette: plots lose nothing visible and shrink
    two- to threefold, which keeps the reference results small. The original is kept when
    it is smaller already."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(raw)) as img:
        quantized = img.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    quantized.save(out, format="PNG", optimize=True)
    return out.getvalue() if out.tell() < len(raw) else raw


def write_manifest(out: Path) -> Path:
    """``results/manifest.json``: each reference run with machine, date, commit, wall time."""
    index = RunIndex(out, "reference")
    rows: list[dict[str, Any]] = []
    for name in index.experiments():
        for r in index.distinct(name):
            env = r.config.get("environment", {})
            rows.append({"experiment": name, "run": r.run_id, "budget": r.budget,
                         "seed": r.seed, "commit": r.commit, "date": r.created,
                         "machine": r.machine, "processor": env.get("processor"),
                         "torch": env.get("torch"), "wall_time_s": r.wall_time_s})
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    path = out / "manifest.json"
    atomic_write_text(path, json.dumps({"runs": rows, "bytes": size}, indent=1) + "\n")
    return path
