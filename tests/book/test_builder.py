"""The book builder on small sources and real run records of tiny runs."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from practica import cli
from practica.book import build_book, coverage_rows
from practica.book.reference import export_results
from practica.data import cifar10
from practica.errors import PracticaError

from .conftest import tiny_run

QUESTIONS = """
[handout]
title = "Tiny handout"
order = 1
heading = "Question {id}"

[[question]]
id = "1.1 a)"
summary = "Derive the linear layer's gradients."

[[question]]
id = "1.2"
summary = "Train the MLP; report its accuracy."

[[question]]
id = "P1"
summary = "A practice exercise."
kind = "optional"
"""


def write_sources(root: Path, answer: str, questions: str = QUESTIONS) -> Path:
    (root / "questions").mkdir(parents=True, exist_ok=True)
    (root / "answers").mkdir(parents=True, exist_ok=True)
    (root / "questions" / "tiny.toml").write_text(questions)
    (root / "answers" / "tiny.md").write_text(answer)
    return root


FULL = """
{{ question("1.1 a)") }}
The gradient is $\\frac{\\partial L}{\\partial W} = G^\\top X$, with shapes

$$\\frac{\\partial L}{\\partial X} = G W$$

{{ code("practica/numpy_nn/layers.py", "Linear.backward") }}

{{ question("1.2") }}
Accuracy {{ value("mlp-torch", "test/accuracy") }}
after {{ value("mlp-torch", "config.steps") }} steps.

{{ figure("mlp-torch", "plots/accuracy.png", "Accuracy, train and test") }}

{{ command("practica run mlp-torch") }}
"""


def page(out: Path) -> str:
    return (out / "tiny.html").read_text()


def test_a_page_quotes_the_reference_run_with_its_provenance(reference_runs, tmp_path):
    sources = write_sources(tmp_path / "src", FULL)
    out = tmp_path / "out"
    results = build_book(out, reference_runs, sources=sources)
    html = page(out)
    summary = json.loads(next(reference_runs.glob("mlp-torch/*/summary.json")).read_text())
    quoted = f"{summary['metrics']['test/accuracy']:.4f}"
    assert f"<span class='value'>{quoted}</span>" in html
    assert "(handout ≥ 0.48)" in html  # the experiment's target beside the value
    config = json.loads(next(reference_runs.glob("mlp-torch/*/config.json")).read_text())
    assert f"<span class='value'>{config['config']['steps']}</span>" in html  # config.steps
    run_id = next(reference_runs.glob("mlp-torch/*")).name
    assert f"runs/reference/mlp-torch/{run_id}/report.html" in html
    assert (out / "runs" / "reference" / "mlp-torch" / run_id / "report.html").is_file()
    img = re.search(r"<img src='([^']+)'", html).group(1)
    assert (out / img).read_bytes()[:4] == b"\x89PNG"
    assert "<math" in html and "$" not in re.sub(r"<[^>]+>", "", html)
    assert "def backward" in html and "np.matmul" in html
    (row,) = coverage_rows(results)
    assert (row["graded"], row["answered"], row["missing"]) == (2, 2, [])
    assert (row["optional"], row["optional_answered"]) == (1, 0)


def test_code_excerpts_are_escaped_once(reference_runs, tmp_path):
    sources = write_sources(tmp_path / "src", FULL)
    build_book(tmp_path / "out", reference_runs, sources=sources)
    code = page(tmp_path / "out").split("<pre><code>")[1].split("</code></pre>")[0]
    assert "-&gt; np.ndarray" in code and "&amp;gt;" not in code  # escaped, not twice


def test_a_missing_run_is_a_visible_box_never_a_number(tmp_path):
    sources = write_sources(tmp_path / "src", FULL)
    results = build_book(tmp_path / "out", tmp_path / "no-reference", sources=sources)
    html = page(tmp_path / "out")
    assert "not yet run — <code>practica run mlp-torch</code>" in html
    assert "<div class='not-run box'>" in html and "&lt;div" not in html  # the figure's box
    assert "class='value'" not in html
    assert coverage_rows(results)[0]["not_run"] == ["mlp-torch"]


def test_yours_beside_the_reference_flags_a_smoke_run(reference_runs, smoke_runs, tmp_path):
    sources = write_sources(tmp_path / "src", FULL)
    results = build_book(tmp_path / "out", reference_runs, smoke_runs, sources=sources)
    html = page(tmp_path / "out")
    assert html.count("class='prov reference'") >= 2 and "class='prov yours'" in html
    assert "value flagged" in html and "smoke budget, not comparable" in html
    assert coverage_rows(results)[0]["flagged"]
    assert len(re.findall(r"<figure><img", html)) == 2  # reference and yours side by side


def test_a_run_that_differs_by_more_than_the_tolerance_is_flagged(reference_runs, tmp_path):
    sources = write_sources(tmp_path / "src", FULL)
    yours = tmp_path / "yours"
    shutil.copytree(reference_runs, yours)
    summary_path = next(yours.glob("mlp-torch/*/summary.json"))
    summary = json.loads(summary_path.read_text())
    ref = summary["metrics"]["test/accuracy"]
    summary["metrics"]["test/accuracy"] = ref + 0.005  # within 3 %: not flagged
    summary_path.write_text(json.dumps(summary))
    build_book(tmp_path / "a", reference_runs, yours, sources=sources)
    assert "class='value flagged'" not in page(tmp_path / "a")
    summary["metrics"]["test/accuracy"] = ref + 0.2
    summary_path.write_text(json.dumps(summary))
    build_book(tmp_path / "b", reference_runs, yours, sources=sources)
    assert "differs from the reference by +0.2" in page(tmp_path / "b")


@pytest.mark.parametrize("answer, message", [
    ('{{ question("1.2") }} {{ value("mlp-torch", "test/no_such_metric") }}',
     "has no metric 'test/no_such_metric'"),
    ('{{ question("1.2") }} {{ figure("mlp-torch", "plots/nope.png", "x") }}',
     "has no file 'plots/nope.png'"),
    ('{{ question("1.2") }} {{ value("no-such-experiment", "test/accuracy") }}',
     "names experiment 'no-such-experiment'"),
    ('{{ question("9.9") }}', "no question '9.9'"),
    ('{{ question("1.2") }} {{ question("1.2") }}', "answered twice"),
    ('{{ question("1.2") }} $\\frac{1}{$', "cannot typeset"),
    ('{{ question("1.2") }} {{ code("practica/numpy_nn/layers.py", "Nope.backward") }}',
     "no 'Nope.backward'"),
    ('{{ question("1.2") ', "tiny.md line 1"),
])
def test_broken_sources_fail_the_build_with_one_line(reference_runs, tmp_path, answer, message):
    sources = write_sources(tmp_path / "src", answer)
    with pytest.raises(PracticaError, match=re.escape(message)) as info:
        build_book(tmp_path / "out", reference_runs, sources=sources)
    assert "\n" not in str(info.value)


def test_a_missing_answer_shows_in_the_coverage(reference_runs, tmp_path, capsys):
    sources = write_sources(tmp_path / "src", '{{ question("1.2", status="partial") }} text')
    (row,) = coverage_rows(build_book(tmp_path / "out", reference_runs, sources=sources))
    assert row["missing"] == ["1.1 a)"] and row["partial_ids"] == ["1.2"]
    assert "Question 1.1 a)</a> (missing)" in page(tmp_path / "out")


def test_export_keeps_records_and_figures_and_no_machine_paths(reference_runs, tmp_path):
    out = tmp_path / "results"
    exported = export_results(reference_runs, out)
    assert [r.experiment for r in exported] == ["mlp-torch"]
    files = {p.relative_to(out).as_posix().split("/", 2)[-1] for p in out.rglob("*")
             if p.is_file()}
    assert {"summary.json", "config.json", "metrics.csv", "report.html",
            "plots/accuracy.png"} <= files
    assert not any(name.endswith((".pt", ".npz")) for name in files)  # no checkpoints
    from PIL import Image

    (original,) = reference_runs.glob("mlp-torch/*/plots/accuracy.png")
    (exported,) = out.glob("mlp-torch/*/plots/accuracy.png")
    with Image.open(original) as a, Image.open(exported) as b:
        assert a.size == b.size  # the same figure, re-encoded with a palette
    assert exported.stat().st_size <= original.stat().st_size
    for path in out.rglob("*"):
        if path.suffix in (".json", ".csv", ".html", ".txt"):
            text = path.read_text()
            assert str(tmp_path) not in text and str(Path.home()) + "/" not in text, path
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runs"][0]["experiment"] == "mlp-torch"
    assert manifest["runs"][0]["budget"] == "custom" and manifest["bytes"] > 0


def test_export_skips_smoke_runs_unless_asked(smoke_runs, tmp_path):
    with pytest.raises(PracticaError, match="no completed runs"):
        export_results(tmp_path / "empty", tmp_path / "r0")
    assert export_results(smoke_runs, tmp_path / "r1") == []
    assert len(export_results(smoke_runs, tmp_path / "r2", include_smoke=True)) == 1


def test_practica_book_cli_prints_the_coverage(reference_runs, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cifar10, "SIZES", (100, 30))
    code = cli.main(["book", "--reference", str(reference_runs), "--out", str(tmp_path / "o"),
                     "--coverage"])
    assert code == 0
    out = capsys.readouterr()
    assert "total" in out.out and "book:" in out.err
    assert (tmp_path / "o" / "index.html").is_file()
    assert cli.main(["book", "--handout", "nope", "--out", str(tmp_path / "o")]) == 2


def test_tiny_run_fixture_is_real(reference_runs):
    """The fixture is a real run of the CLI (so the names the tests use are real)."""
    (path,) = reference_runs.glob("mlp-torch/*")
    assert json.loads((path / "summary.json").read_text())["status"] == "completed"
    assert tiny_run.__doc__


def test_budget_of_a_record_made_before_a_setting_was_added():
    from practica import config as cfgmod
    from practica.experiments.base import budget_of
    from practica.experiments.registry import get

    exp = get("colour-unet")
    default = cfgmod.to_dict(exp.default_config())
    older = {k: v for k, v in default.items() if k != "learning_rates"}  # added later
    assert budget_of(exp, older) == "default"
    assert budget_of(exp, {**older, "lr": 0.5}) == "custom"
    assert budget_of(exp, {**default, "unknown": 1}) == "custom"
    assert budget_of(exp, cfgmod.to_dict(exp.resolve_config(smoke=True))) == "smoke"


def test_a_run_made_before_its_experiments_default_changed_is_custom_now():
    """tweet-sentiment-best batches by length; a record from before the option existed ran
    with random batches (the config class's default), so it does not count as the
    experiment's default run, even if its record said "default" when it was made."""
    from practica import config as cfgmod
    from practica.book.records import run_budget
    from practica.experiments.registry import get

    name = "tweet-sentiment-best"
    default = cfgmod.to_dict(get(name).default_config())
    assert default["batching"] == "bucketed"
    older = {k: v for k, v in default.items() if k != "batching"}
    assert run_budget(name, {"budget": "default", "config": older}) == "custom"
    assert run_budget(name, {"budget": "default", "config": default}) == "default"
    assert run_budget(name, {"budget": "smoke", "config": older}) == "smoke"
    # a key whose experiment default is the class's own: the older run did not vary
    plain = cfgmod.to_dict(get("tweet-sentiment").default_config())
    assert run_budget("tweet-sentiment", {"budget": "default", "config": {
        k: v for k, v in plain.items() if k != "batching"}}) == "default"


def test_several_seeds_are_quoted_as_mean_and_spread_and_all_exported(tiny_data, tmp_path):
    root = tmp_path / "seeds"
    for seed in (2, 0, 1):
        tiny_run(root, tiny_data, "--seed", str(seed))
    summaries = [json.loads(p.read_text()) for p in root.glob("mlp-torch/*/summary.json")]
    values = [s["metrics"]["test/accuracy"] for s in summaries]
    assert len(set(values)) > 1  # the seeds really differ, so the spread means something
    mean = sum(values) / 3
    sd = (sum((v - mean) ** 2 for v in values) / 2) ** 0.5
    sources = write_sources(tmp_path / "src", FULL)
    build_book(tmp_path / "out", root, sources=sources)
    html = page(tmp_path / "out")
    assert f"{mean:.4f} ± {sd:.4f}</span> <span class='seeds'>(3 seeds)" in html
    assert "seed 0: " in html and "seed 1: " in html and "seed 2: " in html
    assert "seed 0, commit" in html  # the badge and the figure are the seed-0 run's

    export_results(root, tmp_path / "results")
    assert len(list((tmp_path / "results" / "mlp-torch").glob("*/summary.json"))) == 3


def test_an_fp32_and_a_bf16_run_are_kept_and_quoted_apart(tiny_data, tmp_path):
    root = tmp_path / "precision"
    fast = ("--set", "lr=0.05", "--set", "init=pytorch")  # far enough for bf16 to differ
    tiny_run(root, tiny_data, *fast)  # fp32
    tiny_run(root, tiny_data, *fast, "--amp", "bf16")
    by_amp = {json.loads((p.parent / "config.json").read_text())["settings"]["amp"]:
              json.loads(p.read_text())["metrics"]["test/accuracy"]
              for p in root.glob("mlp-torch/*/summary.json")}
    assert set(by_amp) == {"none", "bf16"} and by_amp["none"] != by_amp["bf16"]
    answer = FULL + ('\nfp32: {{ value("mlp-torch", "test/accuracy", where={"amp": "none"}) }}'
                     '\nbf16: {{ value("mlp-torch", "test/accuracy", where={"amp": "bf16"}) }}\n')
    build_book(tmp_path / "out", root, sources=write_sources(tmp_path / "src", answer))
    html = page(tmp_path / "out")
    assert f"bf16: <span class='value'>{by_amp['bf16']:.4f}</span>" in html
    assert f"fp32: <span class='value'>{by_amp['none']:.4f}</span>" in html
    assert "(2 seeds)" not in html  # two precisions are not two seeds of one job
    export_results(root, tmp_path / "results")
    assert len(list((tmp_path / "results" / "mlp-torch").glob("*/summary.json"))) == 2


def test_a_resumed_run_counts_at_least_its_training_time(tmp_path):
    from practica.book.records import RunRecord

    def record(**summary):
        return RunRecord("mlp-torch", tmp_path, summary, {}, "reference")

    assert record(wall_time_s=100.0, train_time_s=90.0).wall_time_s == 100.0
    # killed, then resumed: the first session's wall time was never written
    assert record(wall_time_s=100.0, train_time_s=400.0, resumed=True).wall_time_s == 400.0
    assert record(wall_time_s=100.0, train_time_s=400.0).wall_time_s == 100.0
    assert record(train_time_s=400.0).wall_time_s is None
