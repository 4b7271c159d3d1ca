r"""Turning a character model's logits into text (NumPy only).

**The temperature convention used everywhere in practica**: the next-character
distribution at temperature ``T`` is

    p_T = softmax(z / T)

for the logits ``z``. ``T = 1`` is the model's own distribution, ``T → 0`` puts all mass on
the arg-max (``T = 0`` *is* greedy decoding here), ``T > 1`` flattens it towards uniform.
The IIT-H handout writes ``softmax(α z)``; that is the same thing with ``α = 1/T`` (its
"temperature 1/α"). The UvA handout's τ values (0.5, 1, 2) are ``T`` values.

A model plugs in through a *step function* ``step(index, state) -> (logits, state)``: feed
one character index, get the logits (shape ``(V,)``) of the next one and the new state.
The LSTM's state is ``(h, c)`` and the vanilla RNN's is ``h``; carrying it from call to call
is what lets generation run to any length and continue a prompt.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

State = Any
StepFn = Callable[[int, State], tuple[np.ndarray, State]]


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


def temperature_probs(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """``softmax(logits / T)``; ``T = 0`` gives the one-hot of the arg-max (greedy)."""
    logits = np.asarray(logits, dtype=np.float64)
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:
        out = np.zeros_like(logits)
        out[..., :] = np.eye(logits.shape[-1])[np.argmax(logits, axis=-1)]
        return out
    return np.exp(log_softmax(logits / temperature))


def top_k_logits(logits: np.ndarray, k: int) -> np.ndarray:
    """Logits with everything but the ``k`` largest set to −inf (``k = 0``: unchanged).

    Ties at the k-th value are broken towards the lower index, so exactly ``k`` survive.
    """
    logits = np.asarray(logits, dtype=np.float64)
    if k <= 0 or k >= logits.shape[-1]:
        return logits
    keep = np.argsort(-logits, kind="stable")[:k]
    out = np.full_like(logits, -np.inf)
    out[keep] = logits[keep]
    return out


def sample_index(logits: np.ndarray, rng: np.random.Generator, temperature: float = 1.0,
                 top_k: int = 0) -> int:
    """One index drawn from ``softmax(top_k(logits) / T)`` (arg-max when ``T = 0``)."""
    logits = top_k_logits(logits, top_k)
    if temperature == 0:
        return int(np.argmax(logits))
    p = temperature_probs(logits, temperature)
    return int(rng.choice(len(p), p=p / p.sum()))


def feed(step: StepFn, state: State, indices: Sequence[int]) -> tuple[np.ndarray, State]:
    """Run the model over ``indices``; the logits after the last one and the state."""
    if len(indices) == 0:
        raise ValueError("need at least one character to feed")
    logits = None
    for i in indices:
        logits, state = step(int(i), state)
    return logits, state


def generate(step: StepFn, state: State, prompt: Sequence[int], length: int,
             rng: np.random.Generator, temperature: float = 1.0, top_k: int = 0
             ) -> list[int]:
    """Feed ``prompt``, then sample ``length`` characters, each fed back in (state carried)."""
    logits, state = feed(step, state, prompt)
    out: list[int] = []
    for _ in range(length):
        nxt = sample_index(logits, rng, temperature, top_k)
        out.append(nxt)
        logits, state = step(nxt, state)
    return out


def beam_search(step: StepFn, state: State, prompt: Sequence[int], length: int,
                width: int = 5) -> list[tuple[list[int], float]]:
    """The ``width`` most probable continuations of ``length`` characters found by beam search.

    Each round every beam proposes its ``width`` best next characters; of all proposals the
    ``width`` with the highest total log-probability ``Σ log p(c_t | c_<t)`` survive (ties:
    the lexicographically smaller index sequence). Returns ``(indices, log_prob)``, best first.
    """
    if width < 1:
        raise ValueError(f"beam width must be >= 1, got {width}")
    logits, state = feed(step, state, prompt)
    beams: list[tuple[float, list[int], np.ndarray, State]] = [(0.0, [], logits, state)]
    for t in range(length):
        proposals = []
        for b, (score, seq, logits, _) in enumerate(beams):
            logp = log_softmax(logits)
            for c in np.argsort(-logp, kind="stable")[:width]:
                proposals.append((score + float(logp[c]), [*seq, int(c)], b))
        proposals.sort(key=lambda p: (-p[0], p[1]))
        new_beams = []
        for score, seq, b in proposals[:width]:
            if t + 1 < length:
                nxt_logits, nxt_state = step(seq[-1], beams[b][3])
            else:
                nxt_logits, nxt_state = beams[b][2], beams[b][3]  # not needed any more
            new_beams.append((score, seq, nxt_logits, nxt_state))
        beams = new_beams
    return [(seq, score) for score, seq, _, _ in beams]
