r"""Vanilla RNN and LSTM from raw parameters (CVbL 2019, §3.2-3.3; palindrome task, §3.1).

Both models are sequence-to-one classifiers: they unroll over ``T = seq_length`` steps with a
Python ``for`` loop, start from ``h(0) = 0`` (and ``c(0) = 0``), and return the logits
``p(T)`` of the last step, shape ``(N, num_classes)``. Only ``nn.Parameter`` tensors and
matrix products are used: no ``nn.RNN``, ``nn.LSTM``, ``nn.RNNCell`` or ``nn.Linear``.

Equations are written for column vectors as in the handout; the code uses the batch-first
row-vector form ``x W_ᵀ``, i.e. a weight ``W_hx`` of shape ``(n, d)`` maps ``x ∈ R^d`` to
``R^n``.

**Inputs.** ``x`` may be

* ``(N, T)`` digits (the palindrome data set yields these as floats). With
  ``input_dim == 1`` each digit is fed as its raw value, ``x(t) ∈ R^1`` (the default of the
  course's ``part1/train.py``); with ``input_dim > 1`` it is one-hot encoded to
  ``R^{input_dim}`` (digits must be integers in ``[0, input_dim)``).
* ``(N, T, input_dim)`` real-valued feature vectors, used as they are.

**Initialisation.** Every weight and bias is drawn from ``U(−1/√n, 1/√n)`` with ``n`` the
number of hidden units — the scheme of ``torch.nn.RNN`` / ``torch.nn.LSTM`` (and, for
``W_ph``, the fan-in bound of ``torch.nn.Linear``). It keeps the pre-activations of
``tanh``/``σ`` O(1) at the start of training whatever ``n`` is.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def lstm_parameter_count(input_dim: int, num_hidden: int, num_classes: int) -> int:
    """Trainable parameters of :class:`LSTM` in closed form (CVbL Question 3.4 b).

    Each of the four gates ``g, i, f, o`` has ``W_·x ∈ R^{n×d}``, ``W_·h ∈ R^{n×n}`` and
    ``b_· ∈ R^n``; the output layer has ``W_ph ∈ R^{k×n}`` and ``b_p ∈ R^k``::

        4·(n·d + n·n + n) + (k·n + k)

    The LSTM *cell* alone is the first term; batch size ``m`` and length ``T`` do not enter.
    """
    d, n, k = input_dim, num_hidden, num_classes
    return 4 * (n * d + n * n + n) + (k * n + k)


def _uniform_parameter(shape: tuple[int, ...], bound: float) -> nn.Parameter:
    return nn.Parameter(torch.empty(shape).uniform_(-bound, bound))


class _SequenceClassifier(nn.Module):
    """Shared input handling for the two recurrent models."""

    seq_length: int
    input_dim: int

    def _prepare_input(self, x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """Map ``(N, T)`` digits or ``(N, T, D)`` features to ``(N, T, input_dim)`` floats."""
        if x.dim() == 2:
            if self.input_dim == 1:
                x = x.unsqueeze(-1)  # raw digit value as a 1-D input
            else:
                if x.is_floating_point() and not torch.equal(x, x.round()):
                    raise ValueError("digit inputs of shape (N, T) must be integer-valued")
                if x.numel() and (x.min() < 0 or x.max() >= self.input_dim):
                    raise ValueError(
                        f"digits must lie in [0, input_dim={self.input_dim}) for one-hot "
                        f"encoding, got range [{x.min().item()}, {x.max().item()}]"
                    )
                x = F.one_hot(x.long(), num_classes=self.input_dim)
        elif x.dim() == 3:
            if x.shape[-1] != self.input_dim:
                raise ValueError(
                    f"expected input features of size input_dim={self.input_dim}, "
                    f"got shape {tuple(x.shape)}"
                )
        else:
            raise ValueError(
                f"expected input of shape (N, T) or (N, T, {self.input_dim}), "
                f"got shape {tuple(x.shape)}"
            )
        if x.shape[1] != self.seq_length:
            raise ValueError(
                f"expected sequences of length seq_length={self.seq_length}, got {x.shape[1]}"
            )
        return x.to(dtype)


class VanillaRNN(_SequenceClassifier):
    r"""Elman RNN, CVbL equations (1)-(2)::

        h(t) = tanh(W_hx x(t) + W_hh h(t−1) + b_h),    h(0) = 0
        p(t) = W_ph h(t) + b_p

    ``forward`` returns ``p(T)``; ``softmax(p(T))`` with cross-entropy is the handout's loss (3).

    Args:
        seq_length: number of time steps ``T`` the input must have.
        input_dim: size ``d`` of ``x(t)`` (1 for raw digits, 10 for one-hot digits).
        num_hidden: hidden units ``n``.
        num_classes: output classes ``k``.

    Parameters: ``W_hx (n, d)``, ``W_hh (n, n)``, ``b_h (n,)``, ``W_ph (k, n)``, ``b_p (k,)``.
    """

    def __init__(self, seq_length: int, input_dim: int, num_hidden: int, num_classes: int) -> None:
        super().__init__()
        self.seq_length = seq_length
        self.input_dim = input_dim
        self.num_hidden = num_hidden
        self.num_classes = num_classes
        bound = 1.0 / math.sqrt(num_hidden)
        self.W_hx = _uniform_parameter((num_hidden, input_dim), bound)
        self.W_hh = _uniform_parameter((num_hidden, num_hidden), bound)
        self.b_h = _uniform_parameter((num_hidden,), bound)
        self.W_ph = _uniform_parameter((num_classes, num_hidden), bound)
        self.b_p = _uniform_parameter((num_classes,), bound)

    def step(self, x_t: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """One recurrence ``h(t) = tanh(W_hx x(t) + W_hh h(t−1) + b_h)``.

        ``x_t`` has shape ``(N, d)`` and ``h`` (``h(t−1)``) shape ``(N, n)``; returns ``h(t)``.
        """
        return torch.tanh(x_t @ self.W_hx.T + h @ self.W_hh.T + self.b_h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Unroll over ``T`` steps; return ``p(T)`` of shape ``(N, num_classes)``."""
        x = self._prepare_input(x, self.W_hx.dtype)
        h = x.new_zeros(x.shape[0], self.num_hidden)  # h(0) = 0
        for t in range(self.seq_length):
            h = self.step(x[:, t], h)
        return h @ self.W_ph.T + self.b_p


class LSTM(_SequenceClassifier):
    r"""LSTM of CVbL equations (4)-(10)::

        g(t) = tanh(W_gx x(t) + W_gh h(t−1) + b_g)       input modulation
        i(t) = σ(W_ix x(t) + W_ih h(t−1) + b_i)          input gate
        f(t) = σ(W_fx x(t) + W_fh h(t−1) + b_f)          forget gate
        o(t) = σ(W_ox x(t) + W_oh h(t−1) + b_o)          output gate
        c(t) = g(t) ⊙ i(t) + c(t−1) ⊙ f(t)
        h(t) = tanh(c(t)) ⊙ o(t)
        p(t) = W_ph h(t) + b_p,                          h(0) = c(0) = 0

    ``forward`` returns ``p(T)``. Each gate has its own ``W_·x (n, d)``, ``W_·h (n, n)`` and
    ``b_· (n,)``, named as in the handout; :func:`lstm_parameter_count` gives the total.
    This is the cell of ``torch.nn.LSTMCell`` with its gate order ``(i, f, g, o)`` and its
    two biases ``b_ih + b_hh`` merged into one.

    Args:
        seq_length: number of time steps ``T`` the input must have.
        input_dim: size ``d`` of ``x(t)`` (1 for raw digits, 10 for one-hot digits).
        num_hidden: hidden/cell units ``n``.
        num_classes: output classes ``k``.
        forget_bias: added to ``b_f`` at initialisation. 0 is the handout's model
            (``f ≈ σ(0) = ½`` at first: half the cell is forgotten per step); 1 starts the
            forget gates near ``σ(1) ≈ 0.73``, the remedy of Gers et al. (2000) and
            Jozefowicz et al. (2015) for long time lags.
    """

    GATES: tuple[str, ...] = ("g", "i", "f", "o")
    #: compute the four gates with one stacked matrix product per step (see _forward_fused)
    fused: bool = False

    def __init__(self, seq_length: int, input_dim: int, num_hidden: int, num_classes: int,
                 forget_bias: float = 0.0) -> None:
        super().__init__()
        self.seq_length = seq_length
        self.input_dim = input_dim
        self.num_hidden = num_hidden
        self.num_classes = num_classes
        bound = 1.0 / math.sqrt(num_hidden)
        for gate in self.GATES:
            setattr(self, f"W_{gate}x", _uniform_parameter((num_hidden, input_dim), bound))
            setattr(self, f"W_{gate}h", _uniform_parameter((num_hidden, num_hidden), bound))
            setattr(self, f"b_{gate}", _uniform_parameter((num_hidden,), bound))
        self.W_ph = _uniform_parameter((num_classes, num_hidden), bound)
        self.b_p = _uniform_parameter((num_classes,), bound)
        with torch.no_grad():
            self.b_f += forget_bias

    def chrono_init_(self, t_max: int, generator: torch.Generator | None = None) -> None:
        r"""Chrono initialisation (Tallec & Ollivier, 2018) for lags up to ``t_max`` steps::

            b_f ~ log 𝒰(1, t_max − 1),    b_i = −b_f

        Unit ``j`` then starts with a memory time of about ``1 / (1 − σ(b_f,j))`` steps,
        spread from 2 to ``t_max``, and its input gate mostly shut, so the cell is not
        overwritten by every new digit.
        """
        if t_max < 3:
            raise ValueError(f"chrono initialisation needs t_max >= 3, got {t_max}")
        with torch.no_grad():
            u = torch.empty(self.num_hidden).uniform_(1.0, t_max - 1.0, generator=generator)
            self.b_f.copy_(torch.log(u))
            self.b_i.copy_(-self.b_f)

    def _gate(self, gate: str, x_t: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """Pre-activation ``W_·x x(t) + W_·h h(t−1) + b_·`` of one gate."""
        w_x = getattr(self, f"W_{gate}x")
        w_h = getattr(self, f"W_{gate}h")
        return x_t @ w_x.T + h @ w_h.T + getattr(self, f"b_{gate}")

    def step(
        self, x_t: torch.Tensor, h: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One cell update, equations (4)-(9): ``(x(t), h(t−1), c(t−1)) → (h(t), c(t))``."""
        g = torch.tanh(self._gate("g", x_t, h))
        i = torch.sigmoid(self._gate("i", x_t, h))
        f = torch.sigmoid(self._gate("f", x_t, h))
        o = torch.sigmoid(self._gate("o", x_t, h))
        c = g * i + c * f
        h = torch.tanh(c) * o
        return h, c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Unroll over ``T`` steps; return ``p(T)`` of shape ``(N, num_classes)``."""
        x = self._prepare_input(x, self.W_ph.dtype)
        h = x.new_zeros(x.shape[0], self.num_hidden)  # h(0) = 0
        c = torch.zeros_like(h)  # c(0) = 0
        if self.fused:
            return self._forward_fused(x, h, c)
        for t in range(self.seq_length):
            h, c = self.step(x[:, t], h, c)
        return h @ self.W_ph.T + self.b_p

    def _forward_fused(self, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor
                       ) -> torch.Tensor:
        """The same equations (4)-(10) with the gates' weights stacked: ``[W_gx; W_ix; W_fx;
        W_ox]`` (4n, d) applied to every ``x(t)`` at once, then one ``(4n, n)`` product with
        ``h(t−1)`` per step instead of eight. Equal to the loop over :meth:`step` up to
        floating-point rounding; several times fewer operations for small ``n``."""
        n = self.num_hidden
        w_x = torch.cat([getattr(self, f"W_{g}x") for g in self.GATES])
        w_h = torch.cat([getattr(self, f"W_{g}h") for g in self.GATES])
        b = torch.cat([getattr(self, f"b_{g}") for g in self.GATES])
        from_x = x @ w_x.T + b  # (N, T, 4n): the input part of every gate, all steps
        for t in range(self.seq_length):
            a = from_x[:, t] + h @ w_h.T
            g = torch.tanh(a[:, :n])
            i, f, o = torch.sigmoid(a[:, n:]).split(n, dim=1)
            c = g * i + c * f
            h = torch.tanh(c) * o
        return h @ self.W_ph.T + self.b_p
