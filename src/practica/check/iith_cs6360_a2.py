"""The checks of IIT-H CS6360 A2 §2's ``lossFun`` and ``sample`` (``min-char-rnn.py``,
Karpathy's gist).

The gist trains at the top level of the script, so it cannot be imported as it is: the
check runs only the file's imports, assignments of constants and function definitions
(its training loop and file reading are left out), sets the weights as the globals the
gist's functions read, and compares with the reference on random weights: ``lossFun``'s
loss, gradients and last hidden state (repeated characters included), and the indices
``sample`` draws with ``np.random`` seeded the same — which holds only for the gist's
``p = exp(y) / Σ exp(y)`` and ``np.random.choice(range(vocab_size), p=p.ravel())``. When
they differ, the check says why: the arg-max taken, the state or the sampled character
not carried to the next step, the seed returned, or another random generator used.
A temperature argument (``sample(h, seed_ix, n, alpha)``, named alpha, temperature, tau
or T) is checked as α in ``softmax(α y)`` or as T in ``softmax(y / T)``.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from types import ModuleType

import numpy as np

from ..handouts import iith_cs6360_a2 as ref
from ..numpy_nn.char_rnn import CharRNN
from .compare import Mismatch, Missing, same, unpack
from .spec import Piece

NAMES = ("Wxh", "Whh", "Why", "bh", "by")


def definitions_only(path: Path) -> ModuleType:
    """The module with only its imports, function/class definitions and constant
    assignments executed (no loops, no I/O at the top level)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    keep = [node for node in tree.body
            if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef))
            or (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant))]
    module = ModuleType(path.stem)
    module.__file__ = str(path)
    exec(compile(ast.Module(body=keep, type_ignores=[]), str(path), "exec"), module.__dict__)
    return module


def _function(m: ModuleType, name: str) -> tuple[ModuleType, object]:
    path = Path(m.__file__ or "")
    module = definitions_only(path)
    fn = getattr(module, name, None)
    if not callable(fn):
        raise Missing(f"{path.name} has no function {name}")
    return module, fn


def _weights(rng: np.random.Generator, vocab: int, hidden: int, scale: float = 0.3
             ) -> dict[str, np.ndarray]:
    return {"Wxh": rng.standard_normal((hidden, vocab)) * scale,
            "Whh": rng.standard_normal((hidden, hidden)) * scale,
            "Why": rng.standard_normal((vocab, hidden)) * scale,
            "bh": rng.standard_normal((hidden, 1)) * 0.1,
            "by": rng.standard_normal((vocab, 1)) * 0.1}


def check_lossfun(m: ModuleType) -> None:
    module, fn = _function(m, "lossFun")
    for seed, (vocab, hidden, length) in zip((0, 1, 2), ((5, 7, 6), (3, 4, 1), (8, 6, 10)),
                                             strict=True):
        rng = np.random.default_rng(seed)
        weights = _weights(rng, vocab, hidden)
        inputs = [int(i) for i in rng.integers(0, vocab, length)]
        inputs[: min(3, length)] = [inputs[0]] * min(3, length)  # a repeated character
        targets = [int(i) for i in rng.integers(0, vocab, length)]
        hprev = rng.standard_normal((hidden, 1)) * 0.5
        _set_globals((module, ref), weights)
        got = unpack(fn(list(inputs), list(targets), hprev.copy()), 7, "lossFun")
        want = ref.lossFun(inputs, targets, hprev)
        same("lossFun: loss", got[0], want[0], hint=" (the summed cross-entropy of the targets)")
        for name, g, w in zip(("dWxh", "dWhh", "dWhy", "dbh", "dby"), got[1:6], want[1:6],
                              strict=True):
            same(f"lossFun: {name}", g, w, hint=" (backpropagation through time, clipped "
                                                "to ±5)")
        same("lossFun: the last hidden state", got[6], want[6])


def _set_globals(targets: tuple, weights: dict[str, np.ndarray]) -> None:
    vocab, hidden = weights["Why"].shape
    for target in targets:
        for name, value in weights.items():
            setattr(target, name, value.copy())
        target.vocab_size, target.hidden_size = vocab, hidden


def _seeded(fn, seed: int, *args) -> object:
    np.random.seed(seed)
    return fn(*args)


def _indices(value: object, n: int) -> list[int]:
    try:
        out = [int(i) for i in np.asarray(value).reshape(-1)]
    except (TypeError, ValueError):
        raise Mismatch(f"sample returned a {type(value).__name__}, not a list of "
                       "indices") from None
    if len(out) != n + 1 and len(out) != n:
        raise Mismatch(f"sample(h, seed_ix, {n}) returned {len(out)} indices, expected {n}")
    return out


def _variants(weights: dict[str, np.ndarray], h: np.ndarray, seed_ix: int, n: int,
              seed: int) -> dict[str, list[int]]:
    """What a sampler with a common mistake draws, with np.random seeded as the check's."""
    model, out = CharRNN.from_params(weights), {}
    for kind in ("argmax", "state", "input"):
        np.random.seed(seed)
        state, ix, drawn = h, seed_ix, []
        for _ in range(n):
            y, new = model.step(seed_ix if kind == "input" else ix, state)
            state = h if kind == "state" else new
            p = np.exp(y - y.max()) / np.exp(y - y.max()).sum()
            ix = int(np.argmax(p)) if kind == "argmax" else int(
                np.random.choice(range(len(p)), p=p))
            drawn.append(ix)
        out[kind] = drawn
    return out


WHAT_DIFFERS = {
    "argmax": "it takes the arg-max instead of sampling: draw ix = np.random.choice("
              "range(vocab_size), p=p.ravel()) with p = exp(y) / Σ exp(y)",
    "state": "the hidden state is not carried from step to step (h must be the new state "
             "at the next step)",
    "input": "the sampled character is not fed back: the next input x must be the one-hot "
             "of the index just drawn, not of seed_ix",
}


def _first_step_frequencies(fn, h: np.ndarray, seed_ix: int, vocab: int, draws: int,
                            extra: tuple) -> np.ndarray:
    counts = np.zeros(vocab)
    for _ in range(draws):
        counts[_indices(fn(h.copy(), seed_ix, 1, *extra), 1)[0]] += 1
    return counts / draws


def _temperature_parameter(fn) -> str | None:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    if len(params) < 4:
        return None
    name = params[3].name
    return name if re.fullmatch(r"(?i)alpha|temp\w*|tau|t|beta", name) else None


def check_sample(m: ModuleType) -> None:
    module, fn = _function(m, "sample")
    temperature = _temperature_parameter(fn)
    extra = (1.0,) if temperature else ()
    for seed, (vocab, hidden, n) in zip((0, 1, 2), ((6, 5, 20), (3, 4, 1), (9, 7, 30)),
                                        strict=True):
        rng = np.random.default_rng(seed)
        weights = _weights(rng, vocab, hidden, scale=0.8)
        _set_globals((module, ref), weights)
        h = rng.standard_normal((hidden, 1)) * 0.5
        seed_ix = int(rng.integers(0, vocab))
        got = _indices(_seeded(fn, seed, h.copy(), seed_ix, n, *extra), n)
        want = _seeded(ref.sample, seed, h.copy(), seed_ix, n)
        if got == want:
            continue
        if got[:1] == [seed_ix] and got[1:] == want[:len(got) - 1] and len(got) > 1:
            raise Mismatch(f"sample's list starts with seed_ix: the gist returns the {n} "
                           "sampled indices only")
        if len(got) != n:
            raise Mismatch(f"sample(h, seed_ix, {n}) returned {len(got)} indices, expected {n}")
        for kind, drawn in _variants(weights, h, seed_ix, n, seed).items():
            if got == drawn:
                raise Mismatch(f"sample draws other indices than the reference: "
                               f"{WHAT_DIFFERS[kind]}")
        again = _indices(_seeded(fn, seed, h.copy(), seed_ix, n, *extra), n)
        frequencies = _first_step_frequencies(fn, h, seed_ix, vocab, 2000, extra)
        p = ref._model().step(seed_ix, h)[0]
        p = np.exp(p - p.max()) / np.exp(p - p.max()).sum()
        if 0.5 * np.abs(frequencies - p).sum() < 0.06:
            replay = "is not replayed by np.random.seed" if again != got else \
                "is replayed but draws differently"
            raise Mismatch(f"sample draws from the right distribution, but its randomness "
                           f"{replay}: use np.random.choice(range(vocab_size), p=p.ravel()) "
                           "on NumPy's global generator, as the gist does")
        step = next(i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b)
        raise Mismatch(f"sample differs from the reference at step {step + 1} of {n} "
                       f"(index {got[step]}, expected {want[step]}); compare with h = tanh(Wxh"
                       " x + Whh h + bh), y = Why h + by, p = exp(y) / Σ exp(y)")
    if temperature:
        _check_temperature(module, fn, temperature)


def _check_temperature(module: ModuleType, fn, name: str) -> None:
    rng = np.random.default_rng(3)
    weights = _weights(rng, 7, 5, scale=0.8)
    _set_globals((module, ref), weights)
    h = rng.standard_normal((5, 1)) * 0.5
    got = _indices(_seeded(fn, 3, h.copy(), 2, 40, 2.5), 40)
    if got not in (_seeded(ref.sample, 3, h.copy(), 2, 40, 2.5),
                   _seeded(ref.sample, 3, h.copy(), 2, 40, 1 / 2.5)):
        raise Mismatch(f"sample(h, seed_ix, n, {name}=2.5) samples neither softmax(2.5 y) "
                       "(α) nor softmax(y / 2.5) (temperature 2.5)")


PIECES = (Piece("lossfun", "§2 (min-char-rnn)", "min-char-rnn", check_lossfun,
                "lossFun: loss, gradients and last state against the reference",
                imports=False),
          Piece("sample", "§2 question 1", "min-char-rnn", check_sample,
                "sample: the reference's indices with np.random seeded the same",
                imports=False))
