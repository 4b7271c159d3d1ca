"""practica check on IIT-H CS6360 A2 §2: a min-char-rnn script in the gist's style (which
trains at its top level, reading input.txt) is checked without running that loop; its
``sample`` must replay the reference's draws, and a wrong one is told what differs."""

from __future__ import annotations

from pathlib import Path

import pytest

from practica.check import run_checks
from practica.check.worker import verdict

SCRIPT = '''
import numpy as np

data = open("input.txt").read()           # the script reads its corpus at the top level
hidden_size = 100
seq_length = 25
learning_rate = 1e-1


def lossFun(inputs, targets, hprev):
    xs, hs, ps = {}, {-1: np.copy(hprev)}, {}
    loss = 0
    for t in range(len(inputs)):
        xs[t] = np.zeros((vocab_size, 1))
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)
        z = Why @ hs[t] + by
        ps[t] = np.exp(z - z.max()) / np.sum(np.exp(z - z.max()))
        loss += -np.log(ps[t][targets[t], 0])
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dhnext = np.zeros_like(hs[0])
    for t in reversed(range(len(inputs))):
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1
        dWhy += dy @ hs[t].T
        dby += dy
        dh = Why.T @ dy + dhnext
        dhraw = (1 - hs[t] * hs[t]) * dh
        dbh += dhraw
        dWxh += dhraw @ xs[t].T
        dWhh += dhraw @ hs[t - 1].T
        dhnext = Whh.T @ dhraw          # BPTT
    for dparam in (dWxh, dWhh, dWhy, dbh, dby):
        np.clip(dparam, -5, 5, out=dparam)
    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]


def sample(h, seed_ix, n):
    x = np.zeros((vocab_size, 1))
    x[seed_ix] = 1
    ixes = []
    for t in range(n):
        h = np.tanh(np.dot(Wxh, x) + np.dot(Whh, h) + bh)
        y = np.dot(Why, h) + by
        p = np.exp(y) / np.sum(np.exp(y))
        ix = np.random.choice(range(vocab_size), p=p.ravel())
        x = np.zeros((vocab_size, 1))
        x[ix] = 1
        ixes.append(ix)
    return ixes


n = 0
while True:                                  # trains forever when run as a script
    n += 1
'''


def learner(folder: Path, script: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "min-char-rnn.py").write_text(script)
    return folder


def test_a_gist_style_script_is_checked_without_running_its_loop(tmp_path):
    verdicts = run_checks("iith-cs6360-a2", learner(tmp_path / "ok", SCRIPT), timeout=30)
    assert [v.status for v in verdicts] == ["PASS", "PASS"], verdicts


def test_the_reference_passes_every_piece(tmp_path):
    code = "from practica.handouts.iith_cs6360_a2 import *  # noqa: F401,F403\n"
    verdicts = run_checks("iith-cs6360-a2", learner(tmp_path / "ref", code), timeout=30)
    assert [v.status for v in verdicts] == ["PASS", "PASS"], verdicts


def test_forgetting_backpropagation_through_time_fails_on_dwhh(tmp_path):
    broken = SCRIPT.replace("dhnext = Whh.T @ dhraw          # BPTT", "pass")
    (v,) = run_checks("iith-cs6360-a2", learner(tmp_path / "bptt", broken), ["lossfun"],
                      timeout=30)
    assert v.status == "FAIL" and "lossFun: dWxh is wrong" in v.message, v


DRAW = "ix = np.random.choice(range(vocab_size), p=p.ravel())"


@pytest.mark.parametrize("old, new, message", [
    (DRAW, "ix = np.argmax(p)", "it takes the arg-max instead of sampling"),
    ("h = np.tanh(np.dot(Wxh, x) + np.dot(Whh, h) + bh)\n        y = np.dot(Why, h) + by",
     "h_t = np.tanh(np.dot(Wxh, x) + np.dot(Whh, h) + bh)\n        y = np.dot(Why, h_t) + by",
     "the hidden state is not carried from step to step"),
    ("        x = np.zeros((vocab_size, 1))\n        x[ix] = 1\n", "",
     "the sampled character is not fed back"),
    (DRAW, "ix = np.random.default_rng().choice(vocab_size, p=p.ravel())",
     "draws from the right distribution, but its randomness is not replayed by "
     "np.random.seed"),
    ("p = np.exp(y) / np.sum(np.exp(y))", "p = np.exp(2 * y) / np.sum(np.exp(2 * y))",
     "sample differs from the reference at step"),
    ("def sample(h, seed_ix, n):", "def sample(h, seed_ix, n, alpha=1.0):",
     "sample(h, seed_ix, n, alpha=2.5) samples neither softmax(2.5 y)"),
])
def test_a_wrong_sampler_is_told_what_differs(tmp_path, old, new, message):
    assert old in SCRIPT
    folder = learner(tmp_path / "sample", SCRIPT.replace(old, new))
    v = verdict("iith-cs6360-a2", folder, "sample")  # in this process, to keep it quick
    assert v["status"] == "FAIL" and message in v["message"], v


def test_a_temperature_argument_is_checked_as_alpha(tmp_path):
    code = SCRIPT.replace("def sample(h, seed_ix, n):", "def sample(h, seed_ix, n, alpha=1.0):"
                          ).replace("np.exp(y)", "np.exp(alpha * y)")
    v = verdict("iith-cs6360-a2", learner(tmp_path / "alpha", code), "sample")
    assert v["status"] == "PASS", v
