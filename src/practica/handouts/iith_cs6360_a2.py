"""IIT-H CS6360 A2 §2's starter code, min-char-rnn (Karpathy's gist): ``lossFun(inputs,
targets, hprev)`` reading the module's globals ``Wxh``, ``Whh``, ``Why``, ``bh``, ``by``
(column vectors, ``h' = tanh(Wxh x + Whh h + bh)``), returning ``loss, dWxh, dWhh, dWhy,
dbh, dby, hs[len(inputs) − 1]`` with the gradients clipped to ±5 as the gist does; backed
by :class:`practica.numpy_nn.char_rnn.CharRNN`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..numpy_nn.char_rnn import CharRNN, clip_grads

#: The globals lossFun reads, as in the gist (set them before calling it).
Wxh = Whh = Why = bh = by = np.zeros((0, 0))


def lossFun(inputs: Sequence[int], targets: Sequence[int],  # noqa: N802 - the gist's name
            hprev: np.ndarray) -> tuple:
    model = CharRNN.from_params({"Wxh": Wxh, "Whh": Whh, "Why": Why, "bh": bh, "by": by})
    loss, grads, h = model.loss_and_grads(inputs, targets, hprev)
    clip_grads(grads, 5.0)
    return loss, grads["Wxh"], grads["Whh"], grads["Why"], grads["bh"], grads["by"], h
