"""The per-run HTML page: summary next to the handout's figure, plots, config.

Every piece of text that comes from a run (config values, metric names, file names,
generated samples) is HTML-escaped; the page loads nothing from the network.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..records.atomic import atomic_write_text

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#222;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;
text-align:left}th{background:#f3f3f3}.pass{color:#0a7d2c;font-weight:600}
.fail{color:#b00020;font-weight:600}.plots{display:flex;flex-wrap:wrap;gap:1rem}
.plots figure{margin:0}.plots img{max-width:520px;border:1px solid #eee}
pre{background:#f7f7f7;padding:.8rem;overflow:auto;font-size:.85rem}
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def summary_table(summary: Mapping[str, Any]) -> str:
    """The target row (handout figure vs measured) and all final metrics."""
    parts = []
    target = summary.get("target")
    if target:
        passed = target.get("passed")
        verdict = ("<span class='pass'>pass</span>" if passed else
                   "<span class='fail'>does not reach the handout's figure</span>"
                   if passed is not None else "—")
        parts.append("<table><tr><th>metric</th><th>handout figure</th><th>measured</th>"
                     "<th>result</th><th>source</th></tr>")
        parts.append(f"<tr><td>{esc(target.get('metric'))}</td><td>{esc(target.get('value'))}"
                     f"</td><td>{esc(fmt(target.get('measured')))}</td><td>{verdict}</td>"
                     f"<td>{esc(target.get('source', ''))}</td></tr></table>")
    metrics = summary.get("metrics") or {}
    if metrics:
        parts.append("<table><tr><th>final metric</th><th>value</th></tr>")
        for k, v in metrics.items():
            parts.append(f"<tr><td>{esc(k)}</td><td>{esc(fmt(v))}</td></tr>")
        parts.append("</table>")
    per_class = summary.get("per_class_accuracy") or {}
    if per_class:
        parts.append("<table><tr><th>class</th><th>test accuracy</th></tr>")
        for k, v in per_class.items():
            parts.append(f"<tr><td>{esc(k)}</td><td>{esc(fmt(v))}</td></tr>")
        parts.append("</table>")
    return "\n".join(parts)


def images_section(run_dir: Path, folder: str = "plots") -> str:
    files = sorted((run_dir / folder).glob("*.png")) if (run_dir / folder).is_dir() else []
    if not files:
        return "<p>No plots.</p>"
    figs = [f"<figure><img src='{esc(folder + '/' + f.name)}' alt='{esc(f.stem)}'>"
            f"<figcaption>{esc(f.stem)}</figcaption></figure>" for f in files]
    return "<div class='plots'>" + "\n".join(figs) + "</div>"


def write_run_report(run_dir: Path, *, extra_sections: Mapping[str, str] | None = None) -> Path:
    """Write ``run_dir/report.html`` from config.json, summary.json and plots/.

    ``extra_sections`` maps a heading to already-escaped HTML (e.g. generated text).
    """
    run_dir = Path(run_dir)
    record = json.loads((run_dir / "config.json").read_text())
    summary_path = run_dir / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    name = record.get("experiment", run_dir.parent.name)
    status = summary.get("status", "incomplete")
    wall = summary.get("wall_time_s")
    body = [
        f"<h1>{esc(name)} <small>({esc(run_dir.name)})</small></h1>",
        f"<p>{esc(record.get('description', ''))}</p>",
        f"<p>Handout: {esc(record.get('handout', ''))}. Status: <b>{esc(status)}</b>"
        + (f", wall time {wall:.1f} s" if isinstance(wall, (int, float)) else "") + ".</p>",
        "<h2>Results</h2>", summary_table(summary) or "<p>No summary yet.</p>",
        "<h2>Plots</h2>", images_section(run_dir),
    ]
    for heading, content in (extra_sections or {}).items():
        body += [f"<h2>{esc(heading)}</h2>", content]
    body += ["<h2>Configuration</h2>",
             f"<pre>{esc(json.dumps(record.get('config', {}), indent=2))}</pre>",
             "<h2>Settings and environment</h2>",
             f"<pre>{esc(json.dumps({'settings': record.get('settings', {}), 'environment': record.get('environment', {})}, indent=2))}</pre>"]  # noqa: E501
    page = ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{esc(name)} — practica</title><style>{STYLE}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")
    out = run_dir / "report.html"
    atomic_write_text(out, page)
    return out
