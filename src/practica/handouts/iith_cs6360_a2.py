"""IIT-H CS6360 A2 §2's starter code, min-char-rnn (Karpathy's gist): ``lossFun(inputs,
targets, hprev)`` reading the module's globals ``Wxh``, ``Whh``, ``Why``, ``bh``, ``by``
(column vectors, ``h' = tanh(Wxh x + Whh h + bh)``), returning ``loss, dWxh, dWhh, dWhy,
dbh, dby, hs[len(inputs) − 1]`` with the gradients clipped to ±5 as the gist does; and
``sample(h, seed_ix, n)``, the list of ``n`` indices drawn one after the other, each fed
back as the next input with the state carried, with ``p = exp(y) / Σ exp(y)`` and
``np.random.choice(range(vocab_size), p=p.ravel())`` on NumPy's global RNG, as the gist
does (so ``np.random.seed`` replays it); backed by
:class:`practica.numpy_nn.char_rnn.CharRNN`.

Provenance: compared with public copies of the gist (``min-char-rnn.py``), which agree on
``lossFun(inputs, targets, hprev)`` with ``inputs``/``targets`` lists of indices and
``hprev`` of shape (hidden, 1), the globals above with ``vocab_size`` (read at the top of
the script from the data), the gradients clipped in place with ``np.clip(…, -5, 5)`` and
``sample(h, seed_ix, n)`` returning the list ``ixes``. The gist itself is Python 2
(``xrange``, ``print`` statements): a learner runs it under Python 3 with those two
changed."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..numpy_nn.char_rnn import CharRNN, clip_grads, softmax_column

#: The globals lossFun reads, as in the gist (set them before calling it).
Wxh = Whh = Why = bh = by = np.zeros((0, 0))


def lossFun(inputs: Sequence[int], targets: Sequence[int],  # noqa: N802 - the gist's name
            hprev: np.ndarray) -> tuple:
    model = _model()
    loss, grads, h = model.loss_and_grads(inputs, targets, hprev)
    clip_grads(grads, 5.0)
    return loss, grads["Wxh"], grads["Whh"], grads["Why"], grads["bh"], grads["by"], h


def _model() -> CharRNN:
    return CharRNN.from_params({"Wxh": Wxh, "Whh": Whh, "Why": Why, "bh": bh, "by": by})


def sample(h: np.ndarray, seed_ix: int, n: int, alpha: float = 1.0) -> list[int]:
    """``n`` indices sampled from ``softmax(α y)`` (temperature 1/α; the gist's α = 1)."""
    model, ix, out = _model(), seed_ix, []
    for _ in range(n):
        y, h = model.step(ix, h)
        p = softmax_column(alpha * y)
        ix = int(np.random.choice(range(len(p)), p=p.ravel()))
        out.append(ix)
    return out
