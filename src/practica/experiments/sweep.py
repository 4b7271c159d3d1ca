"""Sweeps: train several configs as sub-runs, pick the best by a validation metric."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..context import RunContext
from ..records.run import read_metrics
from ..report.html import esc, fmt
from ..report.plots import compare_curves
from .base import Experiment, child


def run_sweep(ctx: RunContext, points: Sequence[tuple[str, Experiment, Any]], *,
              select: str = "val/accuracy", report: Sequence[str] = ("test/accuracy",),
              curve_metric: str = "accuracy", curve_splits: Sequence[str] = ("val",),
              title: str = "") -> dict[str, float]:
    """Run each (label, experiment, config) as ``children/<label>``; return flat metrics.

    The result holds every point's ``select`` and ``report`` metrics as
    ``<label>/<metric>``, and the best point's metrics without prefix. The summary gets
    a ``sweep`` table; the report a comparison plot and an HTML table.
    """
    rows, curves = [], {}
    for label, experiment, config in points:
        summary = child(ctx, label, experiment, config)
        metrics = summary["metrics"]
        rows.append((label, metrics))
        curves[label] = read_metrics(ctx.run.path / "children" / label / "metrics.csv")
    best_label, best = max(rows, key=lambda r: r[1][select])
    out: dict[str, float] = {}
    for label, metrics in rows:
        for key in (select, *report):
            out[f"{label}/{key}"] = metrics[key]
    for key in (select, *report):
        out[key] = best[key]
    ctx.summary_extra["best"] = best_label
    ctx.summary_extra["sweep"] = {label: {k: m[k] for k in (select, *report)}
                                  for label, m in rows}
    compare_curves(curves, curve_metric, ctx.run.plots / f"sweep_{curve_metric}.png",
                   splits=curve_splits, title=title or f"sweep: {curve_metric}", zoom=True)
    header = "".join(f"<th>{esc(k)}</th>" for k in (select, *report))
    body = "".join(
        f"<tr><td>{esc(label)}{' (best)' if label == best_label else ''}</td>"
        + "".join(f"<td>{esc(fmt(m[k]))}</td>" for k in (select, *report)) + "</tr>"
        for label, m in rows)
    ctx.report_sections["Sweep"] = (f"<p>Selected by {esc(select)}.</p><table><tr><th>config"
                                    f"</th>{header}</tr>{body}</table>")
    ctx.standard_plots = False
    return out
