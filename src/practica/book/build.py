"""Building the answer book: ``answers/<handout>.md`` → one HTML page per handout.

Each source is rendered by Jinja (the calls of :mod:`.directives` fill in numbers,
figures and code from the run records), then by Markdown with the math typeset as
MathML. The site is static and self-contained: figures and the quoted runs' report
pages are copied next to the pages.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2

from ..errors import PracticaError
from ..records.atomic import atomic_write_text
from .directives import Directives, PageState
from .markdown import esc, render_markdown
from .questions import HERE, Handout, handouts
from .records import RunIndex

ANSWERS = HERE / "answers"

STYLE = """
:root{--ink:#1d1d1f;--muted:#5f6368;--line:#e3e3e3;--ref:#0b57d0;--yours:#8430ce}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:var(--ink);
line-height:1.55}
main{max-width:980px;margin:0 auto;padding:1rem 1.5rem 4rem}
nav.top{background:#f6f8fa;border-bottom:1px solid var(--line);padding:.5rem 1.5rem;
font-size:.9rem}nav.top a{margin-right:1rem}
h1{font-size:1.7rem;margin-bottom:.2rem}
h2.question{font-size:1.25rem;margin-top:2.6rem;border-bottom:2px solid var(--line);
padding-bottom:.2rem}
h3{font-size:1.05rem;margin-top:1.4rem}
p.ask{color:var(--muted);font-style:italic;margin-top:.2rem}
.kind,.partial{font-size:.75rem;font-weight:500;border-radius:4px;padding:.05rem .4rem;
margin-left:.4rem;vertical-align:middle}.kind{background:#eef3fd;color:#174ea6}
.partial{background:#fff4e5;color:#8a4b00}
.value{font-weight:600;font-variant-numeric:tabular-nums}
.value.flagged{color:#b3261e}
sup a.prov{font-size:.7rem;text-decoration:none;margin-left:.1rem}
a.prov.reference{color:var(--ref)}a.prov.yours{color:var(--yours)}
.handout{color:var(--muted);font-size:.9rem;margin-left:.2rem}
.not-run{background:#fff8e1;border:1px dashed #c69500;border-radius:4px;padding:.05rem .35rem;
font-size:.9rem}div.not-run.box{display:block;padding:.8rem;margin:1rem 0}
.seeds{color:#666;font-size:.85rem}
.figure{margin:1.2rem 0}.figure .cells{display:flex;gap:1rem;flex-wrap:wrap}
.figure figure{margin:0;flex:1 1 420px;max-width:100%}
.figure img{max-width:100%;border:1px solid var(--line)}
.figure figcaption{font-size:.8rem;color:var(--muted)}
.figure .caption{font-size:.9rem;color:var(--muted);margin-top:.3rem}
pre{background:#f6f8fa;padding:.7rem .9rem;overflow:auto;font-size:.82rem;border-radius:4px}
pre.cmd{background:#202124;color:#e8eaed}
.code .where,.text .where{font-size:.8rem;color:var(--muted);margin-bottom:-.4rem}
table{border-collapse:collapse;margin:.8rem 0;font-size:.92rem}
td,th{border:1px solid var(--line);padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
math[display=block]{margin:.8rem 0}
.provenance{font-size:.85rem;color:var(--muted)}
.legend{font-size:.85rem;color:var(--muted);border-left:3px solid var(--line);
padding-left:.7rem}
.toc{columns:2;font-size:.9rem}
"""


@dataclass
class PageResult:
    handout: Handout
    path: Path
    state: PageState


def _page(title: str, body: str, nav: str) -> str:
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
            f"<nav class='top'>{nav}</nav><main>{body}</main></body></html>\n")


def _nav(books: Sequence[Handout]) -> str:
    links = ["<a href='index.html'>practica book</a>"]
    links += [f"<a href='{h.name}.html' title='{esc(h.title)}'>{esc(h.title.split(' — ')[0])}"
              "</a>" for h in books]
    return "".join(links)


def _environment(answers: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(answers)), autoescape=False,
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
        comment_start_string="{##", comment_end_string="##}")


def render_page(handout: Handout, out_dir: Path, reference: RunIndex,
                yours: RunIndex | None, nav: str, answers: Path = ANSWERS) -> PageResult:
    source = answers / f"{handout.name}.md"
    if not source.is_file():
        raise PracticaError(f"no answer source for {handout.name} (expected {source})")
    state = PageState(handout, out_dir)
    directives = Directives(state, reference, yours)
    env = _environment(answers)
    try:
        template = env.get_template(source.name)
        markdown = template.render(**directives.functions())
    except jinja2.TemplateSyntaxError as exc:
        raise PracticaError(f"{source.name} line {exc.lineno}: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise PracticaError(f"{source.name}: {exc.message}") from None
    body = state.restore(render_markdown(markdown))
    toc = "".join(f"<li><a href='#{q.anchor}'>{esc(q.heading)}</a>"
                  f"{'' if q.id in state.answered else ' (missing)'}</li>"
                  for q in handout.questions)
    runs = sorted(state.quoted.values(), key=lambda r: (r.label, r.experiment))
    rows = "".join(
        f"<tr><td>{esc(r.label)}</td><td>{esc(r.experiment)}</td><td><a href='runs/{r.label}/"
        f"{r.experiment}/{r.run_id}/report.html'>{esc(r.run_id)}</a></td><td>{esc(r.budget)}"
        f"</td><td>{esc(r.seed)}</td><td>{esc(r.commit)}</td><td>{esc(r.created)}</td>"
        f"<td>{esc(r.machine)}</td><td>{'' if r.wall_time_s is None else f'{r.wall_time_s:.0f} s'}"
        "</td></tr>" for r in runs)
    legend = ("<p class='legend'>Numbers and figures come from run records: "
              "<sup><a class='prov reference'>ref</a></sup> the reference results shipped "
              "with practica (full-budget runs on a 2-core CPU)"
              + (", <sup><a class='prov yours'>yours</a></sup> your runs, flagged ⚠ where "
                 "they differ from the reference by more than seed noise" if yours else "")
              + ". Hover a badge for its provenance; the table at the end lists every run "
              "quoted. The handout's questions are quoted in one line each.</p>")
    header = (f"<h1>{esc(handout.title)}</h1>{legend}"
              f"<details open><summary>Questions</summary><ul class='toc'>{toc}</ul></details>")
    footer = ("<h2 id='runs'>Runs quoted on this page</h2><table><tr><th>source</th>"
              "<th>experiment</th><th>run</th><th>budget</th><th>seed</th><th>commit</th>"
              "<th>date</th><th>machine</th><th>wall time</th></tr>" + rows + "</table>"
              if runs else "")
    path = out_dir / f"{handout.name}.html"
    atomic_write_text(path, _page(f"{handout.title} — practica book", header + body + footer,
                                  nav))
    return PageResult(handout, path, state)


def _copy_run_pages(results: Sequence[PageResult], out_dir: Path) -> None:
    """Copy each quoted run's report.html and plots next to the pages (self-contained)."""
    done = set()
    for result in results:
        for run in result.state.quoted.values():
            key = (run.label, run.experiment, run.run_id)
            if key in done:
                continue
            done.add(key)
            dest = out_dir / "runs" / run.label / run.experiment / run.run_id
            dest.mkdir(parents=True, exist_ok=True)
            report = run.path / "report.html"
            if report.is_file():
                shutil.copyfile(report, dest / "report.html")
            else:
                atomic_write_text(dest / "report.html", _page(
                    run.experiment, f"<h1>{esc(run.experiment)}</h1><p>This run has no "
                    "report page.</p>", ""))
            for plot in (run.path / "plots").glob("*.png") if (run.path / "plots").is_dir() \
                    else ():
                (dest / "plots").mkdir(exist_ok=True)
                shutil.copyfile(plot, dest / "plots" / plot.name)


def coverage_rows(results: Sequence[PageResult]) -> list[dict[str, object]]:
    """Per handout: graded questions answered / partial / missing, and optional ones."""
    rows = []
    for r in results:
        graded = [q for q in r.handout.questions if q.graded]
        optional = [q for q in r.handout.questions if not q.graded]
        status = r.state.answered
        rows.append({
            "handout": r.handout.name,
            "graded": len(graded),
            "answered": sum(status.get(q.id) == "answered" for q in graded),
            "partial": sum(status.get(q.id) == "partial" for q in graded),
            "missing": [q.id for q in graded if q.id not in status],
            "partial_ids": [q.id for q in graded if status.get(q.id) == "partial"],
            "optional": len(optional),
            "optional_answered": sum(q.id in status for q in optional),
            "not_run": sorted(r.state.not_run),
            "flagged": list(r.state.flagged),
        })
    return rows


def build_book(out_dir: Path, reference: Path | None, runs: Path | None = None,
               only: str | None = None, sources: Path = HERE) -> list[PageResult]:
    """Build the index and the handouts' pages into ``out_dir``; return what each held.

    ``sources`` holds ``questions/*.toml`` and ``answers/*.md`` (the package's own by
    default; tests point it at small ones)."""
    books = handouts(sources / "questions")
    if only is not None:
        names = [h.name for h in books]
        if only not in names:
            raise PracticaError(f"unknown handout {only!r}; choose one of {', '.join(names)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in ("figures", "runs"):  # figures of an earlier build must not linger
        if (out_dir / old).is_dir():
            shutil.rmtree(out_dir / old)
    reference_index = RunIndex(reference, "reference")
    yours = RunIndex(runs, "yours") if runs is not None else None
    nav = _nav(books)
    results = [render_page(h, out_dir, reference_index, yours, nav, sources / "answers")
               for h in books if only is None or h.name == only]
    _copy_run_pages(results, out_dir)
    write_index(out_dir, books, coverage_rows(results), reference, runs, nav)
    return results


def write_index(out_dir: Path, books: Sequence[Handout], coverage: list[dict[str, object]],
                reference: Path | None, runs: Path | None, nav: str) -> Path:
    by_name = {row["handout"]: row for row in coverage}
    items = []
    for h in books:
        row = by_name.get(h.name)
        if row is None:
            items.append(f"<tr><td>{esc(h.title)}</td><td colspan='3'>not built</td></tr>")
            continue
        items.append(f"<tr><td><a href='{h.name}.html'>{esc(h.title)}</a></td>"
                     f"<td>{row['answered']}/{row['graded']}</td><td>{row['partial']}</td>"
                     f"<td>{row['optional_answered']}/{row['optional']}</td>"
                     f"<td>{len(row['not_run'])}</td></tr>")  # type: ignore[arg-type]
    where = "the reference results shipped with practica" if reference else "no reference"
    if runs:
        where += f", and your runs in <code>{esc(runs)}</code> beside them"
    body = (
        "<h1>practica — the answer book</h1>"
        "<p>Every question of the five handouts, answered in the handout's order: the "
        "derivation, the code that implements it, and the numbers and figures of real runs "
        f"({where}). Built {dt.date.today().isoformat()} by <code>practica book</code>.</p>"
        "<table><tr><th>handout</th><th>graded questions answered</th><th>partly</th>"
        "<th>optional answered</th><th>experiments not yet run</th></tr>"
        + "".join(items) + "</table>"
        "<p>Rebuild with your own runs beside the reference: <code>practica book --runs runs"
        "</code>. Each run's own page is linked from its badge.</p>")
    path = out_dir / "index.html"
    atomic_write_text(path, _page("practica — the answer book", body, nav))
    return path
