r"""min-char-rnn: a vanilla RNN character model with hand-written BPTT (IIT-H CS6360 A2 §2).

For one-hot inputs ``x_t`` (V×1) and hidden state ``h_t`` (H×1):

    h_t = tanh(Wxh x_t + Whh h_{t−1} + bh)
    y_t = Why h_t + by,      p_t = softmax(y_t)
    L   = −Σ_t log p_t[target_t]          (summed over the sequence, as min-char-rnn)

Backward through time, with ``dy_t = p_t − onehot(target_t)`` and ``dh_next`` the gradient
arriving from step t+1 (zero after the last step):

    dWhy += dy_t h_tᵀ,   dby += dy_t
    dh_t  = Whyᵀ dy_t + dh_next
    da_t  = (1 − h_t²) ∘ dh_t                 (through tanh)
    dWxh += da_t x_tᵀ,   dWhh += da_t h_{t−1}ᵀ,   dbh += da_t
    dh_next = Whhᵀ da_t

Training is min-char-rnn's: sequences of 25 characters swept through the text with the
hidden state carried between them, every gradient element clipped to [−5, 5], Adagrad
(``m += g²; θ −= lr g / sqrt(m + 1e-8)``, lr 0.1). This module never imports torch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

NAMES = ("Wxh", "Whh", "Why", "bh", "by")


def softmax_column(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


class CharRNN:
    """Parameters ``Wxh, Whh, Why, bh, by`` (column-vector convention, as min-char-rnn)."""

    def __init__(self, vocab_size: int, hidden_size: int = 100, *, seed: int = 0,
                 dtype: np.dtype | type = np.float64) -> None:
        rng = np.random.default_rng(seed)
        v, h = vocab_size, hidden_size
        self.params: dict[str, np.ndarray] = {
            "Wxh": (rng.standard_normal((h, v)) * 0.01).astype(dtype),
            "Whh": (rng.standard_normal((h, h)) * 0.01).astype(dtype),
            "Why": (rng.standard_normal((v, h)) * 0.01).astype(dtype),
            "bh": np.zeros((h, 1), dtype),
            "by": np.zeros((v, 1), dtype),
        }

    @classmethod
    def from_params(cls, params: dict[str, np.ndarray]) -> CharRNN:
        model = cls.__new__(cls)
        model.params = {k: np.array(params[k], dtype=np.float64) for k in NAMES}
        return model

    @property
    def hidden_size(self) -> int:
        return self.params["Whh"].shape[0]

    @property
    def vocab_size(self) -> int:
        return self.params["Why"].shape[0]

    def zero_state(self) -> np.ndarray:
        return np.zeros((self.hidden_size, 1), self.params["Whh"].dtype)

    def step(self, index: int, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One character in: the logits ``y`` (V,) of the next one and the new state."""
        p = self.params
        h = np.tanh(p["Wxh"][:, index: index + 1] + p["Whh"] @ h + p["bh"])
        return (p["Why"] @ h + p["by"]).ravel(), h

    def loss_and_grads(self, inputs: Sequence[int], targets: Sequence[int],
                       hprev: np.ndarray) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
        """Summed cross-entropy of ``targets`` given ``inputs``, its gradients, last state."""
        p = self.params
        hs = {-1: hprev}
        ps = {}
        loss = 0.0
        for t, (i, j) in enumerate(zip(inputs, targets, strict=True)):
            hs[t] = np.tanh(p["Wxh"][:, i: i + 1] + p["Whh"] @ hs[t - 1] + p["bh"])
            ps[t] = softmax_column(p["Why"] @ hs[t] + p["by"])
            loss -= float(np.log(ps[t][j, 0]))
        grads = {k: np.zeros_like(v) for k, v in p.items()}
        dh_next = np.zeros_like(hprev)
        for t in reversed(range(len(inputs))):
            dy = ps[t].copy()
            dy[targets[t]] -= 1.0
            grads["Why"] += dy @ hs[t].T
            grads["by"] += dy
            dh = p["Why"].T @ dy + dh_next
            da = (1.0 - hs[t] ** 2) * dh
            grads["Wxh"][:, inputs[t]] += da[:, 0]
            grads["Whh"] += da @ hs[t - 1].T
            grads["bh"] += da
            dh_next = p["Whh"].T @ da
        return loss, grads, hs[len(inputs) - 1]


def clip_grads(grads: dict[str, np.ndarray], limit: float = 5.0) -> None:
    """Clip every gradient element to ``[−limit, limit]`` in place (min-char-rnn)."""
    for g in grads.values():
        np.clip(g, -limit, limit, out=g)


class Adagrad:
    """``m += g²;  θ −= lr · g / sqrt(m + eps)`` for every parameter."""

    def __init__(self, params: dict[str, np.ndarray], lr: float = 0.1, eps: float = 1e-8) -> None:
        self.lr, self.eps = lr, eps
        self.memory = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        for k, g in grads.items():
            self.memory[k] += g * g
            params[k] -= self.lr * g / np.sqrt(self.memory[k] + self.eps)


class Sweep:
    """min-char-rnn's data order: consecutive ``seq_length`` chunks, state carried, the
    position and state reset to the start when the end of the text is reached."""

    def __init__(self, data: np.ndarray, seq_length: int, hidden_size: int) -> None:
        if len(data) < seq_length + 1:
            raise ValueError(f"need more than seq_length={seq_length} characters")
        self.data, self.seq_length, self.hidden_size = data, seq_length, hidden_size
        self.position = 0
        self.h = np.zeros((hidden_size, 1))

    def next(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(inputs, targets, state to start from)."""
        if self.position + self.seq_length + 1 > len(self.data):
            self.position = 0
            self.h = np.zeros((self.hidden_size, 1))
        chunk = self.data[self.position: self.position + self.seq_length + 1]
        self.position += self.seq_length
        return chunk[:-1], chunk[1:], self.h


def mean_loss(model: CharRNN, data: np.ndarray, chunk: int = 1000) -> float:
    """Mean cross-entropy (nats/char) over ``data``, state carried across the whole text."""
    h = model.zero_state()
    total, count = 0.0, 0
    p = model.params
    for start in range(0, len(data) - 1, chunk):
        piece = data[start: start + chunk + 1]
        for i, j in zip(piece[:-1], piece[1:], strict=True):
            h = np.tanh(p["Wxh"][:, i: i + 1] + p["Whh"] @ h + p["bh"])
            y = (p["Why"] @ h + p["by"]).ravel()
            m = y.max()
            total += float(m + np.log(np.exp(y - m).sum()) - y[j])
            count += 1
    return total / max(count, 1)
