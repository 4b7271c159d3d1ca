"""The calls an answer source may make, and what each puts on the page.

A source is Markdown; ``{{ ... }}`` calls fill in what comes from elsewhere, so no number
or figure from a run is ever typed into a page:

- ``{{ question("1.1 a)") }}`` — the heading (the handout's own number) and the question
  in one line, from ``questions/<handout>.toml``; ``status="partial"`` marks an answer
  that does not cover everything the question asks.
- ``{{ value("mlp-numpy", "test/accuracy") }}`` — a final metric of the experiment's
  reference run (and of the user's run beside it), with its provenance and, for the
  experiment's target metric, the handout's figure.
- ``{{ figure("mlp-numpy", "plots/accuracy.png", "caption") }}`` — a figure of the run
  (a ``*`` in the name matches, e.g. ``plots/samples_3_end_step*.png``).
- ``{{ text("textgen-lstm", "samples.txt", start="Samples", until="Beam", lines=12) }}`` —
  an excerpt of a text file the run wrote (from the line holding ``start`` to the one
  before ``until``, at most ``lines``).
- ``{{ code("practica/numpy_nn/layers.py", "Linear.backward") }}`` — the lines of a
  function or class in the package, with a link to the file.
- ``{{ command("practica run mlp-numpy") }}`` — a command to reproduce.
- ``{{ provenance("mlp-numpy") }}`` — the run's id, budget, seed, commit, date, wall time.

Every run call takes ``where={"mode": "freeze"}`` to pick, among an experiment's runs, the
one whose config has those values (two variants of one experiment, e.g. finetune/freeze).

An experiment with no run shows a visible "not yet run" box, never an old number.
"""

from __future__ import annotations

import ast
import os
import shutil
import statistics
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from ..errors import PracticaError
from .markdown import esc
from .questions import Handout, Question
from .records import RunIndex, RunRecord

PACKAGE = Path(__file__).resolve().parents[1]  # src/practica
#: Default tolerance when the reference has fewer than three seeds: this fraction of the
#: reference value (at least ABS_TOLERANCE), about the seed-to-seed spread of the runs
#: measured here (e.g. ±0.2 points of accuracy at 0.92, ±1 point at 0.49).
REL_TOLERANCE = 0.03
ABS_TOLERANCE = 0.01


@dataclass
class PageState:
    """What one page's rendering collected: questions answered, runs quoted, problems."""

    handout: Handout
    out_dir: Path
    answered: dict[str, str] = field(default_factory=dict)  # question id → status
    quoted: dict[tuple[str, str, str], RunRecord] = field(default_factory=dict)
    not_run: set[str] = field(default_factory=set)
    flagged: list[str] = field(default_factory=list)
    current: Question | None = None
    pieces: list[str] = field(default_factory=list)  # HTML kept out of Markdown's way

    def keep(self, html: str, block: bool = False) -> Markup:
        """A placeholder for ``html``: Markdown never sees (or re-escapes) the HTML, and
        :func:`restore` puts it back after rendering."""
        self.pieces.append(html)
        token = f"@@piece-{len(self.pieces) - 1}@@"
        return Markup(f"\n\n{token}\n\n" if block else token)

    def restore(self, rendered: str) -> str:
        for i, html in enumerate(self.pieces):
            token = f"@@piece-{i}@@"
            rendered = rendered.replace(f"<p>{token}</p>", html).replace(token, html)
        return rendered


def _number(value: Any, digits: int) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return esc(value)
    if isinstance(value, int):
        return f"{value:,}"
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 10 ** -digits):
        return f"{value:.{max(digits - 1, 1)}e}"
    return f"{value:.{digits}f}"


class Directives:
    """The template functions for one page (see the module docstring)."""

    def __init__(self, state: PageState, reference: RunIndex, yours: RunIndex | None) -> None:
        self.state = state
        self.reference = reference
        self.yours = yours

    def functions(self) -> dict[str, Callable[..., Any]]:
        return {"question": self.question, "value": self.value, "figure": self.figure,
                "text": self.text, "code": self.code, "command": self.command,
                "provenance": self.provenance, "seconds": self.seconds}

    # -- helpers ---------------------------------------------------------------------------
    def _experiment(self, name: str) -> Any:
        from ..experiments.registry import REGISTRY

        if name not in REGISTRY:
            raise PracticaError(f"answer {self._where()} names experiment {name!r}, which "
                                "does not exist (see `practica list`)")
        return REGISTRY[name]

    def _where(self) -> str:
        q = self.state.current
        return f"{self.state.handout.name} {q.id}" if q else self.state.handout.name

    def _runs(self, name: str, where: Mapping[str, Any] | None = None) -> list[RunRecord]:
        self._experiment(name)
        runs = [self.reference.best(name, where)]
        if self.yours is not None:
            runs.append(self.yours.best(name, where))
        found = [r for r in runs if r is not None]
        for r in found:
            self.state.quoted[(r.label, r.experiment, r.run_id)] = r
        return found

    def _not_run(self, name: str, what: str) -> Markup:
        self.state.not_run.add(name)
        return Markup(f"<span class='not-run'>not yet run — <code>practica run {esc(name)}"
                      f"</code> ({esc(what)})</span>")  # wrapped by the caller

    def _run_link(self, run: RunRecord) -> str:
        return f"runs/{run.label}/{run.experiment}/{run.run_id}/report.html"

    def _prov_title(self, run: RunRecord) -> str:
        return (f"{run.label}: {run.experiment} run {run.run_id}, {run.budget} budget, "
                f"seed {run.seed}, commit {run.commit}, {run.created}, {run.machine}")

    def _badge(self, run: RunRecord) -> str:
        text = "ref" if run.label == "reference" else "yours"
        if run.budget == "smoke":
            text += ", smoke"
        return (f"<a class='prov {run.label}' href='{esc(self._run_link(run))}' "
                f"title='{esc(self._prov_title(run))}'>{esc(text)}</a>")

    # -- the directives ---------------------------------------------------------------------
    def question(self, qid: str, status: str = "answered") -> Markup:
        if status not in ("answered", "partial"):
            raise PracticaError(f"{self.state.handout.name} {qid}: status must be 'answered' "
                                f"or 'partial', not {status!r}")
        q = self.state.handout.question(qid)
        if qid in self.state.answered:
            raise PracticaError(f"{self.state.handout.name}: question {qid!r} is answered twice")
        self.state.answered[qid] = status
        self.state.current = q
        kind = "" if q.kind == "graded" else f" <span class='kind'>{esc(q.kind)}</span>"
        partial = " <span class='partial'>partly answered</span>" if status == "partial" else ""
        return self.state.keep(f"<h2 id='{q.anchor}' class='question'>{esc(q.heading)}{kind}"
                               f"{partial}</h2>\n<p class='ask'>{esc(q.summary)}</p>",
                               block=True)

    def value(self, experiment: str, metric: str, digits: int = 4, *,
              percent: bool = False, where: Mapping[str, Any] | None = None) -> Markup:
        exp = self._experiment(experiment)
        runs = self._runs(experiment, where)
        if not runs:
            return self.state.keep(self._not_run(experiment, metric))
        parts = []
        ref_value = None
        for run in runs:
            value = run.metric(metric)
            if value is None:
                if run.label == "reference":
                    raise PracticaError(f"answer {self._where()}: the {experiment} run "
                                        f"{run.run_id} has no metric {metric!r} (it has: "
                                        f"{', '.join(sorted(run.summary.get('metrics', {})))})")
                parts.append(f"<span class='missing-metric'>yours: no {esc(metric)}</span>")
                continue
            shown = (f"{100 * value:.{max(digits - 2, 0)}f}%" if percent and
                     isinstance(value, float) else _number(value, digits))
            css = "value"
            if run.label == "reference":
                ref_value = value
                spread = self._over_seeds(experiment, metric, where, digits, percent)
                if spread is not None:
                    ref_value, shown = spread
            else:
                flag = self._flag(experiment, metric, ref_value, value, run, where)
                if flag:
                    css += " flagged"
                    shown += f" ⚠ {flag}"
                    self.state.flagged.append(f"{experiment} {metric}: {flag}")
            parts.append(f"<span class='{css}'>{shown}</span><sup>{self._badge(run)}</sup>")
        if exp.target is not None and exp.target.metric == metric:
            t = exp.target
            sign = "≥" if t.higher_is_better else "≤"
            # the project's own goals (an issue's, a tutorial's) are not the handout's
            whose = "goal" if any(w in t.source for w in ("issue", "tutorial", "CS231n")) \
                else "handout"
            parts.append(f"<span class='handout' title='{esc(t.source)}'>({whose} {sign} "
                         f"{t.value:g})</span>")
        return self.state.keep(" · ".join(parts))

    def _over_seeds(self, experiment: str, metric: str, where: Mapping[str, Any] | None,
                    digits: int, percent: bool) -> tuple[float, str] | None:
        """Mean ± standard deviation over the reference seeds of the quoted config, when
        there are at least two (each seed's run joins the page's table of runs)."""
        runs = self.reference.seeds(experiment, where)
        values = [r.metric(metric) for r in runs]
        if len(runs) < 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                    for v in values):
            return None
        for r in runs:
            self.state.quoted[(r.label, r.experiment, r.run_id)] = r
        mean, sd = statistics.fmean(values), statistics.stdev(values)
        each = ", ".join(f"seed {r.seed}: {_number(v, digits)}"
                         for r, v in zip(runs, values, strict=True))
        if percent:
            text = f"{100 * mean:.{max(digits - 2, 0)}f} ± {100 * sd:.{max(digits - 2, 0)}f}%"
        else:
            text = f"{_number(mean, digits)} ± {_number(sd, digits)}"
        return mean, (f"<span title='{esc(each)}'>{text}</span> <span class='seeds'>"
                      f"({len(runs)} seeds)</span>")

    def _flag(self, experiment: str, metric: str, ref: Any, yours: Any,
              run: RunRecord, where: Mapping[str, Any] | None) -> str | None:
        if run.budget == "smoke":
            return "smoke budget, not comparable"
        if not isinstance(ref, (int, float)) or not isinstance(yours, (int, float)):
            return None
        tol = self.reference.tolerance(experiment, metric, where)
        if tol is None:
            tol = max(REL_TOLERANCE * abs(float(ref)), ABS_TOLERANCE)
        diff = float(yours) - float(ref)
        return f"differs from the reference by {diff:+.3g} (tolerance {tol:.2g})" \
            if abs(diff) > tol else None

    def seconds(self, experiment: str, where: Mapping[str, Any] | None = None) -> Markup:
        """The wall time of the reference run (and yours), in minutes or seconds."""
        runs = self._runs(experiment, where)
        if not runs:
            return self.state.keep(self._not_run(experiment, "wall time"))
        out = []
        for run in runs:
            s = run.wall_time_s
            text = "?" if s is None else (f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min")
            out.append(f"<span class='value'>{text}</span><sup>{self._badge(run)}</sup>")
        return self.state.keep(" · ".join(out))

    def figure(self, experiment: str, file: str, caption: str, *,
               where: Mapping[str, Any] | None = None) -> Markup:
        runs = self._runs(experiment, where)
        if not runs:
            return self.state.keep("<div class='not-run box'>" + str(self._not_run(
                experiment, file)) + f"<br>{esc(caption)}</div>", block=True)
        cells = []
        for run in runs:
            src = run.file(file)
            if src is None:
                if run.label == "reference":
                    raise PracticaError(f"answer {self._where()}: the {experiment} run "
                                        f"{run.run_id} has no file {file!r}")
                cells.append("<figure class='missing'>yours: no such figure</figure>")
                continue
            rel = Path("figures") / run.label / experiment / run.run_id / file
            dest = self.state.out_dir / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
            label = "reference" if run.label == "reference" else "yours"
            cells.append(f"<figure><img src='{esc(rel.as_posix())}' alt='{esc(caption)}'>"
                         f"<figcaption>{label} {self._badge(run)}</figcaption></figure>")
        return self.state.keep(f"<div class='figure'><div class='cells'>{''.join(cells)}</div>"
                               f"<p class='caption'>{esc(caption)}</p></div>", block=True)

    def text(self, experiment: str, file: str, *, start: str | None = None,
             until: str | None = None, lines: int = 20,
             where: Mapping[str, Any] | None = None) -> Markup:
        runs = self._runs(experiment, where)
        if not runs:
            return self.state.keep("<div class='not-run box'>" + str(self._not_run(
                experiment, file)) + "</div>", block=True)
        blocks = []
        for run in runs:
            path = run.file(file)
            if path is None:
                if run.label == "reference":
                    raise PracticaError(f"answer {self._where()}: the {experiment} run "
                                        f"{run.run_id} has no file {file!r}")
                continue
            content = path.read_text(encoding="utf-8", errors="replace").splitlines()
            if start is not None:
                found = [i for i, line in enumerate(content) if start in line]
                if not found:
                    raise PracticaError(f"answer {self._where()}: no line with {start!r} in "
                                        f"{experiment}/{file}")
                content = content[found[0]:]
            if until is not None:
                stop = [i for i, line in enumerate(content) if i > 0 and until in line]
                content = content[:stop[0]] if stop else content
            excerpt = "\n".join(content[:lines]).rstrip()
            blocks.append(f"<div class='text'><div class='where'>{esc(file)} "
                          f"{self._badge(run)}</div><pre>{esc(excerpt)}</pre></div>")
        return self.state.keep("".join(blocks), block=True)

    def code(self, file: str, symbol: str | None = None, *,
             lines: tuple[int, int] | None = None) -> Markup:
        path = (PACKAGE.parent / file) if file.startswith("practica/") else PACKAGE.parent / \
            "practica" / file
        if not path.is_file():
            raise PracticaError(f"answer {self._where()}: no source file {file}")
        source = path.read_text(encoding="utf-8").splitlines()
        if symbol is not None:
            first, last = _symbol_lines(path, symbol)
        elif lines is not None:
            first, last = lines
        else:
            first, last = 1, len(source)
        excerpt = textwrap.dedent("\n".join(source[first - 1:last]))
        href = os.path.relpath(path, self.state.out_dir)
        shown = f"src/{path.relative_to(PACKAGE.parent).as_posix()}"
        what = f" — {esc(symbol)}" if symbol else ""
        return self.state.keep(f"<div class='code'><div class='where'><a href='{esc(href)}'>"
                               f"{esc(shown)}</a>{what}, lines {first}–{last}</div>"
                               f"<pre><code>{esc(excerpt)}</code></pre></div>", block=True)

    def command(self, text: str) -> Markup:
        return self.state.keep(f"<pre class='cmd'><code>{esc(text)}</code></pre>", block=True)

    def provenance(self, experiment: str, where: Mapping[str, Any] | None = None) -> Markup:
        runs = self._runs(experiment, where)
        if not runs:
            return self.state.keep(self._not_run(experiment, "no run"))
        rows = []
        for r in runs:
            wall = "?" if r.wall_time_s is None else f"{r.wall_time_s:.0f} s"
            rows.append(f"{r.label}: run <a href='{esc(self._run_link(r))}'>{esc(r.run_id)}</a>, "
                        f"{esc(r.budget)} budget, seed {esc(r.seed)}, commit {esc(r.commit)}, "
                        f"{esc(r.created)}, {esc(r.machine)}, {wall}")
        return self.state.keep("<span class='provenance'>" + "; ".join(rows) + "</span>")


def _symbol_lines(path: Path, symbol: str) -> tuple[int, int]:
    """First and last line of ``Class.method`` / ``function`` / ``Class`` in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes: list[ast.AST] = list(tree.body)
    node: ast.AST | None = None
    for part in symbol.split("."):
        node = next((n for n in nodes if isinstance(n, (ast.FunctionDef, ast.ClassDef,
                                                          ast.AsyncFunctionDef))
                     and n.name == part), None)
        if node is None:
            raise PracticaError(f"no {symbol!r} in {path.name} (a function or class)")
        nodes = list(getattr(node, "body", []))
    assert node is not None
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return first, node.end_lineno or node.lineno
