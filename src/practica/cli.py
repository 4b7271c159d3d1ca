"""The ``practica`` command: argument parsing and printing only.

    practica list                      experiments, handout references, targets, data found
    practica show NAME                 an experiment's config keys, defaults and help
    practica run NAME [--set k=v ...]  run with the handout's defaults (overrides optional)
    practica resume RUN_DIR            continue an interrupted run from its checkpoint
    practica reproduce [--budget smoke|full]  every experiment, then the results index
    practica report [RUNS_ROOT]        rebuild the results index of a runs folder
    practica gradcheck                 gradient-check the NumPy engine, one row per module
    practica data status|verify|fetch  where the data sets are and whether they are valid
    practica generate RUN_DIR --prompt TEXT   continue a prompt with a trained textgen-lstm
    practica explain-weights SNAPSHOT --after ':'   min-char-rnn weights behind a behaviour
    practica shapes SPEC_OR_MODEL      per-layer output size, receptive field, params, MACs
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .errors import PracticaError, Terminated, TrainingDiverged


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``practica: error: ...``) and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"practica: error: {message} (see `{self.prog} --help`)\n")


#: The run directory the current command works in (named in the Ctrl-C message).
_current_run: list[str] = []


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _announce(message: str) -> None:
    """``_say`` that also remembers the run directory a message names."""
    for prefix in ("run directory: ", "resuming "):
        if message.startswith(prefix):
            _current_run[:] = [message.removeprefix(prefix)]
    _say(message)


def _count(low: int, high: int | None = None):
    """An argparse type: an integer in [low, high]."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {value}")
        return value
    return parse


def _add_run_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("run settings (shared by every experiment)")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    g.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                   help="where to train (default: CUDA if available, else CPU)")
    g.add_argument("--amp", default=None, choices=("none", "bf16", "fp16"),
                   help="mixed precision autocast (bf16 works on CPU; fp16 needs CUDA); "
                   "default: the experiment's (usually none)")
    g.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None,
                   help="use the channels_last memory format for 4-D tensors "
                   "(default: the experiment's)")
    g.add_argument("--no-progress", action="store_true", help="no progress bars")
    g.add_argument("--data-dir", help="folder with the data sets (else PRACTICA_DATA, "
                   "else the cache ~/.cache/practica)")
    g.add_argument("--offline", action="store_true", help="never try to download data")
    g.add_argument("--runs-dir", help="root of run directories (else PRACTICA_RUNS, else ./runs)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="practica", description="The classic deep-learning curriculum: "
                     "every handout experiment, runnable by one command.")
    parser.add_argument("--version", action="version", version=f"practica {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("list", help="list the experiments")
    p.add_argument("--markdown", action="store_true", help="print the README's table")
    p.add_argument("--data-dir", help="folder with the data sets")

    p = sub.add_parser("show", help="show an experiment's config keys and defaults")
    p.add_argument("name")

    p = sub.add_parser("run", help="run an experiment")
    p.add_argument("name", help="experiment name (see `practica list`)")
    p.add_argument("--config", metavar="FILE.toml", help="TOML file of config overrides")
    p.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                   help="override one config value (repeatable), e.g. --set lr=0.01")
    p.add_argument("--smoke", action="store_true", help="use the short smoke-test budget")
    _add_run_options(p)

    p = sub.add_parser("resume", help="continue an interrupted run from its last checkpoint")
    p.add_argument("run_dir")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), help="override the device")

    p = sub.add_parser("reproduce", help="run every experiment and build the results report")
    p.add_argument("--budget", choices=("smoke", "full"), default="smoke",
                   help="smoke: minutes for the whole suite; full: the handouts' settings")
    p.add_argument("--only", nargs="+", metavar="NAME", default=[],
                   help="run only these experiments")
    p.add_argument("--jobs", type=_count(1, 64), default=1, help="experiments run side by "
                   "side, each in its own process with cores/jobs threads (default 1)")
    p.add_argument("--plan", action="store_true", help="print each experiment's expected "
                   "wall time on the reference machine and the total; run nothing")
    p.add_argument("--handouts-only", action="store_true", help="leave out the experiments "
                   "beyond the handouts (tuned variants, the speedrun)")
    _add_run_options(p)

    p = sub.add_parser("report", help="build the results index of a runs folder")
    p.add_argument("runs_root", nargs="?", help="runs folder (default: --runs-dir logic)")

    p = sub.add_parser("book", help="build the answer book: every handout question answered, "
                       "with the numbers and figures of the reference runs (and yours)")
    p.add_argument("--runs", metavar="DIR", help="your runs folder, shown beside the reference")
    p.add_argument("--out", metavar="DIR", help="where to write the site (default runs/book)")
    p.add_argument("--handout", metavar="NAME", help="build one handout's page only")
    p.add_argument("--reference", metavar="DIR", help="reference results (default: the "
                   "results/ folder shipped with practica, or PRACTICA_RESULTS)")
    p.add_argument("--coverage", action="store_true", help="also print which questions are "
                   "answered, partly answered or missing")

    p = sub.add_parser("check", help="hold your implementation of a handout's pieces (in its "
                       "starter-code interface) against the reference")
    p.add_argument("handout", help="the handout, e.g. eecs545-hw4")
    p.add_argument("folder", help="the folder holding your files (e.g. layers.py)")
    p.add_argument("--only", nargs="+", metavar="NAME", help="check only these pieces")
    p.add_argument("--json", metavar="FILE", help="also write the verdicts as JSON (- for "
                   "standard output)")
    p.add_argument("--timeout", type=float, default=60.0,
                   help="seconds allowed per piece (default 60)")

    p = sub.add_parser("results", help="export full-budget runs as reference results")
    p.add_argument("action", choices=("export",))
    p.add_argument("runs_root", help="the runs folder to export from")
    p.add_argument("--out", default="results", help="the reference folder (default results/)")
    p.add_argument("--include-smoke", action="store_true", help="export smoke-budget runs too")

    p = sub.add_parser("gradcheck", help="finite-difference check of every NumPy module/model")
    p.add_argument("--seed", type=int, default=0, help="seed of the random test points")

    p = sub.add_parser("data", help="find, verify or download the data sets")
    p.add_argument("action", choices=("status", "verify", "fetch"))
    p.add_argument("names", nargs="*", help="data sets, or all (status and verify: all by "
                   "default; fetch: name them or say all)")
    p.add_argument("--data-dir", help="folder with the data sets")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--allow-modified", action="store_true", help="verify: accept files "
                   "that read correctly but whose checksums differ from the official ones "
                   "(e.g. a re-ordered test batch)")
    p.add_argument("--offline", action="store_true", help="fetch: never touch the network "
                   "(only files already in the cache are used)")
    p.add_argument("--tweets-size", metavar="N|full", help="fetch tweets: 'full' (all 1.6 M "
                   "training tweets and the 359 hand-labelled test tweets) or an even number "
                   "of tweets, half of each sentiment, split 80/20 into train/test "
                   "(default 100000)")
    p.add_argument("--seed", type=int, default=0,
                   help="fetch tweets: seed of the subset and of the order (default 0)")

    p = sub.add_parser("generate", help="continue a prompt with a trained textgen-lstm run")
    p.add_argument("run_dir", help="a textgen-lstm run directory (or its model.pt)")
    p.add_argument("--prompt", default="\n", help="text to continue (default: a newline)")
    p.add_argument("--length", type=_count(1), default=200, help="characters to generate")
    p.add_argument("--temperature", type=float, default=1.0,
                   help="T in softmax(logits / T); 0 is greedy (default 1)")
    p.add_argument("--top-k", type=_count(0), default=0,
                   help="sample from the k likeliest only (0: all)")
    p.add_argument("--beam", type=_count(0), default=0,
                   help="beam search with this width instead (0: sample)")
    p.add_argument("--seed", type=int, default=0, help="random seed")

    p = sub.add_parser("explain-weights", help="the min-char-rnn weights behind a behaviour")
    p.add_argument("snapshot", help="a min-char-rnn .npz snapshot (char-rnn-snapshot.npz)")
    p.add_argument("--after", default=":", help="the trigger character (\\n for newline)")
    p.add_argument("--targets", default="\\n\\s", help="characters the model emits after "
                   "it (\\n newline, \\s space; default both)")
    p.add_argument("--corpus", help="text for the contexts (default: shakespeare_train.txt)")
    p.add_argument("--data-dir", help="folder with the data sets")
    p.add_argument("--top", type=_count(1, 1000), default=5,
                   help="hidden units to name and ablate (at most the hidden size)")

    p = sub.add_parser("shapes", help="per-layer output size, receptive field, parameters "
                       "and MACs of a TOML layer spec or a model")
    p.add_argument("target", help="a TOML spec (e.g. examples/waterloo-a5-cnn.toml) or a "
                   "model: vgg11, convnet-vgg, convnet-preact, resnet18")
    p.add_argument("--same-size", action="store_true", help="assume every conv keeps its "
                   "input's height and width (Waterloo A5 §1 question 4)")
    p.add_argument("--input", metavar="C,H,W", help="input shape (default: the spec's or "
                   "the model's)")
    return parser


def cmd_list(args: argparse.Namespace) -> int:
    from .data import DATASETS
    from .experiments.registry import REGISTRY

    found = {name: info.locate(args.data_dir) for name, info in DATASETS.items()}
    if args.markdown:
        print("| experiment | handout | what it reproduces | handout figure | data |")
        print("|---|---|---|---|---|")
        for e in REGISTRY.values():
            target = f"{e.target.metric} {'≥' if e.target.higher_is_better else '≤'} " \
                     f"{e.target.value}" if e.target else "—"
            print(f"| `{e.name}` | {e.handout} | {e.description} | {target} | "
                  f"{', '.join(e.datasets) or 'none'} |")
        return 0
    for e in REGISTRY.values():
        data = ", ".join(f"{d} ({'found' if found.get(d) else 'missing'})" for d in e.datasets)
        target = (f"{e.target.metric} {'≥' if e.target.higher_is_better else '≤'} "
                  f"{e.target.value}") if e.target else "no figure"
        print(f"{e.name}\n    {e.description}\n    handout: {e.handout}\n"
              f"    target: {target}\n    data: {data or 'none'}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from .config import describe_fields
    from .experiments.registry import get

    e = get(args.name)
    config = e.default_config()
    print(f"{e.name}: {e.description}\nhandout: {e.handout}\n")
    for name, tp, _default, help_text in describe_fields(e.config_cls):
        value = getattr(config, name)
        print(f"  {name:<16} {tp:<12} {value!s:<22} {help_text}")
    if e.settings:
        print("\ndefault settings: " + ", ".join(f"{k}={v}" for k, v in e.settings.items()))
    if e.smoke:
        smoke = ", ".join(f"{k}={v}" for k, v in e.smoke.items())
        print(f"\nsmoke budget (--smoke): {smoke}")
    return 0


def _settings(args: argparse.Namespace):
    from .context import Settings

    return Settings(seed=args.seed, device=args.device, amp=args.amp,
                    channels_last=args.channels_last, progress=_progress(args),
                    data_dir=args.data_dir, offline=args.offline)


def _progress(args: argparse.Namespace) -> bool:
    return not getattr(args, "no_progress", False) and sys.stderr.isatty()


def _report_run(run) -> None:
    summary = run.summary() or {}
    target = summary.get("target") or {}
    metrics = summary.get("metrics", {})
    shown = {k: v for k, v in metrics.items() if "/" in k and k.count("/") == 1}
    line = ", ".join(f"{k} {v:.4f}" for k, v in shown.items() if isinstance(v, float))
    _say(f"finished: {line}" if line else "finished")
    if target:
        verdict = {True: "reaches", False: "does not reach", None: "cannot be compared with"}[
            target.get("passed")]
        measured = target.get("measured")
        m = f"{measured:.4f}" if isinstance(measured, float) else measured
        _say(f"{target['metric']} {m} {verdict} the handout's figure {target['value']}")
    _say(f"report: {run.path / 'report.html'}")


def cmd_run(args: argparse.Namespace) -> int:
    from .experiments.base import start
    from .experiments.registry import get

    experiment = get(args.name)
    config = experiment.resolve_config(args.config, args.set, smoke=args.smoke)
    settings = _settings(args)
    run = start(experiment, config, settings, args.runs_dir, announce=_announce,
                budget="smoke" if args.smoke else None)
    _report_run(run)
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    from .experiments.base import resume

    run = resume(args.run_dir, progress=_progress(args), device=args.device,
                 announce=_announce)
    _report_run(run)
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from .experiments.registry import REGISTRY, get
    from .reproduce import expected_seconds, format_plan, reproduce, reproduce_parallel

    names = [get(n).name for n in args.only] if args.only else list(REGISTRY)
    if args.handouts_only:
        names = [n for n in names if not get(n).beyond]
    if args.plan:
        print(format_plan(expected_seconds(names, args.budget), args.jobs, args.budget,
                          beyond={n for n in names if get(n).beyond}))
        return 0
    if args.jobs > 1:
        index, rows = reproduce_parallel(args.budget, names, _settings(args), args.jobs,
                                         args.runs_dir, say=_say)
    else:
        index, rows = reproduce(args.budget, names, _settings(args), args.runs_dir,
                                say=_say)
    failed = [r["experiment"] for r in rows if r["status"] == "failed"]
    skipped = [r["experiment"] for r in rows if r["status"] == "skipped"]
    _say(f"{len(rows) - len(failed) - len(skipped)} completed, {len(failed)} failed, "
         f"{len(skipped)} skipped")
    _say(f"report: {index}")
    from .book import build_book
    from .book.reference import default_reference

    root = index.parent.parent
    build_book(root / "book", default_reference(), root)
    _say(f"book: {root / 'book' / 'index.html'} (the reference results, your runs beside them)")
    return 1 if failed else 0


def cmd_report(args: argparse.Namespace) -> int:
    from .experiments.base import runs_root
    from .report.index import build_index

    root = runs_root(args.runs_root)
    if not root.is_dir():
        raise PracticaError(f"no runs folder at {root}")
    _say(f"report: {build_index(root)}")
    from .book import build_book
    from .book.reference import default_reference

    build_book(root / "book", default_reference(), root)
    _say(f"book: {root / 'book' / 'index.html'}")
    return 0


def cmd_book(args: argparse.Namespace) -> int:
    import time

    from .book import build_book, coverage_rows
    from .book.reference import default_reference
    from .experiments.base import runs_root

    started = time.perf_counter()
    reference = Path(args.reference) if args.reference else default_reference()
    if reference is not None and not reference.is_dir():
        raise PracticaError(f"no reference results at {reference}")
    runs = Path(args.runs) if args.runs else None
    if runs is not None and not runs.is_dir():
        raise PracticaError(f"no runs folder at {runs}")
    out = Path(args.out) if args.out else runs_root() / "book"
    results = build_book(out, reference, runs, args.handout)
    rows = coverage_rows(results)
    if args.coverage:
        print(format_coverage(rows))
    graded = sum(int(r["graded"]) for r in rows)  # type: ignore[call-overload]
    answered = sum(int(r["answered"]) for r in rows)  # type: ignore[call-overload]
    _say(f"book: {out / 'index.html'} ({len(results)} page(s), {answered}/{graded} graded "
         f"questions answered, {time.perf_counter() - started:.1f} s)")
    return 0


def format_coverage(rows: list[dict]) -> str:
    """The coverage table printed by ``practica book --coverage``."""
    lines = [f"{'handout':<22} {'graded':>6} {'answered':>8} {'partial':>7} {'missing':>7} "
             f"{'optional':>8}", "-" * 64]
    for r in rows:
        lines.append(f"{r['handout']:<22} {r['graded']:>6} {r['answered']:>8} {r['partial']:>7}"
                     f" {len(r['missing']):>7} {r['optional_answered']:>4}/{r['optional']:<3}")
    total = {k: sum(int(r[k]) for r in rows) for k in ("graded", "answered", "partial",
                                                       "optional", "optional_answered")}
    missing = sum(len(r["missing"]) for r in rows)
    lines += ["-" * 64, f"{'total':<22} {total['graded']:>6} {total['answered']:>8} "
              f"{total['partial']:>7} {missing:>7} {total['optional_answered']:>4}/"
              f"{total['optional']:<3}"]
    for r in rows:
        for key, label in (("missing", "missing"), ("partial_ids", "partly answered"),
                           ("not_run", "experiments not yet run")):
            if r[key]:
                lines.append(f"{r['handout']}: {label}: {', '.join(r[key])}")
        for flag in r["flagged"]:
            lines.append(f"{r['handout']}: flagged: {flag}")
    return "\n".join(lines)


def cmd_check(args: argparse.Namespace) -> int:
    from .check import format_verdicts, run_checks, verdicts_json

    verdicts = run_checks(args.handout, Path(args.folder), args.only, args.timeout)
    if args.json == "-":
        sys.stdout.write(verdicts_json(verdicts))
    else:
        print(format_verdicts(verdicts))
        if args.json:
            Path(args.json).write_text(verdicts_json(verdicts), encoding="utf-8")
    return 0 if all(v.status == "PASS" for v in verdicts) else 1


def cmd_results(args: argparse.Namespace) -> int:
    from .book.reference import export_results

    runs = Path(args.runs_root)
    if not runs.is_dir():
        raise PracticaError(f"no runs folder at {runs}")
    out = Path(args.out)
    exported = export_results(runs, out, include_smoke=args.include_smoke)
    for run in exported:
        _say(f"{run.experiment}: {run.run_id} ({run.budget} budget)")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    _say(f"results: {len(exported)} run(s) in {out} ({size / 1e6:.1f} MB)")
    return 0


def cmd_gradcheck(args: argparse.Namespace) -> int:
    from .numpy_nn import check_all, format_table

    rows = check_all(seed=args.seed)
    print(format_table(rows))
    failed = [r.name for r in rows if not r.passed]
    print(f"gradient check failed for: {', '.join(failed)}" if failed
          else f"all {len(rows)} gradient checks are within tolerance")
    return 1 if failed else 0


def cmd_data(args: argparse.Namespace) -> int:
    from .data import DATASETS
    from .data.sources import SOURCES, checksum_kind
    from .data.store import data_roots

    if args.action == "fetch" and not args.names:
        raise PracticaError(f"name the data sets to fetch, or all: practica data fetch NAME … "
                            f"| all (known: {', '.join(DATASETS)})")
    names = list(DATASETS) if not args.names or args.names == ["all"] else args.names
    unknown = [n for n in names if n not in DATASETS]
    if unknown:
        raise PracticaError(f"unknown data set(s) {', '.join(unknown)}; "
                            f"known: {', '.join(DATASETS)} (or all)")
    if args.action == "fetch":
        return _data_fetch(args, names)
    status = 0
    if args.action == "status":
        print("data roots searched: " + ", ".join(str(r) for r in data_roots(args.data_dir)))
    for name in names:
        info = DATASETS[name]
        where = info.locate(args.data_dir)
        kind = checksum_kind(name)
        if args.action == "status":
            state = f"found: {where}" if where else f"missing — {SOURCES[name].command()}"
            print(f"{name:<18} {state}  [checksum: {kind}]")
            continue
        if where is None:
            print(f"{name}: missing — {SOURCES[name].command()}")
            status = 1
            continue
        report = info.verify(where)
        modified = report.valid and report.modified and not args.allow_modified
        state = ("MODIFIED" if modified else "valid (modified copy accepted)"
                 if report.valid and report.modified else
                 "valid" if report.valid else "INVALID")
        print(f"{name}: {state} ({where})")
        print(f"    checksum kind: {kind}")
        for line in report.lines:
            print(f"    {line}")
        if modified:
            print(f"    not the official files ({', '.join(report.modified)}); "
                  "accept them with --allow-modified")
        status |= 0 if report.valid and not modified else 1
    return status


def _data_fetch(args: argparse.Namespace, names: list[str]) -> int:
    from .data.fetch import FAILED, fetch, fetch_many, format_table
    from .data.sentiment140 import parse_size
    from .data.sources import FetchOptions, format_size

    options = FetchOptions(tweets_size=parse_size(args.tweets_size), seed=args.seed,
                           tweets_explicit=args.tweets_size is not None)
    kwargs = {"data_dir": args.data_dir, "offline": args.offline,
              "progress": _progress(args), "options": options}
    if len(names) == 1 and args.names != ["all"]:
        outcome = fetch(names[0], **kwargs)
        size = f", {format_size(outcome.size)} on disk" if outcome.size else ""
        print(f"{outcome.name}: {outcome.state}{size} — {outcome.detail}")
        return 0
    outcomes = fetch_many(names, **kwargs)
    print(format_table(outcomes))
    return 1 if any(o.state == FAILED for o in outcomes) else 0


def cmd_generate(args: argparse.Namespace) -> int:
    from .text.lstm import generate_text

    print(generate_text(args.run_dir, args.prompt, args.length, temperature=args.temperature,
                        top_k=args.top_k, seed=args.seed, beam=args.beam))
    return 0


def cmd_explain_weights(args: argparse.Namespace) -> int:
    from .text.explain import explain_snapshot

    print(explain_snapshot(args.snapshot, args.after, args.targets, corpus=args.corpus,
                           data_dir=args.data_dir, top=args.top))
    return 0


def cmd_shapes(args: argparse.Namespace) -> int:
    from .shapes import SpecError, rows_for, table

    shape = None
    if args.input:
        try:
            shape = tuple(int(v) for v in args.input.replace("x", ",").split(","))
        except ValueError:
            shape = ()
        if len(shape) != 3 or min(shape) <= 0:
            raise SpecError(f"--input expects C,H,W (three positive integers), got "
                            f"{args.input!r}")
    print(table(rows_for(args.target, same_size=args.same_size, input_shape=shape)))
    return 0


COMMANDS = {"list": cmd_list, "show": cmd_show, "run": cmd_run, "resume": cmd_resume,
            "reproduce": cmd_reproduce, "report": cmd_report, "gradcheck": cmd_gradcheck,
            "data": cmd_data, "generate": cmd_generate, "explain-weights": cmd_explain_weights,
            "shapes": cmd_shapes, "book": cmd_book, "results": cmd_results,
            "check": cmd_check}


def os_error_message(exc: OSError) -> str:
    """One line for an operating-system error: the file, what happened, what to do."""
    import errno

    where = f"{exc.filename}: " if exc.filename else ""
    what = exc.strerror or str(exc)
    hints = {errno.ENOSPC: "free some disk space and resume the run",
             errno.EDQUOT: "free some disk space and resume the run",
             errno.EROFS: "choose a writable folder (--runs-dir, PRACTICA_CACHE)",
             errno.EACCES: "choose a folder you can write to (--runs-dir, PRACTICA_CACHE)",
             errno.ENOTDIR: "a file stands where a folder is needed; choose another path",
             errno.EISDIR: "a folder stands where a file is needed; give a file"}
    hint = hints.get(exc.errno or -1, "set PRACTICA_DEBUG=1 for the traceback")
    return f"{where}{what}; {hint}"


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        # SIGTERM ends a run like Ctrl-C: its summary and wall time so far are written
        previous = signal.signal(signal.SIGTERM, _terminate)
    else:
        previous = None
    try:
        return COMMANDS[args.command](args)
    except TrainingDiverged as exc:
        _say(f"practica: {exc}")
        return 1
    except PracticaError as exc:
        _say(f"practica: error: {exc}")
        return 2
    except OSError as exc:  # disk full, read-only or missing folders, a file for a folder
        if os.environ.get("PRACTICA_DEBUG"):
            raise
        _say(f"practica: error: {os_error_message(exc)}")
        return 2
    except KeyboardInterrupt as exc:
        where = _current_run[0] if _current_run else "RUN_DIR"
        _say("practica: " + ("terminated" if isinstance(exc, Terminated) else "interrupted") + (
            f"; continue with `practica resume {where}`" if args.command in ("run", "resume")
            else ""))
        return 143 if isinstance(exc, Terminated) else 130
    except BrokenPipeError:  # e.g. `practica list | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
