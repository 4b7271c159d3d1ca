"""The recurrent experiments end to end on tiny settings and fixture data."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from foundation.formats import write_mnist_folder
from foundation.runs import only_run, run

from practica import cli
from practica.data import mnist
from practica.data.palindromes import PalindromeDataset
from practica.errors import ConfigError
from practica.experiments.lstm_mnist import ImageLSTM
from practica.experiments.palindromes import (
    PalindromeConfig,
    build_model,
    model_seed,
    odd_even_gap,
)
from practica.experiments.recurrent import LSTMClassifier
from practica.experiments.rnn_gradients import hidden_gradient_norms, unroll
from practica.experiments.tweet_sentiment import split_training
from practica.models import LSTM, VanillaRNN
from practica.records.run import read_metrics

TINY = ["--set", "hidden=8", "--set", "batch_size=16", "--set", "val_size=100",
        "--set", "test_size=200"]






def metric_rows(path) -> list[dict]:
    with (path / "metrics.csv").open() as fh:
        return list(csv.DictReader(fh))


def test_palindrome_rnn_run_starts_from_the_seeded_model(tmp_path) -> None:
    assert run(tmp_path, None, "palindrome-rnn", *TINY, "--set", "length=4", "--set", "steps=40",
               "--set", "eval_every=20", "--seed", "3") == 0
    path, summary = only_run(tmp_path, "palindrome-rnn")
    assert summary["status"] == "completed" and summary["steps_trained"] == 40
    assert {"test/accuracy", "val/accuracy", "train/loss"} <= set(summary["metrics"])
    rows = metric_rows(path)
    assert [r["step"] for r in rows if r["split"] == "test"] == ["40", "40"]
    # the step-0 validation loss is that of build_model(model_seed(seed, 0)): the weights
    # rnn-gradients measures "at initialisation" are the ones this run started from
    cfg = PalindromeConfig(model="rnn", length=4, hidden=8)
    x, y = PalindromeDataset(4, seed=model_seed(3, 0), stream="val").fixed_set(100)
    with torch.no_grad():
        loss0 = float(F.cross_entropy(build_model(cfg, model_seed(3, 0))(x), y))
    (logged,) = [float(r["value"]) for r in rows
                 if (r["step"], r["split"], r["metric"]) == ("0", "val", "loss")]
    assert logged == pytest.approx(loss0, rel=1e-6)
    assert (path / "plots" / "accuracy.png").is_file()
    # killed after training, before the summary: resuming trains no more, logs test once
    (path / "summary.json").unlink()
    assert cli.main(["resume", str(path), "--no-progress"]) == 0
    resumed = json.loads((path / "summary.json").read_text())
    assert resumed["metrics"] == summary["metrics"] and resumed["steps_trained"] == 40
    assert [r["step"] for r in metric_rows(path) if r["split"] == "test"] == ["40", "40"]


def test_palindrome_lstm_stops_early_with_one_hot_inputs(tmp_path) -> None:
    assert run(tmp_path, None, "palindrome-lstm", *TINY, "--set", "length=3", "--set", "steps=400",
               "--set", "eval_every=20", "--set", "encoding=one-hot",
               "--set", "stop_accuracy=0.01") == 0
    _, summary = only_run(tmp_path, "palindrome-lstm")
    assert summary["steps_trained"] == 20 and "reached 0.01" in summary["stopped"]


def test_palindrome_sweep_runs_every_point_and_plots(tmp_path) -> None:
    assert run(tmp_path, None, "palindrome-sweep", *TINY, "--set", "lengths=3,4",
               "--set", "seeds=2", "--set", "steps=20", "--set", "eval_every=10") == 0
    path, summary = only_run(tmp_path, "palindrome-sweep")
    children = sorted(p.name for p in (path / "children").iterdir())
    assert children == [f"{m}-T0{t}-seed{s}" for m in ("lstm", "rnn") for t in (3, 4)
                        for s in (0, 1)]
    for model in ("rnn", "lstm"):
        accs = summary["sweep"][model]["4"]["accuracy"]
        assert len(accs) == 2
        assert summary["metrics"][f"{model}/T4/accuracy_mean"] == pytest.approx(np.mean(accs))
        assert summary["metrics"][f"{model}/T4/accuracy_std"] == pytest.approx(np.std(accs))
        for seed in (0, 1):  # each run also tested at its best-validation weights
            child = json.loads((path / "children" / f"{model}-T04-seed{seed}" /
                                "summary.json").read_text())
            val = [r for r in read_metrics(path / "children" / f"{model}-T04-seed{seed}" /
                                           "metrics.csv") if r["split"] == "val"
                   and r["metric"] == "accuracy"]
            best = max(val, key=lambda r: r["value"])  # the first of equal bests is kept
            assert child["best_val_step"] == best["step"]
            assert 0 <= child["metrics"]["test_best_val/accuracy"] <= 1
        assert summary["sweep"][model]["4"]["accuracy_at_best_val"] == [
            json.loads((path / "children" / f"{model}-T04-seed{s}" / "summary.json")
                       .read_text())["metrics"]["test_best_val/accuracy"] for s in (0, 1)]
    seed_configs = [json.loads((path / "children" / f"rnn-T03-seed{s}" / "config.json")
                               .read_text())["config"]["replicate"] for s in (0, 1)]
    assert seed_configs == [0, 1]
    assert (path / "plots" / "accuracy_vs_length.png").is_file()
    assert "Accuracy against palindrome length" in (path / "report.html").read_text()


def test_forget_bias_shifts_the_lstm_forget_gate_only(tmp_path, capsys) -> None:
    cfg = PalindromeConfig(model="lstm", length=6, hidden=64)
    plain = build_model(cfg, seed=3)
    biased = build_model(PalindromeConfig(model="lstm", length=6, hidden=64, forget_bias=1.0),
                         seed=3)
    assert torch.allclose(biased.b_f, plain.b_f + 1.0)  # same draw, shifted by exactly 1
    for name, p in plain.named_parameters():
        if name != "b_f":
            assert torch.equal(p, dict(biased.named_parameters())[name]), name
    assert run(tmp_path, None, "palindrome-rnn", "--set", "forget_bias=1") == 2
    assert "the vanilla RNN has no gates" in capsys.readouterr().err
    assert run(tmp_path, None, "palindrome-sweep", *TINY, "--set", "lengths=3", "--set",
               "seeds=1", "--set", "steps=10", "--set", "eval_every=10", "--set",
               "forget_bias=1") == 0
    path, _ = only_run(tmp_path, "palindrome-sweep")
    bias = {m: json.loads((path / "children" / f"{m}-T03-seed0" / "config.json").read_text())
            ["config"]["forget_bias"] for m in ("rnn", "lstm")}
    assert bias == {"rnn": 0.0, "lstm": 1.0}


def test_chrono_initialisation_spreads_memory_times_up_to_the_lag() -> None:
    """b_f ~ log U(1, T − 1) and b_i = −b_f; every other weight as the handout's draw."""
    plain = build_model(PalindromeConfig(model="lstm", length=31, hidden=256), seed=5)
    chrono = build_model(PalindromeConfig(model="lstm", length=31, hidden=256, init="chrono"),
                         seed=5)
    memory = 1 / (1 - torch.sigmoid(chrono.b_f))  # steps a unit's cell lasts, f = σ(b_f)
    assert torch.all(chrono.b_f >= 0) and torch.all(chrono.b_f <= np.log(29) + 1e-6)
    assert memory.min() < 3 and memory.max() > 20  # spread from a few steps to the lag
    assert torch.equal(chrono.b_i, -chrono.b_f)
    for name, p in plain.named_parameters():
        if name not in ("b_f", "b_i"):
            assert torch.equal(p, dict(chrono.named_parameters())[name]), name
    with pytest.raises(ConfigError, match="no gates"):
        build_model(PalindromeConfig(model="rnn", length=5, init="chrono"), seed=0)


def test_lstm_remedies_study_changes_one_thing_each_and_judges_on_validation(tmp_path):
    assert run(tmp_path, None, "palindrome-lstm-remedies", *TINY, "--set", "lengths=4,20",
               "--set", "seeds=1", "--set", "steps=20", "--set", "eval_every=10",
               "--set", "patience=10") == 0
    path, summary = only_run(tmp_path, "palindrome-lstm-remedies")
    configs = {p.name: json.loads((p / "config.json").read_text())["config"]
               for p in (path / "children").iterdir()}
    assert len(configs) == 10 and all(c["model"] == "lstm" for c in configs.values())
    assert configs["chrono-init-T20-seed0"]["init"] == "chrono"
    assert configs["handout-T20-seed0"]["init"] == "handout"
    assert configs["forget-bias-T20-seed0"]["forget_bias"] == 1.0
    assert configs["handout-T20-seed0"]["forget_bias"] == 0.0
    assert configs["lr-by-length-T04-seed0"]["lr"] == pytest.approx(1e-3)  # T ≤ 10: as is
    assert configs["lr-by-length-T20-seed0"]["lr"] == pytest.approx(5e-4)
    assert configs["more-steps-T20-seed0"]["steps"] == 40
    m = summary["metrics"]
    val = json.loads((path / "children" / "handout-T04-seed0" / "summary.json").read_text())
    assert m["handout/T4/val_accuracy_mean"] == val["metrics"]["val/accuracy"]
    assert summary["best"] == max(summary["remedies"], key=lambda r: m[f"{r}/val_accuracy_mean"])
    assert (path / "plots" / "remedies_vs_length.png").is_file()


def test_odd_even_gap() -> None:
    zigzag = {5: 0.9, 6: 1.0, 7: 0.8, 8: 0.9, 9: 0.7}
    # even T: 1.0 − 0.85 = 0.15, 0.9 − 0.75 = 0.15; odd T: 0.8 − 0.95 = −0.15
    assert odd_even_gap(zigzag) == pytest.approx(0.3)
    assert odd_even_gap({5: 1.0, 10: 0.5, 15: 0.1}) is None  # no neighbours run


@pytest.mark.parametrize("cls", [VanillaRNN, LSTM])
def test_unroll_reproduces_the_forward_pass(cls) -> None:
    torch.manual_seed(0)
    model = cls(6, 1, 5, 10).double()
    x = torch.randint(0, 10, (4, 6)).double()
    states, logits = unroll(model, x)
    assert len(states) == 6
    torch.testing.assert_close(logits, model(x))


def test_rnn_hidden_gradients_match_hand_written_bptt() -> None:
    torch.manual_seed(0)
    model = VanillaRNN(8, 1, 6, 10).double()
    x, y = torch.randint(0, 10, (5, 8)).double(), torch.randint(0, 10, (5,))
    with torch.no_grad():
        states, logits = unroll(model, x)
        g = (torch.softmax(logits, 1) - F.one_hot(y, 10)) @ model.W_ph  # ∂L_n/∂h(T)
        expected = [g.norm(dim=1).mean()]
        for t in range(7, 0, -1):  # ∂L/∂h(t−1) = W_hhᵀ diag(1 − h(t)²) ∂L/∂h(t)
            g = (g * (1 - states[t] ** 2)) @ model.W_hh
            expected.append(g.norm(dim=1).mean())
    norms = hidden_gradient_norms(model, x, y)
    np.testing.assert_allclose(norms, np.array(expected[::-1]), rtol=1e-10)
    assert norms[0] < norms[-1]


def test_lstm_last_hidden_gradient_is_the_output_layer_term() -> None:
    torch.manual_seed(0)
    model = LSTM(5, 1, 4, 10).double()
    x, y = torch.randint(0, 10, (3, 5)).double(), torch.randint(0, 10, (3,))
    norms = hidden_gradient_norms(model, x, y)
    with torch.no_grad():
        g = (torch.softmax(model(x), 1) - F.one_hot(y, 10)) @ model.W_ph
    assert norms[-1] == pytest.approx(float(g.norm(dim=1).mean()), rel=1e-10)
    assert np.all(np.isfinite(norms)) and np.all(norms > 0)


def test_rnn_gradients_experiment(tmp_path) -> None:
    assert run(tmp_path, None, "rnn-gradients", "--set", "length=12", "--set", "train_length=4",
               "--set", "hidden=8", "--set", "train_steps=10", "--set", "eval_every=5",
               "--set", "batch_size=16", "--set", "measure_size=16") == 0
    path, summary = only_run(tmp_path, "rnn-gradients")
    metrics = summary["metrics"]
    for key in ("rnn/init", "rnn/trained", "lstm/init", "lstm/trained"):
        assert metrics[f"{key}/grad_norm_t1"] > 0
        steps = [int(r["step"]) for r in metric_rows(path) if r["split"] == key]
        assert steps == list(range(1, 13))
    child = path / "children" / "lstm"
    assert json.loads((child / "config.json").read_text())["config"]["length"] == 4
    # "trained": the sub-run's final weights, unrolled over the 12-step input
    model = LSTM(12, 1, 8, 10)
    model.load_state_dict(torch.load(child / "checkpoints" / "last.pt",
                                     weights_only=True)["model"])
    x, y = PalindromeDataset(13, seed=model_seed(0, 0), stream="gradients").fixed_set(16)
    norms = hidden_gradient_norms(model.double(), x, y)
    assert metrics["lstm/trained/grad_norm_t1"] == pytest.approx(norms[0], rel=1e-9)
    assert metrics["lstm/trained/grad_norm_t1"] != metrics["lstm/init/grad_norm_t1"]
    assert (path / "plots" / "grad_norm_over_time.png").is_file()


def test_image_lstm_reads_rows_or_pixels() -> None:
    images = torch.arange(2 * 28 * 28, dtype=torch.float32).reshape(2, 1, 28, 28)
    rows = ImageLSTM("rows", hidden=4).as_sequence(images)
    assert rows.shape == (2, 28, 28) and torch.equal(rows[1, 3], images[1, 0, 3])
    pixels = ImageLSTM("pixels", hidden=4).as_sequence(images)
    assert pixels.shape == (2, 784, 1) and pixels[0, 28 * 3 + 5, 0] == images[0, 0, 3, 5]
    assert ImageLSTM("rows", hidden=4)(images).shape == (2, 10)


@pytest.mark.parametrize("sequence", ["rows", "pixels"])
def test_lstm_mnist_on_fixture_idx_files(tmp_path, monkeypatch, sequence) -> None:
    monkeypatch.setattr(mnist, "SIZES", (40, 20))
    write_mnist_folder(tmp_path / "data" / "mnist", n_train=40, n_test=20)
    assert run(tmp_path, tmp_path / "data", "lstm-mnist", "--set", f"sequence={sequence}",
               "--set", "steps=2", "--set", "eval_every=2", "--set", "batch_size=8",
               "--set", "hidden=8") == 0
    path, summary = only_run(tmp_path, "lstm-mnist")
    assert summary["status"] == "completed" and len(summary["per_class_accuracy"]) == 10
    assert json.loads((path / "config.json").read_text())["config"]["optimizer"] == "adam"


def _tweet_files(folder, n_train: int = 40, n_test: int = 12) -> None:
    folder.mkdir(parents=True)
    words = {1: ["good", "great day", "love it, thanks"], 0: ["bad", "awful day", "hate it"]}
    for name, n in (("tweets_train.csv", n_train), ("tweets_test.csv", n_test)):
        with (folder / name).open("w", newline="") as fh:
            w = csv.writer(fh, lineterminator="\r\n")
            w.writerow(["text", "sentiment"])
            for i in range(n):
                label = i % 2
                w.writerow([f"@user{i} {words[label][i % 3]} {'!' * (i % 5)}é", label])


@pytest.mark.parametrize("padding", ["gather", "pack"])
def test_tweet_sentiment_on_fixture_csvs(tmp_path, padding) -> None:
    _tweet_files(tmp_path / "data" / "tweets")
    assert run(tmp_path, tmp_path / "data", "tweet-sentiment", "--set", "steps=6",
               "--set", "eval_every=3",
               "--set", "batch_size=8", "--set", "train_sample=10", "--set", "hidden=8",
               "--set", f"padding={padding}") == 0
    path, summary = only_run(tmp_path, "tweet-sentiment")
    assert {"test/accuracy", "train/accuracy", "train-sample/accuracy"} <= \
        set(summary["metrics"])
    assert (summary["train_tweets"], summary["test_tweets"]) == (40, 12)
    steps = {r["step"] for r in metric_rows(path) if r["split"] == "test"}
    assert steps == {"0", "3", "6"}
    assert (path / "plots" / "accuracy.png").is_file()


def test_a_bidirectional_lstm_reads_each_tweet_from_its_own_end() -> None:
    """Packed: padding changes nothing in either direction (the backward one starts at the
    last real character), and the head sees both final states."""
    torch.manual_seed(0)
    model = LSTMClassifier(5, 6, 2, padding="pack", bidirectional=True).eval()
    x = torch.randn(1, 4, 5)
    padded = torch.cat([x, torch.randn(1, 3, 5)], dim=1)  # 3 steps of junk after the end
    alone = model.last_state(x, torch.tensor([4]))
    assert alone.shape == (1, 12)
    assert torch.allclose(model.last_state(padded, torch.tensor([4])), alone, atol=1e-6)
    out, _ = model.lstm(x)  # unpacked reference: forward state at the end, backward at 0
    assert torch.allclose(alone, torch.cat([out[:, -1, :6], out[:, 0, 6:]], dim=1),
                          atol=1e-6)
    with pytest.raises(ValueError, match="needs padding='pack'"):
        LSTMClassifier(5, 6, 2, padding="gather", bidirectional=True)


def test_tweet_validation_split_is_fixed_and_nested() -> None:
    train, val = split_training(100, 20, 0)
    assert len(train) == 80 and len(val) == 20 and not set(train) & set(val)
    small, val2 = split_training(100, 20, 30)
    assert np.array_equal(val, val2) and set(small) <= set(train) and len(small) == 30
    assert set(split_training(100, 20, 60)[0]) >= set(small)  # 30 ⊂ 60: a learning curve
    with pytest.raises(ConfigError, match="train_limit=90"):
        split_training(100, 20, 90)


def test_tweet_sentiment_best_runs_at_its_smoke_budget(tmp_path) -> None:
    _tweet_files(tmp_path / "data" / "tweets")
    assert run(tmp_path, tmp_path / "data", "tweet-sentiment-best", "--smoke", "--set",
               "steps=4", "--set", "eval_every=2", "--set", "batch_size=8", "--set",
               "warmup_steps=1", "--set", "train_sample=10") == 0
    path, summary = only_run(tmp_path, "tweet-sentiment-best")
    config = json.loads((path / "config.json").read_text())["config"]
    assert config["bidirectional"] and config["padding"] == "pack" and config["embedding"]
    assert summary["status"] == "completed" and 0 <= summary["metrics"]["test/accuracy"] <= 1


def test_tweet_learning_curve_trains_nested_subsets_judged_on_one_validation_set(tmp_path):
    _tweet_files(tmp_path / "data" / "tweets")
    assert run(tmp_path, tmp_path / "data", "tweet-sentiment-learning-curve", "--smoke",
               "--set", "sizes=10,0", "--set", "batch_size=8") == 0
    path, summary = only_run(tmp_path, "tweet-sentiment-learning-curve")
    children = {p.name: json.loads((p / "summary.json").read_text())
                for p in (path / "children").iterdir()}
    assert {k: c["train_tweets"] for k, c in children.items()} == {"n10": 10, "nall": 30}
    for name, child in children.items():
        assert summary["metrics"][f"{name}/val/accuracy"] == child["metrics"]["val/accuracy"]
    assert [p["train_tweets"] for p in summary["learning_curve"]] == [10, 30]
    assert (path / "plots" / "learning_curve.png").is_file()
    assert run(tmp_path / "b", tmp_path / "data", "tweet-sentiment-learning-curve", "--smoke",
               "--set", "val_size=0") == 2  # a curve needs the validation tweets


def test_tweet_sentiment_tuned_options_and_validation_set(tmp_path) -> None:
    _tweet_files(tmp_path / "data" / "tweets")
    assert run(tmp_path, tmp_path / "data", "tweet-sentiment", "--set", "steps=6",
               "--set", "eval_every=3", "--set", "batch_size=8", "--set", "train_sample=0",
               "--set", "hidden=8", "--set", "embedding=4", "--set", "layers=2", "--set",
               "bidirectional=true", "--set", "padding=pack", "--set", "dropout=0.2",
               "--set", "schedule=cosine", "--set", "val_size=10", "--set",
               "train_limit=20") == 0
    path, summary = only_run(tmp_path, "tweet-sentiment")
    assert {"val/accuracy", "test/accuracy"} <= set(summary["metrics"])
    assert summary["train_tweets"] == 20
    assert run(tmp_path / "b", tmp_path / "data", "tweet-sentiment", "--set", "steps=2",
               "--set", "bidirectional=true") == 2


def test_tweet_sentiment_says_when_data_is_missing(tmp_path, capsys) -> None:
    assert run(tmp_path, tmp_path / "nothing", "tweet-sentiment", "--set", "steps=2") == 2
    err = capsys.readouterr().err
    assert "tweets not found" in err and "tweets_train.csv" in err
