"""practica check on CVbL 2019's RNN and LSTM: the reference passes; a learner's own
correct RNN written with the x @ W convention passes too; broken ones fail by name."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from practica.check import run_checks

MINE = """
import torch
import torch.nn as nn


class VanillaRNN(nn.Module):
    def __init__(self, seq_length, input_dim, num_hidden, num_classes, batch_size, device="cpu"):
        super().__init__()
        self.T = seq_length
        self.Whx = nn.Parameter(torch.randn(input_dim, num_hidden) * 0.1)   # x @ W convention
        self.Whh = nn.Parameter(torch.randn(num_hidden, num_hidden) * 0.1)
        self.bh = nn.Parameter(torch.zeros(num_hidden))
        self.Wph = nn.Parameter(torch.randn(num_hidden, num_classes) * 0.1)
        self.bp = nn.Parameter(torch.zeros(num_classes))

    def forward(self, x):
        h = torch.zeros(x.shape[0], self.Whh.shape[0], dtype=x.dtype)
        for t in range(self.T):
            h = torch.tanh(x[:, t:t + 1] @ self.Whx + h @ self.Whh + self.bh)   # BREAK
        return h @ self.Wph + self.bp
"""


def learner(folder: Path, code: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vanilla_rnn.py").write_text(textwrap.dedent(code))
    (folder / "lstm.py").write_text("from practica.handouts.cvbl_2019 import LSTM  # noqa\n")
    return folder


def verdict(folder: Path, piece: str = "vanilla_rnn"):
    (v,) = run_checks("cvbl-2019", folder, [piece], timeout=60)
    return v


def test_the_reference_and_a_correct_rnn_of_another_convention_pass(tmp_path):
    ref = learner(tmp_path / "ref", "from practica.handouts.cvbl_2019 import *  # noqa\n")
    assert [v.status for v in run_checks("cvbl-2019", ref)] == ["PASS", "PASS"]
    assert verdict(learner(tmp_path / "mine", MINE)).status == "PASS"


@pytest.mark.parametrize("change, message", [
    (("h = torch.tanh(", "h = torch.sigmoid("), "VanillaRNN.forward on the reference's "
                                                 "weights is wrong"),  # the wrong non-linearity
    (("h @ self.Whh + ", ""), "no gradient reaches Whh"),              # no recurrence
    (("torch.zeros(num_classes)", "torch.zeros(num_classes + 1)"), "parameters, the "
                                                                     "equations give"),
    (("self.bp = nn.Parameter(torch.zeros(num_classes))",
      "self.bp = nn.Parameter(torch.zeros(num_classes))\n        self.out = nn.Linear(2, 2)"),
     "uses Linear"),
])
def test_broken_rnns_fail_by_name(tmp_path, change, message):
    v = verdict(learner(tmp_path / "broken", MINE.replace(*change)))
    assert v.status == "FAIL" and message in v.message, v


# The public starters' constructors: the 2018 part1 files take batch_size and device, the
# 2019 ones device alone; both build and pass. Bodies written here from the handout's
# equations, weights (out, in) as the starters' students store them.
STARTER_RNN = """
import torch
import torch.nn as nn


class VanillaRNN(nn.Module):

    def __init__(self, seq_length, input_dim, num_hidden, num_classes, ARGS):
        super(VanillaRNN, self).__init__()
        self.seq_length, self.num_hidden, self.device = seq_length, num_hidden, device
        self.W_hx = nn.Parameter(torch.randn(num_hidden, input_dim) * 0.1)
        self.W_hh = nn.Parameter(torch.randn(num_hidden, num_hidden) * 0.1)
        self.b_h = nn.Parameter(torch.zeros(num_hidden))
        self.W_ph = nn.Parameter(torch.randn(num_classes, num_hidden) * 0.1)
        self.b_p = nn.Parameter(torch.zeros(num_classes))

    def forward(self, x):
        h = torch.zeros(x.shape[0], self.num_hidden, dtype=x.dtype, device=self.device)
        for t in range(self.seq_length):
            h = torch.tanh(x[:, t:t + 1] @ self.W_hx.t() + h @ self.W_hh.t() + self.b_h)
        return h @ self.W_ph.t() + self.b_p
"""

STARTER_LSTM = """
import torch
import torch.nn as nn


class LSTM(nn.Module):

    def __init__(self, seq_length, input_dim, num_hidden, num_classes, ARGS):
        super(LSTM, self).__init__()
        self.seq_length, self.num_hidden, self.device = seq_length, num_hidden, device
        for gate in "gifo":
            setattr(self, "W_%sx" % gate, nn.Parameter(torch.randn(num_hidden, input_dim) * 0.1))
            setattr(self, "W_%sh" % gate, nn.Parameter(torch.randn(num_hidden, num_hidden) * 0.1))
            setattr(self, "b_%s" % gate, nn.Parameter(torch.zeros(num_hidden)))
        self.W_ph = nn.Parameter(torch.randn(num_classes, num_hidden) * 0.1)
        self.b_p = nn.Parameter(torch.zeros(num_classes))

    def gate(self, name, x, h):
        return x @ getattr(self, "W_%sx" % name).t() + h @ getattr(self, "W_%sh" % name).t() \\
            + getattr(self, "b_%s" % name)

    def forward(self, x):
        h = torch.zeros(x.shape[0], self.num_hidden, dtype=x.dtype, device=self.device)
        c = torch.zeros_like(h)
        for t in range(self.seq_length):
            xt = x[:, t:t + 1]
            g = torch.tanh(self.gate("g", xt, h))
            i, f, o = (torch.sigmoid(self.gate(k, xt, h)) for k in "ifo")
            c = g * i + c * f
            h = torch.tanh(c) * o
        return h @ self.W_ph.t() + self.b_p
"""


@pytest.mark.parametrize("args", ["batch_size, device='cpu'", "device='cpu'"])
def test_starter_layout_rnn_and_lstm_of_either_edition_pass(tmp_path, args):
    folder = tmp_path / "starter"
    folder.mkdir()
    (folder / "vanilla_rnn.py").write_text(STARTER_RNN.replace("ARGS", args))
    (folder / "lstm.py").write_text(STARTER_LSTM.replace("ARGS", args))
    verdicts = run_checks("cvbl-2019", folder)
    assert [v.status for v in verdicts] == ["PASS", "PASS"], verdicts
