"""practica check on EECS 545 HW4: the reference, reached through the starter-code
interface, passes every piece; deliberately broken implementations each fail with the
message that names what is wrong; a hang, a syntax error and a missing function are
reported per piece, never as a traceback of practica."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from practica import cli
from practica.check import run_checks

REFERENCE = "from practica.handouts.eecs545_hw4 import *  # noqa: F401,F403\n"


def learner(folder: Path, layers: str = "", rnn_layers: str = "") -> Path:
    """A learner's folder: the reference with some functions replaced by ``layers``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "layers.py").write_text(REFERENCE + "import numpy as np\n"
                                      + textwrap.dedent(layers))
    (folder / "rnn_layers.py").write_text(REFERENCE + "import numpy as np\n"
                                          + textwrap.dedent(rnn_layers))
    return folder


def verdict(folder: Path, piece: str, timeout: float = 30):
    (v,) = run_checks("eecs545-hw4", folder, [piece], timeout=timeout)
    return v


def test_the_reference_through_the_starter_interface_passes_every_piece(tmp_path, capsys):
    folder = learner(tmp_path / "ok")
    assert cli.main(["check", "eecs545-hw4", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out.count(" PASS ") == 10 and "10 of 10 pieces pass" in out


@pytest.mark.parametrize("piece, code, status, message", [
    ("fc", """
     def fc_backward(dout, cache):
         x, w = cache
         return dout @ w.T, x.T @ dout, -dout.sum(axis=0)   # a wrong sign
     """, "FAIL", "fc_backward: db is wrong (expected the column sums of dY)"),
    ("fc", """
     def fc_backward(dout, cache):
         x, w = cache
         return dout @ w.T, dout.T @ x, dout.sum(axis=0)    # a transposed weight gradient
     """, "FAIL", "fc_backward: dw has shape (4, 5), expected (5, 4)"),
    ("softmax_loss", """
     def softmax_loss(x, y):
         p = np.exp(x - x.max(axis=1, keepdims=True))
         p /= p.sum(axis=1, keepdims=True)
         loss = -np.log(p[np.arange(len(y)), y]).mean()
         p[np.arange(len(y)), y] -= 1
         return loss, p                                     # a missing 1/N
     """, "FAIL", "softmax_loss: dx is wrong (expected (softmax(x) − onehot(y)) / N)"),
    ("relu", """
     def relu_backward(dout, cache):
         return dout * (cache >= 0)                         # another subgradient at 0: fine
     """, "PASS", "ReLU"),
    ("relu", """
     def relu_backward(dout, cache):
         return dout * (cache < 0)                          # the wrong side
     """, "FAIL", "relu_backward: dx is wrong (expected dY where X > 0, else 0)"),
    ("conv", """
     def conv_forward(x, w):                                # a convolution: kernel flipped
         from practica.numpy_nn.conv import batch_conv2d_valid
         return batch_conv2d_valid(x[:, None], w[None]).sum(axis=2), (x, w)
     """, "FAIL", "conv_forward: out is wrong (Y_nf = Σ_c X_nc ⋆_filt W_fc"),
    ("max_pool", """
     def max_pool_forward(x, pool_param):                   # square windows only
         p = pool_param["pool_height"]
         return max_pool_forward_ref(x, {**pool_param, "pool_width": p})
     from practica.handouts.eecs545_hw4 import max_pool_forward as max_pool_forward_ref
     """, "FAIL", "max_pool_forward: out is wrong (windows 2×3, stride 2)"),
    ("word_embedding", """
     def word_embedding_forward(x, W):
         return W[x], (x, W)

     def word_embedding_backward(dout, cache):
         x, W = cache
         dW = np.zeros_like(W)
         dW[x] += dout                                      # repeated words overwrite
         return dW
     """, "FAIL", "word_embedding_backward: dW is wrong (rows of repeated words must accumulate"),
])
def test_broken_implementations_fail_with_the_right_message(tmp_path, piece, code, status,
                                                            message):
    target = "rnn_layers" if piece in ("word_embedding",) else "layers"
    folder = learner(tmp_path / "broken", **{target: code})
    v = verdict(folder, piece)
    assert v.status == status, v
    assert message in v.message, v.message


def test_a_truncated_backpropagation_through_time_fails(tmp_path):
    folder = learner(tmp_path / "bptt", rnn_layers="""
        from practica.handouts.eecs545_hw4 import rnn_step_backward

        def rnn_backward(dh, cache):
            steps = cache
            dx, grads = [], None
            for t in reversed(range(len(steps))):
                g = rnn_step_backward(dh[:, t], steps[t])   # the next step's dprev_h dropped
                dx.append(g[0])
                grads = g if grads is None else [a + b for a, b in zip(grads, g)]
            return np.stack(dx[::-1], axis=1), grads[1], grads[2], grads[3], grads[4]

        def rnn_forward(x, h0, Wx, Wh, b):
            from practica.handouts.eecs545_hw4 import rnn_step_forward
            h, steps, prev = [], [], h0
            for t in range(x.shape[1]):
                prev, c = rnn_step_forward(x[:, t], prev, Wx, Wh, b)
                h.append(prev)
                steps.append(c)
            return np.stack(h, axis=1), steps
        """)
    v = verdict(folder, "rnn")
    assert v.status == "FAIL" and "rnn_backward: dx is wrong" in v.message, v


def test_an_ignored_mask_fails(tmp_path):
    folder = learner(tmp_path / "mask", rnn_layers="""
        def temporal_softmax_loss(x, y, mask):
            n, t, v = x.shape
            flat = x.reshape(n * t, v)
            p = np.exp(flat - flat.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            loss = -np.log(p[np.arange(n * t), y.reshape(-1)]).sum() / n
            p[np.arange(n * t), y.reshape(-1)] -= 1
            return loss, (p / n).reshape(n, t, v)           # the mask is ignored
        """)
    v = verdict(folder, "temporal_softmax_loss")
    assert v.status == "FAIL" and "loss is wrong (masked steps must add nothing" in v.message


def test_a_hang_a_syntax_error_and_a_missing_function_are_reported_per_piece(tmp_path):
    hang = learner(tmp_path / "hang", layers="""
        def relu_forward(x):
            while True:
                pass
        """)
    v = verdict(hang, "relu", timeout=3)
    assert v.status == "TIMEOUT" and "no answer within 3 s" in v.message
    broken = learner(tmp_path / "syntax", layers="def fc_forward(x, w, b)\n    return x\n")
    v = verdict(broken, "fc")
    assert v.status == "ERROR" and "SyntaxError" in v.message and "layers.py line" in v.message
    folder = tmp_path / "missing"
    folder.mkdir()
    (folder / "layers.py").write_text("import numpy as np\n\ndef fc_forward(x, w, b):\n"
                                      "    raise NotImplementedError\n")
    assert verdict(folder, "fc").status == "MISSING"
    v = verdict(folder, "relu")
    assert v.status == "MISSING" and "layers.py has no function relu_forward" in v.message
    assert verdict(folder, "temporal_fc").message.startswith("no rnn_layers.py in")


def test_a_crash_in_the_learner_code_names_its_line(tmp_path):
    folder = learner(tmp_path / "crash", layers="""
        def fc_forward(x, w, b):
            return x @ w.T + b, (x, w)                      # a transposed weight: it raises
        """)
    v = verdict(folder, "fc")
    assert v.status == "ERROR" and "ValueError" in v.message and "layers.py line" in v.message


def test_json_for_graders_and_exit_codes(tmp_path, capsys):
    folder = learner(tmp_path / "j", layers="""
        def relu_backward(dout, cache):
            return -dout
        """)
    out = tmp_path / "verdicts.json"
    assert cli.main(["check", "eecs545-hw4", str(folder), "--only", "relu", "fc",
                     "--json", str(out)]) == 1
    rows = json.loads(out.read_text())
    assert [(r["piece"], r["status"]) for r in rows] == [("fc", "PASS"), ("relu", "FAIL")]
    assert rows[1]["question"] == "Q1 (b)"
    capsys.readouterr()
    assert cli.main(["check", "uva-dl-2", str(folder)]) == 2
    assert ("practica check knows uva-dl-1, cvbl-2019, eecs545-hw4, waterloo-a5, "
            "iith-cs6360-a2") in \
        capsys.readouterr().err
    assert cli.main(["check", "eecs545-hw4", str(tmp_path / "nowhere")]) == 2
    assert cli.main(["check", "eecs545-hw4", str(folder), "--only", "nope"]) == 2
