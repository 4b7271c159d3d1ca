"""The results index: one table of every experiment's latest run, linking to its page."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..records.atomic import atomic_write_text
from .html import STYLE, esc, fmt


def latest_runs(root: Path) -> dict[str, Path]:
    """The newest run directory (with a summary.json) of each experiment under ``root``."""
    found: dict[str, Path] = {}
    if not root.is_dir():
        return found
    for exp_dir in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "report"):
        runs = sorted(d for d in exp_dir.iterdir() if (d / "summary.json").is_file())
        if runs:
            found[exp_dir.name] = runs[-1]
    return found


def row_for(name: str, run_dir: Path | None, *, status: str | None = None,
            reason: str = "") -> dict[str, Any]:
    """A table row from a run's summary.json (or a skipped/failed marker)."""
    from ..experiments.registry import REGISTRY

    exp = REGISTRY.get(name)
    row: dict[str, Any] = {"experiment": name, "handout": exp.handout if exp else "",
                           "figure": None, "metric": None, "measured": None, "passed": None,
                           "status": status or "missing", "time_s": None, "run": run_dir,
                           "reason": reason}
    if exp is not None and exp.target is not None:
        row["figure"], row["metric"] = exp.target.value, exp.target.metric
    if run_dir is not None and (run_dir / "summary.json").is_file():
        summary = json.loads((run_dir / "summary.json").read_text())
        target = summary.get("target") or {}
        row.update(status=status or summary.get("status"), time_s=summary.get("wall_time_s"),
                   measured=target.get("measured"), passed=target.get("passed"))
        if summary.get("error") and not reason:
            row["reason"] = summary["error"]
    return row


def write_index(root: Path, rows: Sequence[Mapping[str, Any]], *, title: str = "",
                smoke: bool = False) -> Path:
    """Write ``root/report/index.html``: the table of experiments with links.

    With ``smoke`` the runs were cut short on purpose, so no pass/fail is claimed.
    """
    out_dir = root / "report"
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = ["<table><tr><th>experiment</th><th>handout</th><th>metric</th>"
             "<th>handout figure</th><th>measured</th><th>result</th><th>status</th>"
             "<th>time (s)</th><th>run</th></tr>"]
    for r in rows:
        verdict = {True: "<span class='pass'>pass</span>",
                   False: "<span class='fail'>not reached</span>", None: "—"}[r.get("passed")]
        if smoke and r.get("passed") is not None:
            verdict = "smoke run (not comparable)"
        link = "—"
        if r.get("run") is not None and (Path(r["run"]) / "report.html").is_file():
            rel = os.path.relpath(Path(r["run"]) / "report.html", out_dir)
            link = f"<a href='{esc(rel)}'>{esc(Path(r['run']).name)}</a>"
        status = esc(r.get("status"))
        if r.get("reason"):
            status += f"<br><small>{esc(r['reason'])}</small>"
        time_s = r.get("time_s")
        lines.append(
            f"<tr><td>{esc(r['experiment'])}</td><td>{esc(r.get('handout', ''))}</td>"
            f"<td>{esc(r.get('metric') or '—')}</td><td>{esc(r.get('figure') or '—')}</td>"
            f"<td>{esc(fmt(r['measured']) if r.get('measured') is not None else '—')}</td>"
            f"<td>{verdict}</td><td>{status}</td>"
            f"<td>{esc(f'{time_s:.1f}' if isinstance(time_s, (int, float)) else '—')}</td>"
            f"<td>{link}</td></tr>")
    lines.append("</table>")
    heading = title or "practica results"
    page = ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{esc(heading)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{esc(heading)}</h1><p>Handout figures are floors to reach; each row links "
            "to the run's page with its plots, config and environment. The handouts' "
            "questions are answered in <a href='../book/index.html'>the answer book</a> "
            "(<code>practica book --runs RUNS</code> puts these runs beside the reference "
            "results)."
            + (" These are smoke runs, cut to seconds to check that every experiment works "
               "end to end; run <code>practica reproduce --budget full</code> for the "
               "handouts' figures." if smoke else "") + "</p>"
            + "\n".join(lines) + "</body></html>\n")
    path = out_dir / "index.html"
    atomic_write_text(path, page)
    return path


def build_index(root: Path) -> Path:
    """``practica report``: index every experiment's latest run under ``root``."""
    rows = [row_for(name, run) for name, run in latest_runs(root).items()]
    return write_index(root, rows)
