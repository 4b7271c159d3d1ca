"""UvA Computer Vision by Learning 2019's starter-code interfaces (``part1/vanilla_rnn.py``,
``part1/lstm.py``), backed by :mod:`practica.models.rnn`.

``VanillaRNN(seq_length, input_dim, num_hidden, num_classes, batch_size, device)`` and
``LSTM(...)`` with the same arguments: ``forward(x)`` takes the palindrome digits of
shape (batch, seq_length) and returns the logits ``p(T)`` of the last step,
(batch, num_classes). Parameters are named as in the handout's equations (``W_hx``,
``W_hh``, ``b_h``, ``W_ph``, ``b_p``; the LSTM's ``W_gx`` … ``b_o``), each weight of shape
(out, in) so that a row vector maps as ``x Wᵀ``.

Provenance: the handout points to the UvA Deep Learning course's ``part1`` code. Its public
autumn-2018 starter (``assignment_2/part1/vanilla_rnn.py``, ``lstm.py``, ``train.py``)
has ``VanillaRNN(seq_length, input_dim, num_hidden, num_classes, batch_size,
device='cpu')`` with empty bodies, and ``train.py`` feeds the ``PalindromeDataset``
batches of shape (batch, seq_length) with ``input_dim`` 1; the autumn-2019 starter, as
students' public copies hold it, drops ``batch_size``:
``VanillaRNN(seq_length, input_dim, num_hidden, num_classes, device='cpu')``. Both are
accepted (``batch_size`` is optional here, and the check builds a learner's model by its
parameter names). The parameter names of the starters' students vary (``W_hx``,
``w_hx``, ``Whx``…); the check compares with the reference's weights when they match up
to case and underscores.
"""

from __future__ import annotations

from ..models import rnn


class VanillaRNN(rnn.VanillaRNN):
    """h(t) = tanh(W_hx x(t) + W_hh h(t−1) + b_h), p(t) = W_ph h(t) + b_p (equations 1–2)."""

    def __init__(self, seq_length: int, input_dim: int, num_hidden: int, num_classes: int,
                 batch_size: int | None = None, device: str = "cpu") -> None:
        super().__init__(seq_length, input_dim, num_hidden, num_classes)
        self.to(device)


class LSTM(rnn.LSTM):
    """The LSTM of equations 4–11: gates g (tanh), i, f, o (sigmoid), c and h."""

    def __init__(self, seq_length: int, input_dim: int, num_hidden: int, num_classes: int,
                 batch_size: int | None = None, device: str = "cpu") -> None:
        super().__init__(seq_length, input_dim, num_hidden, num_classes)
        self.to(device)
