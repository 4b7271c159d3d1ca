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
         x, w, b = cache
         return dout @ w.T, x.T @ dout, -dout.sum(axis=0)   # a wrong sign
     """, "FAIL", "fc_backward: db is wrong (expected the column sums of dY)"),
    ("fc", """
     def fc_backward(dout, cache):
         x, w, b = cache
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


# A folder laid out as the public HW4 starter: layers.py's functions with the starter's
# signatures and caches (fc's cache is (x, w, b)), and rnn_layers.py with the given
# time-major rnn_forward — x (T, N, D), h (T, N, H) — and rnn_step caches
# (Wx, Wh, x, prev_h, h_raw). Bodies written here in plain NumPy.
STARTER_LAYERS = '''
import numpy as np


def fc_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    cache = (x, w, b)
    return out, cache


def fc_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    out = np.maximum(x, 0)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    dx, x = None, cache
    dx = dout * (x > 0)
    return dx
'''

STARTER_CNN = '''
import numpy as np


def conv_forward(x, w):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    out = np.zeros((N, F, H - HH + 1, W - WW + 1))
    for i in range(H - HH + 1):
        for j in range(W - WW + 1):
            out[:, :, i, j] = np.einsum("nchw,fchw->nf", x[:, :, i:i + HH, j:j + WW], w)
    cache = (x, w)
    return out, cache


def conv_backward(dout, cache):
    x, w = cache
    _, _, HH, WW = w.shape
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            dx[:, :, i:i + HH, j:j + WW] += np.einsum("nf,fchw->nchw", dout[:, :, i, j], w)
            dw += np.einsum("nf,nchw->fchw", dout[:, :, i, j], x[:, :, i:i + HH, j:j + WW])
    return dx, dw


def max_pool_forward(x, pool_param):
    ph, pw, s = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    N, C, H, W = x.shape
    out = np.zeros((N, C, 1 + (H - ph) // s, 1 + (W - pw) // s))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = x[:, :, i * s:i * s + ph, j * s:j * s + pw].max(axis=(2, 3))
    cache = (x, pool_param)
    return out, cache


def max_pool_backward(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            window = x[:, :, i * s:i * s + ph, j * s:j * s + pw]
            mask = window == window.max(axis=(2, 3), keepdims=True)
            dx[:, :, i * s:i * s + ph, j * s:j * s + pw] += mask * dout[:, :, i, j, None, None]
    return dx
'''

STARTER_SOFTMAX = '''

def softmax_loss(x, y):
    N = x.shape[0]
    p = np.exp(x - x.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(N), y]).sum() / N
    dx = p.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx / N
'''

STARTER_RNN_LAYERS = '''
import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    h_raw = x @ Wx + prev_h @ Wh + b
    next_h = np.tanh(h_raw)
    cache = (Wx, Wh, x, prev_h, h_raw)
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    Wx, Wh, x, prev_h, h_raw = cache
    dh_raw = (1 - np.tanh(h_raw) ** 2) * dnext_h
    return dh_raw @ Wx.T, dh_raw @ Wh.T, x.T @ dh_raw, prev_h.T @ dh_raw, dh_raw.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b):
    T, N, D = x.shape
    h, steps, prev = np.zeros((T, N, Wh.shape[0])), {}, h0
    for t in range(T):
        prev, steps[t] = rnn_step_forward(x[t], prev, Wx, Wh, b)
        h[t] = prev
    cache = (h0, steps, N, T, D, Wh.shape[0])
    return h, cache


def rnn_backward(dh, cache):
    h0, steps, N, T, D, H = cache
    dx, dWx, dWh, db = np.zeros((T, N, D)), np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
    dprev_h = 0
    for t in reversed(range(T)):
        dx[t], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[t] + dprev_h, steps[t])
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dprev_h, dWx, dWh, db


def word_embedding_forward(x, W):
    out = W[x, :]
    cache = x, W
    return out, cache


def word_embedding_backward(dout, cache):
    x, W = cache
    dW = np.zeros_like(W)
    np.add.at(dW, x, dout)
    return dW


def temporal_fc_forward(x, w, b):
    out = x @ w + b
    cache = (x, w, b, out)
    return out, cache


def temporal_fc_backward(dout, cache):
    x, w, b, out = cache
    N, T, D = x.shape
    dx = dout @ w.T
    dw = x.reshape(N * T, D).T @ dout.reshape(N * T, -1)
    db = dout.sum(axis=(0, 1))
    return dx, dw, db


def temporal_softmax_loss(x, y, mask):
    N, T, V = x.shape
    flat = x.reshape(N * T, V)
    p = np.exp(flat - flat.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    m = mask.reshape(N * T)
    loss = -np.sum(m * np.log(p[np.arange(N * T), y.reshape(N * T)])) / N
    dx = p.copy()
    dx[np.arange(N * T), y.reshape(N * T)] -= 1
    dx *= m[:, None] / N
    return loss, dx.reshape(N, T, V)
'''


def test_a_starter_layout_folder_passes_every_piece(tmp_path):
    folder = tmp_path / "starter"
    folder.mkdir()
    (folder / "layers.py").write_text(STARTER_LAYERS + STARTER_CNN.replace(
        "import numpy as np\n", "") + STARTER_SOFTMAX)
    (folder / "rnn_layers.py").write_text(STARTER_RNN_LAYERS)
    verdicts = run_checks("eecs545-hw4", folder)
    assert [v.status for v in verdicts] == ["PASS"] * 10, verdicts


def test_the_later_editions_cnn_layers_file_is_read_for_conv_and_pooling(tmp_path):
    folder = tmp_path / "cnn_layers"
    folder.mkdir()
    (folder / "layers.py").write_text(STARTER_LAYERS + STARTER_SOFTMAX)
    (folder / "cnn_layers.py").write_text(STARTER_CNN)
    assert [v.status for v in run_checks("eecs545-hw4", folder, ["conv", "max_pool"])] == \
        ["PASS", "PASS"]
    (folder / "cnn_layers.py").unlink()
    (v,) = run_checks("eecs545-hw4", folder, ["conv"])
    assert v.status == "MISSING" and "layers.py (nor cnn_layers.py) has no function " \
        "conv_forward" in v.message, v
