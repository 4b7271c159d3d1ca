"""reproduce --plan and --jobs: the plan reads the reference results' wall times; running
experiments side by side gives exactly the metrics of running them one after another."""

from __future__ import annotations

import json
import time

from practica import cli
from practica.config import to_dict
from practica.experiments.registry import get
from practica.reproduce import progress_line, schedule


def test_longest_first_schedule_and_its_makespan():
    order, makespan = schedule({"a": 10.0, "b": 50.0, "c": 30.0, "d": None, "e": 20.0}, 2)
    assert order[:4] == ["b", "c", "e", "a"] and order[-1] == "d"
    assert makespan == 60.0  # lanes: b+a = 60, c+e = 50
    assert schedule({"a": 10.0, "b": 5.0}, 1)[1] == 15.0


def test_progress_line_gives_the_time_left_and_the_eta():
    now = time.mktime((2026, 1, 1, 20, 0, 0, 0, 0, -1))
    expected = {"a": 600.0, "b": 1800.0, "c": None}
    assert progress_line(expected, ["a", "b", "c"], 90.0, now=now) == \
        "elapsed 90 s; about 40.0 min left (ETA 20:40), +1 without a reference time"
    assert progress_line(expected, ["a", "b"], 0.0, jobs=2, now=now) == \
        "elapsed 0 s; about 30.0 min left (ETA 20:30)"
    assert progress_line(expected, ["c"], 4000.0) == "elapsed 66.7 min"


def test_plan_prints_reference_times_and_totals(tmp_path, monkeypatch, capsys):
    ref = tmp_path / "results"
    for name, seconds in (("palindrome-rnn", 20.0), ("palindrome-lstm", 90.0)):
        run = ref / name / "20260101-000000"
        run.mkdir(parents=True)
        (run / "summary.json").write_text(json.dumps({"experiment": name, "status":
                                                      "completed", "wall_time_s": seconds}))
        from practica.experiments.registry import get

        config = {"experiment": name, "budget": "default",
                  "config": to_dict(get(name).default_config()),
                  "created": "2026-01-01T00:00:00"}
        assert get(name)
        (run / "config.json").write_text(json.dumps(config))
    monkeypatch.setenv("PRACTICA_RESULTS", str(ref))
    assert cli.main(["reproduce", "--plan", "--budget", "full", "--jobs", "2", "--only",
                     "palindrome-rnn", "palindrome-lstm", "mlp-torch"]) == 0
    out = capsys.readouterr().out
    assert "palindrome-lstm              90 s" in out and "mlp-torch" in out
    assert "no reference time" in out
    assert "total, one after another     110 s (+1 without a reference time)" in out
    assert "with --jobs 2                90 s" in out


def test_plan_counts_the_experiments_beyond_the_handouts_apart(tmp_path, monkeypatch,
                                                                capsys):
    ref = tmp_path / "results"
    for name, seconds in (("palindrome-rnn", 20.0), ("palindrome-sweep-tuned", 600.0)):
        run = ref / name / "20260101-000000"
        run.mkdir(parents=True)
        (run / "summary.json").write_text(json.dumps({"experiment": name, "status":
                                                      "completed", "wall_time_s": seconds}))
        config = to_dict(get(name).default_config())
        (run / "config.json").write_text(json.dumps({"experiment": name, "budget": "default",
                                                     "config": config, "created": "2026-01-01"}))
    monkeypatch.setenv("PRACTICA_RESULTS", str(ref))
    only = ["--only", "palindrome-rnn", "palindrome-sweep-tuned"]
    assert cli.main(["reproduce", "--plan", "--budget", "full", *only]) == 0
    out = capsys.readouterr().out
    assert "palindrome-sweep-tuned       10.0 min   (beyond the handouts)" in out
    assert "total, handouts only, one after another 20 s" in out
    assert "total, all, one after another 10.3 min" in out
    assert cli.main(["reproduce", "--plan", "--budget", "full", "--handouts-only",
                     *only]) == 0
    out = capsys.readouterr().out
    assert "palindrome-sweep-tuned" not in out and "total, one after another     20 s" in out


def test_jobs_2_gives_the_metrics_of_jobs_1(tmp_path):
    args = ["reproduce", "--budget", "smoke", "--no-progress", "--only", "palindrome-rnn",
            "palindrome-lstm"]
    assert cli.main([*args, "--runs-dir", str(tmp_path / "serial")]) == 0
    assert cli.main([*args, "--jobs", "2", "--runs-dir", str(tmp_path / "parallel")]) == 0
    for name in ("palindrome-rnn", "palindrome-lstm"):
        metrics = [json.loads(next((tmp_path / way / name).glob("*/summary.json"))
                              .read_text())["metrics"] for way in ("serial", "parallel")]
        assert metrics[0] == metrics[1]
    assert (tmp_path / "parallel" / "report" / "index.html").is_file()
    assert (tmp_path / "parallel" / "book" / "index.html").is_file()
    assert (tmp_path / "parallel" / "logs" / "palindrome-rnn.log").is_file()
