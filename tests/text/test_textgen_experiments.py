"""textgen-lstm and minchar-rnn end to end on fixture files; the two CLI commands."""

from __future__ import annotations

import csv
import json

import numpy as np
import torch
from foundation.runs import only_run, run

from practica import cli
from practica.text.lstm import generate_text, load_generator

from .snapshot_fixture import random_params, write_snapshot

TEXT = "the cat sat on the mat.\nthe dog sat on the log.\n" * 40






def test_textgen_lstm_best_runs_at_its_smoke_budget(tmp_path):
    book = tmp_path / "book.txt"
    book.write_text(TEXT, encoding="utf-8")
    assert run(tmp_path, None, "textgen-lstm-best", "--smoke", "--set", f"text={book}",
               "--set", "prompts=the cat", "--set", "val_fraction=0.2") == 0
    path, summary = only_run(tmp_path, "textgen-lstm-best")
    config = json.loads((path / "config.json").read_text())["config"]
    assert config["dropout"] == 0.25 and config["schedule"] == "cosine"
    assert summary["status"] == "completed" and np.isfinite(summary["metrics"]["val/loss"])


def test_textgen_lstm_learns_a_tiny_book_and_generates(tmp_path, capsys):
    book = tmp_path / "book.txt"
    book.write_text(TEXT, encoding="utf-8")
    assert run(tmp_path, None, "textgen-lstm", "--set", f"text={book}", "--set", "hidden=32",
               "--set", "layers=1", "--set", "steps=150", "--set", "eval_every=50",
               "--set", "batch_size=32", "--set", "seq_length=16", "--set", "lr=0.01",
               "--set", "final_length=20", "--set", "beam_length=10",
               "--set", "prompts=the cat", "--set", "val_fraction=0.2") == 0
    path, summary = only_run(tmp_path, "textgen-lstm")
    metrics = summary["metrics"]
    assert metrics["val/bits_per_char"] == metrics["val/loss"] / np.log(2)
    assert metrics["val/bits_per_char"] < 0.5  # from log2(17) ≈ 4.1 bits untrained
    assert json.loads((path / "vocab.json").read_text()) == sorted(set(TEXT))
    during = json.loads((path / "samples_during_training.json").read_text())
    assert sorted(int(k) for k in during) == [30, 60, 90, 120, 150]
    assert all(len(row["greedy"]) == 30 for rows in during.values() for row in rows)
    samples = (path / "samples.txt").read_text()
    assert "T = 0.5" in samples and "beam search" in samples
    report = (path / "report.html").read_text()
    assert "Samples during training" in report and "bits_per_char.png" in report
    with (path / "metrics.csv").open() as fh:
        assert {r["metric"] for r in csv.DictReader(fh)} >= {"loss", "bits_per_char"}

    gen = load_generator(path)
    assert gen.vocab == tuple(sorted(set(TEXT)))
    assert gen.complete("the cat sat on the m", 3, temperature=0.0) == "at."  # greedy
    text = generate_text(path, "the ", 40, temperature=0.5, seed=1)
    assert text.startswith("the ") and len(text) == 44
    assert text == generate_text(path, "the ", 40, temperature=0.5, seed=1)  # seeded
    assert cli.main(["generate", str(path), "--prompt", "the dog", "--length", "8",
                     "--beam", "3"]) == 0
    assert capsys.readouterr().out.startswith("the dog sat on")
    assert cli.main(["generate", str(path), "--prompt", "XYZ"]) == 2
    assert "not in the model's vocabulary" in capsys.readouterr().err


def test_textgen_lstm_is_reproducible_and_logs_bits(tmp_path):
    book = tmp_path / "book.txt"
    book.write_text(TEXT, encoding="utf-8")
    args = ["--set", f"text={book}", "--set", "hidden=8", "--set", "layers=2", "--set",
            "steps=10", "--set", "eval_every=5", "--set", "sample_points=2", "--set",
            "final_length=5", "--set", "beam_width=0", "--set", "temperatures=[1.0]"]
    metrics = []
    for sub in ("a", "b"):
        assert cli.main(["run", "textgen-lstm", *args, "--no-progress", "--runs-dir",
                         str(tmp_path / sub)]) == 0
        (path,) = (tmp_path / sub / "textgen-lstm").iterdir()
        metrics.append(json.loads((path / "summary.json").read_text())["metrics"])
        state = torch.load(path / "model.pt", weights_only=True)
        assert state["layers"] == 2 and len(state["vocab"]) == len(set(TEXT))
    assert metrics[0] == metrics[1]


def test_textgen_lstm_with_dropout_and_a_cosine_schedule_learns_and_loads(tmp_path):
    book = tmp_path / "book.txt"
    book.write_text(TEXT, encoding="utf-8")
    assert run(tmp_path, None, "textgen-lstm", "--set", f"text={book}", "--set", "hidden=32",
               "--set", "layers=2", "--set", "dropout=0.2", "--set", "schedule=cosine",
               "--set", "steps=150", "--set", "eval_every=50", "--set", "batch_size=32",
               "--set", "seq_length=16", "--set", "lr=0.01", "--set", "final_length=20",
               "--set", "beam_width=0", "--set", "val_fraction=0.2") == 0
    path, summary = only_run(tmp_path, "textgen-lstm")
    assert summary["metrics"]["val/bits_per_char"] < 1.0  # from log2(17) ≈ 4.1 untrained
    gen = load_generator(path)  # dropout has no weights: the saved model loads as before
    assert not gen.model.training and len(gen.complete("the cat sat on", 5)) == 5


def test_minchar_rnn_with_a_snapshot_and_explain_weights(tmp_path, capsys):
    chars = "\n :ab"
    corpus = tmp_path / "train.txt"
    rng = np.random.default_rng(0)
    corpus.write_text("".join(rng.choice(list("ab :\n"), size=3000, p=[.4, .3, .1, .1, .1])))
    params = random_params(len(chars), 6)
    snap = write_snapshot(tmp_path / "snap.npz", params, chars)
    assert run(tmp_path, None, "minchar-rnn", "--set", f"text={corpus}",
               "--set", f"snapshot={snap}",
               "--set", "hidden=8", "--set", "steps=60", "--set", "eval_every=30",
               "--set", "sample_length=20", "--set", "top_units=2",
               "--set", "primer_chars=50") == 0
    path, summary = only_run(tmp_path, "minchar-rnn")
    m = summary["metrics"]
    assert m["val/loss"] < np.log(5)  # below the uniform guess after 60 iterations
    assert 0 <= m["snapshot/colon/p_after_ablation"] <= 1
    samples = (path / "samples.txt").read_text()
    assert "provided snapshot" in samples and "after ':'" in samples
    assert (path / "checkpoints" / "last.npz").is_file()
    assert cli.main(["explain-weights", str(snap), "--after", ":", "--corpus", str(corpus),
                     "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert "after ':'" in out and "ablation" in out
    assert cli.main(["explain-weights", str(tmp_path / "none.npz"), "--corpus",
                     str(corpus)]) == 2


def test_bad_inputs_stop_the_run_before_training(tmp_path, capsys, monkeypatch):
    """An out-of-vocabulary prompt, a missing or a corrupt snapshot: refused before the
    first step (no run directory is left), not after training has run to the end."""
    from practica.train import loop

    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(loop.Trainer, "fit", no_training)
    book = tmp_path / "book.txt"
    book.write_text(TEXT, encoding="utf-8")
    assert run(tmp_path, None, "textgen-lstm", "--set", f"text={book}",
               "--set", "prompts=[\"Zebra\"]") == 2
    err = capsys.readouterr().err
    assert "never uses: 'Zbr'" in err and "Traceback" not in err
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip")
    for snapshot, message in ((tmp_path / "missing.npz", "not found"),
                              (corrupt, "not a readable")):
        assert run(tmp_path, None, "minchar-rnn", "--set", f"text={book}",
                   "--set", f"snapshot={snapshot}") == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("config.json"))
