"""practica check on IIT-H CS6360 A2 §2: a min-char-rnn script in the gist's style (which
trains at its top level, reading input.txt) is checked without running that loop."""

from __future__ import annotations

from pathlib import Path

from practica.check import run_checks

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


n = 0
while True:                                  # trains forever when run as a script
    n += 1
'''


def learner(folder: Path, script: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "min-char-rnn.py").write_text(script)
    return folder


def test_a_gist_style_script_is_checked_without_running_its_loop(tmp_path):
    (v,) = run_checks("iith-cs6360-a2", learner(tmp_path / "ok", SCRIPT), timeout=30)
    assert v.status == "PASS", v


def test_forgetting_backpropagation_through_time_fails_on_dwhh(tmp_path):
    broken = SCRIPT.replace("dhnext = Whh.T @ dhraw          # BPTT", "pass")
    (v,) = run_checks("iith-cs6360-a2", learner(tmp_path / "bptt", broken), timeout=30)
    assert v.status == "FAIL" and "lossFun: dWxh is wrong" in v.message, v
